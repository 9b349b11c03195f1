//! The configuration document: round trips through both forms, the
//! canonical encoding, and every refusal of a document with its code and the
//! field it names (through the CBOR and the JSON form alike).

mod common;

use ciborium::Value;
use common::{canonical, json_to_cbor, plain, sample, sample_json};
use proptest::prelude::*;
use sentinel_config::{
    config_hash, Alg, ConfigErrorCode as Code, Configuration, KeysAllowed, Operation, PublicKey, MAX_ADMINS,
    MAX_APPROVAL_TTL_S, MAX_CONFIG_BYTES, MAX_HEARTBEAT_INTERVAL_MS, MAX_ID_BYTES, MAX_KEYS_PER_PRINCIPAL,
    MAX_LABELS_PER_PRINCIPAL, MAX_LABEL_BYTES, MAX_OPERATIONS, MAX_OVERSIGHT_KEYS, MAX_PENDING_LIMIT, MAX_PRINCIPALS,
    MAX_SESSION_LIFETIME_S, MAX_STAMP_WINDOW_MS, MAX_TRIP_CONSECUTIVE_DENIALS, MAX_TRIP_RISK_SCORE_BPS,
    MIN_HEARTBEAT_INTERVAL_MS,
};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

/// Mutates the sample's JSON form and expects `code` with `needle` in the
/// message, from the JSON form and from its canonical CBOR alike.
fn refused(mutate: impl Fn(&mut Json), code: Code, needle: &str) {
    common::expect_refused(sample_json(1), mutate, code, needle);
}

#[test]
fn round_trips_through_cbor_and_json() {
    let config = sample(7);
    let bytes = config.encode();
    assert_eq!(Configuration::decode(&bytes).unwrap(), config);
    assert_eq!(Configuration::from_json(&config.to_json()).unwrap(), config);
    // The crate's encoder and the independent one in tests/common agree.
    assert_eq!(bytes, canonical(&json_to_cbor(&sample_json(7))));
    assert_eq!(config.config_hash(), <[u8; 32]>::from(Sha256::digest(&bytes)));
    assert_eq!(config_hash(&bytes), config.config_hash());
    config.validate().unwrap();
}

#[test]
fn json_form_keeps_document_order_and_hex_keys() {
    let text = sample(1).to_json();
    let fields: Vec<usize> = ["\"version\"", "\"admins\"", "\"principals\"", "\"stamp_window_ms\"", "\"session_max"]
        .iter()
        .map(|f| text.find(f).unwrap())
        .collect();
    assert!(fields.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("\"public_key\": \"0x"), "{text}");
}

#[test]
fn accessors_and_authorization() {
    let config = sample(1);
    let app = config.principal("app").unwrap();
    let ops = config.principal("ops").unwrap();
    let eth = config.principal("eth").unwrap();
    assert!(config.principal("nobody").is_none());
    for op in Operation::ALL {
        assert!(app.may(op.as_str()));
    }
    assert!(ops.may("sign_digest") && !ops.may("generate_key") && !ops.may("sign_typed_data"));
    assert!(!ops.may("SIGN_DIGEST") && !ops.may("ping"));
    // Own keys always; others per keys_allowed.
    assert!(app.may_use_key("anything", "app") && !app.may_use_key("anything", "eth"));
    assert!(ops.may_use_key("treasury", "app") && ops.may_use_key("hot/1", "eth"));
    assert!(!ops.may_use_key("treasury2", "app") && ops.may_use_key("x", "ops"));
    assert!(eth.may_use_key("x", "app"));
    assert_eq!((app.max_keys(), ops.max_keys(), eth.max_keys()), (1000, 0, 5));
    assert_eq!(ops.keys_allowed, KeysAllowed::Labels(vec!["treasury".into(), "hot/1".into()]));
    assert_eq!(config.admins.get("bob").unwrap().public_key.alg(), Alg::P256);
}

