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
  # BENCH_PG_SETTINGS="name=value ..." — server settings for an A/B run (both sides of a
  # ratio run under them), e.g. BENCH_PG_SETTINGS="wal_compression=lz4".
  local kv
  for kv in ${BENCH_PG_SETTINGS:-}; do
    log "PostgreSQL setting ${kv%%=*} = ${kv#*=}"
    bench_pg_set "${kv%%=*}" "${kv#*=}"
  done
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
  # A random start (unless BENCH_HTTP_PORT is set): two bench runs started at the same
  # moment would otherwise both find 18480 free, and the one whose deskd failed to bind
  # would measure the other's server (this happened once and doubled a WAL figure).
  local port="${BENCH_HTTP_PORT:-$((18480 + RANDOM % 4000))}"
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
    if curl -fsS -o /dev/null "$BENCH_URL/healthz" 2>/dev/null; then
      # Healthy, but ours?  A deskd that lost the port to another run exits at once.
      sleep 0.2
      kill -0 "$BENCH_SERVER_PID" 2>/dev/null && return 0
      break
    fi
    kill -0 "$BENCH_SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$BENCH_TMP/deskd.log" >&2
  die "deskd did not become healthy"
}

bench_server_stop() {
  if [ -n "$BENCH_SERVER_PID" ] && kill -0 "$BENCH_SERVER_PID" 2>/dev/null; then
    kill -TERM "$BENCH_SERVER_PID" 2>/dev/null
    # its exit status is not the caller's (under set -e a non-zero one ended the calling
    # script silently, now and then, right after a measurement)
    wait "$BENCH_SERVER_PID" 2>/dev/null || log "deskd exited with status $? on SIGTERM"
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

# bench_perf_top FILE N [perf report options] — the N largest entries of a perf profile,
# flat (no call chains): each line its share of the samples, then what the options sort by.
bench_perf_top() {
  local f="$1" n="$2"
  shift 2
  perf report -q -i "$f" --no-children --stdio -g none "$@" 2>/dev/null | grep -E '^ +[0-9]' | head -"$n" || true
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

# ---------------------------------------------------------------- a quiet machine

# bench_wait_quiet — waits up to QUIET_WAIT seconds (default 300) for the 1-minute load
# average to fall below QUIET_LOAD (default 0.5: nothing else running).  Sets BENCH_QUIET
# to "yes" or to a loud "NO (...)" that the report must print; never fails the run.
bench_wait_quiet() {
  local max="${QUIET_WAIT:-300}" lim="${QUIET_LOAD:-0.5}" waited=0 l
  while :; do
    l="$(cut -d' ' -f1 /proc/loadavg)"
    if awk -v l="$l" -v m="$lim" 'BEGIN {exit !(l < m)}'; then
      BENCH_QUIET="yes (1-min load average $l < $lim after ${waited}s)"
      return 0
    fi
    [ "$waited" -ge "$max" ] && break
    [ "$waited" = 0 ] && log "waiting up to ${max}s for a quiet machine (load average $l, want < $lim)"
    sleep 10
    waited=$((waited + 10))
  done
  BENCH_QUIET="NO — load average $(cut -d' ' -f1-3 /proc/loadavg) after waiting ${max}s; other work shared the CPUs: these figures are indicative only, re-run on a quiet machine"
  printf '\n!!!!!!!! bench: the machine is NOT quiet (load average %s) — measuring anyway !!!!!!!!\n\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
}

# ---------------------------------------------------------------- measuring service vs pgbench
# (bench_requests.sh, bench_ledger.sh; they use DURATION, WARMUP, ROUNDS, CONNECTIONS and
# BENCH_SERVER_PID from the calling script)

cpu_ticks() { # PID... — utime+stime (clock ticks) summed, tolerant of exited pids
  local t=0 p v
  for p in "$@"; do
    v="$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null)" || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
pg_pids() { local pm; pm="$(head -1 "$BENCH_PGDATA/postmaster.pid")"; echo "$pm" "$(pgrep -P "$pm" | tr "\n" " ")"; }
sys_ticks() { awk '/^cpu / {print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; } # total idle
# Same folder for WAL and data: a checkpoint before each measured run gives both sides
# the same start (no pending dirty buffers, full-page images from scratch).
checkpoint() { bench_psql deskd -qc "CHECKPOINT" >/dev/null; }

wal_lsn() { bench_psql deskd -tAc "SELECT pg_current_wal_insert_lsn()"; }
# wal_per NAME LSN0 LSN1 COUNT — sets NAME_WAL to the WAL bytes per transaction ("4.1 kB").
wal_per() {
  printf -v "${1}_WAL" '%s' "$(bench_psql deskd -tAc "SELECT round(pg_wal_lsn_diff('$3', '$2') / greatest($4, 1) / 1024.0, 1) || ' kB'")"
}

# measure NAME wrk-args... — runs wrk with --latency, records throughput, latency and the
# CPU split into NAME_* variables.
# server_hist — deskd's request-latency histogram now: "le count" lines (all routes; le in
# seconds, +Inf last), nothing when /metrics does not answer.
server_hist() {
  bench_metrics 2>/dev/null |
    sed -n 's/^deskd_http_request_duration_seconds_bucket{le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p'
}
# server_pct H0 H1 Q — the upper bound (ms) of the histogram bucket holding the Q-quantile
# (0.99) of the requests counted between two server_hist snapshots: the latency deskd itself
# measured from reading a request to its answer, without the time a request or its answer
# waited for a thread to be scheduled (wrk's figure includes that).  "?" without data.
server_pct() {
  awk -v q="$3" 'NR == FNR {a[$1] = $2; next} {d[++n] = $1; c[n] = $2 - a[$1]}
    END {if (!n || c[n] <= 0) {print "?"; exit}
         for (i = 1; i <= n; i++) if (c[i] >= q * c[n]) {
           if (d[i] == "+Inf") print "> " 1000 * d[i - 1]; else print 1000 * d[i]; exit}}' \
    <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

measure() {
  local name="$1"; shift
  local pgp d0 p0 s0 i0 d1 p1 s1 i1 wall h0 h1
  local l0 l1
  h0="$(server_hist)"
  l0="$(wal_lsn)"
  read -ra pgp < <(pg_pids)
  d0="$(cpu_ticks "$BENCH_SERVER_PID")"; p0="$(cpu_ticks "${pgp[@]}")"; read -r s0 i0 < <(sys_ticks)
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" >"$BENCH_TMP/wrk-$name.txt"
  l1="$(wal_lsn)"
  h1="$(server_hist)"
  printf -v "${name}_SP99" '%s' "$(server_pct "$h0" "$h1" 0.99)"
  wal_per "$name" "$l0" "$l1" "$(awk '/requests in/ {print $1}' "$BENCH_TMP/wrk-$name.txt")"
  read -ra pgp < <(pg_pids)
  d1="$(cpu_ticks "$BENCH_SERVER_PID")"; p1="$(cpu_ticks "${pgp[@]}")"; read -r s1 i1 < <(sys_ticks)
  cat "$BENCH_TMP/wrk-$name.txt" >&2
  wall=$((s1 - s0))
  pct() { awk -v t="$1" -v w="$wall" 'BEGIN {if (w > 0) printf "%.0f", 100 * t / w; else print "?"}'; }
  local f="$BENCH_TMP/wrk-$name.txt"
  printf -v "${name}_RPS" '%s' "$(wrk_rps "$f")"
  printf -v "${name}_P50" '%s' "$(wrk_pct "$f" 50%)"
  printf -v "${name}_P99" '%s' "$(wrk_pct "$f" 99%)"
  printf -v "${name}_NON2XX" '%s' "$(wrk_non2xx "$f")"
  printf -v "${name}_SOCKERR" '%s' "$(wrk_sockerr "$f")"
  local dc pc ic oc
  dc="$(pct $((d1 - d0)))"; pc="$(pct $((p1 - p0)))"; ic="$(pct $((i1 - i0)))"
  oc=$((100 - dc - pc - ic)); [ "$oc" -ge 0 ] || oc=0
  printf -v "${name}_CPU" 'deskd %s%%  postgres %s%%  idle %s%%  other (wrk, kernel, other jobs) %s%%' \
    "$dc" "$pc" "$ic" "$oc"
}

# pgbench_run NAME CLIENTS pgbench-args... — warm-up, checkpoint, measured run; sets
# NAME_TPS and NAME_LAT (average latency, ms).
pgbench_run() {
  local name="$1" clients="$2"; shift 2
  pgbench -n -M prepared -c"$clients" -j2 -T"$WARMUP" "$@" deskd >/dev/null 2>&1 || true
  checkpoint
  log "pgbench $* -c$clients -j2 -T$DURATION -M prepared"
  local l0; l0="$(wal_lsn)"
  pgbench -n -M prepared -c"$clients" -j2 -T"$DURATION" "$@" deskd \
    >"$BENCH_TMP/pgbench-$name.txt" 2>&1 ||
    { cat "$BENCH_TMP/pgbench-$name.txt" >&2; die "pgbench $* failed"; }
  wal_per "$name" "$l0" "$(wal_lsn)" \
    "$(awk '/^number of transactions actually processed: / {print $6}' "$BENCH_TMP/pgbench-$name.txt")"
  printf -v "${name}_TPS" '%s' "$(pgbench_tps "$BENCH_TMP/pgbench-$name.txt")"
  printf -v "${name}_LAT" '%s' "$(awk '/^latency average = / {print $4}' "$BENCH_TMP/pgbench-$name.txt")"
  local failed
  failed="$(awk '/^number of failed transactions: / {print $5}' "$BENCH_TMP/pgbench-$name.txt")"
  [ "${failed:-0}" = 0 ] || die "pgbench $* had $failed failed transactions"
}

#
# The service and pgbench alternate: ROUNDS rounds of (deskd DURATION s, then pgbench
# DURATION s), each after a CHECKPOINT, and the ratio is taken per round; the verdict is
# on the median ratio.  On a shared machine whose speed drifts by tens of percent within
# a minute, measuring one side entirely before the other mostly measures the drift.
# deskd stays up (idle: its sweeper is off) while pgbench runs.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# rounds NAME LABEL PGBENCH_FLAG wrk-args... — ROUNDS rounds of (wrk, pgbench PGBENCH_FLAG);
# sets NAME_RATIOS (array), NAME_ROWS (report lines), NAME_NON2XX and NAME_SOCKERR (sums).
rounds() {
  local name="$1" label="$2" flag="$3" round r rps tps p99 cpu sp99 non=0 sock=0 v
  shift 3
  local -n ratios="${name}_RATIOS" rows="${name}_ROWS"
  ratios=(); rows=""
  for round in $(seq "$ROUNDS"); do
    checkpoint
    log "round $round/$ROUNDS: wrk -t2 -c$CONNECTIONS -d${DURATION}s $label"
    measure "${name}_W$round" "$@"
    pgbench_run "${name}_P$round" "$CONNECTIONS" "$flag"
    rps="${name}_W${round}_RPS"; tps="${name}_P${round}_TPS"; p99="${name}_W${round}_P99"
    cpu="${name}_W${round}_CPU"; sp99="${name}_W${round}_SP99"
    r="$(ratio "${!rps}" "${!tps}")"
    ratios+=("$r")
    rows+="$(printf '  round %d: %8.1f req/s (p99 %6.1f ms; in deskd <= %s ms)  pgbench %s %8.1f tps  ratio %s\n           CPU during the service run: %s' \
      "$round" "${!rps}" "${!p99}" "${!sp99:-?}" "$flag" "${!tps}" "$r" "${!cpu}")"$'\n'
    v="${name}_W${round}_NON2XX"; non=$((non + ${!v:-0}))
    v="${name}_W${round}_SOCKERR"; sock=$((sock + ${!v:-0}))
  done
  printf -v "${name}_NON2XX" '%s' "$non"
  printf -v "${name}_SOCKERR" '%s' "$sock"
}


# metric_other ROUTE METHOD GOOD — requests on ROUTE/METHOD deskd counted with a status
# other than GOOD.
metric_other() {
  bench_metrics |
    awk -v r="route=\"$1\"" -v m="method=\"$2\"" -v s="status=\"$3\"" \
      '/^deskd_http_requests_total\{/ && index($0, r) && index($0, m) && !index($0, s) {n += $NF}
       END {print n + 0}'
}
metric_count() {
  bench_metrics |
    awk -v r="route=\"$1\"" -v m="method=\"$2\"" -v s="status=\"$3\"" \
      '/^deskd_http_requests_total\{/ && index($0, r) && index($0, m) && index($0, s) {n += $NF}
       END {print n + 0}'
}
