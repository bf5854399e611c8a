/*
 * tests/api/test_custody_demo.c — the demo data's custody registers (db/demo.c, issue 10):
 * every ledger the seed writes verifies through GET …/verify (the seed writes the same hash
 * chain as the service), the registers hold what the README walks through (mail uncollected
 * past the reminder, a found item with the duty manager, archive files of each class the desk
 * keeps with one on loan), and the seeded states are ones the service's rules accept the next
 * step from (hand-over, claim, return and its signature), after which the chains still verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/demo.h"
#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

#define DEMO_ID DEMO_ID_NUMBER

static int setup(void **state)
{
    (void)state;
    return th_start(NULL);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static const char *route(const char *area)
{
    return !strcmp(area, "keys") ? "keys" : !strcmp(area, "lost_property") ? "lost-property" : area;
}

/* GET /v1/<area>/<id>/verify as the org's reader of that area: valid, and every entry seen. */
static void verify_ok(const char *prefix, const char *area, const char *id, long entries)
{
    char path[160], user[40];
    snprintf(path, sizeof path, "/v1/%s/%s/verify", route(area), id);
    snprintf(user, sizeof user, "%s%s", prefix, !strcmp(area, "archives") ? "clerk" : "agent");
    th_resp_t *r = th_req("GET", path, th_token(user), NULL, NULL);
    if (r->status != 200 || !th_jtrue(r->json, "valid"))
        fprintf(stderr, "%s -> %ld %s\n", path, r->status, r->body);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "entries_checked"), entries);
    th_free(r);
}

/* Verifies every custody item of organisation code; returns how many. */
static int verify_org(const char *code, const char *prefix)
{
    const char *v[] = {code};
    const char *all = th_sql1("SELECT string_agg(i.area || ' ' || i.id || ' ' || i.last_seq, ';' "
                              "ORDER BY i.created_at) FROM custody_items i JOIN organisations o "
                              "ON o.id = i.org_id WHERE o.code = $1",
                              v, 1);
    assert_non_null(all);
    char *copy = strdup(all), *save = NULL;
    int n = 0;
    for (char *row = strtok_r(copy, ";", &save); row; row = strtok_r(NULL, ";", &save)) {
        char area[32], id[40];
        long seq;
        assert_int_equal(sscanf(row, "%31s %39s %ld", area, id, &seq), 3);
        assert_true(seq >= 1);
        verify_ok(prefix, area, id, seq);
        n++;
    }
    free(copy);
    return n;
}

static const char *item_id(const char *area, const char *where)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT i.id FROM custody_items i JOIN organisations o ON o.id = i.org_id WHERE "
             "o.code = 'demo' AND i.area = '%s' AND %s",
             area, where);
    return th_sql1(sql, NULL, 0);
}

static int list_has(const char *who, const char *path, const char *id)
{
    th_resp_t *r = th_req("GET", path, th_token(who), NULL, NULL);
    EXPECT_STATUS(r, 200);
    int found = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), id))
            found = 1;
    }
    th_free(r);
    return found;
}

/* Every ledger of both seeded organisations verifies: keys, mail, lost property and archives
 * (and the valuables deposit where a personal-data key was configured at seed time). */
static void test_every_demo_ledger_verifies(void **state)
{
    (void)state;
    assert_true(verify_org("demo", "") >= 9);
    assert_true(verify_org("other", "other.") >= 9);
    assert_int_equal(th_sql_long("SELECT count(DISTINCT i.area) FROM custody_items i JOIN "
                                 "organisations o ON o.id = i.org_id WHERE o.code = 'demo'",
                                 NULL, 0),
                     4);
}

static void test_demo_registers(void **state)
{
    (void)state;
    /* mail: three items in custody; the registered letter is past its reminder, called once
     * and reminded (the agents have the notification), so the worker leaves it alone */
    assert_int_equal(th_sql_long("SELECT count(*) FROM custody_items i JOIN organisations o ON "
                                 "o.id = i.org_id WHERE o.code = 'demo' AND i.area = 'mail' AND "
                                 "i.state = 'in_custody'",
                                 NULL, 0),
                     3);
    char letter[40];
    snprintf(letter, sizeof letter, "%s", item_id("mail", "i.kind = 'registered_letter'"));
    char path[120];
    snprintf(path, sizeof path, "/v1/mail/%s", letter);
    th_resp_t *r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "overdue"));
    assert_int_equal(th_jn(r->json, "progress.calls"), 1);
    assert_false(th_jnull(r->json, "progress.reminded_at"));
    th_free(r);
    assert_true(list_has("agent", "/v1/mail/uncollected", letter));
    const char *v[] = {letter};
    assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = "
                                 "n.user_id WHERE n.kind = 'custody_mail_reminder' AND "
                                 "n.payload->>'item_id' = $1 AND u.username = 'agent'",
                                 v, 1),
                     1);
    /* a found wallet with the duty manager, awaiting its owner */
    const char *wallet = item_id("lost_property", "i.kind = 'found_item'");
    assert_non_null(wallet);
    char w[40];
    snprintf(w, sizeof w, "%s", wallet);
    assert_true(list_has("agent", "/v1/lost-property/awaiting-owner", w));
    /* archives: one file of each class the desk keeps, the ordinary one on loan to the agent */
    assert_int_equal(th_sql_long("SELECT count(DISTINCT i.kind) FROM custody_items i JOIN "
                                 "organisations o ON o.id = i.org_id WHERE o.code = 'demo' AND "
                                 "i.area = 'archives' AND i.kind IN ('official', 'ordinary', "
                                 "'confidential')",
                                 NULL, 0),
                     3);
    char loan[40];
    snprintf(loan, sizeof loan, "%s", item_id("archives", "i.state = 'on_loan'"));
    assert_true(list_has("clerk", "/v1/archives/on-loan", loan));
    const char *vl[] = {loan};
    assert_int_equal(th_sql_long("SELECT count(*) FROM custody_items i JOIN users u ON u.id = "
                                 "i.holder_id WHERE i.id = $1 AND u.username = 'agent' AND "
                                 "i.kind = 'ordinary' AND i.due_back > now()",
                                 vl, 1),
                     1);
}

