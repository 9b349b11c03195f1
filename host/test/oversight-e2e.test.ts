/**
 * The kill switch and the approval queue end to end, through the API in front
 * of the real enclave (simulated NSM), with commands built and signed by the
 * core (docs/oversight.md):
 *
 * - the enclave boots halted (global Red, by `enclave`): signing is refused
 *   (423 KILL_SWITCH_HALTED) until a quorum resume; the local stack resumes it
 *   with the development admin (the overseer of a configuration without an
 *   `oversight` section);
 * - a halt by one overseer takes effect at once, with a receipt naming the Red
 *   scope; scopes (global, key, principal) are independent;
 * - forged, stranger-signed, stale and replayed commands are refused, and a
 *   resume only works over the enclave's current challenge;
 * - Yellow holds signing requests (202 pending, receipt APPROVAL_PENDING);
 *   approvers release (the final receipt names them) or reject them; expired,
 *   dropped (a Red halt) and over-capacity holds are refused with their codes;
 *   with two approvers configured, one approval is not enough.
 */
import { readFileSync } from 'node:fs';

import type { Operation } from '@sentinel/node/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { core } from '../src/core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { hex, stampedJson } from './api-fixture.ts';
import { clientCredential, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave, type TestEnclaveOptions } from './helpers.ts';
import { commandJson, configWithOversight, credential, type Fields } from './oversight-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

type Claims = ReturnType<typeof core.verifyReceipt>['claims'];

/** One enclave behind the API, with what the tests need to drive and check it. */
async function stack(options: TestEnclaveOptions = {}) {
  const enclave = await startTestEnclave(options);
  const client = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
  await client.connect();
  const app: FastifyInstance = buildApp({ enclave: client });
  const admin = readFileSync(enclave.dev.adminKeyPath, 'utf8');
  const principal = clientCredential(enclave);
  const root = readFileSync(enclave.process.ready.dev_root_der!);
  const evidence = (await app.inject({ method: 'GET', url: '/v1/evidence' })).json() as { attestation: string };
  const bootDocument = Buffer.from(evidence.attestation.slice(2), 'hex');
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  const s = {
    enclave,
    app,
    admin,
    principal,
    post,
    get: (url: string) => app.inject({ method: 'GET', url }),
    /** A command signed by `signers` (default: the development admin), sent to `url`. */
    send: (url: string, fields: Fields, signers: string[] = [admin]) => post(url, commandJson(fields, signers)),
    claims: (receiptHex: string): Claims =>
      core.verifyReceipt(Buffer.from(receiptHex.slice(2), 'hex'), bootDocument, { root, expectedPcr0: enclave.process.ready.pcr0 }).claims,
    async generateKey(label: string): Promise<string> {
      const res = await post('/v1/keys/generate', stampedJson(principal, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label }));
      expect(res.statusCode, res.body).toBe(200);
      return res.json().answer.key_id as string;
    },
    sign: (keyId: string, byte = 7) => post('/v1/sign/digest', stampedJson(principal, { op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, byte) } as Operation)),
    async challenge(): Promise<string> {
      const res = await app.inject({ method: 'GET', url: '/v1/oversight/challenge' });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().challenge as string;
    },
    async resume(scope: string, signers: string[] = [admin], level: 'green' | 'yellow' = 'green') {
      return s.send('/v1/oversight/resume', { action: 'resume', scope, level, challenge: await s.challenge() }, signers);
    },
    async dispose() {
      await app.close();
      await client.close();
      await enclave.dispose();
    },
  };
  return s;
}

type Stack = Awaited<ReturnType<typeof stack>>;

