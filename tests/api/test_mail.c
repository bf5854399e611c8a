/*
 * tests/api/test_mail.c — the mail and parcel register end to end (issue 10, RULES §3.6):
 * receipt only while the recipient is out, hand-over against ID (money orders only against
 * the ID card, the number kept as a keyed hash and the last 4), reminder calls and the
 * uncollected / reminders-due lists, residents limited to their own units, idempotent
 * courier-locker pushes, auditors reading and writing nothing, project scope, and the hash
 * chain's verify after tampering.
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

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

#define ID_NUMBER "110101199003071234"

static char p1[40], p2[40], u101[40], u2101[40], u_p2[40], resident[40];

static int setup(void **state)
{
    (void)state;
    /* the clocks run often, so the reminder of an old item comes within the test */
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=200", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", u101) ||
        th_fx_unit("demo", "2-101", u2101) || th_fx_resident("demo", "张伟", resident))
        return -1;
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'MP2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    char sql[600];
    snprintf(sql, sizeof sql,
             "WITH b AS (INSERT INTO buildings (org_id, project_id, code, name) SELECT org_id, "
             "id, 'MB', 'B' FROM projects WHERE id = '%s' RETURNING org_id, project_id, id) "
             "INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2) SELECT "
             "org_id, project_id, id, 'M-1', 1, 50 FROM b RETURNING id",
             p2);
    return th_grab(u_p2, sql);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void iso(long delta, char out[40])
{
    th_iso_utc(time(NULL) + delta, out);
}

/* Receives an item for unit; its id into dst. */
static void receive(const char *who, const char *project, const char *unit, const char *kind,
                    long delta, char dst[40])
{
    char body[700], t[40];
    iso(delta, t);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"%s\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\",\"mail_number\":\"EMS-%ld\",\"sender_location\":\"北京\",\"count\":1,"
             "\"location\":\"前台邮件架\",\"resident_out\":true,\"occurred_at\":\"%s\"}",
             project, kind, unit, delta, t);
    th_resp_t *r = th_req("POST", "/v1/mail", th_token(who), body, NULL);
    if (r->status != 201)
        fprintf(stderr, "receive -> %ld %s\n", r->status, r->body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "entry.action"), "receive");
    assert_string_equal(th_js(r->json, "mail_item.state"), "in_custody");
    snprintf(dst, 40, "%s", th_js(r->json, "mail_item.id"));
    th_free(r);
}

static th_resp_t *post(const char *who, const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/mail/%s/entries", id);
    return th_req("POST", path, th_token(who), body, NULL);
}

static th_resp_t *get(const char *who, const char *fmt, const char *id)
{
    char path[200];
    snprintf(path, sizeof path, fmt, id);
    return th_req("GET", path, th_token(who), NULL, NULL);
}

static int list_has(const th_resp_t *r, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), id))
            return 1;
    }
    return 0;
}

static const char *handover(const char *id_type)
{
    static char b[600];
    snprintf(b, sizeof b,
             "{\"action\":\"hand_over\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"%s\",\"id_number\":\"" ID_NUMBER "\"},\"attachments\":["
             "{\"name\":\"signature.png\"}]}",
             resident, id_type);
    return b;
}

/* ---- flows -------------------------------------------------------------------------------- */

