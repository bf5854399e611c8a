/*
 * tests/db/test_callback_indexes.c — "my open tasks" stays an index scan (issue 9).  Loads
 * 100,000 resolved requests of the demo organisation over four projects, each with its
 * callback task as the resolution opens it (one in ten still open, the rest done or given
 * up; 60 customer-service agents sharing the assignments, a fifth of the open ones still in
 * the queue; due times over a year), then runs the task list exactly as the server does
 * (db_callback_task_list through a pooled connection, the same named statement) until the
 * plan cache has chosen between custom and generic plans, and EXPLAINs it: no sequential
 * scan, and "my open tasks" is served by callback_tasks_mine.  The other lists (by
 * project, due before, overdue) and the overdue marker's due scan are checked alike.
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

#include "db/callback.h"
#include "db/db.h"
#include "tests/lib/harness.h"

#define NTASKS 100000
#define LIMIT  51 /* the API asks for one row more than the page */

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

/* $1 organisation. */
static const char *const setup_sql[] = {
    "INSERT INTO projects (org_id, code, name, time_zone, business_hours) SELECT $1, 'CB' || i, "
    "'回访索引项目' || i, 'Asia/Shanghai', '{}' FROM generate_series(1, 3) i",
    "INSERT INTO departments (org_id, project_id, kind, name) SELECT org_id, id, "
    "'customer_service', '客服部' FROM projects WHERE org_id = $1 AND code LIKE 'CB%'",
    "INSERT INTO users (org_id, username, display_name, role, department_id, password_hash) "
    "SELECT d.org_id, 'cba.' || left(d.id::text, 8) || '.' || i, '客服' || i, 'agent', d.id, "
    "'x' FROM departments d, generate_series(1, 20) i WHERE d.org_id = $1 AND d.name = '客服部' "
    "AND d.project_id IN (SELECT id FROM projects WHERE code LIKE 'CB%')",
    "INSERT INTO user_projects (org_id, user_id, project_id) SELECT u.org_id, u.id, "
    "d.project_id FROM users u JOIN departments d ON d.id = u.department_id WHERE u.org_id = $1 "
    "AND u.username "
    "LIKE 'cba.%'",
    /* Requests, resolved over the last year, round-robin over the projects. */
    "WITH pr AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS pn, count(*) OVER () "
    "AS np FROM projects WHERE org_id = $1), ag AS (SELECT id FROM users WHERE org_id = $1 AND "
    "role = 'agent' LIMIT 1) INSERT INTO requests (org_id, project_id, number, type, channel, "
    "state, location_kind, common_area, reporter_name, description, received_at, resolved_at, "
    "closed_at, last_event_at, created_by, search_terms) SELECT $1, pr.id, 'CB-' || lpad(g::text, "
    "7, '0'), CASE WHEN g % 2 = 0 THEN 'repair' ELSE 'complaint' END::request_type, 'phone', "
    "CASE WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END::request_state, 'common_area', "
    "'大堂', '王先生', '回访索引测试', now() - interval '365 days' + (g::float8 / $2::int) * "
    "interval '365 days', now() - interval '364 days' + (g::float8 / $2::int) * interval '365 "
    "days', CASE WHEN g % 10 <> 0 THEN now() - interval '363 days' + (g::float8 / $2::int) * "
    "interval '365 days' END, now(), (SELECT id FROM ag), '{}' FROM generate_series(1, $2::int) "
    "g JOIN pr ON pr.pn = g % pr.np",
    /* Each resolution's task: open while the request is resolved; assignees are the project's
     * agents (a fifth of the open tasks unassigned). */
    "WITH ag AS (SELECT u.id, d.project_id, (row_number() OVER (PARTITION BY d.project_id ORDER "
    "BY u.id) - 1)::int AS an, count(*) OVER (PARTITION BY d.project_id) AS na FROM users u JOIN "
    "departments d ON d.id = u.department_id WHERE u.org_id = $1 AND u.role = 'agent') INSERT "
    "INTO callback_tasks (org_id, project_id, request_id, kind, state, min_role, resolved_at, "
    "due_at, assignee_id, outcome, rating, attempts, finished_at, give_up_reason) SELECT r.org_id, "
    "r.project_id, "
    "r.id, r.type::text, CASE WHEN r.state = 'resolved' THEN 'open' WHEN h % 17 = 0 THEN "
    "'given_up' ELSE 'done' END, 'agent', r.resolved_at, r.resolved_at + interval '1 day', CASE "
    "WHEN r.state = 'resolved' AND h % 5 = 0 THEN NULL ELSE (SELECT ag.id FROM ag WHERE "
    "ag.project_id = r.project_id AND ag.an = h % ag.na) END, CASE WHEN r.state = 'resolved' "
    "THEN NULL WHEN h % 17 = 0 THEN 'given_up' ELSE 'closed' END, CASE WHEN r.state <> "
    "'resolved' AND h % 17 <> 0 THEN 'satisfied' END, 1, r.closed_at, CASE WHEN r.state <> "
    "'resolved' AND h % 17 = 0 THEN 'unreachable' END FROM (SELECT r.*, "
    "abs(hashtext(r.id::text)) AS h FROM requests r WHERE r.org_id = $1 AND r.number LIKE "
    "'CB-%') r",
};

