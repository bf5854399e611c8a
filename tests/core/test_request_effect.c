/*
 * tests/core/test_request_effect.c — the effect of every request action
 * (core/request_effect.c): which columns are set or cleared, the work-order operation,
 * the escalation raised by a dissatisfied callback (below and at the top of the ladder),
 * and the extras of the timeline event.  A sweep over states × actions × roles proves that
 * the effect's verdict is always core_request_transition()'s and that a refusal carries
 * no effect.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/request.h"
#include "core/request_effect.h"
#include "core/sla_request.h"

#define T0   1700000000 /* recorded at */
#define PAST (T0 - 3600)
#define WO   "11111111-1111-1111-1111-111111111111"
#define DEPT "22222222-2222-2222-2222-222222222222"
#define TECH "33333333-3333-3333-3333-333333333333"
#define ME   "44444444-4444-4444-4444-444444444444"
#define RES  "55555555-5555-5555-5555-555555555555"

/* An agent acting on a repair in a unit, signed by an adult of the household. */
static request_facts_t facts(request_state_t state, int wo_state)
{
    request_facts_t f;
    memset(&f, 0, sizeof f);
    f.state = state;
    f.type = REQ_TYPE_REPAIR;
    f.channel = REQ_CHANNEL_PHONE;
    f.state_before_pending = REQ_STATE_RECEIVED;
    f.has_active_work_order = wo_state >= 0;
    f.work_order_state = wo_state >= 0 ? (work_order_state_t)wo_state : WO_STATE_DISPATCHED;
    f.work_order_has_assignee = 1;
    f.location_kind = REQ_LOCATION_UNIT;
    f.is_valid_complaint = REQ_VALIDITY_UNKNOWN;
    f.actor_role = ROLE_AGENT;
    f.actor_dept_kind = DEPT_CUSTOMER_SERVICE;
    f.signer_kind = SIGNER_RESIDENT;
    f.signer_is_adult_household_member = 1;
    f.pending_reason = -1;
    return f;
}

static request_args_t args(void)
{
    request_args_t a;
    memset(&a, 0, sizeof a);
    a.actor_user_id = ME;
    a.work_order_id = WO;
    return a;
}

static request_effect_t allowed(const request_facts_t *f, request_action_t act,
                                const request_args_t *a, int64_t occurred)
{
    request_effect_t e;
    int rc = core_request_effect(f, act, a, occurred, T0, &e);
    if (rc != 0)
        fail_msg("%s refused: %s (%s)", core_request_action_name(act), e.verdict.code,
                 e.verdict.reason);
    assert_int_equal(e.field[REQ_FIELD_STATE].op, REQ_FIELD_SET_TEXT);
    assert_string_equal(e.field[REQ_FIELD_STATE].text,
                        core_request_state_name((request_state_t)e.verdict.new_state));
    assert_int_equal(e.field[REQ_FIELD_LAST_EVENT_AT].op, REQ_FIELD_SET_TIME);
    assert_int_equal(e.field[REQ_FIELD_LAST_EVENT_AT].time, occurred);
    assert_int_equal(e.event_paper_record, occurred != T0);
    return e;
}

/* Every column other than state and last_event_at, and the ones named, is kept. */
static void only_fields(const request_effect_t *e, unsigned touched)
{
    touched |= 1u << REQ_FIELD_STATE | 1u << REQ_FIELD_LAST_EVENT_AT;
    for (int i = 0; i < REQ_FIELD__COUNT; i++)
        if (!(touched & (1u << i)) && e->field[i].op != REQ_FIELD_KEEP)
            fail_msg("field %s changed", core_request_field_name((request_field_t)i));
}

#define F(x) (1u << REQ_FIELD_##x)

static void assert_time(const request_effect_t *e, request_field_t fl, int64_t t)
{
    assert_int_equal(e->field[fl].op, REQ_FIELD_SET_TIME);
    assert_int_equal(e->field[fl].time, t);
}

static void assert_text(const request_effect_t *e, request_field_t fl, const char *s)
{
    assert_int_equal(e->field[fl].op, REQ_FIELD_SET_TEXT);
    assert_string_equal(e->field[fl].text, s);
}