#[test]
fn non_canonical_bytes_are_refused() {
    let json = sample_json(1);
    let value = json_to_cbor(&json);
    // Keys in JSON (alphabetical) order, not canonical order.
    let unsorted = plain(&value);
    assert_ne!(unsorted, canonical(&value));
    let e = Configuration::decode(&unsorted).unwrap_err();
    assert_eq!(e.kind(), Code::NotCanonical, "{e}");
    assert!(e.message().starts_with("document:"));
    // version 1 spelled with a one-byte argument: 0x67 "version" 0x18 0x01.
    let good = canonical(&value);
    let at = good.windows(8).position(|w| w == b"\x67version").unwrap() + 8;
    assert_eq!(good[at], 0x01);
    let mut long = good[..at].to_vec();
    long.extend_from_slice(&[0x18, 0x01]);
    long.extend_from_slice(&good[at + 1..]);
    assert_eq!(Configuration::decode(&long).unwrap_err().kind(), Code::NotCanonical);
}

#[test]
fn malformed_bytes_are_refused() {
    let good = sample(1).encode();
    for bad in [&good[..good.len() - 1], &[][..], &[0xff][..]] {
        assert_eq!(Configuration::decode(bad).unwrap_err().kind(), Code::Malformed);
    }
    let mut trailing = good.clone();
    trailing.push(0);
    let e = Configuration::decode(&trailing).unwrap_err();
    assert_eq!((e.kind(), e.message().contains("after the CBOR item")), (Code::Malformed, true), "{e}");
    // A map with the same key twice: {"version": 1, "version": 2} (canonical otherwise).
    let dup = [
        0xa2, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x01, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n',
        0x02,
    ];
    let e = Configuration::decode(&dup).unwrap_err();
    assert_eq!(e.kind(), Code::Malformed, "{e}");
    assert!(e.message().contains("`version` appears twice"));
    // JSON: syntax, duplicate keys, trailing text.
    for bad in ["{", "{\"version\": 1, \"version\": 2}", "{} {}"] {
        assert_eq!(Configuration::from_json(bad).unwrap_err().kind(), Code::Malformed, "{bad}");
    }
    // Deep nesting is refused before it costs anything.
    let deep = [0x81u8; 100];
    assert_eq!(Configuration::decode(&deep).unwrap_err().kind(), Code::Malformed);
}

#[test]
fn not_a_map_and_wrong_types() {
    assert_eq!(Configuration::decode(&plain(&Value::from(1))).unwrap_err().kind(), Code::Invalid);
    refused(|j| j["version"] = json!("1"), Code::Invalid, "version: expected an unsigned integer");
    refused(|j| j["version"] = json!(-1), Code::Invalid, "version: expected an unsigned integer");
    refused(|j| j["admins"] = json!([]), Code::Invalid, "admins: expected a map");
    refused(|j| j["principals"] = json!({}), Code::Invalid, "principals: expected an array");
    refused(
        |j| j["principals"][1]["keys"][0]["public_key"] = json!(5),
        Code::Invalid,
        "principals[1].keys[0].public_key",
    );
    refused(|j| j["principals"][0]["max_keys"] = json!(true), Code::Invalid, "principals[0].max_keys");
    refused(|j| j["principals"][2]["keys_allowed"] = json!(3), Code::Invalid, "principals[2].keys_allowed");
    refused(
        |j| j["principals"][2]["keys_allowed"] = json!("none"),
        Code::Invalid,
        "principals[2].keys_allowed: `none`",
    );
    refused(|j| j["admins"]["keys"][0]["id"] = json!(["alice"]), Code::Invalid, "admins.keys[0].id: expected a text");
    // A float is not an unsigned integer, even 1.0.
    let text = sample_json(1).to_string().replacen("\"version\":1", "\"version\":1.0", 1);
    assert_eq!(Configuration::from_json(&text).unwrap_err().kind(), Code::Invalid);
    // Hex must carry its 0x prefix in the JSON form.
    let e = Configuration::from_json(&sample_json(1).to_string().replacen("\"0x", "\"", 1)).unwrap_err();
    assert_eq!(e.kind(), Code::Invalid);
    assert!(e.message().contains("admins.keys[0].public_key"), "{e}");
}

