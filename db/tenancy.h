/*
 * db/tenancy.h — SQL for rental registrations (出租房屋登记表): tenancies of units, their
 * JSON (phones masked unless pii), and the two signatures of an early end.
 */
#ifndef DB_TENANCY_H
#define DB_TENANCY_H

#include <stdint.h>

#include "db/db.h"

/* The unit's project: 1 found (project into out, 40 bytes), 0 not in org, -1 error. */
int db_tenancy_unit(db_conn_t *c, const char *org, const char *unit, char project[40]);
/* Whether resident is linked to unit as its owner: 1 / 0, -1 error. */
int db_tenancy_is_owner(db_conn_t *c, const char *org, const char *unit, const char *resident);

typedef struct tenancy_new {
    const char *org, *project, *unit, *owner_resident, *tenant_resident, *tenant_name,
        *tenant_phone, *use, *term_start, *term_end, *id_type, *id_hash, *id_last4, *employer,
        *created_by;
} tenancy_new_t;
/* Inserts the tenancy (and links a tenant resident to the unit as tenant when not linked).
 * One row: the tenancy JSON; a tenant resident of another organisation, or a missing
 * tenant name, fails with a constraint error. */
PGresult *db_tenancy_insert(db_conn_t *c, const tenancy_new_t *t, int pii);

/* One tenancy: 1 found (*json malloc'd, scope into project/unit), 0 none, -1 error. */
int db_tenancy_get(db_conn_t *c, const char *org, const char *id, int pii, char **json,
                   char project[40], char unit[40]);
/* The unit's tenancies, newest term first: malloc'd JSON array or NULL. */
char *db_tenancy_list(db_conn_t *c, const char *org, const char *unit, int pii);

/* The tenancy locked for a signature (inside a transaction). */
typedef struct tenancy_locked {
    char project[40], unit[40];
    int64_t today, term_start, term_end, termination_date; /* local day numbers; -1 unset */
    int owner_signed, supervisor_signed, ended, is_owner;
} tenancy_locked_t;
/* 1 locked, 0 none, -1 error.  user: the signer (is_owner: their resident is the owner). */
int db_tenancy_lock(db_conn_t *c, const char *org, const char *id, const char *user,
                    tenancy_locked_t *out);
/* Records one side's signature ("owner" / "supervisor") of the end end_date (YYYY-MM-DD),
 * ending the term when completes.  One row: the tenancy JSON. */
PGresult *db_tenancy_sign(db_conn_t *c, const char *org, const char *id, const char *side,
                          const char *user, const char *end_date, const char *reason, int completes,
                          int pii);

#endif
