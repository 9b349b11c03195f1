//! The ONNX risk model, evaluated with tract (pure Rust).
//!
//! A model takes one input, `f32 [1, FEATURE_COUNT]` (a dynamic batch
//! dimension is fixed to 1 here), and gives one output holding one
//! probability: `[1, 1]`, `[1]`, or `[1, 2]` (two classes: the second, the
//! positive class, is read). Anything else is refused when loading, with
//! `POLICY_MODEL_INVALID`. `models/risk-v1.onnx` is the model Sentinel ships
//! (trained by `scripts/risk-model/train.py`, described in
//! `models/risk-v1.json`).
use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use crate::error::{refuse, PolicyError, PolicyErrorCode};
use crate::features::{RiskFeatures, FEATURE_COUNT};

/// Largest model accepted (the shipped one is well under 2 KiB).
pub const MAX_MODEL_BYTES: usize = 4 << 20;

/// Where the probability is in the output tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutputLayout {
    /// `[1, 1]` or `[1]`: element 0.
    Single,
    /// `[1, 2]`: element 1 (the positive class).
    TwoClasses,
}

pub struct RiskModel {
    pub sha256: [u8; 32],
    plan: Arc<TypedRunnableModel>,
    /// A reusable execution state (saves its set-up on every request); a
    /// request that finds it busy runs on a fresh one.
    state: std::sync::Mutex<TypedSimpleState>,
    layout: OutputLayout,
}

impl core::fmt::Debug for RiskModel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RiskModel({})", hex::encode(self.sha256))
    }
}

fn invalid(message: impl Into<String>) -> PolicyError {
    PolicyError::new(PolicyErrorCode::ModelInvalid, message)
}

/// Runs `f`, turning a tract error or a panic inside tract into `POLICY_MODEL_INVALID`.
fn guarded<T>(what: &str, f: impl FnOnce() -> TractResult<T>) -> Result<T, PolicyError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(invalid(format!("risk model: {what}: {e:#}"))),
        Err(_) => Err(invalid(format!("risk model: {what}: the ONNX runtime failed"))),
    }
}

/// tract's AVX kernels return without `vzeroupper`, leaving the upper halves of
/// the YMM registers dirty; until they are cleared, every SSE float instruction
/// on the thread pays a state-transition penalty (measured: `features()` went
/// from ~90 ns to ~925 ns after one model run). Cleared after every run.
#[allow(unsafe_code)]
fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked above), which is all `vzeroupper` needs; it only
        // zeroes bits 128 and up of the vector registers, which hold no live value between
        // Rust statements (the ABI treats them as clobbered across calls).
        unsafe { std::arch::x86_64::_mm256_zeroupper() }
    }
}

/// Refuses a declared input that cannot be `f32 [1, FEATURE_COUNT]` (an open or
/// symbolic dimension is fine: it is fixed here).
fn check_declared_input(fact: &InferenceFact) -> Result<(), PolicyError> {
    if let Some(dt) = fact.datum_type.concretize() {
        if dt != f32::datum_type() {
            return refuse(PolicyErrorCode::ModelInvalid, format!("risk model: input is {dt:?}, expected f32"));
        }
    }
    if fact.shape.is_open() {
        return Ok(());
    }
    let dims: Vec<Option<i64>> = fact.shape.dims().map(|d| d.concretize().and_then(|d| d.to_i64().ok())).collect();
    let expected = [1i64, FEATURE_COUNT as i64];
    let fits = dims.len() == 2 && dims.iter().zip(expected).all(|(d, e)| d.is_none_or(|d| d == e));
    if !fits {
        let shown: Vec<String> = dims.iter().map(|d| d.map_or("?".to_string(), |d| d.to_string())).collect();
        return refuse(
            PolicyErrorCode::ModelInvalid,
            format!(
                "risk model: input shape [{}], expected [1, {FEATURE_COUNT}] (or [batch, {FEATURE_COUNT}])",
                shown.join(", ")
            ),
        );
    }
    Ok(())
}

