/*
 * tests/api/test_duty.c — duty shifts, the duty log and its daily review, shift handovers
 * and special incident reports end to end (issue 11, RULES §3.8, §3.9): every handover
 * refusal (409 with reasons), unfinished items without a reason (422 with pointers), the
 * incoming person's own token (403 for anyone else), the unfit flag and its replacement,
 * lateness and the supervisor's notification, the per-person fault report, the daily
 * view, incident reports with their due time in the project's zone, submission checks,
 * the GM copy for fire and robbery, the overdue escalation, role and project scope.
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

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char p1[40], p2[40], unit101[40], resident[40];
static char u_agent[40], u_clerk[40], u_security[40], u_supervisor[40], u_manager[40], u_gm[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", unit101) ||
        th_fx_resident("demo", "张伟", resident) || th_fx_user("agent", u_agent) ||
        th_fx_user("clerk", u_clerk) || th_fx_user("security", u_security) ||
        th_fx_user("supervisor", u_supervisor) || th_fx_user("manager", u_manager) ||
        th_fx_user("gm", u_gm))
        return -1;
    /* A second project of the demo organisation that only the director works in. */
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    char sql[400], ignore[40];
    snprintf(sql, sizeof sql,
             "INSERT INTO user_projects (org_id, user_id, project_id) SELECT org_id, id, '%s' "
             "FROM users WHERE username = 'director' RETURNING user_id",
             p2);
    return th_grab(ignore, sql);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void iso(long delta, char out[40])
{
    th_iso_utc(time(NULL) + delta, out);
}

static th_resp_t *call(const char *method, const char *who, const char *path, const char *body)
{
    return th_req(method, path, th_token(who), body, NULL);
}

/* The writes to a handover or a shift (submit, accept, fitness, start, equipment) carry the
 * If-Match of a fresh GET, as a client that read it first. */
static int versioned(const char *method, const char *fmt)
{
    static const char *const ops[] = {"/submit", "/accept", "/fitness", "/start", "/equipment"};
    if (strcmp(method, "POST") ||
        (strncmp(fmt, "/v1/handovers/", 14) && strncmp(fmt, "/v1/duty/shifts/", 16)))
        return 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(fmt), m = strlen(ops[i]);
        if (n > m && !strcmp(fmt + n - m, ops[i]))
            return 1;
    }
    return 0;
}

static th_resp_t *callf(const char *method, const char *who, const char *body, const char *fmt,
                        const char *id)
{
    char path[256];
    snprintf(path, sizeof path, fmt, id);
    if (!versioned(method, fmt))
        return call(method, who, path, body);
    char get[256], im[96];
    snprintf(get, sizeof get, "%.*s", (int)(strrchr(path, '/') - path), path);
    th_resp_t *g = call("GET", who, get, NULL);
    const char *e = th_header(g, "ETag");
    snprintf(im, sizeof im, "If-Match: %s", e ? e : "\"0\"");
    th_free(g);
    const char *const h[] = {im, NULL};
    return th_req(method, path, th_token(who), body, h);
}

/* Expects status st; prints the body when it differs. */
static void expect(int line, th_resp_t *r, long st)
{
    if (r->status != st)
        fprintf(stderr, "line %d: %ld %s\n", line, r->status, r->body);
    th_expect_status_at(line, r, st);
}
#define EXPECT(r, st) expect(__LINE__, (r), (st))

/* Creates a shift of p1 (or project) as the supervisor; id into dst. */
static void shift(const char *project, const char *post, const char *users, long start_delta,
                  long end_delta, char dst[40])
{
    char body[512], a[40], b[40];
    iso(start_delta, a);
    iso(end_delta, b);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"post\":\"%s\",\"user_ids\":[%s],\"planned_start\":\"%s\","
             "\"planned_end\":\"%s\"}",
             project, post, users, a, b);
    th_resp_t *r = call("POST", "supervisor", "/v1/duty/shifts", body);
    EXPECT(r, 201);
    snprintf(dst, 40, "%s", th_str(r, "id"));
    th_free(r);
}

static char *q(const char *id)
{
    static char buf[4][48];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "\"%s\"", id);
    return buf[i];
}

static void request(const char *type, const char *extra, char id[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"%s\",\"channel\":\"phone\",%s\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"值班测试 %s\"}",
             type, extra, unit101, resident, type);
    th_resp_t *r = call("POST", "agent", "/v1/requests", body);
    EXPECT(r, 201);
    snprintf(id, 40, "%s", th_str(r, "id"));
    th_free(r);
}

static void set_request_state(const char *id, const char *st)
{
    const char *v[] = {id, st};
    th_sql_long("WITH u AS (UPDATE requests SET state = $2 WHERE id = $1 RETURNING 1) SELECT "
                "count(*) FROM u",
                v, 2);
}

static long notes(const char *user, const char *kind)
{
    const char *v[] = {user, kind};
    return th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2", v, 2);
}

/* The body of a submission handing over every open matter the draft lists, with reasons,
 * and confirming the sections given (a JSON array text). */
static char *submission(const th_resp_t *draft, const char *sections)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n, "{\"sections\":%s,\"unfinished\":[", sections);
    const char *lists[] = {"prefill.open_requests", "prefill.open_work_orders"};
    const char *types[] = {"request", "work_order"};
    int first = 1;
    for (int l = 0; l < 2; l++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, th_jpath(draft->json, lists[l]))
        {
            n += (size_t)snprintf(
                b + n, cap - n,
                "%s{\"ref_type\":\"%s\",\"ref_id\":\"%s\",\"reason\":\"业主不在家，"
                "约好明早\"}",
                first ? "" : ",", types[l], th_js(it, "id"));
            first = 0;
        }
    }
    snprintf(b + n, cap - n,
             "],\"instructions\":\"主任交代：明早检查消防通道\",\"equipment_status\":\"正常\"}");
    return b;
}

