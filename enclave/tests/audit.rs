//! The audit log inside the enclave, in process: every decision and admin
//! action becomes a record the enclave made (the host only relays it), the
//! records chain and verify against the checkpoints the enclave signs with
//! the key its attestation commits to, receipts name their record and the
//! latest checkpoint, and a host that stops acknowledging records stops
//! getting signatures.
mod common;

use sentinel_audit::note::VerifierKey;
use sentinel_audit::{verify_log, AuditRecord, Outcome, RecordKind};
use sentinel_enclave::audit::AuditPolicy;
use sentinel_enclave::EnclaveConfig;
use sentinel_evidence::AttestedKeys;
use sentinel_protocol::*;
use sha2::{Digest, Sha256};

use common::{error_code, stamped};

fn boot(policy: AuditPolicy) -> (tempfile::TempDir, std::sync::Arc<sentinel_enclave::Enclave>) {
    let dir = tempfile::tempdir().unwrap();
    let config = EnclaveConfig { audit: policy, ..EnclaveConfig::default() };
    let (enclave, _root) = common::simulated_enclave_with(dir.path(), b"audit test image", "audit", &config);
    common::install_dev_config(&enclave);
    (dir, enclave)
}

fn generate(enclave: &sentinel_enclave::Enclave) -> String {
    let op = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Raw,
        label: "a".into(),
    });
    match enclave.handle(stamped(&op)) {
        Response::Receipted(r) => match *r.answer {
            Response::KeyGenerated(k) => k.key_id,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn sign(key_id: &str, byte: u8) -> Operation {
    Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: vec![byte; 32] })
}

