/* db/org.h — SQL for the link tables of the organisation model and zone checks. */
#ifndef DB_ORG_H
#define DB_ORG_H

#include "db/db.h"

/* Replaces a user's project assignments with the uuid[] literal `projects`.
 * Returns NULL on success or the failed PGresult (caller PQclears). */
PGresult *db_org_set_user_projects(db_conn_t *c, const char *user_id, const char *org,
                                   const char *projects_arr);
/* Replaces a resident's unit links from a JSON array of {unit_id, relation, is_adult};
 * units must lie in the resident's project.  *bad set when some unit did not. */
PGresult *db_org_set_resident_units(db_conn_t *c, const char *resident_id, const char *org,
                                    const char *units_json, int *bad);
/* 1 when PostgreSQL knows the IANA zone name, 0 when not, -1 on error. */
int db_org_tz_exists(db_conn_t *c, const char *name);

/* 1 when the project belongs to the organisation, 0 when not, -1 on error. */
int db_org_project_exists(db_conn_t *c, const char *org, const char *project);

#endif
