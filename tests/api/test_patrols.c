/*
 * tests/api/test_patrols.c — patrols end to end (issue 11, RULES §3.10, seed 004 一.3):
 * plans, rounds against them, the checklist by kind, findings (owner-related follow-up),
 * their disposition — fixed on the spot, a rectification (corrective action) or a service
 * request with channel patrol, in the disposition's transaction — finishing (undisposed
 * findings 409 with the list, incomplete checklist 409, under an hour 422 without a
 * reason), missed slots notified to the supervisor, the daily view, roles and scope.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char p1[40], p2[40], d_eng[40], u_tech[40], u_sec[40], u_supervisor[40], u_agent[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", "DESK_CAPA_INTERVAL_MS=250",
                                      NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_dept("demo", "engineering", d_eng) ||
        th_fx_user("technician", u_tech) || th_fx_user("security", u_sec) ||
        th_fx_user("supervisor", u_supervisor) || th_fx_user("agent", u_agent))
        return -1;
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static th_resp_t *post(const char *who, const char *path, const char *body)
{
    return th_req("POST", path, th_token(who), body, NULL);
}

static void start_round(const char *who, const char *project, const char *kind, char id[40])
{
    char body[512];
    /* P1's guard goes along on P1's rounds; P2 has no staff of its own here */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"%s\",\"participants\":[%s%s%s],"
             "\"coverage\":\"sampled\",\"coverage_note\":\"1栋、2栋\"}",
             project, kind, project == p1 ? "\"" : "", project == p1 ? u_sec : "",
             project == p1 ? "\"" : "");
    th_resp_t *r = post(who, "/v1/patrol-rounds", body);
    if (r->status != 201)
        fprintf(stderr, "start -> %ld %s\n", r->status, r->body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "state"), "in_progress");
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

static void finding(const char *who, const char *round, const char *point, const char *extra,
                    char id[40])
{
    char body[768], path[128], photo[40];
    /* The photo is recorded on the round first (POST .../photos). */
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/photos", round);
    th_resp_t *r = post(who, path,
                        "{\"filename\":\"1-201.jpg\",\"content_type\":\"image/jpeg\","
                        "\"size_bytes\":48213,\"storage_key\":\"patrol/1-201.jpg\"}");
    EXPECT_STATUS(r, 201);
    snprintf(photo, sizeof photo, "%s", th_js(r->json, "id"));
    th_free(r);
    snprintf(
        body, sizeof body,
        "{\"point\":\"%s\",\"description\":\"空置房窗户未关，雨水进入\",\"location\":\"1-201\","
        "\"photo_id\":\"%s\"%s%s}",
        point, photo, extra ? "," : "", extra ? extra : "");
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/findings", round);
    r = post(who, path, body);
    if (r->status != 201)
        fprintf(stderr, "finding -> %ld %s\n", r->status, r->body);
    EXPECT_STATUS(r, 201);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

static th_resp_t *dispose(const char *who, const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/patrol-findings/%s/dispose", id);
    return post(who, path, body);
}

static th_resp_t *finish(const char *who, const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/finish", id);
    return post(who, path, body);
}

static void test_plan(void **state)
{
    (void)state;
    char body[256];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"quality\",\"times\":[\"09:00\",\"15:00\"]}", p1);
    EXPECT_PROBLEM(post("agent", "/v1/patrol-plans", body), 403, NULL);
    th_resp_t *r = post("supervisor", "/v1/patrol-plans", body);
    EXPECT_STATUS(r, 201);
    assert_int_equal(th_jn(r->json, "grace_minutes"), 30);
    th_free(r);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"quality\",\"times\":[\"08:30\",\"14:30\"],"
             "\"grace_minutes\":45}",
             p1);
    r = post("manager", "/v1/patrol-plans", body);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "grace_minutes"), 45);
    assert_int_equal(th_jn(r->json, "version"), 2);
    th_free(r);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"quality\",\"times\":[\"25:00\"]}", p1);
    EXPECT_PROBLEM(post("supervisor", "/v1/patrol-plans", body), 422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"quality\",\"times\":[\"09:00\",\"09:00\"]}", p1);
    EXPECT_PROBLEM(post("supervisor", "/v1/patrol-plans", body), 422, "invalid_field");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"quality\",\"times\":[]}", p1);
    EXPECT_PROBLEM(post("supervisor", "/v1/patrol-plans", body), 422, NULL);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"quality\",\"times\":[\"09:00\"]}", p2);
    EXPECT_PROBLEM(post("supervisor", "/v1/patrol-plans", body), 404, NULL);
    r = th_req("GET", "/v1/patrol-plans", th_token("security"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 1);
    th_free(r);
}

static long patrol_requests(void)
{
    return th_sql_long("SELECT count(*) FROM requests WHERE channel = 'patrol'", NULL, 0);
}

