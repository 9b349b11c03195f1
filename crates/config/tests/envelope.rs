//! The signed envelope and the two trust decisions: boot (quorum of the
//! document's own admins) and update (strictly higher version, quorum of the
//! admins in force), with every refusal.

mod common;

use ciborium::Value;
use common::{admin, admins, canonical, plain, sample, sample_json, signed};
use sentinel_config::{
    config_signing_digest, sign_document, AdminSignature, Alg, ConfigErrorCode as Code, Configuration, SignedConfig,
    SignerStatus, CONFIG_SIGNATURE_DOMAIN, MAX_SIGNATURES, MAX_SIGNED_CONFIG_BYTES,
};
use serde_json::json;
use sha2::{Digest, Sha256};

#[test]
fn envelope_round_trip_and_layout() {
    let [alice, bob, _] = admins();
    let config = sample(1);
    let bytes = signed(&config, &[&alice, &bob]);
    let envelope = SignedConfig::decode(&bytes).unwrap();
    assert_eq!(envelope.config, config.encode());
    assert_eq!(envelope.encode(), bytes);
    assert_eq!(envelope.config_hash(), config.config_hash());
    assert_eq!(envelope.configuration().unwrap(), config);
    assert_eq!(envelope.signatures.iter().map(|s| s.admin.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    // The same bytes from the independent encoder of tests/common.
    let by_hand = Value::Map(vec![
        (Value::Text("config".into()), Value::Bytes(config.encode())),
        (
            Value::Text("signatures".into()),
            Value::Array(
                envelope
                    .signatures
                    .iter()
                    .map(|s| {
                        Value::Map(vec![
                            (Value::Text("admin".into()), Value::Text(s.admin.clone())),
                            (Value::Text("signature".into()), Value::Bytes(s.signature.clone())),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]);
    assert_eq!(canonical(&by_hand), bytes);
}

#[test]
fn admin_signature_is_over_the_domain_tagged_hash() {
    let [alice, bob, carol] = admins();
    let config = sample(1);
    let hash = config.config_hash();
    let mut preimage = CONFIG_SIGNATURE_DOMAIN.to_vec();
    preimage.extend_from_slice(&hash);
    assert_eq!(CONFIG_SIGNATURE_DOMAIN, b"sentinel/config/v1");
    let digest = config_signing_digest(&hash);
    assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&preimage)));
    for admin in [&alice, &bob, &carol] {
        let sig = sign_document(&config.encode(), admin).unwrap();
        assert_eq!(sig.admin, admin.id());
        assert_eq!(sig.signature.len(), 64);
        assert!(admin.public_key().verify(&digest, &sig.signature), "{}", admin.alg());
    }
    // Ed25519 verifies over the digest as the message, independently of the crate.
    let key = ed25519_dalek::VerifyingKey::from_bytes(alice.public_key().as_bytes().try_into().unwrap()).unwrap();
    let sig = sign_document(&config.encode(), &alice).unwrap().signature;
    key.verify_strict(&digest, &ed25519_dalek::Signature::from_slice(&sig).unwrap()).unwrap();
    // P-256: standard ECDSA-SHA256 over the preimage is the same verification.
    use p256::ecdsa::signature::Verifier;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bob.public_key().as_bytes()).unwrap();
    let sig = sign_document(&config.encode(), &bob).unwrap().signature;
    key.verify(&preimage, &p256::ecdsa::Signature::from_slice(&sig).unwrap()).unwrap();
}

#[test]
fn initial_needs_a_quorum_of_its_own_admins() {
    let [alice, bob, carol] = admins();
    let config = sample(1);
    assert_eq!(SignedConfig::verify_initial(&signed(&config, &[&alice, &carol])).unwrap(), config);
    assert_eq!(SignedConfig::verify_initial(&signed(&config, &[&alice, &bob, &carol])).unwrap(), config);
    for signers in [&[][..], &[&alice][..], &[&carol][..]] {
        let e = SignedConfig::verify_initial(&signed(&config, signers)).unwrap_err();
        assert_eq!(e.kind(), Code::QuorumNotMet, "{e}");
        assert!(e.message().contains("2 required"), "{e}");
    }
    // A signer who is not one of its admins does not count, and is named.
    let mallory = admin("mallory", Alg::Ed25519, 66);
    let e = SignedConfig::verify_initial(&signed(&config, &[&alice, &mallory])).unwrap_err();
    assert_eq!(e.kind(), Code::QuorumNotMet);
    assert!(e.message().contains("mallory (not-an-admin)"), "{e}");
    // A key calling itself bob does not count as bob.
    let fake_bob = admin("bob", Alg::P256, 67);
    let e = SignedConfig::verify_initial(&signed(&config, &[&alice, &fake_bob])).unwrap_err();
    assert!(e.message().contains("bob (invalid)"), "{e}");
    // A signature copied from another document does not count.
    let other = sample(2);
    let mut envelope = SignedConfig::decode(&signed(&config, &[&alice])).unwrap();
    envelope.signatures.push(sign_document(&other.encode(), &bob).unwrap());
    assert_eq!(SignedConfig::verify_initial(&envelope.encode()).unwrap_err().kind(), Code::QuorumNotMet);
    // Statuses as `zcp config show` reports them.
    assert_eq!(
        envelope.signer_statuses(&config.admins),
        [("alice".to_string(), SignerStatus::Valid), ("bob".to_string(), SignerStatus::Invalid)]
    );
}

#[test]
fn signing_again_replaces_the_signature() {
    let [alice, ..] = admins();
    let mut envelope = SignedConfig::new(sample(1).encode(), Vec::new()).unwrap();
    envelope.sign(&alice).unwrap();
    envelope.sign(&alice).unwrap();
    assert_eq!(envelope.signatures.len(), 1);
}

#[test]
fn update_rules() {
    let [alice, bob, carol] = admins();
    let current = sample(5);

    // Higher version, two current admins: accepted.
    let next = sample(6);
    assert_eq!(current.verify_update(&signed(&next, &[&bob, &carol])).unwrap(), next);
    let far = sample(u64::MAX);
    assert_eq!(current.verify_update(&signed(&far, &[&alice, &bob])).unwrap(), far);

    // Same or lower version: rollback, even with every signature.
    for version in [5, 4, 1] {
        let e = current.verify_update(&signed(&sample(version), &[&alice, &bob, &carol])).unwrap_err();
        assert_eq!(e.kind(), Code::Rollback, "{e}");
        assert!(e.message().contains(&format!("version: {version} is not greater than the current version 5")));
    }

    // One signature: quorum not met (before the version is even looked at).
    let e = current.verify_update(&signed(&sample(4), &[&alice])).unwrap_err();
    assert_eq!(e.kind(), Code::QuorumNotMet, "{e}");
    assert!(e.message().contains("current configuration's admins"), "{e}");
}

#[test]
fn update_is_signed_by_the_admins_in_force_not_the_new_ones() {
    let [alice, bob, carol] = admins();
    let current = sample(1);
    // The new document replaces every admin with dave and erin (threshold 1).
    let dave = admin("dave", Alg::Secp256k1, 21);
    let erin = admin("erin", Alg::Ed25519, 22);
    let mut j = sample_json(2);
    j["admins"] = json!({ "threshold": 1, "keys": [
        { "id": "dave", "alg": "secp256k1", "public_key": format!("0x{}", hex::encode(dave.public_key().as_bytes())) },
        { "id": "erin", "alg": "ed25519", "public_key": format!("0x{}", hex::encode(erin.public_key().as_bytes())) },
    ]});
    let next = Configuration::from_json(&j.to_string()).unwrap();

    // Only the new admins: valid as a first configuration, not as an update.
    let by_new = signed(&next, &[&dave]);
    assert_eq!(SignedConfig::verify_initial(&by_new).unwrap(), next);
    let e = current.verify_update(&by_new).unwrap_err();
    assert_eq!(e.kind(), Code::QuorumNotMet);
    assert!(e.message().contains("0 valid signature(s)"), "{e}");

    // Two current admins (and the new one, for a fresh enclave's boot): accepted both ways.
    let both = signed(&next, &[&alice, &carol, &dave]);
    assert_eq!(current.verify_update(&both).unwrap(), next);
    assert_eq!(SignedConfig::verify_initial(&both).unwrap(), next);

    // After the update, the old admins no longer count.
    let after = sample(3);
    assert_eq!(next.verify_update(&signed(&after, &[&alice, &bob])).unwrap_err().kind(), Code::QuorumNotMet);
    assert_eq!(next.verify_update(&signed(&after, &[&erin])).unwrap(), after);
}

#[test]
fn a_valid_quorum_over_an_invalid_document_is_still_refused() {
    let [alice, bob, _] = admins();
    // Admins cannot sign a non-canonical or invalid document through the crate...
    let mut j = sample_json(2);
    j["stamp_window_ms"] = json!(0);
    let bad = canonical(&common::json_to_cbor(&j));
    assert_eq!(sign_document(&bad, &alice).unwrap_err().kind(), Code::Invalid);
    // ...and one signed by other means is refused after the quorum check.
    let digest = config_signing_digest(&<[u8; 32]>::from(Sha256::digest(&bad)));
    let signatures = vec![
        AdminSignature { admin: "alice".into(), signature: alice.sign(&digest) },
        AdminSignature { admin: "bob".into(), signature: bob.sign(&digest) },
    ];
    let envelope = SignedConfig { config: bad, signatures }.encode();
    let e = sample(1).verify_update(&envelope).unwrap_err();
    assert_eq!(e.kind(), Code::Invalid, "{e}");
    assert!(e.message().contains("stamp_window_ms"));
    assert_eq!(SignedConfig::verify_initial(&envelope).unwrap_err().kind(), Code::Invalid);
}

#[test]
fn envelope_refusals() {
    let [alice, bob, _] = admins();
    let config = sample(1);
    let good = signed(&config, &[&alice, &bob]);
    let envelope = SignedConfig::decode(&good).unwrap();
    let entry = |admin: &str, signature: Vec<u8>| {
        Value::Map(vec![
            (Value::Text("admin".into()), Value::Text(admin.into())),
            (Value::Text("signature".into()), Value::Bytes(signature)),
        ])
    };
    let build = |fields: Vec<(&str, Value)>| {
        canonical(&Value::Map(fields.into_iter().map(|(k, v)| (Value::Text(k.into()), v)).collect()))
    };
    let sig = envelope.signatures[0].signature.clone();
    let cases: Vec<(Vec<u8>, Code, &str)> = vec![
        (good[..good.len() - 2].to_vec(), Code::Malformed, "signed configuration"),
        (
            plain(&Value::Map(vec![
                (Value::Text("signatures".into()), Value::Array(vec![])),
                (Value::Text("config".into()), Value::Bytes(config.encode())),
            ])),
            Code::NotCanonical,
            "signed configuration",
        ),
        (build(vec![("config", Value::Bytes(config.encode()))]), Code::Invalid, "signed.signatures: missing"),
        (
            build(vec![("config", Value::Text("x".into())), ("signatures", Value::Array(vec![]))]),
            Code::Invalid,
            "signed.config: expected a byte string",
        ),
        (
            build(vec![
                ("config", Value::Bytes(config.encode())),
                ("signatures", Value::Array(vec![])),
                ("note", Value::Null),
            ]),
            Code::UnknownField,
            "signed.note",
        ),
        (
            build(vec![
                ("config", Value::Bytes(config.encode())),
                ("signatures", Value::Array(vec![entry("alice", sig.clone()), entry("alice", sig.clone())])),
            ]),
            Code::DuplicateId,
            "signed.signatures[1].admin: `alice` already signed",
        ),
        (
            build(vec![
                ("config", Value::Bytes(config.encode())),
                ("signatures", Value::Array(vec![entry("al ice", sig.clone())])),
            ]),
            Code::Invalid,
            "signed.signatures[0].admin",
        ),
        (
            build(vec![
                ("config", Value::Bytes(config.encode())),
                ("signatures", Value::Array(vec![entry("alice", vec![0; 65])])),
            ]),
            Code::TooLarge,
            "MAX_SIGNATURE_BYTES",
        ),
        (
            build(vec![
                ("config", Value::Bytes(config.encode())),
                ("signatures", Value::Array((0..=MAX_SIGNATURES).map(|i| entry(&format!("a{i}"), vec![])).collect())),
            ]),
            Code::TooLarge,
            "MAX_SIGNATURES",
        ),
    ];
    for (bytes, code, needle) in cases {
        let e = SignedConfig::decode(&bytes).unwrap_err();
        assert_eq!(e.kind(), code, "{e}");
        assert!(e.message().contains(needle), "`{needle}` not in {e}");
        // The trust decisions refuse the same way.
        assert_eq!(SignedConfig::verify_initial(&bytes).unwrap_err().kind(), code);
        assert_eq!(config.verify_update(&bytes).unwrap_err().kind(), code);
    }
    let mut big = good.clone();
    big.resize(MAX_SIGNED_CONFIG_BYTES + 1, 0);
    assert_eq!(SignedConfig::decode(&big).unwrap_err().kind(), Code::TooLarge);
    // A document in place of an envelope.
    assert_eq!(SignedConfig::decode(&config.encode()).unwrap_err().kind(), Code::Invalid);
    // An envelope whose document is invalid is refused by `new`.
    assert_eq!(SignedConfig::new(vec![0xa0], Vec::new()).unwrap_err().kind(), Code::Invalid);
}

#[test]
fn clients_do_not_sign_configurations() {
    let [app, ..] = common::clients();
    let e = sign_document(&sample(1).encode(), &app).unwrap_err();
    assert_eq!(e.kind(), Code::CredentialInvalid);
    assert!(e.message().contains("configurations are signed by admins"), "{e}");
}
