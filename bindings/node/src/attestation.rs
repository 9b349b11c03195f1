//! N-API face of the Nitro attestation verifier (`sentinel-attestation`). As in
//! the rest of the binding there is no logic here: the options object is
//! converted into the crate's `VerifyRequest`, the crate verifies (and checks
//! expectations), and its shared JS view is returned, so the WASM binding
//! gives the same answer from the same code.
// napi-rs registers the exports only outside `cfg(test)`, and this module is
// private, so the lib's unit-test build would see them as dead code.
#![cfg_attr(test, allow(dead_code))]

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_attestation::{verify_request, ExpectationsSpec, VerifyRequest, AWS_NITRO_ROOT_G1_DER};

use super::{bytes, throw, Coded};

impl Coded for sentinel_attestation::Error {
    fn code(&self) -> &'static str {
        sentinel_attestation::Error::code(self)
    }
    fn text(&self) -> String {
        self.message().to_string()
    }
}

/// What the verified document must contain (hex strings; PCR index as the key).
#[napi(object, object_to_js = false)]
pub struct AttestationExpectations {
    pub pcrs: Option<HashMap<String, String>>,
    pub nonce: Option<String>,
    pub user_data: Option<String>,
    pub public_key: Option<String>,
    pub max_age_ms: Option<f64>,
}

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
pub fn verify_attestation<'env>(env: &'env Env, document: &[u8], options: AttestationOptions) -> Result<Unknown<'env>> {
    let expect = options.expect.map(|e| ExpectationsSpec {
        pcrs: e.pcrs.map(|p| p.into_iter().collect()),
        nonce: e.nonce,
        user_data: e.user_data,
        public_key: e.public_key,
        max_age_ms: e.max_age_ms,
    });
    let request = VerifyRequest {
        root: options.root.as_deref(),
        at_ms: options.at_ms,
        allow_debug: options.allow_debug.unwrap_or(false),
        expect,
    };
    let view = verify_request(document, request).map_err(|e| throw(env, e))?;
    env.to_js_value(&view)
}

/// The embedded AWS Nitro Enclaves Root-G1 certificate (DER).
#[napi(catch_unwind)]
pub fn aws_nitro_root_g1<'env>(env: &'env Env) -> Result<BufferSlice<'env>> {
    bytes(env, AWS_NITRO_ROOT_G1_DER)
}
