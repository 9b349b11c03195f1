//! One entry of the audit log: an [`AuditRecord`] in canonical CBOR, the same
//! style as receipts (crates/evidence/src/claims.rs): a map with exactly its
//! nine text keys, in RFC 8949 §4.2.1 deterministic encoding (keys sorted by
//! their encoded bytes, definite lengths, shortest integers); absent values are
//! CBOR `null`, never a missing key. The decision, when present, is a map of
//! exactly `code`, `rules`, `outcome`; each rule result a map of exactly
//! [`RULE_KEYS`] (a receipt's `rules_evaluated` entry without `detail`). The
//! `effects` (always present, `[]` when none) are the state changes the
//! record's action caused, each a map of exactly [`EFFECT_KEYS`]: what a
//! restarted enclave replays to rebuild its counters and kill switch. This
//! crate checks only their shape and limits; what an `op` means is the
//! enclave's (docs/audit.md lists the ops it writes). The
//! CBOR is `ciborium`'s (=0.2.2), read and written through `coset`'s
//! `CborSerializable` for `Value` (=0.4.2), the functions that also read and
//! write receipts, so the browser verifier carries one copy of the decoder
//! (about 13 KB less than a second instantiation of `ciborium`'s own).
//! [`AuditRecord::decode`] reads one value that
//! must span the input (at most [`MAX_RECORD_LEN`] bytes), checks the shape
//! and limits, then re-encodes the typed record and requires the same bytes, so
//! any other spelling (long heads, indefinite lengths, other key order, an
//! unknown or missing key) is refused. The encoding is the Merkle leaf data;
//! [`record_hash`] (plain SHA-256 of it) is what the next record's `prev_hash`
//! holds.

use ciborium::value::Value;
use coset::{CborSerializable, CoseError};
use sha2::{Digest, Sha256};

use crate::error::{err, Error, ErrorCode};
use crate::merkle::Hash;

/// Most bytes a record's encoding may have.
pub const MAX_RECORD_LEN: usize = 32 * 1024;
/// Most rule results a decision may list.
pub const MAX_RULES: usize = 64;
/// Longest text (principal, code, rule and effect fields), in bytes.
pub const MAX_TEXT_LEN: usize = 256;
/// Most effects a record may list (a decision's notional and rate changes
/// for every rule, plus kill-switch levels, fit well under it).
pub const MAX_EFFECTS: usize = 72;

/// The record's keys in canonical order (shorter first, then bytewise).
pub const KEYS: [&str; 9] =
    ["seq", "kind", "effects", "time_us", "decision", "prev_hash", "principal", "result_digest", "request_digest"];
/// The decision map's keys in canonical order.
pub const DECISION_KEYS: [&str; 3] = ["code", "rules", "outcome"];
/// A rule result's keys in canonical order.
pub const RULE_KEYS: [&str; 6] = ["rule", "type", "limit", "value", "result", "window"];
/// An effect's keys in canonical order.
pub const EFFECT_KEYS: [&str; 4] = ["op", "value", "target", "subject"];

macro_rules! names {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];
            /// The stable name, as encoded.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
            /// The value named `text`.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

names! {
    /// What the record is about.
    RecordKind {
        Decision = "decision",
        Approval = "approval",
        Config = "config",
        Policy = "policy",
        KeyCreated = "key_created",
        KeyImported = "key_imported",
        Halt = "halt",
        Resume = "resume",
        HeartbeatTrip = "heartbeat_trip",
        LogResumed = "log_resumed",
        // Attested forwarding of the sealing master key: sent to / received from a verified peer.
        KeyForwarded = "key_forwarded",
        KeyReceived = "key_received",
        // A key deleted by an order of the admin quorum (an owner's deletion is a decision record).
        KeyDeleted = "key_deleted",
    }
}

names! {
    /// What became of the request.
    Outcome {
        Allowed = "allowed",
        Denied = "denied",
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// One policy rule's result (a receipt's `RuleEvaluated` without `detail`).
/// Serialized as the JS view shows it ([`crate::view`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct RuleResult {
    pub rule: String,
    /// Encoded as `type`.
    #[serde(rename = "type")]
    pub rule_type: String,
    pub result: String,
    pub value: Option<String>,
    pub limit: Option<String>,
    pub window: Option<String>,
}

/// The decision of a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    pub outcome: Outcome,
    /// The refusal code, if any.
    pub code: Option<String>,
    /// The rules evaluated, in policy order (at most [`MAX_RULES`]).
    pub rules: Vec<RuleResult>,
}

