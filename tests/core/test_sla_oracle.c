/*
 * Randomised comparison of core_sla_compute() and core_calendar_* against the
 * minute-stepping reference in sla_oracle_ref.h.  Random calendars (some days
 * closed, 1-3 segments, holidays, make-up days), random zones from the system
 * tz database, starts biased towards DST transitions, random pauses, all four
 * target kinds.
 *
 *   SLA_ORACLE_CASES  number of cases (default 20000)
 *   SLA_ORACLE_SEED   seed (default: time based); always printed
 *   SLA_ORACLE_ONLY   run only this case index (for replaying a mismatch)
 *
 * A second test builds whole request timelines (staff and resident actions, pend/resume,
 * arrivals, resolutions and reopens) and checks core_sla_request_eval() clock by clock
 * against the same reference fed by its own reading of the clock table in openapi.yaml,
 * then runs the escalation ladder through a series of sweeps and checks its rules: one
 * level per evaluation (several clocks breached at once included), never an escalation
 * that changes nothing, and rises on schedule.  SLA_ORACLE_REQ_CASES (default 10000).
 * Every case is a pure function of the seed and its index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "core/sla_request.h"
#include "core/tz.h"
#include "tests/core/sla_oracle_ref.h"
#include "tests/lib/zones.h"

static const char *zone_names[] = {"Asia/Shanghai",    "America/New_York",    "Europe/Berlin",
                                   "Australia/Sydney", "Australia/Lord_Howe", "UTC"};
#define NZONES (sizeof(zone_names) / sizeof(zone_names[0]))
static tz_rules_t *zones[NZONES];

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static bool chance(int pct)
{
    return range(0, 99) < pct;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Boundary minute, often near the 01:00-04:00 DST hours. */
static int rnd_minute(void)
{
    switch (range(0, 3)) {
    case 0:
        return (int)range(0, 1440);
    case 1:
        return (int)range(60, 240);
    default:
        return (int)range(0, 96) * 15;
    }
}

static void rnd_day(ref_day_t *d, bool may_close)
{
    memset(d, 0, sizeof(*d));
    if (may_close && chance(20))
        return;
    if (chance(10)) {
        d->n = 1;
        d->seg[0][0] = 0;
        d->seg[0][1] = 1440;
        return;
    }
    int k = (int)range(1, 3), v[6], m = 0;
    for (int i = 0; i < 2 * k; i++)
        v[i] = rnd_minute();
    qsort(v, (size_t)(2 * k), sizeof(int), cmp_int);
    for (int i = 0; i < k; i++)
        if (v[2 * i] < v[2 * i + 1] && (m == 0 || v[2 * i] >= d->seg[m - 1][1])) {
            d->seg[m][0] = v[2 * i];
            d->seg[m][1] = v[2 * i + 1];
            m++;
        }
    if (m == 0) {
        d->seg[0][0] = 540;
        d->seg[0][1] = 1080;
        m = 1;
    }
    d->n = m;
}

static void to_day_hours(const ref_day_t *r, day_hours_t *h)
{
    memset(h, 0, sizeof(*h));
    h->nsegments = r->n;
    for (int i = 0; i < r->n; i++) {
        h->seg[i].start_min = (int16_t)r->seg[i][0];
        h->seg[i].end_min = (int16_t)r->seg[i][1];
    }
}

static int rnd_dates(int32_t *out, int max, int32_t lo, int32_t hi, const int32_t *avoid,
                     int navoid)
{
    int n = 0, want = (int)range(0, max);
    for (int i = 0; i < want; i++) {
        int32_t d = (int32_t)range(lo, hi);
        bool dup = ref_in_list(out, n, d) || ref_in_list(avoid, navoid, d);
        if (!dup)
            out[n++] = d;
    }
    qsort(out, (size_t)n, sizeof(int32_t), cmp_i32);
    return n;
}

/* A start instant: half the time within days of a DST transition of the zone. */
static int64_t rnd_start(const tz_rules_t *tz)
{
    int64_t y = range(1995, 2044);
    int64_t t = core_days_from_civil(y, 1, 1) * 86400;
    if (chance(60)) {
        int64_t tr[4];
        int n = 0;
        for (int64_t x = t; n < 4; n++) {
            x = core_tz_next_transition(tz, x);
            if (x == INT64_MAX || x > t + 400 * 86400)
                break;
            tr[n] = x;
        }
        /* Whole minutes: a zone file may list a non-transition at 2^31 - 1 s. */
        if (n > 0)
            return core_floor_div(tr[range(0, n - 1)], 60) * 60 + range(-3 * 1440, 1440) * 60;
    }
    return t + range(0, 365 * 1440) * 60;
}

