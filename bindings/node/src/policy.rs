//! N-API face of the policy engine (`sentinel-policy`): validating, signing
//! and inspecting policy documents, signing price tables, and `evaluatePolicy`,
//! the stateless dry run (a fresh state per call, nothing counted). The
//! argument shapes and the answers are serde types shared with the WASM
//! build (`policy_common.rs`), so both read and return the same objects and
//! refuse the same input with the same code. Every refusal is the crate's
//! error, thrown through the one conversion ([`throw`]).
// napi-rs registers the exports only outside `cfg(test)`, and this module is
// private, so the lib's unit-test build would see them as dead code.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_config::Credential;
use sentinel_error::InvalidArgument;
use sentinel_policy::{development_signed_policy, SignedPolicy, SignedPrices};
use serde::Serialize;

use super::policy_common::{self as common, ByteView, EvaluateOptionsSpec, Failure, RequestSpec};
use super::{optional, throw};

// The objects below only declare the TypeScript shapes; values are
// deserialized into / serialized from `policy_common`'s serde types, as the
// WASM build does.

/// `policyValidate`'s answer.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct PolicyValidation {
    /// SHA-256 of `canonical`.
    pub policy_hash: Buffer,
    pub version: f64,
    pub name: String,
    /// The canonical JSON (sorted keys, no whitespace) the hash is over.
    pub canonical: String,
    /// How many rules the policy has.
    pub rules: u32,
}

/// `policyInspectSigned`'s answer (signatures are not verified: the enclave does that against its configuration).
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct SignedPolicyInfo {
    pub policy_hash: Buffer,
    pub version: f64,
    pub name: String,
    /// Admin ids of the signatures the envelope carries, in envelope order.
    pub signers: Vec<String>,
}

/// The request `evaluatePolicy` decodes and evaluates, as the enclave would.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct PolicyRequestInput {
    #[napi(
        ts_type = "'sign_ethereum_transaction' | 'sign_typed_data' | 'sign_personal_message' | 'sign_digest' | 'sign_ed25519'"
    )]
    pub op: String,
    /// The authenticated principal (agent) id.
    pub principal: String,
    pub key_id: String,
    /// The key's label (for rule scopes). Defaults to `""`.
    #[napi(ts_type = "string | null")]
    pub key_label: Option<String>,
    /// `sign_ethereum_transaction` only: the unsigned transaction (bytes, or hex with or without `0x`).
    #[napi(ts_type = "Uint8Array | string | null")]
    pub unsigned_tx: Option<String>,
    /// `sign_typed_data` only: the EIP-712 document (JSON text).
    #[napi(ts_type = "string | null")]
    pub typed_data: Option<String>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct EvaluatePolicyOptions {
    /// A signed price table (JSON), verified against the policy's `price_feed` (for `usd` limits).
    #[napi(ts_type = "string | null")]
    pub signed_prices: Option<String>,
    /// ONNX bytes of the models the policy's `risk_score` rules pin (by SHA-256). This build
    /// has no ONNX runtime: a model given here is refused (`POLICY_MODEL_INVALID`), and policies
    /// with risk rules are dry-run by the enclave (`policy_dry_run`).
    #[napi(ts_type = "Array<Uint8Array> | null")]
    pub models: Option<Vec<Uint8Array>>,
}

/// One rule's result; numbers are decimal strings in the rule's unit (`detail` names it).
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct PolicyRuleRecord {
    /// The rule's id.
    pub rule: String,
    #[napi(ts_type = "'notional_limit' | 'rate_limit' | 'contract_list' | 'chain' | 'time_window' | 'risk_score'")]
    pub r#type: String,
    #[napi(ts_type = "'allow' | 'deny' | 'not_applicable' | 'approval_required' | 'error'")]
    pub result: String,
    #[napi(ts_type = "string | null")]
    pub value: String,
    #[napi(ts_type = "string | null")]
    pub limit: String,
    #[napi(ts_type = "'1s' | '1m' | '1h' | '1d' | null")]
    pub window: String,
    #[napi(ts_type = "string | null")]
    pub detail: String,
}

/// `evaluatePolicy`'s answer.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct PolicyEvaluation {
    #[napi(ts_type = "'allowed' | 'denied' | 'approval_required'")]
    pub decision: String,
    /// `null` when allowed; else `POLICY_DENIED`, `POLICY_NO_MATCH`, `POLICY_ERROR` or `POLICY_APPROVAL_REQUIRED`.
    #[napi(ts_type = "string | null")]
    pub code: String,
    pub policy_hash: Buffer,
    /// One entry per rule, in policy order.
    pub rules_evaluated: Vec<PolicyRuleRecord>,
    /// The risk score in basis points, when a risk rule ran.
    #[napi(ts_type = "number | null")]
    pub score_bps: u32,
}

