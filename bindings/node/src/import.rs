//! Key import (crates/import): the HPKE `info` a client seals with, computed by
//! the core, so the TypeScript client (`@hpke/core`) and the enclave bind the
//! very same bytes (principal, label, curve, purpose) and CBOR is encoded once.
// napi-rs registers exports only outside `cfg(test)`, so the test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]
use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_error::InvalidArgument;
use sentinel_import::{Curve, ImportContext, KeyPurpose};

use super::{bytes, throw};

/// What an import is bound to (the enclave takes `principal` from the stamp or session, never from the host).
#[napi(object, object_to_js = false)]
pub struct ImportContextArgs {
    pub principal: String,
    pub label: String,
    /// `secp256k1` or `ed25519`.
    pub curve: String,
    /// `ethereum` or `raw`.
    pub purpose: String,
}

/// `"sentinel/import/v1" || canonical CBOR {curve, label, principal, purpose}` (docs/key-import.md).
#[napi(catch_unwind)]
pub fn import_info<'env>(env: &'env Env, context: ImportContextArgs) -> Result<BufferSlice<'env>> {
    let curve = Curve::from_name(&context.curve)
        .ok_or_else(|| throw(env, InvalidArgument::new("context.curve", "must be `secp256k1` or `ed25519`")))?;
    let purpose = KeyPurpose::from_name(&context.purpose)
        .ok_or_else(|| throw(env, InvalidArgument::new("context.purpose", "must be `ethereum` or `raw`")))?;
    let context = ImportContext { principal: context.principal, label: context.label, curve, purpose };
    bytes(env, &context.info())
}
