/* db/patrol.c — patrols; see patrol.h and db/migrations/0019_patrols.sql. */
#include "db/patrol.h"
#include "core/patrol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_JSON                                                                                  \
    "json_build_object('id', p.id, 'project_id', p.project_id, 'kind', p.kind, 'times', "          \
    "to_json(p.times), 'grace_minutes', p.grace_minutes, 'active', p.active, 'version', "          \
    "p.version, 'created_at', rfc3339(p.created_at), 'updated_at', rfc3339(p.updated_at))"

/* An active staff member of project $2 (the org-wide roles count everywhere). */
#define STAFF(x)                                                                                   \
    "EXISTS (SELECT 1 FROM users u WHERE u.org_id = $1 AND u.id = " x " AND u.active AND u.role "  \
    "NOT IN ('resident', 'integration') AND (u.role IN ('admin', 'gm', 'auditor') OR EXISTS "      \
    "(SELECT 1 FROM user_projects up WHERE up.user_id = u.id AND up.project_id = $2)))"

static const db_stmt_t plan_put = {
    "patrol_plan_put",
    "INSERT INTO patrol_plans AS p (org_id, project_id, kind, times, grace_minutes, active) "
    "VALUES ($1, $2, $3, $4::text[], coalesce($5::int, 30), coalesce($6::boolean, true)) ON "
    "CONFLICT (project_id, kind) DO UPDATE SET times = EXCLUDED.times, grace_minutes = "
    "EXCLUDED.grace_minutes, active = EXCLUDED.active, version = p.version + 1, updated_at = "
    "clock_timestamp() RETURNING " PLAN_JSON "::text, p.xmax = 0",
    6};
static const db_stmt_t plans = {
    "patrol_plans",
    "SELECT coalesce(json_agg(" PLAN_JSON " ORDER BY p.project_id, p.kind), '[]')::text FROM "
    "patrol_plans p WHERE p.org_id = $1 AND ($2::uuid[] IS NULL OR p.project_id = ANY($2::uuid[])) "
    "AND ($3::uuid IS NULL OR p.project_id = $3)",
    3};
static const db_stmt_t slot_pick = {
    "patrol_slot_pick",
    "SELECT s.plan_id, rfc3339(s.planned_at) FROM projects pr, generate_series(-1, 1) g, LATERAL "
    "patrol_slots(pr.id, (clock_timestamp() AT TIME ZONE pr.time_zone)::date + g) s WHERE "
    "pr.org_id = $1 AND pr.id = $2 AND s.kind = $3 AND CASE WHEN $4::timestamptz IS NULL THEN "
    "abs(extract(epoch FROM s.planned_at - clock_timestamp())) <= 10800 AND NOT EXISTS (SELECT 1 "
    "FROM patrol_rounds r WHERE r.plan_id = s.plan_id AND r.planned_at = s.planned_at) ELSE "
    "s.planned_at = $4::timestamptz END ORDER BY abs(extract(epoch FROM s.planned_at - "
    "clock_timestamp())) LIMIT 1",
    4};
static const db_stmt_t people = {
    "patrol_people",
    "SELECT CASE WHEN $3::uuid IS NOT NULL AND NOT " STAFF(
        "$3::uuid") " THEN 'follow_up_id' "
                    "WHEN $4::uuid IS NOT NULL AND NOT " STAFF(
                        "$4::uuid") " THEN 'responsible_id' WHEN "
                                    "$5::uuid[] IS NOT NULL AND EXISTS (SELECT 1 FROM "
                                    "unnest($5::uuid[]) x WHERE NOT " STAFF(
                                        "x") ") THEN 'participants' ELSE '' END",
    5};
static const db_stmt_t round_create = {
    "patrol_round_create",
    "INSERT INTO patrol_rounds (org_id, project_id, kind, plan_id, planned_at, started_by, "
    "participants, coverage, coverage_note) VALUES ($1, $2, $3, $4, $5::timestamptz, $6, "
    "coalesce($7::uuid[], '{}'), coalesce($8, 'whole'), $9) RETURNING id",
    9};
