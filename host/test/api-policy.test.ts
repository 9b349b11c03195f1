/**
 * The policy routes with inject(): what each relays to the enclave (frames
 * checked byte for byte against a stand-in enclave), how answers are shaped,
 * every refusal code with its HTTP status, bad input (a 4xx with a code,
 * never a 500), readiness without a policy, and POST /v1/policy/validate
 * against the real core (the document as written: a key twice is refused).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { Operation } from '@sentinel/node/protocol';
import { afterEach, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { ERROR_REGISTRY, httpStatusFor } from '../src/api/errors.ts';
import { core } from '../src/core.ts';
import { SentinelError } from '../src/errors.ts';
import { policyCore } from '../src/policy-core.ts';
import type { EnclaveResponse, Request } from '../src/sidecar/client.ts';
import { hex, stampedJson } from './api-fixture.ts';
import { fakeEnclave } from './helpers.ts';
import { policyDocument } from './policy-fixture.ts';

const HASH = Buffer.alloc(32, 0xab);
const ENVELOPE = { policy: { version: 2, name: 'p', rules: [] }, signatures: [{ admin: 'dev-admin', signature: '0x00' }] };

function evidence(policy: boolean): EnclaveResponse {
  return {
    id: 1,
    type: 'evidence',
    attestation: Buffer.from('doc'),
    attestation_hash: Buffer.alloc(32, 1),
    signed_config: Buffer.from('cfg'),
    config_hash: Buffer.alloc(32, 2),
    config_version: 3n,
    signed_policy: policy ? Buffer.from(JSON.stringify(ENVELOPE)) : null,
    policy_hash: policy ? HASH : null,
    policy_version: policy ? 2n : null,
  } as unknown as EnclaveResponse;
}

/** An app over a stand-in enclave that records every frame and answers with `answer`. */
function appWith(answer: (request: Request) => EnclaveResponse | Promise<EnclaveResponse>) {
  const seen: Request[] = [];
  const app = buildApp({
    enclave: fakeEnclave((request) => {
      seen.push(request);
      return answer(request);
    }),
  });
  return { app, seen };
}

const refuse = (code: string) => (): never => {
  throw new SentinelError(code, `enclave says ${code}`);
};

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
function track<T extends { app: { close(): Promise<unknown> } }>(x: T): T {
  apps.push(x.app);
  return x;
}

