//! The risk model in a build without the ONNX runtime (feature `onnx` off):
//! the N-API and WASM bindings, which evaluate policies offline for dry runs
//! and tests and leave the runtime out (it would multiply their size and build
//! time). Every model is refused when the policy is loaded, with
//! `POLICY_MODEL_INVALID` naming the reason, so a `risk_score` rule is never
//! silently skipped: such policies are evaluated by the enclave (`policy_dry_run`).
use crate::error::{refuse, PolicyError, PolicyErrorCode};
use crate::features::RiskFeatures;

const UNAVAILABLE: &str = "risk model: this build has no ONNX runtime (sentinel-policy feature `onnx`); \
     policies with risk_score rules are evaluated by the enclave (POST /v1/policy/dry-run)";

#[derive(Debug)]
pub struct RiskModel {
    pub sha256: [u8; 32],
}

impl RiskModel {
    pub fn load(_bytes: &[u8]) -> Result<RiskModel, PolicyError> {
        refuse(PolicyErrorCode::ModelInvalid, UNAVAILABLE)
    }

    pub fn probability(&self, _features: &RiskFeatures) -> Result<f32, PolicyError> {
        refuse(PolicyErrorCode::ModelInvalid, UNAVAILABLE)
    }

    pub fn score_bps(&self, _features: &RiskFeatures) -> Result<u16, PolicyError> {
        refuse(PolicyErrorCode::ModelInvalid, UNAVAILABLE)
    }
}
