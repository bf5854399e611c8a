/*
 * tests/core/test_patrol.c — patrol rules (RULES §3.10, 004 一.3): finishing a round (every
 * finding disposed, checklist complete, an hour or a reason), the checklist by kind, and a
 * planned slot's status around its grace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/patrol.h"

static void test_finish(void **state)
{
    (void)state;
    static const struct {
        int line;
        int64_t started, now;
        int reason, undisposed, unanswered;
        int status;
        const char *code;
    } rows[] = {
        {__LINE__, 0, 3600, 0, 0, 0, 0, NULL},
        {__LINE__, 0, 7200, 0, 0, 0, 0, NULL},
        {__LINE__, 0, 3599, 0, 0, 0, 422, "round_too_short"},
        {__LINE__, 0, 600, 1, 0, 0, 0, NULL},
        {__LINE__, 0, 7200, 0, 1, 0, 409, "findings_not_disposed"},
        {__LINE__, 0, 600, 1, 2, 3, 409, "findings_not_disposed"},
        {__LINE__, 0, 7200, 0, 0, 1, 409, "checklist_incomplete"},
        {__LINE__, 0, 600, 0, 0, 1, 409, "checklist_incomplete"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        patrol_finish_t f = {rows[i].started, rows[i].now, rows[i].reason, rows[i].undisposed,
                             rows[i].unanswered};
        patrol_verdict_t v = core_patrol_finish_check(&f);
        if (v.status != rows[i].status ||
            (rows[i].code ? !v.code || strcmp(v.code, rows[i].code) : v.code != NULL))
            fail_msg("line %d: got %d %s", rows[i].line, v.status, v.code ? v.code : "-");
    }
}

static void test_checklist(void **state)
{
    (void)state;
    int n = 0, q = 0, b = 0, v = 0, night = 0;
    for (; core_patrol_points[n]; n++) {
        q += core_patrol_point_applies(PATROL_QUALITY, core_patrol_points[n]);
        b += core_patrol_point_applies(PATROL_BUILDING, core_patrol_points[n]);
        v += core_patrol_point_applies(PATROL_VACANT_UNITS, core_patrol_points[n]);
        night += core_patrol_point_applies(PATROL_NIGHT, core_patrol_points[n]);
    }
    assert_int_equal(n, 18);
    assert_int_equal(q, 18);    /* a–e */
    assert_int_equal(b, 13);    /* a–c */
    assert_int_equal(v, 2);     /* d */
    assert_int_equal(night, 7); /* b–c */
    assert_true(core_patrol_point_applies(PATROL_VACANT_UNITS, "vacant_units.safety"));
    assert_false(core_patrol_point_applies(PATROL_NIGHT, "cleaning.roads"));
    assert_false(core_patrol_point_known("cleaning"));
    assert_false(core_patrol_point_known("cleaning.roadsx"));
    assert_false(core_patrol_point_applies(PATROL_QUALITY, NULL));
}

static void test_slots(void **state)
{
    (void)state;
    const int64_t t = 1000000;
    assert_int_equal(core_patrol_slot_status(t, 30, 0, 0, t - 1), SLOT_UPCOMING);
    assert_int_equal(core_patrol_slot_status(t, 30, 0, 0, t), SLOT_DUE);
    assert_int_equal(core_patrol_slot_status(t, 30, 0, 0, t + 1800), SLOT_DUE);
    assert_int_equal(core_patrol_slot_status(t, 30, 0, 0, t + 1801), SLOT_MISSED);
    assert_int_equal(core_patrol_slot_status(t, 30, t + 1800, 0, t + 4000), SLOT_IN_PROGRESS);
    assert_int_equal(core_patrol_slot_status(t, 30, t - 600, t + 3600, t + 4000), SLOT_DONE);
    assert_int_equal(core_patrol_slot_status(t, 30, t + 1801, 0, t + 4000), SLOT_MISSED);
    assert_int_equal(core_patrol_slot_status(t, 0, 0, 0, t + 1), SLOT_MISSED);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(core_patrol_hhmm("09:00"), 540);
    assert_int_equal(core_patrol_hhmm("23:59"), 1439);
    assert_int_equal(core_patrol_hhmm("24:00"), -1);
    assert_int_equal(core_patrol_hhmm("9:00"), -1);
    assert_int_equal(core_patrol_hhmm("09:60"), -1);
    assert_int_equal(core_patrol_hhmm(NULL), -1);
    assert_int_equal(core_patrol_kind_from_string("vacant_units"), PATROL_VACANT_UNITS);
    assert_int_equal(core_patrol_disposition_from_string("request"), PATROL_REQUEST);
    assert_string_equal(core_patrol_slot_name(SLOT_MISSED), "missed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_checklist),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
