/*
 * api/flow.c — the desk's workflow figures of a project and period (RULES §2 #10): work
 * orders refused (拒绝接单, a scored fault in seed 001) per department and person, and
 * the rework rate (维修返修率: repeat repairs ÷ repairs).  Read by the report readers.
 */
#include "api/api.h"
#include "api/http.h"
#include "core/request.h"
#include "core/rfc3339.h"
#include "db/flow.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FLOW_DEFAULT_SPAN_S (30 * 86400)
#define FLOW_MAX_SPAN_S     (400 * 86400)

typedef struct flow_ctx {
    const char *project_id;
    db_conn_t *c;
    char from[32], to[32];
} flow_ctx_t;

/* The period: from/to (RFC 3339, from inclusive, to exclusive); to defaults to now and
 * from to 30 days before to.  Times are whole seconds.  0, or -1 with a 400 sent. */
static int period(req_t *r, flow_ctx_t *x)
{
    char f[64], t[64];
    int64_t to = (int64_t)time(NULL) + 1, from; /* by default up to and including now */
    int hf = http_query(r, "from", f, sizeof f) >= 0, ht = http_query(r, "to", t, sizeof t) >= 0;
    if ((ht && rfc3339_parse(t, &to) != 0) || (hf && rfc3339_parse(f, &from) != 0)) {
        http_problem(r, 400, "invalid_query", "'from' and 'to' must be RFC 3339 times");
        return -1;
    }
    if (!hf)
        from = to - FLOW_DEFAULT_SPAN_S;
    if (from >= to || to - from > FLOW_MAX_SPAN_S) {
        http_problem(r, 400, "invalid_query",
                     "'from' must lie before 'to', and the period may span at most 400 days");
        return -1;
    }
    rfc3339_format(from, x->from);
    rfc3339_format(to, x->to);
    return 0;
}

/* Role, then the project (404 outside the organisation), then its scope, then the period. */
static int load(req_t *r, flow_ctx_t *x)
{
    if (http_authorize_role(r, AZ_REPORT_READ) != 0 || !(x->project_id = http_uuid_param(r, 0)) ||
        period(r, x) != 0 || !(x->c = http_db(r)))
        return -1;
    int f = db_flow_project(x->c, r->principal.org_id, x->project_id);
    if (f < 0) {
        http_db_fail(r, NULL);
        return -1;
    }
    if (f == 0) {
        http_problem(r, 404, "not_found", "no project with this id in your scope");
        return -1;
    }
    az_target_t t = {r->principal.org_id, x->project_id, NULL, NULL, NULL};
    return http_authorize(r, AZ_REPORT_READ, &t) != 0 ? -1 : 0;
}

static void answer(req_t *r, const flow_ctx_t *x, cJSON *o)
{
    cJSON_AddStringToObject(o, "project_id", x->project_id);
    cJSON_AddStringToObject(o, "from", x->from);
    cJSON_AddStringToObject(o, "to", x->to);
    char *s = cJSON_PrintUnformatted(o);
    if (s)
        http_send_json(r, 200, s, NULL);
    else
        http_problem(r, 500, "internal", "out of memory");
    free(s);
}

/* GET /v1/projects/{id}/figures/refusals */
static void refusals_h(req_t *r)
{
    flow_ctx_t x;
    char *json = NULL;
    if (load(r, &x) != 0)
        return;
    if (db_flow_refusals(x.c, r->principal.org_id, x.project_id, x.from, x.to, &json) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    cJSON *o = cJSON_Parse(json);
    free(json);
    if (!o) {
        http_problem(r, 500, "internal", "the figures could not be read");
        return;
    }
    answer(r, &x, o);
    cJSON_Delete(o);
}

/* GET /v1/projects/{id}/figures/rework */
static void rework_h(req_t *r)
{
    flow_ctx_t x;
    long long repairs = 0, repeats = 0;
    if (load(r, &x) != 0)
        return;
    if (db_flow_rework(x.c, r->principal.org_id, x.project_id, x.from, x.to, &repairs, &repeats) !=
        0) {
        http_db_fail(r, NULL);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "repairs", (double)repairs);
    cJSON_AddNumberToObject(o, "repeat_repairs", (double)repeats);
    cJSON_AddNumberToObject(o, "rework_rate_permille",
                            core_request_rework_permille(repairs, repeats));
    answer(r, &x, o);
    cJSON_Delete(o);
}

void api_flow_register(void)
{
    http_route("GET", "/v1/projects/{id}/figures/refusals", refusals_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/figures/rework", rework_h, 0, NULL);
}
