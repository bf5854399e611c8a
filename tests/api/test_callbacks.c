/*
 * tests/api/test_callbacks.c — callbacks end to end (RULES §3.1, issue 9): the task a
 * resolution opens in its own transaction, attempts and their refusals (wrong role, wrong
 * project, did the work, supervisor needed, missing/contradicting fields, visit
 * signature), the derived outcome (close, reopen one level up, a repair's linked
 * complaint), give-up (too early, then allowed), the resident's own answer (a neighbour's
 * is 404), assignment, the lists, the overdue marker, and the month's figures on a
 * hand-computed fixture.
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
#include "tests/lib/requests.h"

static char unit101[40], unit2101[40], res_zw[40], res_ln[40], dept_eng[40], project[40];
static char uid_agent[40], uid_super[40], uid_tech[40], other_project[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(NULL) != 0)
        return -1;
    if (th_fx_unit("demo", "1-101", unit101) || th_fx_unit("demo", "2-101", unit2101) ||
        th_fx_resident("demo", "张伟", res_zw) || th_fx_resident("demo", "李娜", res_ln) ||
        th_fx_dept("demo", "engineering", dept_eng) || th_fx_project("demo", project) ||
        th_fx_project("other", other_project) || th_fx_user("agent", uid_agent) ||
        th_fx_user("supervisor", uid_super) || th_fx_user("technician", uid_tech))
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static th_resp_t *act(const char *user, const char *id, const char *action, const char *body)
{
    char path[200], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    th_resp_t *g = th_req("GET", path, th_token("agent"), NULL, NULL);
    snprintf(im, sizeof im, "If-Match: \"%ld\"", th_jn(g->json, "version"));
    th_free(g);
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, action);
    const char *h[] = {im, NULL};
    return th_req("POST", path, th_token(user), body, h);
}

static void ok_act_at(int line, const char *user, const char *id, const char *action,
                      const char *body)
{
    th_resp_t *r = act(user, id, action, body);
    if (r->status != 200)
        fail_msg("line %d: %s by %s: %ld %s", line, action, user, r->status, r->body);
    th_free(r);
}
#define OK_ACT(...) ok_act_at(__LINE__, __VA_ARGS__)

/* A new request of `type` at `unit` (optional extra JSON members, e.g. severity), with an
 * optional past occurred_at. */
static void new_request(const char *type, const char *unit, const char *res, const char *extra,
                        const char *occurred, char id[40])
{
    char body[1024], occ[80] = "";
    if (occurred)
        snprintf(occ, sizeof occ, ",\"occurred_at\":\"%s\"", occurred);
    snprintf(body, sizeof body,
             "{\"type\":\"%s\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"回访测试\"%s%s}",
             type, unit, res, extra ? extra : "", occ);
    th_free(th_create_request_at(__LINE__, "agent", body, id));
}

/* A complaint (or inquiry...) the desk resolves itself, resolved at `at` (NULL now). */
static void resolved_request(const char *type, const char *extra, const char *created,
                             const char *at, char id[40])
{
    new_request(type, unit101, res_zw, extra, created, id);
    char b[200];
    if (at)
        snprintf(b, sizeof b, "{\"resolution\":\"已处理\",\"occurred_at\":\"%s\"}", at);
    else
        snprintf(b, sizeof b, "{\"resolution\":\"已处理\"}");
    OK_ACT("agent", id, "resolve", b);
}

/* A repair done by the technician and signed off by the household: resolved. */
static void resolved_repair(char id[40])
{
    new_request("repair", unit101, res_zw, NULL, NULL, id);
    char b[200];
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng, uid_tech);
    OK_ACT("agent", id, "dispatch", b);
    OK_ACT("technician", id, "accept", NULL);
    OK_ACT("technician", id, "arrive", NULL);
    OK_ACT("technician", id, "report_result", "{\"result\":\"已更换水龙头\"}");
    OK_ACT("resident", id, "sign_off", NULL);
}

