/*
 * api/request.c — service requests over HTTP: intake from every channel, reads, lists
 * with filters and free-text search, field edits, workflow actions judged by
 * core/request, and the timeline.  Each state change and its timeline event commit in
 * one transaction; a creation is a single statement.
 */
#include "api/request.h"
#include "api/codec.h"
#include "api/sla_engine.h"
#include "db/org.h"
#include "db/sla.h"
#include "db/log.h"
#include "core/request.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- validation */

static int err_set(api_err_t *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static int err_set(api_err_t *e, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->status = status;
    e->code = code;
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    return -1;
}

/* Same, naming the field: member `name` of object `at`, entry code `err`. */
static int err_at(api_err_t *e, const cJSON *at, const char *name, const char *err,
                  const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int err_at(api_err_t *e, const cJSON *at, const char *name, const char *err,
                  const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->status = 422;
    e->code = code;
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    e->at = at;
    e->name = name;
    e->err = err;
    return -1;
}

void api_err_send(req_t *r, const api_err_t *e)
{
    if (e->status == 422 && e->err)
        http_invalid(r, e->at, e->name, e->code, e->err, "%s", e->detail);
    else
        http_problem(r, e->status, e->code, "%s", e->detail);
}

cJSON *api_err_entry(req_t *r, const api_err_t *e)
{
    char ptr[512];
    http_json_pointer(r->json, e->at, e->name, ptr, sizeof ptr);
    if (!e->err)
        ptr[0] = 0;
    return http_error_entry(ptr, e->err ? e->err : e->code, e->detail);
}

static void send_err(req_t *r, const api_err_t *e)
{
    api_err_send(r, e);
}

/* Optional string member: 0 absent/null (out NULL), 1 present, -1 error. */
static int opt_str(const cJSON *o, const char *name, size_t maxlen, const char **out, api_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > maxlen)
        return err_at(e, o, name, http_str_err(v, maxlen), "invalid_field",
                      "'%s' must be a non-empty string of at most %zu bytes", name, maxlen);
    *out = v->valuestring;
    return 1;
}

static int req_str(const cJSON *o, const char *name, size_t maxlen, const char **out, api_err_t *e)
{
    int rc = opt_str(o, name, maxlen, out, e);
    if (rc == 0)
        return err_at(e, o, name, "required", "missing_field", "'%s' is required", name);
    return rc;
}

static int opt_uuid(const cJSON *o, const char *name, const char **out, api_err_t *e)
{
    int rc = opt_str(o, name, 36, out, e);
    if (rc == 1 && !http_is_uuid(*out))
        return err_at(e, o, name, "invalid_format", "invalid_field", "'%s' must be a UUID", name);
    if (rc < 0)
        return err_at(e, o, name, e->err, "invalid_field", "'%s' must be a UUID", name);
    return rc;
}

/* Optional enum: fills *out with the canonical name. */
static int opt_enum(const cJSON *o, const char *name, int (*from)(const char *),
                    const char *allowed, const char **out, api_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || from(v->valuestring) < 0)
        return err_at(e, o, name, cJSON_IsString(v) ? "invalid_enum" : "invalid_type",
                      "invalid_enum", "'%s' must be one of: %s", name, allowed);
    *out = v->valuestring;
    return 1;
}

static int opt_time(const cJSON *o, const char *name, int64_t *out, api_err_t *e)
{
    const char *s;
    int rc = opt_str(o, name, 64, &s, e);
    if (rc <= 0)
        return rc < 0
                   ? err_at(e, o, name, e->err, "invalid_field",
                            "'%s' must be an RFC 3339 time such as 2026-11-23T09:30:00+08:00", name)
                   : 0;
    if (rfc3339_parse(s, out) != 0)
        return err_at(e, o, name, "invalid_format", "invalid_field",
                      "'%s' must be an RFC 3339 time such as 2026-11-23T09:30:00+08:00", name);
    return 1;
}

static int only_known(const cJSON *o, const char *const *known, const char *what, api_err_t *e)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, o)
    {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = !strcmp(*k, m->string);
        if (!ok)
            return err_at(e, o, m->string, "unknown_field", "unknown_field",
                          "'%s' is not a field of %s", m->string, what);
    }
    return 0;
}

#define TYPES "complaint, repair, inquiry, suggestion, praise, emergency"
#define CHANNELS                                                                                   \
    "phone, visit, letter, fax, app, web, email, night_desk, patrol, integration, survey, other"
#define SEVERITIES "major, important, general"
#define CATEGORIES "attitude, timeliness, quality, service_range, developer_legacy, fees, other"
#define DEPT_KINDS                                                                                 \
    "customer_service, engineering, security, cleaning, greenery, finance, supplier, other"
#define PENDING_REASONS "customer, appointment, parts, developer, other"

static int validity_from(const char *s)
{
    return !strcmp(s, "unknown") || !strcmp(s, "valid") || !strcmp(s, "invalid") ? 0 : -1;
}

