//! The key history of a log continued across enclave restarts.
//!
//! Every enclave signs the log's checkpoints with its own audit key, so a log that a restarted
//! enclave continued (docs/audit.md, "Restart") has one key per enclave, each in charge from a
//! record on: `(verifier key, from_seq)`, the first from 0. The host keeps that list next to the
//! log (`log.json`), and the host is not trusted: this module checks that the records and the
//! checkpoints tie the list together, so a key cannot be added, dropped or moved without it being
//! named. (That each key is the audit key of an attestation document of the same image is checked
//! where the documents are: the attestation verifier.)
//!
//! The checks, in order:
//! 1. the history starts at record 0 and its starting records increase;
//! 2. the record at each later key's start, when stored, is the `log_resumed` record its enclave
//!    made: one of its effects names an earlier key of the history (the one it resumed from) and
//!    its result digest is the SHA-256 of the new key;
//! 3. no other record is a `log_resumed` record (a key missing from the list);
//! 4. each checkpoint is signed by a key of the history, the one in charge at the checkpoint's
//!    size. A checkpoint no key opens is left to [`crate::verify_log`], which names it.
//!
//! A key whose first record is not stored (an enclave that died before the host stored any of its
//! records) is only checked for order.
use sha2::{Digest, Sha256};

use crate::checkpoint::open_checkpoint_with_keys;
use crate::error::{err, Error, ErrorCode};
use crate::note::VerifierKey;
use crate::record::{AuditRecord, RecordKind};

/// One key of a log's history: in charge of the records from `from_seq` on.
#[derive(Clone, Debug)]
pub struct HistoryKey {
    pub verifier_key: VerifierKey,
    pub from_seq: u64,
}

fn invalid<T>(message: String) -> Result<T, Error> {
    err(ErrorCode::KeyHistoryInvalid, message)
}

