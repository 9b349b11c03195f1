//! Strict RLP reading and minimal RLP writing for transactions.
//!
//! alloy-rlp's `Header::decode` already refuses the three non-canonical header
//! forms (a single byte below 0x80 wrapped as a string, long-form lengths
//! below 56, lengths with leading zero bytes); this module adds what a signer
//! needs on top: every failure carries a field name and a stable code, and
//! integers are checked for the canonical form the protocol requires (no
//! leading zero bytes, zero as the empty string, no wider than the field).
//! Accepting only one encoding per transaction means the bytes we hash are
//! the only bytes that could mean this transaction, so what a policy engine
//! reads from the decoded struct is exactly what gets signed.
use core::fmt::Display;

use alloy_primitives::U256;
use alloy_rlp::Header;

use crate::error::{code, Error};

/// One RLP item: whether it is a list, and its payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item<'a> {
    pub list: bool,
    pub payload: &'a [u8],
}

/// Reads one item from the front of `buf`, advancing it.
pub(crate) fn read_item<'a>(buf: &mut &'a [u8], field: &dyn Display) -> Result<Item<'a>, Error> {
    let header = Header::decode(buf).map_err(|err| header_error(err, field))?;
    // `Header::decode` checked the length, but a checked split keeps this
    // panic-free even if that contract ever changes.
    let (payload, rest) = buf
        .split_at_checked(header.payload_length)
        .ok_or_else(|| Error::new(code::RLP_TRUNCATED, format!("{field}: item runs past the end of the input")))?;
    *buf = rest;
    Ok(Item { list: header.list, payload })
}

fn header_error(err: alloy_rlp::Error, field: &dyn Display) -> Error {
    use alloy_rlp::Error as E;
    match err {
        E::NonCanonicalSingleByte => Error::new(
            code::NON_CANONICAL_RLP,
            format!("{field}: single byte below 0x80 must be encoded as itself, not as a string"),
        ),
        E::NonCanonicalSize => Error::new(
            code::NON_CANONICAL_RLP,
            format!("{field}: long-form length used for a payload shorter than 56 bytes"),
        ),
        E::LeadingZero | E::Overflow => {
            Error::new(code::NON_CANONICAL_RLP, format!("{field}: RLP length has leading zero bytes"))
        }
        // `Custom("Input too big")` is a length that does not fit usize: on
        // wasm32 that is a length no real input can have, so it is truncation.
        _ => Error::new(code::RLP_TRUNCATED, format!("{field}: item runs past the end of the input")),
    }
}

/// Splits a list payload into its items. `name` labels item `i` in errors.
pub(crate) fn split_list<'a>(mut payload: &'a [u8], name: &dyn Fn(usize) -> String) -> Result<Vec<Item<'a>>, Error> {
    let mut items = Vec::new();
    while !payload.is_empty() {
        let field = name(items.len());
        items.push(read_item(&mut payload, &field)?);
    }
    Ok(items)
}

impl<'a> Item<'a> {
    pub fn list(self, field: &dyn Display) -> Result<&'a [u8], Error> {
        if self.list {
            Ok(self.payload)
        } else {
            Err(Error::new(code::EXPECTED_LIST, format!("{field}: expected an RLP list, found a string")))
        }
    }

    pub fn string(self, field: &dyn Display) -> Result<&'a [u8], Error> {
        if self.list {
            Err(Error::new(code::EXPECTED_STRING, format!("{field}: expected an RLP string, found a list")))
        } else {
            Ok(self.payload)
        }
    }

    /// Big-endian integer bytes in canonical form, at most `max_len` long.
    fn uint_bytes(self, field: &dyn Display, max_len: usize, width: &str) -> Result<&'a [u8], Error> {
        let bytes = self.string(field)?;
        if bytes.first() == Some(&0) {
            return Err(Error::new(
                code::INTEGER_LEADING_ZERO,
                format!("{field}: integer has leading zero bytes (zero must be the empty string)"),
            ));
        }
        if bytes.len() > max_len {
            return Err(Error::new(
                code::INTEGER_OVERFLOW,
                format!("{field}: integer of {} bytes does not fit in {width}", bytes.len()),
            ));
        }
        Ok(bytes)
    }

    pub fn u64(self, field: &dyn Display) -> Result<u64, Error> {
        let bytes = self.uint_bytes(field, 8, "64 bits")?;
        Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    pub fn u256(self, field: &dyn Display) -> Result<U256, Error> {
        let bytes = self.uint_bytes(field, 32, "256 bits")?;
        // Cannot fail: length is at most 32 bytes.
        U256::try_from_be_slice(bytes)
            .ok_or_else(|| Error::new(code::INTEGER_OVERFLOW, format!("{field}: integer does not fit in 256 bits")))
    }
}

/// Appends an RLP string.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    alloy_rlp::Encodable::encode(bytes, out);
}

/// Appends a big-endian unsigned integer in canonical form.
pub(crate) fn put_uint_be(out: &mut Vec<u8>, be: &[u8]) {
    let first = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    put_bytes(out, &be[first..]);
}

pub(crate) fn put_u64(out: &mut Vec<u8>, value: u64) {
    put_uint_be(out, &value.to_be_bytes());
}

pub(crate) fn put_u256(out: &mut Vec<u8>, value: &U256) {
    put_uint_be(out, &value.to_be_bytes::<32>());
}

/// Wraps an already-encoded payload in a list header.
pub(crate) fn put_list(out: &mut Vec<u8>, payload: &[u8]) {
    Header { list: true, payload_length: payload.len() }.encode(out);
    out.extend_from_slice(payload);
}
