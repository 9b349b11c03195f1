//! WASM binding of the Sentinel core (wasm-bindgen), for browsers and Node.
//!
//! Mirrors `bindings/node` function for function: convert, call one core
//! function, convert back. Errors go through one conversion (`js_error`, for
//! any [`sentinel_error::CodedError`]) into JS `Error`s carrying the core's
//! stable `code`, the same shape the N-API build throws, so one conformance
//! suite runs unchanged against both. Option arguments of the wrong type are
//! `INVALID_ARGUMENT` in both builds; their defaults are the core's.
mod attestation;
mod audit;
mod policy;
mod receipt;

use attestation::{js_error, to_js};

use js_sys::{Object, Reflect, Uint8Array};
use sentinel_error::InvalidArgument;
use sentinel_signer::{ed25519, hazmat, secp256k1};
use wasm_bindgen::prelude::*;

/// The one conversion of an optional boolean (`undefined`/`null` → `None`);
/// any other non-boolean is `INVALID_ARGUMENT`, as in the N-API build.
fn optional_bool(value: &JsValue, name: &str) -> Result<Option<bool>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_bool().map(Some).ok_or_else(|| js_error(InvalidArgument::new(name, "expected a boolean")))
}

/// `options.lowS` of `verifyDigest`: `options` must be an object when given.
fn low_s_option(options: &JsValue) -> Result<Option<bool>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    if !options.is_object() {
        return Err(js_error(InvalidArgument::new("options", "expected an object")));
    }
    optional_bool(&Reflect::get(options, &"lowS".into())?, "options.lowS")
}

fn secp_secret(bytes: &[u8]) -> Result<secp256k1::SecretKey, JsValue> {
    secp256k1::SecretKey::from_slice(bytes).map_err(js_error)
}

fn digest32(bytes: &[u8]) -> Result<&[u8; 32], JsValue> {
    secp256k1::digest_from_slice(bytes).map_err(js_error)
}

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export interface VerifyOptions { lowS?: boolean }
export interface SignDigestResult { signature: Uint8Array; recoveryId: number }
export interface AccessListItem { address: string; storageKeys: string[] }
export interface RecoveredSigner { signer: string; transaction: DecodedTransaction }
export interface DecodedTransaction {
  kind: 'legacy' | 'eip155' | 'eip2930' | 'eip1559';
  chainId: string | null; nonce: string; gasLimit: string; value: string;
  gasPrice: string | null; maxFeePerGas: string | null; maxPriorityFeePerGas: string | null;
  to: string | null; data: string; accessList: AccessListItem[]; signingHash: string;
}
"#;

/// Signs a 32-byte digest: RFC 6979 nonce, low-S, recovery id.
#[wasm_bindgen(js_name = signDigest, unchecked_return_type = "SignDigestResult")]
pub fn sign_digest(secret_key: &[u8], digest: &[u8]) -> Result<Object, JsValue> {
    let sig = secp_secret(secret_key)?.sign_digest(digest32(digest)?);
    let out = Object::new();
    set(&out, "signature", &Uint8Array::from(&sig.bytes[..]).into());
    set(&out, "recoveryId", &JsValue::from(sig.recovery_id));
    Ok(out)
}

/// Zero-allocation `signDigest`: writes `r || s` into `out` (64 bytes) and
/// returns the recovery id. (In WASM the bytes are still copied across the boundary.)
#[wasm_bindgen(js_name = signDigestInto)]
pub fn sign_digest_into(secret_key: &[u8], digest: &[u8], out: &mut [u8]) -> Result<u32, JsValue> {
    let out: &mut [u8; 64] = out.try_into().map_err(|_| js_error(sentinel_signer::Error::InvalidSignatureEncoding))?;
    let sig = secp_secret(secret_key)?.sign_digest(digest32(digest)?);
    out.copy_from_slice(&sig.bytes);
    Ok(u32::from(sig.recovery_id))
}

/// Verifies a 64-byte `r || s` signature; `lowS` (default true) rejects high-S.
#[wasm_bindgen(js_name = verifyDigest)]
pub fn verify_digest(
    public_key: &[u8],
    digest: &[u8],
    signature: &[u8],
    #[wasm_bindgen(unchecked_optional_param_type = "VerifyOptions | null")] options: JsValue,
) -> Result<bool, JsValue> {
    let options = secp256k1::VerifyOptions::from_optional(low_s_option(&options)?);
    let key = secp256k1::PublicKey::from_slice(public_key).map_err(js_error)?;
    secp256k1::verify(&key, digest32(digest)?, signature, &options).map_err(js_error)
}

fn key_format(compressed: &JsValue) -> Result<secp256k1::PublicKeyFormat, JsValue> {
    Ok(secp256k1::PublicKeyFormat::from_compressed(optional_bool(compressed, "compressed")?))
}

/// SEC1 public key of a secret key; compressed unless `compressed` is false.
#[wasm_bindgen(js_name = publicKeyFromSecret)]
pub fn public_key_from_secret(
    secret_key: &[u8],
    #[wasm_bindgen(unchecked_optional_param_type = "boolean | null")] compressed: JsValue,
) -> Result<Vec<u8>, JsValue> {
    let format = key_format(&compressed)?;
    Ok(secp_secret(secret_key)?.public_key().serialize(format))
}