static int bool_from(const char *s)
{
    return !strcmp(s, "true") || !strcmp(s, "false") ? 0 : -1;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---------------------------------------------------------------- scope */

az_target_t api_request_target(req_t *r, const request_scope_t *sc)
{
    az_target_t t = {r->principal.org_id, sc->project_id[0] ? sc->project_id : NULL,
                     sc->unit_id[0] ? sc->unit_id : NULL,
                     sc->department_id[0] ? sc->department_id : NULL,
                     sc->reporter_user_id[0] ? sc->reporter_user_id : NULL};
    return t;
}

int api_request_authorize(req_t *r, db_conn_t *c, const char *id, az_action_t action,
                          request_scope_t *sc)
{
    if (http_authorize_role(r, action) != 0)
        return -1;
    int f = db_request_get(c, id, r->principal.org_id, 0, NULL, sc);
    if (f < 0) {
        http_db_fail(r, NULL);
        return -1;
    }
    if (f == 0) {
        http_problem(r, 404, "not_found", "no request with this id in your scope");
        return -1;
    }
    az_target_t t = api_request_target(r, sc);
    return http_authorize(r, action, &t);
}

/* ---------------------------------------------------------------- create */

/* A unit never changes project or organisation (neither is updatable), so the mapping
 * is cached for the life of the process: intake saves a round trip per request. */
#define UNIT_CACHE 4096
static struct {
    char unit[37], org[37], project[37];
} unit_cache[UNIT_CACHE];
static pthread_mutex_t unit_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned unit_slot(const char *unit)
{
    unsigned h = 2166136261u;
    for (const char *s = unit; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % UNIT_CACHE;
}

static int unit_project_cached(db_conn_t *c, const char *unit, const char *org, char project[40])
{
    unsigned k = unit_slot(unit);
    pthread_mutex_lock(&unit_mu);
    int hit = !strcmp(unit_cache[k].unit, unit) && !strcmp(unit_cache[k].org, org);
    if (hit)
        memcpy(project, unit_cache[k].project, 37);
    pthread_mutex_unlock(&unit_mu);
    if (hit)
        return 1;
    int f = db_unit_project(c, unit, org, project);
    if (f == 1 && strlen(project) == 36) {
        pthread_mutex_lock(&unit_mu);
        memcpy(unit_cache[k].unit, unit, 37);
        memcpy(unit_cache[k].org, org, 37);
        memcpy(unit_cache[k].project, project, 37);
        pthread_mutex_unlock(&unit_mu);
    }
    return f;
}

/* Checks the ids a create names against the caller's organisation and the request's
 * project: project (when not already proven by a unit), the reporting resident and the
 * department (one of the project or organisation-wide).  0, or -1 with e set. */
static int ids_in_scope(db_conn_t *c, const principal_t *p, const char *project_id,
                        const char *check_project, const char *resident_id,
                        const char *department_id, api_err_t *e)
{
    if (check_project) {
        int f = db_org_project_exists(c, p->org_id, check_project);
        if (f < 0)
            return err_set(e, 503, "database_unavailable", "retry shortly"), -1;
        if (f == 0)
            return err_set(e, 404, "not_found", "no such project in your scope"), -1;
    }
    char owner[40] = "";
    if (resident_id) {
        int f = db_resident_project(c, resident_id, p->org_id, owner);
        if (f < 0)
            return err_set(e, 503, "database_unavailable", "retry shortly"), -1;
        if (f == 0 || strcmp(owner, project_id) != 0)
            return err_set(e, 422, "invalid_field",
                           "'reporter.resident_id' is not a resident of the request's project"),
                   -1;
    }
    if (department_id) {
        int f = db_department_project(c, department_id, p->org_id, owner);
        if (f < 0)
            return err_set(e, 503, "database_unavailable", "retry shortly"), -1;
        if (f == 0 || (owner[0] && strcmp(owner, project_id) != 0))
            return err_set(e, 422, "invalid_field",
                           "'department_id' is not a department of the request's project"),
                   -1;
    }
    return 0;
}

static const char *const create_fields[] = {"project_id",
                                            "type",
                                            "channel",
                                            "severity",
                                            "category",
                                            "validity",
                                            "location",
                                            "reporter",
                                            "title",
                                            "description",
                                            "customer_deadline",
                                            "department_id",
                                            "reporting_department_kind",
                                            "external_ref",
                                            "occurred_at",
                                            "night_desk",
                                            NULL};

int api_request_create_one(req_t *r, db_conn_t *c, const cJSON *body, char **json, api_err_t *e)
{
    const principal_t *p = &r->principal;
    request_new_t n;
    memset(&n, 0, sizeof n);
    *json = NULL;
    if (!cJSON_IsObject(body))
        return err_at(e, body, NULL, "invalid_type", "invalid_body",
                      "each request must be a JSON object"),
               e->status;
    if (only_known(body, create_fields, "a request", e) < 0)
        return e->status;
    const char *type, *channel, *severity, *category, *validity, *dept_kind;
    if (opt_enum(body, "type", core_request_type_from_string, TYPES, &type, e) < 0)
        return e->status;
    if (!type)
        return err_at(e, body, "type", "required", "missing_field", "'type' is required (%s)",
                      TYPES),
               e->status;
    if (opt_enum(body, "channel", core_request_channel_from_string, CHANNELS, &channel, e) < 0 ||
        opt_enum(body, "severity", core_request_severity_from_string, SEVERITIES, &severity, e) <
            0 ||
        opt_enum(body, "category", core_request_category_from_string, CATEGORIES, &category, e) <
            0 ||
        opt_enum(body, "validity", validity_from, "unknown, valid, invalid", &validity, e) < 0 ||
        opt_enum(body, "reporting_department_kind", core_dept_kind_from_string, DEPT_KINDS,
                 &dept_kind, e) < 0)
        return e->status;
    if (!channel) {
        if (p->role == ROLE_RESIDENT)
            channel = "app";
        else if (p->role == ROLE_INTEGRATION)
            channel = "integration";
        else
            return err_at(e, body, "channel", "required", "missing_field",
                          "'channel' is required (%s)", CHANNELS),
                   e->status;
    }
    int is_complaint = !strcmp(type, "complaint");
    if (!is_complaint && severity)
        return err_at(e, body, "severity", "not_applicable", "invalid_field",
                      "'severity' applies to complaints only"),
               e->status;
    if (is_complaint && !severity)
        severity = "general";
    if (validity && !is_complaint)
        return err_at(e, body, "validity", "not_applicable", "invalid_field",
                      "'validity' applies to complaints only"),
               e->status;
    const char *description, *title, *project_id, *department_id;
    if (req_str(body, "description", 10000, &description, e) < 0 ||
        opt_str(body, "title", 200, &title, e) < 0 ||
        opt_uuid(body, "project_id", &project_id, e) < 0 ||
        opt_uuid(body, "department_id", &department_id, e) < 0)
        return e->status;
    int64_t deadline = 0, occurred = 0;
    if (opt_time(body, "customer_deadline", &deadline, e) < 0 ||
        opt_time(body, "occurred_at", &occurred, e) < 0)
        return e->status;
    const cJSON *nd = cJSON_GetObjectItemCaseSensitive(body, "night_desk");
    if (nd && !cJSON_IsBool(nd))
        return err_at(e, body, "night_desk", "invalid_type", "invalid_field",
                      "'night_desk' must be true or false"),
               e->status;
    int night = !strcmp(channel, "night_desk") || cJSON_IsTrue(nd);

    /* Location. */
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(body, "location");
    const char *unit_id = NULL, *area = NULL;
    static const char *const loc_fields[] = {"unit_id", "common_area", NULL};
    if (!cJSON_IsObject(loc))
        return err_at(e, body, "location", loc ? "invalid_type" : "required", "missing_field",
                      "'location' is required: {\"unit_id\": UUID} or {\"common_area\": text}"),
               e->status;
    if (only_known(loc, loc_fields, "location", e) < 0 ||
        opt_uuid(loc, "unit_id", &unit_id, e) < 0 || opt_str(loc, "common_area", 200, &area, e) < 0)
        return e->status;
    if ((unit_id != NULL) == (area != NULL))
        return err_at(e, body, "location", "invalid_format", "invalid_field",
                      "'location' needs exactly one of unit_id or common_area"),
               e->status;
    char unit_project[40] = "";
    if (unit_id) {
        int f = unit_project_cached(c, unit_id, p->org_id, unit_project);
        if (f < 0)
            return err_set(e, 503, "database_unavailable", "retry shortly"), e->status;
        if (f == 0)
            return err_at(e, loc, "unit_id", "not_found", "invalid_field",
                          "'location.unit_id' is not a unit of yours"),
                   e->status;
        if (project_id && strcmp(project_id, unit_project) != 0)
            return err_at(e, body, "project_id", "invalid_value", "invalid_field",
                          "'project_id' does not match the project of 'location.unit_id'"),
                   e->status;
        project_id = unit_project;
    }
    if (!project_id)
        return err_at(e, body, "project_id", "required", "missing_field",
                      "'project_id' is required for a common area"),
               e->status;

    /* Reporter. */
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(body, "reporter");
    const char *rep_res = NULL, *rep_name = NULL, *rep_phone = NULL;
    static const char *const rep_fields[] = {"resident_id", "name", "phone", NULL};
    if (rep && !cJSON_IsNull(rep)) {
        if (!cJSON_IsObject(rep))
            return err_at(e, body, "reporter", "invalid_type", "invalid_field",
                          "'reporter' must be an object"),
                   e->status;
        if (only_known(rep, rep_fields, "reporter", e) < 0 ||
            opt_uuid(rep, "resident_id", &rep_res, e) < 0 ||
            opt_str(rep, "name", 100, &rep_name, e) < 0 ||
            opt_str(rep, "phone", 40, &rep_phone, e) < 0)
            return e->status;
    }
    char own_res[40] = "";
    if (p->role == ROLE_RESIDENT) {
        /* Residents report for their own units (or a common area of their project), as
         * themselves, now. */
        if (rep_res || rep_name || rep_phone || occurred)
            return err_at(e, body, occurred ? "occurred_at" : "reporter", "not_allowed",
                          "invalid_field",
                          "residents cannot set 'reporter' or 'occurred_at': they report as "
                          "themselves, now"),
                   e->status;
        if (db_user_resident(c, p->user_id, p->org_id, own_res) != 1 || !own_res[0])
            return err_set(e, 403, "forbidden", "this resident account has no resident record"),
                   e->status;
        rep_res = own_res;
    } else if (!rep_res && !rep_name) {
        return err_at(e, body, "reporter", "required", "missing_field",
                      "'reporter' needs resident_id or name (and phone) of the customer"),
               e->status;
    }
    az_target_t t = {p->org_id, project_id, unit_id, NULL,
                     p->role == ROLE_RESIDENT && !unit_id ? p->user_id : NULL};
    az_result_t az = core_authz_check(p, AZ_REQUEST_CREATE, &t);
    if (az == AZ_ALLOW && p->role == ROLE_RESIDENT && !core_authz_in_project(p, project_id))
        az = AZ_NOT_FOUND;
    if (az != AZ_ALLOW)
        return err_set(e, (int)az, az == AZ_FORBIDDEN ? "forbidden" : "not_found",
                       az == AZ_FORBIDDEN ? "your role may not register requests"
                                          : "no such project or unit in your scope"),
               e->status;
    /* Scope before any work: every id in the body must lie in the caller's organisation
     * and in the request's project (a unit's project came from the unit itself). */
    if (ids_in_scope(c, p, project_id, unit_id ? NULL : project_id,
                     rep_res == own_res ? NULL : rep_res, department_id, e) != 0)
        return e->status;

    /* External reference (integrations). */
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(body, "external_ref");
    const char *ext_src = NULL, *ext_id = NULL;
    static const char *const ext_fields[] = {"source", "id", NULL};
    if (ext && !cJSON_IsNull(ext)) {
        if (!cJSON_IsObject(ext) || only_known(ext, ext_fields, "external_ref", e) < 0 ||
            req_str(ext, "source", 64, &ext_src, e) < 0 || req_str(ext, "id", 128, &ext_id, e) < 0)
            return e->status ? e->status
                             : (err_at(e, body, "external_ref", "invalid_type", "invalid_field",
                                       "'external_ref' must be {\"source\": text, \"id\": text}"),
                                422);
    }

    if (ext_src) {
        /* The unique index is the guard against races; this look-up gives the common case
         * (a retried push) a clear answer naming the existing request. */
        char existing[40];
        int f = db_request_find_external(c, p->org_id, ext_src, ext_id, existing);
        if (f < 0)
            return err_set(e, 503, "database_unavailable", "retry shortly"), e->status;
        if (f == 1)
            return err_set(e, 409, "duplicate_external_ref",
                           "a request with external_ref %s/%s already exists: %s", ext_src, ext_id,
                           existing),
                   e->status;
    }
    int64_t now = now_s();
    if (occurred) {
        const char *code, *reason;
        if (core_request_check_occurred_at(occurred, 0, now, &code, &reason) != 0)
            return err_at(e, body, "occurred_at", "out_of_range", code, "'occurred_at': %s",
                          reason),
                   e->status;
        if (occurred > now)
            occurred = now; /* within the tolerated skew: never store a future time */
    } else {
        occurred = now;
    }
    char occ[32], dl[32];
    rfc3339_format(occurred, occ);
    if (deadline)
        rfc3339_format(deadline, dl);
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "channel", channel);
    if (night)
        cJSON_AddBoolToObject(details, "night_desk", 1);
    if (occurred != now)
        cJSON_AddBoolToObject(details, "paper_record", 1);
    if (ext_src) {
        cJSON_AddStringToObject(details, "external_source", ext_src);
        cJSON_AddStringToObject(details, "external_id", ext_id);
    }
    char *dj = cJSON_PrintUnformatted(details);
    cJSON_Delete(details);

    request_type_t tv = (request_type_t)core_request_type_from_string(type);
    n.org = p->org_id;
    n.project = project_id;
    n.prefix = core_request_number_prefix(tv);
    n.occurred_at = occ;
    n.type = type;
    n.channel = channel;
    n.severity = severity;
    n.category = category;
    n.location_kind = unit_id ? "unit" : "common_area";
    n.unit_id = unit_id;
    n.common_area = area;
    n.reporter_resident_id = rep_res;
    n.reporter_user_id = p->role == ROLE_RESIDENT ? p->user_id : NULL;
    n.reporter_name = rep_name;
    n.reporter_phone = rep_phone;
    n.title = title;
    n.description = description;
    n.customer_deadline = deadline ? dl : NULL;
    n.department_id = department_id;
    n.reporting_dept_kind = dept_kind;
    n.external_source = ext_src;
    n.external_id = ext_id;
    n.night_desk = night ? "true" : "false";
    n.actor_id = p->user_id;
    n.actor_role = core_role_name(p->role);
    n.details = dj;
    n.validity = validity;
    n.pii = core_authz_sees_pii(p->role);
    /* The clocks start with the request: computed now, stored with it. */
    sla_dues_t dues;
    int valid = validity && !strcmp(validity, "valid")     ? REQ_VALIDITY_VALID
                : validity && !strcmp(validity, "invalid") ? REQ_VALIDITY_INVALID
                                                           : REQ_VALIDITY_UNKNOWN;
    if (sla_for_new_request(c, p->org_id, project_id, type, severity, category, night,
                            core_request_needs_callback(tv, valid), deadline, n.actor_role,
                            occurred, now, &dues) != 0) {
        free(dj);
        return err_set(e, 503, "sla_unavailable",
                       "the project's SLA policy could not be evaluated; retry or ask an "
                       "administrator to check it"),
               e->status;
    }
    n.sla[0] = dues.policy_version[0] ? dues.policy_version : NULL;
    n.sla[1] = dues.calendar_version[0] ? dues.calendar_version : NULL;
    for (int t = 0; t < SLA_T__COUNT; t++)
        n.sla[2 + t] = dues.due[t][0] ? dues.due[t] : NULL;
    n.sla[9] = dues.next_due[0] ? dues.next_due : NULL;
    n.sla[10] = dues.next_check[0] ? dues.next_check : NULL;
    PGresult *res = db_request_create(c, &n);
    free(dj);
    int status;
    if (!db_ok(res)) {
        const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        if (cons && !strcmp(cons, "requests_external")) {
            char existing[40] = "";
            db_request_find_external(c, p->org_id, ext_src, ext_id, existing);
            err_set(e, 409, "duplicate_external_ref",
                    "a request with external_ref %s/%s already exists: %s", ext_src, ext_id,
                    existing);
        } else {
            int st = db_error_status(res, NULL);
            const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
            err_set(e, st,
                    st == 503   ? "database_unavailable"
                    : st == 500 ? "internal"
                                : "constraint_violation",
                    "%s (%s)", msg ? msg : "the request could not be stored",
                    cons ? cons : "check referenced ids belong to your organisation");
        }
        status = e->status;
    } else if (PQntuples(res) == 0) {
        err_set(e, 404, "not_found", "no such project in your scope");
        status = 404;
    } else if (!(*json = strdup(PQgetvalue(res, 0, 0)))) {
        err_set(e, 503, "overloaded", "out of memory; retry");
        status = 503;
    } else {
        status = 201;
    }
    PQclear(res);
    return status;
}

const char *api_request_gm_now(const cJSON *req)
{
    const cJSON *id = cJSON_GetObjectItem(req, "id"), *sev = cJSON_GetObjectItem(req, "severity");
    const cJSON *esc = cJSON_GetObjectItem(req, "escalation_level");
    return cJSON_IsString(id) && cJSON_IsObject(cJSON_GetObjectItem(req, "sla")) &&
                   cJSON_IsString(sev) && !strcmp(sev->valuestring, "major") &&
                   cJSON_IsNumber(esc) && esc->valuedouble < SLA_TOP_LEVEL
               ? id->valuestring
               : NULL;
}

/* After a committed write whose answer is *json (parsed: req): when the request must reach
 * the GM at once (api_request_gm_now), sweep it now rather than at the next background
 * sweep and replace *json and *sc by the request as it then is.  1 when replaced. */
static int gm_now(req_t *r, db_conn_t *c, const cJSON *req, char **json, request_scope_t *sc)
{
    const char *id = api_request_gm_now(req);
    char *fresh = NULL;
    if (!id || sla_sweep_request(c, id, now_s()) != 0 ||
        db_request_get(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role), &fresh,
                       sc) != 1)
        return 0;
    free(*json);
    *json = fresh;
    return 1;
}

