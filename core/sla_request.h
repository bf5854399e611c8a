/*
 * core/sla_request.h — the SLA of one request: which policy applies (most specific
 * match), which clocks it runs, when each clock started, paused and was met — all read
 * from the request's timeline — and, through core/sla.c, each clock's due time and
 * state.  Also the escalation ladder: what a sweep must record for a request now.
 * Pure: no I/O, no clock reads; `now` and every fact are arguments.
 */
#ifndef CORE_SLA_REQUEST_H
#define CORE_SLA_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/roles.h"
#include "core/sla.h"

/* The clocks a request can run (SPEC §4).  API names in core_sla_target_name(). */
typedef enum {
    SLA_T_FIRST_RESPONSE, /* "first_response": a staff member acts on it */
    SLA_T_ON_SITE,        /* "on_site": handler / technician arrives */
    SLA_T_ANSWER,         /* "answer": a clear answer to the customer (public reply) */
    SLA_T_RESOLUTION,     /* "resolution": resolved (signed off) */
    SLA_T_HANDOVER,       /* "handover": night desk hands it to customer service */
    SLA_T_CALLBACK,       /* "callback": callback done after resolution */
    SLA_T_GM_REPORT,      /* "gm_report": a major complaint is with the GM */
    SLA_T__COUNT
} sla_target_id_t;

typedef struct sla_rule {
    int enabled;
    sla_kind_t kind;
    int64_t duration_s; /* calendar / business */
    int hh, mm;         /* next_local_time */
} sla_rule_t;

typedef struct sla_policy {
    sla_rule_t rules[SLA_T__COUNT];
    int warn_pct;             /* 1..100 */
    int64_t escalate_every_s; /* while breached, rise one more level this often (>= 60) */
} sla_policy_t;

/* A policy's match: NULL members match anything.  The most specific matching policy
 * (most non-NULL members) wins; ties go to the lower index (db/ lists policies oldest
 * first, so the oldest of equally specific policies wins). */
typedef struct sla_match {
    const char *type, *severity, *category;
} sla_match_t;
/* Returns the index of the winning policy or -1 when none matches. */
int core_sla_policy_match(const sla_match_t *cands, size_t n, const char *type,
                          const char *severity, const char *category);

/* One timeline event as core needs it.  Strings are borrowed. */
typedef struct sla_event {
    const char *action;     /* "create", "dispatch", "arrive", "comment", "escalate", ... */
    const char *actor_role; /* role name */
    const char *from_state, *to_state; /* may be NULL */
    int64_t at;                        /* occurred_at, UTC seconds */
    int public_comment;                /* a comment visible to the customer */
    int level;                         /* escalate: the level reached */
    int target;                        /* sla_extension_approved: sla_target_id_t */
    int64_t new_due;                   /* sla_extension_approved: the approved due */
    int64_t appointment_at;            /* dispatch: booked appointment, 0 none */
} sla_event_t;

/* Facts of the request that are not events. */
typedef struct sla_request_facts {
    const char *type;     /* request type */
    const char *severity; /* complaints; NULL = general */
    int night_desk;
    int needs_callback;
    int64_t customer_deadline; /* 0 none: applies to resolution */
} sla_request_facts_t;

typedef struct sla_clock_view {
    int active; /* the clock applies to this request (and has started) */
    sla_target_id_t target;
    int64_t start;
    int64_t met_at; /* 0 = not met */
    int npauses;
    sla_clock_t clock; /* due_at, warn_at, used, paused, state */
} sla_clock_view_t;

/* Evaluates every clock.  events must be in timeline order.  Returns 0, or -1 on bad
 * input (the offending clock is left inactive). */
int core_sla_request_eval(const sla_policy_t *pol, const calendar_t *cal,
                          const sla_request_facts_t *f, const sla_event_t *ev, size_t nev,
                          int64_t now, sla_clock_view_t out[SLA_T__COUNT]);

/* The earliest due among active clocks that are running or paused (0 when none). */
int64_t core_sla_next_due(const sla_clock_view_t v[SLA_T__COUNT]);

/* What a sweep must record now.  kind: 0 warning, 1 escalation.  For escalations, level
 * is the ladder level reached (1 supervisor .. 4 gm); for warnings 0. */
typedef struct sla_alert {
    sla_target_id_t target;
    int kind;
    int level;
    int64_t due_at;
} sla_alert_t;

/* What has been recorded for a request, as a sweep needs it. */
typedef struct sla_history {
    int64_t last_esc_at[SLA_T__COUNT]; /* latest escalation of each clock for its current due
                                        * (0 = none) */
    int warned[SLA_T__COUNT];          /* warned for its current due */
    int moved[SLA_T__COUNT];           /* escalated earlier for a due it no longer has */
    int64_t last_rise; /* latest automatic escalation of the request, any clock, any due */
} sla_history_t;

/*
 * Plans alerts for a request whose clocks are `v`, whose current escalation level is
 * `level` (0 agent .. 4 gm) and whose recorded alerts are `h` (NULL: none).  Rules:
 *   - a running clock past warn_at and not yet due → one warning per (target, due);
 *   - a major complaint's gm_report clock, not yet met → straight to level 4, at once;
 *   - otherwise at most ONE level per evaluation, and never an escalation that changes
 *     nothing (nothing is planned at level 4):
 *     - a new breach — a clock breached after the request last rose (due > last_rise),
 *       or whose due moved since it was escalated — raises one level at once;
 *     - while breaches stay open the request rises one more level each time
 *       escalate_every_s has passed since it last rose (last_rise: per request, not per
 *       clock); a breach that was already past due when the request last rose waits for
 *       this schedule, and a step names such a clock (not yet escalated itself) first.
 * Several clocks breached at once therefore raise one level, then one per interval.
 * Returns the number of alerts written to out (at most max); *next_check gets the next
 * instant at which something may become due (0 when nothing will).
 */
size_t core_sla_plan_history(const sla_policy_t *pol, const sla_clock_view_t v[SLA_T__COUNT],
                             int level, const sla_history_t *h, int64_t now, sla_alert_t *out,
                             size_t max, int64_t *next_check);

/* core_sla_plan_history() for a caller that knows only each clock's escalations for its
 * current due: last_rise is the latest of them and no due counts as moved. */
size_t core_sla_plan(const sla_policy_t *pol, const sla_clock_view_t v[SLA_T__COUNT], int level,
                     const int64_t last_esc_at[SLA_T__COUNT], const int warned[SLA_T__COUNT],
                     int64_t now, sla_alert_t *out, size_t max, int64_t *next_check);

/* The default policies a new project ships with (SPEC §4).  Writes up to max entries
 * (match + policy + a zh-CN name) and returns how many exist. */
typedef struct sla_default {
    const char *name;
    sla_match_t match;
    sla_policy_t policy;
} sla_default_t;
size_t core_sla_defaults(sla_default_t *out, size_t max);

/* core_sla_target_name(), _from_string() and _list() (see core/strtab.h). */
CORE_STRTAB_DECLS(core_sla_target, sla_target_id_t)

/* The top of the escalation ladder (gm). */
#define SLA_TOP_LEVEL ROLE_LADDER_TOP

#endif
