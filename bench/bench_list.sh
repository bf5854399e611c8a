#!/usr/bin/env bash
# bench/bench_list.sh — GET /v1/requests (lists with filters and q= search) over 1,000,000
# requests.  Goal (issue 14): p99 < 50 ms for every query class.
#
# Data, loaded with SQL as deskd would have stored it (secondary indexes dropped during the
# load and re-created from their own definitions, as in bench_sweep.sh):
#   * the demo organisation gets 4 more projects (LB1..LB4) next to SUNRISE, 2,000 more
#     units per project, 3 departments with 4 technicians each per new project and 9 more
#     agents per project; the demo manager is also given LB1 (two projects);
#   * NREQ requests spread 30/25/20/15/10 % over SUNRISE, LB1..LB4, created in time order
#     over the last 3 years; mostly closed history, ~7 % open (recent ones, and old
#     stragglers, which are overdue); types, channels, severities, categories, units,
#     departments, assignees and owners (the agents) as in daily work;
#   * Chinese descriptions made of a location, a problem (skewed: 漏水 in about a quarter,
#     燃气异味 in ~1 %), a detail and a room number; 1 in 5,000 mentions 起火 and 1 in
#     100,000 井盖被盗 — frequent, rare and very rare search terms.
# Then, per query class (below), one short wrk --latency run (-t2 -cCONNECTIONS) over that
# class's URLs picked at random per request (bench/request_list.lua), and one run over all
# classes mixed; and for each class EXPLAIN (ANALYZE, BUFFERS) of the very SQL deskd sent
# (captured with log_min_duration_statement = 0, parameters substituted).
#
# A/B: BASELINE=/path/to/an/older/deskd (a Release build of main) runs a second server on
# the same database; every class is then measured on both, one right after the other, and
# the plans are captured for both.
#
# Knobs: NREQ (1000000), DURATION (s per class, 4), MIX_DURATION (s, 15), CONNECTIONS (16),
#        WARMUP (s, 2), QUIET_WAIT (s, 120: waits for a 1-minute load average below QUIET_LOAD,
#        0.5, before measuring; measures anyway and says so), PLANS=all (print every class's full plan; default: full plans only
#        for classes over the goal, a summary line for the others), GOAL_MS (50),
#        DESK_POOL_SIZE (8), DESK_THREADS (128), BENCH_DESKD (prebuilt binary).
source "$(dirname "$0")/lib.sh"

NREQ="${NREQ:-1000000}"
DURATION="${DURATION:-4}"
MIX_DURATION="${MIX_DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-16}"
WARMUP="${WARMUP:-2}"
GOAL_MS="${GOAL_MS:-50}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
export DESK_SWEEP_INTERVAL_MS=0 # no background sweeper touching rows while measuring
BASELINE="${BASELINE:-}"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not executable"
# One secret and PII key for both servers of an A/B run: the same tokens work on both.
export BENCH_JWT_SECRET="${BENCH_JWT_SECRET:-$(head -c 48 /dev/urandom | base64 | tr -d '\n')}"
export DESK_PII_KEY="${DESK_PII_KEY:-$(head -c 48 /dev/urandom | base64 | tr -d '\n')}"

bench_init
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
T_BEGIN=$SECONDS
bench_build
bench_pg_start
bench_migrate_seed
bench_pg_set max_wal_size 8GB

