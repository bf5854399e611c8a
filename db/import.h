/*
 * db/import.h — SQL of roster imports: the job/audit row (imports), and the staging of a
 * file's rows into a temporary table (COPY) from which set-based statements check the
 * references, find duplicates and apply the rows to the organisation's tables.
 */
#ifndef DB_IMPORT_H
#define DB_IMPORT_H

#include "core/roster.h"
#include "db/db.h"

/* ---- the job row (its own connection, autocommit) ---- */
/* Inserts a running job; id receives its uuid.  0 / -1. */
/* The advisory-lock key of an import job (an SQL expression over the uuid expression id). */
#define IMPORT_LOCK_KEY(id) "hashtextextended('deskd:import:' || " id "::text, 0)"

/* Releases the lock db_import_job_start took on c for job id (see db/import.c).  Call it
 * before c goes back to the pool, whatever happened to the job. */
void db_import_job_unlock(db_conn_t *c, const char *id);

int db_import_job_start(db_conn_t *c, const char *org, const char *kind, int dry_run,
                        const char *user, char id[40]);
/* Progress: rows read and bytes received so far.  0 / -1. */
int db_import_job_progress(db_conn_t *c, const char *id, const char *org, long rows,
                           long long bytes);
typedef struct import_summary {
    const char *status; /* succeeded, checked, failed */
    const char *sha256;
    long long bytes;
    const char *encoding, *delimiter;
    long rows_read, rows_failed;
    const char *counts_json, *errors_json, *detail;
} import_summary_t;
/* Final state; *json receives the job's JSON (malloc'd).  0 / -1. */
int db_import_job_finish(db_conn_t *c, const char *id, const char *org, const import_summary_t *s,
                         char **json);
/* One job's JSON (malloc'd) when it is the organisation's: 1, 0 not found, -1 error. */
int db_import_job_get(db_conn_t *c, const char *id, const char *org, char **json);
/* A page of jobs, newest first: columns json, started_at, id. */
PGresult *db_import_job_list(db_conn_t *c, const char *org, const char *after_ts,
                             const char *after_id, int limit);

/* ---- staging (the import's transaction) ---- */
typedef struct db_copy db_copy_t;
/* Creates the staging table and starts COPY into it.  NULL on error. */
db_copy_t *db_import_copy_begin(db_conn_t *c);
/* Adds one row: its number and ROSTER_MAX_OUT values (NULL = empty).  0 / -1. */
int db_import_copy_row(db_copy_t *cp, long row, const char *const *v);
/* Ends COPY and frees cp.  0 / -1. */
int db_import_copy_end(db_copy_t *cp);

/* Resolves references and finds duplicates for `kind`.  0 / -1. */
int db_import_check(db_conn_t *c, roster_kind_t kind, const char *org);
/* Problems found by db_import_check, first `limit` by row: columns row, column, code,
 * value, first_row (the earlier row a duplicate repeats).  *total gets the count. */
PGresult *db_import_errors(db_conn_t *c, int limit, long *total);
/* Applies the checked rows; *counts receives {"<kind>": {"created":n,"updated":n,
 * "unchanged":n}, ...} (malloc'd).  0 / -1. */
int db_import_apply(db_conn_t *c, roster_kind_t kind, const char *org, char **counts);

#endif
