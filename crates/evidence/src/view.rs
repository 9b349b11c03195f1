//! The JavaScript-facing shapes, shared by the N-API and both WASM bindings so
//! that every build answers with the same object from the same code: claims
//! and keys in camelCase with bytes as `0x`-prefixed lowercase hex (the
//! contract's JSON rule), and the options object of `verifyReceipt`, which
//! each binding deserializes with its own serde deserializer into
//! [`ReceiptOptionsSpec`] (so the type rules are this file's). A misspelt
//! option would silently check nothing, so unknown option keys are refused.

use std::fmt;

use sentinel_attestation::{UnixTime, PCR_LEN};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::claims::{ReceiptClaims, RuleEvaluated};
use crate::error::{from_attestation, Error, ErrorCode};
use crate::keys::AttestedKeys;
use crate::report::{check_receipt, ReceiptReport};
use crate::verify::{decode_receipt_claims_unverified, verify_receipt, ReceiptOptions, VerifiedReceipt};

fn hex0x(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    out.push_str(&hex::encode(bytes));
    out
}

/// [`ReceiptClaims`] as JS sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptClaimsView {
    pub request_id: String,
    /// A JS number: exact, since claims carry at most 2^53 − 1.
    pub timestamp_us: f64,
    pub principal: String,
    pub key_id: Option<String>,
    pub op: String,
    pub payload_hash: String,
    /// `"allowed"` or `"denied"`.
    pub decision: &'static str,
    pub code: Option<String>,
    pub result_hash: Option<String>,
    pub rules_evaluated: Vec<RuleEvaluatedView>,
    pub config_hash: String,
    /// `null` when no policy was installed.
    pub policy_hash: Option<String>,
    pub attestation_hash: String,
    /// The approvers whose approvals released the request (sorted; empty unless it was held).
    pub approvals: Vec<String>,
    /// `"green"`, `"yellow"` or `"red"`: the kill-switch level in effect.
    pub oversight_state: String,
    /// `"global"`, `"key:<id>"` or `"principal:<id>"`: the scope that set it.
    pub oversight_scope: String,
    /// The audit record of this answer: its sequence number in the enclave's log.
    pub audit_seq: Option<f64>,
    /// The latest signed checkpoint of the log when the receipt was made (C2SP signed note text).
    pub audit_checkpoint: Option<String>,
    /// How the key this answer created is kept: `"sealed:aws-kms"`, `"sealed:development"` or
    /// `"ephemeral"`; `null` when the answer created no key (the claim is then absent).
    pub key_storage: Option<String>,
}

/// [`RuleEvaluated`] as JS sees it: `{rule, type, result, value, limit,
/// window, detail}`, absent values `null`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleEvaluatedView {
    pub rule: String,
    #[serde(rename = "type")]
    pub rule_type: String,
    pub result: String,
    pub value: Option<String>,
    pub limit: Option<String>,
    pub window: Option<String>,
    pub detail: Option<String>,
}

impl RuleEvaluated {
    /// The JS view of this entry.
    pub fn view(&self) -> RuleEvaluatedView {
        RuleEvaluatedView {
            rule: self.rule.clone(),
            rule_type: self.rule_type.clone(),
            result: self.result.clone(),
            value: self.value.clone(),
            limit: self.limit.clone(),
            window: self.window.clone(),
            detail: self.detail.clone(),
        }
    }
}

impl ReceiptClaims {
    /// The JS view of these claims.
    pub fn view(&self) -> ReceiptClaimsView {
        ReceiptClaimsView {
            request_id: hex0x(&self.request_id),
            timestamp_us: self.timestamp_us as f64,
            principal: self.principal.clone(),
            key_id: self.key_id.clone(),
            op: self.op.clone(),
            payload_hash: hex0x(&self.payload_hash),
            decision: self.decision.as_str(),
            code: self.code.clone(),
            result_hash: self.result_hash.as_ref().map(|h| hex0x(h)),
            rules_evaluated: self.rules_evaluated.iter().map(RuleEvaluated::view).collect(),
            config_hash: hex0x(&self.config_hash),
            policy_hash: self.policy_hash.as_ref().map(|h| hex0x(h)),
            attestation_hash: hex0x(&self.attestation_hash),
            approvals: self.approvals.clone(),
            oversight_state: self.oversight_state.clone(),
            oversight_scope: self.oversight_scope.clone(),
            audit_seq: self.audit_seq.map(|s| s as f64),
            audit_checkpoint: self.audit_checkpoint.clone(),
            key_storage: self.key_storage.clone(),
        }
    }
}

