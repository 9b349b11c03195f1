//! Evaluation and commit.
//!
//! [`evaluate`] is a pure function of (policy, decoded request, state,
//! prices, now): it reads the state and never changes it, reads no clock, and
//! once `out.results` has capacity for the policy's rules (an
//! [`Evaluation::default`] has room for `MAX_RULES`) it does not allocate
//! (risk-model inference aside: tract allocates its tensors). [`commit`]
//! applies an evaluation to the state. [`Engine::decide`] does both under
//! `&mut self`, which is what makes counters exact under concurrency: the
//! enclave holds the engine behind a mutex, so no two requests are evaluated
//! against the same counters.
//!
//! Each rule in scope yields one [`RuleResult`]; out-of-scope rules are
//! `not_applicable` with detail `out of scope`. Verdict: any deny -> `Deny`
//! (`POLICY_DENIED`); else any error -> `Deny` (`POLICY_ERROR`); else any
//! approval_required -> `ApprovalRequired`; else any allow -> `Allow`; else
//! `Deny` (`POLICY_NO_MATCH`, default deny).
//!
//! Time: `now_us` is the enclave's clock passed in. Time windows read it as
//! given (they are about the wall clock). Everything compared with the state
//! (notional windows, rate buckets, cooldowns, risk history) and the price
//! table's staleness read the state's monotone clock
//! `max(now_us, state.clock_us())` (see `state.rs`), so a clock that steps
//! back cannot reopen a window, refill a bucket, lift a cooldown or make a
//! price table look fresher.
use std::sync::Arc;

use sentinel_eth::{Address, U256};

use crate::decision::{Evaluation, Outcome, RuleRecord, RuleResult, Verdict};
use crate::document::ParsedPolicy;
use crate::effects::{self, Effect};
use crate::error::{verdict_codes, PolicyError, PolicyErrorCode};
use crate::features::RiskFeatures;
use crate::prices::PriceTable;
use crate::request::{Asset, CallKind, MovementKind, OpKind, PolicyRequest};
use crate::risk::RiskModel;
use crate::rules::{
    AssetSelector, ChainRule, ContractList, Effect as ListEffect, NotionalLimit, Policy, RateLimit, RiskScore, Rule,
    RuleKind, Scope, Subject, TimeWindow,
};
use crate::state::{Bucket, PolicyState};
use crate::time_window;

/// Details (static: the evaluation path does not format; [`ActivePolicy::records`] expands them).
mod detail {
    pub const OUT_OF_SCOPE: &str = "out of scope";
    pub const NOT_COMPILED: &str = "rule changed after the policy was activated";
    pub const NO_MOVEMENT: &str = "no movement of this asset";
    pub const NO_PRICE_FEED: &str = "no price feed configured";
    pub const NO_PRICES: &str = "no price table";
    pub const PRICES_STALE: &str = "price table stale";
    pub const UNPRICED: &str = "asset not priced";
    pub const PER_TX_EXCEEDED: &str = "per-transaction cap exceeded";
    pub const WINDOW_EXCEEDED: &str = "window limit exceeded";
    pub const WITHIN_LIMITS: &str = "within limits";
    pub const RATE_OK: &str = "token available";
    pub const RATE_EMPTY: &str = "bucket empty; cooldown started";
    pub const RATE_COOLDOWN: &str = "in cooldown";
    pub const CHAIN_ALLOWED: &str = "chain id allowed";
    pub const CHAIN_DENIED: &str = "chain id not allowed";
    pub const UNPROTECTED_ALLOWED: &str = "no chain id (replayable) allowed by allow_unprotected";
    pub const UNPROTECTED_DENIED: &str = "no chain id or chain id 0 (replayable on any chain)";
    pub const NOT_CHAIN_OP: &str = "not a transaction or typed data";
    pub const DEST_NOT_ALLOWED: &str = "destination not in the allow list";
    pub const TOKEN_NOT_ALLOWED: &str = "token not in the allow list";
    pub const RECIPIENT_NOT_ALLOWED: &str = "recipient not in the allow list";
    pub const SELECTOR_NOT_ALLOWED: &str = "selector not in the allow list";
    pub const UNKNOWN_CALL_TO_TOKEN: &str = "unknown calldata to a listed token";
    pub const LISTS_MATCHED: &str = "every checked list matched";
    pub const DEST_DENIED: &str = "destination in the deny list";
    pub const TOKEN_DENIED: &str = "token in the deny list";
    pub const RECIPIENT_DENIED: &str = "recipient in the deny list";
    pub const SELECTOR_DENIED: &str = "selector in the deny list";
    pub const CALL_TO_DENIED_TOKEN: &str = "call to a token in the deny list";
    pub const NOTHING_LISTED: &str = "nothing in the deny lists";
    pub const NOTHING_TO_CHECK: &str = "nothing to check";
    pub const MODEL_NOT_LOADED: &str = "model not loaded";
    pub const MODEL_FAILED: &str = "model evaluation failed";
    pub const RISK_LOW: &str = "score below approve_at_bps";
    pub const RISK_APPROVAL: &str = "score at or above approve_at_bps";
    pub const RISK_DENY: &str = "score at or above deny_at_bps";
}

