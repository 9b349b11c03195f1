//! Every rejection carries a stable SCREAMING_SNAKE code so that callers in
//! Rust, Node and the browser can branch on the same string, and a message
//! that names the offending field or certificate so a human can tell what went
//! wrong. Codes are part of the public contract (crates/attestation/README.md
//! lists them); messages are not and may change.

use core::fmt;

/// Why a document (or an expectation check) was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    DocumentTooLarge,
    MalformedCbor,
    TrailingBytes,
    DuplicateKey,
    InvalidCoseStructure,
    InvalidProtectedHeader,
    InvalidUnprotectedHeader,
    MissingField,
    InvalidField,
    FieldTooLarge,
    UnsupportedDigest,
    TimestampZero,
    CertificateTooLarge,
    InvalidTrustedRoot,
    InvalidCertificate,
    UnsupportedCertificateAlgorithm,
    UnsupportedPublicKey,
    UnsupportedCriticalExtension,
    RootMismatch,
    ChainNameMismatch,
    NotACa,
    BasicConstraintsNotCritical,
    CaKeyUsageInvalid,
    PathLengthExceeded,
    LeafIsCa,
    LeafKeyUsageInvalid,
    CertificateSignatureInvalid,
    CertificateNotValidAtTime,
    SignatureInvalid,
    DebugModeEnclave,
    InvalidTime,
    InvalidExpectation,
    EmptyExpectation,
    PcrMismatch,
    NonceMismatch,
    UserDataMismatch,
    PublicKeyMismatch,
    TimestampTooOld,
    TimestampInFuture,
}

impl ErrorCode {
    /// Every code, in the order of the README table.
    pub const ALL: &'static [ErrorCode] = &[
        Self::DocumentTooLarge,
        Self::MalformedCbor,
        Self::TrailingBytes,
        Self::DuplicateKey,
        Self::InvalidCoseStructure,
        Self::InvalidProtectedHeader,
        Self::InvalidUnprotectedHeader,
        Self::MissingField,
        Self::InvalidField,
        Self::FieldTooLarge,
        Self::UnsupportedDigest,
        Self::TimestampZero,
        Self::CertificateTooLarge,
        Self::InvalidTrustedRoot,
        Self::InvalidCertificate,
        Self::UnsupportedCertificateAlgorithm,
        Self::UnsupportedPublicKey,
        Self::UnsupportedCriticalExtension,
        Self::RootMismatch,
        Self::ChainNameMismatch,
        Self::NotACa,
        Self::BasicConstraintsNotCritical,
        Self::CaKeyUsageInvalid,
        Self::PathLengthExceeded,
        Self::LeafIsCa,
        Self::LeafKeyUsageInvalid,
        Self::CertificateSignatureInvalid,
        Self::CertificateNotValidAtTime,
        Self::SignatureInvalid,
        Self::DebugModeEnclave,
        Self::InvalidTime,
        Self::InvalidExpectation,
        Self::EmptyExpectation,
        Self::PcrMismatch,
        Self::NonceMismatch,
        Self::UserDataMismatch,
        Self::PublicKeyMismatch,
        Self::TimestampTooOld,
        Self::TimestampInFuture,
    ];

    /// The stable string form, e.g. `"SIGNATURE_INVALID"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DocumentTooLarge => "DOCUMENT_TOO_LARGE",
            Self::MalformedCbor => "MALFORMED_CBOR",
            Self::TrailingBytes => "TRAILING_BYTES",
            Self::DuplicateKey => "DUPLICATE_KEY",
            Self::InvalidCoseStructure => "INVALID_COSE_STRUCTURE",
            Self::InvalidProtectedHeader => "INVALID_PROTECTED_HEADER",
            Self::InvalidUnprotectedHeader => "INVALID_UNPROTECTED_HEADER",
            Self::MissingField => "MISSING_FIELD",
            Self::InvalidField => "INVALID_FIELD",
            Self::FieldTooLarge => "FIELD_TOO_LARGE",
            Self::UnsupportedDigest => "UNSUPPORTED_DIGEST",
            Self::TimestampZero => "TIMESTAMP_ZERO",
            Self::CertificateTooLarge => "CERTIFICATE_TOO_LARGE",
            Self::InvalidTrustedRoot => "INVALID_TRUSTED_ROOT",
            Self::InvalidCertificate => "INVALID_CERTIFICATE",
            Self::UnsupportedCertificateAlgorithm => "UNSUPPORTED_CERTIFICATE_ALGORITHM",
            Self::UnsupportedPublicKey => "UNSUPPORTED_PUBLIC_KEY",
            Self::UnsupportedCriticalExtension => "UNSUPPORTED_CRITICAL_EXTENSION",
            Self::RootMismatch => "ROOT_MISMATCH",
            Self::ChainNameMismatch => "CHAIN_NAME_MISMATCH",
            Self::NotACa => "NOT_A_CA",
            Self::BasicConstraintsNotCritical => "BASIC_CONSTRAINTS_NOT_CRITICAL",
            Self::CaKeyUsageInvalid => "CA_KEY_USAGE_INVALID",
            Self::PathLengthExceeded => "PATH_LENGTH_EXCEEDED",
            Self::LeafIsCa => "LEAF_IS_CA",
            Self::LeafKeyUsageInvalid => "LEAF_KEY_USAGE_INVALID",
            Self::CertificateSignatureInvalid => "CERTIFICATE_SIGNATURE_INVALID",
            Self::CertificateNotValidAtTime => "CERTIFICATE_NOT_VALID_AT_TIME",
            Self::SignatureInvalid => "SIGNATURE_INVALID",
            Self::DebugModeEnclave => "DEBUG_MODE_ENCLAVE",
            Self::InvalidTime => "INVALID_TIME",
            Self::InvalidExpectation => "INVALID_EXPECTATION",
            Self::EmptyExpectation => "EMPTY_EXPECTATION",
            Self::PcrMismatch => "PCR_MISMATCH",
            Self::NonceMismatch => "NONCE_MISMATCH",
            Self::UserDataMismatch => "USER_DATA_MISMATCH",
            Self::PublicKeyMismatch => "PUBLIC_KEY_MISMATCH",
            Self::TimestampTooOld => "TIMESTAMP_TOO_OLD",
            Self::TimestampInFuture => "TIMESTAMP_IN_FUTURE",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection: a stable [`ErrorCode`] plus a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorCode,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorCode, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The stable code, e.g. `"SIGNATURE_INVALID"`.
    pub fn code(&self) -> &'static str {
        self.kind.as_str()
    }

    /// The code as an enum, for exhaustive matching in Rust.
    pub fn kind(&self) -> ErrorCode {
        self.kind
    }

    /// What was wrong, naming the field or certificate. Not stable.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand used across the crate.
pub(crate) fn err<T>(kind: ErrorCode, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::new(kind, message))
}

impl sentinel_error::CodedError for Error {
    fn code(&self) -> &'static str {
        Error::code(self)
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}
