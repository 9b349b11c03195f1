//! What a receipt says: one decision of the enclave about one request. The
//! claims are a CBOR map with eighteen text keys, and a nineteenth,
//! `key_storage`, only in the receipts of answers that created a key, in RFC
//! 8949 §4.2.1 deterministic encoding (keys sorted by their encoded bytes,
//! definite lengths, shortest integers); absent values of the eighteen are
//! CBOR `null`, never a missing key, so the shape is fixed and a verifier in
//! any language can check it. `key_storage` is the one key that is left out
//! rather than `null` when it has no value, so that every receipt made before
//! it existed (and every receipt of an answer that creates no key) keeps its
//! bytes.
//!
//! The CBOR is `ciborium`'s (=0.2.2, as in crates/config and
//! crates/attestation). Encoding builds a [`Value::Map`] with the entries in
//! the order of their encoded keys, and `ciborium`'s encoder writes definite
//! lengths and shortest heads. Decoding is strict: `ciborium` reads one
//! [`Value`] that must span the whole input (through `coset`'s
//! `CborSerializable::from_slice`, the same decoder that reads the envelope,
//! so the browser build carries one copy of it); this module then checks the
//! shape (exactly the eighteen keys, plus `key_storage` or not, none twice,
//! each value of its type and size, `timestamp_us` at most
//! [`MAX_TIMESTAMP_US`]; `key_storage`, when present, one of
//! [`KEY_STORAGE_VALUES`], never `null`; each `rules_evaluated`
//! entry a map of exactly its seven keys, at most [`MAX_RULES_EVALUATED`]
//! entries of texts of at most [`MAX_RULE_TEXT_LEN`] bytes; `approvals` at most
//! [`MAX_APPROVALS`] ids of 1 to [`MAX_APPROVAL_ID_LEN`] bytes, sorted and
//! distinct; `oversight_state` one of [`OVERSIGHT_STATES`]; `oversight_scope`
//! `global`, `key:<id>` or `principal:<id>` of at most
//! [`MAX_OVERSIGHT_SCOPE_LEN`] bytes; `audit_seq` an integer like
//! `timestamp_us` or null; `audit_checkpoint` a text of at most
//! [`MAX_AUDIT_CHECKPOINT_LEN`] bytes or null), and finally compares the input with
//! `ciborium`'s re-encoding of what it read (which keeps map entries in the
//! order read) and checks that each map's keys are in canonical order (for the
//! keys of the right shape, that is the order of [`KEYS`], `key_storage` in
//! its place, and of [`RULE_KEYS`] in each rule entry), so any non-canonical spelling (long heads, indefinite lengths,
//! another key order, `undefined` for `null`, a bignum for an integer) is
//! refused without an encoding rule checked by hand. The typed claims map one
//! to one to that value, so this equals re-encoding the claims (the fuzz
//! target and the tests check it: whatever decodes, [`ReceiptClaims::to_cbor`]
//! gives back byte for byte). All refusals are `RECEIPT_MALFORMED`, naming the
//! key.

use ciborium::value::Value;
use coset::{CborSerializable, CoseError};

use crate::error::{malformed, Error};

/// Largest `timestamp_us` a receipt may carry: 2^53 − 1, so that every
/// JavaScript verifier reads it as an exact number (it is year 2255).
pub const MAX_TIMESTAMP_US: u64 = (1 << 53) - 1;

/// The keys: the eighteen every claims map has, in canonical order (sorted by
/// their encoded bytes: shorter first, then bytewise;
/// `keys_are_in_canonical_order` checks it against a sort of `ciborium`'s
/// encodings), then [`KEY_STORAGE`], which only the claims of an answer that
/// created a key have, and whose canonical place is right after `config_hash`
/// (the same test checks it). Last here so that `KEYS[..REQUIRED_KEYS]` is the
/// map without it: one list for both shapes (the browser verifier's size).
/// The encoder writes the map in canonical order.
pub(crate) const KEYS: [&str; 19] = [
    "op",
    "code",
    "key_id",
    "decision",
    "approvals",
    "audit_seq",
    "principal",
    "request_id",
    "config_hash",
    "policy_hash",
    "result_hash",
    "payload_hash",
    "timestamp_us",
    "oversight_scope",
    "oversight_state",
    "rules_evaluated",
    "attestation_hash",
    "audit_checkpoint",
    "key_storage",
];

