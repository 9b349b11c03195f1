//! Size limits of what crosses the host <-> enclave boundary, defined once.
//!
//! The enclave enforces them (each with its own code) and the host reads them
//! from here through the N-API binding instead of retyping numbers, so an API
//! schema can never accept what the enclave would refuse, or the reverse.

/// Largest frame body; a longer length prefix closes the connection. 1 MiB: well
/// above the largest message (a 128 KiB transaction, a ~5 KiB attestation
/// document) and small enough that a hostile host cannot make the enclave buffer much.
pub const MAX_FRAME_BYTES: usize = 1 << 20;
/// Largest attestation nonce (the AWS NSM's own limit; asserted equal to
/// `sentinel_nsm::MAX_NONCE_LEN` in the enclave).
pub const MAX_NONCE_BYTES: usize = 512;
/// Largest unsigned Ethereum transaction the enclave decodes. Equal to
/// `sentinel_eth::MAX_TRANSACTION_BYTES` (the enclave asserts it at compile
/// time; this crate stays free of the Ethereum dependencies).
pub const MAX_TRANSACTION_BYTES: usize = 128 * 1024;
/// Longest key id a request may name; enclave-made ids are far shorter.
pub const MAX_KEY_ID_BYTES: usize = 128;
/// Largest `ping` payload (round-trip measurements only).
pub const MAX_PING_PAYLOAD_BYTES: usize = 64 * 1024;
/// Default cap on keys one enclave holds (`--max-keys` changes it).
pub const DEFAULT_MAX_KEYS: usize = 100_000;
/// Longest key label.
pub const MAX_LABEL_BYTES: usize = 64;
/// Sessions one host connection may hold open at once.
pub const MAX_SESSIONS_PER_CONNECTION: usize = 64;
/// Largest message `sign_ed25519` signs (64 KiB; at least one byte).
pub const MAX_ED25519_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest operation body (stamped or in a session): a transaction plus its envelope.
pub const MAX_BODY_BYTES: usize = MAX_TRANSACTION_BYTES + 1024;

/// Most records one `audit_records` answer carries.
pub const MAX_AUDIT_READ_RECORDS: usize = 1024;

/// Most record bytes one `audit_records` answer carries (records are at most 32 KiB each), well
/// under [`MAX_FRAME_BYTES`] with the rest of the answer.
pub const MAX_AUDIT_READ_BYTES: usize = 512 * 1024;
