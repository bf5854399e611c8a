/*
 * tests/api/test_registers.c — the registers' own columns on requests and the paper
 * registers (RULES §2 item 5 and the appendix), end to end:
 *   - each column written with who and when, the latest shown on the request, the history
 *     kept (append-only, also against the database owner's UPDATE);
 *   - who writes which column (主管评估意见 supervisor or above: agent 403; residents only
 *     业主反馈情况 on their own units' requests and never see the desk's opinions), the other
 *     organisation 404, an unknown column 404, an empty note 422;
 *   - 投诉受理登记表 / 投诉处理记录表 / 报修受理登记表 of a month and of a date range, with
 *     the exact zh-CN headers in the form's order, CSV bytes (BOM, CRLF), month boundaries in
 *     the project's zone (Asia/Shanghai), phones masked for the auditor, wrong project 404,
 *     technician 403.
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

static char proj[40], unit101[40], res_zw[40], eng[40], p2[40], c1[40], c2[40], c_out[40], rep1[40];

static const char *INS =
    "INSERT INTO requests (org_id, project_id, number, type, channel, severity, state, "
    "location_kind, unit_id, common_area, reporter_name, reporter_phone, title, description, "
    "department_id, received_at, last_event_at, created_by, search_terms, resolution) SELECT "
    "p.org_id, p.id, $2, $3::request_type, 'phone', $4::complaint_severity, 'received', CASE "
    "WHEN $5::uuid IS NULL THEN 'common_area' ELSE 'unit' END::location_kind, $5::uuid, CASE "
    "WHEN $5::uuid IS NULL THEN '大堂' END, '张伟', '13800138000', $2::text || '标题', "
    "'描述,' || $2::text, $6::uuid, $7::timestamptz, $7::timestamptz, (SELECT id FROM users "
    "WHERE username = 'agent'), '{}', $8 FROM projects p WHERE p.id = $1 RETURNING id";

static void ins(char id[40], const char *num, const char *type, const char *sev, const char *unit,
                const char *dept, const char *at, const char *resolution)
{
    const char *v[] = {proj, num, type, sev, unit, dept, at, resolution};
    const char *x = th_sql1(INS, v, 8);
    assert_non_null(x);
    snprintf(id, 40, "%s", x);
}

static th_resp_t *note(const char *user, const char *id, const char *field, const char *body)
{
    char path[160], b[1024];
    snprintf(path, sizeof path, "/v1/requests/%s/register/%s", id, field);
    snprintf(b, sizeof b, "{\"body\":\"%s\"}", body);
    return th_req("POST", path, th_token(user), b, NULL);
}

static void note_ok(const char *user, const char *id, const char *field, const char *body)
{
    th_resp_t *r = note(user, id, field, body);
    EXPECT_STATUS(r, 201);
    th_free(r);
}

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_project("demo", proj) ||
        th_fx_unit("demo", "1-101", unit101) || th_fx_resident("demo", "张伟", res_zw) ||
        th_fx_dept("demo", "engineering", eng))
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
    /* March 2026 in Asia/Shanghai (UTC+8): C1 on 03-01 00:30 local (Feb 28 in UTC), C2 on
     * 03-31 23:30 local; C_OUT on 04-01 00:10 local (March 31 in UTC): April.  REP1 a
     * repair of 1-101 on 03-05 10:00 local, its work order accepted by the technician. */
    ins(c1, "C1", "complaint", "important", unit101, eng, "2026-02-28T16:30:00Z", "已清理");
    ins(c2, "C2", "complaint", "general", NULL, NULL, "2026-03-31T15:30:00Z", NULL);
    ins(c_out, "C3", "complaint", "general", NULL, NULL, "2026-03-31T16:10:00Z", NULL);
    ins(rep1, "R1", "repair", NULL, unit101, eng, "2026-03-05T02:00:00Z", NULL);
    const char *w[] = {rep1, eng};
    if (!th_sql1("INSERT INTO work_orders (org_id, project_id, request_id, number, "
                 "department_id, assignee_id, dispatched_at, accepted_at, state) SELECT "
                 "r.org_id, r.project_id, r.id, 'GD-1', $2, (SELECT id FROM users WHERE "
                 "username = 'technician'), r.received_at, r.received_at + interval '5 min', "
                 "'accepted' FROM requests r WHERE r.id = $1 RETURNING id",
                 w, 2))
        return -1;
    const char *ev[] = {c1};
    if (!th_sql1("INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, "
                 "action, occurred_at) SELECT org_id, id, 1, created_by, 'agent', 'dispatch', "
                 "timestamptz '2026-02-28T17:00:00Z' FROM requests WHERE id = $1 RETURNING 1",
                 ev, 1))
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- notes */