/// One state change a record's action caused, as the enclave names it (an
/// opaque `op` here: the enclave writes and replays them, docs/audit.md).
/// Serialized as the JS view shows it ([`crate::view`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Effect {
    /// What changed, e.g. `notional`, `rate_take`, `level`: non-empty.
    pub op: String,
    /// What it changed: a rule id, a kill-switch scope.
    pub target: String,
    /// Whose state, when the target keeps one per subject.
    pub subject: Option<String>,
    /// The amount or new value, when the op has one.
    pub value: Option<String>,
}

/// One audit log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditRecord {
    /// Position in the log, from 0.
    pub seq: u64,
    /// Enclave time, µs since the Unix epoch (passed in; never read here).
    pub time_us: u64,
    pub kind: RecordKind,
    /// The state changes the action caused, in the order they were made (at
    /// most [`MAX_EFFECTS`]); empty when none.
    pub effects: Vec<Effect>,
    pub principal: Option<String>,
    /// SHA-256 of the request body.
    pub request_digest: Option<[u8; 32]>,
    pub decision: Option<Decision>,
    /// SHA-256 of the result (e.g. the signature).
    pub result_digest: Option<[u8; 32]>,
    /// [`record_hash`] of the previous record's encoding; zeros for `seq` 0.
    pub prev_hash: Hash,
}

/// SHA-256 of a record's encoding: what the next record's `prev_hash` holds.
pub fn record_hash(encoding: &[u8]) -> Hash {
    Sha256::digest(encoding).into()
}

fn text(t: &str) -> Value {
    Value::Text(t.to_owned())
}

fn opt_text(t: &Option<String>) -> Value {
    t.as_deref().map_or(Value::Null, text)
}

fn opt_bytes(b: &Option<[u8; 32]>) -> Value {
    b.map_or(Value::Null, |b| Value::Bytes(b.to_vec()))
}

fn map(keys: &[&str], values: Vec<Value>) -> Value {
    Value::Map(keys.iter().zip(values).map(|(k, v)| (text(k), v)).collect())
}

fn invalid(why: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::RecordInvalid, format!("audit record: {why}"))
}

fn malformed(why: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::RecordMalformed, format!("audit record: {why}"))
}

impl AuditRecord {
    /// Checks the limits every encodable record meets. Error: `AUDIT_RECORD_INVALID`.
    pub fn validate(&self) -> Result<(), Error> {
        let long = |t: &Option<String>| t.as_ref().is_some_and(|t| t.len() > MAX_TEXT_LEN);
        if long(&self.principal) {
            return Err(invalid(format!("principal over {MAX_TEXT_LEN} bytes")));
        }
        if let Some(d) = &self.decision {
            if long(&d.code) {
                return Err(invalid(format!("decision code over {MAX_TEXT_LEN} bytes")));
            }
            if d.rules.len() > MAX_RULES {
                return Err(invalid(format!("over {MAX_RULES} rule results")));
            }
            for r in &d.rules {
                let texts = [
                    Some(&r.rule),
                    Some(&r.rule_type),
                    Some(&r.result),
                    r.value.as_ref(),
                    r.limit.as_ref(),
                    r.window.as_ref(),
                ];
                if texts.iter().flatten().any(|t| t.len() > MAX_TEXT_LEN) {
                    return Err(invalid(format!("a rule result text over {MAX_TEXT_LEN} bytes")));
                }
            }
        }
        if self.effects.len() > MAX_EFFECTS {
            return Err(invalid(format!("over {MAX_EFFECTS} effects")));
        }
        for e in &self.effects {
            let texts = [Some(&e.op), Some(&e.target), e.subject.as_ref(), e.value.as_ref()];
            if e.op.is_empty() || texts.iter().flatten().any(|t| t.len() > MAX_TEXT_LEN) {
                return Err(invalid(format!("an effect with an empty op or a text over {MAX_TEXT_LEN} bytes")));
            }
        }
        Ok(())
    }

