/*
 * tests/api/test_hardening_input.c — issue 7 items 1, 4 and 11 against the real server:
 * (1) bodies nested deeper than JSON_MAX_DEPTH (32) get 400 json_too_deep on every route,
 *     login included, without reaching cJSON's recursive parser (990 levels used to crash
 *     deskd; 100,000 are sent here), while brackets inside strings do not count;
 * (4) a long Chinese escalation reason (the payload used to be cut at 256 bytes, the ::jsonb
 *     cast failed and the client saw 503) is stored whole and read back;
 * (11) every 422 carries errors: [{"pointer", "code", "detail"}] pointing into the body,
 *     for each kind of body: request create, batch, PATCH, actions, comments, org
 *     resources, SLA policies, escalation and login.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/harness.h"

#define DEMO "(SELECT id FROM organisations WHERE code = 'demo')"

static char project[40], unit101[40], res_zw[40], building[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(NULL) != 0)
        return -1;
    if (th_grab(project, "SELECT id FROM projects WHERE org_id = " DEMO " ORDER BY code LIMIT 1") ||
        th_grab(unit101, "SELECT id FROM units WHERE code = '1-101' AND org_id = " DEMO) ||
        th_grab(building,
                "SELECT building_id FROM units WHERE code = '1-101' AND org_id = " DEMO) ||
        th_grab(res_zw, "SELECT id FROM residents WHERE name = '张伟' AND org_id = " DEMO))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

static void expect_problem_at(int line, th_resp_t *r, long st, const char *code)
{
    if (!th_is_problem(r, st, code))
        fail_msg("line %d: expected problem %ld %s, got %ld: %.300s", line, st, code ? code : "",
                 r->status, r->body ? r->body : "(none)");
}
#define EXPECT_PROBLEM(r, st, code)                                                                \
    do {                                                                                           \
        th_resp_t *r_ = (r);                                                                       \
        expect_problem_at(__LINE__, r_, (st), (code));                                             \
        th_free(r_);                                                                               \
    } while (0)

/* `open` copies of '[' then `close` copies of ']', wrapped as prefix...suffix. */
static char *nest(const char *prefix, size_t open, size_t close, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + open + close + sl + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    memset(s + pl, '[', open);
    memset(s + pl + open, ']', close);
    memcpy(s + pl + open + close, suffix, sl + 1);
    return s;
}

