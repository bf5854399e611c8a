/* db/attachment.c — attachment metadata on a request, each with its timeline event. */
#include "db/attachment.h"

#include <stdio.h>

#define ATT_JSON                                                                                   \
    "json_build_object('id', a.id, 'request_id', a.request_id, 'filename', a.filename, "           \
    "'content_type', a.content_type, 'size_bytes', a.size_bytes, 'storage_key', a.storage_key, "   \
    "'url', a.url, 'sha256', a.sha256, 'visibility', a.visibility, 'uploaded_by', a.uploaded_by, " \
    "'created_at', rfc3339(a.created_at))"

static const db_stmt_t att_add = {
    "att_add",
    "WITH a AS (INSERT INTO request_attachments (org_id, request_id, filename, content_type, "
    "size_bytes, storage_key, url, sha256, visibility, uploaded_by) VALUES ($1, $2, $6, $7, "
    "$8::bigint, $9, $10, $11, coalesce($12, 'public'), $4) RETURNING *), "
    "e AS (INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, "
    "channel, occurred_at, details) SELECT a.org_id, a.request_id, $3, a.uploaded_by, $5, "
    "'attachment', $13, a.created_at, json_build_object('attachment_id', a.id, 'filename', "
    "a.filename, 'visibility', a.visibility)::jsonb FROM a) SELECT " ATT_JSON "::text FROM a",
    13};
static const db_stmt_t att_list = {
    "att_list",
    "SELECT coalesce(json_agg(" ATT_JSON " ORDER BY a.created_at, a.id), '[]')::text "
    "FROM request_attachments a WHERE a.request_id = $1 AND a.org_id = $2 "
    "AND ($3::boolean OR a.visibility = 'public')",
    3};

PGresult *db_attachment_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                            const char *uploader, const char *role, const char *const vals[7],
                            const char *channel)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *v[] = {org,     request_id, s,       uploader, role,    vals[0], vals[1],
                       vals[2], vals[3],    vals[4], vals[5],  vals[6], channel};
    return db_exec(c, &att_add, v);
}

char *db_attachment_list(db_conn_t *c, const char *org, const char *request_id, int internal)
{
    const char *v[] = {request_id, org, internal ? "true" : "false"};
    return db_exec_text(c, &att_list, v);
}
