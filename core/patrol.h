/*
 * core/patrol.h — patrol rounds (巡检, RULES §3.10, seed 004 一.3): kinds, the checklist of
 * 004 一.3 (3) a–e, finding dispositions, and the rules a round is judged by — finishing
 * (every finding disposed, every checklist point of the kind answered, at least an hour or
 * a reason) and a planned slot's status (done, in progress, missed after the grace).
 */
#ifndef CORE_PATROL_H
#define CORE_PATROL_H

#include <stddef.h>
#include <stdint.h>

#include "core/strtab.h"

typedef enum {
    PATROL_QUALITY,      /* joint quality patrol (联合巡区), every section */
    PATROL_BUILDING,     /* building patrol: cleaning, order, equipment */
    PATROL_VACANT_UNITS, /* vacant units */
    PATROL_NIGHT,        /* night patrol: order and equipment */
    PATROL__KIND_COUNT
} patrol_kind_t;
CORE_STRTAB_DECLS(core_patrol_kind, patrol_kind_t)

typedef enum {
    PATROL_FIXED_ON_SPOT,
    PATROL_RECTIFICATION,
    PATROL_REQUEST,
    PATROL__DISP_COUNT
} patrol_disposition_t;
CORE_STRTAB_DECLS(core_patrol_disposition, patrol_disposition_t)

/* The checklist: "section.point" names of 004 一.3 (3) a–e. */
extern const char *const core_patrol_points[];
/* 1 when point ("cleaning.entrances") is on the checklist of kind k. */
int core_patrol_point_applies(patrol_kind_t k, const char *point);
/* 1 when point is any checklist point. */
int core_patrol_point_known(const char *point);

/* Minimum length of a round without a reason (004 一.3 (1): at least one hour). */
#define PATROL_MIN_SECONDS       3600
#define PATROL_GRACE_DEFAULT_MIN 30

typedef struct patrol_finish {
    int64_t started_at, now;
    int has_reason; /* a reason for a short round was given */
    int undisposed; /* findings without a disposition */
    int unanswered; /* checklist points of the kind without ok / finding */
} patrol_finish_t;

typedef struct patrol_verdict {
    int status; /* 0, 409 or 422 */
    const char *code;
    const char *detail;
} patrol_verdict_t;

patrol_verdict_t core_patrol_finish_check(const patrol_finish_t *f);

typedef enum {
    SLOT_UPCOMING,
    SLOT_DUE,
    SLOT_IN_PROGRESS,
    SLOT_DONE,
    SLOT_MISSED,
    SLOT__COUNT
} patrol_slot_t;
CORE_STRTAB_DECLS(core_patrol_slot, patrol_slot_t)
/* A planned slot's status at now: started_at/ended_at 0 when no round of the slot started
 * / finished.  Missed when no round started by planned + grace (a round started later still
 * counts as missed: it was not done on time). */
patrol_slot_t core_patrol_slot_status(int64_t planned, int grace_min, int64_t started_at,
                                      int64_t ended_at, int64_t now);

/* Parses "HH:MM" into minutes after midnight; -1 when not a time. */
int core_patrol_hhmm(const char *s);

#endif
