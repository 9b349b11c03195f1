/**
 * `zcp keys generate | import | list`: managing the caller's keys in the
 * enclave through the SDK, which stamps each request with the caller's
 * credential and checks each receipt before anything is printed.
 *
 * `import` is the one command that handles a secret on this machine. The
 * secret file must be readable by its owner alone (the command refuses it
 * otherwise, like the stack refuses exposed credential files), is parsed
 * byte by byte (never turned into a string, never echoed, not even in error
 * messages), sealed with HPKE to the import key of the verified attestation
 * by the SDK, and the buffers that held it are zeroed as soon as the command
 * is done, whatever the outcome. The host only ever sees ciphertext.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { apiJson, applyTarget } from './config.ts';

import {
  addConnectionOptions,
  addReceiptOut,
  printResult,
  runClientCommand,
  UsageError,
  type Client,
  type CommonOptions,
  type Receipted,
} from './connect.ts';

export const CURVES = ['secp256k1', 'ed25519'] as const;
export const PURPOSES = ['ethereum', 'raw'] as const;
type Curve = (typeof CURVES)[number];
type Purpose = (typeof PURPOSES)[number];

/** Largest secret file read (a 32-byte hex secret with a prefix and whitespace is far smaller). */
const MAX_SECRET_FILE_BYTES = 4096;

export interface KeySpecOptions extends CommonOptions {
  curve: string;
  purpose?: string;
  label: string;
}

export interface KeysImportOptions extends KeySpecOptions {
  secretFile: string;
}

type Key = Awaited<ReturnType<Client['generateKey']>>;

function keySpec(opts: KeySpecOptions): { curve: Curve; purpose: Purpose; label: string } {
  if (!(CURVES as readonly string[]).includes(opts.curve)) {
    throw new UsageError('INVALID_ARGUMENT', `--curve: ${opts.curve} is not one of ${CURVES.join(', ')}`);
  }
  const curve = opts.curve as Curve;
  // Ethereum keys are secp256k1; an Ed25519 key can only be raw, so that is its default.
  const purpose = opts.purpose ?? (curve === 'ed25519' ? 'raw' : 'ethereum');
  if (!(PURPOSES as readonly string[]).includes(purpose)) {
    throw new UsageError('INVALID_ARGUMENT', `--purpose: ${purpose} is not one of ${PURPOSES.join(', ')}`);
  }
  if (opts.label === '') throw new UsageError('INVALID_ARGUMENT', '--label must not be empty');
  return { curve, purpose: purpose as Purpose, label: opts.label };
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function nibble(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * The 32-byte secret in a file's bytes: hex, `0x` optional, surrounding
 * whitespace ignored. Decoded without creating a string; errors never
 * quote the content.
 */
export function parseSecretHex(raw: Uint8Array, path: string): Buffer {
  let start = 0;
  let end = raw.length;
  while (start < end && isSpace(raw[start]!)) start++;
  while (end > start && isSpace(raw[end - 1]!)) end--;
  if (end - start >= 2 && raw[start] === 0x30 && (raw[start + 1]! | 0x20) === 0x78) start += 2;
  const digits = end - start;
  for (let i = start; i < end; i++) {
    if (!isHexDigit(raw[i]!)) throw new UsageError('INVALID_ARGUMENT', `${path}: not a hex secret (a character other than 0-9, a-f at offset ${i})`);
  }
  if (digits !== 64) throw new UsageError('INVALID_ARGUMENT', `${path}: the secret must be 32 bytes (64 hex digits), found ${digits} hex digits`);
  const secret = Buffer.alloc(32); // not pooled: zeroing it leaves no copy behind in a shared slab
  for (let i = 0; i < 32; i++) secret[i] = (nibble(raw[start + 2 * i]!) << 4) | nibble(raw[start + 2 * i + 1]!);
  return secret;
}

/**
 * Reads a secret file: a regular file, at most 4 KiB, with no group or other
 * permission bits (SECRET_FILE_EXPOSED otherwise). The mode is checked on the
 * open descriptor, so it is the file that was read.
 */
export function readSecretFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UsageError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UsageError('INVALID_ARGUMENT', `${path}: not a regular file`);
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new UsageError(
        'SECRET_FILE_EXPOSED',
        `${path} is readable or writable by others (mode ${mode.toString(8)}); it holds a secret key: chmod 600 it`,
      );
    }
    if (stat.size > MAX_SECRET_FILE_BYTES) throw new UsageError('INVALID_ARGUMENT', `${path}: ${stat.size} bytes, larger than a hex secret`);
    const raw = Buffer.alloc(stat.size);
    try {
      let read = 0;
      while (read < raw.length) {
        const n = readSync(fd, raw, read, raw.length - read, read);
        if (n === 0) break;
        read += n;
      }
      return parseSecretHex(raw.subarray(0, read), path);
    } finally {
      raw.fill(0);
    }
  } finally {
    closeSync(fd);
  }
}

