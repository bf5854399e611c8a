/*
 * tests/api/test_surveys.c — satisfaction surveys end to end (issue 9, RULES §3.2): the
 * campaign state machine and draft-only edits, paper / app / integration responses, one
 * response per household, corrections as versions, 不满意 opening a complaint (channel
 * survey) and 不太满意 opening a callback task in the same transaction, the report's
 * exact figures on the hand-computed fixture of tests/core/test_survey.c, the frozen report
 * and the public summary without personal data, and every refusal (role, project scope, a
 * neighbour's unit, a second response, a missing overall rating, editing a non-draft).
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

static char p1[40], p2[40], d_cs[40], d_eng[40];
static char u101[40], u102[40], u201[40], u2101[40], u2102[40], ux[3][40], up2[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_dept("demo", "customer_service", d_cs) ||
        th_fx_dept("demo", "engineering", d_eng) || th_fx_unit("demo", "1-101", u101) ||
        th_fx_unit("demo", "1-102", u102) || th_fx_unit("demo", "1-201", u201) ||
        th_fx_unit("demo", "2-101", u2101) || th_fx_unit("demo", "2-102", u2102))
        return -1;
    /* Three more households in P1 (the fixture needs seven), and a second project P2 of
     * the demo organisation with a unit; the demo staff work in P1 only. */
    for (int i = 0; i < 3; i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO units (org_id, project_id, building_id, code, floor) SELECT "
                 "org_id, project_id, id, 'S-%d', 3 FROM buildings WHERE project_id = '%s' AND "
                 "code = 'B1' RETURNING id",
                 i, p1);
        if (th_grab(ux[i], sql))
            return -1;
    }
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql,
             "WITH b AS (INSERT INTO buildings (org_id, project_id, code, name, floors) SELECT "
             "org_id, id, 'C1', 'C栋', 10 FROM projects WHERE id = '%s' RETURNING org_id, "
             "project_id, id) INSERT INTO units (org_id, project_id, building_id, code, floor) "
             "SELECT org_id, project_id, id, 'C-101', 1 FROM b RETURNING id",
             p2);
    return th_grab(up2, sql);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* th_jpath with array indices too ("items.0.code"). */
static const cJSON *jpath(const cJSON *j, const char *path)
{
    char buf[128], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = j;
    for (char *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = cJSON_IsArray(cur)    ? cJSON_GetArrayItem(cur, atoi(t))
              : cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, t)
                                    : NULL;
    return cur;
}

static const char *js(const cJSON *j, const char *path)
{
    const cJSON *v = jpath(j, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static long jn(const cJSON *j, const char *path)
{
    const cJSON *v = jpath(j, path);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : -9999;
}

static int jnull(const cJSON *j, const char *path)
{
    const cJSON *v = jpath(j, path);
    return !v || cJSON_IsNull(v);
}

static int jtrue(const cJSON *j, const char *path)
{
    return cJSON_IsTrue(jpath(j, path));
}

/* Items of the fixture: A1, A2 measure customer service, A3 engineering, A4 nobody (in P1;
 * P2 has no departments of its own, so its items name none). */
static void items_json(const char *project, char *buf, size_t n)
{
    if (strcmp(project, p1) != 0) {
        snprintf(buf, n, "[{\"code\":\"A1\",\"group\":\"服务\",\"text\":\"服务态度\"}]");
        return;
    }
    snprintf(buf, n,
             "[{\"code\":\"A1\",\"group\":\"服务\",\"text\":\"服务态度\",\"department_id\":\"%s\"},"
             "{\"code\":\"A2\",\"group\":\"服务\",\"text\":\"服务时效\",\"department_id\":\"%s\"},"
             "{\"code\":\"A3\",\"group\":\"维修\",\"text\":\"维修质量\",\"department_id\":\"%s\"},"
             "{\"code\":\"A4\",\"group\":\"其他\",\"text\":\"其他建议\"}]",
             d_cs, d_cs, d_eng);
}

/* Creates a campaign (draft) in project; its id into dst. */
static void create(const char *who, const char *project, long copies, char dst[40])
{
    char items[1024], body[2048];
    items_json(project, items, sizeof items);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"title\":\"2026年第四季度业户满意度调查\",\"period\":"
             "{\"start\":\"2026-10-01\",\"end\":\"2026-12-31\"},\"copies_distributed\":%ld,"
             "\"items\":%s}",
             project, copies, items);
    th_resp_t *r = th_req("POST", "/v1/survey-campaigns", th_token(who), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(dst, 40, "%s", th_str(r, "id"));
    assert_string_equal(th_str(r, "state"), "draft");
    assert_string_equal(th_str(r, "kind"), "periodic");
    assert_string_equal(th_str(r, "cadence"), "quarterly");
    th_free(r);
}

/* PATCHes the campaign with If-Match naming the version `who` reads now (1 when `who` cannot
 * read it). */
static th_resp_t *patch(const char *who, const char *id, const char *body)
{
    char path[160], im[32];
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s", id);
    th_resp_t *g = th_req("GET", path, th_token(who), NULL, NULL);
    long v = g->status == 200 ? jn(g->json, "version") : 1;
    th_free(g);
    snprintf(im, sizeof im, "If-Match: \"%ld\"", v);
    const char *const h[] = {im, NULL};
    return th_req("PATCH", path, th_token(who), body, h);
}

static th_resp_t *act(const char *who, const char *id, const char *action, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/actions/%s", id, action);
    return th_req("POST", path, th_token(who), body, NULL);
}

static void move(const char *id, const char *action, const char *body, const char *state)
{
    th_resp_t *r = act("supervisor", id, action, body);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "state"), state);
    th_free(r);
}

