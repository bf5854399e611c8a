/*
 * api/duty.c — duty shifts, the duty log and its daily review, the project's duty settings
 * (handover checklist, acceptance grace), the supervisor's daily view and the per-person
 * report of missing or incomplete handovers (RULES §3.8); api_duty_register() also attaches
 * the handover (api/handover.c) and incident report (api/incident.c) routes.
 */
#include "api/duty.h"
#include "api/api.h"
#include "api/validate.h"
#include "core/duty.h"
#include "core/rfc3339.h"
#include "svc/duty_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- shared helpers ------------------------------------------------------------------- */

PGresult *api_duty_run(req_t *r, db_conn_t *c, duty_q_t q, const char *const *vals)
{
    PGresult *res = db_duty(c, q, vals);
    if (!db_ok(res)) {
        http_db_error(r, res);
        PQclear(res);
        return NULL;
    }
    return res;
}

void api_duty_send_one(req_t *r, int status, PGresult *res, const char *what)
{
    if (PQntuples(res) != 1)
        http_problem(r, 404, "not_found", "no %s with this id in your scope", what);
    else
        http_send_json(r, status, PQgetvalue(res, 0, 0), NULL);
    PQclear(res);
}

const char *api_duty_etag(const cJSON *o, char *buf)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
    buf[0] = 0;
    if (cJSON_IsNumber(v))
        http_etag(buf, 64, v->valueint);
    return buf;
}

void api_duty_send_empty_page(req_t *r)
{
    http_send_json(r, 200, "{\"items\":[],\"next_cursor\":null}", NULL);
}

int api_duty_fresh(req_t *r, PGresult *res, int expect, const char *what)
{
    cJSON *o = cJSON_Parse(PQgetvalue(res, 0, 0));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
    int now = cJSON_IsNumber(v) ? v->valueint : -1;
    cJSON_Delete(o);
    if (now == expect)
        return 0;
    char hdr[64];
    http_etag(hdr, sizeof hdr, now);
    http_problem_hdr(r, 412, hdr, "stale_version",
                     "the %s changed since you read it (now version %d); GET it again and retry",
                     what, now);
    return -1;
}

void api_duty_send_versioned(req_t *r, int status, PGresult *res, const char *what)
{
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no %s with this id in your scope", what);
        return;
    }
    cJSON *o = cJSON_Parse(PQgetvalue(res, 0, 0));
    char etag[64];
    http_send_json(r, status, PQgetvalue(res, 0, 0), api_duty_etag(o, etag)[0] ? etag : NULL);
    cJSON_Delete(o);
    PQclear(res);
}

int api_duty_project(req_t *r, db_conn_t *c, const char *project, az_action_t az, char *tz,
                     char *today)
{
    const char *v[] = {r->principal.org_id, project};
    PGresult *res = api_duty_run(r, c, DQ_PROJECT, v);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no project with this id in your scope");
        return -1;
    }
    if (tz)
        snprintf(tz, 64, "%s", PQgetvalue(res, 0, 0));
    if (today)
        snprintf(today, 16, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    return http_authorize(r, az, &t);
}

char *api_duty_uuid_array(req_t *r, const cJSON *o, const char *name, int max, int *count)
{
    char *lit = NULL;
    api_err_t e = {0};
    if (api_uuid_array(o, name, max, &lit, count, &e) < 0) {
        api_err_send(r, &e);
        return NULL;
    }
    return lit ? lit : strdup("{}");
}

const char *api_duty_epoch(int64_t t, char *buf)
{
    snprintf(buf, 32, "%lld", (long long)t);
    return buf;
}

int api_duty_supervises(req_t *r, const char *project)
{
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    return core_authz_check(&r->principal, AZ_DUTY_SUPERVISE, &t) == AZ_ALLOW;
}

