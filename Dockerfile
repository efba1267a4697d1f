# syntax=docker/dockerfile:1
# Multi-stage build: compile with the full toolchain, run on a slim image as a non-root user.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vendor-registry --bin vendor-registry \
 && cp target/release/vendor-registry /vendor-registry

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/vendor-registry --create-home registry \
 && mkdir -p /var/lib/vendor-registry/data \
 && chown -R registry:registry /var/lib/vendor-registry
COPY --from=build /vendor-registry /usr/local/bin/vendor-registry
USER registry
WORKDIR /var/lib/vendor-registry
ENV VENDOR_REGISTRY_BIND=0.0.0.0:8080 \
    VENDOR_REGISTRY_DATA_DIR=/var/lib/vendor-registry/data \
    VENDOR_REGISTRY_LOG_FORMAT=json
VOLUME ["/var/lib/vendor-registry/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["vendor-registry", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["vendor-registry"]
CMD ["serve"]
