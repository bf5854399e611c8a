/*
 * tests/api/test_scope.c — tenant and project scope of everything a request body or an
 * operation names (issue 7, items 2, 3 and 10): another organisation cannot poison the
 * SLA configuration cache; a project-scoped agent cannot reach another project's
 * residents, departments or staff through create, dispatch or redispatch; the manual
 * sweep is the caller's organisation's; /metrics wants its token; answers carry
 * nosniff / no-store; a body-less operation refuses a body; more than 128 time zones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/harness.h"

#define METRICS_TOKEN "scrape-me-0123456789abcdef"

static char p1[40], unit101[40], dept_eng1[40], res_p1[40];
static char other_project[40];
/* Set up in the demo organisation: a second project P2 with its own department,
 * resident and technician, and a technician of P1's engineering department who is
 * assigned to P2 only. */
static char p2[40], dept_p2[40], res_p2[40], tech_p2[40], tech_wrong[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0",
                                      "DESK_METRICS_TOKEN=" METRICS_TOKEN, NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_grab(p1, "SELECT p.id FROM projects p JOIN organisations o ON o.id = p.org_id "
                    "WHERE o.code = 'demo'") ||
        th_grab(other_project, "SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                               "p.org_id WHERE o.code = 'other'") ||
        th_grab(unit101, "SELECT u.id FROM units u JOIN organisations o ON o.id = u.org_id "
                         "WHERE o.code = 'demo' AND u.code = '1-101'") ||
        th_grab(dept_eng1, "SELECT d.id FROM departments d JOIN organisations o ON o.id = "
                           "d.org_id WHERE o.code = 'demo' AND d.kind = 'engineering'") ||
        th_grab(res_p1, "SELECT r.id FROM residents r JOIN organisations o ON o.id = r.org_id "
                        "WHERE o.code = 'demo' AND r.name = '张伟'"))
        return -1;
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    const char *v[] = {p2};
    const char *x;
#define ONE(dst, sql)                                                                              \
    if (!(x = th_sql1(sql, v, 1)))                                                                 \
        return -1;                                                                                 \
    snprintf(dst, 40, "%s", x);
    ONE(dept_p2, "INSERT INTO departments (org_id, project_id, kind, name) SELECT org_id, id, "
                 "'engineering', '翠湖工程部' FROM projects WHERE id = $1 RETURNING id");
    ONE(res_p2, "INSERT INTO residents (org_id, project_id, name, phone) SELECT org_id, id, "
                "'秘密住户', '13912345678' FROM projects WHERE id = $1 RETURNING id");
    ONE(tech_p2, "WITH u AS (INSERT INTO users (org_id, username, display_name, role, "
                 "department_id, password_hash) SELECT org_id, 'tech.p2', '翠湖技工', "
                 "'technician', (SELECT id FROM departments WHERE project_id = $1), "
                 "(SELECT password_hash FROM users WHERE username = 'technician') FROM "
                 "projects WHERE id = $1 RETURNING id, org_id) INSERT INTO user_projects "
                 "(org_id, user_id, project_id) SELECT org_id, id, $1 FROM u RETURNING user_id");
    ONE(tech_wrong,
        "WITH u AS (INSERT INTO users (org_id, username, display_name, role, department_id, "
        "password_hash) SELECT org_id, 'tech.wrong', '借调技工', 'technician', (SELECT "
        "department_id FROM users WHERE username = 'technician'), (SELECT password_hash FROM "
        "users WHERE username = 'technician') FROM projects WHERE id = $1 RETURNING id, org_id) "
        "INSERT INTO user_projects (org_id, user_id, project_id) SELECT org_id, id, $1 FROM u "
        "RETURNING user_id");
#undef ONE
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

static th_resp_t *create(const char *user, const char *body)
{
    return th_req("POST", "/v1/requests", th_token(user), body, NULL);
}

static void new_unit_request(char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"厨房水管漏水\"}",
             unit101, res_p1);
    th_resp_t *r = create("agent", body);
    assert_int_equal(r->status, 201);
    snprintf(id, 40, "%s", th_str(r, "id"));
    th_free(r);
}

