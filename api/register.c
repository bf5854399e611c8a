/*
 * api/register.c — the registers' own columns on a request (RULES §2 item 5: 客户希望/要求,
 * 受理单位意见, 处理意见, 主管评估意见, 业主反馈情况), each note with who wrote it and when,
 * the latest per column shown on the request and every earlier one kept; and the paper
 * registers 报修受理登记表, 投诉受理登记表 and 投诉处理记录表 of a project and a period as JSON
 * or as the form (CSV: UTF-8 with BOM, CRLF, the form's zh-CN headers in the form's order),
 * days local to the project's zone, phones masked for roles that may not see them.
 * Which role writes and reads which column is core/register.c's table.
 */
#include "api/api.h"
#include "api/codec.h"
#include "api/http.h"
#include "api/register.h"
#include "api/request.h"
#include "svc/report_worker.h"
#include "core/register.h"
#include "core/report.h"
#include "core/rfc3339.h"
#include "core/tz.h"
#include "core/vocab.h"
#include "db/register.h"
#include "db/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "{a,b}" of the columns role may read into buf. */
static void readable(role_t role, char *buf, size_t len)
{
    size_t o = 0;
    buf[o++] = '{';
    for (int f = 0; f < REG__COUNT; f++)
        if (core_register_may_read(role, (register_field_t)f))
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o > 1 ? "," : "",
                                  core_register_field_name((register_field_t)f));
    snprintf(buf + o, len - o, "}");
}

/* {"<field>":null,...} for the readable fields (the PostgreSQL array literal "{a,b}"): what
 * the register view answers for a request without notes, built without asking. */
static char *no_notes(const char *fields)
{
    size_t n = strlen(fields);
    char *out = malloc(2 * n + 16), *o = out;
    if (!out)
        return NULL;
    *o++ = '{';
    for (const char *p = fields + 1; *p && *p != '}';) {
        size_t k = strcspn(p, ",}");
        o += sprintf(o, "%s\"%.*s\":null", o > out + 1 ? "," : "", (int)k, p);
        p += k + (p[k] == ',');
    }
    strcpy(o, "}");
    return out;
}

char *api_register_splice(req_t *r, db_conn_t *c, const char *request_id, char *json, int has_notes)
{
    char fields[160];
    readable(r->principal.role, fields, sizeof fields);
    size_t n = json ? strlen(json) : 0;
    if (!strcmp(fields, "{}") || n < 2 || json[n - 1] != '}')
        return json;
    char *latest = NULL;
    if (!has_notes)
        latest = no_notes(fields); /* no round trip for the common case */
    else {
        char *view = db_register_view(c, r->principal.org_id, request_id, fields);
        cJSON *v = view ? cJSON_Parse(view) : NULL;
        free(view);
        latest = v ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "latest")) : NULL;
        cJSON_Delete(v);
    }
    if (!latest)
        return json; /* the request without its register rather than no answer */
    size_t ln = strlen(latest);
    char *out = malloc(n + ln + 16);
    if (out) {
        memcpy(out, json, n - 1);
        int k = sprintf(out + n - 1, ",\"register\":%s}", latest);
        out[n - 1 + (size_t)k] = 0;
        free(json);
        json = out;
    }
    free(latest);
    return json;
}

/* ---------------------------------------------------------------- notes */

static int field_param(req_t *r, register_field_t *f)
{
    int v = core_register_field_from_string(r->params[1]);
    if (v < 0) {
        char list[200];
        core_register_field_list(list, sizeof list);
        http_problem(r, 404, "not_found", "a register column is one of: %s", list);
        return -1;
    }
    *f = (register_field_t)v;
    return 0;
}

