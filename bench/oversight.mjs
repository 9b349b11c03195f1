// The kill switch's benchmarks in one run (issue #10): `cargo bench -p sentinel-enclave --bench oversight`
//
// - the sign path with the switch green and nothing else set vs with 1,000 keys and 1,000 principals
//   halted elsewhere (every request then looks up its key and principal), and the check on its own
//   (a RwLock read plus `effective()`) as a share of the sign path: the halt check must add no
//   measurable time;
// - halt-to-effect latency under load: two threads signing back to back, a halt sent; the time until
//   it is acknowledged and until the last signature any thread received.
//
// The bench prints a JSON object as its last line; this script prints it.
// Usage: node bench/oversight.mjs [--quick]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const env = {
  ...process.env,
  BENCH_ITERATIONS: process.env.BENCH_ITERATIONS ?? (quick ? '2000' : '20000'),
  BENCH_TRIALS: process.env.BENCH_TRIALS ?? (quick ? '5' : '20'),
};
// `--profile release`: the same artifacts `scripts/build.sh` builds (no second optimised build).
const args = ['bench', '--profile', 'release', '-p', 'sentinel-enclave', '--no-default-features', '--features', 'simulator', '--bench', 'oversight'];
const r = spawnSync('cargo', args, { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
if (r.status !== 0) throw new Error(`cargo ${args.join(' ')} failed`);
process.stdout.write(r.stdout);
const last = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
console.log('\nkill switch benchmark (one run)');
console.log(JSON.stringify(last ? JSON.parse(last) : {}, null, 2));
