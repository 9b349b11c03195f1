#!/usr/bin/env bash
# The README's test command (`npm test`): builds what is needed, then runs
# every Rust test, the TypeScript typecheck, the JS conformance suite against
# the native and WASM builds, and the host tests. Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[test] $*" >&2; }
mkdir -p .build-stamps

bash scripts/build.sh

log "cargo test (Rust core)"
cargo test --workspace --exclude sentinel-node --exclude sentinel-wasm --all-features 2>&1 | tee .build-stamps/cargo-test.log

log "typecheck (tsc)"
npx tsc -p tsconfig.json

log "conformance suite (vitest: native + wasm)"
(cd test && npx vitest run)

log "host tests (vitest)"
(cd host && npx vitest run)

node scripts/test-summary.mjs
