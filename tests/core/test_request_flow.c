/*
 * tests/core/test_request_flow.c — the desk's workflow rules from seed 001 (RULES §2):
 * work-order refusal (decline: reason, note, who, from which states, what it stores),
 * telling the customer (set_appointment / set_deadline and the future-time check),
 * first-contact responsibility (hand_on: owner or supervisor, a target), repeat repairs
 * (the 30-day window) and the rework rate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/request.h"
#include "core/request_effect.h"

#define T0   1700000000
#define DAY  86400
#define WO   "11111111-1111-1111-1111-111111111111"
#define TECH "33333333-3333-3333-3333-333333333333"
#define PEER "66666666-6666-6666-6666-666666666666"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A repair in a unit whose work order sits in wo_state (-1 none), acted on by `role`
 * of the work order's department and its assignee. */
static request_facts_t facts(request_state_t state, int wo_state, role_t role)
{
    request_facts_t f;
    memset(&f, 0, sizeof f);
    f.state = state;
    f.type = REQ_TYPE_REPAIR;
    f.channel = REQ_CHANNEL_PHONE;
    f.state_before_pending = REQ_STATE_DISPATCHED;
    f.has_active_work_order = wo_state >= 0;
    f.work_order_state = wo_state >= 0 ? (work_order_state_t)wo_state : WO_STATE_DISPATCHED;
    f.work_order_has_assignee = 1;
    f.location_kind = REQ_LOCATION_UNIT;
    f.is_valid_complaint = REQ_VALIDITY_UNKNOWN;
    f.actor_role = role;
    f.actor_dept_kind = DEPT_ENGINEERING;
    f.actor_in_responsible_dept = 1;
    f.actor_is_assignee = 1;
    f.pending_reason = -1;
    f.decline_reason = -1;
    return f;
}

static void test_decline_states(void **state)
{
    (void)state;
    static const struct {
        request_state_t st;
        int wo;
        const char *code;
    } rows[] = {
        {REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED, REQ_CODE_OK},
        {REQ_STATE_ACCEPTED, WO_STATE_ACCEPTED, REQ_CODE_OK},
        {REQ_STATE_ON_SITE, WO_STATE_ON_SITE, REQ_CODE_OK},
        /* a reported result is signed off or re-dispatched, not declined */
        {REQ_STATE_ON_SITE, WO_STATE_DONE_UNSIGNED, REQ_CODE_INVALID_TRANSITION},
        {REQ_STATE_RECEIVED, -1, REQ_CODE_INVALID_TRANSITION},
        {REQ_STATE_RECEIVED, WO_STATE_DECLINED, REQ_CODE_INVALID_TRANSITION},
        {REQ_STATE_PENDING, WO_STATE_DISPATCHED, REQ_CODE_INVALID_TRANSITION},
        {REQ_STATE_RESOLVED, WO_STATE_SIGNED_OFF, REQ_CODE_INVALID_TRANSITION},
        {REQ_STATE_CLOSED, WO_STATE_SIGNED_OFF, REQ_CODE_INVALID_TRANSITION},
    };
    for (size_t i = 0; i < N(rows); i++) {
        request_facts_t f = facts(rows[i].st, rows[i].wo, ROLE_TECHNICIAN);
        f.decline_reason = DECLINE_NOT_OURS;
        transition_t t = core_request_transition(&f, REQ_ACTION_DECLINE);
        if (strcmp(t.code, rows[i].code) != 0)
            fail_msg("row %zu: want %s got %s", i, rows[i].code, t.code);
        if (t.ok) {
            assert_int_equal(t.new_state, REQ_STATE_RECEIVED);
            assert_int_equal(t.new_work_order_state, WO_STATE_DECLINED);
        }
    }
}

