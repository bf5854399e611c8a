#!/usr/bin/env bash
# bench/bench_get.sh — authenticated single-row GET (GET /v1/units/{id}) through deskd
# with wrk, against pgbench on the same PostgreSQL:
#   * pgbench -S (select-only on pgbench_accounts, scale 10) — the comparison the issue names;
#   * pgbench running the very statement deskd runs for the GET (captured from the server
#     log), with the same id rotation — "the same database work".
# Prints throughputs, their ratios (goal: service / pgbench -S >= 0.5), wrk p50/p99,
# CPU split and deskd's peak RSS.  Self-contained: installs, builds (Release, build-bench),
# starts a throwaway cluster in a temp dir and removes it on exit.
#
# Knobs: DURATION (s, 15), WARMUP (s, 3), CONNECTIONS (64), UNITS (10000),
#        PGBENCH_SCALE (10), DESK_THREADS (128), DESK_POOL_SIZE (8), PERF=1 (perf record
#        deskd during a second wrk run, report in the temp dir kept with BENCH_KEEP=1).
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
UNITS="${UNITS:-10000}"
PGBENCH_SCALE="${PGBENCH_SCALE:-10}"
export DESK_THREADS="${DESK_THREADS:-128}"
export DESK_POOL_SIZE="${DESK_POOL_SIZE:-8}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
# Deterministic ids so wrk and pgbench can address the same rows without a lookup:
# unit n has id 00000000-0000-4000-8000-<n zero-padded to 12 digits>.
UUID_PREFIX="00000000-0000-4000-8000-"

bench_init
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
bench_build
bench_pg_start
bench_migrate_seed

# ---------------------------------------------------------------- data
log "loading $UNITS units into the demo project (building B1) and pgbench scale $PGBENCH_SCALE"
bench_psql deskd -q <<SQL
INSERT INTO units (id, org_id, project_id, building_id, code, floor, area_m2, status)
SELECT ('$UUID_PREFIX' || lpad(g::text, 12, '0'))::uuid, b.org_id, b.project_id, b.id,
       'BX-' || g, 1 + g % 30, 40 + (g % 120) + 0.5,
       (ARRAY['occupied','vacant','rented','decorating'])[1 + g % 4]
FROM buildings b JOIN organisations o ON o.id = b.org_id, generate_series(1, $UNITS) g
WHERE o.code = 'demo' AND b.code = 'B1';
SQL
pgbench -i -q -s "$PGBENCH_SCALE" deskd >"$BENCH_TMP/pgbench-init.log" 2>&1 ||
  { cat "$BENCH_TMP/pgbench-init.log" >&2; die "pgbench -i failed"; }
bench_psql deskd -qc "VACUUM ANALYZE" >/dev/null
bench_psql deskd -qc "CHECKPOINT" >/dev/null
# Both sides read from shared buffers: load the tables and indexes the runs touch (a cold
# pgbench_accounts otherwise costs pgbench -S a third of its throughput in the first run).
bench_psql deskd -q >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT pg_prewarm(c) FROM unnest(ARRAY['pgbench_accounts', 'pgbench_accounts_pkey', 'units',
  'units_pkey', 'units_org_id_id_key']) c WHERE to_regclass(c) IS NOT NULL;
SQL
NUNITS="$(bench_psql deskd -tAc "SELECT count(*) FROM units")"

# ---------------------------------------------------------------- server
bench_server_start
TOKEN="$(bench_login agent)"
unit_id() { printf '%s%012d' "$UUID_PREFIX" "$1"; }

# One GET with statement logging on: checks the answer and captures the exact SQL and
# parameters deskd sends for it.
bench_pg_set log_min_duration_statement 0
sleep 0.2
code="$(curl -sS -o "$BENCH_TMP/one.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "$BENCH_URL/v1/units/$(unit_id 1)")"
sleep 0.2
bench_pg_set log_min_duration_statement default
[ "$code" = 200 ] || die "GET /v1/units/{id} answered $code: $(cat "$BENCH_TMP/one.json")"
SQL_LINE="$(grep -a 'execute crud_get_units: ' "$BENCH_PGDATA/server.log" | tail -1)"
PARAM_LINE="$(grep -a -A1 'execute crud_get_units: ' "$BENCH_PGDATA/server.log" | grep -a 'DETAIL:  parameters:' | tail -1)"
[ -n "$SQL_LINE" ] && [ -n "$PARAM_LINE" ] || die "could not capture the GET statement from the server log"
GET_SQL="${SQL_LINE#*execute crud_get_units: }"
ORG_ID="$(sed -n "s/.*\$2 = '\([^']*\)'.*/\1/p" <<<"$PARAM_LINE")"
PII="$(sed -n "s/.*\$3 = '\([^']*\)'.*/\1/p" <<<"$PARAM_LINE")"
[ -n "$ORG_ID" ] && [ -n "$PII" ] || die "could not parse statement parameters: $PARAM_LINE"

