//! The enclave over a real Unix socket: every operation (stamped), pipelining,
//! bad frames, the size cap, a stalled connection, attestation documents and
//! receipts that verify against the simulator's development root, the
//! configuration update rules, key purposes, permissions, quotas and imports.
//!
//! Needs the simulator feature set (`required-features` in enclave/Cargo.toml):
//! `cargo test -p sentinel-enclave --no-default-features --features simulator`.
//! The proxy's tests moved with it to `proxy/tests/`; the limits are in `tests/limits.rs`,
//! attacks by the host in `tests/hostile_host.rs`.

use std::sync::Arc;
use std::time::Duration;

use sentinel_attestation::{verify, Expectations, RootKind, UnixTime};
use sentinel_config::{Credential, KeysAllowed, Principal};
use sentinel_enclave::{serve, Enclave, EnclaveConfig, Listener};
use sentinel_evidence::{Decision, ReceiptOptions, UserData};
use sentinel_protocol::*;
use sentinel_signer::secp256k1::{self, PublicKey};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

mod common;
use common::{error_code, import_op, now_ms, read_response, receipted, stamped, stamped_by};

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

/// A serving enclave without a configuration.
async fn start_unconfigured() -> Running {
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

/// A serving enclave with the development configuration installed.
async fn start() -> Running {
    let running = start_unconfigured().await;
    common::install_dev_config(&running.enclave);
    running
}

async fn call(stream: &mut UnixStream, id: u64, request: Request) -> Response {
    stream.write_all(&encode_request(&RequestFrame { id, request })).await.unwrap();
    let frame = read_response(stream).await;
    assert_eq!(frame.id, id);
    frame.response
}

/// A stamped operation by the development principal; returns the inner answer.
async fn op(stream: &mut UnixStream, id: u64, operation: Operation) -> Response {
    receipted(call(stream, id, stamped(&operation)).await).0
}

async fn op_by(stream: &mut UnixStream, id: u64, credential: &Credential, operation: Operation) -> Response {
    receipted(call(stream, id, stamped_by(credential, &operation)).await).0
}

fn generate(curve: Curve, purpose: KeyPurpose, label: &str) -> Operation {
    Operation::GenerateKey(GenerateKeyArgs { curve, purpose, label: label.into() })
}

fn sign_digest(key_id: &str, digest: &[u8]) -> Operation {
    Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: digest.to_vec() })
}

const UNSIGNED_TX: &str =
    "02ef01808459682f008506fc23ac0082520894d8da6bf26964af9d7eed9e03e53415d37aa96045872386f26fc1000080c0";

