/*
 * tests/core/test_sla_request.c — the SLA of one request, pure: which policy applies
 * (core_sla_policy_match), the clocks read off synthetic timelines
 * (core_sla_request_eval: first response, on site, resolution, pauses in calendar and
 * business time, night-desk hand-over, callback, GM report, extensions, customer
 * deadlines) and what a sweep must record (core_sla_plan: one warning, the ladder, the
 * schedule, the top, a major complaint straight to the GM, next_check).  Calendars use
 * real zone data from /usr/share/zoneinfo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "core/sla_request.h"
#include "core/tz.h"
#include "tests/lib/zones.h"

#define MIN  60
#define HR   3600
#define DAY  86400
#define NONE 0

static tz_rules_t *shanghai;
static calendar_t cal_daily;  /* 09:00–20:00 every day (the demo desk) */
static calendar_t cal_office; /* Mon–Fri 09:00–18:00 */

static int setup(void **state)
{
    (void)state;
    shanghai = th_zone_load("Asia/Shanghai");
    if (!shanghai)
        return -1;
    memset(&cal_daily, 0, sizeof cal_daily);
    memset(&cal_office, 0, sizeof cal_office);
    cal_daily.tz = cal_office.tz = shanghai;
    for (int d = 0; d < 7; d++) {
        cal_daily.weekly[d].nsegments = 1;
        cal_daily.weekly[d].seg[0] = (segment_t){9 * 60, 20 * 60};
        if (d < 5) {
            cal_office.weekly[d].nsegments = 1;
            cal_office.weekly[d].seg[0] = (segment_t){9 * 60, 18 * 60};
        }
    }
    char err[128];
    if (core_calendar_validate(&cal_daily, err, sizeof err) != 0 ||
        core_calendar_validate(&cal_office, err, sizeof err) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_tz_free(shanghai);
    return 0;
}

/* Local wall time in Shanghai → UTC. */
static int64_t sh(int y, int mo, int d, int h, int mi)
{
    int64_t local = core_days_from_civil(y, mo, d) * DAY + h * HR + mi * MIN;
    return core_tz_local_to_utc(shanghai, local);
}

/* ---------------------------------------------------------------- policies */

static sla_rule_t cal_rule(int64_t s)
{
    return (sla_rule_t){1, SLA_CALENDAR, s, 0, 0};
}

/* The SPEC §4 shape with every clock on: 5 min response / on site, 1 day answer,
 * 2 days resolution, 09:00 hand-over, 24 h callback, GM by end of day. */
static sla_policy_t full_policy(void)
{
    sla_policy_t p;
    memset(&p, 0, sizeof p);
    p.rules[SLA_T_FIRST_RESPONSE] = cal_rule(5 * MIN);
    p.rules[SLA_T_ON_SITE] = cal_rule(5 * MIN);
    p.rules[SLA_T_ANSWER] = cal_rule(1 * DAY);
    p.rules[SLA_T_RESOLUTION] = cal_rule(2 * DAY);
    p.rules[SLA_T_HANDOVER] = (sla_rule_t){1, SLA_NEXT_LOCAL_TIME, 0, 9, 0};
    p.rules[SLA_T_CALLBACK] = cal_rule(24 * HR);
    p.rules[SLA_T_GM_REPORT] = (sla_rule_t){1, SLA_END_OF_DAY, 0, 0, 0};
    p.warn_pct = 80;
    p.escalate_every_s = HR;
    return p;
}

static sla_event_t ev(const char *action, const char *role, const char *from, const char *to,
                      int64_t at)
{
    sla_event_t e;
    memset(&e, 0, sizeof e);
    e.action = action;
    e.actor_role = role;
    e.from_state = from;
    e.to_state = to;
    e.at = at;
    e.target = -1;
    return e;
}

static sla_request_facts_t facts(const char *type, const char *severity)
{
    sla_request_facts_t f;
    memset(&f, 0, sizeof f);
    f.type = type;
    f.severity = severity;
    return f;
}

static void eval_ok(const sla_policy_t *p, const calendar_t *cal, const sla_request_facts_t *f,
                    const sla_event_t *e, size_t n, int64_t now, sla_clock_view_t v[SLA_T__COUNT])
{
    assert_int_equal(core_sla_request_eval(p, cal, f, e, n, now, v), 0);
}

/* ---------------------------------------------------------------- policy match */

static void test_policy_match(void **state)
{
    (void)state;
    const sla_match_t c[] = {
        {NULL, NULL, NULL},             /* 0 default */
        {"complaint", NULL, NULL},      /* 1 */
        {"complaint", "major", NULL},   /* 2 */
        {"complaint", NULL, "fees"},    /* 3 */
        {"repair", NULL, NULL},         /* 4 */
        {"repair", NULL, NULL},         /* 5 same as 4 */
        {"complaint", "major", "fees"}, /* 6 most specific */
    };
    /* Most specific wins. */
    assert_int_equal(core_sla_policy_match(c, 7, "complaint", "major", "fees"), 6);
    assert_int_equal(core_sla_policy_match(c, 7, "complaint", "major", NULL), 2);
    assert_int_equal(core_sla_policy_match(c, 7, "complaint", "major", "attitude"), 2);
    assert_int_equal(core_sla_policy_match(c, 7, "complaint", "general", "fees"), 3);
    assert_int_equal(core_sla_policy_match(c, 7, "complaint", "general", NULL), 1);
    assert_int_equal(core_sla_policy_match(c, 7, "complaint", NULL, NULL), 1);
    /* Ties go to the lower index: 2 and 3 both score 2 without entry 6. */
    assert_int_equal(core_sla_policy_match(c, 6, "complaint", "major", "fees"), 2);
    assert_int_equal(core_sla_policy_match(c, 7, "repair", NULL, NULL), 4);
    assert_int_equal(core_sla_policy_match(c + 5, 2, "repair", NULL, NULL), 0);
    /* NULL members match anything: the default catches the rest. */
    assert_int_equal(core_sla_policy_match(c, 7, "inquiry", NULL, NULL), 0);
    assert_int_equal(core_sla_policy_match(c, 7, "praise", NULL, "fees"), 0);
    /* No match: -1 (no default, unknown type; empty list). */
    assert_int_equal(core_sla_policy_match(c + 1, 6, "inquiry", NULL, NULL), -1);
    assert_int_equal(core_sla_policy_match(c + 2, 1, "complaint", NULL, NULL), -1);
    assert_int_equal(core_sla_policy_match(c + 2, 1, "complaint", "general", NULL), -1);
    assert_int_equal(core_sla_policy_match(c, 0, "complaint", "major", "fees"), -1);
    assert_int_equal(core_sla_policy_match(c + 1, 1, NULL, NULL, NULL), -1);
}

/* ---------------------------------------------------------------- eval */

static void test_first_response(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 10, 0); /* a Wednesday */
    sla_clock_view_t v[SLA_T__COUNT];

    /* A staff member registering it has responded at once. */
    sla_request_facts_t f = facts("inquiry", NULL);
    sla_event_t e1[] = {ev("create", "agent", NULL, "received", t)};
    eval_ok(&p, &cal_daily, &f, e1, 1, t + 10 * MIN, v);
    assert_true(v[SLA_T_FIRST_RESPONSE].active);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].start, t);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].met_at, t);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.due_at, t + 5 * MIN);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.state, SLA_MET);
    /* An inquiry has no on-site clock; no night desk, no callback, no GM report. */
    assert_false(v[SLA_T_ON_SITE].active);
    assert_false(v[SLA_T_HANDOVER].active);
    assert_false(v[SLA_T_CALLBACK].active);
    assert_false(v[SLA_T_GM_REPORT].active);

    /* App-created: residents, integrations and the system do not count; the first staff
     * event does. */
    sla_event_t e2[] = {
        ev("create", "resident", NULL, "received", t),
        ev("comment", "resident", "received", "received", t + 1 * MIN),
        ev("comment", "integration", "received", "received", t + 2 * MIN),
        ev("sla_warning", "system", "received", "received", t + 3 * MIN),
        ev("comment", "agent", "received", "received", t + 4 * MIN),
        ev("comment", "supervisor", "received", "received", t + 4 * MIN + 30),
    };
    eval_ok(&p, &cal_daily, &f, e2, 6, t + 10 * MIN, v);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].met_at, t + 4 * MIN);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.state, SLA_MET);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.used_seconds, 4 * MIN);

    /* Nobody on staff yet: running, then breached at 5 minutes. */
    eval_ok(&p, &cal_daily, &f, e2, 4, t + 4 * MIN, v);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].met_at, 0);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.state, SLA_RUNNING);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.warn_at, t + 4 * MIN);
    eval_ok(&p, &cal_daily, &f, e2, 4, t + 5 * MIN, v);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.state, SLA_BREACHED);
    /* A late staff answer is met late: breached with met_at. */
    sla_event_t e3[] = {ev("create", "integration", NULL, "received", t),
                        ev("comment", "technician", "received", "received", t + 9 * MIN)};
    eval_ok(&p, &cal_daily, &f, e3, 2, t + 20 * MIN, v);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].met_at, t + 9 * MIN);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.state, SLA_BREACHED);
    /* Next due: the answer clock (1 day; a non-public comment is no answer). */
    assert_int_equal(core_sla_next_due(v), t + 1 * DAY);
}