/// Per-rule data prepared once when the policy is activated (sorted lists for binary search).
#[derive(Debug, Default)]
struct Compiled {
    keys: Option<Vec<String>>,
    labels: Option<Vec<String>>,
    principals: Option<Vec<String>>,
    destinations: Vec<Address>,
    tokens: Vec<Address>,
    recipients: Vec<Address>,
    selectors: Vec<[u8; 4]>,
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

impl Compiled {
    fn new(rule: &Rule) -> Compiled {
        let Scope { keys, labels, principals } = &rule.scope;
        let mut c = Compiled {
            keys: keys.as_deref().map(sorted),
            labels: labels.as_deref().map(sorted),
            principals: principals.as_deref().map(sorted),
            ..Compiled::default()
        };
        if let RuleKind::ContractList(list) = &rule.kind {
            c.destinations = sorted(&list.destinations);
            c.tokens = sorted(&list.tokens);
            c.recipients = sorted(&list.recipients);
            c.selectors = sorted(&list.selectors);
        }
        c
    }

    fn in_scope(&self, request: &PolicyRequest) -> bool {
        let has = |list: &Option<Vec<String>>, value: &str| match list {
            None => true,
            Some(items) => items.binary_search_by(|item| item.as_str().cmp(value)).is_ok(),
        };
        has(&self.keys, &request.key_id)
            && has(&self.labels, &request.key_label)
            && has(&self.principals, &request.principal)
    }
}

/// A verified policy ready to evaluate: the typed policy, its hash, and the loaded models.
#[derive(Debug)]
pub struct ActivePolicy {
    pub parsed: ParsedPolicy,
    pub models: Vec<RiskModel>,
    /// One per rule, in policy order.
    compiled: Vec<Compiled>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

impl ActivePolicy {
    /// Loads the models the policy's risk rules pin (each by SHA-256; extra models are refused).
    ///
    /// Every `risk_score` rule's `model_sha256` must be among the SHA-256s of `models`
    /// (`POLICY_MODEL_MISSING`); a model no rule pins is refused (`POLICY_MODEL_INVALID`), as is
    /// bytes that do not load; the same bytes twice are loaded once.
    pub fn new(parsed: ParsedPolicy, models: &[Vec<u8>]) -> Result<ActivePolicy, PolicyError> {
        let rules = &parsed.policy.rules;
        let pinned = |digest: &[u8; 32]| {
            rules.iter().any(|r| matches!(&r.kind, RuleKind::RiskScore(s) if s.model_sha256 == *digest))
        };
        let mut loaded: Vec<RiskModel> = Vec::new();
        for (index, bytes) in models.iter().enumerate() {
            let digest = sha256(bytes);
            if !pinned(&digest) {
                return Err(PolicyError::new(
                    PolicyErrorCode::ModelInvalid,
                    format!("models[{index}]: sha256 0x{} is not pinned by any risk_score rule", hex::encode(digest)),
                ));
            }
            if loaded.iter().any(|m| m.sha256 == digest) {
                continue;
            }
            let model = RiskModel::load(bytes).map_err(|e| {
                PolicyError::new(PolicyErrorCode::ModelInvalid, format!("models[{index}]: {}", e.message))
            })?;
            if model.sha256 != digest {
                return Err(PolicyError::new(
                    PolicyErrorCode::ModelInvalid,
                    format!("models[{index}]: loaded model reports a different sha256"),
                ));
            }
            loaded.push(model);
        }
        for (index, rule) in rules.iter().enumerate() {
            match &rule.kind {
                RuleKind::RiskScore(s) if !loaded.iter().any(|m| m.sha256 == s.model_sha256) => {
                    return Err(PolicyError::new(
                        PolicyErrorCode::ModelMissing,
                        format!(
                            "rules[{index}].model_sha256: model 0x{} was not supplied",
                            hex::encode(s.model_sha256)
                        ),
                    ));
                }
                RuleKind::TimeWindow(TimeWindow::UsMarket { .. }) if time_window::new_york().is_none() => {
                    return Err(PolicyError::new(
                        PolicyErrorCode::Invalid,
                        format!("rules[{index}]: America/New_York is missing from the bundled time-zone database"),
                    ));
                }
                _ => {}
            }
        }
        let compiled = rules.iter().map(Compiled::new).collect();
        Ok(ActivePolicy { parsed, models: loaded, compiled })
    }

