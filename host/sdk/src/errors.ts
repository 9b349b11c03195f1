/**
 * One error type for everything the SDK refuses or is refused, so callers
 * branch on a stable `code` and never on messages. A refusal by the enclave
 * carries the receipt that proves it (already verified against the attested
 * enclave), so a caller can keep or show it; a failure of the client's own
 * checks (evidence, receipt mismatch, bad input) carries no receipt.
 */
import type { ApprovalPending, Receipted } from './types.ts';

export class SentinelClientError extends Error {
  readonly code: string;
  /** The HTTP status of the answer, when one came over HTTP. */
  readonly status?: number;
  /** The refusal's receipt id (`0x` + 32 hex), when the enclave signed one. */
  readonly receiptId?: string;
  /** The refusal's receipt, verified: `{ receipt, receiptId, verified }`. */
  readonly receipt?: Receipted;
  /**
   * `APPROVAL_PENDING` only (not a refusal: the request is held for human approval): the held request, its
   * receipt verified. Its `requestId` is what `client.approvalResult` and `client.waitForApproval` take.
   */
  readonly pending?: ApprovalPending;
  /** `APPROVAL_PENDING` only: the held request's id (`pending.requestId`). */
  readonly requestId?: string;

  constructor(code: string, message: string, details: { status?: number; receipt?: Receipted; pending?: ApprovalPending; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SentinelClientError';
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.receipt !== undefined) {
      this.receipt = details.receipt;
      this.receiptId = details.receipt.receiptId;
    }
    if (details.pending !== undefined) {
      this.pending = details.pending;
      this.requestId = details.pending.requestId;
    }
  }
}
