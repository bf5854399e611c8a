/*
 * tests/db/test_lockfree_refs.c — migration 0045: the references of requests (to projects,
 * units, users, requests), of timeline events, SLA alerts and notifications are checked
 * without a row lock, and their parents are never deleted nor re-keyed.
 *
 * - A request written in an open transaction leaves its project's and unit's rows free: a
 *   second connection locks them FOR UPDATE NOWAIT (a foreign key's FOR KEY SHARE would
 *   refuse that), and the same for the request row under an open timeline event.
 * - A missing parent is still refused as a foreign key refuses it: SQLSTATE 23503 and the
 *   constraint's name, for an insert of each child, a batch with one bad row (nothing of
 *   the batch is written), and an UPDATE that points a request at a missing user.
 * - A DELETE, TRUNCATE or a change of id / org_id of a project, unit, user or request is
 *   refused and changes nothing; an alert's or a notification's reference cannot be moved.
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

#define MISSING "00000000-0000-4000-8000-00000000dead"

static char req_id[40], org_id[40], project_id[40], unit_id[40], agent_id[40];

static int setup(void **state)
{
    (void)state;
    char res[40], body[512];
    if (th_start_sweeper_off(unit_id, res) || th_fx_user("agent", agent_id))
        return -1;
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"厨房水龙头漏水\"}",
             unit_id, res);
    th_free(th_create_request_at(__LINE__, "agent", body, req_id));
    const char *p[] = {req_id};
    const char *v = th_sql1("SELECT org_id FROM requests WHERE id = $1", p, 1);
    if (!v)
        return -1;
    snprintf(org_id, sizeof org_id, "%s", v);
    v = th_sql1("SELECT project_id FROM requests WHERE id = $1", p, 1);
    if (!v)
        return -1;
    snprintf(project_id, sizeof project_id, "%s", v);
    return 0;
}

/* A copy of the setup's request under a new id and number, with `change` (a jsonb object
 * literal) merged over it: an INSERT of every column, as a request arrives. */
static void copy_request_sql(char *dst, size_t n, const char *change)
{
    snprintf(dst, n,
             "INSERT INTO requests SELECT (jsonb_populate_record(NULL::requests, to_jsonb(r) || "
             "jsonb_build_object('id', gen_random_uuid(), 'number', r.number || '-' || "
             "substr(md5(random()::text), 1, 8)) || '%s'::jsonb)).* FROM requests r WHERE r.id = "
             "'%s'",
             change, req_id);
}

static PGconn *second(void)
{
    PGconn *c = PQconnectdb(th_dburl());
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    return c;
}

/* sql on c, which must succeed (th_pg_ok prints the server's message when it does not). */
static void exec_ok(PGconn *c, const char *sql)
{
    if (!th_pg_ok(PQexec(c, sql)))
        fail_msg("%s", sql);
}

/* Runs sql (one statement, its own transaction) expecting it to fail with sqlstate; returns
 * the constraint the error names (static buffer, "" when none). */
static const char *fails(const char *sql, const char *sqlstate)
{
    static char con[128];
    PGresult *r = PQexec(th_db(), sql);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) != PGRES_FATAL_ERROR || !st || strcmp(st, sqlstate))
        fail_msg("%s: expected SQLSTATE %s, got %s (%s)", sql, sqlstate, st ? st : "none",
                 PQresultErrorMessage(r));
    const char *c = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    snprintf(con, sizeof con, "%s", c ? c : "");
    PQclear(r);
    return con;
}

/* FOR UPDATE NOWAIT of one row of table from a second connection: 1 when it got the lock. */
static int lockable(PGconn *c, const char *table, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id = '%s' FOR UPDATE NOWAIT", table, id);
    exec_ok(c, "BEGIN");
    PGresult *r = PQexec(c, sql);
    int got = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (!got && PQresultStatus(r) == PGRES_FATAL_ERROR)
        assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03");
    PQclear(r);
    exec_ok(c, "ROLLBACK");
    return got;
}

static long count(const char *sql)
{
    return th_sql_long(sql, NULL, 0);
}

