// Load benchmark of the HTTP sign route (issue #8), all in ONE run so every
// ratio compares numbers from the same machine state:
//
//   - the local stack, plain HTTP on loopback (`zcp up --insecure-http --port 0`),
//     and a fastify hello-world (bench/hello-server.mjs) in its own process;
//   - two load generators, autocannon (Node, in this process) and vegeta (Go,
//     scripts/install-vegeta.sh), each closed-loop at 1 and 16 connections against
//     `POST /v1/sign/digest` and against the hello-world: throughput, p50, p99;
//   - a native Rust client (crates/client/examples/load.rs) sending the same stamped
//     sign_digest requests straight to the enclave socket: p50 at 1 connection (the
//     enclave's own handling time, transport included) and throughput at 16.
//
// Every sign request is unique and stamped before its phase starts (stamps expire
// and nonces are single-use), so no load generator stamps inside the clock.
// Targets: at 1 connection, (sign p50 - native p50) <= 1.5 x hello p50; at 16,
// sign throughput >= 0.8 x native throughput; checked per load generator.
// Exit 0 whether targets pass or fail; non-zero only when the run broke (a sign
// answer other than 200, a component that would not start).
//   node bench/api-load.mjs [--quick] [--json] [--duration S] [--keep] [--pin]
// --pin models a Nitro host, where the enclave has vCPUs of its own: the enclave is pinned to
// the last CPU, everything else (API, hello-world, load generators, native client) to the others.
// (--keep leaves the temporary data directory; SENTINEL_ZCP=path/to/zcp.mjs benches another checkout.)
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (...a) => console.error('[api-load]', ...a);

// ---- flags ---------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flags = { quick: false, json: false, keep: false, pin: false, duration: undefined };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') flags.quick = true;
  else if (a === '--json') flags.json = true;
  else if (a === '--keep') flags.keep = true;
  else if (a === '--pin') flags.pin = true;
  else if (a === '--duration') flags.duration = Number(argv[++i]);
  else {
    console.error(`unknown flag ${a}; usage: node bench/api-load.mjs [--quick] [--json] [--duration S] [--keep] [--pin]`);
    process.exit(2);
  }
}
const DURATION_S = flags.duration ?? (flags.quick ? 3 : 10);
// Stamps are made before a phase and must still be inside the enclave's stamp window
// (30 s in the development configuration) at the phase's end.
if (!(DURATION_S > 0 && DURATION_S <= 20)) {
  console.error('--duration must be in (0, 20] seconds (stamps made before a phase must outlive it)');
  process.exit(2);
}
const WARMUP_S = flags.quick ? 1 : 2;
const CONNECTIONS = [1, 16];

const core = require(path.join(ROOT, 'bindings/node'));
const autocannon = require('autocannon');

// ---- small helpers -------------------------------------------------------------------
const hex0x = (b) => `0x${Buffer.from(b).toString('hex')}`;

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.round((sorted.length - 1) * q)];
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20, ...options });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** Starts a child that prints readiness on stdout; resolves with what `ready(out)` returns. */
function startChild(cmd, args, ready, { timeoutMs = 60_000, env } = {}) {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { err += c; if (err.length > 64_000) err = err.slice(-32_000); });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => { stop(); reject(new Error(`${cmd} ${args.join(' ')}: not ready after ${timeoutMs} ms\n${err}`)); }, timeoutMs);
    const onExit = (code) => { clearTimeout(deadline); clearInterval(poll); reject(new Error(`${cmd} ${args.join(' ')} exited ${code} before it was ready:\n${err}${out}`)); };
    child.once('exit', onExit);
    const poll = setInterval(() => {
      let value;
      try { value = ready(out); } catch { value = undefined; }
      if (value !== undefined) {
        clearInterval(poll);
        clearTimeout(deadline);
        child.off('exit', onExit);
        resolve({ child, value, stop, stderr: () => err });
      }
    }, 50);
  });
}