static void test_note_written_with_author_and_history(void **state)
{
    (void)state;
    char id[40], body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"general\","
             "\"location\":{\"unit_id\":\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},"
             "\"description\":\"楼上漏水\"}",
             unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", body, id));

    /* before any note: every column the caller may read is there, null (answered without
     * asking for the notes: db_request_get says there are none) */
    char get[96];
    snprintf(get, sizeof get, "/v1/requests/%s", id);
    th_resp_t *r = th_req("GET", get, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *reg = th_jpath(r->json, "register");
    assert_true(cJSON_IsObject(reg));
    assert_int_equal(cJSON_GetArraySize(reg), 5);
    assert_true(th_jnull(r->json, "register.customer_wish"));
    assert_true(th_jnull(r->json, "register.supervisor_assessment"));
    th_free(r);

    r = note("agent", id, "customer_wish", "尽快上门维修");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "field"), "customer_wish");
    assert_string_equal(th_js(r->json, "body"), "尽快上门维修");
    assert_string_equal(th_js(r->json, "author_role"), "agent");
    char agent[40];
    th_fx_user("agent", agent);
    assert_string_equal(th_js(r->json, "author_id"), agent);
    assert_true(th_parse_utc(th_js(r->json, "written_at")) > 0);
    th_free(r);
    note_ok("agent", id, "customer_wish", "今天下午上门，并赔偿损失");
    note_ok("supervisor", id, "supervisor_assessment", "处理及时，回访满意");
    note_ok("agent", id, "receiving_opinion", "转工程部");

    /* the request shows the latest of each column */
    r = th_get_request("agent", id);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "register.customer_wish.body"), "今天下午上门，并赔偿损失");
    assert_string_equal(th_js(r->json, "register.supervisor_assessment.author_role"), "supervisor");
    assert_true(th_jnull(r->json, "register.owner_feedback"));
    th_free(r);

    /* the history keeps both wishes, in order */
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/register", id);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *h = th_jpath(r->json, "history");
    assert_int_equal(cJSON_GetArraySize(h), 4);
    assert_string_equal(th_js(cJSON_GetArrayItem(h, 0), "body"), "尽快上门维修");
    assert_string_equal(th_js(r->json, "latest.customer_wish.body"), "今天下午上门，并赔偿损失");
    th_free(r);

    /* each note is a timeline event; the desk's opinions are internal */
    r = th_get_timeline("resident", id);
    EXPECT_STATUS(r, 200);
    int wishes = 0, internal = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, th_jpath(r->json, "items"))
    {
        if (!strcmp(th_js(e, "action"), "register_note")) {
            wishes += !strcmp(th_js(e, "details.field"), "customer_wish");
            internal += !strcmp(th_js(e, "details.field"), "supervisor_assessment");
        }
    }
    assert_int_equal(wishes, 2);
    assert_int_equal(internal, 0);
    th_free(r);

    /* append-only, whoever asks */
    const char *v[] = {id};
    assert_null(th_sql1("UPDATE request_register_notes SET body = 'x' WHERE request_id = $1 "
                        "RETURNING 1",
                        v, 1));
    assert_null(
        th_sql1("DELETE FROM request_register_notes WHERE request_id = $1 RETURNING 1", v, 1));
    assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE resource_type = "
                                 "'register_note' AND resource_id IN (SELECT id::text FROM "
                                 "request_register_notes WHERE request_id = $1)",
                                 v, 1),
                     4);
}

