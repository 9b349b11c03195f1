use std::io::Cursor;
use std::sync::Arc;

use sentinel_config::{development_signed_configuration, Alg, CredentialKind, StampVerifier};
use sentinel_error::CodedError;
use sentinel_nsm::{AttestationRequest, NsmProvider};
use sentinel_protocol::{encode_response, GenerateKeyArgs, Pong, ResponseFrame, SignDigestArgs};

use super::*;

/// A stream whose reads come from a script and whose writes are kept.
struct Scripted {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn scripted(answers: &[(u64, Response)]) -> Client<Scripted> {
    let mut input = Vec::new();
    for (id, response) in answers {
        input.extend(encode_response(&ResponseFrame { id: *id, response: response.clone() }));
    }
    Client::new(Scripted { input: Cursor::new(input), output: Vec::new() })
}

fn credentials() -> (Credential, Credential) {
    let admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[1; 32]).unwrap();
    let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[2; 32]).unwrap();
    (admin, client)
}

fn pong(payload: &[u8]) -> Response {
    Response::Pong(Pong { payload: payload.to_vec() })
}

#[test]
fn ids_increase_and_a_foreign_id_is_refused() {
    let mut client = scripted(&[(1, pong(b"a")), (2, pong(b"b")), (7, pong(b"c"))]);
    let ping = |p: &[u8]| Request::Ping(sentinel_protocol::PingArgs { payload: p.to_vec() });
    assert_eq!(client.call(ping(b"a")).unwrap(), pong(b"a"));
    assert_eq!(client.call(ping(b"b")).unwrap(), pong(b"b"));
    let e = client.call(ping(b"c")).unwrap_err();
    assert!(matches!(e, ClientError::IdMismatch { expected: 3, found: 7 }), "{e:?}");
    assert_eq!(e.code(), "CLIENT_ID_MISMATCH");
    assert_eq!(client.call(ping(b"d")).unwrap_err().code(), "CLIENT_CONNECTION_CLOSED");
    // What went out: four request frames with ids 1..=4.
    let mut decoder = FrameDecoder::new();
    decoder.push(&client.stream_mut().output);
    let mut ids = Vec::new();
    while let Some(body) = decoder.next_frame().unwrap() {
        ids.push(sentinel_protocol::decode_request(&body).unwrap().id);
    }
    assert_eq!(ids, vec![1, 2, 3, 4]);
}

#[test]
fn stamps_sign_exactly_the_body_and_verify_under_the_configuration() {
    let (admin, client) = credentials();
    let config = development_signed_configuration(&admin, &client).unwrap().configuration().unwrap();
    let op = Operation::SignDigest(SignDigestArgs { key_id: "k-1".into(), digest: vec![7; 32] });
    let now = 1_700_000_000_000_000;
    let args = stamped_request(&client, &op, now, [9; 16]);
    assert_eq!(sentinel_protocol::decode_body(&args.body).unwrap(), op);
    let stamp = args.stamp.clone().unwrap();
    let stamp = sentinel_config::Stamp {
        principal: stamp.principal,
        timestamp_us: stamp.timestamp_us,
        nonce: stamp.nonce,
        signature: stamp.signature,
    };
    let mut verifier = StampVerifier::new(16);
    assert_eq!(verifier.verify(&config, "sign_digest", &args.body, &stamp, now).unwrap().id, "dev-client");
    // Another body, or another op name, does not verify with this stamp.
    let mut other = args.body.clone();
    *other.last_mut().unwrap() ^= 1;
    let mut fresh = StampVerifier::new(16);
    assert!(fresh.verify(&config, "sign_digest", &other, &stamp, now).is_err());
    assert!(fresh.verify(&config, "sign_typed_data", &args.body, &stamp, now).is_err());
}

#[test]
fn stamped_returns_the_inner_answer_and_outer_errors_are_refusals() {
    let (_, client_cred) = credentials();
    let op = Operation::GenerateKey(GenerateKeyArgs {
        curve: sentinel_protocol::Curve::Ed25519,
        purpose: sentinel_protocol::KeyPurpose::Raw,
        label: "x".into(),
    });
    let inner = Response::Error(ErrorAnswer { code: "KEY_QUOTA_EXCEEDED".into(), message: "m".into() });
    let receipted = Response::Receipted(sentinel_protocol::Receipted {
        answer: Box::new(inner.clone()),
        receipt: vec![1, 2],
        audit: None,
        sealed: None,
    });
    let outer = Response::Error(ErrorAnswer { code: "NOT_CONFIGURED".into(), message: "m".into() });
    let mut client = scripted(&[(1, receipted), (2, outer)]);
    assert_eq!(client.stamped(&client_cred, &op, 1, [1; 16]).unwrap(), (inner, vec![1, 2]));
    let e = client.stamped(&client_cred, &op, 1, [2; 16]).unwrap_err();
    assert_eq!((e.refusal_code(), e.code()), (Some("NOT_CONFIGURED"), "NOT_CONFIGURED"));
}

