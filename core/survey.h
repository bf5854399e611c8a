/*
 * core/survey.h — satisfaction surveys (满意度调查, RULES §3.2): the campaign kinds and
 * state machine, the five-level survey scale, what an answer sets off (a complaint or a
 * callback), and the exact formulas of the campaign report — return rate, overall,
 * per-item and per-department satisfaction — as integer fractions (no floating point
 * decides anything).  Pure functions: no I/O, no clock.
 */
#ifndef CORE_SURVEY_H
#define CORE_SURVEY_H

#include <stddef.h>

#include "core/strtab.h"

/* RULES §3.2.1–2: periodic (default quarterly), after a repair, on a visit, special. */
typedef enum {
    SURVEY_KIND_PERIODIC,     /* "periodic" */
    SURVEY_KIND_AFTER_REPAIR, /* "after_repair" */
    SURVEY_KIND_VISIT,        /* "visit" */
    SURVEY_KIND_SPECIAL,      /* "special" */
    SURVEY_KIND__COUNT
} survey_kind_t;
CORE_STRTAB_DECLS(core_survey_kind, survey_kind_t)

/* Cadence of a periodic campaign (RULES §3.2.1; default quarterly). */
typedef enum {
    SURVEY_CADENCE_QUARTERLY,   /* "quarterly" */
    SURVEY_CADENCE_SEMI_ANNUAL, /* "semi_annual" */
    SURVEY_CADENCE_YEARLY,      /* "yearly" */
    SURVEY_CADENCE_ONCE,        /* "once" (after_repair, visit and special campaigns) */
    SURVEY_CADENCE__COUNT
} survey_cadence_t;
CORE_STRTAB_DECLS(core_survey_cadence, survey_cadence_t)

typedef enum {
    SURVEY_DRAFT,    /* "draft": items editable */
    SURVEY_OPEN,     /* "open": responses accepted */
    SURVEY_CLOSED,   /* "closed": no new responses; corrections still allowed */
    SURVEY_REPORTED, /* "reported": the report and its numbers are frozen */
    SURVEY_STATE__COUNT
} survey_state_t;
CORE_STRTAB_DECLS(core_survey_state, survey_state_t)

typedef enum {
    SURVEY_ACT_OPEN,   /* "open" */
    SURVEY_ACT_CLOSE,  /* "close" */
    SURVEY_ACT_REPORT, /* "report" */
    SURVEY_ACT__COUNT
} survey_action_t;
CORE_STRTAB_DECLS(core_survey_action, survey_action_t)

/* The survey scale (002 第8篇 5.8.3), best first.  API codes / zh labels:
 * very_satisfied 很满意, fairly_satisfied 比较满意, basically_satisfied 基本满意,
 * somewhat_dissatisfied 不太满意, dissatisfied 不满意. */
typedef enum {
    SURVEY_R_VERY_SATISFIED,
    SURVEY_R_FAIRLY_SATISFIED,
    SURVEY_R_BASICALLY_SATISFIED,
    SURVEY_R_SOMEWHAT_DISSATISFIED,
    SURVEY_R_DISSATISFIED,
    SURVEY_R__COUNT
} survey_rating_t;
CORE_STRTAB_DECLS(core_survey_rating, survey_rating_t)
/* The zh label of a rating ("很满意", ...); NULL out of range. */
const char *core_survey_rating_label(survey_rating_t r);
/* 1 when the rating counts as satisfied: 基本满意 or better (002 第8篇 5.10). */
int core_survey_rating_satisfied(survey_rating_t r);

/* What an answer sets off (RULES §3.2.7): 不满意 → a complaint (channel survey);
 * 不太满意 → a callback task; anything better → nothing. */
typedef enum {
    SURVEY_FOLLOWUP_NONE,
    SURVEY_FOLLOWUP_COMPLAINT, /* "complaint" */
    SURVEY_FOLLOWUP_CALLBACK,  /* "callback" */
} survey_followup_t;
survey_followup_t core_survey_followup(survey_rating_t r);
const char *core_survey_followup_name(survey_followup_t f);

