/*
 * tests/api/test_duty_morning.c — the morning handover performs the night desk's hand-over
 * actions (issue 11, RULES §3.8.13) end to end: accepting the morning handover takes the
 * `handover` action of each night-desk request it lists, by the accepting person, in the
 * same transaction (timeline event naming the handover, the 09:00 clock stopped); a request
 * that can no longer be handed over is skipped with the reason; a handover planned long
 * before the 09:00 hand-over time (the evening or a night-to-night one) leaves them to the
 * morning; the outcomes are kept with the handover.
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
#include "tests/lib/requests.h"

static char p1[40], unit101[40], resident[40];
static char u_agent[40], u_clerk[40], u_security[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", unit101) ||
           th_fx_resident("demo", "张伟", resident) || th_fx_user("agent", u_agent) ||
           th_fx_user("clerk", u_clerk) || th_fx_user("security", u_security);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static void expect(int line, th_resp_t *r, long st)
{
    if (r->status != st)
        fprintf(stderr, "line %d: %ld %s\n", line, r->status, r->body);
    th_expect_status_at(line, r, st);
}
#define EXPECT(r, st) expect(__LINE__, (r), (st))

/* POST path as who with the If-Match of a fresh GET of get_path. */
static th_resp_t *post_if_match(const char *who, const char *get_path, const char *path,
                                const char *body)
{
    th_resp_t *g = th_req("GET", get_path, th_token(who), NULL, NULL);
    char im[96];
    const char *e = th_header(g, "ETag");
    snprintf(im, sizeof im, "If-Match: %s", e ? e : "\"0\"");
    th_free(g);
    const char *const h[] = {im, NULL};
    return th_req("POST", path, th_token(who), body, h);
}

static th_resp_t *handover_op(const char *who, const char *id, const char *op, const char *body)
{
    char get[128], path[160];
    snprintf(get, sizeof get, "/v1/handovers/%s", id);
    snprintf(path, sizeof path, "/v1/handovers/%s/%s", id, op);
    return post_if_match(who, get, path, body);
}

static void shift(const char *post, const char *user, char dst[40])
{
    char body[512], a[40], b[40];
    th_iso_utc(time(NULL) - 9 * 3600, a);
    th_iso_utc(time(NULL) + 3 * 3600, b);
    snprintf(
        body, sizeof body,
        "{\"project_id\":\"%s\",\"post\":\"%s\",\"user_ids\":[\"%s\"],\"planned_start\":\"%s\","
        "\"planned_end\":\"%s\"}",
        p1, post, user, a, b);
    th_resp_t *r = th_req("POST", "/v1/duty/shifts", th_token("supervisor"), body, NULL);
    EXPECT(r, 201);
    snprintf(dst, 40, "%s", th_str(r, "id"));
    th_free(r);
}

/* A request the night desk registered an hour ago. */
static void night_request(const char *type, const char *desc, char id[40])
{
    char body[1024], at[40];
    th_iso_utc(time(NULL) - 3600, at);
    snprintf(body, sizeof body,
             "{\"type\":\"%s\",\"channel\":\"night_desk\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"%s\",\"occurred_at\":\"%s\"}",
             type, unit101, resident, desc, at);
    th_free(th_create_request_at(__LINE__, "security", body, id));
}

/* Drafts, submits (every open matter handed over with a reason, every section confirmed) a
 * handover of shift `from` to `incoming` planned at `planned`; its id into id. */
static void drafted_and_submitted(const char *outgoing, const char *from, const char *incoming,
                                  time_t planned, char id[40])
{
    char body[512], at[40];
    th_iso_utc(planned, at);
    snprintf(body, sizeof body,
             "{\"from_shift_id\":\"%s\",\"incoming_user_id\":\"%s\",\"planned_at\":\"%s\"}", from,
             incoming, at);
    th_resp_t *d = th_req("POST", "/v1/handovers", th_token(outgoing), body, NULL);
    EXPECT(d, 201);
    snprintf(id, 40, "%s", th_str(d, "id"));
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n, "{\"sections\":[");
    const cJSON *it;
    int first = 1;
    cJSON_ArrayForEach(it, th_jpath(d->json, "sections"))
    {
        n += (size_t)snprintf(b + n, cap - n, "%s{\"code\":\"%s\",\"confirmed\":true}",
                              first ? "" : ",", th_js(it, "code"));
        first = 0;
    }
    n += (size_t)snprintf(b + n, cap - n, "],\"unfinished\":[");
    first = 1;
    cJSON_ArrayForEach(it, th_jpath(d->json, "prefill.open_requests"))
    {
        n +=
            (size_t)snprintf(b + n, cap - n,
                             "%s{\"ref_type\":\"request\",\"ref_id\":\"%s\",\"reason\":\"夜间登记，"
                             "早班跟进\"}",
                             first ? "" : ",", th_js(it, "id"));
        first = 0;
    }
    snprintf(b + n, cap - n, "]}");
    th_free(d);
    th_resp_t *r = handover_op(outgoing, id, "submit", b);
    free(b);
    EXPECT(r, 200);
    th_free(r);
}

