/* db/flow.c — see db/flow.h. */
#include "db/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt_t project_st = {"flow_project",
                                     "SELECT 1 FROM projects WHERE id = $2 AND org_id = $1", 2};

/* work_orders_declined (project_id, declined_at) WHERE state = 'declined' finds the rows. */
static const db_stmt_t refusals_st = {
    "flow_refusals",
    "WITH d AS (SELECT w.department_id, coalesce(w.assignee_id, w.declined_by) AS person, "
    "w.decline_reason FROM work_orders w WHERE w.project_id = $2 AND w.org_id = $1 AND "
    "w.state = 'declined' AND w.declined_at >= $3::timestamptz AND w.declined_at < "
    "$4::timestamptz) "
    "SELECT json_build_object('total', (SELECT count(*) FROM d), "
    "'by_reason', (SELECT coalesce(json_object_agg(x.decline_reason, x.n), '{}') FROM "
    "(SELECT decline_reason, count(*) AS n FROM d GROUP BY 1) x), "
    "'by_department', (SELECT coalesce(json_agg(json_build_object('department_id', "
    "x.department_id, 'name', dp.name, 'count', x.n) ORDER BY x.n DESC, dp.name), '[]') FROM "
    "(SELECT department_id, count(*) AS n FROM d GROUP BY 1) x JOIN departments dp ON dp.id = "
    "x.department_id), "
    "'by_person', (SELECT coalesce(json_agg(json_build_object('user_id', x.person, 'name', "
    "u.display_name, 'count', x.n) ORDER BY x.n DESC, u.display_name), '[]') FROM "
    "(SELECT person, count(*) AS n FROM d WHERE person IS NOT NULL GROUP BY 1) x LEFT JOIN "
    "users u ON u.id = x.person))::text",
    4};

/* requests_project_received (project_id, received_at), shared with the reports, finds the
 * period's rows. */
static const db_stmt_t rework_st = {
    "flow_rework",
    "SELECT count(*), count(*) FILTER (WHERE is_repeat) FROM requests WHERE project_id = $2 "
    "AND org_id = $1 AND type = 'repair' AND received_at >= $3::timestamptz AND received_at < "
    "$4::timestamptz",
    4};

static const db_stmt_t zone_st = {
    "flow_zone",
    "SELECT z.id, z.department_id, coalesce(u.id::text, '') FROM requests r JOIN zones z ON "
    "z.project_id = r.project_id AND z.name = r.common_area LEFT JOIN users u ON u.id = "
    "z.responsible_user_id AND u.active AND u.department_id = z.department_id WHERE r.id = $2 "
    "AND r.org_id = $1 AND z.org_id = $1",
    2};

static const db_stmt_t duty_st = {
    "flow_duty_dept",
    "SELECT id FROM departments WHERE org_id = $1 AND kind = 'engineering' AND (project_id = $2 "
    "OR project_id IS NULL) ORDER BY project_id IS NULL, created_at, id LIMIT 1",
    2};

int db_flow_zone_for(db_conn_t *c, const char *org, const char *request, char zone[40],
                     char dept[40], char person[40])
{
    const char *v[] = {org, request};
    PGresult *r = db_exec(c, &zone_st, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1) {
        snprintf(zone, 40, "%s", PQgetvalue(r, 0, 0));
        snprintf(dept, 40, "%s", PQgetvalue(r, 0, 1));
        snprintf(person, 40, "%s", PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return rc;
}

int db_flow_duty_department(db_conn_t *c, const char *org, const char *project, char dept[40])
{
    const char *v[] = {org, project};
    PGresult *r = db_exec(c, &duty_st, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1)
        snprintf(dept, 40, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

int db_flow_project(db_conn_t *c, const char *org, const char *project)
{
    const char *v[] = {org, project};
    PGresult *r = db_exec(c, &project_st, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    PQclear(r);
    return rc;
}

int db_flow_refusals(db_conn_t *c, const char *org, const char *project, const char *from,
                     const char *to, char **json)
{
    const char *v[] = {org, project, from, to};
    PGresult *r = db_exec(c, &refusals_st, v);
    int rc = db_ok(r) && PQntuples(r) == 1 && (*json = strdup(PQgetvalue(r, 0, 0))) ? 0 : -1;
    PQclear(r);
    return rc;
}

int db_flow_rework(db_conn_t *c, const char *org, const char *project, const char *from,
                   const char *to, long long *repairs, long long *repeats)
{
    const char *v[] = {org, project, from, to};
    PGresult *r = db_exec(c, &rework_st, v);
    int rc = db_ok(r) && PQntuples(r) == 1 ? 0 : -1;
    if (rc == 0) {
        *repairs = atoll(PQgetvalue(r, 0, 0));
        *repeats = atoll(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}