/* The request's open task id into task (fails when there is none). */
static void task_of(const char *request, char task[40])
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT id FROM callback_tasks WHERE request_id = '%s' AND state = 'open'", request);
    if (th_grab(task, sql) != 0)
        fail_msg("no open callback task for %s", request);
}

static th_resp_t *attempt(const char *user, const char *task, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/callbacks/%s/attempts", task);
    return th_req("POST", path, th_token(user), body, NULL);
}

static th_resp_t *give_up(const char *user, const char *task, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/callbacks/%s/give-up", task);
    return th_req("POST", path, th_token(user), body, NULL);
}

static const char *q1(const char *sql, const char *id)
{
    const char *p[] = {id};
    const char *v = th_sql1(sql, p, 1);
    if (!v)
        fail_msg("query failed: %s", sql);
    return v;
}

/* ---------------------------------------------------------------- tests */

/* Resolving opens the task in the same transaction, due at the request's callback clock;
 * the lists show it; the desk assigns it. */
static void test_resolution_opens_task(void **state)
{
    (void)state;
    char id[40], task[40], inq[40];
    resolved_repair(id);
    task_of(id, task);
    assert_string_equal(q1("SELECT (t.due_at = r.due_callback AND t.resolved_at = r.resolved_at "
                           "AND t.kind = 'repair' AND t.min_role = 'agent' AND NOT t.on_demand "
                           "AND t.assignee_id IS NULL)::text FROM callback_tasks t JOIN requests "
                           "r ON r.id = t.request_id WHERE t.id = $1",
                           task),
                        "true");
    /* An inquiry needs none; the desk may ask for one. */
    resolved_request("inquiry", NULL, NULL, NULL, inq);
    assert_string_equal(q1("SELECT count(*) FROM callback_tasks WHERE request_id = $1", inq), "0");
    char b[120];
    snprintf(b, sizeof b, "{\"request_id\":\"%s\"}", inq);
    th_resp_t *r = th_req("POST", "/v1/callbacks", th_token("agent"), b, NULL);
    EXPECT_STATUS(r, 201);
    assert_true(th_jtrue(r->json, "on_demand"));
    assert_string_equal(th_js(r->json, "kind"), "other");
    th_free(r);
    EXPECT_PROBLEM(th_req("POST", "/v1/callbacks", th_token("agent"), b, NULL), 409,
                   "callback_exists");
    EXPECT_PROBLEM(th_req("POST", "/v1/callbacks", th_token("technician"), b, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("POST", "/v1/callbacks", th_token("other.agent"), b, NULL), 404, NULL);

    /* GET, scope. */
    char path[160];
    snprintf(path, sizeof path, "/v1/callbacks/%s", task);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "request_id"), id);
    assert_string_equal(th_js(r->json, "state"), "open");
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_req("GET", path, th_token("technician"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", path, th_token("resident"), NULL, NULL), 403, NULL);

    /* Assign: If-Match; the technician who did the work may not take it. */
    snprintf(path, sizeof path, "/v1/callbacks/%s/assign", task);
    snprintf(b, sizeof b, "{\"assignee_id\":\"%s\"}", uid_tech);
    const char *h1[] = {"If-Match: \"1\"", NULL};
    r = th_req("POST", path, th_token("supervisor"), b, h1);
    EXPECT_PROBLEM(r, 422, "forbidden_role");
    snprintf(b, sizeof b, "{\"assignee_id\":\"%s\"}", uid_agent);
    EXPECT_PROBLEM(th_req("POST", path, th_token("supervisor"), b, NULL), 428, NULL);
    r = th_req("POST", path, th_token("supervisor"), b, h1);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "assignee_id"), uid_agent);
    assert_int_equal(th_jn(r->json, "version"), 2);
    th_free(r);
    EXPECT_PROBLEM(th_req("POST", path, th_token("supervisor"), b, h1), 412, "stale_version");

    /* My open tasks; due before; overdue; by project; other project 404. */
    r = th_req("GET", "/v1/callbacks?assignee=me", th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    int found = 0;
    for (int i = 0; i < cJSON_GetArraySize(items); i++)
        found += !strcmp(th_js(cJSON_GetArrayItem(items, i), "id"), task);
    assert_int_equal(found, 1);
    th_free(r);
    r = th_req("GET", "/v1/callbacks?assignee=me", th_token("supervisor"), NULL, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 0);
    th_free(r);
    r = th_req("GET", "/v1/callbacks?due_before=2000-01-01T00:00:00Z", th_token("agent"), NULL,
               NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 0);
    th_free(r);
    snprintf(path, sizeof path, "/v1/callbacks?project_id=%s&limit=1", project);
    r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 1);
    assert_false(th_jnull(r->json, "next_cursor"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/callbacks?project_id=%s", other_project);
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent"), NULL, NULL), 404, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/callbacks?state=maybe", th_token("agent"), NULL, NULL), 400,
                   "invalid_query");
    /* Overdue: the task's due time passed; the marker notifies the assignee once. */
    assert_non_null(q1("UPDATE callback_tasks SET due_at = now() - interval '1 hour' WHERE id = "
                       "$1 RETURNING id",
                       task));
    r = th_req("GET", "/v1/callbacks?overdue=true&assignee=me", th_token("agent"), NULL, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 1);
    assert_true(th_jtrue(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "items"), 0), "overdue"));
    th_free(r);
}

