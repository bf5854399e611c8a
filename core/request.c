/*
 * core/request.c — the request lifecycle state machine (SPEC §3, §5): string tables,
 * the role × action table, and core_request_transition(), which checks role, actor,
 * state and the action's own rules in that order and names the first rule broken.
 */
#include "core/request.h"
#include "core/strtab.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* ---- string tables ---------------------------------------------------------------- */

static const char *const type_names[REQ_TYPE__COUNT] = {
    [REQ_TYPE_COMPLAINT] = "complaint", [REQ_TYPE_REPAIR] = "repair",
    [REQ_TYPE_INQUIRY] = "inquiry",     [REQ_TYPE_SUGGESTION] = "suggestion",
    [REQ_TYPE_PRAISE] = "praise",       [REQ_TYPE_EMERGENCY] = "emergency",
};

static const char *const channel_names[REQ_CHANNEL__COUNT] = {
    [REQ_CHANNEL_PHONE] = "phone",   [REQ_CHANNEL_VISIT] = "visit",
    [REQ_CHANNEL_LETTER] = "letter", [REQ_CHANNEL_FAX] = "fax",
    [REQ_CHANNEL_APP] = "app",       [REQ_CHANNEL_WEB] = "web",
    [REQ_CHANNEL_EMAIL] = "email",   [REQ_CHANNEL_NIGHT_DESK] = "night_desk",
    [REQ_CHANNEL_PATROL] = "patrol", [REQ_CHANNEL_INTEGRATION] = "integration",
    [REQ_CHANNEL_SURVEY] = "survey", [REQ_CHANNEL_OTHER] = "other",
};

static const char *const severity_names[REQ_SEVERITY__COUNT] = {
    [REQ_SEVERITY_MAJOR] = "major",
    [REQ_SEVERITY_IMPORTANT] = "important",
    [REQ_SEVERITY_GENERAL] = "general",
};

static const char *const category_names[REQ_CATEGORY__COUNT] = {
    [REQ_CATEGORY_ATTITUDE] = "attitude",
    [REQ_CATEGORY_TIMELINESS] = "timeliness",
    [REQ_CATEGORY_QUALITY] = "quality",
    [REQ_CATEGORY_SERVICE_RANGE] = "service_range",
    [REQ_CATEGORY_DEVELOPER_LEGACY] = "developer_legacy",
    [REQ_CATEGORY_FEES] = "fees",
    [REQ_CATEGORY_OTHER] = "other",
};

static const char *const location_kind_names[REQ_LOCATION__COUNT] = {
    [REQ_LOCATION_UNIT] = "unit",
    [REQ_LOCATION_COMMON_AREA] = "common_area",
};

static const char *const state_names[REQ_STATE__COUNT] = {
    [REQ_STATE_RECEIVED] = "received", [REQ_STATE_DISPATCHED] = "dispatched",
    [REQ_STATE_ACCEPTED] = "accepted", [REQ_STATE_ON_SITE] = "on_site",
    [REQ_STATE_PENDING] = "pending",   [REQ_STATE_RESOLVED] = "resolved",
    [REQ_STATE_CALLBACK] = "callback", [REQ_STATE_CLOSED] = "closed",
    [REQ_STATE_REJECTED] = "rejected", [REQ_STATE_NOT_RESPONSIBLE] = "not_responsible",
};

static const char *const pending_reason_names[REQ_PENDING__COUNT] = {
    [REQ_PENDING_CUSTOMER] = "customer", [REQ_PENDING_APPOINTMENT] = "appointment",
    [REQ_PENDING_PARTS] = "parts",       [REQ_PENDING_DEVELOPER] = "developer",
    [REQ_PENDING_OTHER] = "other",
};

static const char *const work_order_state_names[WO_STATE__COUNT] = {
    [WO_STATE_DISPATCHED] = "dispatched", [WO_STATE_ACCEPTED] = "accepted",
    [WO_STATE_ON_SITE] = "on_site",       [WO_STATE_DONE_UNSIGNED] = "done_unsigned",
    [WO_STATE_SIGNED_OFF] = "signed_off", [WO_STATE_CANCELLED] = "cancelled",
    [WO_STATE_DECLINED] = "declined",
};

static const char *const decline_reason_names[DECLINE__COUNT] = {
    [DECLINE_NOT_OURS] = "not_ours",
    [DECLINE_PARTS] = "parts",
    [DECLINE_NO_ACCESS] = "no_access",
    [DECLINE_OTHER] = "other",
};

