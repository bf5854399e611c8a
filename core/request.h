/*
 * core/request.h — the service-request lifecycle of SPEC §3 and §5 as a pure state
 * machine.  The caller loads what it knows about a request and the acting user into a
 * request_facts_t, asks core_request_transition() whether an action is allowed — or
 * core_request_effect() (core/request_effect.h) for everything an allowed action changes —
 * and stores what it is told to.  Nothing here reads
 * a clock, touches a database or keeps state between calls: every input is an argument.
 * Scope checks (organisation, project, own unit, own department ids) live in core/authz;
 * this module judges the action itself: role, state, type and the facts the action needs.
 *
 * Every enum mirrors the API's strings one to one; each has a `..._name()` (NULL when
 * out of range, static storage) and a `..._from_string()` (-1 when unknown or NULL).
 */
#ifndef CORE_REQUEST_H
#define CORE_REQUEST_H

#include <stdint.h>

#include "core/roles.h"
#include "core/strtab.h"

/* "complaint" 投诉, "repair" 报修, "inquiry" 咨询, "suggestion" 建议, "praise" 表扬,
 * "emergency" 突发事件. */
typedef enum {
    REQ_TYPE_COMPLAINT,
    REQ_TYPE_REPAIR,
    REQ_TYPE_INQUIRY,
    REQ_TYPE_SUGGESTION,
    REQ_TYPE_PRAISE,
    REQ_TYPE_EMERGENCY,
    REQ_TYPE__COUNT
} request_type_t;

/* "phone" "visit" "letter" "fax" "app" "web" "email" "night_desk" "patrol" "integration"
 * "survey" "other". */
typedef enum {
    REQ_CHANNEL_PHONE,
    REQ_CHANNEL_VISIT,
    REQ_CHANNEL_LETTER,
    REQ_CHANNEL_FAX,
    REQ_CHANNEL_APP,
    REQ_CHANNEL_WEB,
    REQ_CHANNEL_EMAIL,
    REQ_CHANNEL_NIGHT_DESK,
    REQ_CHANNEL_PATROL,
    REQ_CHANNEL_INTEGRATION,
    REQ_CHANNEL_SURVEY,
    REQ_CHANNEL_OTHER,
    REQ_CHANNEL__COUNT
} request_channel_t;

/* Complaint severity: "major" 重大, "important" 重要, "general" 一般. */
typedef enum {
    REQ_SEVERITY_MAJOR,
    REQ_SEVERITY_IMPORTANT,
    REQ_SEVERITY_GENERAL,
    REQ_SEVERITY__COUNT
} request_severity_t;

/* Complaint category: "attitude" "timeliness" "quality" "service_range"
 * "developer_legacy" "fees" "other". */
typedef enum {
    REQ_CATEGORY_ATTITUDE,
    REQ_CATEGORY_TIMELINESS,
    REQ_CATEGORY_QUALITY,
    REQ_CATEGORY_SERVICE_RANGE,
    REQ_CATEGORY_DEVELOPER_LEGACY,
    REQ_CATEGORY_FEES,
    REQ_CATEGORY_OTHER,
    REQ_CATEGORY__COUNT
} request_category_t;

/* "unit" (a household) or "common_area" (公共区域 / 公共设施). */
typedef enum { REQ_LOCATION_UNIT, REQ_LOCATION_COMMON_AREA, REQ_LOCATION__COUNT } location_kind_t;

/* Request states.  "rejected" and "not_responsible" (closed as not the company's
 * responsibility, explained to the customer) are final like "closed".  A reopened
 * request goes back to "received" and its reopen count grows; there is no reopened
 * state.  Escalation is a flag and level kept elsewhere, not a state. */
typedef enum {
    REQ_STATE_RECEIVED,
    REQ_STATE_DISPATCHED,
    REQ_STATE_ACCEPTED,
    REQ_STATE_ON_SITE,
    REQ_STATE_PENDING,
    REQ_STATE_RESOLVED,
    REQ_STATE_CALLBACK,
    REQ_STATE_CLOSED,
    REQ_STATE_REJECTED,
    REQ_STATE_NOT_RESPONSIBLE,
    REQ_STATE__COUNT
} request_state_t;

/* Why a request waits: "customer" "appointment" "parts" "developer" "other". */
typedef enum {
    REQ_PENDING_CUSTOMER,
    REQ_PENDING_APPOINTMENT,
    REQ_PENDING_PARTS,
    REQ_PENDING_DEVELOPER,
    REQ_PENDING_OTHER,
    REQ_PENDING__COUNT
} pending_reason_t;

