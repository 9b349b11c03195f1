//! The kill switch and the approval queue inside the enclave, in process:
//! it boots halted; one overseer halts, a quorum resumes over a fresh
//! challenge; forged, foreign and replayed commands are refused; scopes and
//! the strictest-wins rule; Yellow holds requests for approvers, who release
//! (or reject) them before expiry; the queue cap; the heartbeat; automatic
//! trips; a halt during a burst of concurrent signing; and a restart.
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use sentinel_config::{AdminKey, Alg, Credential, CredentialKind, Oversight};
use sentinel_enclave::Enclave;
use sentinel_evidence::decode_receipt_claims_unverified;
use sentinel_oversight::{Action, Command, Level, Scope};
use sentinel_protocol::*;

use common::{error_code, fresh_nonce, now_us, receipted, stamped, stamped_by};

fn overseer(id: &str, seed: u8) -> Credential {
    Credential::generate(CredentialKind::Admin, id, Alg::Ed25519, &[seed; 32]).unwrap()
}

fn key_of(c: &Credential) -> AdminKey {
    AdminKey { id: c.id().into(), public_key: c.public_key() }
}

/// Three overseers (resume quorum 2), two of three approvers needed, a short approval window.
struct Team {
    overseers: [Credential; 3],
    approvers: [Credential; 3],
}

fn team() -> Team {
    Team {
        overseers: [overseer("ops-1", 0x01), overseer("ops-2", 0x02), overseer("ops-3", 0x03)],
        approvers: [overseer("risk-1", 0x11), overseer("risk-2", 0x12), overseer("risk-3", 0x13)],
    }
}

fn oversight_section(team: &Team, tune: impl FnOnce(&mut Oversight)) -> Oversight {
    let mut o = Oversight {
        overseers: team.overseers.iter().map(key_of).collect(),
        resume_threshold: 2,
        approvers: team.approvers.iter().map(key_of).collect(),
        approval_threshold: 2,
        approval_ttl_s: 60,
        max_pending: 8,
        heartbeat_interval_ms: 0,
        trip_consecutive_denials: 0,
        trip_risk_score_bps: 0,
    };
    tune(&mut o);
    o
}

/// An enclave with the development configuration plus `oversight`, the dev policy, not resumed.
fn enclave_with(dir: &std::path::Path, oversight: Oversight) -> Arc<Enclave> {
    let (enclave, _) = common::simulated_enclave(dir, b"oversight test image", "oversight");
    let mut config = common::dev_config();
    config.oversight = Some(oversight);
    let r = enclave.handle(Request::UpdateConfig(UpdateConfigArgs {
        signed_config: common::sign_config(&config, &[&common::admin()]),
    }));
    assert!(matches!(r, Response::ConfigUpdated(_)), "{r:?}");
    let r = enclave.handle(common::install_dev_policy_request());
    assert!(matches!(r, Response::PolicyUpdated(_)), "{r:?}");
    enclave
}

fn command(action: Action) -> Command {
    sentinel_client::oversight_command(action, now_us(), fresh_nonce())
}

fn halt(scope: Scope, level: Level) -> Command {
    Command { scope: Some(scope), level: Some(level), reason: Some("test".into()), ..command(Action::Halt) }
}

fn send(enclave: &Enclave, c: &Command, signers: &[&Credential]) -> Response {
    let args = sentinel_client::oversight_request(c, signers);
    match c.action {
        Action::Approve | Action::Reject => enclave.handle(Request::Approval(args)),
        Action::ListApprovals => enclave.handle(Request::ListApprovals(args)),
        _ => enclave.handle(Request::Oversight(args)),
    }
}

fn challenge(enclave: &Enclave) -> [u8; 32] {
    let Response::OversightChallenge(c) = enclave.handle(Request::OversightChallenge(OversightChallengeArgs {})) else {
        panic!("challenge")
    };
    c.challenge.try_into().unwrap()
}

