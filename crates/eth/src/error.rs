//! The one error type of the Ethereum layer.
//!
//! Bindings forward failures across FFI as `{code, message}`, so the code is a
//! stable SCREAMING_SNAKE string that callers may branch on, and the message
//! is for humans: it names the offending field (`"nonce: integer has leading
//! zero bytes"`) but never carries key material. Codes from the signing core
//! pass through unchanged so that a caller sees one vocabulary. The full
//! table lives in the crate README.
use core::fmt;

/// Stable error codes. Kept as constants so the decoder and the tests cannot
/// drift apart on spelling.
pub(crate) mod code {
    pub const EMPTY_INPUT: &str = "EMPTY_INPUT";
    pub const TRANSACTION_TOO_LARGE: &str = "TRANSACTION_TOO_LARGE";
    pub const UNSUPPORTED_TRANSACTION_TYPE: &str = "UNSUPPORTED_TRANSACTION_TYPE";
    pub const RLP_TRUNCATED: &str = "RLP_TRUNCATED";
    pub const NON_CANONICAL_RLP: &str = "NON_CANONICAL_RLP";
    pub const EXPECTED_LIST: &str = "EXPECTED_LIST";
    pub const EXPECTED_STRING: &str = "EXPECTED_STRING";
    pub const TRAILING_BYTES: &str = "TRAILING_BYTES";
    pub const WRONG_FIELD_COUNT: &str = "WRONG_FIELD_COUNT";
    pub const INTEGER_LEADING_ZERO: &str = "INTEGER_LEADING_ZERO";
    pub const INTEGER_OVERFLOW: &str = "INTEGER_OVERFLOW";
    pub const INVALID_TO_ADDRESS: &str = "INVALID_TO_ADDRESS";
    pub const INVALID_EIP155_TAIL: &str = "INVALID_EIP155_TAIL";
    pub const INVALID_ACCESS_LIST: &str = "INVALID_ACCESS_LIST";
    pub const UNSUPPORTED_RECOVERY_ID: &str = "UNSUPPORTED_RECOVERY_ID";
    pub const SIGNATURE_SELF_CHECK_FAILED: &str = "SIGNATURE_SELF_CHECK_FAILED";
    pub const INVALID_TYPED_DATA: &str = "INVALID_TYPED_DATA";
    pub const TYPED_DATA_DOMAIN_MISMATCH: &str = "TYPED_DATA_DOMAIN_MISMATCH";
    pub const TYPED_DATA_NOT_HASHABLE: &str = "TYPED_DATA_NOT_HASHABLE";
    pub const INVALID_SIGNATURE_V: &str = "INVALID_SIGNATURE_V";
    pub const SIGNATURE_HIGH_S: &str = "SIGNATURE_HIGH_S";
    pub const INVALID_TRANSACTION_JSON: &str = "INVALID_TRANSACTION_JSON";
}

/// A failure with a stable machine-readable code and a human message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: &'static str,
    message: String,
}

impl Error {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    /// The stable SCREAMING_SNAKE code (see the crate README for the table).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// A human-readable message naming the offending field.
    pub fn message(&self) -> String {
        self.message.clone()
    }
}

impl From<sentinel_signer::Error> for Error {
    fn from(err: sentinel_signer::Error) -> Self {
        Error::new(err.code(), err.message())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl sentinel_error::CodedError for Error {
    fn code(&self) -> &'static str {
        self.code
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}
