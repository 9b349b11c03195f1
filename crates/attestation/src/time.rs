//! The verifier never reads a clock: certificate validity and document age
//! depend on "now", and a library that fetched it itself would be untestable
//! against recorded documents, would not build for every target (no
//! `std::time` on wasm32-unknown-unknown), and would hide from the caller which
//! time the verdict was given for. So the caller passes it in, as this newtype.

use crate::error::{err, Error, ErrorCode};

/// A point in time, as milliseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u64);

impl UnixTime {
    /// Milliseconds since the Unix epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Seconds since the Unix epoch (saturates far beyond any certificate).
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// A JavaScript time (`Date.now()`-style number): must be a finite,
    /// non-negative integer no larger than 2^53 - 1.
    pub fn from_js_millis(ms: f64) -> Result<Self, Error> {
        const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
        if !(0.0..=MAX_SAFE).contains(&ms) || ms.fract() != 0.0 {
            return err(ErrorCode::InvalidTime, format!("time must be a non-negative integer number of ms, got {ms}"));
        }
        // Exact: integral and within 2^53.
        Ok(Self(ms as u64))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}