static const char *all_confirmed =
    "[{\"code\":\"radios\",\"confirmed\":true,\"note\":\"4 部\"},{\"code\":\"documents\","
    "\"confirmed\":true},{\"code\":\"show_flat_keys\",\"confirmed\":true}]";

static int has_reason(const th_resp_t *r, const char *code)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "reasons"))
    {
        if (!strcmp(th_js(it, "code"), code))
            return 1;
    }
    return 0;
}

static void draft(const char *who, const char *from, const char *to, const char *incoming,
                  long planned_delta, th_resp_t **out, char id[40])
{
    char body[400], at[40];
    iso(planned_delta, at);
    snprintf(body, sizeof body,
             "{\"from_shift_id\":\"%s\"%s%s%s,\"incoming_user_id\":\"%s\",\"planned_at\":\"%s\"}",
             from, to ? ",\"to_shift_id\":\"" : "", to ? to : "", to ? "\"" : "", incoming, at);
    th_resp_t *r = call("POST", who, "/v1/handovers", body);
    EXPECT(r, 201);
    snprintf(id, 40, "%s", th_str(r, "id"));
    *out = r;
}

/* PATCH /v1/incidents/{id} with the If-Match of a fresh GET. */
static th_resp_t *patch_inc(const char *who, const char *body, const char *id)
{
    char path[128], etag[64], im[96];
    snprintf(path, sizeof path, "/v1/incidents/%s", id);
    th_resp_t *g = th_req("GET", path, th_token(who), NULL, NULL);
    const char *e = th_header(g, "ETag");
    snprintf(etag, sizeof etag, "%s", e ? e : "");
    th_free(g);
    snprintf(im, sizeof im, "If-Match: %s", etag);
    const char *const hdrs[] = {im, NULL};
    return th_req("PATCH", path, th_token(who), body, hdrs);
}

/* ---- shifts and the duty log ------------------------------------------------------------ */

