/* db/sla.c — SQL for SLA policies, calendars, request clocks, sweeps and the outbox. */
#include "db/sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt_t project_config = {
    "sla_project_config",
    "SELECT 'calendar', v.id, v.definition::text, NULL, NULL, NULL, NULL, NULL, v.version, "
    "NULL::timestamptz FROM sla_calendars k JOIN sla_calendar_versions v ON v.calendar_id = k.id "
    "AND v.version = k.current_version WHERE k.project_id = $2 AND k.org_id = $1 "
    "UNION ALL SELECT 'policy', v.id, v.definition::text, p.match_type, p.match_severity, "
    "p.match_category, p.name, p.id, v.version, p.created_at FROM sla_policies p JOIN "
    "sla_policy_versions v ON v.policy_id = p.id AND v.version = p.current_version WHERE "
    "p.project_id = $2 AND p.org_id = $1 AND p.active "
    /* one 'project' row when the project exists in the organisation */
    "UNION ALL SELECT 'project', j.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM "
    "projects j WHERE j.id = $2 AND j.org_id = $1 "
    /* policies in a fixed order: among equally specific matches the oldest wins */
    "ORDER BY 10 NULLS FIRST, 8",
    2};
static const db_stmt_t version_def = {
    "sla_version_def",
    "SELECT definition::text FROM sla_policy_versions WHERE id = $1 AND NOT $2::boolean "
    "UNION ALL SELECT definition::text FROM sla_calendar_versions WHERE id = $1 AND $2::boolean",
    2};
static const db_stmt_t without_config = {
    "sla_without_config",
    "SELECT p.org_id, p.id, p.time_zone, p.business_hours::text, "
    "NOT EXISTS (SELECT 1 FROM sla_calendars k WHERE k.project_id = p.id), "
    "NOT EXISTS (SELECT 1 FROM sla_policies s WHERE s.project_id = p.id) FROM projects p "
    "WHERE NOT EXISTS (SELECT 1 FROM sla_calendars k WHERE k.project_id = p.id) OR NOT EXISTS "
    "(SELECT 1 FROM sla_policies s WHERE s.project_id = p.id)",
    0};
static const db_stmt_t cal_create = {
    "sla_cal_create",
    "WITH k AS (INSERT INTO sla_calendars (org_id, project_id) VALUES ($1, $2) ON CONFLICT "
    "(project_id) DO NOTHING RETURNING id, org_id) INSERT INTO sla_calendar_versions (org_id, "
    "calendar_id, version, definition, created_by) SELECT k.org_id, k.id, 1, $3::jsonb, $4 FROM k",
    4};
static const db_stmt_t cal_bump = {
    "sla_cal_bump",
    "UPDATE sla_calendars SET current_version = current_version + 1, updated_at = "
    "clock_timestamp() WHERE project_id = $2 AND org_id = $1 AND current_version = $3 "
    "RETURNING id, current_version",
    3};
static const db_stmt_t cal_exists = {
    "sla_cal_exists",
    "SELECT current_version FROM sla_calendars WHERE project_id = $2 AND org_id = $1", 2};
static const db_stmt_t cal_version_ins = {
    "sla_cal_version_ins",
    "INSERT INTO sla_calendar_versions (org_id, calendar_id, version, definition, created_by) "
    "VALUES ($1, $2, $3, $4::jsonb, $5)",
    5};
static const db_stmt_t cal_get = {
    "sla_cal_get",
    "SELECT json_build_object('project_id', k.project_id, 'version', v.version, 'version_id', "
    "v.id, 'definition', v.definition, 'updated_at', rfc3339(v.created_at))::text, v.version "
    "FROM sla_calendars k JOIN sla_calendar_versions v ON v.calendar_id = k.id AND v.version = "
    "k.current_version WHERE k.project_id = $2 AND k.org_id = $1",
    2};

#define POLICY_JSON                                                                                \
    "json_build_object('id', p.id, 'project_id', p.project_id, 'name', p.name, 'match', "          \
    "json_build_object('type', p.match_type, 'severity', p.match_severity, 'category', "           \
    "p.match_category), 'active', p.active, 'version', p.current_version, 'version_id', v.id, "    \
    "'definition', v.definition, 'created_at', rfc3339(p.created_at), 'updated_at', "              \
    "rfc3339(p.updated_at))::text"

