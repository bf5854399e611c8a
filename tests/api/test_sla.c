/*
 * tests/api/test_sla.c — SPEC §4 (time limits and escalation) end to end against the real
 * server and PostgreSQL.  Nothing here waits for a deadline: requests are registered as
 * paper records with back-dated times, sweeps are triggered through
 * POST /v1/admin/sla/sweep, and the passing of the escalation schedule is simulated by
 * moving recorded alert times back in SQL.  Scenarios: a major complaint reaching the GM
 * the same day; a general complaint climbing the ladder one level per schedule step up to
 * the GM and no further; the director's deadline extension; a pause over a weekend in
 * business time; a night-desk request missing the 09:00 hand-over; the customer's earlier
 * deadline; policy versions and re-application; 80 % warnings; manual escalation;
 * notifications; bad input on every SLA endpoint leaving nothing changed; and the other
 * organisation seeing none of it.
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

#include "core/tz.h"
#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

#define MIN 60
#define HR  3600
#define DAY 86400
#define CST (8 * HR) /* Asia/Shanghai has been UTC+8 without DST since 1991 */

/* ---------------------------------------------------------------- fixtures */

static char project[40], unit101[40], res_zw[40], dept_cs[40];
static char uid_director[40], uid_super[40];

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", project) || th_fx_unit("demo", "1-101", unit101) ||
        th_fx_resident("demo", "张伟", res_zw) || th_fx_dept("demo", "customer_service", dept_cs) ||
        th_fx_user("director", uid_director) || th_fx_user("supervisor", uid_super))
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- time helpers
 * (JSON paths, RFC 3339 and fixture look-ups: th_js, th_jn, th_iso_utc, th_grab, ...
 * in tests/lib/harness.h) */

static time_t now_s(void)
{
    return time(NULL);
}

/* ---------------------------------------------------------------- HTTP helpers */

#define CREATE(user, body, id) th_create_request_at(__LINE__, (user), (body), (id))

/* A request for unit 1-101 reported by 张伟; extra is more JSON members ("" for none). */
static void new_request(const char *user, const char *type, const char *extra, char id[40])
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"type\":\"%s\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"SLA 测试 %s\"%s%s}",
             type, unit101, res_zw, type, extra[0] ? "," : "", extra);
    th_free(CREATE(user, body, id));
}

/* Same, registered as a paper record that really happened at `at`. */
static void new_request_at(const char *user, const char *type, const char *extra, time_t at,
                           char id[40])
{
    char ex[1024], t[40];
    th_iso_utc(at, t);
    snprintf(ex, sizeof ex, "\"occurred_at\":\"%s\"%s%s", t, extra[0] ? "," : "", extra);
    new_request(user, type, ex, id);
}

static int req_version(const char *user, const char *id)
{
    th_resp_t *r = th_get_request(user, id);
    int v = r->status == 200 ? (int)th_jn(r->json, "version") : -1;
    th_free(r);
    return v;
}

/* A workflow action at the request's current version; body may be NULL. */
static th_resp_t *act(const char *user, const char *id, const char *action, const char *body)
{
    char path[200], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, action);
    snprintf(im, sizeof im, "If-Match: \"%d\"", req_version(user, id));
    const char *h[] = {im, NULL};
    return th_req("POST", path, th_token(user), body, h);
}

static void ok_act_at(int line, const char *user, const char *id, const char *action,
                      const char *body)
{
    th_resp_t *r = act(user, id, action, body);
    if (r->status != 200)
        fail_msg("line %d: %s by %s: expected 200, got %ld: %s", line, action, user, r->status,
                 r->body);
    th_free(r);
}
#define OK_ACT(...) ok_act_at(__LINE__, __VA_ARGS__)

/* An action recorded from paper at `at`; extra is more JSON members or "". */
static void ok_act_when(int line, const char *user, const char *id, const char *action, time_t at,
                        const char *extra)
{
    char body[4096], t[40];
    th_iso_utc(at, t);
    snprintf(body, sizeof body, "{\"occurred_at\":\"%s\"%s%s}", t, extra[0] ? "," : "", extra);
    ok_act_at(line, user, id, action, body);
}
#define OK_ACT_AT(...) ok_act_when(__LINE__, __VA_ARGS__)

static th_resp_t *get_sla(const char *user, const char *id)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/sla", id);
    return th_req("GET", path, th_token(user), NULL, NULL);
}

/* The explanation of one clock in a GET .../sla answer, or NULL. */
static const cJSON *clock_of(const th_resp_t *r, const char *target)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "clocks"))
    {
        if (!strcmp(th_js(it, "target"), target))
            return it;
    }
    return NULL;
}

static const cJSON *must_clock_at(int line, const th_resp_t *r, const char *target)
{
    if (r->status != 200)
        fail_msg("line %d: GET sla %ld %s", line, r->status, r->body);
    const cJSON *c = clock_of(r, target);
    if (!c)
        fail_msg("line %d: no %s clock in %s", line, target, r->body);
    return c;
}
#define CLOCK(r, target) must_clock_at(__LINE__, (r), (target))

/* POST /v1/admin/sla/sweep as admin; returns the number of escalations recorded. */
static long sweep_at(int line, long *warnings)
{
    th_resp_t *r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
    if (r->status != 200)
        fail_msg("line %d: sweep %ld %s", line, r->status, r->body);
    long e = th_jn(r->json, "escalations");
    if (warnings)
        *warnings = th_jn(r->json, "warnings");
    if (e < 0 || th_jn(r->json, "examined") < 0 || th_jn(r->json, "batches") < 0 ||
        !cJSON_IsNumber(cJSON_GetObjectItem(r->json, "duration_ms")))
        fail_msg("line %d: sweep answer malformed: %s", line, r->body);
    th_free(r);
    return e;
}
#define SWEEP() sweep_at(__LINE__, NULL)

static long sql_long(const char *sql, const char *p1, const char *p2)
{
    const char *v[] = {p1, p2};
    return th_sql_long(sql, v, p2 ? 2 : (p1 ? 1 : 0));
}

static long escalations(const char *id)
{
    return sql_long("SELECT count(*) FROM sla_alerts WHERE request_id = $1 AND kind = "
                    "'escalation'",
                    id, NULL);
}

static long escalations_at_level(const char *id, int level)
{
    char l[8];
    snprintf(l, sizeof l, "%d", level);
    return sql_long("SELECT count(*) FROM sla_alerts WHERE request_id = $1 AND kind = "
                    "'escalation' AND level = $2::int",
                    id, l);
}

static long warnings_of(const char *id)
{
    return sql_long("SELECT count(*) FROM sla_alerts WHERE request_id = $1 AND kind = 'warning'",
                    id, NULL);
}

/* Notifications of one user about one request, of a kind. */
static long notes(const char *username, const char *id, const char *kind)
{
    const char *v[] = {username, id, kind};
    return th_sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = "
                       "n.user_id WHERE u.username = $1 AND n.request_id = $2 AND n.kind = $3",
                       v, 3);
}

static long level_of(const char *id)
{
    th_resp_t *r = th_get_request("agent", id);
    long l = r->status == 200 ? th_jn(r->json, "escalation_level") : -1;
    th_free(r);
    return l;
}

/* The escalation schedule passing: what was recorded happened two hours earlier, and the
 * request is due for a look now. */
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
    assert_string_equal(PQcmdTuples(r), "1");
    PQclear(r);
}

/* Timeline events of an action, in order. */
static int timeline_events(const char *id, const char *action, const cJSON *out[], int max,
                           th_resp_t **keep)
{
    th_resp_t *r = th_get_timeline("supervisor", id);
    if (r->status != 200)
        fail_msg("timeline %ld %s", r->status, r->body);
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(th_js(it, "action"), action) && n < max)
            out[n++] = it;
    }
    *keep = r;
    return n;
}

/* Whether GET /v1/notifications (as user) lists one of this kind about the request; the
 * first such item's id goes to nid. */
static int api_has_note(const char *user, const char *id, const char *kind, const char *q,
                        char nid[40])
{
    char path[128];
    snprintf(path, sizeof path, "/v1/notifications?limit=200%s", q);
    th_resp_t *r = th_req("GET", path, th_token(user), NULL, NULL);
    if (r->status != 200)
        fail_msg("notifications for %s: %ld %s", user, r->status, r->body);
    int found = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(th_js(it, "request_id"), id) && !strcmp(th_js(it, "kind"), kind)) {
            if (!found && nid)
                snprintf(nid, 40, "%s", th_js(it, "id"));
            found++;
        }
    }
    th_free(r);
    return found;
}

/* ---------------------------------------------------------------- the §4 table */

static time_t due_of(const char *id, const char *target)
{
    th_resp_t *r = get_sla("agent", id);
    const cJSON *c = clock_of(r, target);
    time_t t = c ? th_parse_utc(th_js(c, "due_at")) : -1;
    th_free(r);
    return t;
}

