//! The oversight command: what an overseer or approver signs. Canonical CBOR
//! (RFC 8949 §4.2.1), a map with exactly these nine text keys, absent values
//! `null` (a fixed shape, like receipts):
//!
//! | key | type | used by |
//! |---|---|---|
//! | `action` | text: `halt`, `resume`, `heartbeat`, `approve`, `reject`, `status`, `list_approvals` | all |
//! | `scope` | text `global` / `key:ID` / `principal:ID`, or null | halt, resume (required) |
//! | `level` | text, or null | halt: `yellow` or `red`; resume: `green` or `yellow` (required) |
//! | `reason` | text of 1..=256 bytes, or null | halt (optional) |
//! | `challenge` | 32 bytes, or null | resume (required: the enclave's current challenge) |
//! | `request_id` | 16 bytes, or null | approve, reject (required) |
//! | `request_digest` | 32 bytes, or null | approve, reject (required: SHA-256 of the held request's body) |
//! | `timestamp_us` | unsigned integer | all (within the configuration's stamp window) |
//! | `nonce` | 16..=32 bytes | all (makes every command's digest unique) |
//!
//! A field an action does not take must be null. Signers sign
//! [`Command::digest`] = SHA-256([`OVERSIGHT_DOMAIN`] ‖ canonical CBOR), with
//! the configuration's signature algorithms (`sentinel_config::PublicKey`).
//!
//! The JSON editing form (CLI, SDK, files signed offline) has the same keys,
//! byte strings as `0x` hex, and may omit null fields.
//!
//! The CBOR is `ciborium`'s (=0.2.2, as in crates/config and crates/evidence).
//! Encoding builds a map with the entries in canonical key order ([`KEYS`]);
//! decoding reads one CBOR item spanning the whole input, checks the shape
//! (exactly the nine keys, each value of its type and size), re-encodes and
//! compares bytes, so any non-canonical spelling (long heads, indefinite
//! lengths, another key order) is refused without checking encoding rules by
//! hand. Every refusal is `OVERSIGHT_MALFORMED`, naming the field (`command.level: ...`).

use ciborium::value::Value;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{OversightError, OversightErrorCode};
use crate::scope::{shown, Level, Scope};

/// Domain separation tag of the command digest.
pub const OVERSIGHT_DOMAIN: &[u8] = b"sentinel/oversight/v1";
/// Longest `reason`, in bytes.
pub const MAX_REASON_BYTES: usize = 256;
/// Largest encoded command [`Command::from_cbor`] reads.
pub const MAX_COMMAND_BYTES: usize = 1024;

/// Largest JSON editing form [`Command::from_json`] reads.
pub const MAX_COMMAND_JSON_BYTES: usize = 4096;
/// Shortest `nonce`, in bytes.
pub const MIN_NONCE_BYTES: usize = 16;
/// Longest `nonce`, in bytes.
pub const MAX_NONCE_BYTES: usize = 32;

/// The keys, in canonical order: sorted by their encoded bytes (shorter
/// first, then bytewise). A test checks it against a sort of `ciborium`'s encodings.
pub const KEYS: [&str; 9] =
    ["level", "nonce", "scope", "action", "reason", "challenge", "request_id", "timestamp_us", "request_digest"];