static const db_stmt_t pol_create = {
    "sla_pol_create",
    "WITH p AS (INSERT INTO sla_policies (org_id, project_id, name, match_type, match_severity, "
    "match_category) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *), v AS (INSERT INTO "
    "sla_policy_versions (org_id, policy_id, version, definition, created_by) SELECT p.org_id, "
    "p.id, 1, $7::jsonb, $8 FROM p RETURNING *) SELECT " POLICY_JSON ", p.current_version "
    "FROM p, v",
    8};
static const db_stmt_t pol_get = {
    "sla_pol_get",
    "SELECT " POLICY_JSON ", p.current_version, p.project_id FROM sla_policies p JOIN "
    "sla_policy_versions v ON v.policy_id = p.id AND v.version = p.current_version WHERE p.id = "
    "$2 AND p.org_id = $1",
    2};
static const db_stmt_t pol_list = {
    "sla_pol_list",
    "SELECT " POLICY_JSON " FROM sla_policies p JOIN sla_policy_versions v ON v.policy_id = p.id "
    "AND v.version = p.current_version WHERE p.org_id = $1 AND ($2::uuid[] IS NULL OR "
    "p.project_id = ANY($2::uuid[])) AND ($3::uuid IS NULL OR p.project_id = $3) "
    "ORDER BY p.project_id, p.created_at, p.id LIMIT 500",
    3};
static const db_stmt_t pol_bump = {
    "sla_pol_bump",
    "UPDATE sla_policies SET current_version = current_version + 1, name = coalesce($4, name), "
    "active = coalesce($5::boolean, active), updated_at = clock_timestamp() WHERE id = $2 AND "
    "org_id = $1 AND current_version = $3 RETURNING current_version",
    5};
static const db_stmt_t pol_version_ins = {
    "sla_pol_version_ins",
    "INSERT INTO sla_policy_versions (org_id, policy_id, version, definition, created_by) "
    "SELECT $1, $2, $3::int, coalesce($4::jsonb, (SELECT definition FROM sla_policy_versions "
    "WHERE policy_id = $2 AND version = $3::int - 1)), $5",
    5};
static const db_stmt_t pol_exists = {
    "sla_pol_exists", "SELECT current_version FROM sla_policies WHERE id = $2 AND org_id = $1", 2};

/* The columns of a request's SLA evaluation (SLA_COL_*); EV, AL and SEQ give its timeline,
 * its recorded alerts and its last event seq. */
#define REQ_SLA_COLS_OF(EV, AL, SEQ)                                                               \
    "r.type, r.severity, r.night_desk, r.validity, coalesce(floor(extract(epoch FROM "             \
    "r.customer_deadline))::bigint, 0), coalesce(r.sla_policy_version_id::text, ''), "             \
    "coalesce(r.sla_calendar_version_id::text, ''), r.escalation_level, " EV ", " AL ", "          \
    "r.project_id, r.state, " SEQ ", r.number, coalesce(p.name, ''), coalesce(pv.version, 0), "    \
    "coalesce(cv.version, 0), coalesce(p.id::text, ''), coalesce(r.assignee_id::text, '') "
#define REQ_SLA_COLS                                                                               \
    REQ_SLA_COLS_OF("sla_events_json(r.id)", "sla_alerts_json(r.id)",                              \
                    "(SELECT max(seq) FROM request_events e WHERE e.request_id = r.id)")

#define REQ_SLA_JOINS                                                                              \
    "LEFT JOIN sla_policy_versions pv ON pv.id = r.sla_policy_version_id LEFT JOIN sla_policies "  \
    "p ON p.id = pv.policy_id LEFT JOIN sla_calendar_versions cv ON cv.id = "                      \
    "r.sla_calendar_version_id "

static const db_stmt_t req_sla = {"sla_request",
                                  "SELECT " REQ_SLA_COLS
                                  ", r.id, r.org_id, r.category FROM requests r " REQ_SLA_JOINS
                                  "WHERE r.id = $2 AND r.org_id = $1",
                                  2};
