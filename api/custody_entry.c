/* api/custody_entry.c — reading a posted custody ledger entry: its fields, counterparty,
 * attachments and contact attempts, into the core entry that core/custody.c judges. */
#include "api/codec.h"
#include "api/custody.h"
#include "api/http.h"
#include "api/pii.h"
#include "core/custody.h"
#include "core/strtab.h"
#include "db/custody.h"

#define MAX_ATTACH   10 /* attachments on one entry */
#define MAX_ATTEMPTS 20 /* contact attempts on one entry */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the entry body ------------------------------------------------------------------- */

const char *const api_custody_entry_fields[] = {"action",
                                                "counterparty",
                                                "purpose",
                                                "occurred_at",
                                                "count",
                                                "power_off",
                                                "windows_closed",
                                                "unit_locked",
                                                "seal_number",
                                                "episode",
                                                "customer_unreachable",
                                                "contact_attempts",
                                                "stamped",
                                                "attachments",
                                                "corrects",
                                                "due_back",
                                                NULL};

int api_custody_known(const char *const *list, const char *name)
{
    return core_strtab_index(list, -1, name) >= 0;
}

/* Sends a body member's refusal (api/validate.h); -1. */
static int sent(req_t *r, const api_err_t *e)
{
    api_err_send(r, e);
    return -1;
}

/* Records a shown ID document in o: id_type, keyed hash, last 4.  -1 (sent). */
static int add_id(req_t *r, const cJSON *v, cJSON *o, custody_party_t *p)
{
    api_err_t err;
    const char *id_type, *id_number;
    if (api_opt_str(v, "id_type", 40, &id_type, &err) < 0 ||
        api_opt_str(v, "id_number", 40, &id_number, &err) < 0)
        return sent(r, &err);
    if (!id_number && !id_type)
        return 0;
    if (!id_number || !id_type) {
        http_invalid(r, v, id_number ? "id_type" : "id_number", "missing_field", "required",
                     "an ID document is recorded with 'id_type' and 'id_number'");
        return -1;
    }
    char h[PII_HASH_LEN];
    if (pii_hash(id_number, h) != 0) {
        http_problem(r, 503, "pii_key_missing",
                     "ID numbers cannot be recorded: the personal-data key is not set");
        return -1;
    }
    size_t n = strlen(id_number);
    cJSON_AddStringToObject(o, "id_type", id_type);
    cJSON_AddStringToObject(o, "id_hash", h);
    cJSON_AddStringToObject(o, "id_last4", id_number + (n > 4 ? n - 4 : 0));
    p->id_type = api_custody_jstr(o, "id_type");
    p->id_hash = api_custody_jstr(o, "id_hash");
    return 0;
}

int api_custody_parse_party(req_t *r, db_conn_t *c, const char *project, const cJSON *v,
                            custody_party_t *p, cJSON **out, PGresult **keep)
{
    api_err_t err;
    *out = NULL;
    memset(p, 0, sizeof *p);
    p->kind = CP_NONE;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsObject(v)) {
        http_invalid(r, NULL, "counterparty", "invalid_field", "invalid_type",
                     "'counterparty' must be an object with 'kind'");
        return -1;
    }
    static const char *const fields[] = {"kind",  "user_id", "resident_id", "name",     "company",
                                         "phone", "id_type", "id_number",   "relation", NULL};
    const cJSON *m;
    cJSON_ArrayForEach(m, v)
    {
        if (!api_custody_known(fields, m->string)) {
            http_invalid(r, v, m->string, "unknown_field", "unknown_field",
                         "'%s' is not a field of a counterparty", m->string);
            return -1;
        }
    }
    const char *kind = api_custody_jstr(v, "kind");
    const char *relation;
    if (api_opt_str(v, "relation", 40, &relation, &err) < 0)
        return sent(r, &err);
    cJSON *o = cJSON_CreateObject();
    *out = o;
    if (kind && !strcmp(kind, "user")) {
        const char *uid = api_custody_jstr(v, "user_id");
        if (!uid || !http_is_uuid(uid)) {
            http_invalid(r, v, "user_id", "invalid_field", "required",
                         "a user counterparty needs 'user_id' (a UUID)");
            return -1;
        }
        int rc = api_custody_load_person(r, c, uid, &p->user, keep);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            http_invalid(r, v, "user_id", "invalid_field", "not_found",
                         "no such user in your organisation");
            return -1;
        }
        p->kind = CP_USER;
        cJSON_AddStringToObject(o, "kind", "user");
        cJSON_AddStringToObject(o, "user_id", uid);
        cJSON_AddStringToObject(o, "role", core_role_name(p->user.role));
        return 0;
    }
    if (kind && !strcmp(kind, "resident")) {
        const char *rid = api_custody_jstr(v, "resident_id");
        if (!rid || !http_is_uuid(rid)) {
            http_invalid(r, v, "resident_id", "invalid_field", "required",
                         "a resident counterparty needs 'resident_id' (a UUID)");
            return -1;
        }
        int in = db_custody_resident_in(c, r->principal.org_id, project, rid);
        if (in < 0) {
            http_db_fail(r, NULL);
            return -1;
        }
        if (!in) {
            http_invalid(r, v, "resident_id", "invalid_field", "not_found",
                         "no such resident in the item's project");
            return -1;
        }
        p->kind = CP_RESIDENT;
        cJSON_AddStringToObject(o, "kind", "resident");
        cJSON_AddStringToObject(o, "resident_id", rid);
        return add_id(r, v, o, p);
    }
    if (kind && !strcmp(kind, "outsider")) {
        const char *name, *company, *phone;
        if (api_opt_str(v, "name", 200, &name, &err) < 0 ||
            api_opt_str(v, "company", 200, &company, &err) < 0 ||
            api_opt_str(v, "phone", 40, &phone, &err) < 0)
            return sent(r, &err);
        if (!name || !phone) {
            http_invalid(r, v, name ? "phone" : "name", "missing_field", "required",
                         "an outsider is recorded with 'name', 'company' and 'phone'");
            return -1;
        }
        p->kind = CP_OUTSIDER;
        cJSON_AddStringToObject(o, "kind", "outsider");
        cJSON_AddStringToObject(o, "name", name);
        if (company)
            cJSON_AddStringToObject(o, "company", company);
        cJSON_AddStringToObject(o, "phone", phone);
        if (relation)
            cJSON_AddStringToObject(o, "relation", relation);
        return add_id(r, v, o, p);
    }
    http_invalid(r, v, "kind", "invalid_field", "invalid_enum",
                 "'kind' must be one of: user, resident, outsider");
    return -1;
}

