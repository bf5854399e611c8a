/*
 * tests/api/test_uuid_lists.c — every list of ids in a body is read by one function
 * (api_uuid_array): the same 422 with the same pointer and entry code wherever it is — a
 * duty shift's `user_ids`, a corrective action's `other_departments`, an incident's
 * `affected_units` — for a member named twice, a member that is not a UUID, too many
 * members and a list that is not an array; absent lists stay allowed where they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char p1[40], dept[40], u_agent[40], u_tech[40], unit[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_dept("demo", "engineering", dept) ||
           th_fx_user("agent", u_agent) || th_fx_user("technician", u_tech) ||
           th_fx_unit("demo", "1-101", unit);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

/* The answer is a 422 whose first error points at ptr with entry code err. */
static void expect_list_error(th_resp_t *r, const char *ptr, const char *err)
{
    if (r->status != 422)
        fail_msg("want 422 at %s, got %ld %s", ptr, r->status, r->body);
    assert_string_equal(th_str(r, "code"), "invalid_field");
    const cJSON *e = cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0);
    assert_string_equal(th_js(e, "pointer"), ptr);
    assert_string_equal(th_js(e, "code"), err);
    th_free(r);
}

static th_resp_t *shift(const char *users)
{
    char body[1024], a[40], b[40];
    th_iso_utc(time(NULL) + 3600, a);
    th_iso_utc(time(NULL) + 8 * 3600, b);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"post\":\"front_desk\",\"user_ids\":%s,"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, users, a, b);
    return th_req("POST", "/v1/duty/shifts", th_token("supervisor"), body, NULL);
}

static th_resp_t *capa(const char *others)
{
    char body[2048], due[40];
    th_iso_utc(time(NULL) + 10 * 86400, due);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"列表校验\","
             "\"department_id\":\"%s\",\"responsible_id\":\"%s\",\"due_at\":\"%s\""
             "%s%s}",
             p1, dept, u_tech, due, others ? ",\"other_departments\":" : "", others ? others : "");
    return th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL);
}

static th_resp_t *incident(const char *units)
{
    char body[1024], at[40];
    th_iso_utc(time(NULL) - 3600, at);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"flood\",\"occurred_at\":\"%s\","
             "\"affected_units\":%s}",
             p1, at, units);
    return th_req("POST", "/v1/incidents", th_token("agent"), body, NULL);
}

static void test_same_refusals_everywhere(void **state)
{
    (void)state;
    char twice[200], bad[200];
    snprintf(twice, sizeof twice, "[\"%s\",\"%s\"]", u_agent, u_agent);
    snprintf(bad, sizeof bad, "[\"%s\",\"not-a-uuid\"]", u_agent);
    expect_list_error(shift(twice), "/user_ids/1", "duplicate");
    expect_list_error(shift(bad), "/user_ids/1", "invalid_format");
    expect_list_error(shift("\"x\""), "/user_ids", "invalid_type");

    char dtwice[200];
    snprintf(dtwice, sizeof dtwice, "[\"%s\",\"%s\"]", dept, dept);
    expect_list_error(capa(dtwice), "/other_departments/1", "duplicate");
    expect_list_error(capa("[1]"), "/other_departments/0", "invalid_format");
    char many[2048];
    size_t n = (size_t)snprintf(many, sizeof many, "[");
    for (int i = 0; i < 21; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "%s\"%08d-0000-4000-8000-000000000000\"",
                              i ? "," : "", i);
    snprintf(many + n, sizeof many - n, "]");
    expect_list_error(capa(many), "/other_departments", "out_of_range");

    char utwice[200];
    snprintf(utwice, sizeof utwice, "[\"%s\",\"%s\"]", unit, unit);
    expect_list_error(incident(utwice), "/affected_units/1", "duplicate");

    /* absent lists stay optional; a valid one is taken */
    th_resp_t *r = capa(NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    char one[100];
    snprintf(one, sizeof one, "[\"%s\"]", u_agent);
    r = shift(one);
    EXPECT_STATUS(r, 201);
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_refusals_everywhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
