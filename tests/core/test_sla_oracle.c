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
#include "core/tz.h"
#include "tests/core/sla_oracle_ref.h"

static const char *zone_names[] = {"Asia/Shanghai", "America/New_York", "Europe/Berlin",
                                   "Australia/Sydney", "UTC"};
#define NZONES (sizeof(zone_names) / sizeof(zone_names[0]))
static tz_rules_t *zones[NZONES];

static tz_rules_t *load_zone(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    tz_rules_t *tz = NULL;
    if (core_tz_parse_tzif(buf, n, &tz) != 0)
        fail_msg("cannot parse %s", path);
    return tz;
}

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
        if (n > 0)
            return tr[range(0, n - 1)] + range(-3 * 1440, 1440) * 60;
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
        zones[z] = load_zone(zone_names[z]);

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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_oracle)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
