//! WASM face of the Nitro attestation verifier, mirroring
//! `bindings/node/src/attestation.rs`: the options object becomes the crate's
//! `VerifyRequest`, the crate verifies, and its shared JS view comes back.
//! Also compiled alone into `@sentinel/verify-wasm`, the small package a
//! browser page loads to check attestation without the signing core.
use js_sys::{Object, Reflect, Uint8Array};
use sentinel_attestation::{verify_request, ExpectationsSpec, VerifyRequest, AWS_NITRO_ROOT_G1_DER};
use wasm_bindgen::prelude::*;

/// A JS `Error` carrying a stable `code`: the one error shape of both WASM packages.
pub(crate) fn coded_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&err, &"code".into(), &code.into());
    err.into()
}

fn invalid(message: &str) -> JsValue {
    coded_error("INVALID_ARGUMENT", message)
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
  allowDebug?: boolean;
  expect?: AttestationExpectations;
}
export interface VerifiedAttestation {
  moduleId: string; digest: string; timestampMs: number; pcrs: Record<string, string>;
  publicKey: string | null; userData: string | null; nonce: string | null;
  certificate: string; rootFingerprint: string; rootKind: 'aws-nitro' | 'other';
}
"#;

/// Verifies a Nitro attestation document (and the expectations, if given).
#[wasm_bindgen(js_name = verifyAttestation, unchecked_return_type = "VerifiedAttestation")]
pub fn verify_attestation(
    document: &[u8],
    #[wasm_bindgen(unchecked_param_type = "AttestationOptions")] options: Object,
) -> Result<JsValue, JsValue> {
    let get = |name: &str| Reflect::get(&options, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let root = match get("root") {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(v.dyn_into::<Uint8Array>().map_err(|_| invalid("root: must be a Uint8Array (DER)"))?.to_vec()),
    };
    let at_ms = get("atMs").as_f64().ok_or_else(|| invalid("atMs: required, Unix milliseconds"))?;
    let allow_debug = match get("allowDebug") {
        v if v.is_undefined() || v.is_null() => false,
        v => v.as_bool().ok_or_else(|| invalid("allowDebug: must be a boolean"))?,
    };
    let expect = match get("expect") {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(
            serde_wasm_bindgen::from_value::<ExpectationsSpec>(v)
                .map_err(|e| coded_error("INVALID_EXPECTATION", &format!("expect: {e}")))?,
        ),
    };
    let request = VerifyRequest { root: root.as_deref(), at_ms, allow_debug, expect };
    let view = verify_request(document, request).map_err(|e| coded_error(e.code(), e.message()))?;
    let serializer =
        serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true).serialize_maps_as_objects(true);
    serde::Serialize::serialize(&view, &serializer).map_err(|e| coded_error("INTERNAL", &e.to_string()))
}

/// The embedded AWS Nitro Enclaves Root-G1 certificate (DER).
#[wasm_bindgen(js_name = awsNitroRootG1)]
pub fn aws_nitro_root_g1() -> Vec<u8> {
    AWS_NITRO_ROOT_G1_DER.to_vec()
}