#[tokio::test]
async fn every_operation_round_trips() {
    let enclave = start_unconfigured().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();

    assert_eq!(
        call(&mut s, 1, Request::Ping(PingArgs { payload: b"hi".to_vec() })).await,
        Response::Pong(Pong { payload: b"hi".to_vec() })
    );
    let Response::Description(Description { protocol_version, module_id, attested_keys, pcrs, sealing }) =
        call(&mut s, 2, Request::Describe(DescribeArgs {})).await
    else {
        panic!("describe")
    };
    assert_eq!((protocol_version, module_id.as_str()), (PROTOCOL_VERSION, "test-module"));
    assert_eq!(sealing, "none");
    assert_eq!(attested_keys, enclave.enclave.attested_keys());
    assert_eq!(pcrs.len(), 3);
    assert_eq!(pcrs[0].as_slice(), &enclave.enclave.pcrs()[0][..]);

    // Nothing that needs a configuration is served before one is installed.
    let r = call(&mut s, 3, stamped(&generate(Curve::Secp256k1, KeyPurpose::Raw, "a"))).await;
    assert_eq!(error_code(&r), "NOT_CONFIGURED");
    assert_eq!(error_code(&call(&mut s, 4, Request::Evidence(EvidenceArgs {})).await), "NOT_CONFIGURED");
    let Response::ConfigUpdated(ConfigUpdated { version: 1, .. }) =
        call(&mut s, 5, common::install_dev_config_request()).await
    else {
        panic!("update_config")
    };
    // Nothing is signed before a policy is installed either.
    let r = call(&mut s, 50, stamped(&generate(Curve::Secp256k1, KeyPurpose::Raw, "early"))).await;
    let Response::Receipted(Receipted { answer, .. }) = &r else { panic!("{r:?}") };
    let Response::KeyGenerated(KeyGenerated { key_id: early, .. }) = answer.as_ref() else { panic!("{answer:?}") };
    let early = early.clone();
    // It booted halted (no durable kill-switch state): the switch answers before the policy stage.
    let r = call(&mut s, 51, stamped(&sign_digest(&early, &[1u8; 32]))).await;
    let Response::Receipted(Receipted { answer, .. }) = &r else { panic!("{r:?}") };
    assert_eq!(error_code(answer), "KILL_SWITCH_HALTED");
    let Response::OversightChallenge(challenge) =
        call(&mut s, 53, Request::OversightChallenge(OversightChallengeArgs {})).await
    else {
        panic!("oversight_challenge")
    };
    let resume = sentinel_client::resume_command(
        sentinel_oversight::Scope::Global,
        sentinel_oversight::Level::Green,
        challenge.challenge.try_into().unwrap(),
        common::now_us(),
        common::fresh_nonce(),
    );
    let request = Request::Oversight(sentinel_client::oversight_request(&resume, &[&common::admin()]));
    let Response::OversightStatus(status) = call(&mut s, 54, request).await else { panic!("resume") };
    assert_eq!(status.global.level, "green");
    let r = call(&mut s, 55, stamped(&sign_digest(&early, &[1u8; 32]))).await;
    let Response::Receipted(Receipted { answer, .. }) = &r else { panic!("{r:?}") };
    assert_eq!(error_code(answer), "POLICY_NOT_INSTALLED");
    let Response::PolicyUpdated(_) = call(&mut s, 52, common::install_dev_policy_request()).await else {
        panic!("update_policy")
    };

    let Response::KeyGenerated(KeyGenerated { key_id, public_key, .. }) =
        op(&mut s, 6, generate(Curve::Secp256k1, KeyPurpose::Raw, "raw")).await
    else {
        panic!("generate")
    };
    let digest = [0x5au8; 32];
    let Response::Signature(Signature { signature, recovery_id: Some(recid) }) =
        op(&mut s, 7, sign_digest(&key_id, &digest)).await
    else {
        panic!("sign")
    };
    let pk = PublicKey::from_slice(&public_key).unwrap();
    assert!(secp256k1::verify_strict(&pk, &digest, &signature).unwrap());
    assert_eq!(secp256k1::recover_public_key(&digest, &signature, recid).unwrap(), pk);

    let Response::KeyGenerated(KeyGenerated { key_id: eth_id, public_key: eth_pk, .. }) =
        op(&mut s, 8, generate(Curve::Secp256k1, KeyPurpose::Ethereum, "eth")).await
    else {
        panic!("generate ethereum")
    };
    let eth_pk = PublicKey::from_slice(&eth_pk).unwrap();
    let unsigned = hex::decode(UNSIGNED_TX).unwrap();
    let tx = Operation::SignEthereumTransaction(SignEthereumTransactionArgs {
        key_id: eth_id.clone(),
        unsigned_tx: unsigned,
    });
    let Response::SignedTransaction(SignedTransaction { raw }) = op(&mut s, 9, tx).await else { panic!("sign tx") };
    let (signer, _) = sentinel_eth::recover_transaction_signer(&raw).unwrap();
    assert_eq!(signer, sentinel_eth::address_from_public_key(&eth_pk));
    let message = b"hello".to_vec();
    let personal = Operation::SignPersonalMessage(SignPersonalMessageArgs { key_id: eth_id.clone(), message });
    let Response::Signature(Signature { signature, recovery_id: Some(v) }) = op(&mut s, 10, personal).await else {
        panic!("personal message")
    };
    let hash = sentinel_eth::hash_personal_message(b"hello");
    assert_eq!(secp256k1::recover_public_key(&hash, &signature, v).unwrap(), eth_pk);

    let Response::KeyGenerated(KeyGenerated { key_id: ed_id, public_key: ed_pk, curve, .. }) =
        op(&mut s, 11, generate(Curve::Ed25519, KeyPurpose::Raw, "ed")).await
    else {
        panic!("generate ed25519")
    };
    assert_eq!(curve, Curve::Ed25519);
    let Response::Signature(Signature { signature, recovery_id: None }) =
        op(&mut s, 12, sign_digest(&ed_id, &digest)).await
    else {
        panic!("sign ed25519")
    };
    assert!(sentinel_signer::ed25519::verify(&ed_pk, &digest, &signature).unwrap());

    let Response::KeyList(KeyList { keys }) = op(&mut s, 13, Operation::ListKeys(ListKeysArgs {})).await else {
        panic!("list")
    };
    assert_eq!(keys.len(), 4); // with the one made before the policy was installed
    assert!(keys.iter().all(|k| k.owner == "dev-client"));

    // Operation errors carry the core's codes.
    assert_eq!(error_code(&op(&mut s, 14, sign_digest("k-nope", &digest)).await), "UNKNOWN_KEY");
    assert_eq!(error_code(&op(&mut s, 15, sign_digest(&key_id, &[1; 31])).await), "INVALID_DIGEST_LENGTH");
    let tx = Operation::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: ed_id, unsigned_tx: vec![0xc0] });
    assert_eq!(error_code(&op(&mut s, 16, tx).await), "KEY_PURPOSE_MISMATCH");
    let r = call(&mut s, 17, Request::Attest(AttestArgs { nonce: vec![] })).await;
    assert_eq!(error_code(&r), "INVALID_NONCE");
    assert_eq!(enclave.enclave.signatures_released(), 4);
}

