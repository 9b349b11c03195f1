#!/usr/bin/env bash
# Builds the enclave image with EIF.Dockerfile, turns it into an EIF with
# nitro-cli and writes the measurements (PCR0/1/2) to eif/pcrs.json.
# Needs: a Docker engine, nitro-cli (aws-nitro-enclaves-cli), pinned images in
# eif/images.env. None of these exist on the development machines; see README.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
. eif/images.env
for image in "$RUST_IMAGE" "$RUNTIME_IMAGE"; do
  case "$image" in
    *@sha256:*) ;;
    *) echo "refusing to build: $image is not pinned by digest (run scripts/pin-images.sh)" >&2; exit 1 ;;
  esac
done
epoch=$(git log -1 --format=%ct)
tag="sentinel-enclave:$(git rev-parse --short=12 HEAD)"
docker build -f EIF.Dockerfile --target enclave \
  --build-arg RUST_IMAGE="$RUST_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
  --build-arg SOURCE_DATE_EPOCH="$epoch" -t "$tag" .
mkdir -p eif/out
nitro-cli build-enclave --docker-uri "$tag" --output-file eif/out/sentinel.eif > eif/out/build.json
# nitro-cli prints {"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": ..., "PCR1": ..., "PCR2": ...}}
node -e '
  const m = JSON.parse(require("fs").readFileSync("eif/out/build.json", "utf8")).Measurements;
  const pcrs = { PCR0: m.PCR0, PCR1: m.PCR1, PCR2: m.PCR2 };
  require("fs").writeFileSync("eif/pcrs.json", JSON.stringify(pcrs, null, 2) + "\n");
  console.log(pcrs);'
echo "EIF: eif/out/sentinel.eif; clients pin PCR0 from eif/pcrs.json (zcp verify --pcr0 ...)"