/* The shipped defaults, clock by clock, as GET .../sla explains them. */
static void test_default_policy_table(void **state)
{
    (void)state;
    time_t t0 = now_s() - 120;
    char gen[40], imp[40], maj[40], rep[40], emg[40], inq[40];
    new_request_at("agent", "complaint", "\"severity\":\"general\"", t0, gen);
    new_request_at("agent", "complaint", "\"severity\":\"important\"", t0, imp);
    new_request_at("agent", "complaint", "\"severity\":\"major\"", t0, maj);
    new_request_at("agent", "repair", "", t0, rep);
    new_request_at("agent", "emergency", "", t0, emg);
    new_request_at("agent", "inquiry", "", t0, inq);
    /* First response: 5 minutes, met at once by the staff member registering it. */
    th_resp_t *r = get_sla("agent", inq);
    const cJSON *c = CLOCK(r, "first_response");
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), t0 + 5 * MIN);
    assert_string_equal(th_js(c, "state"), "met");
    assert_null(clock_of(r, "on_site"));
    assert_null(clock_of(r, "answer"));
    assert_null(clock_of(r, "gm_report"));
    assert_null(clock_of(r, "handover"));
    assert_null(clock_of(r, "callback"));
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), t0 + 2 * DAY);
    assert_string_equal(th_js(r->json, "policy.name"), "默认");
    th_free(r);
    /* Complaints: handler on site in 5 minutes; general 2 days; important 1 day answer /
     * 3 days; major 2 days answer / 7 days and the GM the same day. */
    assert_int_equal(due_of(gen, "on_site"), t0 + 5 * MIN);
    assert_int_equal(due_of(gen, "resolution"), t0 + 2 * DAY);
    assert_int_equal(due_of(gen, "answer"), -1);
    assert_int_equal(due_of(gen, "gm_report"), -1);
    assert_int_equal(due_of(imp, "answer"), t0 + 1 * DAY);
    assert_int_equal(due_of(imp, "resolution"), t0 + 3 * DAY);
    assert_int_equal(due_of(imp, "gm_report"), -1);
    assert_int_equal(due_of(maj, "answer"), t0 + 2 * DAY);
    assert_int_equal(due_of(maj, "resolution"), t0 + 7 * DAY);
    assert_int_equal(due_of(maj, "gm_report"), ((t0 + CST) / DAY + 1) * DAY - CST);
    assert_int_equal(due_of(emg, "resolution"), t0 + 1 * DAY);
    /* Repair: the technician's 5 minutes start at the dispatch; a booked appointment
     * replaces them. */
    assert_int_equal(due_of(rep, "on_site"), -1);
    char b[256], ap[40];
    time_t appt = now_s() + 2 * HR;
    th_iso_utc(appt, ap);
    snprintf(b, sizeof b, "\"department_id\":\"%s\",\"appointment_at\":\"%s\"", dept_cs, ap);
    OK_ACT_AT("agent", rep, "dispatch", t0 + 60, b);
    r = get_sla("agent", rep);
    c = CLOCK(r, "on_site");
    assert_int_equal(th_parse_utc(th_js(c, "started_at")), t0 + 60);
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), appt);
    assert_int_equal(th_parse_utc(th_js(c, "policy_due_at")), t0 + 60 + 5 * MIN);
    assert_true(cJSON_IsTrue(th_jpath(c, "adjusted")));
    th_free(r);
    /* App intake: nobody has answered until staff act. */
    char app[40];
    snprintf(
        b, sizeof b,
        "{\"type\":\"inquiry\",\"location\":{\"unit_id\":\"%s\"},\"description\":\"物业费咨询\"}",
        unit101);
    th_free(CREATE("resident", b, app));
    r = get_sla("agent", app);
    c = CLOCK(r, "first_response");
    assert_true(th_jnull(c, "met_at"));
    assert_string_equal(th_js(c, "state"), "running");
    time_t rec = th_parse_utc(th_js(c, "started_at"));
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), rec + 5 * MIN);
    th_free(r);
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/comments", app);
    r = th_req("POST", path, th_token("resident"), "{\"body\":\"请尽快\"}", NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    r = get_sla("agent", app);
    assert_true(th_jnull(CLOCK(r, "first_response"), "met_at"));
    th_free(r);
    r = th_req("POST", path, th_token("agent"), "{\"body\":\"已收到\",\"visibility\":\"public\"}",
               NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    r = get_sla("agent", app);
    c = CLOCK(r, "first_response");
    assert_false(th_jnull(c, "met_at"));
    assert_string_equal(th_js(c, "state"), "met");
    th_free(r);
    /* Callback: 24 h from the resolution of a complaint. */
    OK_ACT_AT("agent", gen, "resolve", t0 + 100, "\"resolution\":\"已向业主道歉并整改\"");
    r = get_sla("agent", gen);
    c = CLOCK(r, "callback");
    assert_int_equal(th_parse_utc(th_js(c, "started_at")), t0 + 100);
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), t0 + 100 + 24 * HR);
    assert_string_equal(th_js(CLOCK(r, "resolution"), "state"), "met");
    th_free(r);
}

/* ---------------------------------------------------------------- (a) major → GM */

static void test_major_complaint_reaches_gm_same_day(void **state)
{
    (void)state;
    char id[40];
    new_request("agent", "complaint", "\"severity\":\"major\",\"category\":\"quality\"", id);
    SWEEP();
    /* Straight to the top of the ladder, once. */
    assert_int_equal(level_of(id), 4);
    assert_int_equal(escalations(id), 1);
    assert_int_equal(escalations_at_level(id, 4), 1);
    assert_int_equal(sql_long("SELECT count(*) FROM sla_alerts WHERE request_id = $1 AND kind = "
                              "'escalation' AND target = 'gm_report'",
                              id, NULL),
                     1);
    /* The GM was told (and sees it), the lower levels were skipped. */
    assert_int_equal(notes("gm", id, "sla_escalation"), 1);
    assert_int_equal(api_has_note("gm", id, "sla_escalation", "", NULL), 1);
    assert_int_equal(notes("supervisor", id, "sla_escalation"), 0);
    /* The timeline says so. */
    const cJSON *ev[8];
    th_resp_t *tl;
    int n = timeline_events(id, "escalate", ev, 8, &tl);
    assert_int_equal(n, 1);
    assert_int_equal(th_jn(ev[0], "details.level"), 4);
    assert_string_equal(th_js(ev[0], "details.to_role"), "gm");
    assert_string_equal(th_js(ev[0], "details.target"), "gm_report");
    th_free(tl);
    /* The GM-report clock is met the same day. */
    th_resp_t *s = get_sla("agent", id);
    const cJSON *gm = CLOCK(s, "gm_report");
    assert_string_equal(th_js(gm, "state"), "met");
    assert_false(th_jnull(gm, "met_at"));
    assert_string_equal(th_js(gm, "kind"), "end_of_day");
    time_t due = th_parse_utc(th_js(gm, "due_at")), met = th_parse_utc(th_js(gm, "met_at"));
    assert_true(met <= due);
    /* End of the local (UTC+8) day of the intake. */
    time_t rec = th_parse_utc(th_js(gm, "started_at"));
    assert_int_equal(due, ((rec + CST) / DAY + 1) * DAY - CST);
    assert_int_equal(th_jn(s->json, "escalation_level"), 4);
    assert_string_equal(th_js(s->json, "escalated_to"), "gm");
    th_free(s);
    /* Sweeping again changes nothing. */
    assert_int_equal(SWEEP() >= 0, 1);
    assert_int_equal(escalations(id), 1);
    assert_int_equal(notes("gm", id, "sla_escalation"), 1);
}

/* A complaint registered as general and upgraded to major later: the major policy applies
 * from then on, and the GM hears of it at once (SPEC §4), without waiting for a sweep. */
static void test_upgraded_to_major_reaches_gm(void **state)
{
    (void)state;
    char id[40], path[128];
    time_t t0 = now_s() - 2 * MIN; /* nothing else due yet: on site within 5 minutes */
    new_request_at("agent", "complaint", "\"severity\":\"general\",\"category\":\"quality\"", t0,
                   id);
    assert_int_equal(due_of(id, "resolution"), t0 + 2 * DAY);
    assert_int_equal(due_of(id, "gm_report"), -1);
    assert_int_equal(level_of(id), 0);
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    const char *im[] = {"If-Match: \"1\"", NULL};
    th_resp_t *r = th_req("PATCH", path, th_token("supervisor"), "{\"severity\":\"major\"}", im);
    if (r->status != 200)
        fail_msg("PATCH severity: %ld %s", r->status, r->body);
    assert_int_equal(th_jn(r->json, "escalation_level"), 4); /* in the answer already */
    th_free(r);
    assert_int_equal(level_of(id), 4);
    assert_int_equal(escalations(id), 1);
    assert_int_equal(notes("gm", id, "sla_escalation"), 1);
    r = get_sla("agent", id);
    assert_string_equal(th_js(r->json, "policy.name"), "重大投诉");
    th_free(r);
    /* major: answer in 2 days, resolution in 7, counted from the intake */
    assert_int_equal(due_of(id, "answer"), t0 + 2 * DAY);
    assert_int_equal(due_of(id, "resolution"), t0 + 7 * DAY);
    assert_true(due_of(id, "gm_report") > 0);
    /* An edit that does not reclassify changes nothing of that. */
    const char *im2[] = {NULL, NULL};
    r = th_get_request("agent", id);
    char ver[16];
    snprintf(ver, sizeof ver, "If-Match: \"%ld\"", th_jn(r->json, "version"));
    th_free(r);
    im2[0] = ver;
    r = th_req("PATCH", path, th_token("supervisor"), "{\"title\":\"质量投诉（升级）\"}", im2);
    assert_int_equal(r->status, 200);
    th_free(r);
    assert_int_equal(notes("gm", id, "sla_escalation"), 1);
    assert_int_equal(escalations(id), 1);
}

/* ---------------------------------------------------------------- (b) the ladder */