    fn to_value(&self) -> Value {
        let decision = self.decision.as_ref().map_or(Value::Null, |d| {
            let rules = d
                .rules
                .iter()
                .map(|r| {
                    map(
                        &RULE_KEYS,
                        vec![
                            text(&r.rule),
                            text(&r.rule_type),
                            opt_text(&r.limit),
                            opt_text(&r.value),
                            text(&r.result),
                            opt_text(&r.window),
                        ],
                    )
                })
                .collect();
            map(&DECISION_KEYS, vec![opt_text(&d.code), Value::Array(rules), text(d.outcome.as_str())])
        });
        let effects = self
            .effects
            .iter()
            .map(|e| map(&EFFECT_KEYS, vec![text(&e.op), opt_text(&e.value), text(&e.target), opt_text(&e.subject)]))
            .collect();
        map(
            &KEYS,
            vec![
                Value::Integer(self.seq.into()),
                text(self.kind.as_str()),
                Value::Array(effects),
                Value::Integer(self.time_us.into()),
                decision,
                Value::Bytes(self.prev_hash.to_vec()),
                opt_text(&self.principal),
                opt_bytes(&self.result_digest),
                opt_bytes(&self.request_digest),
            ],
        )
    }

    /// The canonical encoding. Errors: `AUDIT_RECORD_INVALID` (limits),
    /// `AUDIT_RECORD_TOO_LARGE`.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        self.validate()?;
        let out = self.to_value().to_vec().expect("CBOR encoding of a Value into a Vec");
        if out.len() > MAX_RECORD_LEN {
            return err(ErrorCode::RecordTooLarge, format!("audit record: encoding over {MAX_RECORD_LEN} bytes"));
        }
        Ok(out)
    }

    /// Decodes a canonical encoding. Errors: `AUDIT_RECORD_TOO_LARGE`,
    /// `AUDIT_RECORD_MALFORMED` (not CBOR, trailing bytes, wrong shape or an
    /// unknown key), `AUDIT_RECORD_INVALID` (limits), `AUDIT_RECORD_NOT_CANONICAL`.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_RECORD_LEN {
            return err(ErrorCode::RecordTooLarge, format!("audit record: over {MAX_RECORD_LEN} bytes"));
        }
        let value = Value::from_slice(bytes).map_err(|e| match e {
            CoseError::ExtraneousData => malformed("bytes after the CBOR map"),
            _ => malformed("not well-formed CBOR"),
        })?;
        let mut f = fields(value, &KEYS, "record")?;
        let record = Self {
            seq: uint(f.take("seq"), "seq")?,
            kind: RecordKind::parse(&as_text(f.take("kind"), "kind")?).ok_or_else(|| malformed("unknown kind"))?,
            effects: effects(f.take("effects"))?,
            time_us: uint(f.take("time_us"), "time_us")?,
            decision: optional(f.take("decision"), decision)?,
            prev_hash: hash(f.take("prev_hash"), "prev_hash")?,
            principal: text_or_null(f.take("principal"), "principal")?,
            result_digest: optional(f.take("result_digest"), |v| hash(v, "result_digest"))?,
            request_digest: optional(f.take("request_digest"), |v| hash(v, "request_digest"))?,
        };
        let again = record.encode()?;
        if again != bytes {
            return err(
                ErrorCode::RecordNotCanonical,
                "audit record: not in deterministic encoding (RFC 8949 §4.2.1: definite lengths, shortest heads, \
                 keys sorted by their encoded bytes)",
            );
        }
        Ok(record)
    }
}

/// The values of a map that must have exactly `keys` (any order here; the
/// canonical re-encoding checks the order), each once.
struct Fields {
    keys: &'static [&'static str],
    values: Vec<Option<Value>>,
}

impl Fields {
    fn take(&mut self, key: &str) -> Value {
        let i = self.keys.iter().position(|k| *k == key).expect("a known key");
        self.values[i].take().expect("every key present once")
    }
}

