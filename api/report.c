/*
 * api/report.c — reports (RULES §3.11): the 投诉月度汇总表 and KPIs of a project's month
 * (live, or as stored versions that go draft → submitted and are then frozen), the daily
 * view for the evening meeting and the weekly view for the supervisor, each as JSON; the
 * month also as CSV (UTF-8 with BOM, CRLF, the form's zh-CN headers) and as a printable
 * HTML page with inline SVG charts.  Periods are local to the project's time zone
 * (core/report.c); counts come from db/report.c; phones are masked for roles that may not
 * see them (core_authz_sees_pii), also in stored versions (kept in full, masked on read).
 */
#include "api/api.h"
#include "api/codec.h"
#include "api/http.h"
#include "api/report_render.h"
#include "svc/report_worker.h"
#include "core/report.h"
#include "db/callback.h"
#include "db/flow.h"
#include "db/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { FMT_JSON, FMT_CSV, FMT_HTML } fmt_t;

/* ---------------------------------------------------------------- loading */

typedef struct ctx {
    report_project_t proj;
    const tz_rules_t *tz;
    const char *project_id;
    db_conn_t *c;
} ctx_t;

/* Path parameter 0 is the project: 404 outside the caller's organisation, then the role
 * and project scope of `action`. */
static int load(req_t *r, az_action_t action, ctx_t *x)
{
    if (http_authorize_role(r, action) != 0)
        return -1;
    if (!(x->project_id = http_uuid_param(r, 0)))
        return -1;
    if (!(x->c = http_db(r)))
        return -1;
    int f = db_report_project(x->c, r->principal.org_id, x->project_id, &x->proj);
    if (f < 0) {
        http_db_fail(r, NULL);
        return -1;
    }
    if (f == 1) {
        http_problem(r, 404, "not_found", "no project with this id in your scope");
        return -1;
    }
    az_target_t t = {r->principal.org_id, x->project_id, NULL, NULL, NULL};
    if (http_authorize(r, action, &t) != 0)
        return -1;
    if (!(x->tz = report_zone(x->proj.time_zone))) {
        http_problem(r, 500, "time_zone_unavailable",
                     "the project's time zone '%s' cannot be read on this server",
                     x->proj.time_zone);
        return -1;
    }
    return 0;
}

static int get_format(req_t *r, fmt_t *f, int html_ok)
{
    char v[16];
    *f = FMT_JSON;
    if (http_query(r, "format", v, sizeof v) < 0 || !strcmp(v, "json"))
        return 0;
    if (!strcmp(v, "csv")) {
        *f = FMT_CSV;
        return 0;
    }
    if (html_ok && !strcmp(v, "html")) {
        *f = FMT_HTML;
        return 0;
    }
    http_problem(r, 400, "invalid_query", "'format' must be json, csv%s",
                 html_ok ? " or html" : "");
    return -1;
}

/* ---------------------------------------------------------------- building */

static void counts_from(const cJSON *j, report_counts_t *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < core_report_count_nfields; i++) {
        const report_count_field_t *f = &core_report_count_fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, f->name);
        double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
        if (f->wide)
            *(long long *)((char *)c + f->offset) = (long long)d;
        else
            *(long *)((char *)c + f->offset) = (long)d;
    }
}

/* {"counts": {...}, "kpis": {name: value | null}} of a counts object (NULL: all zero). */
static void add_kpis(cJSON *into, const cJSON *counts_json)
{
    report_counts_t c;
    counts_from(counts_json, &c);
    cJSON *co = cJSON_AddObjectToObject(into, "counts");
    for (size_t i = 0; i < core_report_count_nfields; i++) {
        const report_count_field_t *f = &core_report_count_fields[i];
        double d = f->wide ? (double)*(long long *)((char *)&c + f->offset)
                           : (double)*(long *)((char *)&c + f->offset);
        cJSON_AddNumberToObject(co, f->name, d);
    }
    report_ratio_t k[KPI__COUNT];
    core_report_kpis(&c, k);
    cJSON *ko = cJSON_AddObjectToObject(into, "kpis");
    for (int i = 0; i < KPI__COUNT; i++) {
        if (k[i].defined)
            cJSON_AddNumberToObject(ko, core_report_kpi_name((report_kpi_t)i), k[i].value);
        else
            cJSON_AddNullToObject(ko, core_report_kpi_name((report_kpi_t)i));
    }
}

