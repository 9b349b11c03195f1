//! The engine's memory between requests: notional window counters, rate
//! buckets and cooldowns, and each key's risk history.
//!
//! Counters are keyed by rule id and then by subject (the key id or the
//! principal, per the rule's `per`), so a policy update that keeps a rule's
//! id and type keeps its counters ([`PolicyState::retain_for`]); amounts of
//! different assets are never added in one counter (a rule whose asset
//! changed starts afresh). Counters are created on a subject's first
//! committed request; reading them (evaluation) never allocates.
//!
//! **Clock.** Counters run on a monotone clock: the highest `now_us` the
//! state has been given ([`PolicyState::clock_us`]). A request timestamped
//! before that counts at that time. This keeps window rings and buckets
//! consistent if the enclave clock steps back (it fails closed: a clock that
//! jumped ahead holds counters at the later time until real time catches up).
//!
//! **Rolling windows.** A window of length `W` is kept as buckets of
//! `b = ceil(W / 60)` microseconds (60 bucket widths per window). A request
//! at `t` is checked against the sum of every bucket overlapping its window
//! `(t - W, t]` plus its own amount. That is up to 61 buckets (the oldest
//! partly overlapping), so the ring keeps 61 slots. Because each bucket
//! counted covers the part of it inside the window, the sum is an upper bound
//! of what any sliding window ending at `t` holds: an allowed request never
//! makes any sliding window of length `W` exceed the limit. The price is that
//! a request may be refused up to `b` early (amounts leave the window at the
//! end of their bucket, not at their own instant plus `W`).
//!
//! **Rate buckets** are fixed point, no floats: one token is `W` units (the
//! rate's window in microseconds), refilled at `count` units per microsecond,
//! so refill is exact integer arithmetic.
//!
//! **Restart.** A restarted enclave resumes from its latest sealed snapshot of
//! this state ([`PolicyState::to_snapshot`], [`PolicyState::from_snapshot`]:
//! everything here, risk histories included, encrypted and authenticated by
//! the enclave; the host keeps only ciphertext) and then replays the audit
//! log's tail after it: the records carry the changes each commit made
//! ([`crate::Effect`]), applied in log order with [`crate::replay`] (and
//! [`PolicyState::advance_clock`] for each replayed decision). Without a
//! snapshot it starts empty and replays the whole log, which rebuilds the
//! counters, buckets and cooldowns but not the risk histories: they record
//! the requests themselves, which the log does not carry, so those start
//! empty (and requests of the tail are not added to histories either way).
use std::collections::HashMap;

use sentinel_eth::U256;

use crate::features::RiskHistory;
use crate::rules::{AssetSelector, Policy, RuleKind, Subject, Window};

/// Bucket widths per window.
pub(crate) const BUCKETS_PER_WINDOW: u64 = 60;
/// Ring slots per window: the 60 bucket widths plus the bucket that partly overlaps the window's start.
pub(crate) const RING_SLOTS: usize = 61;

const fn window_index(window: Window) -> usize {
    match window {
        Window::Second => 0,
        Window::Minute => 1,
        Window::Hour => 2,
        Window::Day => 3,
    }
}

/// Width of one bucket of `window`, in microseconds (`ceil(len / 60)`).
pub(crate) const fn bucket_width(window: Window) -> u64 {
    window.micros().div_ceil(BUCKETS_PER_WINDOW)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Absolute bucket number (`t / width`); `u64::MAX` = empty.
    pub(crate) bucket: u64,
    pub(crate) sum: U256,
}

/// One window's buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ring {
    pub(crate) slots: [Slot; RING_SLOTS],
}

impl Ring {
    pub(crate) fn new() -> Ring {
        Ring { slots: [Slot { bucket: u64::MAX, sum: U256::ZERO }; RING_SLOTS] }
    }

    /// Sum of every bucket overlapping `(t - len, t]` (saturating).
    pub(crate) fn sum(&self, window: Window, t: u64) -> U256 {
        let width = bucket_width(window);
        let current = t / width;
        let first = t.saturating_add(1).saturating_sub(window.micros()) / width;
        let mut total = U256::ZERO;
        for slot in &self.slots {
            if slot.bucket >= first && slot.bucket <= current {
                total = total.saturating_add(slot.sum);
            }
        }
        total
    }

