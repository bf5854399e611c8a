/*
 * tests/api/test_tenancy.c — rental registration (出租房屋登记表, RULES §2 item 12) end to
 * end: the desk registers a tenancy (the tenant's ID kept as a keyed hash and its last 4
 * characters only), who may register and read it, the tenant's scope only during the term
 * (a tenant after the term — or before it — gets 404 on the unit's requests and cannot
 * create one for it), and the early end signed by the owner and a supervisor with their own
 * calls, each at least 3 days before the end (422 notice_too_short otherwise).
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
#include "tests/lib/requests.h"

static char u2101[40], u2102[40], u101[40], res_zw[40], res_ln[40], res_wf[40], tenancy[40];

/* The project's local date `days` from today, "YYYY-MM-DD" (static per slot). */
static const char *day(int days)
{
    static char buf[8][16];
    static int slot;
    char n[16];
    snprintf(n, sizeof n, "%d", days);
    const char *v[] = {n};
    const char *s = th_sql1("SELECT ((now() AT TIME ZONE p.time_zone)::date + $1::int)::text FROM "
                            "projects p JOIN organisations o ON o.id = p.org_id WHERE o.code = "
                            "'demo'",
                            v, 1);
    assert_non_null(s);
    char *out = buf[slot++ % 8];
    snprintf(out, 16, "%s", s);
    return out;
}

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_unit("demo", "2-101", u2101) ||
        th_fx_unit("demo", "2-102", u2102) || th_fx_unit("demo", "1-101", u101) ||
        th_fx_resident("demo", "张伟", res_zw) || th_fx_resident("demo", "李娜", res_ln))
        return -1;
    /* 张伟 also owns 2-101 and 2-102; 王芳 (user "tenant3") rents 2-102 */
    const char *v[] = {res_zw, u2101, u2102};
    if (!th_sql1("INSERT INTO resident_units (org_id, resident_id, unit_id, relation) SELECT "
                 "org_id, $1, u, 'owner' FROM residents, unnest(ARRAY[$2::uuid, $3::uuid]) u "
                 "WHERE id = $1 RETURNING 1",
                 v, 3))
        return -1;
    if (th_grab(res_wf, "WITH r AS (INSERT INTO residents (org_id, project_id, name, phone) "
                        "SELECT org_id, project_id, '王芳', '13700137000' FROM residents WHERE "
                        "name = '李娜' AND org_id = (SELECT id FROM organisations WHERE code = "
                        "'demo') RETURNING id, org_id), u AS (INSERT INTO users (org_id, "
                        "username, display_name, role, resident_id, password_hash) SELECT "
                        "org_id, 'tenant3', '王芳', 'resident', id, (SELECT password_hash FROM "
                        "users WHERE username = 'resident') FROM r) SELECT id FROM r"))
        return -1;
    const char *w[] = {res_wf, u2102};
    if (!th_sql1("INSERT INTO resident_units (org_id, resident_id, unit_id, relation) SELECT "
                 "org_id, $1, $2, 'tenant' FROM residents WHERE id = $1 RETURNING 1",
                 w, 2))
        return -1;
    return 0;
}

static th_resp_t *register_tenancy(const char *user, const char *unit, const char *body)
{
    char path[120];
    snprintf(path, sizeof path, "/v1/units/%s/tenancies", unit);
    return th_req("POST", path, th_token(user), body, NULL);
}

static th_resp_t *sign(const char *user, const char *id, const char *end_date)
{
    char path[120], body[200];
    snprintf(path, sizeof path, "/v1/tenancies/%s/termination", id);
    snprintf(body, sizeof body, "{\"end_date\":\"%s\",\"reason\":\"工作调动\"}", end_date);
    return th_req("POST", path, th_token(user), body, NULL);
}

