/**
 * The host killed with SIGKILL under concurrent signing, repeatedly: `zcp up`
 * (API, audit writer and the enclave it launched) runs while eight clients
 * sign over HTTP, and is killed at a random moment; then again on the same
 * data directory, where the new enclave continues the same log (docs/audit.md,
 * "Restart") under a new key. Afterwards every signature a client received has
 * its record in the stored log (same sequence number, request and result
 * digests), the one log verifies against its stored checkpoints with the keys
 * of its history, and no record is duplicated or lost (verify_log checks the
 * sequence 0, 1, 2, ... and the hash chain across the restarts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { AuditStore } from '../src/audit/store.ts';
import { core } from '../src/core.ts';
import { stampedJson } from './api-fixture.ts';
import { HAVE_ENCLAVE, isAlive, SKIP_REASON } from './helpers.ts';

const ZCP = fileURLToPath(new URL('../bin/zcp.mjs', import.meta.url));
const ROUNDS = 4;
const CLIENTS = 8;
const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const sha256 = (b: Uint8Array): string => `0x${createHash('sha256').update(b).digest('hex')}`;
const unhex = (h: string): Buffer => Buffer.from(h.replace(/^0x/, ''), 'hex');

interface Ready {
  url: string;
  clientKeyPath: string;
  audit: { origin: string; verifierKey: string };
}

function startUp(dataDir: string): Promise<{ child: ChildProcess; ready: Ready; enclavePid: () => number | null }> {
  const child = spawn(process.execPath, [ZCP, 'up', '--port', '0', '--insecure-http', '--json', '--log-level', 'silent', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zcp up not ready in time:\n${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`zcp up exited ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string } & Ready;
      if (event.event === 'ready') {
        clearTimeout(timer);
        const stack = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { pid: number };
        expect(stack.pid).toBe(child.pid);
        resolve({ child, ready: event, enclavePid: () => null });
      }
    });
  });
}

interface Received {
  origin: string;
  seq: number;
  body: string;
  resultHash: string;
}

async function sign(url: string, credential: string, keyId: string, i: number): Promise<{ status: number; json: { receipt?: string } ; body: string }> {
  const payload = stampedJson(credential, { op: 'sign_digest', key_id: keyId, digest: createHash('sha256').update(`${i}`).digest() });
  const res = await fetch(`${url}/v1/sign/digest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  return { status: res.status, json: (await res.json()) as { receipt?: string }, body: payload.body };
}

maybe('SIGKILL of the host under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-audit-crash-'));
  const dataDir = join(dir, 'data');

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no record of any signature a client received, and every stored log verifies', async () => {
    const received: Received[] = [];
    const origins: string[] = [];
    let counter = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { child, ready } = await startUp(dataDir);
      origins.push(ready.audit.origin);
      const credential = readFileSync(ready.clientKeyPath, 'utf8');
      const generated = await fetch(`${ready.url}/v1/keys/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(stampedJson(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: `crash-${round}` })),
      });
      const keyId = ((await generated.json()) as { answer: { key_id: string } }).answer.key_id;
      let killed = false;
      const loops = Array.from({ length: CLIENTS }, async () => {
        while (!killed) {
          const i = counter++;
          try {
            const r = await sign(ready.url, credential, keyId, i);
            if (r.status !== 200 || !r.json.receipt) continue;
            const claims = core.unsafeDecodeReceiptClaims(unhex(r.json.receipt));
            received.push({ origin: ready.audit.origin, seq: claims.auditSeq!, body: r.body, resultHash: claims.resultHash! });
          } catch {
            // The host died mid-request: that client got nothing.
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 600)));
      child.kill('SIGKILL');
      killed = true;
      await Promise.all(loops);
      await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r));
      // The enclave it launched stops by itself (--exit-with-parent); wait for its socket to go.
      const deadline = Date.now() + 5_000;
      while (existsSync(join(dataDir, 'stack.json')) && Date.now() < deadline) {
        const stack = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { pid: number };
        if (!isAlive(stack.pid)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(received.length).toBeGreaterThan(ROUNDS * 10);

    let stored = 0;
    // Every restart continued the first log: one origin, one directory, a key per start.
    expect(new Set(origins).size).toBe(1);
    const logs = readdirSync(join(dataDir, 'audit', 'logs'));
    expect(logs).toEqual([origins[0]!.split('/').pop()!]);
    for (const origin of new Set(origins)) {
      const store = await AuditStore.open({ dir: join(dataDir, 'audit', 'logs', origin.split('/').pop()!) });
      try {
        const info = (await store.readInfo()) as { origin: string; verifier_key: string; keys: Array<{ verifier_key: string; from_seq: number }> };
        expect(info.origin).toBe(origin);
        expect(info.keys).toHaveLength(ROUNDS);
        const records = await store.read(0, store.size);
        const checkpoints = (await store.checkpoints()).map((c) => c.note);
        const report = core.auditVerifyLog(records, checkpoints, info.keys.map((k) => k.verifier_key));
        expect(report.records).toBe(store.size);
        for (const key of info.keys.slice(1)) expect(core.auditDecodeRecord(records[key.from_seq]!).kind).toBe('log_resumed');
        stored += store.size;
        for (const r of received.filter((x) => x.origin === origin)) {
          expect(r.seq).toBeLessThan(store.size);
          const record = core.auditDecodeRecord(records[r.seq]!);
          expect(record.request_digest).toBe(sha256(unhex(r.body)));
          expect(record.result_digest).toBe(r.resultHash);
        }
      } finally {
        await store.close();
      }
    }
    console.log(`[audit-crash] ${ROUNDS} SIGKILLs under ${CLIENTS} clients: ${received.length} signatures received, all with their records; ${stored} records stored in one log continued by ${ROUNDS} enclaves, verified`);
  }, 120_000);
});
