import { createHash, createPublicKey, ECDH, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { main } from '../src/cli/main.ts';
import { core } from '../src/core.ts';
import { ALL_OPERATIONS } from '../src/cli/config.ts';
import { capture } from './helpers.ts';

const zcp = (...args: string[]): Promise<number> => main(['node', 'zcp', 'config', ...args]);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('zcp config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-config-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('init writes admin keys (0600), the JSON form and its canonical CBOR', async () => {
    const { out } = capture();
    const data = join(dir, 'data');
    expect(await zcp('init', '--data-dir', data, '--admins', '3', '--client', 'app')).toBe(0);
    for (const name of ['admin-1.key', 'admin-2.key', 'admin-3.key', 'client.key']) {
      expect(statSync(join(data, name)).mode & 0o777).toBe(0o600);
    }
    const admin = JSON.parse(readFileSync(join(data, 'admin-2.key'), 'utf8'));
    expect(admin).toMatchObject({ admin: 'admin-2', alg: 'ed25519' });
    expect(admin.secret_key).toMatch(/^0x[0-9a-f]{64}$/);
    const json = readFileSync(join(data, 'config.json'), 'utf8');
    const cbor = readFileSync(join(data, 'config.unsigned.cbor'));
    expect(Buffer.from(core.configFromJson(json)).equals(cbor)).toBe(true);
    const doc = JSON.parse(json);
    expect(doc.admins.threshold).toBe(2); // a majority of 3
    expect(doc.admins.keys.map((k: { id: string }) => k.id)).toEqual(['admin-1', 'admin-2', 'admin-3']);
    expect(doc.principals[0]).toMatchObject({ id: 'app', keys_allowed: 'own', max_keys: 1000 });
    expect(doc.principals[0].keys[0].public_key).toBe(`0x${Buffer.from(core.credentialPublicKey(readFileSync(join(data, 'client.key'), 'utf8'))).toString('hex')}`);
    const hash = `0x${Buffer.from(core.configHash(cbor)).toString('hex')}`;
    expect(out.join('\n')).toContain(`config_hash  ${hash}`);
  });

  it('one admin is admin.key; the threshold and algorithm can be chosen', async () => {
    capture();
    expect(await zcp('init', '--data-dir', dir, '--alg', 'p256')).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'admin.key'), 'utf8'))).toMatchObject({ admin: 'admin-1', alg: 'p256' });
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).principals).toEqual([]);
    const other = join(dir, 'other');
    expect(await zcp('init', '--data-dir', other, '--admins', '2', '--threshold', '2', '--alg', 'secp256k1', '--out', join(other, 'prod.json'))).toBe(0);
    expect(existsSync(join(other, 'prod.unsigned.cbor'))).toBe(true);
    expect(JSON.parse(readFileSync(join(other, 'prod.json'), 'utf8')).admins.threshold).toBe(2);
  });

  it('init and sign --json print machine-readable results', async () => {
    const { out } = capture();
    expect(await zcp('init', '--data-dir', dir, '--client', 'app', '--json')).toBe(0);
    const init = JSON.parse(out.join('\n'));
    const cbor = readFileSync(join(dir, 'config.unsigned.cbor'));
    expect(init).toMatchObject({
      configHash: `0x${Buffer.from(core.configHash(cbor)).toString('hex')}`,
      version: 1,
      threshold: 1,
      admins: [{ id: 'admin-1', keyFile: join(dir, 'admin.key') }],
      client: { id: 'app', keyFile: join(dir, 'client.key') },
      document: join(dir, 'config.json'),
      canonical: join(dir, 'config.unsigned.cbor'),
    });
    out.length = 0;
    expect(await zcp('sign', '--config', join(dir, 'config.json'), '--admin-key', join(dir, 'admin.key'), '--json')).toBe(0);
    const signed = JSON.parse(out.join('\n'));
    expect(signed).toMatchObject({ signedBy: 'admin-1', out: join(dir, 'config.cbor'), configHash: init.configHash, signerIsAdmin: true });
    expect(signed.quorum).toMatchObject({ met: true, valid: 1, threshold: 1 });
  });

  it('init never overwrites, and refuses a bad threshold before writing anything', async () => {
    const { err } = capture();
    expect(await zcp('init', '--data-dir', dir)).toBe(0);
    const before = readFileSync(join(dir, 'admin.key'), 'utf8');
    expect(await zcp('init', '--data-dir', dir)).toBe(2);
    expect(err.at(-1)).toMatch(/^error FILE_EXISTS: .*admin\.key/);
    expect(readFileSync(join(dir, 'admin.key'), 'utf8')).toBe(before);

    const fresh = join(dir, 'fresh');
    expect(await zcp('init', '--data-dir', fresh, '--admins', '2', '--threshold', '3')).toBe(2);
    expect(err.at(-1)).toMatch(/^error CONFIG_INVALID_THRESHOLD: admins\.threshold: 3/);
    expect(existsSync(fresh)).toBe(false);
    expect(await zcp('init', '--data-dir', fresh, '--alg', 'rsa')).toBe(2);
    expect(err.at(-1)).toMatch(/^error INVALID_ARGUMENT: --alg/);
    expect(await zcp('init', '--data-dir', fresh, '--client', 'bad id')).toBe(2);
    expect(err.at(-1)).toMatch(/^error CREDENTIAL_INVALID: /);
  });

  it('sign: JSON in, envelope out; a second admin completes the quorum; show reports it', async () => {
    const { out } = capture();
    expect(await zcp('init', '--data-dir', dir, '--admins', '3', '--client', 'app')).toBe(0);
    const json = join(dir, 'config.json');
    const signed = join(dir, 'config.cbor');

    // An operator edits the JSON: the stamp window, and a second principal.
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    doc.stamp_window_ms = 10_000;
    const ops = JSON.parse(core.generateCredential('client', 'ops', 'p256'));
    const opsKey = `0x${Buffer.from(core.credentialPublicKey(JSON.stringify(ops))).toString('hex')}`;
    doc.principals.push({ id: 'ops', keys: [{ alg: 'p256', public_key: opsKey }], operations: ['list_keys'], keys_allowed: ['treasury'], max_keys: 0 });
    writeFileSync(json, JSON.stringify(doc, null, 2));

    out.length = 0;
    expect(await zcp('sign', '--config', json, '--admin-key', join(dir, 'admin-1.key'))).toBe(0);
    expect(out.join('\n')).toContain(`signed by admin-1: ${signed}`);
    expect(out.join('\n')).toContain('1 of 2 valid signatures of its own admins: NOT met yet');
    expect(codeOf(() => core.verifyInitialConfig(readFileSync(signed)))).toBe('CONFIG_QUORUM_NOT_MET');

    out.length = 0;
    expect(await zcp('sign', '--config', signed, '--admin-key', join(dir, 'admin-3.key'))).toBe(0);
    expect(out.join('\n')).toContain('admin-1 (valid), admin-3 (valid)');
    const verified = core.verifyInitialConfig(readFileSync(signed));
    expect(verified.version).toBe(1n);
    const edited = core.configFromJson(readFileSync(json, 'utf8'));
    expect(Buffer.from(verified.configHash).equals(Buffer.from(core.configHash(edited)))).toBe(true);

    // Signing again with the same admin replaces its signature instead of adding one.
    expect(await zcp('sign', '--config', signed, '--admin-key', join(dir, 'admin-3.key'))).toBe(0);
    expect(core.openSignedConfig(readFileSync(signed)).signatures.map((s) => s.admin)).toEqual(['admin-1', 'admin-3']);

    out.length = 0;
    expect(await zcp('show', signed)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^signed configuration/);
    expect(text).toContain(`config_hash  0x${Buffer.from(verified.configHash).toString('hex')}`);
    expect(text).toContain('admins       2 of 3: admin-1 (ed25519), admin-2 (ed25519), admin-3 (ed25519)');
    expect(text).toContain('quorum       2 of 2 valid signatures of its own admins: met');
    expect(text).toContain('ops  p256; keys: own + labels [treasury]; max_keys 0; operations: list_keys');
    expect(text).toContain('stamps       accepted within ±10000 ms');

    out.length = 0;
    expect(await zcp('show', signed, '--json')).toBe(0);
    const shown = JSON.parse(out.join('\n'));
    expect(shown).toMatchObject({ kind: 'signed', version: 1, quorum: { threshold: 2, valid: 2, met: true } });
    expect(shown.signers.map((s: { admin: string; status: string }) => `${s.admin}:${s.status}`)).toEqual(['admin-1:valid', 'admin-3:valid']);
    expect(shown.config).toEqual(JSON.parse(readFileSync(json, 'utf8')));

    // The unsigned CBOR and the JSON form show as an unsigned document with the same hash.
    out.length = 0;
    expect(await zcp('show', json, '--json')).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ kind: 'document', config_hash: shown.config_hash });
  });

  it('an admin outside the document may sign (updates), and is marked so', async () => {
    const { out } = capture();
    expect(await zcp('init', '--data-dir', dir)).toBe(0);
    const outsider = join(dir, 'outsider.key');
    writeFileSync(outsider, core.generateCredential('admin', 'old-admin', 'secp256k1'), { mode: 0o600 });
    expect(await zcp('sign', '--config', join(dir, 'config.unsigned.cbor'), '--admin-key', outsider, '--out', join(dir, 'update.cbor'))).toBe(0);
    expect(out.join('\n')).toContain('old-admin (not-an-admin)');
    expect(out.join('\n')).toContain('note: old-admin is not an admin of this document');
  });

  it('errors print their code and exit non-zero', async () => {
    const { err } = capture();
    expect(await zcp('init', '--data-dir', dir, '--client', 'app')).toBe(0);
    const json = join(dir, 'config.json');

    expect(await zcp('sign', '--config', json, '--admin-key', join(dir, 'client.key'))).toBe(2);
    expect(err.at(-1)).toMatch(/^error CREDENTIAL_INVALID: .*configurations are signed by admins/);
    expect(await zcp('sign', '--config', json, '--admin-key', join(dir, 'missing.key'))).toBe(2);
    expect(err.at(-1)).toMatch(/^error FILE_UNREADABLE: /);

    writeFileSync(join(dir, 'garbage.cbor'), Buffer.from([0xff, 0x00]));
    expect(await zcp('show', join(dir, 'garbage.cbor'))).toBe(2);
    expect(err.at(-1)).toMatch(/^error CONFIG_MALFORMED: /);

    const doc = JSON.parse(readFileSync(json, 'utf8'));
    doc.principals[0].operations.push('launch_missiles');
    writeFileSync(json, JSON.stringify(doc));
    expect(await zcp('show', json)).toBe(2);
    expect(err.at(-1)).toMatch(/^error CONFIG_UNKNOWN_OPERATION: principals\[0\]\.operations\[8\]: `launch_missiles`/);
    expect(await zcp('sign', '--config', json, '--admin-key', join(dir, 'admin.key'))).toBe(2);
    expect(err.at(-1)).toMatch(/^error CONFIG_UNKNOWN_OPERATION: /);

    doc.principals[0].operations.pop();
    doc.extra = true;
    writeFileSync(json, JSON.stringify(doc));
    expect(await zcp('show', json)).toBe(2);
    expect(err.at(-1)).toMatch(/^error CONFIG_UNKNOWN_FIELD: extra/);
  });
});

