#!/usr/bin/env bash
# Fuzzes the attestation verifier for a bounded time each target.
#   bash crates/attestation/fuzz/run.sh [SECONDS] [TARGET...]   (default 60, both targets)
# Targets:
#   decode_document  arbitrary bytes as a whole document (seeds: the real documents)
#   verify_chain     DER pieces as cabundle[1..] + leaf under the real AWS root
#                    (seeds: seeds/verify_chain/, the real chains; tests/fuzz_seeds.rs
#                    checks they still equal the vectors' chains)
# Toolchain handling (nightly + ASan, or stable + RUSTC_BOOTSTRAP=1 without a
# sanitizer) lives in scripts/fuzz-target.sh.
# Tried here: cargo-fuzz 0.13.1 + nightly 1.97 (ASan): ~133k runs in 30 s, no
# finding; `RUSTC_BOOTSTRAP=1 cargo +stable fuzz run --sanitizer none
# decode_document`: ~297k runs in 10 s, no finding. verify_chain (cargo-fuzz
# 0.13.1 + nightly, ASan): ~40k runs in 30 s (each valid prefix costs ECDSA
# P-384 verifications), coverage 2217 -> 3049, no finding; decode_document
# after the coset change: ~70k runs in 15 s, no finding.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(decode_document verify_chain)

for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target"
  case "$target" in
    decode_document)
      # Seed corpus: the real documents (raw CBOR; base64 ones decoded).
      VECTORS=../../../test/vectors/nitro
      for f in "$VECTORS"/*attestation* "$VECTORS"/*.bin "$VECTORS"/*-bytes; do
        [ -f "$f" ] || continue
        case "$f" in
          *base64* | *eternis*) base64 -d "$f" > "corpus/$target/$(basename "$f").cbor" 2>/dev/null || true ;;
          *) cp "$f" "corpus/$target/" ;;
        esac
      done
      max_len=17000 ;;
    verify_chain)
      cp seeds/verify_chain/*.der "corpus/$target/"
      # cabundle entries are at most 1024 bytes each, 7 of them besides the root.
      max_len=8192 ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  bash ../../../scripts/fuzz-target.sh . "$target" "$SECONDS_TO_RUN" "$max_len"
done
