//! Sealed state snapshots: the enclave's whole decision state at one point of its audit log,
//! sealed, so a restart replays only the records after that point (issue #14 point 1).
//!
//! The audit log is the history and stays the authority; a snapshot is a shortcut through it
//! that the enclave itself vouches for (the AEAD under the master key and the configuration
//! lineage). `sealed_snapshot` pauses decisions (every state-changing request holds the read side
//! of `state_gate`; the snapshot takes the write side), signs a checkpoint at the log's current
//! size, and captures in one cut: the log position (origin, size, frontier, last record hash), the
//! configuration and policy hashes, the policy's counters and risk histories, the kill switch's
//! scopes, the trip counts, the stamp replay cache and the log's key history (created, deleted,
//! missing). The host stores the record once its copy of the log is durable up to that size, and
//! hands it back with `audit_resume_begin`: the enclave then starts from the snapshot
//! (`src/resume.rs`) and checks only the later records against the checkpoint. What a snapshot
//! adds beyond speed: a log older than a snapshot is refused (`AUDIT_RESUME_ROLLBACK`), and risk
//! histories (which the log does not carry) survive. What it cannot do: a host may withhold the
//! snapshot, and then the whole log is replayed as before (docs/sealed-state.md).
use std::collections::BTreeSet;
use std::time::Instant;

use sentinel_audit::merkle::{Frontier, Hash};
use sentinel_policy::RuleKind;
use sentinel_protocol::{EnclaveError, EnclaveErrorCode, Response, SealedRecord, SealedSnapshotAnswer};
use sentinel_seal::{RecordId, RecordKind, SealingKind};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use zeroize::Zeroizing;

use crate::enclave::{not_configured, now_us, Enclave};

/// Plaintext bytes per sealed part: each part travels in one frame (`MAX_FRAME_BYTES`, 1 MiB).
pub const PART_BYTES: usize = 512 * 1024;
/// Most parts one snapshot may have (64 MiB of state): past it, `SEAL_SNAPSHOT_TOO_LARGE`.
pub const MAX_PARTS: usize = 128;
const FORMAT_V1: u8 = 1;
/// Bytes of one remembered stamp: replay key (32) and timestamp (u64 BE).
const STAMP_LEN: usize = 40;

/// What the log says of keys beyond those held: deleted ids, and created ones no record brought
/// back. Kept so that the next snapshot carries the whole key history.
#[derive(Default)]
pub(crate) struct KeyHistory {
    pub(crate) deleted: BTreeSet<String>,
    pub(crate) missing: BTreeSet<String>,
}

/// The snapshot taken last, sealed in parts, until the next one replaces it (the host reads its
/// parts with `sealed_snapshot` and `part` > 0).
pub(crate) struct HeldSnapshot {
    parts: Vec<SealedRecord>,
    size: u64,
    checkpoint: Vec<u8>,
    paused_us: u64,
}

impl HeldSnapshot {
    fn answer(&self, part: usize) -> Option<SealedSnapshotAnswer> {
        Some(SealedSnapshotAnswer {
            record: self.parts.get(part)?.clone(),
            part: part as u64,
            parts: self.parts.len() as u64,
            size: self.size,
            checkpoint: self.checkpoint.clone(),
            paused_us: self.paused_us,
        })
    }
}

/// One opened part: which snapshot, which part of how many, at which log size.
pub(crate) struct SnapshotPart {
    pub(crate) id: String,
    pub(crate) index: u64,
    pub(crate) count: u64,
    pub(crate) size: u64,
    pub(crate) plaintext: Zeroizing<Vec<u8>>,
}

/// `<snapshot id>/<index>/<count>`: the AEAD binds every part to its snapshot, place and count.
fn part_name(id: &str, index: usize, count: usize) -> String {
    format!("{id}/{index}/{count}")
}