static void server_alive(void)
{
    th_resp_t *r = th_req("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    char *tok = th_login("agent", TH_PASS);
    assert_non_null(tok);
    free(tok);
}

/* ---------------------------------------------------------------- (1) nesting */

static void test_deep_login_body_is_400_not_a_crash(void **state)
{
    (void)state;
    char *b = nest("", 990, 990, "");
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/login", NULL, b, NULL), 400, "json_too_deep");
    free(b);
    b = nest("{\"a\": ", 2000, 2000, "}");
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/login", NULL, b, NULL), 400, "json_too_deep");
    free(b);
    b = nest("", 100000, 100000, "");
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/login", NULL, b, NULL), 400, "json_too_deep");
    free(b);
    b = nest("{\"username\":", 100000, 0, ""); /* unterminated: still measured first */
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/login", NULL, b, NULL), 400, "json_too_deep");
    free(b);
    /* Objects count as much as arrays. */
    size_t n = 50000;
    char *o = malloc(6 * n + 8);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        memcpy(o + k, "{\"a\":", 5), k += 5;
    o[k++] = '1';
    memset(o + k, '}', n), k += n;
    o[k] = 0;
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/login", NULL, o, NULL), 400, "json_too_deep");
    free(o);
    server_alive();
}

static void test_deep_body_is_400_on_every_route(void **state)
{
    (void)state;
    char rid[40], cb[1024];
    snprintf(cb, sizeof cb,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"深度\"}",
             unit101, res_zw);
    th_resp_t *cr = th_req("POST", "/v1/requests", th_token("agent"), cb, NULL);
    assert_int_equal(cr->status, 201);
    snprintf(rid, sizeof rid, "%s", th_js(cr->json, "id"));
    th_free(cr);
    char paths[8][160];
    const char *methods[8] = {"POST", "POST", "PATCH", "POST", "POST", "POST", "PUT", "POST"};
    snprintf(paths[0], 160, "/v1/requests");
    snprintf(paths[1], 160, "/v1/requests/batch");
    snprintf(paths[2], 160, "/v1/requests/%s", rid);
    snprintf(paths[3], 160, "/v1/requests/%s/actions/dispatch", rid);
    snprintf(paths[4], 160, "/v1/requests/%s/escalate", rid);
    snprintf(paths[5], 160, "/v1/sla/policies");
    snprintf(paths[6], 160, "/v1/projects/%s/calendar", project);
    snprintf(paths[7], 160, "/v1/units");
    const char *h[] = {"If-Match: \"1\"", NULL};
    char *b = nest("{\"items\":", 100000, 100000, "}");
    for (int i = 0; i < 8; i++) {
        th_resp_t *r = th_req(methods[i], paths[i], th_token(i < 5 ? "supervisor" : "admin"), b, h);
        if (!th_is_problem(r, 400, "json_too_deep"))
            fail_msg("%s %s: %ld %.200s", methods[i], paths[i], r->status, r->body);
        th_free(r);
    }
    free(b);
    b = nest("", 990, 990, "");
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/refresh", NULL, b, NULL), 400, "json_too_deep");
    free(b);
    server_alive();
}

static void test_brackets_in_strings_do_not_count(void **state)
{
    (void)state;
    /* 32 levels are fine (the body then fails validation, not the depth check); 33 are not. */
    char *b = nest("{\"username\":", 31, 31, ",\"password\":\"x\"}");
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/login", NULL, b, NULL), 422, "invalid_field");
    free(b);
    b = nest("{\"username\":", 32, 32, ",\"password\":\"x\"}");
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/login", NULL, b, NULL), 400, "json_too_deep");
    free(b);
    /* A description full of brackets, escaped quotes and backslashes is text, not depth. */
    char desc[4096];
    size_t k = 0;
    k += (size_t)snprintf(desc + k, sizeof desc - k, "括号 \\\" [[[ \\\\");
    for (int i = 0; i < 600; i++)
        desc[k++] = i % 2 ? '[' : '{';
    k += (size_t)snprintf(desc + k, sizeof desc - k, " \\\\\\\" {{{ ");
    desc[k] = 0;
    char body[8192];
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"%s\"}",
             unit101, res_zw, desc);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    if (r->status != 201)
        fail_msg("create with brackets in a string: %ld %.300s", r->status, r->body);
    const char *d = th_js(r->json, "description");
    assert_non_null(strstr(d, "[[[ \\"));
    assert_non_null(strstr(d, "[{[{[{"));
    th_free(r);
}

/* ---------------------------------------------------------------- (4) escalate */

static void test_long_chinese_escalation_reason(void **state)
{
    (void)state;
    char body[4096], id[40], reason[1024] = "";
    for (int i = 0; i < 200; i++)
        strcat(reason, i % 2 ? "诉" : "投"); /* 200 characters, 600 bytes */
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"长理由升级\"}",
             unit101, res_zw);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    assert_int_equal(r->status, 201);
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    th_free(r);
    char path[160], eb[2048];
    snprintf(path, sizeof path, "/v1/requests/%s/escalate", id);
    snprintf(eb, sizeof eb, "{\"reason\":\"%s\"}", reason);
    r = th_req("POST", path, th_token("agent"), eb, NULL);
    if (r->status != 200)
        fail_msg("escalate with a 200-character reason: %ld %.300s", r->status, r->body);
    th_free(r);
    /* Read back: the timeline event and the notification payload hold it whole. */
    snprintf(path, sizeof path, "/v1/requests/%s/timeline", id);
    r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    assert_int_equal(r->status, 200);
    int found = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(th_js(it, "action"), "escalate") && strstr(r->body, reason) != NULL)
            found = 1;
    }
    th_free(r);
    assert_true(found);
    const char *v[] = {id};
    const char *n = th_sql1("SELECT payload->>'reason' FROM notifications WHERE request_id = $1 "
                            "AND kind = 'sla_escalation' LIMIT 1",
                            v, 1);
    assert_non_null(n);
    assert_string_equal(n, reason);
}

/* ---------------------------------------------------------------- (11) errors[] */

