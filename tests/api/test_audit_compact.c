/*
 * tests/api/test_audit_compact.c — the audit row of a create is compact (issue 14, migration
 * 0024): its diff keeps the non-null columns an auditor reads (type, reporter with the phone
 * masked, description, project, unit, channel, received_at, policy versions) but not the nulls,
 * the resource id and org_id (columns of the audit row itself) nor the server-derived
 * deadlines and bookkeeping times, and carries the SHA-256 digest of the full cleaned image,
 * which matches the row as created.  Updates keep their before/after of changed columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char proj[40];

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_project("demo", proj))
        return -1;
    return 0;
}

static void test_create_image_is_compact(void **state)
{
    (void)state;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"general\","
             "\"project_id\":\"%s\",\"location\":{\"common_area\":\"2栋电梯厅\"},"
             "\"reporter\":{\"name\":\"李娜\",\"phone\":\"13900002222\"},"
             "\"description\":\"电梯厅灯坏了三天\"}",
             proj);
    const char *h[] = {"X-Request-Id: compact-create-1", NULL};
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, h);
    EXPECT_STATUS(r, 201);
    char id[40];
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    th_free(r);

    const char *p[] = {id};
    const char *diff = th_sql1("SELECT diff::text FROM audit_log WHERE resource_type = 'request' "
                               "AND resource_id = $1 AND action = 'request.create'",
                               p, 1);
    assert_non_null(diff);
    cJSON *d = cJSON_Parse(diff);
    assert_non_null(d);
    /* What an auditor reads about the create. */
    assert_string_equal(th_js(d, "after.type"), "complaint");
    assert_string_equal(th_js(d, "after.channel"), "phone");
    assert_string_equal(th_js(d, "after.common_area"), "2栋电梯厅");
    assert_string_equal(th_js(d, "after.reporter_name"), "李娜");
    assert_string_equal(th_js(d, "after.reporter_phone"), "139****2222");
    assert_string_equal(th_js(d, "after.description"), "电梯厅灯坏了三天");
    assert_string_equal(th_js(d, "after.project_id"), proj);
    assert_non_null(th_jpath(d, "after.received_at"));
    assert_non_null(th_jpath(d, "after.sla_policy_version_id"));
    /* Not repeated: nulls, the id and organisation (columns of the audit row), derived times,
     * secrets and bookkeeping. */
    assert_null(th_jpath(d, "after.title"));
    assert_null(th_jpath(d, "after.unit_id"));
    assert_null(th_jpath(d, "after.id"));
    assert_null(th_jpath(d, "after.org_id"));
    assert_null(th_jpath(d, "after.due_resolution"));
    assert_null(th_jpath(d, "after.created_at"));
    assert_null(th_jpath(d, "after.search_terms"));
    assert_null(th_jpath(d, "after.version"));
    const cJSON *after = th_jpath(d, "after");
    const cJSON *it;
    cJSON_ArrayForEach(it, after) assert_false(cJSON_IsNull(it));
    assert_null(strstr(diff, "13900002222"));
    cJSON_Delete(d);

    /* The digest is that of the full cleaned image of the row as created (unchanged since). */
    const char *ok = th_sql1(
        "SELECT a.diff ->> 'digest' = encode(sha256(convert_to(audit_clean(to_jsonb(r), "
        "'{sla_next_check,sla_next_due}')::text, 'UTF8')), 'hex') FROM audit_log a JOIN requests "
        "r ON r.id::text = a.resource_id WHERE a.resource_type = 'request' AND a.resource_id = $1 "
        "AND a.action = 'request.create'",
        p, 1);
    assert_non_null(ok);
    assert_string_equal(ok, "t");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_image_is_compact),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