/* Where the form's rows go while the statement's rows are read: written straight into
 * `out` in the answer's format (no JSON tree for tens of thousands of rows). */
typedef struct rows_sink {
    const tz_rules_t *tz;
    fmt_t fmt;
    int mask; /* phones masked (the role may not see them) */
    report_buf_t out;
} rows_sink_t;

static int put_row(void *ctx, const db_report_row_t *raw)
{
    rows_sink_t *k = ctx;
    char date[11], phone[64];
    core_report_local_date(k->tz, raw->received_at, date);
    const char *ph = raw->phone ? raw->phone : "";
    if (k->mask) {
        core_report_mask_phone(ph, phone, sizeof phone);
        ph = phone;
    }
    report_buf_t op = {0}, rm = {0};
    core_report_callback_opinion(&op, raw->callback_rating, raw->callback_satisfied,
                                 raw->callback_note ? raw->callback_note : "");
    core_report_remarks(&rm, raw->severity ? raw->severity : "", raw->validity ? raw->validity : "",
                        raw->reopen_count, raw->overdue);
    report_form_row_t w = {(int)raw->seq, raw->request_id,  raw->number,
                           date,          raw->complainant, ph,
                           raw->content,  raw->receiver,    raw->department,
                           raw->result,   op.s ? op.s : "", rm.s ? rm.s : ""};
    if (k->fmt == FMT_CSV)
        report_row_csv(&k->out, &w);
    else if (k->fmt == FMT_HTML)
        report_row_html(&k->out, &w);
    else
        report_row_json(&k->out, &w, k->out.len <= 1);
    free(op.s);
    free(rm.s);
    return op.oom || rm.oom || k->out.oom ? -1 : 0;
}

static void iso(int64_t t, char out[32])
{
    rfc3339_format(t, out);
}

/*
 * The summary of the requests received in [bounds[0], bounds[nb]) with nb buckets: the
 * form rows, totals, KPIs overall, per department, per staff member and per bucket.
 * Returns a new tree or NULL after answering the error.  The rows are written in `fmt`
 * (phones masked when `mask`): for JSON they are the tree's "rows" (a raw item), for CSV
 * and HTML they are left in *rows (the tree's "rows" is then empty; the caller frees
 * rows->s).
 */
