#!/usr/bin/env bash
# Runs every fuzz target for a bounded time each: bash scripts/fuzz.sh [SECONDS] (default 60).
# Targets: attestation document decoder, host -> enclave frame decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
bash crates/attestation/fuzz/run.sh "$secs"
bash crates/protocol/fuzz/run.sh "$secs"
