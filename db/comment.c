/* db/comment.c — comments on a request, each with its timeline event. */
#include "db/comment.h"

#include <stdio.h>

#define COMMENT_JSON                                                                               \
    "json_build_object('id', m.id, 'request_id', m.request_id, 'author_id', m.author_id, "         \
    "'author_role', m.author_role, 'visibility', m.visibility, 'body', m.body, 'created_at', "     \
    "rfc3339(m.created_at))"

static const db_stmt_t comment_add = {
    "comment_add",
    "WITH m AS (INSERT INTO request_comments (org_id, request_id, author_id, author_role, "
    "visibility, body) VALUES ($1, $2, $4, $5, $6, $7) RETURNING *), "
    "e AS (INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, "
    "channel, occurred_at, details) SELECT m.org_id, m.request_id, $3, m.author_id, "
    "m.author_role, 'comment', $8, m.created_at, json_build_object('comment_id', m.id, "
    "'visibility', m.visibility)::jsonb FROM m) SELECT " COMMENT_JSON "::text FROM m",
    8};
static const db_stmt_t comment_list = {
    "comment_list",
    "SELECT coalesce(json_agg(" COMMENT_JSON " ORDER BY m.created_at, m.id), '[]')::text "
    "FROM request_comments m WHERE m.request_id = $1 AND m.org_id = $2 "
    "AND ($3::boolean OR m.visibility = 'public')",
    3};

PGresult *db_comment_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                         const char *author, const char *role, const char *visibility,
                         const char *body, const char *channel)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *v[] = {org, request_id, s, author, role, visibility, body, channel};
    return db_exec(c, &comment_add, v);
}

char *db_comment_list(db_conn_t *c, const char *org, const char *request_id, int internal)
{
    const char *v[] = {request_id, org, internal ? "true" : "false"};
    return db_exec_text(c, &comment_list, v);
}
