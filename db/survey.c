/* db/survey.c — surveys and visits; see survey.h and 0017_surveys.sql. */
#include "db/survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAMPAIGN_JSON                                                                              \
    "json_build_object('id', k.id, 'project_id', k.project_id, 'title', k.title, 'kind', "         \
    "k.kind, 'cadence', k.cadence, 'period', json_build_object('start', k.period_start, 'end', "   \
    "k.period_end), 'state', k.state, 'distribution', k.distribution, 'copies_distributed', "      \
    "k.copies_distributed, 'responses_returned', (SELECT count(*) FROM survey_responses r WHERE "  \
    "r.campaign_id = k.id), 'items', (SELECT coalesce(json_agg(json_build_object('id', i.id, "     \
    "'position', i.position, 'code', i.code, 'group', i.group_name, 'text', i.text, "              \
    "'department_id', i.department_id) ORDER BY i.position), '[]') FROM survey_items i WHERE "     \
    "i.campaign_id = k.id), 'opinion', k.opinion, 'opened_at', rfc3339(k.opened_at), "             \
    "'closed_at', rfc3339(k.closed_at), 'reported_at', rfc3339(k.reported_at), 'created_by', "     \
    "k.created_by, 'version', k.version, 'created_at', rfc3339(k.created_at), 'updated_at', "      \
    "rfc3339(k.updated_at))"

#define VERSION_JSON                                                                               \
    "json_build_object('version', v.version, 'overall_rating', v.overall_rating, 'comment', "      \
    "v.comment, 'reason', v.reason, 'recorded_by', v.recorded_by, 'recorded_role', "               \
    "v.recorded_role, 'recorded_at', rfc3339(v.recorded_at), 'answers', (SELECT "                  \
    "coalesce(json_agg(json_build_object('item_id', a.item_id, 'item_code', i.code, 'rating', "    \
    "a.rating, 'text', a.text) ORDER BY i.position), '[]') FROM survey_answers a JOIN "            \
    "survey_items i ON i.id = a.item_id WHERE a.version_id = v.id))"

#define FOLLOWUP_JSON                                                                              \
    "json_build_object('id', f.id, 'kind', f.kind, 'state', f.state, 'item_id', f.item_id, "       \
    "'rating', f.rating, 'version', f.version, 'request_id', f.request_id, 'callback_task_id', "   \
    "f.callback_task_id, 'created_at', rfc3339(f.created_at))"

#define RESPONSE_JSON                                                                              \
    "json_build_object('id', r.id, 'campaign_id', r.campaign_id, 'project_id', r.project_id, "     \
    "'unit_id', r.unit_id, 'channel', r.channel, 'respondent_name', r.respondent_name, "           \
    "'external_ref', CASE WHEN r.external_source IS NULL THEN NULL ELSE "                          \
    "json_build_object('source', r.external_source, 'id', r.external_id) END, 'returned_at', "     \
    "rfc3339(r.returned_at), 'entered_by', r.entered_by, 'current_version', r.current_version, "   \
    "'current', (SELECT " VERSION_JSON " FROM survey_response_versions v WHERE v.response_id = "   \
    "r.id AND v.version = r.current_version), 'versions', (SELECT json_agg(" VERSION_JSON          \
    " ORDER BY v.version) FROM survey_response_versions v WHERE v.response_id = r.id), "           \
    "'followups', (SELECT coalesce(json_agg(" FOLLOWUP_JSON " ORDER BY f.created_at, f.id), "      \
    "'[]') FROM survey_followups f WHERE f.response_id = r.id), 'created_at', "                    \
    "rfc3339(r.created_at), 'updated_at', rfc3339(r.updated_at))"

