/**
 * The error registry: the one place an error code becomes an HTTP status and
 * gets a default message.
 *
 * Codes travel unchanged from the enclave, the core and the sidecar to the
 * client as `{ error: { code, message } }`; only the status is decided here.
 * Every code the enclave program can answer with is listed (the table is typed
 * by the generated `EnclaveErrorCode`, so a new enclave code does not compile
 * until it has a status). Protocol-level codes (MALFORMED_FRAME,
 * UNKNOWN_OPERATION, ...) map to 500 on purpose: the API validated the input,
 * so they mean the host itself is broken, not the caller. docs/api.md lists
 * the whole registry (a test checks it).
 */
import type { EnclaveErrorCode, ProtocolErrorCode } from '@sentinel/node/protocol';

export interface ErrorInfo {
  status: number;
  /** The default message: what the code means, for docs and for errors raised without one. */
  message: string;
}

const e = (status: number, message: string): ErrorInfo => ({ status, message });

/** Every code the enclave program answers with (generated from the Rust enum). */
const ENCLAVE_ERRORS: Record<EnclaveErrorCode, ErrorInfo> = {
  UNKNOWN_KEY: e(404, 'no key with this id in this enclave'),
  KEY_CURVE_MISMATCH: e(400, "the key's curve cannot do this operation (e.g. sign_ed25519 with a secp256k1 key)"),
  // The enclave's key quota (--max-keys) is full: a state conflict, not a malformed request.
  KEY_LIMIT_REACHED: e(409, 'the enclave holds as many keys as it is configured to'),
  INVALID_NONCE: e(400, 'attestation nonce empty or too long'),
  INVALID_KEY_ID: e(400, 'key id too long'),
  PAYLOAD_TOO_LARGE: e(413, 'the request or a field of it is too large'),
  ENCLAVE_BUSY: e(429, 'the enclave is busy; retry later'),
  // Sent on a connection the enclave refuses; the sidecar then reports ENCLAVE_UNAVAILABLE.
  TOO_MANY_CONNECTIONS: e(503, 'the enclave serves as many connections as it is configured to'),
  SIGNATURE_SELF_CHECK_FAILED: e(500, 'a signature failed its own verification before release (nothing was returned)'),
  INTERNAL: e(500, 'internal error'),
  // The host is not storing the audit log: the enclave signs nothing more until it does.
  AUDIT_BACKLOG_FULL: e(503, 'the host has not stored enough audit records; nothing is signed until it does'),
  // The host's own audit writer asked for records the enclave no longer holds (or not yet made).
  AUDIT_RANGE_UNAVAILABLE: e(500, 'the enclave does not hold the audit records asked for'),
  AUDIT_ACK_INVALID: e(500, 'the host acknowledged audit records that do not exist'),
  // A restarted enclave (--audit-resume) waits for the host to continue the previous log or start a new one.
  AUDIT_LOG_NOT_OPEN: e(503, 'the audit log is not open yet (the host has not resumed or started it); nothing is signed'),
  // The host's audit writer resumes the log at start-up (docs/audit.md, "Restart"): these stop `zcp up`, never an API request.
  AUDIT_RESUME_STATE: e(500, 'an audit resume step out of order (none begun, or the log already open)'),
  AUDIT_RESUME_ATTESTATION: e(500, "the previous enclave's attestation document is not trusted (another PCR0, debug, wrong root or key)"),
  AUDIT_RESUME_MISMATCH: e(500, "the audit log was last kept under another configuration or policy than the ones in force"),
  AUDIT_RESUME_ROLLBACK: e(500, 'the audit log handed to a resume is older than a sealed snapshot its enclave made: an old or cut-back copy'),
  AUDIT_RESUME_INVALID: e(500, 'the stored audit log does not verify against its checkpoint: the enclave refused to continue it'),
  KEY_PURPOSE_MISMATCH: e(400, "the key's purpose does not allow this operation (e.g. a raw digest with an ethereum key)"),
  INVALID_LABEL: e(400, 'key label empty, too long or with characters outside A-Z a-z 0-9 - _ . : /'),
  INVALID_BODY: e(400, 'the operation body is not a valid operation'),
  INVALID_IMPORTED_KEY: e(400, 'the imported key is not a valid key of its curve'),
  // Authentication: who sent this could not be established.
  STAMP_MISSING: e(401, 'the operation needs a stamp'),
  STAMP_MALFORMED: e(400, 'the stamp is malformed (nonce or signature size, principal)'),
  UNKNOWN_PRINCIPAL: e(401, 'the stamp names a principal the configuration does not know'),
  STAMP_SIGNATURE_INVALID: e(401, "the stamp's signature does not verify with the principal's key"),
  STAMP_EXPIRED: e(401, "the stamp's timestamp is outside the accepted window"),
  STAMP_REPLAYED: e(401, 'this stamp (principal, nonce) was already used'),
  // Authorization: the principal is known, the configuration does not allow this.
  OPERATION_NOT_PERMITTED: e(403, 'the configuration does not allow this principal this operation'),
  KEY_NOT_PERMITTED: e(403, 'the configuration does not allow this principal this key'),
  // The principal's own key quota (`max_keys`); KEY_LIMIT_REACHED is the enclave's.
  KEY_QUOTA_EXCEEDED: e(403, 'the principal holds as many keys as its quota allows'),
  // Too many stamps within the window to remember their nonces: load, retry later.
  REPLAY_CACHE_FULL: e(429, 'too many stamped requests in the replay window; retry later'),
  UNKNOWN_SESSION: e(404, 'no such session'),
  TOO_MANY_SESSIONS: e(429, 'the enclave holds as many sessions as it is configured to'),
  SESSION_HANDSHAKE_FAILED: e(401, 'the session handshake failed'),
  SESSION_AUTH_FAILED: e(401, 'the session could not be authenticated'),
  // The session can no longer be used (a frame failed to decrypt or arrived out of order): open a new one.
  SESSION_BROKEN: e(410, 'the session can no longer be used; open a new one'),
  SESSION_EXPIRED: e(401, 'the session expired'),
  // Configuration updates.
  CONFIG_ROLLBACK: e(409, 'the configuration version is not above the one in force'),
  CONFIG_QUORUM_NOT_MET: e(403, 'the configuration lacks the signatures of the current admin threshold'),
  CONFIG_INVALID: e(400, 'the configuration is invalid'),
  // The enclave has no configuration yet: it serves nothing but ping and describe.
  NOT_CONFIGURED: e(503, 'the enclave has no configuration yet'),
  // No policy yet: like NOT_CONFIGURED, the enclave is not ready to sign (a state the operator fixes, not the
  // caller): 503, refused with a receipt. GET /v1/policy answers this code with 404 (there is nothing to show).
  POLICY_NOT_INSTALLED: e(503, 'no policy is installed: the enclave refuses to sign until one is'),
  // Policy verdicts (docs/policy.md): refusals with a receipt whose rules_evaluated says why.
  POLICY_DENIED: e(403, 'a policy rule denied the request (the receipt lists every rule\'s result)'),
  POLICY_NO_MATCH: e(403, 'no policy rule in scope allowed the request (default deny)'),
  POLICY_ERROR: e(403, 'a policy rule could not be evaluated (missing or stale price, model failure): denied'),
  // A signing request that needs approval is held instead (APPROVAL_PENDING); a dry run reports this code.
  POLICY_APPROVAL_REQUIRED: e(403, 'the risk score requires human approval (a dry run reports it; a signing request is held: APPROVAL_PENDING)'),
  // The kill switch (docs/oversight.md): Red for the request's global, key or principal scope. 423 Locked: a
  // state the overseers set and lift (a quorum resume), not a fault of the request. Refused with a receipt.
  KILL_SWITCH_HALTED: e(423, 'the kill switch is Red (halted) for this request\'s global, key or principal scope: nothing is signed'),
  // Not a refusal: the request is held for human approval (policy verdict or Yellow state). The signing routes
  // answer 202 { status: "pending", request_id, ... } with the receipt; GET /v1/requests/:requestId gives the outcome.
  APPROVAL_PENDING: e(202, 'the request is held for human approval; GET /v1/requests/:requestId gives the outcome'),
  SEAL_LOAD_CLOSED: e(409, 'sealed records load at boot only, before the first key operation'),
  SEAL_CONFIG_CONFLICT: e(409, 'the sealed configuration is neither the one in force nor one it updates'),
  SEAL_RECORD_DUPLICATE: e(409, 'a sealed key record for a key the enclave already holds'),
  SEAL_RECORD_UNSUPPORTED: e(400, 'a sealed record of a kind sealed_load does not take, or whose content does not decode'),
  SEAL_SNAPSHOT_TOO_LARGE: e(500, 'a state snapshot would need more than 128 parts of 512 KiB; the previous snapshot stays and the next restart replays the log from it'),
  SEAL_SNAPSHOT_MISMATCH: e(500, 'a sealed snapshot of another log, or one that does not open as a snapshot'),
  SEALING_DISABLED: e(409, 'sealing is none: keys live in enclave memory only'),
  SEALING_KEY_ABSENT: e(503, 'the enclave waits for its master key from a running enclave (attested forwarding)'),
  FORWARD_ATTESTATION_INVALID: e(400, "a peer enclave's attestation document does not verify"),
  FORWARD_CONFIG_MISMATCH: e(409, 'the peer enclave runs another configuration'),
  FORWARD_PEER_NOT_APPROVED: e(403, "the peer enclave's image (PCR0) differs and no upgrade approval names it"),
  FORWARD_APPROVAL_INVALID: e(403, 'the upgrade approval is not signed by the admin quorum, has expired, or names other images'),
  FORWARD_STATE: e(409, 'forwarding out of order: no master key to send, or the receiver already holds one'),
  FORWARD_DECRYPTION_FAILED: e(400, 'the forwarded key does not open in this enclave'),
  SEALING_UNLOCK_STATE: e(409, 'the enclave does not seal with AWS KMS, or already holds its master key'),
  KMS_UNLOCK_FAILED: e(502, 'AWS KMS did not give the master key (relay, TLS, credentials, key policy or answer)'),
  SESSION_KEY_CREATION_REFUSED: e(409, 'keys are sealed: create them with a stamped request, not inside a session'),
};

