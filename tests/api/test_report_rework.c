/*
 * tests/api/test_report_rework.c — the monthly report's rework rate is the request flow's
 * 返修 (RULES §3.11.4, issue 16): requests.is_repeat, set at intake when a repair of the same
 * unit and category comes within 30 days of a previous one *closing*; the report and GET
 * /v1/projects/{id}/figures/rework count the same repairs.  Also: phones masked for a role
 * that may not see them in every format of the report (JSON, CSV, HTML; live and stored).
 *
 * Fixture (May 2026, Asia/Shanghai; requests inserted in the order received so that the
 * intake trigger sees what had closed by then; times UTC):
 *   1-101: A received 04-01, closed 04-20 (April: only a predecessor);
 *          B received 05-10: A closed 20 d before → repeat (received 39 d after A: the old
 *          "received within 30 d" rule said no);
 *          C received 05-12: A closed 22 d before → repeat (old rule: yes, B 2 d before).
 *   1-102: D received 05-02, closed 05-03; E received 05-05, category quality: not the same
 *          category → no.
 *   1-201: F received 05-03, never closed; G 05-20 and L 05-21: nothing closed → no (old
 *          rule: both yes).
 *   2-101: H received 03-01, closed 03-05; I received 05-15: closed 71 d before → no.
 *   2-102: J received 05-01, closed 05-02; K received 05-25: closed 23 d before → repeat.
 * Hand-computed for May: repairs at a unit B C D E F G L I J K = 10; rework B C K = 3
 * (rate 0.3; the old rule gave C G L K = 4).  A complaint M (05-06, phone 13800138000)
 * for the masking checks.
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

static char proj[40];

static const char *INS =
    "INSERT INTO requests (org_id, project_id, number, type, channel, severity, validity, "
    "state, location_kind, unit_id, common_area, category, reporter_name, reporter_phone, "
    "title, description, received_at, resolved_at, closed_at, last_event_at, created_by, "
    "search_terms) SELECT p.org_id, p.id, $2, $3::text, 'phone', CASE WHEN $3::text = "
    "'complaint' THEN 'general' END, CASE WHEN $3::text = 'complaint' THEN 'valid' ELSE "
    "'unknown' END, CASE WHEN $6::text IS NULL THEN 'received' ELSE 'closed' END, CASE WHEN "
    "$4::text IS NULL THEN 'common_area' ELSE 'unit' END, (SELECT u.id FROM units u WHERE "
    "u.project_id = p.id AND u.code = $4), CASE WHEN $4::text IS NULL THEN '大堂' END, $7, "
    "'王芳', '13800138000', $2::text || '标题', '描述', $5::timestamptz, $6::timestamptz, "
    "$6::timestamptz, $5::timestamptz, (SELECT id FROM users WHERE username = 'agent'), '{}' "
    "FROM projects p WHERE p.id = $1 RETURNING id";

static int add(const char *num, const char *type, const char *unit, const char *recv,
               const char *closed, const char *category)
{
    const char *v[] = {proj, num, type, unit, recv, closed, category};
    return th_sql1(INS, v, 7) ? 0 : -1;
}

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_project("demo", proj))
        return -1;
    return add("A", "repair", "1-101", "2026-04-01T02:00:00Z", "2026-04-20T02:00:00Z", NULL) ||
           add("H", "repair", "2-101", "2026-03-01T02:00:00Z", "2026-03-05T02:00:00Z", NULL) ||
           add("J", "repair", "2-102", "2026-05-01T02:00:00Z", "2026-05-02T02:00:00Z", NULL) ||
           add("D", "repair", "1-102", "2026-05-02T02:00:00Z", "2026-05-03T02:00:00Z", NULL) ||
           add("F", "repair", "1-201", "2026-05-03T02:00:00Z", NULL, NULL) ||
           add("E", "repair", "1-102", "2026-05-05T02:00:00Z", NULL, "quality") ||
           add("M", "complaint", NULL, "2026-05-06T02:00:00Z", NULL, NULL) ||
           add("B", "repair", "1-101", "2026-05-10T02:00:00Z", NULL, NULL) ||
           add("C", "repair", "1-101", "2026-05-12T02:00:00Z", NULL, NULL) ||
           add("I", "repair", "2-101", "2026-05-15T02:00:00Z", NULL, NULL) ||
           add("G", "repair", "1-201", "2026-05-20T02:00:00Z", NULL, NULL) ||
           add("L", "repair", "1-201", "2026-05-21T02:00:00Z", NULL, NULL) ||
           add("K", "repair", "2-102", "2026-05-25T02:00:00Z", NULL, NULL);
}

#define MAY "/v1/projects/%s/reports/monthly/2026-05"

static th_resp_t *call(const char *method, const char *user, const char *fmt, const char *q)
{
    char path[256];
    snprintf(path, sizeof path, fmt, proj);
    if (q)
        strncat(path, q, sizeof path - strlen(path) - 1);
    return th_req(method, path, th_token(user), NULL, NULL);
}

static void test_rework_is_the_flows_repeat(void **state)
{
    (void)state;
    th_resp_t *r = call("GET", "supervisor", MAY, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "overall.counts.repairs_at_unit"), 10);
    assert_int_equal(th_jn(r->json, "overall.counts.rework"), 3);
    const cJSON *rate = th_jpath(r->json, "overall.kpis.rework_rate");
    assert_true(cJSON_IsNumber(rate));
    assert_float_equal(rate->valuedouble, 0.3, 1e-9);
    th_free(r);

    /* the request flow's figure over the same local month counts the same repeats */
    r = call("GET", "supervisor", "/v1/projects/%s/figures/rework",
             "?from=2026-04-30T16:00:00Z&to=2026-05-31T16:00:00Z");
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "repeat_repairs"), 3);
    assert_int_equal(th_jn(r->json, "repairs"), 10); /* no common-area repair here */
    th_free(r);
}

/* Every format of the month, live and stored, as `user`: whether the full phone shows. */
static void check_phone(const char *user, int full)
{
    static const char *const q[] = {NULL, "?format=csv", "?format=html"};
    for (int stored = 0; stored < 2; stored++) {
        for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
            th_resp_t *r = call("GET", user, stored ? MAY "/versions/1" : MAY, q[i]);
            EXPECT_STATUS(r, 200);
            const char *what = stored ? "stored" : "live";
            if (full) {
                if (!strstr(r->body, "13800138000"))
                    fail_msg("%s %s %s: the full phone is missing", user, what,
                             q[i] ? q[i] : "json");
            } else {
                if (strstr(r->body, "13800138000") || !strstr(r->body, "138****8000"))
                    fail_msg("%s %s %s: the phone is not masked", user, what, q[i] ? q[i] : "json");
            }
            th_free(r);
        }
    }
}

static void test_phones_masked_in_every_format(void **state)
{
    (void)state;
    th_resp_t *r = call("POST", "supervisor", MAY "/versions", NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    check_phone("auditor", 0);
    check_phone("supervisor", 1);
    /* the daily and weekly views (JSON only) */
    r = call("GET", "auditor", "/v1/projects/%s/reports/daily", "?date=2026-05-06");
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "rows")), 1);
    assert_null(strstr(r->body, "13800138000"));
    assert_non_null(strstr(r->body, "138****8000"));
    th_free(r);
    r = call("GET", "auditor", "/v1/projects/%s/reports/weekly", "?start=2026-05-04");
    EXPECT_STATUS(r, 200);
    assert_null(strstr(r->body, "13800138000"));
    assert_non_null(strstr(r->body, "138****8000"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rework_is_the_flows_repeat),
        cmocka_unit_test(test_phones_masked_in_every_format),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
