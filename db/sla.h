/*
 * db/sla.h — SQL for SLA policies and calendars (versioned), the per-request SLA state,
 * the sweeper's work queue, alerts, notifications and deadline extensions.
 */
#ifndef DB_SLA_H
#define DB_SLA_H

#include "db/db.h"

/* The project's current calendar and active policies.  Rows: kind ('calendar' |
 * 'policy' | 'project'), version_id, definition (json text), match_type, match_severity,
 * match_category, name, policy_id, version.  The one 'project' row (version_id: the
 * project id) is there only when the project exists in the organisation.  Caller
 * PQclears. */
PGresult *db_sla_project_config(db_conn_t *c, const char *org, const char *project);
/* A version's definition by id (policy or calendar): json text malloc'd, or NULL. */
char *db_sla_version_definition(db_conn_t *c, const char *version_id, int calendar);

/* Projects of the organisation (or all, org NULL) lacking a calendar or policies. */
PGresult *db_sla_projects_without_config(db_conn_t *c);
/* Creates the calendar (version 1) of a project from a definition; 0 / -1. */
int db_sla_calendar_create(db_conn_t *c, const char *org, const char *project,
                           const char *definition, const char *user);
/* Writes a new calendar version (If-Match on the current version).  Returns 1 ok,
 * 0 stale version, -2 no calendar, -1 error; *new_version set. */
int db_sla_calendar_update(db_conn_t *c, const char *org, const char *project, int expect,
                           const char *definition, const char *user, int *new_version);
PGresult *db_sla_calendar_get(db_conn_t *c, const char *org, const char *project);

/* Policies. */
PGresult *db_sla_policy_create(db_conn_t *c, const char *org, const char *project, const char *name,
                               const char *mtype, const char *msev, const char *mcat,
                               const char *definition, const char *user);
PGresult *db_sla_policy_get(db_conn_t *c, const char *org, const char *id);
PGresult *db_sla_policy_list(db_conn_t *c, const char *org, const char *projects,
                             const char *project);
/* New version (definition and/or name, active).  1 ok, 0 stale, -2 none, -1 error. */
int db_sla_policy_update(db_conn_t *c, const char *org, const char *id, int expect,
                         const char *name, const char *definition, const char *active,
                         const char *user);

/* The SLA view of one request: columns type, severity, night_desk, validity,
 * customer_deadline (epoch or 0), policy version id, calendar version id,
 * escalation_level, events json, alerts json, project_id, state, max seq, number,
 * policy name, policy version, calendar version, policy id. */
PGresult *db_sla_request(db_conn_t *c, const char *org, const char *id, int lock);

/* Writes due columns and the next check: vals = policy version, calendar version,
 * due_first_response .. due_gm_report (7), next_due, next_check — timestamps as
 * RFC 3339 text or NULL. */
int db_sla_request_store(db_conn_t *c, const char *id, const char *const vals[11]);

/* Sweeper: claims up to limit requests whose next check is due (FOR UPDATE SKIP
 * LOCKED) inside the caller's transaction; `only` (or NULL) limits it to one request,
 * `org` (or NULL) to one organisation.
 * Same columns as db_sla_request plus id, org_id. */
PGresult *db_sla_claim(db_conn_t *c, const char *now, int limit, const char *only, const char *org);
/* One round trip, no transaction: is any request (of org, or of any organisation when
 * org is NULL) due for a check?  1 / 0 / -1. */
int db_sla_anything_due(db_conn_t *c, const char *now, const char *org);
/* Applies alerts (JSON array of {request_id, org_id, project_id, target, kind, level,
 * due_at, seq, number, assignee_id}) — inserts the ones not yet recorded, their
 * timeline events and notifications, and raises levels.  Returns a result with
 * (warnings, escalations) counts. */
PGresult *db_sla_apply_alerts(db_conn_t *c, const char *alerts_json, const char *now);
/* Stores due columns for many requests: JSON array of {id, due_*, next_due, next_check,
 * level}; the requests' audit rows come from the row trigger, one call per row. */
int db_sla_store_many(db_conn_t *c, const char *json);
/* The same UPDATE and the same audit rows, written by one INSERT (sla_store_batch(),
 * migration 0042).  Only for a transaction that holds these requests' row locks (the claim)
 * and wrote none of them before (a sweep batch): the before-images are read from its
 * snapshot, and the audit row of an earlier write is not merged with.  0 / -1. */
int db_sla_store_batch(db_conn_t *c, const char *json);

/* Notifies the users at ladder `level` (role by level, assigned to the project; the
 * GM organisation-wide).  0 / -1. */
int db_sla_notify_ladder(db_conn_t *c, const char *org, const char *project, const char *request,
                         int level, const char *kind, const char *payload);

/* Notifications. */
PGresult *db_notifications_list(db_conn_t *c, const char *org, const char *user, const char *unread,
                                const char *after_ts, const char *after_id, int limit);
int db_notification_read(db_conn_t *c, const char *org, const char *user, const char *id);

/* Extensions. */
/* The stored due time (epoch s) of one target of the request: 0 when it has none, -1 on
 * error. */
long long db_sla_target_due(db_conn_t *c, const char *org, const char *request, const char *target);
PGresult *db_sla_extension_create(db_conn_t *c, const char *org, const char *request,
                                  const char *target, const char *due, const char *reason,
                                  const char *user);
/* The state of extension `id` on the request: 1 found (state copied), 0 none, -1 error. */
int db_sla_extension_state(db_conn_t *c, const char *org, const char *request, const char *id,
                           char *state, size_t len);
PGresult *db_sla_extension_decide(db_conn_t *c, const char *org, const char *request,
                                  const char *id, const char *state, const char *user,
                                  const char *note);
char *db_sla_extensions_json(db_conn_t *c, const char *org, const char *request);

/* Idempotency-key clean-up (kept here: the sweeper runs it). */
int db_sla_escalation_count(db_conn_t *c, const char *request);

#endif
