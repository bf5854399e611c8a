/*
 * api/extra.c — what hangs off a request: comments (internal or visible to the
 * resident), attachment metadata, work-order reads for departments, batch intake for
 * other enterprise systems, and the Idempotency-Key protocol shared with POST
 * /v1/requests.
 */
#include "api/codec.h"
#include "api/request.h"
#include "api/sla_engine.h"
#include "core/request.h"
#include "db/extra.h"
#include "db/log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- idempotency */

int api_idem_start(req_t *r, db_conn_t *c, int *claimed)
{
    *claimed = 0;
    const char *key = http_header(r, "Idempotency-Key");
    if (!key)
        return 0;
    size_t kl = strlen(key);
    int ok = kl > 0 && kl <= 200;
    for (size_t i = 0; ok && i < kl; i++)
        ok = key[i] > 0x20 && key[i] < 0x7f;
    if (!ok) {
        http_problem(r, 400, "invalid_idempotency_key",
                     "Idempotency-Key must be 1 to 200 visible ASCII characters");
        return 1;
    }
    /* The key is bound to the exact request: method, route and body. */
    unsigned char d[32];
    unsigned dl = 0;
    char hash[65], stored_hash[65];
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    EVP_DigestInit_ex(h, EVP_sha256(), NULL);
    EVP_DigestUpdate(h, r->method, strlen(r->method));
    EVP_DigestUpdate(h, r->route, strlen(r->route));
    EVP_DigestUpdate(h, r->body ? r->body : "", r->body_len);
    EVP_DigestFinal_ex(h, d, &dl);
    EVP_MD_CTX_free(h);
    for (int i = 0; i < 32; i++)
        snprintf(hash + 2 * i, 3, "%02x", d[i]);
    if (db_begin(c) != 0) {
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return 1;
    }
    int status = 0;
    char *response = NULL;
    int rc = db_idem_claim(c, r->principal.org_id, r->principal.user_id, key, hash, &status,
                           &response, stored_hash);
    if (rc < 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return 1;
    }
    if (rc == 1) {
        *claimed = 1;
        return 0; /* stay in the transaction: the outcome is stored with the work */
    }
    db_rollback(c);
    if (strcmp(hash, stored_hash) != 0)
        http_problem(r, 422, "idempotency_key_reused",
                     "this Idempotency-Key was already used with a different request body; "
                     "use a new key for a new request");
    else
        http_send_json(r, status, response, "Idempotent-Replayed: true\r\n");
    free(response);
    return 1;
}