/// What the command asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Set a scope to Yellow or Red (one overseer). Never loosens a scope.
    Halt,
    /// Set a scope to Green or Yellow (the resume quorum, over the current challenge).
    Resume,
    /// The operator is alive (one overseer); postpones the heartbeat deadline.
    Heartbeat,
    /// Approve a held request (approvers; approvals accumulate).
    Approve,
    /// Reject a held request (one approver).
    Reject,
    /// Read the kill-switch state (one overseer).
    Status,
    /// Read the held requests (one overseer or approver).
    ListApprovals,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Halt,
        Action::Resume,
        Action::Heartbeat,
        Action::Approve,
        Action::Reject,
        Action::Status,
        Action::ListApprovals,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Halt => "halt",
            Action::Resume => "resume",
            Action::Heartbeat => "heartbeat",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Status => "status",
            Action::ListApprovals => "list_approvals",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// One oversight command (see the module doc for the encoding and rules).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub action: Action,
    pub scope: Option<Scope>,
    pub level: Option<Level>,
    pub reason: Option<String>,
    pub challenge: Option<[u8; 32]>,
    pub request_id: Option<[u8; 16]>,
    pub request_digest: Option<[u8; 32]>,
    pub timestamp_us: u64,
    pub nonce: Vec<u8>,
}

impl Command {
    /// A command of `action` with only its timestamp and nonce: set the fields the action takes.
    pub fn new(action: Action, timestamp_us: u64, nonce: Vec<u8>) -> Command {
        Command {
            action,
            scope: None,
            level: None,
            reason: None,
            challenge: None,
            request_id: None,
            request_digest: None,
            timestamp_us,
            nonce,
        }
    }

    /// Checks the per-action rules (required and forbidden fields, levels, sizes).
    pub fn validate(&self) -> Result<(), OversightError> {
        use Need::{Forbidden as F, Optional as O, Required as R};
        let action = self.action;
        // What the action does with scope, level, reason, challenge, and the request (id and digest).
        let (scope, level, reason, challenge, request) = match action {
            Action::Halt => (R, R, O, F, F),
            Action::Resume => (R, R, F, R, F),
            Action::Heartbeat | Action::Status | Action::ListApprovals => (F, F, F, F, F),
            Action::Approve | Action::Reject => (F, F, F, F, R),
        };
        presence(action, "scope", self.scope.is_some(), scope)?;
        presence(action, "level", self.level.is_some(), level)?;
        presence(action, "reason", self.reason.is_some(), reason)?;
        presence(action, "challenge", self.challenge.is_some(), challenge)?;
        presence(action, "request_id", self.request_id.is_some(), request)?;
        presence(action, "request_digest", self.request_digest.is_some(), request)?;
        if let Some(scope) = &self.scope {
            // A scope built in code (not parsed) must still be one the text form accepts.
            let text = scope.to_string();
            if Scope::parse(&text, "command.scope")? != *scope {
                return Err(malformed(format!("command.scope: {} does not read back as itself", shown(&text))));
            }
        }
        if let Some(level) = self.level {
            let allowed: &[Level] = match action {
                Action::Halt => &[Level::Yellow, Level::Red],
                _ => &[Level::Green, Level::Yellow],
            };
            if !allowed.contains(&level) {
                return Err(malformed(format!(
                    "command.level: {} takes {} or {}, got {level}",
                    action.as_str(),
                    allowed[0],
                    allowed[1]
                )));
            }
        }
        if let Some(reason) = &self.reason {
            if reason.is_empty() || reason.len() > MAX_REASON_BYTES {
                return Err(malformed(format!(
                    "command.reason: {} bytes, must be 1..={MAX_REASON_BYTES}",
                    reason.len()
                )));
            }
            if reason.chars().any(char::is_control) {
                return Err(malformed("command.reason: must be printable (no control characters)"));
            }
        }
        if !(MIN_NONCE_BYTES..=MAX_NONCE_BYTES).contains(&self.nonce.len()) {
            return Err(malformed(format!(
                "command.nonce: {} bytes, must be {MIN_NONCE_BYTES}..={MAX_NONCE_BYTES}",
                self.nonce.len()
            )));
        }
        Ok(())
    }

