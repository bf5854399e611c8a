/*
 * tests/api/test_request_flow.c — the desk's daily workflow from seed 001 (RULES §2),
 * end to end: a technician declines a work order with a reason and the desk dispatches it
 * again (refusals counted per department and person); the desk tells the customer when
 * someone will come and the approximate deadline, which the resident sees; a repair of
 * the same unit and category within 30 days of the last one closing is a repeat (rework
 * rate); the first receiver owns the matter until it is handed on, and "my registrations
 * still open" lists it.  Each with its refusals: wrong role 403, another project or
 * organisation 404, a decline without a reason and a time in the past 422.
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

static char project[40], unit101[40], unit1201[40], unit2102[40], res_zw[40], dept_eng[40];
static char u_agent[40], u_tech[40], u_super[40], u_tech2[40], u_other_agent[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(NULL) != 0)
        return -1;
    if (th_fx_project("demo", project) || th_fx_unit("demo", "1-101", unit101) ||
        th_fx_unit("demo", "2-102", unit2102) || th_fx_unit("demo", "1-201", unit1201) ||
        th_fx_resident("demo", "张伟", res_zw) || th_fx_dept("demo", "engineering", dept_eng) ||
        th_fx_user("agent", u_agent) || th_fx_user("technician", u_tech) ||
        th_fx_user("supervisor", u_super) || th_fx_user("other.agent", u_other_agent))
        return -1;
    /* A second technician of the engineering department, and an agent who works only on a
     * second project of the same organisation. */
    const char *v[] = {project};
    const char *x = th_sql1(
        "WITH u AS (INSERT INTO users (org_id, username, display_name, role, department_id, "
        "password_hash) SELECT org_id, 'tech.two', '第二技工', 'technician', department_id, "
        "password_hash FROM users WHERE username = 'technician' RETURNING id, org_id) "
        "INSERT INTO user_projects (org_id, user_id, project_id) SELECT org_id, id, $1 FROM u "
        "RETURNING user_id",
        v, 1);
    if (!x)
        return -1;
    snprintf(u_tech2, sizeof u_tech2, "%s", x);
    x = th_sql1("WITH p AS (INSERT INTO projects (org_id, code, name, time_zone, "
                "business_hours) SELECT org_id, 'P2F', '翠湖大厦', time_zone, business_hours "
                "FROM projects WHERE id = $1 RETURNING id, org_id), u AS (INSERT INTO users "
                "(org_id, username, display_name, role, password_hash) SELECT org_id, "
                "'agent.p2', '翠湖客服', 'agent', (SELECT password_hash FROM users WHERE "
                "username = 'agent') FROM p RETURNING id, org_id) INSERT INTO user_projects "
                "(org_id, user_id, project_id) SELECT u.org_id, u.id, p.id FROM u, p "
                "RETURNING user_id",
                v, 1);
    return x ? 0 : -1;
}

static th_resp_t *action(const char *user, const char *id, const char *name, int version,
                         const char *body)
{
    char path[200], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, name);
    snprintf(im, sizeof im, "If-Match: \"%d\"", version);
    const char *h[] = {im, NULL};
    return th_req("POST", path, th_token(user), body, h);
}

/* An action that must answer 200 in `state`; returns the answer (free it). */
static th_resp_t *act_at(int line, const char *user, const char *id, const char *name, int version,
                         const char *body, const char *state)
{
    th_resp_t *r = action(user, id, name, version, body);
    if (r->status != 200 || strcmp(th_js(r->json, "state"), state) != 0)
        fail_msg("line %d: %s: expected 200 %s, got %ld: %s", line, name, state, r->status,
                 r->body);
    return r;
}
#define ACT(...) act_at(__LINE__, __VA_ARGS__)

/* A 422 whose first errors[] entry points at /field; frees the answer. */
static void expect_invalid_at(int line, th_resp_t *r, const char *code, const char *field)
{
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "errors"), 0);
    char want[64];
    snprintf(want, sizeof want, "/%s", field);
    if (r->status != 422 || !e || strcmp(th_js(e, "pointer"), want) != 0)
        fail_msg("line %d: expected 422 at %s, got %ld: %s", line, want, r->status, r->body);
    th_expect_problem_at(line, r, 422, code);
}
#define EXPECT_INVALID(r, code, field) expect_invalid_at(__LINE__, (r), (code), (field))

static void new_repair(const char *user, const char *unit, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"王先生\",\"phone\":\"13700002222\"},"
             "\"description\":\"厨房水龙头漏水\"}",
             unit);
    th_free(th_create_request_at(__LINE__, user, body, id));
}

