/* db/org.c — link tables (user ↔ project, resident ↔ unit) and time-zone lookup. */
#include "db/org.h"

#include <stdlib.h>
#include <string.h>

static const db_stmt_t del_up = {"org_del_user_projects",
                                 "DELETE FROM user_projects WHERE user_id = $1 AND org_id = $2", 2};
static const db_stmt_t ins_up = {
    "org_ins_user_projects",
    "INSERT INTO user_projects (org_id, user_id, project_id) "
    "SELECT $2, $1, p FROM unnest($3::uuid[]) AS p ON CONFLICT DO NOTHING",
    3};
static const db_stmt_t del_ru = {
    "org_del_resident_units", "DELETE FROM resident_units WHERE resident_id = $1 AND org_id = $2",
    2};
static const db_stmt_t ins_ru = {
    "org_ins_resident_units",
    "WITH x AS (SELECT * FROM json_to_recordset($3::json) AS x(unit_id uuid, relation text, "
    "is_adult boolean)), ins AS (INSERT INTO resident_units (org_id, resident_id, unit_id, "
    "relation, is_adult) SELECT $2, $1, x.unit_id, x.relation, coalesce(x.is_adult, true) "
    "FROM x JOIN units u ON u.id = x.unit_id AND u.org_id = $2 "
    "AND u.project_id = (SELECT project_id FROM residents WHERE id = $1) RETURNING 1) "
    "SELECT (SELECT count(*) FROM x) - (SELECT count(*) FROM ins)",
    3};
static const db_stmt_t proj_exists = {"org_project_exists",
                                      "SELECT 1 FROM projects WHERE id = $1 AND org_id = $2", 2};
static const db_stmt_t tz = {"org_tz_exists",
                             "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)", 1};

static PGresult *run(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    if (db_ok(r)) {
        PQclear(r);
        return NULL;
    }
    return r;
}

PGresult *db_org_set_user_projects(db_conn_t *c, const char *user_id, const char *org,
                                   const char *projects_arr)
{
    const char *v[] = {user_id, org, projects_arr};
    PGresult *r = run(c, &del_up, v);
    return r ? r : run(c, &ins_up, v);
}

PGresult *db_org_set_resident_units(db_conn_t *c, const char *resident_id, const char *org,
                                    const char *units_json, int *bad)
{
    const char *v[] = {resident_id, org, units_json};
    *bad = 0;
    PGresult *r = run(c, &del_ru, v);
    if (r)
        return r;
    r = db_exec(c, &ins_ru, v);
    if (!db_ok(r))
        return r;
    *bad = atoi(PQgetvalue(r, 0, 0)) != 0;
    PQclear(r);
    return NULL;
}

int db_org_tz_exists(db_conn_t *c, const char *name)
{
    const char *v[] = {name};
    PGresult *r = db_exec(c, &tz, v);
    int rc = db_ok(r) ? PQgetvalue(r, 0, 0)[0] == 't' : -1;
    PQclear(r);
    return rc;
}

int db_org_project_exists(db_conn_t *c, const char *org, const char *project)
{
    const char *v[] = {project, org};
    PGresult *r = db_exec(c, &proj_exists, v);
    int rc = db_ok(r) ? PQntuples(r) == 1 : -1;
    PQclear(r);
    return rc;
}
