//! Receipts signed by a simulated enclave verify against its real
//! (development-root) attestation document, and every way of getting the
//! evidence wrong is refused with its own code.

mod common;

use common::{h, Enclave, T0_MS};
use sentinel_evidence::{
    decode_receipt_claims_unverified, sign_receipt, verify_receipt, verify_receipt_with_key, AttestedKeys, Decision,
    ReceiptOptions, ReceiptVerifier, RootKind, SigningKey, UnixTime, UserData, VerifyingKey,
};
use sentinel_nsm::PCR_COUNT;
use sha2::Digest;

fn code(result: Result<impl std::fmt::Debug, sentinel_evidence::Error>) -> &'static str {
    result.expect_err("refused").code()
}

#[test]
fn round_trip() {
    let enclave = Enclave::boot("round-trip");
    for claims in [enclave.claims(), enclave.denied_claims()] {
        let receipt = enclave.sign(&claims);
        let verified = verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap();
        assert_eq!(verified.claims(), &claims);
        assert_eq!(verified.root_kind(), RootKind::Other, "the simulator's root is a development root");
        assert_eq!(verified.attested_keys(), &enclave.keys);
        assert_eq!(verified.pcr0(), &enclave.pcr0());
        assert_eq!(verify_receipt_with_key(&receipt, &enclave.keys.receipt).unwrap(), claims);
        assert_eq!(decode_receipt_claims_unverified(&receipt).unwrap(), claims);
        assert_eq!(verified.into_claims(), claims);
    }
    // The denied one says so.
    let denied = enclave.denied_claims();
    assert_eq!((denied.decision, denied.code.as_deref()), (Decision::Denied, Some("POLICY_DENIED")));
    assert_eq!(denied.rules_evaluated[0].result, "deny");
}

#[test]
fn without_expectations_only_the_binding_is_checked() {
    let enclave = Enclave::boot("no-expectations");
    let receipt = enclave.sign(&enclave.claims());
    let options = ReceiptOptions {
        expected_pcr0: None,
        expected_config_hash: None,
        expected_policy_hash: None,
        ..enclave.options()
    };
    verify_receipt(&receipt, &enclave.document, &options).unwrap();
}

#[test]
fn one_document_many_receipts() {
    let enclave = Enclave::boot("many");
    let verifier = ReceiptVerifier::new(&enclave.document, &enclave.options()).unwrap();
    assert_eq!(verifier.attested_keys(), &enclave.keys);
    assert_eq!(
        verifier.user_data(),
        &UserData { config_hash: enclave.config_hash, policy_hash: Some(enclave.policy_hash) }
    );
    assert_eq!(verifier.attestation_hash(), &enclave.claims().attestation_hash);
    assert_eq!(verifier.document().module_id(), "sentinel-dev-simulator");
    for i in 0..20u8 {
        let mut claims = enclave.claims();
        claims.request_id = [i; 16];
        claims.timestamp_us += u64::from(i);
        assert_eq!(verifier.verify(&enclave.sign(&claims)).unwrap().claims(), &claims);
    }
}

#[test]
fn the_document_is_checked_with_the_attestation_crate_codes() {
    let enclave = Enclave::boot("document");
    let receipt = enclave.sign(&enclave.claims());
    let verify = |document: &[u8], options: &ReceiptOptions<'_>| verify_receipt(&receipt, document, options);

    let aws = ReceiptOptions { root_der: sentinel_attestation::AWS_NITRO_ROOT_G1_DER, ..enclave.options() };
    assert_eq!(code(verify(&enclave.document, &aws)), "ROOT_MISMATCH");
    let other = Enclave::boot("other root");
    let other_root = ReceiptOptions { root_der: other.nsm.root_der(), ..enclave.options() };
    assert_eq!(code(verify(&enclave.document, &other_root)), "ROOT_MISMATCH");
    let expired = ReceiptOptions { now: UnixTime::from_millis(T0_MS + 4 * 3600 * 1000), ..enclave.options() };
    assert_eq!(code(verify(&enclave.document, &expired)), "CERTIFICATE_NOT_VALID_AT_TIME");
    let mut tampered = enclave.document.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1; // inside the ES384 signature
    assert_eq!(code(verify(&tampered, &enclave.options())), "SIGNATURE_INVALID");
    assert_eq!(code(verify(b"", &enclave.options())), "MALFORMED_CBOR");
}