/// How many of [`KEYS`] every claims map has: all but the last, [`KEY_STORAGE`].
pub(crate) const REQUIRED_KEYS: usize = 18;

/// The one key that is absent, not `null`, when it has no value.
pub(crate) const KEY_STORAGE: &str = "key_storage";

/// Where `key_storage` goes in the canonical order: right after `config_hash`.
const KEY_STORAGE_AT: usize = 9;

/// The values `key_storage` may take: how the key an answer created is kept
/// (`sentinel_seal::SealingKind::key_storage`): sealed under the AWS KMS
/// master key, sealed under the DEVELOPMENT master key (a file on the host),
/// or in enclave memory only (lost when the enclave restarts).
pub const KEY_STORAGE_VALUES: [&str; 3] = ["sealed:aws-kms", "sealed:development", "ephemeral"];

/// The keys of one `rules_evaluated` entry, in canonical order (the same rule
/// as [`KEYS`]; the same test checks it).
pub(crate) const RULE_KEYS: [&str; 7] = ["rule", "type", "limit", "value", "detail", "result", "window"];

/// Most entries `rules_evaluated` may hold (a policy has at most 64 rules).
pub const MAX_RULES_EVALUATED: usize = 64;

/// Longest text, in bytes, of any field of a `rules_evaluated` entry.
pub const MAX_RULE_TEXT_LEN: usize = 256;

/// Most entries `approvals` may hold (a configuration has at most 16 approvers).
pub const MAX_APPROVALS: usize = 16;

/// Longest approver id in `approvals`, in bytes (a configuration id's limit);
/// an id is at least one byte.
pub const MAX_APPROVAL_ID_LEN: usize = 64;

/// The values `oversight_state` may take: Green (normal), Yellow (held for
/// approval), Red (halted).
pub const OVERSIGHT_STATES: [&str; 3] = ["green", "yellow", "red"];

/// Longest `oversight_scope`, in bytes (`global`, `key:<id>`, `principal:<id>`).
pub const MAX_OVERSIGHT_SCOPE_LEN: usize = 128;

/// Longest `audit_checkpoint`, in bytes (a checkpoint note with one signature is about 200).
pub const MAX_AUDIT_CHECKPOINT_LEN: usize = 1024;

/// The prefixes of a scoped `oversight_scope`; what follows is a non-empty id.
const SCOPE_PREFIXES: [&str; 2] = ["key:", "principal:"];

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
    /// The kill-switch level in effect for this request: `green`, `yellow` or `red`.
    pub oversight_state: String,
    /// The scope that set it: `global`, `key:<id>` or `principal:<id>` (`global` when all green).
    pub oversight_scope: String,
    /// The approvers whose approvals released this request (sorted; empty unless it was held).
    pub approvals: Vec<String>,
    /// The sequence number of this answer's record in the enclave's audit log (at most
    /// [`MAX_TIMESTAMP_US`], the same JavaScript-safe bound); `None` only for receipts made
    /// without a log.
    pub audit_seq: Option<u64>,
    /// The latest checkpoint the log had signed when this receipt was made (a C2SP
    /// `tlog-checkpoint` signed note, text): with `audit_seq`, what lets a client later demand
    /// an inclusion proof and detect a log that lost the record.
    pub audit_checkpoint: Option<String>,
    /// How the key this answer created is kept, one of [`KEY_STORAGE_VALUES`] (the `storage` of
    /// a `key_generated` answer): `None` for answers that create no key, and then not encoded at
    /// all (no `key_storage` entry, not `null`), so those receipts are what they were before the
    /// claim existed.
    pub key_storage: Option<String>,
}

impl ReceiptClaims {
    /// Exact length of [`Self::to_cbor`].
    pub fn encoded_len(&self) -> usize {
        self.to_cbor().len()
    }

