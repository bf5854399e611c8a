/*
 * tests/db/test_report_plan.c — "a report reads only its project's period".  Loads 50,000
 * requests over six months spread across 20 projects of the demo organisation (with
 * timeline events, callbacks and work orders), ANALYZEs, then runs the report statements
 * exactly as the server does (db_report_aggregate for the monthly summary — rows, totals,
 * KPIs, per department, per staff member, per week — and for the daily and weekly views;
 * db_report_live for the live figures of the daily and weekly views) and EXPLAINs each
 * (FORMAT JSON) both as a custom plan (the statement text from pg_prepared_statements with
 * the same parameters) and as the plan the connection's cache chose after several
 * executions: no sequential scan of requests, request_events, work_orders or request_facts,
 * and the aggregation reads requests through requests_project_received and the timeline's
 * facts through request_facts_project_received.
 *
 * It also checks that the SQL's counts agree with core/report.c's per-request rules
 * (first response ≤ 5 min, in time, rework within 30 days, callback satisfaction),
 * recomputed in C from the same rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/report.h"
#include "core/request.h"
#include "core/rfc3339.h"
#include "db/db.h"
#include "db/report.h"
#include "tests/lib/harness.h"
#include "tests/lib/zones.h"

#define NREQ      50000
#define NPROJECTS 20

static char org_id[40], project_id[40];
static tz_rules_t *shanghai;

/* ------------------------------------------------------------------ helpers */

static PGresult *q(PGconn *c, const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fprintf(stderr, "SQL failed: %s\n%s\n", PQresultErrorMessage(r), sql);
    return r;
}

