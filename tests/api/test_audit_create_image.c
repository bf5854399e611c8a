/*
 * tests/api/test_audit_create_image.c — a request create's audit image after migration 0033
 * (issue 14: database work per create).  Besides the nulls, the id, org_id and the derived
 * times (0024), the image leaves out the columns at their default (state, validity,
 * night_desk, is_repeat and the counters: the trigger's '={...}' argument) and the first
 * receiver and owner (derived from the staff creator); a column that differs from its
 * default is kept.  The image, the defaults and the derived columns together are the full
 * cleaned row, whose SHA-256 is the digest.  audit_clean() (PL/pgSQL since 0033) still drops
 * secrets, hashes, tokens, ID numbers and search terms, masks phones and leaves out the
 * bookkeeping and the given columns.  The create statement sets the first receiver itself
 * for staff; a resident's request still has none.
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

/* Creates a common-area complaint as `user` (extra: more body members, "" for none); its id
 * into id. */
static void create(const char *user, const char *extra, char id[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"general\","
             "\"project_id\":\"%s\",\"location\":{\"common_area\":\"5栋地库\"},"
             "\"reporter\":{\"name\":\"周敏\",\"phone\":\"13700004444\"},"
             "\"description\":\"地库照明太暗\"%s}",
             proj, extra);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token(user), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

static cJSON *create_diff(const char *id)
{
    const char *p[] = {id};
    const char *diff = th_sql1("SELECT diff::text FROM audit_log WHERE resource_type = 'request' "
                               "AND resource_id = $1 AND action = 'request.create'",
                               p, 1);
    assert_non_null(diff);
    cJSON *d = cJSON_Parse(diff);
    assert_non_null(d);
    return d;
}

static void test_defaults_and_derived_left_out(void **state)
{
    (void)state;
    char id[40];
    create("agent", "", id);
    cJSON *d = create_diff(id);
    const char *gone[] = {"after.state",     "after.validity",         "after.night_desk",
                          "after.is_repeat", "after.reopen_count",     "after.escalation_level",
                          "after.owner_id",  "after.first_receiver_id"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_null(th_jpath(d, gone[i]));
    /* What an auditor reads is still there. */
    assert_string_equal(th_js(d, "after.type"), "complaint");
    assert_string_equal(th_js(d, "after.reporter_phone"), "137****4444");
    assert_non_null(th_jpath(d, "after.created_by"));
    assert_int_equal(strlen(th_js(d, "digest")), 64);
    cJSON_Delete(d);

    /* The row holds the values the image leaves out: the defaults and the staff creator as
     * first receiver and owner. */
    const char *p[] = {id};
    assert_string_equal(
        th_sql1("SELECT state || '/' || validity || '/' || night_desk || '/' || is_repeat || '/' "
                "|| reopen_count || '/' || escalation_level || '/' || (first_receiver_id = "
                "created_by) || '/' || (owner_id = created_by) FROM requests WHERE id = $1",
                p, 1),
        "received/unknown/false/false/0/0/true/true");
}

static void test_non_default_is_kept(void **state)
{
    (void)state;
    char id[40];
    create("agent", ",\"night_desk\":true", id);
    cJSON *d = create_diff(id);
    assert_true(th_jtrue(d, "after.night_desk"));
    cJSON_Delete(d);
}

/* after + the trigger's defaults + the derived columns (id and org_id from the audit row,
 * first receiver and owner = created_by, the times as the row holds them) = the full cleaned
 * image without its nulls; the digest is the SHA-256 of that image with its nulls. */
static void test_image_rebuilds_the_row(void **state)
{
    (void)state;
    char id[40];
    create("agent", "", id);
    const char *p[] = {id};
    const char *ok = th_sql1(
        "WITH t AS (SELECT substr(a, 2)::jsonb AS defaults FROM pg_trigger g, "
        "unnest(string_to_array(rtrim(encode(g.tgargs, 'escape'), '\\000'), '\\000')) a "
        "WHERE g.tgrelid = 'requests'::regclass AND g.tgname = 'audit' AND a LIKE '={%'), "
        "x AS (SELECT a.diff, audit_clean(to_jsonb(r), "
        "'{sla_next_check,sla_next_due,has_notifications,has_work_orders,has_register_notes}') AS "
        "img, "
        "t.defaults || (a.diff -> 'after') || jsonb_build_object('id', a.resource_id, 'org_id', "
        "a.org_id, 'first_receiver_id', r.created_by, 'owner_id', r.created_by) || "
        "jsonb_strip_nulls(jsonb_build_object('created_at', j -> 'created_at', 'last_event_at', "
        "j -> 'last_event_at', 'due_first_response', j -> 'due_first_response', "
        "'due_resolution', j -> 'due_resolution', 'due_answer', j -> 'due_answer', 'due_on_site', "
        "j -> 'due_on_site', 'due_callback', j -> 'due_callback', 'due_handover', "
        "j -> 'due_handover', 'due_gm_report', j -> 'due_gm_report')) AS rebuilt "
        "FROM audit_log a JOIN requests r ON r.id::text = a.resource_id "
        "CROSS JOIN LATERAL to_jsonb(r) j, t WHERE a.resource_type = 'request' "
        "AND a.resource_id = $1 AND a.action = 'request.create') "
        "SELECT (jsonb_strip_nulls(img) = rebuilt AND diff ->> 'digest' = "
        "encode(sha256(convert_to(img::text, 'UTF8')), 'hex') AND rebuilt ? 'state' AND "
        "rebuilt ? 'due_resolution')::text FROM x",
        p, 1);
    assert_non_null(ok);
    assert_string_equal(ok, "true");
}

static void test_clean_rules(void **state)
{
    (void)state;
    const char *got = th_sql1(
        "SELECT audit_clean('{\"password_hash\":\"x\",\"phone\":\"13912345678\",\"home_phone\":3,"
        "\"phone_hash\":\"h\",\"id_number_hash\":\"i\",\"idXnumber\":1,\"secret\":\"s\","
        "\"access_token\":\"t\",\"search_terms\":[\"ab\"],\"version\":2,\"updated_at\":\"u\","
        "\"keep\":null,\"skip_me\":1}', '{skip_me}')::text",
        NULL, 0);
    assert_non_null(got);
    assert_string_equal(got, "{\"keep\": null, \"phone\": \"139****5678\", \"idXnumber\": 1, "
                             "\"home_phone\": 3}");
    assert_string_equal(th_sql1("SELECT audit_clean('{}', '{}')::text", NULL, 0), "{}");
}

static void test_resident_has_no_first_receiver(void **state)
{
    (void)state;
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"project_id\":\"%s\",\"location\":{\"common_area\":"
             "\"4号楼道\"},\"description\":\"楼道窗户关不上\"}",
             proj);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("resident"), body, NULL);
    EXPECT_STATUS(r, 201);
    const char *p[] = {th_js(r->json, "id")};
    assert_string_equal(th_sql1("SELECT (first_receiver_id IS NULL AND owner_id IS NULL)::text "
                                "FROM requests WHERE id = $1",
                                p, 1),
                        "true");
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_derived_left_out),
        cmocka_unit_test(test_non_default_is_kept),
        cmocka_unit_test(test_image_rebuilds_the_row),
        cmocka_unit_test(test_clean_rules),
        cmocka_unit_test(test_resident_has_no_first_receiver),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
