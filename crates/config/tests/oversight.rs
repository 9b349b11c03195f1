//! The optional `oversight` section: round trips through both forms, its
//! canonical encoding, the defaults that apply without it (and that documents
//! without it keep their bytes and hash), and every refusal with its code and
//! the field it names, through the CBOR and the JSON form alike.

mod common;

use std::borrow::Cow;

use common::{
    canonical, json_to_cbor, oversight_json, oversight_people, sample, sample_json, sample_with_oversight_json,
};
use sentinel_config::{
    AdminKey, ConfigErrorCode as Code, Configuration, Inspection, Oversight, DEFAULT_APPROVAL_TTL_S,
    DEFAULT_MAX_PENDING, MAX_APPROVAL_TTL_S, MAX_HEARTBEAT_INTERVAL_MS, MAX_ID_BYTES, MAX_OVERSIGHT_KEYS,
    MAX_PENDING_LIMIT, MAX_TRIP_CONSECUTIVE_DENIALS, MAX_TRIP_RISK_SCORE_BPS, MIN_HEARTBEAT_INTERVAL_MS,
};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

/// Every field of the section, in document (JSON) order.
const FIELDS: [&str; 9] = [
    "overseers",
    "resume_threshold",
    "approvers",
    "approval_threshold",
    "approval_ttl_s",
    "max_pending",
    "heartbeat_interval_ms",
    "trip_consecutive_denials",
    "trip_risk_score_bps",
];

fn with_oversight() -> Configuration {
    Configuration::from_json(&sample_with_oversight_json(1).to_string()).unwrap()
}

/// Mutates the sample-with-oversight's JSON form and expects `code` with
/// `needle` in the message, from the JSON form and from its canonical CBOR alike.
fn refused(mutate: impl Fn(&mut Json), code: Code, needle: &str) {
    common::expect_refused(sample_with_oversight_json(1), mutate, code, needle);
}

/// The mutated sample decodes (both forms) and round-trips.
fn accepted(mutate: impl Fn(&mut Json)) -> Configuration {
    let mut json = sample_with_oversight_json(1);
    mutate(&mut json);
    let config = Configuration::from_json(&json.to_string()).unwrap_or_else(|e| panic!("{e}: {json}"));
    let bytes = config.encode();
    assert_eq!(bytes, canonical(&json_to_cbor(&json)));
    assert_eq!(Configuration::decode(&bytes).unwrap(), config);
    config
}

fn set(field: &'static str, value: Json) -> impl Fn(&mut Json) {
    move |j: &mut Json| j["oversight"][field] = value.clone()
}

#[test]
fn round_trips_through_cbor_and_json() {
    let config = with_oversight();
    let bytes = config.encode();
    assert_eq!(Configuration::decode(&bytes).unwrap(), config);
    assert_eq!(Configuration::from_json(&config.to_json()).unwrap(), config);
    // The crate's encoder and the independent one in tests/common agree.
    assert_eq!(bytes, canonical(&json_to_cbor(&sample_with_oversight_json(1))));
    config.validate().unwrap();

    let [olga, oscar, ann] = oversight_people();
    let [alice, ..] = common::admins();
    let signer = |c: &sentinel_config::Credential| AdminKey { id: c.id().to_string(), public_key: c.public_key() };
    let expected = Oversight {
        overseers: vec![signer(&olga), signer(&oscar)],
        resume_threshold: 2,
        approvers: vec![signer(&alice), signer(&ann)],
        approval_threshold: 1,
        approval_ttl_s: 120,
        max_pending: 8,
        heartbeat_interval_ms: 100,
        trip_consecutive_denials: 5,
        trip_risk_score_bps: 9000,
    };
    assert_eq!(config.oversight.as_ref(), Some(&expected));
    assert!(matches!(config.oversight(), Cow::Borrowed(o) if *o == expected));
}

