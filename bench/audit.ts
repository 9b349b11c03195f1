/**
 * What the audit log costs on the sign path (issue #11), all in ONE run so every ratio compares
 * numbers from the same machine state. The host path of a signature without HTTP: the TypeScript
 * sidecar sends a pre-stamped `sign_digest` to the real local enclave and, depending on the mode,
 * stores the answer's audit record before "releasing" it:
 *
 *   - off:     the host discards records (a background loop acknowledges them, as a host that
 *              stores nothing would, so the enclave's backlog bound never stops signing);
 *   - strict:  `AuditWriter.persist` resolves once the record is durable (group commit);
 *   - latency: `persist` resolves at once, the fdatasync follows.
 *
 * At 1 client: p50/p99 per mode, and a raw write + fdatasync of one record on the same disk,
 * measured in this run. At 16 clients: signatures per second per mode. Targets of the issue:
 * strict p50 <= off p50 + fdatasync p50 + 20 µs (1 client); strict throughput >= 0.90 x off
 * (16 clients); latency p50 <= 1.10 x off p50 (1 client). A run is 4 passes (`--quick`: 2); each
 * pass measures every mode, the bare diagnostic and the fdatasync floor back to back, each target
 * is computed per pass, and the verdict is on the median of the passes. The enclave makes its records in every
 * mode (that cost is inside "off"); `enclave/tests/audit.rs` is where records are checked.
 * Exit 0 whether targets pass or not; non-zero only when the run broke.
 *   node --import tsx bench/audit.ts [--quick] [--json] [--busy-poll]
 * `--busy-poll` starts the enclave in its latency mode (it spins instead of sleeping between
 * requests), which takes the enclave's wake-up after an fdatasync out of the strict path.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { nodeIo, type AuditIo } from '../host/src/audit/io.ts';
import { AuditWriter } from '../host/src/audit/writer.ts';
import { core } from '../host/src/core.ts';
import { ensureDevConfiguration } from '../host/src/local/dev-config.ts';
import { startEnclave } from '../host/src/local/enclave-process.ts';
import { EnclaveClient, type Request } from '../host/src/sidecar/client.ts';
import { stampedFrame } from '../host/src/sidecar/stamped-frame.ts';
import { unixTransport } from '../host/src/sidecar/transport.ts';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const busyPoll = process.argv.includes('--busy-poll');
const PASSES = quick ? 2 : 4;
const SEQUENTIAL = quick ? 1500 : 4000;
const CONCURRENT_MS = quick ? 1500 : 3000;
const FLOOR_SAMPLES = quick ? 500 : 1500;
const CLIENTS = 16;
const log = (...a: unknown[]): void => console.error('[audit-bench]', ...a);

const dir = mkdtempSync(path.join(process.env.SENTINEL_BENCH_DIR ?? tmpdir(), 'sentinel-audit-bench-'));
const dataDir = path.join(dir, 'data');
mkdirSync(dataDir, { recursive: true });
const dev = ensureDevConfiguration(dataDir);
const credential = readFileSync(dev.clientKeyPath, 'utf8');
let enclave: Awaited<ReturnType<typeof startEnclave>> | null = null;
let client: EnclaveClient = null as never;
let boots = 0;

/** A fresh enclave (a fresh log) and a sidecar connected to it: each mode starts from an empty log. */
async function bootEnclave(): Promise<void> {
  await client?.close();
  await enclave?.stop();
  const socketPath = path.join(dir, `enclave-${boots++}.sock`);
  enclave = await startEnclave({
    socketPath,
    dataDir,
    configPath: dev.configPath,
    policyPath: dev.policyPath,
    resumeWith: [dev.adminKeyPath],
    busyPoll,
    onStderr: (line) => {
      if (process.env.BENCH_DEBUG || /panic|ERROR/.test(line)) log('enclave:', line);
    },
  });
  client = new EnclaveClient({ transport: unixTransport(socketPath) });
  client.on('protocolError', (e: Error) => log('protocol error:', e.message));
  await client.connect();
}

