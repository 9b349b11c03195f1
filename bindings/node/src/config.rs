//! N-API face of the signed configuration and request stamps
//! (`sentinel-config`): the CLI's `zcp config`, `zcp up`'s development
//! configuration and the SDK's stamps call these. As everywhere in the
//! binding, each function converts, calls the crate and converts back; the
//! one thing done here is drawing a credential seed from the OS (the crate
//! takes randomness as bytes).
// napi-rs registers the exports only outside `cfg(test)`, and this module is
// private, so the lib's unit-test build would see them as dead code.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_config::{
    checked_stamp_digest, development_signed_configuration, sign_document, AdminSignature, Alg, Configuration,
    Credential, CredentialKind, Inspection, SignedConfig, Stamp,
};
use sentinel_error::{Internal, InvalidArgument};
use zeroize::Zeroizing;

use super::{bytes, throw};

/// A `bigint` argument as a `u64` (`INVALID_ARGUMENT` when negative or 2^64 or more).
fn u64_arg(env: &Env, name: &str, value: &BigInt) -> Result<u64> {
    let low = value.words.first().copied().unwrap_or(0);
    let high = value.words.iter().skip(1).any(|w| *w != 0);
    if high || (value.sign_bit && low != 0) {
        return Err(throw(env, InvalidArgument::new(name, "must be a bigint in 0..2^64")));
    }
    Ok(low)
}

fn credential(env: &Env, json: &str) -> Result<Credential> {
    Credential::from_json(json).map_err(|e| throw(env, e))
}

/// One admin signature, as `configSign` returns it and `signedConfig` takes it.
#[napi(object, object_to_js = false)]
pub struct ConfigSignature {
    pub admin: String,
    pub signature: Buffer,
}

fn signature_object<'env>(env: &'env Env, signature: &AdminSignature) -> Result<Object<'env>> {
    let mut out = Object::new(env)?;
    out.set_named_property("admin", signature.admin.as_str())?;
    out.set_named_property("signature", bytes(env, &signature.signature)?)?;
    Ok(out)
}

/// Canonical CBOR of a configuration document given in its JSON editing form
/// (public keys as 0x-hex). Refusals carry the document's codes (`CONFIG_*`).
#[napi(catch_unwind)]
pub fn config_from_json<'env>(env: &'env Env, json: String) -> Result<BufferSlice<'env>> {
    let config = Configuration::from_json(&json).map_err(|e| throw(env, e))?;
    bytes(env, &config.encode())
}

/// A document or a signed envelope as pretty JSON: `{kind, config_hash,
/// version, signers?, quorum?, config}`; `config` is the JSON editing form.
/// Signers are checked against the document's own admins.
#[napi(catch_unwind)]
pub fn config_to_json(env: &Env, input: &[u8]) -> Result<String> {
    Ok(Inspection::new(input).map_err(|e| throw(env, e))?.to_json())
}

/// `config_hash` (SHA-256 of the canonical document) of a document or of the
/// document inside a signed envelope; either is fully checked first.
#[napi(catch_unwind)]
pub fn config_hash<'env>(env: &'env Env, input: &[u8]) -> Result<BufferSlice<'env>> {
    let inspection = Inspection::new(input).map_err(|e| throw(env, e))?;
    bytes(env, &inspection.config_hash)
}

/// An admin's signature over a canonical document (checked first).
#[napi(catch_unwind, ts_return_type = "{ admin: string; signature: Buffer }")]
pub fn config_sign<'env>(env: &'env Env, document: &[u8], admin_credential_json: String) -> Result<Object<'env>> {
    let admin = credential(env, &admin_credential_json)?;
    let signature = sign_document(document, &admin).map_err(|e| throw(env, e))?;
    signature_object(env, &signature)
}

/// The signed envelope `{config, signatures}` (canonical CBOR) of a document and signatures.
#[napi(catch_unwind)]
pub fn signed_config<'env>(
    env: &'env Env,
    document: &[u8],
    signatures: Vec<ConfigSignature>,
) -> Result<BufferSlice<'env>> {
    let signatures =
        signatures.into_iter().map(|s| AdminSignature { admin: s.admin, signature: s.signature.to_vec() }).collect();
    let signed = SignedConfig::new(document.to_vec(), signatures).map_err(|e| throw(env, e))?;
    bytes(env, &signed.encode())
}

