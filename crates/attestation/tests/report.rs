//! `check_attestation`: every check reported by name on the real AWS
//! documents (inside and outside the validity window, a mutated signature, a
//! truncated document, wrong and missing expectations), the JS shape of the
//! report, the binding entry point, and parity with `verify_with`: a report's
//! first failure is the error `verify_with` returns, so the two never disagree.

mod common;

use common::{unhex, vector, vectors};
use sentinel_attestation::report::{sentinel_user_data, ATTESTATION_CHECKS};
use sentinel_attestation::{
    check_attestation, check_attestation_request, verify_with, AttestationReport, CheckAttestationOptions,
    CheckExpectations, CheckStatus, UnixTime, VerifyOptions, AWS_NITRO_ROOT_G1_DER, AWS_NITRO_ROOT_G1_SHA256,
};

use CheckStatus::{Fail, NotRequested, NotRun, Pass};

const PRODUCTION: VerifyOptions = VerifyOptions { allow_debug: false };

fn none() -> CheckExpectations {
    CheckExpectations::default()
}

/// `(id, status, code)` of every check, in order.
fn outcome(report: &AttestationReport) -> Vec<(&'static str, CheckStatus, Option<&'static str>)> {
    report.checks.iter().map(|c| (c.id, c.status, c.code)).collect()
}

fn status(report: &AttestationReport, id: &str) -> (CheckStatus, Option<&'static str>) {
    let check = report.checks.iter().find(|c| c.id == id).unwrap();
    (check.status, check.code)
}

const IDS: [&str; 9] =
    ["structure", "chain", "validity", "signature", "debug_mode", "pcrs", "nonce", "freshness", "config_hash"];

#[test]
fn a_valid_document_passes_and_unrequested_checks_say_so() {
    let v = vector("eternis_example_attestation");
    let report = check_attestation(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at(), &PRODUCTION, &none());
    assert_eq!(
        outcome(&report),
        [
            ("structure", Pass, None),
            ("chain", Pass, None),
            ("validity", Pass, None),
            ("signature", Pass, None),
            ("debug_mode", Pass, None),
            ("pcrs", NotRequested, None),
            ("nonce", NotRequested, None),
            ("freshness", NotRequested, None),
            ("config_hash", NotRequested, None),
        ]
    );
    assert!(report.ok);
    assert!(!report.development);
    assert_eq!(report.root_fingerprint, AWS_NITRO_ROOT_G1_SHA256);
    let doc = report.document.as_ref().unwrap();
    assert_eq!(doc.timestamp_ms as u64, v.timestamp_ms());
    assert_eq!(doc.root_kind, "aws-nitro");
    assert!(report.authentic_document().is_some());
    assert!(report.checks.iter().all(|c| !c.label.is_empty() && !c.detail.is_empty()));
    assert_eq!(ATTESTATION_CHECKS.map(|c| c.id), IDS);
}

#[test]
fn outside_the_validity_window_only_validity_fails() {
    for v in vectors().iter().filter(|v| v.signature_valid()) {
        for t in [v.not_before_ms() - 1, v.not_after_ms() + 3_600_000] {
            let options = VerifyOptions { allow_debug: true };
            let report =
                check_attestation(&v.bytes, AWS_NITRO_ROOT_G1_DER, UnixTime::from_millis(t), &options, &none());
            assert_eq!(status(&report, "validity"), (Fail, Some("CERTIFICATE_NOT_VALID_AT_TIME")), "{} at {t}", v.file);
            for id in ["structure", "chain", "signature", "debug_mode"] {
                assert_eq!(status(&report, id), (Pass, None), "{} {id}", v.file);
            }
            assert!(!report.ok);
            assert!(report.document.is_some());
            // The document is authentic (signature and chain verify) but not trusted.
            assert!(report.authentic_document().is_some());
            let detail = &report.checks[2].detail;
            assert!(detail.contains("not yet valid") || detail.contains("expired"), "{detail}");
        }
    }
}

