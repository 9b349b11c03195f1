//! Who may send which command: roles, signatures, quorums, the timestamp
//! window and replay protection.
mod common;

use common::*;
use sentinel_config::{Alg, Credential};
use sentinel_oversight::replay::ReplayGuard;
use sentinel_oversight::{
    authorize, Action, Command, Level, OversightErrorCode as Code, Scope, SignatureEntry, MAX_COMMAND_SIGNATURES,
};

struct Keys {
    o1: Credential,
    o2: Credential,
    o3: Credential,
    a1: Credential,
    a2: Credential,
    stranger: Credential,
}

fn keys() -> Keys {
    Keys {
        o1: cred("overseer-1", Alg::Ed25519, 1),
        o2: cred("overseer-2", Alg::P256, 2),
        o3: cred("overseer-3", Alg::Secp256k1, 3),
        a1: cred("approver-1", Alg::Ed25519, 11),
        a2: cred("approver-2", Alg::Secp256k1, 12),
        stranger: cred("stranger", Alg::Ed25519, 99),
    }
}

fn section(k: &Keys) -> sentinel_config::Oversight {
    oversight(&[&k.o1, &k.o2, &k.o3], 2, &[&k.a1, &k.a2], 2)
}

fn run(
    command: &Command,
    signatures: &[SignatureEntry],
    k: &Keys,
    replay: &mut ReplayGuard,
) -> Result<Vec<String>, sentinel_oversight::OversightError> {
    authorize(command, signatures, &section(k), NOW, WINDOW, replay).map(|a| {
        assert_eq!(a.digest, command.digest());
        a.signers
    })
}

#[test]
fn one_overseer_halts_with_any_algorithm() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    for signer in [&k.o1, &k.o2, &k.o3] {
        let command = halt(Scope::Global, Level::Red);
        assert_eq!(run(&command, &sign(&command, &[signer]), &k, &mut replay), Ok(vec![signer.id().to_string()]));
    }
    assert_eq!(replay.len(), 3);
    for action in [Action::Heartbeat, Action::Status] {
        let command = bare(action);
        assert_eq!(run(&command, &sign(&command, &[&k.o2]), &k, &mut replay), Ok(vec!["overseer-2".to_string()]));
    }
}

#[test]
fn forged_signatures_are_refused() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    let command = halt(Scope::Global, Level::Red);
    // Signed by another key under an overseer's id.
    let forged = vec![SignatureEntry { signer: "overseer-1".into(), signature: k.stranger.sign(&command.digest()) }];
    refused(run(&command, &forged, &k, &mut replay), Code::SignatureInvalid, "signatures[0].signature");
    // A valid signature of another command.
    let other = halt(Scope::Global, Level::Red);
    refused(run(&command, &sign(&other, &[&k.o1]), &k, &mut replay), Code::SignatureInvalid, "overseer-1");
    // Wrong lengths, flipped bits.
    let mut flipped = sign(&command, &[&k.o1]);
    flipped[0].signature[5] ^= 1;
    refused(run(&command, &flipped, &k, &mut replay), Code::SignatureInvalid, "does not verify");
    let short = vec![SignatureEntry { signer: "overseer-1".into(), signature: vec![0; 63] }];
    refused(run(&command, &short, &k, &mut replay), Code::SignatureInvalid, "does not verify");
    let empty = vec![SignatureEntry { signer: "overseer-1".into(), signature: vec![] }];
    refused(run(&command, &empty, &k, &mut replay), Code::SignatureInvalid, "does not verify");
    // One good signature does not carry a forged one.
    let mut padded = sign(&command, &[&k.o1]);
    padded.push(SignatureEntry { signer: "overseer-2".into(), signature: vec![7; 64] });
    refused(run(&command, &padded, &k, &mut replay), Code::SignatureInvalid, "signatures[1]");
    // Nothing was remembered: the genuine command still goes through.
    assert!(replay.is_empty());
    assert!(run(&command, &sign(&command, &[&k.o1]), &k, &mut replay).is_ok());
}

#[test]
fn unknown_signers_are_not_permitted() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    let command = halt(Scope::Global, Level::Red);
    refused(
        run(&command, &sign(&command, &[&k.stranger]), &k, &mut replay),
        Code::NotPermitted,
        "\"stranger\" is not an overseer",
    );
    // Even next to a valid overseer signature, and before any signature is checked.
    let mut mixed = sign(&command, &[&k.o1, &k.stranger]);
    mixed[0].signature = vec![0; 64];
    refused(run(&command, &mixed, &k, &mut replay), Code::NotPermitted, "signatures[1].signer");
    assert!(replay.is_empty());
}

