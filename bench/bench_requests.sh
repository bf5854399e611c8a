#!/usr/bin/env bash
# bench/bench_requests.sh — service requests through deskd against pgbench on the same
# PostgreSQL, database and run:
#   * create: POST /v1/requests (one request and its 'create' timeline event in one
#     statement/transaction, SLA deadlines computed in the server) vs pgbench -N;
#   * read:   GET /v1/requests/{id} over ids created in the first part vs pgbench -S.
# Also runs, for reference, pgbench with the very statements deskd sends for a create and
# for a GET (captured from the server log) — "the same database work" without HTTP.
# Prints req/s, p50/p99 (wrk, 64 connections), tps, the ratios (goals: create >= 0.6 x
# pgbench -N, GET >= 0.35 x pgbench -S (issue 14)), CPU split and deskd's peak RSS.
# Self-contained: installs, builds (Release, build-bench), starts a throwaway cluster
# (fsync on, the default, for both sides) in a temp dir and removes it on exit.
#
# Knobs: DURATION (s per run, 10), ROUNDS (3: deskd and pgbench alternate, the verdict is on
#        the median of the per-round ratios), WARMUP (s, 3), CONNECTIONS (64), UNITS (10000), GET_IDS (10000),
#        PGBENCH_SCALE (10), DESK_THREADS (128), DESK_POOL_SIZE (8), SAME_SQL (1: also run
#        deskd's create statements and its GET statement in pgbench), AB_JSON_FIX=1 (A/B: request_json() as
#        PL/pgSQL and rfc3339() STABLE in the benchmark database), PERF=1 (perf-record deskd during a second
#        create run; report in the temp dir, keep it with BENCH_KEEP=1).
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
UNITS="${UNITS:-10000}"
GET_IDS="${GET_IDS:-10000}"
PGBENCH_SCALE="${PGBENCH_SCALE:-10}"
SAME_SQL="${SAME_SQL:-1}"
export DESK_THREADS="${DESK_THREADS:-128}"
export DESK_POOL_SIZE="${DESK_POOL_SIZE:-8}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
# The background sweeper would compete with the measurement; nothing is due here anyway.
export DESK_SWEEP_INTERVAL_MS="${DESK_SWEEP_INTERVAL_MS:-0}"
# Unit n has id 00000000-0000-4000-8000-<n zero-padded to 12 digits> (as in bench_get.sh).
UUID_PREFIX="00000000-0000-4000-8000-"

bench_init
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
bench_build
# pgbench opens CONNECTIONS sessions of its own: room for them and deskd's pool.
[ "$CONNECTIONS" -le 160 ] || export PG_MAX_CONNECTIONS=$((CONNECTIONS + 40))
bench_pg_start
bench_migrate_seed

# A/B (AB_JSON_FIX=1): what the create and GET would do with request_json() in PL/pgSQL
# (its plan cached per connection instead of re-planned on every call, as PostgreSQL 15
# does for SQL functions that cannot be inlined) and rfc3339() declared STABLE (its
# body calls the STABLE to_char(), so as IMMUTABLE it is never inlined and every call
# site is parsed and planned again per statement).  Changes the benchmark's database
# only; the numbers are then labelled as such.
if [ "${AB_JSON_FIX:-0}" = 1 ]; then
  log "A/B: request_json() as PL/pgSQL, rfc3339() STABLE"
  body="$(bench_psql deskd -tAc "SELECT prosrc FROM pg_proc WHERE proname = 'request_json'")"
  body="$(sed -e 's/;[[:space:]]*$//' <<<"$body")"
  bench_psql deskd -q <<SQL
ALTER FUNCTION rfc3339(timestamptz) STABLE;
CREATE OR REPLACE FUNCTION request_json(r requests, pii boolean) RETURNS json
LANGUAGE plpgsql STABLE AS \$pl\$ BEGIN RETURN ($body); END \$pl\$;
SQL
fi

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
bench_psql deskd -q >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT pg_prewarm(c) FROM unnest(ARRAY['pgbench_accounts', 'pgbench_accounts_pkey',
  'pgbench_branches', 'pgbench_tellers', 'units', 'units_pkey', 'units_org_id_id_key']) c