static void val1(char *out, size_t len, const char *sql, int n, const char *const *vals)
{
    PGresult *r = q(th_db(), sql, n, vals);
    out[0] = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* ------------------------------------------------------------------ data */

/* 20 projects (Asia/Shanghai), each with 200 units, three departments with two
 * technicians each.  $1 = organisation id. */
static const char *const org_setup[] = {
    "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
    "SELECT $1, 'RP' || i, '报表测试项目' || i, 'Asia/Shanghai', '{}' "
    "FROM generate_series(1, 20) i", /* NPROJECTS */
    "INSERT INTO buildings (org_id, project_id, code, name, floors) "
    "SELECT org_id, id, 'RPB', '报表楼', 20 FROM projects WHERE org_id = $1 AND code LIKE 'RP%'",
    "INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2) "
    "SELECT b.org_id, b.project_id, b.id, 'RP-' || i, 1 + i % 20, 80 "
    "FROM buildings b, generate_series(1, 200) i WHERE b.org_id = $1 AND b.code = 'RPB'",
    "INSERT INTO departments (org_id, project_id, kind, name) "
    "SELECT p.org_id, p.id, k, '部门-' || k FROM projects p, "
    "unnest(ARRAY['engineering','customer_service','cleaning']) k "
    "WHERE p.org_id = $1 AND p.code LIKE 'RP%'",
    "INSERT INTO users (org_id, username, display_name, role, department_id, password_hash) "
    "SELECT d.org_id, 'rpt.' || left(d.id::text, 13) || '.' || i, '技工' || i, 'technician', "
    "d.id, 'x' FROM departments d JOIN projects p ON p.id = d.project_id, "
    "generate_series(1, 2) i WHERE p.org_id = $1 AND p.code LIKE 'RP%'",
};

/* $1 organisation, $2 row count.  Received between 2025-07-01 and 2026-01-01 (UTC), in
 * whole seconds; round-robin over the 20 projects.  Resolution after 1 h … 96 h with the
 * due time at 48 h (some exactly at it); reopened 1 in 20. */
static const char gen_requests[] =
    "WITH pr AS ("
    " SELECT p.org_id, p.id AS project_id, (row_number() OVER (ORDER BY p.id) - 1)::int AS pn,"
    "  count(*) OVER () AS np,"
    "  (SELECT array_agg(u.id ORDER BY u.id) FROM units u WHERE u.project_id = p.id) AS units,"
    "  (SELECT array_agg(d.id ORDER BY d.id) FROM departments d WHERE d.project_id = p.id) "
    "AS depts,"
    "  (SELECT array_agg(x.id ORDER BY x.id) FROM users x JOIN departments d "
    "ON d.id = x.department_id WHERE d.project_id = p.id) AS techs,"
    "  (SELECT x.id FROM users x WHERE x.org_id = p.org_id AND x.role = 'agent' LIMIT 1) "
    "AS agent"
    " FROM projects p WHERE p.org_id = $1 AND p.code LIKE 'RP%'),"
    "s AS ("
    " SELECT g, random() AS a, random() AS b, random() AS c, random() AS d, random() AS e,"
    "  timestamptz '2025-07-01 00:00:00+00' + floor(random() * 184 * 86400) * interval "
    "'1 second' AS ts"
    " FROM generate_series(1, $2::int) g),"
    "t AS ("
    " SELECT s.*, pr.*,"
    "  CASE WHEN s.a < 0.45 THEN 'repair' WHEN s.a < 0.75 THEN 'complaint'"
    "   WHEN s.a < 0.90 THEN 'inquiry' ELSE 'emergency' END AS typ,"
    "  (ARRAY[1, 12, 47, 48, 49, 96])[1 + floor(s.c * 6)::int] AS res_h"
    " FROM s JOIN pr ON pr.pn = s.g % pr.np) "
    "INSERT INTO requests (org_id, project_id, number, type, channel, severity, category,"
    " validity, state, location_kind, unit_id, common_area, reporter_name, reporter_phone,"
    " title, description, department_id, assignee_id, reopen_count, resolution, received_at,"
    " resolved_at, closed_at, due_resolution, last_event_at, created_by, created_at,"
    " updated_at, search_terms) "
    "SELECT org_id, project_id, 'RP-' || lpad(g::text, 7, '0'), typ,"
    " (ARRAY['phone','app','visit','web'])[1 + floor(b * 4)::int],"
    " CASE WHEN typ = 'complaint' THEN (ARRAY['major','important','general'])"
    "  [1 + floor(d * 3)::int] END,"
    " CASE WHEN typ = 'complaint' THEN (ARRAY['attitude','timeliness','quality'])"
    "  [1 + floor(e * 3)::int] END,"
    " CASE WHEN typ = 'complaint' THEN (ARRAY['valid','valid','invalid','unknown'])"
    "  [1 + floor(e * 4)::int] ELSE 'unknown' END,"
    " CASE WHEN c < 0.85 THEN 'closed' ELSE 'accepted' END,"
    " CASE WHEN d < 0.8 THEN 'unit' ELSE 'common_area' END,"
    " CASE WHEN d < 0.8 THEN units[1 + floor(e * cardinality(units))::int] END,"
    " CASE WHEN d >= 0.8 THEN '小区大堂' END,"
    " '李女士', '139' || lpad(g::text, 8, '0'), '报表' || g, '报表测试内容' || g,"
    " depts[1 + floor(b * cardinality(depts))::int],"
    " CASE WHEN b < 0.9 THEN techs[1 + floor(a * cardinality(techs))::int] END,"
    " CASE WHEN g % 20 = 0 THEN 1 ELSE 0 END,"
    " CASE WHEN c < 0.85 THEN '已处理' END,"
    " ts,"
    " CASE WHEN c < 0.85 THEN ts + res_h * interval '1 hour' END,"
    " CASE WHEN c < 0.85 THEN ts + (res_h + 24) * interval '1 hour' END,"
    " CASE WHEN e < 0.9 THEN ts + interval '48 hours' END,"
    " ts, agent, ts, ts, '{}' FROM t";

/* The timeline: a create event (by a resident for app requests, else by the agent), a
 * staff dispatch 0 s … 15 min after receipt for 90% (some exactly at 5 min), and a
 * callback result on every other closed request, its rating from the callback scale or,
 * for some, only a satisfied flag.  A work order for every request with an assignee, one
 * in ten of them declined once. */
static const char *const gen_timeline[] = {
    "INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action,"
    " to_state, channel, occurred_at, details) "
    "SELECT org_id, id, 1, created_by, CASE WHEN channel = 'app' THEN 'resident' ELSE 'agent'"
    " END, 'create', 'received', channel, received_at, '{}' FROM requests "
    "WHERE number LIKE 'RP-%'",
    "INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action,"
    " from_state, to_state, occurred_at, details) "
    "SELECT org_id, id, 2, created_by, 'agent', 'dispatch', 'received', 'dispatched',"
    " received_at + (ARRAY[0, 60, 299, 300, 301, 900])[1 + (hashtext(number) & 1023) % 6]"
    " * interval '1 second', '{}' FROM requests WHERE number LIKE 'RP-%'"
    " AND hashtext(number) % 10 <> 0",
    "INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action,"
    " occurred_at, details) "
    "SELECT org_id, id, 3, created_by, 'agent', 'callback_result', closed_at,"
    " CASE WHEN (hashtext(number) & 255) % 7 = 0 THEN jsonb_build_object('satisfied',"
    "  (hashtext(number) & 1) = 1) ELSE jsonb_build_object('rating', (ARRAY['very_satisfied',"
    "  'satisfied','average','dissatisfied','very_dissatisfied','满意'])"
    "  [1 + (hashtext(number) & 1023) % 6], 'note', '回访') END "
    "FROM requests WHERE number LIKE 'RP-%' AND closed_at IS NOT NULL"
    " AND (hashtext(number) & 2) = 0",
    "INSERT INTO work_orders (org_id, project_id, request_id, number, department_id,"
    " assignee_id, state, dispatched_at, created_at, updated_at) "
    "SELECT org_id, project_id, id, 'GD' || substr(number, 3), department_id, assignee_id,"
    " 'signed_off', received_at + interval '10 minutes', received_at + interval '10 minutes',"
    " received_at + interval '10 minutes' FROM requests WHERE number LIKE 'RP-%'"
    " AND assignee_id IS NOT NULL",
    "INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action,"
    " occurred_at, details) "
    "SELECT org_id, id, 4, assignee_id, 'technician', 'decline', received_at + interval "
    "'20 minutes', '{}' FROM requests WHERE number LIKE 'RP-%' AND assignee_id IS NOT NULL"
    " AND (hashtext(number) & 1023) % 10 = 3",
    /* 返修 as 0022's intake trigger marks it (the load runs without triggers) */
    "UPDATE requests n SET repeat_of = (SELECT p.id FROM requests p WHERE p.unit_id = "
    "n.unit_id AND p.type = 'repair' AND p.state = 'closed' AND p.org_id = n.org_id AND "
    "p.category IS NOT DISTINCT FROM n.category AND p.closed_at >= n.received_at - interval "
    "'30 days' AND p.closed_at <= n.received_at ORDER BY p.closed_at DESC LIMIT 1) WHERE "
    "n.number LIKE 'RP-%' AND n.type = 'repair' AND n.unit_id IS NOT NULL",
    "UPDATE requests SET is_repeat = repeat_of IS NOT NULL WHERE number LIKE 'RP-%'",
};

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (!(shanghai = th_zone_load("Asia/Shanghai")))
        return -1;
    val1(org_id, sizeof org_id, "SELECT id FROM organisations WHERE code = 'demo'", 0, NULL);
    if (!org_id[0])
        return -1;
    PGconn *c = th_db();
    const char *vo[] = {org_id};
    /* no webhook outbox rows or foreign-key checks per row: the rows satisfy the keys by
     * construction */
    if (!th_pg_ok(q(c, "SET session_replication_role = replica", 0, NULL)) ||
        !th_pg_ok(q(c, "SELECT setseed(0.5)", 0, NULL)))
        return -1;
    for (size_t i = 0; i < sizeof org_setup / sizeof org_setup[0]; i++)
        if (!th_pg_ok(q(c, org_setup[i], 1, vo)))
            return -1;
    char n[16];
    snprintf(n, sizeof n, "%d", NREQ);
    const char *vr[] = {org_id, n};
    if (!th_pg_ok(q(c, gen_requests, 2, vr)))
        return -1;
    for (size_t i = 0; i < sizeof gen_timeline / sizeof gen_timeline[0]; i++)
        if (!th_pg_ok(q(c, gen_timeline[i], 0, NULL)))
            return -1;
    /* the load skips triggers: the timeline's facts (0038) as the migration's backfill */
    if (!th_pg_ok(q(c, "RESET session_replication_role", 0, NULL)) ||
        !th_pg_ok(q(c, "SELECT request_facts_fill()", 0, NULL)) ||
        !th_pg_ok(q(c, "ANALYZE", 0, NULL)))
        return -1;
    val1(project_id, sizeof project_id,
         "SELECT id FROM projects WHERE org_id = $1 AND code = 'RP7'", 1, vo);
    char cnt[32];
    val1(cnt, sizeof cnt, "SELECT count(*) FROM requests WHERE number LIKE 'RP-%'", 0, NULL);
    fprintf(stderr, "loaded %s requests over %d projects\n", cnt, NPROJECTS);
    return atoi(cnt) == NREQ && project_id[0] ? 0 : -1;
}