/* A refusal: HTTP status (409/422) with a stable code and a detail; status 0 allowed. */
typedef struct survey_verdict {
    int status;
    const char *code;
    const char *detail;
} survey_verdict_t;

/* The state machine draft → open → closed → reported.  0 and *next, or the refusal
 * (409 invalid_transition).  Opening needs at least one item and copies distributed
 * (nitems, copies) — 409 otherwise; reporting needs the service centre's opinion
 * (has_opinion; 422 missing_field otherwise). */
survey_verdict_t core_survey_transition(survey_state_t from, survey_action_t a, int nitems,
                                        long copies, int has_opinion, survey_state_t *next);
/* Items, title, period and copies may change only in draft (409 campaign_not_draft). */
survey_verdict_t core_survey_check_editable(survey_state_t s);
/* A new response only while open (409 campaign_not_open); a correction while open or
 * closed, never once reported (409 campaign_reported). */
survey_verdict_t core_survey_check_respond(survey_state_t s, int correction);

/* An exact ratio num ÷ den.  den 0: undefined (percent_x100 -1).  percent_x100 is the
 * percentage times 100, rounded half up (2 / 3 → 6667 = 66.67 %). */
typedef struct survey_ratio {
    long num, den;
    long percent_x100;
} survey_ratio_t;
survey_ratio_t core_survey_ratio(long num, long den);
/* Writes the percentage as "66.67" (or "" when undefined) into buf (>= 24 bytes). */
void core_survey_percent_text(const survey_ratio_t *q, char *buf, size_t len);

/* The departments' satisfaction target when the project sets none (RULES §3.2.9 names a
 * "company quality target" without a figure: 90 %, the desk's resolution-rate target). */
#define SURVEY_DEFAULT_TARGET_PERCENT 90
/* Whether satisfaction q is below target_percent (1..100), exactly: num × 100 < target ×
 * den.  1 below, 0 not (a figure without answers, den 0, is never below; nor is any figure
 * against a target outside 1..100). */
int core_survey_below_target(const survey_ratio_t *q, int target_percent);

/* Counts of ratings (blank answers are not given: RULES §3.2.5 excludes them). */
typedef struct survey_tally {
    long by_rating[SURVEY_R__COUNT];
    long answered;  /* sum of by_rating */
    long satisfied; /* 基本满意 or better */
} survey_tally_t;
void core_survey_tally_add(survey_tally_t *t, survey_rating_t r);
/* satisfied ÷ answered. */
survey_ratio_t core_survey_tally_rate(const survey_tally_t *t);

/* Return rate = returned ÷ distributed (001); distributed 0: undefined. */
survey_ratio_t core_survey_return_rate(long returned, long distributed);

/* One answer of the latest version of a returned form, for the analysis.  item < 0: the
 * overall rating (客户总体评价). */
typedef struct survey_answer_fact {
    int item;
    survey_rating_t rating;
} survey_answer_fact_t;

/* The summary of a campaign: copies distributed, forms returned (each form's latest
 * version counts once), overall tally (every returned form has an overall rating),
 * one tally per item and per department (items grouped by the department they measure;
 * dept[i] is the department index of item i, -1 for none). */
typedef struct survey_summary {
    long distributed, returned;
    survey_ratio_t return_rate, overall_rate;
    survey_tally_t overall;
    survey_tally_t *items; /* nitems, caller-owned */
    int nitems;
    survey_tally_t *depts; /* ndepts, caller-owned */
    int ndepts;
} survey_summary_t;
/* Computes s from the facts: s->items (nitems) and s->depts (ndepts) must point at zeroed
 * arrays the caller owns; item_dept[i] in -1..ndepts-1.  Facts naming an item out of range
 * are ignored.  Returns 0, -1 when a department index is out of range. */
int core_survey_summarise(long distributed, long returned, const survey_answer_fact_t *facts,
                          size_t nfacts, const int *item_dept, int nitems, int ndepts,
                          survey_summary_t *s);

#endif