# ---------------------------------------------------------------- load
log "loading $NREQ requests into 5 projects of the demo organisation"
t0=$SECONDS
bench_psql deskd -q >"$BENCH_TMP/load.log" <<SQL
\\set ON_ERROR_STOP 1
SET maintenance_work_mem = '512MB';
SET max_parallel_maintenance_workers = 1;
SELECT setseed(0.14);
CREATE TEMP TABLE o AS SELECT id FROM organisations WHERE code = 'demo';
INSERT INTO projects (org_id, code, name, time_zone, business_hours)
SELECT o.id, 'LB' || i, '列表测试项目' || i, 'Asia/Shanghai', '{}' FROM o, generate_series(1, 4) i;
INSERT INTO buildings (org_id, project_id, code, name, floors)
SELECT p.org_id, p.id, 'LBB', '列表楼', 33 FROM projects p JOIN o ON o.id = p.org_id;
INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2)
SELECT b.org_id, b.project_id, b.id, 'LB-' || i, 1 + i % 33, 60 + i % 90
FROM buildings b JOIN o ON o.id = b.org_id, generate_series(1, 2000) i WHERE b.code = 'LBB';
INSERT INTO departments (org_id, project_id, kind, name)
SELECT p.org_id, p.id, k, '部门-' || k FROM projects p JOIN o ON o.id = p.org_id,
  unnest(ARRAY['engineering','customer_service','cleaning']) k WHERE p.code LIKE 'LB%';
INSERT INTO users (org_id, username, display_name, role, department_id, password_hash)
SELECT d.org_id, 'lbt.' || left(d.id::text, 13) || '.' || i, '技工' || i, 'technician', d.id, 'x'
FROM departments d JOIN o ON o.id = d.org_id, generate_series(1, 4) i;
INSERT INTO users (org_id, username, display_name, role, password_hash)
SELECT p.org_id, 'lba.' || p.code || '.' || i, '客服' || i, 'agent', 'x'
FROM projects p JOIN o ON o.id = p.org_id, generate_series(1, 9) i;
INSERT INTO user_projects (org_id, user_id, project_id)
SELECT u.org_id, u.id, p.id FROM users u JOIN projects p ON p.org_id = u.org_id
WHERE u.username = 'lba.' || p.code || '.' || split_part(u.username, '.', 3);
INSERT INTO user_projects (org_id, user_id, project_id)
SELECT u.org_id, u.id, p.id FROM users u JOIN projects p ON p.org_id = u.org_id
JOIN o ON o.id = u.org_id WHERE u.username = 'manager' AND p.code = 'LB1';

CREATE TABLE bench_saved_ix AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i WHERE i.indrelid = 'requests'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
CREATE TABLE bench_ix_before AS
SELECT string_agg(pg_get_indexdef(indexrelid), E'\n' ORDER BY indexrelid::regclass::text) AS defs
FROM pg_index WHERE indrelid = 'requests'::regclass;
SELECT format('DROP INDEX %s', name) FROM bench_saved_ix \\gexec

SET session_replication_role = replica;
\\timing on
WITH pr AS MATERIALIZED (
  SELECT p.org_id, p.id AS project_id, p.code,
    array_position(ARRAY['SUNRISE','LB1','LB2','LB3','LB4'], p.code::text) - 1 AS pn,
    (SELECT array_agg(u.id ORDER BY u.id) FROM units u WHERE u.project_id = p.id) AS units,
    (SELECT array_agg(d.id ORDER BY d.id) FROM departments d WHERE d.project_id = p.id) AS depts,
    (SELECT array_agg(x.id ORDER BY x.id) FROM users x JOIN departments d
       ON d.id = x.department_id WHERE d.project_id = p.id AND x.role = 'technician') AS techs,
    (SELECT array_agg(x.id ORDER BY x.id) FROM users x JOIN user_projects up
       ON up.user_id = x.id WHERE up.project_id = p.id AND x.role = 'agent') AS agents
  FROM projects p JOIN o ON o.id = p.org_id),
s AS (
  SELECT g, random() AS a, random() AS b, random() AS c, random() AS d, random() AS e,
    random() AS f, random() AS h,
    (ARRAY[0,0,0,0,0,0,1,1,1,1,1,2,2,2,2,3,3,3,4,4])[1 + g % 20] AS pn,
    floor(40 * random() ^ 2.5)::int AS prob, floor(16 * random() ^ 1.5)::int AS loc,
    floor(12 * random())::int AS det,
    now() - interval '1095 days' + (g::float8 / $NREQ) * interval '1095 days'
      + random() * interval '10 minutes' AS ts
  FROM generate_series(1, $NREQ) g),
