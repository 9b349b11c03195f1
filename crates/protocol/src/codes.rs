//! The enclave's own refusal codes: what `error` answers carry when the
//! request was well-formed but the enclave will not (or cannot) do it.
//!
//! Errors of the core libraries (`INVALID_DIGEST_LENGTH`, `INTEGER_LEADING_ZERO`,
//! ...) travel with their own codes; these are the ones the enclave program
//! decides itself. Codes are stable: hosts, metrics and clients match on them.
//! `docs/protocol.md` lists every one (a test checks it).

sentinel_error::error_codes! {
    /// A refusal the enclave decides itself; `ALL` is in declaration order.
    #[non_exhaustive]
    pub enum EnclaveErrorCode {
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
        /// A `ping` payload longer than `MAX_PING_PAYLOAD_BYTES`, or a `sign_ed25519` message longer than `MAX_ED25519_MESSAGE_BYTES`.
        PayloadTooLarge = "PAYLOAD_TOO_LARGE",
        /// Too many slow requests (attestation) in flight; retry later.
        EnclaveBusy = "ENCLAVE_BUSY",
        /// The enclave serves as many connections as it is configured to; this one is closed.
        TooManyConnections = "TOO_MANY_CONNECTIONS",
        /// A signature failed its own verification before release (never expected; nothing is returned).
        SignatureSelfCheckFailed = "SIGNATURE_SELF_CHECK_FAILED",
        /// The host has not acknowledged enough audit records as durable (`audit_ack`): nothing
        /// more is signed until it does, so a host that stops storing the log stops signing.
        AuditBacklogFull = "AUDIT_BACKLOG_FULL",
        /// An `audit_read` from a sequence number the enclave no longer holds (already acknowledged) or has not made.
        AuditRangeUnavailable = "AUDIT_RANGE_UNAVAILABLE",
        /// An `audit_ack` of more records than exist, or fewer than already acknowledged.
        AuditAckInvalid = "AUDIT_ACK_INVALID",
        /// The audit log is not open yet (an enclave started with `--audit-resume` waits for
        /// `audit_resume_*` or `audit_start`): nothing is signed until it is.
        AuditLogNotOpen = "AUDIT_LOG_NOT_OPEN",
        /// A resume request out of order (no resume begun, one already finished, the log already open).
        AuditResumeState = "AUDIT_RESUME_STATE",
        /// The previous enclave's document does not attest the log: another image (PCR0), a debug
        /// enclave, a chain that does not reach the trusted root, or no audit key matching the checkpoint.
        AuditResumeAttestation = "AUDIT_RESUME_ATTESTATION",
        /// The log resumed from was kept under another configuration or policy than the ones in force.
        AuditResumeMismatch = "AUDIT_RESUME_MISMATCH",
        /// The log handed to a resume is older than a sealed snapshot this log's enclave made
        /// (its checkpoint ends before the snapshot's position, or has another root there):
        /// an old copy of the log, or one cut back.
        AuditResumeRollback = "AUDIT_RESUME_ROLLBACK",
        /// The records do not verify against the checkpoint (the code's message names the audit
        /// crate's code: modified, deleted, inserted, truncated...).
        AuditResumeInvalid = "AUDIT_RESUME_INVALID",
        /// An internal failure (a task died); the request may be retried.
        Internal = "INTERNAL",
        /// A key's purpose does not allow this operation (or this curve), e.g. a raw digest with an `ethereum` key.
        KeyPurposeMismatch = "KEY_PURPOSE_MISMATCH",
        /// A key label that is empty, too long or has characters outside `A-Z a-z 0-9 - _ . : /`.
        InvalidLabel = "INVALID_LABEL",
        /// The principal holds as many keys as its configuration quota allows.
        KeyQuotaExceeded = "KEY_QUOTA_EXCEEDED",
        /// The configuration does not let this principal perform this operation.
        OperationNotPermitted = "OPERATION_NOT_PERMITTED",
        /// The configuration does not let this principal use this key.
        KeyNotPermitted = "KEY_NOT_PERMITTED",
        /// A `stamped` request without a stamp.
        StampMissing = "STAMP_MISSING",
        /// The stamp names a principal the configuration does not know.
        UnknownPrincipal = "UNKNOWN_PRINCIPAL",
        /// The stamp's signature does not verify with the principal's configured keys.
        StampSignatureInvalid = "STAMP_SIGNATURE_INVALID",
        /// The stamp's timestamp is outside the window around the enclave's clock.
        StampExpired = "STAMP_EXPIRED",
        /// The stamp's nonce was already used within the window.
        StampReplayed = "STAMP_REPLAYED",
        /// The replay cache is full; the enclave refuses rather than forget a live nonce.
        ReplayCacheFull = "REPLAY_CACHE_FULL",
        /// A stamp with a field of the wrong size.
        StampMalformed = "STAMP_MALFORMED",
        /// No session with this id on this connection (sessions never move between connections).
        UnknownSession = "UNKNOWN_SESSION",
        /// The connection holds `MAX_SESSIONS_PER_CONNECTION` sessions.
        TooManySessions = "TOO_MANY_SESSIONS",
        /// The session handshake failed (wrong enclave key or attestation hash, or a damaged message).
        SessionHandshakeFailed = "SESSION_HANDSHAKE_FAILED",
        /// The session's first frame did not authenticate a configured principal.
        SessionAuthFailed = "SESSION_AUTH_FAILED",
        /// A frame failed to decrypt (tampered, replayed, reordered or injected); the session is closed.
        SessionBroken = "SESSION_BROKEN",
        /// The session outlived `session_max_lifetime_s`; open a new one.
        SessionExpired = "SESSION_EXPIRED",
        /// A configuration update with a version not above the current one.
        ConfigRollback = "CONFIG_ROLLBACK",
        /// A configuration update without signatures from the current admin threshold.
        ConfigQuorumNotMet = "CONFIG_QUORUM_NOT_MET",
        /// A configuration document that does not decode or breaks a rule (docs/configuration.md).
        ConfigInvalid = "CONFIG_INVALID",
        /// The enclave has no configuration yet (`update_config` installs the first one).
        NotConfigured = "NOT_CONFIGURED",
        /// An imported secret that is not a valid key for its curve.
        InvalidImportedKey = "INVALID_IMPORTED_KEY",
        /// An operation body that is not a well-formed operation.
        InvalidBody = "INVALID_BODY",
        /// No policy is installed: signing is refused until one is (`update_policy`, `--policy`).
        PolicyNotInstalled = "POLICY_NOT_INSTALLED",
        /// A policy rule denied the request (any deny wins; the receipt lists every rule's result).
        PolicyDenied = "POLICY_DENIED",
        /// No policy rule in scope applied to the request (default deny).
        PolicyNoMatch = "POLICY_NO_MATCH",
        /// A policy rule could not be evaluated (missing or stale price, model failure): denied.
        PolicyError = "POLICY_ERROR",
        /// The risk score requires human approval and the request could not be held for it
        /// (a dry run reports it; a signing request is held instead: `APPROVAL_PENDING`).
        PolicyApprovalRequired = "POLICY_APPROVAL_REQUIRED",
        /// The kill switch is Red for this request's global, key or principal scope: nothing is signed.
        KillSwitchHalted = "KILL_SWITCH_HALTED",
        /// The request is held for human approval (policy verdict or Yellow state); its answer is
        /// `approval_pending` and `approval_result` gives the outcome.
        ApprovalPending = "APPROVAL_PENDING",
        /// `sealed_load` after the enclave served its first key operation: sealed records are
        /// loaded at boot only, so a host cannot bring back a record later (a deleted key).
        SealLoadClosed = "SEAL_LOAD_CLOSED",
        /// A sealed configuration record that is not the configuration in force nor one it
        /// updates (signed by that configuration's admin quorum), or that would change the
        /// lineage after keys were loaded or created.
        SealConfigConflict = "SEAL_CONFIG_CONFLICT",
        /// A sealed key record for a key id the enclave already holds.
        SealRecordDuplicate = "SEAL_RECORD_DUPLICATE",
        /// A sealed record of a kind `sealed_load` does not take, or whose plaintext does not decode.
        SealRecordUnsupported = "SEAL_RECORD_UNSUPPORTED",
        /// A state snapshot would exceed the largest sealed record one frame carries; the whole
        /// log is replayed at the next restart instead (docs/sealed-state.md).
        SealSnapshotTooLarge = "SEAL_SNAPSHOT_TOO_LARGE",
        /// A sealed snapshot of another log, or of a log position this enclave cannot use.
        SealSnapshotMismatch = "SEAL_SNAPSHOT_MISMATCH",
        /// Sealing is `none` (keys live in memory only): there is nothing to seal or load.
        SealingDisabled = "SEALING_DISABLED",
        /// The enclave waits for its master key from a running enclave (attested forwarding):
        /// no key is created or loaded until `forward_accept` brings it.
        SealingKeyAbsent = "SEALING_KEY_ABSENT",
        /// A peer's attestation document does not verify: chain to the trusted root, signature,
        /// validity now, debug mode, or no key bundle / configuration in it.
        ForwardAttestationInvalid = "FORWARD_ATTESTATION_INVALID",
        /// The peer runs another configuration than this enclave.
        ForwardConfigMismatch = "FORWARD_CONFIG_MISMATCH",
        /// The peer's image (PCR0) is not this enclave's, and no valid upgrade approval names the pair.
        ForwardPeerNotApproved = "FORWARD_PEER_NOT_APPROVED",
        /// The upgrade approval does not verify (not signed by the admin quorum, expired, malformed)
        /// or names other images or another configuration.
        ForwardApprovalInvalid = "FORWARD_APPROVAL_INVALID",
        /// Forwarding out of order: the sender holds no master key, or the receiver already holds
        /// one or already holds keys.
        ForwardState = "FORWARD_STATE",
        /// The forwarded key does not open here (not sealed to this enclave's attested key for
        /// this exchange, or modified).
        ForwardDecryptionFailed = "FORWARD_DECRYPTION_FAILED",
        /// `sealing_unlock` on an enclave that does not seal with AWS KMS, or that already holds its key.
        SealingUnlockState = "SEALING_UNLOCK_STATE",
        /// KMS did not give the master key: the relay, TLS, credentials, the key policy (this
        /// image's PCR0 not admitted) or the answer (the message names the `KMS_*` code).
        KmsUnlockFailed = "KMS_UNLOCK_FAILED",
        /// A key created inside an attested session while keys are sealed: its sealed record would
        /// reach only the raw relay, which stores nothing, so a restart would lose the key. Keys are
        /// created with `stamped` requests, whose answers the host stores first.
        SessionKeyCreationRefused = "SESSION_KEY_CREATION_REFUSED",
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
