/*
 * tests/api/test_survey_capa.c — a department below the project's satisfaction target gets
 * a corrective action when the campaign is reported (issue 9, RULES §3.2.9, §3.3.1; 002
 * 第8篇 5.10), in the report's transaction, on a hand-computed fixture:
 *
 *   items A1, A2 → customer service; A3 → engineering.  Four paper forms:
 *     1-101  A1 很满意,   A3 基本满意
 *     1-102  A1 基本满意, A2 比较满意, A3 不太满意
 *     1-201  A2 基本满意, A3 不太满意
 *     2-101  A1 比较满意, A3 基本满意
 *   customer service: 5 answers, 5 at 基本满意 or better → 100 %
 *   engineering:      4 answers, 2 at 基本满意 or better →  50 %
 *
 * Target 50 (the project's survey_target_percent): 50 % is not below (exact boundary), no
 * action.  Default target (90): engineering gets one corrective action (kind corrective,
 * source department_below_target "<department>/<period>", its department responsible),
 * customer service none; a second campaign of the same period links the same action.
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

static char p1[40], d_cs[40], d_eng[40], u[4][40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_dept("demo", "customer_service", d_cs) ||
           th_fx_dept("demo", "engineering", d_eng) || th_fx_unit("demo", "1-101", u[0]) ||
           th_fx_unit("demo", "1-102", u[1]) || th_fx_unit("demo", "1-201", u[2]) ||
           th_fx_unit("demo", "2-101", u[3]);
}

/* Sets P1's target (JSON value: a number or null). */
static void set_target(const char *value)
{
    char path[128], body[64], im[64];
    snprintf(path, sizeof path, "/v1/projects/%s", p1);
    th_resp_t *g = th_req("GET", path, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(g, 200);
    snprintf(im, sizeof im, "If-Match: %s", th_header(g, "ETag"));
    th_free(g);
    const char *h[] = {im, NULL};
    snprintf(body, sizeof body, "{\"survey_target_percent\":%s}", value);
    th_resp_t *r = th_req("PATCH", path, th_token("admin"), body, h);
    EXPECT_STATUS(r, 200);
    th_free(r);
}

/* A campaign of the period with the fixture's four forms, reported; the report into *out. */
static void reported_campaign(const char *start, const char *end, th_resp_t **out)
{
    char body[2048], path[200], id[40];
    snprintf(
        body, sizeof body,
        "{\"project_id\":\"%s\",\"title\":\"部门满意度\",\"period\":{\"start\":\"%s\","
        "\"end\":\"%s\"},\"copies_distributed\":4,\"items\":["
        "{\"code\":\"A1\",\"group\":\"服务\",\"text\":\"服务态度\",\"department_id\":\"%s\"},"
        "{\"code\":\"A2\",\"group\":\"服务\",\"text\":\"服务时效\",\"department_id\":\"%s\"},"
        "{\"code\":\"A3\",\"group\":\"维修\",\"text\":\"维修质量\",\"department_id\":\"%s\"}]}",
        p1, start, end, d_cs, d_cs, d_eng);
    th_resp_t *r = th_req("POST", "/v1/survey-campaigns", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(id, sizeof id, "%s", th_str(r, "id"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/actions/open", id);
    r = th_req("POST", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    static const char *const answers[4] = {
        "[{\"item_code\":\"A1\",\"rating\":\"very_satisfied\"},"
        "{\"item_code\":\"A3\",\"rating\":\"basically_satisfied\"}]",
        "[{\"item_code\":\"A1\",\"rating\":\"basically_satisfied\"},"
        "{\"item_code\":\"A2\",\"rating\":\"fairly_satisfied\"},"
        "{\"item_code\":\"A3\",\"rating\":\"somewhat_dissatisfied\"}]",
        "[{\"item_code\":\"A2\",\"rating\":\"basically_satisfied\"},"
        "{\"item_code\":\"A3\",\"rating\":\"somewhat_dissatisfied\"}]",
        "[{\"item_code\":\"A1\",\"rating\":\"fairly_satisfied\"},"
        "{\"item_code\":\"A3\",\"rating\":\"basically_satisfied\"}]",
    };
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/responses", id);
    for (int i = 0; i < 4; i++) {
        snprintf(body, sizeof body,
                 "{\"unit_id\":\"%s\",\"overall_rating\":\"basically_satisfied\",\"answers\":%s}",
                 u[i], answers[i]);
        r = th_req("POST", path, th_token("agent"), body, NULL);
        EXPECT_STATUS(r, 201);
        th_free(r);
    }
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/actions/close", id);
    r = th_req("POST", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/actions/report", id);
    r = th_req("POST", path, th_token("supervisor"), "{\"opinion\":\"维修部门需改进\"}", NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/report", id);
    *out = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(*out, 200);
}

/* The report's department entry for dept. */
static const cJSON *dept_of(const th_resp_t *r, const char *dept)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(r->json, "departments"))
    {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(d, "department_id")), dept))
            return d;
    }
    fail_msg("department %s not in the report", dept);
    return NULL;
}

static long dept_actions(void)
{
    return th_sql_long("SELECT count(*) FROM corrective_action_sources WHERE source_kind = "
                       "'department_below_target'",
                       NULL, 0);
}

static void test_department_below_target(void **state)
{
    (void)state;
    long before = dept_actions();
    /* target 50: engineering's 2 / 4 is exactly at target, not below */
    set_target("50");
    th_resp_t *r;
    reported_campaign("2026-07-01", "2026-09-30", &r);
    assert_int_equal(th_jn(th_jpath(r->json, "summary"), "target_percent"), 50);
    const cJSON *eng = dept_of(r, d_eng), *cs = dept_of(r, d_cs);
    assert_int_equal(th_jn(th_jpath(eng, "satisfaction"), "numerator"), 2);
    assert_int_equal(th_jn(th_jpath(eng, "satisfaction"), "denominator"), 4);
    assert_int_equal(th_jn(th_jpath(cs, "satisfaction"), "numerator"), 5);
    assert_int_equal(th_jn(th_jpath(cs, "satisfaction"), "denominator"), 5);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(eng, "below_target")));
    assert_null(cJSON_GetObjectItem(eng, "corrective_action"));
    th_free(r);
    assert_int_equal(dept_actions(), before);

    /* default target (90): engineering below → one corrective action; service not */
    set_target("null");
    reported_campaign("2026-10-01", "2026-12-31", &r);
    assert_int_equal(th_jn(th_jpath(r->json, "summary"), "target_percent"), 90);
    eng = dept_of(r, d_eng);
    cs = dept_of(r, d_cs);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(eng, "below_target")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cs, "below_target")));
    assert_null(cJSON_GetObjectItem(cs, "corrective_action"));
    char ca[40], number[40], path[160];
    snprintf(ca, sizeof ca, "%s", cJSON_GetStringValue(th_jpath(eng, "corrective_action.id")));
    snprintf(number, sizeof number, "%s",
             cJSON_GetStringValue(th_jpath(eng, "corrective_action.number")));
    assert_int_equal(strlen(ca), 36);
    assert_int_equal(strncmp(number, "CA-", 3), 0);
    th_free(r);
    assert_int_equal(dept_actions(), before + 1);
    snprintf(path, sizeof path, "/v1/corrective-actions/%s", ca);
    r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "kind"), "corrective");
    assert_string_equal(th_str(r, "department_id"), d_eng);
    assert_string_equal(th_str(r, "number"), number);
    const cJSON *src = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "sources"), 0);
    char want[160];
    snprintf(want, sizeof want, "%s/2026-10-01~2026-12-31", d_eng);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(src, "kind")),
                        "department_below_target");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(src, "id")), want);
    th_free(r);

    /* a second campaign of the same period: the same action, not a new one */
    reported_campaign("2026-10-01", "2026-12-31", &r);
    assert_string_equal(cJSON_GetStringValue(th_jpath(dept_of(r, d_eng), "corrective_action.id")),
                        ca);
    th_free(r);
    assert_int_equal(dept_actions(), before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_department_below_target),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