static void test_decline_reason_and_actor(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED, ROLE_TECHNICIAN);
    transition_t t = core_request_transition(&f, REQ_ACTION_DECLINE);
    assert_string_equal(t.code, REQ_CODE_DECLINE_REASON_REQ);
    assert_int_equal(core_request_code_http_status(t.code), 422);
    f.decline_reason = DECLINE__COUNT;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_DECLINE).code,
                        REQ_CODE_DECLINE_REASON_REQ);
    /* "other" needs the note that says what it is */
    f.decline_reason = DECLINE_OTHER;
    f.decline_note = "  ";
    t = core_request_transition(&f, REQ_ACTION_DECLINE);
    assert_string_equal(t.code, REQ_CODE_DECLINE_NOTE_REQ);
    assert_int_equal(core_request_code_http_status(t.code), 422);
    f.decline_note = "the owner wants their own contractor";
    assert_true(core_request_transition(&f, REQ_ACTION_DECLINE).ok);
    /* a technician of another department, or not the named assignee */
    f.actor_in_responsible_dept = 0;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_DECLINE).code,
                        REQ_CODE_NOT_RESPONSIBLE_DEPT);
    f.actor_in_responsible_dept = 1;
    f.actor_is_assignee = 0;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_DECLINE).code,
                        REQ_CODE_NOT_ASSIGNEE);
    /* an unassigned order: any technician of the department */
    f.work_order_has_assignee = 0;
    assert_true(core_request_transition(&f, REQ_ACTION_DECLINE).ok);
    /* desk staff record a refusal from paper; security, residents, clerks may not */
    static const role_t forbidden[] = {ROLE_RESIDENT,    ROLE_SECURITY, ROLE_CLERK,
                                       ROLE_INTEGRATION, ROLE_AUDITOR,  ROLE_ADMIN};
    for (size_t i = 0; i < N(forbidden); i++) {
        f.actor_role = forbidden[i];
        t = core_request_transition(&f, REQ_ACTION_DECLINE);
        assert_string_equal(t.code, REQ_CODE_FORBIDDEN_ROLE);
        assert_int_equal(core_request_code_http_status(t.code), 403);
    }
    f.actor_role = ROLE_SUPERVISOR;
    f.actor_in_responsible_dept = 0;
    assert_true(core_request_transition(&f, REQ_ACTION_DECLINE).ok);
}

/* After a decline the request can be dispatched again: a declined order is not open. */
static void test_redispatch_after_decline(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_RECEIVED, WO_STATE_DECLINED, ROLE_AGENT);
    transition_t t = core_request_transition(&f, REQ_ACTION_DISPATCH);
    assert_true(t.ok);
    assert_int_equal(t.new_state, REQ_STATE_DISPATCHED);
    /* ... and it is not something to re-dispatch or sign off any more */
    f.state = REQ_STATE_DISPATCHED;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_REDISPATCH).code,
                        REQ_CODE_INVALID_TRANSITION);
}

static void test_decline_effect(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_ACCEPTED, WO_STATE_ACCEPTED, ROLE_TECHNICIAN);
    f.decline_reason = DECLINE_NO_ACCESS;
    f.decline_note = "nobody home twice";
    request_args_t x = {.actor_user_id = TECH, .work_order_id = WO, .result = "ignored"};
    request_effect_t e;
    assert_int_equal(core_request_effect(&f, REQ_ACTION_DECLINE, &x, T0, T0, &e), 0);
    assert_int_equal(e.wo_op, REQ_WO_DECLINE);
    assert_int_equal(e.wo_state, WO_STATE_DECLINED);
    assert_string_equal(e.wo_decline_reason, "no_access");
    assert_string_equal(e.wo_decline_note, "nobody home twice");
    assert_string_equal(e.wo_declined_by, TECH);
    assert_null(e.wo_result);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "received");
    assert_int_equal(e.field[REQ_FIELD_DEPARTMENT_ID].op, REQ_FIELD_SET_NULL);
    assert_int_equal(e.field[REQ_FIELD_ASSIGNEE_ID].op, REQ_FIELD_SET_NULL);
    assert_string_equal(e.event_work_order_state, "declined");
    assert_int_equal(e.notify_level, 0);
    assert_int_equal(e.reopen_inc, 0);

    /* refused: nothing to store */
    f.decline_reason = -1;
    assert_int_equal(core_request_effect(&f, REQ_ACTION_DECLINE, &x, T0, T0, &e), -1);
    assert_int_equal(e.wo_op, REQ_WO_NONE);
}