int api_idem_finish(req_t *r, db_conn_t *c, int status, const char *body)
{
    const char *key = http_header(r, "Idempotency-Key");
    if (db_idem_store(c, r->principal.org_id, r->principal.user_id, key, status, body) != 0) {
        db_rollback(c);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- batch */

#define MAX_BATCH 100

static void batch_h(req_t *r)
{
    if (http_authorize_role(r, AZ_REQUEST_CREATE) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(r->json, "items");
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) < 1 ||
        cJSON_GetArraySize(items) > MAX_BATCH) {
        http_problem(r, 422, "invalid_field", "'items' must be an array of 1 to %d request objects",
                     MAX_BATCH);
        return;
    }
    if (cJSON_GetArraySize(r->json) != 1) {
        http_problem(r, 422, "unknown_field", "the batch body has only 'items'");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    int claimed;
    if (api_idem_start(r, c, &claimed) != 0)
        return;
    if (!claimed && db_begin(c) != 0) {
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *results = cJSON_AddArrayToObject(out, "results");
    int created = 0, failed = 0, idx = 0, nmajor = 0;
    char major[MAX_BATCH][40]; /* major complaints: to the GM at once, as a single create */
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        cJSON *res = cJSON_CreateObject();
        cJSON_AddItemToArray(results, res);
        cJSON_AddNumberToObject(res, "index", idx++);
        /* Each item in its own savepoint; when one cannot be set or ended the transaction
         * is in doubt, and the whole batch is refused rather than half-saved. */
        if (db_simple(c, "SAVEPOINT item") != 0)
            goto db_failed;
        char *json = NULL;
        api_err_t e = {0};
        int st = api_request_create_one(r, c, it, &json, &e);
        cJSON_AddNumberToObject(res, "status", st);
        if (st < 300 && db_simple(c, "RELEASE SAVEPOINT item") != 0) {
            free(json);
            goto db_failed;
        }
        if (st >= 300 && db_simple(c, "ROLLBACK TO SAVEPOINT item") != 0) {
            free(json);
            goto db_failed;
        }
        if (st < 300) {
            cJSON *rq = cJSON_Parse(json);
            const char *gm = api_request_gm_now(rq);
            if (gm)
                snprintf(major[nmajor++], 40, "%s", gm);
            cJSON_AddItemToObject(res, "request", rq);
            created++;
        } else {
            cJSON *pb = cJSON_AddObjectToObject(res, "problem");
            cJSON_AddNumberToObject(pb, "status", st);
            cJSON_AddStringToObject(pb, "code", e.code ? e.code : "error");
            cJSON_AddStringToObject(pb, "detail", e.detail);
            failed++;
        }
        free(json);
    }
    cJSON_AddNumberToObject(out, "created", created);
    cJSON_AddNumberToObject(out, "failed", failed);
    char *body = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (!body || (claimed && api_idem_finish(r, c, 200, body) != 0) || db_commit(c) != 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "the batch was not saved; retry");
    } else {
        /* The batch is committed; a failed sweep here is caught by the background one. */
        for (int i = 0; i < nmajor; i++)
            sla_sweep_request(c, major[i], (int64_t)time(NULL));
        http_send_json(r, 200, body, NULL);
    }
    free(body);
    return;
db_failed:
    cJSON_Delete(out);
    db_rollback(c);
    http_problem(r, 503, "database_unavailable", "the batch was not saved; retry");
}

/* Commits what was appended to a request (its row and timeline event) and answers 201
 * with it; frees res. */
static void answer_appended(req_t *r, db_conn_t *c, PGresult *res)
{
    if (!db_ok(res) || PQntuples(res) != 1 || db_commit(c) != 0) {
        http_db_error(r, res);
        db_rollback(c);
    } else {
        http_send_json(r, 201, PQgetvalue(res, 0, 0), NULL);
    }
    PQclear(res);
}

static const char *channel_of(role_t role)
{
    return role == ROLE_RESIDENT ? "app" : role == ROLE_INTEGRATION ? "integration" : "web";
}

static int visibility_arg(req_t *r, const cJSON *v, const char **out)
{
    int internal_ok = core_authz_role(r->principal.role, AZ_REQUEST_INTERNAL) == AZ_ALLOW;
    *out = internal_ok ? "internal" : "public";
    if (!v)
        return 0;
    if (!cJSON_IsString(v) ||
        (strcmp(v->valuestring, "internal") != 0 && strcmp(v->valuestring, "public") != 0)) {
        http_problem(r, 422, "invalid_enum", "'visibility' must be one of: internal, public");
        return -1;
    }
    if (!strcmp(v->valuestring, "internal") && !internal_ok) {
        http_problem(r, 403, "forbidden", "your role may not write internal notes");
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

static void comment_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_REQUEST_COMMENT) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *m;
    cJSON_ArrayForEach(m, r->json)
    {
        if (strcmp(m->string, "body") != 0 && strcmp(m->string, "visibility") != 0) {
            http_problem(r, 422, "unknown_field", "'%s' is not a field of a comment", m->string);
            return;
        }
    }
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(r->json, "body");
    if (!body) {
        http_problem(r, 422, "missing_field", "'body' is required");
        return;
    }
    if (!cJSON_IsString(body) || !body->valuestring[0] || strlen(body->valuestring) > 10000) {
        http_problem(r, 422, "invalid_field", "'body' must be text of 1 to 10000 bytes");
        return;
    }
    const char *vis;
    if (visibility_arg(r, cJSON_GetObjectItemCaseSensitive(r->json, "visibility"), &vis) != 0)
        return;
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_REQUEST_COMMENT, &row) != 0)
        return;
    request_state_t st = (request_state_t)core_request_state_from_string(row.state);
    if (core_request_is_final(st) && st != REQ_STATE_CLOSED) {
        db_rollback(c);
        http_problem(r, 409, "invalid_transition", "a %s request takes no more comments",
                     row.state);
        return;
    }
    PGresult *res = db_comment_add(c, r->principal.org_id, id, row.last_seq + 1,
                                   r->principal.user_id, core_role_name(r->principal.role), vis,
                                   body->valuestring, channel_of(r->principal.role));
    answer_appended(r, c, res);
}

static void comment_list_h(req_t *r)
{
    api_request_items(r, db_comment_list);
}

/* ---------------------------------------------------------------- attachments */

