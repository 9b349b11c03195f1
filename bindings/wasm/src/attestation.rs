//! WASM face of the Nitro attestation verifier, mirroring
//! `bindings/node/src/attestation.rs`: the options object is deserialized into
//! the crate's `AttestationOptions` (a wrong type is `INVALID_ARGUMENT`), the
//! crate verifies, and its shared JS view comes back; `checkAttestation`
//! returns the crate's per-check report the same way. Also home of the one
//! error conversion ([`js_error`]) both WASM packages use.
//! Also compiled alone into `@sentinel/verify-wasm`, the small package a
//! browser page loads to check attestation without the signing core.
use js_sys::Reflect;
use sentinel_attestation::{
    check_attestation_request, verify_request, AttestationOptions, CheckAttestationOptions, AWS_NITRO_ROOT_G1_DER,
};
use sentinel_error::{CodedError, Internal, InvalidArgument};
use wasm_bindgen::prelude::*;

/// The one conversion of an error to JS in both WASM packages: an `Error`
/// carrying the core's stable `code` and its message (the N-API build throws
/// the same shape).
pub(crate) fn js_error<E: CodedError>(e: E) -> JsValue {
    let err = js_sys::Error::new(&e.message());
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

/// An options object serde refused (wrong type, unknown key): `INVALID_ARGUMENT`.
pub(crate) fn options_error(e: serde_wasm_bindgen::Error) -> JsValue {
    // The error wraps a JS `Error`, whose string form starts with its class name.
    let text = e.to_string();
    js_error(InvalidArgument::new("options", text.strip_prefix("Error: ").unwrap_or(&text)))
}

/// serde → plain JS objects (maps as objects, `None` → `null`, as the N-API build does).
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let serializer =
        serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true).serialize_maps_as_objects(true);
    value.serialize(&serializer).map_err(|e| js_error(Internal(e.to_string())))
}

#[wasm_bindgen(typescript_custom_section)]
const TS_ATTESTATION: &'static str = r#"
export interface AttestationExpectations {
  pcrs?: Record<string, string>; nonce?: string; userData?: string; publicKey?: string; maxAgeMs?: number;
}
export interface AttestationOptions {
  /** Trusted root certificate (DER). Defaults to the embedded AWS Nitro Root-G1. */
  root?: Uint8Array;
  /** Verification time, Unix ms (required: the verifier never reads a clock). */
  atMs: number;
  /** Accept an all-zero PCR0 (debug-mode enclave). Defaults to `false`. */
  allowDebug?: boolean;
  expect?: AttestationExpectations;
}
export interface VerifiedAttestation {
  moduleId: string; digest: string; timestampMs: number; pcrs: Record<string, string>;
  publicKey: string | null; userData: string | null; nonce: string | null;
  certificate: string; rootFingerprint: string; rootKind: 'aws-nitro' | 'other';
}
/** Outcome of one check of a report. */
export type CheckStatus = 'pass' | 'fail' | 'not_requested' | 'not_run';
export interface Check {
  /** Stable id, e.g. `validity`. */
  id: string;
  /** Human label, e.g. "Certificate chain to the trusted root". */
  label: string;
  /** `not_requested`: no expectation was given; `not_run`: an earlier check failed fatally. */
  status: CheckStatus;
  /** One sentence: what was compared, or why it failed. */
  detail: string;
  /** The core's stable error code when `status` is `'fail'` (e.g. `CERTIFICATE_NOT_VALID_AT_TIME`), else `null`. */
  code: string | null;
}
export interface CheckAttestationOptions {
  /** Trusted root certificate (DER). Defaults to the embedded AWS Nitro Root-G1. */
  root?: Uint8Array;
  /** Verification time, Unix ms (required). */
  atMs: number;
  /** Accept an all-zero PCR0 (debug-mode enclave). Defaults to `false`. */
  allowDebug?: boolean;
  /** Hex values, `0x` optional; PCR indexes as decimal strings. Unknown keys throw `INVALID_ARGUMENT`, values that are not hex (or hashes not 32 bytes) `INVALID_EXPECTATION`. */
  expect?: {
    pcrs?: Record<string, string>; nonce?: string; maxAgeMs?: number; configHash?: string; policyHash?: string;
  };
}
export interface AttestationReport {
  /** No check failed. */
  ok: boolean;
  /** The root is not the AWS Nitro Root-G1. */
  development: boolean;
  /** SHA-256 of the root used, hex. */
  rootFingerprint: string;
  /** Always `structure`, `chain`, `validity`, `signature`, `debug_mode`, `pcrs`, `nonce`, `freshness`, `config_hash`, in this order. */
  checks: Check[];
  /** The decoded fields when `structure` passed (even if a later check failed), else `null`. */
  document: VerifiedAttestation | null;
  /** Sentinel's user_data (`0x03 || config_hash || policy_hash`), lowercase hex, when the document carries it. */
  userData: { configHash: string; policyHash: string | null } | null;
}
"#;

/// Verifies a Nitro attestation document (and the expectations, if given).
#[wasm_bindgen(js_name = verifyAttestation, unchecked_return_type = "VerifiedAttestation")]
pub fn verify_attestation(
    document: &[u8],
    #[wasm_bindgen(unchecked_param_type = "AttestationOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let options: AttestationOptions = serde_wasm_bindgen::from_value(options).map_err(options_error)?;
    let view = verify_request(document, options.request()).map_err(js_error)?;
    to_js(&view)
}

/// Checks a Nitro attestation document step by step and reports every check
/// (`structure`, `chain`, `validity`, `signature`, `debug_mode`, `pcrs`,
/// `nonce`, `freshness`, `config_hash`). A bad document is a report with
/// failed checks; only bad arguments throw.
#[wasm_bindgen(js_name = checkAttestation, unchecked_return_type = "AttestationReport")]
pub fn check_attestation(
    document: &[u8],
    #[wasm_bindgen(unchecked_param_type = "CheckAttestationOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let options: CheckAttestationOptions = serde_wasm_bindgen::from_value(options).map_err(options_error)?;
    to_js(&check_attestation_request(document, options).map_err(js_error)?)
}

/// The embedded AWS Nitro Enclaves Root-G1 certificate (DER).
#[wasm_bindgen(js_name = awsNitroRootG1)]
pub fn aws_nitro_root_g1() -> Vec<u8> {
    AWS_NITRO_ROOT_G1_DER.to_vec()
}