static void test_promise_check(void **state)
{
    (void)state;
    const char *code, *why;
    assert_int_equal(core_request_check_promise_at(T0 + 3600, T0, &code, &why), 0);
    assert_string_equal(code, REQ_CODE_OK);
    assert_int_equal(core_request_check_promise_at(T0, T0, &code, &why), -1);
    assert_string_equal(code, REQ_CODE_PROMISE_IN_PAST);
    assert_int_equal(core_request_check_promise_at(T0 - 1, T0, &code, NULL), -1);
    assert_string_equal(code, REQ_CODE_PROMISE_IN_PAST);
    assert_int_equal(core_request_check_promise_at(0, T0, NULL, &why), -1);
    assert_non_null(why);
    assert_int_equal(core_request_check_promise_at(-5, T0, &code, NULL), -1);
    assert_string_equal(code, REQ_CODE_PROMISE_REQUIRED);
    assert_int_equal(core_request_code_http_status(REQ_CODE_PROMISE_IN_PAST), 422);
    assert_int_equal(core_request_code_http_status(REQ_CODE_PROMISE_REQUIRED), 422);
}

static void test_appointment_and_deadline(void **state)
{
    (void)state;
    static const struct {
        request_state_t st;
        int ok;
    } rows[] = {
        {REQ_STATE_RECEIVED, 1}, {REQ_STATE_DISPATCHED, 1}, {REQ_STATE_ACCEPTED, 1},
        {REQ_STATE_ON_SITE, 1},  {REQ_STATE_PENDING, 1},    {REQ_STATE_RESOLVED, 0},
        {REQ_STATE_CALLBACK, 0}, {REQ_STATE_CLOSED, 0},     {REQ_STATE_REJECTED, 0},
    };
    const request_action_t acts[] = {REQ_ACTION_SET_APPOINTMENT, REQ_ACTION_SET_DEADLINE};
    const request_field_t cols[] = {REQ_FIELD_APPOINTMENT_AT, REQ_FIELD_PROMISED_BY};
    for (size_t a = 0; a < N(acts); a++) {
        for (size_t i = 0; i < N(rows); i++) {
            request_facts_t f = facts(rows[i].st, WO_STATE_DISPATCHED, ROLE_AGENT);
            f.promised_at = T0 + DAY;
            request_effect_t e;
            int rc = core_request_effect(&f, acts[a], NULL, T0, T0, &e);
            assert_int_equal(rc == 0, rows[i].ok);
            if (!rows[i].ok) {
                assert_string_equal(e.verdict.code, REQ_CODE_INVALID_TRANSITION);
                continue;
            }
            assert_int_equal(e.verdict.new_state, rows[i].st); /* no state change */
            assert_int_equal(e.wo_op, REQ_WO_NONE);
            assert_int_equal(e.field[cols[a]].op, REQ_FIELD_SET_TIME);
            assert_int_equal(e.field[cols[a]].time, T0 + DAY);
            assert_int_equal(e.field[cols[1 - a]].op, REQ_FIELD_KEEP);
        }
        request_facts_t f = facts(REQ_STATE_RECEIVED, -1, ROLE_AGENT);
        assert_string_equal(core_request_transition(&f, acts[a]).code, REQ_CODE_PROMISE_REQUIRED);
        f.promised_at = T0 + DAY;
        f.actor_role = ROLE_TECHNICIAN;
        assert_string_equal(core_request_transition(&f, acts[a]).code, REQ_CODE_FORBIDDEN_ROLE);
        f.actor_role = ROLE_SECURITY;
        assert_string_equal(core_request_transition(&f, acts[a]).code, REQ_CODE_FORBIDDEN_ROLE);
    }
    assert_string_equal(core_request_field_name(REQ_FIELD_APPOINTMENT_AT), "appointment_at");
    assert_string_equal(core_request_field_name(REQ_FIELD_PROMISED_BY), "promised_by");
    assert_string_equal(core_request_field_name(REQ_FIELD_OWNER_ID), "owner_id");
}