static void test_register_tenancy(void **state)
{
    (void)state;
    char body[1024];
    snprintf(
        body, sizeof body,
        "{\"owner_resident_id\":\"%s\",\"tenant_resident_id\":\"%s\",\"use\":\"residence\","
        "\"term_start\":\"%s\",\"term_end\":\"%s\",\"tenant_id_document\":{\"type\":"
        "\"resident_id_card\",\"number\":\"11010119900307123X\"},\"employer\":\"深圳某科技公司\"}",
        res_zw, res_ln, day(-30), day(60));
    th_resp_t *r = register_tenancy("agent", u2101, body);
    EXPECT_STATUS(r, 201);
    snprintf(tenancy, sizeof tenancy, "%s", th_js(r->json, "id"));
    assert_string_equal(th_js(r->json, "state"), "active");
    assert_string_equal(th_js(r->json, "tenant.name"), "李娜");
    assert_string_equal(th_js(r->json, "tenant.phone"), "13900139002");
    assert_string_equal(th_js(r->json, "tenant.id_document.type"), "resident_id_card");
    assert_string_equal(th_js(r->json, "tenant.id_document.last4"), "123X");
    assert_string_equal(th_js(r->json, "tenant.employer"), "深圳某科技公司");
    assert_string_equal(th_js(r->json, "owner.name"), "张伟");
    assert_string_equal(th_js(r->json, "term_end"), day(60));
    assert_true(th_jnull(r->json, "termination"));
    th_free(r);
    /* the number is never stored, only its keyed hash */
    const char *v[] = {tenancy};
    assert_int_equal(th_sql_long("SELECT count(*) FROM tenancies t WHERE t.id = $1 AND "
                                 "t.tenant_id_hash LIKE 'pii1$%' AND t::text NOT LIKE "
                                 "'%19900307%'",
                                 v, 1),
                     1);
    assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE diff::text LIKE "
                                 "'%19900307%'",
                                 NULL, 0),
                     0);

    /* a name and phone instead of a resident */
    snprintf(body, sizeof body,
             "{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"tenant_phone\":"
             "\"13600136000\",\"use\":\"office\",\"term_start\":\"%s\",\"term_end\":\"%s\"}",
             res_zw, day(-400), day(-10));
    r = register_tenancy("supervisor", u2101, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "state"), "ended");
    th_free(r);

    /* the auditor reads with phones masked; the owner reads their unit's tenancies */
    char path[120];
    snprintf(path, sizeof path, "/v1/units/%s/tenancies", u2101);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 2);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "items"), 0), "tenant.phone"),
                        "139****9002");
    th_free(r);
    r = th_req("GET", path, th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_req("GET", path, th_token("technician"), NULL, NULL), 403, "forbidden");
    snprintf(path, sizeof path, "/v1/tenancies/%s", tenancy);
    r = th_req("GET", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.manager"), NULL, NULL), 404, "not_found");
    /* the tenant reads it during the term */
    r = th_req("GET", path, th_token("resident2"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
}

static void test_register_refusals(void **state)
{
    (void)state;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"residence\","
             "\"term_start\":\"%s\",\"term_end\":\"%s\"}",
             res_zw, day(0), day(30));
    EXPECT_PROBLEM(register_tenancy("technician", u2101, body), 403, "forbidden");
    EXPECT_PROBLEM(register_tenancy("resident", u2101, body), 403, "forbidden");
    EXPECT_PROBLEM(register_tenancy("auditor", u2101, body), 403, "forbidden");
    EXPECT_PROBLEM(register_tenancy("other.agent", u2101, body), 404, "not_found");
    /* 李娜 does not own 2-101 */
    snprintf(body, sizeof body,
             "{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"residence\","
             "\"term_start\":\"%s\",\"term_end\":\"%s\"}",
             res_ln, day(0), day(30));
    EXPECT_PROBLEM(register_tenancy("agent", u2101, body), 422, "owner_not_of_unit");
    static const struct {
        const char *fmt;
        const char *code;
    } bad[] = {
        {"{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"residence\","
         "\"term_start\":\"2026-05-02\",\"term_end\":\"2026-05-01\"}",
         "invalid_term"},
        {"{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"residence\","
         "\"term_start\":\"2026-02-30\",\"term_end\":\"2026-05-01\"}",
         "invalid_field"},
        {"{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"casino\","
         "\"term_start\":\"2026-05-01\",\"term_end\":\"2026-05-02\"}",
         "invalid_enum"},
        {"{\"owner_resident_id\":\"%s\",\"use\":\"residence\","
         "\"term_start\":\"2026-05-01\",\"term_end\":\"2026-05-02\"}",
         "missing_field"},
        {"{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"residence\","
         "\"term_start\":\"2026-05-01\"}",
         "missing_field"},
        {"{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"residence\","
         "\"term_start\":\"2026-05-01\",\"term_end\":\"2026-05-02\",\"tenant_id_document\":"
         "{\"type\":\"resident_id_card\",\"number\":\"12\"}}",
         "invalid_field"},
        {"{\"owner_resident_id\":\"%s\",\"tenant_name\":\"赵六\",\"use\":\"residence\","
         "\"term_start\":\"2026-05-01\",\"term_end\":\"2026-05-02\",\"rent\":3000}",
         "unknown_field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, bad[i].fmt, res_zw);
        EXPECT_PROBLEM(register_tenancy("agent", u2101, body), 422, bad[i].code);
    }
}

static char *request_on(const char *user, const char *unit, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"app\",\"location\":{\"unit_id\":\"%s\"},"
             "%s\"description\":\"水龙头漏水\"}",
             unit,
             strcmp(user, "agent") ? ""
                                   : "\"reporter\":{\"name\":\"王芳\",\"phone\":\"13700137000\"},");
    th_free(th_create_request_at(__LINE__, user, body, id));
    return id;
}

static void test_tenant_scope_only_in_term(void **state)
{
    (void)state;
    /* 李娜 is in her term: she reports for 2-101 and reads its requests */
    char rq[40], rq2[40];
    request_on("resident2", u2101, rq);
    char *tok = th_login("resident2", TH_PASS);
    char path[120];
    snprintf(path, sizeof path, "/v1/requests/%s", rq);
    th_resp_t *r = th_req("GET", path, tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    free(tok);

    /* 王芳 rents 2-102 without a registered tenancy: in scope */
    request_on("agent", u2102, rq2);
    tok = th_login("tenant3", TH_PASS);
    snprintf(path, sizeof path, "/v1/requests/%s", rq2);
    r = th_req("GET", path, tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    free(tok);

    /* her tenancy is registered with a term that has ended: from her next login the unit's
     * requests are 404, she cannot report for it, and the unit's tenancies are 404 */
    char body[1024];
    snprintf(body, sizeof body,
             "{\"owner_resident_id\":\"%s\",\"tenant_resident_id\":\"%s\",\"use\":\"residence\","
             "\"term_start\":\"%s\",\"term_end\":\"%s\"}",
             res_zw, res_wf, day(-200), day(-1));
    r = register_tenancy("agent", u2102, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "state"), "ended");
    th_free(r);
    tok = th_login("tenant3", TH_PASS);
    EXPECT_PROBLEM(th_req("GET", path, tok, NULL, NULL), 404, "not_found");
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"app\",\"location\":{\"unit_id\":\"%s\"},"
             "\"description\":\"又漏水了\"}",
             u2102);
    EXPECT_PROBLEM(th_req("POST", "/v1/requests", tok, body, NULL), 404, "not_found");
    r = th_req("GET", "/v1/requests", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 0);
    th_free(r);
    char tp[120];
    snprintf(tp, sizeof tp, "/v1/units/%s/tenancies", u2102);
    EXPECT_PROBLEM(th_req("GET", tp, tok, NULL, NULL), 404, "not_found");
    free(tok);

    /* a new term starting next week: still not in scope before it begins */
    snprintf(body, sizeof body,
             "{\"owner_resident_id\":\"%s\",\"tenant_resident_id\":\"%s\",\"use\":\"residence\","
             "\"term_start\":\"%s\",\"term_end\":\"%s\"}",
             res_zw, res_wf, day(7), day(100));
    r = register_tenancy("agent", u2102, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "state"), "upcoming");
    th_free(r);
    tok = th_login("tenant3", TH_PASS);
    EXPECT_PROBLEM(th_req("GET", path, tok, NULL, NULL), 404, "not_found");
    free(tok);
    /* and one in force today brings the unit back */
    snprintf(body, sizeof body,
             "{\"owner_resident_id\":\"%s\",\"tenant_resident_id\":\"%s\",\"use\":\"residence\","
             "\"term_start\":\"%s\",\"term_end\":\"%s\"}",
             res_zw, res_wf, day(0), day(6));
    th_free(register_tenancy("agent", u2102, body));
    tok = th_login("tenant3", TH_PASS);
    r = th_req("GET", path, tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    free(tok);
    /* the owner keeps his unit throughout */
    tok = th_login("resident", TH_PASS);
    r = th_req("GET", path, tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    free(tok);
}

static void test_termination_signed_by_both(void **state)
{
    (void)state;
    const char *snap_sql = "SELECT row(termination_date, owner_signed_at, supervisor_signed_at, "
                           "ended_on, version)::text FROM tenancies WHERE id = $1";
    char *before = th_snapshot(snap_sql, tenancy);
    /* less than 3 days' notice: refused for each side, nothing written */
    th_resp_t *r = sign("resident", tenancy, day(2));
    th_expect_problem_at(__LINE__, r, 422, "notice_too_short");
    EXPECT_PROBLEM(sign("supervisor", tenancy, day(0)), 422, "notice_too_short");
    th_expect_snapshot_at(__LINE__, snap_sql, tenancy, before);
    free(before);
    /* outside the term; wrong signers */
    EXPECT_PROBLEM(sign("resident", tenancy, day(90)), 422, "invalid_end_date");
    EXPECT_PROBLEM(sign("resident2", tenancy, day(10)), 403, "forbidden"); /* the tenant */
    EXPECT_PROBLEM(sign("agent", tenancy, day(10)), 403, "forbidden");
    EXPECT_PROBLEM(sign("technician", tenancy, day(10)), 403, "forbidden");
    EXPECT_PROBLEM(sign("other.supervisor", tenancy, day(10)), 404, "not_found");
    char path[120];
    snprintf(path, sizeof path, "/v1/tenancies/%s/termination", tenancy);
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident"), "{\"end_date\":\"tomorrow\"}", NULL),
                   422, "invalid_field");

    /* the owner signs 10 days ahead (exactly 3 days is enough, see the core test) */
    r = sign("resident", tenancy, day(10));
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "ending");
    assert_string_equal(th_js(r->json, "termination.end_date"), day(10));
    assert_string_equal(th_js(r->json, "termination.reason"), "工作调动");
    assert_false(th_jnull(r->json, "termination.owner_signed_at"));
    assert_true(th_jnull(r->json, "termination.supervisor_signed_at"));
    assert_true(th_jnull(r->json, "ended_on"));
    th_free(r);
    EXPECT_PROBLEM(sign("resident", tenancy, day(10)), 409, "already_signed");
    EXPECT_PROBLEM(sign("supervisor", tenancy, day(11)), 409, "termination_mismatch");
    /* the supervisor's signature completes it */
    r = sign("supervisor", tenancy, day(10));
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "ended_on"), day(10));
    char sup[40];
    th_fx_user("supervisor", sup);
    assert_string_equal(th_js(r->json, "termination.supervisor_signed_by"), sup);
    th_free(r);
    EXPECT_PROBLEM(sign("manager", tenancy, day(10)), 409, "tenancy_ended");
    /* each signature is in the audit log with its signer */
    const char *v[] = {tenancy, sup};
    assert_true(th_sql_long("SELECT count(*) FROM audit_log WHERE resource_type = 'tenancy' AND "
                            "resource_id = $1 AND actor_user_id = $2",
                            v, 2) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_tenancy),
        cmocka_unit_test(test_register_refusals),
        cmocka_unit_test(test_tenant_scope_only_in_term),
        cmocka_unit_test(test_termination_signed_by_both),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