static const db_stmt_t round_get = {
    "patrol_round_get",
    "SELECT (patrol_round_json(r)::jsonb || jsonb_build_object('findings', (SELECT "
    "coalesce(jsonb_agg(patrol_finding_json(f)::jsonb ORDER BY f.created_at, f.id), '[]') FROM "
    "patrol_findings f WHERE f.round_id = r.id)))::text FROM patrol_rounds r WHERE r.org_id = $1 "
    "AND r.id = $2",
    2};
static const db_stmt_t round_lock = {
    "patrol_round_lock",
    "SELECT project_id, kind, state, extract(epoch FROM started_at)::bigint, checks::text, "
    "version FROM patrol_rounds WHERE org_id = $1 AND id = $2 FOR UPDATE",
    2};
static const db_stmt_t round_checks = {
    "patrol_round_checks",
    "UPDATE patrol_rounds SET checks = checks || $3::jsonb, version = version + 1, updated_at = "
    "clock_timestamp() WHERE org_id = $1 AND id = $2",
    3};
static const db_stmt_t undisposed = {
    "patrol_undisposed",
    "SELECT coalesce(json_agg(json_build_object('id', f.id, 'point', f.point, 'description', "
    "f.description, 'location', f.location) ORDER BY f.created_at, f.id), '[]')::text, count(*) "
    "FROM patrol_findings f WHERE f.round_id = $1 AND f.disposition IS NULL",
    1};
static const db_stmt_t round_finish = {
    "patrol_round_finish",
    "UPDATE patrol_rounds SET state = 'finished', ended_at = clock_timestamp(), finished_by = $3, "
    "short_reason = $4, version = version + 1, updated_at = clock_timestamp() WHERE org_id = $1 "
    "AND id = $2 AND state = 'in_progress'",
    4};
static const db_stmt_t round_list = {
    "patrol_round_list",
    "SELECT patrol_round_json(r)::text, rfc3339(r.created_at), r.id FROM patrol_rounds r WHERE "
    "r.org_id = $1 AND ($2::uuid[] IS NULL OR r.project_id = ANY($2::uuid[])) AND ($3::uuid IS "
    "NULL OR r.project_id = $3) AND ($4::text IS NULL OR r.state = $4) AND ($5::text IS NULL OR "
    "r.kind = $5) AND ($6::timestamptz IS NULL OR (r.created_at, r.id) > ($6::timestamptz, "
    "$7::uuid)) ORDER BY r.created_at, r.id LIMIT $8::int",
    8};
static const db_stmt_t finding_create = {
    "patrol_finding_create",
    "WITH f AS (INSERT INTO patrol_findings (org_id, project_id, round_id, point, description, "
    "location, photo_id, owner_related, follow_up_id, reply_due, responsible_id, created_by) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::boolean, $9, $10::timestamptz, $11, $12) RETURNING "
    "id, round_id, point), u AS (UPDATE patrol_rounds r SET checks = r.checks || "
    "jsonb_build_object(f.point, 'finding'), version = r.version + 1, updated_at = "
    "clock_timestamp() FROM f WHERE r.id = f.round_id) SELECT id FROM f",
    12};
static const db_stmt_t finding_get = {"patrol_finding_get",
                                      "SELECT patrol_finding_json(f)::text FROM patrol_findings f "
                                      "WHERE f.org_id = $1 AND f.id = $2",
                                      2};
static const db_stmt_t finding_lock = {
    "patrol_finding_lock",
    "SELECT f.project_id, f.round_id, coalesce(f.disposition, ''), r.state, f.description, "
    "f.location, f.point FROM patrol_findings f JOIN patrol_rounds r ON r.id = f.round_id WHERE "
    "f.org_id = $1 AND f.id = $2 FOR UPDATE OF f",
    2};
static const db_stmt_t finding_dispose = {
    "patrol_finding_dispose",
    "UPDATE patrol_findings SET disposition = $3, disposition_note = $4, capa_id = $5, "
    "request_id = $6, disposed_by = $7, disposed_at = clock_timestamp(), version = version + 1, "
    "updated_at = clock_timestamp() WHERE org_id = $1 AND id = $2 AND disposition IS NULL",
    7};
