/*
 * tests/api/test_survey_callbacks.c — a survey answer of 不太满意 opens a callback task in
 * the answer's transaction (issue 9, RULES §3.1.8, §3.2.7): the task's subject is the
 * survey response (no request), it is listed in /v1/callbacks, its attempts derive their
 * outcome without touching a request (不满意 / 极不满意 opens a complaint, channel survey,
 * linked to the response; the rest finish the task), giving up ends it alone, a visit and
 * a contradicting client outcome are refused, and the month's callback figures count
 * request tasks only.
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

static char p1[40], u101[40], u102[40], u201[40], month[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", u101) ||
        th_fx_unit("demo", "1-102", u102) || th_fx_unit("demo", "1-201", u201))
        return -1;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT to_char(now() AT TIME ZONE time_zone, 'YYYY-MM') FROM projects WHERE id = "
             "'%s'",
             p1);
    return th_grab(month, sql);
}

static const char *q1(const char *sql, const char *id)
{
    const char *p[] = {id};
    const char *v = th_sql1(sql, p, 1);
    if (!v)
        fail_msg("query failed: %s", sql);
    return v;
}

/* An open campaign of P1 with items A1, A2. */
static void campaign(char dst[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"title\":\"2026年回访测试调查\",\"copies_distributed\":10,"
             "\"items\":[{\"code\":\"A1\",\"group\":\"服务\",\"text\":\"服务态度\"},"
             "{\"code\":\"A2\",\"group\":\"服务\",\"text\":\"服务时效\"}]}",
             p1);
    th_resp_t *r = th_req("POST", "/v1/survey-campaigns", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(dst, 40, "%s", th_str(r, "id"));
    th_free(r);
    char path[160];
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/actions/open", dst);
    r = th_req("POST", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
}

/* Enters a paper form for unit; the response id into resp, its callback task into task. */
static void answer(const char *camp, const char *unit, const char *overall, const char *answers,
                   char resp[40], char task[40])
{
    char body[1024], path[160];
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"%s\",\"answers\":%s,"
             "\"respondent_name\":\"王先生\"}",
             unit, overall, answers);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/responses", camp);
    th_resp_t *r = th_req("POST", path, th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(resp, 40, "%s", th_str(r, "id"));
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "followups"), 0);
    assert_non_null(f);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "kind")), "callback");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "state")), "opened");
    snprintf(task, 40, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(f, "callback_task_id")));
    th_free(r);
}

static th_resp_t *attempt(const char *who, const char *task, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/callbacks/%s/attempts", task);
    return th_req("POST", path, th_token(who), body, NULL);
}

/* The month's callback figures of P1 as "needing/called_back/satisfied". */
static void figures(char out[64])
{
    char path[200];
    snprintf(path, sizeof path, "/v1/projects/%s/callback-figures?month=%s", p1, month);
    th_resp_t *r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    snprintf(out, 64, "%ld/%ld/%ld", th_jn(r->json, "needing_callback"),
             th_jn(r->json, "called_back"), th_jn(r->json, "satisfied"));
    th_free(r);
}

/* 不太满意 (overall and an item) → one task on the response, listed, refused visits and
 * contradictions, an unreached attempt, then 不满意 → a survey complaint. */