static th_resp_t *act(const char *user, const char *id, const char *action, int version,
                      const char *body)
{
    char path[160], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, action);
    snprintf(im, sizeof im, "If-Match: \"%d\"", version);
    const char *h[] = {im, NULL};
    return th_req("POST", path, th_token(user), body, h);
}

static const char *request_col(const char *col, const char *id)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT coalesce(%s::text, '') FROM requests WHERE id = $1", col);
    const char *v[] = {id};
    const char *x = th_sql1(sql, v, 1);
    return x ? x : "?";
}

/* ------------------------------------------------- (2) the SLA cache across tenants */

/* Organisation B's GM names organisation A's project: 404, and A's next major complaint
 * still gets its clocks and reaches A's GM at once. */
static void test_other_org_cannot_switch_off_clocks(void **state)
{
    (void)state;
    char body[768];
    const char *fmt =
        "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"major\",\"category\":"
        "\"quality\",\"project_id\":\"%s\",\"location\":{\"common_area\":\"大堂\"},"
        "\"reporter\":{\"name\":\"王先生\",\"phone\":\"13800000000\"},\"description\":\"%s\"}";
    snprintf(body, sizeof body, fmt, p1, "来自别的公司");
    for (int i = 0; i < 3; i++) {
        th_resp_t *r = create("other.gm", body);
        assert_true(th_is_problem(r, 404, "not_found"));
        th_free(r);
    }
    snprintf(body, sizeof body, fmt, p1, "大堂漏水无人处理，重大投诉");
    th_resp_t *r = create("agent", body);
    assert_int_equal(r->status, 201);
    assert_false(th_jnull(r->json, "sla.next_due"));
    assert_int_equal(th_jn(r->json, "escalation_level"), 4);
    char id[40];
    snprintf(id, sizeof id, "%s", th_str(r, "id"));
    th_free(r);
    const char *v[] = {id};
    assert_string_equal(th_sql1("SELECT count(*) FROM notifications n JOIN users u ON u.id = "
                                "n.user_id WHERE n.request_id = $1 AND u.username = 'gm'",
                                v, 1),
                        "1");
    /* And the other way round: B's own project is untouched by A's traffic. */
    snprintf(body, sizeof body, fmt, other_project, "另一家公司的重大投诉");
    r = create("other.agent", body);
    assert_int_equal(r->status, 201);
    assert_false(th_jnull(r->json, "sla.next_due"));
    assert_int_equal(th_jn(r->json, "escalation_level"), 4);
    th_free(r);
}

/* ------------------------------------------------- (3) ids in bodies, by project */

static void test_other_project_resident_on_create(void **state)
{
    (void)state;
    char path[128], body[512];
    snprintf(path, sizeof path, "/v1/residents/%s", res_p2);
    th_resp_t *r = th_req("GET", path, th_token("agent"), NULL, NULL);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
    const char *before = th_sql1("SELECT count(*) FROM requests", NULL, 0);
    char n0[16];
    snprintf(n0, sizeof n0, "%s", before);
    /* Named as the reporter of a P1 request: refused, and nothing of theirs comes back. */
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"借名报修\"}",
             unit101, res_p2);
    r = create("agent", body);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    assert_null(strstr(r->body, "秘密住户"));
    assert_null(strstr(r->body, "13912345678"));
    th_free(r);
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"project_id\":\"%s\",\"location\":"
             "{\"common_area\":\"大堂\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":"
             "\"借名咨询\"}",
             p1, res_p2);
    r = create("agent", body);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    /* A P2 department on a P1 request. */
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"department_id\":\"%s\","
             "\"description\":\"别的项目的部门\"}",
             unit101, res_p1, dept_p2);
    r = create("agent", body);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    /* The same P2 project named directly by a P1 agent is out of scope. */
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"project_id\":\"%s\",\"location\":"
             "{\"common_area\":\"大堂\"},\"reporter\":{\"resident_id\":\"%s\"},\"description\":"
             "\"越权\"}",
             p2, res_p2);
    r = create("agent", body);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
    assert_string_equal(th_sql1("SELECT count(*) FROM requests", NULL, 0), n0);
    /* The GM (organisation-wide) may name the P2 resident on a P2 request. */
    r = create("gm", body);
    assert_int_equal(r->status, 201);
    th_free(r);
}

