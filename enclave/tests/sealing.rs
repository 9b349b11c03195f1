//! Sealed keys across enclaves (docs/sealed-state.md): a key sealed by one enclave is opened by
//! the next one that holds the same master key under the same configuration lineage, and by no
//! other; every damaged record is refused with its code and never re-created.
mod common;

use std::sync::Arc;

use common::*;
use sentinel_config::{Alg, Credential, CredentialKind};
use sentinel_enclave::master_key::DevelopmentKeyFile;
use sentinel_enclave::sealing::Sealing;
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::{
    Curve, DeleteKeyArgs, GenerateKeyArgs, KeyGenerated, KeyPurpose, ListKeysArgs, Operation, Request, Response,
    SealedLoadArgs, SealedLoaded, SealedRecord, SealedStateArgs, SignDigestArgs, UpdateConfigArgs,
};

const IMAGE: &[u8] = b"sealing test image";

/// An enclave sealing with the development key file `key_file` (made on first use).
fn sealed_enclave(dir: &std::path::Path, key_file: &std::path::Path) -> Arc<Enclave> {
    sealed_enclave_with(dir, key_file, &EnclaveConfig::default())
}

fn sealed_enclave_with(dir: &std::path::Path, key_file: &std::path::Path, config: &EnclaveConfig) -> Arc<Enclave> {
    let nsm = SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(IMAGE), Arc::new(now_ms)).unwrap();
    let sealing = Sealing::from_provider(&DevelopmentKeyFile { path: key_file.to_path_buf() }).unwrap();
    Arc::new(Enclave::with_sealing(Arc::new(nsm), "i-seal".into(), config, sealing).unwrap())
}

/// Installs the configuration and the development policy, and resumes the kill switch.
fn install(enclave: &Enclave, signed_config: Vec<u8>) {
    install_only(enclave, signed_config);
    resume(enclave);
}

fn install_only(enclave: &Enclave, signed_config: Vec<u8>) {
    let answer = enclave.handle(Request::UpdateConfig(UpdateConfigArgs { signed_config }));
    assert!(matches!(answer, Response::ConfigUpdated(_)), "{answer:?}");
    let answer = enclave.handle(install_dev_policy_request());
    assert!(matches!(answer, Response::PolicyUpdated(_)), "{answer:?}");
}

/// Generates a raw key; returns its id, public key and sealed record.
fn generate(enclave: &Enclave, curve: Curve) -> (String, Vec<u8>, Option<SealedRecord>) {
    let op = Operation::GenerateKey(GenerateKeyArgs { curve, purpose: KeyPurpose::Raw, label: "sealed".into() });
    let Response::Receipted(r) = enclave.handle(stamped(&op)) else { panic!("not receipted") };
    let Response::KeyGenerated(KeyGenerated { key_id, public_key, storage, .. }) = *r.answer else {
        panic!("{:?}", r.answer)
    };
    let expected = if r.sealed.is_some() { "sealed:development" } else { "ephemeral" };
    assert_eq!(storage, expected);
    (key_id, public_key, r.sealed.map(|s| *s))
}

fn sign(enclave: &Enclave, key_id: &str) -> Response {
    let op = Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: vec![0x5e; 32] });
    receipted(enclave.handle(stamped(&op))).0
}

fn configuration_record(enclave: &Enclave) -> SealedRecord {
    let Response::SealedState(state) = enclave.handle(Request::SealedState(SealedStateArgs {})) else {
        panic!("sealed_state")
    };
    assert_eq!(state.sealing, "development");
    *state.configuration.expect("a configuration is installed")
}

fn load(enclave: &Enclave, records: &[&SealedRecord]) -> SealedLoaded {
    load_bytes(enclave, records.iter().map(|r| r.record.clone()).collect())
}

fn load_bytes(enclave: &Enclave, records: Vec<Vec<u8>>) -> SealedLoaded {
    match enclave.handle(Request::SealedLoad(SealedLoadArgs { records })) {
        Response::SealedLoaded(loaded) => loaded,
        other => panic!("{other:?}"),
    }
}

