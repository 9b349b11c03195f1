/**
 * The policy end to end, through the API in front of the real enclave
 * (simulated NSM): the stack boots with the development policy, an admin
 * applies a signed policy (chain 1337 only, at most 1 ether per transaction,
 * a burst of 3 then a cooldown, the committed ONNX risk model), and then:
 *
 * - a transfer over the cap is refused (403 POLICY_DENIED) with a receipt that
 *   verifies and names the notional rule with its value and limit;
 * - a transfer under it is signed, its receipt naming the applied policy hash;
 * - a burst: the 4th request is refused by the rate rule, and so is the next one
 *   during the cooldown, even once a token would have refilled;
 * - applying an older version is refused (409 POLICY_ROLLBACK), and so are a
 *   policy without the admin quorum and one missing its model;
 * - an unlimited ERC-20 approval to a new spender is refused by the risk rule,
 *   the model's SHA-256 in its receipt;
 * - dry runs report the same rules without signing or counting;
 * - without a policy nothing is signed (POLICY_NOT_INSTALLED, with a receipt).
 */
import { readFileSync } from 'node:fs';

import type { Operation } from '@sentinel/node/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { core } from '../src/core.ts';
import { policyCore } from '../src/policy-core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { hex, stampedJson } from './api-fixture.ts';
import { clientCredential, EIP712_MAIL, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';
import { address, CHAIN_ID, e2ePolicy, NATIVE_CAP, riskModel, transaction, unlimitedApproveData } from './policy-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

interface RuleRecord {
  rule: string;
  type: string;
  result: string;
  value: string | null;
  limit: string | null;
  window: string | null;
  detail: string | null;
}

interface Claims {
  decision: string;
  code: string | null;
  op: string;
  policyHash: string | null;
  rulesEvaluated: RuleRecord[];
}

const ETH = 10n ** 18n;

/**
 * Thresholds for the risk rule: the two operating points the committed model's card evaluates
 * (models/risk-v1.json, `metrics.held_out.at_<bps>_bps`): approval from the lower, denial from the higher.
 * The model scores a plain transfer from a fresh key near 0 and an unlimited approval to a new spender above
 * 9000; the test below checks both through the enclave, which carries the ONNX runtime (the N-API addon does
 * not, so offline evaluatePolicy refuses risk rules).
 */
function riskThresholds(model: { bytes: Buffer; sha256: string }): { approveAtBps: number; denyAtBps: number } {
  const card = JSON.parse(readFileSync(new URL('../../models/risk-v1.json', import.meta.url), 'utf8')) as {
    sha256: string;
    metrics: { held_out: Record<string, unknown> };
  };
  if (`0x${card.sha256.toLowerCase()}` !== model.sha256) throw new Error(`models/risk-v1.json describes ${card.sha256}, not the model loaded (${model.sha256})`);
  const points = Object.keys(card.metrics.held_out)
    .map((k) => /^at_(\d+)_bps$/.exec(k)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  if (points.length !== 2) throw new Error(`expected two operating points in models/risk-v1.json, found ${points.join(', ')}`);
  return { approveAtBps: points[0]!, denyAtBps: points[1]! };
}

maybe('policy end to end through the API (real enclave)', () => {
  let enclave: TestEnclave;
  let client: EnclaveClient;
  let app: FastifyInstance;
  let credential: string;
  let admin: string;
  let root: Buffer;
  let bootDocument: Buffer;
  let model: { bytes: Buffer; sha256: string };
  let thresholds: ReturnType<typeof riskThresholds>;
  let devPolicy: { signedPolicy: object; policyHash: string; policyVersion: number };
  let applied: { policyHash: string; version: number; attestationHash: string; signed: string };
  const keys: Record<string, string> = {};

  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  const verify = (receiptHex: string): Claims =>
    core.verifyReceipt(Buffer.from(receiptHex.slice(2), 'hex'), bootDocument, { root, expectedPcr0: enclave.process.ready.pcr0 }).claims as unknown as Claims;
  const signTx = (keyId: string, unsigned: Buffer) =>
    post('/v1/sign/transaction', stampedJson(credential, { op: 'sign_ethereum_transaction', key_id: keyId, unsigned_tx: unsigned }));
  const rule = (claims: { rulesEvaluated: RuleRecord[] }, id: string): RuleRecord => {
    const found = claims.rulesEvaluated.find((r) => r.rule === id);
    if (found === undefined) throw new Error(`no result for rule ${id} in ${JSON.stringify(claims.rulesEvaluated)}`);
    return found;
  };
  const signPolicy = (doc: object, credentialJson = admin): string => policyCore.policySign(JSON.stringify(doc), credentialJson);

  beforeAll(async () => {
    model = riskModel();
    thresholds = riskThresholds(model);
    enclave = await startTestEnclave();
    client = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await client.connect();
    app = buildApp({ enclave: client });
    credential = clientCredential(enclave);
    admin = readFileSync(enclave.dev.adminKeyPath, 'utf8');
    root = readFileSync(enclave.process.ready.dev_root_der!);
    for (const label of ['cap', 'allowed', 'burst', 'risk']) {
      const res = await post('/v1/keys/generate', stampedJson(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'ethereum', label }));
      expect(res.statusCode, res.body).toBe(200);
      keys[label] = res.json().answer.key_id;
    }
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await client?.close();
    await enclave?.dispose();
  });

  it('boots with the development policy: GET /v1/policy, the evidence and /readyz name it', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/policy' });
    expect(res.statusCode, res.body).toBe(200);
    devPolicy = res.json();
    const onDisk = readFileSync(enclave.dev.policyPath, 'utf8');
    expect(devPolicy.policyHash).toBe(hex(policyCore.policyInspectSigned(onDisk).policyHash));
    expect(devPolicy.signedPolicy).toEqual(JSON.parse(onDisk));
    const evidence = (await app.inject({ method: 'GET', url: '/v1/evidence' })).json();
    expect(evidence.policyHash).toBe(devPolicy.policyHash);
    expect(evidence.policyVersion).toBe(devPolicy.policyVersion);
    const ready = (await app.inject({ method: 'GET', url: '/readyz' })).json();
    expect(ready).toMatchObject({ status: 'ready', policyHash: devPolicy.policyHash, policyVersion: devPolicy.policyVersion });
    expect(enclave.process.ready.policy_hash).toBe(devPolicy.policyHash.slice(2));
  });

  it('applies a signed policy with its model: the answer names its hash and a new boot attestation', async () => {
    const doc = e2ePolicy(devPolicy.policyVersion + 1, model, thresholds);
    const signed = signPolicy(doc);
    const res = await post('/v1/policy', { signedPolicy: signed, models: [hex(model.bytes)] });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.policyHash).toBe(hex(policyCore.policyValidate(JSON.stringify(doc)).policyHash));
    expect(body.version).toBe(devPolicy.policyVersion + 1);
    applied = { ...body, signed };
    const evidence = (await app.inject({ method: 'GET', url: '/v1/evidence' })).json();
    expect(evidence.attestationHash).toBe(body.attestationHash);
    expect(evidence.policyHash).toBe(body.policyHash);
    bootDocument = Buffer.from(evidence.attestation.slice(2), 'hex');
    const shown = (await app.inject({ method: 'GET', url: '/v1/policy' })).json();
    expect(shown).toEqual({ signedPolicy: JSON.parse(signed), policyHash: body.policyHash, policyVersion: body.version });
  });

  it('a transfer over the cap: 403 POLICY_DENIED, its receipt verifies and names the notional rule with value and limit', async () => {
    const value = 2n * ETH;
    const res = await signTx(keys.cap!, transaction({ to: address('recipient-cap'), value }));
    expect(res.statusCode, res.body).toBe(403);
    const body = res.json();
    expect(body.error.code).toBe('POLICY_DENIED');
    expect(body.error.message).toContain('native-cap');
    expect(res.headers['x-sentinel-receipt-id']).toBe(body.receiptId);
    const claims = verify(body.receipt);
    expect(claims).toMatchObject({ decision: 'denied', code: 'POLICY_DENIED', op: 'sign_ethereum_transaction', policyHash: applied.policyHash });
    expect(rule(claims, 'native-cap')).toMatchObject({ type: 'notional_limit', result: 'deny', value: value.toString(), limit: NATIVE_CAP.toString() });
    expect(rule(claims, 'chain')).toMatchObject({ type: 'chain', result: 'allow' });
    // Out of scope (label `cap` is neither `allowed` nor `risk`): reported, not applied.
    expect(rule(claims, 'risk').result).toBe('not_applicable');
    // The receipt the API keeps is the same one.
    expect((await app.inject({ method: 'GET', url: `/v1/receipts/${body.receiptId}` })).json().receipt).toBe(body.receipt);
  });

  it('a transfer under the cap is signed; its receipt names the applied policy hash and every rule, the model scored it', async () => {
    const value = ETH / 2n;
    const unsigned = transaction({ to: address('recipient-allowed'), value });
    const res = await signTx(keys.allowed!, unsigned);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    const raw = Buffer.from(body.answer.raw.slice(2), 'hex');
    const recovered = core.recoverEthereumTransactionSigner(raw);
    expect(String(recovered.transaction.chainId)).toBe(String(CHAIN_ID));
    const claims = verify(body.receipt);
    expect(claims).toMatchObject({ decision: 'allowed', code: null, policyHash: applied.policyHash });
    expect(core.verifyReceipt(Buffer.from(body.receipt.slice(2), 'hex'), bootDocument, {
      root,
      expectedPcr0: enclave.process.ready.pcr0,
      expectedPolicyHash: applied.policyHash,
    } as never).claims.decision).toBe('allowed');
    expect(claims.rulesEvaluated.map((r) => r.rule)).toEqual(['chain', 'native-cap', 'burst', 'risk']);
    expect(rule(claims, 'native-cap')).toMatchObject({ result: 'allow', value: value.toString(), limit: NATIVE_CAP.toString() });
    const risk = rule(claims, 'risk');
    expect(risk).toMatchObject({ type: 'risk_score', result: 'allow', limit: String(thresholds.denyAtBps) });
    expect(Number(risk.value)).toBeLessThan(thresholds.approveAtBps);
    expect(risk.detail).toContain(model.sha256.slice(2));
  });

  it('a burst: the 4th request is refused by the rate rule, and the next one during the cooldown too', async () => {
    const send = (nonce: number) => signTx(keys.burst!, transaction({ to: address('recipient-burst'), value: ETH / 10n, nonce }));
    const statuses: number[] = [];
    const bodies: Array<{ receipt: string; error?: { code: string } }> = [];
    for (let nonce = 0; nonce < 4; nonce++) {
      const res = await send(nonce);
      statuses.push(res.statusCode);
      bodies.push(res.json());
    }
    expect(statuses).toEqual([200, 200, 200, 403]);
    const fourth = verify(bodies[3]!.receipt);
    expect(fourth.code).toBe('POLICY_DENIED');
    expect(rule(fourth, 'burst')).toMatchObject({ type: 'rate_limit', result: 'deny' });
    expect(rule(fourth, 'native-cap').result).toBe('allow');
    // A token refills every second; the cooldown (60 s) still refuses.
    await new Promise((r) => setTimeout(r, 1_500));
    const dry = await post(
      '/v1/policy/dry-run',
      stampedJson(credential, { op: 'sign_ethereum_transaction', key_id: keys.burst!, unsigned_tx: transaction({ to: address('recipient-burst'), value: 1n, nonce: 9 }) }),
    );
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ decision: 'denied', code: 'POLICY_DENIED', policyHash: applied.policyHash });
    const fifth = await send(4);
    expect(fifth.statusCode, fifth.body).toBe(403);
    const claims = verify(fifth.json().receipt);
    expect(rule(claims, 'burst')).toMatchObject({ type: 'rate_limit', result: 'deny' });
  });

  it('refuses a rollback (409 POLICY_ROLLBACK), a policy without the quorum (403), and one missing its model (400)', async () => {
    const older = await post('/v1/policy', { signedPolicy: devPolicy.signedPolicy });
    expect(older.statusCode, older.body).toBe(409);
    expect(older.json().error.code).toBe('POLICY_ROLLBACK');
    const same = await post('/v1/policy', { signedPolicy: applied.signed, models: [hex(model.bytes)] });
    expect(same.statusCode).toBe(409);
    expect(same.json().error.code).toBe('POLICY_ROLLBACK');
    const stranger = core.generateCredential('admin', 'dev-admin', 'ed25519');
    const forged = await post('/v1/policy', { signedPolicy: signPolicy(e2ePolicy(applied.version + 1, model, thresholds), stranger), models: [hex(model.bytes)] });
    expect(forged.statusCode, forged.body).toBe(403);
    expect(forged.json().error.code).toBe('POLICY_QUORUM_NOT_MET');
    const noModel = await post('/v1/policy', { signedPolicy: signPolicy(e2ePolicy(applied.version + 1, model, thresholds)) });
    expect(noModel.statusCode, noModel.body).toBe(400);
    expect(noModel.json().error.code).toBe('POLICY_MODEL_MISSING');
    // None of them changed the policy in force.
    expect((await app.inject({ method: 'GET', url: '/v1/policy' })).json().policyHash).toBe(applied.policyHash);
  });

  it('an unlimited ERC-20 approval to a new spender is refused by the risk model, its SHA-256 in the receipt', async () => {
    const unsigned = transaction({ to: address('token'), data: unlimitedApproveData(address('spender-risky')) });
    const dry = await post('/v1/policy/dry-run', stampedJson(credential, { op: 'sign_ethereum_transaction', key_id: keys.risk!, unsigned_tx: unsigned }));
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json().decision).toBe('denied');
    expect(rule(dry.json(), 'risk').result).toBe('deny');
    const res = await signTx(keys.risk!, unsigned);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error.code).toBe('POLICY_DENIED');
    const claims = verify(res.json().receipt);
    expect(claims).toMatchObject({ decision: 'denied', code: 'POLICY_DENIED', policyHash: applied.policyHash });
    const risk = rule(claims, 'risk');
    expect(risk).toMatchObject({ type: 'risk_score', result: 'deny', limit: String(thresholds.denyAtBps) });
    expect(Number(risk.value)).toBeGreaterThanOrEqual(thresholds.denyAtBps);
    expect(risk.detail).toContain(`sha256=${model.sha256.slice(2)}`);
  });

  it('a dry run reports without signing or counting: the same request is then signed', async () => {
    const unsigned = transaction({ to: address('recipient-dry'), value: ETH / 4n, nonce: 1 });
    const operation: Operation = { op: 'sign_ethereum_transaction', key_id: keys.cap!, unsigned_tx: unsigned };
    for (let i = 0; i < 5; i++) {
      const dry = await post('/v1/policy/dry-run', stampedJson(credential, operation));
      expect(dry.statusCode, dry.body).toBe(200);
      expect(dry.json()).toMatchObject({ decision: 'allowed', code: null, policyHash: applied.policyHash });
      expect(dry.headers['x-sentinel-receipt-id']).toBeUndefined();
    }
    // Five dry runs took no rate tokens (burst 3): a real request still passes.
    const res = await signTx(keys.cap!, unsigned);
    expect(res.statusCode, res.body).toBe(200);
    // A message is not a chain request: the chain and notional rules do not apply; the rate rule allows it.
    const message = await post('/v1/policy/dry-run', stampedJson(credential, { op: 'sign_personal_message', key_id: keys.allowed!, message: Buffer.from('hi') }));
    expect(message.json().decision).toBe('allowed');
    expect(rule(message.json(), 'chain').result).toBe('not_applicable');
  });
});

