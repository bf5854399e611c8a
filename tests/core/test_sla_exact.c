/*
 * tests/core/test_sla_exact.c — issue 15 (SLA exactness), clock arithmetic and ladder:
 * a met clock's due time does not move when the request is paused later; a reopen
 * restarts the resolution clock with its full target; a complaint's on-site clock stays
 * met through a reopen; an escalation that changes nothing is never planned; a request
 * rises at most one level per evaluation (the GM rule aside); next_local_time and
 * segment edges in DST gaps and folds (New York, and Lord Howe's 30-minute DST).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "core/sla_request.h"
#include "core/tz.h"

#define MIN 60
#define HR  3600
#define DAY 86400

static tz_rules_t *berlin, *new_york, *lord_howe;

static tz_rules_t *load_zone(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    tz_rules_t *tz = NULL;
    return core_tz_parse_tzif(buf, n, &tz) == 0 ? tz : NULL;
}

static int setup(void **state)
{
    (void)state;
    berlin = load_zone("Europe/Berlin");
    new_york = load_zone("America/New_York");
    lord_howe = load_zone("Australia/Lord_Howe");
    return berlin && new_york && lord_howe ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    core_tz_free(berlin);
    core_tz_free(new_york);
    core_tz_free(lord_howe);
    return 0;
}

/* Every day open [a, b) minutes after local midnight. */
static calendar_t daily(const tz_rules_t *tz, int a, int b)
{
    calendar_t c;
    memset(&c, 0, sizeof c);
    c.tz = tz;
    for (int d = 0; d < 7; d++) {
        c.weekly[d].nsegments = 1;
        c.weekly[d].seg[0] = (segment_t){(int16_t)a, (int16_t)b};
    }
    return c;
}

static sla_event_t ev(const char *action, const char *role, const char *from, const char *to,
                      int64_t at)
{
    sla_event_t e = {action, role, from, to, at, 0, 0, -1, 0, 0};
    return e;
}

static sla_policy_t policy(void)
{
    sla_policy_t p;
    memset(&p, 0, sizeof p);
    p.rules[SLA_T_FIRST_RESPONSE] = (sla_rule_t){1, SLA_CALENDAR, 33 * MIN, 0, 0};
    p.rules[SLA_T_ON_SITE] = (sla_rule_t){1, SLA_CALENDAR, 5 * MIN, 0, 0};
    p.rules[SLA_T_ANSWER] = (sla_rule_t){1, SLA_CALENDAR, 2 * DAY, 0, 0};
    p.rules[SLA_T_RESOLUTION] = (sla_rule_t){1, SLA_BUSINESS, 134 * MIN, 0, 0};
    p.rules[SLA_T_GM_REPORT] = (sla_rule_t){1, SLA_END_OF_DAY, 0, 0, 0};
    p.warn_pct = 80;
    p.escalate_every_s = HR;
    return p;
}

/* ---------------------------------------------------------------- 1. met clocks */

/* The case: Berlin, calendar target 33 min, met at its start; a pause after the
 * clock was met must not move its due, warning or paused time. */
static void test_met_clock_ignores_later_pause(void **state)
{
    (void)state;
    calendar_t cal = daily(berlin, 9 * 60, 18 * 60);
    const int64_t start = 1788796859; /* 2026-09-07T16:00:59Z */
    sla_target_t tg = {SLA_CALENDAR, 33 * MIN, 0, 0, 0, 0, 0};
    sla_pause_t later[] = {{start + 5 * MIN, start + 5 * MIN + 3949}};
    sla_clock_t c;
    assert_int_equal(core_sla_compute(&tg, &cal, start, later, 1, start, start + DAY, &c), 0);
    assert_int_equal(c.due_at, start + 33 * MIN);
    assert_int_equal(c.paused_seconds, 0);
    assert_int_equal(c.state, SLA_MET);
    /* A business clock met before a later pause: the same. */
    sla_target_t biz = {SLA_BUSINESS, 134 * MIN, 0, 0, 0, 0, 0};
    const int64_t mon10 = 1788768000; /* 2026-09-07T08:00:00Z = 10:00 Berlin */
    sla_clock_t plain, paused;
    assert_int_equal(core_sla_compute(&biz, &cal, mon10, NULL, 0, mon10 + HR, mon10 + DAY, &plain),
                     0);
    sla_pause_t p2[] = {{mon10 + 30 * MIN, mon10 + 40 * MIN}, {mon10 + 2 * HR, mon10 + 5 * HR}};
    assert_int_equal(core_sla_compute(&biz, &cal, mon10, p2, 2, mon10 + HR, mon10 + DAY, &paused),
                     0);
    /* Only the pause before met_at counts (10 minutes). */
    assert_int_equal(paused.due_at, plain.due_at + 10 * MIN);
    assert_int_equal(paused.paused_seconds, 10 * MIN);
    /* A pause running across met_at counts up to met_at only. */
    sla_pause_t across[] = {{mon10 + 50 * MIN, mon10 + 3 * HR}};
    assert_int_equal(
        core_sla_compute(&biz, &cal, mon10, across, 1, mon10 + HR, mon10 + DAY, &paused), 0);
    assert_int_equal(paused.due_at, plain.due_at + 10 * MIN);
    assert_int_equal(paused.paused_seconds, 10 * MIN);
}

