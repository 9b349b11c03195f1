/**
 * The host's own error type: every failure the host reports carries a stable
 * `code` (like the core's errors), so the API and the CLI map codes, never
 * messages, and enclave error codes pass through unchanged.
 */
export class SentinelError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SentinelError';
    this.code = code;
  }
}