static void test_general_complaint_climbs_ladder(void **state)
{
    (void)state;
    char id[40];
    time_t t0 = now_s() - 2 * DAY - 1 * HR;
    new_request_at("agent", "complaint", "\"severity\":\"general\",\"category\":\"attitude\"", t0,
                   id);
    /* The handler was on site within 5 minutes (paper work order): only the 2-day
     * resolution is missed. */
    char b[128];
    snprintf(b, sizeof b, "\"department_id\":\"%s\"", dept_cs);
    OK_ACT_AT("agent", id, "dispatch", t0 + 1 * MIN, b);
    OK_ACT_AT("agent", id, "accept", t0 + 2 * MIN, "");
    OK_ACT_AT("agent", id, "arrive", t0 + 4 * MIN, "");
    th_resp_t *s = get_sla("agent", id);
    assert_string_equal(th_js(CLOCK(s, "on_site"), "state"), "met");
    const cJSON *res = CLOCK(s, "resolution");
    assert_string_equal(th_js(res, "state"), "breached");
    assert_int_equal(th_parse_utc(th_js(res, "due_at")), t0 + 2 * DAY);
    th_free(s);

    static const char *const ladder[] = {"agent", "supervisor", "manager", "director", "gm"};
    for (int level = 1; level <= 4; level++) {
        if (level > 1) {
            /* Nothing happens before the schedule says so. */
            assert_int_equal(SWEEP() >= 0, 1);
            assert_int_equal(level_of(id), level - 1);
            let_schedule_pass(id);
        }
        SWEEP();
        assert_int_equal(level_of(id), level);
        assert_int_equal(escalations(id), level);
        assert_int_equal(escalations_at_level(id, level), 1);
        /* That level (and only that level) was told about this step. */
        assert_int_equal(notes(ladder[level], id, "sla_escalation"), 1);
        for (int other = 1; other <= 4; other++)
            if (other > level)
                assert_int_equal(notes(ladder[other], id, "sla_escalation"), 0);
        assert_int_equal(api_has_note(ladder[level], id, "sla_escalation", "", NULL), 1);
    }
    /* At the top: the schedule passing again adds nothing. */
    let_schedule_pass(id);
    SWEEP();
    SWEEP();
    assert_int_equal(level_of(id), 4);
    assert_int_equal(escalations(id), 4);
    for (int level = 1; level <= 4; level++) {
        assert_int_equal(escalations_at_level(id, level), 1);
        assert_int_equal(notes(ladder[level], id, "sla_escalation"), 1);
    }
    assert_int_equal(notes("agent", id, "sla_escalation"), 0);
    /* All for the one breach of the resolution clock. */
    assert_int_equal(sql_long("SELECT count(DISTINCT (target, due_at)) FROM sla_alerts WHERE "
                              "request_id = $1 AND kind = 'escalation'",
                              id, NULL),
                     1);
    /* Timeline: four automatic escalate events, levels 1..4 in order. */
    const cJSON *ev[8];
    th_resp_t *tl;
    int n = timeline_events(id, "escalate", ev, 8, &tl);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++) {
        assert_int_equal(th_jn(ev[i], "details.level"), i + 1);
        assert_string_equal(th_js(ev[i], "details.to_role"), ladder[i + 1]);
        assert_string_equal(th_js(ev[i], "details.target"), "resolution");
        assert_string_equal(th_js(ev[i], "actor_role"), "system");
    }
    th_free(tl);
    /* Overdue in the request and in the list filter. */
    th_resp_t *r = th_get_request("agent", id);
    assert_true(cJSON_IsTrue(th_jpath(r->json, "sla.overdue")));
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.resolution")), t0 + 2 * DAY);
    th_free(r);
    char path[200];
    snprintf(path, sizeof path, "/v1/requests?overdue=true&type=complaint&limit=200");
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    int listed = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        listed |= !strcmp(th_js(it, "id"), id);
        assert_true(cJSON_IsTrue(th_jpath(it, "sla.overdue")));
    }
    assert_true(listed);
    th_free(r);
    char fresh[40];
    new_request("agent", "inquiry", "", fresh);
    snprintf(path, sizeof path, "/v1/requests?overdue=false&limit=200&type=inquiry");
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    listed = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items")) listed |=
        !strcmp(th_js(it, "id"), fresh);
    assert_true(listed);
    th_free(r);
}

/* ---------------------------------------------------------------- (c) extensions */

static th_resp_t *ext_post(const char *user, const char *id, const char *body)
{
    char path[200];
    snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions", id);
    return th_req("POST", path, th_token(user), body, NULL);
}

static th_resp_t *ext_decide(const char *user, const char *id, const char *eid, const char *what)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions/%s/%s", id, eid, what);
    return th_req("POST", path, th_token(user), "{\"note\":\"同意\"}", NULL);
}

static void test_director_extension(void **state)
{
    (void)state;
    char id[40], body[512], due3[40], due5[40];
    time_t t0 = now_s() - 1 * HR;
    new_request_at("agent", "complaint", "\"severity\":\"general\"", t0, id);
    time_t nd = now_s() + 3 * DAY;
    th_iso_utc(nd, due3);
    snprintf(body, sizeof body,
             "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":\"业主出差，需等其回来\"}",
             due3);
    th_resp_t *r = ext_post("agent", id, body);
    EXPECT_STATUS(r, 201);
    char eid[40];
    snprintf(eid, sizeof eid, "%s", th_js(r->json, "id"));
    assert_int_equal(strlen(eid), 36);
    assert_string_equal(th_js(r->json, "state"), "requested");
    assert_int_equal(th_parse_utc(th_js(r->json, "requested_due")), nd);
    th_free(r);
    /* Requested is not approved: the due stays. */
    r = get_sla("agent", id);
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), t0 + 2 * DAY);
    th_free(r);
    /* Only the director (or GM) decides. */
    EXPECT_PROBLEM(ext_decide("manager", id, eid, "approve"), 403, "forbidden");
    EXPECT_PROBLEM(ext_decide("supervisor", id, eid, "approve"), 403, "forbidden");
    EXPECT_PROBLEM(ext_decide("agent", id, eid, "approve"), 403, "forbidden");
    r = get_sla("agent", id);
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), t0 + 2 * DAY);
    assert_false(cJSON_IsTrue(th_jpath(CLOCK(r, "resolution"), "adjusted")));
    th_free(r);
    r = ext_decide("director", id, eid, "approve");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "approved");
    assert_string_equal(th_js(r->json, "decided_by"), uid_director);
    th_free(r);
    r = get_sla("agent", id);
    const cJSON *c = CLOCK(r, "resolution");
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), nd);
    assert_int_equal(th_parse_utc(th_js(c, "policy_due_at")), t0 + 2 * DAY);
    assert_true(cJSON_IsTrue(th_jpath(c, "adjusted")));
    th_free(r);
    r = th_get_request("agent", id);
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.resolution")), nd);
    th_free(r);
    /* Decided once. */
    EXPECT_PROBLEM(ext_decide("director", id, eid, "reject"), 409, "already_decided");
    /* The timeline records request and approval with who decided. */
    const cJSON *ev[4];
    th_resp_t *tl;
    assert_int_equal(timeline_events(id, "sla_extension_requested", ev, 4, &tl), 1);
    th_free(tl);
    assert_int_equal(timeline_events(id, "sla_extension_approved", ev, 4, &tl), 1);
    assert_string_equal(th_js(ev[0], "details.decided_by"), uid_director);
    assert_string_equal(th_js(ev[0], "details.target"), "resolution");
    assert_int_equal(th_parse_utc(th_js(ev[0], "details.new_due")), nd);
    assert_string_equal(th_js(ev[0], "actor_role"), "director");
    th_free(tl);

    /* A rejected extension changes nothing. */
    th_iso_utc(now_s() + 5 * DAY, due5);
    snprintf(body, sizeof body,
             "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":\"再延两天\"}", due5);
    r = ext_post("supervisor", id, body);
    EXPECT_STATUS(r, 201);
    snprintf(eid, sizeof eid, "%s", th_js(r->json, "id"));
    th_free(r);
    r = ext_decide("director", id, eid, "reject");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(r->json, "state"), "rejected");
    th_free(r);
    EXPECT_PROBLEM(ext_decide("gm", id, eid, "approve"), 409, "already_decided");
    r = get_sla("agent", id);
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), nd);
    th_free(r);
    assert_int_equal(timeline_events(id, "sla_extension_rejected", ev, 4, &tl), 1);
    assert_string_equal(th_js(ev[0], "details.decided_by"), uid_director);
    th_free(tl);
    /* The list shows both, in order. */
    char path[200];
    snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions", id);
    r = th_req("GET", path, th_token("agent"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *items = cJSON_GetObjectItem(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 2);
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 0), "state"), "approved");
    assert_string_equal(th_js(cJSON_GetArrayItem(items, 1), "state"), "rejected");
    th_free(r);
    /* Residents and technicians cannot ask. */
    EXPECT_PROBLEM(ext_post("resident", id, body), 403, NULL);
    EXPECT_PROBLEM(ext_post("technician", id, body), 403, NULL);
}

/* ---------------------------------------------------------------- (d) business pause */

