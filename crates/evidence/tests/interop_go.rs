//! Independent implementation: receipts this crate signs, on documents the NSM
//! simulator issues, verified by `test/interop/cose-go`, a Go program written
//! from docs/receipts.md with other libraries (veraison/go-cose for COSE and
//! Ed25519/ES384, fxamacker/cbor for strict decoding and RFC 8949 core
//! deterministic re-encoding, crypto/x509 for the chain). Tampered receipts
//! must fail there too.
//!
//! Needs Go (on PATH or /usr/local/go/bin/go); it is never skipped: without Go
//! this test fails. Modules come from the Go module proxy the first time, into
//! `${XDG_CACHE_HOME:-~/.cache}/sentinel/go` (GOMODCACHE and GOCACHE, which CI
//! caches), with `-mod=readonly` so go.mod / go.sum are used as committed.

mod common;

#[path = "../../../test/interop/go_build.rs"]
mod go_build;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{h, rule, Enclave, T0_MS};
use coset::{iana, CborSerializable, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use ed25519_dalek::Signer;
use sentinel_evidence::{
    sign_receipt, verify_receipt, ReceiptClaims, SigningKey, UserData, KEY_STORAGE_VALUES, MAX_RULES_EVALUATED,
};
use serde_json::Value;
use sha2::Digest;

/// Builds the Go verifier once per test process.
fn verifier() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| go_build::build_go_program(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"), "cose-go"))
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(enclave: &Enclave) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("root.der"), enclave.nsm.root_der()).unwrap();
        Self { dir }
    }

    /// Runs the Go verifier on `receipt` and `document`.
    fn run(&self, receipt: &[u8], document: &[u8]) -> Output {
        let (r, d) = (self.dir.path().join("receipt.cbor"), self.dir.path().join("document.cbor"));
        std::fs::write(&r, receipt).unwrap();
        std::fs::write(&d, document).unwrap();
        Command::new(verifier())
            .arg("-root")
            .arg(self.dir.path().join("root.der"))
            .args(["-at", &(T0_MS + 60_000).to_string()])
            .arg(&r)
            .arg(&d)
            .output()
            .expect("run cose-go")
    }
}

fn accepted(output: &Output) -> Value {
    assert!(output.status.success(), "cose-go refused:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON claims")
}

