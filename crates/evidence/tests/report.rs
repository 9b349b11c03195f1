//! `check_receipt`: the cases of receipts.rs (valid, swapped document, wrong
//! configuration, another signing key, …) reported check by check, parity
//! with `verify_receipt` (same verdict, and its error is one of the failed
//! checks), the binding entry point and the JS shape.

mod common;

use common::{h, Enclave, T0_MS};
use sentinel_attestation::report::sentinel_user_data;
use sentinel_evidence::{
    check_receipt, check_receipt_request, sign_receipt, verify_receipt, CheckReceiptOptionsSpec, ReceiptClaims,
    ReceiptOptions, ReceiptReport, SigningKey, UnixTime, UserData, RECEIPT_CHECKS,
};

use sentinel_attestation::CheckStatus::{self, Fail, NotRequested, NotRun, Pass};

const IDS: [&str; 9] = [
    "document",
    "pcr0",
    "attested_keys",
    "user_data",
    "receipt_structure",
    "attestation_binding",
    "config_binding",
    "policy_binding",
    "receipt_signature",
];

/// Every check that is not `pass`, as `(id, status, code)`.
fn not_passed(report: &ReceiptReport) -> Vec<(&'static str, CheckStatus, Option<&'static str>)> {
    report.checks.iter().filter(|c| c.status != Pass).map(|c| (c.id, c.status, c.code)).collect()
}

/// `check_receipt`, checked against `verify_receipt` on the same input: same
/// verdict, and `verify_receipt`'s error is among the failed checks.
fn report(receipt: &[u8], document: &[u8], options: &ReceiptOptions<'_>) -> ReceiptReport {
    let report = check_receipt(receipt, document, options);
    assert_eq!(report.checks.iter().map(|c| c.id).collect::<Vec<_>>(), IDS);
    match verify_receipt(receipt, document, options) {
        Ok(verified) => {
            assert!(report.ok, "{:?}", not_passed(&report));
            assert_eq!(report.claims, Some(verified.claims().view()));
        }
        Err(e) => {
            assert!(!report.ok);
            let failed: Vec<_> = report.checks.iter().filter(|c| c.status == Fail).collect();
            assert!(failed.iter().any(|c| c.code == Some(e.code())), "{} not in {:?}", e.code(), not_passed(&report));
        }
    }
    report
}

#[test]
fn a_valid_receipt_passes_every_check() {
    let enclave = Enclave::boot("report-valid");
    let claims = enclave.claims();
    let r = report(&enclave.sign(&claims), &enclave.document, &enclave.options());
    assert!(r.ok);
    assert!(r.development, "the simulator's root is a development root");
    assert_eq!(not_passed(&r), []);
    assert_eq!(r.claims, Some(claims.view()));
    assert!(r.checks.iter().all(|c| !c.label.is_empty() && !c.detail.is_empty()));
    assert_eq!(RECEIPT_CHECKS.map(|c| c.id), IDS);

    // Without expectations, PCR0 is not requested (and the bindings still run).
    let options = ReceiptOptions {
        expected_pcr0: None,
        expected_config_hash: None,
        expected_policy_hash: None,
        ..enclave.options()
    };
    let r = report(&enclave.sign(&claims), &enclave.document, &options);
    assert!(r.ok);
    assert_eq!(not_passed(&r), [("pcr0", NotRequested, None)]);
}

#[test]
fn a_swapped_document_fails_the_attestation_binding() {
    let enclave = Enclave::boot("report-swap");
    let receipt = enclave.sign(&enclave.claims());
    // Same module, keys and configuration, a second later: only the binding fails.
    let later = enclave.document_with(Some(enclave.keys.to_bytes().to_vec()), Some(enclave.user_data()), T0_MS + 1_000);
    let r = report(&receipt, &later, &enclave.options());
    assert_eq!(not_passed(&r), [("attestation_binding", Fail, Some("RECEIPT_ATTESTATION_MISMATCH"))]);
    // Another enclave's document: its own key, configuration and policy.
    let other = Enclave::boot("report-swap-other");
    let options = ReceiptOptions {
        root_der: other.nsm.root_der(),
        expected_config_hash: None,
        expected_policy_hash: None,
        ..enclave.options()
    };
    let r = report(&receipt, &other.document, &options);
    assert_eq!(
        not_passed(&r),
        [
            ("attestation_binding", Fail, Some("RECEIPT_ATTESTATION_MISMATCH")),
            ("config_binding", Fail, Some("RECEIPT_CONFIG_MISMATCH")),
            ("policy_binding", Fail, Some("RECEIPT_POLICY_MISMATCH")),
            ("receipt_signature", Fail, Some("RECEIPT_SIGNATURE_INVALID")),
        ]
    );
}

