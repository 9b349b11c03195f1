//! Public keys of admins and principals, and the one verification rule per
//! algorithm (docs/configuration.md, "Algorithms"). Every algorithm signs a
//! 32-byte digest and every signature is 64 bytes:
//!
//! - `ed25519`: 32-byte key; RFC 8032 over the digest as the message,
//!   `ed25519-dalek`'s `verify_strict` (no small-order keys, canonical `S`).
//! - `p256`: SEC1 key (33 or 65 bytes); ECDSA `r || s` over the digest as a
//!   prehash (RustCrypto `p256`, `verify_prehash`); either S is accepted.
//! - `secp256k1`: SEC1 key (33 or 65 bytes); compact ECDSA `r || s` over the
//!   digest (libsecp256k1 through `sentinel-signer`), S normalised before
//!   verifying, so high-S is accepted (replay is the nonces' job, not S's).
//!
//! Keys are parsed once, when the configuration is decoded, so an invalid
//! point is a configuration error, never a failed verification later.

use core::fmt;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sentinel_signer::secp256k1 as k1;

/// Length of every signature this crate verifies or makes.
pub const SIGNATURE_LEN: usize = 64;

/// A signature algorithm of admins and principals: `ed25519` (RFC 8032,
/// `ed25519-dalek` strict verification), `p256` (RustCrypto `p256`, ECDSA over
/// the digest as prehash) or `secp256k1` (libsecp256k1, S normalised).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    Ed25519,
    P256,
    Secp256k1,
}

impl Alg {
    /// Every algorithm, in the order of docs/configuration.md.
    pub const ALL: [Alg; 3] = [Alg::Ed25519, Alg::P256, Alg::Secp256k1];

    /// The name used in CBOR and JSON (`ed25519`, `p256`, `secp256k1`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Alg::Ed25519 => "ed25519",
            Alg::P256 => "p256",
            Alg::Secp256k1 => "secp256k1",
        }
    }

    /// The algorithm of a name; `None` for anything else (names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|alg| alg.as_str() == name)
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a public key was refused: its length (with what was expected) or its point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyProblem {
    Length { expected: &'static str, got: usize },
    InvalidPoint,
    WeakKey,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProblem::Length { expected, got } => write!(f, "{got} bytes, expected {expected}"),
            KeyProblem::InvalidPoint => f.write_str("not a valid point on the curve"),
            KeyProblem::WeakKey => f.write_str("a small-order point, which no strict verifier accepts"),
        }
    }
}

#[derive(Clone)]
enum Parsed {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    Secp256k1(k1::PublicKey),
}

/// A parsed public key. It keeps the bytes it was given (the configuration
/// re-encodes them unchanged) and compares by its normalised form, so one
/// point written compressed and uncompressed is the same key.
#[derive(Clone)]
pub struct PublicKey {
    alg: Alg,
    bytes: Vec<u8>,
    normalized: Vec<u8>,
    parsed: Parsed,
}

impl PublicKey {
    /// Parses `bytes` as a key of `alg` (lengths and point validity above).
    pub fn from_bytes(alg: Alg, bytes: &[u8]) -> Result<PublicKey, KeyProblem> {
        let sec1 = |got: usize| KeyProblem::Length { expected: "33 (compressed) or 65 (uncompressed) SEC1", got };
        let (parsed, normalized) = match alg {
            Alg::Ed25519 => {
                let array: &[u8; 32] =
                    bytes.try_into().map_err(|_| KeyProblem::Length { expected: "32", got: bytes.len() })?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(array).map_err(|_| KeyProblem::InvalidPoint)?;
                if key.is_weak() {
                    return Err(KeyProblem::WeakKey);
                }
                (Parsed::Ed25519(key), bytes.to_vec())
            }
            Alg::P256 => {
                if bytes.len() != 33 && bytes.len() != 65 {
                    return Err(sec1(bytes.len()));
                }
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| KeyProblem::InvalidPoint)?;
                let normalized = key.to_encoded_point(true).as_bytes().to_vec();
                (Parsed::P256(key), normalized)
            }
            Alg::Secp256k1 => {
                if bytes.len() != 33 && bytes.len() != 65 {
                    return Err(sec1(bytes.len()));
                }
                let key = k1::PublicKey::from_slice(bytes).map_err(|_| KeyProblem::InvalidPoint)?;
                (Parsed::Secp256k1(key), key.to_compressed().to_vec())
            }
        };
        Ok(PublicKey { alg, bytes: bytes.to_vec(), normalized, parsed })
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The bytes as written in the configuration.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The canonical identity of the key: Ed25519 bytes, or compressed SEC1.
    pub fn normalized(&self) -> &[u8] {
        &self.normalized
    }

    /// Whether `signature` (64 bytes, see the module doc) signs `digest`
    /// under this key. Any other length is `false`.
    pub fn verify(&self, digest: &[u8; 32], signature: &[u8]) -> bool {
        if signature.len() != SIGNATURE_LEN {
            return false;
        }
        match &self.parsed {
            Parsed::Ed25519(key) => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else { return false };
                key.verify_strict(digest, &sig).is_ok()
            }
            Parsed::P256(key) => {
                // r or s outside [1, n-1] is a signature that never verifies.
                let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else { return false };
                key.verify_prehash(digest, &sig).is_ok()
            }
            Parsed::Secp256k1(key) => k1::verify_plain(key, digest, signature).unwrap_or(false),
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg && self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, 0x{})", self.alg, hex::encode(&self.bytes))
    }
}