#[test]
fn section_keys_are_in_canonical_order() {
    let bytes = with_oversight().encode();
    let at = |key: &str| {
        bytes.windows(key.len()).position(|w| w == key.as_bytes()).unwrap_or_else(|| panic!("{key} not encoded"))
    };
    // Document: admins, version, oversight, principals, ...
    assert!(at("admins") < at("version") && at("version") < at("oversight") && at("oversight") < at("principals"));
    // The section: shorter keys first, then bytewise.
    let order = [
        "approvers",
        "overseers",
        "max_pending",
        "approval_ttl_s",
        "resume_threshold",
        "approval_threshold",
        "trip_risk_score_bps",
        "heartbeat_interval_ms",
        "trip_consecutive_denials",
    ];
    let positions: Vec<usize> = order.iter().map(|k| at(k)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // The one key of 24 bytes takes a two-byte head (0x78 0x18).
    let key = at("trip_consecutive_denials");
    assert_eq!(&bytes[key - 2..key], &[0x78, 0x18]);
    // The same document with the section's keys in plain lexicographic order is not canonical.
    let mut value: ciborium::Value = ciborium::de::from_reader(bytes.as_slice()).unwrap();
    let ciborium::Value::Map(entries) = &mut value else { unreachable!() };
    let section = &mut entries.iter_mut().find(|(k, _)| k.as_text() == Some("oversight")).unwrap().1;
    let ciborium::Value::Map(fields) = section else { unreachable!() };
    fields.sort_by(|a, b| a.0.as_text().cmp(&b.0.as_text()));
    let lexicographic = common::plain(&value);
    assert_ne!(lexicographic, bytes);
    let e = Configuration::decode(&lexicographic).unwrap_err();
    assert_eq!(e.kind(), Code::NotCanonical, "{e}");
}

#[test]
fn without_a_section_the_admins_oversee_with_the_defaults() {
    let config = sample(1);
    assert_eq!(config.oversight, None);
    let o = config.oversight();
    assert!(matches!(o, Cow::Owned(_)));
    assert_eq!(*o, Oversight::from_admins(&config.admins));
    assert_eq!(o.overseers, config.admins.keys);
    assert_eq!(o.approvers, config.admins.keys);
    assert_eq!((o.resume_threshold, o.approval_threshold), (2, 2));
    assert_eq!((o.approval_ttl_s, o.max_pending), (DEFAULT_APPROVAL_TTL_S, DEFAULT_MAX_PENDING));
    assert_eq!((DEFAULT_APPROVAL_TTL_S, DEFAULT_MAX_PENDING), (300, 64));
    assert_eq!((o.heartbeat_interval_ms, o.trip_consecutive_denials, o.trip_risk_score_bps), (0, 0, 0));
    // The development configuration has none either.
    let dev =
        sentinel_config::development_configuration(common::admins()[0].public_key(), common::clients()[0].public_key());
    assert_eq!(dev.oversight, None);
    assert_eq!(dev.oversight().overseers, dev.admins.keys);
    // The defaults written out as a section are a valid section.
    let mut explicit = config.clone();
    explicit.oversight = Some(Oversight::from_admins(&config.admins));
    explicit.validate().unwrap();
    assert_eq!(*explicit.oversight(), *config.oversight());
}

#[test]
fn documents_without_a_section_keep_their_bytes_and_hash() {
    let config = sample(1);
    let bytes = config.encode();
    // Exactly what an encoder that never heard of oversight writes.
    assert_eq!(bytes, canonical(&json_to_cbor(&sample_json(1))));
    assert!(!bytes.windows(9).any(|w| w == b"oversight"));
    // Pinned: the sample's hash before the section existed.
    assert_eq!(
        hex::encode(config.config_hash()),
        "f45036285d182f502dafe384d0aada0c7b590b25c82408903fd630b30e131e62",
        "the encoding of documents without `oversight` changed"
    );
    assert!(!config.to_json().contains("oversight"));
    // Adding the section changes the hash; removing it restores it.
    let mut with = with_oversight();
    assert_ne!(with.config_hash(), config.config_hash());
    with.oversight = None;
    assert_eq!(with.encode(), bytes);
    assert_eq!(with.config_hash(), <[u8; 32]>::from(Sha256::digest(&bytes)));
}

#[test]
fn json_form_puts_the_section_last() {
    let text = with_oversight().to_json();
    let mut names: Vec<String> =
        ["version", "admins", "principals", "session_max_lifetime_s", "oversight"].map(|f| format!("\"{f}\"")).to_vec();
    names.extend(FIELDS.map(|f| format!("\"{f}\"")));
    let fields: Vec<usize> =
        names.iter().map(|f| text.find(f.as_str()).unwrap_or_else(|| panic!("{f} not in {text}"))).collect();
    assert!(fields.windows(2).all(|w| w[0] < w[1]), "{text}");
    let parsed: Json = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["oversight"], oversight_json());
}