fn resume(enclave: &Enclave, scope: Scope, level: Level, signers: &[&Credential]) -> Response {
    let c = sentinel_client::resume_command(scope, level, challenge(enclave), now_us(), fresh_nonce());
    send(enclave, &c, signers)
}

fn new_key(enclave: &Enclave, by: &Credential, label: &str) -> String {
    let (answer, _) = receipted(enclave.handle(stamped_by(
        by,
        &Operation::GenerateKey(GenerateKeyArgs {
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Raw,
            label: label.into(),
        }),
    )));
    let Response::KeyGenerated(k) = answer else { panic!("generate_key: {answer:?}") };
    k.key_id
}

fn sign(key_id: &str, byte: u8) -> Operation {
    Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: vec![byte; 32] })
}

/// The answer and the receipt's (state, scope, approvals, code).
fn decided(response: Response) -> (Response, (String, String, Vec<String>, Option<String>)) {
    let (answer, receipt) = receipted(response);
    let c = decode_receipt_claims_unverified(&receipt).unwrap();
    (answer, (c.oversight_state, c.oversight_scope, c.approvals, c.code))
}

#[test]
fn it_boots_halted_and_one_overseer_halts_but_only_a_quorum_over_a_fresh_challenge_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |_| {}));
    let key = new_key(&enclave, &common::client(), "k");

    // Boot: Red globally, with a receipt saying so.
    let (answer, (state, scope, _, code)) = decided(enclave.handle(stamped(&sign(&key, 1))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
    assert_eq!((state.as_str(), scope.as_str(), code.as_deref()), ("red", "global", Some("KILL_SWITCH_HALTED")));
    assert_eq!(enclave.signatures_released(), 0);

    // One overseer is not a quorum; a forged second signature voids the command; two are.
    let r = resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0]]);
    assert_eq!(error_code(&r), "OVERSIGHT_QUORUM_NOT_MET");
    let impostor = overseer("ops-2", 0x66); // the right id, another key
    let r = resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &impostor]);
    assert_eq!(error_code(&r), "OVERSIGHT_SIGNATURE_INVALID");
    let r = resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[0]]);
    assert_eq!(error_code(&r), "OVERSIGHT_QUORUM_NOT_MET", "one overseer twice is one");
    let r = resume(&enclave, Scope::Global, Level::Green, &[&t.approvers[0], &t.approvers[1]]);
    assert_eq!(error_code(&r), "OVERSIGHT_NOT_PERMITTED", "approvers do not resume");

    // A resume over an old challenge, and the replay of an accepted one, are refused.
    let old = challenge(&enclave);
    let fresh = challenge(&enclave);
    let stale = sentinel_client::resume_command(Scope::Global, Level::Green, old, now_us(), fresh_nonce());
    assert_eq!(error_code(&send(&enclave, &stale, &[&t.overseers[0], &t.overseers[1]])), "OVERSIGHT_CHALLENGE_INVALID");
    let good = sentinel_client::resume_command(Scope::Global, Level::Green, fresh, now_us(), fresh_nonce());
    let Response::OversightStatus(status) = send(&enclave, &good, &[&t.overseers[0], &t.overseers[1]]) else {
        panic!("resume")
    };
    assert_eq!(status.global.level, "green");
    assert_eq!(status.signers, vec!["ops-1".to_string(), "ops-2".to_string()]);
    let r = send(&enclave, &good, &[&t.overseers[0], &t.overseers[1]]);
    assert!(matches!(error_code(&r), "OVERSIGHT_REPLAY" | "OVERSIGHT_CHALLENGE_INVALID"), "a replayed resume: {r:?}");
    let (answer, (state, _, _, _)) = decided(enclave.handle(stamped(&sign(&key, 2))));
    assert!(matches!(answer, Response::Signature(_)), "{answer:?}");
    assert_eq!(state, "green");

    // Any one overseer halts; its replay, a forged halt and a stranger's are refused.
    let h = halt(Scope::Global, Level::Red);
    let Response::OversightStatus(status) = send(&enclave, &h, &[&t.overseers[2]]) else { panic!("halt") };
    assert_eq!((status.global.level.as_str(), status.global.by.clone()), ("red", vec!["ops-3".to_string()]));
    assert_eq!(error_code(&send(&enclave, &h, &[&t.overseers[2]])), "OVERSIGHT_REPLAY");
    assert_eq!(
        error_code(&send(&enclave, &halt(Scope::Global, Level::Red), &[&impostor])),
        "OVERSIGHT_SIGNATURE_INVALID"
    );
    let stranger = overseer("mallory", 0x99);
    assert_eq!(error_code(&send(&enclave, &halt(Scope::Global, Level::Red), &[&stranger])), "OVERSIGHT_NOT_PERMITTED");
    let late = Command { timestamp_us: now_us() - 10 * 60 * 1_000_000, ..halt(Scope::Global, Level::Red) };
    assert_eq!(error_code(&send(&enclave, &late, &[&t.overseers[0]])), "OVERSIGHT_STALE");
    let (answer, _) = decided(enclave.handle(stamped(&sign(&key, 3))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
}

#[test]
fn scopes_halt_one_key_or_one_principal_and_the_strictest_scope_wins() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |_| {}));
    assert!(matches!(
        resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[1]]),
        Response::OversightStatus(_)
    ));
    let (a, b) = (new_key(&enclave, &common::client(), "a"), new_key(&enclave, &common::client(), "b"));

    send(&enclave, &halt(Scope::Key(a.clone()), Level::Red), &[&t.overseers[0]]);
    let (answer, (state, scope, _, _)) = decided(enclave.handle(stamped(&sign(&a, 1))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
    assert_eq!((state.as_str(), scope), ("red", format!("key:{a}")));
    let (answer, (state, scope, _, _)) = decided(enclave.handle(stamped(&sign(&b, 1))));
    assert!(matches!(answer, Response::Signature(_)), "the other key signs: {answer:?}");
    assert_eq!((state.as_str(), scope.as_str()), ("green", "global"));

    // The principal scope covers all its keys; a Yellow global does not hide a Red key.
    send(&enclave, &halt(Scope::Principal("dev-client".into()), Level::Red), &[&t.overseers[1]]);
    let (answer, (_, scope, _, _)) = decided(enclave.handle(stamped(&sign(&b, 2))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
    assert_eq!(scope, "principal:dev-client");
    send(&enclave, &halt(Scope::Global, Level::Yellow), &[&t.overseers[1]]);
    let (_, (state, scope, _, _)) = decided(enclave.handle(stamped(&sign(&a, 3))));
    assert_eq!((state.as_str(), scope), ("red", format!("key:{a}")), "red key beats yellow global");

    // Resuming the principal leaves the key halted and the global yellow.
    assert!(matches!(
        resume(&enclave, Scope::Principal("dev-client".into()), Level::Green, &[&t.overseers[0], &t.overseers[2]]),
        Response::OversightStatus(_)
    ));
    let (answer, (state, scope, _, code)) = decided(enclave.handle(stamped(&sign(&b, 4))));
    assert!(matches!(answer, Response::ApprovalPending(_)), "yellow holds: {answer:?}");
    assert_eq!((state.as_str(), scope.as_str(), code.as_deref()), ("yellow", "global", Some("APPROVAL_PENDING")));
    // A halt never loosens: yellow on a red key leaves it red.
    send(&enclave, &halt(Scope::Key(a.clone()), Level::Yellow), &[&t.overseers[0]]);
    let (_, (state, _, _, _)) = decided(enclave.handle(stamped(&sign(&a, 5))));
    assert_eq!(state, "red");
}

fn approve(enclave: &Enclave, action: Action, pending: &ApprovalPending, signers: &[&Credential]) -> Response {
    let c = Command {
        request_id: Some(pending.request_id.clone().try_into().unwrap()),
        request_digest: Some(pending.request_digest.clone().try_into().unwrap()),
        ..command(action)
    };
    send(enclave, &c, signers)
}

fn result(enclave: &Enclave, pending: &ApprovalPending) -> Response {
    enclave.handle(Request::ApprovalResult(ApprovalResultArgs { request_id: pending.request_id.clone() }))
}

#[test]
fn yellow_holds_requests_until_a_quorum_of_approvers_releases_or_one_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |o| o.max_pending = 2));
    resume(&enclave, Scope::Global, Level::Yellow, &[&t.overseers[0], &t.overseers[1]]);
    let key = new_key(&enclave, &common::client(), "k");

    let (answer, (state, _, _, code)) = decided(enclave.handle(stamped(&sign(&key, 1))));
    let Response::ApprovalPending(first) = answer else { panic!("held: {answer:?}") };
    assert_eq!((state.as_str(), code.as_deref()), ("yellow", Some("APPROVAL_PENDING")));
    assert_eq!((first.reason.as_str(), first.approvals_needed), ("yellow_state", 2));
    assert_eq!(enclave.signatures_released(), 0);

    // The list shows it, with the body approvers decode; an overseer may read it too.
    let Response::ApprovalList(list) = send(&enclave, &command(Action::ListApprovals), &[&t.overseers[0]]) else {
        panic!("list")
    };
    assert_eq!(list.entries.len(), 1);
    assert_eq!(list.entries[0].request_id, first.request_id);
    assert_eq!(decode_body(&list.entries[0].body).unwrap(), sign(&key, 1));

    // A wrong digest, an overseer instead of an approver: refused. One approval: still pending.
    let mut wrong = first.clone();
    wrong.request_digest = vec![0; 32];
    assert_eq!(error_code(&approve(&enclave, Action::Approve, &wrong, &[&t.approvers[0]])), "APPROVAL_DIGEST_MISMATCH");
    assert_eq!(error_code(&approve(&enclave, Action::Approve, &first, &[&t.overseers[0]])), "OVERSIGHT_NOT_PERMITTED");
    let Response::ApprovalUpdated(u) = approve(&enclave, Action::Approve, &first, &[&t.approvers[0]]) else {
        panic!("approve")
    };
    assert_eq!((u.state.as_str(), u.approvals.clone()), ("pending", vec!["risk-1".to_string()]));
    let (answer, _) = receipted(result(&enclave, &first));
    assert!(matches!(answer, Response::ApprovalPending(_)), "still pending: {answer:?}");
    // The same approver again does not count twice.
    let Response::ApprovalUpdated(u) = approve(&enclave, Action::Approve, &first, &[&t.approvers[0]]) else {
        panic!("approve")
    };
    assert_eq!(u.state, "pending");

    // The queue holds at most two; a third is refused with its code (and a receipt).
    let (second, _) = decided(enclave.handle(stamped(&sign(&key, 2))));
    let Response::ApprovalPending(second) = second else { panic!("held") };
    let (answer, (_, _, _, code)) = decided(enclave.handle(stamped(&sign(&key, 3))));
    assert_eq!(error_code(&answer), "APPROVAL_QUEUE_FULL");
    assert_eq!(code.as_deref(), Some("APPROVAL_QUEUE_FULL"));

    // A forged approval (an approver's id, another key) and a replayed one are refused.
    let forged = overseer("risk-2", 0x67);
    assert_eq!(error_code(&approve(&enclave, Action::Approve, &second, &[&forged])), "OVERSIGHT_SIGNATURE_INVALID");
    let once = Command {
        request_id: Some(second.request_id.clone().try_into().unwrap()),
        request_digest: Some(second.request_digest.clone().try_into().unwrap()),
        ..command(Action::Approve)
    };
    let replayed = sentinel_client::oversight_request(&once, &[&t.approvers[1]]);
    let Response::ApprovalUpdated(_) = enclave.handle(Request::Approval(replayed.clone())) else { panic!("approve") };
    assert_eq!(error_code(&enclave.handle(Request::Approval(replayed))), "OVERSIGHT_REPLAY");
    // The second approver releases the first: a signature whose receipt names both approvers.
    let Response::ApprovalUpdated(u) = approve(&enclave, Action::Approve, &first, &[&t.approvers[2]]) else {
        panic!("approve")
    };
    assert_eq!((u.state.as_str(), u.approvals.len()), ("released", 2));
    let (answer, receipt) = receipted(result(&enclave, &first));
    assert!(matches!(answer, Response::Signature(_)), "{answer:?}");
    let claims = decode_receipt_claims_unverified(&receipt).unwrap();
    assert_eq!(claims.approvals, vec!["risk-1".to_string(), "risk-3".to_string()]);
    assert_eq!(claims.request_id.to_vec(), first.request_id, "the held request keeps its id");
    assert_eq!(enclave.signatures_released(), 1);
    assert_eq!(error_code(&approve(&enclave, Action::Approve, &first, &[&t.approvers[1]])), "APPROVAL_UNKNOWN");

    // One rejection refuses the second.
    let Response::ApprovalUpdated(u) = approve(&enclave, Action::Reject, &second, &[&t.approvers[1]]) else {
        panic!("reject")
    };
    assert_eq!(u.state, "rejected");
    let (answer, _) = receipted(result(&enclave, &second));
    assert_eq!(error_code(&answer), "APPROVAL_REJECTED");
    assert_eq!(error_code(&approve(&enclave, Action::Approve, &second, &[&t.approvers[0]])), "APPROVAL_REJECTED");
    assert_eq!(enclave.signatures_released(), 1);
}

