//! CBOR byte strings, strictly.
//!
//! `serde_bytes` also accepts text strings and integer arrays where bytes are
//! expected; for a wire format that the enclave must read one way only, a
//! bytes field accepts a CBOR byte string and nothing else.
use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
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
    deserializer.deserialize_byte_buf(ByteString)
}
