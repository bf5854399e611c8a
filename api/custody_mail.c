/*
 * api/custody_mail.c — the mail and parcel register (RULES §3.6, 邮件收发登记表) on the
 * common custody ledger: an item is received at the desk only while the recipient is out
 * (or pushed by a courier-locker integration, idempotently by its reference), handed over
 * against ID (a money order only against the ID card, its number kept as a keyed hash and
 * the last 4), returned or handed to someone else with a reason; every reminder call is an
 * entry.  An item not collected the project's `mail_remind_days` (default
 * DESK_MAIL_REMIND_DAYS, 2) days after receipt is due for a reminder and shows in GET
 * /v1/mail/uncollected?due=… (`overdue`).  Residents read their own units' items.
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

#define DAY 86400

static int remind_days(void)
{
    return api_custody_env_days("DESK_MAIL_REMIND_DAYS", 2, 1, 60);
}

/* ---- the area's callbacks ---------------------------------------------------------------- */

typedef struct mail_ctx {
    custody_mail_entry_t e;
    custody_mail_ledger_t led, next;
} mail_ctx_t;

static void mail_load(void *ctx, const custody_row_t *row)
{
    mail_ctx_t *m = ctx;
    memset(&m->led, 0, sizeof m->led);
    int k = core_mail_kind_from_string(row->kind);
    m->led.kind = k < 0 ? MAIL_KIND_OTHER : (mail_kind_t)k;
    m->led.fresh = row->fresh;
    int s = row->fresh ? 0 : core_mail_state_from_string(row->state);
    m->led.state = s < 0 ? MAIL_ST_IN_CUSTODY : (mail_state_t)s;
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(row->ext, "calls");
    m->led.calls = cJSON_IsNumber(calls) ? calls->valueint : 0;
    m->led.last_occurred_at = row->last_occurred_at;
}

static custody_verdict_t mail_check(void *ctx, int64_t now)
{
    mail_ctx_t *m = ctx;
    return core_custody_mail_check(&m->led, &m->e, now, &m->next);
}

static void mail_store(void *ctx, const custody_row_t *row, custody_outcome_t *o)
{
    mail_ctx_t *m = ctx;
    o->ext = cJSON_Duplicate(row->ext, 1);
    if (m->e.action == MA_CALL) {
        char at[32];
        rfc3339_format(m->e.occurred_at, at);
        cJSON_DeleteItemFromObjectCaseSensitive(o->ext, "calls");
        cJSON_DeleteItemFromObjectCaseSensitive(o->ext, "last_call");
        cJSON_AddNumberToObject(o->ext, "calls", m->next.calls);
        cJSON *lc = cJSON_AddObjectToObject(o->ext, "last_call");
        cJSON_AddStringToObject(lc, "at", at);
        cJSON_AddBoolToObject(lc, "reached", m->e.reached == 1);
    }
    o->state = core_mail_state_name(m->next.state);
    if (m->next.state == MAIL_ST_IN_CUSTODY) {
        if (m->e.action == MA_RECEIVE) {
            int days = row->mail_remind_days > 0 ? row->mail_remind_days : remind_days();
            rfc3339_format(m->e.occurred_at + (int64_t)days * DAY, o->buf);
            o->due_back = o->buf;
        } else if (row->due_back[0]) {
            o->due_back = row->due_back;
        }
    }
}

static const custody_area_ops_t mail_ops = {"mail",
                                            "mail item",
                                            "mail_item",
                                            AZ_MAIL_READ,
                                            mail_load,
                                            mail_check,
                                            mail_store,
                                            core_mail_state_from_string,
                                            core_mail_kind_from_string};

static void mail_append(req_t *r, db_conn_t *c, const custody_row_t *row, mail_ctx_t *m,
                        const custody_post_t *p)
{
    api_custody_append(r, c, &mail_ops, row, m, p);
}

/* ---- POST /v1/mail: receive an item -----------------------------------------------------------
 */

static const char *const create_fields[] = {
    "project_id",      "kind",    "unit_id",  "recipient_name", "resident_id",  "mail_number",
    "sender_location", "count",   "location", "description",    "resident_out", "occurred_at",
    "external_ref",    "purpose", NULL};

/* 200 with the item an earlier push with the same reference created. */
static void replay(req_t *r, db_conn_t *c, const char *ref)
{
    PGresult *res = db_custody_by_external_ref(c, r->principal.org_id, mail_ops.area, ref);
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_fail(r, NULL);
        PQclear(res);
        return;
    }
    char *item = db_custody_item_json(c, r->principal.org_id, mail_ops.area, PQgetvalue(res, 0, 0));
    PQclear(res);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNullToObject(out, "entry");
    cJSON_AddNullToObject(out, "discrepancy");
    cJSON_AddRawToObject(out, mail_ops.member, item ? item : "null");
    http_send_cjson(r, 200, out, NULL);
    cJSON_Delete(out);
    free(item);
}