static void create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_REQUEST_CREATE) != 0 || http_json_body(r) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    int claimed;
    if (api_idem_start(r, c, &claimed) != 0)
        return;
    char *json = NULL;
    api_err_t e = {0};
    int st = api_request_create_one(r, c, r->json, &json, &e);
    if (st >= 300) {
        if (claimed)
            db_rollback(c); /* a refused request does not use up the key */
        send_err(r, &e);
        return;
    }
    if (claimed && (api_idem_finish(r, c, st, json) != 0 || db_commit(c) != 0)) {
        free(json);
        http_db_fail(r, "the request was not saved");
        return;
    }
    char hdr[160];
    cJSON *j = cJSON_Parse(json);
    const cJSON *id = cJSON_GetObjectItem(j, "id"), *ver = cJSON_GetObjectItem(j, "version");
    int version = cJSON_IsNumber(ver) ? (int)ver->valuedouble : 1;
    request_scope_t sc;
    if (gm_now(r, c, j, &json, &sc)) /* the creation itself is already committed */
        version = sc.version;
    snprintf(hdr, sizeof hdr, "ETag: \"%d\"\r\nLocation: /v1/requests/%s\r\n", version,
             cJSON_IsString(id) ? id->valuestring : "");
    cJSON_Delete(j);
    http_send_json(r, st, json, hdr);
    free(json);
}

