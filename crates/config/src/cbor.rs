//! Canonical CBOR (RFC 8949 §4.2.1, core deterministic encoding) on top of
//! `ciborium`: definite lengths and shortest heads come from `ciborium`'s
//! encoder, map keys are sorted here by their encoded bytes. Decoding is
//! strict: one item spanning the whole input, no map key twice, shallow
//! nesting; whether the input was canonical is decided by re-encoding the
//! decoded value and comparing bytes, so no encoding rule is checked by hand.

use std::collections::BTreeSet;

use ciborium::value::Value;

use crate::error::{refuse, ConfigError, ConfigErrorCode};

/// Deepest nesting accepted; documents need 5 (map, array, map, array, map).
const RECURSION_LIMIT: usize = 16;

/// Decodes exactly one CBOR item spanning all of `bytes` and refuses it
/// unless `bytes` is its canonical encoding. `what` names it in errors.
pub(crate) fn decode_canonical(bytes: &[u8], what: &str) -> Result<Value, ConfigError> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, RECURSION_LIMIT)
        .map_err(|e| ConfigError::new(ConfigErrorCode::Malformed, format!("{what}: {}", describe(&e))))?;
    if !rest.is_empty() {
        return refuse(ConfigErrorCode::Malformed, format!("{what}: {} byte(s) after the CBOR item", rest.len()));
    }
    reject_duplicate_keys(&value, what)?;
    if encode_canonical(&value) != bytes {
        return refuse(
            ConfigErrorCode::NotCanonical,
            format!(
                "{what}: not the canonical CBOR encoding (RFC 8949 §4.2.1: definite lengths, shortest integers, \
                 map keys sorted by their encoded bytes)"
            ),
        );
    }
    Ok(value)
}

fn describe<T: core::fmt::Debug>(e: &ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "truncated CBOR".into(),
        ciborium::de::Error::Syntax(at) => format!("invalid CBOR at byte {at}"),
        ciborium::de::Error::Semantic(at, message) => match at {
            Some(at) => format!("invalid CBOR at byte {at}: {message}"),
            None => format!("invalid CBOR: {message}"),
        },
        ciborium::de::Error::RecursionLimitExceeded => "CBOR nested too deeply".into(),
    }
}

/// The canonical encoding of `value`: map entries (at every depth) sorted by
/// the bytes of their encoded keys.
pub(crate) fn encode_canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    ciborium::ser::into_writer(&canonicalize(value), &mut out).expect("CBOR encoding into a Vec");
    out
}

fn encode_plain(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("CBOR encoding into a Vec");
    out
}

fn canonicalize(value: &Value) -> Value {
    match value {
        Value::Map(entries) => {
            let mut sorted: Vec<(Vec<u8>, Value, Value)> = entries
                .iter()
                .map(|(k, v)| {
                    let k = canonicalize(k);
                    (encode_plain(&k), k, canonicalize(v))
                })
                .collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(sorted.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonicalize).collect()),
        Value::Tag(tag, inner) => Value::Tag(*tag, Box::new(canonicalize(inner))),
        other => other.clone(),
    }
}

/// Fails if any map (at any depth) holds the same key twice (RFC 8949 §5.6:
/// such a map is not valid CBOR).
fn reject_duplicate_keys(value: &Value, what: &str) -> Result<(), ConfigError> {
    match value {
        Value::Map(entries) => {
            let mut seen = BTreeSet::new();
            for (key, item) in entries {
                if !seen.insert(encode_plain(key)) {
                    let name = match key {
                        Value::Text(t) => format!("`{t}`"),
                        _ => "a key".into(),
                    };
                    return refuse(ConfigErrorCode::Malformed, format!("{what}: map key {name} appears twice"));
                }
                reject_duplicate_keys(key, what)?;
                reject_duplicate_keys(item, what)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| reject_duplicate_keys(v, what)),
        Value::Tag(_, inner) => reject_duplicate_keys(inner, what),
        _ => Ok(()),
    }
}

/// Reads the fields of a CBOR map with text keys: each `take` names a field,
/// and `finish` refuses whatever was not taken (unknown fields).
pub(crate) struct Fields<'a> {
    path: String,
    entries: Vec<(&'a str, &'a Value)>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(value: &'a Value, path: &str) -> Result<Self, ConfigError> {
        let Value::Map(map) = value else {
            return refuse(ConfigErrorCode::Invalid, format!("{}: expected a map", display(path)));
        };
        let mut entries = Vec::with_capacity(map.len());
        for (key, item) in map {
            let Value::Text(name) = key else {
                return refuse(ConfigErrorCode::Invalid, format!("{}: map keys must be text", display(path)));
            };
            entries.push((name.as_str(), item));
        }
        Ok(Fields { path: path.to_string(), entries })
    }

    /// The path of field `name`, for error messages.
    pub(crate) fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The value of required field `name`.
    pub(crate) fn take(&mut self, name: &str) -> Result<&'a Value, ConfigError> {
        match self.entries.iter().position(|(k, _)| *k == name) {
            Some(i) => Ok(self.entries.swap_remove(i).1),
            None => refuse(ConfigErrorCode::Invalid, format!("{}: missing", self.path_of(name))),
        }
    }

    /// The value of optional field `name`, if present.
    pub(crate) fn take_optional(&mut self, name: &str) -> Option<&'a Value> {
        let i = self.entries.iter().position(|(k, _)| *k == name)?;
        Some(self.entries.swap_remove(i).1)
    }

    /// Refuses any field not taken.
    pub(crate) fn finish(self) -> Result<(), ConfigError> {
        match self.entries.first() {
            None => Ok(()),
            Some((name, _)) => refuse(
                ConfigErrorCode::UnknownField,
                format!("{}: unknown field (this version knows no such field)", self.path_of(name)),
            ),
        }
    }
}

