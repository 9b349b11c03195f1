//! Sealed state: what the enclave hands the untrusted host to store, encrypted so that only an
//! enclave holding the same master key, and the same configuration lineage, can read it back.
//!
//! Decides: the sealed-record format ([`SEAL_VERSION`] 1: a clear header naming the record, then
//! AES-256-GCM ciphertext), the per-record key (HKDF-SHA256 of the master key with a fresh 32-byte
//! salt, so no nonce is ever reused under one key), and what a record is bound to: its kind, name
//! and version, and the [`Lineage`] of the configuration it was sealed under. The whole header is
//! the AEAD's associated data, so a record moved to another name, another version or another
//! lineage does not open, and [`open`] names which of those it was before it tries. Trusts: the
//! `aes-gcm` and `hkdf` crates (RustCrypto) for the primitives, and the caller for the master key
//! (from a provider: KMS, development, none) and for the salt, which must come from a CSPRNG.
//! Reads no clock and no entropy source.
#![forbid(unsafe_code)]

extern crate alloc;

mod error;
mod format;
mod key;
mod provider;

pub use error::{SealError, SealErrorCode};
pub use format::{
    open, read_header, seal, Lineage, Opened, RecordId, RecordKind, MAX_NAME_LEN, MAX_PLAINTEXT_LEN, SEAL_MAGIC,
    SEAL_VERSION,
};
pub use key::MasterKey;
pub use provider::{MasterKeyProvider, SealingKind};
