//! The enclave's audit log (issue #11): one canonical [`AuditRecord`] per
//! decision and per admin action, made here, in the enclave, and appended to
//! an RFC 6962 tree whose head the enclave signs as a C2SP checkpoint with
//! its attested audit key. The host stores the records (it is the only one
//! with a disk) but never makes one: a record it alters, drops, reorders or
//! truncates no longer matches the signed checkpoints, and every receipt
//! names its record's sequence number and the latest checkpoint, so a client
//! holding a receipt can later demand the proof.
//!
//! The enclave keeps the records the host has not yet acknowledged as
//! durable (`audit_ack`) and serves them again on `audit_read`, so a host
//! that crashed between an answer and its fsync can still store them. That
//! backlog is bounded: past [`AuditPolicy::max_backlog`] unacknowledged
//! records nothing more is signed (`AUDIT_BACKLOG_FULL`), so a host that
//! stops storing the log stops getting signatures, whatever it claims.
//! Refusals are still recorded up to twice that bound (they carry no
//! signature); past it a refusal's receipt has no `audit_seq`.
//!
//! Checkpoints are signed every [`AuditPolicy::checkpoint_every`] records, on
//! the binary's timer ([`AuditLog::tick`]) when the tree grew, and on demand
//! (`audit_checkpoint`, what a clean shutdown asks for). The tree only grows,
//! so no two checkpoints can disagree; [`AuditLog::sign_current`] still
//! refuses to sign a root for a size it signed another root for.
//!
//! A log is open from boot, or, for an enclave started with `--audit-resume`,
//! once the host resumed the previous enclave's log (`src/resume.rs`) or
//! started a new one. Until then nothing is signed (`AUDIT_LOG_NOT_OPEN`) and
//! the records of what happens anyway (the boot configuration and policy,
//! refusals) wait, unnumbered, to follow the resumed log's records.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use sentinel_audit::merkle::leaf_hash;
use sentinel_audit::note::VerifierKey;
use sentinel_audit::record::{record_hash, Effect};
use sentinel_audit::{sign_checkpoint, AuditRecord, Checkpoint, Frontier, Hash};
use sentinel_protocol::{AuditAcked, AuditEntry, AuditRecords, EnclaveError, EnclaveErrorCode, Response};

/// When checkpoints are signed and how much the host may leave unacknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditPolicy {
    /// A checkpoint at least every this many records (`--audit-checkpoint-every`).
    pub checkpoint_every: u64,
    /// And at least every this many microseconds while the tree grows (`--audit-checkpoint-ms`).
    pub checkpoint_interval_us: u64,
    /// Records the host may leave unacknowledged before signing stops (`--audit-backlog`).
    pub max_backlog: u64,
    /// Hold every session answer until the host acknowledged its record as durable
    /// (`--audit-strict-sessions`; the servers wait, `AuditLog::wait_durable`).
    pub strict_sessions: bool,
}

impl Default for AuditPolicy {
    fn default() -> Self {
        AuditPolicy {
            checkpoint_every: 1024,
            checkpoint_interval_us: 1_000_000,
            max_backlog: 16_384,
            strict_sessions: false,
        }
    }
}

/// Most records one `audit_read` answers; [`take_records`] also caps their bytes so the answer
/// stays under the frame cap (records are at most 32 KiB, in practice about 300 bytes).
pub const MAX_READ: u64 = sentinel_protocol::limits::MAX_AUDIT_READ_RECORDS as u64;

/// Up to `max` records from the front of `records`, at most `MAX_AUDIT_READ_BYTES` of them
/// (always at least one, which a record's own cap keeps under the frame cap).
fn take_records<'a>(records: impl Iterator<Item = &'a Vec<u8>>, max: u64) -> Vec<Vec<u8>> {
    let mut bytes = 0usize;
    let mut out = Vec::new();
    for record in records.take(max.min(MAX_READ) as usize) {
        bytes += record.len();
        if !out.is_empty() && bytes > sentinel_protocol::limits::MAX_AUDIT_READ_BYTES {
            break;
        }
        out.push(record.clone());
    }
    out
}

/// A signed checkpoint and what it commits to.
struct Signed {
    size: u64,
    root: Hash,
    note: Arc<str>,
}