static const db_stmt_t day_slots = {
    "patrol_day_slots",
    "SELECT s.kind, rfc3339(s.planned_at), extract(epoch FROM s.planned_at)::bigint, "
    "s.grace_minutes, coalesce(r.id::text, ''), coalesce(extract(epoch FROM "
    "r.started_at)::bigint, 0), coalesce(extract(epoch FROM r.ended_at)::bigint, 0) FROM "
    "projects pr, LATERAL patrol_slots(pr.id, $3::date) s LEFT JOIN patrol_rounds r ON r.plan_id "
    "= s.plan_id AND r.planned_at = s.planned_at WHERE pr.org_id = $1 AND pr.id = $2 ORDER BY "
    "s.planned_at, s.kind",
    3};
static const db_stmt_t day_rest = {
    "patrol_day_rest",
    "SELECT json_build_object('rounds', (SELECT coalesce(json_agg(patrol_round_json(r) ORDER BY "
    "r.started_at, r.id), '[]') FROM patrol_rounds r WHERE r.org_id = $1 AND r.project_id = $2 "
    "AND r.started_at >= ($3::date)::timestamp AT TIME ZONE pr.time_zone AND r.started_at < "
    "($3::date + 1)::timestamp AT TIME ZONE pr.time_zone), 'open_findings', (SELECT "
    "coalesce(json_agg(patrol_finding_json(f) ORDER BY f.created_at, f.id), '[]') FROM "
    "patrol_findings f WHERE f.project_id = $2 AND f.org_id = $1 AND f.disposition IS "
    "NULL))::text FROM projects pr WHERE pr.org_id = $1 AND pr.id = $2",
    3};
static const db_stmt_t today = {"patrol_today",
                                "SELECT to_char(clock_timestamp() AT TIME ZONE time_zone, "
                                "'YYYY-MM-DD') FROM projects WHERE org_id = $1 AND id = $2",
                                2};
/* The missed-round rule is core_patrol_slot_status()'s: this statement only selects the
 * candidates — the slots of active plans planned in the last 24 hours (local today and
 * yesterday, not before the plan existed) not yet recorded as missed — with the earliest
 * start of a round of the slot (rounded up to the second, so that a start a fraction of a
 * second after the limit stays late); core judges each. */
static const db_stmt_t missed_candidates = {
    "patrol_missed_candidates",
    "SELECT pl.id, extract(epoch FROM s.planned_at)::bigint, s.grace_minutes, coalesce((SELECT "
    "ceil(extract(epoch FROM min(r.started_at)))::bigint FROM patrol_rounds r WHERE r.plan_id = "
    "pl.id AND r.planned_at = s.planned_at), 0) FROM patrol_plans pl JOIN projects pr ON pr.id "
    "= pl.project_id, generate_series(-1, 0) g, LATERAL patrol_slots(pl.project_id, "
    "(to_timestamp($1::bigint) AT TIME ZONE pr.time_zone)::date + g) s WHERE pl.active AND "
    "s.plan_id = pl.id AND s.planned_at <= to_timestamp($1::bigint) AND s.planned_at > "
    "to_timestamp($1::bigint) - interval '24 hours' AND s.planned_at >= pl.created_at AND NOT "
    "EXISTS (SELECT 1 FROM patrol_missed m WHERE m.plan_id = pl.id AND m.planned_at = "
    "s.planned_at)",
    1};
/* Records the slots judged missed (plan ids, planned epochs) once and notifies the
 * project's supervisors of each newly recorded one. */
