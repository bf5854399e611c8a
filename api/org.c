/*
 * api/org.c — the organisation model over HTTP: the organisation, projects, buildings,
 * units, departments, residents and users.  Each resource is a field table; one set of
 * handlers validates bodies against it, authorises through core/authz, and runs the
 * statements db/crud.c generated.  Lists use keyset cursors on (created_at, id); reads
 * carry an ETag of the row version and updates require a matching If-Match.
 */
#include "api/auth.h"
#include "api/codec.h"
#include "api/config.h"
#include "api/custody.h"
#include "api/http.h"
#include "api/pii.h"
#include "core/sla_policy.h"
#include "core/strtab.h"
#include "db/crud.h"
#include "db/log.h"
#include "db/org.h"
#include "svc/sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct api_resource {
    resource_t db;
    az_action_t read, write;
    int creatable;
    /* Stores virtual fields after insert/update; returns 0 or sends the error itself. */
    int (*hook)(req_t *r, db_conn_t *c, const char *id);
} api_resource_t;

static const char *const unit_status[] = {"occupied", "vacant", "rented", "decorating", NULL};
static const char *const relations[] = {"owner", "tenant", "family", NULL};

#define DEFAULT_HOURS                                                                              \
    "{\"mon\":[[\"09:00\",\"20:00\"]],\"tue\":[[\"09:00\",\"20:00\"]],\"wed\":[[\"09:00\","        \
    "\"20:00\"]],\"thu\":[[\"09:00\",\"20:00\"]],\"fri\":[[\"09:00\",\"20:00\"]],\"sat\":[["       \
    "\"09:00\",\"20:00\"]],\"sun\":[[\"09:00\",\"20:00\"]]}"