/// Whether the log is open, or waiting for the host to resume or start it.
enum Phase {
    Open,
    /// Records made before the log opened, numbered when it does.
    Waiting(Vec<AuditRecord>),
}

/// Where a resumed log continues (`src/resume.rs` verified it against the previous key's checkpoint).
pub(crate) struct Continue {
    pub(crate) origin: String,
    pub(crate) frontier: Frontier,
    pub(crate) prev_hash: Hash,
}

struct LogState {
    phase: Phase,
    origin: String,
    verifier_key: String,
    frontier: Frontier,
    prev_hash: Hash,
    /// Records `durable .. frontier.size()`, oldest first.
    pending: VecDeque<Vec<u8>>,
    durable: u64,
    latest: Option<Signed>,
    latest_at_us: u64,
}

/// The log: its key, its identity and its tree.
pub struct AuditLog {
    key: SigningKey,
    policy: AuditPolicy,
    state: Mutex<LogState>,
    /// Signalled whenever the tree grows (`audit_wait` sleeps on it).
    grew: Condvar,
    /// `state.durable`, readable without the lock by the servers holding session answers.
    durable: AtomicU64,
    durable_changed: tokio::sync::Notify,
}

/// The longest `audit_wait`.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// What a receipt says about its record.
pub(crate) struct Appended {
    pub(crate) entry: AuditEntry,
    /// The latest signed checkpoint note once this record is in.
    pub(crate) checkpoint: Option<Arc<str>>,
}

impl AuditLog {
    /// A new, empty log signed by `key`. Its origin (the checkpoint key's name) is
    /// `sentinel/log/` and the first 8 bytes of the public key in hex: unique per log, and
    /// derived from what the attestation commits to rather than chosen by anyone.
    /// With `wait`, the log stays closed until [`AuditLog::open`] (`--audit-resume`).
    pub fn new(key: SigningKey, policy: AuditPolicy, wait: bool) -> Self {
        let public = key.verifying_key();
        let origin = format!("sentinel/log/{}", hex::encode(&public.as_bytes()[..8]));
        let verifier_key = VerifierKey::new(&origin, public).expect("a valid key name").to_string();
        AuditLog {
            key,
            policy,
            state: Mutex::new(LogState {
                phase: if wait { Phase::Waiting(Vec::new()) } else { Phase::Open },
                origin,
                verifier_key,
                frontier: Frontier::new(),
                prev_hash: [0; 32],
                pending: VecDeque::new(),
                durable: 0,
                latest: None,
                latest_at_us: 0,
            }),
            grew: Condvar::new(),
            durable: AtomicU64::new(0),
            durable_changed: tokio::sync::Notify::new(),
        }
    }

