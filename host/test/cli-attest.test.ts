import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { parseAt } from '../src/cli/attest-verify.ts';
import { decodeDocument, readRoot } from '../src/cli/files.ts';
import { main } from '../src/cli/main.ts';
import { core } from '../src/core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { capture, HAVE_ENCLAVE, startTestEnclave, type TestEnclave } from './helpers.ts';

const VECTORS = fileURLToPath(new URL('../../test/vectors/nitro/', import.meta.url));
const QOS = join(VECTORS, 'qos_attestation-doc.bin');
const QOS_PCR0 = 'f8bb0133c427bc49aa39f6811a01077ce9ab7e635fa1f5439c9c8bf99754f8230e41b09426b0e595eebdc4d6ed4bc3b6';
const QOS_AT = 1657117192;

const zcp = (...args: string[]): Promise<number> => main(['node', 'zcp', 'attest', 'verify', ...args]);

describe('zcp attest verify on real AWS documents', () => {
  afterEach(() => vi.restoreAllMocks());

  it('verifies the qos document at its issue time with the expected PCR0', async () => {
    const { out } = capture();
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--pcr', `0=${QOS_PCR0}`)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^VERIFIED/);
    expect(text).toContain('root: AWS Nitro Enclaves Root-G1');
    expect(text).toContain(`PCR0        ${QOS_PCR0}`);
    expect(text).toContain('i-07e25f3bada361dec-enc0181d3dff86da785');
    expect(text).toContain('a2ec4272c44690b2dc32ed89d4bdd266ec2b0e753dff2f25f08b5d2a15cfe2e6');
    expect(text).toContain('checked      certificate chain to the AWS Nitro Enclaves Root-G1');
    expect(text).toContain('PCR0 equals --pcr 0=');
    expect(text).toContain('not checked  nonce (no --nonce)');
    expect(text).toContain('freshness: the document may be of any age');
    expect(text).toContain('public key (attested key bundle), user data (0x03 + configuration hash + policy hash): shown, not compared here');
    expect(text).not.toContain('DEVELOPMENT');
  });

  it('accepts RFC 3339 times and the AWS root given explicitly as PEM', async () => {
    const { out } = capture();
    const code = await zcp('--doc', QOS, '--at', new Date(QOS_AT * 1000).toISOString(), '--root', join(VECTORS, 'aws_nitro_root_g1.pem'), '--json');
    expect(code).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.rootKind).toBe('aws-nitro');
    expect(result.pcrs['0']).toBe(QOS_PCR0);
    expect(result.atMs).toBe(QOS_AT * 1000);
    expect(result.devRoot).toBe(false);
    expect(result.checked).toEqual(['certificate-chain', 'signature', 'not-debug']);
    expect(result.notChecked).toEqual(['pcrs', 'nonce', 'freshness', 'public-key', 'user-data']);
  });

  it('--json lists each expectation it checked', async () => {
    const { out } = capture();
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--pcr', `0=${QOS_PCR0}`, '--json')).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.checked).toEqual(['certificate-chain', 'signature', 'pcr0', 'not-debug']);
    expect(result.notChecked).toEqual(['nonce', 'freshness', 'public-key', 'user-data']);
  });

  it('fails with the validity code a day later, and without --at (now)', async () => {
    const { err } = capture();
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT + 86_400))).toBe(1);
    expect(err.join('\n')).toContain('NOT VERIFIED: CERTIFICATE_NOT_VALID_AT_TIME');
    expect(await zcp('--doc', QOS)).toBe(1);
    expect(err.at(-1)).toContain('CERTIFICATE_NOT_VALID_AT_TIME');
  });

  it('fails on a wrong PCR, a nonce the document does not carry, and a wrong root', async () => {
    const { err } = capture();
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--pcr', `0=${'00'.repeat(48)}`)).toBe(1);
    expect(err.at(-1)).toContain('PCR_MISMATCH');
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--nonce', 'abcd')).toBe(1);
    expect(err.at(-1)).toContain('NONCE_MISMATCH');
    const other = join(VECTORS, 'evervault_valid-certificate.der');
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--root', other, '--allow-dev-root')).toBe(1);
    expect(err.at(-1)).toMatch(/^NOT VERIFIED \(DEVELOPMENT root\): [A-Z_]+: /);
    expect(err.at(-1)).not.toContain('DEV_ROOT_NOT_ALLOWED');
  });

  it('a root other than AWS is a DEVELOPMENT root: said first, and refused without --allow-dev-root', async () => {
    const { out, err } = capture();
    const other = join(VECTORS, 'evervault_valid-certificate.der');
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--root', other)).toBe(1);
    expect(err[0]).toMatch(/^NOT VERIFIED \(DEVELOPMENT root\): DEV_ROOT_NOT_ALLOWED: /);
    expect(err[0]).toContain('--allow-dev-root');
    expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--root', other, '--json')).toBe(1);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ verified: false, devRoot: true, code: 'DEV_ROOT_NOT_ALLOWED' });
  });

  it('reads the root through X509Certificate: PEM, PEM bundle (first), DER; anything else is INVALID_TRUSTED_ROOT', async () => {
    const pem = readFileSync(join(VECTORS, 'aws_nitro_root_g1.pem'));
    const der = readRoot(join(VECTORS, 'aws_nitro_root_g1.pem'));
    expect(der.equals(core.awsNitroRootG1())).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-root-'));
    try {
      writeFileSync(join(dir, 'root.der'), der);
      expect(readRoot(join(dir, 'root.der')).equals(der)).toBe(true);
      writeFileSync(join(dir, 'bundle.pem'), Buffer.concat([Buffer.from('# comment\n'), pem, Buffer.from('\n'), readFileSync(join(VECTORS, 'evervault_nitro_root.pem'))]));
      expect(readRoot(join(dir, 'bundle.pem')).equals(der)).toBe(true);
      writeFileSync(join(dir, 'key.pem'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
      writeFileSync(join(dir, 'junk.der'), Buffer.from([0x30, 0x03, 0x02, 0x01]));
      for (const bad of ['key.pem', 'junk.der']) {
        expect(() => readRoot(join(dir, bad))).toThrow(expect.objectContaining({ code: 'INVALID_TRUSTED_ROOT' }));
      }
      const { err } = capture();
      expect(await zcp('--doc', QOS, '--at', String(QOS_AT), '--root', join(dir, 'key.pem'))).toBe(2);
      expect(err.at(-1)).toContain('INVALID_TRUSTED_ROOT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads base64 documents: the debug-mode one needs --allow-debug', async () => {
    const doc = join(VECTORS, 'evervault_valid-attestation-doc-base64');
    const at = String(Math.floor(1695049410860 / 1000));
    const { out, err } = capture();
    expect(await zcp('--doc', doc, '--at', at)).toBe(1);
    expect(err.at(-1)).toContain('DEBUG_MODE_ENCLAVE');
    expect(await zcp('--doc', doc, '--at', at, '--allow-debug')).toBe(0);
    expect(out.join('\n')).toContain('public key   (none)');
  });

  it('rejects the document whose signature does not verify', async () => {
    const { err } = capture();
    expect(await zcp('--doc', join(VECTORS, 'eternis_invalid_attestation'), '--at', '1721770181', '--allow-debug')).toBe(1);
    expect(err.at(-1)).toMatch(/SIGNATURE_INVALID/);
  });

  it('usage errors exit 2 with a code', async () => {
    const { err } = capture();
    expect(await zcp('--doc', QOS, '--at', 'yesterday')).toBe(2);
    expect(err.at(-1)).toContain('INVALID_ARGUMENT');
    expect(await zcp('--doc', QOS, '--pcr', 'zero')).toBe(2);
    expect(await zcp('--doc', '/nonexistent/doc')).toBe(2);
    expect(err.at(-1)).toContain('FILE_UNREADABLE');
  });

  it('detects raw CBOR vs base64', () => {
    const raw = readFileSync(QOS);
    expect(decodeDocument(raw)).toBe(raw);
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-doc-'));
    writeFileSync(join(dir, 'doc.b64'), `${raw.toString('base64').replace(/(.{76})/g, '$1\n')}\n`);
    expect(decodeDocument(readFileSync(join(dir, 'doc.b64'))).equals(raw)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
    expect(parseAt('1657117192')).toBe(1657117192000);
    expect(parseAt('2022-07-06T14:19:52Z')).toBe(1657117192000);
  });
});

(HAVE_ENCLAVE ? describe : describe.skip)('zcp attest verify on a simulator document (development root)', () => {
  let enclave: TestEnclave;
  let dir: string;
  let docPath: string;
  const nonce = 'c3'.repeat(16);

  beforeAll(async () => {
    enclave = await startTestEnclave();
    const client = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await client.connect();
    const app = buildApp({ enclave: client });
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}` });
    await app.close();
    await client.close();
    dir = mkdtempSync(join(tmpdir(), 'sentinel-simdoc-'));
    // The API serves 0x-hex; saved here as base64, the form `zcp attest verify --doc` reads besides raw CBOR.
    docPath = join(dir, 'doc.b64');
    writeFileSync(docPath, Buffer.from((res.json().document as string).slice(2), 'hex').toString('base64'));
  });

  afterAll(async () => {
    await enclave?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  it('exits 0 only with --allow-dev-root, and says DEVELOPMENT in the first line either way', async () => {
    const root = enclave.process.ready.dev_root_der!;
    const pcr0 = enclave.process.ready.pcr0;
    const { out, err } = capture();
    expect(await zcp('--doc', docPath, '--root', root, '--pcr', `0=${pcr0}`, '--nonce', nonce)).toBe(1);
    expect(err[0]).toMatch(/^NOT VERIFIED \(DEVELOPMENT root\): DEV_ROOT_NOT_ALLOWED/);
    expect(out).toEqual([]);

    expect(await zcp('--doc', docPath, '--root', root, '--pcr', `0=${pcr0}`, '--nonce', nonce, '--allow-dev-root')).toBe(0);
    expect(out[0]).toMatch(/^VERIFIED against a DEVELOPMENT root, not AWS hardware: /);
    expect(out.join('\n')).toContain('checked      certificate chain to the given DEVELOPMENT root');
    expect(out.join('\n')).toContain('nonce equals --nonce');

    out.length = 0;
    expect(await zcp('--doc', docPath, '--root', root, '--pcr', `0=${pcr0}`, '--nonce', nonce, '--allow-dev-root', '--json')).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result).toMatchObject({ verified: true, devRoot: true, rootKind: 'other', nonce });
    expect(result.checked).toEqual(['certificate-chain', 'signature', 'pcr0', 'nonce', 'not-debug']);
    expect(result.notChecked).toEqual(['freshness', 'public-key', 'user-data']);
  });
});