static const field_t org_fields[] = {
    {"code", FT_TEXT, FF_REQUIRED, 63, NULL, NULL, NULL, NULL},
    {"name", FT_TEXT, FF_REQUIRED | FF_UPDATABLE, 200, NULL, NULL, NULL, NULL},
    {"phone", FT_TEXT, FF_UPDATABLE | FF_NULLABLE, 40, NULL, NULL, NULL, NULL},
    {"address", FT_TEXT, FF_UPDATABLE | FF_NULLABLE, 500, NULL, NULL, NULL, NULL},
};
static const field_t project_fields[] = {
    {"code", FT_TEXT, FF_REQUIRED, 64, NULL, NULL, NULL, NULL},
    {"name", FT_TEXT, FF_REQUIRED | FF_UPDATABLE, 200, NULL, NULL, NULL, NULL},
    {"time_zone", FT_TZ, FF_REQUIRED | FF_UPDATABLE, 64, NULL, NULL, NULL, NULL},
    {"business_hours", FT_HOURS, FF_UPDATABLE, 0, NULL, NULL, NULL, DEFAULT_HOURS},
    {"address", FT_TEXT, FF_UPDATABLE | FF_NULLABLE, 500, NULL, NULL, NULL, NULL},
    {"phone", FT_TEXT, FF_UPDATABLE | FF_NULLABLE, 40, NULL, NULL, NULL, NULL},
    /* RULES §3.6.4, §3.7.3: the custody clocks of this project (NULL: the server's). */
    {"mail_remind_days", FT_INT, FF_UPDATABLE | FF_NULLABLE, 60, NULL, NULL, NULL, NULL},
    {"lost_unclaimed_days", FT_INT, FF_UPDATABLE | FF_NULLABLE, 3650, NULL, NULL, NULL, NULL},
    /* RULES §3.2.9: the departments' survey satisfaction target, per cent (NULL: 90). */
    {"survey_target_percent", FT_INT, FF_UPDATABLE | FF_NULLABLE, 100, NULL, NULL, NULL, NULL},
};
static const field_t building_fields[] = {
    {"project_id", FT_UUID, FF_REQUIRED | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"code", FT_TEXT, FF_REQUIRED, 64, NULL, NULL, NULL, NULL},
    {"name", FT_TEXT, FF_REQUIRED | FF_UPDATABLE, 200, NULL, NULL, NULL, NULL},
    {"floors", FT_INT, FF_UPDATABLE | FF_NULLABLE, 300, NULL, NULL, NULL, NULL},
};
static const field_t unit_fields[] = {
    {"project_id", FT_UUID, FF_REQUIRED | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"building_id", FT_UUID, FF_REQUIRED | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"code", FT_TEXT, FF_REQUIRED, 64, NULL, NULL, NULL, NULL},
    {"floor", FT_INT, FF_UPDATABLE | FF_NULLABLE, 300, NULL, NULL, NULL, NULL},
    {"area_m2", FT_NUM, FF_UPDATABLE | FF_NULLABLE, 0, NULL, NULL, NULL, NULL},
    {"status", FT_ENUM, FF_UPDATABLE | FF_FILTER, 0, unit_status, NULL, NULL, "occupied"},
};
static const field_t dept_fields[] = {
    {"project_id", FT_UUID, FF_FILTER | FF_NULLABLE, 0, NULL, NULL, NULL, NULL},
    {"kind", FT_ENUM, FF_REQUIRED | FF_FILTER, 0, core_dept_kind_names, NULL, NULL, NULL},
    {"name", FT_TEXT, FF_REQUIRED | FF_UPDATABLE, 200, NULL, NULL, NULL, NULL},
    {"phone", FT_TEXT, FF_UPDATABLE | FF_NULLABLE, 40, NULL, NULL, NULL, NULL},
};
/* Responsibility zones (责任区, 0022): a common area with its department and person. */
static const field_t zone_fields[] = {
    {"project_id", FT_UUID, FF_REQUIRED | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"name", FT_TEXT, FF_REQUIRED | FF_UPDATABLE, 200, NULL, NULL, NULL, NULL},
    {"department_id", FT_UUID, FF_REQUIRED | FF_UPDATABLE | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"responsible_user_id", FT_UUID, FF_UPDATABLE | FF_NULLABLE, 0, NULL, NULL, NULL, NULL},
};
static const field_t resident_fields[] = {
    {"project_id", FT_UUID, FF_REQUIRED | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"name", FT_TEXT, FF_REQUIRED | FF_UPDATABLE, 200, NULL, NULL, NULL, NULL},
    {"phone", FT_TEXT, FF_UPDATABLE | FF_NULLABLE | FF_PII, 40, NULL, NULL, NULL, NULL},
    {"id_number", FT_SECRET, FF_UPDATABLE | FF_NULLABLE, 64, NULL, NULL, "id_number_hash", NULL},
    {"units", FT_OBJ_SET, FF_UPDATABLE | FF_VIRTUAL, 0, NULL,
     "coalesce((SELECT json_agg(json_build_object('unit_id', ru.unit_id, 'relation', ru.relation, "
     "'is_adult', ru.is_adult) ORDER BY ru.unit_id) FROM resident_units ru WHERE ru.resident_id = "
     "t.id), '[]')",
     NULL, NULL},
};
static const field_t user_fields[] = {
    {"username", FT_TEXT, FF_REQUIRED, 64, NULL, NULL, NULL, NULL},
    {"display_name", FT_TEXT, FF_REQUIRED | FF_UPDATABLE, 200, NULL, NULL, NULL, NULL},
    {"role", FT_ENUM, FF_REQUIRED | FF_UPDATABLE | FF_FILTER, 0, core_role_names, NULL, NULL, NULL},
    {"department_id", FT_UUID, FF_UPDATABLE | FF_NULLABLE | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"resident_id", FT_UUID, FF_NULLABLE, 0, NULL, NULL, NULL, NULL},
    {"phone", FT_TEXT, FF_UPDATABLE | FF_NULLABLE | FF_PII, 40, NULL, NULL, NULL, NULL},
    {"password", FT_SECRET, FF_REQUIRED | FF_UPDATABLE, 256, NULL, NULL, "password_hash", NULL},
    {"active", FT_BOOL, FF_UPDATABLE, 0, NULL, NULL, NULL, "true"},
    {"project_ids", FT_UUID_SET, FF_UPDATABLE | FF_VIRTUAL, 0, NULL,
     "coalesce((SELECT json_agg(up.project_id ORDER BY up.project_id) FROM user_projects up "
     "WHERE up.user_id = t.id), '[]')",
     NULL, NULL},
};