fn fields(value: Value, keys: &'static [&'static str], what: &str) -> Result<Fields, Error> {
    let Value::Map(entries) = value else { return Err(malformed(format!("{what} must be a map"))) };
    let mut values: Vec<Option<Value>> = vec![None; keys.len()];
    for (k, v) in entries {
        let i = k
            .as_text()
            .and_then(|k| keys.iter().position(|known| *known == k))
            .ok_or_else(|| malformed(format!("{what} has an unknown key")))?;
        if values[i].replace(v).is_some() {
            return Err(malformed(format!("{what} has key {} twice", keys[i])));
        }
    }
    if let Some(i) = values.iter().position(Option::is_none) {
        return Err(malformed(format!("{what} lacks key {}", keys[i])));
    }
    Ok(Fields { keys, values })
}

fn optional<T>(v: Value, read: impl FnOnce(Value) -> Result<T, Error>) -> Result<Option<T>, Error> {
    if v.is_null() {
        Ok(None)
    } else {
        read(v).map(Some)
    }
}

/// A text or `null` (one function for every such field rather than a closure
/// each: the browser verifier carries every byte).
fn text_or_null(v: Value, key: &str) -> Result<Option<String>, Error> {
    if v.is_null() {
        Ok(None)
    } else {
        as_text(v, key).map(Some)
    }
}

fn uint(v: Value, key: &str) -> Result<u64, Error> {
    match v {
        Value::Integer(i) => {
            u64::try_from(i).map_err(|_| malformed(format!("{key} must be an unsigned 64-bit integer")))
        }
        _ => Err(malformed(format!("{key} must be an unsigned integer"))),
    }
}

fn as_text(v: Value, key: &str) -> Result<String, Error> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(malformed(format!("{key} must be a text string"))),
    }
}

fn hash(v: Value, key: &str) -> Result<[u8; 32], Error> {
    match v {
        Value::Bytes(b) => b.try_into().map_err(|_| malformed(format!("{key} must be 32 bytes"))),
        _ => Err(malformed(format!("{key} must be a byte string"))),
    }
}