#[test]
fn a_mutated_signature_fails_signature_and_stops_there() {
    let v = vector("qos_attestation-doc.bin");
    let mut doc = v.bytes.clone();
    let last = doc.len() - 1;
    doc[last] ^= 1;
    let expect = CheckExpectations { pcrs: vec![(0, unhex(v.expected["pcr0"].as_str().unwrap()))], ..none() };
    let report = check_attestation(&doc, AWS_NITRO_ROOT_G1_DER, v.at(), &PRODUCTION, &expect);
    assert_eq!(
        outcome(&report),
        [
            ("structure", Pass, None),
            ("chain", Pass, None),
            ("validity", Pass, None),
            ("signature", Fail, Some("SIGNATURE_INVALID")),
            ("debug_mode", NotRun, None),
            ("pcrs", NotRun, None),
            ("nonce", NotRequested, None),
            ("freshness", NotRequested, None),
            ("config_hash", NotRequested, None),
        ]
    );
    assert!(!report.ok);
    // Decoded fields are still shown (structure passed); nothing is authentic.
    assert!(report.document.is_some());
    assert!(report.authentic_document().is_none());

    // The recorded invalid document: signature fails, debug mode is not judged.
    let bad = vector("eternis_invalid_attestation");
    let report = check_attestation(&bad.bytes, AWS_NITRO_ROOT_G1_DER, bad.at(), &PRODUCTION, &none());
    assert_eq!(status(&report, "signature"), (Fail, Some("SIGNATURE_INVALID")));
    assert_eq!(status(&report, "debug_mode"), (NotRun, None));
}

#[test]
fn a_truncated_document_fails_structure_and_nothing_else_runs() {
    let v = vector("qos_attestation-doc.bin");
    let expect = CheckExpectations {
        pcrs: vec![(0, vec![1; 48])],
        nonce: Some(vec![1]),
        max_age_ms: Some(1),
        config_hash: Some([1; 32]),
        policy_hash: None,
    };
    for doc in [&v.bytes[..v.bytes.len() / 2], &[][..], &[0x80]] {
        let report = check_attestation(doc, AWS_NITRO_ROOT_G1_DER, v.at(), &PRODUCTION, &expect);
        assert_eq!(report.checks[0].status, Fail);
        assert!(report.checks[1..].iter().all(|c| c.status == NotRun), "{:?}", outcome(&report));
        assert_eq!(report.document, None);
        assert_eq!(report.user_data, None);
        assert!(!report.ok);
    }
    let report = check_attestation(&v.bytes[..100], AWS_NITRO_ROOT_G1_DER, v.at(), &PRODUCTION, &none());
    assert_eq!(report.checks[0].code, Some("MALFORMED_CBOR"));
    // Unrequested expectations stay not_requested rather than not_run.
    assert!(report.checks[5..].iter().all(|c| c.status == NotRequested));
}

#[test]
fn expectations_are_checked_one_by_one() {
    let v = vector("qos_attestation-doc.bin");
    let pcr = |i: u8| unhex(v.expected[format!("pcr{i}")].as_str().unwrap());
    let mut wrong = pcr(0);
    wrong[0] ^= 1;
    let run =
        |expect: &CheckExpectations| check_attestation(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at(), &PRODUCTION, expect);

    let right = CheckExpectations { pcrs: (0..3).map(|i| (i, pcr(i))).collect(), max_age_ms: Some(300_000), ..none() };
    let report = run(&right);
    assert!(report.ok, "{:?}", outcome(&report));
    assert_eq!(status(&report, "pcrs"), (Pass, None));
    assert_eq!(status(&report, "freshness"), (Pass, None));

    // Wrong PCR0: pcrs fails; the other checks still run.
    let report = run(&CheckExpectations { pcrs: vec![(0, wrong)], max_age_ms: Some(300_000), ..none() });
    assert_eq!(status(&report, "pcrs"), (Fail, Some("PCR_MISMATCH")));
    assert_eq!(status(&report, "freshness"), (Pass, None));
    assert!(report.checks[..5].iter().all(|c| c.status == Pass));
    assert!(!report.ok);

    // The qos document has no nonce; it is too old for 1 s; its user_data is not Sentinel's.
    let report = run(&CheckExpectations {
        nonce: Some(vec![1; 20]),
        max_age_ms: Some(1_000),
        config_hash: Some([1; 32]),
        ..none()
    });
    assert_eq!(status(&report, "nonce"), (Fail, Some("NONCE_MISMATCH")));
    assert_eq!(status(&report, "freshness"), (Fail, Some("TIMESTAMP_TOO_OLD")));
    assert_eq!(status(&report, "config_hash"), (Fail, Some("USER_DATA_MISMATCH")));
    assert_eq!(report.user_data, None);
    // The policy hash alone also asks for the check.
    let report = run(&CheckExpectations { policy_hash: Some([1; 32]), ..none() });
    assert_eq!(status(&report, "config_hash"), (Fail, Some("USER_DATA_MISMATCH")));
    // An invalid expectation fails its check, never passes.
    let report = run(&CheckExpectations { pcrs: vec![(0, vec![])], ..none() });
    assert_eq!(status(&report, "pcrs"), (Fail, Some("EMPTY_EXPECTATION")));
    let report = run(&CheckExpectations { pcrs: vec![(32, pcr(0))], ..none() });
    assert_eq!(status(&report, "pcrs"), (Fail, Some("INVALID_EXPECTATION")));

    // The right nonce (eternis).
    let e = vector("eternis_example_attestation");
    let nonce = check_attestation(&e.bytes, AWS_NITRO_ROOT_G1_DER, e.at(), &PRODUCTION, &none());
    let nonce = unhex(nonce.document.unwrap().nonce.as_deref().unwrap());
    let expect = CheckExpectations { nonce: Some(nonce), ..none() };
    let report = check_attestation(&e.bytes, AWS_NITRO_ROOT_G1_DER, e.at(), &PRODUCTION, &expect);
    assert_eq!(status(&report, "nonce"), (Pass, None));
}

