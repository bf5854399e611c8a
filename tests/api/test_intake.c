/*
 * Intake from other enterprise systems and what hangs off a request, end to end through
 * HTTP and PostgreSQL (issue 3):
 *   - an integration push retried five times with one Idempotency-Key gives one request
 *     (sequentially, and five retries racing at once); the key bound to its body; a
 *     refused request does not use the key up; external_ref unique per organisation;
 *   - the batch endpoint answers per item and keeps only the good items;
 *   - comments: internal notes hidden from the resident, in the list and the timeline;
 *   - attachment metadata, public by default, internal ones hidden from the resident;
 *   - work-order reads: the department sees its orders, other departments and other
 *     organisations get 404;
 *   - bad input on each of these endpoints: a 4xx problem and nothing stored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

static char unit101[40], res_zw[40], dept_eng[40], other_unit[40];

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_unit("demo", "1-101", unit101) || th_fx_resident("demo", "张伟", res_zw) ||
                   th_fx_dept("demo", "engineering", dept_eng) ||
                   th_fx_unit("other", "1-101", other_unit)
               ? -1
               : 0;
}

/* count(*) of a query with one parameter, as a number. */
static long count1(const char *sql, const char *param)
{
    const char *v[] = {param};
    return th_sql_long(sql, v, param ? 1 : 0);
}

/* Rows in every table a request write touches, as one string to compare before/after. */
static void totals(char out[256])
{
    const char *s =
        th_sql1("SELECT (SELECT count(*) FROM requests) || '/' || (SELECT count(*) FROM "
                "request_events) || '/' || (SELECT count(*) FROM work_orders) || '/' || (SELECT "
                "count(*) FROM request_comments) || '/' || (SELECT count(*) FROM "
                "request_attachments) || '/' || (SELECT count(*) FROM idempotency_keys)",
                NULL, 0);
    assert_non_null(s);
    snprintf(out, 256, "%s", s);
}

static void push_body(char *out, size_t len, const char *ext_id, const char *desc)
{
    snprintf(out, len,
             "{\"type\":\"repair\",\"channel\":\"integration\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"王女士\",\"phone\":\"13600001111\"},"
             "\"description\":\"%s\",\"external_ref\":{\"source\":\"crm\",\"id\":\"%s\"}}",
             unit101, desc, ext_id);
}

static th_resp_t *post_key(const char *user, const char *path, const char *body, const char *key)
{
    char h[300];
    snprintf(h, sizeof h, "Idempotency-Key: %s", key);
    const char *hs[] = {h, NULL};
    return th_req("POST", path, th_token(user), body, key ? hs : NULL);
}

/* A request on unit 1-101 reported by its owner 张伟, created by the agent. */
static void new_request(const char *desc, char id[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"%s\"}",
             unit101, res_zw, desc);
    th_free(th_create_request_at(__LINE__, "agent", body, id));
}

/* ---------------------------------------------------------------- idempotent push */

