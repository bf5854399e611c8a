/*
 * api/request_create.c — registering service requests from every channel (POST
 * /v1/requests, and each item of a batch): the body is validated, every id it names is
 * checked against the caller's organisation and the request's project, the SLA clocks
 * are computed, and the request with its "create" event is stored in one statement.
 */
#include "api/request.h"
#include "api/codec.h"
#include "svc/sla.h"
#include "svc/sweeper.h"
#include "db/org.h"
#include "core/request.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
            return api_err_set(e, 503, "database_unavailable", "retry shortly"), -1;
        if (f == 0)
            return api_err_set(e, 404, "not_found", "no such project in your scope"), -1;
    }
    char owner[40] = "";
    if (resident_id) {
        int f = db_resident_project(c, resident_id, p->org_id, owner);
        if (f < 0)
            return api_err_set(e, 503, "database_unavailable", "retry shortly"), -1;
        if (f == 0 || strcmp(owner, project_id) != 0)
            return api_err_set(e, 422, "invalid_field",
                               "'reporter.resident_id' is not a resident of the request's project"),
                   -1;
    }
    if (department_id) {
        int f = db_department_project(c, department_id, p->org_id, owner);
        if (f < 0)
            return api_err_set(e, 503, "database_unavailable", "retry shortly"), -1;
        if (f == 0 || (owner[0] && strcmp(owner, project_id) != 0))
            return api_err_set(e, 422, "invalid_field",
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

/* A create body, read and validated; strings point into the body (or the buffers). */
typedef struct create_in {
    const char *type, *channel, *severity, *category, *validity, *dept_kind;
    const char *description, *title, *project_id, *department_id;
    int64_t deadline, occurred;
    int night;
    const char *unit_id, *area;
    char unit_project[40]; /* the unit's project, which the request takes */
    const char *rep_res, *rep_name, *rep_phone;
    char own_res[40]; /* a resident reporting: their own resident record */
    const char *ext_src, *ext_id;
} create_in_t;

/* Type, channel, classification, texts, times and the night-desk flag.  0 or -1. */
static int read_classification(const principal_t *p, const cJSON *body, create_in_t *in,
                               api_err_t *e)
{
    if (api_only_known(body, create_fields, "a request", e) < 0)
        return -1;
    if (api_opt_enum(body, "type", core_request_type_from_string, core_request_type_list, &in->type,
                     e) < 0)
        return -1;
    char allowed[512];
    if (!in->type) {
        core_request_type_list(allowed, sizeof allowed);
        return api_err_at(e, body, "type", "required", "missing_field", "'type' is required (%s)",
                          allowed);
    }
    if (api_opt_enum(body, "channel", core_request_channel_from_string, core_request_channel_list,
                     &in->channel, e) < 0 ||
        api_opt_enum(body, "severity", core_request_severity_from_string,
                     core_request_severity_list, &in->severity, e) < 0 ||
        api_opt_enum(body, "category", core_request_category_from_string,
                     core_request_category_list, &in->category, e) < 0 ||
        api_opt_enum(body, "validity", api_request_validity_from, api_request_validity_list,
                     &in->validity, e) < 0 ||
        api_opt_enum(body, "reporting_department_kind", core_dept_kind_from_string,
                     core_dept_kind_list, &in->dept_kind, e) < 0)
        return -1;
    if (!in->channel) {
        if (p->role != ROLE_RESIDENT && p->role != ROLE_INTEGRATION) {
            core_request_channel_list(allowed, sizeof allowed);
            return api_err_at(e, body, "channel", "required", "missing_field",
                              "'channel' is required (%s)", allowed);
        }
        in->channel = api_request_channel(p->role); /* app / integration */
    }
    int is_complaint = !strcmp(in->type, "complaint");
    if (!is_complaint && in->severity)
        return api_err_at(e, body, "severity", "not_applicable", "invalid_field",
                          "'severity' applies to complaints only");
    if (is_complaint && !in->severity)
        in->severity = "general";
    if (in->validity && !is_complaint)
        return api_err_at(e, body, "validity", "not_applicable", "invalid_field",
                          "'validity' applies to complaints only");
    if (api_req_str(body, "description", 10000, &in->description, e) < 0 ||
        api_opt_str(body, "title", 200, &in->title, e) < 0 ||
        api_opt_uuid(body, "project_id", &in->project_id, e) < 0 ||
        api_opt_uuid(body, "department_id", &in->department_id, e) < 0)
        return -1;
    if (api_opt_time(body, "customer_deadline", &in->deadline, e) < 0 ||
        api_opt_time(body, "occurred_at", &in->occurred, e) < 0)
        return -1;
    const cJSON *nd = cJSON_GetObjectItemCaseSensitive(body, "night_desk");
    if (nd && !cJSON_IsBool(nd))
        return api_err_at(e, body, "night_desk", "invalid_type", "invalid_field",
                          "'night_desk' must be true or false");
    in->night = !strcmp(in->channel, "night_desk") || cJSON_IsTrue(nd);
    return 0;
}

/* The location: a unit of the caller's organisation (whose project the request takes) or
 * a common area of the named project.  0 or -1. */
static int read_location(db_conn_t *c, const principal_t *p, const cJSON *body, create_in_t *in,
                         api_err_t *e)
{
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(body, "location");
    static const char *const loc_fields[] = {"unit_id", "common_area", NULL};
    if (!cJSON_IsObject(loc))
        return api_err_at(e, body, "location", loc ? "invalid_type" : "required", "missing_field",
                          "'location' is required: {\"unit_id\": UUID} or {\"common_area\": text}");
    if (api_only_known(loc, loc_fields, "location", e) < 0 ||
        api_opt_uuid(loc, "unit_id", &in->unit_id, e) < 0 ||
        api_opt_str(loc, "common_area", 200, &in->area, e) < 0)
        return -1;
    if ((in->unit_id != NULL) == (in->area != NULL))
        return api_err_at(e, body, "location", "invalid_format", "invalid_field",
                          "'location' needs exactly one of unit_id or common_area");
    if (in->unit_id) {
        int f = unit_project_cached(c, in->unit_id, p->org_id, in->unit_project);
        if (f < 0)
            return api_err_set(e, 503, "database_unavailable", "retry shortly");
        if (f == 0)
            return api_err_at(e, loc, "unit_id", "not_found", "invalid_field",
                              "'location.unit_id' is not a unit of yours");
        if (in->project_id && strcmp(in->project_id, in->unit_project) != 0)
            return api_err_at(e, body, "project_id", "invalid_value", "invalid_field",
                              "'project_id' does not match the project of 'location.unit_id'");
        in->project_id = in->unit_project;
    }
    if (!in->project_id)
        return api_err_at(e, body, "project_id", "required", "missing_field",
                          "'project_id' is required for a common area");
    return 0;
}

/* The reporter: residents report as themselves, now; staff name the customer.  0 or -1. */
static int read_reporter(db_conn_t *c, const principal_t *p, const cJSON *body, create_in_t *in,
                         api_err_t *e)
{
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(body, "reporter");
    static const char *const rep_fields[] = {"resident_id", "name", "phone", NULL};
    if (rep && !cJSON_IsNull(rep)) {
        if (!cJSON_IsObject(rep))
            return api_err_at(e, body, "reporter", "invalid_type", "invalid_field",
                              "'reporter' must be an object");
        if (api_only_known(rep, rep_fields, "reporter", e) < 0 ||
            api_opt_uuid(rep, "resident_id", &in->rep_res, e) < 0 ||
            api_opt_str(rep, "name", 100, &in->rep_name, e) < 0 ||
            api_opt_str(rep, "phone", 40, &in->rep_phone, e) < 0)
            return -1;
    }
    if (p->role == ROLE_RESIDENT) {
        /* Residents report for their own units (or a common area of their project), as
         * themselves, now. */
        if (in->rep_res || in->rep_name || in->rep_phone || in->occurred)
            return api_err_at(e, body, in->occurred ? "occurred_at" : "reporter", "not_allowed",
                              "invalid_field",
                              "residents cannot set 'reporter' or 'occurred_at': they report "
                              "as themselves, now");
        if (db_user_resident(c, p->user_id, p->org_id, in->own_res) != 1 || !in->own_res[0])
            return api_err_set(e, 403, "forbidden", "this resident account has no resident record");
        in->rep_res = in->own_res;
    } else if (!in->rep_res && !in->rep_name) {
        return api_err_at(e, body, "reporter", "required", "missing_field",
                          "'reporter' needs resident_id or name (and phone) of the customer");
    }
    return 0;
}

/* The caller's right to register here, then every id in the body: each must lie in the
 * caller's organisation and in the request's project (a unit's project came from the
 * unit itself).  Scope before any work.  0 or -1. */
static int authorize_create(db_conn_t *c, const principal_t *p, const create_in_t *in, api_err_t *e)
{
    az_target_t t = {p->org_id, in->project_id, in->unit_id, NULL,
                     p->role == ROLE_RESIDENT && !in->unit_id ? p->user_id : NULL};
    az_result_t az = core_authz_check(p, AZ_REQUEST_CREATE, &t);
    if (az == AZ_ALLOW && p->role == ROLE_RESIDENT && !core_authz_in_project(p, in->project_id))
        az = AZ_NOT_FOUND;
    if (az != AZ_ALLOW)
        return api_err_set(e, (int)az, az == AZ_FORBIDDEN ? "forbidden" : "not_found",
                           az == AZ_FORBIDDEN ? "your role may not register requests"
                                              : "no such project or unit in your scope");
    return ids_in_scope(c, p, in->project_id, in->unit_id ? NULL : in->project_id,
                        in->rep_res == in->own_res ? NULL : in->rep_res, in->department_id, e);
}

/* An integration's external reference, refused when it was already registered.  0 or
 * -1. */
static int read_external_ref(db_conn_t *c, const principal_t *p, const cJSON *body, create_in_t *in,
                             api_err_t *e)
{
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(body, "external_ref");
    static const char *const ext_fields[] = {"source", "id", NULL};
    if (ext && !cJSON_IsNull(ext)) {
        if (!cJSON_IsObject(ext) || api_only_known(ext, ext_fields, "external_ref", e) < 0 ||
            api_req_str(ext, "source", 64, &in->ext_src, e) < 0 ||
            api_req_str(ext, "id", 128, &in->ext_id, e) < 0) {
            if (!e->status)
                api_err_at(e, body, "external_ref", "invalid_type", "invalid_field",
                           "'external_ref' must be {\"source\": text, \"id\": text}");
            return -1;
        }
    }
    if (!in->ext_src)
        return 0;
    /* The unique index is the guard against races; this look-up gives the common case
     * (a retried push) a clear answer naming the existing request. */
    char existing[40];
    int f = db_request_find_external(c, p->org_id, in->ext_src, in->ext_id, existing);
    if (f < 0)
        return api_err_set(e, 503, "database_unavailable", "retry shortly");
    if (f == 1)
        return api_err_set(e, 409, "duplicate_external_ref",
                           "a request with external_ref %s/%s already exists: %s", in->ext_src,
                           in->ext_id, existing);
    return 0;
}

/* The "create" event's details (malloc'd JSON; the caller frees it). */
static char *create_details(const create_in_t *in, int64_t occurred, int64_t now)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "channel", in->channel);
    if (in->night)
        cJSON_AddBoolToObject(details, "night_desk", 1);
    if (occurred != now)
        cJSON_AddBoolToObject(details, "paper_record", 1);
    if (in->ext_src) {
        cJSON_AddStringToObject(details, "external_source", in->ext_src);
        cJSON_AddStringToObject(details, "external_id", in->ext_id);
    }
    char *dj = cJSON_PrintUnformatted(details);
    cJSON_Delete(details);
    return dj;
}

