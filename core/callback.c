/*
 * core/callback.c — the callback rules of RULES §3.1; see core/callback.h.
 */
#include "core/callback.h"

#include <string.h>

static const char *const rating_names[CB_RATING__COUNT] = {"very_satisfied", "satisfied", "average",
                                                           "dissatisfied", "very_dissatisfied"};
static const char *const rating_labels[CB_RATING__COUNT] = {"非常满意", "满意", "一般", "不满意",
                                                            "极不满意"};
static const char *const method_names[CB_METHOD__COUNT] = {"phone", "visit", "app", "sms"};
static const char *const task_state_names[CB_TASK__COUNT] = {"open", "done", "given_up",
                                                             "cancelled"};
static const char *const kind_names[CB_KIND__COUNT] = {"repair", "complaint", "other", "survey"};
static const char *const subject_names[CB_SUBJECT__COUNT] = {"request", "survey_response"};
static const char *const give_up_names[CB_GIVE_UP__COUNT] = {"unreachable", "refused", "moved_out",
                                                             "other"};
static const char *const outcome_names[CB_OUTCOME__COUNT] = {"closed", "reopened",
                                                             "follow_up_complaint"};

const char *core_callback_rating_name(callback_rating_t v)
{
    return (unsigned)v < CB_RATING__COUNT ? rating_names[v] : NULL;
}

int core_callback_rating_from_string(const char *s)
{
    int i = core_strtab_index(rating_names, CB_RATING__COUNT, s);
    if (i < 0)
        i = core_strtab_index(rating_labels, CB_RATING__COUNT, s);
    if (i < 0 && s && !strcmp(s, "neutral")) /* an earlier name of 一般 */
        i = CB_RATING_NEUTRAL;
    return i;
}

size_t core_callback_rating_list(char *buf, size_t len)
{
    return core_strtab_join(rating_names, CB_RATING__COUNT, buf, len);
}

CORE_STRTAB_FUNCS(core_callback_method, callback_method_t, method_names, CB_METHOD__COUNT)
CORE_STRTAB_FUNCS(core_callback_task_state, callback_task_state_t, task_state_names, CB_TASK__COUNT)
CORE_STRTAB_FUNCS(core_callback_kind, callback_kind_t, kind_names, CB_KIND__COUNT)
CORE_STRTAB_FUNCS(core_callback_give_up, callback_give_up_t, give_up_names, CB_GIVE_UP__COUNT)
CORE_STRTAB_FUNCS(core_callback_outcome, callback_outcome_t, outcome_names, CB_OUTCOME__COUNT)
CORE_STRTAB_FUNCS(core_callback_subject, callback_subject_t, subject_names, CB_SUBJECT__COUNT)

const char *core_callback_rating_label(callback_rating_t r)
{
    return (unsigned)r < CB_RATING__COUNT ? rating_labels[r] : NULL;
}

int core_callback_rating_satisfied(callback_rating_t r)
{
    if ((unsigned)r >= CB_RATING__COUNT)
        return -1;
    return r == CB_RATING_VERY_SATISFIED || r == CB_RATING_SATISFIED;
}

static cb_verdict_t ok(void)
{
    cb_verdict_t v = {1, 200, "ok", "allowed", NULL};
    return v;
}

static cb_verdict_t no(int status, const char *code, const char *field, const char *reason)
{
    cb_verdict_t v = {0, status, code, reason, field};
    return v;
}

int core_callback_automatic(request_type_t type, int is_valid_complaint)
{
    return core_request_needs_callback(type, is_valid_complaint);
}

int core_callback_on_demand(request_type_t type, int is_valid_complaint)
{
    return (unsigned)type < REQ_TYPE__COUNT && !core_callback_automatic(type, is_valid_complaint);
}

callback_kind_t core_callback_kind_for(request_type_t type)
{
    switch (type) {
    case REQ_TYPE_REPAIR:
    case REQ_TYPE_EMERGENCY:
        return CB_KIND_REPAIR;
    case REQ_TYPE_COMPLAINT:
        return CB_KIND_COMPLAINT;
    default:
        return CB_KIND_OTHER;
    }
}

role_t core_callback_min_role(request_type_t type, int severity)
{
    if (type == REQ_TYPE_COMPLAINT &&
        (severity == REQ_SEVERITY_MAJOR || severity == REQ_SEVERITY_IMPORTANT))
        return ROLE_SUPERVISOR;
    return ROLE_AGENT;
}

