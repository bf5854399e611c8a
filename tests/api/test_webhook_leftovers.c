/*
 * tests/api/test_webhook_leftovers.c — the webhook events RULES §3.12.2 names that were accepted
 * in `event_types` but never announced (issue 12; migration 0036), read from the outbox:
 * key.overdue exactly once per overdue key loan (the reminder worker's mark survives the
 * loan's other entries, a new loan is announced again); handover.refused for a refused
 * submission and a refused acceptance, recorded although the refused step changed nothing;
 * capa.closed at the end of a corrective action and capa.opened as another name of
 * capa.created.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

/* The reminder worker runs every 100 ms; deliveries go nowhere (the outbox is what is read). */
static const char *const ENV[] = {"DESK_WEBHOOK_ALLOW_HTTP=1", "DESK_SWEEP_INTERVAL_MS=100", NULL};

static char p1[40], dept_eng[40], u_agent[40], u_clerk[40], u_tech[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(ENV) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_dept("demo", "engineering", dept_eng) ||
           th_fx_user("agent", u_agent) || th_fx_user("clerk", u_clerk) ||
           th_fx_user("technician", u_tech);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void iso(long delta, char out[40])
{
    th_iso_utc(time(NULL) + delta, out);
}

/* A subscription of the demo organisation to `types` (a JSON array); its id into id. */
static void hook(const char *types, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"url\":\"http://127.0.0.1:9/events\",\"secret\":\"leftover-secret-0123456789\","
             "\"event_types\":%s}",
             types);
    th_resp_t *r = th_req("POST", "/v1/webhooks", th_token("admin"), body, NULL);
    if (r->status != 201)
        fail_msg("create webhook: %ld %s", r->status, r->body);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

static long events(const char *kind, const char *id, const char *type)
{
    const char *p[] = {kind, id, type};
    return th_sql_long("SELECT count(*) FROM webhook_events WHERE subject_kind = $1 AND "
                       "subject_id = $2 AND type = $3",
                       p, 3);
}

/* The subject's event types in sequence order, joined by spaces (malloc'd). */
static char *types_of(const char *kind, const char *id)
{
    const char *p[] = {kind, id};
    const char *v = th_sql1("SELECT coalesce(string_agg(type, ' ' ORDER BY seq), '') FROM "
                            "webhook_events WHERE subject_kind = $1 AND subject_id = $2",
                            p, 2);
    return strdup(v ? v : "");
}

/* The payload of the subject's n-th event of `type` (1-based), parsed. */
static cJSON *payload(const char *kind, const char *id, const char *type, int n)
{
    char nth[16];
    snprintf(nth, sizeof nth, "%d", n - 1);
    const char *p[] = {kind, id, type, nth};
    const char *v = th_sql1("SELECT payload::text FROM webhook_events WHERE subject_kind = $1 "
                            "AND subject_id = $2 AND type = $3 ORDER BY seq OFFSET $4::int "
                            "LIMIT 1",
                            p, 4);
    cJSON *j = v ? cJSON_Parse(v) : NULL;
    assert_non_null(j);
    return j;
}

/* Waits (liveness only, up to ~60 s) until the subject has `want` events of `type`. */
static void wait_events(const char *kind, const char *id, const char *type, long want)
{
    for (int i = 0; i < 1200 && events(kind, id, type) < want; i++)
        sleep_ms(50);
    assert_int_equal(events(kind, id, type), want);
}

/* ---------------------------------------------------------------- key.overdue */

static th_resp_t *key_entry(const char *user, const char *key, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/keys/%s/entries", key);
    return th_req("POST", path, th_token(user), body, NULL);
}

static void loan(const char *key, long due_in)
{
    char body[256], due[40];
    iso(due_in, due);
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"purpose\":\"看房 viewing\",\"due_back\":\"%s\",\"count\":2}",
             due);
    th_resp_t *r = key_entry("agent", key, body);
    EXPECT_STATUS(r, 201);
    th_free(r);
}

