//! N-API binding of the Sentinel core.
//!
//! Each function converts JS arguments into core types, calls exactly one core
//! function and converts the result back; there is no logic here to keep in
//! sync with the WASM binding. Every error goes through one conversion,
//! [`throw`]: a JS `Error` whose `code` is the core's stable code
//! ([`sentinel_error::CodedError`]). Option arguments go through one
//! conversion too, [`optional`] (a wrong type is `INVALID_ARGUMENT`, as in
//! the WASM build), and their defaults are the core's.
//! `catch_unwind` turns a Rust panic into a thrown error instead of aborting
//! the Node process.
#![deny(clippy::all)]

mod attestation;
mod audit;
mod config;
mod import;
mod oversight;
mod policy;
mod policy_common;
mod protocol;
mod receipt;
mod session_client;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_error::{CodedError, InvalidArgument};
use sentinel_signer::{ed25519, hazmat, secp256k1};

/// The one conversion of an error to JS: an `Error` with the core's stable
/// `code` and its message, thrown here (`napi_throw_error`), after which the
/// function returns `PendingException` so napi-rs does not throw again.
fn throw<E: CodedError>(env: &Env, e: E) -> Error {
    match env.throw_error(&e.message(), Some(e.code())) {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(failed) => failed,
    }
}

/// The one conversion of an optional argument (`undefined`/`null` → `None`):
/// napi-rs's own type check and conversion to `T`, except that a value of the
/// wrong type throws `INVALID_ARGUMENT` (as the WASM build does) instead of
/// napi-rs's `InvalidArg`. Defaults for `None` are the core's.
fn optional<T: FromNapiValue + ValidateNapiValue>(env: &Env, name: &str, value: Option<Unknown>) -> Result<Option<T>> {
    let Some(value) = value else { return Ok(None) };
    // SAFETY: `value` is a live handle of this call's scope and `env` is the env it belongs to.
    let converted =
        unsafe { T::validate(env.raw(), value.raw()).and_then(|_| T::from_napi_value(env.raw(), value.raw())) };
    converted.map(Some).map_err(|e| throw(env, InvalidArgument::new(name, e.reason)))
}

fn secp_secret(env: &Env, bytes: &[u8]) -> Result<secp256k1::SecretKey> {
    secp256k1::SecretKey::from_slice(bytes).map_err(|e| throw(env, e))
}

fn digest32<'a>(env: &Env, bytes: &'a [u8]) -> Result<&'a [u8; 32]> {
    secp256k1::digest_from_slice(bytes).map_err(|e| throw(env, e))
}

fn bytes<'env>(env: &'env Env, data: &[u8]) -> Result<BufferSlice<'env>> {
    BufferSlice::copy_from(env, data)
}

/// Declares the TypeScript interface only: `verifyDigest` reads `lowS` with
/// [`optional`] so that `null` means unset and a wrong type is `INVALID_ARGUMENT`.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct VerifyOptions {
    /// Require low-S (Ethereum/Bitcoin rule). Defaults to `true`.
    pub low_s: Option<bool>,
}

/// Signs a 32-byte digest: RFC 6979 nonce, low-S, recovery id.
#[napi(catch_unwind, ts_return_type = "{ signature: Buffer; recoveryId: number }")]
pub fn sign_digest<'env>(env: &'env Env, secret_key: &[u8], digest: &[u8]) -> Result<Object<'env>> {
    let sig = secp_secret(env, secret_key)?.sign_digest(digest32(env, digest)?);
    let mut out = Object::new(env)?;
    out.set_named_property("signature", bytes(env, &sig.bytes)?)?;
    out.set_named_property("recoveryId", u32::from(sig.recovery_id))?;
    Ok(out)
}

/// Zero-allocation `signDigest`: writes `r || s` into `out` (64 bytes) and
/// returns the recovery id. For latency-critical callers that reuse a buffer.
#[napi(catch_unwind)]
pub fn sign_digest_into(env: &Env, secret_key: &[u8], digest: &[u8], mut out: Uint8ArraySlice<'_>) -> Result<u32> {
    if out.len() != secp256k1::SIGNATURE_LENGTH {
        return Err(throw(env, sentinel_signer::Error::InvalidSignatureEncoding));
    }
    let sig = secp_secret(env, secret_key)?.sign_digest(digest32(env, digest)?);
    // SAFETY: the view covers `out.len()` live bytes of the caller's array, and
    // the JS thread that owns it is blocked in this call while we write.
    unsafe { out.as_mut() }.copy_from_slice(&sig.bytes);
    Ok(u32::from(sig.recovery_id))
}

