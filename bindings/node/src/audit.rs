//! N-API face of the audit log (`sentinel-audit`): verifying a log and its
//! proofs, making proofs and tlog-tiles files for the host to serve, decoding
//! records and checkpoints. No logic here: arguments are converted (an array
//! of bytes through [`super::optional`], so a wrong type is
//! `INVALID_ARGUMENT`; numbers through `sentinel_audit::view::js_u64`, the
//! WASM build's rule too), one `*_request` function of the crate's `view`
//! module is called, and its shared JS view comes back.
// napi-rs registers the exports only outside `cfg(test)`, and this module is
// private, so the lib's unit-test build would see them as dead code.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi::JsValue;
use napi_derive::napi;
use sentinel_audit::view::{self, js_u64};

use super::{bytes, optional, throw};

// The objects below only declare the TypeScript shapes; values come from
// `sentinel_audit::view` through serde, as in the WASM builds.

/// What `auditVerifyLog` found; the root as `0x` hex.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AuditLogReport {
    /// Number of records.
    pub records: f64,
    /// RFC 6962 root of all records.
    pub root: String,
    /// Number of checkpoints verified.
    pub checkpoints: f64,
    /// Size of the largest checkpoint: the records a signature covers.
    pub covered: f64,
    /// Records after the largest checkpoint, not yet covered by one.
    pub uncovered: f64,
}

/// A verified checkpoint; the root as `0x` hex.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AuditCheckpoint {
    /// The log's origin (its key name), e.g. `sentinel/log/<16 hex>`.
    pub origin: String,
    /// Tree size: the number of records covered.
    pub size: f64,
    pub root: String,
}

/// One policy rule's result in an audit record; absent values `null`.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AuditRuleResult {
    pub rule: String,
    #[napi(js_name = "type")]
    pub rule_type: String,
    pub result: String,
    #[napi(ts_type = "string | null")]
    pub value: Option<String>,
    #[napi(ts_type = "string | null")]
    pub limit: Option<String>,
    #[napi(ts_type = "string | null")]
    pub window: Option<String>,
}

/// The decision an audit record holds.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AuditDecision {
    #[napi(ts_type = "'allowed' | 'denied' | 'pending' | 'approved' | 'rejected'")]
    pub outcome: String,
    #[napi(ts_type = "string | null")]
    pub code: Option<String>,
    pub rules: Vec<AuditRuleResult>,
}

/// One state change an audit record's action caused (docs/audit.md: `op` is
/// `notional`, `rate_take`, `rate_cooldown` or `level` as the enclave writes them); absent values `null`.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AuditEffect {
    pub op: String,
    /// A rule id, or a kill-switch scope (`global`, `key:<id>`, `principal:<id>`).
    pub target: String,
    #[napi(ts_type = "string | null")]
    pub subject: Option<String>,
    #[napi(ts_type = "string | null")]
    pub value: Option<String>,
}

/// A decoded audit record (docs/audit.md): its own field names, digests as `0x` hex, absent values `null`.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AuditRecord {
    pub seq: f64,
    #[napi(
        ts_type = "'decision' | 'approval' | 'config' | 'policy' | 'key_created' | 'key_imported' | 'halt' | 'resume' | 'heartbeat_trip' | 'log_resumed'"
    )]
    pub kind: String,
    /// The state changes the action caused, `[]` when none.
    pub effects: Vec<AuditEffect>,
    /// Enclave time, µs since the Unix epoch.
    #[napi(js_name = "time_us")]
    pub time_us: f64,
    #[napi(ts_type = "string | null")]
    pub principal: Option<String>,
    #[napi(js_name = "request_digest", ts_type = "string | null")]
    pub request_digest: Option<String>,
    #[napi(ts_type = "AuditDecision | null")]
    pub decision: Option<AuditDecision>,
    #[napi(js_name = "result_digest", ts_type = "string | null")]
    pub result_digest: Option<String>,
    #[napi(js_name = "prev_hash")]
    pub prev_hash: String,
}

/// A parsed tlog-tiles path.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct AuditTilePath {
    /// The level (0 for an entry bundle).
    pub level: u32,
    pub index: f64,
    /// 1 to 256 (256: a full tile).
    pub width: u32,
    /// Whether the path names an entry bundle (`tile/entries/...`).
    pub entries: bool,
}

/// Leaf hashes instead of records, for `auditTile`.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct AuditLeafHashes {
    /// RFC 6962 leaf hashes (32 bytes each), in log order.
    pub leaf_hashes: Vec<Uint8Array>,
}

