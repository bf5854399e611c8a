/*
 * tests/api/test_request_facts.c — request_facts (0038), the timeline's facts the monthly
 * report reads, kept by triggers as events and work orders are written:
 *   - a request a resident creates has no facts row; one a staff member creates has none
 *     either (0040): it is staff_created, its first staff action is its create event at
 *     received_at, and later staff events write nothing; a callback result or a staff event
 *     dated before received_at still writes a row;
 *   - the first staff action as the report takes it (staff_created: least(received_at, the
 *     stored one)) equals the least staff event of the timeline, for every request;
 *   - first_staff_at is the least occurred_at of a staff event (not resident, integration or
 *     system), also when an earlier one is written later;
 *   - the callback result is the last by (occurred_at, seq): a later one wins, an earlier one
 *     written afterwards does not, a tie goes to the higher seq;
 *   - declines and work orders are counted;
 *   - the row follows its request's project and received_at;
 *   - request_facts_fill() (the migration's backfill and the bench load's fill) gives the
 *     same rows as the triggers, for every request of the database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

static char unit101[40], res_zw[40], eng[40];

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_unit("demo", "1-101", unit101) ||
        th_fx_resident("demo", "张伟", res_zw) || th_fx_dept("demo", "engineering", eng))
        return -1;
    return 0;
}

/* One value of the request's facts row ("(none)" without a row, "" for NULL). */
static char *fact(const char *id, const char *expr)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT coalesce((%s)::text, '') FROM request_facts f WHERE "
             "f.request_id = $1), '(none)')",
             expr);
    const char *v[] = {id};
    const char *s = th_sql1(sql, v, 1);
    assert_non_null(s);
    return strdup(s);
}

#define EXPECT_FACT(id, expr, want)                                                                \
    do {                                                                                           \
        char *got_ = fact(id, expr);                                                               \
        if (strcmp(got_, want))                                                                    \
            fail_msg("line %d: %s of %s is '%s', want '%s'", __LINE__, expr, id, got_, want);      \
        free(got_);                                                                                \
    } while (0)

/* Appends an event to the request's timeline as the handlers write them: the next seq. */
static void event(const char *id, const char *user, const char *role, const char *action,
                  const char *at, const char *details)
{
    const char *v[] = {id, user, role, action, at, details ? details : "{}"};
    if (!th_sql1("INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, "
                 "action, occurred_at, details) SELECT r.org_id, r.id, (SELECT max(seq) + 1 FROM "
                 "request_events e WHERE e.request_id = r.id), (SELECT id FROM users WHERE "
                 "username = $2), $3, $4, $5::timestamptz, $6::jsonb FROM requests r WHERE r.id "
                 "= $1 RETURNING 1",
                 v, 6))
        fail_msg("event %s by %s failed", action, role);
}

static void work_order(const char *id, const char *number)
{
    const char *v[] = {id, number, eng};
    if (!th_sql1("INSERT INTO work_orders (org_id, project_id, request_id, number, department_id, "
                 "dispatched_at) SELECT r.org_id, r.project_id, r.id, $2, $3, clock_timestamp() "
                 "FROM requests r WHERE r.id = $1 RETURNING 1",
                 v, 3))
        fail_msg("work order %s failed", number);
}

/* A repair of unit 1-101: a resident's own, or one staff register for the resident. */
static void create(const char *user, char id[40])
{
    char body[1024];
    if (!strcmp(user, "resident"))
        snprintf(body, sizeof body,
                 "{\"type\":\"repair\",\"channel\":\"app\",\"location\":{\"unit_id\":\"%s\"},"
                 "\"description\":\"水龙头漏水\"}",
                 unit101);
    else
        snprintf(body, sizeof body,
                 "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
                 "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"水龙头漏水\"}",
                 unit101, res_zw);
    th_free(th_create_request_at(__LINE__, user, body, id));
}

