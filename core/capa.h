/*
 * core/capa.h — corrective and preventive actions (纠正措施 / 预防措施, RULES §3.3) and the
 * rectifications of patrol findings: their kinds, states and the one judgement of every
 * action on them — who may do it, in which state, and where it leads.  Pure: the caller
 * gives the facts of the locked record and of the caller.
 *
 * States: open → measures_proposed → approved → implementing → implemented → verified, or
 * implemented → ineffective → measures_proposed again; cancelled (with a reason) from any
 * state before verified.  Measures are approved by the manager, or by the director when
 * several departments are involved (GM always may); a major quality problem needs a joint
 * review (会审) convened by the GM before its measures are approved.
 */
#ifndef CORE_CAPA_H
#define CORE_CAPA_H

#include <stdint.h>

#include "core/roles.h"
#include "core/strtab.h"

typedef enum { CAPA_CORRECTIVE, CAPA_PREVENTIVE, CAPA_RECTIFICATION, CAPA__KIND_COUNT } capa_kind_t;
CORE_STRTAB_DECLS(core_capa_kind, capa_kind_t)

typedef enum {
    CAPA_ST_OPEN,
    CAPA_ST_MEASURES_PROPOSED,
    CAPA_ST_APPROVED,
    CAPA_ST_IMPLEMENTING,
    CAPA_ST_IMPLEMENTED,
    CAPA_ST_VERIFIED,
    CAPA_ST_INEFFECTIVE,
    CAPA_ST_CANCELLED,
    CAPA__STATE_COUNT
} capa_state_t;
CORE_STRTAB_DECLS(core_capa_state, capa_state_t)

/* The actions of POST /v1/corrective-actions/{id}/actions/{action}. */
typedef enum {
    CAPA_ACT_PROPOSE,   /* cause analysis, responsibility, remedial action, measures */
    CAPA_ACT_APPROVE,   /* the measures (manager; director when several departments) */
    CAPA_ACT_START,     /* implementation begins */
    CAPA_ACT_IMPLEMENT, /* implementation done (notes, completion time) */
    CAPA_ACT_VERIFY,    /* effect verification: effective → verified, else ineffective */
    CAPA_ACT_CANCEL,    /* with a reason */
    CAPA_ACT_CONFIRM,   /* the customer's confirmation of the cause and conclusion */
    CAPA_ACT_REVIEW,    /* a joint review (会审): date, attendees, conclusion */
    CAPA__ACT_COUNT
} capa_action_t;
CORE_STRTAB_DECLS(core_capa_action, capa_action_t)

typedef struct capa_facts {
    capa_state_t state;
    role_t role;        /* the caller's */
    int is_responsible; /* the caller is the responsible person */
    int ndepartments;   /* departments involved (the responsible one included) */
    int major;          /* a major quality problem */
    int gm_review;      /* a joint review convened by the GM is recorded */
    int effective;      /* verify: the verification found the measures effective */
} capa_facts_t;

typedef struct capa_verdict {
    int status;         /* 0 allowed; else 403 / 409 */
    const char *code;   /* stable problem code when refused */
    const char *detail; /* what to do instead (static text) */
    capa_state_t next;  /* the state after the action (== facts.state when unchanged) */
} capa_verdict_t;

/* Judges action a on a record with facts f. */
capa_verdict_t core_capa_judge(const capa_facts_t *f, capa_action_t a);

/* The role that must approve the measures: ROLE_MANAGER for one department, ROLE_DIRECTOR
 * for several.  A caller may approve when their ladder level is at least this role's
 * (the GM approves everything). */
role_t core_capa_approver(int ndepartments);

/* 1 while the deadline clock runs (not yet implemented, verified or cancelled). */
int core_capa_clock_running(capa_state_t s);

/* Overdue clock: the warning instant of an action created at `created` and due at `due`
 * (one fifth of the span before the deadline, at most 24 hours before it, never before
 * creation); escalation is at `due`. */
int64_t core_capa_warn_at(int64_t created, int64_t due);

/* Whether a department's figure is below its target (both in per mille or per cent, same
 * unit; a target <= 0 is never missed). */
int core_capa_below_target(double figure, double target);

#endif