#[test]
fn an_approval_after_expiry_is_refused_and_a_red_halt_drops_held_requests() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |o| o.approval_ttl_s = 1));
    resume(&enclave, Scope::Global, Level::Yellow, &[&t.overseers[0], &t.overseers[1]]);
    let key = new_key(&enclave, &common::client(), "k");
    let (answer, _) = decided(enclave.handle(stamped(&sign(&key, 1))));
    let Response::ApprovalPending(held) = answer else { panic!("held") };
    approve(&enclave, Action::Approve, &held, &[&t.approvers[0]]);
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    assert_eq!(error_code(&approve(&enclave, Action::Approve, &held, &[&t.approvers[1]])), "APPROVAL_EXPIRED");
    let (answer, receipt) = receipted(result(&enclave, &held));
    assert_eq!(error_code(&answer), "APPROVAL_EXPIRED");
    assert_eq!(decode_receipt_claims_unverified(&receipt).unwrap().code.as_deref(), Some("APPROVAL_EXPIRED"));

    let (answer, _) = decided(enclave.handle(stamped(&sign(&key, 2))));
    let Response::ApprovalPending(held) = answer else { panic!("held") };
    send(&enclave, &halt(Scope::Principal("dev-client".into()), Level::Red), &[&t.overseers[2]]);
    let (answer, _) = receipted(result(&enclave, &held));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
    assert_eq!(enclave.signatures_released(), 0);
}