function keyLines(key: Key): Array<[string, string]> {
  const lines: Array<[string, string]> = [
    ['key id', key.keyId],
    ['curve', key.curve],
    ['purpose', key.purpose],
    ['label', key.label],
  ];
  if (key.address) lines.push(['address', key.address]);
  lines.push(['public key', key.publicKey]);
  if (key.storage) lines.push(['storage', storageText(key.storage)]);
  return lines;
}

function storageText(storage: string): string {
  if (storage === 'sealed:development') return 'sealed (DEVELOPMENT sealing key on the host: survives restarts, not for real funds)';
  if (storage === 'ephemeral') return 'EPHEMERAL: enclave memory only, lost when the enclave restarts';
  return storage;
}

function keyJson(key: Key): Record<string, unknown> {
  return {
    keyId: key.keyId,
    curve: key.curve,
    purpose: key.purpose,
    label: key.label,
    ...(key.owner !== undefined ? { owner: key.owner } : {}),
    publicKey: key.publicKey,
    address: key.address ?? null,
    ...(key.storage !== undefined ? { storage: key.storage } : {}),
  };
}

/** `zcp keys generate`. */
export function runKeysGenerate(opts: KeySpecOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => keySpec(opts),
    async (client, spec) => {
      const key = await client.generateKey(spec);
      return printResult(opts, 'key generated', keyJson(key), keyLines(key), key as Receipted);
    },
  );
}

/** `zcp keys import`. */
export function runKeysImport(opts: KeysImportOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => ({ spec: keySpec(opts), secret: readSecretFile(opts.secretFile) }),
    async (client, { spec, secret }) => {
      const key = await client.importKey({ ...spec, secretKey: secret });
      return printResult(opts, 'key imported (sealed with HPKE to the attested import key)', keyJson(key), keyLines(key), key as Receipted);
    },
    ({ secret }) => secret.fill(0),
  );
}

/** `zcp keys list`. */
export function runKeysList(opts: CommonOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => undefined,
    async (client) => {
      const listed = await client.listKeys();
      const keys = listed.keys as Key[];
      // Text: one aligned row per key: id, curve/purpose, "label", address (or public key).
      const rows = keys.map((k) => [k.keyId, `${k.curve}/${k.purpose}`, JSON.stringify(k.label), k.address ?? k.publicKey]);
      const widths = [0, 1, 2].map((i) => Math.max(0, ...rows.map((r) => r[i]!.length)));
      const table = (): void => {
        for (const r of rows) console.log(`  ${r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`);
      };
      const title = keys.length === 1 ? '1 key' : `${keys.length} keys`;
      return printResult(opts, title, { keys: keys.map(keyJson) }, table, listed as Receipted);
    },
  );
}

/** How long an admin deletion order stays valid once signed. */
const ORDER_TTL_US = 10n * 60n * 1_000_000n;

/**
 * `zcp keys delete --admin-key FILE...`: an order of the admin quorum, signed here with the admins'
 * credentials over the configuration in force (as the API reports it: an order naming another
 * configuration is refused by the enclave), sent to `POST /v1/admin/keys/delete`.
 */
async function runKeysAdminDelete(opts: CommonOptions & { keyId: string; adminKey: string[] }): Promise<number> {
  const target = applyTarget({ dataDir: opts.dataDir, url: opts.url });
  const config = await apiJson(target, 'GET', '/v1/config');
  const configHash = (config.body as { configHash?: string } | null)?.configHash;
  if (typeof configHash !== 'string') throw new SentinelError('API_ERROR', `GET /v1/config: HTTP ${config.status}`);
  const admins = opts.adminKey.map((f) => readSecretText(f));
  const expires = BigInt(Date.now()) * 1000n + ORDER_TTL_US;
  const order = core.keyDeletionOrder(opts.keyId, Buffer.from(configHash.replace(/^0x/, ''), 'hex'), expires, admins);
  const answer = await apiJson(target, 'POST', '/v1/admin/keys/delete', { order: `0x${order.toString('hex')}` });
  const body = answer.body as { keyId?: string; error?: { code?: string; message?: string } } | null;
  if (answer.status !== 200 || typeof body?.keyId !== 'string') {
    const code = body?.error?.code ?? 'API_ERROR';
    const message = body?.error?.message ?? `HTTP ${answer.status}`;
    if (opts.json) console.log(JSON.stringify({ deleted: false, code, message }, null, 2));
    else console.error(`NOT DELETED: ${code}: ${message}`);
    return 1;
  }
  if (opts.json) console.log(JSON.stringify({ deleted: true, keyId: body.keyId, by: 'admin-quorum' }, null, 2));
  else console.log(`key deleted by order of the admin quorum (wiped in the enclave; no copy remains)\n  key id       ${body.keyId}`);
  return 0;
}

