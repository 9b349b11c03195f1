/**
 * `zcp halt | resume | status | heartbeat | approvals` against a real local
 * stack (the enclave resumed after boot with the development admin key, the
 * development configuration's overseer and approver), and the SDK's handling
 * of a held signing request: the exit codes (0 done, 1 refused, 2 usage), the
 * text and JSON each prints, the offline resume (prepare, sign, submit).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { createClient, SentinelClientError } from '@sentinel/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { clientOptionsFrom } from '../src/cli/stack.ts';
import { startCliStack, type CliStack } from './cli-fixture.ts';
import { HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';
import { credential } from './oversight-fixture.ts';

const ZCP = fileURLToPath(new URL('../bin/zcp.mjs', import.meta.url));
const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

interface Status {
  global: { scope: string; level: string; reason: string; by: string[] };
  scopes: Array<{ scope: string; level: string }>;
  signers: string[];
}

maybe('zcp halt, resume, status, heartbeat, approvals (real enclave)', () => {
  let s: CliStack;
  let dir: string;
  let admin: string;
  let keyId: string;

  beforeAll(async () => {
    s = await startCliStack();
    dir = mkdtempSync(join(tmpdir(), 'sentinel-oversight-cli-'));
    admin = s.enclave.dev.adminKeyPath;
    const generated = await s.json<{ keyId: string }>('keys', 'generate', '--curve', 'secp256k1', '--purpose', 'ethereum', '--label', 'oversight');
    expect(generated.code, generated.err).toBe(0);
    keyId = generated.value.keyId;
  }, 60_000);
  afterAll(async () => {
    await s?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  const signMessage = () => s.run('sign', 'message', '--key', keyId, '--message', 'hello');

  it('status: the stack came up resumed (global green); text and JSON', async () => {
    const json = await s.json<Status>('status', '--key', admin);
    expect(json.code, json.err).toBe(0);
    expect(json.value).toMatchObject({ global: { scope: 'global', level: 'green' }, scopes: [], signers: ['dev-admin'] });
    const text = await s.run('status', '--key', admin);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('kill switch');
    expect(text.out).toMatch(/global\s+GREEN since/);
    expect(text.out).toMatch(/heartbeat\s+off/);
    expect(text.out).toMatch(/signed by\s+dev-admin/);
  });

  it('halt --scope global: signing is then refused (exit 1, KILL_SWITCH_HALTED); resume --key lifts it', async () => {
    const halted = await s.run('halt', '--scope', 'global', '--key', admin, '--reason', 'drill');
    expect(halted.code, halted.err).toBe(0);
    expect(halted.out).toContain('halted: global is RED');
    expect(halted.out).toMatch(/global\s+RED since .* by dev-admin: drill/);
    const refused = await signMessage();
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error KILL_SWITCH_HALTED: .*\(receipt 0x[0-9a-f]{32}\)/);

    const resumed = await s.json<Status>('resume', '--scope', 'global', '--key', admin);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.value.global).toMatchObject({ level: 'green', by: ['dev-admin'] });
    expect((await signMessage()).code).toBe(0);
  });

  it('usage errors exit 2 and send nothing; a stranger\'s key is refused by the enclave (exit 1)', async () => {
    const noScope = await s.run('halt', '--key', admin);
    expect(noScope.code).toBe(2);
    expect(noScope.err).toContain('--scope is required');
    const badScope = await s.run('halt', '--scope', 'everything', '--key', admin);
    expect(badScope.code).toBe(2);
    expect(badScope.err).toContain('error OVERSIGHT_MALFORMED');
    const badLevel = await s.run('resume', '--scope', 'global', '--level', 'red', '--key', admin);
    expect(badLevel.code).toBe(2);
    expect(badLevel.err).toContain('error OVERSIGHT_MALFORMED');
    const noKey = await s.run('status');
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain('--key FILE is required');
    const missing = await s.run('status', '--key', join(dir, 'nope.key'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('error FILE_UNREADABLE');
    const strangerKey = join(dir, 'stranger.key');
    writeFileSync(strangerKey, credential('stranger'), { mode: 0o600 });
    const stranger = await s.json<{ error: { code: string } }>('halt', '--scope', 'global', '--key', strangerKey);
    expect(stranger.code).toBe(1);
    expect(stranger.value.error.code).toBe('OVERSIGHT_NOT_PERMITTED');
    expect((await signMessage()).code).toBe(0);
  });

  it('offline resume: prepare (challenge fetched), sign on another machine, submit with the signatures', async () => {
    expect((await s.run('halt', '--scope', `key:${keyId}`, '--level', 'red', '--key', admin)).code).toBe(0);
    expect((await signMessage()).code).toBe(1);

    const cmd = join(dir, 'cmd.json');
    const prepared = await s.run('resume', 'prepare', '--scope', `key:${keyId}`, '--out', cmd);
    expect(prepared.code, prepared.err).toBe(0);
    const file = JSON.parse(readFileSync(cmd, 'utf8')) as { command: string; digest: string; fields: Record<string, unknown>; challengeExpiresAtUs: number };
    expect(file.fields).toMatchObject({ action: 'resume', scope: `key:${keyId}`, level: 'green' });
    expect(file.fields.challenge).toMatch(/^0x[0-9a-f]{64}$/);
    expect(file.command).toMatch(/^0x[0-9a-f]+$/);
    // Also to stdout.
    const stdout = await s.run('resume', 'prepare', '--scope', 'global');
    expect(JSON.parse(stdout.out).fields.action).toBe('resume');

    // Signing is offline: no --data-dir, no API.
    const sig = join(dir, 'sig.json');
    const { zcp } = s;
    const signed = await captured(() => zcp('resume', 'sign', cmd, '--key', admin, '--out', sig));
    expect(signed.code, signed.err).toBe(0);
    expect(signed.err).toContain(`signing resume of key:${keyId} to green`);
    expect(JSON.parse(readFileSync(sig, 'utf8'))).toMatchObject({ signer: 'dev-admin', signature: expect.stringMatching(/^0x[0-9a-f]{128}$/) });

    // A file whose fields say something else than its bytes is refused before anything is signed.
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...file, fields: { ...file.fields, scope: 'global' } }));
    const refusedSign = await captured(() => zcp('resume', 'sign', tampered, '--key', admin));
    expect(refusedSign.code).toBe(2);
    expect(refusedSign.err).toContain('error OVERSIGHT_MALFORMED');

    // The second prepare (to stdout) asked for a newer challenge, which replaced the one in the first file:
    // submitting it is refused (exit 1), nothing resumed.
    const stale = await s.run('resume', 'submit', cmd, '--sig', sig);
    expect(stale.code).toBe(1);
    expect(stale.err).toContain('error OVERSIGHT_CHALLENGE_INVALID');

    // Prepared, signed and submitted in turn: resumed.
    expect((await s.run('resume', 'prepare', '--scope', `key:${keyId}`, '--out', cmd)).code).toBe(0);
    expect((await captured(() => zcp('resume', 'sign', cmd, '--key', admin, '--out', sig))).code).toBe(0);
    const submitted = await s.run('resume', 'submit', cmd, '--sig', sig);
    expect(submitted.code, submitted.err).toBe(0);
    expect(submitted.out).toContain(`resumed: key:${keyId} is GREEN`);
    expect((await signMessage()).code).toBe(0);
    // The same submission again: the challenge is used and the digest seen.
    const again = await s.run('resume', 'submit', cmd, '--sig', sig);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/error OVERSIGHT_(REPLAY|CHALLENGE_INVALID)/);
  });

  it('approvals: a Yellow principal\'s signature is held (exit 1, APPROVAL_PENDING with the request id); list shows it decoded; approve releases it', async () => {
    expect((await s.run('halt', '--scope', 'principal:dev-client', '--level', 'yellow', '--key', admin)).code).toBe(0);
    const held = await s.json<{ error: { code: string; requestId: string } }>('sign', 'message', '--key', keyId, '--message', 'approve me');
    expect(held.code).toBe(1);
    expect(held.value.error.code).toBe('APPROVAL_PENDING');
    const requestId = held.value.error.requestId;
    expect(requestId).toMatch(/^0x[0-9a-f]{32}$/);
    expect(held.err).toContain(`zcp approvals approve ${requestId}`);

    const list = await s.json<{ entries: Array<{ request_id: string; op: string; key_id: string; summary: string; approvals_needed: number }> }>('approvals', 'list', '--key', admin);
    expect(list.code, list.err).toBe(0);
    const entry = list.value.entries.find((e) => e.request_id === requestId)!;
    expect(entry).toMatchObject({ op: 'sign_personal_message', key_id: keyId, approvals_needed: 1, summary: 'personal message: "approve me"' });
    const text = await s.run('approvals', 'list', '--key', admin);
    expect(text.out).toContain(`request ${requestId}`);
    expect(text.out).toMatch(/asks\s+personal message: "approve me"/);
    expect(text.out).toMatch(/approvals\s+0 of 1/);

    const approved = await s.run('approvals', 'approve', requestId, '--key', admin);
    expect(approved.code, approved.err).toBe(0);
    expect(approved.out).toContain(`approved: request ${requestId}`);
    expect(approved.out).toMatch(/state\s+released/);

    // The requester's SDK fetches the outcome, receipt verified.
    const client = await createClient(clientOptionsFrom({ dataDir: s.dataDir }));
    try {
      const outcome = await client.approvalResult(requestId);
      expect(outcome.status).toBe('released');
      if (outcome.status !== 'released') throw new Error('unreachable');
      expect(outcome.answer.type).toBe('signature');
      expect(outcome.verified.claims).toMatchObject({ decision: 'allowed', op: 'sign_personal_message', approvals: ['dev-admin'] });
    } finally {
      await client.close();
    }

    // Reject: the same flow, refused. An unknown id is APPROVAL_UNKNOWN (exit 1); a malformed one exit 2.
    const second = await s.json<{ error: { requestId: string } }>('sign', 'message', '--key', keyId, '--message', 'reject me');
    const rejected = await s.run('approvals', 'reject', second.value.error.requestId, '--key', admin);
    expect(rejected.code, rejected.err).toBe(0);
    expect(rejected.out).toMatch(/state\s+rejected/);
    const unknown = await s.run('approvals', 'approve', `0x${'00'.repeat(16)}`, '--key', admin);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('error APPROVAL_UNKNOWN');
    expect((await s.run('approvals', 'approve', '0x1234', '--key', admin)).code).toBe(2);
    expect((await s.run('resume', '--scope', 'principal:dev-client', '--key', admin)).code).toBe(0);
  });

  it('the SDK: a held signing call throws APPROVAL_PENDING with its verified hold; waitForApproval returns the release', async () => {
    expect((await s.run('halt', '--scope', 'principal:dev-client', '--level', 'yellow', '--key', admin)).code).toBe(0);
    const client = await createClient(clientOptionsFrom({ dataDir: s.dataDir }));
    try {
      let error: SentinelClientError | undefined;
      const signing = client.signMessage(keyId, 'wait for me').catch((e: SentinelClientError) => {
        error = e;
      });
      await signing;
      expect(error?.code).toBe('APPROVAL_PENDING');
      expect(error?.status).toBe(202);
      const pending = error!.pending!;
      expect(pending).toMatchObject({ requestId: error!.requestId, reason: 'yellow_state', approvals: [], approvalsNeeded: 1 });
      expect(pending.verified.claims).toMatchObject({ decision: 'denied', code: 'APPROVAL_PENDING', requestId: pending.requestId, payloadHash: pending.requestDigest });
      const still = await client.approvalResult(pending.requestId);
      expect(still.status).toBe('pending');
      await expect(client.waitForApproval(pending.requestId, { timeoutMs: 300, intervalMs: 100 })).rejects.toMatchObject({ code: 'APPROVAL_TIMEOUT' });

      const waiting = client.waitForApproval(pending.requestId, { timeoutMs: 10_000, intervalMs: 100 });
      expect((await s.run('approvals', 'approve', pending.requestId, '--key', admin)).code).toBe(0);
      const released = await waiting;
      expect(released.answer.type).toBe('signature');
      expect(released.verified.claims.approvals).toEqual(['dev-admin']);

      // A rejection is thrown with its receipt.
      const second = await client.signMessage(keyId, 'no').catch((e: SentinelClientError) => e);
      expect((second as SentinelClientError).code).toBe('APPROVAL_PENDING');
      expect((await s.run('approvals', 'reject', (second as SentinelClientError).requestId!, '--key', admin)).code).toBe(0);
      await expect(client.waitForApproval((second as SentinelClientError).requestId!)).rejects.toMatchObject({ code: 'APPROVAL_REJECTED', status: 403 });
    } finally {
      await client.close();
    }
    expect((await s.run('resume', '--scope', 'principal:dev-client', '--key', admin)).code).toBe(0);
  });

  it('heartbeat: one, or --every MS until Ctrl-C (a child process)', async () => {
    const one = await s.run('heartbeat', '--key', admin);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toContain('heartbeat accepted');

    const child = spawn(process.execPath, [ZCP, 'heartbeat', '--key', admin, '--every', '100', '--data-dir', s.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no heartbeats:\n${lines.join('\n')}\n${stderr}`)), 20_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(line);
        if (lines.filter((l) => l.startsWith('heartbeat ')).length >= 3) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(lines[0]).toMatch(/^heartbeat 1 at .*: global GREEN/);
  }, 30_000);
});

/** Runs a zcp call (without the fixture's --data-dir) with the console captured. */
async function captured(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await run();
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}
