#!/usr/bin/env bash
# Installs moto's S3-compatible server (PyPI `moto[server]`, pinned) into a venv under
# ~/.cache/sentinel/moto-venv, for the audit WORM sink's test (host/test/audit-s3.test.ts), which
# starts `moto_server` on a free loopback port. Prints the path of `moto_server` on stdout (logs go
# to stderr). Idempotent and fast when already there: a stamp file in the venv records the pinned
# version, and a venv with the right stamp and a working moto_server is reused as is. Installs
# Debian's python3-venv (apt-get) only when `python3 -m venv` cannot make a venv with pip.
set -euo pipefail
log() { echo "[install-moto] $*" >&2; }

MOTO_VERSION=5.2.6
VENV="${SENTINEL_MOTO_VENV:-$HOME/.cache/sentinel/moto-venv}"
STAMP="$VENV/.sentinel-moto-version"
SERVER="$VENV/bin/moto_server"

if [ -x "$SERVER" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$MOTO_VERSION" ]; then
  echo "$SERVER"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  log "ERROR: python3 is missing: install Debian's python3 and python3-venv"
  exit 1
fi
# Debian splits `venv`'s pip bootstrap (ensurepip) into python3-venv; without it `python3 -m venv`
# fails half-way, so check for both modules before making the venv.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "ERROR: python3 has no venv/ensurepip module and apt-get is not available: install python3-venv by hand"
    exit 1
  fi
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "installing python3-venv (apt-get)"
  if ! "${SUDO[@]}" apt-get install -y --no-install-recommends python3-venv >&2; then
    log "install failed: updating the package lists and retrying"
    "${SUDO[@]}" apt-get update >&2
    "${SUDO[@]}" apt-get install -y --no-install-recommends python3-venv >&2
  fi
fi

# A venv left half-made (interrupted install, other moto version) is rebuilt from scratch rather
# than patched, so what runs is always exactly the pinned install. Only a venv is ever removed.
if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
  log "ERROR: $VENV exists and is not a Python venv (no pyvenv.cfg): not replacing it"
  exit 1
fi
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
log "creating $VENV ($(python3 --version 2>&1))"
python3 -m venv "$VENV"
log "installing moto[server]==$MOTO_VERSION (pip)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "moto[server]==$MOTO_VERSION" >&2
if [ ! -x "$SERVER" ]; then
  log "ERROR: moto[server]==$MOTO_VERSION installed but $SERVER is missing"
  exit 1
fi
# The stamp is written last: it marks a complete install.
echo "$MOTO_VERSION" >"$STAMP"
log "installed moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)')"
echo "$SERVER"
