/*
 * tests/api/test_injection.c — injected ids and SQL in paths, query strings and bodies,
 * and a hostile X-Request-Id (tests/SECURITY.md): every one is refused as malformed or
 * treated as plain data, and the tables are still there afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/harness.h"

static int setup(void **state)
{
    (void)state;
    return th_start(NULL);
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

static void expect(th_resp_t *r, long status, const char *code)
{
    if (!th_is_problem(r, status, code))
        fail_msg("wanted %ld %s, got %ld: %.*s", status, code, r->status, (int)r->len, r->body);
    th_free(r);
}

static void test_injected_ids_and_sql(void **state)
{
    (void)state;
    const char *agent = th_token("agent"), *admin = th_token("admin");
    const char *before = th_sql1("SELECT count(*) FROM requests", NULL, 0);
    assert_non_null(before);
    char count[32];
    snprintf(count, sizeof count, "%s", before);

    /* Ids in paths are UUIDs or nothing: no SQL sees them. */
    expect(th_req("GET", "/v1/requests/1'%20OR%20'1'='1", agent, NULL, NULL), 404, "not_found");
    expect(th_req("GET",
                  "/v1/units/00000000-0000-0000-0000-000000000000'%3B%20DROP%20TABLE%20units%3B--",
                  admin, NULL, NULL),
           404, "not_found");
    expect(th_req("PATCH", "/v1/requests/%27%20OR%201%3D1--", agent, "{\"title\":\"x\"}", NULL),
           404, "not_found");
    /* Filters: a UUID filter refuses anything else; free text is a parameter. */
    expect(th_req("GET", "/v1/requests?project_id=x'%20OR%201=1--", agent, NULL, NULL), 400,
           "invalid_query");
    th_resp_t *r =
        th_req("GET", "/v1/requests?q=%27%3B%20DROP%20TABLE%20requests%3B--", agent, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    /* Ids in bodies. */
    expect(th_req("POST", "/v1/requests", agent,
                  "{\"type\":\"inquiry\",\"channel\":\"phone\",\"description\":\"x\","
                  "\"location\":{\"common_area\":\"lobby\"},\"reporter\":{\"name\":\"x\"},"
                  "\"project_id\":\"'; DROP TABLE requests;--\"}",
                  NULL),
           422, "invalid_field");
    const char *after = th_sql1("SELECT count(*) FROM requests", NULL, 0);
    assert_non_null(after);
    assert_string_equal(after, count);
    assert_non_null(th_sql1("SELECT count(*) FROM units", NULL, 0));
}

static void test_hostile_request_id_is_replaced(void **state)
{
    (void)state;
    const char *h[] = {"X-Request-Id: x\",\"level\":\"error\",\"msg\":\"forged", NULL};
    th_resp_t *r = th_req("GET", "/healthz", NULL, NULL, h);
    assert_int_equal(r->status, 200);
    const char *id = th_header(r, "X-Request-Id");
    assert_non_null(id);
    assert_int_equal(strlen(id), 32);
    assert_null(strchr(id, '"'));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_injected_ids_and_sql),
        cmocka_unit_test(test_hostile_request_id_is_replaced),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