#define VISIT_JSON                                                                                 \
    "json_build_object('id', v.id, 'project_id', v.project_id, 'visited_on', v.visited_on, "       \
    "'unit_id', v.unit_id, 'client', CASE WHEN v.client_name IS NULL THEN NULL ELSE "              \
    "json_build_object('name', v.client_name, 'organisation', v.client_org, 'kind', "              \
    "v.client_kind) END, 'important_client', v.client_kind IS NOT NULL, 'visitors', "              \
    "to_json(v.visitors), 'topics', v.topics, 'opinions', v.opinions, 'follow_up', "               \
    "json_build_object('note', v.follow_up, 'request_id', v.follow_up_request_id, "                \
    "'corrective_action_id', v.corrective_action_id, 'corrective_action_ref', coalesce((SELECT "   \
    "a.number FROM corrective_actions a WHERE a.id = v.corrective_action_id), "                    \
    "v.corrective_action_ref)), 'created_by', v.created_by, 'version', "                           \
    "v.version, 'created_at', rfc3339(v.created_at), 'updated_at', rfc3339(v.updated_at))"

static const db_stmt_t campaign_insert = {
    "survey_campaign_insert",
    "INSERT INTO survey_campaigns (org_id, project_id, title, kind, cadence, period_start, "
    "period_end, distribution, copies_distributed, created_by) VALUES ($1, $2, $3, $4, $5, "
    "$6::date, $7::date, $8, $9::int, $10) RETURNING id",
    10};
static const db_stmt_t items_delete = {"survey_items_delete",
                                       "DELETE FROM survey_items WHERE org_id = $1 AND "
                                       "campaign_id = $2",
                                       2};
static const db_stmt_t items_insert = {
    "survey_items_insert",
    "INSERT INTO survey_items (org_id, campaign_id, position, code, group_name, text, "
    "department_id) SELECT $1, $2, e.ord, e.v->>'code', e.v->>'group', e.v->>'text', "
    "(e.v->>'department_id')::uuid FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(v, "
    "ord) WHERE e.v->>'department_id' IS NULL OR EXISTS (SELECT 1 FROM departments d WHERE "
    "d.org_id = $1 AND d.id = (e.v->>'department_id')::uuid AND (d.project_id IS NULL OR "
    "d.project_id = $4))",
    4};
static const db_stmt_t campaign_get = {"survey_campaign_get",
                                       "SELECT " CAMPAIGN_JSON "::text FROM survey_campaigns k "
                                       "WHERE k.org_id = $1 AND k.id = $2",
                                       2};
#define LOCK_COLS                                                                                  \
    "SELECT k.project_id, k.state, k.distribution, coalesce(CASE WHEN k.distribution = "           \
    "'per_unit' AND k.state = 'draft' THEN (SELECT count(*) FROM units u WHERE u.org_id = "        \
    "k.org_id AND u.project_id = k.project_id AND u.status <> 'vacant')::int ELSE "                \
    "k.copies_distributed END::text, ''), (SELECT count(*) FROM survey_items i WHERE "             \
    "i.campaign_id = k.id), k.title, k.version FROM survey_campaigns k WHERE k.org_id = $1 AND "   \
    "k.id = $2 "
static const db_stmt_t campaign_lock = {"survey_campaign_lock", LOCK_COLS "FOR UPDATE OF k", 2};
static const db_stmt_t campaign_share = {"survey_campaign_share", LOCK_COLS "FOR SHARE OF k", 2};
static const db_stmt_t campaign_read = {"survey_campaign_read", LOCK_COLS, 2};
static const db_stmt_t campaign_update = {
    "survey_campaign_update",
    "UPDATE survey_campaigns SET title = coalesce($3, title), period_start = "
    "coalesce($4::date, period_start), period_end = coalesce($5::date, period_end), "
    "distribution = coalesce($6, distribution), copies_distributed = CASE WHEN $6 = 'per_unit' "
    "THEN NULL ELSE coalesce($7::int, copies_distributed) END, version = version + 1, "
    "updated_at = clock_timestamp() WHERE org_id = $1 AND id = $2",
    7};