static void test_hand_on(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_RECEIVED, -1, ROLE_AGENT);
    f.has_hand_on_target = 1;
    /* an agent who does not own the matter */
    transition_t t = core_request_transition(&f, REQ_ACTION_HAND_ON);
    assert_string_equal(t.code, REQ_CODE_NOT_OWNER);
    assert_int_equal(core_request_code_http_status(t.code), 403);
    /* the owner */
    f.actor_is_owner = 1;
    request_args_t x = {.hand_on_to = PEER};
    request_effect_t e;
    assert_int_equal(core_request_effect(&f, REQ_ACTION_HAND_ON, &x, T0, T0, &e), 0);
    assert_int_equal(e.verdict.new_state, REQ_STATE_RECEIVED);
    assert_int_equal(e.field[REQ_FIELD_OWNER_ID].op, REQ_FIELD_SET_TEXT);
    assert_string_equal(e.field[REQ_FIELD_OWNER_ID].text, PEER);
    /* a supervisor or above over someone else's matter */
    f.actor_is_owner = 0;
    const role_t over[] = {ROLE_SUPERVISOR, ROLE_MANAGER, ROLE_DIRECTOR, ROLE_GM};
    for (size_t i = 0; i < N(over); i++) {
        f.actor_role = over[i];
        assert_true(core_request_transition(&f, REQ_ACTION_HAND_ON).ok);
    }
    /* nobody to hand it to */
    f.has_hand_on_target = 0;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_HAND_ON).code,
                        REQ_CODE_HAND_ON_TARGET_REQ);
    /* not once it is answered, nor by roles outside the desk */
    f.has_hand_on_target = 1;
    f.state = REQ_STATE_CLOSED;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_HAND_ON).code,
                        REQ_CODE_INVALID_TRANSITION);
    f.state = REQ_STATE_RECEIVED;
    f.actor_role = ROLE_TECHNICIAN;
    f.actor_is_owner = 1;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_HAND_ON).code,
                        REQ_CODE_FORBIDDEN_ROLE);
}

static void test_repeat_window(void **state)
{
    (void)state;
    static const struct {
        request_type_t type;
        location_kind_t loc;
        int64_t closed, received;
        int want;
    } rows[] = {
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, T0, T0 + DAY, 1},
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, T0, T0, 1},
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, T0, T0 + 30 * DAY, 1}, /* the 30th day */
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, T0, T0 + 30 * DAY + 1, 0},
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, T0 + 1, T0, 0}, /* closed after this one came */
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, 0, T0, 0},      /* never closed */
        {REQ_TYPE_REPAIR, REQ_LOCATION_COMMON_AREA, T0, T0 + DAY, 0},
        {REQ_TYPE_COMPLAINT, REQ_LOCATION_UNIT, T0, T0 + DAY, 0},
        {REQ_TYPE_EMERGENCY, REQ_LOCATION_UNIT, T0, T0 + DAY, 0},
    };
    for (size_t i = 0; i < N(rows); i++)
        if (core_request_is_repeat(rows[i].type, rows[i].loc, rows[i].closed, rows[i].received) !=
            rows[i].want)
            fail_msg("repeat row %zu: want %d", i, rows[i].want);
    assert_int_equal(CORE_REQUEST_REPEAT_WINDOW_S, 30 * DAY);
}

