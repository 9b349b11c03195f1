#!/usr/bin/env bash
# Fuzzes the attestation document decoder for a bounded time.
#   bash crates/attestation/fuzz/run.sh [SECONDS]   (default 60)
# Toolchain handling (nightly + ASan, or stable + RUSTC_BOOTSTRAP=1 without a
# sanitizer) lives in scripts/fuzz-target.sh.
# The corpus is seeded with the real documents of test/vectors/nitro/.
# Tried here: cargo-fuzz 0.13.1 + nightly 1.97 (ASan): ~133k runs in 30 s, no
# finding; `RUSTC_BOOTSTRAP=1 cargo +stable fuzz run --sanitizer none
# decode_document`: ~297k runs in 10 s, no finding.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-60}
# Seed corpus: the real documents (raw CBOR; base64 ones decoded).
VECTORS=../../../test/vectors/nitro
mkdir -p corpus/decode_document
for f in "$VECTORS"/*attestation* "$VECTORS"/*.bin "$VECTORS"/*-bytes; do
  [ -f "$f" ] || continue
  case "$f" in
    *base64* | *eternis*) base64 -d "$f" > "corpus/decode_document/$(basename "$f").cbor" 2>/dev/null || true ;;
    *) cp "$f" corpus/decode_document/ ;;
  esac
done

bash ../../../scripts/fuzz-target.sh . decode_document "$SECONDS_TO_RUN" 17000