static void test_resident_and_staff_creates(void **state)
{
    (void)state;
    char rr[40], rs[40];
    create("resident", rr);
    create("agent", rs);
    /* the resident's create event is no fact: no row */
    EXPECT_FACT(rr, "f.request_id", "(none)");
    /* the agent's create is the first staff action: recorded on the request, no row */
    EXPECT_FACT(rs, "f.request_id", "(none)");
    const char *vs[] = {rs}, *vr[] = {rr};
    assert_string_equal(th_sql1("SELECT staff_created::text FROM requests WHERE id = $1", vs, 1),
                        "true");
    assert_string_equal(th_sql1("SELECT staff_created::text FROM requests WHERE id = $1", vr, 1),
                        "false");
    /* later staff events of a staff-created request write nothing */
    event(rs, "technician", "technician", "accept", "2030-01-01T03:00:00Z", NULL);
    EXPECT_FACT(rs, "f.request_id", "(none)");
    /* a callback result does, without a first staff action (the create is earlier) */
    event(rs, "agent", "agent", "callback_result", "2030-01-02T03:00:00Z",
          "{\"rating\":\"satisfied\"}");
    EXPECT_FACT(rs, "f.cb->>'rating'", "satisfied");
    EXPECT_FACT(rs, "f.first_staff_at", "");
    EXPECT_FACT(rs, "f.project_id = (SELECT project_id FROM requests WHERE id = $1)", "true");
    EXPECT_FACT(rs, "f.declines || '/' || f.wos", "0/0");
    /* a staff event dated before received_at is earlier than the create: stored */
    event(rs, "agent", "agent", "comment", "2000-01-01T00:00:00Z", NULL);
    EXPECT_FACT(rs, "f.first_staff_at = '2000-01-01T00:00:00Z'", "true");

    /* events of residents, integrations and the system are not staff actions */
    event(rr, "resident", "resident", "comment", "2030-01-01T01:00:00Z", NULL);
    event(rr, NULL, "system", "sla_warning", "2030-01-01T01:00:00Z", NULL);
    event(rr, NULL, "integration", "comment", "2030-01-01T01:00:00Z", NULL);
    EXPECT_FACT(rr, "f.request_id", "(none)");
    /* a staff action; an earlier one written later wins; a later one changes nothing */
    event(rr, "technician", "technician", "accept", "2030-01-01T03:00:00Z", NULL);
    EXPECT_FACT(rr, "f.first_staff_at = '2030-01-01T03:00:00Z'", "true");
    event(rr, "agent", "agent", "comment", "2030-01-01T02:00:00Z", NULL);
    event(rr, "manager", "manager", "comment", "2030-01-01T05:00:00Z", NULL);
    EXPECT_FACT(rr, "f.first_staff_at = '2030-01-01T02:00:00Z'", "true");
    EXPECT_FACT(rr, "f.received_at = (SELECT received_at FROM requests WHERE id = $1)", "true");
    EXPECT_FACT(rr, "f.cb_at IS NULL AND f.declines = 0 AND f.wos = 0", "true");
}

static void test_callbacks_declines_work_orders(void **state)
{
    (void)state;
    char id[40];
    create("resident", id);
    EXPECT_FACT(id, "f.request_id", "(none)");
    /* a work order alone makes the row, with no staff action */
    work_order(id, "GD-FACTS-1");
    EXPECT_FACT(id, "f.wos", "1");
    EXPECT_FACT(id, "f.first_staff_at", "");
    work_order(id, "GD-FACTS-2");
    EXPECT_FACT(id, "f.wos", "2");

    /* two refusals */
    event(id, "technician", "technician", "decline", "2030-02-01T01:00:00Z",
          "{\"reason\":\"parts\"}");
    event(id, "technician", "technician", "decline", "2030-02-01T02:00:00Z",
          "{\"reason\":\"no_access\"}");
    EXPECT_FACT(id, "f.declines", "2");
    EXPECT_FACT(id, "f.first_staff_at = '2030-02-01T01:00:00Z'", "true");

    /* callback results: the later wins */
    event(id, "agent", "agent", "callback_result", "2030-02-03T10:00:00Z",
          "{\"rating\":\"satisfied\"}");
    EXPECT_FACT(id, "f.cb->>'rating'", "satisfied");
    event(id, "supervisor", "supervisor", "callback_result", "2030-02-04T10:00:00Z",
          "{\"rating\":\"dissatisfied\"}");
    EXPECT_FACT(id, "f.cb->>'rating'", "dissatisfied");
    EXPECT_FACT(id, "f.cb_at = '2030-02-04T10:00:00Z'", "true");
    EXPECT_FACT(id, "f.cb_by = (SELECT id FROM users WHERE username = 'supervisor')", "true");
    /* an earlier one written afterwards does not */
    event(id, "agent", "agent", "callback_result", "2030-02-02T10:00:00Z",
          "{\"rating\":\"very_satisfied\"}");
    EXPECT_FACT(id, "f.cb->>'rating'", "dissatisfied");
    /* the same time: the higher seq (written later) wins */
    event(id, "agent", "agent", "callback_result", "2030-02-04T10:00:00Z",
          "{\"rating\":\"average\"}");
    EXPECT_FACT(id, "f.cb->>'rating'", "average");
    EXPECT_FACT(id, "f.cb_by = (SELECT id FROM users WHERE username = 'agent')", "true");
    EXPECT_FACT(id, "f.cb_seq = (SELECT max(seq) FROM request_events WHERE request_id = $1)",
                "true");
    /* a system callback result (no actor) is still the last result */
    event(id, NULL, "system", "callback_result", "2030-02-05T10:00:00Z", "{\"satisfied\":true}");
    EXPECT_FACT(id, "f.cb_by", "");
    EXPECT_FACT(id, "f.cb->>'satisfied'", "true");
    EXPECT_FACT(id, "f.declines || '/' || f.wos", "2/2");
    EXPECT_FACT(id, "f.first_staff_at = '2030-02-01T01:00:00Z'", "true");

    /* the row follows its request's received_at */
    const char *v[] = {id};
    assert_non_null(th_sql1("UPDATE requests SET received_at = received_at - interval '1 day' "
                            "WHERE id = $1 RETURNING 1",
                            v, 1));
    EXPECT_FACT(id, "f.received_at = (SELECT received_at FROM requests WHERE id = $1)", "true");
}