static void test_on_site(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 10, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("repair", NULL);

    /* A repair: the on-site clock waits for the dispatch. */
    sla_event_t e[4] = {ev("create", "agent", NULL, "received", t),
                        ev("dispatch", "agent", "received", "dispatched", t + 10 * MIN),
                        ev("accept", "technician", "dispatched", "accepted", t + 12 * MIN),
                        ev("arrive", "technician", "accepted", "on_site", t + 14 * MIN)};
    eval_ok(&p, &cal_daily, &f, e, 1, t + 30 * MIN, v);
    assert_false(v[SLA_T_ON_SITE].active);
    eval_ok(&p, &cal_daily, &f, e, 2, t + 11 * MIN, v);
    assert_true(v[SLA_T_ON_SITE].active);
    assert_int_equal(v[SLA_T_ON_SITE].start, t + 10 * MIN);
    assert_int_equal(v[SLA_T_ON_SITE].clock.due_at, t + 15 * MIN);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_RUNNING);
    eval_ok(&p, &cal_daily, &f, e, 4, t + 30 * MIN, v);
    assert_int_equal(v[SLA_T_ON_SITE].met_at, t + 14 * MIN);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_MET);

    /* A booked appointment replaces the due time. */
    e[1].appointment_at = t + 3 * HR;
    e[3].at = t + 2 * HR;
    eval_ok(&p, &cal_daily, &f, e, 2, t + 1 * HR, v);
    assert_int_equal(v[SLA_T_ON_SITE].clock.due_at, t + 3 * HR);
    assert_int_equal(v[SLA_T_ON_SITE].clock.computed_due, t + 15 * MIN);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_RUNNING);
    eval_ok(&p, &cal_daily, &f, e, 4, t + 4 * HR, v);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_MET);
    eval_ok(&p, &cal_daily, &f, e, 2, t + 3 * HR, v);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_BREACHED);

    /* A complaint: the handler's clock starts at once and resolution also meets it. */
    sla_request_facts_t fc = facts("complaint", "general");
    sla_event_t c[] = {ev("create", "agent", NULL, "received", t),
                       ev("resolve", "agent", "received", "resolved", t + 4 * MIN)};
    eval_ok(&p, &cal_daily, &fc, c, 1, t + 1 * MIN, v);
    assert_int_equal(v[SLA_T_ON_SITE].start, t);
    assert_int_equal(v[SLA_T_ON_SITE].clock.due_at, t + 5 * MIN);
    eval_ok(&p, &cal_daily, &fc, c, 2, t + 1 * HR, v);
    assert_int_equal(v[SLA_T_ON_SITE].met_at, t + 4 * MIN);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_MET);
}

