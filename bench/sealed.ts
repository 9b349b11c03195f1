/**
 * Sealed state (issue #14, docs/sealed-state.md): what keeping keys across restarts costs, all in ONE
 * run so every ratio compares numbers from the same machine state.
 *
 * A. Restart to ready with N sealed keys (default 10,000; `--quick` 500), next to 0 keys:
 *    - N keys are made through the API of a real `zcp up --sealing development` (the development
 *      configuration with dev-client's key quota raised above N, re-signed by the development admin;
 *      HTTP, stamped
 *      `generate_key` from 16 concurrent clients: each id is released only after its sealed record
 *      is durable in DATA_DIR/sealed/), then the stack is stopped cleanly. A second data directory
 *      gets one start and stop and no keys.
 *    - Interleaved trials on the two directories: `zcp up` from spawn to its `ready` event (what an
 *      operator waits for: Node and tsx start, enclave boot, every record handed back, audit log
 *      resumed and replayed, API listening), and the same boot taken apart by hand, the way `zcp up`
 *      does it: enclave spawn → ready line (`--audit-resume --sealing development`), reading the
 *      store's files, `loadSealedState` (`sealed_load` in batches, then `sealed_state`),
 *      `AuditWriter.open` (the log resumed). `sealed_load` throughput = N / its time.
 * B. "Sealing adds nothing to the sign path": two enclaves on one data directory, `--sealing
 *    development` and `--sealing none`, each with one secp256k1 key; pre-stamped `sign_digest` through
 *    the TypeScript sidecar on the enclave socket (no HTTP; the host acknowledges audit records and
 *    discards them, as bench/audit.ts "off"); interleaved trials (order alternating), each: 1 client
 *    p50/p99 and 16 clients signatures/s, after an untimed warm-up of both. Medians over trials,
 *    ratio development / none, both of the medians and as the median of the per-trial ratios. For
 *    information, the one place sealing does act: `generate_key` p50 per mode (requests alternating
 *    between the two enclaves one by one), and with the host's durable write of the record
 *    (`SealedStore.write`: temp file, fsync, rename, directory fsync).
 *
 *   node --import tsx bench/sealed.ts [--quick] [--json] [--keys N]
 *
 * Progress on stderr; the summary (human lines, or one JSON object with --json) on stdout. Exit 0
 * unless the run itself broke (a key not restored, a refusal, a stack that did not start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { AuditWriter, SNAPSHOT_FILE } from '../host/src/audit/writer.ts';
import { readCurrentLog } from '../host/src/audit/log-info.ts';
import { core } from '../host/src/core.ts';
import { ensureDevConfiguration } from '../host/src/local/dev-config.ts';
import { startEnclave, type EnclaveProcess } from '../host/src/local/enclave-process.ts';
import { loadSealedState } from '../host/src/seal/boot.ts';
import { SealedStore } from '../host/src/seal/store.ts';
import { EnclaveClient, type Request } from '../host/src/sidecar/client.ts';
import { stampedFrame } from '../host/src/sidecar/stamped-frame.ts';
import { unixTransport } from '../host/src/sidecar/transport.ts';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const keysArg = argv.indexOf('--keys');
const N_KEYS = keysArg >= 0 ? Number(argv[keysArg + 1]) : quick ? 500 : 10_000;
if (!Number.isInteger(N_KEYS) || N_KEYS < 1) throw new Error(`--keys: a positive integer, got ${argv[keysArg + 1]}`);
const RESTART_TRIALS = quick ? 2 : 5;
const SIGN_TRIALS = quick ? 2 : 5;
const SEQUENTIAL = quick ? 500 : 3000;
const CONCURRENT_MS = quick ? 800 : 3000;
const CLIENTS = 16;
const CREATE_CLIENTS = 16;
const GENERATE = quick ? 200 : 1000;
const log = (...a: unknown[]): void => console.error('[sealed-bench]', ...a);

const ZCP = fileURLToPath(new URL('../host/bin/zcp.mjs', import.meta.url));
const dir = mkdtempSync(path.join(process.env.SENTINEL_BENCH_DIR ?? tmpdir(), 'sentinel-sealed-bench-'));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
function pct(samplesNs: number[]): { p50: number; p99: number } {
  const s = [...samplesNs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.round((s.length - 1) * q)]! / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

// ---- zcp up as a child process ------------------------------------------------------------------------------

interface UpReady {
  url: string;
  clientKeyPath: string;
  sealing: { provider: string; stored: number; loaded: number; keys: number; refused: unknown[] };
  audit: { resumed: null | { size: number } };
}
interface Up {
  child: ChildProcess;
  ready: UpReady;
  /** Spawn to ready event, ms. */
  readyMs: number;
}

