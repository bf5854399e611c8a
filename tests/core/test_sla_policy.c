/*
 * tests/core/test_sla_policy.c — SLA policy and calendar definitions, pure
 * (core/sla_policy.c): what a valid definition parses to, and the message an
 * administrator gets for each kind of invalid one.  Zones come through a resolver that
 * knows only Asia/Shanghai (read from /usr/share/zoneinfo by tests/lib).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla_policy.h"
#include "core/tz.h"
#include "tests/lib/zones.h"

static tz_rules_t *shanghai;
static int lookups;

static const tz_rules_t *resolver(const char *name, void *ctx)
{
    (void)ctx;
    lookups++;
    return !strcmp(name, "Asia/Shanghai") ? shanghai : NULL;
}

static int setup(void **state)
{
    (void)state;
    shanghai = th_zone_load("Asia/Shanghai");
    return shanghai ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    core_tz_free(shanghai);
    return 0;
}

static int32_t day(int y, int m, int d)
{
    return (int32_t)core_days_from_civil(y, m, d);
}

/* ---------------------------------------------------------------- policies */

static void test_policy_valid(void **state)
{
    (void)state;
    sla_policy_t p;
    char err[256] = "";
    const char *json = "{\"targets\":{\"first_response\":{\"kind\":\"business\",\"minutes\":30},"
                       "\"resolution\":{\"kind\":\"calendar\",\"minutes\":2880},"
                       "\"handover\":{\"kind\":\"end_of_day\"},"
                       "\"gm_report\":{\"kind\":\"next_local_time\",\"at\":\"09:30\"}},"
                       "\"warn_pct\":75,\"escalate_every_minutes\":90}";
    assert_int_equal(core_sla_policy_parse(json, &p, err, sizeof err), 0);
    assert_int_equal(p.warn_pct, 75);
    assert_int_equal(p.escalate_every_s, 90 * 60);
    assert_true(p.rules[SLA_T_FIRST_RESPONSE].enabled);
    assert_int_equal(p.rules[SLA_T_FIRST_RESPONSE].kind, SLA_BUSINESS);
    assert_int_equal(p.rules[SLA_T_FIRST_RESPONSE].duration_s, 30 * 60);
    assert_int_equal(p.rules[SLA_T_RESOLUTION].kind, SLA_CALENDAR);
    assert_int_equal(p.rules[SLA_T_RESOLUTION].duration_s, 2880 * 60);
    assert_int_equal(p.rules[SLA_T_HANDOVER].kind, SLA_END_OF_DAY);
    assert_int_equal(p.rules[SLA_T_GM_REPORT].kind, SLA_NEXT_LOCAL_TIME);
    assert_int_equal(p.rules[SLA_T_GM_REPORT].hh, 9);
    assert_int_equal(p.rules[SLA_T_GM_REPORT].mm, 30);
    assert_false(p.rules[SLA_T_ON_SITE].enabled);
    assert_false(p.rules[SLA_T_ANSWER].enabled);
    assert_false(p.rules[SLA_T_CALLBACK].enabled);
}

static void test_policy_defaults(void **state)
{
    (void)state;
    sla_policy_t p;
    char err[256] = "";
    assert_int_equal(core_sla_policy_parse("{\"targets\":{}}", &p, err, sizeof err), 0);
    assert_int_equal(p.warn_pct, SLA_DEFAULT_WARN_PCT);
    assert_int_equal(p.escalate_every_s, 3600);
    for (int t = 0; t < SLA_T__COUNT; t++)
        assert_false(p.rules[t].enabled);
}

