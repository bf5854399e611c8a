#!/usr/bin/env bash
# bench/lib.sh — shared pieces for the benchmarks under bench/: a throwaway PostgreSQL
# cluster in a temporary folder, a Release build of deskd, starting/stopping the server,
# logging in, and reading results.  Source it from a bench script:
#
#   source "$(dirname "$0")/lib.sh"
#   bench_init                 # temp dir + cleanup trap
#   bench_build                # Release build into build-bench (deskd target only)
#   bench_pg_start             # cluster + database deskd; exports DATABASE_URL
#   bench_migrate_seed         # deskd --migrate --seed-demo --no-serve
#   bench_server_start         # deskd in the background; sets BENCH_URL, BENCH_SERVER_PID
#   TOKEN=$(bench_login agent demo-pass-2026)
#
# Everything started here is stopped, and the temp dir removed, on exit.
# Knobs (environment): BENCH_PG_PORT, BENCH_HTTP_PORT, BENCH_KEEP=1 (keep the temp dir),
# BENCH_DESKD=/path/to/deskd (skip the build; for A/B runs of a patched binary),
# DESK_THREADS, DESK_POOL_SIZE, DESK_LOG_LEVEL and any other DESK_* the server reads.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../scripts/common.sh
source "$BENCH_DIR/../scripts/common.sh"

BENCH_TMP=""
BENCH_PGDATA=""
BENCH_SERVER_PID=""
BENCH_BUILD_DIR="${BENCH_BUILD_DIR:-$ROOT/build-bench}"
DESKD="${BENCH_DESKD:-$BENCH_BUILD_DIR/deskd}"
BENCH_DEMO_PASSWORD="${DESK_DEMO_PASSWORD:-demo-pass-2026}"
BENCH_METRICS_TOKEN="${DESK_METRICS_TOKEN:-bench-metrics-token}"

# bench_metrics — the server's /metrics text (it wants the scrape token).
bench_metrics() { curl -sS -H "Authorization: Bearer $BENCH_METRICS_TOKEN" "$BENCH_URL/metrics"; }

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: FAIL: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- lifecycle

bench_cleanup() {
  local rc=$?
  set +e
  bench_server_stop
  [ -n "$BENCH_PGDATA" ] && pg_stop "$BENCH_PGDATA"
  if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
      log "keeping $BENCH_TMP"
    else
      rm -rf "$BENCH_TMP"
    fi
  fi
  return $rc
}