static int teardown(void **state)
{
    core_tz_free(shanghai);
    return th_group_stop(state);
}

/* ------------------------------------------------------------------ plans */

static int big_table(const char *rel)
{
    return !strcmp(rel, "requests") || !strcmp(rel, "request_events") ||
           !strcmp(rel, "work_orders") || !strcmp(rel, "request_facts");
}

/* Appends "Seq Scan on <rel>" for every sequential scan of a big table anywhere in the
 * plan tree, and every index used. */
static void walk(const cJSON *n, char *bad, size_t blen, char *used, size_t ulen)
{
    if (cJSON_IsObject(n)) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(n, "Node Type"));
        const char *rel = cJSON_GetStringValue(cJSON_GetObjectItem(n, "Relation Name"));
        const char *ix = cJSON_GetStringValue(cJSON_GetObjectItem(n, "Index Name"));
        if (type && rel && !strcmp(type, "Seq Scan") && big_table(rel)) {
            size_t l = strlen(bad);
            snprintf(bad + l, blen - l, "%sSeq Scan on %s", l ? "; " : "", rel);
        }
        if (type && ix) {
            size_t l = strlen(used);
            snprintf(used + l, ulen - l, "%s%s %s", l ? ", " : "", type, ix);
        }
    }
    for (const cJSON *c = n ? n->child : NULL; c; c = c->next)
        walk(c, bad, blen, used, ulen);
}