static void test_push_retried_five_times_is_one_request(void **state)
{
    (void)state;
    char body[1024], first[8192], id[40] = "";
    push_body(body, sizeof body, "CRM-1001", "客户来电：卫生间漏水（CRM推送）");
    for (int i = 0; i < 5; i++) {
        th_resp_t *r = post_key("integration", "/v1/requests", body, "crm-push-1001");
        EXPECT_STATUS(r, 201);
        const char *replayed = th_header(r, "Idempotent-Replayed");
        if (i == 0) {
            assert_null(replayed);
            snprintf(id, sizeof id, "%s", th_str(r, "id"));
            snprintf(first, sizeof first, "%s", r->body);
        } else {
            assert_non_null(replayed);
            assert_string_equal(replayed, "true");
            assert_string_equal(th_str(r, "id"), id); /* the original answer, byte for byte */
            assert_string_equal(r->body, first);
        }
        th_free(r);
    }
    assert_int_equal(count1("SELECT count(*) FROM requests WHERE external_id = $1", "CRM-1001"), 1);
    assert_int_equal(count1("SELECT count(*) FROM request_events WHERE request_id = $1", id), 1);

    char before[256], after[256];
    totals(before);
    /* The same key with another body: refused, nothing stored. */
    char other[1024];
    push_body(other, sizeof other, "CRM-1002", "另一条工单");
    EXPECT_PROBLEM(post_key("integration", "/v1/requests", other, "crm-push-1001"), 422,
                   "idempotency_key_reused");
    /* The same record pushed again under a new key: external_ref is unique per organisation,
     * and the answer names the request that exists. */
    th_resp_t *r = post_key("integration", "/v1/requests", body, "crm-push-1001-b");
    assert_true(th_is_problem(r, 409, "duplicate_external_ref"));
    assert_non_null(strstr(th_str(r, "detail"), id));
    th_free(r);
    /* Malformed keys. */
    EXPECT_PROBLEM(post_key("integration", "/v1/requests", other, "has space"), 400,
                   "invalid_idempotency_key");
    char longkey[260];
    memset(longkey, 'k', 201);
    longkey[201] = 0;
    EXPECT_PROBLEM(post_key("integration", "/v1/requests", other, longkey), 400,
                   "invalid_idempotency_key");
    totals(after);
    assert_string_equal(before, after);

    /* A refused request does not use its key up: fixed, the same key creates it. */
    EXPECT_PROBLEM(post_key("integration", "/v1/requests", "{\"type\":\"repair\"}", "crm-3"), 422,
                   NULL);
    push_body(other, sizeof other, "CRM-1003", "修好的推送");
    r = post_key("integration", "/v1/requests", other, "crm-3");
    EXPECT_STATUS(r, 201);
    assert_null(th_header(r, "Idempotent-Replayed"));
    th_free(r);

    /* Another organisation's system may use the same external id and the same key. */
    char theirs[1024];
    snprintf(theirs, sizeof theirs,
             "{\"type\":\"repair\",\"channel\":\"integration\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"赵先生\",\"phone\":\"13500002222\"},"
             "\"description\":\"别家公司的推送\",\"external_ref\":{\"source\":\"crm\","
             "\"id\":\"CRM-1001\"}}",
             other_unit);
    r = post_key("other.integration", "/v1/requests", theirs, "crm-push-1001");
    EXPECT_STATUS(r, 201);
    assert_string_not_equal(th_str(r, "id"), id);
    th_free(r);
    assert_int_equal(count1("SELECT count(*) FROM requests WHERE external_id = $1", "CRM-1001"), 2);
}

/* Five retries racing at once (the client timed out and its queue fired them all). */
typedef struct {
    const char *body, *token;
    long status;
    char id[40];
    int replayed;
} racer_t;

static void *race(void *arg)
{
    racer_t *t = arg;
    const char *h[] = {"Idempotency-Key: crm-race-77", NULL};
    th_resp_t *r = th_req_mt("POST", "/v1/requests", t->token, t->body, h);
    t->status = r->status;
    const char *replayed = th_header(r, "Idempotent-Replayed");
    t->replayed = replayed && !strcmp(replayed, "true");
    snprintf(t->id, sizeof t->id, "%s", th_str(r, "id"));
    th_free(r);
    return NULL;
}

static void test_racing_retries_are_one_request(void **state)
{
    (void)state;
    char body[1024];
    push_body(body, sizeof body, "CRM-RACE-77", "并发重试：电梯按钮失灵");
    racer_t t[5];
    pthread_t th[5];
    for (int i = 0; i < 5; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].body = body;
        t[i].token = th_token("integration");
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &t[i]), 0);
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    int fresh = 0;
    for (int i = 0; i < 5; i++) {
        if (t[i].status != 201)
            fail_msg("racer %d answered %ld", i, t[i].status);
        assert_string_equal(t[i].id, t[0].id);
        fresh += !t[i].replayed;
    }
    assert_int_equal(fresh, 1); /* one did the work, four got its answer */
    assert_int_equal(count1("SELECT count(*) FROM requests WHERE external_id = $1", "CRM-RACE-77"),
                     1);
}