static int user_hook(req_t *r, db_conn_t *c, const char *id);
static int project_hook(req_t *r, db_conn_t *c, const char *id);
static int resident_hook(req_t *r, db_conn_t *c, const char *id);

#define NF(a) (int)(sizeof a / sizeof a[0])
#define RES(p, sing, f, proj, extra, orgt)                                                         \
    {                                                                                              \
        .path = p, .table = p, .singular = sing, .fields = f, .nfields = NF(f),                    \
        .project_expr = proj, .extra_json = extra, .org_table = orgt                               \
    }
static api_resource_t resources[] = {
    {RES("organisations", "organisation", org_fields, NULL, NULL, 1), AZ_ORG_READ, AZ_ORG_UPDATE, 0,
     NULL},
    {RES("projects", "project", project_fields, "t.id", NULL, 0), AZ_PROJECT_READ, AZ_PROJECT_WRITE,
     1, project_hook},
    {RES("buildings", "building", building_fields, "t.project_id", NULL, 0), AZ_PLACE_READ,
     AZ_PLACE_WRITE, 1, NULL},
    {RES("units", "unit", unit_fields, "t.project_id", NULL, 0), AZ_PLACE_READ, AZ_PLACE_WRITE, 1,
     NULL},
    {RES("departments", "department", dept_fields, "t.project_id", NULL, 0), AZ_DEPT_READ,
     AZ_DEPT_WRITE, 1, NULL},
    {RES("zones", "zone", zone_fields, "t.project_id", NULL, 0), AZ_PLACE_READ, AZ_PLACE_WRITE, 1,
     NULL},
    {RES("residents", "resident", resident_fields, "t.project_id",
         "'has_id_number', t.id_number_hash IS NOT NULL", 0),
     AZ_RESIDENT_READ, AZ_RESIDENT_WRITE, 1, resident_hook},
    {RES("users", "user", user_fields, NULL,
         "'failed_logins', t.failed_logins, 'locked_until', rfc3339(t.locked_until)", 0),
     AZ_USER_READ, AZ_USER_WRITE, 1, user_hook},
};

/* ---------------------------------------------------------------- validation */

/* Enum fields list their strings in NULL-terminated tables (roles and department kinds
 * are core's own). */
static int enum_ok(const char *const *e, const char *s)
{
    return core_strtab_index(e, -1, s) >= 0;
}

/* A password (hashed with PBKDF2) or an ID number (pii_hash).  1 with *out malloc'd for
 * the caller to free, or sends the answer and -1. */
static int secret_value(req_t *r, const field_t *f, const cJSON *v, char **out)
{
    char *h = malloc(200);
    if (!h) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return -1;
    }
    if (!strcmp(f->name, "password")) {
        if (strlen(v->valuestring) < 8) {
            free(h);
            http_invalid(r, NULL, f->name, "weak_password", "too_short",
                         "'password' must be at least 8 characters");
            return -1;
        }
        auth_password_hash(v->valuestring, g_config.pbkdf2_iter, h, 200);
    } else if (pii_hash(v->valuestring, h) != 0) {
        free(h);
        http_problem(r, 503, "pii_key_missing",
                     "this server has no DESK_PII_KEY to protect ID numbers with");
        return -1;
    }
    *out = h;
    return 1; /* caller frees */
}

/* FT_TEXT, FT_TZ, FT_SECRET: a bounded non-empty string; a zone the database knows; a
 * hashed secret. */
static int text_value(req_t *r, db_conn_t *c, const field_t *f, const cJSON *v, char **out)
{
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > (size_t)f->maxlen) {
        http_invalid(r, NULL, f->name, "invalid_field", http_str_err(v, (size_t)f->maxlen),
                     "'%s' must be a non-empty string of at most %d bytes", f->name, f->maxlen);
        return -1;
    }
    if (f->type == FT_TZ) {
        int ok = db_org_tz_exists(c, v->valuestring);
        if (ok != 1) {
            http_invalid(r, NULL, f->name, "invalid_field", "invalid_enum",
                         "'%s' must be an IANA time zone name such as Asia/Shanghai", f->name);
            return -1;
        }
    }
    if (f->type == FT_SECRET)
        return secret_value(r, f, v, out);
    *out = v->valuestring;
    return 0;
}

