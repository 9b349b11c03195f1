//! The pure core of Sentinel's tamper-evident audit log (issue #11): every
//! decision and admin action becomes an [`AuditRecord`] in canonical CBOR, the
//! records are the leaves of an RFC 6962 Merkle tree ([`merkle`]), the tree
//! head is published as a C2SP `tlog-checkpoint` ([`checkpoint`]) signed as a
//! C2SP `signed-note` with Ed25519 ([`note`]), single entries are proven with
//! C2SP `tlog-proof` files ([`proof`]), and [`verify_log`] checks a whole
//! log against its checkpoints (signed with any key of the log's key history)
//! and names what is wrong (modified, deleted, reordered, inserted,
//! truncated); [`LogReplay`] is the streaming form a restarted enclave uses
//! to check the log it resumes against the last checkpoint its predecessor
//! signed ([`replay`]). The log is served as C2SP `tlog-tiles`
//! ([`tiles`]: tile and entry-bundle paths and contents), and [`view`] is the
//! one JavaScript face of all this that the N-API and WASM bindings share. No
//! clock is read (times are passed in) and nothing here does I/O; the enclave,
//! storage, API and CLI build on it.
//!
//! Specifications followed: RFC 6962 §2.1 (and the verification algorithms of
//! RFC 9162 §2.1.3.2 / §2.1.4.2); c2sp.org/tlog-checkpoint, c2sp.org/signed-note
//! and c2sp.org/tlog-proof as published in the C2SP/C2SP repository
//! (`tlog-checkpoint.md` @ 2793893976c8, `signed-note.md` @ 055287621bf3,
//! `tlog-proof.md` @ 0065ea5b7161); the verifier-key text form of
//! golang.org/x/mod/sumdb/note. Go's `sumdb/note` and `sumdb/tlog` check our
//! output in `tests/interop_go.rs`.
#![forbid(unsafe_code)]

pub mod checkpoint;
mod error;
pub mod key_history;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod record;
pub mod replay;
pub mod tiles;
pub mod verify;
pub mod view;

pub use checkpoint::{open_checkpoint, open_checkpoint_with_keys, sign_checkpoint, Checkpoint};
pub use error::{Error, ErrorCode};
pub use key_history::{verify_key_history, HistoryKey};
pub use merkle::{consistency, Frontier, Hash};
pub use note::{Note, NoteSignature, VerifierKey};
pub use proof::{prove, TlogProof};
pub use record::{AuditRecord, Decision, Effect, Outcome, RecordKind, RuleResult};
pub use replay::{Coverage, LogReplay, Replayed};
pub use tiles::{Tile, TileKind, TileTree};
pub use verify::{verify_log, LogReport};