/* The response is a 422 whose errors[] has an entry with this pointer and code. */
static void expect_pointer_at(int line, th_resp_t *r, const char *pointer, const char *code)
{
    if (r->status != 422 || !r->json)
        fail_msg("line %d: expected 422, got %ld: %.300s", line, r->status, r->body);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(r->json, "errors"), *e;
    if (!cJSON_IsArray(errs) || cJSON_GetArraySize(errs) < 1)
        fail_msg("line %d: no errors[] in %.300s", line, r->body);
    cJSON_ArrayForEach(e, errs)
    {
        if (!strcmp(th_js(e, "pointer"), pointer) && !strcmp(th_js(e, "code"), code) &&
            th_js(e, "detail")[0])
            return;
    }
    fail_msg("line %d: no errors[] entry {%s, %s} in %.400s", line, pointer, code, r->body);
}
#define EXPECT_POINTER(r, ptr, code)                                                               \
    do {                                                                                           \
        th_resp_t *r_ = (r);                                                                       \
        expect_pointer_at(__LINE__, r_, (ptr), (code));                                            \
        th_free(r_);                                                                               \
    } while (0)

static th_resp_t *create(const char *fmt_extra)
{
    char body[2048];
    snprintf(body, sizeof body, fmt_extra, unit101, res_zw);
    return th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
}

static void test_errors_point_at_request_fields(void **state)
{
    (void)state;
    EXPECT_POINTER(create("{\"type\":\"complain\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"x\"}"),
                   "/type", "invalid_enum");
    EXPECT_POINTER(create("{\"type\":7,\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"x\"}"),
                   "/type", "invalid_type");
    EXPECT_POINTER(create("{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%.8s\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"x\"}"),
                   "/location/unit_id", "invalid_format");
    EXPECT_POINTER(create("{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%s\"},\"reporter\":{\"resident_id\":\"%s\"}}"),
                   "/description", "required");
    EXPECT_POINTER(create("{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%s\"},\"reporter\":{\"resident_id\":\"%s\",\"phone\":"
                          "\"0123456789012345678901234567890123456789X\"},\"description\":\"x\"}"),
                   "/reporter/phone", "too_long");
    EXPECT_POINTER(create("{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%s\",\"a/b~c\":1},\"reporter\":{\"resident_id\":\"%s\"},"
                          "\"description\":\"x\"}"),
                   "/location/a~1b~0c", "unknown_field");
    EXPECT_POINTER(create("{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"x\","
                          "\"occurred_at\":\"yesterday\"}"),
                   "/occurred_at", "invalid_format");
    EXPECT_POINTER(create("{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
                          "\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"x\","
                          "\"severity\":\"major\"}"),
                   "/severity", "not_applicable");

    /* Batch: pointers into the batch body, per item. */
    char body[4096];
    snprintf(body, sizeof body,
             "{\"items\":[{\"type\":\"inquiry\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
             "\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"ok\"},"
             "{\"type\":\"inquiry\",\"channel\":\"pigeon\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"bad\"}]}",
             unit101, res_zw, unit101, res_zw);
    th_resp_t *r = th_req("POST", "/v1/requests/batch", th_token("agent"), body, NULL);
    assert_int_equal(r->status, 200);
    const cJSON *res1 = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "results"), 1);
    const cJSON *e0 = cJSON_GetArrayItem(th_jpath(res1, "problem.errors"), 0);
    if (!e0)
        fail_msg("no errors[] in the batch item problem: %.400s", r->body);
    assert_string_equal(th_js(e0, "pointer"), "/items/1/channel");
    assert_string_equal(th_js(e0, "code"), "invalid_enum");
    th_free(r);
    EXPECT_POINTER(th_req("POST", "/v1/requests/batch", th_token("agent"), "{\"items\":[]}", NULL),
                   "/items", "too_short");

    /* PATCH and actions on an existing request. */
    char id[40], path[200];
    r = create("{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
               "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"漏水\"}");
    assert_int_equal(r->status, 201);
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    th_free(r);
    const char *h[] = {"If-Match: \"1\"", NULL};
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    EXPECT_POINTER(th_req("PATCH", path, th_token("agent"), "{\"category\":\"noise\"}", h),
                   "/category", "invalid_enum");
    EXPECT_POINTER(th_req("PATCH", path, th_token("agent"), "{\"title\":\"\"}", h), "/title",
                   "too_short");
    EXPECT_POINTER(th_req("PATCH", path, th_token("agent"), "{\"severity\":\"major\"}", h),
                   "/severity", "not_applicable");
    snprintf(path, sizeof path, "/v1/requests/%s/actions/dispatch", id);
    EXPECT_POINTER(th_req("POST", path, th_token("agent"), "{}", h), "/department_id", "required");
    EXPECT_POINTER(th_req("POST", path, th_token("agent"), "{\"department_id\":\"nope\"}", h),
                   "/department_id", "invalid_format");
    snprintf(path, sizeof path, "/v1/requests/%s/comments", id);
    EXPECT_POINTER(th_req("POST", path, th_token("agent"), "{\"body\":5}", NULL), "/body",
                   "invalid_type");
    snprintf(path, sizeof path, "/v1/requests/%s/escalate", id);
    char longr[2100];
    memset(longr, 'x', 2001);
    longr[2001] = 0;
    snprintf(body, sizeof body, "{\"reason\":\"%s\"}", longr);
    EXPECT_POINTER(th_req("POST", path, th_token("agent"), body, NULL), "/reason", "too_long");
    EXPECT_POINTER(th_req("POST", path, th_token("agent"), "{\"reason\":\"x\",\"level\":9}", NULL),
                   "/level", "out_of_range");
}

