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
        Request::GenerateKey(GenerateKeyArgs { curve: Curve::Secp256k1 }),
        Request::GenerateKey(GenerateKeyArgs { curve: Curve::Ed25519 }),
        Request::SignDigest(SignDigestArgs { key_id: "k1".into(), digest: vec![7; 32] }),
        Request::SignEthereumTransaction(SignEthereumTransactionArgs {
            key_id: "k1".into(),
            unsigned_tx: vec![2, 0xc0],
        }),
    ]
}

fn all_responses() -> Vec<Response> {
    vec![
        Response::Pong(Pong { payload: vec![] }),
        Response::Description(Description {
            protocol_version: PROTOCOL_VERSION,
            module_id: "i-0-enc".into(),
            identity_public_key: vec![4; 97],
            pcrs: vec![vec![0u8; 48]; 3],
        }),
        Response::Attestation(Attestation { document: vec![0xd2; 100] }),
        Response::KeyGenerated(KeyGenerated { key_id: "k1".into(), curve: Curve::Secp256k1, public_key: vec![2; 33] }),
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
        ("v", Value::Integer(1.into())),
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
    let v = || ("v", Value::Integer(1.into()));
    let id = || ("id", Value::Integer(42.into()));

    let e = request_error(&map(&[v(), id(), ("op", Value::Text("launch_missiles".into()))]));
    assert_eq!((e.code(), e.request_id), ("UNKNOWN_OPERATION", Some(42)));

    let e = request_error(&map(&[("v", Value::Integer(2.into())), id(), ("op", Value::Text("ping".into()))]));
    assert_eq!((e.code(), e.request_id), ("UNSUPPORTED_VERSION", Some(42)));

    // Known op, wrong argument type.
    let e = request_error(&map(&[v(), id(), ("op", Value::Text("ping".into())), ("payload", Value::Text("x".into()))]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));
    // Missing argument.
    let e = request_error(&map(&[v(), id(), ("op", Value::Text("sign_digest".into()))]));
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
    let key = || ("key_id", Value::Text("k".into()));
    let e = request_error(&map(&[v(), id(), ("op", Value::Text("sign_digest".into())), key(), key()]));
    assert_eq!((e.code(), e.request_id), ("INVALID_ARGUMENT", Some(42)));
    // Non-text argument keys (serde would otherwise read 0 as the first field).
    let e = request_error(&Value::Map(vec![
        (Value::Text("v".into()), Value::Integer(1.into())),
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
