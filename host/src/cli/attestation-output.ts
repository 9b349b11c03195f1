/**
 * How a verified attestation is described to a person. Shared by `zcp verify`
 * and `zcp attest verify` so both say the same thing about the root: a
 * development root must never read like AWS hardware.
 */
import type { core } from '../core.ts';

export type Verified = ReturnType<typeof core.verifyAttestation>;

export function rootLabel(result: Verified): string {
  return result.rootKind === 'aws-nitro'
    ? 'AWS Nitro Enclaves Root-G1'
    : `DEVELOPMENT root (sha256 ${result.rootFingerprint}) — not AWS hardware`;
}

export function timestampLabel(ms: number): string {
  return `${new Date(ms).toISOString()} (${ms} ms)`;
}

/** Codes meaning "this document does not chain to the root you gave". */
export const CHAIN_CODES = new Set([
  'ROOT_MISMATCH',
  'CHAIN_NAME_MISMATCH',
  'CERTIFICATE_SIGNATURE_INVALID',
  'INVALID_CERTIFICATE',
]);

export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}