maybe('the development policy and no policy', () => {
  it('the development policy lets the existing flows through (transaction, message, typed data, digest), receipts naming it', async () => {
    const t = await startTestEnclave();
    const c = new EnclaveClient({ transport: unixTransport(t.socketPath) });
    try {
      await c.connect();
      const app = buildApp({ enclave: c });
      const credential = clientCredential(t);
      const root = readFileSync(t.process.ready.dev_root_der!);
      const evidence = (await app.inject({ method: 'GET', url: '/v1/evidence' })).json();
      const boot = Buffer.from(evidence.attestation.slice(2), 'hex');
      const gen = async (purpose: 'ethereum' | 'raw') =>
        (await app.inject({ method: 'POST', url: '/v1/keys/generate', payload: stampedJson(credential, { op: 'generate_key', curve: 'secp256k1', purpose, label: purpose }) })).json().answer.key_id as string;
      const eth = await gen('ethereum');
      const raw = await gen('raw');
      const cases: Array<[string, Operation]> = [
        ['/v1/sign/transaction', { op: 'sign_ethereum_transaction', key_id: eth, unsigned_tx: transaction({ to: address('x'), value: 10n ** 20n, chainId: 1 }) }],
        ['/v1/sign/message', { op: 'sign_personal_message', key_id: eth, message: Buffer.from('hello') }],
        ['/v1/sign/typed-data', { op: 'sign_typed_data', key_id: eth, typed_data: JSON.stringify(EIP712_MAIL.typedData) }],
        ['/v1/sign/digest', { op: 'sign_digest', key_id: raw, digest: Buffer.alloc(32, 5) }],
      ];
      for (const [url, operation] of cases) {
        const res = await app.inject({ method: 'POST', url, payload: stampedJson(credential, operation) });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
        const claims = core.verifyReceipt(Buffer.from(res.json().receipt.slice(2), 'hex'), boot, { root, expectedPcr0: t.process.ready.pcr0 }).claims as unknown as Claims;
        expect(claims.policyHash, url).toBe(evidence.policyHash);
        expect(claims.decision).toBe('allowed');
      }
      await app.close();
    } finally {
      await c.close();
      await t.dispose();
    }
  });

  it('without a policy nothing is signed: 503 POLICY_NOT_INSTALLED with a receipt; /readyz 503; GET /v1/policy 404; keys still managed', async () => {
    const t = await startTestEnclave({ policy: false });
    const c = new EnclaveClient({ transport: unixTransport(t.socketPath) });
    try {
      await c.connect();
      const app = buildApp({ enclave: c });
      const credential = clientCredential(t);
      const gen = await app.inject({ method: 'POST', url: '/v1/keys/generate', payload: stampedJson(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'ethereum', label: 'k' }) });
      expect(gen.statusCode, gen.body).toBe(200);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/sign/message',
        payload: stampedJson(credential, { op: 'sign_personal_message', key_id: gen.json().answer.key_id, message: Buffer.from('m') }),
      });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.code).toBe('POLICY_NOT_INSTALLED');
      expect(res.json().receiptId).toMatch(/^0x[0-9a-f]{32}$/);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().error.message).toContain('POLICY_NOT_INSTALLED');
      const policy = await app.inject({ method: 'GET', url: '/v1/policy' });
      expect(policy.statusCode).toBe(404);
      expect(policy.json().error.code).toBe('POLICY_NOT_INSTALLED');
      // The first policy is installed like any later one.
      const signed = readFileSync(t.dev.policyPath, 'utf8');
      const applied = await app.inject({ method: 'POST', url: '/v1/policy', payload: { signedPolicy: signed } });
      expect(applied.statusCode, applied.body).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await app.close();
    } finally {
      await c.close();
      await t.dispose();
    }
  });
});
