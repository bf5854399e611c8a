/*
 * core/sla_policy.h — SLA policy and business-calendar definitions: the JSON an
 * administrator writes (and the database keeps, versioned) turned into the structs the
 * clocks run on, with every rule of a valid definition checked here.  Pure: the JSON
 * text and the time-zone rules come in as arguments; nothing is read or cached.
 *
 * Policy:   {"targets": {"resolution": {"kind": "calendar", "minutes": 2880},
 *                        "gm_report": {"kind": "next_local_time", "at": "09:00"}, ...},
 *            "warn_pct": 80, "escalate_every_minutes": 60}
 * Calendar: {"time_zone": "Asia/Shanghai",
 *            "weekly": {"mon": [["09:00","12:00"],["13:00","18:00"]], ...},
 *            "holidays": ["2026-10-01", ...], "makeup_days": ["2026-09-27", ...],
 *            "makeup_hours": [["09:00","18:00"]]}
 */
#ifndef CORE_SLA_POLICY_H
#define CORE_SLA_POLICY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/calendar.h"
#include "core/sla_request.h"

/* Weekly opening hours {"mon": [["09:00","12:00"], ...], ...} (a missing day is closed):
 * at most 4 sorted, non-overlapping segments a day.  0, or -1 with err set.  Also the
 * check of a project's business_hours. */
int core_sla_weekly_parse(const cJSON *weekly, day_hours_t out[7], char *err, size_t errlen);

/* Resolves an IANA zone name to its rules (owned by the resolver, living at least as
 * long as the calendar), or NULL when there is no such zone. */
typedef const tz_rules_t *(*sla_zone_lookup_fn)(const char *name, void *ctx);

/* A parsed calendar: cal points into holidays/makeup (owned) and at the resolver's
 * zone (not owned); tz is the zone's name. */
typedef struct sla_calendar_def {
    calendar_t cal;
    int32_t *holidays, *makeup;
    char tz[64];
} sla_calendar_def_t;

/* Parses and validates a calendar definition (zone names through zone(name, zone_ctx)).
 * 0 (out filled; free with core_sla_calendar_def_free), or -1 with err set and out
 * empty.  Dates are "YYYY-MM-DD" from 1970 to 2200, sorted and de-duplicated. */
int core_sla_calendar_parse(const char *json, sla_zone_lookup_fn zone, void *zone_ctx,
                            sla_calendar_def_t *out, char *err, size_t errlen);
void core_sla_calendar_def_free(sla_calendar_def_t *d);

/* Parses and validates a policy definition.  0, or -1 with err set.  warn_pct defaults
 * to SLA_DEFAULT_WARN_PCT and escalate_every_minutes to 60. */
int core_sla_policy_parse(const char *json, sla_policy_t *out, char *err, size_t errlen);
/* The definition of a policy (what core_sla_policy_parse reads back to the same
 * policy); the caller deletes it. */
cJSON *core_sla_policy_json(const sla_policy_t *p);

#endif
