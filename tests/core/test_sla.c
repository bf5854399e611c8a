/*
 * Concrete SLA scenarios from SPEC §4, table driven: first response, 2-day
 * calendar and business targets, pauses over weekends, holidays with a make-up
 * Saturday (调休), night-desk hand-over at 09:00, end of day, customer
 * deadlines, approved extensions, DST weekends in New York and Berlin, met vs
 * breached, warning times.  Plus calendar validation and the string tables.
 * All times in the table are local wall-clock times of the scenario's zone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "core/tz.h"
#include "tests/lib/zones.h"

#define MIN 60
#define HR  3600
#define DAY 86400

enum { Z_SH, Z_NY, Z_BE, Z_COUNT };
static const char *zone_names[Z_COUNT] = {"Asia/Shanghai", "America/New_York", "Europe/Berlin"};
static tz_rules_t *zones[Z_COUNT];

static int setup(void **state)
{
    (void)state;
    for (int z = 0; z < Z_COUNT; z++)
        zones[z] = th_zone(zone_names[z]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int z = 0; z < Z_COUNT; z++)
        core_tz_free(zones[z]);
    return 0;
}

/* Local civil time; {0} means "none". */
typedef struct {
    int y, mo, d, h, mi, s;
} lt_t;

static int32_t day_of(int y, int mo, int d)
{
    return (int32_t)core_days_from_civil(y, mo, d);
}

static int64_t to_utc(int zone, lt_t t)
{
    if (t.y == 0)
        return 0;
    int64_t local = (int64_t)day_of(t.y, t.mo, t.d) * DAY + t.h * HR + t.mi * MIN + t.s;
    return core_tz_local_to_utc(zones[zone], local);
}

/* UTC instant of a Shanghai wall-clock time. */
static int64_t sh_at(int y, int mo, int d, int h, int mi, int sec)
{
    lt_t t = {y, mo, d, h, mi, sec};
    return to_utc(Z_SH, t);
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return (int64_t)day_of(y, mo, d) * DAY + h * HR + mi * MIN;
}

/* ---- calendars ---------------------------------------------------------- */

enum { C_DAILY_9_20, C_OFFICE, C_OFFICE_HOLIDAYS, C_NIGHT_1_4, C_MIDNIGHT_3, C_NONE, C_COUNT };

static const day_hours_t office_day = {2, {{9 * 60, 12 * 60}, {13 * 60, 18 * 60}}};
/* Labour Day 2026: Fri 1 May - Tue 5 May closed, Saturday 9 May worked instead. */
static const int32_t labour_holidays_days[][3] = {
    {2026, 5, 1}, {2026, 5, 2}, {2026, 5, 3}, {2026, 5, 4}, {2026, 5, 5}};
static int32_t labour_holidays[5];
static int32_t labour_makeup[1];

static calendar_t make_cal(int kind, int zone)
{
    calendar_t c;
    memset(&c, 0, sizeof(c));
    c.tz = zones[zone];
    for (int d = 0; d < 7; d++) {
        switch (kind) {
        case C_DAILY_9_20:
            c.weekly[d] = (day_hours_t){1, {{9 * 60, 20 * 60}}};
            break;
        case C_OFFICE:
        case C_OFFICE_HOLIDAYS:
            if (d < 5)
                c.weekly[d] = office_day;
            break;
        case C_NIGHT_1_4:
            c.weekly[d] = (day_hours_t){1, {{1 * 60, 4 * 60}}};
            break;
        case C_MIDNIGHT_3:
            c.weekly[d] = (day_hours_t){1, {{0, 3 * 60}}};
            break;
        default:
            break;
        }
    }
    if (kind == C_OFFICE_HOLIDAYS) {
        for (int i = 0; i < 5; i++)
            labour_holidays[i] = day_of(labour_holidays_days[i][0], labour_holidays_days[i][1],
                                        labour_holidays_days[i][2]);
        labour_makeup[0] = day_of(2026, 5, 9);
        c.holidays = labour_holidays;
        c.nholidays = 5;
        c.makeup_days = labour_makeup;
        c.nmakeup_days = 1;
        c.workday_segments = office_day;
    }
    return c;
}

/* ---- scenarios ---------------------------------------------------------- */

typedef struct {
    lt_t from, to; /* to.y == -1: still open */
} pause_lt_t;

