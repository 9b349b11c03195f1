//! A restarted enclave continues the previous enclave's audit log, in process:
//! it checks the previous document and the records against the checkpoint,
//! rebuilds the kill switch, the policy's windows and buckets from the
//! records' effects (so a restart neither unhalts nor resets a limit), lets
//! the unverified tail only make things stricter, refuses a log from another
//! image, a tampered log, or one kept under another configuration, and
//! continues the same origin under its own key.
mod common;

use std::sync::Arc;

use sentinel_audit::note::VerifierKey;
use sentinel_audit::{verify_log, AuditRecord, RecordKind};
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_oversight::{Action, Command, Level, Scope};
use sentinel_protocol::*;

use common::{
    audit_records as records, boot_document as evidence, error_code, fresh_nonce, now_us, resume_audit_log as resume,
    stamped,
};

const IMAGE: &[u8] = b"audit resume test image";

/// An enclave of `image` in `dir` with the dev configuration and [`common::LIMITS_POLICY`]; `wait`: started
/// with `--audit-resume` (the log waits), else resumed by the admin as a fresh one would be.
fn boot(dir: &std::path::Path, image: &[u8], root: Option<Vec<u8>>, wait: bool) -> (Arc<Enclave>, Vec<u8>) {
    let config = EnclaveConfig { audit_resume: wait, attestation_root: root, ..EnclaveConfig::default() };
    let (enclave, root) = common::simulated_enclave_with(dir, image, "resume", &config);
    let r = enclave.handle(common::install_dev_config_request());
    assert!(matches!(r, Response::ConfigUpdated(_)), "{r:?}");
    let r = enclave.handle(Request::UpdatePolicy(UpdatePolicyArgs {
        signed_policy: common::signed_limits_policy(),
        models: vec![],
    }));
    assert!(matches!(r, Response::PolicyUpdated(_)), "{r:?}");
    if !wait {
        common::resume(&enclave);
    }
    (enclave, root)
}

fn generate(enclave: &Enclave) -> String {
    let op = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Ethereum,
        label: "desk".into(),
    });
    match enclave.handle(stamped(&op)) {
        Response::Receipted(r) => match *r.answer {
            Response::KeyGenerated(k) => k.key_id,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn transfer(enclave: &Enclave, key_id: &str, wei: u64) -> Response {
    match enclave.handle(transfer_request(key_id, wei)) {
        Response::Receipted(r) => *r.answer,
        other => other,
    }
}

fn transfer_request(key_id: &str, wei: u64) -> Request {
    let unsigned_tx = sentinel_eth::encode_transaction_json(&format!(
        r#"{{"type": 2, "chainId": 1, "nonce": 1, "maxPriorityFeePerGas": "0x1", "maxFeePerGas": "0x2", "gas": "0x5208",
            "to": "0x3535353535353535353535353535353535353535", "value": "{wei:#x}", "data": "0x"}}"#
    ))
    .unwrap();
    let op = Operation::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: key_id.into(), unsigned_tx });
    stamped(&op)
}

fn oversight(enclave: &Enclave, command: &Command) -> Response {
    enclave.handle(Request::Oversight(sentinel_client::oversight_request(command, &[&common::admin()])))
}

fn set_level(enclave: &Enclave, scope: Scope, level: Level) {
    let command = if level == Level::Red {
        Command {
            scope: Some(scope),
            level: Some(level),
            reason: Some("test".into()),
            ..sentinel_client::oversight_command(Action::Halt, now_us(), fresh_nonce())
        }
    } else {
        let Response::OversightChallenge(c) = enclave.handle(Request::OversightChallenge(OversightChallengeArgs {}))
        else {
            panic!("challenge")
        };
        sentinel_client::resume_command(scope, level, c.challenge.try_into().unwrap(), now_us(), fresh_nonce())
    };
    let r = oversight(enclave, &command);
    assert!(matches!(r, Response::OversightStatus(_)), "{r:?}");
}

fn code(response: &Response) -> &str {
    error_code(response)
}

