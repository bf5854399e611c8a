/*
 * api/incident.c — special incident reports (特别事件报告, RULES §3.9): written by the person
 * on duty after an emergency, linked to the project's emergency requests, with place,
 * times, actions, outside services (110/119/120, the lift company's contact and arrival),
 * police officer and case numbers, affected units and whether their owners were told,
 * forced entry (who decided, the explanation given afterwards) and damage.  draft →
 * submitted → acknowledged; due by the end of the next local day after the event
 * (core_incident_due_at in the project's zone); the overdue check is svc/duty_check.c.
 * Opening one tells the project's managers at once; submitting tells the supervisors and
 * managers, and the GM too for a fire or a theft/robbery.
 */
#include "api/api.h"
#include "api/duty.h"
#include "api/validate.h"
#include "core/duty.h"
#include "core/rfc3339.h"
#include "svc/sla_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const report_fields[] = {
    "project_id",      "kind",         "request_ids",   "occurred_at",
    "ended_at",        "place",        "discovered_by", "actions",
    "services",        "police",       "lift_company",  "affected_units",
    "owners_notified", "forced_entry", "damage",        NULL};
static const char *const police_fields[] = {"officer_rank", "officer_number", "case_number",
                                            "station", NULL};
static const char *const lift_fields[] = {"company",        "contact",     "phone",
                                          "called_at",      "promised_at", "arrived_at",
                                          "people_trapped", NULL};
static const char *const forced_fields[] = {"decided_by", "reason", "explanation", "explained_at",
                                            NULL};

/* What a body gives, as SQL parameter text (owned: the free list). */
typedef struct inc_in {
    const char *kind, *place, *discovered_by, *actions, *damage;
    char *request_ids, *units, *services, *police, *lift, *forced;
    const char *owners_notified; /* "true" / "false" / NULL */
    int64_t occurred_at, ended_at;
    int nrequests, nunits;
} inc_in_t;

static void inc_free(inc_in_t *in)
{
    free(in->request_ids);
    free(in->units);
    free(in->services);
    free(in->police);
    free(in->lift);
    free(in->forced);
}

/* A nested object of string members (times checked when the name ends in _at); its text
 * into *out (NULL when absent or null).  0, or -1 sent. */
static int nested(req_t *r, const cJSON *b, const char *name, const char *const *known, char **out)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, name);
    *out = NULL;
    if (!o || cJSON_IsNull(o))
        return 0;
    api_err_t e;
    if (!cJSON_IsObject(o)) {
        http_invalid(r, NULL, name, "invalid_field", "invalid_type", "'%s' is an object", name);
        return -1;
    }
    if (api_only_known(o, known, name, &e) < 0) {
        api_err_send(r, &e);
        return -1;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, o)
    {
        size_t l = strlen(m->string);
        if (cJSON_IsBool(m) && !strcmp(m->string, "people_trapped"))
            continue;
        const char *s;
        if (api_opt_str(o, m->string, 500, &s, &e) < 0) {
            api_err_send(r, &e);
            return -1;
        }
        int64_t t;
        if (s && l > 3 && !strcmp(m->string + l - 3, "_at") && rfc3339_parse(s, &t) != 0) {
            http_invalid(r, o, m->string, "invalid_field", "invalid_format",
                         "'%s' must be an RFC 3339 time", m->string);
            return -1;
        }
    }
    *out = cJSON_PrintUnformatted(o);
    return 0;
}