static char org_id[40], me[40], project[40], scope[200];

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    val1(org_id, sizeof org_id, "SELECT id FROM organisations WHERE code = 'demo'", 0, NULL);
    if (!org_id[0])
        return -1;
    assert_true(th_pg_ok(q("SET session_replication_role = replica", 0, NULL)));
    char n[16];
    snprintf(n, sizeof n, "%d", NTASKS);
    for (size_t i = 0; i < sizeof setup_sql / sizeof setup_sql[0]; i++) {
        const char *v[] = {org_id, n};
        assert_true(th_pg_ok(q(setup_sql[i], strstr(setup_sql[i], "$2") ? 2 : 1, v)));
    }
    assert_true(th_pg_ok(q("RESET session_replication_role", 0, NULL)));
    assert_true(th_pg_ok(q("ANALYZE", 0, NULL)));
    char cnt[32];
    val1(cnt, sizeof cnt, "SELECT count(*) FROM callback_tasks", 0, NULL);
    fprintf(stderr, "loaded %s callback tasks\n", cnt);
    /* "me": an agent holding open tasks; the project's scope literal as the token gives it. */
    val1(me, sizeof me,
         "SELECT assignee_id FROM callback_tasks WHERE state = 'open' AND assignee_id IS NOT "
         "NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
         0, NULL);
    const char *vm[] = {me};
    val1(project, sizeof project, "SELECT project_id FROM user_projects WHERE user_id = $1", 1, vm);
    snprintf(scope, sizeof scope, "{%s}", project);
    return atoi(cnt) == NTASKS && me[0] && project[0] ? 0 : -1;
}

static void walk(const cJSON *n, char *bad, size_t blen, char *used, size_t ulen)
{
    if (cJSON_IsObject(n)) {
        const cJSON *type = cJSON_GetObjectItem(n, "Node Type");
        const cJSON *rel = cJSON_GetObjectItem(n, "Relation Name");
        const cJSON *ix = cJSON_GetObjectItem(n, "Index Name");
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "Seq Scan")) {
            size_t l = strlen(bad);
            snprintf(bad + l, blen - l, "%sSeq Scan on %s", l ? "; " : "",
                     cJSON_IsString(rel) ? rel->valuestring : "?");
        }
        if (cJSON_IsString(type) && cJSON_IsString(ix)) {
            size_t l = strlen(used);
            snprintf(used + l, ulen - l, "%s%s %s", l ? ", " : "", type->valuestring,
                     ix->valuestring);
        }
    }
    for (const cJSON *c = n ? n->child : NULL; c; c = c->next)
        walk(c, bad, blen, used, ulen);
}

/* EXPLAIN EXECUTE of the prepared statement with vals; 1 when it has a sequential scan
 * (printing the plan), 0 when not, -1 on error.  used: the index scans. */
