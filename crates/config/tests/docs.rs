//! docs/configuration.md stays true: its worked example (JSON form, canonical
//! CBOR, config_hash, admin signatures, signed envelope, a stamp) and its
//! `oversight` example are generated here from fixed seeds, and every refusal
//! code and limit is in its tables.
//! `UPDATE_GENERATED=1 cargo test -p sentinel-config --test docs` rewrites the
//! generated blocks; without it, a stale block fails the test.

use std::path::PathBuf;

use sentinel_config::{
    codes, config_signing_digest, stamp_digest, Alg, ConfigErrorCode, Configuration, Credential, CredentialKind,
    SignedConfig, Stamp, StampErrorCode, StampVerifier,
};

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md")
}

fn credential(kind: CredentialKind, id: &str, alg: Alg, byte: u8) -> Credential {
    Credential::generate(kind, id, alg, &[byte; 32]).unwrap()
}

fn hex_lines(bytes: &[u8]) -> String {
    hex::encode(bytes).as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n")
}

/// (marker, fenced block language, content) of every generated block.
fn generated() -> Vec<(&'static str, &'static str, String)> {
    let alice = credential(CredentialKind::Admin, "alice", Alg::Ed25519, 1);
    let bob = credential(CredentialKind::Admin, "bob", Alg::P256, 2);
    let payments = credential(CredentialKind::Client, "payments", Alg::Secp256k1, 3);
    let wallet = credential(CredentialKind::Client, "wallet-service", Alg::Ed25519, 4);
    let hex = |c: &Credential| format!("0x{}", hex::encode(c.public_key().as_bytes()));
    let json = format!(
        r#"{{
  "version": 1,
  "admins": {{
    "threshold": 2,
    "keys": [
      {{ "id": "alice", "alg": "ed25519", "public_key": "{}" }},
      {{ "id": "bob", "alg": "p256", "public_key": "{}" }}
    ]
  }},
  "principals": [
    {{
      "id": "payments",
      "keys": [{{ "alg": "secp256k1", "public_key": "{}" }}],
      "operations": ["sign_ethereum_transaction", "sign_typed_data", "list_keys"],
      "keys_allowed": ["treasury"],
      "max_keys": 0
    }},
    {{
      "id": "wallet-service",
      "keys": [{{ "alg": "ed25519", "public_key": "{}" }}],
      "operations": ["generate_key", "sign_digest", "list_keys"],
      "keys_allowed": "own",
      "max_keys": 100
    }}
  ],
  "stamp_window_ms": 30000,
  "session_max_lifetime_s": 3600
}}"#,
        hex(&alice),
        hex(&bob),
        hex(&payments),
        hex(&wallet)
    );
    let config = Configuration::from_json(&json).unwrap();
    let document = config.encode();
    let hash = config.config_hash();
    // Written before the `oversight` section existed: a document without one keeps its hash.
    assert_eq!(config.oversight, None);
    assert_eq!(hex::encode(hash), "c18383de6f8a9aa91fb34bdd7ea6cb27d2d61df6ae7e429451e8dbabf27cf25a");
    let mut signed = SignedConfig::new(document.clone(), Vec::new()).unwrap();
    signed.sign(&alice).unwrap();
    signed.sign(&bob).unwrap();
    let envelope = signed.encode();
    assert_eq!(SignedConfig::verify_initial(&envelope).unwrap(), config);

    let body = b"\xa1\x62op\x69list_keys";
    let timestamp_us = 1_700_000_000_000_000u64;
    let nonce: Vec<u8> = (0u8..16).collect();
    let stamp = Stamp::sign(&wallet, "list_keys", body, timestamp_us, &nonce).unwrap();
    let principal = StampVerifier::new(1).verify(&config, "list_keys", body, &stamp, timestamp_us).unwrap();
    assert_eq!(principal.id, "wallet-service");

    let values = format!(
        "config_hash          0x{}\nadmin signing digest 0x{}\nalice (ed25519)      0x{}\nbob (p256)           0x{}",
        hex::encode(hash),
        hex::encode(config_signing_digest(&hash)),
        hex::encode(&signed.signatures[0].signature),
        hex::encode(&signed.signatures[1].signature),
    );
    let stamp_values = format!(
        "op            list_keys\nbody          0x{}   (CBOR {{\"op\": \"list_keys\"}})\ntimestamp_us  {timestamp_us}\n\
         nonce         0x{}\ndigest        0x{}\nsignature     0x{}",
        hex::encode(body),
        hex::encode(&nonce),
        hex::encode(stamp_digest("list_keys", body, timestamp_us, &nonce)),
        hex::encode(&stamp.signature),
    );
    let oversight = oversight_example(&alice);
    vec![
        ("example-json", "json", json),
        ("example-oversight-json", "json", oversight),
        ("example-cbor", "text", hex_lines(&document)),
        ("example-hashes", "text", values),
        ("example-envelope", "text", hex_lines(&envelope)),
        ("example-stamp", "text", stamp_values),
        ("example-stamp-cbor", "text", hex_lines(&stamp.encode())),
    ]
}

