//! The enclave over a real Unix socket: every operation, pipelining, bad
//! frames, the size cap, a stalled connection, and attestation documents that
//! the verifier accepts against the simulator's development root.
//!
//! Needs the simulator feature set (`required-features` in enclave/Cargo.toml):
//! `cargo test -p sentinel-enclave --no-default-features --features simulator`.
//! The proxy's tests moved with it to `proxy/tests/`; the limits are in `tests/limits.rs`.

use std::sync::Arc;
use std::time::Duration;

use sentinel_attestation::{verify, Expectations, RootKind, UnixTime};
use sentinel_enclave::{serve, Enclave, EnclaveConfig, Listener};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::*;
use sentinel_signer::secp256k1::{self, PublicKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

mod common;
use common::{error_code, now_ms, read_response};

struct Running {
    socket: std::path::PathBuf,
    enclave: Arc<Enclave>,
    root_der: Vec<u8>,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, root_der) = common::simulated_enclave(dir.path(), b"test enclave image", "test-module");
    let socket = dir.path().join("enclave.sock");
    let listener = Listener::bind_unix(&socket).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, enclave.clone(), async {
        let _ = stopped.await;
    }));
    Running { socket, enclave, root_der, stop: Some(stop), _dir: dir }
}

async fn call(stream: &mut UnixStream, id: u64, request: Request) -> Response {
    stream.write_all(&encode_request(&RequestFrame { id, request })).await.unwrap();
    let frame = read_response(stream).await;
    assert_eq!(frame.id, id);
    frame.response
}

#[tokio::test]
async fn every_operation_round_trips() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();

    assert_eq!(
        call(&mut s, 1, Request::Ping(PingArgs { payload: b"hi".to_vec() })).await,
        Response::Pong(Pong { payload: b"hi".to_vec() })
    );
    let Response::Description(Description { protocol_version, module_id, identity_public_key, pcrs }) =
        call(&mut s, 2, Request::Describe(DescribeArgs {})).await
    else {
        panic!("describe")
    };
    assert_eq!((protocol_version, module_id.as_str()), (PROTOCOL_VERSION, "test-module"));
    assert_eq!(identity_public_key, enclave.enclave.identity_public_key());
    assert_eq!(pcrs.len(), 3);
    assert_eq!(pcrs[0].as_slice(), &enclave.enclave.pcrs()[0][..]);

    let Response::KeyGenerated(KeyGenerated { key_id, public_key, .. }) =
        call(&mut s, 3, Request::GenerateKey(GenerateKeyArgs { curve: Curve::Secp256k1 })).await
    else {
        panic!("generate")
    };
    let digest = [0x5au8; 32];
    let Response::Signature(Signature { signature, recovery_id: Some(recid) }) =
        call(&mut s, 4, Request::SignDigest(SignDigestArgs { key_id: key_id.clone(), digest: digest.to_vec() })).await
    else {
        panic!("sign")
    };
    let pk = PublicKey::from_slice(&public_key).unwrap();
    assert!(secp256k1::verify_strict(&pk, &digest, &signature).unwrap());
    assert_eq!(secp256k1::recover_public_key(&digest, &signature, recid).unwrap(), pk);

    let unsigned = hex::decode(
        "02ef01808459682f008506fc23ac0082520894d8da6bf26964af9d7eed9e03e53415d37aa96045872386f26fc1000080c0",
    )
    .unwrap();
    let Response::SignedTransaction(SignedTransaction { raw }) = call(
        &mut s,
        5,
        Request::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: key_id.clone(), unsigned_tx: unsigned }),
    )
    .await
    else {
        panic!("sign tx")
    };
    let (signer, _) = sentinel_eth::recover_transaction_signer(&raw).unwrap();
    assert_eq!(signer, sentinel_eth::address_from_public_key(&pk));

    let Response::KeyGenerated(KeyGenerated { key_id: ed_id, public_key: ed_pk, curve }) =
        call(&mut s, 6, Request::GenerateKey(GenerateKeyArgs { curve: Curve::Ed25519 })).await
    else {
        panic!("generate ed25519")
    };
    assert_eq!(curve, Curve::Ed25519);
    let Response::Signature(Signature { signature, recovery_id: None }) =
        call(&mut s, 7, Request::SignDigest(SignDigestArgs { key_id: ed_id.clone(), digest: digest.to_vec() })).await
    else {
        panic!("sign ed25519")
    };
    assert!(sentinel_signer::ed25519::verify(&ed_pk, &digest, &signature).unwrap());

    // Operation errors carry the core's codes.
    let r =
        call(&mut s, 8, Request::SignDigest(SignDigestArgs { key_id: "k-nope".into(), digest: digest.to_vec() })).await;
    assert_eq!(error_code(&r), "UNKNOWN_KEY");
    let r = call(&mut s, 9, Request::SignDigest(SignDigestArgs { key_id, digest: vec![1; 31] })).await;
    assert_eq!(error_code(&r), "INVALID_DIGEST_LENGTH");
    let r = call(
        &mut s,
        10,
        Request::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: ed_id, unsigned_tx: vec![0xc0] }),
    )
    .await;
    assert_eq!(error_code(&r), "KEY_CURVE_MISMATCH");
    let r = call(&mut s, 11, Request::Attest(AttestArgs { nonce: vec![] })).await;
    assert_eq!(error_code(&r), "INVALID_NONCE");
}

