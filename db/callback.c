/* db/callback.c — callback tasks and attempts; see callback.h and 0016_callbacks.sql. */
#include "db/callback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTEMPT_JSON                                                                               \
    "json_build_object('id', a.id, 'caller_user_id', a.caller_user_id, 'caller_role', "            \
    "a.caller_role, 'occurred_at', rfc3339(a.occurred_at), 'recorded_at', "                        \
    "rfc3339(a.recorded_at), 'local_day', a.local_day, 'method', a.method, 'reached', "            \
    "a.reached, 'rating', a.rating, 'notes', a.notes, 'signer_name', a.signer_name, "              \
    "'signature_attachment_id', a.signature_attachment_id)"

#define TASK_JSON                                                                                  \
    "json_build_object('id', t.id, 'project_id', t.project_id, 'subject', CASE WHEN "              \
    "t.survey_response_id IS NULL THEN 'request' ELSE 'survey_response' END, 'request_id', "       \
    "t.request_id, 'survey_response_id', t.survey_response_id, 'request_number', r.number, "       \
    " 'request_type', r.type, 'kind', t.kind, 'state', t.state, "                                  \
    "'min_role', t.min_role, 'on_demand', t.on_demand, 'resolved_at', rfc3339(t.resolved_at), "    \
    "'due_at', rfc3339(t.due_at), 'overdue', t.state = 'open' AND t.due_at < now(), "              \
    "'overdue_at', rfc3339(t.overdue_at), 'assignee_id', t.assignee_id, 'attempts', "              \
    "t.attempts, 'outcome', t.outcome, 'rating', t.rating, 'follow_up_request_id', "               \
    "t.follow_up_request_id, 'give_up_reason', t.give_up_reason, 'give_up_note', "                 \
    "t.give_up_note, 'finished_at', rfc3339(t.finished_at), 'finished_by', t.finished_by, "        \
    "'version', t.version, 'created_at', rfc3339(t.created_at))"

static const db_stmt_t req_facts = {
    "callback_request",
    "SELECT state, type, validity, coalesce(severity::text, ''), coalesce(rfc3339(resolved_at), "
    "''), left(coalesce(explanation, ''), 60), coalesce(assignee_id::text, ''), project_id, "
    "coalesce(unit_id::text, ''), coalesce(reporter_resident_id::text, ''), "
    "coalesce(reporter_name, ''), coalesce(reporter_phone, '') FROM requests WHERE org_id = $1 "
    "AND id = $2",
    2};
static const db_stmt_t task_create = {
    "callback_task_create",
    "INSERT INTO callback_tasks (org_id, project_id, request_id, kind, min_role, resolved_at, "
    "due_at, on_demand, created_by) SELECT r.org_id, r.project_id, r.id, $3, $4, r.resolved_at, "
    "coalesce(r.due_callback, r.resolved_at + interval '24 hours'), $5::boolean, $6 FROM "
    "requests r WHERE r.org_id = $1 AND r.id = $2 AND r.resolved_at IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM callback_tasks t WHERE t.request_id = r.id AND t.state = 'open') RETURNING "
    "id",
    6};
static const db_stmt_t task_abandon = {
    "callback_task_abandon",
    "UPDATE callback_tasks SET state = $3, outcome = $3::text, give_up_reason = CASE $3 WHEN "
    "'given_up' THEN 'other' END, give_up_note = CASE $3 WHEN 'given_up' THEN $4 END, "
    "finished_at = clock_timestamp(), updated_at = clock_timestamp(), version = version + 1 "
    "WHERE org_id = $1 AND request_id = $2 AND state = 'open'",
    4};
#define TASK_COLS                                                                                  \
    "SELECT id, project_id, coalesce(request_id::text, ''), state, kind, min_role, "               \
    "coalesce(assignee_id::text, ''), "                                                            \
    "version, coalesce(survey_response_id::text, ''), extract(epoch FROM resolved_at)::bigint "    \
    "FROM callback_tasks "
static const db_stmt_t task_get = {"callback_task_get", TASK_COLS "WHERE org_id = $1 AND id = $2",
                                   2};
static const db_stmt_t task_lock = {"callback_task_lock",
                                    TASK_COLS "WHERE org_id = $1 AND id = $2 FOR UPDATE", 2};
static const db_stmt_t open_get = {
    "callback_open_get", TASK_COLS "WHERE org_id = $1 AND request_id = $2 AND state = 'open'", 2};
static const db_stmt_t open_lock = {
    "callback_open_lock",
    TASK_COLS "WHERE org_id = $1 AND request_id = $2 AND state = 'open' FOR UPDATE", 2};