/* Dispatched to engineering with the technician named: version 2. */
static void dispatched(char id[40])
{
    new_repair("agent", unit101, id);
    char body[200];
    snprintf(body, sizeof body, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng,
             u_tech);
    th_free(ACT("agent", id, "dispatch", 1, body, "dispatched"));
}

static long refusals(const char *path_tail, const char *key)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/projects/%s/figures/%s", project, path_tail);
    th_resp_t *r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    long n = th_jn(r->json, key);
    th_free(r);
    return n;
}

/* The count of `id` in the refusals' list `list` (by_person / by_department). */
static long refusals_of(const char *list, const char *idkey, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/projects/%s/figures/refusals", project);
    th_resp_t *r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    long n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, list)) if (!strcmp(th_js(it, idkey), id))
        n = th_jn(it, "count");
    th_free(r);
    return n;
}

static void test_decline_and_redispatch(void **state)
{
    (void)state;
    char id[40];
    dispatched(id);
    long total = refusals("refusals", "total");
    long mine = refusals_of("by_person", "user_id", u_tech);
    long eng = refusals_of("by_department", "department_id", dept_eng);

    /* refusals first: no reason, an unknown reason, "other" without a note */
    EXPECT_INVALID(action("technician", id, "decline", 2, "{}"), "decline_reason_required",
                   "reason");
    EXPECT_INVALID(action("technician", id, "decline", 2, "{\"reason\":\"busy\"}"), "invalid_enum",
                   "reason");
    EXPECT_PROBLEM(action("technician", id, "decline", 2, "{\"reason\":\"other\"}"), 422,
                   "decline_note_required");
    /* wrong role, not the assignee, another project, another organisation */
    EXPECT_PROBLEM(action("security", id, "decline", 2, "{\"reason\":\"parts\"}"), 403,
                   "forbidden_role");
    EXPECT_PROBLEM(action("tech.two", id, "decline", 2, "{\"reason\":\"parts\"}"), 403,
                   "not_assignee");
    EXPECT_PROBLEM(action("agent.p2", id, "decline", 2, "{\"reason\":\"parts\"}"), 404, NULL);
    EXPECT_PROBLEM(action("other.technician", id, "decline", 2, "{\"reason\":\"parts\"}"), 404,
                   NULL);
    th_expect_snapshot_at(__LINE__, "SELECT state FROM work_orders WHERE request_id = $1", id,
                          "dispatched");

    th_resp_t *r = ACT("technician", id, "decline", 2,
                       "{\"reason\":\"no_access\",\"note\":\"两次上门无人\"}", "received");
    assert_string_equal(th_js(r->json, "work_order.state"), "declined");
    assert_string_equal(th_js(r->json, "work_order.decline.reason"), "no_access");
    assert_string_equal(th_js(r->json, "work_order.decline.note"), "两次上门无人");
    assert_string_equal(th_js(r->json, "work_order.decline.by"), u_tech);
    assert_true(th_jnull(r->json, "department_id"));
    assert_true(th_jnull(r->json, "assignee_id"));
    th_free(r);

    /* the timeline shows it, with the reason */
    r = th_get_timeline("agent", id);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    const cJSON *last = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
    assert_string_equal(th_js(last, "action"), "decline");
    assert_string_equal(th_js(last, "details.reason"), "no_access");
    assert_string_equal(th_js(last, "details.work_order_state"), "declined");
    assert_string_equal(th_js(last, "to_state"), "received");
    th_free(r);

    /* declining twice is a state conflict; the desk dispatches it again */
    EXPECT_PROBLEM(action("agent", id, "decline", 3, "{\"reason\":\"parts\"}"), 409,
                   "invalid_transition");
    char body[200];
    snprintf(body, sizeof body, "{\"department_id\":\"%s\"}", dept_eng);
    r = ACT("agent", id, "dispatch", 3, body, "dispatched");
    assert_string_equal(th_js(r->json, "work_order.state"), "dispatched");
    th_free(r);
    const char *p[] = {id};
    assert_string_equal(th_sql1("SELECT count(*) FROM work_orders WHERE request_id = $1", p, 1),
                        "2");

    /* counted per department and person */
    assert_int_equal(refusals("refusals", "total"), total + 1);
    assert_int_equal(refusals_of("by_person", "user_id", u_tech), mine + 1);
    assert_int_equal(refusals_of("by_department", "department_id", dept_eng), eng + 1);
    assert_true(refusals("refusals", "by_reason.no_access") >= 1);
}