t AS (
  SELECT s.*, pr.*,
    CASE WHEN s.a < 0.45 THEN 'repair' WHEN s.a < 0.70 THEN 'complaint'
     WHEN s.a < 0.85 THEN 'inquiry' WHEN s.a < 0.90 THEN 'suggestion'
     WHEN s.a < 0.93 THEN 'praise' ELSE 'emergency' END AS typ,
    (ARRAY['phone','phone','phone','phone','app','app','app','visit','web','email',
     'letter','fax','night_desk','patrol','survey','other','phone'])[1 + floor(s.b * 17)::int] AS chan,
    CASE WHEN s.ts > now() - interval '30 days' AND s.c < 0.6
     THEN (ARRAY['received','dispatched','accepted','on_site','pending','resolved',
      'callback'])[1 + floor(s.h * 7)::int]
     WHEN s.ts <= now() - interval '30 days' AND s.c < 0.05
     THEN (ARRAY['accepted','on_site','pending','pending','callback'])[1 + floor(s.h * 5)::int]
     ELSE (ARRAY['closed','closed','closed','closed','closed','closed','closed','closed',
      'closed','closed','closed','closed','closed','closed','closed','closed','closed',
      'rejected','not_responsible','closed'])[1 + floor(s.e * 20)::int] END AS st
  FROM s JOIN pr ON pr.pn = s.pn),
x AS (
  SELECT t.*,
    st NOT IN ('closed','rejected','not_responsible') AS open,
    'LB-' || to_char(ts, 'YYYY') || '-' || lpad(g::text, 7, '0') AS num,
    CASE WHEN d < 0.5 THEN (ARRAY['漏水','电梯','卫生','噪音','缴费','停车','照明','绿化',
      '门禁','水管','投诉','咨询'])[1 + floor(f * 12)::int] END AS title,
    (ARRAY['卫生间','厨房','客厅','阳台','主卧','次卧','楼道','电梯间','地下车库','小区大堂',
      '楼顶','花园','单元门口','会所','泳池边','垃圾房'])[1 + loc] ||
    (ARRAY['漏水','电梯故障','噪音扰民','垃圾未清理','停车位被占','灯不亮','门禁失灵',
      '水管堵塞','物业费疑问','绿化修剪','墙面渗水','下水道反味','宠物扰民','快递丢失',
      '外墙脱落','窗户关不上','空调滴水','热水器故障','网络信号差','楼道堆物','装修许可',
      '电表跳闸','屋顶积水','消防通道堵塞','高空抛物','蚊虫滋生','门锁损坏','地板空鼓',
      '井盖松动','监控损坏','水压不足','暖气不热','道闸故障','化粪池满溢','燃气异味','白蚁',
      '玻璃破裂','信箱损坏','泳池水质','雕塑破损'])[1 + prob] || '，' ||
    (ARRAY['请尽快派人处理','已经持续三天','住户情绪激动','多次反映无果','希望今天上门',
      '晚上八点后在家','影响正常生活','要求给出书面答复','老人独居请优先','第二次报修',
      '楼下邻居投诉','业主不在家可联系家人'])[1 + det] ||
    CASE WHEN g % 5000 = 17 THEN '，电瓶车充电起火' ELSE '' END ||
    CASE WHEN g % 100000 = 4242 THEN '，井盖被盗' ELSE '' END ||
    '（' || (1 + g % 33) || '栋' || (1 + (g / 33) % 30) || lpad((1 + g % 4)::text, 2, '0') || '）'
      AS descr
  FROM t)
INSERT INTO requests (org_id, project_id, number, type, channel, severity, category, state,
  pending_reason, location_kind, unit_id, common_area, reporter_name, reporter_phone, title,
  description, department_id, assignee_id, received_at, resolved_at, closed_at,
  last_event_at, created_by, created_at, updated_at, due_first_response, due_resolution,
  sla_next_due, sla_next_check, first_receiver_id, owner_id, search_terms)