#[tokio::test]
async fn attestation_verifies_against_the_dev_root_and_binds_keys_and_configuration() {
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
    let config_hash = enclave.enclave.config_hash().unwrap();
    doc.check(
        &Expectations {
            pcrs: vec![(0, enclave.enclave.pcrs()[0].to_vec())],
            nonce: Some(nonce),
            user_data: Some(
                UserData { config_hash, policy_hash: enclave.enclave.policy().map(|(hash, _)| hash) }
                    .to_bytes()
                    .to_vec(),
            ),
            public_key: Some(enclave.enclave.attested_keys().to_vec()),
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
        op(&mut s, 0, generate(Curve::Secp256k1, KeyPurpose::Raw, "burst")).await
    else {
        panic!()
    };
    let mut burst = Vec::new();
    for id in 1..=300u64 {
        let request = if id % 3 == 0 {
            Request::Ping(PingArgs { payload: id.to_be_bytes().to_vec() })
        } else {
            stamped(&sign_digest(&key_id, &[id as u8; 32]))
        };
        burst.extend(encode_request(&RequestFrame { id, request }));
    }
    s.write_all(&burst).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let frame = read_response(&mut s).await;
        match &frame.response {
            Response::Pong(_) => {}
            Response::Receipted(r) => assert!(matches!(*r.answer, Response::Signature(_)), "{frame:?}"),
            other => panic!("{other:?}"),
        }
        seen.insert(frame.id);
    }
    assert_eq!(seen, (1..=300).collect());
    assert_eq!(enclave.enclave.signatures_released(), 200);
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_connection_survives() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    // Not CBOR.
    s.write_all(&encode_frame(&[0xff, 0x00, 0x13])).await.unwrap();
    let f = read_response(&mut s).await;
    assert_eq!((f.id, error_code(&f.response)), (0, "MALFORMED_FRAME"));
    // Unknown op (a key operation outside a body is unknown as a frame op): the id is echoed.
    for (id, name) in [(77u64, "export_key"), (78, "sign_digest")] {
        let mut body = Vec::new();
        ciborium::into_writer(
            &ciborium::Value::Map(vec![
                (ciborium::Value::Text("v".into()), ciborium::Value::Integer(PROTOCOL_VERSION.into())),
                (ciborium::Value::Text("id".into()), ciborium::Value::Integer(id.into())),
                (ciborium::Value::Text("op".into()), ciborium::Value::Text(name.into())),
            ]),
            &mut body,
        )
        .unwrap();
        s.write_all(&encode_frame(&body)).await.unwrap();
        let f = read_response(&mut s).await;
        assert_eq!((f.id, error_code(&f.response)), (id, "UNKNOWN_OPERATION"));
    }
    // A stamped body that is not an operation: refused with a receipt.
    let r = call(&mut s, 79, Request::Stamped(StampedArgs { body: vec![0xa0], stamp: None })).await;
    assert_eq!(error_code(&receipted(r).0), "INVALID_BODY");
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
    let (enclave, _) = common::simulated_enclave_with(dir.path(), b"busy", "busy", &EnclaveConfig::default());
    common::install_dev_config(&enclave);
    let path = dir.path().join("busy.sock");
    common::serve_busy_poll(enclave, &path);
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
        request: stamped(&generate(Curve::Secp256k1, KeyPurpose::Raw, "busy")),
    }));
    s.write_all(&burst).unwrap();
    assert_eq!(read_frame(&mut s).response, Response::Pong(Pong { payload: vec![1] }));
    assert!(matches!(receipted(read_frame(&mut s).response).0, Response::KeyGenerated { .. }));
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&encode_frame(&[0xff])).unwrap();
    let f = read_frame(&mut s);
    assert_eq!((f.id, error_code(&f.response)), (0, "MALFORMED_FRAME"));
    s.write_all(&((MAX_FRAME_BYTES as u32) + 1).to_be_bytes()).unwrap();
    assert_eq!(error_code(&read_frame(&mut s).response), "FRAME_TOO_LARGE");
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap(), 0, "closed after an oversize prefix");
}

fn receipt_options(root_der: &[u8], config_hash: [u8; 32]) -> ReceiptOptions<'_> {
    ReceiptOptions {
        root_der,
        expected_pcr0: None,
        expected_config_hash: Some(config_hash),
        expected_policy_hash: None,
        now: UnixTime::from_millis(now_ms()),
        allow_debug: false,
    }
}

