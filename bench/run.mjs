// Benchmark entry point (`npm run bench` from the repo root, or `node bench/run.mjs`).
// One run measures everything the comparisons need, so every ratio comes from
// the same machine state: the raw Rust core (cargo bench), then sign and verify
// for our N-API and WASM builds, the npm secp256k1 native addon and
// @noble/curves. Flags: --quick (short CI smoke run), --json (machine-readable
// stdout, also written to bench/results/latest.json). Progress goes to stderr.
// Exit code: 0 whether targets pass or fail (benchmarks report, they do not
// gate); non-zero only when the run itself is broken (missing build,
// implementations disagreeing, Rust bench failing).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadImplementations } from './impls.mjs';
import { header, ratiosTable, resultsTable } from './format.mjs';

const require = createRequire(import.meta.url);
const Benchmark = require('benchmark');

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const FLAGS = new Set(process.argv.slice(2));
for (const f of FLAGS) {
  if (f !== '--json' && f !== '--quick') {
    console.error(`unknown flag ${f}; usage: node bench/run.mjs [--quick] [--json]`);
    process.exit(2);
  }
}
const QUICK = FLAGS.has('--quick');
const JSON_OUT = FLAGS.has('--json');
const log = (...args) => console.error(...args);

// benchmark.js options per case. It calls our closure once per iteration (no
// setup/teardown, so it does not decompile it), identical for every library.
const CASE_OPTIONS = QUICK ? { maxTime: 0.5, minSamples: 5 } : { maxTime: 2.5, minSamples: 10 };
const RUST_ITERATIONS = process.env.BENCH_ITERATIONS ?? (QUICK ? '3000' : '20000');
const RUST_PASSES = QUICK ? 1 : 3;

// ---- inputs: one key, a pool of digests so no implementation can cache -------
const POOL = 256; // power of two: index with `& MASK`
const MASK = POOL - 1;
const sha256 = (s) => new Uint8Array(createHash('sha256').update(s).digest());
const SECRET_KEY = sha256('sentinel bench secret key');
const DIGESTS = Array.from({ length: POOL }, (_, i) => sha256(`sentinel bench digest ${i}`));

// ---- raw Rust baseline --------------------------------------------------------
// The Rust bench times one pass per op, so a burst of noise lands straight in
// the baseline; a full run takes the per-field median of a few passes.
function runRustBenchOnce() {
  const res = spawnSync('cargo', ['bench', '-p', 'sentinel-signer', '--bench', 'sign'], {
    cwd: ROOT,
    env: { ...process.env, BENCH_ITERATIONS: RUST_ITERATIONS },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (res.error) throw new Error(`cannot run cargo: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`cargo bench exited with status ${res.status}`);
  const line = res.stdout.split('\n').reverse().find((l) => l.trim().startsWith('{'));
  if (!line) throw new Error(`cargo bench printed no JSON line; stdout was:\n${res.stdout}`);
  const parsed = JSON.parse(line);
  for (const k of ['rust_sign_ns', 'rust_parse_sign_ns', 'rust_verify_ns']) {
    if (!(typeof parsed[k] === 'number' && parsed[k] > 0)) throw new Error(`cargo bench JSON lacks ${k}: ${line}`);
  }
  return parsed;
}

function runRustBench() {
  log(`[bench] cargo bench -p sentinel-signer --bench sign: ${RUST_PASSES} pass(es), BENCH_ITERATIONS=${RUST_ITERATIONS}`);
  const passes = Array.from({ length: RUST_PASSES }, runRustBenchOnce);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {};
  for (const k of Object.keys(passes[0])) result[k] = median(passes.map((p) => p[k]));
  return { ...result, passes };
}

// ---- sanity: same signatures everywhere, every verify true, wrong digest false --
const hex = (b) => Buffer.from(b).toString('hex');

function sanityCheck(impls) {
  const [ref] = impls; // N-API is the reference; any disagreement aborts
  const publicKeys = impls.map((impl) => hex(impl.publicKey(SECRET_KEY)));
  publicKeys.forEach((pk, i) => {
    if (pk !== publicKeys[0]) throw new Error(`${impls[i].name} public key ${pk} != ${ref.name} ${publicKeys[0]}`);
  });
  const publicKey = ref.publicKey(SECRET_KEY);
  const signatures = DIGESTS.map((digest, n) => {
    const expected = ref.toSig(ref.sign(SECRET_KEY, digest));
    for (const impl of impls) {
      const got = impl.toSig(impl.sign(SECRET_KEY, digest));
      const recid = impl.recoveryId ? impl.recoveryId(SECRET_KEY, digest) : got.recoveryId;
      if (hex(got.signature) !== hex(expected.signature) || recid !== expected.recoveryId) {
        throw new Error(
          `signature mismatch on digest #${n} ${hex(digest)}:\n` +
            `  ${ref.name}: ${hex(expected.signature)} recid ${expected.recoveryId}\n` +
            `  ${impl.name}: ${hex(got.signature)} recid ${recid}`,
        );
      }
      if (impl.verify(publicKey, digest, expected.signature) !== true) {
        throw new Error(`${impl.name} rejected a valid signature (digest #${n})`);
      }
      const otherDigest = DIGESTS[(n + 1) & MASK];
      if (impl.verify(publicKey, otherDigest, expected.signature) !== false) {
        throw new Error(`${impl.name} accepted a signature over the wrong digest (digest #${n})`);
      }
    }
    return expected.signature;
  });
  log(`[bench] sanity: ${impls.length} implementations agree on the public key and ${POOL} signatures; verify true/false as expected`);
  return { publicKey, signatures };
}