static th_resp_t *respond(const char *who, const char *campaign, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/responses", campaign);
    return th_req("POST", path, th_token(who), body, NULL);
}

/* Enters a form; its response id into dst (when not NULL). */
static void enter(const char *who, const char *campaign, const char *unit, const char *overall,
                  const char *answers, char dst[40])
{
    char body[1024];
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"%s\",\"answers\":%s%s}",
             unit, overall, answers,
             strcmp(who, "resident") ? ",\"respondent_name\":\"王先生\"" : "");
    th_resp_t *r = respond(who, campaign, body);
    EXPECT_STATUS(r, 201);
    if (dst)
        snprintf(dst, 40, "%s", th_str(r, "id"));
    th_free(r);
}

static void get_report(const char *who, const char *id, const char *what, th_resp_t **out)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/%s", id, what);
    *out = th_req("GET", path, th_token(who), NULL, NULL);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_campaign_state_machine(void **state)
{
    (void)state;
    char id[40], body[2048], path[160];
    create("supervisor", p1, 40, id);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s", id);
    /* items are editable in draft */
    th_resp_t *r = patch("supervisor", id,
                         "{\"title\":\"第四季度满意度调查\",\"items\":[{\"code\":\"B1\",\"group\":"
                         "\"清洁\",\"text\":\"公共区域清洁\"}]}");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "title"), "第四季度满意度调查");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 1);
    assert_string_equal(js(r->json, "items.0.code"), "B1");
    th_free(r);
    /* If-Match is required and must name the current version */
    r = th_req("PATCH", path, th_token("supervisor"), "{\"title\":\"x\"}", NULL);
    EXPECT_PROBLEM(r, 428, "if_match_required");
    r = th_req("PATCH", path, th_token("supervisor"), "{\"title\":\"x\"}",
               (const char *const[]){"If-Match: \"1\"", NULL});
    EXPECT_PROBLEM(r, 412, "stale_version");
    /* a code used twice: 422 */
    snprintf(body, sizeof body,
             "{\"items\":[{\"code\":\"B1\",\"group\":\"g\",\"text\":\"t\"},{\"code\":\"B1\","
             "\"group\":\"g\",\"text\":\"t\"}]}");
    r = patch("supervisor", id, body);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    /* reporting or closing a draft: 409 */
    r = act("supervisor", id, "close", NULL);
    EXPECT_PROBLEM(r, 409, "invalid_transition");
    /* an agent may not run campaigns */
    r = act("agent", id, "open", NULL);
    EXPECT_PROBLEM(r, 403, NULL);
    move(id, "open", NULL, "open");
    assert_int_equal(th_sql_long("SELECT count(*) FROM survey_campaigns WHERE id = $1 AND "
                                 "opened_at IS NOT NULL",
                                 (const char *const[]){id}, 1),
                     1);
    /* no edits once open */
    r = patch("supervisor", id, "{\"title\":\"改名\"}");
    EXPECT_PROBLEM(r, 409, "campaign_not_draft");
    r = patch("supervisor", id, "{\"items\":[{\"code\":\"Z\",\"group\":\"g\",\"text\":\"t\"}]}");
    EXPECT_PROBLEM(r, 409, "campaign_not_draft");
    r = act("supervisor", id, "open", NULL);
    EXPECT_PROBLEM(r, 409, "invalid_transition");
    r = act("supervisor", id, "report", "{\"opinion\":\"x\"}");
    EXPECT_PROBLEM(r, 409, "invalid_transition");
    move(id, "close", NULL, "closed");
    /* reporting needs the service centre's opinion */
    r = act("supervisor", id, "report", "{}");
    EXPECT_PROBLEM(r, 422, "missing_field");
    move(id, "report", "{\"opinion\":\"整体良好\"}", "reported");
    r = act("supervisor", id, "close", NULL);
    EXPECT_PROBLEM(r, 409, "invalid_transition");
    r = act("supervisor", id, "publish", NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    /* a campaign without copies or items cannot open */
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"title\":\"回访\",\"kind\":\"special\"}",
             p1);
    r = th_req("POST", "/v1/survey-campaigns", th_token("manager"), body, NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_str(r, "cadence"), "once");
    char id2[40];
    snprintf(id2, sizeof id2, "%s", th_str(r, "id"));
    th_free(r);
    r = act("manager", id2, "open", NULL);
    EXPECT_PROBLEM(r, 409, "campaign_incomplete");
    /* per_unit distribution counts the project's occupied units when it opens */
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s", id2);
    r = patch("manager", id2,
              "{\"distribution\":\"per_unit\",\"items\":[{\"code\":\"C\",\"group\":\"g\","
              "\"text\":\"t\"}]}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = act("manager", id2, "open", NULL);
    EXPECT_STATUS(r, 200);
    long occupied = th_sql_long("SELECT count(*) FROM units WHERE project_id = $1 AND status <> "
                                "'vacant'",
                                (const char *const[]){p1}, 1);
    assert_int_equal(jn(r->json, "copies_distributed"), occupied);
    th_free(r);
    /* validation */
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"title\":\"t\",\"kind\":\"monthly\"}", p1);
    r = th_req("POST", "/v1/survey-campaigns", th_token("supervisor"), body, NULL);
    EXPECT_PROBLEM(r, 422, NULL);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"title\":\"t\",\"period\":{\"start\":\"2026-12-01\","
             "\"end\":\"2026-11-01\"}}",
             p1);
    r = th_req("POST", "/v1/survey-campaigns", th_token("supervisor"), body, NULL);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"title\":\"t\",\"kind\":\"visit\",\"cadence\":"
             "\"quarterly\"}",
             p1);
    r = th_req("POST", "/v1/survey-campaigns", th_token("supervisor"), body, NULL);
    EXPECT_PROBLEM(r, 422, "invalid_field");
}

