/**
 * The oversight routes with a stand-in enclave (`app.inject`): what the host
 * checks itself (shapes, the command's action per route), which frame each
 * route sends, how answers and refusals come back (the statuses of the
 * contract), and that every oversight code is in the error registry.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { ERROR_REGISTRY, httpStatusFor } from '../src/api/errors.ts';
import { SentinelError } from '../src/errors.ts';
import { RPC_CODES, toRpcError } from '../src/rpc/errors.ts';
import type { EnclaveClientLike, EnclaveResponse, Request } from '../src/sidecar/client.ts';
import { hex } from './api-fixture.ts';
import { fakeEnclave } from './helpers.ts';
import { commandJson, credential } from './oversight-fixture.ts';

const OVERSEER = credential('overseer-1');

const scope = (level: string) => ({ scope: 'global', level, reason: 'r', since_us: 1_767_225_600_000_000n, by: ['overseer-1'] });
const STATUS: EnclaveResponse = {
  id: 1,
  type: 'oversight_status',
  global: scope('red'),
  scopes: [],
  heartbeat_interval_ms: 0n,
  heartbeat_deadline_us: null,
  pending_approvals: 0n,
  max_pending: 64n,
  signers: ['overseer-1'],
};

/** An app whose enclave records each request and answers `answer` (or fails with `error`). */
function recording(answer: EnclaveResponse | Error = STATUS) {
  const calls: Request[] = [];
  const enclave: EnclaveClientLike = fakeEnclave((request) => {
    calls.push(request);
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { app: buildApp({ enclave }), calls };
}

/** The contract's statuses (docs/oversight.md, docs/api.md). */
const CONTRACT: Array<[string, number]> = [
  ['KILL_SWITCH_HALTED', 423],
  ['APPROVAL_PENDING', 202],
  ['APPROVAL_REJECTED', 403],
  ['APPROVAL_EXPIRED', 410],
  ['APPROVAL_UNKNOWN', 404],
  ['APPROVAL_DIGEST_MISMATCH', 409],
  ['APPROVAL_QUEUE_FULL', 503],
  ['OVERSIGHT_MALFORMED', 400],
  ['OVERSIGHT_SIGNATURE_INVALID', 401],
  ['OVERSIGHT_STALE', 401],
  ['OVERSIGHT_NOT_PERMITTED', 403],
  ['OVERSIGHT_QUORUM_NOT_MET', 403],
  ['OVERSIGHT_REPLAY', 409],
  ['OVERSIGHT_CHALLENGE_INVALID', 409],
  ['OVERSIGHT_REPLAY_CACHE_FULL', 503],
];

describe('oversight codes in the registry', () => {
  it.each(CONTRACT)('%s is %i', (code, status) => {
    expect(httpStatusFor(code)).toBe(status);
  });

  it('every code of the oversight crate (crates/oversight/src/error.rs) has a status', () => {
    const source = readFileSync(fileURLToPath(new URL('../../crates/oversight/src/error.rs', import.meta.url)), 'utf8');
    const codes = [...source.matchAll(/=\s*"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThanOrEqual(13);
    expect(codes.filter((c) => ERROR_REGISTRY[c] === undefined)).toEqual([]);
  });
});

describe('oversight routes (stand-in enclave)', () => {
  it('GET /v1/oversight/challenge asks for one and answers it as JSON (bytes hex, µs a number)', async () => {
    const { app, calls } = recording({ id: 1, type: 'oversight_challenge', challenge: Buffer.alloc(32, 0xcd), expires_at_us: 1_767_225_900_000_000n });
    const res = await app.inject({ method: 'GET', url: '/v1/oversight/challenge' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ type: 'oversight_challenge', challenge: `0x${'cd'.repeat(32)}`, expires_at_us: 1_767_225_900_000_000 });
    expect(calls).toEqual([{ op: 'oversight_challenge' }]);
    await app.close();
  });

  it('POST /v1/oversight and its aliases relay the command bytes and signatures in an `oversight` frame', async () => {
    const { app, calls } = recording();
    const body = commandJson({ action: 'halt', scope: 'key:k-1', level: 'yellow', reason: 'look at it' }, [OVERSEER]);
    for (const url of ['/v1/oversight', '/v1/oversight/halt']) {
      const res = await app.inject({ method: 'POST', url, payload: body });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        type: 'oversight_status',
        global: { scope: 'global', level: 'red', reason: 'r', since_us: 1_767_225_600_000_000, by: ['overseer-1'] },
        scopes: [],
        heartbeat_interval_ms: 0,
        heartbeat_deadline_us: null,
        pending_approvals: 0,
        max_pending: 64,
        signers: ['overseer-1'],
      });
    }
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({
      op: 'oversight',
      command: Buffer.from(body.command.slice(2), 'hex'),
      signatures: [{ signer: 'overseer-1', signature: Buffer.from(body.signatures[0]!.signature.slice(2), 'hex') }],
    });
    await app.close();
  });

  it('the aliases, /v1/approvals and /v1/approvals/decision refuse a command of another action: 400 OVERSIGHT_MALFORMED, nothing sent', async () => {
    const { app, calls } = recording();
    const cases: Array<[string, Parameters<typeof commandJson>[0]]> = [
      ['/v1/oversight/halt', { action: 'status' }],
      ['/v1/oversight/resume', { action: 'halt', scope: 'global', level: 'red' }],
      ['/v1/oversight/heartbeat', { action: 'status' }],
      ['/v1/oversight/status', { action: 'heartbeat' }],
      ['/v1/oversight', { action: 'list_approvals' }],
      ['/v1/approvals', { action: 'status' }],
      ['/v1/approvals/decision', { action: 'list_approvals' }],
    ];
    for (const [url, fields] of cases) {
      const res = await app.inject({ method: 'POST', url, payload: commandJson(fields, [OVERSEER]) });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('OVERSIGHT_MALFORMED');
      expect(res.json().error.message, url).toContain(String(fields.action));
    }
    expect(calls).toEqual([]);
    await app.close();
  });

  it('a command that is not canonical CBOR of a valid command is 400 OVERSIGHT_MALFORMED (read by the core), nothing sent', async () => {
    const { app, calls } = recording();
    for (const command of ['0xa0', '0x00', `0x${'ff'.repeat(64)}`]) {
      const res = await app.inject({ method: 'POST', url: '/v1/oversight', payload: { command, signatures: [] } });
      expect(res.statusCode, command).toBe(400);
      expect(res.json().error.code).toBe('OVERSIGHT_MALFORMED');
    }
    expect(calls).toEqual([]);
    await app.close();
  });

  it('shapes: unknown fields, bad hex, an oversized command or too many signatures are 400 INVALID_ARGUMENT', async () => {
    const { app, calls } = recording();
    const good = commandJson({ action: 'status' }, [OVERSEER]);
    const bad: unknown[] = [
      { ...good, extra: 1 },
      { command: '0xzz', signatures: [] },
      { command: good.command },
      { command: `0x${'00'.repeat(1025)}`, signatures: [] },
      { command: good.command, signatures: Array.from({ length: 17 }, () => good.signatures[0]) },
      { command: good.command, signatures: [{ signer: '', signature: '0x00' }] },
      { command: good.command, signatures: [{ signer: 'a', signature: '0x00', extra: true }] },
    ];
    for (const payload of bad) {
      const res = await app.inject({ method: 'POST', url: '/v1/oversight/status', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    }
    expect(calls).toEqual([]);
    const id = await app.inject({ method: 'GET', url: '/v1/requests/0x1234' });
    expect(id.statusCode).toBe(400);
    expect(id.json().error.code).toBe('INVALID_ARGUMENT');
    await app.close();
  });

  it('approvals: list_approvals and approve/reject go to their frames; answers keep the enclave\'s fields', async () => {
    const entry = {
      request_id: Buffer.alloc(16, 1),
      request_digest: Buffer.alloc(32, 2),
      principal: 'agent-7',
      key_id: 'k-1',
      op: 'sign_digest',
      reason: 'yellow_state',
      body: Buffer.from('a0', 'hex'),
      held_at_us: 1n,
      expires_at_us: 2n,
      approvals: [],
      approvals_needed: 2n,
    };
    const list = recording({ id: 1, type: 'approval_list', entries: [entry] });
    const res = await list.app.inject({ method: 'POST', url: '/v1/approvals', payload: commandJson({ action: 'list_approvals' }, [OVERSEER]) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().entries[0]).toEqual({ ...entry, request_id: hex(entry.request_id), request_digest: hex(entry.request_digest), body: '0xa0', held_at_us: 1, expires_at_us: 2, approvals_needed: 2 });
    expect(list.calls[0]!.op).toBe('list_approvals');
    await list.app.close();

    const updated = recording({ id: 1, type: 'approval_updated', request_id: Buffer.alloc(16, 1), state: 'pending', code: null, approvals: ['alice'], approvals_needed: 2n });
    for (const action of ['approve', 'reject'] as const) {
      const decided = await updated.app.inject({
        method: 'POST',
        url: '/v1/approvals/decision',
        payload: commandJson({ action, request_id: hex(Buffer.alloc(16, 1)), request_digest: hex(Buffer.alloc(32, 2)) }, [OVERSEER]),
      });
      expect(decided.statusCode, decided.body).toBe(200);
      expect(decided.json()).toEqual({ type: 'approval_updated', request_id: hex(Buffer.alloc(16, 1)), state: 'pending', code: null, approvals: ['alice'], approvals_needed: 2 });
    }
    expect(updated.calls.map((c) => c.op)).toEqual(['approval', 'approval']);
    await updated.app.close();
  });

  it('GET /v1/requests/:requestId sends approval_result with the 16-byte id', async () => {
    const { app, calls } = recording(new SentinelError('APPROVAL_UNKNOWN', 'no held request'));
    const res = await app.inject({ method: 'GET', url: `/v1/requests/0x${'AB'.repeat(16)}` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'APPROVAL_UNKNOWN', message: 'no held request' } });
    expect(calls).toEqual([{ op: 'approval_result', request_id: Buffer.alloc(16, 0xab) }]);
    await app.close();
  });

  it.each(CONTRACT.filter(([code]) => code !== 'APPROVAL_PENDING' && code !== 'KILL_SWITCH_HALTED'))(
    'an enclave refusal %s of a command is HTTP %i with its code',
    async (code, status) => {
      const { app } = recording(new SentinelError(code, `refused: ${code}`));
      const res = await app.inject({ method: 'POST', url: '/v1/oversight/status', payload: commandJson({ action: 'status' }, [OVERSEER]) });
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual({ error: { code, message: `refused: ${code}` } });
      await app.close();
    },
  );
});

describe('zcp rpc: a held request', () => {
  it('is JSON-RPC -32002 with the code and the request id in data (not -32003: nothing was refused)', () => {
    const requestId = `0x${'ab'.repeat(16)}`;
    const held = Object.assign(new Error('held for human approval (yellow_state; 0 of 2 approvals)'), {
      code: 'APPROVAL_PENDING',
      receiptId: requestId,
      requestId,
      pending: { requestId, expiresAtUs: 1_767_225_900_000_000, approvals: [], approvalsNeeded: 2 },
    });
    const error = toRpcError(held).toJSON();
    expect(error.code).toBe(RPC_CODES.RESOURCE_UNAVAILABLE);
    expect(error.data).toEqual({
      code: 'APPROVAL_PENDING',
      message: held.message,
      receiptId: requestId,
      requestId,
      expiresAtUs: 1_767_225_900_000_000,
      approvals: [],
      approvalsNeeded: 2,
    });
    // A halt is a refusal with a receipt: -32003.
    expect(toRpcError(Object.assign(new Error('halted'), { code: 'KILL_SWITCH_HALTED', receiptId: requestId })).rpcCode).toBe(RPC_CODES.TRANSACTION_REJECTED);
  });
});