    /// Adds `amount` to the bucket of `t` (reusing the slot of a bucket that left every window).
    fn add(&mut self, window: Window, t: u64, amount: U256) {
        let width = bucket_width(window);
        let current = t / width;
        let slot = &mut self.slots[(current % RING_SLOTS as u64) as usize];
        if slot.bucket != current {
            // The slot held bucket `current - 61k` (k >= 1), older than any window ending at or
            // after `t` (the clock is monotone), or nothing.
            slot.bucket = current;
            slot.sum = U256::ZERO;
        }
        slot.sum = slot.sum.saturating_add(amount);
    }
}

/// One subject's window counters for one notional rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NotionalCounters {
    /// Indexed as [`Window::ALL`].
    pub(crate) windows: [Option<Box<Ring>>; 4],
}

impl NotionalCounters {
    /// Amount counted in the window ending at `t` (zero for a window never used).
    pub(crate) fn sum(&self, window: Window, t: u64) -> U256 {
        match &self.windows[window_index(window)] {
            Some(ring) => ring.sum(window, t),
            None => U256::ZERO,
        }
    }

    pub(crate) fn add(&mut self, window: Window, t: u64, amount: U256) {
        self.windows[window_index(window)].get_or_insert_with(|| Box::new(Ring::new())).add(window, t, amount);
    }
}

/// One subject's token bucket for one rate rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bucket {
    /// Tokens times the rate's window length in microseconds (`unit` units per token).
    pub(crate) level: u128,
    /// When `level` was last brought up to date.
    pub(crate) last_us: u64,
    /// Every request before this instant is denied (0 = none).
    pub(crate) cooldown_until_us: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RuleState {
    Notional {
        asset: AssetSelector,
        per: Subject,
        subjects: HashMap<String, NotionalCounters>,
    },
    Rate {
        per: Subject,
        /// Units per token (the rate's window in microseconds) the levels are in.
        unit: u64,
        subjects: HashMap<String, Bucket>,
    },
}

/// Rate and notional counters, cooldowns and risk histories (see the module documentation).
#[derive(Debug, Default)]
pub struct PolicyState {
    pub(crate) clock_us: u64,
    pub(crate) rules: HashMap<String, RuleState>,
    pub(crate) histories: HashMap<String, RiskHistory>,
    /// The history of a key never seen (read for its first request; never written).
    pub(crate) empty_history: RiskHistory,
}

impl PolicyState {
    pub fn new() -> PolicyState {
        PolicyState::default()
    }

    /// The counters' clock: the highest `now_us` committed so far (0 when new).
    pub fn clock_us(&self) -> u64 {
        self.clock_us
    }

    /// Moves the clock to `now_us` if that is later: what [`commit`](crate::commit) does to the
    /// clock for any request, including one that changed no counter. Replaying a log calls it
    /// with each decision's instant so that later effects run on the clock commit saw.
    pub fn advance_clock(&mut self, now_us: u64) {
        self.clock_us = self.clock_us.max(now_us);
    }

    /// Whether rule `rule_id` has counters (a notional or rate rule that counted a request).
    pub fn has_counters(&self, rule_id: &str) -> bool {
        self.rules.contains_key(rule_id)
    }

    /// Keeps the counters of the rules of `policy` that keep their id and type (and, for
    /// notional limits, their asset and `per`; for rate limits, their `per`); drops the rest.
    /// A notional rule keeps the windows it still has; a rate bucket whose window length changed
    /// is rescaled (rounded down). Risk histories are per key and always kept.
    pub fn retain_for(&mut self, policy: &Policy) {
        self.rules.retain(|id, state| {
            let Some(rule) = policy.rules.iter().find(|r| r.id == *id) else { return false };
            match (state, &rule.kind) {
                (RuleState::Notional { asset, per, subjects }, RuleKind::NotionalLimit(n)) => {
                    if *asset != n.asset || *per != n.per {
                        return false;
                    }
                    for counters in subjects.values_mut() {
                        for window in Window::ALL {
                            if !n.windows.iter().any(|w| w.window == window) {
                                counters.windows[window_index(window)] = None;
                            }
                        }
                    }
                    true
                }
                (RuleState::Rate { per, unit, subjects }, RuleKind::RateLimit(r)) => {
                    if *per != r.subject {
                        return false;
                    }
                    let new_unit = r.per.micros();
                    if *unit != new_unit {
                        for bucket in subjects.values_mut() {
                            bucket.level = bucket.level.saturating_mul(u128::from(new_unit)) / u128::from(*unit);
                        }
                        *unit = new_unit;
                    }
                    true
                }
                _ => false,
            }
        });
    }