static void test_dissatisfied_callback_opens_complaint(void **state)
{
    (void)state;
    char camp[40], resp[40], task[40], path[200], before[64], after[64];
    figures(before);
    campaign(camp);
    long complaints =
        th_sql_long("SELECT count(*) FROM requests WHERE channel = 'survey'", NULL, 0);
    answer(camp, u101, "somewhat_dissatisfied",
           "[{\"item_code\":\"A1\",\"rating\":\"very_satisfied\"},"
           "{\"item_code\":\"A2\",\"rating\":\"somewhat_dissatisfied\",\"text\":\"太慢\"}]",
           resp, task);
    /* both 不太满意 answers point at the one task of the response */
    assert_string_equal(q1("SELECT count(*) || '/' || count(DISTINCT callback_task_id) FROM "
                           "survey_followups WHERE response_id = $1 AND kind = 'callback' AND "
                           "state = 'opened'",
                           resp),
                        "2/1");
    /* listed in the project's open queue, its subject the response */
    snprintf(path, sizeof path, "/v1/callbacks?project_id=%s&state=open", p1);
    th_resp_t *r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *it, *mine = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "id")), task))
            mine = it;
    }
    assert_non_null(mine);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "subject")),
                        "survey_response");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "kind")), "survey");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "survey_response_id")),
                        resp);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(mine, "request_id")));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "state")), "open");
    th_free(r);
    /* due 24 h after the answer */
    assert_string_equal(q1("SELECT (due_at - resolved_at = interval '24 hours')::text FROM "
                           "callback_tasks WHERE id = $1",
                           task),
                        "true");

    /* refusals: a visit (no request to hold the signature), a contradicting outcome, a
     * resident */
    r = attempt("agent", task,
                "{\"method\":\"visit\",\"reached\":true,\"rating\":\"satisfied\","
                "\"signer_name\":\"王先生\",\"signature_attachment_id\":"
                "\"00000000-0000-4000-8000-000000000001\"}");
    EXPECT_PROBLEM(r, 422, "method_not_available");
    r = attempt("agent", task,
                "{\"method\":\"phone\",\"reached\":true,\"rating\":\"dissatisfied\","
                "\"satisfied\":true}");
    EXPECT_PROBLEM(r, 422, "contradicting_outcome");
    r = attempt("agent", task,
                "{\"method\":\"phone\",\"reached\":true,\"rating\":\"very_dissatisfied\","
                "\"outcome\":\"reopened\"}");
    EXPECT_PROBLEM(r, 422, "contradicting_outcome");
    r = attempt("resident", task, "{\"method\":\"phone\",\"reached\":false}");
    assert_true(r->status == 403 || r->status == 404);
    th_free(r);
    r = attempt("technician", task, "{\"method\":\"phone\",\"reached\":false}");
    assert_true(r->status == 403);
    th_free(r);

    /* unreached: kept, the task stays open */
    r = attempt("agent", task, "{\"method\":\"phone\",\"reached\":false,\"notes\":\"无人接听\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_str(r, "state"), "open");
    assert_int_equal(th_jn(r->json, "attempts"), 1);
    th_free(r);
    /* reached, 不满意: a complaint (channel survey) about the household, the task done */
    r = attempt("agent", task,
                "{\"method\":\"phone\",\"reached\":true,\"rating\":\"dissatisfied\","
                "\"notes\":\"维修时效仍不满意\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_str(r, "state"), "done");
    assert_string_equal(th_str(r, "outcome"), "follow_up_complaint");
    assert_string_equal(th_str(r, "rating"), "dissatisfied");
    char complaint[40];
    snprintf(complaint, sizeof complaint, "%s", th_str(r, "follow_up_request_id"));
    assert_int_equal(strlen(complaint), 36);
    assert_true(th_jnull(r->json, "request_id"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "attempts_list")), 2);
    th_free(r);
    snprintf(path, sizeof path, "/v1/requests/%s", complaint);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "type"), "complaint");
    assert_string_equal(th_str(r, "channel"), "survey");
    assert_string_equal(cJSON_GetStringValue(th_jpath(r->json, "location.unit_id")), u101);
    assert_non_null(strstr(th_str(r, "description"), "维修时效仍不满意"));
    assert_non_null(strstr(th_str(r, "description"), "A2"));
    th_free(r);
    char ref[120];
    snprintf(ref, sizeof ref, "%s/callback/%s", resp, task);
    assert_string_equal(q1("SELECT count(*) FROM requests WHERE external_source = 'survey' AND "
                           "external_id = $1",
                           ref),
                        "1");
    assert_int_equal(th_sql_long("SELECT count(*) FROM requests WHERE channel = 'survey'", NULL, 0),
                     complaints + 1);
    /* no attempt of a survey task names a request */
    assert_string_equal(q1("SELECT count(*) FROM callback_attempts WHERE task_id = $1 AND "
                           "request_id IS NULL",
                           task),
                        "2");
    /* a finished task takes no more attempts */
    r = attempt("agent", task, "{\"method\":\"phone\",\"reached\":false}");
    EXPECT_PROBLEM(r, 409, "task_not_open");
    /* the month's callback figures count request tasks only */
    figures(after);
    assert_string_equal(after, before);
}