static const db_stmt_t req_sla_lock = {"sla_request_lock",
                                       "SELECT " REQ_SLA_COLS
                                       ", r.id, r.org_id, r.category FROM requests r " REQ_SLA_JOINS
                                       "WHERE r.id = $2 AND r.org_id = $1 FOR UPDATE OF r",
                                       2};
/* Claiming is two steps: a small id query planned with the actual time, then the details
 * of the claimed rows only. */
static const db_stmt_t claim_ids = {
    "sla_claim_ids",
    "SELECT id FROM requests WHERE sla_next_check <= $1::timestamptz AND ($3::uuid IS NULL OR "
    "org_id = $3) ORDER BY sla_next_check LIMIT $2 FOR UPDATE SKIP LOCKED",
    3};
/* The idle sweep's one statement: no row when nothing is due.  Prepared (no parse, no
 * planning per sweep): with the ORDER BY its generic plan is the ordered scan of
 * requests_next_check stopping at the first entry, whatever $1 is (an EXISTS would drop the
 * ORDER BY, and the generic plan of that expects a due row within a few rows of a
 * sequential scan). */
static const db_stmt_t anything_due = {
    "sla_anything_due",
    "SELECT 1 FROM requests WHERE sla_next_check <= $1::timestamptz AND ($2::uuid IS NULL OR "
    "org_id = $2) ORDER BY sla_next_check LIMIT 1",
    2};
/* The claimed batch's timelines, last seqs and recorded alerts: the bodies of
 * sla_events_json() and sla_alerts_json() grouped over the whole batch (one index scan of
 * request_events for events and max(seq), no SQL function per row; same values).  Not
 * correlated subqueries: a plan cached while sla_alerts was nearly empty would scan it once
 * per claimed row; grouped, a stale plan scans it once per batch. */
#define CLAIM_GROUPED                                                                              \
    "LEFT JOIN (SELECT e.request_id, json_agg(json_build_array(e.action, e.actor_role, "           \
    "e.from_state, e.to_state, floor(extract(epoch FROM e.occurred_at))::bigint, "                 \
    "coalesce(e.details->>'visibility', '') = 'public', coalesce((e.details->>'level')::int, 0), " \
    "e.details->>'target', coalesce(floor(extract(epoch FROM (e.details->>'new_due')"              \
    "::timestamptz))::bigint, 0), coalesce(floor(extract(epoch FROM (e.details->>"                 \
    "'appointment_at')::timestamptz))::bigint, 0)) ORDER BY e.occurred_at, e.seq) AS j, "          \
    "max(e.seq) AS m FROM request_events e WHERE e.request_id = ANY($1::uuid[]) GROUP BY "         \
    "e.request_id) ev ON ev.request_id = r.id LEFT JOIN (SELECT a.request_id, "                    \
    "json_agg(json_build_array(a.target, a.kind, a.level, floor(extract(epoch FROM "               \
    "a.due_at))::bigint, floor(extract(epoch FROM a.created_at))::bigint) ORDER BY a.id) AS j "    \
    "FROM sla_alerts a WHERE a.request_id = ANY($1::uuid[]) GROUP BY a.request_id) al ON "         \
    "al.request_id = r.id "
static const db_stmt_t claim = {
    "sla_claim",
    "SELECT " REQ_SLA_COLS_OF(
        "coalesce(ev.j, '[]')", "coalesce(al.j, '[]')",
        "ev.m") ", r.id, r.org_id, r.category FROM requests r " REQ_SLA_JOINS CLAIM_GROUPED
                "WHERE r.id = ANY($1::uuid[])",
    1};
static const db_stmt_t claim_one = {
    "sla_claim_one",
    "WITH c AS (SELECT id FROM requests WHERE id = $3 AND sla_next_check <= $1::timestamptz "
    "LIMIT $2 FOR UPDATE SKIP LOCKED) SELECT " REQ_SLA_COLS
    ", r.id, r.org_id, r.category FROM c JOIN requests r ON r.id = c.id " REQ_SLA_JOINS,
    3};