/* ---------------------------------------------------------------- batch */

static void test_batch_answers_per_item(void **state)
{
    (void)state;
    char a[1024], b[1024], dup[1024], body[4096];
    push_body(a, sizeof a, "BATCH-1", "批量推送一：门禁损坏");
    push_body(b, sizeof b, "BATCH-3", "批量推送三：路灯不亮");
    push_body(dup, sizeof dup, "CRM-1001", "重复的外部编号"); /* pushed by the test above */
    snprintf(body, sizeof body,
             "{\"items\":[%s,{\"type\":\"repair\",\"channel\":\"integration\"},%s,%s]}", a, dup, b);
    long before = count1("SELECT count(*) FROM requests", NULL);
    th_resp_t *r = post_key("integration", "/v1/requests/batch", body, "batch-key-1");
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "created"), 2);
    assert_int_equal(th_jn(r->json, "failed"), 2);
    const cJSON *res = cJSON_GetObjectItem(r->json, "results");
    assert_int_equal(cJSON_GetArraySize(res), 4);
    static const long want[] = {201, 422, 409, 201};
    static const char *const code[] = {NULL, "missing_field", "duplicate_external_ref", NULL};
    for (int i = 0; i < 4; i++) {
        const cJSON *it = cJSON_GetArrayItem(res, i);
        assert_int_equal(th_jn(it, "index"), i);
        assert_int_equal(th_jn(it, "status"), want[i]);
        if (code[i]) {
            assert_string_equal(th_js(it, "problem.code"), code[i]);
            assert_true(strlen(th_js(it, "problem.detail")) > 0);
            assert_null(cJSON_GetObjectItem(it, "request"));
        } else {
            assert_true(strlen(th_js(it, "request.number")) > 0);
        }
    }
    char first[8192];
    snprintf(first, sizeof first, "%s", r->body);
    th_free(r);
    assert_int_equal(count1("SELECT count(*) FROM requests", NULL), before + 2);
    assert_int_equal(
        count1("SELECT count(*) FROM requests WHERE external_id IN ('BATCH-1', 'BATCH-3') "
               "AND description LIKE $1",
               "批量推送%"),
        2);
    /* Retried with its key: the same answer, nothing new. */
    r = post_key("integration", "/v1/requests/batch", body, "batch-key-1");
    EXPECT_STATUS(r, 200);
    assert_string_equal(r->body, first);
    th_free(r);
    assert_int_equal(count1("SELECT count(*) FROM requests", NULL), before + 2);

    /* Bad batches: a problem, nothing stored. */
    char t0[256], t1[256];
    totals(t0);
    const char *tok = th_token("integration");
    EXPECT_PROBLEM(th_req("POST", "/v1/requests/batch", tok, "{\"items\":", NULL), 400,
                   "malformed_json");
    EXPECT_PROBLEM(th_req("POST", "/v1/requests/batch", tok, "{\"items\":{}}", NULL), 422,
                   "invalid_field");
    EXPECT_PROBLEM(th_req("POST", "/v1/requests/batch", tok, "{\"items\":[]}", NULL), 422,
                   "invalid_field");
    char big[40000];
    size_t o = (size_t)snprintf(big, sizeof big, "{\"items\":[");
    for (int i = 0; i < 101; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s{}", i ? "," : "");
    snprintf(big + o, sizeof big - o, "]}");
    EXPECT_PROBLEM(th_req("POST", "/v1/requests/batch", tok, big, NULL), 422, "invalid_field");
    snprintf(body, sizeof body, "{\"items\":[%s],\"mode\":\"fast\"}", a);
    EXPECT_PROBLEM(th_req("POST", "/v1/requests/batch", tok, body, NULL), 422, "unknown_field");
    EXPECT_PROBLEM(th_req("POST", "/v1/requests/batch", "not-a-token", "{\"items\":[{}]}", NULL),
                   401, NULL);
    EXPECT_PROBLEM(
        th_req("POST", "/v1/requests/batch", th_token("auditor"), "{\"items\":[{}]}", NULL), 403,
        NULL);
    totals(t1);
    assert_string_equal(t0, t1);
}