/// [`AttestedKeys`] as JS sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestedKeysView {
    /// Ed25519, signs receipts.
    pub receipt_key: String,
    /// X25519, session handshake.
    pub session_key: String,
    /// X25519, key import.
    pub import_key: String,
    /// Ed25519, signs the audit log's checkpoints.
    pub audit_key: String,
}

impl AttestedKeys {
    /// The JS view of this bundle.
    pub fn view(&self) -> AttestedKeysView {
        AttestedKeysView {
            receipt_key: hex0x(&self.receipt),
            session_key: hex0x(&self.session),
            import_key: hex0x(&self.import),
            audit_key: hex0x(&self.audit),
        }
    }
}

/// [`VerifiedReceipt`] as JS sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedReceiptView {
    pub claims: ReceiptClaimsView,
    /// `"aws-nitro"` or `"other"` (a development root).
    pub root_kind: &'static str,
    pub attested_keys: AttestedKeysView,
    /// The document's PCR0, hex.
    pub pcr0: String,
}

impl VerifiedReceipt {
    /// The JS view of this result.
    pub fn view(&self) -> VerifiedReceiptView {
        VerifiedReceiptView {
            claims: self.claims().view(),
            root_kind: self.root_kind().as_str(),
            attested_keys: self.attested_keys().view(),
            pcr0: hex0x(self.pcr0()),
        }
    }
}

/// A byte value given either as bytes (`Uint8Array`/`Buffer`) or as hex text
/// (`0x` prefix optional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BytesOrHex {
    Bytes(Vec<u8>),
    Hex(String),
}

impl BytesOrHex {
    /// The bytes, or `None` when hex text is not hex (any length: callers check their own).
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Self::Bytes(bytes) => Some(bytes.clone()),
            Self::Hex(text) => hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok(),
        }
    }

    /// Exactly `N` bytes, or `INVALID_EXPECTATION` naming `name`.
    fn exact<const N: usize>(&self, name: &str) -> Result<[u8; N], Error> {
        Ok(self.sized(name, N)?.try_into().expect("length checked"))
    }

    /// Exactly `len` bytes (not generic: one copy in the WASM builds).
    fn sized(&self, name: &str, len: usize) -> Result<Vec<u8>, Error> {
        let invalid = |what: String| {
            Error::new(ErrorCode::Attestation(sentinel_attestation::ErrorCode::InvalidExpectation), what)
        };
        let bytes = self.to_bytes().ok_or_else(|| invalid(format!("options.{name} is not hex")))?;
        if bytes.len() != len {
            return Err(invalid(format!("options.{name} must be {len} bytes, got {}", bytes.len())));
        }
        Ok(bytes)
    }
}

impl<'de> Deserialize<'de> for BytesOrHex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BytesOrHex;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Uint8Array or a hex string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(BytesOrHex::Hex(text.to_owned()))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(BytesOrHex::Hex(text))
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
                Ok(BytesOrHex::Bytes(bytes.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
                Ok(BytesOrHex::Bytes(bytes))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Bytes only (`Uint8Array`/`Buffer`; an array of byte values also works).
struct Bytes(Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Uint8Array")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
                Ok(Bytes(bytes.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
                Ok(Bytes(bytes))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64 * 1024));
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                Ok(Bytes(bytes))
            }
        }
        deserializer.deserialize_byte_buf(V)
    }
}