/* Reads a whole report body (create, or the merged object of a PATCH).  0, or -1 sent. */
static int parse(req_t *r, const cJSON *b, inc_in_t *in)
{
    api_err_t e;
    memset(in, 0, sizeof *in);
    if (api_opt_enum(b, "kind", core_incident_kind_from_string, core_incident_kind_list, &in->kind,
                     &e) < 0 ||
        api_opt_time(b, "occurred_at", &in->occurred_at, &e) < 0 ||
        api_opt_time(b, "ended_at", &in->ended_at, &e) < 0 ||
        api_opt_str(b, "place", 500, &in->place, &e) < 0 ||
        api_opt_str(b, "discovered_by", 200, &in->discovered_by, &e) < 0 ||
        api_opt_str(b, "actions", 8000, &in->actions, &e) < 0 ||
        api_opt_str(b, "damage", 4000, &in->damage, &e) < 0) {
        api_err_send(r, &e);
        return -1;
    }
    if (!in->kind || !in->occurred_at) {
        const char *m = !in->kind ? "kind" : "occurred_at";
        http_invalid(r, NULL, m, "missing_field", "required", "'%s' is required", m);
        return -1;
    }
    int64_t now = (int64_t)time(NULL);
    if (in->occurred_at > now + 60) {
        http_invalid(r, NULL, "occurred_at", "invalid_field", "out_of_range",
                     "'occurred_at' may not be in the future");
        return -1;
    }
    if (in->ended_at && in->ended_at < in->occurred_at) {
        http_invalid(r, NULL, "ended_at", "invalid_field", "out_of_range",
                     "'ended_at' may not be before 'occurred_at'");
        return -1;
    }
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(b, "owners_notified");
    if (on && !cJSON_IsNull(on)) {
        if (!cJSON_IsBool(on)) {
            http_invalid(r, NULL, "owners_notified", "invalid_field", "invalid_type",
                         "'owners_notified' is true or false");
            return -1;
        }
        in->owners_notified = cJSON_IsTrue(on) ? "true" : "false";
    }
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(b, "services");
    cJSON *svc = cJSON_CreateArray();
    if (sv && !cJSON_IsNull(sv)) {
        const cJSON *it;
        int bad = !cJSON_IsArray(sv);
        cJSON_ArrayForEach(it, sv) if (!bad)
        {
            const char *s = cJSON_GetStringValue(it);
            bad = !s || (strcmp(s, "110") && strcmp(s, "119") && strcmp(s, "120") &&
                         strcmp(s, "lift_company"));
            if (!bad)
                cJSON_AddItemToArray(svc, cJSON_CreateString(s));
        }
        if (bad) {
            cJSON_Delete(svc);
            http_invalid(r, NULL, "services", "invalid_field", "invalid_enum",
                         "'services' lists outside services called: 110, 119, 120, lift_company");
            return -1;
        }
    }
    /* As a PostgreSQL text[] literal: the values are fixed words. */
    char buf[80] = "{";
    const cJSON *it;
    cJSON_ArrayForEach(it, svc)
    {
        if (strlen(buf) + 16 < sizeof buf) {
            if (buf[1])
                strcat(buf, ",");
            strcat(buf, it->valuestring);
        }
    }
    strcat(buf, "}");
    cJSON_Delete(svc);
    in->services = strdup(buf);
    if (!(in->request_ids = api_duty_uuid_array(r, b, "request_ids", 20, &in->nrequests)) ||
        !(in->units = api_duty_uuid_array(r, b, "affected_units", 500, &in->nunits)) ||
        nested(r, b, "police", police_fields, &in->police) ||
        nested(r, b, "lift_company", lift_fields, &in->lift) ||
        nested(r, b, "forced_entry", forced_fields, &in->forced))
        return -1;
    return 0;
}

/* The linked requests are the project's emergency requests, the units the project's. */
static int links_ok(req_t *r, db_conn_t *c, const char *project, const inc_in_t *in)
{
    const char *rv[] = {r->principal.org_id, project, in->request_ids};
    PGresult *res = api_duty_run(r, c, DQ_REQUESTS_OK, rv);
    if (!res)
        return -1;
    int ok = atoi(PQgetvalue(res, 0, 0)) == in->nrequests;
    PQclear(res);
    if (!ok) {
        http_invalid(r, NULL, "request_ids", "invalid_field", "not_found",
                     "'request_ids' must name emergency requests of the project");
        return -1;
    }
    const char *uv[] = {r->principal.org_id, project, in->units};
    if (!(res = api_duty_run(r, c, DQ_UNITS_OK, uv)))
        return -1;
    ok = atoi(PQgetvalue(res, 0, 0)) == in->nunits;
    PQclear(res);
    if (!ok) {
        http_invalid(r, NULL, "affected_units", "invalid_field", "not_found",
                     "'affected_units' must name units of the project");
        return -1;
    }
    return 0;
}

/* The due instant in the project's zone; -1 (sent) when the zone cannot be read. */
static int due_at(req_t *r, const char *tzname, int64_t occurred, int64_t *due)
{
    const tz_rules_t *tz = sla_zone(tzname);
    if (!tz) {
        http_problem(r, 500, "time_zone_unavailable",
                     "the project's time zone '%s' cannot be read on this server", tzname);
        return -1;
    }
    *due = core_incident_due_at(tz, occurred);
    return 0;
}