/* Work order (工作任务单) states: "dispatched" "accepted" "on_site" "done_unsigned"
 * "signed_off" "cancelled" "declined".  Work is complete only when signed off (SPEC §3 step 4). */
typedef enum {
    WO_STATE_DISPATCHED,
    WO_STATE_ACCEPTED,
    WO_STATE_ON_SITE,
    WO_STATE_DONE_UNSIGNED,
    WO_STATE_SIGNED_OFF,
    WO_STATE_CANCELLED,
    WO_STATE_DECLINED, /* "declined": refused by its department or technician (拒绝接单) */
    WO_STATE__COUNT
} work_order_state_t;

/* Who signed a work order: "none", "resident", "staff". */
typedef enum { SIGNER_NONE, SIGNER_RESIDENT, SIGNER_STAFF, SIGNER__COUNT } signer_kind_t;

/* Workflow actions; the API strings are the lower-case names ("report_result",
 * "close_not_responsible", ...).  What each one does is described at
 * core_request_transition(). */
typedef enum {
    REQ_ACTION_DISPATCH,
    REQ_ACTION_ACCEPT,
    REQ_ACTION_ARRIVE,
    REQ_ACTION_REPORT_RESULT,
    REQ_ACTION_SIGN_OFF,
    REQ_ACTION_RESOLVE,
    REQ_ACTION_PEND,
    REQ_ACTION_RESUME,
    REQ_ACTION_REJECT,
    REQ_ACTION_CLOSE_NOT_RESPONSIBLE,
    REQ_ACTION_START_CALLBACK,
    REQ_ACTION_CALLBACK_RESULT,
    REQ_ACTION_CLOSE,
    REQ_ACTION_REOPEN,
    REQ_ACTION_HANDOVER,
    REQ_ACTION_COMMENT,
    REQ_ACTION_REDISPATCH,
    REQ_ACTION_DECLINE,             /* "decline": the work order is refused (拒绝接单) */
    REQ_ACTION_SET_APPOINTMENT,     /* "set_appointment": when someone will come */
    REQ_ACTION_SET_DEADLINE,        /* "set_deadline": the approximate deadline (大致期限) */
    REQ_ACTION_HAND_ON,             /* "hand_on": the owner (首问负责人) hands the matter on */
    REQ_ACTION_RECORD_NOTIFICATION, /* "record_notification": who notified whom, when */
    REQ_ACTION__COUNT
} request_action_t;

/* Why a work order is declined: "not_ours" (another department's or the owner's matter),
 * "parts" (parts or materials missing), "no_access" (nobody lets the technician in),
 * "other" (the note says what). */
typedef enum {
    DECLINE_NOT_OURS,
    DECLINE_PARTS,
    DECLINE_NO_ACCESS,
    DECLINE_OTHER,
    DECLINE__COUNT
} decline_reason_t;

/* Values of request_facts_t.is_valid_complaint (有效投诉 judged or not yet). */
#define REQ_VALIDITY_UNKNOWN (-1)
#define REQ_VALIDITY_INVALID 0
#define REQ_VALIDITY_VALID   1

/* Stable machine codes of transition_t.code and core_request_check_occurred_at(). */
#define REQ_CODE_OK                   "ok"
#define REQ_CODE_INVALID_FACTS        "invalid_facts"  /* caller or data bug */
#define REQ_CODE_FORBIDDEN_ROLE       "forbidden_role" /* role may never do it */
#define REQ_CODE_NOT_RESPONSIBLE_DEPT "not_responsible_department"
#define REQ_CODE_NOT_ASSIGNEE         "not_assignee"
#define REQ_CODE_INVALID_TRANSITION   "invalid_transition" /* not from this state */
#define REQ_CODE_SIGNOFF_REQUIRED     "signoff_required"   /* resolve needs a sign-off */
#define REQ_CODE_WORK_NOT_REPORTED    "work_not_reported"  /* sign-off before result */
#define REQ_CODE_CALLBACK_REQUIRED    "callback_required"  /* close needs a callback */
#define REQ_CODE_NOT_NIGHT_DESK       "not_night_desk"
#define REQ_CODE_ALREADY_HANDED_OVER  "already_handed_over"
#define REQ_CODE_SIGNER_NOT_QUALIFIED "signer_not_qualified"
#define REQ_CODE_EXPLANATION_REQUIRED "explanation_required"
#define REQ_CODE_PENDING_REASON_REQ   "pending_reason_required"
#define REQ_CODE_PENDING_UNTIL_REQ    "pending_until_required"
#define REQ_CODE_OCCURRED_AT_INVALID  "occurred_at_invalid"
#define REQ_CODE_OCCURRED_IN_FUTURE   "occurred_in_future"
#define REQ_CODE_OCCURRED_BEFORE_PREV "occurred_before_previous_event"
#define REQ_CODE_DECLINE_REASON_REQ   "decline_reason_required"
#define REQ_CODE_DECLINE_NOTE_REQ     "decline_note_required" /* reason "other" needs a note */
#define REQ_CODE_PROMISE_REQUIRED     "promise_time_required" /* appointment / deadline */
#define REQ_CODE_PROMISE_IN_PAST      "promise_time_in_past"
#define REQ_CODE_NOT_OWNER            "not_owner" /* hand_on by someone who does not own it */
#define REQ_CODE_HAND_ON_TARGET_REQ   "hand_on_target_required"
#define REQ_CODE_DESK_HOURS           "desk_hours" /* security dispatching in desk hours */
#define REQ_CODE_NOTICE_TARGET_REQ    "notice_target_required"