/* A major complaint pushed in a batch reaches the GM at once, as a single create does. */
static void test_batch_major_complaint_reaches_gm(void **state)
{
    (void)state;
    char body[2048];
    snprintf(body, sizeof body,
             "{\"items\":[{\"type\":\"complaint\",\"severity\":\"major\",\"category\":"
             "\"quality\",\"channel\":\"integration\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"钱先生\",\"phone\":\"13700003333\"},"
             "\"description\":\"电梯困人二十分钟无人处理\",\"external_ref\":{\"source\":"
             "\"hotline\",\"id\":\"HL-9\"}}]}",
             unit101);
    th_resp_t *r = th_req("POST", "/v1/requests/batch", th_token("integration"), body, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "created"), 1);
    char id[40];
    snprintf(id, sizeof id, "%s",
             th_js(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "results"), 0), "request.id"));
    th_free(r);
    assert_int_equal(count1("SELECT escalation_level FROM requests WHERE id = $1", id), 4);
    assert_int_equal(count1("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                            "WHERE u.username = 'gm' AND n.request_id = $1",
                            id),
                     1);
}

/* ---------------------------------------------------------------- comments */

static int has_body(const cJSON *items, const char *text)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        if (!strcmp(th_js(it, "body"), text))
            return 1;
    }
    return 0;
}

/* Timeline events of action "comment" (with that visibility when not NULL). */
static int comment_events(const cJSON *timeline, const char *visibility)
{
    const cJSON *items =
        cJSON_IsArray(timeline) ? timeline : cJSON_GetObjectItem(timeline, "items");
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, items)
    {
        if (!strcmp(th_js(it, "action"), "comment") &&
            (!visibility || !strcmp(th_js(it, "details.visibility"), visibility)))
            n++;
    }
    return n;
}

static void test_comments_internal_hidden_from_resident(void **state)
{
    (void)state;
    char id[40], path[200];
    new_request("阳台地漏反水", id);
    snprintf(path, sizeof path, "/v1/requests/%s/comments", id);
    const char *agent = th_token("agent");

    th_resp_t *r = th_req("POST", path, agent, "{\"body\":\"业主脾气急，注意沟通方式\"}", NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "visibility"), "internal"); /* staff default */
    th_free(r);
    r = th_req("POST", path, agent,
               "{\"body\":\"已安排师傅明早九点上门\",\"visibility\":\"public\"}", NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);

    /* The owner sees the public reply only, in the list and on the timeline. */
    const char *res = th_token("resident");
    r = th_req("GET", path, res, NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    assert_true(has_body(items, "已安排师傅明早九点上门"));
    assert_false(has_body(items, "业主脾气急，注意沟通方式"));
    th_free(r);
    char tl[200];
    snprintf(tl, sizeof tl, "/v1/requests/%s/timeline", id);
    r = th_req("GET", tl, res, NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(comment_events(r->json, NULL), 1);
    assert_int_equal(comment_events(r->json, "internal"), 0);
    th_free(r);
    r = th_req("GET", tl, agent, NULL, NULL);
    assert_int_equal(comment_events(r->json, NULL), 2);
    assert_int_equal(comment_events(r->json, "internal"), 1);
    th_free(r);

    /* The owner may answer publicly, never internally. */
    EXPECT_PROBLEM(th_req("POST", path, res, "{\"body\":\"x\",\"visibility\":\"internal\"}", NULL),
                   403, "forbidden");
    r = th_req("POST", path, res, "{\"body\":\"好的，我在家\"}", NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "visibility"), "public");
    th_free(r);
    r = th_req("GET", path, agent, NULL, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 3);
    th_free(r);

    /* A neighbour and another company see nothing. */
    EXPECT_PROBLEM(th_req("GET", path, th_token("resident2"), NULL, NULL), 404, NULL);
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident2"), "{\"body\":\"x\"}", NULL), 404,
                   NULL);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, NULL);

    /* Bad input: a problem, nothing stored. */
    char t0[256], t1[256];
    totals(t0);
    EXPECT_PROBLEM(th_req("POST", path, agent, "{\"body\":", NULL), 400, "malformed_json");
    EXPECT_PROBLEM(th_req("POST", path, agent, "{}", NULL), 422, "missing_field");
    EXPECT_PROBLEM(th_req("POST", path, agent, "{\"body\":\"\"}", NULL), 422, "invalid_field");
    EXPECT_PROBLEM(th_req("POST", path, agent, "{\"body\":7}", NULL), 422, "invalid_field");
    EXPECT_PROBLEM(th_req("POST", path, agent, "{\"body\":\"x\",\"visibility\":\"secret\"}", NULL),
                   422, "invalid_enum");
    EXPECT_PROBLEM(th_req("POST", path, agent, "{\"body\":\"x\",\"author\":\"me\"}", NULL), 422,
                   "unknown_field");
    EXPECT_PROBLEM(th_req("POST", "/v1/requests/7f0b3c2e-1111-4222-8333-944455556666/comments",
                          agent, "{\"body\":\"x\"}", NULL),
                   404, NULL);
    EXPECT_PROBLEM(th_req("POST", path, NULL, "{\"body\":\"x\"}", NULL), 401, NULL);
    totals(t1);
    assert_string_equal(t0, t1);
}

