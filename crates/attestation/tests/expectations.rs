//! `VerifiedDocument::check`: PCR / nonce / user_data / public_key matches and
//! mismatches, empty expectations never matching, and the age window.

mod common;

use common::{unhex, vector};
use sentinel_attestation::{
    verify, verify_request, verify_with, ErrorCode, Expectations, ExpectationsSpec, UnixTime, VerifiedDocument,
    VerifyOptions, VerifyRequest, AWS_NITRO_ROOT_G1_DER, MAX_CLOCK_SKEW_MS,
};

fn qos() -> (VerifiedDocument, UnixTime, serde_json::Value) {
    let v = vector("qos_attestation-doc.bin");
    (verify(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at()).unwrap(), v.at(), v.expected)
}

fn pcr(expected: &serde_json::Value, i: u8) -> Vec<u8> {
    unhex(expected[format!("pcr{i}")].as_str().unwrap())
}

#[test]
fn pcrs_match_and_mismatch() {
    let (doc, now, exp) = qos();
    let all = Expectations { pcrs: (0..3).map(|i| (i, pcr(&exp, i))).collect(), ..Default::default() };
    doc.check(&all, now).unwrap();

    let mut wrong = pcr(&exp, 0);
    wrong[47] ^= 1;
    let e = doc.check(&Expectations { pcrs: vec![(0, wrong)], ..Default::default() }, now).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::PcrMismatch);
    assert!(e.message().contains("pcrs[0]"));
    // PCR1's value expected in PCR0.
    let e = doc.check(&Expectations { pcrs: vec![(0, pcr(&exp, 1))], ..Default::default() }, now).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::PcrMismatch);
    // Prefix of the right value.
    let e = doc.check(&Expectations { pcrs: vec![(0, pcr(&exp, 0)[..47].to_vec())], ..Default::default() }, now);
    assert_eq!(e.unwrap_err().kind(), ErrorCode::PcrMismatch);
    // Index the document does not have.
    let e = doc.check(&Expectations { pcrs: vec![(20, pcr(&exp, 0))], ..Default::default() }, now);
    assert_eq!(e.unwrap_err().kind(), ErrorCode::PcrMismatch);
    let e = doc.check(&Expectations { pcrs: vec![(32, pcr(&exp, 0))], ..Default::default() }, now);
    assert_eq!(e.unwrap_err().kind(), ErrorCode::InvalidExpectation);
}

#[test]
fn empty_expectations_never_match() {
    let (doc, now, _) = qos();
    let code = |e: Expectations| doc.check(&e, now).unwrap_err().kind();
    assert_eq!(code(Expectations::default()), ErrorCode::EmptyExpectation);
    assert_eq!(code(Expectations { pcrs: vec![(0, vec![])], ..Default::default() }), ErrorCode::EmptyExpectation);
    assert_eq!(code(Expectations { nonce: Some(vec![]), ..Default::default() }), ErrorCode::EmptyExpectation);
    assert_eq!(code(Expectations { user_data: Some(vec![]), ..Default::default() }), ErrorCode::EmptyExpectation);
    assert_eq!(code(Expectations { public_key: Some(vec![]), ..Default::default() }), ErrorCode::EmptyExpectation);
}

#[test]
fn nonce_user_data_public_key() {
    let (doc, now, exp) = qos();
    let user_data = unhex(exp["user_data_hex"].as_str().unwrap());
    doc.check(&Expectations { user_data: Some(user_data.clone()), ..Default::default() }, now).unwrap();
    let mut other = user_data.clone();
    other[0] ^= 0xff;
    let e = doc.check(&Expectations { user_data: Some(other), ..Default::default() }, now).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::UserDataMismatch);
    // qos has no nonce: any expected nonce fails.
    let e = doc.check(&Expectations { nonce: Some(vec![1; 20]), ..Default::default() }, now).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::NonceMismatch);
    let pk = doc.public_key().unwrap().to_vec();
    doc.check(&Expectations { public_key: Some(pk.clone()), ..Default::default() }, now).unwrap();
    let e = doc.check(&Expectations { public_key: Some(pk[..10].to_vec()), ..Default::default() }, now);
    assert_eq!(e.unwrap_err().kind(), ErrorCode::PublicKeyMismatch);

    // A document with a nonce: eternis (nonce ...0001).
    let v = vector("eternis_example_attestation");
    let doc = verify(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at()).unwrap();
    let nonce = doc.nonce().unwrap().to_vec();
    doc.check(&Expectations { nonce: Some(nonce.clone()), ..Default::default() }, v.at()).unwrap();
    let mut wrong = nonce;
    *wrong.last_mut().unwrap() ^= 1;
    let e = doc.check(&Expectations { nonce: Some(wrong), ..Default::default() }, v.at()).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::NonceMismatch);
}

