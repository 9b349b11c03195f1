/**
 * `zcp verify`: what a client does before trusting a Sentinel deployment.
 *
 * It asks the API for an attestation document bound to a fresh random nonce
 * and verifies it locally against a root it trusts (AWS's, embedded, unless
 * told otherwise) and the PCR0 it expects. The API is untrusted: nothing it
 * says besides the signed document is used.
 */
import { randomBytes } from 'node:crypto';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { CHAIN_CODES, errorCode, rootLabel, timestampLabel } from './attestation-output.ts';
import { readRoot } from './files.ts';

export interface VerifyOptions {
  pcr0: string;
  url: string;
  root?: string;
  maxAgeSec: string;
  json?: boolean;
}

async function fetchDocument(url: string, nonceHex: string): Promise<Buffer> {
  const endpoint = new URL('/v1/attestation', url);
  endpoint.searchParams.set('nonce', nonceHex);
  let response: Response;
  try {
    response = await fetch(endpoint, { signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new SentinelError('API_UNREACHABLE', `${endpoint.origin}: ${(e as Error).message}`, { cause: e });
  }
  const body = (await response.json().catch(() => null)) as
    | { document?: unknown; error?: { code?: unknown; message?: unknown } }
    | null;
  if (!response.ok || typeof body?.document !== 'string') {
    const code = typeof body?.error?.code === 'string' ? body.error.code : 'API_ERROR';
    const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status}`;
    throw new SentinelError(code, message);
  }
  return Buffer.from(body.document, 'base64');
}

export async function runVerify(opts: VerifyOptions): Promise<number> {
  const pcr0 = opts.pcr0.replace(/^0x/, '').toLowerCase();
  const maxAgeSec = Number(opts.maxAgeSec);
  if (!/^[0-9a-f]{96}$/.test(pcr0)) return usage('--pcr0 must be 48 bytes of hex (SHA-384)', opts.json);
  if (!Number.isInteger(maxAgeSec) || maxAgeSec <= 0) return usage('--max-age-sec must be a positive integer', opts.json);

  const nonce = randomBytes(32).toString('hex');
  let document: Buffer;
  let root: Buffer | undefined;
  try {
    root = opts.root === undefined ? undefined : readRoot(opts.root);
    document = await fetchDocument(opts.url, nonce);
  } catch (e) {
    return report(false, errorCode(e), (e as Error).message, opts.json, 2);
  }

  try {
    const result = core.verifyAttestation(document, {
      root,
      atMs: Date.now(),
      expect: { pcrs: { '0': pcr0 }, nonce, maxAgeMs: maxAgeSec * 1000 },
    });
    if (opts.json) {
      console.log(JSON.stringify({ verified: true, ...result, root: rootLabel(result) }, null, 2));
    } else {
      console.log(`VERIFIED: ${opts.url} is served by an enclave with the expected PCR0`);
      console.log(`  module id   ${result.moduleId}`);
      console.log(`  PCR0        ${result.pcrs['0']}`);
      console.log(`  timestamp   ${timestampLabel(result.timestampMs)}`);
      console.log(`  nonce       ${result.nonce} (fresh, ours)`);
      console.log(`  root: ${rootLabel(result)}`);
    }
    return 0;
  } catch (e) {
    const code = errorCode(e);
    let message = (e as Error).message;
    if (opts.root === undefined && CHAIN_CODES.has(code)) {
      message +=
        '\n  hint: the document does not chain to the AWS Nitro root. A local `zcp up` stack uses a simulated NSM;' +
        ' verify it with --root <data-dir>/nsm-dev-ca-v1/root.der (its DEVELOPMENT root).';
    }
    return report(false, code, message, opts.json, 1);
  }
}

function usage(message: string, json?: boolean): number {
  return report(false, 'INVALID_ARGUMENT', message, json, 2);
}

function report(verified: false, code: string, message: string, json: boolean | undefined, exitCode: number): number {
  if (json) console.log(JSON.stringify({ verified, code, message }, null, 2));
  else console.error(`NOT VERIFIED: ${code}: ${message}`);
  return exitCode;
}
