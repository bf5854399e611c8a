/* db/extra.c — comments, attachments, work-order reads, idempotency keys. */
#include "db/extra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define WO_JSON                                                                                    \
    "json_build_object('id', w.id, 'organisation_id', w.org_id, 'project_id', w.project_id, "      \
    "'request_id', w.request_id, 'request_number', r.number, 'number', w.number, "                 \
    "'department_id', w.department_id, 'assignee_id', w.assignee_id, 'state', w.state, "           \
    "'request_state', r.state, 'request_type', r.type, 'location', json_build_object('kind', "     \
    "r.location_kind, 'unit_id', r.unit_id, 'common_area', r.common_area), 'description', "        \
    "r.description, 'appointment_at', rfc3339(w.appointment_at), 'dispatched_at', "                \
    "rfc3339(w.dispatched_at), 'accepted_at', rfc3339(w.accepted_at), 'arrived_at', "              \
    "rfc3339(w.arrived_at), 'reported_at', rfc3339(w.reported_at), 'result', w.result, "           \
    "'signed_at', rfc3339(w.signed_at), 'signer', CASE WHEN w.signer_kind IS NOT NULL THEN "       \
    "json_build_object('kind', w.signer_kind, 'resident_id', w.signer_resident_id, 'user_id', "    \
    "w.signer_user_id, 'name', w.signer_name) END, 'version', w.version, 'created_at', "           \
    "rfc3339(w.created_at), 'updated_at', rfc3339(w.updated_at))"

static const db_stmt_t wo_get = {
    "wo_get",
    "SELECT " WO_JSON "::text, w.project_id, w.department_id FROM work_orders w JOIN requests r "
    "ON r.id = w.request_id WHERE w.id = $1 AND w.org_id = $2",
    2};
static const db_stmt_t wo_list = {
    "wo_list",
    "SELECT " WO_JSON "::text, rfc3339(w.created_at), w.id FROM work_orders w JOIN requests r ON "
    "r.id = w.request_id WHERE w.org_id = $1 AND ($2::uuid[] IS NULL OR w.project_id = "
    "ANY($2::uuid[])) AND ($3::uuid IS NULL OR w.department_id = $3) AND ($4::uuid IS NULL OR "
    "w.department_id = $4) AND ($5::text IS NULL OR w.state = $5) AND ($6::uuid IS NULL OR "
    "w.assignee_id = $6) AND ($7::uuid IS NULL OR w.request_id = $7) AND ($8::timestamptz IS "
    "NULL OR (w.created_at, w.id) < ($8::timestamptz, $9::uuid)) "
    "ORDER BY w.created_at DESC, w.id DESC LIMIT $10",
    10};

static const db_stmt_t idem_claim = {
    "idem_claim",
    "INSERT INTO idempotency_keys (org_id, user_id, key, body_hash, status, response) VALUES "
    "($1, $2, $3, $4, 0, '') ON CONFLICT DO NOTHING RETURNING 1",
    4};
static const db_stmt_t idem_read = {
    "idem_read",
    "SELECT status, response, body_hash FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 "
    "AND key = $3",
    3};
static const db_stmt_t idem_store = {
    "idem_store",
    "UPDATE idempotency_keys SET status = $4, response = $5 WHERE org_id = $1 AND user_id = $2 "
    "AND key = $3",
    5};
static const db_stmt_t idem_purge = {
    "idem_purge",
    "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int)", 1};

PGresult *db_comment_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                         const char *author, const char *role, const char *visibility,
                         const char *body, const char *channel)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *v[] = {org, request_id, s, author, role, visibility, body, channel};
    return db_exec(c, &comment_add, v);
}

static char *one_json(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    char *out = db_ok(r) && PQntuples(r) == 1 ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return out;
}

char *db_comment_list(db_conn_t *c, const char *org, const char *request_id, int internal)
{
    const char *v[] = {request_id, org, internal ? "true" : "false"};
    return one_json(c, &comment_list, v);
}

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
    return one_json(c, &att_list, v);
}

int db_workorder_get(db_conn_t *c, const char *id, const char *org, char **json, wo_scope_t *sc)
{
    const char *v[] = {id, org};
    PGresult *r = db_exec(c, &wo_get, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1) {
        if (!(*json = strdup(PQgetvalue(r, 0, 0))))
            rc = -1; /* out of memory */
        snprintf(sc->project_id, sizeof sc->project_id, "%s", PQgetvalue(r, 0, 1));
        snprintf(sc->department_id, sizeof sc->department_id, "%s", PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return rc;
}

PGresult *db_workorder_list(db_conn_t *c, const char *org, const char *projects,
                            const char *dept_only, const char *department_id, const char *state,
                            const char *assignee_id, const char *request_id, const char *after_ts,
                            const char *after_id, int limit)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *v[] = {org,         projects,   dept_only, department_id, state,
                       assignee_id, request_id, after_ts,  after_id,      lim};
    /* Unnamed, so it is planned with the actual filters (a generic plan cannot use the
     * right index for "$n IS NULL OR col = $n"). */
    return PQexecParams(db_pg(c), wo_list.sql, wo_list.nparams, NULL, v, NULL, NULL, 0);
}

int db_idem_claim(db_conn_t *c, const char *org, const char *user, const char *key,
                  const char *body_hash, int *status, char **response, char hash_out[65])
{
    const char *v[] = {org, user, key, body_hash};
    PGresult *r = db_exec(c, &idem_claim, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int mine = PQntuples(r) == 1;
    PQclear(r);
    if (mine)
        return 1;
    r = db_exec(c, &idem_read, v);
    if (!db_ok(r) || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    *status = atoi(PQgetvalue(r, 0, 0));
    *response = strdup(PQgetvalue(r, 0, 1));
    snprintf(hash_out, 65, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    return *response ? 0 : -1;
}

int db_idem_store(db_conn_t *c, const char *org, const char *user, const char *key, int status,
                  const char *response)
{
    char s[16];
    snprintf(s, sizeof s, "%d", status);
    const char *v[] = {org, user, key, s, response};
    PGresult *r = db_exec(c, &idem_store, v);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

int db_idem_purge(db_conn_t *c, int hours)
{
    char h[16];
    snprintf(h, sizeof h, "%d", hours);
    const char *v[] = {h};
    PGresult *r = db_exec(c, &idem_purge, v);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return rc;
}