    /// The Ed25519 public key that signs checkpoints (in the attested key bundle).
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The log's origin (`sentinel/log/<16 hex>`; a resumed log keeps the previous enclave's).
    pub fn origin(&self) -> String {
        self.lock().origin.clone()
    }

    /// The verifier key in Go `sumdb/note` text form: `<origin>+<id>+<base64 key>`.
    pub fn verifier_key(&self) -> String {
        self.lock().verifier_key.clone()
    }

    /// Whether the log is open (not waiting for a resume).
    pub fn is_open(&self) -> bool {
        matches!(self.lock().phase, Phase::Open)
    }

    /// Opens a waiting log: continuing `resumed` (its record, the `log_resumed` one, numbered
    /// right after the resumed records) or as a new log. The records made while it waited
    /// follow, renumbered and chained, and a checkpoint is signed at once, so this enclave's key
    /// vouches for the whole log from the start. Returns the first record's sequence number.
    /// `AUDIT_RESUME_STATE` if the log is already open.
    pub(crate) fn open(&self, now_us: u64, resumed: Option<(Continue, AuditRecord)>) -> Result<u64, EnclaveError> {
        let mut state = self.lock();
        let Phase::Waiting(waiting) = std::mem::replace(&mut state.phase, Phase::Open) else {
            return Err(EnclaveError::new(EnclaveErrorCode::AuditResumeState, "the audit log is already open"));
        };
        if let Some((at, first)) = resumed {
            match VerifierKey::new(&at.origin, self.key.verifying_key()) {
                Ok(key) => state.verifier_key = key.to_string(),
                Err(e) => {
                    state.phase = Phase::Waiting(waiting);
                    return Err(EnclaveError::new(EnclaveErrorCode::AuditResumeInvalid, e.message().to_string()));
                }
            }
            state.origin = at.origin;
            state.durable = at.frontier.size();
            self.set_durable(state.durable);
            state.frontier = at.frontier;
            state.prev_hash = at.prev_hash;
            state.pending.clear();
            state.latest = None;
            self.push_numbered(&mut state, first);
        }
        let first_seq = state.durable;
        for record in waiting {
            self.push_numbered(&mut state, record);
        }
        self.sign_locked(&mut state, now_us);
        Ok(first_seq)
    }

    fn push_numbered(&self, state: &mut LogState, mut record: AuditRecord) {
        record.seq = state.frontier.size();
        record.prev_hash = state.prev_hash;
        self.push_locked(state, record);
    }

    /// Encodes and appends one record (`None` when it cannot be: logged, never expected).
    fn push_locked(&self, state: &mut LogState, record: AuditRecord) -> Option<Vec<u8>> {
        let bytes = match record.encode() {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!(code = e.code(), message = e.message(), "audit record not made");
                return None;
            }
        };
        if let Err(e) = state.frontier.push(leaf_hash(&bytes)) {
            tracing::error!(code = e.code(), message = e.message(), "audit tree full");
            return None;
        }
        state.prev_hash = record_hash(&bytes);
        state.pending.push_back(bytes.clone());
        self.grew.notify_all();
        Some(bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a signature may be made now: refused with `AUDIT_BACKLOG_FULL` while the host
    /// leaves [`AuditPolicy::max_backlog`] records or more unacknowledged.
    pub(crate) fn check_room(&self) -> Result<(), EnclaveError> {
        let state = self.lock();
        if let Phase::Waiting(_) = state.phase {
            return Err(not_open());
        }
        let backlog = state.pending.len() as u64;
        if backlog >= self.policy.max_backlog {
            return Err(EnclaveError::new(
                EnclaveErrorCode::AuditBacklogFull,
                format!(
                    "audit log: {backlog} records not yet acknowledged as stored by the host (limit {}); nothing is \
                     signed until it stores them (`audit_ack`)",
                    self.policy.max_backlog
                ),
            ));
        }
        Ok(())
    }

    /// Appends the record `make(seq, prev_hash)` builds. `None` when the record cannot be kept:
    /// the backlog is at twice its bound (only refusals get this far past the bound) or the
    /// record does not encode (a bug; logged). Signs a checkpoint every
    /// [`AuditPolicy::checkpoint_every`] records.
    pub(crate) fn append(&self, now_us: u64, make: impl FnOnce(u64, Hash) -> AuditRecord) -> Option<Appended> {
        let mut state = self.lock();
        if let Phase::Waiting(waiting) = &mut state.phase {
            // Numbered when the log opens; no answer names it (its receipt has no `audit_seq`).
            if (waiting.len() as u64) < self.policy.max_backlog {
                waiting.push(make(0, [0; 32]));
            }
            return None;
        }
        if state.pending.len() as u64 >= self.policy.max_backlog.saturating_mul(2) {
            return None;
        }
        let seq = state.frontier.size();
        let record = make(seq, state.prev_hash);
        let bytes = self.push_locked(&mut state, record)?;
        let due = state.latest.as_ref().map_or(0, |s| s.size) + self.policy.checkpoint_every <= seq + 1;
        if due {
            self.sign_locked(&mut state, now_us);
        }
        Some(Appended {
            entry: AuditEntry { seq, record: bytes },
            checkpoint: state.latest.as_ref().map(|s| s.note.clone()),
        })
    }

    /// Signs a checkpoint of the current tree if it grew since the last one.
    fn sign_locked(&self, state: &mut LogState, now_us: u64) {
        if let Phase::Waiting(_) = state.phase {
            return;
        }
        let (size, root) = (state.frontier.size(), state.frontier.root());
        if let Some(latest) = &state.latest {
            if latest.size == size {
                // Same size: the tree only grows, so this is the same root; never sign another.
                if latest.root != root {
                    tracing::error!(size, "audit log: refusing to sign a second root for one size");
                }
                return;
            }
        }
        let checkpoint = Checkpoint { origin: state.origin.clone(), size, root, extensions: Vec::new() };
        match sign_checkpoint(&checkpoint, &self.key) {
            Ok(note) => {
                state.latest = Some(Signed { size, root, note: note.into() });
                state.latest_at_us = now_us;
            }
            Err(e) => tracing::error!(code = e.code(), message = e.message(), "audit checkpoint not signed"),
        }
    }

    /// Where the log stands, with a checkpoint signed at exactly that size (a state snapshot is
    /// made there: `src/snapshot.rs`). `None` while the log waits for a resume.
    pub(crate) fn position(&self, now_us: u64) -> Option<crate::snapshot::Position> {
        let mut state = self.lock();
        if let Phase::Waiting(_) = state.phase {
            return None;
        }
        self.sign_locked(&mut state, now_us);
        let checkpoint = state.latest.as_ref().filter(|s| s.size == state.frontier.size())?.note.clone();
        Some(crate::snapshot::Position {
            origin: state.origin.clone(),
            frontier: state.frontier.clone(),
            prev_hash: state.prev_hash,
            checkpoint,
        })
    }

    /// Signs a checkpoint now if the tree grew (clean shutdown, `audit_checkpoint`).
    pub fn sign_current(&self, now_us: u64) {
        let mut state = self.lock();
        self.sign_locked(&mut state, now_us);
    }

    /// The timer: a checkpoint when the last one is older than the interval and the tree grew.
    pub fn tick(&self, now_us: u64) {
        let mut state = self.lock();
        if now_us.saturating_sub(state.latest_at_us) >= self.policy.checkpoint_interval_us {
            self.sign_locked(&mut state, now_us);
        }
    }

    /// `audit_read`: records from `from` (between the acknowledged and the made ones).
    pub(crate) fn read(&self, from: u64, max: u64) -> Response {
        let state = self.lock();
        if let Phase::Waiting(_) = state.phase {
            return Response::error(&not_open());
        }
        let size = state.frontier.size();
        if from < state.durable || from > size {
            return Response::error(&EnclaveError::new(
                EnclaveErrorCode::AuditRangeUnavailable,
                format!(
                    "from: the enclave holds records {} to {} (the host acknowledged those below {})",
                    state.durable, size, state.durable
                ),
            ));
        }
        let skip = (from - state.durable) as usize;
        let records = take_records(state.pending.iter().skip(skip), max);
        self.answer(&state, from, records)
    }

    fn answer(&self, state: &LogState, from: u64, records: Vec<Vec<u8>>) -> Response {
        Response::AuditRecords(AuditRecords {
            from,
            records,
            size: state.frontier.size(),
            durable: state.durable,
            checkpoint: state.latest.as_ref().map(|s| s.note.as_bytes().to_vec()),
            origin: state.origin.clone(),
            verifier_key: state.verifier_key.clone(),
        })
    }

    /// `audit_checkpoint`: signs the current tree if it grew, then answers like `audit_read`
    /// from the acknowledged position.
    pub(crate) fn checkpoint(&self, now_us: u64) -> Response {
        let mut state = self.lock();
        if let Phase::Waiting(_) = state.phase {
            return Response::error(&not_open());
        }
        self.sign_locked(&mut state, now_us);
        let from = state.durable;
        let records = take_records(state.pending.iter(), MAX_READ);
        self.answer(&state, from, records)
    }

    /// `audit_ack`: the host stored records below `durable`; forget them.
    pub(crate) fn ack(&self, durable: u64) -> Response {
        let mut state = self.lock();
        if let Phase::Waiting(_) = state.phase {
            return Response::error(&not_open());
        }
        let size = state.frontier.size();
        if durable < state.durable || durable > size {
            return Response::error(&EnclaveError::new(
                EnclaveErrorCode::AuditAckInvalid,
                format!(
                    "durable: must be between {} (the last acknowledgement) and {size} (records made)",
                    state.durable
                ),
            ));
        }
        let forget = (durable - state.durable) as usize;
        state.pending.drain(..forget);
        state.durable = durable;
        self.set_durable(durable);
        Response::AuditAcked(AuditAcked { durable })
    }

    fn set_durable(&self, durable: u64) {
        self.durable.store(durable, Ordering::Release);
        self.durable_changed.notify_waiters();
    }

    /// Records `0..durable()` are stored durably (the host's last acknowledgement).
    pub fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Whether session answers wait for their record to be durable (`--audit-strict-sessions`).
    pub fn strict_sessions(&self) -> bool {
        self.policy.strict_sessions
    }

    /// Resolves once records `0..size` are durable (the async server, before it writes a session
    /// answer in strict mode); the caller bounds the wait.
    pub async fn wait_durable(&self, size: u64) {
        loop {
            let changed = self.durable_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.durable() >= size {
                return;
            }
            changed.await;
        }
    }

    /// `audit_wait`: `audit_read` once the log holds a record at `from` or later (or after
    /// `timeout`, at most [`MAX_WAIT`], with none). Blocks the calling thread: the async server
    /// runs it on the blocking pool, the busy-poll server on the connection's own thread.
    pub(crate) fn wait(&self, from: u64, max: u64, timeout: Duration) -> Response {
        let state = self.lock();
        let (state, _) = self
            .grew
            .wait_timeout_while(state, timeout.min(MAX_WAIT), |s| {
                matches!(s.phase, Phase::Open) && s.frontier.size() <= from
            })
            .unwrap_or_else(|p| p.into_inner());
        drop(state);
        self.read(from, max)
    }

    /// Records made so far and records acknowledged (tests, metrics).
    pub fn sizes(&self) -> (u64, u64) {
        let state = self.lock();
        (state.frontier.size(), state.durable)
    }
}

