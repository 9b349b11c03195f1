//! Round trips, every error code, id recovery, and incremental framing.
use ciborium::Value;
use proptest::prelude::*;
use sentinel_protocol::*;

fn body_of(frame: &[u8]) -> &[u8] {
    &frame[FRAME_HEADER_BYTES..]
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (Value::Text((*k).into()), v.clone())).collect())
}

fn all_requests() -> Vec<Request> {
    vec![
        Request::Ping(PingArgs { payload: vec![1, 2, 3] }),
        Request::Describe(DescribeArgs {}),
        Request::Attest(AttestArgs { nonce: vec![9; 32] }),
        Request::Evidence(EvidenceArgs {}),
        Request::UpdateConfig(UpdateConfigArgs { signed_config: vec![0xa2; 40] }),
        Request::UpdatePolicy(UpdatePolicyArgs {
            signed_policy: b"{\"policy\":{}}".to_vec(),
            models: vec![PolicyModel { onnx: vec![8; 20] }],
        }),
        Request::UpdatePrices(UpdatePricesArgs { signed_prices: b"{}".to_vec() }),
        Request::PolicyDryRun(StampedArgs { body: vec![0xa1; 8], stamp: None }),
        Request::Stamped(StampedArgs {
            body: encode_body(&all_operations()[0]),
            stamp: Some(Stamp {
                principal: "desk".into(),
                timestamp_us: 1,
                nonce: vec![3; 16],
                signature: vec![4; 64],
            }),
        }),
        Request::Stamped(StampedArgs { body: vec![0xa0], stamp: None }),
        Request::SessionOpen(SessionOpenArgs { handshake: vec![5; 48] }),
        Request::SessionFrame(SessionFrameArgs { session_id: vec![6; 16], frame: vec![7; 80] }),
        Request::SessionClose(SessionCloseArgs { session_id: vec![6; 16] }),
        Request::AuditRead(AuditReadArgs { from: 4, max: 100 }),
        Request::AuditAck(AuditAckArgs { durable: 4 }),
        Request::AuditCheckpoint(AuditCheckpointArgs {}),
        Request::SealedLoad(SealedLoadArgs { records: vec![vec![0x53; 70], vec![0x53; 80]] }),
        Request::SealedState(SealedStateArgs {}),
        Request::AdminDeleteKey(AdminDeleteKeyArgs { order: vec![0xa2; 70] }),
        Request::SealingUnlock(SealingUnlockArgs {
            key_id: "alias/sentinel".into(),
            region: "eu-west-1".into(),
            endpoint: None,
            access_key_id: "AKIATEST".into(),
            secret_access_key: SecretText::new("secret"),
            session_token: Some(SecretText::new("token")),
            ciphertext_blob: Some(vec![9; 40]),
        }),
        Request::ForwardSend(ForwardSendArgs {
            peer_attestation: vec![0xd2; 60],
            upgrade_approval: Some(vec![0xa2; 9]),
        }),
        Request::ForwardAccept(ForwardAcceptArgs {
            sender_attestation: vec![0xd2; 60],
            enc: vec![1; 32],
            ciphertext: vec![2; 80],
            upgrade_approval: None,
        }),
    ]
}

fn all_operations() -> Vec<Operation> {
    vec![
        Operation::GenerateKey(GenerateKeyArgs {
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Ethereum,
            label: "a".into(),
        }),
        Operation::GenerateKey(GenerateKeyArgs { curve: Curve::Ed25519, purpose: KeyPurpose::Raw, label: "b".into() }),
        Operation::ImportKey(ImportKeyArgs {
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Raw,
            label: "c".into(),
            enc: vec![1; 32],
            ciphertext: vec![2; 48],
        }),
        Operation::ListKeys(ListKeysArgs {}),
        Operation::DeleteKey(DeleteKeyArgs { key_id: "k-0123".into() }),
        Operation::SignDigest(SignDigestArgs { key_id: "k1".into(), digest: vec![7; 32] }),
        Operation::SignEthereumTransaction(SignEthereumTransactionArgs {
            key_id: "k1".into(),
            unsigned_tx: vec![2, 0xc0],
        }),
        Operation::SignPersonalMessage(SignPersonalMessageArgs { key_id: "k1".into(), message: b"hi".to_vec() }),
        Operation::SignTypedData(SignTypedDataArgs { key_id: "k1".into(), typed_data: "{}".into() }),
    ]
}