const running = new Set<ChildProcess>();

function startUp(dataDir: string): Promise<Up> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [ZCP, 'up', '--port', '0', '--insecure-http', '--json', '--log-level', 'silent', '--sealing', 'development', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zcp up not ready in 120 s:\n${stderr}`)), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`zcp up exited ${code}:\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string } & UpReady;
      if (event.event === 'ready') {
        clearTimeout(timer);
        resolve({ child, ready: event, readyMs: performance.now() - t0 });
      }
    });
  });
}

async function stopUp(up: Up): Promise<void> {
  // The start's "exited before ready" listener goes first.
  up.child.removeAllListeners('exit');
  const exited = new Promise<number | null>((r) =>
    up.child.once('exit', (code) => {
      running.delete(up.child);
      r(code);
    }),
  );
  up.child.kill('SIGINT');
  const code = await exited;
  if (code !== 0) throw new Error(`zcp up stopped with code ${code}`);
}

/** `{ body, stamp }` as a client posts it (core.encodeBody, core.stampRequest), as the SDK builds it. */
function stampedJson(credential: string, operation: Parameters<typeof core.encodeBody>[0]): string {
  const body = core.encodeBody(operation);
  const timestampUs = BigInt(Date.now()) * 1000n;
  const stamp = core.stampRequest(credential, operation.op, body, timestampUs, randomBytes(16));
  const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
  return JSON.stringify({
    body: hex(body),
    stamp: { principal: stamp.principal, timestampUs: timestampUs.toString(), nonce: hex(stamp.nonce), signature: hex(stamp.signature) },
  });
}

/**
 * The development configuration allows `dev-client` 1,000 keys: raise its quota (version 1 still, signed
 * again by the development admin) so the data directory can hold `quota` keys. Both directories get it.
 */
function raiseKeyQuota(dataDir: string, quota: number): void {
  const dev = ensureDevConfiguration(dataDir);
  const admin = readFileSync(dev.adminKeyPath, 'utf8');
  const config = JSON.parse(core.configToJson(readFileSync(dev.configPath))).config as { principals: Array<{ id: string; max_keys: number }> };
  const principal = config.principals.find((p) => p.id === 'dev-client')!;
  principal.max_keys = Math.max(principal.max_keys, quota);
  const document = core.configFromJson(JSON.stringify(config));
  writeFileSync(dev.configPath, core.signedConfig(document, [core.configSign(document, admin)]));
}

