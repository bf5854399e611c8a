/*
 * tests/core/test_duty.c — the duty, handover and incident report rules (core/duty.c):
 * each handover refusal reason (table-driven), the unfinished-item check, lateness, the
 * duty-log entry check, an incident report's due instant and its submission check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/duty.h"

static const handover_section_t sec_ok[] = {{"radios", 1, 1}, {"documents", 0, 0}};
static const handover_section_t sec_bad[] = {{"radios", 1, 0}, {"show_flat_keys", 1, 0}};

static void test_handover_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        handover_state_t s;
        size_t n;
        int first; /* handover_reason_t of the first reason, -1 none */
    } cases[] = {
        {"clear", {0, 0, 0, 0, sec_ok, 2, 0, 0}, 0, -1},
        {"emergency", {1, 0, 0, 0, sec_ok, 2, 0, 0}, 1, HO_R_OPEN_EMERGENCY},
        {"major", {0, 2, 0, 0, sec_ok, 2, 0, 0}, 1, HO_R_OPEN_MAJOR},
        {"incident", {0, 0, 1, 0, sec_ok, 2, 0, 0}, 1, HO_R_OPEN_INCIDENT},
        {"equipment", {0, 0, 0, 1, sec_ok, 2, 0, 0}, 1, HO_R_EQUIPMENT},
        {"sections", {0, 0, 0, 0, sec_bad, 2, 0, 0}, 2, HO_R_SECTION_UNCONFIRMED},
        {"unfit", {0, 0, 0, 0, sec_ok, 2, 1, 0}, 1, HO_R_INCOMING_UNFIT},
        {"unfit, replacement accepts", {0, 0, 0, 0, sec_ok, 2, 1, 1}, 0, -1},
        {"everything", {1, 1, 1, 1, sec_bad, 2, 1, 0}, 7, HO_R_OPEN_EMERGENCY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        handover_reason_item_t out[HANDOVER_MAX_REASONS];
        size_t n = core_handover_check(&cases[i].s, out);
        if (n != cases[i].n)
            fail_msg("%s: %zu reasons, want %zu", cases[i].name, n, cases[i].n);
        if (cases[i].first >= 0) {
            assert_int_equal(out[0].reason, cases[i].first);
            assert_true(strlen(out[0].detail) > 0);
        }
    }
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(core_handover_reason_name(HO_R_OPEN_MAJOR), "open_major_complaint");
    assert_string_equal(core_handover_reason_name(HO_R_INCOMING_UNFIT), "incoming_unfit");
    assert_int_equal(core_duty_post_from_string("control_room"), DUTY_POST_CONTROL_ROOM);
    assert_int_equal(core_duty_post_from_string("lobby"), -1);
    assert_int_equal(core_incident_kind_from_string("lift_entrapment"), INC_LIFT_ENTRAPMENT);
    assert_int_equal(core_duty_log_kind_from_string("phone_record"), DLOG_PHONE_RECORD);
}

static void test_unfinished(void **state)
{
    (void)state;
    const char *open[] = {"r1", "w1"};
    handover_unfinished_t ok[] = {{"request", "r1", "owner away"}, {"work_order", "w1", "parts"}};
    assert_int_equal(core_handover_unfinished_check(ok, 2, open, 2).status, 0);
    handover_unfinished_t noreason[] = {{"request", "r1", "owner away"}, {"work_order", "w1", " "}};
    duty_verdict_t v = core_handover_unfinished_check(noreason, 2, open, 2);
    assert_int_equal(v.status, 422);
    assert_string_equal(v.pointer, "/unfinished/1/reason");
    handover_unfinished_t badtype[] = {{"parcel", "x", "r"}};
    v = core_handover_unfinished_check(badtype, 1, NULL, 0);
    assert_string_equal(v.pointer, "/unfinished/0/ref_type");
    handover_unfinished_t noid[] = {{"request", NULL, "r"}};
    v = core_handover_unfinished_check(noid, 1, NULL, 0);
    assert_string_equal(v.pointer, "/unfinished/0/ref_id");
    handover_unfinished_t other[] = {{"other", NULL, "radio 3 at repair shop"}};
    assert_int_equal(core_handover_unfinished_check(other, 1, NULL, 0).status, 0);
    v = core_handover_unfinished_check(ok, 1, open, 2); /* w1 not handed over */
    assert_int_equal(v.status, 422);
    assert_string_equal(v.code, "unfinished_not_handed_over");
    assert_string_equal(v.pointer, "/unfinished");
}

static void test_lateness(void **state)
{
    (void)state;
    const int64_t planned = 1000000;
    assert_int_equal(core_handover_late_minutes(planned, 0, planned + 10 * 60, 15), 0);
    assert_int_equal(core_handover_late_minutes(planned, 0, planned + 15 * 60, 15), 0);
    assert_int_equal(core_handover_late_minutes(planned, 0, planned + 16 * 60, 15), 16);
    assert_int_equal(core_handover_late_minutes(planned, planned + 40 * 60, planned + 99 * 60, 15),
                     40);
    assert_int_equal(core_handover_late_minutes(planned, planned - 60, planned + 99 * 60, 15), 0);
    assert_false(core_handover_overdue(planned, 0, planned + 14 * 60, 15));
    assert_true(core_handover_overdue(planned, 0, planned + 15 * 60, 15));
    assert_false(core_handover_overdue(planned, 1, planned + 99 * 60, 15));
}

