/*
 * db/report.h — SQL of reports: the per-period aggregation of a project's requests (the
 * 投诉月度汇总表 rows and the counts the KPIs are computed from), the stored monthly
 * report versions, and the late check's alerts.  JSON comes out malloc'd through
 * pointers; the caller frees it.  Return convention: 0 done, 1 nothing matched, -1 error.
 */
#ifndef DB_REPORT_H
#define DB_REPORT_H

#include "db/db.h"

#include <stdint.h>

/* A project's organisation-scoped facts: zone and name (1 when it is not in org). */
typedef struct report_project {
    char time_zone[64];
    char name[256];
    char code[80];
} report_project_t;
int db_report_project(db_conn_t *c, const char *org, const char *project, report_project_t *out);

/* One row of the 投诉月度汇总表 as the statement gives it (NULL: SQL NULL); the strings
 * live until the callback returns. */
typedef struct db_report_row {
    long seq; /* 1.. in the order received */
    const char *request_id, *number;
    int64_t received_at; /* epoch seconds */
    const char *complainant, *phone, *content, *receiver, *department, *result;
    const char *callback_rating, *callback_note;
    int callback_satisfied; /* 1, 0, -1 unknown */
    const char *severity, *validity;
    int reopen_count;
    int overdue;
} db_report_row_t;
/* Called for each form row in order; non-zero stops (the call then fails). */
typedef int (*db_report_row_fn)(void *ctx, const db_report_row_t *row);

/*
 * The aggregation of the requests of `project` received in [from, to) (RFC 3339 text):
 * *json = {"overall": counts, "by_type": {...}, "by_severity", "by_category",
 * "by_channel": {...}, "departments": [{department_id, name, counts}], "staff": [{user_id,
 * name, counts, callbacks_done}], "buckets": [{bucket, counts}]}, and `row` called for each
 * complaint (the form's rows, in the order received) — as columns, not JSON, so that 100k
 * rows are not parsed twice.  as_of: the instant "overdue" is judged at; buckets: a
 * PostgreSQL timestamptz[] literal of bucket start instants (width_bucket).  Phones are
 * full: the caller masks.  *json malloc'd.  0 done, -1 error (or `row` refused).
 * The statement runs under DB_REPORT_AGGREGATE_SETTINGS, in a read-only transaction of its
 * own when c has none.
 */
#define DB_REPORT_AGGREGATE_SETTINGS                                                               \
    "SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = "    \
    "'64MB'"
int db_report_aggregate(db_conn_t *c, const char *org, const char *project, const char *from,
                        const char *to, const char *as_of, const char *buckets, char **json,
                        db_report_row_fn row, void *ctx);

/* The sections of the month beyond requests (surveys, corrective actions, custody, duty) as
 * a JSON object text: see the statement in db/report.c and openapi.yaml MonthlySections
 * for each figure's rule.  *json malloc'd. */
int db_report_sections(db_conn_t *c, const char *org, const char *project, const char *from,
                       const char *to, const char *as_of, char **json);

/* Live figures for the daily/weekly views: resolved and closed in [from, to) by their own
 * time, open now, overdue now, at risk (warned, not yet due).  *json malloc'd. */
int db_report_live(db_conn_t *c, const char *org, const char *project, const char *from,
                   const char *to, const char *now, char **json);

/* Stores a new version (next number for the project and month) of a monthly report with
 * its snapshot; *json = the version's metadata.  month: "YYYY-MM-01". */
int db_report_version_insert(db_conn_t *c, const char *org, const char *project, const char *month,
                             const char *due_at, const char *user, const char *snapshot,
                             char **json);
/* The versions of a month, newest first: a JSON array of metadata. */
int db_report_versions(db_conn_t *c, const char *org, const char *project, const char *month,
                       char **json);
/* One version: metadata and snapshot (1 when absent). */
int db_report_version_get(db_conn_t *c, const char *org, const char *project, const char *month,
                          const char *version, char **meta, char **snapshot);
/* draft → submitted.  0 done (*meta), 1 no such version, 2 already submitted. */
int db_report_submit(db_conn_t *c, const char *org, const char *project, const char *month,
                     const char *version, const char *user, char **meta);

/* Projects to check: a JSON array of [id, org_id, time_zone] (org NULL: all). */
int db_report_projects(db_conn_t *c, const char *org, char **json);
/* Records a late-check alert once for (project, month, kind) unless a version of the month
 * is submitted, and notifies the project's users of `role`.  Returns the number of
 * notifications written (0 when already recorded or submitted), or -1. */
int db_report_alert(db_conn_t *c, const char *org, const char *project, const char *month,
                    const char *kind, const char *due_at, const char *role);

#endif
