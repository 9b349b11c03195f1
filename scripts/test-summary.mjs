// Prints one closing line for CI, "tests: N passed, M failed", summed over
// cargo's "test result:" lines and the vitest JSON reports of this run.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
const cargoLog = '.build-stamps/cargo-test.log';
if (existsSync(cargoLog)) {
  for (const m of readFileSync(cargoLog, 'utf8').matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
}
for (const report of ['test/.vitest-report.json', 'host/.vitest-report.json']) {
  if (!existsSync(report)) continue;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