static const db_stmt_t req_store = {
    "sla_req_store",
    "UPDATE requests SET sla_policy_version_id = coalesce($2::uuid, sla_policy_version_id), "
    "sla_calendar_version_id = coalesce($3::uuid, sla_calendar_version_id), due_first_response "
    "= $4, due_on_site = $5, due_answer = $6, due_resolution = $7, due_handover = $8, "
    "due_callback = $9, due_gm_report = $10, sla_next_due = $11, sla_next_check = $12 WHERE id = "
    "$1",
    12};

/* One rewrite per swept request: due times, the next check, and the level its new
 * escalations reached (the version and updated_at move only when the level does). */
static const db_stmt_t store_many = {
    "sla_store_many",
    "UPDATE requests r SET due_first_response = x.due_first_response, due_on_site = "
    "x.due_on_site, due_answer = x.due_answer, due_resolution = x.due_resolution, due_handover = "
    "x.due_handover, due_callback = x.due_callback, due_gm_report = x.due_gm_report, "
    "sla_next_due = x.next_due, sla_next_check = x.next_check, escalation_level = "
    "greatest(r.escalation_level, coalesce(x.level, 0)), version = r.version + CASE WHEN "
    "coalesce(x.level, 0) > r.escalation_level THEN 1 ELSE 0 END, updated_at = CASE WHEN "
    "coalesce(x.level, 0) > r.escalation_level THEN clock_timestamp() ELSE r.updated_at END "
    "FROM json_to_recordset($1::json) AS x(id uuid, due_first_response timestamptz, due_on_site "
    "timestamptz, due_answer timestamptz, due_resolution timestamptz, due_handover timestamptz, "
    "due_callback timestamptz, due_gm_report timestamptz, next_due timestamptz, next_check "
    "timestamptz, level int) WHERE r.id = x.id",
    1};

/* store_many and the batch's audit rows in one statement (migration 0042). */
static const db_stmt_t store_batch = {"sla_store_batch", "SELECT sla_store_batch($1::json)", 1};

static const db_stmt_t apply_alerts = {
    "sla_apply_alerts",
    "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(request_id uuid, org_id uuid, "
    "project_id uuid, target text, kind text, level int, due_at timestamptz, seq int, number "
    "text, assignee_id uuid)), "
    "ins AS (INSERT INTO sla_alerts (org_id, request_id, target, kind, level, due_at) SELECT "
    "org_id, request_id, target, kind, level, due_at FROM x ON CONFLICT DO NOTHING RETURNING "
    "request_id, target, kind, level, due_at), "
    "j AS (SELECT x.* FROM x JOIN ins USING (request_id, target, kind, level, due_at)), "
    "ev AS (INSERT INTO request_events (org_id, request_id, seq, actor_role, action, occurred_at, "
    "details) SELECT j.org_id, j.request_id, j.seq, 'system', CASE j.kind WHEN 'warning' THEN "
    "'sla_warning' ELSE 'escalate' END, $2::timestamptz, json_build_object('target', j.target, "
    "'level', j.level, 'due_at', rfc3339(j.due_at), 'automatic', true, 'to_role', "
    "CASE WHEN j.kind = 'escalation' THEN ladder_role(j.level) END)::jsonb FROM j), "
    "nt AS (INSERT INTO notifications (org_id, user_id, kind, request_id, payload) SELECT "
    "j.org_id, u.id, CASE j.kind WHEN 'warning' THEN 'sla_warning' ELSE 'sla_escalation' END, "
    "j.request_id, json_build_object('number', j.number, 'target', j.target, 'level', j.level, "
    "'due_at', rfc3339(j.due_at))::jsonb FROM j JOIN users u ON u.org_id = j.org_id AND u.active "
    "AND ((j.kind = 'warning' AND (u.id = j.assignee_id OR (j.assignee_id IS NULL AND u.role = "
    "'agent' AND EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id = u.id AND "
    "up.project_id = j.project_id)))) OR (j.kind = 'escalation' AND u.role = ladder_role(j.level) "
    "AND (u.role = 'gm' OR EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id = u.id AND "
    "up.project_id = j.project_id))))) "
    "SELECT count(*) FILTER (WHERE kind = 'warning'), count(*) FILTER (WHERE kind = "
    "'escalation') FROM j",
    2};

