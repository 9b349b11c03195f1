//! The API's JSON form of protocol messages, read back into the typed structs.
//!
//! The HTTP API relays each enclave answer as JSON (`host/src/api/wire-json.ts`):
//! the decoded CBOR with its own field names, byte strings as `0x`-prefixed
//! lowercase hex, integers as JSON numbers. A client that wants to check an
//! answer against its receipt ([`crate::result_hash`]) reads it back here into
//! the same [`crate::Response`] the enclave encoded, with the same strictness
//! as CBOR (unknown fields refused, every field typed). Hex text is accepted
//! for bytes only inside this function; CBOR and the bindings' JS-value
//! conversions keep refusing text where bytes are expected (`crate::bytes`).
//! Integers over 2^53 − 1, which the host writes as decimal strings, are
//! refused: no answer with a result hash has an integer field.
use serde::de::DeserializeOwned;

use crate::bytes::WireJsonScope;
use crate::error::{ProtocolError, ProtocolErrorCode};

/// Parses wire JSON (e.g. an answer: `{"type":"key_list","keys":[...]}`) into `T`;
/// anything else than exactly that shape is `INVALID_ARGUMENT`.
pub fn from_wire_json<T: DeserializeOwned>(json: &str) -> Result<T, ProtocolError> {
    let _scope = WireJsonScope::enter();
    serde_json::from_str(json)
        .map_err(|e| ProtocolError::new(ProtocolErrorCode::InvalidArgument, format!("wire JSON: {e}")))
}
