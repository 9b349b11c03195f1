//! Ed25519 (RFC 8032) signing and verification.
//!
//! Keys are 32-byte seeds; signatures are deterministic by construction.
//! Verification uses `verify_strict`, which rejects small-order public keys and
//! non-canonical encodings, so one message has one valid signature per key.
use core::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::Error;

pub const SECRET_KEY_LENGTH: usize = 32;
pub const PUBLIC_KEY_LENGTH: usize = 32;
pub const SIGNATURE_LENGTH: usize = 64;

/// An Ed25519 signing key (seed). `Debug` is redacted; wiped on drop by `ed25519-dalek`.
pub struct SecretKey(SigningKey);

impl SecretKey {
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let seed: &[u8; SECRET_KEY_LENGTH] = bytes.try_into().map_err(|_| Error::InvalidSecretKey)?;
        Ok(SecretKey(SigningKey::from_bytes(seed)))
    }

    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LENGTH] {
        self.0.verifying_key().to_bytes()
    }

    /// The 32-byte seed, wiped when dropped: for sealing the key inside the enclave (encrypted
    /// under the master key before it leaves; docs/sealed-state.md) and nothing else.
    pub fn hazmat_sealing_bytes(&self) -> zeroize::Zeroizing<[u8; SECRET_KEY_LENGTH]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LENGTH] {
        self.0.sign(message).to_bytes()
    }

    /// The public key as SubjectPublicKeyInfo DER (RFC 8410), the form
    /// attestation documents and X.509 tooling carry.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        // Encoding a valid 32-byte key into a fixed 44-byte structure cannot fail.
        self.0.verifying_key().to_public_key_der().expect("Ed25519 SPKI encoding").into_vec()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ed25519::SecretKey([REDACTED])")
    }
}

/// Strict verification. Bad lengths or an invalid point are errors; a
/// well-formed signature that does not verify is `Ok(false)`.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, Error> {
    let pk: &[u8; PUBLIC_KEY_LENGTH] = public_key.try_into().map_err(|_| Error::InvalidPublicKey)?;
    let sig: &[u8; SIGNATURE_LENGTH] = signature.try_into().map_err(|_| Error::InvalidSignatureEncoding)?;
    let key = VerifyingKey::from_bytes(pk).map_err(|_| Error::InvalidPublicKey)?;
    let sig = ed25519_dalek::Signature::from_bytes(sig);
    Ok(key.verify_strict(message, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8032 section 7.1, TEST 1 and TEST 2.
    #[test]
    fn spki_is_the_rfc8410_structure() {
        let key = SecretKey::from_slice(&[7; 32]).unwrap();
        let spki = key.public_key_spki_der();
        // SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING { 0x00, key } } (RFC 8410 section 10.1).
        let prefix = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
        assert_eq!(&spki[..12], &prefix);
        assert_eq!(&spki[12..], &key.public_key());
    }

    #[test]
    fn rfc8032_vectors() {
        let cases = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
                "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            ),
        ];
        for (sk, pk, msg, sig) in cases {
            let key = SecretKey::from_slice(&hex::decode(sk).unwrap()).unwrap();
            let msg = hex::decode(msg).unwrap();
            assert_eq!(hex::encode(key.public_key()), pk);
            let got = key.sign(&msg);
            assert_eq!(hex::encode(got), sig);
            assert!(verify(&key.public_key(), &msg, &got).unwrap());
            let mut bad = got;
            bad[0] ^= 1;
            assert!(!verify(&key.public_key(), &msg, &bad).unwrap());
        }
    }

    #[test]
    fn lengths_are_checked() {
        assert_eq!(SecretKey::from_slice(&[0u8; 31]).unwrap_err(), Error::InvalidSecretKey);
        assert_eq!(verify(&[0u8; 31], b"", &[0u8; 64]).unwrap_err(), Error::InvalidPublicKey);
        assert!(format!("{:?}", SecretKey::from_slice(&[9u8; 32]).unwrap()).contains("REDACTED"));
    }
}
