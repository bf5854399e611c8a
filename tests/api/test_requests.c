/*
 * tests/api/test_requests.c — service requests end to end against the real server and
 * PostgreSQL: intake from several channels, the full lifecycle of complaints and repairs,
 * sign-off rules (household adults, reporting-department staff), the night desk, paper
 * records with back-dated times, visibility by role / unit / department / organisation,
 * optimistic concurrency under a real race, pend / resume / reject / reopen, bad input
 * that changes nothing, free-text search with filters and paging, and human numbers.
 * Every test creates its own requests; refusals are checked to leave the request as it
 * was (version, state, timeline, work order, updated_at).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

/* ---------------------------------------------------------------- fixtures */

static char project[40], unit101[40], unit2101[40], other_unit[40];
static char res_zw[40], res_xm[40], res_ln[40]; /* 张伟, 张小明 (minor), 李娜 */
static char dept_cs[40], dept_eng[40], dept_sec[40], other_dept[40];
static char uid_agent[40], uid_super[40], uid_sec[40], uid_tech[40], uid_resident[40],
    uid_director[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(NULL) != 0)
        return -1;
    if (th_fx_project("demo", project) || th_fx_unit("demo", "1-101", unit101) ||
        th_fx_unit("demo", "2-101", unit2101) || th_fx_unit("other", "1-101", other_unit) ||
        th_fx_resident("demo", "张伟", res_zw) || th_fx_resident("demo", "张小明", res_xm) ||
        th_fx_resident("demo", "李娜", res_ln) || th_fx_dept("demo", "customer_service", dept_cs) ||
        th_fx_dept("demo", "engineering", dept_eng) || th_fx_dept("demo", "security", dept_sec) ||
        th_fx_dept("other", "engineering", other_dept) || th_fx_user("agent", uid_agent) ||
        th_fx_user("supervisor", uid_super) || th_fx_user("security", uid_sec) ||
        th_fx_user("technician", uid_tech) || th_fx_user("resident", uid_resident) ||
        th_fx_user("director", uid_director))
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- time helpers
 * (JSON paths, RFC 3339 and fixture look-ups: th_js, th_jn, th_iso_utc, th_grab, ...
 * in tests/lib/harness.h) */

/* The same instant written in China Standard Time. */
static void iso_cst(time_t t, char out[40])
{
    time_t l = t + 8 * 3600;
    struct tm tm;
    gmtime_r(&l, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

static int shanghai_year(void)
{
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

/* ---------------------------------------------------------------- HTTP helpers */

static th_resp_t *act_raw(const char *token, const char *id, const char *action, int version,
                          const char *body)
{
    char path[200], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, action);
    snprintf(im, sizeof im, "If-Match: \"%d\"", version);
    const char *h[] = {im, NULL};
    return th_req("POST", path, token, body, h);
}

static th_resp_t *act(const char *user, const char *id, const char *action, int version,
                      const char *body)
{
    return act_raw(th_token(user), id, action, version, body);
}

static th_resp_t *patch(const char *user, const char *id, int version, const char *body)
{
    char path[128], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    snprintf(im, sizeof im, "If-Match: \"%d\"", version);
    const char *h[] = {im, NULL};
    return th_req("PATCH", path, th_token(user), body, h);
}

static void check_write_at(int line, const th_resp_t *r, int new_version, const char *state)
{
    if (r->status != 200)
        fail_msg("line %d: expected 200, got %ld: %s", line, r->status, r->body);
    char etag[16];
    snprintf(etag, sizeof etag, "\"%d\"", new_version);
    const char *h = th_header(r, "ETag");
    if (!h || strcmp(h, etag) != 0)
        fail_msg("line %d: expected ETag %s, got %s", line, etag, h ? h : "(none)");
    if (th_jn(r->json, "version") != new_version)
        fail_msg("line %d: expected version %d in body: %s", line, new_version, r->body);
    if (state && strcmp(th_js(r->json, "state"), state) != 0)
        fail_msg("line %d: expected state %s: %s", line, state, r->body);
}

/* Runs an action that must succeed; checks the new version (ETag and body) and state. */
static th_resp_t *ok_act_at(int line, const char *user, const char *id, const char *action,
                            int version, const char *body, const char *state)
{
    th_resp_t *r = act(user, id, action, version, body);
    if (r->status != 200)
        fail_msg("line %d: %s by %s: expected 200, got %ld: %s", line, action, user, r->status,
                 r->body);
    check_write_at(line, r, version + 1, state);
    return r;
}
#define OK_ACT(...) ok_act_at(__LINE__, __VA_ARGS__)
#define DO_ACT(...) th_free(ok_act_at(__LINE__, __VA_ARGS__))

/* Creates a request that must succeed: 201, ETag "1", version 1, received. */
static th_resp_t *create_at(int line, const char *user, const char *body, char id[40])
{
    th_resp_t *r = th_create_request_at(line, user, body, id);
    const char *h = th_header(r, "ETag");
    if (!h || strcmp(h, "\"1\"") != 0)
        fail_msg("line %d: create ETag %s", line, h ? h : "(none)");
    if (th_jn(r->json, "version") != 1 || strcmp(th_js(r->json, "state"), "received") != 0)
        fail_msg("line %d: new request not version 1 / received: %s", line, r->body);
    return r;
}
#define CREATE(user, body, id) create_at(__LINE__, (user), (body), (id))

/* A unit request reported by a resident record. */
static void unit_body(char *buf, size_t n, const char *type, const char *channel, const char *unit,
                      const char *resident, const char *desc)
{
    snprintf(buf, n,
             "{\"type\":\"%s\",\"channel\":\"%s\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"%s\"}",
             type, channel, unit, resident, desc);
}

static void new_unit_request(const char *type, const char *channel, const char *desc, char id[40])
{
    char body[1024];
    unit_body(body, sizeof body, type, channel, unit101, res_zw, desc);
    th_free(CREATE("agent", body, id));
}

/* A common-area repair reported by a department. */
static void new_common_repair(const char *reporting_kind, const char *desc, char id[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"patrol\",\"project_id\":\"%s\","
             "\"location\":{\"common_area\":\"1栋电梯厅\"},\"reporter\":{\"name\":\"巡查员\","
             "\"phone\":\"13700001111\"},\"reporting_department_kind\":\"%s\","
             "\"description\":\"%s\"}",
             project, reporting_kind, desc);
    th_free(CREATE("agent", body, id));
}

/* Dispatch to 工程部 and the technician accepts, arrives and reports: version 1 → 5. */
static void repair_to_reported(const char *id)
{
    char b[128];
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    DO_ACT("agent", id, "dispatch", 1, b, "dispatched");
    DO_ACT("technician", id, "accept", 2, NULL, "accepted");
    DO_ACT("technician", id, "arrive", 3, NULL, "on_site");
    th_resp_t *r =
        OK_ACT("technician", id, "report_result", 4, "{\"result\":\"已更换角阀\"}", "on_site");
    assert_string_equal(th_js(r->json, "work_order.state"), "done_unsigned");
    th_free(r);
}

/* Everything about a request that a refused write must leave alone. */
static const char snap_sql[] =
    "SELECT r.version || ':' || r.state || ':' || r.reopen_count || ':' || "
    "r.escalation_level || ':' || (SELECT count(*) FROM request_events e WHERE "
    "e.request_id = r.id) || ':' || (SELECT count(*) FROM work_orders w WHERE w.request_id "
    "= r.id) || ':' || coalesce((SELECT w.state || '/' || coalesce(w.signer_kind, '-') || "
    "'/' || w.version FROM work_orders w WHERE w.request_id = r.id ORDER BY w.created_at "
    "DESC LIMIT 1), '-') || ':' || coalesce(r.handed_over_at::text, '-') || ':' || "
    "r.updated_at || ':' || r.last_event_at FROM requests r WHERE r.id = $1";

static char *snap(const char *id)
{
    return th_snapshot(snap_sql, id);
}
#define EXPECT_UNCHANGED(id, before) th_expect_snapshot_at(__LINE__, snap_sql, (id), (before))

static char *db_totals(void)
{
    const char *s =
        th_sql1("SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || (SELECT count(*) "
                "FROM request_events) || ':' || (SELECT count(*) FROM work_orders) || ':' || "
                "coalesce(max(updated_at)::text, '-') FROM requests",
                NULL, 0);
    return strdup(s ? s : "(none)");
}

/* Checks the timeline: exactly these actions, seq 1.., times never going back. */
static void expect_timeline_at(int line, const char *id, const char *const *actions)
{
    th_resp_t *r = th_get_timeline("agent", id);
    if (r->status != 200)
        fail_msg("line %d: timeline %ld %s", line, r->status, r->body);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    int n = 0;
    while (actions[n])
        n++;
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) != n)
        fail_msg("line %d: expected %d timeline events: %s", line, n, r->body);
    time_t prev = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(items, i);
        if (th_jn(it, "seq") != i + 1 || strcmp(th_js(it, "action"), actions[i]) != 0)
            fail_msg("line %d: event %d should be #%d %s: %s", line, i, i + 1, actions[i], r->body);
        time_t o = th_parse_utc(th_js(it, "occurred_at")),
               rec = th_parse_utc(th_js(it, "recorded_at"));
        if (o <= 0 || rec <= 0 || o < prev || strlen(th_js(it, "actor_id")) != 36 ||
            !th_js(it, "actor_role")[0] || !th_js(it, "to_state")[0])
            fail_msg("line %d: event %d malformed or out of order: %s", line, i, r->body);
        prev = o;
    }
    th_free(r);
}
#define EXPECT_TIMELINE(id, ...)                                                                   \
    do {                                                                                           \
        const char *const acts_[] = {__VA_ARGS__, NULL};                                           \
        expect_timeline_at(__LINE__, (id), acts_);                                                 \
    } while (0)

static const cJSON *timeline_item(const th_resp_t *tl, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(tl->json, "items"), i);
}

/* Creates a staff user (password TH_PASS so th_token works); returns its id. */
static void make_user(const char *username, const char *role, const char *dept, char id[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"display_name\":\"%s\",\"role\":\"%s\","
             "\"department_id\":\"%s\",\"password\":\"%s\",\"project_ids\":[\"%s\"]}",
             username, username, role, dept, TH_PASS, project);
    th_resp_t *r = th_req("POST", "/v1/users", th_token("admin"), body, NULL);
    if (r->status != 201)
        fail_msg("create user %s: %ld %s", username, r->status, r->body);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
    assert_int_equal(strlen(id), 36);
}

static int list_has(const th_resp_t *r, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), id))
            return 1;
    }
    return 0;
}

static int list_count(const th_resp_t *r)
{
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    return cJSON_IsArray(items) ? cJSON_GetArraySize(items) : -1;
}

/* ---------------------------------------------------------------- threaded client */

/* One call on its own connection (th_req_mt); returns the status (0 on transport failure),
 * *out gets the body (free it). */