maybe('oversight: boot state (the enclave comes up halted)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack({ resumeWith: false });
  }, 60_000);
  afterAll(async () => s?.dispose());

  it('is Red globally by `enclave` at boot: key management works, signing is 423 KILL_SWITCH_HALTED with a receipt', async () => {
    expect(s.enclave.process.resumed).toBeNull();
    const status = await s.send('/v1/oversight/status', { action: 'status' });
    expect(status.statusCode, status.body).toBe(200);
    expect(status.json().global).toMatchObject({ scope: 'global', level: 'red', by: ['enclave'] });
    const key = await s.generateKey('boot');
    const res = await s.sign(key);
    expect(res.statusCode, res.body).toBe(423);
    const body = res.json();
    expect(body.error.code).toBe('KILL_SWITCH_HALTED');
    const claims = s.claims(body.receipt);
    expect(claims).toMatchObject({ decision: 'denied', code: 'KILL_SWITCH_HALTED', oversightState: 'red', oversightScope: 'global' });
  });

  it('a quorum resume over the current challenge lifts it: the next signature is released, its receipt green', async () => {
    const res = await s.resume('global');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ type: 'oversight_status', global: { level: 'green', by: ['dev-admin'] }, signers: ['dev-admin'] });
    const key = await s.generateKey('after-resume');
    const signed = await s.sign(key);
    expect(signed.statusCode, signed.body).toBe(200);
    expect(s.claims(signed.json().receipt)).toMatchObject({ decision: 'allowed', oversightState: 'green', oversightScope: 'global', approvals: [] });
  });
});

