/*
 * tests/api/test_archives.c — the archive register end to end (issue 10, RULES §3.5):
 * personnel files refused to the desk, official documents read on site only, confidential
 * files read only with the GM's approval and never lent or copied, loans counted and signed
 * face to face at loan and at return (each signature its own call), overdue loans listed, a
 * user with open loans not deactivated, the monthly inventory's discrepancy list, destruction
 * after retention with the right approval and method; role and project scope; the daily
 * head-hash export.
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

static char p1[40], p2[40], u_agent[40], u_supervisor[40];

static int setup(void **state)
{
    (void)state;
    /* the custody clocks run often, so overdue reminders come within a test */
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=200", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_user("agent", u_agent) ||
        th_fx_user("supervisor", u_supervisor))
        return -1;
    return th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                       "SELECT org_id, 'AP2', '翠湖大厦', time_zone, business_hours FROM projects "
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

static th_resp_t *file(const char *who, const char *project, const char *cls, const char *number,
                       long retention_delta)
{
    char body[800], t[40], ret[80] = "";
    iso(-5 * 86400, t);
    if (retention_delta) {
        char rt[40];
        iso(retention_delta, rt);
        snprintf(ret, sizeof ret, ",\"retention_until\":\"%s\"", rt);
    }
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"number\":\"%s\",\"title\":\"1 号楼业主入伙资料\","
             "\"classification\":\"%s\",\"category\":\"owner_data\",\"location\":\"柜 A / 层 2 / "
             "位 5\",\"count\":3,\"original\":true,\"occurred_at\":\"%s\"%s}",
             project, number, cls, t, ret);
    return th_req("POST", "/v1/archives", th_token(who), body, NULL);
}

static void reg(const char *project, const char *cls, const char *number, long retention,
                char dst[40])
{
    th_resp_t *r = file("clerk", project, cls, number, retention);
    if (r->status != 201)
        r = (th_free(r), file("gm", project, cls, number, retention));
    if (r->status != 201)
        fprintf(stderr, "register -> %ld %s\n", r->status, r->body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "archive_file.state"), "active");
    snprintf(dst, 40, "%s", th_js(r->json, "archive_file.id"));
    th_free(r);
}

/* The first element of the array at path. */
static const cJSON *first(const cJSON *j, const char *path)
{
    return cJSON_GetArrayItem(th_jpath(j, path), 0);
}

static th_resp_t *post(const char *who, const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/archives/%s/entries", id);
    return th_req("POST", path, th_token(who), body, NULL);
}

static void ok(const char *who, const char *id, const char *body, const char *state)
{
    th_resp_t *r = post(who, id, body);
    if (r->status != 201)
        fprintf(stderr, "%s %s -> %ld %s\n", who, body, r->status, r->body);
    EXPECT_STATUS(r, 201);
    if (state)
        assert_string_equal(th_js(r->json, "archive_file.state"), state);
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

static const char *loan_body(const char *user, long due_delta, int count)
{
    static char b[400];
    char due[40];
    iso(due_delta, due);
    snprintf(b, sizeof b,
             "{\"action\":\"loan\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"},"
             "\"purpose\":\"核对入伙资料\",\"due_back\":\"%s\",\"count\":%d}",
             user, due, count);
    return b;
}

static int patch_user_active(const char *id, int active)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/users/%s", id);
    th_resp_t *g = th_req("GET", path, th_token("admin"), NULL, NULL);
    assert_int_equal(g->status, 200);
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", th_header(g, "ETag"));
    th_free(g);
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req("PATCH", path, th_token("admin"),
                          active ? "{\"active\":true}" : "{\"active\":false}", h);
    int st = (int)r->status;
    if (st == 409)
        assert_string_equal(th_js(r->json, "code"), "open_loans");
    th_free(r);
    return st;
}