static void test_rework_rate(void **state)
{
    (void)state;
    assert_int_equal(core_request_rework_permille(0, 0), 0);
    assert_int_equal(core_request_rework_permille(10, 0), 0);
    assert_int_equal(core_request_rework_permille(4, 1), 250);
    assert_int_equal(core_request_rework_permille(3, 1), 333);
    assert_int_equal(core_request_rework_permille(3, 2), 667);  /* 666.67 rounds up */
    assert_int_equal(core_request_rework_permille(2000, 1), 1); /* 0.5 rounds up */
    assert_int_equal(core_request_rework_permille(5, 5), 1000);
    assert_int_equal(core_request_rework_permille(5, 9), 1000); /* never above all */
    assert_int_equal(core_request_rework_permille(-1, 1), 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(core_request_action_name(REQ_ACTION_DECLINE), "decline");
    assert_int_equal(core_request_action_from_string("hand_on"), REQ_ACTION_HAND_ON);
    assert_string_equal(core_request_work_order_state_name(WO_STATE_DECLINED), "declined");
    assert_int_equal(core_request_decline_reason_from_string("no_access"), DECLINE_NO_ACCESS);
    assert_int_equal(core_request_decline_reason_from_string("busy"), -1);
    assert_null(core_request_decline_reason_name(DECLINE__COUNT));
}

/* 001: at night the control room (security) dispatches itself; by day the desk does. */
static void test_security_dispatch_out_of_hours(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_RECEIVED, -1, ROLE_SECURITY);
    transition_t t = core_request_transition(&f, REQ_ACTION_DISPATCH);
    assert_string_equal(t.code, REQ_CODE_DESK_HOURS);
    assert_int_equal(core_request_code_http_status(t.code), 403);
    f.out_of_hours = 1;
    t = core_request_transition(&f, REQ_ACTION_DISPATCH);
    assert_true(t.ok);
    assert_int_equal(t.new_state, REQ_STATE_DISPATCHED);
    /* the state rules still hold at night */
    f.state = REQ_STATE_DISPATCHED;
    f.has_active_work_order = 1;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_DISPATCH).code,
                        REQ_CODE_INVALID_TRANSITION);
    /* ... and security still may not re-dispatch or decline */
    assert_string_equal(core_request_transition(&f, REQ_ACTION_REDISPATCH).code,
                        REQ_CODE_FORBIDDEN_ROLE);
    /* the desk dispatches whatever the hour */
    f = facts(REQ_STATE_RECEIVED, -1, ROLE_AGENT);
    assert_true(core_request_transition(&f, REQ_ACTION_DISPATCH).ok);
}

static void test_record_notification(void **state)
{
    (void)state;
    const role_t may[] = {ROLE_AGENT, ROLE_TECHNICIAN, ROLE_SECURITY, ROLE_SUPERVISOR, ROLE_GM};
    for (size_t i = 0; i < N(may); i++) {
        request_facts_t f = facts(REQ_STATE_RECEIVED, -1, may[i]);
        f.type = REQ_TYPE_EMERGENCY;
        assert_string_equal(core_request_transition(&f, REQ_ACTION_RECORD_NOTIFICATION).code,
                            REQ_CODE_NOTICE_TARGET_REQ);
        f.has_notice_target = 1;
        request_effect_t e;
        assert_int_equal(
            core_request_effect(&f, REQ_ACTION_RECORD_NOTIFICATION, NULL, T0 - 600, T0, &e), 0);
        assert_int_equal(e.verdict.new_state, REQ_STATE_RECEIVED);
        assert_int_equal(e.wo_op, REQ_WO_NONE);
        assert_true(e.event_paper_record); /* entered from paper afterwards */
        assert_int_equal(e.field[REQ_FIELD_LAST_EVENT_AT].op, REQ_FIELD_SET_TIME);
    }
    const role_t may_not[] = {ROLE_RESIDENT, ROLE_CLERK, ROLE_INTEGRATION, ROLE_AUDITOR};
    for (size_t i = 0; i < N(may_not); i++) {
        request_facts_t f = facts(REQ_STATE_RECEIVED, -1, may_not[i]);
        f.has_notice_target = 1;
        assert_string_equal(core_request_transition(&f, REQ_ACTION_RECORD_NOTIFICATION).code,
                            REQ_CODE_FORBIDDEN_ROLE);
    }
    request_facts_t f = facts(REQ_STATE_REJECTED, -1, ROLE_AGENT);
    f.has_notice_target = 1;
    assert_string_equal(core_request_transition(&f, REQ_ACTION_RECORD_NOTIFICATION).code,
                        REQ_CODE_INVALID_TRANSITION);
    f.state = REQ_STATE_CLOSED;
    assert_true(core_request_transition(&f, REQ_ACTION_RECORD_NOTIFICATION).ok);
}

