/*
 * core/callback.h — callbacks (回访, RULES §3.1) as pure rules: which resolved requests
 * get a callback task, who may call back, what an attempt must carry, the outcome a
 * rating leads to, when a task may be given up, the task's states, and the month's
 * callback figures.  No clock, no I/O: the caller loads the facts and stores what it is
 * told.  The request's own change (close, reopen, escalation) is core_request_effect()'s
 * callback_result with the satisfaction this module derives.
 */
#ifndef CORE_CALLBACK_H
#define CORE_CALLBACK_H

#include <stddef.h>
#include <stdint.h>

#include "core/calendar.h"
#include "core/request.h"
#include "core/roles.h"
#include "core/sla_request.h"
#include "core/strtab.h"

/* The five-level rating of the forms 维修回访记录表 / 投诉回访记录表:
 * "very_satisfied" 非常满意, "satisfied" 满意, "average" 一般, "dissatisfied" 不满意,
 * "very_dissatisfied" 极不满意.  core_callback_rating_from_string() also takes the zh
 * labels (and "average", RULES §3.1's name for 一般). */
typedef enum {
    CB_RATING_VERY_SATISFIED,
    CB_RATING_SATISFIED,
    CB_RATING_NEUTRAL,
    CB_RATING_DISSATISFIED,
    CB_RATING_VERY_DISSATISFIED,
    CB_RATING__COUNT
} callback_rating_t;

/* "phone" 电话回访, "visit" 上门回访, "app", "sms". */
typedef enum {
    CB_METHOD_PHONE,
    CB_METHOD_VISIT,
    CB_METHOD_APP,
    CB_METHOD_SMS,
    CB_METHOD__COUNT
} callback_method_t;

/* Task states: "open" → "done" (a reached attempt) | "given_up" | "cancelled" (the
 * request was reopened or closed by other means while the task was open). */
typedef enum {
    CB_TASK_OPEN,
    CB_TASK_DONE,
    CB_TASK_GIVEN_UP,
    CB_TASK_CANCELLED,
    CB_TASK__COUNT
} callback_task_state_t;

/* Which form the task follows: "repair" (repairs and emergencies), "complaint", "other",
 * and "survey" (客户回访记录表: a survey response's 不太满意 answer, RULES §3.1.8). */
typedef enum {
    CB_KIND_REPAIR,
    CB_KIND_COMPLAINT,
    CB_KIND_OTHER,
    CB_KIND_SURVEY,
    CB_KIND__COUNT
} callback_kind_t;

/* What a task follows up: "request" (a resolution) or "survey_response" (a household's
 * survey answer of 不太满意; kind survey).  Exactly one per task. */
typedef enum {
    CB_SUBJECT_REQUEST,
    CB_SUBJECT_SURVEY_RESPONSE,
    CB_SUBJECT__COUNT
} callback_subject_t;

/* Give-up reasons: "unreachable" "refused" "moved_out" "other" (other needs a note). */
typedef enum {
    CB_GIVE_UP_UNREACHABLE,
    CB_GIVE_UP_REFUSED,
    CB_GIVE_UP_MOVED_OUT,
    CB_GIVE_UP_OTHER,
    CB_GIVE_UP__COUNT
} callback_give_up_t;

/* What a reached attempt does to the request: "closed" (非常满意 / 满意 / 一般), "reopened"
 * (不满意 / 极不满意: the request reopens and rises one ladder level), "follow_up_complaint"
 * (the same for a repair: the repair closes and a linked complaint opens one level up). */
typedef enum {
    CB_OUTCOME_CLOSED,
    CB_OUTCOME_REOPENED,
    CB_OUTCOME_FOLLOW_UP_COMPLAINT,
    CB_OUTCOME__COUNT
} callback_outcome_t;

CORE_STRTAB_DECLS(core_callback_rating, callback_rating_t)
CORE_STRTAB_DECLS(core_callback_method, callback_method_t)
CORE_STRTAB_DECLS(core_callback_task_state, callback_task_state_t)
CORE_STRTAB_DECLS(core_callback_kind, callback_kind_t)
CORE_STRTAB_DECLS(core_callback_give_up, callback_give_up_t)
CORE_STRTAB_DECLS(core_callback_outcome, callback_outcome_t)
CORE_STRTAB_DECLS(core_callback_subject, callback_subject_t)