static void test_resolution_and_reopen(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 10, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("repair", NULL);
    f.needs_callback = 1;
    sla_event_t e[] = {
        ev("create", "agent", NULL, "received", t),
        ev("dispatch", "agent", "received", "dispatched", t + 1 * MIN),
        ev("accept", "technician", "dispatched", "accepted", t + 2 * MIN),
        ev("arrive", "technician", "accepted", "on_site", t + 3 * MIN),
        ev("report_result", "technician", "on_site", "on_site", t + 1 * HR),
        ev("sign_off", "resident", "on_site", "resolved", t + 2 * HR),
        ev("reopen", "agent", "resolved", "received", t + 5 * HR),
    };
    /* Before the sign-off: running, no callback clock yet. */
    eval_ok(&p, &cal_daily, &f, e, 5, t + 90 * MIN, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_RUNNING);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, t + 2 * DAY);
    assert_false(v[SLA_T_CALLBACK].active);
    /* Signed off: met; the callback clock starts at the resolution. */
    eval_ok(&p, &cal_daily, &f, e, 6, t + 3 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].met_at, t + 2 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_MET);
    assert_true(v[SLA_T_CALLBACK].active);
    assert_int_equal(v[SLA_T_CALLBACK].start, t + 2 * HR);
    assert_int_equal(v[SLA_T_CALLBACK].clock.due_at, t + 2 * HR + 24 * HR);
    assert_int_equal(core_sla_next_due(v), t + 26 * HR);
    /* Reopened: the resolution clock starts again from the reopen with its full target
     * (not met), the callback clock is gone. */
    eval_ok(&p, &cal_daily, &f, e, 7, t + 6 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].met_at, 0);
    assert_int_equal(v[SLA_T_RESOLUTION].start, t + 5 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_RUNNING);
    assert_false(v[SLA_T_CALLBACK].active);
    assert_int_equal(core_sla_next_due(v), t + 5 * HR + 2 * DAY);
    /* A dissatisfied callback reopens too. */
    sla_request_facts_t fi = facts("inquiry", NULL);
    sla_event_t d[] = {
        ev("create", "agent", NULL, "received", t),
        ev("resolve", "agent", "received", "resolved", t + 1 * HR),
        ev("start_callback", "agent", "resolved", "callback", t + 2 * HR),
        ev("callback_result", "agent", "callback", "received", t + 3 * HR),
    };
    eval_ok(&p, &cal_daily, &fi, d, 4, t + 4 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].met_at, 0);
    eval_ok(&p, &cal_daily, &fi, d, 3, t + 4 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].met_at, t + 1 * HR);
}

