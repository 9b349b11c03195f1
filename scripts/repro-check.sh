#!/usr/bin/env bash
# Reproducibility check of the production enclave binary (issue #13): builds it
# twice with scripts/build-enclave-release.sh (the command the EIF build runs),
# from two checkout copies at different paths (of different lengths), with two
# different CARGO_HOMEs and target directories and in two build orders, then
# compares the SHA-256 of the two binaries. Exit 0 = identical, 1 = different
# (with the first differing offset and the sizes), 2 = a build failed.
#
#   scripts/repro-check.sh [--work DIR] [--keep] [--sequential]
#
# The two builds run side by side (about 3 GiB of memory at their peak); --sequential runs
# them one after the other.
# The copies hold the working tree's files as git sees them (tracked and
# untracked-but-not-ignored), so uncommitted changes are checked too. The
# second CARGO_HOME starts empty (crates are downloaded again), under
# ~/.cache/sentinel so a CI machine keeps it between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
log() { echo "[repro] $*" >&2; }

WORK="" KEEP=0 SEQUENTIAL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --sequential) SEQUENTIAL=1; shift ;;
    *) echo "usage: scripts/repro-check.sh [--work DIR] [--keep] [--sequential]" >&2; exit 64 ;;
  esac
done
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/sentinel-repro.XXXXXX)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd -P)
cleanup() { if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

copy_checkout() { # dest
  mkdir -p "$1"
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
    | (cd "$ROOT" && tar --null -T - -cf - 2>/dev/null) | tar -xf - -C "$1"
}

# Two paths of different lengths: path length changes every embedded path string.
A="$WORK/a/sentinel"
B="$WORK/bb/second-checkout/of/sentinel"
copy_checkout "$A"
copy_checkout "$B"

SENTINEL_SOURCE_COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
SENTINEL_SOURCE_DIRTY=false
[ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] || SENTINEL_SOURCE_DIRTY=true
export SENTINEL_SOURCE_COMMIT SENTINEL_SOURCE_DIRTY

CARGO_HOME_A=${CARGO_HOME:-$HOME/.cargo}
CARGO_HOME_B=${SENTINEL_REPRO_CARGO_HOME:-$HOME/.cache/sentinel/repro-cargo-home}
mkdir -p "$CARGO_HOME_B"

# Build 2 differs in order too: one of the enclave's dependencies is built on its own first
# (with the same flags), so units are scheduled and cached differently.
build1() {
  cd "$A" && CARGO_HOME="$CARGO_HOME_A" CARGO_TARGET_DIR="$WORK/target-1" \
    bash scripts/build-enclave-release.sh "$WORK/out-1"
}
build2() {
  cd "$B" && CARGO_HOME="$CARGO_HOME_B" CARGO_TARGET_DIR="$WORK/target-2" SENTINEL_RELEASE_PREBUILD=sentinel-signer \
    bash scripts/build-enclave-release.sh "$WORK/out-2"
}
log "build 1: $A (CARGO_HOME=$CARGO_HOME_A, target $WORK/target-1)"
log "build 2: $B (CARGO_HOME=$CARGO_HOME_B, target $WORK/target-2, sentinel-signer first)"
bash "$ROOT/scripts/build-enclave-release.sh" --prepare
start=$SECONDS
if [ "$SEQUENTIAL" = 1 ]; then
  (build1) || { log "build 1 failed"; exit 2; }
  (build2) || { log "build 2 failed"; exit 2; }
else
  # Side by side: each build ends in a long, mostly single-threaded compile of the enclave
  # crate (thin LTO over the ONNX runtime), so two at once keep both cores busy; the two
  # builds share nothing but the machine.
  (build1) > "$WORK/build-1.log" 2>&1 &
  p1=$!
  (build2) > "$WORK/build-2.log" 2>&1 &
  p2=$!
  s1=0 s2=0
  wait "$p1" || s1=$?
  wait "$p2" || s2=$?
  cat "$WORK/build-1.log" "$WORK/build-2.log" >&2
  [ "$s1" = 0 ] || { log "build 1 failed (log above)"; exit 2; }
  [ "$s2" = 0 ] || { log "build 2 failed (log above)"; exit 2; }
fi
log "both builds took $((SECONDS - start)) s"

h1=$(sha256sum "$WORK/out-1/sentinel-enclave" | cut -c1-64)
h2=$(sha256sum "$WORK/out-2/sentinel-enclave" | cut -c1-64)
s1=$(stat -c %s "$WORK/out-1/sentinel-enclave")
s2=$(stat -c %s "$WORK/out-2/sentinel-enclave")
log "build 1: $h1  ($s1 bytes)"
log "build 2: $h2  ($s2 bytes)"
if [ "$h1" = "$h2" ]; then
  log "REPRODUCIBLE: the two builds are byte-identical (sha256 $h1)"
  exit 0
fi
first=$(cmp "$WORK/out-1/sentinel-enclave" "$WORK/out-2/sentinel-enclave" 2>/dev/null | awk '{print $5}' | tr -d ,)
log "NOT REPRODUCIBLE: the binaries differ (sizes $s1 / $s2, first difference at byte ${first:-?})."
log "Strings that differ (paths are the usual cause):"
diff <(strings -n 8 "$WORK/out-1/sentinel-enclave" | sort -u) <(strings -n 8 "$WORK/out-2/sentinel-enclave" | sort -u) \
  | head -n 20 >&2 || true
log "rerun with --keep to inspect $WORK (diffoscope compares the two binaries section by section)"
exit 1