static void test_figures_refusals(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "/v1/projects/%s/figures/refusals", project);
    /* wrong role, another organisation, another project's reader */
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", path, th_token("technician"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.supervisor"), NULL, NULL), 404, NULL);
    /* a bad period */
    char bad[320];
    snprintf(bad, sizeof bad, "%s?from=yesterday", path);
    EXPECT_PROBLEM(th_req("GET", bad, th_token("supervisor"), NULL, NULL), 400, "invalid_query");
    snprintf(bad, sizeof bad, "%s?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", path);
    EXPECT_PROBLEM(th_req("GET", bad, th_token("supervisor"), NULL, NULL), 400, "invalid_query");
    /* a period before anything happened: nothing */
    snprintf(bad, sizeof bad, "%s?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z", path);
    th_resp_t *r = th_req("GET", bad, th_token("director"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "total"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "by_person")), 0);
    assert_int_equal(th_parse_utc(th_js(r->json, "from")), th_parse_utc("2020-01-01T00:00:00Z"));
    th_free(r);
}

static void test_appointment_and_deadline(void **state)
{
    (void)state;
    char id[40], body[256], soon[40], later[40], past[40];
    char rb[512];
    snprintf(rb, sizeof rb,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"空调不制冷\"}",
             unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", rb, id));
    th_iso_utc(time(NULL) + 2 * 3600, soon);
    th_iso_utc(time(NULL) + 5 * 86400, later);
    th_iso_utc(time(NULL) - 3600, past);

    /* refusals: missing, in the past, not a time, wrong role, another project/org */
    EXPECT_INVALID(action("agent", id, "set_appointment", 1, "{}"), "promise_time_required",
                   "appointment_at");
    snprintf(body, sizeof body, "{\"appointment_at\":\"%s\"}", past);
    EXPECT_INVALID(action("agent", id, "set_appointment", 1, body), "promise_time_in_past",
                   "appointment_at");
    snprintf(body, sizeof body, "{\"promised_by\":\"%s\"}", past);
    EXPECT_INVALID(action("agent", id, "set_deadline", 1, body), "promise_time_in_past",
                   "promised_by");
    EXPECT_INVALID(action("agent", id, "set_deadline", 1, "{\"promised_by\":\"next week\"}"),
                   "invalid_field", "promised_by");
    snprintf(body, sizeof body, "{\"appointment_at\":\"%s\"}", soon);
    EXPECT_PROBLEM(action("security", id, "set_appointment", 1, body), 403, "forbidden_role");
    EXPECT_PROBLEM(action("resident", id, "set_appointment", 1, body), 403, "forbidden_role");
    EXPECT_PROBLEM(action("agent.p2", id, "set_appointment", 1, body), 404, NULL);
    EXPECT_PROBLEM(action("other.agent", id, "set_appointment", 1, body), 404, NULL);

    snprintf(body, sizeof body, "{\"appointment_at\":\"%s\",\"note\":\"师傅下午两点上门\"}", soon);
    th_resp_t *r = ACT("agent", id, "set_appointment", 1, body, "received");
    assert_int_equal(th_parse_utc(th_js(r->json, "appointment_at")), th_parse_utc(soon));
    assert_true(th_jnull(r->json, "promised_by"));
    th_free(r);
    snprintf(body, sizeof body, "{\"promised_by\":\"%s\"}", later);
    r = ACT("agent", id, "set_deadline", 2, body, "received");
    assert_int_equal(th_parse_utc(th_js(r->json, "promised_by")), th_parse_utc(later));
    assert_int_equal(th_parse_utc(th_js(r->json, "appointment_at")), th_parse_utc(soon));
    th_free(r);

    /* the resident sees both, and both events */
    r = th_get_request("resident", id);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_parse_utc(th_js(r->json, "appointment_at")), th_parse_utc(soon));
    assert_int_equal(th_parse_utc(th_js(r->json, "promised_by")), th_parse_utc(later));
    th_free(r);
    r = th_get_timeline("resident", id);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    int n = cJSON_GetArraySize(items);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, n - 2), "action"), "set_appointment");
    assert_string_equal(th_js(cJSON_GetArrayItem(items, n - 2), "details.note"),
                        "师傅下午两点上门");
    assert_string_equal(th_js(cJSON_GetArrayItem(items, n - 1), "action"), "set_deadline");
    th_free(r);

    /* the events the resident app can subscribe to */
    assert_string_equal(th_sql1("SELECT webhook_event_type('set_appointment', '{}')", NULL, 0),
                        "request.appointment_set");
    assert_string_equal(th_sql1("SELECT webhook_event_type('set_deadline', '{}')", NULL, 0),
                        "request.deadline_set");
    assert_string_equal(th_sql1("SELECT webhook_event_type('decline', '{}')", NULL, 0),
                        "request.declined");
    /* ... and a subscription to them is accepted */
    r = th_req("POST", "/v1/webhooks", th_token("admin"),
               "{\"url\":\"https://example.com/"
               "hook\",\"secret\":\"0123456789abcdef0123456789abcdef\",\"event_types\":[\"request."
               "appointment_set\","
               "\"request.deadline_set\",\"request.declined\",\"request.handed_on\"]}",
               NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);

    /* nothing to promise once it is answered */
    const char *p[] = {id};
    assert_non_null(th_sql1("UPDATE requests SET state = 'closed', closed_at = now() WHERE id = "
                            "$1 RETURNING id",
                            p, 1));
    snprintf(body, sizeof body, "{\"appointment_at\":\"%s\"}", soon);
    EXPECT_PROBLEM(action("agent", id, "set_appointment", 3, body), 409, "invalid_transition");
}