    /// The canonical CBOR bytes (what is signed, hashed and sent).
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        // Writing into a Vec cannot fail; should it ever, the empty output verifies nothing.
        if ciborium::ser::into_writer(&self.to_value(), &mut out).is_err() {
            out.clear();
        }
        out
    }

    /// The command as a CBOR map, its entries in [`KEYS`] order.
    fn to_value(&self) -> Value {
        let text = |t: &str| Value::Text(t.to_owned());
        let bytes = |b: &[u8]| Value::Bytes(b.to_vec());
        let or_null = |v: Option<Value>| v.unwrap_or(Value::Null);
        // In KEYS order.
        let values = [
            or_null(self.level.map(|l| text(l.as_str()))),
            bytes(&self.nonce),
            or_null(self.scope.as_ref().map(|s| Value::Text(s.to_string()))),
            text(self.action.as_str()),
            or_null(self.reason.as_deref().map(text)),
            or_null(self.challenge.as_ref().map(|c| bytes(c))),
            or_null(self.request_id.as_ref().map(|r| bytes(r))),
            Value::Integer(self.timestamp_us.into()),
            or_null(self.request_digest.as_ref().map(|d| bytes(d))),
        ];
        Value::Map(KEYS.iter().zip(values).map(|(key, value)| (text(key), value)).collect())
    }

    /// Decodes canonical CBOR strictly (re-encodes and compares) and validates.
    pub fn from_cbor(bytes: &[u8]) -> Result<Command, OversightError> {
        if bytes.len() > MAX_COMMAND_BYTES {
            return Err(malformed(format!(
                "command: {} bytes, at most {MAX_COMMAND_BYTES} (MAX_COMMAND_BYTES)",
                bytes.len()
            )));
        }
        let mut rest = bytes;
        let value: Value = ciborium::de::from_reader(&mut rest).map_err(|e| malformed(describe(&e)))?;
        if !rest.is_empty() {
            return Err(malformed(format!("command: {} bytes after the CBOR map", rest.len())));
        }
        let Value::Map(entries) = value else {
            return Err(malformed("command: must be a CBOR map"));
        };
        let mut slots = slots(entries)?;
        let mut field = |key: &'static str| {
            let value = KEYS.iter().position(|k| *k == key).and_then(|i| slots[i].take()).unwrap_or(Value::Null);
            Field { key, value }
        };
        let command = Command {
            action: action(field("action"))?,
            scope: optional(field("scope"), |f| {
                let at = format!("command.{}", f.key);
                Scope::parse(&text(f)?, &at)
            })?,
            level: optional(field("level"), level)?,
            reason: optional(field("reason"), text)?,
            challenge: optional(field("challenge"), sized)?,
            request_id: optional(field("request_id"), sized)?,
            request_digest: optional(field("request_digest"), sized)?,
            timestamp_us: timestamp(field("timestamp_us"))?,
            nonce: byte_string(field("nonce"))?,
        };
        // The shape is right; whether these were the canonical bytes is decided by re-encoding.
        if command.to_cbor() != bytes {
            return Err(malformed(
                "command: not in deterministic encoding (RFC 8949 §4.2.1: definite lengths, shortest integers \
                 and lengths, map keys sorted by their encoded bytes)",
            ));
        }
        command.validate()?;
        Ok(command)
    }

    /// SHA-256(OVERSIGHT_DOMAIN ‖ to_cbor()).
    pub fn digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(OVERSIGHT_DOMAIN);
        hash.update(self.to_cbor());
        hash.finalize().into()
    }

    /// Reads the JSON editing form (validated).
    pub fn from_json(json: &str) -> Result<Command, OversightError> {
        if json.len() > MAX_COMMAND_JSON_BYTES {
            return Err(malformed(format!(
                "command: {} bytes of JSON, at most {MAX_COMMAND_JSON_BYTES} (MAX_COMMAND_JSON_BYTES)",
                json.len()
            )));
        }
        let form: JsonIn = serde_json::from_str(json).map_err(|e| malformed(format!("command: {e}")))?;
        let Some(action) = Action::from_name(&form.action) else {
            return Err(malformed(action_problem(&form.action)));
        };
        let level = match form.level.as_deref() {
            None => None,
            Some(name) => Some(
                Level::from_name(name)
                    .ok_or_else(|| malformed(format!("command.level: {} must be green, yellow or red", shown(name))))?,
            ),
        };
        let command = Command {
            action,
            scope: form.scope.as_deref().map(|s| Scope::parse(s, "command.scope")).transpose()?,
            level,
            reason: form.reason,
            challenge: form.challenge.as_deref().map(|h| hex_array(h, "challenge")).transpose()?,
            request_id: form.request_id.as_deref().map(|h| hex_array(h, "request_id")).transpose()?,
            request_digest: form.request_digest.as_deref().map(|h| hex_array(h, "request_digest")).transpose()?,
            timestamp_us: form.timestamp_us,
            nonce: hex_bytes(&form.nonce, "nonce")?,
        };
        command.validate()?;
        Ok(command)
    }

    /// The JSON editing form (null fields omitted; bytes as 0x hex).
    pub fn to_json(&self) -> String {
        let hex = |b: &[u8]| format!("0x{}", hex::encode(b));
        let form = JsonOut {
            action: self.action.as_str(),
            scope: self.scope.as_ref().map(Scope::to_string),
            level: self.level.map(Level::as_str),
            reason: self.reason.as_deref(),
            challenge: self.challenge.as_ref().map(|c| hex(c)),
            request_id: self.request_id.as_ref().map(|r| hex(r)),
            request_digest: self.request_digest.as_ref().map(|d| hex(d)),
            timestamp_us: self.timestamp_us,
            nonce: hex(&self.nonce),
        };
        // Serializing strings and integers cannot fail.
        serde_json::to_string_pretty(&form).unwrap_or_default()
    }
}