static void test_errors_point_at_other_bodies(void **state)
{
    (void)state;
    /* Login. */
    EXPECT_POINTER(th_req("POST", "/v1/auth/login", NULL, "{\"username\":\"agent\"}", NULL),
                   "/password", "required");
    EXPECT_POINTER(th_req("POST", "/v1/auth/login", NULL,
                          "{\"username\":[\"agent\"],\"password\":\"x\"}", NULL),
                   "/username", "invalid_type");
    /* Org resources. */
    char body[1024];
    snprintf(
        body, sizeof body,
        "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"9-901\",\"status\":\"gone\"}",
        project, building);
    EXPECT_POINTER(th_req("POST", "/v1/units", th_token("admin"), body, NULL), "/status",
                   "invalid_enum");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"floor\":\"3\"}",
             project, building);
    EXPECT_POINTER(th_req("POST", "/v1/units", th_token("admin"), body, NULL), "/code", "required");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"9-902\",\"floor\":9999}",
             project, building);
    EXPECT_POINTER(th_req("POST", "/v1/units", th_token("admin"), body, NULL), "/floor",
                   "out_of_range");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"9-903\",\"colour\":1}",
             project, building);
    EXPECT_POINTER(th_req("POST", "/v1/units", th_token("admin"), body, NULL), "/colour",
                   "unknown_field");
    EXPECT_POINTER(th_req("POST", "/v1/users", th_token("admin"),
                          "{\"username\":\"u.h7\",\"display_name\":\"U\",\"role\":\"agent\","
                          "\"password\":\"short\"}",
                          NULL),
                   "/password", "too_short");
    EXPECT_POINTER(th_req("POST", "/v1/users", th_token("admin"),
                          "{\"username\":\"u.h8\",\"display_name\":\"U\",\"role\":\"agent\","
                          "\"password\":\"long-enough-1\",\"project_ids\":[\"x\"]}",
                          NULL),
                   "/project_ids/0", "invalid_format");
    /* SLA policies. */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"name\":\"p\",\"match\":{\"type\":\"noise\"},"
             "\"definition\":{}}",
             project);
    EXPECT_POINTER(th_req("POST", "/v1/sla/policies", th_token("admin"), body, NULL), "/match/type",
                   "invalid_enum");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"definition\":{}}", project);
    EXPECT_POINTER(th_req("POST", "/v1/sla/policies", th_token("admin"), body, NULL), "/name",
                   "required");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"name\":\"p\",\"definition\":{\"targets\":7}}", project);
    EXPECT_POINTER(th_req("POST", "/v1/sla/policies", th_token("admin"), body, NULL), "/definition",
                   "invalid_format");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deep_login_body_is_400_not_a_crash),
        cmocka_unit_test(test_deep_body_is_400_on_every_route),
        cmocka_unit_test(test_brackets_in_strings_do_not_count),
        cmocka_unit_test(test_long_chinese_escalation_reason),
        cmocka_unit_test(test_errors_point_at_request_fields),
        cmocka_unit_test(test_errors_point_at_other_bodies),
    };
    if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='test_errors*' */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
