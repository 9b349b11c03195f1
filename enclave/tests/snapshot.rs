//! Sealed state snapshots (docs/sealed-state.md, issue #14 point 1): a restarted enclave starts
//! from the state its predecessor sealed at one point of the audit log and replays only the
//! records after it, with the same limits, halts, stamp cache and key history as a replay of the
//! whole log; a log older than the snapshot is refused as a rollback; a snapshot it cannot open
//! (another master key, damaged, not a snapshot) is refused by name, and the whole log still works.
mod common;

use std::path::Path;
use std::sync::Arc;

use common::{audit_records as records, boot_document as evidence, error_code, now_ms, resume_audit_log_from, stamped};
use sentinel_enclave::master_key::DevelopmentKeyFile;
use sentinel_enclave::sealing::Sealing;
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_oversight::{Action, Command, Level, Scope};
use sentinel_protocol::*;

const IMAGE: &[u8] = b"snapshot test image";

/// An enclave of [`IMAGE`] in `dir` sealing with `key_file`, configured with [`common::LIMITS_POLICY`]; `wait`:
/// its log waits for a resume (and it trusts the simulator's root to check the previous enclave).
fn boot(dir: &Path, key_file: &Path, wait: bool) -> Arc<Enclave> {
    boot_with_parts(dir, key_file, wait, sentinel_enclave::snapshot::PART_BYTES)
}

/// [`boot`] sealing snapshots in parts of `part_bytes`.
fn boot_with_parts(dir: &Path, key_file: &Path, wait: bool, part_bytes: usize) -> Arc<Enclave> {
    let nsm = SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(IMAGE), Arc::new(now_ms)).unwrap();
    let root = nsm.root_der().to_vec();
    let config = EnclaveConfig {
        audit_resume: wait,
        attestation_root: Some(root),
        snapshot_part_bytes: part_bytes,
        ..EnclaveConfig::default()
    };
    let sealing = Sealing::from_provider(&DevelopmentKeyFile { path: key_file.to_path_buf() }).unwrap();
    let enclave = Arc::new(Enclave::with_sealing(Arc::new(nsm), "i-snap".into(), &config, sealing).unwrap());
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
    enclave
}

fn generate(enclave: &Enclave) -> (String, SealedRecord) {
    let op = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Ethereum,
        label: "desk".into(),
    });
    let Response::Receipted(r) = enclave.handle(stamped(&op)) else { panic!("receipted") };
    let Response::KeyGenerated(k) = *r.answer else { panic!("{:?}", r.answer) };
    (k.key_id, *r.sealed.expect("sealed"))
}

fn transfer_request(key_id: &str, wei: u64) -> Request {
    let unsigned_tx = sentinel_eth::encode_transaction_json(&format!(
        r#"{{"type": 2, "chainId": 1, "nonce": 1, "maxPriorityFeePerGas": "0x1", "maxFeePerGas": "0x2", "gas": "0x5208",
            "to": "0x3535353535353535353535353535353535353535", "value": "{wei:#x}", "data": "0x"}}"#
    ))
    .unwrap();
    stamped(&Operation::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: key_id.into(), unsigned_tx }))
}

fn transfer(enclave: &Enclave, key_id: &str, wei: u64) -> Response {
    match enclave.handle(transfer_request(key_id, wei)) {
        Response::Receipted(r) => *r.answer,
        other => other,
    }
}

fn halt(enclave: &Enclave, scope: Scope) {
    let command = Command {
        scope: Some(scope),
        level: Some(Level::Red),
        reason: Some("snapshot test".into()),
        ..sentinel_client::oversight_command(Action::Halt, common::now_us(), common::fresh_nonce())
    };
    let r = enclave.handle(Request::Oversight(sentinel_client::oversight_request(&command, &[&common::admin()])));
    assert!(matches!(r, Response::OversightStatus(_)), "{r:?}");
}

/// A snapshot as the host stores it: every part, in order.
struct Snapshot {
    size: u64,
    parts: Vec<SealedRecord>,
}

impl Snapshot {
    fn bytes(&self) -> Vec<Vec<u8>> {
        self.parts.iter().map(|p| p.record.clone()).collect()
    }
}

fn snapshot(enclave: &Enclave) -> Snapshot {
    let part = |i: u64| match enclave.handle(Request::SealedSnapshot(SealedSnapshotArgs { part: Some(i) })) {
        Response::SealedSnapshot(s) => s,
        other => panic!("{other:?}"),
    };
    let first = part(0);
    let mut parts = vec![first.record.clone()];
    for i in 1..first.parts {
        let next = part(i);
        assert_eq!((next.part, next.parts, next.size), (i, first.parts, first.size));
        parts.push(next.record);
    }
    Snapshot { size: first.size, parts }
}

