//! WASM face of the policy engine (`sentinel-policy`), mirroring
//! `bindings/node/src/policy.rs` for the two functions a browser or a test
//! needs: `policyValidate` and `evaluatePolicy` (the stateless dry run). The
//! argument shapes and answers are the serde types of
//! `bindings/node/src/policy_common.rs`, compiled here from the same file, so
//! both builds read and return the same objects and refuse the same input
//! with the same code.
use sentinel_error::InvalidArgument;
use wasm_bindgen::prelude::*;

use crate::attestation::{js_error, to_js};

// `policySign` and the other N-API-only functions use the rest of it.
#[allow(dead_code)]
#[path = "../../node/src/policy_common.rs"]
mod common;

use common::{EvaluateOptionsSpec, RequestSpec};

#[wasm_bindgen(typescript_custom_section)]
const TS_POLICY: &'static str = r#"
/** `policyValidate`'s answer. */
export interface PolicyValidation {
  /** SHA-256 of `canonical`. */
  policyHash: Uint8Array;
  version: number;
  name: string;
  /** The canonical JSON (sorted keys, no whitespace) the hash is over. */
  canonical: string;
  /** How many rules the policy has. */
  rules: number;
}
/** The request `evaluatePolicy` decodes and evaluates, as the enclave would. */
export interface PolicyRequestInput {
  op: 'sign_ethereum_transaction' | 'sign_typed_data' | 'sign_personal_message' | 'sign_digest' | 'sign_ed25519';
  /** The authenticated principal (agent) id. */
  principal: string;
  keyId: string;
  /** The key's label (for rule scopes). Defaults to `""`. */
  keyLabel?: string | null;
  /** `sign_ethereum_transaction` only: the unsigned transaction (bytes, or hex with or without `0x`). */
  unsignedTx?: Uint8Array | string | null;
  /** `sign_typed_data` only: the EIP-712 document (JSON text). */
  typedData?: string | null;
}
export interface EvaluatePolicyOptions {
  /** A signed price table (JSON), verified against the policy's `price_feed` (for `usd` limits). */
  signedPrices?: string | null;
  /**
   * ONNX bytes of the models the policy's `risk_score` rules pin (by SHA-256). This build
   * has no ONNX runtime: a model given here is refused (`POLICY_MODEL_INVALID`), and policies
   * with risk rules are dry-run by the enclave (`policy_dry_run`).
   */
  models?: Array<Uint8Array> | null;
}
/** One rule's result; numbers are decimal strings in the rule's unit (`detail` names it). */
export interface PolicyRuleRecord {
  /** The rule's id. */
  rule: string;
  type: 'notional_limit' | 'rate_limit' | 'contract_list' | 'chain' | 'time_window' | 'risk_score';
  result: 'allow' | 'deny' | 'not_applicable' | 'approval_required' | 'error';
  value: string | null;
  limit: string | null;
  window: '1s' | '1m' | '1h' | '1d' | null;
  detail: string | null;
}
/** `evaluatePolicy`'s answer. */
export interface PolicyEvaluation {
  decision: 'allowed' | 'denied' | 'approval_required';
  /** `null` when allowed; else `POLICY_DENIED`, `POLICY_NO_MATCH`, `POLICY_ERROR` or `POLICY_APPROVAL_REQUIRED`. */
  code: string | null;
  policyHash: Uint8Array;
  /** One entry per rule, in policy order. */
  rulesEvaluated: PolicyRuleRecord[];
  /** The risk score in basis points, when a risk rule ran. */
  scoreBps: number | null;
}
"#;

/// A JS value through serde (`null`/`undefined` are unset fields), or `INVALID_ARGUMENT` naming `name`.
fn from_js<T: serde::de::DeserializeOwned>(name: &str, value: JsValue) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        // The error wraps a JS `Error`, whose string form starts with its class name.
        let text = e.to_string();
        js_error(InvalidArgument::new(name, text.strip_prefix("Error: ").unwrap_or(&text)))
    })
}

/// Parses and validates a bare policy document (any JSON formatting): its
/// hash, version, name, canonical form and rule count. Refusals carry the
/// document's codes (`POLICY_*`, docs/policy.md).
#[wasm_bindgen(js_name = policyValidate, unchecked_return_type = "PolicyValidation")]
pub fn policy_validate(json: &str) -> Result<JsValue, JsValue> {
    to_js(&common::validate(json).map_err(js_error)?)
}

/// Dry run: evaluates one request against a policy (bare or a signed
/// envelope, whose signatures are not checked) at `nowMs` (Unix ms), from a
/// fresh state (nothing is counted). The request is decoded as the enclave
/// decodes what it signs; the answer is the decision record a receipt carries.
/// Without an ONNX runtime in the bindings, a policy with a `risk_score` rule
/// is refused (`POLICY_MODEL_MISSING` / `POLICY_MODEL_INVALID`).
#[wasm_bindgen(js_name = evaluatePolicy, unchecked_return_type = "PolicyEvaluation")]
pub fn evaluate_policy(
    #[wasm_bindgen(js_name = policyJson)] policy_json: &str,
    #[wasm_bindgen(unchecked_param_type = "PolicyRequestInput")] request: JsValue,
    #[wasm_bindgen(js_name = nowMs, unchecked_param_type = "number")] now_ms: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "EvaluatePolicyOptions | null")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let request: RequestSpec = from_js("request", request)?;
    let now_ms = now_ms.as_f64().ok_or_else(|| js_error(InvalidArgument::new("nowMs", "expected a number")))?;
    let options: EvaluateOptionsSpec = if options.is_undefined() || options.is_null() {
        EvaluateOptionsSpec::default()
    } else if !options.is_object() {
        return Err(js_error(InvalidArgument::new("options", "expected an object")));
    } else {
        from_js("options", options)?
    };
    to_js(&common::evaluate_once(policy_json, &request, now_ms, &options).map_err(js_error)?)
}