static void no_escalation(const request_effect_t *e)
{
    assert_int_equal(e->escalation_inc, 0);
    assert_int_equal(e->notify_level, 0);
    assert_null(e->notify_kind);
}

/* ---- work orders ------------------------------------------------------------------ */

static void test_dispatch(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_RECEIVED, -1);
    request_args_t a = args();
    a.department_id = DEPT;
    a.assignee_id = TECH;
    a.appointment_at = T0 + 7200;
    request_effect_t e = allowed(&f, REQ_ACTION_DISPATCH, &a, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "dispatched");
    assert_int_equal(e.wo_op, REQ_WO_CREATE);
    assert_int_equal(e.wo_state, WO_STATE_DISPATCHED);
    assert_string_equal(e.wo_department, DEPT);
    assert_string_equal(e.wo_assignee, TECH);
    assert_int_equal(e.wo_appointment_at, T0 + 7200);
    assert_text(&e, REQ_FIELD_DEPARTMENT_ID, DEPT);
    assert_text(&e, REQ_FIELD_ASSIGNEE_ID, TECH);
    only_fields(&e, F(DEPARTMENT_ID) | F(ASSIGNEE_ID));
    assert_string_equal(e.event_work_order_state, "dispatched");
    assert_null(e.event_cancelled_work_order_id);
    assert_int_equal(e.reopen_inc, 0);
    assert_int_equal(e.event_reopen_count, 0);
    no_escalation(&e);

    /* Without a technician the request's assignee is cleared. */
    a.assignee_id = NULL;
    a.appointment_at = 0;
    e = allowed(&f, REQ_ACTION_DISPATCH, &a, T0);
    assert_null(e.wo_assignee);
    assert_int_equal(e.wo_appointment_at, 0);
    assert_int_equal(e.field[REQ_FIELD_ASSIGNEE_ID].op, REQ_FIELD_SET_NULL);
}

static void test_redispatch(void **state)
{
    (void)state;
    /* Also after a refused sign-off: the order awaiting it is cancelled and replaced. */
    const int from[] = {WO_STATE_DISPATCHED, WO_STATE_ACCEPTED, WO_STATE_ON_SITE,
                        WO_STATE_DONE_UNSIGNED};
    const request_state_t st[] = {REQ_STATE_DISPATCHED, REQ_STATE_ACCEPTED, REQ_STATE_ON_SITE,
                                  REQ_STATE_ON_SITE};
    for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
        request_facts_t f = facts(st[i], from[i]);
        request_args_t a = args();
        a.department_id = DEPT;
        request_effect_t e = allowed(&f, REQ_ACTION_REDISPATCH, &a, PAST);
        assert_string_equal(e.field[REQ_FIELD_STATE].text, "dispatched");
        assert_int_equal(e.wo_op, REQ_WO_REPLACE);
        assert_int_equal(e.wo_state, WO_STATE_DISPATCHED);
        assert_string_equal(e.wo_department, DEPT);
        assert_null(e.wo_assignee);
        assert_string_equal(e.event_cancelled_work_order_id, WO);
        assert_text(&e, REQ_FIELD_DEPARTMENT_ID, DEPT);
        assert_int_equal(e.field[REQ_FIELD_ASSIGNEE_ID].op, REQ_FIELD_SET_NULL);
        only_fields(&e, F(DEPARTMENT_ID) | F(ASSIGNEE_ID));
        assert_true(e.event_paper_record);
    }
    /* Nothing open to replace: refused, no effect. */
    request_facts_t f = facts(REQ_STATE_ON_SITE, WO_STATE_SIGNED_OFF);
    request_effect_t e;
    assert_int_equal(core_request_effect(&f, REQ_ACTION_REDISPATCH, NULL, T0, T0, &e), -1);
    assert_string_equal(e.verdict.code, REQ_CODE_INVALID_TRANSITION);
    assert_int_equal(e.wo_op, REQ_WO_NONE);
}