static const db_stmt_t task_json = {
    "callback_task_json",
    "SELECT (jsonb_build_object('attempts_list', (SELECT coalesce(json_agg(" ATTEMPT_JSON
    " ORDER BY a.occurred_at, a.recorded_at, a.id), '[]') FROM callback_attempts a WHERE "
    "a.task_id = t.id)) || " TASK_JSON "::jsonb)::text FROM callback_tasks t LEFT JOIN requests r "
    "ON r.id = t.request_id WHERE t.org_id = $1 AND t.id = $2",
    2};
static const db_stmt_t did_work = {
    "callback_did_work",
    "SELECT (EXISTS (SELECT 1 FROM requests WHERE org_id = $1 AND id = $2 AND assignee_id = "
    "$3::uuid) OR EXISTS (SELECT 1 FROM work_orders WHERE org_id = $1 AND request_id = $2 AND "
    "assignee_id = $3::uuid))::int",
    3};
static const db_stmt_t attempt_insert = {
    "callback_attempt_insert",
    "INSERT INTO callback_attempts (org_id, task_id, request_id, caller_user_id, caller_role, "
    "occurred_at, local_day, method, reached, rating, notes, signer_name, "
    "signature_attachment_id) SELECT $1, $2, $3, $4, $5, $6::timestamptz, ($6::timestamptz AT "
    "TIME ZONE p.time_zone)::date, $7, $8::boolean, $9, $10, $11, $12 FROM callback_tasks t "
    "JOIN projects p ON p.id = t.project_id WHERE t.id = $2",
    12};
static const db_stmt_t attachment_of = {
    "callback_attachment_of",
    "SELECT count(*) FROM request_attachments WHERE org_id = $1 AND request_id = $2 AND id = $3",
    3};
static const db_stmt_t unreached_days = {
    "callback_unreached_days",
    "SELECT local_day - date '1970-01-01' FROM callback_attempts WHERE task_id = $1 AND NOT "
    "reached",
    1};
static const db_stmt_t task_finish = {
    "callback_task_finish",
    "UPDATE callback_tasks SET state = $2, outcome = $3, rating = $4, follow_up_request_id = $5, "
    "give_up_reason = $6, give_up_note = $7, finished_by = $8, finished_at = clock_timestamp(), "
    "attempts = attempts + CASE WHEN $2 = 'done' THEN 1 ELSE 0 END, updated_at = "
    "clock_timestamp(), version = version + 1 WHERE id = $1",
    8};
static const db_stmt_t task_touch = {"callback_task_touch",
                                     "UPDATE callback_tasks SET attempts = attempts + 1, "
                                     "updated_at = clock_timestamp(), version = version + 1 "
                                     "WHERE id = $1",
                                     1};
static const db_stmt_t task_assign = {
    "callback_task_assign",
    "UPDATE callback_tasks SET assignee_id = $2, updated_at = clock_timestamp(), version = "
    "version + 1 WHERE id = $1 AND version = $3::int AND state = 'open'",
    3};
/* Open tasks have their own statement so that the partial indexes (state = 'open') serve
 * it under a generic plan too. */
#define LIST_HEAD                                                                                  \
    "SELECT " TASK_JSON "::text, rfc3339(t.due_at), t.id FROM callback_tasks t LEFT JOIN "         \
    "requests r ON r.id = t.request_id WHERE t.org_id = $1 AND ($2::uuid[] IS NULL OR "            \
    "t.project_id = "                                                                              \
    "ANY($2::uuid[])) AND ($3::uuid IS NULL OR t.project_id = $3) AND ($4::uuid IS NULL OR "       \
    "t.assignee_id = $4) AND "
#define LIST_TAIL                                                                                  \
    " AND ($6::timestamptz IS NULL OR t.due_at < $6::timestamptz) AND (NOT $7::boolean OR "        \
    "t.due_at < now()) AND ($8::timestamptz IS NULL OR (t.due_at, t.id) > ($8::timestamptz, "      \
    "$9::uuid)) ORDER BY t.due_at, t.id LIMIT $10::int"
static const db_stmt_t list_open = {
    "callback_list_open", LIST_HEAD "t.state = 'open' AND $5::text = 'open'" LIST_TAIL, 10};
