/*
 * api/capa.c — corrective and preventive actions and rectifications (RULES §3.3): open one,
 * list and read them with their events, act on them (judged by core_capa_judge), and the
 * "department below target" trigger (capa_create_for_department, db/capa.c).  Every action
 * is one transaction: lock the row, 404 outside the caller's projects, judge, update with
 * its event, commit.
 */
#include "api/capa.h"
#include "api/api.h"
#include "api/codec.h"
#include "core/capa.h"
#include "db/capa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_MAX 4000

static const char *const source_kinds[] = {
    "request", "survey_item", "department_below_target", "visit", "patrol_finding", "other", NULL};

/* The sources member: [{"kind": …, "id": …}] (at most 50). */
static int read_sources(const cJSON *o, char **out, api_err_t *e)
{
    *out = NULL;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "sources");
    if (!a || cJSON_IsNull(a))
        return 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 50)
        return api_err_at(e, o, "sources", "invalid_type", "invalid_field",
                          "'sources' must be an array of at most 50 {kind, id} objects");
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        static const char *const known[] = {"kind", "id", NULL};
        const char *k, *id;
        if (!cJSON_IsObject(it))
            return api_err_at(e, it, NULL, "invalid_type", "invalid_field",
                              "each source is an object {kind, id}");
        if (api_only_known(it, known, "a source", e) < 0 ||
            api_req_str(it, "kind", 64, &k, e) < 0 || api_req_str(it, "id", 200, &id, e) < 0)
            return -1;
        if (core_strtab_index(source_kinds, -1, k) < 0) {
            char list[200];
            core_strtab_join(source_kinds, -1, list, sizeof list);
            return api_err_at(e, it, "kind", "invalid_enum", "invalid_field",
                              "a source's kind is one of %s", list);
        }
    }
    *out = cJSON_PrintUnformatted(a);
    return *out ? 1 : api_err_set(e, 503, "unavailable", "out of memory");
}

static int opt_text(const cJSON *o, const char *name, const char **out, api_err_t *e)
{
    return api_opt_str(o, name, TEXT_MAX, out, e);
}

int api_capa_create_in(req_t *r, db_conn_t *c, const cJSON *o, const char *project,
                       const char *kind, const char *sources, char **id, api_err_t *e)
{
    const char *title, *problem = NULL, *dept = NULL, *resp = NULL;
    int major = -1; /* api_opt_bool: -1 absent */
    int64_t due = 0;
    char *others = NULL;
    *id = NULL;
    if (api_req_str(o, "title", 200, &title, e) < 0 || opt_text(o, "problem", &problem, e) < 0 ||
        api_opt_bool(o, "major", &major, e) < 0 || api_opt_uuid(o, "department_id", &dept, e) < 0 ||
        api_opt_uuid(o, "responsible_id", &resp, e) < 0 || api_opt_time(o, "due_at", &due, e) < 0 ||
        api_uuid_array(o, "other_departments", 20, &others, NULL, e) < 0)
        return e->status;
    if (due && due <= (int64_t)time(NULL)) {
        free(others);
        return api_err_at(e, o, "due_at", "out_of_range", "invalid_field",
                          "'due_at' must lie in the future"),
               e->status;
    }
    char *bad = db_capa_check_people(c, r->principal.org_id, project, dept, resp, others);
    if (!bad) {
        free(others);
        return -1;
    }
    if (bad[0]) {
        /* e keeps the member's name: a static one, not the result's */
        static const char *const names[] = {"department_id", "responsible_id", "other_departments",
                                            NULL};
        int k = core_strtab_index(names, -1, bad);
        api_err_at(e, o, names[k < 0 ? 0 : k], "not_found", "invalid_field",
                   "'%s' names no active department or staff member of the project", bad);
        free(bad);
        free(others);
        return e->status;
    }
    free(bad);
    char dues[32];
    if (due)
        rfc3339_format(due, dues);
    db_capa_new_t n = {r->principal.org_id,
                       project,
                       kind,
                       title,
                       problem,
                       major > 0,
                       dept,
                       resp,
                       others,
                       due ? dues : NULL,
                       sources,
                       r->principal.user_id,
                       core_role_name(r->principal.role),
                       NULL};
    *id = db_capa_create(c, &n);
    free(others);
    return *id ? 0 : -1;
}