static cJSON *build(req_t *r, ctx_t *x, const char *kind, const int64_t *bounds, int nb,
                    int64_t now, fmt_t fmt, int mask, report_buf_t *rows)
{
    char from[32], to[32], asof[32];
    iso(bounds[0], from);
    iso(bounds[nb], to);
    iso(now, asof);
    report_buf_t lit = {0};
    core_report_buf_puts(&lit, "{");
    for (int i = 0; i < nb; i++) {
        char t[32];
        iso(bounds[i], t);
        core_report_buf_printf(&lit, "%s%s", i ? "," : "", t);
    }
    core_report_buf_puts(&lit, "}");
    char *raw = NULL;
    rows_sink_t k = {x->tz, fmt, mask, {0}};
    if (fmt == FMT_JSON)
        core_report_buf_add(&k.out, "[", 1);
    int f = lit.oom ? -1
                    : db_report_aggregate(x->c, r->principal.org_id, x->project_id, from, to, asof,
                                          lit.s, &raw, put_row, &k);
    free(lit.s);
    if (fmt == FMT_JSON)
        core_report_buf_add(&k.out, "]", 1);
    if (f != 0 || k.out.oom) {
        free(k.out.s);
        http_db_fail(r, "the report could not be computed");
        return NULL;
    }
    cJSON *a = cJSON_Parse(raw);
    free(raw);
    if (!a) {
        free(k.out.s);
        http_problem(r, 500, "internal", "the report could not be read");
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "project_id", x->project_id);
    cJSON_AddStringToObject(o, "project_name", x->proj.name);
    cJSON_AddStringToObject(o, "time_zone", x->proj.time_zone);
    cJSON *per = cJSON_AddObjectToObject(o, "period");
    cJSON_AddStringToObject(per, "from", from);
    cJSON_AddStringToObject(per, "to", to);
    char d0[11], d1[11];
    core_report_local_date(x->tz, bounds[0], d0);
    core_report_local_date(x->tz, bounds[nb] - 1, d1);
    cJSON_AddStringToObject(per, "first_day", d0);
    cJSON_AddStringToObject(per, "last_day", d1);
    cJSON_AddStringToObject(per, "rule", "received_at");
    cJSON_AddStringToObject(o, "as_of", asof);

    if (fmt == FMT_JSON) {
        cJSON_AddRawToObject(o, "rows", k.out.s);
        free(k.out.s);
    } else {
        cJSON_AddArrayToObject(o, "rows");
        *rows = k.out;
    }
    const cJSON *it;

    cJSON *tot = cJSON_AddObjectToObject(o, "totals");
    static const char *const dims[] = {"by_type", "by_severity", "by_category", "by_channel"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *d = cJSON_DetachItemFromObjectCaseSensitive(a, dims[i]);
        cJSON_AddItemToObject(tot, dims[i], d ? d : cJSON_CreateObject());
    }
    cJSON *bd = cJSON_AddArrayToObject(tot, "by_department");
    cJSON *deps = cJSON_AddArrayToObject(o, "departments");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(a, "departments"))
    {
        const cJSON *did = cJSON_GetObjectItemCaseSensitive(it, "department_id");
        const cJSON *cn = cJSON_GetObjectItemCaseSensitive(it, "counts");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "department_id", cJSON_Duplicate(did, 1));
        cJSON_AddStringToObject(e, "name", name ? name : "未派工");
        cJSON_AddNumberToObject(
            e, "count", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cn, "total")));
        cJSON_AddItemToArray(bd, e);
        cJSON *dk = cJSON_CreateObject();
        cJSON_AddItemToObject(dk, "department_id", cJSON_Duplicate(did, 1));
        cJSON_AddStringToObject(dk, "name", name ? name : "未派工");
        add_kpis(dk, cn);
        cJSON_AddItemToArray(deps, dk);
    }
    cJSON *ov = cJSON_AddObjectToObject(o, "overall");
    add_kpis(ov, cJSON_GetObjectItemCaseSensitive(a, "overall"));

    cJSON *staff = cJSON_AddArrayToObject(o, "staff");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(a, "staff"))
    {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddItemToObject(s, "user_id",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(it, "user_id"), 1));
        const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
        cJSON_AddStringToObject(s, "name", nm ? nm : "");
        cJSON_AddNumberToObject(
            s, "callbacks_done",
            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "callbacks_done")));
        add_kpis(s, cJSON_GetObjectItemCaseSensitive(it, "counts"));
        cJSON_AddItemToArray(staff, s);
    }

    cJSON *bk = cJSON_AddArrayToObject(o, "buckets");
    for (int i = 0; i < nb; i++) {
        const cJSON *cn = NULL;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(a, "buckets"))
        {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "bucket");
            if (cJSON_IsNumber(k) && (int)k->valuedouble == i + 1)
                cn = cJSON_GetObjectItemCaseSensitive(it, "counts");
        }
        cJSON *e = cJSON_CreateObject();
        char bf[32], bt[32], l0[11], l1[11];
        iso(bounds[i], bf);
        iso(bounds[i + 1], bt);
        core_report_local_date(x->tz, bounds[i], l0);
        core_report_local_date(x->tz, bounds[i + 1] - 1, l1);
        cJSON_AddStringToObject(e, "from", bf);
        cJSON_AddStringToObject(e, "to", bt);
        cJSON_AddStringToObject(e, "first_day", l0);
        cJSON_AddStringToObject(e, "last_day", l1);
        add_kpis(e, cn);
        cJSON_AddItemToArray(bk, e);
    }
    cJSON_Delete(a);
    return o;
}

/* ---------------------------------------------------------------- rendering */