/// Whether an action takes a field.
#[derive(Clone, Copy)]
enum Need {
    Required,
    Optional,
    Forbidden,
}

fn presence(action: Action, key: &str, present: bool, need: Need) -> Result<(), OversightError> {
    match (need, present) {
        (Need::Required, false) => Err(malformed(format!("command.{key}: required by {}", action.as_str()))),
        (Need::Forbidden, true) => {
            Err(malformed(format!("command.{key}: {} does not take it (must be null)", action.as_str())))
        }
        _ => Ok(()),
    }
}

fn malformed(message: impl Into<String>) -> OversightError {
    OversightError::new(OversightErrorCode::Malformed, message)
}

fn action_problem(name: &str) -> String {
    let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    format!("command.action: {} must be one of {}", shown(name), names.join(", "))
}

/// Why `ciborium` could not read the input as one CBOR item.
fn describe(e: &ciborium::de::Error<std::io::Error>) -> String {
    use ciborium::de::Error as Cbor;
    match e {
        Cbor::Io(_) => "command: truncated CBOR".into(),
        Cbor::Syntax(at) => {
            format!(
                "command: not well-formed CBOR at byte {at} (e.g. a reserved head or invalid UTF-8 in a text string)"
            )
        }
        Cbor::Semantic(_, message) => format!("command: invalid CBOR: {message}"),
        Cbor::RecursionLimitExceeded => "command: CBOR nested too deeply".into(),
    }
}

/// One value of the command map, with its key (for error messages).
struct Field {
    key: &'static str,
    value: Value,
}

/// The entries of the command map, one slot per key in [`KEYS`] order:
/// exactly nine text keys, none unknown, none twice, so none missing.
fn slots(entries: Vec<(Value, Value)>) -> Result<Vec<Option<Value>>, OversightError> {
    if entries.len() != KEYS.len() {
        return Err(malformed(format!(
            "command: must have exactly the {} keys {}, got {} entries",
            KEYS.len(),
            KEYS.join(", "),
            entries.len()
        )));
    }
    let mut slots: Vec<Option<Value>> = Vec::new();
    slots.resize_with(KEYS.len(), || None);
    for (key, value) in entries {
        let Value::Text(key) = key else {
            return Err(malformed("command: every key must be a text string"));
        };
        let Some(index) = KEYS.iter().position(|k| *k == key) else {
            return Err(malformed(format!("command: unknown key {}", shown(&key))));
        };
        if slots[index].replace(value).is_some() {
            return Err(malformed(format!("command: key {} appears twice", shown(&key))));
        }
    }
    Ok(slots)
}