static void send_capa(req_t *r, int status, const char *json)
{
    cJSON *j = cJSON_Parse(json);
    const cJSON *v = cJSON_GetObjectItem(j, "version");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(j, "id"));
    char hdr[160] = "";
    if (cJSON_IsNumber(v))
        http_etag(hdr, sizeof hdr, v->valueint);
    if (status == 201 && id)
        snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr),
                 "Location: /v1/corrective-actions/%s\r\n", id);
    cJSON_Delete(j);
    http_send_json(r, status, json, hdr[0] ? hdr : NULL);
}

static void create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CAPA_CREATE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"project_id",
                                        "kind",
                                        "title",
                                        "problem",
                                        "major",
                                        "department_id",
                                        "responsible_id",
                                        "other_departments",
                                        "due_at",
                                        "sources",
                                        NULL};
    if (http_known_fields(r, "a corrective action", known) != 0)
        return;
    api_err_t e = {0};
    const char *project, *kind;
    if (api_req_str(r->json, "project_id", 36, &project, &e) < 0 ||
        api_req_str(r->json, "kind", 32, &kind, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    if (!http_is_uuid(project)) {
        http_invalid(r, NULL, "project_id", "invalid_field", "invalid_format",
                     "'project_id' must be a UUID");
        return;
    }
    if (core_capa_kind_from_string(kind) < 0) {
        char list[128];
        core_capa_kind_list(list, sizeof list);
        http_invalid(r, NULL, "kind", "invalid_field", "invalid_enum", "'kind' is one of %s", list);
        return;
    }
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_CAPA_CREATE, &t) != 0)
        return;
    char *sources = NULL;
    if (read_sources(r->json, &sources, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c || db_begin(c) != 0) {
        free(sources);
        if (c)
            http_db_fail(r, NULL);
        return;
    }
    char *id = NULL, *json = NULL;
    int st = api_capa_create_in(r, c, r->json, project, kind, sources, &id, &e);
    free(sources);
    if (st == 0)
        json = db_capa_json(c, r->principal.org_id, id);
    if (st == 0 && json && db_commit(c) == 0) {
        send_capa(r, 201, json);
    } else {
        db_rollback(c);
        if (st > 0)
            api_err_send(r, &e);
        else
            http_db_fail(r, "the corrective action was not saved");
    }
    free(id);
    free(json);
}

static int load(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)r;
    (void)arg;
    f->json = db_capa_json(c, r->principal.org_id, id);
    if (!f->json)
        return 0;
    cJSON *j = cJSON_Parse(f->json);
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "project_id"));
    snprintf(f->project_id, sizeof f->project_id, "%s", p ? p : "");
    const cJSON *v = cJSON_GetObjectItem(j, "version");
    f->version = cJSON_IsNumber(v) ? v->valueint : -1;
    cJSON_Delete(j);
    return 1;
}

static void get_h(req_t *r)
{
    http_get_one(r, AZ_CAPA_READ, "corrective action", load, NULL);
}

static void events_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CAPA_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    http_found_t f;
    if (!c || http_load(r, c, AZ_CAPA_READ, "corrective action", id, load, NULL, &f) != 0)
        return;
    free(f.json);
    char *ev = db_capa_events(c, r->principal.org_id, id);
    if (!ev) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, ev);
    free(ev);
}