    pub(crate) fn notional(&self, rule_id: &str, subject: &str) -> Option<&NotionalCounters> {
        match self.rules.get(rule_id)? {
            RuleState::Notional { subjects, .. } => subjects.get(subject),
            RuleState::Rate { .. } => None,
        }
    }

    pub(crate) fn notional_mut(
        &mut self,
        rule_id: &str,
        asset: AssetSelector,
        per: Subject,
        subject: &str,
    ) -> &mut NotionalCounters {
        let state = self.rule_mut(rule_id, || RuleState::Notional { asset, per, subjects: HashMap::new() });
        if !matches!(state, RuleState::Notional { asset: a, per: p, .. } if *a == asset && *p == per) {
            *state = RuleState::Notional { asset, per, subjects: HashMap::new() };
        }
        let RuleState::Notional { subjects, .. } = state else { unreachable!("set above") };
        if !subjects.contains_key(subject) {
            subjects.insert(subject.to_string(), NotionalCounters::default());
        }
        subjects.get_mut(subject).expect("inserted above")
    }

    /// A subject's bucket and the units per token its level is in.
    pub(crate) fn bucket(&self, rule_id: &str, subject: &str) -> Option<(&Bucket, u64)> {
        match self.rules.get(rule_id)? {
            RuleState::Rate { subjects, unit, .. } => subjects.get(subject).map(|b| (b, *unit)),
            RuleState::Notional { .. } => None,
        }
    }

    /// A subject's bucket in units of `unit`, created by `init` on first use.
    pub(crate) fn bucket_mut(
        &mut self,
        rule_id: &str,
        per: Subject,
        unit: u64,
        subject: &str,
        init: impl FnOnce() -> Bucket,
    ) -> &mut Bucket {
        let state = self.rule_mut(rule_id, || RuleState::Rate { per, unit, subjects: HashMap::new() });
        if !matches!(state, RuleState::Rate { per: p, unit: u, .. } if *p == per && *u == unit) {
            *state = RuleState::Rate { per, unit, subjects: HashMap::new() };
        }
        let RuleState::Rate { subjects, .. } = state else { unreachable!("set above") };
        if !subjects.contains_key(subject) {
            subjects.insert(subject.to_string(), init());
        }
        subjects.get_mut(subject).expect("inserted above")
    }

    fn rule_mut(&mut self, rule_id: &str, init: impl FnOnce() -> RuleState) -> &mut RuleState {
        if !self.rules.contains_key(rule_id) {
            self.rules.insert(rule_id.to_string(), init());
        }
        self.rules.get_mut(rule_id).expect("inserted above")
    }

    /// The risk history of `key_id` (an empty one for a key never seen).
    pub(crate) fn history(&self, key_id: &str) -> &RiskHistory {
        self.histories.get(key_id).unwrap_or(&self.empty_history)
    }

    pub(crate) fn history_mut(&mut self, key_id: &str) -> &mut RiskHistory {
        if !self.histories.contains_key(key_id) {
            self.histories.insert(key_id.to_string(), RiskHistory::default());
        }
        self.histories.get_mut(key_id).expect("inserted above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_counts_every_bucket_overlapping_the_window() {
        let w = Window::Minute; // buckets of 1 s
        let mut ring = Ring::new();
        ring.add(w, 500_000, U256::from(7u8)); // bucket 0
                                               // At t = 60.4 s the window (0.4 s, 60.4 s] overlaps bucket 0: still counted.
        assert_eq!(ring.sum(w, 60_400_000), U256::from(7u8));
        // At t = 60.999999 s the window starts at exactly 1 s: bucket 0 is out.
        assert_eq!(ring.sum(w, 60_999_999), U256::ZERO);
        // Reusing the slot 61 buckets later clears it.
        ring.add(w, 61_000_000, U256::from(1u8));
        assert_eq!(ring.sum(w, 61_000_000), U256::from(1u8));
    }

    #[test]
    fn one_second_window_buckets() {
        assert_eq!(bucket_width(Window::Second), 16_667);
        assert_eq!(bucket_width(Window::Day), 1_440_000_000);
        let w = Window::Second;
        let mut ring = Ring::new();
        ring.add(w, 0, U256::from(1u8));
        assert_eq!(ring.sum(w, 999_999), U256::from(1u8));
        // (t - 1 s, t] with t = 1 000 000 starts at 1: bucket 0 ([0, 16667)) still overlaps.
        assert_eq!(ring.sum(w, 1_000_000), U256::from(1u8));
        assert_eq!(ring.sum(w, 1_016_666), U256::ZERO);
    }
}