/* Through a request's timeline: first response met at the start, then a backdated
 * pend/resume: the first_response clock keeps its due and reports no pauses. */
static void test_request_met_clock_keeps_due(void **state)
{
    (void)state;
    calendar_t cal = daily(berlin, 0, 1440);
    sla_policy_t p = policy();
    const int64_t t = 1788796859;
    sla_request_facts_t f = {"inquiry", NULL, 0, 0, 0};
    sla_event_t e[] = {ev("create", "agent", NULL, "received", t),
                       ev("pend", "agent", "received", "pending", t + 10 * MIN),
                       ev("resume", "agent", "pending", "received", t + 10 * MIN + 3949)};
    sla_clock_view_t v[SLA_T__COUNT];
    assert_int_equal(core_sla_request_eval(&p, &cal, &f, e, 3, t + DAY, v), 0);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].met_at, t);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.due_at, t + 33 * MIN);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].npauses, 0);
    assert_int_equal(v[SLA_T_FIRST_RESPONSE].clock.paused_seconds, 0);
    /* The unmet answer clock is pushed out by the pause. */
    assert_int_equal(v[SLA_T_ANSWER].clock.due_at, t + 2 * DAY + 3949);
    assert_int_equal(v[SLA_T_ANSWER].npauses, 1);
}

/* ---------------------------------------------------------------- 2./3. reopen */

static void test_reopen_restarts_resolution(void **state)
{
    (void)state;
    calendar_t cal = daily(new_york, 9 * 60, 18 * 60);
    sla_policy_t p = policy();
    const int64_t t = 1776458762;      /* 2026-04-17T20:46:02Z, a Friday 16:46 EDT */
    const int64_t reopen = 1777114262; /* 2026-04-25T10:51:02Z, Saturday 06:51 EDT */
    sla_request_facts_t f = {"complaint", "major", 0, 0, t + DAY};
    sla_event_t e[] = {ev("create", "agent", NULL, "received", t),
                       ev("resolve", "agent", "received", "resolved", t + 2 * HR),
                       ev("reopen", "agent", "resolved", "received", reopen)};
    e[2].from_state = "resolved";
    sla_event_t ext = ev("sla_extension_approved", "director", NULL, NULL, t + HR);
    ext.target = SLA_T_RESOLUTION;
    ext.new_due = t + 3 * DAY;
    sla_event_t all[] = {e[0], ext, e[1], e[2]};
    sla_clock_view_t v[SLA_T__COUNT];
    assert_int_equal(core_sla_request_eval(&p, &cal, &f, all, 4, reopen + MIN, v), 0);
    const sla_clock_view_t *r = &v[SLA_T_RESOLUTION];
    assert_int_equal(r->start, reopen);
    assert_int_equal(r->met_at, 0);
    /* Full 134 business minutes from the reopen (06:51, before opening): 09:00 + 134 min;
     * the customer's deadline and the extension belonged to the first resolution. */
    assert_int_equal(r->clock.computed_due, 1777122000 + 134 * MIN);
    assert_int_equal(r->clock.due_at, r->clock.computed_due);
    assert_int_equal(r->clock.state, SLA_RUNNING);
    /* 3: the on-site clock had been met by the resolution and stays met. */
    assert_int_equal(v[SLA_T_ON_SITE].met_at, t + 2 * HR);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_BREACHED); /* 2 h > 5 min: late */
    sla_event_t arrive = ev("arrive", "agent", "received", "received", t + 3 * MIN);
    sla_event_t with_arrival[] = {e[0], arrive, e[1], e[2]};
    assert_int_equal(core_sla_request_eval(&p, &cal, &f, with_arrival, 4, reopen + MIN, v), 0);
    assert_int_equal(v[SLA_T_ON_SITE].met_at, t + 3 * MIN);
    assert_int_equal(v[SLA_T_ON_SITE].clock.state, SLA_MET);
    /* Resolved again after the reopen: met at that resolution. */
    sla_event_t again[] = {e[0], e[1], e[2],
                           ev("resolve", "agent", "received", "resolved", reopen + 2 * DAY)};
    assert_int_equal(core_sla_request_eval(&p, &cal, &f, again, 4, reopen + 3 * DAY, v), 0);
    assert_int_equal(v[SLA_T_RESOLUTION].met_at, reopen + 2 * DAY);
    assert_int_equal(v[SLA_T_RESOLUTION].start, reopen);
    assert_int_equal(v[SLA_T_ON_SITE].met_at, t + 2 * HR);
    /* A customer deadline after the reopen still bounds the restarted clock. */
    f.customer_deadline = reopen + HR;
    assert_int_equal(core_sla_request_eval(&p, &cal, &f, e, 3, reopen + MIN, v), 0);
    assert_int_equal(v[SLA_T_RESOLUTION].clock.due_at, reopen + HR);
}