SELECT org_id, project_id, num, typ, chan,
  CASE WHEN typ = 'complaint' THEN (ARRAY['major','important','general','general'])[1 + floor(d * 4)::int] END,
  CASE WHEN typ = 'complaint' THEN (ARRAY['attitude','timeliness','quality','service_range',
    'developer_legacy','fees','other'])[1 + floor(e * 7)::int] END,
  st, CASE WHEN st = 'pending' THEN 'parts' END,
  CASE WHEN d < 0.75 THEN 'unit' ELSE 'common_area' END,
  CASE WHEN d < 0.75 THEN units[1 + floor(e * cardinality(units))::int] END,
  CASE WHEN d >= 0.75 THEN '小区大堂' END,
  '王先生', '139' || lpad(g::text, 8, '0'), title, descr,
  CASE WHEN st <> 'received' AND c < 0.9 THEN depts[1 + floor(b * cardinality(depts))::int] END,
  CASE WHEN st NOT IN ('received','dispatched') AND c < 0.8
    THEN techs[1 + floor(a * cardinality(techs))::int] END,
  ts - f * interval '10 minutes',
  CASE WHEN st IN ('resolved','callback','closed') THEN ts + h * interval '5 days' END,
  CASE WHEN st = 'closed' THEN ts + h * interval '7 days' END,
  CASE WHEN open THEN least(now(), ts + h * interval '3 days') ELSE ts + h * interval '7 days' END,
  agents[1], ts,
  CASE WHEN open THEN least(now(), ts + h * interval '3 days') ELSE ts + h * interval '7 days' END,
  ts + interval '30 minutes', ts + interval '2 days',
  CASE WHEN open THEN ts + interval '2 days' END, CASE WHEN open THEN ts + interval '38 hours' END,
  agents[1 + floor(f * cardinality(agents))::int], agents[1 + floor(f * cardinality(agents))::int],
  search_bigrams(coalesce(title, '') || ' ' || descr || ' ' || num)
FROM x;
RESET session_replication_role;
SELECT def FROM bench_saved_ix \\gexec
\\timing off
DO \$chk\$ BEGIN
  IF (SELECT defs FROM bench_ix_before) IS DISTINCT FROM (SELECT string_agg(pg_get_indexdef(indexrelid),
      E'\n' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'requests'::regclass) THEN
    RAISE EXCEPTION 'the re-created indexes differ from the schema''s';
  END IF;
END \$chk\$;
DROP TABLE bench_saved_ix, bench_ix_before;
SQL
bench_psql deskd -qc "VACUUM ANALYZE" >/dev/null
bench_pg_set max_wal_size default
bench_psql deskd -qc "CHECKPOINT" >/dev/null
LOAD_S=$((SECONDS - t0))
read -r N_ALL N_OPEN N_OVERDUE < <(bench_psql deskd -tAF' ' -c "SELECT count(*),
  count(*) FILTER (WHERE state NOT IN ('closed','rejected','not_responsible')),
  count(*) FILTER (WHERE sla_next_due < now()) FROM requests")
[ "$N_ALL" -ge "$NREQ" ] || die "loaded only $N_ALL requests"
log "loaded in ${LOAD_S}s: $N_ALL requests, $N_OPEN open, $N_OVERDUE overdue; requests $(bench_psql deskd -tAc "SELECT pg_size_pretty(pg_total_relation_size('requests'))") with indexes"

QUIET_WAIT="${QUIET_WAIT:-120}" bench_wait_quiet
LOAD_MEASURE="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- server and URLs
bench_server_start
NEW_URL="$BENCH_URL"
BASE_URL=""; BASE_PID=""
if [ -n "$BASELINE" ]; then
  # (set +e first: under set -e a failing kill or the "(exit rc)" would end the trap early)
  trap 'rc=$?; set +e; [ -z "$BASE_PID" ] || kill "$BASE_PID" 2>/dev/null; (exit $rc); bench_cleanup' EXIT
  keep_pid="$BENCH_SERVER_PID"
  DESKD="$BASELINE" bench_server_start
  BASE_URL="$BENCH_URL"; BASE_PID="$BENCH_SERVER_PID"
  BENCH_URL="$NEW_URL"; BENCH_SERVER_PID="$keep_pid"
  log "baseline $BASELINE on $BASE_URL"
fi
T_AGENT="$(bench_login agent)"     # one project (SUNRISE)
T_MANAGER="$(bench_login manager)" # two projects (SUNRISE, LB1)
T_GM="$(bench_login gm)"           # organisation-wide
sqlv() { bench_psql deskd -tAc "$1"; }
SUNRISE="$(sqlv "SELECT id FROM projects WHERE code = 'SUNRISE'")"
LB2="$(sqlv "SELECT id FROM projects WHERE code = 'LB2'")"
AGENT_ID="$(sqlv "SELECT id FROM users WHERE username = 'agent'")"
mapfile -t UNITS_SUN < <(sqlv "SELECT unit_id FROM requests WHERE project_id = '$SUNRISE' AND unit_id IS NOT NULL GROUP BY 1 ORDER BY random() LIMIT 20")
mapfile -t UNITS_ALL < <(sqlv "SELECT unit_id FROM requests WHERE unit_id IS NOT NULL GROUP BY 1 ORDER BY random() LIMIT 20")
mapfile -t OWNERS < <(sqlv "SELECT owner_id FROM requests GROUP BY 1 ORDER BY random() LIMIT 10")
mapfile -t DEPTS < <(sqlv "SELECT id FROM departments WHERE project_id = '$LB2'")
ts() { sqlv "SELECT to_char((now() - interval '$1') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"; }
U7="$(ts '7 days')"; U1="$(ts '1 day')"; U30="$(ts '30 days')"
enc() { perl -MURI::Escape -e 'print uri_escape_utf8($ARGV[0])' "$1" 2>/dev/null ||
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]), end="")' "$1"; }