static const db_stmt_t notif_list = {
    "notif_list",
    "SELECT json_build_object('id', n.id, 'kind', n.kind, 'request_id', n.request_id, "
    "'payload', n.payload, 'created_at', rfc3339(n.created_at), 'read_at', rfc3339(n.read_at))"
    "::text, rfc3339(n.created_at), n.id FROM notifications n WHERE n.user_id = $2 AND n.org_id "
    "= $1 AND (NOT $3::boolean OR n.read_at IS NULL) AND ($4::timestamptz IS NULL OR "
    "(n.created_at, n.id) < ($4::timestamptz, $5::uuid)) ORDER BY n.created_at DESC, n.id DESC "
    "LIMIT $6",
    6};
static const db_stmt_t notif_read = {
    "notif_read",
    "UPDATE notifications SET read_at = coalesce(read_at, clock_timestamp()) WHERE id = $3 AND "
    "user_id = $2 AND org_id = $1",
    3};

#define EXT_JSON                                                                                   \
    "json_build_object('id', x.id, 'request_id', x.request_id, 'target', x.target, "               \
    "'requested_due', rfc3339(x.requested_due), 'reason', x.reason, 'state', x.state, "            \
    "'requested_by', x.requested_by, 'decided_by', x.decided_by, 'decided_at', "                   \
    "rfc3339(x.decided_at), 'decision_note', x.decision_note, 'created_at', "                      \
    "rfc3339(x.created_at))"
static const db_stmt_t ext_create = {
    "sla_ext_create",
    "INSERT INTO sla_extensions AS x (org_id, request_id, target, requested_due, reason, "
    "requested_by) VALUES ($1, $2, $3, $4::timestamptz, $5, $6) RETURNING " EXT_JSON "::text",
    6};
static const db_stmt_t target_due = {
    "sla_target_due",
    "SELECT coalesce(floor(extract(epoch FROM CASE $3 WHEN 'first_response' THEN "
    "due_first_response WHEN 'on_site' THEN due_on_site WHEN 'answer' THEN due_answer WHEN "
    "'resolution' THEN due_resolution WHEN 'handover' THEN due_handover WHEN 'callback' THEN "
    "due_callback WHEN 'gm_report' THEN due_gm_report END))::bigint, 0) FROM requests WHERE id = "
    "$2 AND org_id = $1",
    3};
static const db_stmt_t ext_decide = {
    "sla_ext_decide",
    "UPDATE sla_extensions x SET state = $4, decided_by = $5, decided_at = clock_timestamp(), "
    "decision_note = $6 WHERE x.id = $3 AND x.request_id = $2 AND x.org_id = $1 AND x.state = "
    "'requested' RETURNING " EXT_JSON "::text, x.target, rfc3339(x.requested_due)",
    6};
static const db_stmt_t ext_state = {
    "sla_ext_state",
    "SELECT state FROM sla_extensions WHERE id = $3 AND request_id = $2 AND org_id = $1", 3};
static const db_stmt_t ext_list = {"sla_ext_list",
                                   "SELECT coalesce(json_agg(" EXT_JSON
                                   " ORDER BY x.created_at), '[]')::text FROM "
                                   "sla_extensions x WHERE x.request_id = $2 AND x.org_id = $1",
                                   2};
static const db_stmt_t esc_count = {
    "sla_esc_count",
    "SELECT count(*) FROM sla_alerts WHERE request_id = $1 AND kind = 'escalation'", 1};

static int exec_ok(db_conn_t *c, const db_stmt_t *st, const char *const *v);

static const db_stmt_t notify_ladder = {
    "sla_notify_ladder",
    "INSERT INTO notifications (org_id, user_id, kind, request_id, payload) SELECT $1, u.id, $5, "
    "$3, $6::jsonb FROM users u WHERE u.org_id = $1 AND u.active AND u.role = "
    "ladder_role($4::int) AND (u.role = 'gm' OR EXISTS (SELECT 1 FROM user_projects up WHERE "
    "up.user_id = u.id AND up.project_id = $2))",
    6};