/* ---------------------------------------------------------------- read */

static int load_request(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)arg;
    request_scope_t sc;
    int found = db_request_get(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role),
                               &f->json, &sc);
    if (found == 1) {
        snprintf(f->project_id, sizeof f->project_id, "%s", sc.project_id);
        snprintf(f->unit_id, sizeof f->unit_id, "%s", sc.unit_id);
        snprintf(f->dept_id, sizeof f->dept_id, "%s", sc.department_id);
        snprintf(f->owner_user, sizeof f->owner_user, "%s", sc.reporter_user_id);
        f->version = sc.version;
    }
    return found;
}

static void get_h(req_t *r)
{
    http_get_one(r, AZ_REQUEST_READ, "request", load_request, NULL);
}

void api_request_items(req_t *r, api_items_fn fn)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return;
    db_conn_t *c = http_db(r);
    request_scope_t sc;
    if (!c || api_request_authorize(r, c, id, AZ_REQUEST_READ, &sc) != 0)
        return;
    int internal = core_authz_role(r->principal.role, AZ_REQUEST_INTERNAL) == AZ_ALLOW;
    char *arr = fn(c, r->principal.org_id, id, internal);
    if (!arr) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, arr);
    free(arr);
}

static void timeline_h(req_t *r)
{
    api_request_items(r, db_request_timeline);
}

/* ---------------------------------------------------------------- list */

