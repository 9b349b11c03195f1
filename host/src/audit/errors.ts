/**
 * The audit store's one error type. Codes are stable (the API maps them to HTTP
 * statuses in `host/src/api/errors.ts`); messages name the file, offset, sequence
 * number or errno involved and may change. It extends the host's `SentinelError`
 * so every existing code-based mapping applies unchanged.
 */
import { SentinelError } from '../errors.ts';

export type AuditStoreErrorCode =
  /** A write, fdatasync, truncate, rename or open failed (ENOSPC, EIO, EACCES, EROFS...): nothing is acknowledged. */
  | 'AUDIT_STORAGE_UNAVAILABLE'
  /** `append(seq)` with seq above the store's size: a record in between is missing. */
  | 'AUDIT_SEQUENCE_GAP'
  /** `append(seq)` below the size with other bytes than stored, or a checkpoint size stored with other bytes. */
  | 'AUDIT_SEQUENCE_CONFLICT'
  /** A stored segment fails verification in a way a torn tail cannot explain (history would be lost). */
  | 'AUDIT_SEGMENT_CORRUPT'
  /** A record over 32 KiB. */
  | 'AUDIT_RECORD_TOO_LARGE'
  /** The store was closed. */
  | 'AUDIT_STORE_CLOSED'
  /** An argument of the wrong shape: a sequence number or size not a non-negative safe integer, an empty record, bad options. */
  | 'AUDIT_ARGUMENT_INVALID';

export class AuditStoreError extends SentinelError {
  declare readonly code: AuditStoreErrorCode;

  constructor(code: AuditStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'AuditStoreError';
  }
}

/** `AUDIT_STORAGE_UNAVAILABLE` for a failed system call, naming the call, the path and the errno. */
export function storageError(op: string, path: string, cause: unknown): AuditStoreError {
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return new AuditStoreError('AUDIT_STORAGE_UNAVAILABLE', `audit storage: ${op} of ${path} failed (${errno})`, { cause });
}
