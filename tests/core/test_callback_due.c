/*
 * tests/core/test_callback_due.c — a callback task's due time under the project's callback
 * policy (RULES §3.1.2; core_callback_due): every kind of callback target on the project's
 * calendar, and 24 h when there is no policy, the target is off or cannot be reached.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/callback.h"
#include "core/tz.h"

#define MIN 60
#define HR  3600

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return core_days_from_civil(y, mo, d) * 86400 + h * HR + mi * MIN;
}

static void test_due_by_policy(void **state)
{
    (void)state;
    tz_rules_t *cst = NULL;
    assert_int_equal(core_tz_parse_posix("CST-8", &cst), 0);
    /* Office: Monday to Friday 09:00-12:00 and 13:00-18:00 local (UTC+8). */
    calendar_t office;
    memset(&office, 0, sizeof office);
    office.tz = cst;
    for (int d = 0; d < 5; d++)
        office.weekly[d] = (day_hours_t){2, {{9 * 60, 12 * 60}, {13 * 60, 18 * 60}}};
    calendar_t closed; /* never open: a business target cannot be reached */
    memset(&closed, 0, sizeof closed);
    closed.tz = cst;

    /* Friday 27 Nov 2026, 11:00 local. */
    const int64_t start = utc(2026, 11, 27, 3, 0);
    static const struct {
        int enabled;
        sla_kind_t kind;
        int64_t duration_s;
        int hh, mm;
        int closed_cal;
        int64_t want_delta; /* from start; -1: see want_at */
        int64_t want_at;
    } cases[] = {
        {1, SLA_CALENDAR, 90 * MIN, 0, 0, 0, 90 * MIN, 0},
        {1, SLA_CALENDAR, 24 * HR, 0, 0, 0, 24 * HR, 0},
        /* 1 h to noon, 3 h after lunch: Friday 16:00 local */
        {1, SLA_BUSINESS, 4 * HR, 0, 0, 0, -1, 0},
        /* 8 business hours: 1 h Friday morning, 5 h afternoon, Monday 09:00-11:00 */
        {1, SLA_BUSINESS, 8 * HR, 0, 0, 0, -1, 1},
        /* the next 09:00 local: Saturday */
        {1, SLA_NEXT_LOCAL_TIME, 0, 9, 0, 0, -1, 2},
        /* the end of the local day */
        {1, SLA_END_OF_DAY, 0, 0, 0, 0, -1, 3},
        /* off, or never reachable: 24 h as when no clock runs */
        {0, SLA_CALENDAR, 90 * MIN, 0, 0, 0, 24 * HR, 0},
        {1, SLA_BUSINESS, 4 * HR, 0, 0, 1, 24 * HR, 0},
    };
    const int64_t at[] = {utc(2026, 11, 27, 8, 0), utc(2026, 11, 30, 3, 0), utc(2026, 11, 28, 1, 0),
                          utc(2026, 11, 27, 16, 0)};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sla_policy_t pol;
        memset(&pol, 0, sizeof pol);
        pol.warn_pct = 80;
        pol.escalate_every_s = HR;
        pol.rules[SLA_T_RESOLUTION] = (sla_rule_t){1, SLA_CALENDAR, 48 * HR, 0, 0};
        pol.rules[SLA_T_CALLBACK] = (sla_rule_t){cases[i].enabled, cases[i].kind,
                                                 cases[i].duration_s, cases[i].hh, cases[i].mm};
        int64_t want =
            cases[i].want_delta >= 0 ? start + cases[i].want_delta : at[cases[i].want_at];
        int64_t got = core_callback_due(&pol, cases[i].closed_cal ? &closed : &office, start);
        if (got != want)
            fail_msg("case %zu: due %lld, want %lld", i, (long long)got, (long long)want);
    }
    /* no policy at all (the project has no SLA configuration) */
    assert_int_equal(core_callback_due(NULL, NULL, start), start + CB_DEFAULT_DUE_S);
    core_tz_free(cst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_by_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