fn parse_part_name(name: &str) -> Option<(String, u64, u64)> {
    let mut fields = name.split('/');
    let (id, index, count) = (fields.next()?, fields.next()?.parse().ok()?, fields.next()?.parse().ok()?);
    (fields.next().is_none() && id.len() == 16 && index < count && count <= MAX_PARTS as u64)
        .then(|| (id.to_string(), index, count))
}

/// Puts the parts back together (each was opened and checked in order) and decodes the snapshot.
pub(crate) fn assemble(parts: &[Zeroizing<Vec<u8>>]) -> Result<StateSnapshot, String> {
    let mut whole = Zeroizing::new(Vec::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        whole.extend_from_slice(part);
    }
    StateSnapshot::decode(&whole)
}

/// A kill-switch scope as the snapshot keeps it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeEntry {
    pub(crate) scope: String,
    pub(crate) level: String,
    pub(crate) reason: String,
    pub(crate) by: Vec<String>,
}

/// The snapshot's plaintext (canonical CBOR through `ciborium`; only ever stored sealed).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateSnapshot {
    pub(crate) v: u8,
    pub(crate) origin: String,
    pub(crate) size: u64,
    /// The frontier's hashes, concatenated (32 bytes each).
    pub(crate) frontier: ByteBuf,
    pub(crate) prev_hash: ByteBuf,
    pub(crate) time_us: u64,
    pub(crate) config_hash: ByteBuf,
    pub(crate) policy_hash: Option<ByteBuf>,
    /// `PolicyState::to_snapshot` of the policy in force.
    pub(crate) policy_state: Option<ByteBuf>,
    /// `Trips::to_snapshot`: the consecutive-denial counts.
    pub(crate) trips: ByteBuf,
    /// Every scope not Green, and the global scope.
    pub(crate) scopes: Vec<ScopeEntry>,
    /// Remembered stamps, `STAMP_LEN` bytes each, and the floor below which stamps are refused.
    pub(crate) stamps: ByteBuf,
    pub(crate) stamp_floor_us: u64,
    /// Every key the log names: `true` created (held or missing), `false` deleted.
    pub(crate) keys: Vec<(String, bool)>,
}

impl StateSnapshot {
    pub(crate) fn frontier(&self) -> Result<(Frontier, Hash), String> {
        if self.frontier.len() % 32 != 0 {
            return Err("frontier: not a whole number of hashes".into());
        }
        let hashes = self.frontier.chunks(32).map(|c| c.try_into().expect("32 bytes")).collect();
        let frontier = Frontier::from_parts(self.size, hashes).map_err(|e| format!("frontier: {}", e.message()))?;
        let prev_hash = self.prev_hash.as_slice().try_into().map_err(|_| "prev_hash: not 32 bytes".to_string())?;
        Ok((frontier, prev_hash))
    }

    pub(crate) fn hash32(bytes: &ByteBuf, field: &str) -> Result<[u8; 32], String> {
        bytes.as_slice().try_into().map_err(|_| format!("{field}: not 32 bytes"))
    }

    pub(crate) fn stamps(&self) -> Result<Vec<([u8; 32], u64)>, String> {
        if self.stamps.len() % STAMP_LEN != 0 {
            return Err("stamps: not a whole number of entries".into());
        }
        Ok(self
            .stamps
            .chunks(STAMP_LEN)
            .map(|c| (c[..32].try_into().expect("32"), u64::from_be_bytes(c[32..].try_into().expect("8"))))
            .collect())
    }

    pub(crate) fn decode(plaintext: &[u8]) -> Result<StateSnapshot, String> {
        let snapshot: StateSnapshot =
            ciborium::from_reader(plaintext).map_err(|e| format!("state snapshot does not decode: {e}"))?;
        if snapshot.v != FORMAT_V1 {
            return Err(format!("state snapshot: format {} is not known", snapshot.v));
        }
        Ok(snapshot)
    }
}