static long mt_call(const char *method, const char *path, const char *token, const char *body,
                    const char *if_match, char **out)
{
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", if_match ? if_match : "");
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req_mt(method, path, token, body, if_match ? h : NULL);
    long st = r->status;
    *out = strdup(r->body);
    th_free(r);
    return st;
}

/* ================================================================ 1. complaint */

static void test_phone_complaint_to_closed(void **state)
{
    (void)state;
    char body[2048], id[40];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"important\","
             "\"location\":{\"unit_id\":\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},"
             "\"title\":\"保洁不到位\",\"description\":\"楼道三天没有打扫，垃圾堆积\"}",
             unit101, res_zw);
    th_resp_t *r = CREATE("agent", body, id);
    assert_string_equal(th_js(r->json, "type"), "complaint");
    assert_string_equal(th_js(r->json, "channel"), "phone");
    assert_string_equal(th_js(r->json, "severity"), "important");
    assert_string_equal(th_js(r->json, "validity"), "unknown");
    assert_string_equal(th_js(r->json, "project_id"), project);
    assert_string_equal(th_js(r->json, "location.kind"), "unit");
    assert_string_equal(th_js(r->json, "location.unit_id"), unit101);
    assert_string_equal(th_js(r->json, "reporter.resident_id"), res_zw);
    assert_string_equal(th_js(r->json, "reporter.name"), "张伟");
    assert_string_equal(th_js(r->json, "reporter.phone"), "13800138001");
    assert_string_equal(th_js(r->json, "description"), "楼道三天没有打扫，垃圾堆积");
    assert_int_equal(strncmp(th_js(r->json, "number"), "TS-", 3), 0);
    assert_false(th_jtrue(r->json, "night_desk"));
    assert_true(th_jnull(r->json, "resolved_at"));
    assert_true(th_jnull(r->json, "closed_at"));
    assert_true(th_jnull(r->json, "work_order"));
    time_t received = th_parse_utc(th_js(r->json, "received_at"));
    assert_true(received > 0 && labs((long)(received - time(NULL))) < 30);
    char loc[200];
    snprintf(loc, sizeof loc, "/v1/requests/%s", id);
    assert_non_null(th_header(r, "Location"));
    assert_string_equal(th_header(r, "Location"), loc);
    th_free(r);

    /* GET returns the same request with its ETag. */
    r = th_get_request("agent", id);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_header(r, "ETag"), "\"1\"");
    assert_string_equal(th_js(r->json, "id"), id);
    assert_string_equal(th_js(r->json, "state"), "received");
    th_free(r);

    /* The desk judges it a valid complaint about timeliness. */
    r = patch("agent", id, 1, "{\"category\":\"quality\",\"validity\":\"valid\"}");
    check_write_at(__LINE__, r, 2, "received");
    assert_string_equal(th_js(r->json, "category"), "quality");
    assert_string_equal(th_js(r->json, "validity"), "valid");
    th_free(r);

    /* A complaint the desk answers itself is resolved without a work order. */
    EXPECT_PROBLEM(act("agent", id, "resolve", 2, "{}"), 422, "missing_field"); /* resolution */
    r = OK_ACT("agent", id, "resolve", 2, "{\"resolution\":\"已安排保洁当天清理并致歉\"}",
               "resolved");
    assert_string_equal(th_js(r->json, "resolution"), "已安排保洁当天清理并致歉");
    time_t resolved = th_parse_utc(th_js(r->json, "resolved_at"));
    assert_true(resolved >= received);
    assert_true(th_jnull(r->json, "closed_at"));
    th_free(r);

    /* A valid complaint needs its callback before it closes. */
    EXPECT_PROBLEM(act("agent", id, "close", 3, NULL), 409, "callback_required");
    DO_ACT("agent", id, "start_callback", 3, NULL, "callback");
    EXPECT_PROBLEM(act("agent", id, "callback_result", 4, "{}"), 422, "missing_field");
    /* An important complaint is called back by a supervisor or above (RULES §3.1.3). */
    EXPECT_PROBLEM(act("agent", id, "callback_result", 4, "{\"rating\":\"satisfied\"}"), 403,
                   "supervisor_required");
    r = OK_ACT("supervisor", id, "callback_result", 4,
               "{\"satisfied\":true,\"rating\":\"satisfied\"}", "closed");
    time_t closed = th_parse_utc(th_js(r->json, "closed_at"));
    assert_true(closed >= resolved);
    assert_int_equal(th_parse_utc(th_js(r->json, "resolved_at")), resolved);
    assert_int_equal(th_jn(r->json, "reopen_count"), 0);
    assert_int_equal(th_jn(r->json, "escalation_level"), 0);
    th_free(r);

    r = th_get_request("agent", id);
    assert_string_equal(th_header(r, "ETag"), "\"5\"");
    assert_string_equal(th_js(r->json, "state"), "closed");
    th_free(r);
    const char *v[] = {id};
    assert_string_equal(th_sql1("SELECT state || version FROM requests WHERE id = $1", v, 1),
                        "closed5");

    EXPECT_TIMELINE(id, "create", "update", "resolve", "start_callback", "callback_result");
    r = th_get_timeline("agent", id);
    static const char *const from[] = {NULL, "received", "received", "resolved", "callback"};
    static const char *const to[] = {"received", "received", "resolved", "callback", "closed"};
    for (int i = 0; i < 5; i++) {
        const cJSON *it = timeline_item(r, i);
        if (from[i])
            assert_string_equal(th_js(it, "from_state"), from[i]);
        else
            assert_true(th_jnull(it, "from_state"));
        assert_string_equal(th_js(it, "to_state"), to[i]);
        /* the important complaint's callback was the supervisor's */
        assert_string_equal(th_js(it, "actor_id"), i == 4 ? uid_super : uid_agent);
        assert_string_equal(th_js(it, "actor_role"), i == 4 ? "supervisor" : "agent");
        assert_string_equal(th_js(it, "channel"), "phone");
    }
    th_free(r);
    /* A closed request can no longer be edited. */
    EXPECT_PROBLEM(patch("agent", id, 5, "{\"title\":\"x\"}"), 409, "invalid_transition");
}

/* ================================================================ 2. unit repair sign-off */

static void test_unit_repair_signoff_rules(void **state)
{
    (void)state;
    char id[40], b[512];
    new_unit_request("repair", "phone", "卫生间水龙头坏了", id);

    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    th_resp_t *r = OK_ACT("agent", id, "dispatch", 1, b, "dispatched");
    assert_string_equal(th_js(r->json, "department_id"), dept_eng);
    assert_string_equal(th_js(r->json, "work_order.state"), "dispatched");
    assert_string_equal(th_js(r->json, "work_order.department_id"), dept_eng);
    assert_true(th_jnull(r->json, "work_order.assignee_id"));
    char gd[16];
    snprintf(gd, sizeof gd, "GD-%d-", shanghai_year());
    assert_int_equal(strncmp(th_js(r->json, "work_order.number"), gd, strlen(gd)), 0);
    th_free(r);

    r = OK_ACT("technician", id, "accept", 2, NULL, "accepted");
    assert_string_equal(th_js(r->json, "work_order.state"), "accepted");
    assert_string_equal(th_js(r->json, "work_order.assignee_id"), uid_tech);
    assert_string_equal(th_js(r->json, "assignee_id"), uid_tech);
    assert_false(th_jnull(r->json, "work_order.accepted_at"));
    th_free(r);
    /* Signing before the result is reported is refused. */
    r = OK_ACT("technician", id, "arrive", 3, NULL, "on_site");
    assert_string_equal(th_js(r->json, "work_order.state"), "on_site");
    assert_false(th_jnull(r->json, "work_order.arrived_at"));
    th_free(r);
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}", res_zw);
    EXPECT_PROBLEM(act("agent", id, "sign_off", 4, b), 409, "work_not_reported");
    EXPECT_PROBLEM(act("technician", id, "report_result", 4, "{}"), 422, "missing_field");
    r = OK_ACT("technician", id, "report_result", 4, "{\"result\":\"更换水龙头阀芯\"}", "on_site");
    assert_string_equal(th_js(r->json, "work_order.state"), "done_unsigned");
    assert_string_equal(th_js(r->json, "work_order.result"), "更换水龙头阀芯");
    th_free(r);

    /* Unqualified signers: staff for a unit; a minor of the household; a resident of
     * another unit.  Each refusal changes nothing. */
    char *before = snap(id);
    const char *bad[3];
    char b1[256], b2[256], b3[256];
    snprintf(b1, sizeof b1, "{\"signer\":{\"kind\":\"staff\",\"user_id\":\"%s\"}}", uid_super);
    snprintf(b2, sizeof b2, "{\"signer\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}", res_xm);
    snprintf(b3, sizeof b3, "{\"signer\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}", res_ln);
    bad[0] = b1;
    bad[1] = b2;
    bad[2] = b3;
    for (int i = 0; i < 3; i++) {
        EXPECT_PROBLEM(act("agent", id, "sign_off", 5, bad[i]), 422, "signer_not_qualified");
        EXPECT_UNCHANGED(id, before);
    }
    /* A signer that is not a signer object at all. */
    EXPECT_PROBLEM(act("agent", id, "sign_off", 5, "{\"signer\":{\"kind\":\"neighbour\"}}"), 422,
                   "invalid_field");
    EXPECT_PROBLEM(act("agent", id, "sign_off", 5, NULL), 422, "invalid_field");
    EXPECT_UNCHANGED(id, before);
    /* 李娜 with her own token cannot even see 1-101's request. */
    EXPECT_PROBLEM(act("resident2", id, "sign_off", 5, NULL), 404, "not_found");
    EXPECT_UNCHANGED(id, before);
    free(before);
    /* A repair is not "resolved" by the desk: only by a sign-off. */
    EXPECT_PROBLEM(act("agent", id, "resolve", 5, "{\"resolution\":\"修好了\"}"), 409,
                   "signoff_required");

    /* 张伟, an adult of the household, signs the paper; the agent records it. */
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}", res_zw);
    r = OK_ACT("agent", id, "sign_off", 5, b, "resolved");
    assert_string_equal(th_js(r->json, "work_order.state"), "signed_off");
    assert_string_equal(th_js(r->json, "work_order.signer.kind"), "resident");
    assert_string_equal(th_js(r->json, "work_order.signer.resident_id"), res_zw);
    assert_string_equal(th_js(r->json, "work_order.signer.name"), "张伟");
    assert_false(th_jnull(r->json, "work_order.signed_at"));
    assert_false(th_jnull(r->json, "resolved_at"));
    th_free(r);
    EXPECT_TIMELINE(id, "create", "dispatch", "accept", "arrive", "report_result", "sign_off");
    r = th_get_timeline("agent", id);
    const cJSON *so = timeline_item(r, 5);
    assert_string_equal(th_js(so, "from_state"), "on_site");
    assert_string_equal(th_js(so, "to_state"), "resolved");
    assert_string_equal(th_js(so, "details.signer_name"), "张伟");
    assert_string_equal(th_js(timeline_item(r, 2), "actor_role"), "technician");
    assert_string_equal(th_js(timeline_item(r, 2), "actor_id"), uid_tech);
    th_free(r);
    /* Signed once is signed. */
    EXPECT_PROBLEM(act("agent", id, "sign_off", 6, b), 409, "invalid_transition");

    /* On another request 张伟 signs with his own account (no signer object needed). */
    char id2[40];
    new_unit_request("repair", "visit", "阳台地漏堵塞", id2);
    repair_to_reported(id2);
    r = OK_ACT("resident", id2, "sign_off", 5, NULL, "resolved");
    assert_string_equal(th_js(r->json, "work_order.signer.kind"), "resident");
    assert_string_equal(th_js(r->json, "work_order.signer.resident_id"), res_zw);
    th_free(r);
    r = th_get_timeline("agent", id2);
    assert_string_equal(th_js(timeline_item(r, 5), "actor_role"), "resident");
    assert_string_equal(th_js(timeline_item(r, 5), "actor_id"), uid_resident);
    th_free(r);
}