WHERE to_regclass(c) IS NOT NULL;
SQL

# ---------------------------------------------------------------- helpers
# waits_start NAME / waits_stop NAME — samples what PostgreSQL's active client backends
# wait on (every 0.25 s) while a run goes on; waits_stop sets NAME_WAITS to the most
# frequent states ("CPU" = running, not waiting), shares of all samples.
waits_start() {
  ( while :; do
      bench_psql deskd -tAc "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU')
        FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend'
        AND pid <> pg_backend_pid()" 2>/dev/null || true
      sleep 0.25
    done ) >"$BENCH_TMP/waits-$1.txt" &
  WAITS_PID=$!
}
waits_stop() {
  if [ -n "$WAITS_PID" ]; then kill "$WAITS_PID" 2>/dev/null; wait "$WAITS_PID" 2>/dev/null || true; fi
  printf -v "${1}_WAITS" '%s' "$(grep -v '^$' "$BENCH_TMP/waits-$1.txt" | sort | uniq -c | sort -rn |
    awk '{n[NR] = $1; w[NR] = $2; t += $1} END {for (i = 1; i <= NR && i <= 6; i++)
      printf "%s%s %.0f%%", (i > 1 ? ", " : ""), w[i], 100 * n[i] / t}')"
}


# ---------------------------------------------------------------- server
bench_server_start
TOKEN="$(bench_login agent)"

# One create with statement logging on: checks the answer (201) and captures the exact
# statements and parameters deskd sends for it.
bench_pg_set log_min_duration_statement 0
sleep 0.2
code="$(curl -sS -o "$BENCH_TMP/one.json" -w '%{http_code}' -X POST "$BENCH_URL/v1/requests" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"${UUID_PREFIX}000000000001\"},\"reporter\":{\"name\":\"王先生\",\"phone\":\"13800000000\"},\"description\":\"厨房漏水，水从楼上天花板滴下，请尽快派师傅上门查看（0-0）\"}")"
sleep 0.3
bench_pg_set log_min_duration_statement default
[ "$code" = 201 ] || die "POST /v1/requests answered $code: $(cat "$BENCH_TMP/one.json")"
grep -q '"resolution" *: *"20' "$BENCH_TMP/one.json" ||
  die "the created request has no SLA resolution deadline: $(cat "$BENCH_TMP/one.json")"

# The statements of one create, in order, as a pgbench script: $N become :pN variables
# (sent as parameters under -M prepared, as deskd sends them), NULL parameters become NULL,
# and the unit id follows a random n exactly as wrk picks it.
SAME_OK=0
if [ "$SAME_SQL" = 1 ]; then
  perl -I"$BENCH_DIR" -Mpglog -e 'pglog::create_script(@ARGV)' \
    "$BENCH_PGDATA/server.log" "$UUID_PREFIX" "$UNITS" "$BENCH_TMP/create.sql" \
    "$BENCH_TMP/create.defs" 1 && SAME_OK=1 || log "warning: could not capture the create statements"
fi

log "warm-up: wrk ${WARMUP}s POST /v1/requests"
wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH_DIR/request_create.lua" "$BENCH_URL" \
  -- "$TOKEN" "$UNITS" "$UUID_PREFIX" >/dev/null
rounds CREATE "POST /v1/requests" -N \
  -s "$BENCH_DIR/request_create.lua" "$BENCH_URL" -- "$TOKEN" "$UNITS" "$UUID_PREFIX"
# What PostgreSQL's backends wait on under the create load: sampled by psql four times a
# second, which costs CPU itself, so in a separate run that is not measured.
waits_start CREATE
wrk -t2 -c"$CONNECTIONS" -d5s -s "$BENCH_DIR/request_create.lua" "$BENCH_URL" \
  -- "$TOKEN" "$UNITS" "$UUID_PREFIX" >/dev/null
