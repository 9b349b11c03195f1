#!/usr/bin/env bash
# Runs one cargo-fuzz target for a bounded time:
#   scripts/fuzz-target.sh FUZZ_DIR TARGET SECONDS MAX_LEN
# cargo-fuzz needs nightly (for -Zsanitizer): rustup's nightly is used when
# installed (AddressSanitizer on), else stable with RUSTC_BOOTSTRAP=1 and no
# sanitizer, which still finds panics, hangs and OOMs (the crates forbid unsafe).
set -euo pipefail
fuzz_dir=$1; target=$2; secs=$3; max_len=$4
CARGO_FUZZ_VERSION=0.13.1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  if ! cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION" >&2; then
    echo "[fuzz] locked install of cargo-fuzz $CARGO_FUZZ_VERSION failed; retrying without --locked" >&2
    cargo install --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION" >&2
  fi
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(cargo +nightly fuzz); sanitizer=()
else
  echo "[fuzz] no nightly toolchain: stable + RUSTC_BOOTSTRAP=1, no sanitizer" >&2
  export RUSTC_BOOTSTRAP=1; fuzz=(cargo fuzz); sanitizer=(--sanitizer none)
fi
cd "$fuzz_dir"
"${fuzz[@]}" run "${sanitizer[@]}" "$target" "corpus/$target" -- \
  -max_total_time="$secs" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10