static int explain_exec(PGconn *c, const char *stmt, int n, const char *const *vals, char *used,
                        size_t ulen)
{
    char sql[4096];
    size_t l = (size_t)snprintf(sql, sizeof sql, "EXPLAIN (FORMAT JSON) EXECUTE %s(", stmt);
    for (int i = 0; i < n; i++) {
        char *lit = vals[i] ? PQescapeLiteral(c, vals[i], strlen(vals[i])) : NULL;
        l += (size_t)snprintf(sql + l, sizeof sql - l, "%s%s", i ? ", " : "", lit ? lit : "NULL");
        PQfreemem(lit);
    }
    snprintf(sql + l, sizeof sql - l, ")");
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "EXPLAIN failed: %s\n", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    cJSON *plan = cJSON_Parse(PQgetvalue(r, 0, 0));
    PQclear(r);
    char bad[512] = "";
    used[0] = 0;
    walk(plan, bad, sizeof bad, used, ulen);
    if (bad[0]) {
        char *txt = cJSON_Print(plan);
        fprintf(stderr, "SEQUENTIAL SCAN: %s\n%s\n", bad, txt);
        free(txt);
    }
    cJSON_Delete(plan);
    return bad[0] ? 1 : 0;
}

/* The name the pool prepared a statement under, found by a fragment of its text. */
static void prepared_name(db_conn_t *c, const char *fragment, char name[64])
{
    const char *v[] = {fragment};
    PGresult *r = PQexecParams(db_pg(c),
                               "SELECT name FROM pg_prepared_statements WHERE strpos(statement, "
                               "$1) > 0",
                               1, NULL, v, NULL, NULL, 0);
    assert_int_equal(PQntuples(r), 1);
    snprintf(name, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

typedef struct list_case {
    const char *name;
    int mine, by_project, overdue;
    const char *due_before, *index; /* index: must appear in the plan, NULL any */
} list_case_t;

static void test_task_list_plans(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 1, 5000), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    char due[40];
    th_iso_utc(time(NULL) - 30 * 86400, due);
    static list_case_t cases[] = {
        {"my open tasks", 1, 0, 0, NULL, "callback_tasks_mine"},
        {"my open tasks due before", 1, 0, 0, "due", "callback_tasks_mine"},
        {"my overdue tasks", 1, 0, 1, NULL, "callback_tasks_mine"},
        {"a project's open tasks", 0, 1, 0, NULL, NULL},
        {"a project's overdue tasks", 0, 1, 1, NULL, NULL},
        {"open tasks in my projects", 0, 0, 0, NULL, NULL},
    };
    int failures = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        list_case_t *lc = &cases[k];
        const char *db = lc->due_before ? due : NULL;
        /* as the server runs it: several times, so the plan cache has decided */
        for (int i = 0; i < 8; i++) {
            PGresult *r = db_callback_task_list(c, org_id, scope, lc->by_project ? project : NULL,
                                                lc->mine ? me : NULL, "open", db, lc->overdue, NULL,
                                                NULL, LIMIT);
            assert_true(db_ok(r));
            if (i == 0 && lc->mine && !lc->overdue && !db)
                assert_true(PQntuples(r) > 0);
            PQclear(r);
        }
        char stmt[64], used[512];
        prepared_name(c, "t.state = 'open' AND $5::text = 'open'", stmt);
        const char *v[] = {org_id, scope, lc->by_project ? project : NULL, lc->mine ? me : NULL,
                           "open", db,    lc->overdue ? "true" : "false",  NULL,
                           NULL,   "51"};
        int bad = explain_exec(db_pg(c), stmt, 10, v, used, sizeof used);
        fprintf(stderr, "  %-4s %-28s %s\n", bad ? "SEQ" : "ok", lc->name, used);
        failures += bad != 0;
        if (lc->index && !strstr(used, lc->index)) {
            fprintf(stderr, "  %s: expected %s in the plan\n", lc->name, lc->index);
            failures++;
        }
    }
    /* The overdue marker's due scan (an implicit transaction: EXPLAIN without ANALYZE). */
    PGresult *r = PQexec(db_pg(c), "EXPLAIN (FORMAT JSON) SELECT t.id FROM callback_tasks t "
                                   "WHERE t.state = 'open' AND t.overdue_at IS NULL AND "
                                   "t.due_at <= now() ORDER BY t.due_at LIMIT 500");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_null(strstr(PQgetvalue(r, 0, 0), "Seq Scan"));
    assert_non_null(strstr(PQgetvalue(r, 0, 0), "callback_tasks_due"));
    PQclear(r);
    db_release(c);
    db_pool_shutdown();
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_list_plans),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