static void test_pause_calendar(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 10, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("inquiry", NULL);
    sla_event_t e[] = {
        ev("create", "agent", NULL, "received", t),
        ev("pend", "agent", "received", "pending", t + 1 * HR),
        ev("resume", "agent", "pending", "received", t + 3 * HR),
    };
    /* While pending: paused, due projected as if resumed now. */
    eval_ok(&p, &cal_daily, &f, e, 2, t + 2 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_PAUSED);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, t + 2 * DAY + 1 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].npauses, 1);
    /* The pend/resume pair extends the due by the 2 h pause. */
    eval_ok(&p, &cal_daily, &f, e, 3, t + 5 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_RUNNING);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, t + 2 * DAY + 2 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.computed_due, t + 2 * DAY + 2 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.paused_seconds, 2 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.used_seconds, 3 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].npauses, 1);
    /* The first response was met before the pause: untouched. */
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.due_at, t + 5 * MIN);
}

static void test_pause_business_weekend(void **state)
{
    (void)state;
    sla_policy_t p;
    memset(&p, 0, sizeof p);
    p.rules[SLA_T_RESOLUTION] = (sla_rule_t){1, SLA_BUSINESS, 8 * HR, 0, 0};
    p.warn_pct = 80;
    p.escalate_every_s = HR;
    /* 2026-03-13 is a Friday. */
    assert_int_equal(core_weekday(core_days_from_civil(2026, 3, 13)), 4);
    int64_t fri17 = sh(2026, 3, 13, 17, 0), fri1730 = sh(2026, 3, 13, 17, 30);
    int64_t mon10 = sh(2026, 3, 16, 10, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("inquiry", NULL);
    sla_event_t e[] = {
        ev("create", "agent", NULL, "received", fri17),
        ev("pend", "agent", "received", "pending", fri1730),
        ev("resume", "agent", "pending", "received", mon10),
    };
    /* Without the pause: 1 h on Friday + 7 h on Monday → Monday 16:00. */
    eval_ok(&p, &cal_office, &f, e, 1, fri17 + 10 * MIN, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, sh(2026, 3, 16, 16, 0));
    /* With it: only the business minutes paused (Fri 17:30–18:00, Mon 09:00–10:00) count,
     * not the 64.5 wall-clock hours: 30 min + 7.5 h from Monday 10:00 → Monday 17:30. */
    int64_t now = sh(2026, 3, 16, 12, 0);
    eval_ok(&p, &cal_office, &f, e, 3, now, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, sh(2026, 3, 16, 17, 30));
    assert_int_equal(v[SLA_T_RESOLUTION].clock.paused_seconds, 90 * MIN);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.used_seconds, 30 * MIN + 2 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_RUNNING);
    /* No first-response rule in this policy: that clock is off. */
    assert_false(v[SLA_T_FIRST_RESPONSE].active);
}

static void test_handover(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t night = sh(2026, 3, 11, 23, 30);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("repair", NULL);
    sla_event_t e[] = {ev("create", "security", NULL, "received", night),
                       ev("handover", "agent", "received", "received", sh(2026, 3, 12, 8, 40))};
    /* Not the night desk: no hand-over clock. */
    eval_ok(&p, &cal_daily, &f, e, 1, night + HR, v);
    assert_false(v[SLA_T_HANDOVER].active);
    /* Night desk: due 09:00 local the next morning. */
    f.night_desk = 1;
    eval_ok(&p, &cal_daily, &f, e, 1, night + HR, v);
    assert_true(v[SLA_T_HANDOVER].active);
    assert_int_equal(v[SLA_T_HANDOVER].clock.due_at, sh(2026, 3, 12, 9, 0));
    assert_int_equal(v[SLA_T_HANDOVER].clock.state, SLA_RUNNING);
    eval_ok(&p, &cal_daily, &f, e, 1, sh(2026, 3, 12, 9, 0), v);
    assert_int_equal(v[SLA_T_HANDOVER].clock.state, SLA_BREACHED);
    eval_ok(&p, &cal_daily, &f, e, 2, sh(2026, 3, 12, 9, 30), v);
    assert_int_equal(v[SLA_T_HANDOVER].met_at, sh(2026, 3, 12, 8, 40));
    assert_int_equal(v[SLA_T_HANDOVER].clock.state, SLA_MET);
    /* Taken in at 00:30: still 09:00 the same morning. */
    e[0].at = sh(2026, 3, 12, 0, 30);
    eval_ok(&p, &cal_daily, &f, e, 1, e[0].at + 60, v);
    assert_int_equal(v[SLA_T_HANDOVER].clock.due_at, sh(2026, 3, 12, 9, 0));
}

