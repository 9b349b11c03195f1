//! WASM face of the audit log's verifying and decoding functions
//! (`sentinel-audit`), mirroring `bindings/node/src/audit.rs` function for
//! function: arrays of bytes are checked here (`INVALID_ARGUMENT` otherwise),
//! numbers go through `sentinel_audit::view::js_u64` (the N-API build's rule),
//! one `*_request` function of the crate's `view` module is called and its
//! shared JS view comes back. Making proofs and tiles is the host's, so only
//! the N-API build has those.
use js_sys::{Array, Uint8Array};
use sentinel_audit::view::{self, js_u64};
use sentinel_error::InvalidArgument;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::attestation::{js_error, to_js};

#[wasm_bindgen(typescript_custom_section)]
const TS_AUDIT: &'static str = r#"
/** What `auditVerifyLog` found; the root as `0x` hex. */
export interface AuditLogReport {
  /** Number of records. */
  records: number;
  /** RFC 6962 root of all records. */
  root: string;
  /** Number of checkpoints verified. */
  checkpoints: number;
  /** Size of the largest checkpoint: the records a signature covers. */
  covered: number;
  /** Records after the largest checkpoint, not yet covered by one. */
  uncovered: number;
}
/** A verified checkpoint; the root as `0x` hex. */
export interface AuditCheckpoint {
  /** The log's origin (its key name), e.g. `sentinel/log/<16 hex>`. */
  origin: string;
  /** Tree size: the number of records covered. */
  size: number;
  root: string;
}
/** One policy rule's result in an audit record; absent values `null`. */
export interface AuditRuleResult {
  rule: string; type: string; result: string;
  value: string | null; limit: string | null; window: string | null;
}
/** The decision an audit record holds. */
export interface AuditDecision {
  outcome: 'allowed' | 'denied' | 'pending' | 'approved' | 'rejected';
  code: string | null;
  rules: AuditRuleResult[];
}
/**
 * One state change an audit record's action caused (docs/audit.md: `op` is
 * `notional`, `rate_take`, `rate_cooldown` or `level` as the enclave writes them); absent values `null`.
 */
export interface AuditEffect {
  op: string;
  /** A rule id, or a kill-switch scope (`global`, `key:<id>`, `principal:<id>`). */
  target: string;
  subject: string | null;
  value: string | null;
}
/** A decoded audit record (docs/audit.md): its own field names, digests as `0x` hex, absent values `null`. */
export interface AuditRecord {
  seq: number;
  kind: 'decision' | 'approval' | 'config' | 'policy' | 'key_created' | 'key_imported' | 'halt' | 'resume' | 'heartbeat_trip' | 'log_resumed';
  /** The state changes the action caused, `[]` when none. */
  effects: AuditEffect[];
  /** Enclave time, µs since the Unix epoch. */
  time_us: number;
  principal: string | null;
  request_digest: string | null;
  decision: AuditDecision | null;
  result_digest: string | null;
  prev_hash: string;
}
"#;

/// An array of byte arrays, copied into WASM memory (`INVALID_ARGUMENT` naming `name` otherwise).
fn byte_list(value: &JsValue, name: &str) -> Result<Vec<Vec<u8>>, JsValue> {
    if !Array::is_array(value) {
        return Err(js_error(InvalidArgument::new(name, "expected an array of Uint8Array")));
    }
    Array::from(value)
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.dyn_into::<Uint8Array>()
                .map(|bytes| bytes.to_vec())
                .map_err(|_| js_error(InvalidArgument::new(&format!("{name}[{i}]"), "expected a Uint8Array")))
        })
        .collect()
}

fn number(value: f64, name: &str) -> Result<u64, JsValue> {
    js_u64(name, value).map_err(js_error)
}

/// A verifier key or an array of them (`INVALID_ARGUMENT` naming `name` otherwise).
fn key_list(value: &JsValue, name: &str) -> Result<Vec<String>, JsValue> {
    if let Some(key) = value.as_string() {
        return Ok(vec![key]);
    }
    if !Array::is_array(value) {
        return Err(js_error(InvalidArgument::new(name, "expected a string or an array of strings")));
    }
    Array::from(value)
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_string().ok_or_else(|| js_error(InvalidArgument::new(&format!("{name}[{i}]"), "expected a string")))
        })
        .collect()
}