fn codes(loaded: &SealedLoaded) -> Vec<&str> {
    loaded.refused.iter().map(|r| r.code.as_str()).collect()
}

/// A first enclave with two sealed keys: (key file, config record, [(id, public key, record)]).
struct Sealed {
    _dir: tempfile::TempDir,
    key_file: std::path::PathBuf,
    configuration: SealedRecord,
    keys: Vec<(String, Vec<u8>, SealedRecord)>,
    signatures: Vec<Response>,
}

fn first_enclave() -> Sealed {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("sealing/master.key");
    let enclave = sealed_enclave(dir.path(), &key_file);
    install(&enclave, dev_signed_config());
    let mut keys = Vec::new();
    let mut signatures = Vec::new();
    for curve in [Curve::Secp256k1, Curve::Ed25519] {
        let (id, public_key, sealed) = generate(&enclave, curve);
        let sealed = sealed.expect("development sealing seals every key");
        assert_eq!((sealed.kind.as_str(), sealed.name.as_str(), sealed.version), ("key", id.as_str(), 1));
        signatures.push(sign(&enclave, &id));
        keys.push((id, public_key, sealed));
    }
    let configuration = configuration_record(&enclave);
    Sealed { key_file, configuration, keys, signatures, _dir: dir }
}

#[test]
fn keys_survive_into_the_next_enclave_and_sign_identically() {
    let first = first_enclave();
    let dir = tempfile::tempdir().unwrap();
    let next = sealed_enclave(dir.path(), &first.key_file);
    install(&next, dev_signed_config());
    let loaded = load(&next, &[&first.configuration, &first.keys[0].2, &first.keys[1].2]);
    assert_eq!((loaded.loaded, loaded.keys), (3, 2), "{loaded:?}");
    assert!(loaded.refused.is_empty());
    for ((id, _, _), before) in first.keys.iter().zip(&first.signatures) {
        // RFC 6979 and Ed25519 are deterministic: the same key signs the same digest identically.
        assert!(matches!(before, Response::Signature(_)), "{before:?}");
        assert_eq!(&sign(&next, id), before, "key {id}");
    }
    // The key list shows the same public keys under the same ids.
    let listed = receipted(next.handle(stamped(&Operation::ListKeys(ListKeysArgs {})))).0;
    let Response::KeyList(list) = listed else { panic!("{listed:?}") };
    let mut got: Vec<_> = list.keys.iter().map(|k| (k.key_id.clone(), k.public_key.clone())).collect();
    let mut want: Vec<_> = first.keys.iter().map(|(id, pk, _)| (id.clone(), pk.clone())).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_host_chosen_configuration_opens_no_key() {
    let first = first_enclave();
    let dir = tempfile::tempdir().unwrap();
    let next = sealed_enclave(dir.path(), &first.key_file);
    // The host boots the enclave with a configuration of its own (its own admin, trusted on first use).
    let host_admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0x66; 32]).unwrap();
    let host_config = sentinel_config::development_signed_configuration(&host_admin, &client()).unwrap().encode();
    let answer = next.handle(Request::UpdateConfig(UpdateConfigArgs { signed_config: host_config }));
    assert!(matches!(answer, Response::ConfigUpdated(_)), "{answer:?}");
    let loaded = load(&next, &[&first.keys[0].2, &first.keys[1].2]);
    assert_eq!((loaded.loaded, loaded.keys), (0, 0));
    assert_eq!(codes(&loaded), ["SEAL_LINEAGE_MISMATCH", "SEAL_LINEAGE_MISMATCH"]);
    // Nor does the sealed configuration record lend it the lineage.
    let loaded = load(&next, &[&first.configuration, &first.keys[0].2]);
    assert_eq!(codes(&loaded), ["SEAL_CONFIG_CONFLICT", "SEAL_LINEAGE_MISMATCH"]);
    assert_eq!(loaded.keys, 0);
}