#[test]
fn a_missed_heartbeat_halts_the_enclave_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |o| o.heartbeat_interval_ms = 100));
    resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[1]]);
    let key = new_key(&enclave, &common::client(), "k");
    // Heartbeats every 30 ms keep it green for well over the interval.
    for i in 0..10u8 {
        let Response::OversightStatus(s) = send(&enclave, &command(Action::Heartbeat), &[&t.overseers[0]]) else {
            panic!("heartbeat")
        };
        assert_eq!(s.global.level, "green");
        assert!(s.heartbeat_deadline_us.is_some());
        let (answer, _) = decided(enclave.handle(stamped(&sign(&key, i))));
        assert!(matches!(answer, Response::Signature(_)), "{answer:?}");
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
    // Then silence: after the interval nothing is signed, and status says why.
    std::thread::sleep(std::time::Duration::from_millis(150));
    let (answer, (state, scope, _, _)) = decided(enclave.handle(stamped(&sign(&key, 99))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
    assert_eq!((state.as_str(), scope.as_str()), ("red", "global"));
    enclave.oversight_tick();
    let Response::OversightStatus(s) = send(&enclave, &command(Action::Status), &[&t.overseers[0]]) else {
        panic!("status")
    };
    assert_eq!((s.global.level.as_str(), s.global.by.clone()), ("red", vec!["enclave".to_string()]));
    assert!(s.global.reason.contains("heartbeat"), "{}", s.global.reason);
    // A heartbeat does not resume; a quorum does.
    send(&enclave, &command(Action::Heartbeat), &[&t.overseers[0]]);
    let (answer, _) = decided(enclave.handle(stamped(&sign(&key, 100))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
}

#[test]
fn consecutive_policy_denials_trip_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |o| o.trip_consecutive_denials = 3));
    resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[1]]);
    // A policy whose one rule is scoped to keys labelled `ok`: a `bad` key has no rule in
    // scope, so its requests are refused (POLICY_NO_MATCH, default deny).
    let policy = r#"{"version": 2, "name": "trip", "rules": [
        {"id": "ok-only", "type": "time_window", "scope": {"labels": ["ok"]}, "preset": "crypto_24_7"}]}"#;
    let mut signed = sentinel_policy::SignedPolicy::new(policy.as_bytes()).unwrap();
    signed.sign(&common::admin()).unwrap();
    let r = enclave.handle(Request::UpdatePolicy(UpdatePolicyArgs {
        signed_policy: signed.to_json().into_bytes(),
        models: vec![],
    }));
    assert!(matches!(r, Response::PolicyUpdated(_)), "{r:?}");
    let (ok, bad) = (new_key(&enclave, &common::client(), "ok"), new_key(&enclave, &common::client(), "bad"));

    // Two denials, an allowed request (resets), then three in a row trip it.
    for (key, byte) in [(&bad, 1), (&bad, 2), (&ok, 3), (&bad, 4), (&bad, 5)] {
        let (answer, _) = decided(enclave.handle(stamped(&sign(key, byte))));
        assert!(!matches!(error_code_or(&answer), "KILL_SWITCH_HALTED"), "not yet: {answer:?}");
    }
    let (answer, _) = decided(enclave.handle(stamped(&sign(&bad, 6))));
    assert_eq!(error_code(&answer), "POLICY_NO_MATCH", "the third denial itself is answered by the policy");
    let (answer, (state, scope, _, _)) = decided(enclave.handle(stamped(&sign(&ok, 7))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
    assert_eq!((state.as_str(), scope.as_str()), ("red", "principal:dev-client"));
}

fn error_code_or(response: &Response) -> &str {
    match response {
        Response::Error(e) => &e.code,
        _ => "",
    }
}

#[test]
fn no_signature_is_released_for_a_request_begun_after_the_halt_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |_| {}));
    resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[1]]);
    let key = new_key(&enclave, &common::client(), "k");
    let acknowledged = Arc::new(AtomicBool::new(false));
    let (signed_before, refused_after, violations) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..4u8)
        .map(|w| {
            let (enclave, key, acknowledged) = (enclave.clone(), key.clone(), acknowledged.clone());
            let (signed_before, refused_after, violations) =
                (signed_before.clone(), refused_after.clone(), violations.clone());
            std::thread::spawn(move || {
                for i in 0..400u32 {
                    // Read before the request starts: if the halt was acknowledged by now, this
                    // request began after it and must not be signed.
                    let after = acknowledged.load(Ordering::SeqCst);
                    let (answer, _) = receipted(enclave.handle(stamped(&sign(&key, w ^ (i as u8)))));
                    match (&answer, after) {
                        (Response::Signature(_), true) => {
                            violations.fetch_add(1, Ordering::SeqCst);
                        }
                        (Response::Signature(_), false) => {
                            signed_before.fetch_add(1, Ordering::SeqCst);
                        }
                        (_, true) => {
                            assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
                            refused_after.fetch_add(1, Ordering::SeqCst);
                        }
                        (_, false) => assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED"),
                    }
                }
            })
        })
        .collect();
    // Let the burst run, then halt.
    while signed_before.load(Ordering::SeqCst) < 50 {
        std::thread::yield_now();
    }
    let r = send(&enclave, &halt(Scope::Global, Level::Red), &[&t.overseers[0]]);
    assert!(matches!(r, Response::OversightStatus(_)), "{r:?}");
    acknowledged.store(true, Ordering::SeqCst);
    let released_at_ack = enclave.signatures_released();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(violations.load(Ordering::SeqCst), 0, "signatures for requests begun after the acknowledgement");
    assert!(refused_after.load(Ordering::SeqCst) > 0, "the burst went on after the halt");
    assert_eq!(enclave.signatures_released(), released_at_ack, "nothing signed after the acknowledgement");
}

