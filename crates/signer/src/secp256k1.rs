//! secp256k1 ECDSA over 32-byte digests.
//!
//! Signing uses libsecp256k1's RFC 6979 (HMAC-SHA256) nonce with no extra
//! entropy, so a key and a digest always give the same signature; the output
//! is low-S normalised and carries the recovery id Ethereum needs. There are
//! two verifiers because two worlds disagree: [`verify_strict`] rejects high-S
//! signatures (Ethereum, EIP-2; Bitcoin, BIP 62/146), [`verify_plain`] accepts
//! either S (plain ECDSA, e.g. Wycheproof's generic vectors); [`verify`] picks
//! one from [`VerifyOptions`], whose default (strict) is decided here and
//! nowhere else. Public keys serialize compressed unless [`PublicKeyFormat`]
//! says otherwise. The one global
//! libsecp256k1 context is built once per process; building it costs more than
//! a signature.
use core::fmt;

use secp256k1::ecdsa::{RecoverableSignature, RecoveryId, Signature as EcdsaSignature};
use secp256k1::{Message, PublicKey as Secp256k1PublicKey, SecretKey as Secp256k1SecretKey, SECP256K1};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::Error;

/// Length of a compact `r || s` signature.
pub const SIGNATURE_LENGTH: usize = 64;
/// Length of a compressed SEC1 public key.
pub const COMPRESSED_PUBLIC_KEY_LENGTH: usize = 33;
/// Length of an uncompressed SEC1 public key (`0x04 || x || y`).
pub const UNCOMPRESSED_PUBLIC_KEY_LENGTH: usize = 65;

/// A secp256k1 secret key. `Debug` is redacted; the scalar is wiped on drop.
pub struct SecretKey(Secp256k1SecretKey);

impl SecretKey {
    /// Parses a 32-byte big-endian scalar in `[1, n-1]`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidSecretKey)?;
        Self::from_bytes(array)
    }

    /// Parses a 32-byte big-endian scalar in `[1, n-1]`; the argument is wiped.
    pub fn from_bytes(mut bytes: [u8; 32]) -> Result<Self, Error> {
        let parsed = Secp256k1SecretKey::from_byte_array(bytes).map_err(|_| Error::InvalidSecretKey);
        bytes.zeroize();
        parsed.map(SecretKey)
    }

    /// The public key for this secret.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(Secp256k1PublicKey::from_secret_key_global(&self.0))
    }

    /// Signs a 32-byte digest: RFC 6979 nonce, low-S, recovery id.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> RecoverableSig {
        let sig = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(*digest), &self.0);
        let (recid, bytes) = sig.serialize_compact();
        RecoverableSig { bytes, recovery_id: i32::from(recid) as u8 }
    }

    /// Constant-time equality, for tests and key-store deduplication.
    pub fn ct_eq(&self, other: &SecretKey) -> bool {
        let mut a = self.0.secret_bytes();
        let mut b = other.0.secret_bytes();
        let equal = a.ct_eq(&b).into();
        a.zeroize();
        b.zeroize();
        equal
    }

    /// Exposes the raw scalar. Named `hazmat_` because the caller now owns the
    /// duty to wipe it; used only to derive RFC 6979 nonces for test vectors.
    pub(crate) fn hazmat_secret_bytes(&self) -> [u8; 32] {
        self.0.secret_bytes()
    }

    /// The raw scalar, wiped when dropped: for sealing the key inside the enclave (encrypted
    /// under the master key before it leaves; docs/sealed-state.md) and nothing else.
    pub fn hazmat_sealing_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.secret_bytes())
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.non_secure_erase();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("secp256k1::SecretKey([REDACTED])")
    }
}

/// A secp256k1 public key, parsed from SEC1 compressed or uncompressed form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(Secp256k1PublicKey);

impl PublicKey {
    /// Parses a 33-byte compressed or 65-byte uncompressed SEC1 point.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        match bytes.len() {
            COMPRESSED_PUBLIC_KEY_LENGTH | UNCOMPRESSED_PUBLIC_KEY_LENGTH => {
                Secp256k1PublicKey::from_slice(bytes).map(PublicKey).map_err(|_| Error::InvalidPublicKey)
            }
            _ => Err(Error::InvalidPublicKey),
        }
    }

    pub fn to_compressed(&self) -> [u8; COMPRESSED_PUBLIC_KEY_LENGTH] {
        self.0.serialize()
    }

    pub fn to_uncompressed(&self) -> [u8; UNCOMPRESSED_PUBLIC_KEY_LENGTH] {
        self.0.serialize_uncompressed()
    }

    /// SEC1 bytes in `format` (33 bytes compressed, 65 uncompressed).
    pub fn serialize(&self, format: PublicKeyFormat) -> Vec<u8> {
        match format {
            PublicKeyFormat::Compressed => self.to_compressed().to_vec(),
            PublicKeyFormat::Uncompressed => self.to_uncompressed().to_vec(),
        }
    }
}

