/*
 * tests/api/test_org.c — the organisation model end to end: role permissions, isolation
 * between organisations (404) and projects, bad input that changes nothing, If-Match,
 * pagination without loss or repetition, Chinese text and masked phone numbers.
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

static char project[40], building[40], unit[40], other_project[40], other_unit[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(NULL) != 0)
        return -1;
    return th_fx_project("demo", project) || th_fx_building("demo", "B1", building) ||
                   th_fx_unit("demo", "1-101", unit) || th_fx_project("other", other_project) ||
                   th_fx_unit("other", "1-101", other_unit)
               ? -1
               : 0;
}

static const char *count_units(void)
{
    return th_sql1("SELECT count(*) || ':' || coalesce(sum(version), 0) FROM units", NULL, 0);
}

static void test_role_permissions(void **state)
{
    (void)state;
    /* role, may list units, may create a unit, may list users, may create a resident */
    static const struct {
        const char *user;
        long list_units, create_unit, list_users, create_resident;
    } rows[] = {
        {"resident", 200, 403, 403, 403},   {"agent", 200, 403, 403, 201},
        {"technician", 200, 403, 403, 403}, {"security", 200, 403, 403, 403},
        {"supervisor", 200, 403, 403, 201}, {"manager", 200, 201, 403, 201},
        {"director", 200, 201, 403, 201},   {"gm", 200, 403, 200, 201},
        {"clerk", 200, 403, 403, 403},      {"integration", 200, 403, 403, 403},
        {"auditor", 200, 403, 200, 403},    {"admin", 200, 201, 200, 201},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *tok = th_token(rows[i].user);
        assert_non_null(tok);
        th_resp_t *r = th_req("GET", "/v1/units", tok, NULL, NULL);
        assert_int_equal(r->status, rows[i].list_units);
        th_free(r);
        char body[512];
        snprintf(body, sizeof body,
                 "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"R-%zu\",\"floor\":3}",
                 project, building, i);
        r = th_req("POST", "/v1/units", tok, body, NULL);
        if (r->status != rows[i].create_unit)
            fail_msg("%s create unit: %ld %s", rows[i].user, r->status, r->body);
        if (r->status == 403)
            assert_true(th_is_problem(r, 403, "forbidden"));
        th_free(r);
        r = th_req("GET", "/v1/users", tok, NULL, NULL);
        assert_int_equal(r->status, rows[i].list_users);
        th_free(r);
        snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"name\":\"住户%zu\"}", project, i);
        r = th_req("POST", "/v1/residents", tok, body, NULL);
        if (r->status != rows[i].create_resident)
            fail_msg("%s create resident: %ld %s", rows[i].user, r->status, r->body);
        th_free(r);
    }
}

static void test_other_organisation_is_404(void **state)
{
    (void)state;
    const char *tok = th_token("other.admin");
    char path[128];
    snprintf(path, sizeof path, "/v1/units/%s", unit);
    th_resp_t *r = th_req("GET", path, tok, NULL, NULL);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
    const char *h[] = {"If-Match: \"1\"", NULL};
    const char *before = count_units();
    char saved[64];
    snprintf(saved, sizeof saved, "%s", before);
    r = th_req("PATCH", path, tok, "{\"floor\":9}", h);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
    assert_string_equal(count_units(), saved);
    snprintf(path, sizeof path, "/v1/projects/%s", project);
    r = th_req("GET", path, tok, NULL, NULL);
    assert_int_equal(r->status, 404);
    th_free(r);
    /* Lists never show the other organisation's rows, in either direction. */
    r = th_req("GET", "/v1/units?limit=200", tok, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(strstr(r->body, unit));
    assert_non_null(strstr(r->body, other_unit));
    th_free(r);
    r = th_req("GET", "/v1/units?limit=200", th_token("admin"), NULL, NULL);
    assert_null(strstr(r->body, other_unit));
    th_free(r);
    /* Creating into another organisation's project is refused and writes nothing. */
    char body[256];
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"code\":\"X\",\"name\":\"X栋\"}", project);
    r = th_req("POST", "/v1/buildings", tok, body, NULL);
    assert_true(r->status == 404 || r->status == 422);
    th_free(r);
    assert_string_equal(th_sql1("SELECT count(*) FROM buildings WHERE code = 'X'", NULL, 0), "0");
    /* Organisation record itself. */
    const char *demo_org = th_sql1("SELECT id FROM organisations WHERE code='demo'", NULL, 0);
    snprintf(path, sizeof path, "/v1/organisations/%s", demo_org);
    r = th_req("GET", path, tok, NULL, NULL);
    assert_int_equal(r->status, 404);
    th_free(r);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
}