static void test_shift_and_log(void **state)
{
    (void)state;
    char s1[40], body[600], e1[40];
    /* Only a supervisor plans shifts; posts and users are checked. */
    char b[400], a[40], z[40];
    iso(-3600, a);
    iso(7 * 3600, z);
    snprintf(b, sizeof b,
             "{\"project_id\":\"%s\",\"post\":\"front_desk\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, u_agent, a, z);
    EXPECT_PROBLEM(call("POST", "agent", "/v1/duty/shifts", b), 403, NULL);
    snprintf(b, sizeof b,
             "{\"project_id\":\"%s\",\"post\":\"lobby\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, u_agent, a, z);
    th_resp_t *r = call("POST", "supervisor", "/v1/duty/shifts", b);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/post");
    th_free(r);
    char other[40];
    th_fx_user("other.agent", other);
    snprintf(b, sizeof b,
             "{\"project_id\":\"%s\",\"post\":\"office\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, other, a, z);
    EXPECT_PROBLEM(call("POST", "supervisor", "/v1/duty/shifts", b), 422, "invalid_field");
    snprintf(b, sizeof b,
             "{\"project_id\":\"%s\",\"post\":\"office\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, u_agent, z, a);
    EXPECT_PROBLEM(call("POST", "supervisor", "/v1/duty/shifts", b), 422, "invalid_field");

    shift(p1, "front_desk", q(u_agent), -3600, 7 * 3600, s1);
    r = callf("POST", "agent", NULL, "/v1/duty/shifts/%s/start", s1);
    EXPECT(r, 200);
    assert_true(th_jtrue(r->json, "on_duty"));
    th_free(r);
    /* Someone not on the shift does not write its log. */
    EXPECT_PROBLEM(callf("POST", "clerk", "{\"kind\":\"note\",\"summary\":\"x\"}",
                         "/v1/duty/shifts/%s/log", s1),
                   403, "not_on_shift");
    r = callf("POST", "agent", "{\"kind\":\"lighting\",\"summary\":\"18:30 公共照明开启\"}",
              "/v1/duty/shifts/%s/log", s1);
    EXPECT(r, 201);
    th_free(r);
    /* An event needs its cause, handling and result. */
    r = callf("POST", "agent",
              "{\"kind\":\"event\",\"summary\":\"3 栋电梯异响\",\"handling\":\"通知工程部\"}",
              "/v1/duty/shifts/%s/log", s1);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/cause");
    th_free(r);
    r = callf("POST", "agent",
              "{\"kind\":\"incident\",\"summary\":\"车库积水\",\"cause\":\"暴雨\",\"handling\":"
              "\"开启抽水泵\"}",
              "/v1/duty/shifts/%s/log", s1);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/result");
    th_free(r);
    char fut[40];
    iso(7200, fut);
    snprintf(body, sizeof body, "{\"kind\":\"note\",\"summary\":\"x\",\"at\":\"%s\"}", fut);
    EXPECT_PROBLEM(callf("POST", "agent", body, "/v1/duty/shifts/%s/log", s1), 422,
                   "invalid_field");
    r = callf("POST", "agent",
              "{\"kind\":\"event\",\"summary\":\"3 栋电梯异响\",\"cause\":\"导轨缺油\","
              "\"handling\":\"通知工程部\",\"result\":\"已加油，恢复正常\"}",
              "/v1/duty/shifts/%s/log", s1);
    EXPECT(r, 201);
    snprintf(e1, sizeof e1, "%s", th_str(r, "id"));
    th_free(r);
    /* Corrections are new entries pointing at the old one, with a reason. */
    snprintf(body, sizeof body,
             "{\"kind\":\"event\",\"summary\":\"5 栋电梯异响\",\"cause\":\"导轨缺油\","
             "\"handling\":\"通知工程部\",\"result\":\"已加油\",\"corrects\":\"%s\"}",
             e1);
    EXPECT_PROBLEM(callf("POST", "agent", body, "/v1/duty/shifts/%s/log", s1), 422,
                   "missing_field");
    snprintf(body, sizeof body,
             "{\"kind\":\"event\",\"summary\":\"5 栋电梯异响\",\"cause\":\"导轨缺油\","
             "\"handling\":\"通知工程部\",\"result\":\"已加油\",\"corrects\":\"%s\","
             "\"correction_reason\":\"楼栋写错\"}",
             e1);
    r = callf("POST", "agent", body, "/v1/duty/shifts/%s/log", s1);
    EXPECT(r, 201);
    assert_string_equal(th_str(r, "corrects"), e1);
    th_free(r);
    r = callf("GET", "auditor", NULL, "/v1/duty/shifts/%s/log", s1);
    EXPECT(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 3);
    th_free(r);
    /* The log is append-only, for the owner too. */
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE duty_log_entries SET summary = 'x' WHERE id = '%s'", e1);
    PGresult *res = PQexec(th_db(), sql);
    assert_int_not_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    /* The service's role may only read and append; every entry is audited with its author. */
    assert_string_equal(th_sql1("SELECT has_table_privilege('deskd_app', 'duty_log_entries', "
                                "'INSERT') AND NOT has_table_privilege('deskd_app', "
                                "'duty_log_entries', 'UPDATE') AND NOT "
                                "has_table_privilege('deskd_app', 'duty_log_entries', 'DELETE')",
                                NULL, 0),
                        "t");
    const char *ev[] = {e1, u_agent};
    assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE resource_type = "
                                 "'duty_log_entry' AND resource_id = $1 AND actor_user_id = $2",
                                 ev, 2),
                     1);
    /* Scope: another organisation sees nothing; a resident is refused. */
    EXPECT_PROBLEM(callf("GET", "other.supervisor", NULL, "/v1/duty/shifts/%s", s1), 404,
                   "not_found");
    EXPECT_PROBLEM(callf("GET", "resident", NULL, "/v1/duty/shifts/%s", s1), 403, NULL);
}

static void test_project_scope(void **state)
{
    (void)state;
    char s2[40], body[400], a[40], z[40];
    iso(-3600, a);
    iso(3600, z);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"post\":\"office\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p2, u_agent, a, z);
    /* The P1 supervisor cannot plan in P2. */
    EXPECT_PROBLEM(call("POST", "supervisor", "/v1/duty/shifts", body), 404, "not_found");
    char director[40];
    th_fx_user("director", director);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"post\":\"office\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p2, director, a, z);
    th_resp_t *r = call("POST", "director", "/v1/duty/shifts", body);
    EXPECT(r, 201);
    snprintf(s2, sizeof s2, "%s", th_str(r, "id"));
    th_free(r);
    EXPECT_PROBLEM(callf("GET", "agent", NULL, "/v1/duty/shifts/%s", s2), 404, "not_found");
    EXPECT_PROBLEM(callf("POST", "agent", "{\"kind\":\"note\",\"summary\":\"x\"}",
                         "/v1/duty/shifts/%s/log", s2),
                   404, "not_found");
    r = callf("GET", "agent", NULL, "/v1/duty/shifts?project_id=%s", p2);
    EXPECT(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 0);
    th_free(r);
    EXPECT_PROBLEM(callf("GET", "agent", NULL, "/v1/projects/%s/duty/unreviewed", p2), 404,
                   "not_found");
    char path[200];
    snprintf(path, sizeof path, "/v1/projects/%s/duty/days/2026-11-01", p2);
    EXPECT_PROBLEM(call("GET", "supervisor", path, NULL), 404, "not_found");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"flood\",\"occurred_at\":\"%s\"}",
             p2, a);
    EXPECT_PROBLEM(call("POST", "agent", "/v1/incidents", body), 404, "not_found");
}

/* ---- the daily review ------------------------------------------------------------------- */

static void test_daily_review(void **state)
{
    (void)state;
    char s1[40], path[200];
    shift(p1, "office", q(u_clerk), -1800, 3600, s1);
    th_resp_t *r =
        callf("POST", "clerk", "{\"kind\":\"phone_record\",\"summary\":\"业主来电咨询停水\"}",
              "/v1/duty/shifts/%s/log", s1);
    EXPECT(r, 201);
    char day[11];
    snprintf(day, sizeof day, "%s",
             th_sql1("SELECT ((now() AT TIME ZONE 'Asia/Shanghai')::date)::text", NULL, 0));
    th_free(r);
    r = callf("GET", "supervisor", NULL, "/v1/projects/%s/duty/unreviewed", p1);
    EXPECT(r, 200);
    int found = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items")) found |= !strcmp(th_js(it, "day"), day);
    assert_true(found);
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/duty/days/%s/review", p1, day);
    EXPECT_PROBLEM(call("POST", "agent", path, NULL), 403, NULL);
    r = call("POST", "supervisor", path, "{\"note\":\"记录完整，交接清楚\"}");
    EXPECT(r, 201);
    assert_string_equal(th_str(r, "reviewed_by"), u_supervisor);
    th_free(r);
    EXPECT_PROBLEM(call("POST", "manager", path, NULL), 409, "already_reviewed");
    r = callf("GET", "supervisor", NULL, "/v1/projects/%s/duty/unreviewed", p1);
    found = 0;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items")) found |= !strcmp(th_js(it, "day"), day);
    assert_false(found);
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/duty/days/2026-02-30", p1);
    EXPECT_PROBLEM(call("GET", "supervisor", path, NULL), 404, "not_found");
    snprintf(path, sizeof path, "/v1/projects/%s/duty/days/2999-01-01/review", p1);
    EXPECT_PROBLEM(call("POST", "supervisor", path, NULL), 422, "day_in_future");
    snprintf(path, sizeof path, "/v1/projects/%s/duty/days/%s", p1, day);
    r = call("GET", "supervisor", path, NULL);
    EXPECT(r, 200);
    assert_string_equal(th_js(r->json, "review.reviewed_by"), u_supervisor);
    assert_true(cJSON_GetArraySize(th_jpath(r->json, "log")) >= 1);
    assert_non_null(th_jpath(r->json, "handovers"));
    assert_non_null(th_jpath(r->json, "incidents_awaiting_report"));
    th_free(r);
}

/* ---- handovers -------------------------------------------------------------------------- */

static void test_handover_refusals_and_accept(void **state)
{
    (void)state;
    char eve[40], morn[40], ctl[40], h[40], emerg[40], major[40], night[40], inc[40];
    shift(p1, "front_desk", q(u_agent), -9 * 3600, 1800, eve);
    shift(p1, "front_desk", q(u_clerk), 1800, 9 * 3600, morn);
    shift(p1, "control_room", q(u_security), -9 * 3600, 3 * 3600, ctl);
    /* A night-desk request for the morning list. */
    char body[1024], at[40];
    iso(-4 * 3600, at);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"night_desk\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"夜间水管爆裂\","
             "\"occurred_at\":\"%s\"}",
             unit101, resident, at);
    th_resp_t *r = call("POST", "security", "/v1/requests", body);
    EXPECT(r, 201);
    snprintf(night, sizeof night, "%s", th_str(r, "id"));
    th_free(r);
    request("emergency", "", emerg);
    request("complaint", "\"severity\":\"major\",\"category\":\"quality\",", major);

    /* Only someone on the outgoing shift drafts; the incoming is another member of staff. */
    snprintf(body, sizeof body, "{\"from_shift_id\":\"%s\",\"incoming_user_id\":\"%s\"}", eve,
             u_clerk);
    EXPECT_PROBLEM(call("POST", "security", "/v1/handovers", body), 403, "not_on_shift");
    snprintf(body, sizeof body, "{\"from_shift_id\":\"%s\",\"incoming_user_id\":\"%s\"}", eve,
             u_agent);
    EXPECT_PROBLEM(call("POST", "agent", "/v1/handovers", body), 422, "invalid_field");
    th_resp_t *d;
    draft("agent", eve, morn, u_clerk, 1800, &d, h);
    assert_string_equal(th_str(d, "state"), "draft");
    assert_true(th_jtrue(d->json, "outgoing_on_duty"));
    assert_int_equal(cJSON_GetArraySize(th_jpath(d->json, "sections")), 4);
    int saw_night = 0, saw_emerg = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(d->json, "prefill.night_desk_requests"))
    {
        if (strcmp(th_js(it, "id"), night))
            continue;
        saw_night = 1;
        /* The night desk's 09:00 hand-over clock (the request's SLA) comes with it. */
        assert_true(th_parse_utc(th_js(it, "handover_due")) > 0);
    }
    cJSON_ArrayForEach(it, th_jpath(d->json, "prefill.open_requests")) saw_emerg |=
        !strcmp(th_js(it, "id"), emerg);
    assert_true(saw_night);
    assert_true(saw_emerg);
    assert_non_null(th_jpath(d->json, "prefill.keys_on_loan"));
    assert_non_null(th_jpath(d->json, "prefill.mail_in_custody"));
    /* A second draft of the same shift is a conflict. */
    snprintf(body, sizeof body, "{\"from_shift_id\":\"%s\",\"incoming_user_id\":\"%s\"}", eve,
             u_clerk);
    EXPECT_PROBLEM(call("POST", "agent", "/v1/handovers", body), 409, NULL);

    /* The incoming person may not accept a draft; the incoming one may not submit. */
    EXPECT_PROBLEM(callf("POST", "clerk", NULL, "/v1/handovers/%s/accept", h), 409,
                   "invalid_state");
    char *sub = submission(d, all_confirmed);
    EXPECT_PROBLEM(callf("POST", "clerk", sub, "/v1/handovers/%s/submit", h), 403, "not_outgoing");

    /* Open emergency and major complaint: 409 with both reasons; unconfirmed sections too. */
    char *bare = submission(d, "[]");
    r = callf("POST", "agent", bare, "/v1/handovers/%s/submit", h);
    EXPECT(r, 409);
    assert_string_equal(th_str(r, "code"), "handover_refused");
    assert_true(has_reason(r, "open_emergency"));
    assert_true(has_reason(r, "open_major_complaint"));
    assert_true(has_reason(r, "section_unconfirmed"));
    assert_false(has_reason(r, "equipment_transition"));
    th_free(r);
    free(bare);
    r = callf("GET", "agent", NULL, "/v1/handovers/%s/check", h);
    EXPECT(r, 200);
    assert_false(th_jtrue(r->json, "may_proceed"));
    assert_true(has_reason(r, "open_emergency"));
    th_free(r);

    /* An unfinished item without a reason: 422 pointing at it. */
    char nb[600];
    snprintf(nb, sizeof nb,
             "{\"sections\":%s,\"unfinished\":[{\"ref_type\":\"request\",\"ref_id\":\"%s\"}]}",
             all_confirmed, emerg);
    r = callf("POST", "agent", nb, "/v1/handovers/%s/submit", h);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/unfinished/0/reason");
    th_free(r);
    /* An open matter neither finished nor handed over. */
    snprintf(nb, sizeof nb, "{\"sections\":%s,\"unfinished\":[]}", all_confirmed);
    r = callf("POST", "agent", nb, "/v1/handovers/%s/submit", h);
    EXPECT(r, 422);
    assert_string_equal(th_str(r, "code"), "unfinished_not_handed_over");
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/unfinished");
    th_free(r);

    /* Emergency and major complaint dealt with: only the control room's equipment flag. */
    set_request_state(emerg, "resolved");
    set_request_state(major, "resolved");
    r = callf("POST", "security", "{\"transition\":true,\"note\":\"2 号冷水机组启动中\"}",
              "/v1/duty/shifts/%s/equipment", ctl);
    EXPECT(r, 200);
    th_free(r);
    r = callf("POST", "security", NULL, "/v1/duty/shifts/%s/start", ctl);
    EXPECT(r, 200);
    th_free(r);
    free(sub);
    th_free(d);
    d = callf("GET", "agent", NULL, "/v1/handovers/%s", h);
    sub = submission(d, all_confirmed);
    r = callf("POST", "agent", sub, "/v1/handovers/%s/submit", h);
    EXPECT(r, 409);
    assert_true(has_reason(r, "equipment_transition"));
    assert_false(has_reason(r, "open_emergency"));
    assert_false(has_reason(r, "section_unconfirmed"));
    th_free(r);
    r = callf("POST", "security", "{\"transition\":false}", "/v1/duty/shifts/%s/equipment", ctl);
    EXPECT(r, 200);
    th_free(r);

    /* An open (draft) incident report blocks it too. */
    iso(-1800, at);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"flood\",\"occurred_at\":\"%s\",\"place\":\"B2 "
             "车库\"}",
             p1, at);
    r = call("POST", "agent", "/v1/incidents", body);
    EXPECT(r, 201);
    snprintf(inc, sizeof inc, "%s", th_str(r, "id"));
    th_free(r);
    r = callf("POST", "agent", sub, "/v1/handovers/%s/submit", h);
    EXPECT(r, 409);
    assert_true(has_reason(r, "open_incident"));
    th_free(r);
    r = patch_inc("agent", "{\"actions\":\"关闭阀门，抽水\"}", inc);
    EXPECT(r, 200);
    th_free(r);
    r = callf("POST", "agent", NULL, "/v1/incidents/%s/submit", inc);
    EXPECT(r, 200);
    th_free(r);

    /* Submitted: the outgoing person's signature; the shift stays on duty. */
    r = callf("POST", "agent", sub, "/v1/handovers/%s/submit", h);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "state"), "submitted");
    assert_string_equal(th_str(r, "submitted_by"), u_agent);
    assert_true(th_jtrue(r->json, "outgoing_on_duty"));
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "unfinished"), 0), "reason"),
                        "业主不在家，约好明早");
    th_free(r);
    EXPECT_PROBLEM(callf("POST", "agent", sub, "/v1/handovers/%s/submit", h), 409, "invalid_state");
    free(sub);
    th_free(d);
    r = callf("GET", "agent", NULL, "/v1/duty/shifts/%s", eve);
    assert_true(th_jnull(r->json, "actual_end"));
    th_free(r);

    /* Acceptance: the incoming person's own token; nobody else's. */
    EXPECT_PROBLEM(callf("POST", "supervisor", NULL, "/v1/handovers/%s/accept", h), 403,
                   "not_incoming");
    EXPECT_PROBLEM(callf("POST", "agent", NULL, "/v1/handovers/%s/accept", h), 403, "not_incoming");
    EXPECT_PROBLEM(callf("POST", "auditor", NULL, "/v1/handovers/%s/accept", h), 403, NULL);
    EXPECT_PROBLEM(callf("POST", "resident", NULL, "/v1/handovers/%s/accept", h), 403, NULL);
    EXPECT_PROBLEM(callf("POST", "other.agent", NULL, "/v1/handovers/%s/accept", h), 404,
                   "not_found");
    /* A new emergency before acceptance refuses it again. */
    char emerg2[40];
    request("emergency", "", emerg2);
    r = callf("POST", "clerk", NULL, "/v1/handovers/%s/accept", h);
    EXPECT(r, 409);
    assert_true(has_reason(r, "open_emergency"));
    th_free(r);
    set_request_state(emerg2, "closed");
    r = callf("POST", "clerk", NULL, "/v1/handovers/%s/accept", h);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "state"), "accepted");
    assert_string_equal(th_str(r, "accepted_by"), u_clerk);
    assert_false(th_jtrue(r->json, "outgoing_on_duty"));
    assert_false(th_jtrue(r->json, "late"));
    th_free(r);
    r = callf("GET", "agent", NULL, "/v1/duty/shifts/%s", eve);
    assert_false(th_jnull(r->json, "actual_end"));
    assert_false(th_jtrue(r->json, "on_duty"));
    th_free(r);
    r = callf("GET", "clerk", NULL, "/v1/duty/shifts/%s", morn);
    assert_true(th_jtrue(r->json, "on_duty"));
    th_free(r);
    EXPECT_PROBLEM(callf("POST", "clerk", NULL, "/v1/handovers/%s/accept", h), 409,
                   "invalid_state");
    /* Scope. */
    EXPECT_PROBLEM(callf("GET", "other.agent", NULL, "/v1/handovers/%s", h), 404, "not_found");
}

