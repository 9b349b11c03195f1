//! N-API face of receipts and the attested key bundle (`sentinel-evidence`).
//! No logic here: the options object is deserialized into the crate's
//! `ReceiptOptionsSpec` (a wrong type or an unknown key is
//! `INVALID_ARGUMENT`), the crate verifies, and its shared JS view comes back,
//! so the WASM builds give the same object from the same code. The one thing
//! a binding supplies is the current time when `options.now` is omitted.
// napi-rs registers the exports only outside `cfg(test)`, and this module is
// private, so the lib's unit-test build would see them as dead code.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_error::InvalidArgument;
use sentinel_evidence::{
    attested_keys_request, decode_receipt_claims_request, decode_receipt_claims_unverified, verify_receipt_request,
    ReceiptOptionsSpec,
};

use super::throw;

// The objects below only declare the TypeScript shapes; values are
// deserialized into / serialized from `sentinel_evidence`'s types with serde,
// as the WASM build does.

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct VerifyReceiptOptions {
    /// Trusted root certificate (DER): `awsNitroRootG1()` for real enclaves, a simulator's dev root locally.
    pub root: Uint8Array,
    /// Expected PCR0 (48 bytes, or hex). Unset = any image.
    pub expected_pcr0: Option<Either<Uint8Array, String>>,
    /// Expected configuration hash (32 bytes, or hex). Unset = only the receipt/document agreement is checked.
    pub expected_config_hash: Option<Either<Uint8Array, String>>,
    /// Expected policy hash (32 bytes, or hex): the document must attest this policy (one attesting none
    /// fails). Unset = only the receipt/document agreement is checked.
    pub expected_policy_hash: Option<Either<Uint8Array, String>>,
    /// When to judge the document's certificate chain, Unix ms. Defaults to the current time.
    pub now: Option<f64>,
    /// Accept a debug-mode (all-zero PCR0) document. Defaults to `false`.
    pub allow_debug: Option<bool>,
}

/// Signed claims of a receipt; bytes as `0x`-prefixed lowercase hex.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct ReceiptClaims {
    pub request_id: String,
    /// µs since the Unix epoch (exact: at most 2^53 - 1).
    pub timestamp_us: f64,
    pub principal: String,
    #[napi(ts_type = "string | null")]
    pub key_id: Option<String>,
    pub op: String,
    pub payload_hash: String,
    #[napi(ts_type = "'allowed' | 'denied'")]
    pub decision: String,
    #[napi(ts_type = "string | null")]
    pub code: Option<String>,
    #[napi(ts_type = "string | null")]
    pub result_hash: Option<String>,
    /// One entry per policy rule evaluated, in policy order (empty when no policy applied).
    pub rules_evaluated: Vec<RuleEvaluated>,
    pub config_hash: String,
    /// The policy in force, `null` when none was installed.
    #[napi(ts_type = "string | null")]
    pub policy_hash: Option<String>,
    pub attestation_hash: String,
    /// The approvers whose approvals released the request (sorted; empty unless it was held).
    pub approvals: Vec<String>,
    /// The kill-switch state in effect: the strictest of the request's global, key and principal scopes.
    #[napi(ts_type = "'green' | 'yellow' | 'red'")]
    pub oversight_state: String,
    /// The scope that set it: `global`, `key:<key id>` or `principal:<principal id>`.
    pub oversight_scope: String,
    /// This answer's record in the enclave's audit log (`null` only without a log).
    #[napi(ts_type = "number | null")]
    pub audit_seq: Option<f64>,
    /// The latest signed checkpoint of the log when the receipt was made (C2SP signed note text).
    #[napi(ts_type = "string | null")]
    pub audit_checkpoint: Option<String>,
    /// How the key this answer created is kept (`generate_key`, `import_key`): sealed under the AWS KMS
    /// master key, sealed under the DEVELOPMENT master key (not for real funds), or `ephemeral` (enclave
    /// memory only, lost on restart). `null` when the answer created no key (the claim is then absent).
    #[napi(ts_type = "'sealed:aws-kms' | 'sealed:development' | 'ephemeral' | null")]
    pub key_storage: Option<String>,
}

/// One policy rule's result in a receipt (docs/receipts.md); absent values `null`.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct RuleEvaluated {
    /// The rule's id in the policy.
    pub rule: String,
    /// `notional_limit`, `rate_limit`, `contract_list`, `chain`, `time_window` or `risk_score`.
    #[napi(js_name = "type")]
    pub rule_type: String,
    /// `allow`, `deny`, `not_applicable`, `approval_required` or `error`.
    pub result: String,
    /// What was counted or measured (decimal integer string).
    #[napi(ts_type = "string | null")]
    pub value: Option<String>,
    /// The limit it was compared with (decimal integer string).
    #[napi(ts_type = "string | null")]
    pub limit: Option<String>,
    /// `1s`, `1m`, `1h` or `1d`.
    #[napi(ts_type = "string | null")]
    pub window: Option<String>,
    /// What was counted or checked, in words.
    #[napi(ts_type = "string | null")]
    pub detail: Option<String>,
}

