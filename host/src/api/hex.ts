/**
 * Hex at the HTTP boundary: JSON-schema patterns that let fastify reject bad
 * input before it reaches the enclave, and the conversions on either side.
 * Inputs may carry a `0x` prefix; outputs are bare lowercase hex.
 */

/** `bytes` is the exact length, or `[min, max]` in bytes. */
export function hexSchema(bytes: number | [number, number]): { type: 'string'; pattern: string } {
  const [min, max] = typeof bytes === 'number' ? [bytes, bytes] : bytes;
  return { type: 'string', pattern: `^(0x)?([0-9a-fA-F]{2}){${min},${max}}$` };
}

export function fromHex(hex: string): Buffer {
  return Buffer.from(hex.startsWith('0x') ? hex.slice(2) : hex, 'hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
