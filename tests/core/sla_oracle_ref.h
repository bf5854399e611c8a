/*
 * Slow, obviously-correct reference for SLA clocks, used by test_sla_oracle.c.
 * It steps through time one minute at a time; for each minute it asks only
 * core_tz_offset_at() for the local wall clock and decides "open?" and
 * "paused?" from its own copy of the calendar.  It never calls core_calendar_*
 * or core_sla_*.  All inputs must be whole minutes (zone offsets since 1990 are
 * whole minutes, so every minute has a single offset and a single state).
 */
#ifndef SLA_ORACLE_REF_H
#define SLA_ORACLE_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/sla.h"
#include "core/tz.h"

#define REF_MAX_DATES 16
#define REF_LIMIT     (INT64_C(400) * 86400)

typedef struct {
    int n;
    int seg[4][2]; /* [start_min, end_min) */
} ref_day_t;

typedef struct {
    ref_day_t weekly[7]; /* 0 = Monday */
    int32_t holidays[REF_MAX_DATES];
    int nholidays;
    int32_t makeup[REF_MAX_DATES];
    int nmakeup;
    ref_day_t makeup_hours;
} ref_cal_t;

typedef struct {
    int64_t due, computed_due, warn, used, paused;
    int state;
} ref_out_t;

static int64_t ref_local(const tz_rules_t *tz, int64_t t)
{
    return t + core_tz_offset_at(tz, t);
}

static bool ref_in_list(const int32_t *a, int n, int32_t v)
{
    for (int i = 0; i < n; i++)
        if (a[i] == v)
            return true;
    return false;
}

/* Is the minute starting at t inside opening hours? */
static bool ref_open(const ref_cal_t *c, const tz_rules_t *tz, int64_t t)
{
    int64_t local = ref_local(tz, t);
    int64_t day = core_floor_div(local, 86400);
    int minute = (int)((local - day * 86400) / 60);
    const ref_day_t *h;
    if (ref_in_list(c->makeup, c->nmakeup, (int32_t)day))
        h = &c->makeup_hours;
    else if (ref_in_list(c->holidays, c->nholidays, (int32_t)day))
        return false;
    else
        h = &c->weekly[core_weekday(day)];
    for (int i = 0; i < h->n; i++)
        if (minute >= h->seg[i][0] && minute < h->seg[i][1])
            return true;
    return false;
}

/* Pauses as the clock sees them: [from, to) with from >= start, an open
 * pause ending at met_at (if met) or now; a met clock is frozen at met_at, so
 * nothing after it is a pause of that clock. */
static bool ref_paused(const sla_pause_t *p, int n, int64_t start, int64_t open_end, bool met,
                       int64_t t)
{
    if (met && t >= open_end)
        return false;
    for (int i = 0; i < n; i++) {
        int64_t f = p[i].from < start ? start : p[i].from;
        int64_t e = p[i].to == SLA_PAUSE_OPEN ? open_end : p[i].to;
        if (t >= f && t < e)
            return true;
    }
    return false;
}

static int64_t ref_business_between(const ref_cal_t *c, const tz_rules_t *tz, int64_t a, int64_t b)
{
    int64_t sum = 0;
    for (int64_t t = a; t < b; t += 60)
        if (ref_open(c, tz, t))
            sum += 60;
    return sum;
}

/* First minute boundary after start whose local date is later than start's. */
static int64_t ref_end_of_day(const tz_rules_t *tz, int64_t start)
{
    int64_t d0 = core_floor_div(ref_local(tz, start), 86400);
    for (int64_t t = start + 60;; t += 60)
        if (core_floor_div(ref_local(tz, t), 86400) > d0)
            return t;
}

/* Occurrences of wall time hh:mm: minutes whose wall clock reads it, plus, where the clock
 * jumps forward over it, the instant it maps to when read with the offset before the jump
 * (gap policy).  Returns the first occurrence strictly after start. */
static int64_t ref_next_local_time(const tz_rules_t *tz, int64_t start, int hh, int mm)
{
    const int64_t target = hh * 3600 + mm * 60;
    int64_t best = INT64_MAX;
    for (int64_t t = start - 2 * 86400; t < start + 3 * 86400; t += 60) {
        int64_t prev = ref_local(tz, t - 60), cur = ref_local(tz, t);
        if (cur - core_floor_div(cur, 86400) * 86400 == target) {
            if (t > start && t < best)
                best = t;
        } else if (cur > prev + 60) {
            /* Wall values prev+60 .. cur-60 were skipped. */
            for (int64_t l = prev + 60; l < cur; l += 60)
                if (l - core_floor_div(l, 86400) * 86400 == target) {
                    int64_t occ = l - (prev - (t - 60));
                    if (occ > start && occ < best)
                        best = occ;
                }
        }
    }
    return best;
}

/* Reference clock.  Returns 0, or -1 when the search limit was hit (then only
 * o->computed_due is set, for duration targets: the due, or INT64_MAX when it lies
 * beyond the limit). */
static int ref_clock(const sla_target_t *tg, const ref_cal_t *c, const tz_rules_t *tz,
                     int64_t start, const sla_pause_t *p, int np, int64_t met_at, int64_t now,
                     ref_out_t *o)
{
    const int pct = tg->warn_pct ? tg->warn_pct : 80;
    const int64_t end = met_at ? met_at : now;
    const bool biz = tg->kind == SLA_BUSINESS;
    const bool dur = tg->kind == SLA_CALENDAR || biz;
    const int64_t D = dur ? tg->duration_s : 0, W = D * pct / 100;
    bool due_found = !dur || D == 0, warn_found = !dur || W == 0;
    int64_t due = start, warn = start, cnt = 0, used = 0, paused = 0;

    for (int64_t t = start; !(due_found && warn_found && t >= end); t += 60) {
        if (t - start > REF_LIMIT) {
            /* Only the due time can still be judged: found, or beyond the limit. */
            o->computed_due = dur ? (due_found ? due : INT64_MAX) : 0;
            return -1;
        }
        bool open = biz ? ref_open(c, tz, t) : true;
        bool ps = ref_paused(p, np, start, end, met_at != 0, t);
        if (t < end && open) {
            if (ps)
                paused += 60;
            else
                used += 60;
        }
        if (dur && open && !ps) {
            if (!warn_found && cnt + 60 >= W) {
                warn = t + (W - cnt);
                warn_found = true;
            }
            if (!due_found && cnt + 60 >= D) {
                due = t + (D - cnt);
                due_found = true;
            }
            cnt += 60;
        }
    }
    if (tg->kind == SLA_END_OF_DAY)
        due = ref_end_of_day(tz, start);
    else if (tg->kind == SLA_NEXT_LOCAL_TIME)
        due = ref_next_local_time(tz, start, tg->hh, tg->mm);

    o->computed_due = due;
    if (tg->customer_deadline && tg->customer_deadline < due)
        due = tg->customer_deadline;
    if (tg->override_due)
        due = tg->override_due;
    if (!dur || due != o->computed_due)
        warn = start + (due - start) * pct / 100;
    o->due = due;
    o->warn = warn;
    o->used = used;
    o->paused = paused;

    bool paused_now = false;
    for (int i = 0; i < np; i++)
        if (p[i].from <= now && (p[i].to == SLA_PAUSE_OPEN || now < p[i].to))
            paused_now = true;
    if (met_at)
        o->state = met_at <= due ? SLA_MET : SLA_BREACHED;
    else if (now >= due)
        o->state = SLA_BREACHED;
    else
        o->state = paused_now ? SLA_PAUSED : SLA_RUNNING;
    return 0;
}

#endif /* SLA_ORACLE_REF_H */
