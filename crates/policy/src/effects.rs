//! The state changes [`commit`](crate::commit) makes, as data, and the one
//! implementation of each: commit applies them and lists them in
//! [`Evaluation::effects`](crate::Evaluation::effects), and [`replay`]
//! applies a listed one again. The audit log stores every record's effects,
//! so an enclave that restarts with empty state rebuilds its notional
//! counters, rate buckets and cooldowns by replaying them in log order: the
//! same code on the same prior state at the same monotone instant gives the
//! same state, bit for bit. An effect names its rule by id and is applied
//! with the rule as the CURRENT policy defines it (windows, asset, `per`,
//! rate), as [`PolicyState::retain_for`] would have kept the counters across
//! a policy update. Risk histories are not effects: a history records the
//! request itself (amounts, fees, counterparties), which the log does not
//! carry, so replay cannot rebuild it.
use sentinel_eth::U256;

use crate::document::{parse_u256, MAX_RULE_ID_BYTES};
use crate::engine::{bucket_level, ActivePolicy};
use crate::rules::{NotionalLimit, RateLimit, RuleKind};
use crate::state::{Bucket, PolicyState};

/// One change [`commit`](crate::commit) made to the counters of one rule for one subject
/// (the key id or the principal, per the rule's `per`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// A notional limit charged `amount` (what commit() added to every window of the rule).
    Notional { rule: String, subject: String, amount: U256 },
    /// A rate limit took one token.
    RateTake { rule: String, subject: String },
    /// A rate limit was breached: cooldown started (bucket level kept as evaluated).
    RateCooldown { rule: String, subject: String },
}

const NOTIONAL: &str = "notional";
const RATE_TAKE: &str = "rate_take";
const RATE_COOLDOWN: &str = "rate_cooldown";

impl Effect {
    /// `notional`, `rate_take`, `rate_cooldown` (the audit record's `op`).
    pub fn op(&self) -> &'static str {
        match self {
            Effect::Notional { .. } => NOTIONAL,
            Effect::RateTake { .. } => RATE_TAKE,
            Effect::RateCooldown { .. } => RATE_COOLDOWN,
        }
    }

    /// The rule's id.
    pub fn rule(&self) -> &str {
        match self {
            Effect::Notional { rule, .. } | Effect::RateTake { rule, .. } | Effect::RateCooldown { rule, .. } => rule,
        }
    }

    /// The key id or principal whose counter changed.
    pub fn subject(&self) -> &str {
        match self {
            Effect::Notional { subject, .. }
            | Effect::RateTake { subject, .. }
            | Effect::RateCooldown { subject, .. } => subject,
        }
    }

    /// The amount as a plain decimal integer (notional only; in the rule's unit: base units or
    /// micro-USD).
    pub fn value_text(&self) -> Option<String> {
        match self {
            Effect::Notional { amount, .. } => Some(amount.to_string()),
            Effect::RateTake { .. } | Effect::RateCooldown { .. } => None,
        }
    }

    /// The inverse of ([`op`](Effect::op), [`rule`](Effect::rule), [`subject`](Effect::subject),
    /// [`value_text`](Effect::value_text)). `None` for what commit cannot have produced: an
    /// unknown op, a rule id that is empty or longer than `MAX_RULE_ID_BYTES`, a value that is
    /// not a plain decimal within 256 bits (digits only, no sign, no leading zero), a missing
    /// notional value, or a value on a rate effect.
    pub fn parse(op: &str, rule: &str, subject: &str, value: Option<&str>) -> Option<Effect> {
        if rule.is_empty() || rule.len() > MAX_RULE_ID_BYTES {
            return None;
        }
        let (rule, subject) = (rule.to_string(), subject.to_string());
        match (op, value) {
            (NOTIONAL, Some(v)) => Some(Effect::Notional { rule, subject, amount: parse_u256(v)? }),
            (RATE_TAKE, None) => Some(Effect::RateTake { rule, subject }),
            (RATE_COOLDOWN, None) => Some(Effect::RateCooldown { rule, subject }),
            _ => None,
        }
    }
}

/// Applies `effect` to `state` exactly as [`commit`](crate::commit) did at `now_us`, with the rule
/// of that id in `policy` (the current one). The instant is the state's monotone clock
/// `t = max(now_us, state.clock_us())`, which then moves to `t`, as in commit.
///
/// Returns false and changes nothing (the clock included) when `policy` has no rule with that id,
/// or its rule of that id is not of the effect's type (a `notional` effect for what is now a rate
/// limit, say). A notional limit that now has no windows counts nothing (commit would not have
/// either); the clock still moves and the result is true.
///
/// Commit also moves the clock for requests that changed no counter (a deny, a rule not in
/// scope): replaying only effects then runs on an earlier clock if the enclave's clock ever
/// stepped back. [`PolicyState::advance_clock`] with each replayed decision's instant makes that
/// exact too.
pub fn replay(policy: &ActivePolicy, state: &mut PolicyState, effect: &Effect, now_us: u64) -> bool {
    let Some(rule) = policy.policy().rules.iter().find(|r| r.id == effect.rule()) else { return false };
    let t = now_us.max(state.clock_us);
    match (effect, &rule.kind) {
        (Effect::Notional { subject, amount, .. }, RuleKind::NotionalLimit(n)) => {
            state.clock_us = t;
            add_notional(state, &rule.id, n, subject, *amount, t);
        }
        (Effect::RateTake { subject, .. } | Effect::RateCooldown { subject, .. }, RuleKind::RateLimit(l)) => {
            state.clock_us = t;
            let (level, _) = bucket_level(l, state.bucket(&rule.id, subject), t);
            let take = matches!(effect, Effect::RateTake { .. });
            apply_rate(state, &rule.id, l, subject, level, t, take);
        }
        _ => return false,
    }
    true
}

