/*
 * api/custody_archive.c — the archive register (RULES §3.5) on the common custody ledger:
 * files with classification, retention and location; official documents read on site only;
 * confidential files read on site with the GM's approval, never lent or copied; personnel
 * files refused to the desk altogether; loans counted and signed face to face at loan and at
 * return (the second signature is the other party's own call), chased when overdue
 * (GET /v1/archives/overdue); the monthly inventory opens a discrepancy for a missing file
 * (GET /v1/archives/discrepancies); destruction only after the retention period, with the
 * director's (ordinary) or the GM's (confidential) approval and the method recorded.
 */
#include "api/api.h"
#include "api/codec.h"
#include "api/custody.h"
#include "api/http.h"
#include "api/validate.h"
#include "core/custody_areas.h"
#include "db/custody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the area's callbacks ---------------------------------------------------------------- */

typedef struct arc_ctx {
    custody_archive_entry_t e;
    custody_archive_ledger_t led, next;
    custody_archive_effect_t fx;
} arc_ctx_t;

static void arc_load(void *ctx, const custody_row_t *row)
{
    arc_ctx_t *a = ctx;
    custody_archive_ledger_t *d = &a->led;
    memset(d, 0, sizeof *d);
    int k = core_archive_class_from_string(row->kind);
    d->cls = k < 0 ? ARC_CLASS_PERSONNEL : (archive_class_t)k; /* unknown: the strictest */
    d->fresh = row->fresh;
    int s = row->fresh ? 0 : core_archive_state_from_string(row->state);
    d->state = s < 0 ? ARC_ST_ACTIVE : (archive_state_t)s;
    d->holder_id = row->holder_id;
    d->open_discrepancy = row->open_discrepancy;
    d->last_occurred_at = row->last_occurred_at;
    const cJSON *reg = cJSON_GetObjectItemCaseSensitive(row->ext, "register");
    const char *ret = api_custody_jstr(reg, "retention_until");
    if (!ret || rfc3339_parse(ret, &d->retention_until) != 0)
        d->retention_until = 0;
    const cJSON *pend = cJSON_GetObjectItemCaseSensitive(row->ext, "pending");
    if (cJSON_IsObject(pend)) {
        d->pending_by = api_custody_jstr(pend, "by");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(pend, "count");
        d->pending_count = cJSON_IsNumber(n) ? n->valueint : 0;
    }
    d->read_approval_for = api_custody_jstr(row->ext, "read_approved_for");
    d->destroy_approved_by = api_custody_jstr(row->ext, "destroy_approved_by");
}

static custody_verdict_t arc_check(void *ctx, int64_t now)
{
    arc_ctx_t *a = ctx;
    return core_custody_archive_check(&a->led, &a->e, now, &a->next, &a->fx);
}

static void set_str(cJSON *o, const char *name, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    if (v)
        cJSON_AddStringToObject(o, name, v);
}