#[test]
fn inspection_shows_the_section() {
    let config = with_oversight();
    let view: Json = serde_json::from_str(&Inspection::new(&config.encode()).unwrap().to_json()).unwrap();
    assert_eq!(view["config"]["oversight"], oversight_json());
    let view: Json = serde_json::from_str(&Inspection::new(&sample(1).encode()).unwrap().to_json()).unwrap();
    assert!(view["config"].get("oversight").is_none(), "{view}");
}

#[test]
fn shape_and_types() {
    refused(set_root(json!([])), Code::Invalid, "oversight: expected a map");
    // null is not absent.
    refused(set_root(Json::Null), Code::Invalid, "oversight: expected a map");
    refused(set("overseers", json!({})), Code::Invalid, "oversight.overseers: expected an array");
    refused(set("approvers", json!("alice")), Code::Invalid, "oversight.approvers: expected an array");
    refused(
        set("resume_threshold", json!("2")),
        Code::Invalid,
        "oversight.resume_threshold: expected an unsigned integer",
    );
    refused(set("approval_ttl_s", json!(-1)), Code::Invalid, "oversight.approval_ttl_s: expected an unsigned integer");
    refused(set("max_pending", json!(true)), Code::Invalid, "oversight.max_pending: expected an unsigned integer");
    refused(set("heartbeat_interval_ms", json!(null)), Code::Invalid, "oversight.heartbeat_interval_ms: expected");
    refused(set("trip_risk_score_bps", json!([1])), Code::Invalid, "oversight.trip_risk_score_bps: expected");
    refused(|j| j["oversight"]["overseers"][0] = json!(1), Code::Invalid, "oversight.overseers[0]: expected a map");
    refused(
        |j| j["oversight"]["approvers"][1]["id"] = json!(7),
        Code::Invalid,
        "oversight.approvers[1].id: expected a text",
    );
    // Hex without its 0x prefix in the JSON form.
    let mut json = sample_with_oversight_json(1);
    let hex = json["oversight"]["approvers"][1]["public_key"].as_str().unwrap().trim_start_matches("0x").to_string();
    json["oversight"]["approvers"][1]["public_key"] = json!(hex);
    let e = Configuration::from_json(&json.to_string()).unwrap_err();
    assert_eq!(e.kind(), Code::Invalid);
    assert!(e.message().contains("oversight.approvers[1].public_key: expected \"0x\""), "{e}");
}

fn set_root(value: Json) -> impl Fn(&mut Json) {
    move |j: &mut Json| j["oversight"] = value.clone()
}

#[test]
fn every_field_is_required() {
    for field in FIELDS {
        refused(
            |j| drop(j["oversight"].as_object_mut().unwrap().remove(field)),
            Code::Invalid,
            &format!("oversight.{field}: missing"),
        );
    }
    for field in ["id", "alg", "public_key"] {
        refused(
            |j| drop(j["oversight"]["overseers"][1].as_object_mut().unwrap().remove(field)),
            Code::Invalid,
            &format!("oversight.overseers[1].{field}: missing"),
        );
    }
    refused(set_root(json!({})), Code::Invalid, "oversight.overseers: missing");
}

#[test]
fn unknown_fields_are_refused() {
    refused(set("comment", json!("x")), Code::UnknownField, "oversight.comment: unknown field");
    refused(set("trip_consecutive_refusals", json!(3)), Code::UnknownField, "oversight.trip_consecutive_refusals");
    refused(|j| j["oversight"]["overseers"][0]["role"] = json!("x"), Code::UnknownField, "oversight.overseers[0].role");
    refused(
        |j| j["oversight"]["approvers"][1]["weight"] = json!(2),
        Code::UnknownField,
        "oversight.approvers[1].weight",
    );
}

