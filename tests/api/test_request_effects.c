/*
 * tests/api/test_request_effects.c — the effects core_request_effect() decides, as the
 * server stores them: a dissatisfied callback reopens the request, raises one escalation
 * level and notifies that level of the ladder (and at the top of the ladder only
 * reopens); the timeline event carries the work order's new state; a withdrawn work
 * order is cancelled.  The rest of the lifecycle is in test_requests.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

static char unit101[40], res_zw[40], dept_eng[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(NULL) != 0)
        return -1;
    if (th_fx_unit("demo", "1-101", unit101) || th_fx_resident("demo", "张伟", res_zw) ||
        th_fx_dept("demo", "engineering", dept_eng))
        return -1;
    return 0;
}

static void new_request(const char *type, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"%s\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"效果测试\"}",
             type, unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", body, id));
}

/* Runs an action that must answer 200 in `state`; returns the answer (free it). */
static th_resp_t *act_at(int line, const char *id, const char *action, int version,
                         const char *body, const char *state)
{
    char path[200], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, action);
    snprintf(im, sizeof im, "If-Match: \"%d\"", version);
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req("POST", path, th_token("agent"), body, h);
    if (r->status != 200 || strcmp(th_js(r->json, "state"), state) != 0)
        fail_msg("line %d: %s: expected 200 %s, got %ld: %s", line, action, state, r->status,
                 r->body);
    return r;
}
#define ACT(...) act_at(__LINE__, __VA_ARGS__)

static long sql_long(const char *sql, const char *id)
{
    const char *p[] = {id};
    const char *v = th_sql1(sql, p, 1);
    if (!v)
        fail_msg("query failed: %s", sql);
    return atol(v);
}

/* callback_dissatisfied notices about the request to users at ladder level `level`
 * (other_levels: to anyone else). */
static long notices(const char *id, int level, int other_levels)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE "
             "n.request_id = $1 AND n.kind = 'callback_dissatisfied' AND "
             "n.payload->>'reason' = 'dissatisfied callback' AND u.role %s ladder_role(%d)",
             other_levels ? "<>" : "=", level);
    return sql_long(sql, id);
}

/* Resolve, start the callback and record a dissatisfied answer: versions v .. v+2. */
static th_resp_t *dissatisfied(const char *id, int v)
{
    th_free(ACT(id, "resolve", v, "{\"resolution\":\"已解答\"}", "resolved"));
    th_free(ACT(id, "start_callback", v + 1, NULL, "callback"));
    /* The outcome is derived from the rating (RULES §3.1.5): a bare 'satisfied' is no
     * longer enough. */
    return ACT(id, "callback_result", v + 2, "{\"rating\":\"dissatisfied\"}", "received");
}

static void test_dissatisfied_callback_raises_and_notifies(void **state)
{
    (void)state;
    char id[40];
    new_request("complaint", id);
    th_resp_t *r = dissatisfied(id, 1);
    assert_int_equal(th_jn(r->json, "escalation_level"), 1);
    assert_int_equal(th_jn(r->json, "reopen_count"), 1);
    assert_true(th_jnull(r->json, "resolved_at"));
    th_free(r);
    assert_true(notices(id, 1, 0) > 0);
    assert_int_equal(notices(id, 1, 1), 0);

    /* The second one raises to level 2, whose people hear of it. */
    r = dissatisfied(id, 4);
    assert_int_equal(th_jn(r->json, "escalation_level"), 2);
    assert_int_equal(th_jn(r->json, "reopen_count"), 2);
    th_free(r);
    assert_true(notices(id, 2, 0) > 0);
    r = th_get_timeline("agent", id);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    const cJSON *last = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
    assert_string_equal(th_js(last, "action"), "callback_result");
    assert_int_equal(th_jn(last, "details.reopen_count"), 2);
    th_free(r);
}

static void test_dissatisfied_callback_at_top_only_reopens(void **state)
{
    (void)state;
    char id[40];
    new_request("complaint", id);
    const char *p[] = {id};
    assert_non_null(th_sql1("UPDATE requests SET escalation_level = 4 WHERE id = $1 "
                            "RETURNING escalation_level",
                            p, 1));
    long before = sql_long("SELECT count(*) FROM notifications WHERE request_id = $1", id);
    th_resp_t *r = dissatisfied(id, 1);
    assert_int_equal(th_jn(r->json, "escalation_level"), 4);
    assert_int_equal(th_jn(r->json, "reopen_count"), 1);
    assert_true(th_jnull(r->json, "resolved_at"));
    th_free(r);
    assert_int_equal(sql_long("SELECT count(*) FROM notifications WHERE request_id = $1 AND "
                              "kind = 'callback_dissatisfied'",
                              id),
                     0);
    assert_true(sql_long("SELECT count(*) FROM notifications WHERE request_id = $1", id) >= before);
}

/* The event names the work order's new state; the desk answering an inquiry withdraws
 * its unreported work order. */
static void test_work_order_state_in_events(void **state)
{
    (void)state;
    char id[40], b[128];
    new_request("inquiry", id);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    th_free(ACT(id, "dispatch", 1, b, "dispatched"));
    th_resp_t *r = ACT(id, "resolve", 2, "{\"resolution\":\"电话解答\"}", "resolved");
    assert_false(th_jnull(r->json, "resolved_at"));
    th_free(r);
    assert_int_equal(sql_long("SELECT count(*) FROM work_orders WHERE request_id = $1 AND "
                              "state = 'cancelled'",
                              id),
                     1);
    r = th_get_timeline("agent", id);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 3);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 1), "details.work_order_state"),
                        "dispatched");
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 2), "details.work_order_state"),
                        "cancelled");
    assert_false(th_jtrue(cJSON_GetArrayItem(items, 2), "details.paper_record"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dissatisfied_callback_raises_and_notifies),
        cmocka_unit_test(test_dissatisfied_callback_at_top_only_reopens),
        cmocka_unit_test(test_work_order_state_in_events),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