static void test_policy_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"", "a policy needs 'targets'"},
        {"not json", "a policy needs 'targets'"},
        {"[]", "a policy needs 'targets'"},
        {"{}", "a policy needs 'targets'"},
        {"{\"targets\":[]}", "a policy needs 'targets'"},
        {"{\"targets\":{},\"color\":1}",
         "'color' is not a policy field (targets, warn_pct, escalate_every_minutes)"},
        {"{\"targets\":{},\"warn_pct\":0}", "'warn_pct' must be a whole number from 1 to 99"},
        {"{\"targets\":{},\"warn_pct\":100}", "'warn_pct' must be a whole number from 1 to 99"},
        {"{\"targets\":{},\"warn_pct\":50.5}", "'warn_pct' must be a whole number from 1 to 99"},
        {"{\"targets\":{},\"warn_pct\":\"80\"}", "'warn_pct' must be a whole number from 1 to 99"},
        {"{\"targets\":{},\"escalate_every_minutes\":0}",
         "'escalate_every_minutes' must be a whole number from 1 to 43200"},
        {"{\"targets\":{},\"escalate_every_minutes\":43201}",
         "'escalate_every_minutes' must be a whole number from 1 to 43200"},
        {"{\"targets\":{\"lunch\":{\"kind\":\"calendar\",\"minutes\":5}}}",
         "unknown target 'lunch' (first_response, on_site, answer, resolution, handover, "
         "callback, gm_report)"},
        {"{\"targets\":{\"answer\":30}}",
         "target 'answer' needs 'kind': calendar, business, end_of_day or next_local_time"},
        {"{\"targets\":{\"answer\":{\"minutes\":30}}}",
         "target 'answer' needs 'kind': calendar, business, end_of_day or next_local_time"},
        {"{\"targets\":{\"answer\":{\"kind\":\"weekly\",\"minutes\":30}}}",
         "target 'answer' needs 'kind': calendar, business, end_of_day or next_local_time"},
        {"{\"targets\":{\"resolution\":{\"kind\":\"calendar\"}}}",
         "target 'resolution' needs 'minutes' (1 to 525600)"},
        {"{\"targets\":{\"resolution\":{\"kind\":\"business\",\"minutes\":0}}}",
         "target 'resolution' needs 'minutes' (1 to 525600)"},
        {"{\"targets\":{\"resolution\":{\"kind\":\"business\",\"minutes\":525601}}}",
         "target 'resolution' needs 'minutes' (1 to 525600)"},
        {"{\"targets\":{\"resolution\":{\"kind\":\"calendar\",\"minutes\":1.5}}}",
         "target 'resolution' needs 'minutes' (1 to 525600)"},
        {"{\"targets\":{\"gm_report\":{\"kind\":\"next_local_time\"}}}",
         "target 'gm_report' needs 'at': \"HH:MM\""},
        {"{\"targets\":{\"gm_report\":{\"kind\":\"next_local_time\",\"at\":\"9:00\"}}}",
         "target 'gm_report' needs 'at': \"HH:MM\""},
        {"{\"targets\":{\"gm_report\":{\"kind\":\"next_local_time\",\"at\":\"24:00\"}}}",
         "target 'gm_report' needs 'at': \"HH:MM\""},
        {"{\"targets\":{\"gm_report\":{\"kind\":\"next_local_time\",\"at\":\"12:60\"}}}",
         "target 'gm_report' needs 'at': \"HH:MM\""},
        {"{\"targets\":{\"gm_report\":{\"kind\":\"next_local_time\",\"at\":\"ab:cd\"}}}",
         "target 'gm_report' needs 'at': \"HH:MM\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sla_policy_t p;
        char err[256] = "";
        if (core_sla_policy_parse(cases[i].json, &p, err, sizeof err) != -1)
            fail_msg("accepted: %s", cases[i].json);
        if (!strstr(err, cases[i].message))
            fail_msg("%s: got '%s', want '%s'", cases[i].json, err, cases[i].message);
    }
}

/* What core_sla_policy_json writes reads back to the same policy (the defaults each new
 * project gets are stored this way). */