static const db_stmt_t campaign_move = {
    "survey_campaign_move",
    "UPDATE survey_campaigns k SET state = $3, opened_at = CASE WHEN $3 = 'open' THEN "
    "clock_timestamp() ELSE opened_at END, closed_at = CASE WHEN $3 = 'closed' THEN "
    "clock_timestamp() ELSE closed_at END, reported_at = CASE WHEN $3 = 'reported' THEN "
    "clock_timestamp() ELSE reported_at END, copies_distributed = CASE WHEN $3 = 'open' AND "
    "distribution = 'per_unit' THEN (SELECT count(*) FROM units u WHERE u.org_id = k.org_id AND "
    "u.project_id = k.project_id AND u.status <> 'vacant') ELSE copies_distributed END, opinion "
    "= coalesce($4, opinion), report = coalesce($5::jsonb, report), version = version + 1, "
    "updated_at = clock_timestamp() WHERE org_id = $1 AND id = $2",
    5};
static const db_stmt_t campaign_list = {
    "survey_campaign_list",
    "SELECT " CAMPAIGN_JSON "::text, rfc3339(k.created_at), k.id FROM survey_campaigns k WHERE "
    "k.org_id = $1 AND ($2::uuid[] IS NULL OR k.project_id = ANY($2::uuid[])) AND ($3::uuid IS "
    "NULL OR k.project_id = $3) AND ($4::text IS NULL OR k.state = $4) AND ($5::timestamptz IS "
    "NULL OR (k.created_at, k.id) > ($5::timestamptz, $6::uuid)) ORDER BY k.created_at, k.id "
    "LIMIT $7::int",
    7};
static const db_stmt_t campaign_report = {"survey_campaign_report",
                                          "SELECT report::text FROM survey_campaigns WHERE "
                                          "org_id = $1 AND id = $2 AND report IS NOT NULL",
                                          2};
static const db_stmt_t open_forms = {
    "survey_open_forms",
    "SELECT json_build_object('campaign_id', k.id, 'project_id', k.project_id, 'title', "
    "k.title, 'kind', k.kind, 'period', json_build_object('start', k.period_start, 'end', "
    "k.period_end), 'opened_at', rfc3339(k.opened_at))::text, rfc3339(k.created_at), k.id FROM "
    "survey_campaigns k WHERE k.org_id = $1 AND ($2::uuid[] IS NULL OR k.project_id = "
    "ANY($2::uuid[])) AND k.state = 'open' AND ($3::timestamptz IS NULL OR (k.created_at, k.id) "
    "> ($3::timestamptz, $4::uuid)) ORDER BY k.created_at, k.id LIMIT $5::int",
    5};
static const db_stmt_t items = {
    "survey_items",
    "SELECT i.id, i.code, i.group_name, i.text, coalesce(i.department_id::text, ''), "
    "coalesce(d.name, '') FROM survey_items i LEFT JOIN departments d ON d.id = i.department_id "
    "WHERE i.org_id = $1 AND i.campaign_id = $2 ORDER BY i.position",
    2};
static const db_stmt_t response_by_ref = {
    "survey_response_by_ref",
    "SELECT id, campaign_id FROM survey_responses WHERE org_id = $1 AND external_source = $2 "
    "AND external_id = $3",
    3};
static const db_stmt_t response_insert = {
    "survey_response_insert",
    "INSERT INTO survey_responses (org_id, project_id, campaign_id, unit_id, channel, "
    "respondent_name, external_source, external_id, returned_at, entered_by) VALUES ($1, $2, "
    "$3, $4, $5, $6, $7, $8, coalesce($9::timestamptz, clock_timestamp()), $10) RETURNING id",
    10};
static const db_stmt_t version_append = {
    "survey_version_append",
    "WITH v AS (INSERT INTO survey_response_versions (org_id, response_id, version, "
    "overall_rating, comment, reason, recorded_by, recorded_role) VALUES ($1, $2, $3::int, $4, "
    "$5, $6, $7, $8) RETURNING id), a AS (INSERT INTO survey_answers (org_id, version_id, "
    "item_id, rating, text) SELECT $1, v.id, (e->>'item_id')::uuid, e->>'rating', e->>'text' "
    "FROM v, jsonb_array_elements($9::jsonb) e RETURNING 1), u AS (UPDATE survey_responses SET "
    "current_version = $3::int, updated_at = clock_timestamp() WHERE org_id = $1 AND id = $2 "
    "RETURNING 1) SELECT v.id FROM v, (SELECT count(*) FROM a) x, (SELECT count(*) FROM u) y",
    9};