    /// The canonical CBOR encoding (appended to `out`).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        write(self.to_value(), out);
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
        // In KEYS order (the eighteen).
        let values = [
            text(&self.op),
            optional_text(&self.code),
            optional_text(&self.key_id),
            text(self.decision.as_str()),
            Value::Array(self.approvals.iter().map(|id| text(id)).collect()),
            self.audit_seq.map_or(Value::Null, |seq| Value::Integer(seq.into())),
            text(&self.principal),
            bytes(&self.request_id),
            bytes(&self.config_hash),
            self.policy_hash.as_ref().map_or(Value::Null, |h| bytes(h)),
            self.result_hash.as_ref().map_or(Value::Null, |h| bytes(h)),
            bytes(&self.payload_hash),
            Value::Integer(self.timestamp_us.into()),
            text(&self.oversight_scope),
            text(&self.oversight_state),
            Value::Array(self.rules_evaluated.iter().map(RuleEvaluated::to_value).collect()),
            bytes(&self.attestation_hash),
            optional_text(&self.audit_checkpoint),
        ];
        let mut entries: Vec<_> = KEYS.iter().zip(values).map(|(key, value)| (text(key), value)).collect();
        // Without a key storage, no entry at all (not `null`).
        if let Some(storage) = &self.key_storage {
            entries.insert(KEY_STORAGE_AT, (text(KEY_STORAGE), text(storage)));
        }
        Value::Map(entries)
    }

    /// Decodes canonical claims. Error: `RECEIPT_MALFORMED`, naming the key.
    pub fn from_cbor(cbor: &[u8]) -> Result<Self, Error> {
        let value = Value::from_slice(cbor).map_err(|e| malformed(format!("claims: {}", describe(&e))))?;
        // Whether these were the canonical bytes is decided now and reported after the shape:
        // `ciborium` writes what it read in shortest form with definite lengths and keeps every
        // map's entries in the order read, so the input was canonical if and only if that
        // re-encoding is the input and the keys are in canonical order. (The typed claims map one
        // to one to this value, so this is the same as re-encoding them, without building a
        // second value: the browser verifier's size has a budget.)
        let canonical = in_canonical_order(&value) && {
            let mut again = Vec::with_capacity(cbor.len());
            write(value.clone(), &mut again);
            again == cbor
        };
        let Value::Map(entries) = value else {
            return Err(malformed("claims: must be a CBOR map"));
        };
        // Nineteen entries: the eighteen and `key_storage`; otherwise exactly the eighteen (in a map
        // of eighteen, `key_storage` is an unknown key). By count, not by looking for the key: the
        // browser verifier's size.
        let keys = if entries.len() == KEYS.len() { &KEYS[..] } else { &KEYS[..REQUIRED_KEYS] };
        let mut slots = slots(entries, keys, "claims: ")?;
        let mut take = |key: &str| {
            let index = KEYS.iter().position(|k| *k == key).expect("one of KEYS");
            slots[index].take().expect("the eighteen keys present")
        };
        // The oversight claims first, by reference and in one call: refused before any other
        // claim is built, which keeps the early returns cheap (the browser verifier's size).
        let (oversight_state, oversight_scope, approvals) =
            (take("oversight_state"), take("oversight_scope"), take("approvals"));
        check_oversight(&oversight_state, &oversight_scope, &approvals).map_err(malformed)?;
        let mut field = |key: &'static str| Field { key, value: take(key) };
        let mut claims = Self {
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
            audit_seq: optional(field("audit_seq"), timestamp)?,
            audit_checkpoint: optional(field("audit_checkpoint"), checkpoint)?,
            rules_evaluated: rules(field("rules_evaluated"))?,
            attestation_hash: bytes(field("attestation_hash"))?,
            oversight_state: into_text(oversight_state),
            oversight_scope: into_text(oversight_scope),
            approvals: match approvals {
                Value::Array(items) => items.into_iter().map(into_text).collect(),
                _ => Vec::new(),
            },
            key_storage: None,
        };
        // `key_storage` last, out of the slots (read after the others, so none of their early
        // returns has it to drop: the browser verifier's size): the nineteenth slot when the map
        // has one; when it has not, the last slot is audit_checkpoint's, already taken.
        if let Some(Some(value)) = slots.pop() {
            claims.key_storage = Some(storage(value)?);
        }
        // The shape is right; now whether these were the canonical bytes.
        if !canonical {
            return Err(malformed(
                "claims: not in deterministic encoding (RFC 8949 §4.2.1: definite lengths, shortest integers \
                 and lengths, map keys sorted by their encoded bytes)",
            ));
        }
        Ok(claims)
    }
}

