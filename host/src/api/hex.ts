/**
 * Hex at the HTTP boundary: JSON-schema patterns that let fastify reject bad
 * input before it reaches the enclave, and the conversions on either side.
 * Inputs may carry a `0x` prefix; outputs are bare lowercase hex.
 */
import { Type, type TString } from '@sinclair/typebox';

/**
 * `bytes` is the exact length, or `[min, max]` in bytes. A TypeBox schema, so
 * the route's TypeScript type (`string`) follows from it.
 */
export function hexSchema(bytes: number | [number, number]): TString {
  const [min, max] = typeof bytes === 'number' ? [bytes, bytes] : bytes;
  return Type.String({ pattern: `^(0x)?([0-9a-fA-F]{2}){${min},${max}}$` });
}

export function fromHex(hex: string): Buffer {
  return Buffer.from(hex.startsWith('0x') ? hex.slice(2) : hex, 'hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