/* What the caller knows when it asks for a transition.  Strings are borrowed for the
 * duration of the call.  Zero-initialise, then fill every field that applies; note that
 * zero is a real value for the enums (pending_reason 0 is "customer": set -1 for none).
 * reopen_count, escalation_level and actor_dept_kind are not judged (the first two shape
 * the effect, core/request_effect.h) (department membership comes in as actor_in_responsible_dept).
 * needs_callback is deliberately not a fact: it is derived from type and is_valid_complaint
 * (core_request_needs_callback) so that it cannot disagree. */
typedef struct request_facts {
    /* The request. */
    request_state_t state;
    request_type_t type;
    request_channel_t channel;
    request_state_t state_before_pending; /* read only when state is pending (resume) */
    int has_active_work_order;            /* the latest work order exists (any state) */
    work_order_state_t work_order_state;  /* read only when has_active_work_order */
    int work_order_has_assignee;          /* a named technician holds the work order */
    location_kind_t location_kind;
    int is_valid_complaint; /* REQ_VALIDITY_*; read only for complaints */
    int handed_over;        /* night desk already handed it to customer service */
    int reopen_count;
    int escalation_level; /* 0 .. SLA_TOP_LEVEL; read by core_request_effect() */

    /* The acting user. */
    role_t actor_role;
    dept_kind_t actor_dept_kind;
    int actor_in_responsible_dept; /* actor belongs to the work order's department */
    int actor_is_assignee;         /* actor is the work order's named assignee */

    /* sign_off: who signed the paper or the screen (may differ from the actor, who may
     * be recording a paper work order). */
    signer_kind_t signer_kind;
    int signer_is_adult_household_member; /* resident signers: adult of that household */
    role_t signer_role;                   /* staff signers */
    dept_kind_t signer_dept_kind;         /* staff signers */
    dept_kind_t reporting_dept_kind;      /* common areas: which department reported the issue */

    /* Action arguments. */
    const char *explanation;  /* reject, close_not_responsible, giving up a callback */
    int pending_reason;       /* pend: a pending_reason_t, -1 none */
    int64_t pending_until;    /* pend: UTC seconds, 0 none */
    int callback_satisfied;   /* callback_result: rating satisfied or better */
    int decline_reason;       /* decline: a decline_reason_t, -1 none */
    const char *decline_note; /* decline: free text (required for "other") */
    int64_t promised_at;      /* set_appointment, set_deadline: UTC seconds, 0 none */
    int actor_is_owner;       /* hand_on: the actor owns the matter (or nobody does) */
    int has_hand_on_target;   /* hand_on: a staff member of the project to hand it to */
    int out_of_hours;         /* dispatch: outside the project's desk hours (SLA calendar) */
    int has_notice_target;    /* record_notification: a department or person was notified */
} request_facts_t;

/* The verdict.  On refusal ok is 0, new_state is the current state, new_work_order_state
 * is -1 and code/reason say why.  On success code is "ok".  code and reason are static
 * strings; reason is an English sentence telling the user what to do instead. */
typedef struct transition {
    int ok;
    int new_state;            /* request_state_t to store */
    int new_work_order_state; /* work_order_state_t to store, -1 = leave as it is */
    int reopen_increment;     /* add to reopen_count (0 or 1) */
    const char *code;
    const char *reason;
} transition_t;

