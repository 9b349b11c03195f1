/**
 * `zcp config init | sign | show`: making and inspecting the signed
 * configuration an enclave boots with (docs/configuration.md).
 *
 * - `init` creates admin credentials (mode 0600) and an unsigned document in
 *   two forms: `config.json`, the JSON editing form, and `config.unsigned.cbor`,
 *   its canonical CBOR (what admins sign and `config_hash` hashes). It never
 *   overwrites a file.
 * - `sign` adds one admin's signature and writes the signed envelope. It takes
 *   the JSON form (after editing), the CBOR document or an envelope (to add
 *   another admin's signature); by default `config.json` and
 *   `config.unsigned.cbor` become `config.cbor` (the name `zcp up` gives the
 *   signed configuration in its data directory), and an envelope is updated in place.
 * - `show` prints the document, its config hash and its signers.
 *
 * Everything about the format (encoding, hashing, signing, checking) is the
 * core's; this file reads and writes files and prints. Errors carry their
 * code (the core's `CONFIG_*`, `CREDENTIAL_INVALID`, or the CLI's `FILE_*`).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { Agent, fetch as undiciFetch } from 'undici';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { loadStack, type StackInfo } from './stack.ts';

const ALGS = ['ed25519', 'p256', 'secp256k1'] as const;
type Alg = (typeof ALGS)[number];

/**
 * Every operation a principal may be granted: the configuration crate's list (it refuses any other
 * name; `delete_key` is not in it: deleting is the owner's own right, docs/sealed-state.md).
 */
export const ALL_OPERATIONS: readonly string[] = Object.freeze(core.grantableOperations());

export interface ConfigInitOptions {
  dataDir: string;
  admins: string;
  threshold?: string;
  alg: string;
  client?: string;
  out?: string;
  json?: boolean;
}

export interface ConfigSignOptions {
  config: string;
  adminKey: string;
  out?: string;
  json?: boolean;
}

/** What `configToJson` returns (see the binding). */
interface Inspection {
  kind: 'document' | 'signed';
  config_hash: string;
  version: number;
  signers?: Array<{ admin: string; status: 'valid' | 'invalid' | 'not-an-admin'; signature: string }>;
  quorum?: { threshold: number; valid: number; met: boolean };
  config: ConfigJson;
}

interface ConfigJson {
  version: number;
  admins: { threshold: number; keys: Array<{ id: string; alg: string; public_key: string }> };
  principals: Array<{
    id: string;
    keys: Array<{ alg: string; public_key: string }>;
    operations: string[];
    keys_allowed: 'all' | 'own' | string[];
    max_keys: number;
  }>;
  stamp_window_ms: number;
  session_max_lifetime_s: number;
}