static void test_severity_routing(void **state)
{
    (void)state;
    assert_int_equal(core_request_severity_ladder_level(REQ_SEVERITY_IMPORTANT),
                     core_role_ladder_level(ROLE_DIRECTOR));
    assert_int_equal(
        core_role_at_ladder_level(core_request_severity_ladder_level(REQ_SEVERITY_IMPORTANT)),
        ROLE_DIRECTOR);
    assert_int_equal(core_request_severity_ladder_level(REQ_SEVERITY_MAJOR), ROLE_LADDER_TOP);
    assert_int_equal(
        core_role_at_ladder_level(core_request_severity_ladder_level(REQ_SEVERITY_MAJOR)), ROLE_GM);
    assert_int_equal(core_request_severity_ladder_level(REQ_SEVERITY_GENERAL), -1);
    assert_int_equal(core_request_severity_ladder_level(-1), -1);
    assert_int_equal(core_request_severity_ladder_level(REQ_SEVERITY__COUNT), -1);
}

static void test_dispatch_route(void **state)
{
    (void)state;
    static const struct {
        request_type_t type;
        location_kind_t loc;
        int given, zone, duty;
        request_route_t want;
    } rows[] = {
        {REQ_TYPE_REPAIR, REQ_LOCATION_COMMON_AREA, 1, 1, 1, REQ_ROUTE_GIVEN},
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, 1, 0, 0, REQ_ROUTE_GIVEN},
        {REQ_TYPE_INQUIRY, REQ_LOCATION_UNIT, 1, 0, 0, REQ_ROUTE_GIVEN},
        {REQ_TYPE_REPAIR, REQ_LOCATION_COMMON_AREA, 0, 1, 1, REQ_ROUTE_ZONE},
        {REQ_TYPE_EMERGENCY, REQ_LOCATION_COMMON_AREA, 0, 1, 0, REQ_ROUTE_ZONE},
        {REQ_TYPE_REPAIR, REQ_LOCATION_COMMON_AREA, 0, 0, 1, REQ_ROUTE_DUTY},
        {REQ_TYPE_REPAIR, REQ_LOCATION_COMMON_AREA, 0, 0, 0, REQ_ROUTE_NONE},
        {REQ_TYPE_REPAIR, REQ_LOCATION_UNIT, 0, 1, 1, REQ_ROUTE_NONE},
        {REQ_TYPE_COMPLAINT, REQ_LOCATION_COMMON_AREA, 0, 1, 1, REQ_ROUTE_NONE},
        {REQ_TYPE_INQUIRY, REQ_LOCATION_COMMON_AREA, 0, 1, 1, REQ_ROUTE_NONE},
    };
    for (size_t i = 0; i < N(rows); i++)
        if (core_request_dispatch_route(rows[i].type, rows[i].loc, rows[i].given, rows[i].zone,
                                        rows[i].duty) != rows[i].want)
            fail_msg("route row %zu", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decline_states),
        cmocka_unit_test(test_decline_reason_and_actor),
        cmocka_unit_test(test_redispatch_after_decline),
        cmocka_unit_test(test_decline_effect),
        cmocka_unit_test(test_promise_check),
        cmocka_unit_test(test_appointment_and_deadline),
        cmocka_unit_test(test_hand_on),
        cmocka_unit_test(test_repeat_window),
        cmocka_unit_test(test_rework_rate),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_security_dispatch_out_of_hours),
        cmocka_unit_test(test_record_notification),
        cmocka_unit_test(test_severity_routing),
        cmocka_unit_test(test_dispatch_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