void api_duty_problem(req_t *r, int status, const char *code, const char *pointer, const char *err,
                      const char *detail, const char *extra_name, cJSON *extra)
{
    cJSON *j = cJSON_CreateObject();
    char type[160];
    snprintf(type, sizeof type, "https://deskd.dev/problems/%s", code);
    cJSON_AddStringToObject(j, "type", type);
    cJSON_AddStringToObject(j, "title",
                            status == 409   ? "Conflict"
                            : status == 422 ? "Unprocessable Entity"
                            : status == 403 ? "Forbidden"
                                            : "Error");
    cJSON_AddNumberToObject(j, "status", status);
    cJSON_AddStringToObject(j, "code", code);
    cJSON_AddStringToObject(j, "detail", detail);
    cJSON_AddStringToObject(j, "request_id", r->request_id);
    if (status == 422) {
        cJSON *errs = cJSON_AddArrayToObject(j, "errors");
        cJSON_AddItemToArray(errs,
                             http_error_entry(pointer ? pointer : "", err ? err : code, detail));
    }
    if (extra)
        cJSON_AddItemToObject(j, extra_name, extra);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    http_send_body(r, status, "application/problem+json; charset=utf-8", s ? s : "{}",
                   s ? strlen(s) : 2, NULL);
    free(s);
}

static int send_err(req_t *r, api_err_t *e)
{
    api_err_send(r, e);
    return -1;
}

/* Optional query time ?name= as epoch text into buf; NULL when absent; -1 sent. */
static int query_time(req_t *r, const char *name, char *buf, const char **out)
{
    char v[64];
    *out = NULL;
    if (http_query(r, name, v, sizeof v) < 0)
        return 0;
    int64_t t;
    if (rfc3339_parse(v, &t) != 0) {
        http_problem(r, 400, "invalid_query", "'%s' must be an RFC 3339 time", name);
        return -1;
    }
    *out = api_duty_epoch(t, buf);
    return 0;
}

/* Optional ?project_id= (a UUID) into buf; -1 sent. */
static int query_project(req_t *r, char *buf, const char **out)
{
    *out = NULL;
    if (http_query(r, "project_id", buf, 40) < 0)
        return 0;
    if (!http_is_uuid(buf)) {
        http_problem(r, 400, "invalid_query", "'project_id' must be a UUID");
        return -1;
    }
    *out = buf;
    return 0;
}

/* ---- shifts --------------------------------------------------------------------------- */

static const char *const shift_fields[] = {"project_id",    "post",        "user_ids",
                                           "planned_start", "planned_end", NULL};

static void shift_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_SUPERVISE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e;
    const cJSON *b = r->json;
    const char *project = NULL, *post = NULL;
    int64_t ps = 0, pe = 0;
    if (api_only_known(b, shift_fields, "a duty shift", &e) < 0 ||
        api_req_str(b, "project_id", 36, &project, &e) < 0 ||
        api_opt_uuid(b, "project_id", &project, &e) < 0 ||
        api_req_str(b, "post", 32, &post, &e) < 0 ||
        api_opt_enum(b, "post", core_duty_post_from_string, core_duty_post_list, &post, &e) < 0 ||
        api_opt_time(b, "planned_start", &ps, &e) < 0 ||
        api_opt_time(b, "planned_end", &pe, &e) < 0) {
        send_err(r, &e);
        return;
    }
    if (!ps || !pe) {
        http_invalid(r, NULL, !ps ? "planned_start" : "planned_end", "missing_field", "required",
                     "'%s' is required", !ps ? "planned_start" : "planned_end");
        return;
    }
    if (pe <= ps) {
        http_invalid(r, NULL, "planned_end", "invalid_field", "out_of_range",
                     "'planned_end' must be after 'planned_start'");
        return;
    }
    if (pe - ps > 2 * 86400) {
        http_invalid(r, NULL, "planned_end", "invalid_field", "out_of_range",
                     "a shift lasts at most 48 hours");
        return;
    }
    int n = 0;
    char *users = api_duty_uuid_array(r, b, "user_ids", 20, &n);
    if (!users)
        return;
    if (n == 0) {
        free(users);
        http_invalid(r, NULL, "user_ids", "missing_field", "required",
                     "'user_ids' names the users on duty (at least one)");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c || api_duty_project(r, c, project, AZ_DUTY_SUPERVISE, NULL, NULL) != 0) {
        free(users);
        return;
    }
    const char *uv[] = {r->principal.org_id, users, project};
    PGresult *res = api_duty_run(r, c, DQ_USERS_IN_PROJECT, uv);
    if (!res) {
        free(users);
        return;
    }
    int found = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (found != n) {
        free(users);
        http_invalid(r, NULL, "user_ids", "invalid_field", "not_found",
                     "every user on duty must be an active member of staff of the project");
        return;
    }
    char s0[32], s1[32];
    const char *v[] = {
        r->principal.org_id, project, post, users, api_duty_epoch(ps, s0), api_duty_epoch(pe, s1),
        r->principal.user_id};
    res = api_duty_run(r, c, DQ_SHIFT_INSERT, v);
    free(users);
    if (res)
        api_duty_send_versioned(r, 201, res, "shift");
}

