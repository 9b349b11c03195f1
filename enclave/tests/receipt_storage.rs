//! The `key_storage` receipt claim (docs/receipts.md, docs/sealed-state.md): the receipt of every
//! answer that creates a key carries how that key is kept, equal to the answer's `storage`
//! (`sealed:development` with the development master key, `ephemeral` without sealing); every
//! other receipt has no `key_storage` entry at all, so it is byte for byte what it was before
//! the claim existed.
mod common;

use std::sync::Arc;

use common::*;
use sentinel_enclave::master_key::DevelopmentKeyFile;
use sentinel_enclave::sealing::Sealing;
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_evidence::{verify_receipt, ReceiptClaims, ReceiptOptions, UnixTime};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::{
    Curve, EvidenceArgs, GenerateKeyArgs, KeyGenerated, KeyPurpose, ListKeysArgs, Operation, Request, Response,
    SignDigestArgs,
};

const IMAGE: &[u8] = b"receipt storage test image";

/// An enclave sealing as `sealing` says, configured (development configuration and policy) and
/// resumed; also returns its simulator's development root.
fn enclave(dir: &std::path::Path, sealing: Sealing) -> (Arc<Enclave>, Vec<u8>) {
    let nsm = SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(IMAGE), Arc::new(now_ms)).unwrap();
    let root = nsm.root_der().to_vec();
    let enclave =
        Arc::new(Enclave::with_sealing(Arc::new(nsm), "i-storage".into(), &EnclaveConfig::default(), sealing).unwrap());
    let answer = enclave
        .handle(Request::UpdateConfig(sentinel_protocol::UpdateConfigArgs { signed_config: dev_signed_config() }));
    assert!(matches!(answer, Response::ConfigUpdated(_)), "{answer:?}");
    let answer = enclave.handle(install_dev_policy_request());
    assert!(matches!(answer, Response::PolicyUpdated(_)), "{answer:?}");
    resume(&enclave);
    (enclave, root)
}

/// The claims of `receipt`, verified against the enclave's boot document and development root.
fn verified_claims(enclave: &Enclave, root: &[u8], receipt: &[u8]) -> ReceiptClaims {
    let options = ReceiptOptions {
        root_der: root,
        expected_pcr0: Some(enclave.pcrs()[0][..].try_into().unwrap()),
        expected_config_hash: None,
        expected_policy_hash: None,
        now: UnixTime::from_millis(now_ms()),
        allow_debug: false,
    };
    verify_receipt(receipt, &boot_document(enclave), &options).expect("the receipt verifies").into_claims()
}

/// Runs `operation` stamped by the development client: its answer and its receipt's claims.
fn call(enclave: &Enclave, root: &[u8], operation: &Operation) -> (Response, ReceiptClaims, Vec<u8>) {
    let (answer, receipt) = receipted(enclave.handle(stamped(operation)));
    let claims = verified_claims(enclave, root, &receipt);
    (answer, claims, receipt)
}

fn generate_key(curve: Curve, purpose: KeyPurpose) -> Operation {
    Operation::GenerateKey(GenerateKeyArgs { curve, purpose, label: "storage".into() })
}

/// Every key-creating answer's receipt says `storage`; the other receipts say nothing.
fn check(enclave: &Enclave, root: &[u8], storage: &str) {
    let mut created = Vec::new();
    for (curve, purpose) in [
        (Curve::Secp256k1, KeyPurpose::Raw),
        (Curve::Secp256k1, KeyPurpose::Ethereum),
        (Curve::Ed25519, KeyPurpose::Raw),
    ] {
        let (answer, claims, receipt) = call(enclave, root, &generate_key(curve, purpose));
        let Response::KeyGenerated(KeyGenerated { key_id, storage: answered, .. }) = answer else {
            panic!("{answer:?}")
        };
        assert_eq!(answered, storage);
        assert_eq!(claims.key_storage.as_deref(), Some(answered.as_str()), "the claim is the answer's mark");
        assert_eq!((claims.op.as_str(), claims.key_id.as_deref()), ("generate_key", Some(key_id.as_str())));
        assert!(receipt.windows(11).any(|w| w == b"key_storage"));
        created.push(key_id);
    }

    // Answers that create no key (a signature, the key list): no key_storage entry at all.
    let sign = Operation::SignDigest(SignDigestArgs { key_id: created[0].clone(), digest: vec![0x5e; 32] });
    let list = Operation::ListKeys(ListKeysArgs {});
    for operation in [sign, list] {
        let (answer, claims, receipt) = call(enclave, root, &operation);
        assert!(matches!(answer, Response::Signature(_) | Response::KeyList(_)), "{answer:?}");
        assert_eq!(claims.key_storage, None);
        assert!(!receipt.windows(11).any(|w| w == b"key_storage"), "absent, not null");
    }

    // An imported key is kept the same way.
    let Response::Evidence(evidence) = enclave.handle(Request::Evidence(EvidenceArgs {})) else { panic!("evidence") };
    let pcr0 = enclave.pcrs()[0][..].try_into().unwrap();
    let keys =
        sentinel_client::verify_evidence(&evidence, root, Some(pcr0), None, None, UnixTime::from_millis(now_ms()))
            .unwrap()
            .keys;
    let secret = [0x47u8; 32];
    let (answer, claims, _) =
        call(enclave, root, &import_op(&keys.import, "dev-client", "imported", "imported", &secret));
    let Response::KeyGenerated(KeyGenerated { storage: answered, .. }) = answer else { panic!("{answer:?}") };
    assert_eq!((answered.as_str(), claims.key_storage.as_deref()), (storage, Some(storage)));

    // A refused key creation creates no key: no claim.
    let refused = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Ed25519,
        purpose: KeyPurpose::Ethereum,
        label: "refused".into(),
    });
    let (answer, claims, receipt) = call(enclave, root, &refused);
    assert!(matches!(answer, Response::Error(_)), "{answer:?}");
    assert_eq!(claims.key_storage, None);
    assert!(!receipt.windows(11).any(|w| w == b"key_storage"));
}

#[test]
fn development_sealing_marks_keys_sealed_development() {
    let dir = tempfile::tempdir().unwrap();
    let sealing = Sealing::from_provider(&DevelopmentKeyFile { path: dir.path().join("master.key") }).unwrap();
    let (enclave, root) = enclave(dir.path(), sealing);
    check(&enclave, &root, "sealed:development");
}

#[test]
fn without_sealing_keys_are_marked_ephemeral() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, root) = enclave(dir.path(), Sealing::none());
    check(&enclave, &root, "ephemeral");
}