#[test]
fn missing_fields_name_the_path() {
    refused(|j| drop(j.as_object_mut().unwrap().remove("version")), Code::Invalid, "version: missing");
    refused(
        |j| drop(j["admins"].as_object_mut().unwrap().remove("threshold")),
        Code::Invalid,
        "admins.threshold: missing",
    );
    refused(
        |j| drop(j["principals"][1].as_object_mut().unwrap().remove("keys_allowed")),
        Code::Invalid,
        "principals[1].keys_allowed: missing",
    );
    refused(
        |j| drop(j["principals"][0]["keys"][0].as_object_mut().unwrap().remove("alg")),
        Code::Invalid,
        "principals[0].keys[0].alg: missing",
    );
}

#[test]
fn unknown_fields_are_refused_at_every_level() {
    refused(|j| j["comment"] = json!("x"), Code::UnknownField, "comment: unknown field");
    refused(|j| j["admins"]["quorum"] = json!(1), Code::UnknownField, "admins.quorum");
    refused(|j| j["admins"]["keys"][1]["name"] = json!("b"), Code::UnknownField, "admins.keys[1].name");
    refused(|j| j["principals"][2]["expires"] = json!(0), Code::UnknownField, "principals[2].expires");
    refused(|j| j["principals"][0]["keys"][0]["usage"] = json!("x"), Code::UnknownField, "principals[0].keys[0].usage");
}

#[test]
fn ranges() {
    refused(|j| j["version"] = json!(0), Code::Invalid, "version: must be at least 1");
    refused(|j| j["stamp_window_ms"] = json!(0), Code::Invalid, "stamp_window_ms: 0");
    refused(|j| j["stamp_window_ms"] = json!(MAX_STAMP_WINDOW_MS + 1), Code::Invalid, "MAX_STAMP_WINDOW_MS");
    refused(|j| j["session_max_lifetime_s"] = json!(0), Code::Invalid, "session_max_lifetime_s: 0");
    refused(
        |j| j["session_max_lifetime_s"] = json!(MAX_SESSION_LIFETIME_S + 1),
        Code::Invalid,
        "MAX_SESSION_LIFETIME_S",
    );
    // The extremes that are allowed.
    let mut j = sample_json(u64::MAX);
    j["stamp_window_ms"] = json!(MAX_STAMP_WINDOW_MS);
    j["session_max_lifetime_s"] = json!(1);
    j["principals"][0]["max_keys"] = json!(u64::MAX);
    let config = Configuration::from_json(&j.to_string()).unwrap();
    assert_eq!(Configuration::decode(&config.encode()).unwrap(), config);
}

#[test]
fn ids_and_labels() {
    refused(|j| j["principals"][1]["id"] = json!("app"), Code::DuplicateId, "principals[1].id: principal `app`");
    refused(|j| j["admins"]["keys"][2]["id"] = json!("alice"), Code::DuplicateId, "admins.keys[2].id: admin `alice`");
    refused(|j| j["principals"][0]["id"] = json!(""), Code::Invalid, "principals[0].id");
    refused(|j| j["principals"][0]["id"] = json!("a b"), Code::Invalid, "principals[0].id: `a b`");
    refused(|j| j["admins"]["keys"][0]["id"] = json!("ålice"), Code::Invalid, "admins.keys[0].id");
    refused(|j| j["principals"][0]["id"] = json!("x".repeat(MAX_ID_BYTES + 1)), Code::TooLarge, "MAX_ID_BYTES");
    refused(
        |j| j["principals"][1]["keys_allowed"] = json!(["a", "a"]),
        Code::Invalid,
        "keys_allowed[1]: `a` listed twice",
    );
    refused(|j| j["principals"][1]["keys_allowed"] = json!([""]), Code::Invalid, "keys_allowed[0]");
    refused(|j| j["principals"][1]["keys_allowed"] = json!(["a@b"]), Code::Invalid, "keys_allowed[0]: `a@b`");
    refused(
        |j| j["principals"][1]["keys_allowed"] = json!(["l".repeat(MAX_LABEL_BYTES + 1)]),
        Code::TooLarge,
        "MAX_LABEL_BYTES",
    );
    // The longest id and label are fine; an empty label list means own keys only.
    let mut j = sample_json(1);
    j["principals"][0]["id"] = json!("i".repeat(MAX_ID_BYTES));
    j["principals"][1]["keys_allowed"] = json!(["A-z_0.9:/".to_string() + &"l".repeat(MAX_LABEL_BYTES - 9)]);
    Configuration::from_json(&j.to_string()).unwrap();
    j["principals"][1]["keys_allowed"] = json!([]);
    let config = Configuration::from_json(&j.to_string()).unwrap();
    assert!(!config.principal("ops").unwrap().may_use_key("treasury", "app"));
}

