// The policy engine's benchmarks in one run (issue #9):
//
// - `cargo bench -p sentinel-policy --bench evaluate`: a six-rule policy evaluated per request,
//   excluding the model (target < 1 µs), with a counting allocator (target: 0 allocations);
// - `cargo bench -p sentinel-policy --bench risk`: the ONNX model's inference time, on its own;
// - `cargo bench -p sentinel-enclave --bench policy`: a stamped sign round trip with a five-rule
//   policy (no model) vs no policy stage at all, in the same run (target <= 1.10x).
//
// Each bench prints a JSON object as its last line; this script prints them together.
// Usage: node bench/policy.mjs [--quick]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const env = { ...process.env, BENCH_ITERATIONS: process.env.BENCH_ITERATIONS ?? (quick ? '3000' : '20000') };

function run(args) {
  // `--profile release`: the same artifacts `scripts/build.sh` builds (no second optimised build).
  const r = spawnSync('cargo', ['bench', '--profile', 'release', ...args], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`cargo bench ${args.join(' ')} failed`);
  process.stdout.write(r.stdout);
  const last = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return last ? JSON.parse(last) : {};
}

const evaluate = run(['-p', 'sentinel-policy', '--bench', 'evaluate']);
const risk = run(['-p', 'sentinel-policy', '--bench', 'risk']);
const rtt = run(['-p', 'sentinel-enclave', '--no-default-features', '--features', 'simulator', '--bench', 'policy']);
console.log('\npolicy benchmarks (one run each)');
console.log(JSON.stringify({ evaluate, risk, signRoundTrip: rtt }, null, 2));