static int notify(req_t *r, db_conn_t *c, const char *project, const char *role, const char *kind,
                  const char *payload)
{
    const char *v[] = {r->principal.org_id, project, role, kind, payload};
    if (db_duty_do(c, DQ_NOTIFY_ROLE, v) != 0) {
        http_db_fail(r, "nothing was changed");
        return -1;
    }
    return 0;
}

static void create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e;
    const char *project = NULL;
    if (api_only_known(r->json, report_fields, "an incident report", &e) < 0 ||
        api_req_str(r->json, "project_id", 36, &project, &e) < 0 ||
        api_opt_uuid(r->json, "project_id", &project, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    inc_in_t in;
    if (parse(r, r->json, &in) != 0) {
        inc_free(&in);
        return;
    }
    char tz[64];
    int64_t due;
    db_conn_t *c = http_db_begin(r);
    PGresult *res = NULL;
    if (!c)
        goto out;
    if (api_duty_project(r, c, project, AZ_DUTY_WRITE, tz, NULL) != 0 ||
        links_ok(r, c, project, &in) != 0 || due_at(r, tz, in.occurred_at, &due) != 0)
        goto fail;
    char ob[32], eb[32], db[32];
    const char *v[] = {r->principal.org_id,
                       project,
                       in.kind,
                       in.request_ids,
                       api_duty_epoch(in.occurred_at, ob),
                       in.ended_at ? api_duty_epoch(in.ended_at, eb) : NULL,
                       in.place,
                       in.discovered_by,
                       in.actions,
                       in.services,
                       in.police,
                       in.lift,
                       in.units,
                       in.owners_notified,
                       in.forced,
                       in.damage,
                       api_duty_epoch(due, db),
                       r->principal.user_id};
    if (!(res = api_duty_run(r, c, DQ_INC_INSERT, v)))
        goto fail;
    /* RULES §3.8.9: a major event is reported to the CS manager at once. */
    cJSON *j = cJSON_Parse(PQgetvalue(res, 0, 0));
    char payload[200];
    snprintf(payload, sizeof payload, "{\"incident_report_id\": \"%s\", \"kind\": \"%s\"}",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id")), in.kind);
    cJSON_Delete(j);
    if (notify(r, c, project, "manager", "incident_opened", payload) != 0)
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    api_duty_send_versioned(r, 201, res, "incident report");
    res = NULL;
    goto out;
fail:
    db_rollback(c);
out:
    PQclear(res);
    inc_free(&in);
}

enum { I_JSON, I_PROJECT, I_STATE, I_KIND, I_VERSION };

static PGresult *load(req_t *r, db_conn_t *c, az_action_t az, int lock)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return NULL;
    const char *v[] = {r->principal.org_id, id};
    PGresult *res = api_duty_run(r, c, lock ? DQ_INC_LOCK : DQ_INC_GET, v);
    if (!res)
        return NULL;
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no incident report with this id in your scope");
        return NULL;
    }
    az_target_t t = {r->principal.org_id, PQgetvalue(res, 0, I_PROJECT), NULL, NULL, NULL};
    if (http_authorize(r, az, &t) != 0) {
        PQclear(res);
        return NULL;
    }
    return res;
}

static void get_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    PGresult *res = c ? load(r, c, AZ_DUTY_READ, 0) : NULL;
    if (res)
        api_duty_send_versioned(r, 200, res, "incident report");
}

