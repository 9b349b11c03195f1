#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium, run headless) and a font, which the
# browser checker's end-to-end test (host/test/checker-e2e.test.ts) drives
# through playwright-core. Idempotent: does nothing when it is already there.
# Runs `apt-get update` only when the install from the current lists fails.
set -euo pipefail
log() { echo "[install-chromium] $*" >&2; }

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "ERROR: /usr/bin/chromium is missing and apt-get is not available: install Debian's chromium package by hand"
  exit 1
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
log "installing chromium (apt-get)"
if ! "${SUDO[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core >&2; then
  log "install failed: updating the package lists and retrying"
  "${SUDO[@]}" apt-get update >&2
  "${SUDO[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core >&2
fi
if [ ! -x /usr/bin/chromium ]; then
  log "ERROR: chromium installed but /usr/bin/chromium is missing"
  exit 1
fi
log "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
