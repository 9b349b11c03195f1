/**
 * The one place an error code becomes an HTTP status.
 *
 * Codes travel unchanged from the enclave, the core and the sidecar to the
 * client as `{ error: { code, message } }`; only the status is decided here.
 * Protocol-level codes (MALFORMED_FRAME, UNKNOWN_OPERATION, ...) are left to
 * the 500 default on purpose: the API validated the input, so they mean the
 * host itself is broken, not the caller.
 */
import type { EnclaveErrorCode } from '@sentinel/node/protocol';

/**
 * Every code the enclave program answers with (generated from the Rust enum):
 * a new enclave code does not compile until it has a status here.
 */
const ENCLAVE_STATUS: Record<EnclaveErrorCode, number> = {
  UNKNOWN_KEY: 404,
  KEY_CURVE_MISMATCH: 400,
  // The enclave's key quota (--max-keys) is full: a state conflict, not a malformed request.
  KEY_LIMIT_REACHED: 409,
  INVALID_NONCE: 400,
  INVALID_KEY_ID: 400,
  PAYLOAD_TOO_LARGE: 413,
  ENCLAVE_BUSY: 429,
  // Sent on a connection the enclave refuses; the sidecar then reports ENCLAVE_UNAVAILABLE.
  TOO_MANY_CONNECTIONS: 503,
  SIGNATURE_SELF_CHECK_FAILED: 500,
  INTERNAL: 500,
  KEY_PURPOSE_MISMATCH: 400,
  INVALID_LABEL: 400,
  INVALID_BODY: 400,
  INVALID_IMPORTED_KEY: 400,
  // Authentication: who sent this could not be established.
  STAMP_MISSING: 401,
  STAMP_MALFORMED: 400,
  UNKNOWN_PRINCIPAL: 401,
  STAMP_SIGNATURE_INVALID: 401,
  STAMP_EXPIRED: 401,
  STAMP_REPLAYED: 401,
  // Authorization: the principal is known, the configuration does not allow this.
  OPERATION_NOT_PERMITTED: 403,
  KEY_NOT_PERMITTED: 403,
  // The principal's own key quota (`max_keys`); KEY_LIMIT_REACHED is the enclave's.
  KEY_QUOTA_EXCEEDED: 403,
  // Too many stamps within the window to remember their nonces: load, retry later.
  REPLAY_CACHE_FULL: 429,
  UNKNOWN_SESSION: 404,
  TOO_MANY_SESSIONS: 429,
  SESSION_HANDSHAKE_FAILED: 401,
  SESSION_AUTH_FAILED: 401,
  // The session can no longer be used (a frame failed to decrypt or arrived out of order): open a new one.
  SESSION_BROKEN: 410,
  SESSION_EXPIRED: 401,
  // Configuration updates.
  CONFIG_ROLLBACK: 409,
  CONFIG_QUORUM_NOT_MET: 403,
  CONFIG_INVALID: 400,
  // The enclave has no configuration yet: it serves nothing but ping and describe.
  NOT_CONFIGURED: 503,
};

const STATUS: Record<string, number> = {
  ...ENCLAVE_STATUS,
  INVALID_ARGUMENT: 400,
  // Transaction decoding (crates/eth): the caller sent a transaction the enclave will not sign.
  EMPTY_INPUT: 400,
  EXPECTED_LIST: 400,
  EXPECTED_STRING: 400,
  INTEGER_LEADING_ZERO: 400,
  INTEGER_OVERFLOW: 400,
  NON_CANONICAL_RLP: 400,
  RLP_TRUNCATED: 400,
  TRAILING_BYTES: 400,
  TRANSACTION_TOO_LARGE: 400,
  UNSUPPORTED_TRANSACTION_TYPE: 400,
  WRONG_FIELD_COUNT: 400,
  INVALID_ACCESS_LIST: 400,
  INVALID_TO_ADDRESS: 400,
  INVALID_TYPED_DATA: 400,
  TYPED_DATA_DOMAIN_MISMATCH: 400,
  TYPED_DATA_NOT_HASHABLE: 400,
  // Signed configurations (crates/config) the enclave would not install.
  CONFIG_MALFORMED: 400,
  CONFIG_NOT_CANONICAL: 400,
  CONFIG_TOO_LARGE: 413,
  CONFIG_UNKNOWN_FIELD: 400,
  CONFIG_DUPLICATE_ID: 400,
  CONFIG_DUPLICATE_KEY: 400,
  CONFIG_INVALID_THRESHOLD: 400,
  CONFIG_UNKNOWN_ALG: 400,
  CONFIG_INVALID_KEY: 400,
  CONFIG_UNKNOWN_OPERATION: 400,
  // Key import (crates/import): one code for every decryption failure, by design.
  IMPORT_DECRYPTION_FAILED: 400,
  IMPORT_MALFORMED: 400,
  IMPORT_KEY_INVALID: 400,
  NOT_FOUND: 404,
  // The HTTP layer itself (app.ts): slow clients, oversized headers, a Host this API does not serve.
  REQUEST_TIMEOUT: 408,
  HOST_NOT_ALLOWED: 421,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ENCLAVE_UNAVAILABLE: 503,
  ENCLAVE_TIMEOUT: 504,
};

export function httpStatusFor(code: string): number {
  const status = STATUS[code];
  if (status !== undefined) return status;
  if (code.startsWith('INVALID_')) return 400;
  return 500;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