static const cJSON *outcome_of(const th_resp_t *r, const char *request_id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "night_desk_actions"))
    {
        if (!strcmp(th_js(it, "request_id"), request_id))
            return it;
    }
    return NULL;
}

static long handovers_of(const char *request_id)
{
    const char *v[] = {request_id};
    return th_sql_long("SELECT count(*) FROM request_events WHERE request_id = $1 AND action = "
                       "'handover'",
                       v, 1);
}

static void test_morning_handover_hands_over(void **state)
{
    (void)state;
    char a[40], b[40], c[40];
    night_request("repair", "夜间水管滴漏", a);
    night_request("inquiry", "夜间咨询停车", b);
    night_request("inquiry", "夜间咨询装修", c);
    /* The hand-over clock of the night (09:00 local after receipt). */
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s", a);
    th_resp_t *r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT(r, 200);
    time_t received = (time_t)th_parse_utc(th_str(r, "received_at"));
    th_free(r);
    const char *av[] = {a};
    time_t due = (time_t)th_sql_long(
        "SELECT extract(epoch FROM due_handover)::bigint FROM requests WHERE id = $1", av, 1);
    assert_true(due > received);

    /* A night-to-night handover planned five hours before 09:00 (or before the requests
     * came in) leaves them to the morning. */
    char n1[40], h1[40];
    shift("control_room", u_security, n1);
    drafted_and_submitted("security", n1, u_agent, due - 5 * 3600, h1);
    r = handover_op("agent", h1, "accept", NULL);
    EXPECT(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "night_desk_actions")), 3);
    assert_string_equal(th_js(outcome_of(r, a), "outcome"), "skipped");
    assert_string_equal(th_js(outcome_of(r, a), "code"), "not_morning_handover");
    th_free(r);
    assert_int_equal(handovers_of(a), 0);

    /* After the morning draft lists them, B is handed over by hand and C is rejected. */
    char n2[40], h2[40];
    shift("control_room", u_security, n2);
    time_t planned = due - 3600 > received + 60 ? due - 3600 : received + 60;
    drafted_and_submitted("security", n2, u_agent, planned, h2);
    snprintf(path, sizeof path, "/v1/requests/%s", b);
    char act[200];
    snprintf(act, sizeof act, "/v1/requests/%s/actions/handover", b);
    r = post_if_match("agent", path, act, NULL);
    EXPECT(r, 200);
    th_free(r);
    const char *cv[] = {c};
    th_sql_long("WITH u AS (UPDATE requests SET state = 'rejected', explanation = '重复登记' "
                "WHERE id = $1 RETURNING 1) SELECT count(*) FROM u",
                cv, 1);

    /* Not the incoming person: refused, nothing handed over. */
    EXPECT_PROBLEM(handover_op("clerk", h2, "accept", NULL), 403, "not_incoming");
    assert_int_equal(handovers_of(a), 0);

    /* The morning handover is accepted: A is handed over by the agent, in the handover's
     * name; B and C are skipped with the state machine's reasons. */
    r = handover_op("agent", h2, "accept", NULL);
    EXPECT(r, 200);
    assert_string_equal(th_str(r, "state"), "accepted");
    const cJSON *oa = outcome_of(r, a), *ob = outcome_of(r, b), *oc = outcome_of(r, c);
    assert_non_null(oa);
    assert_string_equal(th_js(oa, "outcome"), "handed_over");
    assert_string_equal(th_js(ob, "outcome"), "skipped");
    assert_string_equal(th_js(ob, "code"), "already_handed_over");
    assert_string_equal(th_js(oc, "outcome"), "skipped");
    assert_string_equal(th_js(oc, "code"), "invalid_transition");
    assert_true(strlen(th_js(oc, "reason")) > 0);
    th_free(r);
    assert_int_equal(handovers_of(a), 1);
    assert_int_equal(handovers_of(b), 1);
    assert_int_equal(handovers_of(c), 0);

    /* The timeline event: by the incoming person, naming the handover. */
    r = th_get_timeline("agent", a);
    const cJSON *it, *ev = NULL;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        if (!strcmp(th_js(it, "action"), "handover"))
            ev = it;
    }
    assert_non_null(ev);
    assert_string_equal(th_js(ev, "actor_id"), u_agent);
    assert_string_equal(th_js(cJSON_GetObjectItemCaseSensitive(ev, "details"), "handover_id"), h2);
    th_free(r);
    /* The 09:00 clock has stopped. */
    snprintf(path, sizeof path, "/v1/requests/%s/sla", a);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT(r, 200);
    const cJSON *clk = NULL;
    cJSON_ArrayForEach(it, th_jpath(r->json, "clocks"))
    {
        if (!strcmp(th_js(it, "target"), "handover"))
            clk = it;
    }
    assert_non_null(clk);
    assert_false(th_jnull(clk, "met_at"));
    th_free(r);
    /* The outcomes are kept with the handover. */
    snprintf(path, sizeof path, "/v1/handovers/%s", h2);
    r = th_req("GET", path, th_token("security"), NULL, NULL);
    EXPECT(r, 200);
    assert_string_equal(th_js(outcome_of(r, a), "outcome"), "handed_over");
    assert_string_equal(th_js(outcome_of(r, b), "code"), "already_handed_over");
    th_free(r);
    /* A handover drafted now no longer lists A or B. */
    char n3[40], h3[40], body[400];
    shift("control_room", u_security, n3);
    snprintf(body, sizeof body, "{\"from_shift_id\":\"%s\",\"incoming_user_id\":\"%s\"}", n3,
             u_agent);
    r = th_req("POST", "/v1/handovers", th_token("security"), body, NULL);
    EXPECT(r, 201);
    snprintf(h3, sizeof h3, "%s", th_str(r, "id"));
    cJSON_ArrayForEach(it, th_jpath(r->json, "prefill.night_desk_requests"))
    {
        assert_string_not_equal(th_js(it, "id"), a);
        assert_string_not_equal(th_js(it, "id"), b);
    }
    th_free(r);
}