/* ================================================================ 3. resolve / other dept */

static void test_repair_needs_signoff_and_department(void **state)
{
    (void)state;
    char id[40], b[256];
    new_unit_request("repair", "phone", "客厅灯不亮", id);
    char *before = snap(id);
    EXPECT_PROBLEM(act("agent", id, "resolve", 1, "{\"resolution\":\"电话指导\"}"), 409,
                   "signoff_required");
    EXPECT_UNCHANGED(id, before);
    free(before);

    /* A technician of 保安部 and a second technician of 工程部. */
    char tech_sec[40], tech_eng2[40];
    make_user("tech.sec", "technician", dept_sec, tech_sec);
    make_user("tech.eng2", "technician", dept_eng, tech_eng2);

    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    DO_ACT("agent", id, "dispatch", 1, b, "dispatched");
    EXPECT_PROBLEM(act("agent", id, "resolve", 2, "{\"resolution\":\"x\"}"), 409,
                   "signoff_required");

    /* Another department's technician does not see the work order at all. */
    before = snap(id);
    EXPECT_PROBLEM(act("tech.sec", id, "accept", 2, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_get_request("tech.sec", id), 404, "not_found");
    EXPECT_PROBLEM(th_get_timeline("tech.sec", id), 404, "not_found");
    th_resp_t *r = th_req("GET", "/v1/requests?limit=200", th_token("tech.sec"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_false(list_has(r, id));
    th_free(r);
    EXPECT_UNCHANGED(id, before);
    free(before);

    /* A technician of the department may not resolve, only accept / arrive / report. */
    EXPECT_PROBLEM(act("technician", id, "resolve", 2, "{\"resolution\":\"x\"}"), 403,
                   "forbidden_role");
    EXPECT_PROBLEM(act("technician", id, "dispatch", 2, b), 403, "forbidden_role");
    DO_ACT("technician", id, "accept", 2, NULL, "accepted");
    /* Once accepted, only the assignee goes on. */
    before = snap(id);
    EXPECT_PROBLEM(act("tech.eng2", id, "arrive", 3, NULL), 403, "not_assignee");
    EXPECT_UNCHANGED(id, before);
    free(before);
    DO_ACT("technician", id, "arrive", 3, NULL, "on_site");
    DO_ACT("technician", id, "report_result", 4, "{\"result\":\"更换灯泡\"}", "on_site");
    EXPECT_PROBLEM(act("agent", id, "resolve", 5, "{\"resolution\":\"x\"}"), 409,
                   "signoff_required");

    /* Dispatching with a named assignee that is not in the department is refused. */
    char id2[40];
    new_unit_request("repair", "phone", "门禁卡失灵", id2);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng, tech_sec);
    EXPECT_PROBLEM(act("agent", id2, "dispatch", 1, b), 422, "invalid_field");
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng, tech_eng2);
    r = OK_ACT("agent", id2, "dispatch", 1, b, "dispatched");
    assert_string_equal(th_js(r->json, "work_order.assignee_id"), tech_eng2);
    th_free(r);
    EXPECT_PROBLEM(act("technician", id2, "accept", 2, NULL), 403, "not_assignee");
    DO_ACT("tech.eng2", id2, "accept", 2, NULL, "accepted");
}

/* ================================================================ 4. common-area sign-off */

/* The desk re-dispatches an open work order (wrong technician, or the work refused at
 * sign-off): the old order is cancelled, a new one dispatched, the timeline says which. */
static void test_redispatch_work_order(void **state)
{
    (void)state;
    char id[40], b[256], wo1[40], wo2[40], path[128];
    new_unit_request("repair", "phone", "改派测试：卫生间地漏堵塞", id);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    EXPECT_PROBLEM(act("agent", id, "redispatch", 1, b), 409, "invalid_transition"); /* none yet */
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng, uid_tech);
    th_resp_t *r = OK_ACT("agent", id, "dispatch", 1, b, "dispatched");
    snprintf(wo1, sizeof wo1, "%s", th_js(r->json, "work_order.id"));
    th_free(r);
    DO_ACT("technician", id, "accept", 2, NULL, "accepted");

    /* Who may, and with what. */
    EXPECT_PROBLEM(act("technician", id, "redispatch", 3, b), 403, NULL);
    EXPECT_PROBLEM(act("agent", id, "redispatch", 3, "{}"), 422, "missing_field");
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", other_dept);
    EXPECT_PROBLEM(act("agent", id, "redispatch", 3, b), 422, "invalid_field");
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng, uid_sec);
    EXPECT_PROBLEM(act("agent", id, "redispatch", 3, b), 422, "invalid_field");

    /* To the department without a named technician: any of its technicians takes it. */
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    r = OK_ACT("agent", id, "redispatch", 3, b, "dispatched");
    snprintf(wo2, sizeof wo2, "%s", th_js(r->json, "work_order.id"));
    assert_string_not_equal(wo1, wo2);
    assert_string_equal(th_js(r->json, "work_order.state"), "dispatched");
    assert_true(th_jnull(r->json, "assignee_id"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/work-orders/%s", wo1);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "cancelled");
    th_free(r);
    const cJSON *ev = NULL;
    snprintf(path, sizeof path, "/v1/requests/%s/timeline", id);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    const cJSON *items = cJSON_IsArray(r->json) ? r->json : cJSON_GetObjectItem(r->json, "items");
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, items)
    {
        if (!strcmp(th_js(it, "action"), "redispatch")) {
            ev = it;
            n++;
        }
    }
    assert_int_equal(n, 1);
    assert_string_equal(th_js(ev, "details.cancelled_work_order_id"), wo1);
    assert_string_equal(th_js(ev, "to_state"), "dispatched");
    th_free(r);

    /* The work is done but refused at sign-off: sent again, then done and signed. */
    DO_ACT("technician", id, "accept", 4, NULL, "accepted");
    DO_ACT("technician", id, "arrive", 5, NULL, "on_site");
    DO_ACT("technician", id, "report_result", 6, "{\"result\":\"疏通地漏\"}", "on_site");
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    DO_ACT("agent", id, "redispatch", 7, b, "dispatched");
    DO_ACT("technician", id, "accept", 8, NULL, "accepted");
    DO_ACT("technician", id, "arrive", 9, NULL, "on_site");
    DO_ACT("technician", id, "report_result", 10, "{\"result\":\"更换地漏芯\"}", "on_site");
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}", res_zw);
    DO_ACT("agent", id, "sign_off", 11, b, "resolved");
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    EXPECT_PROBLEM(act("agent", id, "redispatch", 12, b), 409, "invalid_transition");
    assert_int_equal(atoi(th_sql1("SELECT count(*) FROM work_orders WHERE request_id = $1 AND "
                                  "state = 'cancelled'",
                                  (const char *const[]){id}, 1)),
                     2);
}

static void test_common_area_signoff_by_reporting_department(void **state)
{
    (void)state;
    char id[40], b[256];
    new_common_repair("security", "电梯厅照明损坏", id);
    th_resp_t *r = th_get_request("agent", id);
    assert_string_equal(th_js(r->json, "location.kind"), "common_area");
    assert_string_equal(th_js(r->json, "location.common_area"), "1栋电梯厅");
    assert_true(th_jnull(r->json, "location.unit_id"));
    assert_string_equal(th_js(r->json, "reporting_department_kind"), "security");
    th_free(r);
    repair_to_reported(id);

    char leader[40];
    make_user("sec.leader", "supervisor", dept_sec, leader);

    char *before = snap(id);
    /* A plain guard is not a team leader; a customer-service agent is not security; a
     * resident cannot sign for a common facility; a technician is not of security. */
    const char *signers[] = {uid_sec, uid_agent, uid_super, uid_tech};
    for (size_t i = 0; i < sizeof signers / sizeof signers[0]; i++) {
        snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"staff\",\"user_id\":\"%s\"}}", signers[i]);
        EXPECT_PROBLEM(act("security", id, "sign_off", 5, b), 422, "signer_not_qualified");
        EXPECT_UNCHANGED(id, before);
    }
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}", res_zw);
    EXPECT_PROBLEM(act("agent", id, "sign_off", 5, b), 422, "signer_not_qualified");
    /* An unknown staff id. */
    EXPECT_PROBLEM(act("agent", id, "sign_off", 5,
                       "{\"signer\":{\"kind\":\"staff\",\"user_id\":"
                       "\"00000000-0000-4000-8000-000000000001\"}}"),
                   422, "signer_not_qualified");
    EXPECT_UNCHANGED(id, before);
    free(before);

    /* The security team leader qualifies; the guard records the paper. */
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"staff\",\"user_id\":\"%s\"}}", leader);
    r = OK_ACT("security", id, "sign_off", 5, b, "resolved");
    assert_string_equal(th_js(r->json, "work_order.signer.kind"), "staff");
    assert_string_equal(th_js(r->json, "work_order.signer.user_id"), leader);
    assert_string_equal(th_js(r->json, "work_order.signer.name"), "sec.leader");
    th_free(r);

    /* Reported by customer service: an agent of 客服部 qualifies, a guard does not. */
    char id2[40];
    new_common_repair("customer_service", "大堂门禁闸机卡顿", id2);
    repair_to_reported(id2);
    before = snap(id2);
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"staff\",\"user_id\":\"%s\"}}", uid_sec);
    EXPECT_PROBLEM(act("agent", id2, "sign_off", 5, b), 422, "signer_not_qualified");
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"staff\",\"user_id\":\"%s\"}}", uid_tech);
    EXPECT_PROBLEM(act("agent", id2, "sign_off", 5, b), 422, "signer_not_qualified");
    EXPECT_UNCHANGED(id2, before);
    free(before);
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"staff\",\"user_id\":\"%s\"}}", uid_agent);
    r = OK_ACT("agent", id2, "sign_off", 5, b, "resolved");
    assert_string_equal(th_js(r->json, "work_order.signer.user_id"), uid_agent);
    th_free(r);

    /* A director stands over every department. */
    char id3[40];
    new_common_repair("security", "地库道闸损坏", id3);
    repair_to_reported(id3);
    snprintf(b, sizeof b, "{\"signer\":{\"kind\":\"staff\",\"user_id\":\"%s\"}}", uid_director);
    DO_ACT("agent", id3, "sign_off", 5, b, "resolved");
}

