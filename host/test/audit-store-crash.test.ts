/**
 * Crash safety of the audit store: a child process (fixtures/audit-crash-child.ts)
 * appends from 64 concurrent clients and prints each seq once its append resolved
 * (strict mode); this test SIGKILLs it at a random moment, round after round
 * (sometimes while it is still opening and cutting a tail), sometimes adds the
 * torn write a power cut would leave, then reopens the store and checks: every
 * printed seq is stored with its exact bytes, the files hold seqs 0..size-1 in
 * order with no duplicate (parsed here by the documented layout), a torn tail is
 * cut, and the next round continues from `size`.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

import { afterAll, expect, test } from 'vitest';

import { AuditStore } from '../src/audit/store.ts';
import { crashRecord } from './fixtures/audit-crash-records.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(HERE, 'fixtures', 'audit-crash-child.ts');
const ROUNDS = 20;
const CLIENTS = 64;
const SEGMENT_BYTES = 64 * 1024;

const dir = mkdtempSync(path.join(tmpdir(), 'sentinel-audit-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Seeded, so a failing round can be replayed (the seed is in the test name). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}


/** Runs the child, kills it `delayMs` after the line `after`, returns the seqs it printed. */
function runChild(after: 'opening' | 'ready', delayMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(CLIENTS), String(SEGMENT_BYTES)], {
      cwd: path.join(HERE, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let armed = false;
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!armed && out.includes(`${after}`)) {
        armed = true;
        setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, delayMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!killed || signal !== 'SIGKILL') {
        reject(new Error(`child ended by itself (code ${code}, signal ${signal}): ${err}`));
        return;
      }
      const lines = out.split('\n');
      lines.pop(); // after the last newline: nothing, or a line cut by the kill
      resolve(lines.filter((l) => /^\d+$/.test(l)).map(Number));
    });
  });
}

/**
 * Every entry of every segment, parsed by the documented layout: seqs 0..n-1 in
 * order across files, CRCs, exact bytes. Returns the problems found (plain
 * comparisons: an expect() per record would dominate the run time).
 */
function storedSeqs(): { count: number; lastFile: string; problems: string[] } {
  const segDir = path.join(dir, 'segments');
  const names = readdirSync(segDir).filter((n) => n.endsWith('.seg')).sort();
  const problems: string[] = [];
  let expected = 0;
  for (const name of names) {
    if (Number(name.slice(0, 20)) !== expected) problems.push(`${name} starts at ${Number(name.slice(0, 20))}, expected ${expected}`);
    const buf = readFileSync(path.join(segDir, name));
    let pos = 0;
    while (pos + 16 <= buf.length) {
      const seq = Number(buf.readBigUInt64BE(pos));
      const len = buf.readUInt32BE(pos + 8);
      const record = buf.subarray(pos + 16, pos + 16 + len);
      if (seq !== expected) problems.push(`${name}@${pos}: seq ${seq}, expected ${expected}`);
      if (crc32(record) !== buf.readUInt32BE(pos + 12)) problems.push(`${name}@${pos}: CRC mismatch`);
      if (!record.equals(crashRecord(seq))) problems.push(`${name}@${pos}: seq ${seq} has other bytes`);
      pos += 16 + len;
      expected++;
    }
    if (pos !== buf.length) problems.push(`${name}: ${buf.length - pos} bytes after the last entry`);
  }
  return { count: expected, lastFile: path.join(segDir, names.at(-1)!), problems };
}

/** The bytes an interrupted append leaves after a power cut (SIGKILL itself keeps the page cache). */
function tornWrite(seq: number, kind: number): Buffer {
  const record = crashRecord(seq);
  const header = Buffer.alloc(16);
  header.writeBigUInt64BE(BigInt(seq), 0);
  header.writeUInt32BE(record.length, 8);
  header.writeUInt32BE(crc32(record), 12);
  const whole = Buffer.concat([header, record]);
  if (kind === 0) return whole.subarray(0, 7); // half a header
  if (kind === 1) return whole.subarray(0, 16 + Math.floor(record.length / 2)); // half a record
  whole.writeUInt32BE((crc32(record) ^ 1) >>> 0, 12); // a complete entry whose bytes did not all land
  return whole;
}

const SEED = 0x5eed + (Number(process.env.AUDIT_CRASH_SEED) || 0);

test(`${ROUNDS} SIGKILLs at random moments lose no acknowledged record (seed ${SEED})`, async () => {
  const random = rng(SEED);
  const acknowledged = new Map<number, number>(); // seq -> round
  let total = 0;
  let cut = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const duringOpen = round > 0 && random() < 0.2;
    const printed = await runChild(duringOpen ? 'opening' : 'ready', duringOpen ? random() * 40 : 20 + random() * 150);
    for (const seq of printed) {
      if (acknowledged.has(seq)) expect.fail(`seq ${seq} acknowledged twice`);
      acknowledged.set(seq, round);
    }

    // Before reopening, the files may end in a torn entry: only the prefix is checked here.
    const before = storedSeqs();
    let torn = 0;
    // Never onto a sealed segment: the store does not write to one, so no crash can tear it.
    if (random() < 0.4 && !existsSync(before.lastFile + '.sealed')) {
      const bytes = tornWrite(before.count, Math.floor(random() * 3));
      appendFileSync(before.lastFile, bytes);
      torn = bytes.length;
    }
    const store = await AuditStore.open({ dir, segmentBytes: SEGMENT_BYTES });
    expect(store.recovered.truncatedBytes).toBeGreaterThanOrEqual(torn);
    cut += store.recovered.truncatedBytes;
    const after = storedSeqs();
    expect(after.problems).toEqual([]);
    expect(store.size).toBe(after.count);
    expect(store.durable).toBe(after.count);
    const lost = [...acknowledged].filter(([seq]) => seq >= store.size).map(([seq, r]) => `seq ${seq} (round ${r})`);
    expect(lost, 'acknowledged records lost').toEqual([]);
    // Through the store's own read path too, across segment boundaries.
    const from = Math.max(0, store.size - 300);
    const records = await store.read(from, 300);
    expect(records).toHaveLength(store.size - from);
    expect(records.filter((r, i) => !r.equals(crashRecord(from + i)))).toEqual([]);
    expect(store.size).toBeGreaterThanOrEqual(total);
    total = store.size;
    await store.close();
  }
  expect(acknowledged.size).toBeGreaterThan(ROUNDS * 50);
  expect(cut).toBeGreaterThan(0);
}, 60_000);