/* UTF-8 characters of s (continuation bytes not counted). */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void note_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    register_field_t f;
    if (!id || field_param(r, &f) != 0 || http_authorize_role(r, AZ_REGISTER_WRITE) != 0)
        return;
    if (!core_register_may_write(r->principal.role, f)) {
        http_problem(r, 403, "forbidden", "the role '%s' may not write '%s' (%s)",
                     core_role_name(r->principal.role), core_register_field_name(f),
                     core_register_field_label(f));
        return;
    }
    if (http_json_body(r) != 0)
        return;
    static const char *const known[] = {"body", NULL};
    const char *body;
    if (http_known_fields(r, "a register note", known) != 0 ||
        http_text_field(r, "body", 4 * REG_NOTE_MAX, &body) != 0)
        return;
    if (chars(body) > REG_NOTE_MAX) {
        http_invalid(r, NULL, "body", "invalid_field", "too_long",
                     "'body' must be at most %d characters", REG_NOTE_MAX);
        return;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_REGISTER_WRITE, &row) != 0)
        return;
    const char *vis = core_register_may_read(ROLE_RESIDENT, f) ? "public" : "internal";
    PGresult *res =
        db_register_add(c, r->principal.org_id, id, row.last_seq + 1, core_register_field_name(f),
                        body, r->principal.user_id, core_role_name(r->principal.role),
                        api_request_channel(r->principal.role), vis);
    if (!db_ok(res) || PQntuples(res) != 1 || db_commit(c) != 0) {
        http_db_error(r, res);
        db_rollback(c);
    } else {
        http_send_json(r, 201, PQgetvalue(res, 0, 0), NULL);
    }
    PQclear(res);
}

static void view_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return;
    db_conn_t *c = http_db(r);
    request_scope_t sc;
    if (!c || api_request_authorize(r, c, id, AZ_REQUEST_READ, &sc) != 0)
        return;
    char fields[160];
    readable(r->principal.role, fields, sizeof fields);
    char *view = db_register_view(c, r->principal.org_id, id, fields);
    if (!view) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_json(r, 200, view, NULL);
    free(view);
}

/* ---------------------------------------------------------------- the paper registers */

static const char *str(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

static int64_t num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* 处理过程: each workflow step as "MM-DD HH:MM 派工", then the resolution text, "；"-joined. */
static void process_text(report_buf_t *b, const cJSON *raw, const tz_rules_t *tz)
{
    const vocab_enum_t *acts = core_vocab_find("request_action");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(raw, "events"))
    {
        int64_t local = core_tz_utc_to_local(tz, num(e, "at"));
        const char *a = str(e, "action");
        const vocab_term_t *term = acts ? core_vocab_term(acts, a) : NULL;
        char date[11];
        core_report_local_date(tz, num(e, "at"), date);
        int64_t sod = ((local % 86400) + 86400) % 86400;
        if (b->len)
            core_report_buf_puts(b, "；");
        core_report_buf_printf(b, "%s %02d:%02d ", date + 5, (int)(sod / 3600),
                               (int)(sod / 60 % 60));
        core_report_buf_puts(b, term ? term->zh : a);
    }
    const char *res = str(raw, "resolution");
    if (res[0]) {
        if (b->len)
            core_report_buf_puts(b, "；");
        core_report_buf_puts(b, res);
    }
}

