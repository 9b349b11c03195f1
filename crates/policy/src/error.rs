//! Why a policy, a price table, a request or a state snapshot could not be used. Every refusal
//! has a stable code (docs/policy.md lists them) and a message naming the
//! field (`rules[3].windows[0].limit`).

sentinel_error::error_codes! {
    /// Why a policy document, signed policy, price table, model or request was refused.
    #[non_exhaustive]
    pub enum PolicyErrorCode {
        /// Not valid JSON, a key twice, a float, nesting too deep, or (signed form) not UTF-8.
        Malformed = "POLICY_MALFORMED",
        /// A size cap exceeded (bytes, rules, list items, string lengths).
        TooLarge = "POLICY_TOO_LARGE",
        /// A field missing, unknown, of the wrong type or out of range (the message names it).
        Invalid = "POLICY_INVALID",
        /// Two rules with the same id, or an item twice in one list.
        DuplicateId = "POLICY_DUPLICATE_ID",
        /// An update whose version is not strictly greater than the active policy's.
        Rollback = "POLICY_ROLLBACK",
        /// Fewer than the configuration's admin threshold signed the policy validly.
        QuorumNotMet = "POLICY_QUORUM_NOT_MET",
        /// A `risk_score` rule names a model whose bytes were not supplied.
        ModelMissing = "POLICY_MODEL_MISSING",
        /// Model bytes that are not a loadable ONNX model with the expected input and output.
        ModelInvalid = "POLICY_MODEL_INVALID",
        /// A price table that is malformed or names an asset twice.
        PricesInvalid = "PRICES_INVALID",
        /// A price table not signed by the policy's `price_feed` key.
        PricesSignatureInvalid = "PRICES_SIGNATURE_INVALID",
        /// A price table not newer than the one in force.
        PricesRollback = "PRICES_ROLLBACK",
        /// A price table sent while the active policy has no `price_feed`.
        PriceFeedNotConfigured = "PRICE_FEED_NOT_CONFIGURED",
        /// A request the policy cannot read (e.g. typed data whose permit fields are malformed).
        RequestInvalid = "POLICY_REQUEST_INVALID",
        /// A state snapshot that is not one this version wrote: another format version, truncated,
        /// trailing bytes, a value out of range, keys out of order or twice (the message names it).
        SnapshotInvalid = "POLICY_SNAPSHOT_INVALID",
    }
}

/// A refusal: code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub code: PolicyErrorCode,
    pub message: String,
}

impl PolicyError {
    pub fn new(code: PolicyErrorCode, message: impl Into<String>) -> Self {
        PolicyError { code, message: message.into() }
    }
}

impl sentinel_error::CodedError for PolicyError {
    fn code(&self) -> &'static str {
        sentinel_error::Code::as_str(self.code)
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", sentinel_error::Code::as_str(self.code), self.message)
    }
}

impl std::error::Error for PolicyError {}

pub(crate) fn refuse<T>(code: PolicyErrorCode, message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError::new(code, message))
}

/// The codes a decision carries when it does not allow (not errors: verdicts).
pub mod verdict_codes {
    /// A rule denied (any deny wins).
    pub const DENIED: &str = "POLICY_DENIED";
    /// No rule in scope applied and allowed (default deny).
    pub const NO_MATCH: &str = "POLICY_NO_MATCH";
    /// A rule could not be evaluated (e.g. a missing or stale price, a model failure): denied.
    pub const ERROR: &str = "POLICY_ERROR";
    /// The risk score requires human approval (refused until the approval queue exists).
    pub const APPROVAL_REQUIRED: &str = "POLICY_APPROVAL_REQUIRED";
}
