//! Errors of the signing core.
//!
//! Codes are part of the public contract (they cross FFI as `{code, message}`),
//! so variants are never renamed. Messages name the offending field but never
//! carry key material.
use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A secret key is not 32 bytes or is not in `[1, n-1]`.
    InvalidSecretKey,
    /// A public key does not parse as a SEC1 point on the curve (or an Ed25519 point).
    InvalidPublicKey,
    /// A digest is not exactly 32 bytes.
    InvalidDigestLength,
    /// A signature has the wrong length or encoding (not a verdict on its validity).
    InvalidSignatureEncoding,
    /// A recovery id outside 0..=3.
    InvalidRecoveryId,
    /// Public key recovery found no key for this signature and digest.
    RecoveryFailed,
}

impl Error {
    pub const fn code(self) -> &'static str {
        match self {
            Error::InvalidSecretKey => "INVALID_SECRET_KEY",
            Error::InvalidPublicKey => "INVALID_PUBLIC_KEY",
            Error::InvalidDigestLength => "INVALID_DIGEST_LENGTH",
            Error::InvalidSignatureEncoding => "INVALID_SIGNATURE_ENCODING",
            Error::InvalidRecoveryId => "INVALID_RECOVERY_ID",
            Error::RecoveryFailed => "RECOVERY_FAILED",
        }
    }

    pub const fn message(self) -> &'static str {
        match self {
            Error::InvalidSecretKey => "secretKey: must be 32 bytes encoding an integer in [1, n-1]",
            Error::InvalidPublicKey => "publicKey: not a valid encoded curve point",
            Error::InvalidDigestLength => "digest: must be exactly 32 bytes",
            Error::InvalidSignatureEncoding => "signature: wrong length or encoding",
            Error::InvalidRecoveryId => "recoveryId: must be 0, 1, 2 or 3",
            Error::RecoveryFailed => "signature: no public key recovers from this signature and digest",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl core::error::Error for Error {}

impl sentinel_error::CodedError for Error {
    fn code(&self) -> &'static str {
        Error::code(*self)
    }
    fn message(&self) -> String {
        Error::message(*self).into()
    }
}
