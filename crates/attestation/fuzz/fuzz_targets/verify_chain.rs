//! The certificate chain, reached past the root comparison: the input is a
//! concatenation of DER items, split with the `der` reader (the last piece
//! takes whatever remains, so malformed DER still reaches the parser); the
//! pieces become `cabundle[1..]` and the leaf `certificate` of a document
//! whose `cabundle[0]` is the real AWS root, and the whole verifier runs on
//! it at a fixed time inside the qos vector's leaf window. Chain building
//! (strict DER, algorithms, names, CA and leaf rules, path length) and chain
//! verification (signatures, validity) come before the COSE signature, which
//! is a dummy here. It must return an error, never panic, hang or exhaust
//! memory. Seeds (`seeds/verify_chain/`) are the real chains of
//! test/vectors/nitro/ (`cabundle[1..] || certificate`).
#![no_main]

use ciborium::Value;
use coset::{iana, CborSerializable, CoseSign1Builder, HeaderBuilder};
use der::{Reader, SliceReader};
use libfuzzer_sys::fuzz_target;
use sentinel_attestation::{verify_with, UnixTime, VerifyOptions, AWS_NITRO_ROOT_G1_DER, MAX_CABUNDLE};

const AT: UnixTime = UnixTime::from_millis(1_657_117_162_000);

/// Splits `data` into at most `MAX_CABUNDLE` pieces: whole DER items, then the rest.
fn pieces(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && out.len() + 1 < MAX_CABUNDLE {
        let Ok(mut reader) = SliceReader::new(rest) else { break };
        let Ok(item) = reader.tlv_bytes() else { break };
        out.push(item);
        rest = &rest[item.len()..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let mut pieces = pieces(data);
    let Some(leaf) = pieces.pop() else { return };
    let bytes = |b: &[u8]| Value::Bytes(b.to_vec());
    let text = |s: &str| Value::Text(s.into());
    let cabundle = std::iter::once(AWS_NITRO_ROOT_G1_DER).chain(pieces).map(bytes).collect();
    let payload = Value::Map(vec![
        (text("module_id"), text("i-0fuzz-enc0fuzz")),
        (text("digest"), text("SHA384")),
        (text("timestamp"), Value::from(AT.as_millis())),
        (text("pcrs"), Value::Map(vec![(Value::from(0), bytes(&[1; 48]))])),
        (text("certificate"), bytes(leaf)),
        (text("cabundle"), Value::Array(cabundle)),
        (text("public_key"), Value::Null),
        (text("user_data"), Value::Null),
        (text("nonce"), Value::Null),
    ]);
    let mut payload_bytes = Vec::new();
    ciborium::into_writer(&payload, &mut payload_bytes).expect("CBOR into a Vec");
    let document = CoseSign1Builder::new()
        .protected(HeaderBuilder::new().algorithm(iana::Algorithm::ES384).build())
        .payload(payload_bytes)
        .signature(vec![1; 96])
        .build()
        .to_vec()
        .expect("COSE_Sign1 into a Vec");
    let _ = verify_with(&document, AWS_NITRO_ROOT_G1_DER, AT, &VerifyOptions { allow_debug: true });
});