static void test_note_roles_and_scope(void **state)
{
    (void)state;
    char id[40], body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"app\",\"location\":{\"unit_id\":\"%s\"},"
             "\"description\":\"电梯异响\"}",
             unit101);
    th_free(th_create_request_at(__LINE__, "resident", body, id));

    /* the supervisor's assessment: supervisor or above only */
    EXPECT_PROBLEM(note("agent", id, "supervisor_assessment", "x"), 403, "forbidden");
    note_ok("manager", id, "supervisor_assessment", "原因已查明");
    /* residents: only their feedback */
    EXPECT_PROBLEM(note("resident", id, "receiving_opinion", "x"), 403, "forbidden");
    note_ok("resident", id, "owner_feedback", "已修好，满意");
    note_ok("agent", id, "customer_wish", "检修电梯");
    /* the technician writes the handling opinion of their department's requests only */
    EXPECT_PROBLEM(note("technician", id, "customer_wish", "x"), 403, "forbidden");
    EXPECT_PROBLEM(note("technician", id, "handling_opinion", "x"), 404, "not_found");
    /* the other organisation, an unknown column, an empty or oversized note, unknown fields */
    EXPECT_PROBLEM(note("other.supervisor", id, "supervisor_assessment", "x"), 404, "not_found");
    EXPECT_PROBLEM(note("sup.p2", id, "supervisor_assessment", "x"), 404, "not_found");
    EXPECT_PROBLEM(note("agent", id, "opinion", "x"), 404, "not_found");
    EXPECT_PROBLEM(note("agent", id, "customer_wish", ""), 422, "invalid_field");
    EXPECT_PROBLEM(note("security", id, "customer_wish", "x"), 403, "forbidden");
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/register/customer_wish", id);
    EXPECT_PROBLEM(th_req("POST", path, th_token("agent"), "{\"body\":\"x\",\"by\":\"me\"}", NULL),
                   422, "unknown_field");
    char *big = malloc(4100 * 3 + 32);
    strcpy(big, "{\"body\":\"");
    for (int i = 0; i < 4001; i++)
        strcat(big, "字");
    strcat(big, "\"}");
    EXPECT_PROBLEM(th_req("POST", path, th_token("agent"), big, NULL), 422, "invalid_field");
    free(big);
    /* another resident's unit */
    EXPECT_PROBLEM(note("resident2", id, "owner_feedback", "x"), 404, "not_found");

    /* the resident reads their wish and feedback, not the desk's opinions */
    th_resp_t *r = th_get_request("resident", id);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "register.owner_feedback.body"), "已修好，满意");
    assert_string_equal(th_js(r->json, "register.customer_wish.body"), "检修电梯");
    assert_null(th_jpath(r->json, "register.supervisor_assessment"));
    assert_null(th_jpath(r->json, "register.receiving_opinion"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/requests/%s/register", id);
    r = th_req("GET", path, th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "history")), 2);
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, "not_found");
    /* the integration reads the request without a register */
    r = th_get_request("integration", id);
    EXPECT_STATUS(r, 200);
    assert_null(th_jpath(r->json, "register"));
    th_free(r);
}

/* ---------------------------------------------------------------- exports */

static th_resp_t *export(const char *user, const char *project, const char *form, const char *query)
{
    char path[300];
    snprintf(path, sizeof path, "/v1/projects/%s/registers/%s?%s", project, form, query);
    return th_req("GET", path, th_token(user), NULL, NULL);
}

