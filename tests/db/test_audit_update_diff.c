/*
 * tests/db/test_audit_update_diff.c — audit_row() on an UPDATE (migration 0034 takes the
 * diff from the raw images and cleans only the changed columns): the diff is the one of
 * the cleaned images, column by column.  A phone changed to another with the same mask
 * writes no row; a skipped column (sla_next_check) or updated_at/version alone writes no
 * row; several columns, a masked phone and a value set to null come out cleaned in one row,
 * before and after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char req_id[40];

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    char unit[40], res[40], body[512];
    if (th_fx_unit("demo", "1-101", unit) || th_fx_resident("demo", "张伟", res))
        return -1;
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"审计差异\"}",
             unit, res);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    int ok = r->status == 201 && th_str(r, "id")[0];
    if (ok)
        snprintf(req_id, sizeof req_id, "%s", th_str(r, "id"));
    else
        fprintf(stderr, "create: %ld %s\n", r->status, r->body);
    th_free(r);
    return ok ? 0 : -1;
}

static long audit_rows(void)
{
    const char *p[] = {req_id};
    return th_sql_long("SELECT count(*) FROM audit_log WHERE resource_type = 'request' AND "
                       "resource_id = $1",
                       p, 1);
}

/* Runs one UPDATE of the request (its own transaction); returns the new audit rows. */
static long update(const char *set)
{
    long before = audit_rows();
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE requests SET %s WHERE id = $1", set);
    const char *p[] = {req_id};
    PGresult *r = PQexecParams(th_db(), sql, 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return audit_rows() - before;
}

static const char *last_diff(void)
{
    const char *p[] = {req_id};
    return th_sql1("SELECT diff::text FROM audit_log WHERE resource_type = 'request' AND "
                   "resource_id = $1 ORDER BY id DESC LIMIT 1",
                   p, 1);
}

static void test_update_diff_is_the_cleaned_diff(void **state)
{
    (void)state;
    assert_true(req_id[0]);
    assert_int_equal(update("reporter_phone = '13812340000', reporter_name = '王先生'"), 1);

    /* Same mask (138****0000): the cleaned images do not differ. */
    assert_int_equal(update("reporter_phone = '13856780000'"), 0);
    /* Left out of every diff: the sweep's clock, and updated_at / version. */
    assert_int_equal(update("sla_next_check = now() + interval '3 hours'"), 0);
    assert_int_equal(update("updated_at = clock_timestamp(), version = version + 1"), 0);

    /* Several columns at once: masked phone, a value to null, a level. */
    assert_int_equal(update("reporter_phone = '13900001111', reporter_name = NULL, "
                            "escalation_level = escalation_level + 1, sla_next_due = now()"),
                     1);
    const char *p[] = {req_id};
    const char *lvl = th_sql1("SELECT escalation_level FROM requests WHERE id = $1", p, 1);
    int after = atoi(lvl);
    char want[512];
    snprintf(want, sizeof want,
             "{\"after\": {\"reporter_name\": null, \"reporter_phone\": \"139****1111\", "
             "\"escalation_level\": %d}, \"before\": {\"reporter_name\": \"王先生\", "
             "\"reporter_phone\": \"138****0000\", \"escalation_level\": %d}}",
             after, after - 1);
    assert_string_equal(last_diff(), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_diff_is_the_cleaned_diff),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