typedef struct {
    int zone;
    ref_cal_t rc;
    int64_t start, met_at, now;
    sla_pause_t pauses[4];
    int np;
    sla_target_t tg;
    int64_t bb_a, bb_b; /* extra business_between range */
} case_t;

static void gen_case(case_t *c)
{
    memset(c, 0, sizeof(*c));
    c->zone = (int)range(0, NZONES - 1);
    const tz_rules_t *tz = zones[c->zone];
    bool any_open = false;
    for (int d = 0; d < 7; d++) {
        rnd_day(&c->rc.weekly[d], true);
        any_open |= c->rc.weekly[d].n > 0;
    }
    if (!any_open)
        rnd_day(&c->rc.weekly[range(0, 6)], false);
    c->start = rnd_start(tz);
    int32_t day = (int32_t)core_floor_div(c->start + core_tz_offset_at(tz, c->start), 86400);
    c->rc.nholidays = rnd_dates(c->rc.holidays, 5, day - 2, day + 15, NULL, 0);
    c->rc.nmakeup = rnd_dates(c->rc.makeup, 3, day - 2, day + 15, c->rc.holidays, c->rc.nholidays);
    rnd_day(&c->rc.makeup_hours, false);

    c->tg.kind = (sla_kind_t)range(0, SLA_KIND_COUNT - 1);
    if (chance(5))
        c->tg.duration_s = 0;
    else if (chance(50))
        c->tg.duration_s = range(1, 240) * 60;
    else
        c->tg.duration_s = range(1, c->tg.kind == SLA_BUSINESS ? 3 * 1440 : 5 * 1440) * 60;
    c->tg.hh = chance(40) ? (int)range(0, 4) : (int)range(0, 23);
    c->tg.mm = chance(30) ? 0 : (int)range(0, 59);
    /* Often a wall time in or next to a DST gap or fold near the start. */
    int64_t tr = core_tz_next_transition(tz, c->start - 2 * 86400);
    if (tr != INT64_MAX && tr < c->start + 3 * 86400 && chance(40)) {
        int64_t wall = tr + core_tz_offset_at(tz, tr - 1) + range(-40, 70) * 60;
        int64_t mod = wall - core_floor_div(wall, 86400) * 86400;
        c->tg.hh = (int)(mod / 3600);
        c->tg.mm = (int)(mod / 60 % 60);
    }
    c->tg.warn_pct = chance(50) ? 0 : (int)range(1, 100);

    /* Pauses: sorted distinct minute points paired up. */
    int k = chance(30) ? 0 : (int)range(1, 4);
    int v[8];
    for (int i = 0; i < 2 * k; i++)
        v[i] = (int)range(-120, 4 * 1440);
    qsort(v, (size_t)(2 * k), sizeof(int), cmp_int);
    for (int i = 0; i < k; i++)
        if (v[2 * i] < v[2 * i + 1] &&
            (c->np == 0 || c->start + v[2 * i] * 60 >= c->pauses[c->np - 1].to)) {
            c->pauses[c->np].from = c->start + v[2 * i] * 60;
            c->pauses[c->np].to = c->start + v[2 * i + 1] * 60;
            c->np++;
        }
    c->now = c->start + range(0, 6 * 1440) * 60;
    if (c->np > 0 && chance(25) && c->pauses[c->np - 1].from <= c->now)
        c->pauses[c->np - 1].to = SLA_PAUSE_OPEN;
    if (chance(30)) {
        c->met_at = c->start + range(0, 5 * 1440) * 60;
        if (c->now < c->met_at)
            c->now = c->met_at;
    }
    if (chance(10))
        c->tg.customer_deadline = c->start + range(-60, 5 * 1440) * 60;
    if (chance(10))
        c->tg.override_due = c->start + range(0, 8 * 1440) * 60;
    c->bb_a = c->start + range(-1440, 1440) * 60;
    c->bb_b = c->bb_a + range(0, 2 * 1440) * 60;
}

static void build_calendar(const case_t *c, calendar_t *cal)
{
    memset(cal, 0, sizeof(*cal));
    cal->tz = zones[c->zone];
    for (int d = 0; d < 7; d++)
        to_day_hours(&c->rc.weekly[d], &cal->weekly[d]);
    cal->holidays = c->rc.holidays;
    cal->nholidays = (size_t)c->rc.nholidays;
    cal->makeup_days = c->rc.makeup;
    cal->nmakeup_days = (size_t)c->rc.nmakeup;
    to_day_hours(&c->rc.makeup_hours, &cal->workday_segments);
}

