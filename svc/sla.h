/*
 * api/sla_engine.h — glue between core/sla_request (pure) and the database: loads and
 * caches policy and calendar versions (immutable, so cached for the process's life),
 * time-zone rules from the system tz database, computes a request's clocks and stores
 * them, and runs sweeps.
 */
#ifndef API_SLA_ENGINE_H
#define API_SLA_ENGINE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/sla_request.h"
#include "db/db.h"

/* Due columns for a request (RFC 3339 text or "" for NULL). */
typedef struct sla_dues {
    char policy_version[40], calendar_version[40];
    char due[SLA_T__COUNT][32];
    char next_due[32], next_check[32];
} sla_dues_t;

/* Clocks for a request about to be created (its timeline is the single create event).
 * Returns 0 (dues filled; empty when the project has no SLA configuration) or -1. */
int sla_for_new_request(db_conn_t *c, const char *org, const char *project, const char *type,
                        const char *severity, const char *category, int night_desk,
                        int needs_callback, int64_t customer_deadline, const char *actor_role,
                        int64_t received, int64_t now, sla_dues_t *out);

/* Recomputes and stores a request's clocks from its timeline (inside the caller's
 * transaction, row locked by the caller).  reapply: match the project's current policy
 * and calendar again instead of keeping the versions it started with.  0 / -1. */
int sla_refresh_request(db_conn_t *c, const char *org, const char *request_id, int64_t now,
                        int reapply);

typedef struct sla_sweep_stats {
    int examined, warnings, escalations, batches;
} sla_sweep_stats_t;

/* One sweep: claims due requests in batches (FOR UPDATE SKIP LOCKED), records warnings
 * and escalations once each, stores the new due times.  0 / -1. */
int sla_sweep(db_conn_t *c, int64_t now, int max_requests, sla_sweep_stats_t *st);
/* The same, limited to the requests of one organisation (an administrator's sweep). */
int sla_sweep_org(db_conn_t *c, const char *org, int64_t now, int max_requests,
                  sla_sweep_stats_t *st);

/* Sweeps one request now if it has something due (a major complaint going to the GM
 * at creation).  Must be called outside a transaction.  0 / -1. */
int sla_sweep_request(db_conn_t *c, const char *request_id, int64_t now);

/* Gives projects without a calendar or policies the defaults (SPEC §4). 0 / -1. */
int sla_ensure_defaults(db_conn_t *c);
/* Forgets cached project configuration (after a policy/calendar change). */
void sla_invalidate_project(const char *project);

/* Parses/validates definitions (shared with the admin handlers).  err gets a message. */
int sla_policy_parse(const char *json, sla_policy_t *out, char *err, size_t errlen);
int sla_calendar_check(const char *json, char *err, size_t errlen);
/* Weekly opening hours {"mon": [["09:00","12:00"], ...], ...} (a missing day is closed):
 * at most 4 sorted, non-overlapping segments a day.  0, or -1 with err set.  Also the
 * check of a project's business_hours. */
int sla_weekly_parse(const cJSON *weekly, day_hours_t out[7], char *err, size_t errlen);

/* The explanation of a request's clocks as JSON (malloc'd), or NULL (404 when *found
 * is 0). */
char *sla_explain(db_conn_t *c, const char *org, const char *request_id, int64_t now, int *found);

void sla_background_start(int interval_ms);
void sla_background_stop(void);

#endif
