/*
 * api/webhook.c — webhook subscriptions over HTTP (RULES §3.12): an administrator manages
 * the subscriptions of their own organisation (optionally narrowed to one project), reads
 * every delivery and its attempts, and asks for a redelivery.  Secrets are written, never
 * read back.  There is no DELETE (nothing in scope is deleted, RULES §3.13.6): a
 * subscription is switched off with active=false.  Delivery: api/webhook_worker.c.
 */
#include "api/config.h"
#include "api/http.h"
#include "api/webhook_secret.h"
#include "core/webhook.h"
#include "db/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MIN       16
#define SECRET_MAX       256
#define KEEP_DEFAULT_MIN 1440  /* a rotated-out secret stays valid a day by default */
#define KEEP_MAX_MIN     10080 /* at most a week */

static const char *const create_fields[] = {"url",         "secret", "event_types", "project_id",
                                            "description", "active", NULL};
static const char *const update_fields[] = {
    "url",        "secret", "event_types", "active", "description", "keep_previous_secret_minutes",
    "project_id", NULL};

/* url: present → must be acceptable. */
static int check_url(req_t *r, const cJSON *u)
{
    if (!cJSON_IsString(u) || !u->valuestring[0] || strlen(u->valuestring) > 2000) {
        http_invalid(r, NULL, "url", "invalid_field", http_str_err(u, 2000),
                     "'url' must be a non-empty string of at most 2000 characters");
        return -1;
    }
    wh_url_t w = core_webhook_url_check(u->valuestring, g_config.webhook_allow_http);
    if (w != WH_URL_OK) {
        http_invalid(r, NULL, "url", "invalid_field", "invalid_format", "%s",
                     core_webhook_url_problem(w));
        return -1;
    }
    return 0;
}

static int check_secret(req_t *r, const cJSON *s)
{
    if (!cJSON_IsString(s)) {
        http_invalid(r, NULL, "secret", "invalid_field", "invalid_type",
                     "'secret' must be a string");
        return -1;
    }
    size_t n = strlen(s->valuestring);
    if (n < SECRET_MIN || n > SECRET_MAX) {
        http_invalid(r, NULL, "secret", "invalid_field", n < SECRET_MIN ? "too_short" : "too_long",
                     "'secret' must have %d to %d characters (use 32 random bytes, e.g. hex)",
                     SECRET_MIN, SECRET_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s->valuestring[i];
        if (c < 0x21 || c > 0x7e) {
            http_invalid(r, NULL, "secret", "invalid_field", "invalid_format",
                         "'secret' must be printable ASCII without spaces");
            return -1;
        }
    }
    return 0;
}

/* event_types: an array of 1..64 distinct valid patterns; *out: its JSON text (malloc'd). */
static int check_types(req_t *r, const cJSON *t, char **out)
{
    if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) < 1 || cJSON_GetArraySize(t) > 64) {
        http_invalid(r, NULL, "event_types", "invalid_field",
                     cJSON_IsArray(t) ? "out_of_range" : "invalid_type",
                     "'event_types' must be an array of 1 to 64 event types or patterns "
                     "(\"*\", \"request.*\", \"sla.breached\", ...)");
        return -1;
    }
    for (const cJSON *a = t->child; a; a = a->next) {
        if (!cJSON_IsString(a) || strlen(a->valuestring) > 64 ||
            !core_webhook_pattern_valid(a->valuestring)) {
            http_invalid(r, t, NULL, "invalid_field", "invalid_enum",
                         "'%s' is not an event type deskd announces; use \"*\", a type such as "
                         "\"request.created\" or a prefix pattern such as \"request.*\"",
                         cJSON_IsString(a) ? a->valuestring : "(not a string)");
            return -1;
        }
        for (const cJSON *b = t->child; b != a; b = b->next)
            if (!strcmp(a->valuestring, b->valuestring)) {
                http_invalid(r, t, NULL, "invalid_field", "invalid_format",
                             "'%s' is listed twice in 'event_types'", a->valuestring);
                return -1;
            }
    }
    *out = cJSON_PrintUnformatted(t);
    return *out ? 0 : -1;
}

static int check_description(req_t *r, const cJSON *d)
{
    if (cJSON_IsNull(d))
        return 0;
    if (!cJSON_IsString(d) || strlen(d->valuestring) > 500) {
        http_invalid(r, NULL, "description", "invalid_field",
                     cJSON_IsString(d) ? "too_long" : "invalid_type",
                     "'description' must be a string of at most 500 characters, or null");
        return -1;
    }
    return 0;
}

static int check_bool(req_t *r, const char *name, const cJSON *b)
{
    if (!cJSON_IsBool(b)) {
        http_invalid(r, NULL, name, "invalid_field", "invalid_type", "'%s' must be true or false",
                     name);
        return -1;
    }
    return 0;
}

