//! The AWS KMS provider wired into the enclave (`sealing_unlock`, docs/kms.md), against a stand-in
//! KMS (`sentinel_kms::fake`) that verifies the Recipient attestation document and admits only the
//! PCR0 its key policy names: the first boot generates the data key, a restart decrypts the stored
//! blob to the same key and opens the same sealed keys, another image is refused until the key
//! policy admits it, and the credentials never print.
mod common;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use common::*;
use sentinel_enclave::kms_unlock::KmsConnector;
use sentinel_enclave::sealing::Sealing;
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_kms::fake::FakeKms;
use sentinel_kms::{HttpRequest, HttpResponse, KmsError, KmsTransport};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::*;
use sentinel_seal::SealingKind;

const IMAGE: &[u8] = b"kms sealing test image v1";
const OTHER: &[u8] = b"kms sealing test image v2";

/// The enclave's way to the fake KMS: every transport talks to the one shared instance.
struct Connector(Arc<Mutex<FakeKms>>);
struct Shared(Arc<Mutex<FakeKms>>);

impl KmsTransport for Shared {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, KmsError> {
        self.0.lock().unwrap().send(request)
    }
}

impl KmsConnector for Connector {
    fn transport(&self, _server_name: &str, _now: SystemTime) -> Result<Box<dyn KmsTransport>, KmsError> {
        Ok(Box::new(Shared(self.0.clone())))
    }
}

fn root(dir: &std::path::Path) -> Vec<u8> {
    SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(IMAGE), Arc::new(now_ms)).unwrap().root_der().to_vec()
}

/// A configured enclave of `image` that seals with AWS KMS (no key until `sealing_unlock`).
fn enclave(dir: &std::path::Path, image: &[u8], kms: &Arc<Mutex<FakeKms>>) -> Arc<Enclave> {
    let nsm = SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(image), Arc::new(now_ms)).unwrap();
    let sealing = Sealing::awaiting_key(SealingKind::AwsKms);
    let enclave =
        Arc::new(Enclave::with_sealing(Arc::new(nsm), "i-kms".into(), &EnclaveConfig::default(), sealing).unwrap());
    enclave.set_kms_connector(Box::new(Connector(kms.clone())));
    install_dev_config(&enclave);
    enclave
}

fn unlock(enclave: &Enclave, blob: Option<Vec<u8>>) -> Response {
    enclave.handle(Request::SealingUnlock(SealingUnlockArgs {
        key_id: "alias/sentinel".into(),
        region: "eu-west-1".into(),
        endpoint: None,
        access_key_id: "AKIAFAKEPARENT".into(),
        secret_access_key: SecretText::new("parent-role-secret"),
        session_token: Some(SecretText::new("parent-role-session")),
        ciphertext_blob: blob,
    }))
}

fn blob_of(response: Response) -> Vec<u8> {
    match response {
        Response::SealingUnlocked(u) => {
            assert_eq!(u.sealing, "aws-kms");
            u.ciphertext_blob
        }
        other => panic!("{other:?}"),
    }
}

fn sign(enclave: &Enclave, key_id: &str) -> Response {
    let op = Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: vec![0x17; 32] });
    receipted(enclave.handle(stamped(&op))).0
}