CLASSES=()
declare -A DESC
# add CLASS DESCRIPTION TOKEN PATH... — URLs of a query class (one file per class).
# addpre CLASS DESCRIPTION TOKEN PREFIX VALUE... — add with PREFIX before each VALUE (not ${a[@]/#/...}:
# bash 5.2 reads '&' in that replacement as the match).
addpre() {
  local cls="$1" desc="$2" tok="$3" p="$4" x u=()
  shift 4
  for x; do u+=("$p$x"); done
  add "$cls" "$desc" "$tok" "${u[@]}"
}
add() {
  local cls="$1" desc="$2" tok="$3" p
  shift 3
  [ -n "${DESC[$cls]:-}" ] || { CLASSES+=("$cls"); DESC[$cls]="$desc"; : >"$BENCH_TMP/urls-$cls.txt"; }
  for p in "$@"; do printf '%s\t%s\n' "$tok" "$p" >>"$BENCH_TMP/urls-$cls.txt"; done
}
R=/v1/requests
add agent_all "agent (one project), no filter" "$T_AGENT" "$R" "$R?limit=20"
add gm_all "gm (organisation), no filter" "$T_GM" "$R" "$R?limit=20"
add manager_all "manager (two projects), no filter" "$T_MANAGER" "$R"
add open "open=true (agent, manager, gm)" "$T_AGENT" "$R?open=true"
add open "" "$T_MANAGER" "$R?open=true"
add open "" "$T_GM" "$R?open=true"
add status "status=received / pending / on_site" "$T_AGENT" "$R?status=received" "$R?status=pending"
add status "" "$T_GM" "$R?status=on_site" "$R?status=received&project_id=$LB2"
add type "type=complaint / emergency (+ open)" "$T_GM" "$R?type=complaint" "$R?type=emergency&open=true"
add type "" "$T_AGENT" "$R?type=repair"
add overdue "overdue=true (agent, gm)" "$T_AGENT" "$R?overdue=true"
add overdue "" "$T_GM" "$R?overdue=true" "$R?overdue=true&project_id=$LB2"
addpre unit "unit_id (agent in SUNRISE, gm anywhere)" "$T_AGENT" "$R?unit_id=" "${UNITS_SUN[@]}"
addpre unit "" "$T_GM" "$R?unit_id=" "${UNITS_ALL[@]}"
add owner "owner=me (agent), owner=<id>&open=true (gm)" "$T_AGENT" "$R?owner=me" "$R?owner=me&open=true"
addpre owner "" "$T_GM" "$R?open=true&owner=" "${OWNERS[@]}"
addpre dept "department_id + status (gm)" "$T_GM" "$R?status=closed&department_id=" "${DEPTS[@]}"
add updated "updated_from 1 day / 7 days (agent, gm)" "$T_AGENT" "$R?updated_from=$U7" "$R?updated_from=$U1"
add updated "" "$T_GM" "$R?updated_from=$U7" "$R?updated_from=$U1"
for m in 3 9 14 20 27 33; do
  add created "created (received) month ranges, some with type" "$T_GM" \
    "$R?created_from=$(ts "$((m * 30 + 30)) days")&created_to=$(ts "$((m * 30)) days")" \
    "$R?type=complaint&created_from=$(ts "$((m * 30 + 30)) days")&created_to=$(ts "$((m * 30)) days")"
