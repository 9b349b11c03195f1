/**
 * The audit segment log (host/src/audit/store.ts): the on-disk format (parsed here
 * independently of the store's code), sequence rules, group commit, sealing,
 * torn-tail recovery versus corruption, checkpoints and log.json, and fail-closed
 * behaviour under injected ENOSPC / EIO / EACCES at write and at fdatasync.
 * Crashes (SIGKILL mid-append) are in audit-store-crash.test.ts.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';

import { afterEach, beforeEach, describe, expect, test } from 'vitest';

import {
  AuditStore,
  AuditStoreError,
  GROUP_DIVISOR,
  LATENCY_MAX_UNDURABLE_BYTES,
  PREALLOCATE_BYTES,
  nodeIo,
  readSealedMarker,
  type AuditStoreOptions,
} from '../src/audit/store.ts';
import { FaultyIo, type Fault } from './fixtures/audit-faulty-io.ts';

let dir: string;
const opened: AuditStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sentinel-audit-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: Partial<AuditStoreOptions> = {}): Promise<AuditStore> {
  const store = await AuditStore.open({ dir, ...options });
  opened.push(store);
  return store;
}

/** Deterministic record bytes of varying length for a seq. */
function rec(seq: number, len = 20 + ((seq * 37) % 300)): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = (seq * 31 + i * 7) & 0xff;
  return out;
}

const segDir = () => path.join(dir, 'segments');
const segFile = (first: number) => path.join(segDir(), String(first).padStart(20, '0') + '.seg');
const segments = () => readdirSync(segDir()).filter((n) => n.endsWith('.seg')).sort();

/** Parses a segment file by the documented layout, not by the store's code: entries, then maybe the active segment's zero tail. */
function parseSegment(file: string): Array<{ seq: number; record: Buffer }> {
  const buf = readFileSync(file);
  const out: Array<{ seq: number; record: Buffer }> = [];
  let pos = 0;
  while (pos < buf.length && !buf.subarray(pos).every((b) => b === 0)) {
    expect(buf.length - pos).toBeGreaterThanOrEqual(16);
    const seq = Number(buf.readBigUInt64BE(pos));
    const len = buf.readUInt32BE(pos + 8);
    const crc = buf.readUInt32BE(pos + 12);
    const record = buf.subarray(pos + 16, pos + 16 + len);
    expect(record.length).toBe(len);
    expect(crc32(record)).toBe(crc);
    out.push({ seq, record });
    pos += 16 + len;
  }
  return out;
}

/** The bytes of a segment's entries, without the zero tail the store preallocates. */
function dataBytes(file: string): number {
  const buf = readFileSync(file);
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  // The last entry's record may end in zero bytes: the entries' own framing says where they end.
  let pos = 0;
  while (pos < end) pos += 16 + buf.readUInt32BE(pos + 8);
  return pos;
}

function entry(seq: number, record: Buffer, crc = crc32(record)): Buffer {
  const h = Buffer.alloc(16);
  h.writeBigUInt64BE(BigInt(seq), 0);
  h.writeUInt32BE(record.length, 8);
  h.writeUInt32BE(crc, 12);
  return Buffer.concat([h, record]);
}

async function appendRange(store: AuditStore, from: number, to: number): Promise<void> {
  await Promise.all(Array.from({ length: to - from }, (_, i) => store.append(from + i, rec(from + i))));
}

