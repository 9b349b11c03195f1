/**
 * A replica of a running local stack (docs/sealed-state.md, "Replicas"): `zcp up --replica-of A` starts
 * a second enclave that gets A's master key by attested forwarding (each enclave checks the other's
 * attestation document, relayed by the host) and then opens A's sealed keys: the same key ids sign,
 * and the signatures recover to the same public keys, through the replica's own API. The replica never
 * writes the master key down, refuses to start without its peer, and a replica that is not one of A's
 * (another configuration) is refused.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { Operation } from '@sentinel/node/protocol';

import { core } from '../src/core.ts';
import { stampedJson } from './api-fixture.ts';
import { HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';
import { startUp, stopStack, type Up } from './zcp-up-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const unhex = (h: string): Buffer => Buffer.from(h.replace(/^0x/, ''), 'hex');

interface Answer {
  status: number;
  json: { answer?: { key_id?: string; public_key?: string; signature?: string; recovery_id?: number; storage?: string }; error?: { code: string; message: string } };
}

async function post(url: string, path: string, credential: string, operation: Operation): Promise<Answer> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(stampedJson(credential, operation)) });
  return { status: res.status, json: (await res.json()) as Answer['json'] };
}

/** Signs `tag`'s digest with `keyId` through `url`; returns the public key the signature recovers to. */
async function signAndRecover(url: string, credential: string, keyId: string, tag: string): Promise<string> {
  const digest = createHash('sha256').update(tag).digest();
  const r = await post(url, '/v1/sign/digest', credential, { op: 'sign_digest', key_id: keyId, digest });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  const a = r.json.answer!;
  return `0x${core.recoverPublicKey(digest, unhex(a.signature!), a.recovery_id!, true).toString('hex')}`;
}

maybe('a replica of a running stack (zcp up --replica-of)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-replica-'));
  const running: Up[] = [];
  afterAll(async () => {
    for (const up of running) await stopStack(up).catch(() => up.child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets the master key by attested forwarding and signs with the same keys; never stores the key; needs its peer', async () => {
    const dirA = join(dir, 'a');
    const dirB = join(dir, 'b');
    const a = await startUp(dirA);
    running.push(a);
    const credential = readFileSync(a.ready.clientKeyPath, 'utf8');
    const made = await post(a.ready.url, '/v1/keys/generate', credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'replicated' });
    expect(made.status, JSON.stringify(made.json)).toBe(200);
    const keyId = made.json.answer!.key_id!;
    const publicKey = made.json.answer!.public_key!;
    expect(await signAndRecover(a.ready.url, credential, keyId, 'on a')).toBe(publicKey);

    const b = await startUp(dirB, ['--replica-of', dirA]);
    running.push(b);
    const readyA = a.ready as unknown as { pcr0: string; sealing: { lineage: string } };
    const readyB = b.ready as unknown as { pcr0: string; replica: { peer: string; lineage: string; peerPcr0: string } | null };
    expect(readyB.replica).toMatchObject({ peer: dirA, peerPcr0: readyA.pcr0, lineage: readyA.sealing.lineage });
    expect(readyB.pcr0).toBe(readyA.pcr0);
    expect(b.ready.url).not.toBe(a.ready.url);
    // The same key signs through the replica's own API, and recovers to the same public key.
    expect(await signAndRecover(b.ready.url, credential, keyId, 'on b')).toBe(publicKey);
    // The replica received the key; it did not make or store one.
    expect(existsSync(join(dirB, 'sealing', 'master.key'))).toBe(false);
    expect(existsSync(join(dirA, 'sealing', 'master.key'))).toBe(true);
    await stopStack(b);
    running.pop();

    // Once a replica, always started as one: without its peer named, nothing starts.
    const alone = await startUp(dirB).then(
      (up) => {
        running.push(up);
        throw new Error('a replica started without its peer');
      },
      (e: { exitCode?: number; stderr?: string }) => e,
    );
    expect(alone.exitCode).toBe(1);
    expect(alone.stderr).toContain('error REPLICA_PEER_REQUIRED');

    // A replica of another deployment (its own configuration) is refused before anything starts.
    const dirC = join(dir, 'c');
    const c = await startUp(dirC);
    await stopStack(c);
    const mismatched = await startUp(dirC, ['--replica-of', dirA]).then(
      (up) => {
        running.push(up);
        throw new Error('a replica with another configuration started');
      },
      (e: { exitCode?: number; stderr?: string }) => e,
    );
    expect(mismatched.exitCode).toBe(1);
    expect(mismatched.stderr).toMatch(/error REPLICA_MISMATCH/);

    // A peer that is not running: nothing to forward from.
    await stopStack(a);
    running.splice(running.indexOf(a), 1);
    const noPeer = await startUp(dirB, ['--replica-of', dirA]).then(
      (up) => {
        running.push(up);
        throw new Error('a replica started without a running peer');
      },
      (e: { exitCode?: number; stderr?: string }) => e,
    );
    expect(noPeer.exitCode).toBe(1);
    expect(noPeer.stderr).toMatch(/error (REPLICA_PEER_NOT_RUNNING|STACK_NOT_FOUND)/);
  }, 120_000);
});