static void test_log_check(void **state)
{
    (void)state;
    const int64_t now = 2000000000;
    static const struct {
        duty_log_entry_t e;
        int status;
        const char *pointer;
    } cases[] = {
        {{DLOG_NOTE, "lights on", NULL, NULL, NULL, 2000000000 - 60, 0, 0, NULL}, 0, ""},
        {{-1, "x", NULL, NULL, NULL, 2000000000, 0, 0, NULL}, 422, "/kind"},
        {{DLOG_NOTE, " ", NULL, NULL, NULL, 2000000000, 0, 0, NULL}, 422, "/summary"},
        {{DLOG_EVENT, "water", NULL, "h", "r", 2000000000, 0, 0, NULL}, 422, "/cause"},
        {{DLOG_INCIDENT, "fire", "c", NULL, "r", 2000000000, 0, 0, NULL}, 422, "/handling"},
        {{DLOG_EVENT, "water", "c", "h", "", 2000000000, 0, 0, NULL}, 422, "/result"},
        {{DLOG_EVENT, "water", "c", "h", "r", 2000000000, 0, 0, NULL}, 0, ""},
        {{DLOG_NOTE, "x", NULL, NULL, NULL, 2000000000 + 3600, 0, 0, NULL}, 422, "/at"},
        {{DLOG_NOTE, "x", NULL, NULL, NULL, 2000000000 - 3 * 86400, 2000000000 - 3600, 0, NULL},
         422,
         "/at"},
        {{DLOG_NOTE, "x", NULL, NULL, NULL, 2000000000, 0, 1, NULL}, 422, "/correction_reason"},
        {{DLOG_NOTE, "x", NULL, NULL, NULL, 2000000000, 0, 1, "typo"}, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        duty_verdict_t v = core_duty_log_check(&cases[i].e, now);
        if (v.status != cases[i].status || strcmp(v.pointer, cases[i].pointer))
            fail_msg("case %zu: %d %s, want %d %s", i, v.status, v.pointer, cases[i].status,
                     cases[i].pointer);
    }
}

static void test_incident_due(void **state)
{
    (void)state;
    tz_rules_t *tz = NULL;
    assert_int_equal(core_tz_parse_posix("CST-8", &tz), 0);
    /* 2026-11-23T20:30:00+08:00 (12:30Z) → due 2026-11-25T00:00:00+08:00. */
    const int64_t ev = 1795437000;
    assert_int_equal(core_incident_due_at(tz, ev), 1795536000);
    /* Just after local midnight: 2026-11-24T00:10+08:00 → due 2026-11-26T00:00+08:00. */
    assert_int_equal(core_incident_due_at(tz, 1795449600 + 600), 1795622400);
    /* Just before: 23:59 local on the 23rd → still due at the end of the 24th. */
    assert_int_equal(core_incident_due_at(tz, 1795449600 - 60), 1795536000);
    core_tz_free(tz);
    /* Across a DST change: 2026-03-07 12:00 EST (17:00Z); the next day (the 8th) is 23 hours
     * long, so the due instant is 2026-03-09 00:00 EDT = 04:00Z, not 48 hours later. */
    assert_int_equal(core_tz_parse_posix("EST5EDT,M3.2.0,M11.1.0", &tz), 0);
    assert_int_equal(core_incident_due_at(tz, 1772902800), 1773028800);
    core_tz_free(tz);
    assert_true(core_incident_to_gm(INC_FIRE));
    assert_true(core_incident_to_gm(INC_THEFT_ROBBERY));
    assert_false(core_incident_to_gm(INC_FLOOD));
}

static void test_incident_submit(void **state)
{
    (void)state;
    incident_facts_t base;
    memset(&base, 0, sizeof base);
    base.kind = INC_FLOOD;
    base.place = "B1 basement";
    base.actions = "valve closed";
    assert_int_equal(core_incident_submit_check(&base).status, 0);
    static const struct {
        const char *field;
        const char *pointer;
    } cases[] = {
        {"place", "/place"},
        {"actions", "/actions"},
        {"police", "/police/officer_number"},
        {"police_case", "/police/case_number"},
        {"lift", "/lift_company/contact"},
        {"lift_arrival", "/lift_company/arrived_at"},
        {"forced", "/forced_entry/decided_by"},
        {"forced_expl", "/forced_entry/explanation"},
        {"owners", "/owners_notified"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        incident_facts_t f = base;
        const char *w = cases[i].field;
        if (!strcmp(w, "place"))
            f.place = "";
        else if (!strcmp(w, "actions"))
            f.actions = NULL;
        else if (!strcmp(w, "police"))
            f.police_called = 1;
        else if (!strcmp(w, "police_case")) {
            f.police_called = 1;
            f.police_officer_number = "012345";
        } else if (!strcmp(w, "lift"))
            f.kind = INC_LIFT_ENTRAPMENT;
        else if (!strcmp(w, "lift_arrival")) {
            f.kind = INC_LIFT_ENTRAPMENT;
            f.lift_company_called = 1;
            f.lift_company_contact = "王师傅";
        } else if (!strcmp(w, "forced"))
            f.kind = INC_FORCED_ENTRY;
        else if (!strcmp(w, "forced_expl")) {
            f.forced_entry = 1;
            f.forced_entry_decided_by = "director";
        } else if (!strcmp(w, "owners"))
            f.affected_units = 2;
        duty_verdict_t v = core_incident_submit_check(&f);
        assert_int_equal(v.status, 422);
        assert_string_equal(v.pointer, cases[i].pointer);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handover_reasons), cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_unfinished),       cmocka_unit_test(test_lateness),
        cmocka_unit_test(test_log_check),        cmocka_unit_test(test_incident_due),
        cmocka_unit_test(test_incident_submit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
