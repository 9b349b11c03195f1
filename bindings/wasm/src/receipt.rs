//! WASM face of receipts and the attested key bundle (`sentinel-evidence`),
//! mirroring `bindings/node/src/receipt.rs`: the options object is
//! deserialized into the crate's `ReceiptOptionsSpec` (a wrong type or an
//! unknown key is `INVALID_ARGUMENT`), the crate verifies, and its shared JS
//! view comes back. The binding supplies only the current time when
//! `options.now` is omitted (`Date.now()`). `checkReceipt` returns the crate's
//! per-check report (its time, `atMs`, is required).
//! Also compiled into `@sentinel/verify-wasm`, the browser verifier.
use sentinel_evidence::{
    attested_keys_request, check_receipt_request, decode_receipt_claims_request, verify_receipt_request,
    CheckReceiptOptionsSpec, ReceiptOptionsSpec,
};
use wasm_bindgen::prelude::*;

use crate::attestation::{js_error, options_error, to_js};

#[wasm_bindgen(typescript_custom_section)]
const TS_RECEIPT: &'static str = r#"
export interface VerifyReceiptOptions {
  /** Trusted root certificate (DER): `awsNitroRootG1()` for real enclaves, a simulator's dev root locally. */
  root: Uint8Array;
  /** Expected PCR0 (48 bytes, or hex). Unset = any image. */
  expectedPcr0?: Uint8Array | string;
  /** Expected configuration hash (32 bytes, or hex). Unset = only the receipt/document agreement is checked. */
  expectedConfigHash?: Uint8Array | string;
  /** Expected policy hash (32 bytes, or hex): the document must attest this policy (one attesting none fails). Unset = only the receipt/document agreement is checked. */
  expectedPolicyHash?: Uint8Array | string;
  /** When to judge the document's certificate chain, Unix ms. Defaults to the current time. */
  now?: number;
  /** Accept a debug-mode (all-zero PCR0) document. Defaults to `false`. */
  allowDebug?: boolean;
}
/** Signed claims of a receipt; bytes as `0x`-prefixed lowercase hex. */
export interface ReceiptClaims {
  requestId: string;
  /** µs since the Unix epoch (exact: at most 2^53 - 1). */
  timestampUs: number;
  principal: string;
  keyId: string | null;
  op: string;
  payloadHash: string;
  decision: 'allowed' | 'denied';
  code: string | null;
  resultHash: string | null;
  /** One entry per policy rule evaluated, in policy order (empty when no policy applied). */
  rulesEvaluated: RuleEvaluated[];
  configHash: string;
  /** The policy in force, `null` when none was installed. */
  policyHash: string | null;
  attestationHash: string;
  /** The approvers whose approvals released the request (sorted; empty unless it was held). */
  approvals: string[];
  /** The kill-switch state in effect: the strictest of the request's global, key and principal scopes. */
  oversightState: 'green' | 'yellow' | 'red';
  /** The scope that set it: `global`, `key:<key id>` or `principal:<principal id>`. */
  oversightScope: string;
  /** This answer's record in the enclave's audit log (`null` only without a log). */
  auditSeq: number | null;
  /** The latest signed checkpoint of the log when the receipt was made (C2SP signed note text). */
  auditCheckpoint: string | null;
  /** How the key this answer created is kept (`generate_key`, `import_key`): sealed under the AWS KMS master key, sealed under the DEVELOPMENT master key (not for real funds), or `ephemeral` (enclave memory only, lost on restart). `null` when the answer created no key (the claim is then absent). */
  keyStorage: 'sealed:aws-kms' | 'sealed:development' | 'ephemeral' | null;
}
/** One policy rule's result in a receipt (docs/receipts.md); absent values `null`. */
export interface RuleEvaluated {
  /** The rule's id in the policy. */
  rule: string;
  /** `notional_limit`, `rate_limit`, `contract_list`, `chain`, `time_window` or `risk_score`. */
  type: string;
  /** `allow`, `deny`, `not_applicable`, `approval_required` or `error`. */
  result: string;
  /** What was counted or measured (decimal integer string). */
  value: string | null;
  /** The limit it was compared with (decimal integer string). */
  limit: string | null;
  /** `1s`, `1m`, `1h` or `1d`. */
  window: string | null;
  /** What was counted or checked, in words. */
  detail: string | null;
}
export interface CheckReceiptOptions {
  /** Trusted root certificate (DER): `awsNitroRootG1()` for real enclaves, a simulator's dev root locally. */
  root: Uint8Array;
  /** Verification time, Unix ms (required). */
  atMs: number;
  /** Accept a debug-mode (all-zero PCR0) document. Defaults to `false`. */
  allowDebug?: boolean;
  /** Expected PCR0 (48 bytes as hex, `0x` optional). Unset: the `pcr0` check is `not_requested`. */
  expectedPcr0?: string;
  /** Expected configuration hash (32 bytes as hex, `0x` optional), checked in `config_binding`. */
  expectedConfigHash?: string;
  /** Expected policy hash (32 bytes as hex, `0x` optional), checked in `policy_binding`. */
  expectedPolicyHash?: string;
}
export interface ReceiptReport {
  /** No check failed: exactly when `verifyReceipt` would accept the receipt. */
  ok: boolean;
  /** The root is not the AWS Nitro Root-G1. */
  development: boolean;
  /** Always `document`, `pcr0`, `attested_keys`, `user_data`, `receipt_structure`, `attestation_binding`, `config_binding`, `policy_binding`, `receipt_signature`, in this order. */
  checks: Check[];
  /** The decoded claims when the receipt decodes (trusted only if `ok`), else `null`. */
  claims: ReceiptClaims | null;
}
/** The enclave's attested key bundle; `0x` hex. */
export interface AttestedKeys { receiptKey: string; sessionKey: string; importKey: string; auditKey: string }
export interface VerifiedReceipt {
  claims: ReceiptClaims;
  rootKind: 'aws-nitro' | 'other';
  attestedKeys: AttestedKeys;
  /** The document's PCR0, `0x` hex. */
  pcr0: string;
}
"#;

