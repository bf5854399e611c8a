/*
 * tests/api/test_patrol_missed_rule.c — the missed-round worker judges with the core rule
 * (core_patrol_slot_status): a slot whose round started exactly at planned time + grace is
 * kept; one whose round started half a second later, or that has no round, is recorded as
 * missed and notified once — the same boundaries the day's view shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char p1[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", "DESK_CAPA_INTERVAL_MS=250",
                                      NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_project("demo", p1);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

/* The local HH:MI `delta` from now and its instant (RFC 3339) into at. */
static void slot(const char *delta, char hhmi[8], char at[40])
{
    char sql[400];
    const char *v[] = {p1};
    snprintf(sql, sizeof sql,
             "SELECT to_char((now() + interval '%s') AT TIME ZONE time_zone, 'HH24:MI') FROM "
             "projects WHERE id = $1",
             delta);
    snprintf(hhmi, 8, "%s", th_sql1(sql, v, 1));
    snprintf(sql, sizeof sql,
             "SELECT rfc3339(((((now() + interval '%s') AT TIME ZONE time_zone)::date + "
             "$2::time)::timestamp) AT TIME ZONE time_zone) FROM projects WHERE id = $1",
             delta);
    const char *w[] = {p1, hhmi};
    snprintf(at, 40, "%s", th_sql1(sql, w, 2));
}

/* A round of the slot at `at`, its start moved to planned + `late` (an SQL interval). */
static void round_started(const char *at, const char *late)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"building\",\"planned_at\":\"%s\"}", p1, at);
    th_resp_t *r = th_req("POST", "/v1/patrol-rounds", th_token("supervisor"), body, NULL);
    if (r->status != 201)
        fprintf(stderr, "round -> %ld %s\n", r->status, r->body);
    th_expect_status_at(__LINE__, r, 201);
    char sql[200];
    snprintf(sql, sizeof sql,
             "UPDATE patrol_rounds SET started_at = planned_at + interval '%s' WHERE id = $1 "
             "RETURNING 1",
             late);
    const char *v[] = {th_str(r, "id")};
    assert_non_null(th_sql1(sql, v, 1));
    th_free(r);
}

static long missed(const char *at)
{
    const char *v[] = {p1, at};
    return th_sql_long("SELECT count(*) FROM patrol_missed WHERE project_id = $1 AND planned_at "
                       "= $2::timestamptz",
                       v, 2);
}

static void test_missed_boundaries(void **state)
{
    (void)state;
    char a[8], b[8], c[8], a_at[40], b_at[40], c_at[40], body[256];
    slot("-5 hours", c, c_at);
    slot("-3 hours", a, a_at);
    slot("-2 hours", b, b_at);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"building\",\"times\":[\"%s\",\"%s\",\"%s\"],"
             "\"grace_minutes\":30}",
             p1, c, a, b);
    th_resp_t *r = th_req("POST", "/v1/patrol-plans", th_token("supervisor"), body, NULL);
    th_expect_status_at(__LINE__, r, 201);
    th_free(r);
    const char *v[] = {p1};
    assert_non_null(th_sql1("UPDATE patrol_plans SET created_at = now() - interval '2 days' "
                            "WHERE project_id = $1 AND kind = 'building' RETURNING 1",
                            v, 1));
    round_started(a_at, "30 minutes");
    round_started(b_at, "30 minutes 0.5 seconds");
    int ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        ok = missed(b_at) == 1 && missed(c_at) == 1;
        if (!ok)
            usleep(50000);
    }
    assert_true(ok);
    usleep(600000); /* a few more runs of the worker change nothing */
    assert_int_equal(missed(a_at), 0);
    assert_int_equal(missed(b_at), 1);
    assert_int_equal(missed(c_at), 1);
    const char *nv[] = {p1};
    assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = "
                                 "n.user_id WHERE u.username = 'supervisor' AND n.kind = "
                                 "'patrol_missed' AND n.payload->>'project_id' = $1",
                                 nv, 1),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missed_boundaries),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