#[test]
fn operation_bodies_round_trip_and_refuse_bad_input() {
    for operation in all_operations() {
        let body = encode_body(&operation);
        assert_eq!(decode_body(&body).unwrap(), operation);
    }
    let refuse = |bytes: &[u8]| decode_body(bytes).unwrap_err().code();
    assert_eq!(refuse(&[]), "EMPTY_FRAME");
    assert_eq!(refuse(&[0xa1, 0x62]), "MALFORMED_FRAME");
    assert_eq!(refuse(&cbor(&map(&[("op", Value::Text("ping".into()))]))), "UNKNOWN_OPERATION");
    assert_eq!(
        refuse(&cbor(&map(&[("key_id", Value::Text("k".into())), ("op", Value::Text("list_keys".into()))]))),
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        refuse(&cbor(&map(&[("op", Value::Text("list_keys".into())), ("extra", Value::Bool(true))]))),
        "INVALID_ARGUMENT"
    );
    let mut trailing = encode_body(&Operation::ListKeys(ListKeysArgs {}));
    trailing.push(0);
    assert_eq!(refuse(&trailing), "MALFORMED_FRAME");
    // A frame-level op is not an operation body.
    assert_eq!(refuse(&cbor(&map(&[("op", Value::Text("stamped".into()))]))), "UNKNOWN_OPERATION");
}

#[test]
fn session_plaintexts_round_trip() {
    let request = SessionRequest { id: 9, receipt: true, body: vec![0xa0] };
    assert_eq!(decode_session_request(&encode_cbor(&request)).unwrap(), request);
    let answer = SessionAnswer { id: 9, answer: all_responses()[0].clone(), receipt: Some(vec![1, 2]) };
    assert_eq!(decode_session_answer(&encode_cbor(&answer)).unwrap(), answer);
    let answer = SessionAnswer { id: 9, answer: all_responses()[1].clone(), receipt: None };
    assert_eq!(decode_session_answer(&encode_cbor(&answer)).unwrap(), answer);
}

#[test]
fn relayed_secrets_never_print() {
    let args = SealingUnlockArgs {
        key_id: "k".into(),
        region: "r".into(),
        endpoint: None,
        access_key_id: "AKIAPRINTABLE".into(),
        secret_access_key: SecretText::new("wJalrXUtnFEMI"),
        session_token: Some(SecretText::new("FwoGZXIvYXdzEJr")),
        ciphertext_blob: None,
    };
    let printed = format!("{:?}", Request::SealingUnlock(args));
    assert!(printed.contains("AKIAPRINTABLE") && printed.contains("<redacted>"), "{printed}");
    assert!(!printed.contains("wJalrXUtnFEMI") && !printed.contains("FwoGZXIvYXdzEJr"), "{printed}");
}