maybe('oversight: halt, resume and scopes (development configuration: the admin oversees and approves)', () => {
  let s: Stack;
  let k1: string;
  let k2: string;
  beforeAll(async () => {
    s = await stack();
    k1 = await s.generateKey('k1');
    k2 = await s.generateKey('k2');
  }, 60_000);
  afterAll(async () => s?.dispose());

  it('the local stack resumed it after boot with the development admin key', () => {
    expect(s.enclave.process.resumed).toMatchObject({ type: 'oversight_status', global: { level: 'green' }, signers: ['dev-admin'] });
  });

  it('status: signed by an overseer; heartbeat off, nothing held, the signer named', async () => {
    const res = await s.send('/v1/oversight/status', { action: 'status' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      type: 'oversight_status',
      global: { scope: 'global', level: 'green' },
      scopes: [],
      heartbeat_interval_ms: 0,
      pending_approvals: 0,
      signers: ['dev-admin'],
    });
    // The generic route takes it too.
    expect((await s.send('/v1/oversight', { action: 'status' })).statusCode).toBe(200);
  });

  it('refuses a stranger (OVERSIGHT_NOT_PERMITTED 403), a forged signature (OVERSIGHT_SIGNATURE_INVALID 401), none (403)', async () => {
    const stranger = await s.send('/v1/oversight/halt', { action: 'halt', scope: 'global', level: 'red' }, [credential('stranger')]);
    expect(stranger.statusCode, stranger.body).toBe(403);
    expect(stranger.json().error.code).toBe('OVERSIGHT_NOT_PERMITTED');
    // Same id as the overseer, another key.
    const forged = await s.send('/v1/oversight/halt', { action: 'halt', scope: 'global', level: 'red' }, [credential('dev-admin')]);
    expect(forged.statusCode, forged.body).toBe(401);
    expect(forged.json().error.code).toBe('OVERSIGHT_SIGNATURE_INVALID');
    const unsigned = await s.send('/v1/oversight/halt', { action: 'halt', scope: 'global', level: 'red' }, []);
    expect(unsigned.statusCode, unsigned.body).toBe(403);
    expect(['OVERSIGHT_QUORUM_NOT_MET', 'OVERSIGHT_NOT_PERMITTED']).toContain(unsigned.json().error.code);
    // None of them halted anything.
    expect((await s.sign(k1)).statusCode).toBe(200);
  });

  it('a command outside the stamp window is OVERSIGHT_STALE 401', async () => {
    const res = await s.send('/v1/oversight/status', { action: 'status', timestamp_us: (Date.now() - 10 * 60_000) * 1000 });
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error.code).toBe('OVERSIGHT_STALE');
  });

  it('halt (global, Red): the next sign is 423 KILL_SWITCH_HALTED, its receipt names the Red global scope; a replay of the halt is OVERSIGHT_REPLAY', async () => {
    const halt = commandJson({ action: 'halt', scope: 'global', level: 'red', reason: 'incident 42' }, [s.admin]);
    const res = await s.post('/v1/oversight/halt', halt);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().global).toMatchObject({ level: 'red', reason: 'incident 42', by: ['dev-admin'] });
    const refused = await s.sign(k1);
    expect(refused.statusCode, refused.body).toBe(423);
    expect(refused.json().error.code).toBe('KILL_SWITCH_HALTED');
    expect(refused.json().answer).toMatchObject({ type: 'error', code: 'KILL_SWITCH_HALTED' });
    expect(s.claims(refused.json().receipt)).toMatchObject({ decision: 'denied', code: 'KILL_SWITCH_HALTED', oversightState: 'red', oversightScope: 'global' });
    const replay = await s.post('/v1/oversight/halt', halt);
    expect(replay.statusCode, replay.body).toBe(409);
    expect(replay.json().error.code).toBe('OVERSIGHT_REPLAY');
  });

  it('resume: only over the current challenge (an older one is OVERSIGHT_CHALLENGE_INVALID); a replayed resume is refused', async () => {
    const older = await s.challenge();
    const current = await s.challenge();
    expect(current).not.toBe(older);
    const stale = await s.send('/v1/oversight/resume', { action: 'resume', scope: 'global', level: 'green', challenge: older });
    expect(stale.statusCode, stale.body).toBe(409);
    expect(stale.json().error.code).toBe('OVERSIGHT_CHALLENGE_INVALID');
    expect((await s.sign(k1)).statusCode).toBe(423);

    const resume = commandJson({ action: 'resume', scope: 'global', level: 'green', challenge: current }, [s.admin]);
    const ok = await s.post('/v1/oversight/resume', resume);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().global).toMatchObject({ level: 'green', by: ['dev-admin'] });
    expect((await s.sign(k1)).statusCode).toBe(200);

    // The same resume again (say, after someone halted once more): the challenge was used, the digest seen.
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: 'global', level: 'red' })).statusCode).toBe(200);
    const replay = await s.post('/v1/oversight/resume', resume);
    expect(replay.statusCode, replay.body).toBe(409);
    expect(['OVERSIGHT_REPLAY', 'OVERSIGHT_CHALLENGE_INVALID']).toContain(replay.json().error.code);
    expect((await s.sign(k1)).statusCode).toBe(423);
    expect((await s.resume('global')).statusCode).toBe(200);
  });

  it('scopes: halting one key refuses only that key, with a receipt naming key:ID; resuming the key lifts it', async () => {
    const halt = await s.send('/v1/oversight/halt', { action: 'halt', scope: `key:${k1}`, level: 'red' });
    expect(halt.statusCode, halt.body).toBe(200);
    expect(halt.json().scopes).toEqual([expect.objectContaining({ scope: `key:${k1}`, level: 'red' })]);
    const refused = await s.sign(k1);
    expect(refused.statusCode, refused.body).toBe(423);
    expect(s.claims(refused.json().receipt)).toMatchObject({ oversightState: 'red', oversightScope: `key:${k1}` });
    expect((await s.sign(k2)).statusCode).toBe(200);
    expect((await s.resume(`key:${k1}`)).statusCode).toBe(200);
    expect((await s.sign(k1)).statusCode).toBe(200);
  });

  it('scopes: a Red principal refuses every key of it; the global scope wins a tie', async () => {
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: 'principal:dev-client', level: 'red' })).statusCode).toBe(200);
    for (const k of [k1, k2]) {
      const refused = await s.sign(k);
      expect(refused.statusCode).toBe(423);
      expect(s.claims(refused.json().receipt)).toMatchObject({ oversightState: 'red', oversightScope: 'principal:dev-client' });
    }
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: 'global', level: 'red' })).statusCode).toBe(200);
    expect(s.claims((await s.sign(k1)).json().receipt)).toMatchObject({ oversightState: 'red', oversightScope: 'global' });
    expect((await s.resume('global')).statusCode).toBe(200);
    expect((await s.resume('principal:dev-client')).statusCode).toBe(200);
    expect((await s.sign(k1)).statusCode).toBe(200);
  });

  it('a route alias refuses a command of another action (400 OVERSIGHT_MALFORMED) before the enclave sees it', async () => {
    const res = await s.send('/v1/oversight/halt', { action: 'status' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('OVERSIGHT_MALFORMED');
    const approvals = await s.send('/v1/approvals', { action: 'status' });
    expect(approvals.statusCode).toBe(400);
    expect(approvals.json().error.code).toBe('OVERSIGHT_MALFORMED');
  });

  it('Yellow holds a signing request (202 pending, receipt APPROVAL_PENDING); an approval releases it; the outcome names the approval', async () => {
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: 'principal:dev-client', level: 'yellow' })).statusCode).toBe(200);
    const held = await s.sign(k1, 9);
    expect(held.statusCode, held.body).toBe(202);
    const pending = held.json();
    expect(pending).toMatchObject({ status: 'pending', reason: 'yellow_state', approvals: [], approvals_needed: 1 });
    expect(pending.request_id).toMatch(/^0x[0-9a-f]{32}$/);
    expect(pending.receiptId).toBe(pending.request_id);
    expect(held.headers['x-sentinel-receipt-id']).toBe(pending.request_id);
    expect(pending.expires_at_us).toBeGreaterThan(Date.now() * 1000);
    const claims = s.claims(pending.receipt);
    expect(claims).toMatchObject({ decision: 'denied', code: 'APPROVAL_PENDING', requestId: pending.request_id, payloadHash: pending.request_digest, oversightState: 'yellow' });

    // Still pending when asked.
    const waiting = await s.get(`/v1/requests/${pending.request_id}`);
    expect(waiting.statusCode, waiting.body).toBe(202);
    expect(waiting.json()).toMatchObject({ status: 'pending', request_id: pending.request_id });

    // The list shows it with its exact body.
    const list = await s.send('/v1/approvals', { action: 'list_approvals' });
    expect(list.statusCode, list.body).toBe(200);
    const entry = list.json().entries.find((e: { request_id: string }) => e.request_id === pending.request_id);
    expect(entry).toMatchObject({ principal: 'dev-client', key_id: k1, op: 'sign_digest', request_digest: pending.request_digest, approvals: [] });
    expect(core.decodeBody(Buffer.from(entry.body.slice(2), 'hex'))).toMatchObject({ op: 'sign_digest', key_id: k1 });

    // A wrong digest is refused; the right one releases it (threshold 1: the admin approves).
    const wrong = await s.send('/v1/approvals/decision', { action: 'approve', request_id: pending.request_id, request_digest: hex(Buffer.alloc(32, 1)) });
    expect(wrong.statusCode, wrong.body).toBe(409);
    expect(wrong.json().error.code).toBe('APPROVAL_DIGEST_MISMATCH');
    const approved = await s.send('/v1/approvals/decision', { action: 'approve', request_id: pending.request_id, request_digest: pending.request_digest });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ type: 'approval_updated', request_id: pending.request_id, state: 'released', approvals: ['dev-admin'] });

    const outcome = await s.get(`/v1/requests/${pending.request_id}`);
    expect(outcome.statusCode, outcome.body).toBe(200);
    expect(outcome.json().answer.type).toBe('signature');
    expect(s.claims(outcome.json().receipt)).toMatchObject({ decision: 'allowed', op: 'sign_digest', payloadHash: pending.request_digest, approvals: ['dev-admin'] });
    expect((await s.resume('principal:dev-client')).statusCode).toBe(200);
  });

  it('a rejected request is refused (GET: 403 APPROVAL_REJECTED with a receipt); an unknown id is 404 APPROVAL_UNKNOWN', async () => {
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: `key:${k2}`, level: 'yellow' })).statusCode).toBe(200);
    const pending = (await s.sign(k2, 10)).json();
    expect(pending.status).toBe('pending');
    const rejected = await s.send('/v1/approvals/decision', { action: 'reject', request_id: pending.request_id, request_digest: pending.request_digest });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json().state).toBe('rejected');
    const outcome = await s.get(`/v1/requests/${pending.request_id}`);
    expect(outcome.statusCode, outcome.body).toBe(403);
    expect(outcome.json().error.code).toBe('APPROVAL_REJECTED');
    expect(s.claims(outcome.json().receipt)).toMatchObject({ decision: 'denied', code: 'APPROVAL_REJECTED' });
    // Approving it afterwards changes nothing.
    const late = await s.send('/v1/approvals/decision', { action: 'approve', request_id: pending.request_id, request_digest: pending.request_digest });
    expect(late.statusCode).toBeGreaterThanOrEqual(400);

    const unknown = await s.get(`/v1/requests/0x${'00'.repeat(16)}`);
    expect(unknown.statusCode, unknown.body).toBe(404);
    expect(unknown.json().error.code).toBe('APPROVAL_UNKNOWN');
    expect((await s.resume(`key:${k2}`)).statusCode).toBe(200);
  });

  it('halting Red drops the held requests of the scope: their outcome is 423 KILL_SWITCH_HALTED', async () => {
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: 'global', level: 'yellow' })).statusCode).toBe(200);
    const pending = (await s.sign(k1, 11)).json();
    expect(pending.status).toBe('pending');
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: 'global', level: 'red' })).statusCode).toBe(200);
    const outcome = await s.get(`/v1/requests/${pending.request_id}`);
    expect(outcome.statusCode, outcome.body).toBe(423);
    expect(outcome.json().error.code).toBe('KILL_SWITCH_HALTED');
    expect((await s.resume('global')).statusCode).toBe(200);
    expect((await s.sign(k1)).statusCode).toBe(200);
  });
});