/// Whether the keys of the claims map, and of each `rules_evaluated` entry,
/// are in canonical order: each text key's encoding before the next one's
/// (shorter first, then bytewise, which for text keys is the order of their
/// encoded bytes). Meaningful once the shape is known to be right (exactly
/// the keys, each once): it is then the order of [`KEYS`], `key_storage` (when
/// there) in its place after `config_hash`, and of [`RULE_KEYS`], which the
/// tests check are sorted. No list of keys here, so the optional key costs
/// nothing (the browser verifier's size).
fn in_canonical_order(value: &Value) -> bool {
    let sorted = |entries: &[(Value, Value)]| {
        entries.windows(2).all(|pair| match (pair[0].0.as_text(), pair[1].0.as_text()) {
            (Some(a), Some(b)) => (a.len(), a) < (b.len(), b),
            _ => false,
        })
    };
    let Value::Map(entries) = value else { return true };
    sorted(entries)
        && entries.iter().all(|(key, rules)| match (key.as_text(), rules) {
            (Some("rules_evaluated"), Value::Array(rules)) => {
                rules.iter().all(|rule| !matches!(rule, Value::Map(e) if !sorted(e)))
            }
            _ => true,
        })
}

/// `ciborium`'s encoding of `value`, appended to `out`. Through `coset`'s
/// `CborSerializable::to_vec` (`ciborium::ser::into_writer` into a `Vec`):
/// the encoder `coset` already carries, so that the browser verifier holds
/// one copy of it instead of one per crate.
fn write(value: Value, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    out.extend_from_slice(&value.to_vec().expect("CBOR encoding into a Vec"));
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

/// `key_storage`, when present: one of [`KEY_STORAGE_VALUES`] (`null` is refused too: without a
/// value, the key is absent). Written out rather than through the array: smaller in the browser
/// verifier (a test checks the two agree).
fn storage(value: Value) -> Result<String, Error> {
    match value {
        Value::Text(text) if matches!(text.as_str(), "sealed:aws-kms" | "sealed:development" | "ephemeral") => Ok(text),
        _ => Err(malformed(KEY_STORAGE_MESSAGE)),
    }
}

fn checkpoint(Field { key, value }: Field) -> Result<String, Error> {
    match value {
        Value::Text(text) if text.len() <= MAX_AUDIT_CHECKPOINT_LEN => Ok(text),
        _ => Err(malformed(format!("claims: {key} must be a text string of at most {MAX_AUDIT_CHECKPOINT_LEN} bytes"))),
    }
}

/// Checks the oversight claims: `oversight_state` one of [`OVERSIGHT_STATES`];
/// `oversight_scope` `global`, or `key:` / `principal:` followed by a
/// non-empty id, at most [`MAX_OVERSIGHT_SCOPE_LEN`] bytes; `approvals` at most
/// [`MAX_APPROVALS`] texts of 1 to [`MAX_APPROVAL_ID_LEN`] bytes in strictly
/// ascending (bytewise) order, so one set of approvers has exactly one
/// encoding and nobody is named twice. Fixed messages: this is in the browser
/// verifier, whose size has a budget.
fn check_oversight(state: &Value, scope: &Value, approvals: &Value) -> Result<(), &'static str> {
    match state {
        Value::Text(state) if OVERSIGHT_STATES.contains(&state.as_str()) => {}
        _ => return Err(STATE_MESSAGE),
    }
    match scope {
        Value::Text(scope)
            if scope.len() <= MAX_OVERSIGHT_SCOPE_LEN
                && (scope == "global"
                    || SCOPE_PREFIXES.iter().any(|prefix| scope.len() > prefix.len() && scope.starts_with(prefix))) => {
        }
        _ => return Err(SCOPE_MESSAGE),
    }
    let items = match approvals {
        Value::Array(items) if items.len() <= MAX_APPROVALS => items,
        _ => return Err(APPROVALS_MESSAGE),
    };
    let mut previous: Option<&str> = None;
    for item in items {
        match item {
            Value::Text(id) if !id.is_empty() && id.len() <= MAX_APPROVAL_ID_LEN && previous < Some(id.as_str()) => {
                previous = Some(id)
            }
            _ => return Err(APPROVALS_MESSAGE),
        }
    }
    Ok(())
}