/// Recovers the signer's public key (compressed unless `compressed` is false).
#[wasm_bindgen(js_name = recoverPublicKey)]
pub fn recover_public_key(
    digest: &[u8],
    signature: &[u8],
    recovery_id: u32,
    #[wasm_bindgen(unchecked_optional_param_type = "boolean | null")] compressed: JsValue,
) -> Result<Vec<u8>, JsValue> {
    let format = key_format(&compressed)?;
    let recid = u8::try_from(recovery_id).unwrap_or(u8::MAX);
    let pk = secp256k1::recover_public_key(digest32(digest)?, signature, recid).map_err(js_error)?;
    Ok(pk.serialize(format))
}

/// Strict DER signature to 64-byte `r || s`; `null` when r or s is out of range.
#[wasm_bindgen(js_name = signatureFromDer, unchecked_return_type = "Uint8Array | null")]
pub fn signature_from_der(der: &[u8]) -> Result<JsValue, JsValue> {
    // wasm-bindgen maps `None` to `undefined`; the API (and the N-API build) says `null`.
    Ok(match secp256k1::der_to_compact(der).map_err(js_error)? {
        Some(compact) => Uint8Array::from(&compact[..]).into(),
        None => JsValue::NULL,
    })
}

/// EIP-55 checksummed address of a secp256k1 public key.
#[wasm_bindgen(js_name = ethereumAddress)]
pub fn ethereum_address(public_key: &[u8]) -> Result<String, JsValue> {
    let key = secp256k1::PublicKey::from_slice(public_key).map_err(js_error)?;
    Ok(sentinel_eth::checksum_address(&sentinel_eth::address_from_public_key(&key)))
}

/// Signs an unsigned legacy / EIP-155 / EIP-2930 / EIP-1559 transaction into its raw signed form.
#[wasm_bindgen(js_name = signEthereumTransaction)]
pub fn sign_ethereum_transaction(secret_key: &[u8], unsigned_tx: &[u8]) -> Result<Vec<u8>, JsValue> {
    sentinel_eth::sign_transaction(&secp_secret(secret_key)?, unsigned_tx).map_err(js_error)
}

/// Strictly decodes an unsigned transaction into the fields that will be signed.
#[wasm_bindgen(js_name = decodeEthereumTransaction, unchecked_return_type = "DecodedTransaction")]
pub fn decode_ethereum_transaction(unsigned_tx: &[u8]) -> Result<JsValue, JsValue> {
    let tx = sentinel_eth::decode_transaction(unsigned_tx).map_err(js_error)?;
    to_js(&tx.view())
}

/// Strictly decodes a signed transaction and recovers its signer (EIP-55 address).
#[wasm_bindgen(js_name = recoverEthereumTransactionSigner, unchecked_return_type = "RecoveredSigner")]
pub fn recover_ethereum_transaction_signer(signed_tx: &[u8]) -> Result<JsValue, JsValue> {
    let (signer, tx) = sentinel_eth::recover_transaction_signer(signed_tx).map_err(js_error)?;
    to_js(&sentinel_eth::RecoveredSignerView::new(&signer, &tx))
}

/// EIP-191 `personal_sign` digest of a message.
#[wasm_bindgen(js_name = hashPersonalMessage)]
pub fn hash_personal_message(message: &[u8]) -> Vec<u8> {
    sentinel_eth::hash_personal_message(message).to_vec()
}

/// Encodes a JSON transaction object (ethers / viem shape) into unsigned RLP.
#[wasm_bindgen(js_name = encodeUnsignedTransaction)]
pub fn encode_unsigned_transaction(json: &str) -> Result<Vec<u8>, JsValue> {
    sentinel_eth::encode_transaction_json(json).map_err(js_error)
}

/// EIP-712 (v4) digest of typed data given as a JSON string.
#[wasm_bindgen(js_name = hashTypedData)]
pub fn hash_typed_data(json: &str) -> Result<Vec<u8>, JsValue> {
    sentinel_eth::hash_typed_data(json).map(|h| h.to_vec()).map_err(js_error)
}

/// Keccak-256 of bytes.
#[wasm_bindgen(js_name = keccak256)]
pub fn keccak256(data: &[u8]) -> Vec<u8> {
    sentinel_eth::keccak256(data).to_vec()
}

/// Ed25519 signature (64 bytes) of a message with a 32-byte seed.
#[wasm_bindgen(js_name = signEd25519)]
pub fn sign_ed25519(secret_key: &[u8], message: &[u8]) -> Result<Vec<u8>, JsValue> {
    Ok(ed25519::SecretKey::from_slice(secret_key).map_err(js_error)?.sign(message).to_vec())
}

/// Ed25519 public key (32 bytes) of a 32-byte seed.
#[wasm_bindgen(js_name = ed25519PublicKey)]
pub fn ed25519_public_key(secret_key: &[u8]) -> Result<Vec<u8>, JsValue> {
    Ok(ed25519::SecretKey::from_slice(secret_key).map_err(js_error)?.public_key().to_vec())
}

/// Strict Ed25519 verification.
#[wasm_bindgen(js_name = verifyEd25519)]
pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, JsValue> {
    ed25519::verify(public_key, message, signature).map_err(js_error)
}

/// HAZMAT: the `index`-th RFC 6979 nonce candidate. Only for checking test vectors.
#[wasm_bindgen(js_name = hazmatRfc6979Nonce)]
pub fn hazmat_rfc6979_nonce(secret_key: &[u8], digest: &[u8], index: u32) -> Result<Vec<u8>, JsValue> {
    Ok(hazmat::hazmat_rfc6979_nonce(&secp_secret(secret_key)?, digest32(digest)?, index).to_vec())
}
