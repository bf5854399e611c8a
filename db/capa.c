/* db/capa.c — corrective actions; see capa.h and db/migrations/0018_capa.sql. */
#include "db/capa.h"
#include "core/capa.h"
#include "core/rfc3339.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNNING "('open','measures_proposed','approved','implementing','ineffective')"

static const db_stmt_t create = {
    "capa_create",
    "WITH p AS (SELECT time_zone FROM projects WHERE org_id = $1 AND id = $2), a AS (INSERT INTO "
    "corrective_actions (org_id, project_id, number, kind, title, problem, major, department_id, "
    "responsible_id, other_departments, due_at, created_by) SELECT $1, $2, capa_next_number($1, "
    "extract(year FROM clock_timestamp() AT TIME ZONE p.time_zone)::int), $3, $4, $5, "
    "$6::boolean, $7, $8, coalesce($9::uuid[], '{}'), $10::timestamptz, $11 FROM p RETURNING "
    "id, org_id), s AS (INSERT INTO corrective_action_sources (org_id, action_id, source_kind, "
    "source_id) SELECT DISTINCT a.org_id, a.id, x.kind, x.id FROM a, "
    "jsonb_to_recordset(coalesce($12::jsonb, '[]')) AS x(kind text, id text) RETURNING 1), e AS "
    "(INSERT INTO corrective_action_events (org_id, action_id, seq, action, to_state, actor_id, "
    "actor_role, details) SELECT a.org_id, a.id, 1, 'create', 'open', $11, $13, "
    "coalesce($14::jsonb, '{}') FROM a RETURNING 1) SELECT a.id FROM a",
    14};

static const db_stmt_t people = {
    "capa_people",
    "SELECT CASE WHEN $3::uuid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM departments d WHERE "
    "d.org_id = $1 AND d.id = $3 AND (d.project_id IS NULL OR d.project_id = $2)) THEN "
    "'department_id' WHEN $4::uuid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE "
    "u.org_id = $1 AND u.id = $4 AND u.active AND u.role NOT IN ('resident', 'integration') AND "
    "(u.role IN ('admin', 'gm', 'auditor') OR EXISTS (SELECT 1 FROM user_projects up WHERE "
    "up.user_id = u.id AND up.project_id = $2))) THEN 'responsible_id' WHEN $5::uuid[] IS NOT "
    "NULL AND EXISTS (SELECT 1 FROM unnest($5::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM "
    "departments d WHERE d.org_id = $1 AND d.id = x AND (d.project_id IS NULL OR d.project_id = "
    "$2))) THEN 'other_departments' ELSE '' END",
    5};

static const db_stmt_t staff = {
    "capa_staff",
    "SELECT NOT EXISTS (SELECT 1 FROM unnest($3::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM users "
    "u WHERE u.org_id = $1 AND u.id = x AND u.active AND u.role NOT IN ('resident', "
    "'integration') AND (u.role IN ('admin', 'gm', 'auditor') OR EXISTS (SELECT 1 FROM "
    "user_projects up WHERE up.user_id = u.id AND up.project_id = $2))))",
    3};

static const db_stmt_t get = {"capa_get",
                              "SELECT capa_json(a)::text FROM corrective_actions a WHERE "
                              "a.org_id = $1 AND a.id = $2",
                              2};

static const db_stmt_t lock = {
    "capa_lock",
    "SELECT a.project_id, a.state, a.major, coalesce(a.responsible_id::text, ''), (CASE WHEN "
    "a.department_id IS NULL THEN 0 ELSE 1 END + cardinality(array(SELECT DISTINCT x FROM "
    "unnest(a.other_departments) x WHERE x IS DISTINCT FROM a.department_id)))::int, a.reviews "
    "@> '[{\"convener_role\": \"gm\"}]', a.version, (SELECT coalesce(max(e.seq), 0) FROM "
    "corrective_action_events e WHERE e.action_id = a.id), a.number FROM corrective_actions a "
    "WHERE a.org_id = $1 AND a.id = $2 FOR UPDATE",
    2};

