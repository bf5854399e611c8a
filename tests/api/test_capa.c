/*
 * tests/api/test_capa.c — corrective and preventive actions end to end (issue 9, RULES
 * §3.3): numbering, the whole state machine with its events, the approver rule (manager;
 * director for several departments; a GM-convened joint review for a major quality
 * problem), the refusals (wrong role 403, other project 404, verify before implemented
 * 409, …), the "department below target" trigger, the overdue clock's warning and
 * escalation, the append-only events.
 */
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
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char p1[40], p2[40], d_cs[40], d_eng[40], d_sec[40];
static char u_tech[40], u_manager[40], u_supervisor[40], u_agent[40], u_director[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", "DESK_CAPA_INTERVAL_MS=250",
                                      NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_dept("demo", "customer_service", d_cs) ||
        th_fx_dept("demo", "engineering", d_eng) || th_fx_dept("demo", "security", d_sec) ||
        th_fx_user("technician", u_tech) || th_fx_user("manager", u_manager) ||
        th_fx_user("supervisor", u_supervisor) || th_fx_user("agent", u_agent) ||
        th_fx_user("director", u_director))
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

static void future(long secs, char out[40])
{
    th_iso_utc(time(NULL) + secs, out);
}

/* Creates an action as `who`; expects 201 and copies its id. */
static void create(const char *who, const char *extra, char id[40])
{
    char body[1024], due[40];
    future(10 * 86400, due);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"楼道保洁投诉反复\","
             "\"problem\":\"同一楼道一月内三次投诉\",\"department_id\":\"%s\","
             "\"responsible_id\":\"%s\",\"due_at\":\"%s\"%s%s}",
             p1, d_eng, u_tech, due, extra ? "," : "", extra ? extra : "");
    th_resp_t *r = th_req("POST", "/v1/corrective-actions", th_token(who), body, NULL);
    if (r->status != 201)
        fprintf(stderr, "create -> %ld %s\n", r->status, r->body);
    EXPECT_STATUS(r, 201);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    assert_string_equal(th_js(r->json, "state"), "open");
    assert_non_null(th_header(r, "Location"));
    th_free(r);
}

static th_resp_t *act(const char *who, const char *id, const char *action, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/corrective-actions/%s/actions/%s", id, action);
    return th_req("POST", path, th_token(who), body, NULL);
}

static void act_ok(const char *who, const char *id, const char *action, const char *body,
                   const char *state)
{
    th_resp_t *r = act(who, id, action, body);
    if (r->status != 200)
        fprintf(stderr, "%s %s -> %ld %s\n", who, action, r->status, r->body);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), state);
    th_free(r);
}

static void act_refused(const char *who, const char *id, const char *action, const char *body,
                        long st, const char *code)
{
    th_resp_t *r = act(who, id, action, body);
    if (r->status != st)
        fprintf(stderr, "%s %s -> %ld %s\n", who, action, r->status, r->body);
    EXPECT_PROBLEM(r, st, code);
}

#define PROPOSE                                                                                           \
    "{\"cause_analysis\":\"保洁排班缺人\",\"responsibility\":\"保洁外包\",\"remedial_action\":" \
    "\"当日补扫\",\"measures\":\"增加一班巡查\"}"