async function expectCode(p: Promise<unknown>, code: string): Promise<AuditStoreError> {
  const err = await p.then(
    () => {
      throw new Error(`expected ${code}, it resolved`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuditStoreError);
  expect((err as AuditStoreError).code).toBe(code);
  return err as AuditStoreError;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('format and sequence', () => {
  test('records land in the documented layout, read back, and survive reopening', async () => {
    const store = await open();
    expect(store.size).toBe(0);
    for (let i = 0; i < 5; i++) await store.append(i, rec(i));
    await appendRange(store, 5, 100);
    expect(store.size).toBe(100);
    expect(store.durable).toBe(100);
    expect(segments()).toEqual(['00000000000000000000.seg']);
    const onDisk = parseSegment(segFile(0));
    expect(onDisk.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    onDisk.forEach((e) => expect(e.record.equals(rec(e.seq))).toBe(true));
    expect((await store.read(37, 5)).map((b, i) => b.equals(rec(37 + i)))).toEqual([true, true, true, true, true]);
    const some = await store.read(37, 70);
    expect(some).toHaveLength(63);
    some.forEach((b, i) => expect(b.equals(rec(37 + i))).toBe(true));
    expect(await store.read(100, 10)).toEqual([]);
    await store.close();

    const again = await open();
    expect(again.size).toBe(100);
    expect(again.durable).toBe(100);
    expect(again.recovered).toEqual({ truncatedBytes: 0, markersWritten: 0 });
    await again.append(100, rec(100));
    expect((await again.read(99, 2)).map((b) => b.length)).toEqual([rec(99).length, rec(100).length]);
  });

  test('a gap, a conflicting re-send, an oversize or empty record and bad arguments are refused; an identical re-send is idempotent', async () => {
    const store = await open();
    await appendRange(store, 0, 3);
    expect((await expectCode(store.append(5, rec(5)), 'AUDIT_SEQUENCE_GAP')).message).toMatch(/size 3/);
    await expectCode(store.append(1, rec(99)), 'AUDIT_SEQUENCE_CONFLICT');
    await store.append(1, rec(1)); // durable already: read back and compared
    // Pending (not yet written) records: a re-send waits for the same durability.
    const a = store.append(3, rec(3));
    const b = store.append(3, rec(3));
    await expectCode(store.append(3, rec(4)), 'AUDIT_SEQUENCE_CONFLICT');
    await Promise.all([a, b]);
    expect(store.size).toBe(4);
    await expectCode(store.append(4, Buffer.alloc(32 * 1024 + 1)), 'AUDIT_RECORD_TOO_LARGE');
    await store.append(4, Buffer.alloc(32 * 1024, 7)); // exactly 32 KiB is fine
    await expectCode(store.append(5, Buffer.alloc(0)), 'AUDIT_ARGUMENT_INVALID');
    await expectCode(store.append(-1, rec(0)), 'AUDIT_ARGUMENT_INVALID');
    await expectCode(store.append(1.5, rec(0)), 'AUDIT_ARGUMENT_INVALID');
    await expectCode(store.read(-1, 1), 'AUDIT_ARGUMENT_INVALID');
    await expectCode(AuditStore.open({ dir, segmentBytes: 100 }), 'AUDIT_ARGUMENT_INVALID');
    await expectCode(AuditStore.open({ dir, mode: 'fast' as 'strict' }), 'AUDIT_ARGUMENT_INVALID');
    expect(store.size).toBe(5);
    expect(parseSegment(segFile(0))).toHaveLength(5);
  });

  test('close drains pending appends; anything after is AUDIT_STORE_CLOSED', async () => {
    const store = await open();
    const pending = Array.from({ length: 50 }, (_, i) => store.append(i, rec(i)));
    const closed = store.close();
    await expectCode(store.append(50, rec(50)), 'AUDIT_STORE_CLOSED');
    await Promise.all(pending);
    await closed;
    expect(parseSegment(segFile(0))).toHaveLength(50);
    await expectCode(store.saveCheckpoint(1, Buffer.from('x')), 'AUDIT_STORE_CLOSED');
  });
});

describe('group commit', () => {
  test('strict: concurrent appends share fdatasyncs, never two in flight, each resolves only when durable', async () => {
    const io = new FaultyIo();
    const store = await open({ io });
    const before = io.calls.fdatasync ?? 0;
    const durableAtResolve: number[] = [];
    await Promise.all(
      Array.from({ length: 64 }, (_, i) => store.append(i, rec(i)).then(() => durableAtResolve.push(store.durable - i))),
    );
    expect(durableAtResolve.every((d) => d >= 1)).toBe(true);
    // 64 records in one turn: one writev, one fdatasync.
    expect((io.calls.fdatasync ?? 0) - before).toBe(1);
    // Waves of writers arriving while a sync runs form the next batch.
    for (let wave = 0; wave < 20; wave++) {
      const base = store.size;
      await Promise.all([appendRange(store, base, base + 8), new Promise((r) => setImmediate(r)).then(() => appendRange(store, base + 8, base + 16))]);
    }
    expect(io.maxSyncsInFlight).toBe(1);
    expect(store.durable).toBe(64 + 20 * 16);
  });

  test('strict under load: records wait for a group (pending / GROUP_DIVISOR) or GROUP_WAIT_MS, written in one writev just before its fdatasync', async () => {
    const io = new FaultyIo();
    const store = await open({ io });
    const pending = 4 * GROUP_DIVISOR; // a group is 4 records
    const writes = () => io.calls.writev ?? 0;
    const syncs = () => io.calls.fdatasync ?? 0;
    const [w0, s0] = [writes(), syncs()];
    // Three records: not a group yet, so the flush (next tick, before any timer can run) writes and syncs nothing.
    const first = [0, 1, 2].map((i) => store.append(i, rec(i), { busy: true, pending }));
    await new Promise((r) => process.nextTick(r));
    expect([writes() - w0, syncs() - s0, store.durable]).toEqual([0, 0, 0]);
    // The fourth makes the group: one writev, one fdatasync, all four durable.
    await Promise.all([...first, store.append(3, rec(3), { busy: true, pending })]);
    expect([writes() - w0, syncs() - s0, store.durable]).toEqual([1, 1, 4]);
    // A group that never fills still commits, on its GROUP_WAIT_MS timer: not in the flush that
    // follows the append. (Not timed: libuv arms a timer from the loop's cached clock, so a 1 ms
    // timer can fire well under 1 ms after it is armed.)
    const lone = store.append(4, rec(4), { busy: true, pending });
    await new Promise((r) => process.nextTick(r));
    expect([writes() - w0, syncs() - s0, store.durable]).toEqual([1, 1, 4]);
    await lone;
    expect([writes() - w0, syncs() - s0, store.durable]).toEqual([2, 2, 5]);
    expect(io.maxSyncsInFlight).toBe(1);
  });

  test('latency: the fdatasync after a release waits LATENCY_SYNC_MS for company', async () => {
    const io = new FaultyIo();
    const store = await open({ io, mode: 'latency' });
    const s0 = io.calls.fdatasync ?? 0;
    // Released once written (no timer can run between the write and this check).
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(i, rec(i))));
    expect(store.durable).toBe(0);
    await until(() => store.durable === 20);
    expect((io.calls.fdatasync ?? 0) - s0).toBe(1);
    await store.close();
  });

  test('strict: a lone record takes the synchronous fast path, unless it is switched off', async () => {
    const io = new FaultyIo();
    const store = await open({ io });
    for (let i = 0; i < 10; i++) await store.append(i, rec(i));
    expect(io.calls.fdatasyncSync).toBe(10);
    await store.close();
    const io2 = new FaultyIo();
    const slow = await open({ io: io2, syncFastPath: false });
    for (let i = 10; i < 20; i++) await slow.append(i, rec(i));
    expect(io2.calls.fdatasyncSync).toBeUndefined();
    expect(slow.durable).toBe(20);
  });

  test('strict: a record appended `alone` is durable before append returns; one such fdatasync per event-loop turn', async () => {
    const io = new FaultyIo();
    const store = await open({ io });
    let resolved = false;
    const first = store.append(0, rec(0), { alone: true }).then(() => (resolved = true));
    // Written and fdatasync'ed within the call: no later tick between the answer and its release.
    expect([store.durable, io.calls.fdatasyncSync]).toEqual([1, 1]);
    // A second lone record in the same turn does not block the loop again now: it waits for the
    // next turn (and takes the fast path there).
    const second = store.append(1, rec(1), { alone: true });
    expect([store.durable, io.calls.fdatasyncSync]).toEqual([1, 1]);
    await Promise.all([first, second]);
    expect(resolved).toBe(true);
    expect([store.durable, io.calls.fdatasyncSync]).toEqual([2, 2]);
    await new Promise((r) => setImmediate(r));
    store.append(2, rec(2), { alone: true });
    expect([store.durable, io.calls.fdatasyncSync]).toEqual([3, 3]);
    await store.close();
  });

  test.each([
    { how: 'from the next tick', options: undefined },
    { how: 'within append (`alone`)', options: { alone: true } },
  ])('a writer that appends again the moment it is resolved does not starve timers: the fast path $how yields a turn', async ({ options }) => {
    const store = await open();
    let fired = false;
    setTimeout(() => (fired = true), 20);
    let seq = 0;
    while (!fired && seq < 20_000) await store.append(seq, rec(seq++), options);
    expect(fired).toBe(true);
    expect(seq).toBeLessThan(20_000);
    await store.close();
  });

  test('latency: released but not durable bytes stay bounded (then appends wait for durability)', async () => {
    const store = await open({ mode: 'latency' });
    const big = Buffer.alloc(32 * 1024, 9);
    let worst = 0;
    for (let seq = 0; seq < 200; seq++) {
      await store.append(seq, big);
      worst = Math.max(worst, store.size - store.durable);
    }
    expect(worst).toBeGreaterThan(1); // it did release before durability
    expect(worst * (16 + big.length)).toBeLessThanOrEqual(LATENCY_MAX_UNDURABLE_BYTES + 16 + big.length);
  });

  test('latency: an append resolves once written, durability follows', async () => {
    const store = await open({ mode: 'latency' });
    expect(store.mode).toBe('latency');
    await appendRange(store, 0, 32);
    expect(store.size).toBe(32);
    expect(store.durable).toBeLessThan(32); // the fdatasync is still running
    expect(parseSegment(segFile(0))).toHaveLength(32); // but the bytes are written
    await until(() => store.durable === 32);
    const resent = store.append(31, rec(31));
    await resent;
  });
});

describe('sealing', () => {
  test('a full segment gets a marker with its hash and the log continues in the next one', async () => {
    const store = await open({ segmentBytes: 4096 });
    for (let i = 0; i < 200; i += 10) await appendRange(store, i, i + 10);
    const names = segments();
    expect(names.length).toBeGreaterThan(3);
    let expected = 0;
    for (const [i, name] of names.entries()) {
      const file = path.join(segDir(), name);
      const entries = parseSegment(file);
      expect(Number(name.slice(0, 20))).toBe(expected);
      entries.forEach((e, k) => expect(e.seq).toBe(expected + k));
      expected += entries.length;
      const marker = await readSealedMarker(nodeIo, file);
      if (i === names.length - 1) {
        expect(marker).toBeNull();
        continue;
      }
      const bytes = readFileSync(file);
      expect(bytes.length).toBeGreaterThanOrEqual(4096);
      expect(bytes.length).toBeLessThan(4096 + 16 + 400);
      expect(marker).toEqual({
        first_seq: entries[0]!.seq,
        last_seq: entries.at(-1)!.seq,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    }
    expect(expected).toBe(200);
    const all = await store.read(0, 1000);
    expect(all).toHaveLength(200);
    all.forEach((b, i) => expect(b.equals(rec(i))).toBe(true));
    await store.close();
    const again = await open({ segmentBytes: 4096 });
    expect(again.size).toBe(200);
    expect((await again.read(150, 3))[2]!.equals(rec(152))).toBe(true);
  });

  test('a changed sealed segment, a removed segment or marker: corruption, never silently accepted', async () => {
    let store = await open({ segmentBytes: 4096 });
    for (let i = 0; i < 120; i += 10) await appendRange(store, i, i + 10);
    await store.close();
    const names = segments();
    expect(names.length).toBeGreaterThanOrEqual(3);
    const first = path.join(segDir(), names[0]!);
    const original = readFileSync(first);

    // A lost marker of a verified full segment is rebuilt (and reported).
    unlinkSync(first + '.sealed');
    store = await open({ segmentBytes: 4096 });
    expect(store.recovered.markersWritten).toBe(1);
    await store.close();
    expect(existsSync(first + '.sealed')).toBe(true);

    // A record swapped for another valid one (CRC recomputed): the marker's hash catches it.
    const parsed = parseSegment(first);
    const forged = Buffer.concat(parsed.map((e, k) => (k === 3 ? entry(e.seq, Buffer.alloc(e.record.length, 0x41)) : entry(e.seq, e.record))));
    writeFileSync(first, forged);
    expect((await expectCode(AuditStore.open({ dir, segmentBytes: 4096 }), 'AUDIT_SEGMENT_CORRUPT')).message).toMatch(/sha256/);
    writeFileSync(first, original);

    // A byte flipped inside a sealed segment: invalid entry followed by valid ones.
    const flipped = Buffer.from(original);
    flipped[40] = flipped[40]! ^ 0xff;
    writeFileSync(first, flipped);
    await expectCode(AuditStore.open({ dir, segmentBytes: 4096 }), 'AUDIT_SEGMENT_CORRUPT');
    writeFileSync(first, original);

    // A middle segment removed: a sequence gap (and an orphaned marker).
    const middle = path.join(segDir(), names[1]!);
    const middleBytes = readFileSync(middle);
    unlinkSync(middle);
    await expectCode(AuditStore.open({ dir, segmentBytes: 4096 }), 'AUDIT_SEGMENT_CORRUPT');
    unlinkSync(middle + '.sealed');
    expect((await expectCode(AuditStore.open({ dir, segmentBytes: 4096 }), 'AUDIT_SEGMENT_CORRUPT')).message).toMatch(/seq \d+ was expected/);
    writeFileSync(middle, middleBytes);

    store = await open({ segmentBytes: 4096 });
    expect(store.size).toBe(120);
  });
});

describe('torn tails and corruption on open', () => {
  async function logOf(n: number): Promise<number> {
    const store = await open();
    await appendRange(store, 0, n);
    await store.close();
    return statSync(segFile(0)).size;
  }

  test.each([
    ['an incomplete header', () => Buffer.from([0, 0, 0, 0, 0, 0, 0, 10, 0, 0])],
    ['an incomplete record', () => entry(10, rec(10)).subarray(0, 16 + 5)],
    ['a bad CRC on the very last entry', () => entry(10, rec(10), 12345)],
    ['bytes with no valid entry in them', () => Buffer.alloc(700, 0xa5)],
  ])('%s is cut and reported; every record before it stays', async (_name, tail) => {
    const good = await logOf(10);
    const torn = tail();
    appendFileSync(segFile(0), torn);
    const store = await open();
    expect(store.recovered.truncatedBytes).toBe(torn.length);
    expect(store.size).toBe(10);
    expect(statSync(segFile(0)).size).toBe(good);
    await store.append(10, rec(10));
    expect(parseSegment(segFile(0))).toHaveLength(11);
  });

  test('a zero tail (the preallocated space a crash leaves) is cut without being called torn', async () => {
    const good = await logOf(10);
    appendFileSync(segFile(0), Buffer.alloc(PREALLOCATE_BYTES, 0));
    const store = await open();
    expect(store.recovered.truncatedBytes).toBe(0);
    expect(store.size).toBe(10);
    expect(statSync(segFile(0)).size).toBe(good);
    await store.append(10, rec(10));
    // The active segment grows ahead of its writes, and a clean close cuts the zero tail again.
    expect(statSync(segFile(0)).size).toBeGreaterThan(dataBytes(segFile(0)));
    await store.close();
    expect(statSync(segFile(0)).size).toBe(dataBytes(segFile(0)));
    expect(parseSegment(segFile(0))).toHaveLength(11);
  });

  test('a preallocation that fails costs only speed: the writes grow the file themselves', async () => {
    const io = new FaultyIo();
    io.inject({ op: 'extend', code: 'EIO' });
    const store = await open({ io });
    await appendRange(store, 0, 10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.append(10 + i, rec(10 + i), { busy: true })));
    expect([store.durable, store.failure]).toEqual([20, null]);
    expect(io.calls.extend).toBeGreaterThan(0);
    expect(statSync(segFile(0)).size).toBe(dataBytes(segFile(0)));
    await store.close();
    expect((await open()).size).toBe(20);
  });

  test('an invalid entry followed by a valid one is corruption, not a tail', async () => {
    await logOf(10);
    appendFileSync(segFile(0), Buffer.concat([entry(10, rec(10), 999), entry(11, rec(11))]));
    const err = await expectCode(AuditStore.open({ dir }), 'AUDIT_SEGMENT_CORRUPT');
    expect(err.message).toMatch(/after an invalid entry/);
  });

  test('a sequence gap or repeat inside a segment is corruption', async () => {
    await logOf(10);
    const intact = readFileSync(segFile(0));
    appendFileSync(segFile(0), entry(11, rec(11)));
    expect((await expectCode(AuditStore.open({ dir }), 'AUDIT_SEGMENT_CORRUPT')).message).toMatch(/seq 11 where seq 10/);
    writeFileSync(segFile(0), Buffer.concat([intact, entry(9, rec(9))]));
    await expectCode(AuditStore.open({ dir }), 'AUDIT_SEGMENT_CORRUPT');
    // A flipped byte in an early record: the rest of the file is valid entries.
    const flipped = Buffer.from(intact);
    flipped[20] = flipped[20]! ^ 1;
    writeFileSync(segFile(0), flipped);
    await expectCode(AuditStore.open({ dir }), 'AUDIT_SEGMENT_CORRUPT');
    writeFileSync(segFile(0), intact);
    expect((await open()).size).toBe(10);
  });

  test('a truncated middle of the log: records beyond the cut are gone, the store says so by size', async () => {
    const full = await logOf(10);
    truncateSync(segFile(0), full - 3);
    const store = await open();
    expect(store.size).toBe(9);
    expect(store.recovered.truncatedBytes).toBe(16 + rec(9).length - 3);
  });
});

describe('checkpoints and log info', () => {
  test('stored atomically by size, listed ascending, latest kept, conflicts refused, kept across reopen', async () => {
    const store = await open();
    expect(store.latestCheckpoint()).toBeNull();
    expect(await store.readInfo()).toBeNull();
    await store.saveCheckpoint(10, Buffer.from('origin\n10\nroot10\n'));
    await store.saveCheckpoint(2, Buffer.from('origin\n2\nroot2\n'));
    await store.saveCheckpoint(10, Buffer.from('origin\n10\nroot10\n')); // same bytes: no-op
    await expectCode(store.saveCheckpoint(10, Buffer.from('origin\n10\nother\n')), 'AUDIT_SEQUENCE_CONFLICT');
    await expectCode(store.saveCheckpoint(3, Buffer.alloc(0)), 'AUDIT_ARGUMENT_INVALID');
    expect(store.latestCheckpoint()).toEqual({ size: 10, note: Buffer.from('origin\n10\nroot10\n') });
    expect((await store.checkpoints()).map((c) => [c.size, c.note.toString()])).toEqual([
      [2, 'origin\n2\nroot2\n'],
      [10, 'origin\n10\nroot10\n'],
    ]);
    const info = { origin: 'sentinel/log/0123456789abcdef', verifier_key: 'k+1+AQ', attestation: 'ZG9j' };
    await store.writeInfo(info);
    expect(await store.readInfo()).toEqual(info);
    await store.close();
    expect(readdirSync(path.join(dir, 'checkpoints'))).toEqual(['00000000000000000002.cp', '00000000000000000010.cp']);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    writeFileSync(path.join(dir, 'checkpoints', '00000000000000000011.cp.tmp'), 'torn');
    const again = await open();
    expect(again.latestCheckpoint()?.size).toBe(10);
    expect(await again.readInfo()).toEqual(info);
    expect(readdirSync(path.join(dir, 'checkpoints'))).not.toContain('00000000000000000011.cp.tmp');
  });

  test('a checkpoint write that fails is refused with AUDIT_STORAGE_UNAVAILABLE and leaves nothing behind', async () => {
    const io = new FaultyIo();
    const store = await open({ io });
    io.inject({ op: 'fsync', code: 'EIO', path: '.cp', times: 1 });
    await expectCode(store.saveCheckpoint(5, Buffer.from('n')), 'AUDIT_STORAGE_UNAVAILABLE');
    expect(readdirSync(path.join(dir, 'checkpoints'))).toEqual([]);
    expect(store.latestCheckpoint()).toBeNull();
    await store.saveCheckpoint(5, Buffer.from('n'));
    expect(store.latestCheckpoint()?.size).toBe(5);
  });
});

describe('fail-closed storage', () => {
  const codes: Array<Fault['code']> = ['ENOSPC', 'EIO', 'EACCES'];
  const cases = codes.flatMap((code) =>
    (['writev', 'fdatasync'] as const).flatMap((op) => (['lone', 'alone', 'batch'] as const).map((shape) => ({ code, op, shape }))),
  );

  test.each(cases)('$code at $op ($shape append): rejected, no partial entry, reopen = durable records, appends resume', async ({ code, op, shape }) => {
    const io = new FaultyIo();
    const store = await open({ io, retryMs: 10 });
    await appendRange(store, 0, 10);
    const durableBytes = dataBytes(segFile(0));

    io.inject({ op, code, path: '.seg', partial: op === 'writev' && code === 'ENOSPC' });
    const attempts =
      shape === 'lone'
        ? [store.append(10, rec(10))]
        : shape === 'alone' // the fast path inside append (the audit writer's lone record)
          ? [store.append(10, rec(10), { alone: true })]
          : Array.from({ length: 6 }, (_, i) => store.append(10 + i, rec(10 + i)));
    // Inside append the failure is known before the call returns.
    if (shape === 'alone') expect(store.failure?.code).toBe('AUDIT_STORAGE_UNAVAILABLE');
    for (const p of attempts) {
      const err = await expectCode(p, 'AUDIT_STORAGE_UNAVAILABLE');
      expect(err.message).toContain(code);
      expect(err.message).toContain(segFile(0));
    }
    expect(store.failure?.code).toBe('AUDIT_STORAGE_UNAVAILABLE');
    expect(store.size).toBe(10);
    expect(store.durable).toBe(10);
    // Refused at once, whatever the seq.
    await expectCode(store.append(10, rec(10)), 'AUDIT_STORAGE_UNAVAILABLE');
    // The segment is cut back to its durable bytes while the fault persists.
    await until(() => statSync(segFile(0)).size === durableBytes);
    expect(parseSegment(segFile(0))).toHaveLength(10);
    await new Promise((r) => setTimeout(r, 40)); // a few failing probes
    expect(store.failure).not.toBeNull();

    io.clear();
    await until(() => store.failure === null);
    await appendRange(store, store.size, 15);
    expect(store.durable).toBe(15);
    await store.close();

    const again = await open();
    expect(again.size).toBe(15);
    const all = await again.read(0, 100);
    all.forEach((b, i) => expect(b.equals(rec(i))).toBe(true));
  });

  test('latency mode: an fdatasync failure after release is recorded, size falls back to durable, the writer re-sends', async () => {
    const io = new FaultyIo();
    const store = await open({ io, mode: 'latency', retryMs: 10 });
    await appendRange(store, 0, 10);
    await until(() => store.durable === 10);
    io.inject({ op: 'fdatasync', code: 'EIO', path: '.seg' });
    await appendRange(store, 10, 14); // released: written, not durable
    await until(() => store.failure !== null);
    expect(store.failure?.message).toMatch(/fdatasync.*EIO/);
    expect(store.size).toBe(10);
    await expectCode(store.append(14, rec(14)), 'AUDIT_STORAGE_UNAVAILABLE');
    io.clear();
    await until(() => store.failure === null);
    await expectCode(store.append(14, rec(14)), 'AUDIT_SEQUENCE_GAP');
    await appendRange(store, 10, 15);
    await store.close();
    expect(parseSegment(segFile(0)).map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });

  test('a failure while sealing (marker fsync): refused, recovered, the seal completes later', async () => {
    const io = new FaultyIo();
    const store = await open({ io, segmentBytes: 4096, retryMs: 10 });
    io.inject({ op: 'fsync', code: 'EIO', path: '.sealed', times: 1 });
    let refused = 0;
    for (let seq = 0; seq < 60; ) {
      try {
        await store.append(seq, rec(seq));
        seq++;
      } catch (err) {
        expect((err as AuditStoreError).code).toBe('AUDIT_STORAGE_UNAVAILABLE');
        refused++;
        await until(() => store.failure === null);
        seq = store.size;
      }
    }
    expect(refused).toBeGreaterThan(0);
    await store.close();
    expect(segments().length).toBeGreaterThan(1);
    expect(await readSealedMarker(nodeIo, segFile(0))).not.toBeNull();
    const again = await open({ segmentBytes: 4096 });
    expect(again.size).toBe(60);
  });

  test('durable bytes that vanish under the store make the failure permanent (AUDIT_SEGMENT_CORRUPT)', async () => {
    const io = new FaultyIo();
    const store = await open({ io, retryMs: 10 });
    await appendRange(store, 0, 10);
    truncateSync(segFile(0), 20);
    io.inject({ op: 'fdatasync', code: 'EIO', path: '.seg', times: 1 });
    await expectCode(store.append(10, rec(10)), 'AUDIT_STORAGE_UNAVAILABLE');
    await until(() => store.failure?.code === 'AUDIT_SEGMENT_CORRUPT');
    await expectCode(store.append(10, rec(10)), 'AUDIT_SEGMENT_CORRUPT');
  });
});