#[test]
fn a_wrong_configuration_or_policy_fails_its_binding() {
    let enclave = Enclave::boot("report-config");
    let receipt = enclave.sign(&enclave.claims());
    // The caller expects another configuration.
    let options = ReceiptOptions { expected_config_hash: Some(h("another config")), ..enclave.options() };
    let r = report(&receipt, &enclave.document, &options);
    assert_eq!(not_passed(&r), [("config_binding", Fail, Some("RECEIPT_CONFIG_MISMATCH"))]);
    assert!(r.checks[6].detail.contains("not the expected one"));
    // The receipt claims a configuration the document does not attest.
    let claims = ReceiptClaims { config_hash: h("another config"), ..enclave.claims() };
    let r = report(&enclave.sign(&claims), &enclave.document, &enclave.options());
    assert_eq!(not_passed(&r), [("config_binding", Fail, Some("RECEIPT_CONFIG_MISMATCH"))]);
    // The caller expects another policy.
    let options = ReceiptOptions { expected_policy_hash: Some(h("another policy")), ..enclave.options() };
    let r = report(&receipt, &enclave.document, &options);
    assert_eq!(not_passed(&r), [("policy_binding", Fail, Some("RECEIPT_POLICY_MISMATCH"))]);
    // The expected PCR0 is another image.
    let mut wrong = enclave.pcr0();
    wrong[0] ^= 1;
    let options = ReceiptOptions { expected_pcr0: Some(wrong), ..enclave.options() };
    let r = report(&receipt, &enclave.document, &options);
    assert_eq!(not_passed(&r), [("pcr0", Fail, Some("RECEIPT_PCR0_MISMATCH"))]);
}

#[test]
fn a_bad_signature_fails_only_the_signature() {
    let enclave = Enclave::boot("report-signature");
    let forged = sign_receipt(&enclave.claims(), &SigningKey::from_bytes(&h("attacker")));
    let r = report(&forged, &enclave.document, &enclave.options());
    assert_eq!(not_passed(&r), [("receipt_signature", Fail, Some("RECEIPT_SIGNATURE_INVALID"))]);
    // The claims are shown, but the report is not ok.
    assert_eq!(r.claims, Some(enclave.claims().view()));
    assert!(!r.ok);
}

#[test]
fn the_document_check_carries_the_attestation_report_and_the_rest_still_runs() {
    let enclave = Enclave::boot("report-document");
    let receipt = enclave.sign(&enclave.claims());
    // Judged four hours later: the leaf has expired, the receipt itself is right.
    let expired = ReceiptOptions { now: UnixTime::from_millis(T0_MS + 4 * 3600 * 1000), ..enclave.options() };
    let r = report(&receipt, &enclave.document, &expired);
    assert_eq!(not_passed(&r), [("document", Fail, Some("CERTIFICATE_NOT_VALID_AT_TIME"))]);
    assert!(r.checks[0].detail.starts_with("Certificates valid at the time: "), "{}", r.checks[0].detail);

    // A document that does not decode: nothing it would attest can be checked.
    let truncated = &enclave.document[..enclave.document.len() / 2];
    let r = report(&receipt, truncated, &enclave.options());
    assert_eq!(
        not_passed(&r),
        [
            ("document", Fail, Some("MALFORMED_CBOR")),
            ("pcr0", NotRun, None),
            ("attested_keys", NotRun, None),
            ("user_data", NotRun, None),
            ("attestation_binding", Fail, Some("RECEIPT_ATTESTATION_MISMATCH")),
            ("config_binding", NotRun, None),
            ("policy_binding", NotRun, None),
            ("receipt_signature", NotRun, None),
        ]
    );
    // A tampered document signature is fatal too.
    let mut tampered = enclave.document.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let r = report(&receipt, &tampered, &enclave.options());
    assert_eq!(r.checks[0].code, Some("SIGNATURE_INVALID"));
    assert_eq!(r.checks[1].status, NotRun);

    // The wrong root (the AWS one) is a failed document, not an error.
    let aws = ReceiptOptions { root_der: sentinel_attestation::AWS_NITRO_ROOT_G1_DER, ..enclave.options() };
    let r = report(&receipt, &enclave.document, &aws);
    assert_eq!(r.checks[0].code, Some("ROOT_MISMATCH"));
    assert!(!r.development);
}