/*
 * Judges `action` on the request described by `f`.  Checks run in this order: facts in
 * range (invalid_facts), role (forbidden_role), actor against the work order
 * (not_responsible_department, not_assignee), current state (invalid_transition), then
 * the action's own rules.  Actions:
 *
 *   dispatch        received → dispatched; a new work order in "dispatched".
 *   accept          dispatched → accepted; work order dispatched → accepted.
 *   arrive          accepted → on_site; work order accepted → on_site.
 *   report_result   on_site stays on_site; work order on_site → done_unsigned.
 *   sign_off        on_site with work order done_unsigned → resolved, work order
 *                   signed_off.  Signer rules (SPEC §3 step 4): unit → an adult member
 *                   of the household; common area → staff of the reporting department:
 *                   customer_service → agent or above, security → supervisor (班长) or
 *                   above of security, any other department → supervisor or above of
 *                   that department.  Directors and the GM qualify for every department.
 *   resolve         received/dispatched/accepted/on_site → resolved, for types that need
 *                   no work order: inquiry, suggestion, praise, and a complaint still in
 *                   received without an open work order.  Repairs, emergencies and
 *                   dispatched complaints get signoff_required.  An open work order that
 *                   has not reported a result is cancelled.
 *   pend            received/dispatched/accepted/on_site → pending.  Needs pending_reason
 *                   and pending_until > 0; the caller checks pending_until > now and
 *                   stores the current state as state_before_pending.
 *   resume          pending → state_before_pending.
 *   reject          received → rejected.  Needs a non-blank explanation.
 *   close_not_responsible  received/dispatched/accepted/on_site/pending → not_responsible.
 *                   Needs a non-blank explanation; an open work order is cancelled.
 *   start_callback  resolved → callback (every type; optional for those that need none).
 *   callback_result callback → closed when callback_satisfied, otherwise → received with
 *                   reopen_increment 1 (core_request_effect also raises the escalation level).
 *   close           resolved → closed only when no callback is needed (else
 *                   callback_required); callback → closed, which for a request that
 *                   needs a callback means giving it up and needs an explanation.
 *   reopen          resolved/callback/closed → received, reopen_increment 1.
 *   handover        no state change; only for channel night_desk, only once (the caller
 *                   sets handed_over), in any non-final state or closed.
 *   comment         no state change; any non-final state or closed.
 *   redispatch      dispatched/accepted/on_site with an open work order (also one awaiting
 *                   sign-off) → dispatched: the caller cancels that work order and creates
 *                   a new one in "dispatched" (another department or technician, or the
 *                   work again after a refused sign-off).  Desk roles only.
 *   decline         dispatched/accepted/on_site with a work order that has not reported a
 *                   result → received; the work order → declined.  Needs decline_reason
 *                   (and a non-blank decline_note for "other").  Technicians of the work
 *                   order's department (its assignee when named) and desk roles.
 *   set_appointment, set_deadline  no state change; any open state (not resolved, callback
 *                   or final).  Need promised_at > 0; the caller checks it lies ahead
 *                   (core_request_check_promise_at).  Desk roles.
 *   hand_on         no state change; any open state.  The owner (or, over them, a
 *                   supervisor or above) hands the matter to another staff member of the
 *                   project (has_hand_on_target); an agent who does not own it gets
 *                   not_owner.  Desk roles.
 *   record_notification  no state change; any state but rejected and not_responsible.
 *                   Records that someone notified a department or person (an emergency
 *                   told to the department first and the desk afterwards, the control
 *                   room's calls at night): needs has_notice_target.  Desk roles,
 *                   technicians and security.
 *
 * Out of hours (out_of_hours) security — the control room (监控中心) — may also dispatch,
 * which in the desk's hours answers desk_hours (403): the desk dispatches by day.
 *
 * Roles: resident → sign_off (as the signer: signer_kind must be resident) and comment;
 * technician → accept, arrive, report_result and decline on work orders of their own
 * department (and, when the work order has a named assignee, only the assignee),
 * record_notification and comment; agent, supervisor, manager, director, gm → every
 * action, including accept, arrive and report_result recorded on the department's behalf
 * from paper; security → handover, sign_off (recording the signer), dispatch out of hours,
 * record_notification and comment; integration → comment; clerk, auditor, admin →
 * nothing.  `f` is borrowed; NULL yields invalid_facts.
 */
transition_t core_request_transition(const request_facts_t *f, request_action_t action);

/* Whether a resolved request of this type needs a callback before it closes (SPEC §5):
 * every repair and emergency, complaints unless judged not valid (validity unknown
 * counts as valid); never inquiries, suggestions, praise.  1 or 0. */