/* The row to insert; strings borrowed from `in`, `p` and the buffers given. */
static void fill_new(const principal_t *p, const create_in_t *in, const char *occ, const char *dl,
                     const char *details, request_new_t *n)
{
    memset(n, 0, sizeof *n);
    n->org = p->org_id;
    n->project = in->project_id;
    n->prefix = core_request_number_prefix((request_type_t)core_request_type_from_string(in->type));
    n->occurred_at = occ;
    n->type = in->type;
    n->channel = in->channel;
    n->severity = in->severity;
    n->category = in->category;
    n->location_kind = in->unit_id ? "unit" : "common_area";
    n->unit_id = in->unit_id;
    n->common_area = in->area;
    n->reporter_resident_id = in->rep_res;
    n->reporter_user_id = p->role == ROLE_RESIDENT ? p->user_id : NULL;
    n->reporter_name = in->rep_name;
    n->reporter_phone = in->rep_phone;
    n->title = in->title;
    n->description = in->description;
    n->customer_deadline = in->deadline ? dl : NULL;
    n->department_id = in->department_id;
    n->reporting_dept_kind = in->dept_kind;
    n->external_source = in->ext_src;
    n->external_id = in->ext_id;
    n->night_desk = in->night ? "true" : "false";
    n->actor_id = p->user_id;
    n->actor_role = core_role_name(p->role);
    n->details = details;
    n->validity = in->validity;
    n->pii = core_authz_sees_pii(p->role);
}

