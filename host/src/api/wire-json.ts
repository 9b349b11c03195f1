/**
 * Enclave answers as JSON: the decoded CBOR with its own field names, bytes as
 * `0x`-prefixed lowercase hex (the contract's JSON rule), 64-bit integers as
 * numbers when exact, else as decimal strings. Nothing is renamed or dropped:
 * what the client reads is what the enclave said (and what its receipt binds).
 */
import { toHex } from './hex.ts';

export type WireJson = null | boolean | number | string | WireJson[] | { [key: string]: WireJson };

export function toWireJson(value: unknown): WireJson {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= 0n ? Number(value) : value.toString();
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(toWireJson);
  if (typeof value === 'object') {
    const out: { [key: string]: WireJson } = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toWireJson(v);
    return out;
  }
  throw new TypeError(`cannot represent a ${typeof value} as JSON`);
}