static void test_business_pause_over_weekend(void **state)
{
    (void)state;
    /* A project of its own, Mon–Fri 09:00–18:00, with an agent. */
    th_resp_t *r = th_req("POST", "/v1/projects", th_token("admin"),
                          "{\"code\":\"SLA-WK\",\"name\":\"周末写字楼\",\"time_zone\":\"Asia/"
                          "Shanghai\"}",
                          NULL);
    EXPECT_STATUS(r, 201);
    char wk[40];
    snprintf(wk, sizeof wk, "%s", th_js(r->json, "id"));
    th_free(r);
    char body[2048];
    snprintf(body, sizeof body,
             "{\"username\":\"agent.wk\",\"display_name\":\"周末客服\",\"role\":\"agent\","
             "\"password\":\"%s\",\"project_ids\":[\"%s\"]}",
             TH_PASS, wk);
    r = th_req("POST", "/v1/users", th_token("admin"), body, NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);

    char path[160];
    snprintf(path, sizeof path, "/v1/projects/%s/calendar", wk);
    r = th_req("GET", path, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_header(r, "ETag"), "\"1\"");
    th_free(r);
    /* A request registered before the change keeps calendar version 1. */
    char before[40];
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"visit\",\"project_id\":\"%s\","
             "\"location\":{\"common_area\":\"大堂\"},\"reporter\":{\"name\":\"王先生\"},"
             "\"description\":\"before the calendar change\"}",
             wk);
    th_free(CREATE("agent.wk", body, before));

    const char *cal =
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"09:00\",\"18:00\"]],"
        "\"tue\":[[\"09:00\",\"18:00\"]],\"wed\":[[\"09:00\",\"18:00\"]],"
        "\"thu\":[[\"09:00\",\"18:00\"]],\"fri\":[[\"09:00\",\"18:00\"]]},"
        "\"holidays\":[],\"makeup_days\":[]}";
    const char *im1[] = {"If-Match: \"1\"", NULL};
    r = th_req("PUT", path, th_token("admin"), cal, im1);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_header(r, "ETag"), "\"2\"");
    assert_int_equal(th_jn(r->json, "version"), 2);
    th_free(r);
    snprintf(
        body, sizeof body,
        "{\"project_id\":\"%s\",\"name\":\"咨询（工作时间）\",\"match\":{\"type\":\"inquiry\"},"
        "\"definition\":{\"targets\":{\"first_response\":{\"kind\":\"calendar\",\"minutes\":5},"
        "\"resolution\":{\"kind\":\"business\",\"minutes\":480}},\"warn_pct\":80,"
        "\"escalate_every_minutes\":60}}",
        wk);
    r = th_req("POST", "/v1/sla/policies", th_token("admin"), body, NULL);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_header(r, "ETag"), "\"1\"");
    char pol[40];
    snprintf(pol, sizeof pol, "%s", th_js(r->json, "id"));
    th_free(r);

    /* The most recent Friday 17:00 (local) whose Monday 10:00 has passed. */
    time_t now = now_s();
    int64_t today = core_floor_div((int64_t)now + CST, DAY), fri = today;
    while (core_weekday(fri) != 4 || fri * DAY + 3 * DAY + 10 * HR - CST > (int64_t)now - 120)
        fri--;
    time_t fri17 = (time_t)(fri * DAY + 17 * HR - CST);
    time_t fri1730 = fri17 + 30 * MIN, mon10 = (time_t)((fri + 3) * DAY + 10 * HR - CST);
    char t[40], until[40];
    th_iso_utc(fri17, t);
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"project_id\":\"%s\","
             "\"location\":{\"common_area\":\"8楼前台\"},\"reporter\":{\"name\":\"李女士\","
             "\"phone\":\"13900001111\"},\"description\":\"发票咨询\",\"occurred_at\":\"%s\"}",
             wk, t);
    char id[40];
    th_free(CREATE("agent.wk", body, id));
    th_iso_utc(now + 7 * DAY, until);
    snprintf(body, sizeof body, "\"pending_reason\":\"customer\",\"pending_until\":\"%s\"", until);
    OK_ACT_AT("agent.wk", id, "pend", fri1730, body);
    OK_ACT_AT("agent.wk", id, "resume", mon10, "");

    /* By hand: 30 business minutes on Friday before the pause; the pause covers Friday
     * 17:30–18:00 and Monday 09:00–10:00 of business time (90 min); the remaining 450
     * minutes run from Monday 10:00 → Monday 17:30. */
    time_t expect_due = (time_t)((fri + 3) * DAY + 17 * HR + 30 * MIN - CST);
    r = get_sla("agent.wk", id);
    const cJSON *c = CLOCK(r, "resolution");
    assert_string_equal(th_js(c, "kind"), "business");
    assert_int_equal(th_jn(c, "target_minutes"), 480);
    assert_int_equal(th_parse_utc(th_js(c, "started_at")), fri17);
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), expect_due);
    assert_int_equal(th_jn(c, "paused_seconds"), 90 * MIN);
    assert_int_equal(th_jn(c, "pauses"), 1);
    assert_true(th_jn(c, "used_seconds") >= 30 * MIN);
    assert_string_equal(th_js(c, "state"), now < expect_due ? "running" : "breached");
    assert_string_equal(th_js(r->json, "policy.id"), pol);
    assert_int_equal(th_jn(r->json, "calendar.version"), 2);
    assert_string_equal(th_js(r->json, "calendar.time_zone"), "Asia/Shanghai");
    th_free(r);
    r = th_get_request("agent.wk", id);
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.resolution")), expect_due);
    th_free(r);
    r = get_sla("agent.wk", before);
    assert_int_equal(th_jn(r->json, "calendar.version"), 1);
    th_free(r);
    /* The timeline shows the pause itself: since when, and how long in wall-clock time
     * (Friday 17:30 → Monday 10:00); the business minutes are in the clock above. */
    th_resp_t *tl = th_get_timeline("agent.wk", id);
    assert_int_equal(tl->status, 200);
    const cJSON *items =
        cJSON_IsArray(tl->json) ? tl->json : cJSON_GetObjectItem(tl->json, "items");
    const cJSON *it, *res = NULL;
    cJSON_ArrayForEach(it, items)
    {
        if (!strcmp(th_js(it, "action"), "resume"))
            res = it;
    }
    assert_non_null(res);
    assert_int_equal(th_parse_utc(th_js(res, "details.paused_since")), fri1730);
    assert_int_equal(th_jn(res, "details.paused_seconds"), (long)(mon10 - fri1730));
    th_free(tl);
}

/* ---------------------------------------------------------------- (e) night desk */

static void test_night_desk_misses_nine(void **state)
{
    (void)state;
    /* The latest 23:30 (local) whose next 09:00 has passed. */
    time_t now = now_s();
    int64_t today = core_floor_div((int64_t)now + CST, DAY);
    int64_t day = ((int64_t)now + CST) % DAY >= 9 * HR + 5 * MIN ? today - 1 : today - 2;
    time_t night = (time_t)(day * DAY + 23 * HR + 30 * MIN - CST);
    time_t nine = (time_t)((day + 1) * DAY + 9 * HR - CST);
    char t[40], body[1024], id[40];
    th_iso_utc(night, t);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"night_desk\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"夜间水管爆裂\","
             "\"occurred_at\":\"%s\"}",
             unit101, res_zw, t);
    th_free(CREATE("security", body, id));
    th_resp_t *r = get_sla("agent", id);
    const cJSON *c = CLOCK(r, "handover");
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), nine);
    assert_string_equal(th_js(c, "kind"), "next_local_time");
    assert_string_equal(th_js(c, "at"), "09:00");
    assert_string_equal(th_js(c, "state"), "breached");
    assert_true(th_jnull(c, "met_at"));
    th_free(r);
    SWEEP();
    assert_int_equal(level_of(id), 1);
    assert_int_equal(escalations(id), 1);
    assert_int_equal(sql_long("SELECT count(*) FROM sla_alerts WHERE request_id = $1 AND target = "
                              "'handover' AND kind = 'escalation' AND level = 1",
                              id, NULL),
                     1);
    assert_int_equal(notes("supervisor", id, "sla_escalation"), 1);
    /* Handed over late: the clock stops (met late, still a breach), nothing more rises. */
    OK_ACT("agent", id, "handover", NULL);
    r = get_sla("agent", id);
    c = CLOCK(r, "handover");
    assert_false(th_jnull(c, "met_at"));
    assert_true(th_parse_utc(th_js(c, "met_at")) >= now - 5);
    assert_string_equal(th_js(c, "state"), "breached");
    th_free(r);
    let_schedule_pass(id);
    SWEEP();
    assert_int_equal(escalations(id), 1);
    assert_int_equal(level_of(id), 1);
    /* Handed over in time (a second night): met. */
    char id2[40];
    time_t night2 = now - 2 * HR;
    if ((night2 + CST) % DAY >= 8 * HR + 50 * MIN && (night2 + CST) % DAY < 9 * HR)
        night2 -= 30 * MIN; /* keep 09:00 out of the ten minutes before the hand-over */
    th_iso_utc(night2, t);
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"night_desk\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"夜间咨询\","
             "\"occurred_at\":\"%s\"}",
             unit101, res_zw, t);
    th_free(CREATE("security", body, id2));
    OK_ACT_AT("agent", id2, "handover", night2 + 10 * MIN, "");
    r = get_sla("agent", id2);
    c = CLOCK(r, "handover");
    assert_string_equal(th_js(c, "state"), "met");
    assert_int_equal(th_parse_utc(th_js(c, "met_at")), night2 + 10 * MIN);
    th_free(r);
}

/* ---------------------------------------------------------------- (f) customer deadline */

static void test_customer_deadline_wins(void **state)
{
    (void)state;
    time_t t0 = now_s() - 60;
    char dl[80], id[40], id2[40], s[40];
    th_iso_utc(t0 + 1 * HR, s);
    snprintf(dl, sizeof dl, "\"customer_deadline\":\"%s\"", s);
    new_request_at("agent", "complaint", dl, t0, id);
    th_resp_t *r = get_sla("agent", id);
    const cJSON *c = CLOCK(r, "resolution");
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), t0 + 1 * HR);
    assert_int_equal(th_parse_utc(th_js(c, "policy_due_at")), t0 + 2 * DAY);
    assert_true(cJSON_IsTrue(th_jpath(c, "adjusted")));
    th_free(r);
    r = th_get_request("agent", id);
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.resolution")), t0 + 1 * HR);
    th_free(r);
    /* A later wish does not stretch the policy. */
    th_iso_utc(t0 + 5 * DAY, s);
    snprintf(dl, sizeof dl, "\"customer_deadline\":\"%s\"", s);
    new_request_at("agent", "complaint", dl, t0, id2);
    r = get_sla("agent", id2);
    c = CLOCK(r, "resolution");
    assert_int_equal(th_parse_utc(th_js(c, "due_at")), t0 + 2 * DAY);
    assert_false(cJSON_IsTrue(th_jpath(c, "adjusted")));
    th_free(r);
}

/* A deadline that moves after its breach was escalated is a new breach: it escalates again,
 * once (the alert is keyed by its due time), and sweeping again adds nothing. */
