//! The kill switch: a level per scope, the resume challenge, the heartbeat.
//!
//! - A fresh switch ([`KillSwitch::boot`]) is Red globally: an enclave that
//!   cannot establish its previous state starts halted and needs a quorum resume.
//! - [`KillSwitch::set`] records a scope's level (halts, degrades, resumes and
//!   automatic trips all end here); a key or principal set back to Green is
//!   forgotten, so the maps hold only scopes that are not Green.
//! - Resumes consume the current challenge ([`KillSwitch::new_challenge`],
//!   [`KillSwitch::take_challenge`]): one challenge, one resume, before it expires.
//! - With a heartbeat interval, the deadline is `last heartbeat (or global
//!   resume) + interval` while the global scope is not Red; past it the switch
//!   goes Red globally by itself ([`KillSwitch::check_heartbeat`]), and
//!   [`KillSwitch::effective`] already reports Red for any request after the
//!   deadline, even before the trip is recorded. A heartbeat, a new interval
//!   or a [`KillSwitch::set`] first records a missed deadline, so nothing
//!   arriving late brings a tripped switch back without a quorum resume.

use std::collections::BTreeMap;

use crate::error::{OversightError, OversightErrorCode};
use crate::scope::{Effective, Level, Scope};

/// Why and since when a scope has its level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeState {
    pub scope: Scope,
    pub level: Level,
    /// Why (the halt's reason, `boot: ...`, `heartbeat missed: ...`, `trip: ...`, `resumed`).
    pub reason: String,
    /// When it was set, µs since the Unix epoch.
    pub since_us: u64,
    /// Who set it: the signers' ids, or `enclave` for automatic trips and boot.
    pub by: Vec<String>,
}

/// A snapshot for `status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub global: ScopeState,
    /// Keys and principals that are not Green, sorted by scope.
    pub scopes: Vec<ScopeState>,
    /// 0: no heartbeat configured.
    pub heartbeat_interval_ms: u64,
    /// When the enclave halts itself unless a heartbeat arrives (None: not armed).
    pub heartbeat_deadline_us: Option<u64>,
}

#[derive(Debug)]
pub struct KillSwitch {
    global: ScopeState,
    keys: BTreeMap<String, ScopeState>,
    principals: BTreeMap<String, ScopeState>,
    /// (challenge, expires_us)
    challenge: Option<([u8; 32], u64)>,
    heartbeat_interval_us: u64,
    heartbeat_deadline_us: Option<u64>,
}

/// The reason a fresh switch carries.
pub const BOOT_REASON: &str =
    "boot: the previous kill-switch state cannot be established (no durable state); a quorum resume is needed";

/// Who automatic state changes (boot, heartbeat trips, policy trips) are by.
pub const ENCLAVE: &str = "enclave";

impl KillSwitch {
    /// A switch that is Red globally since `now_us` ([`BOOT_REASON`], by `enclave`).
    pub fn boot(now_us: u64, heartbeat_interval_ms: u64) -> KillSwitch {
        KillSwitch {
            global: ScopeState {
                scope: Scope::Global,
                level: Level::Red,
                reason: BOOT_REASON.to_string(),
                since_us: now_us,
                by: vec![ENCLAVE.to_string()],
            },
            keys: BTreeMap::new(),
            principals: BTreeMap::new(),
            challenge: None,
            heartbeat_interval_us: heartbeat_interval_ms.saturating_mul(1000),
            heartbeat_deadline_us: None,
        }
    }

    /// The effective state of a request on `key_id` (None for key-less operations) by `principal`.
    /// Fast when nothing but the global scope is set: no map lookups, no allocation.
    pub fn effective(&self, key_id: Option<&str>, principal: &str, now_us: u64) -> Effective {
        let global = match self.heartbeat_deadline_us {
            Some(deadline) if now_us > deadline => Level::Red,
            _ => self.global.level,
        };
        if global == Level::Red || (self.keys.is_empty() && self.principals.is_empty()) {
            return Effective { level: global, scope: Scope::Global };
        }
        let key = match key_id {
            Some(id) if !self.keys.is_empty() => self.keys.get(id),
            _ => None,
        };
        let principal = if self.principals.is_empty() { None } else { self.principals.get(principal) };
        let key_level = key.map_or(Level::Green, |s| s.level);
        let principal_level = principal.map_or(Level::Green, |s| s.level);
        // Strictest wins; ties go to global, then key, then principal.
        if global >= key_level && global >= principal_level {
            Effective { level: global, scope: Scope::Global }
        } else if key_level >= principal_level {
            Effective { level: key_level, scope: key.map_or(Scope::Global, |s| s.scope.clone()) }
        } else {
            Effective { level: principal_level, scope: principal.map_or(Scope::Global, |s| s.scope.clone()) }
        }
    }

