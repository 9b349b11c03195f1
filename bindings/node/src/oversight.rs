//! N-API face of the oversight commands (`sentinel-oversight`,
//! docs/oversight.md): building a command from its JSON editing form into
//! the canonical CBOR the enclave reads and its digest, reading one back, and
//! signing one with an overseer's or approver's credential. The CLI (`zcp
//! halt | resume | status | heartbeat | approvals`), the local stack's resume
//! at boot and the API's per-action routes call these. As everywhere in the
//! binding, each function converts, calls the crates and converts back;
//! refusals are the crates' errors (`OVERSIGHT_MALFORMED`,
//! `CREDENTIAL_INVALID`), thrown through the one conversion ([`throw`]).
// napi-rs registers the exports only outside `cfg(test)`, and this module is
// private, so the lib's unit-test build would see them as dead code.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_config::Credential;
use sentinel_oversight::Command;

use super::{bytes, throw};

fn command_of(env: &Env, cbor: &[u8]) -> Result<Command> {
    Command::from_cbor(cbor).map_err(|e| throw(env, e))
}

/// A command in its JSON editing form (`{ action, scope?, level?, reason?,
/// challenge?, request_id?, request_digest?, timestamp_us, nonce }`, bytes as
/// 0x-hex), validated: its canonical CBOR (what is sent), its digest
/// (SHA-256("sentinel/oversight/v1" || CBOR): what signers sign) and its
/// normalized JSON. Refusals: `OVERSIGHT_MALFORMED` naming the field.
#[napi(catch_unwind, ts_return_type = "{ command: Buffer; digest: Buffer; json: string }")]
pub fn oversight_command<'env>(env: &'env Env, json: String) -> Result<Object<'env>> {
    let command = Command::from_json(&json).map_err(|e| throw(env, e))?;
    let mut out = Object::new(env)?;
    out.set_named_property("command", bytes(env, &command.to_cbor())?)?;
    out.set_named_property("digest", bytes(env, &command.digest())?)?;
    out.set_named_property("json", command.to_json())?;
    Ok(out)
}

/// A command's canonical CBOR, strictly decoded and validated, as its JSON
/// editing form. Refusals: `OVERSIGHT_MALFORMED`.
#[napi(catch_unwind)]
pub fn oversight_decode(env: &Env, command: &[u8]) -> Result<String> {
    Ok(command_of(env, command)?.to_json())
}

/// Signs a command (canonical CBOR, decoded and validated first: only a valid
/// command is signed) with a credential file's key: `{ signer, signature }`,
/// the entry the enclave checks against its configured overseers or approvers.
#[napi(catch_unwind, ts_return_type = "{ signer: string; signature: Buffer }")]
pub fn oversight_sign<'env>(env: &'env Env, command: &[u8], credential_json: String) -> Result<Object<'env>> {
    let digest = command_of(env, command)?.digest();
    let credential = Credential::from_json(&credential_json).map_err(|e| throw(env, e))?;
    let mut out = Object::new(env)?;
    out.set_named_property("signer", credential.id())?;
    out.set_named_property("signature", bytes(env, &credential.sign(&digest))?)?;
    Ok(out)
}
