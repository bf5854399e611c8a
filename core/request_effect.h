/*
 * core/request_effect.h — what an allowed request action changes (SPEC §3, §5).
 * core_request_transition() judges an action; core_request_effect() judges it the same way
 * and, when it is allowed, spells out everything the caller must store: the request's
 * columns to set or clear, the work-order operation, the escalation level change and the
 * ladder notification, and the extras of the timeline event.  The caller only translates
 * the effect into statements; it decides nothing.  Pure: no clock, no I/O; every time
 * comes in as an argument.
 */
#ifndef CORE_REQUEST_EFFECT_H
#define CORE_REQUEST_EFFECT_H

#include <stdint.h>

#include "core/request.h"

/* The request columns an action writes; the names (core_request_field_name) are the
 * request's API field names, which are also the keys of a stored change set. */
typedef enum {
    REQ_FIELD_STATE,
    REQ_FIELD_LAST_EVENT_AT,
    REQ_FIELD_DEPARTMENT_ID,
    REQ_FIELD_ASSIGNEE_ID,
    REQ_FIELD_RESOLVED_AT,
    REQ_FIELD_RESOLUTION,
    REQ_FIELD_CLOSED_AT,
    REQ_FIELD_EXPLANATION,
    REQ_FIELD_STATE_BEFORE_PENDING,
    REQ_FIELD_PENDING_REASON,
    REQ_FIELD_PENDING_UNTIL,
    REQ_FIELD_HANDED_OVER_AT,
    REQ_FIELD_APPOINTMENT_AT, /* set_appointment */
    REQ_FIELD_PROMISED_BY,    /* set_deadline */
    REQ_FIELD_OWNER_ID,       /* hand_on */
    REQ_FIELD__COUNT
} request_field_t;

/* What happens to one column: left as it is, set to a text or a time, or cleared. */
typedef enum {
    REQ_FIELD_KEEP,
    REQ_FIELD_SET_TEXT,
    REQ_FIELD_SET_TIME,
    REQ_FIELD_SET_NULL
} request_field_op_t;

typedef struct request_field_change {
    request_field_op_t op;
    const char *text; /* SET_TEXT: borrowed from the facts or args, or static */
    int64_t time;     /* SET_TIME: UTC seconds */
} request_field_change_t;

/* What happens to the work orders. */
typedef enum {
    REQ_WO_NONE,    /* nothing */
    REQ_WO_CREATE,  /* a new work order in "dispatched" (dispatch) */
    REQ_WO_REPLACE, /* the open one is cancelled, then a new one created (redispatch) */
    REQ_WO_UPDATE,  /* the current one moves to wo_state (and records what it names) */
    REQ_WO_DECLINE, /* the current one is declined with wo_decline_* (decline) */
} request_wo_op_t;

/* What the effect stores besides the facts: the action's stored arguments and the ids
 * and times it names.  Strings are borrowed for as long as the effect is used; NULL or 0
 * means not given.  Zero-initialise, then fill what applies. */
typedef struct request_args {
    const char *actor_user_id; /* a technician accepting an unassigned order becomes its assignee */
    const char *work_order_id; /* the current work order (redispatch names the cancelled one) */
    const char *department_id; /* dispatch, redispatch: the new work order's department */
    const char *assignee_id;   /* dispatch, redispatch: its technician, NULL none */
    int64_t appointment_at;    /* dispatch, redispatch: UTC seconds, 0 none */
    const char *result;        /* recorded on the work order whenever it is updated */
    const char *resolution;    /* sign_off, resolve: the answer given */
    /* sign_off: the signer as looked up (ids and name; the kind is in the facts). */
    const char *signer_resident_id;
    const char *signer_user_id;
    const char *signer_name;
    int64_t pending_since;  /* resume: when the request was put on hold, <= 0 unknown */
    const char *hand_on_to; /* hand_on: the staff member who takes the matter on */
} request_args_t;

/* The whole effect of an allowed action.  Every pointer is borrowed from the facts or
 * args, or static. */