/* Closes request id `days` days ago (as a callback would have). */
static void closed_days_ago(const char *id, int days)
{
    char d[16];
    snprintf(d, sizeof d, "%d", days);
    const char *p[] = {id, d};
    assert_non_null(th_sql1("UPDATE requests SET state = 'closed', resolved_at = now() - "
                            "make_interval(days => $2::int), closed_at = now() - "
                            "make_interval(days => $2::int) WHERE id = $1 RETURNING id",
                            p, 2));
}

static void test_repeat_repairs(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "/v1/projects/%s/figures/rework", project);
    th_resp_t *r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    long repairs0 = th_jn(r->json, "repairs"), repeats0 = th_jn(r->json, "repeat_repairs");
    th_free(r);

    char first[40], second[40], third[40], old[40], fresh[40], other_unit[40];
    new_repair("agent", unit2102, first);
    /* not closed yet: a second report of the same fault is no repeat */
    new_repair("agent", unit2102, second);
    r = th_get_request("agent", second);
    assert_false(th_jtrue(r->json, "is_repeat"));
    assert_true(th_jnull(r->json, "repeat_of"));
    th_free(r);
    closed_days_ago(first, 40);
    closed_days_ago(second, 10);
    /* closed 10 days ago: the new one is its repeat (the latest closing counts) */
    new_repair("agent", unit2102, third);
    r = th_get_request("agent", third);
    assert_true(th_jtrue(r->json, "is_repeat"));
    assert_string_equal(th_js(r->json, "repeat_of"), second);
    th_free(r);
    /* another unit: none */
    new_repair("agent", unit1201, other_unit);
    r = th_get_request("agent", other_unit);
    assert_false(th_jtrue(r->json, "is_repeat"));
    th_free(r);
    /* only a closing more than 30 days ago: none */
    const char *p[] = {second};
    assert_non_null(th_sql1("UPDATE requests SET closed_at = now() - interval '31 days' WHERE "
                            "id = $1 RETURNING id",
                            p, 1));
    closed_days_ago(third, 45);
    new_repair("agent", unit2102, old);
    r = th_get_request("agent", old);
    assert_false(th_jtrue(r->json, "is_repeat"));
    th_free(r);
    /* another category is another fault */
    closed_days_ago(old, 1);
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"category\":\"quality\","
             "\"location\":{\"unit_id\":\"%s\"},\"reporter\":{\"name\":\"王先生\"},"
             "\"description\":\"门锁坏了\"}",
             unit2102);
    th_free(th_create_request_at(__LINE__, "agent", body, fresh));
    r = th_get_request("agent", fresh);
    assert_false(th_jtrue(r->json, "is_repeat"));
    th_free(r);

    /* the rework rate: six repairs more, one of them a repeat */
    r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    long repairs = th_jn(r->json, "repairs"), repeats = th_jn(r->json, "repeat_repairs");
    assert_int_equal(repairs, repairs0 + 6);
    assert_int_equal(repeats, repeats0 + 1);
    assert_int_equal(th_jn(r->json, "rework_rate_permille"),
                     (repeats * 2000 + repairs) / (repairs * 2));
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.manager"), NULL, NULL), 404, NULL);
}

static long list_count(const char *user, const char *query, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/requests?%s&limit=200", query);
    th_resp_t *r = th_req("GET", path, th_token(user), NULL, NULL);
    EXPECT_STATUS(r, 200);
    long n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items")) if (!strcmp(th_js(it, "id"), id))
        n++;
    th_free(r);
    return n;
}

