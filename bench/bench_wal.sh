#!/usr/bin/env bash
# bench/bench_wal.sh — WAL bytes per request create (POST /v1/requests), broken down by
# relation and by record type.  WAL volume is a property of the statements, not of the
# machine's load: the figures are the same on a busy and on a quiet machine (unlike the
# throughput benchmarks), so this runs sequentially with one client.
#
#   bench/bench_wal.sh                      # N=2000 creates
#   N=500 BENCH_DESKD=build-dev/deskd bench/bench_wal.sh   # a prebuilt binary, fewer creates
#   PERF=1 bench/bench_wal.sh               # also perf-record PostgreSQL under the pgbench run
#
# Steps: throwaway cluster, migrate + demo seed, UNITS units, WARM creates (so every page
# the creates touch exists), CHECKPOINT, then N creates over one keep-alive connection
# (curl), measuring pg_current_wal_insert_lsn() before and after.  The range is then read
# with pg_walinspect: bytes per relation (record length split evenly over a record's block
# references; full-page images counted to the relation they image) and per resource
# manager / record type.  Two figures are printed: WAL per create right after a checkpoint
# (what the throughput benchmarks see) and the same without full-page images (the
# statements' own bytes; full-page images fall with checkpoint_timeout/max_wal_size).
# Then (PGBENCH_S=10, 0 to skip) pgbench runs deskd's own create statements for PGBENCH_S
# seconds: tps, PostgreSQL's CPU per create and the time per create in each function (the
# triggers) — per create, i.e. per script run (xact_commit divided by the script's
# statements, each its own transaction).  A/B against another build: BENCH_DESKD=<its deskd> (its migrations come with
# it), alternating with runs of the tree.
source "$(dirname "$0")/lib.sh"

N="${N:-2000}"
UNITS="${UNITS:-1000}"
WARM="${WARM:-200}"
UUID_PREFIX="00000000-0000-4000-8000-"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
export DESK_SWEEP_INTERVAL_MS="${DESK_SWEEP_INTERVAL_MS:-0}"

bench_init
bench_build
PG_FSYNC=off bench_pg_start
bench_pg_set wal_keep_size 4GB # the measured range stays readable
bench_migrate_seed
bench_psql deskd -q <<SQL
INSERT INTO units (id, org_id, project_id, building_id, code, floor, area_m2, status)
SELECT ('$UUID_PREFIX' || lpad(g::text, 12, '0'))::uuid, b.org_id, b.project_id, b.id,
       'BX-' || g, 1 + g % 30, 40 + (g % 120) + 0.5, 'occupied'
FROM buildings b JOIN organisations o ON o.id = b.org_id, generate_series(1, $UNITS) g
WHERE o.code = 'demo' AND b.code = 'B1';
CREATE EXTENSION IF NOT EXISTS pg_walinspect;
SQL
# PRE_SQL='...': run before the warm-up (A/B experiments on the schema, e.g.
# PRE_SQL="ALTER INDEX requests_text SET (fastupdate = off)").
[ -z "${PRE_SQL:-}" ] || bench_psql deskd -v ON_ERROR_STOP=1 -qc "$PRE_SQL" >/dev/null
bench_psql deskd -qc "VACUUM ANALYZE" >/dev/null
bench_server_start
TOKEN="$(bench_login agent)"

# IDEMPOTENCY=1: every create carries an Idempotency-Key (one more row per create).
idem() { [ "${IDEMPOTENCY:-0}" = 1 ] && printf 'header = "Idempotency-Key: wal-%d"\\n' "$1"; true; }

# creates FROM COUNT — a curl config of COUNT POSTs (one connection), prints the status
# codes that were not 201.
creates() {
  local from="$1" count="$2" cfg="$BENCH_TMP/creates.cfg" i n
  : >"$cfg"
  for ((i = from; i < from + count; i++)); do
    n=$((1 + i % UNITS))
    [ "$i" = "$from" ] || echo next >>"$cfg"
    printf 'url = "%s/v1/requests"\nrequest = "POST"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n%sdata = "{\\"type\\":\\"repair\\",\\"channel\\":\\"phone\\",\\"location\\":{\\"unit_id\\":\\"%s%012d\\"},\\"reporter\\":{\\"name\\":\\"王先生\\",\\"phone\\":\\"13800000000\\"},\\"description\\":\\"厨房漏水，水从楼上天花板滴下，请尽快派师傅上门查看（%d）\\"}"\n' \
      "$BENCH_URL" "$TOKEN" "$(idem "$i")" "$UUID_PREFIX" "$n" "$i" >>"$cfg"
  done
  curl -sS -K "$cfg" | grep -v '^201$' | sort | uniq -c || true
}