static const db_stmt_t response_lock = {
    "survey_response_lock",
    "SELECT r.project_id, r.unit_id, r.campaign_id, r.current_version, k.state, "
    "coalesce(r.respondent_name, '') FROM survey_responses r JOIN survey_campaigns k ON k.id = "
    "r.campaign_id WHERE r.org_id = $1 AND r.id = $2 FOR UPDATE OF r",
    2};
static const db_stmt_t response_scope = {"survey_response_scope",
                                         "SELECT project_id, unit_id FROM survey_responses "
                                         "WHERE org_id = $1 AND id = $2",
                                         2};
static const db_stmt_t response_get = {"survey_response_get",
                                       "SELECT " RESPONSE_JSON "::text FROM survey_responses r "
                                       "WHERE r.org_id = $1 AND r.id = $2",
                                       2};
static const db_stmt_t response_list = {
    "survey_response_list",
    "SELECT " RESPONSE_JSON "::text, rfc3339(r.created_at), r.id FROM survey_responses r WHERE "
    "r.org_id = $1 AND r.campaign_id = $2 AND ($3::timestamptz IS NULL OR (r.created_at, r.id) "
    "> ($3::timestamptz, $4::uuid)) ORDER BY r.created_at, r.id LIMIT $5::int",
    5};
static const db_stmt_t followup_exists = {
    "survey_followup_exists",
    "SELECT count(*) FROM survey_followups WHERE response_id = $1 AND kind = $2 AND "
    "coalesce(item_id, '00000000-0000-0000-0000-000000000000'::uuid) = coalesce($3::uuid, "
    "'00000000-0000-0000-0000-000000000000'::uuid)",
    3};
static const db_stmt_t followup_insert = {
    "survey_followup_insert",
    "INSERT INTO survey_followups (org_id, response_id, version, item_id, rating, kind, state, "
    "request_id, callback_task_id) VALUES ($1, $2, $3::int, $4, $5, $6, $7, $8, $9)",
    9};
static const db_stmt_t target = {
    "survey_target",
    "SELECT coalesce(p.survey_target_percent, $3::int), CASE WHEN k.period_start IS NOT NULL AND "
    "k.period_end IS NOT NULL THEN k.period_start::text || '~' || k.period_end::text ELSE "
    "'campaign ' || k.id::text END FROM survey_campaigns k JOIN projects p ON p.id = "
    "k.project_id WHERE k.org_id = $1 AND k.id = $2",
    3};
static const db_stmt_t facts = {
    "survey_facts",
    "SELECT -1, v.overall_rating FROM survey_responses r JOIN survey_response_versions v ON "
    "v.response_id = r.id AND v.version = r.current_version WHERE r.org_id = $1 AND "
    "r.campaign_id = $2 UNION ALL SELECT i.position - 1, a.rating FROM survey_responses r JOIN "
    "survey_response_versions v ON v.response_id = r.id AND v.version = r.current_version JOIN "
    "survey_answers a ON a.version_id = v.id JOIN survey_items i ON i.id = a.item_id WHERE "
    "r.org_id = $1 AND r.campaign_id = $2 AND a.rating IS NOT NULL",
    2};
static const db_stmt_t returned = {"survey_returned",
                                   "SELECT count(*) FROM survey_responses WHERE org_id = $1 "
                                   "AND campaign_id = $2",
                                   2};
static const db_stmt_t visit_insert = {
    "visit_insert",
    "INSERT INTO visit_records AS v (org_id, project_id, visited_on, unit_id, client_name, "
    "client_org, client_kind, visitors, topics, opinions, follow_up, follow_up_request_id, "
    "corrective_action_id, created_by) VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8::uuid[], "
    "$9, $10, $11, $12, $13, $14) RETURNING " VISIT_JSON "::text",
    14};