describe('GET /v1/policy, /v1/evidence and /readyz', () => {
  it('GET /v1/policy serves the signed envelope, its hash and version from the evidence', async () => {
    const { app, seen } = track(appWith(() => evidence(true)));
    const res = await app.inject({ method: 'GET', url: '/v1/policy' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ signedPolicy: ENVELOPE, policyHash: hex(HASH), policyVersion: 2 });
    expect(seen).toEqual([{ op: 'evidence' }]);
  });

  it('GET /v1/policy is 404 POLICY_NOT_INSTALLED without a policy', async () => {
    const { app } = track(appWith(() => evidence(false)));
    const res = await app.inject({ method: 'GET', url: '/v1/policy' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('POLICY_NOT_INSTALLED');
  });

  it('GET /v1/evidence carries the signed policy (0x-hex of its JSON), its hash and version, or nulls', async () => {
    const { app } = track(appWith(() => evidence(true)));
    const e = (await app.inject({ method: 'GET', url: '/v1/evidence' })).json();
    expect(e).toMatchObject({ signedPolicy: hex(Buffer.from(JSON.stringify(ENVELOPE))), policyHash: hex(HASH), policyVersion: 2, configVersion: 3 });
    const { app: none } = track(appWith(() => evidence(false)));
    expect((await none.inject({ method: 'GET', url: '/v1/evidence' })).json()).toMatchObject({ signedPolicy: null, policyHash: null, policyVersion: null });
  });

  it('/readyz needs a policy: 503 NOT_READY (POLICY_NOT_INSTALLED) without one, 200 with its hash and version with one', async () => {
    const { app } = track(appWith(() => evidence(false)));
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toEqual({ code: 'NOT_READY', message: 'the enclave is not ready: POLICY_NOT_INSTALLED' });
    const { app: ready } = track(appWith(() => evidence(true)));
    const ok = await ready.inject({ method: 'GET', url: '/readyz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ready', configHash: hex(Buffer.alloc(32, 2)), configVersion: 3, policyHash: hex(HASH), policyVersion: 2 });
  });
});

describe('POST /v1/policy', () => {
  const updated = (): EnclaveResponse =>
    ({ id: 1, type: 'policy_updated', policy_hash: HASH, version: 7n, attestation_hash: Buffer.alloc(32, 9) }) as unknown as EnclaveResponse;

  it('relays the envelope text byte for byte (a string) and the models, and answers the hash, version and new attestation', async () => {
    const { app, seen } = track(appWith(updated));
    const text = `{ "policy": {"version": 7, "name": "x", "rules": []},\n "signatures": [] }`;
    const res = await app.inject({ method: 'POST', url: '/v1/policy', payload: { signedPolicy: text, models: ['0x0102', 'ff'] } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ policyHash: hex(HASH), version: 7, attestationHash: hex(Buffer.alloc(32, 9)) });
    expect(seen).toHaveLength(1);
    const frame = seen[0] as Extract<Request, { op: 'update_policy' }>;
    expect(frame.op).toBe('update_policy');
    expect(Buffer.from(frame.signed_policy).toString('utf8')).toBe(text);
    expect(frame.models.map((m: { onnx: Uint8Array }) => Buffer.from(m.onnx).toString('hex'))).toEqual(['0102', 'ff']);
  });

  it('hands what the enclave installed to the stack (the files the next start boots with), and nothing it refused', async () => {
    const kept: Array<{ policy: string; models: string[] }> = [];
    const installed = {
      policy: async (signed: Uint8Array, models: Uint8Array[]) => {
        kept.push({ policy: Buffer.from(signed).toString('utf8'), models: models.map((m) => Buffer.from(m).toString('hex')) });
      },
    };
    const ok = buildApp({ enclave: fakeEnclave(() => updated()), installed });
    const refused = buildApp({ enclave: fakeEnclave(refuse('POLICY_ROLLBACK')), installed });
    apps.push(ok, refused);
    const text = JSON.stringify(ENVELOPE);
    expect((await ok.inject({ method: 'POST', url: '/v1/policy', payload: { signedPolicy: text, models: ['0a0b'] } })).statusCode).toBe(200);
    expect((await refused.inject({ method: 'POST', url: '/v1/policy', payload: { signedPolicy: text } })).statusCode).toBe(409);
    expect(kept).toEqual([{ policy: text, models: ['0a0b'] }]);
  });

  it('takes the envelope as a JSON object too (serialized), with no models', async () => {
    const { app, seen } = track(appWith(updated));
    const res = await app.inject({ method: 'POST', url: '/v1/policy', payload: { signedPolicy: ENVELOPE } });
    expect(res.statusCode, res.body).toBe(200);
    const frame = seen[0] as Extract<Request, { op: 'update_policy' }>;
    expect(JSON.parse(Buffer.from(frame.signed_policy).toString('utf8'))).toEqual(ENVELOPE);
    expect(frame.models).toEqual([]);
  });

  it.each([
    ['POLICY_ROLLBACK', 409],
    ['POLICY_QUORUM_NOT_MET', 403],
    ['POLICY_MODEL_MISSING', 400],
    ['POLICY_MODEL_INVALID', 400],
    ['POLICY_INVALID', 400],
    ['POLICY_MALFORMED', 400],
    ['POLICY_DUPLICATE_ID', 400],
    ['POLICY_TOO_LARGE', 413],
    ['NOT_CONFIGURED', 503],
  ])('the enclave refuses with %s: HTTP %i and its code', async (code, status) => {
    const { app } = track(appWith(refuse(code)));
    const res = await app.inject({ method: 'POST', url: '/v1/policy', payload: { signedPolicy: ENVELOPE } });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: { code, message: `enclave says ${code}` } });
  });

  it.each([
    ['no signedPolicy', {}],
    ['a number', { signedPolicy: 7 }],
    ['an array', { signedPolicy: [] }],
    ['an envelope without signatures', { signedPolicy: { policy: {} } }],
    ['bad model hex', { signedPolicy: ENVELOPE, models: ['0xzz'] }],
    ['odd model hex', { signedPolicy: ENVELOPE, models: ['0xabc'] }],
    ['an extra field', { signedPolicy: ENVELOPE, extra: 1 }],
  ])('bad input (%s) is 400 INVALID_ARGUMENT before the enclave', async (_name, payload) => {
    const { app, seen } = track(appWith(refuse('TEST_REACHED_ENCLAVE')));
    const res = await app.inject({ method: 'POST', url: '/v1/policy', payload: payload as object });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    expect(seen).toEqual([]);
  });
});

