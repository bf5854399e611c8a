/*
 * core/request_effect.c — the effect of an allowed request action: which columns are set
 * or cleared, what happens to the work orders, the escalation raised by a dissatisfied
 * callback and the extras its timeline event carries.  The verdict itself comes from
 * core_request_transition(); this file only says what an allowed action writes.
 */
#include "core/request_effect.h"
#include "core/sla_request.h"

#include <stddef.h>
#include <string.h>

static const char *const field_names[REQ_FIELD__COUNT] = {
    [REQ_FIELD_STATE] = "state",
    [REQ_FIELD_LAST_EVENT_AT] = "last_event_at",
    [REQ_FIELD_DEPARTMENT_ID] = "department_id",
    [REQ_FIELD_ASSIGNEE_ID] = "assignee_id",
    [REQ_FIELD_RESOLVED_AT] = "resolved_at",
    [REQ_FIELD_RESOLUTION] = "resolution",
    [REQ_FIELD_CLOSED_AT] = "closed_at",
    [REQ_FIELD_EXPLANATION] = "explanation",
    [REQ_FIELD_STATE_BEFORE_PENDING] = "state_before_pending",
    [REQ_FIELD_PENDING_REASON] = "pending_reason",
    [REQ_FIELD_PENDING_UNTIL] = "pending_until",
    [REQ_FIELD_HANDED_OVER_AT] = "handed_over_at",
    [REQ_FIELD_APPOINTMENT_AT] = "appointment_at",
    [REQ_FIELD_PROMISED_BY] = "promised_by",
    [REQ_FIELD_OWNER_ID] = "owner_id",
};

const char *core_request_field_name(request_field_t field)
{
    return (unsigned)field < REQ_FIELD__COUNT ? field_names[field] : NULL;
}

static void set_text(request_effect_t *e, request_field_t field, const char *text)
{
    e->field[field].op = REQ_FIELD_SET_TEXT;
    e->field[field].text = text;
}

/* Sets the column to `text` when given; leaves it otherwise. */
static void set_text_given(request_effect_t *e, request_field_t field, const char *text)
{
    if (text)
        set_text(e, field, text);
}

static void set_time(request_effect_t *e, request_field_t field, int64_t t)
{
    e->field[field].op = REQ_FIELD_SET_TIME;
    e->field[field].time = t;
}

static void set_null(request_effect_t *e, request_field_t field)
{
    e->field[field].op = REQ_FIELD_SET_NULL;
}

/* dispatch, redispatch: a new work order for the named department (and technician). */
static void new_work_order(request_action_t a, const request_args_t *x, request_effect_t *e)
{
    e->wo_op = a == REQ_ACTION_REDISPATCH ? REQ_WO_REPLACE : REQ_WO_CREATE;
    e->wo_department = x->department_id;
    e->wo_assignee = x->assignee_id;
    e->wo_appointment_at = x->appointment_at;
    set_text(e, REQ_FIELD_DEPARTMENT_ID, x->department_id);
    if (x->assignee_id)
        set_text(e, REQ_FIELD_ASSIGNEE_ID, x->assignee_id);
    else
        set_null(e, REQ_FIELD_ASSIGNEE_ID);
    if (a == REQ_ACTION_REDISPATCH)
        e->event_cancelled_work_order_id = x->work_order_id;
}

/* Any other action that moves the current work order: it records what it is given. */
static void update_work_order(const request_facts_t *f, request_action_t a, const request_args_t *x,
                              request_effect_t *e)
{
    if (e->wo_state < 0 || !f->has_active_work_order)
        return;
    e->wo_op = REQ_WO_UPDATE;
    e->wo_result = x->result;
    /* A technician who accepts an order nobody holds takes it (and the request). */
    if (a == REQ_ACTION_ACCEPT && f->actor_role == ROLE_TECHNICIAN && !f->work_order_has_assignee &&
        x->actor_user_id) {
        e->wo_assignee = x->actor_user_id;
        set_text(e, REQ_FIELD_ASSIGNEE_ID, x->actor_user_id);
    }
    if (a == REQ_ACTION_SIGN_OFF) {
        e->wo_signer_kind = core_request_signer_kind_name(f->signer_kind);
        e->wo_signer_resident_id = x->signer_resident_id;
        e->wo_signer_user_id = x->signer_user_id;
        e->wo_signer_name = x->signer_name;
        e->event_signer_name = x->signer_name && x->signer_name[0] ? x->signer_name : NULL;
    }
}

/* SPEC §5: a dissatisfied callback reopens the request and raises one level, and that
 * level hears of it — unless the request already stands at the top of the ladder. */
