//! What the enclave's socket tests share: a simulator-backed enclave, the
//! development configuration (fixed test credentials), stamped requests, and
//! reading one answer frame off a socket.
// Each test file uses a different subset.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sentinel_config::{Alg, Credential, CredentialKind};
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::{
    decode_response, AuditCheckpointArgs, AuditReadArgs, AuditRecords, AuditResumeBeginArgs, AuditResumeFinishArgs,
    AuditResumeRecordsArgs, AuditResumeSnapshotArgs, ErrorAnswer, EvidenceArgs, Operation, Request, Response,
    ResponseFrame, UpdateConfigArgs,
};
use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64
}

/// An enclave with the NSM simulator keeping its dev CA in `dir`; also returns the dev root (DER).
pub fn simulated_enclave(dir: &std::path::Path, image: &[u8], module_id: &str) -> (Arc<Enclave>, Vec<u8>) {
    simulated_enclave_with(dir, image, module_id, &EnclaveConfig::default())
}

pub fn simulated_enclave_with(
    dir: &std::path::Path,
    image: &[u8],
    module_id: &str,
    config: &EnclaveConfig,
) -> (Arc<Enclave>, Vec<u8>) {
    let nsm = SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(image), Arc::new(now_ms)).unwrap();
    let root_der = nsm.root_der().to_vec();
    let enclave = Enclave::new(Arc::new(nsm), module_id.into(), config).unwrap();
    (Arc::new(enclave), root_der)
}

/// Test-only credentials (fixed seeds; never used outside tests).
pub fn admin() -> Credential {
    Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0xad; 32]).unwrap()
}

pub fn client() -> Credential {
    Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[0xc1; 32]).unwrap()
}

/// A second principal (its own seed), for permission tests.
pub fn other_client(id: &str) -> Credential {
    Credential::generate(CredentialKind::Client, id, Alg::Ed25519, &[0xc2; 32]).unwrap()
}

/// The development configuration (version 1) for [`admin`] and [`client`], signed by the admin.
pub fn dev_signed_config() -> Vec<u8> {
    sentinel_config::development_signed_configuration(&admin(), &client()).unwrap().encode()
}

/// `update_config` with the development configuration.
pub fn install_dev_config_request() -> Request {
    Request::UpdateConfig(UpdateConfigArgs { signed_config: dev_signed_config() })
}

/// The development policy (one `crypto_24_7` rule: allows every signing request), signed by [`admin`].
pub fn dev_signed_policy() -> Vec<u8> {
    sentinel_policy::development_signed_policy(&admin()).unwrap().to_json().into_bytes()
}

/// `update_policy` with the development policy.
pub fn install_dev_policy_request() -> Request {
    Request::UpdatePolicy(sentinel_protocol::UpdatePolicyArgs { signed_policy: dev_signed_policy(), models: vec![] })
}

/// Installs the development configuration and policy directly (no socket).
pub fn install_dev_config(enclave: &Enclave) {
    let answer = enclave.handle(install_dev_config_request());
    assert!(matches!(answer, Response::ConfigUpdated(_)), "{answer:?}");
    let answer = enclave.handle(install_dev_policy_request());
    assert!(matches!(answer, Response::PolicyUpdated(_)), "{answer:?}");
    // It boots halted (no durable kill-switch state): resume, as an operator would.
    resume(enclave);
}

/// A fresh 16-byte stamp nonce (unique within the process).
pub fn fresh_nonce() -> [u8; 16] {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    nonce[8..].copy_from_slice(&(std::process::id() as u64).to_be_bytes());
    nonce
}

/// `operation` stamped now by `credential`.
pub fn stamped_by(credential: &Credential, operation: &Operation) -> Request {
    Request::Stamped(sentinel_client::stamped_request(credential, operation, now_us(), fresh_nonce()))
}

/// `operation` stamped now by the development principal.
pub fn stamped(operation: &Operation) -> Request {
    stamped_by(&client(), operation)
}

/// The inner answer and receipt of a `receipted` answer; panics on any other answer.
pub fn receipted(response: Response) -> (Response, Vec<u8>) {
    match response {
        Response::Receipted(r) => (*r.answer, r.receipt),
        other => panic!("expected a receipted answer, got {other:?}"),
    }
}

/// Reads one length-prefixed answer frame.
pub async fn read_response(stream: &mut UnixStream) -> ResponseFrame {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
    stream.read_exact(&mut body).await.unwrap();
    decode_response(&body).unwrap()
}