    pub fn hash(&self) -> [u8; 32] {
        self.parsed.hash
    }

    /// The typed policy.
    pub fn policy(&self) -> &Policy {
        &self.parsed.policy
    }

    /// The loaded model pinned as `sha256`.
    pub fn model(&self, sha256: &[u8; 32]) -> Option<&RiskModel> {
        self.models.iter().find(|m| m.sha256 == *sha256)
    }

    /// Text records of an evaluation (receipts, API answers): rule id, type, outcome, decimal
    /// value and limit, window, and a detail naming what was counted or checked and its unit.
    pub fn records(&self, evaluation: &Evaluation) -> Vec<RuleRecord> {
        evaluation
            .results
            .iter()
            .filter_map(|r| {
                let rule = self.parsed.policy.rules.get(usize::from(r.rule))?;
                Some(RuleRecord {
                    rule: rule.id.clone(),
                    rule_type: rule.kind.type_name().to_string(),
                    result: r.outcome.as_str().to_string(),
                    value: r.value.map(|v| v.to_string()),
                    limit: r.limit.map(|v| v.to_string()),
                    window: r.window.map(|w| w.as_str().to_string()),
                    detail: Some(expand_detail(rule, r)),
                })
            })
            .collect()
    }
}

fn subject_name(per: Subject) -> &'static str {
    match per {
        Subject::Key => "key",
        Subject::Principal => "principal",
    }
}

fn asset_name(asset: &AssetSelector) -> (String, &'static str) {
    match asset {
        AssetSelector::Native { chain_id } => (format!("native:{chain_id}"), "wei"),
        AssetSelector::Erc20 { chain_id, token } => {
            (format!("erc20:{chain_id}:0x{}", hex::encode(token.as_slice())), "token base units")
        }
        AssetSelector::Usd => ("usd".to_string(), "micro-USD"),
    }
}

fn expand_detail(rule: &Rule, r: &RuleResult) -> String {
    if r.detail == detail::OUT_OF_SCOPE {
        return r.detail.to_string();
    }
    match &rule.kind {
        RuleKind::NotionalLimit(n) => {
            let (asset, unit) = asset_name(&n.asset);
            let counted = if r.window.is_some() { "; value = window total incl. this request" } else { "" };
            format!("{}; asset {asset}; unit {unit}; per {}{counted}", r.detail, subject_name(n.per))
        }
        RuleKind::RateLimit(l) => format!(
            "{}; unit tokens (value = tokens available before this request, limit = burst); {} per {}, cooldown {} ms; per {}",
            r.detail,
            l.count,
            l.per.as_str(),
            l.cooldown_ms,
            subject_name(l.subject)
        ),
        RuleKind::RiskScore(s) => format!(
            "{}; model sha256={}; approve_at_bps={}; deny_at_bps={}; unit bps",
            r.detail,
            hex::encode(s.model_sha256),
            s.approve_at_bps,
            s.deny_at_bps
        ),
        RuleKind::Chain(_) if r.value.is_some() => format!("{}; value = chain id", r.detail),
        _ => r.detail.to_string(),
    }
}

/// Evaluates `request` at `now_us` against `policy` and `state` into `out` (reused; no allocation
/// once warm). Pure: reads `state`, never changes it.
pub fn evaluate(
    policy: &ActivePolicy,
    request: &PolicyRequest,
    state: &PolicyState,
    prices: Option<&PriceTable>,
    now_us: u64,
    out: &mut Evaluation,
) {
    out.results.clear();
    out.effects.clear();
    out.score_bps = None;
    let t = now_us.max(state.clock_us);
    let mut features: Option<RiskFeatures> = None;
    let rules = &policy.parsed.policy.rules;
    for (index, rule) in rules.iter().enumerate() {
        let mut r = RuleResult {
            rule: index as u16,
            outcome: Outcome::NotApplicable,
            value: None,
            limit: None,
            window: None,
            detail: detail::OUT_OF_SCOPE,
        };
        // `compiled` has one entry per rule (built by `ActivePolicy::new`); a policy edited after
        // activation would not, and its rules are then errors rather than a panic.
        let Some(compiled) = policy.compiled.get(index) else {
            r.outcome = Outcome::Error;
            r.detail = detail::NOT_COMPILED;
            out.results.push(r);
            continue;
        };
        if compiled.in_scope(request) {
            match &rule.kind {
                RuleKind::NotionalLimit(n) => notional(policy, &rule.id, n, request, state, prices, t, &mut r),
                RuleKind::RateLimit(l) => rate(&rule.id, l, request, state, t, &mut r),
                RuleKind::ContractList(c) => contract_list(compiled, c, request, &mut r),
                RuleKind::Chain(c) => chain(c, request, &mut r),
                RuleKind::TimeWindow(w) => {
                    // Wall-clock rule: the instant as given, not the counters' monotone clock.
                    let check = time_window::check(w, now_us);
                    r.outcome = match check {
                        time_window::WindowCheck::Inside => Outcome::Allow,
                        time_window::WindowCheck::Unavailable => Outcome::Error,
                        _ => Outcome::Deny,
                    };
                    r.detail = check.detail();
                }
                RuleKind::RiskScore(s) => {
                    if let Some(score) = risk(policy, s, request, state, t, &mut features, &mut r) {
                        out.score_bps = Some(out.score_bps.map_or(score, |s| s.max(score)));
                    }
                }
            }
        }
        out.results.push(r);
    }
    let (mut deny, mut error, mut approval, mut allow) = (false, false, false, false);
    for r in &out.results {
        match r.outcome {
            Outcome::Deny => deny = true,
            Outcome::Error => error = true,
            Outcome::ApprovalRequired => approval = true,
            Outcome::Allow => allow = true,
            Outcome::NotApplicable => {}
        }
    }
    (out.verdict, out.code) = if deny {
        (Verdict::Deny, Some(verdict_codes::DENIED))
    } else if error {
        (Verdict::Deny, Some(verdict_codes::ERROR))
    } else if approval {
        (Verdict::ApprovalRequired, Some(verdict_codes::APPROVAL_REQUIRED))
    } else if allow {
        (Verdict::Allow, None)
    } else {
        (Verdict::Deny, Some(verdict_codes::NO_MATCH))
    };
}

fn subject_id(per: Subject, request: &PolicyRequest) -> &str {
    match per {
        Subject::Key => &request.key_id,
        Subject::Principal => &request.principal,
    }
}

/// Whether `asset` counts against a rule on `selector`. An unprotected movement (no chain id)
/// is valid on every chain, so it counts against every chain's rule for the same coin or token.
fn counts_against(selector: &AssetSelector, asset: &Asset) -> bool {
    match (selector, asset) {
        (AssetSelector::Usd, _) => true,
        (AssetSelector::Native { chain_id }, Asset::Native { chain_id: c }) => c.is_none_or(|c| c == *chain_id),
        (AssetSelector::Erc20 { chain_id, token }, Asset::Erc20 { chain_id: c, token: t }) => {
            t == token && c.is_none_or(|c| c == *chain_id)
        }
        _ => false,
    }
}

/// The request's amount for a notional rule: `Ok(None)` when it moves none of the rule's asset,
/// `Err(detail)` when a USD amount cannot be computed.
fn notional_amount(
    policy: &ActivePolicy,
    n: &NotionalLimit,
    request: &PolicyRequest,
    prices: Option<&PriceTable>,
    t: u64,
) -> Result<Option<U256>, &'static str> {
    if n.asset != AssetSelector::Usd {
        let mut amount = U256::ZERO;
        let mut any = false;
        for m in request.movements.iter().filter(|m| counts_against(&n.asset, &m.asset)) {
            any = true;
            amount = amount.saturating_add(m.amount);
        }
        return Ok(any.then_some(amount));
    }
    if request.movements.is_empty() {
        return Ok(None);
    }
    let Some(feed) = &policy.parsed.policy.price_feed else { return Err(detail::NO_PRICE_FEED) };
    let Some(table) = prices else { return Err(detail::NO_PRICES) };
    let now_s = t / 1_000_000;
    if now_s.saturating_sub(table.timestamp_s) > feed.max_staleness_s {
        return Err(detail::PRICES_STALE);
    }
    let mut amount = U256::ZERO;
    for m in &request.movements {
        let Some(usd) = table.usd_micro(&m.asset, m.amount) else { return Err(detail::UNPRICED) };
        amount = amount.saturating_add(usd);
    }
    Ok(Some(amount))
}