#[test]
fn debug_mode_documents_need_allow_debug() {
    let enclave = Enclave::boot_with_pcrs("debug", [[0; 48]; PCR_COUNT]);
    let receipt = enclave.sign(&enclave.claims());
    let options = ReceiptOptions { expected_pcr0: None, ..enclave.options() };
    assert_eq!(code(verify_receipt(&receipt, &enclave.document, &options)), "DEBUG_MODE_ENCLAVE");
    let allowed = ReceiptOptions { allow_debug: true, ..options };
    assert_eq!(verify_receipt(&receipt, &enclave.document, &allowed).unwrap().pcr0(), &[0; 48]);
}

#[test]
fn pcr0_must_be_the_expected_image() {
    let enclave = Enclave::boot("pcr0");
    let receipt = enclave.sign(&enclave.claims());
    let mut wrong = enclave.pcr0();
    wrong[47] ^= 1;
    let options = ReceiptOptions { expected_pcr0: Some(wrong), ..enclave.options() };
    assert_eq!(code(verify_receipt(&receipt, &enclave.document, &options)), "RECEIPT_PCR0_MISMATCH");
}

#[test]
fn the_key_bundle_must_be_well_formed() {
    let enclave = Enclave::boot("bundle");
    let receipt = enclave.sign(&enclave.claims());
    let user_data = Some(enclave.user_data());
    let bundle = enclave.keys.to_bytes().to_vec();
    // An Ed25519 encoding that is not a curve point.
    let not_a_point = (0u8..=255)
        .map(|i| {
            let mut k = [0x55; 32];
            k[0] = i;
            k
        })
        .find(|k| VerifyingKey::from_bytes(k).is_err())
        .unwrap();
    let bad_point = AttestedKeys { receipt: not_a_point, ..enclave.keys }.to_bytes().to_vec();
    let mut version_2 = bundle.clone();
    version_2[0] = 0x02;
    for public_key in [None, Some(bundle[..96].to_vec()), Some(vec![0x01]), Some(version_2), Some(bad_point)] {
        let document = enclave.document_with(public_key.clone(), user_data.clone(), T0_MS);
        let options = ReceiptOptions { expected_config_hash: None, ..enclave.options() };
        assert_eq!(code(verify_receipt(&receipt, &document, &options)), "ATTESTED_KEYS_MALFORMED", "{public_key:?}");
    }
    assert_eq!(code(verify_receipt_with_key(&receipt, &not_a_point)), "ATTESTED_KEYS_MALFORMED");
}

#[test]
fn user_data_must_be_well_formed() {
    let enclave = Enclave::boot("user-data");
    let receipt = enclave.sign(&enclave.claims());
    let bundle = Some(enclave.keys.to_bytes().to_vec());
    let mut v2 = enclave.user_data();
    v2[0] = 0x02;
    // The earlier layout, 0x02 || config_hash (33 bytes).
    let old_layout = [&[0x02][..], &enclave.config_hash].concat();
    let mut v1 = old_layout.clone();
    v1[0] = 0x01;
    let truncated = enclave.user_data()[..64].to_vec();
    for user_data in
        [None, Some(v2), Some(old_layout), Some(v1), Some(truncated), Some(enclave.config_hash.to_vec()), Some(vec![])]
    {
        let document = enclave.document_with(bundle.clone(), user_data.clone(), T0_MS);
        assert_eq!(
            code(verify_receipt(&receipt, &document, &enclave.options())),
            "USER_DATA_MALFORMED",
            "{user_data:?}"
        );
    }
}