#[test]
fn a_configuration_update_keeps_the_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let enclave = sealed_enclave(dir.path(), &key_file);
    install(&enclave, dev_signed_config());
    let v1_record = configuration_record(&enclave);
    let (id, _, sealed) = generate(&enclave, Curve::Secp256k1);
    let sealed = sealed.unwrap();
    let mut v2 = dev_config();
    v2.version = 2;
    let v2 = sign_config(&v2, &[&admin()]);
    let answer = enclave.handle(Request::UpdateConfig(UpdateConfigArgs { signed_config: v2.clone() }));
    assert!(matches!(answer, Response::ConfigUpdated(_)), "{answer:?}");
    let v2_record = configuration_record(&enclave);
    assert_eq!(v2_record.version, 2);
    let before = sign(&enclave, &id);
    // The next enclave boots with version 2, which starts a lineage of its own until a sealed
    // configuration record names the one it belongs to: version 2's own, or version 1's (which
    // version 2 updates, signed by version 1's admins).
    for record in [&v2_record, &v1_record] {
        let next_dir = tempfile::tempdir().unwrap();
        let next = sealed_enclave(next_dir.path(), &key_file);
        install(&next, v2.clone());
        let loaded = load(&next, &[record, &sealed]);
        assert_eq!((loaded.loaded, loaded.keys), (2, 1), "{loaded:?}");
        assert_eq!(sign(&next, &id), before);
    }
}

#[test]
fn damaged_records_are_refused_by_name_and_the_rest_load() {
    let first = first_enclave();
    let dir = tempfile::tempdir().unwrap();
    let next = sealed_enclave(dir.path(), &first.key_file);
    install(&next, dev_signed_config());
    let good = first.keys[0].2.record.clone();
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let truncated = good[..good.len() / 2].to_vec();
    // Sealed by an enclave with another master key (another data directory).
    let other_dir = tempfile::tempdir().unwrap();
    let other = sealed_enclave(other_dir.path(), &other_dir.path().join("master.key"));
    install(&other, dev_signed_config());
    let foreign = generate(&other, Curve::Secp256k1).2.unwrap().record;
    let records = vec![
        first.configuration.record.clone(),
        flipped,
        truncated,
        foreign,
        good.clone(),
        good,
        first.keys[1].2.record.clone(),
    ];
    let loaded = load_bytes(&next, records);
    assert_eq!(
        codes(&loaded),
        ["SEAL_RECORD_MODIFIED", "SEAL_RECORD_MALFORMED", "SEAL_RECORD_MODIFIED", "SEAL_RECORD_DUPLICATE"]
    );
    assert_eq!(loaded.refused.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2, 3, 5]);
    assert_eq!((loaded.loaded, loaded.keys), (3, 2));
    // A key whose record did not load is unknown: never re-created.
    let refused_id = &loaded.refused[0].name;
    assert_eq!(refused_id, &first.keys[0].0);
}

#[test]
fn records_load_at_boot_only() {
    let first = first_enclave();
    let dir = tempfile::tempdir().unwrap();
    let next = sealed_enclave(dir.path(), &first.key_file);
    install(&next, dev_signed_config());
    assert_eq!(load(&next, &[&first.configuration, &first.keys[0].2]).keys, 1);
    // The first key operation closes loading: a host cannot bring a record back later.
    let _ = next.handle(stamped(&Operation::ListKeys(ListKeysArgs {})));
    let answer = next.handle(Request::SealedLoad(SealedLoadArgs { records: vec![first.keys[1].2.record.clone()] }));
    assert_eq!(error_code(&answer), "SEAL_LOAD_CLOSED");
}