static void test_complaint_intake_month(void **state)
{
    (void)state;
    note_ok("agent", c1, "customer_wish", "立即清理,并道歉");
    note_ok("agent", c1, "receiving_opinion", "转工程部处理");
    th_resp_t *r = export("agent", proj, "complaint-intake", "month=2026-03");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "title"), "投诉受理登记表");
    assert_string_equal(th_js(r->json, "period.first_day"), "2026-03-01");
    assert_string_equal(th_js(r->json, "period.last_day"), "2026-03-31");
    assert_string_equal(th_js(r->json, "period.from"), "2026-02-28T16:00:00Z");
    const cJSON *rows = th_jpath(r->json, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 2); /* C1 and C2; C3 is April locally */
    const cJSON *a = cJSON_GetArrayItem(rows, 0);
    assert_string_equal(th_js(a, "date"), "2026-03-01");
    assert_string_equal(th_js(a, "customer_name"), "张伟");
    assert_string_equal(th_js(a, "address"), "1栋 1-101");
    assert_string_equal(th_js(a, "number"), "C1");
    assert_string_equal(th_js(a, "subject"), "C1标题");
    assert_string_equal(th_js(a, "customer_wish"), "立即清理,并道歉");
    assert_string_equal(th_js(a, "severity"), "重要");
    assert_string_equal(th_js(a, "receiver"), "Agent (示范物业服务有限公司)");
    assert_string_equal(th_js(a, "receiving_opinion"), "转工程部处理");
    assert_string_equal(th_js(a, "department"), "工程部");
    assert_string_equal(th_js(cJSON_GetArrayItem(rows, 1), "number"), "C2");
    assert_string_equal(th_js(cJSON_GetArrayItem(rows, 1), "address"), "大堂");
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "columns"), 5), "label"),
                        "客户希望/要求");
    th_free(r);

    /* the same as the paper form: BOM, the form's headers in order, CRLF, quoting */
    r = export("agent", proj, "complaint-intake", "month=2026-03&format=csv");
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(th_header(r, "Content-Type"), "text/csv"));
    const char *want_head =
        "\xEF\xBB\xBF"
        "投诉客户名称,地址,受理日期,受理编号,投诉事由,客户希望/要求,"
        "投诉性质,受理人,受理单位意见,责任部门\r\n"
        "张伟,1栋 1-101,2026-03-01,C1,C1标题,\"立即清理,并道歉\",重要,"
        "Agent (示范物业服务有限公司),转工程部处理,工程部\r\n"
        "张伟,大堂,2026-03-31,C2,C2标题,,一般,Agent (示范物业服务有限公司),,\r\n";
    assert_int_equal(r->len, strlen(want_head));
    assert_memory_equal(r->body, want_head, r->len);
    th_free(r);
}

