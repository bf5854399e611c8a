/* db/custody.h — SQL of the custody registers and their append-only, hash-chained ledgers. */
#ifndef DB_CUSTODY_H
#define DB_CUSTODY_H

#include "db/db.h"

/* An entry to append; strings are text values (jsonb members as JSON text, NULL = none). */
typedef struct db_custody_entry {
    const char *org, *project, *item, *action, *actor, *actor_role;
    int seq;
    const char *counterparty, *purpose, *occurred_at, *approvals, *witnesses, *attachments;
    const char *corrects, *details;
} db_custody_entry_t;

/* Inserts a register item (state `state`, ledger empty); returns (id) or error. */
PGresult *db_custody_item_create(db_conn_t *c, const char *org, const char *project,
                                 const char *area, const char *kind, const char *tag,
                                 const char *description, const char *unit, const char *location,
                                 const char *keeper_dept, const char *key_count,
                                 const char *created_by);
/* Locks an item of the area FOR UPDATE.  Columns: project_id, kind, state, key_count,
 * seal_number, holder_id, open_discrepancy, ext, last_seq, last_occurred_at (epoch s),
 * head_hash, due_back (RFC 3339, "" none), unit_id, and the project's mail_remind_days and
 * lost_unclaimed_days (0: the server's default).  0 rows when absent. */
PGresult *db_custody_item_lock(db_conn_t *c, const char *org, const char *area, const char *id);
/* The person behind a user id: role, department kind ("" none), active. 0 rows: none. */
PGresult *db_custody_person(db_conn_t *c, const char *org, const char *user);
/* 1 when the resident lives in the organisation's project, 0 when not, -1 on error. */
int db_custody_resident_in(db_conn_t *c, const char *org, const char *project, const char *res);
/* 1 when the unit lies in the organisation's project, 0 when not, -1 on error. */
int db_custody_unit_in(db_conn_t *c, const char *org, const char *project, const char *unit);
/* 1 when entry belongs to item, 0 when not, -1 on error. */
int db_custody_entry_of(db_conn_t *c, const char *item, const char *entry);
/* The canonical text of the entry and the recorded_at it gets: (recorded_at, canonical). */
PGresult *db_custody_canonical(db_conn_t *c, const db_custody_entry_t *e);
/* Inserts the entry with its recorded_at and hashes; returns (id, json) or error. */
PGresult *db_custody_entry_insert(db_conn_t *c, const db_custody_entry_t *e,
                                  const char *recorded_at, const char *prev_hash, const char *hash);
/* Stores the item's ledger-derived state.  0 / -1. */
int db_custody_item_store(db_conn_t *c, const char *org, const char *id, const char *state,
                          const char *seal_number, const char *holder, const char *due_back,
                          int open_discrepancy, const char *ext, int last_seq,
                          const char *last_occurred_epoch, const char *head_hash);
/* Notifies the project's active customer-service managers.  0 / -1. */
int db_custody_notify_managers(db_conn_t *c, const char *org, const char *project, const char *kind,
                               const char *payload);
/* One item as JSON text (malloc'd) or NULL. */
char *db_custody_item_json(db_conn_t *c, const char *org, const char *area, const char *id);
/* Item list page: (json, created_at, id); projects NULL = all. */
PGresult *db_custody_item_list(db_conn_t *c, const char *org, const char *area,
                               const char *projects, const char *project, const char *state,
                               const char *kind, const char *after_ts, const char *after_id,
                               int limit);
/* The item's entries as a JSON array text (malloc'd) or NULL. */
char *db_custody_entries_json(db_conn_t *c, const char *org, const char *item);
/* Up to limit entries after seq: (seq, id, prev_hash, hash, canonical). */
PGresult *db_custody_verify_batch(db_conn_t *c, const char *item, int after_seq, int limit);
/* Daily lists as JSON array text (malloc'd) or NULL: which = "on_loan", "sealed",
 * "discrepancies". */
char *db_custody_key_list(db_conn_t *c, const char *org, const char *projects, const char *project,
                          const char *which);

/* A new register item of an area after keys (state `registering` until its first entry). */
typedef struct db_custody_new {
    const char *org, *project, *area, *kind, *tag /* NULL: generated */, *description, *unit;
    const char *location, *count, *external_ref, *ext, *created_by;
} db_custody_new_t;
/* Inserts it; (id), or 0 rows when the external reference is already in the area. */
PGresult *db_custody_area_create(db_conn_t *c, const db_custody_new_t *n);
/* (id) of the area's item with that external reference; 0 rows when none. */
PGresult *db_custody_by_external_ref(db_conn_t *c, const char *org, const char *area,
                                     const char *ref);
/* Item list page of an area: (json, created_at, id); projects / units NULL = all. */
PGresult *db_custody_area_list(db_conn_t *c, const char *org, const char *area,
                               const char *projects, const char *units, const char *project,
                               const char *state, const char *kind, const char *after_ts,
                               const char *after_id, int limit);
/* A daily list as JSON array text (malloc'd) or NULL: the area's items in one of the
 * comma-separated states (or with an open discrepancy when with_discrepancies), only those
 * past their due time when due_only. */
char *db_custody_due_list(db_conn_t *c, const char *org, const char *area, const char *projects,
                          const char *units, const char *project, const char *states,
                          int with_discrepancies, int due_only);
/* How many archive files and keys the user holds on loan; -1 on error. */
int db_custody_open_loans(db_conn_t *c, const char *org, const char *user);
/* Per project, the head (last seq and hash) of every custody ledger as recorded by the end
 * of `date` in the project's time zone and a SHA-256 digest over them, as JSON array text. */
char *db_custody_heads(db_conn_t *c, const char *org, const char *projects, const char *date,
                       const char *project);
/* Marks every item past its due time not yet reminded (mail uncollected, found items
 * unclaimed, archive and key loans overdue) and notifies who acts on it; the number of items
 * (notifications sent into *notified) or -1. */
int db_custody_remind_due(db_conn_t *c, int *notified);

#endif