/** Frames the enclave could not decode: the API built them, so they mean a broken host. */
const PROTOCOL_ERRORS: Record<Exclude<ProtocolErrorCode, 'INVALID_ARGUMENT'>, ErrorInfo> = {
  FRAME_TOO_LARGE: e(500, 'the host sent the enclave a frame that is too large'),
  EMPTY_FRAME: e(500, 'the host sent the enclave an empty frame'),
  MALFORMED_FRAME: e(500, 'the host sent the enclave a malformed frame'),
  UNSUPPORTED_VERSION: e(500, 'the host and the enclave speak different protocol versions'),
  UNKNOWN_OPERATION: e(500, 'the enclave does not know this frame operation'),
};

/** Codes of the core libraries (transaction and typed-data decoding, configuration, key import). */
const CORE_ERRORS: Record<string, ErrorInfo> = {
  // Transaction decoding (crates/eth): the caller sent a transaction the enclave will not sign.
  EMPTY_INPUT: e(400, 'empty transaction'),
  EXPECTED_LIST: e(400, 'transaction RLP: expected a list'),
  EXPECTED_STRING: e(400, 'transaction RLP: expected a string'),
  INTEGER_LEADING_ZERO: e(400, 'transaction RLP: integer with a leading zero'),
  INTEGER_OVERFLOW: e(400, 'transaction RLP: integer too large'),
  NON_CANONICAL_RLP: e(400, 'transaction RLP is not canonical'),
  RLP_TRUNCATED: e(400, 'transaction RLP is truncated'),
  TRAILING_BYTES: e(400, 'bytes after the transaction'),
  TRANSACTION_TOO_LARGE: e(400, 'transaction too large'),
  UNSUPPORTED_TRANSACTION_TYPE: e(400, 'transaction type not supported (legacy, EIP-155, EIP-2930, EIP-1559 are)'),
  WRONG_FIELD_COUNT: e(400, 'transaction has the wrong number of fields for its type'),
  INVALID_ACCESS_LIST: e(400, 'transaction access list is malformed'),
  INVALID_TO_ADDRESS: e(400, 'transaction `to` is not a 20-byte address'),
  // A JSON transaction object (core.encodeUnsignedTransaction, used by the SDK and CLI).
  INVALID_TRANSACTION_JSON: e(400, 'the JSON transaction object is invalid (the message names the field)'),
  INVALID_TYPED_DATA: e(400, 'EIP-712 typed data is malformed'),
  TYPED_DATA_DOMAIN_MISMATCH: e(400, 'EIP-712 domain does not match its declared type'),
  TYPED_DATA_NOT_HASHABLE: e(400, 'EIP-712 typed data cannot be hashed'),
  // Signed configurations (crates/config) the enclave would not install.
  CONFIG_MALFORMED: e(400, 'configuration is not valid CBOR of the expected shape'),
  CONFIG_NOT_CANONICAL: e(400, 'configuration CBOR is not canonical'),
  CONFIG_TOO_LARGE: e(413, 'configuration too large'),
  CONFIG_UNKNOWN_FIELD: e(400, 'configuration has an unknown field'),
  CONFIG_DUPLICATE_ID: e(400, 'configuration names an id twice'),
  CONFIG_DUPLICATE_KEY: e(400, 'configuration lists a key twice'),
  CONFIG_INVALID_THRESHOLD: e(400, 'configuration admin threshold is invalid'),
  CONFIG_UNKNOWN_ALG: e(400, 'configuration names an unknown key algorithm'),
  CONFIG_INVALID_KEY: e(400, 'configuration has an invalid public key'),
  CONFIG_UNKNOWN_OPERATION: e(400, 'configuration names an unknown operation'),
  // Key import (crates/import): one code for every decryption failure, by design.
  IMPORT_DECRYPTION_FAILED: e(400, 'the imported key could not be decrypted'),
  IMPORT_MALFORMED: e(400, 'the key import envelope is malformed'),
  IMPORT_KEY_INVALID: e(400, 'the imported key is invalid'),
  // Policies and price tables (crates/policy): refusals of validate, update_policy and update_prices.
  POLICY_MALFORMED: e(400, 'the policy is not valid JSON (a key twice, a float, too deep, not UTF-8)'),
  POLICY_TOO_LARGE: e(413, 'the policy exceeds a size cap (bytes, rules, list items, string lengths)'),
  POLICY_INVALID: e(400, 'a policy field is missing, unknown, of the wrong type or out of range (the message names it)'),
  POLICY_DUPLICATE_ID: e(400, 'the policy names a rule id twice, or lists an item twice'),
  POLICY_ROLLBACK: e(409, "the policy version is not above the active policy's"),
  POLICY_QUORUM_NOT_MET: e(403, "the policy lacks valid signatures of the configuration's admin threshold"),
  POLICY_MODEL_MISSING: e(400, 'a risk_score rule pins a model whose bytes were not supplied'),
  POLICY_MODEL_INVALID: e(400, 'a model is not a loadable ONNX model of the expected shape, or is not pinned by the policy'),
  POLICY_REQUEST_INVALID: e(400, 'the policy cannot read the request (e.g. malformed permit fields in typed data)'),
  POLICY_SNAPSHOT_INVALID: e(500, 'a sealed policy state snapshot this build cannot read'),
  PRICES_INVALID: e(400, 'the price table is malformed or names an asset twice'),
  PRICES_SIGNATURE_INVALID: e(403, "the price table is not signed by the active policy's price_feed key"),
  PRICES_ROLLBACK: e(409, 'the price table is not newer than the one in force'),
  PRICE_FEED_NOT_CONFIGURED: e(409, 'the active policy has no price_feed: it takes no price table'),
  // Oversight commands and approvals (crates/oversight, docs/oversight.md): refusals of the oversight routes.
  OVERSIGHT_MALFORMED: e(400, 'the oversight command is malformed (not canonical CBOR, a field missing, of the wrong size, or one its action does not take), or not the action this route serves'),
  OVERSIGHT_SIGNATURE_INVALID: e(401, "a signature does not verify with its signer's configured key"),
  OVERSIGHT_STALE: e(401, "the command's timestamp is outside the stamp window around the enclave's clock"),
  OVERSIGHT_NOT_PERMITTED: e(403, 'a signer is not an overseer (or, for approvals, an approver) in the configuration'),
  OVERSIGHT_QUORUM_NOT_MET: e(403, 'fewer distinct valid signers than the action needs (resume: the resume threshold)'),
  OVERSIGHT_REPLAY: e(409, 'this exact command was already accepted'),
  OVERSIGHT_CHALLENGE_INVALID: e(409, "the resume does not carry the enclave's current challenge (unknown, used or expired): fetch a new one"),
  OVERSIGHT_REPLAY_CACHE_FULL: e(503, 'too many oversight commands in the replay window; retry later'),
  APPROVAL_UNKNOWN: e(404, 'no held request with this id'),
  APPROVAL_EXPIRED: e(410, 'the held request expired before its approvals were complete'),
  APPROVAL_REJECTED: e(403, 'an approver rejected the held request'),
  APPROVAL_DIGEST_MISMATCH: e(409, "the approval names another request digest than the held request's"),
  APPROVAL_QUEUE_FULL: e(503, 'as many requests are held for approval as the configuration allows (max_pending)'),
  // Sealed state (crates/seal, enclave/src/sealing.rs, docs/sealed-state.md): what sealed_load refuses.
  SEAL_RECORD_MALFORMED: e(400, 'not a sealed record of a version this build reads (magic, version, header, lengths: a truncated file)'),
  SEAL_RECORD_SWAPPED: e(409, 'the sealed record names another record than the one asked for'),
  SEAL_LINEAGE_MISMATCH: e(403, 'the sealed record belongs to another configuration lineage: this configuration cannot open it'),
  SEAL_RECORD_MODIFIED: e(400, 'the sealed record does not authenticate (modified bytes, or another master key)'),
  SEAL_ARGUMENT_INVALID: e(500, 'sealing was called with an invalid argument'),
  SEAL_MASTER_KEY_UNAVAILABLE: e(503, 'the master-key provider could not give the sealing key'),
};