/* FT_INT (whole, -1000..maxlen) and FT_NUM (positive, two decimals): 1 with *out malloc'd. */
static int number_value(req_t *r, const field_t *f, const cJSON *v, char **out)
{
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) ||
        (f->type == FT_INT && (d != (double)(long)d || d < -1000 || d > f->maxlen)) ||
        (f->type == FT_NUM && (d <= 0 || d > 1e8))) {
        http_invalid(r, NULL, f->name, "invalid_field",
                     !cJSON_IsNumber(v) ? "invalid_type" : "out_of_range", "'%s' must be %s",
                     f->name, f->type == FT_INT ? "a whole number in range" : "a positive number");
        return -1;
    }
    char *s = malloc(32);
    if (!s) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return -1;
    }
    snprintf(s, 32, f->type == FT_INT ? "%.0f" : "%.2f", d);
    *out = s;
    return 1;
}

/* FT_HOURS: weekly opening hours in the SLA calendar's format: 1 with *out malloc'd. */
static int hours_value(req_t *r, const field_t *f, const cJSON *v, char **out)
{
    char err[256];
    day_hours_t week[7]; /* the SLA calendar's own parser: one definition of the format */
    if (core_sla_weekly_parse(v, week, err, sizeof err) != 0) {
        http_invalid(r, NULL, f->name, "invalid_field", "invalid_format", "'%s': %s", f->name, err);
        return -1;
    }
    if (!(*out = cJSON_PrintUnformatted(v))) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return -1;
    }
    return 1;
}

/* FT_UUID_SET: an array of at most MAX_CLAIM_IDS UUIDs (stored by the resource's hook). */
static int uuid_set_ok(req_t *r, const field_t *f, const cJSON *v)
{
    const cJSON *it;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_CLAIM_IDS) {
        http_invalid(r, NULL, f->name, "invalid_field",
                     cJSON_IsArray(v) ? "too_long" : "invalid_type",
                     "'%s' must be an array of UUIDs", f->name);
        return -1;
    }
    cJSON_ArrayForEach(it, v) if (!cJSON_IsString(it) || !http_is_uuid(it->valuestring))
    {
        http_invalid(r, it, NULL, "invalid_field",
                     cJSON_IsString(it) ? "invalid_format" : "invalid_type",
                     "'%s' must be an array of UUIDs", f->name);
        return -1;
    }
    return 0;
}

/* FT_OBJ_SET: the resident's units, [{unit_id, relation, is_adult}] (stored by the hook). */
static int obj_set_ok(req_t *r, const field_t *f, const cJSON *v)
{
    const cJSON *it;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 100) {
        http_invalid(r, NULL, f->name, "invalid_field",
                     cJSON_IsArray(v) ? "too_long" : "invalid_type",
                     "'%s' must be an array of objects", f->name);
        return -1;
    }
    cJSON_ArrayForEach(it, v)
    {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(it, "unit_id");
        const cJSON *rel = cJSON_GetObjectItemCaseSensitive(it, "relation");
        const cJSON *ad = cJSON_GetObjectItemCaseSensitive(it, "is_adult");
        if (!cJSON_IsObject(it) || !cJSON_IsString(u) || !http_is_uuid(u->valuestring) ||
            !cJSON_IsString(rel) || !enum_ok(relations, rel->valuestring) ||
            (ad && !cJSON_IsBool(ad))) {
            http_invalid(r, it, NULL, "invalid_field", "invalid_format",
                         "each of '%s' must be {\"unit_id\": UUID, \"relation\": "
                         "owner|tenant|family, \"is_adult\": bool}",
                         f->name);
            return -1;
        }
    }
    return 0;
}

/* Turns one JSON value into its text parameter.  Returns 0, or sends 422 and -1.
 * *out points into r-owned or static memory; `store` receives allocations to free. */
