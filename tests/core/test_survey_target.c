/*
 * tests/core/test_survey_target.c — a department below the project's satisfaction target
 * (RULES §3.2.9, core_survey_below_target): exact integer comparison num × 100 < target ×
 * den, the boundary not below, no answers never below, a target out of range never missed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/survey.h"

static void test_below_target_table(void **state)
{
    (void)state;
    static const struct {
        long num, den;
        int target, want;
    } cases[] = {
        {2, 4, 50, 0},  /* exactly at target */
        {2, 4, 51, 1},  /* 50 % < 51 % */
        {2, 4, 90, 1},  /* the default target */
        {9, 10, 90, 0}, /* 90 % = 90 % */
        {8, 9, 89, 1},  /* 88.89 %: 800 < 801 */
        {8, 9, 88, 0},  /* 800 >= 792 */
        {899, 1000, 90, 1},
        {8999, 10000, 90, 1}, /* 89.99 % */
        {5, 5, 100, 0},
        {4, 5, 100, 1},
        {0, 3, 1, 1},
        {0, 0, 90, 0}, /* no answers: no figure */
        {1, 2, 0, 0},  /* a target outside 1..100 is never missed */
        {1, 2, 101, 0},
        {10000000, 10000000, 100, 0},
        {9999999, 10000000, 100, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        survey_ratio_t q = core_survey_ratio(cases[i].num, cases[i].den);
        assert_int_equal(core_survey_below_target(&q, cases[i].target), cases[i].want);
    }
    assert_int_equal(core_survey_below_target(NULL, 90), 0);
    assert_int_equal(SURVEY_DEFAULT_TARGET_PERCENT, 90);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_below_target_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