/// SEC1 encoding of a public key. Compressed by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublicKeyFormat {
    #[default]
    Compressed,
    Uncompressed,
}

impl PublicKeyFormat {
    /// The format a binding's optional `compressed` flag asks for; `None` is the default.
    pub fn from_compressed(compressed: Option<bool>) -> Self {
        match compressed {
            None => Self::default(),
            Some(true) => Self::Compressed,
            Some(false) => Self::Uncompressed,
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("secp256k1::PublicKey(")?;
        for b in self.to_compressed() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// A compact `r || s` signature (low-S) with its recovery id (0..=3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoverableSig {
    pub bytes: [u8; SIGNATURE_LENGTH],
    pub recovery_id: u8,
}

/// Converts a digest slice, naming the field when it has the wrong length.
pub fn digest_from_slice(digest: &[u8]) -> Result<&[u8; 32], Error> {
    digest.try_into().map_err(|_| Error::InvalidDigestLength)
}

fn compact_signature(signature: &[u8]) -> Result<Option<EcdsaSignature>, Error> {
    if signature.len() != SIGNATURE_LENGTH {
        return Err(Error::InvalidSignatureEncoding);
    }
    // r or s outside [1, n-1] is a well-formed but invalid signature: a verdict, not an error.
    Ok(EcdsaSignature::from_compact(signature).ok())
}

/// How [`verify`] treats signatures. The default is strict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Reject high-S signatures (Ethereum EIP-2, Bitcoin BIP 62/146). Default `true`.
    pub low_s: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { low_s: true }
    }
}

impl VerifyOptions {
    /// Options from a binding's optional fields: each `None` keeps the default.
    pub fn from_optional(low_s: Option<bool>) -> Self {
        let default = Self::default();
        VerifyOptions { low_s: low_s.unwrap_or(default.low_s) }
    }
}

/// Verifies a compact signature under `options`: [`verify_strict`] when
/// `low_s` is set, [`verify_plain`] otherwise.
pub fn verify(
    public_key: &PublicKey,
    digest: &[u8; 32],
    signature: &[u8],
    options: &VerifyOptions,
) -> Result<bool, Error> {
    if options.low_s {
        verify_strict(public_key, digest, signature)
    } else {
        verify_plain(public_key, digest, signature)
    }
}

/// Verifies a compact signature, rejecting high-S (Ethereum/Bitcoin rule).
pub fn verify_strict(public_key: &PublicKey, digest: &[u8; 32], signature: &[u8]) -> Result<bool, Error> {
    let Some(sig) = compact_signature(signature)? else { return Ok(false) };
    Ok(SECP256K1.verify_ecdsa(Message::from_digest(*digest), &sig, &public_key.0).is_ok())
}

/// Verifies a compact signature, accepting either S (plain ECDSA).
pub fn verify_plain(public_key: &PublicKey, digest: &[u8; 32], signature: &[u8]) -> Result<bool, Error> {
    let Some(mut sig) = compact_signature(signature)? else { return Ok(false) };
    sig.normalize_s();
    Ok(SECP256K1.verify_ecdsa(Message::from_digest(*digest), &sig, &public_key.0).is_ok())
}

/// Converts a strict-DER ECDSA signature to compact `r || s`.
///
/// `Ok(None)` means the encoding is valid DER but `r` or `s` is out of range
/// (a signature that can never verify); malformed DER is an error.
pub fn der_to_compact(der: &[u8]) -> Result<Option<[u8; SIGNATURE_LENGTH]>, Error> {
    let sig = EcdsaSignature::from_der(der).map_err(|_| Error::InvalidSignatureEncoding)?;
    let compact = sig.serialize_compact();
    // libsecp256k1 zeroes r and s it cannot represent, instead of failing.
    if compact[..32].iter().all(|b| *b == 0) || compact[32..].iter().all(|b| *b == 0) {
        return Ok(None);
    }
    Ok(Some(compact))
}