/** Codes the host decides itself: the HTTP layer and the sidecar. */
const HOST_ERRORS: Record<string, ErrorInfo> = {
  INVALID_ARGUMENT: e(400, 'the request does not match the route schema (wrong type, unknown field, bad hex)'),
  INVALID_JSON: e(400, 'the request body is not valid JSON'),
  OPERATION_ROUTE_MISMATCH: e(400, "the stamped body's operation is not the one this route serves"),
  NOT_FOUND: e(404, 'no such route'),
  // The addon lacks a function this route needs (an old build of @sentinel/node).
  NOT_SUPPORTED: e(501, 'this build of the host lacks the core function this needs'),
  RECEIPT_NOT_FOUND: e(404, 'no receipt with this id in memory (the API keeps the most recent ones)'),
  CHECKER_NOT_BUILT: e(404, 'the browser checker page is not built: run `node host/checker/build.mjs` (scripts/build.sh) and restart the API'),
  REQUEST_TIMEOUT: e(408, 'the request did not arrive in time'),
  UNSUPPORTED_MEDIA_TYPE: e(415, 'content type not supported (use application/json)'),
  HOST_NOT_ALLOWED: e(421, 'the Host header names a host this API does not serve (DNS rebinding protection)'),
  HEADERS_TOO_LARGE: e(431, 'request headers too large'),
  UNEXPECTED_RESPONSE: e(500, 'the enclave answered with an unexpected answer type'),
  NOT_READY: e(503, 'the enclave does not answer or has no configuration'),
  ENCLAVE_UNAVAILABLE: e(503, 'the enclave is not reachable'),
  ENCLAVE_TIMEOUT: e(504, 'the enclave did not answer in time'),
  // The audit log (docs/audit.md): in strict mode no answer leaves before its record is durable.
  AUDIT_STORAGE_UNAVAILABLE: e(503, 'the audit log cannot be written (disk full, permissions, I/O error); signing is stopped until it can'),
  // Sealed state (docs/sealed-state.md): a key id is released only once its sealed record is stored.
  SEALED_STORAGE_UNAVAILABLE: e(503, "a new key's sealed record could not be stored; its answer is withheld"),
  SEALED_STORE_INVALID: e(500, 'the sealed store holds a file it cannot name or read'),
  // Replicas (docs/sealed-state.md, "Replicas"): zcp up --replica-of.
  REPLICA_MISMATCH: e(500, "a replica's data directory is not its peer's deployment (another configuration, policy, credentials, peer or master key)"),
  REPLICA_PEER_NOT_FOUND: e(500, 'the peer data directory a replica names has no stack to copy'),
  REPLICA_PEER_NOT_RUNNING: e(503, "the replica's peer stack is not running: there is no enclave to forward the master key"),
  REPLICA_PEER_REQUIRED: e(500, 'a replica started without naming its peer (--replica-of)'),
  REPLICA_INVALID: e(500, 'replica.json is not a replica record'),
  AUDIT_SEQUENCE_GAP: e(500, 'an audit record arrived before the records preceding it'),
  AUDIT_SEQUENCE_CONFLICT: e(500, 'an audit record differs from the one stored with its sequence number'),
  AUDIT_SEGMENT_CORRUPT: e(500, 'a stored audit segment fails verification (not a torn tail)'),
  AUDIT_RECORD_TOO_LARGE: e(500, 'an audit record is over 32 KiB'),
  AUDIT_STORE_CLOSED: e(503, 'the audit log is closed (the host is stopping)'),
  AUDIT_ARGUMENT_INVALID: e(500, 'the audit store was called with an invalid argument'),
  AUDIT_LOG_MISMATCH: e(500, "the stored audit log's origin or key is not the enclave's"),
  AUDIT_ORIGIN_INVALID: e(500, "the enclave's audit log origin is not sentinel/log/<16 hex digits>"),
  AUDIT_CHECKPOINT_MALFORMED: e(500, 'an audit checkpoint note is malformed'),
  AUDIT_NOT_ENABLED: e(404, 'this API has no audit log'),
  AUDIT_TILE_NOT_FOUND: e(404, 'no such tile: beyond the latest stored checkpoint, or no checkpoint yet'),
  AUDIT_RECORD_NOT_FOUND: e(404, 'no such record under the latest stored checkpoint'),
  // Restarts (docs/audit.md, "Restart"): the host's side of a resume, and the key history readers check.
  AUDIT_LOG_NOT_FOUND: e(500, 'the audit log to read or continue is not there (no log.json, or audit/current names none)'),
  AUDIT_RESUME_NO_CHECKPOINT: e(500, 'the audit log in use has no stored checkpoint, so it cannot be continued'),
  AUDIT_KEY_HISTORY_INVALID: e(500, "the audit log's key history does not match its records and checkpoints"),
};

/** The registry by where the codes come from (docs/api.md lists them in these groups). */
export const ERROR_GROUPS: Readonly<Record<'enclave' | 'protocol' | 'core' | 'host', Readonly<Record<string, ErrorInfo>>>> = {
  enclave: ENCLAVE_ERRORS,
  protocol: PROTOCOL_ERRORS,
  core: CORE_ERRORS,
  host: HOST_ERRORS,
};

/** The registry, code -> status and default message (docs/api.md lists it). */
export const ERROR_REGISTRY: Readonly<Record<string, ErrorInfo>> = Object.freeze({
  ...ENCLAVE_ERRORS,
  ...PROTOCOL_ERRORS,
  ...CORE_ERRORS,
  ...HOST_ERRORS,
});

export function httpStatusFor(code: string): number {
  const info = ERROR_REGISTRY[code];
  if (info !== undefined) return info.status;
  if (code.startsWith('INVALID_')) return 400;
  return 500;
}

export function defaultMessage(code: string): string {
  return ERROR_REGISTRY[code]?.message ?? code;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string = defaultMessage(code)): ErrorBody {
  return { error: { code, message } };
}