static void test_receive_and_hand_over(void **state)
{
    (void)state;
    char id[40], body[600];
    /* the desk takes mail in only while the recipient is out */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\",\"resident_out\":false}",
             p1, u101);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("agent"), body, NULL), 422,
                   "resident_not_out");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\"}",
             p1, u101);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("agent"), body, NULL), 422,
                   "resident_not_out");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"recipient_name\":\"张伟\","
             "\"resident_out\":true}",
             p1);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("agent"), body, NULL), 422, "missing_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"pigeon\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\",\"resident_out\":true}",
             p1, u101);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("agent"), body, NULL), 422, NULL);
    /* a unit of another project */
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\",\"resident_out\":true}",
             p1, u_p2);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("agent"), body, NULL), 422, "invalid_field");

    receive("agent", p1, u101, "registered_letter", -600, id);
    th_resp_t *r = get("agent", "/v1/mail/%s", id);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "register.mail_number"), "EMS--600");
    assert_string_equal(th_js(r->json, "register.recipient_name"), "张伟");
    assert_string_equal(th_js(r->json, "unit_id"), u101);
    time_t due = th_parse_utc(th_js(r->json, "due_back"));
    assert_true(due >= time(NULL) + 2 * 86400 - 700 && due <= time(NULL) + 2 * 86400);
    th_free(r);

    /* hand-over: collector named, ID checked, signature attached */
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"hand_over\"}"), 422, "collector_required");
    snprintf(body, sizeof body,
             "{\"action\":\"hand_over\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\"},\"attachments\":[{\"name\":\"sig.png\"}]}",
             resident);
    EXPECT_PROBLEM(post("agent", id, body), 422, "id_required");
    snprintf(body, sizeof body,
             "{\"action\":\"hand_over\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":"
             "\"%s\",\"id_type\":\"id_card\",\"id_number\":\"" ID_NUMBER "\"}}",
             resident);
    EXPECT_PROBLEM(post("agent", id, body), 422, "signature_required");
    EXPECT_PROBLEM(post("security", id, handover("id_card")), 403, "forbidden_role");
    r = post("agent", id, handover("passport"));
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "mail_item.state"), "collected");
    assert_string_equal(th_js(r->json, "entry.counterparty.id_last4"), "1234");
    assert_true(strncmp(th_js(r->json, "entry.counterparty.id_hash"), "pii1$", 5) == 0);
    assert_true(th_jnull(r->json, "entry.counterparty.id_number"));
    assert_true(th_jnull(r->json, "mail_item.due_back"));
    th_free(r);
    /* the full number is stored nowhere */
    const char *v[] = {"%" ID_NUMBER "%"};
    assert_int_equal(th_sql_long("SELECT count(*) FROM custody_entries WHERE counterparty::text "
                                 "LIKE $1 OR details::text LIKE $1",
                                 v, 1),
                     0);
    /* a collected item takes only corrections and notes */
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"call\",\"reached\":true}"), 409, "closed_item");
    r = post("agent", id, "{\"action\":\"note\",\"purpose\":\"resident confirmed\"}");
    EXPECT_STATUS(r, 201);
    th_free(r);
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"receive\"}"), 422, NULL);
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"hand_over\",\"bogus\":1}"), 422,
                   "unknown_field");
}

static void test_money_order_needs_id_card(void **state)
{
    (void)state;
    char id[40];
    receive("clerk", p1, u101, "money_order", -300, id);
    EXPECT_PROBLEM(post("agent", id, handover("passport")), 422, "id_card_required");
    th_resp_t *r = post("agent", id, handover("id_card"));
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "entry.counterparty.id_type"), "id_card");
    assert_string_equal(th_js(r->json, "mail_item.state"), "collected");
    th_free(r);
}