/// The parts of a signed envelope (the document is not checked here; `configToJson` does).
#[napi(catch_unwind, ts_return_type = "{ config: Buffer; signatures: Array<{ admin: string; signature: Buffer }> }")]
pub fn open_signed_config<'env>(env: &'env Env, signed: &[u8]) -> Result<Object<'env>> {
    let signed = SignedConfig::decode(signed).map_err(|e| throw(env, e))?;
    let mut list = env.create_array(signed.signatures.len() as u32)?;
    for (i, s) in signed.signatures.iter().enumerate() {
        list.set(i as u32, signature_object(env, s)?)?;
    }
    let mut out = Object::new(env)?;
    out.set_named_property("config", bytes(env, &signed.config)?)?;
    out.set_named_property("signatures", list)?;
    Ok(out)
}

/// The boot rule (trust on first use): a quorum of the document's own admins signed it.
#[napi(catch_unwind, ts_return_type = "{ configHash: Buffer; version: bigint }")]
pub fn verify_initial_config<'env>(env: &'env Env, signed: &[u8]) -> Result<Object<'env>> {
    let config = SignedConfig::verify_initial(signed).map_err(|e| throw(env, e))?;
    let mut out = Object::new(env)?;
    out.set_named_property("configHash", bytes(env, &config.config_hash())?)?;
    out.set_named_property("version", BigInt::from(config.version))?;
    Ok(out)
}

/// A new credential file (JSON; write it with mode 0600), its secret drawn from the OS.
#[napi(catch_unwind, ts_args_type = "kind: 'client' | 'admin', id: string, alg: 'ed25519' | 'p256' | 'secp256k1'")]
pub fn generate_credential(env: &Env, kind: String, id: String, alg: String) -> Result<String> {
    let kind = CredentialKind::from_name(&kind)
        .ok_or_else(|| throw(env, InvalidArgument::new("kind", "must be 'client' or 'admin'")))?;
    let alg = Alg::from_name(&alg)
        .ok_or_else(|| throw(env, InvalidArgument::new("alg", "must be 'ed25519', 'p256' or 'secp256k1'")))?;
    // A seed outside an ECDSA curve's order (about 2^-32 for p256) is refused
    // by the crate: draw again. Other refusals (the id) repeat and are thrown.
    let mut last = None;
    for _ in 0..8 {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|e| throw(env, Internal(format!("OS randomness: {e}"))))?;
        match Credential::generate(kind, &id, alg, &seed) {
            Ok(credential) => return Ok(credential.to_json().to_string()),
            Err(e) => last = Some(e),
        }
    }
    Err(throw(env, last.expect("at least one attempt")))
}

/// The public key of a credential file, as the configuration lists it
/// (Ed25519: 32 bytes; p256 and secp256k1: compressed SEC1, 33 bytes).
#[napi(catch_unwind)]
pub fn credential_public_key<'env>(env: &'env Env, credential_json: String) -> Result<BufferSlice<'env>> {
    let credential = credential(env, &credential_json)?;
    bytes(env, credential.public_key().as_bytes())
}

/// The development configuration (version 1; the admin and the principal
/// named by the two credentials; every operation on its own keys, quota
/// 1000, 30 s stamp window, one-hour sessions), signed by the admin:
/// the signed envelope bytes.
#[napi(catch_unwind)]
pub fn development_configuration<'env>(
    env: &'env Env,
    admin_credential_json: String,
    client_credential_json: String,
) -> Result<BufferSlice<'env>> {
    let admin = credential(env, &admin_credential_json)?;
    let client = credential(env, &client_credential_json)?;
    let signed = development_signed_configuration(&admin, &client).map_err(|e| throw(env, e))?;
    bytes(env, &signed.encode())
}

/// The 32-byte digest a stamp signs (docs/configuration.md); nonce 16..=32 bytes.
#[napi(catch_unwind)]
pub fn stamp_digest<'env>(
    env: &'env Env,
    op: String,
    body: &[u8],
    timestamp_us: BigInt,
    nonce: &[u8],
) -> Result<BufferSlice<'env>> {
    let timestamp_us = u64_arg(env, "timestampUs", &timestamp_us)?;
    let digest = checked_stamp_digest(&op, body, timestamp_us, nonce).map_err(|e| throw(env, e))?;
    bytes(env, &digest)
}

