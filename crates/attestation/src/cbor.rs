//! CBOR reading on top of `ciborium`, made strict where the generic decoder is
//! lax: one item must span the whole input (no trailing bytes), maps must not
//! repeat a key, and nesting is shallow. Nitro hardware emits both definite and
//! indefinite lengths, which `ciborium` folds into the same `Value`, so nothing
//! downstream has to care how a length was spelled.
//!
//! Reading and writing go through `coset`'s `CborSerializable` for `Value`
//! (`ciborium::de::from_reader` with its default recursion limit of 256, and
//! `ciborium::ser::into_writer`), the instances `coset` and `sentinel-evidence`
//! already use: the browser verifier then carries one CBOR decoder and one
//! encoder (about 6 KB less than a copy of each per crate). The limit of 16
//! is checked on the decoded value, before duplicate keys; so an input that is
//! both nested too deep and followed by trailing bytes is `TRAILING_BYTES`
//! (with ciborium's limit of 16 it used to be `MALFORMED_CBOR`).

use std::collections::BTreeSet;

use ciborium::value::Value;
use coset::{CborSerializable, CoseError};

use crate::error::{err, Error, ErrorCode};

/// Deepest nesting accepted; real documents need 3 (array, map, pcrs map).
const RECURSION_LIMIT: usize = 16;

/// Decodes exactly one CBOR item spanning all of `bytes`; `what` names it in errors.
pub(crate) fn decode_exact(bytes: &[u8], what: &str) -> Result<Value, Error> {
    let value = Value::from_slice(bytes).map_err(|e| match e {
        CoseError::ExtraneousData => Error::new(ErrorCode::TrailingBytes, format!("{what}: bytes after the CBOR item")),
        CoseError::DecodeFailed(e) => Error::new(ErrorCode::MalformedCbor, format!("{what}: {e:?}")),
        e => Error::new(ErrorCode::MalformedCbor, format!("{what}: {e}")),
    })?;
    check_depth(&value, RECURSION_LIMIT, what)?;
    reject_duplicate_keys(&value, what)?;
    Ok(value)
}

/// Arrays, maps and tags nest at most `limit` deep, counted as `ciborium`
/// counts recursion (a container at depth `limit + 1` is refused).
fn check_depth(value: &Value, limit: usize, what: &str) -> Result<(), Error> {
    let below = |v: &Value| check_depth(v, limit - 1, what);
    match value {
        Value::Array(_) | Value::Map(_) | Value::Tag(..) if limit == 0 => {
            err(ErrorCode::MalformedCbor, format!("{what}: nested deeper than {RECURSION_LIMIT}"))
        }
        Value::Array(items) => items.iter().try_for_each(below),
        Value::Map(entries) => entries.iter().try_for_each(|(k, v)| below(k).and_then(|()| below(v))),
        Value::Tag(_, inner) => below(inner),
        _ => Ok(()),
    }
}

/// CBOR-encodes a value (definite lengths, shortest heads): `ciborium`'s
/// `into_writer` through `coset`'s `CborSerializable::to_vec`, so that the
/// WASM builds carry the one copy of the encoder `coset` already has.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    // Writing into a Vec cannot fail.
    value.clone().to_vec().expect("CBOR encoding into a Vec")
}

/// Fails if any map (at any depth) holds the same key twice. Keys are compared
/// by their canonical encoding, so the check is O(n log n) however large a
/// hostile map is.
fn reject_duplicate_keys(value: &Value, what: &str) -> Result<(), Error> {
    match value {
        Value::Map(entries) => {
            let mut seen = BTreeSet::new();
            for (key, item) in entries {
                if !seen.insert(encode(key)) {
                    return err(ErrorCode::DuplicateKey, format!("{what}: map key {key:?} appears twice"));
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

/// The integer value of `value` if it is a CBOR integer.
pub(crate) fn as_i128(value: &Value) -> Option<i128> {
    match value {
        Value::Integer(i) => Some(i128::from(*i)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `depth` nested one-element arrays around 0.
    fn nested(depth: usize) -> Vec<u8> {
        let mut bytes = vec![0x81; depth];
        bytes.push(0x00);
        bytes
    }

    fn code(bytes: &[u8]) -> ErrorCode {
        decode_exact(bytes, "x").unwrap_err().kind()
    }

    #[test]
    fn one_item_shallow_no_duplicates() {
        assert!(decode_exact(&nested(RECURSION_LIMIT), "x").is_ok());
        assert_eq!(code(&nested(RECURSION_LIMIT + 1)), ErrorCode::MalformedCbor);
        assert_eq!(code(&nested(300)), ErrorCode::MalformedCbor); // beyond ciborium's own 256
        let mut tagged = vec![0xc6; RECURSION_LIMIT]; // tag 6, nested
        tagged.push(0x00);
        assert!(decode_exact(&tagged, "x").is_ok());
        tagged.insert(0, 0xc6);
        assert_eq!(code(&tagged), ErrorCode::MalformedCbor);
        // A map counts once; its keys and values sit one level below it.
        let mut map = vec![0x81; RECURSION_LIMIT - 1];
        map.extend_from_slice(&[0xa1, 0x80, 0x00]); // {[]: 0}
        assert_eq!(code(&map), ErrorCode::MalformedCbor);
        assert_eq!(code(&[]), ErrorCode::MalformedCbor);
        assert_eq!(code(&[0x82, 0x00]), ErrorCode::MalformedCbor); // truncated
        assert_eq!(code(&[0x00, 0x00]), ErrorCode::TrailingBytes);
        assert_eq!(code(&[0xa2, 0x01, 0x00, 0x01, 0x00]), ErrorCode::DuplicateKey);
        // Depth is judged before duplicate keys.
        let mut both = vec![0x82, 0xa2, 0x01, 0x00, 0x01, 0x00];
        both.extend_from_slice(&nested(RECURSION_LIMIT));
        assert_eq!(code(&both), ErrorCode::MalformedCbor);
    }

    #[test]
    fn encode_is_ciboriums() {
        let value = Value::Map(vec![(Value::Text("a".into()), Value::Array(vec![Value::Integer(1.into())]))]);
        let mut direct = Vec::new();
        ciborium::ser::into_writer(&value, &mut direct).unwrap();
        assert_eq!(encode(&value), direct);
    }
}
