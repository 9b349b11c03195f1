//! Continuing the previous enclave's audit log after a restart (issue #11).
//!
//! A restarted enclave has new keys, but the log must not start over: a new
//! log would forget the kill switch and the policy's windows, and a host could
//! restart its way out of a halt or a limit. So an enclave started with
//! `--audit-resume` keeps its log closed (nothing is signed) until the host
//! hands it the previous log: `audit_resume_begin` with a boot attestation
//! document of the previous enclave and the latest checkpoint it signed, then
//! every record from seq 0 (`audit_resume_records`), then
//! `audit_resume_finish`. The document must chain to the trusted root, come
//! from this very image (PCR0) and name the audit key that signed the
//! checkpoint; the records must rebuild the checkpoint's root
//! (`sentinel_audit::LogReplay`). Their effects rebuild the state: the kill
//! switch (each scope's last level), the policy's counters (replayed at their
//! record's time against the rules in force), the consecutive-denial trip
//! counts and the stamp replay cache. Records after the checkpoint (the tail:
//! made, and stored by the host, but not yet checkpointed when the previous
//! enclave died) are vouched for by nothing (records are not signed one by
//! one; the host could have written them), so they may only make the state
//! stricter: a counter charge, a halt or an accepted stamp is applied; a
//! resume or degrade that would loosen a scope, a configuration or policy
//! record, and a decision that would reset a denial count are not. The log's
//! last configuration and policy records (checkpointed as soon as they are
//! made) must name the ones in force here (`AUDIT_RESUME_MISMATCH`): a host
//! cannot resume a log under a configuration or policy of its choosing. The
//! log then continues under its origin with this enclave's key, from a
//! `log_resumed` record.
//!
//! A host with no previous log sends `audit_start` instead: a new log, and the
//! kill switch stays as booted, Red, until a quorum resumes it.
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use sentinel_audit::note::{Note, VerifierKey};
use sentinel_audit::record::Effect;
use sentinel_audit::replay::{Coverage, LogReplay};
use sentinel_audit::{AuditRecord, Decision, Outcome, RecordKind};
use sentinel_oversight::{Level, Scope, Trips};
use sentinel_policy::{ActivePolicy, PolicyState};
use sentinel_protocol::{
    AuditResumeBeginArgs, AuditResumeProgress, AuditResumed, EnclaveError, EnclaveErrorCode, Response,
};
use sha2::{Digest, Sha256};

use crate::audit::{Continue, KEY_CREATED_OP, KEY_DELETED_OP, LEVEL_OP, STAMP_OP};
use crate::enclave::{not_configured, now_us, Enclave};
use crate::snapshot::StateSnapshot;

/// The effect op of the `log_resumed` record: target the previous verifier key, value `covered/size`.
const RESUMED_OP: &str = "log_resumed";

/// A scope's last level in the log, and which record set it.
#[derive(Clone, Debug)]
struct LevelAt {
    level: Level,
    /// What the restored scope says of itself: the record that set it, or the snapshot's reason.
    reason: String,
    by: Vec<String>,
}

/// A resume in progress: the verifier, and the state being rebuilt (swapped in at the end).
pub(crate) struct Resuming {
    replay: LogReplay,
    previous_key: String,
    policy: Option<(Arc<ActivePolicy>, PolicyState)>,
    trips: Trips,
    levels: BTreeMap<Scope, LevelAt>,
    applied: u64,
    skipped: u64,
    last_config: Option<[u8; 32]>,
    last_policy: Option<[u8; 32]>,
    /// Stamps accepted within the last stamp window of the log (replay key, timestamp), and
    /// the log's latest record time.
    stamps: VecDeque<([u8; 32], u64)>,
    last_time_us: u64,
    stamp_window_us: u64,
    /// Each key the log names, and whether its last word on it was "created" (true) or "deleted".
    keys: BTreeMap<String, bool>,
    /// The log size of the sealed snapshot the state started from, if any.
    snapshot_size: Option<u64>,
    /// The snapshot's stamp floor: stamps dated before it are refused.
    stamp_floor_us: u64,
    /// A snapshot sealed in several parts, while its parts arrive (`audit_resume_snapshot`).
    assembling: Option<Assembly>,
}

/// The parts of a snapshot received so far, and what starting from it needs.
struct Assembly {
    id: String,
    count: u64,
    size: u64,
    parts: Vec<zeroize::Zeroizing<Vec<u8>>>,
    checkpoint: Vec<u8>,
    key: VerifierKey,
}