static void test_policy_json_round_trip(void **state)
{
    (void)state;
    sla_default_t defs[16];
    size_t n = core_sla_defaults(defs, 16);
    assert_true(n > 0 && n <= 16);
    for (size_t k = 0; k < n; k++) {
        cJSON *j = core_sla_policy_json(&defs[k].policy);
        char *text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        sla_policy_t back;
        char err[256] = "";
        if (core_sla_policy_parse(text, &back, err, sizeof err) != 0)
            fail_msg("default %zu does not read back: %s (%s)", k, err, text);
        free(text);
        assert_int_equal(back.warn_pct, defs[k].policy.warn_pct);
        assert_int_equal(back.escalate_every_s, defs[k].policy.escalate_every_s);
        for (int t = 0; t < SLA_T__COUNT; t++) {
            const sla_rule_t *a = &defs[k].policy.rules[t], *b = &back.rules[t];
            assert_int_equal(a->enabled, b->enabled);
            if (!a->enabled)
                continue;
            assert_int_equal(a->kind, b->kind);
            if (a->kind == SLA_CALENDAR || a->kind == SLA_BUSINESS)
                assert_int_equal(a->duration_s, b->duration_s);
            if (a->kind == SLA_NEXT_LOCAL_TIME) {
                assert_int_equal(a->hh, b->hh);
                assert_int_equal(a->mm, b->mm);
            }
        }
    }
}

/* ---------------------------------------------------------------- weekly hours */

static void test_weekly_valid(void **state)
{
    (void)state;
    cJSON *w = cJSON_Parse("{\"mon\":[[\"09:00\",\"12:00\"],[\"12:00\",\"18:30\"]],"
                           "\"sat\":[[\"00:00\",\"24:00\"]],"
                           "\"sun\":[[\"08:00\",\"09:00\"],[\"10:00\",\"11:00\"],"
                           "[\"12:00\",\"13:00\"],[\"14:00\",\"15:00\"]]}");
    day_hours_t week[7];
    char err[256] = "";
    assert_int_equal(core_sla_weekly_parse(w, week, err, sizeof err), 0);
    cJSON_Delete(w);
    assert_int_equal(week[0].nsegments, 2); /* touching segments are fine */
    assert_int_equal(week[0].seg[0].start_min, 9 * 60);
    assert_int_equal(week[0].seg[0].end_min, 12 * 60);
    assert_int_equal(week[0].seg[1].start_min, 12 * 60);
    assert_int_equal(week[0].seg[1].end_min, 18 * 60 + 30);
    for (int d = 1; d < 5; d++)
        assert_int_equal(week[d].nsegments, 0); /* a missing day is closed */
    assert_int_equal(week[5].nsegments, 1);
    assert_int_equal(week[5].seg[0].end_min, 1440);
    assert_int_equal(week[6].nsegments, 4);
}

static void test_weekly_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"[]", "an object keyed by mon..sun is required"},
        {"\"mon\"", "an object keyed by mon..sun is required"},
        {"{\"monday\":[]}", "unknown day 'monday' (use mon..sun)"},
        {"{\"tue\":\"09:00-18:00\"}",
         "tue must be a list of at most 4 [\"HH:MM\",\"HH:MM\"] pairs"},
        {"{\"wed\":[[\"01:00\",\"02:00\"],[\"03:00\",\"04:00\"],[\"05:00\",\"06:00\"],"
         "[\"07:00\",\"08:00\"],[\"09:00\",\"10:00\"]]}",
         "wed must be a list of at most 4 [\"HH:MM\",\"HH:MM\"] pairs"},
        {"{\"thu\":[[\"18:00\",\"09:00\"]]}",
         "thu segments must be [\"HH:MM\",\"HH:MM\"] with start < end, sorted and not "
         "overlapping"},
        {"{\"thu\":[[\"09:00\",\"09:00\"]]}", "thu segments must be"},
        {"{\"fri\":[[\"09:00\",\"13:00\"],[\"12:00\",\"18:00\"]]}", "fri segments must be"},
        {"{\"fri\":[[\"13:00\",\"18:00\"],[\"09:00\",\"12:00\"]]}", "fri segments must be"},
        {"{\"sat\":[[\"09:00\",\"24:01\"]]}", "sat segments must be"},
        {"{\"sat\":[[\"09:00\"]]}", "sat segments must be"},
        {"{\"sun\":[[\"09:00\",\"12:00\",\"18:00\"]]}", "sun segments must be"},
        {"{\"sun\":[[900,1200]]}", "sun segments must be"},
        {"{\"mon\":[[\"9:00\",\"12:00\"]]}", "mon segments must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *w = cJSON_Parse(cases[i].json);
        assert_non_null(w);
        day_hours_t week[7];
        char err[256] = "";
        int rc = core_sla_weekly_parse(w, week, err, sizeof err);
        cJSON_Delete(w);
        if (rc != -1)
            fail_msg("accepted: %s", cases[i].json);
        if (!strstr(err, cases[i].message))
            fail_msg("%s: got '%s', want '%s'", cases[i].json, err, cases[i].message);
    }
    day_hours_t week[7];
    char err[256] = "";
    assert_int_equal(core_sla_weekly_parse(NULL, week, err, sizeof err), -1);
    assert_string_equal(err, "an object keyed by mon..sun is required");
}