describe('POST /v1/policy/dry-run', () => {
  const credential = core.generateCredential('client', 'dev-client', 'ed25519');
  const operation: Operation = { op: 'sign_personal_message', key_id: 'k-1', message: Buffer.from('hi') };
  const evaluation = (): EnclaveResponse =>
    ({
      id: 1,
      type: 'policy_evaluation',
      decision: 'denied',
      code: 'POLICY_DENIED',
      policy_hash: HASH,
      rules_evaluated: [
        { rule: 'cap', type: 'notional_limit', result: 'deny', value: '2', limit: '1', window: null, detail: 'native:1337 wei' },
        { rule: 'hours', type: 'time_window', result: 'allow', value: null, limit: null, window: null, detail: null },
      ],
    }) as unknown as EnclaveResponse;

  it('relays { body, stamp } as a policy_dry_run frame (the body bytes unchanged) and answers the evaluation', async () => {
    const { app, seen } = track(appWith(evaluation));
    const payload = stampedJson(credential, operation);
    const res = await app.inject({ method: 'POST', url: '/v1/policy/dry-run', payload });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      decision: 'denied',
      code: 'POLICY_DENIED',
      policyHash: hex(HASH),
      rulesEvaluated: [
        { rule: 'cap', type: 'notional_limit', result: 'deny', value: '2', limit: '1', window: null, detail: 'native:1337 wei' },
        { rule: 'hours', type: 'time_window', result: 'allow', value: null, limit: null, window: null, detail: null },
      ],
    });
    const frame = seen[0] as Extract<Request, { op: 'policy_dry_run' }>;
    expect(frame.op).toBe('policy_dry_run');
    expect(hex(frame.body)).toBe(payload.body);
    const stamp = payload.stamp as { principal: string; timestampUs: string; nonce: string; signature: string };
    expect(frame.stamp).toEqual({
      principal: stamp.principal,
      timestamp_us: Number(stamp.timestampUs),
      nonce: Buffer.from(stamp.nonce.slice(2), 'hex'),
      signature: Buffer.from(stamp.signature.slice(2), 'hex'),
    });
  });

  it('an allowed evaluation without a policy hash keeps the nulls', async () => {
    const { app } = track(
      appWith(() => ({ id: 1, type: 'policy_evaluation', decision: 'allowed', code: null, policy_hash: null, rules_evaluated: [] }) as unknown as EnclaveResponse),
    );
    const res = await app.inject({ method: 'POST', url: '/v1/policy/dry-run', payload: stampedJson(credential, operation) });
    expect(res.json()).toEqual({ decision: 'allowed', code: null, policyHash: null, rulesEvaluated: [] });
  });

  it.each([
    ['STAMP_EXPIRED', 401],
    ['STAMP_SIGNATURE_INVALID', 401],
    ['UNKNOWN_PRINCIPAL', 401],
    ['INVALID_BODY', 400],
    ['ENCLAVE_UNAVAILABLE', 503],
  ])('an enclave error %s is HTTP %i with its code', async (code, status) => {
    const { app } = track(appWith(refuse(code)));
    const res = await app.inject({ method: 'POST', url: '/v1/policy/dry-run', payload: stampedJson(credential, operation) });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
  });

  it.each([
    ['missing body', {}],
    ['bad hex', { body: '0xzz' }],
    ['an extra field', { body: '0xa0', extra: 1 }],
    ['a bad stamp', { body: '0xa0', stamp: { principal: '' } }],
  ])('bad input (%s) is 400 INVALID_ARGUMENT before the enclave', async (_name, payload) => {
    const { app, seen } = track(appWith(refuse('TEST_REACHED_ENCLAVE')));
    const res = await app.inject({ method: 'POST', url: '/v1/policy/dry-run', payload: payload as object });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    expect(seen).toEqual([]);
  });
});