static void test_accept_by_technician(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED);
    f.actor_role = ROLE_TECHNICIAN;
    f.actor_dept_kind = DEPT_ENGINEERING;
    f.actor_in_responsible_dept = 1;
    f.work_order_has_assignee = 0;
    request_args_t a = args();
    /* Nobody holds the order: the technician who accepts it takes it. */
    request_effect_t e = allowed(&f, REQ_ACTION_ACCEPT, &a, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "accepted");
    assert_int_equal(e.wo_op, REQ_WO_UPDATE);
    assert_int_equal(e.wo_state, WO_STATE_ACCEPTED);
    assert_string_equal(e.wo_assignee, ME);
    assert_text(&e, REQ_FIELD_ASSIGNEE_ID, ME);
    only_fields(&e, F(ASSIGNEE_ID));
    assert_string_equal(e.event_work_order_state, "accepted");
    assert_null(e.wo_signer_kind);

    /* The named assignee accepting keeps it as it is. */
    f.work_order_has_assignee = 1;
    f.actor_is_assignee = 1;
    e = allowed(&f, REQ_ACTION_ACCEPT, &a, T0);
    assert_null(e.wo_assignee);
    only_fields(&e, 0);

    /* The desk recording an acceptance from paper assigns nobody. */
    f = facts(REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED);
    f.work_order_has_assignee = 0;
    e = allowed(&f, REQ_ACTION_ACCEPT, &a, PAST);
    assert_int_equal(e.wo_op, REQ_WO_UPDATE);
    assert_null(e.wo_assignee);
    only_fields(&e, 0);
    assert_true(e.event_paper_record);
}

static void test_arrive_and_report_result(void **state)
{
    (void)state;
    request_args_t a = args();
    a.result = "Replaced the valve.";
    request_facts_t f = facts(REQ_STATE_ACCEPTED, WO_STATE_ACCEPTED);
    request_effect_t e = allowed(&f, REQ_ACTION_ARRIVE, &a, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "on_site");
    assert_int_equal(e.wo_op, REQ_WO_UPDATE);
    assert_int_equal(e.wo_state, WO_STATE_ON_SITE);
    only_fields(&e, 0);

    f = facts(REQ_STATE_ON_SITE, WO_STATE_ON_SITE);
    e = allowed(&f, REQ_ACTION_REPORT_RESULT, &a, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "on_site");
    assert_int_equal(e.wo_op, REQ_WO_UPDATE);
    assert_int_equal(e.wo_state, WO_STATE_DONE_UNSIGNED);
    assert_string_equal(e.wo_result, "Replaced the valve.");
    assert_string_equal(e.event_work_order_state, "done_unsigned");
    assert_null(e.wo_assignee);
    only_fields(&e, 0);
    no_escalation(&e);
}