fn display(path: &str) -> &str {
    if path.is_empty() {
        "document"
    } else {
        path
    }
}

pub(crate) fn as_uint(value: &Value, path: &str) -> Result<u64, ConfigError> {
    match value {
        Value::Integer(i) => u64::try_from(*i)
            .map_err(|_| ConfigError::new(ConfigErrorCode::Invalid, format!("{path}: expected an unsigned integer"))),
        _ => refuse(ConfigErrorCode::Invalid, format!("{path}: expected an unsigned integer")),
    }
}

pub(crate) fn as_text<'a>(value: &'a Value, path: &str) -> Result<&'a str, ConfigError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => refuse(ConfigErrorCode::Invalid, format!("{path}: expected a text string")),
    }
}

pub(crate) fn as_bytes<'a>(value: &'a Value, path: &str) -> Result<&'a [u8], ConfigError> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => refuse(ConfigErrorCode::Invalid, format!("{path}: expected a byte string")),
    }
}

/// The items of an array of at most `max` items (`cap` names the constant).
pub(crate) fn as_array<'a>(value: &'a Value, path: &str, max: usize, cap: &str) -> Result<&'a [Value], ConfigError> {
    match value {
        Value::Array(items) if items.len() > max => {
            refuse(ConfigErrorCode::TooLarge, format!("{path}: {} items, at most {max} allowed ({cap})", items.len()))
        }
        Value::Array(items) => Ok(items),
        _ => refuse(ConfigErrorCode::Invalid, format!("{path}: expected an array")),
    }
}

pub(crate) fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// A map with text keys, in any order (encoding sorts them).
pub(crate) fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_encoded_bytes_so_shorter_text_comes_first() {
        let value = map(vec![("bb", Value::from(1)), ("a", Value::from(2)), ("c", Value::from(3))]);
        let bytes = encode_canonical(&value);
        // {"a": 2, "c": 3, "bb": 1}
        assert_eq!(bytes, [0xa3, 0x61, b'a', 0x02, 0x61, b'c', 0x03, 0x62, b'b', b'b', 0x01]);
        assert!(decode_canonical(&bytes, "x").is_ok());
    }

    #[test]
    fn non_shortest_integer_and_indefinite_length_are_not_canonical() {
        // {"a": 1} with the 1 as a one-byte-argument integer (0x18 0x01).
        let long_int = [0xa1, 0x61, b'a', 0x18, 0x01];
        assert_eq!(decode_canonical(&long_int, "x").unwrap_err().kind(), ConfigErrorCode::NotCanonical);
        // Indefinite-length map {_ "a": 1}.
        let indefinite = [0xbf, 0x61, b'a', 0x01, 0xff];
        assert_eq!(decode_canonical(&indefinite, "x").unwrap_err().kind(), ConfigErrorCode::NotCanonical);
    }

    #[test]
    fn duplicate_keys_and_trailing_bytes_are_malformed() {
        let dup = [0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02];
        let e = decode_canonical(&dup, "x").unwrap_err();
        assert_eq!(e.kind(), ConfigErrorCode::Malformed);
        assert!(e.message().contains("`a` appears twice"), "{e}");
        let trailing = [0xa1, 0x61, b'a', 0x01, 0x00];
        assert_eq!(decode_canonical(&trailing, "x").unwrap_err().kind(), ConfigErrorCode::Malformed);
        assert_eq!(decode_canonical(&[], "x").unwrap_err().kind(), ConfigErrorCode::Malformed);
    }
}
