/*
 * Business calendars: weekly opening hours in the project's local wall-clock
 * time, holidays (closed all day) and make-up working days (调休, a date that
 * would otherwise be closed and is opened with a separate set of hours).
 *
 * Meaning of "business time": an instant is open when its local wall-clock
 * reading (UTC + offset in force at that instant) falls inside an opening
 * segment of its local date.  So a segment that spans a DST gap is shorter in
 * real time by the gap, and one that spans an overlap is longer (the repeated
 * wall-clock hour is counted twice, as it really is worked twice).  Segment
 * boundaries never need a gap/overlap policy under this definition.
 *
 * The calendar does not own anything it points to; keep the tz rules and the
 * date arrays alive while the calendar is used.  All functions are pure and
 * thread-safe.
 */
#ifndef CORE_CALENDAR_H
#define CORE_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/tz.h"

#define CORE_CAL_MAX_SEGMENTS 4

/* Returned by the functions that yield an instant when there is none. */
#define CORE_CAL_ERROR INT64_MIN

/* Open from start_min to end_min (exclusive) minutes after local midnight, 0..1440. */
typedef struct {
    int16_t start_min;
    int16_t end_min;
} segment_t;

typedef struct {
    int nsegments; /* 0 = closed */
    segment_t seg[CORE_CAL_MAX_SEGMENTS];
} day_hours_t;

typedef struct {
    const tz_rules_t *tz;       /* not owned */
    day_hours_t weekly[7];      /* index 0 = Monday ... 6 = Sunday (core_weekday) */
    const int32_t *holidays;    /* local dates (days since epoch), ascending; not owned */
    size_t nholidays;           /* holiday: closed all day, overrides the weekly rule */
    const int32_t *makeup_days; /* local dates, ascending; not owned */
    size_t nmakeup_days;        /* make-up day: open with workday_segments, overrides weekly */
    day_hours_t workday_segments;
} calendar_t;

/*
 * Check the calendar's invariants: tz set; at most 4 segments a day, each with
 * 0 <= start < end <= 1440, ascending and non-overlapping (touching is fine);
 * holiday and make-up arrays strictly ascending (non-NULL when non-empty); no
 * date in both lists.  Returns 0, or -EINVAL and writes a human-readable reason
 * into err (if err is non-NULL and errlen > 0; always NUL-terminated).
 */
int core_calendar_validate(const calendar_t *cal, char *err, size_t errlen);

/*
 * Opening segments of local date local_day (days since epoch): the make-up
 * hours on a make-up day, none on a holiday, else the weekly hours of its
 * weekday.  Copies them into out (room for CORE_CAL_MAX_SEGMENTS) and returns
 * their count.  (A date in both lists is invalid; validate rejects it.)
 */
int core_calendar_segments_on(const calendar_t *cal, int32_t local_day,
                              segment_t out[CORE_CAL_MAX_SEGMENTS]);

/*
 * Visit, in increasing order, the open intervals [a, b) of UTC time clipped to
 * [from, to).  Adjacent intervals are not merged.  The callback returns 0 to
 * go on and non-zero to stop; that value is returned (0 when the walk ended).
 * ctx is passed through untouched.
 */
typedef int (*core_calendar_open_fn)(void *ctx, int64_t a, int64_t b);
int core_calendar_walk_open(const calendar_t *cal, int64_t from, int64_t to,
                            core_calendar_open_fn fn, void *ctx);

/*
 * The earliest instant t >= start_utc such that the business time in
 * [start_utc, t) equals `seconds` (so 0 gives start_utc, and an amount that
 * ends exactly at closing time gives the closing instant, not the next
 * opening).  Returns CORE_CAL_ERROR when seconds < 0 or when the calendar
 * has no open time for ~3 years (1100 days) in a row along the way.
 */
int64_t core_calendar_add_business(const calendar_t *cal, int64_t start_utc, int64_t seconds);

/* Business seconds in [a_utc, b_utc); 0 when b_utc <= a_utc. */
int64_t core_calendar_business_between(const calendar_t *cal, int64_t a_utc, int64_t b_utc);

/*
 * The first instant strictly after from_utc at which the local wall clock
 * reads hh:mm (0 <= hh < 24, 0 <= mm < 60), on any calendar day (holidays and
 * opening hours are ignored).  Both occurrences of an ambiguous hh:mm count;
 * an hh:mm skipped by a DST gap occurs at its gap-policy instant (tz.h).
 * Returns CORE_CAL_ERROR on bad hh/mm.
 */
int64_t core_calendar_next_local_time(const calendar_t *cal, int64_t from_utc, int hh, int mm);

/*
 * Start of the next local day: the first instant after from_utc whose local
 * wall clock is at or past midnight of the day following from_utc's local
 * date (normally that midnight itself; the transition instant if midnight
 * falls in a DST gap).
 */
int64_t core_calendar_end_of_local_day(const calendar_t *cal, int64_t from_utc);

#endif /* CORE_CALENDAR_H */