describe('config and stamp bindings', () => {
  it('userDataConfigHash / userDataPolicyHash read 0x03 || config_hash || policy_hash (the layout defined in crates/evidence), and refuse anything else', () => {
    const hash = Buffer.alloc(32, 0xab);
    const policy = Buffer.alloc(32, 0xcd);
    const userData = Buffer.concat([Buffer.of(0x03), hash, policy]);
    expect(core.userDataConfigHash(userData)).toBe(`0x${hash.toString('hex')}`);
    expect(core.userDataPolicyHash(userData)).toBe(`0x${policy.toString('hex')}`);
    // 32 zero bytes: no policy installed.
    const noPolicy = Buffer.concat([Buffer.of(0x03), hash, Buffer.alloc(32)]);
    expect(core.userDataConfigHash(noPolicy)).toBe(`0x${hash.toString('hex')}`);
    expect(core.userDataPolicyHash(noPolicy)).toBeNull();
    const v2 = Buffer.concat([Buffer.of(0x02), hash]); // the earlier layout
    for (const bad of [v2, Buffer.concat([Buffer.of(0x02), hash, policy]), userData.subarray(0, 64), Buffer.concat([userData, Buffer.of(0)]), hash, Buffer.alloc(0)]) {
      expect(() => core.userDataConfigHash(bad)).toThrow(expect.objectContaining({ code: 'USER_DATA_MALFORMED' }));
      expect(() => core.userDataPolicyHash(bad)).toThrow(expect.objectContaining({ code: 'USER_DATA_MALFORMED' }));
    }
  });

  it('development configuration: boot rule passes, hash matches, stamps verify by digest', () => {
    const admin = core.generateCredential('admin', 'dev-admin', 'ed25519');
    const client = core.generateCredential('client', 'dev-client', 'ed25519');
    const signed = core.developmentConfiguration(admin, client);
    const verified = core.verifyInitialConfig(signed);
    expect(verified.version).toBe(1n);
    expect(Buffer.from(verified.configHash).equals(Buffer.from(core.configHash(signed)))).toBe(true);
    const shown = JSON.parse(core.configToJson(signed));
    expect(shown.config.principals[0]).toMatchObject({ id: 'dev-client', keys_allowed: 'own', max_keys: 1000 });
    expect([...shown.config.principals[0].operations].sort()).toEqual([...ALL_OPERATIONS].sort());
    expect(shown.config).toMatchObject({ stamp_window_ms: 30000, session_max_lifetime_s: 3600 });

    const body = Buffer.from('a1626f70696c6973745f6b657973', 'hex');
    const nonce = Buffer.alloc(16, 7);
    const stamp = core.stampRequest(client, 'list_keys', body, 1_700_000_000_000_000n, nonce);
    expect(stamp.principal).toBe('dev-client');
    expect(stamp.timestampUs).toBe(1_700_000_000_000_000n);
    expect(Buffer.from(stamp.nonce).equals(nonce)).toBe(true);
    const digest = core.stampDigest('list_keys', body, 1_700_000_000_000_000n, nonce);
    expect(core.verifyEd25519(core.credentialPublicKey(client), digest, stamp.signature)).toBe(true);
    expect(core.verifyEd25519(core.credentialPublicKey(client), core.stampDigest('sign_digest', body, 1_700_000_000_000_000n, nonce), stamp.signature)).toBe(false);
  });

  it('credentials of every algorithm; bad arguments carry codes', () => {
    for (const alg of ['ed25519', 'p256', 'secp256k1'] as const) {
      const json = core.generateCredential('client', 'c', alg);
      expect(JSON.parse(json)).toMatchObject({ principal: 'c', alg });
      expect(core.credentialPublicKey(json)).toHaveLength(alg === 'ed25519' ? 32 : 33);
    }
    expect(codeOf(() => core.generateCredential('robot' as 'client', 'c', 'ed25519'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => core.generateCredential('client', 'c', 'rsa' as 'p256'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => core.generateCredential('client', '', 'ed25519'))).toBe('CREDENTIAL_INVALID');
    expect(codeOf(() => core.credentialPublicKey('{}'))).toBe('CREDENTIAL_INVALID');
    const client = core.generateCredential('client', 'c', 'ed25519');
    const admin = core.generateCredential('admin', 'a', 'ed25519');
    expect(codeOf(() => core.stampRequest(admin, 'list_keys', Buffer.alloc(0), 1n, Buffer.alloc(16)))).toBe('CREDENTIAL_INVALID');
    expect(codeOf(() => core.stampRequest(client, 'list_keys', Buffer.alloc(0), 1n, Buffer.alloc(15)))).toBe('STAMP_MALFORMED');
    expect(codeOf(() => core.stampDigest('list_keys', Buffer.alloc(0), -1n, Buffer.alloc(16)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => core.stampDigest('list_keys', Buffer.alloc(0), 1n << 64n, Buffer.alloc(16)))).toBe('INVALID_ARGUMENT');
    expect(core.stampDigest('list_keys', Buffer.alloc(0), (1n << 64n) - 1n, Buffer.alloc(32))).toHaveLength(32);
    expect(core.stampDigest('list_keys', Buffer.alloc(0), 0n, Buffer.alloc(16))).toHaveLength(32);
    expect(codeOf(() => core.developmentConfiguration(client, admin))).toBe('CREDENTIAL_INVALID');
  });

  it('signedConfig / openSignedConfig / configSign round trip; the document is checked', () => {
    const admin = core.generateCredential('admin', 'dev-admin', 'p256');
    const client = core.generateCredential('client', 'dev-client', 'secp256k1');
    const envelope = core.openSignedConfig(core.developmentConfiguration(admin, client));
    expect(envelope.signatures.map((s) => s.admin)).toEqual(['dev-admin']);
    const again = core.configSign(envelope.config, admin);
    expect(again.admin).toBe('dev-admin');
    // RFC 6979: the same key over the same document gives the same signature.
    expect(Buffer.from(again.signature).equals(Buffer.from(envelope.signatures[0]!.signature))).toBe(true);
    const rebuilt = core.signedConfig(envelope.config, [again]);
    expect(core.verifyInitialConfig(rebuilt).version).toBe(1n);
    expect(codeOf(() => core.signedConfig(Buffer.from([0xa0]), []))).toBe('CONFIG_INVALID');
    expect(codeOf(() => core.signedConfig(envelope.config, [again, again]))).toBe('CONFIG_DUPLICATE_ID');
    expect(codeOf(() => core.configSign(Buffer.from([0xa0]), admin))).toBe('CONFIG_INVALID');
    expect(codeOf(() => core.verifyInitialConfig(core.signedConfig(envelope.config, [])))).toBe('CONFIG_QUORUM_NOT_MET');
    expect(codeOf(() => core.configHash(Buffer.from([0x01])))).toBe('CONFIG_INVALID');
  });

  it('stamps and admin signatures of every algorithm verify with OpenSSL (node:crypto)', () => {
    const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
    const publicKey = (alg: string, key: Buffer) => {
      if (alg === 'ed25519') return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(key) }, format: 'jwk' });
      const curve = alg === 'p256' ? 'prime256v1' : 'secp256k1';
      const point = ECDH.convertKey(key, curve, undefined, undefined, 'uncompressed') as Buffer;
      const crv = alg === 'p256' ? 'P-256' : 'secp256k1';
      return createPublicKey({ key: { kty: 'EC', crv, x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) }, format: 'jwk' });
    };
    const body = Buffer.from('a1626f70696c6973745f6b657973', 'hex');
    const nonce = Buffer.alloc(20, 9);
    for (const alg of ['ed25519', 'p256', 'secp256k1'] as const) {
      const client = core.generateCredential('client', 'c', alg);
      const key = publicKey(alg, Buffer.from(core.credentialPublicKey(client)));
      const stamp = core.stampRequest(client, 'sign_digest', body, 123n, nonce);
      const digest = core.stampDigest('sign_digest', body, 123n, nonce);
      // The preimage, spelled out from docs/configuration.md.
      const u32 = (n: number): Buffer => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(123n);
      const preimage = Buffer.concat([Buffer.from('sentinel/stamp/v1'), u32(11), Buffer.from('sign_digest'), u32(body.length), body, ts, Buffer.from([nonce.length]), nonce]);
      expect(Buffer.from(digest).equals(createHash('sha256').update(preimage).digest())).toBe(true);
      // Ed25519 signs the digest as the message; ECDSA signs the digest as a prehash,
      // which is ECDSA-SHA256 over the preimage.
      const ok = alg === 'ed25519'
        ? verify(null, digest, key, stamp.signature)
        : verify('sha256', preimage, { key, dsaEncoding: 'ieee-p1363' }, stamp.signature);
      expect(ok, alg).toBe(true);

      const admin = core.generateCredential('admin', 'dev-admin', alg);
      const envelope = core.openSignedConfig(core.developmentConfiguration(admin, core.generateCredential('client', 'dev-client', 'ed25519')));
      const signed = Buffer.concat([Buffer.from('sentinel/config/v1'), createHash('sha256').update(envelope.config).digest()]);
      const adminKey = publicKey(alg, Buffer.from(core.credentialPublicKey(admin)));
      const signature = envelope.signatures[0]!.signature;
      const valid = alg === 'ed25519'
        ? verify(null, createHash('sha256').update(signed).digest(), adminKey, signature)
        : verify('sha256', signed, { key: adminKey, dsaEncoding: 'ieee-p1363' }, signature);
      expect(valid, `admin ${alg}`).toBe(true);
    }
  });
});