#[test]
fn operations() {
    refused(|j| j["principals"][1]["operations"][1] = json!("sign"), Code::UnknownOperation, "operations[1]: `sign`");
    refused(|j| j["principals"][1]["operations"] = json!(["ping"]), Code::UnknownOperation, "known: generate_key");
    refused(
        |j| j["principals"][1]["operations"] = json!(["list_keys", "list_keys"]),
        Code::Invalid,
        "operations[1]: `list_keys` listed twice",
    );
    // A ninth entry is refused for what it is, not for the list's length.
    refused(
        |j| j["principals"][0]["operations"].as_array_mut().unwrap().push(json!("launch")),
        Code::UnknownOperation,
        "principals[0].operations[8]: `launch`",
    );
    refused(
        |j| j["principals"][0]["operations"].as_array_mut().unwrap().push(json!("list_keys")),
        Code::Invalid,
        "principals[0].operations[8]: `list_keys` listed twice",
    );
    refused(
        |j| j["principals"][0]["operations"] = json!(vec!["list_keys"; MAX_OPERATIONS + 1]),
        Code::TooLarge,
        "MAX_OPERATIONS",
    );
    // No operations at all: an identity that can do nothing (yet) is allowed.
    let mut j = sample_json(1);
    j["principals"][1]["operations"] = json!([]);
    assert!(!Configuration::from_json(&j.to_string()).unwrap().principal("ops").unwrap().may("list_keys"));
}

#[test]
fn algorithms_and_keys() {
    refused(|j| j["admins"]["keys"][0]["alg"] = json!("rsa"), Code::UnknownAlg, "admins.keys[0].alg: `rsa`");
    refused(|j| j["principals"][0]["keys"][0]["alg"] = json!("Ed25519"), Code::UnknownAlg, "principals[0].keys[0].alg");
    // An ed25519 key labelled p256: 32 bytes is no SEC1 length.
    refused(|j| j["principals"][0]["keys"][0]["alg"] = json!("p256"), Code::InvalidKey, "33 (compressed) or 65");
    // A p256 key labelled secp256k1: right length, but most x are not on the other curve.
    let mut j = sample_json(1);
    j["admins"]["keys"][1]["alg"] = json!("secp256k1");
    let result = Configuration::from_json(&j.to_string());
    if let Err(e) = result {
        assert_eq!(e.kind(), Code::InvalidKey);
    }
    refused(|j| j["admins"]["keys"][0]["public_key"] = json!("0x00"), Code::InvalidKey, "1 bytes, expected 32");
    refused(
        |j| j["admins"]["keys"][2]["public_key"] = json!(format!("0x02{}", "ff".repeat(32))),
        Code::InvalidKey,
        "admins.keys[2].public_key: secp256k1 key: not a valid point",
    );
    refused(
        |j| j["admins"]["keys"][1]["public_key"] = json!(format!("0x04{}", "00".repeat(64))),
        Code::InvalidKey,
        "admins.keys[1].public_key: p256 key",
    );
    // The Ed25519 identity point (small order): no strict verifier accepts it.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    refused(
        |j| j["admins"]["keys"][0]["public_key"] = json!(format!("0x{}", hex::encode(identity))),
        Code::InvalidKey,
        "small-order",
    );
    refused(|j| j["principals"][0]["keys"] = json!([]), Code::Invalid, "principals[0].keys: at least one key");
}

