//! Strict audit on the session path (`--audit-strict-sessions`), over a real
//! socket with both servers: a session answer carrying a signature is not
//! written before the host has acknowledged its audit record as durable, and
//! `audit_wait` hands the host a new record as soon as it is made (no polling).
mod common;

use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use sentinel_client::{Client, Session};
use sentinel_enclave::audit::AuditPolicy;
use sentinel_enclave::transport::Listener;
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_evidence::AttestedKeys;
use sentinel_protocol::*;
use sha2::{Digest, Sha256};

fn strict_enclave(dir: &std::path::Path) -> (Arc<Enclave>, Vec<u8>) {
    let config = EnclaveConfig {
        audit: AuditPolicy { strict_sessions: true, ..AuditPolicy::default() },
        ..EnclaveConfig::default()
    };
    let (enclave, root) = common::simulated_enclave_with(dir, b"strict sessions", "strict", &config);
    common::install_dev_config(&enclave);
    (enclave, root)
}

fn serve_async(enclave: Arc<Enclave>, path: std::path::PathBuf) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = Listener::bind_unix(&path).unwrap();
            sentinel_enclave::server::serve(listener, enclave, std::future::pending()).await.unwrap();
        });
    });
}

fn serve_busy_poll(enclave: Arc<Enclave>, path: std::path::PathBuf) {
    common::serve_busy_poll(enclave, &path);
}

fn connect(path: &std::path::Path) -> UnixStream {
    let started = Instant::now();
    loop {
        match UnixStream::connect(path) {
            Ok(s) => return s,
            Err(_) if started.elapsed() < Duration::from_secs(5) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("connect: {e}"),
        }
    }
}

fn open_session(client: &mut Client<UnixStream>, root: &[u8]) -> Session {
    let evidence = client.evidence().unwrap();
    let keys = AttestedKeys::from_bytes(&attested_keys(&evidence.attestation, root)).unwrap();
    let hash: [u8; 32] = Sha256::digest(&evidence.attestation).into();
    Session::open(client, keys.session, hash, &common::client(), [0x5e; 32]).unwrap()
}

/// The attested key bundle (`public_key`) of the enclave's document.
fn attested_keys(document: &[u8], root: &[u8]) -> Vec<u8> {
    let report = sentinel_attestation::check_attestation(
        document,
        root,
        sentinel_attestation::UnixTime::from_millis(common::now_ms()),
        &Default::default(),
        &Default::default(),
    );
    hex::decode(report.document.unwrap().public_key.unwrap()).unwrap()
}

fn held_until_acknowledged(serve: fn(Arc<Enclave>, std::path::PathBuf)) {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, root) = strict_enclave(dir.path());
    // The host acknowledges everything made so far (configuration, policy, resume).
    let made = enclave.audit_log().sizes().0;
    assert!(matches!(enclave.handle(Request::AuditAck(AuditAckArgs { durable: made })), Response::AuditAcked(_)));
    let path = dir.path().join("enclave.sock");
    serve(enclave.clone(), path.clone());

    let mut client = Client::new(connect(&path));
    let mut session = open_session(&mut client, &root);
    let generate = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Raw,
        label: "strict".into(),
    });

    // The host follows the log with audit_wait: it gets the key's record as soon as it is made.
    let waiter = {
        let enclave = enclave.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let answer = enclave.handle(Request::AuditWait(AuditWaitArgs { from: made, max: 16, timeout_ms: 5000 }));
            (answer, started.elapsed())
        })
    };
    let (tx, rx) = mpsc::channel();
    let caller = std::thread::spawn(move || {
        let answer = session.call(&mut client, &generate, true).unwrap();
        tx.send(Instant::now()).unwrap();
        answer
    });
    let (waited, took) = waiter.join().unwrap();
    let Response::AuditRecords(records) = waited else { panic!("{waited:?}") };
    assert_eq!((records.from, records.records.len()), (made, 1), "the new record, at once");
    assert!(took < Duration::from_secs(4), "audit_wait returned when the record was made ({took:?})");

    // Not acknowledged: the answer (a new key, made) is held.
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "no session answer before its record is durable");
    let acked_at = Instant::now();
    assert!(matches!(enclave.handle(Request::AuditAck(AuditAckArgs { durable: made + 1 })), Response::AuditAcked(_)));
    let answered_at = rx.recv_timeout(Duration::from_secs(5)).expect("released by the acknowledgement");
    assert!(answered_at >= acked_at);
    let (answer, receipt) = caller.join().unwrap();
    assert!(matches!(answer, Response::KeyGenerated(_)), "{answer:?}");
    let claims = sentinel_evidence::decode_receipt_claims_unverified(&receipt.unwrap()).unwrap();
    assert_eq!(claims.audit_seq, Some(made), "the answer's record is the one acknowledged");
}

#[test]
fn the_async_server_holds_a_session_answer_until_its_record_is_durable() {
    held_until_acknowledged(serve_async);
}

#[test]
fn the_busy_poll_server_holds_a_session_answer_until_its_record_is_durable() {
    held_until_acknowledged(serve_busy_poll);
}

#[test]
fn without_strict_sessions_answers_leave_at_once_and_audit_wait_times_out_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, root) = common::simulated_enclave_with(dir.path(), b"lax sessions", "lax", &EnclaveConfig::default());
    common::install_dev_config(&enclave);
    let path = dir.path().join("enclave.sock");
    serve_async(enclave.clone(), path.clone());
    let mut client = Client::new(connect(&path));
    let mut session = open_session(&mut client, &root);
    let list = Operation::ListKeys(ListKeysArgs {});
    let (answer, _) = session.call(&mut client, &list, false).unwrap();
    assert!(matches!(answer, Response::KeyList(_)), "nothing acknowledged, and still answered");

    let size = enclave.audit_log().sizes().0;
    let started = Instant::now();
    let answer = enclave.handle(Request::AuditWait(AuditWaitArgs { from: size, max: 16, timeout_ms: 100 }));
    let Response::AuditRecords(r) = answer else { panic!("{answer:?}") };
    assert!(r.records.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(100));
}