/* A key loan past its due time is announced once as key.overdue (its borrower and the
 * project's agents notified); the loan's later entries do not announce it again; a key set
 * not yet due is left alone; the next loan of the same set is announced again. */
static void test_key_overdue_once_per_loan(void **state)
{
    (void)state;
    char wh[40], key[40], later[40], body[512];
    hook("[\"key.*\"]", wh);
    const char *tags[] = {"LO-1-301", "LO-1-302"};
    char *ids[] = {key, later};
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "{\"project_id\":\"%s\",\"kind\":\"unit_vacant\",\"tag\":\"%s\","
                 "\"key_count\":2,\"location\":\"客服部钥匙柜 B\"}",
                 p1, tags[i]);
        th_resp_t *r = th_req("POST", "/v1/keys", th_token("clerk"), body, NULL);
        EXPECT_STATUS(r, 201);
        snprintf(ids[i], 40, "%s", th_js(r->json, "key_set.id"));
        th_free(r);
    }
    loan(key, 2);       /* due in 2 s */
    loan(later, 86400); /* due tomorrow */
    wait_events("custody_item", key, "key.overdue", 1);

    cJSON *j = payload("custody_item", key, "key.overdue", 1);
    assert_string_equal(th_js(j, "type"), "key.overdue");
    assert_string_equal(th_js(j, "data.item.state"), "on_loan");
    assert_string_equal(th_js(j, "data.item.holder_id"), u_agent);
    assert_string_equal(th_js(j, "data.item.tag"), "LO-1-301");
    assert_string_equal(th_js(j, "project_id"), p1);
    cJSON_Delete(j);
    const char *kv[] = {key};
    /* the borrower (an agent of the project) is told once */
    assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = "
                                 "n.user_id WHERE n.kind = 'custody_key_overdue' AND "
                                 "n.payload->>'item_id' = $1 AND u.username = 'agent'",
                                 kv, 1),
                     1);

    /* The daily check of the loan rewrites the item: the mark stays, no second event. */
    th_resp_t *r =
        key_entry("clerk", key, "{\"action\":\"daily_check\",\"purpose\":\"借用人仍在看房\"}");
    EXPECT_STATUS(r, 201);
    th_free(r);
    sleep_ms(1000); /* ten reminder rounds */
    assert_int_equal(events("custody_item", key, "key.overdue"), 1);
    assert_int_equal(events("custody_item", later, "key.overdue"), 0);

    /* Returned and lent again: the new loan, once overdue, is announced again. */
    r = key_entry("agent", key,
                  "{\"action\":\"return\",\"count\":2,\"power_off\":true,\"windows_closed\":true,"
                  "\"unit_locked\":true}");
    EXPECT_STATUS(r, 201);
    th_free(r);
    loan(key, 2);
    wait_events("custody_item", key, "key.overdue", 2);
    char *t = types_of("custody_item", key);
    assert_string_equal(t, "key.loaned key.overdue key.returned key.loaned key.overdue");
    free(t);
    sleep_ms(600);
    assert_int_equal(events("custody_item", key, "key.overdue"), 2);
}

/* ---------------------------------------------------------------- handover.refused */

static const char *all_confirmed =
    "[{\"code\":\"radios\",\"confirmed\":true,\"note\":\"4 部\"},{\"code\":\"documents\","
    "\"confirmed\":true},{\"code\":\"show_flat_keys\",\"confirmed\":true}]";

static void shift(const char *user_id, long start_delta, long end_delta, char dst[40])
{
    char body[512], a[40], b[40];
    iso(start_delta, a);
    iso(end_delta, b);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"post\":\"office\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, user_id, a, b);
    th_resp_t *r = th_req("POST", "/v1/duty/shifts", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(dst, 40, "%s", th_str(r, "id"));
    th_free(r);
}

/* The submission with `sections`, handing over every open matter the draft lists. */
static char *submission(const th_resp_t *draft, const char *sections)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n, "{\"sections\":%s,\"unfinished\":[", sections);
    const char *lists[] = {"prefill.open_requests", "prefill.open_work_orders"};
    const char *types[] = {"request", "work_order"};
    int first = 1;
    for (int l = 0; l < 2; l++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, th_jpath(draft->json, lists[l]))
        {
            n += (size_t)snprintf(
                b + n, cap - n, "%s{\"ref_type\":\"%s\",\"ref_id\":\"%s\",\"reason\":\"明早处理\"}",
                first ? "" : ",", types[l], th_js(it, "id"));
            first = 0;
        }
    }
    snprintf(b + n, cap - n, "]}");
    return b;
}

