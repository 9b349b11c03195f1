//! Sentinel's Ethereum layer.
//!
//! Sits between the signing core (`sentinel-signer`) and the bindings: it
//! turns raw unsigned transaction bytes into a typed [`Transaction`] a policy
//! engine can read, signs exactly those bytes into a raw signed transaction,
//! and hashes EIP-191 personal messages and EIP-712 typed data. Decoding is
//! strict by design (one accepted encoding per transaction, every deviation a
//! stable [`Error::code`]; the table is in the crate README) so that what the
//! policy reads and what the key signs cannot differ. Nothing here reads a
//! clock, a file or the environment, so the crate builds unchanged for
//! `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]

mod address;
mod error;
mod personal;
mod recover;
mod request;
mod rlp;
mod sign;
mod transaction;
mod typed_data;
mod view;

pub use address::{address_from_public_key, checksum_address};
pub use alloy_primitives::{Address, Bytes, B256, U256};
pub use error::Error;
pub use personal::hash_personal_message;
pub use recover::{decode_signed_transaction, recover_transaction_signer, SignedTransaction};
pub use request::{encode_transaction_json, transaction_from_json, MAX_TRANSACTION_JSON_BYTES};
pub use sign::sign_transaction;
pub use transaction::{decode_transaction, AccessListItem, Transaction, TxKind, MAX_TRANSACTION_BYTES};
pub use typed_data::hash_typed_data;
pub use view::{AccessListItemView, RecoveredSignerView, TransactionView};

/// Keccak-256 (Ethereum's pre-standard SHA-3).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    alloy_primitives::keccak256(data).0
}
