//! What an evaluation returns: the verdict, the code when it is not an
//! allow, and one result per rule in policy order, with the numbers a
//! reviewer needs to recompute it (value, limit, window). `Evaluation` is
//! reused across calls (its `results` buffer keeps its capacity), so the
//! evaluation path does not allocate; `records` turns it into text for
//! receipts and API answers (that allocates, off the hot path).
use sentinel_eth::U256;

use crate::effects::Effect;
use crate::rules::Window;

/// The decision on the whole request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny,
    /// No rule denied, the risk score asks for a human (refused with
    /// `POLICY_APPROVAL_REQUIRED` until the approval queue exists).
    ApprovalRequired,
}

impl Verdict {
    /// `allowed`, `denied`, `approval_required`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allowed",
            Verdict::Deny => "denied",
            Verdict::ApprovalRequired => "approval_required",
        }
    }
}

/// One rule's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// In scope, applicable, satisfied.
    Allow,
    Deny,
    /// Out of scope, or nothing in the request for this rule to check.
    NotApplicable,
    /// Risk score in the approval band.
    ApprovalRequired,
    /// Could not be evaluated (missing or stale price, model failure): counts as a deny.
    Error,
}

impl Outcome {
    /// `allow`, `deny`, `not_applicable`, `approval_required`, `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::NotApplicable => "not_applicable",
            Outcome::ApprovalRequired => "approval_required",
            Outcome::Error => "error",
        }
    }
}

/// One rule's result with its numbers. `value` and `limit` are in the rule's
/// unit (base units, micro-USD, tokens, basis points; `detail` names it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleResult {
    /// Index of the rule in `Policy::rules`.
    pub rule: u16,
    pub outcome: Outcome,
    pub value: Option<U256>,
    pub limit: Option<U256>,
    pub window: Option<Window>,
    /// Why, in a few words (static: the hot path does not format).
    pub detail: &'static str,
}

/// The result of one evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub verdict: Verdict,
    /// `None` when allowed; else one of `crate::verdict_codes`.
    pub code: Option<&'static str>,
    /// One entry per rule, in policy order (out-of-scope rules included, as `not_applicable`).
    pub results: Vec<RuleResult>,
    /// The risk score in basis points, when a risk rule ran.
    pub score_bps: Option<u16>,
    /// The counter changes [`commit`](crate::commit) made, in rule order (what the audit record
    /// stores for [`replay`](crate::replay)). Empty after [`evaluate`](crate::evaluate) alone.
    pub effects: Vec<Effect>,
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            verdict: Verdict::Deny,
            code: Some(crate::verdict_codes::NO_MATCH),
            results: Vec::with_capacity(crate::rules::MAX_RULES),
            score_bps: None,
            effects: Vec::new(),
        }
    }
}

/// One rule's result as text: what receipts (`rules_evaluated`) and API answers carry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleRecord {
    /// The rule's id.
    pub rule: String,
    /// Its type (`notional_limit`, ...).
    #[serde(rename = "type")]
    pub rule_type: String,
    /// [`Outcome::as_str`].
    pub result: String,
    /// Decimal integer strings.
    pub value: Option<String>,
    pub limit: Option<String>,
    /// `1s`, `1m`, `1h`, `1d`.
    pub window: Option<String>,
    /// What was counted or checked (asset, unit, model hash, reason).
    pub detail: Option<String>,
}
