//! Helpers shared by the integration tests: credentials, an oversight
//! section, commands of each action and their signatures.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use sentinel_config::{AdminKey, Alg, Credential, CredentialKind, Oversight};
use sentinel_oversight::{Action, Command, Level, OversightError, OversightErrorCode, Scope, SignatureEntry};

/// The enclave's clock in the tests, µs since the Unix epoch.
pub const NOW: u64 = 1_700_000_000_000_000;
/// The stamp window of the tests: 30 s.
pub const WINDOW: u64 = 30_000_000;

pub fn cred(id: &str, alg: Alg, seed: u8) -> Credential {
    Credential::generate(CredentialKind::Admin, id, alg, &[seed; 32]).unwrap()
}

pub fn admin_key(c: &Credential) -> AdminKey {
    AdminKey { id: c.id().to_string(), public_key: c.public_key() }
}

pub fn oversight(
    overseers: &[&Credential],
    resume_threshold: u64,
    approvers: &[&Credential],
    approval_threshold: u64,
) -> Oversight {
    Oversight {
        overseers: overseers.iter().map(|c| admin_key(c)).collect(),
        resume_threshold,
        approvers: approvers.iter().map(|c| admin_key(c)).collect(),
        approval_threshold,
        approval_ttl_s: 300,
        max_pending: 64,
        heartbeat_interval_ms: 0,
        trip_consecutive_denials: 0,
        trip_risk_score_bps: 0,
    }
}

/// A fresh 16-byte nonce for every command.
pub fn nonce() -> Vec<u8> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut out = vec![0xa5; 16];
    out[..8].copy_from_slice(&n.to_be_bytes());
    out
}

/// A command of `action` with only timestamp and nonce.
pub fn bare(action: Action) -> Command {
    Command::new(action, NOW, nonce())
}

pub fn halt(scope: Scope, level: Level) -> Command {
    Command { scope: Some(scope), level: Some(level), reason: Some("incident 42".into()), ..bare(Action::Halt) }
}

pub fn resume(scope: Scope, level: Level, challenge: [u8; 32]) -> Command {
    Command { scope: Some(scope), level: Some(level), challenge: Some(challenge), ..bare(Action::Resume) }
}

pub fn approve(request_id: [u8; 16], request_digest: [u8; 32]) -> Command {
    Command { request_id: Some(request_id), request_digest: Some(request_digest), ..bare(Action::Approve) }
}

pub fn reject(request_id: [u8; 16], request_digest: [u8; 32]) -> Command {
    Command { request_id: Some(request_id), request_digest: Some(request_digest), ..bare(Action::Reject) }
}

/// One valid command of every action.
pub fn one_of_each() -> Vec<Command> {
    vec![
        halt(Scope::Global, Level::Red),
        Command { reason: None, ..halt(Scope::Key("k-0011aabb".into()), Level::Yellow) },
        halt(Scope::Principal("desk-7@fund".into()), Level::Red),
        resume(Scope::Global, Level::Green, [7; 32]),
        resume(Scope::Principal("desk-7".into()), Level::Yellow, [8; 32]),
        bare(Action::Heartbeat),
        approve([1; 16], [2; 32]),
        reject([3; 16], [4; 32]),
        bare(Action::Status),
        bare(Action::ListApprovals),
    ]
}

pub fn sign(command: &Command, signers: &[&Credential]) -> Vec<SignatureEntry> {
    let digest = command.digest();
    signers.iter().map(|c| SignatureEntry { signer: c.id().to_string(), signature: c.sign(&digest) }).collect()
}

/// Asserts the code of a refusal and that its message contains `needle`.
#[track_caller]
pub fn refused<T: std::fmt::Debug>(result: Result<T, OversightError>, code: OversightErrorCode, needle: &str) {
    match result {
        Ok(v) => panic!("expected {code}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code, code, "{}", e.message);
            assert!(e.message.contains(needle), "message {:?} does not contain {needle:?}", e.message);
        }
    }
}