function read(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SentinelError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * `secret`: a new file only, readable by its owner alone (exact, whatever the
 * umask). `fresh`: a new file only. Otherwise the file is replaced.
 */
function write(path: string, data: string | Uint8Array, how: 'secret' | 'fresh' | 'replace'): void {
  try {
    if (how === 'secret') {
      writeFileSync(path, data, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } else {
      writeFileSync(path, data, { mode: 0o644, flag: how === 'fresh' ? 'wx' : 'w' });
    }
  } catch (e) {
    const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
    const why = exists ? 'already exists (zcp config init never overwrites a file)' : (e as Error).message;
    throw new SentinelError(exists ? 'FILE_EXISTS' : 'FILE_UNWRITABLE', `${path}: ${why}`, { cause: e });
  }
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new SentinelError('INVALID_ARGUMENT', `${name}: ${text} is not an integer in ${min}..${max}`);
  }
  return n;
}

/** The JSON editing form or canonical CBOR (document or envelope) of a file, as CBOR bytes. */
export function readConfigFile(path: string): { bytes: Buffer; fromJson: boolean } {
  const raw = read(path);
  const text = raw.toString('utf8').trimStart();
  if (text.startsWith('{')) return { bytes: core.configFromJson(text), fromJson: true };
  return { bytes: raw, fromJson: false };
}

function inspect(bytes: Uint8Array): Inspection {
  return JSON.parse(core.configToJson(bytes)) as Inspection;
}

function adminFileName(count: number, i: number): string {
  return count === 1 ? 'admin.key' : `admin-${i}.key`;
}

/** `zcp config init`. */
export function runConfigInit(opts: ConfigInitOptions): number {
  const count = integer('--admins', opts.admins, 1, 16);
  const threshold = opts.threshold === undefined ? Math.floor(count / 2) + 1 : integer('--threshold', opts.threshold, 0, 16);
  if (!(ALGS as readonly string[]).includes(opts.alg)) {
    throw new SentinelError('INVALID_ARGUMENT', `--alg: ${opts.alg} is not one of ${ALGS.join(', ')}`);
  }
  const alg = opts.alg as Alg;
  const jsonPath = opts.out ?? join(opts.dataDir, 'config.json');
  const cborPath = join(dirname(jsonPath), `${basename(jsonPath).replace(/\.json$/, '')}.unsigned.cbor`);

  // Everything is made and checked in memory first: a refused document writes no file.
  const admins = Array.from({ length: count }, (_, k) => {
    const id = `admin-${k + 1}`;
    const credential = core.generateCredential('admin', id, alg);
    return { id, credential, file: join(opts.dataDir, adminFileName(count, k + 1)) };
  });
  const client = opts.client === undefined ? undefined : core.generateCredential('client', opts.client, alg);
  const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
  const document: ConfigJson = {
    version: 1,
    admins: {
      threshold,
      keys: admins.map((a) => ({ id: a.id, alg, public_key: hex(core.credentialPublicKey(a.credential)) })),
    },
    principals:
      client === undefined
        ? []
        : [
            {
              id: opts.client!,
              keys: [{ alg, public_key: hex(core.credentialPublicKey(client)) }],
              operations: [...ALL_OPERATIONS],
              keys_allowed: 'own',
              max_keys: 1000,
            },
          ],
    stamp_window_ms: 30_000,
    session_max_lifetime_s: 3600,
  };
  const cbor = core.configFromJson(JSON.stringify(document));
  const shown = inspect(cbor);

  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  for (const a of admins) write(a.file, `${a.credential}\n`, 'secret');
  const clientPath = join(opts.dataDir, 'client.key');
  if (client !== undefined) write(clientPath, `${client}\n`, 'secret');
  write(jsonPath, `${JSON.stringify(shown.config, null, 2)}\n`, 'fresh');
  write(cborPath, cbor, 'fresh');

  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          configHash: shown.config_hash,
          version: 1,
          threshold,
          admins: admins.map((a) => ({ id: a.id, keyFile: a.file })),
          client: client !== undefined ? { id: opts.client, keyFile: clientPath } : null,
          document: jsonPath,
          canonical: cborPath,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(`configuration document (unsigned), version 1`);
  console.log(`  config_hash  ${shown.config_hash}`);
  console.log(`  admins       ${threshold} of ${count} must sign (${alg})`);
  for (const a of admins) console.log(`  admin key    ${a.file} (${a.id}; secret, mode 0600)`);
  if (client !== undefined) console.log(`  client key   ${clientPath} (${opts.client}; secret, mode 0600)`);
  console.log(`  document     ${jsonPath} (JSON, edit this)`);
  console.log(`  canonical    ${cborPath} (CBOR of the same document)`);
  console.log('next: edit the JSON if needed, then have admins sign it:');
  console.log(`  zcp config sign --config ${jsonPath} --admin-key ${admins[0]!.file}`);
  return 0;
}

/** `zcp config sign`. */
export function runConfigSign(opts: ConfigSignOptions): number {
  const { bytes, fromJson } = readConfigFile(opts.config);
  let document: Uint8Array;
  let signatures: Array<{ admin: string; signature: Buffer }> = [];
  let out: string;
  if (!fromJson && inspect(bytes).kind === 'signed') {
    const opened = core.openSignedConfig(bytes);
    document = opened.config;
    signatures = opened.signatures;
    out = opts.out ?? opts.config;
  } else {
    document = bytes;
    // config.json or config.unsigned.cbor -> config.cbor (the name `zcp up` reads in its data dir).
    out = opts.out ?? `${opts.config.replace(/(\.unsigned)?\.(json|cbor)$/, '')}.cbor`;
  }
  const adminKey = read(opts.adminKey).toString('utf8');
  const signature = core.configSign(document, adminKey);
  signatures = [...signatures.filter((s) => s.admin !== signature.admin), signature];
  const signed = core.signedConfig(document, signatures);
  write(out, signed, 'replace');

  const shown = inspect(signed);
  const quorum = shown.quorum!;
  if (opts.json) {
    const isAdmin = shown.config.admins.keys.some((k) => k.id === signature.admin);
    console.log(JSON.stringify({ signedBy: signature.admin, out, configHash: shown.config_hash, signers: shown.signers, quorum, signerIsAdmin: isAdmin }, null, 2));
    return 0;
  }
  console.log(`signed by ${signature.admin}: ${out}`);
  console.log(`  config_hash  ${shown.config_hash}`);
  console.log(`  signers      ${shown.signers!.map((s) => `${s.admin} (${s.status})`).join(', ')}`);
  console.log(
    `  quorum       ${quorum.valid} of ${quorum.threshold} valid signatures of its own admins: ` +
      (quorum.met ? 'met (an enclave can boot with it)' : 'NOT met yet'),
  );
  if (!shown.config.admins.keys.some((k) => k.id === signature.admin)) {
    console.log(
      `  note: ${signature.admin} is not an admin of this document; its signature counts only toward ` +
        'an update of a configuration in which it is one',
    );
  }
  return 0;
}

function describePrincipal(p: ConfigJson['principals'][number]): string {
  const keys = p.keys.map((k) => k.alg).join('+');
  const allowed = Array.isArray(p.keys_allowed) ? `own + labels [${p.keys_allowed.join(', ')}]` : p.keys_allowed;
  const ops = p.operations.length === 0 ? 'none' : p.operations.join(', ');
  return `${p.id}  ${keys}; keys: ${allowed}; max_keys ${p.max_keys}; operations: ${ops}`;
}

/** `zcp config show`. */
export function runConfigShow(file: string, opts: { json?: boolean }): number {
  const { bytes } = readConfigFile(file);
  const text = core.configToJson(bytes);
  if (opts.json) {
    console.log(text);
    return 0;
  }
  const shown = JSON.parse(text) as Inspection;
  const c = shown.config;
  console.log(shown.kind === 'signed' ? 'signed configuration' : 'configuration document (unsigned)');
  console.log(`  config_hash  ${shown.config_hash}`);
  console.log(`  version      ${shown.version}`);
  console.log(
    `  admins       ${c.admins.threshold} of ${c.admins.keys.length}: ` +
      c.admins.keys.map((k) => `${k.id} (${k.alg})`).join(', '),
  );
  if (shown.signers !== undefined) {
    const list = shown.signers.map((s) => `${s.admin} (${s.status})`).join(', ');
    console.log(`  signers      ${list || 'none'}`);
    const q = shown.quorum!;
    console.log(
      `  quorum       ${q.valid} of ${q.threshold} valid signatures of its own admins: ` +
        (q.met ? 'met' : 'NOT met (an enclave would refuse to boot with it)'),
    );
  }
  console.log(c.principals.length === 0 ? '  principals   none' : '  principals');
  for (const p of c.principals) console.log(`    ${describePrincipal(p)}`);
  console.log(`  stamps       accepted within ±${c.stamp_window_ms} ms`);
  console.log(`  sessions     at most ${c.session_max_lifetime_s} s`);
  console.log('document:');
  console.log(JSON.stringify(c, null, 2));
  return 0;
}

export interface ConfigApplyOptions {
  /** API base URL; default: the stack's (`--data-dir`), else https://127.0.0.1:8787. */
  url?: string;
  /** PEM certificate to trust for the API's TLS; default: the stack's development certificate. */
  ca?: string;
  /** A local stack's data directory (stack.json gives the URL and its certificate). */
  dataDir?: string;
  json?: boolean;
}

/** Where to send the update and which TLS certificate to trust: flags first, then the stack file (also `zcp policy apply`, `zcp prices apply`). */
export function applyTarget(opts: ConfigApplyOptions): { url: string; ca?: string } {
  let stack: StackInfo | undefined;
  if (opts.dataDir !== undefined || opts.url === undefined) {
    try {
      stack = loadStack(opts.dataDir ?? '.sentinel');
    } catch (e) {
      if (opts.dataDir !== undefined || (e as { code?: string }).code !== 'STACK_NOT_FOUND') throw e;
    }
  }
  const caPath = opts.ca ?? stack?.caPath ?? undefined;
  let ca: string | undefined;
  if (caPath !== undefined) {
    try {
      ca = readFileSync(caPath, 'utf8');
    } catch (e) {
      throw new SentinelError('FILE_UNREADABLE', `--ca ${caPath}: ${(e as Error).message}`, { cause: e });
    }
  }
  return { url: opts.url ?? stack?.url ?? 'https://127.0.0.1:8787', ca };
}

/**
 * One JSON request to the API at `target` (from `applyTarget`): the status and the parsed body (null when it is
 * not JSON), or API_UNREACHABLE. What `zcp config apply`, `zcp policy|prices apply` and the oversight commands send.
 */
export async function apiJson(
  target: { url: string; ca?: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const endpoint = new URL(path, target.url);
  const dispatcher = target.ca === undefined ? undefined : new Agent({ connect: { ca: target.ca } });
  try {
    const response = await undiciFetch(endpoint, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
      ...(dispatcher ? { dispatcher } : {}),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> | null };
  } catch (e) {
    throw new SentinelError('API_UNREACHABLE', `${endpoint.origin}: ${(e as Error).message}`, { cause: e });
  } finally {
    await dispatcher?.close();
  }
}

/**
 * `zcp config apply FILE --url URL`: sends a signed envelope to a running
 * enclave (`POST /v1/config`). The enclave decides: a higher version and the
 * current admins' threshold, or a refusal with its code (exit 1). The host
 * that relays it cannot sign or alter it.
 */
export async function runConfigApply(file: string, opts: ConfigApplyOptions): Promise<number> {
  const signed = read(file);
  if (inspect(signed).kind !== 'signed') {
    throw new SentinelError('INVALID_ARGUMENT', `${file}: not a signed envelope (sign it first: zcp config sign)`);
  }
  const answer = await apiJson(applyTarget(opts), 'POST', '/v1/config', { signedConfig: `0x${signed.toString('hex')}` });
  const body = answer.body as
    | { configHash?: string; version?: number; attestationHash?: string; error?: { code?: string; message?: string } }
    | null;
  if (answer.status < 200 || answer.status >= 300 || typeof body?.configHash !== 'string') {
    const code = body?.error?.code ?? 'API_ERROR';
    const message = body?.error?.message ?? `HTTP ${answer.status}`;
    if (opts.json) console.log(JSON.stringify({ applied: false, code, message }, null, 2));
    else console.error(`NOT APPLIED: ${code}: ${message}`);
    return 1;
  }
  if (opts.json) {
    console.log(JSON.stringify({ applied: true, configHash: body.configHash, version: body.version, attestationHash: body.attestationHash }, null, 2));
  } else {
    console.log(`applied: configuration version ${body.version}`);
    console.log(`  config_hash       ${body.configHash}`);
    console.log(`  attestation_hash  ${body.attestationHash} (the new boot document binds it; GET /v1/evidence)`);
  }
  return 0;
}
