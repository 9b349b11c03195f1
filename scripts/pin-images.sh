#!/usr/bin/env bash
# Resolves the tags in eif/images.env to digests (needs registry access and
# `docker buildx`), rewriting each line as NAME=image:tag@sha256:...
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp)
while IFS= read -r line; do
  case "$line" in
    \#* | "") echo "$line" ;;
    *=*)
      name=${line%%=*}; ref=${line#*=}; ref=${ref%%@*}
      digest=$(docker buildx imagetools inspect "$ref" --format '{{json .Manifest}}' | sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' | head -n 1)
      [ -n "$digest" ] || { echo "cannot resolve $ref" >&2; exit 1; }
      echo "$name=$ref@$digest" ;;
  esac
done < eif/images.env > "$tmp"
mv "$tmp" eif/images.env
cat eif/images.env