static void post_ok(const char *who, const char *area, const char *id, const char *body,
                    const char *member, const char *state)
{
    char path[160], field[64];
    snprintf(path, sizeof path, "/v1/%s/%s/entries", route(area), id);
    th_resp_t *r = th_req("POST", path, th_token(who), body, NULL);
    if (r->status != 201)
        fprintf(stderr, "%s %s -> %ld %s\n", path, body, r->status, r->body);
    EXPECT_STATUS(r, 201);
    snprintf(field, sizeof field, "%s.state", member);
    assert_string_equal(th_js(r->json, field), state);
    th_free(r);
}

/* The service takes the next step from each seeded state, and the chains go on verifying. */
static void test_demo_next_steps(void **state)
{
    (void)state;
    char letter[40], wallet[40], file[40], resident[40];
    snprintf(letter, sizeof letter, "%s", item_id("mail", "i.kind = 'money_order'"));
    snprintf(wallet, sizeof wallet, "%s", item_id("lost_property", "i.kind = 'found_item'"));
    snprintf(file, sizeof file, "%s", item_id("archives", "i.state = 'on_loan'"));
    assert_int_equal(th_fx_resident("demo", "张伟", resident), 0);
    char body[700];
    snprintf(body, sizeof body,
             "{\"action\":\"hand_over\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"id_card\",\"id_number\":\"" DEMO_ID "\"},"
             "\"attachments\":[{\"name\":\"signature.png\"}]}",
             resident);
    post_ok("agent", "mail", letter, body, "mail_item", "collected");
    snprintf(body, sizeof body,
             "{\"action\":\"claim\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"id_card\",\"id_number\":\"" DEMO_ID "\"},\"lost_on\":"
             "\"2026-11-26T21:00:00Z\",\"lost_at\":\"1栋大堂\",\"description\":\"黑色男士钱包，"
             "两张银行卡\",\"attachments\":[{\"name\":\"claim-signature.png\"}]}",
             resident);
    post_ok("agent", "lost_property", wallet, body, "lost_item", "claimed");
    post_ok("agent", "archives", file, "{\"action\":\"return\",\"count\":3}", "archive_file",
            "return_pending");
    post_ok("clerk", "archives", file, "{\"action\":\"return_sign\",\"count\":3}", "archive_file",
            "active");
    verify_ok("", "mail", letter, 2);
    verify_ok("", "lost_property", wallet, 3);
    verify_ok("", "archives", file, 5);
    /* The valuables deposit exists where the seed had a personal-data key (scripts/test.sh
     * gives the template the harness's key); it goes back against the README's ID card. */
    const char *dep = item_id("lost_property", "i.kind = 'valuable_deposit'");
    if (dep) {
        char d[40];
        snprintf(d, sizeof d, "%s", dep);
        snprintf(body, sizeof body,
                 "{\"action\":\"return\",\"counterparty\":{\"kind\":\"resident\","
                 "\"resident_id\":\"%s\",\"id_type\":\"id_card\",\"id_number\":\"" DEMO_ID
                 "\"},\"attachments\":[{\"name\":\"return-signature.png\"}]}",
                 resident);
        post_ok("agent", "lost_property", d, body, "lost_item", "returned");
        verify_ok("", "lost_property", d, 2);
    }
}

/* The custody bodies read booleans and counts through api/validate.c: a wrong one is a 422
 * whose errors[] points at the member. */
static void expect_member_refused(const char *path, const char *body, const char *pointer,
                                  const char *code)
{
    th_resp_t *r = th_req("POST", path, th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 422);
    assert_string_equal(th_js(r->json, "code"), "invalid_field");
    const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->json, "errors"), 0);
    assert_non_null(e0);
    assert_string_equal(th_js(e0, "pointer"), pointer);
    assert_string_equal(th_js(e0, "code"), code);
    th_free(r);
}

static void test_body_members(void **state)
{
    (void)state;
    char path[120], body[300];
    snprintf(path, sizeof path, "/v1/mail/%s/entries", item_id("mail", "i.kind = 'parcel'"));
    expect_member_refused(path, "{\"action\":\"call\",\"reached\":\"yes\"}", "/reached",
                          "invalid_type");
    char project[40], unit[40];
    assert_int_equal(th_fx_project("demo", project), 0);
    assert_int_equal(th_fx_unit("demo", "1-101", unit), 0);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\","
             "\"recipient_name\":\"张伟\",\"resident_out\":true,\"count\":1001}",
             project, unit);
    expect_member_refused("/v1/mail", body, "/count", "out_of_range");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\","
             "\"recipient_name\":\"张伟\",\"resident_out\":true,\"count\":\"2\"}",
             project, unit);
    expect_member_refused("/v1/mail", body, "/count", "invalid_type");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"other\",\"tag\":\"T-1\","
             "\"key_count\":2.5}",
             project);
    expect_member_refused("/v1/keys", body, "/key_count", "out_of_range");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"other\",\"tag\":\"T-1\","
             "\"key_count\":2,\"unit_id\":\"x\"}",
             project);
    expect_member_refused("/v1/keys", body, "/unit_id", "invalid_format");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_demo_ledger_verifies),
        cmocka_unit_test(test_demo_registers),
        cmocka_unit_test(test_demo_next_steps),
        cmocka_unit_test(test_body_members),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