static void fmt_time(const tz_rules_t *tz, int64_t t, char *buf, size_t n)
{
    if (t == 0 || t == SLA_PAUSE_OPEN || t == INT64_MIN) {
        snprintf(buf, n, "%s", t == 0 ? "-" : t == INT64_MIN ? "ERR" : "open");
        return;
    }
    int64_t l = t + core_tz_offset_at(tz, t), y;
    int m, d;
    int64_t day = core_floor_div(l, 86400), s = l - day * 86400;
    core_civil_from_days(day, &y, &m, &d);
    snprintf(buf, n, "%" PRId64 "(%04" PRId64 "-%02d-%02d %02d:%02d%+.1fh)", t, y, m, d,
             (int)(s / 3600), (int)(s / 60 % 60), core_tz_offset_at(tz, t) / 3600.0);
}

static void print_day(const char *name, const ref_day_t *d)
{
    printf("    %s:", name);
    for (int i = 0; i < d->n; i++)
        printf(" [%d,%d)", d->seg[i][0], d->seg[i][1]);
    printf("%s\n", d->n ? "" : " closed");
}

static void print_case(int idx, uint64_t case_seed, const case_t *c, const char *what)
{
    const tz_rules_t *tz = zones[c->zone];
    char b1[96];
    static const char *wd[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    printf("MISMATCH case %d (case seed %" PRIu64 "): %s\n", idx, case_seed, what);
    printf("  zone %s, kind %s, duration %" PRId64 "s, hh:mm %02d:%02d, warn_pct %d\n",
           zone_names[c->zone], core_sla_kind_name(c->tg.kind), c->tg.duration_s, c->tg.hh,
           c->tg.mm, c->tg.warn_pct);
    for (int d = 0; d < 7; d++)
        print_day(wd[d], &c->rc.weekly[d]);
    print_day("make-up hours", &c->rc.makeup_hours);
    printf("    holidays:");
    for (int i = 0; i < c->rc.nholidays; i++)
        printf(" %d", c->rc.holidays[i]);
    printf("\n    make-up days:");
    for (int i = 0; i < c->rc.nmakeup; i++)
        printf(" %d", c->rc.makeup[i]);
    fmt_time(tz, c->start, b1, sizeof(b1));
    printf("\n  start %s\n", b1);
    for (int i = 0; i < c->np; i++) {
        char b2[96];
        fmt_time(tz, c->pauses[i].from, b1, sizeof(b1));
        fmt_time(tz, c->pauses[i].to, b2, sizeof(b2));
        printf("  pause %s .. %s\n", b1, b2);
    }
    fmt_time(tz, c->met_at, b1, sizeof(b1));
    printf("  met_at %s\n", b1);
    fmt_time(tz, c->now, b1, sizeof(b1));
    printf("  now %s\n", b1);
    fmt_time(tz, c->tg.customer_deadline, b1, sizeof(b1));
    printf("  customer deadline %s\n", b1);
    fmt_time(tz, c->tg.override_due, b1, sizeof(b1));
    printf("  override %s\n", b1);
}

static void print_pair(const tz_rules_t *tz, const char *name, int64_t got, int64_t want)
{
    char g[96], w[96];
    fmt_time(tz, got, g, sizeof(g));
    fmt_time(tz, want, w, sizeof(w));
    printf("    %-14s core %s  ref %s%s\n", name, g, w, got == want ? "" : "   <==");
}

static void test_oracle(void **state)
{
    (void)state;
    const char *env = getenv("SLA_ORACLE_CASES");
    long ncases = env ? strtol(env, NULL, 10) : 20000;
    env = getenv("SLA_ORACLE_SEED");
    uint64_t seed =
        env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
    env = getenv("SLA_ORACLE_ONLY");
    long only = env ? strtol(env, NULL, 10) : -1;
    printf("sla oracle: seed %" PRIu64 ", %ld cases (SLA_ORACLE_SEED / SLA_ORACLE_CASES)\n", seed,
           ncases);
    fflush(stdout);

    for (size_t z = 0; z < NZONES; z++)
        zones[z] = th_zone(zone_names[z]);

    long mismatches = 0, printed = 0, beyond = 0;
    long kinds[SLA_KIND_COUNT] = {0}, states[SLA_STATE_COUNT] = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < ncases; i++) {
        if (only >= 0 && i != only)
            continue;
        uint64_t case_seed = seed ^ ((uint64_t)i * 0xd1b54a32d192ed03ULL);
        rng_state = case_seed;
        case_t c;
        gen_case(&c);
        calendar_t cal;
        build_calendar(&c, &cal);
        const tz_rules_t *tz = cal.tz;
        char err[128];
        if (core_calendar_validate(&cal, err, sizeof(err)) != 0)
            fail_msg("generated an invalid calendar: %s", err);
        /* Half the time, put `now` / met_at right around the due time so that the
         * met / breached / paused boundaries are exercised, not just "long overdue". */
        sla_clock_t pre;
        if (chance(50) &&
            core_sla_compute(&c.tg, &cal, c.start, c.pauses, (size_t)c.np, 0, c.start, &pre) == 0) {
            int64_t around = core_floor_div(chance(50) ? pre.due_at : pre.warn_at, 60) * 60;
            c.now = around + range(-3, 3) * 60;
            if (c.now < c.start)
                c.now = c.start;
            if (c.met_at) {
                c.met_at = c.now;
                c.now += range(0, 120) * 60;
            }
            if (c.np > 0 && c.pauses[c.np - 1].to == SLA_PAUSE_OPEN &&
                c.pauses[c.np - 1].from > c.now)
                c.pauses[c.np - 1].to = c.pauses[c.np - 1].from + 60;
        }

        /* A met clock, and the request paused after (or across) met_at: the clock must
         * not notice. */
        if (c.met_at && c.np < 4 && chance(50) &&
            (c.np == 0 || c.pauses[c.np - 1].to != SLA_PAUSE_OPEN)) {
            int64_t from = c.met_at + range(-60, 600) * 60;
            if (c.np > 0 && from < c.pauses[c.np - 1].to)
                from = c.pauses[c.np - 1].to;
            if (from < c.start)
                from = c.start;
            c.pauses[c.np].from = from;
            c.pauses[c.np].to = from + range(1, 3000) * 60;
            c.np++;
        }

        sla_clock_t got;
        ref_out_t want = {0};
        int rc =
            core_sla_compute(&c.tg, &cal, c.start, c.pauses, (size_t)c.np, c.met_at, c.now, &got);
        int rrc = ref_clock(&c.tg, &c.rc, tz, c.start, c.pauses, c.np, c.met_at, c.now, &want);
        bool bad = rc != 0 || rrc != 0 || got.due_at != want.due ||
                   got.computed_due != want.computed_due || got.warn_at != want.warn ||
                   got.used_seconds != want.used || got.paused_seconds != want.paused ||
                   (int)got.state != want.state;
        bool past_walk =
            rrc != 0 && c.tg.kind != SLA_END_OF_DAY && c.tg.kind != SLA_NEXT_LOCAL_TIME;
        if (past_walk) {
            /* A calendar open a few minutes a week puts the due years away, past what the
             * minute-by-minute reference walks: it still checks the due itself. */
            beyond++;
            bad =
                rc != 0 || (want.computed_due == INT64_MAX ? got.computed_due <= c.start + REF_LIMIT
                                                           : got.computed_due != want.computed_due);
        }
        char what[160] = "sla clock";

        /* Plain calendar functions on the same calendar. */
        int64_t add = 0, add_want = 0, bb = 0, bb_want = 0;
        if (!bad && c.tg.kind == SLA_BUSINESS && c.np == 0) {
            add = core_calendar_add_business(&cal, c.start, c.tg.duration_s);
            /* Past the reference's walk there is no reference due: the calendar
             * functions must then agree with the clock and with each other. */
            add_want = past_walk ? got.computed_due : want.computed_due;
            if (add != add_want ||
                core_calendar_business_between(&cal, c.start, add) != c.tg.duration_s) {
                bad = true;
                snprintf(what, sizeof(what), "add_business");
            }
        }
        if (!bad && (i % 4) == 0) {
            bb = core_calendar_business_between(&cal, c.bb_a, c.bb_b);
            bb_want = ref_business_between(&c.rc, tz, c.bb_a, c.bb_b);
            if (bb != bb_want) {
                bad = true;
                snprintf(what, sizeof(what), "business_between");
            }
        }
        kinds[c.tg.kind]++;
        if (rc == 0 && (unsigned)got.state < SLA_STATE_COUNT)
            states[got.state]++;
        if (!bad)
            continue;
        mismatches++;
        if (printed++ < 5) {
            print_case((int)i, case_seed, &c, what);
            printf("    rc core %d ref %d\n", rc, rrc);
            print_pair(tz, "due_at", got.due_at, want.due);
            print_pair(tz, "computed_due", got.computed_due, want.computed_due);
            print_pair(tz, "warn_at", got.warn_at, want.warn);
            printf("    used core %" PRId64 " ref %" PRId64 ", paused core %" PRId64 " ref %" PRId64
                   ", state core %s ref %s\n",
                   got.used_seconds, want.used, got.paused_seconds, want.paused,
                   core_sla_state_name(got.state), core_sla_state_name(want.state));
            if (add || add_want)
                print_pair(tz, "add_business", add, add_want);
            if (bb || bb_want)
                printf("    business_between [%" PRId64 ",%" PRId64 ") core %" PRId64
                       " ref %" PRId64 "\n",
                       c.bb_a, c.bb_b, bb, bb_want);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("sla oracle: seed %" PRIu64 ", %ld cases, %ld mismatches, %.1f s\n", seed, ncases,
           mismatches, secs);
    printf("  %ld cases beyond the reference's %lld-day walk: due time checked only\n", beyond,
           (long long)(REF_LIMIT / 86400));
    printf("  kinds: calendar %ld, business %ld, end_of_day %ld, next_local_time %ld\n", kinds[0],
           kinds[1], kinds[2], kinds[3]);
    printf("  states: running %ld, paused %ld, met %ld, breached %ld\n", states[0], states[1],
           states[2], states[3]);
    for (size_t z = 0; z < NZONES; z++)
        core_tz_free(zones[z]);
    if (mismatches)
        fail_msg("%ld mismatches (seed %" PRIu64 ")", mismatches, seed);
}

/* ---------------------------------------------------------------- request timelines */

#define RQ_MAX_EV 48

typedef struct {
    int zone;
    ref_cal_t rc;
    sla_policy_t pol;
    const char *type, *severity;
    sla_event_t ev[RQ_MAX_EV];
    int nev;
} rq_case_t;

/* A recorded alert, as sla_alerts holds it. */
typedef struct {
    int target;
    int64_t due, at;
    int kind;
} rq_rec_t;

static const char *const rq_kind_names[] = {"calendar", "business", "end_of_day",
                                            "next_local_time"};

static void rq_rule(sla_rule_t *r)
{
    r->enabled = 1;
    r->kind = (sla_kind_t)range(0, SLA_KIND_COUNT - 1);
    r->duration_s = range(1, r->kind == SLA_BUSINESS ? 900 : 1500) * 60;
    r->hh = (int)range(0, 23);
    r->mm = (int)range(0, 59);
}

static void rq_gen(rq_case_t *q)
{
    case_t base;
    gen_case(&base); /* zone, calendar and a start near a DST change half the time */
    memset(q, 0, sizeof *q);
    q->zone = base.zone;
    q->rc = base.rc;
    rq_rule(&q->pol.rules[SLA_T_FIRST_RESPONSE]);
    rq_rule(&q->pol.rules[SLA_T_ON_SITE]);
    rq_rule(&q->pol.rules[SLA_T_ANSWER]);
    rq_rule(&q->pol.rules[SLA_T_RESOLUTION]);
    q->pol.rules[SLA_T_GM_REPORT] = (sla_rule_t){1, SLA_END_OF_DAY, 0, 0, 0};
    q->pol.warn_pct = (int)range(1, 99);
    q->pol.escalate_every_s = range(1, 180) * 60;
    int k = (int)range(0, 2);
    q->type = k == 2 ? "inquiry" : "complaint";
    q->severity = k == 0 ? "major" : "general";

    int64_t t = base.start;
    const char *state = "received", *before_pending = "received";
    q->ev[q->nev++] = (sla_event_t){
        "create", chance(50) ? "agent" : "resident", NULL, "received", t, 0, 0, -1, 0, 0};
    int n = (int)range(2, 14);
    for (int i = 0; i < n && q->nev < RQ_MAX_EV - 8; i++) {
        t += (chance(30) ? range(0, 20) : range(1, 900)) * 60;
        sla_event_t e = {NULL, "agent", state, state, t, 0, 0, -1, 0, 0};
        int pending = !strcmp(state, "pending"), resolved = !strcmp(state, "resolved");
        switch (range(0, 5)) {
        case 0:
            e.action = "comment";
            e.actor_role = chance(40) ? "resident" : "agent";
            e.public_comment = chance(50);
            break;
        case 1:
            if (pending) {
                e.action = "resume";
                e.to_state = before_pending;
            } else if (!resolved) {
                e.action = "pend";
                e.to_state = "pending";
                before_pending = state;
            } else {
                continue;
            }
            break;
        case 2:
            if (pending || resolved)
                continue;
            e.action = "arrive";
            e.actor_role = chance(50) ? "technician" : "agent";
            break;
        case 3:
            if (pending || resolved)
                continue;
            e.action = "resolve";
            e.to_state = "resolved";
            break;
        case 4:
            if (!resolved)
                continue;
            e.action = chance(70) ? "reopen" : "callback_result";
            e.to_state = "received";
            break;
        default:
            e.action = "note";
            e.actor_role = chance(50) ? "integration" : "resident";
            break;
        }
        state = e.to_state;
        q->ev[q->nev++] = e;
    }
}

static bool rq_staff(const char *role)
{
    return strcmp(role, "resident") && strcmp(role, "integration") && strcmp(role, "system");
}

/* The clock table of GET /v1/requests/{id}/sla, read directly off the events at or
 * before `now`: start and met_at of each clock (start 0 = does not run). */
static void rq_reference(const rq_case_t *q, const sla_event_t *ev, int nev, int64_t start[],
                         int64_t met[])
{
    for (int t = 0; t < SLA_T__COUNT; t++)
        start[t] = met[t] = 0;
    int64_t received = ev[0].at, first_staff = 0, first_arrive = 0, first_resolve = 0;
    int64_t answer = 0, last_reopen = 0, last_resolve = 0, gm = 0;
    for (int i = 0; i < nev; i++) {
        const sla_event_t *e = &ev[i];
        const char *a = e->action;
        if (!first_staff && rq_staff(e->actor_role))
            first_staff = e->at;
        bool resolution = !strcmp(a, "resolve");
        bool reopen = !strcmp(a, "reopen") || !strcmp(a, "callback_result");
        if (!strcmp(a, "arrive") && !first_arrive)
            first_arrive = e->at;
        if (resolution && !first_resolve)
            first_resolve = e->at;
        if (resolution)
            last_resolve = e->at;
        if (reopen) {
            last_reopen = e->at;
            last_resolve = 0; /* resolved again only by a later event */
        }
        if (!answer &&
            (resolution || (!strcmp(a, "comment") && e->public_comment && rq_staff(e->actor_role))))
            answer = e->at;
        if (!gm && !strcmp(a, "escalate") && e->level >= 4)
            gm = e->at;
    }
    bool complaint = !strcmp(q->type, "complaint");
    start[SLA_T_FIRST_RESPONSE] = received;
    met[SLA_T_FIRST_RESPONSE] = first_staff;
    if (complaint) {
        start[SLA_T_ON_SITE] = received;
        met[SLA_T_ON_SITE] = first_arrive && (!first_resolve || first_arrive < first_resolve)
                                 ? first_arrive
                                 : first_resolve;
    }
    start[SLA_T_ANSWER] = received;
    met[SLA_T_ANSWER] = answer;
    /* A reopen starts the resolution clock again, from the reopen. */
    start[SLA_T_RESOLUTION] = last_reopen ? last_reopen : received;
    met[SLA_T_RESOLUTION] = last_resolve;
    if (complaint && !strcmp(q->severity, "major")) {
        start[SLA_T_GM_REPORT] = received;
        met[SLA_T_GM_REPORT] = gm;
    }
}

/* Pending periods of the events (the last may be open). */
static int rq_pauses(const sla_event_t *ev, int nev, sla_pause_t *p, int max)
{
    int n = 0;
    bool in = false;
    for (int i = 0; i < nev; i++) {
        bool to = ev[i].to_state && !strcmp(ev[i].to_state, "pending");
        bool from = ev[i].from_state && !strcmp(ev[i].from_state, "pending");
        if (!in && to && !from && n < max) {
            p[n].from = ev[i].at;
            p[n++].to = SLA_PAUSE_OPEN;
            in = true;
        } else if (in && from && !to) {
            p[n - 1].to = ev[i].at;
            in = false;
        }
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (p[i].to > p[i].from)
            p[k++] = p[i];
    return k;
}

/* Events at or before `now`, the escalations recorded so far merged in time order. */
static int rq_visible(const rq_case_t *q, const sla_event_t *esc, int nesc, int64_t now,
                      sla_event_t *out)
{
    int n = 0, i = 0, j = 0;
    while ((i < q->nev && q->ev[i].at <= now) || j < nesc) {
        bool take_ev = i < q->nev && q->ev[i].at <= now && (j >= nesc || q->ev[i].at <= esc[j].at);
        out[n++] = take_ev ? q->ev[i++] : esc[j++];
    }
    return n;
}

static long rq_fail(long idx, uint64_t cs, const rq_case_t *q, const char *what, int t)
{
    printf("REQUEST MISMATCH case %ld (case seed %" PRIu64 "): %s, clock %s (%s), zone %s, %s %s\n",
           idx, cs, what, t >= 0 ? core_sla_target_name((sla_target_id_t)t) : "-",
           t >= 0 ? rq_kind_names[q->pol.rules[t].kind] : "-", zone_names[q->zone], q->type,
           q->severity);
    for (int i = 0; i < q->nev; i++)
        printf("    %s by %s %s->%s at %" PRId64 "\n", q->ev[i].action, q->ev[i].actor_role,
               q->ev[i].from_state ? q->ev[i].from_state : "-",
               q->ev[i].to_state ? q->ev[i].to_state : "-", q->ev[i].at);
    return 1;
}

static void test_oracle_requests(void **state)
{
    (void)state;
    const char *env = getenv("SLA_ORACLE_REQ_CASES");
    long ncases = env ? strtol(env, NULL, 10) : 10000;
    env = getenv("SLA_ORACLE_SEED");
    uint64_t seed =
        env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
    env = getenv("SLA_ORACLE_ONLY");
    long only = env ? strtol(env, NULL, 10) : -1;
    printf("sla request oracle: seed %" PRIu64 ", %ld cases\n", seed, ncases);
    for (size_t z = 0; z < NZONES; z++)
        zones[z] = th_zone(zone_names[z]);
    long bad = 0, clocks = 0, reopens = 0, rises = 0, multi = 0, printed = 0;
    for (long idx = 0; idx < ncases; idx++) {
        if (only >= 0 && idx != only)
            continue;
        uint64_t cs = seed ^ ((uint64_t)idx * 0x9e6c63d0676a9a99ULL) ^ 0x5bd1e995u;
        rng_state = cs;
        rq_case_t q;
        rq_gen(&q);
        case_t cc;
        memset(&cc, 0, sizeof cc);
        cc.zone = q.zone;
        cc.rc = q.rc;
        calendar_t cal;
        build_calendar(&cc, &cal);
        const tz_rules_t *tz = cal.tz;
        sla_request_facts_t f = {q.type, q.severity, 0, 0, 0};
        const int64_t t0 = q.ev[0].at, last = q.ev[q.nev - 1].at;
        long fails = 0;
        for (int i = 0; i < q.nev; i++)
            reopens += !strcmp(q.ev[i].action, "reopen");

        /* 1. Clocks at one instant against the reference. */
        int64_t now = last + range(0, 2 * 1440) * 60;
        sla_event_t vis[RQ_MAX_EV * 2];
        int nv = rq_visible(&q, NULL, 0, now, vis);
        sla_clock_view_t v[SLA_T__COUNT];
        int rc = core_sla_request_eval(&q.pol, &cal, &f, vis, (size_t)nv, now, v);
        int64_t st[SLA_T__COUNT], mt[SLA_T__COUNT];
        rq_reference(&q, vis, nv, st, mt);
        sla_pause_t ps[RQ_MAX_EV];
        int np = rq_pauses(vis, nv, ps, RQ_MAX_EV);
        if (rc != 0)
            fails += rq_fail(idx, cs, &q, "eval failed", -1);
        for (int t = 0; t < SLA_T__COUNT && !fails; t++) {
            if (!q.pol.rules[t].enabled)
                continue;
            if (!st[t] != !v[t].active) {
                fails += rq_fail(idx, cs, &q, "clock runs / does not run", t);
                break;
            }
            if (!st[t])
                continue;
            clocks++;
            const sla_rule_t *r = &q.pol.rules[t];
            sla_target_t tg = {r->kind, r->duration_s, r->hh, r->mm, q.pol.warn_pct, 0, 0};
            ref_out_t want;
            memset(&want, 0, sizeof want);
            if (ref_clock(&tg, &q.rc, tz, st[t], ps, np, mt[t], now, &want) != 0)
                continue; /* beyond the reference's walk */
            const sla_clock_t *g = &v[t].clock;
            if (v[t].start != st[t] || v[t].met_at != mt[t] || g->due_at != want.due ||
                g->warn_at != want.warn || g->used_seconds != want.used ||
                g->paused_seconds != want.paused || (int)g->state != want.state) {
                if (printed++ < 5) {
                    rq_fail(idx, cs, &q, "clock differs", t);
                    printf("    start %" PRId64 "/%" PRId64 " met %" PRId64 "/%" PRId64
                           " due %" PRId64 "/%" PRId64 " warn %" PRId64 "/%" PRId64 " used %" PRId64
                           "/%" PRId64 " paused %" PRId64 "/%" PRId64
                           " state %d/%d (core/ref), now %" PRId64 "\n",
                           v[t].start, st[t], v[t].met_at, mt[t], g->due_at, want.due, g->warn_at,
                           want.warn, g->used_seconds, want.used, g->paused_seconds, want.paused,
                           (int)g->state, want.state, now);
                }
                fails++;
            }
        }

        /* 2. The ladder through a series of sweeps, the escalations going into the
         * timeline as the engine records them. */
        sla_event_t esc[16];
        int nesc = 0, level = 0;
        rq_rec_t rec[64];
        int nrec = 0;
        int64_t T = chance(30) ? t0 + range(1, 3 * 1440) * 60 : t0 + range(0, 30) * 60;
        const int64_t end = last + 2 * 86400, every = q.pol.escalate_every_s;
        while (T <= end && !fails) {
            nv = rq_visible(&q, esc, nesc, T, vis);
            if (core_sla_request_eval(&q.pol, &cal, &f, vis, (size_t)nv, T, v) != 0) {
                fails += rq_fail(idx, cs, &q, "eval failed in the ladder", -1);
                break;
            }
            sla_history_t h;
            memset(&h, 0, sizeof h);
            for (int i = 0; i < nrec; i++) {
                int t = rec[i].target;
                if (rec[i].kind)
                    h.last_rise = rec[i].at > h.last_rise ? rec[i].at : h.last_rise;
                if (!v[t].active)
                    continue;
                if (rec[i].due != v[t].clock.due_at)
                    h.moved[t] |= rec[i].kind;
                else if (rec[i].kind)
                    h.last_esc_at[t] = rec[i].at;
                else
                    h.warned[t] = 1;
            }
            int nbreached = 0, fresh = 0;
            for (int t = 0; t < SLA_T__COUNT; t++)
                if (v[t].active && !v[t].met_at && v[t].clock.state == SLA_BREACHED) {
                    nbreached++;
                    fresh |= !h.last_esc_at[t] && (h.moved[t] || v[t].clock.due_at > h.last_rise);
                }
            bool gm_due = v[SLA_T_GM_REPORT].active && !v[SLA_T_GM_REPORT].met_at &&
                          !h.last_esc_at[SLA_T_GM_REPORT] && level < 4;
            sla_alert_t a[16];
            int64_t next = 0;
            size_t na = core_sla_plan_history(&q.pol, v, level, &h, T, a, 16, &next);
            int nes = 0;
            for (size_t k = 0; k < na; k++) {
                if (!a[k].kind) {
                    if (nrec < 64)
                        rec[nrec++] = (rq_rec_t){a[k].target, a[k].due_at, T, 0};
                    continue;
                }
                nes++;
                bool gm = a[k].target == SLA_T_GM_REPORT && a[k].level == 4 && gm_due;
                if (a[k].level <= level || (!gm && a[k].level != level + 1))
                    fails += rq_fail(idx, cs, &q, "escalation does not rise one level", -1);
                if (!gm && !nbreached)
                    fails += rq_fail(idx, cs, &q, "escalation without a breach", -1);
                if (!gm && h.last_rise && T < h.last_rise + every && !fresh)
                    fails += rq_fail(idx, cs, &q, "rose before its schedule", -1);
                level = a[k].level;
                rises++;
                if (nrec < 64)
                    rec[nrec++] = (rq_rec_t){a[k].target, a[k].due_at, T, 1};
                if (nesc < 16)
                    esc[nesc++] =
                        (sla_event_t){"escalate", "system", NULL, NULL, T, 0, a[k].level, -1, 0, 0};
            }
            if (nes > 1)
                fails += rq_fail(idx, cs, &q, "more than one escalation in one evaluation", -1);
            if (nbreached > 1 && nes == 1)
                multi++;
            if (!nes && !gm_due && level < 4 && nbreached &&
                (fresh || !h.last_rise || T >= h.last_rise + every))
                fails += rq_fail(idx, cs, &q, "breached but did not rise", -1);
            if (gm_due && (nes != 1 || level != 4))
                fails += rq_fail(idx, cs, &q, "major complaint not sent to the GM", -1);
            int64_t step = T + range(1, 150) * 60;
            T = next > T && next < step && chance(50) ? next : step;
        }
        bad += fails != 0;
    }
    printf("sla request oracle: seed %" PRIu64 ", %ld cases, %ld failed; %ld clocks compared, "
           "%ld reopens, %ld rises, %ld with several clocks breached at once\n",
           seed, ncases, bad, clocks, reopens, rises, multi);
    for (size_t z = 0; z < NZONES; z++)
        core_tz_free(zones[z]);
    if (bad)
        fail_msg("%ld request cases failed (seed %" PRIu64 ")", bad, seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_oracle),
                                       cmocka_unit_test(test_oracle_requests)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