/* ---------------------------------------------------------------- calendars */

static void test_calendar_valid(void **state)
{
    (void)state;
    sla_calendar_def_t d;
    char err[256] = "";
    const char *json =
        "{\"time_zone\":\"Asia/Shanghai\","
        "\"weekly\":{\"mon\":[[\"09:00\",\"18:00\"]],\"tue\":[[\"09:00\",\"18:00\"]]},"
        "\"holidays\":[\"2026-10-02\",\"2026-10-01\",\"2026-10-02\"],"
        "\"makeup_days\":[\"2026-09-27\"]}";
    lookups = 0;
    assert_int_equal(core_sla_calendar_parse(json, resolver, NULL, &d, err, sizeof err), 0);
    assert_int_equal(lookups, 1);
    assert_ptr_equal(d.cal.tz, shanghai);
    assert_string_equal(d.tz, "Asia/Shanghai");
    /* Sorted, duplicates collapsed, and the calendar points at its own arrays. */
    assert_int_equal(d.cal.nholidays, 2);
    assert_ptr_equal(d.cal.holidays, d.holidays);
    assert_int_equal(d.cal.holidays[0], day(2026, 10, 1));
    assert_int_equal(d.cal.holidays[1], day(2026, 10, 2));
    assert_int_equal(d.cal.nmakeup_days, 1);
    assert_ptr_equal(d.cal.makeup_days, d.makeup);
    assert_int_equal(d.cal.makeup_days[0], day(2026, 9, 27));
    /* Without makeup_hours a make-up day works like a Monday. */
    assert_int_equal(d.cal.workday_segments.nsegments, 1);
    assert_int_equal(d.cal.workday_segments.seg[0].start_min, 9 * 60);
    assert_int_equal(d.cal.weekly[2].nsegments, 0);
    char verr[128];
    assert_int_equal(core_calendar_validate(&d.cal, verr, sizeof verr), 0);
    core_sla_calendar_def_free(&d);
    assert_null(d.holidays);
    assert_null(d.makeup);
    core_sla_calendar_def_free(&d); /* twice is harmless */

    assert_int_equal(core_sla_calendar_parse("{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},"
                                             "\"makeup_days\":[\"2027-02-06\"],"
                                             "\"makeup_hours\":[[\"10:00\",\"16:00\"]]}",
                                             resolver, NULL, &d, err, sizeof err),
                     0);
    assert_int_equal(d.cal.nholidays, 0);
    assert_int_equal(d.cal.workday_segments.nsegments, 1);
    assert_int_equal(d.cal.workday_segments.seg[0].start_min, 10 * 60);
    assert_int_equal(d.cal.workday_segments.seg[0].end_min, 16 * 60);
    core_sla_calendar_def_free(&d);
}

