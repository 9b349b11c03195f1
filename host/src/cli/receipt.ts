/**
 * `zcp receipt verify FILE`: checking a receipt after the fact, by anyone,
 * without credentials and without trusting the host that delivered it.
 *
 * A receipt names the boot attestation document it is bound to (by hash).
 * That document comes from `--attestation FILE` (offline), or is fetched
 * from the stack's `GET /v1/evidence`; either way the core's `verifyReceipt`
 * checks it (chain to the trusted root, PCR0), that the receipt names exactly
 * it, and the receipt's signature by the key it attests. The API only
 * delivers bytes: a document it sends that is not the one the receipt names
 * is refused, never trusted. The expected configuration and policy hashes
 * are compared only when given with `--config-hash` / `--policy-hash` (a
 * receipt made under an earlier configuration or policy is still a valid
 * receipt of that one; the receipt must always name the configuration and
 * policy its document attests); the claims, including both hashes, each
 * policy rule's result, the kill-switch state and scope the request was
 * decided under and the approvers who released it, are printed either way.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import type { Command } from 'commander';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { parseAt } from './attest-verify.ts';
import { field } from './attestation-output.ts';
import { codeOf, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, parseHex, UsageError } from './connect.ts';
import { decodeDocument, readRoot } from './files.ts';
import { loadStack, type StackInfo } from './stack.ts';

export interface ReceiptVerifyOptions {
  attestation?: string;
  dataDir?: string;
  url?: string;
  pcr0?: string;
  configHash?: string;
  policyHash?: string;
  root?: string;
  allowDevRoot?: boolean;
  ca?: string;
  at?: string;
  json?: boolean;
}

type VerifiedReceipt = ReturnType<typeof core.verifyReceipt>;

function readFile(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError('FILE_UNREADABLE', `${option}cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function isCose(bytes: Uint8Array): boolean {
  return bytes[0] === 0xd2 || bytes[0] === 0x84;
}

function hexBytes(text: string): Buffer | undefined {
  const digits = text.trim().replace(/^0x/i, '');
  if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(digits)) return undefined;
  return Buffer.from(digits, 'hex');
}

/**
 * A receipt file: the JSON `--receipt-out` writes (`{ receiptId, receipt }`,
 * also an API answer or refusal body), the receipt as hex text, or the raw
 * COSE_Sign1 bytes. Anything else is RECEIPT_MALFORMED.
 */
export function parseReceiptFile(bytes: Buffer, path: string): { receipt: Buffer; receiptId?: string } {
  if (isCose(bytes)) return { receipt: bytes };
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('{')) {
    let parsed: { receipt?: unknown; receiptId?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (e) {
      throw new SentinelError('RECEIPT_MALFORMED', `${path}: not JSON (${(e as Error).message})`);
    }
    const receipt = typeof parsed.receipt === 'string' ? hexBytes(parsed.receipt) : undefined;
    if (receipt === undefined) throw new SentinelError('RECEIPT_MALFORMED', `${path}: \`receipt\` must be the receipt as 0x-hex`);
    if (parsed.receiptId !== undefined && typeof parsed.receiptId !== 'string') {
      throw new SentinelError('RECEIPT_MALFORMED', `${path}: \`receiptId\` must be a string`);
    }
    return { receipt, receiptId: parsed.receiptId };
  }
  const receipt = hexBytes(text);
  if (receipt === undefined) throw new SentinelError('RECEIPT_MALFORMED', `${path}: neither receipt JSON, hex, nor a COSE_Sign1`);
  return { receipt };
}

/**
 * An attestation document file: raw CBOR, base64 or 0x-hex text, or JSON
 * holding it as `attestation` or `document` (what `GET /v1/evidence`,
 * `/v1/attestation/boot` and `/v1/attestation` answer).
 */
export function parseAttestationFile(bytes: Buffer, path: string): Buffer {
  if (isCose(bytes)) return bytes;
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('{')) {
    let parsed: { attestation?: unknown; document?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (e) {
      throw new UsageError('INVALID_ARGUMENT', `--attestation ${path}: not JSON (${(e as Error).message})`);
    }
    const value = parsed.attestation ?? parsed.document;
    const doc = typeof value === 'string' ? hexBytes(value) : undefined;
    if (doc === undefined) throw new UsageError('INVALID_ARGUMENT', `--attestation ${path}: no \`attestation\` or \`document\` as 0x-hex`);
    return doc;
  }
  if (/^0x/i.test(text)) {
    const doc = hexBytes(text);
    if (doc !== undefined) return doc;
  }
  return decodeDocument(bytes);
}

