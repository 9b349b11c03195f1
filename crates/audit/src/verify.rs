//! Verification of a whole log: the records (their encodings, in log order)
//! against the signed checkpoints issued for it. Checks, in this order, each
//! failure with its own code:
//!
//! 1. every checkpoint note verifies with one of the log's keys and its origin
//!    is that key's name (`AUDIT_CHECKPOINT_SIGNATURE_INVALID`; a note that is
//!    not a checkpoint: `AUDIT_CHECKPOINT_MALFORMED`). A log has more than one
//!    key when its enclave restarted: the new enclave continues the log under
//!    the same origin with its own key, so the caller passes the key history;
//! 2. checkpoints of the same size have the same root
//!    (`AUDIT_CHECKPOINT_INCONSISTENT`);
//! 3. every record decodes (`AUDIT_RECORD_MODIFIED`: a stored record that is
//!    no longer a canonical record has been altered);
//! 4. the sequence numbers are 0, 1, 2, …: a number already seen is
//!    `AUDIT_RECORD_INSERTED`; a number higher than expected is
//!    `AUDIT_RECORD_REORDERED` if the expected one comes later, else
//!    `AUDIT_RECORD_DELETED`;
//! 5. every `prev_hash` is the SHA-256 of the previous record's encoding
//!    (zeros for the first): `AUDIT_RECORD_MODIFIED`, naming the previous record;
//! 6. there are at least as many records as the largest checkpoint's size
//!    (`AUDIT_TRUNCATED`);
//! 7. the tree recomputed from the records has each checkpoint's root at its
//!    size. If the largest checkpoint's root differs, the records were changed
//!    (`AUDIT_RECORD_MODIFIED`); if it matches but a smaller checkpoint's root
//!    differs, that checkpoint is inconsistent with the largest one
//!    (`AUDIT_CHECKPOINT_INCONSISTENT`): with the records in hand this is the
//!    consistency check between checkpoints, stronger than a proof (a
//!    consistency proof from the records between two matching checkpoints
//!    would verify by construction).
//!
//! Records after the largest checkpoint are not an error: [`LogReport`]
//! counts them as not yet covered by a checkpoint (nothing vouches for them
//! beyond their hash chain).

use crate::checkpoint::{open_checkpoint_with_keys, Checkpoint};
use crate::error::{err, Error, ErrorCode};
use crate::merkle::{leaf_hash, Frontier, Hash};
use crate::note::VerifierKey;
use crate::record::{record_hash, AuditRecord};

/// What a successful verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogReport {
    /// Number of records.
    pub records: u64,
    /// RFC 6962 root of all records.
    pub root: Hash,
    /// Number of checkpoints verified.
    pub checkpoints: usize,
    /// Size of the largest checkpoint (0 when there is none): records covered.
    pub covered: u64,
    /// Records after the largest checkpoint, not yet covered by one.
    pub uncovered: u64,
}