static int has_code(const cJSON *reasons, const char *code)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, reasons) if (!strcmp(th_js(it, "code"), code)) return 1;
    return 0;
}

/* A submission refused for unconfirmed sections and an acceptance refused while the incoming
 * person is flagged unfit: each answers 409 handover_refused and changes nothing of the
 * handover, but the refusal is recorded (append-only, audited) and announced as
 * handover.refused with the step, who tried and the reasons — in order with the handover's
 * other events. */
static void test_handover_refused(void **state)
{
    (void)state;
    char wh[40], eve[40], morn[40], h[40], body[512], path[160];
    hook("[\"handover.*\"]", wh);
    shift(u_agent, -9 * 3600, 1800, eve);
    shift(u_clerk, 1800, 9 * 3600, morn);
    char at[40];
    iso(1800, at);
    snprintf(body, sizeof body,
             "{\"from_shift_id\":\"%s\",\"to_shift_id\":\"%s\",\"incoming_user_id\":\"%s\","
             "\"planned_at\":\"%s\"}",
             eve, morn, u_clerk, at);
    th_resp_t *d = th_req("POST", "/v1/handovers", th_token("agent"), body, NULL);
    EXPECT_STATUS(d, 201);
    snprintf(h, sizeof h, "%s", th_str(d, "id"));
    long version = th_jn(d->json, "version");

    /* 1. submit with nothing confirmed: refused, the handover untouched */
    char *bare = submission(d, "[]");
    snprintf(path, sizeof path, "/v1/handovers/%s/submit", h);
    th_resp_t *r = th_post_im(path, "agent", bare);
    free(bare);
    EXPECT_STATUS(r, 409);
    assert_string_equal(th_str(r, "code"), "handover_refused");
    th_free(r);
    snprintf(path, sizeof path, "/v1/handovers/%s", h);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_str(r, "state"), "draft");
    assert_int_equal(th_jn(r->json, "version"), version);
    th_free(r);
    assert_int_equal(events("handover", h, "handover.refused"), 1);
    assert_int_equal(events("handover", h, "handover.submitted"), 0);
    cJSON *j = payload("handover", h, "handover.refused", 1);
    assert_string_equal(th_js(j, "data.refusal.stage"), "submit");
    assert_string_equal(th_js(j, "data.refusal.refused_by"), u_agent);
    assert_true(has_code(th_jpath(j, "data.refusal.reasons"), "section_unconfirmed"));
    assert_string_equal(th_js(j, "data.handover.state"), "draft");
    assert_string_equal(th_js(j, "subject.kind"), "handover");
    assert_string_equal(th_js(j, "project_id"), p1);
    cJSON_Delete(j);
    const char *hv[] = {h};
    /* recorded, audited, and append-only even for the database owner */
    assert_int_equal(th_sql_long("SELECT count(*) FROM handover_refusals WHERE handover_id = $1 "
                                 "AND stage = 'submit'",
                                 hv, 1),
                     1);
    assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log a JOIN handover_refusals f ON "
                                 "a.resource_id = f.id::text WHERE a.resource_type = "
                                 "'handover_refusal' AND f.handover_id = $1",
                                 hv, 1),
                     1);
    char sql[200];
    snprintf(sql, sizeof sql, "DELETE FROM handover_refusals WHERE handover_id = '%s'", h);
    assert_int_not_equal(th_pg_exec(th_dburl(), sql), 0);

    /* 2. submitted properly */
    char *sub = submission(d, all_confirmed);
    th_free(d);
    snprintf(path, sizeof path, "/v1/handovers/%s/submit", h);
    r = th_post_im(path, "agent", sub);
    free(sub);
    if (r->status != 200)
        fail_msg("submit: %ld %s", r->status, r->body);
    th_free(r);

    /* 3. the incoming person flagged unfit, no replacement: the acceptance is refused */
    snprintf(path, sizeof path, "/v1/handovers/%s/fitness", h);
    r = th_post_im(path, "supervisor", "{\"unfit\":true,\"note\":\"酒后上岗\"}");
    if (r->status != 200)
        fail_msg("fitness: %ld %s", r->status, r->body);
    th_free(r);
    snprintf(path, sizeof path, "/v1/handovers/%s/accept", h);
    r = th_post_im(path, "clerk", NULL);
    EXPECT_STATUS(r, 409);
    assert_string_equal(th_str(r, "code"), "handover_refused");
    th_free(r);
    assert_int_equal(events("handover", h, "handover.accepted"), 0);
    char *t = types_of("handover", h);
    assert_string_equal(t, "handover.refused handover.submitted handover.refused");
    free(t);
    j = payload("handover", h, "handover.refused", 2);
    assert_string_equal(th_js(j, "data.refusal.stage"), "accept");
    assert_string_equal(th_js(j, "data.refusal.refused_by"), u_clerk);
    assert_true(has_code(th_jpath(j, "data.refusal.reasons"), "incoming_unfit"));
    assert_string_equal(th_js(j, "data.handover.state"), "submitted");
    cJSON_Delete(j);

    /* a refusal for another reason than the live facts (wrong state) is not one */
    snprintf(path, sizeof path, "/v1/handovers/%s/submit", h);
    EXPECT_PROBLEM(th_post_im(path, "agent", "{\"sections\":[]}"), 409, "invalid_state");
    assert_int_equal(events("handover", h, "handover.refused"), 2);
}