static void test_classification_rules(void **state)
{
    (void)state;
    char off[40], conf[40], body[400];
    /* personnel files are not the desk's at all */
    EXPECT_PROBLEM(file("clerk", p1, "personnel", "HR-1", 0), 403, "personnel_file");
    EXPECT_PROBLEM(file("gm", p1, "personnel", "HR-2", 0), 403, "personnel_file");
    th_resp_t *r = th_req("POST", "/v1/archives", th_token("clerk"),
                          "{\"project_id\":\"00000000-0000-0000-0000-000000000000\",\"number\":"
                          "\"X\",\"title\":\"t\",\"classification\":\"ordinary\",\"location\":"
                          "\"l\",\"original\":false}",
                          NULL);
    EXPECT_PROBLEM(r, 422, NULL);
    /* official documents: read on site, never lent */
    reg(p1, "official", "WS-2026-001", 0, off);
    EXPECT_PROBLEM(post("clerk", off, loan_body(u_agent, 86400, 3)), 409, "official_read_only");
    snprintf(body, sizeof body,
             "{\"action\":\"read_start\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"},"
             "\"purpose\":\"查阅发文\"}",
             u_agent);
    ok("clerk", off, body, "reading");
    ok("clerk", off, "{\"action\":\"read_end\"}", "active");
    /* confidential: on site with the GM's approval for this reader, never lent or copied */
    reg(p1, "confidential", "BM-2026-001", 0, conf);
    snprintf(body, sizeof body,
             "{\"action\":\"read_start\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"},"
             "\"purpose\":\"核查\"}",
             u_supervisor);
    EXPECT_PROBLEM(post("clerk", conf, body), 409, "approval_required");
    char appr[300];
    snprintf(appr, sizeof appr,
             "{\"action\":\"read_approve\",\"counterparty\":{\"kind\":\"user\",\"user_id\":"
             "\"%s\"}}",
             u_supervisor);
    EXPECT_PROBLEM(post("manager", conf, appr), 403, "approver_not_gm");
    r = post("gm", conf, appr);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(first(r->json, "entry.approvals"), "role"), "gm");
    th_free(r);
    ok("clerk", conf, body, "reading");
    ok("clerk", conf, "{\"action\":\"read_end\"}", "active");
    /* the approval was used up by that reading */
    EXPECT_PROBLEM(post("clerk", conf, body), 409, "approval_required");
    EXPECT_PROBLEM(post("clerk", conf, "{\"action\":\"copy\",\"purpose\":\"x\"}"), 409,
                   "confidential_never_copied");
    EXPECT_PROBLEM(post("clerk", conf, loan_body(u_agent, 86400, 3)), 409,
                   "confidential_never_lent");
}

static void test_loan_two_signatures(void **state)
{
    (void)state;
    char id[40];
    reg(p1, "ordinary", "PT-2026-001", 0, id);
    /* outsiders never take a file out of the company */
    EXPECT_PROBLEM(post("clerk", id,
                        "{\"action\":\"loan\",\"counterparty\":{\"kind\":\"outsider\",\"name\":"
                        "\"外单位\",\"phone\":\"123\"},\"purpose\":\"x\",\"due_back\":"
                        "\"2099-01-01T00:00:00Z\",\"count\":3}"),
                   422, "borrower_not_staff");
    EXPECT_PROBLEM(post("clerk", id, loan_body(u_agent, 86400, 0)), 422, "count_required");
    EXPECT_PROBLEM(post("security", id, loan_body(u_agent, 86400, 3)), 403, "forbidden_role");
    ok("clerk", id, loan_body(u_agent, 86400, 3), "loan_pending");
    /* the borrower signs with their own login, after counting the same pieces */
    EXPECT_PROBLEM(post("supervisor", id, "{\"action\":\"loan_sign\",\"count\":3}"), 403,
                   "not_borrower");
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"loan_sign\",\"count\":2}"), 409,
                   "count_mismatch");
    th_resp_t *r = post("agent", id, "{\"action\":\"loan_sign\",\"count\":3}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "archive_file.state"), "on_loan");
    assert_string_equal(th_js(r->json, "archive_file.holder_id"), u_agent);
    assert_string_equal(th_js(first(r->json, "entry.witnesses"), "signed"), "loan");
    th_free(r);
    assert_true(list_has("clerk", "/v1/archives/on-loan", id));
    /* a borrower with an open loan is not deactivated */
    assert_int_equal(patch_user_active(u_agent, 0), 409);
    /* return: the borrower signs, then the clerk counts and counter-signs */
    EXPECT_PROBLEM(post("clerk", id, "{\"action\":\"return\",\"count\":3}"), 403, "not_borrower");
    ok("agent", id, "{\"action\":\"return\",\"count\":3}", "return_pending");
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"return_sign\",\"count\":3}"), 403,
                   "not_keeper");
    EXPECT_PROBLEM(post("clerk", id, "{\"action\":\"return_sign\",\"count\":1}"), 409,
                   "count_mismatch");
    ok("clerk", id, "{\"action\":\"return_sign\",\"count\":3}", "active");
    assert_false(list_has("clerk", "/v1/archives/on-loan", id));
}