/* Submit, accept, fitness and the shift's start and equipment flag take If-Match: 428
 * without, 412 with a stale version (the current ETag with it), nothing changed. */
static void test_if_match(void **state)
{
    (void)state;
    char s1[40], h[40], path[160], body[400];
    shift("front_desk", u_clerk, s1);
    snprintf(path, sizeof path, "/v1/duty/shifts/%s/start", s1);
    EXPECT_PROBLEM(th_req("POST", path, th_token("clerk"), NULL, NULL), 428, "if_match_required");
    const char *const stale[] = {"If-Match: \"999\"", NULL};
    th_resp_t *r = th_req("POST", path, th_token("clerk"), NULL, stale);
    EXPECT(r, 412);
    assert_string_equal(th_str(r, "code"), "stale_version");
    assert_non_null(th_header(r, "ETag"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/duty/shifts/%s/equipment", s1);
    EXPECT_PROBLEM(th_req("POST", path, th_token("clerk"), "{\"transition\":false}", NULL), 428,
                   "if_match_required");
    EXPECT_PROBLEM(th_req("POST", path, th_token("clerk"), "{\"transition\":false}", stale), 412,
                   "stale_version");
    char get[128];
    snprintf(get, sizeof get, "/v1/duty/shifts/%s", s1);
    r = th_req("GET", get, th_token("clerk"), NULL, NULL);
    assert_true(th_jnull(r->json, "actual_start"));
    th_free(r);
    r = post_if_match("clerk", get, path, "{\"transition\":false}");
    EXPECT(r, 200);
    th_free(r);

    snprintf(body, sizeof body, "{\"from_shift_id\":\"%s\",\"incoming_user_id\":\"%s\"}", s1,
             u_agent);
    r = th_req("POST", "/v1/handovers", th_token("clerk"), body, NULL);
    EXPECT(r, 201);
    snprintf(h, sizeof h, "%s", th_str(r, "id"));
    char etag[64];
    snprintf(etag, sizeof etag, "If-Match: %s", th_header(r, "ETag"));
    th_free(r);
    const char *const first[] = {etag, NULL};
    static const char *const ops[] = {"submit", "accept", "fitness"};
    static const char *const bodies[] = {"{}", NULL, "{\"unfit\":false}"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/v1/handovers/%s/%s", h, ops[i]);
        EXPECT_PROBLEM(th_req("POST", path, th_token(i == 1 ? "agent" : "clerk"), bodies[i], NULL),
                       428, "if_match_required");
        EXPECT_PROBLEM(th_req("POST", path, th_token(i == 1 ? "agent" : "clerk"), bodies[i], stale),
                       412, "stale_version");
    }
    /* The fitness flag bumps the version: the draft's ETag is stale for the submission. */
    r = handover_op("clerk", h, "fitness", "{\"unfit\":false}");
    EXPECT(r, 200);
    th_free(r);
    snprintf(path, sizeof path, "/v1/handovers/%s/submit", h);
    EXPECT_PROBLEM(th_req("POST", path, th_token("clerk"), "{}", first), 412, "stale_version");
    snprintf(get, sizeof get, "/v1/handovers/%s", h);
    r = th_req("GET", get, th_token("clerk"), NULL, NULL);
    assert_string_equal(th_str(r, "state"), "draft");
    th_free(r);
}

/* Walks GET path (with a query) page by page, `limit` at a time: every page at most limit
 * items, no item twice, next_cursor null on the last; the items seen, in order, as the one
 * page of limit 200 lists them. */
static void walk(const char *path, int limit, int min_total)
{
    char url[512], all_url[512];
    snprintf(all_url, sizeof all_url, "%s&limit=200", path);
    th_resp_t *all = th_req("GET", all_url, th_token("supervisor"), NULL, NULL);
    EXPECT(all, 200);
    assert_true(th_jnull(all->json, "next_cursor"));
    int total = cJSON_GetArraySize(th_jpath(all->json, "items"));
    assert_true(total >= min_total);
    char cursor[256] = "";
    int seen = 0, pages = 0;
    for (;;) {
        if (cursor[0])
            snprintf(url, sizeof url, "%s&limit=%d&cursor=%s", path, limit, cursor);
        else
            snprintf(url, sizeof url, "%s&limit=%d", path, limit);
        th_resp_t *r = th_req("GET", url, th_token("supervisor"), NULL, NULL);
        EXPECT(r, 200);
        const cJSON *items = th_jpath(r->json, "items"), *it;
        assert_true(cJSON_GetArraySize(items) <= limit);
        cJSON_ArrayForEach(it, items)
        {
            const cJSON *want = cJSON_GetArrayItem(th_jpath(all->json, "items"), seen);
            assert_non_null(want);
            assert_string_equal(th_js(it, "id"), th_js(want, "id"));
            seen++;
        }
        pages++;
        int last = th_jnull(r->json, "next_cursor");
        if (!last)
            snprintf(cursor, sizeof cursor, "%s", th_str(r, "next_cursor"));
        th_free(r);
        if (last)
            break;
        assert_true(pages <= total);
    }
    assert_int_equal(seen, total);
    assert_true(pages >= (total + limit - 1) / limit);
    th_free(all);
}

/* Shifts, handovers and incident reports are listed in keyset pages (limit, next_cursor). */
static void test_lists_paged(void **state)
{
    (void)state;
    char id[40], path[256], body[400], at[40];
    for (int i = 0; i < 3; i++)
        shift("office", u_clerk, id);
    for (int i = 0; i < 3; i++) {
        th_iso_utc(time(NULL) - 3600 * (i + 1), at);
        snprintf(body, sizeof body,
                 "{\"project_id\":\"%s\",\"kind\":\"other\",\"occurred_at\":\"%s\"}", p1, at);
        th_resp_t *r = th_req("POST", "/v1/incidents", th_token("agent"), body, NULL);
        EXPECT(r, 201);
        th_free(r);
    }
    snprintf(path, sizeof path, "/v1/duty/shifts?project_id=%s", p1);
    walk(path, 2, 3);
    snprintf(path, sizeof path, "/v1/handovers?project_id=%s", p1);
    walk(path, 1, 3);
    snprintf(path, sizeof path, "/v1/incidents?project_id=%s", p1);
    walk(path, 2, 3);
    /* A bad limit or cursor is 400. */
    snprintf(path, sizeof path, "/v1/handovers?project_id=%s&limit=0", p1);
    EXPECT_PROBLEM(th_req("GET", path, th_token("supervisor"), NULL, NULL), 400, "invalid_query");
    snprintf(path, sizeof path, "/v1/incidents?cursor=bm9wZQ");
    EXPECT_PROBLEM(th_req("GET", path, th_token("supervisor"), NULL, NULL), 400, "invalid_cursor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_morning_handover_hands_over),
        cmocka_unit_test(test_if_match),
        cmocka_unit_test(test_lists_paged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
