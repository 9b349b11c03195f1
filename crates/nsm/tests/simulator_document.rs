//! The simulator's documents have AWS's exact format.
#![cfg(feature = "simulator")]

mod common;

use aws_nitro_enclaves_nsm_api::api::AttestationDoc;
use ciborium::Value;
use common::{open_at, T0_MS};
use sentinel_nsm::pcr::pcrs_from_artifact;
use sentinel_nsm::{AttestationRequest, NsmProvider};

const AWS_KEY_ORDER: [&str; 9] =
    ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data", "nonce"];

fn decode(bytes: &[u8]) -> Value {
    let value: Value = ciborium::from_reader(bytes).unwrap();
    // Definite lengths and shortest forms: re-encoding gives the same bytes.
    let mut again = Vec::new();
    ciborium::into_writer(&value, &mut again).unwrap();
    assert_eq!(again, bytes, "not in canonical definite-length form");
    value
}

/// (protected, unprotected, payload, signature)
fn split(document: &[u8]) -> (Vec<u8>, Value, Vec<u8>, Vec<u8>) {
    assert_eq!(document[0], 0x84, "untagged COSE_Sign1: a 4-element array, no tag 18");
    let Value::Array(items) = decode(document) else { panic!("not an array") };
    let [protected, unprotected, payload, signature]: [Value; 4] = items.try_into().unwrap();
    (protected.into_bytes().unwrap(), unprotected, payload.into_bytes().unwrap(), signature.into_bytes().unwrap())
}

fn field<'a>(map: &'a [(Value, Value)], key: &str) -> &'a Value {
    &map.iter().find(|(k, _)| k.as_text() == Some(key)).unwrap().1
}

#[test]
fn envelope_header_and_payload_layout() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let document = nsm.attestation(&AttestationRequest::default()).unwrap();
    let (protected, unprotected, payload, signature) = split(&document);

    assert_eq!(protected, [0xa1, 0x01, 0x38, 0x22]);
    assert_eq!(unprotected, Value::Map(vec![]));
    assert_eq!(signature.len(), 96, "ES384 raw r || s");

    let Value::Map(map) = decode(&payload) else { panic!("payload is not a map") };
    let keys: Vec<&str> = map.iter().map(|(k, _)| k.as_text().unwrap()).collect();
    assert_eq!(keys, AWS_KEY_ORDER);

    assert_eq!(field(&map, "module_id").as_text(), Some("sentinel-dev-simulator"));
    assert_eq!(field(&map, "digest").as_text(), Some("SHA384"));
    assert_eq!(field(&map, "timestamp"), &Value::from(T0_MS));

    let pcrs = field(&map, "pcrs").as_map().unwrap();
    assert_eq!(pcrs.len(), 16);
    let expected = pcrs_from_artifact(b"enclave binary");
    for (i, (index, value)) in pcrs.iter().enumerate() {
        assert_eq!(index, &Value::from(i as u64));
        assert_eq!(value.as_bytes().unwrap().as_slice(), expected[i].as_slice());
    }

    let cabundle = field(&map, "cabundle").as_array().unwrap();
    assert_eq!(cabundle.len(), 2);
    assert_eq!(cabundle[0].as_bytes().unwrap().as_slice(), nsm.root_der());
    assert_eq!(cabundle[1].as_bytes().unwrap().as_slice(), nsm.intermediate_der());
    assert!(!field(&map, "certificate").as_bytes().unwrap().is_empty());

    for absent in ["public_key", "user_data", "nonce"] {
        assert!(field(&map, absent).is_null(), "{absent} must be CBOR null when absent");
    }
}

#[test]
fn present_fields_are_byte_strings() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let request = AttestationRequest {
        user_data: Some(vec![1; 512]),
        nonce: Some(b"client nonce".to_vec()),
        public_key: Some(vec![3; 1024]),
    };
    let (_, _, payload, _) = split(&nsm.attestation_at(&request, T0_MS + 5).unwrap());
    let Value::Map(map) = decode(&payload) else { panic!() };
    assert_eq!(field(&map, "user_data"), &Value::Bytes(vec![1; 512]));
    assert_eq!(field(&map, "nonce"), &Value::Bytes(b"client nonce".to_vec()));
    assert_eq!(field(&map, "public_key"), &Value::Bytes(vec![3; 1024]));
    assert_eq!(field(&map, "timestamp"), &Value::from(T0_MS + 5));
}

#[test]
fn payload_is_byte_identical_to_aws_own_encoder() {
    // AWS's nsm-api `AttestationDoc` (serde_cbor) decodes the payload, and
    // encoding it again yields exactly the simulator's bytes.
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    for request in [
        AttestationRequest::default(),
        AttestationRequest { user_data: Some(b"u".to_vec()), nonce: Some(vec![]), public_key: Some(b"k".to_vec()) },
    ] {
        let (_, _, payload, _) = split(&nsm.attestation(&request).unwrap());
        let doc = AttestationDoc::from_binary(&payload).unwrap();
        assert_eq!(doc.to_binary(), payload);
        assert_eq!(doc.timestamp, T0_MS);
        assert_eq!(doc.nonce.map(|b| b.into_vec()), request.nonce);
        assert_eq!(doc.cabundle.len(), 2);
    }
}

#[test]
fn sizes_are_checked_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let too_big = AttestationRequest { nonce: Some(vec![0; 513]), ..Default::default() };
    assert_eq!(nsm.attestation(&too_big).unwrap_err().code(), "NONCE_TOO_LARGE");
    let empty_key = AttestationRequest { public_key: Some(vec![]), ..Default::default() };
    assert_eq!(nsm.attestation(&empty_key).unwrap_err().code(), "PUBLIC_KEY_EMPTY");
    assert_eq!(nsm.attestation_at(&AttestationRequest::default(), 0).unwrap_err().code(), "INVALID_TIMESTAMP");
}

#[test]
fn describe_pcrs_and_module_id() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS).with_module_id("i-0123-enc0456");
    assert_eq!(nsm.describe_pcrs().unwrap(), pcrs_from_artifact(b"enclave binary"));
    let (_, _, payload, _) = split(&nsm.attestation(&AttestationRequest::default()).unwrap());
    assert_eq!(AttestationDoc::from_binary(&payload).unwrap().module_id, "i-0123-enc0456");
}

#[test]
fn each_document_has_a_fresh_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let a = AttestationDoc::from_binary(&split(&nsm.attestation(&AttestationRequest::default()).unwrap()).2).unwrap();
    let b = AttestationDoc::from_binary(&split(&nsm.attestation(&AttestationRequest::default()).unwrap()).2).unwrap();
    assert_ne!(a.certificate, b.certificate);
    assert_eq!(a.cabundle, b.cabundle);
}