#[tokio::test]
async fn attestation_verifies_against_the_dev_root_and_binds_identity_and_state() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    let nonce = b"fresh-client-nonce-0123456789abc".to_vec();
    let Response::Attestation(Attestation { document }) =
        call(&mut s, 1, Request::Attest(AttestArgs { nonce: nonce.clone() })).await
    else {
        panic!("attest")
    };
    let now = UnixTime::from_millis(now_ms());
    let doc = verify(&document, &enclave.root_der, now).unwrap();
    assert_eq!(doc.root_kind(), RootKind::Other, "a dev root is never the AWS root");
    doc.check(
        &Expectations {
            pcrs: vec![(0, enclave.enclave.pcrs()[0].to_vec())],
            nonce: Some(nonce),
            user_data: Some(enclave.enclave.user_data().to_vec()),
            public_key: Some(enclave.enclave.identity_public_key().to_vec()),
            max_age_ms: Some(60_000),
        },
        now,
    )
    .unwrap();
    // The same document is refused under the AWS root.
    assert!(verify(&document, sentinel_attestation::AWS_NITRO_ROOT_G1_DER, now).is_err());
}

#[tokio::test]
async fn pipelined_requests_all_answered_by_id() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    let Response::KeyGenerated(KeyGenerated { key_id, .. }) =
        call(&mut s, 0, Request::GenerateKey(GenerateKeyArgs { curve: Curve::Secp256k1 })).await
    else {
        panic!()
    };
    let mut burst = Vec::new();
    for id in 1..=300u64 {
        let request = if id % 3 == 0 {
            Request::Ping(PingArgs { payload: id.to_be_bytes().to_vec() })
        } else {
            Request::SignDigest(SignDigestArgs { key_id: key_id.clone(), digest: [id as u8; 32].to_vec() })
        };
        burst.extend(encode_request(&RequestFrame { id, request }));
    }
    s.write_all(&burst).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let frame = read_response(&mut s).await;
        assert!(!matches!(frame.response, Response::Error { .. }), "{frame:?}");
        seen.insert(frame.id);
    }
    assert_eq!(seen, (1..=300).collect());
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_connection_survives() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    // Not CBOR.
    s.write_all(&encode_frame(&[0xff, 0x00, 0x13])).await.unwrap();
    let f = read_response(&mut s).await;
    assert_eq!((f.id, error_code(&f.response)), (0, "MALFORMED_FRAME"));
    // Unknown op: the id is echoed.
    let mut body = Vec::new();
    ciborium::into_writer(
        &ciborium::Value::Map(vec![
            (ciborium::Value::Text("v".into()), ciborium::Value::Integer(1.into())),
            (ciborium::Value::Text("id".into()), ciborium::Value::Integer(77.into())),
            (ciborium::Value::Text("op".into()), ciborium::Value::Text("export_key".into())),
        ]),
        &mut body,
    )
    .unwrap();
    s.write_all(&encode_frame(&body)).await.unwrap();
    let f = read_response(&mut s).await;
    assert_eq!((f.id, error_code(&f.response)), (77, "UNKNOWN_OPERATION"));
    // Empty frame.
    s.write_all(&0u32.to_be_bytes()).await.unwrap();
    let f = read_response(&mut s).await;
    assert_eq!(error_code(&f.response), "EMPTY_FRAME");
    // Still serving.
    assert_eq!(
        call(&mut s, 5, Request::Ping(PingArgs { payload: vec![] })).await,
        Response::Pong(Pong { payload: vec![] })
    );
}