static void test_reminder_calls(void **state)
{
    (void)state;
    char old[40], fresh[40];
    receive("agent", p1, u101, "parcel", -3 * 86400, old);
    receive("agent", p1, u101, "express", -60, fresh);
    th_resp_t *r = th_req("GET", "/v1/mail/reminders-due", th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, old));
    assert_false(list_has(r, fresh));
    th_free(r);
    r = th_req("GET", "/v1/mail/uncollected", th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, old));
    assert_true(list_has(r, fresh));
    th_free(r);
    /* each call is an entry, reached or not */
    EXPECT_PROBLEM(post("agent", old, "{\"action\":\"call\"}"), 422, "reached_required");
    r = post("agent", old,
             "{\"action\":\"call\",\"reached\":false,\"purpose\":\"no answer on 138…\"}");
    EXPECT_STATUS(r, 201);
    assert_int_equal(th_jn(r->json, "mail_item.progress.calls"), 1);
    assert_false(th_jtrue(r->json, "mail_item.progress.last_call.reached"));
    assert_true(th_jtrue(r->json, "entry.details.reached") == 0);
    th_free(r);
    r = post("agent", old, "{\"action\":\"call\",\"reached\":true}");
    EXPECT_STATUS(r, 201);
    assert_int_equal(th_jn(r->json, "mail_item.progress.calls"), 2);
    assert_true(th_jtrue(r->json, "mail_item.overdue"));
    th_free(r);
    r = get("auditor", "/v1/mail/%s/entries", old);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r->json, "items")), 3);
    th_free(r);
    /* returned to the sender with a reason; it leaves the lists */
    EXPECT_PROBLEM(post("agent", old, "{\"action\":\"return_to_sender\"}"), 422, "reason_required");
    r = post("agent", old, "{\"action\":\"return_to_sender\",\"purpose\":\"moved away\"}");
    EXPECT_STATUS(r, 201);
    th_free(r);
    r = th_req("GET", "/v1/mail/uncollected", th_token("agent"), NULL, NULL);
    assert_false(list_has(r, old));
    th_free(r);
}

static void test_residents_see_their_units(void **state)
{
    (void)state;
    char mine[40], neighbour[40];
    receive("agent", p1, u101, "parcel", -120, mine);
    receive("agent", p1, u2101, "parcel", -120, neighbour);
    th_resp_t *r = th_req("GET", "/v1/mail", th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, mine));
    assert_false(list_has(r, neighbour));
    th_free(r);
    r = th_req("GET", "/v1/mail", th_token("resident2"), NULL, NULL);
    assert_false(list_has(r, mine));
    assert_true(list_has(r, neighbour));
    th_free(r);
    r = get("resident", "/v1/mail/%s", mine);
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = get("resident", "/v1/mail/%s/entries", mine);
    EXPECT_STATUS(r, 200);
    th_free(r);
    EXPECT_PROBLEM(get("resident", "/v1/mail/%s", neighbour), 404, "not_found");
    EXPECT_PROBLEM(get("resident", "/v1/mail/%s/entries", neighbour), 404, "not_found");
    EXPECT_PROBLEM(post("resident", mine, "{\"action\":\"note\",\"purpose\":\"x\"}"), 403, NULL);
    r = th_req("GET", "/v1/mail/uncollected", th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, mine));
    assert_false(list_has(r, neighbour));
    th_free(r);
    /* technicians have no business with the mail register */
    EXPECT_PROBLEM(th_req("GET", "/v1/mail", th_token("technician"), NULL, NULL), 403, NULL);
}

static void test_locker_push_idempotent(void **state)
{
    (void)state;
    char body[600];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"express\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\",\"location\":\"丰巢 A-12\"}",
             p1, u101);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("integration"), body, NULL), 422,
                   "missing_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"express\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\",\"location\":\"丰巢 A-12\",\"external_ref\":\"locker-778899\"}",
             p1, u101);
    th_resp_t *r = th_req("POST", "/v1/mail", th_token("integration"), body, NULL);
    EXPECT_STATUS(r, 201);
    char id[40];
    snprintf(id, sizeof id, "%s", th_js(r->json, "mail_item.id"));
    assert_string_equal(th_js(r->json, "mail_item.external_ref"), "locker-778899");
    assert_string_equal(th_js(r->json, "entry.actor_role"), "integration");
    th_free(r);
    r = th_req("POST", "/v1/mail", th_token("integration"), body, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "mail_item.id"), id);
    assert_true(th_jnull(r->json, "entry"));
    th_free(r);
    const char *v[] = {"locker-778899"};
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM custody_items WHERE external_ref = $1", v, 1), 1);
    /* the integration pushes; it hands nothing over */
    EXPECT_PROBLEM(post("integration", id, handover("id_card")), 403, NULL);
    /* staff may not pose as a locker either way: the push is only for integrations */
    EXPECT_PROBLEM(th_req("GET", "/v1/mail", th_token("integration"), NULL, NULL), 403, NULL);
}