static void list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_REQUEST_READ) != 0)
        return;
    const principal_t *p = &r->principal;
    request_filter_t f;
    memset(&f, 0, sizeof f);
    f.org = p->org_id;
    f.pii = core_authz_sees_pii(p->role);
    f.limit = 50;
    f.projects = http_scope_projects(r);
    if (p->role == ROLE_RESIDENT) {
        f.units = http_scope_units(r);
        f.reporter = p->user_id;
    }
    if (p->role == ROLE_TECHNICIAN)
        f.dept_only = p->dept_id ? p->dept_id : "00000000-0000-0000-0000-000000000000";

    char tq[20][256];
    static const struct {
        const char *name;
        size_t off;
        int kind; /* 0 text, 1 uuid, 2 time, 3 enum fn */
        int (*from)(const char *);
    } qs[] = {
        {"project_id", offsetof(request_filter_t, project_id), 1, NULL},
        {"status", offsetof(request_filter_t, state), 3, core_request_state_from_string},
        {"type", offsetof(request_filter_t, type), 3, core_request_type_from_string},
        {"severity", offsetof(request_filter_t, severity), 3, core_request_severity_from_string},
        {"category", offsetof(request_filter_t, category), 3, core_request_category_from_string},
        {"department_id", offsetof(request_filter_t, department_id), 1, NULL},
        {"assignee_id", offsetof(request_filter_t, assignee_id), 1, NULL},
        {"channel", offsetof(request_filter_t, channel), 3, core_request_channel_from_string},
        {"unit_id", offsetof(request_filter_t, unit_id), 1, NULL},
        {"external_source", offsetof(request_filter_t, external_source), 0, NULL},
        {"created_from", offsetof(request_filter_t, created_from), 2, NULL},
        {"created_to", offsetof(request_filter_t, created_to), 2, NULL},
        {"updated_from", offsetof(request_filter_t, updated_from), 2, NULL},
        {"updated_to", offsetof(request_filter_t, updated_to), 2, NULL},
        {"q", offsetof(request_filter_t, q), 0, NULL},
        {"overdue", offsetof(request_filter_t, overdue), 3, bool_from},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        int n = http_query(r, qs[i].name, tq[i], sizeof tq[i]);
        if (n < 0)
            continue;
        int64_t tv;
        if (n == 0 || (qs[i].kind == 1 && !http_is_uuid(tq[i])) ||
            (qs[i].kind == 2 && rfc3339_parse(tq[i], &tv) != 0) ||
            (qs[i].kind == 3 && qs[i].from(tq[i]) < 0)) {
            http_problem(r, 400, "invalid_query", "query parameter '%s' has an invalid value",
                         qs[i].name);
            return;
        }
        if (!strcmp(qs[i].name, "q")) {
            size_t chars = 0; /* UTF-8 characters, not bytes */
            for (const char *c = tq[i]; *c; c++)
                chars += ((unsigned char)*c & 0xC0) != 0x80;
            if (chars < 2) {
                http_problem(r, 400, "invalid_query", "'q' needs at least 2 characters");
                return;
            }
        }
        *(const char **)((char *)&f + qs[i].off) = tq[i];
    }
    page_t pg;
    if (http_page_params(r, &pg) != 0)
        return;
    f.limit = pg.limit;
    if (pg.after_ts[0]) {
        f.after_ts = pg.after_ts;
        f.after_id = pg.after_id;
    }
    int want = f.limit;
    f.limit = want + 1;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *res = db_request_list(c, &f);
    if (!db_ok(res))
        http_db_error(r, res);
    else
        http_send_page(r, res, want);
    PQclear(res);
}

/* ---------------------------------------------------------------- writes */

int api_request_lock(req_t *r, db_conn_t *c, const char *id, az_action_t action, request_row_t *row)
{
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return -1;
    }
    int f = db_request_lock(c, id, r->principal.org_id, row);
    if (f <= 0) {
        db_rollback(c);
        if (f < 0)
            http_db_fail(r, NULL);
        else
            http_problem(r, 404, "not_found", "no request with this id in your scope");
        return -1;
    }
    /* A technician's scope is the department holding the current work order. */
    request_scope_t sc = row->sc;
    if (row->wo_department[0])
        snprintf(sc.department_id, sizeof sc.department_id, "%s", row->wo_department);
    az_target_t t = api_request_target(r, &sc);
    if (http_authorize(r, action, &t) != 0) {
        db_rollback(c);
        return -1;
    }
    return 0;
}

/* Locks the row, authorises and checks the version.  Returns 0 inside an open
 * transaction, or -1 with the response sent and the transaction rolled back. */
static int begin_write(req_t *r, db_conn_t *c, const char *id, az_action_t action, int version,
                       request_row_t *row)
{
    if (api_request_lock(r, c, id, action, row) != 0)
        return -1;
    if (row->sc.version != version) {
        db_rollback(c);
        char hdr[64];
        snprintf(hdr, sizeof hdr, "ETag: \"%d\"\r\n", row->sc.version);
        http_problem_hdr(r, 412, hdr, "stale_version",
                         "the request changed since you read it (now version %d); GET it again "
                         "and retry",
                         row->sc.version);
        return -1;
    }
    return 0;
}

/* Recomputes the SLA clocks from the new timeline, commits, and answers with the
 * updated request.  rematch: the request's classification (severity, category) changed,
 * so its SLA policy is matched again as a re-apply would (current versions, pause time
 * kept), and a complaint that became major is swept at once so that it reaches the GM. */
static void finish_write(req_t *r, db_conn_t *c, PGresult *res, const char *id, int rematch)
{
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        db_rollback(c);
        return;
    }
    if (sla_refresh_request(c, r->principal.org_id, id, now_s(), rematch) != 0) {
        db_rollback(c);
        http_problem(r, 503, "sla_unavailable",
                     "the SLA clocks could not be recomputed; nothing was changed, retry");
        return;
    }
    request_scope_t sc;
    char *json = NULL;
    if (db_request_get(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role), &json,
                       &sc) != 1 ||
        db_commit(c) != 0) {
        free(json);
        db_rollback(c);
        http_db_fail(r, "the change was not saved");
        return;
    }
    if (rematch) {
        cJSON *j = cJSON_Parse(json);
        gm_now(r, c, j, &json, &sc);
        cJSON_Delete(j);
    }
    char hdr[64];
    snprintf(hdr, sizeof hdr, "ETag: \"%d\"\r\n", sc.version);
    http_send_json(r, 200, json, hdr);
    free(json);
}

static int event(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                 const char *action, const char *to_state, const char *occ, cJSON *details)
{
    char *dj = cJSON_PrintUnformatted(details);
    PGresult *e = db_request_event(c, r->principal.org_id, id, row->last_seq + 1,
                                   r->principal.user_id, core_role_name(r->principal.role), action,
                                   row->state, to_state, row->channel, occ, dj);
    free(dj);
    int ok = db_ok(e);
    if (!ok) {
        http_db_error(r, e);
        db_rollback(c);
    }
    PQclear(e);
    return ok ? 0 : -1;
}

static const char *const patch_fields[] = {"title",
                                           "description",
                                           "category",
                                           "severity",
                                           "validity",
                                           "customer_deadline",
                                           "reporting_department_kind",
                                           NULL};