/* 非常满意 … 极不满意; NULL when out of range. */
const char *core_callback_rating_label(callback_rating_t r);
/* 非常满意 and 满意 count as satisfied (the callback satisfaction figure and the request's
 * close): 1; the other three 0; out of range -1. */
int core_callback_rating_satisfied(callback_rating_t r);

/* A verdict: ok, or the HTTP status, a stable code, an English reason and (for 422s) the
 * body member it is about (NULL none).  All static strings. */
typedef struct cb_verdict {
    int ok;
    int status;
    const char *code;
    const char *reason;
    const char *field;
} cb_verdict_t;

/* Whether resolving a request of this type (and complaint validity, REQ_VALIDITY_*) opens
 * a callback task by itself (every valid or not yet judged complaint, every repair and
 * emergency): 1 / 0.  The same rule as core_request_needs_callback(). */
int core_callback_automatic(request_type_t type, int is_valid_complaint);
/* Whether the desk may ask for one on demand: inquiries, suggestions, praise, and
 * complaints judged not valid.  1 / 0. */
int core_callback_on_demand(request_type_t type, int is_valid_complaint);
/* The task's kind for a request type. */
callback_kind_t core_callback_kind_for(request_type_t type);
/* The lowest role that may call back (RULES §3.1.3, 002 第14篇 2): important and major
 * complaints need a supervisor or above (ROLE_SUPERVISOR), the rest an agent
 * (ROLE_AGENT).  severity is a request_severity_t or -1 for none. */
role_t core_callback_min_role(request_type_t type, int severity);

/* Who is about to call back (or to be assigned the task). */
typedef struct callback_caller {
    role_t role;
    int has_dept;          /* staff: the user belongs to a department */
    dept_kind_t dept_kind; /* read when has_dept */
    int did_the_work;      /* the request's assignee or a work order's technician */
    int active;            /* the account is active (assignment) */
} callback_caller_t;

/* Whether this staff member may call back a task needing min_role: customer-service
 * desk roles only (agent, supervisor, manager, director, gm — 403 forbidden_role); an
 * agent or supervisor who belongs to a department must belong to customer service (403
 * not_customer_service); never whoever did the work (403 did_the_work); at least
 * min_role on the ladder (403 supervisor_required); an inactive account 422
 * caller_inactive.  Residents answer their own callback elsewhere (403 here). */
cb_verdict_t core_callback_may_call(const callback_caller_t *c, role_t min_role);

/* An attempt as the caller sent it. */
typedef struct callback_attempt_in {
    int method;           /* callback_method_t, -1 missing */
    int reached;          /* 1 / 0, -1 missing */
    int rating;           /* callback_rating_t, -1 none */
    int signer_given;     /* visit: the signer's name */
    int signature_given;  /* visit: the signature attachment */
    int client_satisfied; /* a `satisfied` the client sent: 1 / 0, -1 none */
    int client_outcome;   /* an `outcome` the client sent (callback_outcome_t), -1 none */
    int resident;         /* a resident answering in the app (method must be app) */
} callback_attempt_in_t;

/* Judges an attempt on a task in `state` of a request of `type`: the task must be open
 * (409 task_not_open); method and reached are required (422 missing_field); a reached
 * attempt needs a rating and an unreached one may not have one (422); a visit needs the
 * signer and the signature attachment (422 signature_required); a resident answers with
 * method app and reached (422); a client `satisfied` or `outcome` that contradicts the
 * rating's derived outcome is 422 contradicting_outcome.  On success *outcome receives
 * the derived outcome (reached) or -1 (not reached). */
cb_verdict_t core_callback_check_attempt(callback_task_state_t state, request_type_t type,
                                         const callback_attempt_in_t *a, int *outcome);

/* The outcome a reached rating leads to for a request of this type. */
callback_outcome_t core_callback_outcome(request_type_t type, callback_rating_t r);