/* The same push from several locker connections at once: one item, one 201, the rest 200. */
#define PUSHERS 8
static char push_body[600];
static const char *push_token;
static long push_status[PUSHERS];
static char push_id[PUSHERS][40];

static void *pusher(void *arg)
{
    long i = (long)(intptr_t)arg;
    th_resp_t *r = th_req_mt("POST", "/v1/mail", push_token, push_body, NULL);
    push_status[i] = r->status;
    snprintf(push_id[i], 40, "%s", th_js(r->json, "mail_item.id"));
    th_free(r);
    return NULL;
}

static void test_concurrent_pushes(void **state)
{
    (void)state;
    snprintf(push_body, sizeof push_body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"张伟\",\"external_ref\":\"locker-race-1\"}",
             p1, u101);
    push_token = th_token("integration");
    pthread_t t[PUSHERS];
    for (long i = 0; i < PUSHERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, pusher, (void *)(intptr_t)i), 0);
    int created = 0, replayed = 0;
    for (int i = 0; i < PUSHERS; i++) {
        pthread_join(t[i], NULL);
        if (push_status[i] == 201)
            created++;
        else if (push_status[i] == 200)
            replayed++;
        else
            fprintf(stderr, "pusher %d: %ld\n", i, push_status[i]);
        assert_string_equal(push_id[i], push_id[0]);
    }
    assert_int_equal(created, 1);
    assert_int_equal(replayed, PUSHERS - 1);
    const char *v[] = {"locker-race-1"};
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM custody_items WHERE external_ref = $1", v, 1), 1);
}

static void test_auditor_and_project_scope(void **state)
{
    (void)state;
    char id[40], other[40], body[600];
    receive("agent", p1, u101, "newspaper", -60, id);
    receive("gm", p2, u_p2, "magazine", -60, other);
    th_resp_t *r = th_req("GET", "/v1/mail", th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, id));
    assert_true(list_has(r, other));
    th_free(r);
    r = get("auditor", "/v1/mail/%s/verify", other);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "valid"));
    th_free(r);
    EXPECT_PROBLEM(post("auditor", id, "{\"action\":\"note\",\"purpose\":\"x\"}"), 403, NULL);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"x\",\"resident_out\":true}",
             p1, u101);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("auditor"), body, NULL), 403, NULL);
    /* the agent of P1 sees nothing of P2 */
    EXPECT_PROBLEM(get("agent", "/v1/mail/%s", other), 404, "not_found");
    EXPECT_PROBLEM(post("agent", other, "{\"action\":\"note\",\"purpose\":\"x\"}"), 404,
                   "not_found");
    r = th_req("GET", "/v1/mail", th_token("agent"), NULL, NULL);
    assert_false(list_has(r, other));
    th_free(r);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"parcel\",\"unit_id\":\"%s\",\"recipient_name\":"
             "\"x\",\"resident_out\":true}",
             p2, u_p2);
    EXPECT_PROBLEM(th_req("POST", "/v1/mail", th_token("agent"), body, NULL), 404, NULL);
    /* another organisation's agent neither */
    EXPECT_PROBLEM(get("other.agent", "/v1/mail/%s", id), 404, "not_found");
}