static const db_stmt_t list_state = {"callback_list_state", LIST_HEAD "t.state = $5" LIST_TAIL, 10};
/* Resolved on the local day, needing a callback (an automatic task), no reached attempt. */
static const db_stmt_t unreached_day = {
    "callback_unreached_day",
    "SELECT coalesce(json_agg(json_build_object('task_id', t.id, 'request_id', r.id, "
    "'request_number', r.number, 'request_type', r.type, 'resolved_at', "
    "rfc3339(t.resolved_at), 'task_state', t.state, 'due_at', rfc3339(t.due_at), "
    "'assignee_id', t.assignee_id, 'attempts', t.attempts) ORDER BY t.resolved_at, t.id), "
    "'[]')::text FROM callback_tasks t JOIN requests r ON r.id = t.request_id JOIN projects p ON "
    "p.id = t.project_id WHERE t.org_id = $1 AND t.project_id = $2 AND NOT t.on_demand AND "
    "t.resolved_at >= ($3::date)::timestamp AT TIME ZONE p.time_zone AND t.resolved_at < "
    "($3::date + 1)::timestamp AT TIME ZONE p.time_zone AND NOT EXISTS (SELECT 1 FROM "
    "callback_attempts a WHERE a.task_id = t.id AND a.reached)",
    3};
/* RULES §3.1.9: over the automatic tasks (one per resolution needing a callback) whose
 * resolution falls in the month, cancelled ones (the request reopened before its
 * callback) left out.  Request tasks only: a survey response's callback (kind survey) is
 * not a resolution needing one and counts in neither the rate nor the satisfaction. */
static const db_stmt_t month = {
    "callback_month",
    "WITH p AS (SELECT time_zone FROM projects WHERE org_id = $1 AND id = $2), b AS (SELECT "
    "(($3 || '-01')::date)::timestamp AT TIME ZONE p.time_zone AS lo, ((($3 || '-01')::date + "
    "interval '1 month')::date)::timestamp AT TIME ZONE p.time_zone AS hi FROM p), x AS (SELECT "
    "t.state, t.rating FROM callback_tasks t, b WHERE t.org_id = $1 AND t.project_id = $2 AND "
    "NOT t.on_demand AND t.request_id IS NOT NULL AND t.state <> 'cancelled' AND "
    "t.resolved_at >= b.lo AND t.resolved_at < "
    "b.hi) SELECT count(*), count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE "
    "state = 'done' AND rating IN ('very_satisfied', 'satisfied')), count(*) FILTER (WHERE "
    "state = 'given_up'), count(*) FILTER (WHERE state = 'open'), (SELECT "
    "json_build_object('very_satisfied', count(*) FILTER (WHERE rating = 'very_satisfied'), "
    "'satisfied', count(*) FILTER (WHERE rating = 'satisfied'), 'average', count(*) FILTER "
    "(WHERE rating = 'average'), 'dissatisfied', count(*) FILTER (WHERE rating = "
    "'dissatisfied'), 'very_dissatisfied', count(*) FILTER (WHERE rating = "
    "'very_dissatisfied'))::text FROM x WHERE state = 'done'), (SELECT count(*) FROM b) FROM x",
    3};
/* A survey response's open task, created when it has none (due 24 h after the answer, the
 * desk's callback target); one open task per response. */
static const db_stmt_t survey_task = {
    "callback_survey_task",
    "WITH ins AS (INSERT INTO callback_tasks (org_id, project_id, survey_response_id, kind, "
    "min_role, resolved_at, due_at, created_by) SELECT s.org_id, s.project_id, s.id, 'survey', "
    "'agent', to_timestamp($4::bigint), to_timestamp($5::bigint), $3 FROM survey_responses s "
    "WHERE s.org_id = $1 "
    "AND s.id = $2 AND NOT EXISTS (SELECT 1 FROM callback_tasks t WHERE t.survey_response_id = "
    "s.id AND t.state = 'open') RETURNING id) SELECT id FROM ins UNION ALL SELECT id FROM "
    "callback_tasks WHERE org_id = $1 AND survey_response_id = $2 AND state = 'open'",
    5};
static const db_stmt_t survey_facts = {
    "callback_survey_facts",
    "SELECT s.project_id, s.unit_id, s.campaign_id, c.title, coalesce(s.respondent_name, ''), "
    "left(coalesce((SELECT string_agg(coalesce(i.code, '总体评价'), '、' ORDER BY i.position NULLS "
    "FIRST) FROM survey_followups f LEFT JOIN survey_items i ON i.id = f.item_id WHERE "
    "f.callback_task_id = $3), ''), 600) FROM survey_responses s JOIN survey_campaigns c ON c.id = "
    "s.campaign_id WHERE s.org_id = $1 AND s.id = $2",
    3};
