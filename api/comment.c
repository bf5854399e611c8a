/*
 * api/comment.c — comments on a request (internal or visible to the resident), and what
 * every note appended to a request shares with attachments: the visibility argument, the
 * channel and the 201 answer.
 */
#include "api/api.h"
#include "api/request.h"
#include "core/request.h"
#include "db/comment.h"

#include <string.h>

void api_request_append(req_t *r, const char *id, api_append_fn add, void *ud)
{
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_REQUEST_COMMENT, &row) != 0)
        return;
    api_append_t a = {c,
                      &row,
                      r->principal.org_id,
                      id,
                      r->principal.user_id,
                      core_role_name(r->principal.role),
                      api_request_channel(r->principal.role),
                      row.last_seq + 1};
    PGresult *res = add(r, &a, ud);
    if (!res && r->status) {
        db_rollback(c);
        return;
    }
    if (!db_ok(res) || PQntuples(res) != 1 || db_commit(c) != 0) {
        http_db_error(r, res);
        db_rollback(c);
    } else {
        http_send_json(r, 201, PQgetvalue(res, 0, 0), NULL);
    }
    PQclear(res);
}

const char *api_request_channel(role_t role)
{
    return role == ROLE_RESIDENT ? "app" : role == ROLE_INTEGRATION ? "integration" : "web";
}

int api_request_visibility(req_t *r, const cJSON *v, const char **out)
{
    int internal_ok = core_authz_role(r->principal.role, AZ_REQUEST_INTERNAL) == AZ_ALLOW;
    *out = internal_ok ? "internal" : "public";
    if (!v)
        return 0;
    if (!cJSON_IsString(v) ||
        (strcmp(v->valuestring, "internal") != 0 && strcmp(v->valuestring, "public") != 0)) {
        http_invalid(r, NULL, "visibility", "invalid_enum",
                     cJSON_IsString(v) ? "invalid_enum" : "invalid_type",
                     "'visibility' must be one of: internal, public");
        return -1;
    }
    if (!strcmp(v->valuestring, "internal") && !internal_ok) {
        http_problem(r, 403, "forbidden", "your role may not write internal notes");
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

/* Writes the comment (ud: visibility, body); a rejected or not-responsible request takes
 * none (a closed one may still be discussed). */
static PGresult *add_comment(req_t *r, const api_append_t *a, void *ud)
{
    const char *const *in = ud;
    request_state_t st = (request_state_t)core_request_state_from_string(a->row->state);
    if (core_request_is_final(st) && st != REQ_STATE_CLOSED) {
        http_problem(r, 409, "invalid_transition", "a %s request takes no more comments",
                     a->row->state);
        return NULL;
    }
    return db_comment_add(a->c, a->org, a->request_id, a->seq, a->author, a->role, in[0], in[1],
                          a->channel);
}

static void comment_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_REQUEST_COMMENT) != 0 || http_json_body(r) != 0)
        return;
    static const char *const fields[] = {"body", "visibility", NULL};
    if (http_known_fields(r, "a comment", fields) != 0)
        return;
    const char *body;
    if (http_text_field(r, "body", 10000, &body) != 0)
        return;
    const char *vis;
    if (api_request_visibility(r, cJSON_GetObjectItemCaseSensitive(r->json, "visibility"), &vis) !=
        0)
        return;
    const char *in[2] = {vis, body};
    api_request_append(r, id, add_comment, (void *)in);
}

static void comment_list_h(req_t *r)
{
    api_request_items(r, db_comment_list);
}

void api_comment_register(void)
{
    http_route("GET", "/v1/requests/{id}/comments", comment_list_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/comments", comment_add_h, 0, NULL);
}
