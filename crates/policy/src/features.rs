//! The risk model's features and the per-key history they need.
//!
//! Nine `f32` features in [`FEATURE_NAMES`] order, each finite and clamped to
//! `[-FEATURE_LIMIT, FEATURE_LIMIT]`. `scripts/risk-model/train.py` computes
//! the same features (same definitions, same constants) on its synthetic
//! requests; `models/risk-v1.json` describes them for reviewers.
//!
//! * `amount_log_ratio`: `log2(1 + a) - ewma`, where `a` is the request's
//!   largest movement amount (in the asset's base units, as `f64`) and
//!   `ewma` the key's EWMA of the same quantity over its allowed requests.
//!   Approvals of at least 2^160 - 1 ("unlimited": Permit2's maximum, uint160; ERC-20's is 2^256 - 1) are not amounts (they have
//!   their own feature, and one of them would drag the mean up by ~20 bits
//!   and hide every spike after it): they are left out of `a`. 0 when the
//!   request has no (other) movement or the key has no amount history yet
//!   (no baseline to compare with).
//! * `new_counterparty`: 1 when any recipient or spender of the request was
//!   never seen in this key's allowed requests. The set keeps at most
//!   [`MAX_COUNTERPARTIES`]; once full it stops growing and anything not in it
//!   counts as new (conservative).
//! * `velocity_1m`: `ln(1 + n)`, `n` = allowed requests of this key in the last
//!   60 s (60 one-second buckets: the current second and the 59 before it).
//! * `hour_sin`, `hour_cos`: `sin`/`cos(2π·h/24)` of the UTC hour of day `h`
//!   (an integer, 0..=23).
//! * `fee_log_ratio`: `ln((fee + 1) / (ewma_fee + 1))`, `fee` = the
//!   transaction's `max_fee_per_gas` (or `gas_price`) in wei; 0 when the
//!   request has no fee or the key has no fee history yet.
//! * `is_approval`: 1 when any movement is an approval (ERC-20 `approve`,
//!   EIP-2612 / Permit2 permits).
//! * `unlimited_approval`: 1 when any approval's amount is at least 2^160 - 1 (Permit2's
//!   unlimited allowance is `type(uint160).max`; ERC-20 and EIP-2612 use `type(uint256).max`).
//! * `unknown_calldata`: 1 when the transaction's calldata is not a known
//!   ERC-20 call ([`CallKind::Unknown`]).
//!
//! Both EWMAs use `alpha = 0.1`, the first observation initialises them, and
//! only allowed requests are observed ([`RiskHistory::observe`]): amounts when
//! the request has one, fees when it has one.
use std::collections::BTreeSet;

use sentinel_eth::{Address, U256};

use crate::request::{CallKind, MovementKind, PolicyRequest};

pub const FEATURE_COUNT: usize = 9;
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    "amount_log_ratio",
    "new_counterparty",
    "velocity_1m",
    "hour_sin",
    "hour_cos",
    "fee_log_ratio",
    "is_approval",
    "unlimited_approval",
    "unknown_calldata",
];

/// Every feature is clamped to `[-FEATURE_LIMIT, FEATURE_LIMIT]`.
pub const FEATURE_LIMIT: f32 = 20.0;
/// Weight of a new observation in both EWMAs.
pub const EWMA_ALPHA: f64 = 0.1;
/// Most counterparties remembered per key.
pub const MAX_COUNTERPARTIES: usize = 4096;
/// Velocity window: this many one-second buckets.
pub const VELOCITY_BUCKETS: usize = 60;

const MICROS_PER_SECOND: u64 = 1_000_000;
const MICROS_PER_HOUR: u64 = 3_600 * MICROS_PER_SECOND;

/// The model input, in `FEATURE_NAMES` order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskFeatures(pub [f32; FEATURE_COUNT]);

/// What one key has done (for features): rolling means, counterparties seen, recent velocity.
///
/// Bounded: two EWMAs, at most [`MAX_COUNTERPARTIES`] addresses (80 KiB) and
/// 60 velocity buckets. Only [`observe`](RiskHistory::observe) allocates (when
/// it remembers a new counterparty).
#[derive(Clone, Debug)]
pub struct RiskHistory {
    /// EWMA of `log2(1 + largest movement amount)`; `None` before the first amount.
    pub(crate) amount_ewma: Option<f64>,
    /// EWMA of `max_fee_per_gas` (wei); `None` before the first fee.
    pub(crate) fee_ewma: Option<f64>,
    pub(crate) counterparties: BTreeSet<Address>,
    /// Bucket `i` counts allowed requests of the second `bucket_second[i]` (`second % 60 == i`).
    pub(crate) bucket_second: [u64; VELOCITY_BUCKETS],
    pub(crate) bucket_count: [u32; VELOCITY_BUCKETS],
}

impl Default for RiskHistory {
    fn default() -> Self {
        RiskHistory {
            amount_ewma: None,
            fee_ewma: None,
            counterparties: BTreeSet::new(),
            bucket_second: [0; VELOCITY_BUCKETS],
            bucket_count: [0; VELOCITY_BUCKETS],
        }
    }
}