# bench_init — makes the temp dir (reachable by the postgres user when we are root) and
# installs the cleanup trap.
bench_init() {
  BENCH_TMP="$(mktemp -d /tmp/deskd-bench.XXXXXX)"
  chmod 755 "$BENCH_TMP"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# bench_build — installs missing packages, builds deskd (Release) into $BENCH_BUILD_DIR.
# Only the deskd target: the benchmark does not need the test binaries.
bench_build() {
  install_deps
  if [ -n "${BENCH_DESKD:-}" ]; then # A/B runs against a binary built elsewhere
    [ -x "$BENCH_DESKD" ] || die "BENCH_DESKD=$BENCH_DESKD is not executable"
    log "using prebuilt $BENCH_DESKD"
    return 0
  fi
  log "building deskd (Release) in $BENCH_BUILD_DIR"
  cmake -S "$ROOT" -B "$BENCH_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BENCH_BUILD_DIR" --target deskd -j"$(nproc)" >/dev/null
  [ -x "$DESKD" ] || die "no deskd binary at $DESKD"
}

# ---------------------------------------------------------------- PostgreSQL

# bench_pg_start [PORT] — throwaway cluster in $BENCH_TMP/pg, database deskd.
bench_pg_start() {
  BENCH_PGPORT="${1:-${BENCH_PG_PORT:-55439}}"
  BENCH_PGDATA="$BENCH_TMP/pg"
  log "starting PostgreSQL 15 in $BENCH_PGDATA (port $BENCH_PGPORT, unix socket only)"
  PG_FSYNC="${PG_FSYNC:-on}" pg_start "$BENCH_PGDATA" "$BENCH_PGPORT"
  bench_psql postgres -qc "CREATE DATABASE deskd" >/dev/null
  export DATABASE_URL="host=$BENCH_PGDATA port=$BENCH_PGPORT user=postgres dbname=deskd"
  # For psql/pgbench run by hand or by bench scripts.
  export PGHOST="$BENCH_PGDATA" PGPORT="$BENCH_PGPORT" PGUSER=postgres PGDATABASE=deskd
}

# bench_psql DB psql-args... — psql against the bench cluster, stop on error.
bench_psql() {
  local db="$1"; shift
  psql -X -v ON_ERROR_STOP=1 -h "$BENCH_PGDATA" -p "$BENCH_PGPORT" -U postgres -d "$db" "$@"
}

# bench_pg_set NAME VALUE — ALTER SYSTEM + reload (VALUE 'default' resets).
bench_pg_set() {
  if [ "$2" = default ]; then
    bench_psql postgres -qc "ALTER SYSTEM RESET $1" >/dev/null
  else
    bench_psql postgres -qc "ALTER SYSTEM SET $1 = '$2'" >/dev/null
  fi
  bench_psql postgres -qtAc "SELECT pg_reload_conf()" >/dev/null
}

bench_pg_log() { cat "$BENCH_PGDATA/server.log"; }

# ---------------------------------------------------------------- deskd

bench_secret() {
  [ -n "${BENCH_JWT_SECRET:-}" ] || BENCH_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
  echo "$BENCH_JWT_SECRET"
}

bench_migrate_seed() {
  log "deskd --migrate --seed-demo --no-serve"
  DESK_JWT_SECRET="$(bench_secret)" DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}" \
    "$DESKD" --migrate --seed-demo --no-serve >"$BENCH_TMP/migrate.log" 2>&1 ||
    { cat "$BENCH_TMP/migrate.log" >&2; die "migration / demo seed failed"; }
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bench_server_start [deskd args...] — starts deskd on a free 127.0.0.1 port; waits for
# /healthz.  Sets BENCH_URL and BENCH_SERVER_PID.  Tunables come from the environment
# (DESK_THREADS, DESK_POOL_SIZE, ...); defaults here suit a 2-core machine and 64 clients.
bench_server_start() {
  local port="${BENCH_HTTP_PORT:-18480}"
  while ! port_free "$port"; do port=$((port + 1)); done
  BENCH_URL="http://127.0.0.1:$port"
  log "starting deskd on $BENCH_URL (threads ${DESK_THREADS:-128}, pool ${DESK_POOL_SIZE:-8})"
  DESK_JWT_SECRET="$(bench_secret)" \
  DESK_METRICS_TOKEN="$BENCH_METRICS_TOKEN" \
  DESK_PII_KEY="${DESK_PII_KEY:-$(head -c 48 /dev/urandom | base64 | tr -d '\n')}" \
  DESK_THREADS="${DESK_THREADS:-128}" \
  DESK_POOL_SIZE="${DESK_POOL_SIZE:-8}" \
  DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}" \
  DESK_ACCESS_TTL="${DESK_ACCESS_TTL:-3600}" \
    "$DESKD" --listen "127.0.0.1:$port" "$@" >"$BENCH_TMP/deskd.log" 2>&1 &
  BENCH_SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$BENCH_URL/healthz" 2>/dev/null; then return 0; fi
    kill -0 "$BENCH_SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$BENCH_TMP/deskd.log" >&2
  die "deskd did not become healthy"
}

bench_server_stop() {
  if [ -n "$BENCH_SERVER_PID" ] && kill -0 "$BENCH_SERVER_PID" 2>/dev/null; then
    kill -TERM "$BENCH_SERVER_PID" 2>/dev/null
    wait "$BENCH_SERVER_PID" 2>/dev/null
  fi
  BENCH_SERVER_PID=""
}

# bench_login USER [PASSWORD] — prints an access token.
bench_login() {
  local user="$1" pw="${2:-$BENCH_DEMO_PASSWORD}" body
  body="$(curl -sS -X POST "$BENCH_URL/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$pw\"}")"
  local tok
  tok="$(printf '%s' "$body" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
  [ -n "$tok" ] || die "login as $user failed: $body"
  echo "$tok"
}

# bench_rss PID — "VmHWM VmRSS" of a process in kB.
bench_rss() {
  awk '/^VmHWM:/ {h=$2} /^VmRSS:/ {r=$2} END {print h, r}' "/proc/$1/status"
}

bench_threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

# ---------------------------------------------------------------- result parsing

# wrk_rps FILE — requests/s from wrk output.
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
# wrk_pct FILE PCT — latency percentile line from wrk --latency ("50%", "99%"), in ms.
wrk_pct() {
  awk -v p="$2" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000}
                  else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}
                  printf "%.2f\n", v; exit}' "$1"
}
# wrk_non2xx FILE — "Non-2xx or 3xx responses" count (0 when absent) plus socket errors.
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ {n=$NF} END {print n+0}' "$1"; }
wrk_sockerr() {
  awk '/Socket errors:/ {gsub(/,/,""); print $4+$6+$8+$10; f=1} END {if (!f) print 0}' "$1"
}
# pgbench_tps FILE — tps without initial connection time.
pgbench_tps() { awk '/^tps = / {print $3}' "$1" | tail -1; }

# ratio A B — A/B to 3 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f\n", a / b; else print "n/a"}'; }