#[test]
fn a_restarted_enclave_comes_up_halted() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |_| {}));
    resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[1]]);
    let key = new_key(&enclave, &common::client(), "k");
    let (answer, _) = decided(enclave.handle(stamped(&sign(&key, 1))));
    assert!(matches!(answer, Response::Signature(_)));
    drop(enclave);
    // Same data directory (the simulator's CA), new process state: red, by the enclave, at boot.
    let again = enclave_with(dir.path(), oversight_section(&t, |_| {}));
    let Response::OversightStatus(s) = send(&again, &command(Action::Status), &[&t.overseers[0]]) else {
        panic!("status")
    };
    assert_eq!((s.global.level.as_str(), s.global.by.clone()), ("red", vec!["enclave".to_string()]));
    assert!(s.global.reason.starts_with("boot"), "{}", s.global.reason);
    let key = new_key(&again, &common::client(), "k");
    let (answer, _) = decided(again.handle(stamped(&sign(&key, 1))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
}

#[test]
fn without_an_oversight_section_the_admins_oversee() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, _) = common::simulated_enclave(dir.path(), b"oversight test image", "oversight");
    common::install_dev_config(&enclave); // installs and resumes with the dev admin
    let key = new_key(&enclave, &common::client(), "k");
    let (answer, _) = decided(enclave.handle(stamped(&sign(&key, 1))));
    assert!(matches!(answer, Response::Signature(_)));
    let r = send(&enclave, &halt(Scope::Global, Level::Red), &[&common::client()]);
    assert_eq!(error_code(&r), "OVERSIGHT_NOT_PERMITTED", "a principal is not an overseer");
    let r = send(&enclave, &halt(Scope::Global, Level::Red), &[&common::admin()]);
    assert!(matches!(r, Response::OversightStatus(_)), "{r:?}");
}

