/*
 * db/platform.h — SQL for the hosting operator: creating an organisation with its first
 * administrator, listing organisations across the platform, and switching one off and on.
 * None of it is scoped to an organisation: only the platform credential and the command
 * line reach it.
 */
#ifndef DB_PLATFORM_H
#define DB_PLATFORM_H

#include "db/db.h"

typedef struct db_new_org {
    char org_id[40];
    char org_code[80];
    char admin_id[40];
    char admin_username[80];
    int created; /* 1 made now, 0 existed already */
} db_new_org_t;

/* Outcomes of db_platform_create_org besides 0 (done) and -1 (database error, logged). */
#define DB_ORG_ADMIN_TAKEN    1 /* the admin user name belongs to another organisation */
#define DB_ORG_OTHER_ADMIN    2 /* the organisation exists; this name is not its admin */
#define DB_ORG_CODE_TAKEN     3 /* the explicit code belongs to another organisation */
#define DB_ORG_NEEDS_PASSWORD 4 /* password_hash NULL and something must be created */

/*
 * Finds or creates organisation `name` (code `code`, or NULL to derive one from the name)
 * with administrator `admin` (password_hash; NULL only to look up).  One transaction under
 * an advisory lock, so two runs at once create one organisation.  Idempotent by name: when
 * the organisation exists and `admin` is one of its administrators, out gets the existing
 * ids and created = 0.  *other gets the conflicting name (the other organisation, or the
 * existing admin) for messages.
 */
int db_platform_create_org(db_conn_t *c, const char *name, const char *code, const char *admin,
                           const char *password_hash, db_new_org_t *out, char *other,
                           size_t otherlen);

/* A page of organisations (json, created_at, id), oldest first; limit + 1 rows asked. */
PGresult *db_platform_list(db_conn_t *c, const char *after_ts, const char *after_id, int limit);
/* Sets an organisation active or not (by id, or by code when `key` is no UUID).  Deactivating
 * revokes every refresh token of its users.  *json gets the organisation (malloc'd) and
 * org_id (>= 40 bytes) its id.  1 done, 0 not found, -1 error. */
int db_platform_set_active(db_conn_t *c, const char *key, int active, char **json, char *org_id);
/* The ids of every deactivated organisation, one per row.  The caller PQclear()s. */
PGresult *db_platform_inactive(db_conn_t *c);

#endif