    /// Sets `scope` to `level`. Setting the global scope to Green or Yellow re-arms the heartbeat deadline;
    /// Red disarms it. A key or principal set to Green is forgotten. A missed heartbeat
    /// deadline is recorded first ([`Self::check_heartbeat`]); callers that must not
    /// loosen a scope (halts) compare with [`Self::level_of`] after calling it themselves.
    pub fn set(&mut self, scope: Scope, level: Level, reason: String, by: Vec<String>, now_us: u64) {
        self.check_heartbeat(now_us);
        let state = ScopeState { scope: scope.clone(), level, reason, since_us: now_us, by };
        match scope {
            Scope::Global => {
                self.global = state;
                self.heartbeat_deadline_us = self.armed_deadline(now_us);
            }
            Scope::Key(id) if level == Level::Green => {
                self.keys.remove(&id);
            }
            Scope::Key(id) => {
                self.keys.insert(id, state);
            }
            Scope::Principal(id) if level == Level::Green => {
                self.principals.remove(&id);
            }
            Scope::Principal(id) => {
                self.principals.insert(id, state);
            }
        }
    }

    /// The level `scope` itself has (not the effective one).
    pub fn level_of(&self, scope: &Scope) -> Level {
        match scope {
            Scope::Global => self.global.level,
            Scope::Key(id) => self.keys.get(id).map_or(Level::Green, |s| s.level),
            Scope::Principal(id) => self.principals.get(id).map_or(Level::Green, |s| s.level),
        }
    }

    /// A signed heartbeat arrived: the deadline moves to `now_us + interval` (if configured and not Red).
    /// A heartbeat after the deadline does not rescue the switch: the trip is recorded instead.
    pub fn heartbeat(&mut self, now_us: u64) {
        if !self.check_heartbeat(now_us) {
            self.heartbeat_deadline_us = self.armed_deadline(now_us);
        }
    }

    /// A new configuration's interval (0: off); re-arms from `now_us` when not Red.
    pub fn set_heartbeat_interval(&mut self, interval_ms: u64, now_us: u64) {
        self.check_heartbeat(now_us);
        self.heartbeat_interval_us = interval_ms.saturating_mul(1000);
        self.heartbeat_deadline_us = self.armed_deadline(now_us);
    }

    /// Trips the switch (global Red, reason `heartbeat missed: ...`, by `enclave`) when
    /// the deadline has passed; returns whether it tripped now.
    pub fn check_heartbeat(&mut self, now_us: u64) -> bool {
        let Some(deadline) = self.heartbeat_deadline_us else { return false };
        if now_us <= deadline {
            return false;
        }
        self.global = ScopeState {
            scope: Scope::Global,
            level: Level::Red,
            reason: format!(
                "heartbeat missed: no signed heartbeat within {} ms (deadline {deadline} µs, checked at {now_us} µs)",
                self.heartbeat_interval_us / 1000
            ),
            since_us: now_us,
            by: vec![ENCLAVE.to_string()],
        };
        self.heartbeat_deadline_us = None;
        true
    }

    /// Replaces the resume challenge (the previous one can no longer be used).
    pub fn new_challenge(&mut self, challenge: [u8; 32], expires_us: u64) {
        self.challenge = Some((challenge, expires_us));
    }

    /// Consumes the current challenge if `challenge` is it and it has not expired
    /// (`OVERSIGHT_CHALLENGE_INVALID` otherwise; a wrong guess does not consume it).
    pub fn take_challenge(&mut self, challenge: &[u8; 32], now_us: u64) -> Result<(), OversightError> {
        let refuse = |problem: &str| {
            Err(OversightError::new(OversightErrorCode::ChallengeInvalid, format!("command.challenge: {problem}")))
        };
        match self.challenge {
            None => refuse("no resume challenge is outstanding (ask for one with oversight_challenge)"),
            Some((current, _)) if current != *challenge => {
                refuse("not the enclave's current resume challenge (unknown, replaced or already used)")
            }
            Some((_, expires_us)) if now_us > expires_us => refuse("the resume challenge expired; ask for a fresh one"),
            Some(_) => {
                self.challenge = None;
                Ok(())
            }
        }
    }

    /// The heartbeat interval in force (0: off).
    pub fn heartbeat_interval_ms(&self) -> u64 {
        self.heartbeat_interval_us / 1000
    }

    /// The heartbeat deadline (None: not armed).
    pub fn heartbeat_deadline_us(&self) -> Option<u64> {
        self.heartbeat_deadline_us
    }

    /// The deadline from `now_us` when a heartbeat is configured and the global scope is not Red.
    fn armed_deadline(&self, now_us: u64) -> Option<u64> {
        (self.heartbeat_interval_us > 0 && self.global.level != Level::Red)
            .then(|| now_us.saturating_add(self.heartbeat_interval_us))
    }

    /// A snapshot of the recorded state (a missed heartbeat shows once
    /// [`Self::check_heartbeat`] recorded it; the deadline is included).
    pub fn status(&self) -> Status {
        Status {
            global: self.global.clone(),
            scopes: self.keys.values().chain(self.principals.values()).cloned().collect(),
            heartbeat_interval_ms: self.heartbeat_interval_us / 1000,
            heartbeat_deadline_us: self.heartbeat_deadline_us,
        }
    }
}
