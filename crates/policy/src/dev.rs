//! The development policy `zcp up` installs in the local stack, defined once
//! so the host, the tests and docs/policy.md agree. It is permissive on
//! purpose: an enclave refuses every signing request until a policy is
//! installed (`POLICY_NOT_INSTALLED`), and local mode should sign out of the
//! box. Never use it outside local mode.
use sentinel_config::{AdminKey, Admins, Credential};

use crate::error::PolicyError;
use crate::signed::SignedPolicy;

/// Version 1, name `development`, one rule: `dev-any-time`, a `time_window`
/// with preset `crypto_24_7` and no scope. That rule allows every signing
/// request at any time, so this policy allows everything the configuration
/// lets a principal do (no amount, rate, contract, chain or risk limits).
/// For local mode only.
pub fn development_policy_json() -> String {
    r#"{"name":"development","rules":[{"id":"dev-any-time","preset":"crypto_24_7","type":"time_window"}],"version":1}"#
        .to_string()
}

/// [`development_policy_json`] signed by `admin` (an admin credential, the
/// configuration's quorum of one in local mode) and checked as the enclave
/// would check it against an admin set holding only that key.
pub fn development_signed_policy(admin: &Credential) -> Result<SignedPolicy, PolicyError> {
    let mut signed = SignedPolicy::new(development_policy_json().as_bytes())?;
    signed.sign(admin)?;
    let admins =
        Admins { threshold: 1, keys: vec![AdminKey { id: admin.id().to_string(), public_key: admin.public_key() }] };
    signed.verify(&admins, None)?;
    Ok(signed)
}