fn refused(output: &Output, reason: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "cose-go accepted a bad receipt: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(stderr.starts_with("FAIL: ") && stderr.contains(reason), "expected {reason:?}, got {stderr}");
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn expected_json(c: &ReceiptClaims, enclave: &Enclave) -> Value {
    serde_json::json!({
        "op": c.op, "code": c.code, "key_id": c.key_id, "decision": c.decision.as_str(), "principal": c.principal,
        "request_id": hex0x(&c.request_id), "config_hash": hex0x(&c.config_hash),
        "payload_hash": hex0x(&c.payload_hash), "timestamp_us": c.timestamp_us,
        "rules_evaluated": c.rules_evaluated.iter().map(|r| serde_json::json!({
            "rule": r.rule, "type": r.rule_type, "result": r.result, "value": r.value, "limit": r.limit,
            "window": r.window, "detail": r.detail,
        })).collect::<Vec<_>>(),
        "attestation_hash": hex0x(&c.attestation_hash),
        "result_hash": c.result_hash.map(|r| hex0x(&r)),
        "policy_hash": c.policy_hash.map(|r| hex0x(&r)),
        "approvals": c.approvals, "oversight_state": c.oversight_state, "oversight_scope": c.oversight_scope,
        "audit_seq": c.audit_seq, "audit_checkpoint": c.audit_checkpoint, "key_storage": c.key_storage,
        "module_id": "sentinel-dev-simulator", "receipt_key": hex0x(&enclave.keys.receipt),
    })
}

/// A validly signed receipt around any payload bytes (built with coset, not our signer).
fn sign_payload(payload: Vec<u8>, key: &SigningKey) -> Vec<u8> {
    CoseSign1Builder::new()
        .protected(HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).build())
        .payload(payload)
        .create_signature(b"", |tbs| key.sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .unwrap()
}

#[test]
fn go_cose_verifies_fresh_receipts() {
    let enclave = Enclave::boot(&format!("interop-{}", std::process::id()));
    let files = Files::new(&enclave);
    for claims in [enclave.claims(), enclave.denied_claims()] {
        let receipt = enclave.sign(&claims);
        // Ours accepts it, and so does the independent implementation, with the same claims.
        verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap();
        assert_eq!(accepted(&files.run(&receipt, &enclave.document)), expected_json(&claims, &enclave));
    }
    // Strings with escapes and non-ASCII, the most rules, long principal and rule texts (2-byte heads).
    let claims = ReceiptClaims {
        principal: format!("ünïcødé \"quoted\" {}", "x".repeat(300)),
        rules_evaluated: (0..MAX_RULES_EVALUATED)
            .map(|i| {
                let detail = format!("ü \"{i}\" {}", "d".repeat(200));
                rule(&format!("rule-{i}"), "notional_limit", "allow", Some("1"), None, Some("1h"), Some(&detail))
            })
            .collect(),
        key_id: None,
        ..enclave.claims()
    };
    let receipt = enclave.sign(&claims);
    assert_eq!(accepted(&files.run(&receipt, &enclave.document)), expected_json(&claims, &enclave));
    // A document attesting no policy, and a receipt without one and without rules.
    let no_policy = UserData { config_hash: enclave.config_hash, policy_hash: None }.to_bytes().to_vec();
    let document = enclave.document_with(Some(enclave.keys.to_bytes().to_vec()), Some(no_policy), T0_MS);
    let claims = ReceiptClaims {
        policy_hash: None,
        rules_evaluated: vec![],
        attestation_hash: sha2::Sha256::digest(&document).into(),
        ..enclave.claims()
    };
    let receipt = enclave.sign(&claims);
    let json = accepted(&files.run(&receipt, &document));
    assert_eq!(json, expected_json(&claims, &enclave));
    assert_eq!((&json["policy_hash"], &json["rules_evaluated"]), (&Value::Null, &serde_json::json!([])));
}

#[test]
fn go_cose_refuses_tampered_receipts() {
    let enclave = Enclave::boot(&format!("interop-tamper-{}", std::process::id()));
    let files = Files::new(&enclave);
    let receipt = enclave.sign(&enclave.claims());
    accepted(&files.run(&receipt, &enclave.document));

    // A flipped byte in a claim.
    let at = receipt.windows(10).position(|w| w == b"dev-client").unwrap();
    let mut tampered = receipt.clone();
    tampered[at] = b'D';
    refused(&files.run(&tampered, &enclave.document), "receipt signature");
    // A flipped bit of the signature.
    let mut tampered = receipt.clone();
    *tampered.last_mut().unwrap() ^= 1;
    refused(&files.run(&tampered, &enclave.document), "receipt signature");
    // Signed by another key.
    let forged = sign_receipt(&enclave.claims(), &SigningKey::from_bytes(&h("attacker")));
    refused(&files.run(&forged, &enclave.document), "receipt signature");
    // A genuine document of the same enclave, but not the one the receipt names.
    let later = enclave.document_with(Some(enclave.keys.to_bytes().to_vec()), Some(enclave.user_data()), T0_MS + 1_000);
    refused(&files.run(&receipt, &later), "attestation_hash");
    // A configuration the document does not attest.
    let other_config = enclave.sign(&ReceiptClaims { config_hash: h("other config"), ..enclave.claims() });
    refused(&files.run(&other_config, &enclave.document), "config_hash");
    // A policy the document does not attest, or none where it attests one.
    let other_policy = enclave.sign(&ReceiptClaims { policy_hash: Some(h("other policy")), ..enclave.claims() });
    refused(&files.run(&other_policy, &enclave.document), "policy_hash");
    let no_policy = enclave.sign(&ReceiptClaims { policy_hash: None, ..enclave.claims() });
    refused(&files.run(&no_policy, &enclave.document), "policy_hash");
    // The earlier user_data layout (0x02 || config_hash).
    let old_layout = [&[0x02][..], &enclave.config_hash].concat();
    let document = enclave.document_with(Some(enclave.keys.to_bytes().to_vec()), Some(old_layout), T0_MS);
    refused(&files.run(&receipt, &document), "user_data");
    // A tampered document.
    let mut document = enclave.document.clone();
    *document.last_mut().unwrap() ^= 1;
    refused(&files.run(&receipt, &document), "attestation document");
}

#[test]
fn both_implementations_refuse_non_canonical_claims() {
    let enclave = Enclave::boot(&format!("interop-canonical-{}", std::process::id()));
    let files = Files::new(&enclave);
    let canonical = enclave.claims().to_cbor();
    // Correctly signed, but the claims map has a one-byte-argument head (b8 10 instead of b0).
    let long_head = [&[0xb8, 0x10][..], &canonical[1..]].concat();
    // ... or is an indefinite-length map.
    let indefinite = [&[0xbf][..], &canonical[1..], &[0xff]].concat();
    for payload in [long_head, indefinite] {
        let receipt = sign_payload(payload, &enclave.receipt_key);
        let ours = verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap_err();
        assert_eq!(ours.code(), "RECEIPT_MALFORMED");
        refused(&files.run(&receipt, &enclave.document), "claims");
    }
    // Inside rules_evaluated: an entry's keys in plain lexicographic order, an extra key, a missing
    // key, a rule text over 256 bytes, 65 entries; each correctly signed.
    let rule_map = |keys: &[&str], detail: &str| {
        use ciborium::value::Value;
        let value = |k: &str| match k {
            "rule" => Value::Text("r1".into()),
            "type" => Value::Text("chain".into()),
            "result" => Value::Text("allow".into()),
            "detail" => Value::Text(detail.into()),
            _ => Value::Null,
        };
        Value::Map(keys.iter().map(|k| (Value::Text((*k).into()), value(k))).collect())
    };
    let with_rules = |rules: Vec<ciborium::value::Value>| {
        use ciborium::value::Value;
        let mut value: Value = ciborium::de::from_reader(enclave.claims().to_cbor().as_slice()).unwrap();
        let Value::Map(entries) = &mut value else { unreachable!() };
        entries.iter_mut().find(|(k, _)| k.as_text() == Some("rules_evaluated")).unwrap().1 = Value::Array(rules);
        let mut out = Vec::new();
        ciborium::ser::into_writer(&value, &mut out).unwrap();
        out
    };
    let canonical_keys = ["rule", "type", "limit", "value", "detail", "result", "window"];
    let mut sorted_keys = canonical_keys;
    sorted_keys.sort();
    let good = with_rules(vec![rule_map(&canonical_keys, "d")]);
    let receipt = sign_payload(good, &enclave.receipt_key);
    verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap();
    accepted(&files.run(&receipt, &enclave.document));
    for payload in [
        with_rules(vec![rule_map(&sorted_keys, "d")]),
        with_rules(vec![rule_map(&[&canonical_keys[..], &["extra"]].concat(), "d")]),
        with_rules(vec![rule_map(&canonical_keys[..6], "d")]),
        with_rules(vec![rule_map(&canonical_keys, &"d".repeat(257))]),
        with_rules(vec![rule_map(&canonical_keys, "d"); 65]),
    ] {
        let receipt = sign_payload(payload, &enclave.receipt_key);
        let ours = verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap_err();
        assert_eq!(ours.code(), "RECEIPT_MALFORMED");
        refused(&files.run(&receipt, &enclave.document), "claims");
    }
    // The oversight claims: values outside their sets, approvals unsorted, repeated, too many, too
    // long, or null; each correctly signed and otherwise canonical.
    let with_claim = |key: &str, value: ciborium::value::Value| {
        use ciborium::value::Value;
        let mut claims: Value = ciborium::de::from_reader(enclave.claims().to_cbor().as_slice()).unwrap();
        let Value::Map(entries) = &mut claims else { unreachable!() };
        entries.iter_mut().find(|(k, _)| k.as_text() == Some(key)).unwrap().1 = value;
        let mut out = Vec::new();
        ciborium::ser::into_writer(&claims, &mut out).unwrap();
        out
    };
    let texts = |ids: &[&str]| {
        ciborium::value::Value::Array(ids.iter().map(|t| ciborium::value::Value::Text((*t).into())).collect())
    };
    let text = |t: &str| ciborium::value::Value::Text(t.into());
    let seventeen: Vec<String> = (0..17).map(|i| format!("a{i:02}")).collect();
    let long_id = "x".repeat(65);
    for payload in [
        with_claim("oversight_state", text("amber")),
        with_claim("oversight_state", text("Green")),
        with_claim("oversight_scope", text("key:")),
        with_claim("oversight_scope", text("everything")),
        with_claim("oversight_scope", text(&format!("principal:{}", "p".repeat(119)))),
        with_claim("approvals", texts(&["risk-desk", "alice"])),
        with_claim("approvals", texts(&["alice", "alice"])),
        with_claim("approvals", texts(&seventeen.iter().map(String::as_str).collect::<Vec<_>>())),
        with_claim("approvals", texts(&[""])),
        with_claim("approvals", texts(&[&long_id])),
        with_claim("approvals", ciborium::value::Value::Null),
    ] {
        let receipt = sign_payload(payload, &enclave.receipt_key);
        let ours = verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap_err();
        assert_eq!(ours.code(), "RECEIPT_MALFORMED");
        refused(&files.run(&receipt, &enclave.document), "claims");
    }
    // The limits themselves are accepted by both.
    let sixteen: Vec<String> = (0..16).map(|i| format!("{i:02}{}", "x".repeat(62))).collect();
    for payload in [
        with_claim("approvals", texts(&sixteen.iter().map(String::as_str).collect::<Vec<_>>())),
        with_claim("oversight_scope", text(&format!("principal:{}", "p".repeat(118)))),
        with_claim("oversight_state", text("red")),
    ] {
        let receipt = sign_payload(payload, &enclave.receipt_key);
        verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap();
        accepted(&files.run(&receipt, &enclave.document));
    }
    // The canonical payload signed the same way is accepted by both (coset writes our bytes).
    let receipt = sign_payload(canonical, &enclave.receipt_key);
    assert_eq!(receipt, enclave.sign(&enclave.claims()));
    accepted(&files.run(&receipt, &enclave.document));
    // An untagged envelope is refused by both.
    let untagged = receipt[1..].to_vec();
    assert_eq!(
        verify_receipt(&untagged, &enclave.document, &enclave.options()).unwrap_err().code(),
        "RECEIPT_MALFORMED"
    );
    refused(&files.run(&untagged, &enclave.document), "tagged COSE_Sign1");
    let _ = coset::CoseSign1::from_slice(&untagged).unwrap(); // it is a COSE_Sign1, just not tagged
}

/// `key_storage`, the one claim left out rather than null: receipts with each of its values, and
/// without it, verify in both implementations with the same claims; null, another value, another
/// type, another place or a second one are refused by both.
#[test]
fn both_implementations_read_key_storage() {
    use ciborium::value::Value;
    let enclave = Enclave::boot(&format!("interop-storage-{}", std::process::id()));
    let files = Files::new(&enclave);
    let generated = |storage: Option<&str>| ReceiptClaims {
        op: "generate_key".into(),
        rules_evaluated: vec![],
        approvals: vec![],
        oversight_state: "green".into(),
        oversight_scope: "global".into(),
        key_storage: storage.map(str::to_string),
        ..enclave.claims()
    };
    for storage in KEY_STORAGE_VALUES.map(Some).into_iter().chain([None]) {
        let claims = generated(storage);
        let receipt = enclave.sign(&claims);
        assert_eq!(verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap().claims(), &claims);
        let json = accepted(&files.run(&receipt, &enclave.document));
        assert_eq!(json, expected_json(&claims, &enclave));
        assert_eq!(json["key_storage"], serde_json::json!(storage));
    }
    // Each bad form correctly signed: the claims map of a generated key with its key_storage entry
    // edited (or a second one added), re-encoded in map order.
    type Entries = Vec<(Value, Value)>;
    let edited = |edit: &dyn Fn(&mut Entries)| {
        let mut claims: Value = ciborium::de::from_reader(generated(Some("ephemeral")).to_cbor().as_slice()).unwrap();
        let Value::Map(entries) = &mut claims else { unreachable!() };
        edit(entries);
        let mut out = Vec::new();
        ciborium::ser::into_writer(&claims, &mut out).unwrap();
        out
    };
    let set = |value: Value| {
        move |entries: &mut Entries| {
            entries.iter_mut().find(|(k, _)| k.as_text() == Some("key_storage")).unwrap().1 = value.clone();
        }
    };
    let at =
        |entries: &Vec<(Value, Value)>| entries.iter().position(|(k, _)| k.as_text() == Some("key_storage")).unwrap();
    for payload in [
        edited(&set(Value::Null)),
        edited(&set(Value::Text("sealed".into()))),
        edited(&set(Value::Text("Ephemeral".into()))),
        edited(&set(Value::Bytes(b"ephemeral".to_vec()))),
        edited(&set(Value::Integer(1.into()))),
        // After policy_hash instead of before it.
        edited(&|entries| {
            let i = at(entries);
            entries.swap(i, i + 1);
        }),
        // Last.
        edited(&|entries| {
            let entry = entries.remove(at(entries));
            entries.push(entry);
        }),
        // Twice.
        edited(&|entries| {
            let entry = entries[at(entries)].clone();
            let i = at(entries);
            entries.insert(i, entry);
        }),
    ] {
        let receipt = sign_payload(payload, &enclave.receipt_key);
        let ours = verify_receipt(&receipt, &enclave.document, &enclave.options()).unwrap_err();
        assert_eq!(ours.code(), "RECEIPT_MALFORMED");
        refused(&files.run(&receipt, &enclave.document), "claims");
    }
}