static int field_value(req_t *r, db_conn_t *c, const field_t *f, const cJSON *v, char **out)
{
    char err[256];
    *out = NULL;
    if (cJSON_IsNull(v)) {
        if (f->flags & FF_NULLABLE)
            return 0;
        http_invalid(r, NULL, f->name, "invalid_field", "invalid_type", "'%s' may not be null",
                     f->name);
        return -1;
    }
    switch (f->type) {
    case FT_TEXT:
    case FT_TZ:
    case FT_SECRET:
        return text_value(r, c, f, v, out);
    case FT_ENUM:
        if (!cJSON_IsString(v) || !enum_ok(f->enums, v->valuestring)) {
            core_strtab_join(f->enums, -1, err, sizeof err);
            http_invalid(r, NULL, f->name, "invalid_enum",
                         cJSON_IsString(v) ? "invalid_enum" : "invalid_type",
                         "'%s' must be one of: %s", f->name, err);
            return -1;
        }
        *out = v->valuestring;
        return 0;
    case FT_UUID:
        if (!cJSON_IsString(v) || !http_is_uuid(v->valuestring)) {
            http_invalid(r, NULL, f->name, "invalid_field",
                         cJSON_IsString(v) ? "invalid_format" : "invalid_type",
                         "'%s' must be a UUID string", f->name);
            return -1;
        }
        *out = v->valuestring;
        return 0;
    case FT_BOOL:
        if (!cJSON_IsBool(v)) {
            http_invalid(r, NULL, f->name, "invalid_field", "invalid_type",
                         "'%s' must be true or false", f->name);
            return -1;
        }
        *out = cJSON_IsTrue(v) ? "true" : "false";
        return 0;
    case FT_INT:
    case FT_NUM:
        return number_value(r, f, v, out);
    case FT_HOURS:
        return hours_value(r, f, v, out);
    case FT_UUID_SET:
        return uuid_set_ok(r, f, v);
    case FT_OBJ_SET:
        return obj_set_ok(r, f, v);
    }
    return -1;
}

/* Rejects body members the resource does not know (id, version... are read-only). */
static int unknown_fields(req_t *r, const resource_t *res, int creating)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, r->json)
    {
        const field_t *f = NULL;
        for (int i = 0; i < res->nfields && !f; i++)
            if (!strcmp(res->fields[i].name, m->string))
                f = &res->fields[i];
        if (!f) {
            http_invalid(r, NULL, m->string, "unknown_field", "unknown_field",
                         "'%s' is not a writable field of a %s", m->string, res->singular);
            return -1;
        }
        if (!creating && !(f->flags & FF_UPDATABLE)) {
            http_invalid(r, NULL, m->string, "immutable_field", "immutable",
                         "'%s' cannot be changed after creation", m->string);
            return -1;
        }
    }
    return 0;
}

static void uuid_array_literal(const cJSON *arr, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "{");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (o + 40 >= len)
            break;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o > 1 ? "," : "", it->valuestring);
    }
    snprintf(buf + o, len - o, "}");
}

static int user_hook(req_t *r, db_conn_t *c, const char *id)
{
    /* A new password or a deactivation ends every session the user had. */
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(r->json, "password");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(r->json, "active");
    int updating = !strcmp(r->method, "PATCH");
    /* RULES §3.5.8: a leaver returns everything borrowed first. */
    if (updating && cJSON_IsFalse(act) && api_custody_user_has_loans(r, c, id) != 0)
        return -1;
    if (updating && (pw || cJSON_IsFalse(act)) &&
        auth_revoke_sessions(c, id, cJSON_IsFalse(act)) != 0) {
        http_problem(r, 503, "database_unavailable", "could not end the user's sessions; retry");
        return -1;
    }
    if (updating && cJSON_IsTrue(act))
        auth_sessions_reactivated(id);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "project_ids");
    if (!v)
        return 0;
    char *lit = malloc(MAX_CLAIM_IDS * 40 + 4);
    if (!lit) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return -1;
    }
    uuid_array_literal(v, lit, MAX_CLAIM_IDS * 40 + 4);
    PGresult *e = db_org_set_user_projects(c, id, r->principal.org_id, lit);
    free(lit);
    if (e) {
        http_db_error(r, e);
        PQclear(e);
        return -1;
    }
    return 0;
}