#[test]
fn signer_lists() {
    refused(set("overseers", json!([])), Code::Invalid, "oversight.overseers: at least one overseer");
    refused(set("approvers", json!([])), Code::Invalid, "oversight.approvers: at least one approver");
    refused(
        |j| j["oversight"]["overseers"][1]["id"] = json!("olga"),
        Code::DuplicateId,
        "oversight.overseers[1].id: overseer `olga` already defined at oversight.overseers[0]",
    );
    refused(
        |j| j["oversight"]["approvers"][1]["id"] = json!("alice"),
        Code::DuplicateId,
        "oversight.approvers[1].id: approver `alice` already defined at oversight.approvers[0]",
    );
    refused(
        |j| {
            j["oversight"]["approvers"][1] = j["oversight"]["approvers"][0].clone();
            j["oversight"]["approvers"][1]["id"] = json!("ann");
        },
        Code::DuplicateKey,
        "oversight.approvers[1].public_key: the same key as oversight.approvers[0] (one signer would count twice)",
    );
    // The same key under another id is still one signer.
    refused(
        |j| {
            let mut again = j["oversight"]["overseers"][0].clone();
            again["id"] = json!("olga-2");
            j["oversight"]["overseers"].as_array_mut().unwrap().push(again);
        },
        Code::DuplicateKey,
        "oversight.overseers[2].public_key: the same key as oversight.overseers[0]",
    );
    refused(|j| j["oversight"]["overseers"][0]["id"] = json!(""), Code::Invalid, "oversight.overseers[0].id");
    refused(|j| j["oversight"]["overseers"][0]["id"] = json!("a b"), Code::Invalid, "oversight.overseers[0].id: `a b`");
    refused(
        |j| j["oversight"]["approvers"][0]["id"] = json!("x".repeat(MAX_ID_BYTES + 1)),
        Code::TooLarge,
        "oversight.approvers[0].id: 65 bytes, at most 64 (MAX_ID_BYTES)",
    );
    refused(
        |j| j["oversight"]["approvers"][1]["alg"] = json!("rsa"),
        Code::UnknownAlg,
        "oversight.approvers[1].alg: `rsa`",
    );
    refused(
        |j| j["oversight"]["overseers"][0]["public_key"] = json!("0x00"),
        Code::InvalidKey,
        "oversight.overseers[0].public_key: ed25519 key",
    );
    refused(
        |j| j["oversight"]["overseers"][1]["alg"] = json!("ed25519"),
        Code::InvalidKey,
        "oversight.overseers[1].public_key",
    );
    // At most MAX_OVERSIGHT_KEYS in each list.
    let many = |n: usize| {
        (0..n)
            .map(|i| {
                let c = common::admin(&format!("o{i}"), sentinel_config::Alg::Ed25519, 100 + i as u8);
                json!({ "id": c.id(), "alg": "ed25519", "public_key": format!("0x{}", hex::encode(c.public_key().as_bytes())) })
            })
            .collect::<Vec<_>>()
    };
    refused(
        set("overseers", json!(many(MAX_OVERSIGHT_KEYS + 1))),
        Code::TooLarge,
        "oversight.overseers: 17 items, at most 16 allowed (MAX_OVERSIGHT_KEYS)",
    );
    refused(set("approvers", json!(many(MAX_OVERSIGHT_KEYS + 1))), Code::TooLarge, "oversight.approvers: 17 items");
    let config = accepted(|j| {
        j["oversight"]["overseers"] = json!(many(MAX_OVERSIGHT_KEYS));
        j["oversight"]["approvers"] = json!(many(MAX_OVERSIGHT_KEYS));
        j["oversight"]["resume_threshold"] = json!(MAX_OVERSIGHT_KEYS);
        j["oversight"]["approval_threshold"] = json!(MAX_OVERSIGHT_KEYS);
    });
    let o = config.oversight.unwrap();
    assert_eq!((o.overseers.len(), o.approvers.len()), (16, 16));
    // The same people may oversee and approve, and share keys with admins and principals.
    accepted(|j| {
        j["oversight"]["overseers"] = j["admins"]["keys"].clone();
        j["oversight"]["approvers"] = j["admins"]["keys"].clone();
        j["oversight"]["approvers"][0]["id"] = json!("app");
        j["oversight"]["approvers"][0]["public_key"] = j["principals"][0]["keys"][0]["public_key"].clone();
        j["oversight"]["approvers"][0]["alg"] = j["principals"][0]["keys"][0]["alg"].clone();
    });
}