fn decision(v: Value) -> Result<Decision, Error> {
    let mut f = fields(v, &DECISION_KEYS, "decision")?;
    let code = text_or_null(f.take("code"), "decision code")?;
    let outcome =
        Outcome::parse(&as_text(f.take("outcome"), "outcome")?).ok_or_else(|| malformed("unknown outcome"))?;
    let Value::Array(items) = f.take("rules") else { return Err(malformed("rules must be an array")) };
    if items.len() > MAX_RULES {
        return Err(invalid(format!("over {MAX_RULES} rule results")));
    }
    let rules = items
        .into_iter()
        .map(|item| {
            let mut r = fields(item, &RULE_KEYS, "rule result")?;
            Ok(RuleResult {
                rule: as_text(r.take("rule"), "rule")?,
                rule_type: as_text(r.take("type"), "type")?,
                result: as_text(r.take("result"), "result")?,
                value: text_or_null(r.take("value"), "value")?,
                limit: text_or_null(r.take("limit"), "limit")?,
                window: text_or_null(r.take("window"), "window")?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Decision { outcome, code, rules })
}

fn effects(v: Value) -> Result<Vec<Effect>, Error> {
    // Their number is checked by the re-encoding (`validate`), as the texts' lengths are.
    let Value::Array(items) = v else { return Err(malformed("effects must be an array")) };
    items
        .into_iter()
        .map(|item| {
            let mut e = fields(item, &EFFECT_KEYS, "effect")?;
            Ok(Effect {
                op: as_text(e.take("op"), "effect op")?,
                target: as_text(e.take("target"), "effect target")?,
                subject: text_or_null(e.take("subject"), "effect subject")?,
                value: text_or_null(e.take("value"), "effect value")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> AuditRecord {
        AuditRecord {
            seq: 7,
            time_us: 1_700_000_000_000_000,
            kind: RecordKind::Decision,
            effects: vec![
                Effect {
                    op: "notional".into(),
                    target: "r1".into(),
                    subject: Some("key:k1".into()),
                    value: Some("5".into()),
                },
                Effect { op: "level".into(), target: "global".into(), subject: None, value: Some("red".into()) },
            ],
            principal: Some("alice".into()),
            request_digest: Some([1; 32]),
            decision: Some(Decision {
                outcome: Outcome::Denied,
                code: Some("POLICY_DENIED".into()),
                rules: vec![RuleResult {
                    rule: "r1".into(),
                    rule_type: "notional_limit".into(),
                    result: "deny".into(),
                    value: Some("5".into()),
                    limit: Some("4".into()),
                    window: Some("1h".into()),
                }],
            }),
            result_digest: None,
            prev_hash: [2; 32],
        }
    }

    fn encoded_len(t: &str) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(&text(t), &mut out).unwrap();
        out
    }

    #[test]
    fn keys_are_in_canonical_order() {
        for keys in [&KEYS[..], &DECISION_KEYS[..], &RULE_KEYS[..], &EFFECT_KEYS[..]] {
            let mut sorted = keys.to_vec();
            sorted.sort_by_key(|k| encoded_len(k));
            assert_eq!(sorted, keys);
        }
    }

    #[test]
    fn round_trip_and_names() {
        let r = sample();
        let bytes = r.encode().unwrap();
        assert_eq!(AuditRecord::decode(&bytes).unwrap(), r);
        let bare = AuditRecord {
            kind: RecordKind::Halt,
            effects: vec![],
            principal: None,
            request_digest: None,
            decision: None,
            ..r
        };
        assert_eq!(AuditRecord::decode(&bare.encode().unwrap()).unwrap(), bare);
        let resumed = AuditRecord { kind: RecordKind::LogResumed, ..bare };
        let bytes = resumed.encode().unwrap();
        assert_eq!(AuditRecord::decode(&bytes).unwrap(), resumed);
        // `effects` is always encoded: `[]` when there are none (0x80, right after the kind).
        let kind = text("log_resumed").to_vec().unwrap();
        let after = bytes.windows(kind.len()).position(|w| w == kind).unwrap() + kind.len();
        assert_eq!(&bytes[after..after + 9], &[&text("effects").to_vec().unwrap()[..], &[0x80]].concat()[..]);
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::parse(k.as_str()), Some(*k));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
        }
    }

    #[test]
    fn refuses_non_canonical_unknown_and_oversize() {
        let bytes = sample().encode().unwrap();
        let value: Value = ciborium::de::from_reader(bytes.as_slice()).unwrap();
        let Value::Map(entries) = value else { unreachable!() };
        let write = |entries: &[(Value, Value)]| {
            let mut out = Vec::new();
            ciborium::ser::into_writer(&Value::Map(entries.to_vec()), &mut out).unwrap();
            out
        };
        assert_eq!(write(&entries), bytes);
        // Long head for the map.
        let long_head = [&[0xb8, 0x09][..], &bytes[1..]].concat();
        assert_eq!(AuditRecord::decode(&long_head).unwrap_err().code(), "AUDIT_RECORD_NOT_CANONICAL");
        // Indefinite-length map.
        let indefinite = [&[0xbf][..], &bytes[1..], &[0xff]].concat();
        assert_eq!(AuditRecord::decode(&indefinite).unwrap_err().code(), "AUDIT_RECORD_NOT_CANONICAL");
        // Keys in another order.
        let mut swapped = entries.clone();
        swapped.swap(0, 1);
        assert_eq!(AuditRecord::decode(&write(&swapped)).unwrap_err().code(), "AUDIT_RECORD_NOT_CANONICAL");
        // An unknown key, a missing key, a key twice.
        let mut extra = entries.clone();
        extra.push((text("extra"), Value::Null));
        assert_eq!(AuditRecord::decode(&write(&extra)).unwrap_err().code(), "AUDIT_RECORD_MALFORMED");
        assert_eq!(AuditRecord::decode(&write(&entries[1..])).unwrap_err().code(), "AUDIT_RECORD_MALFORMED");
        let mut twice = entries.clone();
        twice.push(entries[0].clone());
        assert_eq!(AuditRecord::decode(&write(&twice)).unwrap_err().code(), "AUDIT_RECORD_MALFORMED");
        // Trailing bytes, truncation, oversize.
        let trailing = [&bytes[..], &[0x00]].concat();
        assert_eq!(AuditRecord::decode(&trailing).unwrap_err().code(), "AUDIT_RECORD_MALFORMED");
        assert_eq!(AuditRecord::decode(&bytes[..bytes.len() - 1]).unwrap_err().code(), "AUDIT_RECORD_MALFORMED");
        assert_eq!(AuditRecord::decode(&vec![0; MAX_RECORD_LEN + 1]).unwrap_err().code(), "AUDIT_RECORD_TOO_LARGE");
        // Limits.
        let long = AuditRecord { principal: Some("p".repeat(MAX_TEXT_LEN + 1)), ..sample() };
        assert_eq!(long.encode().unwrap_err().code(), "AUDIT_RECORD_INVALID");
    }

    /// The record with its `effects` value replaced by `effects`, written as is (no validation).
    fn with_raw_effects(effects: Value) -> Vec<u8> {
        let Value::Map(mut entries) = sample().to_value() else { unreachable!() };
        entries[2] = (text("effects"), effects);
        Value::Map(entries).to_vec().unwrap()
    }

    fn raw_effect(op: &str) -> Value {
        map(&EFFECT_KEYS, vec![text(op), Value::Null, text("t"), Value::Null])
    }

    #[test]
    fn effects_shape_and_limits() {
        // At most MAX_EFFECTS, each text at most MAX_TEXT_LEN, a non-empty op; any op text is fine here.
        let effect = Effect { op: "x".into(), target: String::new(), subject: None, value: None };
        let full = AuditRecord { effects: vec![effect.clone(); MAX_EFFECTS], ..sample() };
        assert_eq!(AuditRecord::decode(&full.encode().unwrap()).unwrap(), full);
        let over = AuditRecord { effects: vec![effect.clone(); MAX_EFFECTS + 1], ..sample() };
        assert_eq!(over.encode().unwrap_err().code(), "AUDIT_RECORD_INVALID");
        assert_eq!(
            AuditRecord::decode(&with_raw_effects(Value::Array(vec![raw_effect("x"); MAX_EFFECTS + 1])))
                .unwrap_err()
                .code(),
            "AUDIT_RECORD_INVALID"
        );
        for bad in [
            Effect { op: String::new(), ..effect.clone() },
            Effect { op: "o".repeat(MAX_TEXT_LEN + 1), ..effect.clone() },
            Effect { target: "t".repeat(MAX_TEXT_LEN + 1), ..effect.clone() },
            Effect { subject: Some("s".repeat(MAX_TEXT_LEN + 1)), ..effect.clone() },
            Effect { value: Some("1".repeat(MAX_TEXT_LEN + 1)), ..effect.clone() },
        ] {
            let r = AuditRecord { effects: vec![bad], ..sample() };
            assert_eq!(r.encode().unwrap_err().code(), "AUDIT_RECORD_INVALID");
        }
        assert_eq!(
            AuditRecord::decode(&with_raw_effects(Value::Array(vec![raw_effect("")]))).unwrap_err().code(),
            "AUDIT_RECORD_INVALID"
        );
        // Shape: an array of maps of exactly the four keys, texts or null where allowed.
        let Value::Map(mut entries) = raw_effect("x") else { unreachable!() };
        let bad_shapes = [
            Value::Null,
            Value::Map(vec![]),
            Value::Array(vec![Value::Null]),
            Value::Array(vec![Value::Map(entries[..3].to_vec())]),
            Value::Array(vec![map(&EFFECT_KEYS, vec![Value::Null, Value::Null, text("t"), Value::Null])]),
            Value::Array(vec![map(&EFFECT_KEYS, vec![text("x"), Value::Null, Value::Null, Value::Null])]),
            Value::Array(vec![map(&EFFECT_KEYS, vec![text("x"), Value::Integer(5.into()), text("t"), Value::Null])]),
            Value::Array(vec![map(&EFFECT_KEYS, vec![text("x"), Value::Null, text("t"), Value::Bytes(vec![])])]),
        ];
        for bad in bad_shapes {
            assert_eq!(AuditRecord::decode(&with_raw_effects(bad)).unwrap_err().code(), "AUDIT_RECORD_MALFORMED");
        }
        entries.push((text("extra"), Value::Null));
        let extra = with_raw_effects(Value::Array(vec![Value::Map(entries.clone())]));
        assert_eq!(AuditRecord::decode(&extra).unwrap_err().code(), "AUDIT_RECORD_MALFORMED");
        // The effect's keys in another order.
        entries.pop();
        entries.swap(0, 3);
        let swapped = with_raw_effects(Value::Array(vec![Value::Map(entries)]));
        assert_eq!(AuditRecord::decode(&swapped).unwrap_err().code(), "AUDIT_RECORD_NOT_CANONICAL");
    }
}
