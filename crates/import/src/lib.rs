//! Encrypted key import: a client seals a private key to the enclave's attested X25519
//! `import_key` with HPKE (RFC 9180), and only the enclave opens it.
//!
//! Decides: the one HPKE suite (base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! AES-128-GCM; the same as `@hpke/core`'s `DhkemX25519HkdfSha256` / `HkdfSha256` / `Aes128Gcm`),
//! the `info` that binds a sealed key to its principal, label, curve and purpose
//! ([`ImportContext::info`]), the empty `aad`, the exact blob shape (32-byte `enc`, 48-byte
//! ciphertext: a 32-byte key and the 16-byte tag) and whether the plaintext is a valid key for
//! its curve. Trusts: the `hpke` crate (rozbb/rust-hpke) for the HPKE construction, libsecp256k1
//! (the `secp256k1` crate) for the scalar range check, and the caller for the context: the
//! enclave must build it from the principal it authenticated, never from host-supplied names.
//! Reads no clock and no entropy source: [`seal_import`] takes its RNG from the caller.
#![forbid(unsafe_code)]

extern crate alloc;

mod context;
mod error;

pub use context::{Curve, ImportContext, KeyPurpose, INFO_TAG, MAX_INFO_LEN};
pub use error::{code, ImportError};
/// The `rand_core` (0.10) whose [`rand_core::CryptoRng`] [`seal_import`] takes.
pub use hpke::rand_core;

use core::fmt;

use hpke::aead::{AeadTag, AesGcm128};
use hpke::inout::InOutBuf;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, HpkeError, Kem as _, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRng;
use zeroize::Zeroize;

type Kem = X25519HkdfSha256;
type Kdf = HkdfSha256;
type Aead = AesGcm128;

/// RFC 9180 identifiers of the suite: KEM DHKEM(X25519, HKDF-SHA256).
pub const KEM_ID: u16 = 0x0020;
/// KDF HKDF-SHA256.
pub const KDF_ID: u16 = 0x0001;
/// AEAD AES-128-GCM.
pub const AEAD_ID: u16 = 0x0001;
/// The AEAD's associated data: empty. Everything bound travels in `info`.
pub const AAD: &[u8] = b"";
/// Length of `enc`, the encapsulated X25519 public key.
pub const ENC_LEN: usize = 32;
/// Length of an imported secret key (secp256k1 scalar or Ed25519 seed).
pub const SECRET_KEY_LEN: usize = 32;
/// Length of the AES-GCM tag.
pub const TAG_LEN: usize = 16;
/// Length of the ciphertext: the sealed key followed by the tag.
pub const CIPHERTEXT_LEN: usize = SECRET_KEY_LEN + TAG_LEN;

/// The enclave's X25519 import secret. Any 32 bytes are one (X25519 clamps). `Debug` is
/// redacted; the scalar is wiped on drop (x25519-dalek's `StaticSecret`, zeroize-on-drop).
pub struct ImportSecret {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: [u8; 32],
}

impl ImportSecret {
    /// The secret from 32 bytes the caller drew from its entropy source (and wipes).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        // X25519 private keys deserialize from any 32 bytes; the error arm is unreachable.
        let secret = <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).expect("any 32 bytes are an X25519 secret");
        let mut public = [0u8; 32];
        public.copy_from_slice(&Kem::sk_to_pk(&secret).to_bytes());
        ImportSecret { secret, public }
    }

    /// The X25519 public key clients seal to (the `import_key` of the attested key bundle).
    pub fn public(&self) -> [u8; 32] {
        self.public
    }
}

impl fmt::Debug for ImportSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ImportSecret([REDACTED])")
    }
}

/// A decrypted secret key, checked for its curve. Boxed, so moving it moves a pointer and not
/// the key; wiped on drop; `Debug` is redacted.
pub struct ImportedSecretKey {
    bytes: Box<[u8; SECRET_KEY_LEN]>,
    curve: Curve,
}

impl ImportedSecretKey {
    /// The 32 secret bytes (secp256k1 big-endian scalar or Ed25519 seed). The caller builds its
    /// key type from them without copying them anywhere it does not wipe.
    pub fn expose_secret(&self) -> &[u8; SECRET_KEY_LEN] {
        &self.bytes
    }

    /// The curve the key was checked for (the context's).
    pub fn curve(&self) -> Curve {
        self.curve
    }
}

impl Drop for ImportedSecretKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for ImportedSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImportedSecretKey({}, [REDACTED])", self.curve.as_str())
    }
}