/// Verifies a receipt against the enclave's attestation document: the document
/// (chain to `options.root`, PCR0), the key bundle and `user_data` it carries,
/// the receipt's binding to both, and its Ed25519 signature (docs/receipts.md).
#[wasm_bindgen(js_name = verifyReceipt, unchecked_return_type = "VerifiedReceipt")]
pub fn verify_receipt(
    receipt: &[u8],
    #[wasm_bindgen(js_name = attestationDocument)] attestation_document: &[u8],
    #[wasm_bindgen(unchecked_param_type = "VerifyReceiptOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let options: ReceiptOptionsSpec = serde_wasm_bindgen::from_value(options).map_err(options_error)?;
    let view = verify_receipt_request(receipt, attestation_document, &options, js_sys::Date::now).map_err(js_error)?;
    to_js(&view)
}

/// Checks a receipt against the enclave's attestation document step by step
/// and reports every check (`document`, `pcr0`, `attested_keys`, `user_data`,
/// `receipt_structure`, `attestation_binding`, `config_binding`,
/// `policy_binding`, `receipt_signature`). A bad receipt or document is a
/// report with failed checks; only bad arguments throw.
#[wasm_bindgen(js_name = checkReceipt, unchecked_return_type = "ReceiptReport")]
pub fn check_receipt(
    receipt: &[u8],
    document: &[u8],
    #[wasm_bindgen(unchecked_param_type = "CheckReceiptOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let options: CheckReceiptOptionsSpec = serde_wasm_bindgen::from_value(options).map_err(options_error)?;
    to_js(&check_receipt_request(receipt, document, &options).map_err(js_error)?)
}

/// Decodes a receipt's claims WITHOUT verifying anything (no signature, no
/// document): for display and debugging only.
#[wasm_bindgen(js_name = unsafeDecodeReceiptClaims, unchecked_return_type = "ReceiptClaims")]
pub fn unsafe_decode_receipt_claims(receipt: &[u8]) -> Result<JsValue, JsValue> {
    to_js(&decode_receipt_claims_request(receipt).map_err(js_error)?)
}

/// Parses an attestation document's `public_key` as the attested key bundle
/// (`0x01 || receipt || session || import`).
#[wasm_bindgen(js_name = attestedKeys, unchecked_return_type = "AttestedKeys")]
pub fn attested_keys(#[wasm_bindgen(js_name = publicKey)] public_key: &[u8]) -> Result<JsValue, JsValue> {
    to_js(&attested_keys_request(public_key).map_err(js_error)?)
}