static void shift_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    char pb[40], fb[32], tb[32];
    const char *project, *from, *to;
    if (query_project(r, pb, &project) || query_time(r, "from", fb, &from) ||
        query_time(r, "to", tb, &to))
        return;
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
    const char *v[] = {r->principal.org_id, http_scope_projects(r), project, from, to,
                       pg.cursor_ts,        pg.cursor_id,           lim};
    PGresult *res = db_duty(c, DQ_SHIFT_LIST, v);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

/* Loads shift path-parameter 0 (locked when lock) and authorises az; the row or NULL (sent). */
static PGresult *shift_load(req_t *r, db_conn_t *c, az_action_t az, int lock)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return NULL;
    const char *v[] = {r->principal.org_id, id, r->principal.user_id};
    PGresult *res = api_duty_run(r, c, lock ? DQ_SHIFT_LOCK : DQ_SHIFT_GET, v);
    if (!res)
        return NULL;
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no shift with this id in your scope");
        return NULL;
    }
    az_target_t t = {r->principal.org_id, PQgetvalue(res, 0, 1), NULL, NULL, NULL};
    if (http_authorize(r, az, &t) != 0) {
        PQclear(res);
        return NULL;
    }
    return res;
}

static void shift_get_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    PGresult *res = c ? shift_load(r, c, AZ_DUTY_READ, 0) : NULL;
    if (res)
        api_duty_send_versioned(r, 200, res, "shift");
}

/* The caller keeps this shift's duty (or supervises the project): 0, or 403 sent. */
static int on_shift(req_t *r, PGresult *shift)
{
    if (PQgetvalue(shift, 0, 2)[0] == 't' || api_duty_supervises(r, PQgetvalue(shift, 0, 1)))
        return 0;
    http_problem(r, 403, "not_on_shift", "only a user on this shift (or a supervisor) may do this");
    return -1;
}

static void shift_start_h(req_t *r)
{
    int expect;
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_no_body(r) != 0 ||
        http_if_match(r, "shift", &expect) != 0)
        return;
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    PGresult *res = shift_load(r, c, AZ_DUTY_WRITE, 1);
    if (!res || on_shift(r, res) != 0 || api_duty_fresh(r, res, expect, "shift") != 0)
        goto fail;
    if (PQgetvalue(res, 0, 4)[0] == 't') {
        http_problem(r, 409, "shift_ended", "this shift has already been handed over");
        goto fail;
    }
    const char *v[] = {r->principal.org_id, http_uuid_param(r, 0)};
    PQclear(res);
    res = api_duty_run(r, c, DQ_SHIFT_START, v);
    if (!res || db_commit(c) != 0) {
        if (res)
            http_db_fail(r, "nothing was changed");
        goto fail;
    }
    api_duty_send_versioned(r, 200, res, "shift");
    return;