/// Opens a sealed key inside the enclave. `enc` and `ciphertext` come from the client (through
/// the untrusted host); `context` from what the enclave authenticated.
///
/// Errors: [`ImportError::Malformed`] when `enc` is not 32 bytes, `ciphertext` not 48 or the
/// context's `info` longer than [`MAX_INFO_LEN`]; [`ImportError::DecryptionFailed`] for every
/// failure of HPKE itself (one code, one message); [`ImportError::KeyInvalid`] when the
/// plaintext is not a valid key for `context.curve`.
pub fn open_import(
    secret: &ImportSecret,
    context: &ImportContext,
    enc: &[u8],
    ciphertext: &[u8],
) -> Result<ImportedSecretKey, ImportError> {
    if enc.len() != ENC_LEN {
        return Err(ImportError::Malformed("enc: must be 32 bytes (an X25519 public key)"));
    }
    if ciphertext.len() != CIPHERTEXT_LEN {
        return Err(ImportError::Malformed("ciphertext: must be 48 bytes (a 32-byte key and a 16-byte tag)"));
    }
    let info = checked_info(context)?;
    let (sealed, tag) = ciphertext.split_at(SECRET_KEY_LEN);
    let mut bytes = Box::new([0u8; SECRET_KEY_LEN]);
    bytes.copy_from_slice(sealed);
    let mut key = ImportedSecretKey { bytes, curve: context.curve };
    // On failure `key` drops here and wipes whatever the AEAD left in the buffer.
    open_in_place(secret, &info, enc, AAD, &mut key.bytes[..], tag).map_err(|_| ImportError::DecryptionFailed)?;
    check_key(context.curve, &key.bytes)?;
    Ok(key)
}

/// Seals `secret_key` to `recipient_public` for `context`: what a Rust client does with the
/// attested `import_key`. Returns `(enc, ciphertext)`. The ephemeral key comes from `rng`.
///
/// Errors: [`ImportError::KeyInvalid`] when `secret_key` is not a valid key for the curve
/// (nothing is sealed), [`ImportError::Malformed`] for an oversized context or a recipient key
/// of small order (X25519 gives an all-zero shared secret).
pub fn seal_import(
    recipient_public: &[u8; 32],
    context: &ImportContext,
    secret_key: &[u8; SECRET_KEY_LEN],
    rng: &mut impl CryptoRng,
) -> Result<([u8; ENC_LEN], [u8; CIPHERTEXT_LEN]), ImportError> {
    check_key(context.curve, secret_key)?;
    let info = checked_info(context)?;
    seal_with_tag(recipient_public, &info, secret_key, rng)
}

/// Seals a fixed-size plaintext; `C` must be `P` + the tag length. The ciphertext buffer is wiped
/// when sealing fails (it holds the plaintext until then).
fn seal_with_tag<const P: usize, const C: usize>(
    recipient_public: &[u8; 32],
    info: &[u8],
    plaintext: &[u8; P],
    rng: &mut impl CryptoRng,
) -> Result<([u8; ENC_LEN], [u8; C]), ImportError> {
    const { assert!(C == P + TAG_LEN) };
    let mut ciphertext = [0u8; C];
    let (buffer, tag_out) = ciphertext.split_at_mut(P);
    buffer.copy_from_slice(plaintext);
    match seal_in_place(recipient_public, info, AAD, buffer, rng) {
        Ok((enc, tag)) => {
            tag_out.copy_from_slice(&tag);
            Ok((enc, ciphertext))
        }
        Err(_) => {
            ciphertext.zeroize();
            Err(ImportError::Malformed("recipient_public: not a usable X25519 public key"))
        }
    }
}

fn checked_info(context: &ImportContext) -> Result<Vec<u8>, ImportError> {
    let info = context.info();
    if info.len() > MAX_INFO_LEN {
        return Err(ImportError::Malformed("context: principal and label exceed the 8 KiB info limit"));
    }
    Ok(info)
}

/// Whether 32 bytes are a secret key of `curve`: for secp256k1 a scalar in `[1, n-1]`
/// (libsecp256k1 decides), for Ed25519 any seed.
fn check_key(curve: Curve, bytes: &[u8; SECRET_KEY_LEN]) -> Result<(), ImportError> {
    match curve {
        Curve::Secp256k1 => match secp256k1::SecretKey::from_byte_array(*bytes) {
            Ok(mut parsed) => {
                parsed.non_secure_erase();
                Ok(())
            }
            Err(_) => Err(ImportError::KeyInvalid(Curve::Secp256k1)),
        },
        Curve::Ed25519 => Ok(()),
    }
}

/// HPKE single-shot open (base mode) of `buffer` in place, with the detached `tag`.
fn open_in_place(
    secret: &ImportSecret,
    info: &[u8],
    enc: &[u8],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8],
) -> Result<(), HpkeError> {
    let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)?;
    let tag = AeadTag::<Aead>::from_bytes(tag)?;
    hpke::single_shot_open_inout_detached::<Aead, Kdf, Kem>(
        &OpModeR::Base,
        &secret.secret,
        &encapped,
        info,
        InOutBuf::from(buffer),
        aad,
        &tag,
    )
}