static void test_callback_clock(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 10, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("complaint", "general");
    sla_event_t e[] = {
        ev("create", "agent", NULL, "received", t),
        ev("resolve", "agent", "received", "resolved", t + 1 * HR),
        ev("start_callback", "agent", "resolved", "callback", t + 2 * HR),
        ev("callback_result", "agent", "callback", "closed", t + 3 * HR),
    };
    /* No callback needed: never active. */
    eval_ok(&p, &cal_daily, &f, e, 4, t + 4 * HR, v);
    assert_false(v[SLA_T_CALLBACK].active);
    f.needs_callback = 1;
    eval_ok(&p, &cal_daily, &f, e, 1, t + 30 * MIN, v);
    assert_false(v[SLA_T_CALLBACK].active);
    eval_ok(&p, &cal_daily, &f, e, 3, t + 2 * HR, v);
    assert_true(v[SLA_T_CALLBACK].active);
    assert_int_equal(v[SLA_T_CALLBACK].start, t + 1 * HR);
    assert_int_equal(v[SLA_T_CALLBACK].clock.due_at, t + 25 * HR);
    assert_int_equal(v[SLA_T_CALLBACK].met_at, 0);
    eval_ok(&p, &cal_daily, &f, e, 4, t + 4 * HR, v);
    assert_int_equal(v[SLA_T_CALLBACK].met_at, t + 3 * HR);
    assert_int_equal(v[SLA_T_CALLBACK].clock.state, SLA_MET);
}

static void test_gm_report(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 15, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_event_t e[] = {ev("create", "agent", NULL, "received", t),
                       ev("escalate", "system", "received", "received", t + 1 * MIN),
                       ev("escalate", "system", "received", "received", t + 2 * MIN)};
    e[1].level = 3;
    e[2].level = 4;
    /* Only major complaints. */
    sla_request_facts_t g = facts("complaint", "general");
    eval_ok(&p, &cal_daily, &g, e, 3, t + HR, v);
    assert_false(v[SLA_T_GM_REPORT].active);
    sla_request_facts_t imp = facts("complaint", "important");
    eval_ok(&p, &cal_daily, &imp, e, 3, t + HR, v);
    assert_false(v[SLA_T_GM_REPORT].active);
    sla_request_facts_t inq = facts("inquiry", "major");
    eval_ok(&p, &cal_daily, &inq, e, 3, t + HR, v);
    assert_false(v[SLA_T_GM_REPORT].active);
    sla_request_facts_t m = facts("complaint", "major");
    /* Due at the local end of the day; level 3 is not the GM. */
    eval_ok(&p, &cal_daily, &m, e, 2, t + 5 * MIN, v);
    assert_true(v[SLA_T_GM_REPORT].active);
    assert_int_equal(v[SLA_T_GM_REPORT].clock.due_at, sh(2026, 3, 12, 0, 0));
    assert_int_equal(v[SLA_T_GM_REPORT].met_at, 0);
    assert_int_equal(v[SLA_T_GM_REPORT].clock.state, SLA_RUNNING);
    /* An escalation reaching level 4 meets it. */
    eval_ok(&p, &cal_daily, &m, e, 3, t + 5 * MIN, v);
    assert_int_equal(v[SLA_T_GM_REPORT].met_at, t + 2 * MIN);
    assert_int_equal(v[SLA_T_GM_REPORT].clock.state, SLA_MET);
    /* Not reached the same day: breached at midnight. */
    eval_ok(&p, &cal_daily, &m, e, 2, sh(2026, 3, 12, 0, 0), v);
    assert_int_equal(v[SLA_T_GM_REPORT].clock.state, SLA_BREACHED);
}

static void test_extension_and_customer_deadline(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 10, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("complaint", "general");

    /* The customer's earlier deadline wins; a later one does not. */
    f.customer_deadline = t + 1 * HR;
    sla_event_t e0[] = {ev("create", "agent", NULL, "received", t)};
    eval_ok(&p, &cal_daily, &f, e0, 1, t + 10 * MIN, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, t + 1 * HR);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.computed_due, t + 2 * DAY);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.warn_at, t + 48 * MIN);
    /* ... only for the resolution clock. */
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.due_at, t + 5 * MIN);
    eval_ok(&p, &cal_daily, &f, e0, 1, t + 1 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_BREACHED);
    f.customer_deadline = t + 5 * DAY;
    eval_ok(&p, &cal_daily, &f, e0, 1, t + 10 * MIN, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, t + 2 * DAY);

    /* An approved extension replaces the due, even over the customer deadline. */
    f.customer_deadline = t + 1 * HR;
    sla_event_t e[] = {
        ev("create", "agent", NULL, "received", t),
        ev("sla_extension_requested", "agent", "received", "received", t + MIN),
        ev("sla_extension_approved", "director", "received", "received", t + 2 * MIN)};
    e[1].target = SLA_T_RESOLUTION;
    e[1].new_due = t + 9 * DAY; /* a request is not an approval */
    e[2].target = SLA_T_RESOLUTION;
    e[2].new_due = t + 3 * DAY;
    eval_ok(&p, &cal_daily, &f, e, 2, t + 10 * MIN, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, t + 1 * HR);
    eval_ok(&p, &cal_daily, &f, e, 3, t + 2 * HR, v);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, t + 3 * DAY);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.computed_due, t + 2 * DAY);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.state, SLA_RUNNING);
    /* Other clocks keep theirs. */
    assert_int_equal(v[SLA_T_ON_SITE].clock.due_at, t + 5 * MIN);
}