#[allow(clippy::too_many_arguments)]
fn notional(
    policy: &ActivePolicy,
    rule_id: &str,
    n: &NotionalLimit,
    request: &PolicyRequest,
    state: &PolicyState,
    prices: Option<&PriceTable>,
    t: u64,
    r: &mut RuleResult,
) {
    let amount = match notional_amount(policy, n, request, prices, t) {
        Ok(Some(amount)) => amount,
        Ok(None) => {
            r.detail = detail::NO_MOVEMENT;
            return;
        }
        Err(why) => {
            r.outcome = Outcome::Error;
            r.detail = why;
            return;
        }
    };
    // Allowed: report the check with the least headroom left (the one closest to its limit).
    let mut best: Option<U256> = None;
    if let Some(cap) = n.per_transaction {
        r.value = Some(amount);
        r.limit = Some(cap);
        if amount > cap {
            r.outcome = Outcome::Deny;
            r.detail = detail::PER_TX_EXCEEDED;
            return;
        }
        best = Some(cap - amount);
    }
    let counters = state.notional(rule_id, subject_id(n.per, request));
    for w in &n.windows {
        let counted = counters.map_or(U256::ZERO, |c| c.sum(w.window, t));
        let value = counted.saturating_add(amount);
        if value > w.limit {
            r.outcome = Outcome::Deny;
            r.detail = detail::WINDOW_EXCEEDED;
            r.value = Some(value);
            r.limit = Some(w.limit);
            r.window = Some(w.window);
            return;
        }
        let headroom = w.limit - value;
        if best.is_none_or(|b| headroom < b) {
            best = Some(headroom);
            r.value = Some(value);
            r.limit = Some(w.limit);
            r.window = Some(w.window);
        }
    }
    r.outcome = Outcome::Allow;
    r.detail = detail::WITHIN_LIMITS;
}