#[test]
fn a_restarted_enclave_continues_the_log_with_its_halts_and_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (a, root) = boot(dir.path(), IMAGE, None, false);
    let key = generate(&a);
    // 1000 + 1000 of the 2500 an hour, two of the four tokens.
    assert!(matches!(transfer(&a, &key, 1000), Response::SignedTransaction(_)));
    assert!(matches!(transfer(&a, &key, 1000), Response::SignedTransaction(_)));
    let checkpointed = records(&a, true);
    // The tail: after the last checkpoint, made and stored but not checkpointed.
    let captured = transfer_request(&key, 400);
    let Response::Receipted(r) = a.handle(captured.clone()) else { panic!("receipted") };
    assert!(matches!(*r.answer, Response::SignedTransaction(_)));
    set_level(&a, Scope::Key("k-some-other-key".into()), Level::Red);
    let log = records(&a, false);
    assert_eq!(log.size, checkpointed.size + 2);
    let previous_key = VerifierKey::parse(&log.verifier_key).unwrap();
    let document = evidence(&a);
    drop(a);

    // The new enclave (same image, new keys) signs nothing and takes no command before the log is open.
    let (b, _) = boot(dir.path(), IMAGE, Some(root.clone()), true);
    assert_eq!(code(&transfer(&b, &key, 1)), "AUDIT_LOG_NOT_OPEN");
    let r = oversight(&b, &sentinel_client::oversight_command(Action::Status, now_us(), fresh_nonce()));
    assert_eq!(code(&r), "AUDIT_LOG_NOT_OPEN");

    let checkpoint = checkpointed.checkpoint.clone().unwrap();
    let Response::AuditResumed(resumed) = resume(&b, &document, &checkpoint, &log.records) else {
        panic!("resume refused")
    };
    assert!(resumed.resumed);
    assert_eq!(resumed.origin, log.origin, "the same log");
    assert_ne!(resumed.verifier_key, log.verifier_key, "under the new enclave's key");
    assert_eq!(resumed.previous_verifier_key.as_deref(), Some(log.verifier_key.as_str()));
    assert_eq!((resumed.size, resumed.covered, resumed.resumed_seq), (log.size, checkpointed.size, Some(log.size)));
    assert_eq!(resumed.global_level, "green", "the log resumed the global scope");
    assert_eq!(resumed.scopes, vec!["key:k-some-other-key=red".to_string()], "the halt survives");
    assert_eq!(resumed.effects_skipped, 0);
    let key_b = generate(&b);
    // The previous enclave's replay cache is gone, but a request it accepted is still refused.
    let Response::Receipted(r) = b.handle(captured) else { panic!("receipted") };
    assert_eq!(code(&r.answer), "STAMP_REPLAYED", "{:?}", r.answer);

    // The limits survived: 2400 counted, so 200 more is over 2500; then the rate bucket.
    let r = transfer(&b, &key_b, 200);
    assert_eq!(code(&r), "POLICY_DENIED", "{r:?}");
    let Response::Error(e) = &r else { unreachable!() };
    assert!(e.message.contains("eth-cap"), "{}", e.message);
    assert!(matches!(transfer(&b, &key_b, 100), Response::SignedTransaction(_)), "2500 exactly is allowed");
    // Four tokens: three before the restart, one now; the fifth request breaches the bucket.
    let r = transfer(&b, &key_b, 0);
    assert_eq!(code(&r), "POLICY_DENIED");
    let Response::Error(e) = &r else { unreachable!() };
    assert!(e.message.contains("burst"), "{}", e.message);

    // The log continues: a log_resumed record, then the new enclave's records, and the whole log
    // verifies against both enclaves' checkpoints with both keys.
    let after = records(&b, true);
    assert_eq!(after.origin, log.origin);
    assert_eq!(after.from, log.size, "the host already holds the resumed records");
    let first = AuditRecord::decode(&after.records[0]).unwrap();
    assert_eq!((first.seq, first.kind), (log.size, RecordKind::LogResumed));
    assert_eq!(first.effects[0].target, log.verifier_key);
    let kinds: Vec<RecordKind> = after.records.iter().map(|r| AuditRecord::decode(r).unwrap().kind).collect();
    // What happened while the log waited follows it: the boot configuration and policy, the refusal.
    assert_eq!(&kinds[1..4], &[RecordKind::Config, RecordKind::Policy, RecordKind::Decision], "{kinds:?}");
    assert!(kinds.contains(&RecordKind::KeyCreated));
    let whole: Vec<Vec<u8>> = log.records.iter().chain(&after.records).cloned().collect();
    let new_key = VerifierKey::parse(&after.verifier_key).unwrap();
    let report =
        verify_log(&whole, &[checkpoint, after.checkpoint.clone().unwrap()], &[previous_key, new_key]).unwrap();
    assert_eq!(report.covered, whole.len() as u64);
}

#[test]
fn the_unverified_tail_may_halt_but_never_release() {
    let dir = tempfile::tempdir().unwrap();
    let (a, root) = boot(dir.path(), IMAGE, None, false);
    set_level(&a, Scope::Principal("dev-client".into()), Level::Red);
    let checkpointed = records(&a, true);
    // After the checkpoint: a resume of that principal and a global halt.
    set_level(&a, Scope::Principal("dev-client".into()), Level::Green);
    set_level(&a, Scope::Global, Level::Red);
    let log = records(&a, false);
    let document = evidence(&a);
    drop(a);

    let (b, _) = boot(dir.path(), IMAGE, Some(root), true);
    let Response::AuditResumed(resumed) =
        resume(&b, &document, checkpointed.checkpoint.as_ref().unwrap(), &log.records)
    else {
        panic!("resume refused")
    };
    assert_eq!(resumed.global_level, "red", "a halt in the tail applies");
    assert_eq!(resumed.scopes, vec!["principal:dev-client=red".to_string()], "a release in the tail does not");
    assert_eq!(resumed.effects_skipped, 1);
}