/* The clocks start with the request: computed now, stored with it (n->sla points into
 * *dues).  0 or -1 with e set. */
static int start_sla(db_conn_t *c, const principal_t *p, const create_in_t *in, int64_t occurred,
                     int64_t now, sla_dues_t *dues, request_new_t *n, api_err_t *e)
{
    const char *v = in->validity;
    int valid = v && !strcmp(v, "valid")     ? REQ_VALIDITY_VALID
                : v && !strcmp(v, "invalid") ? REQ_VALIDITY_INVALID
                                             : REQ_VALIDITY_UNKNOWN;
    request_type_t tv = (request_type_t)core_request_type_from_string(in->type);
    if (sla_for_new_request(c, p->org_id, in->project_id, in->type, in->severity, in->category,
                            in->night, core_request_needs_callback(tv, valid), in->deadline,
                            n->actor_role, occurred, now, dues) != 0)
        return api_err_set(e, 503, "sla_unavailable",
                           "the project's SLA policy could not be evaluated; retry or ask an "
                           "administrator to check it");
    n->sla[0] = dues->policy_version[0] ? dues->policy_version : NULL;
    n->sla[1] = dues->calendar_version[0] ? dues->calendar_version : NULL;
    for (int t = 0; t < SLA_T__COUNT; t++)
        n->sla[2 + t] = dues->due[t][0] ? dues->due[t] : NULL;
    n->sla[9] = dues->next_due[0] ? dues->next_due : NULL;
    n->sla[10] = dues->next_check[0] ? dues->next_check : NULL;
    return 0;
}

