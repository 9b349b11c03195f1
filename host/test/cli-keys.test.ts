/**
 * `zcp keys generate | import | list` against the real enclave and the real
 * API, found through a data directory's stack.json (or explicit options).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { parseSecretHex } from '../src/cli/keys.ts';
import { core } from '../src/core.ts';
import { startCliStack, type CliStack } from './cli-fixture.ts';
import { capture, HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

interface KeyJson {
  keyId: string;
  curve: string;
  purpose: string;
  label: string;
  publicKey: string;
  address: string | null;
  receiptId: string;
  receipt: string;
  verified: { rootKind: string; pcr0: string; claims: { op: string; decision: string; principal: string; requestId: string; keyId: string | null } };
}

function secretFile(dir: string, name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return path;
}

maybe('zcp keys', () => {
  let s: CliStack;
  beforeAll(async () => {
    s = await startCliStack();
  }, 30_000);
  afterAll(async () => {
    await s?.dispose();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('generate: text output shows the key and the verified receipt', async () => {
    const { code, out, err } = await s.run('keys', 'generate', '--label', 'treasury');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^key generated\n/);
    expect(out).toMatch(/ {2}key id {7}\S+/);
    expect(out).toMatch(/ {2}curve {8}secp256k1/);
    expect(out).toMatch(/ {2}purpose {6}ethereum/);
    expect(out).toMatch(/ {2}address {6}0x[0-9a-fA-F]{40}/);
    expect(out).toMatch(/receipt 0x[0-9a-f]{32} verified \(allowed for dev-client; enclave PCR0 [0-9a-f]{16}…; DEVELOPMENT root, not AWS hardware\)/);
  });

  it('generate --json: key fields, receipt and its verified claims; the address is the public key\'s', async () => {
    const { code, value } = await s.json<KeyJson>('keys', 'generate', '--curve', 'secp256k1', '--purpose', 'raw', '--label', 'raw-1');
    expect(code).toBe(0);
    expect(value).toMatchObject({ curve: 'secp256k1', purpose: 'raw', label: 'raw-1' });
    expect(value.address).toBe(core.ethereumAddress(Buffer.from(value.publicKey.slice(2), 'hex')));
    expect(value.receiptId).toMatch(/^0x[0-9a-f]{32}$/);
    expect(value.verified.claims).toMatchObject({ op: 'generate_key', decision: 'allowed', principal: 'dev-client', requestId: value.receiptId });
    expect(value.verified.rootKind).toBe('other');
    expect(value.verified.pcr0).toBe(`0x${s.pcr0}`);
    // The receipt is the enclave's: it verifies against the boot document on its own.
    const claims = core.unsafeDecodeReceiptClaims(Buffer.from(value.receipt.slice(2), 'hex'));
    expect(claims.requestId).toBe(value.receiptId);

    const ed = await s.json<KeyJson>('keys', 'generate', '--curve', 'ed25519', '--label', 'ed-1');
    expect(ed.code).toBe(0);
    expect(ed.value).toMatchObject({ curve: 'ed25519', purpose: 'raw', address: null });
    expect(ed.value.publicKey).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('list: every key of this principal, text and JSON', async () => {
    const made = await s.json<KeyJson>('keys', 'generate', '--label', 'listed');
    const { code, value } = await s.json<{ keys: KeyJson[]; receiptId: string; verified: { claims: { op: string } } }>('keys', 'list');
    expect(code).toBe(0);
    expect(value.verified.claims.op).toBe('list_keys');
    const found = value.keys.find((k) => k.keyId === made.value.keyId);
    expect(found).toMatchObject({ curve: 'secp256k1', purpose: 'ethereum', label: 'listed', address: made.value.address, publicKey: made.value.publicKey });

    const text = await s.run('keys', 'list');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^\d+ keys\n/);
    expect(text.out).toContain(`${made.value.keyId}`);
    expect(text.out).toMatch(new RegExp(`\\n  ${made.value.keyId}  secp256k1/ethereum +"listed" +${made.value.address}\\n`));
    expect(text.out).toMatch(/receipt 0x[0-9a-f]{32} verified/);
  });

  it('import: a hex secret file (0x optional, whitespace ignored) becomes a key with the same public key', async () => {
    const secret = randomBytes(32);
    secret[0] = 0x01; // well inside the secp256k1 range
    const file = secretFile(s.dataDir, 'eth.secret', `  0x${secret.toString('hex').toUpperCase()}\n\n`);
    const { code, value, err } = await s.json<KeyJson>('keys', 'import', '--secret-file', file, '--label', 'imported-eth');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(value).toMatchObject({ curve: 'secp256k1', purpose: 'ethereum', label: 'imported-eth' });
    expect(value.publicKey).toBe(`0x${core.publicKeyFromSecret(secret).toString('hex')}`);
    expect(value.address).toBe(core.ethereumAddress(core.publicKeyFromSecret(secret)));
    expect(value.verified.claims.op).toBe('import_key');

    const seed = randomBytes(32);
    const edFile = secretFile(s.dataDir, 'ed.secret', seed.toString('hex'));
    const text = await s.run('keys', 'import', '--secret-file', edFile, '--curve', 'ed25519', '--label', 'imported-ed');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^key imported \(sealed with HPKE to the attested import key\)/);
    expect(text.out).toContain(`public key   0x${core.ed25519PublicKey(seed).toString('hex')}`);
    // The secret never appears in the output.
    expect(text.out + text.err).not.toContain(seed.toString('hex'));
  });

  it('import refuses an exposed or malformed secret file before sending anything (exit 2)', async () => {
    const secret = randomBytes(32).toString('hex');
    const exposed = secretFile(s.dataDir, 'exposed.secret', secret, 0o644);
    let r = await s.run('keys', 'import', '--secret-file', exposed, '--label', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error SECRET_FILE_EXPOSED: .*exposed\.secret is readable or writable by others \(mode 644\).*chmod 600/);
    expect(r.err).not.toContain(secret);

    const short = secretFile(s.dataDir, 'short.secret', '0xabcd');
    r = await s.run('keys', 'import', '--secret-file', short, '--label', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error INVALID_ARGUMENT: .*32 bytes \(64 hex digits\), found 4/);

    const bad = secretFile(s.dataDir, 'bad.secret', `${secret.slice(0, 63)}g`);
    r = await s.run('keys', 'import', '--secret-file', bad, '--label', 'x', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('not a hex secret') } });
    expect(r.err).not.toContain(secret.slice(0, 63));

    r = await s.run('keys', 'import', '--secret-file', join(s.dataDir, 'missing.secret'), '--label', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error FILE_UNREADABLE: /);
  });

  it('import: an out-of-range secret is refused with a code (exit 1)', async () => {
    const file = secretFile(s.dataDir, 'zero.secret', '00'.repeat(32));
    const r = await s.run('keys', 'import', '--secret-file', file, '--label', 'zero');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error [A-Z_]+: /);
  });

  it('parseSecretHex: decodes without strings, refuses anything but 64 hex digits', () => {
    const hex = 'ab'.repeat(32);
    expect(parseSecretHex(Buffer.from(`\t0X${hex} \r\n`), 'f').equals(Buffer.from(hex, 'hex'))).toBe(true);
    expect(() => parseSecretHex(Buffer.from(`0x0x${hex}`), 'f')).toThrow(/not a hex secret/);
    expect(() => parseSecretHex(Buffer.from(`${hex}00`), 'f')).toThrow(/found 66/);
    expect(() => parseSecretHex(Buffer.from(''), 'f')).toThrow(/found 0/);
  });

  it('explicit connection options work without a stack file; a dev root needs --allow-dev-root', async () => {
    const { out, err } = capture();
    const explicit = ['--url', s.url, '--credentials', s.enclave.dev.clientKeyPath, '--pcr0', s.pcr0, '--root', s.devRootPath];
    expect(await s.zcp('keys', 'list', ...explicit, '--allow-dev-root', '--json')).toBe(0);
    expect(JSON.parse(out.join('\n')).verified.claims.op).toBe('list_keys');

    out.length = 0;
    expect(await s.zcp('keys', 'list', ...explicit)).toBe(2);
    expect(err.at(-1)).toMatch(/^error INVALID_ARGUMENT: --root .* is not the AWS Nitro root: pass --allow-dev-root/);
    expect(out).toEqual([]);

    // The AWS root (the default without a stack file) does not vouch for the simulator: refused on connect.
    expect(await s.zcp('keys', 'list', '--url', s.url, '--credentials', s.enclave.dev.clientKeyPath, '--pcr0', s.pcr0)).toBe(1);
    expect(err.at(-1)).toMatch(/^error [A-Z_]+: /);
  });

  it('a PCR0 or configuration hash other than the enclave\'s is refused on connect (exit 1), nothing printed on stdout', async () => {
    let r = await s.run('keys', 'list', '--pcr0', 'ab'.repeat(48));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error [A-Z0-9_]+: /);
    expect(r.out).toBe('');
    r = await s.run('keys', 'list', '--config-hash', `0x${'11'.repeat(32)}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error [A-Z0-9_]+: /);
  });

  it('usage errors exit 2 with a code', async () => {
    let r = await s.run('keys', 'generate', '--curve', 'rsa', '--label', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error INVALID_ARGUMENT: --curve: rsa is not one of secp256k1, ed25519/);
    r = await s.run('keys', 'generate', '--purpose', 'bitcoin', '--label', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error INVALID_ARGUMENT: --purpose/);
    r = await s.run('keys', 'generate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error USAGE: required option '--label <label>' not specified/);
    r = await s.run('keys', 'generate', '--label', 'x', '--bogus');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error USAGE: unknown option '--bogus'/);

    const { err } = capture();
    const empty = join(s.dataDir, 'nowhere');
    expect(await s.zcp('keys', 'list', '--data-dir', empty)).toBe(2);
    expect(err.at(-1)).toMatch(/^error STACK_NOT_FOUND: .*stack\.json does not exist/);
  });

  it('a stack whose API is gone: exit 1 with a code', async () => {
    const stack = JSON.parse(readFileSync(join(s.dataDir, 'stack.json'), 'utf8'));
    const dead = join(s.dataDir, 'dead');
    mkdirSync(dead);
    writeFileSync(join(dead, 'stack.json'), JSON.stringify({ ...stack, url: 'http://127.0.0.1:9' }));
    const { err } = capture();
    expect(await s.zcp('keys', 'list', '--data-dir', dead)).toBe(1);
    expect(err.at(-1)).toMatch(/^error [A-Z_]+: /);
  });
});