static void test_other_project_is_404(void **state)
{
    (void)state;
    /* The admin opens a second project; staff assigned only to the first cannot see it. */
    th_resp_t *r =
        th_req("POST", "/v1/projects", th_token("admin"),
               "{\"code\":\"P2\",\"name\":\"翠湖大厦\",\"time_zone\":\"Europe/Berlin\"}", NULL);
    assert_int_equal(r->status, 201);
    char p2[40];
    snprintf(p2, sizeof p2, "%s", th_str(r, "id"));
    assert_non_null(th_header(r, "Location"));
    th_free(r);
    char body[256], path[128];
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"code\":\"A\",\"name\":\"A座\"}", p2);
    r = th_req("POST", "/v1/buildings", th_token("admin"), body, NULL);
    assert_int_equal(r->status, 201);
    snprintf(path, sizeof path, "/v1/buildings/%s", th_str(r, "id"));
    th_free(r);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
    const char *h[] = {"If-Match: \"1\"", NULL};
    r = th_req("PATCH", path, th_token("manager"), "{\"name\":\"改名\"}", h);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
    /* The manager cannot create in the other project either. */
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"code\":\"B\",\"name\":\"B座\"}", p2);
    r = th_req("POST", "/v1/buildings", th_token("manager"), body, NULL);
    assert_int_equal(r->status, 404);
    th_free(r);
    r = th_req("GET", path, th_token("gm"), NULL, NULL); /* organisation-wide */
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "A座"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/buildings?project_id=%s", p2);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(strstr(r->body, "A座"));
    th_free(r);
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    const char *tok = th_token("admin");
    char before[64];
    snprintf(before, sizeof before, "%s", count_units());
    char body[512];
    static const struct {
        const char *body;
        long status;
        const char *code;
    } cases[] = {
        {"{\"project_id\":", 400, "malformed_json"},
        {"[1,2,3]", 400, "malformed_json"},
        {"{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"Z1\",\"floor\":\"three\"}", 422,
         "invalid_field"},
        {"{\"project_id\":\"%s\",\"building_id\":\"%s\"}", 422, "missing_field"},
        {"{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"Z2\",\"status\":\"haunted\"}",
         422, "invalid_enum"},
        {"{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"Z3\",\"colour\":\"red\"}", 422,
         "unknown_field"},
        {"{\"project_id\":\"not-a-uuid\",\"building_id\":\"%s\",\"code\":\"Z4\"}", 422,
         "invalid_field"},
        {"{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"\"}", 422, "invalid_field"},
        {"{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"Z5\",\"floor\":1e9}", 422,
         "invalid_field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(body, sizeof body, cases[i].body, project, building);
        th_resp_t *r = th_req("POST", "/v1/units", tok, body, NULL);
        if (!th_is_problem(r, cases[i].status, cases[i].code))
            fail_msg("case %zu: %s", i, body);
        th_free(r);
    }
    /* Invalid UTF-8 inside a string. */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"\xC3\x28\"}", project,
             building);
    th_resp_t *r = th_req("POST", "/v1/units", tok, body, NULL);
    assert_true(th_is_problem(r, 400, "invalid_utf8"));
    th_free(r);
    /* Wrong content type. */
    const char *ct[] = {"Content-Type: text/plain", NULL};
    r = th_req("POST", "/v1/units", tok, "{}", ct);
    assert_true(th_is_problem(r, 415, "unsupported_media_type"));
    th_free(r);
    /* Oversized body (2 MiB > 1 MiB cap). */
    size_t big = 2u << 20;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = 0;
    r = th_req("POST", "/v1/units", tok, huge, NULL);
    assert_true(th_is_problem(r, 413, "body_too_large"));
    th_free(r);
    free(huge);
    /* A duplicate code conflicts. */
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"1-101\"}",
             project, building);
    r = th_req("POST", "/v1/units", tok, body, NULL);
    assert_true(th_is_problem(r, 409, "duplicate"));
    th_free(r);
    /* A building of another project is refused by the data model. */
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"Q\"}",
             project, other_unit);
    r = th_req("POST", "/v1/units", tok, body, NULL);
    assert_true(th_is_problem(r, 422, "constraint_violation"));
    th_free(r);
    /* Bad time zone and business hours on a project. */
    r = th_req("POST", "/v1/projects", tok,
               "{\"code\":\"TZ\",\"name\":\"n\",\"time_zone\":\"Mars/Olympus\"}", NULL);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    r = th_req("POST", "/v1/projects", tok,
               "{\"code\":\"TZ\",\"name\":\"n\",\"time_zone\":\"Asia/Shanghai\","
               "\"business_hours\":{\"mon\":[[\"20:00\",\"09:00\"]]}}",
               NULL);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    assert_string_equal(count_units(), before);
    r = th_req("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
}