# pgbench script: deskd's statement; $1 rebuilt from a random n exactly as wrk picks it,
# $2/$3 passed as variables (parameters under -M prepared, as deskd sends them).
ID_EXPR="('$UUID_PREFIX' || lpad((:n)::text, 12, '0'))::uuid"
PG_SQL="${GET_SQL//\$1/$ID_EXPR}"
PG_SQL="${PG_SQL//\$2/:org}"
PG_SQL="${PG_SQL//\$3/:pii}"
cat >"$BENCH_TMP/get.sql" <<SQL
\\set n random(1, $UNITS)
$PG_SQL;
SQL

cat >"$BENCH_TMP/get.lua" <<LUA
-- GET /v1/units/{id} over $UNITS deterministic unit ids, bearer token for "agent".
local hdrs = { ["Authorization"] = "Bearer $TOKEN" }
local n = $UNITS
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  math.randomseed(os.time() * 100 + (tid or 0))
end
request = function()
  local path = string.format("/v1/units/${UUID_PREFIX}%012d", math.random(1, n))
  return wrk.format("GET", path, hdrs)
end
LUA

# ---------------------------------------------------------------- measure
# cpu_ticks, pg_pids, sys_ticks: bench/lib.sh

log "warm-up: wrk ${WARMUP}s"
wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH_TMP/get.lua" "$BENCH_URL" >/dev/null

log "service: wrk -t2 -c$CONNECTIONS -d${DURATION}s GET /v1/units/{id}"
read -ra pgp < <(pg_pids)
d0="$(cpu_ticks "$BENCH_SERVER_PID")"; p0="$(cpu_ticks "${pgp[@]}")"; read -r s0 i0 < <(sys_ticks)
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_TMP/get.lua" "$BENCH_URL" \
  >"$BENCH_TMP/wrk.txt"
read -ra pgp < <(pg_pids)
d1="$(cpu_ticks "$BENCH_SERVER_PID")"; p1="$(cpu_ticks "${pgp[@]}")"; read -r s1 i1 < <(sys_ticks)
cat "$BENCH_TMP/wrk.txt"

SVC_RPS="$(wrk_rps "$BENCH_TMP/wrk.txt")"
P50="$(wrk_pct "$BENCH_TMP/wrk.txt" 50%)"
P99="$(wrk_pct "$BENCH_TMP/wrk.txt" 99%)"
NON2XX="$(wrk_non2xx "$BENCH_TMP/wrk.txt")"
SOCKERR="$(wrk_sockerr "$BENCH_TMP/wrk.txt")"
read -r HWM RSS < <(bench_rss "$BENCH_SERVER_PID")
THREADS="$(bench_threads "$BENCH_SERVER_PID")"
bench_metrics >"$BENCH_TMP/metrics.txt"
BAD_METRIC="$(awk '/^deskd_http_requests_total\{route="\/v1\/units\/\{id\}"/ && !/status="200"/ {s+=$NF} END {print s+0}' "$BENCH_TMP/metrics.txt")"
POOL_TIMEOUTS="$(awk '/^deskd_db_pool_acquire_timeouts_total/ {print $2}' "$BENCH_TMP/metrics.txt")"
wall=$((s1 - s0))
cpu_pct() { awk -v t="$1" -v w="$wall" 'BEGIN {if (w > 0) printf "%.0f", 100 * t / w; else print "?"}'; }
DESKD_CPU="$(cpu_pct $((d1 - d0)))"; PG_CPU="$(cpu_pct $((p1 - p0)))"; IDLE_CPU="$(cpu_pct $((i1 - i0)))"
OTHER_CPU=$((100 - DESKD_CPU - PG_CPU - IDLE_CPU)); [ "$OTHER_CPU" -ge 0 ] || OTHER_CPU=0

if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  log "perf: recording deskd for ${DURATION}s under the same load (report: $BENCH_TMP/perf.txt)"
  perf record -q -g -o "$BENCH_TMP/perf.data" -p "$BENCH_SERVER_PID" -- sleep "$DURATION" &
  perfpid=$!
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$BENCH_TMP/get.lua" "$BENCH_URL" >/dev/null
  wait "$perfpid" || true
  perf report -q -i "$BENCH_TMP/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
    grep -v '^$' | head -60 >"$BENCH_TMP/perf.txt" || true
  cat "$BENCH_TMP/perf.txt"
