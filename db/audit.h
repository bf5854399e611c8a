/*
 * db/audit.h — SQL of the audit log (RULES §3.13).  Writes to business tables are recorded by
 * the audit_row() triggers (db/migrations/0015_audit.sql) with the actor the pool sends with
 * BEGIN (db_set_actor); authentication events are written here, in the caller's transaction.
 */
#ifndef DB_AUDIT_H
#define DB_AUDIT_H

#include "db/db.h"

/* Records an authentication event (action "auth.login", "auth.refresh", ...; result
 * "success" or "failure") of user (NULL: unknown) in org (NULL: none).  detail: a JSON
 * object text or NULL.  0 / -1. */
int db_audit_event(db_conn_t *c, const char *org, const char *user, const char *role,
                   const char *action, const char *result, const char *detail);
/* The same for the user owning a refresh token (by its hash); nothing when it is unknown.
 * A refused "auth.refresh" of a token already used (a replay, whose family is revoked) is
 * recorded as "auth.token_revoked". */
int db_audit_token_event(db_conn_t *c, const char *token_hash, const char *action,
                         const char *result);

typedef struct db_audit_filter {
    const char *resource_type, *resource_id, *actor, *action, *from, *to; /* NULL: any */
    const char *before_id; /* cursor: rows with a smaller id (newest first) */
    int limit;
} db_audit_filter_t;
/* Rows (json text, id) of org matching f, newest first, at most f->limit. */
PGresult *db_audit_list(db_conn_t *c, const char *org, const db_audit_filter_t *f);
/* One row: the JSON text of {organisation_id, from, to, items: [{day, seq, hash, rows}]}:
 * per UTC day the sealed row of that day with the greatest seq. */
PGresult *db_audit_heads(db_conn_t *c, const char *org, const char *from, const char *to);
/* Seals at most max committed unsealed rows into their organisations' chains
 * (audit_seal_pending; chains locked by another sealer are skipped).  The number sealed, or
 * -1. */
int db_audit_seal_pending(db_conn_t *c, int max);
/* One row: the JSON text of the verification of org's sealed chain, with the count of
 * rows still waiting for the sealer (rows_pending). */
PGresult *db_audit_verify(db_conn_t *c, const char *org);
/* One row: the JSON text of the retention report of org. */
PGresult *db_audit_retention(db_conn_t *c, const char *org);

#endif
