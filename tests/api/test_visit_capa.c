/*
 * tests/api/test_visit_capa.c — a visit's follow-up corrective action is a real link (issue
 * 9, RULES §3.2.12, §3.3.1): named by id or CA number (validated in the project), or
 * opened from the visit (kind corrective, source visit) in the record's transaction; who
 * may open one (supervisor and above), and nothing half-written on a refusal.
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

static char p1[40], u101[40], u_agent[40], d_eng[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", u101) ||
           th_fx_user("agent", u_agent) || th_fx_dept("demo", "engineering", d_eng);
}

static th_resp_t *visit(const char *who, const char *follow_up)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"unit_id\":\"%s\","
             "\"visitors\":[\"%s\"],\"topics\":\"入户走访\",\"opinions\":\"电梯经常停运\","
             "\"follow_up\":%s}",
             p1, u101, u_agent, follow_up);
    return th_req("POST", "/v1/visit-records", th_token(who), body, NULL);
}

static long visits(void)
{
    return th_sql_long("SELECT count(*) FROM visit_records", NULL, 0);
}

static long actions(void)
{
    return th_sql_long("SELECT count(*) FROM corrective_actions", NULL, 0);
}

static void test_visit_opens_corrective_action(void **state)
{
    (void)state;
    char fu[512], vid[40], ca[40], number[40], path[160];
    snprintf(fu, sizeof fu,
             "{\"note\":\"报工程部整改\",\"corrective_action\":{\"title\":\"电梯频繁停运\","
             "\"problem\":\"走访时业主反映电梯每周停运两次\",\"department_id\":\"%s\"}}",
             d_eng);
    th_resp_t *r = visit("supervisor", fu);
    EXPECT_STATUS(r, 201);
    snprintf(vid, sizeof vid, "%s", th_str(r, "id"));
    snprintf(ca, sizeof ca, "%s", th_js(r->json, "follow_up.corrective_action_id"));
    snprintf(number, sizeof number, "%s", th_js(r->json, "follow_up.corrective_action_ref"));
    assert_int_equal(strlen(ca), 36);
    assert_int_equal(strncmp(number, "CA-", 3), 0);
    th_free(r);
    snprintf(path, sizeof path, "/v1/corrective-actions/%s", ca);
    r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "kind"), "corrective");
    assert_string_equal(th_str(r, "number"), number);
    assert_string_equal(th_str(r, "department_id"), d_eng);
    const cJSON *src = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "sources"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(src, "kind")), "visit");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(src, "id")), vid);
    th_free(r);
    /* read back: the link, in the database too */
    snprintf(path, sizeof path, "/v1/visit-records/%s", vid);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "follow_up.corrective_action_id"), ca);
    th_free(r);

    /* a later visit names the same action by id */
    snprintf(fu, sizeof fu, "{\"corrective_action_id\":\"%s\"}", ca);
    r = visit("agent", fu);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "follow_up.corrective_action_ref"), number);
    th_free(r);
}

static void test_refusals_write_nothing(void **state)
{
    (void)state;
    long v0 = visits(), a0 = actions();
    char fu[512];
    /* an agent may record a visit but not open a corrective action */
    snprintf(fu, sizeof fu, "{\"corrective_action\":{\"title\":\"x\",\"department_id\":\"%s\"}}",
             d_eng);
    th_resp_t *r = visit("agent", fu);
    assert_int_equal(r->status, 403);
    th_free(r);
    /* an unknown CA number, an id of no action, both at once, a bad department */
    r = visit("supervisor", "{\"corrective_action_ref\":\"CA-1999-000001\"}");
    EXPECT_PROBLEM(r, 422, "invalid_field");
    r = visit("supervisor", "{\"corrective_action_id\":\"00000000-0000-4000-8000-000000000009\"}");
    EXPECT_PROBLEM(r, 422, "invalid_field");
    r = visit("supervisor", "{\"corrective_action_ref\":\"CA-2026-000001\","
                            "\"corrective_action\":{\"title\":\"x\"}}");
    EXPECT_PROBLEM(r, 422, "invalid_field");
    r = visit("supervisor", "{\"corrective_action\":{\"title\":\"x\",\"department_id\":"
                            "\"00000000-0000-4000-8000-000000000009\"}}");
    assert_int_equal(r->status, 422);
    th_free(r);
    r = visit("supervisor", "{\"corrective_action\":{\"problem\":\"no title\"}}");
    assert_int_equal(r->status, 422);
    th_free(r);
    r = visit("supervisor", "{\"corrective_action\":\"CA-2026-000001\"}");
    assert_int_equal(r->status, 422);
    th_free(r);
    assert_int_equal(visits(), v0);
    assert_int_equal(actions(), a0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visit_opens_corrective_action),
        cmocka_unit_test(test_refusals_write_nothing),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