/* 一般 or better on a survey callback finishes the task: no request, no complaint. */
static void test_satisfied_callback_finishes(void **state)
{
    (void)state;
    char camp[40], resp[40], task[40];
    campaign(camp);
    long reqs = th_sql_long("SELECT count(*) FROM requests", NULL, 0);
    answer(camp, u102, "somewhat_dissatisfied", "[]", resp, task);
    th_resp_t *r = attempt("agent", task,
                           "{\"method\":\"sms\",\"reached\":true,\"rating\":\"average\","
                           "\"satisfied\":true}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_str(r, "state"), "done");
    assert_string_equal(th_str(r, "outcome"), "closed");
    assert_true(th_jnull(r->json, "follow_up_request_id"));
    th_free(r);
    assert_int_equal(th_sql_long("SELECT count(*) FROM requests", NULL, 0), reqs);
    /* a new 不太满意 answer of a corrected version after the task finished opens a new task */
    char path[200];
    snprintf(path, sizeof path, "/v1/survey-responses/%s/corrections", resp);
    r = th_req("POST", path, th_token("agent"),
               "{\"overall_rating\":\"somewhat_dissatisfied\",\"reason\":\"补录分项\",\"answers\":"
               "[{\"item_code\":\"A1\",\"rating\":\"somewhat_dissatisfied\"}]}",
               NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    assert_string_equal(q1("SELECT count(*) || '/' || count(*) FILTER (WHERE state = 'open') "
                           "FROM callback_tasks WHERE survey_response_id = $1",
                           resp),
                        "2/1");
}

/* Giving a survey task up: the same 3-attempts-on-2-days rule, nothing else closes. */
static void test_give_up_survey_task(void **state)
{
    (void)state;
    char camp[40], resp[40], task[40], path[200], body[200];
    campaign(camp);
    answer(camp, u201, "somewhat_dissatisfied", "[]", resp, task);
    snprintf(path, sizeof path, "/v1/callbacks/%s/give-up", task);
    th_resp_t *r = th_req("POST", path, th_token("agent"), "{\"reason\":\"unreachable\"}", NULL);
    EXPECT_PROBLEM(r, 409, "give_up_too_early");
    /* the answer was entered three days ago (paper forms come in late) */
    assert_non_null(q1("UPDATE callback_tasks SET resolved_at = now() - interval '3 days', "
                       "due_at = now() - interval '2 days' WHERE id = $1 RETURNING id",
                       task));
    /* an attempt before the answer is refused */
    r = attempt(
        "agent", task,
        "{\"method\":\"phone\",\"reached\":false,\"occurred_at\":\"2001-01-01T00:00:00Z\"}");
    assert_int_equal(r->status, 422);
    th_free(r);
    for (int d = 2; d >= 0; d--) {
        char at[200];
        snprintf(at, sizeof at,
                 "SELECT to_char((now() - interval '%d days') AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                 d);
        char ts[40];
        assert_int_equal(th_grab(ts, at), 0);
        snprintf(body, sizeof body,
                 "{\"method\":\"phone\",\"reached\":false,\"occurred_at\":\"%s\"}", ts);
        r = attempt("agent", task, body);
        EXPECT_STATUS(r, 201);
        th_free(r);
    }
    r = th_req("POST", path, th_token("agent"), "{\"reason\":\"unreachable\"}", NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "state"), "given_up");
    assert_string_equal(th_str(r, "give_up_reason"), "unreachable");
    assert_string_equal(th_str(r, "subject"), "survey_response");
    th_free(r);
}

/* A resident's app answer of 不太满意 opens the task too; the desk assigns it; past due,
 * the overdue marker marks it and notifies its assignee (no request behind it). */
static void test_resident_answer_assign_overdue(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=200", NULL};
    assert_int_equal(th_restart(env), 0);
    char camp[40], path[200], body[256], agent[40], task[40];
    assert_int_equal(th_fx_user("agent", agent), 0);
    campaign(camp);
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"somewhat_dissatisfied\",\"answers\":[]}",
             u101);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/responses", camp);
    th_resp_t *r = th_req("POST", path, th_token("resident"), body, NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_str(r, "channel"), "app");
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "followups"), 0);
    snprintf(task, sizeof task, "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(f, "callback_task_id")));
    th_free(r);
    assert_int_equal(strlen(task), 36);
    /* a resident does not see the desk's task */
    snprintf(path, sizeof path, "/v1/callbacks/%s", task);
    r = th_req("GET", path, th_token("resident"), NULL, NULL);
    assert_true(r->status == 403 || r->status == 404);
    th_free(r);
    /* assign it to the agent; "my open tasks" lists it */
    snprintf(path, sizeof path, "/v1/callbacks/%s/assign", task);
    snprintf(body, sizeof body, "{\"assignee_id\":\"%s\"}", agent);
    const char *h[] = {"If-Match: \"1\"", NULL};
    r = th_req("POST", path, th_token("supervisor"), body, h);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "assignee_id"), agent);
    th_free(r);
    r = th_req("GET", "/v1/callbacks?assignee=me", th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    int seen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        seen |= !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "id")), task);
    }
    assert_true(seen);
    th_free(r);
    assert_non_null(q1("UPDATE callback_tasks SET due_at = now() - interval '1 minute' WHERE id = "
                       "$1 RETURNING id",
                       task));
    /* Liveness only: the worker runs every 200 ms; allow it a generous 20 s. */
    const char *sql = "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                      "WHERE n.kind = 'callback_overdue' AND n.request_id IS NULL AND "
                      "n.payload->>'task_id' = $1 AND u.username = 'agent'";
    for (int i = 0; i < 200 && strcmp(q1(sql, task), "1"); i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(q1(sql, task), "1");
    assert_string_equal(
        q1("SELECT (overdue_at IS NOT NULL)::text FROM callback_tasks WHERE id = $1", task),
        "true");
    r = th_req("GET", "/v1/callbacks?overdue=true&assignee=me", th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")) >= 1);
    th_free(r);
    assert_int_equal(th_restart(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dissatisfied_callback_opens_complaint),
        cmocka_unit_test(test_satisfied_callback_finishes),
        cmocka_unit_test(test_give_up_survey_task),
        cmocka_unit_test(test_resident_answer_assign_overdue),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