const RISK_MODEL: &[u8] = include_bytes!("../../models/risk-v1.onnx");
const RISK_MODEL_SHA256: &str = "76d7b237a67f98236c404659d6effbb4544ae869213e7d1d21ca16df3ec82b6c";

/// A policy that allows any time, with the committed risk model deciding `approve_at` / `deny_at`.
fn install_risk_policy(enclave: &Enclave, approve_at: u16, deny_at: u16) {
    let policy = format!(
        r#"{{"version": 2, "name": "risk", "rules": [
            {{"id": "always", "type": "time_window", "preset": "crypto_24_7"}},
            {{"id": "risk", "type": "risk_score", "model_sha256": "0x{RISK_MODEL_SHA256}",
              "approve_at_bps": {approve_at}, "deny_at_bps": {deny_at}}}]}}"#
    );
    let mut signed = sentinel_policy::SignedPolicy::new(policy.as_bytes()).unwrap();
    signed.sign(&common::admin()).unwrap();
    let r = enclave.handle(Request::UpdatePolicy(UpdatePolicyArgs {
        signed_policy: signed.to_json().into_bytes(),
        models: vec![PolicyModel { onnx: RISK_MODEL.to_vec() }],
    }));
    assert!(matches!(r, Response::PolicyUpdated(_)), "{r:?}");
}

