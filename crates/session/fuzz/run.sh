#!/usr/bin/env bash
# Fuzzes the session crate for a bounded time each target.
#   bash crates/session/fuzz/run.sh [SECONDS] [TARGET...]   (default 60, both targets)
# Targets:
#   open_auth  the enclave's authentication step: raw frames from a hostile relay
#              and arbitrary plaintexts sealed by a hostile client (the CBOR decoder)
#   open       a session under a hostile relay (seal / deliver / damage / drop /
#              replay / inject), checked against a model of what must open
# Toolchain handling (nightly + ASan, or stable + RUSTC_BOOTSTRAP=1 without a
# sanitizer) lives in scripts/fuzz-target.sh.
# Tried here: cargo-fuzz + nightly (ASan), 60 s each on a loaded 2-core VM:
# open_auth ~17k runs (cov 1677), open ~9k runs (cov 1402), no finding. Every
# run pays a full handshake (X25519 under ASan), hence the modest rates.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(open_auth open)

for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target"
  case "$target" in
    # An authentication map is at most 512 bytes; a few hundred operations suffice.
    open_auth) max_len=1024 ;;
    open) max_len=4096 ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  bash ../../../scripts/fuzz-target.sh . "$target" "$SECONDS_TO_RUN" "$max_len"
done