// ---- CPU pinning (--pin) ---------------------------------------------------------------
const CPUS = os.availableParallelism();
const ENCLAVE_CPU = String(CPUS - 1);
const HOST_CPUS = CPUS > 2 ? `0-${CPUS - 2}` : '0';
/** Pins every thread of `pid` to `cpus` (taskset -a). */
function pin(pid, cpus) {
  run('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: ['ignore', 'ignore', 'inherit'] });
}
/** `cmd args` run under taskset when --pin, so the child's threads start on the host CPUs. */
const pinned = (cmd, args) => (flags.pin ? ['taskset', ['-c', HOST_CPUS, cmd, ...args]] : [cmd, args]);

function childPids(pid) {
  const r = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' });
  return (r.stdout ?? '').trim().split('\n').filter(Boolean).map((l) => { const [p, ...c] = l.trim().split(/\s+/); return { pid: Number(p), comm: c.join(' ') }; });
}

// ---- CPU accounting ------------------------------------------------------------------
// CPU time per request of each process over a phase (utime + stime of /proc/PID/stat, all threads):
// it says which process pays for a sign request. At 16 connections it is stable across runs; at 1
// connection it grows when the machine is idle (every request starts on cold caches).
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}
function cpuSnapshot(pids) {
  const own = process.cpuUsage();
  return { ...Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)])), self: (own.user + own.system) / 1e6 };
}
function cpuPerRequest(before, after, requests) {
  return Object.fromEntries(Object.keys(after).map((k) => [k, requests > 0 ? ((after[k] - before[k]) / requests) * 1e6 : NaN]));
}

// ---- the stack -----------------------------------------------------------------------
/** `zcp up --insecure-http --port 0 --data-dir DIR --log-level warn`, ready once DIR/stack.json exists. */
async function startStack(dataDir) {
  // SENTINEL_ZCP: bench another checkout's `zcp` (default: this repository's).
  const zcp = process.env.SENTINEL_ZCP ?? path.join(ROOT, 'host/bin/zcp.mjs');
  const stackFile = path.join(dataDir, 'stack.json');
  const s = await startChild(process.execPath, [zcp, 'up', '--insecure-http', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], () =>
    existsSync(stackFile) ? JSON.parse(readFileSync(stackFile, 'utf8')) : undefined,
  );
  return { ...s, stack: s.value };
}

// ---- stamped requests ----------------------------------------------------------------
class Stamper {
  constructor(credentialJson, keyId) {
    this.credentialJson = credentialJson;
    this.keyId = keyId;
    this.runTag = randomBytes(8);
    this.counter = 0n;
  }

  /** One `POST /v1/sign/digest` envelope (JSON text): fresh nonce, fresh timestamp. */
  signDigestEnvelope() {
    const nonce = Buffer.alloc(16);
    this.runTag.copy(nonce, 0);
    nonce.writeBigUInt64BE(this.counter++, 8);
    const digest = createHash('sha256').update(nonce).digest();
    return this.envelope({ op: 'sign_digest', key_id: this.keyId, digest }, nonce);
  }

  envelope(operation, nonce = randomBytes(16)) {
    const body = core.encodeBody(operation);
    const timestampUs = BigInt(Date.now()) * 1000n;
    const stamp = core.stampRequest(this.credentialJson, operation.op, body, timestampUs, nonce);
    return JSON.stringify({
      body: hex0x(body),
      stamp: { principal: stamp.principal, timestampUs: String(timestampUs), nonce: hex0x(nonce), signature: hex0x(stamp.signature) },
    });
  }

  pool(n) {
    const t = performance.now();
    const bodies = new Array(n);
    for (let i = 0; i < n; i++) bodies[i] = this.signDigestEnvelope();
    log(`  ${n} stamped sign_digest requests made in ${((performance.now() - t) / 1000).toFixed(2)} s`);
    return bodies;
  }
}

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, json: await response.json() };
}

/**
 * Sums of the API's own Prometheus histograms (GET /metrics, when the API serves it): HTTP handling
 * time of the sign route and the sidecar's enclave round trip. Their deltas over a phase split the
 * sign route's time into "HTTP layer" and "enclave, as the sidecar sees it". null without /metrics.
 */
async function scrapeMetrics(apiUrl, signRoute) {
  let text;
  try {
    const r = await fetch(`${apiUrl}/metrics`);
    if (r.status !== 200) return null;
    text = await r.text();
  } catch {
    return null;
  }
  const sum = { httpSum: 0, httpCount: 0, rttSum: 0, rttCount: 0 };
  for (const line of text.split('\n')) {
    const m = /^(sentinel_http_request_duration_seconds|sentinel_enclave_rtt_seconds)_(sum|count)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[4]);
    if (m[1] === 'sentinel_http_request_duration_seconds') {
      if (!m[3].includes(`route="${signRoute}"`)) continue;
      sum[m[2] === 'sum' ? 'httpSum' : 'httpCount'] += value;
    } else {
      sum[m[2] === 'sum' ? 'rttSum' : 'rttCount'] += value;
    }
  }
  return sum;
}

