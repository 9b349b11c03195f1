//! Who may use a Sentinel enclave, and how a request proves who sent it.
//!
//! This crate decides three things, as pure functions of bytes (no clock, no
//! I/O, no randomness: time arrives as `now_us`, seeds as arguments):
//!
//! - whether a configuration document is well formed: canonical CBOR
//!   (RFC 8949 §4.2.1), known fields and names only, valid keys, size caps
//!   ([`Configuration::decode`]);
//! - whether the enclave may adopt it: at boot, a quorum of its own admins
//!   signed it ([`SignedConfig::verify_initial`], trust on first use); later,
//!   a quorum of the admins in force signed a strictly higher version
//!   ([`Configuration::verify_update`]);
//! - whether a request stamp authenticates a principal: signature by one of
//!   its keys over the operation and body, timestamp within the window,
//!   nonce never accepted before within it ([`StampVerifier`]), after which
//!   [`Principal::may`] and [`Principal::may_use_key`] answer authorization.
//!
//! It trusts only the configuration's own admin keys (and, at boot, whoever
//! delivered the first configuration: that is what the attestation's
//! `user_data = 0x02 || config_hash` lets clients check), and the signature
//! libraries named in [`Alg`]. The format, the digests and every refusal
//! code are specified in docs/configuration.md.
#![forbid(unsafe_code)]
#![deny(clippy::all)]

mod cbor;
mod credential;
mod dev;
mod document;
mod envelope;
mod error;
mod json;
mod keys;
mod stamp;
mod upgrade;

pub use credential::{Credential, CredentialKind};
pub use dev::{
    development_configuration, development_signed_configuration, DEFAULT_SESSION_MAX_LIFETIME_S,
    DEFAULT_STAMP_WINDOW_MS, DEV_ADMIN_ID, DEV_CLIENT_ID, DEV_MAX_KEYS,
};
pub use document::{
    config_hash, is_id, AdminKey, Admins, Configuration, KeysAllowed, Operation, Oversight, Principal,
    DEFAULT_APPROVAL_TTL_S, DEFAULT_MAX_PENDING, MAX_ADMINS, MAX_APPROVAL_TTL_S, MAX_CONFIG_BYTES,
    MAX_HEARTBEAT_INTERVAL_MS, MAX_ID_BYTES, MAX_KEYS_PER_PRINCIPAL, MAX_LABELS_PER_PRINCIPAL, MAX_LABEL_BYTES,
    MAX_OPERATIONS, MAX_OVERSIGHT_KEYS, MAX_PENDING_LIMIT, MAX_PRINCIPALS, MAX_SESSION_LIFETIME_S, MAX_STAMP_WINDOW_MS,
    MAX_TRIP_CONSECUTIVE_DENIALS, MAX_TRIP_RISK_SCORE_BPS, MIN_HEARTBEAT_INTERVAL_MS,
};
pub use envelope::{
    config_signing_digest, sign_document, AdminSignature, QuorumShortfall, SignedConfig, SignerStatus,
    CONFIG_SIGNATURE_DOMAIN, MAX_SIGNATURES, MAX_SIGNATURE_BYTES, MAX_SIGNED_CONFIG_BYTES,
};
pub use error::{codes, ConfigError, ConfigErrorCode, StampError, StampErrorCode};
pub use json::Inspection;
pub use keys::{Alg, KeyProblem, PublicKey, SIGNATURE_LEN};
pub use stamp::{
    check_nonce, checked_stamp_digest, replay_key, stamp_digest, Stamp, StampVerifier, DEFAULT_REPLAY_CACHE_CAPACITY,
    MAX_NONCE_LEN, MAX_STAMP_BYTES, MIN_NONCE_LEN, STAMP_DOMAIN,
};
pub use upgrade::{
    KeyDeletionOrder, SignedUpgradeApproval, UpgradeApproval, KEY_DELETION_SIGNATURE_DOMAIN, KEY_DELETION_TYPE,
    MAX_SIGNED_APPROVAL_BYTES, UPGRADE_APPROVAL_TYPE, UPGRADE_SIGNATURE_DOMAIN,
};
