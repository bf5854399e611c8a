/*
 * tests/api/test_reports.c — reports end to end (RULES §3.11): the 投诉月度汇总表 of a month
 * with hand-computed KPIs, month boundaries in the project's zone (Asia/Shanghai, UTC+8),
 * the CSV bytes, versions (submit freezes, a regeneration is version 2), the late check,
 * role and project scope, and phone masking.
 *
 * Fixture (March 2026, local): requests are written with SQL so every timestamp is exact.
 *   R1 complaint general valid, 03-01 00:30 (Feb 28 16:30 UTC!), created by a resident,
 *      dispatched 240 s later, resolved after 2 h (due 1 d), callback 满意 "很满意".
 *   R2 complaint important validity unknown, 03-10 10:00, created by staff, unresolved,
 *      resolution due passed (overdue).
 *   R3 complaint general invalid, 03-20 09:00, resident; supervisor comment after 600 s;
 *      rejected.
 *   R4 complaint general valid, 03-31 23:30, staff; resolved after 26 h (due 24 h);
 *      callback 一般 (satisfied=true but the rating decides: not satisfied); reopened once.
 *   R5 complaint 04-01 00:10 local (March 31 in UTC) and R6 02-28 23:50 local: not March.
 *   R7 repair at 1-101, 03-05 10:00, resident, dispatch after 120 s, resolved after 1 h
 *      (due 48 h), closed 1 h later, a 'decline' event; R8 repair at 1-101, 03-20 10:00 (15 d
 *      after R7 closed: a repeat repair, is_repeat, so rework),
 *      staff, open.  R10 inquiry in a common area, 03-15, resident, nobody acted.
 * Hand-computed: total 7, complaints 4, valid 3, handled 2 (2/3), resolved 3 (3/7), in time
 * 2 of 3, first response n 6 sum 960 s (avg 160.0) met 5/6, resolution sum 104400 s (avg
 * 34800.0), complaint callbacks 2/2, repair callbacks 0/1, callback satisfaction 1/2,
 * reopened 1/7, rework 1/2, refused work orders 1 of 0 work orders (rate null).
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

static char proj[40], unit101[40], eng[40], p2[40];

static const char *INS =
    "INSERT INTO requests (org_id, project_id, number, type, channel, severity, validity, "
    "state, location_kind, unit_id, common_area, reporter_name, reporter_phone, title, "
    "description, department_id, received_at, resolved_at, due_resolution, reopen_count, "
    "last_event_at, created_by, search_terms, resolution) SELECT p.org_id, p.id, $2, $3::text, "
    "'phone', CASE WHEN $3::text = 'complaint' THEN coalesce($4::text, 'general') END, $5::text, "
    "$6::text, CASE WHEN "
    "$7::uuid IS NULL THEN 'common_area' ELSE 'unit' END, $7::uuid, CASE WHEN $7::uuid IS NULL "
    "THEN '大堂' END, '张伟', '13800138000', $2::text || '标题', '描述' || $2::text, $11::uuid, "
    "$8::timestamptz, $9::timestamptz, $10::timestamptz, $12::int, $8::timestamptz, (SELECT id "
    "FROM users WHERE username = 'agent'), '{}', CASE WHEN $9::text IS NOT NULL THEN '已处理' END "
    "FROM "
    "projects p WHERE p.id = $1 RETURNING id";

static void req(char id[40], const char *num, const char *type, const char *sev,
                const char *validity, const char *state, const char *unit, const char *recv,
                const char *resolved, const char *due, const char *reopen, const char *dept)
{
    const char *v[] = {proj, num,  type,     sev, validity, state,
                       unit, recv, resolved, due, dept,     reopen};
    const char *x = th_sql1(INS, v, 12);
    assert_non_null(x);
    snprintf(id, 40, "%s", x);
}

static void ev(const char *id, const char *seq, const char *role, const char *action,
               const char *at, const char *details)
{
    const char *v[] = {id, seq, role, action, at, details ? details : "{}"};
    /* a create event by staff comes with requests.staff_created, as req_create writes them
     * (0040; since 0044 the facts trigger relies on it and skips staff create events) */
    if (!strcmp(action, "create")) {
        const char *u[] = {id, role};
        assert_non_null(th_sql1("UPDATE requests SET staff_created = $2 NOT IN ('resident', "
                                "'integration', 'system') WHERE id = $1 RETURNING 1",
                                u, 2));
    }
    assert_non_null(th_sql1("INSERT INTO request_events (org_id, request_id, seq, actor_id, "
                            "actor_role, action, occurred_at, details) SELECT org_id, id, $2::int, "
                            "(SELECT id FROM users WHERE username = 'agent'), $3, $4, "
                            "$5::timestamptz, $6::jsonb FROM requests WHERE id = $1 RETURNING 1",
                            v, 6));
}

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_project("demo", proj) ||
        th_fx_unit("demo", "1-101", unit101) || th_fx_dept("demo", "engineering", eng))
        return -1;
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    const char *v[] = {p2};
    if (!th_sql1("WITH u AS (INSERT INTO users (org_id, username, display_name, role, "
                 "password_hash) SELECT org_id, 'sup.p2', '翠湖主管', 'supervisor', (SELECT "
                 "password_hash FROM users WHERE username = 'supervisor') FROM projects WHERE id "
                 "= $1 RETURNING id, org_id) INSERT INTO user_projects (org_id, user_id, "
                 "project_id) SELECT org_id, id, $1 FROM u RETURNING user_id",
                 v, 1))
        return -1;
    char id[40];
    req(id, "R1", "complaint", NULL, "valid", "closed", NULL, "2026-02-28T16:30:00Z",
        "2026-02-28T18:30:00Z", "2026-03-01T16:30:00Z", "0", eng);
    ev(id, "1", "resident", "create", "2026-02-28T16:30:00Z", NULL);
    ev(id, "2", "agent", "dispatch", "2026-02-28T16:34:00Z", NULL);
    ev(id, "3", "agent", "resolve", "2026-02-28T18:30:00Z", NULL);
    ev(id, "4", "agent", "callback_result", "2026-02-28T19:30:00Z",
       "{\"satisfied\":true,\"rating\":\"满意\",\"note\":\"很满意\"}");
    req(id, "R2", "complaint", "important", "unknown", "received", NULL, "2026-03-10T02:00:00Z",
        NULL, "2026-03-11T02:00:00Z", "0", NULL);
    ev(id, "1", "agent", "create", "2026-03-10T02:00:00Z", NULL);
    req(id, "R3", "complaint", NULL, "invalid", "rejected", NULL, "2026-03-20T01:00:00Z", NULL,
        NULL, "0", NULL);
    ev(id, "1", "resident", "create", "2026-03-20T01:00:00Z", NULL);
    ev(id, "2", "supervisor", "comment", "2026-03-20T01:10:00Z", NULL);
    req(id, "R4", "complaint", NULL, "valid", "closed", NULL, "2026-03-31T15:30:00Z",
        "2026-04-01T17:30:00Z", "2026-04-01T15:30:00Z", "1", NULL);
    ev(id, "1", "agent", "create", "2026-03-31T15:30:00Z", NULL);
    ev(id, "2", "agent", "callback_result", "2026-04-01T18:00:00Z",
       "{\"satisfied\":true,\"rating\":\"一般\"}");
    req(id, "R5", "complaint", NULL, "valid", "received", NULL, "2026-03-31T16:10:00Z", NULL, NULL,
        "0", NULL);
    ev(id, "1", "agent", "create", "2026-03-31T16:10:00Z", NULL);
    req(id, "R6", "complaint", NULL, "valid", "received", NULL, "2026-02-28T15:50:00Z", NULL, NULL,
        "0", NULL);
    ev(id, "1", "agent", "create", "2026-02-28T15:50:00Z", NULL);
    req(id, "R7", "repair", NULL, "unknown", "closed", unit101, "2026-03-05T02:00:00Z",
        "2026-03-05T03:00:00Z", "2026-03-07T02:00:00Z", "0", eng);
    ev(id, "1", "resident", "create", "2026-03-05T02:00:00Z", NULL);
    ev(id, "2", "agent", "dispatch", "2026-03-05T02:02:00Z", NULL);
    ev(id, "3", "technician", "decline", "2026-03-05T02:03:00Z", NULL);
    ev(id, "4", "agent", "resolve", "2026-03-05T03:00:00Z", NULL);
    {
        const char *c7[] = {id};
        assert_non_null(th_sql1("UPDATE requests SET closed_at = '2026-03-05T04:00:00Z' WHERE "
                                "id = $1 RETURNING 1",
                                c7, 1));
    }
    req(id, "R8", "repair", NULL, "unknown", "received", unit101, "2026-03-20T02:00:00Z", NULL,
        NULL, "0", NULL);
    ev(id, "1", "agent", "create", "2026-03-20T02:00:00Z", NULL);
    req(id, "R10", "inquiry", NULL, "unknown", "received", NULL, "2026-03-15T04:00:00Z", NULL, NULL,
        "0", NULL);
    ev(id, "1", "resident", "create", "2026-03-15T04:00:00Z", NULL);
    return 0;
}