fn configuration_record(enclave: &Enclave) -> SealedRecord {
    let Response::SealedState(state) = enclave.handle(Request::SealedState(SealedStateArgs {})) else { panic!() };
    *state.configuration.unwrap()
}

fn load(enclave: &Enclave, records: Vec<Vec<u8>>) -> SealedLoaded {
    match enclave.handle(Request::SealedLoad(SealedLoadArgs { records })) {
        Response::SealedLoaded(l) => l,
        other => panic!("{other:?}"),
    }
}

/// What the first enclave left: its log, document, sealed records and a snapshot in the middle.
struct Left {
    dir: tempfile::TempDir,
    key_file: std::path::PathBuf,
    document: Vec<u8>,
    log: AuditRecords,
    /// A checkpoint signed before the snapshot (an older copy of the log ends there).
    older_checkpoint: Vec<u8>,
    snapshot: Snapshot,
    configuration: SealedRecord,
    key: (String, SealedRecord),
    deleted: SealedRecord,
    /// A stamped request accepted before the snapshot.
    captured: Request,
}

fn first_enclave() -> Left {
    first_enclave_with_parts(sentinel_enclave::snapshot::PART_BYTES)
}

fn first_enclave_with_parts(part_bytes: usize) -> Left {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("sealing/master.key");
    let a = boot_with_parts(dir.path(), &key_file, false, part_bytes);
    let key = generate(&a);
    let (deleted_id, deleted) = generate(&a);
    let r = a.handle(stamped(&Operation::DeleteKey(DeleteKeyArgs { key_id: deleted_id.clone() })));
    assert!(matches!(r, Response::Receipted(_)), "{r:?}");
    // 1000 + 1000 of the 2500 an hour and two of the four tokens, a halt, then the snapshot.
    let captured = transfer_request(&key.0, 1000);
    assert!(matches!(a.handle(captured.clone()), Response::Receipted(_)));
    assert!(matches!(transfer(&a, &key.0, 1000), Response::SignedTransaction(_)));
    halt(&a, Scope::Key("k-some-other-key".into()));
    let older_checkpoint = records(&a, true).checkpoint.unwrap();
    let r = transfer(&a, &deleted.name, 1);
    assert_eq!(error_code(&r), "UNKNOWN_KEY", "a record after that checkpoint: {r:?}");
    let snapshot = snapshot(&a);
    let count = snapshot.parts.len();
    for (i, part) in snapshot.parts.iter().enumerate() {
        assert_eq!((part.kind.as_str(), part.version), ("state", snapshot.size));
        assert!(part.name.ends_with(&format!("/{i}/{count}")), "{}", part.name);
    }
    // After the snapshot: 400 more (2400 of 2500), the third of four tokens.
    assert!(matches!(transfer(&a, &key.0, 400), Response::SignedTransaction(_)));
    let configuration = configuration_record(&a);
    let log = records(&a, true);
    assert!(log.size > snapshot.size);
    let document = evidence(&a);
    Left { dir, key_file, document, log, older_checkpoint, snapshot, configuration, key, deleted, captured }
}

/// A second enclave (same data directory: the simulator's root; same master key) with the sealed
/// records loaded, before its log is resumed. The deleted key's stale record is served too.
fn second_enclave(left: &Left) -> Arc<Enclave> {
    second_enclave_with_parts(left, sentinel_enclave::snapshot::PART_BYTES)
}

fn second_enclave_with_parts(left: &Left, part_bytes: usize) -> Arc<Enclave> {
    let b = boot_with_parts(left.dir.path(), &left.key_file, true, part_bytes);
    let loaded =
        load(&b, vec![left.configuration.record.clone(), left.key.1.record.clone(), left.deleted.record.clone()]);
    assert_eq!(loaded.loaded, 3, "{loaded:?}");
    b
}

fn resume(b: &Enclave, left: &Left, checkpoint: &[u8], snapshot: &[Vec<u8>]) -> Response {
    resume_audit_log_from(b, &left.document, checkpoint, snapshot, &left.log.records)
}

/// What a resumed enclave does next: the same answers whether it started from the snapshot or not.
fn after_restart(b: &Enclave, left: &Left) -> Vec<String> {
    let code = |r: &Response| match r {
        Response::Error(e) => format!("{}: {}", e.code, e.message.split(':').next().unwrap_or_default()),
        Response::SignedTransaction(_) => "signed".to_string(),
        other => format!("{other:?}"),
    };
    let Response::Receipted(r) = b.handle(left.captured.clone()) else { panic!("receipted") };
    vec![
        code(&r.answer),
        // 2400 counted: 200 more is over 2500, 100 is exactly 2500, then the bucket is empty.
        code(&transfer(b, &left.key.0, 200)),
        code(&transfer(b, &left.key.0, 100)),
        code(&transfer(b, &left.key.0, 0)),
        code(&transfer(b, &left.deleted.name, 1)),
    ]
}

