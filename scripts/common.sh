#!/usr/bin/env bash
# scripts/common.sh — shared by run.sh, test.sh and bench: install what is missing
# (Debian 12), build, and start/stop a private PostgreSQL 15 cluster as a non-root user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="/usr/lib/postgresql/15/bin"
DEB_PACKAGES=(build-essential cmake pkg-config libcivetweb-dev libpq-dev libcjson-dev libjwt-dev
  libssl-dev libcmocka-dev libcurl4-openssl-dev postgresql-15 postgresql-client-15
  postgresql-contrib tzdata ca-certificates wrk clang-format clang libclang-rt-14-dev nodejs npm
  chromium fonts-noto-cjk nginx)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_deps() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    # nodejs may come from another repository and bring npm along with it.
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    as_root apt-get update -q
    # Packages with a service (nginx, postgresql) must not start it on install: the tests
    # run their own instances on free ports, and a service that cannot bind port 80 would
    # fail the install.  policy-rc.d 101 = "action forbidden" (Debian's invoke-rc.d policy).
    local guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      guard=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' | as_root tee "$guard" >/dev/null && as_root chmod +x "$guard"
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
    [ -n "$guard" ] && as_root rm -f "$guard"
    [ "$rc" -eq 0 ] || return "$rc"
  fi
}

# tools/ holds the npm project of the API tooling: Redocly (lint; renders GET /docs at build
# time) and the Redoc bundle deskd serves.  Installed when missing or older than the lock.
npm_tools() {
  local t="$ROOT/tools"
  if [ ! -x "$t/node_modules/.bin/redocly" ] || [ ! -f "$t/node_modules/redoc/package.json" ] ||
    [ "$t/package-lock.json" -nt "$t/node_modules/.package-lock.json" ]; then
    (cd "$t" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# build DIR [extra cmake args...]  (BUILD_TARGET=deskd builds only the server)
build() {
  local dir="$1"; shift
  cmake -S "$ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
}

# The user PostgreSQL runs as: ourselves, or "postgres" when we are root.
pg_user() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start DATADIR PORT — creates the cluster on first use, starts it, socket in DATADIR.
pg_start() {
  local data="$1" port="$2"
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown "$(pg_user)" "$data"
    chmod 700 "$data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$data'
max_connections = ${PG_MAX_CONNECTIONS:-200}
shared_buffers = 256MB
fsync = ${PG_FSYNC:-on}
# Full-page images compressed: an SLA sweep of 10,000 escalations right after a checkpoint
# wrote 107 MB of WAL instead of 282 MB and ran 12 % faster (bench/README.md, "WAL
# compression"); also what a streaming replica receives.
wal_compression = lz4
CONF
  fi
  # Already running (a previous run that was killed before it could stop it): reuse it.
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "note: PostgreSQL in $data is already running; reusing it" >&2
    return 0
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$data" -o "-p $port" -l "$data/server.log" -w -t 60 start >/dev/null
}

pg_stop() { as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true; }

# A folder PostgreSQL's user can reach: the one given, or one under /var/tmp when a
# parent directory (say /root) is closed to it.
pg_reachable_dir() {
  local want="$1"
  mkdir -p "$want"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$want" 2>/dev/null; then
    local alt="/var/tmp/deskd-$(echo "$want" | md5sum | cut -c1-12)"
    echo "note: $want is not reachable by the postgres user; using $alt" >&2
    mkdir -p "$alt"
    echo "$alt"
  else
    echo "$want"
  fi
}