/* ---------------------------------------------------------------- attachments */

static void test_attachment_metadata(void **state)
{
    (void)state;
    char id[40], path[200];
    new_request("厨房吊顶渗水，附照片", id);
    snprintf(path, sizeof path, "/v1/requests/%s/attachments", id);
    const char *agent = th_token("agent");
    static const char sha[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    char body[1024];
    snprintf(body, sizeof body,
             "{\"filename\":\"吊顶.jpg\",\"content_type\":\"image/jpeg\",\"size_bytes\":482113,"
             "\"storage_key\":\"s3://desk/2026/11/ceiling.jpg\",\"sha256\":\"%s\"}",
             sha);
    th_resp_t *r = th_req("POST", path, agent, body, NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "filename"), "吊顶.jpg");
    assert_int_equal(th_jn(r->json, "size_bytes"), 482113);
    assert_string_equal(th_js(r->json, "visibility"), "public"); /* the customer's photo */
    th_free(r);
    r = th_req("POST", path, agent,
               "{\"filename\":\"维修报价.pdf\",\"content_type\":\"application/pdf\","
               "\"size_bytes\":1024,\"storage_key\":\"s3://desk/quote.pdf\","
               "\"visibility\":\"internal\"}",
               NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);

    r = th_req("GET", path, th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 0), "sha256"), sha);
    th_free(r);
    r = th_req("GET", path, agent, NULL, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 2);
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, NULL);

    char t0[256], t1[256];
    totals(t0);
    static const char *const bad[] = {
        "{\"content_type\":\"image/jpeg\",\"size_bytes\":1,\"storage_key\":\"k\"}",
        "{\"filename\":\"a\",\"content_type\":\"image/jpeg\",\"size_bytes\":-1,"
        "\"storage_key\":\"k\"}",
        "{\"filename\":\"a\",\"content_type\":\"image/jpeg\",\"size_bytes\":1.5,"
        "\"storage_key\":\"k\"}",
        "{\"filename\":\"a\",\"content_type\":\"image/jpeg\",\"size_bytes\":\"1\","
        "\"storage_key\":\"k\"}",
        "{\"filename\":\"a\",\"content_type\":\"image/jpeg\",\"size_bytes\":1,"
        "\"storage_key\":\"k\",\"sha256\":\"XYZ\"}",
        "{\"filename\":\"a\",\"content_type\":\"image/jpeg\",\"size_bytes\":1,"
        "\"storage_key\":\"k\",\"path\":\"/etc/passwd\"}",
        "{\"filename\":\"\",\"content_type\":\"image/"
        "jpeg\",\"size_bytes\":1,\"storage_key\":\"k\"}",
    };
    static const char *const bad_code[] = {"missing_field", "invalid_field", "invalid_field",
                                           "invalid_field", "invalid_field", "unknown_field",
                                           "invalid_field"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = th_req("POST", path, agent, bad[i], NULL);
        if (!th_is_problem(r, 422, bad_code[i]))
            fail_msg("attachment case %zu: want 422 %s, got %ld %s", i, bad_code[i], r->status,
                     r->body);
        th_free(r);
    }
    EXPECT_PROBLEM(th_req("POST", path, agent, "{\"filename\":", NULL), 400, "malformed_json");
    totals(t1);
    assert_string_equal(t0, t1);
}

