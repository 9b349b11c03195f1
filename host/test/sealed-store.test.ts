/**
 * The host's sealed store (host/src/seal/store.ts) and the API's rule that a new key's id leaves only
 * once its sealed record is stored: atomic writes under the names the records claim, nothing outside
 * the store's kinds and key-id shape, the configuration first when read back, deletions, batches
 * within the protocol's limits, and an answer withheld (SEALED_STORAGE_UNAVAILABLE) when the write fails.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { decodeSnapshotFile, encodeSnapshotFile } from '../src/audit/writer.ts';
import { sealedBatches, SealedStore } from '../src/seal/store.ts';
import { EnclaveClient, type Operation } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { fakeEnclave, HAVE_ENCLAVE, stampedFrame, startTestEnclave } from './helpers.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealed-store-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY = 'k-0123456789abcdef01234567';
const record = (kind: string, name: string, bytes: number[]) => ({ kind, name, version: 1, record: Uint8Array.from(bytes) });

describe('SealedStore', () => {
  it('writes records atomically under their names and reads them back configuration first', async () => {
    const dir = join(tempDir(), 'sealed');
    const store = new SealedStore(dir);
    await store.write(record('key', 'k-ffffffffffffffffffffffff', [3]));
    await store.write(record('key', KEY, [2]));
    await store.write(record('configuration', 'current', [1]));
    expect(store.readAll().map((b) => [...b])).toEqual([[1], [2], [3]]);
    expect(store.keyCount()).toBe(2);
    // A rewrite replaces; no temporary is left behind.
    await store.write(record('configuration', 'current', [9, 9]));
    expect([...store.readAll()[0]!]).toEqual([9, 9]);
    expect(readdirSync(dir).sort()).toEqual(['configuration.seal', 'keys']);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    await store.remove(KEY);
    await store.remove(KEY); // already gone: not an error
    expect(store.keyCount()).toBe(1);
  });

  it('refuses names that are not a key id or the configuration record, before touching the disk', async () => {
    const store = new SealedStore(join(tempDir(), 'sealed'));
    for (const [kind, name] of [
      ['key', '../../etc/passwd'],
      ['key', 'k-XYZ'],
      ['configuration', 'other'],
      ['policy', 'current'],
    ]) {
      await expect(store.write(record(kind!, name!, [1]))).rejects.toMatchObject({ code: 'SEALED_STORE_INVALID' });
    }
    expect(store.readAll()).toEqual([]);
  });

  it('drops temporaries a crash left and reports a write that fails', async () => {
    const dir = join(tempDir(), 'sealed');
    new SealedStore(dir);
    writeFileSync(join(dir, 'keys', `${KEY}.seal.tmp`), 'torn');
    const store = new SealedStore(dir);
    expect(existsSync(join(dir, 'keys', `${KEY}.seal.tmp`))).toBe(false);
    rmSync(join(dir, 'keys'), { recursive: true });
    await expect(store.write(record('key', KEY, [1]))).rejects.toMatchObject({ code: 'SEALED_STORAGE_UNAVAILABLE' });
  });

  it('batches records within the count and byte limits, in order', () => {
    const records = Array.from({ length: 5 }, (_, i) => Buffer.alloc(10, i));
    expect(sealedBatches(records, 2, 1000).map((b) => b.length)).toEqual([2, 2, 1]);
    expect(sealedBatches(records, 10, 25).map((b) => b.length)).toEqual([2, 2, 1]);
    expect(sealedBatches(records, 10, 1000).flat()).toEqual(records);
    expect(sealedBatches([])).toEqual([]);
  });
});

describe.skipIf(!HAVE_ENCLAVE)('the API and sealed records', () => {
  // The route reads the receipt (its id), so the fake answers carry a real one from the enclave.
  let receipt: Buffer;
  beforeAll(async () => {
    const t = await startTestEnclave();
    const c = new EnclaveClient({ transport: unixTransport(t.socketPath) });
    try {
      await c.connect();
      receipt = (await c.request(stampedFrame(null, { op: 'list_keys' } as Operation))).receipt;
    } finally {
      await c.close();
      await t.dispose();
    }
  }, 30_000);
  const generated = (sealed: unknown) =>
    fakeEnclave(() => ({
      id: 1,
      type: 'receipted',
      answer: { type: 'key_generated', key_id: KEY, curve: 'ed25519', purpose: 'raw', label: 'l', public_key: Buffer.alloc(32, 1), storage: 'sealed:development' },
      receipt,
      audit: null,
      sealed,
    }) as never);
  const sealed = { kind: 'key', name: KEY, version: 1, record: Buffer.from([0x53, 0x4e]) };

  it('stores the sealed record before it relays the answer, and withholds the answer when it cannot', async () => {
    const stored: unknown[] = [];
    const ok = buildApp({ enclave: generated(sealed), sealed: { persist: async (r) => void stored.push(r), remove: async () => {} } });
    const res = await ok.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().answer.storage).toBe('sealed:development');
    // The record itself never reaches the client: it is the host's to keep.
    expect(JSON.stringify(res.json())).not.toContain('534e');
    expect(stored).toEqual([sealed]);
    await ok.close();

    const failing = buildApp({
      enclave: generated(sealed),
      sealed: { persist: async () => Promise.reject(new Error('disk full')), remove: async () => {} },
    });
    const refused = await failing.inject({ method: 'POST', url: '/v1/stamped', payload: { body: '0xa0' } });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe('SEALED_STORAGE_UNAVAILABLE');
    expect(JSON.stringify(refused.json())).not.toContain(KEY);
    await failing.close();
  });

  it('drops the sealed record of a deleted key', async () => {
    const removed: string[] = [];
    const app = buildApp({
      enclave: fakeEnclave(() => ({ id: 1, type: 'key_deleted', key_id: KEY }) as never),
      sealed: { persist: async () => {}, remove: async (id) => void removed.push(id) },
    });
    const res = await app.inject({ method: 'POST', url: '/v1/admin/keys/delete', payload: { order: '0xa2' } });
    expect(res.json()).toEqual({ keyId: KEY });
    expect(removed).toEqual([KEY]);
    await app.close();
  });
});

describe('snapshot.seal (the parts of a sealed state snapshot, docs/sealed-state.md)', () => {
  it('keeps every part, in order, and refuses a file that is not whole', () => {
    const parts = [Buffer.from('part zero'), Buffer.alloc(0), Buffer.from([1, 2, 3])];
    const file = encodeSnapshotFile(parts);
    expect(file.subarray(0, 8).toString()).toBe('SNTLSNAP');
    expect(decodeSnapshotFile(file)).toEqual(parts);
    for (let cut = 0; cut < file.length; cut++) {
      expect(() => decodeSnapshotFile(file.subarray(0, cut)), `cut at ${cut}`).toThrow(/SEALED_STORE_INVALID|snapshot.seal/);
    }
    expect(() => decodeSnapshotFile(Buffer.concat([file, Buffer.from([0])]))).toThrow(/trailing bytes/);
    expect(() => decodeSnapshotFile(encodeSnapshotFile([]))).toThrow(/no part/);
    const foreign = Buffer.from(file);
    foreign[0] = 0x58;
    expect(() => decodeSnapshotFile(foreign)).toThrow(/not a snapshot file/);
  });
});
