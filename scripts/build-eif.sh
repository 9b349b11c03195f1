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
tag="sentinel-enclave:$(git rev-parse --short=12 HEAD)"
mkdir -p eif/out
# The binary and its build record (scripts/build-enclave-release.sh inside the image), then the image.
docker build -f EIF.Dockerfile --target artifact \
  --build-arg RUST_IMAGE="$RUST_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" --output eif/out .
docker build -f EIF.Dockerfile --target enclave \
  --build-arg RUST_IMAGE="$RUST_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" -t "$tag" .
nitro-cli build-enclave --docker-uri "$tag" --output-file eif/out/sentinel.eif > eif/out/build.json
# nitro-cli prints {"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": ..., "PCR1": ..., "PCR2": ...}}
node -e '
  const m = JSON.parse(require("fs").readFileSync("eif/out/build.json", "utf8")).Measurements;
  const pcrs = { PCR0: m.PCR0, PCR1: m.PCR1, PCR2: m.PCR2 };
  require("fs").writeFileSync("eif/pcrs.json", JSON.stringify(pcrs, null, 2) + "\n");
  // The build record gains the measurements: `zcp build verify --record eif/out/build-record.json`.
  const record = JSON.parse(require("fs").readFileSync("eif/out/build-record.json", "utf8"));
  record.eif = pcrs;
  require("fs").writeFileSync("eif/out/build-record.json", JSON.stringify(record, null, 2) + "\n");
  console.log(pcrs);'
echo "EIF: eif/out/sentinel.eif; clients pin PCR0 from eif/pcrs.json (zcp verify --pcr0 ...)"
