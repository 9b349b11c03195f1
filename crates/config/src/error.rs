//! Every refusal carries a stable SCREAMING_SNAKE code, so the enclave, the
//! host and clients branch on the same string, and a message naming the field
//! (`principals[2].keys[0].public_key`) so a human can fix the document.
//! Codes are part of the public contract (docs/configuration.md lists them);
//! messages are not.

sentinel_error::error_codes! {
    /// Why a configuration document, a signed envelope or a credential was refused.
    /// `ALL` is in the order of the docs/configuration.md table.
    #[non_exhaustive]
    pub enum ConfigErrorCode {
        /// Not one well-formed CBOR item (or JSON text for the JSON form): syntax,
        /// truncation, trailing bytes, a map key twice, nesting too deep.
        Malformed = "CONFIG_MALFORMED",
        /// Well-formed CBOR that is not the canonical encoding of its value.
        NotCanonical = "CONFIG_NOT_CANONICAL",
        /// A size cap exceeded (bytes, list lengths, string lengths).
        TooLarge = "CONFIG_TOO_LARGE",
        /// A field missing, of the wrong type or out of range.
        Invalid = "CONFIG_INVALID",
        /// A field this version does not know.
        UnknownField = "CONFIG_UNKNOWN_FIELD",
        /// An admin id, principal id, overseer or approver id (within its list) or signer id twice.
        DuplicateId = "CONFIG_DUPLICATE_ID",
        /// The same public key twice (two admins, two principals, one principal, two overseers, two approvers).
        DuplicateKey = "CONFIG_DUPLICATE_KEY",
        /// `admins.threshold` is 0 or larger than the number of admin keys (likewise
        /// `oversight.resume_threshold` and `oversight.approval_threshold` for their lists).
        InvalidThreshold = "CONFIG_INVALID_THRESHOLD",
        /// An `alg` other than `ed25519`, `p256`, `secp256k1`.
        UnknownAlg = "CONFIG_UNKNOWN_ALG",
        /// A public key of the wrong length or not a valid point.
        InvalidKey = "CONFIG_INVALID_KEY",
        /// An operation name outside the known set.
        UnknownOperation = "CONFIG_UNKNOWN_OPERATION",
        /// An update whose version is not strictly greater than the current one.
        Rollback = "CONFIG_ROLLBACK",
        /// Fewer than `threshold` distinct admins signed with a valid signature.
        QuorumNotMet = "CONFIG_QUORUM_NOT_MET",
        /// A credential file (client.key / admin.key) that cannot be used.
        CredentialInvalid = "CREDENTIAL_INVALID",
    }
}

sentinel_error::error_codes! {
    /// Why a request stamp was refused ([`crate::StampVerifier::verify`]).
    /// `ALL` is in the order of the docs/configuration.md table.
    #[non_exhaustive]
    pub enum StampErrorCode {
        /// The request carries no stamp (the enclave reports it; the verifier never sees one).
        Missing = "STAMP_MISSING",
        /// A stamp of the wrong shape: nonce length, signature length, undecodable CBOR.
        Malformed = "STAMP_MALFORMED",
        /// `timestamp_us` outside `now_us ± stamp_window_ms`.
        Expired = "STAMP_EXPIRED",
        /// No principal with this id in the configuration.
        UnknownPrincipal = "UNKNOWN_PRINCIPAL",
        /// The same principal and nonce were accepted within the window.
        Replayed = "STAMP_REPLAYED",
        /// The replay cache holds `capacity` live nonces: refused rather than forgetting one.
        ReplayCacheFull = "REPLAY_CACHE_FULL",
        /// No key of the principal verifies the signature over the stamp digest.
        SignatureInvalid = "STAMP_SIGNATURE_INVALID",
    }
}

/// A refused configuration, envelope or credential: a stable
/// [`ConfigErrorCode`] plus a message naming the field.
pub type ConfigError = sentinel_error::Coded<ConfigErrorCode>;

/// A refused stamp: a stable [`StampErrorCode`] plus a message that never
/// contains the signature or nonce bytes.
pub type StampError = sentinel_error::Coded<StampErrorCode>;

/// Shorthand used across the crate.
pub(crate) fn refuse<T>(kind: ConfigErrorCode, message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::new(kind, message))
}

/// The codes as plain strings, for callers that report them without this
/// crate's enums (the enclave's refusals, the bindings, docs tests).
pub mod codes {
    use super::{ConfigErrorCode as C, StampErrorCode as S};

    pub const CONFIG_MALFORMED: &str = C::Malformed.as_str();
    pub const CONFIG_NOT_CANONICAL: &str = C::NotCanonical.as_str();
    pub const CONFIG_TOO_LARGE: &str = C::TooLarge.as_str();
    pub const CONFIG_INVALID: &str = C::Invalid.as_str();
    pub const CONFIG_UNKNOWN_FIELD: &str = C::UnknownField.as_str();
    pub const CONFIG_DUPLICATE_ID: &str = C::DuplicateId.as_str();
    pub const CONFIG_DUPLICATE_KEY: &str = C::DuplicateKey.as_str();
    pub const CONFIG_INVALID_THRESHOLD: &str = C::InvalidThreshold.as_str();
    pub const CONFIG_UNKNOWN_ALG: &str = C::UnknownAlg.as_str();
    pub const CONFIG_INVALID_KEY: &str = C::InvalidKey.as_str();
    pub const CONFIG_UNKNOWN_OPERATION: &str = C::UnknownOperation.as_str();
    pub const CONFIG_ROLLBACK: &str = C::Rollback.as_str();
    pub const CONFIG_QUORUM_NOT_MET: &str = C::QuorumNotMet.as_str();
    pub const CREDENTIAL_INVALID: &str = C::CredentialInvalid.as_str();

    pub const STAMP_MISSING: &str = S::Missing.as_str();
    pub const STAMP_MALFORMED: &str = S::Malformed.as_str();
    pub const STAMP_EXPIRED: &str = S::Expired.as_str();
    pub const UNKNOWN_PRINCIPAL: &str = S::UnknownPrincipal.as_str();
    pub const STAMP_REPLAYED: &str = S::Replayed.as_str();
    pub const REPLAY_CACHE_FULL: &str = S::ReplayCacheFull.as_str();
    pub const STAMP_SIGNATURE_INVALID: &str = S::SignatureInvalid.as_str();

    /// The principal is authenticated but its configuration does not list the operation.
    pub const OPERATION_NOT_PERMITTED: &str = "OPERATION_NOT_PERMITTED";
    /// The key exists but the principal's `keys_allowed` does not cover it.
    pub const KEY_NOT_PERMITTED: &str = "KEY_NOT_PERMITTED";
    /// Creating or importing one more key would exceed the principal's `max_keys`.
    pub const KEY_QUOTA_EXCEEDED: &str = "KEY_QUOTA_EXCEEDED";

    /// The codes the enclave reports for authorization refusals (it owns those errors).
    pub const AUTHORIZATION: &[&str] = &[OPERATION_NOT_PERMITTED, KEY_NOT_PERMITTED, KEY_QUOTA_EXCEEDED];
}