typedef struct {
    const char *name;
    int zone, cal;
    sla_kind_t kind;
    int64_t duration;
    int hh, mm, warn_pct;
    lt_t start;
    pause_lt_t pauses[2];
    int npauses;
    lt_t met, now, customer, override;
    /* expectations */
    lt_t due;
    sla_state_t state;
    lt_t warn;       /* y == 0: not checked */
    int64_t used;    /* -1: not checked */
    int64_t paused;  /* -1: not checked */
    int64_t due_utc; /* when non-zero, also check due against this UTC instant */
} scenario_t;

#define OPEN                                                                                       \
    {                                                                                              \
        -1, 0, 0, 0, 0, 0                                                                          \
    }

static const scenario_t scenarios[] = {
    {.name = "first response 5 min, running",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 5 * MIN,
     .start = {2026, 5, 8, 10, 0},
     .now = {2026, 5, 8, 10, 3},
     .due = {2026, 5, 8, 10, 5},
     .state = SLA_RUNNING,
     .warn = {2026, 5, 8, 10, 4},
     .used = 3 * MIN,
     .paused = 0},
    {.name = "first response met exactly at due",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 5 * MIN,
     .start = {2026, 5, 8, 10, 0},
     .met = {2026, 5, 8, 10, 5},
     .now = {2026, 5, 8, 11, 0},
     .due = {2026, 5, 8, 10, 5},
     .state = SLA_MET,
     .used = 5 * MIN,
     .paused = 0},
    {.name = "first response met one second late",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 5 * MIN,
     .start = {2026, 5, 8, 10, 0},
     .met = {2026, 5, 8, 10, 5, 1},
     .now = {2026, 5, 8, 11, 0},
     .due = {2026, 5, 8, 10, 5},
     .state = SLA_BREACHED,
     .used = 5 * MIN + 1,
     .paused = -1},
    {.name = "first response unmet at due is breached",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 5 * MIN,
     .start = {2026, 5, 8, 10, 0},
     .now = {2026, 5, 8, 10, 5},
     .due = {2026, 5, 8, 10, 5},
     .state = SLA_BREACHED,
     .used = -1,
     .paused = -1},
    {.name = "2-day calendar target ignores opening hours",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 2 * DAY,
     .start = {2026, 5, 8, 19, 50},
     .now = {2026, 5, 9, 0, 0},
     .due = {2026, 5, 10, 19, 50},
     .state = SLA_RUNNING,
     .warn = {2026, 5, 10, 10, 14},
     .used = 250 * MIN,
     .paused = 0},
    {.name = "2 business days (22 h) from Friday 19:50, open every day 09-20",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_BUSINESS,
     .duration = 22 * HR,
     .start = {2026, 5, 8, 19, 50},
     .now = {2026, 5, 9, 9, 30},
     .due = {2026, 5, 10, 19, 50},
     .state = SLA_RUNNING,
     .used = 40 * MIN,
     .paused = 0},
    {.name = "2 business days (16 h) from Friday 19:50, office hours",
     .zone = Z_SH,
     .cal = C_OFFICE,
     .kind = SLA_BUSINESS,
     .duration = 16 * HR,
     .start = {2026, 5, 8, 19, 50},
     .now = {2026, 5, 9, 12, 0},
     .due = {2026, 5, 12, 18, 0},
     .state = SLA_RUNNING,
     /* 80 % = 12 h 48 m: Monday 8 h, Tuesday 09-12 and 13:00-14:48 */
     .warn = {2026, 5, 12, 14, 48},
     .used = 0,
     .paused = 0},
    {.name = "pause over the weekend covers no business time",
     .zone = Z_SH,
     .cal = C_OFFICE,
     .kind = SLA_BUSINESS,
     .duration = 4 * HR,
     .start = {2026, 5, 8, 17, 0},
     .pauses = {{{2026, 5, 8, 18, 0}, {2026, 5, 11, 9, 0}}},
     .npauses = 1,
     .now = {2026, 5, 11, 10, 0},
     .due = {2026, 5, 11, 12, 0},
     .state = SLA_RUNNING,
     .used = 2 * HR,
     .paused = 0},
    {.name = "pause Friday 17:30 to Monday 10:00 pushes due by 1.5 business hours",
     .zone = Z_SH,
     .cal = C_OFFICE,
     .kind = SLA_BUSINESS,
     .duration = 4 * HR,
     .start = {2026, 5, 8, 17, 0},
     .pauses = {{{2026, 5, 8, 17, 30}, {2026, 5, 11, 10, 0}}},
     .npauses = 1,
     .now = {2026, 5, 11, 11, 0},
     .due = {2026, 5, 11, 14, 30},
     .state = SLA_RUNNING,
     .used = 90 * MIN,
     .paused = 90 * MIN},
    {.name = "still paused: due projected as if resumed now",
     .zone = Z_SH,
     .cal = C_OFFICE,
     .kind = SLA_BUSINESS,
     .duration = 4 * HR,
     .start = {2026, 5, 8, 17, 0},
     .pauses = {{{2026, 5, 8, 17, 30}, OPEN}},
     .npauses = 1,
     .now = {2026, 5, 11, 10, 0},
     .due = {2026, 5, 11, 14, 30},
     .state = SLA_PAUSED,
     .used = 30 * MIN,
     .paused = 90 * MIN},
    {.name = "paused after the due passed stays breached",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 5 * MIN,
     .start = {2026, 5, 8, 10, 0},
     .pauses = {{{2026, 5, 8, 10, 20}, OPEN}},
     .npauses = 1,
     .now = {2026, 5, 8, 10, 30},
     .due = {2026, 5, 8, 10, 5},
     .state = SLA_BREACHED,
     .used = 20 * MIN,
     .paused = 10 * MIN},
    {.name = "pause starting exactly at the due does not extend it",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 5 * MIN,
     .start = {2026, 5, 8, 10, 0},
     .pauses = {{{2026, 5, 8, 10, 5}, {2026, 5, 8, 10, 30}}},
     .npauses = 1,
     .now = {2026, 5, 8, 10, 6},
     .due = {2026, 5, 8, 10, 5},
     .state = SLA_BREACHED,
     .used = 5 * MIN,
     .paused = 1 * MIN},
    {.name = "calendar target paused 1 h",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 2 * HR,
     .start = {2026, 5, 8, 10, 0},
     .pauses = {{{2026, 5, 8, 10, 30}, {2026, 5, 8, 11, 30}}},
     .npauses = 1,
     .now = {2026, 5, 8, 12, 0},
     .due = {2026, 5, 8, 13, 0},
     .state = SLA_RUNNING,
     .warn = {2026, 5, 8, 12, 36},
     .used = 60 * MIN,
     .paused = 60 * MIN},
    {.name = "Labour Day holidays skipped",
     .zone = Z_SH,
     .cal = C_OFFICE_HOLIDAYS,
     .kind = SLA_BUSINESS,
     .duration = 8 * HR,
     .start = {2026, 4, 30, 17, 0},
     .now = {2026, 5, 3, 12, 0},
     .due = {2026, 5, 6, 17, 0},
     .state = SLA_RUNNING,
     .used = HR,
     .paused = 0},
    {.name = "make-up Saturday (调休) counts as a working day",
     .zone = Z_SH,
     .cal = C_OFFICE_HOLIDAYS,
     .kind = SLA_BUSINESS,
     .duration = 16 * HR,
     .start = {2026, 5, 7, 17, 0},
     .now = {2026, 5, 8, 12, 0},
     .due = {2026, 5, 9, 17, 0},
     .state = SLA_RUNNING,
     .used = 4 * HR,
     .paused = 0},
    {.name = "night desk: 09:00 next morning from 23:30",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_NEXT_LOCAL_TIME,
     .hh = 9,
     .mm = 0,
     .start = {2026, 5, 8, 23, 30},
     .now = {2026, 5, 9, 1, 0},
     .due = {2026, 5, 9, 9, 0},
     .state = SLA_RUNNING,
     .warn = {2026, 5, 9, 7, 6},
     .used = 90 * MIN,
     .paused = 0},
    {.name = "night desk: 09:00 same morning from 03:00",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_NEXT_LOCAL_TIME,
     .hh = 9,
     .mm = 0,
     .start = {2026, 5, 9, 3, 0},
     .met = {2026, 5, 9, 8, 40},
     .now = {2026, 5, 9, 10, 0},
     .due = {2026, 5, 9, 9, 0},
     .state = SLA_MET,
     .warn = {2026, 5, 9, 7, 48},
     .used = 340 * MIN,
     .paused = 0},
    {.name = "night desk: pauses do not move a wall-clock rule",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_NEXT_LOCAL_TIME,
     .hh = 9,
     .mm = 0,
     .start = {2026, 5, 9, 3, 0},
     .pauses = {{{2026, 5, 9, 4, 0}, {2026, 5, 9, 6, 0}}},
     .npauses = 1,
     .now = {2026, 5, 9, 9, 0},
     .due = {2026, 5, 9, 9, 0},
     .state = SLA_BREACHED,
     .used = 4 * HR,
     .paused = 2 * HR},
    {.name = "major complaint to the GM the same day",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_END_OF_DAY,
     .start = {2026, 5, 8, 10, 0},
     .now = {2026, 5, 8, 23, 0},
     .due = {2026, 5, 9, 0, 0},
     .state = SLA_RUNNING,
     .warn = {2026, 5, 8, 21, 12},
     .used = 13 * HR,
     .paused = 0},
    {.name = "customer's earlier deadline wins",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 2 * DAY,
     .start = {2026, 5, 8, 10, 0},
     .customer = {2026, 5, 9, 12, 0},
     .now = {2026, 5, 9, 11, 0},
     .due = {2026, 5, 9, 12, 0},
     .state = SLA_RUNNING,
     .warn = {2026, 5, 9, 6, 48},
     .used = 25 * HR,
     .paused = 0},
    {.name = "customer's later deadline is ignored",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 2 * DAY,
     .start = {2026, 5, 8, 10, 0},
     .customer = {2026, 5, 20, 12, 0},
     .now = {2026, 5, 9, 11, 0},
     .due = {2026, 5, 10, 10, 0},
     .state = SLA_RUNNING,
     .warn = {2026, 5, 10, 0, 24},
     .used = -1,
     .paused = -1},
    {.name = "approved extension replaces the due",
     .zone = Z_SH,
     .cal = C_DAILY_9_20,
     .kind = SLA_CALENDAR,
     .duration = 2 * DAY,
     .start = {2026, 5, 8, 10, 0},
     .override = {2026, 5, 13, 10, 0},
     .met = {2026, 5, 12, 9, 0},
     .now = {2026, 5, 12, 9, 0},
     .due = {2026, 5, 13, 10, 0},
     .state = SLA_MET,
     .warn = {2026, 5, 12, 10, 0},
     .used = -1,
     .paused = -1},
    {.name = "New York: office hours across the spring-forward weekend",
     .zone = Z_NY,
     .cal = C_OFFICE,
     .kind = SLA_BUSINESS,
     .duration = 2 * HR,
     .start = {2026, 3, 6, 17, 0},
     .now = {2026, 3, 9, 9, 30},
     .due = {2026, 3, 9, 10, 0},
     .state = SLA_RUNNING,
     .used = 1 * HR + 30 * MIN,
     .paused = 0,
     .due_utc = 1773064800 /* 2026-03-09T14:00Z */},
    {.name = "New York: 01:00-04:00 segment is 2 h on the spring-forward night",
     .zone = Z_NY,
     .cal = C_NIGHT_1_4,
     .kind = SLA_BUSINESS,
     .duration = 5 * HR,
     .start = {2026, 3, 7, 1, 0},
     .now = {2026, 3, 7, 2, 0},
     .due = {2026, 3, 8, 4, 0},
     .state = SLA_RUNNING,
     .used = HR,
     .paused = 0,
     .due_utc = 1772956800 /* 2026-03-08T08:00Z */},
    {.name = "New York: 00:00-03:00 segment is 4 h on the fall-back night",
     .zone = Z_NY,
     .cal = C_MIDNIGHT_3,
     .kind = SLA_BUSINESS,
     .duration = 4 * HR,
     .start = {2026, 11, 1, 0, 0},
     .now = {2026, 11, 1, 0, 0},
     .due = {2026, 11, 1, 3, 0},
     .state = SLA_RUNNING,
     .used = 0,
     .paused = 0,
     .due_utc = 1793520000 /* 2026-11-01T08:00Z */},
    {.name = "New York: next 02:30 on spring-forward day falls in the gap -> 03:30 EDT",
     .zone = Z_NY,
     .cal = C_OFFICE,
     .kind = SLA_NEXT_LOCAL_TIME,
     .hh = 2,
     .mm = 30,
     .start = {2026, 3, 8, 0, 0},
     .now = {2026, 3, 8, 0, 0},
     .due = {2026, 3, 8, 3, 30},
     .state = SLA_RUNNING,
     .used = 0,
     .paused = 0,
     .due_utc = 1772955000 /* 2026-03-08T07:30Z */},
    {.name = "Berlin: office hours across the fall-back weekend",
     .zone = Z_BE,
     .cal = C_OFFICE,
     .kind = SLA_BUSINESS,
     .duration = 8 * HR,
     .start = {2026, 10, 23, 15, 0},
     .now = {2026, 10, 26, 9, 0},
     /* Fri 15-18 (3 h), Mon 09-12 (3 h), 13-15 (2 h) */
     .due = {2026, 10, 26, 15, 0},
     .state = SLA_RUNNING,
     .used = 3 * HR,
     .paused = 0,
     .due_utc = 1793023200 /* 2026-10-26T14:00Z */},
    {.name = "Berlin: business target across the spring-forward weekend",
     .zone = Z_BE,
     .cal = C_OFFICE,
     .kind = SLA_BUSINESS,
     .duration = 4 * HR,
     .start = {2026, 3, 27, 16, 0},
     .met = {2026, 3, 30, 10, 59},
     .now = {2026, 3, 30, 12, 0},
     .due = {2026, 3, 30, 11, 0},
     .state = SLA_MET,
     .used = 4 * HR - MIN,
     .paused = 0,
     .due_utc = 1774861200 /* 2026-03-30T09:00Z */},
    {.name = "Berlin: end of day on the 25-hour fall-back day",
     .zone = Z_BE,
     .cal = C_OFFICE,
     .kind = SLA_END_OF_DAY,
     .start = {2026, 10, 25, 0, 30},
     .now = {2026, 10, 25, 12, 0},
     .due = {2026, 10, 26, 0, 0},
     .state = SLA_RUNNING,
     .used = 12 * HR + 30 * MIN,
     .paused = 0,
     .due_utc = 1792969200 /* 2026-10-25T23:00Z */},
};

