/*
 * api/tenancy.c — rental registration (出租房屋登记表, RULES §2 item 12): the desk registers
 * a tenancy on a unit (owner, tenant — a resident or a name and phone —, use, term, the
 * tenant's ID as a keyed hash and its last 4 characters, employer); an early end is
 * registered by both sides at least 3 days before it, signed by the owner and by a
 * supervisor (or above) with their own calls (core/tenancy.c judges each signature).  A
 * tenant has the unit in scope only during the term (resident_scope_units(), at login and
 * refresh).
 */
#include "api/api.h"
#include "api/http.h"
#include "api/pii.h"
#include "api/validate.h"
#include "core/report.h"
#include "core/tenancy.h"
#include "db/tenancy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int send_err(req_t *r, api_err_t *e)
{
    api_err_send(r, e);
    return -1;
}

/* A date member "YYYY-MM-DD": 1 present (*days, *text), 0 absent, -1 answered. */
static int date_field(req_t *r, const char *name, int required, int64_t *days, const char **text)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    if (!v || cJSON_IsNull(v)) {
        if (!required)
            return 0;
        http_invalid(r, NULL, name, "missing_field", "required", "'%s' is required", name);
        return -1;
    }
    if (!cJSON_IsString(v) || core_report_parse_date(v->valuestring, days) != 0) {
        http_invalid(r, v, NULL, "invalid_field", "invalid_format",
                     "'%s' must be a date YYYY-MM-DD", name);
        return -1;
    }
    *text = v->valuestring;
    return 1;
}

/* ---------------------------------------------------------------- register */

