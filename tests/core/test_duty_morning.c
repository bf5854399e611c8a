/*
 * tests/core/test_duty_morning.c — which handover takes a night-desk request's hand-over
 * action (core_handover_takes_night_request, RULES §3.8.13): the morning one, planned at
 * most four hours before the request's 09:00 clock falls due or later, never one planned
 * before the request was received.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/duty.h"

#define HR 3600

static void test_morning_window(void **state)
{
    (void)state;
    /* A request received at 23:30, its clock due at 09:00 the next morning (due; the
     * cases' times are relative to it). */
    const int64_t due = 1795741200, received = due - (9 * HR + 30 * 60);
    static const struct {
        const char *name;
        int64_t planned;
        int takes;
    } cases[] = {
        {"evening handover before it was received", -(13 * HR), 0},
        {"at the moment it was received", -(9 * HR + 30 * 60), 0},
        {"02:00 night-to-night handover", -(7 * HR), 0},
        {"04:59:59, one second early", -(4 * HR) - 1, 0},
        {"05:00, the window opens", -(4 * HR), 1},
        {"08:00 morning handover", -HR, 1},
        {"09:00, as the clock falls due", 0, 1},
        {"09:30, late", HR / 2, 1},
        {"next evening, long overdue", 11 * HR, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = core_handover_takes_night_request(due + cases[i].planned, received, due);
        if (got != cases[i].takes)
            fail_msg("%s: got %d, want %d", cases[i].name, got, cases[i].takes);
    }
}

static void test_no_clock(void **state)
{
    (void)state;
    /* No hand-over clock under the project's policy: any handover after receipt. */
    assert_int_equal(core_handover_takes_night_request(100, 99, 0), 1);
    assert_int_equal(core_handover_takes_night_request(99, 99, 0), 0);
    assert_int_equal(core_handover_takes_night_request(50, 99, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_morning_window),
        cmocka_unit_test(test_no_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