static void test_flow(void **state)
{
    (void)state;
    char id[40];
    create("supervisor",
           "\"sources\":[{\"kind\":\"request\",\"id\":\"REQ-1\"},{\"kind\":"
           "\"survey_item\",\"id\":\"2026Q3/清洁\"}]",
           id);
    char path[128];
    snprintf(path, sizeof path, "/v1/corrective-actions/%s", id);
    th_resp_t *r = th_req("GET", path, th_token("technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const char *num = th_js(r->json, "number");
    assert_int_equal(strlen(num), 14);
    assert_memory_equal(num, "CA-", 3);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "sources")), 2);
    th_free(r);

    act_refused("agent", id, "propose", PROPOSE, 403, "not_responsible");
    act_refused("technician", id, "propose", "{\"cause_analysis\":\"x\"}", 422, "missing_field");
    act_ok("technician", id, "propose", PROPOSE, "measures_proposed");
    /* approval by a non-manager */
    act_refused("supervisor", id, "approve", NULL, 403, "approver_required");
    act_refused("technician", id, "approve", NULL, 403, "approver_required");
    act_refused("auditor", id, "verify", "{\"effective\":true,\"verification\":\"ok\"}", 409,
                "invalid_state");
    act_ok("manager", id, "approve", "{\"note\":\"同意\"}", "approved");
    act_refused("manager", id, "approve", NULL, 409, "invalid_state");
    act_ok("technician", id, "start", NULL, "implementing");
    /* verify before implemented */
    act_refused("auditor", id, "verify", "{\"effective\":true,\"verification\":\"ok\"}", 409,
                "invalid_state");
    act_refused("agent", id, "confirm", "{\"confirmed\":true,\"customer_confirmation\":\"x\"}", 409,
                "invalid_state");
    act_ok("technician", id, "implement", "{\"implementation_notes\":\"已增加晚班巡查\"}",
           "implemented");
    act_refused("technician", id, "verify", "{\"effective\":true,\"verification\":\"ok\"}", 403,
                "verifier_required");
    act_refused("auditor", id, "verify", "{\"verification\":\"ok\"}", 422, "missing_field");
    /* ineffective → measures proposed again */
    act_ok("auditor", id, "verify", "{\"effective\":false,\"verification\":\"两周后又有投诉\"}",
           "ineffective");
    act_ok("technician", id, "propose", PROPOSE, "measures_proposed");
    act_ok("manager", id, "approve", NULL, "approved");
    act_ok("supervisor", id, "start", NULL, "implementing");
    act_ok("technician", id, "implement", "{\"implementation_notes\":\"更换保洁班组\"}",
           "implemented");
    act_ok("auditor", id, "verify", "{\"effective\":true,\"verification\":\"一月内无投诉\"}",
           "verified");
    r = act("agent", id, "confirm",
            "{\"confirmed\":true,\"customer_confirmation\":\"业主电话确认满意\"}");
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "customer_confirmed"));
    th_free(r);
    act_refused("manager", id, "cancel", "{\"reason\":\"x\"}", 409, "invalid_state");

    /* every change an event with actor and time */
    snprintf(path, sizeof path, "/v1/corrective-actions/%s/events", id);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *items = th_jpath(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 12);
    const char *want[] = {"create", "propose", "approve", "start", "implement",
                          "verify", "propose", "approve", "start", "implement",
                          "verify", "confirm", NULL};
    int i = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, items)
    {
        if (want[i])
            assert_string_equal(th_js(ev, "action"), want[i]);
        assert_true(th_js(ev, "at")[0] != 0);
        assert_int_equal(th_jn(ev, "seq"), i + 1);
        i++;
    }
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 1), "actor_id"), u_tech);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 2), "actor_id"), u_manager);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 5), "to_state"), "ineffective");
    th_free(r);
}

/* Several departments: the director approves, not the manager. */
static void test_multi_department(void **state)
{
    (void)state;
    char id[40], body[256];
    create("manager", NULL, id);
    snprintf(body, sizeof body,
             "{\"cause_analysis\":\"a\",\"responsibility\":\"b\",\"measures\":\"c\","
             "\"other_departments\":[\"%s\"]}",
             d_sec);
    act_ok("technician", id, "propose", body, "measures_proposed");
    act_refused("manager", id, "approve", NULL, 403, "director_required");
    act_ok("director", id, "approve", NULL, "approved");
    /* created with several departments from the start */
    snprintf(body, sizeof body, "\"other_departments\":[\"%s\",\"%s\"]", d_cs, d_sec);
    create("supervisor", body, id);
    act_ok("supervisor", id, "propose", PROPOSE, "measures_proposed");
    act_refused("manager", id, "approve", NULL, 403, "director_required");
    act_ok("gm", id, "approve", NULL, "approved");
    /* a department of another organisation */
    char other[40];
    assert_int_equal(th_fx_dept("other", "engineering", other), 0);
    snprintf(body, sizeof body,
             "{\"cause_analysis\":\"a\",\"responsibility\":\"b\",\"measures\":\"c\","
             "\"other_departments\":[\"%s\"]}",
             other);
    create("supervisor", NULL, id);
    act_refused("supervisor", id, "propose", body, 422, "invalid_field");
}