/// The text of a value [`check_oversight`] accepted.
fn into_text(value: Value) -> String {
    match value {
        Value::Text(text) => text,
        _ => String::new(),
    }
}

const STATE_MESSAGE: &str = "claims: oversight_state must be \"green\", \"yellow\" or \"red\"";
const SCOPE_MESSAGE: &str =
    "claims: oversight_scope must be \"global\", \"key:<id>\" or \"principal:<id>\", at most 128 bytes";
const KEY_STORAGE_MESSAGE: &str = "claims: key_storage must be \"sealed:aws-kms\", \"sealed:development\" or \
                                   \"ephemeral\" (absent, not null, when the answer created no key)";
const APPROVALS_MESSAGE: &str = "claims: approvals must be an array of at most 16 approver ids (texts of 1 to 64 \
                                 bytes) in ascending bytewise order, each once";

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
            oversight_state: "yellow".into(),
            oversight_scope: "key:k1".into(),
            approvals: vec!["alice".into(), "risk-desk".into()],
            audit_seq: Some(12),
            audit_checkpoint: Some("sentinel/log/0011223344556677\n12\nAAAA\n".into()),
            key_storage: None,
        }
    }

    /// The answer to a `generate_key`, whose receipt says how the new key is kept.
    fn generated(storage: &str) -> ReceiptClaims {
        ReceiptClaims {
            op: "generate_key".into(),
            rules_evaluated: vec![],
            approvals: vec![],
            oversight_state: "green".into(),
            oversight_scope: "global".into(),
            key_storage: Some(storage.into()),
            ..example()
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
                "approvals" => Value::Array(claims.approvals.iter().map(|a| text(a)).collect()),
                "oversight_state" => text(&claims.oversight_state),
                "oversight_scope" => text(&claims.oversight_scope),
                "audit_seq" => claims.audit_seq.map_or(Value::Null, |q| Value::Integer(q.into())),
                "audit_checkpoint" => opt_text(&claims.audit_checkpoint),
                "key_storage" => opt_text(&claims.key_storage),
                _ => unreachable!(),
            }
        };
        // `key_storage` is left out, not null, when there is none.
        let order = order.iter().filter(|k| **k != "key_storage" || claims.key_storage.is_some());
        let map = Value::Map(order.map(|k| (Value::Text((*k).into()), value(k))).collect());
        let mut out = Vec::new();
        ciborium::ser::into_writer(&map, &mut out).unwrap();
        out
    }

    fn encoded_key(k: &&str) -> Vec<u8> {
        let mut encoded = Vec::new();
        write(Value::Text((*k).into()), &mut encoded);
        encoded
    }

    /// All nineteen keys in canonical order: [`KEYS`] sorted by their encodings.
    fn canonical() -> Vec<&'static str> {
        let mut sorted = KEYS.to_vec();
        sorted.sort_by_key(encoded_key);
        sorted
    }

    #[test]
    fn keys_are_in_canonical_order() {
        // The eighteen are in canonical order, `key_storage` last; its canonical place is
        // KEY_STORAGE_AT, between config_hash and policy_hash.
        let required = &KEYS[..REQUIRED_KEYS];
        let mut sorted = required.to_vec();
        sorted.sort_by_key(encoded_key);
        assert_eq!(sorted, required);
        assert_eq!((KEYS.len(), KEYS[REQUIRED_KEYS]), (REQUIRED_KEYS + 1, KEY_STORAGE));
        let canonical = canonical();
        assert_eq!(canonical.iter().position(|k| *k == KEY_STORAGE), Some(KEY_STORAGE_AT));
        assert_eq!(canonical[KEY_STORAGE_AT - 1..][..3], ["config_hash", "key_storage", "policy_hash"]);
        assert_eq!(canonical.iter().filter(|k| **k != KEY_STORAGE).copied().collect::<Vec<_>>(), required);
        let mut sorted = RULE_KEYS;
        sorted.sort_by_key(encoded_key);
        assert_eq!(sorted, RULE_KEYS);
        // And the encoder puts them in that order, `key_storage` included when there is one.
        let Value::Map(entries) = generated("ephemeral").to_value() else { unreachable!() };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_text().unwrap()).collect();
        assert_eq!(keys, canonical);
        let rules = &entries.iter().find(|(k, _)| k.as_text() == Some("rules_evaluated")).unwrap().1;
        let Value::Array(rules) = rules else { unreachable!() };
        for rule in rules {
            let Value::Map(entries) = rule else { unreachable!() };
            let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_text().unwrap()).collect();
            assert_eq!(keys, RULE_KEYS);
        }
        // Without one, the eighteen in the same order.
        let Value::Map(entries) = example().to_value() else { unreachable!() };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_text().unwrap()).collect();
        assert_eq!(keys, required);
        // The map heads: 19 pairs (with key_storage) or 18, and 7 in a rule entry.
        assert_eq!(generated("ephemeral").to_cbor()[0], 0xb3);
        let cbor = example().to_cbor();
        assert_eq!(cbor[0], 0xb2);
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
        let storages = KEY_STORAGE_VALUES.map(generated);
        for claims in [example(), denied].into_iter().chain(storages) {
            let ours = claims.to_cbor();
            assert_eq!(ours.len(), claims.encoded_len());
            assert_eq!(ours, generic(&claims, &canonical()));
            assert_eq!(ReceiptClaims::from_cbor(&ours).unwrap(), claims);
        }
    }

    #[test]
    fn oversight_claims_round_trip_at_their_limits() {
        let mut claims = example();
        // Bytewise order: upper case before lower case, shorter prefix first.
        let mut ids: Vec<String> = (0..MAX_APPROVALS - 2).map(|i| format!("approver-{i:02}")).collect();
        ids.extend(["Z".to_owned(), "x".repeat(MAX_APPROVAL_ID_LEN)]);
        ids.sort();
        claims.approvals = ids;
        for state in OVERSIGHT_STATES {
            for scope in [
                "global".to_owned(),
                "key:k".to_owned(),
                "principal:dev-client".to_owned(),
                format!("principal:{}", "p".repeat(MAX_OVERSIGHT_SCOPE_LEN - 10)),
            ] {
                claims.oversight_state = state.into();
                claims.oversight_scope = scope;
                let bytes = claims.to_cbor();
                assert_eq!(bytes, generic(&claims, &canonical()));
                assert_eq!(ReceiptClaims::from_cbor(&bytes).unwrap(), claims);
            }
        }
        // The usual receipt: green, global, nobody approved.
        claims.oversight_state = "green".into();
        claims.oversight_scope = "global".into();
        claims.approvals = vec![];
        assert_eq!(ReceiptClaims::from_cbor(&claims.to_cbor()).unwrap(), claims);
        // An empty approvals array is the one-byte 0x80.
        let key = b"\x69approvals";
        let bytes = claims.to_cbor();
        let at = bytes.windows(key.len()).position(|w| w == key).unwrap() + key.len();
        assert_eq!(bytes[at], 0x80);
        // The encoder does not sort: claims built out of order do not decode.
        claims.approvals = vec!["bob".into(), "alice".into()];
        assert!(code_of(&claims.to_cbor()).contains("in ascending bytewise order, each once"));
        assert_eq!(OVERSIGHT_STATES, ["green", "yellow", "red"]);
        assert_eq!((MAX_APPROVALS, MAX_APPROVAL_ID_LEN, MAX_OVERSIGHT_SCOPE_LEN), (16, 64, 128));
    }

    #[test]
    fn whatever_decodes_re_encodes_to_its_input() {
        // Decoding decides canonical form from ciborium's re-encoding of the generic value and
        // the key order; the typed encoder must agree on every input that passes.
        let mut denied = example();
        denied.approvals = vec![];
        denied.rules_evaluated.truncate(1);
        for good in [example().to_cbor(), denied.to_cbor(), generated("sealed:development").to_cbor()] {
            let mut accepted = 0;
            for at in 0..good.len() {
                for value in
                    [0x00, 0x01, 0x18, 0x40, 0x60, 0x80, 0xa0, 0xf6, 0xf7, 0xff, good[at] ^ 0x01, good[at] ^ 0x20]
                {
                    let mut bytes = good.clone();
                    bytes[at] = value;
                    if let Ok(claims) = ReceiptClaims::from_cbor(&bytes) {
                        assert_eq!(claims.to_cbor(), bytes, "byte {at} = {value:#04x}");
                        accepted += 1;
                    }
                }
            }
            // Some changes keep the claims valid (a hash byte, a letter of a text).
            assert!(accepted > 0);
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
        assert_eq!(bytes, generic(&claims, &canonical()));
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
        write(Value::Map(entries), &mut bytes);
        assert!(code_of(&bytes).contains("deterministic"));
    }

    #[test]
    fn refuses_non_shortest_and_indefinite_forms() {
        let good = example().to_cbor();
        // Map head 0xb2 spelled with a one-byte argument.
        let long_head = [&[0xb8, 18][..], &good[1..]].concat();
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
        // One key more than the eighteen: only key_storage may be it.
        let mut extra = entries();
        extra.push((Value::Text("zz".into()), Value::Null));
        assert!(code_of(&map(extra.clone())).contains("unknown key \"zz\""));
        extra.push((Value::Text("zy".into()), Value::Null));
        assert!(code_of(&map(extra)).contains("must have exactly the 18 keys, got 20"));
        let mut missing = entries();
        missing.retain(|(k, _)| k.as_text() != Some("code"));
        assert!(code_of(&map(missing)).contains("must have exactly the 18 keys, got 17"));
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
            ("oversight_state", Value::Null, "oversight_state must be \"green\", \"yellow\" or \"red\""),
            ("oversight_state", Value::Text("GREEN".into()), "oversight_state must be"),
            ("oversight_state", Value::Text("amber".into()), "oversight_state must be"),
            ("oversight_state", Value::Text(String::new()), "oversight_state must be"),
            ("oversight_scope", Value::Null, "oversight_scope must be \"global\", \"key:<id>\" or \"principal:<id>\""),
            ("oversight_scope", Value::Text("Global".into()), "oversight_scope must be"),
            ("oversight_scope", Value::Text("key:".into()), "oversight_scope must be"),
            ("oversight_scope", Value::Text("principal:".into()), "oversight_scope must be"),
            ("oversight_scope", Value::Text("agent:x".into()), "oversight_scope must be"),
            ("oversight_scope", Value::Text(String::new()), "oversight_scope must be"),
            (
                "oversight_scope",
                Value::Text(format!("key:{}", "k".repeat(MAX_OVERSIGHT_SCOPE_LEN - 3))),
                "oversight_scope must be \"global\", \"key:<id>\" or \"principal:<id>\", at most 128 bytes",
            ),
            ("approvals", Value::Null, "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once"),
            ("approvals", Value::Text("alice".into()), "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once"),
            (
                "approvals",
                Value::Array((0..=MAX_APPROVALS).map(|i| Value::Text(format!("a{i:02}"))).collect()),
                "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once",
            ),
            ("approvals", Value::Array(vec![Value::Null]), "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once"),
            ("approvals", Value::Array(vec![Value::Bytes(b"a".to_vec())]), "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once"),
            ("approvals", Value::Array(vec![Value::Text(String::new())]), "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once"),
            (
                "approvals",
                Value::Array(vec![Value::Text("a".into()), Value::Text("b".repeat(65))]),
                "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once",
            ),
            (
                "approvals",
                Value::Array(vec![Value::Text("bob".into()), Value::Text("alice".into())]),
                "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once",
            ),
            (
                "approvals",
                Value::Array(vec![Value::Text("alice".into()), Value::Text("alice".into())]),
                "approvals must be an array of at most 16 approver ids (texts of 1 to 64 bytes) in ascending bytewise order, each once",
            ),
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
    fn key_storage_is_absent_or_one_of_its_values() {
        // Absent: the eighteen keys of every receipt made before the claim, byte for byte.
        let before = example().to_cbor();
        assert_eq!(before[0], 0xb2);
        assert!(!before.windows(KEY_STORAGE.len()).any(|w| w == KEY_STORAGE.as_bytes()));
        assert_eq!(ReceiptClaims::from_cbor(&before).unwrap().key_storage, None);
        // Present: each value round-trips, the entry between config_hash and policy_hash.
        for storage in KEY_STORAGE_VALUES {
            let claims = generated(storage);
            let bytes = claims.to_cbor();
            assert_eq!(bytes, generic(&claims, &canonical()));
            let entry =
                [&[0x6b][..], KEY_STORAGE.as_bytes(), &[0x60 + storage.len() as u8], storage.as_bytes()].concat();
            let at = bytes.windows(entry.len()).position(|w| w == entry).expect("the key_storage entry");
            assert_eq!(&bytes[at - 34..at - 33], &[0x58], "after config_hash's 32-byte string");
            assert_eq!(&bytes[at + entry.len()..][..12], b"\x6bpolicy_hash");
            assert_eq!(ReceiptClaims::from_cbor(&bytes).unwrap(), claims);
            // The same claims without the entry are other, valid claims (what a receipt signs is
            // its bytes: dropping the entry breaks the signature, tests/receipts.rs).
            let without = [&[0xb2][..], &bytes[1..at], &bytes[at + entry.len()..]].concat();
            assert_eq!(ReceiptClaims::from_cbor(&without).unwrap(), ReceiptClaims { key_storage: None, ..claims });
        }
        // The decoder's list (written out in `storage`) is KEY_STORAGE_VALUES.
        assert_eq!(KEY_STORAGE_VALUES, ["sealed:aws-kms", "sealed:development", "ephemeral"]);
        for storage_value in KEY_STORAGE_VALUES {
            assert_eq!(storage(Value::Text(storage_value.into())).unwrap(), storage_value);
        }
        // Present with a value outside the three, or `null` (absent is spelled absent), is refused.
        let with_storage = |value: Value| {
            let Value::Map(mut entries) = generated("ephemeral").to_value() else { unreachable!() };
            entries.iter_mut().find(|(k, _)| k.as_text() == Some(KEY_STORAGE)).unwrap().1 = value;
            let mut out = Vec::new();
            write(Value::Map(entries), &mut out);
            out
        };
        for value in [
            Value::Null,
            Value::Text(String::new()),
            Value::Text("sealed".into()),
            Value::Text("EPHEMERAL".into()),
            Value::Text("sealed:aws-kms ".into()),
            Value::Text("sealed:none".into()),
            Value::Bytes(b"ephemeral".to_vec()),
            Value::Integer(0.into()),
            Value::Bool(true),
            Value::Array(vec![Value::Text("ephemeral".into())]),
        ] {
            let message = code_of(&with_storage(value.clone()));
            assert!(
                message.contains(
                    "claims: key_storage must be \"sealed:aws-kms\", \"sealed:development\" or \"ephemeral\" \
                     (absent, not null, when the answer created no key)"
                ),
                "{value:?}: {message}"
            );
        }
        // The encoder does not check: claims built with another value do not decode.
        assert!(code_of(&generated("sealed:other").to_cbor()).contains("key_storage must be"));
        // Out of its place (another key order), refused as any other order.
        let claims = generated("sealed:aws-kms");
        let mut order = canonical();
        order.swap(KEY_STORAGE_AT, KEY_STORAGE_AT + 1); // after policy_hash
        assert!(code_of(&generic(&claims, &order)).contains("deterministic"));
        order.sort(); // plain lexicographic
        assert!(code_of(&generic(&claims, &order)).contains("deterministic"));
        // Twice, or with one of the eighteen missing instead of it.
        let Value::Map(entries) = claims.to_value() else { unreachable!() };
        let index = entries.iter().position(|(k, _)| k.as_text() == Some(KEY_STORAGE)).unwrap();
        let mut twice = entries.clone();
        twice[index - 1] = twice[index].clone();
        let mut bytes = Vec::new();
        write(Value::Map(twice), &mut bytes);
        assert!(code_of(&bytes).contains("key \"key_storage\" appears twice"));
        let mut no_code = entries.clone();
        no_code.retain(|(k, _)| k.as_text() != Some("code"));
        let mut bytes = Vec::new();
        write(Value::Map(no_code), &mut bytes);
        // Eighteen entries are read as the eighteen keys, among which key_storage is not.
        assert!(code_of(&bytes).contains("claims: unknown key \"key_storage\""));
        // A non-shortest head on its text.
        let bytes = claims.to_cbor();
        let at = bytes.windows(12).position(|w| w == b"\x6bkey_storage").unwrap() + 12;
        assert_eq!(bytes[at], 0x60 + 14);
        let long = [&bytes[..at], &[0x78, 14], &bytes[at + 1..]].concat();
        assert!(code_of(&long).contains("deterministic"));
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
            write(Value::Map(entries), &mut out);
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
