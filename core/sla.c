/*
 * SLA clock computation (see sla.h for the pause and state rules).  Calendar
 * targets are plain arithmetic over the pause list; business targets walk the
 * calendar's open intervals (core_calendar_walk_open) and cut the pauses out
 * of them; wall-clock targets ask the calendar for the rule's instant.
 */
#include "core/sla.h"
#include "core/strtab.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Durations above ~31,700 years are refused so that percentages cannot overflow. */
#define SLA_MAX_DURATION INT64_C(1000000000000)
#define SLA_GIVE_UP      (INT64_C(1100) * 86400)

static const char *const kind_names[SLA_KIND_COUNT] = {
    [SLA_CALENDAR] = "calendar",
    [SLA_BUSINESS] = "business",
    [SLA_END_OF_DAY] = "end_of_day",
    [SLA_NEXT_LOCAL_TIME] = "next_local_time",
};

static const char *const state_names[SLA_STATE_COUNT] = {
    [SLA_RUNNING] = "running",
    [SLA_PAUSED] = "paused",
    [SLA_MET] = "met",
    [SLA_BREACHED] = "breached",
};

const char *core_sla_state_name(sla_state_t state)
{
    return (unsigned)state < SLA_STATE_COUNT ? state_names[state] : NULL;
}

const char *core_sla_kind_name(sla_kind_t kind)
{
    return (unsigned)kind < SLA_KIND_COUNT ? kind_names[kind] : NULL;
}

int core_sla_state_from_string(const char *s)
{
    return core_strtab_index(state_names, SLA_STATE_COUNT, s);
}

int core_sla_kind_from_string(const char *s)
{
    return core_strtab_index(kind_names, SLA_KIND_COUNT, s);
}

/* The pause list as the clock sees it: clipped to start, an open pause ended
 * at open_end; on a met clock every pause is also cut off at met_at (= open_end),
 * so that pausing the request after the clock was met cannot move its due time.
 * Empty pauses are simply skipped by the callers. */
typedef struct {
    const sla_pause_t *p;
    size_t n;
    int64_t start;
    int64_t open_end;
    bool met;
} pauses_t;

static bool pause_get(const pauses_t *ps, size_t i, int64_t *from, int64_t *to)
{
    *from = ps->p[i].from < ps->start ? ps->start : ps->p[i].from;
    *to = ps->p[i].to == SLA_PAUSE_OPEN ? ps->open_end : ps->p[i].to;
    if (ps->met && *to > ps->open_end)
        *to = ps->open_end;
    return *from < *to;
}

static int pauses_check(const sla_pause_t *p, size_t n)
{
    if (n > 0 && !p)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (p[i].from >= p[i].to)
            return -EINVAL;
        if (p[i].to == SLA_PAUSE_OPEN && i + 1 != n)
            return -EINVAL;
        if (i > 0 && p[i].from < p[i - 1].to)
            return -EINVAL;
    }
    return 0;
}

/* Earliest t with (wall time in [start, t) outside pauses) == amount. */
static int64_t wall_add(const pauses_t *ps, int64_t amount)
{
    int64_t t = ps->start, rem = amount;
    for (size_t i = 0; i < ps->n; i++) {
        int64_t f, e;
        if (!pause_get(ps, i, &f, &e) || e <= t)
            continue;
        if (f >= t + rem)
            break;
        if (f > t)
            rem -= f - t;
        t = e;
    }
    return t + rem;
}

/* Wall seconds of [a, b) covered by pauses. */
static int64_t wall_paused(const pauses_t *ps, int64_t a, int64_t b)
{
    int64_t sum = 0;
    for (size_t i = 0; i < ps->n; i++) {
        int64_t f, e;
        if (!pause_get(ps, i, &f, &e))
            continue;
        if (f < a)
            f = a;
        if (e > b)
            e = b;
        if (f < e)
            sum += e - f;
    }
    return sum;
}

/* Walks open business intervals, cutting pauses out, until `remaining`
 * unpaused business seconds have been seen. */
typedef struct {
    const pauses_t *ps;
    size_t i;          /* first pause that may still matter */
    int64_t remaining; /* INT64_MAX = just count */
    int64_t result;
    int64_t counted; /* unpaused open seconds seen */
    int64_t total;   /* open seconds seen */
} biz_ctx_t;

static int biz_cb(void *p, int64_t a, int64_t b)
{
    biz_ctx_t *c = p;
    c->total += b - a;
    while (a < b) {
        int64_t f = 0, e = 0;
        while (c->i < c->ps->n && (!pause_get(c->ps, c->i, &f, &e) || e <= a))
            c->i++;
        int64_t stop = b;
        if (c->i < c->ps->n) {
            if (f <= a) {
                a = e < b ? e : b; /* paused stretch: does not count */
                continue;
            }
            if (f < b)
                stop = f;
        }
        if (c->remaining <= stop - a) {
            c->result = a + c->remaining;
            c->counted += c->remaining;
            return 1;
        }
        c->remaining -= stop - a;
        c->counted += stop - a;
        a = stop;
    }
    return 0;
}

