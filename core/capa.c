/* core/capa.c — see core/capa.h. */
#include "core/capa.h"

#include <stddef.h>

static const char *const kind_names[CAPA__KIND_COUNT + 1] = {"corrective", "preventive",
                                                             "rectification", NULL};
static const char *const state_names[CAPA__STATE_COUNT + 1] = {
    "open",        "measures_proposed", "approved", "implementing", "implemented", "verified",
    "ineffective", "cancelled",         NULL};
static const char *const action_names[CAPA__ACT_COUNT + 1] = {
    "propose", "approve", "start", "implement", "verify", "cancel", "confirm", "review", NULL};

CORE_STRTAB_FUNCS(core_capa_kind, capa_kind_t, kind_names, CAPA__KIND_COUNT)
CORE_STRTAB_FUNCS(core_capa_state, capa_state_t, state_names, CAPA__STATE_COUNT)
CORE_STRTAB_FUNCS(core_capa_action, capa_action_t, action_names, CAPA__ACT_COUNT)

static capa_verdict_t refuse(int status, const char *code, const char *detail, capa_state_t s)
{
    capa_verdict_t v = {status, code, detail, s};
    return v;
}

static capa_verdict_t allow(capa_state_t next)
{
    capa_verdict_t v = {0, NULL, NULL, next};
    return v;
}

role_t core_capa_approver(int ndepartments)
{
    return ndepartments > 1 ? ROLE_DIRECTOR : ROLE_MANAGER;
}

int core_capa_clock_running(capa_state_t s)
{
    return s == CAPA_ST_OPEN || s == CAPA_ST_MEASURES_PROPOSED || s == CAPA_ST_APPROVED ||
           s == CAPA_ST_IMPLEMENTING || s == CAPA_ST_INEFFECTIVE;
}

int64_t core_capa_warn_at(int64_t created, int64_t due)
{
    int64_t span = due - created, lead = span / 5;
    if (span <= 0)
        return due;
    if (lead > 24 * 3600)
        lead = 24 * 3600;
    return due - lead;
}

int core_capa_below_target(double figure, double target)
{
    return target > 0 && figure < target;
}

/* Supervisor and above on the escalation ladder (department heads of the desk). */
static int desk_lead(role_t r)
{
    return core_role_ladder_level(r) >= 1;
}

capa_verdict_t core_capa_judge(const capa_facts_t *f, capa_action_t a)
{
    capa_state_t s = f->state;
    int level = core_role_ladder_level(f->role);
    int doer = f->is_responsible || desk_lead(f->role);
    switch (a) {
    case CAPA_ACT_PROPOSE:
        if (!doer)
            return refuse(
                403, "not_responsible",
                "measures are proposed by the responsible person or a supervisor and above", s);
        if (s != CAPA_ST_OPEN && s != CAPA_ST_MEASURES_PROPOSED && s != CAPA_ST_INEFFECTIVE)
            return refuse(409, "invalid_state",
                          "measures can be proposed only while the action is open, proposed or "
                          "found ineffective",
                          s);
        return allow(CAPA_ST_MEASURES_PROPOSED);
    case CAPA_ACT_APPROVE:
        if (level < core_role_ladder_level(ROLE_MANAGER))
            return refuse(403, "approver_required",
                          "measures are approved by the manager (the director when several "
                          "departments are involved)",
                          s);
        if (s != CAPA_ST_MEASURES_PROPOSED)
            return refuse(409, "invalid_state", "only proposed measures can be approved", s);
        if (level < core_role_ladder_level(core_capa_approver(f->ndepartments)))
            return refuse(403, "director_required",
                          "measures involving several departments are approved by the director "
                          "or the GM",
                          s);
        if (f->major && !f->gm_review)
            return refuse(409, "gm_review_required",
                          "a major quality problem needs a joint review convened by the GM "
                          "before its measures are approved",
                          s);
        return allow(CAPA_ST_APPROVED);
    case CAPA_ACT_START:
        if (!doer)
            return refuse(403, "not_responsible",
                          "implementation is started by the responsible person or a supervisor "
                          "and above",
                          s);
        if (s != CAPA_ST_APPROVED)
            return refuse(409, "invalid_state", "implementation starts after approval", s);
        return allow(CAPA_ST_IMPLEMENTING);
    case CAPA_ACT_IMPLEMENT:
        if (!doer)
            return refuse(403, "not_responsible",
                          "implementation is reported by the responsible person or a supervisor "
                          "and above",
                          s);
        if (s != CAPA_ST_IMPLEMENTING)
            return refuse(409, "invalid_state",
                          "only an action being implemented can be reported implemented", s);
        return allow(CAPA_ST_IMPLEMENTED);
    case CAPA_ACT_VERIFY:
        if (f->role != ROLE_AUDITOR && !desk_lead(f->role))
            return refuse(403, "verifier_required",
                          "the effect is verified by quality control (auditor) or a supervisor "
                          "and above",
                          s);
        if (f->is_responsible)
            return refuse(403, "own_verification",
                          "the responsible person cannot verify their own action", s);
        if (s != CAPA_ST_IMPLEMENTED)
            return refuse(409, "invalid_state", "only an implemented action can be verified", s);
        return allow(f->effective ? CAPA_ST_VERIFIED : CAPA_ST_INEFFECTIVE);
    case CAPA_ACT_CANCEL:
        if (level < core_role_ladder_level(ROLE_MANAGER))
            return refuse(403, "manager_required", "an action is cancelled by a manager or above",
                          s);
        if (s == CAPA_ST_VERIFIED || s == CAPA_ST_CANCELLED)
            return refuse(409, "invalid_state",
                          "a verified or cancelled action cannot be cancelled", s);
        return allow(CAPA_ST_CANCELLED);
    case CAPA_ACT_CONFIRM:
        if (level < 0)
            return refuse(403, "desk_required",
                          "the customer's confirmation is recorded by customer-service staff", s);
        if (s != CAPA_ST_IMPLEMENTED && s != CAPA_ST_VERIFIED)
            return refuse(409, "invalid_state",
                          "the customer confirms the conclusion once the action is implemented", s);
        return allow(s);
    case CAPA_ACT_REVIEW:
        if (level < core_role_ladder_level(ROLE_MANAGER))
            return refuse(403, "convener_required",
                          "a joint review is convened by the manager (the GM for a major quality "
                          "problem)",
                          s);
        if (s == CAPA_ST_VERIFIED || s == CAPA_ST_CANCELLED)
            return refuse(409, "invalid_state", "a verified or cancelled action is not reviewed",
                          s);
        return allow(s);
    case CAPA__ACT_COUNT:
        break;
    }
    return refuse(404, "unknown_action", "no such action", s);
}