/* One row of form f from a raw row (phones as stored; masked later when needed). */
static cJSON *form_row(register_form_t f, const cJSON *raw, const tz_rules_t *tz, int pii)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", str(raw, "request_id"));
    char date[11];
    core_report_local_date(tz, num(raw, "received_at"), date);
    const char *sev = core_report_severity_label(str(raw, "severity"));
    char phone[64];
    if (pii)
        snprintf(phone, sizeof phone, "%s", str(raw, "phone"));
    else
        core_report_mask_phone(str(raw, "phone"), phone, sizeof phone);
    const char *title = str(raw, "title");
    const char *subject = title[0] ? title : str(raw, "description");
    size_t n;
    const register_column_t *cols = core_register_form_columns(f, &n);
    for (size_t i = 0; i < n; i++) {
        const char *k = cols[i].key;
        if (!strcmp(k, "date"))
            cJSON_AddStringToObject(o, k, date);
        else if (!strcmp(k, "phone"))
            cJSON_AddStringToObject(o, k, phone);
        else if (!strcmp(k, "reporter_name") || !strcmp(k, "customer_name") ||
                 !strcmp(k, "owner_name"))
            cJSON_AddStringToObject(o, k, str(raw, "reporter_name"));
        else if (!strcmp(k, "receiver"))
            cJSON_AddStringToObject(o, k, str(raw, "recorded_by"));
        else if (!strcmp(k, "severity"))
            cJSON_AddStringToObject(o, k, sev ? sev : "一般");
        else if (!strcmp(k, "subject"))
            cJSON_AddStringToObject(
                o, k, f == REGF_COMPLAINT_HANDLING ? str(raw, "description") : subject);
        else if (!strcmp(k, "process")) {
            report_buf_t b = {0};
            process_text(&b, raw, tz);
            cJSON_AddStringToObject(o, k, b.s ? b.s : "");
            free(b.s);
        } else if (!strcmp(k, "remarks")) {
            report_buf_t b = {0};
            const cJSON *ov = cJSON_GetObjectItemCaseSensitive(raw, "overdue");
            core_report_remarks(&b, str(raw, "severity"), str(raw, "validity"),
                                (int)num(raw, "reopen_count"), cJSON_IsTrue(ov));
            cJSON_AddStringToObject(o, k, b.s ? b.s : "");
            free(b.s);
        } else {
            cJSON_AddStringToObject(o, k, str(raw, k));
        }
    }
    return o;
}