/* EXPLAIN (FORMAT JSON) of sql on conn; fills used; returns the number of forbidden
 * sequential scans (printing the plan when there are any), -1 on error. */
static int explain(PGconn *conn, const char *name, const char *sql, int n, const char *const *vals,
                   char *used, size_t ulen)
{
    size_t l = strlen(sql) + 64;
    char *ex = malloc(l);
    snprintf(ex, l, "EXPLAIN (FORMAT JSON) %s", sql);
    PGresult *r = PQexecParams(conn, ex, n, NULL, vals, NULL, NULL, 0);
    free(ex);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fprintf(stderr, "[%s] EXPLAIN failed: %s\n", name, PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    cJSON *plan = cJSON_Parse(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!plan)
        return -1;
    char bad[1024] = "";
    used[0] = 0;
    walk(plan, bad, sizeof bad, used, ulen);
    int nbad = 0;
    if (bad[0]) {
        char *txt = cJSON_Print(plan);
        fprintf(stderr, "\n[%s] SEQUENTIAL SCAN: %s\nplan: %s\n", name, bad, txt);
        free(txt);
        nbad = 1;
    }
    cJSON_Delete(plan);
    return nbad;
}

/* The plan of statement `stmt` prepared on c (what its plan cache uses now) and the
 * custom plan of its text for these parameters.  Returns the forbidden scans found;
 * `need`: an index that must appear in both (NULL: none). */
static int check_stmt(PGconn *c, const char *label, const char *stmt, int n,
                      const char *const *vals, const char *need)
{
    char sql[2048];
    size_t l = (size_t)snprintf(sql, sizeof sql, "EXECUTE %s(", stmt);
    for (int i = 0; i < n; i++) {
        char *lit = PQescapeLiteral(c, vals[i], strlen(vals[i]));
        l += (size_t)snprintf(sql + l, sizeof sql - l, "%s%s", i ? ", " : "", lit);
        PQfreemem(lit);
    }
    snprintf(sql + l, sizeof sql - l, ")");
    char used[8192];
    int bad = explain(c, label, sql, 0, NULL, used, sizeof used);
    fprintf(stderr, "  %-4s %-28s cached plan: %s\n", bad ? "SEQ" : "ok", label, used);
    if (need && !strstr(used, need)) {
        fprintf(stderr, "  [%s] %s is not used by the cached plan\n", label, need);
        bad++;
    }

    const char *vs[] = {stmt};
    PGresult *r = q(c, "SELECT statement FROM pg_prepared_statements WHERE name = $1", 1, vs);
    assert_int_equal(PQntuples(r), 1);
    int b2 = explain(c, label, PQgetvalue(r, 0, 0), n, vals, used, sizeof used);
    PQclear(r);
    fprintf(stderr, "  %-4s %-28s custom plan: %s\n", b2 ? "SEQ" : "ok", label, used);
    if (need && !strstr(used, need)) {
        fprintf(stderr, "  [%s] %s is not used by the custom plan\n", label, need);
        b2++;
    }
    return bad + b2;
}

/* The parameters of a period as api/report.c's build() makes them. */
typedef struct period {
    const char *label;
    char from[32], to[32], asof[32];
    char buckets[512];
    int nb;
    int64_t b[9];
} period_t;

static void period_init(period_t *p, const char *label, const int64_t *b, int nb)
{
    p->label = label;
    p->nb = nb;
    memcpy(p->b, b, sizeof(int64_t) * (size_t)(nb + 1));
    rfc3339_format(b[0], p->from);
    rfc3339_format(b[nb], p->to);
    rfc3339_format((int64_t)time(NULL), p->asof);
    size_t l = (size_t)snprintf(p->buckets, sizeof p->buckets, "{");
    for (int i = 0; i < nb; i++) {
        char t[32];
        rfc3339_format(b[i], t);
        l += (size_t)snprintf(p->buckets + l, sizeof p->buckets - l, "%s%s", i ? "," : "", t);
    }
    snprintf(p->buckets + l, sizeof p->buckets - l, "}");
}

/* The month (October 2025: five week buckets), a week and a day, local to Shanghai. */
static void periods(period_t p[3])
{
    int64_t b[9];
    int nb = core_report_month_weeks(shanghai, 2025, 10, b);
    assert_int_equal(nb, 5);
    period_init(&p[0], "monthly 2025-10", b, nb);
    int64_t day = core_days_from_civil(2025, 10, 13); /* a Monday */
    for (int i = 0; i <= 7; i++)
        b[i] = core_report_local_midnight(shanghai, day + i);
    period_init(&p[1], "weekly 2025-10-13", b, 7);
    b[0] = core_report_local_midnight(shanghai, day + 2);
    b[1] = core_report_local_midnight(shanghai, day + 3);
    period_init(&p[2], "daily 2025-10-15", b, 1);
}

/* Counts the form rows db_report_aggregate hands over. */
static int count_row(void *ctx, const db_report_row_t *w)
{
    (void)w;
    ++*(long *)ctx;
    return 0;
}

static void test_aggregate_plans(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 1, 5000), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    period_t p[3];
    periods(p);
    int failures = 0;
    for (int k = 0; k < 3; k++) {
        /* run it as the server does, often enough for the plan cache to have chosen
         * between custom and generic plans */
        long total = -1;
        for (int i = 0; i < 8; i++) {
            char *json = NULL;
            long nrows = 0;
            assert_int_equal(db_report_aggregate(c, org_id, project_id, p[k].from, p[k].to,
                                                 p[k].asof, p[k].buckets, &json, count_row, &nrows),
                             0);
            cJSON *a = cJSON_Parse(json);
            free(json);
            assert_non_null(a);
            total = (long)cJSON_GetNumberValue(
                cJSON_GetObjectItem(cJSON_GetObjectItem(a, "overall"), "total"));
            assert_true(nrows > 0);
            cJSON_Delete(a);
        }
        /* its settings are the statement's only: the pooled connection is back to idle
         * with the server's work_mem and JIT setting */
        assert_int_equal(PQtransactionStatus(db_pg(c)), PQTRANS_IDLE);
        PGresult *sh = PQexec(db_pg(c), "SELECT current_setting('work_mem') <> '64MB' AND "
                                        "current_setting('plan_cache_mode') = 'auto'");
        assert_string_equal(PQgetvalue(sh, 0, 0), "t");
        PQclear(sh);
        /* ~2,500 requests per project over 184 days: ~420 a month, ~95 a week */
        fprintf(stderr, "%s: %ld requests\n", p[k].label, total);
        assert_true(total > (k == 0 ? 300 : k == 1 ? 50 : 3));
        const char *v[] = {project_id, org_id, p[k].from, p[k].to, p[k].asof, p[k].buckets};
        /* under the settings the server runs it with (a custom plan, work_mem for hashes
         * and sorts: both could change the planner's choice of scans) */
        PGresult *t = PQexec(db_pg(c), "BEGIN; " DB_REPORT_AGGREGATE_SETTINGS);
        assert_int_equal(PQresultStatus(t), PGRES_COMMAND_OK);
        PQclear(t);
        failures +=
            check_stmt(db_pg(c), p[k].label, "report_aggregate", 6, v, "requests_project_received");
        failures += check_stmt(db_pg(c), p[k].label, "report_aggregate", 6, v,
                               "request_facts_project_received");
        PQclear(PQexec(db_pg(c), "ROLLBACK"));
    }
    /* inside a caller's transaction it runs there (no transaction of its own) and leaves
     * that transaction open */
    assert_int_equal(db_begin(c), 0);
    char *json = NULL;
    assert_int_equal(db_report_aggregate(c, org_id, project_id, p[2].from, p[2].to, p[2].asof,
                                         p[2].buckets, &json, NULL, NULL),
                     0);
    free(json);
    assert_int_equal(PQtransactionStatus(db_pg(c)), PQTRANS_INTRANS);
    db_rollback(c);
    db_release(c);
    db_pool_shutdown();
    assert_int_equal(failures, 0);
}