static void test_overdue_and_inventory(void **state)
{
    (void)state;
    char id[40], id2[40], body[500], t[40], due[40];
    reg(p1, "ordinary", "PT-2026-002", 0, id);
    iso(-3 * 86400, t);
    iso(-86400, due);
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"},"
             "\"purpose\":\"x\",\"due_back\":\"%s\",\"count\":1,\"occurred_at\":\"%s\"}",
             u_supervisor, due, t);
    ok("clerk", id, body, "loan_pending");
    ok("supervisor", id, "{\"action\":\"loan_sign\",\"count\":1}", "on_loan");
    assert_true(list_has("manager", "/v1/archives/overdue", id));
    /* monthly inventory: a file missing from its place opens a discrepancy */
    reg(p1, "ordinary", "PT-2026-003", 0, id2);
    EXPECT_PROBLEM(post("clerk", id2, "{\"action\":\"inventory\"}"), 422, "present_required");
    ok("clerk", id2, "{\"action\":\"inventory\",\"present\":false}", "active");
    ok("clerk", id, "{\"action\":\"inventory\",\"present\":false}", "on_loan");
    assert_true(list_has("clerk", "/v1/archives/discrepancies", id2));
    assert_false(list_has("clerk", "/v1/archives/discrepancies", id));
    EXPECT_PROBLEM(post("clerk", id2, "{\"action\":\"resolve_discrepancy\",\"purpose\":\"x\"}"),
                   403, "forbidden_role");
    ok("manager", id2, "{\"action\":\"resolve_discrepancy\",\"purpose\":\"misfiled, found\"}",
       "active");
    assert_false(list_has("clerk", "/v1/archives/discrepancies", id2));
}

