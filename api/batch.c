/*
 * api/batch.c — batch intake for other enterprise systems: POST /v1/requests/batch
 * creates up to 100 requests in one transaction, each item on its own savepoint.
 */
#include "api/api.h"
#include "api/request.h"
#include "svc/sweeper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 100

static void batch_h(req_t *r)
{
    if (http_authorize_role(r, AZ_REQUEST_CREATE) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(r->json, "items");
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) < 1 ||
        cJSON_GetArraySize(items) > MAX_BATCH) {
        http_invalid(r, NULL, "items", !items ? "missing_field" : "invalid_field",
                     !items                          ? "required"
                     : !cJSON_IsArray(items)         ? "invalid_type"
                     : cJSON_GetArraySize(items) < 1 ? "too_short"
                                                     : "too_long",
                     "'items' must be an array of 1 to %d request objects", MAX_BATCH);
        return;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, r->json)
    {
        if (strcmp(m->string, "items") != 0) {
            http_invalid(r, NULL, m->string, "unknown_field", "unknown_field",
                         "the batch body has only 'items'");
            return;
        }
    }
    db_conn_t *c;
    int claimed;
    if (api_idem_start(r, &c, &claimed) != 0)
        return;
    if (!claimed && db_begin(c) != 0) {
        http_db_fail(r, NULL);
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
            if (st == 422) /* pointers into the batch body: "/items/<index>/..." */
                cJSON_AddItemToArray(cJSON_AddArrayToObject(pb, "errors"), api_err_entry(r, &e));
            failed++;
        }
        free(json);
    }
    cJSON_AddNumberToObject(out, "created", created);
    cJSON_AddNumberToObject(out, "failed", failed);
    char *body = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (!body || (claimed && api_idem_finish(r, c, 200, body) != 0) || db_commit(c) != 0) {
        http_db_fail(r, "the batch was not saved");
        db_rollback(c);
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
    http_db_fail(r, "the batch was not saved");
    db_rollback(c);
}

void api_batch_register(void)
{
    http_route("POST", "/v1/requests/batch", batch_h, 0, NULL);
}