fn refuse(code: EnclaveErrorCode, message: impl Into<String>) -> Response {
    Response::error(&EnclaveError::new(code, message))
}

impl Enclave {
    /// A key was deleted: the next snapshot must still say so (a stale record coming back is wiped).
    pub(crate) fn note_key_deleted(&self, key_id: &str) {
        let mut history = self.key_history.lock().unwrap_or_else(|p| p.into_inner());
        history.missing.remove(key_id);
        history.deleted.insert(key_id.to_string());
    }

    /// `sealed_snapshot`: part 0 takes a new snapshot (see the module doc); a later part is read
    /// from the snapshot taken last.
    pub(crate) fn sealed_snapshot(&self, part: u64) -> Response {
        if part > 0 {
            let held = self.held_snapshot.lock().unwrap_or_else(|p| p.into_inner());
            return match held.as_ref().and_then(|h| h.answer(part as usize)) {
                Some(answer) => Response::SealedSnapshot(Box::new(answer)),
                None => refuse(
                    EnclaveErrorCode::SealSnapshotMismatch,
                    format!("part: the snapshot taken last has no part {part} (part 0 takes one)"),
                ),
            };
        }
        if self.sealing.kind() == SealingKind::None {
            return refuse(
                EnclaveErrorCode::SealingDisabled,
                "sealing is `none`: there is no master key to seal a snapshot with",
            );
        }
        let Some(installed) = self.installed() else { return not_configured() };
        let started = Instant::now();
        let gate = self.state_gate.write().unwrap_or_else(|p| p.into_inner());
        let Some(position) = self.audit.position(now_us()) else {
            return Response::error(&crate::audit::not_open());
        };
        // Copies only while decisions wait; encoding and sorting happen after the gate opens.
        let policy = {
            let engine = self.policy.lock().unwrap_or_else(|p| p.into_inner());
            match (engine.as_ref(), installed.policy.as_ref()) {
                (Some(engine), Some(info)) => {
                    let risk =
                        engine.active.parsed.policy.rules.iter().any(|r| matches!(r.kind, RuleKind::RiskScore(_)));
                    Some((info.hash, engine.state.snapshot_copy(risk)))
                }
                _ => None,
            }
        };
        let trips = ByteBuf::from(self.oversight.trips_snapshot());
        let status = crate::oversight::read(&self.oversight.switch).status();
        let scopes = std::iter::once(&status.global)
            .chain(status.scopes.iter())
            .map(|s| ScopeEntry {
                scope: s.scope.to_string(),
                level: s.level.as_str().to_string(),
                reason: s.reason.clone(),
                by: s.by.clone(),
            })
            .collect();
        let (remembered, stamp_floor_us) = self.stamps.lock().unwrap_or_else(|p| p.into_inner()).remembered();
        let mut keys: Vec<(String, bool)> = self.keys.ids().into_iter().map(|id| (id, true)).collect();
        {
            let history = self.key_history.lock().unwrap_or_else(|p| p.into_inner());
            keys.extend(history.missing.iter().map(|id| (id.clone(), true)));
            keys.extend(history.deleted.iter().map(|id| (id.clone(), false)));
        }
        drop(gate);
        let paused_us = started.elapsed().as_micros() as u64;
        keys.sort_unstable();
        let mut remembered = remembered;
        remembered.sort_unstable();
        let (policy_hash, policy_state) = match policy {
            Some((hash, state)) => (Some(ByteBuf::from(hash.to_vec())), Some(ByteBuf::from(state.to_snapshot()))),
            None => (None, None),
        };
        let mut stamps = Vec::with_capacity(remembered.len() * STAMP_LEN);
        for (key, timestamp_us) in &remembered {
            stamps.extend_from_slice(key);
            stamps.extend_from_slice(&timestamp_us.to_be_bytes());
        }
        let snapshot = StateSnapshot {
            v: FORMAT_V1,
            origin: position.origin,
            size: position.frontier.size(),
            frontier: ByteBuf::from(position.frontier.hashes().concat()),
            prev_hash: ByteBuf::from(position.prev_hash.to_vec()),
            time_us: now_us(),
            config_hash: ByteBuf::from(installed.config_hash.to_vec()),
            policy_hash,
            policy_state,
            trips,
            scopes,
            stamps: ByteBuf::from(stamps),
            stamp_floor_us,
            keys,
        };
        let mut plaintext = Zeroizing::new(Vec::new());
        if let Err(e) = ciborium::into_writer(&snapshot, &mut *plaintext) {
            return refuse(EnclaveErrorCode::Internal, format!("state snapshot: {e}"));
        }
        let part_bytes = self.snapshot_part_bytes;
        let count = plaintext.len().div_ceil(part_bytes).max(1);
        if count > MAX_PARTS {
            return refuse(
                EnclaveErrorCode::SealSnapshotTooLarge,
                format!(
                    "state snapshot: {} bytes, more than {MAX_PARTS} parts of {part_bytes}; the previous snapshot stays \
                     and the next restart replays the log from it",
                    plaintext.len()
                ),
            );
        }
        let id = hex::encode(crate::random_bytes::<8>());
        let mut parts = Vec::with_capacity(count);
        for (index, chunk) in plaintext.chunks(part_bytes).enumerate() {
            let name = part_name(&id, index, count);
            match self.sealing.seal(RecordId { kind: RecordKind::State, name, version: snapshot.size }, chunk) {
                Ok(Some(record)) => parts.push(record),
                Ok(None) => return refuse(EnclaveErrorCode::SealingDisabled, "sealing is `none`"),
                Err(e) => return Response::error(&e),
            }
        }
        let held =
            HeldSnapshot { parts, size: snapshot.size, checkpoint: position.checkpoint.as_bytes().to_vec(), paused_us };
        let answer = held.answer(0).expect("at least one part");
        *self.held_snapshot.lock().unwrap_or_else(|p| p.into_inner()) = Some(held);
        Response::SealedSnapshot(Box::new(answer))
    }