#[test]
fn max_age_and_future() {
    let (doc, _, _) = qos();
    let ts = doc.timestamp_ms();
    let age = |max: u64, now: u64| {
        doc.check(&Expectations { max_age_ms: Some(max), ..Default::default() }, UnixTime::from_millis(now))
    };
    age(60_000, ts + 60_000).unwrap();
    age(0, ts).unwrap();
    assert_eq!(age(60_000, ts + 60_001).unwrap_err().kind(), ErrorCode::TimestampTooOld);
    age(60_000, ts - MAX_CLOCK_SKEW_MS).unwrap();
    assert_eq!(age(60_000, ts - MAX_CLOCK_SKEW_MS - 1).unwrap_err().kind(), ErrorCode::TimestampInFuture);
}

#[test]
fn binding_request_path() {
    let v = vector("qos_attestation-doc.bin");
    let at_ms = v.at().as_millis() as f64;
    let spec = ExpectationsSpec {
        pcrs: Some([("0".to_string(), v.expected["pcr0"].as_str().unwrap().to_string())].into()),
        user_data: Some(v.expected["user_data_hex"].as_str().unwrap().to_string()),
        max_age_ms: Some(120_000.0),
        ..Default::default()
    };
    let view =
        verify_request(&v.bytes, VerifyRequest { at_ms, expect: Some(spec.clone()), ..Default::default() }).unwrap();
    assert_eq!(view.root_kind, "aws-nitro");
    assert_eq!(view.nonce, None);
    let bad = |spec: ExpectationsSpec| {
        verify_request(&v.bytes, VerifyRequest { at_ms, expect: Some(spec), ..Default::default() }).unwrap_err().kind()
    };
    assert_eq!(bad(ExpectationsSpec::default()), ErrorCode::EmptyExpectation);
    assert_eq!(bad(ExpectationsSpec { nonce: Some("zz".into()), ..Default::default() }), ErrorCode::InvalidExpectation);
    assert_eq!(
        bad(ExpectationsSpec { pcrs: Some([("x".into(), "00".into())].into()), ..Default::default() }),
        ErrorCode::InvalidExpectation
    );
    assert_eq!(bad(ExpectationsSpec { max_age_ms: Some(-1.0), ..Default::default() }), ErrorCode::InvalidExpectation);
    for t in [f64::NAN, -1.0, 1.5, f64::INFINITY, 1e300] {
        let e = verify_request(&v.bytes, VerifyRequest { at_ms: t, ..Default::default() }).unwrap_err();
        assert_eq!(e.kind(), ErrorCode::InvalidTime, "{t}");
    }
    // Debug-mode document through the same path.
    let d = vector("evervault_beta_debug-mode-attestation-doc-bytes");
    let at_ms = d.at().as_millis() as f64;
    let e = verify_request(&d.bytes, VerifyRequest { at_ms, ..Default::default() }).unwrap_err();
    assert_eq!(e.code(), "DEBUG_MODE_ENCLAVE");
    verify_request(&d.bytes, VerifyRequest { at_ms, allow_debug: Some(true), ..Default::default() }).unwrap();
    // Explicit root = the embedded one.
    let root = Some(AWS_NITRO_ROOT_G1_DER);
    verify_request(&d.bytes, VerifyRequest { at_ms, allow_debug: Some(true), root, ..Default::default() }).unwrap();
    let strict = verify_with(&d.bytes, AWS_NITRO_ROOT_G1_DER, d.at(), &VerifyOptions::default());
    assert_eq!(strict.unwrap_err().kind(), ErrorCode::DebugModeEnclave);
}
