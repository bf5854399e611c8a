/*
 * Business-calendar arithmetic (see calendar.h for what "business time" means
 * around DST changes).  Everything is built on one primitive, walk_open: it
 * splits UTC time into stretches of constant UTC offset and, inside each, maps
 * every opening segment of every local date touched back to UTC by
 * subtracting that offset.  Because the offset is constant on a stretch, the
 * mapping is exact and the intervals come out in increasing order.
 */
#include "core/calendar.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

/* Instants beyond this (about year 318,000) are refused rather than risk overflow. */
#define CAL_TIME_LIMIT INT64_C(10000000000000)
/* Give up when this much time passes with no open time at all. */
#define CAL_GIVE_UP (INT64_C(1100) * 86400)

static void set_err(char *err, size_t errlen, const char *what, int idx)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s (index %d)", what, idx);
}

static int check_day(const day_hours_t *h, char *err, size_t errlen, int idx)
{
    if (h->nsegments < 0 || h->nsegments > CORE_CAL_MAX_SEGMENTS) {
        set_err(err, errlen, "too many segments in a day", idx);
        return -EINVAL;
    }
    for (int i = 0; i < h->nsegments; i++) {
        const segment_t *s = &h->seg[i];
        if (s->start_min < 0 || s->end_min > 1440 || s->start_min >= s->end_min) {
            set_err(err, errlen, "segment must satisfy 0 <= start < end <= 1440", idx);
            return -EINVAL;
        }
        if (i > 0 && s->start_min < h->seg[i - 1].end_min) {
            set_err(err, errlen, "segments must be ascending and not overlap", idx);
            return -EINVAL;
        }
    }
    return 0;
}

static bool in_sorted(const int32_t *a, size_t n, int32_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] == v)
            return true;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

int core_calendar_validate(const calendar_t *cal, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!cal || !cal->tz) {
        set_err(err, errlen, "calendar has no time zone", -1);
        return -EINVAL;
    }
    for (int d = 0; d < 7; d++)
        if (check_day(&cal->weekly[d], err, errlen, d) < 0)
            return -EINVAL;
    if (check_day(&cal->workday_segments, err, errlen, 7) < 0)
        return -EINVAL;
    if ((cal->nholidays && !cal->holidays) || (cal->nmakeup_days && !cal->makeup_days)) {
        set_err(err, errlen, "date list is NULL but its count is not 0", -1);
        return -EINVAL;
    }
    for (size_t i = 1; i < cal->nholidays; i++)
        if (cal->holidays[i] <= cal->holidays[i - 1]) {
            set_err(err, errlen, "holidays must be strictly ascending", (int)i);
            return -EINVAL;
        }
    for (size_t i = 0; i < cal->nmakeup_days; i++) {
        if (i > 0 && cal->makeup_days[i] <= cal->makeup_days[i - 1]) {
            set_err(err, errlen, "make-up days must be strictly ascending", (int)i);
            return -EINVAL;
        }
        if (in_sorted(cal->holidays, cal->nholidays, cal->makeup_days[i])) {
            set_err(err, errlen, "date is both a holiday and a make-up day", (int)i);
            return -EINVAL;
        }
    }
    return 0;
}

int core_calendar_segments_on(const calendar_t *cal, int32_t local_day,
                              segment_t out[CORE_CAL_MAX_SEGMENTS])
{
    const day_hours_t *h;
    if (in_sorted(cal->makeup_days, cal->nmakeup_days, local_day))
        h = &cal->workday_segments;
    else if (in_sorted(cal->holidays, cal->nholidays, local_day))
        return 0;
    else
        h = &cal->weekly[core_weekday(local_day)];
    assert(h->nsegments >= 0 && h->nsegments <= CORE_CAL_MAX_SEGMENTS);
    for (int i = 0; i < h->nsegments; i++)
        out[i] = h->seg[i];
    return h->nsegments;
}