static void test_first_receiver_and_hand_on(void **state)
{
    (void)state;
    char id[40], app[40];
    new_repair("agent", unit101, id);
    th_resp_t *r = th_get_request("agent", id);
    assert_string_equal(th_js(r->json, "first_receiver_id"), u_agent);
    assert_string_equal(th_js(r->json, "owner_id"), u_agent);
    th_free(r);
    /* a resident's own report has no first receiver among the staff until someone takes it */
    char rb[512];
    snprintf(rb, sizeof rb,
             "{\"type\":\"repair\",\"channel\":\"app\",\"location\":{\"unit_id\":\"%s\"},"
             "\"description\":\"门铃不响\"}",
             unit101);
    th_free(th_create_request_at(__LINE__, "resident", rb, app));
    r = th_get_request("agent", app);
    assert_true(th_jnull(r->json, "first_receiver_id"));
    th_free(r);

    /* "my registrations still open" */
    assert_int_equal(list_count("agent", "first_receiver=me&open=true", id), 1);
    assert_int_equal(list_count("agent", "owner=me&open=true", id), 1);
    assert_int_equal(list_count("supervisor", "first_receiver=me", id), 0);
    char q[128];
    snprintf(q, sizeof q, "first_receiver=%s", u_agent);
    assert_int_equal(list_count("supervisor", q, id), 1);
    EXPECT_PROBLEM(th_req("GET", "/v1/requests?first_receiver=you", th_token("agent"), NULL, NULL),
                   400, "invalid_query");
    EXPECT_PROBLEM(th_req("GET", "/v1/requests?open=maybe", th_token("agent"), NULL, NULL), 400,
                   "invalid_query");

    /* refusals: no one named, someone outside the project, wrong role, another project */
    EXPECT_INVALID(action("agent", id, "hand_on", 1, "{}"), "hand_on_target_required",
                   "to_user_id");
    char body[200];
    snprintf(body, sizeof body, "{\"to_user_id\":\"%s\"}", u_other_agent);
    EXPECT_INVALID(action("agent", id, "hand_on", 1, body), "invalid_field", "to_user_id");
    snprintf(body, sizeof body, "{\"to_user_id\":\"%s\"}", u_agent);
    EXPECT_INVALID(action("agent", id, "hand_on", 1, body), "invalid_field", "to_user_id");
    snprintf(body, sizeof body, "{\"to_user_id\":\"%s\"}", u_super);
    EXPECT_PROBLEM(action("security", id, "hand_on", 1, body), 403, "forbidden_role");
    EXPECT_PROBLEM(action("agent.p2", id, "hand_on", 1, body), 404, NULL);

    /* the owner hands it on: the supervisor owns it now */
    r = ACT("agent", id, "hand_on", 1, body, "received");
    assert_string_equal(th_js(r->json, "owner_id"), u_super);
    assert_string_equal(th_js(r->json, "first_receiver_id"), u_agent);
    th_free(r);
    r = th_get_timeline("agent", id);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    const cJSON *last = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
    assert_string_equal(th_js(last, "action"), "hand_on");
    assert_string_equal(th_js(last, "details.to_user_id"), u_super);
    th_free(r);
    assert_int_equal(list_count("agent", "owner=me&open=true", id), 0);
    assert_int_equal(list_count("supervisor", "owner=me&open=true", id), 1);
    /* the agent no longer owns it */
    snprintf(body, sizeof body, "{\"to_user_id\":\"%s\"}", u_tech);
    EXPECT_PROBLEM(action("agent", id, "hand_on", 2, body), 403, "not_owner");
    /* the supervisor hands it to the technician (staff of the project) */
    r = ACT("supervisor", id, "hand_on", 2, body, "received");
    assert_string_equal(th_js(r->json, "owner_id"), u_tech);
    th_free(r);

    /* closed: no longer "still open" */
    const char *p[] = {id};
    assert_non_null(th_sql1("UPDATE requests SET state = 'closed', closed_at = now() WHERE id = "
                            "$1 RETURNING id",
                            p, 1));
    assert_int_equal(list_count("agent", "first_receiver=me&open=true", id), 0);
    assert_int_equal(list_count("agent", "first_receiver=me&open=false", id), 1);
}

/* Notices of kind `kind` about the request to users of `role` (other: to anyone else). */
static long notices(const char *id, const char *kind, const char *role, int other)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE "
             "n.request_id = $1 AND n.kind = '%s' AND u.role %s '%s'",
             kind, other ? "<>" : "=", role);
    const char *p[] = {id};
    const char *v = th_sql1(sql, p, 1);
    if (!v)
        fail_msg("query failed: %s", sql);
    return atol(v);
}

static void new_complaint(const char *severity, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"visit\",\"severity\":\"%s\","
             "\"category\":\"attitude\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"保安态度恶劣\"}",
             severity, unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", body, id));
}