fn ethereum_key(enclave: &Enclave) -> String {
    let (answer, _) = receipted(enclave.handle(stamped(&Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Ethereum,
        label: "agent".into(),
    }))));
    let Response::KeyGenerated(k) = answer else { panic!("generate_key: {answer:?}") };
    k.key_id
}

/// An unlimited ERC-20 approval to a spender the key never used: what the model scores highest.
fn unlimited_approval(key_id: &str, nonce: u64) -> Operation {
    let data = format!("0x095ea7b3{:0>64}{}", "5a".repeat(20), "f".repeat(64));
    let unsigned_tx = sentinel_eth::encode_transaction_json(&format!(
        r#"{{"type": 2, "chainId": 1, "nonce": {nonce}, "maxPriorityFeePerGas": "0x1", "maxFeePerGas": "0x2",
            "gas": "0xfde8", "to": "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", "value": "0x0", "data": "{data}"}}"#
    ))
    .unwrap();
    Operation::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: key_id.into(), unsigned_tx })
}

#[test]
fn a_risk_score_in_the_approval_band_is_held_and_released_by_the_approvers() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |_| {}));
    resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[1]]);
    install_risk_policy(&enclave, 6000, 10000);
    let key = ethereum_key(&enclave);

    let (answer, (state, _, _, code)) = decided(enclave.handle(stamped(&unlimited_approval(&key, 1))));
    let Response::ApprovalPending(held) = answer else { panic!("held: {answer:?}") };
    assert_eq!(
        (held.reason.as_str(), state.as_str(), code.as_deref()),
        ("policy_approval_required", "green", Some("APPROVAL_PENDING"))
    );
    approve(&enclave, Action::Approve, &held, &[&t.approvers[1]]);
    let Response::ApprovalUpdated(u) = approve(&enclave, Action::Approve, &held, &[&t.approvers[2]]) else {
        panic!("approve")
    };
    assert_eq!(u.state, "released");
    let (answer, receipt) = receipted(result(&enclave, &held));
    assert!(matches!(answer, Response::SignedTransaction(_)), "{answer:?}");
    let claims = decode_receipt_claims_unverified(&receipt).unwrap();
    assert_eq!(claims.approvals, vec!["risk-2".to_string(), "risk-3".to_string()]);
    let risk = claims.rules_evaluated.iter().find(|r| r.rule == "risk").expect("the risk rule's record");
    assert_eq!(risk.result, "approval_required", "the release records what the model said");
}