/* The fixture of tests/core/test_survey.c through the API: 40 copies, 7 households. */
static void test_fixture_report_and_followups(void **state)
{
    (void)state;
    char id[40], resp2[40], resp4[40], resp5[40], resp6[40], path[200];
    create("supervisor", p1, 40, id);
    move(id, "open", NULL, "open");
    enter("resident", id, u101, "very_satisfied",
          "[{\"item_code\":\"A1\",\"rating\":\"very_satisfied\"},{\"item_code\":\"A3\","
          "\"rating\":\"fairly_satisfied\"}]",
          NULL);
    enter("agent", id, u102, "fairly_satisfied",
          "[{\"item_code\":\"A1\",\"rating\":\"dissatisfied\",\"text\":\"前台态度差\"}]", resp2);
    enter("agent", id, u201, "basically_satisfied",
          "[{\"item_code\":\"A1\",\"rating\":\"basically_satisfied\"},{\"item_code\":\"A2\","
          "\"rating\":\"somewhat_dissatisfied\"}]",
          NULL);
    enter("agent", id, u2101, "somewhat_dissatisfied",
          "[{\"item_code\":\"A2\",\"rating\":\"somewhat_dissatisfied\"}]", resp4);
    enter("supervisor", id, u2102, "dissatisfied", "[]", resp5);
    /* entered as 不太满意, corrected to 基本满意: the latest version counts */
    enter("agent", id, ux[0], "somewhat_dissatisfied", "[]", resp6);
    enter("agent", id, ux[1], "very_satisfied",
          "[{\"item_code\":\"A4\",\"text\":\"希望增加儿童游乐设施\"}]", NULL);

    /* correction: a reason is required; the earlier version is kept */
    snprintf(path, sizeof path, "/v1/survey-responses/%s/corrections", resp6);
    th_resp_t *r = th_req("POST", path, th_token("agent"),
                          "{\"overall_rating\":\"basically_satisfied\"}", NULL);
    EXPECT_PROBLEM(r, 422, "missing_field");
    r = th_req(
        "POST", path, th_token("agent"),
        "{\"overall_rating\":\"basically_satisfied\",\"reason\":\"录入错误,原表为基本满意\"}",
        NULL);
    EXPECT_STATUS(r, 201);
    assert_int_equal(jn(r->json, "current_version"), 2);
    assert_string_equal(js(r->json, "current.overall_rating"), "basically_satisfied");
    assert_string_equal(js(r->json, "versions.0.overall_rating"), "somewhat_dissatisfied");
    assert_string_equal(js(r->json, "versions.1.reason"), "录入错误,原表为基本满意");
    th_free(r);
    /* versions and answers are append-only in the database too */
    const char *sql = "UPDATE survey_response_versions SET overall_rating = 'dissatisfied'";
    assert_int_not_equal(th_pg_exec(th_dburl(), sql), 0);

    /* 不满意 on A1 opened a complaint (channel survey) linked to the response and item */
    snprintf(path, sizeof path, "/v1/survey-responses/%s", resp2);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(js(r->json, "followups.0.kind"), "complaint");
    assert_string_equal(js(r->json, "followups.0.state"), "opened");
    char req_id[40], item_a1[40];
    snprintf(req_id, sizeof req_id, "%s", js(r->json, "followups.0.request_id"));
    snprintf(item_a1, sizeof item_a1, "%s", js(r->json, "followups.0.item_id"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "followups")), 1);
    th_free(r);
    snprintf(path, sizeof path, "/v1/requests/%s", req_id);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "type"), "complaint");
    assert_string_equal(th_str(r, "channel"), "survey");
    assert_string_equal(js(r->json, "location.unit_id"), u102);
    assert_string_equal(th_str(r, "department_id"), d_cs);
    th_free(r);
    assert_int_equal(th_sql_long("SELECT count(*) FROM survey_items WHERE id = $1 AND code = "
                                 "'A1'",
                                 (const char *const[]){item_a1}, 1),
                     1);
    /* overall 不满意 opened one too; 不太满意 answers opened the response's one callback task */
    assert_int_equal(th_sql_long("SELECT count(*) FROM survey_followups WHERE response_id = $1 "
                                 "AND kind = 'complaint' AND item_id IS NULL AND request_id IS "
                                 "NOT NULL",
                                 (const char *const[]){resp5}, 1),
                     1);
    assert_int_equal(th_sql_long("SELECT count(*) FROM survey_followups WHERE response_id = $1 "
                                 "AND kind = 'callback' AND state = 'opened' AND "
                                 "callback_task_id IS NOT NULL",
                                 (const char *const[]){resp4}, 1),
                     2);
    assert_int_equal(th_sql_long("SELECT count(DISTINCT t.id) FROM survey_followups f JOIN "
                                 "callback_tasks t ON t.id = f.callback_task_id WHERE "
                                 "f.response_id = $1 AND t.kind = 'survey' AND t.state = 'open' "
                                 "AND t.survey_response_id = $1 AND t.request_id IS NULL",
                                 (const char *const[]){resp4}, 1),
                     1);
    assert_int_equal(th_sql_long("SELECT count(*) FROM requests WHERE channel = 'survey' AND "
                                 "project_id = $1",
                                 (const char *const[]){p1}, 1),
                     2);

    /* the live report: exact figures */
    get_report("auditor", id, "report", &r);
    EXPECT_STATUS(r, 200);
    assert_false(jtrue(r->json, "frozen"));
    assert_int_equal(jn(r->json, "summary.copies_distributed"), 40);
    assert_int_equal(jn(r->json, "summary.returned"), 7);
    assert_string_equal(js(r->json, "summary.return_rate.percent"), "17.50");
    assert_int_equal(jn(r->json, "summary.overall_satisfaction.numerator"), 5);
    assert_int_equal(jn(r->json, "summary.overall_satisfaction.denominator"), 7);
    assert_string_equal(js(r->json, "summary.overall_satisfaction.percent"), "71.43");
    assert_int_equal(jn(r->json, "summary.overall.by_rating.very_satisfied"), 2);
    assert_string_equal(js(r->json, "items.0.code"), "A1");
    assert_string_equal(js(r->json, "items.0.satisfaction.percent"), "66.67");
    assert_int_equal(jn(r->json, "items.0.answered"), 3);
    assert_string_equal(js(r->json, "items.1.satisfaction.percent"), "0.00");
    assert_string_equal(js(r->json, "items.2.satisfaction.percent"), "100.00");
    assert_true(jnull(r->json, "items.3.satisfaction.percent"));
    assert_int_equal(jn(r->json, "items.3.answered"), 0);
    assert_string_equal(js(r->json, "departments.0.department_id"), d_cs);
    assert_string_equal(js(r->json, "departments.0.satisfaction.percent"), "40.00");
    assert_int_equal(jn(r->json, "departments.0.answered"), 5);
    assert_string_equal(js(r->json, "departments.1.department_id"), d_eng);
    assert_string_equal(js(r->json, "departments.1.satisfaction.percent"), "100.00");
    th_free(r);
    /* no public summary before the report */
    get_report("resident", id, "public-summary", &r);
    EXPECT_PROBLEM(r, 409, "campaign_not_reported");

    move(id, "close", NULL, "closed");
    /* closed: no new responses */
    snprintf(path, sizeof path, "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\"}",
             ux[2]);
    r = respond("agent", id, path);
    EXPECT_PROBLEM(r, 409, "campaign_not_open");
    move(id, "report", "{\"opinion\":\"客服部服务时效需改进\"}", "reported");
    /* the numbers are frozen: no correction after the report */
    snprintf(path, sizeof path, "/v1/survey-responses/%s/corrections", resp2);
    r = th_req("POST", path, th_token("agent"),
               "{\"overall_rating\":\"very_satisfied\",\"reason\":\"x\"}", NULL);
    EXPECT_PROBLEM(r, 409, "campaign_reported");
    get_report("supervisor", id, "report", &r);
    EXPECT_STATUS(r, 200);
    assert_true(jtrue(r->json, "frozen"));
    assert_string_equal(th_str(r, "opinion"), "客服部服务时效需改进");
    assert_string_equal(js(r->json, "summary.overall_satisfaction.percent"), "71.43");
    th_free(r);
    /* the public summary: figures and the opinion, no personal data */
    get_report("resident", id, "public-summary", &r);
    EXPECT_STATUS(r, 200);
    assert_string_equal(js(r->json, "summary.return_rate.percent"), "17.50");
    assert_string_equal(js(r->json, "items.0.satisfaction.percent"), "66.67");
    assert_string_equal(js(r->json, "departments.0.name"), "客服部");
    assert_null(strstr(r->body, u102));
    assert_null(strstr(r->body, "王先生"));
    assert_null(strstr(r->body, "department_id"));
    assert_null(strstr(r->body, "unit"));
    assert_null(strstr(r->body, "1380013"));
    th_free(r);
}