cb_verdict_t core_callback_may_call(const callback_caller_t *c, role_t min_role)
{
    if (!c || (unsigned)c->role >= ROLE__COUNT)
        return no(500, "invalid_facts", NULL, "the caller is unknown");
    int level = core_role_ladder_level(c->role);
    if (level < 0)
        return no(403, "forbidden_role", NULL,
                  "callbacks are made by customer-service desk staff (agent, supervisor, "
                  "manager, director, gm)");
    if (!c->active)
        return no(422, "caller_inactive", NULL, "the account is not active");
    if ((c->role == ROLE_AGENT || c->role == ROLE_SUPERVISOR) && c->has_dept &&
        c->dept_kind != DEPT_CUSTOMER_SERVICE)
        return no(403, "not_customer_service", NULL,
                  "callbacks are made by the customer-service department, not by the "
                  "department that did the work");
    if (c->did_the_work)
        return no(403, "did_the_work", NULL,
                  "whoever did the work may not call the customer back; give the task to "
                  "another member of the desk");
    int need = core_role_ladder_level(min_role);
    if (need > 0 && level < need)
        return no(403, "supervisor_required", NULL,
                  "an important or major complaint is called back by a supervisor or above");
    return ok();
}

callback_outcome_t core_callback_outcome(request_type_t type, callback_rating_t r)
{
    if (core_callback_rating_satisfied(r) == 1 || r == CB_RATING_NEUTRAL)
        return CB_OUTCOME_CLOSED;
    return type == REQ_TYPE_REPAIR ? CB_OUTCOME_FOLLOW_UP_COMPLAINT : CB_OUTCOME_REOPENED;
}

callback_outcome_t core_callback_outcome_for(callback_subject_t s, request_type_t type,
                                             callback_rating_t r)
{
    if (s != CB_SUBJECT_SURVEY_RESPONSE)
        return core_callback_outcome(type, r);
    if (core_callback_rating_satisfied(r) == 1 || r == CB_RATING_NEUTRAL)
        return CB_OUTCOME_CLOSED;
    return CB_OUTCOME_FOLLOW_UP_COMPLAINT;
}

cb_verdict_t core_callback_check_attempt(callback_task_state_t state, request_type_t type,
                                         const callback_attempt_in_t *a, int *outcome)
{
    return core_callback_check_attempt_on(state, CB_SUBJECT_REQUEST, type, a, outcome);
}

cb_verdict_t core_callback_check_attempt_on(callback_task_state_t state, callback_subject_t s,
                                            request_type_t type, const callback_attempt_in_t *a,
                                            int *outcome)
{
    if (outcome)
        *outcome = -1;
    if (!a || (unsigned)s >= CB_SUBJECT__COUNT)
        return no(500, "invalid_facts", NULL, "no attempt");
    if (state != CB_TASK_OPEN)
        return no(409, "task_not_open", NULL, "the callback task is no longer open");
    if (a->method < 0 || a->method >= CB_METHOD__COUNT)
        return no(422, "missing_field", "method", "'method' (phone, visit, app, sms) is required");
    if (a->reached < 0)
        return no(422, "missing_field", "reached", "'reached' (true or false) is required");
    if (s == CB_SUBJECT_SURVEY_RESPONSE && a->resident)
        return no(422, "method_not_available", "method",
                  "a survey callback is made by the desk; the household answers the survey "
                  "itself with a corrected response");
    if (s == CB_SUBJECT_SURVEY_RESPONSE && a->method == CB_METHOD_VISIT)
        return no(422, "method_not_available", "method",
                  "a survey callback is made by phone, app or SMS; a household visit is "
                  "recorded as a visit record (POST /v1/visits)");
    if (a->resident && (a->method != CB_METHOD_APP || !a->reached))
        return no(422, "invalid_field", "method",
                  "a resident answers in the app: method app, reached");
    if (a->reached && (a->rating < 0 || a->rating >= CB_RATING__COUNT))
        return no(422, "missing_field", "rating",
                  "'rating' is required when the customer was reached");
    if (!a->reached && a->rating >= 0)
        return no(422, "invalid_field", "rating",
                  "an unreached attempt has no rating; send reached true with the rating");
    if (!a->reached && (a->client_satisfied >= 0 || a->client_outcome >= 0))
        return no(422, "contradicting_outcome", a->client_satisfied >= 0 ? "satisfied" : "outcome",
                  "an unreached attempt has no outcome");
    if (a->method == CB_METHOD_VISIT && (!a->signer_given || !a->signature_given))
        return no(422, "signature_required",
                  !a->signer_given ? "signer_name" : "signature_attachment_id",
                  "a visit callback records the signer and the signature attachment");
    if (!a->reached)
        return ok();
    callback_outcome_t o = core_callback_outcome_for(s, type, (callback_rating_t)a->rating);
    int sat = o == CB_OUTCOME_CLOSED;
    if (a->client_satisfied >= 0 && a->client_satisfied != sat)
        return no(422, "contradicting_outcome", "satisfied",
                  "'satisfied' contradicts the rating; the outcome is derived from the rating "
                  "(不满意 and 极不满意 are not satisfied, the rest are): leave it out");
    if (a->client_outcome >= 0 && a->client_outcome != (int)o)
        return no(422, "contradicting_outcome", "outcome",
                  "'outcome' contradicts the rating; the outcome is derived from the rating: "
                  "leave it out");
    if (outcome)
        *outcome = (int)o;
    return ok();
}