/* Every refusal of an attempt, then an unreached attempt that keeps the task open. */
static void test_attempt_refusals(void **state)
{
    (void)state;
    char id[40], task[40];
    resolved_repair(id);
    task_of(id, task);
    const char *snap = "SELECT count(*) || '/' || (SELECT state FROM requests WHERE id = $1) FROM "
                       "callback_attempts WHERE request_id = $1";
    char *before = th_snapshot(snap, id);
    EXPECT_PROBLEM(attempt("technician", task, "{\"method\":\"phone\",\"reached\":false}"), 403,
                   NULL);
    EXPECT_PROBLEM(attempt("other.agent", task, "{\"method\":\"phone\",\"reached\":false}"), 404,
                   "not_found");
    EXPECT_PROBLEM(attempt("agent", task, "{\"reached\":true,\"rating\":\"满意\"}"), 422,
                   "missing_field");
    EXPECT_PROBLEM(attempt("agent", task, "{\"method\":\"phone\",\"reached\":true}"), 422,
                   "missing_field");
    EXPECT_PROBLEM(
        attempt("agent", task, "{\"method\":\"phone\",\"reached\":false,\"rating\":\"satisfied\"}"),
        422, "invalid_field");
    EXPECT_PROBLEM(attempt("agent", task, "{\"method\":\"fax\",\"reached\":false}"), 422, NULL);
    EXPECT_PROBLEM(
        attempt("agent", task, "{\"method\":\"phone\",\"reached\":true,\"rating\":\"很好\"}"), 422,
        NULL);
    EXPECT_PROBLEM(attempt("agent", task,
                           "{\"method\":\"phone\",\"reached\":true,\"rating\":\"极不满意\","
                           "\"satisfied\":true}"),
                   422, "contradicting_outcome");
    EXPECT_PROBLEM(attempt("agent", task,
                           "{\"method\":\"phone\",\"reached\":true,\"rating\":\"满意\","
                           "\"outcome\":\"reopened\"}"),
                   422, "contradicting_outcome");
    EXPECT_PROBLEM(attempt("agent", task,
                           "{\"method\":\"visit\",\"reached\":true,\"rating\":\"满意\","
                           "\"signer_name\":\"张伟\"}"),
                   422, "signature_required");
    /* A signature that is no attachment of this request. */
    EXPECT_PROBLEM(attempt("agent", task,
                           "{\"method\":\"visit\",\"reached\":true,\"rating\":\"满意\","
                           "\"signer_name\":\"张伟\",\"signature_attachment_id\":"
                           "\"00000000-0000-0000-0000-000000000001\"}"),
                   422, "invalid_field");
    EXPECT_PROBLEM(attempt("agent", task, "{\"method\":\"phone\",\"reached\":false,\"x\":1}"), 422,
                   NULL);
    /* Whoever did the work may not call back: the supervisor held the work order. */
    assert_non_null(q1("UPDATE work_orders SET assignee_id = (SELECT id FROM users WHERE "
                       "username = 'supervisor') WHERE request_id = $1 RETURNING id",
                       id));
    EXPECT_PROBLEM(attempt("supervisor", task, "{\"method\":\"phone\",\"reached\":false}"), 403,
                   "did_the_work");
    th_expect_snapshot_at(__LINE__, snap, id, before);
    free(before);

    th_resp_t *r = attempt("agent", task,
                           "{\"method\":\"phone\",\"reached\":false,\"notes\":"
                           "\"无人接听\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "state"), "open");
    assert_int_equal(th_jn(r->json, "attempts"), 1);
    const cJSON *list = cJSON_GetObjectItem(r->json, "attempts_list");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_false(th_jtrue(cJSON_GetArrayItem(list, 0), "reached"));
    assert_string_equal(th_js(cJSON_GetArrayItem(list, 0), "caller_user_id"), uid_agent);
    th_free(r);
    assert_string_equal(q1("SELECT state FROM requests WHERE id = $1", id), "resolved");
    /* Attempts are append-only. */
    assert_null(th_sql1("UPDATE callback_attempts SET notes = 'x' RETURNING id", NULL, 0));

    /* A visit with the household's signature, reached, 满意: the repair closes. */
    char att[40], sql[600];
    snprintf(sql, sizeof sql,
             "INSERT INTO request_attachments (org_id, request_id, filename, content_type, "
             "size_bytes, storage_key, uploaded_by) SELECT org_id, id, 'sign.png', 'image/png', "
             "10, 'k/sign', created_by FROM requests WHERE id = '%s' RETURNING id",
             id);
    assert_int_equal(th_grab(att, sql), 0);
    char b[400];
    snprintf(b, sizeof b,
             "{\"method\":\"visit\",\"reached\":true,\"rating\":\"satisfied\",\"satisfied\":true,"
             "\"signer_name\":\"张伟\",\"signature_attachment_id\":\"%s\"}",
             att);
    r = attempt("agent", task, b);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "state"), "done");
    assert_string_equal(th_js(r->json, "outcome"), "closed");
    assert_string_equal(th_js(r->json, "rating"), "satisfied");
    th_free(r);
    assert_string_equal(q1("SELECT state FROM requests WHERE id = $1", id), "closed");
    assert_string_equal(q1("SELECT action || ':' || (details->>'rating_label') FROM "
                           "request_events WHERE request_id = $1 ORDER BY seq DESC LIMIT 1",
                           id),
                        "callback_result:满意");
    EXPECT_PROBLEM(attempt("agent", task, "{\"method\":\"phone\",\"reached\":false}"), 409,
                   "task_not_open");
    /* The request's callback clock is met. */
    assert_string_equal(
        q1("SELECT (due_callback IS NOT NULL)::text FROM requests WHERE id = $1", id), "true");
}