/** N keys through the API, from `CREATE_CLIENTS` concurrent clients; keys/s. */
async function createKeys(up: Up, n: number): Promise<number> {
  const credential = readFileSync(up.ready.clientKeyPath, 'utf8');
  let next = 0;
  let made = 0;
  const t0 = performance.now();
  let lastLog = t0;
  await Promise.all(
    Array.from({ length: CREATE_CLIENTS }, async () => {
      while (next < n) {
        const i = next++;
        const curve = i % 2 === 0 ? 'secp256k1' : 'ed25519';
        const res = await fetch(`${up.ready.url}/v1/keys/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: stampedJson(credential, { op: 'generate_key', curve, purpose: 'raw', label: `bench-${i}` }),
        });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`generate_key ${i}: ${res.status} ${text}`);
        made++;
        if (performance.now() - lastLog > 5000) {
          lastLog = performance.now();
          log(`  ${made} / ${n} keys`);
        }
      }
    }),
  );
  return made / ((performance.now() - t0) / 1000);
}

// ---- the boot taken apart (what zcp up does, timed per phase) ----------------------------------------------

interface Phases {
  /** Enclave spawn to its ready line (`--audit-resume --sealing development`; master key read). */
  boot: number;
  /** Reading every record file of the store (page cache warm). */
  readFiles: number;
  /** `loadSealedState`: reading the files again, `sealed_load` in batches, `sealed_state` and its store write. */
  sealedLoad: number;
  /** `AuditWriter.open`: the previous log handed over, checked and replayed (from the sealed snapshot when used). */
  auditResume: number;
  keys: number;
  batches: number;
  /** Whether the resume started from the log's sealed snapshot, and the records replayed after it. */
  fromSnapshot: boolean;
  replayed: number;
  /** A snapshot taken right after (`sealed_snapshot`): its sealed size and the decision pause. */
  snapshotBytes: number;
  snapshotPausedUs: number;
}

/** `withSnapshot` false: the log's `snapshot.seal` is set aside for this boot (the whole log is replayed). */
async function bootByHand(dataDir: string, expectKeys: number, tag: string, withSnapshot = true): Promise<Phases> {
  const dev = ensureDevConfiguration(dataDir);
  const socketPath = path.join(dir, `hand-${tag}.sock`);
  const t0 = performance.now();
  const enclave: EnclaveProcess = await startEnclave({
    socketPath,
    dataDir,
    configPath: dev.configPath,
    policyPath: dev.policyPath,
    auditResume: true,
    auditStrictSessions: true,
    sealing: 'development',
    readyTimeoutMs: 60_000,
  });
  const tBoot = performance.now();
  const client = new EnclaveClient({ transport: unixTransport(socketPath) });
  let writer: AuditWriter | null = null;
  try {
    await client.connect(5_000);
    const store = new SealedStore(path.join(dataDir, 'sealed'));
    const tr = performance.now();
    const records = store.readAll();
    const readFiles = performance.now() - tr;
    const batches = Math.ceil(records.length / 1024);
    const t1 = performance.now();
    const summary = await loadSealedState(client, store);
    const tLoad = performance.now();
    if (summary.keys !== expectKeys || summary.refused.length > 0 || summary.loaded !== summary.stored) {
      throw new Error(`sealed_load: expected ${expectKeys} keys, got ${JSON.stringify({ ...summary, refused: summary.refused.slice(0, 3) })}`);
    }
    const auditDir = path.join(dataDir, 'audit');
    const snapshotFile = path.join(auditDir, 'logs', readCurrentLog(auditDir) ?? 'none', SNAPSHOT_FILE);
    if (!withSnapshot) rmSync(snapshotFile, { force: true });
    const tOpen = performance.now();
    writer = await AuditWriter.open(client, { dir: auditDir, mode: 'strict', snapshotEveryMs: 0 });
    const tAudit = performance.now();
    if (!writer.resumed?.resumed) throw new Error('the audit log was not resumed');
    const snapshotSize = writer.resumed.snapshot_size;
    if ((snapshotSize != null) !== withSnapshot) throw new Error(`resume ${withSnapshot ? 'without' : 'with'} the sealed snapshot`);
    const taken = await writer.snapshot();
    if (!taken) throw new Error('no snapshot taken');
    return {
      boot: tBoot - t0,
      readFiles,
      sealedLoad: tLoad - t1,
      auditResume: tAudit - tOpen,
      keys: summary.keys,
      batches,
      fromSnapshot: snapshotSize != null,
      replayed: Number(writer.resumed.size) - Number(snapshotSize ?? 0),
      snapshotBytes: taken.bytes,
      snapshotPausedUs: taken.pausedUs,
    };
  } finally {
    await writer?.stop().catch((e) => log('writer stop:', (e as Error).message));
    await client.close();
    await enclave.stop();
  }
}

// ---- B: the sign path, development vs none --------------------------------------------------------------------

type Mode = 'development' | 'none';
type Stamped = Extract<Request, { op: 'stamped' }>;

interface SignEnclave {
  mode: Mode;
  enclave: EnclaveProcess;
  client: EnclaveClient;
  keyId: string;
  credential: string;
}

function stamped(credential: string, operation: Parameters<typeof core.encodeBody>[0]): Stamped {
  return stampedFrame(credential, operation);
}

async function ackAll(client: EnclaveClient): Promise<void> {
  const head = await client.request({ op: 'audit_checkpoint' });
  await client.request({ op: 'audit_ack', durable: head.size });
}

/** The host that discards audit records (acknowledges them), for the active enclave only. */
function acknowledging(client: EnclaveClient): () => Promise<void> {
  const timer = setInterval(() => void ackAll(client).catch(() => {}), 20);
  return async () => {
    clearInterval(timer);
    await ackAll(client);
  };
}

async function startSignEnclave(dataDir: string, mode: Mode): Promise<SignEnclave> {
  const dev = ensureDevConfiguration(dataDir);
  const socketPath = path.join(dir, `sign-${mode}.sock`);
  const enclave = await startEnclave({ socketPath, dataDir, configPath: dev.configPath, policyPath: dev.policyPath, resumeWith: [dev.adminKeyPath], sealing: mode });
  if (enclave.ready.sealing !== mode) throw new Error(`the enclave reports sealing ${enclave.ready.sealing}, not ${mode}`);
  const client = new EnclaveClient({ transport: unixTransport(socketPath) });
  await client.connect(5_000);
  const credential = readFileSync(dev.clientKeyPath, 'utf8');
  const generated = await client.request(stamped(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: `sign-${mode}` }));
  if (generated.answer.type !== 'key_generated') throw new Error(JSON.stringify(generated.answer));
  const sealed = (generated as { sealed?: unknown }).sealed;
  if (mode === 'development' ? !sealed : sealed) throw new Error(`${mode}: the answer ${sealed ? 'carries' : 'lacks'} a sealed record`);
  await ackAll(client);
  return { mode, enclave, client, keyId: generated.answer.key_id, credential };
}

async function signOnce(e: SignEnclave, request: Stamped): Promise<void> {
  const answer = await e.client.request(request);
  if (answer.answer.type !== 'signature') throw new Error(`sign refused: ${JSON.stringify(answer.answer)}`);
}

let digestCounter = 0;
const signRequests = (e: SignEnclave, n: number): Stamped[] =>
  Array.from({ length: n }, () => {
    const d = Buffer.alloc(32);
    d.writeUInt32BE(++digestCounter, 0);
    d[31] = 1;
    return stamped(e.credential, { op: 'sign_digest', key_id: e.keyId, digest: d });
  });

async function sequential(e: SignEnclave, n: number): Promise<{ p50: number; p99: number }> {
  const requests = signRequests(e, n + Math.floor(n / 10));
  const warm = Math.floor(n / 10);
  for (let i = 0; i < warm; i++) await signOnce(e, requests[i]!);
  const samples: number[] = [];
  for (let i = warm; i < requests.length; i++) {
    const t = process.hrtime.bigint();
    await signOnce(e, requests[i]!);
    samples.push(Number(process.hrtime.bigint() - t));
  }
  return pct(samples);
}

async function concurrent(e: SignEnclave, ms: number): Promise<number> {
  const pool = signRequests(e, Math.ceil((ms / 1000) * 12_000));
  let next = 0;
  let done = 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end && next < pool.length) {
        await signOnce(e, pool[next++]!);
        done++;
      }
    }),
  );
  if (next >= pool.length) log('warning: the pre-stamped pool ran out before the phase ended');
  return done / ((performance.now() - started) / 1000);
}

/**
 * `generate_key` p50 per mode, requests alternating between the two enclaves one by one (so both see
 * the same machine), and for development also with the host's durable write of the record.
 */
async function generation(enclaves: Record<Mode, SignEnclave>, n: number, store: SealedStore): Promise<{ enclaveP50Us: Record<Mode, number>; developmentWithDurableStoreP50Us: number }> {
  const plain: Record<Mode, number[]> = { development: [], none: [] };
  const stored: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const mode of (i % 2 ? ['none', 'development'] : ['development', 'none']) as Mode[]) {
      const e = enclaves[mode];
      const request = stamped(e.credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: `gen-${i}` });
      const t = process.hrtime.bigint();
      const answer = await e.client.request(request);
      const t1 = process.hrtime.bigint();
      if (answer.answer.type !== 'key_generated') throw new Error(JSON.stringify(answer.answer));
      plain[mode].push(Number(t1 - t));
      const record = (answer as { sealed?: { kind: string; name: string; version: number | bigint; record: Uint8Array } | null }).sealed;
      if ((mode === 'development') !== Boolean(record)) throw new Error(`${mode}: the answer ${record ? 'carries' : 'lacks'} a sealed record`);
      if (record) {
        await store.write(record);
        stored.push(Number(process.hrtime.bigint() - t));
      }
      if (i % 256 === 255) await ackAll(e.client);
    }
  }
  return { enclaveP50Us: { development: pct(plain.development).p50, none: pct(plain.none).p50 }, developmentWithDurableStoreP50Us: pct(stored).p50 };
}

// ---- the run -------------------------------------------------------------------------------------------------

const load0 = loadavg()[0]!;
try {
  // ---- A ----
  const keysDir = path.join(dir, `keys-${N_KEYS}`, 'data');
  const emptyDir = path.join(dir, 'keys-0', 'data');
  for (const d of [keysDir, emptyDir]) {
    mkdirSync(d, { recursive: true });
    raiseKeyQuota(d, N_KEYS + 100);
  }
  log(`A: making ${N_KEYS} keys through the API (${CREATE_CLIENTS} clients) ...`);
  {
    const empty = await startUp(emptyDir);
    await stopUp(empty);
  }
  const maker = await startUp(keysDir);
  const createRate = await createKeys(maker, N_KEYS);
  await stopUp(maker);
  const stored = readdirSync(path.join(keysDir, 'sealed', 'keys')).length;
  if (stored !== N_KEYS) throw new Error(`${stored} sealed key records stored, expected ${N_KEYS}`);
  log(`  ${N_KEYS} keys at ${createRate.toFixed(0)} keys/s; ${stored} records in sealed/keys`);

  const upMs: Record<'0' | 'n', number[]> = { '0': [], n: [] };
  const phases: Record<'0' | 'n', Phases[]> = { '0': [], n: [] };
  /** The N-key directory booted by hand with its snapshot set aside: the whole log replayed. */
  const wholeLog: Phases[] = [];
  for (let t = 0; t < RESTART_TRIALS; t++) {
    const order: Array<['0' | 'n', string, number]> = [
      ['0', emptyDir, 0],
      ['n', keysDir, N_KEYS],
    ];
    if (t % 2) order.reverse();
    for (const [which, d, expect] of order) {
      const up = await startUp(d);
      if (up.ready.sealing.keys !== expect || up.ready.sealing.refused.length > 0) throw new Error(`zcp up restored ${up.ready.sealing.keys} keys, expected ${expect}`);
      upMs[which].push(up.readyMs);
      await stopUp(up);
      const p = await bootByHand(d, expect, `${which}-${t}`);
      phases[which].push(p);
      if (which === 'n') {
        const w = await bootByHand(d, expect, `${which}-${t}-whole`, false);
        wholeLog.push(w);
        log(`  trial ${t + 1}, ${expect} keys, whole log (${w.replayed} records): audit resume ${w.auditResume.toFixed(0)} ms; from the snapshot (${p.replayed} records after it): ${p.auditResume.toFixed(0)} ms`);
      }
      log(
        `  trial ${t + 1}, ${expect} keys: zcp up ready in ${up.readyMs.toFixed(0)} ms; by hand: boot ${p.boot.toFixed(0)} ms, ` +
          `sealed_load ${p.sealedLoad.toFixed(0)} ms (${p.batches} batch(es)), audit resume ${p.auditResume.toFixed(0)} ms`,
      );
    }
  }
  const med = (which: '0' | 'n', f: keyof Phases): number => median(phases[which].map((p) => p[f]));
  const restart = {
    keys: N_KEYS,
    createKeysPerSecondViaApi: createRate,
    trials: RESTART_TRIALS,
    zcpUpReadyMs: { zero: median(upMs['0']), n: median(upMs.n), samplesZero: upMs['0'], samplesN: upMs.n },
    byHandMs: {
      zero: { boot: med('0', 'boot'), readFiles: med('0', 'readFiles'), sealedLoad: med('0', 'sealedLoad'), auditResume: med('0', 'auditResume') },
      n: { boot: med('n', 'boot'), readFiles: med('n', 'readFiles'), sealedLoad: med('n', 'sealedLoad'), auditResume: med('n', 'auditResume') },
    },
    sealedLoadKeysPerSecond: N_KEYS / (med('n', 'sealedLoad') / 1000),
    /** `AuditWriter.open` with N keys: from the sealed snapshot vs the whole log replayed (same run, interleaved). */
    auditResumeMs: {
      fromSnapshot: med('n', 'auditResume'),
      wholeLog: median(wholeLog.map((w) => w.auditResume)),
      wholeLogRecords: median(wholeLog.map((w) => w.replayed)),
      recordsAfterSnapshot: med('n', 'replayed'),
      ratioSnapshotOverWholeLog: med('n', 'auditResume') / median(wholeLog.map((w) => w.auditResume)),
    },
    snapshot: { bytes: med('n', 'snapshotBytes'), pausedUs: med('n', 'snapshotPausedUs'), keys: N_KEYS },
    /** Over the 0-key boot (which still reads the store, seals and stores the configuration record). */
    sealedLoadMarginalKeysPerSecond: N_KEYS / ((med('n', 'sealedLoad') - med('0', 'sealedLoad')) / 1000),
    sealedLoadPerKeyUs: ((med('n', 'sealedLoad') - med('0', 'sealedLoad')) * 1000) / N_KEYS,
  };

  // ---- B ----
  log(`B: sign path, development vs none: ${SIGN_TRIALS} interleaved trials of ${SEQUENTIAL} sequential + ${CLIENTS} clients for ${CONCURRENT_MS} ms`);
  const signDir = path.join(dir, 'sign', 'data');
  mkdirSync(signDir, { recursive: true });
  raiseKeyQuota(signDir, GENERATE + 100);
  const enclaves: Record<Mode, SignEnclave> = {
    development: await startSignEnclave(signDir, 'development'),
    none: await startSignEnclave(signDir, 'none'),
  };
  const one: Record<Mode, Array<{ p50: number; p99: number }>> = { development: [], none: [] };
  const many: Record<Mode, number[]> = { development: [], none: [] };
  let gen: Awaited<ReturnType<typeof generation>> | null = null;
  const genStore = new SealedStore(path.join(dir, 'sign-store'));
  try {
    // Untimed warm-up of both (the first phase measured otherwise pays for cold caches and clocks).
    for (const mode of ['development', 'none'] as const) {
      const stop = acknowledging(enclaves[mode].client);
      try {
        await sequential(enclaves[mode], Math.min(SEQUENTIAL, 500));
        await concurrent(enclaves[mode], 300);
      } finally {
        await stop();
      }
    }
    for (let t = 0; t < SIGN_TRIALS; t++) {
      const modes: Mode[] = t % 2 ? ['none', 'development'] : ['development', 'none'];
      for (const mode of modes) {
        const e = enclaves[mode];
        const stop = acknowledging(e.client);
        try {
          const s = await sequential(e, SEQUENTIAL);
          const c = await concurrent(e, CONCURRENT_MS);
          one[mode].push(s);
          many[mode].push(c);
          log(`  trial ${t + 1} ${mode.padEnd(11)} 1 client p50 ${s.p50.toFixed(1)} µs p99 ${s.p99.toFixed(1)} µs; ${CLIENTS} clients ${c.toFixed(0)} sig/s`);
        } finally {
          await stop();
        }
      }
    }
    gen = await generation(enclaves, GENERATE, genStore);
  } finally {
    for (const e of Object.values(enclaves)) {
      await e.client.close();
      await e.enclave.stop();
    }
  }
  const signPath = {
    trials: SIGN_TRIALS,
    oneClientP50Us: { development: median(one.development.map((s) => s.p50)), none: median(one.none.map((s) => s.p50)) },
    oneClientP99Us: { development: median(one.development.map((s) => s.p99)), none: median(one.none.map((s) => s.p99)) },
    sixteenClientsSigPerSec: { development: median(many.development), none: median(many.none) },
    samples: { oneClientP50Us: { development: one.development.map((s) => s.p50), none: one.none.map((s) => s.p50) }, sixteenClientsSigPerSec: many },
  };
  // Paired: each trial runs both modes back to back, so its ratio sees one machine state; the median of
  // those is robust to the machine changing between trials (other work starting or stopping).
  const paired = (dev: number[], none: number[]): number => median(dev.map((d, i) => d / none[i]!));
  const ratios = {
    p50DevelopmentOverNone: signPath.oneClientP50Us.development / signPath.oneClientP50Us.none,
    throughputDevelopmentOverNone: signPath.sixteenClientsSigPerSec.development / signPath.sixteenClientsSigPerSec.none,
    p50PairedMedian: paired(one.development.map((s) => s.p50), one.none.map((s) => s.p50)),
    throughputPairedMedian: paired(many.development, many.none),
  };
  const generateKey = { n: GENERATE, ...gen! };
  const load1 = loadavg()[0]!;
  const result = { quick, loadAverage: { start: load0, end: load1 }, restart, signPath: { ...signPath, ratios }, generateKey };

  if (json) console.log(JSON.stringify(result));
  else {
    const r = restart;
    console.log(`Sealed state (#14), one run${quick ? ' (--quick)' : ''}; load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`);
    console.log(`A. restart to ready, medians of ${RESTART_TRIALS} interleaved trials (page cache warm)`);
    console.log(`  made ${N_KEYS} keys through the API at ${r.createKeysPerSecondViaApi.toFixed(0)} keys/s (${CREATE_CLIENTS} clients, each record durable before its id is released)`);
    console.log(`  zcp up, spawn to ready:  0 keys ${r.zcpUpReadyMs.zero.toFixed(0)} ms   ${N_KEYS} keys ${r.zcpUpReadyMs.n.toFixed(0)} ms   (+${(r.zcpUpReadyMs.n - r.zcpUpReadyMs.zero).toFixed(0)} ms)`);
    for (const [label, p] of [['0 keys', r.byHandMs.zero], [`${N_KEYS} keys`, r.byHandMs.n]] as const) {
      console.log(
        `  by hand, ${label.padEnd(11)} enclave boot ${p.boot.toFixed(0).padStart(5)} ms   read files ${p.readFiles.toFixed(0).padStart(5)} ms   loadSealedState ${p.sealedLoad.toFixed(0).padStart(5)} ms   audit resume ${p.auditResume.toFixed(0).padStart(5)} ms`,
      );
    }
    console.log(
      `  sealed_load (loadSealedState, files read included): ${r.sealedLoadKeysPerSecond.toFixed(0)} keys/s overall; over the 0-key boot ${r.sealedLoadMarginalKeysPerSecond.toFixed(0)} keys/s (${r.sealedLoadPerKeyUs.toFixed(1)} µs/key)`,
    );
    const a = r.auditResumeMs;
    console.log(
      `  audit resume, ${N_KEYS} keys: from the sealed snapshot ${a.fromSnapshot.toFixed(0)} ms (${a.recordsAfterSnapshot} records after it)   ` +
        `whole log ${a.wholeLog.toFixed(0)} ms (${a.wholeLogRecords} records)   ratio ${a.ratioSnapshotOverWholeLog.toFixed(2)}`,
    );
    console.log(`  state snapshot: ${r.snapshot.bytes} bytes sealed, decisions paused ${r.snapshot.pausedUs} µs`);
    console.log(`B. sign path (sidecar -> enclave, pre-stamped sign_digest), medians of ${SIGN_TRIALS} interleaved trials`);
    console.log(
      `  1 client p50   development ${signPath.oneClientP50Us.development.toFixed(1)} µs   none ${signPath.oneClientP50Us.none.toFixed(1)} µs   ratio ${ratios.p50DevelopmentOverNone.toFixed(3)} (median of per-trial ratios ${ratios.p50PairedMedian.toFixed(3)})`,
    );
    console.log(`  1 client p99   development ${signPath.oneClientP99Us.development.toFixed(1)} µs   none ${signPath.oneClientP99Us.none.toFixed(1)} µs`);
    console.log(
      `  ${CLIENTS} clients     development ${signPath.sixteenClientsSigPerSec.development.toFixed(0)} sig/s   none ${signPath.sixteenClientsSigPerSec.none.toFixed(0)} sig/s   ratio ${ratios.throughputDevelopmentOverNone.toFixed(3)} (median of per-trial ratios ${ratios.throughputPairedMedian.toFixed(3)})`,
    );
    console.log(
      `  generate_key p50 (information): enclave development ${generateKey.enclaveP50Us.development.toFixed(1)} µs, none ${generateKey.enclaveP50Us.none.toFixed(1)} µs; development + durable record write ${generateKey.developmentWithDurableStoreP50Us.toFixed(1)} µs`,
    );
  }
} catch (e) {
  log('broke:', e);
  process.exitCode = 1;
} finally {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