static PGresult *run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    return r;
}

/* The backfill from the timeline and the work orders gives back the rows the triggers wrote
 * (the tests above, and every request the demo data and the other tests created). */
static void test_fill_equals_triggers(void **state)
{
    (void)state;
    PGconn *c = PQconnectdb(th_dburl());
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(run(c, "BEGIN"));
    PQclear(run(c, "CREATE TEMP TABLE kept ON COMMIT DROP AS SELECT * FROM request_facts"));
    PGresult *r = run(c, "SELECT count(*) FROM kept");
    long kept = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    assert_true(kept >= 3);
    PQclear(run(c, "DELETE FROM request_facts"));
    r = run(c, "SELECT request_facts_fill()");
    assert_int_equal(atol(PQgetvalue(r, 0, 0)), kept);
    PQclear(r);
    /* filling again adds nothing */
    r = run(c, "SELECT request_facts_fill()");
    assert_int_equal(atol(PQgetvalue(r, 0, 0)), 0);
    PQclear(r);
    r = run(c, "SELECT count(*) FROM ((TABLE kept EXCEPT ALL TABLE request_facts) UNION ALL "
               "(TABLE request_facts EXCEPT ALL TABLE kept)) d");
    if (strcmp(PQgetvalue(r, 0, 0), "0")) {
        PGresult *d = run(c, "SELECT 'trigger' AS src, * FROM (TABLE kept EXCEPT ALL TABLE "
                             "request_facts) a UNION ALL SELECT 'fill', * FROM (TABLE "
                             "request_facts EXCEPT ALL TABLE kept) b ORDER BY 2, 1");
        for (int i = 0; i < PQntuples(d) && i < 20; i++) {
            for (int j = 0; j < PQnfields(d); j++)
                fprintf(stderr, "%s%s", j ? " | " : "", PQgetvalue(d, i, j));
            fprintf(stderr, "\n");
        }
        PQclear(d);
        fail_msg("%s rows differ between the triggers and request_facts_fill()",
                 PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    PQclear(run(c, "ROLLBACK"));
    PQfinish(c);
}

/* The report's first staff action (db/report.c: for a staff-created request the least of
 * received_at and the stored one, else the stored one) is the least staff event of the
 * timeline — 0038's definition — for every request the tests and the demo data made. */
static void test_report_first_staff_equals_timeline(void **state)
{
    (void)state;
    assert_string_equal(
        th_sql1("SELECT count(*)::text FROM requests r LEFT JOIN request_facts f ON "
                "f.request_id = r.id WHERE (CASE WHEN r.staff_created THEN "
                "least(r.received_at, f.first_staff_at) ELSE f.first_staff_at END) IS DISTINCT "
                "FROM (SELECT min(e.occurred_at) FROM request_events e WHERE e.request_id = r.id "
                "AND e.actor_role NOT IN ('resident', 'integration', 'system'))",
                NULL, 0),
        "0");
    assert_string_equal(th_sql1("SELECT (count(*) FILTER (WHERE staff_created) > 0 AND "
                                "count(*) FILTER (WHERE NOT staff_created) > 0)::text FROM "
                                "requests",
                                NULL, 0),
                        "true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resident_and_staff_creates),
        cmocka_unit_test(test_callbacks_declines_work_orders),
        cmocka_unit_test(test_fill_equals_triggers),
        cmocka_unit_test(test_report_first_staff_equals_timeline),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