static void test_if_match(void **state)
{
    (void)state;
    const char *tok = th_token("admin");
    char path[128];
    snprintf(path, sizeof path, "/v1/projects/%s", project);
    th_resp_t *g = th_req("GET", path, tok, NULL, NULL);
    assert_int_equal(g->status, 200);
    char etag[32];
    snprintf(etag, sizeof etag, "%s", th_header(g, "ETag"));
    th_free(g);
    th_resp_t *r = th_req("PATCH", path, tok, "{\"phone\":\"0755-1\"}", NULL);
    assert_true(th_is_problem(r, 428, "if_match_required"));
    th_free(r);
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", etag);
    const char *h[] = {im, NULL};
    r = th_req("PATCH", path, tok, "{\"phone\":\"0755-2\",\"name\":\"阳光花园（一期）\"}", h);
    assert_int_equal(r->status, 200);
    assert_string_not_equal(th_header(r, "ETag"), etag);
    assert_string_equal(th_str(r, "name"), "阳光花园（一期）");
    th_free(r);
    /* The same, now stale, version is refused and nothing changes. */
    r = th_req("PATCH", path, tok, "{\"phone\":\"0755-3\"}", h);
    assert_true(th_is_problem(r, 412, "stale_version"));
    th_free(r);
    const char *p[] = {project};
    assert_string_equal(th_sql1("SELECT phone FROM projects WHERE id = $1", p, 1), "0755-2");
    /* Immutable fields cannot be patched. */
    g = th_req("GET", path, tok, NULL, NULL);
    snprintf(im, sizeof im, "If-Match: %s", th_header(g, "ETag"));
    th_free(g);
    r = th_req("PATCH", path, tok, "{\"code\":\"NEW\"}", h);
    assert_true(th_is_problem(r, 422, "immutable_field"));
    th_free(r);
}

static void test_pagination_walks_everything_once(void **state)
{
    (void)state;
    const char *tok = th_token("admin");
    for (int i = 0; i < 23; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"project_id\":\"%s\",\"building_id\":\"%s\",\"code\":\"P-%02d\"}", project,
                 building, i);
        th_resp_t *r = th_req("POST", "/v1/units", tok, body, NULL);
        assert_int_equal(r->status, 201);
        th_free(r);
    }
    const char *p[] = {project};
    int expected = atoi(th_sql1("SELECT count(*) FROM units WHERE project_id = $1", p, 1));
    assert_true(expected > 23);
    char seen[200][40];
    int nseen = 0, pages = 0;
    char cursor[400] = "";
    for (;;) {
        char path[600];
        snprintf(path, sizeof path, "/v1/units?project_id=%s&limit=7%s%s", project,
                 cursor[0] ? "&cursor=" : "", cursor);
        th_resp_t *r = th_req("GET", path, tok, NULL, NULL);
        assert_int_equal(r->status, 200);
        pages++;
        const cJSON *items = cJSON_GetObjectItem(r->json, "items"), *it;
        assert_true(cJSON_GetArraySize(items) <= 7);
        cJSON_ArrayForEach(it, items)
        {
            const char *id = cJSON_GetObjectItem(it, "id")->valuestring;
            for (int k = 0; k < nseen; k++)
                assert_string_not_equal(seen[k], id);
            assert_true(nseen < 200);
            snprintf(seen[nseen++], 40, "%s", id);
        }
        const cJSON *nc = cJSON_GetObjectItem(r->json, "next_cursor");
        if (!cJSON_IsString(nc)) {
            th_free(r);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", nc->valuestring);
        th_free(r);
        assert_true(pages < 50);
    }
    assert_int_equal(nseen, expected);
    assert_true(pages >= 4);
    th_resp_t *r = th_req("GET", "/v1/units?cursor=garbage", tok, NULL, NULL);
    assert_true(th_is_problem(r, 400, "invalid_cursor"));
    th_free(r);
    r = th_req("GET", "/v1/units?limit=0", tok, NULL, NULL);
    assert_true(th_is_problem(r, 400, "invalid_query"));
    th_free(r);
}

