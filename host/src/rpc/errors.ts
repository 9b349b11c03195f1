/**
 * JSON-RPC error objects for `zcp rpc`, and the one place where a Sentinel
 * error code becomes a JSON-RPC code. Wallet libraries branch on the numeric
 * code (EIP-1474, EIP-1193), so the mapping is stable and coarse: what the
 * enclave decided against (with a signed receipt) is `-32003 transaction
 * rejected`; a request the enclave or the core could not parse is `-32602`;
 * load shedding is `-32005`; a request held for human approval is `-32002`
 * (resource unavailable: the signature may come later; `data.requestId` names
 * it); anything else (the API unreachable, a receipt that did not verify) is `-32603`. The Sentinel code, message and receipt id always
 * travel in `data`, so nothing is lost for callers that look.
 */

export const RPC_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** EIP-1474 */
  RESOURCE_UNAVAILABLE: -32002,
  TRANSACTION_REJECTED: -32003,
  LIMIT_EXCEEDED: -32005,
  /** EIP-1193: the requested account has not been authorized. */
  UNAUTHORIZED: 4100,
} as const;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** An error answered to the caller as a JSON-RPC error object. */
export class RpcError extends Error {
  readonly rpcCode: number;
  readonly data?: unknown;

  constructor(rpcCode: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.rpcCode = rpcCode;
    this.data = data;
  }

  toJSON(): JsonRpcErrorObject {
    return { code: this.rpcCode, message: this.message, ...(this.data !== undefined ? { data: this.data } : {}) };
  }
}

export function invalidParams(message: string, code = 'INVALID_ARGUMENT'): RpcError {
  return new RpcError(RPC_CODES.INVALID_PARAMS, message, { code });
}

/** Enclave and core codes that say "this input is malformed", not "this is not allowed". */
const INPUT_CODES = new Set([
  'EMPTY_INPUT',
  'EXPECTED_LIST',
  'EXPECTED_STRING',
  'INTEGER_LEADING_ZERO',
  'INTEGER_OVERFLOW',
  'NON_CANONICAL_RLP',
  'RLP_TRUNCATED',
  'TRAILING_BYTES',
  'TRANSACTION_TOO_LARGE',
  'UNSUPPORTED_TRANSACTION_TYPE',
  'WRONG_FIELD_COUNT',
  'PAYLOAD_TOO_LARGE',
  'TYPED_DATA_DOMAIN_MISMATCH',
  'TYPED_DATA_NOT_HASHABLE',
]);

/** Codes that mean "busy, retry later". */
const LIMIT_CODES = new Set(['ENCLAVE_BUSY', 'REPLAY_CACHE_FULL', 'TOO_MANY_SESSIONS', 'TOO_MANY_CONNECTIONS']);

function isInputCode(code: string): boolean {
  return INPUT_CODES.has(code) || code.startsWith('INVALID_');
}

/**
 * Any error thrown while serving a method, as an RpcError. SDK refusals carry
 * `{ code, message, receiptId? }`; a refusal with a receipt was decided (and
 * signed) by the enclave.
 */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  const err = (e ?? {}) as { code?: unknown; message?: unknown; receiptId?: unknown };
  const message = typeof err.message === 'string' ? err.message : String(e);
  const code = typeof err.code === 'string' && err.code !== '' ? err.code : 'INTERNAL';
  const receiptId = typeof err.receiptId === 'string' ? err.receiptId : undefined;
  const data = { code, message, ...(receiptId !== undefined ? { receiptId } : {}) };
  if (code === 'APPROVAL_PENDING') {
    // Held for human approval, not refused: the signature may come later (GET /v1/requests/:requestId, or the
    // SDK's waitForApproval). -32002 "resource unavailable" (EIP-1474): not available yet; `data` says what to wait for.
    const pending = (e as { pending?: { requestId?: unknown; expiresAtUs?: unknown; approvals?: unknown; approvalsNeeded?: unknown } }).pending;
    return new RpcError(RPC_CODES.RESOURCE_UNAVAILABLE, `approval pending: ${message}`, {
      ...data,
      requestId: (e as { requestId?: unknown }).requestId ?? pending?.requestId,
      ...(pending?.expiresAtUs !== undefined ? { expiresAtUs: pending.expiresAtUs } : {}),
      ...(pending?.approvals !== undefined ? { approvals: pending.approvals } : {}),
      ...(pending?.approvalsNeeded !== undefined ? { approvalsNeeded: pending.approvalsNeeded } : {}),
    });
  }
  if (LIMIT_CODES.has(code)) return new RpcError(RPC_CODES.LIMIT_EXCEEDED, `limit exceeded: ${code}: ${message}`, data);
  if (isInputCode(code)) return new RpcError(RPC_CODES.INVALID_PARAMS, `invalid params: ${code}: ${message}`, data);
  if (receiptId !== undefined) return new RpcError(RPC_CODES.TRANSACTION_REJECTED, `transaction rejected: ${code}: ${message}`, data);
  return new RpcError(RPC_CODES.INTERNAL_ERROR, `internal error: ${code}: ${message}`, data);
}
