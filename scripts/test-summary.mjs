// Prints one closing line for CI, "tests: N passed, M failed", summed over
// this run's cargo logs and vitest JSON reports, and fails (exit 1) when a
// suite did not run completely:
//   - a cargo log of one of the feature sets scripts/test.sh runs is missing,
//     or has no "test result:" line, or one of its required test targets did
//     not run (e.g. the simulator-only enclave tests, which `required-features`
//     would otherwise skip silently);
//   - a vitest report is missing, counted zero tests, or has skipped / todo /
//     pending tests (a skipped conformance test is a build that was not checked).
// cargo's `#[ignore]` tests are deliberate opt-ins (e.g. exhaustive runs) and
// are listed, not failed. scripts/test.sh deletes the previous run's logs and
// reports first, so nothing stale is counted.
import { existsSync, readFileSync } from 'node:fs';

/** Each cargo log scripts/test.sh writes, and the test targets that must have passed tests in it. */
const CARGO_LOGS = [
  { log: '.build-stamps/cargo-test-default.log', what: 'cargo test, default features (enclave: hardware)', targets: ['tests/proxy.rs', 'tests/interop_go.rs', 'tests/interop.rs', 'tests/rules.rs', 'tests/concurrency.rs', 'tests/risk.rs', 'tests/request.rs', 'tests/document.rs', 'tests/report.rs', 'tests/pcr.rs', 'tests/ramdisk.rs', 'tests/rfc6962.rs', 'tests/seal.rs', 'tests/moto.rs'] },
  {
    log: '.build-stamps/cargo-test-enclave-simulator.log',
    what: 'cargo test -p sentinel-enclave, feature set simulator',
    targets: ['tests/server.rs', 'tests/limits.rs', 'tests/hostile_host.rs', 'tests/policy.rs', 'tests/oversight.rs', 'tests/audit.rs', 'tests/audit_resume.rs', 'tests/strict_sessions.rs', 'tests/sealing.rs', 'tests/forwarding.rs', 'tests/kms_sealing.rs', 'tests/receipt_storage.rs', 'tests/snapshot.rs'],
  },
  { log: '.build-stamps/cargo-test-nsm-simulator.log', what: 'cargo test -p sentinel-nsm, feature simulator', targets: [] },
];
const VITEST_REPORTS = [
  { report: 'test/.vitest-report.json', what: 'conformance suite (test/)' },
  { report: 'host/.vitest-report.json', what: 'host tests (host/)' },
];

let passed = 0;
let failed = 0;
let ignored = 0;
const problems = [];

/** Splits a cargo test log into its targets: `Running tests/x.rs (...)` / `Doc-tests x` -> counts. */
function cargoTargets(text) {
  const targets = [];
  let current = null;
  for (const line of text.split('\n')) {
    const start = line.match(/^\s+(?:Running (\S+)|Doc-tests (\S+))/);
    if (start) {
      current = { name: start[1] ?? `doc-tests ${start[2]}`, results: [] };
      targets.push(current);
      continue;
    }
    const m = line.match(/test result: (\w+)\. (\d+) passed; (\d+) failed; (\d+) ignored/);
    if (m && !current) targets.push((current = { name: '(before any target line)', results: [] }));
    if (m) current.results.push({ ok: m[1] === 'ok', passed: +m[2], failed: +m[3], ignored: +m[4] });
  }
  return targets;
}

for (const { log, what, targets: required } of CARGO_LOGS) {
  if (!existsSync(log)) {
    problems.push(`${what}: did not run (${log} missing)`);
    continue;
  }
  const targets = cargoTargets(readFileSync(log, 'utf8'));
  const results = targets.flatMap((t) => t.results);
  if (results.length === 0) problems.push(`${what}: no "test result:" line in ${log} (build failed or nothing ran)`);
  for (const r of results) {
    passed += r.passed;
    failed += r.failed;
    ignored += r.ignored;
  }
  for (const name of required) {
    const t = targets.find((x) => x.name === name);
    const n = t ? t.results.reduce((sum, r) => sum + r.passed, 0) : 0;
    if (!t) problems.push(`${what}: ${name} did not run (skipped by its required-features?)`);
    else if (n === 0) problems.push(`${what}: ${name} ran no test`);
  }
}

for (const { report, what } of VITEST_REPORTS) {
  if (!existsSync(report)) {
    problems.push(`${what}: did not run (${report} missing)`);
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (r.numTotalTests === 0) problems.push(`${what}: zero tests`);
  if (skipped > 0) {
    const names = (r.testResults ?? [])
      .flatMap((f) => f.assertionResults ?? [])
      .filter((a) => !['passed', 'failed'].includes(a.status))
      .map((a) => `${a.fullName ?? a.title} (${a.status})`);
    problems.push(`${what}: ${skipped} test(s) skipped or todo: ${names.slice(0, 10).join('; ')}`);
  }
  // A file that failed to load has no assertion results but fails the run.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0);
  for (const f of brokenFiles) problems.push(`${what}: ${f.name} failed to run: ${(f.message ?? '').split('\n')[0]}`);
  if (brokenFiles.length > 0) failed += brokenFiles.length;
}

for (const p of problems) console.log(`[summary] FAIL: ${p}`);
if (ignored > 0) console.log(`[summary] note: ${ignored} cargo test(s) marked #[ignore] (opt-in runs) were not run`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 && problems.length === 0 ? 0 : 1;