static void patch_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    int version;
    if (!id || http_authorize_role(r, AZ_REQUEST_EDIT) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "request", &version) != 0)
        return;
    api_err_t e = {0};
    const char *title, *desc, *cat, *sev, *val, *dk;
    int64_t dl = 0;
    if (only_known(r->json, patch_fields, "a request edit", &e) < 0 ||
        opt_str(r->json, "title", 200, &title, &e) < 0 ||
        opt_str(r->json, "description", 10000, &desc, &e) < 0 ||
        opt_enum(r->json, "category", core_request_category_from_string, CATEGORIES, &cat, &e) <
            0 ||
        opt_enum(r->json, "severity", core_request_severity_from_string, SEVERITIES, &sev, &e) <
            0 ||
        opt_enum(r->json, "validity", validity_from, "unknown, valid, invalid", &val, &e) < 0 ||
        opt_enum(r->json, "reporting_department_kind", core_dept_kind_from_string, DEPT_KINDS, &dk,
                 &e) < 0 ||
        opt_time(r->json, "customer_deadline", &dl, &e) < 0) {
        send_err(r, &e);
        return;
    }
    if (!cJSON_GetArraySize(r->json)) {
        http_invalid(r, NULL, NULL, "missing_field", "required",
                     "send at least one of: title, description, "
                     "category, severity, validity, customer_deadline, "
                     "reporting_department_kind");
        return;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || begin_write(r, c, id, AZ_REQUEST_EDIT, version, &row) != 0)
        return;
    if ((sev || val) && strcmp(row.type, "complaint") != 0) {
        db_rollback(c);
        http_invalid(r, NULL, sev ? "severity" : "validity", "invalid_field", "not_applicable",
                     "'severity' and 'validity' apply to complaints only");
        return;
    }
    if (core_request_is_final((request_state_t)core_request_state_from_string(row.state))) {
        db_rollback(c);
        http_problem(r, 409, "invalid_transition", "a %s request can no longer be edited",
                     row.state);
        return;
    }
    char occ[32];
    rfc3339_format(now_s(), occ);
    cJSON *changes = cJSON_Duplicate(r->json, 1);
    if (dl) {
        char dls[32];
        rfc3339_format(dl, dls);
        cJSON_ReplaceItemInObject(changes, "customer_deadline", cJSON_CreateString(dls));
    }
    if (dk) {
        cJSON_DeleteItemFromObject(changes, "reporting_department_kind");
        cJSON_AddStringToObject(changes, "reporting_dept_kind", dk);
    }
    cJSON_AddStringToObject(changes, "last_event_at", occ);
    if (event(r, c, id, &row, "update", row.state, occ, r->json) != 0) {
        cJSON_Delete(changes);
        return;
    }
    char *cj = cJSON_PrintUnformatted(changes);
    cJSON_Delete(changes);
    PGresult *res =
        db_request_apply(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role), cj);
    free(cj);
    finish_write(r, c, res, id,
                 cJSON_GetObjectItemCaseSensitive(r->json, "severity") ||
                     cJSON_GetObjectItemCaseSensitive(r->json, "category"));
    PQclear(res);
}

/* Whether a staff member (role as stored) works on the project: organisation-wide roles
 * do, others when assigned to it.  1 / 0 / -1. */
static int staff_in_project(db_conn_t *c, const char *user_id, const char *role, const char *org,
                            const char *project)
{
    int rl = core_role_from_string(role);
    if (rl < 0 || rl == ROLE_RESIDENT)
        return 0;
    if (core_authz_org_wide((role_t)rl))
        return 1;
    return db_user_in_project(c, user_id, org, project);
}

static const char *const action_fields[] = {"occurred_at",   "department_id",
                                            "assignee_id",   "appointment_at",
                                            "result",        "signer",
                                            "resolution",    "pending_reason",
                                            "pending_until", "explanation",
                                            "satisfied",     "rating",
                                            "note",          NULL};