static void test_live_plans(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 1, 5000), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    period_t p[3];
    periods(p);
    int failures = 0;
    for (int k = 1; k < 3; k++) { /* the weekly and daily views */
        for (int i = 0; i < 8; i++) {
            char *json = NULL;
            assert_int_equal(
                db_report_live(c, org_id, project_id, p[k].from, p[k].to, p[k].asof, &json), 0);
            cJSON *l = cJSON_Parse(json);
            free(json);
            assert_non_null(l);
            assert_true(cJSON_IsNumber(cJSON_GetObjectItem(l, "resolved_in_period")));
            cJSON_Delete(l);
        }
        const char *v[] = {project_id, org_id, p[k].from, p[k].to, p[k].asof};
        failures += check_stmt(db_pg(c), p[k].label, "report_live", 5, v, NULL);
    }
    db_release(c);
    db_pool_shutdown();
    assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ SQL vs core rules */

static int64_t epoch(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? -1 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void test_counts_follow_core_rules(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 1, 5000), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    period_t p[3];
    periods(p);
    char *json = NULL;
    assert_int_equal(db_report_aggregate(c, org_id, project_id, p[0].from, p[0].to, p[0].asof,
                                         p[0].buckets, &json, NULL, NULL),
                     0);
    cJSON *a = cJSON_Parse(json);
    free(json);
    const cJSON *ov = cJSON_GetObjectItem(a, "overall");
#define SQL_COUNT(k) ((long)cJSON_GetNumberValue(cJSON_GetObjectItem(ov, k)))
    db_release(c);
    db_pool_shutdown();

    /* every request of the month with what the rules look at, as whole seconds */
    const char *v[] = {project_id, p[0].from, p[0].to};
    PGresult *r = q(th_db(),
                    "SELECT extract(epoch FROM r.received_at)::bigint, "
                    "extract(epoch FROM r.resolved_at)::bigint, "
                    "extract(epoch FROM r.due_resolution)::bigint, "
                    "(SELECT extract(epoch FROM min(e.occurred_at))::bigint FROM request_events e "
                    " WHERE e.request_id = r.id AND e.actor_role NOT IN "
                    " ('resident','integration','system')), "
                    "(SELECT e.details->>'rating' FROM request_events e WHERE e.request_id = r.id "
                    " AND e.action = 'callback_result' ORDER BY e.occurred_at DESC, e.seq DESC "
                    " LIMIT 1), "
                    "(SELECT e.details->>'satisfied' FROM request_events e WHERE e.request_id = "
                    " r.id AND e.action = 'callback_result' ORDER BY e.occurred_at DESC, e.seq "
                    " DESC LIMIT 1), "
                    "(SELECT count(*) FROM request_events e WHERE e.request_id = r.id AND "
                    " e.action = 'callback_result') "
                    "FROM requests r WHERE r.project_id = $1 AND r.received_at >= $2 AND "
                    "r.received_at < $3",
                    3, v);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long n = PQntuples(r), in_time = 0, with_due = 0, fr_met = 0, fr_n = 0, rated = 0,
         satisfied = 0;
    for (int i = 0; i < n; i++) {
        int t = core_report_in_time(epoch(r, i, 1), epoch(r, i, 2));
        with_due += t >= 0;
        in_time += t == 1;
        int f = core_report_first_response_met(epoch(r, i, 0), epoch(r, i, 3));
        fr_n += f >= 0;
        fr_met += f == 1;
        if (atoi(PQgetvalue(r, i, 6)) > 0) {
            int s = core_report_rating_satisfied(PQgetvalue(r, i, 4));
            if (s < 0 && !PQgetisnull(r, i, 5))
                s = !strcmp(PQgetvalue(r, i, 5), "true");
            rated += s >= 0;
            satisfied += s == 1;
        }
    }
    PQclear(r);

    /* rework (返修): a repair of a unit whose previous repair of the same unit and category
     * closed at most 30 days before it was received (core_request_is_repeat) */
    r = q(th_db(),
          "SELECT extract(epoch FROM r.received_at)::bigint, (SELECT extract(epoch FROM "
          "max(p.closed_at))::bigint FROM requests p WHERE p.unit_id = r.unit_id AND p.type = "
          "'repair' AND p.state = 'closed' AND p.category IS NOT DISTINCT FROM r.category AND "
          "p.closed_at <= r.received_at) FROM requests r WHERE r.project_id = $1 AND r.type = "
          "'repair' AND r.unit_id IS NOT NULL AND r.received_at >= $2 AND r.received_at < $3",
          3, v);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long repairs = 0, rework = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        repairs++;
        rework += core_request_is_repeat(REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, epoch(r, i, 1),
                                         epoch(r, i, 0));
    }
    PQclear(r);

    fprintf(stderr,
            "month: %ld requests; in time %ld/%ld; first response met %ld/%ld; callback "
            "satisfied %ld/%ld; rework %ld/%ld\n",
            n, in_time, with_due, fr_met, fr_n, satisfied, rated, rework, repairs);
    assert_int_equal(SQL_COUNT("total"), n);
    assert_int_equal(SQL_COUNT("resolved_with_due"), with_due);
    assert_int_equal(SQL_COUNT("resolved_in_time"), in_time);
    assert_int_equal(SQL_COUNT("first_response_n"), fr_n);
    assert_int_equal(SQL_COUNT("first_response_met"), fr_met);
    assert_int_equal(SQL_COUNT("callback_rated"), rated);
    assert_int_equal(SQL_COUNT("callback_satisfied"), satisfied);
    assert_int_equal(SQL_COUNT("repairs_at_unit"), repairs);
    assert_int_equal(SQL_COUNT("rework"), rework);
    /* the fixtures do exercise each rule both ways */
    assert_true(in_time > 0 && in_time < with_due);
    assert_true(fr_met > 0 && fr_met < fr_n);
    assert_true(satisfied > 0 && satisfied < rated);
    assert_true(rework > 0 && rework < repairs);
#undef SQL_COUNT
    cJSON_Delete(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregate_plans),
        cmocka_unit_test(test_live_plans),
        cmocka_unit_test(test_counts_follow_core_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
