#!/usr/bin/env bash
# Runs every fuzz target for a bounded time each: bash scripts/fuzz.sh [SECONDS] (default 60).
# Targets: attestation document decoder and certificate chain (crates/attestation/fuzz),
# host -> enclave frame decoder (crates/protocol/fuzz), unsigned and signed transaction
# decoders (crates/eth/fuzz), configuration / signed envelope / stamp decoders (crates/config/fuzz),
# receipts (crates/evidence/fuzz), session authentication and transport frames (crates/session/fuzz),
# signed oversight commands (crates/oversight/fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
bash crates/attestation/fuzz/run.sh "$secs" decode_document verify_chain
bash crates/protocol/fuzz/run.sh "$secs"
bash crates/eth/fuzz/run.sh "$secs"
bash crates/config/fuzz/run.sh "$secs"
bash crates/evidence/fuzz/run.sh "$secs"
bash crates/session/fuzz/run.sh "$secs"
bash crates/oversight/fuzz/run.sh "$secs"
bash crates/audit/fuzz/run.sh "$secs"