/* 重要投诉 reaches the project director at once: registered so, or re-classified so. */
static void test_important_complaint_reaches_director(void **state)
{
    (void)state;
    char imp[40], gen[40];
    new_complaint("important", imp);
    assert_int_equal(notices(imp, "important_complaint", "director", 0), 1);
    assert_int_equal(notices(imp, "important_complaint", "director", 1), 0);

    new_complaint("general", gen);
    assert_int_equal(notices(gen, "important_complaint", "director", 0), 0);
    char path[120];
    snprintf(path, sizeof path, "/v1/requests/%s", gen);
    const char *h1[] = {"If-Match: \"1\"", NULL};
    th_resp_t *r = th_req("PATCH", path, th_token("agent"), "{\"severity\":\"important\"}", h1);
    EXPECT_STATUS(r, 200);
    th_free(r);
    assert_int_equal(notices(gen, "important_complaint", "director", 0), 1);
    /* another edit does not notify again */
    const char *h2[] = {"If-Match: \"2\"", NULL};
    r = th_req("PATCH", path, th_token("agent"), "{\"title\":\"保安态度\"}", h2);
    EXPECT_STATUS(r, 200);
    th_free(r);
    assert_int_equal(notices(gen, "important_complaint", "director", 0), 1);
    /* the director sees it among their notifications */
    r = th_req("GET", "/v1/notifications", th_token("director"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    int found = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items")) found +=
        !strcmp(th_js(it, "kind"), "important_complaint");
    assert_true(found >= 2);
    th_free(r);
}

/* Who notified whom, when: an emergency told to the department first, the desk after. */
static void test_record_notification(void **state)
{
    (void)state;
    char id[40], body[512], t15[40], t10[40];
    th_iso_utc(time(NULL) - 15 * 60, t15);
    th_iso_utc(time(NULL) - 10 * 60, t10);
    snprintf(body, sizeof body,
             "{\"type\":\"emergency\",\"channel\":\"phone\",\"location\":{\"unit_id\":"
             "\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"水管爆裂\"}",
             unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", body, id));

    /* refusals: nobody named, a department or person outside the project, wrong role,
     * another project or organisation */
    EXPECT_INVALID(action("agent", id, "record_notification", 1, "{}"), "notice_target_required",
                   "to_department_id");
    char other_dept[40];
    if (th_fx_dept("other", "engineering", other_dept))
        fail();
    snprintf(body, sizeof body, "{\"to_department_id\":\"%s\"}", other_dept);
    EXPECT_INVALID(action("agent", id, "record_notification", 1, body), "invalid_field",
                   "to_department_id");
    snprintf(body, sizeof body, "{\"to_department_id\":\"%s\",\"by_user_id\":\"%s\"}", dept_eng,
             u_other_agent);
    EXPECT_INVALID(action("agent", id, "record_notification", 1, body), "invalid_field",
                   "by_user_id");
    snprintf(body, sizeof body, "{\"to_department_id\":\"%s\"}", dept_eng);
    EXPECT_PROBLEM(action("resident", id, "record_notification", 1, body), 403, "forbidden_role");
    EXPECT_PROBLEM(action("agent.p2", id, "record_notification", 1, body), 404, NULL);
    EXPECT_PROBLEM(action("other.agent", id, "record_notification", 1, body), 404, NULL);

    /* the technician called engineering 15 minutes ago, before the desk heard of it */
    snprintf(body, sizeof body,
             "{\"to_department_id\":\"%s\",\"by_user_id\":\"%s\",\"notified_at\":\"%s\","
             "\"note\":\"先关总阀\"}",
             dept_eng, u_tech, t15);
    th_resp_t *r = ACT("agent", id, "record_notification", 1, body, "received");
    const cJSON *made = cJSON_GetObjectItem(r->json, "notifications_made");
    assert_int_equal(cJSON_GetArraySize(made), 1);
    const cJSON *n0 = cJSON_GetArrayItem(made, 0);
    assert_string_equal(th_js(n0, "by_user_id"), u_tech);
    assert_string_equal(th_js(n0, "to_department_id"), dept_eng);
    assert_string_equal(th_js(n0, "recorded_by"), u_agent);
    assert_string_equal(th_js(n0, "note"), "先关总阀");
    assert_int_equal(th_parse_utc(th_js(n0, "at")), th_parse_utc(t15));
    th_free(r);
    /* security (the control room) records its own call to the supervisor, now */
    snprintf(body, sizeof body, "{\"to_user_id\":\"%s\"}", u_super);
    r = ACT("security", id, "record_notification", 2, body, "received");
    made = cJSON_GetObjectItem(r->json, "notifications_made");
    assert_int_equal(cJSON_GetArraySize(made), 2);
    const cJSON *n1 = cJSON_GetArrayItem(made, 1);
    assert_string_equal(th_js(n1, "to_user_id"), u_super);
    assert_true(th_jnull(n1, "to_department_id"));
    th_free(r);
    /* each is a timeline event, visible to the resident too */
    r = th_get_timeline("resident", id);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 3);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 1), "action"), "record_notification");
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 2), "action"), "record_notification");
    th_free(r);
    /* a time of notification in the future is refused */
    char future[40];
    th_iso_utc(time(NULL) + 3600, future);
    snprintf(body, sizeof body, "{\"to_user_id\":\"%s\",\"notified_at\":\"%s\"}", u_super, future);
    EXPECT_INVALID(action("agent", id, "record_notification", 3, body), "occurred_in_future",
                   "notified_at");
    (void)t10;
}