fail:
    PQclear(res);
    db_rollback(c);
}

static const char *const equip_fields[] = {"transition", "note", NULL};

static void shift_equipment_h(req_t *r)
{
    int expect;
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "shift", &expect) != 0)
        return;
    api_err_t e;
    const char *note = NULL;
    if (api_only_known(r->json, equip_fields, "an equipment flag", &e) < 0 ||
        api_opt_str(r->json, "note", 2000, &note, &e) < 0) {
        send_err(r, &e);
        return;
    }
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(r->json, "transition");
    if (!cJSON_IsBool(tr)) {
        http_invalid(
            r, NULL, "transition", tr ? "invalid_field" : "missing_field",
            tr ? "invalid_type" : "required",
            "'transition' (true while major equipment is starting or stopping) is required");
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    PGresult *res = shift_load(r, c, AZ_DUTY_WRITE, 1);
    if (!res || api_duty_fresh(r, res, expect, "shift") != 0)
        goto fail;
    PQclear(res);
    const char *v[] = {r->principal.org_id, http_uuid_param(r, 0),
                       cJSON_IsTrue(tr) ? "true" : "false", note};
    res = api_duty_run(r, c, DQ_SHIFT_EQUIPMENT, v);
    if (!res || db_commit(c) != 0) {
        if (res)
            http_db_fail(r, "nothing was changed");
        goto fail;
    }
    api_duty_send_versioned(r, 200, res, "shift");
    return;
fail:
    PQclear(res);
    db_rollback(c);
}

/* ---- the duty log --------------------------------------------------------------------- */

static const char *const log_fields[] = {
    "kind", "at", "summary", "cause", "handling", "result", "corrects", "correction_reason", NULL};

static void log_add_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e;
    const cJSON *b = r->json;
    const char *kind = NULL, *summary = NULL, *cause = NULL, *handling = NULL, *result = NULL,
               *corrects = NULL, *why = NULL;
    int64_t at = 0;
    if (api_only_known(b, log_fields, "a duty-log entry", &e) < 0 ||
        api_req_str(b, "kind", 32, &kind, &e) < 0 ||
        api_opt_str(b, "summary", 4000, &summary, &e) < 0 ||
        api_opt_str(b, "cause", 4000, &cause, &e) < 0 ||
        api_opt_str(b, "handling", 4000, &handling, &e) < 0 ||
        api_opt_str(b, "result", 4000, &result, &e) < 0 ||
        api_opt_uuid(b, "corrects", &corrects, &e) < 0 ||
        api_opt_str(b, "correction_reason", 2000, &why, &e) < 0 ||
        api_opt_time(b, "at", &at, &e) < 0) {
        send_err(r, &e);
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    PGresult *shift = shift_load(r, c, AZ_DUTY_WRITE, 1), *res = NULL;
    if (!shift || on_shift(r, shift) != 0)
        goto fail;
    int64_t now = (int64_t)time(NULL);
    duty_log_entry_t le = {core_duty_log_kind_from_string(kind),
                           summary,
                           cause,
                           handling,
                           result,
                           at ? at : now,
                           strtoll(PQgetvalue(shift, 0, 3), NULL, 10),
                           corrects != NULL,
                           why};
    duty_verdict_t v = core_duty_log_check(&le, now);
    if (v.status) {
        http_invalid(r, NULL, v.pointer + 1, v.code,
                     !strcmp(v.code, "missing_field") ? "required" : "invalid", "%s", v.detail);
        goto fail;
    }
    const char *project = PQgetvalue(shift, 0, 1);
    if (corrects) {
        const char *ov[] = {project, corrects};
        res = api_duty_run(r, c, DQ_LOG_OF, ov);
        if (!res)
            goto fail;
        int found = PQntuples(res) == 1;
        PQclear(res);
        res = NULL;
        if (!found) {
            http_invalid(r, NULL, "corrects", "invalid_field", "not_found",
                         "'corrects' names no duty-log entry of this project");
            goto fail;
        }
    }
    char atb[32];
    const char *vals[] = {r->principal.org_id,
                          project,
                          http_uuid_param(r, 0),
                          kind,
                          api_duty_epoch(le.at, atb),
                          summary,
                          cause,
                          handling,
                          result,
                          corrects,
                          why,
                          r->principal.user_id,
                          core_role_name(r->principal.role)};
    res = api_duty_run(r, c, DQ_LOG_INSERT, vals);
    if (!res || db_commit(c) != 0) {
        if (res)
            http_db_fail(r, "nothing was changed");
        goto fail;
    }
    PQclear(shift);
    api_duty_send_one(r, 201, res, "entry");
    return;
fail:
    PQclear(shift);
    PQclear(res);
    db_rollback(c);
}

