/*
 * tests/api/test_patrol_photos.c — a patrol finding's photo is a real record (issue 11, RULES
 * §3.10.3): recorded on the round (POST /v1/patrol-rounds/{id}/photos, stored as a request
 * attachment is: name, image type, size, storage key, URL, digest), read in the project's
 * scope (404 for another project's photo), and a finding's photo_id must name a photo of its
 * own round (422 otherwise).
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

static char p1[40], p2[40], u_sec[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_user("security", u_sec))
        return -1;
    return th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                       "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                       "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                       "p.org_id WHERE o.code = 'demo') RETURNING id");
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static void expect(int line, th_resp_t *r, long st)
{
    if (r->status != st)
        fprintf(stderr, "line %d: %ld %s\n", line, r->status, r->body);
    th_expect_status_at(line, r, st);
}
#define EXPECT(r, st) expect(__LINE__, (r), (st))

static void start_round(const char *who, const char *project, char id[40])
{
    char body[400];
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"building\"}", project);
    th_resp_t *r = th_req("POST", "/v1/patrol-rounds", th_token(who), body, NULL);
    EXPECT(r, 201);
    snprintf(id, 40, "%s", th_str(r, "id"));
    th_free(r);
}

static const char *photo_body =
    "{\"filename\":\"B2-leak.jpg\",\"content_type\":\"image/jpeg\",\"size_bytes\":183204,"
    "\"storage_key\":\"patrol/2026/B2-leak.jpg\",\"url\":\"https://files.example/B2-leak.jpg\","
    "\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}";

static th_resp_t *add_photo(const char *who, const char *round, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/photos", round);
    return th_req("POST", path, th_token(who), body, NULL);
}

static th_resp_t *add_finding(const char *who, const char *round, const char *photo)
{
    char path[128], body[512];
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/findings", round);
    snprintf(
        body, sizeof body,
        "{\"point\":\"equipment.water\",\"description\":\"B2 车库消防管滴水\",\"location\":\"B2\","
        "\"photo_id\":\"%s\"}",
        photo);
    return th_req("POST", path, th_token(who), body, NULL);
}

static void test_photos(void **state)
{
    (void)state;
    char r1[40], r1b[40], r2[40], ph1[40], ph1b[40], ph2[40], path[128];
    start_round("security", p1, r1);
    start_round("supervisor", p1, r1b);
    start_round("gm", p2, r2);

    /* Recorded like a request attachment; an image; the same checks. */
    th_resp_t *r = add_photo("security", r1, photo_body);
    EXPECT(r, 201);
    snprintf(ph1, sizeof ph1, "%s", th_str(r, "id"));
    assert_string_equal(th_str(r, "round_id"), r1);
    assert_string_equal(th_str(r, "project_id"), p1);
    assert_string_equal(th_str(r, "content_type"), "image/jpeg");
    assert_int_equal(th_jn(r->json, "size_bytes"), 183204);
    assert_string_equal(th_str(r, "created_by"), u_sec);
    th_free(r);
    EXPECT_PROBLEM(add_photo("security", r1,
                             "{\"filename\":\"a.pdf\",\"content_type\":\"application/pdf\","
                             "\"size_bytes\":1,\"storage_key\":\"k\"}"),
                   422, "invalid_field");
    EXPECT_PROBLEM(add_photo("security", r1,
                             "{\"filename\":\"a.jpg\",\"content_type\":\"image/jpeg\","
                             "\"size_bytes\":1}"),
                   422, "missing_field");
    EXPECT_PROBLEM(add_photo("security", r1,
                             "{\"filename\":\"a.jpg\",\"content_type\":\"image/jpeg\","
                             "\"size_bytes\":1,\"storage_key\":\"k\",\"sha256\":\"XYZ\"}"),
                   422, "invalid_field");
    EXPECT_PROBLEM(add_photo("security", r1,
                             "{\"filename\":\"a.jpg\",\"content_type\":\"image/jpeg\","
                             "\"size_bytes\":1,\"storage_key\":\"k\",\"visibility\":\"public\"}"),
                   422, NULL);
    EXPECT_PROBLEM(add_photo("resident", r1, photo_body), 403, NULL);
    /* Another project's round is not in a P1 user's scope. */
    EXPECT_PROBLEM(add_photo("security", r2, photo_body), 404, "not_found");
    r = add_photo("gm", r2, photo_body);
    EXPECT(r, 201);
    snprintf(ph2, sizeof ph2, "%s", th_str(r, "id"));
    th_free(r);
    r = add_photo("supervisor", r1b, photo_body);
    EXPECT(r, 201);
    snprintf(ph1b, sizeof ph1b, "%s", th_str(r, "id"));
    th_free(r);

    /* Read in scope: another project's photo, or another organisation's, is 404. */
    snprintf(path, sizeof path, "/v1/patrol-photos/%s", ph1);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "storage_key"), "patrol/2026/B2-leak.jpg");
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, "not_found");
    snprintf(path, sizeof path, "/v1/patrol-photos/%s", ph2);
    EXPECT_PROBLEM(th_req("GET", path, th_token("security"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_req("GET", "/v1/patrol-photos/0b6f3c1e-6a51-4c8e-9b0e-1d2a3b4c5d6e",
                          th_token("security"), NULL, NULL),
                   404, "not_found");

    /* A finding's photo is one of its round's: not another project's, not another round's,
     * not a made-up id. */
    r = add_finding("security", r1, ph2);
    EXPECT(r, 422);
    assert_string_equal(th_str(r, "code"), "invalid_field");
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/photo_id");
    th_free(r);
    EXPECT_PROBLEM(add_finding("security", r1, ph1b), 422, "invalid_field");
    EXPECT_PROBLEM(add_finding("security", r1, "0b6f3c1e-6a51-4c8e-9b0e-1d2a3b4c5d6e"), 422,
                   "invalid_field");
    r = add_finding("security", r1, ph1);
    EXPECT(r, 201);
    assert_string_equal(th_str(r, "photo_id"), ph1);
    th_free(r);
    /* The database holds the reference too. */
    const char *v[] = {ph1};
    assert_int_equal(th_sql_long("SELECT count(*) FROM patrol_findings f JOIN patrol_photos p ON "
                                 "p.id = f.photo_id AND p.org_id = f.org_id WHERE p.id = $1",
                                 v, 1),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_photos),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