#[tokio::test]
async fn stamped_receipts_verify_against_the_attestation_document_and_the_dev_root() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    let Response::Evidence(evidence) = call(&mut s, 1, Request::Evidence(EvidenceArgs {})).await else {
        panic!("evidence")
    };
    let config_hash: [u8; 32] = evidence.config_hash.clone().try_into().unwrap();
    assert_eq!(config_hash, enclave.enclave.config_hash().unwrap());
    assert_eq!(config_hash, sentinel_config::config_hash(&common::dev_config().encode()));

    let generate = stamped(&generate(Curve::Secp256k1, KeyPurpose::Raw, "receipts"));
    let Request::Stamped(StampedArgs { body: generate_body, .. }) = &generate else { unreachable!() };
    let generate_body = generate_body.clone();
    let (answer, receipt) = receipted(call(&mut s, 2, generate).await);
    let Response::KeyGenerated(KeyGenerated { key_id, public_key, .. }) = answer else { panic!("generate") };
    let options = receipt_options(&enclave.root_der, config_hash);
    let verified = sentinel_evidence::verify_receipt(&receipt, &evidence.attestation, &options).unwrap();
    assert_eq!(verified.root_kind(), RootKind::Other, "the development root");
    assert_eq!(verified.attested_keys().to_bytes()[..], enclave.enclave.attested_keys()[..]);
    let c = verified.claims();
    assert_eq!((c.op.as_str(), c.principal.as_str(), c.decision), ("generate_key", "dev-client", Decision::Allowed));
    assert_eq!(c.config_hash, config_hash);
    assert_eq!(c.attestation_hash[..], evidence.attestation_hash[..]);
    assert_eq!(c.attestation_hash, <[u8; 32]>::from(Sha256::digest(&evidence.attestation)));
    assert_eq!(c.payload_hash, <[u8; 32]>::from(Sha256::digest(&generate_body)));
    assert_eq!(c.result_hash, Some(Sha256::digest(&public_key).into()));
    assert_eq!(c.key_id.as_deref(), Some(key_id.as_str()));

    let sign = stamped(&sign_digest(&key_id, &[3; 32]));
    let Request::Stamped(StampedArgs { body: sign_body, .. }) = &sign else { unreachable!() };
    let sign_body = sign_body.clone();
    let (answer, receipt) = receipted(call(&mut s, 3, sign).await);
    let Response::Signature(Signature { signature, recovery_id: Some(v) }) = answer else { panic!("sign") };
    let c = sentinel_evidence::verify_receipt(&receipt, &evidence.attestation, &options).unwrap().into_claims();
    assert_eq!(c.payload_hash, <[u8; 32]>::from(Sha256::digest(&sign_body)));
    let mut result = signature.clone();
    result.push(v);
    assert_eq!(c.result_hash, Some(Sha256::digest(&result).into()));

    // list_keys: the receipt binds the whole list (`sentinel_protocol::result_hash`), as docs/receipts.md
    // spells it out: u64be(count), then each key's fields, each u64be(length) || bytes.
    let (answer, receipt) = receipted(call(&mut s, 30, stamped(&Operation::ListKeys(ListKeysArgs {}))).await);
    let Response::KeyList(list) = &answer else { panic!("list_keys: {answer:?}") };
    assert!(list.keys.iter().any(|k| k.key_id == key_id && k.public_key == public_key));
    let c = sentinel_evidence::verify_receipt(&receipt, &evidence.attestation, &options).unwrap().into_claims();
    assert_eq!((c.op.as_str(), c.decision, c.key_id.as_deref()), ("list_keys", Decision::Allowed, None));
    assert_eq!(c.result_hash, result_hash(&answer));
    let mut preimage = (list.keys.len() as u64).to_be_bytes().to_vec();
    for k in &list.keys {
        let fields =
            [k.key_id.as_bytes(), k.curve.as_str().as_bytes(), k.purpose.as_str().as_bytes(), k.label.as_bytes()];
        for field in fields.into_iter().chain([k.owner.as_bytes(), &k.public_key[..]]) {
            preimage.extend_from_slice(&(field.len() as u64).to_be_bytes());
            preimage.extend_from_slice(field);
        }
    }
    assert_eq!(c.result_hash, Some(Sha256::digest(&preimage).into()));

    // Refusals carry receipts too, with the code and no result.
    let (answer, receipt) = receipted(call(&mut s, 4, stamped(&sign_digest("k-nope", &[3; 32]))).await);
    assert_eq!(error_code(&answer), "UNKNOWN_KEY");
    let c = sentinel_evidence::verify_receipt(&receipt, &evidence.attestation, &options).unwrap().into_claims();
    assert_eq!((c.decision, c.code.as_deref(), c.result_hash), (Decision::Denied, Some("UNKNOWN_KEY"), None));

    // A receipt does not verify against another document, nor under another configuration hash.
    let Response::Attestation(Attestation { document }) =
        call(&mut s, 5, Request::Attest(AttestArgs { nonce: vec![1; 16] })).await
    else {
        panic!("attest")
    };
    assert!(sentinel_evidence::verify_receipt(&receipt, &document, &options).is_err());
    let wrong = receipt_options(&enclave.root_der, [0; 32]);
    assert!(sentinel_evidence::verify_receipt(&receipt, &evidence.attestation, &wrong).is_err());
}

fn sign_ed25519(key_id: &str, message: &[u8]) -> Operation {
    Operation::SignEd25519(SignEd25519Args { key_id: key_id.into(), message: message.to_vec() })
}

