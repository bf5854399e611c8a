#!/usr/bin/env bash
# bench/bench_sweep.sh — the SLA sweeper at scale: with 1,000,000 open requests of which
# 10,000 are due (their resolution clock breached), time one sweep (POST
# /v1/admin/sla/sweep as admin); then time sweeps with nothing due.
# Goals (issue 14): 10,000 escalations in under 0.5 s; an idle sweep under 1 ms.
# Self-contained: installs, builds (Release, build-bench), starts a throwaway cluster in a
# temp dir (fsync on, the default) and removes it on exit.
#
# The requests are loaded with SQL as deskd would have stored them at creation: type
# 'inquiry' (the demo project's default policy "默认": first response 5 min, resolution 2
# days, calendar time; escalate every hour), created by the agent, with the project's
# current default policy and calendar versions, the 'create' timeline event, the due
# columns, sla_next_due and sla_next_check (the warning time, 80 % of 2 days).
#   * 990,000 received within the last 24 h: next check 14–38 h ahead — nothing to do;
#   * 10,000 (every 100th) received 3 days ago: next check 1.4 days ago, resolution due
#     a day ago — each one breached clock, so exactly one escalation (to level 1,
#     supervisor) and no warning.
# Secondary indexes are dropped during the load and re-created from their own definitions
# (pg_get_indexdef; checked to be identical afterwards), foreign-key triggers skipped
# (session_replication_role = replica; the rows satisfy them by construction) — as
# tests/db/test_request_indexes.c does.
#
# Knobs: NREQ (1000000), NDUE (10000), IDLE_RUNS (9, twice: right after the due sweeps and
#        after a VACUUM), SWEEP_RUNS (3: the due sweep is
#        repeated after resetting the 10,000 to due; median reported), PERF=1 (perf record
#        -a during the first due sweep; report in the temp dir, keep it with BENCH_KEEP=1),
#        DESK_POOL_SIZE, DESK_THREADS,
#        BASELINE=/path/to/an/older/deskd (A/B on the same data: the database is migrated and
#        seeded by that binary, its SWEEP_RUNS due sweeps run first, then this build migrates
#        the same database forward and runs its own; the idle sweeps are this build's).
source "$(dirname "$0")/lib.sh"

NREQ="${NREQ:-1000000}"
NDUE="${NDUE:-10000}"
IDLE_RUNS="${IDLE_RUNS:-9}"
SWEEP_RUNS="${SWEEP_RUNS:-3}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
export DESK_SWEEP_INTERVAL_MS=0 # the background sweeper off: only the timed sweeps run
EVERY=$((NREQ / NDUE))
[ "$EVERY" -ge 2 ] || die "NDUE must be at most NREQ / 2"
ID_PREFIX="10000000-0000-4000-8000-" # request n: ID_PREFIX || n zero-padded to 12 digits

BASELINE="${BASELINE:-}"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not executable"

bench_init
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
T_BEGIN=$SECONDS
bench_build
bench_pg_start
if [ -n "$BASELINE" ]; then DESKD="$BASELINE" bench_migrate_seed; else bench_migrate_seed; fi
# Loading only: fewer checkpoints while 1M rows and their indexes are written.
bench_pg_set max_wal_size 8GB

# ---------------------------------------------------------------- load
log "loading $NREQ open requests ($NDUE due) with their 'create' events"
t0=$SECONDS
bench_psql deskd -q >"$BENCH_TMP/load.log" <<SQL
\\set ON_ERROR_STOP 1
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 1;
CREATE TEMP TABLE ids AS
SELECT o.id AS org, p.id AS project,
  (SELECT u.id FROM users u WHERE u.org_id = o.id AND u.username = 'agent') AS agent,
  (SELECT v.id FROM sla_policies s JOIN sla_policy_versions v ON v.policy_id = s.id
     AND v.version = s.current_version
   WHERE s.project_id = p.id AND s.active AND s.match_type IS NULL
     AND s.match_severity IS NULL AND s.match_category IS NULL) AS policy_version,
  (SELECT v.id FROM sla_calendars k JOIN sla_calendar_versions v ON v.calendar_id = k.id
     AND v.version = k.current_version WHERE k.project_id = p.id) AS calendar_version
