//! What a receipt says: one decision of the enclave about one request. The
//! claims are a CBOR map with exactly thirteen text keys, in RFC 8949 §4.2.1
//! deterministic encoding (keys sorted by their encoded bytes, definite
//! lengths, shortest integers); absent values are CBOR `null`, never a missing
//! key, so the shape is fixed and a verifier in any language can check it.
//!
//! The CBOR is `ciborium`'s (=0.2.2, as in crates/config and
//! crates/attestation). Encoding builds a [`Value::Map`] with the entries in
//! the order of their encoded keys, and `ciborium`'s encoder writes definite
//! lengths and shortest heads. Decoding is strict: `ciborium` reads one
//! [`Value`] that must span the whole input (through `coset`'s
//! `CborSerializable::from_slice`, the same decoder that reads the envelope,
//! so the browser build carries one copy of it); this module then checks the
//! shape (exactly the thirteen keys, none twice, each value of its type and
//! size, `timestamp_us` at most [`MAX_TIMESTAMP_US`]; each `rules_evaluated`
//! entry a map of exactly its seven keys, at most [`MAX_RULES_EVALUATED`]
//! entries of texts of at most [`MAX_RULE_TEXT_LEN`] bytes), and finally re-encodes
//! the claims and compares bytes, so any non-canonical spelling (long heads,
//! indefinite lengths, another key order, `undefined` for `null`, a bignum
//! for an integer) is refused without an encoding rule checked by hand. All
//! refusals are `RECEIPT_MALFORMED`, naming the key.

use ciborium::value::Value;
use coset::{CborSerializable, CoseError};

use crate::error::{malformed, Error};

/// Largest `timestamp_us` a receipt may carry: 2^53 − 1, so that every
/// JavaScript verifier reads it as an exact number (it is year 2255).
pub const MAX_TIMESTAMP_US: u64 = (1 << 53) - 1;

/// The keys, in canonical order (sorted by their encoded bytes: shorter first,
/// then bytewise; `keys_are_in_canonical_order` checks it against a sort of
/// `ciborium`'s encodings). The encoder writes the map in this order.
pub(crate) const KEYS: [&str; 13] = [
    "op",
    "code",
    "key_id",
    "decision",
    "principal",
    "request_id",
    "config_hash",
    "policy_hash",
    "result_hash",
    "payload_hash",
    "timestamp_us",
    "rules_evaluated",
    "attestation_hash",
];

/// The keys of one `rules_evaluated` entry, in canonical order (the same rule
/// as [`KEYS`]; the same test checks it).
pub(crate) const RULE_KEYS: [&str; 7] = ["rule", "type", "limit", "value", "detail", "result", "window"];

/// Most entries `rules_evaluated` may hold (a policy has at most 64 rules).
pub const MAX_RULES_EVALUATED: usize = 64;

/// Longest text, in bytes, of any field of a `rules_evaluated` entry.
pub const MAX_RULE_TEXT_LEN: usize = 256;

/// Whether the enclave did what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allowed,
    Denied,
}

impl Decision {
    /// `"allowed"` or `"denied"`, as encoded.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "allowed" => Some(Self::Allowed),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }
}

/// One policy rule's result, as a receipt records it (docs/receipts.md,
/// docs/policy.md). Every text is at most [`MAX_RULE_TEXT_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleEvaluated {
    /// The rule's id in the policy.
    pub rule: String,
    /// The rule's type (`notional_limit`, `rate_limit`, ...); encoded as `type`.
    pub rule_type: String,
    /// `allow`, `deny`, `not_applicable`, `approval_required` or `error`
    /// (what the enclave writes; a verifier checks only that it is text).
    pub result: String,
    /// What was counted or measured (a decimal integer string), if anything.
    pub value: Option<String>,
    /// The limit it was compared with (a decimal integer string), if any.
    pub limit: Option<String>,
    /// The window of the limit (`1s`, `1m`, `1h`, `1d`), if any.
    pub window: Option<String>,
    /// What was counted or checked, in words (asset, unit, model hash, reason).
    pub detail: Option<String>,
}

