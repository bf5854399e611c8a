/*
 * tests/api/test_shared_http.c — issue 8 (structure): the role checks that moved into the
 * core table (request.edit, sla.extension.decide) and the helpers every handler now
 * shares answer alike across resources: one If-Match parser (requests, SLA policies,
 * calendars, organisation records), one "load → 404 → authorise → answer" GET (ETag,
 * 404 naming the resource, 404 outside the scope), the unknown-field and required-text
 * checks, enum and ladder lists in details rendered from core, and cJSON payloads.
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
#include "tests/lib/requests.h"

static char unit101[40], res_zw[40], project[40], other_project[40], req_id[40];

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_unit("demo", "1-101", unit101) || th_fx_resident("demo", "张伟", res_zw) ||
        th_fx_project("demo", project) || th_fx_project("other", other_project))
        return -1;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"shared http\"}",
             unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", body, req_id));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

static const char *detail(const th_resp_t *r)
{
    const char *d = th_js(r->json, "detail");
    return d ? d : "";
}

/* Only customer-service staff edit a request's fields: the table says so, before the
 * body or If-Match is read, and the request is left as it was. */
static void test_request_edit_is_a_table_action(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/requests/%s", req_id);
    const char *im[] = {"If-Match: \"1\"", NULL};
    const char *deny[] = {"resident", "technician", "security", "clerk", "auditor", "admin"};
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++) {
        th_resp_t *r = th_req("PATCH", path, th_token(deny[i]), "{\"title\":\"x\"}", im);
        if (!th_is_problem(r, 403, "forbidden") || !strstr(detail(r), "request.edit"))
            fail_msg("%s: want 403 naming request.edit, got %ld %s", deny[i], r->status, r->body);
        th_free(r);
        /* Refused before If-Match is asked for. */
        EXPECT_PROBLEM(th_req("PATCH", path, th_token(deny[i]), "{\"title\":\"x\"}", NULL), 403,
                       "forbidden");
    }
    th_resp_t *g = th_get_request("agent", req_id);
    EXPECT_STATUS(g, 200);
    assert_string_equal(th_header(g, "ETag"), "\"1\"");
    th_free(g);
    /* Weak and bare forms name the same version; anything else is 412. */
    const char *weak[] = {"If-Match: W/\"1\"", NULL};
    th_resp_t *r = th_req("PATCH", path, th_token("supervisor"), "{\"title\":\"edited\"}", weak);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_header(r, "ETag"), "\"2\"");
    th_free(r);
    const char *bad[] = {"If-Match: \"2x\"", NULL};
    EXPECT_PROBLEM(th_req("PATCH", path, th_token("agent"), "{\"title\":\"y\"}", bad), 412,
                   "stale_version");
}