/// Verifies `records` (encodings, in log order) against `checkpoints` (signed
/// checkpoint notes, any order) with the log's `keys` (its key history, any
/// order; each checkpoint needs one). See the module doc for the checks and
/// their codes.
pub fn verify_log<R: AsRef<[u8]>, C: AsRef<[u8]>>(
    records: &[R],
    checkpoints: &[C],
    keys: &[VerifierKey],
) -> Result<LogReport, Error> {
    // 1. Signatures.
    let mut cps: Vec<Checkpoint> = Vec::with_capacity(checkpoints.len());
    for (i, note) in checkpoints.iter().enumerate() {
        cps.push(open_signed(note.as_ref(), keys).map_err(|e| at_checkpoint(i, e))?);
    }
    // 2. Same size, same root.
    cps.sort_by_key(|c| c.size);
    for pair in cps.windows(2) {
        if pair[0].size == pair[1].size && pair[0].root != pair[1].root {
            return err(
                ErrorCode::CheckpointInconsistent,
                format!("two signed checkpoints of size {} with different roots", pair[0].size),
            );
        }
    }
    // 3. Decoding.
    let decoded = records
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            AuditRecord::decode(bytes.as_ref()).map_err(|e| {
                Error::new(ErrorCode::RecordModified, format!("record at position {i} does not decode: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // 4. Sequence numbers.
    for (i, r) in decoded.iter().enumerate() {
        let expected = i as u64;
        if r.seq < expected {
            return err(ErrorCode::RecordInserted, format!("record at position {i} repeats seq {}", r.seq));
        }
        if r.seq > expected {
            if decoded[i + 1..].iter().any(|later| later.seq == expected) {
                return err(
                    ErrorCode::RecordReordered,
                    format!("record seq {expected} is out of order (seq {} at position {i})", r.seq),
                );
            }
            return err(
                ErrorCode::RecordDeleted,
                format!("records from seq {expected} to {} are missing (position {i})", r.seq - 1),
            );
        }
    }
    // 5. Hash chain.
    let mut prev = [0u8; 32];
    for (i, (bytes, r)) in records.iter().zip(&decoded).enumerate() {
        if r.prev_hash != prev {
            return err(
                ErrorCode::RecordModified,
                if i == 0 {
                    "record seq 0 does not start the chain (prev_hash is not zeros)".to_string()
                } else {
                    format!("record seq {} does not match the prev_hash of record seq {i}", i - 1)
                },
            );
        }
        prev = record_hash(bytes.as_ref());
    }
    // 6. Truncation.
    let n = records.len() as u64;
    let covered = cps.last().map_or(0, |c| c.size);
    if covered > n {
        return err(
            ErrorCode::Truncated,
            format!("a signed checkpoint covers {covered} records, the log has only {n}"),
        );
    }
    // 7. Roots at each checkpoint's size.
    let mut frontier = Frontier::new();
    let mut roots_at: Vec<(u64, Hash)> = Vec::with_capacity(cps.len());
    let mut next = cps.iter().peekable();
    while let Some(cp) = next.next_if(|c| c.size == 0) {
        roots_at.push((cp.size, frontier.root()));
    }
    for bytes in records {
        frontier.push(leaf_hash(bytes.as_ref()))?;
        while let Some(cp) = next.next_if(|c| c.size == frontier.size()) {
            roots_at.push((cp.size, frontier.root()));
        }
    }
    if let Some(latest) = cps.last() {
        if roots_at.last().map(|(_, r)| r) != Some(&latest.root) {
            return err(
                ErrorCode::RecordModified,
                format!("the records do not hash to the signed root at size {}", latest.size),
            );
        }
    }
    for (cp, (_, root)) in cps.iter().zip(&roots_at) {
        if cp.root != *root {
            return err(
                ErrorCode::CheckpointInconsistent,
                format!("the checkpoint at size {} is inconsistent with the one at size {covered}", cp.size),
            );
        }
    }
    Ok(LogReport { records: n, root: frontier.root(), checkpoints: cps.len(), covered, uncovered: n - covered })
}

/// Opens a signed checkpoint with the log's keys, as [`verify_log`] and
/// [`crate::replay::LogReplay`] need it: a note that is validly signed but not
/// a checkpoint of the log stays `AUDIT_CHECKPOINT_MALFORMED`, every other
/// failure is `AUDIT_CHECKPOINT_SIGNATURE_INVALID` (the note's own code in the message).
pub(crate) fn open_signed(note: &[u8], keys: &[VerifierKey]) -> Result<Checkpoint, Error> {
    match open_checkpoint_with_keys(note, keys) {
        Ok(cp) => Ok(cp),
        Err(e) if e.kind() == ErrorCode::CheckpointMalformed => Err(e),
        Err(e) => err(
            ErrorCode::CheckpointSignatureInvalid,
            format!("not signed by the log's key ({}: {})", e.code(), e.message()),
        ),
    }
}

fn at_checkpoint(i: usize, e: Error) -> Error {
    Error::new(e.kind(), format!("checkpoint {i}: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::merkle;
    use crate::record::{Decision, Outcome, RecordKind};
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "sentinel.example/audit/test";

    struct Log {
        key: SigningKey,
        records: Vec<Vec<u8>>,
    }

    fn record(seq: u64, prev: Hash) -> AuditRecord {
        AuditRecord {
            seq,
            time_us: 1_000 + seq,
            kind: if seq % 2 == 0 { RecordKind::Decision } else { RecordKind::Approval },
            effects: vec![],
            principal: Some(format!("p{seq}")),
            request_digest: Some([seq as u8; 32]),
            decision: Some(Decision { outcome: Outcome::Allowed, code: None, rules: vec![] }),
            result_digest: None,
            prev_hash: prev,
        }
    }

    impl Log {
        fn new(n: u64) -> Self {
            let mut records = Vec::new();
            let mut prev = [0; 32];
            for seq in 0..n {
                let bytes = record(seq, prev).encode().unwrap();
                prev = record_hash(&bytes);
                records.push(bytes);
            }
            Self { key: SigningKey::from_bytes(&[5; 32]), records }
        }

        fn verifier(&self) -> VerifierKey {
            VerifierKey::new(ORIGIN, self.key.verifying_key()).unwrap()
        }

        fn checkpoint_of(&self, records: &[Vec<u8>], size: u64) -> Vec<u8> {
            let leaves: Vec<Hash> = records[..size as usize].iter().map(|r| leaf_hash(r)).collect();
            let cp = Checkpoint { origin: ORIGIN.into(), size, root: merkle::root(&leaves), extensions: vec![] };
            sign_checkpoint(&cp, &self.key).unwrap().into_bytes()
        }

        fn checkpoint(&self, size: u64) -> Vec<u8> {
            self.checkpoint_of(&self.records, size)
        }

        fn verify(&self, records: &[Vec<u8>], cps: &[Vec<u8>]) -> Result<LogReport, Error> {
            verify_log(records, cps, &[self.verifier()])
        }

        fn code(&self, records: &[Vec<u8>], cps: &[Vec<u8>]) -> &'static str {
            self.verify(records, cps).unwrap_err().code()
        }
    }

    #[test]
    fn intact_log_verifies_with_uncovered_tail() {
        let log = Log::new(10);
        let cps = [log.checkpoint(0), log.checkpoint(4), log.checkpoint(7), log.checkpoint(7)];
        let report = log.verify(&log.records, &cps).unwrap();
        let leaves: Vec<Hash> = log.records.iter().map(|r| leaf_hash(r)).collect();
        assert_eq!(
            report,
            LogReport { records: 10, root: merkle::root(&leaves), checkpoints: 4, covered: 7, uncovered: 3 }
        );
        let report = log.verify(&log.records, &[]).unwrap();
        assert_eq!((report.covered, report.uncovered), (0, 10));
        assert_eq!(log.verify(&[], &[log.checkpoint(0)]).unwrap().records, 0);
    }

    #[test]
    fn modified_record_is_named() {
        let log = Log::new(10);
        let cps = [log.checkpoint(10)];
        // Changed content, re-encoded canonically: the successor's prev_hash no longer matches.
        let mut records = log.records.clone();
        let mut r = AuditRecord::decode(&records[3]).unwrap();
        r.principal = Some("mallory".into());
        records[3] = r.encode().unwrap();
        let e = log.verify(&records, &cps).unwrap_err();
        assert_eq!(e.code(), "AUDIT_RECORD_MODIFIED");
        assert!(e.message().contains("record seq 3"), "{e}");
        // The last record has no successor: the checkpoint root catches it.
        let mut records = log.records.clone();
        let mut r = AuditRecord::decode(&records[9]).unwrap();
        r.time_us += 1;
        records[9] = r.encode().unwrap();
        assert_eq!(log.code(&records, &cps), "AUDIT_RECORD_MODIFIED");
        // ... and with the whole chain rewritten after it, too.
        let mut records = log.records.clone();
        let mut prev = record_hash(&records[1]);
        for (seq, bytes) in records.iter_mut().enumerate().skip(2) {
            let mut r = AuditRecord::decode(bytes).unwrap();
            r.prev_hash = prev;
            if seq == 2 {
                r.principal = None;
            }
            *bytes = r.encode().unwrap();
            prev = record_hash(bytes);
        }
        // The chain itself is intact now: only the signed root tells.
        let e = log.verify(&records, &cps).unwrap_err();
        assert!(e.message().contains("signed root"), "{e}");
        assert_eq!(log.code(&records, &cps), "AUDIT_RECORD_MODIFIED");
        // A flipped byte that leaves no canonical record.
        let mut records = log.records.clone();
        records[5][0] ^= 0x20;
        assert_eq!(log.code(&records, &cps), "AUDIT_RECORD_MODIFIED");
    }

    #[test]
    fn deleted_reordered_inserted_truncated() {
        let log = Log::new(10);
        let cps = [log.checkpoint(10)];
        let mut deleted = log.records.clone();
        deleted.remove(4);
        assert_eq!(log.code(&deleted, &cps), "AUDIT_RECORD_DELETED");
        let mut reordered = log.records.clone();
        reordered.swap(4, 5);
        assert_eq!(log.code(&reordered, &cps), "AUDIT_RECORD_REORDERED");
        let mut duplicated = log.records.clone();
        duplicated.insert(5, log.records[4].clone());
        assert_eq!(log.code(&duplicated, &cps), "AUDIT_RECORD_INSERTED");
        // A forged record with a correct prev_hash, slipped in with the next seq.
        let mut inserted = log.records.clone();
        let forged = record(5, record_hash(&log.records[4])).encode().unwrap();
        let forged = AuditRecord { principal: Some("forged".into()), ..AuditRecord::decode(&forged).unwrap() };
        inserted.insert(5, forged.encode().unwrap());
        assert_eq!(log.code(&inserted, &cps), "AUDIT_RECORD_INSERTED");
        let truncated = &log.records[..8];
        assert_eq!(log.code(truncated, &cps), "AUDIT_TRUNCATED");
        // Truncated below an earlier checkpoint too.
        assert_eq!(log.code(&log.records[..3], &[log.checkpoint(4), log.checkpoint(10)]), "AUDIT_TRUNCATED");
    }

    #[test]
    fn bad_and_inconsistent_checkpoints() {
        let log = Log::new(10);
        // A flipped root byte breaks the signature.
        let cp = String::from_utf8(log.checkpoint(10)).unwrap();
        let tampered = cp.replacen("\n10\n", "\n11\n", 1).into_bytes();
        assert_eq!(log.code(&log.records, &[tampered]), "AUDIT_CHECKPOINT_SIGNATURE_INVALID");
        // Signed by another key.
        let other = Log { key: SigningKey::from_bytes(&[6; 32]), records: log.records.clone() };
        assert_eq!(log.code(&log.records, &[other.checkpoint(10)]), "AUDIT_CHECKPOINT_SIGNATURE_INVALID");
        // A validly signed fork: another history of the first 4 records.
        let mut fork = log.records.clone();
        let r = AuditRecord { principal: Some("fork".into()), ..AuditRecord::decode(&fork[2]).unwrap() };
        fork[2] = r.encode().unwrap();
        let forked = log.checkpoint_of(&fork, 4);
        assert_eq!(log.code(&log.records, &[forked.clone(), log.checkpoint(10)]), "AUDIT_CHECKPOINT_INCONSISTENT");
        assert_eq!(log.code(&log.records, &[forked, log.checkpoint(4)]), "AUDIT_CHECKPOINT_INCONSISTENT");
    }

    #[test]
    fn key_history_of_a_restarted_log() {
        // The first enclave signed up to size 4; its successor continues the same origin with its own key.
        let first = Log::new(10);
        let second = Log { key: SigningKey::from_bytes(&[6; 32]), records: first.records.clone() };
        let cps = [first.checkpoint(4), second.checkpoint(7), second.checkpoint(10)];
        let keys = [first.verifier(), second.verifier()];
        let report = verify_log(&first.records, &cps, &keys).unwrap();
        assert_eq!((report.checkpoints, report.covered, report.uncovered), (3, 10, 0));
        let reversed = [second.verifier(), first.verifier()];
        assert_eq!(verify_log(&first.records, &cps, &reversed).unwrap(), report);
        // Either key alone leaves a checkpoint unverified; no key at all, every one.
        for keys in [&[first.verifier()][..], &[second.verifier()][..], &[][..]] {
            let e = verify_log(&first.records, &cps, keys).unwrap_err();
            assert_eq!(e.code(), "AUDIT_CHECKPOINT_SIGNATURE_INVALID", "{e}");
        }
        verify_log(&first.records, &[] as &[Vec<u8>], &[]).unwrap();
        // A key of the history under another name does not vouch for this origin.
        let renamed = VerifierKey::new("sentinel.example/audit/other", second.key.verifying_key()).unwrap();
        let e = verify_log(&first.records, &cps, &[first.verifier(), renamed]).unwrap_err();
        assert_eq!(e.code(), "AUDIT_CHECKPOINT_SIGNATURE_INVALID");
        assert!(e.message().starts_with("checkpoint 1:"), "{e}");
        // The checks after the signatures see one history: a fork signed by the new key is still caught.
        let mut fork = first.records.clone();
        fork[2] =
            AuditRecord { principal: Some("fork".into()), ..AuditRecord::decode(&fork[2]).unwrap() }.encode().unwrap();
        let forked = second.checkpoint_of(&fork, 4);
        let e = verify_log(&first.records, &[first.checkpoint(4), forked], &keys).unwrap_err();
        assert_eq!(e.code(), "AUDIT_CHECKPOINT_INCONSISTENT");
    }
}
