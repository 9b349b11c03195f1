/**
 * The API on a real socket over HTTPS with the development certificate, in
 * front of the real enclave: a client that trusts exactly that certificate
 * stamps an operation, posts it, and verifies the receipt it gets back; a
 * client that does not trust it, or speaks plain HTTP, gets nothing.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Operation } from '@sentinel/node/protocol';
import type { FastifyInstance } from 'fastify';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp, DEFAULT_HTTP_TIMEOUTS } from '../src/api/app.ts';
import { core } from '../src/core.ts';
import { ensureDevCertificate } from '../src/local/dev-cert.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { stampedJson } from './api-fixture.ts';
import { clientCredential, fakeEnclave, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

describe('development certificate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-cert-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is ECDSA P-256 for 127.0.0.1, ::1 and localhost, key mode 0600, and reused on the next run', async () => {
    const first = await ensureDevCertificate(dir);
    expect(first.created).toBe(true);
    expect(first.certPath).toBe(join(dir, 'tls', 'cert.pem'));
    expect(first.keyPath).toBe(join(dir, 'tls', 'key.pem'));
    expect(statSync(first.keyPath).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(readFileSync(first.certPath));
    expect(x509.publicKey.asymmetricKeyType).toBe('ec');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBeDefined();
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkHost('example.com')).toBeUndefined();
    const again = await ensureDevCertificate(dir);
    expect(again.created).toBe(false);
    expect(again.cert).toBe(first.cert);
  });

  it('is made anew when it expires within a day, when a name is missing, or when the files are damaged', async () => {
    const current = await ensureDevCertificate(dir);
    const later = await ensureDevCertificate(dir, [], Date.now() + 365 * 24 * 3600 * 1000);
    expect(later.created).toBe(true);
    expect(later.cert).not.toBe(current.cert);
    const named = await ensureDevCertificate(dir, ['signer.internal', '10.0.0.5']);
    expect(named.created).toBe(true);
    const x509 = new X509Certificate(named.cert);
    expect(x509.checkHost('signer.internal')).toBe('signer.internal');
    expect(x509.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect((await ensureDevCertificate(dir, ['signer.internal'])).created).toBe(false);
    writeFileSync(named.keyPath, 'garbage', { mode: 0o600 });
    const repaired = await ensureDevCertificate(dir);
    expect(repaired.created).toBe(true);
    expect(statSync(repaired.keyPath).mode & 0o777).toBe(0o600);
  });
});

maybe('API over HTTPS on a real socket, real enclave', () => {
  let enclave: TestEnclave;
  let client: EnclaveClient;
  let app: FastifyInstance;
  let url: string;
  let ca: string;
  let dispatcher: Agent;

  beforeAll(async () => {
    enclave = await startTestEnclave();
    client = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await client.connect();
    const cert = await ensureDevCertificate(enclave.dataDir);
    ca = cert.cert;
    app = buildApp({ enclave: client, https: { key: cert.key, cert: cert.cert } });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    dispatcher = new Agent({ connect: { ca } });
  });

  afterAll(async () => {
    await dispatcher?.close();
    await app?.close();
    await client?.close();
    await enclave?.dispose();
  });

  it('listens on https:// with the timeouts applied to the TLS server', () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(app.server.requestTimeout).toBe(DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs);
    expect(app.server.headersTimeout).toBe(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs);
    expect(app.server.keepAliveTimeout).toBe(DEFAULT_HTTP_TIMEOUTS.keepAliveTimeoutMs);
  });

  it('a stamped operation over TLS comes back with a receipt that verifies against the boot attestation', async () => {
    const credential = clientCredential(enclave);
    const post = async (path: string, payload: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        dispatcher,
      });
      return { status: res.status, header: res.headers.get('x-sentinel-receipt-id'), body: (await res.json()) as Record<string, any> };
    };
    const generated = await post('/v1/keys/generate', stampedJson(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'tls' }));
    expect(generated.status).toBe(200);
    const keyId = generated.body.answer.key_id as string;
    const digest = core.keccak256(Buffer.from('over tls'));
    const operation: Operation = { op: 'sign_digest', key_id: keyId, digest };
    const signed = await post('/v1/sign/digest', stampedJson(credential, operation));
    expect(signed.status).toBe(200);
    expect(signed.header).toBe(signed.body.receiptId);

    const boot = (await (await fetch(`${url}/v1/attestation/boot`, { dispatcher })).json()) as { attestation: string };
    const verified = core.verifyReceipt(Buffer.from(signed.body.receipt.slice(2), 'hex'), Buffer.from(boot.attestation.slice(2), 'hex'), {
      root: readFileSync(enclave.process.ready.dev_root_der!),
      expectedPcr0: enclave.process.ready.pcr0,
      expectedConfigHash: enclave.process.ready.config_hash!,
    });
    expect(verified.claims.requestId).toBe(signed.body.receiptId);
    expect(verified.claims.op).toBe('sign_digest');
    expect(verified.claims.keyId).toBe(keyId);
    expect(verified.claims.payloadHash).toBe(`0x${sha256(core.encodeBody(operation)).toString('hex')}`);
    const publicKey = Buffer.from((generated.body.answer.public_key as string).slice(2), 'hex');
    expect(core.verifyDigest(publicKey, digest, Buffer.from(signed.body.answer.signature.slice(2), 'hex'))).toBe(true);

    const stored = (await (await fetch(`${url}/v1/receipts/${signed.body.receiptId}`, { dispatcher })).json()) as { receipt: string };
    expect(stored.receipt).toBe(signed.body.receipt);
  });

  it('bad input over the socket is a 4xx with a code', async () => {
    const res = await fetch(`${url}/v1/sign/digest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"body":', dispatcher });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    const big = await fetch(`${url}/v1/stamped`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: `0x${'00'.repeat(400_000)}` }),
      dispatcher,
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a client that does not trust the certificate, or speaks plain HTTP, gets no answer', async () => {
    await expect(fetch(`${url}/healthz`, { dispatcher: new Agent() })).rejects.toThrow();
    const port = Number(new URL(url).port);
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz' }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (e) => resolve(`error ${e.message}`));
      req.end();
    });
    expect(plain).not.toBe('status 200');
  });
});

describe('plain HTTP (--insecure-http)', () => {
  it('buildApp without https serves http://', async () => {
    const app = buildApp({ enclave: fakeEnclave(() => ({ id: 1, type: 'pong', payload: Buffer.alloc(0) })) });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    expect(url).toMatch(/^http:\/\//);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await app.close();
  });
});

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