static void test_chinese_round_trip_and_masking(void **state)
{
    (void)state;
    const char *name = "欧阳娜娜（租户）🏠 \\\"引号\\\"";
    char body[512];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"name\":\"%s\",\"phone\":\"13912345678\","
             "\"id_number\":\"440301199001011234\",\"units\":[{\"unit_id\":\"%s\","
             "\"relation\":\"tenant\"}]}",
             project, name, unit);
    th_resp_t *r = th_req("POST", "/v1/residents", th_token("agent"), body, NULL);
    assert_int_equal(r->status, 201);
    assert_string_equal(th_str(r, "name"), "欧阳娜娜（租户）🏠 \"引号\"");
    assert_string_equal(th_str(r, "phone"), "13912345678");
    assert_null(strstr(r->body, "440301199001011234"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r->json, "has_id_number")));
    char path[128];
    snprintf(path, sizeof path, "/v1/residents/%s", th_str(r, "id"));
    th_free(r);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(th_str(r, "phone"), "139****5678");
    th_free(r);
    const char *id = strrchr(path, '/') + 1;
    const char *p[] = {id};
    const char *stored = th_sql1("SELECT id_number_hash FROM residents WHERE id = $1", p, 1);
    assert_non_null(stored);
    assert_null(strstr(stored, "1234"));
}

static void test_users_and_assignments(void **state)
{
    (void)state;
    char body[512];
    snprintf(body, sizeof body,
             "{\"username\":\"new.agent\",\"display_name\":\"王芳\",\"role\":\"agent\","
             "\"password\":\"s3cret-pass\",\"project_ids\":[\"%s\"]}",
             project);
    th_resp_t *r = th_req("POST", "/v1/users", th_token("admin"), body, NULL);
    assert_int_equal(r->status, 201);
    assert_null(strstr(r->body, "s3cret"));
    assert_null(strstr(r->body, "password"));
    assert_non_null(strstr(r->body, project));
    th_free(r);
    char *tok = th_login("new.agent", "s3cret-pass");
    assert_non_null(tok);
    char path[128];
    snprintf(path, sizeof path, "/v1/projects/%s", project);
    r = th_req("GET", path, tok, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    free(tok);
    /* Assigning a project of another organisation fails whole: no user is created. */
    snprintf(body, sizeof body,
             "{\"username\":\"bad.agent\",\"display_name\":\"x\",\"role\":\"agent\","
             "\"password\":\"s3cret-pass\",\"project_ids\":[\"%s\"]}",
             other_project);
    r = th_req("POST", "/v1/users", th_token("admin"), body, NULL);
    assert_int_equal(r->status, 422);
    th_free(r);
    assert_string_equal(th_sql1("SELECT count(*) FROM users WHERE username = 'bad.agent'", NULL, 0),
                        "0");
    r = th_req("POST", "/v1/users", th_token("admin"),
               "{\"username\":\"weak\",\"display_name\":\"x\",\"role\":\"agent\","
               "\"password\":\"short\"}",
               NULL);
    assert_true(th_is_problem(r, 422, "weak_password"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_permissions),
        cmocka_unit_test(test_other_organisation_is_404),
        cmocka_unit_test(test_other_project_is_404),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_if_match),
        cmocka_unit_test(test_pagination_walks_everything_once),
        cmocka_unit_test(test_chinese_round_trip_and_masking),
        cmocka_unit_test(test_users_and_assignments),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