describe('POST /v1/prices', () => {
  const signed = { table: { timestamp_s: 1764000000, prices: [{ asset: 'native:1', usd: '3012.55', decimals: 18 }] }, signature: '0x01' };

  it('relays the signed table (object serialized, string as given) and answers its timestamp and entry count', async () => {
    const { app, seen } = track(appWith(() => ({ id: 1, type: 'prices_updated', timestamp_s: 1764000000n, entries: 1n }) as unknown as EnclaveResponse));
    const res = await app.inject({ method: 'POST', url: '/v1/prices', payload: { signedPrices: signed } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ timestampS: 1764000000, entries: 1 });
    const frame = seen[0] as Extract<Request, { op: 'update_prices' }>;
    expect(frame.op).toBe('update_prices');
    expect(JSON.parse(Buffer.from(frame.signed_prices).toString('utf8'))).toEqual(signed);
    const text = JSON.stringify(signed, null, 1);
    await app.inject({ method: 'POST', url: '/v1/prices', payload: { signedPrices: text } });
    expect(Buffer.from((seen[1] as Extract<Request, { op: 'update_prices' }>).signed_prices).toString('utf8')).toBe(text);
  });

  it.each([
    ['PRICES_ROLLBACK', 409],
    ['PRICES_SIGNATURE_INVALID', 403],
    ['PRICES_INVALID', 400],
    ['PRICE_FEED_NOT_CONFIGURED', 409],
    ['POLICY_NOT_INSTALLED', 503],
  ])('the enclave refuses with %s: HTTP %i', async (code, status) => {
    const { app } = track(appWith(refuse(code)));
    const res = await app.inject({ method: 'POST', url: '/v1/prices', payload: { signedPrices: signed } });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
  });

  it.each([
    ['nothing', {}],
    ['a number', { signedPrices: 1 }],
    ['no signature', { signedPrices: { table: {} } }],
    ['an extra field', { signedPrices: signed, more: true }],
  ])('bad input (%s) is 400 INVALID_ARGUMENT', async (_name, payload) => {
    const { app, seen } = track(appWith(refuse('TEST_REACHED_ENCLAVE')));
    const res = await app.inject({ method: 'POST', url: '/v1/prices', payload: payload as object });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    expect(seen).toEqual([]);
  });
});