fi

bench_server_stop # leave the CPUs to PostgreSQL and pgbench

log "warm-up: pgbench ${WARMUP}s each"
pgbench -n -M prepared -c"$CONNECTIONS" -j2 -T"$WARMUP" -f "$BENCH_TMP/get.sql" \
  -D org="$ORG_ID" -D pii="$PII" deskd >/dev/null 2>&1 || true
pgbench -n -S -M prepared -c"$CONNECTIONS" -j2 -T"$WARMUP" deskd >/dev/null 2>&1 || true

log "pgbench: deskd's GET statement, -c$CONNECTIONS -j2 -T$DURATION -M prepared"
pgbench -n -M prepared -c"$CONNECTIONS" -j2 -T"$DURATION" -f "$BENCH_TMP/get.sql" \
  -D org="$ORG_ID" -D pii="$PII" deskd >"$BENCH_TMP/pgbench-get.txt" 2>&1 ||
  { cat "$BENCH_TMP/pgbench-get.txt" >&2; die "pgbench (GET statement) failed"; }
PGB_GET="$(pgbench_tps "$BENCH_TMP/pgbench-get.txt")"

log "pgbench: deskd's GET statement, -c$DESK_POOL_SIZE (the server's pool size)"
pgbench -n -M prepared -c"$DESK_POOL_SIZE" -j2 -T"$DURATION" -f "$BENCH_TMP/get.sql" \
  -D org="$ORG_ID" -D pii="$PII" deskd >"$BENCH_TMP/pgbench-get-pool.txt" 2>&1 ||
  { cat "$BENCH_TMP/pgbench-get-pool.txt" >&2; die "pgbench (GET statement, pool) failed"; }
PGB_GET_POOL="$(pgbench_tps "$BENCH_TMP/pgbench-get-pool.txt")"

log "pgbench -S -c$CONNECTIONS -j2 -T$DURATION -M prepared (scale $PGBENCH_SCALE)"
pgbench -n -S -M prepared -c"$CONNECTIONS" -j2 -T"$DURATION" deskd \
  >"$BENCH_TMP/pgbench-S.txt" 2>&1 || { cat "$BENCH_TMP/pgbench-S.txt" >&2; die "pgbench -S failed"; }
PGB_S="$(pgbench_tps "$BENCH_TMP/pgbench-S.txt")"

R_S="$(ratio "$SVC_RPS" "$PGB_S")"
R_GET="$(ratio "$SVC_RPS" "$PGB_GET")"
VERDICT="$(awk -v r="$R_S" 'BEGIN {print (r >= 0.5) ? "meets the goal (>= 0.5)" : "BELOW the goal of 0.5"}')"

cat <<REPORT

================ deskd GET /v1/units/{id} vs pgbench ($(date -u +%Y-%m-%dT%H:%MZ)) ================
machine        : $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); wrk, deskd and
                 PostgreSQL share them
data           : $NUNITS units (GET rotates over $UNITS), pgbench scale $PGBENCH_SCALE
deskd          : DESK_THREADS=$DESK_THREADS DESK_POOL_SIZE=$DESK_POOL_SIZE log=$DESK_LOG_LEVEL, Release build
load           : $CONNECTIONS connections, ${DURATION}s each (after a ${WARMUP}s warm-up for wrk)

service (wrk)          : $SVC_RPS req/s   p50 ${P50} ms   p99 ${P99} ms
pgbench -S             : $PGB_S tps
pgbench GET statement  : $PGB_GET tps  (-c$CONNECTIONS)   $PGB_GET_POOL tps (-c$DESK_POOL_SIZE)
ratio service/pgbench -S            : $R_S   -> $VERDICT
ratio service/pgbench GET statement : $R_GET
CPU during wrk (of $(nproc) cores) : deskd ${DESKD_CPU}%  postgres ${PG_CPU}%  idle ${IDLE_CPU}%  other (wrk, kernel...) ${OTHER_CPU}%
deskd peak RSS (VmHWM) : $((HWM / 1024)) MiB ($HWM kB; RSS at end $RSS kB), $THREADS threads
pool acquire timeouts  : ${POOL_TIMEOUTS:-?}
load average           : $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (anything
                         above $(nproc) means other work shared the CPUs and the numbers are noisy)
REPORT

[ "$NON2XX" = 0 ] && [ "$BAD_METRIC" = 0 ] ||
  die "wrk saw $NON2XX non-2xx responses (server counted $BAD_METRIC non-200 on the route)"
[ "$SOCKERR" = 0 ] || log "warning: wrk reported $SOCKERR socket errors"
