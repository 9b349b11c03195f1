//! CBOR reading on top of `ciborium`, made strict where the generic decoder is
//! lax: one item must span the whole input (no trailing bytes), maps must not
//! repeat a key, and nesting is shallow. Nitro hardware emits both definite and
//! indefinite lengths, which `ciborium` folds into the same `Value`, so nothing
//! downstream has to care how a length was spelled.

use std::collections::BTreeSet;

use ciborium::value::Value;

use crate::error::{err, Error, ErrorCode};

/// Deepest nesting accepted; real documents need 3 (array, map, pcrs map).
const RECURSION_LIMIT: usize = 16;

/// Decodes exactly one CBOR item spanning all of `bytes`; `what` names it in errors.
pub(crate) fn decode_exact(bytes: &[u8], what: &str) -> Result<Value, Error> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, RECURSION_LIMIT)
        .map_err(|e| Error::new(ErrorCode::MalformedCbor, format!("{what}: {e}")))?;
    if !rest.is_empty() {
        return err(ErrorCode::TrailingBytes, format!("{what}: {} byte(s) after the CBOR item", rest.len()));
    }
    reject_duplicate_keys(&value, what)?;
    Ok(value)
}

/// CBOR-encodes a value (definite lengths, shortest heads).
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    ciborium::ser::into_writer(value, &mut out).expect("CBOR encoding into a Vec");
    out
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