static void test_other_project_department_and_assignee_on_dispatch(void **state)
{
    (void)state;
    char id[40], b[256];
    new_unit_request(id);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_p2);
    th_resp_t *r = act("agent", id, "dispatch", 1, b);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_p2, tech_p2);
    r = act("agent", id, "dispatch", 1, b);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    /* A member of the P1 department who works on P2 only. */
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng1,
             tech_wrong);
    r = act("agent", id, "dispatch", 1, b);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    assert_string_equal(request_col("state", id), "received");
    assert_string_equal(request_col("department_id", id), "");

    /* Dispatched properly, then redispatched out of the project: refused. */
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng1);
    r = act("agent", id, "dispatch", 1, b);
    assert_int_equal(r->status, 200);
    th_free(r);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_p2);
    r = act("agent", id, "redispatch", 2, b);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng1,
             tech_wrong);
    r = act("agent", id, "redispatch", 2, b);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    assert_string_equal(request_col("department_id", id), dept_eng1);
    assert_string_equal(request_col("assignee_id", id), "");
    const char *v[] = {id};
    assert_string_equal(th_sql1("SELECT count(*) FROM work_orders WHERE request_id = $1", v, 1),
                        "1");
    /* The P2 technician cannot read it either. */
    char path[128];
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    const char *tok = th_token("tech.p2");
    assert_non_null(tok);
    r = th_req("GET", path, tok, NULL, NULL);
    assert_int_equal(r->status, 404);
    th_free(r);
}

/* ------------------------------------------------- (10) operations */

static void test_sweep_is_the_callers_organisation(void **state)
{
    (void)state;
    char body[512], id[40];
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"project_id\":\"%s\",\"location\":"
             "{\"common_area\":\"大堂\"},\"reporter\":{\"name\":\"赵女士\"},\"description\":"
             "\"另一家公司的咨询\"}",
             other_project);
    th_resp_t *r = create("other.agent", body);
    assert_int_equal(r->status, 201);
    snprintf(id, sizeof id, "%s", th_str(r, "id"));
    th_free(r);
    const char *v[] = {id};
    assert_non_null(th_sql1("UPDATE requests SET sla_next_check = now() - interval '1 minute' "
                            "WHERE id = $1 RETURNING id",
                            v, 1));
    r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    /* Untouched by the demo organisation's sweep ... */
    assert_string_equal(th_sql1("SELECT sla_next_check <= now() FROM requests WHERE id = $1", v, 1),
                        "t");
    /* ... swept by its own. */
    r = th_req("POST", "/v1/admin/sla/sweep", th_token("other.admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_true(th_jn(r->json, "examined") >= 1);
    th_free(r);
    assert_string_equal(
        th_sql1("SELECT coalesce(sla_next_check > now(), true) FROM requests WHERE id = $1", v, 1),
        "t");
}

static void test_bodyless_operations_refuse_a_body(void **state)
{
    (void)state;
    const char *h[] = {"Content-Type: application/json", NULL};
    th_resp_t *r =
        th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), "{\"org_id\":\"all\"}", h);
    assert_true(th_is_problem(r, 400, "body_not_allowed"));
    th_free(r);
    r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), "{}", h);
    assert_true(th_is_problem(r, 400, "body_not_allowed"));
    th_free(r);
    char id[40], path[160];
    new_unit_request(id);
    snprintf(path, sizeof path, "/v1/requests/%s/sla/reapply", id);
    r = th_req("POST", path, th_token("admin"), "{\"policy\":\"x\"}", h);
    assert_true(th_is_problem(r, 400, "body_not_allowed"));
    th_free(r);
    r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
}