fn all_responses() -> Vec<Response> {
    vec![
        Response::Pong(Pong { payload: vec![] }),
        Response::Description(Description {
            protocol_version: PROTOCOL_VERSION,
            module_id: "i-0-enc".into(),
            attested_keys: vec![4; 97],
            pcrs: vec![vec![0u8; 48]; 3],
            sealing: "development".into(),
        }),
        Response::Attestation(Attestation { document: vec![0xd2; 100] }),
        Response::KeyGenerated(KeyGenerated {
            key_id: "k1".into(),
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Ethereum,
            label: "hot".into(),
            public_key: vec![2; 33],
            storage: "ephemeral".into(),
        }),
        Response::Evidence(Box::new(Evidence {
            attestation: vec![1; 10],
            attestation_hash: vec![2; 32],
            signed_config: vec![3; 5],
            config_hash: vec![4; 32],
            config_version: 3,
            signed_policy: Some(b"{}".to_vec()),
            policy_hash: Some(vec![5; 32]),
            policy_version: Some(2),
        })),
        Response::PolicyUpdated(PolicyUpdated { policy_hash: vec![5; 32], version: 2, attestation_hash: vec![2; 32] }),
        Response::PricesUpdated(PricesUpdated { timestamp_s: 1_764_000_000, entries: 2 }),
        Response::PolicyEvaluation(PolicyEvaluation {
            decision: "denied".into(),
            code: Some("POLICY_DENIED".into()),
            policy_hash: Some(vec![5; 32]),
            rules_evaluated: vec![RuleEvaluated {
                rule: "usdc-cap".into(),
                rule_type: "notional_limit".into(),
                result: "deny".into(),
                value: Some("1000001".into()),
                limit: Some("1000000".into()),
                window: Some("1d".into()),
                detail: None,
            }],
        }),
        Response::ConfigUpdated(ConfigUpdated { config_hash: vec![4; 32], version: 3, attestation_hash: vec![2; 32] }),
        Response::Receipted(Receipted {
            answer: Box::new(Response::Signature(Signature { signature: vec![1; 64], recovery_id: Some(0) })),
            receipt: vec![0xd2; 90],
            audit: Some(AuditEntry { seq: 7, record: vec![0xa8; 40] }),
            sealed: Some(Box::new(SealedRecord {
                kind: "key".into(),
                name: "k-01".into(),
                version: 1,
                record: vec![0x53; 90],
            })),
        }),
        Response::SealedLoaded(SealedLoaded {
            loaded: 2,
            refused: vec![SealedRefusal {
                index: 2,
                kind: "key".into(),
                name: "k-02".into(),
                code: "SEAL_LINEAGE_MISMATCH".into(),
                message: "m".into(),
            }],
            keys: 1,
            lineage: Some("ab".repeat(32)),
        }),
        Response::KeyDeleted(KeyDeleted { key_id: "k1".into() }),
        Response::SealingUnlocked(SealingUnlocked { ciphertext_blob: vec![9; 40], sealing: "aws-kms".into() }),
        Response::ForwardSent(ForwardSent { attestation: vec![0xd2; 60], enc: vec![1; 32], ciphertext: vec![2; 80] }),
        Response::ForwardAccepted(ForwardAccepted { lineage: "ab".repeat(32), sender_pcr0: "cd".repeat(48) }),
        Response::SealedState(SealedStateAnswer { sealing: "none".into(), lineage: None, configuration: None }),
        Response::AuditRecords(AuditRecords {
            from: 3,
            records: vec![vec![0xa8; 10], vec![0xa8; 12]],
            size: 5,
            durable: 3,
            checkpoint: Some(b"sentinel/log/00\n5\nAAAA\n".to_vec()),
            origin: "sentinel/log/00".into(),
            verifier_key: "sentinel/log/00+01234567+AAAA".into(),
        }),
        Response::AuditAcked(AuditAcked { durable: 5 }),
        Response::SessionOpened(SessionOpened { session_id: vec![6; 16], handshake: vec![1; 48] }),
        Response::SessionFrame(SessionFrameAnswer {
            session_id: vec![6; 16],
            frame: vec![1; 48],
            audit: None,
            sealed: None,
        }),
        Response::SessionClosed(SessionClosed { session_id: vec![6; 16] }),
        Response::Authenticated(Authenticated { principal: "desk".into(), expires_at_us: 5 }),
        Response::KeyList(KeyList {
            keys: vec![KeyInfo {
                key_id: "k1".into(),
                curve: Curve::Ed25519,
                purpose: KeyPurpose::Raw,
                label: "x".into(),
                owner: "desk".into(),
                public_key: vec![1; 32],
            }],
        }),
        Response::Signature(Signature { signature: vec![1; 64], recovery_id: Some(1) }),
        Response::Signature(Signature { signature: vec![1; 64], recovery_id: None }),
        Response::SignedTransaction(SignedTransaction { raw: vec![2, 0xc0] }),
        Response::Error(ErrorAnswer { code: "INVALID_SECRET_KEY".into(), message: "secretKey: …".into() }),
    ]
}

#[test]
fn requests_and_responses_round_trip() {
    for (i, request) in all_requests().into_iter().enumerate() {
        let frame = RequestFrame { id: i as u64 * 1_000_000_007, request };
        let bytes = encode_request(&frame);
        assert_eq!(u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize, bytes.len() - 4);
        assert_eq!(decode_request(body_of(&bytes)).unwrap(), frame);
    }
    for (i, response) in all_responses().into_iter().enumerate() {
        let frame = ResponseFrame { id: u64::MAX - i as u64, response };
        assert_eq!(decode_response(body_of(&encode_request_or_response(&frame))).unwrap(), frame);
    }
}