impl RuleEvaluated {
    /// The entry as a CBOR map, in [`RULE_KEYS`] order.
    fn to_value(&self) -> Value {
        let text = |t: &str| Value::Text(t.to_owned());
        let optional_text = |t: &Option<String>| t.as_deref().map_or(Value::Null, text);
        // In RULE_KEYS order.
        let values = [
            text(&self.rule),
            text(&self.rule_type),
            optional_text(&self.limit),
            optional_text(&self.value),
            optional_text(&self.detail),
            text(&self.result),
            optional_text(&self.window),
        ];
        Value::Map(RULE_KEYS.iter().zip(values).map(|(key, value)| (text(key), value)).collect())
    }
}

/// The signed statement of one answer. See docs/receipts.md for each field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReceiptClaims {
    /// The request's 16-byte id.
    pub request_id: [u8; 16],
    /// When the enclave decided, µs since the Unix epoch (at most [`MAX_TIMESTAMP_US`]).
    pub timestamp_us: u64,
    /// The principal the request was authenticated as.
    pub principal: String,
    /// The key acted on, if the operation names one.
    pub key_id: Option<String>,
    /// The wire op name, e.g. `sign_digest`.
    pub op: String,
    /// SHA-256 of the exact request body bytes.
    pub payload_hash: [u8; 32],
    pub decision: Decision,
    /// The refusal code when denied (`null` when allowed, by convention; not enforced).
    pub code: Option<String>,
    /// SHA-256 of the result (e.g. the signature), when there is one.
    pub result_hash: Option<[u8; 32]>,
    /// The policy rules evaluated, in policy order, with their results (at
    /// most [`MAX_RULES_EVALUATED`]; empty when no policy applied).
    pub rules_evaluated: Vec<RuleEvaluated>,
    /// SHA-256 of the canonical configuration document in force.
    pub config_hash: [u8; 32],
    /// SHA-256 of the canonical policy in force; `None` when none is installed.
    pub policy_hash: Option<[u8; 32]>,
    /// SHA-256 of the enclave's boot attestation document.
    pub attestation_hash: [u8; 32],
}

impl ReceiptClaims {
    /// Exact length of [`Self::to_cbor`].
    pub fn encoded_len(&self) -> usize {
        self.to_cbor().len()
    }

    /// The canonical CBOR encoding (appended to `out`).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        write(&self.to_value(), out);
    }

    /// The canonical CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// The claims as a CBOR map, its entries in canonical order: [`KEYS`]
    /// order, which is the order of their encoded bytes (a test sorts them by
    /// `ciborium`'s encoding; sorting here, on every receipt, would cost more
    /// than the rest of the encoding).
    fn to_value(&self) -> Value {
        let text = |t: &str| Value::Text(t.to_owned());
        let bytes = |b: &[u8]| Value::Bytes(b.to_vec());
        let optional_text = |t: &Option<String>| t.as_deref().map_or(Value::Null, text);
        // In KEYS order.
        let values = [
            text(&self.op),
            optional_text(&self.code),
            optional_text(&self.key_id),
            text(self.decision.as_str()),
            text(&self.principal),
            bytes(&self.request_id),
            bytes(&self.config_hash),
            self.policy_hash.as_ref().map_or(Value::Null, |h| bytes(h)),
            self.result_hash.as_ref().map_or(Value::Null, |h| bytes(h)),
            bytes(&self.payload_hash),
            Value::Integer(self.timestamp_us.into()),
            Value::Array(self.rules_evaluated.iter().map(RuleEvaluated::to_value).collect()),
            bytes(&self.attestation_hash),
        ];
        Value::Map(KEYS.iter().zip(values).map(|(key, value)| (text(key), value)).collect())
    }

    /// Decodes canonical claims. Error: `RECEIPT_MALFORMED`, naming the key.
    pub fn from_cbor(cbor: &[u8]) -> Result<Self, Error> {
        let value = Value::from_slice(cbor).map_err(|e| malformed(format!("claims: {}", describe(&e))))?;
        let Value::Map(entries) = value else {
            return Err(malformed("claims: must be a CBOR map"));
        };
        let mut slots = slots(entries, &KEYS, "claims: ")?;
        let mut field = |key: &'static str| {
            let index = KEYS.iter().position(|k| *k == key).expect("one of KEYS");
            Field { key, value: slots[index].take().expect("all thirteen keys present") }
        };
        let claims = Self {
            op: text(field("op"))?,
            code: optional(field("code"), text)?,
            key_id: optional(field("key_id"), text)?,
            decision: decision(field("decision"))?,
            principal: text(field("principal"))?,
            request_id: bytes(field("request_id"))?,
            config_hash: bytes(field("config_hash"))?,
            policy_hash: optional(field("policy_hash"), bytes)?,
            result_hash: optional(field("result_hash"), bytes)?,
            payload_hash: bytes(field("payload_hash"))?,
            timestamp_us: timestamp(field("timestamp_us"))?,
            rules_evaluated: rules(field("rules_evaluated"))?,
            attestation_hash: bytes(field("attestation_hash"))?,
        };
        // The shape is right; whether these were the canonical bytes is decided by re-encoding.
        if claims.to_cbor() != cbor {
            return Err(malformed(
                "claims: not in deterministic encoding (RFC 8949 §4.2.1: definite lengths, shortest integers \
                 and lengths, map keys sorted by their encoded bytes)",
            ));
        }
        Ok(claims)
    }
}

