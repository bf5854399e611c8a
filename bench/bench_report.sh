#!/usr/bin/env bash
# bench/bench_report.sh — the monthly summary (投诉月度汇总表 + totals + KPIs, GET
# /v1/projects/{id}/reports/monthly/{month}) of a project with 100,000 requests received in
# one month, as JSON and as CSV, timed through deskd over several runs.
# Goal (issue 12): well under a second.  Not run by the tests (tests/db/test_report_plan.c
# asserts the index use; this prints the time).
# Self-contained: installs, builds (Release, build-bench), starts a throwaway cluster in a
# temp dir and removes it on exit.
#
# The requests are loaded with SQL (generate_series) into the demo project 阳光花园
# (Asia/Shanghai) in the previous local month, as deskd would have stored them: 45 %
# repairs (rework possible: 300 units), 30 % complaints (the form's rows), the rest
# inquiries and emergencies; 85 % resolved and closed, resolution due 48 h after receipt;
# the timeline's 'create' event, a staff dispatch 0–15 min after receipt for 90 %, a
# callback result on half of the closed ones, a work order for each assigned request.
# Foreign-key triggers are skipped during the load (session_replication_role = replica;
# the rows satisfy them by construction), then request_facts filled as the migration does
# (request_facts_fill(): the facts its triggers would have written) and ANALYZE.
#
# Knobs: NREQ (100000), RUNS (21 per format; median and p99 (nearest rank) reported),
#        MONTH (YYYY-MM; default the previous month), DESK_POOL_SIZE, DESK_THREADS,
#        EXPLAIN=1 (log the plans of statements over 100 ms with auto_explain and print them),
#        BASELINE=/path/to/another/deskd (A/B on the same data: that binary serves on a second
#        port, its GETs alternate with this build's, its times are printed too and both
#        answers are compared byte for byte, "as_of" aside).
source "$(dirname "$0")/lib.sh"

NREQ="${NREQ:-100000}"
RUNS="${RUNS:-21}"
MONTH="${MONTH:-$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-01) -1 month" +%Y-%m)}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
export DESK_SWEEP_INTERVAL_MS=0 # no background sweeper competing with the timed GETs

bench_init
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
T_BEGIN=$SECONDS
bench_build
bench_pg_start
bench_migrate_seed

# ---------------------------------------------------------------- load
log "loading $NREQ requests received in $MONTH (Asia/Shanghai) into the demo project"
t0=$SECONDS
bench_psql deskd -q -v month="$MONTH" -v nreq="$NREQ" >"$BENCH_TMP/load.log" <<'SQL'
\set ON_ERROR_STOP 1
SET session_replication_role = replica;
SELECT setseed(0.42);
CREATE TEMP TABLE pr AS
SELECT p.org_id, p.id AS project_id,
  (SELECT array_agg(u.id ORDER BY u.id) FROM units u WHERE u.project_id = p.id) AS units,
  (SELECT array_agg(d.id ORDER BY d.id) FROM departments d WHERE d.project_id = p.id) AS depts,
  (SELECT array_agg(u.id ORDER BY u.id) FROM users u WHERE u.org_id = p.org_id
     AND u.role IN ('technician', 'agent', 'supervisor')) AS staff,
  (SELECT u.id FROM users u WHERE u.org_id = p.org_id AND u.username = 'agent') AS agent,
  (:'month' || '-01 00:00:00 Asia/Shanghai')::timestamptz AS m0
FROM projects p JOIN organisations o ON o.id = p.org_id
WHERE o.code = 'demo' AND p.code = 'SUNRISE';
-- 300 units so that repairs of the same unit recur within the month (rework)
INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2)
SELECT b.org_id, b.project_id, b.id, 'BR-' || i, 1 + i % 30, 80
FROM buildings b JOIN pr ON pr.project_id = b.project_id,
     generate_series(1, 300 - cardinality(pr.units)) i
WHERE b.id = (SELECT min(b2.id::text)::uuid FROM buildings b2 WHERE b2.project_id = pr.project_id)
  AND cardinality(pr.units) < 300;
UPDATE pr SET units = (SELECT array_agg(u.id ORDER BY u.id) FROM units u WHERE u.project_id = pr.project_id);

WITH s AS (
  SELECT g, random() AS a, random() AS b, random() AS c, random() AS d, random() AS e,
    pr.m0 + floor(random() * extract(epoch FROM (pr.m0 + interval '1 month') - pr.m0))
      * interval '1 second' AS ts
  FROM generate_series(1, :nreq) g, pr),
