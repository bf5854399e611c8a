/*
 * db/capa.h — corrective/preventive actions and rectifications (RULES §3.3): creation with
 * its CA-<year>-<6> number, sources and first event; the locked row the state machine
 * judges; one update for every action with its event; reads, lists, the overdue queue and
 * the "department below target" trigger the survey feature calls.
 */
#ifndef DB_CAPA_H
#define DB_CAPA_H

#include <stdint.h>

#include "db/db.h"

typedef struct db_capa_new {
    const char *org, *project, *kind, *title, *problem;
    int major;
    const char *department, *responsible;
    const char *other_departments;  /* uuid[] literal "{…}" or NULL */
    const char *due_at;             /* RFC 3339 or NULL */
    const char *sources;            /* JSON array [{"kind":…,"id":…}] or NULL */
    const char *actor, *actor_role; /* actor NULL: the system */
    const char *details;            /* the create event's details (JSON object) or NULL */
} db_capa_new_t;

/* Inserts the action, its sources and its 'create' event (inside the caller's transaction
 * when it holds one).  Returns the new id (malloc'd) or NULL (the error noted). */
char *db_capa_create(db_conn_t *c, const db_capa_new_t *n);

/* Which of the people named for an action is not of the project: "" when all are, else
 * "department_id", "responsible_id" or "other_departments" (malloc'd; NULL on error). */
char *db_capa_check_people(db_conn_t *c, const char *org, const char *project, const char *dept,
                           const char *responsible, const char *others);

/* 1 when every user of `users` (a uuid[] literal) is active staff of the project (the
 * organisation-wide gm, auditor and admin included), 0 when not, -1 on error. */
int db_capa_staff(db_conn_t *c, const char *org, const char *project, const char *users);

/* The action's JSON (malloc'd), NULL when absent in org. */
char *db_capa_json(db_conn_t *c, const char *org, const char *id);

/* Locks the row (FOR UPDATE).  Columns: 0 project_id, 1 state, 2 major (t/f),
 * 3 responsible_id ("" none), 4 departments involved (count), 5 a GM-convened review (t/f),
 * 6 version, 7 last event seq, 8 number.  No row: absent in org. */
PGresult *db_capa_lock(db_conn_t *c, const char *org, const char *id);

/* Applies an action: the new state, the fields of patch (a JSON object; the members
 * named in db/capa.c) and the stamps of the action (approved_*, implemented_at, verified_*,
 * customer_confirmed_at), version + 1, and event seq.  0 / -1. */
int db_capa_apply(db_conn_t *c, const char *org, const char *id, const char *action,
                  const char *from, const char *to, const char *patch, const char *actor,
                  const char *role, int seq, const char *details);

/* The events of an action as a JSON array (malloc'd), oldest first. */
char *db_capa_events(db_conn_t *c, const char *org, const char *id);

/* A page: columns (json, created_at, id).  Filters may be NULL; projects: the caller's
 * scope (uuid[] literal, NULL for all); overdue "true" for overdue only. */
PGresult *db_capa_list(db_conn_t *c, const char *org, const char *projects, const char *project,
                       const char *state, const char *kind, const char *responsible,
                       const char *overdue, const char *source_kind, const char *source_id,
                       const char *after_ts, const char *after_id, int limit);

/* The overdue queue: actions whose clock runs and whose deadline is within `horizon`
 * seconds of now, at most limit, locked SKIP LOCKED (call in a transaction).  Columns:
 * 0 id, 1 org_id, 2 created_at (epoch s), 3 due_at (epoch s), 4 due_at (RFC 3339). */
PGresult *db_capa_due(db_conn_t *c, int64_t now, int horizon, int limit);
/* Records an alert once and notifies: a warning the responsible person (kind capa_due),
 * an escalation the managers of the project (capa_overdue) and the responsible person.
 * Returns the notifications written (0 when already recorded), -1 on error. */
int db_capa_alert(db_conn_t *c, const char *org, const char *id, const char *kind,
                  const char *due_at);

/* RULES §3.3.1 / 002 第8篇 5.10: a department whose survey satisfaction `figure` fell below
 * the project's `target` for `period` ("2026-Q3", "2026-11", …) gets a corrective action,
 * once per department and period (source department_below_target "<department>/<period>"),
 * responsible department = that department, due in 30 days.  *json gets the action
 * (malloc'd).  Returns 1 created, 0 an action for that department and period exists
 * already (*json is it), 2 not below target (nothing created, *json NULL), -1 error
 * (department not of the project: -1 with *json NULL and the error noted).
 * Runs in the caller's transaction when it holds one; actor NULL: the system. */
int capa_create_for_department(db_conn_t *c, const char *org, const char *project,
                               const char *department, const char *period, double figure,
                               double target, const char *actor, const char *actor_role,
                               char **json);

#endif