static void send_one(req_t *r, int status, PGresult *x)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "ETag: \"%s\"\r\n", PQgetvalue(x, 0, 1));
    http_send_json(r, status, PQgetvalue(x, 0, 0), hdr);
}

static void create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_WEBHOOK_ADMIN) != 0 || http_json_body(r) != 0 ||
        http_known_fields(r, "a webhook subscription", create_fields) != 0)
        return;
    const cJSON *j = r->json;
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "url");
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(j, "secret");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(j, "event_types");
    const cJSON *proj = cJSON_GetObjectItemCaseSensitive(j, "project_id");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "active");
    const char *missing = !url ? "url" : !sec ? "secret" : !types ? "event_types" : NULL;
    if (missing) {
        http_invalid(r, NULL, missing, "missing_field", "required", "'%s' is required", missing);
        return;
    }
    char *tj = NULL;
    if (check_url(r, url) != 0 || check_secret(r, sec) != 0 || check_types(r, types, &tj) != 0)
        return;
    if ((desc && check_description(r, desc) != 0) || (act && check_bool(r, "active", act) != 0)) {
        free(tj);
        return;
    }
    if (proj && !cJSON_IsNull(proj) &&
        (!cJSON_IsString(proj) || !http_is_uuid(proj->valuestring))) {
        free(tj);
        http_invalid(r, NULL, "project_id", "invalid_field", "invalid_format",
                     "'project_id' must be the id of a project of your organisation, or null");
        return;
    }
    char *sealed = whs_seal(r->principal.org_id, sec->valuestring);
    if (!sealed) {
        free(tj);
        http_problem(r, 503, "secret_key_unavailable",
                     "the server cannot encrypt webhook secrets (DESK_WEBHOOK_KEY / DESK_PII_KEY)");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c) {
        free(tj);
        free(sealed);
        return;
    }
    PGresult *x = db_webhook_create(
        c, r->principal.org_id, cJSON_IsString(proj) ? proj->valuestring : NULL, url->valuestring,
        cJSON_IsString(desc) ? desc->valuestring : NULL, tj, sealed,
        act && cJSON_IsFalse(act) ? "false" : "true", r->principal.user_id);
    free(tj);
    free(sealed);
    if (!db_ok(x)) {
        const char *st = db_sqlstate(x);
        if (!strcmp(st, "23503"))
            http_invalid(r, NULL, "project_id", "invalid_field", "not_found",
                         "'project_id' names no project of your organisation");
        else
            http_db_error(r, x);
    } else
        send_one(r, 201, x);
    PQclear(x);
}

static void get_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_WEBHOOK_ADMIN) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *x = db_webhook_get(c, r->principal.org_id, id);
    if (!db_ok(x))
        http_db_error(r, x);
    else if (PQntuples(x) != 1)
        http_problem(r, 404, "not_found",
                     "no webhook subscription of your organisation has this id");
    else
        send_one(r, 200, x);
    PQclear(x);
}

static void list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_WEBHOOK_ADMIN) != 0)
        return;
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *x = db_webhook_list(c, r->principal.org_id, pg.after_ts[0] ? pg.after_ts : NULL,
                                  pg.after_id[0] ? pg.after_id : NULL, pg.limit + 1);
    http_send_page(r, x, pg.limit);
    PQclear(x);
}

/* The shared If-Match parser, and a subscription's versions run from 1. */
static int if_match(req_t *r, int *version)
{
    if (http_if_match(r, "subscription", version) != 0)
        return -1;
    if (*version < 1 || *version > 1000000000) {
        http_problem(r, 412, "stale_version",
                     "If-Match does not name a version of this subscription");
        return -1;
    }
    return 0;
}