static void list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    char pb[40], sb[16];
    const char *project = NULL, *state = NULL;
    if (http_query(r, "project_id", pb, sizeof pb) >= 0) {
        if (!http_is_uuid(pb)) {
            http_problem(r, 400, "invalid_query", "'project_id' must be a UUID");
            return;
        }
        project = pb;
    }
    if (http_query(r, "state", sb, sizeof sb) >= 0) {
        if (strcmp(sb, "draft") && strcmp(sb, "submitted") && strcmp(sb, "acknowledged")) {
            http_problem(r, 400, "invalid_query", "'state' is draft, submitted or acknowledged");
            return;
        }
        state = sb;
    }
    page_t pg;
    if (http_page_params(r, &pg) != 0)
        return;
    if (project && !core_authz_in_project(&r->principal, project)) {
        api_duty_send_empty_page(r);
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", pg.limit + 1);
    const char *v[] = {r->principal.org_id, http_scope_projects(r), project, state,
                       pg.cursor_ts,        pg.cursor_id,           lim};
    PGresult *res = db_duty(c, DQ_INC_LIST, v);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

/* The stored report's JSON members the body may change (all but the bookkeeping). */
static const char *const patch_fields[] = {
    "kind",           "request_ids",     "occurred_at",  "ended_at", "place",
    "discovered_by",  "actions",         "services",     "police",   "lift_company",
    "affected_units", "owners_notified", "forced_entry", "damage",   NULL};

static void patch_h(req_t *r)
{
    int expect;
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "incident report", &expect) != 0)
        return;
    api_err_t e;
    if (api_only_known(r->json, patch_fields, "an incident report's changes", &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    inc_in_t in;
    memset(&in, 0, sizeof in);
    PGresult *row = load(r, c, AZ_DUTY_WRITE, 1), *res = NULL;
    if (!row)
        goto fail;
    if (strcmp(PQgetvalue(row, 0, I_STATE), "draft")) {
        http_problem(r, 409, "invalid_state", "a %s report is no longer changed",
                     PQgetvalue(row, 0, I_STATE));
        goto fail;
    }
    if (atoi(PQgetvalue(row, 0, I_VERSION)) != expect) {
        char hdr[64];
        http_etag(hdr, sizeof hdr, atoi(PQgetvalue(row, 0, I_VERSION)));
        http_problem_hdr(r, 412, hdr, "stale_version",
                         "the report changed since you read it (now version %s)",
                         PQgetvalue(row, 0, I_VERSION));
        goto fail;
    }
    /* The stored report with the body's members over it becomes the body judged, so the
     * pointers of a 422 name the same members. */
    cJSON *merged = cJSON_Parse(PQgetvalue(row, 0, I_JSON));
    for (const char *const *f = patch_fields; merged && *f; f++) {
        cJSON *given = cJSON_DetachItemFromObjectCaseSensitive(r->json, *f);
        if (given)
            cJSON_ReplaceItemInObjectCaseSensitive(merged, *f, given);
    }
    for (cJSON *m = merged ? merged->child : NULL, *next; m; m = next) {
        next = m->next;
        int keep = 0;
        for (const char *const *f = patch_fields; *f && !keep; f++)
            keep = !strcmp(*f, m->string);
        if (!keep)
            cJSON_Delete(cJSON_DetachItemViaPointer(merged, m));
    }
    if (!merged) {
        http_problem(r, 500, "internal", "a stored report could not be read");
        goto fail;
    }
    cJSON_Delete(r->json);
    r->json = merged;
    const char *project = PQgetvalue(row, 0, I_PROJECT);
    char tz[64];
    int64_t due;
    if (parse(r, merged, &in) != 0 ||
        api_duty_project(r, c, project, AZ_DUTY_WRITE, tz, NULL) != 0 ||
        links_ok(r, c, project, &in) != 0 || due_at(r, tz, in.occurred_at, &due) != 0)
        goto fail;
    char ob[32], eb[32], db[32];
    const char *v[] = {http_uuid_param(r, 0),
                       r->principal.org_id,
                       in.kind,
                       in.request_ids,
                       api_duty_epoch(in.occurred_at, ob),
                       in.ended_at ? api_duty_epoch(in.ended_at, eb) : NULL,
                       in.place,
                       in.discovered_by,
                       in.actions,
                       in.services,
                       in.police,
                       in.lift,
                       in.units,
                       in.owners_notified,
                       in.forced,
                       in.damage,
                       api_duty_epoch(due, db)};
    if (!(res = api_duty_run(r, c, DQ_INC_UPDATE, v)))
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    api_duty_send_versioned(r, 200, res, "incident report");
    res = NULL;
    goto out;
fail:
    db_rollback(c);
out:
    PQclear(row);
    PQclear(res);
    inc_free(&in);
}

static const char *js(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_GetStringValue(x);
}

static int has_service(const cJSON *j, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "services"))
    {
        if (cJSON_IsString(it) && !strcmp(it->valuestring, s))
            return 1;
    }
    return 0;
}