static void create_h(req_t *r)
{
    const char *unit = http_uuid_param(r, 0);
    if (!unit || http_authorize_role(r, AZ_TENANCY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {
        "owner_resident_id", "tenant_resident_id", "tenant_name",        "tenant_phone", "use",
        "term_start",        "term_end",           "tenant_id_document", "employer",     NULL};
    if (http_known_fields(r, "a tenancy", known) != 0)
        return;
    api_err_t e;
    tenancy_new_t t = {0};
    const cJSON *b = r->json;
    if (api_opt_uuid(b, "owner_resident_id", &t.owner_resident, &e) < 0 ||
        api_opt_uuid(b, "tenant_resident_id", &t.tenant_resident, &e) < 0 ||
        api_opt_str(b, "tenant_name", 100, &t.tenant_name, &e) < 0 ||
        api_opt_str(b, "tenant_phone", 40, &t.tenant_phone, &e) < 0 ||
        api_opt_str(b, "employer", 200, &t.employer, &e) < 0 ||
        api_opt_enum(b, "use", core_tenancy_use_from_string, core_tenancy_use_list, &t.use, &e) < 0)
        return (void)send_err(r, &e);
    if (!t.owner_resident) {
        http_invalid(r, NULL, "owner_resident_id", "missing_field", "required", "'%s' is required",
                     "owner_resident_id");
        return;
    }
    if (!t.use) {
        http_invalid(r, NULL, "use", "missing_field", "required", "'%s' is required", "use");
        return;
    }
    if (!t.tenant_resident && !t.tenant_name) {
        http_invalid(r, NULL, "tenant_name", "missing_field", "required",
                     "'tenant_name' is required unless 'tenant_resident_id' names the tenant");
        return;
    }
    int64_t d0, d1;
    if (date_field(r, "term_start", 1, &d0, &t.term_start) < 0 ||
        date_field(r, "term_end", 1, &d1, &t.term_end) < 0)
        return;
    tenancy_verdict_t v = core_tenancy_check_term(d0, d1);
    if (v.status) {
        http_invalid(r, NULL, v.pointer_field, v.code, "invalid_value", "%s", v.detail);
        return;
    }
    char hash[PII_HASH_LEN], last4[8];
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(b, "tenant_id_document");
    if (doc && !cJSON_IsNull(doc)) {
        static const char *const dk[] = {"type", "number", NULL};
        const char *num = NULL;
        if (!cJSON_IsObject(doc)) {
            http_invalid(r, doc, NULL, "invalid_field", "invalid_type",
                         "'tenant_id_document' must be an object {type, number}");
            return;
        }
        if (api_only_known(doc, dk, "an ID document", &e) < 0 ||
            api_opt_enum(doc, "type", core_tenancy_id_type_from_string, core_tenancy_id_type_list,
                         &t.id_type, &e) < 0 ||
            api_req_str(doc, "number", 40, &num, &e) < 0)
            return (void)send_err(r, &e);
        if (!t.id_type) {
            http_invalid(r, doc, "type", "missing_field", "required", "'%s' is required", "type");
            return;
        }
        size_t n = strlen(num);
        int ok = n >= 4;
        for (size_t i = 0; ok && i < n; i++)
            ok = isalnum((unsigned char)num[i]) || num[i] == '-';
        if (!ok) {
            http_invalid(r, doc, "number", "invalid_field", "invalid_format",
                         "'number' must be 4 to 40 letters, digits or '-'");
            return;
        }
        if (pii_hash(num, hash) != 0) {
            http_problem(r, 503, "pii_key_missing",
                         "ID numbers cannot be stored: DESK_PII_KEY is not configured");
            return;
        }
        snprintf(last4, sizeof last4, "%s", num + n - 4);
        t.id_hash = hash;
        t.id_last4 = last4;
    }
    db_conn_t *c = http_db(r);
    char project[40];
    int f = c ? db_tenancy_unit(c, r->principal.org_id, unit, project) : -1;
    if (f < 0)
        return (void)(c ? http_db_fail(r, NULL) : (void)0);
    if (f == 0) {
        http_problem(r, 404, "not_found", "no unit with this id in your scope");
        return;
    }
    az_target_t tg = {r->principal.org_id, project, unit, NULL, NULL};
    if (http_authorize(r, AZ_TENANCY_WRITE, &tg) != 0)
        return;
    int own = db_tenancy_is_owner(c, r->principal.org_id, unit, t.owner_resident);
    if (own < 0)
        return (void)http_db_fail(r, NULL);
    if (!own) {
        http_invalid(r, NULL, "owner_resident_id", "owner_not_of_unit", "invalid_value",
                     "'owner_resident_id' must be a resident linked to the unit as its owner");
        return;
    }
    t.org = r->principal.org_id;
    t.project = project;
    t.unit = unit;
    t.created_by = r->principal.user_id;
    PGresult *res = db_tenancy_insert(c, &t, core_authz_sees_pii(r->principal.role));
    if (!db_ok(res) || PQntuples(res) != 1) {
        if (db_ok(res))
            http_invalid(r, NULL, "tenant_resident_id", "invalid_field", "invalid_value",
                         "'tenant_resident_id' names no resident of your organisation");
        else
            http_db_error(r, res);
    } else {
        http_send_json(r, 201, PQgetvalue(res, 0, 0), NULL);
    }
    PQclear(res);
}

/* ---------------------------------------------------------------- read */

static void list_h(req_t *r)
{
    const char *unit = http_uuid_param(r, 0);
    if (!unit || http_authorize_role(r, AZ_TENANCY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    char project[40];
    int f = c ? db_tenancy_unit(c, r->principal.org_id, unit, project) : -1;
    if (f < 0)
        return (void)(c ? http_db_fail(r, NULL) : (void)0);
    if (f == 0) {
        http_problem(r, 404, "not_found", "no unit with this id in your scope");
        return;
    }
    az_target_t tg = {r->principal.org_id, project, unit, NULL, NULL};
    if (http_authorize(r, AZ_TENANCY_READ, &tg) != 0)
        return;
    char *arr =
        db_tenancy_list(c, r->principal.org_id, unit, core_authz_sees_pii(r->principal.role));
    if (!arr)
        return (void)http_db_fail(r, NULL);
    http_send_items(r, arr);
    free(arr);
}

static void get_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_TENANCY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    char project[40], unit[40], *json = NULL;
    int f = c ? db_tenancy_get(c, r->principal.org_id, id, core_authz_sees_pii(r->principal.role),
                               &json, project, unit)
              : -1;
    if (f < 0)
        return (void)(c ? http_db_fail(r, NULL) : (void)0);
    if (f == 0) {
        http_problem(r, 404, "not_found", "no tenancy with this id in your scope");
        return;
    }
    az_target_t tg = {r->principal.org_id, project, unit, NULL, NULL};
    if (http_authorize(r, AZ_TENANCY_READ, &tg) == 0)
        http_send_json(r, 200, json, NULL);
    free(json);
}

/* ---------------------------------------------------------------- the end, signed twice */

static void termination_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_TENANCY_SIGN) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"end_date", "reason", NULL};
    if (http_known_fields(r, "a tenancy's end", known) != 0)
        return;
    api_err_t e;
    const char *reason = NULL, *end_text = NULL;
    if (api_opt_str(r->json, "reason", 1000, &reason, &e) < 0)
        return (void)send_err(r, &e);
    int64_t end;
    if (date_field(r, "end_date", 1, &end, &end_text) < 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    if (db_begin(c) != 0)
        return (void)http_db_fail(r, NULL);
    tenancy_locked_t l;
    int f = db_tenancy_lock(c, r->principal.org_id, id, r->principal.user_id, &l);
    if (f != 1) {
        db_rollback(c);
        if (f < 0)
            http_db_fail(r, NULL);
        else
            http_problem(r, 404, "not_found", "no tenancy with this id in your scope");
        return;
    }
    az_target_t tg = {r->principal.org_id, l.project, l.unit, NULL, NULL};
    if (http_authorize(r, AZ_TENANCY_SIGN, &tg) != 0) {
        db_rollback(c);
        return;
    }
    tenancy_facts_t facts = {l.term_start,   l.term_end,          l.termination_date,
                             l.owner_signed, l.supervisor_signed, l.ended};
    tenancy_side_t side;
    int completes;
    tenancy_verdict_t v =
        core_tenancy_sign(&facts, r->principal.role, l.is_owner, l.today, end, &side, &completes);
    if (v.status) {
        db_rollback(c);
        if (v.status == 422)
            http_invalid(r, NULL, v.pointer_field, v.code, "invalid_value", "%s", v.detail);
        else
            http_problem(r, v.status, v.code, "%s", v.detail);
        return;
    }
    PGresult *res = db_tenancy_sign(
        c, r->principal.org_id, id, side == TEN_SIDE_OWNER ? "owner" : "supervisor",
        r->principal.user_id, end_text, reason, completes, core_authz_sees_pii(r->principal.role));
    if (!db_ok(res) || PQntuples(res) != 1 || db_commit(c) != 0) {
        http_db_error(r, res);
        db_rollback(c);
    } else {
        http_send_json(r, 200, PQgetvalue(res, 0, 0), NULL);
    }
    PQclear(res);
}

void api_tenancy_register(void)
{
    http_route("GET", "/v1/units/{id}/tenancies", list_h, 0, NULL);
    http_route("POST", "/v1/units/{id}/tenancies", create_h, 0, NULL);
    http_route("GET", "/v1/tenancies/{id}", get_h, 0, NULL);
    http_route("POST", "/v1/tenancies/{id}/termination", termination_h, 0, NULL);
}