static void test_sign_off(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_ON_SITE, WO_STATE_DONE_UNSIGNED);
    request_args_t a = args();
    a.signer_resident_id = RES;
    a.signer_name = "Wang Fang";
    a.resolution = "Leak fixed.";
    request_effect_t e = allowed(&f, REQ_ACTION_SIGN_OFF, &a, PAST);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "resolved");
    assert_int_equal(e.wo_op, REQ_WO_UPDATE);
    assert_int_equal(e.wo_state, WO_STATE_SIGNED_OFF);
    assert_string_equal(e.wo_signer_kind, "resident");
    assert_string_equal(e.wo_signer_resident_id, RES);
    assert_null(e.wo_signer_user_id);
    assert_string_equal(e.wo_signer_name, "Wang Fang");
    assert_string_equal(e.event_signer_name, "Wang Fang");
    assert_time(&e, REQ_FIELD_RESOLVED_AT, PAST);
    assert_text(&e, REQ_FIELD_RESOLUTION, "Leak fixed.");
    only_fields(&e, F(RESOLVED_AT) | F(RESOLUTION));
    assert_true(e.event_paper_record);

    /* Staff signing a common area; no resolution given, no name known. */
    f.location_kind = REQ_LOCATION_COMMON_AREA;
    f.signer_kind = SIGNER_STAFF;
    f.signer_role = ROLE_AGENT;
    f.signer_dept_kind = DEPT_CUSTOMER_SERVICE;
    f.reporting_dept_kind = DEPT_CUSTOMER_SERVICE;
    a = args();
    a.signer_user_id = TECH;
    a.signer_name = "";
    e = allowed(&f, REQ_ACTION_SIGN_OFF, &a, T0);
    assert_string_equal(e.wo_signer_kind, "staff");
    assert_string_equal(e.wo_signer_user_id, TECH);
    assert_null(e.event_signer_name);
    assert_int_equal(e.field[REQ_FIELD_RESOLUTION].op, REQ_FIELD_KEEP);
    only_fields(&e, F(RESOLVED_AT));

    /* An unqualified signer: refused, nothing stored. */
    f.signer_role = ROLE_TECHNICIAN;
    f.signer_dept_kind = DEPT_ENGINEERING;
    assert_int_equal(core_request_effect(&f, REQ_ACTION_SIGN_OFF, &a, T0, T0, &e), -1);
    assert_string_equal(e.verdict.code, REQ_CODE_SIGNER_NOT_QUALIFIED);
    assert_int_equal(e.wo_op, REQ_WO_NONE);
    assert_null(e.wo_signer_kind);
    assert_int_equal(e.field[REQ_FIELD_STATE].op, REQ_FIELD_KEEP);
}

static void test_resolve(void **state)
{
    (void)state;
    /* An inquiry answered by the desk: its unreported work order is withdrawn. */
    request_facts_t f = facts(REQ_STATE_ACCEPTED, WO_STATE_ACCEPTED);
    f.type = REQ_TYPE_INQUIRY;
    request_args_t a = args();
    a.resolution = "Told the opening hours.";
    request_effect_t e = allowed(&f, REQ_ACTION_RESOLVE, &a, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "resolved");
    assert_int_equal(e.wo_op, REQ_WO_UPDATE);
    assert_int_equal(e.wo_state, WO_STATE_CANCELLED);
    assert_string_equal(e.event_work_order_state, "cancelled");
    assert_time(&e, REQ_FIELD_RESOLVED_AT, T0);
    assert_text(&e, REQ_FIELD_RESOLUTION, "Told the opening hours.");
    only_fields(&e, F(RESOLVED_AT) | F(RESOLUTION));

    /* A reported result is kept as the record of the work. */
    f = facts(REQ_STATE_ON_SITE, WO_STATE_DONE_UNSIGNED);
    f.type = REQ_TYPE_SUGGESTION;
    e = allowed(&f, REQ_ACTION_RESOLVE, &a, T0);
    assert_int_equal(e.wo_op, REQ_WO_NONE);
    assert_int_equal(e.wo_state, -1);
    assert_null(e.event_work_order_state);

    /* No work order at all. */
    f = facts(REQ_STATE_RECEIVED, -1);
    f.type = REQ_TYPE_COMPLAINT;
    e = allowed(&f, REQ_ACTION_RESOLVE, &a, T0);
    assert_int_equal(e.wo_op, REQ_WO_NONE);
}