done
add q_freq "q= frequent (漏水 ~25 %, 电梯, 楼道)" "$T_GM" "$R?q=$(enc 漏水)" "$R?q=$(enc 电梯)"
add q_freq "" "$T_AGENT" "$R?q=$(enc 漏水)" "$R?q=$(enc 楼道)"
add q_mid "q= 3–4 characters (燃气异味 ~1 %, 水管堵塞, 电梯故障)" "$T_GM" "$R?q=$(enc 燃气异味)" "$R?q=$(enc 水管堵塞)"
add q_mid "" "$T_AGENT" "$R?q=$(enc 电梯故障)" "$R?q=$(enc 燃气异味)"
add q_rare "q= rare (起火 200 rows, 井盖被盗 10, 火灾 none)" "$T_GM" "$R?q=$(enc 起火)" "$R?q=$(enc 井盖被盗)" "$R?q=$(enc 火灾)"
add q_rare "" "$T_AGENT" "$R?q=$(enc 起火)"
add q_filter "q= with open / type / project" "$T_GM" "$R?q=$(enc 漏水)&open=true" "$R?q=$(enc 噪音)&type=complaint" "$R?q=$(enc 门禁)&project_id=$LB2"
# Second pages: the next_cursor of a first page of some of the above.
next_cursor() { curl -sS -H "Authorization: Bearer $1" "$BENCH_URL$2" | sed -n 's/.*"next_cursor" *: *"\([^"]*\)".*/\1/p'; }
for spec in "$T_AGENT|$R" "$T_GM|$R" "$T_GM|$R?open=true" "$T_AGENT|$R?type=repair" \
  "$T_GM|$R?q=$(enc 漏水)" "$T_GM|$R?overdue=true"; do
  tok="${spec%%|*}"; p="${spec#*|}"
  c="$(next_cursor "$tok" "$p")"
  [ -n "$c" ] || die "no next_cursor for $p"
  sep='?'; [[ "$p" == *'?'* ]] && sep='&'
  add page2 "second page (cursor) of no filter / open / type / q / overdue" "$tok" "$p${sep}cursor=$(enc "$c")"
done
cat "$BENCH_TMP"/urls-*.txt >"$BENCH_TMP/urls-ALL.txt"

# Every URL answers 200 once (and warms the caches).
for u in "$NEW_URL" $BASE_URL; do
  while IFS=$'\t' read -r tok p; do
    code="$(curl -sS -o "$BENCH_TMP/one.json" -w '%{http_code}' -H "Authorization: Bearer $tok" "$u$p")"
    [ "$code" = 200 ] || die "GET $u$p answered $code: $(head -c 300 "$BENCH_TMP/one.json")"
  done <"$BENCH_TMP/urls-ALL.txt"
done