#[tokio::test]
async fn sign_ed25519_signs_messages_with_ed25519_raw_keys_only() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    let Response::Evidence(evidence) = call(&mut s, 1, Request::Evidence(EvidenceArgs {})).await else {
        panic!("evidence")
    };
    let options = receipt_options(&enclave.root_der, evidence.config_hash.clone().try_into().unwrap());
    let Response::KeyGenerated(KeyGenerated { key_id: ed, public_key: ed_pk, .. }) =
        op(&mut s, 2, generate(Curve::Ed25519, KeyPurpose::Raw, "ed")).await
    else {
        panic!("generate ed25519")
    };

    // Success: the message itself is signed (pure Ed25519), from 1 byte to MAX_ED25519_MESSAGE_BYTES,
    // and the receipt's result_hash is SHA-256 of the signature.
    for (id, message) in
        [(3, b"hello, enclave".to_vec()), (4, vec![0x42]), (5, vec![7; limits::MAX_ED25519_MESSAGE_BYTES])]
    {
        let request = stamped(&sign_ed25519(&ed, &message));
        let Request::Stamped(StampedArgs { body, .. }) = &request else { unreachable!() };
        let body = body.clone();
        let (answer, receipt) = receipted(call(&mut s, id, request).await);
        let Response::Signature(Signature { signature, recovery_id: None }) = answer else {
            panic!("sign_ed25519: {answer:?}")
        };
        assert_eq!(signature.len(), 64);
        assert!(sentinel_signer::ed25519::verify(&ed_pk, &message, &signature).unwrap());
        let c = sentinel_evidence::verify_receipt(&receipt, &evidence.attestation, &options).unwrap().into_claims();
        assert_eq!((c.op.as_str(), c.decision), ("sign_ed25519", Decision::Allowed));
        assert_eq!(c.payload_hash, <[u8; 32]>::from(Sha256::digest(&body)));
        assert_eq!(c.result_hash, Some(Sha256::digest(&signature).into()));
        assert_eq!(c.key_id.as_deref(), Some(ed.as_str()));
    }

    // Curve: a secp256k1 raw key. Purpose: an ethereum key (always secp256k1; the purpose is checked first).
    let Response::KeyGenerated(KeyGenerated { key_id: secp_raw, .. }) =
        op(&mut s, 6, generate(Curve::Secp256k1, KeyPurpose::Raw, "secp-raw")).await
    else {
        panic!()
    };
    let Response::KeyGenerated(KeyGenerated { key_id: eth, .. }) =
        op(&mut s, 7, generate(Curve::Secp256k1, KeyPurpose::Ethereum, "eth")).await
    else {
        panic!()
    };
    let (answer, receipt) = receipted(call(&mut s, 8, stamped(&sign_ed25519(&secp_raw, b"m"))).await);
    assert_eq!(error_code(&answer), "KEY_CURVE_MISMATCH");
    let c = sentinel_evidence::verify_receipt(&receipt, &evidence.attestation, &options).unwrap().into_claims();
    assert_eq!((c.decision, c.code.as_deref(), c.result_hash), (Decision::Denied, Some("KEY_CURVE_MISMATCH"), None));
    assert_eq!(error_code(&op(&mut s, 9, sign_ed25519(&eth, b"m")).await), "KEY_PURPOSE_MISMATCH");

    // Size: an empty message and one byte over the limit, each naming the field.
    for (id, message, code) in
        [(10, vec![], "INVALID_BODY"), (11, vec![1; limits::MAX_ED25519_MESSAGE_BYTES + 1], "PAYLOAD_TOO_LARGE")]
    {
        let Response::Error(e) = op(&mut s, id, sign_ed25519(&ed, &message)).await else { panic!("accepted") };
        assert_eq!(e.code, code);
        assert!(e.message.starts_with("message:"), "{}", e.message);
    }
    assert_eq!(error_code(&op(&mut s, 12, sign_ed25519("k-nope", b"m")).await), "UNKNOWN_KEY");

    // Permission: a principal without `sign_ed25519` in its operations.
    let signer = common::other_client("signer");
    let signed =
        with_principals(vec![principal(&signer, &[sentinel_config::Operation::SignDigest], KeysAllowed::All, 0)]);
    let Response::ConfigUpdated(_) =
        call(&mut s, 13, Request::UpdateConfig(UpdateConfigArgs { signed_config: signed })).await
    else {
        panic!("update")
    };
    let r = op_by(&mut s, 14, &signer, sign_ed25519(&ed, b"m")).await;
    assert_eq!(error_code(&r), "OPERATION_NOT_PERMITTED");
    assert_eq!(enclave.enclave.signatures_released(), 3);
}

