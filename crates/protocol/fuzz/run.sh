#!/usr/bin/env bash
# Fuzzes the host -> enclave frame decoder for a bounded time.
#   bash crates/protocol/fuzz/run.sh [SECONDS]   (default 60)
# Toolchain handling lives in scripts/fuzz-target.sh.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-60}
# Seed corpus: two well-formed frames, ping and describe (chunk-size byte first, see the target).
mkdir -p corpus/decode_frame
printf '\x07\x00\x00\x00\x0f\xa3\x61\x76\x01\x62\x69\x64\x01\x62\x6f\x70\x64\x70\x69\x6e\x67' > corpus/decode_frame/ping-no-payload
printf '\x40\x00\x00\x00\x13\xa3\x61\x76\x01\x62\x69\x64\x02\x62\x6f\x70\x68\x64\x65\x73\x63\x72\x69\x62\x65' > corpus/decode_frame/describe

bash ../../../scripts/fuzz-target.sh . decode_frame "$SECONDS_TO_RUN" 4096