static void list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CAPA_READ) != 0)
        return;
    char project[64], state[40], kind[40], resp[64], overdue[8], sk[40], sid[201];
    const char *fp = NULL, *fs = NULL, *fk = NULL, *fr = NULL, *fo = NULL, *fsk = NULL,
               *fsid = NULL;
    if (http_query(r, "project_id", project, sizeof project) >= 0) {
        if (!http_is_uuid(project))
            goto bad;
        fp = project;
    }
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (core_capa_state_from_string(state) < 0)
            goto bad;
        fs = state;
    }
    if (http_query(r, "kind", kind, sizeof kind) >= 0) {
        if (core_capa_kind_from_string(kind) < 0)
            goto bad;
        fk = kind;
    }
    if (http_query(r, "responsible_id", resp, sizeof resp) >= 0) {
        if (!http_is_uuid(resp))
            goto bad;
        fr = resp;
    }
    if (http_query(r, "overdue", overdue, sizeof overdue) >= 0) {
        if (strcmp(overdue, "true") && strcmp(overdue, "false"))
            goto bad;
        fo = overdue;
    }
    if (http_query(r, "source_kind", sk, sizeof sk) >= 0) {
        if (core_strtab_index(source_kinds, -1, sk) < 0)
            goto bad;
        fsk = sk;
    }
    if (http_query(r, "source_id", sid, sizeof sid) >= 0) {
        if (!fsk || !sid[0])
            goto bad;
        fsid = sid;
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_capa_list(c, r->principal.org_id, http_scope_projects(r), fp, fs, fk, fr, fo,
                                 fsk, fsid, pg.cursor_ts, pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
    return;
bad:
    http_problem(r, 400, "invalid_query",
                 "check project_id and responsible_id (UUIDs), state, kind, overdue (true or "
                 "false), source_kind and source_id (with source_kind)");
}

/* ---- actions ------------------------------------------------------------------------- */

static const char *const *known_for(capa_action_t a)
{
    static const char *const propose[] = {"cause_analysis",
                                          "responsibility",
                                          "remedial_action",
                                          "measures",
                                          "due_at",
                                          "other_departments",
                                          NULL};
    static const char *const note[] = {"note", NULL};
    static const char *const implement[] = {"implementation_notes", "implemented_at", NULL};
    static const char *const verify[] = {"effective", "verification", NULL};
    static const char *const cancel[] = {"reason", NULL};
    static const char *const confirm[] = {"confirmed", "customer_confirmation", NULL};
    static const char *const review[] = {"held_at", "attendees", "conclusion", NULL};
    switch (a) {
    case CAPA_ACT_PROPOSE:
        return propose;
    case CAPA_ACT_IMPLEMENT:
        return implement;
    case CAPA_ACT_VERIFY:
        return verify;
    case CAPA_ACT_CANCEL:
        return cancel;
    case CAPA_ACT_CONFIRM:
        return confirm;
    case CAPA_ACT_REVIEW:
        return review;
    default:
        return note;
    }
}

/* Reads the body of action a into patch (fields stored) and details (the event's extras);
 * sets *effective for verify and *others for propose.  0 or -1 with e filled. */
static int read_action(const cJSON *b, capa_action_t a, cJSON *patch, cJSON *details,
                       int *effective, char **others, api_err_t *e)
{
    const char *s;
    int64_t t = 0;
    int flag = 0, rc;
    switch (a) {
    case CAPA_ACT_PROPOSE: {
        static const char *const req[] = {"cause_analysis", "responsibility", "measures", NULL};
        for (const char *const *k = req; *k; k++) {
            if (api_req_str(b, *k, TEXT_MAX, &s, e) < 0)
                return -1;
            cJSON_AddStringToObject(patch, *k, s);
        }
        if ((rc = opt_text(b, "remedial_action", &s, e)) < 0)
            return -1;
        if (rc)
            cJSON_AddStringToObject(patch, "remedial_action", s);
        if ((rc = api_opt_time(b, "due_at", &t, e)) < 0)
            return -1;
        if (rc) {
            char ts[32];
            if (t <= (int64_t)time(NULL))
                return api_err_at(e, b, "due_at", "out_of_range", "invalid_field",
                                  "'due_at' must lie in the future");
            rfc3339_format(t, ts);
            cJSON_AddStringToObject(patch, "due_at", ts);
        }
        if (api_uuid_array(b, "other_departments", 20, others, NULL, e) < 0)
            return -1;
        if (*others)
            cJSON_AddItemToObject(patch, "other_departments",
                                  cJSON_Duplicate(cJSON_GetObjectItem(b, "other_departments"), 1));
        return 0;
    }
    case CAPA_ACT_IMPLEMENT:
        if (api_req_str(b, "implementation_notes", TEXT_MAX, &s, e) < 0)
            return -1;
        cJSON_AddStringToObject(patch, "implementation_notes", s);
        if ((rc = api_opt_time(b, "implemented_at", &t, e)) < 0)
            return -1;
        if (rc) {
            char ts[32];
            if (t > (int64_t)time(NULL) + 60)
                return api_err_at(e, b, "implemented_at", "out_of_range", "invalid_field",
                                  "'implemented_at' cannot lie in the future");
            rfc3339_format(t, ts);
            cJSON_AddStringToObject(patch, "implemented_at", ts);
        }
        return 0;
    case CAPA_ACT_VERIFY: {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "effective");
        if (!cJSON_IsBool(v))
            return api_err_at(e, b, "effective", v ? "invalid_type" : "required",
                              v ? "invalid_field" : "missing_field",
                              "'effective' (true or false) says whether the measures worked");
        *effective = cJSON_IsTrue(v);
        if (api_req_str(b, "verification", TEXT_MAX, &s, e) < 0)
            return -1;
        cJSON_AddStringToObject(patch, "verification", s);
        cJSON_AddBoolToObject(details, "effective", *effective);
        return 0;
    }
    case CAPA_ACT_CANCEL:
        if (api_req_str(b, "reason", 2000, &s, e) < 0)
            return -1;
        cJSON_AddStringToObject(patch, "cancel_reason", s);
        return 0;
    case CAPA_ACT_CONFIRM: {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "confirmed");
        if (!cJSON_IsBool(v))
            return api_err_at(e, b, "confirmed", v ? "invalid_type" : "required",
                              v ? "invalid_field" : "missing_field",
                              "'confirmed' (true or false) records whether the customer agreed");
        if (api_req_str(b, "customer_confirmation", TEXT_MAX, &s, e) < 0)
            return -1;
        cJSON_AddBoolToObject(patch, "customer_confirmed", cJSON_IsTrue(v));
        cJSON_AddStringToObject(patch, "customer_confirmation", s);
        return 0;
    }
    case CAPA_ACT_REVIEW: {
        if ((rc = api_opt_time(b, "held_at", &t, e)) < 0)
            return -1;
        if (!rc)
            return api_err_at(e, b, "held_at", "required", "missing_field",
                              "'held_at' (RFC 3339) is when the joint review was held");
        if (t > (int64_t)time(NULL) + 60)
            return api_err_at(e, b, "held_at", "out_of_range", "invalid_field",
                              "'held_at' cannot lie in the future");
        if (api_uuid_array(b, "attendees", 50, others, NULL, e) < 0)
            return -1;
        if (!*others || cJSON_GetArraySize(cJSON_GetObjectItem(b, "attendees")) < 1)
            return api_err_at(e, b, "attendees", "required", "missing_field",
                              "'attendees' lists the user ids of the department heads present");
        if (api_req_str(b, "conclusion", TEXT_MAX, &s, e) < 0)
            return -1;
        char ts[32];
        rfc3339_format(t, ts);
        cJSON *rv = cJSON_CreateObject();
        cJSON_AddStringToObject(rv, "held_at", ts);
        cJSON_AddItemToObject(rv, "attendees",
                              cJSON_Duplicate(cJSON_GetObjectItem(b, "attendees"), 1));
        cJSON_AddStringToObject(rv, "conclusion", s);
        cJSON_AddItemToObject(patch, "review", rv);
        (void)flag;
        return 0;
    }
    default:
        if (opt_text(b, "note", &s, e) < 0)
            return -1;
        if (s)
            cJSON_AddStringToObject(details, "note", s);
        return 0;
    }
}