/// A bucket's level at `t` in units of `unit` per token (full for a subject never seen).
pub(crate) fn bucket_level(l: &RateLimit, bucket: Option<(&Bucket, u64)>, t: u64) -> (u128, u64) {
    let unit = l.per.micros();
    let capacity = u128::from(l.burst) * u128::from(unit);
    let Some((b, stored_unit)) = bucket else { return (capacity, 0) };
    let mut level = b.level;
    if stored_unit != unit && stored_unit != 0 {
        level = level.saturating_mul(u128::from(unit)) / u128::from(stored_unit);
    }
    let elapsed = t.saturating_sub(b.last_us);
    let level = level.saturating_add(u128::from(elapsed) * u128::from(l.count)).min(capacity);
    (level, b.cooldown_until_us)
}

fn rate(rule_id: &str, l: &RateLimit, request: &PolicyRequest, state: &PolicyState, t: u64, r: &mut RuleResult) {
    let bucket = state.bucket(rule_id, subject_id(l.subject, request));
    let (level, cooldown_until) = bucket_level(l, bucket, t);
    let unit = u128::from(l.per.micros());
    r.limit = Some(U256::from(l.burst));
    r.window = Some(l.per);
    if t < cooldown_until {
        r.outcome = Outcome::Deny;
        r.detail = detail::RATE_COOLDOWN;
        r.value = Some(U256::ZERO);
        return;
    }
    r.value = Some(U256::from(level / unit));
    if level >= unit {
        r.outcome = Outcome::Allow;
        r.detail = detail::RATE_OK;
    } else {
        r.outcome = Outcome::Deny;
        r.detail = detail::RATE_EMPTY;
    }
}

