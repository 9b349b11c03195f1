//! N-API face of the Nitro attestation verifier (`sentinel-attestation`). As in
//! the rest of the binding there is no logic here: the options object is
//! deserialized into the crate's `AttestationOptions` (a wrong type is
//! `INVALID_ARGUMENT`), the crate verifies (and checks expectations), and its
//! shared JS view is returned, so the WASM builds give the same answer from
//! the same code.
// napi-rs registers the exports only outside `cfg(test)`, and this module is
// private, so the lib's unit-test build would see them as dead code.
#![cfg_attr(test, allow(dead_code))]

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_attestation::{check_attestation_request, verify_request, CheckAttestationOptions, AWS_NITRO_ROOT_G1_DER};
use sentinel_error::InvalidArgument;

use super::{bytes, throw};

// The two objects below only declare the TypeScript interfaces of the options;
// values are deserialized (serde) into `sentinel_attestation::AttestationOptions`,
// the crate's definition of their types and defaults, as the WASM build does.

/// What the verified document must contain (hex strings; PCR index as the key).
/// Unknown keys are refused.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct AttestationExpectations {
    pub pcrs: Option<HashMap<String, String>>,
    pub nonce: Option<String>,
    pub user_data: Option<String>,
    pub public_key: Option<String>,
    pub max_age_ms: Option<f64>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct AttestationOptions {
    /// Trusted root certificate (DER). Defaults to the embedded AWS Nitro Root-G1.
    pub root: Option<Uint8Array>,
    /// Verification time, Unix ms (required: the verifier never reads a clock).
    pub at_ms: f64,
    /// Accept an all-zero PCR0 (debug-mode enclave). Defaults to `false`.
    pub allow_debug: Option<bool>,
    pub expect: Option<AttestationExpectations>,
}

/// Verifies a Nitro attestation document (and the expectations, if given).
#[napi(
    catch_unwind,
    ts_return_type = "{ moduleId: string; digest: string; timestampMs: number; pcrs: Record<string, string>; publicKey: string | null; userData: string | null; nonce: string | null; certificate: string; rootFingerprint: string; rootKind: 'aws-nitro' | 'other' }"
)]
pub fn verify_attestation<'env>(
    env: &'env Env,
    document: &[u8],
    #[napi(ts_arg_type = "AttestationOptions")] options: Unknown,
) -> Result<Unknown<'env>> {
    let options: sentinel_attestation::AttestationOptions =
        env.from_js_value(options).map_err(|e| throw(env, InvalidArgument::new("options", e.reason)))?;
    let view = verify_request(document, options.request()).map_err(|e| throw(env, e))?;
    env.to_js_value(&view)
}

/// Checks a Nitro attestation document step by step and reports every check (`structure`,
/// `chain`, `validity`, `signature`, `debug_mode`, `pcrs`, `nonce`, `freshness`, `config_hash`)
/// with the decoded fields, as the WASM build's `checkAttestation` does (the browser checker's
/// report; `zcp audit verify` reads an archived document's own timestamp from it). A bad
/// document is a report with failed checks; only bad arguments throw.
#[napi(
    catch_unwind,
    ts_return_type = "{ ok: boolean; development: boolean; rootFingerprint: string; checks: Array<{ id: string; label: string; status: 'pass' | 'fail' | 'not_requested' | 'not_run'; code: string | null; detail: string }>; document: { moduleId: string; digest: string; timestampMs: number; pcrs: Record<string, string>; publicKey: string | null; userData: string | null; nonce: string | null } | null; userData: unknown }"
)]
pub fn check_attestation<'env>(
    env: &'env Env,
    document: &[u8],
    #[napi(
        ts_arg_type = "{ root?: Uint8Array; atMs: number; allowDebug?: boolean; expect?: AttestationExpectations }"
    )]
    options: Unknown,
) -> Result<Unknown<'env>> {
    let options: CheckAttestationOptions =
        env.from_js_value(options).map_err(|e| throw(env, InvalidArgument::new("options", e.reason)))?;
    let report = check_attestation_request(document, options).map_err(|e| throw(env, e))?;
    env.to_js_value(&report)
}

/// The embedded AWS Nitro Enclaves Root-G1 certificate (DER).
#[napi(catch_unwind)]
pub fn aws_nitro_root_g1<'env>(env: &'env Env) -> Result<BufferSlice<'env>> {
    bytes(env, AWS_NITRO_ROOT_G1_DER)
}
