/*
 * db/patrol.h — patrol plans, rounds, findings and missed slots (RULES §3.10); see
 * db/migrations/0019_patrols.sql.  Functions returning char * give malloc'd JSON text or
 * NULL (absent, or the error noted).
 */
#ifndef DB_PATROL_H
#define DB_PATROL_H

#include <stdint.h>

#include "db/db.h"

/* Creates or replaces the plan of (project, kind).  times: text[] literal.  grace/active
 * NULL: 30 / true.  Column 0 the plan's JSON, column 1 't' when it was created. */
PGresult *db_patrol_plan_put(db_conn_t *c, const char *org, const char *project, const char *kind,
                             const char *times, const char *grace, const char *active);
char *db_patrol_plans(db_conn_t *c, const char *org, const char *projects, const char *project);

/* The plan slot a new round of `kind` belongs to: planned_at given → that slot (yesterday,
 * today or tomorrow local); NULL → the nearest slot within 3 hours of now with no round yet.
 * Columns: 0 plan_id, 1 planned_at.  No row: none. */
PGresult *db_patrol_slot_pick(db_conn_t *c, const char *org, const char *project, const char *kind,
                              const char *planned_at);

/* Which person is not an active staff member of the project: "", "follow_up_id",
 * "responsible_id" or "participants". */
char *db_patrol_check_people(db_conn_t *c, const char *org, const char *project,
                             const char *follow_up, const char *responsible,
                             const char *participants);

char *db_patrol_round_create(db_conn_t *c, const char *org, const char *project, const char *kind,
                             const char *plan, const char *planned_at, const char *by,
                             const char *participants, const char *coverage, const char *note);
/* The round with its findings (the detail). */
char *db_patrol_round_json(db_conn_t *c, const char *org, const char *id);
/* Locks a round.  Columns: 0 project_id, 1 kind, 2 state, 3 started_at (epoch s),
 * 4 checks (JSON), 5 version. */
PGresult *db_patrol_round_lock(db_conn_t *c, const char *org, const char *id);
int db_patrol_round_checks(db_conn_t *c, const char *org, const char *id, const char *checks);
/* The round's findings without a disposition: column 0 JSON array, column 1 count. */
PGresult *db_patrol_undisposed(db_conn_t *c, const char *round);
int db_patrol_round_finish(db_conn_t *c, const char *org, const char *id, const char *by,
                           const char *reason);
PGresult *db_patrol_round_list(db_conn_t *c, const char *org, const char *projects,
                               const char *project, const char *state, const char *kind,
                               const char *after_ts, const char *after_id, int limit);

/* A photo taken on a round (the file in object storage): vals are filename, content_type,
 * size_bytes, storage_key, url|NULL, sha256|NULL (api_attachment_fields).  Its JSON. */
char *db_patrol_photo_add(db_conn_t *c, const char *org, const char *project, const char *round,
                          const char *const *vals, const char *by);
char *db_patrol_photo_json(db_conn_t *c, const char *org, const char *id);
/* Whether photo is one of round's: 1, 0, or -1 on error. */
int db_patrol_photo_of_round(db_conn_t *c, const char *org, const char *round, const char *photo);

typedef struct db_finding_new {
    const char *org, *project, *round, *point, *description, *location, *photo;
    int owner_related;
    const char *follow_up, *reply_due, *responsible, *by;
} db_finding_new_t;
/* Inserts the finding and marks its checklist point "finding"; returns its id. */
char *db_patrol_finding_create(db_conn_t *c, const db_finding_new_t *n);
char *db_patrol_finding_json(db_conn_t *c, const char *org, const char *id);
/* Locks a finding.  Columns: 0 project_id, 1 round_id, 2 disposition ("" none),
 * 3 round state, 4 description, 5 location, 6 point. */
PGresult *db_patrol_finding_lock(db_conn_t *c, const char *org, const char *id);
int db_patrol_finding_dispose(db_conn_t *c, const char *org, const char *id, const char *disp,
                              const char *note, const char *capa, const char *request,
                              const char *by);

/* The day's planned slots of a project (local date "YYYY-MM-DD"): columns 0 kind,
 * 1 planned_at (RFC 3339), 2 planned_at (epoch), 3 grace minutes, 4 round id (""),
 * 5 started_at (epoch, 0), 6 ended_at (epoch, 0). */
PGresult *db_patrol_day_slots(db_conn_t *c, const char *org, const char *project, const char *day);
/* {"rounds": [the rounds started that local day], "open_findings": [all undisposed]}. */
char *db_patrol_day_rest(db_conn_t *c, const char *org, const char *project, const char *day);
/* The project's local date today ("YYYY-MM-DD"), NULL when no such project in org. */
char *db_patrol_today(db_conn_t *c, const char *org, const char *project);

/* Missed slots up to now (within the last 24 h, after the plan was made), judged by
 * core_patrol_slot_status() on each candidate slot and its earliest round start (no round
 * started by planned time + grace): each recorded once and notified to the project's
 * supervisors (notification patrol_missed).  Returns the slots newly recorded, -1 on error. */
int db_patrol_missed_run(db_conn_t *c, int64_t now);

#endif