static void test_round_flow(void **state)
{
    (void)state;
    char round[40], f1[40], f2[40], f3[40], body[768], path[160], due[40];
    start_round("agent", p1, "vacant_units", round);
    finding("security", round, "vacant_units.safety", NULL, f1);
    /* a point not of the kind's checklist */
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/findings", round);
    EXPECT_PROBLEM(post("agent", path,
                        "{\"point\":\"cleaning.roads\",\"description\":\"x\",\"location\":\"y\"}"),
                   422, "invalid_field");
    /* owner-related: a follow-up person and a reply time limit */
    EXPECT_PROBLEM(post("agent", path,
                        "{\"point\":\"vacant_units.safety\",\"description\":\"业主装修堆放\","
                        "\"location\":\"1-201\",\"owner_related\":true}"),
                   422, "missing_field");
    th_iso_utc(time(NULL) + 86400, due);
    snprintf(body, sizeof body,
             "\"owner_related\":true,\"follow_up_id\":\"%s\",\"reply_due\":\"%s\"", u_agent, due);
    finding("agent", round, "vacant_units.safety", body, f2);
    finding("agent", round, "vacant_units.cleanliness", NULL, f3);
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s", round);
    th_resp_t *r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "findings")), 3);
    const cJSON *checks = th_jpath(r->json, "checks");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(checks, "vacant_units.safety")),
                        "finding");
    assert_int_equal(th_jn(r->json, "open_finding_count"), 3);
    th_free(r);

    /* finishing with findings not disposed: 409 with the list */
    r = finish("agent", round, "{\"reason\":\"下雨提前结束\"}");
    EXPECT_STATUS(r, 409);
    assert_string_equal(th_js(r->json, "code"), "findings_not_disposed");
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "findings")), 3);
    th_free(r);

    /* fixed on the spot */
    EXPECT_PROBLEM(dispose("agent", f1, "{\"disposition\":\"fixed_on_spot\"}"), 422,
                   "missing_field");
    r = dispose("security", f1, "{\"disposition\":\"fixed_on_spot\",\"note\":\"当场关窗\"}");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "disposition"), "fixed_on_spot");
    th_free(r);
    EXPECT_PROBLEM(dispose("agent", f1, "{\"disposition\":\"fixed_on_spot\",\"note\":\"x\"}"), 409,
                   "already_disposed");

    /* a rectification: responsible department, person, completion time */
    EXPECT_PROBLEM(dispose("agent", f2, "{\"disposition\":\"rectification\"}"), 422, NULL);
    snprintf(body, sizeof body,
             "{\"disposition\":\"rectification\",\"rectification\":{\"department_id\":\"%s\"}}",
             d_eng);
    EXPECT_PROBLEM(dispose("agent", f2, body), 422, "missing_field");
    snprintf(body, sizeof body,
             "{\"disposition\":\"rectification\",\"rectification\":{\"department_id\":\"%s\","
             "\"responsible_id\":\"%s\",\"due_at\":\"%s\"}}",
             d_eng, u_tech, due);
    r = dispose("agent", f2, body);
    EXPECT_STATUS(r, 200);
    char capa[40];
    snprintf(capa, sizeof capa, "%s", th_js(r->json, "corrective_action_id"));
    assert_int_equal(strlen(capa), 36);
    th_free(r);
    snprintf(path, sizeof path, "/v1/corrective-actions/%s", capa);
    r = th_req("GET", path, th_token("technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "kind"), "rectification");
    assert_string_equal(th_js(r->json, "responsible_id"), u_tech);
    assert_string_equal(th_js(r->json, "department_id"), d_eng);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "sources"), 0), "kind"),
                        "patrol_finding");
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "sources"), 0), "id"), f2);
    th_free(r);

    /* a service request, channel patrol, in the same transaction: a refused request leaves
     * the finding open and creates nothing */
    long before = patrol_requests();
    EXPECT_PROBLEM(dispose("agent", f3,
                           "{\"disposition\":\"request\",\"request\":{\"type\":"
                           "\"teleport\"}}"),
                   422, NULL);
    assert_int_equal(patrol_requests(), before);
    snprintf(path, sizeof path, "/v1/patrol-findings/%s", f3);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    assert_true(th_jnull(r->json, "disposition"));
    th_free(r);
    r = dispose("agent", f3,
                "{\"disposition\":\"request\",\"request\":{\"title\":\"空置房保洁\"}}");
    EXPECT_STATUS(r, 200);
    char req[40];
    snprintf(req, sizeof req, "%s", th_js(r->json, "request_id"));
    th_free(r);
    assert_int_equal(patrol_requests(), before + 1);
    snprintf(path, sizeof path, "/v1/requests/%s", req);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "channel"), "patrol");
    assert_string_equal(th_js(r->json, "type"), "repair");
    th_free(r);

    /* under an hour: 422 unless a reason */
    r = finish("agent", round, NULL);
    EXPECT_STATUS(r, 422);
    assert_string_equal(th_js(r->json, "code"), "round_too_short");
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/reason");
    th_free(r);
    r = finish("agent", round, "{\"reason\":\"暴雨，经理同意提前结束\"}");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "finished");
    assert_string_equal(th_js(r->json, "short_reason"), "暴雨，经理同意提前结束");
    th_free(r);
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/findings", round);
    EXPECT_PROBLEM(post("agent", path,
                        "{\"point\":\"vacant_units.safety\",\"description\":\"x\",\"location\":"
                        "\"y\"}"),
                   409, "round_finished");
}