describe('POST /v1/policy/validate (the real core, nothing sent to the enclave)', () => {
  const admin = core.generateCredential('admin', 'dev-admin', 'ed25519');
  const post = async (payload: string) => {
    const { app, seen } = track(appWith(refuse('TEST_REACHED_ENCLAVE')));
    const res = await app.inject({ method: 'POST', url: '/v1/policy/validate', headers: { 'content-type': 'application/json' }, payload });
    expect(seen).toEqual([]);
    return res;
  };

  it('a valid document: its hash (the core\'s), version, name and rule count', async () => {
    const doc = policyDocument({ version: 5 });
    const text = JSON.stringify(doc, null, 2);
    const res = await post(text);
    expect(res.statusCode, res.body).toBe(200);
    const expected = policyCore.policyValidate(text);
    expect(res.json()).toEqual({ kind: 'policy', policyHash: hex(expected.policyHash), version: 5, name: doc.name, rules: doc.rules.length });
  });

  it('a signed envelope: the same hash, and its signers', async () => {
    const doc = policyDocument({ version: 5 });
    const signed = policyCore.policySign(JSON.stringify(doc), admin);
    const res = await post(signed);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'signed', version: 5, rules: doc.rules.length, signers: ['dev-admin'] });
    expect(res.json().policyHash).toBe(hex(policyCore.policyValidate(JSON.stringify(doc)).policyHash));
  });

  it('judges the text as written: a key twice and a float are POLICY_MALFORMED (JSON.parse would hide both)', async () => {
    const text = JSON.stringify(policyDocument({ version: 5 }));
    const twice = await post(text.replace('"version":5', '"version":5,"version":6'));
    expect(twice.statusCode, twice.body).toBe(400);
    expect(twice.json().error.code).toBe('POLICY_MALFORMED');
    const float = await post(text.replace('"version":5', '"version":5.0'));
    expect(float.statusCode, float.body).toBe(400);
    expect(float.json().error.code).toBe('POLICY_MALFORMED');
  });

  it('refusals keep the core\'s code: unknown field POLICY_INVALID, duplicate rule id POLICY_DUPLICATE_ID', async () => {
    const doc = policyDocument({ version: 5 });
    const unknown = await post(JSON.stringify({ ...doc, rulez: [] }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('POLICY_INVALID');
    const dup = await post(JSON.stringify({ ...doc, rules: [doc.rules[0], doc.rules[0]] }));
    expect(dup.statusCode).toBe(400);
    expect(dup.json().error.code).toBe('POLICY_DUPLICATE_ID');
  });

  it('not an object: 400 INVALID_ARGUMENT; not JSON: 400 INVALID_JSON', async () => {
    expect((await post('[1,2]')).json().error.code).toBe('INVALID_ARGUMENT');
    expect((await post('"policy"')).json().error.code).toBe('INVALID_ARGUMENT');
    expect((await post('{"version":')).json().error.code).toBe('INVALID_JSON');
  });
});

describe('policy codes in the registry', () => {
  it('verdicts are 403 (refusals with a receipt), POLICY_NOT_INSTALLED 503, rollbacks 409, quorum 403, invalid 400', () => {
    for (const code of ['POLICY_DENIED', 'POLICY_NO_MATCH', 'POLICY_ERROR', 'POLICY_APPROVAL_REQUIRED']) expect(httpStatusFor(code), code).toBe(403);
    expect(httpStatusFor('POLICY_NOT_INSTALLED')).toBe(503);
    expect(httpStatusFor('POLICY_ROLLBACK')).toBe(409);
    expect(httpStatusFor('PRICES_ROLLBACK')).toBe(409);
    expect(httpStatusFor('POLICY_QUORUM_NOT_MET')).toBe(403);
    for (const code of ['POLICY_INVALID', 'POLICY_MALFORMED', 'POLICY_DUPLICATE_ID', 'POLICY_MODEL_MISSING', 'POLICY_MODEL_INVALID', 'POLICY_REQUEST_INVALID', 'PRICES_INVALID']) {
      expect(httpStatusFor(code), code).toBe(400);
    }
  });

  it('every code of the policy crate (crates/policy/src/error.rs) has a status', () => {
    const source = readFileSync(fileURLToPath(new URL('../../crates/policy/src/error.rs', import.meta.url)), 'utf8');
    const codes = [...source.matchAll(/=\s*"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThanOrEqual(13);
    expect(codes.filter((c) => ERROR_REGISTRY[c] === undefined)).toEqual([]);
  });
});