static void test_moved_deadline_escalates_again(void **state)
{
    (void)state;
    time_t t0 = now_s() - 3 * DAY;
    char id[40], body[160], s[40], path[128];
    new_request_at("agent", "complaint", "\"severity\":\"general\"", t0, id);
    char b[128];
    snprintf(b, sizeof b, "\"department_id\":\"%s\"", dept_cs);
    OK_ACT_AT("agent", id, "dispatch", t0 + 1 * MIN, b);
    OK_ACT_AT("agent", id, "accept", t0 + 2 * MIN, "");
    OK_ACT_AT("agent", id, "arrive", t0 + 3 * MIN, ""); /* only the resolution is missed */
    SWEEP();
    assert_int_equal(escalations(id), 1);
    assert_int_equal(level_of(id), 1);
    /* The customer now asks for an earlier deadline (also passed): the due moves. */
    th_iso_utc(t0 + 1 * DAY, s);
    snprintf(body, sizeof body, "{\"customer_deadline\":\"%s\"}", s);
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    th_resp_t *r = th_get_request("agent", id);
    char im[40];
    snprintf(im, sizeof im, "If-Match: \"%ld\"", th_jn(r->json, "version"));
    th_free(r);
    const char *h[] = {im, NULL};
    r = th_req("PATCH", path, th_token("supervisor"), body, h);
    if (r->status != 200)
        fail_msg("PATCH customer_deadline: %ld %s", r->status, r->body);
    th_free(r);
    assert_int_equal(due_of(id, "resolution"), t0 + 1 * DAY);
    SWEEP();
    assert_int_equal(escalations(id), 2);
    assert_int_equal(level_of(id), 2);
    assert_int_equal(sql_long("SELECT count(DISTINCT due_at) FROM sla_alerts WHERE request_id = $1 "
                              "AND kind = 'escalation' AND target = 'resolution'",
                              id, NULL),
                     2);
    SWEEP(); /* the schedule has not come round again: nothing more */
    assert_int_equal(escalations(id), 2);
}

/* ---------------------------------------------------------------- (g) versions */

static th_resp_t *patch_policy(const char *user, const char *pid, const char *if_match,
                               const char *body)
{
    char path[128], im[64];
    snprintf(path, sizeof path, "/v1/sla/policies/%s", pid);
    snprintf(im, sizeof im, "If-Match: %s", if_match ? if_match : "");
    const char *h[] = {im, NULL};
    return th_req("PATCH", path, th_token(user), body, if_match ? h : NULL);
}

static th_resp_t *reapply(const char *user, const char *id)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/sla/reapply", id);
    return th_req("POST", path, th_token(user), NULL, NULL);
}

static void test_policy_versions_and_reapply(void **state)
{
    (void)state;
    char body[1024], pid[40];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"name\":\"建议\",\"match\":{\"type\":\"suggestion\"},"
             "\"definition\":{\"targets\":{\"first_response\":{\"kind\":\"calendar\","
             "\"minutes\":5},\"resolution\":{\"kind\":\"calendar\",\"minutes\":600}}}}",
             project);
    th_resp_t *r = th_req("POST", "/v1/sla/policies", th_token("admin"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(pid, sizeof pid, "%s", th_js(r->json, "id"));
    assert_int_equal(th_jn(r->json, "version"), 1);
    th_free(r);

    /* R1 starts under version 1 and waits 30 minutes for the customer. */
    char r1[40], r2[40], until[40];
    time_t t1 = now_s() - 1 * HR;
    new_request_at("agent", "suggestion", "", t1, r1);
    th_iso_utc(now_s() + DAY, until);
    snprintf(body, sizeof body, "\"pending_reason\":\"customer\",\"pending_until\":\"%s\"", until);
    OK_ACT_AT("agent", r1, "pend", t1 + 10 * MIN, body);
    OK_ACT_AT("agent", r1, "resume", t1 + 40 * MIN, "");
    r = get_sla("agent", r1);
    assert_string_equal(th_js(r->json, "policy.id"), pid);
    assert_int_equal(th_jn(r->json, "policy.version"), 1);
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")),
                     t1 + 600 * MIN + 30 * MIN);
    th_free(r);

    /* The change needs the version read, and a current one. */
    const char *def = "{\"definition\":{\"targets\":{\"first_response\":{\"kind\":\"calendar\","
                      "\"minutes\":5},\"resolution\":{\"kind\":\"calendar\",\"minutes\":1200}}}}";
    EXPECT_PROBLEM(patch_policy("admin", pid, NULL, def), 428, "if_match_required");
    EXPECT_PROBLEM(patch_policy("admin", pid, "\"7\"", def), 412, "stale_version");
    EXPECT_PROBLEM(patch_policy("agent", pid, "\"1\"", def), 403, NULL);
    r = patch_policy("admin", pid, "\"1\"", def);
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_header(r, "ETag"), "\"2\"");
    assert_int_equal(th_jn(r->json, "version"), 2);
    assert_int_equal(th_jn(r->json, "definition.targets.resolution.minutes"), 1200);
    th_free(r);
    EXPECT_PROBLEM(patch_policy("admin", pid, "\"1\"", def), 412, "stale_version");

    /* New requests take version 2 ... */
    time_t t2 = now_s() - 60;
    new_request_at("agent", "suggestion", "", t2, r2);
    r = get_sla("agent", r2);
    assert_int_equal(th_jn(r->json, "policy.version"), 2);
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), t2 + 1200 * MIN);
    th_free(r);
    /* ... R1 keeps version 1, through sweeps and actions too. */
    SWEEP();
    r = get_sla("agent", r1);
    assert_int_equal(th_jn(r->json, "policy.version"), 1);
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), t1 + 630 * MIN);
    th_free(r);
    r = th_get_request("agent", r1);
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.resolution")), t1 + 630 * MIN);
    th_free(r);

    /* Re-application is explicit, by an SLA administrator, and keeps the pause. */
    EXPECT_PROBLEM(reapply("agent", r1), 403, NULL);
    EXPECT_PROBLEM(reapply("manager", r1), 403, NULL);
    r = reapply("admin", r1);
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = get_sla("agent", r1);
    assert_int_equal(th_jn(r->json, "policy.version"), 2);
    const cJSON *res = CLOCK(r, "resolution");
    assert_int_equal(th_parse_utc(th_js(res, "due_at")), t1 + 1200 * MIN + 30 * MIN);
    assert_int_equal(th_jn(res, "paused_seconds"), 30 * MIN);
    assert_int_equal(th_jn(res, "pauses"), 1);
    th_free(r);
    r = th_get_request("agent", r1);
    assert_int_equal(th_parse_utc(th_js(r->json, "sla.due.resolution")), t1 + 1230 * MIN);
    th_free(r);
    const cJSON *ev[4];
    th_resp_t *tl;
    assert_int_equal(timeline_events(r1, "sla_reapplied", ev, 4, &tl), 1);
    th_free(tl);

    /* A rename is a change too: a new version with the same definition, so a client still
     * holding ETag "2" cannot overwrite it unseen. */
    r = patch_policy("admin", pid, "\"2\"", "{\"name\":\"建议（改）\"}");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_header(r, "ETag"), "\"3\"");
    assert_int_equal(th_jn(r->json, "version"), 3);
    assert_string_equal(th_js(r->json, "name"), "建议（改）");
    assert_int_equal(th_jn(r->json, "definition.targets.resolution.minutes"), 1200);
    th_free(r);
    EXPECT_PROBLEM(patch_policy("admin", pid, "\"2\"", "{\"active\":false}"), 412, "stale_version");
    r = patch_policy("admin", pid, "\"3\"", "{\"active\":false}");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_header(r, "ETag"), "\"4\"");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r->json, "active")));
    assert_int_equal(th_jn(r->json, "definition.targets.resolution.minutes"), 1200);
    th_free(r);
}

/* Re-applying must pick the same policy creation would: the most specific, category
 * included. */
static void test_reapply_keeps_category_policy(void **state)
{
    (void)state;
    char body[1024], pid[40], id[40];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"name\":\"表扬·服务态度\",\"match\":{\"type\":\"praise\","
             "\"category\":\"attitude\"},\"definition\":{\"targets\":{\"resolution\":{\"kind\":"
             "\"calendar\",\"minutes\":90}}}}",
             project);
    th_resp_t *r = th_req("POST", "/v1/sla/policies", th_token("admin"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(pid, sizeof pid, "%s", th_js(r->json, "id"));
    th_free(r);
    time_t t0 = now_s() - 60;
    new_request_at("agent", "praise", "\"category\":\"attitude\"", t0, id);
    r = get_sla("agent", id);
    assert_string_equal(th_js(r->json, "policy.id"), pid);
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), t0 + 90 * MIN);
    th_free(r);
    r = reapply("admin", id);
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = get_sla("agent", id);
    if (strcmp(th_js(r->json, "policy.id"), pid) != 0)
        fail_msg("re-apply switched a praise/attitude request from its category policy %s to "
                 "%s (%s)",
                 pid, th_js(r->json, "policy.id"), th_js(r->json, "policy.name"));
    assert_int_equal(th_parse_utc(th_js(CLOCK(r, "resolution"), "due_at")), t0 + 90 * MIN);
    th_free(r);
}

/* ---------------------------------------------------------------- (h) warnings */

static void test_warning_at_80_percent(void **state)
{
    (void)state;
    /* Unassigned: the project's agents are warned. */
    char id[40];
    time_t t0 = now_s() - (time_t)(1.7 * DAY);
    new_request_at("agent", "inquiry", "", t0, id);
    long w = -1;
    sweep_at(__LINE__, &w);
    assert_true(w >= 1);
    assert_int_equal(warnings_of(id), 1);
    assert_int_equal(sql_long("SELECT count(*) FROM sla_alerts WHERE request_id = $1 AND kind = "
                              "'warning' AND target = 'resolution' AND level = 0",
                              id, NULL),
                     1);
    assert_int_equal(escalations(id), 0);
    assert_int_equal(level_of(id), 0);
    assert_int_equal(notes("agent", id, "sla_warning"), 1);
    assert_int_equal(api_has_note("agent", id, "sla_warning", "&unread=true", NULL), 1);
    assert_int_equal(notes("supervisor", id, "sla_warning"), 0);
    assert_int_equal(sql_long("SELECT count(*) FROM notifications WHERE request_id = $1", id, NULL),
                     sql_long("SELECT count(*) FROM users u JOIN user_projects up ON up.user_id = "
                              "u.id WHERE u.role = 'agent' AND u.active AND up.project_id = $1",
                              project, NULL));
    const cJSON *ev[4];
    th_resp_t *tl;
    assert_int_equal(timeline_events(id, "sla_warning", ev, 4, &tl), 1);
    assert_string_equal(th_js(ev[0], "details.target"), "resolution");
    th_free(tl);
    /* Once. */
    let_schedule_pass(id);
    SWEEP();
    SWEEP();
    assert_int_equal(warnings_of(id), 1);
    assert_int_equal(notes("agent", id, "sla_warning"), 1);

    /* Assigned: the assignee alone. */
    char id2[40], b[160];
    new_request_at("agent", "inquiry", "", t0, id2);
    snprintf(b, sizeof b, "\"department_id\":\"%s\",\"assignee_id\":\"%s\"", dept_cs, uid_super);
    OK_ACT_AT("agent", id2, "dispatch", t0 + MIN, b);
    SWEEP();
    assert_int_equal(warnings_of(id2), 1);
    assert_int_equal(notes("supervisor", id2, "sla_warning"), 1);
    assert_int_equal(notes("agent", id2, "sla_warning"), 0);
    /* Well before 80 %: no warning. */
    char id3[40];
    new_request_at("agent", "inquiry", "", now_s() - DAY, id3);
    SWEEP();
    assert_int_equal(warnings_of(id3), 0);
}