log "warm-up: $WARM creates"
bad="$(creates 0 "$WARM")"
[ -z "$bad" ] || die "warm-up creates answered: $bad"
# seal_all — seals every audit row now (deskd's sealer does it every second), so the
# measured range holds the seals of the measured creates and of nothing else.
# (audit_seals since migration 0030; before it the seal was audit_log.hash: A/B runs of an
# older binary work too.)
if [ "$(bench_psql deskd -tAc "SELECT to_regclass('audit_seals') IS NOT NULL")" = t ]; then
  UNSEALED="SELECT count(*) FROM audit_log a WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.id = a.id)"
else
  UNSEALED="SELECT count(*) FROM audit_log WHERE hash IS NULL"
fi
seal_all() {
  local left
  for _ in $(seq 1 200); do
    bench_psql deskd -tAc "SELECT audit_seal_pending(1000000)" >/dev/null
    left="$(bench_psql deskd -tAc "$UNSEALED")"
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  die "audit rows still unsealed"
}
seal_all
bench_psql deskd -qc "CHECKPOINT" >/dev/null
L0="$(bench_psql deskd -tAc "SELECT pg_current_wal_insert_lsn()")"
log "measured: $N creates"
bad="$(creates "$WARM" "$N")"
seal_all
L1="$(bench_psql deskd -tAc "SELECT pg_current_wal_insert_lsn()")"
[ -z "$bad" ] || die "creates answered: $bad"
bench_psql deskd -qtAc "SELECT pg_switch_wal()" >/dev/null # flushes the range for pg_walinspect
got="$(bench_psql deskd -tAc "SELECT count(*) FROM requests")"
log "requests in the database: $got"

bench_psql deskd <<SQL
\pset footer off
SELECT '$L0'::pg_lsn AS start_lsn, '$L1'::pg_lsn AS end_lsn, $N AS creates,
       round(pg_wal_lsn_diff('$L1', '$L0') / $N) AS wal_bytes_per_create,
       round(sum(fpi_length) / $N) AS fpi_bytes_per_create,
       round((pg_wal_lsn_diff('$L1', '$L0') - sum(fpi_length)) / $N) AS without_fpi_per_create,
       round(count(*)::numeric / $N, 1) AS records_per_create
  FROM pg_get_wal_records_info('$L0', '$L1');

-- Per relation: each record's length shared evenly among its block references.
WITH r AS (
  SELECT record_length, fpi_length,
         regexp_matches(block_ref, 'rel \\d+/\\d+/(\\d+)(?: fork (\\w+))? blk \\d+( FPW)?', 'g') AS m,
         cardinality(regexp_split_to_array(block_ref, 'blkref #')) - 1 AS nref
    FROM pg_get_wal_records_info('$L0', '$L1')
   WHERE block_ref IS NOT NULL AND block_ref <> '')
SELECT coalesce(pg_filenode_relation(0, m[1]::oid)::text, 'filenode ' || m[1]) ||
         coalesce(' (' || m[2] || ')', '') AS relation,
       round(sum(record_length::numeric / greatest(nref, 1)) / $N) AS bytes_per_create,
       round(sum(CASE WHEN m[3] IS NOT NULL THEN fpi_length::numeric / greatest(nref, 1) ELSE 0 END) / $N) AS of_which_fpi
  FROM r GROUP BY 1 ORDER BY 2 DESC LIMIT 40;

SELECT "resource_manager/record_type" AS record, count AS records,
       round(count::numeric / $N, 2) AS per_create,
       round(combined_size::numeric / $N) AS bytes_per_create,
       round(fpi_size::numeric / $N) AS of_which_fpi
  FROM pg_get_wal_stats('$L0', '$L1', true) WHERE count > 0
 ORDER BY combined_size DESC LIMIT 25;