static void log_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    PGresult *shift = c ? shift_load(r, c, AZ_DUTY_READ, 0) : NULL;
    if (!shift)
        return;
    PQclear(shift);
    const char *v[] = {r->principal.org_id, http_uuid_param(r, 0)};
    PGresult *res = api_duty_run(r, c, DQ_LOG_LIST, v);
    if (res) {
        http_send_items(r, PQgetvalue(res, 0, 0));
        PQclear(res);
    }
}

/* ---- days: the supervisor's view, review, unreviewed days ------------------------------ */

static int valid_day(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/* Path: /v1/projects/{id}/duty/days/{day}: project and day checked and authorised. */
static db_conn_t *day_load(req_t *r, az_action_t az, char today[16])
{
    if (http_authorize_role(r, az) != 0)
        return NULL;
    const char *project = http_uuid_param(r, 0);
    if (!project)
        return NULL;
    if (r->nparams > 1 && !valid_day(r->params[1])) {
        http_problem(r, 404, "not_found", "a day is written YYYY-MM-DD");
        return NULL;
    }
    db_conn_t *c = http_db(r);
    if (!c || api_duty_project(r, c, project, az, NULL, today) != 0)
        return NULL;
    return c;
}

static void day_h(req_t *r)
{
    char today[16];
    db_conn_t *c = day_load(r, AZ_DUTY_READ, today);
    if (!c)
        return;
    const char *v[] = {r->principal.org_id, r->params[0], r->params[1]};
    PGresult *res = api_duty_run(r, c, DQ_DAY, v);
    if (!res)
        return;
    cJSON *day = PQntuples(res) == 1 ? cJSON_Parse(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    if (!day) {
        http_problem(r, 404, "not_found", "no project with this id in your scope");
        return;
    }
    int64_t now = (int64_t)time(NULL);
    cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(day, "handovers"))
        api_handover_annotate(h, now);
    http_send_cjson(r, 200, day, NULL);
    cJSON_Delete(day);
}

static const char *const review_fields[] = {"note", NULL};

static void review_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_SUPERVISE) != 0)
        return;
    const char *note = NULL;
    if (r->body_len) {
        api_err_t e;
        if (http_json_body(r) != 0)
            return;
        if (api_only_known(r->json, review_fields, "a review", &e) < 0 ||
            api_opt_str(r->json, "note", 2000, &note, &e) < 0) {
            send_err(r, &e);
            return;
        }
    }
    char today[16];
    db_conn_t *c = day_load(r, AZ_DUTY_SUPERVISE, today);
    if (!c)
        return;
    if (strcmp(r->params[1], today) > 0) {
        http_problem(r, 422, "day_in_future", "%s has not begun yet in the project's time zone",
                     r->params[1]);
        return;
    }
    const char *v[] = {r->principal.org_id, r->params[0], r->params[1], r->principal.user_id, note};
    PGresult *res = api_duty_run(r, c, DQ_REVIEW_INSERT, v);
    if (!res)
        return;
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_problem(r, 409, "already_reviewed", "the duty log of %s has already been reviewed",
                     r->params[1]);
        return;
    }
    api_duty_send_one(r, 201, res, "day");
}

