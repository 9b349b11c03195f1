/**
 * Vitest configuration of the conformance suite (native N-API build, WASM build,
 * and the browser verifier `@sentinel/verify-wasm` for the attestation tests).
 *
 * `root` is pinned to this directory, so the suite behaves the same whether it
 * is started as `cd test && npx vitest run`, `npx vitest run --root test` or
 * `npx vitest run --config test/vitest.config.ts` from the repository root.
 * Besides the default console reporter, a JSON report is written to
 * `test/.vitest-report.json` (read by scripts/test-summary.mjs, which counts
 * `numPassedTests` / `numFailedTests`).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const testDir = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: testDir,
  test: {
    root: testDir,
    // Relative to `root` (= test/): the files under test/conformance/.
    include: ['conformance/**/*.test.ts'],
    environment: 'node',
    // The vector loops (896 x 4 transactions, ~1200 Wycheproof cases) run in a
    // single `it` per build; the WASM build is slower than the native one.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: fileURLToPath(new URL('./.vitest-report.json', import.meta.url)) }]],
  },
});