/// HPKE single-shot seal (base mode) of `buffer` in place; returns `enc` and the tag.
fn seal_in_place(
    recipient_public: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    buffer: &mut [u8],
    rng: &mut impl CryptoRng,
) -> Result<([u8; ENC_LEN], [u8; TAG_LEN]), HpkeError> {
    let recipient = <Kem as hpke::Kem>::PublicKey::from_bytes(recipient_public)?;
    let (encapped, tag) = hpke::single_shot_seal_inout_detached_with_rng::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &recipient,
        info,
        InOutBuf::from(buffer),
        aad,
        rng,
    )?;
    let mut enc = [0u8; ENC_LEN];
    enc.copy_from_slice(&encapped.to_bytes());
    let mut tag_bytes = [0u8; TAG_LEN];
    tag_bytes.copy_from_slice(&tag.to_bytes());
    Ok((enc, tag_bytes))
}

/// Length of a forwarded sealing state: the 32-byte master key and the 32-byte lineage.
pub const FORWARD_PAYLOAD_LEN: usize = 64;
/// Length of a forwarded ciphertext: the payload and the tag.
pub const FORWARD_CIPHERTEXT_LEN: usize = FORWARD_PAYLOAD_LEN + TAG_LEN;
/// The `info` prefix of attested key forwarding (enclave to enclave, docs/sealed-state.md).
pub const FORWARD_INFO_TAG: &[u8] = b"sentinel/forward/v1\0";

/// The `info` of one forwarding: the tag, then SHA-256 of the sender's and the receiver's
/// attestation documents, so a sealed key opens only for the exchange both attested.
pub fn forward_info(sender_attestation_hash: &[u8; 32], receiver_attestation_hash: &[u8; 32]) -> Vec<u8> {
    [FORWARD_INFO_TAG, &sender_attestation_hash[..], &receiver_attestation_hash[..]].concat()
}

/// Seals a sealing state (master key ‖ lineage) to a peer enclave's attested import key, with the
/// same HPKE suite as key import. Returns `(enc, ciphertext)`; the ephemeral key comes from `rng`.
pub fn seal_forward(
    recipient_public: &[u8; 32],
    info: &[u8],
    payload: &[u8; FORWARD_PAYLOAD_LEN],
    rng: &mut impl CryptoRng,
) -> Result<([u8; ENC_LEN], [u8; FORWARD_CIPHERTEXT_LEN]), ImportError> {
    seal_with_tag(recipient_public, info, payload, rng)
}

/// Opens a forwarded sealing state inside the receiving enclave (wiped on drop).
pub fn open_forward(
    secret: &ImportSecret,
    info: &[u8],
    enc: &[u8],
    ciphertext: &[u8],
) -> Result<zeroize::Zeroizing<[u8; FORWARD_PAYLOAD_LEN]>, ImportError> {
    if enc.len() != ENC_LEN {
        return Err(ImportError::Malformed("enc: must be 32 bytes (an X25519 public key)"));
    }
    if ciphertext.len() != FORWARD_CIPHERTEXT_LEN {
        return Err(ImportError::Malformed("ciphertext: must be 80 bytes (a 64-byte payload and a 16-byte tag)"));
    }
    let (sealed, tag) = ciphertext.split_at(FORWARD_PAYLOAD_LEN);
    let mut payload = zeroize::Zeroizing::new([0u8; FORWARD_PAYLOAD_LEN]);
    payload.copy_from_slice(sealed);
    open_in_place(secret, info, enc, AAD, &mut payload[..], tag).map_err(|_| ImportError::DecryptionFailed)?;
    Ok(payload)
}

#[cfg(test)]
mod forward_tests {
    use super::*;

    struct Counter(u8);
    impl rand_core::TryRng for Counter {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(u32::from(self.next()))
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(u64::from(self.next()))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for b in dst {
                *b = self.next();
            }
            Ok(())
        }
    }
    impl Counter {
        fn next(&mut self) -> u8 {
            self.0 = self.0.wrapping_add(1);
            self.0
        }
    }
    impl rand_core::TryCryptoRng for Counter {}

    #[test]
    fn a_forwarded_state_opens_only_for_its_receiver_and_exchange() {
        let receiver = ImportSecret::from_bytes(&[5; 32]);
        let info = forward_info(&[1; 32], &[2; 32]);
        let (enc, ct) = seal_forward(&receiver.public(), &info, &[7; 64], &mut Counter(0)).unwrap();
        assert_eq!(*open_forward(&receiver, &info, &enc, &ct).unwrap(), [7; 64]);
        // Another exchange (other documents), another receiver, a flipped bit: one refusal.
        let other_info = forward_info(&[1; 32], &[3; 32]);
        assert!(matches!(open_forward(&receiver, &other_info, &enc, &ct), Err(ImportError::DecryptionFailed)));
        let other = ImportSecret::from_bytes(&[6; 32]);
        assert!(matches!(open_forward(&other, &info, &enc, &ct), Err(ImportError::DecryptionFailed)));
        let mut flipped = ct;
        flipped[3] ^= 1;
        assert!(matches!(open_forward(&receiver, &info, &enc, &flipped), Err(ImportError::DecryptionFailed)));
        assert!(matches!(open_forward(&receiver, &info, &enc, &ct[..79]), Err(ImportError::Malformed(_))));
    }
}

#[cfg(test)]
mod rfc9180;
