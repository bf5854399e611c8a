/*
 * tests/api/test_audit_compact.c — the audit row of a create is compact (issue 14, migration
 * 0024): its diff keeps the non-null columns an auditor reads (type, reporter with the phone
 * masked, description, project, unit, channel, received_at, policy versions) but not the nulls,
 * the resource id and org_id (columns of the audit row itself) nor the server-derived
 * deadlines and bookkeeping times, and carries the SHA-256 digest of the full cleaned image,
 * which matches the row as created.  Updates keep their before/after of changed columns.
 * One logical write is one audit row: a resolve (the request's state, then its callback
 * deadline: two UPDATEs in one transaction) leaves one row with both changes; the merge is
 * possible only for rows of the writing transaction itself — a committed row, sealed or
 * not, stays as written.
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
        "'{sla_next_check,sla_next_due,has_notifications,has_work_orders,has_register_notes}')::"
        "text, 'UTF8')), 'hex') FROM audit_log "
        "a JOIN requests "
        "r ON r.id::text = a.resource_id WHERE a.resource_type = 'request' AND a.resource_id = $1 "
        "AND a.action = 'request.create'",
        p, 1);
    assert_non_null(ok);
    assert_string_equal(ok, "t");
}

static void test_resolve_is_one_row(void **state)
{
    (void)state;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"general\","
             "\"project_id\":\"%s\",\"location\":{\"common_area\":\"3栋大堂\"},"
             "\"reporter\":{\"name\":\"张伟\",\"phone\":\"13600003333\"},"
             "\"description\":\"大堂门禁失灵\"}",
             proj);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    char id[40], path[200];
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    th_free(r);
    const char *h[] = {"X-Request-Id: compact-resolve-1", "If-Match: \"1\"", NULL};
    snprintf(path, sizeof path, "/v1/requests/%s/actions/resolve", id);
    r = th_req("POST", path, th_token("agent"), "{\"resolution\":\"已更换门禁读卡器\"}", h);
    EXPECT_STATUS(r, 200);
    th_free(r);

    const char *p[] = {id};
    assert_string_equal(th_sql1("SELECT count(*) FROM audit_log WHERE resource_type = 'request' "
                                "AND resource_id = $1 AND request_id = 'compact-resolve-1'",
                                p, 1),
                        "1");
    cJSON *d = cJSON_Parse(th_sql1("SELECT diff::text FROM audit_log WHERE resource_id = $1 "
                                   "AND request_id = 'compact-resolve-1'",
                                   p, 1));
    assert_non_null(d);
    /* Both updates of the resolve: the state and the callback deadline set after it. */
    assert_string_equal(th_js(d, "before.state"), "received");
    assert_string_equal(th_js(d, "after.state"), "resolved");
    assert_string_equal(th_js(d, "after.resolution"), "已更换门禁读卡器");
    assert_non_null(th_js(d, "after.due_callback"));
    assert_true(th_jnull(d, "before.due_callback"));
    cJSON_Delete(d);
}

static void test_merge_only_within_the_transaction(void **state)
{
    (void)state;
    /* A committed row (unsealed or not): audit_merge() leaves it, UPDATE is refused. */
    const char *last = th_sql1("SELECT max(id) FROM audit_log", NULL, 0);
    assert_non_null(last);
    char id[32];
    snprintf(id, sizeof id, "%s", last);
    const char *p[] = {id};
    char *before = strdup(th_sql1("SELECT diff::text FROM audit_log WHERE id = $1::bigint", p, 1));
    assert_string_equal(th_sql1("SELECT audit_merge($1::bigint, '{\"x\":1}')", p, 1), "f");
    assert_null(
        th_sql1("UPDATE audit_log SET diff = '{}' WHERE id = $1::bigint RETURNING id", p, 1));
    assert_string_equal(th_sql1("SELECT diff::text FROM audit_log WHERE id = $1::bigint", p, 1),
                        before);
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_image_is_compact),
        cmocka_unit_test(test_resolve_is_one_row),
        cmocka_unit_test(test_merge_only_within_the_transaction),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