/// `ciborium`'s encoding of `value`, appended to `out`.
fn write(value: &Value, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    ciborium::ser::into_writer(value, out).expect("CBOR encoding into a Vec");
}

/// Why `ciborium` could not read the input as one CBOR item.
fn describe(e: &CoseError) -> String {
    use ciborium::de::Error as Cbor;
    match e {
        CoseError::ExtraneousData => "bytes after the CBOR map".into(),
        CoseError::DecodeFailed(Cbor::Io(_)) => "truncated CBOR".into(),
        CoseError::DecodeFailed(Cbor::Syntax(at)) => {
            format!("not well-formed CBOR at byte {at} (e.g. a reserved head or invalid UTF-8 in a text string)")
        }
        CoseError::DecodeFailed(Cbor::RecursionLimitExceeded) => "CBOR nested too deeply".into(),
        e => format!("invalid CBOR: {e}"),
    }
}

/// One value of the claims map, with its key (for error messages).
struct Field {
    key: &'static str,
    value: Value,
}

/// The value read by `read`, or `null`.
fn optional<T>(field: Field, read: impl FnOnce(Field) -> Result<T, Error>) -> Result<Option<T>, Error> {
    match field.value {
        Value::Null => Ok(None),
        _ => read(field).map(Some),
    }
}

fn text(Field { key, value }: Field) -> Result<String, Error> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(malformed(format!("claims: {key} must be a text string"))),
    }
}

fn bytes<const N: usize>(field: Field) -> Result<[u8; N], Error> {
    Ok(sized(field, N)?.try_into().expect("length checked"))
}

/// A byte string of exactly `len` bytes (not generic: one copy in the WASM builds).
fn sized(Field { key, value }: Field, len: usize) -> Result<Vec<u8>, Error> {
    match value {
        Value::Bytes(bytes) if bytes.len() == len => Ok(bytes),
        Value::Bytes(bytes) => {
            Err(malformed(format!("claims: {key} must be a {len}-byte string, got {}", bytes.len())))
        }
        _ => Err(malformed(format!("claims: {key} must be a {len}-byte string"))),
    }
}

fn decision(Field { key, value }: Field) -> Result<Decision, Error> {
    match &value {
        Value::Text(text) => Decision::parse(text),
        _ => None,
    }
    .ok_or_else(|| malformed(format!("claims: {key} must be \"allowed\" or \"denied\"")))
}

fn timestamp(Field { key, value }: Field) -> Result<u64, Error> {
    let Value::Integer(integer) = value else {
        return Err(malformed(format!("claims: {key} must be an unsigned integer")));
    };
    match u64::try_from(integer) {
        Ok(t) if t <= MAX_TIMESTAMP_US => Ok(t),
        Ok(_) => Err(malformed(format!("claims: {key} must be an unsigned integer of at most 2^53 - 1"))),
        Err(_) => Err(malformed(format!("claims: {key} must be an unsigned integer"))),
    }
}