/* ---------------------------------------------------------------- work orders */

static void test_work_order_reads_by_department(void **state)
{
    (void)state;
    char id[40], b[128], path[200];
    new_request("热水器不出热水", id);
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    snprintf(path, sizeof path, "/v1/requests/%s/actions/dispatch", id);
    const char *im[] = {"If-Match: \"1\"", NULL};
    th_resp_t *r = th_req("POST", path, th_token("agent"), b, im);
    EXPECT_STATUS(r, 200);
    char wo[40];
    snprintf(wo, sizeof wo, "%s", th_js(r->json, "work_order.id"));
    assert_true(strlen(wo) == 36);
    th_free(r);

    /* 工程部's technician finds it in the list and reads it. */
    char q[200];
    snprintf(q, sizeof q, "/v1/work-orders?request_id=%s", id);
    r = th_req("GET", q, th_token("technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 0), "id"), wo);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 0), "state"), "dispatched");
    th_free(r);
    snprintf(path, sizeof path, "/v1/work-orders/%s", wo);
    r = th_req("GET", path, th_token("technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "department_id"), dept_eng);
    th_free(r);
    r = th_req("GET", "/v1/work-orders?state=dispatched", th_token("technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        assert_string_equal(th_js(it, "department_id"), dept_eng);
        assert_string_equal(th_js(it, "state"), "dispatched");
    }
    th_free(r);

    /* Another company's technician and desk see nothing of it. */
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.technician"), NULL, NULL), 404, NULL);
    EXPECT_PROBLEM(th_req("GET", path, th_token("other.agent"), NULL, NULL), 404, NULL);
    r = th_req("GET", q, th_token("other.technician"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 0);
    th_free(r);
    /* Work orders are read by departments and the desk: not by residents or guards
     * (SPEC §1: security keeps the night desk, it does not take work orders). */
    EXPECT_PROBLEM(th_req("GET", path, th_token("resident"), NULL, NULL), 403, "forbidden");
    EXPECT_PROBLEM(th_req("GET", "/v1/work-orders", th_token("security"), NULL, NULL), 403,
                   "forbidden");

    /* Bad queries. */
    const char *tech = th_token("technician");
    EXPECT_PROBLEM(th_req("GET", "/v1/work-orders?state=lost", tech, NULL, NULL), 400,
                   "invalid_query");
    EXPECT_PROBLEM(th_req("GET", "/v1/work-orders?department_id=eng", tech, NULL, NULL), 400,
                   "invalid_query");
    EXPECT_PROBLEM(th_req("GET", "/v1/work-orders?limit=0", tech, NULL, NULL), 400, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/work-orders/not-a-uuid", tech, NULL, NULL), 404, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_retried_five_times_is_one_request),
        cmocka_unit_test(test_racing_retries_are_one_request),
        cmocka_unit_test(test_batch_answers_per_item),
        cmocka_unit_test(test_batch_major_complaint_reaches_gm),
        cmocka_unit_test(test_comments_internal_hidden_from_resident),
        cmocka_unit_test(test_attachment_metadata),
        cmocka_unit_test(test_work_order_reads_by_department),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