fn encode_request_or_response(frame: &ResponseFrame) -> Vec<u8> {
    encode_response(frame)
}

#[test]
fn wire_format_is_a_flat_map_with_byte_strings() {
    let bytes = encode_request(&RequestFrame { id: 7, request: Request::Attest(AttestArgs { nonce: vec![0xab; 4] }) });
    let value: Value = ciborium::from_reader(body_of(&bytes)).unwrap();
    let expected = map(&[
        ("v", Value::Integer(u64::from(PROTOCOL_VERSION).into())),
        ("id", Value::Integer(7.into())),
        ("op", Value::Text("attest".into())),
        ("nonce", Value::Bytes(vec![0xab; 4])),
    ]);
    assert_eq!(value, expected);
}

fn request_error(value: &Value) -> ProtocolError {
    decode_request(&cbor(value)).unwrap_err()
}

#[test]
fn every_error_code_with_the_request_id_when_readable() {
    let v = || ("v", Value::Integer(u64::from(PROTOCOL_VERSION).into()));
    let id = || ("id", Value::Integer(42.into()));

    let e = request_error(&map(&[v(), id(), ("op", Value::Text("launch_missiles".into()))]));
    assert_eq!((e.code(), e.request_id), ("UNKNOWN_OPERATION", Some(42)));

    let e = request_error(&map(&[("v", Value::Integer(99.into())), id(), ("op", Value::Text("ping".into()))]));
    assert_eq!((e.code(), e.request_id), ("UNSUPPORTED_VERSION", Some(42)));

    // Known op, wrong argument type.
    let e = request_error(&map(&[v(), id(), ("op", Value::Text("ping".into())), ("payload", Value::Text("x".into()))]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));
    // Missing argument.
    let e = request_error(&map(&[v(), id(), ("op", Value::Text("attest".into()))]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));
    // Unknown extra field: refused, never silently ignored.
    let e = request_error(&map(&[v(), id(), ("op", Value::Text("describe".into())), ("policy", Value::Bool(true))]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));

    // No readable id: malformed, no id.
    let e = request_error(&map(&[v(), ("op", Value::Text("ping".into()))]));
    assert_eq!((e.code(), e.request_id), ("MALFORMED_FRAME", None));
    let e = request_error(&map(&[v(), id()]));
    assert_eq!((e.code(), e.request_id), ("MALFORMED_FRAME", None));
    let e = request_error(&map(&[v(), ("id", Value::Integer((-1).into())), ("op", Value::Text("ping".into()))]));
    assert_eq!(e.code(), "MALFORMED_FRAME");
    let e = request_error(&Value::Array(vec![]));
    assert_eq!(e.code(), "MALFORMED_FRAME");
    // Duplicate keys.
    let e = request_error(&map(&[v(), id(), id(), ("op", Value::Text("describe".into()))]));
    assert_eq!(e.code(), "MALFORMED_FRAME");
    let e = request_error(&map(&[
        v(),
        id(),
        ("op", Value::Text("describe".into())),
        ("op", Value::Text("describe".into())),
    ]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));
    // Duplicate argument.
    let key = || ("nonce", Value::Bytes(vec![1]));
    let e = request_error(&map(&[v(), id(), ("op", Value::Text("attest".into())), key(), key()]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));
    // Non-text argument keys (serde would otherwise read 0 as the first field).
    let e = request_error(&Value::Map(vec![
        (Value::Text("v".into()), Value::Integer(u64::from(PROTOCOL_VERSION).into())),
        (Value::Text("id".into()), Value::Integer(42.into())),
        (Value::Text("op".into()), Value::Text("attest".into())),
        (Value::Integer(0.into()), Value::Bytes(vec![1])),
    ]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));
    // The envelope keys come first, in order.
    let e = request_error(&map(&[id(), v(), ("op", Value::Text("describe".into()))]));
    assert_eq!((e.code(), e.request_id), ("MALFORMED_FRAME", None));
    let e = request_error(&map(&[v(), id(), ("nonce", Value::Bytes(vec![1])), ("op", Value::Text("attest".into()))]));
    assert_eq!(e.code(), "MALFORMED_FRAME");
    // Truncated inside the arguments: malformed, with the id.
    let mut truncated =
        cbor(&map(&[v(), id(), ("op", Value::Text("ping".into())), ("payload", Value::Bytes(vec![7; 40]))]));
    truncated.truncate(truncated.len() - 3);
    let e = decode_request(&truncated).unwrap_err();
    assert_eq!((e.code(), e.request_id), ("MALFORMED_FRAME", Some(42)));
    // Trailing bytes and non-CBOR.
    let mut trailing = cbor(&map(&[v(), id(), ("op", Value::Text("describe".into()))]));
    trailing.push(0);
    assert_eq!(decode_request(&trailing).unwrap_err().code(), "MALFORMED_FRAME");
    assert_eq!(decode_request(&[0xff, 0xff]).unwrap_err().code(), "MALFORMED_FRAME");
    assert_eq!(decode_request(&[]).unwrap_err().code(), "EMPTY_FRAME");
}