/* ================================================================ 5. night desk */

static void test_night_desk_handover(void **state)
{
    (void)state;
    time_t now = time(NULL);
    time_t night = (now / 86400) * 86400 - 1800; /* yesterday 23:30 UTC */
    char at[40], body[1024], id[40];
    th_iso_utc(night, at);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"night_desk\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"夜间水管爆裂，已关总阀\","
             "\"occurred_at\":\"%s\"}",
             unit101, res_zw, at);
    th_resp_t *r = CREATE("security", body, id);
    assert_true(th_jtrue(r->json, "night_desk"));
    assert_string_equal(th_js(r->json, "channel"), "night_desk");
    assert_int_equal(th_parse_utc(th_js(r->json, "received_at")), night);
    assert_true(th_jnull(r->json, "handed_over_at"));
    th_free(r);
    r = th_get_timeline("agent", id);
    assert_string_equal(th_js(timeline_item(r, 0), "actor_role"), "security");
    assert_true(th_jtrue(timeline_item(r, 0), "details.night_desk"));
    assert_int_equal(th_parse_utc(th_js(timeline_item(r, 0), "occurred_at")), night);
    th_free(r);

    /* The guard may not run the desk's workflow (dispatching at night aside:
     * test_request_flow.c). */
    char b[128];
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    EXPECT_PROBLEM(act("security", id, "reject", 1, "{\"explanation\":\"不受理\"}"), 403,
                   "forbidden_role");

    /* In the morning the desk takes it over. */
    r = OK_ACT("agent", id, "handover", 1, NULL, "received");
    time_t ho = th_parse_utc(th_js(r->json, "handed_over_at"));
    assert_true(ho > night && labs((long)(ho - time(NULL))) < 30);
    th_free(r);
    r = th_get_timeline("agent", id);
    const cJSON *it = timeline_item(r, 1);
    assert_string_equal(th_js(it, "action"), "handover");
    assert_string_equal(th_js(it, "from_state"), "received");
    assert_string_equal(th_js(it, "to_state"), "received");
    assert_string_equal(th_js(it, "actor_id"), uid_agent);
    th_free(r);

    char *before = snap(id);
    EXPECT_PROBLEM(act("agent", id, "handover", 2, NULL), 409, "already_handed_over");
    EXPECT_UNCHANGED(id, before);
    free(before);
    DO_ACT("agent", id, "dispatch", 2, b, "dispatched");

    /* Not a night-desk request: nothing to hand over. */
    char id2[40];
    new_unit_request("repair", "phone", "白天来电报修", id2);
    before = snap(id2);
    EXPECT_PROBLEM(act("agent", id2, "handover", 1, NULL), 409, "not_night_desk");
    EXPECT_UNCHANGED(id2, before);
    free(before);
}

/* A phone call taken by the night desk (监控中心) is a night-desk request too: the API
 * accepts night_desk:true on any channel and the request says so, so it must be possible
 * to hand it over in the morning (SPEC §3 step 1). */
static void test_night_desk_flag_on_phone_channel_hands_over(void **state)
{
    (void)state;
    char body[1024], id[40];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"night_desk\":true,"
             "\"location\":{\"unit_id\":\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},"
             "\"description\":\"深夜楼上装修噪音\"}",
             unit101, res_zw);
    th_resp_t *r = CREATE("security", body, id);
    assert_true(th_jtrue(r->json, "night_desk"));
    assert_string_equal(th_js(r->json, "channel"), "phone");
    th_free(r);
    r = OK_ACT("agent", id, "handover", 1, NULL, "received");
    assert_false(th_jnull(r->json, "handed_over_at"));
    th_free(r);
}

/* ================================================================ 6. paper records */

static void test_paper_record_times(void **state)
{
    (void)state;
    time_t now = time(NULL);
    time_t t0 = now - 2 * 3600, t1 = now - 3600;
    char at0[40], at1[40], body[1024], id[40];
    iso_cst(t0, at0); /* written with the project's offset */
    th_iso_utc(t1, at1);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"visit\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"纸质登记：厨房下水慢\","
             "\"occurred_at\":\"%s\"}",
             unit101, res_zw, at0);
    th_resp_t *r = CREATE("agent", body, id);
    assert_int_equal(th_parse_utc(th_js(r->json, "received_at")), t0);
    th_free(r);
    r = th_get_timeline("agent", id);
    const cJSON *e0 = timeline_item(r, 0);
    assert_int_equal(th_parse_utc(th_js(e0, "occurred_at")), t0);
    time_t rec0 = th_parse_utc(th_js(e0, "recorded_at"));
    assert_true(rec0 > t0 && rec0 >= now - 5);
    assert_true(th_jtrue(e0, "details.paper_record"));
    th_free(r);

    /* The dispatch happened an hour ago, on paper. */
    char b[256];
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"occurred_at\":\"%s\"}", dept_eng, at1);
    r = OK_ACT("agent", id, "dispatch", 1, b, "dispatched");
    assert_int_equal(th_parse_utc(th_js(r->json, "work_order.dispatched_at")), t1);
    th_free(r);
    r = th_get_timeline("agent", id);
    const cJSON *e1 = timeline_item(r, 1);
    assert_int_equal(th_parse_utc(th_js(e1, "occurred_at")), t1);
    assert_true(th_parse_utc(th_js(e1, "recorded_at")) >= now - 5);
    assert_true(th_jtrue(e1, "details.paper_record"));
    assert_true(th_jnull(e1, "details.occurred_at"));
    th_free(r);

    /* Never in the future, never before the previous event; nothing changes. */
    char *before = snap(id);
    char fut[40], early[40];
    th_iso_utc(now + 3600, fut);
    th_iso_utc(t0 + 600, early); /* after creation but before the dispatch */
    snprintf(b, sizeof b, "{\"occurred_at\":\"%s\"}", fut);
    EXPECT_PROBLEM(act("agent", id, "accept", 2, b), 422, "occurred_in_future");
    EXPECT_UNCHANGED(id, before);
    snprintf(b, sizeof b, "{\"occurred_at\":\"%s\"}", early);
    EXPECT_PROBLEM(act("agent", id, "accept", 2, b), 422, "occurred_before_previous_event");
    EXPECT_UNCHANGED(id, before);
    EXPECT_PROBLEM(act("agent", id, "accept", 2, "{\"occurred_at\":\"yesterday\"}"), 422,
                   "invalid_field");
    EXPECT_UNCHANGED(id, before);
    /* Residents cannot back-date anything. */
    EXPECT_PROBLEM(act("resident", id, "sign_off", 2, b), 422, "invalid_field");
    EXPECT_UNCHANGED(id, before);
    free(before);
    /* The same moment as the previous event is fine. */
    snprintf(b, sizeof b, "{\"occurred_at\":\"%s\"}", at1);
    r = OK_ACT("agent", id, "accept", 2, b, "accepted");
    assert_int_equal(th_parse_utc(th_js(r->json, "work_order.accepted_at")), t1);
    th_free(r);
    EXPECT_TIMELINE(id, "create", "dispatch", "accept");

    /* A paper record cannot be dated in the future at creation either. */
    char *tot = db_totals();
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"letter\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"来函咨询\","
             "\"occurred_at\":\"%s\"}",
             unit101, res_zw, fut);
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", th_token("agent"), body, NULL), 422,
                   "occurred_in_future");
    char *tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot);
    free(tot2);
}

/* A device clock a little ahead is tolerated at intake (CORE_REQUEST_CLOCK_SKEW_S), but
 * that must not make the desk's very next, real-time action "before the previous event". */
static void test_clock_skew_does_not_block_next_action(void **state)
{
    (void)state;
    char at[40], body[1024], id[40], b[128];
    th_iso_utc(time(NULL) + 40, at);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"visit\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"平板登记：窗户关不上\","
             "\"occurred_at\":\"%s\"}",
             unit101, res_zw, at);
    th_resp_t *r = CREATE("agent", body, id);
    time_t received = th_parse_utc(th_js(r->json, "received_at"));
    th_free(r);
    /* The desk dispatches at once, without giving a time. */
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    DO_ACT("agent", id, "dispatch", 1, b, "dispatched");
    /* Never stored in the future. */
    assert_true(received <= time(NULL) + 1);
}

/* ================================================================ 7. visibility */