SQL

# The audit rows the creates wrote: how wide they are (the full row image of a create is
# most of a create's WAL before migration 0024).
bench_psql deskd <<SQL
\pset footer off
SELECT action, count(*) AS rows, round(avg(pg_column_size(a.*))) AS avg_row_bytes,
       round(avg(pg_column_size(a.diff))) AS avg_diff_bytes
  FROM audit_log a WHERE id > (SELECT max(id) - $N * 3 FROM audit_log)
 GROUP BY 1 ORDER BY 2 DESC;
SQL
[ "${SHOW_AUDIT:-0}" = 1 ] && bench_psql deskd -c "SELECT diff FROM audit_log WHERE action = 'request.create' ORDER BY id DESC LIMIT 1"
true

# ---------------------------------------------------------------- CPU per create (PGBENCH_S)
# pgbench running deskd's own create statements (the unit look-up and the create CTE, as
# bench_requests.sh captures them) for PGBENCH_S seconds (10; 0 = skip) at PGBENCH_C
# clients (8, deskd's pool): transactions per second and PostgreSQL's CPU per create (ms,
# all backends' utime+stime / transactions) — the database work per create without HTTP.
# The tps depends on the machine's load; the CPU per create much less so.  Also the
# MultiXacts the run created (foreign-key row locks shared by concurrent creates).
PGBENCH_S="${PGBENCH_S:-10}"
PGBENCH_C="${PGBENCH_C:-8}"
if [ "$PGBENCH_S" -gt 0 ]; then
  bench_pg_set log_min_duration_statement 0
  sleep 0.2
  creates $((WARM + N)) 1 >/dev/null
  sleep 0.3
  bench_pg_set log_min_duration_statement default
  perl -I"$BENCH_DIR" -Mpglog -e 'pglog::create_script(@ARGV)' \
    "$BENCH_PGDATA/server.log" "$UUID_PREFIX" "$UNITS" "$BENCH_TMP/create.sql" "$BENCH_TMP/create.defs" 0 ||
    die "could not capture the create statements"
  bench_server_stop
  defs=()
  while IFS=$'\t' read -r k v; do defs+=(-D "$k=$v"); done <"$BENCH_TMP/create.defs"
  pgbench -n -M prepared -c"$PGBENCH_C" -j2 -T2 -f "$BENCH_TMP/create.sql" "${defs[@]}" deskd >/dev/null 2>&1 || true
  bench_psql deskd -qc "CHECKPOINT" >/dev/null
  # MultiXacts: a foreign-key check locks the referenced row FOR KEY SHARE (the project of
  # every create, its unit); a row another open transaction holds that way gets a MultiXact
  # (pg_multixact) naming both.  Counted over the whole run from the checkpoints' counters.
  MXQ="SELECT next_multixact_id::text::bigint || ' ' || next_multi_offset::text::bigint || ' ' || (SELECT count(*) FROM requests) FROM pg_control_checkpoint()"
  read -r mx0 mo0 rq0 < <(bench_psql deskd -tAc "$MXQ")
  # Time spent in each SQL / PL/pgSQL function (the triggers), per create.
  bench_pg_set track_functions all
  bench_psql deskd -qtAc "SELECT pg_stat_reset()" >/dev/null
  load0="$(cut -d' ' -f1-3 /proc/loadavg)"
  pm="$(head -1 "$BENCH_PGDATA/postmaster.pid")"
  # pg_cpu FILE: "pid ticks" of the postmaster and its children into FILE, read in one go (a
  # backend that exits meanwhile is left out, not an error that ends the script).
  pg_cpu() {
    local p f=()
    for p in "$pm" $(pgrep -P "$pm"); do f+=("/proc/$p/stat"); done
    cat "${f[@]}" 2>/dev/null | awk '{print $1, $14 + $15}' >"$1" || true
  }
  # CPU of the postmaster and its children alive at both ends of the window (pgbench's
  # backends live through the run), per transaction committed in that window: from every
  # client connected (at -c64 on a busy machine that takes seconds; a backend started after
  # the first sample would not be counted) to 1.5 s before pgbench's -T clock, which runs from
  # its start, ends (a backend gone by the second sample would not be counted either).
  t_launch="$(date +%s%N)"
  pgbench -n -M prepared -c"$PGBENCH_C" -j2 -T"$PGBENCH_S" -f "$BENCH_TMP/create.sql" "${defs[@]}" deskd \
    >"$BENCH_TMP/pgbench-create.txt" 2>&1 & pgb=$!
  for _ in $(seq 1 100); do
    [ "$(bench_psql deskd -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")" -ge "$PGBENCH_C" ] && break
    sleep 0.1
  done
  sleep 0.5
  pg_cpu "$BENCH_TMP/cpu0"; s0="$(bench_psql deskd -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'deskd'")"
  # PERF=1: a whole-machine profile of the same window, PostgreSQL's functions by share.
  perfpid=
  if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
    perf record -q -a -o "$BENCH_TMP/perf-create.data" -- sleep "$((PGBENCH_S - 3))" >/dev/null 2>&1 &
    perfpid=$!
  fi
  left_ms=$(((t_launch / 1000000) + PGBENCH_S * 1000 - 1500 - $(date +%s%N) / 1000000))
  [ "$left_ms" -ge 1000 ] || die "pgbench's clients took too long to connect: raise PGBENCH_S"
  sleep "$(awk -v m="$left_ms" 'BEGIN {printf "%.3f", m / 1000}')"
  pg_cpu "$BENCH_TMP/cpu1"; s1="$(bench_psql deskd -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'deskd'")"
  wait "$pgb" || { cat "$BENCH_TMP/pgbench-create.txt" >&2; die "pgbench of the create statements failed"; }
  if [ -n "$perfpid" ]; then
    wait "$perfpid" || true
    echo
    echo "perf (PERF=1), PostgreSQL's processes during the pgbench window, top symbols:"
    bench_perf_top "$BENCH_TMP/perf-create.data" "${PERF_TOP:-40}" --comms postgres --sort dso,sym
  fi
  # Each statement of the script is its own autocommit transaction (the unit look-up, when
  # captured, and the create): creates = xact_commit / statements per script run.
  per="$(grep -vc '^\\' "$BENCH_TMP/create.sql")"
  creates_n=$(((s1 - s0) / per))
  tps="$(awk '/^tps = / {print $3}' "$BENCH_TMP/pgbench-create.txt" | tail -1)"
  printf '\npgbench, deskd'"'"'s create statements: %s tps (-c%s, %ss, fsync off); PostgreSQL CPU %s ms per create; load average at start %s, at end %s\n' \
    "${tps%.*}" "$PGBENCH_C" "$PGBENCH_S" \
    "$(awk -v n="$creates_n" -v hz="$(getconf CLK_TCK)" 'NR == FNR {t0[$1] = $2; next}
        ($1 in t0) {t += $2 - t0[$1]} END {printf "%.3f", (n > 0 ? t * 1000 / hz / n : 0)}' \
        "$BENCH_TMP/cpu0" "$BENCH_TMP/cpu1")" \
    "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
  bench_psql deskd -qc "CHECKPOINT" >/dev/null
  read -r mx1 mo1 rq1 < <(bench_psql deskd -tAc "$MXQ")
  printf 'MultiXacts: %s created (%s members) for %s creates at -c%s: %s per create\n' \
    "$((mx1 - mx0))" "$((mo1 - mo0))" "$((rq1 - rq0))" "$PGBENCH_C" \
    "$(awk -v m="$((mx1 - mx0))" -v n="$((rq1 - rq0))" 'BEGIN {printf "%.2f", (n > 0 ? m / n : 0)}')"
  sleep 0.6 # the backends' function statistics reach the collector
  bench_psql deskd <<SQL
\pset footer off
SELECT funcname AS function, round(calls::numeric / x.n, 2) AS calls_per_create,
       round((self_time * 1000 / x.n)::numeric) AS self_us_per_create,
       round((total_time * 1000 / x.n)::numeric) AS total_us_per_create
  FROM pg_stat_user_functions,
       (SELECT xact_commit::numeric / $per AS n FROM pg_stat_database WHERE datname = 'deskd') x
 ORDER BY self_time DESC LIMIT 12;
SQL
fi