#[test]
fn duplicate_keys() {
    let [_, bob, _] = common::admins();
    // The same P-256 point compressed and uncompressed is the same key.
    let p = p256::PublicKey::from_sec1_bytes(bob.public_key().as_bytes()).unwrap();
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let uncompressed = format!("0x{}", hex::encode(p.to_encoded_point(false).as_bytes()));
    refused(
        |j| {
            j["admins"]["keys"][0] = json!({ "id": "bob2", "alg": "p256", "public_key": uncompressed });
        },
        Code::DuplicateKey,
        "admins.keys[1].public_key: the same key as admins.keys[0]",
    );
    refused(
        |j| j["principals"][1]["keys"][0] = j["principals"][0]["keys"][0].clone(),
        Code::DuplicateKey,
        "principals[1].keys[0].public_key: the same key as principals[0].keys[0]",
    );
    refused(
        |j| {
            let k = j["principals"][2]["keys"][0].clone();
            j["principals"][2]["keys"].as_array_mut().unwrap().push(k);
        },
        Code::DuplicateKey,
        "principals[2].keys[1].public_key: listed twice",
    );
    // A principal may share a key with an admin: the digests they sign are domain-separated.
    let mut j = sample_json(1);
    j["principals"][0]["keys"][0] = json!({ "alg": "ed25519", "public_key": j["admins"]["keys"][0]["public_key"] });
    Configuration::from_json(&j.to_string()).unwrap();
}

#[test]
fn threshold() {
    refused(|j| j["admins"]["threshold"] = json!(0), Code::InvalidThreshold, "admins.threshold: 0, must be 1..=3");
    refused(|j| j["admins"]["threshold"] = json!(4), Code::InvalidThreshold, "admins.threshold: 4");
    refused(|j| j["admins"]["keys"] = json!([]), Code::Invalid, "admins.keys: at least one admin");
    let mut j = sample_json(1);
    j["admins"]["threshold"] = json!(3);
    Configuration::from_json(&j.to_string()).unwrap();
}

#[test]
fn size_caps() {
    let key_of = |i: usize| {
        let c = common::client(&format!("p{i}"), Alg::Ed25519, 0);
        // Distinct keys: Ed25519 public keys from distinct seeds.
        let seed = <[u8; 32]>::from(Sha256::digest(i.to_le_bytes()));
        let c2 = sentinel_config::Credential::generate(c.kind(), c.id(), Alg::Ed25519, &seed).unwrap();
        json!({ "alg": "ed25519", "public_key": format!("0x{}", hex::encode(c2.public_key().as_bytes())) })
    };
    refused(
        |j| {
            let admin = j["admins"]["keys"][0].clone();
            let keys: Vec<Json> = (0..=MAX_ADMINS)
                .map(|i| {
                    let mut a = admin.clone();
                    a["id"] = json!(format!("a{i}"));
                    a
                })
                .collect();
            j["admins"]["keys"] = json!(keys);
        },
        Code::TooLarge,
        "admins.keys: 17 items, at most 16 allowed (MAX_ADMINS)",
    );
    refused(
        |j| j["principals"][0]["keys"] = json!((0..=MAX_KEYS_PER_PRINCIPAL).map(key_of).collect::<Vec<_>>()),
        Code::TooLarge,
        "MAX_KEYS_PER_PRINCIPAL",
    );
    refused(
        |j| {
            j["principals"][1]["keys_allowed"] =
                json!((0..=MAX_LABELS_PER_PRINCIPAL).map(|i| format!("l{i}")).collect::<Vec<_>>())
        },
        Code::TooLarge,
        "MAX_LABELS_PER_PRINCIPAL",
    );
    refused(
        |j| {
            let p = j["principals"][1].clone();
            j["principals"] = json!(vec![p; MAX_PRINCIPALS + 1]);
        },
        Code::TooLarge,
        "MAX_PRINCIPALS",
    );
    // Over MAX_CONFIG_BYTES in bytes: refused before decoding.
    let mut big = sample(1).encode();
    big.resize(MAX_CONFIG_BYTES + 1, 0);
    let e = Configuration::decode(&big).unwrap_err();
    assert_eq!(e.kind(), Code::TooLarge);
    assert!(e.message().contains("MAX_CONFIG_BYTES"));
    // Within every count cap but over the byte cap: the JSON form is refused after encoding.
    let mut j = sample_json(1);
    let principals: Vec<Json> = (0..MAX_PRINCIPALS)
        .map(|i| {
            json!({ "id": format!("{i:0>64}"), "keys": [key_of(i)], "operations": ["list_keys"],
                    "keys_allowed": (0..5).map(|l| format!("{l:0>64}")).collect::<Vec<_>>(), "max_keys": 0 })
        })
        .collect();
    j["principals"] = json!(principals);
    let e = Configuration::from_json(&j.to_string()).unwrap_err();
    assert_eq!(e.kind(), Code::TooLarge, "{e}");
    assert!(e.message().contains("MAX_CONFIG_BYTES"), "{e}");
}