/* Earliest t with (business time in [start, t) outside pauses) == amount;
 * CORE_CAL_ERROR when the calendar stays closed for SLA_GIVE_UP. */
static int64_t business_add(const calendar_t *cal, const pauses_t *ps, int64_t amount)
{
    if (amount == 0)
        return ps->start;
    biz_ctx_t c = {.ps = ps, .remaining = amount};
    for (int64_t pos = ps->start; pos < INT64_C(10000000000000); pos += SLA_GIVE_UP) {
        int64_t seen = c.total;
        if (core_calendar_walk_open(cal, pos, pos + SLA_GIVE_UP, biz_cb, &c))
            return c.result;
        if (c.total == seen)
            return CORE_CAL_ERROR;
    }
    return CORE_CAL_ERROR;
}

static int64_t due_for(const sla_target_t *tg, const calendar_t *cal, const pauses_t *ps,
                       int64_t amount)
{
    return tg->kind == SLA_BUSINESS ? business_add(cal, ps, amount) : wall_add(ps, amount);
}

static bool paused_at(const sla_pause_t *p, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].from <= now && (p[i].to == SLA_PAUSE_OPEN || now < p[i].to))
            return true;
    return false;
}

int core_sla_compute(const sla_target_t *tg, const calendar_t *cal, int64_t start,
                     const sla_pause_t *pauses, size_t npauses, int64_t met_at, int64_t now,
                     sla_clock_t *out)
{
    if (!tg || !out || (unsigned)tg->kind >= SLA_KIND_COUNT || tg->warn_pct < 0 ||
        tg->warn_pct > 100 || pauses_check(pauses, npauses) < 0)
        return -EINVAL;
    if (tg->kind != SLA_CALENDAR && (!cal || !cal->tz))
        return -EINVAL;
    if ((tg->kind == SLA_CALENDAR || tg->kind == SLA_BUSINESS) &&
        (tg->duration_s < 0 || tg->duration_s > SLA_MAX_DURATION))
        return -EINVAL;
    if (tg->kind == SLA_NEXT_LOCAL_TIME && (tg->hh < 0 || tg->hh > 23 || tg->mm < 0 || tg->mm > 59))
        return -EINVAL;

    memset(out, 0, sizeof(*out));
    const int pct = tg->warn_pct ? tg->warn_pct : SLA_DEFAULT_WARN_PCT;
    const int64_t end = met_at ? met_at : now;
    const pauses_t ps = {
        .p = pauses, .n = npauses, .start = start, .open_end = end, .met = met_at != 0};
    int64_t due, warn = 0;

    switch (tg->kind) {
    case SLA_CALENDAR:
    case SLA_BUSINESS:
        due = due_for(tg, cal, &ps, tg->duration_s);
        warn = due_for(tg, cal, &ps, tg->duration_s * pct / 100);
        if (due == CORE_CAL_ERROR || warn == CORE_CAL_ERROR)
            return -ERANGE;
        break;
    case SLA_END_OF_DAY:
        due = core_calendar_end_of_local_day(cal, start);
        break;
    default:
        due = core_calendar_next_local_time(cal, start, tg->hh, tg->mm);
        break;
    }
    if (due == CORE_CAL_ERROR)
        return -ERANGE;
    out->computed_due = due;
    if (tg->customer_deadline && tg->customer_deadline < due)
        due = tg->customer_deadline;
    if (tg->override_due)
        due = tg->override_due;
    if (tg->kind == SLA_END_OF_DAY || tg->kind == SLA_NEXT_LOCAL_TIME || due != out->computed_due)
        warn = start + (due - start) * pct / 100;
    out->due_at = due;
    out->warn_at = warn;

    if (end > start) {
        if (tg->kind == SLA_BUSINESS) {
            biz_ctx_t c = {.ps = &ps, .remaining = INT64_MAX};
            core_calendar_walk_open(cal, start, end, biz_cb, &c);
            out->used_seconds = c.counted;
            out->paused_seconds = c.total - c.counted;
        } else {
            out->paused_seconds = wall_paused(&ps, start, end);
            out->used_seconds = end - start - out->paused_seconds;
        }
    }

    if (met_at)
        out->state = met_at <= due ? SLA_MET : SLA_BREACHED;
    else if (now >= due)
        out->state = SLA_BREACHED;
    else if (paused_at(pauses, npauses, now))
        out->state = SLA_PAUSED;
    else
        out->state = SLA_RUNNING;
    return 0;
}