/* A major quality problem: a joint review convened by the GM before approval. */
static void test_major_needs_gm_review(void **state)
{
    (void)state;
    char id[40], body[512], held[40];
    create("supervisor", "\"major\":true", id);
    act_ok("technician", id, "propose", PROPOSE, "measures_proposed");
    act_refused("manager", id, "approve", NULL, 409, "gm_review_required");
    th_iso_utc(time(NULL) - 3600, held);
    snprintf(body, sizeof body,
             "{\"held_at\":\"%s\",\"attendees\":[\"%s\",\"%s\"],\"conclusion\":\"原因不明，"
             "工程部牵头排查\"}",
             held, u_manager, u_tech);
    act_refused("supervisor", id, "review", body, 403, "convener_required");
    act_refused("manager", id, "review", "{\"conclusion\":\"x\"}", 422, "missing_field");
    char other_user[40];
    assert_int_equal(th_fx_user("other.manager", other_user), 0);
    char bad[512];
    snprintf(bad, sizeof bad, "{\"held_at\":\"%s\",\"attendees\":[\"%s\"],\"conclusion\":\"x\"}",
             held, other_user);
    act_refused("manager", id, "review", bad, 422, "invalid_field");
    act_ok("manager", id, "review", body, "measures_proposed");
    act_refused("manager", id, "approve", NULL, 409, "gm_review_required");
    act_ok("gm", id, "review", body, "measures_proposed");
    char path[128];
    snprintf(path, sizeof path, "/v1/corrective-actions/%s", id);
    th_resp_t *r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *rv = th_jpath(r->json, "reviews");
    assert_int_equal(cJSON_GetArraySize(rv), 2);
    assert_string_equal(th_js(cJSON_GetArrayItem(rv, 1), "convener_role"), "gm");
    assert_int_equal(cJSON_GetArraySize(th_jpath(cJSON_GetArrayItem(rv, 0), "attendees")), 2);
    assert_true(th_jtrue(r->json, "major"));
    th_free(r);
    act_ok("manager", id, "approve", NULL, "approved");
    /* cancel needs a reason and a manager */
    act_refused("supervisor", id, "cancel", "{\"reason\":\"重复\"}", 403, "manager_required");
    act_refused("manager", id, "cancel", NULL, 422, "missing_field");
    r = act("manager", id, "cancel", "{\"reason\":\"与 CA 合并\"}");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "cancelled");
    assert_string_equal(th_js(r->json, "cancel_reason"), "与 CA 合并");
    th_free(r);
}

static int list_has(const th_resp_t *r, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), id))
            return 1;
    }
    return 0;
}