/// The entries of a CBOR map with exactly the text keys `keys`, one slot per
/// key in `keys` order: as many entries as keys, none unknown, none twice, so
/// none missing. `at` prefixes the messages (`"claims: "`, `"claims:
/// rules_evaluated[3]: "`). Not generic: one copy in the WASM builds.
fn slots(entries: Vec<(Value, Value)>, keys: &[&str], at: &str) -> Result<Vec<Option<Value>>, Error> {
    if entries.len() != keys.len() {
        return Err(malformed(format!("{at}must have exactly the {} keys, got {}", keys.len(), entries.len())));
    }
    let mut slots: Vec<Option<Value>> = Vec::new();
    slots.resize_with(keys.len(), || None);
    for (key, value) in entries {
        let Value::Text(key) = key else {
            return Err(malformed(format!("{at}every key must be a text string")));
        };
        let Some(index) = keys.iter().position(|k| *k == key) else {
            return Err(malformed(format!("{at}unknown key {key:?}")));
        };
        if slots[index].replace(value).is_some() {
            return Err(malformed(format!("{at}key {key:?} appears twice")));
        }
    }
    Ok(slots)
}

fn rules(Field { key, value }: Field) -> Result<Vec<RuleEvaluated>, Error> {
    let Value::Array(items) = value else {
        return Err(malformed(format!("claims: {key} must be an array of maps")));
    };
    if items.len() > MAX_RULES_EVALUATED {
        return Err(malformed(format!(
            "claims: {key} has {} entries, at most {MAX_RULES_EVALUATED} allowed",
            items.len()
        )));
    }
    items.into_iter().enumerate().map(|(index, item)| rule(index, item)).collect()
}

/// One `rules_evaluated` entry: a map of exactly [`RULE_KEYS`], each a text
/// (`rule`, `type`, `result`) or a text or null (the others), each text at
/// most [`MAX_RULE_TEXT_LEN`] bytes.
fn rule(index: usize, item: Value) -> Result<RuleEvaluated, Error> {
    let at = format!("claims: rules_evaluated[{index}]");
    let Value::Map(entries) = item else {
        return Err(malformed(format!("{at} must be a map")));
    };
    let mut slots = slots(entries, &RULE_KEYS, &format!("{at}: "))?;
    let mut field = |key: &str, nullable: bool| -> Result<Option<String>, Error> {
        let index = RULE_KEYS.iter().position(|k| *k == key).expect("one of RULE_KEYS");
        let what = if nullable { "a text string or null" } else { "a text string" };
        match slots[index].take().expect("all seven keys present") {
            Value::Null if nullable => Ok(None),
            Value::Text(text) if text.len() <= MAX_RULE_TEXT_LEN => Ok(Some(text)),
            Value::Text(text) => {
                Err(malformed(format!("{at}.{key} must be at most {MAX_RULE_TEXT_LEN} bytes, got {}", text.len())))
            }
            _ => Err(malformed(format!("{at}.{key} must be {what}"))),
        }
    };
    let mut required = |key: &str| field(key, false).map(|text| text.expect("not nullable"));
    let (rule, rule_type) = (required("rule")?, required("type")?);
    let result = required("result")?;
    Ok(RuleEvaluated {
        rule,
        rule_type,
        result,
        value: field("value", true)?,
        limit: field("limit", true)?,
        window: field("window", true)?,
        detail: field("detail", true)?,
    })
}

#[cfg(test)]
mod tests {
    use ciborium::value::Value;

    use super::*;

    fn example() -> ReceiptClaims {
        ReceiptClaims {
            request_id: [0x11; 16],
            timestamp_us: 1_767_225_600_123_456,
            principal: "dev-client".into(),
            key_id: Some("k1".into()),
            op: "sign_digest".into(),
            payload_hash: [0x22; 32],
            decision: Decision::Allowed,
            code: None,
            result_hash: Some([0x33; 32]),
            rules_evaluated: vec![
                RuleEvaluated {
                    rule: "eth-daily".into(),
                    rule_type: "notional_limit".into(),
                    result: "allow".into(),
                    value: Some("1500000000000000000".into()),
                    limit: Some("10000000000000000000".into()),
                    window: Some("1d".into()),
                    detail: Some("native:1 wei".into()),
                },
                RuleEvaluated {
                    rule: "chains".into(),
                    rule_type: "chain".into(),
                    result: "not_applicable".into(),
                    value: None,
                    limit: None,
                    window: None,
                    detail: None,
                },
            ],
            config_hash: [0x44; 32],
            policy_hash: Some([0x66; 32]),
            attestation_hash: [0x55; 32],
        }
    }

