/**
 * How a verified attestation is described to a person. Shared by `zcp verify`
 * and `zcp attest verify` so both say the same thing about the root (a
 * development root must never read like AWS hardware) and about what was
 * checked: exactly the checks the core ran, and not more.
 */
import { createHash } from 'node:crypto';

import { core } from '../core.ts';

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

/**
 * A root given with `--root` that is not the embedded AWS Nitro root (the
 * simulator's, or anyone else's): documents chained to it prove nothing about
 * AWS hardware, so the CLI says DEVELOPMENT and exits 0 only with
 * `--allow-dev-root`.
 */
export function isDevelopmentRoot(root: Buffer | undefined): boolean {
  return root !== undefined && !root.equals(core.awsNitroRootG1());
}

export const DEV_ROOT_NOT_ALLOWED = 'DEV_ROOT_NOT_ALLOWED';

export function devRootRefusal(path: string, root: Buffer): string {
  const sha256 = createHash('sha256').update(root).digest('hex');
  return (
    `--root ${path} (sha256 ${sha256}) is a DEVELOPMENT root, not the AWS Nitro Enclaves root: ` +
    'a document chained to it proves nothing about AWS hardware. ' +
    'Pass --allow-dev-root to verify against it anyway (local testing with the simulated NSM).'
  );
}

/** One check the core ran, as an id (JSON `checked`) and a sentence (text output). */
export interface Check {
  id: string;
  text: string;
}

export function chainCheck(devRoot: boolean, at: string): Check {
  const root = devRoot ? 'the given DEVELOPMENT root' : 'the AWS Nitro Enclaves Root-G1';
  return { id: 'certificate-chain', text: `certificate chain to ${root}, every certificate valid ${at}` };
}

export const SIGNATURE_CHECK: Check = { id: 'signature', text: 'COSE_Sign1 ES384 signature by the leaf certificate' };
export const NOT_DEBUG_CHECK: Check = { id: 'not-debug', text: 'not a debug-mode enclave (PCR0 not all zero)' };

/**
 * Shown, not compared by this command: the document's `public_key` is the attested key bundle
 * (receipt, session and import keys) and its `user_data` the configuration and policy hashes. Answers are bound
 * to them by receipts, which `verifyReceipt` (and the stamped client) checks per answer.
 */
export const UNBOUND = ['public-key', 'user-data'] as const;
export const UNBOUND_NOTE =
  'public key (attested key bundle), user data (0x03 + configuration hash + policy hash): shown, not compared here; ' +
  'compare the configuration and policy hashes with the ones you expect, and verify each answer\'s receipt (verifyReceipt)';

/** One `  label        value` line. */
export function field(label: string, value: string): string {
  return `  ${label.padEnd(12)} ${value}`;
}

export function printChecks(checked: Check[], notChecked: string[]): void {
  checked.forEach((check, i) => console.log(field(i === 0 ? 'checked' : '', check.text)));
  notChecked.forEach((text, i) => console.log(field(i === 0 ? 'not checked' : '', text)));
}

/** Prints the JSON verdict of a verified document (`--json`). */
export function printVerifiedJson(v: {
  devRoot: boolean;
  checked: Check[];
  notChecked: string[];
  atMs: number;
  result: Verified;
  /** What of UNBOUND this command did compare (e.g. `user-data` with `--config-hash` and `--policy-hash`). */
  compared?: readonly string[];
}): void {
  const out = {
    verified: true,
    devRoot: v.devRoot,
    checked: v.checked.map((c) => c.id),
    notChecked: [...v.notChecked, ...UNBOUND.filter((u) => !v.compared?.includes(u))],
    note: UNBOUND_NOTE,
    atMs: v.atMs,
    ...v.result,
    root: rootLabel(v.result),
  };
  console.log(JSON.stringify(out, null, 2));
}

/** Reports a refusal (JSON on stdout with `--json`, else one line on stderr) and returns the exit code. */
export function reportNotVerified(code: string, message: string, how: { json: boolean | undefined; devRoot: boolean; exitCode: number }): number {
  if (how.json) console.log(JSON.stringify({ verified: false, devRoot: how.devRoot, code, message }, null, 2));
  else console.error(`NOT VERIFIED${how.devRoot ? ' (DEVELOPMENT root)' : ''}: ${code}: ${message}`);
  return how.exitCode;
}
