/*
 * tests/api/test_lost_property.c — lost property and valuables deposits end to end (issue 10,
 * RULES §3.7): a found item registered and handed to the duty manager (their own call),
 * claimed with date, place and details signed with ID, or handed to the police with station,
 * officer and receipt number; unclaimed items listed after the configured period; valuables
 * deposited against ID and handed back only against the same ID; scope and auditors.
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

static char p1[40], p2[40], resident[40];

static int setup(void **state)
{
    (void)state;
    /* a short unclaimed period, so a find of 6 days ago is due for the police */
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", "DESK_LOST_UNCLAIMED_DAYS=5",
                                      NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_resident("demo", "张伟", resident))
        return -1;
    return th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                       "SELECT org_id, 'LP2', '翠湖大厦', time_zone, business_hours FROM projects "
                       "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                       "p.org_id WHERE o.code = 'demo') RETURNING id");
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static void iso(long delta, char out[40])
{
    th_iso_utc(time(NULL) + delta, out);
}

static void found(const char *who, const char *project, long delta, char dst[40])
{
    char body[600], t[40];
    iso(delta, t);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"found_item\",\"description\":\"黑色钱包\","
             "\"found_at\":\"2 号楼楼梯间\",\"finder\":\"保安 王五\",\"valuable\":true,"
             "\"location\":\"服务中心保险柜\",\"occurred_at\":\"%s\"}",
             project, t);
    th_resp_t *r = th_req("POST", "/v1/lost-property", th_token(who), body, NULL);
    if (r->status != 201)
        fprintf(stderr, "found -> %ld %s\n", r->status, r->body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "lost_item.state"), "found");
    assert_string_equal(th_js(r->json, "entry.action"), "register");
    snprintf(dst, 40, "%s", th_js(r->json, "lost_item.id"));
    th_free(r);
}

static th_resp_t *post(const char *who, const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/lost-property/%s/entries", id);
    return th_req("POST", path, th_token(who), body, NULL);
}

static void ok(const char *who, const char *id, const char *body, const char *state)
{
    th_resp_t *r = post(who, id, body);
    if (r->status != 201)
        fprintf(stderr, "%s %s -> %ld %s\n", who, body, r->status, r->body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "lost_item.state"), state);
    th_free(r);
}

static int list_has(const char *who, const char *path, const char *id)
{
    th_resp_t *r = th_req("GET", path, th_token(who), NULL, NULL);
    assert_int_equal(r->status, 200);
    int has = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), id))
            has = 1;
    }
    th_free(r);
    return has;
}

static void test_found_and_claimed(void **state)
{
    (void)state;
    char id[40], body[700];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"found_item\",\"description\":\"伞\"}", p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/lost-property", th_token("security"), body, NULL), 422,
                   "found_details_required");
    found("security", p1, -3600, id);
    assert_true(list_has("agent", "/v1/lost-property/awaiting-owner", id));
    /* a claim waits for the duty manager's custody */
    snprintf(body, sizeof body,
             "{\"action\":\"claim\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"id_card\",\"id_number\":\"440301198001011111\"},\"lost_on\":"
             "\"2026-01-01T10:00:00Z\",\"lost_at\":\"2 号楼\",\"description\":\"黑色钱包, 内有"
             "身份证\",\"attachments\":[{\"name\":\"worklog-signature.png\"}]}",
             resident);
    EXPECT_PROBLEM(post("agent", id, body), 409, "not_held");
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"receive\"}"), 403, "not_duty_manager");
    th_resp_t *r = post("supervisor", id, "{\"action\":\"receive\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "lost_item.state"), "held");
    assert_false(th_jnull(r->json, "lost_item.holder_id"));
    th_free(r);
    /* the claim states date, place and details, and is signed with ID */
    char bad[700];
    snprintf(bad, sizeof bad,
             "{\"action\":\"claim\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"id_card\",\"id_number\":\"440301198001011111\"},\"lost_at\":"
             "\"2 号楼\",\"description\":\"钱包\",\"attachments\":[{\"name\":\"s.png\"}]}",
             resident);
    EXPECT_PROBLEM(post("agent", id, bad), 422, "claim_details_required");
    snprintf(bad, sizeof bad,
             "{\"action\":\"claim\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\"},\"lost_on\":\"2026-01-01T10:00:00Z\",\"lost_at\":\"2 号楼\","
             "\"description\":\"钱包\",\"attachments\":[{\"name\":\"s.png\"}]}",
             resident);
    EXPECT_PROBLEM(post("agent", id, bad), 422, "id_required");
    ok("agent", id, body, "claimed");
    assert_false(list_has("agent", "/v1/lost-property/awaiting-owner", id));
    EXPECT_PROBLEM(post("manager", id,
                        "{\"action\":\"hand_to_police\",\"station\":\"福田派出所\",\"officer\":"
                        "\"李警官\",\"receipt_number\":\"R-1\"}"),
                   409, "closed_item");
}