#[test]
fn debug_mode_is_reported_and_allow_debug_accepts_it() {
    let v = vector("evervault_beta_debug-mode-attestation-doc-bytes");
    let report = check_attestation(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at(), &PRODUCTION, &none());
    assert_eq!(status(&report, "debug_mode"), (Fail, Some("DEBUG_MODE_ENCLAVE")));
    assert!(report.checks[..4].iter().all(|c| c.status == Pass));
    assert!(!report.ok);
    let allowed = VerifyOptions { allow_debug: true };
    let report = check_attestation(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at(), &allowed, &none());
    assert_eq!(status(&report, "debug_mode"), (Pass, None));
    assert!(report.checks[4].detail.contains("allowDebug"));
    assert!(report.ok);
}

#[test]
fn another_root_is_a_chain_failure_and_development() {
    let v = vector("qos_attestation-doc.bin");
    let other = include_bytes!("data/other_p384_root.der");
    let report = check_attestation(&v.bytes, other, v.at(), &PRODUCTION, &none());
    assert!(report.development);
    assert_eq!(report.root_fingerprint, common::hex(&sentinel_attestation::fingerprint(other)));
    assert_eq!(status(&report, "chain"), (Fail, Some("ROOT_MISMATCH")));
    for id in ["validity", "signature", "debug_mode"] {
        assert_eq!(status(&report, id), (NotRun, None));
    }
    assert_eq!(report.document.unwrap().root_kind, "other");
    let report = check_attestation(&v.bytes, b"not a cert", v.at(), &PRODUCTION, &none());
    assert_eq!(status(&report, "chain"), (Fail, Some("INVALID_TRUSTED_ROOT")));
}

/// The report and `verify_with` agree on every vector, at times inside and
/// outside the window, with and without allow_debug, and on sampled
/// single-byte mutations: `ok` iff verified, first failure = the error.
#[test]
fn the_first_failure_is_verify_withs_error() {
    let mut seed = 0x0bad_5eed_u64;
    let mut cases = 0;
    for v in vectors() {
        // The document at three times (inside, after, before the leaf's window)…
        let mut runs: Vec<(Vec<u8>, u64)> =
            [v.at().as_millis(), v.not_after_ms() + 1, v.not_before_ms() - 1].map(|t| (v.bytes.clone(), t)).into();
        // …and sampled single-byte mutations of it inside the window.
        for _ in 0..16 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut doc = v.bytes.clone();
            let at = (seed % doc.len() as u64) as usize;
            doc[at] ^= (seed >> 32) as u8 | 1;
            runs.push((doc, v.at().as_millis()));
        }
        for (doc, t) in &runs {
            for allow_debug in [false, true] {
                let (now, options) = (UnixTime::from_millis(*t), VerifyOptions { allow_debug });
                let report = check_attestation(doc, AWS_NITRO_ROOT_G1_DER, now, &options, &none());
                let verified = verify_with(doc, AWS_NITRO_ROOT_G1_DER, now, &options);
                let first = report.checks.iter().find(|c| c.status == Fail);
                assert_eq!(report.ok, verified.is_ok(), "{}", v.file);
                assert_eq!(first.map(|c| c.code.unwrap()), verified.as_ref().err().map(|e| e.code()), "{}", v.file);
                assert_eq!(first.map(|c| c.detail.as_str()), verified.as_ref().err().map(|e| e.message()));
                if let Ok(d) = verified {
                    assert_eq!(report.document, Some(d.view()));
                    assert_eq!(report.authentic_document(), Some(&d));
                }
                cases += 1;
            }
        }
    }
    assert!(cases > 200, "{cases}");
}