static void test_scenarios(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        const scenario_t *s = &scenarios[i];
        calendar_t cal = make_cal(s->cal, s->zone);
        char err[128];
        assert_int_equal(core_calendar_validate(&cal, err, sizeof(err)), 0);
        sla_target_t tg = {.kind = s->kind,
                           .duration_s = s->duration,
                           .hh = s->hh,
                           .mm = s->mm,
                           .warn_pct = s->warn_pct,
                           .customer_deadline = to_utc(s->zone, s->customer),
                           .override_due = to_utc(s->zone, s->override)};
        sla_pause_t pauses[2];
        for (int p = 0; p < s->npauses; p++) {
            pauses[p].from = to_utc(s->zone, s->pauses[p].from);
            pauses[p].to =
                s->pauses[p].to.y == -1 ? SLA_PAUSE_OPEN : to_utc(s->zone, s->pauses[p].to);
        }
        sla_clock_t out;
        int rc = core_sla_compute(&tg, &cal, to_utc(s->zone, s->start), pauses, (size_t)s->npauses,
                                  to_utc(s->zone, s->met), to_utc(s->zone, s->now), &out);
        int64_t due = to_utc(s->zone, s->due);
        bool ok = rc == 0 && out.due_at == due && out.state == s->state &&
                  (s->warn.y == 0 || out.warn_at == to_utc(s->zone, s->warn)) &&
                  (s->used < 0 || out.used_seconds == s->used) &&
                  (s->paused < 0 || out.paused_seconds == s->paused) &&
                  (s->due_utc == 0 || out.due_at == s->due_utc);
        if (!ok) {
            failures++;
            print_message(
                "FAIL scenario '%s': rc %d due %lld (want %lld, off by %lld s) state %s (want %s) "
                "warn %lld (want %lld) used %lld (want %lld) paused %lld (want %lld)\n",
                s->name, rc, (long long)out.due_at, (long long)due, (long long)(out.due_at - due),
                core_sla_state_name(out.state), core_sla_state_name(s->state),
                (long long)out.warn_at, (long long)to_utc(s->zone, s->warn),
                (long long)out.used_seconds, (long long)s->used, (long long)out.paused_seconds,
                (long long)s->paused);
        }
    }
    assert_int_equal(failures, 0);
}