static const char *const signer_kind_names[SIGNER__COUNT] = {
    [SIGNER_NONE] = "none",
    [SIGNER_RESIDENT] = "resident",
    [SIGNER_STAFF] = "staff",
};

static const char *const action_names[REQ_ACTION__COUNT] = {
    [REQ_ACTION_DISPATCH] = "dispatch",
    [REQ_ACTION_REDISPATCH] = "redispatch",
    [REQ_ACTION_ACCEPT] = "accept",
    [REQ_ACTION_ARRIVE] = "arrive",
    [REQ_ACTION_REPORT_RESULT] = "report_result",
    [REQ_ACTION_SIGN_OFF] = "sign_off",
    [REQ_ACTION_RESOLVE] = "resolve",
    [REQ_ACTION_PEND] = "pend",
    [REQ_ACTION_RESUME] = "resume",
    [REQ_ACTION_REJECT] = "reject",
    [REQ_ACTION_CLOSE_NOT_RESPONSIBLE] = "close_not_responsible",
    [REQ_ACTION_START_CALLBACK] = "start_callback",
    [REQ_ACTION_CALLBACK_RESULT] = "callback_result",
    [REQ_ACTION_CLOSE] = "close",
    [REQ_ACTION_REOPEN] = "reopen",
    [REQ_ACTION_HANDOVER] = "handover",
    [REQ_ACTION_COMMENT] = "comment",
    [REQ_ACTION_DECLINE] = "decline",
    [REQ_ACTION_SET_APPOINTMENT] = "set_appointment",
    [REQ_ACTION_SET_DEADLINE] = "set_deadline",
    [REQ_ACTION_HAND_ON] = "hand_on",
    [REQ_ACTION_RECORD_NOTIFICATION] = "record_notification",
};

static const char *name_of(const char *const *names, int n, int v)
{
    if (v < 0 || v >= n)
        return NULL;
    return names[v];
}

#define STRING_TABLE(fn, type_t, names, count)                                                     \
    CORE_STRTAB_FUNCS(core_request_##fn, type_t, names, count)

STRING_TABLE(type, request_type_t, type_names, REQ_TYPE__COUNT)
STRING_TABLE(channel, request_channel_t, channel_names, REQ_CHANNEL__COUNT)
STRING_TABLE(severity, request_severity_t, severity_names, REQ_SEVERITY__COUNT)
STRING_TABLE(category, request_category_t, category_names, REQ_CATEGORY__COUNT)
STRING_TABLE(location_kind, location_kind_t, location_kind_names, REQ_LOCATION__COUNT)
STRING_TABLE(state, request_state_t, state_names, REQ_STATE__COUNT)
STRING_TABLE(pending_reason, pending_reason_t, pending_reason_names, REQ_PENDING__COUNT)
STRING_TABLE(work_order_state, work_order_state_t, work_order_state_names, WO_STATE__COUNT)
STRING_TABLE(signer_kind, signer_kind_t, signer_kind_names, SIGNER__COUNT)
STRING_TABLE(action, request_action_t, action_names, REQ_ACTION__COUNT)
STRING_TABLE(decline_reason, decline_reason_t, decline_reason_names, DECLINE__COUNT)

/* ---- simple predicates ------------------------------------------------------------ */

int core_request_needs_callback(request_type_t type, int is_valid_complaint)
{
    switch (type) {
    case REQ_TYPE_REPAIR:
    case REQ_TYPE_EMERGENCY:
        return 1;
    case REQ_TYPE_COMPLAINT:
        /* Unknown validity counts as valid: a callback too many is cheaper than a
         * valid complaint left without its 100 % callback (SPEC §5). */
        return is_valid_complaint != REQ_VALIDITY_INVALID;
    default:
        return 0;
    }
}

int core_request_is_final(request_state_t state)
{
    return state == REQ_STATE_CLOSED || state == REQ_STATE_REJECTED ||
           state == REQ_STATE_NOT_RESPONSIBLE;
}

int core_request_is_open(request_state_t state)
{
    return (unsigned)state < REQ_STATE__COUNT && !core_request_is_final(state);
}

const char *core_request_number_prefix(request_type_t type)
{
    static const char *const prefixes[REQ_TYPE__COUNT] = {
        [REQ_TYPE_COMPLAINT] = "TS",  [REQ_TYPE_REPAIR] = "BX", [REQ_TYPE_INQUIRY] = "ZX",
        [REQ_TYPE_SUGGESTION] = "JY", [REQ_TYPE_PRAISE] = "BY", [REQ_TYPE_EMERGENCY] = "TF",
    };
    return name_of(prefixes, REQ_TYPE__COUNT, (int)type);
}

int core_request_code_http_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {REQ_CODE_OK, 200},
        {REQ_CODE_FORBIDDEN_ROLE, 403},
        {REQ_CODE_NOT_RESPONSIBLE_DEPT, 403},
        {REQ_CODE_NOT_ASSIGNEE, 403},
        {REQ_CODE_INVALID_TRANSITION, 409},
        {REQ_CODE_SIGNOFF_REQUIRED, 409},
        {REQ_CODE_WORK_NOT_REPORTED, 409},
        {REQ_CODE_CALLBACK_REQUIRED, 409},
        {REQ_CODE_NOT_NIGHT_DESK, 409},
        {REQ_CODE_ALREADY_HANDED_OVER, 409},
        {REQ_CODE_SIGNER_NOT_QUALIFIED, 422},
        {REQ_CODE_EXPLANATION_REQUIRED, 422},
        {REQ_CODE_PENDING_REASON_REQ, 422},
        {REQ_CODE_PENDING_UNTIL_REQ, 422},
        {REQ_CODE_OCCURRED_AT_INVALID, 422},
        {REQ_CODE_OCCURRED_IN_FUTURE, 422},
        {REQ_CODE_OCCURRED_BEFORE_PREV, 422},
        {REQ_CODE_DECLINE_REASON_REQ, 422},
        {REQ_CODE_DECLINE_NOTE_REQ, 422},
        {REQ_CODE_PROMISE_REQUIRED, 422},
        {REQ_CODE_PROMISE_IN_PAST, 422},
        {REQ_CODE_NOT_OWNER, 403},
        {REQ_CODE_HAND_ON_TARGET_REQ, 422},
        {REQ_CODE_DESK_HOURS, 403},
        {REQ_CODE_NOTICE_TARGET_REQ, 422},
    };
    if (!code)
        return 500;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].code, code) == 0)
            return map[i].status;
    return 500;
}