/* Roles and project scope. */
static void test_roles_and_scope(void **state)
{
    (void)state;
    char body[512], id2[40], path[160];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"preventive\",\"title\":\"电梯困人预防\"}", p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("agent"), body, NULL), 403,
                   NULL);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("technician"), body, NULL),
                   403, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/corrective-actions", th_token("resident"), NULL, NULL), 403,
                   NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/corrective-actions", th_token("clerk"), NULL, NULL), 403,
                   NULL);
    /* P1's supervisor cannot open one in P2 */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"preventive\",\"title\":\"电梯困人预防\"}", p2);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL),
                   404, NULL);
    /* the GM opens one in P2: P1's staff neither see nor touch it */
    th_resp_t *r = th_req("POST", "/v1/corrective-actions", th_token("gm"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(id2, sizeof id2, "%s", th_js(r->json, "id"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/corrective-actions/%s", id2);
    EXPECT_PROBLEM(th_req("GET", path, th_token("supervisor"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.gm"), NULL, NULL), 404, "not_found");
    snprintf(path, sizeof path, "/v1/corrective-actions/%s/events", id2);
    EXPECT_PROBLEM(th_req("GET", path, th_token("technician"), NULL, NULL), 404, "not_found");
    act_refused("manager", id2, "cancel", "{\"reason\":\"x\"}", 404, "not_found");
    r = th_req("GET", "/v1/corrective-actions?limit=200", th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_false(list_has(r, id2));
    th_free(r);
    r = th_req("GET", "/v1/corrective-actions?limit=200", th_token("auditor"), NULL, NULL);
    assert_true(list_has(r, id2));
    th_free(r);
    /* the people named must be of the project */
    char other_user[40], due[40];
    assert_int_equal(th_fx_user("other.technician", other_user), 0);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"t\","
             "\"responsible_id\":\"%s\"}",
             p1, other_user);
    r = th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 422);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "errors"), 0), "pointer"),
                        "/responsible_id");
    th_free(r);
    th_iso_utc(time(NULL) - 60, due);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"t\",\"due_at\":\"%s\"}",
             p1, due);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL),
                   422, "invalid_field");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"fix\",\"title\":\"t\"}", p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL),
                   422, "invalid_field");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"kind\":\"corrective\"}", p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL),
                   422, "missing_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"t\",\"sources\":[{"
             "\"kind\":\"rumour\",\"id\":\"x\"}]}",
             p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL),
                   422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"t\",\"colour\":1}", p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL),
                   422, "unknown_field");
    act_refused("manager", id2, "destroy", NULL, 404, "unknown_action");
    EXPECT_PROBLEM(
        th_req("GET", "/v1/corrective-actions?state=done", th_token("manager"), NULL, NULL), 400,
        "invalid_query");
}

/* Numbers: CA-<year>-<6 digits>, consecutive per organisation, also when created at once. */
static void *create_thread(void *arg)
{
    char *num = arg, body[256];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"preventive\",\"title\":\"并发\"}", p1);
    th_resp_t *r = th_req_mt("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL);
    snprintf(num, 40, "%s", r->status == 201 ? th_js(r->json, "number") : "");
    th_free(r);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_numbering(void **state)
{
    (void)state;
    enum { N = 8 };
    char nums[N][40];
    pthread_t t[N];
    (void)th_token("supervisor");
    for (int i = 0; i < N; i++)
        pthread_create(&t[i], NULL, create_thread, nums[i]);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    qsort(nums, N, sizeof nums[0], cmp);
    for (int i = 0; i < N; i++) {
        assert_int_equal(strlen(nums[i]), 14);
        if (i) {
            assert_memory_equal(nums[i], nums[0], 8); /* same year */
            assert_int_equal(atol(nums[i] + 8), atol(nums[i - 1] + 8) + 1);
        }
    }
    /* the other organisation counts on its own */
    char body[256], op[40];
    assert_int_equal(th_fx_project("other", op), 0);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"preventive\",\"title\":\"其他\"}", op);
    th_resp_t *r =
        th_req("POST", "/v1/corrective-actions", th_token("other.supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    assert_int_equal(atol(th_js(r->json, "number") + 8), 1);
    th_free(r);
}

/* The survey feature's trigger: a department below the project's target. */
static void test_department_below_target(void **state)
{
    (void)state;
    char body[512], id[40];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"department_id\":\"%s\",\"period\":\"2026-Q3\","
             "\"figure\":78.5,\"target\":90}",
             p1, d_cs);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions/department-below-target",
                          th_token("agent"), body, NULL),
                   403, NULL);
    th_resp_t *r = th_req("POST", "/v1/corrective-actions/department-below-target",
                          th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    assert_true(th_jtrue(r->json, "created"));
    snprintf(id, sizeof id, "%s", th_js(r->json, "corrective_action.id"));
    assert_string_equal(th_js(r->json, "corrective_action.department_id"), d_cs);
    assert_string_equal(th_js(r->json, "corrective_action.kind"), "corrective");
    assert_false(th_jnull(r->json, "corrective_action.due_at"));
    th_free(r);
    /* once per department and period */
    r = th_req("POST", "/v1/corrective-actions/department-below-target", th_token("manager"), body,
               NULL);
    EXPECT_STATUS(r, 200);
    assert_false(th_jtrue(r->json, "created"));
    assert_string_equal(th_js(r->json, "corrective_action.id"), id);
    th_free(r);
    /* at or above target: nothing */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"department_id\":\"%s\",\"period\":\"2026-Q4\","
             "\"figure\":90,\"target\":90}",
             p1, d_cs);
    r = th_req("POST", "/v1/corrective-actions/department-below-target", th_token("supervisor"),
               body, NULL);
    EXPECT_STATUS(r, 200);
    assert_false(th_jtrue(r->json, "below_target"));
    assert_true(th_jnull(r->json, "corrective_action"));
    th_free(r);
    /* a department of another project */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"department_id\":\"%s\",\"period\":\"2026-Q4\","
             "\"figure\":10,\"target\":90}",
             p2, d_cs);
    EXPECT_PROBLEM(th_req("POST", "/v1/corrective-actions/department-below-target", th_token("gm"),
                          body, NULL),
                   422, "invalid_field");
    char cs_ref[120], q[300];
    snprintf(cs_ref, sizeof cs_ref, "%s/2026-Q3", d_cs);
    snprintf(q, sizeof q, "/v1/corrective-actions?source_kind=department_below_target&source_id=%s",
             cs_ref);
    r = th_req("GET", q, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 1);
    assert_true(list_has(r, id));
    th_free(r);
}