/// The options object of `verifyReceipt` as JS passes it. `null` and absent
/// are unset; unknown keys are refused.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReceiptOptionsSpec {
    /// `root` (required): the trusted root certificate, DER.
    pub root: Vec<u8>,
    /// `expectedPcr0`: 48 bytes.
    pub expected_pcr0: Option<BytesOrHex>,
    /// `expectedConfigHash`: 32 bytes.
    pub expected_config_hash: Option<BytesOrHex>,
    /// `expectedPolicyHash`: 32 bytes.
    pub expected_policy_hash: Option<BytesOrHex>,
    /// `now`: Unix ms; unset = the binding's current time.
    pub now_ms: Option<f64>,
    /// `allowDebug`: unset = false.
    pub allow_debug: Option<bool>,
}

/// The JS names of [`ReceiptOptionsSpec`]'s fields.
const OPTION_KEYS: &[&str] = &["root", "expectedPcr0", "expectedConfigHash", "expectedPolicyHash", "now", "allowDebug"];

/// The JS names of the fields of `checkReceipt`'s options (the time is `atMs`).
const CHECK_OPTION_KEYS: &[&str] =
    &["root", "expectedPcr0", "expectedConfigHash", "expectedPolicyHash", "atMs", "allowDebug"];

/// Reads the options of `verifyReceipt` (time key `now`) or of `checkReceipt`
/// (time key `atMs`): one visitor, so the WASM builds carry one copy. Written
/// out, not derived: the WASM deserializer reads only a struct's known
/// fields, so `deny_unknown_fields` would not see a misspelt key there.
struct OptionFields {
    time_key: &'static str,
    keys: &'static [&'static str],
    expecting: &'static str,
}

impl<'de> Visitor<'de> for OptionFields {
    type Value = ReceiptOptionsSpec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReceiptOptionsSpec, A::Error> {
        let mut spec = ReceiptOptionsSpec::default();
        let mut root = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "root" => root = map.next_value::<Option<Bytes>>()?.map(|b| b.0),
                "expectedPcr0" => spec.expected_pcr0 = map.next_value()?,
                "expectedConfigHash" => spec.expected_config_hash = map.next_value()?,
                "expectedPolicyHash" => spec.expected_policy_hash = map.next_value()?,
                "allowDebug" => spec.allow_debug = map.next_value()?,
                time if time == self.time_key => spec.now_ms = map.next_value()?,
                other => return Err(de::Error::unknown_field(other, self.keys)),
            }
        }
        spec.root = root.ok_or_else(|| de::Error::missing_field("root"))?;
        Ok(spec)
    }
}

impl<'de> Deserialize<'de> for ReceiptOptionsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OptionFields {
            time_key: "now",
            keys: OPTION_KEYS,
            expecting: "an object with root, expectedPcr0, expectedConfigHash, expectedPolicyHash, now or allowDebug",
        })
    }
}

/// The options object of `checkReceipt` as JS passes it: those of
/// `verifyReceipt`, except that the time is `atMs` and required (a report
/// states the time it judged at; there is no default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckReceiptOptionsSpec(pub ReceiptOptionsSpec);

impl<'de> Deserialize<'de> for CheckReceiptOptionsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spec = deserializer.deserialize_map(OptionFields {
            time_key: "atMs",
            keys: CHECK_OPTION_KEYS,
            expecting: "an object with root, atMs, expectedPcr0, expectedConfigHash, expectedPolicyHash or allowDebug",
        })?;
        if spec.now_ms.is_none() {
            return Err(de::Error::missing_field("atMs"));
        }
        Ok(Self(spec))
    }
}

impl ReceiptOptionsSpec {
    /// The options these describe; `current_ms` is asked for the time only when `now` is unset.
    pub fn options(&self, current_ms: impl FnOnce() -> f64) -> Result<ReceiptOptions<'_>, Error> {
        Ok(ReceiptOptions {
            root_der: &self.root,
            expected_pcr0: self.expected_pcr0.as_ref().map(|v| v.exact::<PCR_LEN>("expectedPcr0")).transpose()?,
            expected_config_hash: self
                .expected_config_hash
                .as_ref()
                .map(|v| v.exact::<32>("expectedConfigHash"))
                .transpose()?,
            expected_policy_hash: self
                .expected_policy_hash
                .as_ref()
                .map(|v| v.exact::<32>("expectedPolicyHash"))
                .transpose()?,
            now: UnixTime::from_js_millis(self.now_ms.unwrap_or_else(current_ms)).map_err(from_attestation)?,
            allow_debug: self.allow_debug.unwrap_or(false),
        })
    }
}