pub(crate) fn not_open() -> EnclaveError {
    EnclaveError::new(
        EnclaveErrorCode::AuditLogNotOpen,
        "audit log: not open yet (the enclave waits for the host to resume the previous log, `audit_resume_begin`, \
         or start a new one, `audit_start`); nothing is signed until then",
    )
}

/// The record of one decided request: who asked (as authenticated, or as claimed when the
/// stamp failed), the SHA-256 of the exact body, the outcome with its code and every rule's
/// result, and the SHA-256 of the answer (the receipt's `result_hash`; never the answer).
pub(crate) fn decision_record(
    seq: u64,
    prev_hash: Hash,
    input: &crate::enclave::ReceiptInput<'_>,
    decided: &crate::decide::Decided,
) -> AuditRecord {
    use sentinel_audit::{Decision, Outcome, RecordKind, RuleResult};
    use sha2::{Digest, Sha256};
    let code = match &decided.response {
        Response::Error(e) => Some(e.code.clone()),
        _ => None,
    };
    let released = !decided.approvals.is_empty();
    let outcome = match code.as_deref() {
        None if released => Outcome::Approved,
        None => Outcome::Allowed,
        Some("APPROVAL_PENDING") => Outcome::Pending,
        Some("APPROVAL_REJECTED") => Outcome::Rejected,
        Some(_) => Outcome::Denied,
    };
    let kind = match (outcome, input.op.as_str()) {
        (Outcome::Allowed, "generate_key") => RecordKind::KeyCreated,
        (Outcome::Allowed, "import_key") => RecordKind::KeyImported,
        (Outcome::Approved | Outcome::Rejected, _) => RecordKind::Approval,
        (_, _) if matches!(code.as_deref(), Some("APPROVAL_EXPIRED")) => RecordKind::Approval,
        _ => RecordKind::Decision,
    };
    let clip = |t: &str| truncate(t, sentinel_audit::record::MAX_TEXT_LEN).to_string();
    let clip_opt = |t: &Option<String>| t.as_deref().map(clip);
    AuditRecord {
        seq,
        time_us: input.now,
        kind,
        principal: (!input.principal.is_empty()).then(|| clip(&input.principal)),
        request_digest: Some(Sha256::digest(input.body).into()),
        decision: Some(Decision {
            outcome,
            code: code.as_deref().map(clip),
            rules: decided
                .rules
                .iter()
                .take(sentinel_audit::record::MAX_RULES)
                .map(|r| RuleResult {
                    rule: clip(&r.rule),
                    rule_type: clip(&r.rule_type),
                    result: clip(&r.result),
                    value: clip_opt(&r.value),
                    limit: clip_opt(&r.limit),
                    window: clip_opt(&r.window),
                })
                .collect(),
        }),
        result_digest: decided.result_hash,
        prev_hash,
        effects: input
            .stamp
            .map(|(key, timestamp_us)| stamp_effect(&key, timestamp_us))
            .into_iter()
            .chain(key_effect(outcome, &input.op, decided.key_id.as_deref()))
            .chain(decided.effects.iter().map(policy_effect))
            .take(sentinel_audit::record::MAX_EFFECTS)
            .collect(),
    }
}

