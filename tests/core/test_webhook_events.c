/*
 * tests/core/test_webhook_events.c — the event types of the resources besides requests
 * (0028): every family a subscription may name, and how patterns match them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/webhook.h"

static void test_new_types_valid(void **state)
{
    (void)state;
    static const char *const types[] = {"custody.item_registered",
                                        "custody.entry_appended",
                                        "key.loaned",
                                        "sealed_key.unsealed",
                                        "mail.received",
                                        "mail.reminder",
                                        "lost_property.unclaimed",
                                        "archive.overdue",
                                        "callback.task_opened",
                                        "callback.attempt_recorded",
                                        "callback.task_finished",
                                        "callback.overdue",
                                        "survey.campaign.state_changed",
                                        "survey.response.created",
                                        "survey.response.corrected",
                                        "visit.recorded",
                                        "capa.created",
                                        "capa.state_changed",
                                        "capa.overdue",
                                        "patrol.round_started",
                                        "patrol.round_finished",
                                        "patrol.finding_disposed",
                                        "patrol.missed",
                                        "handover.submitted",
                                        "handover.accepted",
                                        "handover.late",
                                        "duty_log.entry_created",
                                        "incident.submitted",
                                        "incident.acknowledged",
                                        "incident.overdue",
                                        "tenancy.registered",
                                        "tenancy.ended",
                                        "report.submitted",
                                        "report.overdue"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (!core_webhook_pattern_valid(types[i]))
            fail_msg("%s is not a valid event type", types[i]);
    }
    static const char *const families[] = {
        "custody.*", "key.*",    "mail.*",     "callback.*",     "survey.*",   "survey.response.*",
        "capa.*",    "patrol.*", "handover.*", "duty_log.*",     "incident.*", "tenancy.*",
        "report.*",  "visit.*",  "archive.*",  "lost_property.*"};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        assert_true(core_webhook_pattern_valid(families[i]));
    assert_false(core_webhook_pattern_valid("custody.nothing"));
    assert_false(core_webhook_pattern_valid("duty.*"));
}

static void test_matching(void **state)
{
    (void)state;
    const char *p1[] = {"survey.*"};
    assert_true(core_webhook_type_matches(p1, 1, "survey.campaign.state_changed"));
    assert_true(core_webhook_type_matches(p1, 1, "survey.response.corrected"));
    const char *p2[] = {"survey.response.*"};
    assert_true(core_webhook_type_matches(p2, 1, "survey.response.created"));
    assert_false(core_webhook_type_matches(p2, 1, "survey.campaign.state_changed"));
    const char *p3[] = {"callback.*"};
    assert_true(core_webhook_type_matches(p3, 1, "callback.due"));
    assert_true(core_webhook_type_matches(p3, 1, "callback.overdue"));
    const char *p4[] = {"custody.entry_appended", "key.loaned"};
    assert_true(core_webhook_type_matches(p4, 2, "key.loaned"));
    assert_false(core_webhook_type_matches(p4, 2, "key.returned"));
    assert_false(core_webhook_type_matches(p4, 2, "custody.item_registered"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_types_valid),
        cmocka_unit_test(test_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
