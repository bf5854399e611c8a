/* db/auth.h — SQL for logins, throttling and refresh tokens. */
#ifndef DB_AUTH_H
#define DB_AUTH_H

#include "db/db.h"

typedef struct db_login_user {
    char id[40];
    char org_id[40];
    char role[20];
    char dept_id[40]; /* "" when none */
    char resident_id[40];
    char password_hash[256];
    int active;
    int locked_secs; /* > 0 while locked out */
    int org_active;  /* the organisation is not deactivated by the platform operator */
} db_login_user_t;

/* 1 found, 0 not found, -1 database error (the PGresult error is logged). */
int db_auth_find_user(db_conn_t *c, const char *username, db_login_user_t *u);
int db_auth_find_user_by_id(db_conn_t *c, const char *id, db_login_user_t *u);
/* JSON array texts (malloc'd, caller frees): projects (assigned, or those of a
 * resident's units) and the resident's units.  0 / -1. */
int db_auth_scope(db_conn_t *c, const db_login_user_t *u, char **prj_json, char **units_json);
/* Counts a failure in users.failed_logins (an unknown user_id touches nothing but costs the
 * same round trip); *locked_secs gets the account's remaining lock.  0 / -1. */
int db_auth_login_failed(db_conn_t *c, const char *user_id, int *locked_secs);
int db_auth_login_ok(db_conn_t *c, const char *user_id);
/* Stores a refresh token hash; family NULL starts a new family.  0 / -1. */
int db_auth_refresh_insert(db_conn_t *c, const char *org_id, const char *user_id,
                           const char *family, const char *hash, int ttl_secs);
/* Consumes a refresh token.  1 valid (user_id/family filled), 0 invalid (a reused
 * token revokes its whole family), -1 error. */
int db_auth_refresh_use(db_conn_t *c, const char *hash, char *user_id, char *family);
/* Revokes every live refresh token of the user (all families); 0 / -1. */
int db_auth_refresh_revoke_user(db_conn_t *c, const char *user_id);
/* Revokes the family of the token; 0 / -1. */
int db_auth_refresh_revoke(db_conn_t *c, const char *hash);
/* The caller's own user record as JSON text (malloc'd) in *out.  1 found, 0 not, -1 error. */
int db_auth_me(db_conn_t *c, const char *user_id, const char *org_id, char **out);

#endif