t AS (
  SELECT s.*, pr.*,
    CASE WHEN s.a < 0.45 THEN 'repair' WHEN s.a < 0.75 THEN 'complaint'
      WHEN s.a < 0.90 THEN 'inquiry' ELSE 'emergency' END AS typ,
    (ARRAY[1, 12, 47, 48, 49, 96])[1 + floor(s.c * 6)::int] AS res_h
  FROM s, pr)
INSERT INTO requests (org_id, project_id, number, type, channel, severity, category,
  validity, state, location_kind, unit_id, common_area, reporter_name, reporter_phone,
  title, description, department_id, assignee_id, reopen_count, resolution, received_at,
  resolved_at, closed_at, due_resolution, last_event_at, created_by, created_at,
  updated_at, search_terms)
SELECT org_id, project_id, 'BR-' || lpad(g::text, 7, '0'), typ,
  (ARRAY['phone','app','visit','web'])[1 + floor(b * 4)::int],
  CASE WHEN typ = 'complaint' THEN (ARRAY['major','important','general'])[1 + floor(d * 3)::int] END,
  CASE WHEN typ = 'complaint' THEN (ARRAY['attitude','timeliness','quality','fees'])[1 + floor(e * 4)::int] END,
  CASE WHEN typ = 'complaint' THEN (ARRAY['valid','valid','invalid','unknown'])[1 + floor(e * 4)::int] ELSE 'unknown' END,
  CASE WHEN c < 0.85 THEN 'closed' ELSE 'accepted' END,
  CASE WHEN d < 0.8 THEN 'unit' ELSE 'common_area' END,
  CASE WHEN d < 0.8 THEN units[1 + floor(e * cardinality(units))::int] END,
  CASE WHEN d >= 0.8 THEN '小区大堂' END,
  '李女士', '139' || lpad(g::text, 8, '0'), '报表' || g,
  '楼道灯不亮，已经一周，请尽快处理（编号' || g || '）',
  depts[1 + floor(b * cardinality(depts))::int],
  CASE WHEN b < 0.9 THEN staff[1 + floor(a * cardinality(staff))::int] END,
  CASE WHEN g % 20 = 0 THEN 1 ELSE 0 END,
  CASE WHEN c < 0.85 THEN '已更换灯管，住户确认' END,
  ts, CASE WHEN c < 0.85 THEN ts + res_h * interval '1 hour' END,
  CASE WHEN c < 0.85 THEN ts + (res_h + 24) * interval '1 hour' END,
  ts + interval '48 hours', ts, agent, ts, ts, '{}'
FROM t;

INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, to_state,
  channel, occurred_at, details)
SELECT org_id, id, 1, created_by, CASE WHEN channel = 'app' THEN 'resident' ELSE 'agent' END,
  'create', 'received', channel, received_at, '{}'
FROM requests WHERE number LIKE 'BR-%';
INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, from_state,
  to_state, occurred_at, details)
SELECT org_id, id, 2, created_by, 'agent', 'dispatch', 'received', 'dispatched',
  received_at + (ARRAY[0, 60, 299, 300, 301, 900])[1 + (hashtext(number) & 1023) % 6]
    * interval '1 second', '{}'
FROM requests WHERE number LIKE 'BR-%' AND hashtext(number) % 10 <> 0;
INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action,
  occurred_at, details)
SELECT org_id, id, 3, created_by, 'agent', 'callback_result', closed_at,
  jsonb_build_object('rating', (ARRAY['very_satisfied','satisfied','average','dissatisfied',
    'very_dissatisfied'])[1 + (hashtext(number) & 1023) % 5], 'note', '回访：已解决')
FROM requests WHERE number LIKE 'BR-%' AND closed_at IS NOT NULL AND (hashtext(number) & 2) = 0;
INSERT INTO work_orders (org_id, project_id, request_id, number, department_id, assignee_id,
  state, dispatched_at, created_at, updated_at)
SELECT org_id, project_id, id, 'GD' || substr(number, 3), department_id, assignee_id,
  'signed_off', received_at + interval '10 minutes', received_at + interval '10 minutes',
  received_at + interval '10 minutes'
FROM requests WHERE number LIKE 'BR-%' AND assignee_id IS NOT NULL AND department_id IS NOT NULL;
-- 返修 as the intake trigger (0022) marks it, which the load skips: a repair of a unit whose
-- previous repair of the same category closed at most 30 days before it was received
UPDATE requests n SET repeat_of = (SELECT p.id FROM requests p WHERE p.unit_id = n.unit_id
  AND p.type = 'repair' AND p.state = 'closed' AND p.org_id = n.org_id
  AND p.category IS NOT DISTINCT FROM n.category AND p.closed_at >= n.received_at - interval '30 days'
  AND p.closed_at <= n.received_at ORDER BY p.closed_at DESC LIMIT 1)