static const db_stmt_t visit_ca = {
    "visit_ca",
    "SELECT id, number FROM corrective_actions WHERE org_id = $1 AND project_id = $2 AND (id = "
    "$3::uuid OR number = $4)",
    4};
static const db_stmt_t visit_link_ca = {
    "visit_link_ca",
    "UPDATE visit_records AS v SET corrective_action_id = $3 WHERE v.org_id = $1 AND v.id = $2 "
    "RETURNING " VISIT_JSON "::text",
    3};
static const db_stmt_t visit_get = {"visit_get",
                                    "SELECT " VISIT_JSON "::text, v.project_id FROM "
                                    "visit_records v WHERE v.org_id = $1 AND v.id = $2",
                                    2};
static const db_stmt_t visit_list = {
    "visit_list",
    "SELECT " VISIT_JSON "::text, rfc3339(v.created_at), v.id FROM visit_records v WHERE "
    "v.org_id = $1 AND ($2::uuid[] IS NULL OR v.project_id = ANY($2::uuid[])) AND ($3::uuid IS "
    "NULL OR v.project_id = $3) AND ($4::text IS NULL OR (v.visited_on >= to_date($4 || '-01', "
    "'YYYY-MM-DD') AND v.visited_on < to_date($4 || '-01', 'YYYY-MM-DD') + interval '1 month')) "
    "AND ($5::boolean IS NULL OR (v.client_kind IS NOT NULL) = $5::boolean) AND "
    "($6::timestamptz IS NULL OR (v.created_at, v.id) > ($6::timestamptz, $7::uuid)) ORDER BY "
    "v.created_at, v.id LIMIT $8::int",
    8};
static const db_stmt_t visit_users = {"visit_users",
                                      "SELECT count(*) FROM users WHERE org_id = $1 AND id = "
                                      "ANY($2::uuid[])",
                                      2};
static const db_stmt_t visit_important = {
    "visit_important",
    "SELECT count(*) FROM visit_records v WHERE v.org_id = $1 AND v.project_id = $2 AND "
    "v.client_kind IS NOT NULL AND v.visited_on >= to_date($3 || '-01', 'YYYY-MM-DD') AND "
    "v.visited_on < to_date($3 || '-01', 'YYYY-MM-DD') + interval '1 month'",
    3};
static const db_stmt_t request_project = {"visit_request_project",
                                          "SELECT project_id FROM requests WHERE org_id = $1 "
                                          "AND id = $2",
                                          2};

/* 1 when res has a row (its first columns copied into a and b when given), 0 none, -1
 * failed; PQclears res. */
