# syntax=docker/dockerfile:1
# Build stage: the release binary (migrations are embedded in it).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The number parser (a workspace member) and the declared benchmarks are part of the manifest.
COPY crates ./crates
COPY benches ./benches
COPY src ./src
COPY migrations ./migrations
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && cp target/release/customer-lookup /usr/local/bin/customer-lookup

# Runtime stage: a slim image with only the binary, run by an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/customer-lookup --create-home lookup
COPY --from=build /usr/local/bin/customer-lookup /usr/local/bin/customer-lookup
USER 10001:10001
WORKDIR /var/lib/customer-lookup
# Inside a container the service must listen on all interfaces; publish the port carefully.
ENV LOOKUP_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["customer-lookup"]
CMD ["serve"]