/// An accepted stamp as a record's effect: `stamp`, its replay key (hex), its timestamp. The
/// replay cache is history too: a restarted enclave remembers these (`src/resume.rs`).
fn stamp_effect(key: &[u8; 32], timestamp_us: u64) -> Effect {
    Effect { op: STAMP_OP.to_string(), target: hex::encode(key), subject: None, value: Some(timestamp_us.to_string()) }
}

/// The effect op of an accepted stamp.
pub(crate) const STAMP_OP: &str = "stamp";
/// The effect ops of a key's life: what a restarted enclave checks its sealed keys against
/// (`src/resume.rs`: a key the log deleted is wiped again; one it created but nobody loaded is reported).
pub(crate) const KEY_CREATED_OP: &str = "key_created";
pub(crate) const KEY_DELETED_OP: &str = "key_deleted";

/// `key_created` / `key_deleted` with the key id, for an allowed key creation or deletion.
fn key_effect(outcome: sentinel_audit::Outcome, op: &str, key_id: Option<&str>) -> Option<Effect> {
    let effect_op = match (outcome, op) {
        (sentinel_audit::Outcome::Allowed, "generate_key" | "import_key") => KEY_CREATED_OP,
        (sentinel_audit::Outcome::Allowed, "delete_key") => KEY_DELETED_OP,
        _ => return None,
    };
    let key_id = key_id?;
    Some(Effect {
        op: effect_op.to_string(),
        target: truncate(key_id, sentinel_audit::record::MAX_TEXT_LEN).to_string(),
        subject: None,
        value: None,
    })
}

