// Interop of @sentinel/client's key import (host/sdk/src/key-import.ts) with sentinel-import (Rust) and @hpke/core, through
// test/vectors/hpke-import/import-v1.json (TEST-ONLY keys; provenance in its NOTE.md).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  IMPORT_MAX_INFO_BYTES,
  type ImportContext,
  type ImportCurve,
  type ImportPurpose,
  importInfo,
  importSuite,
  sealKeyImport,
} from '@sentinel/client';

interface Sealed {
  enc: string;
  ciphertext: string;
}
interface Case {
  name: string;
  principal: string;
  label: string;
  curve: ImportCurve;
  purpose: ImportPurpose;
  secret_key: string;
  expect: string;
  info: string;
  hpke_core_sealed: Sealed;
  rust_sealed: Sealed | null;
}
interface Vector {
  test_only: boolean;
  suite: { mode: string; kem_id: number; kdf_id: number; aead_id: number; aad: string };
  recipient: { secret: string; public: string };
  cases: Case[];
}

const vector: Vector = JSON.parse(
  readFileSync(new URL('../../test/vectors/hpke-import/import-v1.json', import.meta.url), 'utf8'),
);
const hex = (bytes: Uint8Array): string => '0x' + Buffer.from(bytes).toString('hex');
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/^0x/, ''), 'hex'));
const contextOf = (c: Case): ImportContext => ({
  principal: c.principal,
  label: c.label,
  curve: c.curve,
  purpose: c.purpose,
});
const okCases = vector.cases.filter((c) => c.expect === 'ok');

/** Opens with @hpke/core itself, as the recipient of the vector (Rust-derived key pair). */
async function hpkeCoreOpen(info: Uint8Array, enc: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  const suite = importSuite();
  const recipientKey = await suite.kem.importKey('raw', unhex(vector.recipient.secret).buffer as ArrayBuffer, false);
  return new Uint8Array(await suite.open({ recipientKey, enc, info }, ciphertext, new Uint8Array(0)));
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('key import (HPKE) client', () => {
  it('the vector is test-only and names this suite', () => {
    expect(vector.test_only).toBe(true);
    expect(vector.suite).toMatchObject({ mode: 'base', kem_id: 0x20, kdf_id: 1, aead_id: 1, aad: '0x' });
    expect(okCases.length).toBeGreaterThan(5);
  });

  it('the recipient public key in the vector is the X25519 public key of its secret', async () => {
    // Node's own X25519 (OpenSSL), from a PKCS#8 wrapping of the raw secret (RFC 8410).
    const pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');
    const pkcs8 = Buffer.concat([pkcs8Prefix, unhex(vector.recipient.secret)]);
    const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
      format: 'der',
      type: 'spki',
    });
    expect(hex(new Uint8Array(spki.subarray(-32)))).toBe(vector.recipient.public);
  });

  it('builds the same info bytes as the Rust crate, for every case', () => {
    for (const c of vector.cases) {
      expect(hex(importInfo(contextOf(c))), c.name).toBe(c.info);
    }
  });

  it('sealKeyImport output opens with @hpke/core under the Rust info and the Rust-derived key', async () => {
    for (const c of okCases) {
      const secretKey = unhex(c.secret_key);
      const sealed = await sealKeyImport({ ...contextOf(c), importKey: unhex(vector.recipient.public), secretKey });
      expect(sealed.enc.length, c.name).toBe(32);
      expect(sealed.ciphertext.length, c.name).toBe(48);
      expect(hex(await hpkeCoreOpen(unhex(c.info), sealed.enc, sealed.ciphertext)), c.name).toBe(c.secret_key);
    }
  });

  it('@hpke/core opens what the Rust crate sealed (seal_import)', async () => {
    for (const c of okCases) {
      const sealed = c.rust_sealed!;
      const opened = await hpkeCoreOpen(unhex(c.info), unhex(sealed.enc), unhex(sealed.ciphertext));
      expect(hex(opened), c.name).toBe(c.secret_key);
    }
  });

  it('a blob sealed for one context does not open under another', async () => {
    const [a, b] = [okCases[0]!, okCases[1]!];
    const sealed = await sealKeyImport({
      ...contextOf(a),
      importKey: unhex(vector.recipient.public),
      secretKey: unhex(a.secret_key),
    });
    expect(await codeOf(hpkeCoreOpen(unhex(b.info), sealed.enc, sealed.ciphertext))).not.toBe('ok');
    for (const other of [
      { ...contextOf(a), principal: a.principal + 'x' },
      { ...contextOf(a), label: a.label + 'x' },
      { ...contextOf(a), curve: a.curve === 'secp256k1' ? 'ed25519' : 'secp256k1' } as ImportContext,
      { ...contextOf(a), purpose: a.purpose === 'raw' ? 'ethereum' : 'raw' } as ImportContext,
    ]) {
      expect(await codeOf(hpkeCoreOpen(importInfo(other), sealed.enc, sealed.ciphertext))).not.toBe('ok');
    }
  });

  it('refuses the keys and shapes the enclave would refuse, with its codes', async () => {
    const importKey = unhex(vector.recipient.public);
    for (const c of vector.cases.filter((c) => c.expect !== 'ok')) {
      const secretKey = unhex(c.secret_key);
      const expected = secretKey.length === 32 ? c.expect : 'INVALID_ARGUMENT';
      expect(await codeOf(sealKeyImport({ ...contextOf(c), importKey, secretKey })), c.name).toBe(expected);
    }
    const base = { ...contextOf(okCases[0]!), importKey, secretKey: unhex(okCases[0]!.secret_key) };
    expect(await codeOf(sealKeyImport({ ...base, importKey: importKey.subarray(1) }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(sealKeyImport({ ...base, curve: 'p256' as ImportCurve }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(sealKeyImport({ ...base, purpose: 'eth' as ImportPurpose }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(sealKeyImport({ ...base, label: 'bad \ud800 surrogate' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(sealKeyImport({ ...base, label: 'l'.repeat(IMPORT_MAX_INFO_BYTES) }))).toBe('IMPORT_MALFORMED');
  });

  it('encodes CBOR text heads in their shortest form (0x78 for 24..255 bytes, 0x79 for 256..65535)', () => {
    const info = (label: string) => hex(importInfo({ principal: 'p', label, curve: 'ed25519', purpose: 'raw' }));
    expect(info('x'.repeat(23))).toContain('77' + '78'.repeat(23));
    expect(info('x'.repeat(24))).toContain('7818' + '78'.repeat(24));
    expect(info('x'.repeat(255))).toContain('78ff' + '78'.repeat(255));
    expect(info('x'.repeat(256))).toContain('790100' + '78'.repeat(256));
  });
});
