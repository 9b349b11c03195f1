/**
 * Hex at the HTTP boundary: JSON-schema patterns that let fastify reject bad
 * input before it reaches the enclave, and the conversions on either side.
 * Inputs may carry a `0x` prefix; outputs always do (the contract's JSON rule,
 * and what every Ethereum tool expects).
 */
import { Type, type TString } from '@sinclair/typebox';

const HEX_PATTERN = /^\^\(0x\)\?\(\[0-9a-fA-F\]\{2\}\)\{(\d+),(\d+)\}\$$/;

/**
 * `bytes` is the exact length, or `[min, max]` in bytes. A TypeBox schema, so
 * the route's TypeScript type (`string`) follows from it.
 */
export function hexSchema(bytes: number | [number, number], description?: string): TString {
  const [min, max] = typeof bytes === 'number' ? [bytes, bytes] : bytes;
  const size = min === max ? `${min} bytes` : `${min} to ${max} bytes`;
  return Type.String({
    pattern: `^(0x)?([0-9a-fA-F]{2}){${min},${max}}$`,
    description: `${description ? `${description}: ` : ''}hex, 0x-prefixed (prefix optional on input), ${size}`,
  });
}

/** A 0x-hex output field (no pattern check on the way out: the API built it). */
export function hexOut(description: string): TString {
  return Type.String({ description: `${description}: 0x-prefixed lowercase hex`, pattern: '^0x([0-9a-f]{2})*$' });
}

/** "must be hex ... of N to M bytes" for a hexSchema pattern, else undefined (validation messages). */
export function describeHexPattern(pattern: string): string | undefined {
  const m = HEX_PATTERN.exec(pattern);
  if (!m) return undefined;
  const size = m[1] === m[2] ? `${m[1]} bytes` : `${m[1]} to ${m[2]} bytes`;
  return `must be hex (0x prefix optional, an even number of digits) of ${size}`;
}

export function fromHex(hex: string): Buffer {
  return Buffer.from(hex.startsWith('0x') ? hex.slice(2) : hex, 'hex');
}

/** `0x`-prefixed lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}
