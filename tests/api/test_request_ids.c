/*
 * tests/api/test_request_ids.c — the request id deskd gives a request that brings none
 * (X-Request-Id absent): 32 hex digits of randomness, different for every request.  deskd
 * draws them in per-thread batches of 64 (issue 14: one RAND_bytes, hence one getpid system
 * call, per request before), so more than a batch of requests is checked, through the ids
 * their audit rows record; one that brings a valid X-Request-Id keeps it.
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

#define CREATES 150

static int setup(void **state)
{
    (void)state;
    return th_start(NULL);
}

static void test_generated_ids_distinct(void **state)
{
    (void)state;
    char unit[40], id[40], body[512], first[40] = "";
    assert_int_equal(th_fx_unit("demo", "1-101", unit), 0);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"钱\"},\"description\":\"编号（生成）\"}",
             unit);
    for (int i = 0; i < CREATES; i++) {
        th_free(th_create_request_at(__LINE__, "agent", body, id));
        if (!first[0])
            snprintf(first, sizeof first, "%s", id);
    }
    const char *p[] = {first};
    /* every create's audit rows carry one well-formed id, a different one per create */
    const char *q = "SELECT count(DISTINCT r.id) || ' ' || count(DISTINCT a.request_id) || ' ' "
                    "|| count(DISTINCT a.request_id) FILTER (WHERE a.request_id ~ "
                    "'^[0-9a-f]{32}$' AND a.request_id <> repeat('0', 32)) FROM requests r JOIN "
                    "audit_log a ON a.resource_type = 'request' AND a.resource_id = r.id::text "
                    "WHERE r.description = '编号（生成）' AND r.created_at >= (SELECT created_at "
                    "FROM requests WHERE id = $1::uuid)";
    char want[64];
    snprintf(want, sizeof want, "%d %d %d", CREATES, CREATES, CREATES);
    assert_string_equal(th_sql1(q, p, 1), want);
}

static void test_given_id_kept(void **state)
{
    (void)state;
    char unit[40], body[512], path[80];
    assert_int_equal(th_fx_unit("demo", "1-101", unit), 0);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"孙\"},\"description\":\"编号\"}",
             unit);
    snprintf(path, sizeof path, "/v1/requests");
    const char *h[] = {"X-Request-Id: ids-given-1", NULL};
    th_resp_t *r = th_req("POST", path, th_token("agent"), body, h);
    assert_int_equal(r->status, 201);
    th_free(r);
    assert_string_equal(
        th_sql1("SELECT count(*) FROM audit_log WHERE request_id = 'ids-given-1'", NULL, 0), "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_ids_distinct),
        cmocka_unit_test(test_given_id_kept),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