static void action_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CAPA_ACT) != 0)
        return;
    int ai = core_capa_action_from_string(r->params[1]);
    if (ai < 0) {
        char list[160];
        core_capa_action_list(list, sizeof list);
        http_problem(r, 404, "unknown_action", "no action '%s'; the actions are %s", r->params[1],
                     list);
        return;
    }
    capa_action_t a = (capa_action_t)ai;
    if (r->body_len == 0)
        r->json = cJSON_CreateObject();
    else if (http_json_body(r) != 0)
        return;
    if (!cJSON_IsObject(r->json)) {
        http_problem(r, 400, "invalid_body", "send a JSON object");
        return;
    }
    if (http_known_fields(r, "this action's body", known_for(a)) != 0)
        return;
    cJSON *patch = cJSON_CreateObject(), *details = cJSON_CreateObject();
    char *others = NULL, *pj = NULL, *dj = NULL, *json = NULL;
    PGresult *row = NULL;
    int effective = 0;
    api_err_t e = {0};
    db_conn_t *c = NULL;
    if (read_action(r->json, a, patch, details, &effective, &others, &e) < 0) {
        api_err_send(r, &e);
        goto out;
    }
    if (!(c = http_db(r)))
        goto out;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        goto out;
    }
    row = db_capa_lock(c, r->principal.org_id, id);
    if (!db_ok(row)) {
        http_db_error(r, row);
        goto fail;
    }
    if (PQntuples(row) != 1) {
        http_problem(r, 404, "not_found", "no corrective action with this id in your scope");
        goto fail;
    }
    const char *project = PQgetvalue(row, 0, 0), *from = PQgetvalue(row, 0, 1);
    const char *resp = PQgetvalue(row, 0, 3);
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_CAPA_ACT, &t) != 0)
        goto fail;
    int version = atoi(PQgetvalue(row, 0, 6));
    if (http_header(r, "If-Match")) {
        int want;
        if (http_if_match(r, "corrective action", &want) != 0)
            goto fail;
        if (want != version) {
            http_problem(r, 412, "stale_version",
                         "the corrective action changed (version %d, you sent %d); GET it again",
                         version, want);
            goto fail;
        }
    }
    capa_facts_t f = {(capa_state_t)core_capa_state_from_string(from),
                      r->principal.role,
                      resp[0] && r->principal.user_id && !strcmp(resp, r->principal.user_id),
                      atoi(PQgetvalue(row, 0, 4)),
                      PQgetvalue(row, 0, 2)[0] == 't',
                      PQgetvalue(row, 0, 5)[0] == 't',
                      effective};
    if (a == CAPA_ACT_PROPOSE && others) {
        /* the departments the measures involve count for the approver rule */
        char *bad = db_capa_check_people(c, r->principal.org_id, project, NULL, NULL, others);
        if (!bad)
            goto dbfail;
        if (bad[0]) {
            free(bad);
            http_invalid(r, NULL, "other_departments", "invalid_field", "not_found",
                         "'other_departments' names a department not of the project");
            goto fail;
        }
        free(bad);
    }
    if (a == CAPA_ACT_REVIEW) {
        int ok = db_capa_staff(c, r->principal.org_id, project, others);
        if (ok < 0)
            goto dbfail;
        if (!ok) {
            http_invalid(r, NULL, "attendees", "invalid_field", "not_found",
                         "'attendees' names someone who is not active staff of the project");
            goto fail;
        }
        cJSON *rv = cJSON_GetObjectItem(patch, "review");
        cJSON_AddStringToObject(rv, "convened_by", r->principal.user_id);
        cJSON_AddStringToObject(rv, "convener_role", core_role_name(r->principal.role));
        cJSON_AddItemToObject(details, "review", cJSON_Duplicate(rv, 1));
    }
    capa_verdict_t v = core_capa_judge(&f, a);
    if (v.status) {
        http_problem(r, v.status, v.code, "%s (the action is %s)", v.detail, from);
        goto fail;
    }
    pj = cJSON_PrintUnformatted(patch);
    dj = cJSON_PrintUnformatted(details);
    if (!pj || !dj ||
        db_capa_apply(c, r->principal.org_id, id, core_capa_action_name(a), from,
                      core_capa_state_name(v.next), pj, r->principal.user_id,
                      core_role_name(r->principal.role), atoi(PQgetvalue(row, 0, 7)) + 1,
                      dj) != 0 ||
        !(json = db_capa_json(c, r->principal.org_id, id)) || db_commit(c) != 0)
        goto dbfail;
    send_capa(r, 200, json);
    goto out;
