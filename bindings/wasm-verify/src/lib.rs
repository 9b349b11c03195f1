//! `@sentinel/verify-wasm`: what an auditor's browser page loads to check a
//! Sentinel attestation document and the receipts it vouches for. The same
//! source files as the full WASM binding's attestation and receipt modules,
//! compiled alone and optimised for size, so the page does not download the
//! signing core's precomputed tables. The audit log's proof check and record
//! decoder join them ([`audit`]), so a page can also check that a receipt's
//! record is in the signed log.
#[path = "../../wasm/src/attestation.rs"]
mod attestation;
#[path = "../../wasm/src/receipt.rs"]
mod receipt;

/// The audit log's offline checks for the browser: a `tlog-proof` against the
/// log's verifier key, and a record's decoding. The full WASM build's
/// `bindings/wasm/src/audit.rs` has the same two (as `auditVerifyProof` and
/// `auditDecodeRecord`) and the rest; only these two are compiled here, so
/// the page does not carry the whole-log verifier. Same conversions, same
/// crate functions, same JS views; the TypeScript shapes below are that
/// file's, kept equal (test/conformance/audit.test.ts compares the results).
mod audit {
    use sentinel_audit::view;
    use wasm_bindgen::prelude::*;

    use crate::attestation::{js_error, to_js};

    #[wasm_bindgen(typescript_custom_section)]
    const TS_AUDIT: &'static str = r#"
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

    /// Verifies a C2SP `tlog-proof` for `record` with the log's verifier key
    /// (`<origin>+<key id>+<base64>`): the checkpoint's signature, then the
    /// record's inclusion under its root. Returns the checkpoint.
    #[wasm_bindgen(js_name = verifyAuditProof, unchecked_return_type = "AuditCheckpoint")]
    pub fn verify_audit_proof(
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
}