fn chain(c: &ChainRule, request: &PolicyRequest, r: &mut RuleResult) {
    if !matches!(request.op, OpKind::Transaction | OpKind::TypedData) {
        r.detail = detail::NOT_CHAIN_OP;
        return;
    }
    r.value = request.chain_id.map(U256::from);
    let unprotected = request.unprotected || matches!(request.chain_id, None | Some(0));
    (r.outcome, r.detail) = if unprotected {
        if c.allow_unprotected {
            (Outcome::Allow, detail::UNPROTECTED_ALLOWED)
        } else {
            (Outcome::Deny, detail::UNPROTECTED_DENIED)
        }
    } else if request.chain_id.is_some_and(|id| c.chain_ids.contains(&id)) {
        (Outcome::Allow, detail::CHAIN_ALLOWED)
    } else {
        (Outcome::Deny, detail::CHAIN_DENIED)
    };
}

/// `contract_list`, per the doc comment of [`ContractList`]. In addition, under either effect, a
/// transaction to a contract in `tokens` whose calldata is not a decoded ERC-20 call is not
/// let through: `allow` denies it (unknown calldata to a listed token), `deny` denies any call
/// to a denied token whatever its calldata.
fn contract_list(c: &Compiled, list: &ContractList, request: &PolicyRequest, r: &mut RuleResult) {
    let listed = |items: &[Address], a: &Address| items.binary_search(a).is_ok();
    let destination = request.destination;
    // Tokens: the decoded call's or permit's token, and every ERC-20 movement's.
    let tokens = request.token.into_iter().chain(request.movements.iter().filter_map(|m| match m.asset {
        Asset::Erc20 { token, .. } => Some(token),
        Asset::Native { .. } => None,
    }));
    // Recipients and spenders; a native transfer's recipient is its destination.
    let recipients = request.movements.iter().filter_map(|m| match (m.counterparty, m.kind) {
        (Some(a), _) => Some(a),
        (None, MovementKind::NativeValue) => destination,
        (None, _) => None,
    });
    let token_call =
        matches!(request.call, CallKind::Erc20Transfer | CallKind::Erc20TransferFrom | CallKind::Erc20Approve);
    let calls_listed_token =
        request.op == OpKind::Transaction && destination.is_some_and(|d| !c.tokens.is_empty() && listed(&c.tokens, &d));
    let mut checked = false;
    let verdict = |outcome: Outcome, why: &'static str| (outcome, why);
    let result = match list.effect {
        ListEffect::Allow => 'allow: {
            if !c.destinations.is_empty() {
                if let Some(d) = destination {
                    checked = true;
                    if !listed(&c.destinations, &d) {
                        break 'allow verdict(Outcome::Deny, detail::DEST_NOT_ALLOWED);
                    }
                }
            }
            if !c.tokens.is_empty() {
                for token in tokens {
                    checked = true;
                    if !listed(&c.tokens, &token) {
                        break 'allow verdict(Outcome::Deny, detail::TOKEN_NOT_ALLOWED);
                    }
                }
                if calls_listed_token && !token_call {
                    break 'allow verdict(Outcome::Deny, detail::UNKNOWN_CALL_TO_TOKEN);
                }
            }
            if !c.recipients.is_empty() {
                for recipient in recipients {
                    checked = true;
                    if !listed(&c.recipients, &recipient) {
                        break 'allow verdict(Outcome::Deny, detail::RECIPIENT_NOT_ALLOWED);
                    }
                }
            }
            if !c.selectors.is_empty() {
                if let Some(s) = request.selector {
                    checked = true;
                    if c.selectors.binary_search(&s).is_err() {
                        break 'allow verdict(Outcome::Deny, detail::SELECTOR_NOT_ALLOWED);
                    }
                }
            }
            if checked {
                verdict(Outcome::Allow, detail::LISTS_MATCHED)
            } else {
                verdict(Outcome::NotApplicable, detail::NOTHING_TO_CHECK)
            }
        }
        ListEffect::Deny => 'deny: {
            if !c.destinations.is_empty() {
                if let Some(d) = destination {
                    checked = true;
                    if listed(&c.destinations, &d) {
                        break 'deny verdict(Outcome::Deny, detail::DEST_DENIED);
                    }
                }
            }
            if !c.tokens.is_empty() {
                for token in tokens {
                    checked = true;
                    if listed(&c.tokens, &token) {
                        break 'deny verdict(Outcome::Deny, detail::TOKEN_DENIED);
                    }
                }
                if calls_listed_token {
                    break 'deny verdict(Outcome::Deny, detail::CALL_TO_DENIED_TOKEN);
                }
                if request.op == OpKind::Transaction && destination.is_some() {
                    checked = true;
                }
            }
            if !c.recipients.is_empty() {
                for recipient in recipients {
                    checked = true;
                    if listed(&c.recipients, &recipient) {
                        break 'deny verdict(Outcome::Deny, detail::RECIPIENT_DENIED);
                    }
                }
            }
            if !c.selectors.is_empty() {
                if let Some(s) = request.selector {
                    checked = true;
                    if c.selectors.binary_search(&s).is_ok() {
                        break 'deny verdict(Outcome::Deny, detail::SELECTOR_DENIED);
                    }
                }
            }
            if checked {
                verdict(Outcome::Allow, detail::NOTHING_LISTED)
            } else {
                verdict(Outcome::NotApplicable, detail::NOTHING_TO_CHECK)
            }
        }
    };
    (r.outcome, r.detail) = result;
}