#define SETTXT(col)                                                                                \
    col " = CASE WHEN $5::jsonb ? '" col "' THEN $5::jsonb ->> '" col "' ELSE " col " END, "

static const db_stmt_t apply = {
    "capa_apply",
    "WITH u AS (UPDATE corrective_actions SET state = $4, " SETTXT("cause_analysis")
        SETTXT("responsibility") SETTXT("remedial_action") SETTXT("measures") SETTXT(
            "implementation_notes") SETTXT("verification") SETTXT("customer_confirmation")
            SETTXT("cancel_reason") "due_at = CASE WHEN $5::jsonb ? 'due_at' THEN ($5::jsonb ->> "
                                    "'due_at')::timestamptz ELSE due_at END, other_departments = "
                                    "CASE WHEN $5::jsonb ? 'other_departments' THEN "
                                    "ARRAY(SELECT jsonb_array_elements_text($5::jsonb -> "
                                    "'other_departments'))::uuid[] ELSE other_departments END, "
                                    "customer_confirmed = CASE WHEN $5::jsonb ? "
                                    "'customer_confirmed' THEN ($5::jsonb ->> "
                                    "'customer_confirmed')::boolean ELSE customer_confirmed END, "
                                    "reviews = CASE WHEN $5::jsonb ? 'review' THEN reviews || "
                                    "jsonb_build_array(($5::jsonb -> 'review') || "
                                    "jsonb_build_object('recorded_at', "
                                    "rfc3339(clock_timestamp()))) ELSE reviews END, approved_by "
                                    "= CASE WHEN $3 = 'approve' THEN $6::uuid ELSE approved_by "
                                    "END, approved_at = CASE WHEN $3 = 'approve' THEN "
                                    "clock_timestamp() ELSE approved_at END, implemented_at = "
                                    "CASE WHEN $3 = 'implement' THEN coalesce(($5::jsonb ->> "
                                    "'implemented_at')::timestamptz, clock_timestamp()) ELSE "
                                    "implemented_at END, verified_by = CASE WHEN $3 = 'verify' "
                                    "THEN $6::uuid ELSE verified_by END, verified_at = CASE WHEN "
                                    "$3 = 'verify' THEN clock_timestamp() ELSE verified_at END, "
                                    "customer_confirmed_at = CASE WHEN $3 = 'confirm' THEN "
                                    "clock_timestamp() ELSE customer_confirmed_at END, version = "
                                    "version + 1, updated_at = clock_timestamp() WHERE org_id = "
                                    "$1 AND id = $2 RETURNING org_id, id) INSERT INTO "
                                    "corrective_action_events (org_id, action_id, seq, action, "
                                    "from_state, to_state, actor_id, actor_role, details) SELECT "
                                    "org_id, id, $8::int, $3, $9, $4, $6::uuid, $7, "
                                    "coalesce($10::jsonb, '{}') FROM u",
    10};

static const db_stmt_t events = {
    "capa_events",
    "SELECT coalesce(json_agg(json_build_object('seq', e.seq, 'action', e.action, 'from_state', "
    "e.from_state, 'to_state', e.to_state, 'actor_id', e.actor_id, 'actor_role', e.actor_role, "
    "'at', rfc3339(e.at), 'details', e.details) ORDER BY e.seq), '[]')::text FROM "
    "corrective_action_events e WHERE e.org_id = $1 AND e.action_id = $2",
    2};