int core_request_check_occurred_at(int64_t occurred_at, int64_t previous_event_at, int64_t now,
                                   const char **code, const char **reason)
{
    const char *c = REQ_CODE_OK;
    const char *r = "The time is acceptable.";
    int rc = 0;

    if (occurred_at <= 0) {
        c = REQ_CODE_OCCURRED_AT_INVALID;
        r = "Give the time the event happened as a positive UTC timestamp.";
        rc = -1;
        /* Written as a subtraction-free comparison so that no input can overflow. */
    } else if (now < INT64_MAX - CORE_REQUEST_CLOCK_SKEW_S &&
               occurred_at > now + CORE_REQUEST_CLOCK_SKEW_S) {
        c = REQ_CODE_OCCURRED_IN_FUTURE;
        r = "The time lies in the future: give the time the event really happened.";
        rc = -1;
    } else if (previous_event_at > 0 && occurred_at < previous_event_at) {
        c = REQ_CODE_OCCURRED_BEFORE_PREV;
        r = "The time lies before the request's previous event: give a time after it.";
        rc = -1;
    }
    if (code)
        *code = c;
    if (reason)
        *reason = r;
    return rc;
}

int core_request_check_promise_at(int64_t at, int64_t now, const char **code, const char **reason)
{
    const char *c = REQ_CODE_OK, *r = "The time is acceptable.";
    int rc = 0;
    if (at <= 0) {
        c = REQ_CODE_PROMISE_REQUIRED;
        r = "Say when: give the time told to the customer.";
        rc = -1;
    } else if (at <= now) {
        c = REQ_CODE_PROMISE_IN_PAST;
        r = "The time told to the customer must lie in the future.";
        rc = -1;
    }
    if (code)
        *code = c;
    if (reason)
        *reason = r;
    return rc;
}

int core_request_is_repeat(request_type_t type, location_kind_t location,
                           int64_t previous_closed_at, int64_t received_at)
{
    if (type != REQ_TYPE_REPAIR || location != REQ_LOCATION_UNIT || previous_closed_at <= 0 ||
        previous_closed_at > received_at)
        return 0;
    return received_at - previous_closed_at <= CORE_REQUEST_REPEAT_WINDOW_S;
}