static void test_checklist_and_hour(void **state)
{
    (void)state;
    char round[40], path[160];
    start_round("security", p1, "night", round);
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/checks", round);
    EXPECT_PROBLEM(post("security", path, "{\"checks\":{\"cleaning.roads\":\"ok\"}}"), 422,
                   "invalid_field");
    EXPECT_PROBLEM(post("security", path, "{\"checks\":{\"order.decoration\":\"bad\"}}"), 422,
                   "invalid_field");
    th_resp_t *r = post("security", path,
                        "{\"checks\":{\"order.people_vehicles_goods\":\"ok\",\"order.public_"
                        "facilities\":\"ok\",\"order.decoration\":\"ok\"}}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = finish("security", round, "{\"reason\":\"x\"}");
    EXPECT_STATUS(r, 409);
    assert_string_equal(th_js(r->json, "code"), "checklist_incomplete");
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "points")), 4);
    th_free(r);
    r = post("security", path,
             "{\"checks\":{\"order.illegal_building\":\"ok\",\"equipment.power\":\"ok\","
             "\"equipment.water\":\"ok\",\"equipment.fire_linkage\":\"ok\"}}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    /* a round of over an hour needs no reason */
    const char *v[] = {round};
    assert_non_null(th_sql1("UPDATE patrol_rounds SET started_at = now() - interval '61 minutes' "
                            "WHERE id = $1 RETURNING 1",
                            v, 1));
    r = finish("security", round, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(th_jnull(r->json, "short_reason"));
    th_free(r);
    EXPECT_PROBLEM(finish("security", round, NULL), 409, "round_finished");
}

static void test_roles_and_scope(void **state)
{
    (void)state;
    char round[40], path[160], f[40], body[256];
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"building\"}", p1);
    EXPECT_PROBLEM(post("auditor", "/v1/patrol-rounds", body), 403, NULL);
    EXPECT_PROBLEM(post("clerk", "/v1/patrol-rounds", body), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/patrol-rounds", th_token("resident"), NULL, NULL), 403, NULL);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"building\"}", p2);
    EXPECT_PROBLEM(post("agent", "/v1/patrol-rounds", body), 404, NULL);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"building\",\"participants\":[\"%s\"]}", p2, u_sec);
    EXPECT_PROBLEM(post("gm", "/v1/patrol-rounds", body), 422, "invalid_field");
    start_round("gm", p2, "building", round);
    finding("gm", round, "cleaning.roads", NULL, f);
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s", round);
    EXPECT_PROBLEM(th_req("GET", path, th_token("supervisor"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.gm"), NULL, NULL), 404, "not_found");
    th_resp_t *r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s/findings", round);
    EXPECT_PROBLEM(post("agent", path,
                        "{\"point\":\"cleaning.roads\",\"description\":\"x\",\"location\":\"y\"}"),
                   404, "not_found");
    EXPECT_PROBLEM(dispose("agent", f, "{\"disposition\":\"fixed_on_spot\",\"note\":\"x\"}"), 404,
                   "not_found");
    snprintf(path, sizeof path, "/v1/patrol-findings/%s", f);
    EXPECT_PROBLEM(th_req("GET", path, th_token("technician"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(finish("supervisor", round, NULL), 404, "not_found");
    snprintf(path, sizeof path, "/v1/patrol-rounds/daily?project_id=%s", p2);
    EXPECT_PROBLEM(th_req("GET", path, th_token("supervisor"), NULL, NULL), 404, NULL);
    r = th_req("GET", "/v1/patrol-rounds?limit=200", th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        assert_string_equal(th_js(it, "project_id"), p1);
    }
    th_free(r);
}

static long missed_notes(const char *planned)
{
    const char *v[] = {u_supervisor, planned};
    return th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = "
                       "'patrol_missed' AND payload->>'planned_at' = $2",
                       v, 2);
}

/* A slot two hours ago with no round is missed, notified once; a round started now takes the
 * slot coming in 20 minutes; the day's view shows both. */
static void test_missed_and_daily(void **state)
{
    (void)state;
    char past[8], soon[8], body[256], past_at[40], soon_at[40], past_day[16], soon_day[16];
    const char *v[] = {p1};
#define LOCAL(fmt, delta)                                                                          \
    th_sql1("SELECT to_char((now() + interval '" delta "') AT TIME ZONE time_zone, '" fmt "') "    \
            "FROM projects WHERE id = $1",                                                         \
            v, 1)
    snprintf(past, sizeof past, "%s", LOCAL("HH24:MI", "-2 hours"));
    snprintf(soon, sizeof soon, "%s", LOCAL("HH24:MI", "20 minutes"));
    snprintf(past_day, sizeof past_day, "%s", LOCAL("YYYY-MM-DD", "-2 hours"));
    snprintf(soon_day, sizeof soon_day, "%s", LOCAL("YYYY-MM-DD", "20 minutes"));
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"night\",\"times\":[\"%s\",\"%s\"],"
             "\"grace_minutes\":30}",
             p1, past, soon);
    th_resp_t *r = post("supervisor", "/v1/patrol-plans", body);
    EXPECT_STATUS(r, 201);
    th_free(r);
    /* the plan existed before the slot */
    assert_non_null(th_sql1("UPDATE patrol_plans SET created_at = now() - interval '2 days' "
                            "WHERE project_id = $1 AND kind = 'night' RETURNING 1",
                            v, 1));
    const char *pv[] = {p1, past_day, past};
    snprintf(past_at, sizeof past_at, "%s",
             th_sql1("SELECT rfc3339((($2::date + $3::time)::timestamp) AT TIME ZONE time_zone) "
                     "FROM projects WHERE id = $1",
                     pv, 3));
    const char *sv[] = {p1, soon_day, soon};
    snprintf(soon_at, sizeof soon_at, "%s",
             th_sql1("SELECT rfc3339((($2::date + $3::time)::timestamp) AT TIME ZONE time_zone) "
                     "FROM projects WHERE id = $1",
                     sv, 3));
    int ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        ok = missed_notes(past_at) == 1;
        if (!ok)
            usleep(100000);
    }
    assert_true(ok);
    /* a round now belongs to the coming slot */
    char round[40];
    start_round("security", p1, "night", round);
    char path[200];
    snprintf(path, sizeof path, "/v1/patrol-rounds/%s", round);
    r = th_req("GET", path, th_token("security"), NULL, NULL);
    assert_string_equal(th_js(r->json, "planned_at"), soon_at);
    th_free(r);
    /* a planned time not of the plan; a slot already taken */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"night\",\"planned_at\":\"2020-01-01T01:00:00Z\"}",
             p1);
    EXPECT_PROBLEM(post("agent", "/v1/patrol-rounds", body), 422, "invalid_field");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"night\",\"planned_at\":\"%s\"}",
             p1, soon_at);
    EXPECT_PROBLEM(post("agent", "/v1/patrol-rounds", body), 409, NULL);
    /* the day's view */
    snprintf(path, sizeof path, "/v1/patrol-rounds/daily?project_id=%s&date=%s", p1, past_day);
    r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    int seen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "slots"))
    {
        if (!strcmp(th_js(it, "planned_at"), past_at)) {
            assert_string_equal(th_js(it, "status"), "missed");
            assert_string_equal(th_js(it, "kind"), "night");
            seen++;
        }
    }
    assert_int_equal(seen, 1);
    assert_true(th_jn(r->json, "summary.missed") >= 1);
    assert_non_null(th_jpath(r->json, "open_findings"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/patrol-rounds/daily?project_id=%s&date=%s", p1, soon_day);
    r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    seen = 0;
    cJSON_ArrayForEach(it, th_jpath(r->json, "slots"))
    {
        if (!strcmp(th_js(it, "planned_at"), soon_at)) {
            assert_string_equal(th_js(it, "status"), "in_progress");
            assert_string_equal(th_js(it, "round_id"), round);
            seen++;
        }
    }
    assert_int_equal(seen, 1);
    th_free(r);
    /* notified once */
    usleep(800000);
    assert_int_equal(missed_notes(past_at), 1);
    snprintf(path, sizeof path, "/v1/patrol-rounds/daily?project_id=%s&date=2026-13-01", p1);
    EXPECT_PROBLEM(th_req("GET", path, th_token("supervisor"), NULL, NULL), 400, "invalid_query");
    EXPECT_PROBLEM(th_req("GET", "/v1/patrol-rounds/daily", th_token("supervisor"), NULL, NULL),
                   400, "invalid_query");
#undef LOCAL
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_round_flow),
        cmocka_unit_test(test_checklist_and_hour),
        cmocka_unit_test(test_roles_and_scope),
        cmocka_unit_test(test_missed_and_daily),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
