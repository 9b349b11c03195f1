//! The one error type of key import.
//!
//! Three codes, stable (they cross FFI and the wire as `{code, message}`). A failed decryption
//! has one code and one fixed message whatever went wrong (wrong recipient key, another
//! context, a flipped bit, an unusable `enc`), so the answer is no oracle. Messages never carry
//! key material or the client's context strings.
use alloc::string::String;
use core::fmt;

/// Stable codes, spelled once.
pub mod code {
    /// The blob did not open: wrong recipient key, another context, or tampered bytes.
    pub const IMPORT_DECRYPTION_FAILED: &str = "IMPORT_DECRYPTION_FAILED";
    /// The blob's shape is wrong (length of `enc` or `ciphertext`, oversized context, unusable
    /// recipient key when sealing).
    pub const IMPORT_MALFORMED: &str = "IMPORT_MALFORMED";
    /// The plaintext is not a valid secret key for the curve.
    pub const IMPORT_KEY_INVALID: &str = "IMPORT_KEY_INVALID";
}

/// Why an import did not produce a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportError {
    /// [`code::IMPORT_DECRYPTION_FAILED`].
    DecryptionFailed,
    /// [`code::IMPORT_MALFORMED`]; the text names the field.
    Malformed(&'static str),
    /// [`code::IMPORT_KEY_INVALID`].
    KeyInvalid(crate::Curve),
}

impl ImportError {
    /// The stable SCREAMING_SNAKE code.
    pub const fn code(&self) -> &'static str {
        match self {
            ImportError::DecryptionFailed => code::IMPORT_DECRYPTION_FAILED,
            ImportError::Malformed(_) => code::IMPORT_MALFORMED,
            ImportError::KeyInvalid(_) => code::IMPORT_KEY_INVALID,
        }
    }

    /// A human message naming the field.
    pub fn message(&self) -> String {
        match self {
            ImportError::DecryptionFailed => {
                "ciphertext: does not open with the enclave's import key and this context".into()
            }
            ImportError::Malformed(what) => (*what).into(),
            ImportError::KeyInvalid(crate::Curve::Secp256k1) => "secret key: not a secp256k1 scalar in [1, n-1]".into(),
            ImportError::KeyInvalid(crate::Curve::Ed25519) => "secret key: not a 32-byte Ed25519 seed".into(),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl core::error::Error for ImportError {}

impl sentinel_error::CodedError for ImportError {
    fn code(&self) -> &'static str {
        ImportError::code(self)
    }
    fn message(&self) -> String {
        ImportError::message(self)
    }
}
