/*
 * api/attachment.c — attachment metadata on a request (the file itself lives in object
 * storage; the service records its name, type, size, storage key, URL and digest).
 */
#include "api/api.h"
#include "api/attachment.h"
#include "api/request.h"
#include "db/attachment.h"

#include <stdio.h>
#include <string.h>

/* Writes the attachment's metadata (ud: the seven values in db_attachment_add's order). */
static PGresult *add_attachment(req_t *r, const api_append_t *a, void *ud)
{
    (void)r;
    return db_attachment_add(a->c, a->org, a->request_id, a->seq, a->author, a->role,
                             (const char *const *)ud, a->channel);
}

int api_attachment_fields(req_t *r, const char *const *extra, const char *vals[6], char size[32])
{
    static const char *const names[] = {"filename",    "content_type", "size_bytes",
                                        "storage_key", "url",          "sha256"};
    static const int maxlen[] = {255, 127, 0, 1024, 2048, 64};
    const char *known[16];
    size_t nk = 0;
    for (size_t i = 0; i < 6; i++)
        known[nk++] = names[i];
    for (size_t i = 0; extra && extra[i] && nk < 15; i++)
        known[nk++] = extra[i];
    known[nk] = NULL;
    if (http_known_fields(r, "an attachment", (const char *const *)known) != 0)
        return -1;
    for (int i = 0; i < 6; i++) {
        vals[i] = NULL;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, names[i]);
        int required = i < 4;
        if (!v || cJSON_IsNull(v)) {
            if (required) {
                http_invalid(r, NULL, names[i], "missing_field", "required", "'%s' is required",
                             names[i]);
                return -1;
            }
            continue;
        }
        if (i == 2) {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12 ||
                v->valuedouble != (double)(long long)v->valuedouble) {
                http_invalid(r, NULL, "size_bytes", "invalid_field",
                             cJSON_IsNumber(v) ? "out_of_range" : "invalid_type",
                             "'size_bytes' must be a whole number >= 0");
                return -1;
            }
            snprintf(size, 32, "%lld", (long long)v->valuedouble);
            vals[i] = size;
            continue;
        }
        if (!cJSON_IsString(v) || !v->valuestring[0] ||
            strlen(v->valuestring) > (size_t)maxlen[i]) {
            http_invalid(r, NULL, names[i], "invalid_field", http_str_err(v, (size_t)maxlen[i]),
                         "'%s' must be text of 1 to %d bytes", names[i], maxlen[i]);
            return -1;
        }
        vals[i] = v->valuestring;
    }
    if (vals[5]) {
        int ok = strlen(vals[5]) == 64;
        for (int i = 0; ok && i < 64; i++)
            ok = (vals[5][i] >= '0' && vals[5][i] <= '9') ||
                 (vals[5][i] >= 'a' && vals[5][i] <= 'f');
        if (!ok) {
            http_invalid(r, NULL, "sha256", "invalid_field", "invalid_format",
                         "'sha256' must be 64 lower-case hex digits");
            return -1;
        }
    }
    return 0;
}

static void attachment_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_REQUEST_COMMENT) != 0 || http_json_body(r) != 0)
        return;
    static const char *const extra[] = {"visibility", NULL};
    const char *vals[7] = {0};
    char size[32];
    if (api_attachment_fields(r, extra, vals, size) != 0)
        return;
    if (api_request_visibility(r, cJSON_GetObjectItemCaseSensitive(r->json, "visibility"),
                               &vals[6]) != 0)
        return;
    if (!cJSON_GetObjectItemCaseSensitive(r->json, "visibility"))
        vals[6] = "public"; /* photos are usually the customer's own */
    api_request_append(r, id, add_attachment, (void *)vals);
}

static void attachment_list_h(req_t *r)
{
    api_request_items(r, db_attachment_list);
}

void api_attachment_register(void)
{
    http_route("GET", "/v1/requests/{id}/attachments", attachment_list_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/attachments", attachment_add_h, 0, NULL);
}