#[test]
fn a_risk_score_spike_trips_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let enclave = enclave_with(dir.path(), oversight_section(&t, |o| o.trip_risk_score_bps = 8000));
    resume(&enclave, Scope::Global, Level::Green, &[&t.overseers[0], &t.overseers[1]]);
    // Thresholds the score stays under: the policy allows it; the trip still fires on the score.
    install_risk_policy(&enclave, 10000, 10000);
    let key = ethereum_key(&enclave);
    let (answer, receipt) = receipted(enclave.handle(stamped(&unlimited_approval(&key, 1))));
    assert!(matches!(answer, Response::SignedTransaction(_)), "allowed by the policy: {answer:?}");
    let claims = decode_receipt_claims_unverified(&receipt).unwrap();
    let score: u32 =
        claims.rules_evaluated.iter().find(|r| r.rule == "risk").unwrap().value.clone().unwrap().parse().unwrap();
    assert!(score >= 8000, "the model scores an unlimited approval to a new spender high: {score}");
    let (answer, (state, scope, _, _)) = decided(enclave.handle(stamped(&unlimited_approval(&key, 2))));
    assert_eq!(error_code(&answer), "KILL_SWITCH_HALTED");
    assert_eq!((state.as_str(), scope.as_str()), ("red", "principal:dev-client"));
}