static void test_pend_and_resume(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_ACCEPTED, WO_STATE_ACCEPTED);
    f.pending_reason = REQ_PENDING_PARTS;
    f.pending_until = T0 + 86400;
    request_effect_t e = allowed(&f, REQ_ACTION_PEND, NULL, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "pending");
    assert_text(&e, REQ_FIELD_STATE_BEFORE_PENDING, "accepted");
    assert_text(&e, REQ_FIELD_PENDING_REASON, "parts");
    assert_time(&e, REQ_FIELD_PENDING_UNTIL, T0 + 86400);
    only_fields(&e, F(STATE_BEFORE_PENDING) | F(PENDING_REASON) | F(PENDING_UNTIL));
    assert_int_equal(e.wo_op, REQ_WO_NONE);
    assert_int_equal(e.event_paused_since, 0);

    f = facts(REQ_STATE_PENDING, WO_STATE_ACCEPTED);
    f.state_before_pending = REQ_STATE_ACCEPTED;
    request_args_t a = args();
    a.pending_since = T0 - 5000;
    e = allowed(&f, REQ_ACTION_RESUME, &a, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "accepted");
    for (int i = REQ_FIELD_STATE_BEFORE_PENDING; i <= REQ_FIELD_PENDING_UNTIL; i++)
        assert_int_equal(e.field[i].op, REQ_FIELD_SET_NULL);
    only_fields(&e, F(STATE_BEFORE_PENDING) | F(PENDING_REASON) | F(PENDING_UNTIL));
    assert_int_equal(e.event_paused_since, T0 - 5000);
    assert_int_equal(e.event_paused_seconds, 5000);

    /* A paper resume dated before the pause counts no negative time; an unknown start
     * records no pause. */
    e = allowed(&f, REQ_ACTION_RESUME, &a, T0 - 6000);
    assert_int_equal(e.event_paused_seconds, 0);
    a.pending_since = 0;
    e = allowed(&f, REQ_ACTION_RESUME, &a, T0);
    assert_int_equal(e.event_paused_since, 0);
    assert_int_equal(e.event_paused_seconds, 0);
}

/* ---- closing ---------------------------------------------------------------------- */

static void test_reject_and_close_not_responsible(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_RECEIVED, -1);
    f.explanation = "Not our building.";
    request_effect_t e = allowed(&f, REQ_ACTION_REJECT, NULL, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "rejected");
    assert_text(&e, REQ_FIELD_EXPLANATION, "Not our building.");
    assert_time(&e, REQ_FIELD_CLOSED_AT, T0);
    only_fields(&e, F(EXPLANATION) | F(CLOSED_AT));
    assert_int_equal(e.wo_op, REQ_WO_NONE);

    f = facts(REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED);
    f.explanation = "The developer's warranty.";
    e = allowed(&f, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, NULL, PAST);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "not_responsible");
    assert_int_equal(e.wo_op, REQ_WO_UPDATE);
    assert_int_equal(e.wo_state, WO_STATE_CANCELLED);
    assert_text(&e, REQ_FIELD_EXPLANATION, "The developer's warranty.");
    assert_time(&e, REQ_FIELD_CLOSED_AT, PAST);
    only_fields(&e, F(EXPLANATION) | F(CLOSED_AT));
}

static void test_close(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_RESOLVED, -1);
    f.type = REQ_TYPE_PRAISE;
    request_effect_t e = allowed(&f, REQ_ACTION_CLOSE, NULL, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "closed");
    assert_time(&e, REQ_FIELD_CLOSED_AT, T0);
    only_fields(&e, F(CLOSED_AT));

    /* Giving a callback up: the explanation is stored. */
    f = facts(REQ_STATE_CALLBACK, WO_STATE_SIGNED_OFF);
    f.explanation = "Three calls unanswered.";
    e = allowed(&f, REQ_ACTION_CLOSE, NULL, T0);
    assert_text(&e, REQ_FIELD_EXPLANATION, "Three calls unanswered.");
    only_fields(&e, F(CLOSED_AT) | F(EXPLANATION));
    assert_int_equal(e.wo_op, REQ_WO_NONE);
}

static void test_start_callback(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_RESOLVED, WO_STATE_SIGNED_OFF);
    request_effect_t e = allowed(&f, REQ_ACTION_START_CALLBACK, NULL, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "callback");
    only_fields(&e, 0);
    assert_int_equal(e.wo_op, REQ_WO_NONE);
    no_escalation(&e);
}

static void test_callback_satisfied(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_CALLBACK, WO_STATE_SIGNED_OFF);
    f.callback_satisfied = 1;
    f.escalation_level = 2;
    request_effect_t e = allowed(&f, REQ_ACTION_CALLBACK_RESULT, NULL, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "closed");
    assert_time(&e, REQ_FIELD_CLOSED_AT, T0);
    only_fields(&e, F(CLOSED_AT));
    assert_int_equal(e.reopen_inc, 0);
    no_escalation(&e);
}