int core_request_severity_ladder_level(int severity)
{
    switch (severity) {
    case REQ_SEVERITY_IMPORTANT:
        return core_role_ladder_level(ROLE_DIRECTOR);
    case REQ_SEVERITY_MAJOR:
        return ROLE_LADDER_TOP;
    default:
        return -1;
    }
}

request_route_t core_request_dispatch_route(request_type_t type, location_kind_t location,
                                            int department_given, int zone_found, int duty_found)
{
    if (department_given)
        return REQ_ROUTE_GIVEN;
    if ((type != REQ_TYPE_REPAIR && type != REQ_TYPE_EMERGENCY) ||
        location != REQ_LOCATION_COMMON_AREA)
        return REQ_ROUTE_NONE;
    if (zone_found)
        return REQ_ROUTE_ZONE;
    return duty_found ? REQ_ROUTE_DUTY : REQ_ROUTE_NONE;
}

int core_request_rework_permille(long long repairs, long long repeats)
{
    if (repairs <= 0 || repeats <= 0)
        return 0;
    if (repeats > repairs)
        repeats = repairs;
    return (int)((repeats * 1000 * 2 + repairs) / (repairs * 2));
}

/* ---- the state machine ------------------------------------------------------------ */

#define A(x)        (1u << (REQ_ACTION_##x))
#define ALL_ACTIONS ((1u << REQ_ACTION__COUNT) - 1u)

/* Which actions each role may ever take.  Scope (which request) is core/authz's job. */
static const unsigned role_actions[ROLE__COUNT] = {
    [ROLE_RESIDENT] = A(SIGN_OFF) | A(COMMENT),
    [ROLE_AGENT] = ALL_ACTIONS,
    [ROLE_TECHNICIAN] =
        A(ACCEPT) | A(ARRIVE) | A(REPORT_RESULT) | A(COMMENT) | A(DECLINE) | A(RECORD_NOTIFICATION),
    [ROLE_SECURITY] = A(HANDOVER) | A(SIGN_OFF) | A(COMMENT) | A(DISPATCH) | A(RECORD_NOTIFICATION),
    [ROLE_SUPERVISOR] = ALL_ACTIONS,
    [ROLE_MANAGER] = ALL_ACTIONS,
    [ROLE_DIRECTOR] = ALL_ACTIONS,
    [ROLE_GM] = ALL_ACTIONS,
    [ROLE_CLERK] = 0,
    [ROLE_INTEGRATION] = A(COMMENT),
    [ROLE_AUDITOR] = 0,
    [ROLE_ADMIN] = 0,
};

static transition_t refuse(const request_facts_t *f, const char *code, const char *reason)
{
    transition_t t = {0, f ? (int)f->state : -1, -1, 0, code, reason};
    return t;
}

static transition_t allow(int new_state, int new_wo_state, int reopen_increment)
{
    transition_t t = {
        1, new_state, new_wo_state, reopen_increment, REQ_CODE_OK, "The action is allowed."};
    return t;
}

