/*
 * tests/db/test_request_flow_plan.c — the workflow queries of migration 0022 read through
 * their indexes.  Loads 40,000 repairs (mostly closed, over a year, on 4,000 units of 20
 * projects) and 8,000 declined work orders, ANALYZEs, then EXPLAINs: the repeat-repair
 * lookup the intake trigger runs for every new repair (requests_repeat_lookup), the
 * rework figures (requests_project_received, shared with the reports) and the refusal figures
 * (work_orders_declined) — none may scan requests or work_orders sequentially.  Also
 * checks that the trigger links a repair to the latest closing of its unit within 30 days
 * on this data and how long that intake takes.
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

#include "tests/lib/harness.h"

#define NREQ 40000
#define NWO  8000

static char org_id[40], project_id[40], unit_id[40];

static PGresult *q(const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(th_db(), sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fprintf(stderr, "SQL failed: %s\n%s\n", PQresultErrorMessage(r), sql);
    return r;
}

static void val1(char *out, size_t len, const char *sql, int n, const char *const *vals)
{
    PGresult *r = q(sql, n, vals);
    out[0] = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* $1 organisation: 19 more projects, a building each, 200 units per project, an
 * engineering department per project with four technicians. */
static const char *const org_setup[] = {
    "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
    "SELECT $1, 'FL' || i, '流程项目' || i, 'Asia/Shanghai', '{}' FROM generate_series(1, 19) i",
    "INSERT INTO buildings (org_id, project_id, code, name, floors) "
    "SELECT org_id, id, 'FLB', '流程楼', 30 FROM projects WHERE org_id = $1",
    "INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2) "
    "SELECT b.org_id, b.project_id, b.id, 'FL-' || i, 1 + i % 30, 80 FROM buildings b, "
    "generate_series(1, 200) i WHERE b.org_id = $1 AND b.code = 'FLB'",
    "INSERT INTO departments (org_id, project_id, kind, name) SELECT org_id, id, 'engineering', "
    "'流程工程部' FROM projects WHERE org_id = $1 AND code LIKE 'FL%'",
    "INSERT INTO users (org_id, username, display_name, role, department_id, password_hash) "
    "SELECT d.org_id, 'flt.' || left(d.id::text, 13) || '.' || i, '技工' || i, 'technician', "
    "d.id, 'x' FROM departments d, generate_series(1, 4) i WHERE d.org_id = $1 AND d.name = "
    "'流程工程部'",
};

/* $1 organisation, $2 count: repairs on the FL units over the last year, 90 % closed a
 * few days after receipt; a third have a category. */
static const char gen_repairs[] =
    "WITH u AS (SELECT array_agg(id ORDER BY id) AS ids FROM units WHERE org_id = $1 AND code "
    "LIKE 'FL-%'), s AS (SELECT g, random() AS a, random() AS b, now() - interval '365 days' + "
    "(g::float8 / $2::int) * interval '365 days' AS ts FROM generate_series(1, $2::int) g) "
    "INSERT INTO requests (org_id, project_id, number, type, channel, category, state, "
    "location_kind, unit_id, description, received_at, closed_at, last_event_at, created_by, "
    "created_at, updated_at, search_terms, is_repeat) "
    "SELECT $1, un.project_id, 'FL-' || lpad(g::text, 7, '0'), 'repair', 'phone', "
    "CASE WHEN b < 0.33 THEN 'quality' END, CASE WHEN a < 0.9 THEN 'closed' ELSE 'received' END, "
    "'unit', un.id, '水管漏水', ts, CASE WHEN a < 0.9 THEN ts + interval '3 days' END, ts, "
    "(SELECT id FROM users WHERE org_id = $1 AND role = 'agent' LIMIT 1), ts, ts, '{}', b < 0.05 "
    "FROM s, u, LATERAL (SELECT id, project_id FROM units WHERE id = u.ids[1 + (s.g * 7919) % "
    "cardinality(u.ids)]) un";

/* $1 organisation, $2 count: declined work orders of FL repairs over the year. */
static const char gen_declined[] =
    "INSERT INTO work_orders (org_id, project_id, request_id, number, department_id, "
    "assignee_id, state, dispatched_at, decline_reason, declined_at, declined_by, created_at, "
    "updated_at) SELECT r.org_id, r.project_id, r.id, 'GD' || substr(r.number, 3), d.id, "
    "(SELECT x.id FROM users x WHERE x.department_id = d.id ORDER BY x.id LIMIT 1), "
    "'declined', r.received_at, (ARRAY['not_ours','parts','no_access','other'])[1 + "
    "(row_number() OVER ()) % 4], r.received_at + interval '1 hour', NULL, r.received_at, "
    "r.received_at FROM requests r JOIN departments d ON d.project_id = r.project_id AND d.name "
    "= '流程工程部' WHERE r.org_id = $1 AND r.number LIKE 'FL-%' ORDER BY r.number LIMIT $2";

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    val1(org_id, sizeof org_id, "SELECT id FROM organisations WHERE code = 'demo'", 0, NULL);
    if (!org_id[0])
        return -1;
    const char *vo[] = {org_id};
    if (!th_pg_ok(q("SET session_replication_role = replica", 0, NULL)) ||
        !th_pg_ok(q("SELECT setseed(0.25)", 0, NULL)))
        return -1;
    for (size_t i = 0; i < sizeof org_setup / sizeof org_setup[0]; i++)
        if (!th_pg_ok(q(org_setup[i], 1, vo)))
            return -1;
    char n[16], m[16];
    snprintf(n, sizeof n, "%d", NREQ);
    snprintf(m, sizeof m, "%d", NWO);
    const char *vr[] = {org_id, n}, *vw[] = {org_id, m};
    if (!th_pg_ok(q(gen_repairs, 2, vr)) || !th_pg_ok(q(gen_declined, 2, vw)) ||
        !th_pg_ok(q("RESET session_replication_role", 0, NULL)) || !th_pg_ok(q("ANALYZE", 0, NULL)))
        return -1;
    val1(project_id, sizeof project_id,
         "SELECT id FROM projects WHERE org_id = $1 AND code = 'FL7'", 1, vo);
    const char *vp[] = {project_id};
    val1(unit_id, sizeof unit_id, "SELECT id FROM units WHERE project_id = $1 AND code = 'FL-17'",
         1, vp);
    return project_id[0] && unit_id[0] ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

