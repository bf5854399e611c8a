/* db/register.c — register notes on requests and the rows of the paper registers. */
#include "db/register.h"

#include <stdio.h>

#define NOTE_JSON                                                                                  \
    "json_build_object('id', m.id, 'request_id', m.request_id, 'field', m.field, 'body', "         \
    "m.body, 'author_id', m.author_id, 'author_role', m.author_role, 'author_name', "              \
    "(SELECT u.display_name FROM users u WHERE u.id = m.author_id), 'written_at', "                \
    "rfc3339(m.written_at))"

static const db_stmt_t add_st = {
    "register_add",
    "WITH m AS (INSERT INTO request_register_notes (org_id, request_id, field, body, author_id, "
    "author_role) VALUES ($1, $2, $4, $5, $6, $7) RETURNING *), "
    "e AS (INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, "
    "channel, occurred_at, details) SELECT m.org_id, m.request_id, $3, m.author_id, "
    "m.author_role, 'register_note', $8, m.written_at, json_build_object('field', m.field, "
    "'note_id', m.id, 'visibility', $9::text)::jsonb FROM m) SELECT " NOTE_JSON "::text FROM m",
    9};

static const db_stmt_t view_st = {
    "register_view",
    "WITH m AS (SELECT * FROM request_register_notes WHERE request_id = $1 AND org_id = $2 AND "
    "field = ANY ($3::text[])) SELECT json_build_object('latest', (SELECT "
    "coalesce(json_object_agg(f, (SELECT " NOTE_JSON " FROM m WHERE m.field = f ORDER BY "
    "m.written_at DESC, m.id DESC LIMIT 1)), '{}') FROM unnest($3::text[]) f), 'history', (SELECT "
    "coalesce(json_agg(" NOTE_JSON " ORDER BY m.written_at, m.id), '[]') FROM m))::text",
    3};

#define LATEST(f)                                                                                  \
    "'" f "', (SELECT m.body FROM request_register_notes m WHERE m.request_id = r.id AND "         \
    "m.field = '" f "' ORDER BY m.written_at DESC, m.id DESC LIMIT 1), "

static const db_stmt_t rows_st = {
    "register_rows",
    "SELECT coalesce(json_agg(json_build_object('request_id', r.id, 'number', r.number, "
    "'received_at', floor(extract(epoch FROM r.received_at))::bigint, "
    "'reporter_name', r.reporter_name, 'phone', r.reporter_phone, "
    "'address', CASE WHEN r.unit_id IS NOT NULL THEN concat_ws(' ', b.name, un.code) ELSE "
    "r.common_area END, 'title', r.title, 'description', r.description, 'severity', "
    "r.severity, 'validity', r.validity, 'state', r.state, 'reopen_count', r.reopen_count, "
    "'overdue', r.sla_next_due IS NOT NULL AND r.sla_next_due < now(), "
    "'recorded_by', cu.display_name, 'department', d.name, 'handler', au.display_name, "
    "'resolution', r.resolution, 'explanation', r.explanation, "
    "'engineering_signature', (SELECT eu.display_name FROM work_orders w JOIN users eu ON "
    "eu.id = w.assignee_id JOIN departments wd ON wd.id = w.department_id WHERE w.request_id = "
    "r.id AND w.accepted_at IS NOT NULL AND wd.kind = 'engineering' ORDER BY w.created_at DESC "
    "LIMIT 1), " LATEST("customer_wish") LATEST("receiving_opinion") LATEST("handling_opinion")
        LATEST("supervisor_assessment")
            LATEST("owner_feedback") "'events', (SELECT "
                                     "coalesce(json_agg(json_build_"
                                     "object('action', e.action, "
                                     "'at', floor(extract(epoch "
                                     "FROM e.occurred_at))::bigint) "
                                     "ORDER BY e.occurred_at, "
                                     "e.seq), '[]') FROM "
                                     "request_events e WHERE "
                                     "e.request_id = r.id AND "
                                     "e.action NOT IN ('create', "
                                     "'comment', 'register_note'))) "
                                     "ORDER BY r.received_at, "
                                     "r.number), '[]')::text "
                                     "FROM requests r LEFT JOIN units un ON un.id = r.unit_id LEFT "
                                     "JOIN buildings b ON b.id = "
                                     "un.building_id LEFT JOIN users cu ON cu.id = r.created_by "
                                     "LEFT JOIN departments d ON d.id "
                                     "= r.department_id LEFT JOIN users au ON au.id = "
                                     "r.assignee_id WHERE r.org_id = $1 AND "
                                     "r.project_id = $2 AND r.type::text = $3 AND r.received_at >= "
                                     "$4::timestamptz AND "
                                     "r.received_at < $5::timestamptz",
    5};

PGresult *db_register_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                          const char *field, const char *body, const char *author, const char *role,
                          const char *channel, const char *visibility)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *v[] = {org, request_id, s, field, body, author, role, channel, visibility};
    return db_exec(c, &add_st, v);
}

char *db_register_view(db_conn_t *c, const char *org, const char *request_id,
                       const char *fields_lit)
{
    const char *v[] = {request_id, org, fields_lit};
    return db_exec_text(c, &view_st, v);
}

char *db_register_rows(db_conn_t *c, const char *org, const char *project, const char *type,
                       const char *from, const char *to)
{
    const char *v[] = {org, project, type, from, to};
    return db_exec_text(c, &rows_st, v);
}