/// Checks that `records` and `checkpoints` tie `history` together (the module's four steps).
/// Errors: `AUDIT_KEY_HISTORY_INVALID` naming the first mismatch; a record that does not decode
/// is `AUDIT_RECORD_MODIFIED` (as in [`crate::verify_log`]).
pub fn verify_key_history<R: AsRef<[u8]>, C: AsRef<[u8]>>(
    history: &[HistoryKey],
    records: &[R],
    checkpoints: &[C],
) -> Result<(), Error> {
    // 1. Order.
    let Some(first) = history.first() else {
        return invalid("the key history is empty".into());
    };
    if first.from_seq != 0 {
        return invalid(format!("the first key {} starts at record {}, not 0", first.verifier_key, first.from_seq));
    }
    for pair in history.windows(2) {
        if pair[1].from_seq <= pair[0].from_seq {
            return invalid(format!(
                "key {} from record {} is out of order (after record {})",
                pair[1].verifier_key, pair[1].from_seq, pair[0].from_seq
            ));
        }
    }
    let decode = |seq: usize| {
        AuditRecord::decode(records[seq].as_ref()).map_err(|e| {
            Error::new(ErrorCode::RecordModified, format!("record at position {seq} does not decode: {e}"))
        })
    };
    // 2. Each later key starts with its own `log_resumed` record.
    for (i, key) in history.iter().enumerate().skip(1) {
        let Ok(at) = usize::try_from(key.from_seq) else { continue };
        if at >= records.len() {
            continue;
        }
        let record = decode(at)?;
        if record.kind != RecordKind::LogResumed {
            return invalid(format!(
                "record {at} ({}) is not the log_resumed record of {}",
                record.kind.as_str(),
                key.verifier_key
            ));
        }
        let earlier: Vec<String> = history[..i].iter().map(|k| k.verifier_key.to_string()).collect();
        if !record.effects.iter().any(|e| e.op == "log_resumed" && earlier.contains(&e.target)) {
            return invalid(format!(
                "record {at}: the log_resumed record of {} names no earlier key of the log",
                key.verifier_key
            ));
        }
        let digest: [u8; 32] = Sha256::digest(key.verifier_key.key().as_bytes()).into();
        if record.result_digest != Some(digest) {
            return invalid(format!(
                "record {at}: the log_resumed record names another audit key than {}",
                key.verifier_key
            ));
        }
    }
    // 3. No other record is one.
    for seq in 0..records.len() {
        let starts_a_key = seq > 0 && history.iter().any(|k| k.from_seq == seq as u64);
        if !starts_a_key && decode(seq)?.kind == RecordKind::LogResumed {
            return invalid(format!("record {seq} is a log_resumed record, but the history has no key from it"));
        }
    }
    // 4. Each checkpoint is signed by the key in charge at its size (newest key first: the
    //    latest checkpoint is usually the current key's).
    for note in checkpoints {
        let signed = history.iter().enumerate().rev().find_map(|(i, key)| {
            open_checkpoint_with_keys(note.as_ref(), core::slice::from_ref(&key.verifier_key)).ok().map(|cp| (i, cp))
        });
        let Some((i, checkpoint)) = signed else { continue };
        let key = &history[i];
        if key.from_seq > 0 && checkpoint.size <= key.from_seq {
            return invalid(format!(
                "the checkpoint of size {} is signed by {}, whose records start at {}",
                checkpoint.size, key.verifier_key, key.from_seq
            ));
        }
        if let Some(next) = history.get(i + 1) {
            if checkpoint.size > next.from_seq {
                return invalid(format!(
                    "the checkpoint of size {} is signed by {}, but {} took over at {}",
                    checkpoint.size, key.verifier_key, next.verifier_key, next.from_seq
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{sign_checkpoint, Checkpoint};
    use crate::merkle::{self, leaf_hash, Hash};
    use crate::record::{Decision, Effect, Outcome};
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "sentinel/log/0011223344556677";

    fn decision(seq: u64) -> AuditRecord {
        AuditRecord {
            seq,
            time_us: 1_000 + seq,
            kind: RecordKind::Decision,
            effects: vec![],
            principal: Some("p".into()),
            request_digest: Some([seq as u8; 32]),
            decision: Some(Decision { outcome: Outcome::Allowed, code: None, rules: vec![] }),
            result_digest: None,
            prev_hash: [0; 32],
        }
    }

    fn resumed(seq: u64, from: &VerifierKey, new: &VerifierKey) -> AuditRecord {
        AuditRecord {
            kind: RecordKind::LogResumed,
            effects: vec![Effect {
                op: "log_resumed".into(),
                target: from.to_string(),
                subject: None,
                value: Some(format!("covered={seq} size={seq}")),
            }],
            principal: None,
            request_digest: None,
            decision: None,
            result_digest: Some(Sha256::digest(new.key().as_bytes()).into()),
            ..decision(seq)
        }
    }

    struct Fixture {
        signers: Vec<SigningKey>,
        history: Vec<HistoryKey>,
        records: Vec<Vec<u8>>,
    }

    impl Fixture {
        /// Key A from record 0 (records 0-2), key B from 3 (its log_resumed record, then 3 more).
        fn new() -> Self {
            let signers = vec![SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32])];
            let keys: Vec<VerifierKey> =
                signers.iter().map(|s| VerifierKey::new(ORIGIN, s.verifying_key()).unwrap()).collect();
            let mut records: Vec<Vec<u8>> = (0..3).map(|s| decision(s).encode().unwrap()).collect();
            records.push(resumed(3, &keys[0], &keys[1]).encode().unwrap());
            records.extend((4..7).map(|s| decision(s).encode().unwrap()));
            let history = vec![
                HistoryKey { verifier_key: keys[0].clone(), from_seq: 0 },
                HistoryKey { verifier_key: keys[1].clone(), from_seq: 3 },
            ];
            Self { signers, history, records }
        }

        fn checkpoint(&self, signer: usize, size: u64) -> Vec<u8> {
            let leaves: Vec<Hash> = self.records[..size as usize].iter().map(|r| leaf_hash(r)).collect();
            let cp = Checkpoint { origin: ORIGIN.into(), size, root: merkle::root(&leaves), extensions: vec![] };
            sign_checkpoint(&cp, &self.signers[signer]).unwrap().into_bytes()
        }

        fn check(&self, checkpoints: &[Vec<u8>]) -> Result<(), Error> {
            verify_key_history(&self.history, &self.records, checkpoints)
        }
    }

    fn refused(result: Result<(), Error>, needle: &str) {
        let e = result.expect_err("refused");
        assert_eq!(e.kind(), ErrorCode::KeyHistoryInvalid, "{}", e.message());
        assert!(e.message().contains(needle), "{needle:?} not in {:?}", e.message());
    }

    #[test]
    fn a_log_continued_by_a_second_key_verifies() {
        let f = Fixture::new();
        f.check(&[f.checkpoint(0, 3), f.checkpoint(1, 7)]).unwrap();
        // A key whose first record is not stored yet (the host died first) is only ordered.
        let mut g = Fixture::new();
        g.records.truncate(3);
        g.check(&[g.checkpoint(0, 3)]).unwrap();
    }

    #[test]
    fn an_unordered_or_empty_history_is_refused() {
        let mut f = Fixture::new();
        f.history[1].from_seq = 0;
        refused(f.check(&[]), "out of order");
        f.history[0].from_seq = 1;
        refused(f.check(&[]), "not 0");
        refused(verify_key_history::<Vec<u8>, Vec<u8>>(&[], &[], &[]), "empty");
    }

    #[test]
    fn a_key_moved_dropped_or_added_is_named() {
        // Moved: B's start is not its log_resumed record.
        let mut f = Fixture::new();
        f.history[1].from_seq = 4;
        refused(f.check(&[]), "is not the log_resumed record");
        // Dropped: the log_resumed record at 3 has no key.
        let mut f = Fixture::new();
        f.history.pop();
        refused(f.check(&[]), "record 3 is a log_resumed record");
        // Swapped for a key the record does not name.
        let mut f = Fixture::new();
        let other = VerifierKey::new(ORIGIN, SigningKey::from_bytes(&[9; 32]).verifying_key()).unwrap();
        f.history[1].verifier_key = other;
        refused(f.check(&[]), "names another audit key");
        // A log_resumed record that resumes from no earlier key of this history.
        let mut f = Fixture::new();
        let stranger = VerifierKey::new(ORIGIN, SigningKey::from_bytes(&[8; 32]).verifying_key()).unwrap();
        f.records[3] = resumed(3, &stranger, &f.history[1].verifier_key).encode().unwrap();
        refused(f.check(&[]), "names no earlier key");
    }

    #[test]
    fn a_checkpoint_signed_by_a_key_not_in_charge_at_its_size_is_refused() {
        let f = Fixture::new();
        refused(f.check(&[f.checkpoint(0, 5)]), "took over at 3");
        refused(f.check(&[f.checkpoint(1, 2)]), "whose records start at 3");
        // One no key of the history opens is verify_log's to name.
        let stranger = Fixture { signers: vec![SigningKey::from_bytes(&[7; 32])], ..Fixture::new() };
        f.check(&[stranger.checkpoint(0, 2)]).unwrap();
    }

    #[test]
    fn a_record_that_does_not_decode_is_modified() {
        let mut f = Fixture::new();
        f.records[5] = vec![0xff];
        assert_eq!(f.check(&[]).unwrap_err().kind(), ErrorCode::RecordModified);
    }
}