#[test]
fn a_tampered_log_another_image_or_another_configuration_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, root) = boot(dir.path(), IMAGE, None, false);
    let key = generate(&a);
    assert!(matches!(transfer(&a, &key, 5), Response::SignedTransaction(_)));
    let log = records(&a, true);
    let checkpoint = log.checkpoint.clone().unwrap();
    let document = evidence(&a);
    drop(a);

    // A record changed, one dropped, the log cut below the checkpoint.
    let (b, _) = boot(dir.path(), IMAGE, Some(root.clone()), true);
    let mut modified = log.records.clone();
    let last = modified.last_mut().unwrap();
    let byte = last.len() - 3;
    last[byte] ^= 1;
    let r = resume(&b, &document, &checkpoint, &modified);
    assert_eq!(code(&r), "AUDIT_RESUME_INVALID", "{r:?}");
    let mut dropped = log.records.clone();
    dropped.remove(2);
    let r = resume(&b, &document, &checkpoint, &dropped);
    assert_eq!(code(&r), "AUDIT_RESUME_INVALID", "{r:?}");
    let r = resume(&b, &document, &checkpoint, &log.records[..log.records.len() - 1]);
    assert_eq!(code(&r), "AUDIT_RESUME_INVALID", "{r:?}");
    let Response::Error(e) = &r else { unreachable!() };
    assert!(e.message.starts_with("AUDIT_TRUNCATED"), "{}", e.message);
    // A checkpoint the document's key did not sign (this enclave's own document).
    let r = resume(&b, &evidence(&b), &checkpoint, &log.records);
    assert_eq!(code(&r), "AUDIT_RESUME_INVALID", "{r:?}");
    // Still waiting: the honest log resumes.
    assert!(matches!(resume(&b, &document, &checkpoint, &log.records), Response::AuditResumed(_)));
    let r = resume(&b, &document, &checkpoint, &log.records);
    assert_eq!(code(&r), "AUDIT_RESUME_STATE", "once open, no second resume");

    // Another image (another PCR0).
    let (c, _) = boot(dir.path(), b"another image", Some(root.clone()), true);
    let r = resume(&c, &document, &checkpoint, &log.records);
    assert_eq!(code(&r), "AUDIT_RESUME_ATTESTATION", "{r:?}");

    // Another configuration (a host-chosen one, signed by its own admin).
    let config = EnclaveConfig { audit_resume: true, attestation_root: Some(root), ..EnclaveConfig::default() };
    let (d, _) = common::simulated_enclave_with(dir.path(), IMAGE, "resume", &config);
    let mut host_config = common::dev_config();
    host_config.version = 7;
    let r = d.handle(Request::UpdateConfig(UpdateConfigArgs {
        signed_config: common::sign_config(&host_config, &[&common::admin()]),
    }));
    assert!(matches!(r, Response::ConfigUpdated(_)), "{r:?}");
    let r = d.handle(Request::UpdatePolicy(UpdatePolicyArgs {
        signed_policy: common::signed_limits_policy(),
        models: vec![],
    }));
    assert!(matches!(r, Response::PolicyUpdated(_)), "{r:?}");
    let r = resume(&d, &document, &checkpoint, &log.records);
    assert_eq!(code(&r), "AUDIT_RESUME_MISMATCH", "{r:?}");

    // A new log instead: it starts at 0, and the kill switch stays as booted (Red).
    let Response::AuditResumed(fresh) = d.handle(Request::AuditStart(AuditStartArgs {})) else { panic!("start") };
    assert!(!fresh.resumed);
    assert_eq!(fresh.global_level, "red");
    assert_ne!(fresh.origin, log.origin);
    let started = records(&d, true);
    assert_eq!(AuditRecord::decode(&started.records[0]).unwrap().seq, 0);
}

#[test]
fn a_tail_the_host_wrote_cannot_vouch_for_another_policy() {
    // Records are not signed one by one: after the checkpoint the host can append records of its
    // own, chained correctly. One claiming a looser policy is in force must not get it accepted.
    let dir = tempfile::tempdir().unwrap();
    let (a, root) = boot(dir.path(), IMAGE, None, false);
    let log = records(&a, true);
    let document = evidence(&a);
    drop(a);

    let config = EnclaveConfig { audit_resume: true, attestation_root: Some(root), ..EnclaveConfig::default() };
    let (b, _) = common::simulated_enclave_with(dir.path(), IMAGE, "resume", &config);
    assert!(matches!(b.handle(common::install_dev_config_request()), Response::ConfigUpdated(_)));
    // The permissive development policy instead of the log's.
    assert!(matches!(b.handle(common::install_dev_policy_request()), Response::PolicyUpdated(_)));
    let (looser, _) = b.policy().unwrap();
    let last = log.records.last().unwrap();
    let forged = AuditRecord {
        seq: log.size,
        time_us: now_us(),
        kind: RecordKind::Policy,
        principal: Some("admins".into()),
        request_digest: Some([7; 32]),
        decision: None,
        result_digest: Some(looser),
        prev_hash: sentinel_audit::record::record_hash(last),
        effects: Vec::new(),
    };
    let mut with_tail = log.records.clone();
    with_tail.push(forged.encode().unwrap());
    let r = resume(&b, &document, log.checkpoint.as_ref().unwrap(), &with_tail);
    assert_eq!(code(&r), "AUDIT_RESUME_MISMATCH", "{r:?}");
}
