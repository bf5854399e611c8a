/*
 * Time-zone rules and civil-date arithmetic for core/.  A project's zone is
 * read from the system tz database by the caller (core/ does no I/O); this file
 * turns the bytes of a TZif file (RFC 8536, versions 1-3, including the POSIX
 * TZ footer that governs instants after the last stored transition) into an
 * immutable tz_rules_t that can be shared between threads.  All instants are
 * int64_t seconds since 1970-01-01T00:00:00Z (POSIX time, leap seconds
 * ignored).  A "local" value is the local wall clock written as seconds since
 * 1970-01-01T00:00 on that wall clock ("local epoch"), so local / 86400
 * (floored) is the local date as days since epoch.
 *
 * Local-to-UTC policy (documented once here, used everywhere in core/):
 *   - gap (a wall time skipped when clocks jump forward): the wall time is
 *     shifted forward by the length of the gap, i.e. it is read with the
 *     offset in force *before* the gap (02:30 on a New York spring-forward
 *     day becomes 03:30 EDT), as PostgreSQL does;
 *   - overlap (a wall time that occurs twice when clocks go back): the
 *     earlier instant (first occurrence) is chosen.
 */
#ifndef CORE_TZ_H
#define CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

/* Opaque, immutable after parsing; safe to read from many threads. */
typedef struct tz_rules tz_rules_t;

/* Largest |offset| accepted from a TZif file or POSIX string (26 hours). */
#define CORE_TZ_MAX_OFFSET (26 * 3600)

/*
 * Parse the bytes of a TZif file (v1, v2 or v3).  For v2+ the 64-bit data block
 * and the footer TZ string are used; leap-second records are skipped.  Both
 * "fat" files (transitions listed up to 2037) and "slim" files (few
 * transitions, footer does the rest) are handled.  buf is only read during the
 * call.  On success returns 0 and stores a new object in *out that the caller
 * frees with core_tz_free(); on malformed input returns a negative errno value
 * (-EINVAL) and leaves *out NULL; -ENOMEM on allocation failure.
 */
int core_tz_parse_tzif(const unsigned char *buf, size_t len, tz_rules_t **out);

/*
 * Build rules from a POSIX TZ string alone ("CST-8", "EST5EDT,M3.2.0,M11.1.0",
 * "<+0330>-3:30", "CET-1CEST,M3.5.0,M10.5.0/3").  Same return/ownership
 * contract as core_tz_parse_tzif().  Useful for tests and fixed zones.
 */
int core_tz_parse_posix(const char *tz, tz_rules_t **out);

/* Free rules returned by a core_tz_parse_*() function.  NULL is a no-op. */
void core_tz_free(tz_rules_t *tz);

/* UTC offset in seconds east of Greenwich in force at instant utc. */
int32_t core_tz_offset_at(const tz_rules_t *tz, int64_t utc);

/*
 * The first instant strictly after utc at which the offset may change (a
 * stored transition, or one computed from the footer rule), or INT64_MAX when
 * the offset never changes again.  The offset is constant on [utc, result).
 */
int64_t core_tz_next_transition(const tz_rules_t *tz, int64_t utc);

/*
 * Resolve a local wall-clock value (seconds since the local epoch) to UTC.
 * Writes the instants whose wall clock reads exactly `local` into out[] in
 * increasing order and returns how many there are: 1 normally, 2 in an
 * overlap, 0 in a gap.  For 0, out[0] receives the gap-policy instant (see the
 * file comment).  At most 2 instants are reported.
 */
int core_tz_local_resolve(const tz_rules_t *tz, int64_t local, int64_t out[2]);

/*
 * Local wall clock -> UTC with the policy in the file comment: a gap time is
 * shifted forward by the gap, an ambiguous time maps to its first occurrence.
 */
int64_t core_tz_local_to_utc(const tz_rules_t *tz, int64_t local);

/* UTC -> local wall clock (utc + offset_at(utc)). */
int64_t core_tz_utc_to_local(const tz_rules_t *tz, int64_t utc);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d 1..31).
 * Howard Hinnant's days_from_civil. */
int64_t core_days_from_civil(int64_t y, int m, int d);

/* Inverse of core_days_from_civil(); any output pointer may be NULL. */
void core_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Day of week of a day number: 0 = Monday, 1 = Tuesday, ..., 6 = Sunday (ISO order). */
int core_weekday(int64_t days);

/* floor(a / b) for b > 0, for turning seconds into day numbers before 1970 too. */
int64_t core_floor_div(int64_t a, int64_t b);

/*
 * A set of named zones that grows as zones are added (a server loads each zone the
 * first time a calendar names it).  Lookups are by exact name.  The table owns the
 * rules it holds; a pointer returned by core_tz_table_find()/core_tz_table_add() stays
 * valid until core_tz_table_free(), however much the table grows meanwhile, so callers
 * may keep it (e.g. in a cached calendar).  Growth is bounded by the zones that exist
 * (the caller only adds zones it could load).  Not thread-safe: the caller serialises.
 */
typedef struct tz_table tz_table_t;

/* A new empty table (free with core_tz_table_free), or NULL when out of memory. */
tz_table_t *core_tz_table_new(void);
/* Frees the table and every rules object in it.  NULL is a no-op. */
void core_tz_table_free(tz_table_t *t);
/* The rules stored under name, or NULL. */
const tz_rules_t *core_tz_table_find(const tz_table_t *t, const char *name);
/* Stores tz under name and takes ownership of tz in every case: returns the stored
 * rules; when name is already present the existing rules are returned and tz is freed;
 * NULL (tz freed) when out of memory. */
const tz_rules_t *core_tz_table_add(tz_table_t *t, const char *name, tz_rules_t *tz);
/* Number of zones stored. */
size_t core_tz_table_count(const tz_table_t *t);

#endif /* CORE_TZ_H */