static void test_writes_leave_parents_unlocked(void **state)
{
    (void)state;
    PGconn *a = second(), *b = second();
    char sql[1024];
    /* The lock test itself: a foreign key's share lock is what it detects. */
    snprintf(sql, sizeof sql, "SELECT 1 FROM units WHERE id = '%s' FOR KEY SHARE", unit_id);
    exec_ok(a, "BEGIN");
    exec_ok(a, sql);
    assert_false(lockable(b, "units", unit_id));
    exec_ok(a, "ROLLBACK");
    assert_true(lockable(b, "units", unit_id));

    exec_ok(a, "BEGIN");
    copy_request_sql(sql, sizeof sql, "{}");
    exec_ok(a, sql);
    assert_true(lockable(b, "projects", project_id));
    assert_true(lockable(b, "units", unit_id));
    snprintf(sql, sizeof sql,
             "INSERT INTO request_events (org_id, request_id, seq, actor_role, action, "
             "occurred_at) VALUES ('%s', '%s', 100000, 'system', 'note', now())",
             org_id, req_id);
    exec_ok(a, sql);
    assert_true(lockable(b, "requests", req_id));
    snprintf(sql, sizeof sql,
             "INSERT INTO notifications (org_id, user_id, kind, request_id) VALUES ('%s', '%s', "
             "'test', '%s')",
             org_id, agent_id, req_id);
    exec_ok(a, sql);
    assert_true(lockable(b, "users", agent_id));
    assert_true(lockable(b, "requests", req_id));
    exec_ok(a, "ROLLBACK");
    PQfinish(a);
    PQfinish(b);
}

