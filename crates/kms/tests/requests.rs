//! The exact requests: bodies, headers and the SigV4 signature, checked byte for byte against
//! botocore's SigV4Auth (test/vectors/kms/sigv4.json, made by sigv4.py), and the input checks.
mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{body_json, unb64, vector};
use sentinel_kms::{
    create_key_body, decrypt_body, generate_data_key_body, signed_request, Credentials, KmsConfig, KmsErrorCode,
    KmsOperation, CONTENT_TYPE,
};
use serde_json::Value;

fn time(rfc3339: &str) -> SystemTime {
    // Only the fixture's fixed form: 2026-12-07T10:00:00Z.
    assert_eq!(rfc3339, "2026-12-07T10:00:00Z");
    UNIX_EPOCH + Duration::from_secs(1_796_637_600)
}

#[test]
fn requests_match_botocore_byte_for_byte() {
    let fixture: Value = serde_json::from_slice(&vector("sigv4.json")).unwrap();
    let cfg_host = fixture["host"].as_str().unwrap();
    let region = fixture["region"].as_str().unwrap();
    let now = time(fixture["time"].as_str().unwrap());
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let key_id = case["key_id"].as_str().unwrap();
        let cfg = KmsConfig::with_endpoint(region, cfg_host, key_id).unwrap();
        assert_eq!(cfg, KmsConfig::aws(region, key_id).unwrap(), "{name}: the public endpoint");
        let creds = Credentials::new(
            fixture["access_key_id"].as_str().unwrap(),
            fixture["secret_access_key"].as_str().unwrap(),
            case["session_token"].as_str(),
        )
        .unwrap();
        let doc = case["attestation_document_hex"].as_str().map(|h| hex::decode(h).unwrap());
        let (op, body) = match case["operation"].as_str().unwrap() {
            "GenerateDataKey" => {
                (KmsOperation::GenerateDataKey, generate_data_key_body(key_id, doc.as_deref()).unwrap())
            }
            "Decrypt" => {
                let blob = hex::decode(case["ciphertext_blob_hex"].as_str().unwrap()).unwrap();
                (KmsOperation::Decrypt, decrypt_body(&blob, Some(key_id), doc.as_deref()).unwrap())
            }
            other => panic!("{other}"),
        };
        assert_eq!(std::str::from_utf8(&body).unwrap(), case["body"].as_str().unwrap(), "{name}: body");
        let request = signed_request(op, body, &cfg, &creds, now).unwrap();
        assert_eq!((request.method, request.path), ("POST", "/"));
        assert_eq!(request.header("X-Amz-Target"), case["target"].as_str(), "{name}");
        assert_eq!(request.header("content-type"), Some(CONTENT_TYPE));
        assert_eq!(request.header("host"), Some(cfg_host));
        let signed = case["signed_headers"].as_object().unwrap();
        for (header, value) in signed {
            assert_eq!(request.header(header), value.as_str(), "{name}: {header}");
        }
        // Nothing else: host, content-type, x-amz-target, then exactly what botocore added.
        assert_eq!(request.headers.len(), 3 + signed.len(), "{name}: {:?}", request.headers);
        assert!(request.header("authorization").unwrap().starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/eu-west-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
        ));
    }
}