#[test]
fn a_swapped_document_is_refused() {
    let enclave = Enclave::boot("swap");
    let receipt = enclave.sign(&enclave.claims());
    // Same module, same keys, same configuration, a second later: a genuine
    // document, but not the one the receipt names.
    let later = enclave.document_with(Some(enclave.keys.to_bytes().to_vec()), Some(enclave.user_data()), T0_MS + 1_000);
    assert_eq!(code(verify_receipt(&receipt, &later, &enclave.options())), "RECEIPT_ATTESTATION_MISMATCH");
    // Another enclave's document (its own keys, configuration and policy).
    let other = Enclave::boot("swap-other");
    let options = ReceiptOptions {
        root_der: other.nsm.root_der(),
        expected_config_hash: None,
        expected_policy_hash: None,
        ..enclave.options()
    };
    assert_eq!(code(verify_receipt(&receipt, &other.document, &options)), "RECEIPT_ATTESTATION_MISMATCH");
}

#[test]
fn a_different_configuration_is_refused() {
    let enclave = Enclave::boot("config");
    // The caller expects another configuration.
    let receipt = enclave.sign(&enclave.claims());
    let options = ReceiptOptions { expected_config_hash: Some(h("another config")), ..enclave.options() };
    assert_eq!(code(verify_receipt(&receipt, &enclave.document, &options)), "RECEIPT_CONFIG_MISMATCH");
    // The receipt claims a configuration the document does not attest (signed by the right key).
    let claims = sentinel_evidence::ReceiptClaims { config_hash: h("another config"), ..enclave.claims() };
    let receipt = enclave.sign(&claims);
    assert_eq!(code(verify_receipt(&receipt, &enclave.document, &enclave.options())), "RECEIPT_CONFIG_MISMATCH");
    let options = ReceiptOptions { expected_config_hash: None, ..enclave.options() };
    assert_eq!(code(verify_receipt(&receipt, &enclave.document, &options)), "RECEIPT_CONFIG_MISMATCH");
}

#[test]
fn a_different_policy_is_refused() {
    let enclave = Enclave::boot("policy");
    let receipt = enclave.sign(&enclave.claims());
    let unpinned = ReceiptOptions { expected_policy_hash: None, ..enclave.options() };
    verify_receipt(&receipt, &enclave.document, &unpinned).unwrap();
    // The caller expects another policy: the document does not attest it.
    let options = ReceiptOptions { expected_policy_hash: Some(h("another policy")), ..enclave.options() };
    let e = verify_receipt(&receipt, &enclave.document, &options).unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        ("RECEIPT_POLICY_MISMATCH", "the document's policy hash (user_data) is not the expected one")
    );
    // The receipt claims a policy the document does not attest (signed by the right key), or none.
    for policy_hash in [Some(h("another policy")), None] {
        let receipt = enclave.sign(&sentinel_evidence::ReceiptClaims { policy_hash, ..enclave.claims() });
        for options in [enclave.options(), unpinned] {
            let e = verify_receipt(&receipt, &enclave.document, &options).unwrap_err();
            assert_eq!(
                (e.code(), e.message()),
                ("RECEIPT_POLICY_MISMATCH", "policy_hash differs from the policy hash in the document's user_data")
            );
        }
    }

    // A document attesting no policy (32 zero bytes).
    let no_policy = UserData { config_hash: enclave.config_hash, policy_hash: None }.to_bytes().to_vec();
    assert_eq!(&no_policy[33..], &[0; 32]);
    let document = enclave.document_with(Some(enclave.keys.to_bytes().to_vec()), Some(no_policy), T0_MS);
    let claims = sentinel_evidence::ReceiptClaims {
        policy_hash: None,
        rules_evaluated: vec![],
        attestation_hash: sha2::Sha256::digest(&document).into(),
        ..enclave.claims()
    };
    let receipt = enclave.sign(&claims);
    assert_eq!(verify_receipt(&receipt, &document, &unpinned).unwrap().claims(), &claims);
    let verifier = ReceiptVerifier::new(&document, &unpinned).unwrap();
    assert_eq!(verifier.user_data().policy_hash, None);
    // Pinning a policy refuses it.
    let e = verify_receipt(&receipt, &document, &enclave.options()).unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        ("RECEIPT_POLICY_MISMATCH", "the document attests no policy (user_data), not the expected one")
    );
    // A receipt claiming a policy against it is refused.
    let claiming = enclave.sign(&sentinel_evidence::ReceiptClaims { policy_hash: Some(enclave.policy_hash), ..claims });
    assert_eq!(code(verify_receipt(&claiming, &document, &unpinned)), "RECEIPT_POLICY_MISMATCH");
}