/* GET of one record: ETag, the resource's own 404, and 404 outside the caller's scope. */
static void test_get_one_alike(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s", "00000000-0000-4000-8000-000000000000");
    th_resp_t *r = th_req("GET", path, th_token("agent"), NULL, NULL);
    if (!th_is_problem(r, 404, "not_found") || !strstr(detail(r), "no request with this id"))
        fail_msg("want 404 naming the request: %s", r->body);
    th_free(r);
    snprintf(path, sizeof path, "/v1/requests/%s", req_id);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_req("GET", path, th_token("clerk"), NULL, NULL), 403, "forbidden");

    snprintf(path, sizeof path, "/v1/projects/%s/calendar", project);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_non_null(th_header(r, "ETag"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/calendar", other_project);
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent"), NULL, NULL), 404, "not_found");

    /* Organisation records keep answering 304 to a matching If-None-Match. */
    snprintf(path, sizeof path, "/v1/projects/%s", project);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    char etag[32], inm[64];
    snprintf(etag, sizeof etag, "%s", th_header(r, "ETag"));
    th_free(r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    r = th_req("GET", path, th_token("agent"), NULL, h);
    EXPECT_STATUS(r, 304);
    th_free(r);

    /* Work orders: not found is named as such. */
    snprintf(path, sizeof path, "/v1/work-orders/%s", "00000000-0000-4000-8000-000000000000");
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    if (!th_is_problem(r, 404, "not_found") || !strstr(detail(r), "no work order with this id"))
        fail_msg("want 404 naming the work order: %s", r->body);
    th_free(r);
}

/* Calendars and organisation records share the request's If-Match rules. */
static void test_if_match_everywhere(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "/v1/projects/%s/calendar", project);
    const char *bad[] = {"If-Match: \"1x\"", NULL};
    EXPECT_PROBLEM(th_req("PUT", path, th_token("admin"), "{}", NULL), 428, "if_match_required");
    EXPECT_PROBLEM(th_req("PUT", path, th_token("admin"), "{}", bad), 412, "stale_version");
    snprintf(path, sizeof path, "/v1/projects/%s", project);
    EXPECT_PROBLEM(th_req("PATCH", path, th_token("admin"), "{\"name\":\"n\"}", NULL), 428,
                   "if_match_required");
    EXPECT_PROBLEM(th_req("PATCH", path, th_token("admin"), "{\"name\":\"n\"}", bad), 412,
                   "stale_version");
}

/* Details list what is allowed from core's tables: the ladder, the SLA targets, the
 * fields a body may carry. */
static void test_details_from_core(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/requests/%s/escalate", req_id);
    th_resp_t *r =
        th_req("POST", path, th_token("supervisor"), "{\"reason\":\"x\",\"level\":9}", NULL);
    if (!th_is_problem(r, 422, "invalid_field") ||
        !strstr(detail(r), "1 supervisor, 2 manager, 3 director or 4 gm"))
        fail_msg("want the ladder in the detail: %s", r->body);
    th_free(r);
    r = th_req("POST", path, th_token("supervisor"), "{\"reason\":\"x\",\"why\":1}", NULL);
    if (!th_is_problem(r, 422, "unknown_field") || !strstr(detail(r), "(reason, level)"))
        fail_msg("want the known fields in the detail: %s", r->body);
    th_free(r);
    r = th_req("POST", path, th_token("supervisor"), "{\"reason\":\"\"}", NULL);
    if (!th_is_problem(r, 422, "invalid_field") ||
        strcmp(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"), "/reason"))
        fail_msg("want an empty reason refused at /reason: %s", r->body);
    th_free(r);
    snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions", req_id);
    r = th_req("POST", path, th_token("supervisor"),
               "{\"target\":\"lunch\",\"new_due\":\"2099-01-01T00:00:00Z\",\"reason\":\"x\"}",
               NULL);
    if (!th_is_problem(r, 422, "invalid_enum") ||
        !strstr(detail(r), "first_response, on_site, answer, resolution, handover, callback, "
                           "gm_report"))
        fail_msg("want the SLA targets in the detail: %s", r->body);
    th_free(r);
    r = th_req("POST", "/v1/users", th_token("admin"),
               "{\"username\":\"u.x\",\"display_name\":\"X\",\"role\":\"boss\","
               "\"password\":\"long enough\"}",
               NULL);
    if (!th_is_problem(r, 422, "invalid_enum") ||
        !strstr(detail(r), "resident, agent, technician, security, supervisor, manager, director, "
                           "gm, clerk, integration, auditor, admin"))
        fail_msg("want the roles in the detail: %s", r->body);
    th_free(r);
}

/* Extension decisions: the table's sla.extension.decide, a director or the GM only. */
static void test_extension_decision_is_a_table_action(void **state)
{
    (void)state;
    char path[200];
    snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions/%s/approve", req_id,
             "00000000-0000-4000-8000-000000000000");
    th_resp_t *r = th_req("POST", path, th_token("manager"), NULL, NULL);
    if (!th_is_problem(r, 403, "forbidden") || !strstr(detail(r), "sla.extension.decide"))
        fail_msg("want 403 naming sla.extension.decide: %s", r->body);
    th_free(r);
    /* A director passes the role check and meets the missing extension. */
    EXPECT_PROBLEM(th_req("POST", path, th_token("director"), NULL, NULL), 404, "not_found");
}

/* Payloads built with cJSON: the sweep's counts and readiness. */
static void test_payloads(void **state)
{
    (void)state;
    th_resp_t *r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(cJSON_IsNumber(th_jpath(r->json, "examined")));
    assert_true(cJSON_IsNumber(th_jpath(r->json, "duration_ms")));
    assert_true(th_jn(r->json, "batches") >= 0);
    th_free(r);
    r = th_req("GET", "/readyz", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "status"), "ready");
    assert_true(th_jn(r->json, "schema_version") > 0);
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_edit_is_a_table_action),
        cmocka_unit_test(test_get_one_alike),
        cmocka_unit_test(test_if_match_everywhere),
        cmocka_unit_test(test_details_from_core),
        cmocka_unit_test(test_extension_decision_is_a_table_action),
        cmocka_unit_test(test_payloads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