static void test_tamper_detected(void **state)
{
    (void)state;
    char id[40], sql[300];
    receive("agent", p1, u101, "parcel", -60, id);
    th_resp_t *r = post("agent", id, "{\"action\":\"call\",\"reached\":false}");
    EXPECT_STATUS(r, 201);
    th_free(r);
    PGresult *res = PQexec(th_db(), "SET session_replication_role = replica");
    PQclear(res);
    snprintf(sql, sizeof sql,
             "UPDATE custody_entries SET details = '{\"reached\": true}' WHERE item_id = '%s' AND "
             "seq = 2",
             id);
    res = PQexec(th_db(), sql);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = PQexec(th_db(), "RESET session_replication_role");
    PQclear(res);
    r = get("manager", "/v1/mail/%s/verify", id);
    EXPECT_STATUS(r, 200);
    assert_false(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "first_broken.seq"), 2);
    assert_string_equal(th_js(r->json, "first_broken.problem"), "hash_mismatch");
    assert_string_equal(th_js(r->json, "mail_item_id"), id);
    th_free(r);
}

static long patch_project(const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/projects/%s", id);
    th_resp_t *g = th_req("GET", path, th_token("admin"), NULL, NULL);
    assert_int_equal(g->status, 200);
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", th_header(g, "ETag"));
    th_free(g);
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req("PATCH", path, th_token("admin"), body, h);
    long st = r->status;
    th_free(r);
    return st;
}

/* A project sets its own reminder delay; without it the server's (2 days) holds. */
static void test_project_reminder_days(void **state)
{
    (void)state;
    assert_int_equal(patch_project(p2, "{\"mail_remind_days\":0}"), 422);
    assert_int_equal(patch_project(p2, "{\"mail_remind_days\":61}"), 422);
    assert_int_equal(patch_project(p2, "{\"mail_remind_days\":5}"), 200);
    char id[40];
    receive("gm", p2, u_p2, "parcel", -60, id);
    th_resp_t *r = get("gm", "/v1/mail/%s", id);
    time_t due = th_parse_utc(th_js(r->json, "due_back"));
    assert_true(due >= time(NULL) + 5 * 86400 - 200 && due <= time(NULL) + 5 * 86400);
    th_free(r);
    r = get("gm", "/v1/projects/%s", p2);
    assert_int_equal(th_jn(r->json, "mail_remind_days"), 5);
    assert_true(th_jnull(r->json, "lost_unclaimed_days"));
    th_free(r);
    assert_int_equal(patch_project(p2, "{\"mail_remind_days\":null}"), 200);
}

