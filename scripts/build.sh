#!/usr/bin/env bash
# Builds what the demo and the tests load: npm dependencies, the N-API addon,
# the local-mode enclave program and the WASM packages. Safe to run
# repeatedly: npm installs only when the lockfile changed, cargo recompiles
# only what changed, and the WASM tools and the wasm32 std are installed once.
# Installs missing toolchains itself (fresh machine, CI).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { echo "[build] (+${SECONDS}s) $*" >&2; }

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
# The enclave's default feature set is `hardware` (what the EIF ships); local mode
# is the `simulator` set on its own (the two are exclusive).
log "building the enclave program (target/release/sentinel-enclave, feature set simulator)"
cargo build --release --quiet -p sentinel-enclave --no-default-features --features simulator >&2

# --- WASM package ------------------------------------------------------------
# Tools are installed with `cargo install --locked` at pinned versions: the
# dependency versions their authors released and tested, never a fresh
# resolution. When a crate's own lockfile cannot be used here (wasm-bindgen-cli
# 0.2.130 locks webpki-roots 1.0.11, which the registry does not serve), the
# repository carries a reviewed lockfile, scripts/lockfiles/NAME-VERSION.Cargo.lock
# (the upstream one with the minimal change; scripts/lockfiles/README.md says which), and
# the crate is installed from its registry source with that lockfile, still
# --locked. Anything else that fails is an error, with cargo's reason: no
# silent unlocked retry.
cargo_install() { # name version
  local name=$1 version=$2 lock="$ROOT/scripts/lockfiles/$1-$2.Cargo.lock"
  if [ ! -f "$lock" ]; then
    if ! cargo install --locked --quiet "$name" --version "$version" >&2; then
      log "ERROR: \`cargo install --locked $name --version $version\` failed (reason above)."
      log "       Not retrying without --locked. Pin a version whose lockfile resolves, or add a reviewed"
      log "       lockfile as scripts/lockfiles/$name-$version.Cargo.lock (see cargo_install in this script)."
      exit 1
    fi
    return
  fi
  log "installing $name $version --locked with the reviewed lockfile scripts/lockfiles/$name-$version.Cargo.lock"
  local scratch
  scratch=$(mktemp -d)
  mkdir -p "$scratch/fetch/src"
  : > "$scratch/fetch/src/lib.rs"
  printf '[package]\nname = "fetch-%s"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = "=%s"\n[workspace]\n' \
    "$name" "$name" "$version" > "$scratch/fetch/Cargo.toml"
  # cargo metadata downloads the crate from the registry and names its unpacked source.
  local src
  src=$(cargo metadata --quiet --format-version 1 --manifest-path "$scratch/fetch/Cargo.toml" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const [n,v]=process.argv.slice(1);const p=JSON.parse(s).packages.find(p=>p.name===n&&p.version===v);if(!p)process.exit(1);console.log(require("path").dirname(p.manifest_path))})' "$name" "$version")
  cp -R "$src" "$scratch/src"
  cp "$lock" "$scratch/src/Cargo.lock"
  if ! cargo install --locked --quiet --path "$scratch/src" >&2; then
    log "ERROR: \`cargo install --locked\` of $name $version with scripts/lockfiles/$name-$version.Cargo.lock failed (reason above)."
    rm -rf "$scratch"
    exit 1
  fi
  rm -rf "$scratch"
}
if ! command -v wasm-bindgen >/dev/null 2>&1 || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
fi
if ! command -v wasm-pack >/dev/null 2>&1 || [ "$(wasm-pack --version | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  log "installing wasm-pack $WASM_PACK_VERSION"
  cargo_install wasm-pack "$WASM_PACK_VERSION"
fi
# Installs clang/LLVM 22 (always) and, unless rustup has wasm32, Debian's rustc-web
# with a wasm32 std built once into a sysroot under ~/.cache (never /usr/lib).
WASM_CARGO="" WASM_SYSROOT=""
while IFS='=' read -r key value; do
  case "$key" in cargo) WASM_CARGO=$value ;; sysroot) WASM_SYSROOT=$value ;; esac
done < <(bash scripts/setup-wasm-toolchain.sh | tail -n 2)
[ -n "$WASM_CARGO" ] || { log "ERROR: scripts/setup-wasm-toolchain.sh named no cargo"; exit 1; }

wasm_env=(env CARGO_TARGET_DIR="$ROOT/target/wasm")
if [ "$WASM_CARGO" = "/usr/bin/cargo" ]; then
  # Debian's rustc-web toolchain, found first on PATH so wasm-pack's `cargo` is it.
  wasm_env+=(PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc)
fi
if [ -n "$WASM_SYSROOT" ]; then
  # The project-built wasm32 std. Target-specific flags: wasm-pack passes
  # --target wasm32-unknown-unknown, so build scripts and proc macros (host
  # crates) keep rustc's own sysroot.
  wasm_env+=(CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--sysroot=$WASM_SYSROOT")
fi
# libsecp256k1's C code is compiled for wasm32 by clang; its bundled mini
# sysroot lacks a memmove declaration, which clang >= 16 treats as an error.
wasm_env+=(CC_wasm32_unknown_unknown=clang-22 AR_wasm32_unknown_unknown=llvm-ar-22
  CFLAGS_wasm32_unknown_unknown="-Dmemmove=__builtin_memmove")

# `--mode force` skips wasm-pack's own toolchain probe, which looks for the wasm32 std in
# rustc's default sysroot only (`rustc --target wasm32-unknown-unknown --print target-libdir`)
# and so refuses Debian's rustc-web, whose wasm32 std is the sysroot built above and passed
# with --sysroot. Nothing else is skipped that this build relies on (the crates are cdylibs;
# the toolchain is pinned by scripts/setup-wasm-toolchain.sh).
for target in nodejs:pkg web:web; do
  log "building WASM package (wasm-pack --target ${target%%:*})"
  "${wasm_env[@]}" wasm-pack --quiet build --mode force bindings/wasm --release --no-pack \
    --target "${target%%:*}" --out-dir "${target##*:}" --out-name sentinel_wasm >&2
  rm -f "bindings/wasm/${target##*:}/.gitignore"
  log "building the browser verifier package (bindings/wasm-verify, --target ${target%%:*}, size profile)"
  "${wasm_env[@]}" wasm-pack --quiet build --mode force bindings/wasm-verify --profile wasm-size --no-pack \
    --target "${target%%:*}" --out-dir "${target##*:}" --out-name sentinel_verify_wasm >&2
  rm -f "bindings/wasm-verify/${target##*:}/.gitignore"
  # Symbol names are only for debugging; browsers download every byte. (Stripping in
  # cargo instead would also drop the section wasm-bindgen reads the wasm features from.)
  llvm-objcopy-22 --remove-section=name --remove-section=producers \
    "bindings/wasm-verify/${target##*:}/sentinel_verify_wasm_bg.wasm"
done

# --- browser checker page ------------------------------------------------------
# One self-contained file (the web verifier's WASM embedded): served at /checker/, opens from file://.
log "building the browser checker page (host/checker/dist/index.html)"
node host/checker/build.mjs
log "done"