fn fail(env: &Env, e: impl Into<Failure>) -> Error {
    throw(env, e.into())
}

fn credential(env: &Env, json: &str) -> Result<Credential> {
    Credential::from_json(json).map_err(|e| throw(env, e))
}

fn js<'env, T: Serialize>(env: &'env Env, view: &T) -> Result<Unknown<'env>> {
    env.to_js_value(view)
}

/// Parses and validates a bare policy document (any JSON formatting): its
/// hash, version, name, canonical form and rule count. Refusals carry the
/// document's codes (`POLICY_*`, docs/policy.md).
#[napi(catch_unwind, ts_return_type = "PolicyValidation")]
pub fn policy_validate<'env>(env: &'env Env, json: String) -> Result<Unknown<'env>> {
    let view = common::validate(&json).map_err(|e| fail(env, e))?;
    js(env, &view)
}

/// Adds (or replaces) an admin's signature: `json` is a bare policy or a
/// signed envelope; returns the envelope JSON.
#[napi(catch_unwind)]
pub fn policy_sign(env: &Env, json: String, admin_credential_json: String) -> Result<String> {
    let admin = credential(env, &admin_credential_json)?;
    let mut signed = common::envelope_of(&json).map_err(|e| fail(env, e))?;
    signed.sign(&admin).map_err(|e| fail(env, e))?;
    Ok(signed.to_json())
}

/// A signed envelope's policy hash, version, name and signers (parsed and
/// validated; signatures not verified).
#[napi(catch_unwind, ts_return_type = "SignedPolicyInfo")]
pub fn policy_inspect_signed<'env>(env: &'env Env, json: String) -> Result<Unknown<'env>> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct View {
        policy_hash: ByteView,
        version: f64,
        name: String,
        signers: Vec<String>,
    }
    let signed = SignedPolicy::from_json(json.as_bytes()).map_err(|e| fail(env, e))?;
    let policy = &signed.parsed.policy;
    js(
        env,
        &View {
            policy_hash: ByteView(signed.parsed.hash.to_vec()),
            // Exact: the crate caps integers at 2^53 - 1.
            version: policy.version as f64,
            name: policy.name.clone(),
            signers: signed.signatures.iter().map(|s| s.admin.clone()).collect(),
        },
    )
}

/// The development policy (permissive; local mode only: docs/policy.md)
/// signed by the admin: the envelope JSON `zcp up` installs.
#[napi(catch_unwind)]
pub fn policy_development_signed(env: &Env, admin_credential_json: String) -> Result<String> {
    let admin = credential(env, &admin_credential_json)?;
    Ok(development_signed_policy(&admin).map_err(|e| fail(env, e))?.to_json())
}

/// Signs a price table (`{timestamp_s, prices}` JSON, any formatting) with
/// the price-feed credential: the signed table JSON `update_prices` takes.
#[napi(catch_unwind)]
pub fn prices_sign(env: &Env, table_json: String, credential_json: String) -> Result<String> {
    let feed = credential(env, &credential_json)?;
    Ok(SignedPrices::sign(table_json.as_bytes(), &feed).map_err(|e| fail(env, e))?.to_json())
}

/// Dry run: evaluates one request against a policy (bare or a signed
/// envelope, whose signatures are not checked) at `nowMs` (Unix ms), from a
/// fresh state (nothing is counted). The request is decoded as the enclave
/// decodes what it signs; the answer is the decision record a receipt carries.
/// Without an ONNX runtime in the bindings, a policy with a `risk_score` rule
/// is refused (`POLICY_MODEL_MISSING` / `POLICY_MODEL_INVALID`).
#[napi(catch_unwind, ts_return_type = "PolicyEvaluation")]
pub fn evaluate_policy<'env>(
    env: &'env Env,
    policy_json: String,
    #[napi(ts_arg_type = "PolicyRequestInput")] request: Unknown,
    #[napi(ts_arg_type = "number")] now_ms: Unknown,
    #[napi(ts_arg_type = "EvaluatePolicyOptions | null")] options: Option<Unknown>,
) -> Result<Unknown<'env>> {
    let request: RequestSpec =
        env.from_js_value(request).map_err(|e| fail(env, InvalidArgument::new("request", e.reason)))?;
    let now_ms = optional::<f64>(env, "nowMs", Some(now_ms))?.unwrap_or(f64::NAN);
    let options: EvaluateOptionsSpec = match optional::<Object>(env, "options", options)? {
        None => EvaluateOptionsSpec::default(),
        Some(object) => env.from_js_value(object).map_err(|e| fail(env, InvalidArgument::new("options", e.reason)))?,
    };
    let view = common::evaluate_once(&policy_json, &request, now_ms, &options).map_err(|e| fail(env, e))?;
    js(env, &view)
}
