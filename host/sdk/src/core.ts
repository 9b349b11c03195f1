/**
 * The Rust core (the `@sentinel/node` N-API addon), loaded once for the SDK.
 *
 * The SDK never re-implements encoding, stamping or verification: the same
 * Rust code that the enclave runs encodes operation bodies, signs stamps and
 * checks attestation documents and receipts, so client and enclave cannot
 * disagree about bytes. Errors thrown by the core carry a stable `code`.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type Core = typeof import('@sentinel/node');
export const core: Core = require('@sentinel/node');

export function isCoreError(e: unknown): e is Error & { code: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}
