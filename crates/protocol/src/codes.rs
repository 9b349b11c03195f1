//! The enclave's own refusal codes: what `error` answers carry when the
//! request was well-formed but the enclave will not (or cannot) do it.
//!
//! Errors of the core libraries (`INVALID_DIGEST_LENGTH`, `INTEGER_LEADING_ZERO`,
//! ...) travel with their own codes; these are the ones the enclave program
//! decides itself. Codes are stable: hosts, metrics and clients match on them.
//! `docs/protocol.md` lists every one (a test checks it).

macro_rules! enclave_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal ),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EnclaveErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl EnclaveErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [EnclaveErrorCode] = &[$(EnclaveErrorCode::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EnclaveErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

enclave_codes! {
    /// No key with this id in this enclave.
    UnknownKey = "UNKNOWN_KEY",
    /// The key exists but its curve cannot do this operation.
    KeyCurveMismatch = "KEY_CURVE_MISMATCH",
    /// The enclave holds as many keys as it is configured to.
    KeyLimitReached = "KEY_LIMIT_REACHED",
    /// An attestation nonce that is empty or longer than `MAX_NONCE_BYTES`.
    InvalidNonce = "INVALID_NONCE",
    /// A key id longer than `MAX_KEY_ID_BYTES`.
    InvalidKeyId = "INVALID_KEY_ID",
    /// A `ping` payload longer than `MAX_PING_PAYLOAD_BYTES`.
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    /// Too many slow requests (attestation) in flight; retry later.
    EnclaveBusy = "ENCLAVE_BUSY",
    /// The enclave serves as many connections as it is configured to; this one is closed.
    TooManyConnections = "TOO_MANY_CONNECTIONS",
    /// A signature failed its own verification before release (never expected; nothing is returned).
    SignatureSelfCheckFailed = "SIGNATURE_SELF_CHECK_FAILED",
    /// An internal failure (a task died); the request may be retried.
    Internal = "INTERNAL",
}

impl core::fmt::Display for EnclaveErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An enclave refusal with its message: what the enclave turns into an `error` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnclaveError {
    pub code: EnclaveErrorCode,
    pub message: String,
}

impl EnclaveError {
    pub fn new(code: EnclaveErrorCode, message: impl Into<String>) -> Self {
        EnclaveError { code, message: message.into() }
    }
}

impl sentinel_error::CodedError for EnclaveError {
    fn code(&self) -> &'static str {
        self.code.as_str()
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}