static void mask_rows(cJSON *summary)
{
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(summary, "rows"))
    {
        cJSON *ph = cJSON_GetObjectItemCaseSensitive(it, "phone");
        const char *p = cJSON_GetStringValue(ph);
        if (!p)
            continue;
        char m[64];
        core_report_mask_phone(p, m, sizeof m);
        cJSON_ReplaceItemInObjectCaseSensitive(it, "phone", cJSON_CreateString(m));
    }
}

/* Answers the summary in the asked format (masks phones first when the role may not see
 * them; the tree is changed).  rows: the form's rows already written in fmt by build(),
 * or NULL when they are the tree's.  month: for CSV/HTML names; meta: a stored version or
 * NULL. */
static void answer(req_t *r, cJSON *s, const report_buf_t *rows, fmt_t fmt, const char *month,
                   const cJSON *meta)
{
    if (!core_authz_sees_pii(r->principal.role))
        mask_rows(s);
    if (fmt == FMT_JSON) {
        if (meta) {
            cJSON *o = cJSON_Duplicate(meta, 1);
            cJSON_AddItemReferenceToObject(o, "summary", s);
            http_send_cjson(r, 200, o, NULL);
            cJSON_Delete(o);
        } else {
            http_send_cjson(r, 200, s, NULL);
        }
        return;
    }
    char hdr[256];
    size_t len = 0;
    char *body = NULL;
    if (fmt == FMT_CSV) {
        body = report_render_csv(s, rows, &len);
        snprintf(hdr, sizeof hdr,
                 "Content-Disposition: attachment; filename=\"complaints-%s.csv\"; "
                 "filename*=UTF-8''%%E6%%8A%%95%%E8%%AF%%89%%E6%%9C%%88%%E5%%BA%%A6%%E6%%B1%%87"
                 "%%E6%%80%%BB%%E8%%A1%%A8-%s.csv\r\n",
                 month, month);
    } else {
        body = report_render_html(s, rows, month, meta);
        len = body ? strlen(body) : 0;
        snprintf(hdr, sizeof hdr,
                 "Content-Security-Policy: default-src 'none'; style-src "
                 "'unsafe-inline'; img-src data:\r\n");
    }
    if (!body) {
        http_problem(r, 503, "out_of_memory", "the report could not be rendered; retry");
        return;
    }
    http_send_body(r, 200, fmt == FMT_CSV ? "text/csv; charset=utf-8" : "text/html; charset=utf-8",
                   body, len, hdr);
    free(body);
}

/* ---------------------------------------------------------------- handlers */

static int parse_month(req_t *r, int i, int *y, int *m)
{
    if (core_report_parse_month(r->params[i], y, m) != 0) {
        http_problem(r, 404, "not_found", "a month is written YYYY-MM (e.g. 2026-03)");
        return -1;
    }
    return 0;
}

/* A rate rounded to 4 decimals as the KPIs are, or null when the denominator is 0. */
static void add_rate(cJSON *o, const char *name, long long num, long long den)
{
    if (den > 0)
        cJSON_AddNumberToObject(o, name,
                                (double)llround((double)num * 10000.0 / (double)den) / 10000.0);
    else
        cJSON_AddNullToObject(o, name);
}

/* The month's sections from the features beside requests (RULES §3.11; formulas in
 * openapi.yaml MonthlySections): callback tasks (db/callback.c's month figures: the tasks
 * of requests resolved in the month), surveys, corrective actions, custody, duty (db/report.c)
 * and work-order refusals (db/flow.c's figures).  0, or -1 after answering the error. */