fn risk(
    policy: &ActivePolicy,
    s: &RiskScore,
    request: &PolicyRequest,
    state: &PolicyState,
    t: u64,
    features: &mut Option<RiskFeatures>,
    r: &mut RuleResult,
) -> Option<u16> {
    if !matches!(request.op, OpKind::Transaction | OpKind::TypedData) {
        r.detail = detail::NOT_CHAIN_OP;
        return None;
    }
    r.limit = Some(U256::from(s.deny_at_bps));
    let Some(model) = policy.model(&s.model_sha256) else {
        r.outcome = Outcome::Error;
        r.detail = detail::MODEL_NOT_LOADED;
        return None;
    };
    let f = *features.get_or_insert_with(|| state.history(&request.key_id).features(request, t));
    match model.score_bps(&f) {
        Ok(score) => {
            let score = score.min(10_000);
            r.value = Some(U256::from(score));
            (r.outcome, r.detail) = if score >= s.deny_at_bps {
                (Outcome::Deny, detail::RISK_DENY)
            } else if score >= s.approve_at_bps {
                (Outcome::ApprovalRequired, detail::RISK_APPROVAL)
            } else {
                (Outcome::Allow, detail::RISK_LOW)
            };
            Some(score)
        }
        Err(_) => {
            r.outcome = Outcome::Error;
            r.detail = detail::MODEL_FAILED;
            None
        }
    }
}