static void test_eval_bad_input(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 10, 0);
    sla_clock_view_t v[SLA_T__COUNT];
    sla_request_facts_t f = facts("inquiry", NULL);
    sla_event_t e[] = {ev("comment", "agent", NULL, "received", t)};
    assert_int_equal(core_sla_request_eval(&p, &cal_daily, &f, e, 1, t, v), -1);
    assert_false(v[SLA_T_FIRST_RESPONSE].active);
    assert_int_equal(core_sla_request_eval(&p, &cal_daily, &f, e, 0, t, v), -1);
    assert_int_equal(core_sla_request_eval(NULL, &cal_daily, &f, e, 1, t, v), -1);
    e[0].action = "create";
    assert_int_equal(core_sla_request_eval(&p, NULL, &f, e, 1, t, v), -1);
    assert_int_equal(core_sla_request_eval(&p, &cal_daily, &f, e, 1, t, v), 0);
}

/* ---------------------------------------------------------------- plan */

/* One resolution clock in a given state. */
static void one_clock(sla_clock_view_t v[SLA_T__COUNT], sla_state_t st, int64_t due,
                      int64_t warn_at)
{
    memset(v, 0, sizeof(sla_clock_view_t) * SLA_T__COUNT);
    for (int t = 0; t < SLA_T__COUNT; t++)
        v[t].target = (sla_target_id_t)t;
    v[SLA_T_RESOLUTION].active = 1;
    v[SLA_T_RESOLUTION].start = due - 2 * DAY;
    v[SLA_T_RESOLUTION].clock.due_at = due;
    v[SLA_T_RESOLUTION].clock.computed_due = due;
    v[SLA_T_RESOLUTION].clock.warn_at = warn_at;
    v[SLA_T_RESOLUTION].clock.state = st;
}

static void test_plan_warning(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t due = 1800000000, warn = due - 2 * DAY / 5, next = -1;
    sla_clock_view_t v[SLA_T__COUNT];
    int64_t last[SLA_T__COUNT] = {0};
    int warned[SLA_T__COUNT] = {0};
    sla_alert_t a[16];
    one_clock(v, SLA_RUNNING, due, warn);

    /* Before warn_at: nothing; look again at warn_at. */
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, warn - 10, a, 16, &next), 0);
    assert_int_equal(next, warn);
    /* At warn_at: one warning for the current due; next look at the due. */
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, warn, a, 16, &next), 1);
    assert_int_equal(a[0].target, SLA_T_RESOLUTION);
    assert_int_equal(a[0].kind, 0);
    assert_int_equal(a[0].level, 0);
    assert_int_equal(a[0].due_at, due);
    assert_int_equal(next, due);
    /* Once warned: never again. */
    warned[SLA_T_RESOLUTION] = 1;
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, warn + 60, a, 16, &next), 0);
    assert_int_equal(next, due);
    /* A paused clock is not warned about. */
    warned[SLA_T_RESOLUTION] = 0;
    one_clock(v, SLA_PAUSED, due, warn);
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, warn + 60, a, 16, &next), 0);
    assert_int_equal(next, due);
    /* A met clock: nothing at all. */
    one_clock(v, SLA_MET, due, warn);
    v[SLA_T_RESOLUTION].met_at = due - 5;
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, due + DAY, a, 16, &next), 0);
    assert_int_equal(next, 0);
}

