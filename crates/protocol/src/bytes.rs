//! CBOR byte strings, strictly; `0x`-hex text only in wire JSON.
//!
//! `serde_bytes` also accepts text strings and integer arrays where bytes are
//! expected; for a wire format that the enclave must read one way only, a
//! bytes field accepts a CBOR byte string and nothing else.
//!
//! The one exception is the API's wire JSON (answers as the host relays them,
//! `host/src/api/wire-json.ts`), where bytes are `0x`-prefixed hex text: while
//! [`crate::from_wire_json`] runs, a human-readable deserializer gets that form.
//! `is_human_readable` alone cannot be the switch: serde replays a buffered
//! internally tagged enum (`Response` inside `Receipted` or `SessionAnswer`,
//! decoded from CBOR) through a deserializer that always calls itself human
//! readable, and so do the N-API and WASM bindings' JS-value deserializers,
//! which hand over Buffers as bytes. Outside that scope nothing changes.
use core::cell::Cell;
use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

std::thread_local! {
    /// Set while [`crate::from_wire_json`] parses on this thread.
    static WIRE_JSON: Cell<bool> = const { Cell::new(false) };
}

/// Lets bytes fields read `0x`-hex text on this thread until dropped (restores the previous state).
pub(crate) struct WireJsonScope(bool);

impl WireJsonScope {
    pub(crate) fn enter() -> Self {
        WireJsonScope(WIRE_JSON.with(|w| w.replace(true)))
    }
}

impl Drop for WireJsonScope {
    fn drop(&mut self) {
        WIRE_JSON.with(|w| w.set(self.0));
    }
}

pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    if deserializer.is_human_readable() && WIRE_JSON.with(Cell::get) {
        deserializer.deserialize_str(HexText)
    } else {
        deserializer.deserialize_byte_buf(ByteString)
    }
}

struct ByteString;

impl<'de> Visitor<'de> for ByteString {
    type Value = Vec<u8>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CBOR byte string")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }
}

/// Wire JSON bytes: `0x` followed by an even number of hex digits (`0x` alone is empty).
struct HexText;

impl<'de> Visitor<'de> for HexText {
    type Value = Vec<u8>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x-prefixed hex text")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        let invalid = || E::invalid_value(de::Unexpected::Other("text that is not 0x-hex"), &self);
        let digits = v.strip_prefix("0x").ok_or_else(invalid)?.as_bytes();
        if digits.len() % 2 != 0 {
            return Err(invalid());
        }
        digits
            .chunks_exact(2)
            .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(invalid)
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A short list of byte strings (PCR values): at most [`MAX_LIST_ITEMS`].
pub(crate) mod list {
    use core::fmt;

    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::ser::{SerializeSeq, Serializer};

    /// More PCRs than a Nitro Enclave has (32) is refused.
    pub(crate) const MAX_LIST_ITEMS: usize = 32;

    pub(crate) fn serialize<S: Serializer>(items: &[Vec<u8>], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(items.len()))?;
        for item in items {
            seq.serialize_element(&Bytes(item))?;
        }
        seq.end()
    }

    struct Bytes<'a>(&'a [u8]);
    impl serde::Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    struct Item(Vec<u8>);
    impl<'de> serde::Deserialize<'de> for Item {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::deserialize(deserializer).map(Item)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Vec<u8>>, D::Error> {
        bounded::<MAX_LIST_ITEMS, D>(deserializer)
    }

    /// An array of at most `MAX` byte strings (the frame cap bounds the bytes).
    pub(crate) fn bounded<'de, const MAX: usize, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        struct List<const MAX: usize>;
        impl<'de, const MAX: usize> Visitor<'de> for List<MAX> {
            type Value = Vec<Vec<u8>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {MAX} byte strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(Item(item)) = seq.next_element()? {
                    if out.len() == MAX {
                        return Err(de::Error::custom(format!("more than {MAX} items")));
                    }
                    out.push(item);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(List::<MAX>)
    }
}

/// The records of an `audit_records` answer: at most [`crate::limits::MAX_AUDIT_READ_RECORDS`].
pub(crate) mod records {
    use serde::de::Deserializer;

    pub(crate) use super::list::serialize;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Vec<u8>>, D::Error> {
        super::list::bounded::<{ crate::limits::MAX_AUDIT_READ_RECORDS }, D>(deserializer)
    }
}

/// An optional byte string: CBOR null or a byte string, nothing else (JSON: null or hex text).
pub(crate) mod option {
    use serde::de::Deserializer;
    use serde::{Deserialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, serializer: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => serializer.serialize_bytes(bytes),
            None => serializer.serialize_none(),
        }
    }

    struct Strict(Vec<u8>);
    impl<'de> Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::deserialize(deserializer).map(Strict)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
        Ok(Option::<Strict>::deserialize(deserializer)?.map(|s| s.0))
    }
}
