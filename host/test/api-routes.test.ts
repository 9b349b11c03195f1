/**
 * The HTTP API's routes against the real enclave: every stamped route with
 * its own operation (receipt in the body and the header, verified, served
 * again by id), route/op mismatches, bad input on every route (a 4xx with a
 * code, never a 500), health and readiness, metrics, the OpenAPI document
 * and the logs (no stamp, body or credential ever in them).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import type { Operation } from '@sentinel/node/protocol';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp, type AppDeps } from '../src/api/app.ts';
import { ERROR_REGISTRY } from '../src/api/errors.ts';
import { STAMPED_ROUTES } from '../src/api/routes/stamped.ts';
import { SAMPLE_UNSIGNED_TX } from '../src/cli/demo.ts';
import { core } from '../src/core.ts';
import { SentinelError } from '../src/errors.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { stampedJson } from './api-fixture.ts';
import { clientCredential, fakeEnclave, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;

maybe('API routes against the real enclave', () => {
  let enclave: TestEnclave;
  let client: EnclaveClient;
  let app: FastifyInstance;
  let credential: string;
  let bootDocument: Buffer;
  let root: Buffer;
  const logLines: string[] = [];
  const registry = new Registry();
  const routes: RouteOptions[] = [];
  const keys: Record<string, { key_id: string; public_key: string }> = {};

  const verify = (receiptHex: string) =>
    core.verifyReceipt(Buffer.from(receiptHex.slice(2), 'hex'), bootDocument, { root, expectedPcr0: enclave.process.ready.pcr0 });

  beforeAll(async () => {
    enclave = await startTestEnclave();
    client = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await client.connect();
    credential = clientCredential(enclave);
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    app = buildApp({ enclave: client, logger: { level: 'info', stream }, metrics: registry, receiptCache: 1000 });
    app.addHook('onRoute', (route) => void routes.push(route));
    await app.ready();
    bootDocument = (await client.request({ op: 'evidence' })).attestation;
    root = readFileSync(enclave.process.ready.dev_root_der!);
  });

  afterAll(async () => {
    await app?.close();
    await client?.close();
    await enclave?.dispose();
  });

  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

  it('every stamped route serves its operation: answer, receipt and receiptId (body and header), verified and served again by id', async () => {
    const generated = await post('/v1/keys/generate', stampedJson(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'ethereum', label: 'eth' }));
    expect(generated.statusCode).toBe(200);
    keys.eth = generated.json().answer;
    const raw = await post('/v1/keys/generate', stampedJson(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'raw' }));
    keys.raw = raw.json().answer;
    const ed = await post('/v1/keys/generate', stampedJson(credential, { op: 'generate_key', curve: 'ed25519', purpose: 'raw', label: 'ed' }));
    keys.ed = ed.json().answer;

    const tx = Buffer.from(SAMPLE_UNSIGNED_TX, 'hex');
    const typedData = JSON.stringify({
      types: { EIP712Domain: [{ name: 'name', type: 'string' }], Mail: [{ name: 'contents', type: 'string' }] },
      primaryType: 'Mail',
      domain: { name: 'Test' },
      message: { contents: 'hello' },
    });
    const cases: Array<[string, Operation, string]> = [
      ['/v1/keys/list', { op: 'list_keys' } as Operation, 'key_list'],
      ['/v1/sign/transaction', { op: 'sign_ethereum_transaction', key_id: keys.eth!.key_id, unsigned_tx: tx }, 'signed_transaction'],
      ['/v1/sign/message', { op: 'sign_personal_message', key_id: keys.eth!.key_id, message: Buffer.from('hello') }, 'signature'],
      ['/v1/sign/typed-data', { op: 'sign_typed_data', key_id: keys.eth!.key_id, typed_data: typedData }, 'signature'],
      ['/v1/sign/digest', { op: 'sign_digest', key_id: keys.raw!.key_id, digest: Buffer.alloc(32, 7) }, 'signature'],
      ['/v1/stamped', { op: 'list_keys' } as Operation, 'key_list'],
    ];
    for (const [url, operation, type] of cases) {
      const res = await post(url, stampedJson(credential, operation));
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      const body = res.json();
      expect(body.answer.type, url).toBe(type);
      expect(body.receiptId, url).toMatch(/^0x[0-9a-f]{32}$/);
      expect(res.headers['x-sentinel-receipt-id'], url).toBe(body.receiptId);
      const verified = verify(body.receipt);
      expect(verified.claims.requestId).toBe(body.receiptId);
      expect(verified.claims.op).toBe(operation.op);
      expect(verified.claims.decision).toBe('allowed');
      const again = await app.inject({ method: 'GET', url: `/v1/receipts/${body.receiptId}` });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ receiptId: body.receiptId, receipt: body.receipt });
    }
    expect(keys.eth!.public_key).toMatch(/^0x[0-9a-f]{66}$/);
  });

  it('POST /v1/sign/ed25519 relays sign_ed25519 and its answer is 0x-hex', async () => {
    const body = core.encodeBody({ op: 'sign_ed25519', key_id: keys.ed!.key_id, message: Buffer.from('ed message') });
    const timestampUs = BigInt(Date.now()) * 1000n;
    const stamp = core.stampRequest(credential, 'sign_ed25519', body, timestampUs, randomBytes(16));
    const res = await post('/v1/sign/ed25519', {
      body: hex(body),
      stamp: { principal: stamp.principal, timestampUs: timestampUs.toString(), nonce: hex(stamp.nonce), signature: hex(stamp.signature) },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().receiptId).toMatch(/^0x[0-9a-f]{32}$/);
    expect(res.json().answer).toMatchObject({ type: 'signature', recovery_id: null });
    const signature = Buffer.from(res.json().answer.signature.slice(2), 'hex');
    expect(core.verifyEd25519(Buffer.from(keys.ed!.public_key.slice(2), 'hex'), Buffer.from('ed message'), signature)).toBe(true);
  });

  it('a body whose op is not the route\'s is 400 OPERATION_ROUTE_MISMATCH, before the enclave', async () => {
    const before = (await client.request({ op: 'evidence' })).config_version;
    const res = await post('/v1/keys/generate', stampedJson(credential, { op: 'list_keys' } as Operation));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'OPERATION_ROUTE_MISMATCH', message: expect.stringContaining('/v1/keys/list') } });
    expect(res.headers['x-sentinel-receipt-id']).toBeUndefined();
    for (const spec of STAMPED_ROUTES.filter((r) => r.op !== undefined && r.op !== 'list_keys')) {
      const mismatch = await post(spec.url, stampedJson(credential, { op: 'list_keys' } as Operation));
      expect(mismatch.statusCode, spec.url).toBe(400);
      expect(mismatch.json().error.code, spec.url).toBe('OPERATION_ROUTE_MISMATCH');
    }
    expect((await client.request({ op: 'evidence' })).config_version).toBe(before);
    // An undecodable body goes to the enclave, which refuses it with a receipt.
    const garbage = await post('/v1/sign/digest', { body: '0xff00' });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error.code).toBe('INVALID_BODY');
    expect(garbage.json().receiptId).toMatch(/^0x[0-9a-f]{32}$/);
  });

  it('a refusal carries error, answer, receipt and receiptId, and the receipt verifies as denied', async () => {
    const res = await post('/v1/sign/digest', stampedJson(credential, { op: 'sign_digest', key_id: keys.eth!.key_id, digest: Buffer.alloc(32, 1) }));
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('KEY_PURPOSE_MISMATCH');
    expect(body.answer).toEqual({ type: 'error', code: 'KEY_PURPOSE_MISMATCH', message: body.error.message });
    expect(res.headers['x-sentinel-receipt-id']).toBe(body.receiptId);
    const verified = verify(body.receipt);
    expect(verified.claims.decision).toBe('denied');
    expect(verified.claims.code).toBe('KEY_PURPOSE_MISMATCH');
  });

  it('GET /v1/attestation/boot, /v1/config and /v1/evidence agree, all 0x-hex', async () => {
    const boot = (await app.inject({ method: 'GET', url: '/v1/attestation/boot' })).json();
    const config = (await app.inject({ method: 'GET', url: '/v1/config' })).json();
    const evidence = (await app.inject({ method: 'GET', url: '/v1/evidence' })).json();
    expect(boot).toEqual({ attestation: evidence.attestation, attestationHash: evidence.attestationHash });
    expect(config).toEqual({ signedConfig: evidence.signedConfig, configHash: evidence.configHash, configVersion: evidence.configVersion });
    expect(config.configHash).toBe(`0x${enclave.process.ready.config_hash}`);
    expect(boot.attestation).toBe(hex(bootDocument));
  });

  it('GET /healthz and /readyz', async () => {
    const live = await app.inject({ method: 'GET', url: '/healthz' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      configHash: `0x${enclave.process.ready.config_hash}`,
      configVersion: 1,
      policyHash: `0x${enclave.process.ready.policy_hash}`,
      policyVersion: enclave.process.ready.policy_version,
    });
  });

  it('GET /metrics: requests, latency, enclave round trips and answers by code, labelled by route pattern', async () => {
    await app.inject({ method: 'GET', url: `/v1/receipts/0x${'00'.repeat(16)}` });
    await app.inject({ method: 'GET', url: '/nope/at/all' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/sentinel_http_requests_total\{method="POST",route="\/v1\/keys\/generate",status="200"\} [1-9]/);
    expect(text).toMatch(/sentinel_http_requests_total\{method="GET",route="\/v1\/receipts\/:id",status="404"\} 1/);
    expect(text).toMatch(/sentinel_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).toMatch(/sentinel_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/sign\/digest"\}/);
    expect(text).toMatch(/sentinel_enclave_rtt_seconds_count\{op="sign_ethereum_transaction"\} 1/);
    expect(text).toMatch(/sentinel_enclave_rtt_seconds_count\{op="evidence"\} [1-9]/);
    expect(text).toMatch(/sentinel_answers_total\{op="generate_key",code="OK"\} [1-9]/);
    expect(text).toMatch(/sentinel_answers_total\{op="sign_digest",code="KEY_PURPOSE_MISMATCH"\} 1/);
    expect(text).toMatch(/sentinel_answers_total\{op="sign_digest",code="INVALID_BODY"\} 1/);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('0x'); // no receipt ids or other client data as labels
  });

  it('GET /openapi.json documents every registered route, with a summary, a description and tags', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const registered = routes.flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((m) => [m, r.url] as const)).filter(([m]) => m !== 'HEAD');
    expect(registered.length).toBeGreaterThanOrEqual(20);
    for (const [method, url] of registered) {
      // Path parameters and a trailing wildcard, as @fastify/swagger writes them.
      const path = url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}');
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect(op, `${method} ${url}`).toBeDefined();
      expect(op.summary, `${method} ${url}`).toMatch(/\S/);
      expect(op.description, `${method} ${url}`).toMatch(/\S/);
      expect(op.tags?.length, `${method} ${url}`).toBeGreaterThan(0);
    }
    for (const spec of STAMPED_ROUTES) {
      const op = doc.paths[spec.url].post;
      expect(op.requestBody.content['application/json'].schema.properties.body).toBeDefined();
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '4XX', '5XX']));
    }
  });

  it('logs route and status as JSON lines, never a stamp, a body or a credential', async () => {
    logLines.length = 0;
    const operation: Operation = { op: 'sign_digest', key_id: keys.raw!.key_id, digest: Buffer.alloc(32, 9) };
    const payloads = [stampedJson(credential, operation), stampedJson(credential, { op: 'list_keys' } as Operation)];
    await post('/v1/sign/digest', payloads[0]);
    await post('/v1/keys/list', payloads[1]);
    const refused = stampedJson(credential, { op: 'sign_digest', key_id: 'k-missing', digest: Buffer.alloc(32, 3) });
    await post('/v1/sign/digest', refused);
    await post('/v1/sign/digest', { ...refused, extra: 'field' });
    const text = logLines.join('\n');
    expect(text).toContain('"route":"/v1/sign/digest"');
    expect(text).toContain('"statusCode":200');
    expect(text).toContain('"statusCode":404');
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow();
    const secret = JSON.parse(credential).secret_key.replace(/^0x/, '');
    const forbidden = [secret];
    for (const p of [...payloads, refused]) {
      const stamp = p.stamp as { nonce: string; signature: string };
      forbidden.push(p.body.slice(2), stamp.nonce.slice(2), stamp.signature.slice(2));
    }
    for (const value of forbidden) expect(text).not.toContain(value);
  });
});

describe('bad input on every route: a 4xx with a code, never a 500', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // Answers anything; the bad inputs below must never reach it.
    app = buildApp({
      enclave: fakeEnclave(() => {
        throw new SentinelError('TEST_REACHED_ENCLAVE', 'the enclave must not see this');
      }),
    });
    await app.ready();
  });
  afterAll(async () => app?.close());

  const stamp = { principal: 'dev-client', timestampUs: '1', nonce: `0x${'00'.repeat(16)}`, signature: `0x${'00'.repeat(64)}` };
  const stampedBad: Array<[string, unknown, number, string]> = [
    ['missing body', {}, 400, 'INVALID_ARGUMENT'],
    ['empty body', { body: '' }, 400, 'INVALID_ARGUMENT'],
    ['not hex', { body: '0xzz' }, 400, 'INVALID_ARGUMENT'],
    ['odd-length hex', { body: '0xabc' }, 400, 'INVALID_ARGUMENT'],
    ['wrong type', { body: 7 }, 400, 'INVALID_ARGUMENT'],
    ['array', [], 400, 'INVALID_ARGUMENT'],
    ['extra field', { body: '0xa0', extra: 1 }, 400, 'INVALID_ARGUMENT'],
    ['extra stamp field', { body: '0xa0', stamp: { ...stamp, extra: 1 } }, 400, 'INVALID_ARGUMENT'],
    ['negative timestamp', { body: '0xa0', stamp: { ...stamp, timestampUs: '-1' } }, 400, 'INVALID_ARGUMENT'],
    ['fractional timestamp', { body: '0xa0', stamp: { ...stamp, timestampUs: 1.5 } }, 400, 'INVALID_ARGUMENT'],
    ['timestamp too large', { body: '0xa0', stamp: { ...stamp, timestampUs: '9999999999999999' } }, 400, 'INVALID_ARGUMENT'],
    ['bad nonce hex', { body: '0xa0', stamp: { ...stamp, nonce: 'zz' } }, 400, 'INVALID_ARGUMENT'],
    ['odd signature hex', { body: '0xa0', stamp: { ...stamp, signature: '0x000' } }, 400, 'INVALID_ARGUMENT'],
    ['empty principal', { body: '0xa0', stamp: { ...stamp, principal: '' } }, 400, 'INVALID_ARGUMENT'],
    ['stamp of the wrong type', { body: '0xa0', stamp: 'yes' }, 400, 'INVALID_ARGUMENT'],
    ['body too long for the schema', { body: `0x${'00'.repeat(core.MAX_BODY_BYTES + 1)}` }, 400, 'INVALID_ARGUMENT'],
  ];

  for (const spec of STAMPED_ROUTES) {
    it.each(stampedBad)(`POST ${spec.url}: %s`, async (_name, payload, status, code) => {
      const res = await app.inject({ method: 'POST', url: spec.url, payload: payload as object });
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(res.json().error.message).toMatch(/\S/);
    });
  }

  it('says what is wrong with bad hex', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/sign/digest', payload: { body: '0xabc' } });
    expect(res.json().error.message).toMatch(/^body\/body must be hex \(0x prefix optional, an even number of digits\) of 1 to \d+ bytes$/);
    const extra = await app.inject({ method: 'POST', url: '/v1/sign/digest', payload: { body: '0xab', what: 1 } });
    expect(extra.json().error.message).toBe('body has an unknown field "what"');
  });

  const transport: Array<[string, { url: string; headers?: Record<string, string>; payload?: string }, number, string]> = [
    ['bad JSON', { url: '/v1/sign/digest', headers: { 'content-type': 'application/json' }, payload: '{"body":' }, 400, 'INVALID_JSON'],
    ['empty JSON', { url: '/v1/sign/digest', headers: { 'content-type': 'application/json' }, payload: '' }, 400, 'INVALID_JSON'],
    ['prototype poisoning', { url: '/v1/sign/digest', headers: { 'content-type': 'application/json' }, payload: '{"body":"0xa0","__proto__":{"x":1}}' }, 400, 'INVALID_JSON'],
    ['text/plain', { url: '/v1/sign/digest', headers: { 'content-type': 'text/plain' }, payload: '{"body":"0xa0"}' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['CBOR content type', { url: '/v1/stamped', headers: { 'content-type': 'application/cbor' }, payload: 'a0' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['form', { url: '/v1/config', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['oversize body', { url: '/v1/stamped', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ body: `0x${'00'.repeat(300_000)}` }) }, 413, 'PAYLOAD_TOO_LARGE'],
    ['oversize config', { url: '/v1/config', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ signedConfig: `0x${'00'.repeat(core.MAX_FRAME_BYTES)}` }) }, 413, 'PAYLOAD_TOO_LARGE'],
  ];
  it.each(transport)('POST: %s', async (_name, request, status, code) => {
    const res = await app.inject({ method: 'POST', ...request });
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().error.code).toBe(code);
  });

  const gets: Array<[string, number, string]> = [
    ['/v1/attestation', 400, 'INVALID_ARGUMENT'],
    ['/v1/attestation?nonce=', 400, 'INVALID_ARGUMENT'],
    ['/v1/attestation?nonce=0xabc', 400, 'INVALID_ARGUMENT'],
    ['/v1/attestation?nonce=zz', 400, 'INVALID_ARGUMENT'],
    [`/v1/attestation?nonce=${'00'.repeat(core.MAX_NONCE_BYTES + 1)}`, 400, 'INVALID_ARGUMENT'],
    ['/v1/attestation?nonce=00&user_data=41', 400, 'INVALID_ARGUMENT'],
    ['/v1/attestation?nonce=00&nonce=01', 400, 'INVALID_ARGUMENT'],
    [`/v1/receipts/0x${'ab'.repeat(16)}`, 404, 'RECEIPT_NOT_FOUND'],
    [`/v1/receipts/${'AB'.repeat(16)}`, 404, 'RECEIPT_NOT_FOUND'],
    ['/v1/receipts/0x1234', 400, 'INVALID_ARGUMENT'],
    [`/v1/receipts/0x${'zz'.repeat(16)}`, 400, 'INVALID_ARGUMENT'],
    [`/v1/receipts/0x${'ab'.repeat(17)}`, 400, 'INVALID_ARGUMENT'],
    ['/v1/receipts/', 400, 'INVALID_ARGUMENT'],
    ['/v1/nope', 404, 'NOT_FOUND'],
    ['/v1/keys', 404, 'NOT_FOUND'],
    ['/v1/keys/generate', 404, 'NOT_FOUND'],
  ];
  it.each(gets)('GET %s', async (url, status, code) => {
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().error.code).toBe(code);
  });

  it('POST /v1/config: wrong types, extra fields, bad hex', async () => {
    for (const payload of [{}, { signedConfig: '0xzz' }, { signedConfig: '0xabc' }, { signedConfig: '0xa0', extra: 1 }, { signedConfig: 7 }, { signedConfig: null }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/config', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('unknown methods on known paths are 404 NOT_FOUND', async () => {
    for (const [method, url] of [['DELETE', '/v1/config'], ['PUT', '/v1/stamped'], ['POST', '/healthz'], ['PATCH', '/v1/receipts/0x00']] as const) {
      const res = await app.inject({ method, url, payload: {} });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
  });
});

describe('API without a working enclave', () => {
  it('/readyz is 503 NOT_READY when the enclave does not answer or is not configured; /healthz stays 200', async () => {
    for (const code of ['ENCLAVE_UNAVAILABLE', 'NOT_CONFIGURED', 'ENCLAVE_TIMEOUT']) {
      const app = buildApp({ enclave: { request: () => Promise.reject(new SentinelError(code, code)) } });
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().error.code).toBe('NOT_READY');
      expect(ready.json().error.message).toContain(code);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      await app.close();
    }
  });

  it.skipIf(!HAVE_ENCLAVE)('/readyz is 503 against a real enclave without a configuration', async () => {
    const t = await startTestEnclave({ configured: false });
    const c = new EnclaveClient({ transport: unixTransport(t.socketPath) });
    try {
      await c.connect();
      const app = buildApp({ enclave: c });
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().error).toEqual({ code: 'NOT_READY', message: 'the enclave is not ready: NOT_CONFIGURED' });
      await app.close();
    } finally {
      await c.close();
      await t.dispose();
    }
  });

  it('shares a metrics registry between apps without registering twice', async () => {
    const registry = new Registry();
    const deps: AppDeps = { enclave: fakeEnclave(() => ({ id: 1, type: 'pong', payload: Buffer.alloc(0) })), metrics: registry };
    const a = buildApp(deps);
    const b = buildApp(deps);
    await a.inject({ method: 'GET', url: '/healthz' });
    await b.inject({ method: 'GET', url: '/healthz' });
    expect(await registry.metrics()).toMatch(/sentinel_http_requests_total\{method="GET",route="\/healthz",status="200"\} 2/);
    await a.close();
    await b.close();
  });
});

describe('receipt cache', () => {
  it.skipIf(!HAVE_ENCLAVE)('keeps the most recent receipts only (bounded)', async () => {
    const t = await startTestEnclave();
    const c = new EnclaveClient({ transport: unixTransport(t.socketPath) });
    try {
      await c.connect();
      const app = buildApp({ enclave: c, receiptCache: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await app.inject({ method: 'POST', url: '/v1/keys/list', payload: stampedJson(clientCredential(t), { op: 'list_keys' } as Operation) });
        ids.push(res.json().receiptId);
      }
      expect(new Set(ids).size).toBe(3);
      expect((await app.inject({ method: 'GET', url: `/v1/receipts/${ids[0]}` })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: `/v1/receipts/${ids[1]}` })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: `/v1/receipts/${ids[2]!.toUpperCase().replace('0X', '0x')}` })).statusCode).toBe(200);
      await app.close();
    } finally {
      await c.close();
      await t.dispose();
    }
  });
});

describe('error registry', () => {
  it('has a 4xx/5xx status and a message for every code, and the new API codes', () => {
    for (const [code, info] of Object.entries(ERROR_REGISTRY)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(info.message, code).toMatch(/\S/);
      // The one code that is no refusal: a request held for human approval is 202 Accepted.
      if (code === 'APPROVAL_PENDING') {
        expect(info.status).toBe(202);
        continue;
      }
      expect(info.status, code).toBeGreaterThanOrEqual(400);
      expect(info.status, code).toBeLessThan(600);
      expect(info.message, code).toMatch(/\S/);
    }
    expect(ERROR_REGISTRY.OPERATION_ROUTE_MISMATCH?.status).toBe(400);
    expect(ERROR_REGISTRY.RECEIPT_NOT_FOUND?.status).toBe(404);
    expect(ERROR_REGISTRY.NOT_READY?.status).toBe(503);
    expect(ERROR_REGISTRY.INVALID_TRANSACTION_JSON?.status).toBe(400);
    expect(ERROR_REGISTRY.PAYLOAD_TOO_LARGE?.status).toBe(413);
    expect(ERROR_REGISTRY.UNSUPPORTED_MEDIA_TYPE?.status).toBe(415);
  });

  it('docs/api.md lists every code of the registry with its status', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8');
    const missing = Object.entries(ERROR_REGISTRY).filter(([code, info]) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${info.status}\\s*\\|`).test(doc));
    expect(missing.map(([code]) => code)).toEqual([]);
  });

  it('docs/api.md documents every route', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8');
    const app = buildApp({ enclave: fakeEnclave(() => ({ id: 1, type: 'pong', payload: Buffer.alloc(0) })) });
    const routes: string[] = [];
    app.addHook('onRoute', (r) => {
      for (const m of Array.isArray(r.method) ? r.method : [r.method]) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
    });
    return app.ready().then(async () => {
      for (const route of routes) expect(doc, route).toContain(`\`${route}\``);
      await app.close();
    });
  });
});