static void mail_create_h(req_t *r)
{
    int pushed = r->principal.role == ROLE_INTEGRATION;
    az_action_t az = pushed ? AZ_MAIL_PUSH : AZ_CUSTODY_WRITE;
    if (http_authorize_role(r, az) != 0 || http_json_body(r) != 0)
        return;
    api_err_t err;
    const cJSON *b = r->json;
    const char *project = NULL, *kind = NULL, *unit = NULL, *name = NULL, *resident = NULL,
               *number = NULL, *from = NULL, *loc = NULL, *desc = NULL, *ref = NULL,
               *purpose = NULL;
    int64_t occurred = 0;
    if (api_only_known(b, create_fields, "a mail item", &err) < 0 ||
        api_opt_uuid(b, "project_id", &project, &err) < 0 ||
        api_opt_enum(b, "kind", core_mail_kind_from_string, core_mail_kind_list, &kind, &err) < 0 ||
        api_opt_uuid(b, "unit_id", &unit, &err) < 0 ||
        api_opt_str(b, "recipient_name", 100, &name, &err) < 0 ||
        api_opt_uuid(b, "resident_id", &resident, &err) < 0 ||
        api_opt_str(b, "mail_number", 100, &number, &err) < 0 ||
        api_opt_str(b, "sender_location", 200, &from, &err) < 0 ||
        api_opt_str(b, "location", 200, &loc, &err) < 0 ||
        api_opt_str(b, "description", 2000, &desc, &err) < 0 ||
        api_opt_str(b, "external_ref", 200, &ref, &err) < 0 ||
        api_opt_str(b, "purpose", MAX_TEXT, &purpose, &err) < 0 ||
        api_opt_time(b, "occurred_at", &occurred, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    const char *missing = !project         ? "project_id"
                          : !kind          ? "kind"
                          : !unit          ? "unit_id"
                          : !name          ? "recipient_name"
                          : pushed && !ref ? "external_ref"
                                           : NULL;
    if (missing) {
        http_invalid(r, NULL, missing, "missing_field", "required", "'%s' is required%s", missing,
                     !strcmp(missing, "external_ref")
                         ? ": an integration pushes each item with its own reference (the "
                           "idempotency key)"
                         : "");
        return;
    }
    int count;
    int out;
    if (api_opt_count(b, "count", 1000, &count, &err) < 0 ||
        api_opt_bool(b, "resident_out", &out, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    if (count == 0) {
        http_invalid(r, NULL, "count", "invalid_field", "out_of_range",
                     "'count' must be at least 1");
        return;
    }
    if (pushed)
        out = 1; /* a locker holds items only for recipients who were not there */
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, az, &t) != 0)
        return;
    /* The rules judge the receipt before anything is written. */
    int64_t now = (int64_t)time(NULL);
    mail_ctx_t m;
    memset(&m, 0, sizeof m);
    m.led.fresh = 1;
    m.led.kind = (mail_kind_t)core_mail_kind_from_string(kind);
    m.e.action = MA_RECEIVE;
    m.e.actor.user_id = r->principal.user_id;
    m.e.actor.role = r->principal.role;
    m.e.actor.dept_kind = -1;
    m.e.resident_out = out;
    m.e.reached = -1;
    m.e.occurred_at = occurred ? occurred : now;
    custody_verdict_t v = core_custody_mail_check(&m.led, &m.e, now, &m.next);
    if (v.status) {
        api_custody_problem(r, v);
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    int in = db_custody_unit_in(c, r->principal.org_id, project, unit);
    int rin = resident ? db_custody_resident_in(c, r->principal.org_id, project, resident) : 1;
    if (in <= 0 || rin <= 0) {
        db_rollback(c);
        if (in < 0 || rin < 0)
            http_db_fail(r, NULL);
        else
            http_invalid(r, NULL, in ? "resident_id" : "unit_id", "invalid_field", "not_found",
                         in ? "no such resident in the project" : "no such unit in the project");
        return;
    }
    cJSON *ext = cJSON_CreateObject();
    cJSON *reg = cJSON_AddObjectToObject(ext, "register");
    if (number)
        cJSON_AddStringToObject(reg, "mail_number", number);
    if (from)
        cJSON_AddStringToObject(reg, "sender_location", from);
    cJSON_AddStringToObject(reg, "recipient_name", name);
    if (resident)
        cJSON_AddStringToObject(reg, "resident_id", resident);
    cJSON_AddNumberToObject(reg, "count", count > 0 ? count : 1);
    cJSON_AddNumberToObject(ext, "calls", 0);
    char *exts = cJSON_PrintUnformatted(ext);
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", count > 0 ? count : 1);
    db_custody_new_t n = {
        r->principal.org_id, project, mail_ops.area, kind, NULL, desc, unit, loc, cnt, ref, exts,
        r->principal.user_id};
    PGresult *res = db_custody_area_create(c, &n);
    free(exts);
    if (!db_ok(res)) {
        http_db_error(r, res);
        PQclear(res);
        cJSON_Delete(ext);
        db_rollback(c);
        return;
    }
    if (PQntuples(res) != 1) { /* the same push again */
        PQclear(res);
        cJSON_Delete(ext);
        db_rollback(c);
        replay(r, c, ref);
        return;
    }
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    custody_row_t row;
    PGresult *k1 = NULL;
    custody_person_t actor;
    if (api_custody_lock(r, c, &mail_ops, id, az, &row) != 0 ||
        api_custody_load_actor(r, c, &actor, &k1) != 0) {
        db_rollback(c);
    } else {
        m.e.actor = actor;
        cJSON *details = cJSON_CreateObject();
        cJSON_AddBoolToObject(details, "resident_out", out == 1);
        cJSON_AddItemReferenceToObject(details, "register", reg);
        if (ref)
            cJSON_AddStringToObject(details, "external_ref", ref);
        cJSON *att = cJSON_CreateArray();
        custody_post_t p = {"receive", purpose, NULL, m.e.occurred_at, NULL, att, details};
        mail_append(r, c, &row, &m, &p);
        cJSON_Delete(details);
        cJSON_Delete(att);
    }
    api_custody_row_free(&row);
    PQclear(k1);
    cJSON_Delete(ext);
}

/* ---- POST /v1/mail/{id}/entries ----------------------------------------------------------- */

static const char *const entry_fields[] = {"action",      "counterparty", "purpose", "occurred_at",
                                           "attachments", "corrects",     "reached", NULL};

static void mail_entry_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t err;
    const cJSON *b = r->json;
    const char *action = NULL, *purpose = NULL, *corrects = NULL;
    int64_t occurred = 0;
    if (api_only_known(b, entry_fields, "a mail ledger entry", &err) < 0 ||
        api_opt_enum(b, "action", core_mail_action_from_string, core_mail_action_list, &action,
                     &err) < 0 ||
        api_opt_str(b, "purpose", MAX_TEXT, &purpose, &err) < 0 ||
        api_opt_uuid(b, "corrects", &corrects, &err) < 0 ||
        api_opt_time(b, "occurred_at", &occurred, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    if (!action || !strcmp(action, "receive")) {
        http_invalid(r, NULL, "action", action ? "invalid_field" : "missing_field",
                     action ? "invalid_enum" : "required",
                     "'action' must be a mail-ledger action other than receive (an item is "
                     "received with POST /v1/mail)");
        return;
    }
    int reached;
    if (api_opt_bool(b, "reached", &reached, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    custody_row_t row;
    mail_ctx_t m;
    memset(&m, 0, sizeof m);
    PGresult *k1 = NULL, *k2 = NULL;
    cJSON *cp = NULL, *att = NULL, *details = cJSON_CreateObject();
    custody_party_t party;
    if (api_custody_lock(r, c, &mail_ops, id, AZ_CUSTODY_WRITE, &row) != 0 ||
        api_custody_load_actor(r, c, &m.e.actor, &k1) != 0 ||
        api_custody_parse_party(r, c, row.project,
                                cJSON_GetObjectItemCaseSensitive(b, "counterparty"), &party, &cp,
                                &k2) != 0 ||
        api_custody_parse_attachments(r, cJSON_GetObjectItemCaseSensitive(b, "attachments"),
                                      &m.e.attachments, &att) != 0) {
        db_rollback(c);
    } else {
        m.e.action = (mail_action_t)core_mail_action_from_string(action);
        m.e.party = party.kind;
        m.e.id_type = party.id_type;
        m.e.resident_out = -1;
        m.e.reached = reached;
        m.e.has_corrects = corrects != NULL;
        m.e.purpose = purpose;
        m.e.occurred_at = occurred ? occurred : (int64_t)time(NULL);
        if (reached >= 0)
            cJSON_AddBoolToObject(details, "reached", reached);
        custody_post_t p = {action, purpose, corrects, m.e.occurred_at, cp, att, details};
        mail_append(r, c, &row, &m, &p);
    }
    api_custody_row_free(&row);
    PQclear(k1);
    PQclear(k2);
    cJSON_Delete(cp);
    cJSON_Delete(att);
    cJSON_Delete(details);
}

static const custody_daily_t uncollected = {&mail_ops, "in_custody", 0, 0};
static const custody_daily_t reminders_due = {&mail_ops, "in_custody", 0, 1};

void api_custody_mail_register(void)
{
    void *ops = (void *)&mail_ops;
    http_route("POST", "/v1/mail", mail_create_h, 0, ops);
    http_route("GET", "/v1/mail", api_custody_area_list_h, 0, ops);
    http_route("GET", "/v1/mail/uncollected", api_custody_daily_h, 0, (void *)&uncollected);
    http_route("GET", "/v1/mail/reminders-due", api_custody_daily_h, 0, (void *)&reminders_due);
    api_custody_item_routes("/v1/mail", &mail_ops, mail_entry_h);
}
