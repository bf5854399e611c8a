/*
 * api/custody_lost.c — lost property and valuables deposits (RULES §3.7) on the common
 * custody ledger.  A found item is registered (where, what, by whom), handed to the duty
 * manager who signs for it with their own call, then claimed (date, place and details of the
 * loss, signed with ID) or handed to the police (station, officer, receipt number); an item
 * not claimed the project's `lost_unclaimed_days` (default DESK_LOST_UNCLAIMED_DAYS, 30)
 * days after it was found is listed for the police
 * (GET /v1/lost-property/unclaimed).  A valuables deposit is taken against the depositor's
 * ID and handed back only against the same ID.
 */
#include "api/api.h"
#include "api/codec.h"
#include "api/custody.h"
#include "api/http.h"
#include "api/pii.h"
#include "api/validate.h"
#include "core/custody_areas.h"
#include "db/custody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY 86400

static int unclaimed_days(void)
{
    return api_custody_env_days("DESK_LOST_UNCLAIMED_DAYS", 30, 1, 3650);
}

/* ---- the area's callbacks ---------------------------------------------------------------- */

typedef struct lost_ctx {
    custody_lost_entry_t e;
    custody_lost_ledger_t led, next;
} lost_ctx_t;

static void lost_load(void *ctx, const custody_row_t *row)
{
    lost_ctx_t *l = ctx;
    memset(&l->led, 0, sizeof l->led);
    int k = core_lost_kind_from_string(row->kind);
    l->led.kind = k < 0 ? LOST_KIND_FOUND_ITEM : (lost_kind_t)k;
    l->led.fresh = row->fresh;
    int s = row->fresh ? 0 : core_lost_state_from_string(row->state);
    l->led.state = s < 0 ? LOST_ST_FOUND : (lost_state_t)s;
    l->led.last_occurred_at = row->last_occurred_at;
}

static custody_verdict_t lost_check(void *ctx, int64_t now)
{
    lost_ctx_t *l = ctx;
    return core_custody_lost_check(&l->led, &l->e, now, &l->next);
}

static void lost_store(void *ctx, const custody_row_t *row, custody_outcome_t *o)
{
    lost_ctx_t *l = ctx;
    o->ext = cJSON_Duplicate(row->ext, 1);
    o->state = core_lost_state_name(l->next.state);
    int waiting = l->next.state == LOST_ST_FOUND || l->next.state == LOST_ST_HELD;
    if (l->e.action == LA_REGISTER) {
        int days = row->lost_unclaimed_days > 0 ? row->lost_unclaimed_days : unclaimed_days();
        rfc3339_format(l->e.occurred_at + (int64_t)days * DAY, o->buf);
        o->due_back = o->buf;
    } else if (waiting && row->due_back[0]) {
        o->due_back = row->due_back;
    }
    if (l->next.state == LOST_ST_HELD)
        o->holder_id = l->e.action == LA_RECEIVE ? l->e.actor.user_id : row->holder_id;
}

static const custody_area_ops_t lost_ops = {"lost_property",
                                            "lost-property item",
                                            "lost_item",
                                            AZ_CUSTODY_READ,
                                            lost_load,
                                            lost_check,
                                            lost_store,
                                            core_lost_state_from_string,
                                            core_lost_kind_from_string};

/* ---- POST /v1/lost-property ----------------------------------------------------------------- */

static const char *const create_fields[] = {
    "project_id", "kind",    "description",  "found_at", "finder",         "valuable",
    "location",   "unit_id", "counterparty", "count",    "receipt_number", "occurred_at",
    "purpose",    NULL};