static double kpi(const cJSON *j, const char *path)
{
    const cJSON *v = th_jpath(j, path);
    if (!cJSON_IsNumber(v))
        fail_msg("%s is not a number", path);
    return v->valuedouble;
}

#define MARCH "/v1/projects/%s/reports/monthly/2026-03"

static th_resp_t *get(const char *user, const char *fmt, const char *p, const char *q)
{
    char path[256];
    snprintf(path, sizeof path, fmt, p);
    if (q)
        strncat(path, q, sizeof path - strlen(path) - 1);
    return th_req("GET", path, th_token(user), NULL, NULL);
}

static void test_kpis_hand_computed(void **state)
{
    (void)state;
    th_resp_t *r = get("supervisor", MARCH, proj, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *j = r->json;
    assert_string_equal(th_js(j, "period.from"), "2026-02-28T16:00:00Z");
    assert_string_equal(th_js(j, "period.to"), "2026-03-31T16:00:00Z");
    assert_string_equal(th_js(j, "due_at"), "2026-04-04T16:00:00Z");
    assert_int_equal(th_jn(j, "overall.counts.total"), 7);
    assert_int_equal(th_jn(j, "overall.counts.complaints"), 4);
    assert_int_equal(th_jn(j, "overall.counts.valid_complaints"), 3);
    assert_int_equal(th_jn(j, "overall.counts.valid_complaints_handled"), 2);
    assert_int_equal(th_jn(j, "overall.counts.resolved"), 3);
    assert_int_equal(th_jn(j, "overall.counts.resolved_in_time"), 2);
    assert_int_equal(th_jn(j, "overall.counts.first_response_n"), 6);
    assert_int_equal(th_jn(j, "overall.counts.first_response_sum_s"), 960);
    assert_int_equal(th_jn(j, "overall.counts.resolution_sum_s"), 104400);
    assert_int_equal(th_jn(j, "overall.counts.refused_work_orders"), 1);
    assert_float_equal(kpi(j, "overall.kpis.resolution_rate"), 0.4286, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.in_time_rate"), 0.6667, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.first_response_met_rate"), 0.8333, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.avg_first_response_seconds"), 160.0, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.avg_resolution_seconds"), 34800.0, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.complaint_handling_rate"), 0.6667, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.complaint_callback_rate"), 1.0, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.repair_callback_rate"), 0.0, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.callback_satisfaction"), 0.5, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.reopen_rate"), 0.1429, 1e-9);
    assert_float_equal(kpi(j, "overall.kpis.rework_rate"), 0.5, 1e-9);
    assert_true(th_jnull(j, "overall.kpis.refused_work_order_rate"));
    assert_true(th_jnull(j, "overall.kpis.survey_satisfaction"));
    assert_int_equal(th_jn(j, "totals.by_type.complaint"), 4);
    assert_int_equal(th_jn(j, "totals.by_type.repair"), 2);
    assert_int_equal(th_jn(j, "totals.by_severity.important"), 1);
    assert_int_equal(th_jn(j, "totals.by_channel.phone"), 7);
    /* The form: four complaints in the order received, with local dates. */
    const cJSON *rows = th_jpath(j, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 4);
    const cJSON *r1 = cJSON_GetArrayItem(rows, 0), *r4 = cJSON_GetArrayItem(rows, 3);
    assert_string_equal(th_js(r1, "number"), "R1");
    assert_string_equal(th_js(r1, "date"), "2026-03-01");
    assert_string_equal(th_js(r1, "phone"), "13800138000");
    assert_string_equal(th_js(r1, "content"), "R1标题：描述R1");
    assert_string_equal(th_js(r1, "callback_opinion"), "满意：很满意");
    assert_string_equal(th_js(r1, "remarks"), "一般；有效");
    assert_string_equal(th_js(r1, "department"), "工程部");
    assert_string_equal(th_js(r4, "date"), "2026-03-31");
    assert_string_equal(th_js(r4, "remarks"), "一般；有效；重开1次；超时");
    assert_string_equal(th_js(cJSON_GetArrayItem(rows, 1), "remarks"), "重要；待定；超时");
    /* Per department: engineering has R1 and R7. */
    const cJSON *d;
    int found = 0;
    cJSON_ArrayForEach(d, th_jpath(j, "departments")) if (!strcmp(th_js(d, "name"), "工程部"))
    {
        found = 1;
        assert_int_equal(th_jn(d, "counts.total"), 2);
        assert_float_equal(kpi(d, "kpis.in_time_rate"), 1.0, 1e-9);
    }
    assert_true(found);
    /* Weeks: 5 buckets in March; week 1 (03-01..07) holds R1 and R7, both in time. */
    assert_int_equal(cJSON_GetArraySize(th_jpath(j, "buckets")), 5);
    assert_float_equal(kpi(cJSON_GetArrayItem(th_jpath(j, "buckets"), 0), "kpis.in_time_rate"), 1.0,
                       1e-9);
    th_free(r);
}