static void arc_store(void *ctx, const custody_row_t *row, custody_outcome_t *o)
{
    arc_ctx_t *a = ctx;
    const custody_archive_ledger_t *n = &a->next;
    o->ext = cJSON_Duplicate(row->ext, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(o->ext, "pending");
    if (n->pending_by) {
        cJSON *p = cJSON_AddObjectToObject(o->ext, "pending");
        cJSON_AddStringToObject(p, "by", n->pending_by);
        cJSON_AddNumberToObject(p, "count", n->pending_count);
        cJSON_AddStringToObject(p, "signature_due_from",
                                n->state == ARC_ST_LOAN_PENDING ? "borrower" : "clerk");
    }
    if (a->e.action == AA_LOAN) /* a new loan gets its own overdue reminder */
        cJSON_DeleteItemFromObjectCaseSensitive(o->ext, "reminded_at");
    set_str(o->ext, "read_approved_for", n->read_approval_for);
    set_str(o->ext, "destroy_approved_by", n->destroy_approved_by);
    if (a->e.action == AA_READ_APPROVE || a->e.action == AA_DESTROY_APPROVE) {
        o->approvals = cJSON_CreateArray();
        cJSON *ap = cJSON_CreateObject();
        cJSON_AddStringToObject(ap, "user_id", a->e.actor.user_id);
        cJSON_AddStringToObject(ap, "role", core_role_name(a->e.actor.role));
        cJSON_AddStringToObject(ap, "decision", "approved");
        cJSON_AddItemToArray(o->approvals, ap);
    }
    if (a->e.action == AA_DESTROY && a->led.destroy_approved_by) {
        o->approvals = cJSON_CreateArray();
        cJSON *ap = cJSON_CreateObject();
        cJSON_AddStringToObject(ap, "user_id", a->led.destroy_approved_by);
        cJSON_AddStringToObject(ap, "decision", "approved");
        cJSON_AddItemToArray(o->approvals, ap);
    }
    if ((a->e.action == AA_LOAN_SIGN || a->e.action == AA_RETURN_SIGN) && a->led.pending_by) {
        /* The entry carries both signatures: the first party's and the caller's own. */
        o->witnesses = cJSON_CreateArray();
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "user_id", a->led.pending_by);
        cJSON_AddStringToObject(w, "signed", a->e.action == AA_LOAN_SIGN ? "loan" : "return");
        cJSON_AddNumberToObject(w, "count", a->led.pending_count);
        cJSON_AddItemToArray(o->witnesses, w);
    }
    o->state = core_archive_state_name(n->state);
    o->holder_id = n->holder_id;
    o->open_discrepancy = n->open_discrepancy;
    int out = n->state == ARC_ST_LOAN_PENDING || n->state == ARC_ST_ON_LOAN ||
              n->state == ARC_ST_RETURN_PENDING;
    if (a->e.action == AA_LOAN) {
        rfc3339_format(a->e.due_back, o->buf);
        o->due_back = o->buf;
    } else if (out && row->due_back[0]) {
        o->due_back = row->due_back;
    }
    if (a->fx.notify_manager)
        o->notify_kind = "custody_archive_lost";
}

static const custody_area_ops_t arc_ops = {"archives",
                                           "archive file",
                                           "archive_file",
                                           AZ_ARCHIVE_READ,
                                           arc_load,
                                           arc_check,
                                           arc_store,
                                           core_archive_state_from_string,
                                           core_archive_class_from_string};

/* ---- POST /v1/archives ----------------------------------------------------------------------- */

static const char *const create_fields[] = {
    "project_id",    "number",  "title",       "classification", "category", "department_id",
    "external_unit", "unit_id", "date_from",   "date_to",        "original", "retention_until",
    "location",      "count",   "occurred_at", "purpose",        NULL};