/// 2^160 - 1 (Permit2's `type(uint160).max`): approvals at or above it are "unlimited".
fn unlimited_threshold() -> U256 {
    (U256::from(1u8) << 160) - U256::from(1u8)
}

/// `log2(1 + largest amount)` over the movements that are not unlimited approvals.
fn amount_log(request: &PolicyRequest) -> Option<f64> {
    let unlimited = unlimited_threshold();
    request
        .movements
        .iter()
        .filter(|m| !(m.kind == MovementKind::Approval && m.amount >= unlimited))
        .map(|m| m.amount)
        .max()
        .map(|largest| (1.0 + f64::from(&largest)).log2())
}

fn ewma(previous: Option<f64>, x: f64) -> f64 {
    match previous {
        None => x,
        Some(m) => m + EWMA_ALPHA * (x - m),
    }
}

/// Finite and within `[-FEATURE_LIMIT, FEATURE_LIMIT]` (NaN -> 0).
fn bounded(x: f64) -> f32 {
    if x.is_nan() {
        return 0.0;
    }
    let limit = f64::from(FEATURE_LIMIT);
    x.clamp(-limit, limit) as f32
}

fn flag(b: bool) -> f32 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl RiskHistory {
    pub fn new() -> RiskHistory {
        RiskHistory::default()
    }

    /// The features of `request` at `now_us` given this history (no allocation).
    pub fn features(&self, request: &PolicyRequest, now_us: u64) -> RiskFeatures {
        let amount_log_ratio = match (amount_log(request), self.amount_ewma) {
            (Some(x), Some(m)) => x - m,
            _ => 0.0,
        };
        let new_counterparty = request.counterparties().any(|c| !self.counterparties.contains(&c));
        let velocity = (1.0 + f64::from(self.velocity(now_us))).ln();
        let hour = (now_us / MICROS_PER_HOUR) % 24;
        let angle = 2.0 * core::f64::consts::PI * (hour as f64) / 24.0;
        let fee_log_ratio = match (request.max_fee_per_gas, self.fee_ewma) {
            (Some(fee), Some(m)) => ((f64::from(&fee) + 1.0) / (m + 1.0)).ln(),
            _ => 0.0,
        };
        let unlimited = unlimited_threshold();
        let is_approval = request.movements.iter().any(|m| m.kind == MovementKind::Approval);
        let unlimited_approval =
            request.movements.iter().any(|m| m.kind == MovementKind::Approval && m.amount >= unlimited);
        RiskFeatures([
            bounded(amount_log_ratio),
            flag(new_counterparty),
            bounded(velocity),
            bounded(angle.sin()),
            bounded(angle.cos()),
            bounded(fee_log_ratio),
            flag(is_approval),
            flag(unlimited_approval),
            flag(request.call == CallKind::Unknown),
        ])
    }

    /// Records an allowed request.
    pub fn observe(&mut self, request: &PolicyRequest, now_us: u64) {
        if let Some(x) = amount_log(request) {
            self.amount_ewma = Some(ewma(self.amount_ewma, x));
        }
        if let Some(fee) = request.max_fee_per_gas {
            self.fee_ewma = Some(ewma(self.fee_ewma, f64::from(&fee)));
        }
        for c in request.counterparties() {
            if self.counterparties.len() >= MAX_COUNTERPARTIES {
                break;
            }
            self.counterparties.insert(c);
        }
        let second = now_us / MICROS_PER_SECOND;
        let i = (second % VELOCITY_BUCKETS as u64) as usize;
        if self.bucket_second[i] != second {
            self.bucket_second[i] = second;
            self.bucket_count[i] = 0;
        }
        self.bucket_count[i] = self.bucket_count[i].saturating_add(1);
    }

    /// Allowed requests observed in the last 60 s at `now_us` (the current
    /// second and the 59 before it; observations stamped after `now_us` — a
    /// clock that went back — still count, conservatively).
    pub fn velocity(&self, now_us: u64) -> u32 {
        let now_s = now_us / MICROS_PER_SECOND;
        let mut n: u32 = 0;
        for (second, count) in self.bucket_second.iter().zip(self.bucket_count.iter()) {
            if *count > 0 && now_s.saturating_sub(*second) < VELOCITY_BUCKETS as u64 {
                n = n.saturating_add(*count);
            }
        }
        n
    }

    /// The EWMA of `log2(1 + largest amount)`, if any amount was observed.
    pub fn amount_ewma(&self) -> Option<f64> {
        self.amount_ewma
    }

    /// The EWMA of the fee cap (wei), if any fee was observed.
    pub fn fee_ewma(&self) -> Option<f64> {
        self.fee_ewma
    }

    /// How many counterparties are remembered (at most [`MAX_COUNTERPARTIES`]).
    pub fn counterparty_count(&self) -> usize {
        self.counterparties.len()
    }

    /// Whether `address` was seen (and remembered) as a counterparty.
    pub fn knows_counterparty(&self, address: &Address) -> bool {
        self.counterparties.contains(address)
    }
}