static void unreviewed_h(req_t *r)
{
    char today[16], from[16], to[16];
    db_conn_t *c = day_load(r, AZ_DUTY_READ, today);
    if (!c)
        return;
    if (http_query(r, "to", to, sizeof to) < 0)
        snprintf(to, sizeof to, "%s", today);
    if (http_query(r, "from", from, sizeof from) < 0)
        snprintf(from, sizeof from, "2000-01-01");
    if (!valid_day(from) || !valid_day(to)) {
        http_problem(r, 400, "invalid_query", "'from' and 'to' are days written YYYY-MM-DD");
        return;
    }
    const char *v[] = {r->principal.org_id, r->params[0], from, to};
    PGresult *res = api_duty_run(r, c, DQ_UNREVIEWED, v);
    if (res) {
        http_send_items(r, PQgetvalue(res, 0, 0));
        PQclear(res);
    }
}

/* ---- settings ------------------------------------------------------------------------- */

/* RULES §3.8.1: public items checked face to face — radios, documents, show-flat keys. */
const char *const api_duty_default_checklist =
    "[{\"code\": \"radios\", \"label\": \"对讲机 radios\", \"required\": true}, "
    "{\"code\": \"documents\", \"label\": \"文件资料 documents\", \"required\": true}, "
    "{\"code\": \"show_flat_keys\", \"label\": \"样板房钥匙 show-flat keys\", \"required\": true}, "
    "{\"code\": \"office_supplies\", \"label\": \"办公用品 office supplies\", \"required\": "
    "false}]";

static void settings_get_h(req_t *r)
{
    char today[16];
    db_conn_t *c = day_load(r, AZ_DUTY_READ, today);
    if (!c)
        return;
    const char *v[] = {r->principal.org_id, r->params[0], api_duty_default_checklist};
    PGresult *res = api_duty_run(r, c, DQ_SETTINGS_GET, v);
    if (res)
        api_duty_send_one(r, 200, res, "project");
}

static const char *const settings_fields[] = {"handover_checklist", "accept_grace_minutes", NULL};
static const char *const item_fields[] = {"code", "label", "required", NULL};

static void settings_put_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_SUPERVISE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e;
    if (api_only_known(r->json, settings_fields, "duty settings", &e) < 0) {
        send_err(r, &e);
        return;
    }
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(r->json, "handover_checklist");
    const cJSON *gr = cJSON_GetObjectItemCaseSensitive(r->json, "accept_grace_minutes");
    if (!cJSON_IsArray(cl) || cJSON_GetArraySize(cl) > HANDOVER_MAX_SECTIONS) {
        http_invalid(r, NULL, "handover_checklist", cl ? "invalid_field" : "missing_field",
                     cl ? "invalid_type" : "required",
                     "'handover_checklist' is an array of at most %d {code, label, required}",
                     HANDOVER_MAX_SECTIONS);
        return;
    }
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, cl)
    {
        const char *code = NULL, *label = NULL;
        if (!cJSON_IsObject(it)) {
            http_invalid(r, it, NULL, "invalid_field", "invalid_type", "each item is an object");
            return;
        }
        if (api_only_known(it, item_fields, "a checklist item", &e) < 0 ||
            api_req_str(it, "code", 64, &code, &e) < 0 ||
            api_req_str(it, "label", 200, &label, &e) < 0) {
            send_err(r, &e);
            return;
        }
        const cJSON *rq = cJSON_GetObjectItemCaseSensitive(it, "required");
        if (rq && !cJSON_IsBool(rq)) {
            http_invalid(r, it, "required", "invalid_field", "invalid_type",
                         "'required' is true or false");
            return;
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(cJSON_GetStringValue(
                            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cl, k), "code")),
                        code)) {
                http_invalid(r, it, "code", "invalid_field", "duplicate",
                             "checklist code '%s' appears twice", code);
                return;
            }
        i++;
    }
    int grace = 15;
    if (gr) {
        if (!cJSON_IsNumber(gr) || gr->valuedouble != (double)(int)gr->valuedouble ||
            gr->valueint < 0 || gr->valueint > 1440) {
            http_invalid(r, NULL, "accept_grace_minutes", "invalid_field", "out_of_range",
                         "'accept_grace_minutes' is a whole number from 0 to 1440");
            return;
        }
        grace = gr->valueint;
    }
    char today[16];
    db_conn_t *c = day_load(r, AZ_DUTY_SUPERVISE, today);
    if (!c)
        return;
    char *cls = cJSON_PrintUnformatted(cl), gb[16];
    snprintf(gb, sizeof gb, "%d", grace);
    const char *v[] = {r->principal.org_id, r->params[0], cls, gb, r->principal.user_id};
    PGresult *res = api_duty_run(r, c, DQ_SETTINGS_PUT, v);
    free(cls);
    if (res)
        api_duty_send_one(r, 200, res, "project");
}

