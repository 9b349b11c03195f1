import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { httpStatusFor } from '../src/api/errors.ts';
import { core } from '../src/core.ts';
import { SentinelError } from '../src/errors.ts';
import { EnclaveClient, type EnclaveClientLike, type Operation, type Request } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { clientCredential, fakeEnclave, HAVE_ENCLAVE, SKIP_REASON, stampedFrame, startTestEnclave, type TestEnclave } from './helpers.ts';

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
    expect(body.enclave.pcr0).toBe(`0x${enclave.process.ready.pcr0}`);
    expect(body.enclave.attestedKeys).toBe(`0x${enclave.process.ready.attested_keys}`);
    expect(body.enclave.pcrs).toHaveLength(3);
    for (const pcr of body.enclave.pcrs) expect(pcr).toMatch(/^0x[0-9a-f]{96}$/);
    expect(body.attestationRoot.sha256).toBe(`0x${'ab'.repeat(32)}`);
    expect(body.enclave.moduleId).toMatch(/\S/);
    expect(body.attestationRoot.kind).toBe('development');
  });

  it('GET /v1/attestation returns a document bound to the nonce, the attested keys and the configuration', async () => {
    const nonce = 'a1'.repeat(32);
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=0x${nonce}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.nonce).toBe(`0x${nonce}`);
    expect(body.document).toMatch(/^0x([0-9a-f]{2})+$/);
    const ready = enclave.process.ready;
    const verified = core.verifyAttestation(Buffer.from(body.document.slice(2), 'hex'), {
      root: readFileSync(ready.dev_root_der!),
      atMs: Date.now(),
      // user_data = 0x03 || config_hash || policy_hash (zeros: no policy installed).
      expect: { nonce, pcrs: { '0': ready.pcr0 }, userData: `03${ready.config_hash}${ready.policy_hash ?? '00'.repeat(32)}`, publicKey: ready.attested_keys },
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

  it('GET /v1/evidence returns the boot document and the configuration as 0x-hex', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/evidence' });
    expect(res.statusCode).toBe(200);
    const e = res.json();
    expect(e.configHash).toBe(`0x${enclave.process.ready.config_hash}`);
    expect(e.configVersion).toBe(1);
    expect(e.signedConfig).toBe(`0x${readFileSync(enclave.dev.configPath).toString('hex')}`);
    const document = Buffer.from(e.attestation.slice(2), 'hex');
    expect(e.attestationHash).toBe(`0x${createHash('sha256').update(document).digest('hex')}`);
    const verified = core.verifyAttestation(document, { root: readFileSync(enclave.process.ready.dev_root_der!), atMs: Date.now() });
    expect(verified.publicKey).toBe(enclave.process.ready.attested_keys);
  });

  it('POST /v1/stamped relays a stamped body and returns the answer with its receipt', async () => {
    const frame = stampedFrame(clientCredential(enclave), { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'api' });
    const res = await app.inject({ method: 'POST', url: '/v1/stamped', payload: wireJson(frame) });
    expect(res.statusCode).toBe(200);
    const { answer, receipt, receiptId } = res.json();
    expect(res.headers['x-sentinel-receipt-id']).toBe(receiptId);
    expect(answer.type).toBe('key_generated');
    expect(answer.public_key).toMatch(/^0x[0-9a-f]{66}$/);
    const document = (await client.request({ op: 'evidence' })).attestation;
    const verified = core.verifyReceipt(Buffer.from(receipt.slice(2), 'hex'), document, {
      root: readFileSync(enclave.process.ready.dev_root_der!),
      expectedPcr0: enclave.process.ready.pcr0,
    });
    expect(verified.claims.decision).toBe('allowed');
    expect(verified.claims.requestId).toBe(receiptId);
    expect(receiptId).toMatch(/^0x[0-9a-f]{32}$/);
    expect(verified.claims.payloadHash).toBe(`0x${createHash('sha256').update(frame.body).digest('hex')}`);

    const digest = core.keccak256(Buffer.from('api'));
    const sign = stampedFrame(clientCredential(enclave), { op: 'sign_digest', key_id: answer.key_id, digest });
    const signed = (await app.inject({ method: 'POST', url: '/v1/stamped', payload: wireJson(sign) })).json();
    expect(signed.answer.type).toBe('signature');
    expect(core.verifyDigest(Buffer.from(answer.public_key.slice(2), 'hex'), digest, Buffer.from(signed.answer.signature.slice(2), 'hex'))).toBe(true);
  });

  it('maps refusals to statuses, with the answer and a receipt', async () => {
    const credential = clientCredential(enclave);
    const unstamped = await app.inject({ method: 'POST', url: '/v1/stamped', payload: wireJson(stampedFrame(null, { op: 'list_keys' } as Operation)) });
    expect(unstamped.statusCode).toBe(401);
    expect(unstamped.json().answer).toMatchObject({ type: 'error', code: 'STAMP_MISSING' });
    expect(unstamped.json().error).toEqual({ code: 'STAMP_MISSING', message: unstamped.json().answer.message });
    expect(unstamped.json().receipt).toMatch(/^0x[0-9a-f]+$/);
    expect(unstamped.json().receiptId).toMatch(/^0x[0-9a-f]{32}$/);
    expect(unstamped.headers['x-sentinel-receipt-id']).toBe(unstamped.json().receiptId);

    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/stamped',
      payload: wireJson(stampedFrame(credential, { op: 'sign_digest', key_id: 'k-missing', digest: Buffer.alloc(32) })),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().answer.code).toBe('UNKNOWN_KEY');

    const replayed = wireJson(stampedFrame(credential, { op: 'list_keys' } as Operation));
    expect((await app.inject({ method: 'POST', url: '/v1/stamped', payload: replayed })).statusCode).toBe(200);
    const again = await app.inject({ method: 'POST', url: '/v1/stamped', payload: replayed });
    expect(again.statusCode).toBe(401);
    expect(again.json().answer.code).toBe('STAMP_REPLAYED');

    const garbage = await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xff00', stamp: null } });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().answer.code).toBe('INVALID_BODY');
  });

  it('POST /v1/config relays a signed configuration; the enclave refuses garbage and replays with their codes', async () => {
    for (const payload of [{}, { signedConfig: '0xzz' }, { signedConfig: '0xa0', extra: 1 }, { signedConfig: 7 }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/config', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    }
    const garbage = await app.inject({ method: 'POST', url: '/v1/config', payload: { signedConfig: '0xa0' } });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error.code).toMatch(/^CONFIG_/);
    // The configuration the enclave booted with, again: not a higher version.
    const replay = await app.inject({ method: 'POST', url: '/v1/config', payload: { signedConfig: `0x${readFileSync(enclave.dev.configPath).toString('hex')}` } });
    expect(replay.statusCode).toBe(409);
    expect(replay.json().error.code).toBe('CONFIG_ROLLBACK');
  });

  it('validates bodies: unknown fields, wrong types, bad hex', async () => {
    const stamp = { principal: 'dev-client', timestampUs: '1', nonce: '0x' + '00'.repeat(16), signature: '0x' + '00'.repeat(64) };
    const cases: unknown[] = [
      {},
      { body: '' },
      { body: '0xzz' },
      { body: '0x0' },
      { body: 7 },
      { body: '0xa0', extra: 1 },
      { body: '0xa0', stamp: { ...stamp, extra: 1 } },
      { body: '0xa0', stamp: { ...stamp, timestampUs: '-1' } },
      { body: '0xa0', stamp: { ...stamp, timestampUs: 1.5 } },
      { body: '0xa0', stamp: { ...stamp, nonce: 'zz' } },
      { body: '0xa0', stamp: { ...stamp, principal: '' } },
    ];
    for (const payload of cases) {
      const res = await app.inject({ method: 'POST', url: '/v1/stamped', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    }
    const notJson = await app.inject({ method: 'POST', url: '/v1/stamped', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('INVALID_JSON');
    for (const url of ['/v1/nope', '/v1/keys', '/v1/sign']) {
      const notFound = await app.inject({ method: url === '/v1/nope' ? 'GET' : 'POST', url, payload: url === '/v1/nope' ? undefined : {} });
      expect(notFound.statusCode, url).toBe(404);
      expect(notFound.json().error.code).toBe('NOT_FOUND');
    }
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
    ['NOT_CONFIGURED', 503],
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
    const res = await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    await app.close();
  });

  it('at warn, requests log nothing unless they fail; a failure is logged with its reqId, at info every request is', async () => {
    const lines = async (level: string): Promise<Array<Record<string, unknown>>> => {
      const out: string[] = [];
      const stream = { write: (line: string) => void out.push(line) };
      const app = buildApp({ enclave: failingWith(new TypeError('secret detail')), logger: { level, stream } });
      expect((await app.inject({ method: 'GET', url: '/v1/nope' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0' } })).statusCode).toBe(500);
      await app.close();
      return out.map((line) => JSON.parse(line));
    };
    const warn = await lines('warn');
    expect(warn.map((l) => l.msg)).toEqual(['request failed']);
    expect(warn[0]).toMatchObject({ level: 50, reqId: expect.any(String), err: { message: 'secret detail' } });
    const info = await lines('info');
    expect(info.filter((l) => l.msg === 'request completed').map((l) => (l.res as { statusCode: number }).statusCode)).toEqual([404, 500]);
    expect(info.find((l) => l.msg === 'incoming request')).toMatchObject({ req: { method: 'GET', url: '/v1/nope' } });
    const completed500 = info.find((l) => l.msg === 'request completed' && (l.res as { statusCode: number }).statusCode === 500);
    expect(info.find((l) => l.msg === 'request failed')).toMatchObject({ level: 50, reqId: completed500!.reqId });
    expect((await lines('silent')).length).toBe(0);
  });

  it('reports an answer of the wrong kind as UNEXPECTED_RESPONSE', async () => {
    // The sidecar detects the mismatch (sidecar.test.ts); the API maps its code.
    const app = buildApp({ enclave: failingWith(new SentinelError('UNEXPECTED_RESPONSE', 'pong where receipted was expected')) });
    const res = await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0' } });
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
    expect(res.json()).toEqual({ document: '0x646f63', nonce: '0x0a0b' });
    expect(calls).toEqual([{ op: 'attest', nonce: Buffer.from([0x0a, 0x0b]) }]);
    await app.close();
  });

  it.skipIf(!HAVE_ENCLAVE)('relays the body and stamp bytes unchanged and answers with the status of a refusal', async () => {
    const calls: Request[] = [];
    const receipt = await realReceipt();
    const receiptId = core.unsafeDecodeReceiptClaims(receipt).requestId;
    let answer: Record<string, unknown> = { type: 'signature', signature: Buffer.alloc(64, 0xab), recovery_id: 1 };
    const app = buildApp({
      enclave: fakeEnclave((request) => {
        calls.push(request);
        return { id: 1, type: 'receipted', answer, receipt } as never;
      }),
    });
    const stamp = { principal: 'dev-client', timestampUs: '1767225600000000', nonce: `0x${'11'.repeat(16)}`, signature: `0x${'22'.repeat(64)}` };
    const res = await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xA16162', stamp } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      answer: { type: 'signature', signature: `0x${'ab'.repeat(64)}`, recovery_id: 1 },
      receipt: `0x${receipt.toString('hex')}`,
      receiptId,
    });
    expect(res.headers['x-sentinel-receipt-id']).toBe(receiptId);
    expect(calls).toEqual([
      {
        op: 'stamped',
        body: Buffer.from('a16162', 'hex'),
        stamp: { principal: 'dev-client', timestamp_us: 1767225600000000, nonce: Buffer.alloc(16, 0x11), signature: Buffer.alloc(64, 0x22) },
      },
    ]);
    // Numbers are taken as well as decimal strings; no stamp is relayed as null.
    await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0', stamp: { ...stamp, timestampUs: 5 } } });
    expect((calls[1] as unknown as { stamp: { timestamp_us: number } }).stamp.timestamp_us).toBe(5);
    await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0' } });
    expect((calls[2] as unknown as { stamp: unknown }).stamp).toBeNull();

    for (const [code, status] of [
      ['STAMP_MISSING', 401],
      ['UNKNOWN_PRINCIPAL', 401],
      ['STAMP_SIGNATURE_INVALID', 401],
      ['STAMP_EXPIRED', 401],
      ['STAMP_REPLAYED', 401],
      ['OPERATION_NOT_PERMITTED', 403],
      ['KEY_NOT_PERMITTED', 403],
      ['KEY_QUOTA_EXCEEDED', 403],
      ['KEY_LIMIT_REACHED', 409],
      ['UNKNOWN_KEY', 404],
      ['KEY_PURPOSE_MISMATCH', 400],
      ['NOT_CONFIGURED', 503],
    ] as const) {
      answer = { type: 'error', code, message: `because ${code}` };
      const refused = await app.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0' } });
      expect(refused.statusCode, code).toBe(status);
      expect(refused.json()).toEqual({
        error: { code, message: `because ${code}` },
        answer: { type: 'error', code, message: `because ${code}` },
        receipt: `0x${receipt.toString('hex')}`,
        receiptId,
      });
      expect(refused.headers['x-sentinel-receipt-id']).toBe(receiptId);
    }
    await app.close();
  });

  it('GET /v1/evidence relays the evidence as 0x-hex', async () => {
    const app = buildApp({
      enclave: fakeEnclave(() => ({
        id: 1,
        type: 'evidence',
        attestation: Buffer.from('doc'),
        attestation_hash: Buffer.alloc(32, 1),
        signed_config: Buffer.from('cfg'),
        config_hash: Buffer.alloc(32, 2),
        config_version: 3n,
        signed_policy: null,
        policy_hash: null,
        policy_version: null,
      })),
    });
    const res = await app.inject({ method: 'GET', url: '/v1/evidence' });
    expect(res.json()).toEqual({
      attestation: '0x646f63',
      attestationHash: `0x${'01'.repeat(32)}`,
      signedConfig: '0x636667',
      configHash: `0x${'02'.repeat(32)}`,
      configVersion: 3,
      signedPolicy: null,
      policyHash: null,
      policyVersion: null,
    });
    await app.close();
  });
});

/** One real receipt (of an unstamped list_keys, refused), from a short-lived real enclave. */
async function realReceipt(): Promise<Buffer> {
  const t = await startTestEnclave();
  const c = new EnclaveClient({ transport: unixTransport(t.socketPath) });
  try {
    await c.connect();
    return (await c.request(stampedFrame(null, { op: 'list_keys' } as Operation))).receipt;
  } finally {
    await c.close();
    await t.dispose();
  }
}

/** The JSON a client posts for a `stamped` frame. */
function wireJson(frame: Extract<Request, { op: 'stamped' }>): object {
  const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
  return {
    body: hex(frame.body),
    stamp: frame.stamp
      ? { principal: frame.stamp.principal, timestampUs: String(frame.stamp.timestamp_us), nonce: hex(frame.stamp.nonce), signature: hex(frame.stamp.signature) }
      : null,
  };
}