static void callback_result(const request_facts_t *f, int64_t occurred, request_effect_t *e)
{
    if (f->callback_satisfied) {
        set_time(e, REQ_FIELD_CLOSED_AT, occurred);
        return;
    }
    set_null(e, REQ_FIELD_RESOLVED_AT);
    if (f->escalation_level < SLA_TOP_LEVEL) {
        e->escalation_inc = 1;
        e->notify_level = f->escalation_level + 1;
        e->notify_kind = "callback_dissatisfied";
        e->notify_reason = "dissatisfied callback";
    }
}

/* The request's own columns, by action. */
static void request_columns(const request_facts_t *f, request_action_t a, const request_args_t *x,
                            int64_t occurred, request_effect_t *e)
{
    switch (a) {
    case REQ_ACTION_SIGN_OFF:
    case REQ_ACTION_RESOLVE:
        set_time(e, REQ_FIELD_RESOLVED_AT, occurred);
        set_text_given(e, REQ_FIELD_RESOLUTION, x->resolution);
        break;
    case REQ_ACTION_PEND:
        set_text(e, REQ_FIELD_STATE_BEFORE_PENDING, core_request_state_name(f->state));
        set_text(e, REQ_FIELD_PENDING_REASON,
                 core_request_pending_reason_name((pending_reason_t)f->pending_reason));
        set_time(e, REQ_FIELD_PENDING_UNTIL, f->pending_until);
        break;
    case REQ_ACTION_RESUME:
        set_null(e, REQ_FIELD_STATE_BEFORE_PENDING);
        set_null(e, REQ_FIELD_PENDING_REASON);
        set_null(e, REQ_FIELD_PENDING_UNTIL);
        break;
    case REQ_ACTION_REJECT:
    case REQ_ACTION_CLOSE_NOT_RESPONSIBLE:
    case REQ_ACTION_CLOSE:
        set_text_given(e, REQ_FIELD_EXPLANATION, f->explanation);
        set_time(e, REQ_FIELD_CLOSED_AT, occurred);
        break;
    case REQ_ACTION_CALLBACK_RESULT:
        callback_result(f, occurred, e);
        break;
    case REQ_ACTION_REOPEN:
        set_null(e, REQ_FIELD_RESOLVED_AT);
        set_null(e, REQ_FIELD_CLOSED_AT);
        break;
    case REQ_ACTION_HANDOVER:
        set_time(e, REQ_FIELD_HANDED_OVER_AT, occurred);
        break;
    case REQ_ACTION_DECLINE:
        /* Back with the desk: nobody holds it until it is dispatched again. */
        e->wo_op = REQ_WO_DECLINE;
        e->wo_decline_reason =
            core_request_decline_reason_name((decline_reason_t)f->decline_reason);
        e->wo_decline_note = f->decline_note;
        e->wo_declined_by = x->actor_user_id;
        e->wo_result = NULL;
        set_null(e, REQ_FIELD_DEPARTMENT_ID);
        set_null(e, REQ_FIELD_ASSIGNEE_ID);
        break;
    case REQ_ACTION_SET_APPOINTMENT:
        set_time(e, REQ_FIELD_APPOINTMENT_AT, f->promised_at);
        break;
    case REQ_ACTION_SET_DEADLINE:
        set_time(e, REQ_FIELD_PROMISED_BY, f->promised_at);
        break;
    case REQ_ACTION_HAND_ON:
        set_text_given(e, REQ_FIELD_OWNER_ID, x->hand_on_to);
        break;

    default:
        break;
    }
}

int core_request_effect(const request_facts_t *f, request_action_t action,
                        const request_args_t *args, int64_t occurred, int64_t now,
                        request_effect_t *out)
{
    static const request_args_t none;
    const request_args_t *x = args ? args : &none;
    memset(out, 0, sizeof *out);
    out->verdict = core_request_transition(f, action);
    out->wo_state = -1;
    if (!out->verdict.ok)
        return -1;

    const transition_t *t = &out->verdict;
    out->wo_state = t->new_work_order_state;
    set_text(out, REQ_FIELD_STATE, core_request_state_name((request_state_t)t->new_state));
    set_time(out, REQ_FIELD_LAST_EVENT_AT, occurred);
    if (action == REQ_ACTION_DISPATCH || action == REQ_ACTION_REDISPATCH)
        new_work_order(action, x, out);
    else
        update_work_order(f, action, x, out);
    request_columns(f, action, x, occurred, out);

    out->reopen_inc = t->reopen_increment;
    out->event_paper_record = occurred != now;
    if (t->new_work_order_state >= 0)
        out->event_work_order_state =
            core_request_work_order_state_name((work_order_state_t)t->new_work_order_state);
    if (t->reopen_increment)
        out->event_reopen_count = f->reopen_count + t->reopen_increment;
    if (action == REQ_ACTION_RESUME && x->pending_since > 0) {
        out->event_paused_since = x->pending_since;
        out->event_paused_seconds = occurred > x->pending_since ? occurred - x->pending_since : 0;
    }
    return 0;
}