static int blank(const char *s)
{
    if (!s)
        return 1;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

/* A work order that still has work to do or a result to sign. */
static int wo_open(const request_facts_t *f)
{
    return f->has_active_work_order && f->work_order_state != WO_STATE_SIGNED_OFF &&
           f->work_order_state != WO_STATE_CANCELLED && f->work_order_state != WO_STATE_DECLINED;
}

/* States in which a request is being handled and has not been resolved yet. */
static int in_progress(request_state_t s)
{
    return s == REQ_STATE_RECEIVED || s == REQ_STATE_DISPATCHED || s == REQ_STATE_ACCEPTED ||
           s == REQ_STATE_ON_SITE;
}

static int facts_in_range(const request_facts_t *f)
{
    if ((unsigned)f->state >= REQ_STATE__COUNT || (unsigned)f->type >= REQ_TYPE__COUNT ||
        (unsigned)f->channel >= REQ_CHANNEL__COUNT ||
        (unsigned)f->location_kind >= REQ_LOCATION__COUNT || (unsigned)f->actor_role >= ROLE__COUNT)
        return 0;
    if (f->has_active_work_order && (unsigned)f->work_order_state >= WO_STATE__COUNT)
        return 0;
    return 1;
}

/* NULL when the signer may sign this work order, else the reason they may not. */
static const char *signer_problem(const request_facts_t *f)
{
    if (f->location_kind == REQ_LOCATION_UNIT) {
        if (f->signer_kind != SIGNER_RESIDENT)
            return "Work in a unit must be signed off by an adult member of the household.";
        if (!f->signer_is_adult_household_member)
            return "The signer must be an adult member of the household: ask an adult of the "
                   "household to sign.";
        return NULL;
    }
    if (f->signer_kind != SIGNER_STAFF)
        return "Work on a common facility must be signed off by staff of the department that "
               "reported it.";
    int level = core_role_ladder_level(f->signer_role);
    /* Directors and the GM stand over every department of the project. */
    int over_all = level >= core_role_ladder_level(ROLE_DIRECTOR);
    switch (f->reporting_dept_kind) {
    case DEPT_CUSTOMER_SERVICE:
        if (level < 0 || (!over_all && f->signer_dept_kind != DEPT_CUSTOMER_SERVICE))
            return "Customer service reported this facility: an agent or above of customer "
                   "service must sign off.";
        return NULL;
    case DEPT_SECURITY:
        if (level < 1 || (!over_all && f->signer_dept_kind != DEPT_SECURITY))
            return "Security reported this facility: a security team leader (supervisor) or "
                   "above must sign off.";
        return NULL;
    default:
        if (level < 1 || (!over_all && f->signer_dept_kind != f->reporting_dept_kind))
            return "A supervisor or above of the department that reported this facility must "
                   "sign off.";
        return NULL;
    }
}

static transition_t sign_off(const request_facts_t *f)
{
    if (f->state != REQ_STATE_ON_SITE || !f->has_active_work_order)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      f->state == REQ_STATE_PENDING
                          ? "The request is pending: resume it before recording the sign-off."
                          : "Only work that is on site and reported done can be signed off.");
    switch (f->work_order_state) {
    case WO_STATE_DISPATCHED:
    case WO_STATE_ACCEPTED:
    case WO_STATE_ON_SITE:
        return refuse(f, REQ_CODE_WORK_NOT_REPORTED,
                      "The work has not been reported done: report the result first, then "
                      "record the sign-off.");
    case WO_STATE_DONE_UNSIGNED:
        break;
    default:
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "The work order is already signed off or cancelled.");
    }
    if (f->actor_role == ROLE_RESIDENT && f->signer_kind != SIGNER_RESIDENT)
        return refuse(f, REQ_CODE_SIGNER_NOT_QUALIFIED,
                      "A resident can only sign off as themselves.");
    if (f->location_kind == REQ_LOCATION_COMMON_AREA && f->signer_kind == SIGNER_STAFF &&
        ((unsigned)f->reporting_dept_kind >= DEPT__COUNT ||
         (unsigned)f->signer_role >= ROLE__COUNT || (unsigned)f->signer_dept_kind >= DEPT__COUNT))
        return refuse(f, REQ_CODE_INVALID_FACTS,
                      "The signer or the reporting department is not a known value.");
    const char *why = signer_problem(f);
    if (why)
        return refuse(f, REQ_CODE_SIGNER_NOT_QUALIFIED, why);
    return allow(REQ_STATE_RESOLVED, WO_STATE_SIGNED_OFF, 0);
}

static transition_t resolve(const request_facts_t *f)
{
    if (!in_progress(f->state))
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a request that is being handled can be resolved.");
    switch (f->type) {
    case REQ_TYPE_REPAIR:
    case REQ_TYPE_EMERGENCY:
        return refuse(f, REQ_CODE_SIGNOFF_REQUIRED,
                      "This request is resolved only by a signed-off work order: dispatch it, "
                      "report the result, then record the sign-off.");
    case REQ_TYPE_COMPLAINT:
        if (f->state != REQ_STATE_RECEIVED || wo_open(f))
            return refuse(f, REQ_CODE_SIGNOFF_REQUIRED,
                          "This complaint was dispatched: it is resolved by signing off its "
                          "work order.");
        break;
    default:
        break;
    }
    /* The desk answered it: withdraw a work order that has not reported a result; a
     * reported one keeps its state as the record of the work done. */
    int wo = wo_open(f) && f->work_order_state != WO_STATE_DONE_UNSIGNED ? WO_STATE_CANCELLED : -1;
    return allow(REQ_STATE_RESOLVED, wo, 0);
}

/* Technicians act only on their own department's work orders, and only the named
 * assignee when there is one.  Desk staff record these steps from paper unchecked.
 * Returns NULL when the actor may act, else the reason; *code gets the code. */