#[test]
fn thresholds() {
    refused(
        set("resume_threshold", json!(0)),
        Code::InvalidThreshold,
        "oversight.resume_threshold: 0, must be 1..=2 (the number of overseers)",
    );
    refused(set("resume_threshold", json!(3)), Code::InvalidThreshold, "oversight.resume_threshold: 3, must be 1..=2");
    refused(
        set("approval_threshold", json!(0)),
        Code::InvalidThreshold,
        "oversight.approval_threshold: 0, must be 1..=2 (the number of approvers)",
    );
    refused(set("approval_threshold", json!(3)), Code::InvalidThreshold, "oversight.approval_threshold: 3");
    let o = accepted(|j| {
        j["oversight"]["resume_threshold"] = json!(1);
        j["oversight"]["approval_threshold"] = json!(2);
    })
    .oversight
    .unwrap();
    assert_eq!((o.resume_threshold, o.approval_threshold), (1, 2));
}

#[test]
fn ranges() {
    let cases: [(&str, u64, &str); 7] = [
        ("approval_ttl_s", 0, "oversight.approval_ttl_s: 0, must be 1..=86400 (MAX_APPROVAL_TTL_S)"),
        ("approval_ttl_s", MAX_APPROVAL_TTL_S + 1, "oversight.approval_ttl_s: 86401"),
        ("max_pending", 0, "oversight.max_pending: 0, must be 1..=4096 (MAX_PENDING_LIMIT)"),
        ("max_pending", MAX_PENDING_LIMIT + 1, "oversight.max_pending: 4097"),
        (
            "trip_consecutive_denials",
            MAX_TRIP_CONSECUTIVE_DENIALS + 1,
            "oversight.trip_consecutive_denials: 100001, must be 0..=100000 (MAX_TRIP_CONSECUTIVE_DENIALS)",
        ),
        (
            "trip_risk_score_bps",
            MAX_TRIP_RISK_SCORE_BPS + 1,
            "oversight.trip_risk_score_bps: 10001, must be 0..=10000 (MAX_TRIP_RISK_SCORE_BPS)",
        ),
        ("trip_risk_score_bps", u64::MAX, "oversight.trip_risk_score_bps: 18446744073709551615"),
    ];
    for (field, value, needle) in cases {
        refused(set(field, json!(value)), Code::Invalid, needle);
    }
    for value in [1, MIN_HEARTBEAT_INTERVAL_MS - 1, MAX_HEARTBEAT_INTERVAL_MS + 1, u64::MAX] {
        refused(
            set("heartbeat_interval_ms", json!(value)),
            Code::Invalid,
            &format!("oversight.heartbeat_interval_ms: {value}, must be 0 (off) or 10..=3600000"),
        );
    }
    // The edges that are allowed.
    for (field, values) in [
        ("approval_ttl_s", [1, MAX_APPROVAL_TTL_S]),
        ("max_pending", [1, MAX_PENDING_LIMIT]),
        ("trip_consecutive_denials", [0, MAX_TRIP_CONSECUTIVE_DENIALS]),
        ("trip_risk_score_bps", [0, MAX_TRIP_RISK_SCORE_BPS]),
        ("heartbeat_interval_ms", [MIN_HEARTBEAT_INTERVAL_MS, MAX_HEARTBEAT_INTERVAL_MS]),
    ] {
        for value in values {
            accepted(set(field, json!(value)));
        }
    }
    let off = accepted(|j| {
        j["oversight"]["heartbeat_interval_ms"] = json!(0);
        j["oversight"]["trip_consecutive_denials"] = json!(0);
        j["oversight"]["trip_risk_score_bps"] = json!(0);
    });
    let o = off.oversight.unwrap();
    assert_eq!((o.heartbeat_interval_ms, o.trip_consecutive_denials, o.trip_risk_score_bps), (0, 0, 0));
    assert_eq!(
        (MIN_HEARTBEAT_INTERVAL_MS, MAX_HEARTBEAT_INTERVAL_MS, MAX_TRIP_CONSECUTIVE_DENIALS, MAX_TRIP_RISK_SCORE_BPS),
        (10, 3_600_000, 100_000, 10_000)
    );
}

#[test]
fn updates_carry_the_section_like_any_field() {
    // Verified like the rest of the document: the current admins sign it.
    let [alice, bob, _] = common::admins();
    let current = sample(1);
    let next = Configuration::from_json(&sample_with_oversight_json(2).to_string()).unwrap();
    let envelope = common::signed(&next, &[&alice, &bob]);
    let installed = current.verify_update(&envelope).unwrap();
    assert_eq!(installed, next);
    assert!(installed.oversight.is_some());
}
