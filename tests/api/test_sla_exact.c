/*
 * tests/api/test_sla_exact.c — issue 15 (SLA exactness) end to end: a met clock keeps its
 * due time when the request is paused later (GET .../sla and the stored sla.due); a reopen
 * restarts the resolution clock and leaves a complaint's met on-site clock met; the
 * sweeper records no escalation that changes nothing (level 4 → 4); a backdated record
 * with several clocks past due rises one level per sweep evaluation and then on its
 * schedule.  Paper records with back-dated times; sweeps through POST /v1/admin/sla/sweep;
 * the schedule passing is simulated by moving recorded alert times back in SQL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/harness.h"

#define MIN  60
#define HR   3600
#define DAY  86400
#define DEMO "(SELECT id FROM organisations WHERE code = 'demo')"

static char unit101[40], res_zw[40];

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_grab(unit101, "SELECT id FROM units WHERE code = '1-101' AND org_id = " DEMO) ||
        th_grab(res_zw, "SELECT id FROM residents WHERE name = '张伟' AND org_id = " DEMO))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

static void new_request_at(const char *type, const char *extra, time_t at, char id[40])
{
    char body[2048], t[40];
    th_iso_utc(at, t);
    snprintf(body, sizeof body,
             "{\"type\":\"%s\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"SLA 精确 %s\","
             "\"occurred_at\":\"%s\"%s%s}",
             type, unit101, res_zw, type, t, extra[0] ? "," : "", extra);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    if (r->status != 201)
        fail_msg("create: %ld %s", r->status, r->body);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

static th_resp_t *get_req(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    return th_req("GET", path, th_token("agent"), NULL, NULL);
}

/* A workflow action recorded from paper at `at`; extra is more JSON members or "". */
static void act_at(int line, const char *id, const char *action, time_t at, const char *extra)
{
    th_resp_t *r = get_req(id);
    char im[40], path[200], body[2048], t[40];
    snprintf(im, sizeof im, "If-Match: \"%ld\"", th_jn(r->json, "version"));
    th_free(r);
    const char *h[] = {im, NULL};
    th_iso_utc(at, t);
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, action);
    snprintf(body, sizeof body, "{\"occurred_at\":\"%s\"%s%s}", t, extra[0] ? "," : "", extra);
    r = th_req("POST", path, th_token("agent"), body, h);
    if (r->status != 200)
        fail_msg("line %d: %s: %ld %s", line, action, r->status, r->body);
    th_free(r);
}
#define ACT_AT(...) act_at(__LINE__, __VA_ARGS__)

static void pend_resume(const char *id, time_t from, time_t to)
{
    char b[200], until[40];
    th_iso_utc(time(NULL) + 7 * DAY, until);
    snprintf(b, sizeof b, "\"pending_reason\":\"customer\",\"pending_until\":\"%s\"", until);
    ACT_AT(id, "pend", from, b);
    ACT_AT(id, "resume", to, "");
}

/* GET .../sla; the clock of a target (fails when absent). */
static th_resp_t *get_sla(const char *id)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/sla", id);
    th_resp_t *r = th_req("GET", path, th_token("agent"), NULL, NULL);
    if (r->status != 200)
        fail_msg("GET sla %ld %s", r->status, r->body);
    return r;
}

static const cJSON *clock_of(const th_resp_t *r, const char *target)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "clocks"))
    {
        if (!strcmp(th_js(it, "target"), target))
            return it;
    }
    fail_msg("no %s clock in %s", target, r->body);
    return NULL;
}

static long sweep(void)
{
    th_resp_t *r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
    if (r->status != 200)
        fail_msg("sweep %ld %s", r->status, r->body);
    long e = th_jn(r->json, "escalations");
    th_free(r);
    return e;
}

static long sql_long(const char *sql, const char *id)
{
    const char *v[] = {id};
    const char *s = th_sql1(sql, v, 1);
    if (!s)
        fail_msg("sql failed: %s", sql);
    return atol(s);
}

static long level_of(const char *id)
{
    return sql_long("SELECT escalation_level FROM requests WHERE id = $1", id);
}

static long escalate_events(const char *id)
{
    return sql_long("SELECT count(*) FROM request_events WHERE request_id = $1 AND action = "
                    "'escalate'",
                    id);
}

static long escalation_notes(const char *id)
{
    return sql_long("SELECT count(*) FROM notifications WHERE request_id = $1 AND kind = "
                    "'sla_escalation'",
                    id);
}