static long notes(const char *user, const char *kind, const char *id)
{
    const char *v[] = {user, kind, id};
    return th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2 AND "
                       "payload->>'corrective_action_id' = $3",
                       v, 3);
}

/* Overdue: the responsible person is warned, the project's managers are told once due. */
static void test_overdue(void **state)
{
    (void)state;
    char id[40];
    create("supervisor", NULL, id);
    const char *v[] = {id};
    assert_non_null(th_sql1("UPDATE corrective_actions SET created_at = now() - interval '2 "
                            "days', due_at = now() - interval '1 minute' WHERE id = $1 "
                            "RETURNING 1",
                            v, 1));
    int ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        ok = notes(u_manager, "capa_overdue", id) == 1 && notes(u_tech, "capa_due", id) == 1;
        if (!ok)
            usleep(100000);
    }
    assert_true(ok);
    assert_int_equal(notes(u_tech, "capa_overdue", id), 1);
    assert_int_equal(notes(u_agent, "capa_overdue", id), 0);
    char path[128];
    snprintf(path, sizeof path, "/v1/corrective-actions?overdue=true&responsible_id=%s", u_tech);
    th_resp_t *r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, id));
    th_free(r);
    /* once only, whatever the rounds since */
    usleep(800000);
    assert_int_equal(notes(u_manager, "capa_overdue", id), 1);
    /* a new deadline is a new clock */
    assert_non_null(th_sql1("UPDATE corrective_actions SET due_at = now() - interval '30 "
                            "seconds' WHERE id = $1 RETURNING 1",
                            v, 1));
    ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        ok = notes(u_manager, "capa_overdue", id) == 2;
        if (!ok)
            usleep(100000);
    }
    assert_true(ok);
}

/* Events are append-only, for the owner too. */
static void test_events_append_only(void **state)
{
    (void)state;
    char id[40];
    create("supervisor", NULL, id);
    PGconn *db = th_db();
    const char *v[] = {id};
    PGresult *res = PQexecParams(db,
                                 "UPDATE corrective_action_events SET action = 'x' WHERE "
                                 "action_id = $1",
                                 1, NULL, v, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    res = PQexecParams(db, "DELETE FROM corrective_action_events WHERE action_id = $1", 1, NULL, v,
                       NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    assert_int_equal(th_sql_long("SELECT count(*) FROM corrective_action_events WHERE action_id "
                                 "= $1",
                                 v, 1),
                     1);
    /* the change was audited with its actor */
    assert_true(th_sql_long("SELECT count(*) FROM audit_log WHERE resource_type = "
                            "'corrective_action' AND resource_id = $1",
                            v, 1) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow),
        cmocka_unit_test(test_multi_department),
        cmocka_unit_test(test_major_needs_gm_review),
        cmocka_unit_test(test_roles_and_scope),
        cmocka_unit_test(test_numbering),
        cmocka_unit_test(test_department_below_target),
        cmocka_unit_test(test_overdue),
        cmocka_unit_test(test_events_append_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
