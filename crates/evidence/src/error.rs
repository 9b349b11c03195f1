//! Every refusal carries a stable SCREAMING_SNAKE code (docs/receipts.md lists
//! them) and a message naming the field at fault. Failures of the attestation
//! document itself keep `sentinel-attestation`'s own codes unchanged, so a
//! caller sees `CERTIFICATE_NOT_VALID_AT_TIME` or `ROOT_MISMATCH` whether it
//! verified the document alone or through a receipt.

use core::fmt;

/// Why a key bundle, a `user_data`, a receipt or its binding was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `public_key` is absent, not 129 bytes, not version 0x02, or its receipt
    /// key is not an Ed25519 point.
    AttestedKeysMalformed,
    /// `user_data` is absent, not 65 bytes or not version 0x03.
    UserDataMalformed,
    /// The receipt is not the COSE_Sign1 this format defines, or its claims
    /// are not canonical CBOR of the defined shape.
    ReceiptMalformed,
    /// The Ed25519 signature does not verify with the attested receipt key.
    ReceiptSignatureInvalid,
    /// `attestation_hash` is not SHA-256 of the document given.
    ReceiptAttestationMismatch,
    /// `config_hash` differs from the document's `user_data` or from the
    /// caller's expected configuration hash.
    ReceiptConfigMismatch,
    /// The document's PCR0 is not the caller's expected one.
    ReceiptPcr0Mismatch,
    /// `policy_hash` differs from the document's `user_data`, or the
    /// document's policy is not the caller's expected one.
    ReceiptPolicyMismatch,
    /// The attestation document (or a time / expectation argument) was
    /// refused by `sentinel-attestation`; its code is passed through.
    Attestation(sentinel_attestation::ErrorCode),
}

impl ErrorCode {
    /// The codes this crate defines (the attestation codes come on top).
    pub const OWN: &'static [ErrorCode] = &[
        Self::AttestedKeysMalformed,
        Self::UserDataMalformed,
        Self::ReceiptMalformed,
        Self::ReceiptSignatureInvalid,
        Self::ReceiptAttestationMismatch,
        Self::ReceiptConfigMismatch,
        Self::ReceiptPcr0Mismatch,
        Self::ReceiptPolicyMismatch,
    ];

    /// The stable string form, e.g. `"RECEIPT_SIGNATURE_INVALID"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AttestedKeysMalformed => "ATTESTED_KEYS_MALFORMED",
            Self::UserDataMalformed => "USER_DATA_MALFORMED",
            Self::ReceiptMalformed => "RECEIPT_MALFORMED",
            Self::ReceiptSignatureInvalid => "RECEIPT_SIGNATURE_INVALID",
            Self::ReceiptAttestationMismatch => "RECEIPT_ATTESTATION_MISMATCH",
            Self::ReceiptConfigMismatch => "RECEIPT_CONFIG_MISMATCH",
            Self::ReceiptPcr0Mismatch => "RECEIPT_PCR0_MISMATCH",
            Self::ReceiptPolicyMismatch => "RECEIPT_POLICY_MISMATCH",
            Self::Attestation(code) => code.as_str(),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl sentinel_error::Code for ErrorCode {
    fn as_str(self) -> &'static str {
        ErrorCode::as_str(self)
    }
}

/// A refusal: a stable [`ErrorCode`] plus a message naming the field.
pub type Error = sentinel_error::Coded<ErrorCode>;

/// An attestation refusal as this crate's error: the same code (through
/// [`ErrorCode::Attestation`]) and the same message.
pub(crate) fn from_attestation(e: sentinel_attestation::Error) -> Error {
    Error::new(ErrorCode::Attestation(e.kind()), e.message())
}

/// Shorthand used across the crate.
pub(crate) fn err<T>(kind: ErrorCode, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::new(kind, message))
}

/// `RECEIPT_MALFORMED` with `message`.
pub(crate) fn malformed(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::ReceiptMalformed, message)
}