static const char *actor_problem(const request_facts_t *f, request_action_t a, const char **code)
{
    /* 001: at night the control room registers and notifies the departments itself. */
    if (f->actor_role == ROLE_SECURITY && a == REQ_ACTION_DISPATCH && !f->out_of_hours) {
        *code = REQ_CODE_DESK_HOURS;
        return "During the desk's hours the desk dispatches; the control room dispatches only "
               "outside them.";
    }
    if (f->actor_role != ROLE_TECHNICIAN ||
        (a != REQ_ACTION_ACCEPT && a != REQ_ACTION_ARRIVE && a != REQ_ACTION_REPORT_RESULT &&
         a != REQ_ACTION_DECLINE))
        return NULL;
    if (!f->actor_in_responsible_dept) {
        *code = REQ_CODE_NOT_RESPONSIBLE_DEPT;
        return "This work order belongs to another department: only its technicians may act "
               "on it.";
    }
    if (f->work_order_has_assignee && !f->actor_is_assignee) {
        *code = REQ_CODE_NOT_ASSIGNEE;
        return "This work order is assigned to another technician: ask the desk to reassign "
               "it.";
    }
    return NULL;
}

/* ---- one check per action: state and the action's own rules ------------------------ */

typedef transition_t (*action_check_t)(const request_facts_t *f);

static transition_t check_dispatch(const request_facts_t *f)
{
    if (f->state != REQ_STATE_RECEIVED || wo_open(f))
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a received request without an open work order can be dispatched.");
    return allow(REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED, 0);
}

/* The open work order went to the wrong department or technician, or its work was
 * refused at sign-off: the desk cancels it and sends a new one.  The request's own
 * clocks keep running from the first dispatch. */
static transition_t check_redispatch(const request_facts_t *f)
{
    const request_state_t s = f->state;
    if ((s != REQ_STATE_DISPATCHED && s != REQ_STATE_ACCEPTED && s != REQ_STATE_ON_SITE) ||
        !wo_open(f))
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a request whose work order is still open (dispatched, accepted, "
                      "on site or awaiting sign-off) can be re-dispatched.");
    return allow(REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED, 0);
}

/* accept, arrive, report_result: one step of the work order, from `from` (request
 * state) with the work order in `wo_from`. */
static transition_t work_step(const request_facts_t *f, request_state_t from,
                              work_order_state_t wo_from, request_state_t to,
                              work_order_state_t wo_to, const char *why)
{
    if (f->state != from || !f->has_active_work_order || f->work_order_state != wo_from)
        return refuse(f, REQ_CODE_INVALID_TRANSITION, why);
    return allow(to, wo_to, 0);
}

static transition_t check_accept(const request_facts_t *f)
{
    return work_step(f, REQ_STATE_DISPATCHED, WO_STATE_DISPATCHED, REQ_STATE_ACCEPTED,
                     WO_STATE_ACCEPTED, "Only a dispatched work order can be accepted.");
}

static transition_t check_arrive(const request_facts_t *f)
{
    return work_step(f, REQ_STATE_ACCEPTED, WO_STATE_ACCEPTED, REQ_STATE_ON_SITE, WO_STATE_ON_SITE,
                     "Accept the work order before recording the arrival.");
}

static transition_t check_report_result(const request_facts_t *f)
{
    return work_step(f, REQ_STATE_ON_SITE, WO_STATE_ON_SITE, REQ_STATE_ON_SITE,
                     WO_STATE_DONE_UNSIGNED,
                     "A result can be reported once, after arriving on site.");
}

static transition_t check_pend(const request_facts_t *f)
{
    if (!in_progress(f->state))
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a request that is being handled can be put on hold.");
    if (f->pending_reason < 0 || f->pending_reason >= REQ_PENDING__COUNT)
        return refuse(f, REQ_CODE_PENDING_REASON_REQ,
                      "Say what the request waits for: customer, appointment, parts, "
                      "developer or other.");
    if (f->pending_until <= 0)
        return refuse(f, REQ_CODE_PENDING_UNTIL_REQ, "Say until when the request waits.");
    return allow(REQ_STATE_PENDING, -1, 0);
}

static transition_t check_resume(const request_facts_t *f)
{
    if (f->state != REQ_STATE_PENDING)
        return refuse(f, REQ_CODE_INVALID_TRANSITION, "Only a pending request can resume.");
    if (!in_progress(f->state_before_pending))
        return refuse(f, REQ_CODE_INVALID_FACTS,
                      "The state before pending is not one a request can wait in.");
    return allow(f->state_before_pending, -1, 0);
}