static const db_stmt_t missed = {
    "patrol_missed_run",
    "WITH cand AS (SELECT pl.org_id, pl.project_id, pl.id AS plan_id, to_timestamp(x.t) AS "
    "planned_at FROM unnest($1::uuid[], $2::bigint[]) AS x(plan, t) JOIN patrol_plans pl ON "
    "pl.id = x.plan), "
    "ins AS (INSERT INTO patrol_missed (org_id, project_id, plan_id, planned_at) SELECT org_id, "
    "project_id, plan_id, planned_at FROM cand ON CONFLICT DO NOTHING RETURNING *), nt AS "
    "(INSERT INTO notifications (org_id, user_id, kind, payload) SELECT i.org_id, u.id, "
    "'patrol_missed', jsonb_build_object('project_id', i.project_id, 'plan_id', i.plan_id, "
    "'kind', pl.kind, 'planned_at', rfc3339(i.planned_at)) FROM ins i JOIN patrol_plans pl ON "
    "pl.id = i.plan_id JOIN users u ON u.org_id = i.org_id AND u.active AND u.role = "
    "'supervisor' AND EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id = u.id AND "
    "up.project_id = i.project_id) RETURNING 1) SELECT (SELECT count(*) FROM ins), (SELECT "
    "count(*) FROM nt)",
    2};

static int one_row_ok(PGresult *r)
{
    int rc = db_ok(r) && atoi(PQcmdTuples(r)) == 1 ? 0 : -1;
    PQclear(r);
    return rc;
}

PGresult *db_patrol_plan_put(db_conn_t *c, const char *org, const char *project, const char *kind,
                             const char *times, const char *grace, const char *active)
{
    const char *v[] = {org, project, kind, times, grace, active};
    return db_exec(c, &plan_put, v);
}

char *db_patrol_plans(db_conn_t *c, const char *org, const char *projects, const char *project)
{
    const char *v[] = {org, projects, project};
    return db_exec_text(c, &plans, v);
}

PGresult *db_patrol_slot_pick(db_conn_t *c, const char *org, const char *project, const char *kind,
                              const char *planned_at)
{
    const char *v[] = {org, project, kind, planned_at};
    return db_exec(c, &slot_pick, v);
}

char *db_patrol_check_people(db_conn_t *c, const char *org, const char *project,
                             const char *follow_up, const char *responsible,
                             const char *participants)
{
    const char *v[] = {org, project, follow_up, responsible, participants};
    return db_exec_text(c, &people, v);
}

char *db_patrol_round_create(db_conn_t *c, const char *org, const char *project, const char *kind,
                             const char *plan, const char *planned_at, const char *by,
                             const char *participants, const char *coverage, const char *note)
{
    const char *v[] = {org, project, kind, plan, planned_at, by, participants, coverage, note};
    return db_exec_text(c, &round_create, v);
}

char *db_patrol_round_json(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &round_get, v);
}

PGresult *db_patrol_round_lock(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec(c, &round_lock, v);
}

int db_patrol_round_checks(db_conn_t *c, const char *org, const char *id, const char *checks)
{
    const char *v[] = {org, id, checks};
    return one_row_ok(db_exec(c, &round_checks, v));
}

PGresult *db_patrol_undisposed(db_conn_t *c, const char *round)
{
    const char *v[] = {round};
    return db_exec(c, &undisposed, v);
}

int db_patrol_round_finish(db_conn_t *c, const char *org, const char *id, const char *by,
                           const char *reason)
{
    const char *v[] = {org, id, by, reason};
    return one_row_ok(db_exec(c, &round_finish, v));
}

PGresult *db_patrol_round_list(db_conn_t *c, const char *org, const char *projects,
                               const char *project, const char *state, const char *kind,
                               const char *after_ts, const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, projects, project, state, kind, after_ts, after_id, l};
    return db_exec(c, &round_list, v);
}

char *db_patrol_finding_create(db_conn_t *c, const db_finding_new_t *n)
{
    const char *v[] = {
        n->org,         n->project,   n->round,       n->point,
        n->description, n->location,  n->photo,       n->owner_related ? "true" : "false",
        n->follow_up,   n->reply_due, n->responsible, n->by};
    return db_exec_text(c, &finding_create, v);
}

#define PHOTO_JSON                                                                                 \
    "json_build_object('id', p.id, 'project_id', p.project_id, 'round_id', p.round_id, "           \
    "'filename', p.filename, 'content_type', p.content_type, 'size_bytes', p.size_bytes, "         \
    "'storage_key', p.storage_key, 'url', p.url, 'sha256', p.sha256, 'created_by', "               \
    "p.created_by, 'created_at', rfc3339(p.created_at))::text"