static void test_unclaimed_to_police(void **state)
{
    (void)state;
    char old[40], recent[40];
    found("agent", p1, -6 * 86400, old);
    found("agent", p1, -60, recent);
    assert_true(list_has("manager", "/v1/lost-property/unclaimed", old));
    assert_false(list_has("manager", "/v1/lost-property/unclaimed", recent));
    ok("manager", old, "{\"action\":\"receive\"}", "held");
    EXPECT_PROBLEM(post("manager", old,
                        "{\"action\":\"hand_to_police\",\"station\":\"福田派出所\",\"officer\":"
                        "\"李警官\"}"),
                   422, "police_receipt_required");
    EXPECT_PROBLEM(post("agent", old,
                        "{\"action\":\"hand_to_police\",\"station\":\"福田派出所\",\"officer\":"
                        "\"李警官\",\"receipt_number\":\"R-2\"}"),
                   403, "not_duty_manager");
    th_resp_t *r = post("manager", old,
                        "{\"action\":\"hand_to_police\",\"station\":\"福田派出所\",\"officer\":"
                        "\"李警官\",\"receipt_number\":\"R-2\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "lost_item.state"), "handed_to_police");
    assert_string_equal(th_js(r->json, "entry.details.receipt_number"), "R-2");
    assert_string_equal(th_js(r->json, "entry.details.station"), "福田派出所");
    th_free(r);
    assert_false(list_has("manager", "/v1/lost-property/unclaimed", old));
}

static void test_valuables_deposit(void **state)
{
    (void)state;
    char body[700], id[40];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"valuable_deposit\",\"description\":\"金手镯, "
             "完好\",\"count\":2,\"receipt_number\":\"DEP-9\",\"counterparty\":{\"kind\":"
             "\"resident\",\"resident_id\":\"%s\"}}",
             p1, resident);
    EXPECT_PROBLEM(th_req("POST", "/v1/lost-property", th_token("agent"), body, NULL), 422,
                   "id_required");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"valuable_deposit\",\"description\":\"金手镯, "
             "完好\",\"count\":2,\"counterparty\":{\"kind\":\"resident\",\"resident_id\":\"%s\","
             "\"id_type\":\"id_card\",\"id_number\":\"440301198001012222\"}}",
             p1, resident);
    EXPECT_PROBLEM(th_req("POST", "/v1/lost-property", th_token("agent"), body, NULL), 422,
                   "deposit_details_required");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"valuable_deposit\",\"description\":\"金手镯, "
             "完好\",\"count\":2,\"receipt_number\":\"DEP-9\",\"counterparty\":{\"kind\":"
             "\"resident\",\"resident_id\":\"%s\",\"id_type\":\"id_card\",\"id_number\":"
             "\"440301198001012222\"}}",
             p1, resident);
    th_resp_t *r = th_req("POST", "/v1/lost-property", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "lost_item.state"), "deposited");
    assert_string_equal(th_js(r->json, "entry.action"), "deposit");
    assert_string_equal(th_js(r->json, "entry.counterparty.id_last4"), "2222");
    snprintf(id, sizeof id, "%s", th_js(r->json, "lost_item.id"));
    th_free(r);
    assert_true(list_has("agent", "/v1/lost-property/deposits", id));
    /* handed back only against the depositor's ID */
    char ret[600];
    snprintf(ret, sizeof ret,
             "{\"action\":\"return\",\"counterparty\":{\"kind\":\"outsider\",\"name\":\"张三\","
             "\"phone\":\"13700000000\",\"relation\":\"friend\",\"id_type\":\"id_card\","
             "\"id_number\":\"440301198001013333\"},\"attachments\":[{\"name\":\"s.png\"}]}");
    EXPECT_PROBLEM(post("agent", id, ret), 403, "id_mismatch");
    snprintf(ret, sizeof ret,
             "{\"action\":\"return\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"id_card\",\"id_number\":\"440301198001012222\"},"
             "\"attachments\":[{\"name\":\"s.png\"}]}",
             resident);
    r = post("agent", id, ret);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "lost_item.state"), "returned");
    assert_true(th_jtrue(r->json, "entry.details.id_matches_deposit"));
    th_free(r);
}