static void test_complaint_handling_and_range(void **state)
{
    (void)state;
    note_ok("agent", c1, "handling_opinion", "派保洁清理");
    note_ok("resident", c1, "owner_feedback", "满意");
    note_ok("director", c1, "supervisor_assessment", "按时完成");
    /* a range of local days: 03-01 only */
    th_resp_t *r =
        export("supervisor", proj, "complaint-handling", "from=2026-03-01&to=2026-03-01");
    EXPECT_STATUS(r, 200);
    const cJSON *rows = th_jpath(r->json, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 1);
    const cJSON *a = cJSON_GetArrayItem(rows, 0);
    assert_string_equal(th_js(a, "date"), "2026-03-01");
    assert_string_equal(th_js(a, "owner_name"), "张伟");
    assert_string_equal(th_js(a, "phone"), "13800138000");
    assert_string_equal(th_js(a, "subject"), "描述,C1");
    assert_string_equal(th_js(a, "handling_opinion"), "派保洁清理");
    assert_string_equal(th_js(a, "process"), "03-01 01:00 派工；已清理");
    assert_string_equal(th_js(a, "owner_feedback"), "满意");
    assert_string_equal(th_js(a, "supervisor_assessment"), "按时完成");
    assert_string_equal(th_js(a, "department"), "工程部");
    assert_non_null(strstr(th_js(a, "remarks"), "重要"));
    const cJSON *cols = th_jpath(r->json, "columns");
    assert_int_equal(cJSON_GetArraySize(cols), 13);
    assert_string_equal(th_js(cJSON_GetArrayItem(cols, 11), "label"), "主管评估意见");
    th_free(r);
    /* the period after March 31 23:59 local: only C3 */
    r = export("supervisor", proj, "complaint-handling", "from=2026-04-01&to=2026-04-30");
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "rows")), 1);
    th_free(r);
    /* the auditor sees phones masked, in JSON and CSV */
    r = export("auditor", proj, "complaint-handling", "month=2026-03");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "rows"), 0), "phone"),
                        "138****8000");
    th_free(r);
    r = export("auditor", proj, "complaint-handling", "month=2026-03&format=csv");
    EXPECT_STATUS(r, 200);
    assert_null(strstr(r->body, "13800138000"));
    assert_non_null(strstr(r->body, "138****8000"));
    assert_non_null(strstr(r->body, "日期,业主姓名,业主住址,业主联系方式,接待人姓名,投诉处理部门,"
                                    "投诉处理负责人,投诉问题,处理意见,处理过程,业主反馈情况,"
                                    "主管评估意见,备注\r\n"));
    th_free(r);
}

static void test_repair_intake(void **state)
{
    (void)state;
    th_resp_t *r = export("agent", proj, "repair-intake", "month=2026-03&format=csv");
    EXPECT_STATUS(r, 200);
    const char *want =
        "\xEF\xBB\xBF"
        "报修人姓名,报修日期,联系方式,报修人地址,故障内容描述,记录人员,"
        "工程管理部相关人员签名\r\n"
        "张伟,2026-03-05,13800138000,1栋 1-101,\"描述,R1\",Agent (示范物业服务有限公司),"
        "Technician (示范物业服务有限公司)\r\n";
    assert_int_equal(r->len, strlen(want));
    assert_memory_equal(r->body, want, r->len);
    th_free(r);
}

static void test_export_refusals(void **state)
{
    (void)state;
    EXPECT_PROBLEM(export("technician", proj, "repair-intake", "month=2026-03"), 403, "forbidden");
    EXPECT_PROBLEM(export("resident", proj, "repair-intake", "month=2026-03"), 403, "forbidden");
    EXPECT_PROBLEM(export("sup.p2", proj, "repair-intake", "month=2026-03"), 404, "not_found");
    EXPECT_PROBLEM(export("other.supervisor", proj, "repair-intake", "month=2026-03"), 404,
                   "not_found");
    EXPECT_PROBLEM(export("agent", proj, "callbacks", "month=2026-03"), 404, "not_found");
    EXPECT_PROBLEM(export("agent", proj, "repair-intake", ""), 400, "invalid_query");
    EXPECT_PROBLEM(export("agent", proj, "repair-intake", "month=2026-13"), 400, "invalid_query");
    EXPECT_PROBLEM(export("agent", proj, "repair-intake", "from=2026-03-05&to=2026-03-01"), 400,
                   "invalid_query");
    EXPECT_PROBLEM(export("agent", proj, "repair-intake", "from=2025-01-01&to=2026-03-01"), 400,
                   "invalid_query");
    EXPECT_PROBLEM(export("agent", proj, "repair-intake", "month=2026-03&format=xml"), 400,
                   "invalid_query");
    /* P2's own supervisor sees an empty register of P2 */
    th_resp_t *r = export("sup.p2", p2, "repair-intake", "month=2026-03");
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "rows")), 0);
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_note_written_with_author_and_history),
        cmocka_unit_test(test_note_roles_and_scope),
        cmocka_unit_test(test_complaint_intake_month),
        cmocka_unit_test(test_complaint_handling_and_range),
        cmocka_unit_test(test_repair_intake),
        cmocka_unit_test(test_export_refusals),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