static void test_destruction(void **state)
{
    (void)state;
    char keep[40], old[40], conf[40];
    reg(p1, "ordinary", "XH-1", 365 * 86400, keep);
    EXPECT_PROBLEM(post("director", keep, "{\"action\":\"destroy_approve\"}"), 409,
                   "retention_not_ended");
    reg(p1, "ordinary", "XH-2", -86400, old);
    EXPECT_PROBLEM(post("clerk", old, "{\"action\":\"destroy\",\"method\":\"tear\"}"), 409,
                   "approval_required");
    EXPECT_PROBLEM(post("manager", old, "{\"action\":\"destroy_approve\"}"), 403,
                   "approver_not_director");
    ok("director", old, "{\"action\":\"destroy_approve\"}", "active");
    EXPECT_PROBLEM(post("clerk", old, "{\"action\":\"destroy\"}"), 422, "method_required");
    EXPECT_PROBLEM(post("clerk", old, "{\"action\":\"destroy\",\"method\":\"burn\"}"), 422, NULL);
    th_resp_t *r = post("clerk", old, "{\"action\":\"destroy\",\"method\":\"tear\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "archive_file.state"), "destroyed");
    assert_string_equal(th_js(r->json, "entry.details.method"), "tear");
    assert_false(th_jnull(first(r->json, "entry.approvals"), "user_id"));
    th_free(r);
    EXPECT_PROBLEM(post("clerk", old, "{\"action\":\"read_start\",\"purpose\":\"x\"}"), 409,
                   "closed_item");
    reg(p1, "confidential", "XH-3", -86400, conf);
    EXPECT_PROBLEM(post("director", conf, "{\"action\":\"destroy_approve\"}"), 403,
                   "approver_not_gm");
    ok("gm", conf, "{\"action\":\"destroy_approve\"}", "active");
    EXPECT_PROBLEM(post("clerk", conf, "{\"action\":\"destroy\",\"method\":\"tear\"}"), 422,
                   "shred_required");
    ok("clerk", conf, "{\"action\":\"destroy\",\"method\":\"shred\"}", "destroyed");
}

static void test_roles_and_scope(void **state)
{
    (void)state;
    char id[40], other[40], path[128];
    reg(p1, "ordinary", "SC-1", 0, id);
    reg(p2, "ordinary", "SC-2", 0, other); /* the clerk works in P1 only: the GM files it */
    snprintf(path, sizeof path, "/v1/archives/%s", other);
    EXPECT_PROBLEM(th_req("GET", path, th_token("clerk"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(post("clerk", other, "{\"action\":\"note\",\"purpose\":\"x\"}"), 404,
                   "not_found");
    assert_false(list_has("clerk", "/v1/archives", other));
    assert_true(list_has("clerk", "/v1/archives", id));
    /* nobody outside the desk reads the archive register; auditors read and write nothing */
    EXPECT_PROBLEM(th_req("GET", "/v1/archives", th_token("resident"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/archives", th_token("technician"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/archives", th_token("security"), NULL, NULL), 403, NULL);
    assert_true(list_has("auditor", "/v1/archives", other));
    EXPECT_PROBLEM(post("auditor", id, "{\"action\":\"note\",\"purpose\":\"x\"}"), 403, NULL);
    EXPECT_PROBLEM(file("auditor", p1, "ordinary", "SC-3", 0), 403, NULL);
    snprintf(path, sizeof path, "/v1/archives/%s/verify", id);
    th_resp_t *r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "valid"));
    assert_string_equal(th_js(r->json, "archive_file_id"), id);
    th_free(r);
    /* the same number twice in a project */
    EXPECT_PROBLEM(file("clerk", p1, "ordinary", "SC-1", 0), 409, NULL);
}

/* Waits (liveness only, up to 30 s) until the user has n overdue reminders for the file. */
static long wait_reminders(const char *file, const char *user, long n)
{
    const char *v[] = {file, user};
    long got = 0;
    for (int i = 0; i < 300; i++) {
        got = th_sql_long("SELECT count(*) FROM notifications WHERE kind = "
                          "'custody_archive_overdue' AND payload->>'item_id' = $1 AND user_id = $2",
                          v, 2);
        if (got >= n)
            break;
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    return got;
}

static const char *at(const char *action, long delta, const char *extra)
{
    static char b[400];
    char t[40];
    iso(delta, t);
    snprintf(b, sizeof b, "{\"action\":\"%s\",\"occurred_at\":\"%s\"%s}", action, t, extra);
    return b;
}

/* An overdue loan is chased: the borrower is reminded once per loan, a later loan again. */
static void test_overdue_loans_chased(void **state)
{
    (void)state;
    char id[40], body[500], t[40], due[40];
    reg(p1, "ordinary", "CH-1", 0, id);
    iso(-4 * 86400, t);
    iso(-3 * 86400, due);
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"},"
             "\"purpose\":\"x\",\"due_back\":\"%s\",\"count\":1,\"occurred_at\":\"%s\"}",
             u_supervisor, due, t);
    ok("clerk", id, body, "loan_pending");
    ok("supervisor", id, at("loan_sign", -4 * 86400 + 60, ",\"count\":1"), "on_loan");
    assert_int_equal(wait_reminders(id, u_supervisor, 1), 1);
    ok("supervisor", id, at("return", -4 * 86400 + 120, ",\"count\":1"), "return_pending");
    ok("clerk", id, at("return_sign", -4 * 86400 + 180, ",\"count\":1"), "active");
    iso(-4 * 86400 + 240, t);
    iso(-2 * 86400, due);
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"},"
             "\"purpose\":\"y\",\"due_back\":\"%s\",\"count\":1,\"occurred_at\":\"%s\"}",
             u_supervisor, due, t);
    ok("clerk", id, body, "loan_pending");
    ok("supervisor", id, at("loan_sign", -4 * 86400 + 300, ",\"count\":1"), "on_loan");
    assert_int_equal(wait_reminders(id, u_supervisor, 2), 2);
}

/* Each remaining rule's refusal through the API. */
static void test_refusals(void **state)
{
    (void)state;
    char id[40], conf[40], old[40], body[400];
    reg(p1, "ordinary", "RF-1", 0, id);
    reg(p1, "confidential", "RF-2", 0, conf);
    reg(p1, "ordinary", "RF-3", -86400, old);
    char clerk[40];
    assert_int_equal(th_fx_user("clerk", clerk), 0);
    EXPECT_PROBLEM(post("clerk", id, loan_body(clerk, 86400, 3)), 403, "self_loan");
    EXPECT_PROBLEM(post("clerk", id, loan_body(u_agent, -60, 3)), 422, "due_back_required");
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"},"
             "\"due_back\":\"2099-01-01T00:00:00Z\",\"count\":3}",
             u_agent);
    EXPECT_PROBLEM(post("clerk", id, body), 422, "purpose_required");
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"loan_sign\",\"count\":3}"), 409,
                   "nothing_to_sign");
    EXPECT_PROBLEM(post("clerk", id, "{\"action\":\"return_sign\",\"count\":3}"), 409,
                   "nothing_to_sign");
    EXPECT_PROBLEM(post("agent", id, "{\"action\":\"return\",\"count\":3}"), 409, "not_on_loan");
    EXPECT_PROBLEM(post("gm", id, "{\"action\":\"read_approve\"}"), 409, "no_approval_needed");
    EXPECT_PROBLEM(post("gm", conf, "{\"action\":\"read_approve\"}"), 422, "reader_required");
    EXPECT_PROBLEM(post("manager", id, "{\"action\":\"resolve_discrepancy\",\"purpose\":\"x\"}"),
                   409, "no_discrepancy");
    EXPECT_PROBLEM(post("clerk", id, "{\"action\":\"read_start\"}"), 422, "purpose_required");
    EXPECT_PROBLEM(post("clerk", id, "{\"action\":\"read_end\"}"), 409, "not_reading");
    EXPECT_PROBLEM(post("clerk", id, "{\"action\":\"copy\"}"), 422, "purpose_required");
    EXPECT_PROBLEM(post("security", id, "{\"action\":\"inventory\",\"present\":true}"), 403,
                   "forbidden_role");
    EXPECT_PROBLEM(post("clerk", id, "{\"action\":\"loan\",\"count\":-1}"), 422, NULL);
    /* a file out on loan is neither lent again nor destroyed */
    ok("director", old, "{\"action\":\"destroy_approve\"}", "active");
    ok("clerk", old, loan_body(u_agent, 86400, 1), "loan_pending");
    EXPECT_PROBLEM(post("clerk", old, loan_body(u_supervisor, 86400, 1)), 409, "not_available");
    EXPECT_PROBLEM(post("clerk", old, "{\"action\":\"destroy\",\"method\":\"tear\"}"), 409,
                   "not_available");
    ok("agent", old, "{\"action\":\"loan_sign\",\"count\":1}", "on_loan");
    /* a loss is reported in writing and the managers are told */
    EXPECT_PROBLEM(post("agent", old, "{\"action\":\"report_lost\"}"), 422, "account_required");
    const char *v[] = {old};
    long before = th_sql_long("SELECT count(*) FROM notifications WHERE kind = "
                              "'custody_archive_lost' AND payload->>'archive_file_id' = $1",
                              v, 1);
    ok("agent", old, "{\"action\":\"report_lost\",\"purpose\":\"left on the bus\"}", "lost");
    assert_true(th_sql_long("SELECT count(*) FROM notifications WHERE kind = "
                            "'custody_archive_lost' AND payload->>'archive_file_id' = $1",
                            v, 1) > before);
    EXPECT_PROBLEM(post("agent", old, "{\"action\":\"report_lost\",\"purpose\":\"again\"}"), 409,
                   "already_reported");
}