/// Verifies a 64-byte `r || s` signature over a 32-byte digest.
#[napi(catch_unwind)]
pub fn verify_digest(
    env: &Env,
    public_key: &[u8],
    digest: &[u8],
    signature: &[u8],
    #[napi(ts_arg_type = "VerifyOptions | null")] options: Option<Unknown>,
) -> Result<bool> {
    let options = secp256k1::VerifyOptions::from_optional(low_s_option(env, options)?);
    let key = secp256k1::PublicKey::from_slice(public_key).map_err(|e| throw(env, e))?;
    secp256k1::verify(&key, digest32(env, digest)?, signature, &options).map_err(|e| throw(env, e))
}

/// `options.lowS` of `verifyDigest`; `options` must be an object when given.
fn low_s_option(env: &Env, options: Option<Unknown>) -> Result<Option<bool>> {
    let Some(options) = optional::<Object>(env, "options", options)? else { return Ok(None) };
    let low_s = options.get_named_property::<Option<Unknown>>("lowS")?;
    optional::<bool>(env, "options.lowS", low_s)
}

fn key_format(env: &Env, compressed: Option<Unknown>) -> Result<secp256k1::PublicKeyFormat> {
    Ok(secp256k1::PublicKeyFormat::from_compressed(optional::<bool>(env, "compressed", compressed)?))
}

/// SEC1 public key of a secret key; compressed (33 bytes) unless `compressed` is false.
#[napi(catch_unwind)]
pub fn public_key_from_secret<'env>(
    env: &'env Env,
    secret_key: &[u8],
    #[napi(ts_arg_type = "boolean | null")] compressed: Option<Unknown>,
) -> Result<BufferSlice<'env>> {
    let format = key_format(env, compressed)?;
    bytes(env, &secp_secret(env, secret_key)?.public_key().serialize(format))
}

/// Recovers the signer's public key (compressed unless `compressed` is false).
#[napi(catch_unwind)]
pub fn recover_public_key<'env>(
    env: &'env Env,
    digest: &[u8],
    signature: &[u8],
    recovery_id: u32,
    #[napi(ts_arg_type = "boolean | null")] compressed: Option<Unknown>,
) -> Result<BufferSlice<'env>> {
    let format = key_format(env, compressed)?;
    let recid = u8::try_from(recovery_id).unwrap_or(u8::MAX);
    let pk = secp256k1::recover_public_key(digest32(env, digest)?, signature, recid).map_err(|e| throw(env, e))?;
    bytes(env, &pk.serialize(format))
}

/// Strict DER signature to 64-byte `r || s`; `null` when r or s is out of range.
#[napi(catch_unwind)]
pub fn signature_from_der<'env>(env: &'env Env, der: &[u8]) -> Result<Option<BufferSlice<'env>>> {
    match secp256k1::der_to_compact(der).map_err(|e| throw(env, e))? {
        Some(compact) => bytes(env, &compact).map(Some),
        None => Ok(None),
    }
}

/// EIP-55 checksummed address of a secp256k1 public key.
#[napi(catch_unwind)]
pub fn ethereum_address(env: &Env, public_key: &[u8]) -> Result<String> {
    let key = secp256k1::PublicKey::from_slice(public_key).map_err(|e| throw(env, e))?;
    Ok(sentinel_eth::checksum_address(&sentinel_eth::address_from_public_key(&key)))
}

/// Signs an unsigned legacy / EIP-155 / EIP-2930 / EIP-1559 transaction into its raw signed form.
#[napi(catch_unwind)]
pub fn sign_ethereum_transaction<'env>(
    env: &'env Env,
    secret_key: &[u8],
    unsigned_tx: &[u8],
) -> Result<BufferSlice<'env>> {
    let signed =
        sentinel_eth::sign_transaction(&secp_secret(env, secret_key)?, unsigned_tx).map_err(|e| throw(env, e))?;
    bytes(env, &signed)
}

/// Encodes a JSON transaction object (ethers / viem shape) into unsigned RLP
/// (`INVALID_TRANSACTION_JSON` naming the field otherwise; crates/eth README).
#[napi(catch_unwind)]
pub fn encode_unsigned_transaction<'env>(env: &'env Env, json: String) -> Result<BufferSlice<'env>> {
    bytes(env, &sentinel_eth::encode_transaction_json(&json).map_err(|e| throw(env, e))?)
}