/// Applies an evaluation to the state: counters and histories when allowed, cooldowns on a rate breach.
///
/// `evaluation` must be what [`evaluate`] returned for this policy, request, state and `now_us`
/// (as [`Engine::decide`] does). When the verdict is `Allow`: adds the request's amount to every
/// window of every notional rule that allowed it (a USD amount is taken from the evaluation:
/// value minus the window's total, or the value itself when no window was reported), takes a
/// token from every rate rule's bucket, and records the request in the key's risk history. Not
/// allowed: a rate rule that found its bucket empty starts its cooldown (the cooldown is written
/// even though the verdict is deny); nothing else changes.
///
/// Every counter change is listed in `evaluation.effects` (cleared first), in rule order, as
/// [`crate::replay`] can apply it again; the risk history is not (see `effects.rs`). Allocates
/// for a subject's first counter and for each effect listed (its rule id and subject).
pub fn commit(
    policy: &ActivePolicy,
    request: &PolicyRequest,
    state: &mut PolicyState,
    evaluation: &mut Evaluation,
    now_us: u64,
) {
    evaluation.effects.clear();
    let rules = &policy.parsed.policy.rules;
    if evaluation.results.len() != rules.len() {
        debug_assert!(false, "commit: evaluation is not of this policy");
        return;
    }
    let t = now_us.max(state.clock_us);
    state.clock_us = t;
    let allowed = evaluation.verdict == Verdict::Allow;
    for (rule, result) in rules.iter().zip(&evaluation.results) {
        match &rule.kind {
            RuleKind::NotionalLimit(n) if allowed && result.outcome == Outcome::Allow && !n.windows.is_empty() => {
                let subject = subject_id(n.per, request);
                let amount = if n.asset == AssetSelector::Usd {
                    let value = result.value.unwrap_or(U256::ZERO);
                    match result.window {
                        None => value,
                        Some(w) => {
                            let counted = state.notional(&rule.id, subject).map_or(U256::ZERO, |c| c.sum(w, t));
                            value.saturating_sub(counted)
                        }
                    }
                } else {
                    request
                        .movements
                        .iter()
                        .filter(|m| counts_against(&n.asset, &m.asset))
                        .fold(U256::ZERO, |sum, m| sum.saturating_add(m.amount))
                };
                effects::add_notional(state, &rule.id, n, subject, amount, t);
                evaluation.effects.push(Effect::Notional {
                    rule: rule.id.clone(),
                    subject: subject.to_string(),
                    amount,
                });
            }
            RuleKind::RateLimit(l) if result.outcome != Outcome::NotApplicable => {
                let subject = subject_id(l.subject, request);
                let (level, cooldown_until) = bucket_level(l, state.bucket(&rule.id, subject), t);
                let take = allowed && result.outcome == Outcome::Allow;
                let breach = !take && t >= cooldown_until && level < u128::from(l.per.micros());
                if !take && !breach {
                    continue;
                }
                effects::apply_rate(state, &rule.id, l, subject, level, t, take);
                let (rule, subject) = (rule.id.clone(), subject.to_string());
                evaluation.effects.push(if take {
                    Effect::RateTake { rule, subject }
                } else {
                    Effect::RateCooldown { rule, subject }
                });
            }
            _ => {}
        }
    }
    if allowed {
        state.history_mut(&request.key_id).observe(request, t);
    }
}

/// A policy with its state and prices: `decide` = evaluate + commit, atomically under `&mut self`.
#[derive(Debug)]
pub struct Engine {
    pub active: Arc<ActivePolicy>,
    pub state: PolicyState,
    pub prices: Option<PriceTable>,
}

impl Engine {
    pub fn new(active: Arc<ActivePolicy>) -> Engine {
        Engine { active, state: PolicyState::new(), prices: None }
    }
    /// [`evaluate`] then [`commit`]: `out.effects` lists the counter changes made.
    pub fn decide(&mut self, request: &PolicyRequest, now_us: u64, out: &mut Evaluation) {
        evaluate(&self.active, request, &self.state, self.prices.as_ref(), now_us, out);
        commit(&self.active, request, &mut self.state, out, now_us);
    }
    /// A new policy; counters of rules that keep their id and type carry over (see
    /// [`PolicyState::retain_for`]); the others are dropped. The price table is dropped when the
    /// new policy's price feed differs (it was signed for the old one).
    pub fn replace_policy(&mut self, active: Arc<ActivePolicy>) {
        self.state.retain_for(&active.parsed.policy);
        let feed_key = |a: &ActivePolicy| a.parsed.policy.price_feed.as_ref().map(|f| f.public_key.clone());
        if feed_key(&active) != feed_key(&self.active) {
            self.prices = None;
        }
        self.active = active;
    }
}