/* "A dissatisfied callback reopens and raises one level, and that level hears of it." */
static void test_callback_dissatisfied_below_top(void **state)
{
    (void)state;
    for (int level = 0; level < SLA_TOP_LEVEL; level++) {
        request_facts_t f = facts(REQ_STATE_CALLBACK, WO_STATE_SIGNED_OFF);
        f.callback_satisfied = 0;
        f.escalation_level = level;
        f.reopen_count = 2;
        request_effect_t e = allowed(&f, REQ_ACTION_CALLBACK_RESULT, NULL, T0);
        assert_string_equal(e.field[REQ_FIELD_STATE].text, "received");
        assert_int_equal(e.field[REQ_FIELD_RESOLVED_AT].op, REQ_FIELD_SET_NULL);
        only_fields(&e, F(RESOLVED_AT));
        assert_int_equal(e.reopen_inc, 1);
        assert_int_equal(e.event_reopen_count, 3);
        assert_int_equal(e.escalation_inc, 1);
        assert_int_equal(e.notify_level, level + 1);
        assert_string_equal(e.notify_kind, "callback_dissatisfied");
        assert_string_equal(e.notify_reason, "dissatisfied callback");
        assert_int_equal(e.wo_op, REQ_WO_NONE);
    }
}

/* At the top of the ladder it still reopens, but there is no level left to raise. */
static void test_callback_dissatisfied_at_top(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_CALLBACK, WO_STATE_SIGNED_OFF);
    f.callback_satisfied = 0;
    f.escalation_level = SLA_TOP_LEVEL;
    request_effect_t e = allowed(&f, REQ_ACTION_CALLBACK_RESULT, NULL, T0);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "received");
    assert_int_equal(e.field[REQ_FIELD_RESOLVED_AT].op, REQ_FIELD_SET_NULL);
    only_fields(&e, F(RESOLVED_AT));
    assert_int_equal(e.reopen_inc, 1);
    assert_int_equal(e.event_reopen_count, 1);
    no_escalation(&e);
}

static void test_reopen(void **state)
{
    (void)state;
    const request_state_t from[] = {REQ_STATE_RESOLVED, REQ_STATE_CALLBACK, REQ_STATE_CLOSED};
    for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
        request_facts_t f = facts(from[i], WO_STATE_SIGNED_OFF);
        f.reopen_count = 4;
        f.escalation_level = 1;
        request_effect_t e = allowed(&f, REQ_ACTION_REOPEN, NULL, T0);
        assert_string_equal(e.field[REQ_FIELD_STATE].text, "received");
        assert_int_equal(e.field[REQ_FIELD_RESOLVED_AT].op, REQ_FIELD_SET_NULL);
        assert_int_equal(e.field[REQ_FIELD_CLOSED_AT].op, REQ_FIELD_SET_NULL);
        only_fields(&e, F(RESOLVED_AT) | F(CLOSED_AT));
        assert_int_equal(e.reopen_inc, 1);
        assert_int_equal(e.event_reopen_count, 5);
        no_escalation(&e);
    }
}

static void test_handover(void **state)
{
    (void)state;
    request_facts_t f = facts(REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED);
    f.channel = REQ_CHANNEL_NIGHT_DESK;
    f.actor_role = ROLE_SECURITY;
    request_effect_t e = allowed(&f, REQ_ACTION_HANDOVER, NULL, PAST);
    assert_string_equal(e.field[REQ_FIELD_STATE].text, "dispatched");
    assert_time(&e, REQ_FIELD_HANDED_OVER_AT, PAST);
    only_fields(&e, F(HANDED_OVER_AT));
    assert_int_equal(e.wo_op, REQ_WO_NONE);

    f.handed_over = 1;
    assert_int_equal(core_request_effect(&f, REQ_ACTION_HANDOVER, NULL, T0, T0, &e), -1);
    assert_string_equal(e.verdict.code, REQ_CODE_ALREADY_HANDED_OVER);
    assert_int_equal(e.field[REQ_FIELD_HANDED_OVER_AT].op, REQ_FIELD_KEEP);
}

/* ---- consistency ------------------------------------------------------------------ */

