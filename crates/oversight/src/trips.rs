//! Automatic trips: the enclave halts a principal by itself after
//! `trip_consecutive_denials` policy refusals in a row (an allowed request
//! resets the count), or on one risk score at or above `trip_risk_score_bps`.
//! Zero turns either off. The enclave applies a [`Trip`] as a Red halt of its
//! scope, by `enclave`.

use std::collections::HashMap;

use crate::scope::Scope;

/// A halt the enclave decided itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trip {
    pub scope: Scope,
    /// `trip: 5 consecutive policy denials` / `trip: risk score 9400 bps >= 9000`.
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Trips {
    consecutive_denials: u64,
    risk_score_bps: u64,
    denials: HashMap<String, u64>,
}

impl Trips {
    pub fn new(consecutive_denials: u64, risk_score_bps: u64) -> Trips {
        Trips { consecutive_denials, risk_score_bps, denials: HashMap::new() }
    }

    /// Whether any trip is configured (the enclave skips [`Trips::record`] otherwise).
    pub fn enabled(&self) -> bool {
        self.consecutive_denials > 0 || self.risk_score_bps > 0
    }

    /// Records one policy decision of `principal`: `policy_denied` for a policy refusal
    /// (denied, no match, error), `risk_score_bps` if a risk model scored it.
    pub fn record(&mut self, principal: &str, policy_denied: bool, risk_score_bps: Option<u32>) -> Option<Trip> {
        let denial_trip = if self.consecutive_denials == 0 {
            None
        } else if policy_denied {
            let count = self.denials.entry(principal.to_string()).or_insert(0);
            *count = count.saturating_add(1);
            if *count >= self.consecutive_denials {
                self.denials.remove(principal);
                Some(format!("trip: {} consecutive policy denials", self.consecutive_denials))
            } else {
                None
            }
        } else {
            self.denials.remove(principal);
            None
        };
        let risk_trip = match risk_score_bps {
            Some(score) if self.risk_score_bps > 0 && u64::from(score) >= self.risk_score_bps => {
                Some(format!("trip: risk score {score} bps >= {}", self.risk_score_bps))
            }
            _ => None,
        };
        // A risk spike names the request that caused it; it wins when both trip at once.
        risk_trip.or(denial_trip).map(|reason| Trip { scope: Scope::Principal(principal.to_string()), reason })
    }

    /// New thresholds (a new configuration); counts so far are kept.
    pub fn configure(&mut self, consecutive_denials: u64, risk_score_bps: u64) {
        self.consecutive_denials = consecutive_denials;
        self.risk_score_bps = risk_score_bps;
        if consecutive_denials == 0 {
            self.denials.clear();
        }
    }

    /// The consecutive policy denials counted for `principal` so far.
    pub fn denials(&self, principal: &str) -> u64 {
        self.denials.get(principal).copied().unwrap_or(0)
    }

    /// Forgets a principal's count (after its scope is resumed).
    pub fn reset(&mut self, principal: &str) {
        self.denials.remove(principal);
    }
}