static void submit_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    cJSON *j = NULL;
    PGresult *row = load(r, c, AZ_DUTY_WRITE, 1), *res = NULL;
    if (!row)
        goto fail;
    if (strcmp(PQgetvalue(row, 0, I_STATE), "draft")) {
        http_problem(r, 409, "invalid_state", "this report is already %s",
                     PQgetvalue(row, 0, I_STATE));
        goto fail;
    }
    j = cJSON_Parse(PQgetvalue(row, 0, I_JSON));
    incident_facts_t f;
    memset(&f, 0, sizeof f);
    f.kind = (incident_kind_t)core_incident_kind_from_string(PQgetvalue(row, 0, I_KIND));
    f.place = js(j, "place", NULL);
    f.actions = js(j, "actions", NULL);
    f.police_called = has_service(j, "110");
    f.police_officer_number = js(j, "police", "officer_number");
    f.police_case_number = js(j, "police", "case_number");
    f.lift_company_called = has_service(j, "lift_company") ||
                            cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "lift_company"));
    f.lift_company_contact = js(j, "lift_company", "contact");
    const char *arr = js(j, "lift_company", "arrived_at");
    if (arr && rfc3339_parse(arr, &f.lift_company_arrived_at) != 0)
        f.lift_company_arrived_at = 0;
    f.forced_entry = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "forced_entry"));
    f.forced_entry_decided_by = js(j, "forced_entry", "decided_by");
    f.forced_entry_explanation = js(j, "forced_entry", "explanation");
    f.affected_units = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "affected_units"));
    f.owners_notified_known = cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "owners_notified"));
    duty_verdict_t v = core_incident_submit_check(&f);
    if (v.status) {
        char detail[260];
        snprintf(detail, sizeof detail, "%s (complete the report with PATCH first)", v.detail);
        api_duty_problem(r, 422, "report_incomplete", v.pointer, "required", detail, NULL, NULL);
        goto fail;
    }
    const char *project = PQgetvalue(row, 0, I_PROJECT);
    const char *sv[] = {r->principal.org_id, http_uuid_param(r, 0), r->principal.user_id};
    if (!(res = api_duty_run(r, c, DQ_INC_SUBMIT, sv)))
        goto fail;
    char payload[200];
    snprintf(payload, sizeof payload, "{\"incident_report_id\": \"%s\", \"kind\": \"%s\"}",
             http_uuid_param(r, 0), PQgetvalue(row, 0, I_KIND));
    if (notify(r, c, project, "supervisor", "incident_report_submitted", payload) != 0 ||
        notify(r, c, project, "manager", "incident_report_submitted", payload) != 0 ||
        (core_incident_to_gm(f.kind) &&
         notify(r, c, project, "gm", "incident_report_gm", payload) != 0))
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    api_duty_send_versioned(r, 200, res, "incident report");
    res = NULL;
    goto out;
fail:
    db_rollback(c);
out:
    cJSON_Delete(j);
    PQclear(row);
    PQclear(res);
}

static void acknowledge_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_SUPERVISE) != 0 || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    PGresult *row = load(r, c, AZ_DUTY_SUPERVISE, 1), *res = NULL;
    if (!row)
        goto fail;
    if (strcmp(PQgetvalue(row, 0, I_STATE), "submitted")) {
        http_problem(r, 409, "invalid_state",
                     "only a submitted report is acknowledged (this one is %s)",
                     PQgetvalue(row, 0, I_STATE));
        goto fail;
    }
    const char *v[] = {r->principal.org_id, http_uuid_param(r, 0), r->principal.user_id};
    if (!(res = api_duty_run(r, c, DQ_INC_ACK, v)))
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    PQclear(row);
    api_duty_send_versioned(r, 200, res, "incident report");
    return;
fail:
    db_rollback(c);
    PQclear(row);
    PQclear(res);
}

void api_incident_routes(void)
{
    http_route("POST", "/v1/incidents", create_h, 0, NULL);
    http_route("GET", "/v1/incidents", list_h, 0, NULL);
    http_route("GET", "/v1/incidents/{id}", get_h, 0, NULL);
    http_route("PATCH", "/v1/incidents/{id}", patch_h, 0, NULL);
    http_route("POST", "/v1/incidents/{id}/submit", submit_h, 0, NULL);
    http_route("POST", "/v1/incidents/{id}/acknowledge", acknowledge_h, 0, NULL);
}