FROM organisations o JOIN projects p ON p.org_id = o.id
WHERE o.code = 'demo' AND p.code = 'SUNRISE';
DO \$chk\$ BEGIN -- the demo seed and SLA defaults are there
  IF (SELECT count(*) FROM ids WHERE agent IS NOT NULL AND policy_version IS NOT NULL
      AND calendar_version IS NOT NULL) <> 1 THEN
    RAISE EXCEPTION 'demo project, agent or default SLA policy/calendar version not found';
  END IF;
END \$chk\$;

-- Secondary (non-constraint) indexes: saved, dropped, re-created after the load.
CREATE TABLE bench_saved_ix AS
SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS name,
       pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i WHERE i.indrelid IN ('requests'::regclass, 'request_events'::regclass)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
CREATE TABLE bench_ix_before AS
SELECT indrelid::regclass::text AS tbl, string_agg(pg_get_indexdef(indexrelid), E'\n'
       ORDER BY indexrelid::regclass::text) AS defs
FROM pg_index WHERE indrelid IN ('requests'::regclass, 'request_events'::regclass) GROUP BY 1;
SELECT format('DROP INDEX %s', name) FROM bench_saved_ix \\gexec

SET session_replication_role = replica;
\\timing on
INSERT INTO requests (id, org_id, project_id, number, type, channel, location_kind,
  common_area, reporter_name, reporter_phone, description, state, received_at,
  last_event_at, created_by, created_at, updated_at, sla_policy_version_id,
  sla_calendar_version_id, due_first_response, due_resolution, sla_next_due, sla_next_check,
  search_terms)
SELECT ('$ID_PREFIX' || lpad(g::text, 12, '0'))::uuid, ids.org, ids.project,
  'SW-2026-' || lpad(g::text, 7, '0'), 'inquiry', 'phone', 'common_area', '大堂',
  '王先生', '13800000000', '咨询物业费缴纳方式（' || g || '）', 'received',
  t.received, t.received, ids.agent, t.received, t.received, ids.policy_version,
  ids.calendar_version, t.received + interval '5 minutes', t.received + interval '2 days',
  t.received + interval '2 days', t.received + interval '2 days' * 0.8,
  search_bigrams(' 咨询物业费缴纳方式（' || g || '） SW-2026-' || lpad(g::text, 7, '0'))
FROM ids, generate_series(1, $NREQ) g,
  LATERAL (SELECT date_trunc('second', CASE WHEN g % $EVERY = 0
      THEN now() - interval '3 days' - (g % 3600) * interval '1 second'
      ELSE now() - (g % 86000) * interval '1 second' END) AS received) t;
INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, to_state,
  channel, occurred_at, recorded_at, details)
SELECT r.org_id, r.id, 1, r.created_by, 'agent', 'create', 'received', r.channel,
  r.received_at, r.received_at, '{"channel": "phone"}'::jsonb
FROM requests r WHERE r.number LIKE 'SW-%' ORDER BY r.id;
RESET session_replication_role;
SELECT def FROM bench_saved_ix \\gexec
\\timing off
DO \$chk\$ BEGIN -- the indexes are exactly those of the schema again
  IF (SELECT string_agg(b.defs, E'\n---\n' ORDER BY b.tbl) FROM bench_ix_before b)
    IS DISTINCT FROM (SELECT string_agg(x.defs, E'\n---\n' ORDER BY x.tbl) FROM (
      SELECT indrelid::regclass::text AS tbl, string_agg(pg_get_indexdef(indexrelid), E'\n'
        ORDER BY indexrelid::regclass::text) AS defs FROM pg_index
      WHERE indrelid IN ('requests'::regclass, 'request_events'::regclass) GROUP BY 1) x) THEN
    RAISE EXCEPTION 'the re-created indexes differ from the schema''s';
  END IF;
