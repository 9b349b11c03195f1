// Host <-> enclave round trip over the Unix socket, twice in one run: with
// default scheduling (client and enclave on different vCPUs) and with both
// pinned to one core (`taskset -c 0`), which is how to read the transport's
// own cost on a VM where a cross-vCPU wake-up costs tens of microseconds.
// Runs `cargo bench -p sentinel-enclave --no-default-features --features simulator --bench rtt`
// (enclave/benches/rtt.rs; the simulator feature set, as in local mode).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const env = { ...process.env, BENCH_ITERATIONS: quick ? '3000' : '20000' };

const build = spawnSync('cargo', ['bench', '-p', 'sentinel-enclave', '--no-default-features', '--features', 'simulator', '--bench', 'rtt', '--no-run', '--message-format=json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (build.status !== 0) throw new Error('cargo bench --no-run failed');
const exe = build.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((m) => m.reason === 'compiler-artifact' && m.target?.name === 'rtt' && m.executable)?.executable;
if (!exe) throw new Error('rtt bench executable not found');

const results = {};
for (const [label, cmd, args] of [
  ['default scheduling', exe, []],
  ['pinned to one core (taskset -c 0)', 'taskset', ['-c', '0', exe]],
]) {
  const run = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`${label}: bench exited ${run.status}`);
  const lines = run.stdout.trim().split('\n');
  results[label] = JSON.parse(lines.pop());
  console.log(`\n== ${label}`);
  console.log(lines.join('\n'));
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