static const db_stmt_t list = {
    "capa_list",
    "SELECT capa_json(a)::text, rfc3339(a.created_at), a.id FROM corrective_actions a WHERE "
    "a.org_id = $1 AND ($2::uuid[] IS NULL OR a.project_id = ANY($2::uuid[])) AND ($3::uuid IS "
    "NULL OR a.project_id = $3) AND ($4::text IS NULL OR a.state = $4) AND ($5::text IS NULL OR "
    "a.kind = $5) AND ($6::uuid IS NULL OR a.responsible_id = $6) AND ($7::boolean IS NULL OR "
    "NOT $7::boolean OR (a.due_at < clock_timestamp() AND a.state IN " RUNNING ")) AND "
    "($8::text IS NULL OR EXISTS (SELECT 1 FROM corrective_action_sources s WHERE s.action_id = "
    "a.id AND s.source_kind = $8 AND ($9::text IS NULL OR s.source_id = $9))) AND "
    "($10::timestamptz IS NULL OR (a.created_at, a.id) > ($10::timestamptz, $11::uuid)) ORDER BY "
    "a.created_at, a.id LIMIT $12::int",
    12};

static const db_stmt_t due = {
    "capa_due",
    "SELECT a.id, a.org_id, extract(epoch FROM a.created_at)::bigint, extract(epoch FROM "
    "a.due_at)::bigint, rfc3339(a.due_at) FROM corrective_actions a WHERE a.state IN " RUNNING
    " AND a.due_at IS NOT NULL AND a.due_at <= to_timestamp($1::bigint + $2::int) AND NOT EXISTS "
    "(SELECT 1 FROM capa_alerts x WHERE x.action_id = a.id AND x.kind = 'escalation' AND "
    "x.due_at = a.due_at) ORDER BY a.due_at LIMIT $3::int FOR UPDATE OF a SKIP LOCKED",
    3};

static const db_stmt_t alert = {
    "capa_alert",
    "WITH ins AS (INSERT INTO capa_alerts (org_id, action_id, kind, due_at) VALUES ($1, $2, $3, "
    "$4::timestamptz) ON CONFLICT DO NOTHING RETURNING 1), a AS (SELECT * FROM "
    "corrective_actions WHERE org_id = $1 AND id = $2), nt AS (INSERT INTO notifications "
    "(org_id, user_id, kind, payload) SELECT $1, u.id, CASE $3 WHEN 'warning' THEN 'capa_due' "
    "ELSE 'capa_overdue' END, jsonb_build_object('corrective_action_id', a.id, 'number', "
    "a.number, 'project_id', a.project_id, 'state', a.state, 'due_at', rfc3339(a.due_at), "
    "'responsible_id', a.responsible_id) FROM ins, a, users u WHERE u.org_id = $1 AND u.active "
    "AND (u.id = coalesce(a.responsible_id, a.created_by) OR ($3 = 'escalation' AND u.role = "
    "'manager' AND EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id = u.id AND "
    "up.project_id = a.project_id))) RETURNING 1) SELECT count(*) FROM nt",
    4};

static const db_stmt_t by_dept_period = {
    "capa_by_dept_period",
    "SELECT capa_json(a)::text FROM corrective_action_sources s JOIN corrective_actions a ON a.id "
    "= s.action_id WHERE s.org_id = $1 AND s.source_kind = 'department_below_target' AND "
    "s.source_id = $2",
    2};

char *db_capa_create(db_conn_t *c, const db_capa_new_t *n)
{
    const char *v[] = {n->org,
                       n->project,
                       n->kind,
                       n->title,
                       n->problem,
                       n->major ? "true" : "false",
                       n->department,
                       n->responsible,
                       n->other_departments,
                       n->due_at,
                       n->actor,
                       n->sources,
                       n->actor_role ? n->actor_role : "system",
                       n->details};
    return db_exec_text(c, &create, v);
}

char *db_capa_check_people(db_conn_t *c, const char *org, const char *project, const char *dept,
                           const char *responsible, const char *others)
{
    const char *v[] = {org, project, dept, responsible, others};
    return db_exec_text(c, &people, v);
}

int db_capa_staff(db_conn_t *c, const char *org, const char *project, const char *users)
{
    const char *v[] = {org, project, users};
    char *t = db_exec_text(c, &staff, v);
    int rc = t ? t[0] == 't' : -1;
    free(t);
    return rc;
}

