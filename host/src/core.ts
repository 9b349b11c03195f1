/**
 * The Rust core as the host sees it: the N-API addon, loaded once.
 *
 * The host never re-implements signing, encoding or verification; it calls
 * this module. Errors thrown by the core carry a stable `code`.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type Core = typeof import('@sentinel/node');
export const core: Core = require('@sentinel/node');

export interface CoreError extends Error {
  code: string;
}

export function isCoreError(e: unknown): e is CoreError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}
