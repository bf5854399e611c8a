/*
 * db/extra.h — SQL for what hangs off a request: comments, attachment metadata, work
 * order reads, and the Idempotency-Key store used by integration pushes.
 */
#ifndef DB_EXTRA_H
#define DB_EXTRA_H

#include "db/db.h"

/* Inserts a comment and its timeline event (seq given).  Returns (json) or error. */
PGresult *db_comment_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                         const char *author, const char *role, const char *visibility,
                         const char *body, const char *channel);
/* JSON array text of comments (malloc'd) or NULL; internal=0 shows public ones only. */
char *db_comment_list(db_conn_t *c, const char *org, const char *request_id, int internal);

/* vals: filename, content_type, size_bytes, storage_key, url, sha256, visibility. */
PGresult *db_attachment_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                            const char *uploader, const char *role, const char *const vals[7],
                            const char *channel);
char *db_attachment_list(db_conn_t *c, const char *org, const char *request_id, int internal);

/* Work orders: get (json, project, department, version) and list. */
typedef struct wo_scope {
    char project_id[40], department_id[40];
} wo_scope_t;
int db_workorder_get(db_conn_t *c, const char *id, const char *org, char **json, wo_scope_t *sc);
/* Filters may be NULL.  Columns: json, created_at, id. */
PGresult *db_workorder_list(db_conn_t *c, const char *org, const char *projects,
                            const char *dept_only, const char *department_id, const char *state,
                            const char *assignee_id, const char *request_id, const char *after_ts,
                            const char *after_id, int limit);

/* Idempotency keys.  claim: 1 = this call owns the key (inside the caller's transaction;
 * store the outcome with db_idem_store before committing), 0 = the key was used before
 * (status/response/body_hash copied out, response malloc'd), -1 error. */
int db_idem_claim(db_conn_t *c, const char *org, const char *user, const char *key,
                  const char *body_hash, int *status, char **response, char hash_out[65]);
int db_idem_store(db_conn_t *c, const char *org, const char *user, const char *key, int status,
                  const char *response);
/* Deletes keys older than `hours`; returns the count or -1. */
int db_idem_purge(db_conn_t *c, int hours);

#endif