# ---------------------------------------------------------------- plans
# The list statement deskd sends for the first URL of each class, from the server log,
# with its parameters as literals, under EXPLAIN (ANALYZE, BUFFERS).
# (All list statements of that one request: deskd may send more than one.)
log "capturing each class's SQL (log_min_duration_statement = 0) for EXPLAIN (ANALYZE, BUFFERS)"
SIDES=(new); [ -n "$BASELINE" ] && SIDES+=(base)
side_url() { if [ "$1" = base ]; then echo "$BASE_URL"; else echo "$NEW_URL"; fi; }
bench_pg_set log_min_duration_statement 0
sleep 0.2
for side in "${SIDES[@]}"; do
  for cls in "${CLASSES[@]}"; do
    IFS=$'\t' read -r tok p <"$BENCH_TMP/urls-$cls.txt"
    log_from=$(($(wc -l <"$BENCH_PGDATA/server.log") + 1))
    curl -sS -o /dev/null -H "Authorization: Bearer $tok" "$(side_url "$side")$p"
    sleep 0.3
    tail -n +"$log_from" "$BENCH_PGDATA/server.log" >"$BENCH_TMP/log-$cls-$side.txt"
  done
done
bench_pg_set log_min_duration_statement default
for side in "${SIDES[@]}"; do
  for cls in "${CLASSES[@]}"; do
    perl -I"$BENCH_DIR" -Mpglog -e '
      my @st = grep { $_->{sql} =~ /FROM requests r WHERE r\.org_id/ } pglog::statements($ARGV[0]);
      die "no list statement in the log\n" unless @st;
      for my $st (@st) {
        my %v = pglog::params($st->{params});
        (my $sql = $st->{sql}) =~ s{\$(\d+)}{defined $v{$1} ? "\x27" . ($v{$1} =~ s/\x27/\x27\x27/gr) . "\x27" : "NULL"}ge;
        print "EXPLAIN (ANALYZE, BUFFERS) $sql;\n";
      }
    ' "$BENCH_TMP/log-$cls-$side.txt" >"$BENCH_TMP/explain-$cls-$side.sql" || die "class $cls ($side): SQL not captured"
    bench_psql deskd -tA -f "$BENCH_TMP/explain-$cls-$side.sql" >"$BENCH_TMP/plan-$cls-$side.txt"
  done
done

# ---------------------------------------------------------------- wrk
log "warm-up: wrk ${WARMUP}s over all URLs"
for u in "$NEW_URL" $BASE_URL; do
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH_DIR/request_list.lua" "$u" \
    -- "$BENCH_TMP/urls-ALL.txt" >/dev/null
done
ROWS=""
SLOW=()
BAD=0
# row CLASS SIDE DURATION — one wrk run of CLASS's URLs against SIDE; appends a report row.
row() {
  local cls="$1" side="$2" f="$BENCH_TMP/wrk-$1-$2.txt" p50 p99 ex bad
  log "class $cls ($side): wrk -t2 -c$CONNECTIONS -d${3}s over $(wc -l <"$BENCH_TMP/urls-$cls.txt") URLs"
  wrk -t2 -c"$CONNECTIONS" -d"${3}s" --latency -s "$BENCH_DIR/request_list.lua" \
    "$(side_url "$side")" -- "$BENCH_TMP/urls-$cls.txt" >"$f"
  p50="$(wrk_pct "$f" 50%)"; p99="$(wrk_pct "$f" 99%)"
  ex="$([ -f "$BENCH_TMP/plan-$cls-$side.txt" ] &&
    awk '/Execution Time/ {s += $3; n++} END {if (n) printf "%.1f%s", s, (n > 1 ? " (" n " stmts)" : "")}' \
      "$BENCH_TMP/plan-$cls-$side.txt" || true)"
  bad=$(($(wrk_non2xx "$f") + $(wrk_sockerr "$f")))
  [ "$side" = base ] || BAD=$((BAD + bad)) # the baseline may time out (wrk: 2 s)
  ROWS+="$(printf '  %-12s %-4s %8s %9s %9s %5s  %-14s %s' "$cls" "$side" "$(wrk_rps "$f")" "$p50" "$p99" \
    "$bad" "${ex:--}" "${DESC[$cls]:-all URLs above}")"$'\n'
  [ "$side" = new ] && [ "$cls" != ALL ] && awk -v v="$p99" -v g="$GOAL_MS" 'BEGIN {exit !(v >= g)}' &&
    SLOW+=("$cls")
  [ "$side" = new ] && [ "$cls" = ALL ] && { MIX_P50="$p50"; MIX_P99="$p99"; }
  return 0
}
for cls in "${CLASSES[@]}"; do
  for side in "${SIDES[@]}"; do row "$cls" "$side" "$DURATION"; done