/// Commit's notional change: adds `amount` to every window of rule `n` for `subject` at `t`,
/// creating the subject's counters (even for a zero amount: commit's ring slots move to the
/// current bucket either way). A rule without windows is not counted.
pub(crate) fn add_notional(
    state: &mut PolicyState,
    rule_id: &str,
    n: &NotionalLimit,
    subject: &str,
    amount: U256,
    t: u64,
) {
    if n.windows.is_empty() {
        return;
    }
    let counters = state.notional_mut(rule_id, n.asset, n.per, subject);
    for w in &n.windows {
        counters.add(w.window, t, amount);
    }
}

/// Commit's rate change for `subject` at `t`, from the bucket's `level` at `t`
/// ([`bucket_level`]): `take` takes one token; otherwise (a breach) the cooldown starts and the
/// level is kept. Either way the bucket is brought up to `t`.
pub(crate) fn apply_rate(
    state: &mut PolicyState,
    rule_id: &str,
    l: &RateLimit,
    subject: &str,
    level: u128,
    t: u64,
    take: bool,
) {
    let unit = l.per.micros();
    let bucket =
        state.bucket_mut(rule_id, l.subject, unit, subject, || Bucket { level, last_us: t, cooldown_until_us: 0 });
    bucket.last_us = t;
    if take {
        bucket.level = level.saturating_sub(u128::from(unit));
    } else {
        bucket.level = level;
        bucket.cooldown_until_us = t.saturating_add(l.cooldown_ms.saturating_mul(1000));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{parse_policy, Caller, Engine, Evaluation, PolicyRequest, PriceTable};

    /// The counters themselves, not just the answers: replaying a run's effects (with the
    /// decisions' instants, some of them earlier than the clock) gives equal rule states.
    #[test]
    fn replay_reproduces_the_counters_exactly() {
        let policy = r#"{"version":1,"name":"t","price_feed":{"alg":"ed25519",
            "public_key":"0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","max_staleness_s":1000000000},
            "rules":[
            {"id":"usd","type":"notional_limit","asset":"usd","per_transaction":"2500",
             "windows":[{"window":"1s","limit":"4000"},{"window":"1m","limit":"9000"},{"window":"1h","limit":"30000"}]},
            {"id":"eth","type":"notional_limit","asset":"native:1","per":"principal",
             "windows":[{"window":"1m","limit":"2000000000000000000"}]},
            {"id":"rate","type":"rate_limit","rate":{"count":3,"per":"1s"},"burst":2,"cooldown_ms":700},
            {"id":"slow","type":"rate_limit","per":"principal","rate":{"count":1,"per":"1h"},"burst":4,"cooldown_ms":90000}
            ]}"#;
        let prices = r#"{"timestamp_s":1767571200,"prices":[{"asset":"native:1","usd":"3000","decimals":18}]}"#;
        let active = Arc::new(ActivePolicy::new(parse_policy(policy.as_bytes()).unwrap(), &[]).unwrap());
        let mut a = Engine::new(active.clone());
        a.prices = Some(PriceTable::from_json(prices.as_bytes()).unwrap());
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut now = 1_767_571_200_000_000u64;
        let mut log = Vec::new();
        let mut out = Evaluation::default();
        let (mut kinds, mut denied) = ([0usize; 3], 0);
        for _ in 0..3_000 {
            now = match rand(12) {
                0 => now.saturating_sub(rand(5_000_000)), // the clock steps back
                1..=5 => now + rand(300_000),
                6..=9 => now + rand(20_000_000),
                10 => now + rand(4_000_000_000),
                _ => now + 3_600_000_000 * (1 + rand(30)),
            };
            let (key, principal) = [("k1", "p1"), ("k2", "p1"), ("k3", "p2")][rand(3) as usize];
            let tx = format!(
                r#"{{"type":2,"chainId":1,"to":"0x1111111111111111111111111111111111111111","value":"{}"}}"#,
                rand(1_000_000_000_000_000_000)
            );
            let tx = sentinel_eth::transaction_from_json(&tx).unwrap();
            let caller = Caller { principal, key_id: key, key_label: "l" };
            let request = PolicyRequest::from_transaction(caller, &tx).unwrap();
            a.decide(&request, now, &mut out);
            denied += usize::from(out.verdict != crate::Verdict::Allow);
            for e in &out.effects {
                kinds[match e {
                    Effect::Notional { .. } => 0,
                    Effect::RateTake { .. } => 1,
                    Effect::RateCooldown { .. } => 2,
                }] += 1;
            }
            log.push((out.effects.clone(), now));
        }
        assert!(kinds.iter().all(|&k| k > 50) && denied > 300, "coverage: {kinds:?}, {denied} denied");
        let mut b = PolicyState::new();
        for (effects, now) in &log {
            b.advance_clock(*now);
            for e in effects {
                assert!(replay(&active, &mut b, e, *now));
            }
        }
        assert_eq!(a.state.clock_us, b.clock_us);
        assert_eq!(a.state.rules, b.rules);
    }
}