static transition_t check_reject(const request_facts_t *f)
{
    if (f->state != REQ_STATE_RECEIVED)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a request that has just been received can be rejected; close "
                      "it as not responsible instead.");
    if (blank(f->explanation))
        return refuse(f, REQ_CODE_EXPLANATION_REQUIRED,
                      "Give the reason for the rejection; it is told to the customer.");
    return allow(REQ_STATE_REJECTED, -1, 0);
}

static transition_t check_close_not_responsible(const request_facts_t *f)
{
    if (!in_progress(f->state) && f->state != REQ_STATE_PENDING)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a request that is being handled can be closed as not the "
                      "company's responsibility.");
    if (blank(f->explanation))
        return refuse(f, REQ_CODE_EXPLANATION_REQUIRED,
                      "Explain to the customer why this is not the company's "
                      "responsibility.");
    return allow(REQ_STATE_NOT_RESPONSIBLE, wo_open(f) ? WO_STATE_CANCELLED : -1, 0);
}

static transition_t check_start_callback(const request_facts_t *f)
{
    if (f->state != REQ_STATE_RESOLVED)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "A callback starts only once the request is resolved.");
    return allow(REQ_STATE_CALLBACK, -1, 0);
}

static transition_t check_callback_result(const request_facts_t *f)
{
    if (f->state != REQ_STATE_CALLBACK)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Start the callback before recording its result.");
    if (f->callback_satisfied)
        return allow(REQ_STATE_CLOSED, -1, 0);
    return allow(REQ_STATE_RECEIVED, -1, 1);
}

static transition_t check_close(const request_facts_t *f)
{
    int needs = core_request_needs_callback(f->type, f->is_valid_complaint);
    if (f->state == REQ_STATE_RESOLVED) {
        if (needs)
            return refuse(f, REQ_CODE_CALLBACK_REQUIRED,
                          "This request needs a callback: start it and record the "
                          "customer's answer.");
        return allow(REQ_STATE_CLOSED, -1, 0);
    }
    if (f->state == REQ_STATE_CALLBACK) {
        if (needs && blank(f->explanation))
            return refuse(f, REQ_CODE_EXPLANATION_REQUIRED,
                          "Closing without a callback result gives the callback up: say "
                          "why.");
        return allow(REQ_STATE_CLOSED, -1, 0);
    }
    return refuse(f, REQ_CODE_INVALID_TRANSITION,
                  "Only a resolved request or one in callback can be closed.");
}

static transition_t check_reopen(const request_facts_t *f)
{
    const request_state_t s = f->state;
    if (s != REQ_STATE_RESOLVED && s != REQ_STATE_CALLBACK && s != REQ_STATE_CLOSED)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a resolved or closed request can be reopened.");
    return allow(REQ_STATE_RECEIVED, -1, 1);
}

static transition_t check_handover(const request_facts_t *f)
{
    if (core_request_is_final(f->state) && f->state != REQ_STATE_CLOSED)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "This action is not possible in the request's current state.");
    if (f->channel != REQ_CHANNEL_NIGHT_DESK)
        return refuse(f, REQ_CODE_NOT_NIGHT_DESK,
                      "Only requests taken by the night desk are handed over.");
    if (f->handed_over)
        return refuse(f, REQ_CODE_ALREADY_HANDED_OVER,
                      "This request has already been handed over to customer service.");
    return allow(f->state, -1, 0);
}

static transition_t check_comment(const request_facts_t *f)
{
    if (core_request_is_final(f->state) && f->state != REQ_STATE_CLOSED)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "A rejected request, or one closed as not responsible, takes no "
                      "more comments.");
    return allow(f->state, -1, 0);
}

/* The department or technician refuses the work order (拒绝接单, a scored fault in seed
 * 001): it goes back to the desk, which dispatches it again. */
static transition_t check_decline(const request_facts_t *f)
{
    const request_state_t s = f->state;
    if ((s != REQ_STATE_DISPATCHED && s != REQ_STATE_ACCEPTED && s != REQ_STATE_ON_SITE) ||
        !wo_open(f) || f->work_order_state == WO_STATE_DONE_UNSIGNED)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a work order that is dispatched, accepted or on site and has not "
                      "reported a result can be declined.");
    if (f->decline_reason < 0 || f->decline_reason >= DECLINE__COUNT)
        return refuse(f, REQ_CODE_DECLINE_REASON_REQ,
                      "Say why the work order is declined: not_ours, parts, no_access or other.");
    if (f->decline_reason == DECLINE_OTHER && blank(f->decline_note))
        return refuse(f, REQ_CODE_DECLINE_NOTE_REQ,
                      "A decline for another reason needs a note saying what it is.");
    return allow(REQ_STATE_RECEIVED, WO_STATE_DECLINED, 0);
}