#[test]
fn a_restart_from_the_snapshot_replays_only_the_later_records_and_keeps_every_state() {
    let left = first_enclave();
    let checkpoint = left.log.checkpoint.clone().unwrap();

    let full = second_enclave(&left);
    let Response::AuditResumed(whole) = resume(&full, &left, &checkpoint, &[]) else { panic!("whole log") };
    let expected = after_restart(&full, &left);
    drop(full);

    let b = second_enclave(&left);
    let begin = b.handle(Request::AuditResumeBegin(AuditResumeBeginArgs {
        attestation: left.document.clone(),
        checkpoint: checkpoint.clone(),
        snapshot: Some(left.snapshot.parts[0].record.clone()),
    }));
    let Response::AuditResumeProgress(progress) = begin else { panic!("{begin:?}") };
    assert_eq!(progress.next, left.snapshot.size, "the records are asked for from the snapshot on");
    let Response::AuditResumed(resumed) = resume(&b, &left, &checkpoint, &left.snapshot.bytes()) else {
        panic!("resume from the snapshot refused")
    };
    assert_eq!(resumed.snapshot_size, Some(left.snapshot.size));
    assert_eq!(whole.snapshot_size, None);
    assert_eq!((resumed.size, resumed.covered), (whole.size, whole.covered));
    assert!(
        resumed.effects_applied < whole.effects_applied,
        "{} vs {}",
        resumed.effects_applied,
        whole.effects_applied
    );
    assert_eq!(resumed.scopes, vec!["key:k-some-other-key=red".to_string()], "the halt is in the snapshot");
    assert_eq!(resumed.scopes, whole.scopes);
    assert_eq!(resumed.global_level, whole.global_level);
    // The key deleted before the snapshot: only the snapshot says so; its stale record is wiped.
    assert_eq!((resumed.keys_wiped, &resumed.keys_wiped_ids), (1, &vec![left.deleted.name.clone()]));
    assert_eq!((whole.keys_wiped, resumed.keys_missing), (1, 0));

    let answers = after_restart(&b, &left);
    assert_eq!(answers, expected, "the same answers as after a replay of the whole log");
    assert!(answers[0].starts_with("STAMP_REPLAYED"), "{answers:?}");
    assert!(answers[1].starts_with("POLICY_DENIED"), "{answers:?}");
    assert_eq!(answers[2], "signed");
    assert!(answers[3].starts_with("POLICY_DENIED"), "{answers:?}");
    assert!(answers[4].starts_with("UNKNOWN_KEY"), "{answers:?}");
}

#[test]
fn a_snapshot_after_a_restart_carries_what_the_restart_rebuilt() {
    let left = first_enclave();
    let checkpoint = left.log.checkpoint.clone().unwrap();
    let b = second_enclave(&left);
    let Response::AuditResumed(_) = resume(&b, &left, &checkpoint, &left.snapshot.bytes()) else { panic!("resume") };
    // B's own snapshot, then a third enclave from it alone.
    let second = snapshot(&b);
    let log_b = records(&b, true);
    let all: Vec<Vec<u8>> = left.log.records.iter().chain(&log_b.records).cloned().collect();
    let document_b = evidence(&b);
    drop(b);
    let c = second_enclave(&left);
    let r = resume_audit_log_from(&c, &document_b, log_b.checkpoint.as_ref().unwrap(), &second.bytes(), &all);
    let Response::AuditResumed(resumed) = r else { panic!("{r:?}") };
    assert_eq!(resumed.snapshot_size, Some(second.size));
    assert_eq!(resumed.scopes, vec!["key:k-some-other-key=red".to_string()]);
    assert_eq!(resumed.keys_wiped_ids, vec![left.deleted.name.clone()], "the key history carries over");
    assert!(error_code(&transfer(&c, &left.key.0, 200)).starts_with("POLICY_DENIED"));
}

#[test]
fn a_log_older_than_the_snapshot_is_refused_as_a_rollback() {
    let left = first_enclave();
    let b = second_enclave(&left);
    // An older copy of the log: the records and checkpoint from before the snapshot.
    let r = resume(&b, &left, &left.older_checkpoint, &left.snapshot.bytes());
    assert_eq!(error_code(&r), "AUDIT_RESUME_ROLLBACK", "{r:?}");
    // Nothing was kept: the enclave still waits, and signs nothing.
    assert_eq!(error_code(&transfer(&b, &left.key.0, 1)), "AUDIT_LOG_NOT_OPEN");
}

