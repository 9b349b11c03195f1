//! Every rejection carries a stable SCREAMING_SNAKE code so that callers in
//! Rust, Node and the browser can branch on the same string, and a message
//! that names the offending field or certificate so a human can tell what went
//! wrong. Codes are part of the public contract (crates/attestation/README.md
//! lists them); messages are not and may change.

sentinel_error::error_codes! {
    /// Why a document (or an expectation check) was rejected. `ALL` is in the
    /// order of the README table.
    #[non_exhaustive]
    pub enum ErrorCode {
        DocumentTooLarge = "DOCUMENT_TOO_LARGE",
        MalformedCbor = "MALFORMED_CBOR",
        TrailingBytes = "TRAILING_BYTES",
        DuplicateKey = "DUPLICATE_KEY",
        InvalidCoseStructure = "INVALID_COSE_STRUCTURE",
        InvalidProtectedHeader = "INVALID_PROTECTED_HEADER",
        InvalidUnprotectedHeader = "INVALID_UNPROTECTED_HEADER",
        MissingField = "MISSING_FIELD",
        InvalidField = "INVALID_FIELD",
        FieldTooLarge = "FIELD_TOO_LARGE",
        UnsupportedDigest = "UNSUPPORTED_DIGEST",
        TimestampZero = "TIMESTAMP_ZERO",
        CertificateTooLarge = "CERTIFICATE_TOO_LARGE",
        InvalidTrustedRoot = "INVALID_TRUSTED_ROOT",
        InvalidCertificate = "INVALID_CERTIFICATE",
        UnsupportedCertificateAlgorithm = "UNSUPPORTED_CERTIFICATE_ALGORITHM",
        UnsupportedPublicKey = "UNSUPPORTED_PUBLIC_KEY",
        UnsupportedCriticalExtension = "UNSUPPORTED_CRITICAL_EXTENSION",
        RootMismatch = "ROOT_MISMATCH",
        ChainNameMismatch = "CHAIN_NAME_MISMATCH",
        NotACa = "NOT_A_CA",
        BasicConstraintsNotCritical = "BASIC_CONSTRAINTS_NOT_CRITICAL",
        CaKeyUsageInvalid = "CA_KEY_USAGE_INVALID",
        PathLengthExceeded = "PATH_LENGTH_EXCEEDED",
        LeafIsCa = "LEAF_IS_CA",
        LeafKeyUsageInvalid = "LEAF_KEY_USAGE_INVALID",
        CertificateSignatureInvalid = "CERTIFICATE_SIGNATURE_INVALID",
        CertificateNotValidAtTime = "CERTIFICATE_NOT_VALID_AT_TIME",
        SignatureInvalid = "SIGNATURE_INVALID",
        DebugModeEnclave = "DEBUG_MODE_ENCLAVE",
        InvalidTime = "INVALID_TIME",
        InvalidExpectation = "INVALID_EXPECTATION",
        EmptyExpectation = "EMPTY_EXPECTATION",
        PcrMismatch = "PCR_MISMATCH",
        NonceMismatch = "NONCE_MISMATCH",
        UserDataMismatch = "USER_DATA_MISMATCH",
        PublicKeyMismatch = "PUBLIC_KEY_MISMATCH",
        TimestampTooOld = "TIMESTAMP_TOO_OLD",
        TimestampInFuture = "TIMESTAMP_IN_FUTURE",
    }
}

/// A rejection: a stable [`ErrorCode`] plus a human-readable message.
pub type Error = sentinel_error::Coded<ErrorCode>;

/// Shorthand used across the crate.
pub(crate) fn err<T>(kind: ErrorCode, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::new(kind, message))
}
