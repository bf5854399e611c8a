/*
 * tests/api/test_visits.c — household visit records (走访业户记录表, RULES §3.2.12) end to
 * end: a visit to a unit, an important-client interview with a follow-up request and a
 * corrective-action reference, the monthly important-client count against its target of
 * one, filters, and the refusals (missing visitors, a unit or request of another project,
 * wrong role, another project's scope).
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

static char p1[40], p2[40], u101[40], u_agent[40], u_supervisor[40], req1[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", u101) ||
        th_fx_user("agent", u_agent) || th_fx_user("supervisor", u_supervisor))
        return -1;
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"visit\",\"location\":{\"unit_id\":\"%s\"},"
             "\"description\":\"走访时业主询问停车位\",\"reporter\":{\"name\":\"张伟\"}}",
             u101);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    int ok = r->status == 201;
    snprintf(req1, sizeof req1, "%s", th_str(r, "id"));
    th_free(r);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static th_resp_t *post(const char *who, const char *body)
{
    return th_req("POST", "/v1/visit-records", th_token(who), body, NULL);
}

static long important(const char *who, const char *project, const char *month, long *status)
{
    char path[200];
    snprintf(path, sizeof path, "/v1/visit-records/important-clients?project_id=%s&month=%s",
             project, month);
    th_resp_t *r = th_req("GET", path, th_token(who), NULL, NULL);
    *status = r->status;
    long n = th_jn(r->json, "important_client_interviews");
    if (r->status == 200)
        assert_int_equal(th_jtrue(r->json, "target_met"), n >= 1);
    th_free(r);
    return n;
}

static void test_visits_and_kpi(void **state)
{
    (void)state;
    char body[1024], path[200], id[40];
    long st;
    assert_int_equal(important("supervisor", p1, "2026-10", &st), 0);
    assert_int_equal(st, 200);
    /* a household visit */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"unit_id\":\"%s\","
             "\"visitors\":[\"%s\"],\"topics\":\"入住满一年回访\",\"opinions\":\"电梯等候时间长\","
             "\"follow_up\":{\"note\":\"转工程部评估\",\"request_id\":\"%s\"}}",
             p1, u101, u_agent, req1);
    th_resp_t *r = post("agent", body);
    EXPECT_STATUS(r, 201);
    snprintf(id, sizeof id, "%s", th_str(r, "id"));
    assert_false(th_jtrue(r->json, "important_client"));
    assert_string_equal(th_js(r->json, "follow_up.request_id"), req1);
    assert_true(th_jnull(r->json, "follow_up.corrective_action_ref"));
    th_free(r);
    assert_int_equal(important("supervisor", p1, "2026-10", &st), 0);
    /* an important client: an owners' committee member, two visitors; the follow-up names
     * an existing corrective action of the project by its CA number */
    char ca_id[40], ca_number[40];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"年度计划整改\"}", p1);
    r = th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(ca_id, sizeof ca_id, "%s", th_str(r, "id"));
    snprintf(ca_number, sizeof ca_number, "%s", th_str(r, "number"));
    th_free(r);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-20\",\"client\":{\"name\":\"刘主任\","
             "\"organisation\":\"业主委员会\",\"kind\":\"owners_committee\"},\"visitors\":[\"%s\","
             "\"%s\"],\"topics\":\"年度物业服务计划\",\"follow_up\":{\"corrective_action_ref\":"
             "\"%s\"}}",
             p1, u_agent, u_supervisor, ca_number);
    r = post("supervisor", body);
    EXPECT_STATUS(r, 201);
    assert_true(th_jtrue(r->json, "important_client"));
    assert_string_equal(th_js(r->json, "client.kind"), "owners_committee");
    assert_string_equal(th_js(r->json, "follow_up.corrective_action_ref"), ca_number);
    assert_string_equal(th_js(r->json, "follow_up.corrective_action_id"), ca_id);
    th_free(r);
    assert_int_equal(important("supervisor", p1, "2026-10", &st), 1);
    assert_int_equal(important("auditor", p1, "2026-10", &st), 1);
    assert_int_equal(important("supervisor", p1, "2026-11", &st), 0);
    assert_int_equal(important("supervisor", p1, "2026-09", &st), 0);
    /* read back and list */
    snprintf(path, sizeof path, "/v1/visit-records/%s", id);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "topics"), "入住满一年回访");
    th_free(r);
    snprintf(path, sizeof path, "/v1/visit-records?project_id=%s&month=2026-10&important=true", p1);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 1);
    th_free(r);
    snprintf(path, sizeof path, "/v1/visit-records?project_id=%s&month=2026-10", p1);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 2);
    th_free(r);
    r = th_req("GET", "/v1/visit-records?month=2026-13", th_token("agent"), NULL, NULL);
    EXPECT_PROBLEM(r, 400, "invalid_query");
    snprintf(path, sizeof path, "/v1/visit-records/important-clients?project_id=%s", p1);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_PROBLEM(r, 400, "invalid_query");
}