int db_sla_notify_ladder(db_conn_t *c, const char *org, const char *project, const char *request,
                         int level, const char *kind, const char *payload)
{
    char l[8];
    snprintf(l, sizeof l, "%d", level);
    const char *v[] = {org, project, request, l, kind, payload};
    return exec_ok(c, &notify_ladder, v);
}

PGresult *db_sla_project_config(db_conn_t *c, const char *org, const char *project)
{
    const char *v[] = {org, project};
    return db_exec(c, &project_config, v);
}

char *db_sla_version_definition(db_conn_t *c, const char *version_id, int calendar)
{
    const char *v[] = {version_id, calendar ? "true" : "false"};
    return db_exec_text(c, &version_def, v);
}

PGresult *db_sla_projects_without_config(db_conn_t *c)
{
    return db_exec(c, &without_config, NULL);
}

static int exec_ok(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    int ok = db_ok(r);
    PQclear(r);
    return ok ? 0 : -1;
}

int db_sla_calendar_create(db_conn_t *c, const char *org, const char *project,
                           const char *definition, const char *user)
{
    const char *v[] = {org, project, definition, user};
    return exec_ok(c, &cal_create, v);
}

int db_sla_calendar_update(db_conn_t *c, const char *org, const char *project, int expect,
                           const char *definition, const char *user, int *new_version)
{
    char ev[16];
    snprintf(ev, sizeof ev, "%d", expect);
    const char *v[] = {org, project, ev};
    PGresult *r = db_exec(c, &cal_bump, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        PGresult *e = db_exec(c, &cal_exists, v);
        int rc = !db_ok(e) ? -1 : PQntuples(e) ? 0 : -2;
        PQclear(e);
        return rc;
    }
    char id[40], ver[16];
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    snprintf(ver, sizeof ver, "%s", PQgetvalue(r, 0, 1));
    *new_version = atoi(ver);
    PQclear(r);
    const char *w[] = {org, id, ver, definition, user};
    return exec_ok(c, &cal_version_ins, w) == 0 ? 1 : -1;
}

PGresult *db_sla_calendar_get(db_conn_t *c, const char *org, const char *project)
{
    const char *v[] = {org, project};
    return db_exec(c, &cal_get, v);
}

PGresult *db_sla_policy_create(db_conn_t *c, const char *org, const char *project, const char *name,
                               const char *mtype, const char *msev, const char *mcat,
                               const char *definition, const char *user)
{
    const char *v[] = {org, project, name, mtype, msev, mcat, definition, user};
    return db_exec(c, &pol_create, v);
}

PGresult *db_sla_policy_get(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec(c, &pol_get, v);
}

PGresult *db_sla_policy_list(db_conn_t *c, const char *org, const char *projects,
                             const char *project)
{
    const char *v[] = {org, projects, project};
    return db_exec(c, &pol_list, v);
}