/// One binding call: `verifyReceipt(receipt, attestationDocument, options)`.
pub fn verify_receipt_request(
    receipt: &[u8],
    attestation_document: &[u8],
    options: &ReceiptOptionsSpec,
    current_ms: impl FnOnce() -> f64,
) -> Result<VerifiedReceiptView, Error> {
    let options = options.options(current_ms)?;
    Ok(verify_receipt(receipt, attestation_document, &options)?.view())
}

/// One binding call: `checkReceipt(receipt, attestationDocument, options)`.
/// Only the arguments can fail (`INVALID_TIME`, `INVALID_EXPECTATION`);
/// whatever is wrong with the receipt or the document is in the report.
pub fn check_receipt_request(
    receipt: &[u8],
    attestation_document: &[u8],
    options: &CheckReceiptOptionsSpec,
) -> Result<ReceiptReport, Error> {
    // No current time: a missing `atMs` (possible only from Rust) is INVALID_TIME.
    let options = options.0.options(|| f64::NAN)?;
    Ok(check_receipt(receipt, attestation_document, &options))
}

/// One binding call: `unsafeDecodeReceiptClaims(receipt)` (verifies nothing).
pub fn decode_receipt_claims_request(receipt: &[u8]) -> Result<ReceiptClaimsView, Error> {
    Ok(decode_receipt_claims_unverified(receipt)?.view())
}