/// Most key ids an `audit_resumed` answer lists as wiped or missing (the counts are exact).
const MAX_LISTED_KEYS: usize = 256;

/// What the log said about keys, against what the sealed records brought back.
#[derive(Default)]
struct KeyCheck {
    wiped: u64,
    wiped_ids: Vec<String>,
    missing: u64,
    missing_ids: Vec<String>,
    /// Every id of each kind (the next snapshot carries them).
    all_deleted: Vec<String>,
    all_missing: Vec<String>,
}

fn refuse(code: EnclaveErrorCode, message: impl Into<String>) -> Response {
    Response::error(&EnclaveError::new(code, message))
}

fn invalid(e: &sentinel_audit::Error) -> Response {
    refuse(EnclaveErrorCode::AuditResumeInvalid, format!("{}: {}", e.code(), e.message()))
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Enclave {
    /// `audit_resume_begin`: checks the previous enclave's document and opens its checkpoint.
    pub(crate) fn resume_begin(&self, args: &AuditResumeBeginArgs) -> Response {
        if self.audit.is_open() {
            return refuse(EnclaveErrorCode::AuditResumeState, "the audit log is already open");
        }
        let Some(installed) = self.installed() else { return not_configured() };
        let key = match self.previous_audit_key(&args.attestation, &args.checkpoint) {
            Ok(key) => key,
            Err(response) => return response,
        };
        let oversight = installed.config.oversight();
        let policy = lock(&self.policy).as_ref().map(|engine| (engine.active.clone(), PolicyState::new()));
        let mut resuming = Resuming {
            replay: match LogReplay::new(&args.checkpoint, &key) {
                Ok(replay) => replay,
                Err(e) => return invalid(&e),
            },
            previous_key: key.to_string(),
            policy,
            trips: Trips::new(oversight.trip_consecutive_denials, oversight.trip_risk_score_bps),
            levels: BTreeMap::new(),
            applied: 0,
            skipped: 0,
            last_config: None,
            last_policy: None,
            stamps: VecDeque::new(),
            last_time_us: 0,
            stamp_window_us: installed.config.stamp_window_ms.saturating_mul(1000),
            keys: BTreeMap::new(),
            snapshot_size: None,
            stamp_floor_us: 0,
            assembling: None,
        };
        if let Some(bytes) = &args.snapshot {
            let part = match self.open_snapshot_part(bytes) {
                Ok(part) if part.index == 0 => part,
                Ok(_) => return refuse(EnclaveErrorCode::SealSnapshotMismatch, "snapshot: not the first part"),
                Err(response) => return response,
            };
            resuming.assembling = Some(Assembly {
                id: part.id,
                count: part.count,
                size: part.size,
                parts: vec![part.plaintext],
                checkpoint: args.checkpoint.clone(),
                key,
            });
            if let Err(response) = resuming.start_when_assembled(installed.policy.as_ref()) {
                return response;
            }
        }
        let progress = progress(&resuming);
        *lock(&self.resuming) = Some(resuming);
        progress
    }

    /// The audit key the previous enclave's `document` attests, named as `checkpoint`'s origin.
    /// The document is checked at its own timestamp (an archived document's certificates have
    /// expired since): chain to the trusted root, signature, not debug mode, and this image's PCR0.
    fn previous_audit_key(&self, document: &[u8], checkpoint: &[u8]) -> Result<VerifierKey, Response> {
        use sentinel_attestation::{check_attestation, verify_with, CheckExpectations, UnixTime, VerifyOptions};
        let refused = |why: String| refuse(EnclaveErrorCode::AuditResumeAttestation, why);
        let Some(root) = &self.attestation_root else {
            return Err(refused("this enclave has no trusted root to check a previous enclave's document".into()));
        };
        let options = VerifyOptions::default();
        let report = check_attestation(
            document,
            root,
            UnixTime::from_millis(now_us() / 1000),
            &options,
            &CheckExpectations::default(),
        );
        let Some(at) = report.document.as_ref().map(|d| d.timestamp_ms as u64) else {
            return Err(refused("attestation: not an attestation document".into()));
        };
        let verified = verify_with(document, root, UnixTime::from_millis(at), &options)
            .map_err(|e| refused(format!("attestation: {}: {}", e.code(), e.message())))?;
        if verified.pcr(0) != Some(&self.pcrs()[0][..]) {
            return Err(refused("attestation: PCR0 is not this enclave's (another image kept the log)".into()));
        }
        let keys = verified
            .public_key()
            .ok_or_else(|| refused("attestation: the document carries no key bundle".into()))
            .and_then(|bytes| {
                sentinel_evidence::AttestedKeys::from_bytes(bytes)
                    .map_err(|e| refused(format!("attestation: key bundle: {}", e.message())))
            })?;
        let public = ed25519_dalek::VerifyingKey::from_bytes(&keys.audit)
            .map_err(|_| refused("attestation: the audit key is not an Ed25519 key".into()))?;
        let note = Note::parse(checkpoint).map_err(|e| invalid(&e))?;
        let origin = note.text.lines().next().unwrap_or_default();
        if !origin.starts_with("sentinel/log/") {
            return Err(refuse(
                EnclaveErrorCode::AuditResumeInvalid,
                "checkpoint: its origin is not a Sentinel log's (`sentinel/log/...`)",
            ));
        }
        VerifierKey::new(origin, public).map_err(|e| invalid(&e))
    }

    /// `audit_resume_snapshot`: the next part of the snapshot `audit_resume_begin` began. A part
    /// that does not open or is not the next one ends the resume (the host may begin again).
    pub(crate) fn resume_snapshot(&self, bytes: &[u8]) -> Response {
        let installed = self.installed();
        let mut guard = lock(&self.resuming);
        let Some(resuming) = guard.as_mut() else {
            return refuse(EnclaveErrorCode::AuditResumeState, "no resume in progress (`audit_resume_begin` first)");
        };
        if resuming.assembling.is_none() {
            return refuse(EnclaveErrorCode::AuditResumeState, "no snapshot part is expected");
        }
        let added = self.open_snapshot_part(bytes).and_then(|part| {
            let assembly = resuming.assembling.as_mut().expect("checked above");
            let expected = (assembly.id.as_str(), assembly.count, assembly.size, assembly.parts.len() as u64);
            if (part.id.as_str(), part.count, part.size, part.index) != expected {
                return Err(refuse(
                    EnclaveErrorCode::SealSnapshotMismatch,
                    format!(
                        "snapshot: part {}/{} of snapshot {} is not part {} of snapshot {}",
                        part.index,
                        part.count,
                        part.id,
                        assembly.parts.len(),
                        assembly.id
                    ),
                ));
            }
            assembly.parts.push(part.plaintext);
            resuming.start_when_assembled(installed.as_ref().and_then(|i| i.policy.as_ref()))
        });
        match added {
            Ok(()) => progress(resuming),
            Err(response) => {
                *guard = None;
                response
            }
        }
    }

    /// `audit_resume_records`: the next records, verified and replayed into the scratch state.
    pub(crate) fn resume_records(&self, records: &[Vec<u8>]) -> Response {
        let mut guard = lock(&self.resuming);
        let Some(resuming) = guard.as_mut() else {
            return refuse(EnclaveErrorCode::AuditResumeState, "no resume in progress (`audit_resume_begin` first)");
        };
        if resuming.assembling.is_some() {
            return refuse(EnclaveErrorCode::AuditResumeState, "snapshot parts are missing (`audit_resume_snapshot`)");
        }
        for bytes in records {
            match resuming.replay.push(bytes) {
                Ok((record, coverage)) => resuming.apply(&record, coverage),
                Err(e) => {
                    // The log does not verify: nothing of it is kept; the host may begin again.
                    *guard = None;
                    return invalid(&e);
                }
            }
        }
        progress(resuming)
    }

    /// `audit_resume_finish`: the records covered the checkpoint; swap the rebuilt state in and
    /// continue the log.
    pub(crate) fn resume_finish(&self) -> Response {
        let Some(resuming) = lock(&self.resuming).take() else {
            return refuse(EnclaveErrorCode::AuditResumeState, "no resume in progress (`audit_resume_begin` first)");
        };
        if resuming.assembling.is_some() {
            return refuse(EnclaveErrorCode::AuditResumeState, "snapshot parts are missing (`audit_resume_snapshot`)");
        }
        let Some(installed) = self.installed() else { return not_configured() };
        let Resuming {
            replay,
            previous_key,
            policy,
            trips,
            levels,
            applied,
            skipped,
            last_config,
            last_policy,
            stamps,
            last_time_us: _,
            stamp_window_us,
            keys,
            snapshot_size,
            stamp_floor_us,
            assembling: _,
        } = resuming;
        let replayed = match replay.finish() {
            Ok(replayed) => replayed,
            Err(e) => return invalid(&e),
        };
        let hex = |h: &[u8; 32]| hex::encode(h);
        if let Some(last) = last_config.filter(|last| *last != installed.config_hash) {
            return refuse(
                EnclaveErrorCode::AuditResumeMismatch,
                format!(
                    "the log was last kept under configuration {} but {} is in force; boot with the log's configuration",
                    hex(&last),
                    hex(&installed.config_hash)
                ),
            );
        }
        let policy_hash = installed.policy.as_ref().map(|p| p.hash);
        if last_policy.is_some() && last_policy != policy_hash {
            return refuse(
                EnclaveErrorCode::AuditResumeMismatch,
                format!(
                    "the log was last kept under policy {} but {} is in force; boot with the log's policy and \
                     update it after the resume",
                    last_policy.as_ref().map_or("none".into(), hex),
                    policy_hash.as_ref().map_or("none".into(), hex)
                ),
            );
        }
        let now = now_us();
        // The policy counters (only if the policy is still the one the resume began with).
        if let Some((active, state)) = policy {
            let mut engine = lock(&self.policy);
            match engine.as_mut() {
                Some(engine) if Arc::ptr_eq(&engine.active, &active) => engine.state = state,
                _ => {
                    return refuse(
                        EnclaveErrorCode::AuditResumeState,
                        "the policy changed during the resume; begin the resume again",
                    )
                }
            }
        }
        self.restore_oversight(&levels, trips, now);
        self.remember_stamps(&stamps, stamp_window_us, now);
        if stamp_floor_us > 0 {
            self.stamps.lock().unwrap_or_else(|p| p.into_inner()).raise_floor(stamp_floor_us);
        }
        let mut key_check = self.check_keys_against_log(&keys);
        {
            let mut history = lock(&self.key_history);
            history.deleted = std::mem::take(&mut key_check.all_deleted).into_iter().collect();
            history.missing = std::mem::take(&mut key_check.all_missing).into_iter().collect();
        }
        let first = resumed_record(now, &previous_key, replayed.covered, replayed.size, self.attested_audit_key());
        let at = Continue {
            origin: replayed.checkpoint.origin.clone(),
            frontier: replayed.frontier,
            prev_hash: replayed.prev_hash,
        };
        let resumed_seq = match self.audit.open(now, Some((at, first))) {
            Ok(seq) => seq,
            Err(e) => return Response::error(&e),
        };
        tracing::info!(
            origin = %self.audit.origin(),
            size = replayed.size,
            covered = replayed.covered,
            snapshot = ?snapshot_size,
            applied,
            skipped,
            "audit log resumed"
        );
        self.resumed_answer(
            true,
            Some(previous_key),
            replayed.size,
            replayed.covered,
            Some(resumed_seq),
            (applied, skipped),
            key_check,
            snapshot_size,
        )
    }

    /// Rollback of deletions and withheld keys: a key the log deleted but the host served back
    /// (an old sealed record) is wiped again; a key the log created that no sealed record brought
    /// back is reported missing. A tail the host wrote could only make it wipe a key it could as
    /// well have withheld, so tail records count too.
    fn check_keys_against_log(&self, keys: &BTreeMap<String, bool>) -> KeyCheck {
        let mut check = KeyCheck::default();
        for (id, alive) in keys {
            if !alive {
                check.all_deleted.push(id.clone());
                if self.keys.remove(id) {
                    tracing::warn!(key_id = %id, "a key the audit log deleted was served back; wiped");
                    check.wiped += 1;
                    if check.wiped_ids.len() < MAX_LISTED_KEYS {
                        check.wiped_ids.push(id.clone());
                    }
                }
            } else if self.keys.with_key(id, |_| ()).is_none() {
                check.all_missing.push(id.clone());
                check.missing += 1;
                if check.missing_ids.len() < MAX_LISTED_KEYS {
                    check.missing_ids.push(id.clone());
                }
            }
        }
        if check.missing > 0 {
            tracing::warn!(
                missing = check.missing,
                "keys the audit log created are not held (sealed records withheld or lost)"
            );
        }
        check
    }

    /// `audit_start`: a new log (nothing to resume). The kill switch stays as booted.
    pub(crate) fn audit_start(&self) -> Response {
        *lock(&self.resuming) = None;
        if let Err(e) = self.audit.open(now_us(), None) {
            return Response::error(&e);
        }
        *lock(&self.key_history) = crate::snapshot::KeyHistory::default();
        self.resumed_answer(false, None, 0, 0, None, (0, 0), KeyCheck::default(), None)
    }

    #[allow(clippy::too_many_arguments)]
    fn resumed_answer(
        &self,
        resumed: bool,
        previous_verifier_key: Option<String>,
        size: u64,
        covered: u64,
        resumed_seq: Option<u64>,
        (effects_applied, effects_skipped): (u64, u64),
        keys: KeyCheck,
        snapshot_size: Option<u64>,
    ) -> Response {
        let status = crate::oversight::read(&self.oversight.switch).status();
        Response::AuditResumed(Box::new(AuditResumed {
            resumed,
            origin: self.audit.origin(),
            verifier_key: self.audit.verifier_key(),
            previous_verifier_key,
            size,
            covered,
            resumed_seq,
            effects_applied,
            effects_skipped,
            global_level: status.global.level.as_str().to_string(),
            scopes: status.scopes.iter().map(|s| format!("{}={}", s.scope, s.level)).collect(),
            keys_wiped: keys.wiped,
            keys_wiped_ids: keys.wiped_ids,
            keys_missing: keys.missing,
            keys_missing_ids: keys.missing_ids,
            snapshot_size,
        }))
    }

    /// Puts the stamps the previous enclave accepted into the replay cache; if it cannot hold
    /// them all, refuses every stamp dated before the last one instead (for one window at most).
    fn remember_stamps(&self, stamps: &VecDeque<([u8; 32], u64)>, window_us: u64, now: u64) {
        let mut verifier = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
        for (key, timestamp_us) in stamps {
            if !verifier.remember(*key, *timestamp_us, window_us, now) {
                let newest = stamps.iter().map(|(_, t)| *t).max().unwrap_or(0);
                verifier.raise_floor(newest.saturating_add(1));
                tracing::warn!("replay cache full while resuming: stamps dated up to the log's last one are refused");
                return;
            }
        }
    }

    fn attested_audit_key(&self) -> [u8; 32] {
        self.audit.public_key()
    }

    /// Sets every scope the log names to its last level (the global scope keeps its boot Red
    /// when the log never resumed it), and the trip counts.
    fn restore_oversight(&self, levels: &BTreeMap<Scope, LevelAt>, trips: Trips, now: u64) {
        {
            let mut switch = crate::oversight::write(&self.oversight.switch);
            for (scope, at) in levels {
                switch.set(scope.clone(), at.level, at.reason.clone(), at.by.clone(), now);
            }
        }
        self.oversight.replace_trips(trips);
    }
}

fn progress(resuming: &Resuming) -> Response {
    Response::AuditResumeProgress(AuditResumeProgress {
        next: resuming.replay.next_seq(),
        checkpoint_size: resuming.replay.checkpoint().size,
        snapshot_parts_missing: resuming.assembling.as_ref().map_or(0, |a| a.count - a.parts.len() as u64),
    })
}

impl Resuming {
    /// Once every part of the snapshot arrived: decodes it and starts from it.
    fn start_when_assembled(&mut self, policy_in_force: Option<&crate::policy::PolicyInfo>) -> Result<(), Response> {
        let Some(assembly) = self.assembling.take_if(|a| a.parts.len() as u64 == a.count) else { return Ok(()) };
        let snapshot = crate::snapshot::assemble(&assembly.parts)
            .map_err(|m| refuse(EnclaveErrorCode::SealSnapshotMismatch, format!("snapshot: {m}")))?;
        if snapshot.size != assembly.size {
            return Err(refuse(EnclaveErrorCode::SealSnapshotMismatch, "snapshot: its parts name another log size"));
        }
        self.start_from(snapshot, &assembly.checkpoint, &assembly.key, policy_in_force)
    }

    /// Starts from a sealed snapshot (`src/snapshot.rs`): the log is checked from the snapshot's
    /// position (a checkpoint older than it is a rollback), and the state is the snapshot's.
    fn start_from(
        &mut self,
        snapshot: StateSnapshot,
        checkpoint: &[u8],
        key: &VerifierKey,
        policy_in_force: Option<&crate::policy::PolicyInfo>,
    ) -> Result<(), Response> {
        let mismatch = |m: String| refuse(EnclaveErrorCode::SealSnapshotMismatch, m);
        if snapshot.origin != self.replay.checkpoint().origin {
            return Err(mismatch(format!(
                "snapshot: made for log {}, but the checkpoint is of log {}",
                snapshot.origin,
                self.replay.checkpoint().origin
            )));
        }
        let (frontier, prev_hash) = snapshot.frontier().map_err(mismatch)?;
        self.replay = LogReplay::resume_from(checkpoint, key, frontier, prev_hash).map_err(|e| match e.code() {
            "AUDIT_TRUNCATED" | "AUDIT_CHECKPOINT_INCONSISTENT" => {
                refuse(EnclaveErrorCode::AuditResumeRollback, format!("{}: {}", e.code(), e.message()))
            }
            _ => invalid(&e),
        })?;
        self.last_config = Some(StateSnapshot::hash32(&snapshot.config_hash, "config_hash").map_err(mismatch)?);
        self.last_policy = match &snapshot.policy_hash {
            Some(h) => Some(StateSnapshot::hash32(h, "policy_hash").map_err(mismatch)?),
            None => None,
        };
        self.last_time_us = snapshot.time_us;
        if let (Some((active, state)), Some(bytes)) = (self.policy.as_mut(), &snapshot.policy_state) {
            let mut restored = PolicyState::from_snapshot(bytes)
                .map_err(|e| mismatch(format!("snapshot: policy state: {}", e.message)))?;
            // Counters made under another policy keep only the rules that kept their id and type,
            // as a policy update does.
            if policy_in_force.map(|p| p.hash) != self.last_policy {
                restored.retain_for(&active.parsed.policy);
            }
            *state = restored;
        }
        self.trips.restore_denials(&snapshot.trips).map_err(|e| mismatch(format!("snapshot: trips: {e}")))?;
        for entry in &snapshot.scopes {
            let (Ok(scope), Some(level)) = (Scope::parse(&entry.scope, "scope"), Level::from_name(&entry.level)) else {
                return Err(mismatch(format!("snapshot: scope `{}` = `{}` does not parse", entry.scope, entry.level)));
            };
            let reason = format!("{} (restored from the sealed snapshot at log size {})", entry.reason, snapshot.size);
            self.levels.insert(scope, LevelAt { level, reason, by: entry.by.clone() });
        }
        let mut stamps = snapshot.stamps().map_err(mismatch)?;
        stamps.sort_by_key(|(_, timestamp_us)| *timestamp_us);
        self.stamps = stamps.into_iter().collect();
        self.stamp_floor_us = snapshot.stamp_floor_us;
        self.keys = snapshot.keys.iter().cloned().collect();
        self.snapshot_size = Some(snapshot.size);
        Ok(())
    }

    /// Replays one record's effects into the scratch state.
    fn apply(&mut self, record: &AuditRecord, coverage: Coverage) {
        let tail = matches!(coverage, Coverage::Tail);
        self.last_time_us = self.last_time_us.max(record.time_us);
        // A stamp lives until its date + the window; one dead at this record's time stays dead
        // (records come roughly in time order, so the front is the oldest).
        while self.stamps.front().is_some_and(|(_, t)| t.saturating_add(self.stamp_window_us) < self.last_time_us) {
            self.stamps.pop_front();
        }
        // The host can write any tail it likes (records are not signed one by one), so what the tail
        // says about the configuration or policy in force, or about denials to forget, counts for
        // nothing: the enclave checkpoints every configuration and policy change at once, so a
        // genuine one is covered unless the host lost that checkpoint (then the resume is refused).
        match record.kind {
            RecordKind::Config if !tail => self.last_config = record.result_digest,
            RecordKind::Policy if !tail => self.last_policy = record.result_digest,
            _ => {}
        }
        if let (RecordKind::Decision, Some(principal), Some(decision), false) =
            (record.kind, record.principal.as_deref(), record.decision.as_ref(), tail)
        {
            if let Some(denied) = counts_for_trips(decision) {
                self.trips.record(principal, denied, None);
            }
        }
        // The policy's clock moved with every decision it counted, effects or not.
        if let (Some((_, state)), Some(decision)) = (self.policy.as_mut(), record.decision.as_ref()) {
            if !decision.rules.is_empty() && matches!(record.kind, RecordKind::Decision | RecordKind::Approval) {
                state.advance_clock(record.time_us);
            }
        }
        for effect in &record.effects {
            let applied = if effect.op == LEVEL_OP {
                self.apply_level(record, effect, tail)
            } else if effect.op == STAMP_OP {
                self.keep_stamp(effect)
            } else if effect.op == RESUMED_OP {
                continue;
            } else if effect.op == KEY_CREATED_OP || effect.op == KEY_DELETED_OP {
                self.keys.insert(effect.target.clone(), effect.op == KEY_CREATED_OP);
                true
            } else {
                self.apply_policy(effect, record.time_us)
            };
            if applied {
                self.applied += 1;
            } else {
                self.skipped += 1;
            }
        }
    }

    fn apply_level(&mut self, record: &AuditRecord, effect: &Effect, tail: bool) -> bool {
        let (Ok(scope), Some(level)) =
            (Scope::parse(&effect.target, "effect.target"), effect.value.as_deref().and_then(Level::from_name))
        else {
            return false;
        };
        // Before any record the global scope is Red (every enclave boots halted), others Green.
        let current =
            self.levels.get(&scope).map_or(if scope.is_global() { Level::Red } else { Level::Green }, |a| a.level);
        if tail && level < current {
            // Only the hash chain vouches for a tail record: it may halt, never release.
            return false;
        }
        if level == Level::Green {
            if let Scope::Principal(p) = &scope {
                self.trips.reset(p);
            }
        }
        let by = record.principal.as_deref().unwrap_or_default().split(',').map(str::to_string).collect();
        let reason = format!("restored from the audit log (record {})", record.seq);
        self.levels.insert(scope, LevelAt { level, reason, by });
        true
    }

    fn keep_stamp(&mut self, effect: &Effect) -> bool {
        let mut key = [0u8; 32];
        let (Ok(()), Some(Ok(timestamp_us))) =
            (hex::decode_to_slice(&effect.target, &mut key), effect.value.as_deref().map(str::parse::<u64>))
        else {
            return false;
        };
        self.stamps.push_back((key, timestamp_us));
        true
    }

    fn apply_policy(&mut self, effect: &Effect, time_us: u64) -> bool {
        let Some((active, state)) = self.policy.as_mut() else { return false };
        let Some(subject) = effect.subject.as_deref() else { return false };
        let Some(parsed) = sentinel_policy::Effect::parse(&effect.op, &effect.target, subject, effect.value.as_deref())
        else {
            return false;
        };
        // Counter changes only ever make the state stricter, so tail records apply too.
        sentinel_policy::replay(active, state, &parsed, time_us)
    }
}

/// Whether a decision fed the consecutive-denials trip, and as a denial: what `decide` passes
/// to `record_for_trips` (policy refusals count, an answer the policy reached resets).
fn counts_for_trips(decision: &Decision) -> Option<bool> {
    match decision.outcome {
        Outcome::Allowed | Outcome::Pending | Outcome::Approved => Some(false),
        Outcome::Denied => match decision.code.as_deref() {
            Some("POLICY_DENIED" | "POLICY_NO_MATCH" | "POLICY_ERROR") => Some(true),
            _ => None,
        },
        Outcome::Rejected => None,
    }
}

/// The first record of a resumed log: who continues it (this enclave's audit key, as the
/// result digest), from what (the previous verifier key and how much of the log its checkpoint
/// covered, as an effect).
fn resumed_record(now: u64, previous_key: &str, covered: u64, size: u64, audit_key: [u8; 32]) -> AuditRecord {
    AuditRecord {
        seq: 0,
        time_us: now,
        kind: RecordKind::LogResumed,
        principal: Some(crate::oversight::BY_ENCLAVE.to_string()),
        request_digest: None,
        decision: Some(Decision { outcome: Outcome::Allowed, code: None, rules: Vec::new() }),
        result_digest: Some(Sha256::digest(audit_key).into()),
        prev_hash: [0; 32],
        effects: vec![Effect {
            op: RESUMED_OP.to_string(),
            target: previous_key.chars().take(sentinel_audit::record::MAX_TEXT_LEN).collect(),
            subject: None,
            value: Some(format!("covered={covered} size={size}")),
        }],
    }
}