static void test_handover_unfit_and_replacement(void **state)
{
    (void)state;
    char s1[40], h[40];
    shift(p1, "office", q(u_agent), -8 * 3600, 600, s1);
    th_resp_t *d;
    draft("agent", s1, NULL, u_clerk, 600, &d, h);
    /* A flag needs what was observed; only the outgoing person or a supervisor sets it. */
    EXPECT_PROBLEM(callf("POST", "agent", "{\"unfit\":true}", "/v1/handovers/%s/fitness", h), 422,
                   "missing_field");
    EXPECT_PROBLEM(
        callf("POST", "clerk", "{\"unfit\":true,\"note\":\"x\"}", "/v1/handovers/%s/fitness", h),
        403, "not_outgoing");
    th_resp_t *r = callf("POST", "agent", "{\"unfit\":true,\"note\":\"有酒气，言语不清\"}",
                         "/v1/handovers/%s/fitness", h);
    EXPECT(r, 200);
    assert_true(th_jtrue(r->json, "incoming_unfit"));
    th_free(r);
    char *sub = submission(d, all_confirmed);
    r = callf("POST", "agent", sub, "/v1/handovers/%s/submit", h);
    EXPECT(r, 409);
    assert_true(has_reason(r, "incoming_unfit"));
    th_free(r);
    /* The supervisor names a replacement: submitted, then the unfit person may not accept,
     * the replacement does. */
    char b[300];
    snprintf(b, sizeof b,
             "{\"unfit\":true,\"note\":\"有酒气，言语不清\",\"replacement_user_id\":\"%s\"}",
             u_clerk);
    EXPECT_PROBLEM(callf("POST", "supervisor", b, "/v1/handovers/%s/fitness", h), 422,
                   "invalid_field");
    snprintf(b, sizeof b,
             "{\"unfit\":true,\"note\":\"有酒气，言语不清\",\"replacement_user_id\":\"%s\"}",
             u_security);
    r = callf("POST", "supervisor", b, "/v1/handovers/%s/fitness", h);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "replacement_user_id"), u_security);
    th_free(r);
    r = callf("POST", "agent", sub, "/v1/handovers/%s/submit", h);
    EXPECT(r, 200);
    th_free(r);
    r = callf("POST", "clerk", NULL, "/v1/handovers/%s/accept", h);
    EXPECT(r, 409);
    assert_true(has_reason(r, "incoming_unfit"));
    th_free(r);
    EXPECT_PROBLEM(callf("POST", "manager", NULL, "/v1/handovers/%s/accept", h), 403,
                   "not_incoming");
    r = callf("POST", "security", NULL, "/v1/handovers/%s/accept", h);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "accepted_by"), u_security);
    th_free(r);
    free(sub);
    th_free(d);
}

