#!/usr/bin/env bash
# Makes `wasm32-unknown-unknown` buildable on this machine, idempotently, and
# installs the clang/LLVM tools every WASM build uses, on every path:
#   clang-22       compiles libsecp256k1's C for wasm32 (CC_wasm32_unknown_unknown)
#   llvm-ar-22     archives it (AR_wasm32_unknown_unknown); package llvm-22
#   llvm-objcopy-22 strips the browser verifier's name section; package llvm-22
#   lld-22         wasm-ld, the linker behind Debian's rust-lld
#
# Rust for wasm32: Debian's rustc-web on every machine, so every build of the
# browser verifier comes from the same pinned compiler whatever rustup happens
# to hold (rustup's wasm32 target is used only with SENTINEL_WASM_TOOLCHAIN=rustup).
# Debian's rustc-web knows the target but ships no precompiled std for it, so
# std is built once with -Zbuild-std into a sysroot the project owns, outside
# the clone so CI can cache it and nothing is written into /usr/lib:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/wasm-sysroot-<recipe>/lib/rustlib/wasm32-unknown-unknown/lib
# The recipe names the build steps' version and the exact rustc, so a new
# rustc-web or a changed recipe builds a new sysroot instead of reusing one
# that would not load. The wasm builds pass `--sysroot` for the wasm32 target
# only (CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS, see scripts/build.sh);
# build scripts and proc macros keep rustc's own sysroot.
#
# Output: the last two lines of stdout are `cargo=PATH` (the cargo to use for
# wasm builds) and `sysroot=DIR` (empty when rustup's own target is used).
set -euo pipefail

log() { echo "[setup-wasm] $*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
apt_updated=0
apt_install() {
  log "installing $*"
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}

# --- clang / LLVM tools: needed whichever Rust toolchain builds wasm32 -------
need_apt=()
command -v clang-22 >/dev/null 2>&1 || need_apt+=(clang-22)
{ command -v llvm-ar-22 >/dev/null 2>&1 && command -v llvm-objcopy-22 >/dev/null 2>&1; } || need_apt+=(llvm-22)
command -v wasm-ld-22 >/dev/null 2>&1 || need_apt+=(lld-22)
[ ${#need_apt[@]} -eq 0 ] || apt_install "${need_apt[@]}"
for tool in clang-22 llvm-ar-22 llvm-objcopy-22 wasm-ld-22; do
  command -v "$tool" >/dev/null 2>&1 || { log "ERROR: $tool is still missing after installing LLVM 22"; exit 1; }
done

# --- Rust for wasm32 ---------------------------------------------------------
# SENTINEL_WASM_TOOLCHAIN=rustup uses rustup's own wasm32 target instead (when it has one).
if [ "${SENTINEL_WASM_TOOLCHAIN:-debian}" = rustup ] && command -v rustup >/dev/null 2>&1 \
  && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "using rustup's wasm32-unknown-unknown (SENTINEL_WASM_TOOLCHAIN=rustup)"
  echo "cargo=cargo"
  echo "sysroot="
  exit 0
fi

need_apt=()
{ [ -x /usr/bin/rustc ] && /usr/bin/rustc --version 2>/dev/null | grep -q '1\.9[6-9]\|1\.[1-9][0-9][0-9]'; } || need_apt+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need_apt+=(rust-web-src)
# rust-lld (wasm32's default linker for this rustc) -> lld-22; a Recommends of rustc-web, named here
# because apt may be configured not to install recommended packages.
[ -x /usr/bin/rust-lld ] || need_apt+=(rust-web-llvm)
[ ${#need_apt[@]} -eq 0 ] || apt_install "${need_apt[@]}"

# Bump the v-number when the build steps below change.
rustc_id=$(/usr/bin/rustc -vV | awk '/^release:/ { r = $2 } /^commit-hash:/ { h = substr($2, 1, 9) } END { print r "-" h }')
RECIPE="v3-rustc-$rustc_id"
SYSROOT="${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/wasm-sysroot-$RECIPE"
SYSROOT_LIB="$SYSROOT/lib/rustlib/wasm32-unknown-unknown/lib"
if [ -f "$SYSROOT/.complete" ] && ls "$SYSROOT_LIB"/libstd-*.rlib >/dev/null 2>&1; then
  log "wasm32 std already built in $SYSROOT"
  echo "cargo=/usr/bin/cargo"
  echo "sysroot=$SYSROOT"
  exit 0
fi

log "building std for wasm32-unknown-unknown into $SYSROOT (one time, a few minutes)"
scratch=$(mktemp -d)
staging="$SYSROOT.partial.$$"
trap 'rm -rf "$scratch" "$staging"' EXIT
mkdir -p "$scratch/src"
cat > "$scratch/Cargo.toml" <<'TOML'
[package]
name = "wasm-std-bootstrap"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["rlib"]
[profile.release]
panic = "abort"
TOML
echo '' > "$scratch/src/lib.rs"
(
  cd "$scratch"
  # embed-bitcode: the release profile links with fat LTO, which needs std's bitcode too.
  RUSTFLAGS="-C embed-bitcode=yes" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --release --quiet \
    --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort >&2
)
deps="$scratch/target/wasm32-unknown-unknown/release/deps"
mkdir -p "$staging/lib/rustlib/wasm32-unknown-unknown/lib"
# The scratch crate's own rlib is not part of std.
for f in "$deps"/lib*.rlib; do
  case "$(basename "$f")" in libwasm_std_bootstrap-*) continue ;; esac
  cp "$f" "$staging/lib/rustlib/wasm32-unknown-unknown/lib/"
done
touch "$staging/.complete"
# Appears whole or not at all (a build interrupted above leaves no half sysroot).
rm -rf "$SYSROOT"
mkdir -p "$(dirname "$SYSROOT")"
mv "$staging" "$SYSROOT"
log "built $(ls "$SYSROOT_LIB" | wc -l) rlibs into $SYSROOT"
echo "cargo=/usr/bin/cargo"
echo "sysroot=$SYSROOT"