/* ---------------------------------------------------------------- capa */

/* capa.closed follows the state change that ends an action; a subscription naming
 * capa.opened receives the capa.created event (one event, not a copy) and nothing else. */
static void test_capa_opened_closed(void **state)
{
    (void)state;
    char all[40], opened[40], id[40], body[1024], due[40], path[160];
    hook("[\"capa.*\"]", all);
    hook("[\"capa.opened\"]", opened);
    iso(10 * 86400, due);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"电梯困人处置慢\","
             "\"department_id\":\"%s\",\"responsible_id\":\"%s\",\"due_at\":\"%s\"}",
             p1, dept_eng, u_tech, due);
    th_resp_t *r = th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/corrective-actions/%s/actions/cancel", id);
    r = th_req("POST", path, th_token("manager"), "{\"reason\":\"与 CA 重复\"}", NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    char *t = types_of("corrective_action", id);
    assert_string_equal(t, "capa.created capa.state_changed capa.closed");
    free(t);
    cJSON *j = payload("corrective_action", id, "capa.closed", 1);
    assert_string_equal(th_js(j, "data.outcome"), "cancelled");
    assert_string_equal(th_js(j, "data.from_state"), "open");
    assert_string_equal(th_js(j, "data.action.state"), "cancelled");
    cJSON_Delete(j);
    /* "capa.*" gets all three; "capa.opened" only the creation */
    const char *pa[] = {all, id};
    assert_int_equal(th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1 "
                                 "AND subject_id = $2",
                                 pa, 2),
                     3);
    const char *po[] = {opened, id};
    assert_string_equal(th_sql1("SELECT string_agg(e.type, ' ') FROM webhook_deliveries d JOIN "
                                "webhook_events e ON e.id = d.event_id WHERE d.webhook_id = $1 "
                                "AND d.subject_id = $2",
                                po, 2),
                        "capa.created");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_overdue_once_per_loan),
        cmocka_unit_test(test_handover_refused),
        cmocka_unit_test(test_capa_opened_closed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