static int add_sections(req_t *r, ctx_t *x, cJSON *s, const char *month, const char *from,
                        const char *to, const char *asof)
{
    cJSON *sec = cJSON_AddObjectToObject(s, "sections");
    PGresult *cb = db_callback_month(x->c, r->principal.org_id, x->project_id, month);
    int ok = db_ok(cb) && PQntuples(cb) == 1;
    if (ok) {
        long long need = atoll(PQgetvalue(cb, 0, 0)), done = atoll(PQgetvalue(cb, 0, 1)),
                  sat = atoll(PQgetvalue(cb, 0, 2));
        cJSON *o = cJSON_AddObjectToObject(sec, "callbacks");
        cJSON_AddNumberToObject(o, "needing", (double)need);
        cJSON_AddNumberToObject(o, "called_back", (double)done);
        cJSON_AddNumberToObject(o, "satisfied", (double)sat);
        cJSON_AddNumberToObject(o, "given_up", (double)atoll(PQgetvalue(cb, 0, 3)));
        cJSON_AddNumberToObject(o, "open", (double)atoll(PQgetvalue(cb, 0, 4)));
        cJSON *by = cJSON_Parse(PQgetvalue(cb, 0, 5));
        cJSON_AddItemToObject(o, "by_rating", by ? by : cJSON_CreateObject());
        add_rate(o, "callback_rate", done, need);
        add_rate(o, "satisfaction", sat, done);
    }
    PQclear(cb);
    char *other = NULL, *refusals = NULL;
    ok = ok &&
         db_report_sections(x->c, r->principal.org_id, x->project_id, from, to, asof, &other) == 0;
    ok = ok && db_flow_refusals(x->c, r->principal.org_id, x->project_id, from, to, &refusals) == 0;
    cJSON *oj = ok ? cJSON_Parse(other) : NULL, *rj = ok ? cJSON_Parse(refusals) : NULL;
    free(other);
    free(refusals);
    if (!oj || !rj) {
        cJSON_Delete(oj);
        cJSON_Delete(rj);
        http_db_fail(r, "the report's sections could not be computed");
        return -1;
    }
    static const char *const keys[] = {"surveys", "corrective_actions", "custody", "duty"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(oj, keys[i]);
        cJSON_AddItemToObject(sec, keys[i], v ? v : cJSON_CreateObject());
    }
    cJSON_AddItemToObject(sec, "refusals", rj);
    cJSON_Delete(oj);
    return 0;
}

static cJSON *build_month(req_t *r, ctx_t *x, int y, int m, int64_t now, fmt_t fmt, int mask,
                          report_buf_t *rows)
{
    int64_t bounds[6];
    int nb = core_report_month_weeks(x->tz, y, m, bounds);
    if (now < bounds[0]) {
        http_problem(r, 422, "month_in_future", "the month %04d-%02d has not begun in %s", y, m,
                     x->proj.time_zone);
        return NULL;
    }
    cJSON *s = build(r, x, "monthly", bounds, nb, now, fmt, mask, rows);
    if (!s)
        return NULL;
    char month[8], due[32];
    snprintf(month, sizeof month, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
    cJSON_AddStringToObject(s, "month", month);
    iso(core_report_due_at(x->tz, y, m), due);
    cJSON_AddStringToObject(s, "due_at", due);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(s, "period");
    if (add_sections(r, x, s, month, report_str(per, "from"), report_str(per, "to"),
                     report_str(s, "as_of")) != 0) {
        cJSON_Delete(s);
        if (rows) {
            free(rows->s);
            *rows = (report_buf_t){0};
        }
        return NULL;
    }
    return s;
}

static void monthly_h(req_t *r)
{
    ctx_t x;
    int y, m;
    fmt_t fmt;
    if (load(r, AZ_REPORT_READ, &x) || parse_month(r, 1, &y, &m) || get_format(r, &fmt, 1))
        return;
    report_buf_t rows = {0};
    cJSON *s = build_month(r, &x, y, m, (int64_t)time(NULL), fmt,
                           !core_authz_sees_pii(r->principal.role), &rows);
    if (!s)
        return;
    answer(r, s, fmt == FMT_JSON ? NULL : &rows, fmt, r->params[1], NULL);
    cJSON_Delete(s);
    free(rows.s);
}

static void versions_list_h(req_t *r)
{
    ctx_t x;
    int y, m;
    if (load(r, AZ_REPORT_READ, &x) || parse_month(r, 1, &y, &m))
        return;
    char month[16], *json = NULL;
    snprintf(month, sizeof month, "%04u-%02u-01", (unsigned)y % 10000u, (unsigned)m % 100u);
    if (db_report_versions(x.c, r->principal.org_id, x.project_id, month, &json) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, json);
    free(json);
}

static void version_create_h(req_t *r)
{
    ctx_t x;
    int y, m;
    if (http_no_body(r) || load(r, AZ_REPORT_SUBMIT, &x) || parse_month(r, 1, &y, &m))
        return;
    int64_t now = (int64_t)time(NULL);
    cJSON *s = build_month(r, &x, y, m, now, FMT_JSON, 0, NULL); /* stored in full */
    if (!s)
        return;
    char *snap = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    char month[16], *meta = NULL;
    snprintf(month, sizeof month, "%04u-%02u-01", (unsigned)y % 10000u, (unsigned)m % 100u);
    char due[32];
    iso(core_report_due_at(x.tz, y, m), due);
    int f = snap ? db_report_version_insert(x.c, r->principal.org_id, x.project_id, month, due,
                                            r->principal.user_id, snap, &meta)
                 : -1;
    free(snap);
    if (f != 0) {
        http_db_fail(r, "no version was stored");
        return;
    }
    cJSON *mj = cJSON_Parse(meta);
    char loc[256];
    snprintf(loc, sizeof loc, "Location: /v1/projects/%s/reports/monthly/%s/versions/%d\r\n",
             x.project_id, r->params[1],
             (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mj, "version")));
    cJSON_Delete(mj);
    http_send_json(r, 201, meta, loc);
    free(meta);
}