waits_stop CREATE
CREATE_BAD="$(metric_other /v1/requests POST 201)"
CREATE_OK="$(metric_count /v1/requests POST 201)"

if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  log "perf: recording deskd for ${DURATION}s under the create load (report: $BENCH_TMP/perf-create.txt)"
  perf record -q -g -o "$BENCH_TMP/perf-create.data" -p "$BENCH_SERVER_PID" -- sleep "$DURATION" &
  perfpid=$!
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$BENCH_DIR/request_create.lua" "$BENCH_URL" \
    -- "$TOKEN" "$UNITS" "$UUID_PREFIX" >/dev/null
  wait "$perfpid" || true
  perf report -q -i "$BENCH_TMP/perf-create.data" --no-children --sort dso,sym --stdio 2>/dev/null |
    grep -v '^$' | head -60 >"$BENCH_TMP/perf-create.txt" || true
fi

# One statement, one snapshot: creates wrk left in flight may still be committing (at 256
# connections about that many), and two separate counts then disagree.
read -r NREQ NEV NSLA < <(bench_psql deskd -tA -F' ' -c "SELECT (SELECT count(*) FROM requests),
  (SELECT count(*) FROM request_events WHERE action = 'create'),
  (SELECT count(*) FROM requests WHERE due_resolution IS NOT NULL AND sla_next_check IS NOT NULL)")
[ "$NREQ" = "$NEV" ] || die "$NREQ requests but $NEV create events"
[ "$NREQ" = "$NSLA" ] || die "$NREQ requests but only $NSLA with SLA deadlines"

# ---------------------------------------------------------------- GET
# The ids wrk reads, numbered in a table of their own for pgbench running deskd's GET
# statement over the same ids (the id as a sub-select on that table's key).
bench_psql deskd -qc "CREATE TABLE bench_get_ids AS SELECT row_number() OVER ()::int AS n, id
  FROM (SELECT id FROM requests ORDER BY random() LIMIT $GET_IDS) s; ALTER TABLE bench_get_ids
  ADD PRIMARY KEY (n)" >/dev/null
bench_psql deskd -tAc "SELECT id FROM bench_get_ids ORDER BY n" >"$BENCH_TMP/ids.txt"
bench_psql deskd -qc "VACUUM ANALYZE requests" -c "VACUUM ANALYZE bench_get_ids" >/dev/null
bench_psql deskd -q >/dev/null <<'SQL'
SELECT pg_prewarm(c) FROM unnest(ARRAY['requests', 'requests_pkey', 'requests_org_id_id_key',
  'work_orders_request', 'bench_get_ids', 'bench_get_ids_pkey']) c WHERE to_regclass(c) IS NOT NULL;
SQL
# One GET with statement logging on: deskd's statement and parameters for the same-statement
# pgbench run.
GET_ID1="$(head -1 "$BENCH_TMP/ids.txt")"
bench_pg_set log_min_duration_statement 0
sleep 0.2
code="$(curl -sS -o "$BENCH_TMP/get.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "$BENCH_URL/v1/requests/$GET_ID1")"
sleep 0.3
bench_pg_set log_min_duration_statement default
[ "$code" = 200 ] || die "GET /v1/requests/{id} answered $code: $(cat "$BENCH_TMP/get.json")"
GET_SAME_OK=0
if [ "$SAME_SQL" = 1 ]; then
  NGET="$(wc -l <"$BENCH_TMP/ids.txt")"
  perl -I"$BENCH_DIR" -Mpglog -e 'pglog::stmt_script(@ARGV)' "$BENCH_PGDATA/server.log" \
    req_get_cols "$GET_ID1" "(SELECT id FROM bench_get_ids WHERE n = :n)" "$BENCH_TMP/get.sql" \
    "$BENCH_TMP/get.defs" "\\set n random(1, $NGET)" && GET_SAME_OK=1 ||
    log "warning: could not capture the GET statement"