#[tokio::test]
async fn update_config_refuses_rollback_and_missing_quorum_and_accepts_a_higher_version() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    let old_hash = enclave.enclave.config_hash().unwrap();
    let update = |signed: Vec<u8>| Request::UpdateConfig(UpdateConfigArgs { signed_config: signed });

    // The same version again: a rollback.
    let r = call(&mut s, 1, update(common::dev_signed_config())).await;
    assert_eq!(error_code(&r), "CONFIG_ROLLBACK");
    // A higher version signed by someone who is not a current admin.
    let mut v2 = common::dev_config();
    v2.version = 2;
    v2.stamp_window_ms = 10_000;
    let stranger = Credential::generate(
        sentinel_config::CredentialKind::Admin,
        "dev-admin",
        sentinel_config::Alg::Ed25519,
        &[9; 32],
    )
    .unwrap();
    let r = call(&mut s, 2, update(common::sign_config(&v2, &[&stranger]))).await;
    assert_eq!(error_code(&r), "CONFIG_QUORUM_NOT_MET");
    // Unsigned.
    let r = call(&mut s, 3, update(common::sign_config(&v2, &[]))).await;
    assert_eq!(error_code(&r), "CONFIG_QUORUM_NOT_MET");
    assert_eq!(enclave.enclave.config_hash(), Some(old_hash));

    // Signed by the admin: accepted.
    let Response::ConfigUpdated(ConfigUpdated { config_hash, version, attestation_hash }) =
        call(&mut s, 4, update(common::sign_config(&v2, &[&common::admin()]))).await
    else {
        panic!("update")
    };
    assert_eq!(version, 2);
    assert_eq!(config_hash, v2.config_hash().to_vec());
    assert_ne!(config_hash, old_hash.to_vec());
    let Response::Evidence(evidence) = call(&mut s, 5, Request::Evidence(EvidenceArgs {})).await else {
        panic!("evidence")
    };
    assert_eq!((evidence.config_hash.clone(), evidence.config_version), (config_hash.clone(), 2));
    assert_eq!(evidence.attestation_hash, attestation_hash);
    let new_hash: [u8; 32] = config_hash.try_into().unwrap();
    let (_, receipt) = receipted(call(&mut s, 6, stamped(&generate(Curve::Ed25519, KeyPurpose::Raw, "v2"))).await);
    let claims = sentinel_evidence::verify_receipt(
        &receipt,
        &evidence.attestation,
        &receipt_options(&enclave.root_der, new_hash),
    )
    .unwrap()
    .into_claims();
    assert_eq!(claims.config_hash, new_hash);
    // And version 1 cannot come back.
    let r = call(&mut s, 7, update(common::dev_signed_config())).await;
    assert_eq!(error_code(&r), "CONFIG_ROLLBACK");
}

/// Version 2 of the development configuration with more principals.
fn with_principals(extra: Vec<Principal>) -> Vec<u8> {
    let mut config = common::dev_config();
    config.version = 2;
    config.principals.extend(extra);
    common::sign_config(&config, &[&common::admin()])
}

fn principal(
    credential: &Credential,
    ops: &[sentinel_config::Operation],
    keys_allowed: KeysAllowed,
    max_keys: u64,
) -> Principal {
    Principal {
        id: credential.id().to_string(),
        keys: vec![credential.public_key()],
        operations: ops.to_vec(),
        keys_allowed,
        max_keys,
    }
}

#[tokio::test]
async fn purposes_permissions_and_quotas_are_enforced() {
    use sentinel_config::Operation as Op;
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    let signer = common::other_client("signer");
    let quota = Credential::generate(
        sentinel_config::CredentialKind::Client,
        "quota",
        sentinel_config::Alg::Ed25519,
        &[0xc3; 32],
    )
    .unwrap();
    let signed = with_principals(vec![
        principal(&signer, &[Op::SignDigest, Op::ListKeys], KeysAllowed::Own, 0),
        principal(&quota, &[Op::GenerateKey], KeysAllowed::Own, 1),
    ]);
    let Response::ConfigUpdated(_) =
        call(&mut s, 1, Request::UpdateConfig(UpdateConfigArgs { signed_config: signed })).await
    else {
        panic!("update")
    };

    // Purposes: a raw digest with an ethereum key, a transaction with a raw key, an ed25519 ethereum key.
    let Response::KeyGenerated(KeyGenerated { key_id: eth, .. }) =
        op(&mut s, 2, generate(Curve::Secp256k1, KeyPurpose::Ethereum, "eth")).await
    else {
        panic!()
    };
    let Response::KeyGenerated(KeyGenerated { key_id: raw, .. }) =
        op(&mut s, 3, generate(Curve::Secp256k1, KeyPurpose::Raw, "raw")).await
    else {
        panic!()
    };
    assert_eq!(error_code(&op(&mut s, 4, sign_digest(&eth, &[1; 32])).await), "KEY_PURPOSE_MISMATCH");
    let tx = Operation::SignEthereumTransaction(SignEthereumTransactionArgs {
        key_id: raw.clone(),
        unsigned_tx: hex::decode(UNSIGNED_TX).unwrap(),
    });
    assert_eq!(error_code(&op(&mut s, 5, tx).await), "KEY_PURPOSE_MISMATCH");
    let typed = Operation::SignTypedData(SignTypedDataArgs { key_id: raw.clone(), typed_data: "{}".into() });
    assert_eq!(error_code(&op(&mut s, 6, typed).await), "KEY_PURPOSE_MISMATCH");
    assert_eq!(
        error_code(&op(&mut s, 7, generate(Curve::Ed25519, KeyPurpose::Ethereum, "ed-eth")).await),
        "KEY_PURPOSE_MISMATCH"
    );

    // Permissions: `signer` may not generate, and under "own" may not use dev-client's key.
    let r = op_by(&mut s, 8, &signer, generate(Curve::Secp256k1, KeyPurpose::Raw, "mine")).await;
    assert_eq!(error_code(&r), "OPERATION_NOT_PERMITTED");
    let tx =
        Operation::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: eth.clone(), unsigned_tx: vec![] });
    assert_eq!(error_code(&op_by(&mut s, 9, &signer, tx).await), "OPERATION_NOT_PERMITTED");
    assert_eq!(error_code(&op_by(&mut s, 10, &signer, sign_digest(&raw, &[1; 32])).await), "KEY_NOT_PERMITTED");
    let Response::KeyList(KeyList { keys }) = op_by(&mut s, 11, &signer, Operation::ListKeys(ListKeysArgs {})).await
    else {
        panic!()
    };
    assert!(keys.is_empty(), "another principal's keys are not listed under \"own\"");

    // Quota: one key, then KEY_QUOTA_EXCEEDED.
    let r = op_by(&mut s, 12, &quota, generate(Curve::Ed25519, KeyPurpose::Raw, "q1")).await;
    assert!(matches!(r, Response::KeyGenerated(_)), "{r:?}");
    let r = op_by(&mut s, 13, &quota, generate(Curve::Ed25519, KeyPurpose::Raw, "q2")).await;
    assert_eq!(error_code(&r), "KEY_QUOTA_EXCEEDED");
    assert_eq!(enclave.enclave.signatures_released(), 0, "no refusal released a signature");
}