/** GET a JSON document over HTTP(S), trusting `ca` (PEM) when given. */
function getJson(url: URL, ca: string | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const options = url.protocol === 'https:' && ca !== undefined ? { ca } : {};
    const req = request(url, { method: 'GET', timeout: 15_000, headers: { accept: 'application/json' }, ...options }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 1 << 20) {
          req.destroy(new Error('answer larger than 1 MiB'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 15 s')));
    req.on('error', (e) => reject(new SentinelError('API_UNREACHABLE', `${url.origin}: ${e.message}`, { cause: e })));
    req.end();
  });
}

/** The stack's current boot document; RECEIPT_ATTESTATION_UNAVAILABLE when it is not the one the receipt names. */
async function fetchAttestation(base: string, ca: string | undefined, wantedHash: string): Promise<Buffer> {
  const url = new URL('/v1/evidence', base);
  const { status, body } = await getJson(url, ca);
  const b = body as { attestation?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  if (status !== 200 || typeof b?.attestation !== 'string') {
    const code = typeof b?.error?.code === 'string' ? b.error.code : 'API_ERROR';
    const message = typeof b?.error?.message === 'string' ? b.error.message : `GET ${url.href}: HTTP ${status}`;
    throw new SentinelError(code, message);
  }
  const doc = hexBytes(b.attestation);
  if (doc === undefined) throw new SentinelError('API_ERROR', `GET ${url.href}: \`attestation\` is not hex`);
  // The API's own `attestationHash` is not used: the hash is computed from the bytes.
  const hash = `0x${createHash('sha256').update(doc).digest('hex')}`;
  if (hash !== wantedHash.toLowerCase()) {
    throw new SentinelError(
      'RECEIPT_ATTESTATION_UNAVAILABLE',
      `the receipt names attestation document ${wantedHash}, the stack's current one is ${hash} ` +
        '(the enclave refreshes it hourly and on a configuration update): pass --attestation FILE with the document the receipt names',
    );
  }
  return doc;
}

interface Prepared {
  receipt: Buffer;
  receiptId?: string;
  attestation?: Buffer;
  url?: string;
  ca?: string;
  pcr0: Buffer;
  configHash?: Buffer;
  policyHash?: Buffer;
  root: Buffer;
  rootLabel: string;
  atMs?: number;
}

function prepare(file: string, opts: ReceiptVerifyOptions): Prepared {
  const parsedReceipt = parseReceiptFile(readFile(file, ''), file);
  const attestation = opts.attestation === undefined ? undefined : parseAttestationFile(readFile(opts.attestation, '--attestation: '), opts.attestation);
  // The stack file fills what is not given explicitly (as for every client command).
  const needStack = opts.dataDir !== undefined || opts.pcr0 === undefined || (attestation === undefined && opts.url === undefined);
  const stack: StackInfo | undefined = needStack ? loadStack(opts.dataDir ?? '.sentinel') : undefined;

  const pcr0Text = opts.pcr0 ?? stack?.pcr0;
  if (pcr0Text === undefined) throw new UsageError('INVALID_ARGUMENT', '--pcr0 is required (or --data-dir of a local stack)');
  const pcr0 = parseHex('--pcr0', pcr0Text, 48);
  const configHash = opts.configHash === undefined ? undefined : parseHex('--config-hash', opts.configHash, 32);
  const policyHash = opts.policyHash === undefined ? undefined : parseHex('--policy-hash', opts.policyHash, 32);

  const rootPath = opts.root ?? stack?.devRootPath ?? undefined;
  const root = rootPath === undefined ? core.awsNitroRootG1() : readRoot(rootPath);
  const aws = root.equals(core.awsNitroRootG1());
  if (!aws && opts.root !== undefined && !opts.allowDevRoot) {
    throw new UsageError('INVALID_ARGUMENT', `--root ${opts.root} is not the AWS Nitro root: pass --allow-dev-root to trust it (local testing only)`);
  }
  const rootLabel = aws
    ? 'AWS Nitro Enclaves Root-G1'
    : `DEVELOPMENT root (sha256 ${createHash('sha256').update(root).digest('hex')}) — not AWS hardware`;

  const url = attestation === undefined ? (opts.url ?? stack?.url) : undefined;
  const caPath = opts.ca ?? stack?.caPath ?? undefined;
  const ca = url !== undefined && caPath !== undefined ? readFile(caPath, '--ca: ').toString('utf8') : undefined;
  const atMs = opts.at === undefined ? undefined : parseAt(opts.at);
  return { ...parsedReceipt, attestation, url, ca, pcr0, configHash, policyHash, root, rootLabel, atMs };
}

function report(opts: ReceiptVerifyOptions, code: string, message: string, exitCode: number): number {
  console.error(`error ${code}: ${message}`);
  if (opts.json) console.log(JSON.stringify({ verified: false, error: { code, message } }, null, 2));
  return exitCode;
}

/** `zcp receipt verify FILE`. */
export async function runReceiptVerify(file: string, opts: ReceiptVerifyOptions): Promise<number> {
  let p: Prepared;
  try {
    p = prepare(file, opts);
  } catch (e) {
    // Unreadable or unparseable receipt contents are a receipt that does not verify (exit 1);
    // everything else here is about the command line and its files (exit 2).
    const code = codeOf(e);
    return report(opts, code, (e as Error).message, code === 'RECEIPT_MALFORMED' ? EXIT_REFUSED : EXIT_USAGE);
  }
  let verified: VerifiedReceipt;
  let source: string;
  try {
    let document = p.attestation;
    source = `--attestation ${opts.attestation}`;
    if (document === undefined) {
      // Only to learn which document to fetch; verifyReceipt below checks everything.
      const named = core.unsafeDecodeReceiptClaims(p.receipt).attestationHash;
      document = await fetchAttestation(p.url!, p.ca, named);
      source = `${new URL('/v1/evidence', p.url!).href} (its hash is the one the receipt names)`;
    }
    verified = core.verifyReceipt(p.receipt, document, {
      root: p.root,
      expectedPcr0: p.pcr0,
      ...(p.configHash !== undefined ? { expectedConfigHash: p.configHash } : {}),
      ...(p.policyHash !== undefined ? { expectedPolicyHash: p.policyHash } : {}),
      ...(p.atMs !== undefined ? { now: p.atMs } : {}),
    });
    if (p.receiptId !== undefined && p.receiptId.toLowerCase() !== verified.claims.requestId) {
      throw new SentinelError(
        'RECEIPT_ID_MISMATCH',
        `the file says receiptId ${p.receiptId}, the signed receipt's request id is ${verified.claims.requestId}`,
      );
    }
  } catch (e) {
    return report(opts, codeOf(e), (e as Error).message, EXIT_REFUSED);
  }

  const c = verified.claims;
  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          verified: true,
          receiptId: c.requestId,
          claims: c,
          pcr0: verified.pcr0,
          rootKind: verified.rootKind,
          root: p.rootLabel,
          attestedKeys: verified.attestedKeys,
          attestationSource: source,
          configHashCompared: p.configHash !== undefined,
          policyHashCompared: p.policyHash !== undefined,
        },
        null,
        2,
      ),
    );
    return EXIT_OK;
  }
  const dev = verified.rootKind === 'aws-nitro' ? '' : ' (DEVELOPMENT root)';
  console.log(`receipt ${c.requestId} verified${dev}`);
  console.log(field('decision', c.decision === 'denied' ? `denied (${c.code ?? 'no code'})` : 'allowed'));
  console.log(field('op', c.op));
  console.log(field('principal', c.principal));
  if (c.keyId) console.log(field('key id', c.keyId));
  // Only in the receipt of an answer that created a key (docs/receipts.md, `key_storage`).
  if (c.keyStorage) console.log(field('key storage', keyStorageLine(c.keyStorage)));
  console.log(field('time', `${new Date(Math.floor(c.timestampUs / 1000)).toISOString()} (${c.timestampUs} µs)`));
  console.log(field('payload', `${c.payloadHash} (sha256 of the request body)`));
  console.log(field('result', c.resultHash === null || c.resultHash === undefined ? 'none' : `${c.resultHash} (sha256 of the result)`));
  console.log(field('config', `${c.configHash}${p.configHash !== undefined ? ' (= --config-hash)' : ' (not compared: pass --config-hash)'}`));
  const policy = c.policyHash === null ? 'none installed' : c.policyHash;
  console.log(field('policy', `${policy}${p.policyHash !== undefined ? ' (= --policy-hash)' : ' (= the document\'s; not pinned: pass --policy-hash)'}`));
  if (c.rulesEvaluated.length === 0) console.log(field('rules', 'none'));
  c.rulesEvaluated.forEach((r, i) => console.log(field(i === 0 ? 'rules' : '', ruleLine(r))));
  console.log(field('oversight', oversightLine(c)));
  console.log(field('approvals', c.approvals.length === 0 ? 'none' : c.approvals.join(', ')));
  console.log(field('attestation', `${c.attestationHash} from ${source}`));
  console.log(field('enclave', `PCR0 ${verified.pcr0} (= expected)`));
  console.log(field('root', p.rootLabel));
  return EXIT_OK;
}

