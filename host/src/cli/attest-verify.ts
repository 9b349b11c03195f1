/**
 * `zcp attest verify`: check a saved attestation document offline.
 *
 * The verifier never reads a clock, so `--at` replays a document at the time
 * it was issued (saved AWS documents have long-expired certificates).
 *
 * Like `zcp verify`, it lists what it checked and what it did not, and a root
 * other than AWS's is a DEVELOPMENT root: said in the first line, and
 * accepted (exit 0) only with --allow-dev-root.
 */
import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import {
  chainCheck,
  DEV_ROOT_NOT_ALLOWED,
  devRootRefusal,
  errorCode,
  field,
  isDevelopmentRoot,
  NOT_DEBUG_CHECK,
  printChecks,
  printVerifiedJson,
  reportNotVerified,
  rootLabel,
  SIGNATURE_CHECK,
  timestampLabel,
  UNBOUND_NOTE,
  type Check,
} from './attestation-output.ts';
import { readDocument, readRoot } from './files.ts';

export interface AttestVerifyOptions {
  doc: string;
  root?: string;
  at?: string;
  pcr: string[];
  nonce?: string;
  allowDebug?: boolean;
  allowDevRoot?: boolean;
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
  let devRoot = false;
  try {
    root = opts.root === undefined ? undefined : readRoot(opts.root);
    devRoot = isDevelopmentRoot(root);
    document = readDocument(opts.doc);
    atMs = opts.at === undefined ? Date.now() : parseAt(opts.at);
    pcrs = parsePcrs(opts.pcr);
  } catch (e) {
    return reportNotVerified(errorCode(e), (e as Error).message, { json: opts.json, devRoot, exitCode: 2 });
  }
  if (devRoot && !opts.allowDevRoot) return reportNotVerified(DEV_ROOT_NOT_ALLOWED, devRootRefusal(opts.root!, root!), { json: opts.json, devRoot, exitCode: 1 });
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
    return reportNotVerified(errorCode(e), (e as Error).message, { json: opts.json, devRoot, exitCode: 1 });
  }

  // Exactly what core.verifyAttestation enforced with the options above, and what it did not.
  const checked: Check[] = [
    chainCheck(devRoot, opts.at === undefined ? 'now' : `at ${timestampLabel(atMs)} (--at)`),
    SIGNATURE_CHECK,
    ...Object.keys(pcrs).map((n) => ({ id: `pcr${n}`, text: `PCR${n} equals --pcr ${n}=…` })),
    ...(nonce !== undefined ? [{ id: 'nonce', text: 'nonce equals --nonce' }] : []),
    ...(opts.allowDebug ? [] : [NOT_DEBUG_CHECK]),
  ];
  const notChecked: Check[] = [
    ...(Object.keys(pcrs).length === 0 ? [{ id: 'pcrs', text: 'PCRs (no --pcr): any enclave image passes' }] : []),
    ...(nonce === undefined ? [{ id: 'nonce', text: 'nonce (no --nonce): the document may be a replay' }] : []),
    { id: 'freshness', text: 'freshness: the document may be of any age' },
    ...(opts.allowDebug ? [{ id: 'not-debug', text: 'debug mode (--allow-debug): a debug-mode enclave passes' }] : []),
  ];

  if (opts.json) {
    printVerifiedJson({ devRoot, checked, notChecked: notChecked.map((c) => c.id), atMs, result });
    return 0;
  }
  const zero = /^0+$/;
  console.log(
    devRoot
      ? `VERIFIED against a DEVELOPMENT root, not AWS hardware: attestation document ${opts.doc}`
      : `VERIFIED attestation document ${opts.doc}`,
  );
  printChecks(checked, [...notChecked.map((c) => c.text), UNBOUND_NOTE]);
  console.log(field('module id', result.moduleId));
  console.log(field('timestamp', timestampLabel(result.timestampMs)));
  console.log(field('checked at', timestampLabel(atMs)));
  console.log(field('digest', result.digest));
  console.log(`  root: ${rootLabel(result)}`);
  const zeroPcrs: string[] = [];
  for (const [index, value] of Object.entries(result.pcrs)) {
    if (zero.test(value)) zeroPcrs.push(index);
    else console.log(`  PCR${index.padEnd(9)}${value}`);
  }
  if (zeroPcrs.length > 0) console.log(field('zero PCRs', zeroPcrs.join(', ')));
  console.log(field('public key', result.publicKey ?? '(none)'));
  console.log(field('user data', result.userData ?? '(none)'));
  console.log(field('nonce', result.nonce ?? '(none)'));
  return 0;
}