static void test_open_late_entry_refused(void **state)
{
    (void)state;
    char id[40];
    create("supervisor", p1, 10, id);
    /* not open yet */
    char body[256];
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\"}", u101);
    th_resp_t *r = respond("agent", id, body);
    EXPECT_PROBLEM(r, 409, "campaign_not_open");
    move(id, "open", NULL, "open");
    move(id, "close", NULL, "closed");
    r = respond("agent", id, body);
    EXPECT_PROBLEM(r, 409, "campaign_not_open");
}

static void test_response_refusals(void **state)
{
    (void)state;
    char id[40], body[512], mine[40], path[200];
    create("supervisor", p1, 10, id);
    move(id, "open", NULL, "open");
    /* missing overall rating: 422 pointing at it */
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"answers\":[{\"item_code\":\"A1\",\"rating\":"
             "\"very_satisfied\"}]}",
             u101);
    th_resp_t *r = respond("resident", id, body);
    EXPECT_STATUS(r, 422);
    assert_string_equal(js(r->json, "errors.0.pointer"), "/overall_rating");
    th_free(r);
    /* unknown item, bad rating, answering an item twice */
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\",\"answers\":[{"
             "\"item_code\":\"ZZ\",\"rating\":\"very_satisfied\"}]}",
             u101);
    r = respond("resident", id, body);
    EXPECT_STATUS(r, 422);
    assert_string_equal(js(r->json, "errors.0.pointer"), "/answers/0/item_code");
    th_free(r);
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"满意\"}", u101);
    r = respond("resident", id, body);
    EXPECT_PROBLEM(r, 422, NULL);
    /* a resident answers for their own unit only: a neighbour's unit is 404 */
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\"}",
             u2101);
    r = respond("resident", id, body);
    EXPECT_PROBLEM(r, 404, "not_found");
    /* residents may not set the desk's fields */
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\",\"channel\":\"paper\"}",
             u101);
    r = respond("resident", id, body);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    /* their own unit: 201, channel app */
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\"}", u101);
    r = respond("resident", id, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_str(r, "channel"), "app");
    snprintf(mine, sizeof mine, "%s", th_str(r, "id"));
    th_free(r);
    /* a second response from the household: 409, whoever enters it */
    r = respond("resident", id, body);
    EXPECT_PROBLEM(r, 409, "duplicate_response");
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"dissatisfied\",\"respondent_name\":\"张\"}",
             u101);
    r = respond("agent", id, body);
    EXPECT_PROBLEM(r, 409, "duplicate_response");
    assert_int_equal(th_sql_long("SELECT count(*) FROM survey_followups f JOIN survey_responses "
                                 "s ON s.id = f.response_id WHERE s.campaign_id = $1",
                                 (const char *const[]){id}, 1),
                     0);
    /* the neighbour cannot read it; the owner and the desk can */
    snprintf(path, sizeof path, "/v1/survey-responses/%s", mine);
    r = th_req("GET", path, th_token("resident2"), NULL, NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = th_req("GET", path, th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    /* nor correct it */
    snprintf(path, sizeof path, "/v1/survey-responses/%s/corrections", mine);
    r = th_req("POST", path, th_token("resident2"),
               "{\"overall_rating\":\"dissatisfied\",\"reason\":\"x\"}", NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    /* wrong roles: 403 */
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\"}", u102);
    r = respond("technician", id, body);
    EXPECT_PROBLEM(r, 403, NULL);
    r = respond("auditor", id, body);
    EXPECT_PROBLEM(r, 403, NULL);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"title\":\"t\"}", p1);
    r = th_req("POST", "/v1/survey-campaigns", th_token("agent"), body, NULL);
    EXPECT_PROBLEM(r, 403, NULL);
    r = th_req("POST", "/v1/survey-campaigns", th_token("auditor"), body, NULL);
    EXPECT_PROBLEM(r, 403, NULL);
    /* the auditor reads */
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/responses", id);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 1);
    th_free(r);
    /* a unit of another project through a P1 campaign: 422 */
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\"}", up2);
    r = respond("agent", id, body);
    EXPECT_PROBLEM(r, 422, "invalid_field");
}