static void attachment_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_REQUEST_COMMENT) != 0 || http_json_body(r) != 0)
        return;
    static const char *const names[] = {"filename", "content_type", "size_bytes", "storage_key",
                                        "url",      "sha256",       "visibility"};
    static const int maxlen[] = {255, 127, 0, 1024, 2048, 64, 0};
    const cJSON *m;
    cJSON_ArrayForEach(m, r->json)
    {
        int known = 0;
        for (int i = 0; i < 7; i++)
            known |= !strcmp(m->string, names[i]);
        if (!known) {
            http_problem(r, 422, "unknown_field", "'%s' is not a field of an attachment",
                         m->string);
            return;
        }
    }
    const char *vals[7] = {0};
    char size[32];
    for (int i = 0; i < 6; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, names[i]);
        int required = i < 4;
        if (!v || cJSON_IsNull(v)) {
            if (required) {
                http_problem(r, 422, "missing_field", "'%s' is required", names[i]);
                return;
            }
            continue;
        }
        if (i == 2) {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12 ||
                v->valuedouble != (double)(long long)v->valuedouble) {
                http_problem(r, 422, "invalid_field", "'size_bytes' must be a whole number >= 0");
                return;
            }
            snprintf(size, sizeof size, "%lld", (long long)v->valuedouble);
            vals[i] = size;
            continue;
        }
        if (!cJSON_IsString(v) || !v->valuestring[0] ||
            strlen(v->valuestring) > (size_t)maxlen[i]) {
            http_problem(r, 422, "invalid_field", "'%s' must be text of 1 to %d bytes", names[i],
                         maxlen[i]);
            return;
        }
        vals[i] = v->valuestring;
    }
    if (vals[5]) {
        int ok = strlen(vals[5]) == 64;
        for (int i = 0; ok && i < 64; i++)
            ok = (vals[5][i] >= '0' && vals[5][i] <= '9') ||
                 (vals[5][i] >= 'a' && vals[5][i] <= 'f');
        if (!ok) {
            http_problem(r, 422, "invalid_field", "'sha256' must be 64 lower-case hex digits");
            return;
        }
    }
    if (visibility_arg(r, cJSON_GetObjectItemCaseSensitive(r->json, "visibility"), &vals[6]) != 0)
        return;
    if (!cJSON_GetObjectItemCaseSensitive(r->json, "visibility"))
        vals[6] = "public"; /* photos are usually the customer's own */
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_REQUEST_COMMENT, &row) != 0)
        return;
    PGresult *res =
        db_attachment_add(c, r->principal.org_id, id, row.last_seq + 1, r->principal.user_id,
                          core_role_name(r->principal.role), vals, channel_of(r->principal.role));
    answer_appended(r, c, res);
}

static void attachment_list_h(req_t *r)
{
    api_request_items(r, db_attachment_list);
}

/* ---------------------------------------------------------------- work orders */

static void wo_get_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_WORKORDER_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *json = NULL;
    wo_scope_t sc;
    int f = db_workorder_get(c, id, r->principal.org_id, &json, &sc);
    if (f < 0) {
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return;
    }
    if (f == 0) {
        http_problem(r, 404, "not_found", "no work order with this id in your scope");
        return;
    }
    az_target_t t = {r->principal.org_id, sc.project_id, NULL, sc.department_id, NULL};
    if (http_authorize(r, AZ_WORKORDER_READ, &t) == 0)
        http_send_json(r, 200, json, NULL);
    free(json);
}

static void wo_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_WORKORDER_READ) != 0)
        return;
    const principal_t *p = &r->principal;
    const char *proj = http_scope_projects(r);
    const char *dept_only = NULL;
    if (p->role == ROLE_TECHNICIAN)
        dept_only = p->dept_id ? p->dept_id : "00000000-0000-0000-0000-000000000000";
    char dept[64], state[32], assignee[64], request[64];
    const char *fd = NULL, *fs = NULL, *fa = NULL, *fr = NULL;
    if (http_query(r, "department_id", dept, sizeof dept) >= 0) {
        if (!http_is_uuid(dept))
            goto bad;
        fd = dept;
    }
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (core_request_work_order_state_from_string(state) < 0)
            goto bad;
        fs = state;
    }
    if (http_query(r, "assignee_id", assignee, sizeof assignee) >= 0) {
        if (!http_is_uuid(assignee))
            goto bad;
        fa = assignee;
    }
    if (http_query(r, "request_id", request, sizeof request) >= 0) {
        if (!http_is_uuid(request))
            goto bad;
        fr = request;
    }
    page_t pg;
    if (http_page_params(r, &pg) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *res = db_workorder_list(c, p->org_id, proj, dept_only, fd, fs, fa, fr,
                                      pg.after_ts[0] ? pg.after_ts : NULL,
                                      pg.after_id[0] ? pg.after_id : NULL, pg.limit + 1);
    if (!db_ok(res))
        http_db_error(r, res);
    else
        http_send_page(r, res, pg.limit);
    PQclear(res);
    return;
bad:
    http_problem(r, 400, "invalid_query",
                 "check department_id/assignee_id/request_id (UUIDs) and state (a work-order "
                 "state)");
}

void api_extra_register(void)
{
    http_route("POST", "/v1/requests/batch", batch_h, 0, NULL);
    http_route("GET", "/v1/requests/{id}/comments", comment_list_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/comments", comment_add_h, 0, NULL);
    http_route("GET", "/v1/requests/{id}/attachments", attachment_list_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/attachments", attachment_add_h, 0, NULL);
    http_route("GET", "/v1/work-orders", wo_list_h, 0, NULL);
    http_route("GET", "/v1/work-orders/{id}", wo_get_h, 0, NULL);
}