/* A new project starts with the SPEC §4 policies and its business hours as calendar. */
static int project_hook(req_t *r, db_conn_t *c, const char *id)
{
    (void)id;
    if (sla_ensure_defaults(c) != 0) {
        http_db_fail(r, "the project's default SLA policies could not be created");
        return -1;
    }
    return 0;
}

static int resident_hook(req_t *r, db_conn_t *c, const char *id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "units");
    if (!v)
        return 0;
    char *js = cJSON_PrintUnformatted(v);
    int bad = 0;
    PGresult *e = db_org_set_resident_units(c, id, r->principal.org_id, js, &bad);
    free(js);
    if (e) {
        http_db_error(r, e);
        PQclear(e);
        return -1;
    }
    if (bad) {
        http_invalid(r, NULL, "units", "invalid_field", "not_found",
                     "every unit in 'units' must exist in the resident's project");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- handlers */

/* Loads a row of the route's resource for http_load; arg non-NULL: locked FOR UPDATE. */
static int load_crud(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    api_resource_t *ar = r->route_data;
    crud_row_t row = {0};
    PGresult *err = NULL;
    int found = db_crud_get(c, &ar->db, id, ar->db.org_table ? id : r->principal.org_id,
                            core_authz_sees_pii(r->principal.role), arg != NULL, &row, &err);
    if (found < 0 && err)
        http_db_error(r, err);
    PQclear(err);
    if (found == 1) {
        f->json = row.json;
        f->version = row.version;
        f->conditional = 1;
        snprintf(f->project_id, sizeof f->project_id, "%s", row.project_id);
        if (ar->db.org_table) /* the organisation row: its id is the org */
            snprintf(f->org_id, sizeof f->org_id, "%s", id);
    }
    return found;
}

static void list_h(req_t *r)
{
    api_resource_t *ar = r->route_data;
    resource_t *res = &ar->db;
    if (http_authorize_role(r, ar->read) != 0)
        return;
    page_t pg;
    if (http_page_params(r, &pg) != 0)
        return;
    /* Filters. */
    const char *filters[16] = {0};
    char fbuf[16][80];
    int k = 0;
    for (int i = 0; i < res->nfields && k < 16; i++) {
        const field_t *f = &res->fields[i];
        if (!(f->flags & FF_FILTER))
            continue;
        if (http_query(r, f->name, fbuf[k], sizeof fbuf[k]) >= 0) {
            if ((f->type == FT_UUID && !http_is_uuid(fbuf[k])) ||
                (f->type == FT_ENUM && !enum_ok(f->enums, fbuf[k]))) {
                http_problem(r, 400, "invalid_query", "filter '%s' has an invalid value", f->name);
                return;
            }
            filters[k] = fbuf[k];
        }
        k++;
    }
    /* Scope: restrict to the caller's projects unless org-wide. */
    const char *proj_arr = res->project_expr ? http_scope_projects(r) : NULL;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *res_rows =
        db_crud_list(c, res, r->principal.org_id, proj_arr, pg.cursor_ts, pg.cursor_id, filters,
                     pg.limit + 1, core_authz_sees_pii(r->principal.role));
    http_send_page(r, res_rows, pg.limit);
    PQclear(res_rows);
}

static az_target_t target_of(req_t *r, const resource_t *res, const char *id, const char *project)
{
    az_target_t t = {r->principal.org_id, project && project[0] ? project : NULL, NULL, NULL, NULL};
    if (res->org_table)
        t.org_id = id; /* the organisation row: its id is the org */
    return t;
}

static void get_h(req_t *r)
{
    api_resource_t *ar = r->route_data;
    http_get_one(r, ar->read, ar->db.singular, load_crud, NULL);
}

/* Collects parameter values for insert/update; returns 0 or -1 (problem sent). */
static int collect(req_t *r, db_conn_t *c, const resource_t *res, int creating, const char **vals,
                   int *set, char **owned, int *nowned)
{
    int k = 0;
    for (int i = 0; i < res->nfields; i++) {
        const field_t *f = &res->fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, f->name);
        if (!v && creating && (f->flags & FF_REQUIRED)) {
            http_invalid(r, NULL, f->name, "missing_field", "required",
                         "'%s' is required to create a %s", f->name, res->singular);
            return -1;
        }
        char *out = NULL;
        if (v) {
            int rc = field_value(r, c, f, v, &out);
            if (rc < 0)
                return -1;
            if (rc == 1)
                owned[(*nowned)++] = out;
        }
        if (f->flags & FF_VIRTUAL)
            continue;
        vals[k] = v ? out : (creating ? f->def : NULL);
        set[k] = v != NULL;
        k++;
    }
    return 0;
}