fn read_all(enclave: &sentinel_enclave::Enclave, from: u64) -> AuditRecords {
    match enclave.handle(Request::AuditCheckpoint(AuditCheckpointArgs {})) {
        Response::AuditRecords(r) if r.from == from => r,
        Response::AuditRecords(_) => match enclave.handle(Request::AuditRead(AuditReadArgs { from, max: 1024 })) {
            Response::AuditRecords(r) => r,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_decision_and_admin_action_is_a_record_that_verifies_against_the_attested_key() {
    let (_dir, enclave) = boot(AuditPolicy { checkpoint_every: 4, ..AuditPolicy::default() });
    let key_id = generate(&enclave);
    let mut receipts = Vec::new();
    for i in 0..6u8 {
        let request = stamped(&sign(&key_id, i + 1));
        let Request::Stamped(args) = &request else { unreachable!() };
        let body = args.body.clone();
        let Response::Receipted(r) = enclave.handle(request) else { panic!() };
        receipts.push((body, r));
    }
    // A refusal is recorded too: an unknown key.
    let Response::Receipted(refused) = enclave.handle(stamped(&sign("no-such-key", 9))) else { panic!() };
    assert_eq!(error_code(&refused.answer), "UNKNOWN_KEY");

    let log = read_all(&enclave, 0);
    // config, policy, resume, key creation, six signatures, one refusal.
    assert_eq!((log.from, log.size, log.records.len()), (0, 11, 11));
    let kinds: Vec<RecordKind> = log.records.iter().map(|r| AuditRecord::decode(r).unwrap().kind).collect();
    assert_eq!(&kinds[..4], &[RecordKind::Config, RecordKind::Policy, RecordKind::Resume, RecordKind::KeyCreated]);
    assert!(kinds[4..].iter().all(|k| *k == RecordKind::Decision));

    // The checkpoint key is the one the attestation commits to, under the log's origin.
    let keys = AttestedKeys::from_bytes(enclave.attested_keys()).unwrap();
    let verifier = VerifierKey::parse(&log.verifier_key).unwrap();
    assert_eq!(verifier.key().to_bytes(), keys.audit);
    assert_eq!(verifier.name(), log.origin);
    assert!(log.origin.starts_with("sentinel/log/"));

    // Every checkpoint the enclave handed out verifies, and the whole log against the last one.
    let checkpoint = log.checkpoint.clone().expect("a checkpoint of the current tree");
    let report = verify_log(&log.records, std::slice::from_ref(&checkpoint), std::slice::from_ref(&verifier)).unwrap();
    assert_eq!((report.records, report.covered, report.uncovered), (11, 11, 0));

    // Each receipt names its record: same sequence number, request digest and result digest.
    for (body, r) in &receipts {
        let claims = sentinel_evidence::decode_receipt_claims_unverified(&r.receipt).unwrap();
        let entry = r.audit.as_ref().expect("the answer carries its record");
        assert_eq!(claims.audit_seq, Some(entry.seq));
        assert_eq!(log.records[entry.seq as usize], entry.record);
        let record = AuditRecord::decode(&entry.record).unwrap();
        assert_eq!(record.request_digest, Some(Sha256::digest(body).into()));
        assert_eq!(record.result_digest, claims.result_hash);
        assert_eq!(record.principal.as_deref(), Some("dev-client"));
        let decision = record.decision.unwrap();
        assert_eq!(decision.outcome, Outcome::Allowed);
        assert_eq!(decision.rules.len(), claims.rules_evaluated.len());
        // A checkpoint at once after every admin action (configuration, policy, resume) and every 4
        // records: every receipt carries one, at most 4 records behind its own.
        let note = claims.audit_checkpoint.expect("a checkpoint by now");
        let cp = sentinel_audit::open_checkpoint(note.as_bytes(), &verifier).unwrap();
        assert!(cp.size <= entry.seq + 1 && cp.size + 4 > entry.seq, "checkpoint {} for seq {}", cp.size, entry.seq);
    }
    let denied = AuditRecord::decode(&refused.audit.as_ref().unwrap().record).unwrap();
    assert_eq!(denied.decision.as_ref().unwrap().outcome, Outcome::Denied);
    assert_eq!(denied.decision.as_ref().unwrap().code.as_deref(), Some("UNKNOWN_KEY"));
    assert_eq!(denied.result_digest, None);
}

#[test]
fn acknowledged_records_are_forgotten_and_the_backlog_bound_stops_signing() {
    let (_dir, enclave) = boot(AuditPolicy { max_backlog: 8, ..AuditPolicy::default() });
    let key_id = generate(&enclave); // records 0..=3
                                     // Reads and acks are checked against what exists.
    let ack = |durable| enclave.handle(Request::AuditAck(AuditAckArgs { durable }));
    assert_eq!(error_code(&ack(5)), "AUDIT_ACK_INVALID");
    assert!(matches!(ack(2), Response::AuditAcked(AuditAcked { durable: 2 })));
    assert_eq!(error_code(&ack(1)), "AUDIT_ACK_INVALID");
    let read = |from| enclave.handle(Request::AuditRead(AuditReadArgs { from, max: 10 }));
    assert_eq!(error_code(&read(1)), "AUDIT_RANGE_UNAVAILABLE");
    assert_eq!(error_code(&read(5)), "AUDIT_RANGE_UNAVAILABLE");
    let Response::AuditRecords(r) = read(2) else { panic!() };
    assert_eq!((r.from, r.records.len(), r.size, r.durable), (2, 2, 4, 2));

    // 2 unacknowledged; 6 more signatures fill the backlog of 8; the next is refused.
    for i in 0..6 {
        let Response::Receipted(r) = enclave.handle(stamped(&sign(&key_id, i + 1))) else { panic!() };
        assert!(matches!(*r.answer, Response::Signature(_)), "{:?}", r.answer);
    }
    let released = enclave.signatures_released();
    let Response::Receipted(full) = enclave.handle(stamped(&sign(&key_id, 0x77))) else { panic!() };
    assert_eq!(error_code(&full.answer), "AUDIT_BACKLOG_FULL");
    assert_eq!(enclave.signatures_released(), released, "nothing signed past the bound");
    // The refusal itself is still recorded (below twice the bound) and named by its receipt.
    let claims = sentinel_evidence::decode_receipt_claims_unverified(&full.receipt).unwrap();
    assert_eq!(claims.audit_seq, full.audit.as_ref().map(|a| a.seq));
    assert!(claims.audit_seq.is_some());
    // Listing keys signs nothing and still works.
    let Response::Receipted(list) = enclave.handle(stamped(&Operation::ListKeys(ListKeysArgs {}))) else { panic!() };
    assert!(matches!(*list.answer, Response::KeyList(_)));

    // The host stores them (acknowledges): signing resumes.
    let (size, _) = enclave.audit_log().sizes();
    assert!(matches!(ack(size), Response::AuditAcked(_)));
    let Response::Receipted(r) = enclave.handle(stamped(&sign(&key_id, 0x78))) else { panic!() };
    assert!(matches!(*r.answer, Response::Signature(_)), "{:?}", r.answer);
}

#[test]
fn checkpoints_follow_the_timer_and_never_repeat_a_size() {
    let (_dir, enclave) =
        boot(AuditPolicy { checkpoint_every: 1_000, checkpoint_interval_us: 1, ..AuditPolicy::default() });
    let first = read_all(&enclave, 0);
    let cp1 = first.checkpoint.clone().unwrap();
    // Nothing new: the timer and `audit_checkpoint` sign nothing new.
    std::thread::sleep(std::time::Duration::from_millis(2));
    enclave.audit_tick();
    assert_eq!(read_all(&enclave, 0).checkpoint.unwrap(), cp1);
    let key_id = generate(&enclave);
    let _ = key_id;
    std::thread::sleep(std::time::Duration::from_millis(2));
    enclave.audit_tick();
    let later = read_all(&enclave, 0);
    let cp2 = later.checkpoint.clone().unwrap();
    assert_ne!(cp1, cp2);
    let verifier = VerifierKey::parse(&later.verifier_key).unwrap();
    let (a, b) = (
        sentinel_audit::open_checkpoint(&cp1, &verifier).unwrap(),
        sentinel_audit::open_checkpoint(&cp2, &verifier).unwrap(),
    );
    assert_eq!((a.size, b.size), (first.size, later.size));
    // Both verify against the one log (consistent).
    verify_log(&later.records, &[cp1, cp2], std::slice::from_ref(&verifier)).unwrap();
}
