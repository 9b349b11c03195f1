#!/usr/bin/env bash
# Builds what the demo and the tests load: npm dependencies, the N-API addon
# and the WASM package. Safe to run repeatedly: npm installs only when the
# lockfile changed, cargo recompiles only what changed, and the WASM tools are
# installed once. Installs missing toolchains itself (fresh machine, CI).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { echo "[build] $*" >&2; }

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate pinned in bindings/wasm/Cargo.toml
WASM_PACK_VERSION=0.15.1

# --- npm dependencies --------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >&2; else npm install --no-audit --no-fund >&2; fi
fi

# --- native (N-API) addon ----------------------------------------------------
log "building N-API addon (bindings/node)"
(cd bindings/node && npx napi build --platform --release --js index.js --dts index.d.ts >&2)

# --- enclave program (local mode: with the NSM simulator) ---------------------
log "building the enclave program (target/release/sentinel-enclave, feature simulator)"
cargo build --release --quiet -p sentinel-enclave --features simulator >&2

# --- WASM package ------------------------------------------------------------
cargo_install() { # name version
  if ! cargo install --locked --quiet "$1" --version "$2" >&2; then
    # A locked dependency can be missing from the registry mirror; fall back to resolving.
    log "locked install of $1 failed; retrying without --locked"
    cargo install --quiet "$1" --version "$2" >&2
  fi
}
if ! command -v wasm-bindgen >/dev/null 2>&1 || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
fi
if ! command -v wasm-pack >/dev/null 2>&1 || [ "$(wasm-pack --version | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  log "installing wasm-pack $WASM_PACK_VERSION"
  cargo_install wasm-pack "$WASM_PACK_VERSION"
fi
WASM_CARGO=$(bash scripts/setup-wasm-toolchain.sh | tail -n 1)

wasm_env=(env CARGO_TARGET_DIR="$ROOT/target/wasm")
if [ "$WASM_CARGO" = "/usr/bin/cargo" ]; then
  # Debian's rustc-web toolchain, found first on PATH so wasm-pack's `cargo` is it.
  wasm_env+=(PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc)
fi
# libsecp256k1's C code is compiled for wasm32 by clang; its bundled mini
# sysroot lacks a memmove declaration, which clang >= 16 treats as an error.
wasm_env+=(CC_wasm32_unknown_unknown=clang-22 AR_wasm32_unknown_unknown=llvm-ar-22
  CFLAGS_wasm32_unknown_unknown="-Dmemmove=__builtin_memmove")

for target in nodejs:pkg web:web; do
  log "building WASM package (wasm-pack --target ${target%%:*})"
  "${wasm_env[@]}" wasm-pack --quiet build bindings/wasm --release --no-pack \
    --target "${target%%:*}" --out-dir "${target##*:}" --out-name sentinel_wasm >&2
  rm -f "bindings/wasm/${target##*:}/.gitignore"
  log "building the browser verifier package (bindings/wasm-verify, --target ${target%%:*}, size profile)"
  "${wasm_env[@]}" wasm-pack --quiet build bindings/wasm-verify --profile wasm-size --no-pack \
    --target "${target%%:*}" --out-dir "${target##*:}" --out-name sentinel_verify_wasm >&2
  rm -f "bindings/wasm-verify/${target##*:}/.gitignore"
  # Symbol names are only for debugging; browsers download every byte. (Stripping in
  # cargo instead would also drop the section wasm-bindgen reads the wasm features from.)
  llvm-objcopy-22 --remove-section=name --remove-section=producers \
    "bindings/wasm-verify/${target##*:}/sentinel_verify_wasm_bg.wasm"
done
log "done"
