//! The development configuration `zcp up` boots the local enclave with: one
//! admin (threshold 1) and one principal allowed every operation on its own
//! keys. Defined here once so the host, the tests and the docs agree.

use crate::credential::{Credential, CredentialKind};
use crate::document::{AdminKey, Admins, Configuration, KeysAllowed, Operation, Principal};
use crate::envelope::SignedConfig;
use crate::error::ConfigError;
use crate::keys::PublicKey;

/// The development admin's id.
pub const DEV_ADMIN_ID: &str = "dev-admin";
/// The development principal's id.
pub const DEV_CLIENT_ID: &str = "dev-client";
/// The development principal's key quota.
pub const DEV_MAX_KEYS: u64 = 1000;
/// The default stamp window: 30 s either side of the enclave clock.
pub const DEFAULT_STAMP_WINDOW_MS: u64 = 30_000;
/// The default longest session: one hour.
pub const DEFAULT_SESSION_MAX_LIFETIME_S: u64 = 3600;

/// Version 1: admin `dev-admin` (threshold 1) and principal `dev-client` with
/// every operation, `keys_allowed: "own"`, `max_keys: 1000`, a 30 s stamp
/// window and one-hour sessions.
pub fn development_configuration(admin_public: PublicKey, client_public: PublicKey) -> Configuration {
    with_ids(DEV_ADMIN_ID, admin_public, DEV_CLIENT_ID, client_public)
}

fn with_ids(admin_id: &str, admin_public: PublicKey, client_id: &str, client_public: PublicKey) -> Configuration {
    Configuration {
        version: 1,
        admins: Admins { threshold: 1, keys: vec![AdminKey { id: admin_id.to_string(), public_key: admin_public }] },
        principals: vec![Principal {
            id: client_id.to_string(),
            keys: vec![client_public],
            operations: Operation::ALL.to_vec(),
            keys_allowed: KeysAllowed::Own,
            max_keys: DEV_MAX_KEYS,
        }],
        stamp_window_ms: DEFAULT_STAMP_WINDOW_MS,
        oversight: None,
        session_max_lifetime_s: DEFAULT_SESSION_MAX_LIFETIME_S,
    }
}

/// The development configuration for these two credentials (their ids name
/// the admin and the principal; `zcp up` writes `dev-admin` and
/// `dev-client`), signed by the admin and checked with the boot rule.
pub fn development_signed_configuration(admin: &Credential, client: &Credential) -> Result<SignedConfig, ConfigError> {
    admin.expect_kind(CredentialKind::Admin)?;
    client.expect_kind(CredentialKind::Client)?;
    let config = with_ids(admin.id(), admin.public_key(), client.id(), client.public_key());
    let mut signed = SignedConfig::new(config.encode(), Vec::new())?;
    signed.sign(admin)?;
    SignedConfig::verify_initial(&signed.encode())?;
    Ok(signed)
}