static void test_calendar_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"", "the calendar must be a JSON object"},
        {"[1]", "the calendar must be a JSON object"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"closed\":[]}",
         "'closed' is not a calendar field (time_zone, weekly, holidays, makeup_days, "
         "makeup_hours)"},
        {"{\"weekly\":{}}", "'time_zone' must be an IANA zone name such as Asia/Shanghai"},
        {"{\"time_zone\":8,\"weekly\":{}}",
         "'time_zone' must be an IANA zone name such as Asia/Shanghai"},
        {"{\"time_zone\":\"Mars/Olympus\",\"weekly\":{}}",
         "'time_zone' must be an IANA zone name such as Asia/Shanghai"},
        {"{\"time_zone\":\"Asia/Shanghai\"}", "an object keyed by mon..sun is required"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{\"xyz\":[]}}", "unknown day 'xyz'"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":\"2026-10-01\"}",
         "'holidays' must be a list of \"YYYY-MM-DD\" dates"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"2026-10-01\",20261002]}",
         "'holidays' must be a list of \"YYYY-MM-DD\" dates"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"2026/10/01\"]}",
         "'holidays' must be a list of \"YYYY-MM-DD\" dates"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"1969-12-31\"]}",
         "'holidays' must be a list of \"YYYY-MM-DD\" dates"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"2026-13-01\"]}",
         "'holidays' must be a list of \"YYYY-MM-DD\" dates"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"2027-02-30\"]}",
         "'holidays' has an impossible date '2027-02-30'"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"makeup_days\":[\"2026-9-27\"]}",
         "'makeup_days' must be a list of \"YYYY-MM-DD\" dates"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"makeup_days\":[\"2026-02-29\"]}",
         "'makeup_days' has an impossible date '2026-02-29'"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"makeup_hours\":[[\"18:00\","
         "\"09:00\"]]}",
         "'makeup_hours' segments must be"},
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"makeup_hours\":{}}",
         "'makeup_hours' must be a list of at most 4"},
        /* A date cannot be both a holiday and a make-up day (core_calendar_validate). */
        {"{\"time_zone\":\"Asia/Shanghai\",\"weekly\":{},\"holidays\":[\"2026-10-01\"],"
         "\"makeup_days\":[\"2026-10-01\"]}",
         "date is both a holiday and a make-up day (index 0)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sla_calendar_def_t d;
        char err[256] = "";
        if (core_sla_calendar_parse(cases[i].json, resolver, NULL, &d, err, sizeof err) != -1)
            fail_msg("accepted: %s", cases[i].json);
        if (!strstr(err, cases[i].message))
            fail_msg("%s: got '%s', want '%s'", cases[i].json, err, cases[i].message);
        /* A refused definition leaves nothing to free (ASan checks the arrays). */
        assert_null(d.holidays);
        assert_null(d.makeup);
        assert_null(d.cal.tz);
    }
}

/* The resolver's context is handed through, and a zone name it refuses is refused. */
static const tz_rules_t *ctx_resolver(const char *name, void *ctx)
{
    snprintf(ctx, 64, "%s", name);
    return NULL;
}

static void test_calendar_resolver_context(void **state)
{
    (void)state;
    char asked[64] = "";
    sla_calendar_def_t d;
    char err[256] = "";
    assert_int_equal(core_sla_calendar_parse("{\"time_zone\":\"Europe/Paris\",\"weekly\":{}}",
                                             ctx_resolver, asked, &d, err, sizeof err),
                     -1);
    assert_string_equal(asked, "Europe/Paris");
    assert_string_equal(err, "'time_zone' must be an IANA zone name such as Asia/Shanghai");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_valid),
        cmocka_unit_test(test_policy_defaults),
        cmocka_unit_test(test_policy_invalid),
        cmocka_unit_test(test_policy_json_round_trip),
        cmocka_unit_test(test_weekly_valid),
        cmocka_unit_test(test_weekly_invalid),
        cmocka_unit_test(test_calendar_valid),
        cmocka_unit_test(test_calendar_invalid),
        cmocka_unit_test(test_calendar_resolver_context),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