static void test_metrics_needs_its_token(void **state)
{
    (void)state;
    th_resp_t *r = th_req("GET", "/metrics", NULL, NULL, NULL);
    assert_true(th_is_problem(r, 401, NULL));
    assert_null(strstr(r->body, "deskd_http_requests_total"));
    th_free(r);
    /* A user's access token is not the scrape token. */
    r = th_req("GET", "/metrics", th_token("admin"), NULL, NULL);
    assert_true(th_is_problem(r, 401, NULL));
    th_free(r);
    r = th_req("GET", "/metrics", METRICS_TOKEN "x", NULL, NULL);
    assert_true(th_is_problem(r, 401, NULL));
    th_free(r);
    r = th_req("GET", "/metrics", METRICS_TOKEN, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "deskd_http_requests_total"));
    th_free(r);
}

static void expect_safe_headers(th_resp_t *r)
{
    const char *h = th_header(r, "X-Content-Type-Options");
    assert_non_null(h);
    assert_string_equal(h, "nosniff");
    h = th_header(r, "Cache-Control");
    assert_non_null(h);
    assert_string_equal(h, "no-store");
}

static void test_answers_carry_nosniff_and_no_store(void **state)
{
    (void)state;
    th_resp_t *r = th_req("GET", "/v1/me", th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    expect_safe_headers(r);
    th_free(r);
    r = th_req("GET", "/v1/me", NULL, NULL, NULL);
    assert_int_equal(r->status, 401);
    expect_safe_headers(r);
    th_free(r);
    char path[128];
    snprintf(path, sizeof path, "/v1/residents/%s", res_p2);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 404);
    expect_safe_headers(r);
    th_free(r);
    /* 304 (no body) too. */
    snprintf(path, sizeof path, "/v1/residents/%s", res_p1);
    const char *h[] = {"If-None-Match: \"1\"", NULL};
    r = th_req("GET", path, th_token("agent"), NULL, h);
    assert_int_equal(r->status, 304);
    expect_safe_headers(r);
    th_free(r);
}

/* ------------------------------------------------- time zones beyond 128 */

/* A calendar may name any zone: the 129th and later distinct zones load like the first. */
static void test_calendar_time_zones_beyond_128(void **state)
{
    (void)state;
    PGresult *z = PQexec(th_db(), "SELECT name FROM pg_timezone_names WHERE name ~ "
                                  "'^(Africa|America|Asia|Europe|Australia|Pacific|Indian)/' "
                                  "ORDER BY name");
    assert_int_equal(PQresultStatus(z), PGRES_TUPLES_OK);
    char path[128];
    snprintf(path, sizeof path, "/v1/projects/%s/calendar", p1); /* last test: may change it */
    th_resp_t *r = th_req("GET", path, th_token("admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    int version = (int)th_jn(r->json, "version");
    th_free(r);
    int put = 0;
    for (int i = 0; i < PQntuples(z) && put < 160; i++) {
        char file[160];
        snprintf(file, sizeof file, "/usr/share/zoneinfo/%s", PQgetvalue(z, i, 0));
        if (access(file, R_OK) != 0)
            continue;
        char cal[512], im[40];
        snprintf(cal, sizeof cal,
                 "{\"time_zone\":\"%s\",\"weekly\":{\"mon\":[[\"09:00\",\"18:00\"]]},"
                 "\"holidays\":[],\"makeup_days\":[]}",
                 PQgetvalue(z, i, 0));
        snprintf(im, sizeof im, "If-Match: \"%d\"", version);
        const char *h[] = {im, NULL};
        r = th_req("PUT", path, th_token("admin"), cal, h);
        if (r->status != 200)
            fail_msg("zone #%d %s: %ld %s", put + 1, PQgetvalue(z, i, 0), r->status, r->body);
        version = (int)th_jn(r->json, "version");
        th_free(r);
        put++;
    }
    PQclear(z);
    assert_true(put >= 150);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_org_cannot_switch_off_clocks),
        cmocka_unit_test(test_other_project_resident_on_create),
        cmocka_unit_test(test_other_project_department_and_assignee_on_dispatch),
        cmocka_unit_test(test_sweep_is_the_callers_organisation),
        cmocka_unit_test(test_bodyless_operations_refuse_a_body),
        cmocka_unit_test(test_metrics_needs_its_token),
        cmocka_unit_test(test_answers_carry_nosniff_and_no_store),
        cmocka_unit_test(test_calendar_time_zones_beyond_128),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