/* Inserts the request; 201 with *json (malloc'd), or the status with e set (a repeated
 * external reference that raced past the look-up is 409 naming the existing request). */
static int insert_request(db_conn_t *c, const principal_t *p, const create_in_t *in,
                          const request_new_t *n, char **json, api_err_t *e)
{
    PGresult *res = db_request_create(c, n);
    int status;
    if (!db_ok(res)) {
        const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        if (cons && !strcmp(cons, "requests_external")) {
            char existing[40] = "";
            db_request_find_external(c, p->org_id, in->ext_src, in->ext_id, existing);
            api_err_set(e, 409, "duplicate_external_ref",
                        "a request with external_ref %s/%s already exists: %s", in->ext_src,
                        in->ext_id, existing);
        } else {
            int st = db_error_status(res, NULL);
            const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
            api_err_set(e, st,
                        st == 503   ? "database_unavailable"
                        : st == 500 ? "internal"
                                    : "constraint_violation",
                        "%s (%s)", msg ? msg : "the request could not be stored",
                        cons ? cons : "check referenced ids belong to your organisation");
        }
        status = e->status;
    } else if (PQntuples(res) == 0) {
        api_err_set(e, 404, "not_found", "no such project in your scope");
        status = 404;
    } else if (!(*json = db_request_created_json(c, res, n->org, n->pii))) {
        api_err_set(e, 503, "overloaded",
                    "the answer for request %s could not be rendered (out of memory or a failed "
                    "read-back); GET /v1/requests/%s before sending the create again",
                    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 0));
        status = 503;
    } else {
        status = 201;
    }
    PQclear(res);
    return status;
}

