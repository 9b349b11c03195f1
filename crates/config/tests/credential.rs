//! Credential files and the development configuration.

mod common;

use sentinel_config::{
    development_configuration, development_signed_configuration, Alg, ConfigErrorCode as Code, Credential,
    CredentialKind, KeysAllowed, Operation, SignedConfig, Stamp, StampVerifier, DEV_ADMIN_ID, DEV_CLIENT_ID,
};

#[test]
fn json_round_trip_for_every_algorithm_and_kind() {
    for alg in Alg::ALL {
        for kind in [CredentialKind::Client, CredentialKind::Admin] {
            let c = Credential::generate(kind, "someone-1", alg, &[7; 32]).unwrap();
            let json = c.to_json();
            let expected = format!(
                "{{\"{}\":\"someone-1\",\"alg\":\"{}\",\"secret_key\":\"0x{}\"}}",
                kind.id_field(),
                alg.as_str(),
                "07".repeat(32)
            );
            assert_eq!(*json, expected);
            let back = Credential::from_json(&json).unwrap();
            assert_eq!((back.kind(), back.id(), back.alg()), (kind, "someone-1", alg));
            assert_eq!(back.public_key(), c.public_key());
            let digest = [9u8; 32];
            // Deterministic signatures for every algorithm.
            assert_eq!(back.sign(&digest), c.sign(&digest));
            assert!(c.public_key().verify(&digest, &c.sign(&digest)));
        }
    }
}

#[test]
fn contract_examples_parse() {
    let client = Credential::from_json(&format!(
        r#"{{ "principal": "dev-client", "alg": "ed25519", "secret_key": "0x{}" }}"#,
        "ab".repeat(32)
    ))
    .unwrap();
    assert_eq!((client.kind(), client.id()), (CredentialKind::Client, "dev-client"));
    let admin = Credential::from_json(&format!(
        r#"{{ "admin": "dev-admin", "alg": "secp256k1", "secret_key": "0x{}" }}"#,
        "AB".repeat(32)
    ))
    .unwrap();
    assert_eq!((admin.kind(), admin.alg()), (CredentialKind::Admin, Alg::Secp256k1));
}

#[test]
fn secrets_are_redacted() {
    let c = Credential::generate(CredentialKind::Admin, "a", Alg::P256, &[0x42; 32]).unwrap();
    let debug = format!("{c:?}");
    assert!(debug.contains("[REDACTED]") && debug.contains("\"a\""), "{debug}");
    assert!(!debug.contains("42") && !debug.contains("66"), "{debug}");
}

#[test]
fn refusals() {
    let secret = format!("0x{}", "11".repeat(32));
    let cases = [
        "not json".to_string(),
        format!(r#"{{"alg":"ed25519","secret_key":"{secret}"}}"#),
        format!(r#"{{"principal":"a","admin":"b","alg":"ed25519","secret_key":"{secret}"}}"#),
        format!(r#"{{"principal":"a","alg":"rsa","secret_key":"{secret}"}}"#),
        format!(r#"{{"principal":"a","alg":"ed25519","secret_key":"{}"}}"#, "11".repeat(32)),
        format!(r#"{{"principal":"a","alg":"ed25519","secret_key":"0x{}"}}"#, "11".repeat(31)),
        format!(r#"{{"principal":"a","alg":"ed25519","secret_key":"0x{}zz"}}"#, "11".repeat(31)),
        format!(r#"{{"principal":"a","alg":"ed25519","secret_key":"{secret}","note":1}}"#),
        format!(r#"{{"principal":"a b","alg":"ed25519","secret_key":"{secret}"}}"#),
        format!(r#"{{"principal":"a","alg":"secp256k1","secret_key":"0x{}"}}"#, "00".repeat(32)),
        format!(r#"{{"principal":"a","alg":"p256","secret_key":"0x{}"}}"#, "ff".repeat(32)),
    ];
    for json in cases {
        let e = Credential::from_json(&json).unwrap_err();
        assert_eq!(e.kind(), Code::CredentialInvalid, "{json}: {e}");
        // Messages never echo the secret.
        assert!(!e.message().contains(&"11".repeat(8)), "{e}");
    }
    // Seeds outside the curve order are refused; the caller draws another.
    let e = Credential::generate(CredentialKind::Client, "a", Alg::P256, &[0xff; 32]).unwrap_err();
    assert_eq!(e.kind(), Code::CredentialInvalid);
    assert!(e.message().contains("not a valid p256 secret key"), "{e}");
    assert!(Credential::generate(CredentialKind::Client, "", Alg::Ed25519, &[1; 32]).is_err());
    let admin = Credential::generate(CredentialKind::Admin, "a", Alg::Ed25519, &[1; 32]).unwrap();
    assert_eq!(admin.expect_kind(CredentialKind::Client).unwrap_err().kind(), Code::CredentialInvalid);
    admin.expect_kind(CredentialKind::Admin).unwrap();
}

#[test]
fn development_configuration_is_the_documented_default() {
    let admin = Credential::generate(CredentialKind::Admin, DEV_ADMIN_ID, Alg::Ed25519, &[1; 32]).unwrap();
    let client = Credential::generate(CredentialKind::Client, DEV_CLIENT_ID, Alg::Ed25519, &[2; 32]).unwrap();
    let config = development_configuration(admin.public_key(), client.public_key());
    config.validate().unwrap();
    assert_eq!(config.version, 1);
    assert_eq!(config.admins.threshold, 1);
    assert_eq!(config.admins.keys.len(), 1);
    assert_eq!(config.admins.keys[0].id, "dev-admin");
    let p = config.principal("dev-client").unwrap();
    assert_eq!(p.operations, Operation::ALL);
    assert_eq!(p.keys_allowed, KeysAllowed::Own);
    assert_eq!(p.max_keys, 1000);
    assert_eq!((config.stamp_window_ms, config.session_max_lifetime_s), (30_000, 3600));

    let signed = development_signed_configuration(&admin, &client).unwrap();
    assert_eq!(signed.config, config.encode());
    assert_eq!(SignedConfig::verify_initial(&signed.encode()).unwrap(), config);

    // The client credential stamps requests the enclave accepts under it.
    let now = 1_700_000_000_000_000;
    let stamp = Stamp::sign(&client, "list_keys", b"\xa0", now, &[3; 16]).unwrap();
    let principal = StampVerifier::new(4).verify(&config, "list_keys", b"\xa0", &stamp, now).unwrap();
    assert!(principal.may("generate_key") && principal.may_use_key("x", "dev-client"));
    assert!(!principal.may_use_key("x", "someone-else"));

    // Credentials of the wrong kind are refused.
    assert_eq!(development_signed_configuration(&client, &admin).unwrap_err().kind(), Code::CredentialInvalid);
}