static void test_plan_ladder(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t due = 1800000000, next = -1;
    sla_clock_view_t v[SLA_T__COUNT];
    int64_t last[SLA_T__COUNT] = {0};
    int warned[SLA_T__COUNT] = {0};
    sla_alert_t a[16];
    one_clock(v, SLA_BREACHED, due, due - DAY);

    /* The breach: one level up (agent → supervisor), again in an hour. */
    int64_t now = due + 10;
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, now, a, 16, &next), 1);
    assert_int_equal(a[0].kind, 1);
    assert_int_equal(a[0].level, 1);
    assert_int_equal(a[0].target, SLA_T_RESOLUTION);
    assert_int_equal(a[0].due_at, due);
    assert_int_equal(next, now + HR);
    /* The same from a higher starting level (manual escalation to 2 earlier). */
    assert_int_equal(core_sla_plan(&p, v, 2, last, warned, now, a, 16, &next), 1);
    assert_int_equal(a[0].level, 3);

    /* Escalated at `now`: nothing more until escalate_every has passed. */
    last[SLA_T_RESOLUTION] = now;
    assert_int_equal(core_sla_plan(&p, v, 1, last, warned, now + 30 * MIN, a, 16, &next), 0);
    assert_int_equal(next, now + HR);
    assert_int_equal(core_sla_plan(&p, v, 1, last, warned, now + HR - 1, a, 16, &next), 0);
    assert_int_equal(core_sla_plan(&p, v, 1, last, warned, now + HR, a, 16, &next), 1);
    assert_int_equal(a[0].level, 2);
    assert_int_equal(next, now + 2 * HR);
    /* A shorter schedule from the policy. */
    sla_policy_t quick = p;
    quick.escalate_every_s = 10 * MIN;
    assert_int_equal(core_sla_plan(&quick, v, 1, last, warned, now + 10 * MIN, a, 16, &next), 1);
    assert_int_equal(a[0].level, 2);
    assert_int_equal(next, now + 20 * MIN);
    /* Level 3 → 4 (GM), then it stops. */
    assert_int_equal(core_sla_plan(&p, v, 3, last, warned, now + HR, a, 16, &next), 1);
    assert_int_equal(a[0].level, 4);
    assert_int_equal(next, 0);
    assert_int_equal(core_sla_plan(&p, v, 4, last, warned, now + 9 * HR, a, 16, &next), 0);
    assert_int_equal(next, 0);
    /* At the top from the start (manual escalation): a breach adds nothing above 4. */
    memset(last, 0, sizeof last);
    size_t n = core_sla_plan(&p, v, 4, last, warned, now, a, 16, &next);
    for (size_t i = 0; i < n; i++)
        assert_true(a[i].level <= SLA_TOP_LEVEL);
    /* At most max alerts are written and counted. */
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, now, a, 0, &next), 0);
}

/* Two clocks breached at once: the request rises one level (not one per clock); afterwards
 * it rises one level per interval as a whole, not one per clock. */
static void test_plan_two_breaches(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t due = 1800000000, next = -1, now = due + 10;
    sla_clock_view_t v[SLA_T__COUNT];
    int64_t last[SLA_T__COUNT] = {0};
    int warned[SLA_T__COUNT] = {0};
    sla_alert_t a[16];
    one_clock(v, SLA_BREACHED, due, due - DAY);
    v[SLA_T_ON_SITE] = v[SLA_T_RESOLUTION];
    v[SLA_T_ON_SITE].target = SLA_T_ON_SITE;
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, now, a, 16, &next), 1);
    assert_int_equal(a[0].target, SLA_T_ON_SITE);
    assert_int_equal(a[0].level, 1);
    assert_int_equal(next, now + HR);
    /* Both escalated at `now` (level 2): an hour later, one step for the request. */
    last[SLA_T_ON_SITE] = now;
    last[SLA_T_RESOLUTION] = now;
    assert_int_equal(core_sla_plan(&p, v, 2, last, warned, now + HR - 1, a, 16, &next), 0);
    assert_int_equal(next, now + HR);
    assert_int_equal(core_sla_plan(&p, v, 2, last, warned, now + HR, a, 16, &next), 1);
    assert_int_equal(a[0].level, 3);
    /* The interval counts from the latest rise of the request. */
    last[SLA_T_RESOLUTION] = now + HR;
    assert_int_equal(core_sla_plan(&p, v, 3, last, warned, now + HR + 30 * MIN, a, 16, &next), 0);
    assert_int_equal(next, now + 2 * HR);
}