cb_verdict_t core_callback_check_give_up(callback_task_state_t state, int reason, const char *note,
                                         const int32_t *unreached_days, size_t n)
{
    if (state != CB_TASK_OPEN)
        return no(409, "task_not_open", NULL, "the callback task is no longer open");
    if (reason < 0 || reason >= CB_GIVE_UP__COUNT)
        return no(422, "missing_field", "reason",
                  "'reason' (unreachable, refused, moved_out, other) is required");
    int blank = 1;
    for (const char *p = note; p && *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            blank = 0;
    if (reason == CB_GIVE_UP_OTHER && blank)
        return no(422, "note_required", "note", "reason 'other' needs a 'note' saying why");
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && unreached_days[j] != unreached_days[i])
            j++;
        if (j == i)
            distinct++;
    }
    if (n < CB_GIVE_UP_MIN_ATTEMPTS || distinct < CB_GIVE_UP_MIN_DAYS)
        return no(409, "give_up_too_early", NULL,
                  "a callback is given up only after at least 3 unreached attempts on at "
                  "least 2 different days");
    return ok();
}

int core_callback_task_next(callback_task_state_t state, callback_event_t ev, cb_verdict_t *v)
{
    if (state != CB_TASK_OPEN) {
        if (v)
            *v = no(409, "task_not_open", NULL, "the callback task is no longer open");
        return -1;
    }
    if (v)
        *v = ok();
    switch (ev) {
    case CB_EV_ASSIGN:
    case CB_EV_UNREACHED:
        return CB_TASK_OPEN;
    case CB_EV_REACHED:
        return CB_TASK_DONE;
    case CB_EV_GIVE_UP:
        return CB_TASK_GIVEN_UP;
    case CB_EV_CANCEL:
        return CB_TASK_CANCELLED;
    }
    if (v)
        *v = no(500, "invalid_facts", NULL, "unknown event");
    return -1;
}

void core_callback_figures(callback_figures_t *f)
{
    f->has_rate = f->needing > 0;
    f->callback_rate = f->has_rate ? (double)f->called_back / (double)f->needing : 0;
    f->has_satisfaction = f->called_back > 0;
    f->satisfaction = f->has_satisfaction ? (double)f->satisfied / (double)f->called_back : 0;
}

int64_t core_callback_due(const sla_policy_t *pol, const calendar_t *cal, int64_t start)
{
    const sla_rule_t *rule = pol ? &pol->rules[SLA_T_CALLBACK] : NULL;
    if (!rule || !rule->enabled)
        return start + CB_DEFAULT_DUE_S;
    sla_target_t tg = {rule->kind, rule->duration_s, rule->hh, rule->mm, pol->warn_pct, 0, 0};
    sla_clock_t out;
    if (core_sla_compute(&tg, cal, start, NULL, 0, 0, start, &out) != 0 || out.due_at <= 0)
        return start + CB_DEFAULT_DUE_S;
    return out.due_at;
}