static void test_calendar_functions(void **state)
{
    (void)state;
    calendar_t sh = make_cal(C_OFFICE_HOLIDAYS, Z_SH);
    segment_t segs[CORE_CAL_MAX_SEGMENTS];
    assert_int_equal(core_calendar_segments_on(&sh, day_of(2026, 5, 8), segs), 2);
    assert_int_equal(segs[1].start_min, 13 * 60);
    assert_int_equal(core_calendar_segments_on(&sh, day_of(2026, 5, 1), segs), 0);  /* holiday */
    assert_int_equal(core_calendar_segments_on(&sh, day_of(2026, 5, 9), segs), 2);  /* make-up */
    assert_int_equal(core_calendar_segments_on(&sh, day_of(2026, 5, 10), segs), 0); /* Sunday */

    /* A whole week of office hours is 40 h; the Labour Day week has 24 h (Wed-Fri). */
    int64_t mon = sh_at(2026, 5, 11, 0, 0, 0);
    assert_int_equal(core_calendar_business_between(&sh, mon, mon + 7 * DAY), 40 * HR);
    int64_t lmon = sh_at(2026, 5, 4, 0, 0, 0);
    assert_int_equal(core_calendar_business_between(&sh, lmon, lmon + 5 * DAY), 24 * HR);
    assert_int_equal(core_calendar_business_between(&sh, mon + DAY, mon), 0);

    /* Counting starts at the next opening; an amount ending at closing gives closing time. */
    int64_t fri_night = sh_at(2026, 5, 8, 21, 0, 0);
    assert_int_equal(core_calendar_add_business(&sh, fri_night, 1), sh_at(2026, 5, 9, 9, 0, 1));
    assert_int_equal(core_calendar_add_business(&sh, fri_night, 3 * HR),
                     sh_at(2026, 5, 9, 12, 0, 0));
    assert_int_equal(core_calendar_add_business(&sh, fri_night, 0), fri_night);
    assert_int_equal(core_calendar_add_business(&sh, fri_night, -1), CORE_CAL_ERROR);

    /* Next local time and end of day in Shanghai. */
    int64_t t = sh_at(2026, 5, 8, 9, 0, 0);
    assert_int_equal(core_calendar_next_local_time(&sh, t, 9, 0), t + DAY);
    assert_int_equal(core_calendar_next_local_time(&sh, t - 1, 9, 0), t);
    assert_int_equal(core_calendar_next_local_time(&sh, t, 24, 0), CORE_CAL_ERROR);
    assert_int_equal(core_calendar_end_of_local_day(&sh, t), sh_at(2026, 5, 9, 0, 0, 0));

    /* New York overlap: from 01:45 EDT the next 01:30 is the repeated one, 01:30 EST. */
    calendar_t ny = make_cal(C_OFFICE, Z_NY);
    assert_int_equal(core_calendar_next_local_time(&ny, utc(2026, 11, 1, 5, 45), 1, 30),
                     utc(2026, 11, 1, 6, 30));
    assert_int_equal(core_calendar_end_of_local_day(&ny, utc(2026, 3, 8, 5, 0)),
                     utc(2026, 3, 9, 4, 0));

    /* No open time at all: an error, not an endless loop. */
    calendar_t none = make_cal(C_NONE, Z_SH);
    assert_int_equal(core_calendar_add_business(&none, t, 60), CORE_CAL_ERROR);
    sla_target_t tg = {.kind = SLA_BUSINESS, .duration_s = 60};
    sla_clock_t out;
    assert_int_equal(core_sla_compute(&tg, &none, t, NULL, 0, 0, t, &out), -ERANGE);
}