fi
log "warm-up: wrk ${WARMUP}s GET /v1/requests/{id}"
wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH_DIR/request_get.lua" "$BENCH_URL" \
  -- "$TOKEN" "$BENCH_TMP/ids.txt" >/dev/null
rounds GET "GET /v1/requests/{id} over $(wc -l <"$BENCH_TMP/ids.txt") ids" -S \
  -s "$BENCH_DIR/request_get.lua" "$BENCH_URL" -- "$TOKEN" "$BENCH_TMP/ids.txt"
waits_start GET # as for create: a separate, unmeasured run
wrk -t2 -c"$CONNECTIONS" -d5s -s "$BENCH_DIR/request_get.lua" "$BENCH_URL" \
  -- "$TOKEN" "$BENCH_TMP/ids.txt" >/dev/null
waits_stop GET
GET_BAD="$(metric_other '/v1/requests/{id}' GET 200)"

read -r HWM RSS < <(bench_rss "$BENCH_SERVER_PID")
THREADS="$(bench_threads "$BENCH_SERVER_PID")"
POOL_TIMEOUTS="$(bench_metrics | awk '/^deskd_db_pool_acquire_timeouts_total/ {print $2}')"
bench_server_stop

# ---------------------------------------------------------------- pgbench, deskd's statements
if [ "$SAME_OK" = 1 ]; then
  defs=()
  while IFS=$'\t' read -r k v; do defs+=(-D "$k=$v"); done <"$BENCH_TMP/create.defs"
  # sampled during the measured run (pgbench_run warms up for WARMUP s first)
  ( sleep "$WARMUP"; waits_start PGB_SAME; sleep "$DURATION"; kill "$WAITS_PID" 2>/dev/null ) &
  waiter=$!
  pgbench_run PGB_SAME "$CONNECTIONS" -f "$BENCH_TMP/create.sql" "${defs[@]}"
  wait "$waiter" 2>/dev/null || true
  WAITS_PID=""; waits_stop PGB_SAME
  pgbench_run PGB_SAME_POOL "$DESK_POOL_SIZE" -f "$BENCH_TMP/create.sql" "${defs[@]}"
fi
if [ "$GET_SAME_OK" = 1 ]; then
  gdefs=()
  while IFS=$'\t' read -r k v; do gdefs+=(-D "$k=$v"); done <"$BENCH_TMP/get.defs"
  pgbench_run PGB_GET_SAME "$CONNECTIONS" -f "$BENCH_TMP/get.sql" "${gdefs[@]}"
  pgbench_run PGB_GET_SAME_POOL "$DESK_POOL_SIZE" -f "$BENCH_TMP/get.sql" "${gdefs[@]}"
fi

R_CREATE="$(median "${CREATE_RATIOS[@]}")"
R_GET="$(median "${GET_RATIOS[@]}")"
verdict() { awk -v r="$1" -v g="$2" 'BEGIN {print (r >= g) ? "meets the goal (>= " g ")" : "BELOW the goal of " g}'; }
if [ "$SAME_OK" = 1 ]; then
  SAME_LINE="pgbench, deskd's create statements : ${PGB_SAME_TPS} tps at -c$CONNECTIONS, ${PGB_SAME_POOL_TPS} tps at -c$DESK_POOL_SIZE (pool size), after the rounds"
else
  SAME_LINE="pgbench, deskd's create statements : not run"
fi
GET_RPS=()
for round in $(seq "$ROUNDS"); do v="GET_W${round}_RPS"; GET_RPS+=("${!v}"); done
if [ "$GET_SAME_OK" = 1 ]; then
  GET_SAME_LINE="pgbench, deskd's GET statement     : ${PGB_GET_SAME_TPS} tps at -c$CONNECTIONS, ${PGB_GET_SAME_POOL_TPS} tps at -c$DESK_POOL_SIZE (pool size), after the rounds (the id a sub-select on bench_get_ids)