/* Each remaining rule's refusal through the API, on one item in custody. */
static void test_refusals(void **state)
{
    (void)state;
    char id[40], other[40], body[400];
    receive("agent", p1, u101, "parcel", -600, id);
    receive("agent", p1, u101, "parcel", -600, other);
    th_resp_t *r = post("agent", other, "{\"action\":\"note\",\"purpose\":\"x\"}");
    char foreign[40];
    snprintf(foreign, sizeof foreign, "%s", th_js(r->json, "entry.id"));
    th_free(r);
    char future[40];
    iso(3600, future);
    static const struct {
        const char *who, *body;
        long status;
        const char *code;
    } cases[] = {
        {"agent", "{\"action\":\"hand_to_other\",\"purpose\":\"neighbour\"}", 422,
         "counterparty_required"},
        {"agent",
         "{\"action\":\"hand_to_other\",\"purpose\":\"neighbour\",\"counterparty\":{\"kind\":"
         "\"outsider\",\"name\":\"王\",\"phone\":\"1\"}}",
         422, "id_required"},
        {"agent",
         "{\"action\":\"hand_to_other\",\"counterparty\":{\"kind\":\"outsider\",\"name\":"
         "\"王\",\"phone\":\"1\",\"id_type\":\"id_card\",\"id_number\":\"123456\"}}",
         422, "reason_required"},
        {"agent", "{\"action\":\"correction\",\"purpose\":\"typo\"}", 422, "corrects_required"},
        {"agent", "{\"action\":\"note\"}", 422, "purpose_required"},
        {"technician", "{\"action\":\"call\",\"reached\":true}", 403, "forbidden_role"},
        {"agent", "{\"action\":\"call\",\"reached\":\"yes\"}", 422, "invalid_field"},
        {"agent",
         "{\"action\":\"hand_over\",\"counterparty\":{\"kind\":\"outsider\",\"name\":\"王\","
         "\"phone\":\"1\",\"id_number\":\"123456\"}}",
         422, "missing_field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = post(cases[i].who, id, cases[i].body);
        if (r->status != cases[i].status)
            fprintf(stderr, "case %zu: %ld %s\n", i, r->status, r->body);
        EXPECT_PROBLEM(r, cases[i].status, cases[i].code);
    }
    snprintf(body, sizeof body, "{\"action\":\"call\",\"reached\":true,\"occurred_at\":\"%s\"}",
             future);
    EXPECT_PROBLEM(post("agent", id, body), 422, NULL);
    snprintf(body, sizeof body,
             "{\"action\":\"correction\",\"purpose\":\"typo\",\"corrects\":\"%s\"}", foreign);
    EXPECT_PROBLEM(post("agent", id, body), 422, "invalid_field");
    /* nothing of it was written */
    const char *v[] = {id};
    assert_int_equal(th_sql_long("SELECT count(*) FROM custody_entries WHERE item_id = $1", v, 1),
                     1);
    r = post("agent", id,
             "{\"action\":\"hand_to_other\",\"purpose\":\"neighbour keeps it\",\"counterparty\":"
             "{\"kind\":\"outsider\",\"name\":\"王\",\"phone\":\"1\",\"relation\":"
             "\"neighbour\",\"id_type\":\"id_card\",\"id_number\":\"123456\"}}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "mail_item.state"), "handed_to_other");
    assert_string_equal(th_js(r->json, "entry.counterparty.relation"), "neighbour");
    th_free(r);
}

/* The desk is reminded once of an item uncollected for two days: the project's agents get a
 * notification, the item shows `reminded_at`; a fresh item is left alone. */
static void test_reminder_task(void **state)
{
    (void)state;
    char old[40], fresh[40];
    receive("agent", p1, u101, "parcel", -2 * 86400 - 600, old);
    receive("agent", p1, u101, "parcel", -600, fresh);
    const char *v[] = {old};
    long n = 0;
    for (int i = 0; i < 300 && n == 0; i++) { /* liveness only: up to 30 s */
        n = th_sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                        "WHERE n.kind = 'custody_mail_reminder' AND n.payload->>'item_id' = $1 "
                        "AND u.username = 'agent'",
                        v, 1);
        if (n == 0)
            nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    assert_int_equal(n, 1);
    th_resp_t *r = get("agent", "/v1/mail/%s", old);
    assert_false(th_jnull(r->json, "progress.reminded_at"));
    th_free(r);
    r = get("agent", "/v1/mail/%s", fresh);
    assert_true(th_jnull(r->json, "progress.reminded_at"));
    th_free(r);
    /* once only, however many rounds pass */
    nanosleep(&(struct timespec){0, 600000000}, NULL);
    assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = "
                                 "n.user_id WHERE n.kind = 'custody_mail_reminder' AND "
                                 "n.payload->>'item_id' = $1 AND u.username = 'agent'",
                                 v, 1),
                     1);
    /* the reminder is not an entry: the ledger keeps only what people did */
    assert_int_equal(th_sql_long("SELECT count(*) FROM custody_entries WHERE item_id = $1", v, 1),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receive_and_hand_over),
        cmocka_unit_test(test_money_order_needs_id_card),
        cmocka_unit_test(test_reminder_calls),
        cmocka_unit_test(test_residents_see_their_units),
        cmocka_unit_test(test_locker_push_idempotent),
        cmocka_unit_test(test_concurrent_pushes),
        cmocka_unit_test(test_auditor_and_project_scope),
        cmocka_unit_test(test_tamper_detected),
        cmocka_unit_test(test_reminder_task),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_project_reminder_days),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