/// One binding call: `attestedKeys(publicKey)`.
pub fn attested_keys_request(public_key: &[u8]) -> Result<AttestedKeysView, Error> {
    Ok(AttestedKeys::from_bytes(public_key)?.view())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Result<ReceiptOptionsSpec, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn options_types_and_defaults() {
        let s = spec(r#"{"root": [1, 2]}"#).unwrap();
        assert_eq!(s, ReceiptOptionsSpec { root: vec![1, 2], ..Default::default() });
        let o = s.options(|| 7.0).unwrap();
        assert_eq!(
            (o.now, o.allow_debug, o.expected_pcr0, o.expected_config_hash, o.expected_policy_hash),
            (UnixTime::from_millis(7), false, None, None, None)
        );
        let s = spec(&format!(
            r#"{{"root": [1], "expectedPcr0": "0x{}", "expectedConfigHash": "{}", "expectedPolicyHash": "0x{}",
                "now": 5, "allowDebug": true}}"#,
            "ab".repeat(48),
            "CD".repeat(32),
            "ef".repeat(32)
        ))
        .unwrap();
        let o = s.options(|| unreachable!("now is set")).unwrap();
        assert_eq!(o.expected_pcr0, Some([0xab; 48]));
        assert_eq!(o.expected_config_hash, Some([0xcd; 32]));
        assert_eq!(o.expected_policy_hash, Some([0xef; 32]));
        assert_eq!((o.now, o.allow_debug), (UnixTime::from_millis(5), true));
        let s =
            spec(r#"{"root": [1], "expectedPcr0": null, "expectedPolicyHash": null, "now": null, "allowDebug": null}"#)
                .unwrap();
        assert_eq!(s, ReceiptOptionsSpec { root: vec![1], ..Default::default() });
        for bad in [
            r#"{}"#,
            r#"{"root": null}"#,
            r#"{"root": 5}"#,
            r#"{"root": [1], "expectedPCR0": "00"}"#,
            r#"{"root": [1], "now": "today"}"#,
            r#"{"root": [1], "allowDebug": 1}"#,
            r#"{"root": [1], "expectedConfigHash": 5}"#,
            r#"{"root": [1], "expectedPolicyHash": false}"#,
            r#"{"root": [1], "expectedPolicy": "00"}"#,
            r#"5"#,
        ] {
            assert!(spec(bad).is_err(), "{bad}");
        }
        let code = |json: &str| spec(json).unwrap().options(|| 0.0).unwrap_err().code();
        assert_eq!(code(r#"{"root": [1], "expectedPcr0": "00"}"#), "INVALID_EXPECTATION");
        assert_eq!(code(r#"{"root": [1], "expectedPcr0": "zz"}"#), "INVALID_EXPECTATION");
        assert_eq!(code(r#"{"root": [1], "expectedConfigHash": ""}"#), "INVALID_EXPECTATION");
        assert_eq!(code(r#"{"root": [1], "expectedPolicyHash": "00"}"#), "INVALID_EXPECTATION");
        assert_eq!(code(r#"{"root": [1], "now": -1}"#), "INVALID_TIME");
        assert_eq!(code(r#"{"root": [1], "now": 1.5}"#), "INVALID_TIME");
    }

    #[test]
    fn views_use_0x_hex() {
        let keys = AttestedKeys { receipt: [1; 32], session: [2; 32], import: [0xab; 32], audit: [0xcd; 32] };
        let v = attested_keys_request(&keys.to_bytes()).unwrap();
        assert_eq!(v.receipt_key, format!("0x{}", "01".repeat(32)));
        assert_eq!(v.import_key, format!("0x{}", "ab".repeat(32)));
        assert_eq!(attested_keys_request(&[1; 3]).unwrap_err().code(), "ATTESTED_KEYS_MALFORMED");
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["auditKey", "importKey", "receiptKey", "sessionKey"]
        );
    }

    #[test]
    fn claims_view_names_and_rules() {
        use crate::claims::Decision;
        let claims = ReceiptClaims {
            request_id: [1; 16],
            timestamp_us: 5,
            principal: "p".into(),
            key_id: None,
            op: "sign_digest".into(),
            payload_hash: [2; 32],
            decision: Decision::Denied,
            code: Some("POLICY_DENIED".into()),
            result_hash: None,
            rules_evaluated: vec![RuleEvaluated {
                rule: "daily".into(),
                rule_type: "notional_limit".into(),
                result: "deny".into(),
                value: Some("11".into()),
                limit: Some("10".into()),
                window: Some("1d".into()),
                detail: None,
            }],
            config_hash: [3; 32],
            policy_hash: Some([4; 32]),
            attestation_hash: [5; 32],
            oversight_state: "yellow".into(),
            oversight_scope: "principal:p".into(),
            approvals: vec!["alice".into(), "bob".into()],
            audit_seq: Some(7),
            audit_checkpoint: Some("sentinel/log/0011223344556677\n8\nAAAA\n".into()),
            key_storage: Some("sealed:development".into()),
        };
        let json = serde_json::to_value(claims.view()).unwrap();
        assert_eq!(json["policyHash"], format!("0x{}", "04".repeat(32)));
        assert_eq!(
            json["rulesEvaluated"],
            serde_json::json!([{"rule": "daily", "type": "notional_limit", "result": "deny", "value": "11",
                                "limit": "10", "window": "1d", "detail": null}])
        );
        assert_eq!(json["approvals"], serde_json::json!(["alice", "bob"]));
        assert_eq!((&json["oversightState"], &json["oversightScope"]), (&"yellow".into(), &"principal:p".into()));
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "approvals",
                "attestationHash",
                "auditCheckpoint",
                "auditSeq",
                "code",
                "configHash",
                "decision",
                "keyId",
                "keyStorage",
                "op",
                "oversightScope",
                "oversightState",
                "payloadHash",
                "policyHash",
                "principal",
                "requestId",
                "resultHash",
                "rulesEvaluated",
                "timestampUs"
            ]
        );
        assert_eq!(json["keyStorage"], "sealed:development");
        let none = ReceiptClaims { policy_hash: None, key_storage: None, ..claims };
        let json = serde_json::to_value(none.view()).unwrap();
        assert_eq!((&json["policyHash"], &json["keyStorage"]), (&serde_json::Value::Null, &serde_json::Value::Null));
    }
}