type Stamped = Extract<Request, { op: 'stamped' }>;
function stamped(operation: Parameters<typeof core.encodeBody>[0]): Stamped {
  return stampedFrame(credential, operation);
}

function pct(samples: number[]): { p50: number; p99: number } {
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.round((samples.length - 1) * q)]! / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Raw floor: write one 300-byte record and fdatasync it, on this disk: appended to a growing file,
 * or into a file already grown past it (`preallocated`, as the store writes: the fdatasync then
 * flushes no change of the file's size).
 */
function fdatasyncFloor(n: number, preallocated: boolean): { p50: number; p99: number } {
  const file = path.join(dir, preallocated ? 'floor-preallocated.bin' : 'floor.bin');
  const fd = openSync(file, 'w');
  const record = randomBytes(300);
  const samples: number[] = [];
  try {
    if (preallocated) ftruncateSync(fd, (n + 1) * record.length);
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      writeSync(fd, record, 0, record.length, i * record.length);
      fdatasyncSync(fd);
      samples.push(Number(process.hrtime.bigint() - t));
    }
  } finally {
    closeSync(fd);
  }
  return pct(samples);
}

type Mode = 'off' | 'strict' | 'latency';
/** The store's synchronous fdatasyncs (its 1-client fast path), timed where they run. */
let syncSamples: number[] = [];
const timedIo: AuditIo = {
  ...nodeIo,
  fdatasyncSync(fd: number): void {
    const t = process.hrtime.bigint();
    nodeIo.fdatasyncSync(fd);
    syncSamples.push(Number(process.hrtime.bigint() - t));
  },
};
let writer: AuditWriter | null = null;
let discarding: NodeJS.Timeout | null = null;

/** A fresh enclave and key, and the host in `mode`: a writer for strict and latency, a discarding acknowledger for off. */
async function useMode(mode: Mode): Promise<string> {
  if (discarding) clearInterval(discarding);
  discarding = null;
  if (writer) await writer.stop();
  writer = null;
  await bootEnclave();
  if (mode === 'off') {
    const ackAll = async (): Promise<void> => {
      const head = await client.request({ op: 'audit_checkpoint' });
      await client.request({ op: 'audit_ack', durable: head.size });
    };
    await ackAll();
    discarding = setInterval(() => void ackAll().catch(() => {}), 20);
  } else {
    writer = await AuditWriter.open(client, { dir: path.join(dataDir, `audit-${boots}`), mode, io: timedIo });
    writer.start();
  }
  const generated = await client.request(stamped({ op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'bench' }));
  if (generated.answer.type !== 'key_generated') throw new Error(JSON.stringify(generated.answer));
  return generated.answer.key_id;
}

/** Diagnostic "off + fdatasync": a plain write + fdatasync of the record to a file of its own after each answer. */
let bareFd: number | null = null;

async function signOnce(request: Stamped): Promise<void> {
  const answer = await client.request(request);
  if (answer.answer.type !== 'signature') throw new Error(`sign refused: ${JSON.stringify(answer.answer)}`);
  if (writer && answer.audit) await writer.persist(answer.audit);
  else if (bareFd !== null && answer.audit) {
    writeSync(bareFd, answer.audit.record);
    fdatasyncSync(bareFd);
  }
}

async function sequential(keyId: string, n: number): Promise<{ p50: number; p99: number }> {
  const requests = Array.from({ length: n + n / 10 }, (_, i) => stamped({ op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, (i % 250) + 1) }));
  for (let i = 0; i < n / 10; i++) await signOnce(requests[i]!);
  const samples: number[] = [];
  for (let i = n / 10; i < requests.length; i++) {
    const t = process.hrtime.bigint();
    await signOnce(requests[i]!);
    samples.push(Number(process.hrtime.bigint() - t));
  }
  return pct(samples);
}