static void lost_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t err;
    const cJSON *b = r->json;
    const char *project = NULL, *kind = NULL, *desc = NULL, *place = NULL, *finder = NULL,
               *loc = NULL, *unit = NULL, *receipt = NULL, *purpose = NULL;
    int64_t occurred = 0;
    if (api_only_known(b, create_fields, "a lost-property item", &err) < 0 ||
        api_opt_uuid(b, "project_id", &project, &err) < 0 ||
        api_opt_enum(b, "kind", core_lost_kind_from_string, core_lost_kind_list, &kind, &err) < 0 ||
        api_opt_str(b, "description", 2000, &desc, &err) < 0 ||
        api_opt_str(b, "found_at", 200, &place, &err) < 0 ||
        api_opt_str(b, "finder", 100, &finder, &err) < 0 ||
        api_opt_str(b, "location", 200, &loc, &err) < 0 ||
        api_opt_uuid(b, "unit_id", &unit, &err) < 0 ||
        api_opt_str(b, "receipt_number", 100, &receipt, &err) < 0 ||
        api_opt_str(b, "purpose", MAX_TEXT, &purpose, &err) < 0 ||
        api_opt_time(b, "occurred_at", &occurred, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    if (!project || !kind) {
        const char *m = !project ? "project_id" : "kind";
        http_invalid(r, NULL, m, "missing_field", "required", "'%s' is required", m);
        return;
    }
    int count, valuable;
    if (api_opt_count(b, "count", 1000, &count, &err) < 0 ||
        api_opt_bool(b, "valuable", &valuable, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_CUSTODY_WRITE, &t) != 0)
        return;
    lost_kind_t k = (lost_kind_t)core_lost_kind_from_string(kind);
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    lost_ctx_t l;
    memset(&l, 0, sizeof l);
    PGresult *k1 = NULL, *k2 = NULL, *res = NULL;
    cJSON *cp = NULL, *ext = cJSON_CreateObject(), *details = NULL;
    custody_party_t party;
    custody_row_t row;
    memset(&row, 0, sizeof row);
    if (unit) {
        int in = db_custody_unit_in(c, r->principal.org_id, project, unit);
        if (in <= 0) {
            if (in < 0)
                http_db_fail(r, NULL);
            else
                http_invalid(r, NULL, "unit_id", "invalid_field", "not_found",
                             "no such unit in the project");
            goto fail;
        }
    }
    if (api_custody_load_actor(r, c, &l.e.actor, &k1) != 0 ||
        api_custody_parse_party(r, c, project, cJSON_GetObjectItemCaseSensitive(b, "counterparty"),
                                &party, &cp, &k2) != 0)
        goto fail;
    l.led.fresh = 1;
    l.led.kind = k;
    l.e.action = k == LOST_KIND_FOUND_ITEM ? LA_REGISTER : LA_DEPOSIT;
    l.e.party = party.kind;
    l.e.id_type = party.id_type;
    l.e.id_matches = -1;
    l.e.has_place = place != NULL;
    l.e.has_description = desc != NULL;
    l.e.has_receipt = receipt != NULL;
    l.e.count = count;
    l.e.purpose = purpose;
    int64_t now = (int64_t)time(NULL);
    l.e.occurred_at = occurred ? occurred : now;
    {
        custody_verdict_t v = core_custody_lost_check(&l.led, &l.e, now, &l.next);
        if (v.status) {
            api_custody_problem(r, v);
            goto fail;
        }
    }
    cJSON *reg = cJSON_AddObjectToObject(ext, "register");
    if (place)
        cJSON_AddStringToObject(reg, "found_at", place);
    cJSON_AddStringToObject(reg, "finder", finder ? finder : "");
    if (valuable >= 0)
        cJSON_AddBoolToObject(reg, "valuable", valuable);
    if (receipt)
        cJSON_AddStringToObject(reg, "receipt_number", receipt);
    if (party.id_hash)
        cJSON_AddStringToObject(reg, "depositor_id_hash", party.id_hash);
    if (!finder)
        cJSON_DeleteItemFromObjectCaseSensitive(reg, "finder");
    char *exts = cJSON_PrintUnformatted(ext);
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", count > 0 ? count : 1);
    db_custody_new_t n = {
        r->principal.org_id, project, lost_ops.area, kind, NULL, desc, unit, loc, cnt, NULL, exts,
        r->principal.user_id};
    res = db_custody_area_create(c, &n);
    free(exts);
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        goto fail;
    }
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    if (api_custody_lock(r, c, &lost_ops, id, AZ_CUSTODY_WRITE, &row) != 0)
        goto fail;
    details = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(details, "register", reg);
    if (count > 0)
        cJSON_AddNumberToObject(details, "count", count);
    {
        cJSON *att = cJSON_CreateArray();
        custody_post_t p = {
            core_lost_action_name(l.e.action), purpose, NULL, l.e.occurred_at, cp, att, details};
        api_custody_append(r, c, &lost_ops, &row, &l, &p);
        cJSON_Delete(att);
    }
    goto done;
fail:
    db_rollback(c);
done:
    api_custody_row_free(&row);
    PQclear(res);
    PQclear(k1);
    PQclear(k2);
    cJSON_Delete(cp);
    cJSON_Delete(details);
    cJSON_Delete(ext);
}

/* ---- POST /v1/lost-property/{id}/entries ----------------------------------------------------- */

static const char *const entry_fields[] = {
    "action",  "counterparty", "purpose", "occurred_at", "attachments",    "corrects", "lost_on",
    "lost_at", "description",  "station", "officer",     "receipt_number", NULL};