/* Open and not yet answered: the desk can still tell the customer when someone comes. */
static int awaiting_service(request_state_t s)
{
    return in_progress(s) || s == REQ_STATE_PENDING;
}

static transition_t check_promise(const request_facts_t *f)
{
    if (!awaiting_service(f->state))
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "An appointment or a deadline is told only while the request is being "
                      "handled.");
    if (f->promised_at <= 0)
        return refuse(f, REQ_CODE_PROMISE_REQUIRED,
                      "Say when: give the time told to the customer.");
    return allow(f->state, -1, 0);
}

/* 首问负责制: whoever first received the matter owns it until they hand it on; a
 * supervisor or above may hand on a matter that someone else owns. */
static transition_t check_hand_on(const request_facts_t *f)
{
    if (!awaiting_service(f->state))
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "Only a request that is being handled can be handed on.");
    if (!f->actor_is_owner &&
        core_role_ladder_level(f->actor_role) < core_role_ladder_level(ROLE_SUPERVISOR))
        return refuse(f, REQ_CODE_NOT_OWNER,
                      "Only the person who owns this matter (or a supervisor) can hand it on.");
    if (!f->has_hand_on_target)
        return refuse(f, REQ_CODE_HAND_ON_TARGET_REQ,
                      "Name the staff member of the project who takes the matter on.");
    return allow(f->state, -1, 0);
}

/* Who notified whom, when: kept on the request as it happened (an emergency is told to the
 * department first and to the desk afterwards). */
static transition_t check_record_notification(const request_facts_t *f)
{
    if (core_request_is_final(f->state) && f->state != REQ_STATE_CLOSED)
        return refuse(f, REQ_CODE_INVALID_TRANSITION,
                      "A rejected request, or one closed as not responsible, records no more "
                      "notifications.");
    if (!f->has_notice_target)
        return refuse(f, REQ_CODE_NOTICE_TARGET_REQ,
                      "Name the department or the person who was notified.");
    return allow(f->state, -1, 0);
}

static const action_check_t action_checks[REQ_ACTION__COUNT] = {
    [REQ_ACTION_DISPATCH] = check_dispatch,
    [REQ_ACTION_REDISPATCH] = check_redispatch,
    [REQ_ACTION_ACCEPT] = check_accept,
    [REQ_ACTION_ARRIVE] = check_arrive,
    [REQ_ACTION_REPORT_RESULT] = check_report_result,
    [REQ_ACTION_SIGN_OFF] = sign_off,
    [REQ_ACTION_RESOLVE] = resolve,
    [REQ_ACTION_PEND] = check_pend,
    [REQ_ACTION_RESUME] = check_resume,
    [REQ_ACTION_REJECT] = check_reject,
    [REQ_ACTION_CLOSE_NOT_RESPONSIBLE] = check_close_not_responsible,
    [REQ_ACTION_START_CALLBACK] = check_start_callback,
    [REQ_ACTION_CALLBACK_RESULT] = check_callback_result,
    [REQ_ACTION_CLOSE] = check_close,
    [REQ_ACTION_REOPEN] = check_reopen,
    [REQ_ACTION_HANDOVER] = check_handover,
    [REQ_ACTION_COMMENT] = check_comment,
    [REQ_ACTION_DECLINE] = check_decline,
    [REQ_ACTION_SET_APPOINTMENT] = check_promise,
    [REQ_ACTION_SET_DEADLINE] = check_promise,
    [REQ_ACTION_HAND_ON] = check_hand_on,
    [REQ_ACTION_RECORD_NOTIFICATION] = check_record_notification,
};

transition_t core_request_transition(const request_facts_t *f, request_action_t action)
{
    if (!f || !facts_in_range(f) || (unsigned)action >= REQ_ACTION__COUNT)
        return refuse(f, REQ_CODE_INVALID_FACTS,
                      "The request, actor or action is not a known value.");
    if (!(role_actions[f->actor_role] & (1u << action)))
        return refuse(f, REQ_CODE_FORBIDDEN_ROLE, "Your role may not take this action.");
    const char *code = NULL;
    const char *why = actor_problem(f, action, &code);
    if (why)
        return refuse(f, code, why);
    return action_checks[action](f);
}