END \$chk\$;
DROP TABLE bench_saved_ix, bench_ix_before;
SQL
bench_psql deskd -qc "VACUUM ANALYZE" >/dev/null
bench_pg_set max_wal_size default
bench_psql deskd -qc "CHECKPOINT" >/dev/null
LOAD_S=$((SECONDS - t0))
read -r N_OPEN N_DUE_NOW < <(bench_psql deskd -tAF' ' -c \
  "SELECT count(*), count(*) FILTER (WHERE sla_next_check <= now()) FROM requests WHERE state = 'received'")
[ "$N_OPEN" = "$NREQ" ] && [ "$N_DUE_NOW" = "$NDUE" ] ||
  die "loaded $N_OPEN open requests with $N_DUE_NOW due (wanted $NREQ / $NDUE)"
log "loaded in ${LOAD_S}s: $N_OPEN open requests, $N_DUE_NOW due; requests $(bench_psql deskd -tAc "SELECT pg_size_pretty(pg_total_relation_size('requests'))") with indexes"

# ---------------------------------------------------------------- server

# sweep OUT — one POST /v1/admin/sla/sweep; writes the JSON answer to OUT and prints
# "duration_ms examined warnings escalations batches curl_ms".
sweep() {
  local code t
  read -r code t < <(curl -sS --max-time 300 -o "$1" -w '%{http_code} %{time_total}\n' -X POST \
    -H "Authorization: Bearer $TOKEN" "$BENCH_URL/v1/admin/sla/sweep")
  [ "$code" = 200 ] || die "sweep answered $code: $(cat "$1")"
  local j; j="$(cat "$1")"
  field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$j"; }
  echo "$(field duration_ms) $(field examined) $(field warnings) $(field escalations) $(field batches) $(awk -v t="$t" 'BEGIN {printf "%.3f", t * 1000}')"
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# reset_due — puts the NDUE requests back to due and unescalated (for repeated runs).
reset_due() {
  bench_psql deskd -q >/dev/null <<SQL
-- request_events is append-only (a trigger refuses DELETE): the bench's own reset skips
-- user triggers, as the load does; so does the requests UPDATE (no audit rows for it).
SET session_replication_role = replica;
DELETE FROM notifications WHERE kind IN ('sla_warning', 'sla_escalation');
DELETE FROM request_events WHERE action IN ('escalate', 'sla_warning');
DELETE FROM sla_alerts;
UPDATE requests SET escalation_level = 0, version = 1, updated_at = received_at,
  sla_next_check = received_at + interval '2 days' * 0.8
WHERE number LIKE 'SW-%' AND received_at < now() - interval '2 days';
RESET session_replication_role;
VACUUM ANALYZE requests, request_events, sla_alerts, notifications;
CHECKPOINT;
SQL
}

# due_sweeps SIDE — SWEEP_RUNS due sweeps against the running server; appends to DUE_LINES
# and sets SIDE_MED, SIDE_CURL_MED, SIDE_PGCPU, SIDE_DCPU (medians) and SIDE_STMTS.
TCK="$(getconf CLK_TCK)"
FRESH=1 # the loaded data is due as loaded: the very first sweep needs no reset
DUE_LINES=()
due_sweeps() {
local side="$1" run DUE_MS=() DUE_CURL=() DUE_PGCPU=() DUE_DCPU=() STMT_BREAKDOWN=""
for run in $(seq 1 "$SWEEP_RUNS"); do
  [ "$FRESH" = 1 ] || { log "resetting the $NDUE requests to due"; reset_due; }
  FRESH=0
  log "$side: sweep $run/$SWEEP_RUNS with $NDUE due"
  if [ "$run" = 1 ] && [ "$side" = new ] && [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
    perf record -q -a -g -o "$BENCH_TMP/perf-sweep.data" -- sleep 30 >/dev/null 2>&1 &
    perfpid=$!
    sleep 0.5
  fi
  # The last run with statement logging: where the database time goes, per statement.
  if [ "$run" = "$SWEEP_RUNS" ]; then
    bench_pg_set log_min_duration_statement 0
    log_from=$(($(wc -l <"$BENCH_PGDATA/server.log") + 1))
  fi
  # CPU (clock ticks) of the PostgreSQL processes and of deskd, and WAL, over the sweep: less
  # sensitive to other load on the machine than the wall time.
  pgp="$(pg_pids)"; c_pg0="$(cpu_ticks $pgp)"; c_d0="$(cpu_ticks "$BENCH_SERVER_PID")"; l0="$(wal_lsn)"
  read -r d_ms d_ex d_w d_esc d_b d_curl < <(sweep "$BENCH_TMP/sweep-due-$run.json")
  # backends started during the sweep (a pooled connection opened for it) count in full
  c_pg=$(( ($(cpu_ticks $(printf '%s\n' $pgp $(pg_pids) | sort -u)) - c_pg0) * 1000 / TCK )); c_d=$(( ($(cpu_ticks "$BENCH_SERVER_PID") - c_d0) * 1000 / TCK ))
  wal_mb="$(bench_psql deskd -tAc "SELECT round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$l0') / 1048576.0, 1)")"
  DUE_PGCPU+=("$c_pg"); DUE_DCPU+=("$c_d")
  if [ "$run" = "$SWEEP_RUNS" ]; then
    bench_pg_set log_min_duration_statement default
    STMT_BREAKDOWN="$(tail -n +"$log_from" "$BENCH_PGDATA/server.log" | grep -a 'duration: ' |
      grep -av 'pg_reload_conf\|ALTER SYSTEM' |
      sed -E 's/.*duration: ([0-9.]+) ms  (statement: [A-Za-z]+|[a-z]+ [a-z_<>]+).*/\2 \1/' |
      awk '{k = $1 " " $2; s[k] += $3; n[k]++} END {for (k in s) if (s[k] >= 1)
        printf "  %-26s x%-4d %8.1f ms  (%.2f ms each)\n", k, n[k], s[k], s[k] / n[k]}' |
      sort -k3 -rn)"
  fi
  if [ -n "${perfpid:-}" ]; then
    kill -INT "$perfpid" 2>/dev/null; wait "$perfpid" 2>/dev/null || true; perfpid=""
    { bench_perf_top "$BENCH_TMP/perf-sweep.data" 4 --sort comm
      echo "  postgres:"
      bench_perf_top "$BENCH_TMP/perf-sweep.data" 20 --comms postgres --sort dso,sym
    } >"$BENCH_TMP/perf-sweep.txt" || true
  fi
  log "  duration_ms $d_ms (curl ${d_curl} ms), examined $d_ex, warnings $d_w, escalations $d_esc, batches $d_b"
  read -r A_ESC A_REQ A_WARN EV_ESC LVL1 NOTIF < <(bench_psql deskd -tAF' ' -c "
    SELECT (SELECT count(*) FROM sla_alerts WHERE kind = 'escalation'),
           (SELECT count(DISTINCT request_id) FROM sla_alerts WHERE kind = 'escalation'),
           (SELECT count(*) FROM sla_alerts WHERE kind = 'warning'),
           (SELECT count(*) FROM request_events WHERE action = 'escalate'),
           (SELECT count(*) FROM requests WHERE escalation_level = 1),
           (SELECT count(*) FROM notifications WHERE kind = 'sla_escalation')")
  [ "$d_esc" = "$NDUE" ] && [ "$A_ESC" = "$NDUE" ] && [ "$A_REQ" = "$NDUE" ] && [ "$A_WARN" = 0 ] &&
    [ "$EV_ESC" = "$NDUE" ] && [ "$LVL1" = "$NDUE" ] ||
    die "run $run: sweep reported $d_esc escalations; SQL: $A_ESC escalation alerts on $A_REQ requests, $A_WARN warnings, $EV_ESC escalate events, $LVL1 requests at level 1 (wanted $NDUE each, 0 warnings)"
  DUE_MS+=("$d_ms"); DUE_CURL+=("$d_curl")
  DUE_LINES+=("$side run $run: duration_ms $d_ms, curl $d_curl ms, examined $d_ex, escalations $d_esc (sla_alerts $A_ESC on $A_REQ requests, $EV_ESC escalate events, $NOTIF notifications); CPU PostgreSQL $c_pg ms, deskd $c_d ms; WAL $wal_mb MB; load $(cut -d' ' -f1 /proc/loadavg)")
done
printf -v "${side}_MED" '%s' "$(printf '%s\n' "${DUE_MS[@]}" | median)"
printf -v "${side}_CURL_MED" '%s' "$(printf '%s\n' "${DUE_CURL[@]}" | median)"
printf -v "${side}_PGCPU" '%s' "$(printf '%s\n' "${DUE_PGCPU[@]}" | median)"
printf -v "${side}_DCPU" '%s' "$(printf '%s\n' "${DUE_DCPU[@]}" | median)"
printf -v "${side}_STMTS" '%s' "$STMT_BREAKDOWN"
}

SIDES=(new); [ -n "$BASELINE" ] && SIDES=(base new)
for side in "${SIDES[@]}"; do
  if [ "$side" = base ]; then
    log "baseline: $BASELINE"
    DESKD="$BASELINE" bench_server_start
  else
    if [ -n "$BASELINE" ]; then
      bench_server_stop
      log "this build migrates the baseline's database forward"
      DESK_JWT_SECRET="$(bench_secret)" "$DESKD" --migrate --no-serve >>"$BENCH_TMP/migrate.log" 2>&1 ||
        { cat "$BENCH_TMP/migrate.log" >&2; die "migration by this build failed"; }
    fi
    bench_server_start
  fi
  TOKEN="$(bench_login admin)"
  due_sweeps "$side"
done
DUE_MED="$new_MED"; DUE_CURL_MED="$new_CURL_MED"

# ---------------------------------------------------------------- idle sweeps
# idle_runs TAG — IDLE_RUNS sweeps with nothing due; sets TAG_MS / TAG_CURL (lists) and
# TAG_MED / TAG_CURL_MED.
idle_runs() {
  local ms=() cu=() i i_ms i_ex i_curl
  for i in $(seq 1 "$IDLE_RUNS"); do
    read -r i_ms i_ex _ _ _ i_curl < <(sweep "$BENCH_TMP/sweep-idle-$1-$i.json")
    [ "$i_ex" = 0 ] || die "idle sweep $i examined $i_ex requests"
    ms+=("$i_ms"); cu+=("$i_curl")
    sleep 0.2
  done
  printf -v "${1}_MS" '%s ' "${ms[@]}"
  printf -v "${1}_CURL" '%s ' "${cu[@]}"
  printf -v "${1}_MED" '%s' "$(printf '%s\n' "${ms[@]}" | median)"
  printf -v "${1}_CURL_MED" '%s' "$(printf '%s\n' "${cu[@]}" | median)"
}
# Right after the due sweeps the work-queue index still holds the entries of the 20,000
# row versions the sweep replaced (until (auto)vacuum); then after a VACUUM.
log "$IDLE_RUNS idle sweeps (nothing due) right after the due sweeps"
idle_runs IDLE
log "VACUUM requests, then $IDLE_RUNS more idle sweeps"
bench_psql deskd -qc "VACUUM ANALYZE requests" >/dev/null
# With statement logging: what an idle sweep sends and what the server spends on it
# (a bind that takes a while is planning; a prepared statement on its generic plan binds
# in a few microseconds).
bench_pg_set log_min_duration_statement 0
log_from=$(($(wc -l <"$BENCH_PGDATA/server.log") + 1))
idle_runs IDLEV
bench_pg_set log_min_duration_statement default
IDLE_BREAKDOWN="$(tail -n +"$log_from" "$BENCH_PGDATA/server.log" | grep -a 'duration: ' |
  grep -av 'pg_reload_conf\|ALTER SYSTEM\|wh_claim\|audit_seal\|janitor\|custody\|callback\|duty' |
  sed -E 's/.*duration: ([0-9.]+) ms  (statement: [A-Za-z]+|[a-z]+ [^:]+).*/\2 \1/' |
  awk '{k = $1 " " $2; s[k] += $3; n[k]++} END {for (k in s)
    printf "  %-30s x%-4d %8.3f ms  (%.3f ms each)\n", k, n[k], s[k], s[k] / n[k]}' | sort -k3 -rn)"