/* A dissatisfied complaint reopens one level up; an important one needs a supervisor; a
 * dissatisfied repair closes and opens a linked complaint one level up. */
static void test_dissatisfied_outcomes(void **state)
{
    (void)state;
    char c1[40], t1[40];
    resolved_request("complaint", ",\"severity\":\"important\"", NULL, NULL, c1);
    task_of(c1, t1);
    assert_string_equal(q1("SELECT min_role FROM callback_tasks WHERE id = $1", t1), "supervisor");
    EXPECT_PROBLEM(attempt("agent", t1,
                           "{\"method\":\"phone\",\"reached\":true,\"rating\":"
                           "\"dissatisfied\"}"),
                   403, "supervisor_required");
    th_resp_t *r = attempt("supervisor", t1,
                           "{\"method\":\"phone\",\"reached\":true,\"rating\":\"不满意\","
                           "\"satisfied\":false,\"outcome\":\"reopened\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "outcome"), "reopened");
    assert_string_equal(th_js(r->json, "rating"), "dissatisfied");
    th_free(r);
    assert_string_equal(q1("SELECT state || '/' || reopen_count || '/' || escalation_level || "
                           "'/' || (resolved_at IS NULL) FROM requests WHERE id = $1",
                           c1),
                        "received/1/1/true");
    assert_string_equal(q1("SELECT (count(*) > 0)::text FROM notifications WHERE request_id = $1 "
                           "AND kind = 'callback_dissatisfied'",
                           c1),
                        "true");
    /* Resolved again: a new task. */
    OK_ACT("agent", c1, "resolve", "{\"resolution\":\"经理上门\"}");
    assert_string_equal(q1("SELECT count(*) || '/' || count(*) FILTER (WHERE state = 'open') FROM "
                           "callback_tasks WHERE request_id = $1",
                           c1),
                        "2/1");

    char rp[40], t2[40], follow[40];
    resolved_repair(rp);
    task_of(rp, t2);
    r = attempt("agent", t2,
                "{\"method\":\"phone\",\"reached\":true,\"rating\":\"极不满意\","
                "\"notes\":\"还在漏水\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "outcome"), "follow_up_complaint");
    snprintf(follow, sizeof follow, "%s", th_js(r->json, "follow_up_request_id"));
    th_free(r);
    assert_string_equal(q1("SELECT state FROM requests WHERE id = $1", rp), "closed");
    char want[120];
    snprintf(want, sizeof want, "complaint/received/1/quality/%s", unit101);
    assert_string_equal(q1("SELECT type || '/' || state || '/' || escalation_level || '/' || "
                           "category || '/' || unit_id FROM requests WHERE id = $1",
                           follow),
                        want);
    assert_string_equal(q1("SELECT (count(*) > 0)::text FROM notifications WHERE request_id = $1 "
                           "AND kind = 'callback_dissatisfied'",
                           follow),
                        "true");
}

/* Give-up: a reason and 3 unreached attempts on 2 local days; counts as not called back. */
static void test_give_up(void **state)
{
    (void)state;
    char id[40], task[40], created[40], res_at[40], a1[40], a2[40];
    time_t now = time(NULL);
    th_iso_utc(now - 3 * 86400, created);
    th_iso_utc(now - 2 * 86400, res_at);
    th_iso_utc(now - 2 * 86400 + 600, a1);
    th_iso_utc(now - 2 * 86400 + 1200, a2);
    resolved_request("complaint", NULL, created, res_at, id);
    task_of(id, task);
    EXPECT_PROBLEM(give_up("agent", task, "{\"reason\":\"unreachable\"}"), 409,
                   "give_up_too_early");
    char b[200];
    snprintf(b, sizeof b, "{\"method\":\"phone\",\"reached\":false,\"occurred_at\":\"%s\"}", a1);
    th_free(attempt("agent", task, b));
    snprintf(b, sizeof b, "{\"method\":\"sms\",\"reached\":false,\"occurred_at\":\"%s\"}", a2);
    th_free(attempt("agent", task, b));
    /* Two attempts on one day: too early. */
    EXPECT_PROBLEM(give_up("agent", task, "{\"reason\":\"unreachable\"}"), 409,
                   "give_up_too_early");
    th_free(attempt("agent", task, "{\"method\":\"phone\",\"reached\":false}"));
    EXPECT_PROBLEM(give_up("agent", task, "{}"), 422, "missing_field");
    EXPECT_PROBLEM(give_up("agent", task, "{\"reason\":\"other\"}"), 422, "note_required");
    EXPECT_PROBLEM(give_up("agent", task, "{\"reason\":\"lazy\"}"), 422, NULL);
    EXPECT_PROBLEM(give_up("technician", task, "{\"reason\":\"unreachable\"}"), 403, NULL);
    EXPECT_PROBLEM(give_up("other.agent", task, "{\"reason\":\"unreachable\"}"), 404, NULL);
    th_resp_t *r = give_up("agent", task, "{\"reason\":\"unreachable\",\"note\":\"三次无人接听\"}");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "given_up");
    assert_string_equal(th_js(r->json, "give_up_reason"), "unreachable");
    th_free(r);
    assert_string_equal(q1("SELECT state || '/' || (closed_at IS NOT NULL) FROM requests WHERE id "
                           "= $1",
                           id),
                        "closed/true");
    assert_string_equal(q1("SELECT action FROM request_events WHERE request_id = $1 ORDER BY seq "
                           "DESC LIMIT 1",
                           id),
                        "close");
    EXPECT_PROBLEM(give_up("agent", task, "{\"reason\":\"unreachable\"}"), 409, "task_not_open");
}

/* A resident answers their own callback; a neighbour's is 404. */
static void test_resident_answer(void **state)
{
    (void)state;
    char id[40], task[40], path[160];
    resolved_request("complaint", NULL, NULL, NULL, id);
    task_of(id, task);
    snprintf(path, sizeof path, "/v1/requests/%s/callback/answer", id);
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident2"), "{\"rating\":\"满意\"}", NULL), 404,
                   NULL);
    EXPECT_PROBLEM(th_req("POST", path, th_token("agent"), "{\"rating\":\"满意\"}", NULL), 403,
                   NULL);
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident"), "{}", NULL), 422, "missing_field");
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident"),
                          "{\"rating\":\"满意\",\"satisfied\":false}", NULL),
                   422, "contradicting_outcome");
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident"),
                          "{\"rating\":\"满意\",\"method\":\"phone\"}", NULL),
                   422, "invalid_field");
    th_resp_t *r = th_req("POST", path, th_token("resident"),
                          "{\"rating\":\"非常满意\",\"notes\":\"很好\"}", NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "state"), "done");
    assert_string_equal(th_js(r->json, "rating"), "very_satisfied");
    th_free(r);
    assert_string_equal(q1("SELECT state FROM requests WHERE id = $1", id), "closed");
    assert_string_equal(q1("SELECT method || '/' || caller_role FROM callback_attempts WHERE "
                           "task_id = $1",
                           task),
                        "app/resident");
    /* Nothing left to answer. */
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident"), "{\"rating\":\"满意\"}", NULL), 404,
                   "not_found");
}