/// A document with an `oversight` section (docs/configuration.md, "The
/// `oversight` section"): checked to decode into exactly what it says.
fn oversight_example(alice: &Credential) -> String {
    let olga = credential(CredentialKind::Admin, "olga", Alg::Ed25519, 5);
    let oscar = credential(CredentialKind::Admin, "oscar", Alg::P256, 6);
    let risk = credential(CredentialKind::Admin, "risk-desk", Alg::Secp256k1, 7);
    let bob = credential(CredentialKind::Admin, "bob", Alg::P256, 2);
    let wallet = credential(CredentialKind::Client, "wallet-service", Alg::Ed25519, 4);
    let hex = |c: &Credential| format!("0x{}", hex::encode(c.public_key().as_bytes()));
    let json = format!(
        r#"{{
  "version": 2,
  "admins": {{
    "threshold": 2,
    "keys": [
      {{ "id": "alice", "alg": "ed25519", "public_key": "{alice}" }},
      {{ "id": "bob", "alg": "p256", "public_key": "{bob}" }}
    ]
  }},
  "principals": [
    {{
      "id": "wallet-service",
      "keys": [{{ "alg": "ed25519", "public_key": "{wallet}" }}],
      "operations": ["generate_key", "sign_digest", "list_keys"],
      "keys_allowed": "own",
      "max_keys": 100
    }}
  ],
  "stamp_window_ms": 30000,
  "session_max_lifetime_s": 3600,
  "oversight": {{
    "overseers": [
      {{ "id": "olga", "alg": "ed25519", "public_key": "{olga}" }},
      {{ "id": "oscar", "alg": "p256", "public_key": "{oscar}" }}
    ],
    "resume_threshold": 2,
    "approvers": [
      {{ "id": "alice", "alg": "ed25519", "public_key": "{alice}" }},
      {{ "id": "risk-desk", "alg": "secp256k1", "public_key": "{risk}" }}
    ],
    "approval_threshold": 1,
    "approval_ttl_s": 600,
    "max_pending": 32,
    "heartbeat_interval_ms": 1000,
    "trip_consecutive_denials": 20,
    "trip_risk_score_bps": 8000
  }}
}}"#,
        alice = hex(alice),
        bob = hex(&bob),
        wallet = hex(&wallet),
        olga = hex(&olga),
        oscar = hex(&oscar),
        risk = hex(&risk),
    );
    let config = Configuration::from_json(&json).unwrap();
    let o = config.oversight.as_ref().expect("the example has a section");
    assert_eq!(o.overseers.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["olga", "oscar"]);
    assert_eq!(o.approvers[0].public_key, alice.public_key());
    assert_eq!(o.approvers[1].public_key, risk.public_key());
    assert_eq!((o.resume_threshold, o.approval_threshold, o.approval_ttl_s, o.max_pending), (2, 1, 600, 32));
    assert_eq!((o.heartbeat_interval_ms, o.trip_consecutive_denials, o.trip_risk_score_bps), (1000, 20, 8000));
    assert_eq!(Configuration::decode(&config.encode()).unwrap(), config);
    json
}

/// Replaces the fenced block after `<!-- generated:NAME -->`; returns whether it changed.
fn splice(doc: &mut String, name: &str, lang: &str, content: &str) -> bool {
    let marker = format!("<!-- generated:{name} -->\n");
    let start = doc.find(&marker).unwrap_or_else(|| panic!("docs/configuration.md lacks the marker {marker}"));
    let block_start = start + marker.len();
    let fence_open = format!("```{lang}\n");
    assert!(doc[block_start..].starts_with(&fence_open), "{name}: a ```{lang} block must follow the marker");
    let body_start = block_start + fence_open.len();
    let body_end = body_start + doc[body_start..].find("\n```").expect("closing fence");
    let current = &doc[body_start..body_end];
    if current == content {
        return false;
    }
    doc.replace_range(body_start..body_end, content);
    true
}