    fn rule_value(rule: &RuleEvaluated, order: &[&str]) -> Value {
        let text = |t: &str| Value::Text(t.into());
        let opt_text = |t: &Option<String>| t.as_deref().map_or(Value::Null, text);
        let value = |key: &str| match key {
            "rule" => text(&rule.rule),
            "type" => text(&rule.rule_type),
            "result" => text(&rule.result),
            "value" => opt_text(&rule.value),
            "limit" => opt_text(&rule.limit),
            "window" => opt_text(&rule.window),
            "detail" => opt_text(&rule.detail),
            _ => unreachable!(),
        };
        Value::Map(order.iter().map(|k| (text(k), value(k))).collect())
    }

    /// The same claims through a general-purpose encoder, keys in `order`.
    fn generic(claims: &ReceiptClaims, order: &[&str]) -> Vec<u8> {
        let value = |key: &str| -> Value {
            let bytes = |b: &[u8]| Value::Bytes(b.to_vec());
            let text = |t: &str| Value::Text(t.into());
            let opt_text = |t: &Option<String>| t.as_deref().map_or(Value::Null, text);
            match key {
                "request_id" => bytes(&claims.request_id),
                "timestamp_us" => Value::Integer(claims.timestamp_us.into()),
                "principal" => text(&claims.principal),
                "key_id" => opt_text(&claims.key_id),
                "op" => text(&claims.op),
                "payload_hash" => bytes(&claims.payload_hash),
                "decision" => text(claims.decision.as_str()),
                "code" => opt_text(&claims.code),
                "result_hash" => claims.result_hash.as_ref().map_or(Value::Null, |h| bytes(h)),
                "rules_evaluated" => {
                    Value::Array(claims.rules_evaluated.iter().map(|r| rule_value(r, &RULE_KEYS)).collect())
                }
                "config_hash" => bytes(&claims.config_hash),
                "policy_hash" => claims.policy_hash.as_ref().map_or(Value::Null, |h| bytes(h)),
                "attestation_hash" => bytes(&claims.attestation_hash),
                _ => unreachable!(),
            }
        };
        let map = Value::Map(order.iter().map(|k| (Value::Text((*k).into()), value(k))).collect());
        let mut out = Vec::new();
        ciborium::ser::into_writer(&map, &mut out).unwrap();
        out
    }

    fn encoded_key(k: &&str) -> Vec<u8> {
        let mut encoded = Vec::new();
        write(&Value::Text((*k).into()), &mut encoded);
        encoded
    }