int api_request_create_one(req_t *r, db_conn_t *c, const cJSON *body, char **json, api_err_t *e)
{
    const principal_t *p = &r->principal;
    create_in_t in;
    memset(&in, 0, sizeof in);
    *json = NULL;
    if (!cJSON_IsObject(body))
        return api_err_at(e, body, NULL, "invalid_type", "invalid_body",
                          "each request must be a JSON object"),
               e->status;
    if (read_classification(p, body, &in, e) < 0 || read_location(c, p, body, &in, e) < 0 ||
        read_reporter(c, p, body, &in, e) < 0 || authorize_create(c, p, &in, e) < 0 ||
        read_external_ref(c, p, body, &in, e) < 0)
        return e->status;

    int64_t now = (int64_t)time(NULL), occurred = in.occurred;
    if (occurred) {
        const char *code, *reason;
        if (core_request_check_occurred_at(occurred, 0, now, &code, &reason) != 0)
            return api_err_at(e, body, "occurred_at", "out_of_range", code, "'occurred_at': %s",
                              reason),
                   e->status;
        if (occurred > now)
            occurred = now; /* within the tolerated skew: never store a future time */
    } else {
        occurred = now;
    }
    char occ[32], dl[32];
    rfc3339_format(occurred, occ);
    if (in.deadline)
        rfc3339_format(in.deadline, dl);
    char *dj = create_details(&in, occurred, now);
    request_new_t n;
    sla_dues_t dues;
    fill_new(p, &in, occ, dl, dj, &n);
    int status = start_sla(c, p, &in, occurred, now, &dues, &n, e) < 0
                     ? e->status
                     : insert_request(c, p, &in, &n, json, e);
    free(dj);
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

int api_request_sweep_gm(req_t *r, db_conn_t *c, const cJSON *req, char **json, request_scope_t *sc)
{
    const char *id = api_request_gm_now(req);
    char *fresh = NULL;
    if (!id || sla_sweep_request(c, id, (int64_t)time(NULL)) != 0 ||
        db_request_get(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role), &fresh,
                       sc) != 1)
        return 0;
    free(*json);
    *json = fresh;
    return 1;
}

void api_request_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_REQUEST_CREATE) != 0 || http_json_body(r) != 0)
        return;
    db_conn_t *c;
    int claimed;
    if (api_idem_start(r, &c, &claimed) != 0)
        return;
    char *json = NULL;
    api_err_t e = {0};
    int st = api_request_create_one(r, c, r->json, &json, &e);
    if (st >= 300) {
        if (claimed)
            db_rollback(c); /* a refused request does not use up the key */
        api_err_send(r, &e);
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
    if (api_request_sweep_gm(r, c, j, &json, &sc)) /* the creation itself is already committed */
        version = sc.version;
    snprintf(hdr, sizeof hdr, "ETag: \"%d\"\r\nLocation: /v1/requests/%s\r\n", version,
             cJSON_IsString(id) ? id->valuestring : "");
    cJSON_Delete(j);
    http_send_json(r, st, json, hdr);
    free(json);
}

int api_request_open_followup(req_t *r, db_conn_t *c, cJSON *body, char id[40], api_err_t *e)
{
    char *json = NULL;
    int st = api_request_create_one(r, c, body, &json, e);
    cJSON_Delete(body);
    id[0] = 0;
    if (st == 201) {
        cJSON *j = cJSON_Parse(json);
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
        snprintf(id, 40, "%s", v ? v : "");
        cJSON_Delete(j);
        if (!id[0])
            api_err_set(e, 500, "internal", "the new request could not be read back");
    }
    free(json);
    return id[0] ? 0 : -1;
}