/* attachments: [{name, content_type, size_bytes, sha256, stamped}] metadata only. */
int api_custody_parse_attachments(req_t *r, const cJSON *v, int *n, cJSON **out)
{
    api_err_t err;
    *n = 0;
    *out = cJSON_CreateArray();
    if (!v)
        return 0;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_ATTACH) {
        http_invalid(r, NULL, "attachments", "invalid_field", "invalid_type",
                     "'attachments' must be an array of at most %d objects", MAX_ATTACH);
        return -1;
    }
    static const char *const fields[] = {"name", "content_type", "size_bytes", "sha256", NULL};
    const cJSON *a;
    cJSON_ArrayForEach(a, v)
    {
        const cJSON *m;
        if (!cJSON_IsObject(a)) {
            http_invalid(r, a, NULL, "invalid_field", "invalid_type",
                         "each attachment is an object with 'name'");
            return -1;
        }
        cJSON_ArrayForEach(m, a)
        {
            if (!api_custody_known(fields, m->string)) {
                http_invalid(r, a, m->string, "unknown_field", "unknown_field",
                             "'%s' is not a field of an attachment", m->string);
                return -1;
            }
        }
        const char *name, *ct, *sha;
        if (api_opt_str(a, "name", 200, &name, &err) < 0 ||
            api_opt_str(a, "content_type", 100, &ct, &err) < 0 ||
            api_opt_str(a, "sha256", 64, &sha, &err) < 0)
            return sent(r, &err);
        if (!name) {
            http_invalid(r, a, "name", "missing_field", "required", "an attachment needs 'name'");
            return -1;
        }
        const cJSON *sz = cJSON_GetObjectItemCaseSensitive(a, "size_bytes");
        if (sz && (!cJSON_IsNumber(sz) || sz->valuedouble < 0 || sz->valuedouble > 1e10)) {
            http_invalid(r, a, "size_bytes", "invalid_field", "out_of_range",
                         "'size_bytes' must be a number of bytes");
            return -1;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        if (ct)
            cJSON_AddStringToObject(o, "content_type", ct);
        if (sz)
            cJSON_AddNumberToObject(o, "size_bytes", (double)(long long)sz->valuedouble);
        if (sha)
            cJSON_AddStringToObject(o, "sha256", sha);
        cJSON_AddItemToArray(*out, o);
        (*n)++;
    }
    return 0;
}

/* contact_attempts: [{at, method, result}] */
static int parse_attempts(req_t *r, const cJSON *v, int *n, cJSON *details)
{
    api_err_t err;
    *n = 0;
    if (!v)
        return 0;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_ATTEMPTS) {
        http_invalid(r, NULL, "contact_attempts", "invalid_field", "invalid_type",
                     "'contact_attempts' must be an array of at most %d objects", MAX_ATTEMPTS);
        return -1;
    }
    cJSON *arr = cJSON_AddArrayToObject(details, "contact_attempts");
    const cJSON *a;
    cJSON_ArrayForEach(a, v)
    {
        const char *method, *result;
        int64_t at = 0;
        if (!cJSON_IsObject(a)) {
            http_invalid(r, a, NULL, "invalid_field", "invalid_type",
                         "each contact attempt is {at, method, result}");
            return -1;
        }
        if (api_opt_time(a, "at", &at, &err) < 0 ||
            api_opt_str(a, "method", 40, &method, &err) < 0 ||
            api_opt_str(a, "result", 500, &result, &err) < 0) {
            api_err_send(r, &err);
            return -1;
        }
        if (!at || !method) {
            http_invalid(r, a, at ? "method" : "at", "missing_field", "required",
                         "each contact attempt records 'at' and 'method'");
            return -1;
        }
        char ts[32];
        rfc3339_format(at, ts);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "at", ts);
        cJSON_AddStringToObject(o, "method", method);
        if (result)
            cJSON_AddStringToObject(o, "result", result);
        cJSON_AddItemToArray(arr, o);
        (*n)++;
    }
    return 0;
}