static int version_param(req_t *r, int i)
{
    const char *v = r->params[i];
    size_t n = strlen(v);
    if (n == 0 || n > 6 || strspn(v, "0123456789") != n || v[0] == '0') {
        http_problem(r, 404, "not_found", "a version is a positive whole number");
        return -1;
    }
    return 0;
}

static void version_get_h(req_t *r)
{
    ctx_t x;
    int y, m;
    fmt_t fmt;
    if (load(r, AZ_REPORT_READ, &x) || parse_month(r, 1, &y, &m) || version_param(r, 2) ||
        get_format(r, &fmt, 1))
        return;
    char month[16], *meta = NULL, *snap = NULL;
    snprintf(month, sizeof month, "%04u-%02u-01", (unsigned)y % 10000u, (unsigned)m % 100u);
    int f = db_report_version_get(x.c, r->principal.org_id, x.project_id, month, r->params[2],
                                  &meta, &snap);
    if (f < 0) {
        http_db_fail(r, NULL);
        return;
    }
    if (f == 1) {
        http_problem(r, 404, "not_found", "no version %s of %s", r->params[2], r->params[1]);
        return;
    }
    cJSON *mj = cJSON_Parse(meta), *sj = cJSON_Parse(snap);
    free(meta);
    free(snap);
    if (!mj || !sj)
        http_problem(r, 500, "internal", "the stored report could not be read");
    else
        answer(r, sj, NULL, fmt, r->params[1], mj);
    cJSON_Delete(mj);
    cJSON_Delete(sj);
}

static void version_submit_h(req_t *r)
{
    ctx_t x;
    int y, m;
    if (http_no_body(r) || load(r, AZ_REPORT_SUBMIT, &x) || parse_month(r, 1, &y, &m) ||
        version_param(r, 2))
        return;
    int64_t from, to;
    core_report_month_bounds(x.tz, y, m, &from, &to);
    if ((int64_t)time(NULL) < to) {
        http_problem(r, 409, "month_not_ended",
                     "%s has not ended in %s: a month is submitted once it is over", r->params[1],
                     x.proj.time_zone);
        return;
    }
    char month[16], *meta = NULL;
    snprintf(month, sizeof month, "%04u-%02u-01", (unsigned)y % 10000u, (unsigned)m % 100u);
    int f = db_report_submit(x.c, r->principal.org_id, x.project_id, month, r->params[2],
                             r->principal.user_id, &meta);
    if (f < 0)
        http_db_fail(r, NULL);
    else if (f == 1)
        http_problem(r, 404, "not_found", "no version %s of %s", r->params[2], r->params[1]);
    else if (f == 2)
        http_problem(r, 409, "already_submitted",
                     "version %s of %s is submitted and frozen; generate a new version to "
                     "change it",
                     r->params[2], r->params[1]);
    else
        http_send_json(r, 200, meta, NULL);
    free(meta);
}