/** One `rules_evaluated` entry on one line: `id (type): result value/limit per window; detail`. */
export function ruleLine(r: VerifiedReceipt['claims']['rulesEvaluated'][number]): string {
  const numbers = r.value !== null || r.limit !== null ? ` ${r.value ?? '-'}/${r.limit ?? '-'}` : '';
  const window = r.window !== null ? ` per ${r.window}` : '';
  const detail = r.detail !== null ? `; ${r.detail}` : '';
  return `${r.rule} (${r.type}): ${r.result}${numbers}${window}${detail}`;
}

const KEY_STORAGE_MEANING: Record<string, string> = {
  'sealed:aws-kms': 'sealed under the AWS KMS master key: survives restarts',
  'sealed:development': 'DEVELOPMENT: sealed under a development master key kept on the host; survives restarts, not for real funds',
  ephemeral: 'EPHEMERAL: enclave memory only, lost when the enclave restarts',
};

/** The `key_storage` claim on one line: `ephemeral (EPHEMERAL: enclave memory only, ...)`. */
export function keyStorageLine(storage: string): string {
  const meaning = KEY_STORAGE_MEANING[storage];
  return `${storage}${meaning === undefined ? '' : ` (${meaning})`}`;
}

const OVERSIGHT_MEANING: Record<string, string> = {
  green: 'normal',
  yellow: 'held for human approval',
  red: 'halted',
};