/// Recovers the signer's public key from a compact signature and recovery id.
pub fn recover_public_key(digest: &[u8; 32], signature: &[u8], recovery_id: u8) -> Result<PublicKey, Error> {
    if signature.len() != SIGNATURE_LENGTH {
        return Err(Error::InvalidSignatureEncoding);
    }
    let recid = RecoveryId::try_from(i32::from(recovery_id)).map_err(|_| Error::InvalidRecoveryId)?;
    let sig = RecoverableSignature::from_compact(signature, recid).map_err(|_| Error::InvalidSignatureEncoding)?;
    SECP256K1.recover_ecdsa(Message::from_digest(*digest), &sig).map(PublicKey).map_err(|_| Error::RecoveryFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secret() {
        let sk = SecretKey::from_slice(&[7u8; 32]).unwrap();
        let shown = format!("{sk:?}");
        assert!(shown.contains("REDACTED"));
        assert!(!shown.contains("0707"));
    }

    #[test]
    fn rejects_zero_and_order_and_wrong_length() {
        assert_eq!(SecretKey::from_slice(&[0u8; 32]).unwrap_err(), Error::InvalidSecretKey);
        let n = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
        assert_eq!(SecretKey::from_slice(&n).unwrap_err(), Error::InvalidSecretKey);
        assert_eq!(SecretKey::from_slice(&[1u8; 31]).unwrap_err(), Error::InvalidSecretKey);
    }

    #[test]
    fn sign_is_low_s_recoverable_and_verifies() {
        let sk = SecretKey::from_slice(&[0x11u8; 32]).unwrap();
        let pk = sk.public_key();
        for i in 0u8..32 {
            let digest = [i; 32];
            let sig = sk.sign_digest(&digest);
            assert!(sig.bytes[32] < 0x80, "s must be low");
            assert!(verify_strict(&pk, &digest, &sig.bytes).unwrap());
            assert_eq!(recover_public_key(&digest, &sig.bytes, sig.recovery_id).unwrap(), pk);
            assert_eq!(sk.sign_digest(&digest), sig, "deterministic");
        }
    }

    #[test]
    fn strict_rejects_high_s_plain_accepts() {
        let sk = SecretKey::from_slice(&[0x22u8; 32]).unwrap();
        let pk = sk.public_key();
        let digest = [0x33u8; 32];
        let sig = sk.sign_digest(&digest).bytes;
        let n = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
        // s' = n - s, big-endian subtraction.
        let mut high = sig;
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = n[i] as i16 - sig[32 + i] as i16 - borrow;
            borrow = i16::from(d < 0);
            high[32 + i] = (d + 256 * borrow) as u8;
        }
        assert!(!verify_strict(&pk, &digest, &high).unwrap());
        assert!(verify_plain(&pk, &digest, &high).unwrap());
        // The default policy is strict; `None` keeps it.
        assert!(!verify(&pk, &digest, &high, &VerifyOptions::default()).unwrap());
        assert!(!verify(&pk, &digest, &high, &VerifyOptions::from_optional(None)).unwrap());
        assert!(!verify(&pk, &digest, &high, &VerifyOptions::from_optional(Some(true))).unwrap());
        assert!(verify(&pk, &digest, &high, &VerifyOptions::from_optional(Some(false))).unwrap());
        assert!(verify(&pk, &digest, &sig, &VerifyOptions::default()).unwrap());
    }

    #[test]
    fn public_key_format_defaults_to_compressed() {
        let pk = SecretKey::from_slice(&[0x44u8; 32]).unwrap().public_key();
        assert_eq!(PublicKeyFormat::from_compressed(None), PublicKeyFormat::Compressed);
        assert_eq!(pk.serialize(PublicKeyFormat::from_compressed(None)), pk.to_compressed());
        assert_eq!(pk.serialize(PublicKeyFormat::from_compressed(Some(true))), pk.to_compressed());
        assert_eq!(pk.serialize(PublicKeyFormat::from_compressed(Some(false))), pk.to_uncompressed());
    }

    #[test]
    fn wrong_lengths_are_errors_not_verdicts() {
        let pk = SecretKey::from_slice(&[1u8; 32]).unwrap().public_key();
        assert_eq!(verify_strict(&pk, &[0u8; 32], &[0u8; 63]).unwrap_err(), Error::InvalidSignatureEncoding);
        assert_eq!(PublicKey::from_slice(&[2u8; 32]).unwrap_err(), Error::InvalidPublicKey);
        assert_eq!(digest_from_slice(&[0u8; 31]).unwrap_err(), Error::InvalidDigestLength);
        // r = 0 is well-formed but never valid.
        assert!(!verify_plain(&pk, &[0u8; 32], &[0u8; 64]).unwrap());
    }
}