static const db_stmt_t photo_add = {
    "patrol_photo_add",
    "WITH p AS (INSERT INTO patrol_photos (org_id, project_id, round_id, filename, "
    "content_type, size_bytes, storage_key, url, sha256, created_by) VALUES ($1, $2, $3, $4, $5, "
    "$6::bigint, $7, $8, $9, $10) RETURNING *) SELECT " PHOTO_JSON " FROM p",
    10};
static const db_stmt_t photo_get = {
    "patrol_photo_get",
    "SELECT " PHOTO_JSON " FROM patrol_photos p WHERE p.org_id = $1 AND p.id = $2", 2};
static const db_stmt_t photo_of_round = {
    "patrol_photo_of_round",
    "SELECT 1 FROM patrol_photos WHERE org_id = $1 AND round_id = $2 AND id = $3", 3};

char *db_patrol_photo_add(db_conn_t *c, const char *org, const char *project, const char *round,
                          const char *const *vals, const char *by)
{
    const char *v[] = {org,     project, round,   vals[0], vals[1],
                       vals[2], vals[3], vals[4], vals[5], by};
    return db_exec_text(c, &photo_add, v);
}

char *db_patrol_photo_json(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &photo_get, v);
}

int db_patrol_photo_of_round(db_conn_t *c, const char *org, const char *round, const char *photo)
{
    const char *v[] = {org, round, photo};
    PGresult *r = db_exec(c, &photo_of_round, v);
    int rc = db_ok(r) ? PQntuples(r) == 1 : -1;
    PQclear(r);
    return rc;
}

char *db_patrol_finding_json(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &finding_get, v);
}

PGresult *db_patrol_finding_lock(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec(c, &finding_lock, v);
}

int db_patrol_finding_dispose(db_conn_t *c, const char *org, const char *id, const char *disp,
                              const char *note, const char *capa, const char *request,
                              const char *by)
{
    const char *v[] = {org, id, disp, note, capa, request, by};
    return one_row_ok(db_exec(c, &finding_dispose, v));
}

PGresult *db_patrol_day_slots(db_conn_t *c, const char *org, const char *project, const char *day)
{
    const char *v[] = {org, project, day};
    return db_exec(c, &day_slots, v);
}

char *db_patrol_day_rest(db_conn_t *c, const char *org, const char *project, const char *day)
{
    const char *v[] = {org, project, day};
    return db_exec_text(c, &day_rest, v);
}

char *db_patrol_today(db_conn_t *c, const char *org, const char *project)
{
    const char *v[] = {org, project};
    return db_exec_text(c, &today, v);
}

int db_patrol_missed_run(db_conn_t *c, int64_t now)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)now);
    const char *v[] = {n};
    PGresult *r = db_exec(c, &missed_candidates, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int rows = PQntuples(r), found = 0;
    /* "{uuid,...}" and "{epoch,...}" literals of the slots core judges missed. */
    size_t cap = (size_t)rows * 40 + 3;
    char *plans = malloc(cap), *times = malloc((size_t)rows * 24 + 3);
    if (!plans || !times) {
        free(plans);
        free(times);
        PQclear(r);
        return -1;
    }
    size_t pn = 0, tn = 0;
    plans[pn++] = '{';
    times[tn++] = '{';
    for (int i = 0; i < rows; i++) {
        int64_t planned = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        int grace = atoi(PQgetvalue(r, i, 2));
        int64_t started = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        if (core_patrol_slot_status(planned, grace, started, 0, now) != SLOT_MISSED)
            continue;
        pn += (size_t)sprintf(plans + pn, "%s%s", found ? "," : "", PQgetvalue(r, i, 0));
        tn += (size_t)sprintf(times + tn, "%s%lld", found ? "," : "", (long long)planned);
        found++;
    }
    plans[pn++] = '}';
    plans[pn] = 0;
    times[tn++] = '}';
    times[tn] = 0;
    PQclear(r);
    int rc = 0;
    if (found) {
        const char *w[] = {plans, times};
        r = db_exec(c, &missed, w);
        rc = db_ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
        PQclear(r);
    }
    free(plans);
    free(times);
    return rc;
}