int db_sla_policy_update(db_conn_t *c, const char *org, const char *id, int expect,
                         const char *name, const char *definition, const char *active,
                         const char *user)
{
    char ev[16];
    snprintf(ev, sizeof ev, "%d", expect);
    const char *v[] = {org, id, ev, name, active};
    PGresult *r = db_exec(c, &pol_bump, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        const char *w[] = {org, id};
        PGresult *e = db_exec(c, &pol_exists, w);
        int rc = !db_ok(e) ? -1 : PQntuples(e) ? 0 : -2;
        PQclear(e);
        return rc;
    }
    char ver[16];
    snprintf(ver, sizeof ver, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    /* Every change is a new version (a name or active change keeps the definition), so the
     * ETag, which is the version, changes with it. */
    const char *w[] = {org, id, ver, definition, user};
    return exec_ok(c, &pol_version_ins, w) == 0 ? 1 : -1;
}

PGresult *db_sla_request(db_conn_t *c, const char *org, const char *id, int lock)
{
    const char *v[] = {org, id};
    return db_exec(c, lock ? &req_sla_lock : &req_sla, v);
}

int db_sla_request_store(db_conn_t *c, const char *id, const char *const vals[11])
{
    const char *v[12];
    v[0] = id;
    for (int i = 0; i < 11; i++)
        v[i + 1] = vals[i];
    return exec_ok(c, &req_store, v);
}

int db_sla_anything_due(db_conn_t *c, const char *now, const char *org)
{
    const char *v[] = {now, org};
    PGresult *r = db_exec(c, &anything_due, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    PQclear(r);
    return rc;
}

PGresult *db_sla_claim(db_conn_t *c, const char *now, int limit, const char *only, const char *org)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {now, l, only};
    if (only)
        return db_exec(c, &claim_one, v);
    const char *w3[] = {now, l, org};
    PGresult *ids = db_query(c, claim_ids.sql, 3, w3);
    if (!db_ok(ids) || PQntuples(ids) == 0)
        return ids;
    int n = PQntuples(ids);
    char *arr = malloc((size_t)n * 38 + 3);
    if (!arr) { /* an error result the caller handles like any failed query */
        PQclear(ids);
        return PQmakeEmptyPGresult(db_pg(c), PGRES_FATAL_ERROR);
    }
    size_t o = 0;
    arr[o++] = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            arr[o++] = ',';
        memcpy(arr + o, PQgetvalue(ids, i, 0), 36);
        o += 36;
    }
    arr[o++] = '}';
    arr[o] = 0;
    PQclear(ids);
    const char *w[] = {arr};
    PGresult *r = db_exec(c, &claim, w);
    free(arr);
    return r;
}

PGresult *db_sla_apply_alerts(db_conn_t *c, const char *alerts_json, const char *now)
{
    const char *v[] = {alerts_json, now};
    return db_exec(c, &apply_alerts, v);
}

int db_sla_store_many(db_conn_t *c, const char *json)
{
    const char *v[] = {json};
    return exec_ok(c, &store_many, v);
}

int db_sla_store_batch(db_conn_t *c, const char *json)
{
    const char *v[] = {json};
    return exec_ok(c, &store_batch, v);
}

PGresult *db_notifications_list(db_conn_t *c, const char *org, const char *user, const char *unread,
                                const char *after_ts, const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, user, unread, after_ts, after_id, l};
    return db_exec(c, &notif_list, v);
}

int db_notification_read(db_conn_t *c, const char *org, const char *user, const char *id)
{
    const char *v[] = {org, user, id};
    PGresult *r = db_exec(c, &notif_read, v);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return rc;
}

long long db_sla_target_due(db_conn_t *c, const char *org, const char *request, const char *target)
{
    const char *v[] = {org, request, target};
    PGresult *r = db_exec(c, &target_due, v);
    long long due = db_ok(r) && PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return due;
}

PGresult *db_sla_extension_create(db_conn_t *c, const char *org, const char *request,
                                  const char *target, const char *due, const char *reason,
                                  const char *user)
{
    const char *v[] = {org, request, target, due, reason, user};
    return db_exec(c, &ext_create, v);
}

PGresult *db_sla_extension_decide(db_conn_t *c, const char *org, const char *request,
                                  const char *id, const char *state, const char *user,
                                  const char *note)
{
    const char *v[] = {org, request, id, state, user, note};
    return db_exec(c, &ext_decide, v);
}

int db_sla_extension_state(db_conn_t *c, const char *org, const char *request, const char *id,
                           char *state, size_t len)
{
    const char *v[] = {org, request, id};
    PGresult *r = db_exec(c, &ext_state, v);
    int rc = db_ok(r) ? PQntuples(r) == 1 : -1;
    if (rc == 1)
        snprintf(state, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

char *db_sla_extensions_json(db_conn_t *c, const char *org, const char *request)
{
    const char *v[] = {org, request};
    return db_exec_text(c, &ext_list, v);
}

int db_sla_escalation_count(db_conn_t *c, const char *request)
{
    const char *v[] = {request};
    PGresult *r = db_exec(c, &esc_count, v);
    int n = db_ok(r) ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}
