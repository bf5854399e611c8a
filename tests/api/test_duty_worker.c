/*
 * tests/api/test_duty_worker.c — the duty clocks run in the background (svc/duty_check.c,
 * started by main on DESK_SWEEP_INTERVAL_MS): without anyone calling the check, a handover
 * not accepted past its grace notifies the project's supervisors, and an incident report
 * still a draft past its due time escalates to the managers — each once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char p1[40], u_agent[40], u_clerk[40], u_supervisor[40], u_manager[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=200", NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_user("agent", u_agent) ||
           th_fx_user("clerk", u_clerk) || th_fx_user("supervisor", u_supervisor) ||
           th_fx_user("manager", u_manager);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static long notes(const char *user, const char *kind)
{
    const char *v[] = {user, kind};
    return th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2", v, 2);
}

/* Waits (generously: the worker runs every 200 ms) until user has `want` notifications of kind. */
static long wait_notes(const char *user, const char *kind, long want)
{
    long n = 0;
    for (int i = 0; i < 300 && (n = notes(user, kind)) < want; i++)
        usleep(100 * 1000);
    return n;
}

static void test_background_clocks(void **state)
{
    (void)state;
    char body[600], a[40], b[40], shift[40];
    th_iso_utc(time(NULL) - 10 * 3600, a);
    th_iso_utc(time(NULL) - 3600, b);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"post\":\"front_desk\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, u_agent, a, b);
    th_resp_t *r = th_req("POST", "/v1/duty/shifts", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(shift, sizeof shift, "%s", th_str(r, "id"));
    th_free(r);
    long late0 = notes(u_supervisor, "handover_not_accepted");
    snprintf(body, sizeof body, "{\"from_shift_id\":\"%s\",\"incoming_user_id\":\"%s\"}", shift,
             u_clerk);
    r = th_req("POST", "/v1/handovers", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);

    long esc0 = notes(u_manager, "incident_report_escalated");
    th_iso_utc(time(NULL) - 3 * 86400, a);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"flood\",\"occurred_at\":\"%s\"}",
             p1, a);
    r = th_req("POST", "/v1/incidents", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);

    assert_int_equal(wait_notes(u_supervisor, "handover_not_accepted", late0 + 1), late0 + 1);
    assert_int_equal(wait_notes(u_manager, "incident_report_escalated", esc0 + 1), esc0 + 1);
    /* Several more rounds change nothing: each is told once. */
    usleep(1000 * 1000);
    assert_int_equal(notes(u_supervisor, "handover_not_accepted"), late0 + 1);
    assert_int_equal(notes(u_manager, "incident_report_escalated"), esc0 + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_background_clocks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