/* Puts the project's calendar (as the administrator). */
static void put_calendar(const char *def)
{
    char path[120], im[48];
    snprintf(path, sizeof path, "/v1/projects/%s/calendar", project);
    th_resp_t *r = th_req("GET", path, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    snprintf(im, sizeof im, "If-Match: %s", th_header(r, "ETag"));
    th_free(r);
    const char *h[] = {im, NULL};
    r = th_req("PUT", path, th_token("admin"), def, h);
    EXPECT_STATUS(r, 200);
    th_free(r);
}

/* At night the control room (security) dispatches itself; in the desk's hours it may not. */
static void test_night_dispatch_by_security(void **state)
{
    (void)state;
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    char id[40], body[200], cal[600];
    new_repair("agent", unit101, id);
    snprintf(body, sizeof body, "{\"department_id\":\"%s\"}", dept_eng);

    put_calendar("{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"00:00\",\"24:00\"]],"
                 "\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[["
                 "\"00:00\",\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\","
                 "\"24:00\"]],\"sun\":[[\"00:00\",\"24:00\"]]}}");
    EXPECT_PROBLEM(action("security", id, "dispatch", 1, body), 403, "desk_hours");

    /* the desk is closed today and tomorrow (local time): night for the control room */
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = (size_t)snprintf(cal, sizeof cal, "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{");
    int first = 1;
    for (int d = 0; d < 7; d++) {
        if (d == tm.tm_wday || d == (tm.tm_wday + 1) % 7)
            continue;
        n += (size_t)snprintf(cal + n, sizeof cal - n, "%s\"%s\":[[\"09:00\",\"18:00\"]]",
                              first ? "" : ",", days[d]);
        first = 0;
    }
    snprintf(cal + n, sizeof cal - n, "}}");
    put_calendar(cal);
    EXPECT_PROBLEM(action("other.security", id, "dispatch", 1, body), 404, NULL);
    th_resp_t *r = ACT("security", id, "dispatch", 1, body, "dispatched");
    assert_string_equal(th_js(r->json, "work_order.state"), "dispatched");
    assert_string_equal(th_js(r->json, "department_id"), dept_eng);
    th_free(r);
    r = th_get_timeline("agent", id);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    const cJSON *last = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
    assert_string_equal(th_js(last, "action"), "dispatch");
    assert_string_equal(th_js(last, "actor_role"), "security");
    th_free(r);
    /* security still may not re-dispatch */
    EXPECT_PROBLEM(action("security", id, "redispatch", 2, body), 403, "forbidden_role");
}

static void new_common_repair(const char *area, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"patrol\",\"project_id\":\"%s\","
             "\"location\":{\"common_area\":\"%s\"},\"reporter\":{\"name\":\"巡查员\"},"
             "\"description\":\"路灯不亮\"}",
             project, area);
    th_free(th_create_request_at(__LINE__, "agent", body, id));
}

/* 责任区: a common area names its department and person; a public-facility repair there
 * goes to them by default, else to the engineering department's technician on duty. */