static void action_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return;
    const char *aname = r->params[1];
    int act = core_request_action_from_string(aname);
    if (act < 0 || act == REQ_ACTION_COMMENT) {
        http_problem(r, 404, "unknown_action",
                     "no action '%s'; use dispatch, accept, arrive, report_result, sign_off, "
                     "resolve, pend, resume, reject, close_not_responsible, start_callback, "
                     "callback_result, close, reopen or handover (comments: POST .../comments)",
                     aname);
        return;
    }
    int version;
    if (http_authorize_role(r, AZ_REQUEST_ACT) != 0 || http_if_match(r, "request", &version) != 0)
        return;
    if (r->body_len && http_json_body(r) != 0)
        return;
    cJSON *empty = NULL;
    const cJSON *b = r->json;
    if (!b)
        b = empty = cJSON_CreateObject();
    api_err_t e = {0};
    const char *dept = NULL, *assignee = NULL, *result = NULL, *resolution = NULL;
    const char *reason = NULL, *explanation = NULL, *rating = NULL, *note = NULL;
    int64_t occurred = 0, appt = 0, until = 0;
    const cJSON *sat = cJSON_GetObjectItemCaseSensitive(b, "satisfied");
    const cJSON *signer = cJSON_GetObjectItemCaseSensitive(b, "signer");
    if (only_known(b, action_fields, "an action", &e) < 0 ||
        opt_time(b, "occurred_at", &occurred, &e) < 0 ||
        opt_uuid(b, "department_id", &dept, &e) < 0 ||
        opt_uuid(b, "assignee_id", &assignee, &e) < 0 ||
        opt_time(b, "appointment_at", &appt, &e) < 0 ||
        opt_str(b, "result", 4000, &result, &e) < 0 ||
        opt_str(b, "resolution", 4000, &resolution, &e) < 0 ||
        opt_enum(b, "pending_reason", core_request_pending_reason_from_string, PENDING_REASONS,
                 &reason, &e) < 0 ||
        opt_time(b, "pending_until", &until, &e) < 0 ||
        opt_str(b, "explanation", 4000, &explanation, &e) < 0 ||
        opt_str(b, "rating", 32, &rating, &e) < 0 || opt_str(b, "note", 4000, &note, &e) < 0) {
        send_err(r, &e);
        goto out;
    }
    if (sat && !cJSON_IsBool(sat)) {
        http_invalid(r, b, "satisfied", "invalid_field", "invalid_type",
                     "'satisfied' must be true or false");
        goto out;
    }
    const principal_t *p = &r->principal;
    if (occurred && (p->role == ROLE_RESIDENT || p->role == ROLE_INTEGRATION)) {
        http_invalid(r, b, "occurred_at", "invalid_field", "not_allowed",
                     "only staff may record a past 'occurred_at'");
        goto out;
    }
    /* Per-action required arguments that the state machine does not see. */
    if ((act == REQ_ACTION_DISPATCH || act == REQ_ACTION_REDISPATCH) && !dept) {
        http_invalid(r, b, "department_id", "missing_field", "required",
                     "'department_id' is required to dispatch");
        goto out;
    }
    if (act == REQ_ACTION_REPORT_RESULT && !result) {
        http_invalid(r, b, "result", "missing_field", "required",
                     "'result' (what was done) is required");
        goto out;
    }
    if (act == REQ_ACTION_RESOLVE && !resolution) {
        http_invalid(r, b, "resolution", "missing_field", "required",
                     "'resolution' (the answer given) is required");
        goto out;
    }
    if (act == REQ_ACTION_CALLBACK_RESULT && !sat) {
        http_invalid(r, b, "satisfied", "missing_field", "required",
                     "'satisfied' is required for a callback result");
        goto out;
    }
    int64_t now = now_s();
    if (act == REQ_ACTION_PEND && until && until <= now) {
        http_invalid(r, b, "pending_until", "pending_until_required", "out_of_range",
                     "'pending_until' must be in the future");
        goto out;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || begin_write(r, c, id, AZ_REQUEST_ACT, version, &row) != 0)
        goto out;
    if (!occurred)
        occurred = now;
    const char *code, *why;
    if (core_request_check_occurred_at(occurred, row.last_event_at, now, &code, &why) != 0) {
        db_rollback(c);
        http_invalid(r, b, "occurred_at", code, "out_of_range", "'occurred_at': %s", why);
        goto out;
    }
    if (occurred > now)
        occurred = now; /* within the tolerated skew: never store a future time */

    request_facts_t f;
    memset(&f, 0, sizeof f);
    f.state = (request_state_t)core_request_state_from_string(row.state);
    f.type = (request_type_t)core_request_type_from_string(row.type);
    /* A request the night desk registered (on any channel) is handed over like one. */
    f.channel = row.night_desk ? REQ_CHANNEL_NIGHT_DESK
                               : (request_channel_t)core_request_channel_from_string(row.channel);
    f.state_before_pending =
        row.state_before_pending[0]
            ? (request_state_t)core_request_state_from_string(row.state_before_pending)
            : REQ_STATE_RECEIVED;
    f.has_active_work_order = row.wo_id[0] != 0;
    f.work_order_state =
        row.wo_id[0] ? (work_order_state_t)core_request_work_order_state_from_string(row.wo_state)
                     : WO_STATE_DISPATCHED;
    f.work_order_has_assignee = row.wo_assignee[0] != 0;
    f.location_kind = (location_kind_t)core_request_location_kind_from_string(row.location_kind);
    f.is_valid_complaint = !strcmp(row.validity, "valid")     ? REQ_VALIDITY_VALID
                           : !strcmp(row.validity, "invalid") ? REQ_VALIDITY_INVALID
                                                              : REQ_VALIDITY_UNKNOWN;
    f.handed_over = row.handed_over;
    f.reopen_count = row.reopen_count;
    f.actor_role = p->role;
    char kind[20] = "";
    if (p->dept_id && db_department_kind(c, p->dept_id, p->org_id, kind) == 1)
        f.actor_dept_kind = (dept_kind_t)core_dept_kind_from_string(kind);
    else
        f.actor_dept_kind = DEPT_OTHER;
    f.actor_in_responsible_dept =
        p->dept_id && row.wo_department[0] && !strcmp(p->dept_id, row.wo_department);
    f.actor_is_assignee = row.wo_assignee[0] && !strcmp(p->user_id, row.wo_assignee);
    f.explanation = explanation;
    f.pending_reason = reason ? core_request_pending_reason_from_string(reason) : -1;
    f.pending_until = until;
    f.callback_satisfied = cJSON_IsTrue(sat);
    f.reporting_dept_kind = row.reporting_dept_kind[0]
                                ? (dept_kind_t)core_dept_kind_from_string(row.reporting_dept_kind)
                                : DEPT_CUSTOMER_SERVICE;

    /* Sign-off: who signed. */
    char signer_res[40] = "", signer_user[40] = "", signer_name[128] = "";
    const char *signer_kind_s = NULL;
    if (act == REQ_ACTION_SIGN_OFF) {
        const char *sk = NULL, *sres = NULL, *suser = NULL;
        static const char *const signer_fields[] = {"kind", "resident_id", "user_id", NULL};
        if (p->role == ROLE_RESIDENT) {
            if (db_user_resident(c, p->user_id, p->org_id, signer_res) != 1 || !signer_res[0]) {
                db_rollback(c);
                http_problem(r, 403, "forbidden", "this account has no resident record");
                goto out;
            }
            sk = "resident";
        } else {
            if (!cJSON_IsObject(signer) || only_known(signer, signer_fields, "signer", &e) < 0 ||
                req_str(signer, "kind", 16, &sk, &e) < 0 ||
                opt_uuid(signer, "resident_id", &sres, &e) < 0 ||
                opt_uuid(signer, "user_id", &suser, &e) < 0 ||
                (strcmp(sk, "resident") && strcmp(sk, "staff")) ||
                (!strcmp(sk, "resident") && !sres) || (!strcmp(sk, "staff") && !suser)) {
                db_rollback(c);
                http_invalid(r, b, "signer", "invalid_field", "invalid_format",
                             "'signer' must be {\"kind\":\"resident\",\"resident_id\":UUID} or "
                             "{\"kind\":\"staff\",\"user_id\":UUID}");
                goto out;
            }
            if (sres)
                snprintf(signer_res, sizeof signer_res, "%s", sres);
            if (suser)
                snprintf(signer_user, sizeof signer_user, "%s", suser);
        }
        signer_kind_s = sk;
        if (!strcmp(sk, "resident")) {
            f.signer_kind = SIGNER_RESIDENT;
            int adult = 0;
            int in = row.sc.unit_id[0] ? db_resident_in_unit(c, signer_res, row.sc.unit_id,
                                                             p->org_id, &adult, signer_name)
                                       : 0;
            f.signer_is_adult_household_member = in == 1 && adult;
        } else {
            char role[20], did[40], dkind[20];
            if (db_staff_lookup(c, signer_user, p->org_id, role, did, dkind, signer_name) != 1 ||
                staff_in_project(c, signer_user, role, p->org_id, row.sc.project_id) != 1) {
                db_rollback(c);
                http_problem(r, 422, "signer_not_qualified",
                             "the signing staff member does not exist, is inactive or does not "
                             "work on the request's project");
                goto out;
            }
            f.signer_kind = SIGNER_STAFF;
            f.signer_role = (role_t)core_role_from_string(role);
            f.signer_dept_kind =
                dkind[0] ? (dept_kind_t)core_dept_kind_from_string(dkind) : DEPT_OTHER;
        }
    }
    /* Dispatch: the department and assignee must be real. */
    if (act == REQ_ACTION_DISPATCH || act == REQ_ACTION_REDISPATCH) {
        char dp[40];
        int df = db_department_project(c, dept, p->org_id, dp);
        if (df != 1 || (dp[0] && strcmp(dp, row.sc.project_id) != 0)) {
            db_rollback(c);
            if (df < 0)
                http_problem(r, 503, "database_unavailable", "retry shortly");
            else
                http_problem(r, 422, "invalid_field",
                             "'department_id' is not a department of the request's project");
            goto out;
        }
        if (assignee) {
            char role[20], did[40], dkind[20], nm[128];
            int sf = db_staff_lookup(c, assignee, p->org_id, role, did, dkind, nm);
            int inp = sf == 1 && strcmp(did, dept) == 0
                          ? staff_in_project(c, assignee, role, p->org_id, row.sc.project_id)
                          : 0;
            if (sf < 0 || inp < 0) {
                db_rollback(c);
                http_problem(r, 503, "database_unavailable", "retry shortly");
                goto out;
            }
            if (!inp) {
                db_rollback(c);
                http_problem(r, 422, "invalid_field",
                             "'assignee_id' must be an active member of the department who "
                             "works on the request's project");
                goto out;
            }
        }
    }

    transition_t tr = core_request_transition(&f, (request_action_t)act);
    if (!tr.ok) {
        db_rollback(c);
        int st = core_request_code_http_status(tr.code);
        http_problem(r, st == 200 ? 409 : st, tr.code, "%s", tr.reason);
        goto out;
    }
    const char *to = core_request_state_name((request_state_t)tr.new_state);
    char occ[32];
    rfc3339_format(occurred, occ);

    /* Work order effects. */
    PGresult *w = NULL;
    const char *wo_state =
        tr.new_work_order_state >= 0
            ? core_request_work_order_state_name((work_order_state_t)tr.new_work_order_state)
            : NULL;
    const char *new_assignee = NULL;
    if (act == REQ_ACTION_DISPATCH || act == REQ_ACTION_REDISPATCH) {
        char ap[32];
        if (appt)
            rfc3339_format(appt, ap);
        if (act == REQ_ACTION_REDISPATCH) { /* the open work order is cancelled first */
            w = db_workorder_update(c, row.wo_id, p->org_id, "cancelled", occ, NULL, NULL, NULL,
                                    NULL, NULL, NULL);
            int ok = db_ok(w);
            if (!ok)
                http_db_error(r, w);
            PQclear(w);
            if (!ok) {
                db_rollback(c);
                goto out;
            }
        }
        w = db_workorder_insert(c, p->org_id, id, dept, assignee, appt ? ap : NULL, occ);
        new_assignee = assignee;
    } else if (wo_state && row.wo_id[0]) {
        if (act == REQ_ACTION_ACCEPT && !row.wo_assignee[0] && p->role == ROLE_TECHNICIAN)
            new_assignee = p->user_id;
        w = db_workorder_update(c, row.wo_id, p->org_id, wo_state, occ, new_assignee, result,
                                signer_kind_s, signer_res[0] ? signer_res : NULL,
                                signer_user[0] ? signer_user : NULL,
                                signer_name[0] ? signer_name : NULL);
    }
    if (w) {
        int ok = db_ok(w);
        if (!ok) {
            http_db_error(r, w);
            db_rollback(c);
        }
        PQclear(w);
        if (!ok)
            goto out;
    }

    /* Request changes. */
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddStringToObject(ch, "state", to);
    cJSON_AddStringToObject(ch, "last_event_at", occ);
    if (new_assignee)
        cJSON_AddStringToObject(ch, "assignee_id", new_assignee);
    switch (act) {
    case REQ_ACTION_DISPATCH:
    case REQ_ACTION_REDISPATCH:
        cJSON_AddStringToObject(ch, "department_id", dept);
        if (!assignee)
            cJSON_AddNullToObject(ch, "assignee_id");
        break;
    case REQ_ACTION_SIGN_OFF:
    case REQ_ACTION_RESOLVE:
        cJSON_AddStringToObject(ch, "resolved_at", occ);
        if (resolution)
            cJSON_AddStringToObject(ch, "resolution", resolution);
        break;
    case REQ_ACTION_PEND:
        cJSON_AddStringToObject(ch, "state_before_pending", row.state);
        cJSON_AddStringToObject(ch, "pending_reason", reason);
        {
            char us[32];
            rfc3339_format(until, us);
            cJSON_AddStringToObject(ch, "pending_until", us);
        }
        break;
    case REQ_ACTION_RESUME:
        cJSON_AddNullToObject(ch, "state_before_pending");
        cJSON_AddNullToObject(ch, "pending_reason");
        cJSON_AddNullToObject(ch, "pending_until");
        break;
    case REQ_ACTION_REJECT:
    case REQ_ACTION_CLOSE_NOT_RESPONSIBLE:
        cJSON_AddStringToObject(ch, "explanation", explanation);
        cJSON_AddStringToObject(ch, "closed_at", occ);
        break;
    case REQ_ACTION_CLOSE:
        if (explanation)
            cJSON_AddStringToObject(ch, "explanation", explanation);
        cJSON_AddStringToObject(ch, "closed_at", occ);
        break;
    case REQ_ACTION_CALLBACK_RESULT:
        if (tr.new_state == REQ_STATE_CLOSED) {
            cJSON_AddStringToObject(ch, "closed_at", occ);
        } else if (row.escalation_level < SLA_TOP_LEVEL) {
            /* SPEC §5: a dissatisfied callback reopens and raises one level, and that
             * level hears of it. */
            cJSON_AddNullToObject(ch, "resolved_at");
            cJSON_AddNumberToObject(ch, "escalation_inc", 1);
            if (db_sla_notify_ladder(c, p->org_id, row.sc.project_id, id, row.escalation_level + 1,
                                     "callback_dissatisfied",
                                     "{\"reason\":\"dissatisfied callback\"}") != 0) {
                cJSON_Delete(ch);
                db_rollback(c);
                http_db_fail(r, NULL);
                goto out;
            }
        } else {
            cJSON_AddNullToObject(ch, "resolved_at");
        }
        break;
    case REQ_ACTION_REOPEN:
        cJSON_AddNullToObject(ch, "resolved_at");
        cJSON_AddNullToObject(ch, "closed_at");
        break;
    case REQ_ACTION_HANDOVER:
        cJSON_AddStringToObject(ch, "handed_over_at", occ);
        break;
    default:
        break;
    }
    if (tr.reopen_increment)
        cJSON_AddNumberToObject(ch, "reopen_inc", tr.reopen_increment);

    /* Timeline event with the action's arguments and both times. */
    cJSON *d = cJSON_Duplicate(b, 1);
    cJSON_DeleteItemFromObject(d, "occurred_at");
    if (occurred != now)
        cJSON_AddBoolToObject(d, "paper_record", 1);
    if (wo_state)
        cJSON_AddStringToObject(d, "work_order_state", wo_state);
    if (signer_name[0])
        cJSON_AddStringToObject(d, "signer_name", signer_name);
    if (tr.reopen_increment)
        cJSON_AddNumberToObject(d, "reopen_count", row.reopen_count + tr.reopen_increment);
    if (act == REQ_ACTION_REDISPATCH)
        cJSON_AddStringToObject(d, "cancelled_work_order_id", row.wo_id);
    if (act == REQ_ACTION_RESUME) { /* the pause, in wall-clock time (per clock: GET .../sla) */
        long long since = db_request_last_pend(c, id, p->org_id);
        if (since > 0) {
            char ss[32];
            rfc3339_format(since, ss);
            cJSON_AddStringToObject(d, "paused_since", ss);
            cJSON_AddNumberToObject(d, "paused_seconds",
                                    (double)(occurred > since ? occurred - since : 0));
        }
    }
    int ev = event(r, c, id, &row, core_request_action_name((request_action_t)act), to, occ, d);
    cJSON_Delete(d);
    if (ev != 0) {
        cJSON_Delete(ch);
        goto out;
    }
    char *cj = cJSON_PrintUnformatted(ch);
    cJSON_Delete(ch);
    PGresult *res = db_request_apply(c, id, p->org_id, core_authz_sees_pii(p->role), cj);
    free(cj);
    finish_write(r, c, res, id, 0);
    PQclear(res);
out:
    cJSON_Delete(empty);
}

void api_request_register(void)
{
    http_route("POST", "/v1/requests", create_h, 0, NULL);
    http_route("GET", "/v1/requests", list_h, 0, NULL);
    http_route("GET", "/v1/requests/{id}", get_h, 0, NULL);
    http_route("PATCH", "/v1/requests/{id}", patch_h, 0, NULL);
    http_route("GET", "/v1/requests/{id}/timeline", timeline_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/actions/{action}", action_h, 0, NULL);
}