static void test_handover_late_and_faults(void **state)
{
    (void)state;
    char s1[40], s2[40], h[40], path[300], f[40], t[40];
    shift(p1, "control_room", q(u_security), -10 * 3600, -3600, s1);
    th_resp_t *d;
    draft("security", s1, NULL, u_agent, -3600, &d, h);
    th_free(d);
    /* A custom grace on the project: 20 minutes. */
    char body[600];
    snprintf(
        body, sizeof body,
        "{\"handover_checklist\":[{\"code\":\"radios\",\"label\":\"对讲机\",\"required\":true},"
        "{\"code\":\"monitors\",\"label\":\"监控画面\",\"required\":false}],"
        "\"accept_grace_minutes\":20}");
    snprintf(path, sizeof path, "/v1/projects/%s/duty/settings", p1);
    EXPECT_PROBLEM(call("PUT", "agent", path, body), 403, NULL);
    EXPECT_PROBLEM(call("PUT", "supervisor", path, "{\"handover_checklist\":[{\"code\":\"a\"}]}"),
                   422, "missing_field");
    th_resp_t *r = call("PUT", "supervisor", path, body);
    EXPECT(r, 200);
    assert_int_equal(th_jn(r->json, "accept_grace_minutes"), 20);
    th_free(r);
    r = call("GET", "agent", path, NULL);
    EXPECT(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "handover_checklist")), 2);
    th_free(r);

    /* Not accepted an hour after the planned time: late, and the supervisor hears once. */
    r = callf("GET", "supervisor", NULL, "/v1/handovers/%s", h);
    EXPECT(r, 200);
    assert_true(th_jtrue(r->json, "late"));
    assert_true(th_jn(r->json, "late_minutes") >= 59);
    assert_true(th_jtrue(r->json, "outgoing_on_duty"));
    th_free(r);
    long before = notes(u_supervisor, "handover_not_accepted");
    EXPECT_PROBLEM(call("POST", "supervisor", "/v1/admin/duty/check", NULL), 403, NULL);
    r = call("POST", "admin", "/v1/admin/duty/check", NULL);
    EXPECT(r, 200);
    assert_true(th_jn(r->json, "late_handovers") >= 1);
    th_free(r);
    assert_int_equal(notes(u_supervisor, "handover_not_accepted"), before + 1);
    r = call("POST", "admin", "/v1/admin/duty/check", NULL);
    EXPECT(r, 200);
    th_free(r);
    assert_int_equal(notes(u_supervisor, "handover_not_accepted"), before + 1);

    /* A shift that ended with no handover at all. */
    shift(p1, "office", q(u_clerk), -6 * 3600, -2 * 3600, s2);
    iso(-12 * 3600, f);
    iso(60, t);
    char q1[200];
    snprintf(q1, sizeof q1, "/v1/projects/%s/duty/handover-faults?from=%s&to=%s", p1, f, t);
    EXPECT_PROBLEM(call("GET", "agent", q1, NULL), 403, NULL);
    r = call("GET", "supervisor", q1, NULL);
    EXPECT(r, 200);
    int clerk_missing = 0, security_incomplete = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        if (!strcmp(th_js(it, "user_id"), u_clerk))
            clerk_missing = (int)th_jn(it, "missing");
        if (!strcmp(th_js(it, "user_id"), u_security))
            security_incomplete = (int)th_jn(it, "missing") + (int)th_jn(it, "incomplete");
    }
    assert_true(clerk_missing >= 1);
    assert_true(security_incomplete >= 1);
    th_free(r);
    EXPECT_PROBLEM(call("GET", "supervisor",
                        "/v1/projects/00000000-0000-0000-0000-000000000000/duty/"
                        "handover-faults?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
                        NULL),
                   404, "not_found");
    /* The supervisor's daily view shows it late too. */
    const char *hv[] = {h};
    char day[11];
    snprintf(day, sizeof day, "%s",
             th_sql1("SELECT ((planned_at AT TIME ZONE 'Asia/Shanghai')::date)::text FROM "
                     "handovers WHERE id = $1",
                     hv, 1));
    snprintf(path, sizeof path, "/v1/projects/%s/duty/days/%s", p1, day);
    r = call("GET", "supervisor", path, NULL);
    EXPECT(r, 200);
    int late_seen = 0;
    cJSON_ArrayForEach(it, th_jpath(r->json, "handovers")) late_seen |=
        !strcmp(th_js(it, "id"), h) && th_jtrue(it, "late");
    assert_true(late_seen);
    th_free(r);
    /* The list shows it among the project's handovers. */
    r = callf("GET", "supervisor", NULL, "/v1/handovers?project_id=%s&state=draft", p1);
    EXPECT(r, 200);
    int listed = 0;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items")) listed |= !strcmp(th_js(it, "id"), h);
    assert_true(listed);
    th_free(r);
}