static void test_roles_and_scope(void **state)
{
    (void)state;
    char id[40], other[40];
    found("agent", p1, -120, id);
    found("gm", p2, -120, other);
    EXPECT_PROBLEM(post("auditor", id, "{\"action\":\"note\",\"purpose\":\"x\"}"), 403, NULL);
    EXPECT_PROBLEM(post("resident", id, "{\"action\":\"note\",\"purpose\":\"x\"}"), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/lost-property", th_token("resident"), NULL, NULL), 403, NULL);
    assert_true(list_has("auditor", "/v1/lost-property", other));
    assert_false(list_has("agent", "/v1/lost-property", other));
    char path[128];
    snprintf(path, sizeof path, "/v1/lost-property/%s", other);
    EXPECT_PROBLEM(th_req("GET", path, th_token("agent"), NULL, NULL), 404, "not_found");
    snprintf(path, sizeof path, "/v1/lost-property/%s/verify", id);
    th_resp_t *r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "valid"));
    th_free(r);
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"register\"}"), 422, NULL);
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"claim\",\"station\":7}"), 422, NULL);
}

/* Each remaining rule's refusal through the API. */
static void test_refusals(void **state)
{
    (void)state;
    char find[40], dep[40], body[600];
    found("agent", p1, -600, find);
    snprintf(
        body, sizeof body,
        "{\"project_id\":\"%s\",\"kind\":\"valuable_deposit\",\"description\":\"表\","
        "\"count\":1,\"receipt_number\":\"DEP-10\",\"counterparty\":{\"kind\":\"resident\","
        "\"resident_id\":\"%s\",\"id_type\":\"id_card\",\"id_number\":\"440301198001014444\"}}",
        p1, resident);
    EXPECT_PROBLEM(th_req("POST", "/v1/lost-property", th_token("security"), body, NULL), 403,
                   "forbidden_role");
    th_resp_t *r = th_req("POST", "/v1/lost-property", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(dep, sizeof dep, "%s", th_js(r->json, "lost_item.id"));
    th_free(r);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"valuable_deposit\",\"description\":\"表\","
             "\"count\":1,\"receipt_number\":\"DEP-11\"}",
             p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/lost-property", th_token("agent"), body, NULL), 422,
                   "depositor_required");
    static const struct {
        int deposit;
        const char *who, *body;
        long status;
        const char *code;
    } cases[] = {
        {0, "agent", "{\"action\":\"return\"}", 409, "wrong_kind"},
        {1, "manager", "{\"action\":\"receive\"}", 409, "wrong_kind"},
        {1, "manager",
         "{\"action\":\"hand_to_police\",\"station\":\"s\",\"officer\":\"o\","
         "\"receipt_number\":\"r\"}",
         409, "wrong_kind"},
        {1, "agent", "{\"action\":\"return\",\"attachments\":[{\"name\":\"s.png\"}]}", 422,
         "collector_required"},
        {1, "agent",
         "{\"action\":\"return\",\"counterparty\":{\"kind\":\"outsider\",\"name\":\"甲\","
         "\"phone\":\"1\"},\"attachments\":[{\"name\":\"s.png\"}]}",
         422, "id_required"},
        {1, "agent",
         "{\"action\":\"return\",\"counterparty\":{\"kind\":\"outsider\",\"name\":\"甲\","
         "\"phone\":\"1\",\"id_type\":\"id_card\",\"id_number\":\"440301198001014444\"}}",
         422, "signature_required"},
        {1, "security",
         "{\"action\":\"return\",\"counterparty\":{\"kind\":\"outsider\",\"name\":\"甲\","
         "\"phone\":\"1\",\"id_type\":\"id_card\",\"id_number\":\"440301198001014444\"},"
         "\"attachments\":[{\"name\":\"s.png\"}]}",
         403, "forbidden_role"},
        {0, "agent", "{\"action\":\"correction\",\"purpose\":\"x\"}", 422, "corrects_required"},
        {0, "agent", "{\"action\":\"deposit\"}", 422, "invalid_field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = post(cases[i].who, cases[i].deposit ? dep : find, cases[i].body);
        if (r->status != cases[i].status)
            fprintf(stderr, "case %zu: %ld %s\n", i, r->status, r->body);
        EXPECT_PROBLEM(r, cases[i].status, cases[i].code);
    }
    /* held: a second receive, a claim without claimant or signature */
    ok("supervisor", find, "{\"action\":\"receive\"}", "held");
    EXPECT_PROBLEM(post("manager", find, "{\"action\":\"receive\"}"), 409, "not_found_state");
    EXPECT_PROBLEM(post("agent", find,
                        "{\"action\":\"claim\",\"lost_on\":\"2026-01-01T10:00:00Z\","
                        "\"lost_at\":\"x\",\"description\":\"y\"}"),
                   422, "claimant_required");
    snprintf(body, sizeof body,
             "{\"action\":\"claim\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"id_card\",\"id_number\":\"440301198001011111\"},\"lost_on\":"
             "\"2026-01-01T10:00:00Z\",\"lost_at\":\"x\",\"description\":\"y\"}",
             resident);
    EXPECT_PROBLEM(post("agent", find, body), 422, "signature_required");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found_and_claimed), cmocka_unit_test(test_unclaimed_to_police),
        cmocka_unit_test(test_valuables_deposit), cmocka_unit_test(test_roles_and_scope),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
