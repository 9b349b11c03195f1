import { readFileSync } from 'node:fs';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { httpStatusFor } from '../src/api/errors.ts';
import { SAMPLE_UNSIGNED_TX } from '../src/cli/demo.ts';
import { core } from '../src/core.ts';
import { SentinelError } from '../src/errors.ts';
import { EnclaveClient, type EnclaveClientLike } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { fakeEnclave, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

maybe('API against the real enclave', () => {
  let enclave: TestEnclave;
  let client: EnclaveClient;
  let app: FastifyInstance;

  beforeAll(async () => {
    enclave = await startTestEnclave();
    client = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await client.connect();
    app = buildApp({ enclave: client, devRoot: { path: enclave.process.ready.dev_root_der!, sha256: 'ab'.repeat(32) } });
  });

  afterAll(async () => {
    await app?.close();
    await client?.close();
    await enclave?.dispose();
  });

  it('GET /v1/health describes the enclave', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ok');
    expect(body.enclave.pcr0).toBe(enclave.process.ready.pcr0);
    expect(body.enclave.identityPublicKey).toBe(enclave.process.ready.identity_public_key);
    expect(body.enclave.moduleId).toMatch(/\S/);
    expect(body.attestationRoot.kind).toBe('development');
  });

  it('GET /v1/attestation returns a document bound to the nonce and nothing else from the client', async () => {
    const nonce = 'a1'.repeat(32);
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=0x${nonce}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.nonce).toBe(nonce);
    const verified = core.verifyAttestation(Buffer.from(body.document, 'base64'), {
      root: readFileSync(enclave.process.ready.dev_root_der!),
      atMs: Date.now(),
      expect: { nonce, pcrs: { '0': enclave.process.ready.pcr0 }, userData: enclave.process.ready.user_data },
    });
    expect(verified.nonce).toBe(nonce);
  });

  it('GET /v1/attestation refuses user_data and malformed or oversized nonces', async () => {
    for (const url of [
      '/v1/attestation',
      '/v1/attestation?nonce=',
      '/v1/attestation?nonce=abc',
      '/v1/attestation?nonce=zz',
      `/v1/attestation?nonce=${'00'.repeat(513)}`,
      '/v1/attestation?nonce=00&user_data=41',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('INVALID_ARGUMENT');
    }
    const max = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${'00'.repeat(512)}` });
    expect(max.statusCode).toBe(200);
  });

  it('POST /v1/keys, /v1/sign and /v1/ethereum/transactions/sign', async () => {
    const created = await app.inject({ method: 'POST', url: '/v1/keys', payload: { curve: 'secp256k1' } });
    expect(created.statusCode).toBe(201);
    const key = created.json();
    expect(key.keyId).toMatch(/\S/);
    expect(key.curve).toBe('secp256k1');
    const publicKey = Buffer.from(key.publicKey, 'hex');

    const digest = core.keccak256(Buffer.from('api'));
    const signed = await app.inject({ method: 'POST', url: '/v1/sign', payload: { keyId: key.keyId, digest: digest.toString('hex') } });
    expect(signed.statusCode).toBe(200);
    const { signature, recoveryId } = signed.json();
    expect(core.verifyDigest(publicKey, digest, Buffer.from(signature, 'hex'))).toBe(true);
    expect(core.recoverPublicKey(digest, Buffer.from(signature, 'hex'), recoveryId).equals(publicKey)).toBe(true);

    const tx = await app.inject({
      method: 'POST',
      url: '/v1/ethereum/transactions/sign',
      payload: { keyId: key.keyId, unsignedTx: `0x${SAMPLE_UNSIGNED_TX}` },
    });
    expect(tx.statusCode).toBe(200);
    const recovered = core.recoverEthereumTransactionSigner(Buffer.from(tx.json().signedTx, 'hex'));
    expect(recovered.signer).toBe(core.ethereumAddress(publicKey));
  });

  it('maps enclave errors to statuses with their codes', async () => {
    const unknown = await app.inject({ method: 'POST', url: '/v1/sign', payload: { keyId: 'k-missing', digest: '00'.repeat(32) } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('UNKNOWN_KEY');

    const ed = (await app.inject({ method: 'POST', url: '/v1/keys', payload: { curve: 'ed25519' } })).json();
    const mismatch = await app.inject({
      method: 'POST',
      url: '/v1/ethereum/transactions/sign',
      payload: { keyId: ed.keyId, unsignedTx: SAMPLE_UNSIGNED_TX },
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().error.code).toBe('KEY_CURVE_MISMATCH');

    const k = (await app.inject({ method: 'POST', url: '/v1/keys', payload: { curve: 'secp256k1' } })).json();
    const badTx = await app.inject({ method: 'POST', url: '/v1/ethereum/transactions/sign', payload: { keyId: k.keyId, unsignedTx: '02c0ff' } });
    expect(badTx.statusCode).toBe(400);
    expect(badTx.json().error.code).toMatch(/^[A-Z_]+$/);
  });

  it('validates bodies: unknown fields, wrong types, bad hex, wrong digest length', async () => {
    const cases: Array<[string, unknown]> = [
      ['/v1/keys', { curve: 'p256' }],
      ['/v1/keys', { curve: 'secp256k1', extra: 1 }],
      ['/v1/keys', {}],
      ['/v1/sign', { keyId: 'k', digest: '00'.repeat(31) }],
      ['/v1/sign', { keyId: 'k', digest: 'zz'.repeat(32) }],
      ['/v1/sign', { keyId: 7, digest: '00'.repeat(32) }],
      ['/v1/sign', { keyId: 'has space', digest: '00'.repeat(32) }],
      ['/v1/ethereum/transactions/sign', { keyId: 'k', unsignedTx: '' }],
      ['/v1/ethereum/transactions/sign', { keyId: 'k', unsignedTx: '0x0' }],
    ];
    for (const [url, payload] of cases) {
      const res = await app.inject({ method: 'POST', url, payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    }
    const notJson = await app.inject({ method: 'POST', url: '/v1/keys', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('INVALID_ARGUMENT');
    const notFound = await app.inject({ method: 'GET', url: '/v1/nope' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json().error.code).toBe('NOT_FOUND');
  });
});

describe('API error mapping', () => {
  function failingWith(error: Error): EnclaveClientLike {
    return { request: () => Promise.reject(error) };
  }

  it.each([
    ['ENCLAVE_UNAVAILABLE', 503],
    ['ENCLAVE_TIMEOUT', 504],
    ['ENCLAVE_BUSY', 429],
    ['UNKNOWN_KEY', 404],
    ['KEY_LIMIT_REACHED', 409],
    ['SIGNATURE_SELF_CHECK_FAILED', 500],
    ['INVALID_NONCE', 400],
    ['NSM_INTERNAL_ERROR', 500],
    ['MALFORMED_FRAME', 500],
  ])('%s -> %i with the code in the body', async (code, status) => {
    const app = buildApp({ enclave: failingWith(new SentinelError(code, `because ${code}`)) });
    const res = await app.inject({ method: 'GET', url: '/v1/health' });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: { code, message: `because ${code}` } });
    expect(httpStatusFor(code)).toBe(status);
    await app.close();
  });

  it('hides uncoded internal errors behind INTERNAL', async () => {
    const app = buildApp({ enclave: failingWith(new TypeError('secret detail')) });
    const res = await app.inject({ method: 'POST', url: '/v1/keys', payload: { curve: 'ed25519' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    await app.close();
  });

  it('reports an answer of the wrong kind as UNEXPECTED_RESPONSE', async () => {
    // The sidecar detects the mismatch (sidecar.test.ts); the API maps its code.
    const app = buildApp({ enclave: failingWith(new SentinelError('UNEXPECTED_RESPONSE', 'pong where key_generated was expected')) });
    const res = await app.inject({ method: 'POST', url: '/v1/keys', payload: { curve: 'ed25519' } });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('UNEXPECTED_RESPONSE');
    await app.close();
  });

  it('forwards only the nonce to the enclave for attestation', async () => {
    const calls: unknown[] = [];
    const app = buildApp({
      enclave: fakeEnclave((request) => {
        calls.push(request);
        return { id: 1, type: 'attestation', document: Buffer.from('doc') };
      }),
    });
    const res = await app.inject({ method: 'GET', url: '/v1/attestation?nonce=0A0b' });
    expect(res.json()).toEqual({ document: Buffer.from('doc').toString('base64'), nonce: '0a0b' });
    expect(calls).toEqual([{ op: 'attest', nonce: Buffer.from([0x0a, 0x0b]) }]);
    await app.close();
  });
});