#[test]
fn codes_are_stable_and_well_formed() {
    let config_codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        config_codes,
        [
            "CONFIG_MALFORMED",
            "CONFIG_NOT_CANONICAL",
            "CONFIG_TOO_LARGE",
            "CONFIG_INVALID",
            "CONFIG_UNKNOWN_FIELD",
            "CONFIG_DUPLICATE_ID",
            "CONFIG_DUPLICATE_KEY",
            "CONFIG_INVALID_THRESHOLD",
            "CONFIG_UNKNOWN_ALG",
            "CONFIG_INVALID_KEY",
            "CONFIG_UNKNOWN_OPERATION",
            "CONFIG_ROLLBACK",
            "CONFIG_QUORUM_NOT_MET",
            "CREDENTIAL_INVALID",
        ]
    );
    for code in config_codes {
        assert!(sentinel_error::is_well_formed_code(code));
    }
    let e = Configuration::decode(&[]).unwrap_err();
    assert_eq!(sentinel_error::CodedError::code(&e), "CONFIG_MALFORMED");
    assert_eq!(e.to_string(), format!("CONFIG_MALFORMED: {}", e.message()));
}

#[test]
fn public_key_identity() {
    let [alice, bob, carol] = common::admins();
    for c in [&alice, &bob, &carol] {
        let k = c.public_key();
        assert_eq!(PublicKey::from_bytes(k.alg(), k.as_bytes()).unwrap(), k);
        assert!(format!("{k:?}").starts_with(&format!("PublicKey({}, 0x", k.alg())));
    }
    assert_eq!(alice.public_key().as_bytes().len(), 32);
    assert_eq!(bob.public_key().as_bytes().len(), 33);
    assert_eq!(carol.public_key().as_bytes().len(), 33);
}

fn arb_label() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._:/-]{1,64}"
}

