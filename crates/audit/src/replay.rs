//! Resuming a log (issue #11 point 6): a restarted enclave, with new keys,
//! continues the same log and rebuilds the state its records' `effects`
//! describe, so it must first check the whole log the host hands it against
//! the latest checkpoint the previous enclave signed (the host holds no key
//! that could forge one). [`LogReplay`] does [`crate::verify_log`]'s checks
//! for that one checkpoint as the records stream in, one at a time and in
//! O(log n) memory: each record decodes, its `seq` is the next one, its
//! `prev_hash` chains to the record before, and when the records reach the
//! checkpoint's size their root must be the signed one. Records after that
//! size (written by the previous enclave after its last checkpoint) are
//! [`Coverage::Tail`]: only their hash chain vouches for them, so the last
//! one could have been altered or dropped unseen. A pushed record is not
//! trustworthy until [`LogReplay::finish`] succeeded (a cut log passes every
//! push): apply its effects to a scratch state and adopt that state only
//! then. The first refusal is final; later calls return it again, so a
//! caller cannot skip a bad record and carry on.

use crate::checkpoint::Checkpoint;
use crate::error::{err, Error, ErrorCode};
use crate::merkle::{empty_root, leaf_hash, Frontier, Hash};
use crate::note::VerifierKey;
use crate::record::{record_hash, AuditRecord};
use crate::verify::open_signed;

/// Whether a signed checkpoint covers a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// `seq` below the checkpoint's size: the signed root vouches for it (once
    /// [`LogReplay::finish`] succeeded).
    Covered,
    /// After the checkpoint: only the hash chain vouches for it.
    Tail,
}

/// What a successful replay leaves: where the log continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// The tree of all records pushed; the next record's leaf is pushed onto it.
    pub frontier: Frontier,
    /// [`record_hash`] of the last record (zeros for an empty log): the next record's `prev_hash`.
    pub prev_hash: Hash,
    /// Number of records pushed: the next record's `seq`.
    pub size: u64,
    /// The checkpoint's size: how many of them its signature covers.
    pub covered: u64,
    /// The checkpoint the log was checked against.
    pub checkpoint: Checkpoint,
}

/// A streaming check of a log against its latest signed checkpoint (module doc).
#[derive(Clone, Debug)]
pub struct LogReplay {
    checkpoint: Checkpoint,
    frontier: Frontier,
    prev_hash: Hash,
    failed: Option<Error>,
}

impl LogReplay {
    /// Opens `checkpoint` (a signed note) with the log's `key`. Errors:
    /// `AUDIT_CHECKPOINT_SIGNATURE_INVALID` (not validly signed by `key`),
    /// `AUDIT_CHECKPOINT_MALFORMED` (signed, but not a checkpoint of `key`'s origin).
    pub fn new(checkpoint: &[u8], key: &VerifierKey) -> Result<Self, Error> {
        Ok(Self {
            checkpoint: open_signed(checkpoint, core::slice::from_ref(key))?,
            frontier: Frontier::new(),
            prev_hash: [0; 32],
            failed: None,
        })
    }

    /// Opens `checkpoint` like [`Self::new`], but starts from a position the caller already
    /// trusts (a sealed snapshot the enclave made of its own log: `frontier` of the first
    /// `frontier.size()` records and the last one's [`record_hash`]), so only the records after
    /// it are pushed. The records before it count as covered. Errors, besides [`Self::new`]'s:
    /// `AUDIT_TRUNCATED` (the checkpoint is older than the position: the log was cut back, or an
    /// older copy served), `AUDIT_CHECKPOINT_INCONSISTENT` (the checkpoint has the position's
    /// size but another root: another log, or a fork).
    pub fn resume_from(
        checkpoint: &[u8],
        key: &VerifierKey,
        frontier: Frontier,
        prev_hash: Hash,
    ) -> Result<Self, Error> {
        let checkpoint = open_signed(checkpoint, core::slice::from_ref(key))?;
        let at = frontier.size();
        if checkpoint.size < at {
            return err(
                ErrorCode::Truncated,
                format!(
                    "the latest checkpoint covers {} records, but a snapshot this log's enclave sealed was made at                      {at}: the log is older than the snapshot",
                    checkpoint.size
                ),
            );
        }
        if checkpoint.size == at && checkpoint.root != frontier.root() {
            return err(
                ErrorCode::CheckpointInconsistent,
                format!("the checkpoint at size {at} does not have the root the snapshot recorded"),
            );
        }
        Ok(Self { checkpoint, frontier, prev_hash, failed: None })
    }