done
for side in "${SIDES[@]}"; do row ALL "$side" "$MIX_DURATION"; done
read -r HWM RSS < <(bench_rss "$BENCH_SERVER_PID")

plan_summary() { # the scan nodes, rows, buffers and time of a plan, on one line
  grep -E 'Scan|Sort Method|Buffers: shared|Execution Time|Rows Removed' "$1" | head -8 |
    sed -E 's/^ *(->)? *//; s/  +/ /g' | paste -sd'|' | sed 's/|/ | /g'
}
verdict() { awk -v v="$1" -v g="$GOAL_MS" 'BEGIN {print (v < g) ? "meets the goal (< " g " ms)" : "MISSES the goal of < " g " ms"}'; }
cat <<REPORT

================ deskd GET /v1/requests over $N_ALL requests ($(date -u +%Y-%m-%dT%H:%MZ)) ================
machine        : $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); wrk, deskd and
                 PostgreSQL share them; PostgreSQL 15, shared_buffers=$(bench_psql postgres -tAc 'SHOW shared_buffers')
data           : $N_ALL requests in 5 projects over 3 years, $N_OPEN open, $N_OVERDUE overdue; loaded in ${LOAD_S}s
                 requests table $(sqlv "SELECT pg_size_pretty(pg_relation_size('requests'))"), with indexes $(sqlv "SELECT pg_size_pretty(pg_total_relation_size('requests'))")
deskd          : DESK_THREADS=${DESK_THREADS:-128} DESK_POOL_SIZE=${DESK_POOL_SIZE:-8}, sweeper off, Release build
load           : wrk -t2 -c$CONNECTIONS --latency, ${DURATION}s per class, ${MIX_DURATION}s mixed; URLs at random per request

per class (latency in ms; "SQL ms" = Execution Time of EXPLAIN ANALYZE of the statements
deskd sent for the class's first URL; side new = this build$([ -n "$BASELINE" ] && printf ', base = %s' "$BASELINE")):
  class        side    req/s       p50       p99   bad  SQL ms         what
$ROWS
overall (mix) p99 $MIX_P99 ms -> $(verdict "$MIX_P99"); classes over the goal: ${SLOW[*]:-none}

plans (first URL of each class; side new):
REPORT
for cls in "${CLASSES[@]}"; do
  if [ "${PLANS:-}" = all ] || [[ " ${SLOW[*]} " == *" $cls "* ]]; then
    printf -- '--- %s: %s\n' "$cls" "$(head -1 "$BENCH_TMP/urls-$cls.txt" | cut -f2)"
    sed 's/^/    /' "$BENCH_TMP/plan-$cls-new.txt"
  else
    printf -- '--- %s: %s\n' "$cls" "$(plan_summary "$BENCH_TMP/plan-$cls-new.txt")"
  fi
done
cat <<REPORT

deskd peak RSS (VmHWM) : $((HWM / 1024)) MiB
total runtime          : $((SECONDS - T_BEGIN)) s
load average           : $LOAD_START at start, $LOAD_MEASURE when measuring began, $(cut -d' ' -f1-3 /proc/loadavg) at end
quiet machine          : $BENCH_QUIET
REPORT
[ "$BAD" = 0 ] || die "non-2xx answers or socket errors during the runs ($BAD)"
true
