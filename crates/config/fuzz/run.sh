#!/usr/bin/env bash
# Fuzzes the configuration, signed envelope and stamp decoders for a bounded time each.
#   bash crates/config/fuzz/run.sh [SECONDS] [TARGET...]   (default 60, all three)
# Targets:
#   decode_config         bytes as a document (and as its JSON form when UTF-8)
#   decode_signed_config  bytes as an envelope: boot rule, update rule, display
#   decode_stamp          bytes as a stamp, then verified against the dev configuration
# Seeds: the worked example of docs/configuration.md (document, envelope, stamp).
# Toolchain handling lives in scripts/fuzz-target.sh.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(decode_config decode_signed_config decode_stamp)

# The hex blocks after the `generated:` markers of the docs, as binary seeds.
seed() {
  awk -v m="<!-- generated:$1 -->" '$0==m{f=1;next} f&&/^```text/{next} f&&/^```/{exit} f{printf "%s",$0}' \
    ../../../docs/configuration.md | xxd -r -p > "$2"
}

for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target"
  case "$target" in
    decode_config) seed example-cbor "corpus/$target/example.cbor"; max_len=4096 ;;
    decode_signed_config) seed example-envelope "corpus/$target/example.cbor"; max_len=4096 ;;
    # The target's first byte picks the op (0: list_keys, the stamp's own).
    decode_stamp) { printf '\x00'; seed example-stamp-cbor /dev/stdout; } > "corpus/$target/example.cbor"; max_len=600 ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  bash ../../../scripts/fuzz-target.sh . "$target" "$SECONDS_TO_RUN" "$max_len"
done