/** Node's CPU time (user + system, all its threads) per signature in the last concurrent phase, µs. */
const nodeCpuPerSig: Record<string, number> = {};
let lastCpuPerSig = 0;

async function concurrent(keyId: string, ms: number): Promise<number> {
  // Enough stamped requests for the phase at a generous rate, made before the clock starts.
  const pool = Array.from({ length: Math.ceil((ms / 1000) * 12_000) }, (_, i) => stamped({ op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, (i % 250) + 1) }));
  let next = 0;
  let done = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end && next < pool.length) {
        await signOnce(pool[next++]!);
        done++;
      }
    }),
  );
  if (next >= pool.length) log('warning: the pre-stamped pool ran out before the phase ended');
  const used = process.cpuUsage(cpu);
  lastCpuPerSig = (used.user + used.system) / done;
  return done / ((performance.now() - started) / 1000);
}

/** Median of a few numbers (the mean of the middle two for an even count). */
function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

interface Pass {
  order: string;
  one: Record<Mode | 'bare', { p50: number; p99: number }>;
  many: Record<Mode, number>;
  cpu: Record<Mode, number>;
  /** Write + fdatasync of one record into preallocated space, in a tight loop right after the pass's phases. */
  floor: { p50: number; p99: number };
  floorAppending: { p50: number; p99: number };
  /** The store's own fdatasyncs during the pass's strict 1-client phase. */
  strictFdatasync: { p50: number; p99: number };
  /** strict p50 - off p50 - floor p50: the target is <= 20 µs. */
  strictExcess: number;
  strictOverOff16: number;
  latencyOverOff: number;
}