/* The month's figures on a hand-computed fixture in February 2026 (Asia/Shanghai):
 *   A complaint  resolved 02-03, called back 非常满意          → needing, called back, satisfied
 *   B complaint  resolved 02-10, called back 一般              → needing, called back
 *   C complaint  resolved 02-12, 3 unreached on 2 days, given up → needing
 *   D complaint  resolved 02-20, no attempt (open)            → needing
 *   E inquiry    resolved 02-21, on-demand, 满意               → left out (on demand)
 *   F complaint  judged invalid, resolved 02-22               → no task
 *   G complaint  resolved 2026-02-28T17:00Z = 03-01 01:00 local → March, not February
 * needing 4, called back 2, satisfied 1: callback_rate 0.5, satisfaction 0.5; March: G only
 * (1 needing, 0 called back: rate 0, satisfaction null). */
static void test_month_figures(void **state)
{
    (void)state;
    char a[40], b[40], c[40], d[40], e[40], f[40], g[40], t[40], body[200];
    resolved_request("complaint", NULL, "2026-02-03T01:00:00Z", "2026-02-03T02:00:00Z", a);
    task_of(a, t);
    th_free(attempt("agent", t,
                    "{\"method\":\"phone\",\"reached\":true,\"rating\":\"非常满意\","
                    "\"occurred_at\":\"2026-02-03T05:00:00Z\"}"));
    resolved_request("complaint", NULL, "2026-02-10T01:00:00Z", "2026-02-10T02:00:00Z", b);
    task_of(b, t);
    th_free(attempt("agent", t,
                    "{\"method\":\"phone\",\"reached\":true,\"rating\":\"neutral\","
                    "\"occurred_at\":\"2026-02-10T05:00:00Z\"}"));
    resolved_request("complaint", NULL, "2026-02-12T01:00:00Z", "2026-02-12T02:00:00Z", c);
    task_of(c, t);
    static const char *const tries[] = {"2026-02-12T03:00:00Z", "2026-02-12T04:00:00Z",
                                        "2026-02-13T03:00:00Z"};
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"method\":\"phone\",\"reached\":false,\"occurred_at\":\"%s\"}", tries[i]);
        th_resp_t *r = attempt("agent", t, body);
        EXPECT_STATUS(r, 201);
        th_free(r);
    }
    th_resp_t *r = give_up("agent", t, "{\"reason\":\"unreachable\"}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    resolved_request("complaint", NULL, "2026-02-20T01:00:00Z", "2026-02-20T02:00:00Z", d);
    resolved_request("inquiry", NULL, "2026-02-21T01:00:00Z", "2026-02-21T02:00:00Z", e);
    snprintf(body, sizeof body, "{\"request_id\":\"%s\"}", e);
    r = th_req("POST", "/v1/callbacks", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(t, sizeof t, "%s", th_js(r->json, "id"));
    th_free(r);
    th_free(attempt("agent", t,
                    "{\"method\":\"phone\",\"reached\":true,\"rating\":\"满意\","
                    "\"occurred_at\":\"2026-02-21T05:00:00Z\"}"));
    resolved_request("complaint", ",\"validity\":\"invalid\"", "2026-02-22T01:00:00Z",
                     "2026-02-22T02:00:00Z", f);
    resolved_request("complaint", NULL, "2026-02-28T16:00:00Z", "2026-02-28T17:00:00Z", g);

    char path[200];
    snprintf(path, sizeof path, "/v1/projects/%s/callback-figures?month=2026-02", project);
    r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "needing_callback"), 4);
    assert_int_equal(th_jn(r->json, "called_back"), 2);
    assert_int_equal(th_jn(r->json, "satisfied"), 1);
    assert_int_equal(th_jn(r->json, "given_up"), 1);
    assert_int_equal(th_jn(r->json, "open"), 1);
    assert_float_equal(cJSON_GetObjectItem(r->json, "callback_rate")->valuedouble, 0.5, 1e-12);
    assert_float_equal(cJSON_GetObjectItem(r->json, "satisfaction")->valuedouble, 0.5, 1e-12);
    assert_int_equal(th_jn(r->json, "ratings.very_satisfied"), 1);
    assert_int_equal(th_jn(r->json, "ratings.average"), 1);
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/callback-figures?month=2026-03", project);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "needing_callback"), 1);
    assert_float_equal(cJSON_GetObjectItem(r->json, "callback_rate")->valuedouble, 0.0, 1e-12);
    assert_true(th_jnull(r->json, "satisfaction"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/callback-figures?month=2025-01", project);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(th_jnull(r->json, "callback_rate"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/callback-figures?month=2026-13", project);
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent"), NULL, NULL), 400, "invalid_query");
    snprintf(path, sizeof path, "/v1/projects/%s/callback-figures?month=2026-02", other_project);
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent"), NULL, NULL), 404, NULL);
    snprintf(path, sizeof path, "/v1/projects/%s/callback-figures?month=2026-02", project);
    EXPECT_PROBLEM(th_req("GET", path, th_token("resident"), NULL, NULL), 403, NULL);

    /* The supervisor's daily list: resolved on 02-12 (local) without a reached callback. */
    snprintf(path, sizeof path, "/v1/projects/%s/callbacks/unreached?date=2026-02-12", project);
    r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 0), "request_id"), c);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 0), "task_state"), "given_up");
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/callbacks/unreached?date=2026-02-03", project);
    r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 0);
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%s/callbacks/unreached?date=2026-03-01", project);
    r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    items = cJSON_GetObjectItem(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 0), "request_id"), g);
    th_free(r);
    (void)d;
}

