//! Shared fixtures: deterministic credentials, a sample configuration that
//! uses every algorithm, and a JSON -> canonical CBOR encoder written
//! independently of the crate's (so the two check each other).
#![allow(dead_code)]

use ciborium::Value;
use sentinel_config::{Alg, Configuration, Credential, CredentialKind, SignedConfig};
use serde_json::{json, Value as Json};

pub fn credential(kind: CredentialKind, id: &str, alg: Alg, seed_byte: u8) -> Credential {
    Credential::generate(kind, id, alg, &[seed_byte; 32]).unwrap()
}

pub fn admin(id: &str, alg: Alg, seed_byte: u8) -> Credential {
    credential(CredentialKind::Admin, id, alg, seed_byte)
}

pub fn client(id: &str, alg: Alg, seed_byte: u8) -> Credential {
    credential(CredentialKind::Client, id, alg, seed_byte)
}

/// Admins alice (ed25519), bob (p256), carol (secp256k1), threshold 2.
pub fn admins() -> [Credential; 3] {
    [admin("alice", Alg::Ed25519, 1), admin("bob", Alg::P256, 2), admin("carol", Alg::Secp256k1, 3)]
}

/// Principals: app (ed25519, all ops, own), ops (p256, sign ops, labels), eth (secp256k1, all keys).
pub fn clients() -> [Credential; 3] {
    [client("app", Alg::Ed25519, 11), client("ops", Alg::P256, 12), client("eth", Alg::Secp256k1, 13)]
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The sample document in its JSON form.
pub fn sample_json(version: u64) -> Json {
    let [alice, bob, carol] = admins();
    let [app, ops, eth] = clients();
    let key = |c: &Credential| json!({ "alg": c.alg().as_str(), "public_key": hex0x(c.public_key().as_bytes()) });
    let admin_key = |c: &Credential| json!({ "id": c.id(), "alg": c.alg().as_str(), "public_key": hex0x(c.public_key().as_bytes()) });
    json!({
        "version": version,
        "admins": { "threshold": 2, "keys": [admin_key(&alice), admin_key(&bob), admin_key(&carol)] },
        "principals": [
            { "id": app.id(), "keys": [key(&app)],
              "operations": ["generate_key", "import_key", "sign_digest", "sign_ethereum_transaction",
                             "sign_personal_message", "sign_typed_data", "sign_ed25519", "list_keys"],
              "keys_allowed": "own", "max_keys": 1000 },
            { "id": ops.id(), "keys": [key(&ops)], "operations": ["sign_digest", "list_keys"],
              "keys_allowed": ["treasury", "hot/1"], "max_keys": 0 },
            { "id": eth.id(), "keys": [key(&eth)],
              "operations": ["sign_ethereum_transaction", "sign_typed_data", "list_keys"],
              "keys_allowed": "all", "max_keys": 5 }
        ],
        "stamp_window_ms": 30000,
        "session_max_lifetime_s": 3600
    })
}

/// Overseers olga (ed25519) and oscar (p256); approvers alice (the admin's
/// own key: one key may play both roles) and ann (secp256k1).
pub fn oversight_people() -> [Credential; 3] {
    [admin("olga", Alg::Ed25519, 21), admin("oscar", Alg::P256, 22), admin("ann", Alg::Secp256k1, 23)]
}

/// An `oversight` section in its JSON form, every field away from its default.
pub fn oversight_json() -> Json {
    let [alice, ..] = admins();
    let [olga, oscar, ann] = oversight_people();
    let signer = |c: &Credential| json!({ "id": c.id(), "alg": c.alg().as_str(), "public_key": hex0x(c.public_key().as_bytes()) });
    json!({
        "overseers": [signer(&olga), signer(&oscar)],
        "resume_threshold": 2,
        "approvers": [signer(&alice), signer(&ann)],
        "approval_threshold": 1,
        "approval_ttl_s": 120,
        "max_pending": 8,
        "heartbeat_interval_ms": 100,
        "trip_consecutive_denials": 5,
        "trip_risk_score_bps": 9000
    })
}

/// The sample document with [`oversight_json`] as its `oversight` section.
pub fn sample_with_oversight_json(version: u64) -> Json {
    let mut json = sample_json(version);
    json["oversight"] = oversight_json();
    json
}

pub fn sample(version: u64) -> Configuration {
    Configuration::from_json(&sample_json(version).to_string()).unwrap()
}

/// An envelope of `config` signed by `signers`.
pub fn signed(config: &Configuration, signers: &[&Credential]) -> Vec<u8> {
    let mut envelope = SignedConfig::new(config.encode(), Vec::new()).unwrap();
    for s in signers {
        envelope.sign(s).unwrap();
    }
    envelope.encode()
}

/// JSON -> CBOR value: `public_key` strings are hex bytes, everything else maps one to one.
pub fn json_to_cbor(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            _ => Value::Float(n.as_f64().unwrap()),
        },
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(json_to_cbor).collect()),
        Json::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("public_key", Json::String(h)) => {
                            Value::Bytes(hex::decode(h.strip_prefix("0x").unwrap_or(h)).unwrap_or_default())
                        }
                        _ => json_to_cbor(v),
                    };
                    (Value::Text(k.clone()), v)
                })
                .collect(),
        ),
    }
}

/// Canonical CBOR of a value whose map keys are all text shorter than 256
/// bytes: sorted by length, then bytewise (RFC 8949 §4.2.1 for such keys:
/// their heads are `0x60 + len` below 24 and `0x78 len` from 24 on, so the
/// encoded bytes sort by length first either way).
pub fn canonical(value: &Value) -> Vec<u8> {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Map(entries) => {
                let mut entries: Vec<(Value, Value)> = entries.iter().map(|(k, v)| (k.clone(), sort(v))).collect();
                entries.sort_by(|(a, _), (b, _)| {
                    let (Value::Text(a), Value::Text(b)) = (a, b) else { panic!("text keys only") };
                    assert!(a.len() < 256 && b.len() < 256);
                    (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes()))
                });
                Value::Map(entries)
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    plain(&sort(value))
}

/// CBOR of a value as given (no sorting).
pub fn plain(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

/// Applies `mutate` to the JSON form `json` and expects `code` with `needle` in the
/// message, from the JSON form and from its canonical CBOR alike.
pub fn expect_refused(
    mut json: Json,
    mutate: impl Fn(&mut Json),
    code: sentinel_config::ConfigErrorCode,
    needle: &str,
) {
    mutate(&mut json);
    let from_json = Configuration::from_json(&json.to_string()).unwrap_err();
    assert_eq!(from_json.kind(), code, "JSON form: {from_json}");
    assert!(from_json.message().contains(needle), "JSON form: `{needle}` not in {from_json}");
    let from_cbor = Configuration::decode(&canonical(&json_to_cbor(&json))).unwrap_err();
    assert_eq!(from_cbor.kind(), code, "CBOR: {from_cbor}");
    assert!(from_cbor.message().contains(needle), "CBOR: `{needle}` not in {from_cbor}");
}