#[test]
fn malformed_receipts_bundles_and_user_data_are_reported() {
    let enclave = Enclave::boot("report-malformed");
    let receipt = enclave.sign(&enclave.claims());
    let r = report(&receipt[..receipt.len() - 1], &enclave.document, &enclave.options());
    assert_eq!(
        not_passed(&r),
        [
            ("receipt_structure", Fail, Some("RECEIPT_MALFORMED")),
            ("attestation_binding", NotRun, None),
            ("config_binding", NotRun, None),
            ("policy_binding", NotRun, None),
            ("receipt_signature", NotRun, None),
        ]
    );
    assert_eq!(r.claims, None);

    // No key bundle: the signature cannot be checked; the bindings still are.
    let document = enclave.document_with(None, Some(enclave.user_data()), T0_MS);
    let claims = ReceiptClaims {
        attestation_hash: <sha2::Sha256 as sha2::Digest>::digest(&document).into(),
        ..enclave.claims()
    };
    let r = report(&enclave.sign(&claims), &document, &enclave.options());
    assert_eq!(
        not_passed(&r),
        [("attested_keys", Fail, Some("ATTESTED_KEYS_MALFORMED")), ("receipt_signature", NotRun, None)]
    );
    // An older user_data layout: the configuration and policy cannot be compared.
    let old = [&[0x02][..], &enclave.config_hash].concat();
    let document = enclave.document_with(Some(enclave.keys.to_bytes().to_vec()), Some(old), T0_MS);
    let claims = ReceiptClaims {
        attestation_hash: <sha2::Sha256 as sha2::Digest>::digest(&document).into(),
        ..enclave.claims()
    };
    let r = report(&enclave.sign(&claims), &document, &enclave.options());
    assert_eq!(
        not_passed(&r),
        [
            ("user_data", Fail, Some("USER_DATA_MALFORMED")),
            ("config_binding", NotRun, None),
            ("policy_binding", NotRun, None),
        ]
    );
}