dbfail:
    db_rollback(c);
    http_db_fail(r, "nothing was changed");
    goto out;
fail:
    db_rollback(c);
out:
    PQclear(row);
    cJSON_Delete(patch);
    cJSON_Delete(details);
    free(others);
    free(pj);
    free(dj);
    free(json);
}

/* POST /v1/corrective-actions/department-below-target — the survey feature's trigger, also
 * callable by a supervisor: {project_id, department_id, period, figure, target}. */
static void below_target_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CAPA_CREATE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"project_id", "department_id", "period",
                                        "figure",     "target",        NULL};
    if (http_known_fields(r, "a department's result", known) != 0)
        return;
    api_err_t e = {0};
    const char *project, *dept, *period;
    if (api_req_str(r->json, "project_id", 36, &project, &e) < 0 ||
        api_req_str(r->json, "department_id", 36, &dept, &e) < 0 ||
        api_req_str(r->json, "period", 32, &period, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    if (!http_is_uuid(project) || !http_is_uuid(dept)) {
        http_invalid(r, NULL, http_is_uuid(project) ? "department_id" : "project_id",
                     "invalid_field", "invalid_format",
                     "'project_id' and 'department_id' are UUIDs");
        return;
    }
    const cJSON *fig = cJSON_GetObjectItem(r->json, "figure"),
                *tgt = cJSON_GetObjectItem(r->json, "target");
    if (!cJSON_IsNumber(fig) || fig->valuedouble < 0 || fig->valuedouble > 100) {
        http_invalid(r, NULL, "figure", fig ? "invalid_field" : "missing_field",
                     fig ? "out_of_range" : "required",
                     "'figure' is the department's satisfaction in per cent (0 to 100)");
        return;
    }
    if (!cJSON_IsNumber(tgt) || tgt->valuedouble <= 0 || tgt->valuedouble > 100) {
        http_invalid(r, NULL, "target", tgt ? "invalid_field" : "missing_field",
                     tgt ? "out_of_range" : "required",
                     "'target' is the project's satisfaction target in per cent (above 0, at most "
                     "100)");
        return;
    }
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_CAPA_CREATE, &t) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    char *json = NULL;
    int rc = capa_create_for_department(c, r->principal.org_id, project, dept, period,
                                        fig->valuedouble, tgt->valuedouble, r->principal.user_id,
                                        core_role_name(r->principal.role), &json);
    if (rc == 2) {
        db_rollback(c);
        http_send_json(
            r, 200, "{\"created\":false,\"below_target\":false,\"corrective_action\":null}", NULL);
        return;
    }
    if (rc < 0 && !json) {
        const char *st = NULL;
        db_last_error(&st, NULL, NULL);
        db_rollback(c);
        if (st && st[0])
            http_db_fail(r, "nothing was created");
        else
            http_invalid(r, NULL, "department_id", "invalid_field", "not_found",
                         "'department_id' names no department of the project");
        return;
    }
    if (db_commit(c) != 0) {
        free(json);
        http_db_fail(r, "nothing was created");
        return;
    }
    size_t n = strlen(json) + 80;
    char *out = malloc(n);
    if (out) {
        snprintf(out, n, "{\"created\":%s,\"below_target\":true,\"corrective_action\":%s}",
                 rc == 1 ? "true" : "false", json);
        http_send_json(r, rc == 1 ? 201 : 200, out, NULL);
    } else {
        http_problem(r, 503, "unavailable", "out of memory");
    }
    free(out);
    free(json);
}

void api_capa_register(void)
{
    http_route("POST", "/v1/corrective-actions", create_h, 0, NULL);
    http_route("GET", "/v1/corrective-actions", list_h, 0, NULL);
    http_route("POST", "/v1/corrective-actions/department-below-target", below_target_h, 0, NULL);
    http_route("GET", "/v1/corrective-actions/{id}", get_h, 0, NULL);
    http_route("GET", "/v1/corrective-actions/{id}/events", events_h, 0, NULL);
    http_route("POST", "/v1/corrective-actions/{id}/actions/{action}", action_h, 0, NULL);
}