    /// The verified checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The `seq` the next pushed record must have.
    pub fn next_seq(&self) -> u64 {
        self.frontier.size()
    }

    /// Checks the next record (its encoding) and returns it decoded. Errors:
    /// `AUDIT_RECORD_MODIFIED` (not a canonical record, a broken `prev_hash`
    /// chain, or the records reach the checkpoint's size with another root),
    /// `AUDIT_RECORD_DELETED` (a `seq` past the next one), `AUDIT_RECORD_INSERTED`
    /// (a `seq` already pushed), `AUDIT_TREE_SIZE_INVALID` (2^63 − 1 records);
    /// after a refusal, that refusal again.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(AuditRecord, Coverage), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let checked = self.check(bytes);
        if let Err(e) = &checked {
            self.failed = Some(e.clone());
        }
        checked
    }

    fn check(&mut self, bytes: &[u8]) -> Result<(AuditRecord, Coverage), Error> {
        let next = self.frontier.size();
        let record = AuditRecord::decode(bytes).map_err(|e| {
            Error::new(ErrorCode::RecordModified, format!("record at position {next} does not decode: {e}"))
        })?;
        if record.seq > next {
            return err(
                ErrorCode::RecordDeleted,
                format!("records from seq {next} to {} are missing (position {next})", record.seq - 1),
            );
        }
        if record.seq < next {
            return err(ErrorCode::RecordInserted, format!("record at position {next} repeats seq {}", record.seq));
        }
        if record.prev_hash != self.prev_hash {
            return err(
                ErrorCode::RecordModified,
                match next {
                    0 => "record seq 0 does not start the chain (prev_hash is not zeros)".to_string(),
                    _ => format!("record seq {} does not match the prev_hash of record seq {next}", next - 1),
                },
            );
        }
        // Mutating before the root check is fine: a mismatch poisons the replay.
        self.frontier.push(leaf_hash(bytes))?;
        if self.frontier.size() == self.checkpoint.size && self.frontier.root() != self.checkpoint.root {
            return err(
                ErrorCode::RecordModified,
                format!("the records do not hash to the signed root at size {}", self.checkpoint.size),
            );
        }
        self.prev_hash = record_hash(bytes);
        let coverage = if record.seq < self.checkpoint.size { Coverage::Covered } else { Coverage::Tail };
        Ok((record, coverage))
    }

    /// Ends the replay: the records pushed reached the checkpoint (and so
    /// hash to its root). Errors: `AUDIT_TRUNCATED` (fewer records than the
    /// checkpoint's size), `AUDIT_RECORD_MODIFIED` (a checkpoint of the empty
    /// log with another root), or the refusal of an earlier [`Self::push`].
    pub fn finish(self) -> Result<Replayed, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let (size, covered) = (self.frontier.size(), self.checkpoint.size);
        if size < covered {
            return err(
                ErrorCode::Truncated,
                format!("a signed checkpoint covers {covered} records, the log has only {size}"),
            );
        }
        // Sizes above 0 were checked by the push that reached them.
        if covered == 0 && self.checkpoint.root != empty_root() {
            return err(ErrorCode::RecordModified, "the empty log does not hash to the signed root at size 0");
        }
        Ok(Replayed { frontier: self.frontier, prev_hash: self.prev_hash, size, covered, checkpoint: self.checkpoint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::merkle;
    use crate::note;
    use crate::record::{Decision, Effect, Outcome, RecordKind};
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "sentinel/log/0123456789abcdef";

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[5; 32])
    }

    fn verifier() -> VerifierKey {
        VerifierKey::new(ORIGIN, key().verifying_key()).unwrap()
    }

    fn record(seq: u64, prev: Hash) -> AuditRecord {
        AuditRecord {
            seq,
            time_us: 1_000 + seq,
            kind: if seq == 0 { RecordKind::Config } else { RecordKind::Decision },
            effects: vec![Effect {
                op: "rate_take".into(),
                target: "r1".into(),
                subject: Some(format!("key:{}", seq % 3)),
                value: None,
            }],
            principal: Some(format!("p{seq}")),
            request_digest: Some([seq as u8; 32]),
            decision: Some(Decision { outcome: Outcome::Allowed, code: None, rules: vec![] }),
            result_digest: None,
            prev_hash: prev,
        }
    }

    /// A chained log of `n` records from seq 0.
    fn log(n: u64) -> Vec<Vec<u8>> {
        let mut prev = [0; 32];
        (0..n)
            .map(|seq| {
                let bytes = record(seq, prev).encode().unwrap();
                prev = record_hash(&bytes);
                bytes
            })
            .collect()
    }

    fn leaves(records: &[Vec<u8>]) -> Vec<Hash> {
        records.iter().map(|r| leaf_hash(r)).collect()
    }

    fn signed(records: &[Vec<u8>], size: u64, key: &SigningKey) -> Vec<u8> {
        let root = merkle::root(&leaves(&records[..size as usize]));
        let cp = Checkpoint { origin: ORIGIN.into(), size, root, extensions: vec![] };
        sign_checkpoint(&cp, key).unwrap().into_bytes()
    }

    /// Replays `records` against `checkpoint`: the coverage of each, then `finish`.
    fn replay(checkpoint: &[u8], records: &[Vec<u8>]) -> Result<(Vec<Coverage>, Replayed), Error> {
        let mut replay = LogReplay::new(checkpoint, &verifier())?;
        let mut coverage = Vec::new();
        for bytes in records {
            assert_eq!(replay.next_seq(), coverage.len() as u64);
            let (r, c) = replay.push(bytes)?;
            assert_eq!(r, AuditRecord::decode(bytes).unwrap());
            coverage.push(c);
        }
        Ok((coverage, replay.finish()?))
    }

    fn code(checkpoint: &[u8], records: &[Vec<u8>]) -> &'static str {
        replay(checkpoint, records).unwrap_err().code()
    }

    /// Where `records[..at]` leave a log: its frontier and last record hash.
    fn position(records: &[Vec<u8>], at: usize) -> (Frontier, Hash) {
        let mut frontier = Frontier::new();
        for r in &records[..at] {
            frontier.push(leaf_hash(r)).unwrap();
        }
        (frontier, if at == 0 { [0; 32] } else { record_hash(&records[at - 1]) })
    }

    #[test]
    fn a_replay_from_a_trusted_position_needs_only_the_later_records() {
        let records = log(10);
        for (at, size) in [(0, 10), (4, 10), (4, 7), (10, 10), (6, 6), (5, 8)] {
            let (frontier, prev) = position(&records, at);
            let mut replay =
                LogReplay::resume_from(&signed(&records, size, &key()), &verifier(), frontier, prev).unwrap();
            assert_eq!(replay.next_seq(), at as u64);
            for (i, bytes) in records[at..].iter().enumerate() {
                let (_, c) = replay.push(bytes).unwrap();
                assert_eq!(c == Coverage::Covered, ((at + i) as u64) < size, "at {at} size {size} record {i}");
            }
            let done = replay.finish().unwrap();
            assert_eq!((done.size, done.covered), (10, size));
            assert_eq!(done.frontier.root(), merkle::root(&leaves(&records)));
        }
    }

    #[test]
    fn a_checkpoint_older_than_the_trusted_position_or_of_another_log_is_refused() {
        let records = log(10);
        let (frontier, prev) = position(&records, 6);
        let older = LogReplay::resume_from(&signed(&records, 5, &key()), &verifier(), frontier.clone(), prev);
        assert_eq!(older.unwrap_err().code(), "AUDIT_TRUNCATED");
        // Another log of the same size: the roots differ at once, or when its records reach the checkpoint.
        let other: Vec<Vec<u8>> = {
            let mut prev = [0; 32];
            (0..10u64)
                .map(|seq| {
                    let mut r = record(seq, prev);
                    r.time_us += 7;
                    let bytes = r.encode().unwrap();
                    prev = record_hash(&bytes);
                    bytes
                })
                .collect()
        };
        let fork = LogReplay::resume_from(&signed(&other, 6, &key()), &verifier(), frontier.clone(), prev);
        assert_eq!(fork.unwrap_err().code(), "AUDIT_CHECKPOINT_INCONSISTENT");
        let mut later = LogReplay::resume_from(&signed(&other, 10, &key()), &verifier(), frontier, prev).unwrap();
        let refused = other[6..].iter().map(|r| later.push(r)).find_map(Result::err).unwrap();
        assert_eq!(refused.code(), "AUDIT_RECORD_MODIFIED");
    }

    #[test]
    fn honest_log_replays_with_and_without_tail() {
        let records = log(10);
        for covered in [0, 1, 7, 10] {
            let (coverage, done) = replay(&signed(&records, covered, &key()), &records).unwrap();
            let expected: Vec<Coverage> =
                (0..10).map(|s| if s < covered { Coverage::Covered } else { Coverage::Tail }).collect();
            assert_eq!(coverage, expected);
            assert_eq!((done.size, done.covered, done.checkpoint.size), (10, covered, covered));
            assert_eq!(done.frontier.root(), merkle::root(&leaves(&records)));
            assert_eq!(done.prev_hash, record_hash(&records[9]));
        }
        let done = replay(&signed(&[], 0, &key()), &[]).unwrap().1;
        assert_eq!((done.size, done.covered, done.prev_hash, done.frontier.root()), (0, 0, [0; 32], empty_root()));
        let replay = LogReplay::new(&signed(&records, 7, &key()), &verifier()).unwrap();
        assert_eq!((replay.checkpoint().size, replay.next_seq()), (7, 0));
    }

    #[test]
    fn the_frontier_continues_the_log() {
        // A log resumed from `finish()` grows to the same roots as a fresh tree over all leaves.
        let all = log(300);
        for n in [1, 10, 255, 256, 257] {
            let mut frontier = replay(&signed(&all, n / 2, &key()), &all[..n as usize]).unwrap().1.frontier;
            for (i, bytes) in all.iter().enumerate().skip(n as usize) {
                frontier.push(leaf_hash(bytes)).unwrap();
                if i % 17 == 0 || i == all.len() - 1 {
                    assert_eq!(frontier.root(), merkle::root(&leaves(&all[..=i])), "from {n}, at {i}");
                }
            }
        }
    }

    #[test]
    fn each_tampering_has_its_code() {
        let records = log(10);
        let cp = signed(&records, 7, &key());
        let reencode = |records: &mut [Vec<u8>], i: usize, change: &dyn Fn(&mut AuditRecord)| {
            let mut r = AuditRecord::decode(&records[i]).unwrap();
            change(&mut r);
            records[i] = r.encode().unwrap();
        };
        // Modified content: the successor's prev_hash no longer matches...
        let mut modified = records.clone();
        reencode(&mut modified, 3, &|r| r.effects.clear());
        let e = replay(&cp, &modified).unwrap_err();
        assert_eq!(e.code(), "AUDIT_RECORD_MODIFIED");
        assert!(e.message().contains("record seq 3"), "{e}");
        // ... the last covered record has none: the signed root tells.
        let mut last = records.clone();
        reencode(&mut last, 6, &|r| r.time_us += 1);
        let e = replay(&cp, &last).unwrap_err();
        assert!(e.message().contains("signed root at size 7"), "{e}");
        // ... and so it does when the whole chain after a change is rewritten.
        let mut rewritten = records.clone();
        let mut prev = record_hash(&records[1]);
        for i in 2..rewritten.len() {
            reencode(&mut rewritten, i, &|r| {
                r.prev_hash = prev;
                r.principal = None;
            });
            prev = record_hash(&rewritten[i]);
        }
        assert_eq!(code(&cp, &rewritten), "AUDIT_RECORD_MODIFIED");
        // A flipped byte that leaves no canonical record; a first record that does not start the chain.
        let mut flipped = records.clone();
        flipped[5][0] ^= 0x20;
        assert_eq!(code(&cp, &flipped), "AUDIT_RECORD_MODIFIED");
        let mut first = records.clone();
        reencode(&mut first, 0, &|r| r.prev_hash = [1; 32]);
        assert_eq!(code(&cp, &first), "AUDIT_RECORD_MODIFIED");
        // Dropped, swapped, repeated.
        let mut dropped = records.clone();
        dropped.remove(4);
        assert_eq!(code(&cp, &dropped), "AUDIT_RECORD_DELETED");
        let mut swapped = records.clone();
        swapped.swap(4, 5);
        assert_eq!(code(&cp, &swapped), "AUDIT_RECORD_DELETED");
        let mut repeated = records.clone();
        repeated.insert(5, records[4].clone());
        assert_eq!(code(&cp, &repeated), "AUDIT_RECORD_INSERTED");
        let mut dropped_tail = records.clone();
        dropped_tail.remove(8);
        assert_eq!(code(&cp, &dropped_tail), "AUDIT_RECORD_DELETED");
        // Truncated below the checkpoint (to nothing, too).
        assert_eq!(code(&cp, &records[..6]), "AUDIT_TRUNCATED");
        assert_eq!(code(&cp, &[]), "AUDIT_TRUNCATED");
        // The tail's last record has no successor and no checkpoint: a change there is not seen.
        let mut tail = records.clone();
        reencode(&mut tail, 9, &|r| r.principal = Some("mallory".into()));
        assert_eq!(replay(&cp, &tail).unwrap().1.size, 10);
    }

    #[test]
    fn checkpoint_key_and_root_are_checked() {
        let records = log(10);
        // Signed by another key; tampered after signing; a signed note that is not a checkpoint.
        let other = SigningKey::from_bytes(&[6; 32]);
        let e = LogReplay::new(&signed(&records, 7, &other), &verifier()).unwrap_err();
        assert_eq!(e.code(), "AUDIT_CHECKPOINT_SIGNATURE_INVALID");
        let text = String::from_utf8(signed(&records, 7, &key())).unwrap();
        let tampered = text.replacen("\n7\n", "\n8\n", 1);
        let e = LogReplay::new(tampered.as_bytes(), &verifier()).unwrap_err();
        assert_eq!(e.code(), "AUDIT_CHECKPOINT_SIGNATURE_INVALID");
        let not_a_checkpoint = note::sign("hello\n", ORIGIN, &key()).unwrap();
        let e = LogReplay::new(not_a_checkpoint.as_bytes(), &verifier()).unwrap_err();
        assert_eq!(e.code(), "AUDIT_CHECKPOINT_MALFORMED");
        // A forged root, validly signed (e.g. a fork): the records do not reach it.
        let mut fork = records.clone();
        fork[2] = record(2, [9; 32]).encode().unwrap();
        assert_eq!(code(&signed(&fork, 7, &key()), &records), "AUDIT_RECORD_MODIFIED");
        let cp = Checkpoint { origin: ORIGIN.into(), size: 0, root: [0; 32], extensions: vec![] };
        let empty = sign_checkpoint(&cp, &key()).unwrap().into_bytes();
        assert_eq!(code(&empty, &records), "AUDIT_RECORD_MODIFIED");
    }

    #[test]
    fn a_refusal_is_final() {
        let records = log(5);
        let mut replay = LogReplay::new(&signed(&records, 5, &key()), &verifier()).unwrap();
        replay.push(&records[0]).unwrap();
        let e = replay.push(&records[2]).unwrap_err();
        assert_eq!(e.code(), "AUDIT_RECORD_DELETED");
        // The right record after a refusal does not resume it.
        assert_eq!(replay.push(&records[1]).unwrap_err(), e);
        assert_eq!(replay.next_seq(), 1);
        assert_eq!(replay.finish().unwrap_err(), e);
    }
}
