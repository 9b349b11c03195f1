// Benchmark of the host's audit segment log (host/src/audit/store.ts, issue #11), all in ONE
// run on one disk so every ratio compares the same machine state:
//
//   - the raw floor: write + fdatasync of one 300-byte entry, on the event loop (sync) and
//     through the thread pool (async), p50/p99;
//   - strict mode (an append resolves once durable), closed-loop writers at 1, 16 and 64:
//     durable appends/s, p50/p99 append latency, records per fdatasync; once with the
//     synchronous fast path for a lone record (the default) and once without it;
//   - latency mode (an append resolves once written, the fdatasync follows): the same.
//
// Targets of the issue: >= 20,000 durable appends/s (strict, 64 writers) on this 2-core
// machine, and at 1 writer a p50 close to one fdatasync. Exit 0 whether targets pass or not.
//   node bench/audit-store.mjs [--quick] [--duration S] [--record-bytes N] [--dir PATH]
// The host code is TypeScript: it is loaded through tsx, as host/bin/zcp.mjs does.
// Progress goes to stderr; one JSON line (the results) to stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { register } from 'tsx/esm/api';

register();
const { AuditStore, nodeIo } = await import('../host/src/audit/store.ts');

const argv = process.argv.slice(2);
const flags = { quick: false, duration: undefined, recordBytes: 300, dir: os.tmpdir() };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') flags.quick = true;
  else if (a === '--duration') flags.duration = Number(argv[++i]);
  else if (a === '--record-bytes') flags.recordBytes = Number(argv[++i]);
  else if (a === '--dir') flags.dir = argv[++i];
  else {
    console.error(`unknown flag ${a}; usage: node bench/audit-store.mjs [--quick] [--duration S] [--record-bytes N] [--dir PATH]`);
    process.exit(2);
  }
}
const DURATION_MS = 1000 * (flags.duration ?? (flags.quick ? 1 : 3));
const RAW_SAMPLES = flags.quick ? 500 : 3000;
// Latency mode runs at memory speed; without a cap one case writes gigabytes the disk then
// has to absorb (minutes of writeback slowing every later case).
const MAX_APPENDS = 300_000;
const log = (...a) => console.error('[audit-store]', ...a);

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const nowUs = () => Number(process.hrtime.bigint()) / 1000;

function freshDir(name) {
  return fs.mkdtempSync(path.join(flags.dir, `sentinel-bench-audit-${name}-`));
}

/** The raw floor: one entry-sized write + fdatasync per sample. */
async function rawFdatasync() {
  const dir = freshDir('raw');
  const fd = fs.openSync(path.join(dir, 'raw'), 'w');
  const buf = Buffer.alloc(flags.recordBytes + 16, 1);
  let pos = 0;
  const sync = [];
  const async = [];
  for (let i = 0; i < RAW_SAMPLES; i++) {
    const t = nowUs();
    fs.writeSync(fd, buf, 0, buf.length, pos);
    pos += buf.length;
    fs.fdatasyncSync(fd);
    sync.push(nowUs() - t);
  }
  for (let i = 0; i < RAW_SAMPLES; i++) {
    const t = nowUs();
    fs.writeSync(fd, buf, 0, buf.length, pos);
    pos += buf.length;
    await new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    async.push(nowUs() - t);
  }
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  sync.sort((a, b) => a - b);
  async.sort((a, b) => a - b);
  return {
    sync_p50_us: round(percentile(sync, 0.5)),
    sync_p99_us: round(percentile(sync, 0.99)),
    async_p50_us: round(percentile(async, 0.5)),
    async_p99_us: round(percentile(async, 0.99)),
  };
}

/** nodeIo with a count of fdatasyncs, for records per fdatasync. */
function countingIo() {
  const counts = { syncs: 0 };
  const io = {
    ...nodeIo,
    fdatasync: (fd) => {
      counts.syncs++;
      return nodeIo.fdatasync(fd);
    },
    fdatasyncSync: (fd) => {
      counts.syncs++;
      nodeIo.fdatasyncSync(fd);
    },
  };
  return { io, counts };
}

/** `writers` closed-loop clients for DURATION_MS or MAX_APPENDS (after a short warm-up): appends/s and latency. */
async function scenario({ mode, writers, syncFastPath }) {
  const dir = freshDir(`${mode}-${writers}`);
  const { io, counts } = countingIo();
  const store = await AuditStore.open({ dir, mode, io, syncFastPath });
  const records = Array.from({ length: 256 }, (_, i) => Buffer.alloc(flags.recordBytes, i));
  let next = 0;
  let measuring = false;
  let stop = false;
  const latencies = [];
  let done = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const client = async () => {
    while (!stop) {
      const seq = next++;
      const t = nowUs();
      await store.append(seq, records[seq & 255]);
      if (measuring) {
        latencies.push(nowUs() - t);
        if (++done === MAX_APPENDS) finish();
      }
    }
  };
  const running = Array.from({ length: writers }, client);
  await new Promise((r) => setTimeout(r, Math.min(500, DURATION_MS / 4)));
  const syncsBefore = counts.syncs;
  measuring = true;
  const start = nowUs();
  const timer = setTimeout(finish, DURATION_MS);
  await finished;
  clearTimeout(timer);
  measuring = false;
  const elapsedS = (nowUs() - start) / 1e6;
  const syncs = counts.syncs - syncsBefore;
  stop = true;
  await Promise.all(running);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    appends_per_s: Math.round(done / elapsedS),
    p50_us: round(percentile(latencies, 0.5)),
    p99_us: round(percentile(latencies, 0.99)),
    records_per_fdatasync: round(done / Math.max(1, syncs), 2),
  };
}

const load0 = os.loadavg()[0];
log(`node ${process.version}, ${os.cpus().length} CPUs, dir ${flags.dir}, ${flags.recordBytes}-byte records, ${DURATION_MS} ms per case`);
const raw = await rawFdatasync();
log('raw fdatasync', raw);
const results = { raw_fdatasync: raw, strict: {}, strict_no_fast_path: {}, latency: {} };
for (const [key, mode, syncFastPath] of [
  ['strict', 'strict', true],
  ['strict_no_fast_path', 'strict', false],
  ['latency', 'latency', true],
]) {
  for (const writers of [1, 16, 64]) {
    const r = await scenario({ mode, writers, syncFastPath });
    results[key][`w${writers}`] = r;
    log(`${key} ${writers} writer(s)`, r);
  }
}
const output = {
  bench: 'audit-store',
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  record_bytes: flags.recordBytes,
  duration_ms: DURATION_MS,
  load_average_start: round(load0, 2),
  load_average_end: round(os.loadavg()[0], 2),
  ...results,
  targets: {
    strict_64_writers_ge_20000_per_s: results.strict.w64.appends_per_s >= 20000,
    strict_1_writer_p50_over_raw_fdatasync: round(results.strict.w1.p50_us / raw.sync_p50_us, 2),
  },
};
console.log(JSON.stringify(output));
