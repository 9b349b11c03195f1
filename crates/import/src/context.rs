//! What an import is bound to, and the HPKE `info` bytes that carry it.
//!
//! `info = "sentinel/import/v1" || CBOR { "curve", "label", "principal", "purpose" }`, the map
//! in RFC 8949 §4.2.1 core deterministic encoding (definite lengths, shortest heads, keys sorted
//! by their encoded bytes, which puts them in the order curve, label, purpose, principal).
//! Every field enters the key schedule, so a blob sealed for one principal, label, curve or
//! purpose does not open under any other.
use alloc::string::String;
use alloc::vec::Vec;

use ciborium::Value;

/// Domain separation tag that starts every `info` (ASCII, no terminator).
pub const INFO_TAG: &[u8] = b"sentinel/import/v1";

/// Longest `info` accepted (tag plus CBOR map), 8 KiB. Far above any real principal id and
/// label, and far below the 64 KiB where HPKE implementations stop accepting `info`.
pub const MAX_INFO_LEN: usize = 8 * 1024;

/// The curve of the imported key (lowercase text on the wire and in `info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// A 32-byte big-endian scalar in `[1, n-1]`.
    Secp256k1,
    /// A 32-byte Ed25519 seed (RFC 8032 secret key); every 32-byte string is one.
    Ed25519,
}

impl Curve {
    /// The wire name: `secp256k1` or `ed25519`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Curve::Secp256k1 => "secp256k1",
            Curve::Ed25519 => "ed25519",
        }
    }

    /// Parses a wire name (exact, lowercase).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "secp256k1" => Some(Curve::Secp256k1),
            "ed25519" => Some(Curve::Ed25519),
            _ => None,
        }
    }
}

/// What the imported key may be used for (lowercase text on the wire and in `info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyPurpose {
    /// Transactions, EIP-191 and EIP-712 (secp256k1 only; the enclave enforces the pairing).
    Ethereum,
    /// `sign_digest` only.
    Raw,
}

impl KeyPurpose {
    /// The wire name: `ethereum` or `raw`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Ethereum => "ethereum",
            KeyPurpose::Raw => "raw",
        }
    }

    /// Parses a wire name (exact, lowercase).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ethereum" => Some(KeyPurpose::Ethereum),
            "raw" => Some(KeyPurpose::Raw),
            _ => None,
        }
    }
}

/// Everything an import is bound to. The enclave builds it from the authenticated principal
/// and the `import_key` arguments, never from anything the host adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportContext {
    /// The principal that imports the key (the configuration's principal id).
    pub principal: String,
    /// The key's label.
    pub label: String,
    /// The key's curve.
    pub curve: Curve,
    /// The key's purpose.
    pub purpose: KeyPurpose,
}

impl ImportContext {
    /// The HPKE `info`: [`INFO_TAG`] followed by the canonical CBOR map of the four fields.
    pub fn info(&self) -> Vec<u8> {
        let fields = [
            ("curve", self.curve.as_str()),
            ("label", self.label.as_str()),
            ("principal", self.principal.as_str()),
            ("purpose", self.purpose.as_str()),
        ];
        // Sort by the encoded key bytes (RFC 8949 §4.2.1), whatever order the list above has.
        let mut entries: Vec<(Vec<u8>, Value, Value)> = fields
            .iter()
            .map(|(key, value)| {
                (encode(&Value::Text((*key).into())), Value::Text((*key).into()), Value::Text((*value).into()))
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let map = Value::Map(entries.into_iter().map(|(_, key, value)| (key, value)).collect());
        let mut info = INFO_TAG.to_vec();
        info.extend_from_slice(&encode(&map));
        info
    }
}

/// CBOR bytes of a value; ciborium writes definite lengths and the shortest heads.
fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and a tree of text strings always serializes.
    ciborium::into_writer(value, &mut out).expect("CBOR of text strings into a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ImportContext {
        ImportContext {
            principal: "dev-client".into(),
            label: "treasury".into(),
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Ethereum,
        }
    }

    #[test]
    fn info_is_tag_then_canonical_map_in_encoded_key_order() {
        let mut expected = INFO_TAG.to_vec();
        expected.push(0xa4); // map(4)
        for (key, value) in
            [("curve", "secp256k1"), ("label", "treasury"), ("purpose", "ethereum"), ("principal", "dev-client")]
        {
            expected.push(0x60 + key.len() as u8);
            expected.extend_from_slice(key.as_bytes());
            expected.push(0x60 + value.len() as u8);
            expected.extend_from_slice(value.as_bytes());
        }
        assert_eq!(context().info(), expected);
    }

    #[test]
    fn long_text_uses_the_shortest_length_head() {
        let mut ctx = context();
        ctx.label = "x".repeat(24);
        let info = ctx.info();
        let needle = [&[0x78u8, 24][..], "x".repeat(24).as_bytes()].concat();
        assert!(info.windows(needle.len()).any(|w| w == needle.as_slice()));
        ctx.label = "y".repeat(300);
        let info = ctx.info();
        let needle = [&[0x79u8, 0x01, 0x2c][..], "y".repeat(300).as_bytes()].concat();
        assert!(info.windows(needle.len()).any(|w| w == needle.as_slice()));
    }

    #[test]
    fn names_round_trip() {
        for curve in [Curve::Secp256k1, Curve::Ed25519] {
            assert_eq!(Curve::from_name(curve.as_str()), Some(curve));
        }
        for purpose in [KeyPurpose::Ethereum, KeyPurpose::Raw] {
            assert_eq!(KeyPurpose::from_name(purpose.as_str()), Some(purpose));
        }
        assert_eq!(Curve::from_name("Secp256k1"), None);
        assert_eq!(KeyPurpose::from_name("eth"), None);
    }
}