static void test_visibility(void **state)
{
    (void)state;
    char body[1024], b[256];
    char r1[40], r2[40], r3[40], r4[40], r5[40];
    /* r1: agent, for 1-101, 张伟's record. */
    new_unit_request("complaint", "phone", "可见性测试：电梯噪音", r1);
    /* r2: 张伟 through the app himself. */
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"location\":{\"unit_id\":\"%s\"},"
             "\"description\":\"可见性测试：门铃坏了\"}",
             unit101);
    th_resp_t *r = CREATE("resident", body, r2);
    assert_string_equal(th_js(r->json, "channel"), "app");
    assert_string_equal(th_js(r->json, "reporter.resident_id"), res_zw);
    assert_string_equal(th_js(r->json, "reporter.user_id"), uid_resident);
    th_free(r);
    /* r3: 李娜 for her own unit 2-101. */
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"location\":{\"unit_id\":\"%s\"},"
             "\"description\":\"可见性测试：空调漏风\"}",
             unit2101);
    th_free(CREATE("resident2", body, r3));
    /* r4: a free-text reporter with a phone number. */
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"project_id\":\"%s\","
             "\"location\":{\"common_area\":\"南门\"},\"reporter\":{\"name\":\"王先生\","
             "\"phone\":\"13812345678\"},\"description\":\"可见性测试：快递柜位置\"}",
             project);
    th_free(CREATE("agent", body, r4));
    /* r7: 张伟 reports a common area of his project through the app. */
    char r7[40];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"project_id\":\"%s\",\"location\":{\"common_area\":"
             "\"3号楼道\"},\"description\":\"可见性测试：楼道灯不亮\"}",
             project);
    r = CREATE("resident", body, r7);
    assert_string_equal(th_js(r->json, "reporter.user_id"), uid_resident);
    th_free(r);
    r = th_get_request("resident", r7);
    EXPECT_STATUS(r, 200);
    th_free(r);
    EXPECT_PROBLEM(th_get_request("resident2", r7), 404, "not_found");
    /* r5: dispatched to 保安部. */
    new_unit_request("repair", "phone", "可见性测试：单元门禁", r5);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_sec);
    DO_ACT("agent", r5, "dispatch", 1, b, "dispatched");

    /* 李娜 (2-101) sees nothing of 1-101. */
    char *before1 = snap(r1);
    EXPECT_PROBLEM(th_get_request("resident2", r1), 404, "not_found");
    EXPECT_PROBLEM(th_get_request("resident2", r2), 404, "not_found");
    EXPECT_PROBLEM(th_get_timeline("resident2", r1), 404, "not_found");
    r = th_req("GET", "/v1/requests?limit=200", th_token("resident2"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_false(list_has(r, r1));
    assert_false(list_has(r, r2));
    assert_false(list_has(r, r4));
    assert_true(list_has(r, r3));
    th_free(r);
    r = th_req("GET", "/v1/requests?q=%E9%97%A8%E9%93%83", th_token("resident2"), NULL, NULL);
    EXPECT_STATUS(r, 200); /* q=门铃 finds nothing of another household */
    assert_int_equal(list_count(r), 0);
    th_free(r);
    char *tot = db_totals();
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"location\":{\"unit_id\":\"%s\"},"
             "\"description\":\"替别人报修\"}",
             unit101);
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", th_token("resident2"), body, NULL), 404,
                   "not_found");
    char *tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot2);
    EXPECT_UNCHANGED(r1, before1);

    /* 张伟 sees his unit's requests, however they came in, and not 李娜's. */
    r = th_get_request("resident", r1);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "reporter.phone"), "13800138001");
    th_free(r);
    r = th_req("GET", "/v1/requests?limit=200", th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, r1));
    assert_true(list_has(r, r2));
    assert_false(list_has(r, r3));
    assert_false(list_has(r, r4));
    th_free(r);
    EXPECT_PROBLEM(th_get_request("resident", r3), 404, "not_found");
    /* ... but he cannot edit or run the workflow. */
    EXPECT_PROBLEM(patch("resident", r1, 1, "{\"title\":\"改个标题\"}"), 403, "forbidden");
    EXPECT_PROBLEM(act("resident", r1, "resolve", 1, "{\"resolution\":\"x\"}"), 403,
                   "forbidden_role");
    EXPECT_UNCHANGED(r1, before1);

    /* The technician (工程部) sees only work dispatched to 工程部. */
    EXPECT_PROBLEM(th_get_request("technician", r1), 404, "not_found");
    EXPECT_PROBLEM(th_get_request("technician", r5), 404, "not_found");
    r = th_req("GET", "/v1/requests?limit=200", th_token("technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_false(list_has(r, r1));
    assert_false(list_has(r, r5));
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        assert_string_equal(th_js(it, "department_id"), dept_eng);
    }
    th_free(r);
    char r6[40];
    new_unit_request("repair", "phone", "可见性测试：热水器", r6);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    DO_ACT("agent", r6, "dispatch", 1, b, "dispatched");
    r = th_get_request("technician", r6);
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = th_req("GET", "/v1/requests?limit=200", th_token("technician"), NULL, NULL);
    assert_true(list_has(r, r6));
    th_free(r);
    free(tot);
    tot = db_totals();

    /* Another organisation: 404 everywhere, never in lists. */
    th_resp_t *x = th_get_request("other.agent", r1);
    EXPECT_PROBLEM(x, 404, "not_found");
    EXPECT_PROBLEM(th_get_timeline("other.agent", r1), 404, "not_found");
    EXPECT_PROBLEM(act_raw(th_token("other.agent"), r1, "resolve", 1, "{\"resolution\":\"x\"}"),
                   404, "not_found");
    char path[128], im[] = "If-Match: \"1\"";
    const char *h[] = {im, NULL};
    snprintf(path, sizeof path, "/v1/requests/%s", r1);
    EXPECT_PROBLEM(th_req("PATCH", path, th_token("other.agent"), "{\"title\":\"x\"}", h), 404,
                   "not_found");
    r = th_req("GET", "/v1/requests?limit=200", th_token("other.agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_false(list_has(r, r1));
    assert_false(list_has(r, r4));
    th_free(r);
    /* ... and it cannot register into this organisation's unit. */
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"x\"},\"description\":\"越权\"}",
             unit101);
    r = th_req("POST", "/v1/requests", th_token("other.agent"), body, NULL);
    assert_true(r->status == 404 || r->status == 422);
    th_free(r);
    tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot2);
    free(tot);
    EXPECT_UNCHANGED(r1, before1);

    /* The clerk has no business with requests. */
    EXPECT_PROBLEM(th_req("GET", "/v1/requests", th_token("clerk"), NULL, NULL), 403, "forbidden");
    EXPECT_PROBLEM(th_get_request("clerk", r1), 403, "forbidden");

    /* The auditor reads everything, masked, and changes nothing. */
    r = th_get_request("auditor", r4);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "reporter.phone"), "138****5678");
    assert_string_equal(th_js(r->json, "reporter.name"), "王先生");
    th_free(r);
    r = th_get_request("auditor", r1);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "reporter.phone"), "138****8001");
    th_free(r);
    r = th_get_timeline("auditor", r1);
    EXPECT_STATUS(r, 200);
    assert_true(list_count(r) >= 1);
    th_free(r);
    r = th_req("GET", "/v1/requests?limit=200", th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, r1));
    assert_true(list_has(r, r4));
    assert_null(strstr(r->body, "13812345678"));
    assert_null(strstr(r->body, "13800138001"));
    assert_non_null(strstr(r->body, "138****5678"));
    th_free(r);
    EXPECT_PROBLEM(act("auditor", r1, "resolve", 1, "{\"resolution\":\"x\"}"), 403, "forbidden");
    EXPECT_PROBLEM(patch("auditor", r1, 1, "{\"title\":\"x\"}"), 403, "forbidden");
    EXPECT_UNCHANGED(r1, before1);
    free(before1);
    /* The desk sees the number in full. */
    r = th_get_request("agent", r4);
    assert_string_equal(th_js(r->json, "reporter.phone"), "13812345678");
    th_free(r);
    r = th_req("GET", "/v1/requests?limit=200", th_token("agent"), NULL, NULL);
    assert_non_null(strstr(r->body, "13812345678"));
    th_free(r);
}

/* ================================================================ 8. race */

typedef struct {
    const char *token, *path, *body;
    pthread_barrier_t *bar;
    long status;
    char *resp;
} race_t;

static void *race_thread(void *arg)
{
    race_t *t = arg;
    pthread_barrier_wait(t->bar);
    t->status = mt_call("POST", t->path, t->token, t->body, "\"1\"", &t->resp);
    return NULL;
}

static void *patch_thread(void *arg)
{
    race_t *t = arg;
    pthread_barrier_wait(t->bar);
    t->status = mt_call("PATCH", t->path, t->token, t->body, "\"1\"", &t->resp);
    return NULL;
}