maybe('oversight: an oversight section with two approvers (threshold 2), a short approval window and a small queue', () => {
  let s: Stack;
  let key: string;
  const alice = credential('alice');
  const bob = credential('bob');
  const TTL_S = 3;

  beforeAll(async () => {
    s = await stack({
      config: (dev) =>
        configWithOversight(dev, {
          overseers: [readFileSync(dev.adminKeyPath, 'utf8')],
          resume_threshold: 1,
          approvers: [alice, bob],
          approval_threshold: 2,
          approval_ttl_s: TTL_S,
          max_pending: 2,
        }),
    });
    key = await s.generateKey('two-approvers');
    expect((await s.send('/v1/oversight/halt', { action: 'halt', scope: 'principal:dev-client', level: 'yellow' })).statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => s?.dispose());

  it('the queue holds max_pending requests; one more is 503 APPROVAL_QUEUE_FULL', async () => {
    const first = await s.sign(key, 1);
    const second = await s.sign(key, 2);
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(first.json().approvals_needed).toBe(2);
    const third = await s.sign(key, 3);
    expect(third.statusCode, third.body).toBe(503);
    expect(third.json().error.code).toBe('APPROVAL_QUEUE_FULL');
    const list = await s.send('/v1/approvals', { action: 'list_approvals' }, [alice]);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().entries).toHaveLength(2);

    // One approval is not enough; an overseer who is no approver and a stranger may not approve.
    const [a, b] = [first.json(), second.json()];
    const decide = (action: 'approve' | 'reject', p: { request_id: string; request_digest: string }, signer: string) =>
      s.send('/v1/approvals/decision', { action, request_id: p.request_id, request_digest: p.request_digest }, [signer]);
    const one = await decide('approve', a, alice);
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toMatchObject({ state: 'pending', approvals: ['alice'], approvals_needed: 2 });
    expect((await s.get(`/v1/requests/${a.request_id}`)).statusCode).toBe(202);
    for (const signer of [s.admin, credential('mallory')]) {
      const refused = await decide('approve', a, signer);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().error.code).toBe('OVERSIGHT_NOT_PERMITTED');
    }
    const two = await decide('approve', a, bob);
    expect(two.statusCode, two.body).toBe(200);
    expect(two.json()).toMatchObject({ state: 'released', approvals: ['alice', 'bob'] });
    const outcome = await s.get(`/v1/requests/${a.request_id}`);
    expect(outcome.statusCode, outcome.body).toBe(200);
    expect(s.claims(outcome.json().receipt)).toMatchObject({ decision: 'allowed', approvals: ['alice', 'bob'] });

    const rejected = await decide('reject', b, bob);
    expect(rejected.json().state).toBe('rejected');
    expect((await s.get(`/v1/requests/${b.request_id}`)).json().error.code).toBe('APPROVAL_REJECTED');
  });

  it('an approval after expiry is refused (APPROVAL_EXPIRED 410), and so is the request', async () => {
    const pending = (await s.sign(key, 4)).json();
    expect(pending.status).toBe('pending');
    await new Promise((r) => setTimeout(r, TTL_S * 1000 + 500));
    const both = commandJson({ action: 'approve', request_id: pending.request_id, request_digest: pending.request_digest }, [alice, bob]);
    const late = await s.post('/v1/approvals/decision', both);
    expect(late.statusCode, late.body).toBe(410);
    expect(late.json().error.code).toBe('APPROVAL_EXPIRED');
    const outcome = await s.get(`/v1/requests/${pending.request_id}`);
    expect(outcome.statusCode, outcome.body).toBe(410);
    expect(outcome.json().error.code).toBe('APPROVAL_EXPIRED');
  }, 15_000);
});