/** A credential file's JSON, refused when others may read it (it holds a secret key). */
function readSecretText(path: string): string {
  const stat = (() => {
    try {
      return fstatSync(openSync(path, 'r'));
    } catch (e) {
      throw new UsageError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
  })();
  if ((stat.mode & 0o077) !== 0) throw new UsageError('SECRET_FILE_EXPOSED', `${path} is readable by others: chmod 600 it`);
  const fd = openSync(path, 'r');
  try {
    const raw = Buffer.alloc(stat.size);
    readSync(fd, raw, 0, raw.length, 0);
    return raw.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** `zcp keys delete`: by the owner (stamped), or by the admin quorum with `--admin-key`. */
export function runKeysDelete(opts: CommonOptions & { keyId: string; adminKey?: string[] }): Promise<number> {
  if (opts.adminKey && opts.adminKey.length > 0) {
    const withAdmins = { ...opts, adminKey: opts.adminKey };
    return runKeysAdminDelete(withAdmins).catch((e) => {
      const code = (e as { code?: string }).code ?? 'INTERNAL';
      if (opts.json) console.log(JSON.stringify({ deleted: false, code, message: (e as Error).message }, null, 2));
      else console.error(`error ${code}: ${(e as Error).message}`);
      return 1;
    });
  }
  return runClientCommand(
    opts,
    () => opts.keyId,
    async (client, keyId) => {
      const deleted = await client.deleteKey(keyId);
      return printResult(opts, 'key deleted (wiped in the enclave; no copy remains)', { keyId: deleted.keyId }, [['key id', deleted.keyId]], deleted as Receipted);
    },
  );
}

function collectAdmins(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Registers `zcp keys ...` on the program. `set` receives each command's exit code. */
export function registerKeys(program: import('commander').Command, set: (code: number) => void): void {
  const keys = program.command('keys').description('keys in the enclave: generate, import (HPKE), list, delete');
  addReceiptOut(
    addConnectionOptions(
      keys
        .command('generate')
        .description('generate a key inside the enclave')
        .option('--curve <curve>', `curve: ${CURVES.join(' or ')}`, 'secp256k1')
        .option('--purpose <purpose>', 'ethereum (secp256k1 only) or raw (default: ethereum for secp256k1, raw for ed25519)')
        .requiredOption('--label <label>', "the key's label (configuration permissions can name labels)"),
    ),
  ).action(async (opts: KeySpecOptions) => set(await runKeysGenerate(opts)));

  addReceiptOut(
    addConnectionOptions(
      keys
        .command('import')
        .description('import an existing secret key, sealed with HPKE to the attested import key (the host never sees it)')
        .requiredOption('--secret-file <file>', 'file holding the 32-byte secret as hex (0x optional); must be mode 0600 or stricter')
        .option('--curve <curve>', `curve: ${CURVES.join(' or ')}`, 'secp256k1')
        .option('--purpose <purpose>', 'ethereum (secp256k1 only) or raw (default: ethereum for secp256k1, raw for ed25519)')
        .requiredOption('--label <label>', "the key's label"),
    ),
  ).action(async (opts: KeysImportOptions) => set(await runKeysImport(opts)));

  addReceiptOut(addConnectionOptions(keys.command('list').description('list the keys this principal may use'))).action(
    async (opts: CommonOptions) => set(await runKeysList(opts)),
  );

  addReceiptOut(
    addConnectionOptions(
      keys
        .command('delete')
        .description('delete a key you own, or any key with --admin-key: the enclave wipes it and the host drops its sealed record (no undo, no export)')
        .requiredOption('--key-id <id>', 'the key to delete')
        .option('--admin-key <file>', 'delete by order of the admin quorum: an admin credential file (repeat for each admin of the quorum)', collectAdmins, []),
    ),
  ).action(async (opts: CommonOptions & { keyId: string; adminKey?: string[] }) => set(await runKeysDelete(opts)));
}