static void test_concurrent_dispatch_one_wins(void **state)
{
    (void)state;
    const char *ta = th_token("agent"), *ts = th_token("supervisor");
    assert_non_null(ta);
    assert_non_null(ts);
    char b1[128], b2[128];
    snprintf(b1, sizeof b1, "{\"department_id\":\"%s\"}", dept_eng);
    snprintf(b2, sizeof b2, "{\"department_id\":\"%s\"}", dept_sec);
    for (int round = 0; round < 5; round++) {
        char id[40], path[200];
        new_unit_request("repair", "phone", "并发派单测试", id);
        snprintf(path, sizeof path, "/v1/requests/%s/actions/dispatch", id);
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        race_t t[2] = {{ta, path, b1, &bar, 0, NULL}, {ts, path, b2, &bar, 0, NULL}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, race_thread, &t[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&bar);
        int wins = 0, stale = 0, winner = -1;
        for (int i = 0; i < 2; i++) {
            if (t[i].status == 200) {
                wins++;
                winner = i;
            } else if ((t[i].status == 412 || t[i].status == 409) &&
                       strstr(t[i].resp, "\"code\"")) {
                stale++;
            }
        }
        if (wins != 1 || stale != 1)
            fail_msg("round %d: %ld %s / %ld %s", round, t[0].status, t[0].resp, t[1].status,
                     t[1].resp);
        const char *v[] = {id};
        assert_string_equal(th_sql1("SELECT count(*) FROM request_events WHERE request_id = $1 "
                                    "AND action = 'dispatch'",
                                    v, 1),
                            "1");
        assert_string_equal(th_sql1("SELECT count(*) FROM work_orders WHERE request_id = $1", v, 1),
                            "1");
        assert_string_equal(th_sql1("SELECT version || state FROM requests WHERE id = $1", v, 1),
                            "2dispatched");
        /* The stored department is the winner's. */
        assert_string_equal(th_sql1("SELECT department_id FROM requests WHERE id = $1", v, 1),
                            winner == 0 ? dept_eng : dept_sec);
        assert_string_equal(
            th_sql1("SELECT e.actor_id FROM request_events e WHERE request_id = $1 AND action = "
                    "'dispatch'",
                    v, 1),
            winner == 0 ? uid_agent : uid_super);
        free(t[0].resp);
        free(t[1].resp);
    }

    /* Two edits from the same version: the second writer must not silently overwrite the
     * first (an edit would be allowed twice by the state machine, so only If-Match stops
     * it). */
    for (int round = 0; round < 5; round++) {
        char id[40], path[200];
        new_unit_request("complaint", "phone", "并发编辑测试", id);
        snprintf(path, sizeof path, "/v1/requests/%s", id);
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        race_t t[2] = {{ta, path, "{\"title\":\"甲的标题\"}", &bar, 0, NULL},
                       {ts, path, "{\"title\":\"乙的标题\"}", &bar, 0, NULL}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, patch_thread, &t[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&bar);
        int winner = t[0].status == 200 ? 0 : t[1].status == 200 ? 1 : -1;
        if (winner < 0 || t[1 - winner].status != 412 ||
            !strstr(t[1 - winner].resp, "stale_version"))
            fail_msg("edit round %d: %ld %s / %ld %s", round, t[0].status, t[0].resp, t[1].status,
                     t[1].resp);
        const char *v[] = {id};
        assert_string_equal(
            th_sql1("SELECT version || ':' || title FROM requests WHERE id = $1", v, 1),
            winner == 0 ? "2:甲的标题" : "2:乙的标题");
        assert_string_equal(th_sql1("SELECT count(*) FROM request_events WHERE request_id = $1 "
                                    "AND action = 'update'",
                                    v, 1),
                            "1");
        free(t[0].resp);
        free(t[1].resp);
    }
}

/* ================================================================ 9. pend, reject, reopen */

static void test_pend_reject_reopen(void **state)
{
    (void)state;
    char id[40], b[256], until[40];
    time_t later = time(NULL) + 2 * 86400;
    th_iso_utc(later, until);

    /* pend / resume */
    new_unit_request("repair", "phone", "热水器需要换配件", id);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    DO_ACT("agent", id, "dispatch", 1, b, "dispatched");
    char *before = snap(id);
    EXPECT_PROBLEM(act("agent", id, "pend", 2, NULL), 422, "pending_reason_required");
    EXPECT_PROBLEM(act("agent", id, "pend", 2, "{\"pending_reason\":\"parts\"}"), 422,
                   "pending_until_required");
    char past[40];
    th_iso_utc(time(NULL) - 3600, past);
    snprintf(b, sizeof b, "{\"pending_reason\":\"parts\",\"pending_until\":\"%s\"}", past);
    EXPECT_PROBLEM(act("agent", id, "pend", 2, b), 422, "pending_until_required");
    snprintf(b, sizeof b, "{\"pending_reason\":\"weather\",\"pending_until\":\"%s\"}", until);
    EXPECT_PROBLEM(act("agent", id, "pend", 2, b), 422, "invalid_enum");
    EXPECT_PROBLEM(act("agent", id, "resume", 2, NULL), 409, "invalid_transition");
    EXPECT_UNCHANGED(id, before);
    free(before);
    snprintf(b, sizeof b, "{\"pending_reason\":\"parts\",\"pending_until\":\"%s\"}", until);
    th_resp_t *r = OK_ACT("agent", id, "pend", 2, b, "pending");
    assert_string_equal(th_js(r->json, "pending.reason"), "parts");
    assert_string_equal(th_js(r->json, "pending.resume_to"), "dispatched");
    assert_int_equal(th_parse_utc(th_js(r->json, "pending.until")), later);
    th_free(r);
    /* Nothing moves while it waits. */
    EXPECT_PROBLEM(act("technician", id, "accept", 3, NULL), 409, "invalid_transition");
    r = OK_ACT("agent", id, "resume", 3, NULL, "dispatched");
    assert_true(th_jnull(r->json, "pending"));
    th_free(r);
    DO_ACT("technician", id, "accept", 4, NULL, "accepted");
    /* Pending from accepted resumes to accepted. */
    r = OK_ACT(
        "agent", id, "pend", 5,
        "{\"pending_reason\":\"appointment\",\"pending_until\":\"2099-01-01T10:00:00+08:00\"}",
        "pending");
    assert_string_equal(th_js(r->json, "pending.resume_to"), "accepted");
    th_free(r);
    DO_ACT("agent", id, "resume", 6, NULL, "accepted");
    EXPECT_TIMELINE(id, "create", "dispatch", "pend", "resume", "accept", "pend", "resume");

    /* close_not_responsible needs an explanation; then the request is final. */
    char c2[40];
    new_unit_request("complaint", "visit", "开发商遗留：外墙渗水", c2);
    before = snap(c2);
    EXPECT_PROBLEM(act("agent", c2, "close_not_responsible", 1, NULL), 422, "explanation_required");
    EXPECT_PROBLEM(act("agent", c2, "close_not_responsible", 1, "{\"explanation\":\"   \"}"), 422,
                   "explanation_required");
    EXPECT_UNCHANGED(c2, before);
    free(before);
    r = OK_ACT("agent", c2, "close_not_responsible", 1,
               "{\"explanation\":\"属开发商保修范围，已告知业主联系开发商\"}", "not_responsible");
    assert_string_equal(th_js(r->json, "explanation"), "属开发商保修范围，已告知业主联系开发商");
    assert_false(th_jnull(r->json, "closed_at"));
    th_free(r);
    EXPECT_PROBLEM(act("agent", c2, "reopen", 2, NULL), 409, "invalid_transition");
    EXPECT_PROBLEM(patch("agent", c2, 2, "{\"title\":\"x\"}"), 409, "invalid_transition");

    /* reject needs an explanation and only applies to a just-received request. */
    char c3[40];
    new_unit_request("suggestion", "email", "建议小区增设充电桩", c3);
    EXPECT_PROBLEM(act("agent", c3, "reject", 1, "{}"), 422, "explanation_required");
    r = OK_ACT("agent", c3, "reject", 1, "{\"explanation\":\"重复登记\"}", "rejected");
    assert_false(th_jnull(r->json, "closed_at"));
    assert_string_equal(th_js(r->json, "explanation"), "重复登记");
    th_free(r);
    EXPECT_PROBLEM(act("agent", c3, "reject", 2, "{\"explanation\":\"again\"}"), 409,
                   "invalid_transition");

    /* An inquiry closes straight after resolve; reopening keeps the history. */
    char c4[40];
    new_unit_request("inquiry", "phone", "物业费缴费方式咨询", c4);
    DO_ACT("agent", c4, "resolve", 1, "{\"resolution\":\"告知可用微信缴费\"}", "resolved");
    r = OK_ACT("agent", c4, "close", 2, NULL, "closed");
    assert_false(th_jnull(r->json, "closed_at"));
    th_free(r);
    r = OK_ACT("agent", c4, "reopen", 3, NULL, "received");
    assert_int_equal(th_jn(r->json, "reopen_count"), 1);
    assert_true(th_jnull(r->json, "closed_at"));
    assert_true(th_jnull(r->json, "resolved_at"));
    th_free(r);
    EXPECT_TIMELINE(c4, "create", "resolve", "close", "reopen");
    r = th_get_timeline("agent", c4);
    assert_string_equal(th_js(timeline_item(r, 3), "from_state"), "closed");
    assert_string_equal(th_js(timeline_item(r, 3), "to_state"), "received");
    assert_int_equal(th_jn(timeline_item(r, 3), "details.reopen_count"), 1);
    th_free(r);
    DO_ACT("agent", c4, "resolve", 4, "{\"resolution\":\"再次解答\"}", "resolved");
    DO_ACT("agent", c4, "close", 5, NULL, "closed");
    r = OK_ACT("agent", c4, "reopen", 6, NULL, "received");
    assert_int_equal(th_jn(r->json, "reopen_count"), 2);
    th_free(r);
    EXPECT_TIMELINE(c4, "create", "resolve", "close", "reopen", "resolve", "close", "reopen");

    /* A dissatisfied callback reopens the complaint and raises its escalation level. */
    char c5[40];
    new_unit_request("complaint", "phone", "投诉客服态度差", c5);
    DO_ACT("agent", c5, "resolve", 1, "{\"resolution\":\"已批评教育并致歉\"}", "resolved");
    DO_ACT("agent", c5, "start_callback", 2, NULL, "callback");
    r = OK_ACT("agent", c5, "callback_result", 3,
               "{\"satisfied\":false,\"rating\":\"dissatisfied\",\"note\":\"住户仍不满意\"}",
               "received");
    assert_int_equal(th_jn(r->json, "reopen_count"), 1);
    assert_int_equal(th_jn(r->json, "escalation_level"), 1);
    assert_true(th_jnull(r->json, "resolved_at"));
    assert_true(th_jnull(r->json, "closed_at"));
    th_free(r);
    DO_ACT("agent", c5, "resolve", 4, "{\"resolution\":\"经理上门沟通\"}", "resolved");
    DO_ACT("agent", c5, "start_callback", 5, NULL, "callback");
    /* The outcome is derived from the rating (RULES §3.1.5); 'satisfied' alone is not enough. */
    EXPECT_PROBLEM(act("agent", c5, "callback_result", 6, "{\"satisfied\":false}"), 422,
                   "missing_field");
    r = OK_ACT("agent", c5, "callback_result", 6, "{\"rating\":\"极不满意\"}", "received");
    assert_int_equal(th_jn(r->json, "reopen_count"), 2);
    assert_int_equal(th_jn(r->json, "escalation_level"), 2);
    th_free(r);
    EXPECT_TIMELINE(c5, "create", "resolve", "start_callback", "callback_result", "resolve",
                    "start_callback", "callback_result");
    r = th_get_timeline("agent", c5);
    assert_string_equal(th_js(timeline_item(r, 3), "to_state"), "received");
    assert_false(th_jtrue(timeline_item(r, 3), "details.satisfied"));
    assert_string_equal(th_js(timeline_item(r, 3), "details.note"), "住户仍不满意");
    th_free(r);
    /* Giving a callback up needs a reason. */
    DO_ACT("agent", c5, "resolve", 7, "{\"resolution\":\"第三次处理\"}", "resolved");
    DO_ACT("agent", c5, "start_callback", 8, NULL, "callback");
    EXPECT_PROBLEM(act("agent", c5, "close", 9, NULL), 422, "explanation_required");
    DO_ACT("agent", c5, "close", 9, "{\"explanation\":\"三次联系不上住户\"}", "closed");
}

/* Copies a template, replacing @U with unit 1-101 and @R with 张伟's resident id. */
static void subst(char *out, size_t n, const char *tmpl)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 40 < n; p++) {
        if (p[0] == '@' && (p[1] == 'U' || p[1] == 'R')) {
            o += (size_t)snprintf(out + o, n - o, "%s", p[1] == 'U' ? unit101 : res_zw);
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
}

/* ================================================================ 10. bad input */

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    char id[40], rid[40], body[2048], path[200];
    new_unit_request("complaint", "phone", "坏输入测试", id);
    new_unit_request("repair", "phone", "坏输入测试：报修", rid);
    char *tot = db_totals();
    const char *tok = th_token("agent");

    /* POST /v1/requests */
    static const struct {
        const char *fmt; /* @U unit, @R resident */
        long status;
        const char *code;
    } cases[] = {
        {"{", 400, "malformed_json"},
        {"[1,2,3]", 400, "malformed_json"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":42}",
         422, "invalid_field"},
        {"{\"type\":7,\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "invalid_enum"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"}}",
         422, "missing_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"\"}",
         422, "invalid_field"},
        {"{\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "missing_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\","
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "missing_field"},
        {"{\"type\":\"gossip\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "invalid_enum"},
        {"{\"type\":\"repair\",\"channel\":\"pigeon\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "invalid_enum"},
        {"{\"type\":\"repair\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "missing_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\",\"mood\":\"angry\"}",
         422, "unknown_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\","
         "\"floor\":3},\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "unknown_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"nope\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "invalid_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\","
         "\"common_area\":\"大堂\"},\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "invalid_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "invalid_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":\"1-101\","
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\"}",
         422, "missing_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"description\":\"x\"}",
         422, "missing_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"severity\":\"major\","
         "\"location\":{\"unit_id\":\"@U\"},\"reporter\":{\"resident_id\":\"@R\"},"
         "\"description\":\"x\"}",
         422, "invalid_field"},
        {"{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"apocalyptic\","
         "\"location\":{\"unit_id\":\"@U\"},\"reporter\":{\"resident_id\":\"@R\"},"
         "\"description\":\"x\"}",
         422, "invalid_enum"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"night_desk\":\"yes\","
         "\"location\":{\"unit_id\":\"@U\"},\"reporter\":{\"resident_id\":\"@R\"},"
         "\"description\":\"x\"}",
         422, "invalid_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"occurred_at\":\"last tuesday\","
         "\"location\":{\"unit_id\":\"@U\"},\"reporter\":{\"resident_id\":\"@R\"},"
         "\"description\":\"x\"}",
         422, "invalid_field"},
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"reporter\":{\"resident_id\":\"@R\"},"
         "\"location\":{\"common_area\":\"大堂\"},\"description\":\"x\"}",
         422, "missing_field"}, /* a common area needs project_id */
        {"{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"@U\"},"
         "\"reporter\":{\"resident_id\":\"@R\"},\"description\":\"x\","
         "\"external_ref\":{\"source\":\"crm\"}}",
         422, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        subst(body, sizeof body, cases[i].fmt);
        th_resp_t *r = th_req("POST", "/v1/requests", tok, body, NULL);
        if (!th_is_problem(r, cases[i].status, cases[i].code))
            fail_msg("create case %zu (%s): %ld %s", i, body, r->status, r->body);
        th_free(r);
    }
    /* A unit of another organisation. */
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"x\"},\"description\":\"x\"}",
             other_unit);
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", tok, body, NULL), 422, "invalid_field");
    /* Invalid UTF-8 inside the description. */
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"\xC3\x28\xFF\"}",
             unit101, res_zw);
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", tok, body, NULL), 400, "invalid_utf8");
    const char *ct[] = {"Content-Type: text/plain", NULL};
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", tok, "{}", ct), 415, "unsupported_media_type");
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", tok, NULL, NULL), 400, "body_required");
    /* Oversized (just over 1 MiB) — a description that would otherwise be valid JSON. */
    size_t big = (1u << 20) + 64;
    char *huge = malloc(big + 1);
    int hl =
        snprintf(huge, big,
                 "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
                 "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"",
                 unit101, res_zw);
    memset(huge + hl, 'a', big - (size_t)hl - 2);
    huge[big - 2] = '"';
    huge[big - 1] = '}';
    huge[big] = 0;
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", tok, huge, NULL), 413, "body_too_large");
    char *tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot2);

    /* PATCH /v1/requests/{id} */
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    EXPECT_PROBLEM(th_req("PATCH", path, tok, "{\"title\":\"x\"}", NULL), 428, "if_match_required");
    EXPECT_PROBLEM(patch("agent", id, 7, "{\"title\":\"x\"}"), 412, "stale_version");
    const char *bad_im[] = {"If-Match: \"abc\"", NULL};
    EXPECT_PROBLEM(th_req("PATCH", path, tok, "{\"title\":\"x\"}", bad_im), 412, "stale_version");
    EXPECT_PROBLEM(patch("agent", id, 1, "{\"title\":"), 400, "malformed_json");
    EXPECT_PROBLEM(patch("agent", id, 1, "{}"), 422, "missing_field");
    EXPECT_PROBLEM(patch("agent", id, 1, "{\"state\":\"closed\"}"), 422, "unknown_field");
    EXPECT_PROBLEM(patch("agent", id, 1, "{\"title\":5}"), 422, "invalid_field");
    EXPECT_PROBLEM(patch("agent", id, 1, "{\"severity\":\"apocalyptic\"}"), 422, "invalid_enum");
    EXPECT_PROBLEM(patch("agent", id, 1, "{\"customer_deadline\":\"soon\"}"), 422, "invalid_field");
    EXPECT_PROBLEM(patch("agent", id, 1, "{\"title\":\"\xC3\x28\"}"), 400, "invalid_utf8");
    EXPECT_PROBLEM(patch("agent", rid, 1, "{\"severity\":\"major\"}"), 422, "invalid_field");
    EXPECT_PROBLEM(patch("agent", "not-a-uuid", 1, "{\"title\":\"x\"}"), 404, "not_found");
    EXPECT_PROBLEM(patch("agent", "00000000-0000-4000-8000-00000000abcd", 1, "{\"title\":\"x\"}"),
                   404, "not_found");
    const char *im1[] = {"If-Match: \"1\"", NULL};
    EXPECT_PROBLEM(th_req_raw("PATCH", path, tok, huge, strlen(huge), im1), 413, "body_too_large");
    tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot2);

    /* POST /v1/requests/{id}/actions/{action} */
    char dispatch[128];
    snprintf(dispatch, sizeof dispatch, "{\"department_id\":\"%s\"}", dept_eng);
    EXPECT_PROBLEM(act("agent", id, "teleport", 1, NULL), 404, "unknown_action");
    EXPECT_PROBLEM(act("agent", id, "comment", 1, "{\"note\":\"x\"}"), 404, "unknown_action");
    EXPECT_PROBLEM(act("agent", "12345", "dispatch", 1, dispatch), 404, "not_found");
    EXPECT_PROBLEM(act("agent", "00000000-0000-4000-8000-00000000abcd", "dispatch", 1, dispatch),
                   404, "not_found");
    snprintf(path, sizeof path, "/v1/requests/%s/actions/dispatch", id);
    EXPECT_PROBLEM(th_req("POST", path, tok, dispatch, NULL), 428, "if_match_required");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 2, dispatch), 412, "stale_version");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 0, dispatch), 412, "stale_version");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, "{\"department_id\":"), 400, "malformed_json");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, "\"dispatch\""), 400, "malformed_json");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, "{\"department_id\":\"\xC3\x28\"}"), 400,
                   "invalid_utf8");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, "{\"colour\":\"red\"}"), 422, "unknown_field");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, NULL), 422, "missing_field");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, "{\"department_id\":42}"), 422, "invalid_field");
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, "{\"department_id\":\"eng\"}"), 422,
                   "invalid_field");
    snprintf(body, sizeof body, "{\"department_id\":\"%s\"}", other_dept);
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, body), 422, "invalid_field");
    snprintf(body, sizeof body, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng,
             uid_agent);
    EXPECT_PROBLEM(act("agent", id, "dispatch", 1, body), 422, "invalid_field");
    EXPECT_PROBLEM(act("agent", id, "callback_result", 1, "{\"satisfied\":\"yes\"}"), 422,
                   "invalid_field");
    EXPECT_PROBLEM(act("agent", id, "pend", 1, "{\"pending_until\":12}"), 422, "invalid_field");
    EXPECT_PROBLEM(act("agent", id, "start_callback", 1, NULL), 409, "invalid_transition");
    EXPECT_PROBLEM(act("agent", id, "close", 1, NULL), 409, "invalid_transition");
    EXPECT_PROBLEM(act_raw(tok, id, "dispatch", 1, huge), 413, "body_too_large");
    free(huge);
    tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot2);

    /* GET endpoints */
    EXPECT_PROBLEM(th_get_request("agent", "not-a-uuid"), 404, "not_found");
    EXPECT_PROBLEM(th_get_request("agent", "00000000-0000-4000-8000-00000000abcd"), 404,
                   "not_found");
    EXPECT_PROBLEM(th_get_timeline("agent", "1-101"), 404, "not_found");
    EXPECT_PROBLEM(th_get_timeline("agent", "00000000-0000-4000-8000-00000000abcd"), 404,
                   "not_found");
    static const char *const badq[] = {
        "/v1/requests?status=flying",
        "/v1/requests?type=gossip",
        "/v1/requests?limit=0",
        "/v1/requests?limit=500",
        "/v1/requests?limit=ten",
        "/v1/requests?unit_id=1-101",
        "/v1/requests?created_from=yesterday",
        "/v1/requests?cursor=bm9wZQ",
        "/v1/requests?q=",
        "/v1/requests?channel=pigeon",
    };
    for (size_t i = 0; i < sizeof badq / sizeof badq[0]; i++) {
        th_resp_t *r = th_req("GET", badq[i], tok, NULL, NULL);
        if (!th_is_problem(r, 400, NULL))
            fail_msg("%s: %ld %s", badq[i], r->status, r->body);
        th_free(r);
    }
    /* No token at all. */
    EXPECT_PROBLEM(th_req("GET", "/v1/requests", NULL, NULL, NULL), 401, NULL);
    snprintf(path, sizeof path, "/v1/requests/%s/actions/resolve", id);
    EXPECT_PROBLEM(th_req("POST", path, NULL, "{\"resolution\":\"x\"}", im1), 401, NULL);

    tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot2);
    free(tot);
    /* One request per external record: a second push is a conflict naming the first. */
    char ext[40];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"location\":{\"unit_id\":\"%s\"},\"reporter\":{\"name\":"
             "\"呼叫中心转入\",\"phone\":\"13600001234\"},\"description\":\"外部系统报修\","
             "\"external_ref\":{\"source\":\"callcenter\",\"id\":\"CC-42\"}}",
             unit101);
    th_resp_t *r = CREATE("integration", body, ext);
    assert_string_equal(th_js(r->json, "channel"), "integration");
    assert_string_equal(th_js(r->json, "external_ref.source"), "callcenter");
    assert_string_equal(th_js(r->json, "external_ref.id"), "CC-42");
    th_free(r);
    tot = db_totals();
    r = th_req("POST", "/v1/requests", th_token("integration"), body, NULL);
    if (!th_is_problem(r, 409, "duplicate_external_ref") || !strstr(r->body, ext))
        fail_msg("duplicate push: %ld %s", r->status, r->body);
    th_free(r);
    tot2 = db_totals();
    assert_string_equal(tot, tot2);
    free(tot2);
    free(tot);
    r = th_req("GET", "/v1/requests?external_source=callcenter", th_token("integration"), NULL,
               NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, ext));
    th_free(r);
    /* Integrations push and read; they do not run the desk's workflow. */
    EXPECT_PROBLEM(act("integration", ext, "resolve", 1, "{\"resolution\":\"x\"}"), 403,
                   "forbidden");

    /* Still healthy, and the request still works normally. */
    r = th_req("GET", "/healthz", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    DO_ACT("agent", id, "dispatch", 1, dispatch, "dispatched");
    r = patch("agent", rid, 1, "{\"title\":\"水管漏点\"}");
    check_write_at(__LINE__, r, 2, "received");
    th_free(r);
}