try {
  const modes: Mode[] = ['off', 'strict', 'latency'];
  const passes: Pass[] = [];
  // The machine drifts (this VM's fdatasync p50 moved between 109 and 154 µs across runs of one
  // hour), so each pass measures every mode, the bare diagnostic and the fdatasync floor back to
  // back, the targets are computed per pass, and the report gives their median. The order of the
  // modes rotates from pass to pass.
  for (let pass = 0; pass < PASSES; pass++) {
    const order = modes.map((_, i) => modes[(i + pass) % modes.length]!);
    const one = {} as Pass['one'];
    const many = {} as Pass['many'];
    const cpu = {} as Pass['cpu'];
    let strictFdatasync = { p50: 0, p99: 0 };
    for (const mode of order) {
      const keyId = await useMode(mode);
      log(`pass ${pass + 1}/${PASSES}: ${mode}, 1 client`);
      syncSamples = [];
      one[mode] = await sequential(keyId, SEQUENTIAL);
      if (mode === 'strict') strictFdatasync = syncSamples.length > 0 ? pct(syncSamples) : { p50: Number.NaN, p99: Number.NaN };
      log(`pass ${pass + 1}/${PASSES}: ${mode}, ${CLIENTS} clients`);
      many[mode] = await concurrent(keyId, CONCURRENT_MS);
      cpu[mode] = lastCpuPerSig;
    }
    // What the sign path costs with the bare minimum a durable record needs (a write and an
    // fdatasync on the event loop, no store, no writer), next to strict: the difference is the
    // store's and writer's own cost; the rest of strict's cost over "off + one fdatasync" is the
    // machine's (an enclave that sat idle during the fdatasync wakes up slower than one in a
    // tight loop).
    {
      const keyId = await useMode('off');
      bareFd = openSync(path.join(dir, 'bare.bin'), 'w');
      ftruncateSync(bareFd, 64 * 1024 * 1024); // preallocated, as the store's segments are
      log(`pass ${pass + 1}/${PASSES}: bare write + fdatasync, 1 client`);
      one.bare = await sequential(keyId, SEQUENTIAL);
      closeSync(bareFd);
      bareFd = null;
    }
    const floorAppending = fdatasyncFloor(FLOOR_SAMPLES, false);
    // The target takes the preallocated floor, the lower one: the store's fdatasync is that kind.
    const floor = fdatasyncFloor(FLOOR_SAMPLES, true);
    passes.push({
      order: order.join('/'),
      one,
      many,
      cpu,
      floor,
      floorAppending,
      strictFdatasync,
      strictExcess: one.strict.p50 - one.off.p50 - floor.p50,
      strictOverOff16: many.strict / many.off,
      latencyOverOff: one.latency.p50 / one.off.p50,
    });
  }
  const med = (f: (p: Pass) => number): number => median(passes.map(f));
  const excess = med((p) => p.strictExcess);
  const ratio16 = med((p) => p.strictOverOff16);
  const latency = med((p) => p.latencyOverOff);
  const targets = {
    strictP50: { excessUs: excess, limitUs: 20, pass: excess <= 20 },
    strictThroughput: { ratio: ratio16, limit: 0.9, pass: ratio16 >= 0.9 },
    latencyP50: { ratio: latency, limit: 1.1, pass: latency <= 1.1 },
  };
  const result = { busyPoll, passes, targets };
  if (json) console.log(JSON.stringify(result));
  else {
    const f = (n: number): string => n.toFixed(1).padStart(7);
    console.log(
      `Audit log on the sign path (sidecar -> enclave${busyPoll ? ' --busy-poll' : ''} -> store), ${PASSES} passes; per pass and mode ${SEQUENTIAL} sequential signatures and ${CLIENTS} clients for ${CONCURRENT_MS} ms`,
    );
    console.log('  pass  order                   1 client p50 µs: off  strict latency    bare | fdatasync p50 µs: floor in-strict appended | 16 clients sig/s: off strict latency | Node CPU µs/sig off/strict/latency');
    passes.forEach((p, i) => {
      console.log(
        `  ${String(i + 1).padEnd(4)}  ${p.order.padEnd(22)}  ${f(p.one.off.p50)} ${f(p.one.strict.p50)} ${f(p.one.latency.p50)} ${f(p.one.bare.p50)} |   ${f(p.floor.p50)} ${f(p.strictFdatasync.p50)} ${f(p.floorAppending.p50)} |   ${p.many.off.toFixed(0).padStart(6)} ${p.many.strict.toFixed(0).padStart(6)} ${p.many.latency.toFixed(0).padStart(6)} | ${p.cpu.off.toFixed(0)}/${p.cpu.strict.toFixed(0)}/${p.cpu.latency.toFixed(0)}`,
      );
    });
    console.log(
      `  per pass: strict - off - floor = ${passes.map((p) => p.strictExcess.toFixed(1)).join(', ')} µs; bare - off - floor = ${passes.map((p) => (p.one.bare.p50 - p.one.off.p50 - p.floor.p50).toFixed(1)).join(', ')} µs; strict - bare = ${passes.map((p) => (p.one.strict.p50 - p.one.bare.p50).toFixed(1)).join(', ')} µs`,
    );
    console.log(`  strict p50 - off p50 - fdatasync p50, median of passes = ${excess.toFixed(1)} µs (target <= 20): ${targets.strictP50.pass ? 'PASS' : 'FAIL'}`);
    console.log(
      `  strict / off throughput at ${CLIENTS} clients, median = ${ratio16.toFixed(3)} (per pass ${passes.map((p) => p.strictOverOff16.toFixed(3)).join(', ')}; target >= 0.90): ${targets.strictThroughput.pass ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `  latency / off p50, median = ${latency.toFixed(3)} (per pass ${passes.map((p) => p.latencyOverOff.toFixed(3)).join(', ')}; target <= 1.10): ${targets.latencyP50.pass ? 'PASS' : 'FAIL'}`,
    );
  }
} catch (e) {
  log('broke:', e);
  process.exitCode = 1;
} finally {
  if (discarding) clearInterval(discarding);
  await writer?.stop().catch(() => {});
  await client?.close();
  await enclave?.stop();
  rmSync(dir, { recursive: true, force: true });
}
