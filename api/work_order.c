/*
 * api/work_order.c — work-order reads for departments: one work order, and the list
 * filtered by department, state, assignee and request.
 */
#include "api/api.h"
#include "api/http.h"
#include "core/request.h"
#include "db/work_order.h"

#include <stdio.h>

static int load_work_order(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)arg;
    wo_scope_t sc;
    int found = db_workorder_get(c, id, r->principal.org_id, &f->json, &sc);
    if (found == 1) {
        snprintf(f->project_id, sizeof f->project_id, "%s", sc.project_id);
        snprintf(f->dept_id, sizeof f->dept_id, "%s", sc.department_id);
    }
    return found;
}

static void wo_get_h(req_t *r)
{
    http_get_one(r, AZ_WORKORDER_READ, "work order", load_work_order, NULL);
}

static void wo_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_WORKORDER_READ) != 0)
        return;
    const principal_t *p = &r->principal;
    const char *proj = http_scope_projects(r);
    const char *dept_only = NULL;
    if (core_authz_own_department_only(p, AZ_WORKORDER_READ))
        dept_only = p->dept_id ? p->dept_id : "00000000-0000-0000-0000-000000000000";
    char dept[64], state[32], assignee[64], request[64];
    const char *fd = NULL, *fs = NULL, *fa = NULL, *fr = NULL;
    if (http_query(r, "department_id", dept, sizeof dept) >= 0) {
        if (!http_is_uuid(dept))
            goto bad;
        fd = dept;
    }
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (core_request_work_order_state_from_string(state) < 0)
            goto bad;
        fs = state;
    }
    if (http_query(r, "assignee_id", assignee, sizeof assignee) >= 0) {
        if (!http_is_uuid(assignee))
            goto bad;
        fa = assignee;
    }
    if (http_query(r, "request_id", request, sizeof request) >= 0) {
        if (!http_is_uuid(request))
            goto bad;
        fr = request;
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_workorder_list(c, p->org_id, proj, dept_only, fd, fs, fa, fr, pg.cursor_ts,
                                      pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
    return;
bad:
    http_problem(r, 400, "invalid_query",
                 "check department_id/assignee_id/request_id (UUIDs) and state (a work-order "
                 "state)");
}

void api_work_order_register(void)
{
    http_route("GET", "/v1/work-orders", wo_list_h, ROUTE_REPLICA, NULL);
    http_route("GET", "/v1/work-orders/{id}", wo_get_h, 0, NULL);
}