/// An array of byte arrays (`INVALID_ARGUMENT` naming `name` otherwise).
fn byte_list(env: &Env, name: &str, value: Unknown) -> Result<Vec<Uint8Array>> {
    Ok(optional::<Vec<Uint8Array>>(env, name, Some(value))?.unwrap_or_default())
}

fn number(env: &Env, name: &str, value: f64) -> Result<u64> {
    js_u64(name, value).map_err(|e| throw(env, e))
}

/// Verifies a whole log: `records` (their encodings, in log order) against the
/// signed `checkpoints` (any order) with the log's verifier key (C2SP text
/// `<origin>+<key id>+<base64>`), or its key history (an array: a restarted
/// enclave continues the log under the same origin with a new key; each
/// checkpoint must verify with one of them). Throws the code naming what is wrong:
/// `AUDIT_RECORD_MODIFIED`, `AUDIT_RECORD_DELETED`, `AUDIT_RECORD_REORDERED`,
/// `AUDIT_RECORD_INSERTED`, `AUDIT_TRUNCATED`, `AUDIT_CHECKPOINT_SIGNATURE_INVALID`,
/// `AUDIT_CHECKPOINT_INCONSISTENT`, ... (crates/audit/README.md).
#[napi(catch_unwind, ts_return_type = "AuditLogReport")]
pub fn audit_verify_log<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "Uint8Array[]")] records: Unknown,
    #[napi(ts_arg_type = "Uint8Array[]")] checkpoints: Unknown,
    #[napi(ts_arg_type = "string | string[]")] verifier_keys: Unknown,
) -> Result<Unknown<'env>> {
    let records = byte_list(env, "records", records)?;
    let checkpoints = byte_list(env, "checkpoints", checkpoints)?;
    let verifier_keys = if verifier_keys.is_array()? {
        optional::<Vec<String>>(env, "verifierKeys", Some(verifier_keys))?
    } else {
        optional::<String>(env, "verifierKeys", Some(verifier_keys))?.map(|key| vec![key])
    }
    .unwrap_or_default();
    let report = view::verify_log_request(&records, &checkpoints, &verifier_keys).map_err(|e| throw(env, e))?;
    env.to_js_value(&report)
}

/// One key of a log's history: in charge of the records from `fromSeq` on.
#[napi(object, object_to_js = false)]
pub struct AuditHistoryKey {
    /// C2SP text `<origin>+<key id>+<base64>`.
    pub verifier_key: String,
    pub from_seq: f64,
}

/// Checks that a log's records and checkpoints tie its key history together (a
/// log continued across enclave restarts has one audit key per enclave): ordered
/// from record 0, each later key starting with the `log_resumed` record that
/// names an earlier key and its own, no other `log_resumed` record, each
/// checkpoint signed by the key in charge at its size. Throws
/// `AUDIT_KEY_HISTORY_INVALID` naming the mismatch (crates/audit/src/key_history.rs).
#[napi(catch_unwind)]
pub fn audit_verify_key_history(
    env: &Env,
    #[napi(ts_arg_type = "AuditHistoryKey[]")] keys: Unknown,
    #[napi(ts_arg_type = "Uint8Array[]")] records: Unknown,
    #[napi(ts_arg_type = "Uint8Array[]")] checkpoints: Unknown,
) -> Result<()> {
    let keys = optional::<Vec<AuditHistoryKey>>(env, "keys", Some(keys))?.unwrap_or_default();
    let keys = keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| Ok((k.verifier_key, number(env, &format!("keys[{i}].fromSeq"), k.from_seq)?)))
        .collect::<Result<Vec<_>>>()?;
    let records = byte_list(env, "records", records)?;
    let checkpoints = byte_list(env, "checkpoints", checkpoints)?;
    view::verify_key_history_request(&keys, &records, &checkpoints).map_err(|e| throw(env, e))
}

/// The C2SP `tlog-proof` text of record `index` under a signed checkpoint
/// note, built from `records` (at least the checkpoint's size of them, which
/// must hash to its root).
#[napi(catch_unwind)]
pub fn audit_prove(
    env: &Env,
    #[napi(ts_arg_type = "Uint8Array[]")] records: Unknown,
    index: f64,
    checkpoint: &[u8],
    verifier_key: String,
) -> Result<String> {
    let records = byte_list(env, "records", records)?;
    let index = number(env, "index", index)?;
    view::prove_request(&records, index, checkpoint, &verifier_key).map_err(|e| throw(env, e))
}