/// Verifies a whole log: `records` (their encodings, in log order) against the
/// signed `checkpoints` (any order) with the log's verifier key (C2SP text
/// `<origin>+<key id>+<base64>`), or its key history (an array: a restarted
/// enclave continues the log under the same origin with a new key; each
/// checkpoint must verify with one of them). Throws the code naming what is
/// wrong (crates/audit/README.md).
#[wasm_bindgen(js_name = auditVerifyLog, unchecked_return_type = "AuditLogReport")]
pub fn audit_verify_log(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] records: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] checkpoints: JsValue,
    #[wasm_bindgen(js_name = verifierKeys, unchecked_param_type = "string | string[]")] verifier_keys: JsValue,
) -> Result<JsValue, JsValue> {
    let records = byte_list(&records, "records")?;
    let checkpoints = byte_list(&checkpoints, "checkpoints")?;
    let verifier_keys = key_list(&verifier_keys, "verifierKeys")?;
    to_js(&view::verify_log_request(&records, &checkpoints, &verifier_keys).map_err(js_error)?)
}

/// One key of a log's history (`auditVerifyKeyHistory`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HistoryKey {
    verifier_key: String,
    from_seq: f64,
}

/// Checks that a log's records and checkpoints tie its key history
/// (`{ verifierKey, fromSeq }[]`) together; throws `AUDIT_KEY_HISTORY_INVALID`
/// naming the mismatch (crates/audit/src/key_history.rs).
#[wasm_bindgen(js_name = auditVerifyKeyHistory)]
pub fn audit_verify_key_history(
    #[wasm_bindgen(unchecked_param_type = "{ verifierKey: string; fromSeq: number }[]")] keys: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] records: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] checkpoints: JsValue,
) -> Result<(), JsValue> {
    let keys: Vec<HistoryKey> = serde_wasm_bindgen::from_value(keys).map_err(|e| {
        let text = e.to_string();
        js_error(InvalidArgument::new("keys", text.strip_prefix("Error: ").unwrap_or(&text)))
    })?;
    let keys = keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| Ok((k.verifier_key, js_u64(&format!("keys[{i}].fromSeq"), k.from_seq).map_err(js_error)?)))
        .collect::<Result<Vec<_>, JsValue>>()?;
    let records = byte_list(&records, "records")?;
    let checkpoints = byte_list(&checkpoints, "checkpoints")?;
    view::verify_key_history_request(&keys, &records, &checkpoints).map_err(js_error)
}

/// Verifies a `tlog-proof` for `record` with the log's verifier key; returns the checkpoint it proves against.
#[wasm_bindgen(js_name = auditVerifyProof, unchecked_return_type = "AuditCheckpoint")]
pub fn audit_verify_proof(
    proof: &str,
    record: &[u8],
    #[wasm_bindgen(js_name = verifierKey)] verifier_key: &str,
) -> Result<JsValue, JsValue> {
    to_js(&view::verify_proof_request(proof, record, verifier_key).map_err(js_error)?)
}

/// Decodes an audit record (strictly: canonical CBOR only). Verifies nothing about where it came from.
#[wasm_bindgen(js_name = auditDecodeRecord, unchecked_return_type = "AuditRecord")]
pub fn audit_decode_record(record: &[u8]) -> Result<JsValue, JsValue> {
    to_js(&view::decode_record_request(record).map_err(js_error)?)
}

/// Verifies a signed checkpoint note with the log's verifier key and returns it.
#[wasm_bindgen(js_name = auditOpenCheckpoint, unchecked_return_type = "AuditCheckpoint")]
pub fn audit_open_checkpoint(
    note: &[u8],
    #[wasm_bindgen(js_name = verifierKey)] verifier_key: &str,
) -> Result<JsValue, JsValue> {
    to_js(&view::open_checkpoint_request(note, verifier_key).map_err(js_error)?)
}

/// The RFC 6962 consistency proof from the tree of the first `oldSize`
/// records to the tree of the first `newSize`, as `0x` hex hashes.
#[wasm_bindgen(js_name = auditConsistencyProof)]
pub fn audit_consistency_proof(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] records: JsValue,
    #[wasm_bindgen(js_name = oldSize)] old_size: f64,
    #[wasm_bindgen(js_name = newSize)] new_size: f64,
) -> Result<Vec<String>, JsValue> {
    let records = byte_list(&records, "records")?;
    let (old_size, new_size) = (number(old_size, "oldSize")?, number(new_size, "newSize")?);
    view::consistency_request(&records, old_size, new_size).map_err(js_error)
}
