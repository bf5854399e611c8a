/*
 * api/handler.c — the steps resource handlers share beyond the router: the ETag and
 * If-Match of versioned resources, and "load → 404 → authorise → answer" for one
 * resource, so that every GET of a single record behaves alike.
 */
#include "api/http.h"
#include "core/strtab.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_etag(char *buf, size_t len, int version)
{
    snprintf(buf, len, "ETag: \"%d\"\r\n", version);
}

int http_if_match(req_t *r, const char *what, int *version)
{
    const char *im = http_header(r, "If-Match");
    if (!im) {
        http_problem(r, 428, "if_match_required",
                     "send If-Match with the ETag from your last GET of this %s", what);
        return -1;
    }
    const char *q = im;
    if (!strncmp(q, "W/", 2))
        q += 2;
    if (*q == '"')
        q++;
    char *end;
    long v = strtol(q, &end, 10);
    if (end == q || (*end && *end != '"') || v < 0 || v > 2147483647L) {
        http_problem(r, 412, "stale_version", "If-Match does not name a version of this %s", what);
        return -1;
    }
    *version = (int)v;
    return 0;
}

static const char *or_null(const char *s)
{
    return s[0] ? s : NULL;
}

int http_load(req_t *r, db_conn_t *c, az_action_t action, const char *what, const char *id,
              http_load_fn load, const void *arg, http_found_t *f)
{
    memset(f, 0, sizeof *f);
    f->version = -1;
    int rc = load(r, c, id, arg, f);
    if (rc == 1) {
        az_target_t t = {f->org_id[0] ? f->org_id : r->principal.org_id, or_null(f->project_id),
                         or_null(f->unit_id), or_null(f->dept_id), or_null(f->owner_user)};
        if (http_authorize(r, action, &t) == 0)
            return 0;
    } else if (rc == 0) {
        http_problem(r, 404, "not_found", "no %s with this id in your scope", what);
    } else if (!r->status) {
        http_db_fail(r, NULL);
    }
    free(f->json);
    f->json = NULL;
    return -1;
}

void http_get_one(req_t *r, az_action_t action, const char *what, http_load_fn load,
                  const void *arg)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, action) != 0)
        return;
    db_conn_t *c = http_db(r);
    http_found_t f;
    if (!c || http_load(r, c, action, what, id, load, arg, &f) != 0)
        return;
    char hdr[64] = "", tag[24];
    if (f.version >= 0)
        http_etag(hdr, sizeof hdr, f.version);
    snprintf(tag, sizeof tag, "\"%d\"", f.version);
    const char *inm = f.conditional && f.version >= 0 ? http_header(r, "If-None-Match") : NULL;
    if (inm && !strcmp(inm, tag))
        http_send_empty(r, 304, hdr);
    else
        http_send_json(r, 200, f.json ? f.json : "{}", hdr[0] ? hdr : NULL);
    free(f.json);
}

db_conn_t *http_page_db(req_t *r, page_t *pg)
{
    return http_page_params(r, pg) == 0 ? http_db(r) : NULL;
}

db_conn_t *http_db_begin(req_t *r)
{
    db_conn_t *c = http_db(r);
    if (!c)
        return NULL;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return NULL;
    }
    return c;
}

int http_known_fields(req_t *r, const char *what, const char *const *known)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, r->json)
    {
        if (core_strtab_index(known, -1, m->string) < 0) {
            char list[512];
            core_strtab_join(known, -1, list, sizeof list);
            http_invalid(r, NULL, m->string, "unknown_field", "unknown_field",
                         "'%s' is not a field of %s (%s)", m->string, what, list);
            return -1;
        }
    }
    return 0;
}

int http_text_field(req_t *r, const char *name, size_t max, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    *out = NULL;
    if (!v) {
        http_invalid(r, NULL, name, "missing_field", "required", "'%s' is required", name);
        return -1;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max) {
        http_invalid(r, NULL, name, "invalid_field", http_str_err(v, max),
                     "'%s' must be text of 1 to %zu bytes", name, max);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

int http_bearer_secret(req_t *r, const http_secret_t *s)
{
    const char *h = http_header(r, "Authorization");
    if (!h) {
        http_problem(r, 401, "missing_token", "%s", s->missing_detail);
        return -1;
    }
    if (!s->secret) {
        http_problem(r, 403, s->disabled_code, "%s", s->disabled_detail);
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) != s->len ||
        CRYPTO_memcmp(h + 7, s->secret, s->len) != 0) {
        http_problem(r, 401, "invalid_token", "%s", s->invalid_detail);
        return -1;
    }
    return 0;
}