fn arb_config() -> impl Strategy<Value = Configuration> {
    let admins = (1usize..=4, any::<[u8; 8]>(), prop::collection::vec(0usize..3, 4), 1u64..=4);
    let principal = (
        "[A-Za-z0-9._:@-]{1,64}",
        prop::collection::vec(0usize..3, 1..=3),
        prop::sample::subsequence(Operation::ALL.to_vec(), 0..=Operation::ALL.len()),
        prop_oneof![
            Just(KeysAllowed::All),
            Just(KeysAllowed::Own),
            prop::collection::btree_set(arb_label(), 0..5).prop_map(|s| KeysAllowed::Labels(s.into_iter().collect()))
        ],
        any::<u64>(),
    );
    (
        1u64..,
        admins,
        prop::collection::vec(principal, 0..5),
        1..=MAX_STAMP_WINDOW_MS,
        1..=MAX_SESSION_LIFETIME_S,
        any::<u16>(),
        prop::option::of(arb_oversight()),
    )
        .prop_map(|(version, (n, salt, algs, threshold), principals, window, lifetime, seed, oversight)| {
            let mut counter = 0u64;
            let mut key = |alg_index: usize| {
                counter += 1;
                let seed =
                    <[u8; 32]>::from(Sha256::digest([&salt[..], &seed.to_le_bytes(), &counter.to_le_bytes()].concat()));
                let alg = Alg::ALL[alg_index];
                sentinel_config::Credential::generate(sentinel_config::CredentialKind::Client, "k", alg, &seed)
                    .unwrap()
                    .public_key()
            };
            let admins = sentinel_config::Admins {
                threshold: threshold.min(n as u64),
                keys: (0..n)
                    .map(|i| sentinel_config::AdminKey { id: format!("admin-{i}"), public_key: key(algs[i]) })
                    .collect(),
            };
            let mut seen = std::collections::BTreeSet::new();
            let principals = principals
                .into_iter()
                .filter(|(id, ..)| seen.insert(id.clone()))
                .map(|(id, key_algs, operations, keys_allowed, max_keys)| sentinel_config::Principal {
                    id,
                    keys: key_algs.into_iter().map(&mut key).collect(),
                    operations,
                    keys_allowed,
                    max_keys,
                })
                .collect();
            let oversight =
                oversight.map(|(overseer_algs, resume, approver_algs, approval, tunables)| {
                    let (
                        approval_ttl_s,
                        max_pending,
                        heartbeat_interval_ms,
                        trip_consecutive_denials,
                        trip_risk_score_bps,
                    ) = tunables;
                    let mut signers = |role: &str, algs: Vec<usize>| -> Vec<sentinel_config::AdminKey> {
                        algs.into_iter()
                            .enumerate()
                            .map(|(i, alg)| sentinel_config::AdminKey {
                                id: format!("{role}-{i}"),
                                public_key: key(alg),
                            })
                            .collect()
                    };
                    let overseers = signers("overseer", overseer_algs);
                    let approvers = signers("approver", approver_algs);
                    sentinel_config::Oversight {
                        resume_threshold: resume.min(overseers.len() as u64),
                        approval_threshold: approval.min(approvers.len() as u64),
                        overseers,
                        approvers,
                        approval_ttl_s,
                        max_pending,
                        heartbeat_interval_ms,
                        trip_consecutive_denials,
                        trip_risk_score_bps,
                    }
                });
            Configuration {
                version,
                admins,
                principals,
                stamp_window_ms: window,
                session_max_lifetime_s: lifetime,
                oversight,
            }
        })
}

/// (overseer algs, resume threshold, approver algs, approval threshold, (ttl, max pending, heartbeat, trips)).
#[allow(clippy::type_complexity)]
fn arb_oversight() -> impl Strategy<Value = (Vec<usize>, u64, Vec<usize>, u64, (u64, u64, u64, u64, u64))> {
    (
        prop::collection::vec(0usize..3, 1..=MAX_OVERSIGHT_KEYS),
        1u64..=16,
        prop::collection::vec(0usize..3, 1..=4),
        1u64..=4,
        (
            1..=MAX_APPROVAL_TTL_S,
            1..=MAX_PENDING_LIMIT,
            prop_oneof![Just(0), MIN_HEARTBEAT_INTERVAL_MS..=MAX_HEARTBEAT_INTERVAL_MS],
            0..=MAX_TRIP_CONSECUTIVE_DENIALS,
            0..=MAX_TRIP_RISK_SCORE_BPS,
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn decode_encode_round_trip(config in arb_config()) {
        let bytes = config.encode();
        prop_assert_eq!(&Configuration::decode(&bytes).unwrap(), &config);
        prop_assert_eq!(&Configuration::from_json(&config.to_json()).unwrap(), &config);
        prop_assert_eq!(Configuration::decode(&bytes).unwrap().encode(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Configuration::decode(&bytes);
        let _ = sentinel_config::SignedConfig::decode(&bytes);
        let _ = sentinel_config::Stamp::decode(&bytes);
        let _ = sentinel_config::Inspection::new(&bytes);
    }
}
