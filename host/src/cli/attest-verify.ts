/**
 * `zcp attest verify`: check a saved attestation document offline.
 *
 * The verifier never reads a clock, so `--at` replays a document at the time
 * it was issued (saved AWS documents have long-expired certificates).
 */
import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { errorCode, rootLabel, timestampLabel } from './attestation-output.ts';
import { readDocument, readRoot } from './files.ts';

export interface AttestVerifyOptions {
  doc: string;
  root?: string;
  at?: string;
  pcr: string[];
  nonce?: string;
  allowDebug?: boolean;
  json?: boolean;
}

/** Unix seconds, or an RFC 3339 date-time. */
export function parseAt(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new SentinelError('INVALID_ARGUMENT', `--at ${value}: expected RFC 3339 or unix seconds`);
  return ms;
}

export function parsePcrs(values: string[]): Record<string, string> {
  const pcrs: Record<string, string> = {};
  for (const value of values) {
    const match = /^(\d{1,2})=(?:0x)?([0-9a-fA-F]+)$/.exec(value);
    if (!match) throw new SentinelError('INVALID_ARGUMENT', `--pcr ${value}: expected N=HEX`);
    pcrs[match[1]!] = match[2]!.toLowerCase();
  }
  return pcrs;
}

export function runAttestVerify(opts: AttestVerifyOptions): number {
  let document: Buffer;
  let root: Buffer | undefined;
  let atMs: number;
  let pcrs: Record<string, string>;
  try {
    document = readDocument(opts.doc);
    root = opts.root === undefined ? undefined : readRoot(opts.root);
    atMs = opts.at === undefined ? Date.now() : parseAt(opts.at);
    pcrs = parsePcrs(opts.pcr);
  } catch (e) {
    return fail(errorCode(e), (e as Error).message, opts.json, 2);
  }
  const nonce = opts.nonce?.replace(/^0x/, '').toLowerCase();
  const expect = {
    ...(Object.keys(pcrs).length > 0 ? { pcrs } : {}),
    ...(nonce !== undefined ? { nonce } : {}),
  };

  let result: ReturnType<typeof core.verifyAttestation>;
  try {
    // The core refuses an empty expectation object (EMPTY_EXPECTATION), so it is passed only when set.
    const checks = Object.keys(expect).length > 0 ? { expect } : {};
    result = core.verifyAttestation(document, { root, atMs, allowDebug: Boolean(opts.allowDebug), ...checks });
  } catch (e) {
    return fail(errorCode(e), (e as Error).message, opts.json, 1);
  }

  if (opts.json) {
    console.log(JSON.stringify({ verified: true, atMs, ...result, root: rootLabel(result) }, null, 2));
    return 0;
  }
  const zero = /^0+$/;
  const checked = [...Object.keys(pcrs).map((n) => `PCR${n}`), ...(nonce !== undefined ? ['nonce'] : [])];
  console.log(`VERIFIED attestation document ${opts.doc}`);
  console.log(`  module id    ${result.moduleId}`);
  console.log(`  timestamp    ${timestampLabel(result.timestampMs)}`);
  console.log(`  checked at   ${timestampLabel(atMs)}`);
  console.log(`  digest       ${result.digest}`);
  console.log(`  root: ${rootLabel(result)}`);
  const zeroPcrs: string[] = [];
  for (const [index, value] of Object.entries(result.pcrs)) {
    if (zero.test(value)) zeroPcrs.push(index);
    else console.log(`  PCR${index.padEnd(9)}${value}`);
  }
  if (zeroPcrs.length > 0) console.log(`  zero PCRs    ${zeroPcrs.join(', ')}`);
  console.log(`  public key   ${result.publicKey ?? '(none)'}`);
  console.log(`  user data    ${result.userData ?? '(none)'}`);
  console.log(`  nonce        ${result.nonce ?? '(none)'}`);
  console.log(`  expected     ${checked.length > 0 ? checked.join(', ') : 'nothing beyond the signature chain (no --pcr / --nonce)'}`);
  return 0;
}

function fail(code: string, message: string, json: boolean | undefined, exitCode: number): number {
  if (json) console.log(JSON.stringify({ verified: false, code, message }, null, 2));
  else console.error(`NOT VERIFIED: ${code}: ${message}`);
  return exitCode;
}