/* The outcome a reached rating leads to on a task of this subject.  A request's: as
 * core_callback_outcome().  A survey response's touches no request: 不满意 / 极不满意 →
 * follow_up_complaint (a complaint, channel survey, linked to the response, is opened),
 * the rest → closed (the task just finishes).  type is read for a request only. */
callback_outcome_t core_callback_outcome_for(callback_subject_t s, request_type_t type,
                                             callback_rating_t r);

/* core_callback_check_attempt() on a task of either subject.  A survey response's task
 * has no request to hold a visit's signature nor a resident's app answer: method visit
 * is 422 method_not_available (a household visit is a visit record, POST /v1/visits) and
 * a resident's answer 422 method_not_available too.  Unknown subject: 500 invalid_facts. */
cb_verdict_t core_callback_check_attempt_on(callback_task_state_t state, callback_subject_t s,
                                            request_type_t type, const callback_attempt_in_t *a,
                                            int *outcome);

/* Minimum unreached attempts, on at least this many different local days, before a task
 * may be given up (RULES §3.1.6; the README example "回访电话三次无人接听"). */
#define CB_GIVE_UP_MIN_ATTEMPTS 3
#define CB_GIVE_UP_MIN_DAYS     2

/* Judges giving a task up: open (409 task_not_open), a known reason (422), a note for
 * "other" (422 note_required), and at least CB_GIVE_UP_MIN_ATTEMPTS unreached attempts
 * on CB_GIVE_UP_MIN_DAYS different local days (409 give_up_too_early).  unreached_days
 * holds each unreached attempt's local day in the project's time zone (any day number,
 * e.g. days since the epoch), in any order; reason is a callback_give_up_t or -1. */
cb_verdict_t core_callback_check_give_up(callback_task_state_t state, int reason, const char *note,
                                         const int32_t *unreached_days, size_t n);

/* Task events and the state they lead to from `state`; -1 (with *v set to 409
 * task_not_open) when not allowed.  assign and unreached keep it open. */
typedef enum {
    CB_EV_ASSIGN,
    CB_EV_UNREACHED,
    CB_EV_REACHED,
    CB_EV_GIVE_UP,
    CB_EV_CANCEL
} callback_event_t;
int core_callback_task_next(callback_task_state_t state, callback_event_t ev, cb_verdict_t *v);

/* The month's figures (RULES §3.1.9, §3.11.5) from counts over the tasks of requests
 * needing a callback resolved in the month:
 *   callback_rate = called_back ÷ needing   (called_back: the task ended with a reached
 *                                            attempt; given up counts as not)
 *   satisfaction  = satisfied ÷ called_back (satisfied: rated 非常满意 or 满意)
 * A zero denominator gives has_* 0 (the figure is null). */
typedef struct callback_figures {
    long needing, called_back, satisfied;
    int has_rate, has_satisfaction;
    double callback_rate, satisfaction;
} callback_figures_t;
void core_callback_figures(callback_figures_t *f);

/* A callback task's due time (RULES §3.1.2: the follow-up + the policy's callback target,
 * SPEC §4 ships 24 h).  A request's task takes its request's callback clock; a task that
 * follows no request — a survey response's 不太满意 answer (§3.1.8) — takes the callback
 * target of the project's policy for the match below: a general complaint's, the process a
 * 不满意 answer enters (§3.2.7) and 不太满意 is the lighter step of. */
#define CB_SURVEY_SLA_TYPE     "complaint"
#define CB_SURVEY_SLA_SEVERITY "general"
#define CB_DEFAULT_DUE_S       (24 * 3600)
/* The due time of a callback started at `start` under the policy `pol` (NULL: the project
 * has no SLA configuration) on the project's calendar `cal`: the policy's callback target
 * (calendar, business, next local time or end of day, computed as the request clocks are),
 * or start + CB_DEFAULT_DUE_S when there is no policy, its callback target is off or cannot
 * be computed (a business calendar with no open time) — as a request whose callback clock
 * does not run. */
int64_t core_callback_due(const sla_policy_t *pol, const calendar_t *cal, int64_t start);

#endif