#[test]
fn worked_example_is_current() {
    let path = doc_path();
    let mut doc = std::fs::read_to_string(&path).unwrap();
    let mut stale = Vec::new();
    for (name, lang, content) in generated() {
        if splice(&mut doc, name, lang, &content) {
            stale.push(name);
        }
    }
    if stale.is_empty() {
        return;
    }
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&path, doc).unwrap();
    } else {
        panic!(
            "docs/configuration.md: generated blocks {stale:?} are stale; \
             run UPDATE_GENERATED=1 cargo test -p sentinel-config --test docs"
        );
    }
}

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let all = ConfigErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(StampErrorCode::ALL.iter().map(|c| c.as_str()))
        .chain(codes::AUTHORIZATION.iter().copied());
    for code in all {
        assert!(doc.contains(&format!("| `{code}` |")), "docs/configuration.md: no table row for {code}");
    }
}

#[test]
fn caps_are_documented_with_their_values() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let caps = [
        ("MAX_CONFIG_BYTES", sentinel_config::MAX_CONFIG_BYTES as u64),
        ("MAX_SIGNED_CONFIG_BYTES", sentinel_config::MAX_SIGNED_CONFIG_BYTES as u64),
        ("MAX_ADMINS", sentinel_config::MAX_ADMINS as u64),
        ("MAX_SIGNATURES", sentinel_config::MAX_SIGNATURES as u64),
        ("MAX_SIGNATURE_BYTES", sentinel_config::MAX_SIGNATURE_BYTES as u64),
        ("MAX_PRINCIPALS", sentinel_config::MAX_PRINCIPALS as u64),
        ("MAX_KEYS_PER_PRINCIPAL", sentinel_config::MAX_KEYS_PER_PRINCIPAL as u64),
        ("MAX_LABELS_PER_PRINCIPAL", sentinel_config::MAX_LABELS_PER_PRINCIPAL as u64),
        ("MAX_OPERATIONS", sentinel_config::MAX_OPERATIONS as u64),
        ("MAX_ID_BYTES", sentinel_config::MAX_ID_BYTES as u64),
        ("MAX_LABEL_BYTES", sentinel_config::MAX_LABEL_BYTES as u64),
        ("MAX_STAMP_WINDOW_MS", sentinel_config::MAX_STAMP_WINDOW_MS),
        ("MAX_SESSION_LIFETIME_S", sentinel_config::MAX_SESSION_LIFETIME_S),
        ("MAX_OVERSIGHT_KEYS", sentinel_config::MAX_OVERSIGHT_KEYS as u64),
        ("MAX_APPROVAL_TTL_S", sentinel_config::MAX_APPROVAL_TTL_S),
        ("MAX_PENDING_LIMIT", sentinel_config::MAX_PENDING_LIMIT),
        ("MIN_HEARTBEAT_INTERVAL_MS", sentinel_config::MIN_HEARTBEAT_INTERVAL_MS),
        ("MAX_HEARTBEAT_INTERVAL_MS", sentinel_config::MAX_HEARTBEAT_INTERVAL_MS),
        ("MAX_TRIP_CONSECUTIVE_DENIALS", sentinel_config::MAX_TRIP_CONSECUTIVE_DENIALS),
        ("MAX_TRIP_RISK_SCORE_BPS", sentinel_config::MAX_TRIP_RISK_SCORE_BPS),
        ("DEFAULT_APPROVAL_TTL_S", sentinel_config::DEFAULT_APPROVAL_TTL_S),
        ("DEFAULT_MAX_PENDING", sentinel_config::DEFAULT_MAX_PENDING),
        ("MAX_STAMP_BYTES", sentinel_config::MAX_STAMP_BYTES as u64),
        ("MIN_NONCE_LEN", sentinel_config::MIN_NONCE_LEN as u64),
        ("MAX_NONCE_LEN", sentinel_config::MAX_NONCE_LEN as u64),
        ("DEFAULT_REPLAY_CACHE_CAPACITY", sentinel_config::DEFAULT_REPLAY_CACHE_CAPACITY as u64),
    ];
    for (name, value) in caps {
        let row = format!("| `{name}` | {} |", group(value));
        assert!(doc.contains(&row), "docs/configuration.md: no row `{row}`");
    }
}

/// 262144 -> "262,144".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