static int date_query(req_t *r, const char *name, const tz_rules_t *tz, int64_t now, int64_t *days)
{
    char v[16];
    if (http_query(r, name, v, sizeof v) < 0) {
        *days = core_floor_div(core_tz_utc_to_local(tz, now), 86400);
        return 0;
    }
    if (core_report_parse_date(v, days) != 0) {
        http_problem(r, 400, "invalid_query", "'%s' must be a date YYYY-MM-DD", name);
        return -1;
    }
    return 0;
}

static void add_live(req_t *r, ctx_t *x, cJSON *s, int64_t now)
{
    char *json = NULL;
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(s, "period");
    char nows[32];
    iso(now, nows);
    if (db_report_live(x->c, r->principal.org_id, x->project_id, report_str(per, "from"),
                       report_str(per, "to"), nows, &json) == 0) {
        cJSON *l = cJSON_Parse(json);
        if (l)
            cJSON_AddItemToObject(s, "live", l);
    }
    free(json);
}

/* The daily or weekly view over the local days between bounds b[0..nb], with what is open
 * now (live), as JSON. */
static void answer_days(req_t *r, ctx_t *x, const char *kind, const int64_t *b, int nb, int64_t now)
{
    cJSON *s =
        build(r, x, kind, b, nb, now, FMT_JSON, !core_authz_sees_pii(r->principal.role), NULL);
    if (!s)
        return;
    add_live(r, x, s, now);
    answer(r, s, NULL, FMT_JSON, NULL, NULL);
    cJSON_Delete(s);
}

static void daily_h(req_t *r)
{
    ctx_t x;
    int64_t now = (int64_t)time(NULL), day;
    if (load(r, AZ_REPORT_READ, &x) || date_query(r, "date", x.tz, now, &day))
        return;
    int64_t b[2] = {core_report_local_midnight(x.tz, day),
                    core_report_local_midnight(x.tz, day + 1)};
    answer_days(r, &x, "daily", b, 1, now);
}

static void weekly_h(req_t *r)
{
    ctx_t x;
    int64_t now = (int64_t)time(NULL), day;
    if (load(r, AZ_REPORT_READ, &x) || date_query(r, "start", x.tz, now, &day))
        return;
    char v[4];
    if (http_query(r, "start", v, sizeof v) < 0)
        day -= core_weekday(day); /* default: this local week's Monday */
    int64_t b[8];
    for (int i = 0; i <= 7; i++)
        b[i] = core_report_local_midnight(x.tz, day + i);
    answer_days(r, &x, "weekly", b, 7, now);
}

static void check_h(req_t *r)
{
    if (http_no_body(r) || http_authorize_role(r, AZ_OPS) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    report_check_stats_t st;
    if (report_check_run(c, r->principal.org_id, (int64_t)time(NULL), &st) != 0) {
        http_problem(r, 503, "check_failed", "the check could not complete; it is safe to retry");
        return;
    }
    char body[128];
    snprintf(body, sizeof body, "{\"projects\":%d,\"warnings\":%d,\"escalations\":%d}", st.projects,
             st.warnings, st.escalations);
    http_send_json(r, 200, body, NULL);
}

void api_report_register(void)
{
    http_route("GET", "/v1/projects/{id}/reports/monthly/{month}", monthly_h, ROUTE_REPLICA, NULL);
    http_route("GET", "/v1/projects/{id}/reports/monthly/{month}/versions", versions_list_h, 0,
               NULL);
    http_route("POST", "/v1/projects/{id}/reports/monthly/{month}/versions", version_create_h, 0,
               NULL);
    http_route("GET", "/v1/projects/{id}/reports/monthly/{month}/versions/{version}", version_get_h,
               0, NULL);
    http_route("POST", "/v1/projects/{id}/reports/monthly/{month}/versions/{version}/submit",
               version_submit_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/reports/daily", daily_h, ROUTE_REPLICA, NULL);
    http_route("GET", "/v1/projects/{id}/reports/weekly", weekly_h, ROUTE_REPLICA, NULL);
    http_route("POST", "/v1/admin/reports/check", check_h, 0, NULL);
}