read -r HWM RSS < <(bench_rss "$BENCH_SERVER_PID")
# The work queue query as the sweeper runs it, with nothing due.
bench_psql deskd -tAc "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT id FROM requests
  WHERE sla_next_check <= now() ORDER BY sla_next_check LIMIT 500 FOR UPDATE SKIP LOCKED" \
  >"$BENCH_TMP/idle-plan.txt"

verdict() { awk -v v="$1" -v g="$2" 'BEGIN {print (v < g) ? "meets the goal (< " g " ms)" : "MISSES the goal of < " g " ms"}'; }
cat <<REPORT

================ deskd SLA sweep at scale ($(date -u +%Y-%m-%dT%H:%MZ)) ================
machine        : $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); deskd and PostgreSQL share them
                 PostgreSQL 15, fsync=$(bench_psql postgres -tAc 'SHOW fsync'), shared_buffers=$(bench_psql postgres -tAc 'SHOW shared_buffers')
data           : $N_OPEN open requests, $N_DUE_NOW due (resolution breached), loaded in ${LOAD_S}s
deskd          : DESK_POOL_SIZE=${DESK_POOL_SIZE:-8} sweeper off (DESK_SWEEP_INTERVAL_MS=0), sweep via POST /v1/admin/sla/sweep as admin
                 new = $DESKD$([ -n "$BASELINE" ] && printf '; base = %s (its sweeps first, on the same data)' "$BASELINE")