static int one_row(PGresult *res, char a[40], char b[40])
{
    int f = !db_ok(res) ? -1 : PQntuples(res) > 0;
    if (f == 1) {
        if (a)
            snprintf(a, 40, "%s", PQgetvalue(res, 0, 0));
        if (b)
            snprintf(b, 40, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return f;
}

static long count_of(PGresult *res)
{
    long n = db_ok(res) && PQntuples(res) == 1 ? atol(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

PGresult *db_survey_campaign_insert(db_conn_t *c, const char *org, const char *project,
                                    const char *title, const char *kind, const char *cadence,
                                    const char *period_start, const char *period_end,
                                    const char *distribution, const char *copies,
                                    const char *created_by)
{
    const char *v[] = {org,          project,    title,        kind,   cadence,
                       period_start, period_end, distribution, copies, created_by};
    return db_exec(c, &campaign_insert, v);
}

int db_survey_items_replace(db_conn_t *c, const char *org, const char *campaign,
                            const char *project, const char *items_json, int *inserted)
{
    const char *v[] = {org, campaign, items_json, project};
    PGresult *res = db_exec(c, &items_delete, v);
    int ok = db_ok(res);
    PQclear(res);
    if (!ok)
        return -1;
    res = db_exec(c, &items_insert, v);
    ok = db_ok(res);
    if (ok)
        *inserted = atoi(PQcmdTuples(res));
    PQclear(res);
    return ok ? 0 : -1;
}

char *db_survey_campaign_json(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &campaign_get, v);
}

PGresult *db_survey_campaign_lock(db_conn_t *c, const char *org, const char *id, int mode)
{
    const char *v[] = {org, id};
    return db_exec(c,
                   mode == SURVEY_LOCK_UPDATE  ? &campaign_lock
                   : mode == SURVEY_LOCK_SHARE ? &campaign_share
                                               : &campaign_read,
                   v);
}

int db_survey_campaign_update(db_conn_t *c, const char *org, const char *id, const char *title,
                              const char *period_start, const char *period_end,
                              const char *distribution, const char *copies)
{
    const char *v[] = {org, id, title, period_start, period_end, distribution, copies};
    PGresult *res = db_exec(c, &campaign_update, v);
    int ok = db_ok(res);
    PQclear(res);
    return ok ? 0 : -1;
}

int db_survey_campaign_move(db_conn_t *c, const char *org, const char *id, const char *state,
                            const char *opinion, const char *report)
{
    const char *v[] = {org, id, state, opinion, report};
    PGresult *res = db_exec(c, &campaign_move, v);
    int ok = db_ok(res);
    PQclear(res);
    return ok ? 0 : -1;
}

PGresult *db_survey_campaign_list(db_conn_t *c, const char *org, const char *projects,
                                  const char *project, const char *state, const char *after_ts,
                                  const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, projects, project, state, after_ts, after_id, l};
    return db_exec(c, &campaign_list, v);
}

char *db_survey_campaign_report(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &campaign_report, v);
}

PGresult *db_survey_open_forms(db_conn_t *c, const char *org, const char *projects,
                               const char *after_ts, const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, projects, after_ts, after_id, l};
    return db_exec(c, &open_forms, v);
}

PGresult *db_survey_items(db_conn_t *c, const char *org, const char *campaign)
{
    const char *v[] = {org, campaign};
    return db_exec(c, &items, v);
}

int db_survey_response_by_ref(db_conn_t *c, const char *org, const char *source, const char *ext_id,
                              char id[40], char campaign[40])
{
    const char *v[] = {org, source, ext_id};
    return one_row(db_exec(c, &response_by_ref, v), id, campaign);
}

PGresult *db_survey_response_insert(db_conn_t *c, const char *org, const char *project,
                                    const char *campaign, const char *unit, const char *channel,
                                    const char *respondent, const char *ext_source,
                                    const char *ext_id, const char *returned_at,
                                    const char *entered_by)
{
    const char *v[] = {org,        project,    campaign, unit,        channel,
                       respondent, ext_source, ext_id,   returned_at, entered_by};
    return db_exec(c, &response_insert, v);
}

char *db_survey_version_append(db_conn_t *c, const char *org, const char *response, int n,
                               const char *overall, const char *comment, const char *reason,
                               const char *by, const char *role, const char *answers_json)
{
    char ns[16];
    snprintf(ns, sizeof ns, "%d", n);
    const char *v[] = {org, response, ns, overall, comment, reason, by, role, answers_json};
    return db_exec_text(c, &version_append, v);
}

PGresult *db_survey_response_lock(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec(c, &response_lock, v);
}

int db_survey_response_scope(db_conn_t *c, const char *org, const char *id, char project[40],
                             char unit[40])
{
    const char *v[] = {org, id};
    return one_row(db_exec(c, &response_scope, v), project, unit);
}

char *db_survey_response_json(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &response_get, v);
}

PGresult *db_survey_response_list(db_conn_t *c, const char *org, const char *campaign,
                                  const char *after_ts, const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, campaign, after_ts, after_id, l};
    return db_exec(c, &response_list, v);
}