/* ---------------------------------------------------------------- (i) manual */

static th_resp_t *escalate(const char *user, const char *id, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/escalate", id);
    return th_req("POST", path, th_token(user), body, NULL);
}

static const char state_sql[] =
    "SELECT r.version || ':' || r.escalation_level || ':' || (SELECT count(*) FROM "
    "request_events e WHERE e.request_id = r.id) || ':' || (SELECT count(*) FROM "
    "notifications n WHERE n.request_id = r.id) || ':' || r.updated_at FROM requests r "
    "WHERE r.id = $1";

static char *state_of(const char *id)
{
    return th_snapshot(state_sql, id);
}
#define EXPECT_SAME(id, before) th_expect_snapshot_at(__LINE__, state_sql, (id), (before))

static void test_manual_escalation(void **state)
{
    (void)state;
    char id[40];
    new_request("agent", "complaint", "", id);
    char *before = state_of(id);
    EXPECT_PROBLEM(escalate("agent", id, "{}"), 422, "missing_field");
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":\"\"}"), 422, "invalid_field");
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":7}"), 422, "invalid_field");
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":\"x\",\"level\":5}"), 422, "invalid_field");
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":\"x\",\"level\":1.5}"), 422, "invalid_field");
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":\"x\",\"urgent\":true}"), 422,
                   "unknown_field");
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":"), 400, "malformed_json");
    EXPECT_PROBLEM(escalate("resident", id, "{\"reason\":\"x\"}"), 403, NULL);
    EXPECT_PROBLEM(escalate("technician", id, "{\"reason\":\"x\"}"), 403, NULL);
    EXPECT_PROBLEM(escalate("security", id, "{\"reason\":\"x\"}"), 403, NULL);
    EXPECT_PROBLEM(escalate("other.agent", id, "{\"reason\":\"x\"}"), 404, NULL);
    EXPECT_SAME(id, before);
    free(before);

    th_resp_t *r = escalate("agent", id, "{\"reason\":\"业主情绪激动，超出前台权限\"}");
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "escalation_level"), 1);
    th_free(r);
    assert_int_equal(level_of(id), 1);
    assert_int_equal(notes("supervisor", id, "sla_escalation"), 1);
    const cJSON *ev[4];
    th_resp_t *tl;
    assert_int_equal(timeline_events(id, "escalate", ev, 4, &tl), 1);
    assert_int_equal(th_jn(ev[0], "details.level"), 1);
    assert_string_equal(th_js(ev[0], "details.reason"), "业主情绪激动，超出前台权限");
    assert_true(cJSON_IsTrue(th_jpath(ev[0], "details.manual")));
    assert_string_equal(th_js(ev[0], "actor_role"), "agent");
    th_free(tl);
    /* Straight to a named level; never down. */
    r = escalate("supervisor", id, "{\"reason\":\"需要经理处理\",\"level\":3}");
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "escalation_level"), 3);
    th_free(r);
    assert_int_equal(notes("director", id, "sla_escalation"), 1);
    assert_int_equal(notes("manager", id, "sla_escalation"), 0);
    before = state_of(id);
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":\"x\",\"level\":2}"), 409,
                   "already_escalated");
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":\"x\",\"level\":3}"), 409,
                   "already_escalated");
    EXPECT_SAME(id, before);
    free(before);
    r = escalate("agent", id, "{\"reason\":\"呈总经理\"}");
    EXPECT_STATUS(r, 200);
    assert_int_equal(th_jn(r->json, "escalation_level"), 4);
    th_free(r);
    assert_int_equal(notes("gm", id, "sla_escalation"), 1);
    /* At the top. */
    before = state_of(id);
    EXPECT_PROBLEM(escalate("agent", id, "{\"reason\":\"再升\"}"), 409, "already_escalated");
    EXPECT_SAME(id, before);
    free(before);
    assert_int_equal(level_of(id), 4);

    /* A closed request is not escalated. */
    char done[40];
    new_request("agent", "inquiry", "", done);
    OK_ACT("agent", done, "resolve", "{\"resolution\":\"已答复\"}");
    OK_ACT("agent", done, "close", NULL);
    before = state_of(done);
    EXPECT_PROBLEM(escalate("agent", done, "{\"reason\":\"x\"}"), 409, "invalid_transition");
    EXPECT_SAME(done, before);
    free(before);
}

/* ---------------------------------------------------------------- (j) notifications */

