//! The two fields the enclave puts in its attestation document, defined once
//! (the contract says so: every other piece reads these types). Both are a
//! version byte followed by fixed-size fields, so a verifier in any language
//! slices them without a parser:
//!
//! - `public_key` = [`AttestedKeys`], 129 bytes:
//!   `0x02 || receipt (Ed25519, 32) || session (X25519, 32) || import (X25519, 32)
//!   || audit (Ed25519, 32)`;
//! - `user_data` = [`UserData`], 65 bytes:
//!   `0x03 || config_hash (32) || policy_hash (32)`, where a `policy_hash` of
//!   32 zero bytes means that no policy is installed.
//!
//! Decoding checks the length and the version byte only (the earlier layouts,
//! the 97-byte `0x01` bundle without the audit key and the `user_data` layouts
//! `0x01` and `0x02 || config_hash`, are refused like any other version). X25519 public keys
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
    /// Ed25519 public key that signs the audit log's checkpoints (C2SP signed notes).
    pub audit: [u8; 32],
}

impl AttestedKeys {
    /// Version byte of the bundle.
    pub const VERSION: u8 = 0x02;
    /// Encoded length: version + four 32-byte keys.
    pub const LEN: usize = 129;

    /// `0x02 || receipt || session || import || audit`.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = Self::VERSION;
        out[1..33].copy_from_slice(&self.receipt);
        out[33..65].copy_from_slice(&self.session);
        out[65..97].copy_from_slice(&self.import);
        out[97..129].copy_from_slice(&self.audit);
        out
    }

    /// Parses the 129-byte bundle. Error: `ATTESTED_KEYS_MALFORMED` (wrong
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
                format!("public_key: attested key bundle version must be 0x02, got {:#04x}", bytes[0]),
            );
        }
        let key = |at: usize| -> [u8; 32] { bytes[at..at + 32].try_into().expect("32 bytes") };
        Ok(Self { receipt: key(1), session: key(33), import: key(65), audit: key(97) })
    }
}

/// The enclave's `user_data`: the hashes of the configuration and of the
/// policy it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserData {
    /// SHA-256 of the canonical CBOR of the configuration document.
    pub config_hash: [u8; 32],
    /// SHA-256 of the canonical JSON of the active policy; `None` when no
    /// policy is installed (encoded as 32 zero bytes, which no policy hashes to
    /// in practice: it would take a SHA-256 preimage of zero).
    pub policy_hash: Option<[u8; 32]>,
}

impl UserData {
    /// Version byte of `user_data`.
    pub const VERSION: u8 = 0x03;
    /// Encoded length: version + two 32-byte hashes.
    pub const LEN: usize = 65;

    /// `0x03 || config_hash || policy_hash` (zeros for no policy).
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = Self::VERSION;
        out[1..33].copy_from_slice(&self.config_hash);
        if let Some(policy_hash) = &self.policy_hash {
            out[33..65].copy_from_slice(policy_hash);
        }
        out
    }

    /// Parses the 65-byte `user_data`; an all-zero `policy_hash` is `None`.
    /// Error: `USER_DATA_MALFORMED` (wrong length or version).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let Ok(bytes) = <&[u8; Self::LEN]>::try_from(bytes) else {
            return err(
                ErrorCode::UserDataMalformed,
                format!("user_data must be {} bytes, got {}", Self::LEN, bytes.len()),
            );
        };
        if bytes[0] != Self::VERSION {
            return err(ErrorCode::UserDataMalformed, format!("user_data version must be 0x03, got {:#04x}", bytes[0]));
        }
        let config_hash: [u8; 32] = bytes[1..33].try_into().expect("32 bytes");
        let policy_hash: [u8; 32] = bytes[33..65].try_into().expect("32 bytes");
        Ok(Self { config_hash, policy_hash: (policy_hash != [0; 32]).then_some(policy_hash) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attested_keys_layout() {
        let keys = AttestedKeys { receipt: [1; 32], session: [2; 32], import: [3; 32], audit: [4; 32] };
        let bytes = keys.to_bytes();
        assert_eq!(bytes[0], 0x02);
        assert_eq!(&bytes[1..33], &[1; 32]);
        assert_eq!(&bytes[33..65], &[2; 32]);
        assert_eq!(&bytes[65..97], &[3; 32]);
        assert_eq!(&bytes[97..], &[4; 32]);
        assert_eq!(AttestedKeys::from_bytes(&bytes), Ok(keys));
        // The 97-byte version-1 bundle (no audit key) is refused by its length.
        for bad in [&bytes[..97], &bytes[..128], &[bytes.as_slice(), &[0]].concat()[..], &[]] {
            assert_eq!(AttestedKeys::from_bytes(bad).unwrap_err().code(), "ATTESTED_KEYS_MALFORMED");
        }
        let mut v1 = bytes;
        v1[0] = 0x01;
        let e = AttestedKeys::from_bytes(&v1).unwrap_err();
        assert_eq!(
            (e.code(), e.message()),
            ("ATTESTED_KEYS_MALFORMED", "public_key: attested key bundle version must be 0x02, got 0x01")
        );
    }

    #[test]
    fn user_data_layout() {
        let ud = UserData { config_hash: [7; 32], policy_hash: Some([9; 32]) };
        let bytes = ud.to_bytes();
        assert_eq!(bytes.len(), 65);
        assert_eq!(bytes[0], 0x03);
        assert_eq!(&bytes[1..33], &[7; 32]);
        assert_eq!(&bytes[33..], &[9; 32]);
        assert_eq!(UserData::from_bytes(&bytes), Ok(ud));
        // No policy: 32 zero bytes, and back.
        let none = UserData { config_hash: [7; 32], policy_hash: None };
        let zeros = none.to_bytes();
        assert_eq!(&zeros[33..], &[0; 32]);
        assert_eq!(UserData::from_bytes(&zeros), Ok(none));
        // A policy hash that is zero but for one byte is a policy hash.
        let mut almost = zeros;
        almost[64] = 1;
        assert!(UserData::from_bytes(&almost).unwrap().policy_hash.is_some());
        for bad in [&bytes[..64], &bytes[..33], &[bytes.as_slice(), &[0]].concat()[..], &[]] {
            let e = UserData::from_bytes(bad).unwrap_err();
            assert_eq!(e.code(), "USER_DATA_MALFORMED", "{} bytes", bad.len());
        }
        for version in [0x00, 0x01, 0x02, 0x04] {
            let mut other = bytes;
            other[0] = version;
            let e = UserData::from_bytes(&other).unwrap_err();
            assert_eq!(e.code(), "USER_DATA_MALFORMED");
            assert_eq!(e.message(), format!("user_data version must be 0x03, got {version:#04x}"));
        }
        // The earlier layout (0x02 || config_hash, 33 bytes) is refused by its length.
        let v2 = [&[0x02][..], &[7; 32]].concat();
        assert_eq!(UserData::from_bytes(&v2).unwrap_err().message(), "user_data must be 65 bytes, got 33");
    }
}