/* ---- per-person handover faults ------------------------------------------------------- */

static void faults_h(req_t *r)
{
    char today[16], fb[32], tb[32];
    db_conn_t *c = day_load(r, AZ_DUTY_SUPERVISE, today);
    if (!c)
        return;
    const char *from, *to;
    if (query_time(r, "from", fb, &from) || query_time(r, "to", tb, &to))
        return;
    if (!from || !to) {
        http_problem(r, 400, "invalid_query", "'from' and 'to' (RFC 3339 times) are required");
        return;
    }
    const char *v[] = {r->principal.org_id, r->params[0], from, to};
    PGresult *res = api_duty_run(r, c, DQ_FAULTS, v);
    if (res) {
        http_send_items(r, PQgetvalue(res, 0, 0));
        PQclear(res);
    }
}

/* ---- the late check, on demand -------------------------------------------------------- */

void api_duty_check_h(req_t *r)
{
    if (http_authorize_role(r, AZ_OPS) != 0 || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    duty_check_stats_t st;
    if (duty_check_run(c, r->principal.org_id, (int64_t)time(NULL), &st) != 0) {
        http_problem(r, 503, "check_failed", "the check could not complete; it is safe to retry");
        return;
    }
    char body[160];
    snprintf(body, sizeof body, "{\"late_handovers\":%d,\"overdue_incident_reports\":%d}",
             st.late_handovers, st.overdue_reports);
    http_send_json(r, 200, body, NULL);
}

void api_duty_register(void)
{
    http_route("POST", "/v1/duty/shifts", shift_create_h, 0, NULL);
    http_route("GET", "/v1/duty/shifts", shift_list_h, 0, NULL);
    http_route("GET", "/v1/duty/shifts/{id}", shift_get_h, 0, NULL);
    http_route("POST", "/v1/duty/shifts/{id}/start", shift_start_h, 0, NULL);
    http_route("POST", "/v1/duty/shifts/{id}/equipment", shift_equipment_h, 0, NULL);
    http_route("GET", "/v1/duty/shifts/{id}/log", log_list_h, 0, NULL);
    http_route("POST", "/v1/duty/shifts/{id}/log", log_add_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/duty/days/{day}", day_h, 0, NULL);
    http_route("POST", "/v1/projects/{id}/duty/days/{day}/review", review_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/duty/unreviewed", unreviewed_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/duty/settings", settings_get_h, 0, NULL);
    http_route("PUT", "/v1/projects/{id}/duty/settings", settings_put_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/duty/handover-faults", faults_h, 0, NULL);
    http_route("POST", "/v1/admin/duty/check", api_duty_check_h, 0, NULL);
    api_handover_routes();
    api_incident_routes();
}