static void test_csv_bytes(void **state)
{
    (void)state;
    th_resp_t *r = get("supervisor", MARCH, proj, "?format=csv");
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(th_header(r, "Content-Type"), "text/csv"));
    const char *hdr = "\xEF\xBB\xBF序号,投诉日期,投诉人,联系电话,投诉内容,受理人,处理部门,处理结果,"
                      "投诉人回访意见,备注\r\n";
    assert_true(r->len > strlen(hdr));
    assert_memory_equal(r->body, hdr, strlen(hdr));
    int crlf = 0;
    for (size_t i = 0; i < r->len; i++)
        if (r->body[i] == '\n') {
            assert_true(i > 0 && r->body[i - 1] == '\r'); /* never a bare LF */
            crlf++;
        }
    assert_int_equal(crlf, 5); /* header + 4 complaints */
    assert_non_null(strstr(r->body, "\r\n1,2026-03-01,张伟,13800138000,R1标题：描述R1,"));
    th_free(r);
    /* An unknown format is refused. */
    EXPECT_PROBLEM(get("supervisor", MARCH, proj, "?format=xlsx"), 400, "invalid_query");
}

static th_resp_t *post(const char *user, const char *fmt, const char *p)
{
    char path[256];
    snprintf(path, sizeof path, fmt, p);
    return th_req("POST", path, th_token(user), NULL, NULL);
}