static void test_plan_major_complaint(void **state)
{
    (void)state;
    sla_policy_t p = full_policy();
    int64_t t = sh(2026, 3, 11, 15, 0), next = -1;
    sla_clock_view_t v[SLA_T__COUNT];
    int64_t last[SLA_T__COUNT] = {0};
    int warned[SLA_T__COUNT] = {0};
    sla_alert_t a[16];
    sla_request_facts_t m = facts("complaint", "major");
    sla_event_t e[] = {ev("create", "agent", NULL, "received", t),
                       ev("escalate", "system", "received", "received", t + 1)};
    e[1].level = 4;
    /* Right after intake, long before the end of the day: straight to the GM. */
    eval_ok(&p, &cal_daily, &m, e, 1, t + 1, v);
    size_t n = core_sla_plan(&p, v, 0, last, warned, t + 1, a, 16, &next);
    assert_int_equal(n, 1);
    assert_int_equal(a[0].target, SLA_T_GM_REPORT);
    assert_int_equal(a[0].kind, 1);
    assert_int_equal(a[0].level, 4);
    assert_int_equal(a[0].due_at, sh(2026, 3, 12, 0, 0));
    /* Next look: the on-site clock (5 min), the earliest thing due. */
    assert_int_equal(next, t + 4 * MIN);
    /* Once the GM has it (the escalate event meets the clock): no second GM alert. */
    eval_ok(&p, &cal_daily, &m, e, 2, t + 2, v);
    assert_int_equal(v[SLA_T_GM_REPORT].clock.state, SLA_MET);
    n = core_sla_plan(&p, v, 4, last, warned, t + 2, a, 16, &next);
    assert_int_equal(n, 0);
    /* A general complaint at the same moment: nothing. */
    sla_request_facts_t g = facts("complaint", "general");
    eval_ok(&p, &cal_daily, &g, e, 1, t + 1, v);
    assert_int_equal(core_sla_plan(&p, v, 0, last, warned, t + 1, a, 16, &next), 0);
    assert_int_equal(next, t + 4 * MIN);
}

static void test_defaults(void **state)
{
    (void)state;
    sla_default_t d[16];
    size_t n = core_sla_defaults(d, 16);
    assert_true(n >= 6);
    sla_match_t m[16];
    for (size_t i = 0; i < n; i++)
        m[i] = d[i].match;
    int maj = core_sla_policy_match(m, n, "complaint", "major", NULL);
    int gen = core_sla_policy_match(m, n, "complaint", "general", "fees");
    int imp = core_sla_policy_match(m, n, "complaint", "important", NULL);
    int rep = core_sla_policy_match(m, n, "repair", NULL, NULL);
    int inq = core_sla_policy_match(m, n, "inquiry", NULL, NULL);
    assert_true(maj >= 0 && gen >= 0 && imp >= 0 && rep >= 0 && inq >= 0);
    /* SPEC §4 numbers. */
    const sla_policy_t *pm = &d[maj].policy, *pg = &d[gen].policy, *pi = &d[imp].policy;
    assert_int_equal(pm->rules[SLA_T_GM_REPORT].kind, SLA_END_OF_DAY);
    assert_true(pm->rules[SLA_T_GM_REPORT].enabled);
    assert_int_equal(pm->rules[SLA_T_ANSWER].duration_s, 2 * DAY);
    assert_int_equal(pm->rules[SLA_T_RESOLUTION].duration_s, 7 * DAY);
    assert_int_equal(pg->rules[SLA_T_RESOLUTION].duration_s, 2 * DAY);
    assert_false(pg->rules[SLA_T_GM_REPORT].enabled);
    assert_int_equal(pi->rules[SLA_T_ANSWER].duration_s, 1 * DAY);
    assert_int_equal(pi->rules[SLA_T_RESOLUTION].duration_s, 3 * DAY);
    assert_int_equal(d[rep].policy.rules[SLA_T_ON_SITE].duration_s, 5 * MIN);
    assert_int_equal(d[inq].policy.rules[SLA_T_FIRST_RESPONSE].duration_s, 5 * MIN);
    assert_int_equal(d[inq].policy.rules[SLA_T_HANDOVER].kind, SLA_NEXT_LOCAL_TIME);
    assert_int_equal(d[inq].policy.rules[SLA_T_HANDOVER].hh, 9);
    assert_int_equal(d[inq].policy.rules[SLA_T_CALLBACK].duration_s, 24 * HR);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(d[i].policy.warn_pct, 80);
        assert_int_equal(d[i].policy.escalate_every_s, HR);
    }
    /* Names round-trip. */
    for (int t = 0; t < SLA_T__COUNT; t++)
        assert_int_equal(core_sla_target_from_string(core_sla_target_name((sla_target_id_t)t)), t);
    assert_int_equal(core_sla_target_from_string("nope"), -1);
    assert_int_equal(core_sla_target_from_string(NULL), -1);
    assert_null(core_sla_target_name(SLA_T__COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_match),
        cmocka_unit_test(test_first_response),
        cmocka_unit_test(test_on_site),
        cmocka_unit_test(test_resolution_and_reopen),
        cmocka_unit_test(test_pause_calendar),
        cmocka_unit_test(test_pause_business_weekend),
        cmocka_unit_test(test_handover),
        cmocka_unit_test(test_callback_clock),
        cmocka_unit_test(test_gm_report),
        cmocka_unit_test(test_extension_and_customer_deadline),
        cmocka_unit_test(test_eval_bad_input),
        cmocka_unit_test(test_plan_warning),
        cmocka_unit_test(test_plan_ladder),
        cmocka_unit_test(test_plan_two_breaches),
        cmocka_unit_test(test_plan_major_complaint),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