/* ---------------------------------------------------------------- 4./5. the ladder */

static void breached(sla_clock_view_t v[SLA_T__COUNT], sla_target_id_t t, int64_t due)
{
    v[t].active = 1;
    v[t].target = t;
    v[t].start = due - HR;
    v[t].clock.due_at = v[t].clock.computed_due = due;
    v[t].clock.warn_at = due - 10 * MIN;
    v[t].clock.state = SLA_BREACHED;
}

static void test_no_escalation_that_changes_nothing(void **state)
{
    (void)state;
    sla_policy_t p = policy();
    const int64_t now = 1800000000;
    sla_clock_view_t v[SLA_T__COUNT];
    memset(v, 0, sizeof v);
    breached(v, SLA_T_RESOLUTION, now - DAY);
    sla_history_t h;
    memset(&h, 0, sizeof h);
    h.moved[SLA_T_RESOLUTION] = 1; /* a pend/resume moved the escalated due */
    h.last_rise = now - 10 * MIN;
    sla_alert_t a[16];
    int64_t next;
    assert_int_equal(core_sla_plan_history(&p, v, 4, &h, now, a, 16, &next), 0);
    assert_int_equal(next, 0);
    /* Below the top the moved due is a new breach: one level at once. */
    assert_int_equal(core_sla_plan_history(&p, v, 2, &h, now, a, 16, &next), 1);
    assert_int_equal(a[0].level, 3);
    /* Through the old interface too: nothing above 4, nothing at 4. */
    int64_t last[SLA_T__COUNT] = {0};
    int warned[SLA_T__COUNT] = {0};
    assert_int_equal(core_sla_plan(&p, v, 4, last, warned, now, a, 16, &next), 0);
}

static void test_one_level_per_evaluation(void **state)
{
    (void)state;
    sla_policy_t p = policy();
    const int64_t now = 1800000000;
    sla_clock_view_t v[SLA_T__COUNT];
    memset(v, 0, sizeof v);
    /* A backdated paper record: four clocks past due at the first look. */
    breached(v, SLA_T_FIRST_RESPONSE, now - 3 * DAY);
    breached(v, SLA_T_ON_SITE, now - 3 * DAY + MIN);
    breached(v, SLA_T_ANSWER, now - DAY);
    breached(v, SLA_T_RESOLUTION, now - 2 * DAY);
    sla_history_t h;
    memset(&h, 0, sizeof h);
    sla_alert_t a[16];
    int64_t next;
    assert_int_equal(core_sla_plan_history(&p, v, 0, &h, now, a, 16, &next), 1);
    assert_int_equal(a[0].kind, 1);
    assert_int_equal(a[0].level, 1);
    assert_int_equal(a[0].target, SLA_T_FIRST_RESPONSE); /* the earliest breach */
    assert_int_equal(next, now + HR);
    /* Recorded: the others were past due at that rise and wait for the schedule. */
    h.last_esc_at[SLA_T_FIRST_RESPONSE] = now;
    h.last_rise = now;
    assert_int_equal(core_sla_plan_history(&p, v, 1, &h, now + 1, a, 16, &next), 0);
    assert_int_equal(next, now + HR);
    assert_int_equal(core_sla_plan_history(&p, v, 1, &h, now + HR - 1, a, 16, &next), 0);
    assert_int_equal(core_sla_plan_history(&p, v, 1, &h, now + HR, a, 16, &next), 1);
    assert_int_equal(a[0].level, 2);
    assert_int_equal(a[0].target, SLA_T_ON_SITE); /* a clock not yet escalated itself */
    /* A clock that breaches after the last rise raises one level at once. */
    h.last_esc_at[SLA_T_ON_SITE] = now + HR;
    h.last_rise = now + HR;
    sla_clock_view_t w[SLA_T__COUNT];
    memcpy(w, v, sizeof w);
    breached(w, SLA_T_ANSWER, now + HR + 5 * MIN);
    assert_int_equal(core_sla_plan_history(&p, w, 2, &h, now + HR + 6 * MIN, a, 16, &next), 1);
    assert_int_equal(a[0].target, SLA_T_ANSWER);
    assert_int_equal(a[0].level, 3);
    /* A major complaint: straight to the GM, and nothing else in that evaluation. */
    sla_clock_view_t m[SLA_T__COUNT];
    memcpy(m, v, sizeof m);
    m[SLA_T_GM_REPORT] = m[SLA_T_RESOLUTION];
    m[SLA_T_GM_REPORT].target = SLA_T_GM_REPORT;
    m[SLA_T_GM_REPORT].clock.state = SLA_RUNNING;
    m[SLA_T_GM_REPORT].clock.due_at = now + HR;
    memset(&h, 0, sizeof h);
    assert_int_equal(core_sla_plan_history(&p, m, 0, &h, now, a, 16, &next), 1);
    assert_int_equal(a[0].target, SLA_T_GM_REPORT);
    assert_int_equal(a[0].level, 4);
}