static void test_versions_freeze(void **state)
{
    (void)state;
    th_resp_t *r = post("supervisor", MARCH "/versions", proj);
    EXPECT_STATUS(r, 201);
    assert_int_equal(th_jn(r->json, "version"), 1);
    assert_string_equal(th_js(r->json, "state"), "draft");
    assert_string_equal(th_js(r->json, "due_at"), "2026-04-04T16:00:00.000000Z");
    th_free(r);
    r = post("manager", MARCH "/versions/1/submit", proj);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "submitted");
    assert_true(strlen(th_js(r->json, "submitted_at")) > 0);
    assert_true(th_jtrue(r->json, "late")); /* submitted long after 2026-04-04 */
    th_free(r);
    EXPECT_PROBLEM(post("manager", MARCH "/versions/1/submit", proj), 409, "already_submitted");
    EXPECT_PROBLEM(post("manager", MARCH "/versions/9/submit", proj), 404, "not_found");
    /* A new complaint in March: the submitted version does not change; a regeneration is
     * version 2 with it. */
    char id[40];
    req(id, "R11", "complaint", NULL, "valid", "received", NULL, "2026-03-25T02:00:00Z", NULL, NULL,
        "0", NULL);
    r = post("supervisor", MARCH "/versions", proj);
    EXPECT_STATUS(r, 201);
    assert_int_equal(th_jn(r->json, "version"), 2);
    th_free(r);
    r = get("supervisor", MARCH "/versions/1", proj, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "submitted");
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "summary.rows")), 4);
    th_free(r);
    r = get("supervisor", MARCH "/versions/2", proj, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "summary.rows")), 5);
    th_free(r);
    r = get("director", MARCH "/versions", proj, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 2);
    th_free(r);
    /* The stored version renders as CSV too (frozen rows). */
    r = get("supervisor", MARCH "/versions/1", proj, "?format=csv");
    EXPECT_STATUS(r, 200);
    assert_memory_equal(r->body, "\xEF\xBB\xBF", 3);
    th_free(r);
    /* The current month cannot be submitted before it ends; the future is refused. */
    EXPECT_PROBLEM(post("supervisor", "/v1/projects/%s/reports/monthly/2999-01/versions", proj),
                   422, "month_in_future");
}