WHERE n.number LIKE 'BR-%' AND n.type = 'repair' AND n.unit_id IS NOT NULL;
UPDATE requests SET is_repeat = repeat_of IS NOT NULL WHERE number LIKE 'BR-%';
RESET session_replication_role;
-- the timeline's facts the report reads (request_facts, 0038), which the skipped triggers
-- keep: the migration's backfill
SELECT request_facts_fill();
ANALYZE;
SQL
LOAD_S=$((SECONDS - t0))
PROJECT="$(bench_psql deskd -tAc "SELECT p.id FROM projects p JOIN organisations o ON o.id = p.org_id WHERE o.code = 'demo' AND p.code = 'SUNRISE'")"
N_MONTH="$(bench_psql deskd -tAc "SELECT count(*) FROM requests WHERE project_id = '$PROJECT' AND received_at >= '$MONTH-01 00:00 Asia/Shanghai' AND received_at < ('$MONTH-01 00:00 Asia/Shanghai'::timestamptz + interval '1 month')")"
N_COMPLAINTS="$(bench_psql deskd -tAc "SELECT count(*) FROM requests WHERE number LIKE 'BR-%' AND type = 'complaint'")"
[ "$N_MONTH" -ge "$NREQ" ] || die "only $N_MONTH requests in $MONTH"
log "loaded in ${LOAD_S}s: $N_MONTH requests in $MONTH ($N_COMPLAINTS complaints: the form's rows)"

# EXPLAIN=1: every statement of the report taking over 100 ms is logged with its
# EXPLAIN (ANALYZE, BUFFERS) plan (auto_explain), printed at the end.
if [ "${EXPLAIN:-0}" = 1 ]; then
  bench_pg_set session_preload_libraries auto_explain
  bench_pg_set auto_explain.log_min_duration 100
  bench_pg_set auto_explain.log_analyze on
  bench_pg_set auto_explain.log_buffers on
  bench_pg_set auto_explain.log_timing on