int core_calendar_walk_open(const calendar_t *cal, int64_t from, int64_t to,
                            core_calendar_open_fn fn, void *ctx)
{
    assert(cal && cal->tz && fn);
    if (from < -CAL_TIME_LIMIT)
        from = -CAL_TIME_LIMIT;
    if (to > CAL_TIME_LIMIT)
        to = CAL_TIME_LIMIT;
    int64_t ts = from;
    while (ts < to) {
        const int32_t off = core_tz_offset_at(cal->tz, ts);
        int64_t te = core_tz_next_transition(cal->tz, ts);
        if (te > to)
            te = to;
        const int64_t d0 = core_floor_div(ts + off, 86400);
        const int64_t d1 = core_floor_div(te - 1 + off, 86400);
        for (int64_t d = d0; d <= d1; d++) {
            segment_t segs[CORE_CAL_MAX_SEGMENTS];
            const int n = core_calendar_segments_on(cal, (int32_t)d, segs);
            for (int i = 0; i < n; i++) {
                int64_t a = d * 86400 + segs[i].start_min * 60 - off;
                int64_t b = d * 86400 + segs[i].end_min * 60 - off;
                if (a < ts)
                    a = ts;
                if (b > te)
                    b = te;
                if (a < b) {
                    int rc = fn(ctx, a, b);
                    if (rc)
                        return rc;
                }
            }
        }
        ts = te;
    }
    return 0;
}

typedef struct {
    int64_t remaining;
    int64_t result;
    bool progressed;
} add_ctx_t;

static int add_cb(void *p, int64_t a, int64_t b)
{
    add_ctx_t *c = p;
    c->progressed = true;
    if (c->remaining <= b - a) {
        c->result = a + c->remaining;
        return 1;
    }
    c->remaining -= b - a;
    return 0;
}

int64_t core_calendar_add_business(const calendar_t *cal, int64_t start_utc, int64_t seconds)
{
    if (seconds < 0 || start_utc < -CAL_TIME_LIMIT || start_utc > CAL_TIME_LIMIT)
        return CORE_CAL_ERROR;
    if (seconds == 0)
        return start_utc;
    add_ctx_t c = {.remaining = seconds};
    for (int64_t pos = start_utc; pos < CAL_TIME_LIMIT; pos += CAL_GIVE_UP) {
        c.progressed = false;
        if (core_calendar_walk_open(cal, pos, pos + CAL_GIVE_UP, add_cb, &c))
            return c.result;
        if (!c.progressed)
            return CORE_CAL_ERROR;
    }
    return CORE_CAL_ERROR;
}

static int sum_cb(void *p, int64_t a, int64_t b)
{
    *(int64_t *)p += b - a;
    return 0;
}

int64_t core_calendar_business_between(const calendar_t *cal, int64_t a_utc, int64_t b_utc)
{
    int64_t sum = 0;
    if (b_utc > a_utc)
        core_calendar_walk_open(cal, a_utc, b_utc, sum_cb, &sum);
    return sum;
}

int64_t core_calendar_next_local_time(const calendar_t *cal, int64_t from_utc, int hh, int mm)
{
    assert(cal && cal->tz);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || from_utc < -CAL_TIME_LIMIT ||
        from_utc > CAL_TIME_LIMIT)
        return CORE_CAL_ERROR;
    const int64_t d0 = core_floor_div(core_tz_utc_to_local(cal->tz, from_utc), 86400);
    int64_t best = INT64_MAX;
    for (int64_t d = d0 - 1; d <= d0 + 2; d++) {
        int64_t occ[2];
        int n = core_tz_local_resolve(cal->tz, d * 86400 + hh * 3600 + mm * 60, occ);
        if (n == 0)
            n = 1; /* gap: occ[0] is the policy instant */
        for (int i = 0; i < n; i++)
            if (occ[i] > from_utc && occ[i] < best)
                best = occ[i];
    }
    return best == INT64_MAX ? CORE_CAL_ERROR : best;
}

int64_t core_calendar_end_of_local_day(const calendar_t *cal, int64_t from_utc)
{
    assert(cal && cal->tz);
    if (from_utc < -CAL_TIME_LIMIT || from_utc > CAL_TIME_LIMIT)
        return CORE_CAL_ERROR;
    const int64_t midnight =
        (core_floor_div(core_tz_utc_to_local(cal->tz, from_utc), 86400) + 1) * 86400;
    int64_t ts = from_utc;
    while (ts < from_utc + 3 * 86400) {
        const int32_t off = core_tz_offset_at(cal->tz, ts);
        const int64_t te = core_tz_next_transition(cal->tz, ts);
        int64_t cand = midnight - off;
        if (cand <= ts)
            cand = ts == from_utc ? ts + 1 : ts;
        if (cand < te)
            return cand;
        ts = te;
    }
    return CORE_CAL_ERROR;
}