static void test_missing_parent_is_a_foreign_key_error(void **state)
{
    (void)state;
    char sql[1024], change[256];
    long requests = count("SELECT count(*) FROM requests");
    long events = count("SELECT count(*) FROM request_events");
    long alerts = count("SELECT count(*) FROM sla_alerts");
    long notes = count("SELECT count(*) FROM notifications");

    struct {
        const char *change, *constraint;
    } cases[] = {
        {"{\"project_id\": \"" MISSING "\"}", "requests_org_id_project_id_fkey"},
        {"{\"unit_id\": \"" MISSING "\"}", "requests_org_id_unit_id_fkey"},
        {"{\"reporter_user_id\": \"" MISSING "\"}", "requests_org_id_reporter_user_id_fkey"},
        {"{\"assignee_id\": \"" MISSING "\"}", "requests_org_id_assignee_id_fkey"},
        {"{\"repeat_of\": \"" MISSING "\"}", "requests_org_id_repeat_of_fkey"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_request_sql(sql, sizeof sql, cases[i].change);
        assert_string_equal(fails(sql, "23503"), cases[i].constraint);
    }
    /* A unit of the same id in another organisation is not this request's unit. */
    char other_unit[40];
    assert_int_equal(th_fx_unit("other", "1-101", other_unit), 0);
    snprintf(change, sizeof change, "{\"unit_id\": \"%s\"}", other_unit);
    copy_request_sql(sql, sizeof sql, change);
    assert_string_equal(fails(sql, "23503"), "requests_org_id_unit_id_fkey");

    /* A batch of two timeline events, one of them for a missing request: neither is written. */
    snprintf(sql, sizeof sql,
             "INSERT INTO request_events (org_id, request_id, seq, actor_role, action, "
             "occurred_at) VALUES ('%s', '%s', 100001, 'system', 'note', now()), ('%s', '" MISSING
             "', 1, 'system', 'note', now())",
             org_id, req_id, org_id);
    assert_string_equal(fails(sql, "23503"), "request_events_org_id_request_id_fkey");
    snprintf(sql, sizeof sql,
             "INSERT INTO sla_alerts (org_id, request_id, target, kind, level, due_at) VALUES "
             "('%s', '" MISSING "', 'resolution', 'warning', 0, now())",
             org_id);
    assert_string_equal(fails(sql, "23503"), "sla_alerts_org_id_request_id_fkey");
    snprintf(sql, sizeof sql,
             "INSERT INTO notifications (org_id, user_id, kind, request_id) VALUES ('%s', '" MISSING
             "', 'test', '%s')",
             org_id, req_id);
    assert_string_equal(fails(sql, "23503"), "notifications_org_id_user_id_fkey");
    snprintf(sql, sizeof sql,
             "INSERT INTO notifications (org_id, user_id, kind, request_id) VALUES ('%s', '%s', "
             "'test', '" MISSING "')",
             org_id, agent_id);
    assert_string_equal(fails(sql, "23503"), "notifications_org_id_request_id_fkey");

    /* An UPDATE that moves a reference is checked; one that does not, is not refused. */
    snprintf(sql, sizeof sql, "UPDATE requests SET assignee_id = '" MISSING "' WHERE id = '%s'",
             req_id);
    assert_string_equal(fails(sql, "23503"), "requests_org_id_assignee_id_fkey");
    snprintf(sql, sizeof sql,
             "BEGIN; UPDATE requests SET assignee_id = '%s' WHERE id = '%s'; ROLLBACK", agent_id,
             req_id);
    exec_ok(th_db(), sql);

    assert_int_equal(count("SELECT count(*) FROM requests"), requests);
    assert_int_equal(count("SELECT count(*) FROM request_events"), events);
    assert_int_equal(count("SELECT count(*) FROM sla_alerts"), alerts);
    assert_int_equal(count("SELECT count(*) FROM notifications"), notes);
}

static void test_parents_are_kept(void **state)
{
    (void)state;
    char sql[1200];
    const struct {
        const char *table, *id;
    } rows[] = {
        {"projects", project_id}, {"units", unit_id}, {"users", agent_id}, {"requests", req_id}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE id = '%s'", rows[i].table,
                 rows[i].id);
        assert_int_equal(count(sql), 1);
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = '%s'", rows[i].table, rows[i].id);
        fails(sql, "23001");
        snprintf(sql, sizeof sql, "UPDATE %s SET id = gen_random_uuid() WHERE id = '%s'",
                 rows[i].table, rows[i].id);
        fails(sql, "23001");
        snprintf(sql, sizeof sql,
                 "UPDATE %s SET org_id = (SELECT id FROM organisations WHERE id <> '%s' LIMIT 1) "
                 "WHERE id = '%s'",
                 rows[i].table, org_id, rows[i].id);
        fails(sql, "23001");
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE id = '%s' AND org_id = '%s'",
                 rows[i].table, rows[i].id, org_id);
        assert_int_equal(count(sql), 1);
    }
    /* TRUNCATE: refused by a foreign key still pointing at the table or by 0045's trigger. */
    const char *tables[] = {"projects", "units", "users", "requests"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        snprintf(sql, sizeof sql, "TRUNCATE %s CASCADE", tables[i]);
        PGresult *r = PQexec(th_db(), sql);
        assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
        PQclear(r);
        snprintf(sql, sizeof sql, "SELECT count(*) > 0 FROM %s", tables[i]);
        assert_string_equal(th_sql1(sql, NULL, 0), "t");
    }
    /* The children's references cannot be moved (each in a transaction rolled back). */
    const char *moves[] = {
        "INSERT INTO sla_alerts (org_id, request_id, target, kind, level, due_at) VALUES "
        "('%1$s', '%2$s', 'resolution', 'warning', 0, now()); UPDATE sla_alerts SET request_id "
        "= '" MISSING "' WHERE request_id = '%2$s'",
        "INSERT INTO notifications (org_id, user_id, kind, request_id) VALUES ('%1$s', '%3$s', "
        "'test', '%2$s'); UPDATE notifications SET request_id = '" MISSING "' WHERE kind = "
        "'test' AND request_id = '%2$s'",
        "INSERT INTO notifications (org_id, user_id, kind, request_id) VALUES ('%1$s', '%3$s', "
        "'test', '%2$s'); UPDATE notifications SET user_id = '" MISSING "' WHERE kind = 'test' "
        "AND request_id = '%2$s'",
    };
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, moves[i], org_id, req_id, agent_id);
        snprintf(sql, sizeof sql, "BEGIN; %s", body);
        PGresult *r = PQexec(th_db(), sql);
        assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
        assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23001");
        PQclear(r);
        exec_ok(th_db(), "ROLLBACK");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_leave_parents_unlocked),
        cmocka_unit_test(test_missing_parent_is_a_foreign_key_error),
        cmocka_unit_test(test_parents_are_kept),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