static const db_stmt_t mark_overdue = {
    "callback_mark_overdue",
    "WITH due AS (SELECT t.id FROM callback_tasks t WHERE t.state = 'open' AND t.overdue_at IS "
    "NULL AND t.due_at <= now() ORDER BY t.due_at LIMIT $1::int FOR UPDATE SKIP LOCKED), m AS "
    "(UPDATE callback_tasks t SET overdue_at = now(), updated_at = clock_timestamp(), version = "
    "t.version + 1 FROM due WHERE t.id = due.id RETURNING t.id, t.org_id, t.project_id, "
    "t.request_id, t.assignee_id, t.due_at), n AS (INSERT INTO notifications (org_id, user_id, "
    "kind, request_id, payload) SELECT m.org_id, u.id, 'callback_overdue', m.request_id, "
    "jsonb_build_object('task_id', m.id, 'due_at', rfc3339(m.due_at), 'reason', "
    "'callback overdue') FROM m JOIN users u ON u.org_id = m.org_id AND u.active AND (u.id = "
    "m.assignee_id OR (m.assignee_id IS NULL AND u.role = 'supervisor' AND EXISTS (SELECT 1 "
    "FROM user_projects up WHERE up.user_id = u.id AND up.project_id = m.project_id))) "
    "RETURNING 1) SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM n)",
    1};

static int exec_ok(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    int ok = db_ok(r);
    if (!ok)
        db_error_note(st->name, r);
    PQclear(r);
    return ok ? 0 : -1;
}