/// A policy counter change as a record's effect (`src/resume.rs` replays it).
pub(crate) fn policy_effect(e: &sentinel_policy::Effect) -> Effect {
    let clip = |t: &str| truncate(t, sentinel_audit::record::MAX_TEXT_LEN).to_string();
    Effect { op: e.op().to_string(), target: clip(e.rule()), subject: Some(clip(e.subject())), value: e.value_text() }
}

/// A kill-switch level change as a record's effect: `level`, the scope, the level.
pub(crate) fn level_effect(scope: &sentinel_oversight::Scope, level: sentinel_oversight::Level) -> Effect {
    Effect {
        op: LEVEL_OP.to_string(),
        target: scope.to_string(),
        subject: None,
        value: Some(level.as_str().to_string()),
    }
}

/// The effect op of a kill-switch level change.
pub(crate) const LEVEL_OP: &str = "level";

/// The record of an admin action that took effect (configuration, policy, halt, resume, an
/// automatic trip): `principal` names who signed it (comma-separated ids, or `enclave`),
/// `request` is the SHA-256 of what was signed, `result` the SHA-256 of what is now in force.
#[allow(clippy::too_many_arguments)]
pub(crate) fn admin_record(
    seq: u64,
    prev_hash: Hash,
    now_us: u64,
    kind: sentinel_audit::RecordKind,
    principal: &str,
    request: Option<[u8; 32]>,
    result: Option<[u8; 32]>,
    effects: Vec<Effect>,
) -> AuditRecord {
    use sentinel_audit::{Decision, Outcome};
    AuditRecord {
        seq,
        time_us: now_us,
        kind,
        principal: (!principal.is_empty())
            .then(|| truncate(principal, sentinel_audit::record::MAX_TEXT_LEN).to_string()),
        request_digest: request,
        decision: Some(Decision { outcome: Outcome::Allowed, code: None, rules: Vec::new() }),
        result_digest: result,
        prev_hash,
        effects,
    }
}

/// At most `max` bytes of `text`, cut at a character boundary (names and codes are far shorter;
/// this only keeps a record encodable whatever a configuration allows).
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
