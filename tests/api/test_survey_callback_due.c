/*
 * tests/api/test_survey_callback_due.c — a survey response's callback task (不太满意, RULES
 * §3.1.8) is due by the project's callback policy like a request's (§3.1.2): the callback
 * target of the project's general-complaint policy, counted from the answer on the
 * project's calendar; 24 h when that target is off.  The policy is changed through the API
 * between answers; each answer's task follows the policy in force when it was entered.
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

static char p1[40], u101[40], u102[40], u201[40], u202[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", u101) ||
           th_fx_unit("demo", "1-102", u102) || th_fx_unit("demo", "1-201", u201) ||
           th_fx_unit("demo", "2-101", u202);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static const char *q1(const char *sql, const char *id)
{
    const char *p[] = {id};
    const char *v = th_sql1(sql, p, 1);
    if (!v)
        fail_msg("query failed: %s", sql);
    return v;
}

/* An open campaign of P1 with item A1. */
static void campaign(char dst[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"title\":\"回访时限测试调查\",\"copies_distributed\":10,"
             "\"items\":[{\"code\":\"A1\",\"group\":\"服务\",\"text\":\"服务态度\"}]}",
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

/* A paper form of unit answering 不太满意 overall: its callback task's id into task. */
static void answer(const char *camp, const char *unit, char task[40])
{
    char body[512], path[160];
    snprintf(body, sizeof body,
             "{\"unit_id\":\"%s\",\"overall_rating\":\"somewhat_dissatisfied\",\"answers\":[],"
             "\"respondent_name\":\"李女士\"}",
             unit);
    snprintf(path, sizeof path, "/v1/survey-campaigns/%s/responses", camp);
    th_resp_t *r = th_req("POST", path, th_token("agent"), body, NULL);
    if (r->status != 201)
        fail_msg("answer: %ld %s", r->status, r->body);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "followups"), 0);
    assert_non_null(f);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "kind")), "callback");
    snprintf(task, 40, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(f, "callback_task_id")));
    th_free(r);
}

/* Redefines the callback target of P1's general-complaint policy (callback: a JSON target,
 * or NULL to switch it off), keeping the other targets. */
static void set_callback_target(const char *callback)
{
    const char *pid = th_sql1("SELECT id FROM sla_policies WHERE project_id = $1 AND match_type = "
                              "'complaint' AND match_severity = 'general' AND match_category IS "
                              "NULL AND active",
                              (const char *const[]){p1}, 1);
    assert_non_null(pid);
    char path[128];
    snprintf(path, sizeof path, "/v1/sla/policies/%s", pid);
    th_resp_t *g = th_req("GET", path, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(g, 200);
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", th_header(g, "ETag"));
    cJSON *def = cJSON_Duplicate(th_jpath(g->json, "definition"), 1);
    th_free(g);
    cJSON *targets = cJSON_GetObjectItem(def, "targets");
    cJSON_DeleteItemFromObject(targets, "callback");
    if (callback)
        cJSON_AddItemToObject(targets, "callback", cJSON_Parse(callback));
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "definition", def);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req("PATCH", path, th_token("admin"), text, h);
    free(text);
    if (r->status != 200)
        fail_msg("patch policy: %ld %s", r->status, r->body);
    th_free(r);
}

static void test_survey_callback_follows_policy(void **state)
{
    (void)state;
    char camp[40], t_default[40], t_90[40], t_nine[40], t_off[40];
    campaign(camp);

    /* The shipped policy: 24 h calendar time (SPEC §4). */
    answer(camp, u101, t_default);
    assert_string_equal(q1("SELECT extract(epoch FROM due_at - resolved_at)::bigint::text FROM "
                           "callback_tasks WHERE id = $1",
                           t_default),
                        "86400");

    /* 90 minutes: the next task is due 90 minutes after its answer. */
    set_callback_target("{\"kind\":\"calendar\",\"minutes\":90}");
    answer(camp, u102, t_90);
    assert_string_equal(q1("SELECT extract(epoch FROM due_at - resolved_at)::bigint::text FROM "
                           "callback_tasks WHERE id = $1",
                           t_90),
                        "5400");
    /* the answer is the follow-up's time, not a request's */
    assert_string_equal(q1("SELECT (abs(extract(epoch FROM resolved_at - now())) < 600)::text "
                           "FROM callback_tasks WHERE id = $1",
                           t_90),
                        "true");
    /* the first task keeps the due it was given */
    assert_string_equal(q1("SELECT extract(epoch FROM due_at - resolved_at)::bigint::text FROM "
                           "callback_tasks WHERE id = $1",
                           t_default),
                        "86400");

    /* The next 09:00 in the project's time zone (its calendar). */
    set_callback_target("{\"kind\":\"next_local_time\",\"at\":\"09:00\"}");
    answer(camp, u201, t_nine);
    assert_string_equal(
        q1("SELECT (to_char(t.due_at AT TIME ZONE p.time_zone, 'HH24:MI:SS') = '09:00:00' AND "
           "t.due_at > t.resolved_at AND t.due_at <= t.resolved_at + interval '24 hours')::text "
           "FROM callback_tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
           t_nine),
        "true");

    /* Switched off: 24 h, as a request whose callback clock does not run. */
    set_callback_target(NULL);
    answer(camp, u202, t_off);
    assert_string_equal(q1("SELECT extract(epoch FROM due_at - resolved_at)::bigint::text FROM "
                           "callback_tasks WHERE id = $1",
                           t_off),
                        "86400");

    /* The list answers the policy's due too. */
    char path[128];
    snprintf(path, sizeof path, "/v1/callbacks/%s", t_90);
    th_resp_t *r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_parse_utc(th_str(r, "due_at")) - th_parse_utc(th_str(r, "resolved_at")),
                     90 * 60);
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_survey_callback_follows_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