#[test]
fn binding_entry_point_and_json_shape() {
    let enclave = Enclave::boot("report-binding");
    let receipt = enclave.sign(&enclave.claims());
    let root: Vec<u8> = enclave.nsm.root_der().to_vec();
    let at = T0_MS + 60_000;
    let spec = |json: String| serde_json::from_str::<CheckReceiptOptionsSpec>(&json);
    let base = |extra: &str| format!(r#"{{"root": {root:?}, "atMs": {at}{extra}}}"#);
    let pcr0 = hex(&enclave.pcr0());
    let options = spec(base(&format!(
        r#", "allowDebug": false, "expectedPcr0": "0x{pcr0}", "expectedConfigHash": "{}", "expectedPolicyHash": "{}""#,
        hex(&enclave.config_hash),
        hex(&enclave.policy_hash)
    )))
    .unwrap();
    let r = check_receipt_request(&receipt, &enclave.document, &options).unwrap();
    assert!(r.ok, "{:?}", not_passed(&r));
    // A bad document or receipt is a report.
    let r = check_receipt_request(b"junk", b"junk", &options).unwrap();
    assert_eq!((r.checks[0].status, r.checks[4].status), (Fail, Fail));

    let json = serde_json::to_value(check_receipt_request(&receipt, &enclave.document, &options).unwrap()).unwrap();
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["checks", "claims", "development", "ok"]);
    assert_eq!(json["development"], true);
    assert_eq!(
        json["checks"][1],
        serde_json::json!({"id": "pcr0", "label": "Enclave image (PCR0)", "status": "pass",
        "detail": "PCR0 is the expected image.", "code": null})
    );
    assert_eq!(json["claims"]["configHash"], format!("0x{}", hex(&enclave.config_hash)));

    // Argument errors are errors: wrong sizes, bad time; wrong types and unknown keys do not deserialize.
    let code =
        |json: String| check_receipt_request(&receipt, &enclave.document, &spec(json).unwrap()).unwrap_err().code();
    assert_eq!(code(base(r#", "expectedPcr0": "00""#)), "INVALID_EXPECTATION");
    assert_eq!(code(base(r#", "expectedConfigHash": "zz""#)), "INVALID_EXPECTATION");
    assert_eq!(code(r#"{"root": [1], "atMs": -5}"#.to_string()), "INVALID_TIME");
    for bad in [
        r#"{"root": [1]}"#.to_string(),
        r#"{"root": [1], "now": 5}"#.to_string(),
        r#"{"root": [1], "now": 5, "atMs": 5}"#.to_string(),
        r#"{"atMs": 5}"#.to_string(),
        r#"{"root": [1], "atMs": "5"}"#.to_string(),
        r#"{"root": [1], "atMs": 5, "allowDebug": 1}"#.to_string(),
        r#"{"root": [1], "atMs": 5, "expectedPCR0": "00"}"#.to_string(),
    ] {
        assert!(spec(bad.clone()).is_err(), "{bad}");
    }
    // verifyReceipt's options keep `now` and refuse `atMs`.
    assert!(serde_json::from_str::<sentinel_evidence::ReceiptOptionsSpec>(r#"{"root": [1], "atMs": 5}"#).is_err());
    assert!(serde_json::from_str::<sentinel_evidence::ReceiptOptionsSpec>(r#"{"root": [1], "now": 5}"#).is_ok());
}

/// The attestation report reads Sentinel's user_data with its own minimal
/// slicing (it cannot depend on this crate); it must agree with `UserData`.
#[test]
fn the_attestation_reports_user_data_reading_agrees_with_user_data() {
    let full = UserData { config_hash: h("c"), policy_hash: Some(h("p")) }.to_bytes();
    let no_policy = UserData { config_hash: h("c"), policy_hash: None }.to_bytes();
    let mut cases: Vec<Vec<u8>> = vec![full.to_vec(), no_policy.to_vec()];
    for len in 0..=70 {
        cases.push(full.iter().copied().cycle().take(len).collect());
    }
    for version in 0..=255u8 {
        let mut bytes = full;
        bytes[0] = version;
        cases.push(bytes.to_vec());
    }
    let mut almost = no_policy;
    almost[64] = 1;
    cases.push(almost.to_vec());
    for bytes in cases {
        let ours = UserData::from_bytes(&bytes).ok().map(|u| (u.config_hash, u.policy_hash));
        assert_eq!(sentinel_user_data(&bytes), ours, "{bytes:02x?}");
    }

    // And the attestation report's config_hash check on a real Sentinel document.
    let enclave = Enclave::boot("report-user-data");
    let check = |config: Option<[u8; 32]>, policy: Option<[u8; 32]>| {
        let expect =
            sentinel_attestation::CheckExpectations { config_hash: config, policy_hash: policy, ..Default::default() };
        let r = sentinel_attestation::check_attestation(
            &enclave.document,
            enclave.nsm.root_der(),
            UnixTime::from_millis(T0_MS + 60_000),
            &Default::default(),
            &expect,
        );
        let user_data = r.user_data.clone().unwrap();
        assert_eq!(user_data.config_hash, hex(&enclave.config_hash));
        assert_eq!(user_data.policy_hash, Some(hex(&enclave.policy_hash)));
        let c = r.checks.iter().find(|c| c.id == "config_hash").unwrap();
        (c.status, c.code)
    };
    assert_eq!(check(None, None), (NotRequested, None));
    assert_eq!(check(Some(enclave.config_hash), None), (Pass, None));
    assert_eq!(check(Some(enclave.config_hash), Some(enclave.policy_hash)), (Pass, None));
    assert_eq!(check(None, Some(enclave.policy_hash)), (Pass, None));
    assert_eq!(check(Some(h("other")), None), (Fail, Some("USER_DATA_MISMATCH")));
    assert_eq!(check(Some(enclave.config_hash), Some(h("other"))), (Fail, Some("USER_DATA_MISMATCH")));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
