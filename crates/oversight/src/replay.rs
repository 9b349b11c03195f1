//! Remembers accepted command digests until their timestamp has left the
//! window, so a captured command (a halt, a resume, an approval) cannot be
//! sent again. Bounded: when full it refuses new commands rather than forget
//! a live one (`OVERSIGHT_REPLAY_CACHE_FULL`).

use crate::error::{OversightError, OversightErrorCode};

/// Default capacity, in live commands (oversight traffic is a few per second at most).
pub const DEFAULT_REPLAY_CAPACITY: usize = 4096;

#[derive(Debug)]
pub struct ReplayGuard {
    capacity: usize,
    // digest -> expiry (µs)
    entries: std::collections::BTreeMap<[u8; 32], u64>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(DEFAULT_REPLAY_CAPACITY)
    }
}

impl ReplayGuard {
    pub fn new(capacity: usize) -> ReplayGuard {
        ReplayGuard { capacity, entries: Default::default() }
    }

    /// Whether `digest` may be accepted now (not seen, room left after dropping expired entries).
    /// An entry lives while `now_us <= expires_us`: a command is accepted up to
    /// `timestamp + window`, so its digest is remembered exactly that long.
    pub fn check(&mut self, digest: &[u8; 32], now_us: u64) -> Result<(), OversightError> {
        self.entries.retain(|_, expires_us| *expires_us >= now_us);
        if self.entries.contains_key(digest) {
            return Err(OversightError::new(
                OversightErrorCode::Replay,
                "command: this exact command was already accepted (same digest, still inside the stamp window)",
            ));
        }
        if self.entries.len() >= self.capacity {
            return Err(OversightError::new(
                OversightErrorCode::ReplayCacheFull,
                format!(
                    "command: the replay guard holds {} live commands, its capacity; retry once older ones leave the \
                     stamp window",
                    self.entries.len()
                ),
            ));
        }
        Ok(())
    }

    /// Remembers `digest` until `expires_us`.
    pub fn insert(&mut self, digest: [u8; 32], expires_us: u64) {
        let expiry = self.entries.entry(digest).or_insert(expires_us);
        *expiry = (*expiry).max(expires_us);
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