int core_request_needs_callback(request_type_t type, int is_valid_complaint);
/* closed, rejected, not_responsible → 1; other states → 0; out of range → 0. */
int core_request_is_final(request_state_t state);
/* A valid state that is not final (resolved and callback count as open) → 1; else 0. */
int core_request_is_open(request_state_t state);
/* Prefix of the human-readable number (受理编号): complaint "TS", repair "BX", inquiry
 * "ZX", suggestion "JY", praise "BY", emergency "TF"; NULL when out of range.  The caller
 * formats the number, e.g. "TS-2026-000123". */
const char *core_request_number_prefix(request_type_t type);

/* HTTP status for a code above: ok 200; forbidden_role, not_responsible_department,
 * not_assignee 403; state conflicts 409; missing or bad arguments 422; anything else
 * (invalid_facts, unknown, NULL) 500. */
int core_request_code_http_status(const char *code);

/* Tolerated clock skew between a client's clock and the server's, in seconds. */
#define CORE_REQUEST_CLOCK_SKEW_S 60

/* Checks the time a staff member says an event really happened (paper records entered
 * later, SPEC §3): never in the future — more than CORE_REQUEST_CLOCK_SKEW_S seconds
 * after `now`, so that a device clock a little ahead is not refused — and never before
 * the request's previous event.  All times are UTC seconds; occurred_at must be > 0;
 * previous_event_at <= 0 means there is no previous event.  Returns 0 when acceptable,
 * -1 otherwise; *code and *reason (each may be NULL) receive static strings either way. */
int core_request_check_occurred_at(int64_t occurred_at, int64_t previous_event_at, int64_t now,
                                   const char **code, const char **reason);

/* Checks the time the desk tells a customer (an appointment, an approximate deadline):
 * given (> 0) and after `now` (UTC seconds).  0 when acceptable, -1 otherwise; *code and
 * *reason (each may be NULL) receive static strings either way. */
int core_request_check_promise_at(int64_t at, int64_t now, const char **code, const char **reason);

/* 返修 (RULES §2 #10): a repair is a repeat of a previous repair of the same unit and
 * category when that one closed at most CORE_REQUEST_REPEAT_WINDOW_S before the new one
 * was received (and not after it).  The SQL trigger request_intake_flow() applies the same
 * rule at intake.  1 or 0. */
#define CORE_REQUEST_REPEAT_WINDOW_S (30 * 86400)
int core_request_is_repeat(request_type_t type, location_kind_t location,
                           int64_t previous_closed_at, int64_t received_at);

/* 重要投诉 / 重大投诉: the ladder level that hears of a complaint of this severity at once —
 * important: 3 (the project director, 物业服务中心主任), major: ROLE_LADDER_TOP (the GM);
 * general and anything else: -1.  The SQL trigger request_severity_routing() notifies
 * level 3; a major complaint reaches the GM through its SLA policy and the sweeper. */
int core_request_severity_ladder_level(int severity);

/* Where a dispatch goes (责任区, 002 第15篇 4.2.4): to the department the desk names
 * (GIVEN); when it names none, a repair or emergency of a common area goes to the
 * responsible department and person of the zone of that name (ZONE), else to the project's
 * engineering department, whose technician on duty accepts it and becomes its assignee
 * (DUTY); anything else, or when neither exists, needs a department (NONE). */
typedef enum { REQ_ROUTE_GIVEN, REQ_ROUTE_ZONE, REQ_ROUTE_DUTY, REQ_ROUTE_NONE } request_route_t;
request_route_t core_request_dispatch_route(request_type_t type, location_kind_t location,
                                            int department_given, int zone_found, int duty_found);

/* The rework rate in per mille (repeat repairs per 1000 repairs, rounded half up);
 * 0 when there were no repairs. */
int core_request_rework_permille(long long repairs, long long repeats);

/* core_request_<enum>_name(), _from_string() and _list() (see core/strtab.h). */
CORE_STRTAB_DECLS(core_request_type, request_type_t)
CORE_STRTAB_DECLS(core_request_channel, request_channel_t)
CORE_STRTAB_DECLS(core_request_severity, request_severity_t)
CORE_STRTAB_DECLS(core_request_category, request_category_t)
CORE_STRTAB_DECLS(core_request_location_kind, location_kind_t)
CORE_STRTAB_DECLS(core_request_state, request_state_t)
CORE_STRTAB_DECLS(core_request_pending_reason, pending_reason_t)
CORE_STRTAB_DECLS(core_request_work_order_state, work_order_state_t)
CORE_STRTAB_DECLS(core_request_signer_kind, signer_kind_t)
CORE_STRTAB_DECLS(core_request_action, request_action_t)
CORE_STRTAB_DECLS(core_request_decline_reason, decline_reason_t)

#endif