#[test]
fn decoder_reassembles_frames_split_anywhere() {
    let frames: Vec<Vec<u8>> = all_requests()
        .into_iter()
        .enumerate()
        .map(|(i, request)| encode_request(&RequestFrame { id: i as u64, request }))
        .collect();
    let stream: Vec<u8> = frames.concat();
    for chunk in [1, 2, 3, 5, 7, 64, stream.len()] {
        let mut decoder = FrameDecoder::new();
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            decoder.push(piece);
            while let Some(body) = decoder.next_frame().unwrap() {
                got.push(decode_request(&body).unwrap());
            }
        }
        assert_eq!(got.len(), frames.len(), "chunk {chunk}");
        assert_eq!(decoder.buffered(), 0);
        for (i, frame) in got.iter().enumerate() {
            assert_eq!(frame.id, i as u64);
        }
    }
}

#[test]
fn oversize_prefix_is_fatal_and_empty_frame_is_skipped() {
    let mut decoder = FrameDecoder::new();
    decoder.push(&((MAX_FRAME_BYTES + 1) as u32).to_be_bytes());
    assert_eq!(decoder.next_frame().unwrap_err().code(), "FRAME_TOO_LARGE");

    let mut decoder = FrameDecoder::new();
    decoder.push(&0u32.to_be_bytes());
    decoder.push(&encode_request(&RequestFrame { id: 5, request: Request::Describe(DescribeArgs {}) }));
    assert_eq!(decoder.next_frame().unwrap_err().code(), "EMPTY_FRAME");
    let body = decoder.next_frame().unwrap().unwrap();
    assert_eq!(decode_request(&body).unwrap().id, 5);

    // A frame of exactly the cap is accepted (and then fails as a message, not as a frame).
    let mut decoder = FrameDecoder::new();
    let mut big = (MAX_FRAME_BYTES as u32).to_be_bytes().to_vec();
    big.resize(FRAME_HEADER_BYTES + MAX_FRAME_BYTES, 0);
    decoder.push(&big);
    let body = decoder.next_frame().unwrap().unwrap();
    assert_eq!(body.len(), MAX_FRAME_BYTES);
    assert!(decode_request(&body).is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), chunk in 1usize..64) {
        let mut decoder = FrameDecoder::new();
        for piece in bytes.chunks(chunk) {
            decoder.push(piece);
            loop {
                match decoder.next_frame() {
                    Ok(Some(body)) => { let _ = decode_request(&body); let _ = decode_response(&body); }
                    Ok(None) => break,
                    Err(e) if e.code() == "FRAME_TOO_LARGE" => return Ok(()),
                    Err(_) => {}
                }
            }
        }
        let _ = decode_request(&bytes);
    }

    #[test]
    fn mutated_valid_frames_never_panic(index in 0usize..7, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut frame = encode_request(&RequestFrame { id: 3, request: all_requests()[index].clone() });
        let at = pos.index(frame.len() - FRAME_HEADER_BYTES) + FRAME_HEADER_BYTES;
        frame[at] = byte;
        let _ = decode_request(&frame[FRAME_HEADER_BYTES..]);
    }
}