typedef struct request_effect {
    /* The verdict, exactly as core_request_transition() gives it. */
    transition_t verdict;

    /* The request's columns (state and last_event_at are always set) and counters. */
    request_field_change_t field[REQ_FIELD__COUNT];
    int reopen_inc;     /* add to reopen_count */
    int escalation_inc; /* add to escalation_level */

    /* The work orders.  CREATE/REPLACE: wo_department, wo_assignee (NULL none) and
     * wo_appointment_at (0 none) of the new order, which starts in "dispatched"; REPLACE
     * first cancels the current one.  UPDATE: the current order moves to wo_state;
     * wo_assignee (NULL: keep), wo_result and the wo_signer_* (NULL: keep) are recorded. */
    request_wo_op_t wo_op;
    int wo_state; /* work_order_state_t the operation leaves, -1 none */
    const char *wo_department;
    const char *wo_assignee;
    int64_t wo_appointment_at;
    const char *wo_result;
    const char *wo_signer_kind; /* "resident" / "staff" */
    const char *wo_signer_resident_id;
    const char *wo_signer_user_id;
    const char *wo_signer_name;
    /* DECLINE: the reason (API name), the note (NULL none) and who declined. */
    const char *wo_decline_reason;
    const char *wo_decline_note;
    const char *wo_declined_by;

    /* A notification to the escalation ladder: notify_level > 0 means the people of that
     * level hear of it, as notification `notify_kind` with the reason `notify_reason`. */
    int notify_level;
    const char *notify_kind;
    const char *notify_reason;

    /* Extras of the action's timeline event (beside the action's own arguments). */
    int event_paper_record;                    /* recorded later than it happened */
    const char *event_work_order_state;        /* the work order's new state, NULL none */
    const char *event_signer_name;             /* sign_off: who signed, NULL unknown */
    int event_reopen_count;                    /* the new reopen count, 0 none */
    const char *event_cancelled_work_order_id; /* redispatch: the order cancelled */
    int64_t event_paused_since;                /* resume: the pause began, 0 none */
    int64_t event_paused_seconds;              /* resume: its length in wall-clock time */
} request_effect_t;

/*
 * Judges `action` on `f` as core_request_transition() does and, when it is allowed,
 * fills *out with its whole effect; occurred is when the action happened (recorded at
 * `now`; a difference marks a paper record), both UTC seconds.  Returns 0 when allowed,
 * -1 when refused (out->verdict says why; nothing else in *out is to be stored).  `args`
 * may be NULL when the action stores no argument.  What each allowed action writes:
 *
 *   dispatch, redispatch  department_id and assignee_id (cleared when none) of the request;
 *                         a new work order (redispatch: after cancelling the open one,
 *                         which the event names).
 *   accept, arrive, report_result  the work order moves on (and records a result when
 *                         given); a technician accepting an order with no assignee
 *                         becomes its assignee and the request's.
 *   sign_off              resolved_at, resolution when given; the work order is signed
 *                         off and records its signer, whose name the event carries.
 *   resolve               resolved_at, resolution; an open order without a result is
 *                         cancelled.
 *   pend / resume         state_before_pending, pending_reason, pending_until set /
 *                         cleared; resume's event carries the pause.
 *   reject, close_not_responsible  explanation, closed_at (an open order is cancelled).
 *   close                 closed_at, explanation when given.
 *   callback_result       satisfied: closed_at.  Dissatisfied: the request reopens
 *                         (resolved_at cleared, reopen count +1) and, below the top of the
 *                         ladder, raises one level, and that level hears of it.
 *   reopen                resolved_at and closed_at cleared, reopen count +1.
 *   handover              handed_over_at.
 *   decline               the work order is declined (reason, note, who); the request
 *                         goes back to received without department or assignee.
 *   set_appointment       appointment_at; set_deadline: promised_by (both promised_at).
 *   hand_on               owner_id (args hand_on_to).
 *   record_notification   only the state and last_event_at (the event says who notified
 *                         whom, when).
 *   start_callback, comment  only the state and last_event_at.
 */
int core_request_effect(const request_facts_t *f, request_action_t action,
                        const request_args_t *args, int64_t occurred, int64_t now,
                        request_effect_t *out);

/* The API name of a request field ("resolved_at", ...); NULL when out of range. */
const char *core_request_field_name(request_field_t field);

#endif
