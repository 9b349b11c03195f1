#!/usr/bin/env bash
# Builds the enclave image (EIF) without Docker (docs/eif.md):
#   1. the production enclave binary, with scripts/build-enclave-release.sh (the one
#      production build command: EIF.Dockerfile and scripts/repro-check.sh run it too);
#   2. sentinel-eif (crates/eif) around it: deterministic ramdisks, assembled with AWS's
#      EIF library around the kernel, init and NSM driver an installed nitro-cli provides.
#
#   scripts/build-eif-nodocker.sh [--blobs DIR] [--out DIR]
#
# --blobs: nitro-cli's blobs (bzImage, cmdline, init, nsm.ko); default $NITRO_CLI_BLOBS,
#          else /usr/share/nitro_enclaves/blobs (where the aws-nitro-enclaves-cli package puts them).
# --out:   default eif/out/nodocker; receives sentinel-enclave, build-record.json,
#          sentinel.eif and pcrs.json ({"HashAlgorithm","PCR0","PCR1","PCR2"}).
# SOURCE_DATE_EPOCH (default 0) is the binary's mtime in the ramdisk, so it is part of PCR2.
#
# Exit 2 when the blobs are missing (as on the development machines): then the
# EIF is built with Docker + nitro-cli, scripts/build-eif.sh. This script never
# writes eif/pcrs.json: clients pin the PCRs of the Docker + nitro-cli build
# until the two builds are shown to agree (docs/eif.md).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[eif-nodocker] $*" >&2; }

BLOBS=${NITRO_CLI_BLOBS:-/usr/share/nitro_enclaves/blobs}
OUT=eif/out/nodocker
while [ $# -gt 0 ]; do
  case "$1" in
    --blobs) BLOBS=${2:?--blobs needs a directory}; shift 2 ;;
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    *) echo "usage: scripts/build-eif-nodocker.sh [--blobs DIR] [--out DIR]" >&2; exit 64 ;;
  esac
done

# The blobs first: without them there is nothing to assemble, and the release build takes minutes.
missing=()
for blob in bzImage cmdline init nsm.ko; do
  [ -f "$BLOBS/$blob" ] || missing+=("$blob")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "the nitro-cli blobs are missing: ${missing[*]} not found in $BLOBS."
  log "The EIF is built around AWS's enclave kernel (bzImage), its command line (cmdline), init and"
  log "NSM driver (nsm.ko), which the aws-nitro-enclaves-cli package installs in"
  log "/usr/share/nitro_enclaves/blobs/ (or pass --blobs DIR, or set NITRO_CLI_BLOBS, with copies)."
  log "Without them, build the EIF with Docker and nitro-cli instead: scripts/build-eif.sh (docs/eif.md)."
  exit 2
fi

mkdir -p "$OUT"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
log "1/2 the production enclave binary (scripts/build-enclave-release.sh $OUT)"
bash scripts/build-enclave-release.sh "$OUT"

log "2/2 the EIF (sentinel-eif build, blobs from $BLOBS)"
cargo build --locked --quiet -p sentinel-eif
TARGET_DIR=${CARGO_TARGET_DIR:-target}
"$TARGET_DIR/debug/sentinel-eif" build --binary "$OUT/sentinel-enclave" --blobs "$BLOBS" \
  --out "$OUT/sentinel.eif" --pcrs-out "$OUT/pcrs.json"
log "EIF: $OUT/sentinel.eif, measurements: $OUT/pcrs.json"
log "compare with the Docker + nitro-cli build: nitro-cli describe-eif --eif-path eif/out/sentinel.eif (docs/eif.md)"