static void let_schedule_pass(const char *id)
{
    const char *v[] = {id};
    PGresult *r = PQexecParams(th_db(),
                               "UPDATE sla_alerts SET created_at = created_at - interval '2 hours' "
                               "WHERE request_id = $1",
                               1, NULL, v, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    r = PQexecParams(
        th_db(), "UPDATE requests SET sla_next_check = now() - interval '1 minute' WHERE id = $1",
        1, NULL, v, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
}

/* 1. First response met at intake (staff registered it): a later backdated pend/resume
 * leaves its due where it was, in the explanation and in the request's sla.due. */
static void test_met_clock_keeps_due(void **state)
{
    (void)state;
    char id[40];
    time_t t0 = time(NULL) - 2 * HR;
    new_request_at("inquiry", "", t0, id);
    th_resp_t *s = get_sla(id);
    const cJSON *fr = clock_of(s, "first_response");
    assert_string_equal(th_js(fr, "state"), "met");
    time_t due = th_parse_utc(th_js(fr, "due_at"));
    th_free(s);
    pend_resume(id, t0 + 2 * MIN, t0 + 2 * MIN + 3949);
    s = get_sla(id);
    fr = clock_of(s, "first_response");
    assert_int_equal(th_parse_utc(th_js(fr, "due_at")), due);
    assert_string_equal(th_js(fr, "state"), "met");
    assert_int_equal(th_jn(fr, "paused_seconds"), 0);
    assert_int_equal(th_jn(fr, "pauses"), 0);
    /* The resolution clock, not met, is pushed out by the pause. */
    const cJSON *res = clock_of(s, "resolution");
    assert_int_equal(th_jn(res, "pauses"), 1);
    th_free(s);
    th_resp_t *r = get_req(id);
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.first_response")), due);
    th_free(r);
}

/* 2./3. A reopened complaint: the resolution clock starts again from the reopen with its
 * full target (not breached at once); the on-site clock met by the resolution stays met. */
static void test_reopen_restarts_resolution(void **state)
{
    (void)state;
    char id[40];
    time_t t0 = time(NULL) - 3 * DAY;
    new_request_at("complaint", "\"severity\":\"general\"", t0, id);
    /* The desk settles it itself within 5 minutes: that meets the on-site clock too. */
    ACT_AT(id, "resolve", t0 + 3 * MIN, "\"resolution\":\"已致歉并整改\"");
    time_t reopen = time(NULL) - 10 * MIN;
    ACT_AT(id, "reopen", reopen, "");
    th_resp_t *s = get_sla(id);
    const cJSON *res = clock_of(s, "resolution");
    assert_int_equal(th_parse_utc(th_js(res, "started_at")), reopen);
    assert_int_equal(th_parse_utc(th_js(res, "due_at")), reopen + 2 * DAY);
    assert_string_equal(th_js(res, "state"), "running");
    assert_true(th_jnull(res, "met_at"));
    const cJSON *os = clock_of(s, "on_site");
    assert_string_equal(th_js(os, "state"), "met");
    assert_int_equal(th_parse_utc(th_js(os, "met_at")), t0 + 3 * MIN);
    th_free(s);
    th_resp_t *r = get_req(id);
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.resolution")), reopen + 2 * DAY);
    th_free(r);
    /* Nothing is overdue: the sweep does not escalate it. */
    sweep();
    assert_int_equal(level_of(id), 0);
    assert_int_equal(escalate_events(id), 0);
}

/* 4. A major complaint is with the GM (level 4) at once; its on-site clock then breaches
 * and a backdated pend/resume moves that breached due: no escalate event 4 → 4, no second
 * notification. */
static void test_no_escalation_at_the_top(void **state)
{
    (void)state;
    char id[40];
    time_t t0 = time(NULL) - 3 * HR;
    new_request_at("complaint", "\"severity\":\"major\"", t0, id);
    sweep();
    sweep();
    assert_int_equal(level_of(id), 4);
    long events = escalate_events(id), notes = escalation_notes(id);
    assert_int_equal(events, 1);
    th_resp_t *s = get_sla(id);
    assert_string_equal(th_js(clock_of(s, "on_site"), "state"), "breached");
    th_free(s);
    pend_resume(id, t0 + 2 * MIN, t0 + 4 * MIN);
    let_schedule_pass(id);
    sweep();
    sweep();
    assert_int_equal(level_of(id), 4);
    assert_int_equal(escalate_events(id), events);
    assert_int_equal(escalation_notes(id), notes);
    assert_int_equal(sql_long("SELECT count(*) FROM request_events WHERE request_id = $1 AND "
                              "action = 'escalate' AND (details->>'level')::int <= 4 AND "
                              "details->>'target' <> 'gm_report'",
                              id),
                     0);
}

/* 5. A backdated paper record with several clocks past due rises one level per sweep
 * evaluation, then one per escalate_every (60 min), up to the GM. */
static void test_one_level_per_sweep(void **state)
{
    (void)state;
    char id[40];
    time_t t0 = time(NULL) - 3 * DAY;
    new_request_at("complaint", "\"severity\":\"general\"", t0, id);
    th_resp_t *s = get_sla(id);
    assert_string_equal(th_js(clock_of(s, "on_site"), "state"), "breached");
    assert_string_equal(th_js(clock_of(s, "resolution"), "state"), "breached");
    th_free(s);
    assert_int_equal(sweep() >= 0, 1);
    assert_int_equal(level_of(id), 1);
    assert_int_equal(escalate_events(id), 1);
    /* Again at once: nothing, the schedule has not come round. */
    sweep();
    assert_int_equal(level_of(id), 1);
    assert_int_equal(escalate_events(id), 1);
    for (int level = 2; level <= 4; level++) {
        let_schedule_pass(id);
        sweep();
        sweep();
        assert_int_equal(level_of(id), level);
        assert_int_equal(escalate_events(id), level);
    }
    let_schedule_pass(id);
    sweep();
    assert_int_equal(level_of(id), 4);
    assert_int_equal(escalate_events(id), 4);
    assert_int_equal(escalation_notes(id) > 0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_met_clock_keeps_due),
        cmocka_unit_test(test_reopen_restarts_resolution),
        cmocka_unit_test(test_no_escalation_at_the_top),
        cmocka_unit_test(test_one_level_per_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