/* ---- incident reports ------------------------------------------------------------------- */

static void test_incident_reports(void **state)
{
    (void)state;
    char emerg[40], rep[40], fire[40], body[1200], at[40], path[128];
    request("emergency", "", emerg);
    long opened = notes(u_manager, "incident_opened");
    iso(-2 * 3600, at);
    /* Linked requests are the project's emergency requests. */
    char repair[40];
    request("repair", "", repair);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"lift_entrapment\",\"occurred_at\":\"%s\","
             "\"request_ids\":[\"%s\"]}",
             p1, at, repair);
    th_resp_t *r = call("POST", "agent", "/v1/incidents", body);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/request_ids");
    th_free(r);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"earthquake\",\"occurred_at\":\"%s\"}", p1, at);
    EXPECT_PROBLEM(call("POST", "agent", "/v1/incidents", body), 422, "invalid_enum");
    EXPECT_PROBLEM(call("POST", "technician", "/v1/incidents", body), 403, NULL);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"lift_entrapment\",\"occurred_at\":\"%s\","
             "\"request_ids\":[\"%s\"],\"place\":\"3 栋 2 号电梯\",\"actions\":\"安抚被困人员，"
             "通知维保\",\"services\":[\"lift_company\",\"119\"],\"affected_units\":[\"%s\"]}",
             p1, at, emerg, unit101);
    r = call("POST", "agent", "/v1/incidents", body);
    EXPECT(r, 201);
    snprintf(rep, sizeof rep, "%s", th_str(r, "id"));
    assert_string_equal(th_str(r, "state"), "draft");
    /* Due by the end of the next local day after the event, in the project's zone. */
    const char *v[] = {at};
    const char *want =
        th_sql1("SELECT rfc3339(((($1::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + 2)"
                "::timestamp) AT TIME ZONE 'Asia/Shanghai')",
                v, 1);
    assert_string_equal(th_str(r, "due_at"), want);
    assert_false(th_jtrue(r->json, "overdue"));
    th_free(r);
    assert_int_equal(notes(u_manager, "incident_opened"), opened + 1);

    /* Submission checks, each pointing at what is missing. */
    r = callf("POST", "agent", NULL, "/v1/incidents/%s/submit", rep);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/lift_company/contact");
    th_free(r);
    char arr[40];
    iso(-3600, arr);
    snprintf(body, sizeof body,
             "{\"lift_company\":{\"company\":\"迅达\",\"contact\":\"王师傅\",\"phone\":"
             "\"13800000000\",\"arrived_at\":\"%s\"}}",
             arr);
    snprintf(path, sizeof path, "/v1/incidents/%s", rep);
    EXPECT_PROBLEM(th_req("PATCH", path, th_token("agent"), body, NULL), 428, "if_match_required");
    const char *const stale[] = {"If-Match: \"99\"", NULL};
    EXPECT_PROBLEM(th_req("PATCH", path, th_token("agent"), body, stale), 412, "stale_version");
    r = patch_inc("agent", body, rep);
    EXPECT(r, 200);
    assert_string_equal(th_js(r->json, "lift_company.contact"), "王师傅");
    assert_string_equal(th_str(r, "place"), "3 栋 2 号电梯");
    th_free(r);
    r = callf("POST", "agent", NULL, "/v1/incidents/%s/submit", rep);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/owners_notified");
    th_free(r);
    r = patch_inc("agent", "{\"owners_notified\":true,\"damage\":\"无\"}", rep);
    EXPECT(r, 200);
    th_free(r);
    r = patch_inc("agent", "{\"lift_company\":{\"arrived_at\":\"yesterday\"}}", rep);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/lift_company/arrived_at");
    th_free(r);
    long sup = notes(u_supervisor, "incident_report_submitted");
    long gm = notes(u_gm, "incident_report_gm");
    r = callf("POST", "agent", NULL, "/v1/incidents/%s/submit", rep);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "state"), "submitted");
    th_free(r);
    assert_int_equal(notes(u_supervisor, "incident_report_submitted"), sup + 1);
    assert_int_equal(notes(u_gm, "incident_report_gm"), gm); /* not a fire or robbery */
    EXPECT_PROBLEM(patch_inc("agent", "{\"damage\":\"x\"}", rep), 409, "invalid_state");
    EXPECT_PROBLEM(callf("POST", "agent", NULL, "/v1/incidents/%s/acknowledge", rep), 403, NULL);
    r = callf("POST", "supervisor", NULL, "/v1/incidents/%s/acknowledge", rep);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "state"), "acknowledged");
    th_free(r);
    EXPECT_PROBLEM(callf("POST", "supervisor", NULL, "/v1/incidents/%s/acknowledge", rep), 409,
                   "invalid_state");

    /* Fire with police: officer and case number; then the GM gets it too. */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"fire\",\"occurred_at\":\"%s\",\"place\":\"5 栋"
             "垃圾房\",\"actions\":\"灭火器扑灭\",\"services\":[\"119\",\"110\"],\"police\":"
             "{\"officer_number\":\"012345\"}}",
             p1, at);
    r = call("POST", "security", "/v1/incidents", body);
    EXPECT(r, 201);
    snprintf(fire, sizeof fire, "%s", th_str(r, "id"));
    assert_true(th_jtrue(r->json, "to_gm"));
    th_free(r);
    r = callf("POST", "security", NULL, "/v1/incidents/%s/submit", fire);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/police/case_number");
    th_free(r);
    r = patch_inc("security",
                  "{\"police\":{\"officer_rank\":\"警司\",\"officer_number\":\"012345\","
                  "\"case_number\":\"SZ2026-1127\"}}",
                  fire);
    EXPECT(r, 200);
    th_free(r);
    r = callf("POST", "security", NULL, "/v1/incidents/%s/submit", fire);
    EXPECT(r, 200);
    th_free(r);
    assert_int_equal(notes(u_gm, "incident_report_gm"), gm + 1);

    /* Forced entry needs who decided and the explanation afterwards. */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"forced_entry\",\"occurred_at\":\"%s\",\"place\":"
             "\"1-101\",\"actions\":\"漏水，破门关阀\",\"forced_entry\":{\"decided_by\":"
             "\"服务中心主任\"}}",
             p1, at);
    r = call("POST", "agent", "/v1/incidents", body);
    EXPECT(r, 201);
    char fe[40];
    snprintf(fe, sizeof fe, "%s", th_str(r, "id"));
    th_free(r);
    r = callf("POST", "agent", NULL, "/v1/incidents/%s/submit", fe);
    EXPECT(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/forced_entry/explanation");
    th_free(r);

    /* Overdue: an event three days ago whose report is still a draft escalates once. */
    iso(-3 * 86400, at);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"gas\",\"occurred_at\":\"%s\"}",
             p1, at);
    r = call("POST", "agent", "/v1/incidents", body);
    EXPECT(r, 201);
    assert_true(th_jtrue(r->json, "overdue"));
    th_free(r);
    long esc = notes(u_manager, "incident_report_escalated");
    long warn = notes(u_agent, "incident_report_overdue");
    r = call("POST", "admin", "/v1/admin/duty/check", NULL);
    EXPECT(r, 200);
    assert_true(th_jn(r->json, "overdue_incident_reports") >= 1);
    th_free(r);
    assert_true(notes(u_manager, "incident_report_escalated") > esc);
    assert_true(notes(u_agent, "incident_report_overdue") > warn);
    long esc2 = notes(u_manager, "incident_report_escalated");
    r = call("POST", "admin", "/v1/admin/duty/check", NULL);
    th_free(r);
    assert_int_equal(notes(u_manager, "incident_report_escalated"), esc2);

    /* Lists and scope. */
    r = callf("GET", "supervisor", NULL, "/v1/incidents?project_id=%s&state=draft", p1);
    EXPECT(r, 200);
    assert_true(cJSON_GetArraySize(th_jpath(r->json, "items")) >= 2);
    th_free(r);
    EXPECT_PROBLEM(callf("GET", "other.agent", NULL, "/v1/incidents/%s", rep), 404, "not_found");
    EXPECT_PROBLEM(callf("GET", "resident", NULL, "/v1/incidents/%s", rep), 403, NULL);
    r = callf("GET", "auditor", NULL, "/v1/incidents/%s", rep);
    EXPECT(r, 200);
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shift_and_log),
        cmocka_unit_test(test_project_scope),
        cmocka_unit_test(test_daily_review),
        cmocka_unit_test(test_handover_refusals_and_accept),
        cmocka_unit_test(test_handover_unfit_and_replacement),
        cmocka_unit_test(test_handover_late_and_faults),
        cmocka_unit_test(test_incident_reports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