ratio GET / deskd's GET statement in pgbench at -c$CONNECTIONS: $(awk -v a="$(median "${GET_RPS[@]}")" -v b="$PGB_GET_SAME_TPS" 'BEGIN {printf "%.3f", a / b}') (deskd's median req/s)"
else
  GET_SAME_LINE="pgbench, deskd's GET statement     : not run"
fi

cat <<REPORT

================ deskd service requests vs pgbench ($(date -u +%Y-%m-%dT%H:%MZ)) ================
machine        : $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); wrk, deskd and
                 PostgreSQL share them; PostgreSQL 15, fsync=$(bench_psql postgres -tAc 'SHOW fsync'), synchronous_commit=$(bench_psql postgres -tAc 'SHOW synchronous_commit') (defaults, both sides)
data           : $UNITS units (create rotates over them); GET over $(wc -l <"$BENCH_TMP/ids.txt") of the $NREQ requests created (warm-up included); pgbench scale $PGBENCH_SCALE
deskd          : DESK_THREADS=$DESK_THREADS DESK_POOL_SIZE=$DESK_POOL_SIZE log=$DESK_LOG_LEVEL sweeper off, Release build$([ "${AB_JSON_FIX:-0}" = 1 ] && printf '\n%s' "A/B            : AB_JSON_FIX=1 — request_json() in PL/pgSQL, rfc3339() STABLE (NOT the committed schema)")
load           : $CONNECTIONS connections both sides; $ROUNDS rounds of (deskd ${DURATION}s, pgbench ${DURATION}s), CHECKPOINT before each run

create  POST /v1/requests (wrk) vs pgbench -N, one row per round (201s counted by deskd: $CREATE_OK):
${CREATE_ROWS}ratio create / pgbench -N (median of $ROUNDS) : $R_CREATE   -> $(verdict "$R_CREATE" 0.6)
WAL per create ${CREATE_W1_WAL}; per pgbench -N transaction ${CREATE_P1_WAL} (round 1)
$SAME_LINE
PostgreSQL backends under the create load (sampled in a separate 5 s run): $CREATE_WAITS
  same, pgbench create statements -c$CONNECTIONS: ${PGB_SAME_WAITS:-n/a}

GET  /v1/requests/{id} (wrk) vs pgbench -S, one row per round:
${GET_ROWS}ratio GET / pgbench -S (median of $ROUNDS)    : $R_GET   -> $(verdict "$R_GET" 0.35)
$GET_SAME_LINE
PostgreSQL backends under the GET load (sampled in a separate 5 s run): $GET_WAITS

deskd peak RSS (VmHWM) : $((HWM / 1024)) MiB ($HWM kB; RSS at end $RSS kB), $THREADS threads
pool acquire timeouts  : ${POOL_TIMEOUTS:-?}
load average           : $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (above $(nproc):
                         other work shared the CPUs and the numbers are noisy)
REPORT
[ -s "$BENCH_TMP/perf-create.txt" ] && { echo; echo "perf (deskd, create):"; cat "$BENCH_TMP/perf-create.txt"; }

fail=0
[ "$CREATE_NON2XX" = 0 ] && [ "$CREATE_BAD" = 0 ] ||
  { log "create: wrk saw $CREATE_NON2XX non-2xx, deskd counted $CREATE_BAD non-201"; fail=1; }
[ "$GET_NON2XX" = 0 ] && [ "$GET_BAD" = 0 ] ||
  { log "GET: wrk saw $GET_NON2XX non-2xx, deskd counted $GET_BAD non-200"; fail=1; }
[ "$CREATE_SOCKERR" = 0 ] && [ "$GET_SOCKERR" = 0 ] ||
  log "warning: wrk reported socket errors (create $CREATE_SOCKERR, GET $GET_SOCKERR)"
[ "$fail" = 0 ] || die "non-success answers during the runs"