static void test_validation(void **state)
{
    (void)state;
    char err[128];
    calendar_t c = make_cal(C_OFFICE, Z_SH);
    assert_int_equal(core_calendar_validate(&c, err, sizeof(err)), 0);

    c.weekly[2].seg[1].start_min = 11 * 60; /* overlaps 09-12 */
    assert_int_equal(core_calendar_validate(&c, err, sizeof(err)), -EINVAL);
    assert_true(strlen(err) > 0);
    c = make_cal(C_OFFICE, Z_SH);
    c.weekly[0].seg[0].end_min = 1441;
    assert_int_equal(core_calendar_validate(&c, err, sizeof(err)), -EINVAL);
    c = make_cal(C_OFFICE, Z_SH);
    c.weekly[0].nsegments = 5;
    assert_int_equal(core_calendar_validate(&c, err, sizeof(err)), -EINVAL);
    c = make_cal(C_OFFICE, Z_SH);
    c.tz = NULL;
    assert_int_equal(core_calendar_validate(&c, err, sizeof(err)), -EINVAL);

    int32_t hol[2] = {100, 99};
    c = make_cal(C_OFFICE, Z_SH);
    c.holidays = hol;
    c.nholidays = 2;
    assert_int_equal(core_calendar_validate(&c, err, sizeof(err)), -EINVAL);
    hol[0] = 98;
    assert_int_equal(core_calendar_validate(&c, err, sizeof(err)), 0);
    int32_t mk[1] = {99};
    c.makeup_days = mk;
    c.nmakeup_days = 1;
    assert_int_equal(core_calendar_validate(&c, NULL, 0), -EINVAL); /* both lists */

    /* SLA input validation. */
    calendar_t ok = make_cal(C_OFFICE, Z_SH);
    sla_clock_t out;
    sla_target_t tg = {.kind = SLA_CALENDAR, .duration_s = -1};
    assert_int_equal(core_sla_compute(&tg, NULL, 0, NULL, 0, 0, 0, &out), -EINVAL);
    tg.duration_s = 60;
    assert_int_equal(core_sla_compute(&tg, NULL, 1000, NULL, 0, 0, 1000, &out), 0);
    tg.kind = SLA_BUSINESS;
    assert_int_equal(core_sla_compute(&tg, NULL, 1000, NULL, 0, 0, 1000, &out), -EINVAL);
    tg.kind = SLA_NEXT_LOCAL_TIME;
    tg.hh = 25;
    assert_int_equal(core_sla_compute(&tg, &ok, 1000, NULL, 0, 0, 1000, &out), -EINVAL);
    tg.kind = (sla_kind_t)9;
    assert_int_equal(core_sla_compute(&tg, &ok, 1000, NULL, 0, 0, 1000, &out), -EINVAL);
    tg = (sla_target_t){.kind = SLA_CALENDAR, .duration_s = 60, .warn_pct = 101};
    assert_int_equal(core_sla_compute(&tg, &ok, 1000, NULL, 0, 0, 1000, &out), -EINVAL);
    tg.warn_pct = 0;
    sla_pause_t overlapping[2] = {{1000, 2000}, {1500, 2500}};
    assert_int_equal(core_sla_compute(&tg, &ok, 1000, overlapping, 2, 0, 3000, &out), -EINVAL);
    sla_pause_t open_not_last[2] = {{1000, SLA_PAUSE_OPEN}, {3000, 4000}};
    assert_int_equal(core_sla_compute(&tg, &ok, 1000, open_not_last, 2, 0, 3000, &out), -EINVAL);
    sla_pause_t empty[1] = {{2000, 2000}};
    assert_int_equal(core_sla_compute(&tg, &ok, 1000, empty, 1, 0, 3000, &out), -EINVAL);
    /* A pause that began before the clock is clipped to the start. */
    sla_pause_t before[1] = {{500, 1300}};
    assert_int_equal(core_sla_compute(&tg, &ok, 1000, before, 1, 0, 1300, &out), 0);
    assert_int_equal(out.due_at, 1360);
    assert_int_equal(out.paused_seconds, 300);
    assert_int_equal(out.used_seconds, 0);
}

static void test_names(void **state)
{
    (void)state;
    static const char *kinds[] = {"calendar", "business", "end_of_day", "next_local_time"};
    static const char *states[] = {"running", "paused", "met", "breached"};
    for (int i = 0; i < SLA_KIND_COUNT; i++) {
        assert_string_equal(core_sla_kind_name((sla_kind_t)i), kinds[i]);
        assert_int_equal(core_sla_kind_from_string(kinds[i]), i);
    }
    for (int i = 0; i < SLA_STATE_COUNT; i++) {
        assert_string_equal(core_sla_state_name((sla_state_t)i), states[i]);
        assert_int_equal(core_sla_state_from_string(states[i]), i);
    }
    assert_int_equal(core_sla_kind_from_string("Calendar"), -1);
    assert_int_equal(core_sla_kind_from_string(""), -1);
    assert_int_equal(core_sla_kind_from_string(NULL), -1);
    assert_int_equal(core_sla_state_from_string("late"), -1);
    assert_null(core_sla_state_name(SLA_STATE_COUNT));
    assert_null(core_sla_kind_name((sla_kind_t)-1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_calendar_functions),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