#[test]
fn json_shape_is_the_contracts() {
    let v = vector("qos_attestation-doc.bin");
    let report = check_attestation(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at(), &PRODUCTION, &none());
    let json = serde_json::to_value(&report).unwrap();
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["checks", "development", "document", "ok", "rootFingerprint", "userData"]);
    assert_eq!(json["userData"], serde_json::Value::Null);
    let ids: Vec<_> = json["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, IDS);
    for check in json["checks"].as_array().unwrap() {
        let mut keys: Vec<_> = check.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["code", "detail", "id", "label", "status"]);
    }
    assert_eq!(json["checks"][5]["status"], "not_requested");
    assert_eq!(json["checks"][0]["code"], serde_json::Value::Null);
    assert_eq!(json["document"]["pcrs"]["0"], v.expected["pcr0"]);
}

#[test]
fn binding_entry_point_parses_options_and_throws_only_for_arguments() {
    let v = vector("qos_attestation-doc.bin");
    let at = v.at().as_millis();
    let options = |json: String| serde_json::from_str::<CheckAttestationOptions>(&json);
    let pcr0 = v.expected["pcr0"].as_str().unwrap();
    let o = options(format!(
        r#"{{"atMs": {at}, "allowDebug": false, "expect": {{"pcrs": {{"0": "0x{pcr0}", "1": "{}"}}, "maxAgeMs": 60000}}}}"#,
        v.expected["pcr1"].as_str().unwrap()
    ))
    .unwrap();
    let report = check_attestation_request(&v.bytes, o.clone()).unwrap();
    assert!(report.ok, "{:?}", outcome(&report));
    assert_eq!(status(&report, "pcrs"), (Pass, None));
    // A bad document is a report.
    let report = check_attestation_request(b"junk", o).unwrap();
    assert_eq!(status(&report, "structure").0, Fail);
    // Bad arguments are errors.
    let code = |json: String| check_attestation_request(&v.bytes, options(json).unwrap()).unwrap_err().code();
    assert_eq!(code(r#"{"atMs": -1}"#.into()), "INVALID_TIME");
    assert_eq!(code(format!(r#"{{"atMs": {at}, "expect": {{"nonce": "zz"}}}}"#)), "INVALID_EXPECTATION");
    assert_eq!(code(format!(r#"{{"atMs": {at}, "expect": {{"configHash": "00"}}}}"#)), "INVALID_EXPECTATION");
    assert_eq!(
        code(format!(r#"{{"atMs": {at}, "expect": {{"policyHash": "0x{}"}}}}"#, "00".repeat(33))),
        "INVALID_EXPECTATION"
    );
    assert_eq!(code(format!(r#"{{"atMs": {at}, "expect": {{"pcrs": {{"x": "00"}}}}}}"#)), "INVALID_EXPECTATION");
    assert_eq!(code(format!(r#"{{"atMs": {at}, "expect": {{"maxAgeMs": 1.5}}}}"#)), "INVALID_EXPECTATION");
    // Wrong types and unknown expectation keys (verifyAttestation's included) are refused by the deserializer.
    for bad in [
        r#"{"atMs": "now"}"#.to_string(),
        format!(r#"{{"atMs": {at}, "expect": {{"userData": "00"}}}}"#),
        format!(r#"{{"atMs": {at}, "expect": {{"confighash": "00"}}}}"#),
        format!(r#"{{"atMs": {at}, "expect": {{"pcrs": {{"0": 5}}}}}}"#),
        format!(r#"{{"atMs": {at}, "allowDebug": 1}}"#),
    ] {
        assert!(options(bad.clone()).is_err(), "{bad}");
    }
    // An empty expect object checks nothing (every expectation not_requested).
    let empty = options(format!(r#"{{"atMs": {at}, "expect": {{}}}}"#)).unwrap();
    let report = check_attestation_request(&v.bytes, empty).unwrap();
    assert!(report.ok && report.checks[5..].iter().all(|c| c.status == NotRequested));
    // And checkAttestation's keys are not verifyAttestation's.
    let verify_options = r#"{"atMs": 1, "expect": {"configHash": "00"}}"#;
    assert!(serde_json::from_str::<sentinel_attestation::AttestationOptions>(verify_options).is_err());
}

#[test]
fn sentinel_user_data_is_read_when_present() {
    let v = vector("qos_attestation-doc.bin");
    let user_data = unhex(v.expected["user_data_hex"].as_str().unwrap());
    assert_eq!(sentinel_user_data(&user_data), None, "qos's user_data is not Sentinel's");
}