/// The value read by `read`, or `null`.
fn optional<T>(
    field: Field,
    read: impl FnOnce(Field) -> Result<T, OversightError>,
) -> Result<Option<T>, OversightError> {
    match field.value {
        Value::Null => Ok(None),
        _ => read(field).map(Some),
    }
}

fn text(Field { key, value }: Field) -> Result<String, OversightError> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(malformed(format!("command.{key}: must be a text string"))),
    }
}

fn action(field: Field) -> Result<Action, OversightError> {
    let key = field.key;
    let name = text(field).map_err(|_| malformed(format!("command.{key}: must be a text string")))?;
    Action::from_name(&name).ok_or_else(|| malformed(action_problem(&name)))
}

fn level(field: Field) -> Result<Level, OversightError> {
    let key = field.key;
    let name = text(field)?;
    Level::from_name(&name)
        .ok_or_else(|| malformed(format!("command.{key}: {} must be green, yellow or red", shown(&name))))
}

fn byte_string(Field { key, value }: Field) -> Result<Vec<u8>, OversightError> {
    match value {
        Value::Bytes(bytes) => Ok(bytes),
        _ => Err(malformed(format!("command.{key}: must be a byte string"))),
    }
}

fn sized<const N: usize>(field: Field) -> Result<[u8; N], OversightError> {
    let key = field.key;
    let bytes = byte_string(field).map_err(|_| malformed(format!("command.{key}: must be a {N}-byte string")))?;
    let got = bytes.len();
    bytes.try_into().map_err(|_| malformed(format!("command.{key}: must be a {N}-byte string, got {got}")))
}

fn timestamp(Field { key, value }: Field) -> Result<u64, OversightError> {
    let refuse = || malformed(format!("command.{key}: must be an unsigned integer (µs since the Unix epoch)"));
    let Value::Integer(integer) = value else {
        return Err(refuse());
    };
    u64::try_from(integer).map_err(|_| refuse())
}

/// `0x` and hex digits, decoded.
fn hex_bytes(text: &str, key: &str) -> Result<Vec<u8>, OversightError> {
    text.strip_prefix("0x")
        .and_then(|digits| hex::decode(digits).ok())
        .ok_or_else(|| malformed(format!("command.{key}: must be 0x followed by an even number of hex digits")))
}

/// `0x` and exactly `2 * N` hex digits, decoded.
fn hex_array<const N: usize>(text: &str, key: &str) -> Result<[u8; N], OversightError> {
    hex_bytes(text, key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| malformed(format!("command.{key}: must be 0x followed by {} hex digits ({N} bytes)", 2 * N)))
}

/// The JSON editing form as read: null or missing optional fields are `None`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonIn {
    action: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    request_digest: Option<String>,
    timestamp_us: u64,
    nonce: String,
}

/// The JSON editing form as written: null fields omitted.
#[derive(Serialize)]
struct JsonOut<'a> {
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_digest: Option<String>,
    timestamp_us: u64,
    nonce: String,
}

#[cfg(test)]
mod tests {
    use ciborium::value::Value;

    use super::KEYS;

    #[test]
    fn keys_are_in_canonical_order() {
        let encode = |key: &str| {
            let mut out = Vec::new();
            ciborium::ser::into_writer(&Value::Text(key.to_owned()), &mut out).unwrap();
            out
        };
        let mut sorted = KEYS.to_vec();
        sorted.sort_by_key(|k| encode(k));
        assert_eq!(sorted, KEYS);
    }
}
