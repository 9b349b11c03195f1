//! Every failure carries one of six stable codes (exported as string
//! constants at the crate root, for the enclave's code table and the bindings)
//! and a message that names what was wrong. Messages never echo frame bytes,
//! principal names or signatures: they are client-chosen, and a relayed error
//! must not become a channel for them.

sentinel_error::error_codes! {
    /// Why a handshake, authentication or frame was refused.
    #[non_exhaustive]
    pub enum ErrorCode {
        /// A handshake message was malformed or did not decrypt (wrong enclave
        /// key, wrong attestation hash, damaged message), or the handshake API
        /// was used out of order.
        HandshakeFailed = "SESSION_HANDSHAKE_FAILED",
        /// The authentication frame decrypted but is not the expected CBOR map,
        /// or a principal / signature is empty or over its cap.
        AuthMalformed = "SESSION_AUTH_MALFORMED",
        /// A frame failed to decrypt (tampered, replayed, reordered, dropped,
        /// injected or from another session), or an earlier one did: the session
        /// is dead for good.
        Broken = "SESSION_BROKEN",
        /// The server session outlived its lifetime.
        Expired = "SESSION_EXPIRED",
        /// A plaintext over [`crate::MAX_PLAINTEXT_LEN`] or a frame over
        /// [`crate::MAX_FRAME_LEN`].
        FrameTooLarge = "SESSION_FRAME_TOO_LARGE",
        /// The session was closed by its owner.
        Closed = "SESSION_CLOSED",
    }
}

/// A refusal: a stable [`ErrorCode`] plus a human-readable message.
pub type Error = sentinel_error::Coded<ErrorCode>;

/// Shorthand used across the crate.
pub(crate) fn err<T>(kind: ErrorCode, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::new(kind, message))
}