#[test]
fn evidence_is_believed_only_when_it_verifies_and_agrees_with_itself() {
    let dir = tempfile::tempdir().unwrap();
    let pcrs = sentinel_nsm::pcr::pcrs_from_artifact(b"client test image");
    let nsm = sentinel_nsm::simulator::SimulatedNsm::open(dir.path(), pcrs, Arc::new(|| 1_800_000_000_000)).unwrap();
    let (admin, client) = credentials();
    let signed = development_signed_configuration(&admin, &client).unwrap();
    let config_hash = signed.config_hash();
    let keys = AttestedKeys { receipt: [3; 32], session: [4; 32], import: [5; 32], audit: [6; 32] };
    let policy_hash = [7u8; 32];
    let user_data = |policy_hash| sentinel_evidence::UserData { config_hash, policy_hash }.to_bytes().to_vec();
    let document = |user_data: Vec<u8>| {
        nsm.attestation(&AttestationRequest {
            user_data: Some(user_data),
            nonce: None,
            public_key: Some(keys.to_bytes().to_vec()),
        })
        .unwrap()
    };
    let attestation = document(user_data(Some(policy_hash)));
    let evidence = Evidence {
        attestation_hash: Sha256::digest(&attestation).to_vec(),
        attestation,
        signed_config: signed.encode(),
        config_hash: config_hash.to_vec(),
        config_version: 1,
        signed_policy: Some(b"{}".to_vec()),
        policy_hash: Some(policy_hash.to_vec()),
        policy_version: Some(1),
    };
    let root = nsm.root_der().to_vec();
    let now = UnixTime::from_millis(1_800_000_000_000);
    let pcr0: [u8; 48] = pcrs[0][..].try_into().unwrap();
    let verified = verify_evidence(&evidence, &root, Some(pcr0), Some(config_hash), Some(policy_hash), now).unwrap();
    assert_eq!((verified.keys, verified.config_hash, verified.policy_hash), (keys, config_hash, Some(policy_hash)));
    assert_eq!(verified.attestation_hash[..], evidence.attestation_hash[..]);

    assert!(verify_evidence(&evidence, &root, Some([0; 48]), None, None, now).is_err());
    assert!(verify_evidence(&evidence, &root, None, Some([0; 32]), None, now).is_err());
    let other_policy = verify_evidence(&evidence, &root, None, None, Some([8; 32]), now).unwrap_err();
    assert_eq!(other_policy.code(), "RECEIPT_POLICY_MISMATCH");
    let mut wrong_hash = evidence.clone();
    wrong_hash.attestation_hash[0] ^= 1;
    assert_eq!(
        verify_evidence(&wrong_hash, &root, None, None, None, now).unwrap_err().code(),
        "CLIENT_EVIDENCE_MISMATCH"
    );
    // The evidence states another policy than the document binds, or none.
    for stated in [Some(vec![8; 32]), None] {
        let wrong_policy = Evidence { policy_hash: stated, ..evidence.clone() };
        let e = verify_evidence(&wrong_policy, &root, None, None, None, now).unwrap_err();
        assert_eq!(e.code(), "CLIENT_EVIDENCE_MISMATCH");
    }
    // A document binding no policy (zeros): evidence stating none verifies, and a pinned policy is refused.
    let attestation = document(user_data(None));
    let no_policy = Evidence {
        attestation_hash: Sha256::digest(&attestation).to_vec(),
        attestation,
        signed_policy: None,
        policy_hash: None,
        policy_version: None,
        ..evidence.clone()
    };
    assert_eq!(verify_evidence(&no_policy, &root, None, None, None, now).unwrap().policy_hash, None);
    assert!(verify_evidence(&no_policy, &root, None, None, Some(policy_hash), now).is_err());
    let mut other_config = evidence.clone();
    let stranger = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[8; 32]).unwrap();
    other_config.signed_config = development_signed_configuration(&admin, &stranger).unwrap().encode();
    assert_eq!(
        verify_evidence(&other_config, &root, None, None, None, now).unwrap_err().code(),
        "CLIENT_EVIDENCE_MISMATCH"
    );
}