#[test]
fn without_sealing_keys_are_ephemeral_and_nothing_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, _) = simulated_enclave(dir.path(), IMAGE, "i-none");
    install_dev_config(&enclave);
    let (_, _, sealed) = generate(&enclave, Curve::Ed25519);
    assert!(sealed.is_none());
    let Response::SealedState(state) = enclave.handle(Request::SealedState(SealedStateArgs {})) else {
        panic!("sealed_state")
    };
    assert_eq!((state.sealing.as_str(), state.configuration), ("none", None));
    let answer = enclave.handle(Request::SealedLoad(SealedLoadArgs { records: vec![vec![1]] }));
    assert_eq!(error_code(&answer), "SEALING_DISABLED");
}

#[test]
fn a_deleted_key_is_gone_and_the_audit_log_wipes_it_if_its_record_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let a = sealed_enclave(dir.path(), &key_file);
    install(&a, dev_signed_config());
    let configuration = configuration_record(&a);
    let (deleted, _, deleted_record) = generate(&a, Curve::Secp256k1);
    let (kept, _, kept_record) = generate(&a, Curve::Ed25519);
    let delete = |id: &str| receipted(a.handle(stamped(&Operation::DeleteKey(DeleteKeyArgs { key_id: id.into() })))).0;
    assert!(matches!(delete(&deleted), Response::KeyDeleted(ref k) if k.key_id == deleted));
    assert_eq!(error_code(&sign(&a, &deleted)), "UNKNOWN_KEY");
    assert_eq!(error_code(&delete(&deleted)), "UNKNOWN_KEY", "deleted once");
    let checkpointed = audit_records(&a, true);
    let document = boot_document(&a);
    let root = {
        let nsm =
            SimulatedNsm::open(dir.path(), sentinel_nsm::pcr::pcrs_from_artifact(IMAGE), Arc::new(now_ms)).unwrap();
        nsm.root_der().to_vec()
    };
    drop(a);

    // The host kept the deleted key's record and serves it back with the others.
    let config = EnclaveConfig { audit_resume: true, attestation_root: Some(root.clone()), ..EnclaveConfig::default() };
    let b = sealed_enclave_with(dir.path(), &key_file, &config);
    install_only(&b, dev_signed_config());
    let records = [&configuration, deleted_record.as_ref().unwrap(), kept_record.as_ref().unwrap()];
    assert_eq!(load(&b, &records).keys, 2, "the stale record opens: only the log knows it was deleted");
    let checkpoint = checkpointed.checkpoint.clone().unwrap();
    let Response::AuditResumed(resumed) = resume_audit_log(&b, &document, &checkpoint, &checkpointed.records) else {
        panic!("resume refused")
    };
    assert_eq!((resumed.keys_wiped, resumed.keys_wiped_ids.clone()), (1, vec![deleted.clone()]));
    assert_eq!(resumed.keys_missing, 0);
    assert_eq!(error_code(&sign(&b, &deleted)), "UNKNOWN_KEY");
    assert!(matches!(sign(&b, &kept), Response::Signature(_)));

    // A host that withholds a record: the log names the key as missing (it is not re-created).
    let c_dir = tempfile::tempdir().unwrap();
    let c = sealed_enclave_with(c_dir.path(), &key_file, &config);
    install_only(&c, dev_signed_config());
    assert_eq!(load(&c, &[&configuration]).keys, 0);
    let Response::AuditResumed(resumed) = resume_audit_log(&c, &document, &checkpoint, &checkpointed.records) else {
        panic!("resume refused")
    };
    assert_eq!((resumed.keys_missing, resumed.keys_missing_ids.clone()), (1, vec![kept.clone()]));
    assert_eq!(error_code(&sign(&c, &kept)), "UNKNOWN_KEY");
}