static char *render_csv(register_form_t f, const cJSON *rows, size_t *len)
{
    size_t n;
    const register_column_t *cols = core_register_form_columns(f, &n);
    report_buf_t b = {0};
    core_report_buf_add(&b, "\xEF\xBB\xBF", 3);
    for (size_t i = 0; i < n; i++) {
        if (i)
            core_report_buf_add(&b, ",", 1);
        core_report_csv_field(&b, cols[i].label);
    }
    core_report_buf_add(&b, "\r\n", 2);
    const cJSON *it;
    cJSON_ArrayForEach(it, rows)
    {
        for (size_t i = 0; i < n; i++) {
            if (i)
                core_report_buf_add(&b, ",", 1);
            core_report_csv_field(&b, str(it, cols[i].key));
        }
        core_report_buf_add(&b, "\r\n", 2);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}

/* The period: ?month=YYYY-MM, or ?from=YYYY-MM-DD&to=YYYY-MM-DD (local days, inclusive, at
 * most 366 days).  [*t0, *t1) in UTC. */
static int period(req_t *r, const tz_rules_t *tz, int64_t *t0, int64_t *t1)
{
    char month[16], from[16], to[16];
    int hm = http_query(r, "month", month, sizeof month) >= 0;
    int hf = http_query(r, "from", from, sizeof from) >= 0;
    int ht = http_query(r, "to", to, sizeof to) >= 0;
    if (hm && !hf && !ht) {
        int y, m;
        if (core_report_parse_month(month, &y, &m) != 0) {
            http_problem(r, 400, "invalid_query", "'month' is written YYYY-MM (e.g. 2026-03)");
            return -1;
        }
        core_report_month_bounds(tz, y, m, t0, t1);
        return 0;
    }
    int64_t d0, d1;
    if (hm || !hf || !ht || core_report_parse_date(from, &d0) != 0 ||
        core_report_parse_date(to, &d1) != 0) {
        http_problem(r, 400, "invalid_query",
                     "give either 'month' (YYYY-MM) or both 'from' and 'to' (YYYY-MM-DD, local "
                     "days, inclusive)");
        return -1;
    }
    if (d1 < d0 || d1 - d0 > 366) {
        http_problem(r, 400, "invalid_query",
                     "'to' must be on or after 'from' and the period at most 366 days");
        return -1;
    }
    *t0 = core_report_local_midnight(tz, d0);
    *t1 = core_report_local_midnight(tz, d1 + 1);
    return 0;
}

static void export_h(req_t *r)
{
    if (http_authorize_role(r, AZ_REGISTER_EXPORT) != 0)
        return;
    const char *project = http_uuid_param(r, 0);
    if (!project)
        return;
    int fi = core_register_form_from_string(r->params[1]);
    if (fi < 0) {
        char list[120];
        core_register_form_list(list, sizeof list);
        http_problem(r, 404, "not_found", "a register is one of: %s", list);
        return;
    }
    register_form_t f = (register_form_t)fi;
    char fmt[16] = "json";
    if (http_query(r, "format", fmt, sizeof fmt) >= 0 && strcmp(fmt, "json") != 0 &&
        strcmp(fmt, "csv") != 0) {
        http_problem(r, 400, "invalid_query", "'format' must be json or csv");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    report_project_t proj;
    int found = db_report_project(c, r->principal.org_id, project, &proj);
    if (found < 0) {
        http_db_fail(r, NULL);
        return;
    }
    if (found == 1) {
        http_problem(r, 404, "not_found", "no project with this id in your scope");
        return;
    }
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_REGISTER_EXPORT, &t) != 0)
        return;
    const tz_rules_t *tz = report_zone(proj.time_zone);
    if (!tz) {
        http_problem(r, 500, "time_zone_unavailable",
                     "the project's time zone '%s' cannot be read on this server", proj.time_zone);
        return;
    }
    int64_t t0, t1;
    if (period(r, tz, &t0, &t1) != 0)
        return;
    char from[32], to[32];
    rfc3339_format(t0, from);
    rfc3339_format(t1, to);
    char *raw =
        db_register_rows(c, r->principal.org_id, project, core_register_form_type(f), from, to);
    cJSON *a = raw ? cJSON_Parse(raw) : NULL;
    free(raw);
    if (!a) {
        http_db_fail(r, "the register could not be read");
        return;
    }
    int pii = core_authz_sees_pii(r->principal.role);
    cJSON *rows = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, a) cJSON_AddItemToArray(rows, form_row(f, it, tz, pii));
    cJSON_Delete(a);
    char d0[11], d1[11];
    core_report_local_date(tz, t0, d0);
    core_report_local_date(tz, t1 - 1, d1);
    if (!strcmp(fmt, "csv")) {
        size_t len = 0;
        char *body = render_csv(f, rows, &len);
        cJSON_Delete(rows);
        if (!body) {
            http_problem(r, 503, "overloaded", "out of memory; retry");
            return;
        }
        char hdr[256];
        snprintf(hdr, sizeof hdr, "Content-Disposition: attachment; filename=\"%s-%s-%s.csv\"\r\n",
                 r->params[1], d0, d1);
        http_send_body(r, 200, "text/csv; charset=utf-8", body, len, hdr);
        free(body);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "register", core_register_form_name(f));
    cJSON_AddStringToObject(o, "title", core_register_form_title(f));
    cJSON_AddStringToObject(o, "project_id", project);
    cJSON_AddStringToObject(o, "project_name", proj.name);
    cJSON_AddStringToObject(o, "time_zone", proj.time_zone);
    cJSON *per = cJSON_AddObjectToObject(o, "period");
    cJSON_AddStringToObject(per, "from", from);
    cJSON_AddStringToObject(per, "to", to);
    cJSON_AddStringToObject(per, "first_day", d0);
    cJSON_AddStringToObject(per, "last_day", d1);
    cJSON *cl = cJSON_AddArrayToObject(o, "columns");
    size_t n;
    const register_column_t *cols = core_register_form_columns(f, &n);
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "key", cols[i].key);
        cJSON_AddStringToObject(e, "label", cols[i].label);
        cJSON_AddItemToArray(cl, e);
    }
    cJSON_AddItemToObject(o, "rows", rows);
    http_send_cjson(r, 200, o, NULL);
    cJSON_Delete(o);
}

void api_register_register(void)
{
    http_route("GET", "/v1/requests/{id}/register", view_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/register/{field}", note_add_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/registers/{register}", export_h, 0, NULL);
}