#[tokio::test]
async fn an_hpke_import_signs_and_one_sealed_for_another_principal_or_label_does_not_open() {
    let enclave = start().await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    let Response::Evidence(evidence) = call(&mut s, 1, Request::Evidence(EvidenceArgs {})).await else { panic!() };
    let keys = sentinel_client::verify_evidence(
        &evidence,
        &enclave.root_der,
        Some(enclave.enclave.pcrs()[0][..].try_into().unwrap()),
        None,
        None,
        UnixTime::from_millis(now_ms()),
    )
    .unwrap()
    .keys;
    let secret = [0x46u8; 32];
    let expected = secp256k1::SecretKey::from_slice(&secret).unwrap().public_key().to_compressed().to_vec();

    // Sealed for another principal, or another label: the enclave cannot open it.
    let r = op(&mut s, 2, import_op(&keys.import, "someone-else", "imported", "imported", &secret)).await;
    assert_eq!(error_code(&r), "IMPORT_DECRYPTION_FAILED");
    let r = op(&mut s, 3, import_op(&keys.import, "dev-client", "imported", "other-label", &secret)).await;
    assert_eq!(error_code(&r), "IMPORT_DECRYPTION_FAILED");

    let Response::KeyGenerated(KeyGenerated { key_id, public_key, label, .. }) =
        op(&mut s, 4, import_op(&keys.import, "dev-client", "imported", "imported", &secret)).await
    else {
        panic!("import")
    };
    assert_eq!((public_key.clone(), label.as_str()), (expected, "imported"));
    let Response::Signature(Signature { signature, .. }) = op(&mut s, 5, sign_digest(&key_id, &[8; 32])).await else {
        panic!("sign with the imported key")
    };
    let pk = PublicKey::from_slice(&public_key).unwrap();
    assert!(secp256k1::verify_strict(&pk, &[8; 32], &signature).unwrap());
}

#[test]
fn evidence_refresh_keeps_receipts_verifiable_and_recent_handshakes_working() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, root_der) = common::simulated_enclave(dir.path(), b"image", "test-module");
    common::install_dev_config(&enclave);
    let evidence = |enclave: &Enclave| match enclave.handle(Request::Evidence(EvidenceArgs {})) {
        Response::Evidence(e) => e,
        other => panic!("evidence: {other:?}"),
    };
    let first = evidence(&enclave);
    let refreshed = enclave.refresh_evidence().unwrap().expect("configured");
    let second = evidence(&enclave);
    assert_eq!(second.attestation_hash, refreshed.to_vec());
    assert_ne!(second.attestation_hash, first.attestation_hash);
    assert_eq!((second.config_hash.clone(), second.config_version), (first.config_hash.clone(), first.config_version));

    // Receipts name the new document and verify against it (at the current time).
    let (answer, receipt) = receipted(enclave.handle(stamped(&Operation::ListKeys(ListKeysArgs {}))));
    assert!(matches!(answer, Response::KeyList(_)), "{answer:?}");
    let config_hash: [u8; 32] = second.config_hash.as_slice().try_into().unwrap();
    let verified =
        sentinel_evidence::verify_receipt(&receipt, &second.attestation, &receipt_options(&root_der, config_hash))
            .unwrap();
    assert_eq!(verified.claims().attestation_hash.to_vec(), second.attestation_hash);

    // A client that verified the document just before the refresh still completes its
    // handshake; one that holds a document two refreshes old does not.
    let keys = sentinel_evidence::AttestedKeys::from_bytes(enclave.attested_keys()).unwrap();
    let open = |hash: &[u8]| {
        let (_client, m1) = sentinel_session::Initiator::new(&keys.session, hash.try_into().unwrap(), [7; 32]).unwrap();
        enclave.handle_on(
            &mut sentinel_enclave::sessions::ConnectionSessions::default(),
            Request::SessionOpen(SessionOpenArgs { handshake: m1 }),
        )
    };
    assert!(matches!(open(&first.attestation_hash), Response::SessionOpened(_)));
    enclave.refresh_evidence().unwrap();
    assert_eq!(error_code(&open(&first.attestation_hash)), "SESSION_HANDSHAKE_FAILED");
    assert!(matches!(open(&second.attestation_hash), Response::SessionOpened(_)));
}

