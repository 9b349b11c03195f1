//! Why an oversight command or approval was refused. Every refusal has a
//! stable code (docs/oversight.md lists them) and a message naming the field.

sentinel_error::error_codes! {
    /// Why an oversight command, signature or approval was refused.
    #[non_exhaustive]
    pub enum OversightErrorCode {
        /// Not canonical CBOR / valid JSON, a field missing, unknown, of the wrong type or size,
        /// or a field the action does not take.
        Malformed = "OVERSIGHT_MALFORMED",
        /// A signature that does not verify with its signer's configured key.
        SignatureInvalid = "OVERSIGHT_SIGNATURE_INVALID",
        /// A signer that is not an overseer (or, for approvals, an approver) in the configuration.
        NotPermitted = "OVERSIGHT_NOT_PERMITTED",
        /// Fewer distinct valid signers than the action needs (resume: `resume_threshold`).
        QuorumNotMet = "OVERSIGHT_QUORUM_NOT_MET",
        /// The command's timestamp is outside the stamp window around the enclave's clock.
        Stale = "OVERSIGHT_STALE",
        /// This exact command was already accepted (same digest within the window).
        Replay = "OVERSIGHT_REPLAY",
        /// The replay guard is full; the enclave refuses rather than forget a live command.
        ReplayCacheFull = "OVERSIGHT_REPLAY_CACHE_FULL",
        /// A resume whose challenge is not the enclave's current one (unknown, used or expired).
        ChallengeInvalid = "OVERSIGHT_CHALLENGE_INVALID",
        /// No held request with this id.
        ApprovalUnknown = "APPROVAL_UNKNOWN",
        /// The held request expired before its approvals were complete.
        ApprovalExpired = "APPROVAL_EXPIRED",
        /// An approver rejected the held request.
        ApprovalRejected = "APPROVAL_REJECTED",
        /// The approval names another request digest than the held request's.
        ApprovalDigestMismatch = "APPROVAL_DIGEST_MISMATCH",
        /// As many requests are held as `max_pending` allows.
        ApprovalQueueFull = "APPROVAL_QUEUE_FULL",
    }
}

/// A refusal: code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OversightError {
    pub code: OversightErrorCode,
    pub message: String,
}

impl OversightError {
    pub fn new(code: OversightErrorCode, message: impl Into<String>) -> Self {
        OversightError { code, message: message.into() }
    }
}

impl sentinel_error::CodedError for OversightError {
    fn code(&self) -> &'static str {
        sentinel_error::Code::as_str(self.code)
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}

impl core::fmt::Display for OversightError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for OversightError {}