static void update_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    int version;
    if (!id || http_authorize_role(r, AZ_WEBHOOK_ADMIN) != 0 || http_json_body(r) != 0 ||
        http_known_fields(r, "a webhook subscription", update_fields) != 0 ||
        if_match(r, &version) != 0)
        return;
    const cJSON *j = r->json;
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "url");
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(j, "secret");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(j, "event_types");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "active");
    const cJSON *keep = cJSON_GetObjectItemCaseSensitive(j, "keep_previous_secret_minutes");
    if (cJSON_GetObjectItemCaseSensitive(j, "project_id")) {
        http_invalid(r, NULL, "project_id", "invalid_field", "immutable",
                     "a subscription's project cannot change; create another subscription");
        return;
    }
    if ((url && check_url(r, url) != 0) || (sec && check_secret(r, sec) != 0) ||
        (desc && check_description(r, desc) != 0) || (act && check_bool(r, "active", act) != 0))
        return;
    int keep_min = KEEP_DEFAULT_MIN;
    if (keep) {
        if (!sec) {
            http_invalid(r, NULL, "keep_previous_secret_minutes", "invalid_field", "not_applicable",
                         "'keep_previous_secret_minutes' goes with a new 'secret' only");
            return;
        }
        if (!cJSON_IsNumber(keep) || keep->valuedouble != (double)(int)keep->valuedouble ||
            keep->valuedouble < 0 || keep->valuedouble > KEEP_MAX_MIN) {
            http_invalid(r, NULL, "keep_previous_secret_minutes", "invalid_field", "out_of_range",
                         "'keep_previous_secret_minutes' must be a whole number from 0 to %d",
                         KEEP_MAX_MIN);
            return;
        }
        keep_min = (int)keep->valuedouble;
    }
    char *tj = NULL;
    if (types && check_types(r, types, &tj) != 0)
        return;
    char *sealed = sec ? whs_seal(r->principal.org_id, sec->valuestring) : NULL;
    if (sec && !sealed) {
        free(tj);
        http_problem(r, 503, "secret_key_unavailable",
                     "the server cannot encrypt webhook secrets (DESK_WEBHOOK_KEY / DESK_PII_KEY)");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c) {
        free(tj);
        free(sealed);
        return;
    }
    PGresult *x = db_webhook_update(
        c, r->principal.org_id, id, version, url ? url->valuestring : NULL, desc ? "true" : "false",
        cJSON_IsString(desc) ? desc->valuestring : NULL, tj,
        act ? (cJSON_IsTrue(act) ? "true" : "false") : NULL, sealed, keep_min);
    free(tj);
    free(sealed);
    if (!db_ok(x)) {
        http_db_error(r, x);
        PQclear(x);
        return;
    }
    if (PQntuples(x) == 1) {
        send_one(r, 200, x);
        PQclear(x);
        return;
    }
    PQclear(x);
    x = db_webhook_get(c, r->principal.org_id, id);
    if (db_ok(x) && PQntuples(x) == 1) {
        char hdr[64];
        snprintf(hdr, sizeof hdr, "ETag: \"%s\"\r\n", PQgetvalue(x, 0, 1));
        http_problem_hdr(r, 412, hdr, "stale_version",
                         "the subscription changed since version %d (now %s): GET it again",
                         version, PQgetvalue(x, 0, 1));
    } else if (db_ok(x))
        http_problem(r, 404, "not_found",
                     "no webhook subscription of your organisation has this id");
    else
        http_db_error(r, x);
    PQclear(x);
}

static int webhook_visible(req_t *r, db_conn_t *c, const char *id)
{
    PGresult *x = db_webhook_get(c, r->principal.org_id, id);
    int n = db_ok(x) ? PQntuples(x) : -1;
    if (n < 0)
        http_db_error(r, x);
    else if (n == 0)
        http_problem(r, 404, "not_found",
                     "no webhook subscription of your organisation has this id");
    PQclear(x);
    return n == 1 ? 0 : -1;
}

static void deliveries_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_WEBHOOK_ADMIN) != 0)
        return;
    char state[16];
    const char *st = NULL;
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (strcmp(state, "pending") && strcmp(state, "delivered") && strcmp(state, "failed")) {
            http_problem(r, 400, "invalid_query", "'state' must be pending, delivered or failed");
            return;
        }
        st = state;
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c || webhook_visible(r, c, id) != 0)
        return;
    PGresult *x =
        db_webhook_deliveries(c, r->principal.org_id, id, st, pg.after_ts[0] ? pg.after_ts : NULL,
                              pg.after_id[0] ? pg.after_id : NULL, pg.limit + 1);
    http_send_page(r, x, pg.limit);
    PQclear(x);
}

static void redeliver_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    const char *did = id ? http_uuid_param(r, 1) : NULL;
    if (!did || http_authorize_role(r, AZ_WEBHOOK_ADMIN) != 0 || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *x = db_webhook_redeliver(c, r->principal.org_id, id, did);
    if (!db_ok(x))
        http_db_error(r, x);
    else if (PQntuples(x) != 1)
        http_problem(r, 404, "not_found",
                     "this subscription of your organisation has no such delivery");
    else if (PQgetvalue(x, 0, 1)[0] != 't')
        http_problem(r, 409, "webhook_inactive",
                     "the subscription is switched off: set active=true first, then redeliver");
    else if (PQgetvalue(x, 0, 2)[0] == 't')
        http_problem(r, 409, "delivery_in_flight",
                     "an attempt of this delivery is running now; wait for its outcome");
    else
        http_send_json(r, 202, PQgetvalue(x, 0, 0), NULL);
    PQclear(x);
}

void api_webhook_register(void)
{
    http_route("GET", "/v1/webhooks", list_h, 0, NULL);
    http_route("POST", "/v1/webhooks", create_h, 0, NULL);
    http_route("GET", "/v1/webhooks/{id}", get_h, 0, NULL);
    http_route("PATCH", "/v1/webhooks/{id}", update_h, 0, NULL);
    http_route("GET", "/v1/webhooks/{id}/deliveries", deliveries_h, 0, NULL);
    http_route("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", redeliver_h, 0,
               NULL);
}