due sweep ($NDUE escalations), $SWEEP_RUNS run(s):
$(printf '  %s\n' "${DUE_LINES[@]}")
$(for side in "${SIDES[@]}"; do
  m="${side}_MED"; cm="${side}_CURL_MED"; pc="${side}_PGCPU"; dc="${side}_DCPU"; st="${side}_STMTS"
  echo "  $side: median duration_ms ${!m} (curl ${!cm} ms)   -> $(verdict "${!m}" 500)"
  echo "  $side: median CPU per due sweep: PostgreSQL ${!pc} ms (all its processes: the sweep's backend, the audit sealer, autovacuum), deskd ${!dc} ms"
  echo "  $side: database time of its last due sweep by statement (log_min_duration_statement = 0):"
  echo "${!st}"
done)
idle sweep right after, $IDLE_RUNS runs: duration_ms $IDLE_MS
                                   curl ms     $IDLE_CURL
  median duration_ms $IDLE_MED (curl $IDLE_CURL_MED ms)   -> $(verdict "$IDLE_MED" 1)
idle sweep after VACUUM, $IDLE_RUNS runs: duration_ms $IDLEV_MS
                                    curl ms     $IDLEV_CURL
  median duration_ms $IDLEV_MED (curl $IDLEV_CURL_MED ms)   -> $(verdict "$IDLEV_MED" 1)
statements of those idle sweeps and their server time (log_min_duration_statement = 0;
other background workers' statements left out):
$IDLE_BREAKDOWN
idle work-queue query: $(grep -E 'Index|Seq Scan|Execution Time' "$BENCH_TMP/idle-plan.txt" | sed 's/^ *//' | paste -sd';' | sed 's/;/; /g')
deskd peak RSS (VmHWM) : $((HWM / 1024)) MiB ($HWM kB)
total runtime  : $((SECONDS - T_BEGIN)) s
load average   : $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end
REPORT
[ -s "$BENCH_TMP/perf-sweep.txt" ] && { echo; echo "perf -a during the first due sweep (share of all samples on both CPUs, idle = swapper):"; cat "$BENCH_TMP/perf-sweep.txt"; }
true
