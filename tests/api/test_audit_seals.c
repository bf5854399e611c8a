/*
 * tests/api/test_audit_seals.c — the audit chain's seals are rows of audit_seals (issue 14,
 * migration 0030): sealing never rewrites an audit_log row (its ctid stays, the table has no
 * fillfactor any more); audit_seals is append-only and read-only for the service's role; a
 * row whose transaction commits late, after the sealer has moved its watermark past younger
 * rows, is still sealed, and the watermark then moves past it.
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
#include <time.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char demo_org[40];

static int setup(void **state)
{
    if (th_group_start(state) ||
        th_grab(demo_org, "SELECT id FROM organisations WHERE code = 'demo'"))
        return -1;
    return 0;
}

static const char *unsealed_sql = "SELECT count(*) FROM audit_log a WHERE NOT EXISTS "
                                  "(SELECT 1 FROM audit_seals s WHERE s.id = a.id)";

/* Seals every committed row now (deskd's own sealer may hold a chain for a moment). */
static void seal_all(void)
{
    for (int i = 0; i < 2000; i++) {
        assert_non_null(th_sql1("SELECT audit_seal_pending(100000)", NULL, 0));
        if (!strcmp(th_sql1(unsealed_sql, NULL, 0), "0"))
            return;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("audit rows still unsealed after 20 s");
}

static void login(const char *user)
{
    th_resp_t *l = th_login_resp(user, TH_PASS);
    EXPECT_STATUS(l, 200);
    th_free(l);
}

static void test_seal_leaves_the_row_alone(void **state)
{
    (void)state;
    const char *auditor = th_token("auditor"); /* its login is an audit row too */
    login("clerk");
    char id[24], ctid[40];
    snprintf(id, sizeof id, "%s", th_sql1("SELECT max(id) FROM audit_log", NULL, 0));
    const char *v[] = {id};
    snprintf(ctid, sizeof ctid, "%s",
             th_sql1("SELECT ctid::text FROM audit_log WHERE id = $1", v, 1));
    seal_all();
    /* Same row version: the seal did not UPDATE it. */
    assert_string_equal(th_sql1("SELECT ctid::text FROM audit_log WHERE id = $1", v, 1), ctid);
    assert_string_equal(th_sql1("SELECT count(*) FROM audit_seals WHERE id = $1", v, 1), "1");
    /* No room left free for seal row versions (fillfactor 50 until 0030). */
    assert_string_equal(th_sql1("SELECT coalesce(array_to_string(reloptions, ','), '') FROM "
                                "pg_class WHERE oid = 'audit_log'::regclass",
                                NULL, 0),
                        "");
    assert_string_equal(th_sql1("SELECT count(*) FROM pg_attribute WHERE attrelid = "
                                "'audit_log'::regclass AND attname IN ('seq', 'hash', "
                                "'prev_hash') AND NOT attisdropped",
                                NULL, 0),
                        "0");
    th_resp_t *r = th_req("GET", "/v1/audit/verify", auditor, NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "ok"));
    assert_int_equal(th_jn(r->json, "rows_pending"), 0);
    th_free(r);
}

static const char *sql_error(const char *sql)
{
    static char msg[512];
    PGresult *x = PQexec(th_db(), sql);
    ExecStatusType s = PQresultStatus(x);
    snprintf(msg, sizeof msg, "%s",
             s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? "" : PQresultErrorMessage(x));
    PQclear(x);
    return msg;
}

static void test_seals_are_append_only(void **state)
{
    (void)state;
    login("clerk");
    seal_all();
    assert_non_null(strstr(sql_error("UPDATE audit_seals SET hash = 'x' WHERE id = (SELECT max(id) "
                                     "FROM audit_seals)"),
                           "append-only"));
    assert_non_null(strstr(sql_error("DELETE FROM audit_seals"), "append-only"));
    assert_non_null(strstr(sql_error("TRUNCATE audit_seals"), "append-only"));
    assert_string_equal(
        th_sql1("SELECT has_table_privilege('deskd_app', 'audit_seals', 'SELECT') AND NOT "
                "has_table_privilege('deskd_app', 'audit_seals', 'INSERT') AND NOT "
                "has_table_privilege('deskd_app', 'audit_seals', 'UPDATE') AND NOT "
                "has_table_privilege('deskd_app', 'audit_seals', 'DELETE') AND NOT "
                "has_table_privilege('deskd_app', 'audit_seal_state', 'UPDATE')",
                NULL, 0),
        "t");
}

/* A transaction takes an audit id, then stays open while younger rows commit and are sealed
 * over several sealer runs; when it commits, its row is sealed all the same, and afterwards
 * the watermark moves past it (the sealer does not rescan the whole table for ever). */
static void test_late_commit_is_sealed(void **state)
{
    (void)state;
    seal_all();
    PGconn *late = PQconnectdb(th_dburl());
    assert_int_equal(PQstatus(late), CONNECTION_OK);
    PGresult *x = PQexec(late, "BEGIN");
    PQclear(x);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT audit_event('%s', NULL, NULL, 'auth.logout', 'success', "
             "'{\"late\": true}')",
             demo_org);
    x = PQexec(late, sql);
    assert_int_equal(PQresultStatus(x), PGRES_TUPLES_OK);
    PQclear(x);
    x = PQexec(late, "SELECT max(id) FROM audit_log WHERE diff ? 'late'");
    assert_int_equal(PQresultStatus(x), PGRES_TUPLES_OK);
    char id[24];
    snprintf(id, sizeof id, "%s", PQgetvalue(x, 0, 0));
    PQclear(x);

    for (int i = 0; i < 4; i++) {
        login("clerk");
        seal_all(); /* our row is not visible: "all" are sealed */
    }
    const char *v[] = {id};
    assert_string_equal(th_sql1("SELECT count(*) FROM audit_log WHERE id = $1", v, 1), "0");
    /* The watermark stays at or below the open transaction's row. */
    assert_string_equal(th_sql1("SELECT low <= $1::bigint FROM audit_seal_state", v, 1), "t");

    x = PQexec(late, "COMMIT");
    assert_int_equal(PQresultStatus(x), PGRES_COMMAND_OK);
    PQclear(x);
    PQfinish(late);
    seal_all();
    assert_string_equal(th_sql1("SELECT count(*) FROM audit_seals WHERE id = $1", v, 1), "1");
    th_resp_t *r = th_req("GET", "/v1/audit/verify", th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "ok"));
    assert_int_equal(th_jn(r->json, "rows_pending"), 0);
    th_free(r);

    /* Once nothing older is running, a few runs move the watermark past the row. */
    for (int i = 0;; i++) {
        login("clerk");
        seal_all();
        if (!strcmp(th_sql1("SELECT low > $1::bigint FROM audit_seal_state", v, 1), "t"))
            break;
        assert_true(i < 200);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_leaves_the_row_alone),
        cmocka_unit_test(test_seals_are_append_only),
        cmocka_unit_test(test_late_commit_is_sealed),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