static void lost_entry_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t err;
    const cJSON *b = r->json;
    const char *action = NULL, *purpose = NULL, *corrects = NULL, *lost_at = NULL, *desc = NULL,
               *station = NULL, *officer = NULL, *receipt = NULL;
    int64_t occurred = 0, lost_on = 0;
    if (api_only_known(b, entry_fields, "a lost-property ledger entry", &err) < 0 ||
        api_opt_enum(b, "action", core_lost_action_from_string, core_lost_action_list, &action,
                     &err) < 0 ||
        api_opt_str(b, "purpose", MAX_TEXT, &purpose, &err) < 0 ||
        api_opt_uuid(b, "corrects", &corrects, &err) < 0 ||
        api_opt_time(b, "occurred_at", &occurred, &err) < 0 ||
        api_opt_time(b, "lost_on", &lost_on, &err) < 0 ||
        api_opt_str(b, "lost_at", 200, &lost_at, &err) < 0 ||
        api_opt_str(b, "description", 2000, &desc, &err) < 0 ||
        api_opt_str(b, "station", 200, &station, &err) < 0 ||
        api_opt_str(b, "officer", 100, &officer, &err) < 0 ||
        api_opt_str(b, "receipt_number", 100, &receipt, &err) < 0) {
        api_err_send(r, &err);
        return;
    }
    if (!action || !strcmp(action, "register") || !strcmp(action, "deposit")) {
        http_invalid(r, NULL, "action", action ? "invalid_field" : "missing_field",
                     action ? "invalid_enum" : "required",
                     "'action' must be a lost-property ledger action other than register and "
                     "deposit (those are POST /v1/lost-property)");
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    custody_row_t row;
    lost_ctx_t l;
    memset(&l, 0, sizeof l);
    PGresult *k1 = NULL, *k2 = NULL;
    cJSON *cp = NULL, *att = NULL, *details = cJSON_CreateObject();
    custody_party_t party;
    const cJSON *cpv = cJSON_GetObjectItemCaseSensitive(b, "counterparty");
    if (api_custody_lock(r, c, &lost_ops, id, AZ_CUSTODY_WRITE, &row) != 0 ||
        api_custody_load_actor(r, c, &l.e.actor, &k1) != 0 ||
        api_custody_parse_party(r, c, row.project, cpv, &party, &cp, &k2) != 0 ||
        api_custody_parse_attachments(r, cJSON_GetObjectItemCaseSensitive(b, "attachments"),
                                      &l.e.attachments, &att) != 0) {
        db_rollback(c);
    } else {
        l.e.action = (lost_action_t)core_lost_action_from_string(action);
        l.e.party = party.kind;
        l.e.id_type = party.id_type;
        l.e.id_matches = -1;
        if (l.e.action == LA_RETURN && party.id_type) {
            const cJSON *reg = cJSON_GetObjectItemCaseSensitive(row.ext, "register");
            const char *stored = api_custody_jstr(reg, "depositor_id_hash");
            const char *number = api_custody_jstr(cpv, "id_number");
            l.e.id_matches = stored && number && pii_matches(number, stored) ? 1 : 0;
        }
        l.e.has_lost_date = lost_on > 0;
        l.e.has_place = lost_at != NULL;
        l.e.has_description = desc != NULL;
        l.e.has_station = station != NULL;
        l.e.has_officer = officer != NULL;
        l.e.has_receipt = receipt != NULL;
        l.e.count = -1;
        l.e.has_corrects = corrects != NULL;
        l.e.purpose = purpose;
        l.e.occurred_at = occurred ? occurred : (int64_t)time(NULL);
        if (lost_on) {
            char ts[32];
            rfc3339_format(lost_on, ts);
            cJSON_AddStringToObject(details, "lost_on", ts);
        }
        if (lost_at)
            cJSON_AddStringToObject(details, "lost_at", lost_at);
        if (desc)
            cJSON_AddStringToObject(details, "description", desc);
        if (station)
            cJSON_AddStringToObject(details, "station", station);
        if (officer)
            cJSON_AddStringToObject(details, "officer", officer);
        if (receipt)
            cJSON_AddStringToObject(details, "receipt_number", receipt);
        if (l.e.id_matches >= 0)
            cJSON_AddBoolToObject(details, "id_matches_deposit", l.e.id_matches);
        custody_post_t p = {action, purpose, corrects, l.e.occurred_at, cp, att, details};
        api_custody_append(r, c, &lost_ops, &row, &l, &p);
    }
    api_custody_row_free(&row);
    PQclear(k1);
    PQclear(k2);
    cJSON_Delete(cp);
    cJSON_Delete(att);
    cJSON_Delete(details);
}

static const custody_daily_t awaiting = {&lost_ops, "found,held", 0, 0};
static const custody_daily_t unclaimed = {&lost_ops, "found,held", 0, 1};
static const custody_daily_t deposits = {&lost_ops, "deposited", 0, 0};

void api_custody_lost_register(void)
{
    void *ops = (void *)&lost_ops;
    http_route("POST", "/v1/lost-property", lost_create_h, 0, ops);
    http_route("GET", "/v1/lost-property", api_custody_area_list_h, 0, ops);
    http_route("GET", "/v1/lost-property/awaiting-owner", api_custody_daily_h, 0,
               (void *)&awaiting);
    http_route("GET", "/v1/lost-property/unclaimed", api_custody_daily_h, 0, (void *)&unclaimed);
    http_route("GET", "/v1/lost-property/deposits", api_custody_daily_h, 0, (void *)&deposits);
    api_custody_item_routes("/v1/lost-property", &lost_ops, lost_entry_h);
}
