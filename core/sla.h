/*
 * SLA clocks: given a target (how long, in which kind of time), the project's
 * calendar, when the clock started, its pauses, and whether/when it was met,
 * compute the due time, the warning time, the time used and paused, and the
 * clock's state.  Pure: `now` is an argument, nothing is allocated.
 *
 * Pause semantics:
 *   - SLA_CALENDAR: paused wall time does not count; each pause pushes the due
 *     time out by the part of it that falls before the (extended) due time.
 *   - SLA_BUSINESS: only business time outside pauses counts; a pause pushes
 *     the due time out by the business time it covers.
 *   - SLA_END_OF_DAY, SLA_NEXT_LOCAL_TIME: the due time is fixed by the rule
 *     and pauses do NOT move it (used/paused seconds are still reported, in
 *     wall time).
 *   - A pause still open (to == SLA_PAUSE_OPEN) is taken to end at met_at if
 *     the clock was met, else at `now`; so while paused, due_at is the
 *     projected due time if the clock resumed now.
 *   - A met clock is frozen at met_at: pauses (or the parts of them) after
 *     met_at do not count, so its due time, warning time and paused time never
 *     move once it is met.
 *   - Pauses are clipped to start at or after `start`.
 */
#ifndef CORE_SLA_H
#define CORE_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "core/calendar.h"

typedef enum {
    SLA_CALENDAR = 0,    /* "calendar": duration_s of wall-clock time */
    SLA_BUSINESS,        /* "business": duration_s of business time per the calendar */
    SLA_END_OF_DAY,      /* "end_of_day": start of the local day after the start's */
    SLA_NEXT_LOCAL_TIME, /* "next_local_time": next local hh:mm strictly after start */
    SLA_KIND_COUNT
} sla_kind_t;

typedef enum {
    SLA_RUNNING = 0, /* "running" */
    SLA_PAUSED,      /* "paused" */
    SLA_MET,         /* "met" */
    SLA_BREACHED,    /* "breached" */
    SLA_STATE_COUNT
} sla_state_t;

#define SLA_DEFAULT_WARN_PCT 80
#define SLA_PAUSE_OPEN       INT64_MAX

typedef struct {
    sla_kind_t kind;
    int64_t duration_s;        /* SLA_CALENDAR / SLA_BUSINESS, >= 0 */
    int hh, mm;                /* SLA_NEXT_LOCAL_TIME local wall time */
    int warn_pct;              /* 1..100; 0 means SLA_DEFAULT_WARN_PCT */
    int64_t customer_deadline; /* UTC; 0 = none.  Used when earlier than the computed due */
    int64_t override_due;      /* UTC; 0 = none.  Replaces the due (approved extension) */
} sla_target_t;

/* [from, to) in UTC; to == SLA_PAUSE_OPEN while the pause is still running. */
typedef struct {
    int64_t from;
    int64_t to;
} sla_pause_t;

typedef struct {
    int64_t due_at;         /* effective due time (UTC) */
    int64_t computed_due;   /* due from the target alone, before customer deadline/override */
    int64_t warn_at;        /* when warn_pct of the target is used */
    int64_t used_seconds;   /* clock time used in [start, met_at or now), pauses excluded */
    int64_t paused_seconds; /* clock time inside pauses in the same range */
    sla_state_t state;
} sla_clock_t;

/*
 * Compute a clock.  target and out are required; cal (with its tz) is required
 * for every kind but SLA_CALENDAR; pauses may be NULL when npauses is 0 and
 * must be sorted and non-overlapping (only the last may be open); met_at is 0
 * when not met.  `Clock time` is business seconds for SLA_BUSINESS, wall
 * seconds otherwise.
 *
 * due_at: computed_due, replaced by customer_deadline when that is earlier,
 * then replaced by override_due when set.
 * warn_at: for SLA_CALENDAR/SLA_BUSINESS the instant the used clock time
 * reaches warn_pct % of duration_s (pauses extend it like the due); for the
 * wall-clock kinds, and whenever due_at differs from computed_due,
 * start + warn_pct % of (due_at - start) in wall time.
 * state: MET if met_at <= due_at, BREACHED if met_at > due_at; unmet clocks are
 * BREACHED once now >= due_at (paused or not: a clock paused after its due
 * passed stays breached), else PAUSED while a pause covers now, else RUNNING.
 *
 * Returns 0, -EINVAL on bad input (unknown kind, negative duration, bad hh:mm,
 * bad pauses, missing calendar), or -ERANGE when the business calendar has no
 * open time to finish the clock.  Nothing is allocated.
 */
int core_sla_compute(const sla_target_t *target, const calendar_t *cal, int64_t start,
                     const sla_pause_t *pauses, size_t npauses, int64_t met_at, int64_t now,
                     sla_clock_t *out);

/* API string for a state/kind ("running", "business", ...); NULL if out of range.
 * Static storage, do not free. */
const char *core_sla_state_name(sla_state_t state);
const char *core_sla_kind_name(sla_kind_t kind);

/* Parse an API string; returns the enum value or -1 when unknown (or NULL). */
int core_sla_state_from_string(const char *s);
int core_sla_kind_from_string(const char *s);

#endif /* CORE_SLA_H */
