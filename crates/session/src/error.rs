//! Every failure carries one of six stable codes (exported as string
//! constants at the crate root, for the enclave's code table and the bindings)
//! and a message that names what was wrong. Messages never echo frame bytes,
//! principal names or signatures: they are client-chosen, and a relayed error
//! must not become a channel for them.

use core::fmt;

/// Why a handshake, authentication or frame was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A handshake message was malformed or did not decrypt (wrong enclave
    /// key, wrong attestation hash, damaged message), or the handshake API
    /// was used out of order.
    HandshakeFailed,
    /// The authentication frame decrypted but is not the expected CBOR map,
    /// or a principal / signature is empty or over its cap.
    AuthMalformed,
    /// A frame failed to decrypt (tampered, replayed, reordered, dropped,
    /// injected or from another session), or an earlier one did: the session
    /// is dead for good.
    Broken,
    /// The server session outlived its lifetime.
    Expired,
    /// A plaintext over [`crate::MAX_PLAINTEXT_LEN`] or a frame over
    /// [`crate::MAX_FRAME_LEN`].
    FrameTooLarge,
    /// The session was closed by its owner.
    Closed,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [ErrorCode] =
        &[Self::HandshakeFailed, Self::AuthMalformed, Self::Broken, Self::Expired, Self::FrameTooLarge, Self::Closed];

    /// The stable string form, e.g. `"SESSION_BROKEN"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HandshakeFailed => "SESSION_HANDSHAKE_FAILED",
            Self::AuthMalformed => "SESSION_AUTH_MALFORMED",
            Self::Broken => "SESSION_BROKEN",
            Self::Expired => "SESSION_EXPIRED",
            Self::FrameTooLarge => "SESSION_FRAME_TOO_LARGE",
            Self::Closed => "SESSION_CLOSED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: a stable [`ErrorCode`] plus a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorCode,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorCode, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The stable code, e.g. `"SESSION_BROKEN"`.
    pub fn code(&self) -> &'static str {
        self.kind.as_str()
    }

    /// The code as an enum, for exhaustive matching in Rust.
    pub fn kind(&self) -> ErrorCode {
        self.kind
    }

    /// What was wrong. Not stable.
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

impl sentinel_error::CodedError for Error {
    fn code(&self) -> &'static str {
        Error::code(self)
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}

/// Shorthand used across the crate.
pub(crate) fn err<T>(kind: ErrorCode, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::new(kind, message))
}