function metricsDelta(before, after) {
  if (!before || !after) return undefined;
  const http = after.httpCount - before.httpCount;
  const rtt = after.rttCount - before.rttCount;
  return {
    httpMeanUs: http > 0 ? ((after.httpSum - before.httpSum) / http) * 1e6 : NaN,
    enclaveRttMeanUs: rtt > 0 ? ((after.rttSum - before.rttSum) / rtt) * 1e6 : NaN,
    requests: http,
  };
}

// ---- load generators -----------------------------------------------------------------
/** Closed-loop autocannon run. Latencies are taken from its `response` events (float ms; its own histogram keeps whole ms). */
async function autocannonRun({ url, connections, duration, method = 'GET', bodies, refill }) {
  const latencies = [];
  const statuses = {};
  let next = 0;
  let exhausted = false;
  const margin = connections * 2 + 2;
  let instance;
  const request = bodies
    ? {
        method,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          if (!exhausted && next >= bodies.length - margin) {
            exhausted = true; // the phase ends early; throughput is over the time it ran
            setImmediate(() => instance.stop());
          }
          // Past the margin (requests already in flight when stop() lands): stamp on the spot.
          req.body = next < bodies.length ? bodies[next++] : refill();
          return req;
        },
      }
    : { method };
  const started = performance.now();
  const result = await new Promise((resolve, reject) => {
    instance = autocannon({ url, connections, pipelining: 1, duration, requests: [request], timeout: 10 }, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      latencies.push(responseTimeMs);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
  const elapsedS = Math.min(result.duration, (performance.now() - started) / 1000);
  latencies.sort((a, b) => a - b);
  const ok = Object.entries(statuses).reduce((n, [s, c]) => n + (s >= 200 && s < 300 ? c : 0), 0);
  const nonOk = latencies.length - ok + result.errors + result.timeouts;
  return {
    tool: 'autocannon',
    connections,
    requests: latencies.length,
    ok,
    nonOk,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    elapsedS,
    throughput: ok / elapsedS,
    p50Us: percentile(latencies, 0.5) * 1000,
    p99Us: percentile(latencies, 0.99) * 1000,
    meanUs: (latencies.reduce((a, b) => a + b, 0) / latencies.length) * 1000,
    exhausted,
    autocannonReport: { p50Ms: result.latency.p50, p99Ms: result.latency.p99, averageReqPerS: result.requests.average },
  };
}

let VEGETA;
/** Closed-loop vegeta run: `-rate=0 -workers=N -max-workers=N`, JSON targets, `vegeta report -type=json`. */
async function vegetaRun({ url, connections, duration, method = 'GET', bodies, dir }) {
  const targets = path.join(dir, `targets-${connections}-${method}.jsonl`);
  const results = path.join(dir, `results-${connections}-${method}.bin`);
  const header = bodies ? { 'Content-Type': ['application/json'] } : {};
  if (bodies) {
    const out = createWriteStream(targets);
    for (const b of bodies) {
      if (!out.write(`${JSON.stringify({ method, url, header, body: Buffer.from(b).toString('base64') })}\n`)) {
        await new Promise((r) => out.once('drain', r));
      }
    }
    await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
  } else {
    writeFileSync(targets, `${JSON.stringify({ method, url, header })}\n`);
  }
  const args = ['attack', '-format=json', `-targets=${targets}`, '-rate=0', `-workers=${connections}`, `-max-workers=${connections}`,
    `-duration=${duration}s`, '-timeout=10s', '-keepalive=true', '-http2=false', `-output=${results}`];
  await new Promise((resolve, reject) => {
    const child = spawn(...pinned(VEGETA, args), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => { err += c; });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vegeta attack exited ${code}: ${err}`))));
  });
  const report = JSON.parse(run(VEGETA, ['report', '-type=json', results]));
  rmSync(targets, { force: true });
  rmSync(results, { force: true });
  const statuses = report.status_codes ?? {};
  const ok = Object.entries(statuses).reduce((n, [s, c]) => n + (s >= 200 && s < 300 ? c : 0), 0);
  // Non-lazy vegeta cycles its targets: more requests than stamped bodies means replays (they show as non-200).
  const exhausted = bodies ? report.requests > bodies.length : false;
  return {
    tool: 'vegeta',
    connections,
    requests: report.requests,
    ok,
    nonOk: report.requests - ok,
    statuses,
    errors: (report.errors ?? []).slice(0, 5),
    elapsedS: (report.duration + report.wait) / 1e9,
    throughput: report.throughput,
    p50Us: report.latencies['50th'] / 1000,
    p99Us: report.latencies['99th'] / 1000,
    meanUs: report.latencies.mean / 1000,
    exhausted,
  };
}

// ---- native client -------------------------------------------------------------------
function buildNativeClient() {
  log('building the native client: cargo build --release -p sentinel-client --example load');
  const out = run('cargo', ['build', '--release', '-p', 'sentinel-client', '--example', 'load', '--message-format=json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exe = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    .find((m) => m.reason === 'compiler-artifact' && m.target?.name === 'load' && m.executable)?.executable;
  if (!exe) throw new Error('cargo built no `load` example executable');
  return exe;
}

function nativeRun(exe, { socket, credentialPath, keyId, connections, duration }) {
  // Upper bound of what one run can use: a stamped sign costs the enclave > 100 µs of CPU,
  // so a core does < 10,000/s; the pool is that times the cores the enclave can use.
  const pool = Math.ceil(duration * 10_000 * Math.min(connections, os.availableParallelism()));
  const out = run(...pinned(exe, ['--socket', socket, '--credential', credentialPath, '--key-id', keyId, '--connections', String(connections),
    '--duration-ms', String(Math.round(duration * 1000)), '--pool', String(pool)]), { stdio: ['ignore', 'pipe', 'inherit'] });
  const r = JSON.parse(out.trim().split('\n').pop());
  const nonOk = r.requests - r.ok;
  return { tool: 'native', connections, requests: r.requests, ok: r.ok, nonOk, statuses: r.errors, elapsedS: r.elapsed_s,
    throughput: r.throughput, p50Us: r.latency_us.p50, p99Us: r.latency_us.p99, meanUs: r.latency_us.mean, exhausted: r.exhausted };
}

// ---- the run ---------------------------------------------------------------------------
// Children to stop on the way out, also when a load generator throws outside our promises.
const stoppers = [];
process.once('uncaughtException', async (e) => {
  console.error(`[api-load] run broken: ${e.stack ?? e.message}`);
  for (const stop of stoppers.reverse()) await stop().catch(() => {});
  process.exit(1);
});
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

async function main() {
  const startedAt = new Date();
  const load0 = os.loadavg()[0];
  VEGETA = run('bash', [path.join(ROOT, 'scripts/install-vegeta.sh')], { stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
  const nativeExe = buildNativeClient();

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sentinel-api-load-'));
  const work = path.join(dataDir, 'work');
  mkdirSync(work);
  let broken = false;
  const phases = [];
  try {
    log(`starting the stack in ${dataDir}`);
    const stackProc = await startStack(dataDir);
    stoppers.push(stackProc.stop);
    const { stack } = stackProc;
    const apiUrl = stack.url.replace(/\/+$/, '');
    if (!apiUrl.startsWith('http://')) throw new Error(`the stack serves ${apiUrl}: this bench needs plain HTTP (--insecure-http)`);
    const hello = await startChild(process.execPath, [path.join(ROOT, 'bench/hello-server.mjs')], (out) => (out.includes('\n') ? JSON.parse(out.split('\n')[0]) : undefined));
    stoppers.push(hello.stop);
    const helloUrl = `${hello.value.url}/`;
    const enclave = childPids(stackProc.child.pid).find((c) => c.comm.startsWith('sentinel-encl'));
    if (!enclave) throw new Error(`no sentinel-enclave child of zcp (pid ${stackProc.child.pid})`);
    const pids = { api: stackProc.child.pid, enclave: enclave.pid, hello: hello.child.pid };
    if (flags.pin) {
      if (CPUS < 2) throw new Error('--pin needs at least 2 CPUs');
      pin(enclave.pid, ENCLAVE_CPU);
      for (const pid of [stackProc.child.pid, hello.child.pid, process.pid]) pin(pid, HOST_CPUS);
      log(`pinned: enclave (pid ${enclave.pid}) to CPU ${ENCLAVE_CPU}; API, hello-world, load generators and native client to CPU ${HOST_CPUS}`);
    }
    log(`API ${apiUrl} (enclave socket ${stack.enclaveSocket}); hello-world ${helloUrl} (fastify ${hello.value.fastify})`);

    // A raw-purpose secp256k1 key, through the stamped API.
    const credentialPath = stack.clientKeyPath;
    const credentialJson = readFileSync(credentialPath, 'utf8');
    const bootstrap = new Stamper(credentialJson, '');
    const generated = await post(`${apiUrl}/v1/keys/generate`, bootstrap.envelope({ op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'api-load-bench' }));
    const signRoute = '/v1/sign/digest';
    if (generated.status !== 200 || generated.json.answer?.type !== 'key_generated') throw new Error(`generate_key: HTTP ${generated.status} ${JSON.stringify(generated.json)}`);
    const keyId = generated.json.answer.key_id;
    const stamper = new Stamper(credentialJson, keyId);
    const signUrl = `${apiUrl}${signRoute}`;
    const probe = await post(signUrl, stamper.signDigestEnvelope());
    if (probe.status !== 200 || probe.json.answer?.type !== 'signature' || typeof probe.json.receipt !== 'string') {
      throw new Error(`probe sign_digest: HTTP ${probe.status} ${JSON.stringify(probe.json)}`);
    }
    log(`key ${keyId}; sign route POST ${signRoute} answers 200 with a signature and a receipt`);

    const record = (phase, target, r) => {
      const entry = { phase, target, ...r };
      phases.push(entry);
      const flag = r.nonOk > 0 ? `  NON-2xx ${r.nonOk} ${JSON.stringify(r.statuses)}` : '';
      log(`  ${phase.padEnd(26)} ${String(r.connections).padStart(2)} conn  ${fmt(r.throughput, 0).padStart(7)} req/s  p50 ${fmt(r.p50Us).padStart(8)} µs  p99 ${fmt(r.p99Us).padStart(8)} µs  (${r.requests} requests${r.exhausted ? ', pool used up' : ''})${flag}`);
      if (target !== 'hello' && r.nonOk > 0) broken = true;
      return entry;
    };

    // Warm-up (not recorded): JIT, connection paths, the enclave.
    log(`warm-up: ${WARMUP_S} s each, 16 connections`);
    await autocannonRun({ url: helloUrl, connections: 16, duration: WARMUP_S });
    const warm = await autocannonRun({ url: signUrl, method: 'POST', connections: 16, duration: WARMUP_S, bodies: stamper.pool(WARMUP_S * 6000), refill: () => stamper.signDigestEnvelope() });
    if (warm.nonOk > 0) throw new Error(`warm-up sign requests failed: ${JSON.stringify(warm.statuses)} errors ${warm.errors}`);

    const native = {};
    for (const connections of CONNECTIONS) {
      log(`== ${connections} connection(s), ${DURATION_S} s per phase`);
      const measured = async (fn) => {
        const before = cpuSnapshot(pids);
        const r = await fn();
        r.cpuUsPerRequest = cpuPerRequest(before, cpuSnapshot(pids), r.requests);
        return r;
      };
      native[connections] = record('native client -> enclave', 'native', await measured(() => nativeRun(nativeExe, { socket: stack.enclaveSocket, credentialPath, keyId, connections, duration: DURATION_S })));
      // The sign route cannot outrun the enclave for long, but on a busy machine one native phase can
      // be unlucky: size the pools from the best rate seen so far, with room to spare.
      const best = Math.max(...phases.filter((p) => p.target !== 'hello').map((p) => p.throughput));
      const poolSize = Math.ceil(best * DURATION_S * 1.5) + 2000;
      for (const tool of ['autocannon', 'vegeta']) {
        const go = tool === 'autocannon' ? autocannonRun : vegetaRun;
        record(`${tool} hello-world`, 'hello', await measured(() => go({ url: helloUrl, connections, duration: DURATION_S, dir: work })));
        const bodies = stamper.pool(tool === 'vegeta' ? Math.ceil(poolSize * 1.5) : poolSize);
        const before = await scrapeMetrics(apiUrl, signRoute);
        const signed = await measured(() => go({ url: signUrl, method: 'POST', connections, duration: DURATION_S, bodies, dir: work, refill: () => stamper.signDigestEnvelope() }));
        signed.apiMetrics = metricsDelta(before, await scrapeMetrics(apiUrl, signRoute));
        record(`${tool} sign route`, 'sign', signed);
      }
    }

    // Targets, per load generator.
    const find = (tool, target, c) => phases.find((p) => p.tool === tool && p.target === target && p.connections === c);
    const checks = [];
    for (const tool of ['autocannon', 'vegeta']) {
      const sign1 = find(tool, 'sign', 1), hello1 = find(tool, 'hello', 1), sign16 = find(tool, 'sign', 16);
      const overhead = sign1.p50Us - native[1].p50Us;
      checks.push({ tool, name: '1 conn: sign p50 - native p50 <= 1.5 x hello p50', value: overhead / hello1.p50Us, target: 1.5, le: true,
        detail: `(${fmt(sign1.p50Us)} - ${fmt(native[1].p50Us)}) / ${fmt(hello1.p50Us)} = ${fmt(overhead)} / ${fmt(hello1.p50Us)} µs`, pass: overhead <= 1.5 * hello1.p50Us });
      checks.push({ tool, name: '16 conn: sign throughput >= 0.8 x native', value: sign16.throughput / native[16].throughput, target: 0.8, le: false,
        detail: `${fmt(sign16.throughput, 0)} / ${fmt(native[16].throughput, 0)} req/s`, pass: sign16.throughput >= 0.8 * native[16].throughput });
    }

    const load1 = os.loadavg()[0];
    const result = {
      startedAt: startedAt.toISOString(), durationS: DURATION_S, quick: flags.quick, node: process.version,
      cpus: `${os.cpus()[0]?.model?.trim()} x${os.cpus().length}`, loadAverage: { start: load0, end: load1 },
      signRoute, pinned: flags.pin ? { enclave: ENCLAVE_CPU, host: HOST_CPUS } : null, autocannon: require('autocannon/package.json').version, vegeta: VEGETA,
      phases, checks, broken,
    };
    printTable(result);
    if (flags.json) {
      mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
      writeFileSync(path.join(ROOT, 'bench/results/api-load.json'), `${JSON.stringify(result, null, 2)}\n`);
      log('wrote bench/results/api-load.json');
    }
  } finally {
    for (const stop of stoppers.reverse()) await stop();
    if (!flags.keep) rmSync(dataDir, { recursive: true, force: true });
    else log(`kept ${dataDir}`);
  }
  if (broken) {
    console.error('BROKEN RUN: some sign requests were not answered 200 (see NON-2xx above)');
    process.exitCode = 1;
  }
}

function printTable(r) {
  const out = [];
  out.push(`Sentinel HTTP sign route under load — ${r.startedAt}`);
  out.push(`mode: ${r.quick ? 'quick' : 'full'}, ${r.durationS} s per phase  |  node ${r.node}  |  ${r.cpus}  |  autocannon ${r.autocannon}, vegeta v12.13.0`);
  out.push(r.pinned ? `pinned: enclave on CPU ${r.pinned.enclave}, everything else on CPU ${r.pinned.host} (a Nitro enclave has vCPUs of its own)` : 'scheduling: default (enclave, API, hello-world and load generators share all CPUs)');
  out.push(`load average (1 min) at start ${r.loadAverage.start.toFixed(2)}, at end ${r.loadAverage.end.toFixed(2)}`);
  out.push(`sign route: POST ${r.signRoute} (stamped sign_digest, secp256k1 raw key); hello-world: GET / (fastify, logger off)`);
  out.push('');
  out.push(`${'load generator'.padEnd(12)} ${'target'.padEnd(26)} ${'conn'.padStart(4)} ${'req/s'.padStart(8)} ${'p50 µs'.padStart(9)} ${'p99 µs'.padStart(9)} ${'requests'.padStart(9)} ${'non-2xx'.padStart(7)}`);
  out.push(`${'-'.repeat(12)} ${'-'.repeat(26)} ${'-'.repeat(4)} ${'-'.repeat(8)} ${'-'.repeat(9)} ${'-'.repeat(9)} ${'-'.repeat(9)} ${'-'.repeat(7)}`);
  const order = (p) => [p.connections, { native: 0, autocannon: 1, vegeta: 2 }[p.tool], p.target === 'hello' ? 0 : 1];
  const sorted = [...r.phases].sort((a, b) => { const x = order(a), y = order(b); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
  for (const p of sorted) {
    const target = p.target === 'native' ? 'stamped sign_digest (socket)' : p.target === 'hello' ? 'hello-world GET /' : `sign POST ${r.signRoute}`;
    out.push(`${p.tool.padEnd(12)} ${target.slice(0, 26).padEnd(26)} ${String(p.connections).padStart(4)} ${fmt(p.throughput, 0).padStart(8)} ${fmt(p.p50Us).padStart(9)} ${fmt(p.p99Us).padStart(9)} ${String(p.requests).padStart(9)} ${String(p.nonOk).padStart(7)}`);
  }
  const split = sorted.filter((p) => p.apiMetrics);
  if (split.length > 0) {
    const native = Object.fromEntries(r.phases.filter((p) => p.tool === 'native').map((p) => [p.connections, p]));
    out.push('');
    out.push('where a sign request spends its time (means, µs; API side from the API\'s own /metrics over the phase):');
    out.push(`${'load generator'.padEnd(12)} ${'conn'.padStart(4)} ${'client mean'.padStart(11)} ${'API handling'.padStart(12)} ${'sidecar RTT'.padStart(11)} ${'native mean'.padStart(11)} ${'outside API'.padStart(11)} ${'API - RTT'.padStart(9)} ${'RTT - native'.padStart(12)}`);
    for (const p of split) {
      const m = p.apiMetrics;
      const n = native[p.connections]?.meanUs;
      out.push(`${p.tool.padEnd(12)} ${String(p.connections).padStart(4)} ${fmt(p.meanUs).padStart(11)} ${fmt(m.httpMeanUs).padStart(12)} ${fmt(m.enclaveRttMeanUs).padStart(11)} ${fmt(n).padStart(11)} ${fmt(p.meanUs - m.httpMeanUs).padStart(11)} ${fmt(m.httpMeanUs - m.enclaveRttMeanUs).padStart(9)} ${fmt(m.enclaveRttMeanUs - n).padStart(12)}`);
    }
  }
  out.push('');
  out.push('CPU time per request (µs, all threads; `self` is this process: autocannon runs in it, vegeta and the native client do not):');
  out.push(`${'load generator'.padEnd(12)} ${'target'.padEnd(26)} ${'conn'.padStart(4)} ${'API'.padStart(7)} ${'enclave'.padStart(7)} ${'hello'.padStart(7)} ${'self'.padStart(7)}`);
  for (const p of sorted) {
    const c = p.cpuUsPerRequest ?? {};
    const target = p.target === 'native' ? 'stamped sign_digest (socket)' : p.target === 'hello' ? 'hello-world GET /' : `sign POST ${r.signRoute}`;
    out.push(`${p.tool.padEnd(12)} ${target.slice(0, 26).padEnd(26)} ${String(p.connections).padStart(4)} ${fmt(c.api).padStart(7)} ${fmt(c.enclave).padStart(7)} ${fmt(c.hello).padStart(7)} ${fmt(c.self).padStart(7)}`);
  }
  out.push('');
  out.push(`${'check'.padEnd(58)} ${'ratio'.padStart(6)} ${'target'.padStart(7)}  verdict  detail`);
  out.push(`${'-'.repeat(58)} ${'-'.repeat(6)} ${'-'.repeat(7)}  -------  ------`);
  for (const c of r.checks) {
    out.push(`${`${c.tool}: ${c.name}`.padEnd(58)} ${fmt(c.value, 2).padStart(6)} ${`${c.le ? '<=' : '>='} ${c.target}`.padStart(7)}  ${(c.pass ? 'PASS' : 'FAIL').padEnd(7)}  ${c.detail}`);
  }
  out.push('');
  out.push(r.broken ? 'BROKEN: sign requests failed; the numbers above are not valid' : r.checks.every((c) => c.pass) ? 'PASS: all targets met' : `FAIL: ${r.checks.filter((c) => !c.pass).length} of ${r.checks.length} checks missed (benchmarks report, they do not gate)`);
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(`[api-load] run broken: ${e.stack ?? e.message}`);
  process.exit(1);
});
