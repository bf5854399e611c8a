/*
 * tests/core/test_report.c — the pure arithmetic of reports (core/report.c) on
 * hand-computed fixtures: month, week and day boundaries in local time (Shanghai, New
 * York across both DST changes, São Paulo whose DST began at midnight), the due instant,
 * month and date parsing, every KPI with its numerator, denominator and rounding (a zero
 * denominator is undefined → null), the per-request rules (first response ≤ 5 min,
 * in time, rework within 30 days; all inclusive), callback rating labels and
 * satisfaction, the form's 投诉人回访意见 and 备注 columns, phone masking, CSV and HTML
 * escaping and the SVG bar chart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "tests/lib/zones.h"

#define H 3600
#define D 86400

/* UTC instant of a civil date-time given as UTC. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return core_days_from_civil(y, mo, d) * D + h * H + mi * 60;
}

/* ------------------------------------------------------------------ periods */

typedef struct month_case {
    const char *zone;
    int y, m;
    int64_t from, to, due;
} month_case_t;

static void test_month_bounds(void **state)
{
    (void)state;
    const month_case_t cases[] = {
        /* UTC+8: local midnight is 16:00 UTC the day before */
        {"Asia/Shanghai", 2026, 3, utc(2026, 2, 28, 16, 0), utc(2026, 3, 31, 16, 0),
         utc(2026, 4, 4, 16, 0)},
        {"Asia/Shanghai", 2026, 2, utc(2026, 1, 31, 16, 0), utc(2026, 2, 28, 16, 0),
         utc(2026, 3, 4, 16, 0)},
        /* December rolls the year over, for the end and for the due date */
        {"Asia/Shanghai", 2026, 12, utc(2026, 11, 30, 16, 0), utc(2026, 12, 31, 16, 0),
         utc(2027, 1, 4, 16, 0)},
        {"Asia/Shanghai", 2028, 2, utc(2028, 1, 31, 16, 0), utc(2028, 2, 29, 16, 0),
         utc(2028, 3, 4, 16, 0)},
        {"UTC", 2026, 1, utc(2026, 1, 1, 0, 0), utc(2026, 2, 1, 0, 0), utc(2026, 2, 5, 0, 0)},
        /* New York: March starts in EST (-5) and ends in EDT (-4): 31 days less an hour */
        {"America/New_York", 2026, 3, utc(2026, 3, 1, 5, 0), utc(2026, 4, 1, 4, 0),
         utc(2026, 4, 5, 4, 0)},
        /* November starts in EDT and ends in EST: 30 days and an hour; the due date of
         * October (5 November) is after the change back */
        {"America/New_York", 2026, 11, utc(2026, 11, 1, 4, 0), utc(2026, 12, 1, 5, 0),
         utc(2026, 12, 5, 5, 0)},
        {"America/New_York", 2026, 10, utc(2026, 10, 1, 4, 0), utc(2026, 11, 1, 4, 0),
         utc(2026, 11, 5, 5, 0)},
        {"America/New_York", 2026, 2, utc(2026, 2, 1, 5, 0), utc(2026, 3, 1, 5, 0),
         utc(2026, 3, 5, 5, 0)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const month_case_t *c = &cases[i];
        tz_rules_t *tz = th_zone(c->zone);
        int64_t from, to;
        core_report_month_bounds(tz, c->y, c->m, &from, &to);
        if (from != c->from || to != c->to || core_report_due_at(tz, c->y, c->m) != c->due)
            fprintf(stderr, "case %zu %s %d-%02d: from %lld to %lld due %lld\n", i, c->zone, c->y,
                    c->m, (long long)from, (long long)to,
                    (long long)core_report_due_at(tz, c->y, c->m));
        assert_int_equal(from, c->from);
        assert_int_equal(to, c->to);
        assert_int_equal(core_report_due_at(tz, c->y, c->m), c->due);
        /* the instants on either side of each boundary fall in the right month */
        int y, m;
        core_report_month_of(tz, from, &y, &m);
        assert_int_equal(y * 100 + m, c->y * 100 + c->m);
        core_report_month_of(tz, to - 1, &y, &m);
        assert_int_equal(y * 100 + m, c->y * 100 + c->m);
        core_report_month_of(tz, from - 1, &y, &m);
        assert_int_not_equal(y * 100 + m, c->y * 100 + c->m);
        core_report_month_of(tz, to, &y, &m);
        assert_int_not_equal(y * 100 + m, c->y * 100 + c->m);
        core_tz_free(tz);
    }
}

typedef struct weeks_case {
    const char *zone;
    int y, m, n;
    int64_t b[6];
} weeks_case_t;

static void test_month_weeks(void **state)
{
    (void)state;
    const weeks_case_t cases[] = {
        /* 28 days: 4 buckets of 7 days */
        {"Asia/Shanghai",
         2026,
         2,
         4,
         {utc(2026, 1, 31, 16, 0), utc(2026, 2, 7, 16, 0), utc(2026, 2, 14, 16, 0),
          utc(2026, 2, 21, 16, 0), utc(2026, 2, 28, 16, 0)}},
        /* 29 days: a fifth bucket of one day */
        {"Asia/Shanghai",
         2028,
         2,
         5,
         {utc(2028, 1, 31, 16, 0), utc(2028, 2, 7, 16, 0), utc(2028, 2, 14, 16, 0),
          utc(2028, 2, 21, 16, 0), utc(2028, 2, 28, 16, 0), utc(2028, 2, 29, 16, 0)}},
        /* New York, March 2026: DST begins on Sunday the 8th at 02:00, after that day's
         * midnight; from the 15th midnights are 04:00 UTC */
        {"America/New_York",
         2026,
         3,
         5,
         {utc(2026, 3, 1, 5, 0), utc(2026, 3, 8, 5, 0), utc(2026, 3, 15, 4, 0),
          utc(2026, 3, 22, 4, 0), utc(2026, 3, 29, 4, 0), utc(2026, 4, 1, 4, 0)}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const weeks_case_t *c = &cases[i];
        tz_rules_t *tz = th_zone(c->zone);
        int64_t b[6] = {0};
        int n = core_report_month_weeks(tz, c->y, c->m, b);
        assert_int_equal(n, c->n);
        for (int k = 0; k <= n; k++)
            assert_int_equal(b[k], c->b[k]);
        core_tz_free(tz);
    }
}

static void test_days_and_dates(void **state)
{
    (void)state;
    tz_rules_t *ny = th_zone("America/New_York");
    tz_rules_t *sh = th_zone("Asia/Shanghai");
    tz_rules_t *sp = th_zone("America/Sao_Paulo");
    int64_t d;
    /* the day DST begins has 23 hours, the day it ends 25 */
    assert_int_equal(core_report_parse_date("2026-03-08", &d), 0);
    assert_int_equal(core_report_local_midnight(ny, d), utc(2026, 3, 8, 5, 0));
    assert_int_equal(core_report_local_midnight(ny, d + 1) - core_report_local_midnight(ny, d),
                     23 * H);
    assert_int_equal(core_report_parse_date("2026-11-01", &d), 0);
    assert_int_equal(core_report_local_midnight(ny, d + 1) - core_report_local_midnight(ny, d),
                     25 * H);
    /* São Paulo, 4 Nov 2018: clocks went from 00:00 to 01:00 — the day begins at the
     * first instant that exists, 01:00 -02 = 03:00 UTC, and lasts 23 hours */
    assert_int_equal(core_report_parse_date("2018-11-04", &d), 0);
    assert_int_equal(d, core_days_from_civil(2018, 11, 4));
    assert_int_equal(core_report_local_midnight(sp, d), utc(2018, 11, 4, 3, 0));
    assert_int_equal(core_report_local_midnight(sp, d + 1), utc(2018, 11, 5, 2, 0));
    assert_int_equal(core_report_local_midnight(sp, d - 1), utc(2018, 11, 3, 3, 0));

    const struct {
        tz_rules_t *tz;
        int64_t t;
        const char *date;
    } dates[] = {
        {sh, utc(2026, 3, 31, 15, 59) + 59, "2026-03-31"},
        {sh, utc(2026, 3, 31, 16, 0), "2026-04-01"},
        {ny, utc(2026, 11, 1, 5, 30), "2026-11-01"}, /* 01:30 EST, the second 01:30 */
        {ny, utc(2026, 11, 2, 4, 59), "2026-11-01"},
        {ny, utc(2026, 11, 2, 5, 0), "2026-11-02"},
        {ny, utc(2027, 1, 1, 4, 59), "2026-12-31"},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char out[11];
        core_report_local_date(dates[i].tz, dates[i].t, out);
        assert_string_equal(out, dates[i].date);
    }
    core_tz_free(ny);
    core_tz_free(sh);
    core_tz_free(sp);
}

static void test_parse(void **state)
{
    (void)state;
    const struct {
        const char *s;
        int ok, y, m;
    } months[] = {
        {"2026-03", 1, 2026, 3}, {"2000-01", 1, 2000, 1}, {"2999-12", 1, 2999, 12},
        {"2026-13", 0, 0, 0},    {"2026-00", 0, 0, 0},    {"1999-12", 0, 0, 0},
        {"3000-01", 0, 0, 0},    {"2026-3", 0, 0, 0},     {"2026/03", 0, 0, 0},
        {"2026-03x", 0, 0, 0},   {"", 0, 0, 0},           {NULL, 0, 0, 0},
        {"20a6-03", 0, 0, 0},    {"+026-03", 0, 0, 0},    {"2026-0 ", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof months / sizeof months[0]; i++) {
        int y = 0, m = 0;
        int rc = core_report_parse_month(months[i].s, &y, &m);
        assert_int_equal(rc, months[i].ok ? 0 : -1);
        if (months[i].ok) {
            assert_int_equal(y, months[i].y);
            assert_int_equal(m, months[i].m);
        }
    }
    const struct {
        const char *s;
        int ok, y, m, d;
    } dates[] = {
        {"2026-02-28", 1, 2026, 2, 28},
        {"2028-02-29", 1, 2028, 2, 29},
        {"2000-02-29", 1, 2000, 2, 29},
        {"2026-12-31", 1, 2026, 12, 31},
        {"2026-02-29", 0, 0, 0, 0},
        {"2100-02-29", 0, 0, 0, 0},
        {"2026-04-31", 0, 0, 0, 0},
        {"2026-01-00", 0, 0, 0, 0},
        {"2026-01-32", 0, 0, 0, 0},
        {"2026-1-01", 0, 0, 0, 0},
        {"2026-01-01T", 0, 0, 0, 0},
        {"1999-12-31", 0, 0, 0, 0},
        {NULL, 0, 0, 0, 0},
        {"2026-00-10", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        int64_t days = -1;
        int rc = core_report_parse_date(dates[i].s, &days);
        assert_int_equal(rc, dates[i].ok ? 0 : -1);
        if (dates[i].ok)
            assert_int_equal(days, core_days_from_civil(dates[i].y, dates[i].m, dates[i].d));
    }
    const struct {
        int y, m, n, oy, om;
    } minus[] = {
        {2026, 3, 0, 2026, 3},   {2026, 3, 2, 2026, 1},    {2026, 1, 1, 2025, 12},
        {2026, 3, 15, 2024, 12}, {2026, 12, 12, 2025, 12}, {2026, 12, 11, 2026, 1},
    };
    for (size_t i = 0; i < sizeof minus / sizeof minus[0]; i++) {
        int oy, om;
        core_report_month_minus(minus[i].y, minus[i].m, minus[i].n, &oy, &om);
        assert_int_equal(oy, minus[i].oy);
        assert_int_equal(om, minus[i].om);
    }
}

/* ------------------------------------------------------------------ KPIs */

#define U -1.0 /* undefined: the denominator is 0 */

typedef struct kpi_case {
    const char *name;
    report_counts_t c;
    double want[KPI__COUNT];
} kpi_case_t;

static void test_kpis(void **state)
{
    (void)state;
    const kpi_case_t cases[] = {
        {"nothing received: every rate and average is undefined",
         {0},
         {U, U, U, U, U, U, U, U, U, U, U, U, U}},
        {"a month by hand",
         {.total = 10,
          .complaints = 6,
          .valid_complaints = 5,
          .valid_complaints_handled = 4,
          .resolved = 9,
          .resolved_with_due = 3,
          .resolved_in_time = 2,
          .first_response_n = 9,
          .first_response_met = 7,
          .first_response_sum_s = 1000,
          .resolution_sum_s = 32405,
          .complaint_callback_due = 4,
          .complaint_callback_done = 4,
          .repair_callback_due = 3,
          .repair_callback_done = 1,
          .callback_rated = 6,
          .callback_satisfied = 5,
          .survey_returned = 8,
          .survey_satisfied = 7,
          .reopened = 1,
          .repairs_at_unit = 8,
          .rework = 1,
          .work_orders = 6,
          .refused_work_orders = 2},
         {
             [KPI_RESOLUTION_RATE] = 0.9,            /* 9/10 */
             [KPI_IN_TIME_RATE] = 0.6667,            /* 2/3 rounded to 4 places */
             [KPI_FIRST_RESPONSE_MET_RATE] = 0.7778, /* 7/9 */
             [KPI_AVG_FIRST_RESPONSE_S] = 111.1,     /* 1000/9 s, 1 place */
             [KPI_AVG_RESOLUTION_S] = 3600.6,        /* 32405/9 = 3600.55… */
             [KPI_COMPLAINT_HANDLING_RATE] = 0.8,    /* 4/5 valid complaints */
             [KPI_COMPLAINT_CALLBACK_RATE] = 1.0,    /* 4/4 */
             [KPI_REPAIR_CALLBACK_RATE] = 0.3333,    /* 1/3 */
             [KPI_CALLBACK_SATISFACTION] = 0.8333,   /* 5/6 */
             [KPI_SURVEY_SATISFACTION] = 0.875,      /* 7/8 */
             [KPI_REOPEN_RATE] = 0.1,                /* 1/10 */
             [KPI_REWORK_RATE] = 0.125,              /* 1/8 */
             [KPI_REFUSED_WORK_ORDER_RATE] = 0.3333  /* 2/6 */
         }},
        {"only some denominators are zero",
         {.total = 3,
          .resolved = 0,
          .first_response_n = 2,
          .first_response_met = 2,
          .first_response_sum_s = 301,
          .valid_complaints = 0,
          .repairs_at_unit = 2,
          .rework = 2},
         {
             [KPI_RESOLUTION_RATE] = 0, /* 0/3 is defined: 0 */
             [KPI_IN_TIME_RATE] = U,
             [KPI_FIRST_RESPONSE_MET_RATE] = 1.0,
             [KPI_AVG_FIRST_RESPONSE_S] = 150.5,
             [KPI_AVG_RESOLUTION_S] = U,
             [KPI_COMPLAINT_HANDLING_RATE] = U,
             [KPI_COMPLAINT_CALLBACK_RATE] = U,
             [KPI_REPAIR_CALLBACK_RATE] = U,
             [KPI_CALLBACK_SATISFACTION] = U,
             [KPI_SURVEY_SATISFACTION] = U,
             [KPI_REOPEN_RATE] = 0,
             [KPI_REWORK_RATE] = 1.0,
             [KPI_REFUSED_WORK_ORDER_RATE] = U,
         }},
        {"rounding at the 4th place; sums beyond 32 bits",
         {.total = 40000,
          .resolved = 40000,
          .resolved_with_due = 40000,
          .resolved_in_time = 39999, /* 0.999975 → 1.0 */
          .first_response_n = 8,
          .first_response_met = 1,
          .first_response_sum_s = 3000000000LL, /* > 2^31 */
          .resolution_sum_s = 90000000000LL},
         {
             [KPI_RESOLUTION_RATE] = 1.0,
             [KPI_IN_TIME_RATE] = 1.0,
             [KPI_FIRST_RESPONSE_MET_RATE] = 0.125,
             [KPI_AVG_FIRST_RESPONSE_S] = 375000000.0,
             [KPI_AVG_RESOLUTION_S] = 2250000.0,
             [KPI_COMPLAINT_HANDLING_RATE] = U,
             [KPI_COMPLAINT_CALLBACK_RATE] = U,
             [KPI_REPAIR_CALLBACK_RATE] = U,
             [KPI_CALLBACK_SATISFACTION] = U,
             [KPI_SURVEY_SATISFACTION] = U,
             [KPI_REOPEN_RATE] = 0,
             [KPI_REWORK_RATE] = U,
             [KPI_REFUSED_WORK_ORDER_RATE] = U,
         }},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        report_ratio_t k[KPI__COUNT];
        core_report_kpis(&cases[i].c, k);
        for (int j = 0; j < KPI__COUNT; j++) {
            double want = cases[i].want[j];
            int ok = want == U ? !k[j].defined : k[j].defined && fabs(k[j].value - want) < 1e-9;
            if (!ok)
                fprintf(stderr, "%s: %s = %s%.6f, want %.6f\n", cases[i].name,
                        core_report_kpi_name((report_kpi_t)j), k[j].defined ? "" : "undefined ",
                        k[j].value, want);
            assert_true(ok);
        }
    }
}

static void test_kpi_names_and_fields(void **state)
{
    (void)state;
    const struct {
        report_kpi_t k;
        const char *name;
        double target;
    } kpis[] = {
        {KPI_RESOLUTION_RATE, "resolution_rate", 0.9},
        {KPI_IN_TIME_RATE, "in_time_rate", -1},
        {KPI_FIRST_RESPONSE_MET_RATE, "first_response_met_rate", -1},
        {KPI_AVG_FIRST_RESPONSE_S, "avg_first_response_seconds", 300},
        {KPI_AVG_RESOLUTION_S, "avg_resolution_seconds", -1},
        {KPI_COMPLAINT_HANDLING_RATE, "complaint_handling_rate", 1},
        {KPI_COMPLAINT_CALLBACK_RATE, "complaint_callback_rate", 1},
        {KPI_REPAIR_CALLBACK_RATE, "repair_callback_rate", 1},
        {KPI_CALLBACK_SATISFACTION, "callback_satisfaction", -1},
        {KPI_SURVEY_SATISFACTION, "survey_satisfaction", -1},
        {KPI_REOPEN_RATE, "reopen_rate", -1},
        {KPI_REWORK_RATE, "rework_rate", -1},
        {KPI_REFUSED_WORK_ORDER_RATE, "refused_work_order_rate", -1},
    };
    assert_int_equal(sizeof kpis / sizeof kpis[0], KPI__COUNT);
    for (size_t i = 0; i < KPI__COUNT; i++) {
        assert_string_equal(core_report_kpi_name(kpis[i].k), kpis[i].name);
        assert_true(core_report_kpi_target(kpis[i].k) == kpis[i].target);
    }
    assert_string_equal(core_report_kpi_name(KPI__COUNT), "unknown");
    assert_true(core_report_kpi_target((report_kpi_t)-1) < 0);
    /* the first-response target is the rule's constant */
    assert_true(core_report_kpi_target(KPI_AVG_FIRST_RESPONSE_S) == CORE_REPORT_FIRST_RESPONSE_S);

    /* every counter of report_counts_t has exactly one API name: setting each field
     * through its offset touches a distinct, in-bounds part of the struct and all of it */
    assert_int_equal(core_report_count_nfields, 24);
    unsigned char seen[sizeof(report_counts_t)] = {0};
    for (size_t i = 0; i < core_report_count_nfields; i++) {
        const report_count_field_t *f = &core_report_count_fields[i];
        size_t sz = f->wide ? sizeof(long long) : sizeof(long);
        assert_true(f->offset + sz <= sizeof(report_counts_t));
        for (size_t b = f->offset; b < f->offset + sz; b++) {
            assert_int_equal(seen[b], 0);
            seen[b] = 1;
        }
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(core_report_count_fields[j].name, f->name);
    }
    report_counts_t c = {0};
    c.rework = 7;
    c.resolution_sum_s = 1LL << 40;
    for (size_t i = 0; i < core_report_count_nfields; i++) {
        const report_count_field_t *f = &core_report_count_fields[i];
        if (!strcmp(f->name, "rework"))
            assert_int_equal(*(long *)((char *)&c + f->offset), 7);
        if (!strcmp(f->name, "resolution_sum_s")) {
            assert_true(f->wide);
            assert_true(*(long long *)((char *)&c + f->offset) == 1LL << 40);
        }
    }
}

/* ------------------------------------------------------------------ per-request rules */

static void test_rules(void **state)
{
    (void)state;
    const int64_t t0 = utc(2026, 3, 10, 9, 0);
    const struct {
        int64_t a, b;
        int want;
    } fr[] = {
        {t0, t0 + 299, 1}, {t0, t0 + 300, 1}, /* exactly 5 minutes: met */
        {t0, t0 + 301, 0}, {t0, t0 + 3600, 0}, {t0, t0, 1},
        {t0, t0 - 60, 1}, /* acted before the recorded receipt (back-dated entry) */
        {t0, -1, -1},     /* no staff action yet: not counted */
    };
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++)
        assert_int_equal(core_report_first_response_met(fr[i].a, fr[i].b), fr[i].want);

    const struct {
        int64_t resolved, due;
        int want;
    } it[] = {
        {t0, t0 + 1, 1}, {t0, t0, 1},                       /* at the due instant: in time */
        {t0 + 1, t0, 0}, {t0 + 3 * D, t0, 0}, {-1, t0, -1}, /* not resolved */
        {t0, -1, -1},                                       /* no resolution clock ran */
    };
    for (size_t i = 0; i < sizeof it / sizeof it[0]; i++)
        assert_int_equal(core_report_in_time(it[i].resolved, it[i].due), it[i].want);

    const int64_t w = (int64_t)CORE_REPORT_REWORK_WINDOW_H * H;
    assert_int_equal(w, 30 * D);
    const struct {
        int64_t prev, cur;
        int want;
    } rw[] = {
        {-1, t0, 0},         /* the first repair of the unit and category */
        {t0 - w, t0, 1},     /* exactly 30 days: rework */
        {t0 - w - 1, t0, 0}, /* a second more: a new fault */
        {t0 - 2 * D, t0, 1}, {t0, t0, 1}, {t0 - 45 * D, t0, 0},
    };
    for (size_t i = 0; i < sizeof rw / sizeof rw[0]; i++)
        assert_int_equal(core_report_is_rework(rw[i].prev, rw[i].cur), rw[i].want);
}

/* ------------------------------------------------------------------ labels and form */

static void test_ratings(void **state)
{
    (void)state;
    const struct {
        const char *r, *label;
        int sat;
    } cases[] = {
        {"very_satisfied", "非常满意", 1},
        {"非常满意", "非常满意", 1},
        {"satisfied", "满意", 1},
        {"满意", "满意", 1},
        /* callback satisfaction counts 非常满意 and 满意 only (RULES §3.11.5 decision) */
        {"average", "一般", 0},
        {"一般", "一般", 0},
        {"dissatisfied", "不满意", 0},
        {"very_dissatisfied", "极不满意", 0},
        {"极不满意", "极不满意", 0},
        {"基本满意", NULL, -1}, /* the survey scale's level, not the callback scale's */
        {"good", NULL, -1},
        {"", NULL, -1},
        {"Satisfied", NULL, -1},
        {NULL, NULL, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *l = core_report_rating_label(cases[i].r);
        if (cases[i].label)
            assert_string_equal(l, cases[i].label);
        else
            assert_null(l);
        assert_int_equal(core_report_rating_satisfied(cases[i].r), cases[i].sat);
    }
    assert_string_equal(core_report_severity_label("major"), "严重");
    assert_string_equal(core_report_severity_label("important"), "重要");
    assert_string_equal(core_report_severity_label("general"), "一般");
    assert_null(core_report_severity_label("minor"));
    assert_null(core_report_severity_label(NULL));
}

static void test_form_columns(void **state)
{
    (void)state;
    const struct {
        const char *rating;
        int sat;
        const char *note, *want;
    } op[] = {
        {"very_satisfied", -1, NULL, "非常满意"},
        {"满意", -1, "师傅很快", "满意：师傅很快"},
        {"good", -1, NULL, "good"}, /* an unknown rating is shown as given */
        {NULL, 1, NULL, "满意"},
        {NULL, 0, "还是漏", "不满意：还是漏"},
        {"", -1, "只有备注", "只有备注"},
        {"average", 1, "", "一般"}, /* the rating wins over the flag */
        {NULL, -1, NULL, ""},
    };
    for (size_t i = 0; i < sizeof op / sizeof op[0]; i++) {
        report_buf_t b = {0};
        core_report_callback_opinion(&b, op[i].rating, op[i].sat, op[i].note);
        assert_string_equal(b.s ? b.s : "", op[i].want);
        free(b.s);
    }
    /* appended to a buffer that already holds text, the separator logic looks only at
     * what this call wrote */
    report_buf_t b = {0};
    core_report_buf_puts(&b, "x");
    core_report_callback_opinion(&b, NULL, -1, "备注");
    assert_string_equal(b.s, "x备注");
    free(b.s);

    const struct {
        const char *sev, *val;
        int reopen, overdue;
        const char *want;
    } rm[] = {
        {"major", "valid", 0, 0, "严重；有效"},
        {"important", "invalid", 2, 1, "重要；无效；重开2次；超时"},
        {"", "unknown", 0, 0, "一般；待定"},
        {NULL, NULL, 0, 1, "一般；待定；超时"},
        {"general", "valid", 1, 0, "一般；有效；重开1次"},
        {"major", "pending", -1, 0, "严重；待定"},
    };
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) {
        report_buf_t m = {0};
        core_report_remarks(&m, rm[i].sev, rm[i].val, rm[i].reopen, rm[i].overdue);
        assert_string_equal(m.s, rm[i].want);
        free(m.s);
    }
}

/* ------------------------------------------------------------------ text */

static void test_mask_phone(void **state)
{
    (void)state;
    const struct {
        const char *in, *want;
    } cases[] = {
        {"13812345678", "138****5678"},
        {"12345678", "123*5678"},
        {"1234567", "*******"}, /* 7 or fewer: nothing kept */
        {"123", "***"},
        {"", ""},
        {NULL, ""},
        {"+86 138 1234 5678", "+86**********5678"},
        {"021-6543-2100", "021******2100"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        core_report_mask_phone(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].want);
    }
    char small[5];
    core_report_mask_phone("13812345678", small, sizeof small);
    assert_string_equal(small, "138*"); /* truncated, still terminated */
    char none[1] = {'x'};
    core_report_mask_phone("13812345678", none, 1);
    assert_int_equal(none[0], 0);
}

static void test_csv_field(void **state)
{
    (void)state;
    const struct {
        const char *in, *want;
    } cases[] = {
        {"abc", "abc"},
        {"中文，全角逗号", "中文，全角逗号"}, /* only the ASCII comma separates */
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"line\nbreak", "\"line\nbreak\""},
        {"cr\r\nlf", "\"cr\r\nlf\""},
        {"\"", "\"\"\"\""},
        /* formula injection: a leading = + - @ is neutralised with ' */
        {"=SUM(A1:A9)", "\"'=SUM(A1:A9)\""},
        {"+86 138", "\"'+86 138\""},
        {"-5", "\"'-5\""},
        {"@cmd", "\"'@cmd\""},
        {"=\"x\"", "\"'=\"\"x\"\"\""},
        {"a=b", "a=b"},
        {"", ""},
        {NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        report_buf_t b = {0};
        core_report_csv_field(&b, cases[i].in);
        assert_string_equal(b.s ? b.s : "", cases[i].want);
        free(b.s);
    }
}

static void test_html_and_buf(void **state)
{
    (void)state;
    report_buf_t b = {0};
    core_report_html(&b, "<a href=\"x\">&'</a> 投诉");
    assert_string_equal(b.s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt; 投诉");
    free(b.s);
    b = (report_buf_t){0};
    core_report_html(&b, NULL);
    core_report_html(&b, "");
    assert_null(b.s);

    /* printf beyond the 512-byte fast path, and growth past several doublings */
    char big[2001];
    memset(big, 'y', 2000);
    big[2000] = 0;
    b = (report_buf_t){0};
    core_report_buf_printf(&b, "<%s>%d", big, 42);
    assert_int_equal(b.len, 2004);
    assert_int_equal(strlen(b.s), 2004);
    assert_memory_equal(b.s + 2001, ">42", 3);
    for (int i = 0; i < 1000; i++)
        core_report_buf_puts(&b, "0123456789");
    assert_int_equal(b.len, 12004);
    assert_false(b.oom);
    free(b.s);
}

static int count(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
        n++;
    return n;
}

static void test_svg_bars(void **state)
{
    (void)state;
    const char *labels[] = {"服务态度", "<维修>"};
    const double counts[] = {1, 2};
    report_buf_t b = {0};
    core_report_svg_bars(&b, "按类别 & 部门", labels, counts, 2, 0, 0);
    assert_non_null(b.s);
    assert_true(strncmp(b.s, "<svg ", 5) == 0);
    assert_int_equal(count(b.s, "<rect class=\"bar\""), 2);
    assert_int_equal(count(b.s, "width=\"380\" height"), 1); /* the largest: full width */
    assert_int_equal(count(b.s, "width=\"190\" height"), 1); /* half of it */
    assert_int_equal(count(b.s, "按类别 &amp; 部门"), 2);    /* <title> and the caption */
    assert_int_equal(count(b.s, "&lt;维修&gt;"), 1);
    assert_null(strstr(b.s, "<script"));
    assert_true(strstr(b.s, "</svg>") == b.s + b.len - 6);
    free(b.s);

    const char *weeks[] = {"03-01–03-07", "03-08–03-14", "03-15–03-21"};
    const double rates[] = {0.875, -1, 0};
    b = (report_buf_t){0};
    core_report_svg_bars(&b, "按周按时解决率", weeks, rates, 3, 1, 1);
    assert_int_equal(count(b.s, ">87.5%<"), 1);
    assert_int_equal(count(b.s, ">—<"), 1); /* undefined: a dash, no bar */
    assert_int_equal(count(b.s, ">0.0%<"), 1);
    assert_int_equal(count(b.s, "width=\"333\" height"), 1); /* 0.875 × 380 rounded */
    assert_int_equal(count(b.s, "width=\"0\" height"), 2);
    free(b.s);

    b = (report_buf_t){0};
    core_report_svg_bars(&b, "空", NULL, NULL, 0, 0, 0);
    assert_int_equal(count(b.s, "<rect"), 0);
    assert_int_equal(count(b.s, "</svg>"), 1);
    free(b.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_bounds),   cmocka_unit_test(test_month_weeks),
        cmocka_unit_test(test_days_and_dates), cmocka_unit_test(test_parse),
        cmocka_unit_test(test_kpis),           cmocka_unit_test(test_kpi_names_and_fields),
        cmocka_unit_test(test_rules),          cmocka_unit_test(test_ratings),
        cmocka_unit_test(test_form_columns),   cmocka_unit_test(test_mask_phone),
        cmocka_unit_test(test_csv_field),      cmocka_unit_test(test_html_and_buf),
        cmocka_unit_test(test_svg_bars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
