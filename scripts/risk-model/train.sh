#!/usr/bin/env bash
# Trains the risk model: installs the pinned packages of requirements.txt into a
# venv in the project's cache, then runs train.py, which writes
# models/risk-v1.onnx and models/risk-v1.json.
#
#   bash scripts/risk-model/train.sh           train and write the model and its card
#   bash scripts/risk-model/train.sh --check   train twice (into temporary directories) and
#                                              check both runs wrote the same bytes as models/
#
# The venv: ${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/risk-model-venv (python3 >= 3.11),
# rebuilt when requirements.txt changes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/risk-model-venv"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"

if [[ ! -x "$VENV/bin/python" || ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
  echo "train.sh: installing $HERE/requirements.txt into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$HERE/requirements.txt"
  "$VENV/bin/pip" check >&2
  echo "$WANT" > "$STAMP"
fi

export PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

if [[ "${1:-}" == "--check" ]]; then
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  for run in 1 2; do
    "$VENV/bin/python" "$HERE/train.py" --out-dir "$TMP/run$run" >&2
  done
  status=0
  for f in risk-v1.onnx risk-v1.json; do
    a="$(sha256sum "$TMP/run1/$f" | cut -d' ' -f1)"
    b="$(sha256sum "$TMP/run2/$f" | cut -d' ' -f1)"
    c="$(sha256sum "$ROOT/models/$f" 2>/dev/null | cut -d' ' -f1 || true)"
    echo "$f run1=$a run2=$b committed=${c:-missing}"
    if [[ "$a" != "$b" || "$a" != "$c" ]]; then status=1; fi
  done
  if [[ $status -ne 0 ]]; then echo "train.sh --check: outputs differ" >&2; fi
  exit $status
fi

exec "$VENV/bin/python" "$HERE/train.py" --out-dir "$ROOT/models" "$@"