#[test]
fn a_snapshot_it_cannot_open_is_refused_by_name_and_the_whole_log_still_resumes() {
    let left = first_enclave();
    let checkpoint = left.log.checkpoint.clone().unwrap();
    let b = second_enclave(&left);
    let mut flipped = left.snapshot.parts[0].record.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    for (bad, why) in [
        (flipped, "a modified snapshot"),
        (left.key.1.record.clone(), "a key record"),
        (left.snapshot.parts[0].record[..40].to_vec(), "a truncated snapshot"),
    ] {
        let r = resume(&b, &left, &checkpoint, &[bad]);
        assert_eq!(error_code(&r), "SEAL_SNAPSHOT_MISMATCH", "{why}: {r:?}");
    }
    // Another master key (another enclave's sealing) cannot open it either.
    let other = tempfile::tempdir().unwrap();
    let stranger = boot(left.dir.path(), &other.path().join("master.key"), true);
    let r = resume(&stranger, &left, &checkpoint, &left.snapshot.bytes());
    assert_eq!(error_code(&r), "SEAL_SNAPSHOT_MISMATCH", "{r:?}");
    // Without it, the whole log is replayed, as before snapshots.
    let Response::AuditResumed(resumed) = resume(&b, &left, &checkpoint, &[]) else { panic!("whole log") };
    assert_eq!(resumed.snapshot_size, None);
}

#[test]
fn no_snapshot_without_sealing_or_before_the_log_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, _) = common::simulated_enclave_with(dir.path(), IMAGE, "plain", &EnclaveConfig::default());
    let r = plain.handle(Request::SealedSnapshot(SealedSnapshotArgs { part: None }));
    assert_eq!(error_code(&r), "SEALING_DISABLED");
    let waiting = boot(dir.path(), &dir.path().join("k"), true);
    let r = waiting.handle(Request::SealedSnapshot(SealedSnapshotArgs { part: None }));
    assert_eq!(error_code(&r), "AUDIT_LOG_NOT_OPEN");
}

#[test]
fn a_snapshot_in_several_parts_is_put_back_together_in_order_and_only_whole() {
    // Parts of 256 bytes: the snapshot of this state (about 1 KiB) comes in several.
    let left = first_enclave_with_parts(256);
    let parts = left.snapshot.bytes();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let checkpoint = left.log.checkpoint.clone().unwrap();

    // Every part in order: the same state as from one part.
    let b = second_enclave_with_parts(&left, 256);
    let Response::AuditResumed(resumed) = resume(&b, &left, &checkpoint, &parts) else { panic!("resume in parts") };
    assert_eq!(resumed.snapshot_size, Some(left.snapshot.size));
    assert_eq!(resumed.keys_wiped_ids, vec![left.deleted.name.clone()]);
    assert!(after_restart(&b, &left)[1].starts_with("POLICY_DENIED"));

    // Records before the last part, parts out of order, a part twice, a part of another snapshot.
    let c = second_enclave(&left);
    let begin = |snapshot: &[u8]| {
        c.handle(Request::AuditResumeBegin(AuditResumeBeginArgs {
            attestation: left.document.clone(),
            checkpoint: checkpoint.clone(),
            snapshot: Some(snapshot.to_vec()),
        }))
    };
    let part = |bytes: &[u8]| c.handle(Request::AuditResumeSnapshot(AuditResumeSnapshotArgs { part: bytes.to_vec() }));
    let Response::AuditResumeProgress(p) = begin(&parts[0]) else { panic!("begin") };
    assert_eq!(p.snapshot_parts_missing, parts.len() as u64 - 1);
    let early = c.handle(Request::AuditResumeRecords(AuditResumeRecordsArgs { records: vec![] }));
    assert_eq!(error_code(&early), "AUDIT_RESUME_STATE");
    assert_eq!(error_code(&c.handle(Request::AuditResumeFinish(AuditResumeFinishArgs {}))), "AUDIT_RESUME_STATE");
    let Response::AuditResumeProgress(_) = begin(&parts[0]) else { panic!("begin again") };
    assert_eq!(error_code(&part(&parts[2])), "SEAL_SNAPSHOT_MISMATCH", "out of order");
    let Response::AuditResumeProgress(_) = begin(&parts[0]) else { panic!("begin again") };
    assert!(matches!(part(&parts[1]), Response::AuditResumeProgress(_)));
    assert_eq!(error_code(&part(&parts[1])), "SEAL_SNAPSHOT_MISMATCH", "twice");
    let other = snapshot(&b);
    let Response::AuditResumeProgress(_) = begin(&parts[0]) else { panic!("begin again") };
    assert_eq!(error_code(&part(&other.parts[1].record)), "SEAL_SNAPSHOT_MISMATCH", "another snapshot's part");
    // A later part cannot start a resume.
    assert_eq!(error_code(&begin(&parts[1])), "SEAL_SNAPSHOT_MISMATCH");
}