static void test_visit_refusals(void **state)
{
    (void)state;
    char body[1024];
    long st;
    /* no visitors */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"unit_id\":\"%s\","
             "\"topics\":\"t\"}",
             p1, u101);
    th_resp_t *r = post("agent", body);
    EXPECT_STATUS(r, 422);
    assert_string_equal(th_js(r->json, "code"), "missing_field");
    th_free(r);
    /* neither unit nor client */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"visitors\":[\"%s\"],"
             "\"topics\":\"t\"}",
             p1, u_agent);
    r = post("agent", body);
    EXPECT_PROBLEM(r, 422, "missing_field");
    /* a visitor who is not a user; a bad date; an unknown client kind */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"unit_id\":\"%s\","
             "\"visitors\":[\"00000000-0000-0000-0000-000000000000\"],\"topics\":\"t\"}",
             p1, u101);
    r = post("agent", body);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"12/10/2026\",\"unit_id\":\"%s\","
             "\"visitors\":[\"%s\"],\"topics\":\"t\"}",
             p1, u101, u_agent);
    r = post("agent", body);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2999-01-01\",\"unit_id\":\"%s\","
             "\"visitors\":[\"%s\"],\"topics\":\"t\"}",
             p1, u101, u_agent);
    r = post("agent", body);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"client\":{\"name\":\"x\","
             "\"kind\":\"vip\"},\"visitors\":[\"%s\"],\"topics\":\"t\"}",
             p1, u_agent);
    r = post("agent", body);
    EXPECT_PROBLEM(r, 422, NULL);
    /* a unit of P1 recorded under P2 (outside the agent's scope: 404 first) */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"unit_id\":\"%s\","
             "\"visitors\":[\"%s\"],\"topics\":\"t\"}",
             p2, u101, u_agent);
    r = post("agent", body);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = post("gm", body);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    /* roles */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"visited_on\":\"2026-10-12\",\"unit_id\":\"%s\","
             "\"visitors\":[\"%s\"],\"topics\":\"t\"}",
             p1, u101, u_agent);
    r = post("technician", body);
    EXPECT_PROBLEM(r, 403, NULL);
    r = post("auditor", body);
    EXPECT_PROBLEM(r, 403, NULL);
    r = post("resident", body);
    EXPECT_PROBLEM(r, 403, NULL);
    r = th_req("GET", "/v1/visit-records", th_token("resident"), NULL, NULL);
    EXPECT_PROBLEM(r, 403, NULL);
    /* another project's KPI */
    important("agent", p2, "2026-10", &st);
    assert_int_equal(st, 404);
    important("other.gm", p1, "2026-10", &st);
    assert_int_equal(st, 404);
    /* another organisation cannot read a record */
    r = post("agent", body);
    EXPECT_STATUS(r, 201);
    char path[200];
    snprintf(path, sizeof path, "/v1/visit-records/%s", th_str(r, "id"));
    th_free(r);
    r = th_req("GET", path, th_token("other.agent"), NULL, NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visits_and_kpi),
        cmocka_unit_test(test_visit_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