/* One row's first column as an int: the value, or -1 on error or no row. */
static int exec_int(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    int n = db_ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

static void cp(char *dst, size_t n, PGresult *r, int col)
{
    snprintf(dst, n, "%s", PQgetvalue(r, 0, col));
}

int db_callback_request(db_conn_t *c, const char *org, const char *request_id, cb_request_t *o)
{
    const char *v[] = {org, request_id};
    PGresult *r = db_exec(c, &req_facts, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (n == 1) {
        cp(o->state, sizeof o->state, r, 0);
        cp(o->type, sizeof o->type, r, 1);
        cp(o->validity, sizeof o->validity, r, 2);
        cp(o->severity, sizeof o->severity, r, 3);
        cp(o->resolved_at, sizeof o->resolved_at, r, 4);
        cp(o->explanation, sizeof o->explanation, r, 5);
        cp(o->assignee, sizeof o->assignee, r, 6);
        cp(o->project, sizeof o->project, r, 7);
        cp(o->unit, sizeof o->unit, r, 8);
        cp(o->reporter_resident, sizeof o->reporter_resident, r, 9);
        cp(o->reporter_name, sizeof o->reporter_name, r, 10);
        cp(o->reporter_phone, sizeof o->reporter_phone, r, 11);
    }
    PQclear(r);
    return n == 1;
}

int db_callback_task_create(db_conn_t *c, const char *org, const char *request_id, const char *kind,
                            const char *min_role, int on_demand, const char *created_by,
                            char id[40])
{
    const char *v[] = {org, request_id, kind, min_role, on_demand ? "true" : "false", created_by};
    PGresult *r = db_exec(c, &task_create, v);
    int ok = db_ok(r);
    id[0] = 0;
    if (ok && PQntuples(r) == 1)
        snprintf(id, 40, "%s", PQgetvalue(r, 0, 0));
    else if (!ok)
        db_error_note("callback_task_create", r);
    PQclear(r);
    return ok ? 0 : -1;
}

int db_callback_task_abandon(db_conn_t *c, const char *org, const char *request_id,
                             const char *state, const char *note)
{
    const char *v[] = {org, request_id, state, note};
    return exec_ok(c, &task_abandon, v);
}

static int read_task(db_conn_t *c, const db_stmt_t *st, const char *org, const char *key,
                     cb_task_t *t)
{
    const char *v[] = {org, key};
    PGresult *r = db_exec(c, st, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (n == 1) {
        cp(t->id, sizeof t->id, r, 0);
        cp(t->project, sizeof t->project, r, 1);
        cp(t->request, sizeof t->request, r, 2);
        cp(t->state, sizeof t->state, r, 3);
        cp(t->kind, sizeof t->kind, r, 4);
        cp(t->min_role, sizeof t->min_role, r, 5);
        cp(t->assignee, sizeof t->assignee, r, 6);
        t->version = atoi(PQgetvalue(r, 0, 7));
        cp(t->survey_response, sizeof t->survey_response, r, 8);
        t->resolved_at = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
    }
    PQclear(r);
    return n == 1;
}

int db_callback_task(db_conn_t *c, const char *org, const char *id, int lock, cb_task_t *t)
{
    return read_task(c, lock ? &task_lock : &task_get, org, id, t);
}

int db_callback_open_task(db_conn_t *c, const char *org, const char *request_id, int lock,
                          cb_task_t *t)
{
    return read_task(c, lock ? &open_lock : &open_get, org, request_id, t);
}

char *db_callback_task_json(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec_text(c, &task_json, v);
}

int db_callback_did_work(db_conn_t *c, const char *org, const char *request_id, const char *user_id)
{
    const char *v[] = {org, request_id, user_id};
    return exec_int(c, &did_work, v);
}

int db_callback_attempt_insert(db_conn_t *c, const char *org, const char *task_id,
                               const char *request_id, const char *caller, const char *role,
                               const char *occurred_at, const char *method, int reached,
                               const char *rating, const char *notes, const char *signer,
                               const char *signature)
{
    const char *v[] = {org,    task_id,     request_id, caller,
                       role,   occurred_at, method,     reached ? "true" : "false",
                       rating, notes,       signer,     signature};
    return exec_ok(c, &attempt_insert, v);
}

int db_callback_attachment_of(db_conn_t *c, const char *org, const char *request_id,
                              const char *attachment_id)
{
    const char *v[] = {org, request_id, attachment_id};
    int n = exec_int(c, &attachment_of, v);
    return n < 0 ? -1 : n > 0;
}

PGresult *db_callback_unreached_days(db_conn_t *c, const char *task_id)
{
    const char *v[] = {task_id};
    return db_exec(c, &unreached_days, v);
}

int db_callback_task_finish(db_conn_t *c, const char *task_id, const char *state,
                            const char *outcome, const char *rating, const char *follow_up,
                            const char *reason, const char *note, const char *by)
{
    const char *v[] = {task_id, state, outcome, rating, follow_up, reason, note, by};
    return exec_ok(c, &task_finish, v);
}

int db_callback_task_touch(db_conn_t *c, const char *task_id)
{
    const char *v[] = {task_id};
    return exec_ok(c, &task_touch, v);
}

int db_callback_task_assign(db_conn_t *c, const char *task_id, const char *assignee, int version)
{
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    const char *v[] = {task_id, assignee, ver};
    PGresult *r = db_exec(c, &task_assign, v);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) == 1 : -1;
    PQclear(r);
    return rc;
}

PGresult *db_callback_task_list(db_conn_t *c, const char *org, const char *projects,
                                const char *project, const char *assignee, const char *state,
                                const char *due_before, int overdue, const char *after_ts,
                                const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org,
                       projects,
                       project,
                       assignee,
                       state ? state : "open",
                       due_before,
                       overdue ? "true" : "false",
                       after_ts,
                       after_id,
                       l};
    return db_exec(c, !state || !strcmp(state, "open") ? &list_open : &list_state, v);
}

char *db_callback_unreached_day(db_conn_t *c, const char *org, const char *project, const char *day)
{
    const char *v[] = {org, project, day};
    return db_exec_text(c, &unreached_day, v);
}

PGresult *db_callback_month(db_conn_t *c, const char *org, const char *project, const char *m)
{
    const char *v[] = {org, project, m};
    return db_exec(c, &month, v);
}

int db_callback_survey_task(db_conn_t *c, const char *org, const char *response,
                            const char *created_by, int64_t start, int64_t due, char id[40])
{
    char s[24], d[24];
    snprintf(s, sizeof s, "%lld", (long long)start);
    snprintf(d, sizeof d, "%lld", (long long)due);
    const char *v[] = {org, response, created_by, s, d};
    PGresult *r = db_exec(c, &survey_task, v);
    int ok = db_ok(r) && PQntuples(r) == 1;
    id[0] = 0;
    if (ok)
        snprintf(id, 40, "%s", PQgetvalue(r, 0, 0));
    else
        db_error_note("callback_survey_task", r);
    PQclear(r);
    return ok ? 0 : -1;
}

int db_callback_survey(db_conn_t *c, const char *org, const char *response, const char *task_id,
                       cb_survey_t *o)
{
    const char *v[] = {org, response, task_id};
    PGresult *r = db_exec(c, &survey_facts, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (n == 1) {
        cp(o->project, sizeof o->project, r, 0);
        cp(o->unit, sizeof o->unit, r, 1);
        cp(o->campaign, sizeof o->campaign, r, 2);
        cp(o->title, sizeof o->title, r, 3);
        cp(o->respondent, sizeof o->respondent, r, 4);
        cp(o->items, sizeof o->items, r, 5);
    }
    PQclear(r);
    return n == 1;
}

int db_callback_mark_overdue(db_conn_t *c, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {l};
    return exec_int(c, &mark_overdue, v);
}