impl RiskModel {
    /// Loads ONNX bytes (input `[1, FEATURE_COUNT]` f32, output one probability).
    pub fn load(bytes: &[u8]) -> Result<RiskModel, PolicyError> {
        if bytes.len() > MAX_MODEL_BYTES {
            return refuse(
                PolicyErrorCode::ModelInvalid,
                format!("risk model: {} bytes, at most {MAX_MODEL_BYTES}", bytes.len()),
            );
        }
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let mut model = guarded("not a readable ONNX model", || onnx().model_for_read(&mut &bytes[..]))?;
        if model.inputs.len() != 1 {
            return refuse(
                PolicyErrorCode::ModelInvalid,
                format!("risk model: {} inputs, expected 1", model.inputs.len()),
            );
        }
        if model.outputs.len() != 1 {
            return refuse(
                PolicyErrorCode::ModelInvalid,
                format!("risk model: {} outputs, expected 1", model.outputs.len()),
            );
        }
        let declared = guarded("input", || model.input_fact(0).cloned())?;
        check_declared_input(&declared)?;
        let typed = guarded("cannot be prepared with input f32 [1, 9]", || {
            model = model.with_input_fact(0, f32::fact([1, FEATURE_COUNT]).into())?;
            model.into_optimized()
        })?;
        let output = guarded("output", || typed.output_fact(0).cloned())?;
        if output.datum_type != f32::datum_type() {
            return refuse(
                PolicyErrorCode::ModelInvalid,
                format!("risk model: output is {:?}, expected f32", output.datum_type),
            );
        }
        let layout = match output.shape.as_concrete() {
            Some([1, 1]) | Some([1]) => OutputLayout::Single,
            Some([1, 2]) => OutputLayout::TwoClasses,
            _ => {
                return refuse(
                    PolicyErrorCode::ModelInvalid,
                    format!("risk model: output shape {:?}, expected [1, 1], [1] or [1, 2]", output.shape),
                )
            }
        };
        let plan = guarded("cannot be planned", || typed.into_runnable());
        clear_upper_vector_state();
        let plan = plan?;
        let state = guarded("cannot be planned", || plan.spawn())?;
        let model = RiskModel { sha256, plan, state: std::sync::Mutex::new(state), layout };
        // One run now, so that a model that cannot run or does not give a
        // probability is refused when the policy is applied, not at the first request.
        model.probability(&RiskFeatures([0.0; FEATURE_COUNT]))?;
        Ok(model)
    }

    /// The model's raw output: the probability of the positive class, checked to be in `[0, 1]`.
    pub fn probability(&self, features: &RiskFeatures) -> Result<f32, PolicyError> {
        let outputs = guarded("inference", || {
            let input = tvec!(Tensor::from_shape(&[1, FEATURE_COUNT], &features.0)?.into_tvalue());
            match self.state.try_lock() {
                Ok(mut state) => state.run(input),
                // In use by another thread (or poisoned by a caught panic): a fresh state.
                Err(_) => self.plan.run(input),
            }
        });
        clear_upper_vector_state();
        let outputs = outputs?;
        let p = guarded("output", || {
            let out = outputs.first().ok_or_else(|| TractError::msg("no output"))?;
            let view = out.try_as_plain_ram()?;
            let values = view.as_slice::<f32>()?;
            let index = match self.layout {
                OutputLayout::Single => 0,
                OutputLayout::TwoClasses => 1,
            };
            values.get(index).copied().ok_or_else(|| TractError::msg(format!("output has {} values", values.len())))
        })?;
        if !(0.0..=1.0).contains(&p) {
            // Also NaN.
            return refuse(PolicyErrorCode::ModelInvalid, format!("risk model: output {p} is not a probability"));
        }
        Ok(p)
    }

    /// The score in basis points (0..=10000), rounded to nearest.
    pub fn score_bps(&self, features: &RiskFeatures) -> Result<u16, PolicyError> {
        let p = self.probability(features)?;
        let bps = (f64::from(p) * 10_000.0).round();
        // `probability` checked 0 <= p <= 1, so 0 <= bps <= 10000.
        Ok(bps.clamp(0.0, 10_000.0) as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RiskModel>();
    }
}