/* The plan of sql (n parameters) as text, one line per node (malloc'd). */
static char *plan_of(const char *sql, int n, const char *const *vals)
{
    size_t len = strlen(sql) + 16;
    char *ex = malloc(len);
    assert_non_null(ex);
    snprintf(ex, len, "EXPLAIN %s", sql);
    PGresult *r = q(ex, n, vals);
    free(ex);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    size_t total = 1;
    for (int i = 0; i < PQntuples(r); i++)
        total += (size_t)PQgetlength(r, i, 0) + 1;
    char *out = malloc(total), *o = out;
    assert_non_null(out);
    for (int i = 0; i < PQntuples(r); i++)
        o += sprintf(o, "%s\n", PQgetvalue(r, i, 0));
    *o = 0;
    PQclear(r);
    return out;
}

static void expect_plan(const char *what, const char *sql, int n, const char *const *vals,
                        const char *index)
{
    char *plan = plan_of(sql, n, vals);
    fprintf(stderr, "-- %s\n%s", what, plan);
    if (strstr(plan, "Seq Scan on requests") || strstr(plan, "Seq Scan on work_orders") ||
        !strstr(plan, index))
        fail_msg("%s: expected a read through %s without sequential scans:\n%s", what, index, plan);
    free(plan);
}

/* The statement request_intake_flow() runs for every new repair of a unit. */
static void test_repeat_lookup_plan(void **state)
{
    (void)state;
    const char *v[] = {unit_id, org_id, "quality"};
    expect_plan("repeat lookup",
                "SELECT p.id FROM requests p WHERE p.unit_id = $1 AND p.type = 'repair' AND "
                "p.state = 'closed' AND p.org_id = $2 AND p.category IS NOT DISTINCT FROM "
                "$3::complaint_category AND p.closed_at >= now() - interval '30 days' AND "
                "p.closed_at <= now() ORDER BY p.closed_at DESC LIMIT 1",
                3, v, "requests_repeat_lookup");
}

/* db/flow.c's figures, with a month's period. */
static void test_figure_plans(void **state)
{
    (void)state;
    const char *v[] = {org_id, project_id, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"};
    char from[40], to[40];
    val1(from, sizeof from, "SELECT rfc3339(now() - interval '30 days')", 0, NULL);
    val1(to, sizeof to, "SELECT rfc3339(now())", 0, NULL);
    v[2] = from;
    v[3] = to;
    expect_plan("rework",
                "SELECT count(*), count(*) FILTER (WHERE is_repeat) FROM requests WHERE "
                "project_id = $2 AND org_id = $1 AND type = 'repair' AND received_at >= "
                "$3::timestamptz AND received_at < $4::timestamptz",
                4, v, "requests_project_received");
    expect_plan("refusals",
                "SELECT w.department_id, count(*) FROM work_orders w WHERE w.project_id = $2 AND "
                "w.org_id = $1 AND w.state = 'declined' AND w.declined_at >= $3::timestamptz AND "
                "w.declined_at < $4::timestamptz GROUP BY 1",
                4, v, "work_orders_declined");
}

/* On this data the trigger links a new repair to its unit's latest closing in 30 days. */
static void test_intake_links_on_volume(void **state)
{
    (void)state;
    const char *vu[] = {unit_id};
    char want[40], got[40], ms[32];
    assert_true(
        th_pg_ok(q("UPDATE requests SET state = 'closed', closed_at = now() - interval '2 days' "
                   "WHERE id = (SELECT id FROM requests WHERE unit_id = $1 AND category IS "
                   "NULL ORDER BY received_at DESC LIMIT 1)",
                   1, vu)));
    val1(want, sizeof want,
         "SELECT id FROM requests WHERE unit_id = $1 AND type = 'repair' AND state = 'closed' "
         "AND category IS NULL ORDER BY closed_at DESC LIMIT 1",
         1, vu);
    const char *v[] = {org_id, unit_id};
    val1(ms, sizeof ms, "SELECT clock_timestamp()", 0, NULL);
    val1(got, sizeof got,
         "INSERT INTO requests (org_id, project_id, number, type, channel, location_kind, "
         "unit_id, description, received_at, last_event_at, created_by, search_terms) SELECT $1, "
         "u.project_id, 'FL-NEW', 'repair', 'phone', 'unit', u.id, '又漏水了', now(), now(), "
         "(SELECT id FROM users WHERE org_id = $1 AND role = 'agent' LIMIT 1), '{}' FROM units u "
         "WHERE u.id = $2 RETURNING repeat_of",
         2, v);
    assert_string_equal(got, want);
    const char *vt[] = {ms};
    val1(ms, sizeof ms,
         "SELECT round(extract(epoch FROM clock_timestamp() - $1::timestamptz) * "
         "1000, 2)",
         1, vt);
    fprintf(stderr, "intake of one repair with the repeat lookup: %s ms (at %d requests)\n", ms,
            NREQ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeat_lookup_plan),
        cmocka_unit_test(test_figure_plans),
        cmocka_unit_test(test_intake_links_on_volume),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