/* ---- concurrency: of simultaneous loans of one file exactly one wins ------------------- */

#define RACERS 8
static char race_id[40], race_body[400];
static const char *race_token[RACERS];
static long race_status[RACERS];

static void *racer(void *arg)
{
    long i = (long)(intptr_t)arg;
    char path[128];
    snprintf(path, sizeof path, "/v1/archives/%s/entries", race_id);
    th_resp_t *r = th_req_mt("POST", path, race_token[i], race_body, NULL);
    race_status[i] = r->status;
    th_free(r);
    return NULL;
}

static void test_concurrent_loans(void **state)
{
    (void)state;
    char tech[40];
    assert_int_equal(th_fx_user("technician", tech), 0);
    reg(p1, "ordinary", "RACE-1", 0, race_id);
    snprintf(race_body, sizeof race_body, "%s", loan_body(tech, 86400, 3));
    static const char *who[] = {"agent", "supervisor", "clerk", "manager"};
    for (int i = 0; i < RACERS; i++)
        race_token[i] = th_token(who[i % 4]);
    pthread_t t[RACERS];
    for (long i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, racer, (void *)(intptr_t)i), 0);
    int won = 0, lost = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        if (race_status[i] == 201)
            won++;
        else if (race_status[i] == 409)
            lost++;
        else
            fprintf(stderr, "racer %d: %ld\n", i, race_status[i]);
    }
    assert_int_equal(won, 1);
    assert_int_equal(lost, RACERS - 1);
    const char *v[] = {race_id};
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM custody_entries WHERE item_id = $1 AND action = 'loan'",
                    v, 1),
        1);
    char path[128];
    snprintf(path, sizeof path, "/v1/archives/%s/verify", race_id);
    th_resp_t *r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    assert_true(th_jtrue(r->json, "valid"));
    th_free(r);
}