static void test_notifications(void **state)
{
    (void)state;
    char id[40], nid[40];
    new_request("agent", "inquiry", "", id);
    th_resp_t *r = escalate("agent", id, "{\"reason\":\"通知测试\"}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = escalate("agent", id, "{\"reason\":\"通知测试 2\"}");
    EXPECT_STATUS(r, 200);
    th_free(r);
    assert_int_equal(api_has_note("supervisor", id, "sla_escalation", "&unread=true", nid), 1);
    assert_int_equal(strlen(nid), 36);
    /* Someone else's notification does not exist for you. */
    char path[160];
    snprintf(path, sizeof path, "/v1/notifications/%s/read", nid);
    EXPECT_PROBLEM(th_req("POST", path, th_token("manager"), NULL, NULL), 404, "not_found");
    EXPECT_PROBLEM(th_req("POST", path, th_token("other.supervisor"), NULL, NULL), 404, NULL);
    EXPECT_PROBLEM(th_req("POST", path, th_token("resident"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("POST", "/v1/notifications/7f0b3c2e-1111-4222-8333-944455556666/read",
                          th_token("supervisor"), NULL, NULL),
                   404, NULL);
    EXPECT_PROBLEM(
        th_req("POST", "/v1/notifications/nope/read", th_token("supervisor"), NULL, NULL), 404,
        NULL);
    assert_int_equal(api_has_note("supervisor", id, "sla_escalation", "&unread=true", NULL), 1);
    /* Read: gone from the unread list, still in the full list with read_at. */
    r = th_req("POST", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 204);
    th_free(r);
    r = th_req("POST", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 204);
    th_free(r);
    assert_int_equal(api_has_note("supervisor", id, "sla_escalation", "&unread=true", NULL), 0);
    r = th_req("GET", "/v1/notifications?limit=200", th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    int seen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), nid)) {
            seen = 1;
            assert_true(th_parse_utc(th_js(it, "read_at")) > 0);
            assert_int_equal(th_jn(it, "payload.level"), 1);
            assert_string_equal(th_js(it, "payload.reason"), "通知测试");
        }
    }
    assert_true(seen);
    th_free(r);
    /* The manager's own (level 2) is untouched. */
    assert_int_equal(api_has_note("manager", id, "sla_escalation", "&unread=true", NULL), 1);
    /* Paging: limit=1 walks every item once. */
    long total = sql_long("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                          "WHERE u.username = $1",
                          "manager", NULL);
    assert_true(total >= 1);
    char cursor[256] = "";
    long walked = 0;
    for (int guard = 0; guard < 500; guard++) {
        char p2[400];
        snprintf(p2, sizeof p2, "/v1/notifications?limit=1%s%s", cursor[0] ? "&cursor=" : "",
                 cursor);
        r = th_req("GET", p2, th_token("manager"), NULL, NULL);
        EXPECT_STATUS(r, 200);
        walked += cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items"));
        const cJSON *nc = cJSON_GetObjectItem(r->json, "next_cursor");
        int more = cJSON_IsString(nc);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", nc->valuestring);
        th_free(r);
        if (!more)
            break;
    }
    assert_int_equal(walked, total);
    /* Bad queries. */
    EXPECT_PROBLEM(th_req("GET", "/v1/notifications?unread=maybe", th_token("manager"), NULL, NULL),
                   400, "invalid_query");
    EXPECT_PROBLEM(th_req("GET", "/v1/notifications?limit=0", th_token("manager"), NULL, NULL), 400,
                   "invalid_query");
    EXPECT_PROBLEM(th_req("GET", "/v1/notifications?cursor=zz", th_token("manager"), NULL, NULL),
                   400, "invalid_cursor");
    EXPECT_PROBLEM(th_req("GET", "/v1/notifications", th_token("resident"), NULL, NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/notifications", NULL, NULL, NULL), 401, NULL);
    /* The other organisation sees none of ours. */
    r = th_req("GET", "/v1/notifications?limit=200", th_token("other.supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
        assert_string_not_equal(th_js(it, "request_id"), id);
    th_free(r);
}

/* ---------------------------------------------------------------- (k) bad input */

static char *sla_totals(void)
{
    const char *s = th_sql1(
        "SELECT (SELECT count(*) FROM sla_policies) || ':' || (SELECT count(*) FROM "
        "sla_policy_versions) || ':' || (SELECT coalesce(sum(current_version), 0) FROM "
        "sla_policies) || ':' || (SELECT count(*) FROM sla_calendar_versions) || ':' || (SELECT "
        "coalesce(sum(current_version), 0) FROM sla_calendars) || ':' || (SELECT count(*) FROM "
        "sla_extensions) || ':' || (SELECT count(*) FROM sla_alerts) || ':' || (SELECT count(*) "
        "FROM notifications) || ':' || (SELECT count(*) FROM request_events) || ':' || (SELECT "
        "coalesce(sum(version), 0) FROM requests) || ':' || (SELECT "
        "coalesce(sum(escalation_level), "
        "0) FROM requests) || ':' || (SELECT count(*) FROM notifications WHERE read_at IS NOT "
        "NULL)",
        NULL, 0);
    return strdup(s ? s : "(none)");
}

static th_resp_t *post(const char *user, const char *path, const char *body)
{
    return th_req("POST", path, th_token(user), body, NULL);
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    char id[40], pid[40], path[256], ppath[160], cpath[160], b[2048];
    new_request("agent", "complaint", "", id);
    snprintf(pid, sizeof pid, "%s",
             th_sql1("SELECT p.id FROM sla_policies p WHERE p.match_type = 'repair' AND "
                     "p.match_severity IS NULL AND p.project_id = $1",
                     (const char *const[]){project}, 1));
    snprintf(ppath, sizeof ppath, "/v1/sla/policies/%s", pid);
    snprintf(cpath, sizeof cpath, "/v1/projects/%s/calendar", project);
    th_resp_t *r = th_req("GET", ppath, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    char pim[48], cim[48];
    snprintf(pim, sizeof pim, "If-Match: %s", th_header(r, "ETag"));
    th_free(r);
    r = th_req("GET", cpath, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    snprintf(cim, sizeof cim, "If-Match: %s", th_header(r, "ETag"));
    th_free(r);
    const char *hp[] = {pim, NULL}, *hc[] = {cim, NULL};
    const char *stale[] = {"If-Match: \"99\"", NULL}, *junk[] = {"If-Match: \"abc\"", NULL};
    const char *adm = th_token("admin");
    char *before = sla_totals();

    /* ---- POST /v1/sla/policies */
    static const struct {
        const char *match, *def;
        long status;
    } pc[] = {
        {"{\"type\":\"fire\"}", "{\"targets\":{}}", 422},
        {"{\"severity\":\"urgent\"}", "{\"targets\":{}}", 422},
        {"{\"category\":\"noise\"}", "{\"targets\":{}}", 422},
        {"\"praise\"", "{\"targets\":{}}", 422},
        {"{\"type\":\"praise\"}", "\"fast\"", 422},
        {"{\"type\":\"praise\"}", "{}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":[]}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":{\"lunch\":{\"kind\":\"calendar\",\"minutes\":5}}}",
         422},
        {"{\"type\":\"praise\"}", "{\"targets\":{\"resolution\":{\"kind\":\"weekly\"}}}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":{\"resolution\":{\"minutes\":5}}}", 422},
        {"{\"type\":\"praise\"}",
         "{\"targets\":{\"resolution\":{\"kind\":\"calendar\",\"minutes\":0}}}", 422},
        {"{\"type\":\"praise\"}",
         "{\"targets\":{\"resolution\":{\"kind\":\"calendar\",\"minutes\":1.5}}}", 422},
        {"{\"type\":\"praise\"}",
         "{\"targets\":{\"resolution\":{\"kind\":\"business\",\"minutes\":\"60\"}}}", 422},
        {"{\"type\":\"praise\"}",
         "{\"targets\":{\"resolution\":{\"kind\":\"calendar\",\"minutes\":9999999}}}", 422},
        {"{\"type\":\"praise\"}",
         "{\"targets\":{\"handover\":{\"kind\":\"next_local_time\",\"at\":\"25:00\"}}}", 422},
        {"{\"type\":\"praise\"}",
         "{\"targets\":{\"handover\":{\"kind\":\"next_local_time\",\"at\":\"9:00\"}}}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":{\"handover\":{\"kind\":\"next_local_time\"}}}",
         422},
        {"{\"type\":\"praise\"}", "{\"targets\":{},\"warn_pct\":100}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":{},\"warn_pct\":0}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":{},\"escalate_every_minutes\":0}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":{},\"escalate_every_minutes\":\"hourly\"}", 422},
        {"{\"type\":\"praise\"}", "{\"targets\":{},\"colour\":\"red\"}", 422},
        /* The same match as the shipped repair policy. */
        {"{\"type\":\"repair\"}", "{\"targets\":{}}", 409},
    };
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++) {
        snprintf(b, sizeof b,
                 "{\"project_id\":\"%s\",\"name\":\"坏策略\",\"match\":%s,\"definition\":%s}",
                 project, pc[i].match, pc[i].def);
        r = th_req("POST", "/v1/sla/policies", adm, b, NULL);
        if (!th_is_problem(r, pc[i].status, NULL))
            fail_msg("policy case %zu: expected %ld, got %ld %s", i, pc[i].status, r->status,
                     r->body);
        th_free(r);
    }
    EXPECT_PROBLEM(post("admin", "/v1/sla/policies", "{\"name\":"), 400, "malformed_json");
    EXPECT_PROBLEM(post("admin", "/v1/sla/policies", "[1]"), 400, NULL);
    snprintf(b, sizeof b,
             "{\"project_id\":\"%s\",\"name\":\"x\",\"definition\":{\"targets\":{}},\"tag\":1}",
             project);
    EXPECT_PROBLEM(post("admin", "/v1/sla/policies", b), 422, "unknown_field");
    snprintf(b, sizeof b, "{\"project_id\":\"%s\",\"definition\":{\"targets\":{}}}", project);
    EXPECT_PROBLEM(post("admin", "/v1/sla/policies", b), 422, "missing_field");
    EXPECT_PROBLEM(post("admin", "/v1/sla/policies",
                        "{\"project_id\":\"p1\",\"name\":\"x\",\"definition\":{\"targets\":{}}}"),
                   422, NULL);
    snprintf(b, sizeof b,
             "{\"project_id\":\"%s\",\"name\":\"x\",\"match\":{\"type\":\"praise\"},"
             "\"definition\":{\"targets\":{}}}",
             project);
    EXPECT_PROBLEM(post("agent", "/v1/sla/policies", b), 403, NULL);
    EXPECT_PROBLEM(post("manager", "/v1/sla/policies", b), 403, NULL);

    /* ---- PATCH /v1/sla/policies/{id} */
    const char *okdef = "{\"definition\":{\"targets\":{\"resolution\":{\"kind\":\"calendar\","
                        "\"minutes\":60}}}}";
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, okdef, NULL), 428, "if_match_required");
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, okdef, stale), 412, "stale_version");
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, okdef, junk), 412, NULL);
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, "{}", hp), 422, NULL);
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, "{\"definition\":", hp), 400, "malformed_json");
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, "{\"match\":{\"type\":\"inquiry\"}}", hp), 422,
                   "unknown_field");
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, "{\"name\":\"\"}", hp), 422, NULL);
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm, "{\"active\":\"no\"}", hp), 422, NULL);
    EXPECT_PROBLEM(th_req("PATCH", ppath, adm,
                          "{\"definition\":{\"targets\":{\"resolution\":{\"kind\":\"calendar\","
                          "\"minutes\":-5}}}}",
                          hp),
                   422, "invalid_policy");
    EXPECT_PROBLEM(th_req("PATCH", ppath, th_token("agent"), okdef, hp), 403, NULL);
    EXPECT_PROBLEM(th_req("PATCH", ppath, th_token("other.admin"), okdef, hp), 404, NULL);
    EXPECT_PROBLEM(
        th_req("PATCH", "/v1/sla/policies/7f0b3c2e-1111-4222-8333-944455556666", adm, okdef, hp),
        404, NULL);

    /* ---- PUT /v1/projects/{id}/calendar */
    static const char *const bad_cal[] = {
        "{\"time_zone\":\"Mars/Base\",\"weekly\":{\"mon\":[[\"09:00\",\"18:00\"]]}}",
        "{\"time_zone\":\"../../etc/passwd\",\"weekly\":{}}",
        "{\"time_zone\":\"\",\"weekly\":{}}",
        "{\"weekly\":{\"mon\":[[\"09:00\",\"18:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\"}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"09:00\",\"12:00\"],[\"11:00\","
        "\"18:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"18:00\",\"09:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"09:00\",\"09:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"09:00\",\"25:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"9am\",\"5pm\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"09:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"01:00\",\"02:00\"],[\"03:00\","
        "\"04:00\"],[\"05:00\",\"06:00\"],[\"07:00\",\"08:00\"],[\"09:00\",\"10:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"funday\":[[\"09:00\",\"18:00\"]]}}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"2026-13-01\"]}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"01/05/2026\"]}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":\"2026-10-01\"}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"2026-10-01\"],"
        "\"makeup_days\":[\"2026-10-01\"]}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"makeup_hours\":[[\"18:00\",\"09:00\"]]}",
        "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"lunch\":[[\"12:00\",\"13:00\"]]}",
    };
    for (size_t i = 0; i < sizeof bad_cal / sizeof bad_cal[0]; i++) {
        r = th_req("PUT", cpath, adm, bad_cal[i], hc);
        if (!th_is_problem(r, 422, "invalid_calendar"))
            fail_msg("calendar case %zu (%s): expected 422 invalid_calendar, got %ld %s", i,
                     bad_cal[i], r->status, r->body);
        th_free(r);
    }
    const char *okcal = "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"09:00\","
                        "\"18:00\"]]}}";
    EXPECT_PROBLEM(th_req("PUT", cpath, adm, okcal, NULL), 428, "if_match_required");
    EXPECT_PROBLEM(th_req("PUT", cpath, adm, okcal, stale), 412, "stale_version");
    EXPECT_PROBLEM(th_req("PUT", cpath, adm, "{\"time_zone\":", hc), 400, "malformed_json");
    EXPECT_PROBLEM(th_req("PUT", cpath, th_token("agent"), okcal, hc), 403, NULL);
    EXPECT_PROBLEM(th_req("PUT", cpath, th_token("other.admin"), okcal, hc), 404, NULL);

    /* ---- extensions */
    snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions", id);
    char fut[40], past[40];
    th_iso_utc(now_s() + 3 * DAY, fut);
    th_iso_utc(now_s() - HR, past);
    char eb[9][512];
    snprintf(eb[0], 512, "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":\"x\",\"y\":1}",
             fut);
    snprintf(eb[1], 512, "{\"target\":\"resolution\",\"new_due\":\"%s\"}", fut);
    snprintf(eb[2], 512, "{\"target\":\"lunch\",\"new_due\":\"%s\",\"reason\":\"x\"}", fut);
    snprintf(eb[3], 512, "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":\"x\"}", past);
    snprintf(eb[4], 512, "{\"target\":\"resolution\",\"new_due\":\"soon\",\"reason\":\"x\"}");
    snprintf(eb[5], 512, "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":\"\"}", fut);
    snprintf(eb[6], 512, "{\"target\":\"resolution\",\"new_due\":%ld,\"reason\":\"x\"}",
             (long)now_s() + DAY);
    snprintf(eb[7], 512, "{\"target\":5,\"new_due\":\"%s\",\"reason\":\"x\"}", fut);
    snprintf(eb[8], 512, "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":[\"x\"]}", fut);
    static const char *const ecode[] = {"unknown_field", "missing_field", "invalid_enum",
                                        "invalid_field", "invalid_field", "invalid_field",
                                        "invalid_field", "invalid_enum",  "invalid_field"};
    for (int i = 0; i < 9; i++) {
        r = post("agent", path, eb[i]);
        if (!th_is_problem(r, 422, ecode[i]))
            fail_msg("extension case %d: expected 422 %s, got %ld %s", i, ecode[i], r->status,
                     r->body);
        th_free(r);
    }
    EXPECT_PROBLEM(post("agent", path, "{\"target\":"), 400, "malformed_json");
    /* Not an extension: earlier than the current due (2 days), or a clock it does not have. */
    char soon[40];
    th_iso_utc(now_s() + 1 * HR, soon);
    snprintf(b, sizeof b, "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":\"x\"}", soon);
    EXPECT_PROBLEM(post("agent", path, b), 422, "not_an_extension");
    snprintf(b, sizeof b, "{\"target\":\"gm_report\",\"new_due\":\"%s\",\"reason\":\"x\"}", fut);
    EXPECT_PROBLEM(post("agent", path, b), 409, "no_deadline");
    snprintf(b, sizeof b, "{\"target\":\"resolution\",\"new_due\":\"%s\",\"reason\":\"x\"}", fut);
    EXPECT_PROBLEM(post("other.agent", path, b), 404, NULL);
    snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions/nope/approve", id);
    EXPECT_PROBLEM(post("director", path, NULL), 404, NULL);
    snprintf(path, sizeof path,
             "/v1/requests/%s/sla/extensions/7f0b3c2e-1111-4222-8333-944455556666/approve", id);
    EXPECT_PROBLEM(post("director", path, NULL), 404, "not_found"); /* no such extension */
    EXPECT_PROBLEM(post("director", path, "{\"note\":7}"), 422, "invalid_field");

    /* ---- reads, reapply, sweep */
    EXPECT_PROBLEM(th_req("GET", "/v1/requests/nope/sla", th_token("agent"), NULL, NULL), 404,
                   NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/requests/7f0b3c2e-1111-4222-8333-944455556666/sla",
                          th_token("agent"), NULL, NULL),
                   404, NULL);
    EXPECT_PROBLEM(
        post("admin", "/v1/requests/7f0b3c2e-1111-4222-8333-944455556666/sla/reapply", NULL), 404,
        NULL);
    EXPECT_PROBLEM(th_req("GET", "/v1/sla/policies?project_id=xyz", adm, NULL, NULL), 400,
                   "invalid_query");
    EXPECT_PROBLEM(post("agent", "/v1/admin/sla/sweep", NULL), 403, NULL);
    EXPECT_PROBLEM(post("gm", "/v1/admin/sla/sweep", NULL), 403, NULL);
    EXPECT_PROBLEM(th_req("POST", "/v1/admin/sla/sweep", NULL, NULL, NULL), 401, NULL);
    snprintf(path, sizeof path, "/v1/requests/%s/sla", id);
    EXPECT_PROBLEM(th_req("GET", path, th_token("resident2"), NULL, NULL), 403, NULL);

    char *after = sla_totals();
    if (strcmp(before, after) != 0)
        fail_msg("refused SLA calls changed something:\n  before %s\n  after  %s", before, after);
    free(before);
    free(after);
}