static void arc_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t err;
    const cJSON *b = r->json;
    const char *project = NULL, *number = NULL, *title = NULL, *cls = NULL, *category = NULL,
               *dept = NULL, *ext_unit = NULL, *unit = NULL, *loc = NULL, *purpose = NULL;
    int64_t occurred = 0, from = 0, to = 0, retention = 0;
    if (api_only_known(b, create_fields, "an archive file", &err) < 0 ||
        api_opt_uuid(b, "project_id", &project, &err) < 0 ||
        api_opt_str(b, "number", 100, &number, &err) < 0 ||
        api_opt_str(b, "title", 2000, &title, &err) < 0 ||
        api_opt_enum(b, "classification", core_archive_class_from_string, core_archive_class_list,
                     &cls, &err) < 0 ||
        api_opt_str(b, "category", 100, &category, &err) < 0 ||
        api_opt_uuid(b, "department_id", &dept, &err) < 0 ||
        api_opt_str(b, "external_unit", 200, &ext_unit, &err) < 0 ||
        api_opt_uuid(b, "unit_id", &unit, &err) < 0 ||
        api_opt_str(b, "location", 200, &loc, &err) < 0 ||
        api_opt_str(b, "purpose", MAX_TEXT, &purpose, &err) < 0 ||
        api_opt_time(b, "date_from", &from, &err) < 0 ||
        api_opt_time(b, "date_to", &to, &err) < 0 ||
        api_opt_time(b, "retention_until", &retention, &err) < 0 ||
        api_opt_time(b, "occurred_at", &occurred, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    const char *missing = !project  ? "project_id"
                          : !number ? "number"
                          : !title  ? "title"
                          : !cls    ? "classification"
                          : !loc    ? "location"
                                    : NULL;
    if (missing) {
        http_invalid(r, NULL, missing, "missing_field", "required", "'%s' is required", missing);
        return;
    }
    int count, original;
    if (api_opt_count(b, "count", 1000, &count, &err) < 0 ||
        api_opt_bool(b, "original", &original, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    if (original == 0) {
        http_invalid(r, NULL, "original", "invalid_field", "original_required",
                     "only originals are archived ('original': true)");
        return;
    }
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_CUSTODY_WRITE, &t) != 0)
        return;
    int64_t now = (int64_t)time(NULL);
    arc_ctx_t a;
    memset(&a, 0, sizeof a);
    a.led.fresh = 1;
    a.led.cls = (archive_class_t)core_archive_class_from_string(cls);
    a.e.action = AA_REGISTER;
    a.e.actor.user_id = r->principal.user_id;
    a.e.actor.role = r->principal.role;
    a.e.actor.dept_kind = -1;
    a.e.count = count;
    a.e.present = a.e.method = -1;
    a.e.occurred_at = occurred ? occurred : now;
    {
        custody_verdict_t v = core_custody_archive_check(&a.led, &a.e, now, &a.next, &a.fx);
        if (v.status) {
            api_custody_problem(r, v);
            return;
        }
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    if (unit) {
        int in = db_custody_unit_in(c, r->principal.org_id, project, unit);
        if (in <= 0) {
            db_rollback(c);
            if (in < 0)
                http_db_fail(r, NULL);
            else
                http_invalid(r, NULL, "unit_id", "invalid_field", "not_found",
                             "no such unit in the project");
            return;
        }
    }
    cJSON *ext = cJSON_CreateObject();
    cJSON *reg = cJSON_AddObjectToObject(ext, "register");
    char ts[32];
    cJSON_AddStringToObject(reg, "number", number);
    cJSON_AddStringToObject(reg, "classification", cls);
    if (category)
        cJSON_AddStringToObject(reg, "category", category);
    if (dept)
        cJSON_AddStringToObject(reg, "department_id", dept);
    if (ext_unit)
        cJSON_AddStringToObject(reg, "external_unit", ext_unit);
    if (from) {
        rfc3339_format(from, ts);
        cJSON_AddStringToObject(reg, "date_from", ts);
    }
    if (to) {
        rfc3339_format(to, ts);
        cJSON_AddStringToObject(reg, "date_to", ts);
    }
    if (retention) {
        rfc3339_format(retention, ts);
        cJSON_AddStringToObject(reg, "retention_until", ts);
    } else {
        cJSON_AddNullToObject(reg, "retention_until"); /* kept permanently */
    }
    cJSON_AddBoolToObject(reg, "original", 1);
    char *exts = cJSON_PrintUnformatted(ext);
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", count > 0 ? count : 1);
    db_custody_new_t n = {
        r->principal.org_id, project, arc_ops.area, cls, number, title, unit, loc, cnt, NULL, exts,
        r->principal.user_id};
    PGresult *res = db_custody_area_create(c, &n);
    free(exts);
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        PQclear(res);
        cJSON_Delete(ext);
        db_rollback(c);
        return;
    }
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    custody_row_t row;
    PGresult *k1 = NULL;
    if (api_custody_lock(r, c, &arc_ops, id, AZ_CUSTODY_WRITE, &row) != 0 ||
        api_custody_load_actor(r, c, &a.e.actor, &k1) != 0) {
        db_rollback(c);
    } else {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddItemReferenceToObject(details, "register", reg);
        if (count > 0)
            cJSON_AddNumberToObject(details, "count", count);
        cJSON *att = cJSON_CreateArray();
        custody_post_t p = {"register", purpose, NULL, a.e.occurred_at, NULL, att, details};
        api_custody_append(r, c, &arc_ops, &row, &a, &p);
        cJSON_Delete(details);
        cJSON_Delete(att);
    }
    api_custody_row_free(&row);
    PQclear(k1);
    cJSON_Delete(ext);
}

/* ---- POST /v1/archives/{id}/entries ------------------------------------------------------------
 */

static const char *const entry_fields[] = {"action",      "counterparty", "purpose", "occurred_at",
                                           "attachments", "corrects",     "count",   "present",
                                           "method",      "due_back",     NULL};

static void arc_entry_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t err;
    const cJSON *b = r->json;
    const char *action = NULL, *purpose = NULL, *corrects = NULL, *method = NULL;
    int64_t occurred = 0, due = 0;
    if (api_only_known(b, entry_fields, "an archive ledger entry", &err) < 0 ||
        api_opt_enum(b, "action", core_archive_action_from_string, core_archive_action_list,
                     &action, &err) < 0 ||
        api_opt_enum(b, "method", core_destroy_method_from_string, core_destroy_method_list,
                     &method, &err) < 0 ||
        api_opt_str(b, "purpose", MAX_TEXT, &purpose, &err) < 0 ||
        api_opt_uuid(b, "corrects", &corrects, &err) < 0 ||
        api_opt_time(b, "occurred_at", &occurred, &err) < 0 ||
        api_opt_time(b, "due_back", &due, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    if (!action || !strcmp(action, "register")) {
        http_invalid(r, NULL, "action", action ? "invalid_field" : "missing_field",
                     action ? "invalid_enum" : "required",
                     "'action' must be an archive-ledger action other than register (a file is "
                     "registered with POST /v1/archives)");
        return;
    }
    int count, present;
    if (api_opt_count(b, "count", 1000, &count, &err) < 0 ||
        api_opt_bool(b, "present", &present, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    custody_row_t row;
    arc_ctx_t a;
    memset(&a, 0, sizeof a);
    PGresult *k1 = NULL, *k2 = NULL;
    cJSON *cp = NULL, *att = NULL, *details = cJSON_CreateObject();
    custody_party_t party;
    int n_att = 0;
    if (api_custody_lock(r, c, &arc_ops, id, AZ_CUSTODY_WRITE, &row) != 0 ||
        api_custody_load_actor(r, c, &a.e.actor, &k1) != 0 ||
        api_custody_parse_party(r, c, row.project,
                                cJSON_GetObjectItemCaseSensitive(b, "counterparty"), &party, &cp,
                                &k2) != 0 ||
        api_custody_parse_attachments(r, cJSON_GetObjectItemCaseSensitive(b, "attachments"), &n_att,
                                      &att) != 0) {
        db_rollback(c);
    } else {
        a.e.action = (archive_action_t)core_archive_action_from_string(action);
        a.e.party = party.kind;
        a.e.party_user = party.user;
        a.e.count = count;
        a.e.present = present;
        a.e.method = method ? core_destroy_method_from_string(method) : -1;
        a.e.due_back = due;
        a.e.has_corrects = corrects != NULL;
        a.e.purpose = purpose;
        a.e.occurred_at = occurred ? occurred : (int64_t)time(NULL);
        if (count >= 0)
            cJSON_AddNumberToObject(details, "count", count);
        if (present >= 0)
            cJSON_AddBoolToObject(details, "present", present);
        if (method)
            cJSON_AddStringToObject(details, "method", method);
        if (due) {
            char ts[32];
            rfc3339_format(due, ts);
            cJSON_AddStringToObject(details, "due_back", ts);
        }
        custody_post_t p = {action, purpose, corrects, a.e.occurred_at, cp, att, details};
        api_custody_append(r, c, &arc_ops, &row, &a, &p);
    }
    api_custody_row_free(&row);
    PQclear(k1);
    PQclear(k2);
    cJSON_Delete(cp);
    cJSON_Delete(att);
    cJSON_Delete(details);
}

static const custody_daily_t on_loan = {&arc_ops, "loan_pending,on_loan,return_pending", 0, 0};
static const custody_daily_t overdue = {&arc_ops, "loan_pending,on_loan,return_pending", 0, 1};
static const custody_daily_t discrepancies = {&arc_ops, "", 1, 0};

void api_custody_archive_register(void)
{
    void *ops = (void *)&arc_ops;
    http_route("POST", "/v1/archives", arc_create_h, 0, ops);
    http_route("GET", "/v1/archives", api_custody_area_list_h, 0, ops);
    http_route("GET", "/v1/archives/on-loan", api_custody_daily_h, 0, (void *)&on_loan);
    http_route("GET", "/v1/archives/overdue", api_custody_daily_h, 0, (void *)&overdue);
    http_route("GET", "/v1/archives/discrepancies", api_custody_daily_h, 0, (void *)&discrepancies);
    api_custody_item_routes("/v1/archives", &arc_ops, arc_entry_h);
}
