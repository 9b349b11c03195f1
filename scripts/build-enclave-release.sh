#!/usr/bin/env bash
# THE production build of the enclave program: the exact command behind the
# EIF (EIF.Dockerfile runs this script), the reproducibility check
# (scripts/repro-check.sh) and `zcp build verify`. Hardware features only
# (/dev/nsm + vsock, never the simulator), statically linked against musl,
# locked to Cargo.lock, with the toolchain rust-toolchain.toml pins.
#
#   scripts/build-enclave-release.sh OUT_DIR
#
# writes OUT_DIR/sentinel-enclave and OUT_DIR/build-record.json (toolchain,
# Cargo.lock hash, features, the binary's SHA-256; docs/reproducible-build.md).
#
# Why each setting (what made two builds differ, docs/reproducible-build.md):
# - absolute paths end up in the binary (panic locations, file!() in
#   dependencies, build-script output included from OUT_DIR, __FILE__ in
#   libsecp256k1's C): the checkout, CARGO_HOME and the target directory are
#   remapped to fixed names for rustc (--remap-path-prefix) and the C compiler
#   (-ffile-prefix-map);
# - codegen-units = 1 and thin LTO come from [profile.release];
# - no timestamps: nothing in the build reads the clock, and CARGO_INCREMENTAL=0.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[enclave-release] $*" >&2; }
PREPARE_ONLY=0
if [ "${1:-}" = --prepare ]; then PREPARE_ONLY=1; else OUT=${1:?usage: scripts/build-enclave-release.sh OUT_DIR | --prepare}; fi

TARGET=x86_64-unknown-linux-musl
FEATURES=hardware

# The pinned toolchain and its musl target (rustup installs what rust-toolchain.toml
# names on first use; the target is added explicitly for rustup versions that do not).
if command -v rustup >/dev/null 2>&1; then
  rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || rustup target add "$TARGET" >&2
fi
# libsecp256k1's C code is compiled for musl by musl-gcc (Debian musl-tools; the Dockerfile installs it too).
if ! command -v musl-gcc >/dev/null 2>&1; then
  log "installing musl-tools (musl-gcc) from Debian"
  apt-get install -y musl-tools >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y musl-tools >/dev/null; }
fi
# `--prepare`: only the installs above (scripts/repro-check.sh runs it once before two builds side by side).
[ "$PREPARE_ONLY" = 0 ] || exit 0

SRC=$(pwd -P)
mkdir -p "${CARGO_HOME:-$HOME/.cargo}"
CARGO_HOME_DIR=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)
TARGET_DIR=${CARGO_TARGET_DIR:-$SRC/target}
mkdir -p "$TARGET_DIR" "$OUT"
TARGET_DIR=$(cd "$TARGET_DIR" && pwd -P)
OUT=$(cd "$OUT" && pwd -P)

# Later remaps win in rustc, so the most specific (the target dir, possibly inside the checkout) comes last.
# CARGO_ENCODED_RUSTFLAGS (one flag per field, so paths may hold spaces) reaches only the target's
# units when --target is given: build scripts and proc macros run on the host and ship nothing.
rustflags=(--remap-path-prefix="$CARGO_HOME_DIR=/cargo" --remap-path-prefix="$SRC=/sentinel"
  --remap-path-prefix="$TARGET_DIR=/target" -C target-feature=+crt-static)
cmap="-ffile-prefix-map=$CARGO_HOME_DIR=/cargo -ffile-prefix-map=$SRC=/sentinel -ffile-prefix-map=$TARGET_DIR=/target"

build_env=(env CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$TARGET_DIR"
  SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
  CARGO_ENCODED_RUSTFLAGS="$(IFS=$'\x1f'; echo "${rustflags[*]}")"
  CC_x86_64_unknown_linux_musl=musl-gcc
  CFLAGS_x86_64_unknown_linux_musl="$cmap")
# Only scripts/repro-check.sh sets this: a dependency built alone first changes the build order.
if [ -n "${SENTINEL_RELEASE_PREBUILD:-}" ]; then
  log "building $SENTINEL_RELEASE_PREBUILD first (another build order)"
  "${build_env[@]}" cargo build --release --locked --quiet --target "$TARGET" -p "$SENTINEL_RELEASE_PREBUILD"
fi
log "cargo build --release --locked --target $TARGET -p sentinel-enclave --no-default-features --features $FEATURES"
"${build_env[@]}" \
  cargo build --release --locked --quiet --target "$TARGET" \
    -p sentinel-enclave --no-default-features --features "$FEATURES"

install -m 0555 "$TARGET_DIR/$TARGET/release/sentinel-enclave" "$OUT/sentinel-enclave"
# A fixed mtime: image layers and the EIF's ramdisk carry it, and it is measured into PCR2.
touch -d "@${SOURCE_DATE_EPOCH:-0}" "$OUT/sentinel-enclave"

# The build record (plain shell: the Docker build image has no Node.js). `zcp build verify
# --record FILE` rebuilds and compares these fields in this order.
json() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
rustc_v=$(rustc -V) cargo_v=$(cargo -V)
llvm_v=$(rustc -vV | sed -n 's/^LLVM version: //p')
cc_v=$(musl-gcc --version | head -n1)
lock_sha=$(sha256sum Cargo.lock | cut -c1-64)
toolchain_sha=$(sha256sum rust-toolchain.toml | cut -c1-64)
bin_sha=$(sha256sum "$OUT/sentinel-enclave" | cut -c1-64)
bin_size=$(stat -c %s "$OUT/sentinel-enclave")
# scripts/repro-check.sh builds from copies without .git and passes the commit it copied.
commit=${SENTINEL_SOURCE_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
dirty=${SENTINEL_SOURCE_DIRTY:-false}
if [ -z "${SENTINEL_SOURCE_COMMIT:-}" ] && [ "$commit" != unknown ] \
  && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then dirty=true; fi
cat > "$OUT/build-record.json" <<JSON
{
  "schema": "sentinel/build-record/v1",
  "rustc": "$(json "$rustc_v")",
  "cargo": "$(json "$cargo_v")",
  "llvm": "$(json "$llvm_v")",
  "cc": "$(json "$cc_v")",
  "rustToolchainTomlSha256": "$toolchain_sha",
  "cargoLockSha256": "$lock_sha",
  "package": "sentinel-enclave",
  "target": "$TARGET",
  "features": ["$FEATURES"],
  "profile": "release",
  "binary": { "name": "sentinel-enclave", "size": $bin_size, "sha256": "$bin_sha" },
  "source": { "commit": "$commit", "dirty": $dirty },
  "eif": null
}
JSON
log "$(sha256sum "$OUT/sentinel-enclave" | cut -c1-64)  $OUT/sentinel-enclave"
