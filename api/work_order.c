/*
 * api/work_order.c — work-order reads for departments: one work order, and the list
 * filtered by department, state, assignee and request.
 */
#include "api/api.h"
#include "api/http.h"
#include "core/request.h"
#include "db/work_order.h"

#include <stdlib.h>

static void wo_get_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_WORKORDER_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *json = NULL;
    wo_scope_t sc;
    int f = db_workorder_get(c, id, r->principal.org_id, &json, &sc);
    if (f < 0) {
        http_db_fail(r, NULL);
        return;
    }
    if (f == 0) {
        http_problem(r, 404, "not_found", "no work order with this id in your scope");
        return;
    }
    az_target_t t = {r->principal.org_id, sc.project_id, NULL, sc.department_id, NULL};
    if (http_authorize(r, AZ_WORKORDER_READ, &t) == 0)
        http_send_json(r, 200, json, NULL);
    free(json);
}

static void wo_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_WORKORDER_READ) != 0)
        return;
    const principal_t *p = &r->principal;
    const char *proj = http_scope_projects(r);
    const char *dept_only = NULL;
    if (p->role == ROLE_TECHNICIAN)
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
    if (http_page_params(r, &pg) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *res = db_workorder_list(c, p->org_id, proj, dept_only, fd, fs, fa, fr,
                                      pg.after_ts[0] ? pg.after_ts : NULL,
                                      pg.after_id[0] ? pg.after_id : NULL, pg.limit + 1);
    if (!db_ok(res))
        http_db_error(r, res);
    else
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
    http_route("GET", "/v1/work-orders", wo_list_h, 0, NULL);
    http_route("GET", "/v1/work-orders/{id}", wo_get_h, 0, NULL);
}
