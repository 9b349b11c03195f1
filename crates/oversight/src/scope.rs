//! Scopes (global, one key, one principal) and levels (Green, Yellow, Red).
//! A request's effective level is the strictest of the global scope, its
//! key's and its principal's.
use core::fmt;

use crate::error::{OversightError, OversightErrorCode};

/// Longest key id in a `key:` scope, in bytes. The enclave names its keys
/// `k-` and 24 hex digits; 64 leaves room and keeps `key:<id>` well inside
/// the receipts' 128-byte `oversight_scope`.
pub const MAX_SCOPE_KEY_ID_BYTES: usize = 64;

/// What a halt, degrade or resume applies to. Text form: `global`, `key:<key id>`,
/// `principal:<principal id>` (ids as the configuration and key store spell them).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Key(String),
    Principal(String),
}

impl Scope {
    /// Parses the text form; the message names `field`.
    pub fn parse(text: &str, field: &str) -> Result<Scope, OversightError> {
        let refuse =
            |problem: String| Err(OversightError::new(OversightErrorCode::Malformed, format!("{field}: {problem}")));
        if text == "global" {
            return Ok(Scope::Global);
        }
        if let Some(id) = text.strip_prefix("key:") {
            if !is_key_id(id) {
                return refuse(format!(
                    "key id {} must be 1..={MAX_SCOPE_KEY_ID_BYTES} characters of A-Z a-z 0-9 - _ . : /",
                    shown(id)
                ));
            }
            return Ok(Scope::Key(id.to_string()));
        }
        if let Some(id) = text.strip_prefix("principal:") {
            if !sentinel_config::is_id(id) {
                return refuse(format!(
                    "principal id {} must be 1..={} characters of A-Z a-z 0-9 - _ . : @",
                    shown(id),
                    sentinel_config::MAX_ID_BYTES
                ));
            }
            return Ok(Scope::Principal(id.to_string()));
        }
        refuse(format!("{} must be `global`, `key:<key id>` or `principal:<principal id>`", shown(text)))
    }

    /// Whether this scope is the global one.
    pub fn is_global(&self) -> bool {
        matches!(self, Scope::Global)
    }
}

/// Whether `id` is a key id a `key:` scope may name (1..=[`MAX_SCOPE_KEY_ID_BYTES`]
/// bytes of `A-Z a-z 0-9 - _ . : /`, the key label alphabet).
pub fn is_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SCOPE_KEY_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

/// `text` quoted for a message, cut to 64 characters.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 64;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut:?}...")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global"),
            Scope::Key(id) => write!(f, "key:{id}"),
            Scope::Principal(id) => write!(f, "principal:{id}"),
        }
    }
}

/// Green: normal. Yellow: every signing request is held for human approval.
/// Red: halted, nothing is signed. Ordered by strictness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Green,
    Yellow,
    Red,
}

impl Level {
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Green => "green",
            Level::Yellow => "yellow",
            Level::Red => "red",
        }
    }

    pub fn from_name(name: &str) -> Option<Level> {
        match name {
            "green" => Some(Level::Green),
            "yellow" => Some(Level::Yellow),
            "red" => Some(Level::Red),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request's effective state: the strictest level among its scopes, and the
/// scope that set it (`Global` when everything is Green). On ties the order is
/// global, then key, then principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    pub level: Level,
    pub scope: Scope,
}