/// Verifies a `tlog-proof` for `record` with the log's verifier key; returns the checkpoint it proves against.
#[napi(catch_unwind, ts_return_type = "AuditCheckpoint")]
pub fn audit_verify_proof<'env>(
    env: &'env Env,
    proof: String,
    record: &[u8],
    verifier_key: String,
) -> Result<Unknown<'env>> {
    let checkpoint = view::verify_proof_request(&proof, record, &verifier_key).map_err(|e| throw(env, e))?;
    env.to_js_value(&checkpoint)
}

/// The RFC 6962 consistency proof from the tree of the first `oldSize`
/// records to the tree of the first `newSize`, as `0x` hex hashes.
#[napi(catch_unwind)]
pub fn audit_consistency_proof(
    env: &Env,
    #[napi(ts_arg_type = "Uint8Array[]")] records: Unknown,
    old_size: f64,
    new_size: f64,
) -> Result<Vec<String>> {
    let records = byte_list(env, "records", records)?;
    let (old_size, new_size) = (number(env, "oldSize", old_size)?, number(env, "newSize", new_size)?);
    view::consistency_request(&records, old_size, new_size).map_err(|e| throw(env, e))
}

/// The tlog-tiles hash tile (`level`, `index`) of the tree of `records` (or
/// of `{ leafHashes }`), `width` hashes (default: its width in that tree).
#[napi(catch_unwind)]
pub fn audit_tile<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "Uint8Array[] | AuditLeafHashes")] records: Unknown,
    level: u32,
    index: f64,
    width: Option<u32>,
) -> Result<BufferSlice<'env>> {
    let leaves = if records.is_array()? {
        let records = byte_list(env, "records", records)?;
        records.iter().map(|r| sentinel_audit::merkle::leaf_hash(r)).collect()
    } else {
        let object = optional::<Object>(env, "records", Some(records))?.expect("given");
        let hashes = object.get_named_property::<Unknown>("leafHashes")?;
        let hashes = byte_list(env, "records.leafHashes", hashes)?;
        view::leaf_hashes(&hashes).map_err(|e| throw(env, e))?
    };
    let index = number(env, "index", index)?;
    bytes(env, &view::tile_request(&leaves, level, index, width).map_err(|e| throw(env, e))?)
}

/// The tlog-tiles entry bundle `index` of `records` (each a `u16` big-endian
/// length and the record), `width` entries (default: its width in the log of all `records`).
#[napi(catch_unwind)]
pub fn audit_entry_bundle<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "Uint8Array[]")] records: Unknown,
    index: f64,
    width: Option<u32>,
) -> Result<BufferSlice<'env>> {
    let records = byte_list(env, "records", records)?;
    let index = number(env, "index", index)?;
    bytes(env, &view::entry_bundle_request(&records, index, width).map_err(|e| throw(env, e))?)
}

/// Parses a tlog-tiles path strictly (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`, no prefix).
#[napi(catch_unwind, ts_return_type = "AuditTilePath")]
pub fn audit_parse_tile_path<'env>(env: &'env Env, path: String) -> Result<Unknown<'env>> {
    let tile = view::parse_tile_path_request(&path).map_err(|e| throw(env, e))?;
    env.to_js_value(&tile)
}

/// The tlog-tiles path of entry bundle `index` (`level` omitted) or of the hash tile at `level`,
/// `width` entries or hashes (256: a full tile, no `.p/` suffix), e.g. `tile/entries/x001/234.p/7`.
#[napi(catch_unwind)]
pub fn audit_tile_path(env: &Env, index: f64, width: u32, level: Option<u32>) -> Result<String> {
    let index = number(env, "index", index)?;
    view::tile_path_request(level, index, width).map_err(|e| throw(env, e))
}

/// Decodes an audit record (strictly: canonical CBOR only). Verifies nothing about where it came from.
#[napi(catch_unwind, ts_return_type = "AuditRecord")]
pub fn audit_decode_record<'env>(env: &'env Env, record: &[u8]) -> Result<Unknown<'env>> {
    let record = view::decode_record_request(record).map_err(|e| throw(env, e))?;
    env.to_js_value(&record)
}

/// Verifies a signed checkpoint note with the log's verifier key and returns it.
#[napi(catch_unwind, ts_return_type = "AuditCheckpoint")]
pub fn audit_open_checkpoint<'env>(env: &'env Env, note: &[u8], verifier_key: String) -> Result<Unknown<'env>> {
    let checkpoint = view::open_checkpoint_request(note, &verifier_key).map_err(|e| throw(env, e))?;
    env.to_js_value(&checkpoint)
}

/// The RFC 6962 leaf hash of a record, `0x` hex.
#[napi(catch_unwind)]
pub fn audit_leaf_hash(record: &[u8]) -> String {
    view::leaf_hash_request(record)
}
