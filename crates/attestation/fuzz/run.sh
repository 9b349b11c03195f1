#!/usr/bin/env bash
# Fuzzes the attestation document decoder for a bounded time.
#   bash crates/attestation/fuzz/run.sh [SECONDS]   (default 60)
# cargo-fuzz needs a nightly toolchain (for -Zsanitizer); the script uses
# `rustup`'s nightly when installed, else falls back to stable with
# RUSTC_BOOTSTRAP=1 and no sanitizer (`--sanitizer none`), which still finds
# panics, hangs and OOMs but not memory errors (the crate forbids unsafe code).
# The corpus is seeded with the real documents of test/vectors/nitro/.
# Tried here: cargo-fuzz 0.13.1 + nightly 1.97 (ASan): ~133k runs in 30 s, no
# finding; `RUSTC_BOOTSTRAP=1 cargo +stable fuzz run --sanitizer none
# decode_document`: ~297k runs in 10 s, no finding.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-60}
CARGO_FUZZ_VERSION=0.13.1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION" >&2 \
    || cargo install --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION" >&2
fi

if rustup run nightly rustc --version >/dev/null 2>&1; then
  FUZZ=(cargo +nightly fuzz)
  SANITIZER=()
else
  echo "[fuzz] no nightly toolchain: stable + RUSTC_BOOTSTRAP=1, no sanitizer" >&2
  export RUSTC_BOOTSTRAP=1
  FUZZ=(cargo fuzz)
  SANITIZER=(--sanitizer none)
fi

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

"${FUZZ[@]}" run "${SANITIZER[@]}" decode_document corpus/decode_document -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=17000 -rss_limit_mb=2048 -timeout=10