/* The daily head export: per project a digest over every ledger's head; a truncation
 * changes it. */
static void test_daily_heads(void **state)
{
    (void)state;
    char id[40];
    reg(p1, "ordinary", "HD-1", 0, id);
    ok("clerk", id, "{\"action\":\"note\",\"purpose\":\"kept\"}", NULL);
    char path[160], today[16];
    /* the end of today in the project's zone may lie before now (UTC+8): ask for a day that
     * ends after every entry written so far */
    time_t now = time(NULL) + 2 * 86400;
    strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
    snprintf(path, sizeof path, "/v1/custody/heads?date=%s&project_id=%s", today, p1);
    th_resp_t *r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->json, "items"), 0);
    assert_non_null(p);
    char digest[80];
    snprintf(digest, sizeof digest, "%s", th_js(p, "digest"));
    assert_int_equal(strlen(digest), 64);
    int found = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(p, "heads"))
    {
        if (!strcmp(th_js(h, "item_id"), id)) {
            found = 1;
            assert_int_equal(th_jn(h, "seq"), 2);
        }
    }
    assert_true(found);
    th_free(r);
    /* a superuser truncates the ledger: the export no longer matches the one kept */
    char sql[200];
    PGresult *res = PQexec(th_db(), "SET session_replication_role = replica");
    PQclear(res);
    snprintf(sql, sizeof sql, "DELETE FROM custody_entries WHERE item_id = '%s' AND seq = 2", id);
    res = PQexec(th_db(), sql);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = PQexec(th_db(), "RESET session_replication_role");
    PQclear(res);
    r = th_req("GET", path, th_token("auditor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    p = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->json, "items"), 0);
    assert_string_not_equal(th_js(p, "digest"), digest);
    th_free(r);
    EXPECT_PROBLEM(
        th_req("GET", "/v1/custody/heads?date=2026-13-01", th_token("auditor"), NULL, NULL), 400,
        "invalid_query");
    EXPECT_PROBLEM(th_req("GET", "/v1/custody/heads", th_token("resident"), NULL, NULL), 403, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classification_rules),
        cmocka_unit_test(test_loan_two_signatures),
        cmocka_unit_test(test_overdue_and_inventory),
        cmocka_unit_test(test_destruction),
        cmocka_unit_test(test_roles_and_scope),
        cmocka_unit_test(test_daily_heads),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_concurrent_loans),
        cmocka_unit_test(test_overdue_loans_chased),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