#[tokio::test]
async fn oversize_length_prefix_closes_only_that_connection() {
    let enclave = start().await;
    let mut bad = UnixStream::connect(&enclave.socket).await.unwrap();
    bad.write_all(&((MAX_FRAME_BYTES as u32) + 1).to_be_bytes()).await.unwrap();
    let f = tokio::time::timeout(Duration::from_secs(5), read_response(&mut bad)).await.unwrap();
    assert_eq!((f.id, error_code(&f.response)), (0, "FRAME_TOO_LARGE"));
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), bad.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(n, 0, "then the enclave closes the connection");
    let mut good = UnixStream::connect(&enclave.socket).await.unwrap();
    assert_eq!(
        call(&mut good, 1, Request::Ping(PingArgs { payload: vec![1] })).await,
        Response::Pong(Pong { payload: vec![1] })
    );
}

#[tokio::test]
async fn a_host_that_never_reads_does_not_block_other_connections() {
    let enclave = start().await;
    let mut stalled = UnixStream::connect(&enclave.socket).await.unwrap();
    // ~64 MiB of echo requests that are never read: fills the socket buffers and the response queue.
    let frame = encode_request(&RequestFrame { id: 1, request: Request::Ping(PingArgs { payload: vec![7; 60_000] }) });
    let writer = tokio::spawn(async move {
        for _ in 0..1100 {
            if tokio::time::timeout(Duration::from_millis(200), stalled.write_all(&frame)).await.is_err() {
                break; // the enclave stopped reading us: backpressure reached the client
            }
        }
        stalled
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut other = UnixStream::connect(&enclave.socket).await.unwrap();
    let answered =
        tokio::time::timeout(Duration::from_secs(2), call(&mut other, 9, Request::Ping(PingArgs { payload: vec![] })))
            .await;
    assert_eq!(answered.unwrap(), Response::Pong(Pong { payload: vec![] }));
    drop(writer.await.unwrap());
}

#[test]
fn busy_poll_mode_answers_like_the_async_server() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let nsm = SimulatedNsm::open(dir.path(), sentinel_nsm::pcr::pcrs_from_artifact(b"busy"), Arc::new(now_ms)).unwrap();
    let enclave = Arc::new(Enclave::new(Arc::new(nsm), "busy".into(), &EnclaveConfig::default()).unwrap());
    let path = dir.path().join("busy.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        sentinel_enclave::busy_poll::serve_busy_poll(
            listener.into(),
            enclave,
            Duration::from_millis(5),
            Default::default(),
        )
    });
    let mut s = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let read_frame = |s: &mut std::os::unix::net::UnixStream| {
        let mut header = [0u8; 4];
        s.read_exact(&mut header).unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
        s.read_exact(&mut body).unwrap();
        decode_response(&body).unwrap()
    };
    // Pipelined, and after an idle pause (the thread has fallen back to a blocking read).
    let mut burst = encode_request(&RequestFrame { id: 1, request: Request::Ping(PingArgs { payload: vec![1] }) });
    burst.extend(encode_request(&RequestFrame {
        id: 2,
        request: Request::GenerateKey(GenerateKeyArgs { curve: Curve::Secp256k1 }),
    }));
    s.write_all(&burst).unwrap();
    assert_eq!(read_frame(&mut s).response, Response::Pong(Pong { payload: vec![1] }));
    assert!(matches!(read_frame(&mut s).response, Response::KeyGenerated { .. }));
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&encode_frame(&[0xff])).unwrap();
    let f = read_frame(&mut s);
    assert_eq!((f.id, error_code(&f.response)), (0, "MALFORMED_FRAME"));
    s.write_all(&((MAX_FRAME_BYTES as u32) + 1).to_be_bytes()).unwrap();
    assert_eq!(error_code(&read_frame(&mut s).response), "FRAME_TOO_LARGE");
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap(), 0, "closed after an oversize prefix");
}

#[tokio::test]
async fn identity_signatures_verify_under_the_attested_public_key() {
    let enclave = start().await;
    let spki = enclave.enclave.identity_public_key();
    assert_eq!(spki.len(), 44, "Ed25519 SPKI DER");
    let message = b"answer bound to this enclave";
    let signature = enclave.enclave.sign_as_identity(message);
    assert!(sentinel_signer::ed25519::verify(&spki[12..], message, &signature).unwrap());
    assert!(!sentinel_signer::ed25519::verify(&spki[12..], b"another answer", &signature).unwrap());
}