/// One in-process session (no socket): the client half and the connection's session table.
struct InProcessSession {
    sessions: sentinel_enclave::sessions::ConnectionSessions,
    client: sentinel_session::ClientSession,
    id: Vec<u8>,
}

impl InProcessSession {
    fn open(enclave: &Enclave, credential: &Credential) -> Self {
        let Response::Evidence(evidence) = enclave.handle(Request::Evidence(EvidenceArgs {})) else {
            panic!("evidence")
        };
        let keys = sentinel_evidence::AttestedKeys::from_bytes(enclave.attested_keys()).unwrap();
        let hash: [u8; 32] = evidence.attestation_hash.as_slice().try_into().unwrap();
        let (initiator, m1) = sentinel_session::Initiator::new(&keys.session, &hash, [9; 32]).unwrap();
        let mut sessions = sentinel_enclave::sessions::ConnectionSessions::default();
        let Response::SessionOpened(opened) =
            enclave.handle_on(&mut sessions, Request::SessionOpen(SessionOpenArgs { handshake: m1 }))
        else {
            panic!("session_open")
        };
        let handshake = initiator.finish(&opened.handshake).unwrap();
        let signature = credential.sign(&handshake.auth_digest());
        let (client, auth) = handshake.authenticate(credential.id(), &signature).unwrap();
        let mut s = InProcessSession { sessions, client, id: opened.session_id };
        assert!(matches!(s.exchange(enclave, auth), Ok(Response::Authenticated(_))));
        s
    }

    /// Sends one sealed frame; the answer inside the session, or the refusal outside it.
    fn exchange(&mut self, enclave: &Enclave, frame: Vec<u8>) -> Result<Response, Response> {
        let args = SessionFrameArgs { session_id: self.id.clone(), frame };
        match enclave.handle_on(&mut self.sessions, Request::SessionFrame(args)) {
            Response::SessionFrame(answer) => {
                let mut plain = Vec::new();
                self.client.open(&answer.frame, &mut plain).unwrap();
                Ok(decode_session_answer(&plain).unwrap().answer)
            }
            refusal => Err(refusal),
        }
    }

    fn call(&mut self, enclave: &Enclave, operation: &Operation) -> Result<Response, Response> {
        let request = SessionRequest { id: 1, receipt: false, body: encode_body(operation) };
        let mut sealed = Vec::new();
        self.client.seal(&encode_cbor(&request), &mut sealed).unwrap();
        self.exchange(enclave, sealed)
    }
}

#[test]
fn a_configuration_update_reaches_open_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, _) = common::simulated_enclave(dir.path(), b"image", "test-module");
    common::install_dev_config(&enclave);
    let list = Operation::ListKeys(ListKeysArgs {});
    let mut session = InProcessSession::open(&enclave, &common::client());
    assert!(matches!(session.call(&enclave, &list), Ok(Response::KeyList(_))));

    // Version 2 keeps dev-client but takes `list_keys` away: the open session follows.
    let mut v2 = common::dev_config();
    v2.version = 2;
    v2.principals[0].operations.retain(|op| op.as_str() != "list_keys");
    let updated = enclave.handle(Request::UpdateConfig(UpdateConfigArgs {
        signed_config: common::sign_config(&v2, &[&common::admin()]),
    }));
    assert!(matches!(updated, Response::ConfigUpdated(_)), "{updated:?}");
    let refused = session.call(&enclave, &list).unwrap();
    assert_eq!(error_code(&refused), "OPERATION_NOT_PERMITTED");

    // Version 3 removes dev-client: its session ends.
    let mut v3 = v2.clone();
    v3.version = 3;
    let other = common::other_client("desk-2");
    v3.principals[0].id = "desk-2".into();
    v3.principals[0].keys = vec![other.public_key()];
    let updated = enclave.handle(Request::UpdateConfig(UpdateConfigArgs {
        signed_config: common::sign_config(&v3, &[&common::admin()]),
    }));
    assert!(matches!(updated, Response::ConfigUpdated(_)), "{updated:?}");
    let refusal = session.call(&enclave, &list).unwrap_err();
    assert_eq!(error_code(&refusal), "SESSION_AUTH_FAILED");
    let gone = session.call(&enclave, &list).unwrap_err();
    assert_eq!(error_code(&gone), "UNKNOWN_SESSION");
}