int db_survey_target(db_conn_t *c, const char *org, const char *campaign, int fallback,
                     int *target_percent, char period[80])
{
    char fb[16];
    snprintf(fb, sizeof fb, "%d", fallback);
    const char *v[] = {org, campaign, fb};
    PGresult *r = db_exec(c, &target, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (n == 1) {
        *target_percent = atoi(PQgetvalue(r, 0, 0));
        snprintf(period, 80, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return n == 1;
}

int db_survey_followup_exists(db_conn_t *c, const char *response, const char *kind,
                              const char *item)
{
    const char *v[] = {response, kind, item};
    long n = count_of(db_exec(c, &followup_exists, v));
    return n < 0 ? -1 : n > 0;
}

int db_survey_followup_insert(db_conn_t *c, const char *org, const char *response, int version,
                              const char *item, const char *rating, const char *kind,
                              const char *state, const char *request_id,
                              const char *callback_task_id)
{
    char ns[16];
    snprintf(ns, sizeof ns, "%d", version);
    const char *v[] = {org, response, ns, item, rating, kind, state, request_id, callback_task_id};
    PGresult *res = db_exec(c, &followup_insert, v);
    int ok = db_ok(res);
    PQclear(res);
    return ok ? 0 : -1;
}

PGresult *db_survey_facts(db_conn_t *c, const char *org, const char *campaign)
{
    const char *v[] = {org, campaign};
    return db_exec(c, &facts, v);
}

long db_survey_returned(db_conn_t *c, const char *org, const char *campaign)
{
    const char *v[] = {org, campaign};
    return count_of(db_exec(c, &returned, v));
}

char *db_visit_insert(db_conn_t *c, const char *org, const char *project, const char *visited_on,
                      const char *unit, const char *client_name, const char *client_org,
                      const char *client_kind, const char *visitors, const char *topics,
                      const char *opinions, const char *follow_up, const char *request_id,
                      const char *ca_id, const char *created_by)
{
    const char *v[] = {org,        project,     visited_on, unit,      client_name,
                       client_org, client_kind, visitors,   topics,    opinions,
                       follow_up,  request_id,  ca_id,      created_by};
    return db_exec_text(c, &visit_insert, v);
}

int db_visit_corrective_action(db_conn_t *c, const char *org, const char *project, const char *id,
                               const char *number, char out_id[40])
{
    const char *v[] = {org, project, id, number};
    PGresult *r = db_exec(c, &visit_ca, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (n == 1)
        snprintf(out_id, 40, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return n == 1;
}

char *db_visit_link_corrective_action(db_conn_t *c, const char *org, const char *visit,
                                      const char *ca_id)
{
    const char *v[] = {org, visit, ca_id};
    return db_exec_text(c, &visit_link_ca, v);
}

int db_visit_get(db_conn_t *c, const char *org, const char *id, char **json, char project[40])
{
    const char *v[] = {org, id};
    PGresult *res = db_exec(c, &visit_get, v);
    int f = !db_ok(res) ? -1 : PQntuples(res) > 0;
    if (f == 1) {
        *json = strdup(PQgetvalue(res, 0, 0));
        snprintf(project, 40, "%s", PQgetvalue(res, 0, 1));
        if (!*json)
            f = -1;
    }
    PQclear(res);
    return f;
}

PGresult *db_visit_list(db_conn_t *c, const char *org, const char *projects, const char *project,
                        const char *month, const char *important, const char *after_ts,
                        const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, projects, project, month, important, after_ts, after_id, l};
    return db_exec(c, &visit_list, v);
}

long db_visit_users_known(db_conn_t *c, const char *org, const char *ids)
{
    const char *v[] = {org, ids};
    return count_of(db_exec(c, &visit_users, v));
}

long db_visit_important_count(db_conn_t *c, const char *org, const char *project, const char *month)
{
    const char *v[] = {org, project, month};
    return count_of(db_exec(c, &visit_important, v));
}

int db_visit_request_project(db_conn_t *c, const char *org, const char *request, char project[40])
{
    const char *v[] = {org, request};
    return one_row(db_exec(c, &request_project, v), project, NULL);
}