/** The kill-switch claims on one line: `yellow at key:k1 (held for human approval)`. */
export function oversightLine(c: Pick<VerifiedReceipt['claims'], 'oversightState' | 'oversightScope'>): string {
  const meaning = OVERSIGHT_MEANING[c.oversightState];
  return `${c.oversightState} at ${c.oversightScope}${meaning === undefined ? '' : ` (${meaning})`}`;
}

/** Registers `zcp receipt verify`. `set` receives the exit code. */
export function registerReceipt(program: Command, set: (code: number) => void): void {
  program
    .command('receipt')
    .description('receipts: the enclave\'s signed statements of its decisions')
    .command('verify')
    .description('verify a receipt against the attestation document it names (offline with --attestation, else fetched from the stack)')
    .argument('<file>', 'the receipt: JSON { receiptId, receipt } (--receipt-out), 0x-hex, or raw COSE_Sign1')
    .option('--attestation <file>', 'the boot attestation document the receipt names: raw CBOR, base64, 0x-hex, or JSON with `attestation` (GET /v1/evidence)')
    .option('--data-dir <dir>', 'data directory of a local stack: reads DIR/stack.json (default: .sentinel)')
    .option('--url <url>', 'API to fetch the attestation document from (GET /v1/evidence)')
    .option('--pcr0 <hex>', 'expected PCR0 (96 hex digits)')
    .option('--config-hash <hex>', 'expected configuration hash (not compared unless given)')
    .option('--policy-hash <hex>', 'expected policy hash (not compared unless given; the document must attest it)')
    .option('--root <file>', 'trusted root certificate, PEM or DER (default: AWS Nitro Enclaves Root-G1, or the stack\'s development root)')
    .option('--allow-dev-root', 'accept a --root other than the AWS Nitro root (local testing: the simulated NSM)')
    .option('--ca <file>', 'PEM certificate to trust for the API\'s TLS (default: the stack\'s)')
    .option('--at <time>', 'judge the certificate chain at this time, RFC 3339 or unix seconds (default: now)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: ReceiptVerifyOptions) => set(await runReceiptVerify(file, opts)));
}
