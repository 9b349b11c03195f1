#!/usr/bin/env bash
# The README's test command (`npm test`): builds what is needed, then runs
# every Rust test (each feature set on its own), the TypeScript typecheck, the
# JS conformance suite against the native and WASM builds, and the host tests.
# Ends with one summary line, which fails if any of these suites did not run.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[test] (+${SECONDS}s) $*" >&2; }
mkdir -p .build-stamps
# Nothing from a previous run may be counted (scripts/test-summary.mjs).
rm -f .build-stamps/cargo-test*.log test/.vitest-report.json host/.vitest-report.json

bash scripts/build.sh

# moto_server before the first cargo test: crates/kms/tests/moto.rs and the S3 WORM sink's test
# (host/test/audit-s3.test.ts) start it and must not skip.
bash scripts/install-moto.sh >/dev/null; export SENTINEL_REQUIRE_MOTO=1

# Feature sets are tested one at a time, never with --all-features: the
# enclave's `hardware` and `simulator` are exclusive (a compile_error!).
log "cargo test: the workspace with default features (enclave: hardware, its unit tests; proxy)"
cargo test --workspace --exclude sentinel-node --exclude sentinel-wasm 2>&1 | tee .build-stamps/cargo-test-default.log
# The enclave's integration tests (tests/server.rs, tests/limits.rs) start it
# with the NSM simulator: `required-features = ["simulator"]`, so the run above
# skips them and this one must run them (the summary checks that it did).
log "cargo test: sentinel-enclave, feature set simulator (local mode)"
cargo test -p sentinel-enclave --no-default-features --features simulator 2>&1 \
  | tee .build-stamps/cargo-test-enclave-simulator.log
log "cargo test: sentinel-nsm with its simulator (tests that issue documents)"
cargo test -p sentinel-nsm --features simulator 2>&1 | tee .build-stamps/cargo-test-nsm-simulator.log

log "typecheck (tsc)"
npx tsc -p tsconfig.json

log "conformance suite (vitest: native + wasm)"
(cd test && npx vitest run)

log "host tests (vitest)"
bash scripts/install-chromium.sh; export SENTINEL_REQUIRE_BROWSER=1  # the checker page's e2e test (host/test/checker-e2e.test.ts) must not skip
(cd host && npx vitest run)

log "all suites ran"
node scripts/test-summary.mjs
