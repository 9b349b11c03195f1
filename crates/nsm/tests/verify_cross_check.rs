//! Simulated documents verify with Sentinel's own verifier
//! (`sentinel-attestation`) against the dev root, and only against it.
#![cfg(feature = "simulator")]

mod common;

use common::{open_at, T0_MS};
use sentinel_attestation::{verify, Expectations, RootKind, UnixTime, AWS_NITRO_ROOT_G1_DER};
use sentinel_nsm::pcr::pcrs_from_artifact;
use sentinel_nsm::simulator::LEAF_VALIDITY_SECS;
use sentinel_nsm::{AttestationRequest, NsmProvider};

fn request() -> AttestationRequest {
    AttestationRequest {
        user_data: Some(b"enclave state digest".to_vec()),
        nonce: Some(b"client nonce 0001".to_vec()),
        public_key: Some(b"DER public key".to_vec()),
    }
}

#[test]
fn verifies_against_the_dev_root_at_issue_time() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let document = nsm.attestation(&request()).unwrap();
    let verified = verify(&document, nsm.root_der(), UnixTime::from_millis(T0_MS)).unwrap();

    assert_eq!(verified.root_kind(), RootKind::Other);
    assert_eq!(verified.module_id(), "sentinel-dev-simulator");
    assert_eq!(verified.digest(), "SHA384");
    assert_eq!(verified.timestamp_ms(), T0_MS);
    assert_eq!(verified.nonce(), Some(&b"client nonce 0001"[..]));
    assert_eq!(verified.user_data(), Some(&b"enclave state digest"[..]));
    assert_eq!(verified.public_key(), Some(&b"DER public key"[..]));
    assert_eq!(verified.cabundle(), [nsm.root_der().to_vec(), nsm.intermediate_der().to_vec()]);
    let pcrs = pcrs_from_artifact(b"enclave binary");
    assert_eq!(verified.pcrs().len(), 16);
    assert_eq!(verified.pcr(0), Some(&pcrs[0][..]));

    let expect = Expectations {
        pcrs: vec![(0, pcrs[0].to_vec()), (1, pcrs[1].to_vec()), (2, pcrs[2].to_vec())],
        nonce: request().nonce,
        user_data: request().user_data,
        public_key: request().public_key,
        max_age_ms: Some(60_000),
    };
    verified.check(&expect, UnixTime::from_millis(T0_MS + 1_000)).unwrap();
    let wrong = Expectations { nonce: Some(b"another nonce".to_vec()), ..Default::default() };
    assert_eq!(verified.check(&wrong, UnixTime::from_millis(T0_MS)).unwrap_err().code(), "NONCE_MISMATCH");
}

#[test]
fn absent_fields_verify_as_absent() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let document = nsm.attestation(&AttestationRequest::default()).unwrap();
    let verified = verify(&document, nsm.root_der(), UnixTime::from_millis(T0_MS)).unwrap();
    assert_eq!((verified.nonce(), verified.user_data(), verified.public_key()), (None, None, None));
}

#[test]
fn is_rejected_against_the_aws_root() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let document = nsm.attestation(&request()).unwrap();
    let err = verify(&document, AWS_NITRO_ROOT_G1_DER, UnixTime::from_millis(T0_MS)).unwrap_err();
    assert_eq!(err.code(), "ROOT_MISMATCH");
}

#[test]
fn is_rejected_against_another_dev_root() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (nsm, other) = (open_at(a.path(), T0_MS), open_at(b.path(), T0_MS));
    let document = nsm.attestation(&request()).unwrap();
    assert_eq!(verify(&document, other.root_der(), UnixTime::from_millis(T0_MS)).unwrap_err().code(), "ROOT_MISMATCH");
}

#[test]
fn leaf_is_valid_for_three_hours_then_expires() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let document = nsm.attestation(&request()).unwrap();
    let issued_second = T0_MS / 1000 * 1000;
    let last_valid = issued_second + LEAF_VALIDITY_SECS as u64 * 1000;
    verify(&document, nsm.root_der(), UnixTime::from_millis(last_valid)).unwrap();
    let err = verify(&document, nsm.root_der(), UnixTime::from_millis(last_valid + 1_000)).unwrap_err();
    assert_eq!(err.code(), "CERTIFICATE_NOT_VALID_AT_TIME");
    let err = verify(&document, nsm.root_der(), UnixTime::from_millis(issued_second - 1_000)).unwrap_err();
    assert_eq!(err.code(), "CERTIFICATE_NOT_VALID_AT_TIME");
}

#[test]
fn a_tampered_payload_fails_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let mut document = nsm.attestation(&request()).unwrap();
    let needle = b"client nonce 0001";
    let at = document.windows(needle.len()).position(|w| w == needle).unwrap();
    document[at] ^= 1;
    let err = verify(&document, nsm.root_der(), UnixTime::from_millis(T0_MS)).unwrap_err();
    assert_eq!(err.code(), "SIGNATURE_INVALID");
}

#[test]
fn a_ca_reopened_later_still_issues_verifiable_documents() {
    let dir = tempfile::tempdir().unwrap();
    let root = open_at(dir.path(), T0_MS).root_der().to_vec();
    let later = T0_MS + 30 * 86_400_000;
    let nsm = open_at(dir.path(), later);
    let document = nsm.attestation(&request()).unwrap();
    let verified = verify(&document, &root, UnixTime::from_millis(later)).unwrap();
    assert_eq!(verified.timestamp_ms(), later);
}

#[test]
fn dev_pki_meets_the_aws_chain_rules() {
    // The verifier enforces AWS's certificate rules (critical basicConstraints
    // and keyCertSign on both CAs, leaf CA:FALSE with digitalSignature,
    // certificates of at most 1024 bytes): simulated documents pass them with
    // the largest request and a 64-character module_id.
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS).with_module_id("i-".to_string() + &"0".repeat(62));
    let request = AttestationRequest {
        user_data: Some(vec![1; 512]),
        nonce: Some(vec![2; 512]),
        public_key: Some(vec![3; 1024]),
    };
    let document = nsm.attestation_at(&request, T0_MS).unwrap();
    let verified = verify(&document, nsm.root_der(), UnixTime::from_millis(T0_MS)).unwrap();
    for der in verified.cabundle().iter().chain([&verified.certificate().to_vec()]) {
        assert!(der.len() <= sentinel_attestation::MAX_CERTIFICATE, "{} bytes", der.len());
    }
}