/// The code of an `error` answer; panics on any other answer.
pub fn error_code(response: &Response) -> &str {
    match response {
        Response::Error(ErrorAnswer { code, .. }) => code,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// `config` signed by `signers` (admin credentials), as an envelope.
pub fn sign_config(config: &sentinel_config::Configuration, signers: &[&Credential]) -> Vec<u8> {
    let mut signed = sentinel_config::SignedConfig::new(config.encode(), Vec::new()).unwrap();
    for s in signers {
        signed.sign(s).unwrap();
    }
    signed.encode()
}

/// The development configuration document (version 1) for [`admin`] and [`client`].
pub fn dev_config() -> sentinel_config::Configuration {
    sentinel_config::development_configuration(admin().public_key(), client().public_key())
}

/// An `import_key` operation for `secret` (a secp256k1 raw key) under `label`,
/// sealed to the enclave's `import_key` for `principal` and `sealed_label`
/// (a different `sealed_label` or principal than the request's must not open).
pub fn import_op(
    import_key: &[u8; 32],
    principal: &str,
    label: &str,
    sealed_label: &str,
    secret: &[u8; 32],
) -> Operation {
    let context = sentinel_import::ImportContext {
        principal: principal.into(),
        label: sealed_label.into(),
        curve: sentinel_import::Curve::Secp256k1,
        purpose: sentinel_import::KeyPurpose::Raw,
    };
    let mut rng = sentinel_import::rand_core::UnwrapErr(getrandom04::SysRng);
    let (enc, ciphertext) = sentinel_import::seal_import(import_key, &context, secret, &mut rng).unwrap();
    Operation::ImportKey(sentinel_protocol::ImportKeyArgs {
        curve: sentinel_protocol::Curve::Secp256k1,
        purpose: sentinel_protocol::KeyPurpose::Raw,
        label: label.into(),
        enc: enc.to_vec(),
        ciphertext: ciphertext.to_vec(),
    })
}

/// Resumes a freshly booted enclave (it starts Red globally) with the development admin,
/// who oversees when the configuration has no `oversight` section: challenge, then resume.
pub fn resume(enclave: &Enclave) {
    resume_with(enclave, &[&admin()]);
}

/// Resumes the global scope to green with these overseers' signatures; panics if refused.
pub fn resume_with(enclave: &Enclave, signers: &[&Credential]) {
    let answer = sentinel_client::resume_global(|r| enclave.handle(r), signers, now_us(), fresh_nonce());
    assert!(matches!(answer, Response::OversightStatus(_)), "{answer:?}");
}

/// Serves `enclave` with the busy-poll server on a new Unix socket at `path` (its own thread;
/// 5 ms of idle spinning, default limits).
pub fn serve_busy_poll(enclave: Arc<Enclave>, path: &std::path::Path) {
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        sentinel_enclave::busy_poll::serve_busy_poll(
            listener.into(),
            enclave,
            std::time::Duration::from_millis(5),
            Default::default(),
        )
    });
}

/// Every record the enclave holds (none acknowledged in these tests) and its latest checkpoint;
/// `checkpoint`: sign one of the current tree first.
pub fn audit_records(enclave: &Enclave, checkpoint: bool) -> AuditRecords {
    let request = if checkpoint {
        Request::AuditCheckpoint(AuditCheckpointArgs {})
    } else {
        Request::AuditRead(AuditReadArgs { from: 0, max: 1024 })
    };
    match enclave.handle(request) {
        Response::AuditRecords(r) => r,
        other => panic!("{other:?}"),
    }
}

pub fn boot_document(enclave: &Enclave) -> Vec<u8> {
    match enclave.handle(Request::Evidence(EvidenceArgs {})) {
        Response::Evidence(e) => e.attestation.clone(),
        other => panic!("{other:?}"),
    }
}

/// Hands `records` (with the previous enclave's document and checkpoint) to `enclave`, two at a time.
pub fn resume_audit_log(enclave: &Enclave, attestation: &[u8], checkpoint: &[u8], records: &[Vec<u8>]) -> Response {
    resume_audit_log_from(enclave, attestation, checkpoint, &[], records)
}

/// [`resume_audit_log`] with the parts of a sealed state snapshot (the first with
/// `audit_resume_begin`, the others with `audit_resume_snapshot`): only the records from the
/// position the enclave asks for (`next`) are handed over.
pub fn resume_audit_log_from(
    enclave: &Enclave,
    attestation: &[u8],
    checkpoint: &[u8],
    snapshot: &[Vec<u8>],
    records: &[Vec<u8>],
) -> Response {
    let mut r = enclave.handle(Request::AuditResumeBegin(AuditResumeBeginArgs {
        attestation: attestation.to_vec(),
        checkpoint: checkpoint.to_vec(),
        snapshot: snapshot.first().cloned(),
    }));
    for part in snapshot.iter().skip(1) {
        if !matches!(r, Response::AuditResumeProgress(_)) {
            return r;
        }
        r = enclave.handle(Request::AuditResumeSnapshot(AuditResumeSnapshotArgs { part: part.clone() }));
    }
    let Response::AuditResumeProgress(progress) = r else { return r };
    assert_eq!(progress.snapshot_parts_missing, 0, "every part was handed over");
    let records = &records[(progress.next as usize).min(records.len())..];
    for chunk in records.chunks(2) {
        let r = enclave.handle(Request::AuditResumeRecords(AuditResumeRecordsArgs { records: chunk.to_vec() }));
        if !matches!(r, Response::AuditResumeProgress(_)) {
            return r;
        }
    }
    enclave.handle(Request::AuditResumeFinish(AuditResumeFinishArgs {}))
}

/// A policy with per-principal limits (the audit resume and snapshot tests): 2500 wei an hour on
/// chain 1, four requests then one an hour.
pub const LIMITS_POLICY: &str = r#"{
  "version": 2,
  "name": "desk",
  "rules": [
    {"id": "mainnet", "type": "chain", "chain_ids": [1]},
    {"id": "eth-cap", "type": "notional_limit", "asset": "native:1", "per": "principal",
     "windows": [{"window": "1h", "limit": "2500"}]},
    {"id": "burst", "type": "rate_limit", "per": "principal", "rate": {"count": 1, "per": "1h"}, "burst": 4,
     "cooldown_ms": 1000}
  ]
}"#;

pub fn signed_limits_policy() -> Vec<u8> {
    let mut signed = sentinel_policy::SignedPolicy::new(LIMITS_POLICY.as_bytes()).unwrap();
    signed.sign(&admin()).unwrap();
    signed.to_json().into_bytes()
}
