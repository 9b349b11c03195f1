# syntax=docker/dockerfile:1.7
#
# Reproducible build of the Sentinel enclave program and the image nitro-cli
# turns into an EIF. Status: this cannot run on the development machines (no
# Docker engine, no registry access for base images); it is kept consistent
# with the local build (`scripts/build.sh` builds the same crate with the same
# lockfile; only the feature set differs: `hardware` here, `simulator` there; the two
# are exclusive, a compile_error! in enclave/src/lib.rs). The image holds the enclave
# binary only: the parent-instance proxy (`proxy/`, sentinel-proxy) is copied for
# the workspace manifest alone and never built here.
#
#   scripts/build-eif.sh   # = docker build (this file) + nitro-cli build-enclave + PCRs to eif/pcrs.json
#
# The Rust image carries exactly the toolchain rust-toolchain.toml pins (1.95.0), and the
# build runs the one production build command, scripts/build-enclave-release.sh, which
# the local reproducibility check (scripts/repro-check.sh, run by CI) and
# `zcp build verify` run too; `zcp build pins` (and a host test) fail when this file,
# rust-toolchain.toml and eif/images.env disagree.
#
# Base images are pinned by digest in eif/images.env (a tag can be re-pushed, a digest
# cannot); scripts/build-eif.sh passes those values and refuses any image that is not
# pinned by digest. The development machines have no registry access, so the 1.95.0
# image's digest has not been resolved here: run scripts/pin-images.sh once on a machine
# with registry access (it rewrites eif/images.env) before the first EIF build.
#   rust:1.95.0-slim-bookworm, gcr.io/distroless/static-debian12 (the binary is static musl)

ARG RUST_IMAGE=docker.io/library/rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12@sha256:f2ff10a709b0fd153997059b698ada702e4870745b6077eff03a5f4850ca91b6

# --- 1. fetch: the only stage with network access ---------------------------
FROM ${RUST_IMAGE} AS fetch
# musl-gcc compiles libsecp256k1's C for the static musl binary (as on the build machines).
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY rust-toolchain.toml Cargo.toml Cargo.lock rustfmt.toml ./
COPY crates ./crates
COPY enclave ./enclave
COPY proxy ./proxy
COPY bindings ./bindings
COPY scripts/build-enclave-release.sh ./scripts/
RUN rustup target add x86_64-unknown-linux-musl \
 && cargo fetch --locked --target x86_64-unknown-linux-musl

# --- 2. build: offline, locked, deterministic ------------------------------
FROM fetch AS build
ENV CARGO_NET_OFFLINE=true
# Production features only (the real /dev/nsm and vsock); the script remaps every path
# and writes /out/build-record.json next to /out/sentinel-enclave.
RUN bash scripts/build-enclave-release.sh /out \
 && sha256sum /out/sentinel-enclave > /out/sentinel-enclave.sha256

# --- 3. enclave: the root filesystem nitro-cli measures (PCR2) --------------
FROM ${RUNTIME_IMAGE} AS enclave
COPY --from=build /out/sentinel-enclave /sentinel-enclave
# vsock port 5000: the parent's sidecar connects to (enclave CID, 5000).
ENTRYPOINT ["/sentinel-enclave", "--vsock-port", "5000", "--nsm", "hardware"]

# --- 4. artifact: just the binary and its hash, for `docker build --output` --
FROM scratch AS artifact
COPY --from=build /out/ /