/* Local (UTC+8) month n months before now, as "YYYY-MM". */
static void month_back(int n, char out[8])
{
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    int idx = (tm.tm_year + 1900) * 12 + tm.tm_mon - n;
    snprintf(out, 8, "%04u-%02u", (unsigned)(idx / 12) % 10000u, (unsigned)(idx % 12 + 1) % 100u);
}

static long notes(const char *kind, const char *user, const char *month)
{
    const char *v[] = {kind, user, month};
    return th_sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                       "WHERE n.kind = $1 AND u.username = $2 AND n.payload->>'month' = $3",
                       v, 3);
}

static void test_late_check(void **state)
{
    (void)state;
    char m3[8], m2[8], path[160];
    month_back(3, m3);
    month_back(2, m2);
    /* m3 is generated and submitted in time for nothing to be late; m2 is never submitted. */
    snprintf(path, sizeof path, "/v1/projects/%%s/reports/monthly/%s/versions", m3);
    th_resp_t *r = post("supervisor", path, proj);
    EXPECT_STATUS(r, 201);
    th_free(r);
    snprintf(path, sizeof path, "/v1/projects/%%s/reports/monthly/%s/versions/1/submit", m3);
    r = post("supervisor", path, proj);
    EXPECT_STATUS(r, 200);
    th_free(r);
    EXPECT_PROBLEM(th_req("POST", "/v1/admin/reports/check", th_token("supervisor"), NULL, NULL),
                   403, NULL);
    r = th_req("POST", "/v1/admin/reports/check", th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    assert_int_equal(notes("report_due", "supervisor", m2), 1);
    assert_int_equal(notes("report_overdue", "manager", m2), 1);
    assert_int_equal(notes("report_overdue", "supervisor", m2), 0);
    assert_int_equal(notes("report_due", "supervisor", m3), 0);
    assert_int_equal(notes("report_overdue", "manager", m3), 0);
    /* Once each: a second check writes nothing more. */
    r = th_req("POST", "/v1/admin/reports/check", th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    assert_int_equal(notes("report_overdue", "manager", m2), 1);
    /* The manager reads it in the notifications list. */
    r = th_req("GET", "/v1/notifications", th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(r->body, "report_overdue"));
    th_free(r);
}

static void test_scope_and_masking(void **state)
{
    (void)state;
    EXPECT_PROBLEM(get("agent", MARCH, proj, NULL), 403, NULL);
    EXPECT_PROBLEM(get("technician", MARCH, proj, NULL), 403, NULL);
    EXPECT_PROBLEM(get("other.supervisor", MARCH, proj, NULL), 404, NULL);
    EXPECT_PROBLEM(post("other.manager", MARCH "/versions", proj), 404, NULL);
    char *tok = th_login("sup.p2", TH_PASS);
    assert_non_null(tok);
    char path[160];
    snprintf(path, sizeof path, MARCH, proj);
    th_resp_t *r = th_req("GET", path, tok, NULL, NULL);
    EXPECT_PROBLEM(r, 404, NULL);
    free(tok);
    /* Director and GM read; only supervisor and manager generate. */
    EXPECT_PROBLEM(post("director", MARCH "/versions", proj), 403, NULL);
    EXPECT_PROBLEM(post("auditor", MARCH "/versions", proj), 403, NULL);
    r = get("gm", MARCH, proj, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "rows"), 0), "phone"),
                        "13800138000");
    th_free(r);
    /* The auditor reads with phones masked, in JSON, CSV and stored versions. */
    r = get("auditor", MARCH, proj, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "rows"), 0), "phone"),
                        "138****8000");
    th_free(r);
    r = get("auditor", MARCH, proj, "?format=csv");
    EXPECT_STATUS(r, 200);
    assert_null(strstr(r->body, "13800138000"));
    assert_non_null(strstr(r->body, "138****8000"));
    th_free(r);
    r = get("auditor", MARCH "/versions/1", proj, NULL);
    EXPECT_STATUS(r, 200);
    assert_null(strstr(r->body, "13800138000"));
    th_free(r);
    EXPECT_PROBLEM(get("supervisor", "/v1/projects/%s/reports/monthly/2026-13", proj, NULL), 404,
                   "not_found");
}

static void test_daily_weekly(void **state)
{
    (void)state;
    th_resp_t *r = get("supervisor", "/v1/projects/%s/reports/daily", proj, "?date=2026-03-10");
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "overall.counts.total"), 1);
    assert_string_equal(th_js(r->json, "period.from"), "2026-03-09T16:00:00Z");
    assert_true(th_jn(r->json, "live.open_now") >= 2);
    th_free(r);
    /* A week across the month boundary: 03-30 .. 04-05 local holds R4 and R5. */
    r = get("supervisor", "/v1/projects/%s/reports/weekly", proj, "?start=2026-03-30");
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "overall.counts.total"), 2);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "buckets")), 7);
    assert_int_equal(th_jn(cJSON_GetArrayItem(th_jpath(r->json, "buckets"), 1), "counts.total"), 1);
    th_free(r);
    EXPECT_PROBLEM(get("supervisor", "/v1/projects/%s/reports/daily", proj, "?date=2026-02-30"),
                   400, "invalid_query");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpis_hand_computed), cmocka_unit_test(test_csv_bytes),
        cmocka_unit_test(test_versions_freeze),    cmocka_unit_test(test_scope_and_masking),
        cmocka_unit_test(test_late_check),         cmocka_unit_test(test_daily_weekly),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
