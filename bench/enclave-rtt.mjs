// Host <-> enclave round trip over the Unix socket, twice in one run: with
// default scheduling (client and enclave on different vCPUs) and with both
// pinned to one core (`taskset -c 0`), which is how to read the transport's
// own cost on a VM where a cross-vCPU wake-up costs tens of microseconds.
// Each run measures, for the scheduled server and the busy-poll server: the
// session sign round trip, the "unauthenticated" round trip (a ping of the
// session frame's size + `Enclave::decide` of the same sign, in process) and
// the stamped sign with its receipt (enclave/benches/rtt.rs). Then the trust
// path's micro benchmarks (enclave/benches/micro.rs: stamp verification per
// curve, receipt signing, the session handshake).
// Runs `cargo bench -p sentinel-enclave --no-default-features --features simulator --bench rtt|micro`
// (the simulator feature set, as in local mode).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const env = { ...process.env, BENCH_ITERATIONS: process.env.BENCH_ITERATIONS ?? (quick ? '3000' : '20000') };

function benchExecutable(name) {
  const build = spawnSync('cargo', ['bench', '-p', 'sentinel-enclave', '--no-default-features', '--features', 'simulator', '--bench', name, '--profile', 'release', '--no-run', '--message-format=json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (build.status !== 0) throw new Error(`cargo bench --bench ${name} --no-run failed`);
  const exe = build.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((m) => m.reason === 'compiler-artifact' && m.target?.name === name && m.executable)?.executable;
  if (!exe) throw new Error(`${name} bench executable not found`);
  return exe;
}

const rtt = benchExecutable('rtt');
const micro = benchExecutable('micro');
const results = {};
for (const [label, cmd, args] of [
  ['default scheduling', rtt, []],
  ['pinned to one core (taskset -c 0)', 'taskset', ['-c', '0', rtt]],
  ['micro benchmarks', micro, []],
]) {
  const run = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`${label}: bench exited ${run.status}`);
  const lines = run.stdout.trim().split('\n');
  results[label] = JSON.parse(lines.pop());
  console.log(`\n== ${label}`);
  console.log(lines.join('\n'));
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