#[test]
fn the_first_boot_generates_the_key_and_a_restart_decrypts_it_to_the_same_one() {
    let dir = tempfile::tempdir().unwrap();
    let pcr0 = sentinel_nsm::pcr::pcrs_from_artifact(IMAGE)[0];
    let kms = Arc::new(Mutex::new(FakeKms::new(&root(dir.path()), &pcr0, 7)));
    let first = enclave(dir.path(), IMAGE, &kms);
    let blob = blob_of(unlock(&first, None));
    assert_eq!(error_code(&unlock(&first, Some(blob.clone()))), "SEALING_UNLOCK_STATE", "once");
    let op = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Raw,
        label: "kms".into(),
    });
    let Response::Receipted(r) = first.handle(stamped(&op)) else { panic!("generate") };
    let Response::KeyGenerated(key) = *r.answer else { panic!("{:?}", r.answer) };
    assert_eq!(key.storage, "sealed:aws-kms");
    let record = r.sealed.unwrap().record;
    let Response::SealedState(state) = first.handle(Request::SealedState(SealedStateArgs {})) else { panic!() };
    let configuration = state.configuration.unwrap().record;
    let before = sign(&first, &key.key_id);

    {
        let kms = kms.lock().unwrap();
        let targets: Vec<_> = kms.requests.iter().map(|r| r.header("x-amz-target").unwrap().to_string()).collect();
        assert_eq!(targets, ["TrentService.GenerateDataKey"]);
        let auth = kms.requests[0].header("authorization").unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAFAKEPARENT/"), "{auth}");
        assert_eq!(kms.requests[0].header("x-amz-security-token"), Some("parent-role-session"));
    }

    // The restart: a new enclave of the same image, the stored blob, the stored records.
    let next = enclave(dir.path(), IMAGE, &kms);
    assert_eq!(blob_of(unlock(&next, Some(blob.clone()))), blob);
    let Response::SealedLoaded(loaded) =
        next.handle(Request::SealedLoad(SealedLoadArgs { records: vec![configuration, record] }))
    else {
        panic!("sealed_load")
    };
    assert_eq!(loaded.keys, 1, "{loaded:?}");
    assert_eq!(sign(&next, &key.key_id), before);
    assert_eq!(kms.lock().unwrap().requests.last().unwrap().header("x-amz-target"), Some("TrentService.Decrypt"));
}

#[test]
fn another_image_gets_nothing_until_the_key_policy_admits_it() {
    let dir = tempfile::tempdir().unwrap();
    let pcr0 = sentinel_nsm::pcr::pcrs_from_artifact(IMAGE)[0];
    let kms = Arc::new(Mutex::new(FakeKms::new(&root(dir.path()), &pcr0, 9)));
    let first = enclave(dir.path(), IMAGE, &kms);
    let blob = blob_of(unlock(&first, None));
    let other = enclave(dir.path(), OTHER, &kms);
    let refused = unlock(&other, Some(blob.clone()));
    assert_eq!(error_code(&refused), "KMS_UNLOCK_FAILED");
    let Response::Error(e) = &refused else { unreachable!() };
    assert!(e.message.contains("KMS_ACCESS_DENIED"), "{}", e.message);
    // Nothing is created meanwhile: there is no key to seal it with.
    let op =
        Operation::GenerateKey(GenerateKeyArgs { curve: Curve::Ed25519, purpose: KeyPurpose::Raw, label: "x".into() });
    assert_eq!(error_code(&receipted(other.handle(stamped(&op))).0), "SEALING_KEY_ABSENT");
    // The administrators change the key policy to the new image (an upgrade through KMS).
    kms.lock().unwrap().allow_pcr0(&other.pcrs()[0]);
    assert_eq!(blob_of(unlock(&other, Some(blob.clone()))), blob);
    // And the old image, no longer in the policy, is refused now.
    let again = enclave(dir.path(), IMAGE, &kms);
    assert_eq!(error_code(&unlock(&again, Some(blob))), "KMS_UNLOCK_FAILED");
    drop(first);
}

#[test]
fn unlocking_is_refused_where_it_does_not_apply_and_credentials_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, _) = simulated_enclave(dir.path(), IMAGE, "i-none");
    install_dev_config(&plain);
    assert_eq!(error_code(&unlock(&plain, None)), "SEALING_UNLOCK_STATE");
    // An aws-kms enclave started without a relay says so.
    let nsm = SimulatedNsm::open(dir.path(), sentinel_nsm::pcr::pcrs_from_artifact(IMAGE), Arc::new(now_ms)).unwrap();
    let sealing = Sealing::awaiting_key(SealingKind::AwsKms);
    let bare = Enclave::with_sealing(Arc::new(nsm), "i".into(), &EnclaveConfig::default(), sealing).unwrap();
    install_dev_config(&bare);
    let refused = unlock(&bare, None);
    assert_eq!(error_code(&refused), "KMS_UNLOCK_FAILED");
    let printed = format!("{refused:?}");
    assert!(!printed.contains("parent-role-secret") && !printed.contains("parent-role-session"));
}