fi
# The statement's own time: every execution of report_aggregate is logged with its duration
# (log_min_duration_statement), printed per build at the end (with BASELINE the GETs
# alternate, so do the executions: this build's first, then the baseline's).
bench_pg_set log_min_duration_statement 0
BASE_URL=""
BENCH_JWT_SECRET="$(bench_secret)" # one secret for both servers (a token works on either)
if [ -n "${BASELINE:-}" ]; then
  [ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not an executable"
  DESKD_SAVED="$DESKD" DESKD="$BASELINE"
  bench_server_start
  BASE_PID=$BENCH_SERVER_PID BASE_URL="$BENCH_URL/v1/projects/$PROJECT/reports/monthly/$MONTH"
  DESKD="$DESKD_SAVED"
  trap 'kill -TERM "$BASE_PID" 2>/dev/null; bench_cleanup' EXIT
fi
bench_server_start
TOKEN="$(bench_login manager)"
URL="$BENCH_URL/v1/projects/$PROJECT/reports/monthly/$MONTH"

# timed FORMAT — RUNS GETs (after one warm-up); prints the times in ms, one a line; checks
# each answer is 200 and (the first) looks right.
# With BASELINE the baseline's GET runs right after each of ours (times in base.FORMAT.ms).
timed() {
  local fmt="$1" q="" i code t size
  [ "$fmt" = csv ] && q="?format=csv"
  curl -sS --max-time 120 -o "$BENCH_TMP/warm.$fmt" -H "Authorization: Bearer $TOKEN" "$URL$q" ||
    die "warm-up $fmt failed"
  [ -z "$BASE_URL" ] || curl -sS --max-time 120 -o /dev/null -H "Authorization: Bearer $TOKEN" \
    "$BASE_URL$q" || die "baseline warm-up $fmt failed"
  : >"$BENCH_TMP/base.$fmt.ms"
  for ((i = 1; i <= RUNS; i++)); do
    read -r code t size < <(curl -sS --max-time 120 -o "$BENCH_TMP/out.$fmt" \
      -w '%{http_code} %{time_total} %{size_download}\n' -H "Authorization: Bearer $TOKEN" "$URL$q")
    [ "$code" = 200 ] || die "$fmt run $i: HTTP $code: $(head -c 300 "$BENCH_TMP/out.$fmt")"
    awk -v t="$t" 'BEGIN {printf "%.1f\n", t * 1000}'
    if [ -n "$BASE_URL" ]; then
      read -r code t _ < <(curl -sS --max-time 120 -o "$BENCH_TMP/base.$fmt" \
        -w '%{http_code} %{time_total} %{size_download}\n' -H "Authorization: Bearer $TOKEN" \
        "$BASE_URL$q")
      [ "$code" = 200 ] || die "baseline $fmt run $i: HTTP $code"
      awk -v t="$t" 'BEGIN {printf "%.1f\n", t * 1000}' >>"$BENCH_TMP/base.$fmt.ms"
    fi
  done
  echo "$size" >"$BENCH_TMP/size.$fmt"
}
# same FORMAT — "identical" when this build's and the baseline's last answers are the same
# bytes ("as_of", the instant of the GET, aside; a build that adds to the answer differs).
same() {
  if cmp -s <(sed -E 's/"as_of":"[^"]*"//' "$BENCH_TMP/out.$1") \
    <(sed -E 's/"as_of":"[^"]*"//' "$BENCH_TMP/base.$1"); then echo identical; else echo DIFFERENT; fi
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
p99() { sort -g | awk '{v[NR] = $1} END {k = int(NR * 0.99); if (k < NR * 0.99) k++; if (k < 1) k = 1; print v[k]}'; }

log "GET $URL (JSON) x $RUNS"
JSON_MS="$(timed json)"
ROWS="$(jq '.rows | length' "$BENCH_TMP/out.json" 2>/dev/null || echo '?')"
TOTAL="$(jq '.overall.counts.total' "$BENCH_TMP/out.json" 2>/dev/null || echo '?')"
[ "$TOTAL" = "$N_MONTH" ] || die "the summary counts $TOTAL requests, the month has $N_MONTH"
log "GET $URL?format=csv x $RUNS"
CSV_MS="$(timed csv)"
CSV_LINES="$(wc -l <"$BENCH_TMP/out.csv")"

# stmt_ms N K — the durations (ms) of report_aggregate executions K, K+N, K+2N, ... (1-based)
# of the log, warm-ups dropped: N = 2 with BASELINE (this build K=1, the baseline K=2).
stmt_ms() {
  grep -o 'duration: [0-9.]* ms  execute report_aggregate' "$BENCH_PGDATA/server.log" |
    awk -v n="$1" -v k="$2" -v runs="$RUNS" '{i = NR - 1; if (i % n != k - 1) next; j = int(i / n);
      if (j == 0 || j == runs + 1) next; print $2}'
}
STEP=1
[ -n "$BASE_URL" ] && STEP=2
STMT_LINES="report_aggregate ms (this build, JSON then CSV, warm-ups dropped): $(stmt_ms $STEP 1 | tr '\n' ' ')
  median $(stmt_ms $STEP 1 | median) ms
"
[ -n "$BASE_URL" ] && STMT_LINES="${STMT_LINES}report_aggregate ms (baseline): $(stmt_ms 2 2 | tr '\n' ' ')
  median $(stmt_ms 2 2 | median) ms
"
BASE_LINES=""
if [ -n "$BASE_URL" ]; then
  BASE_LINES="baseline       : $BASELINE
baseline JSON  : $(tr '\n' ' ' <"$BENCH_TMP/base.json.ms")
  median $(median <"$BENCH_TMP/base.json.ms") ms; answers $(same json)
baseline CSV   : $(tr '\n' ' ' <"$BENCH_TMP/base.csv.ms")
  median $(median <"$BENCH_TMP/base.csv.ms") ms; answers $(same csv)
"
fi
cat <<EOF

==================== bench_report.sh ====================
command        : NREQ=$NREQ RUNS=$RUNS MONTH=$MONTH bench/bench_report.sh
date           : $(date -u '+%Y-%m-%d %H:%M UTC')
machine        : $(nproc) CPU, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo), $(psql --version | head -1)
data           : $N_MONTH requests received in $MONTH in one project, $N_COMPLAINTS complaints, loaded in ${LOAD_S}s
answer         : JSON $(cat "$BENCH_TMP/size.json") bytes ($ROWS form rows, overall total $TOTAL); CSV $(cat "$BENCH_TMP/size.csv") bytes ($CSV_LINES lines)
monthly JSON ms: $(echo "$JSON_MS" | tr '\n' ' ')
  median $(echo "$JSON_MS" | median) ms, p99 $(echo "$JSON_MS" | p99) ms
monthly CSV ms : $(echo "$CSV_MS" | tr '\n' ' ')
  median $(echo "$CSV_MS" | median) ms, p99 $(echo "$CSV_MS" | p99) ms
${BASE_LINES}${STMT_LINES}load average   : $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end
wall time      : $((SECONDS - T_BEGIN)) s
=========================================================
EOF
[ "${EXPLAIN:-0}" = 1 ] && { echo "---- plans (auto_explain, > 100 ms)"; grep -A150 'plan:' "$BENCH_PGDATA/server.log" | head -600; }
true
