# The nexus container image: the Rust binary (glibc, rustls: no OpenSSL) on distroless cc
# (glibc, libgcc_s, the CA bundle, uid 65532): no shell, no package manager.
#
#   docker build -t nexus .                                   # compiles inside the build
#   docker build --build-arg BUILDER=prebuilt -t nexus .      # uses a host-built
#                                                             # target/release/nexus
#
# RUNTIME_BASE swaps the base image (deploy/image/make-base.sh makes a local one where
# registries are unreachable; deploy/image/smoke.sh builds and checks the image that way).

ARG BUILDER=builder
ARG RUNTIME_BASE=gcr.io/distroless/cc-debian12:nonroot

# --- toolchain with cargo-chef, shared by planner and builder ---
FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

# --- the dependency recipe: changes only when manifests or the lock file do ---
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- dependencies from the recipe (a cached layer), then the binary ---
FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked -p nexus-server --recipe-path recipe.json
COPY . .
# The build context has no .git: the commit for `nexus --version` and nexus_build_info.
ARG NEXUS_BUILD_COMMIT=unknown
RUN NEXUS_BUILD_COMMIT="${NEXUS_BUILD_COMMIT}" cargo build --release --locked -p nexus-server

# --- a binary built on the host (`cargo build --release -p nexus-server`) ---
FROM scratch AS prebuilt
COPY target/release/nexus /app/target/release/nexus

# --- whichever of the two BUILDER names ---
FROM ${BUILDER} AS binary

# --- the runtime ---
FROM ${RUNTIME_BASE}
ARG VERSION=dev
ARG NEXUS_BUILD_COMMIT=unknown
LABEL org.opencontainers.image.source="https://github.com/nexus-broker/nexus" \
      org.opencontainers.image.title="nexus" \
      org.opencontainers.image.description="Credential broker for AI agents: Broker and Gateway" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${NEXUS_BUILD_COMMIT}"

COPY --from=binary /app/target/release/nexus /usr/local/bin/nexus
# /data owned by the runtime user, so a fresh volume mounted there is writable by it: an
# empty directory of the context (.dockerignore keeps its README out), since the runtime
# has no shell to mkdir and chown, and WORKDIR's ownership differs between builders.
COPY --chown=65532:65532 deploy/image/data/ /data/

ENV NEXUS_ENV=production \
    NEXUS_LOG_FORMAT=json \
    NEXUS_DATA_DIR=/data \
    NEXUS_BROKER_LISTEN=0.0.0.0:8080 \
    NEXUS_GATEWAY_LISTEN=0.0.0.0:8090

USER 65532:65532
VOLUME /data
WORKDIR /data
EXPOSE 8080 8090

# `nexus healthcheck` GETs the local Broker's /readyz (distroless has no curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/nexus", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/nexus"]
CMD ["serve"]