static void test_project_scope(void **state)
{
    (void)state;
    char id[40], path[200], body[512];
    create("gm", p2, 5, id); /* the GM is organisation-wide */
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s", id);
    th_resp_t *r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = th_req("GET", path, th_token("gm"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = act("supervisor", id, "open", NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = patch("supervisor", id, "{\"title\":\"x\"}");
    EXPECT_PROBLEM(r, 404, "not_found");
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/report", id);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = act("gm", id, "open", NULL); /* the supervisor cannot; the GM can */
    EXPECT_STATUS(r, 200);
    th_free(r);
    snprintf(body, sizeof body, "{\"unit_id\":\"%s\",\"overall_rating\":\"very_satisfied\"}", up2);
    r = respond("agent", id, body);
    EXPECT_PROBLEM(r, 404, "not_found");
    /* creating in P2 from P1 */
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"title\":\"t\"}", p2);
    r = th_req("POST", "/v1/survey-campaigns", th_token("supervisor"), body, NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    /* another organisation sees nothing */
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s", id);
    r = th_req("GET", path, th_token("other.gm"), NULL, NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    /* lists are scoped */
    r = th_req("GET", "/v1/survey-campaigns?limit=200", th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_null(strstr(r->body, id));
    th_free(r);
}

static void test_integration_push_idempotent(void **state)
{
    (void)state;
    char id[40], other[40], body[512];
    create("supervisor", p1, 10, id);
    move(id, "open", NULL, "open");
    create("supervisor", p1, 10, other);
    move(other, "open", NULL, "open");
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"fairly_satisfied\",\"external_ref\":{"
             "\"source\":\"wechat\",\"id\":\"F-0001\"}}",
             u102);
    th_resp_t *r = respond("integration", id, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_str(r, "channel"), "integration");
    char first[40];
    snprintf(first, sizeof first, "%s", th_str(r, "id"));
    th_free(r);
    r = respond("integration", id, body);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "id"), first);
    assert_int_equal(jn(r->json, "current_version"), 1);
    th_free(r);
    r = respond("integration", other, body);
    EXPECT_PROBLEM(r, 409, "external_ref_conflict");
    assert_int_equal(th_sql_long("SELECT count(*) FROM survey_responses WHERE external_id = "
                                 "$1",
                                 (const char *const[]){"F-0001"}, 1),
                     1);
}

static void test_form(void **state)
{
    (void)state;
    char id[40], path[200];
    create("supervisor", p1, 10, id);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/form", id);
    th_resp_t *r = th_req("GET", path, th_token("resident"), NULL, NULL);
    EXPECT_PROBLEM(r, 404, "not_found"); /* a draft is not published */
    r = th_req("GET", "/v1/survey-forms?limit=200", th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_null(strstr(r->body, id)); /* drafts are not offered */
    th_free(r);
    move(id, "open", NULL, "open");
    r = th_req("GET", "/v1/survey-forms?limit=200", th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(r->body, id));
    th_free(r);
    r = th_req("GET", "/v1/survey-forms", th_token("other.resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_null(strstr(r->body, id));
    th_free(r);
    r = th_req("GET", path, th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(js(r->json, "items.0.code"), "A1");
    assert_string_equal(js(r->json, "scale.0.label"), "很满意");
    assert_string_equal(js(r->json, "scale.3.code"), "somewhat_dissatisfied");
    assert_string_equal(js(r->json, "scale.4.label"), "不满意");
    th_free(r);
    /* residents do not read the desk's campaign record */
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s", id);
    r = th_req("GET", path, th_token("resident"), NULL, NULL);
    EXPECT_PROBLEM(r, 403, NULL);
}

/* A resident's 不满意 in the app opens the complaint as the resident's own (reported by
 * them, channel survey), and a pushed 不满意 opens one under the integration. */
static void test_resident_and_pushed_complaints(void **state)
{
    (void)state;
    char id[40], body[512], rid[40], path[200];
    create("supervisor", p1, 10, id);
    move(id, "open", NULL, "open");
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"basically_satisfied\",\"answers\":[{"
             "\"item_code\":\"A3\",\"rating\":\"dissatisfied\",\"text\":\"报修三次未修好\"}]}",
             u2101);
    th_resp_t *r = respond("resident2", id, body);
    EXPECT_STATUS(r, 201);
    snprintf(rid, sizeof rid, "%s", js(r->json, "followups.0.request_id"));
    assert_string_equal(js(r->json, "followups.0.kind"), "complaint");
    th_free(r);
    snprintf(path, sizeof path, "/v1/requests/%s", rid);
    r = th_req("GET", path, th_token("resident2"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "channel"), "survey");
    assert_string_equal(th_str(r, "department_id"), d_eng);
    assert_non_null(strstr(r->body, "报修三次未修好"));
    th_free(r);
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"dissatisfied\",\"external_ref\":{"
             "\"source\":\"wechat\",\"id\":\"F-0900\"}}",
             u102);
    r = respond("integration", id, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(js(r->json, "followups.0.kind"), "complaint");
    assert_true(jnull(r->json, "followups.0.item_id"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_campaign_state_machine),
        cmocka_unit_test(test_fixture_report_and_followups),
        cmocka_unit_test(test_open_late_entry_refused),
        cmocka_unit_test(test_response_refusals),
        cmocka_unit_test(test_project_scope),
        cmocka_unit_test(test_integration_push_idempotent),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_resident_and_pushed_complaints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
