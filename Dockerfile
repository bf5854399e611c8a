# deskd — property-management service desk backend.
#   docker build -t deskd .
#   docker run -e DATABASE_URL=postgresql://... -e DESK_JWT_SECRET=<32+ chars> -e DESK_PII_KEY=<other 32+ chars> -p 8080:8080 deskd
# See docker-compose.yml for a ready pairing with PostgreSQL 15.

# ---- build ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      libcivetweb-dev libpq-dev libcjson-dev libjwt-dev libssl-dev \
      libcmocka-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
# (cmocka is only for the test binaries, but CMakeLists.txt requires it; deskd delivers
# webhooks with libcurl.)
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target deskd -j"$(nproc)" \
 && strip /build/deskd

# ---- runtime -------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcivetweb1 libpq5 libcjson1 libjwt0 libssl3 libcurl4 tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system deskd \
 && useradd --system --gid deskd --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin deskd
COPY --from=build /build/deskd /usr/local/bin/deskd
USER deskd
ENV DESK_LISTEN=0.0.0.0:8080
EXPOSE 8080
# The schema is compiled in; --migrate applies it (or pending migrations) at start.
# Configure with DATABASE_URL, DESK_JWT_SECRET / _FILE and DESK_PII_KEY / _FILE (see deskd --help).
CMD ["deskd", "--migrate", "--listen", "0.0.0.0:8080"]