/// Strictly decodes an unsigned transaction into the fields that will be signed.
#[napi(
    catch_unwind,
    ts_return_type = "{ kind: 'legacy' | 'eip155' | 'eip2930' | 'eip1559'; chainId: string | null; nonce: string; gasLimit: string; value: string; gasPrice: string | null; maxFeePerGas: string | null; maxPriorityFeePerGas: string | null; to: string | null; data: string; accessList: Array<{ address: string; storageKeys: string[] }>; signingHash: string }"
)]
pub fn decode_ethereum_transaction<'env>(env: &'env Env, unsigned_tx: &[u8]) -> Result<Unknown<'env>> {
    let tx = sentinel_eth::decode_transaction(unsigned_tx).map_err(|e| throw(env, e))?;
    env.to_js_value(&tx.view())
}

/// Strictly decodes a signed transaction and recovers its signer (EIP-55 address).
#[napi(
    catch_unwind,
    ts_return_type = "{ signer: string; transaction: { kind: 'legacy' | 'eip155' | 'eip2930' | 'eip1559'; chainId: string | null; nonce: string; gasLimit: string; value: string; gasPrice: string | null; maxFeePerGas: string | null; maxPriorityFeePerGas: string | null; to: string | null; data: string; accessList: Array<{ address: string; storageKeys: string[] }>; signingHash: string } }"
)]
pub fn recover_ethereum_transaction_signer<'env>(env: &'env Env, signed_tx: &[u8]) -> Result<Unknown<'env>> {
    let (signer, tx) = sentinel_eth::recover_transaction_signer(signed_tx).map_err(|e| throw(env, e))?;
    env.to_js_value(&sentinel_eth::RecoveredSignerView::new(&signer, &tx))
}

/// EIP-191 `personal_sign` digest of a message.
#[napi(catch_unwind)]
pub fn hash_personal_message<'env>(env: &'env Env, message: &[u8]) -> Result<BufferSlice<'env>> {
    bytes(env, &sentinel_eth::hash_personal_message(message))
}

/// EIP-712 (v4) digest of typed data given as a JSON string.
#[napi(catch_unwind)]
pub fn hash_typed_data<'env>(env: &'env Env, json: String) -> Result<BufferSlice<'env>> {
    bytes(env, &sentinel_eth::hash_typed_data(&json).map_err(|e| throw(env, e))?)
}

/// Keccak-256 of bytes.
#[napi(catch_unwind)]
pub fn keccak256<'env>(env: &'env Env, data: &[u8]) -> Result<BufferSlice<'env>> {
    bytes(env, &sentinel_eth::keccak256(data))
}

/// Ed25519 signature (64 bytes) of a message with a 32-byte seed.
#[napi(catch_unwind)]
pub fn sign_ed25519<'env>(env: &'env Env, secret_key: &[u8], message: &[u8]) -> Result<BufferSlice<'env>> {
    let key = ed25519::SecretKey::from_slice(secret_key).map_err(|e| throw(env, e))?;
    bytes(env, &key.sign(message))
}

/// Ed25519 public key (32 bytes) of a 32-byte seed.
#[napi(catch_unwind)]
pub fn ed25519_public_key<'env>(env: &'env Env, secret_key: &[u8]) -> Result<BufferSlice<'env>> {
    let key = ed25519::SecretKey::from_slice(secret_key).map_err(|e| throw(env, e))?;
    bytes(env, &key.public_key())
}

/// Strict Ed25519 verification.
#[napi(catch_unwind)]
pub fn verify_ed25519(env: &Env, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool> {
    ed25519::verify(public_key, message, signature).map_err(|e| throw(env, e))
}

/// HAZMAT: the `index`-th RFC 6979 nonce candidate. Only for checking test vectors.
#[napi(catch_unwind)]
pub fn hazmat_rfc6979_nonce<'env>(
    env: &'env Env,
    secret_key: &[u8],
    digest: &[u8],
    index: u32,
) -> Result<BufferSlice<'env>> {
    let k = hazmat::hazmat_rfc6979_nonce(&secp_secret(env, secret_key)?, digest32(env, digest)?, index);
    bytes(env, &k)
}