#[test]
fn bodies_have_kms_field_names_and_standard_base64() {
    let doc = b"\xd2\x84\x44\xa1\x01\x38\x22\xa0\x59 not really COSE";
    let body: Value = serde_json::from_slice(&generate_data_key_body("alias/k", Some(doc)).unwrap()).unwrap();
    assert_eq!(body["KeyId"], "alias/k");
    assert_eq!(body["KeySpec"], "AES_256");
    assert_eq!(body["Recipient"]["KeyEncryptionAlgorithm"], "RSAES_OAEP_SHA_256");
    assert_eq!(unb64(body["Recipient"]["AttestationDocument"].as_str().unwrap()), doc);
    assert_eq!(body.as_object().unwrap().len(), 3);

    let plain: Value = serde_json::from_slice(&generate_data_key_body("k", None).unwrap()).unwrap();
    assert_eq!(plain, serde_json::json!({"KeyId": "k", "KeySpec": "AES_256"}));

    let blob = [0xffu8, 0xfe, 0x00, 0x3e, 0x3f];
    let dec: Value = serde_json::from_slice(&decrypt_body(&blob, None, None).unwrap()).unwrap();
    // Standard alphabet with padding ('+' '/' '='), as AWS JSON blobs are.
    assert_eq!(dec, serde_json::json!({"CiphertextBlob": "//4APj8="}));
    let dec: Value = serde_json::from_slice(&decrypt_body(&blob, Some("k"), Some(doc)).unwrap()).unwrap();
    assert_eq!(dec["KeyId"], "k");
    assert_eq!(unb64(dec["Recipient"]["AttestationDocument"].as_str().unwrap()), doc);

    let create: Value = serde_json::from_slice(&create_key_body("sentinel test")).unwrap();
    assert_eq!(
        create,
        serde_json::json!({"Description": "sentinel test", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"})
    );
}

#[test]
fn session_token_is_sent_and_signed() {
    let cfg = KmsConfig::with_endpoint("us-east-1", "127.0.0.1:4566", "k").unwrap();
    let creds = Credentials::new("AKIA0", "secret", Some("token/with+chars=")).unwrap();
    let r = signed_request(
        KmsOperation::CreateKey,
        create_key_body("d"),
        &cfg,
        &creds,
        UNIX_EPOCH + Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(r.header("x-amz-security-token"), Some("token/with+chars="));
    assert_eq!(r.header("host"), Some("127.0.0.1:4566"));
    assert_eq!(r.header("x-amz-date"), Some("19700101T000001Z"));
    assert!(r.header("authorization").unwrap().contains("/19700101/us-east-1/kms/aws4_request"));
    assert!(r.header("authorization").unwrap().contains("x-amz-security-token"));
    assert_eq!(body_json(&r)["Description"], "d");
}

#[test]
fn input_checks_name_the_field() {
    let cases: Vec<(Result<(), sentinel_kms::KmsError>, &str)> = vec![
        (KmsConfig::aws("EU-WEST-1", "k").map(drop), "region"),
        (KmsConfig::aws("", "k").map(drop), "region"),
        (KmsConfig::aws("eu-west-1", "").map(drop), "key_id"),
        (KmsConfig::aws("eu-west-1", "has space").map(drop), "key_id"),
        (KmsConfig::aws("eu-west-1", &"k".repeat(2049)).map(drop), "key_id"),
        (KmsConfig::with_endpoint("eu-west-1", "host/path", "k").map(drop), "endpoint host"),
        (KmsConfig::with_endpoint("eu-west-1", "", "k").map(drop), "endpoint host"),
        (Credentials::new("", "s", None).map(drop), "access_key_id"),
        (Credentials::new("a", "se cret", None).map(drop), "secret_access_key"),
        (Credentials::new("a", "s", Some("tok\n")).map(drop), "session_token"),
        (decrypt_body(&[], None, None).map(drop), "ciphertext_blob"),
        (decrypt_body(&[1; 6145], None, None).map(drop), "ciphertext_blob"),
        (generate_data_key_body("k", Some(&[])).map(drop), "attestation_document"),
        (generate_data_key_body("k", Some(&vec![0; 64 * 1024 + 1])).map(drop), "attestation_document"),
    ];
    for (result, field) in cases {
        let e = result.unwrap_err();
        assert_eq!(e.kind(), KmsErrorCode::ArgumentInvalid, "{field}");
        assert!(e.message().starts_with(field), "{field}: {}", e.message());
    }
    assert!(decrypt_body(&[1; 6144], None, None).is_ok());
}

#[test]
fn credentials_never_print_their_secrets() {
    let creds = Credentials::new("AKIAEXAMPLE", "very-secret-key", Some("very-secret-token")).unwrap();
    let shown = format!("{creds:?}");
    assert!(shown.contains("AKIAEXAMPLE"), "{shown}");
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(shown.contains("<redacted>"));
    // The signed request carries the token (it must) but never the secret key.
    let cfg = KmsConfig::aws("eu-west-1", "k").unwrap();
    let r = signed_request(KmsOperation::CreateKey, create_key_body("d"), &cfg, &creds, UNIX_EPOCH).unwrap();
    assert!(!format!("{r:?}").contains("very-secret-key"));
}