/// The enclave's attested key bundle; `0x` hex.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AttestedKeys {
    /// Ed25519, signs receipts.
    pub receipt_key: String,
    /// X25519, session handshake.
    pub session_key: String,
    /// X25519, key import.
    pub import_key: String,
    /// Ed25519, signs the audit log's checkpoints.
    pub audit_key: String,
}

#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct VerifiedReceipt {
    pub claims: ReceiptClaims,
    #[napi(ts_type = "'aws-nitro' | 'other'")]
    pub root_kind: String,
    pub attested_keys: AttestedKeys,
    /// The document's PCR0, `0x` hex.
    pub pcr0: String,
}

fn now_ms() -> f64 {
    // A clock before 1970 is not a time anything verifies at; 0 then fails the chain check.
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_millis() as f64)
}

/// Verifies a receipt against the enclave's attestation document: the document
/// (chain to `options.root`, PCR0), the key bundle and `user_data` it carries,
/// the receipt's binding to both, and its Ed25519 signature (docs/receipts.md).
#[napi(catch_unwind, ts_return_type = "VerifiedReceipt")]
pub fn verify_receipt<'env>(
    env: &'env Env,
    receipt: &[u8],
    attestation_document: &[u8],
    #[napi(ts_arg_type = "VerifyReceiptOptions")] options: Unknown,
) -> Result<Unknown<'env>> {
    let options: ReceiptOptionsSpec =
        env.from_js_value(options).map_err(|e| throw(env, InvalidArgument::new("options", e.reason)))?;
    let view = verify_receipt_request(receipt, attestation_document, &options, now_ms).map_err(|e| throw(env, e))?;
    env.to_js_value(&view)
}

/// Decodes a receipt's claims WITHOUT verifying anything (no signature, no
/// document): for display and debugging only.
#[napi(catch_unwind, ts_return_type = "ReceiptClaims")]
pub fn unsafe_decode_receipt_claims<'env>(env: &'env Env, receipt: &[u8]) -> Result<Unknown<'env>> {
    let view = decode_receipt_claims_request(receipt).map_err(|e| throw(env, e))?;
    env.to_js_value(&view)
}

/// A receipt's `request_id` as `0x` + 32 lowercase hex digits (the key of
/// `GET /v1/receipts/:id`), decoded as `unsafeDecodeReceiptClaims` decodes it
/// (same checks, same `RECEIPT_MALFORMED` errors) but without building the
/// claims object: the API calls it once per stamped answer. Verifies nothing.
#[napi(catch_unwind)]
pub fn unsafe_receipt_request_id(env: &Env, receipt: &[u8]) -> Result<String> {
    let claims = decode_receipt_claims_unverified(receipt).map_err(|e| throw(env, e))?;
    Ok(hex0x(&claims.request_id))
}

/// The configuration hash an attestation document's `user_data` carries
/// (`0x03 || config_hash || policy_hash`), as `0x` + 64 hex digits.
/// Error: `USER_DATA_MALFORMED` (another length or version, e.g. the earlier
/// `0x02 || config_hash`).
#[napi(catch_unwind)]
pub fn user_data_config_hash(env: &Env, user_data: &[u8]) -> Result<String> {
    let parsed = sentinel_evidence::UserData::from_bytes(user_data).map_err(|e| throw(env, e))?;
    Ok(hex0x(&parsed.config_hash))
}

/// The policy hash an attestation document's `user_data` carries
/// (`0x03 || config_hash || policy_hash`), as `0x` + 64 hex digits, or `null`
/// when it is 32 zero bytes (no policy installed). Error: `USER_DATA_MALFORMED`.
#[napi(catch_unwind, ts_return_type = "string | null")]
pub fn user_data_policy_hash(env: &Env, user_data: &[u8]) -> Result<Option<String>> {
    let parsed = sentinel_evidence::UserData::from_bytes(user_data).map_err(|e| throw(env, e))?;
    Ok(parsed.policy_hash.as_ref().map(|h| hex0x(h)))
}

fn hex0x(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Parses an attestation document's `public_key` as the attested key bundle
/// (`0x01 || receipt || session || import`).
#[napi(catch_unwind, ts_return_type = "AttestedKeys")]
pub fn attested_keys<'env>(env: &'env Env, public_key: &[u8]) -> Result<Unknown<'env>> {
    let view = attested_keys_request(public_key).map_err(|e| throw(env, e))?;
    env.to_js_value(&view)
}