/* The old request actions go through the task: a reopen cancels an open task, a close of a
 * callback gives it up. */
static void test_request_actions_keep_tasks(void **state)
{
    (void)state;
    char id[40], task[40];
    resolved_request("complaint", NULL, NULL, NULL, id);
    task_of(id, task);
    OK_ACT("agent", id, "reopen", NULL);
    assert_string_equal(
        q1("SELECT state || '/' || outcome FROM callback_tasks WHERE id = $1", task),
        "cancelled/cancelled");
    OK_ACT("agent", id, "resolve", "{\"resolution\":\"再次处理\"}");
    task_of(id, task);
    OK_ACT("agent", id, "start_callback", NULL);
    OK_ACT("agent", id, "close", "{\"explanation\":\"住户已搬走\"}");
    assert_string_equal(q1("SELECT state || '/' || give_up_reason FROM callback_tasks WHERE id = "
                           "$1",
                           task),
                        "given_up/other");
    /* callback_result: a contradicting 'satisfied' is 422; the rating decides. */
    char c2[40], t2[40];
    resolved_request("complaint", NULL, NULL, NULL, c2);
    task_of(c2, t2);
    th_resp_t *r = act("agent", c2, "callback_result", "{\"satisfied\":true,\"rating\":\"一般\"}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    assert_string_equal(q1("SELECT state FROM requests WHERE id = $1", c2), "closed");
    char c3[40];
    resolved_request("complaint", NULL, NULL, NULL, c3);
    EXPECT_PROBLEM(
        act("agent", c3, "callback_result", "{\"satisfied\":true,\"rating\":\"不满意\"}"), 422,
        "contradicting_outcome");
    assert_string_equal(q1("SELECT state FROM requests WHERE id = $1", c3), "resolved");
    assert_string_equal(q1("SELECT state || '/' || outcome || '/' || rating FROM callback_tasks "
                           "WHERE id = $1",
                           t2),
                        "done/closed/average");
}

/* The overdue marker (svc/callback_worker.c): a task past due is marked once and its
 * assignee notified; an unassigned one notifies the project's supervisors. */
static void test_overdue_marker(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=200", NULL};
    assert_int_equal(th_restart(env), 0);
    char a[40], b[40], ta[40], tb[40], path[160], body[120];
    resolved_request("complaint", NULL, NULL, NULL, a);
    resolved_request("complaint", NULL, NULL, NULL, b);
    task_of(a, ta);
    task_of(b, tb);
    snprintf(path, sizeof path, "/v1/callbacks/%s/assign", ta);
    snprintf(body, sizeof body, "{\"assignee_id\":\"%s\"}", uid_agent);
    const char *h1[] = {"If-Match: \"1\"", NULL};
    th_free(th_req("POST", path, th_token("supervisor"), body, h1));
    assert_non_null(q1("UPDATE callback_tasks SET due_at = now() - interval '1 minute' WHERE id = "
                       "$1 RETURNING id",
                       ta));
    assert_non_null(q1("UPDATE callback_tasks SET due_at = now() - interval '1 minute' WHERE id = "
                       "$1 RETURNING id",
                       tb));
    /* Liveness only: the worker runs every 200 ms; allow it a generous 20 s. */
    const char *sql =
        "SELECT count(*) FROM callback_tasks WHERE id = $1 AND overdue_at IS NOT NULL";
    for (int i = 0; i < 200 && (strcmp(q1(sql, ta), "1") || strcmp(q1(sql, tb), "1")); i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(q1(sql, ta), "1");
    assert_string_equal(q1(sql, tb), "1");
    assert_string_equal(q1("SELECT string_agg(u.username, ',' ORDER BY u.username) FROM "
                           "notifications n JOIN users u ON u.id = n.user_id WHERE n.request_id = "
                           "$1 AND n.kind = 'callback_overdue'",
                           a),
                        "agent");
    assert_string_equal(q1("SELECT string_agg(u.username, ',' ORDER BY u.username) FROM "
                           "notifications n JOIN users u ON u.id = n.user_id WHERE n.request_id = "
                           "$1 AND n.kind = 'callback_overdue'",
                           b),
                        "supervisor");
    assert_int_equal(th_restart(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolution_opens_task),
        cmocka_unit_test(test_attempt_refusals),
        cmocka_unit_test(test_dissatisfied_outcomes),
        cmocka_unit_test(test_give_up),
        cmocka_unit_test(test_resident_answer),
        cmocka_unit_test(test_month_figures),
        cmocka_unit_test(test_request_actions_keep_tasks),
        cmocka_unit_test(test_overdue_marker),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