#[test]
fn roles_overseers_and_approvers() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    // An approver may not halt, resume, heartbeat or read the status.
    for command in [halt(Scope::Global, Level::Yellow), bare(Action::Heartbeat), bare(Action::Status)] {
        refused(run(&command, &sign(&command, &[&k.a1]), &k, &mut replay), Code::NotPermitted, "is not an overseer");
    }
    let command = resume(Scope::Global, Level::Green, [1; 32]);
    refused(run(&command, &sign(&command, &[&k.a1, &k.a2]), &k, &mut replay), Code::NotPermitted, "is not an overseer");
    // An overseer may not approve or reject.
    for command in [approve([1; 16], [2; 32]), reject([1; 16], [2; 32])] {
        refused(run(&command, &sign(&command, &[&k.o1]), &k, &mut replay), Code::NotPermitted, "is not an approver");
        // One approver is enough per command (approvals accumulate in the queue).
        assert_eq!(run(&command, &sign(&command, &[&k.a2]), &k, &mut replay), Ok(vec!["approver-2".to_string()]));
    }
    // Both lists may read the held requests.
    for signer in [&k.o3, &k.a1] {
        let command = bare(Action::ListApprovals);
        assert!(run(&command, &sign(&command, &[signer]), &k, &mut replay).is_ok());
    }
    let command = bare(Action::ListApprovals);
    refused(
        run(&command, &sign(&command, &[&k.stranger]), &k, &mut replay),
        Code::NotPermitted,
        "an overseer or approver",
    );
}

#[test]
fn same_id_in_both_lists_with_different_keys() {
    let k = keys();
    let twin = cred("overseer-1", Alg::P256, 42); // an approver reusing an overseer's id, another key
    let section = oversight(&[&k.o1], 1, &[&twin], 1);
    let mut replay = ReplayGuard::default();
    let command = bare(Action::ListApprovals);
    for signer in [&k.o1, &twin] {
        let command = Command { nonce: nonce(), ..command.clone() };
        assert!(authorize(&command, &sign(&command, &[signer]), &section, NOW, WINDOW, &mut replay).is_ok());
    }
    // The overseer's key does not approve; the approver's key does not halt.
    let approval = approve([1; 16], [1; 32]);
    refused(
        authorize(&approval, &sign(&approval, &[&k.o1]), &section, NOW, WINDOW, &mut replay),
        Code::SignatureInvalid,
        "",
    );
    let stop = halt(Scope::Global, Level::Red);
    refused(authorize(&stop, &sign(&stop, &[&twin]), &section, NOW, WINDOW, &mut replay), Code::SignatureInvalid, "");
}

#[test]
fn resume_quorum_counts_distinct_overseers() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    let command = resume(Scope::Global, Level::Green, [5; 32]);
    refused(run(&command, &sign(&command, &[&k.o1]), &k, &mut replay), Code::QuorumNotMet, "1 distinct overseer(s)");
    // The same overseer twice counts once.
    refused(
        run(&command, &sign(&command, &[&k.o1, &k.o1]), &k, &mut replay),
        Code::QuorumNotMet,
        "resume_threshold is 2",
    );
    // A second entry of the same signer with a bad signature refuses the command.
    let mut bad_duplicate = sign(&command, &[&k.o1, &k.o2, &k.o1]);
    bad_duplicate[2].signature[0] ^= 0x80;
    refused(run(&command, &bad_duplicate, &k, &mut replay), Code::SignatureInvalid, "signatures[2]");
    assert!(replay.is_empty());
    // Two distinct overseers meet it; the signers come back sorted and deduplicated.
    assert_eq!(
        run(&command, &sign(&command, &[&k.o3, &k.o1, &k.o3]), &k, &mut replay),
        Ok(vec!["overseer-1".to_string(), "overseer-3".to_string()])
    );
    let all = resume(Scope::Key("k-1".into()), Level::Yellow, [6; 32]);
    assert_eq!(run(&all, &sign(&all, &[&k.o2, &k.o3, &k.o1]), &k, &mut replay).unwrap().len(), 3);
}

#[test]
fn signature_count_bounds() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    let command = halt(Scope::Global, Level::Red);
    refused(run(&command, &[], &k, &mut replay), Code::QuorumNotMet, "signatures: none");
    let many = sign(&command, &[&k.o1; MAX_COMMAND_SIGNATURES + 1]);
    refused(run(&command, &many, &k, &mut replay), Code::Malformed, "17 entries, at most 16");
    let most = sign(&command, &[&k.o1; MAX_COMMAND_SIGNATURES]);
    assert_eq!(run(&command, &most, &k, &mut replay), Ok(vec!["overseer-1".to_string()]));
}

#[test]
fn invalid_commands_are_malformed() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    let command = Command { challenge: None, ..resume(Scope::Global, Level::Green, [1; 32]) };
    refused(run(&command, &sign(&command, &[&k.o1, &k.o2]), &k, &mut replay), Code::Malformed, "command.challenge");
}