/// Stamps an operation body with a client credential: the `stamp` of a
/// `stamped` request.
#[napi(catch_unwind, ts_return_type = "{ principal: string; timestampUs: bigint; nonce: Buffer; signature: Buffer }")]
pub fn stamp_request<'env>(
    env: &'env Env,
    credential_json: String,
    op: String,
    body: &[u8],
    timestamp_us: BigInt,
    nonce: &[u8],
) -> Result<Object<'env>> {
    let client = credential(env, &credential_json)?;
    client.expect_kind(CredentialKind::Client).map_err(|e| throw(env, e))?;
    let timestamp_us = u64_arg(env, "timestampUs", &timestamp_us)?;
    let stamp = Stamp::sign(&client, &op, body, timestamp_us, nonce).map_err(|e| throw(env, e))?;
    let mut out = Object::new(env)?;
    out.set_named_property("principal", stamp.principal.as_str())?;
    out.set_named_property("timestampUs", BigInt::from(stamp.timestamp_us))?;
    out.set_named_property("nonce", bytes(env, &stamp.nonce)?)?;
    out.set_named_property("signature", bytes(env, &stamp.signature)?)?;
    Ok(out)
}

fn fixed_arg<const N: usize>(env: &Env, name: &str, value: &[u8]) -> Result<[u8; N]> {
    value.try_into().map_err(|_| throw(env, InvalidArgument::new(name, format!("must be {N} bytes"))))
}

fn admin_credentials(env: &Env, jsons: &[String]) -> Result<Vec<Credential>> {
    jsons.iter().map(|j| credential(env, j)).collect()
}

/// A key deletion order (docs/sealed-state.md) signed by the given admin credentials: the
/// `order` bytes of `admin_delete_key`.
#[napi(catch_unwind)]
pub fn key_deletion_order<'env>(
    env: &'env Env,
    key_id: String,
    config_hash: &[u8],
    expires_at_us: BigInt,
    admin_credential_jsons: Vec<String>,
) -> Result<BufferSlice<'env>> {
    let order = sentinel_config::KeyDeletionOrder {
        key_id,
        config_hash: fixed_arg(env, "configHash", config_hash)?,
        expires_at_us: u64_arg(env, "expiresAtUs", &expires_at_us)?,
    };
    let admins = admin_credentials(env, &admin_credential_jsons)?;
    let signed = order.signed(&admins.iter().collect::<Vec<_>>()).map_err(|e| throw(env, e))?;
    bytes(env, &signed)
}

/// An upgrade approval (attested key forwarding from one image to another, docs/sealed-state.md)
/// signed by the given admin credentials: the `upgrade_approval` bytes of `forward_send` / `forward_accept`.
#[napi(catch_unwind)]
pub fn upgrade_approval<'env>(
    env: &'env Env,
    from_pcr0: &[u8],
    to_pcr0: &[u8],
    config_hash: &[u8],
    expires_at_us: BigInt,
    admin_credential_jsons: Vec<String>,
) -> Result<BufferSlice<'env>> {
    let approval = sentinel_config::UpgradeApproval {
        from_pcr0: fixed_arg(env, "fromPcr0", from_pcr0)?,
        to_pcr0: fixed_arg(env, "toPcr0", to_pcr0)?,
        config_hash: fixed_arg(env, "configHash", config_hash)?,
        expires_at_us: u64_arg(env, "expiresAtUs", &expires_at_us)?,
    };
    let mut signed = sentinel_config::SignedUpgradeApproval::new(&approval);
    for admin in admin_credentials(env, &admin_credential_jsons)? {
        signed.sign(&admin).map_err(|e| throw(env, e))?;
    }
    bytes(env, &signed.encode())
}

/// The operations a configuration can grant a principal (`sentinel_config::Operation::ALL`):
/// every body operation but `delete_key`, which is its owner's own right.
#[napi(catch_unwind)]
pub fn grantable_operations() -> Vec<String> {
    sentinel_config::Operation::ALL.iter().map(|op| op.as_str().to_string()).collect()
}
