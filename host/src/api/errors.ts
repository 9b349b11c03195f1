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
