/*
 * api/request.c — service requests over HTTP: reads, lists with filters and free-text
 * search, and the timeline; the scope checks and row locking every request handler
 * shares; and the routes of the request resource.  Intake is in api/request_create.c,
 * workflow actions and field edits in api/request_action.c.
 */
#include "api/register.h"
#include "api/request.h"
#include "api/codec.h"
#include "core/request.h"
#include "core/strtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const validities[] = {"unknown", "valid", "invalid", NULL};

int api_request_validity_from(const char *s)
{
    return core_strtab_index(validities, -1, s) >= 0 ? 0 : -1;
}

size_t api_request_validity_list(char *buf, size_t len)
{
    return core_strtab_join(validities, -1, buf, len);
}

static int bool_from(const char *s)
{
    return !strcmp(s, "true") || !strcmp(s, "false") ? 0 : -1;
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
        f->json = api_register_splice(r, c, id, f->json, sc.has_register_notes);
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
    if (core_authz_own_department_only(p, AZ_REQUEST_READ))
        f.dept_only = p->dept_id ? p->dept_id : "00000000-0000-0000-0000-000000000000";

    char tq[20][256];
    static const struct {
        const char *name;
        size_t off;
        int kind; /* 0 text, 1 uuid, 2 time, 3 enum fn, 4 uuid or "me" */
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
        /* 首问负责制: "my registrations still open" is first_receiver=me&open=true */
        {"owner", offsetof(request_filter_t, owner_id), 4, NULL},
        {"first_receiver", offsetof(request_filter_t, first_receiver_id), 4, NULL},
        {"open", offsetof(request_filter_t, open), 3, bool_from},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        int n = http_query(r, qs[i].name, tq[i], sizeof tq[i]);
        if (n < 0)
            continue;
        int64_t tv;
        if (n == 0 || (qs[i].kind == 1 && !http_is_uuid(tq[i])) ||
            (qs[i].kind == 2 && rfc3339_parse(tq[i], &tv) != 0) ||
            (qs[i].kind == 3 && qs[i].from(tq[i]) < 0) ||
            (qs[i].kind == 4 && strcmp(tq[i], "me") && !http_is_uuid(tq[i]))) {
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
        *(const char **)((char *)&f + qs[i].off) =
            qs[i].kind == 4 && !strcmp(tq[i], "me") ? p->user_id : tq[i];
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
    http_send_page(r, res, want);
    PQclear(res);
}

void api_request_register(void)
{
    http_route("POST", "/v1/requests", api_request_create_h, 0, NULL);
    http_route("GET", "/v1/requests", list_h, ROUTE_REPLICA, NULL);
    http_route("GET", "/v1/requests/{id}", get_h, 0, NULL);
    http_route("PATCH", "/v1/requests/{id}", api_request_patch_h, 0, NULL);
    http_route("GET", "/v1/requests/{id}/timeline", timeline_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/actions/{action}", api_request_action_h, 0, NULL);
}