static void test_responsibility_zones(void **state)
{
    (void)state;
    char body[512], zone[40], dept_sec[40], u_security[40], other_dept[40];
    if (th_fx_dept("demo", "security", dept_sec) || th_fx_user("security", u_security) ||
        th_fx_dept("other", "engineering", other_dept))
        fail();
    /* refusals: wrong role, another organisation, a department of another organisation, a
     * person outside the department, a name twice */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"name\":\"南门岗亭\",\"department_id\":\"%s\","
             "\"responsible_user_id\":\"%s\"}",
             project, dept_sec, u_security);
    EXPECT_PROBLEM(th_req("POST", "/v1/zones", th_token("agent"), body, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("POST", "/v1/zones", th_token("other.director"), body, NULL), 404, NULL);
    char bad[512];
    snprintf(bad, sizeof bad,
             "{\"project_id\":\"%s\",\"name\":\"南门岗亭\",\"department_id\":\"%s\"}", project,
             other_dept);
    EXPECT_PROBLEM(th_req("POST", "/v1/zones", th_token("director"), bad, NULL), 422, NULL);
    snprintf(bad, sizeof bad,
             "{\"project_id\":\"%s\",\"name\":\"南门岗亭\",\"department_id\":\"%s\","
             "\"responsible_user_id\":\"%s\"}",
             project, dept_sec, u_tech);
    EXPECT_PROBLEM(th_req("POST", "/v1/zones", th_token("director"), bad, NULL), 422, NULL);
    th_resp_t *r = th_req("POST", "/v1/zones", th_token("director"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(zone, sizeof zone, "%s", th_js(r->json, "id"));
    assert_string_equal(th_js(r->json, "responsible_user_id"), u_security);
    th_free(r);
    EXPECT_PROBLEM(th_req("POST", "/v1/zones", th_token("director"), body, NULL), 409, NULL);
    /* everyone on the project reads them; nobody outside */
    char path[200];
    snprintf(path, sizeof path, "/v1/zones?project_id=%s", project);
    r = th_req("GET", path, th_token("technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 1);
    th_free(r);
    snprintf(path, sizeof path, "/v1/zones/%s", zone);
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent.p2"), NULL, NULL), 404, NULL);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, NULL);

    /* a repair there goes to the zone's department and person */
    char id[40];
    new_common_repair("南门岗亭", id);
    r = ACT("agent", id, "dispatch", 1, "{}", "dispatched");
    assert_string_equal(th_js(r->json, "department_id"), dept_sec);
    assert_string_equal(th_js(r->json, "assignee_id"), u_security);
    assert_string_equal(th_js(r->json, "work_order.assignee_id"), u_security);
    th_free(r);
    r = th_get_timeline("agent", id);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    const cJSON *last = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
    assert_string_equal(th_js(last, "details.routed_to"), "zone");
    assert_string_equal(th_js(last, "details.zone_id"), zone);
    th_free(r);

    /* elsewhere: the engineering department, for its technician on duty, who takes it */
    new_common_repair("3栋地下车库", id);
    r = ACT("agent", id, "dispatch", 1, "{}", "dispatched");
    assert_string_equal(th_js(r->json, "department_id"), dept_eng);
    assert_true(th_jnull(r->json, "assignee_id"));
    th_free(r);
    r = ACT("technician", id, "accept", 2, NULL, "accepted");
    assert_string_equal(th_js(r->json, "assignee_id"), u_tech);
    th_free(r);

    /* the desk's own choice wins; a unit's repair still needs a department */
    new_common_repair("南门岗亭", id);
    snprintf(body, sizeof body, "{\"department_id\":\"%s\"}", dept_eng);
    r = ACT("agent", id, "dispatch", 1, body, "dispatched");
    assert_string_equal(th_js(r->json, "department_id"), dept_eng);
    assert_true(th_jnull(r->json, "assignee_id"));
    th_free(r);
    new_repair("agent", unit101, id);
    EXPECT_INVALID(action("agent", id, "dispatch", 1, "{}"), "missing_field", "department_id");
    /* ... and the state and role rules come first */
    EXPECT_PROBLEM(action("technician", id, "dispatch", 1, "{}"), 404, NULL);

    /* a zone without a person: its department alone */
    snprintf(path, sizeof path, "/v1/zones/%s", zone);
    const char *h[] = {"If-Match: \"1\"", NULL};
    r = th_req("PATCH", path, th_token("director"), "{\"responsible_user_id\":null}", h);
    EXPECT_STATUS(r, 200);
    th_free(r);
    new_common_repair("南门岗亭", id);
    r = ACT("agent", id, "dispatch", 1, "{}", "dispatched");
    assert_string_equal(th_js(r->json, "department_id"), dept_sec);
    assert_true(th_jnull(r->json, "assignee_id"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decline_and_redispatch),
        cmocka_unit_test(test_figures_refusals),
        cmocka_unit_test(test_appointment_and_deadline),
        cmocka_unit_test(test_repeat_repairs),
        cmocka_unit_test(test_first_receiver_and_hand_on),
        cmocka_unit_test(test_important_complaint_reaches_director),
        cmocka_unit_test(test_record_notification),
        cmocka_unit_test(test_responsibility_zones),
        /* last: it changes the project's calendar */
        cmocka_unit_test(test_night_dispatch_by_security),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