/* Parses the common entry fields of a posted body into *in.  -1 (sent) on bad input. */
int api_custody_parse_entry(req_t *r, db_conn_t *c, const char *project, const cJSON *b,
                            append_in_t *in, PGresult **keep, custody_person_t *actor)
{
    custody_key_entry_t *e = &in->e;
    e->actor = *actor;
    e->occurred_at = e->due_back = 0;
    api_err_t err;
    if (api_opt_str(b, "purpose", MAX_TEXT, &e->purpose, &err) < 0 ||
        api_opt_count(b, "count", 1000, &e->count, &err) < 0 ||
        api_opt_bool(b, "power_off", &e->power_off, &err) < 0 ||
        api_opt_bool(b, "windows_closed", &e->windows_closed, &err) < 0 ||
        api_opt_bool(b, "unit_locked", &e->unit_locked, &err) < 0 ||
        api_opt_str(b, "seal_number", 100, &e->seal_number, &err) < 0 ||
        api_opt_bool(b, "customer_unreachable", &e->customer_unreachable, &err) < 0 ||
        api_opt_time(b, "occurred_at", &e->occurred_at, &err) < 0 ||
        api_opt_time(b, "due_back", &e->due_back, &err) < 0)
        return sent(r, &err);
    int stamped;
    if (api_opt_bool(b, "stamped", &stamped, &err) < 0)
        return sent(r, &err);
    e->stamped = stamped == 1;
    const char *ep;
    if (api_opt_str(b, "episode", 20, &ep, &err) < 0)
        return sent(r, &err);
    e->episode_kind = EP_NONE;
    if (ep) {
        int k = core_key_episode_kind_from_string(ep);
        if (k <= 0) {
            http_invalid(r, b, "episode", "invalid_field", "invalid_enum",
                         "'episode' must be one of: emergency, owner");
            return -1;
        }
        e->episode_kind = (key_episode_kind_t)k;
    }
    in->details = cJSON_CreateObject();
    if (parse_attempts(r, cJSON_GetObjectItemCaseSensitive(b, "contact_attempts"),
                       &e->contact_attempts, in->details) ||
        api_custody_parse_attachments(r, cJSON_GetObjectItemCaseSensitive(b, "attachments"),
                                      &e->attachments, &in->attachments))
        return -1;
    custody_party_t party;
    if (api_custody_parse_party(r, c, project, cJSON_GetObjectItemCaseSensitive(b, "counterparty"),
                                &party, &in->counterparty, keep))
        return -1;
    e->party = party.kind;
    e->party_user = party.user;
    if (api_opt_str(b, "corrects", 36, &in->corrects, &err) < 0)
        return sent(r, &err);
    if (in->corrects && !http_is_uuid(in->corrects)) {
        http_invalid(r, b, "corrects", "invalid_field", "invalid_format",
                     "'corrects' must be an entry id (UUID)");
        return -1;
    }
    e->has_corrects = in->corrects != NULL;
    /* Action-specific values go to details so the ledger keeps them (and the hash covers them). */
    if (e->count >= 0)
        cJSON_AddNumberToObject(in->details, "count", e->count);
    if (e->power_off >= 0)
        cJSON_AddBoolToObject(in->details, "power_off", e->power_off);
    if (e->windows_closed >= 0)
        cJSON_AddBoolToObject(in->details, "windows_closed", e->windows_closed);
    if (e->unit_locked >= 0)
        cJSON_AddBoolToObject(in->details, "unit_locked", e->unit_locked);
    if (e->seal_number)
        cJSON_AddStringToObject(in->details, "seal_number", e->seal_number);
    if (ep)
        cJSON_AddStringToObject(in->details, "episode", ep);
    if (e->customer_unreachable >= 0)
        cJSON_AddBoolToObject(in->details, "customer_unreachable", e->customer_unreachable);
    if (stamped >= 0)
        cJSON_AddBoolToObject(in->details, "stamped", stamped);
    if (e->due_back > 0) {
        char ts[32];
        rfc3339_format(e->due_back, ts);
        cJSON_AddStringToObject(in->details, "due_back", ts);
    }
    return 0;
}

void api_custody_append_in_free(append_in_t *in)
{
    cJSON_Delete(in->counterparty);
    cJSON_Delete(in->attachments);
    cJSON_Delete(in->details);
}

/* Loads the caller as a custody person (role from the token, department from the DB). */