#[test]
fn a_receipt_signed_by_another_key_is_refused() {
    let enclave = Enclave::boot("other-key");
    let forged = sign_receipt(&enclave.claims(), &SigningKey::from_bytes(&h("attacker")));
    assert_eq!(code(verify_receipt(&forged, &enclave.document, &enclave.options())), "RECEIPT_SIGNATURE_INVALID");
    assert_eq!(code(verify_receipt_with_key(&forged, &enclave.keys.receipt)), "RECEIPT_SIGNATURE_INVALID");
}

#[test]
fn a_tampered_claim_is_refused() {
    let enclave = Enclave::boot("tamper");
    let receipt = enclave.sign(&enclave.claims());
    // One byte of the principal's text.
    let at = receipt.windows(10).position(|w| w == b"dev-client").unwrap();
    let mut tampered = receipt.clone();
    tampered[at] = b'D';
    assert_eq!(code(verify_receipt(&tampered, &enclave.document, &enclave.options())), "RECEIPT_SIGNATURE_INVALID");
    // Decision flipped (same length: "allowed" -> "denied " is not a decision; use the byte of the op).
    let at = receipt.windows(11).position(|w| w == b"sign_digest").unwrap();
    let mut tampered = receipt.clone();
    tampered[at + 5] = b'D';
    assert_eq!(code(verify_receipt(&tampered, &enclave.document, &enclave.options())), "RECEIPT_SIGNATURE_INVALID");

    // Every single-bit flip anywhere in the receipt is refused, with one of these codes.
    let verifier = ReceiptVerifier::new(&enclave.document, &enclave.options()).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..receipt.len() {
        for bit in [0x01u8, 0x80] {
            let mut bytes = receipt.clone();
            bytes[i] ^= bit;
            let e = verifier.verify(&bytes).expect_err("a flipped bit must be refused");
            seen.insert(e.code());
        }
    }
    let allowed = [
        "RECEIPT_MALFORMED",
        "RECEIPT_SIGNATURE_INVALID",
        "RECEIPT_ATTESTATION_MISMATCH",
        "RECEIPT_CONFIG_MISMATCH",
        "RECEIPT_POLICY_MISMATCH",
    ];
    assert!(seen.iter().all(|c| allowed.contains(c)), "{seen:?}");
    assert_eq!(seen.len(), allowed.len(), "{seen:?}");
}

#[test]
fn codes_are_stable() {
    use sentinel_evidence::ErrorCode;
    let codes: Vec<_> = ErrorCode::OWN.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        codes,
        [
            "ATTESTED_KEYS_MALFORMED",
            "USER_DATA_MALFORMED",
            "RECEIPT_MALFORMED",
            "RECEIPT_SIGNATURE_INVALID",
            "RECEIPT_ATTESTATION_MISMATCH",
            "RECEIPT_CONFIG_MISMATCH",
            "RECEIPT_PCR0_MISMATCH",
            "RECEIPT_POLICY_MISMATCH",
        ]
    );
    // Each is listed in the format document.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/receipts.md")).unwrap();
    for code in codes {
        assert!(doc.contains(&format!("`{code}`")), "docs/receipts.md does not list {code}");
    }
}