    #[test]
    fn keys_are_in_canonical_order() {
        let mut sorted = KEYS;
        sorted.sort_by_key(encoded_key);
        assert_eq!(sorted, KEYS);
        let mut sorted = RULE_KEYS;
        sorted.sort_by_key(encoded_key);
        assert_eq!(sorted, RULE_KEYS);
        // And the encoder puts them in that order.
        let Value::Map(entries) = example().to_value() else { unreachable!() };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_text().unwrap()).collect();
        assert_eq!(keys, KEYS);
        let rules = &entries.iter().find(|(k, _)| k.as_text() == Some("rules_evaluated")).unwrap().1;
        let Value::Array(rules) = rules else { unreachable!() };
        for rule in rules {
            let Value::Map(entries) = rule else { unreachable!() };
            let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_text().unwrap()).collect();
            assert_eq!(keys, RULE_KEYS);
        }
        // The map heads: 13 and 7 pairs.
        let cbor = example().to_cbor();
        assert_eq!(cbor[0], 0xad);
        let rule_key = b"\x64rule";
        assert_eq!(cbor[cbor.windows(5).position(|w| w == rule_key).unwrap() - 1], 0xa7);
    }

    #[test]
    fn encoding_is_what_a_generic_encoder_writes_in_sorted_key_order() {
        let mut denied = example();
        denied.decision = Decision::Denied;
        denied.code = Some("POLICY_DENIED".into());
        denied.result_hash = None;
        denied.key_id = None;
        denied.rules_evaluated = vec![];
        denied.policy_hash = None;
        denied.timestamp_us = 0;
        for claims in [example(), denied] {
            let ours = claims.to_cbor();
            assert_eq!(ours.len(), claims.encoded_len());
            assert_eq!(ours, generic(&claims, &KEYS));
            assert_eq!(ReceiptClaims::from_cbor(&ours).unwrap(), claims);
        }
    }

    #[test]
    fn long_strings_use_longer_heads() {
        let mut claims = example();
        claims.principal = "p".repeat(300);
        let most = RuleEvaluated {
            rule: "r".repeat(MAX_RULE_TEXT_LEN),
            rule_type: "t".repeat(24),
            result: "approval_required".into(),
            value: Some("9".repeat(78)),
            limit: Some("1".repeat(MAX_RULE_TEXT_LEN)),
            window: Some("1h".into()),
            detail: Some("ü".repeat(MAX_RULE_TEXT_LEN / 2)),
        };
        claims.rules_evaluated = vec![most; MAX_RULES_EVALUATED];
        claims.timestamp_us = MAX_TIMESTAMP_US;
        let bytes = claims.to_cbor();
        assert_eq!(bytes.len(), claims.encoded_len());
        assert_eq!(bytes, generic(&claims, &KEYS));
        assert_eq!(ReceiptClaims::from_cbor(&bytes).unwrap(), claims);
    }

    fn code_of(bytes: &[u8]) -> String {
        let e = ReceiptClaims::from_cbor(bytes).unwrap_err();
        assert_eq!(e.code(), "RECEIPT_MALFORMED");
        e.message().to_owned()
    }

    #[test]
    fn refuses_another_key_order() {
        let mut order = KEYS;
        order.sort(); // plain lexicographic: not the CBOR order
        assert!(code_of(&generic(&example(), &order)).contains("deterministic"));
        // The same inside a rules_evaluated entry.
        let mut rule_order = RULE_KEYS;
        rule_order.sort();
        let claims = example();
        let Value::Map(mut entries) = claims.to_value() else { unreachable!() };
        let rules = entries.iter_mut().find(|(k, _)| k.as_text() == Some("rules_evaluated")).unwrap();
        rules.1 = Value::Array(claims.rules_evaluated.iter().map(|r| rule_value(r, &rule_order)).collect());
        let mut bytes = Vec::new();
        write(&Value::Map(entries), &mut bytes);
        assert!(code_of(&bytes).contains("deterministic"));
    }

    #[test]
    fn refuses_non_shortest_and_indefinite_forms() {
        let good = example().to_cbor();
        // Map head 0xad spelled with a one-byte argument.
        let long_head = [&[0xb8, 13][..], &good[1..]].concat();
        assert!(code_of(&long_head).contains("deterministic"));
        // Indefinite-length map.
        let indefinite = [&[0xbf][..], &good[1..], &[0xff]].concat();
        assert!(code_of(&indefinite).contains("deterministic"));
        // Trailing byte.
        assert!(code_of(&[good.as_slice(), &[0x00]].concat()).contains("after"));
        // Timestamp with a non-shortest head: 1_767_225_600_123_456 needs 8 bytes already,
        // so use a small one spelled long.
        let mut small = example();
        small.timestamp_us = 5;
        let good = small.to_cbor();
        let key = b"\x6ctimestamp_us";
        let at = good.windows(key.len()).position(|w| w == key).unwrap() + key.len();
        assert_eq!(good[at], 0x05);
        let spelled_long = [&good[..at], &[0x18, 0x05], &good[at + 1..]].concat();
        assert!(code_of(&spelled_long).contains("deterministic"));
        // The same 5 as a bignum (tag 2), which ciborium reads as the integer 5.
        let bignum = [&good[..at], &[0xc2, 0x41, 0x05], &good[at + 1..]].concat();
        assert!(code_of(&bignum).contains("deterministic"));
        // `undefined` (f7) for `null` (f6), which ciborium reads as null too.
        let key = b"\x64code";
        let at = good.windows(key.len()).position(|w| w == key).unwrap() + key.len();
        assert_eq!(good[at], 0xf6);
        let undefined = [&good[..at], &[0xf7], &good[at + 1..]].concat();
        assert!(code_of(&undefined).contains("deterministic"));
        // A byte string in chunks (indefinite length).
        let key = b"\x6arequest_id";
        let at = good.windows(key.len()).position(|w| w == key).unwrap() + key.len();
        assert_eq!(good[at], 0x50);
        let chunked = [
            &good[..at],
            &[0x5f, 0x48],
            &good[at + 1..at + 9],
            &[0x48],
            &good[at + 9..at + 17],
            &[0xff],
            &good[at + 17..],
        ]
        .concat();
        assert!(code_of(&chunked).contains("deterministic"));
    }

    #[test]
    fn refuses_wrong_shapes() {
        let map = |entries: Vec<(Value, Value)>| {
            let mut out = Vec::new();
            ciborium::ser::into_writer(&Value::Map(entries), &mut out).unwrap();
            out
        };
        let entries = || -> Vec<(Value, Value)> {
            let bytes = example().to_cbor();
            match ciborium::de::from_reader::<Value, _>(bytes.as_slice()).unwrap() {
                Value::Map(e) => e,
                _ => unreachable!(),
            }
        };
        let with = |key: &str, value: Value| {
            let mut e = entries();
            e.iter_mut().find(|(k, _)| k.as_text() == Some(key)).unwrap().1 = value;
            map(e)
        };
        assert!(code_of(&[0x80]).contains("must be a CBOR map"));
        assert!(code_of(&[]).contains("truncated"));
        let mut unknown = entries();
        unknown[1].0 = Value::Text("zz".into());
        assert!(code_of(&map(unknown)).contains("unknown key \"zz\""));
        let mut extra = entries();
        extra.push((Value::Text("zz".into()), Value::Null));
        assert!(code_of(&map(extra)).contains("exactly the 13 keys, got 14"));
        let mut missing = entries();
        missing.retain(|(k, _)| k.as_text() != Some("code"));
        assert!(code_of(&map(missing)).contains("exactly the 13 keys, got 12"));
        let mut twice = entries();
        twice[1] = twice[0].clone();
        assert!(code_of(&map(twice)).contains("key \"op\" appears twice"));
        let mut int_key = entries();
        int_key[0].0 = Value::Integer(1.into());
        assert!(code_of(&map(int_key)).contains("text string"));
        for (key, value, says) in [
            ("op", Value::Null, "op must be a text string"),
            ("op", Value::Bytes(b"x".to_vec()), "op must be a text string"),
            ("principal", Value::Integer(1.into()), "principal must be a text string"),
            ("decision", Value::Text("maybe".into()), "decision must be"),
            ("decision", Value::Bool(true), "decision must be"),
            ("request_id", Value::Bytes(vec![0; 32]), "request_id must be a 16-byte string, got 32"),
            ("request_id", Value::Null, "request_id must be a 16-byte string"),
            ("payload_hash", Value::Bytes(vec![0; 31]), "payload_hash must be a 32-byte string"),
            ("result_hash", Value::Bytes(vec![]), "result_hash must be a 32-byte string"),
            ("config_hash", Value::Text("00".into()), "config_hash must be a 32-byte string"),
            ("timestamp_us", Value::Integer((-1).into()), "timestamp_us must be an unsigned integer"),
            (
                "timestamp_us",
                Value::Integer((1u64 << 53).into()),
                "timestamp_us must be an unsigned integer of at most",
            ),
            ("timestamp_us", Value::Float(1.0), "timestamp_us must be an unsigned integer"),
            ("timestamp_us", Value::Tag(1, Box::new(Value::Integer(1.into()))), "timestamp_us must be"),
            ("rules_evaluated", Value::Null, "rules_evaluated must be an array of maps"),
            ("rules_evaluated", Value::Array(vec![Value::Null]), "rules_evaluated[0] must be a map"),
            (
                "rules_evaluated",
                Value::Array(vec![Value::Text("operation".into())]),
                "rules_evaluated[0] must be a map",
            ),
            ("policy_hash", Value::Bytes(vec![0; 33]), "policy_hash must be a 32-byte string, got 33"),
            ("policy_hash", Value::Text("none".into()), "policy_hash must be a 32-byte string"),
            ("key_id", Value::Bytes(vec![]), "key_id must be a text string"),
            ("code", Value::Integer(0.into()), "code must be a text string"),
        ] {
            let message = code_of(&with(key, value.clone()));
            assert!(message.contains(says), "{key} = {value:?}: {message}");
        }
        // Invalid UTF-8 in a text string.
        let good = example().to_cbor();
        let at = good.windows(10).position(|w| w == b"dev-client").unwrap();
        let mut bad_utf8 = good.clone();
        bad_utf8[at] = 0xff;
        assert!(code_of(&bad_utf8).contains("invalid UTF-8"));
        // A truncated map.
        assert!(code_of(&good[..good.len() - 1]).contains("truncated"));
        // Deep nesting stops at the recursion limit.
        let deep = [vec![0x81; 64], vec![0x80]].concat();
        code_of(&deep);
    }

    #[test]
    fn refuses_wrong_rule_entries() {
        type Entries = Vec<(Value, Value)>;
        // `example()` with its first rule's map entries edited, re-encoded canonically otherwise.
        let with_rule = |edit: &dyn Fn(&mut Entries)| {
            let claims = example();
            let Value::Map(mut entries) = claims.to_value() else { unreachable!() };
            let rules = entries.iter_mut().find(|(k, _)| k.as_text() == Some("rules_evaluated")).unwrap();
            let Value::Array(items) = &mut rules.1 else { unreachable!() };
            let Value::Map(rule) = &mut items[0] else { unreachable!() };
            edit(rule);
            let mut out = Vec::new();
            write(&Value::Map(entries), &mut out);
            out
        };
        let set = |key: &'static str, value: Value| {
            move |rule: &mut Entries| {
                rule.iter_mut().find(|(k, _)| k.as_text() == Some(key)).unwrap().1 = value.clone();
            }
        };
        ReceiptClaims::from_cbor(&with_rule(&|_| {})).unwrap();
        for (key, value, says) in [
            ("rule", Value::Null, "rules_evaluated[0].rule must be a text string"),
            ("type", Value::Integer(1.into()), "rules_evaluated[0].type must be a text string"),
            ("result", Value::Null, "rules_evaluated[0].result must be a text string"),
            ("value", Value::Integer(1.into()), "rules_evaluated[0].value must be a text string or null"),
            ("limit", Value::Bytes(vec![1]), "rules_evaluated[0].limit must be a text string or null"),
            ("window", Value::Bool(false), "rules_evaluated[0].window must be a text string or null"),
            ("detail", Value::Array(vec![]), "rules_evaluated[0].detail must be a text string or null"),
            ("detail", Value::Text("d".repeat(257)), "rules_evaluated[0].detail must be at most 256 bytes, got 257"),
            ("rule", Value::Text("r".repeat(300)), "rules_evaluated[0].rule must be at most 256 bytes, got 300"),
        ] {
            let message = code_of(&with_rule(&set(key, value.clone())));
            assert!(message.contains(says), "{key} = {value:?}: {message}");
        }
        let message = code_of(&with_rule(&|rule| rule.push((Value::Text("zz".into()), Value::Null))));
        assert!(message.contains("rules_evaluated[0]: must have exactly the 7 keys, got 8"), "{message}");
        let message = code_of(&with_rule(&|rule| {
            rule.pop();
        }));
        assert!(message.contains("rules_evaluated[0]: must have exactly the 7 keys, got 6"), "{message}");
        let message = code_of(&with_rule(&|rule| rule[6].0 = Value::Text("windows".into())));
        assert!(message.contains("rules_evaluated[0]: unknown key \"windows\""), "{message}");
        let message = code_of(&with_rule(&|rule| rule[1] = rule[0].clone()));
        assert!(message.contains("rules_evaluated[0]: key \"rule\" appears twice"), "{message}");
        let message = code_of(&with_rule(&|rule| rule[0].0 = Value::Integer(0.into())));
        assert!(message.contains("rules_evaluated[0]: every key must be a text string"), "{message}");
        // `undefined` for a null field is read as null by ciborium, and refused by re-encoding.
        let good = example().to_cbor();
        let key = b"\x66window";
        let at = good.windows(key.len()).rposition(|w| w == key).unwrap() + key.len();
        assert_eq!(good[at], 0xf6, "the second rule's window is null");
        let undefined = [&good[..at], &[0xf7], &good[at + 1..]].concat();
        assert!(code_of(&undefined).contains("deterministic"));
        // At most 64 entries; exactly 64 decode (long_strings_use_longer_heads).
        let mut claims = example();
        claims.rules_evaluated = vec![claims.rules_evaluated[1].clone(); MAX_RULES_EVALUATED + 1];
        assert!(code_of(&claims.to_cbor()).contains("rules_evaluated has 65 entries, at most 64 allowed"));
        // 256 bytes of multi-byte UTF-8 text is at the limit; one more byte is over.
        let mut claims = example();
        claims.rules_evaluated[0].detail = Some("é".repeat(128));
        ReceiptClaims::from_cbor(&claims.to_cbor()).unwrap();
        claims.rules_evaluated[0].detail = Some(format!("{}x", "é".repeat(128)));
        assert!(code_of(&claims.to_cbor()).contains("at most 256 bytes, got 257"));
    }
}