// ---- timing -------------------------------------------------------------------
let sink; // keeps results observable so nothing is optimised away

function measure(label, fn) {
  const bench = new Benchmark(label, fn, CASE_OPTIONS);
  bench.run(); // synchronous
  if (bench.error) throw new Error(`${label}: ${bench.error.message}`);
  const result = {
    hz: bench.hz,
    meanNs: bench.stats.mean * 1e9,
    rmePct: bench.stats.rme,
    samples: bench.stats.sample.length,
  };
  log(`[bench] ${label.padEnd(32)} ${result.hz.toFixed(0).padStart(8)} ops/s ±${result.rmePct.toFixed(2)}% (${result.samples} samples)`);
  return result;
}

function signCase(impl) {
  let i = 0;
  return () => {
    sink = impl.sign(SECRET_KEY, DIGESTS[i++ & MASK]);
  };
}

function verifyCase(impl, publicKey, signatures) {
  let i = 0;
  return () => {
    const n = i++ & MASK;
    if (!impl.verify(publicKey, DIGESTS[n], signatures[n])) throw new Error(`${impl.name}: verify returned false`);
  };
}

// ---- comparisons ---------------------------------------------------------------
function compare(byKey, rust) {
  const napi = byKey.napi;
  // `a` costs `ratio` times `b`; noisy when the gap is smaller than both error margins.
  const rel = (a, b) => ({ ratio: a.meanNs / b.meanNs, withinNoise: Math.abs(a.meanNs / b.meanNs - 1) * 100 < a.rmePct + b.rmePct });
  const rows = [];
  const add = (label, { ratio, withinNoise }, target, pass) =>
    rows.push({ label, ratio, target, pass, withinNoise: pass === undefined ? undefined : withinNoise });

  const overRust = napi.sign.meanNs / rust.rust_parse_sign_ns;
  add('N-API sign time / raw Rust parse+sign time', { ratio: overRust, withinNoise: false }, '<= 1.20x', overRust <= 1.2);
  add('N-API signDigestInto time / raw Rust parse+sign time', { ratio: byKey.napiInto.sign.meanNs / rust.rust_parse_sign_ns }, undefined);
  // Parsing the 33-byte key (a square root) is part of every binding verify, so compare with that.
  const rustVerify = rust.rust_parse_verify_ns ?? rust.rust_verify_ns;
  add('N-API verify time / raw Rust parse+verify time', { ratio: napi.verify.meanNs / rustVerify }, undefined);

  const npmSign = rel(byKey.npmSecp256k1.sign, napi.sign);
  add('npm secp256k1 sign time / N-API sign time', npmSign, '> 1.00x (N-API faster)', npmSign.ratio > 1);
  add('npm secp256k1 verify time / N-API verify time', rel(byKey.npmSecp256k1.verify, napi.verify), undefined);

  const nobleSign = rel(byKey.noble.sign, napi.sign);
  const nobleVerify = rel(byKey.noble.verify, napi.verify);
  add('@noble/curves sign time / N-API sign time', nobleSign, '>= 10x', nobleSign.ratio >= 10);
  add('@noble/curves verify time / N-API verify time', nobleVerify, '>= 10x', nobleVerify.ratio >= 10);

  add('WASM sign time / N-API sign time', rel(byKey.wasm.sign, napi.sign), undefined);
  add('WASM verify time / N-API verify time', rel(byKey.wasm.verify, napi.verify), undefined);
  return rows;
}

// ---- main ------------------------------------------------------------------------
async function main() {
  const loadAtStart = os.loadavg()[0];
  const impls = await loadImplementations(); // fail fast on a missing build, before cargo runs
  const { publicKey, signatures } = sanityCheck(impls);
  const rust = runRustBench();
  for (const p of rust.passes) log(`[bench] raw Rust pass: ${JSON.stringify(p)}`);

  const byKey = {};
  for (const impl of impls) byKey[impl.key] = { name: impl.name };
  for (const impl of impls) byKey[impl.key].sign = measure(`sign   ${impl.name}`, signCase(impl));
  for (const impl of impls) byKey[impl.key].verify = measure(`verify ${impl.name}`, verifyCase(impl, publicKey, signatures));

  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpu: cpus[0]?.model ?? 'unknown',
      cores: os.availableParallelism?.() ?? cpus.length,
      // 1-minute load average before and after: other work on the machine skews everything.
      loadavg1m: { start: +loadAtStart.toFixed(2), end: +os.loadavg()[0].toFixed(2) },
    },
    caseOptions: CASE_OPTIONS,
    digestPoolSize: POOL,
    rust,
    implementations: impls.map((impl) => ({ key: impl.key, ...byKey[impl.key] })),
  };
  report.ratios = compare(byKey, rust);

  if (JSON_OUT) {
    const text = JSON.stringify(report, null, 2);
    mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
    writeFileSync(join(BENCH_DIR, 'results', 'latest.json'), `${text}\n`);
    console.log(text);
    log('[bench] wrote bench/results/latest.json');
  } else {
    console.log(`\n${header(report)}\n\n${resultsTable(report)}\n\n${ratiosTable(report.ratios)}`);
  }
  const failed = report.ratios.filter((r) => r.pass === false);
  const summary = failed.length
    ? `FAIL: ${failed.length} target(s) missed: ${failed.map((r) => r.label).join('; ')}`
    : 'PASS: all targets met';
  (JSON_OUT ? log : console.log)(`\n${summary}`);
}

main().catch((err) => {
  console.error(`\n[bench] ABORTED: ${err.message}`);
  process.exit(1);
});
