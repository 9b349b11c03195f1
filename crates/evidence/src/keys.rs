//! The two fields the enclave puts in its attestation document, defined once
//! (the contract says so: every other piece reads these types). Both are a
//! version byte followed by fixed-size fields, so a verifier in any language
//! slices them without a parser:
//!
//! - `public_key` = [`AttestedKeys`], 97 bytes:
//!   `0x01 || receipt (Ed25519, 32) || session (X25519, 32) || import (X25519, 32)`;
//! - `user_data` = [`UserData`], 33 bytes: `0x02 || config_hash (32)`.
//!
//! Decoding checks the length and the version byte only. X25519 public keys
//! are any 32 bytes; the receipt key is decompressed when a receipt is
//! verified (see `verify.rs`), where a non-point is `ATTESTED_KEYS_MALFORMED`.

use crate::error::{err, Error, ErrorCode};

/// The enclave's public keys, as the attestation document's `public_key` carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttestedKeys {
    /// Ed25519 public key that signs receipts.
    pub receipt: [u8; 32],
    /// X25519 public key of the session (Noise) handshake.
    pub session: [u8; 32],
    /// X25519 public key that key imports (HPKE) are encrypted to.
    pub import: [u8; 32],
}

impl AttestedKeys {
    /// Version byte of the bundle.
    pub const VERSION: u8 = 0x01;
    /// Encoded length: version + three 32-byte keys.
    pub const LEN: usize = 97;

    /// `0x01 || receipt || session || import`.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = Self::VERSION;
        out[1..33].copy_from_slice(&self.receipt);
        out[33..65].copy_from_slice(&self.session);
        out[65..97].copy_from_slice(&self.import);
        out
    }

    /// Parses the 97-byte bundle. Error: `ATTESTED_KEYS_MALFORMED` (wrong
    /// length or version).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let Ok(bytes) = <&[u8; Self::LEN]>::try_from(bytes) else {
            return err(
                ErrorCode::AttestedKeysMalformed,
                format!("public_key: attested key bundle must be {} bytes, got {}", Self::LEN, bytes.len()),
            );
        };
        if bytes[0] != Self::VERSION {
            return err(
                ErrorCode::AttestedKeysMalformed,
                format!("public_key: attested key bundle version must be 0x01, got {:#04x}", bytes[0]),
            );
        }
        let key = |at: usize| -> [u8; 32] { bytes[at..at + 32].try_into().expect("32 bytes") };
        Ok(Self { receipt: key(1), session: key(33), import: key(65) })
    }
}

/// The enclave's `user_data`: the hash of the configuration it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserData {
    /// SHA-256 of the canonical CBOR of the configuration document.
    pub config_hash: [u8; 32],
}

impl UserData {
    /// Version byte of `user_data`.
    pub const VERSION: u8 = 0x02;
    /// Encoded length: version + 32-byte hash.
    pub const LEN: usize = 33;

    /// `0x02 || config_hash`.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = Self::VERSION;
        out[1..].copy_from_slice(&self.config_hash);
        out
    }

    /// Parses the 33-byte `user_data`. Error: `USER_DATA_MALFORMED` (wrong
    /// length or version).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let Ok(bytes) = <&[u8; Self::LEN]>::try_from(bytes) else {
            return err(
                ErrorCode::UserDataMalformed,
                format!("user_data must be {} bytes, got {}", Self::LEN, bytes.len()),
            );
        };
        if bytes[0] != Self::VERSION {
            return err(ErrorCode::UserDataMalformed, format!("user_data version must be 0x02, got {:#04x}", bytes[0]));
        }
        Ok(Self { config_hash: bytes[1..].try_into().expect("32 bytes") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attested_keys_layout() {
        let keys = AttestedKeys { receipt: [1; 32], session: [2; 32], import: [3; 32] };
        let bytes = keys.to_bytes();
        assert_eq!(bytes[0], 0x01);
        assert_eq!(&bytes[1..33], &[1; 32]);
        assert_eq!(&bytes[33..65], &[2; 32]);
        assert_eq!(&bytes[65..], &[3; 32]);
        assert_eq!(AttestedKeys::from_bytes(&bytes), Ok(keys));
        for bad in [&bytes[..96], &[bytes.as_slice(), &[0]].concat()[..], &[]] {
            assert_eq!(AttestedKeys::from_bytes(bad).unwrap_err().code(), "ATTESTED_KEYS_MALFORMED");
        }
        let mut v2 = bytes;
        v2[0] = 0x02;
        let e = AttestedKeys::from_bytes(&v2).unwrap_err();
        assert_eq!(
            (e.code(), e.message()),
            ("ATTESTED_KEYS_MALFORMED", "public_key: attested key bundle version must be 0x01, got 0x02")
        );
    }

    #[test]
    fn user_data_layout() {
        let ud = UserData { config_hash: [7; 32] };
        let bytes = ud.to_bytes();
        assert_eq!(bytes[0], 0x02);
        assert_eq!(&bytes[1..], &[7; 32]);
        assert_eq!(UserData::from_bytes(&bytes), Ok(ud));
        assert_eq!(UserData::from_bytes(&bytes[..32]).unwrap_err().code(), "USER_DATA_MALFORMED");
        let mut v1 = bytes;
        v1[0] = 0x01; // the enclave's earlier layout
        assert_eq!(UserData::from_bytes(&v1).unwrap_err().code(), "USER_DATA_MALFORMED");
    }
}
