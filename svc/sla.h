/*
 * svc/sla.h — a request's SLA clocks: computed from its project's configuration (svc/
 * sla_config.h) and its timeline by core/sla_request, and stored with the request;
 * their explanation; the default configuration of new projects.  The sweeper (svc/
 * sweeper.h) evaluates claimed rows through the same functions.
 */
#ifndef SVC_SLA_H
#define SVC_SLA_H

#include <stdint.h>

#include "core/sla_policy.h"
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

/* The due time of a callback task that follows no request (a survey response's, RULES
 * §3.1.8) started at `start`: core_callback_due under the project's policy for
 * (CB_SURVEY_SLA_TYPE, CB_SURVEY_SLA_SEVERITY) on the project's calendar.  0 (*due set),
 * or -1 when the configuration could not be read. */
int sla_survey_callback_due(db_conn_t *c, const char *org, const char *project, int64_t start,
                            int64_t *due);

/* Recomputes and stores a request's clocks from its timeline (inside the caller's
 * transaction, row locked by the caller).  reapply: match the project's current policy
 * and calendar again instead of keeping the versions it started with.  0 / -1. */
int sla_refresh_request(db_conn_t *c, const char *org, const char *request_id, int64_t now,
                        int reapply);

/* Gives projects without a calendar or policies the defaults (SPEC §4). 0 / -1. */
int sla_ensure_defaults(db_conn_t *c);

/* The explanation of a request's clocks as JSON (malloc'd), or NULL (404 when *found
 * is 0). */
char *sla_explain(db_conn_t *c, const char *org, const char *request_id, int64_t now, int *found);

/* ---- evaluation of one row of db_sla_request / db_sla_claim (shared with the sweeper) */

/* Columns of db_sla_request / db_sla_claim (db/sla.h). */
enum sla_col {
    SLA_COL_TYPE,
    SLA_COL_SEV,
    SLA_COL_NIGHT,
    SLA_COL_VALIDITY,
    SLA_COL_DEADLINE,
    SLA_COL_POLICY,
    SLA_COL_CAL,
    SLA_COL_LEVEL,
    SLA_COL_EVENTS,
    SLA_COL_ALERTS,
    SLA_COL_PROJECT,
    SLA_COL_STATE,
    SLA_COL_SEQ,
    SLA_COL_NUMBER,
    SLA_COL_PNAME,
    SLA_COL_PVER,
    SLA_COL_CVER,
    SLA_COL_PID,
    SLA_COL_ASSIGNEE,
    SLA_COL_ID,
    SLA_COL_ORG,
    SLA_COL_CAT
};

typedef struct sla_eval {
    sla_policy_t pol;
    const sla_calendar_def_t *cal; /* pinned: sla_eval_done releases it */
    sla_clock_view_t v[SLA_T__COUNT];
    sla_history_t hist;
    char policy_version[40], calendar_version[40];
} sla_eval_t;

/* Evaluates row i of a db_sla_request/claim result.  reapply: use the project's current
 * versions.  Returns 0, 1 when the request has no SLA configuration, -1 on error; call
 * sla_eval_done(x) in every case. */
int sla_eval_row(db_conn_t *c, PGresult *r, int i, int64_t now, int reapply, sla_eval_t *x);
void sla_eval_done(sla_eval_t *x);
/* Fills d's due times from the clocks, and its next check. */
void sla_fill_dues(const sla_clock_view_t v[SLA_T__COUNT], int64_t next_check, sla_dues_t *d);

#endif
