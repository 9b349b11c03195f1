//! Arbitrary bytes through every parser of sentinel-audit: an audit record,
//! a signed note, a checkpoint, a tlog-proof and a verifier key. Each input is
//! refused with a code or accepted, never a panic; what is accepted must
//! format back to the same bytes (records, checkpoints, proofs, keys) or, for
//! notes, parse again to the same note.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_audit::{AuditRecord, Checkpoint, Note, TlogProof, VerifierKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = AuditRecord::decode(data) {
        assert_eq!(record.encode().unwrap(), data);
    }
    if let Ok(note) = Note::parse(data) {
        assert_eq!(Note::parse(note.to_text().as_bytes()).as_ref(), Ok(&note));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::parse(text) {
            assert_eq!(checkpoint.to_text().unwrap(), text);
        }
        if let Ok(proof) = TlogProof::parse(text) {
            assert_eq!(proof.to_text(), text);
        }
        if let Ok(key) = VerifierKey::parse(text) {
            assert_eq!(key.to_string(), text);
        }
    }
});