/* ---------------------------------------------------------------- DST gaps and folds */

static void test_next_local_time_gap_and_fold(void **state)
{
    (void)state;
    calendar_t ny = daily(new_york, 0, 1440), lh = daily(lord_howe, 0, 1440);
    /* New York 2026-03-08: 02:30 does not exist; shifted forward by the gap to 03:30 EDT. */
    assert_int_equal(core_calendar_next_local_time(&ny, 1772946000, 2, 30), 1772955000);
    /* New York 2026-11-01: 01:30 occurs twice; each is the next instant reading it. */
    assert_int_equal(core_calendar_next_local_time(&ny, 1793505600, 1, 30), 1793511000);
    assert_int_equal(core_calendar_next_local_time(&ny, 1793511000, 1, 30), 1793514600);
    assert_int_equal(core_calendar_next_local_time(&ny, 1793514600, 1, 30), 1793514600 + DAY);
    /* Lord Howe 2026-10-04: 02:00 → 02:30 (+10:30 → +11); 02:15 becomes 02:45. */
    assert_int_equal(core_calendar_next_local_time(&lh, 1791034200, 2, 15), 1791041400 + 15 * MIN);
    /* Lord Howe 2026-04-05: 02:00 → 01:30; 01:45 occurs twice, 30 minutes apart. */
    assert_int_equal(core_calendar_next_local_time(&lh, 1775307600, 1, 45), 1775313900);
    assert_int_equal(core_calendar_next_local_time(&lh, 1775313900, 1, 45), 1775315700);
    assert_int_equal(core_calendar_next_local_time(&lh, 1775315700, 1, 45), 1775315700 + DAY);
    /* The same through an SLA clock. */
    sla_target_t tg = {SLA_NEXT_LOCAL_TIME, 0, 1, 45, 0, 0, 0};
    sla_clock_t c;
    assert_int_equal(core_sla_compute(&tg, &lh, 1775313900, NULL, 0, 0, 1775313900, &c), 0);
    assert_int_equal(c.due_at, 1775315700);
}

static void test_segment_edges_in_gap_and_fold(void **state)
{
    (void)state;
    /* A segment starting in New York's gap opens when the clock jumps past its start. */
    calendar_t gap = daily(new_york, 2 * 60 + 15, 4 * 60);
    assert_int_equal(core_calendar_business_between(&gap, 1772946000, 1772946000 + DAY), HR);
    assert_int_equal(core_calendar_add_business(&gap, 1772946000, 1), 1772953200 + 1);
    /* A segment ending in the fold: open until the first 01:30, closed until the wall
     * clock reads 01:00 again, open again until the second 01:30 — two hours. */
    calendar_t fold = daily(new_york, 0, 90);
    assert_int_equal(core_calendar_business_between(&fold, 1793505600, 1793505600 + DAY), 2 * HR);
    assert_int_equal(core_calendar_add_business(&fold, 1793505600, 90 * MIN), 1793511000);
    assert_int_equal(core_calendar_add_business(&fold, 1793505600, 90 * MIN + 1), 1793512800 + 1);
    /* Lord Howe: [00:00, 01:45) on 2026-04-05 is 1 h 45 + 15 min; on 2026-10-04 a segment
     * [02:00, 03:00) loses the 30-minute gap. */
    calendar_t lfold = daily(lord_howe, 0, 105);
    assert_int_equal(core_calendar_business_between(&lfold, 1775307600, 1775307600 + DAY), 2 * HR);
    calendar_t lgap = daily(lord_howe, 120, 180);
    assert_int_equal(core_calendar_business_between(&lgap, 1791034200, 1791034200 + DAY), 30 * MIN);
    assert_int_equal(core_calendar_add_business(&lgap, 1791034200, 1), 1791041400 + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_met_clock_ignores_later_pause),
        cmocka_unit_test(test_request_met_clock_keeps_due),
        cmocka_unit_test(test_reopen_restarts_resolution),
        cmocka_unit_test(test_no_escalation_that_changes_nothing),
        cmocka_unit_test(test_one_level_per_evaluation),
        cmocka_unit_test(test_next_local_time_gap_and_fold),
        cmocka_unit_test(test_segment_edges_in_gap_and_fold),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