/* Dates are checked as dates: 30 February is not a holiday. */
static void test_calendar_rejects_impossible_date(void **state)
{
    (void)state;
    char cpath[160];
    snprintf(cpath, sizeof cpath, "/v1/projects/%s/calendar", project);
    th_resp_t *r = th_req("GET", cpath, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    char cim[48];
    snprintf(cim, sizeof cim, "If-Match: %s", th_header(r, "ETag"));
    th_free(r);
    const char *hc[] = {cim, NULL};
    r = th_req("PUT", cpath, th_token("admin"),
               "{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"mon\":[[\"09:00\",\"20:00\"]],"
               "\"tue\":[[\"09:00\",\"20:00\"]],\"wed\":[[\"09:00\",\"20:00\"]],\"thu\":[["
               "\"09:00\",\"20:00\"]],\"fri\":[[\"09:00\",\"20:00\"]],\"sat\":[[\"09:00\","
               "\"20:00\"]],\"sun\":[[\"09:00\",\"20:00\"]]},\"holidays\":[\"2027-02-30\"]}",
               hc);
    int ok = th_is_problem(r, 422, "invalid_calendar");
    long st = r->status;
    th_free(r);
    if (!ok)
        fail_msg("holiday 2027-02-30 accepted (HTTP %ld): it was stored as 2027-03-02", st);
}

/* ---------------------------------------------------------------- isolation */

static void test_other_org_sees_nothing(void **state)
{
    (void)state;
    char id[40], path[256], pid[40];
    new_request("agent", "complaint", "", id);
    snprintf(pid, sizeof pid, "%s",
             th_sql1("SELECT id FROM sla_policies WHERE project_id = $1 LIMIT 1",
                     (const char *const[]){project}, 1));
    char *before = sla_totals();
    static const char *const users[] = {"other.admin", "other.gm", "other.director", "other.agent"};
    for (int u = 0; u < 4; u++) {
        const char *tok = th_token(users[u]);
        /* Administrators never read requests (403 whatever the id, as in their own
         * organisation); the others do not find it (404). */
        snprintf(path, sizeof path, "/v1/requests/%s/sla", id);
        EXPECT_PROBLEM(th_req("GET", path, tok, NULL, NULL), u == 0 ? 403 : 404, NULL);
        snprintf(path, sizeof path, "/v1/requests/%s/sla/extensions", id);
        EXPECT_PROBLEM(th_req("GET", path, tok, NULL, NULL), u == 0 ? 403 : 404, NULL);
        snprintf(path, sizeof path, "/v1/projects/%s/calendar", project);
        EXPECT_PROBLEM(th_req("GET", path, tok, NULL, NULL), 404, NULL);
        snprintf(path, sizeof path, "/v1/sla/policies/%s", pid);
        EXPECT_PROBLEM(th_req("GET", path, tok, NULL, NULL), 404, NULL);
        snprintf(path, sizeof path, "/v1/requests/%s/escalate", id);
        /* Administrators never escalate (403); desk roles do not find it (404). */
        EXPECT_PROBLEM(th_req("POST", path, tok, "{\"reason\":\"x\"}", NULL), u == 0 ? 403 : 404,
                       NULL);
    }
    snprintf(path, sizeof path, "/v1/requests/%s/sla/reapply", id);
    EXPECT_PROBLEM(post("other.admin", path, NULL), 404, NULL);
    snprintf(path, sizeof path, "/v1/sla/policies?project_id=%s", project);
    th_resp_t *r = th_req("GET", path, th_token("other.admin"), NULL, NULL);
    assert_true(r->status == 200 || r->status == 404);
    if (r->status == 200)
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")), 0);
    th_free(r);
    r = th_req("GET", "/v1/sla/policies", th_token("other.admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *it;
    int theirs = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        assert_string_not_equal(th_js(it, "project_id"), project);
        theirs++;
    }
    assert_true(theirs >= 6); /* their own project's shipped policies */
    th_free(r);
    /* The demo admin sees the demo ones. */
    r = th_req("GET", path, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "items")) >= 6);
    th_free(r);
    char *after = sla_totals();
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* Creating a policy in a project of another organisation: not found, like every
     * other look at it. */
    char b[512];
    snprintf(b, sizeof b,
             "{\"project_id\":\"%s\",\"name\":\"x\",\"match\":{\"type\":\"praise\"},"
             "\"definition\":{\"targets\":{}}}",
             project);
    EXPECT_PROBLEM(post("other.admin", "/v1/sla/policies", b), 404, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy_table),
        cmocka_unit_test(test_major_complaint_reaches_gm_same_day),
        cmocka_unit_test(test_upgraded_to_major_reaches_gm),
        cmocka_unit_test(test_general_complaint_climbs_ladder),
        cmocka_unit_test(test_director_extension),
        cmocka_unit_test(test_business_pause_over_weekend),
        cmocka_unit_test(test_night_desk_misses_nine),
        cmocka_unit_test(test_customer_deadline_wins),
        cmocka_unit_test(test_moved_deadline_escalates_again),
        cmocka_unit_test(test_policy_versions_and_reapply),
        cmocka_unit_test(test_reapply_keeps_category_policy),
        cmocka_unit_test(test_warning_at_80_percent),
        cmocka_unit_test(test_manual_escalation),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_calendar_rejects_impossible_date),
        cmocka_unit_test(test_other_org_sees_nothing),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
