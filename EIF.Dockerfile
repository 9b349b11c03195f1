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
# Base images are pinned by digest (a tag can be re-pushed, a digest cannot).
# The digests below were not re-resolved here (no registry access): they are
# the ones public projects pin for the same tags. scripts/pin-images.sh
# refreshes eif/images.env from the registry; scripts/build-eif.sh passes those
# values and refuses any image that is not pinned by digest.
#   rust:1.88-slim-bookworm, gcr.io/distroless/static-debian12 (the binary is static musl)

ARG RUST_IMAGE=docker.io/library/rust:1.88-slim-bookworm@sha256:38bc5a86d998772d4aec2348656ed21438d20fcdce2795b56ca434cf21430d89
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12@sha256:f2ff10a709b0fd153997059b698ada702e4870745b6077eff03a5f4850ca91b6

# --- 1. fetch: the only stage with network access ---------------------------
FROM ${RUST_IMAGE} AS fetch
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY crates ./crates
COPY enclave ./enclave
COPY proxy ./proxy
COPY bindings ./bindings
RUN rustup target add x86_64-unknown-linux-musl \
 && cargo fetch --locked --target x86_64-unknown-linux-musl

# --- 2. build: offline, locked, deterministic ------------------------------
FROM fetch AS build
ARG SOURCE_DATE_EPOCH=0
ENV SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} \
    CARGO_NET_OFFLINE=true \
    CARGO_INCREMENTAL=0 \
    RUSTFLAGS="--remap-path-prefix=/src=/build --remap-path-prefix=/usr/local/cargo=/cargo -C target-feature=+crt-static"
# Production features only: the real /dev/nsm and vsock (also the default feature set); never `simulator`.
RUN cargo build --release --locked --offline --target x86_64-unknown-linux-musl \
      -p sentinel-enclave --no-default-features --features hardware \
 && install -D -m 0555 target/x86_64-unknown-linux-musl/release/sentinel-enclave /out/sentinel-enclave \
 && touch -d "@${SOURCE_DATE_EPOCH}" /out/sentinel-enclave \
 && sha256sum /out/sentinel-enclave > /out/sentinel-enclave.sha256

# --- 3. enclave: the root filesystem nitro-cli measures (PCR2) --------------
FROM ${RUNTIME_IMAGE} AS enclave
COPY --from=build /out/sentinel-enclave /sentinel-enclave
# vsock port 5000: the parent's sidecar connects to (enclave CID, 5000).
ENTRYPOINT ["/sentinel-enclave", "--vsock-port", "5000", "--nsm", "hardware"]

# --- 4. artifact: just the binary and its hash, for `docker build --output` --
FROM scratch AS artifact
COPY --from=build /out/ /