#[test]
fn stale_timestamps_both_sides() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    let at = |timestamp_us| Command { timestamp_us, ..halt(Scope::Global, Level::Red) };
    let past = at(NOW - WINDOW - 1);
    refused(
        run(&past, &sign(&past, &[&k.o1]), &k, &mut replay),
        Code::Stale,
        "command.timestamp_us: 30000 ms in the past",
    );
    let future = at(NOW + WINDOW + 1);
    refused(run(&future, &sign(&future, &[&k.o1]), &k, &mut replay), Code::Stale, "in the future");
    let far = at(u64::MAX);
    refused(run(&far, &sign(&far, &[&k.o1]), &k, &mut replay), Code::Stale, "in the future");
    let zero = at(0);
    refused(run(&zero, &sign(&zero, &[&k.o1]), &k, &mut replay), Code::Stale, "in the past");
    assert!(replay.is_empty());
    for edge in [at(NOW - WINDOW), at(NOW + WINDOW), at(NOW)] {
        assert!(run(&edge, &sign(&edge, &[&k.o1]), &k, &mut replay).is_ok());
    }
}

#[test]
fn replays_are_refused() {
    let k = keys();
    let mut replay = ReplayGuard::default();
    let command = halt(Scope::Key("k-1".into()), Level::Red);
    assert!(run(&command, &sign(&command, &[&k.o1]), &k, &mut replay).is_ok());
    refused(run(&command, &sign(&command, &[&k.o1]), &k, &mut replay), Code::Replay, "already accepted");
    // Re-signed by someone else, it is still the same command.
    refused(run(&command, &sign(&command, &[&k.o2]), &k, &mut replay), Code::Replay, "");
    // A captured resume cannot be replayed either.
    let resume = resume(Scope::Global, Level::Green, [9; 32]);
    let signatures = sign(&resume, &[&k.o1, &k.o2]);
    assert!(run(&resume, &signatures, &k, &mut replay).is_ok());
    refused(run(&resume, &signatures, &k, &mut replay), Code::Replay, "");
    // An approval too.
    let approval = approve([1; 16], [1; 32]);
    let signatures = sign(&approval, &[&k.a1]);
    assert!(run(&approval, &signatures, &k, &mut replay).is_ok());
    refused(run(&approval, &signatures, &k, &mut replay), Code::Replay, "");
    // A fresh nonce is a new command.
    let again = Command { nonce: nonce(), ..command };
    assert!(run(&again, &sign(&again, &[&k.o1]), &k, &mut replay).is_ok());
}

#[test]
fn replay_is_remembered_until_the_command_leaves_the_window() {
    let k = keys();
    let section = section(&k);
    let mut replay = ReplayGuard::default();
    let command = halt(Scope::Global, Level::Red);
    let signatures = sign(&command, &[&k.o1]);
    authorize(&command, &signatures, &section, NOW, WINDOW, &mut replay).unwrap();
    // Until timestamp + window it is a replay; past it, stale.
    refused(authorize(&command, &signatures, &section, NOW + WINDOW, WINDOW, &mut replay), Code::Replay, "");
    refused(authorize(&command, &signatures, &section, NOW + WINDOW + 1, WINDOW, &mut replay), Code::Stale, "");
}

#[test]
fn replay_guard_expiry_and_capacity() {
    let mut guard = ReplayGuard::new(2);
    assert_eq!(guard.capacity(), 2);
    guard.check(&[1; 32], 0).unwrap();
    guard.insert([1; 32], 100);
    guard.insert([2; 32], 200);
    assert_eq!(guard.len(), 2);
    refused(guard.check(&[1; 32], 100), Code::Replay, "");
    refused(guard.check(&[3; 32], 100), Code::ReplayCacheFull, "replay guard holds 2");
    // At 101 the first entry has expired: room for one more, and [1; 32] is forgotten.
    guard.check(&[3; 32], 101).unwrap();
    assert_eq!(guard.len(), 1);
    guard.check(&[1; 32], 101).unwrap();
    refused(guard.check(&[2; 32], 200), Code::Replay, "");
    guard.check(&[2; 32], 201).unwrap();
    assert!(guard.is_empty());

    // Through authorize: a full guard refuses a new command before remembering it.
    let k = keys();
    let mut small = ReplayGuard::new(1);
    let first = bare(Action::Heartbeat);
    run(&first, &sign(&first, &[&k.o1]), &k, &mut small).unwrap();
    let second = bare(Action::Heartbeat);
    refused(run(&second, &sign(&second, &[&k.o1]), &k, &mut small), Code::ReplayCacheFull, "");
    let mut none = ReplayGuard::new(0);
    refused(run(&second, &sign(&second, &[&k.o1]), &k, &mut none), Code::ReplayCacheFull, "");
}