static void write_h(req_t *r, int creating)
{
    api_resource_t *ar = r->route_data;
    resource_t *res = &ar->db;
    if (http_authorize_role(r, ar->write) != 0)
        return;
    const char *id = NULL;
    if (!creating && !(id = http_uuid_param(r, 0)))
        return;
    if (http_json_body(r) != 0 || unknown_fields(r, res, creating) != 0)
        return;
    int expect = -1;
    if (!creating && http_if_match(r, res->singular, &expect) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    const char *vals[32];
    int set[32];
    char *owned[32];
    int nowned = 0;
    PGresult *res_row = NULL;
    crud_row_t row = {0};
    int pii = core_authz_sees_pii(r->principal.role);
    if (collect(r, c, res, creating, vals, set, owned, &nowned) != 0)
        goto out;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        goto out;
    }
    if (creating) {
        const cJSON *pj = cJSON_GetObjectItemCaseSensitive(r->json, "project_id");
        const char *project = cJSON_IsString(pj) ? pj->valuestring : NULL;
        az_target_t t = target_of(r, res, NULL, project);
        if (http_authorize(r, ar->write, &t) != 0)
            goto out;
        res_row = db_crud_insert(c, res, r->principal.org_id, vals, pii);
    } else {
        static const int lock = 1;
        http_found_t found;
        if (http_load(r, c, ar->write, res->singular, id, load_crud, &lock, &found) != 0)
            goto out;
        row.json = found.json;
        row.version = found.version;
        if (row.version != expect) {
            char hdr[64];
            http_etag(hdr, sizeof hdr, row.version);
            http_problem_hdr(r, 412, hdr, "stale_version",
                             "the %s changed since you read it (now version %d); GET it again "
                             "and retry",
                             res->singular, row.version);
            goto out;
        }
        res_row =
            db_crud_update(c, res, id, res->org_table ? id : r->principal.org_id, set, vals, pii);
    }
    if (!db_ok(res_row)) {
        http_db_error(r, res_row);
        goto out;
    }
    char new_id[40];
    snprintf(new_id, sizeof new_id, "%s", PQgetvalue(res_row, 0, 3));
    if (ar->hook && ar->hook(r, c, new_id) != 0)
        goto out;
    /* Re-read so link-table changes show in the response. */
    free(row.json);
    row.json = NULL;
    PGresult *err;
    if (db_crud_get(c, res, new_id, res->org_table ? new_id : r->principal.org_id, pii, 0, &row,
                    &err) != 1) {
        if (err) {
            http_db_error(r, err);
            PQclear(err);
        } else {
            http_db_fail(r, NULL);
        }
        goto out;
    }
    if (db_commit(c) != 0) {
        http_db_fail(r, "the change was not saved");
        goto out;
    }
    char hdr[256];
    http_etag(hdr, sizeof hdr, row.version);
    if (creating)
        snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "Location: /v1/%s/%s\r\n", res->path,
                 new_id);
    http_send_json(r, creating ? 201 : 200, row.json, hdr);
out:
    if (c)
        db_rollback(c);
    PQclear(res_row);
    free(row.json);
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
}

static void create_h(req_t *r)
{
    write_h(r, 1);
}

static void update_h(req_t *r)
{
    write_h(r, 0);
}

void api_org_register(void)
{
    for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
        api_resource_t *ar = &resources[i];
        db_crud_prepare(&ar->db);
        char coll[64], item[80];
        snprintf(coll, sizeof coll, "/v1/%s", ar->db.path);
        snprintf(item, sizeof item, "/v1/%s/{id}", ar->db.path);
        http_route("GET", coll, list_h, 0, ar);
        if (ar->creatable)
            http_route("POST", coll, create_h, 0, ar);
        http_route("GET", item, get_h, 0, ar);
        http_route("PATCH", item, update_h, 0, ar);
    }
}