    /// Opens one part of a snapshot handed back at a resume: a `state` record sealed under the
    /// lineage in force, named as a part.
    pub(crate) fn open_snapshot_part(&self, bytes: &[u8]) -> Result<SnapshotPart, Response> {
        let mismatch = |m: String| refuse(EnclaveErrorCode::SealSnapshotMismatch, m);
        if self.sealing.kind() == SealingKind::None {
            return Err(refuse(EnclaveErrorCode::SealingDisabled, "sealing is `none`: a snapshot cannot be opened"));
        }
        let Some(master) = self.sealing.master() else {
            return Err(refuse(EnclaveErrorCode::SealingKeyAbsent, "sealing: no master key yet"));
        };
        let Some(lineage) = self.sealing.lineage() else { return Err(not_configured()) };
        let (id, _) =
            sentinel_seal::read_header(bytes).map_err(|e| mismatch(format!("{}: {}", e.code(), e.message())))?;
        let Some((snapshot_id, index, count)) = parse_part_name(&id.name).filter(|_| id.kind == RecordKind::State)
        else {
            return Err(mismatch(format!(
                "snapshot: a `{}` record named `{}` is not a state snapshot part",
                id.kind.as_str(),
                id.name
            )));
        };
        let opened = sentinel_seal::open(master, &lineage, &id, bytes)
            .map_err(|e| mismatch(format!("snapshot: {}: {}", e.code(), e.message())))?;
        Ok(SnapshotPart { id: snapshot_id, index, count, size: id.version, plaintext: opened.plaintext })
    }
}

/// The log position a snapshot is made at (`AuditLog::position`).
pub(crate) struct Position {
    pub(crate) origin: String,
    pub(crate) frontier: Frontier,
    pub(crate) prev_hash: Hash,
    pub(crate) checkpoint: std::sync::Arc<str>,
}