/* ================================================================ 11. search */

static void test_search_filters_and_paging(void **state)
{
    (void)state;
    char a[40], b_[40], c[40], d[40], act_body[128];
    /* Only this test ever writes 漏水. */
    new_unit_request("repair", "phone", "检索十一：厨房漏水，橱柜泡坏", a);
    new_unit_request("complaint", "phone", "检索十一：夜间施工噪音", b_);
    new_unit_request("inquiry", "visit", "检索十一：停车月卡办理", c);
    new_unit_request("repair", "app", "检索十一：门锁损坏", d);
    snprintf(act_body, sizeof act_body, "{\"department_id\":\"%s\"}", dept_eng);
    DO_ACT("agent", d, "dispatch", 1, act_body, "dispatched");

    const char *tok = th_token("agent");
    th_resp_t *r = th_req("GET", "/v1/requests?q=%E6%BC%8F%E6%B0%B4", tok, NULL, NULL); /* 漏水 */
    EXPECT_STATUS(r, 200);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, a));
    th_free(r);
    /* 检索十一 = %E6%A3%80%E7%B4%A2%E5%8D%81%E4%B8%80 */
#define TAG "q=%E6%A3%80%E7%B4%A2%E5%8D%81%E4%B8%80"
    r = th_req("GET", "/v1/requests?" TAG, tok, NULL, NULL);
    assert_int_equal(list_count(r), 4);
    th_free(r);
    r = th_req("GET", "/v1/requests?" TAG "&type=repair", tok, NULL, NULL);
    assert_int_equal(list_count(r), 2);
    assert_true(list_has(r, a) && list_has(r, d));
    th_free(r);
    r = th_req("GET", "/v1/requests?" TAG "&channel=visit", tok, NULL, NULL);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, c));
    th_free(r);
    r = th_req("GET", "/v1/requests?" TAG "&status=dispatched", tok, NULL, NULL);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, d));
    th_free(r);
    r = th_req("GET", "/v1/requests?" TAG "&type=repair&status=received", tok, NULL, NULL);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, a));
    th_free(r);
    r = th_req("GET", "/v1/requests?" TAG "&type=complaint&channel=phone", tok, NULL, NULL);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, b_));
    th_free(r);
    char q[600];
    snprintf(q, sizeof q, "/v1/requests?%s&department_id=%s", TAG, dept_eng);
    r = th_req("GET", q, tok, NULL, NULL);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, d));
    th_free(r);
    /* Filters without q still filter everything they return. */
    r = th_req("GET", "/v1/requests?type=inquiry&limit=200", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, c));
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        assert_string_equal(th_js(it, "type"), "inquiry");
    }
    th_free(r);
    /* By human number. */
    r = th_get_request("agent", a);
    char num[40];
    snprintf(num, sizeof num, "%s", th_js(r->json, "number"));
    th_free(r);
    snprintf(q, sizeof q, "/v1/requests?q=%s", num);
    r = th_req("GET", q, tok, NULL, NULL);
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, a));
    th_free(r);
    /* An edit re-indexes: the old words are gone, the new ones and the number found. */
    r = patch("agent", a, 1, "{\"title\":\"阳台\",\"description\":\"检索十一：阳台漏雨\"}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = th_req("GET", "/v1/requests?q=%E6%BC%8F%E6%B0%B4", tok, NULL, NULL); /* 漏水 */
    assert_int_equal(list_count(r), 0);
    th_free(r);
    r = th_req("GET", "/v1/requests?q=%E6%BC%8F%E9%9B%A8", tok, NULL, NULL); /* 漏雨 */
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, a));
    th_free(r);
    r = th_req("GET", "/v1/requests?q=%E9%98%B3%E5%8F%B0%20%E6%A3%80", tok, NULL, NULL);
    assert_int_equal(list_count(r), 1); /* "阳台 检": across title and description */
    th_free(r);
    r = th_req("GET", q, tok, NULL, NULL); /* the number */
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, a));
    th_free(r);
    r = patch("agent", a, 2, "{\"title\":null}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = th_req("GET", "/v1/requests?q=%E9%98%B3%E5%8F%B0%20%E6%A3%80", tok, NULL, NULL);
    assert_int_equal(list_count(r), 0); /* the title is gone from the terms too */
    th_free(r);
    r = th_req("GET", "/v1/requests?q=%E6%BC%8F%E9%9B%A8", tok, NULL, NULL); /* 漏雨 */
    assert_int_equal(list_count(r), 1);
    assert_true(list_has(r, a));
    th_free(r);
    /* LIKE wildcards are text, not patterns. */
    r = th_req("GET", "/v1/requests?q=%25%25", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(list_count(r), 0);
    th_free(r);
    r = th_req("GET", "/v1/requests?q=__", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(list_count(r), 0);
    th_free(r);
    /* One character cannot be searched (bigram index): a clear 400, not a slow scan. */
    r = th_req("GET", "/v1/requests?q=%E6%BC%8F", tok, NULL, NULL);
    assert_true(th_is_problem(r, 400, "invalid_query"));
    th_free(r);
    r = th_req("GET", "/v1/requests?q=%E6%97%A0%E6%AD%A4%E5%86%85%E5%AE%B9", tok, NULL, NULL);
    assert_int_equal(list_count(r), 0);
    th_free(r);

    /* Paging: 7 matches, 3 per page, each exactly once, newest first. */
    char ids[7][40];
    for (int i = 0; i < 7; i++) {
        char desc[64];
        snprintf(desc, sizeof desc, "分页十一 第%d条", i);
        new_unit_request(i % 2 ? "inquiry" : "suggestion", "web", desc, ids[i]);
    }
    char seen[10][40];
    int nseen = 0, pages = 0;
    char cursor[256] = "";
    for (;;) {
        /* 分页十一 */
        snprintf(q, sizeof q,
                 "/v1/requests?q=%%E5%%88%%86%%E9%%A1%%B5%%E5%%8D%%81%%E4%%B8%%80"
                 "&limit=3%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        r = th_req("GET", q, tok, NULL, NULL);
        EXPECT_STATUS(r, 200);
        int n = list_count(r);
        assert_true(n >= 0 && n <= 3);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
        {
            for (int k = 0; k < nseen; k++)
                if (!strcmp(seen[k], th_js(it, "id")))
                    fail_msg("duplicate %s on page %d", seen[k], pages);
            assert_true(nseen < 10);
            snprintf(seen[nseen++], 40, "%s", th_js(it, "id"));
        }
        pages++;
        const cJSON *nc = cJSON_GetObjectItem(r->json, "next_cursor");
        if (cJSON_IsString(nc)) {
            assert_int_equal(n, 3);
            snprintf(cursor, sizeof cursor, "%s", nc->valuestring);
            th_free(r);
        } else {
            assert_true(cJSON_IsNull(nc));
            th_free(r);
            break;
        }
        assert_true(pages < 10);
    }
    assert_int_equal(nseen, 7);
    assert_int_equal(pages, 3);
    for (int i = 0; i < 7; i++) {
        int found = 0;
        for (int k = 0; k < nseen; k++)
            found |= !strcmp(ids[i], seen[k]);
        assert_true(found);
    }
    /* Newest first. */
    assert_string_equal(seen[0], ids[6]);
    assert_string_equal(seen[6], ids[0]);
#undef TAG
}

/* ================================================================ 12. numbers */

typedef struct {
    const char *token;
    int idx;
    long status[5];
    char number[5][32];
    char id[5][40];
} numjob_t;

static void *num_thread(void *arg)
{
    numjob_t *j = arg;
    for (int i = 0; i < 5; i++) {
        char body[1024], *resp = NULL;
        snprintf(body, sizeof body,
                 "{\"type\":\"praise\",\"channel\":\"letter\",\"location\":{\"unit_id\":\"%s\"},"
                 "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"并发编号 %d-%d\"}",
                 unit101, res_zw, j->idx, i);
        j->status[i] = mt_call("POST", "/v1/requests", j->token, body, NULL, &resp);
        cJSON *p = cJSON_Parse(resp);
        const cJSON *n = cJSON_GetObjectItem(p, "number"), *id = cJSON_GetObjectItem(p, "id");
        snprintf(j->number[i], sizeof j->number[i], "%s", cJSON_IsString(n) ? n->valuestring : "");
        snprintf(j->id[i], sizeof j->id[i], "%s", cJSON_IsString(id) ? id->valuestring : "");
        cJSON_Delete(p);
        free(resp);
    }
    return NULL;
}

static int number_ok(const char *num, const char *prefix, int year)
{
    char want[16];
    snprintf(want, sizeof want, "%s-%d-", prefix, year);
    if (strlen(num) != strlen(want) + 6 || strncmp(num, want, strlen(want)) != 0)
        return 0;
    for (const char *p = num + strlen(want); *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

static void test_human_numbers(void **state)
{
    (void)state;
    int year = shanghai_year();
    static const struct {
        const char *type, *prefix;
    } kinds[] = {{"complaint", "TS"}, {"repair", "BX"}, {"inquiry", "ZX"}, {"suggestion", "JY"}};
    char nums[8][32];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 4; i++) {
            char body[1024], id[40];
            unit_body(body, sizeof body, kinds[i].type, "phone", unit101, res_zw, "编号测试");
            th_resp_t *r = CREATE("agent", body, id);
            const char *n = th_js(r->json, "number");
            if (!number_ok(n, kinds[i].prefix, year))
                fail_msg("%s number %s", kinds[i].type, n);
            snprintf(nums[round * 4 + i], 32, "%s", n);
            th_free(r);
        }
    /* The same type counts up by one; numbers never repeat. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(atoi(nums[4 + i] + 8), atoi(nums[i] + 8) + 1);
    char pq[64];
    snprintf(pq, sizeof pq, "%s", project);
    const char *v[] = {pq};
    assert_string_equal(th_sql1("SELECT count(*) = count(DISTINCT number) FROM requests WHERE "
                                "project_id = $1",
                                v, 1),
                        "t");

    /* 20 at once from 4 threads, of a type never numbered before in this database. */
    assert_string_equal(th_sql1("SELECT count(*) FROM requests WHERE type = 'praise'", NULL, 0),
                        "0");
    numjob_t jobs[4];
    pthread_t th[4];
    memset(jobs, 0, sizeof jobs);
    const char *toks[4] = {th_token("agent"), th_token("supervisor"), th_token("manager"),
                           th_token("director")};
    for (int i = 0; i < 4; i++) {
        assert_non_null(toks[i]);
        jobs[i].token = toks[i];
        jobs[i].idx = i;
        assert_int_equal(pthread_create(&th[i], NULL, num_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    int seen[21] = {0};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 5; k++) {
            if (jobs[i].status[k] != 201 || !number_ok(jobs[i].number[k], "BY", year))
                fail_msg("thread %d #%d: %ld %s", i, k, jobs[i].status[k], jobs[i].number[k]);
            int seq = atoi(jobs[i].number[k] + 8);
            assert_true(seq >= 1 && seq <= 20);
            assert_int_equal(seen[seq], 0);
            seen[seq] = 1;
        }
    assert_string_equal(th_sql1("SELECT count(*) || '/' || count(DISTINCT number) FROM requests "
                                "WHERE type = 'praise'",
                                NULL, 0),
                        "20/20");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_complaint_to_closed),
        cmocka_unit_test(test_unit_repair_signoff_rules),
        cmocka_unit_test(test_repair_needs_signoff_and_department),
        cmocka_unit_test(test_redispatch_work_order),
        cmocka_unit_test(test_common_area_signoff_by_reporting_department),
        cmocka_unit_test(test_night_desk_handover),
        cmocka_unit_test(test_night_desk_flag_on_phone_channel_hands_over),
        cmocka_unit_test(test_paper_record_times),
        cmocka_unit_test(test_clock_skew_does_not_block_next_action),
        cmocka_unit_test(test_visibility),
        cmocka_unit_test(test_concurrent_dispatch_one_wins),
        cmocka_unit_test(test_pend_reject_reopen),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_search_filters_and_paging),
        cmocka_unit_test(test_human_numbers),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