char *db_capa_json(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &get, v);
}

PGresult *db_capa_lock(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec(c, &lock, v);
}

int db_capa_apply(db_conn_t *c, const char *org, const char *id, const char *action,
                  const char *from, const char *to, const char *patch, const char *actor,
                  const char *role, int seq, const char *details)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *v[] = {org, id, action, to, patch ? patch : "{}", actor, role, s, from, details};
    PGresult *r = db_exec(c, &apply, v);
    int rc = db_ok(r) && atoi(PQcmdTuples(r)) == 1 ? 0 : -1;
    PQclear(r);
    return rc;
}

char *db_capa_events(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &events, v);
}

PGresult *db_capa_list(db_conn_t *c, const char *org, const char *projects, const char *project,
                       const char *state, const char *kind, const char *responsible,
                       const char *overdue, const char *source_kind, const char *source_id,
                       const char *after_ts, const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org,     projects,    project,   state,    kind,     responsible,
                       overdue, source_kind, source_id, after_ts, after_id, l};
    return db_exec(c, &list, v);
}

PGresult *db_capa_due(db_conn_t *c, int64_t now, int horizon, int limit)
{
    char n[24], h[16], l[16];
    snprintf(n, sizeof n, "%lld", (long long)now);
    snprintf(h, sizeof h, "%d", horizon);
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {n, h, l};
    return db_exec(c, &due, v);
}

int db_capa_alert(db_conn_t *c, const char *org, const char *id, const char *kind,
                  const char *due_at)
{
    const char *v[] = {org, id, kind, due_at};
    PGresult *r = db_exec(c, &alert, v);
    int n = db_ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

int capa_create_for_department(db_conn_t *c, const char *org, const char *project,
                               const char *department, const char *period, double figure,
                               double target, const char *actor, const char *actor_role,
                               char **json)
{
    *json = NULL;
    if (!core_capa_below_target(figure, target))
        return 2;
    char ref[160];
    snprintf(ref, sizeof ref, "%s/%s", department, period);
    const char *v[] = {org, ref};
    *json = db_exec_text(c, &by_dept_period, v);
    if (*json)
        return 0;
    char *bad = db_capa_check_people(c, org, project, department, NULL, NULL);
    if (!bad || bad[0]) {
        free(bad);
        return -1;
    }
    free(bad);
    char due[32], title[200], problem[400];
    rfc3339_format((int64_t)time(NULL) + 30 * 86400, due);
    snprintf(title, sizeof title, "满意度低于目标 %s: %.1f < %.1f", period, figure, target);
    snprintf(problem, sizeof problem,
             "The department's satisfaction for %s was %.2f, below the project's target %.2f "
             "(002 第8篇 5.10).",
             period, figure, target);
    cJSON *src = cJSON_CreateArray(), *o = cJSON_CreateObject(), *d = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "department_below_target");
    cJSON_AddStringToObject(o, "id", ref);
    cJSON_AddItemToArray(src, o);
    cJSON_AddStringToObject(d, "period", period);
    cJSON_AddNumberToObject(d, "figure", figure);
    cJSON_AddNumberToObject(d, "target", target);
    cJSON_AddStringToObject(d, "department_id", department);
    cJSON_AddStringToObject(d, "trigger", "department_below_target");
    char *sj = cJSON_PrintUnformatted(src), *dj = cJSON_PrintUnformatted(d);
    cJSON_Delete(src);
    cJSON_Delete(d);
    db_capa_new_t n = {org,  project, "corrective", title, problem, 0,          department,
                       NULL, NULL,    due,          sj,    actor,   actor_role, dj};
    char *id = sj && dj ? db_capa_create(c, &n) : NULL;
    free(sj);
    free(dj);
    if (!id)
        return -1;
    *json = db_capa_json(c, org, id);
    free(id);
    return *json ? 1 : -1;
}