#[test]
fn the_admin_quorum_deletes_any_key_with_a_signed_order() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = sealed_enclave(dir.path(), &dir.path().join("master.key"));
    install(&enclave, dev_signed_config());
    let (key, _, _) = generate(&enclave, Curve::Secp256k1);
    let config_hash = enclave.config_hash().unwrap();
    let order = |key_id: &str, config_hash: [u8; 32], expires_at_us: u64, signer: &Credential| {
        let order = sentinel_config::KeyDeletionOrder { key_id: key_id.into(), config_hash, expires_at_us };
        Request::AdminDeleteKey(sentinel_protocol::AdminDeleteKeyArgs { order: order.signed(&[signer]).unwrap() })
    };
    let later = now_us() + 60_000_000;
    let stranger = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0x31; 32]).unwrap();
    assert_eq!(error_code(&enclave.handle(order(&key, config_hash, later, &stranger))), "CONFIG_QUORUM_NOT_MET");
    assert_eq!(error_code(&enclave.handle(order(&key, [0; 32], later, &admin()))), "CONFIG_INVALID");
    assert_eq!(error_code(&enclave.handle(order(&key, config_hash, 1, &admin()))), "CONFIG_INVALID", "expired");
    assert!(matches!(sign(&enclave, &key), Response::Signature(_)), "still there after the refusals");
    let deleted = enclave.handle(order(&key, config_hash, later, &admin()));
    assert!(matches!(deleted, Response::KeyDeleted(ref k) if k.key_id == key), "{deleted:?}");
    assert_eq!(error_code(&sign(&enclave, &key)), "UNKNOWN_KEY");
    // The log records it with the effect a restarted enclave checks sealed keys against.
    let log = audit_records(&enclave, false);
    let record = log
        .records
        .iter()
        .map(|r| sentinel_audit::AuditRecord::decode(r).unwrap())
        .find(|r| r.kind == sentinel_audit::RecordKind::KeyDeleted)
        .expect("a key_deleted record");
    assert_eq!((record.effects[0].op.as_str(), record.effects[0].target.as_str()), ("key_deleted", key.as_str()));
}

#[test]
fn sessions_sign_with_sealed_keys_but_do_not_create_them() {
    use sentinel_client::{Client, Session};
    let dir = tempfile::tempdir().unwrap();
    let enclave = sealed_enclave(dir.path(), &dir.path().join("master.key"));
    install(&enclave, dev_signed_config());
    let (key, _, _) = generate(&enclave, Curve::Secp256k1);
    let path = dir.path().join("enclave.sock");
    common::serve_busy_poll(enclave.clone(), &path);
    let mut conn = Client::new(std::os::unix::net::UnixStream::connect(&path).unwrap());
    let evidence = conn.evidence().unwrap();
    let root = SimulatedNsm::open(dir.path(), sentinel_nsm::pcr::pcrs_from_artifact(IMAGE), Arc::new(now_ms))
        .unwrap()
        .root_der()
        .to_vec();
    let report = sentinel_attestation::check_attestation(
        &evidence.attestation,
        &root,
        sentinel_attestation::UnixTime::from_millis(now_ms()),
        &Default::default(),
        &Default::default(),
    );
    let bundle = hex::decode(report.document.unwrap().public_key.unwrap()).unwrap();
    let keys = sentinel_evidence::AttestedKeys::from_bytes(&bundle).unwrap();
    let hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&evidence.attestation).into();
    let mut session = Session::open(&mut conn, keys.session, hash, &client(), [0x5e; 32]).unwrap();
    // Creating a key inside the session would hand its sealed record to a relay that stores nothing.
    let op =
        Operation::GenerateKey(GenerateKeyArgs { curve: Curve::Ed25519, purpose: KeyPurpose::Raw, label: "s".into() });
    let (answer, _) = session.call(&mut conn, &op, true).unwrap();
    assert_eq!(error_code(&answer), "SESSION_KEY_CREATION_REFUSED");
    // Signing with a sealed key made over a stamped request works as ever.
    let sign_op = Operation::SignDigest(SignDigestArgs { key_id: key, digest: vec![0x5e; 32] });
    assert!(matches!(session.call(&mut conn, &sign_op, false).unwrap().0, Response::Signature(_)));
}
