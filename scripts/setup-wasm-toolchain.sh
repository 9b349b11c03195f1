#!/usr/bin/env bash
# Makes `wasm32-unknown-unknown` buildable on this machine, idempotently.
#
# rustup here ships only the host target and cannot download more. Debian's
# rustc-web (1.96) knows the wasm32 target but ships no precompiled std for it,
# so we build std once with -Zbuild-std and install the rlibs into its sysroot.
# Prints the cargo to use for wasm builds on stdout's last line.
set -euo pipefail

log() { echo "[setup-wasm] $*" >&2; }

if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "rustup already has wasm32-unknown-unknown"
  echo "cargo"
  exit 0
fi

SYSROOT_LIB=/usr/lib/rustlib/wasm32-unknown-unknown/lib
need_apt=()
[ -x /usr/bin/rustc ] && /usr/bin/rustc --version 2>/dev/null | grep -q '1\.9[6-9]\|1\.[1-9][0-9][0-9]' || need_apt+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need_apt+=(rust-web-src)
command -v wasm-ld-22 >/dev/null 2>&1 || need_apt+=(lld-22)
command -v clang-22 >/dev/null 2>&1 || need_apt+=(clang-22)
command -v llvm-ar-22 >/dev/null 2>&1 || need_apt+=(llvm-22)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >&2
fi

# Bump when the recipe below changes, so machines that built an older std rebuild it.
STD_RECIPE=sentinel-std-v2
if [ -f "$SYSROOT_LIB/.$STD_RECIPE" ] && ls "$SYSROOT_LIB"/libstd-*.rlib >/dev/null 2>&1; then
  log "wasm32 std already installed in $SYSROOT_LIB"
  echo "/usr/bin/cargo"
  exit 0
fi

log "building std for wasm32-unknown-unknown (one time, a few minutes)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
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
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO mkdir -p "$SYSROOT_LIB"
$SUDO rm -f "$SYSROOT_LIB"/lib*.rlib
# The scratch crate's own rlib is not part of std.
for f in "$deps"/lib*.rlib; do
  case "$(basename "$f")" in libwasm_std_bootstrap-*) continue ;; esac
  $SUDO cp "$f" "$SYSROOT_LIB/"
done
$SUDO touch "$SYSROOT_LIB/.$STD_RECIPE"
log "installed $(ls "$SYSROOT_LIB" | wc -l) rlibs into $SYSROOT_LIB"
echo "/usr/bin/cargo"