/* Over every state, work-order state, action and role: the effect's verdict is the
 * transition's, a refusal writes nothing, and an allowed action's work-order operation
 * matches the transition's work-order state. */
static void test_verdict_is_the_transition(void **state)
{
    (void)state;
    int allowed_n = 0, refused_n = 0;
    for (int s = 0; s < REQ_STATE__COUNT; s++)
        for (int wo = -1; wo < WO_STATE__COUNT; wo++)
            for (int act = 0; act < REQ_ACTION__COUNT; act++)
                for (int role = 0; role < ROLE__COUNT; role++) {
                    request_facts_t f = facts((request_state_t)s, wo);
                    f.actor_role = (role_t)role;
                    f.actor_in_responsible_dept = 1;
                    f.actor_is_assignee = 1;
                    f.explanation = "Because.";
                    f.pending_reason = REQ_PENDING_OTHER;
                    f.pending_until = T0 + 60;
                    f.state_before_pending = REQ_STATE_DISPATCHED;
                    request_args_t a = args();
                    a.department_id = DEPT;
                    request_effect_t e;
                    transition_t t = core_request_transition(&f, (request_action_t)act);
                    int rc = core_request_effect(&f, (request_action_t)act, &a, T0, T0, &e);
                    assert_int_equal(rc, t.ok ? 0 : -1);
                    assert_int_equal(e.verdict.ok, t.ok);
                    assert_string_equal(e.verdict.code, t.code);
                    assert_int_equal(e.verdict.new_state, t.new_state);
                    assert_int_equal(e.verdict.new_work_order_state, t.new_work_order_state);
                    assert_int_equal(e.reopen_inc, t.ok ? t.reopen_increment : 0);
                    if (!t.ok) {
                        refused_n++;
                        assert_int_equal(e.wo_op, REQ_WO_NONE);
                        for (int i = 0; i < REQ_FIELD__COUNT; i++)
                            assert_int_equal(e.field[i].op, REQ_FIELD_KEEP);
                        continue;
                    }
                    allowed_n++;
                    assert_int_equal(e.wo_state, t.new_work_order_state);
                    if (e.wo_op == REQ_WO_NONE)
                        assert_true(t.new_work_order_state < 0 || wo < 0);
                    else
                        assert_true(t.new_work_order_state >= 0);
                }
    assert_true(allowed_n > 100);
    assert_true(refused_n > allowed_n);
}

static void test_field_names(void **state)
{
    (void)state;
    for (int i = 0; i < REQ_FIELD__COUNT; i++) {
        const char *n = core_request_field_name((request_field_t)i);
        assert_non_null(n);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(n, core_request_field_name((request_field_t)j));
    }
    assert_string_equal(core_request_field_name(REQ_FIELD_RESOLVED_AT), "resolved_at");
    assert_string_equal(core_request_field_name(REQ_FIELD_HANDED_OVER_AT), "handed_over_at");
    assert_null(core_request_field_name(REQ_FIELD__COUNT));
    assert_null(core_request_field_name((request_field_t)-1));
}

static void test_null_facts(void **state)
{
    (void)state;
    request_effect_t e;
    assert_int_equal(core_request_effect(NULL, REQ_ACTION_CLOSE, NULL, T0, T0, &e), -1);
    assert_string_equal(e.verdict.code, REQ_CODE_INVALID_FACTS);
    assert_int_equal(e.wo_state, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_redispatch),
        cmocka_unit_test(test_accept_by_technician),
        cmocka_unit_test(test_arrive_and_report_result),
        cmocka_unit_test(test_sign_off),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_pend_and_resume),
        cmocka_unit_test(test_reject_and_close_not_responsible),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_start_callback),
        cmocka_unit_test(test_callback_satisfied),
        cmocka_unit_test(test_callback_dissatisfied_below_top),
        cmocka_unit_test(test_callback_dissatisfied_at_top),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_handover),
        cmocka_unit_test(test_verdict_is_the_transition),
        cmocka_unit_test(test_field_names),
        cmocka_unit_test(test_null_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
