/*
 * api/custody.c — the key register and its ledgers (RULES §3.4, §3.13) over the common
 * custody ledger (db/custody.c): register a key set, append an entry (judged by
 * core_custody_key_check), read the ledger, verify its hash chain, and the desk's daily
 * lists.  Every append is one transaction: lock the item, decide, insert the entry (and a
 * discrepancy entry after a short count), store the derived state, notify, commit.
 *
 * Hash chain: hash = SHA-256(prev_hash (32 bytes) ‖ custody_canonical(entry) (UTF-8)), as
 * lowercase hex; the first entry's prev_hash is 64 zeros.
 */
#include "api/api.h"
#include "api/codec.h"
#include "api/http.h"
#include "api/pii.h"
#include "core/custody.h"
#include "db/custody.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AREA         "keys"
#define GENESIS      "0000000000000000000000000000000000000000000000000000000000000000"
#define MAX_TEXT     4000
#define MAX_ATTACH   10
#define MAX_ATTEMPTS 20
#define VERIFY_BATCH 5000

/* ---- the hash chain ------------------------------------------------------------------ */

static int hex_val(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* hash = SHA-256(bytes of prev_hex ‖ canonical) into out (65 bytes).  0 / -1. */
static int chain_hash(const char *prev_hex, const char *canonical, char out[65])
{
    unsigned char prev[32], md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (strlen(prev_hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = hex_val(prev_hex[2 * i]), lo = hex_val(prev_hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        prev[i] = (unsigned char)(hi << 4 | lo);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, prev, sizeof prev) == 1 &&
             EVP_DigestUpdate(ctx, canonical, strlen(canonical)) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = 0;
    return 0;
}

/* ---- loading the ledger state --------------------------------------------------------- */

typedef struct loaded {
    PGresult *row; /* item_lock result, owns the strings */
    custody_key_ledger_t led;
    cJSON *ext;
    int last_seq;
    const char *project, *head;
    const char *due_back; /* "" when none */
} loaded_t;

static void loaded_free(loaded_t *l)
{
    PQclear(l->row);
    cJSON_Delete(l->ext);
}

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Loads item id locked; 404 (sent) when absent or outside the caller's scope. */
static int load_locked(req_t *r, db_conn_t *c, const char *id, az_action_t az, loaded_t *l)
{
    memset(l, 0, sizeof *l);
    l->row = db_custody_item_lock(c, r->principal.org_id, AREA, id);
    if (!db_ok(l->row)) {
        http_db_error(r, l->row);
        return -1;
    }
    if (PQntuples(l->row) != 1) {
        http_problem(r, 404, "not_found", "no such key set in your scope");
        return -1;
    }
    PGresult *p = l->row;
    l->project = PQgetvalue(p, 0, 0);
    az_target_t t = {r->principal.org_id, l->project, NULL, NULL, NULL};
    if (http_authorize(r, az, &t) != 0)
        return -1;
    custody_key_ledger_t *d = &l->led;
    d->kind = (key_kind_t)core_key_kind_from_string(PQgetvalue(p, 0, 1));
    const char *st = PQgetvalue(p, 0, 2);
    d->fresh = !strcmp(st, "registering");
    d->state = d->fresh ? KEY_ST_IN_CABINET : (key_state_t)core_key_state_from_string(st);
    d->key_count = atoi(PQgetvalue(p, 0, 3));
    d->seal_number = PQgetvalue(p, 0, 4);
    d->holder_id = PQgetisnull(p, 0, 5) ? NULL : PQgetvalue(p, 0, 5);
    d->open_discrepancy = PQgetvalue(p, 0, 6)[0] == 't';
    l->ext = cJSON_Parse(PQgetvalue(p, 0, 7));
    l->last_seq = atoi(PQgetvalue(p, 0, 8));
    d->last_occurred_at = strtoll(PQgetvalue(p, 0, 9), NULL, 10);
    l->head = PQgetvalue(p, 0, 10);
    l->due_back = PQgetvalue(p, 0, 11);
    d->pending_action = -1;
    const cJSON *pend = cJSON_GetObjectItemCaseSensitive(l->ext, "pending");
    if (cJSON_IsObject(pend)) {
        d->pending_action = core_key_action_from_string(jstr(pend, "action"));
        d->pending_by = jstr(pend, "by");
        d->pending_counterparty = jstr(pend, "counterparty");
    }
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(l->ext, "approval");
    if (cJSON_IsObject(ap)) {
        d->approval_by = jstr(ap, "by");
        d->approval_for = jstr(ap, "for");
    }
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(l->ext, "episode");
    if (cJSON_IsObject(ep)) {
        int k = core_key_episode_kind_from_string(jstr(ep, "kind"));
        int s = core_key_episode_stage_from_string(jstr(ep, "stage"));
        d->ep_kind = k < 0 ? EP_NONE : (key_episode_kind_t)k;
        d->ep_stage = s < 0 ? EPS_NONE : (key_episode_stage_t)s;
        d->ep_requested_by = jstr(ep, "requested_by");
        d->ep_approved_by = jstr(ep, "approved_by");
        d->ep_stamped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ep, "stamped"));
        const cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(ep, "witnesses"))
        {
            if (d->ep_nwitnesses >= CUSTODY_MAX_WITNESSES)
                break;
            custody_person_t *pp = &d->ep_witnesses[d->ep_nwitnesses++];
            pp->user_id = jstr(w, "user_id");
            int role = core_role_from_string(jstr(w, "role"));
            pp->role = role < 0 ? ROLE_RESIDENT : (role_t)role;
            const char *dk = jstr(w, "department_kind");
            pp->dept_kind = dk ? core_dept_kind_from_string(dk) : -1;
            pp->active = 1;
        }
    }
    return 0;
}

/* Fills *p from the users table; 0 found, 1 absent, -1 error (sent). */
static int load_person(req_t *r, db_conn_t *c, const char *user, custody_person_t *p,
                       PGresult **keep)
{
    PGresult *res = db_custody_person(c, r->principal.org_id, user);
    if (!db_ok(res)) {
        http_db_error(r, res);
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 1;
    }
    int role = core_role_from_string(PQgetvalue(res, 0, 0));
    p->user_id = user;
    p->role = role < 0 ? ROLE_RESIDENT : (role_t)role;
    p->dept_kind =
        PQgetvalue(res, 0, 1)[0] ? core_dept_kind_from_string(PQgetvalue(res, 0, 1)) : -1;
    p->active = PQgetvalue(res, 0, 2)[0] == 't';
    *keep = res;
    return 0;
}

/* ---- the entry body ------------------------------------------------------------------- */

static const char *const entry_fields[] = {"action",
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

static int known(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], name))
            return 1;
    return 0;
}

/* Optional string member of at most max bytes; -1 (sent) when invalid. */
static int opt_str(req_t *r, const cJSON *o, const char *name, size_t max, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max) {
        http_invalid(r, o, name, "invalid_field", http_str_err(v, max),
                     "'%s' must be text of 1 to %zu bytes", name, max);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

static int opt_bool(req_t *r, const cJSON *o, const char *name, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = -1;
    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        http_invalid(r, o, name, "invalid_field", "invalid_type", "'%s' must be true or false",
                     name);
        return -1;
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 0;
}

static int opt_time(req_t *r, const cJSON *o, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = 0;
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || rfc3339_parse(v->valuestring, out) != 0 || *out <= 0) {
        http_invalid(r, o, name, "invalid_field", "invalid_format",
                     "'%s' must be an RFC 3339 time such as 2026-11-23T09:00:00Z", name);
        return -1;
    }
    return 0;
}

/* The counterparty object, validated and normalised into *out (a new cJSON or NULL). */
static int parse_counterparty(req_t *r, db_conn_t *c, const char *project, const cJSON *v,
                              custody_key_entry_t *e, cJSON **out, PGresult **keep)
{
    *out = NULL;
    e->party = CP_NONE;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsObject(v)) {
        http_invalid(r, NULL, "counterparty", "invalid_field", "invalid_type",
                     "'counterparty' must be an object with 'kind'");
        return -1;
    }
    static const char *const fields[] = {"kind",  "user_id", "resident_id", "name", "company",
                                         "phone", "id_type", "id_number",   NULL};
    const cJSON *m;
    cJSON_ArrayForEach(m, v)
    {
        if (!known(fields, m->string)) {
            http_invalid(r, v, m->string, "unknown_field", "unknown_field",
                         "'%s' is not a field of a counterparty", m->string);
            return -1;
        }
    }
    const char *kind = jstr(v, "kind");
    cJSON *o = cJSON_CreateObject();
    *out = o;
    if (kind && !strcmp(kind, "user")) {
        const char *uid = jstr(v, "user_id");
        if (!uid || !http_is_uuid(uid)) {
            http_invalid(r, v, "user_id", "invalid_field", "required",
                         "a user counterparty needs 'user_id' (a UUID)");
            return -1;
        }
        int rc = load_person(r, c, uid, &e->party_user, keep);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            http_invalid(r, v, "user_id", "invalid_field", "not_found",
                         "no such user in your organisation");
            return -1;
        }
        e->party = CP_USER;
        cJSON_AddStringToObject(o, "kind", "user");
        cJSON_AddStringToObject(o, "user_id", uid);
        cJSON_AddStringToObject(o, "role", core_role_name(e->party_user.role));
        return 0;
    }
    if (kind && !strcmp(kind, "resident")) {
        const char *rid = jstr(v, "resident_id");
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
                         "no such resident in the key set's project");
            return -1;
        }
        e->party = CP_RESIDENT;
        cJSON_AddStringToObject(o, "kind", "resident");
        cJSON_AddStringToObject(o, "resident_id", rid);
        return 0;
    }
    if (kind && !strcmp(kind, "outsider")) {
        const char *name, *company, *phone, *id_type, *id_number;
        if (opt_str(r, v, "name", 200, &name) || opt_str(r, v, "company", 200, &company) ||
            opt_str(r, v, "phone", 40, &phone) || opt_str(r, v, "id_type", 40, &id_type) ||
            opt_str(r, v, "id_number", 40, &id_number))
            return -1;
        if (!name || !phone) {
            http_invalid(r, v, name ? "phone" : "name", "missing_field", "required",
                         "an outsider is recorded with 'name', 'company' and 'phone'");
            return -1;
        }
        if (id_number && !id_type) {
            http_invalid(r, v, "id_type", "missing_field", "required",
                         "an ID number needs its 'id_type'");
            return -1;
        }
        e->party = CP_OUTSIDER;
        cJSON_AddStringToObject(o, "kind", "outsider");
        cJSON_AddStringToObject(o, "name", name);
        if (company)
            cJSON_AddStringToObject(o, "company", company);
        cJSON_AddStringToObject(o, "phone", phone);
        if (id_number) {
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
        }
        return 0;
    }
    http_invalid(r, v, "kind", "invalid_field", "invalid_enum",
                 "'kind' must be one of: user, resident, outsider");
    return -1;
}

/* attachments: [{name, content_type, size_bytes, sha256, stamped}] metadata only. */
static int parse_attachments(req_t *r, const cJSON *v, int *n, cJSON **out)
{
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
            if (!known(fields, m->string)) {
                http_invalid(r, a, m->string, "unknown_field", "unknown_field",
                             "'%s' is not a field of an attachment", m->string);
                return -1;
            }
        }
        const char *name, *ct, *sha;
        if (opt_str(r, a, "name", 200, &name) || opt_str(r, a, "content_type", 100, &ct) ||
            opt_str(r, a, "sha256", 64, &sha))
            return -1;
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
        int64_t at;
        if (!cJSON_IsObject(a) || opt_time(r, a, "at", &at) ||
            opt_str(r, a, "method", 40, &method) || opt_str(r, a, "result", 500, &result)) {
            if (!cJSON_IsObject(a))
                http_invalid(r, a, NULL, "invalid_field", "invalid_type",
                             "each contact attempt is {at, method, result}");
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

static int opt_count(req_t *r, const cJSON *o, const char *name, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = -1;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble || v->valueint < 0 ||
        v->valueint > 1000) {
        http_invalid(r, o, name, "invalid_field", "out_of_range",
                     "'%s' must be a whole number from 0 to 1000", name);
        return -1;
    }
    *out = v->valueint;
    return 0;
}

/* ---- appending ------------------------------------------------------------------------ */

static char *print(const cJSON *j)
{
    return j ? cJSON_PrintUnformatted(j) : NULL;
}

/* Computes the hash of *e after prev and inserts it; returns the insert result. */
static PGresult *append_one(db_conn_t *c, const db_custody_entry_t *e, const char *prev,
                            char hash[65])
{
    PGresult *can = db_custody_canonical(c, e);
    if (!db_ok(can) || PQntuples(can) != 1)
        return can;
    if (chain_hash(prev, PQgetvalue(can, 0, 1), hash) != 0) {
        PQclear(can);
        return NULL; /* a stored head that is not 64 hex digits, or OpenSSL failed */
    }
    PGresult *ins = db_custody_entry_insert(c, e, PQgetvalue(can, 0, 0), prev, hash);
    PQclear(can);
    return ins;
}

static cJSON *ext_of(const custody_key_ledger_t *n)
{
    cJSON *x = cJSON_CreateObject();
    if (n->pending_action >= 0) {
        cJSON *p = cJSON_AddObjectToObject(x, "pending");
        cJSON_AddStringToObject(p, "action", core_key_action_name((key_action_t)n->pending_action));
        cJSON_AddStringToObject(p, "by", n->pending_by);
        cJSON_AddStringToObject(p, "counterparty", n->pending_counterparty);
    }
    if (n->approval_by) {
        cJSON *p = cJSON_AddObjectToObject(x, "approval");
        cJSON_AddStringToObject(p, "by", n->approval_by);
        cJSON_AddStringToObject(p, "for", n->approval_for);
    }
    if (n->ep_stage != EPS_NONE) {
        cJSON *p = cJSON_AddObjectToObject(x, "episode");
        cJSON_AddStringToObject(p, "kind", core_key_episode_kind_name(n->ep_kind));
        cJSON_AddStringToObject(p, "stage", core_key_episode_stage_name(n->ep_stage));
        if (n->ep_requested_by)
            cJSON_AddStringToObject(p, "requested_by", n->ep_requested_by);
        if (n->ep_approved_by)
            cJSON_AddStringToObject(p, "approved_by", n->ep_approved_by);
        cJSON_AddBoolToObject(p, "stamped", n->ep_stamped);
        cJSON *w = cJSON_AddArrayToObject(p, "witnesses");
        for (size_t i = 0; i < n->ep_nwitnesses; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "user_id", n->ep_witnesses[i].user_id);
            cJSON_AddStringToObject(o, "role", core_role_name(n->ep_witnesses[i].role));
            if (n->ep_witnesses[i].dept_kind >= 0)
                cJSON_AddStringToObject(
                    o, "department_kind",
                    core_dept_kind_name((dept_kind_t)n->ep_witnesses[i].dept_kind));
            cJSON_AddItemToArray(w, o);
        }
    }
    return x;
}

static void problem_verdict(req_t *r, custody_verdict_t v)
{
    if (v.status == 422) {
        http_invalid(r, NULL, NULL, v.code, v.code, "%s", v.detail);
        return;
    }
    http_problem(r, v.status, v.code, "%s", v.detail);
}

/* Everything an append needs besides the locked item. */
typedef struct append_in {
    custody_key_entry_t e;
    cJSON *counterparty, *attachments, *details;
    const char *corrects;
    const char *occurred_text; /* epoch seconds */
} append_in_t;

/* Decides and stores one posted entry against the locked item; answers the request and
 * ends the transaction either way. */
static void append_and_answer(req_t *r, db_conn_t *c, const char *item_id, loaded_t *l,
                              append_in_t *in)
{
    custody_key_ledger_t next;
    custody_key_effect_t fx;
    int64_t now = (int64_t)time(NULL);
    custody_verdict_t v = core_custody_key_check(&l->led, &in->e, now, &next, &fx);
    if (v.status) {
        db_rollback(c);
        problem_verdict(r, v);
        return;
    }
    cJSON *approvals = cJSON_CreateArray();
    cJSON *witnesses = cJSON_CreateArray();
    char nowtxt[32];
    rfc3339_format(now, nowtxt);
    if (fx.record_approval) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "user_id", l->led.approval_by);
        cJSON_AddStringToObject(a, "decision", "approved");
        cJSON_AddStringToObject(a, "for", l->led.approval_for);
        cJSON_AddItemToArray(approvals, a);
    }
    if (in->e.action == KA_UNSEAL_OPEN && l->led.ep_approved_by) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "user_id", l->led.ep_approved_by);
        cJSON_AddStringToObject(a, "role", l->led.ep_kind == EP_EMERGENCY ? "gm" : "manager");
        cJSON_AddStringToObject(a, "decision", "approved");
        cJSON_AddItemToArray(approvals, a);
    }
    if (fx.record_witnesses) {
        for (size_t i = 0; i < l->led.ep_nwitnesses; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "user_id", l->led.ep_witnesses[i].user_id);
            cJSON_AddStringToObject(o, "role", core_role_name(l->led.ep_witnesses[i].role));
            cJSON_AddItemToArray(witnesses, o);
        }
    }
    char *cp = print(in->counterparty), *ap = print(approvals), *wp = print(witnesses),
         *at = print(in->attachments), *dp = print(in->details);
    db_custody_entry_t de = {
        .org = r->principal.org_id,
        .project = l->project,
        .item = item_id,
        .action = core_key_action_name(in->e.action),
        .actor = r->principal.user_id,
        .actor_role = core_role_name(r->principal.role),
        .seq = l->last_seq + 1,
        .counterparty = cp,
        .purpose = in->e.purpose,
        .occurred_at = in->occurred_text,
        .approvals = ap,
        .witnesses = wp,
        .attachments = at,
        .corrects = in->corrects,
        .details = dp,
    };
    char hash[65], hash2[65];
    PGresult *ins = append_one(c, &de, l->head, hash);
    PGresult *ins2 = NULL;
    int seq = de.seq;
    const char *head = hash;
    int ok = ins && db_ok(ins) && PQntuples(ins) == 1;
    if (ok && fx.discrepancy) {
        char det[160];
        snprintf(det, sizeof det, "{\"expected\": %d, \"counted\": %d, \"entry_id\": \"%s\"}",
                 l->led.key_count, in->e.count, PQgetvalue(ins, 0, 0));
        db_custody_entry_t dd = de;
        dd.action = core_key_action_name(KA_DISCREPANCY);
        dd.seq = ++seq;
        dd.counterparty = NULL;
        dd.purpose = "count differs from the register";
        dd.approvals = dd.witnesses = dd.attachments = "[]";
        dd.corrects = NULL;
        dd.details = det;
        ins2 = append_one(c, &dd, hash, hash2);
        ok = ins2 && db_ok(ins2) && PQntuples(ins2) == 1;
        head = hash2;
        next.open_discrepancy = 1;
    }
    char *ext = NULL;
    if (ok) {
        cJSON *x = ext_of(&next);
        ext = print(x);
        cJSON_Delete(x);
        const char *due = in->e.action == KA_LOAN ? NULL : (l->due_back[0] ? l->due_back : NULL);
        char duebuf[32];
        if (in->e.action == KA_LOAN) {
            rfc3339_format(in->e.due_back, duebuf);
            due = duebuf;
        } else if (next.state != KEY_ST_ON_LOAN) {
            due = NULL;
        }
        ok = db_custody_item_store(c, r->principal.org_id, item_id, core_key_state_name(next.state),
                                   next.seal_number, next.holder_id, due, next.open_discrepancy,
                                   ext, seq, in->occurred_text, head) == 0;
    }
    if (ok && fx.notify_manager) {
        char payload[400];
        snprintf(payload, sizeof payload,
                 "{\"key_set_id\": \"%s\", \"entry_id\": \"%s\", \"action\": \"%s\"}", item_id,
                 PQgetvalue(fx.discrepancy ? ins2 : ins, 0, 0),
                 fx.discrepancy ? "discrepancy" : de.action);
        ok = db_custody_notify_managers(c, r->principal.org_id, l->project, fx.notify_kind,
                                        payload) == 0;
    }
    if (!ok || db_commit(c) != 0) {
        PGresult *bad = ins && !db_ok(ins) ? ins : (ins2 && !db_ok(ins2)) ? ins2 : NULL;
        if (bad)
            http_db_error(r, bad);
        else
            http_db_fail(r, "nothing was changed");
        db_rollback(c);
    } else {
        char *item = db_custody_item_json(c, r->principal.org_id, AREA, item_id);
        cJSON *out = cJSON_CreateObject();
        cJSON_AddRawToObject(out, "entry", PQgetvalue(ins, 0, 1));
        if (ins2)
            cJSON_AddRawToObject(out, "discrepancy", PQgetvalue(ins2, 0, 1));
        else
            cJSON_AddNullToObject(out, "discrepancy");
        cJSON_AddRawToObject(out, "key_set", item ? item : "null");
        http_send_cjson(r, 201, out, NULL);
        cJSON_Delete(out);
        free(item);
    }
    PQclear(ins);
    PQclear(ins2);
    free(cp);
    free(ap);
    free(wp);
    free(at);
    free(dp);
    free(ext);
    cJSON_Delete(approvals);
    cJSON_Delete(witnesses);
}

/* Parses the common entry fields of a posted body into *in.  -1 (sent) on bad input. */
static int parse_entry(req_t *r, db_conn_t *c, const char *project, const cJSON *b, append_in_t *in,
                       PGresult **keep, custody_person_t *actor)
{
    custody_key_entry_t *e = &in->e;
    e->actor = *actor;
    if (opt_str(r, b, "purpose", MAX_TEXT, &e->purpose) || opt_count(r, b, "count", &e->count) ||
        opt_bool(r, b, "power_off", &e->power_off) ||
        opt_bool(r, b, "windows_closed", &e->windows_closed) ||
        opt_bool(r, b, "unit_locked", &e->unit_locked) ||
        opt_str(r, b, "seal_number", 100, &e->seal_number) ||
        opt_bool(r, b, "customer_unreachable", &e->customer_unreachable) ||
        opt_time(r, b, "occurred_at", &e->occurred_at) || opt_time(r, b, "due_back", &e->due_back))
        return -1;
    int stamped;
    if (opt_bool(r, b, "stamped", &stamped))
        return -1;
    e->stamped = stamped == 1;
    const char *ep;
    if (opt_str(r, b, "episode", 20, &ep))
        return -1;
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
        parse_attachments(r, cJSON_GetObjectItemCaseSensitive(b, "attachments"), &e->attachments,
                          &in->attachments) ||
        parse_counterparty(r, c, project, cJSON_GetObjectItemCaseSensitive(b, "counterparty"), e,
                           &in->counterparty, keep))
        return -1;
    if (opt_str(r, b, "corrects", 36, &in->corrects))
        return -1;
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

static void append_in_free(append_in_t *in)
{
    cJSON_Delete(in->counterparty);
    cJSON_Delete(in->attachments);
    cJSON_Delete(in->details);
}

/* Loads the caller as a custody person (role from the token, department from the DB). */
static int load_actor(req_t *r, db_conn_t *c, custody_person_t *actor, PGresult **keep)
{
    int rc = load_person(r, c, r->principal.user_id, actor, keep);
    if (rc > 0)
        http_problem(r, 401, "invalid_token", "the token's user no longer exists");
    if (rc)
        return -1;
    actor->role = r->principal.role; /* the token's role is the one that acts */
    return 0;
}

static void entry_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *m;
    cJSON_ArrayForEach(m, r->json)
    {
        if (!known(entry_fields, m->string)) {
            http_invalid(r, NULL, m->string, "unknown_field", "unknown_field",
                         "'%s' is not a field of a ledger entry", m->string);
            return;
        }
    }
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(r->json, "action");
    int action = cJSON_IsString(av) ? core_key_action_from_string(av->valuestring) : -1;
    if (action < 0 || action == KA_REGISTER || action == KA_DISCREPANCY) {
        http_invalid(r, NULL, "action", av ? "invalid_field" : "missing_field",
                     av ? "invalid_enum" : "required",
                     "'action' must be a key-ledger action (register is POST /v1/keys, "
                     "discrepancy entries are written by the service)");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    loaded_t l;
    append_in_t in;
    memset(&in, 0, sizeof in);
    PGresult *k1 = NULL, *k2 = NULL;
    custody_person_t actor;
    if (load_locked(r, c, id, AZ_CUSTODY_WRITE, &l) != 0 || load_actor(r, c, &actor, &k1) != 0 ||
        parse_entry(r, c, l.project, r->json, &in, &k2, &actor) != 0)
        goto fail;
    in.e.action = (key_action_t)action;
    int64_t now = (int64_t)time(NULL);
    if (!in.e.occurred_at)
        in.e.occurred_at = now;
    char occ[32];
    snprintf(occ, sizeof occ, "%lld", (long long)in.e.occurred_at);
    in.occurred_text = occ;
    if (in.corrects) {
        int of = db_custody_entry_of(c, id, in.corrects);
        if (of < 0) {
            http_db_fail(r, NULL);
            goto fail;
        }
        if (!of) {
            http_invalid(r, NULL, "corrects", "invalid_field", "not_found",
                         "'corrects' names no entry of this key set's ledger");
            goto fail;
        }
    }
    append_and_answer(r, c, id, &l, &in);
    loaded_free(&l);
    append_in_free(&in);
    PQclear(k1);
    PQclear(k2);
    return;
fail:
    db_rollback(c);
    loaded_free(&l);
    append_in_free(&in);
    PQclear(k1);
    PQclear(k2);
}

static const char *const create_fields[] = {
    "project_id",           "kind",      "tag",         "description", "unit_id", "location",
    "keeper_department_id", "key_count", "occurred_at", "purpose",     NULL};

static void key_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *b = r->json, *m;
    cJSON_ArrayForEach(m, b)
    {
        if (!known(create_fields, m->string)) {
            http_invalid(r, NULL, m->string, "unknown_field", "unknown_field",
                         "'%s' is not a field of a key set", m->string);
            return;
        }
    }
    const char *project, *kind, *tag, *desc, *unit, *loc, *dept, *purpose;
    int count;
    int64_t occurred;
    if (opt_str(r, b, "project_id", 36, &project) || opt_str(r, b, "kind", 40, &kind) ||
        opt_str(r, b, "tag", 100, &tag) || opt_str(r, b, "description", 2000, &desc) ||
        opt_str(r, b, "unit_id", 36, &unit) || opt_str(r, b, "location", 200, &loc) ||
        opt_str(r, b, "keeper_department_id", 36, &dept) ||
        opt_str(r, b, "purpose", MAX_TEXT, &purpose) || opt_count(r, b, "key_count", &count) ||
        opt_time(r, b, "occurred_at", &occurred))
        return;
    const char *missing = !project ? "project_id" : !kind ? "kind" : !tag ? "tag" : NULL;
    if (!missing && count < 0)
        missing = "key_count";
    if (missing) {
        http_invalid(r, NULL, missing, "missing_field", "required", "'%s' is required", missing);
        return;
    }
    const char *bad = !http_is_uuid(project)        ? "project_id"
                      : unit && !http_is_uuid(unit) ? "unit_id"
                      : dept && !http_is_uuid(dept) ? "keeper_department_id"
                                                    : NULL;
    if (bad) {
        http_invalid(r, NULL, bad, "invalid_field", "invalid_format", "'%s' must be a UUID", bad);
        return;
    }
    int k = core_key_kind_from_string(kind);
    if (k < 0) {
        http_invalid(r, NULL, "kind", "invalid_field", "invalid_enum",
                     "'kind' must be one of: management_area, unit_entrusted, unit_vacant, "
                     "unit_office, machine_room, show_flat, other");
        return;
    }
    if (count < 1) {
        http_invalid(r, NULL, "key_count", "invalid_field", "out_of_range",
                     "'key_count' must be at least 1");
        return;
    }
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_CUSTODY_WRITE, &t) != 0)
        return;
    /* The rules judge the registration before anything is written (role, count, time);
     * they judge it again on the stored item below. */
    {
        custody_key_ledger_t fresh, n;
        custody_key_effect_t fx;
        memset(&fresh, 0, sizeof fresh);
        fresh.fresh = 1;
        fresh.kind = (key_kind_t)k;
        fresh.key_count = count;
        fresh.pending_action = -1;
        custody_key_entry_t e;
        memset(&e, 0, sizeof e);
        e.action = KA_REGISTER;
        e.actor.user_id = r->principal.user_id;
        e.actor.role = r->principal.role;
        e.actor.dept_kind = -1;
        e.count = count;
        e.occurred_at = occurred ? occurred : (int64_t)time(NULL);
        custody_verdict_t v = core_custody_key_check(&fresh, &e, (int64_t)time(NULL), &n, &fx);
        if (v.status) {
            problem_verdict(r, v);
            return;
        }
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", count);
    PGresult *res = db_custody_item_create(c, r->principal.org_id, project, AREA, kind, tag, desc,
                                           unit, loc, dept, cnt, r->principal.user_id);
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        PQclear(res);
        db_rollback(c);
        return;
    }
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    loaded_t l;
    append_in_t in;
    memset(&in, 0, sizeof in);
    PGresult *k1 = NULL;
    custody_person_t actor;
    if (load_locked(r, c, id, AZ_CUSTODY_WRITE, &l) != 0 || load_actor(r, c, &actor, &k1) != 0) {
        db_rollback(c);
        loaded_free(&l);
        PQclear(k1);
        return;
    }
    in.e.action = KA_REGISTER;
    in.e.actor = actor;
    in.e.count = count;
    in.e.purpose = purpose;
    in.e.occurred_at = occurred ? occurred : (int64_t)time(NULL);
    char occ[32];
    snprintf(occ, sizeof occ, "%lld", (long long)in.e.occurred_at);
    in.occurred_text = occ;
    in.attachments = cJSON_CreateArray();
    in.details = cJSON_CreateObject();
    cJSON_AddStringToObject(in.details, "kind", kind);
    cJSON_AddStringToObject(in.details, "tag", tag);
    cJSON_AddNumberToObject(in.details, "key_count", count);
    append_and_answer(r, c, id, &l, &in);
    loaded_free(&l);
    append_in_free(&in);
    PQclear(k1);
}

/* ---- reading -------------------------------------------------------------------------- */

/* Checks read scope of item id (no lock); 0 allowed, -1 sent. */
static int read_scope(req_t *r, db_conn_t *c, const char *id, char project[40])
{
    char *j = db_custody_item_json(c, r->principal.org_id, AREA, id);
    if (!j) {
        http_problem(r, 404, "not_found", "no such key set in your scope");
        return -1;
    }
    cJSON *o = cJSON_Parse(j);
    free(j);
    const char *p = jstr(o, "project_id");
    snprintf(project, 40, "%s", p ? p : "");
    cJSON_Delete(o);
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    return http_authorize(r, AZ_CUSTODY_READ, &t);
}

static void key_get_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    char project[40];
    if (!c || read_scope(r, c, id, project) != 0)
        return;
    char *j = db_custody_item_json(c, r->principal.org_id, AREA, id);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_json(r, 200, j, NULL);
    free(j);
}

static void entries_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    char project[40];
    if (!c || read_scope(r, c, id, project) != 0)
        return;
    char *j = db_custody_entries_json(c, r->principal.org_id, id);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, j);
    free(j);
}

static void verify_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    char project[40];
    if (!c || read_scope(r, c, id, project) != 0)
        return;
    /* One snapshot for the whole walk, read in batches so a long ledger is never held in
     * memory at once. */
    if (db_begin_snapshot(c) != 0) {
        db_rollback(c);
        http_db_fail(r, NULL);
        return;
    }
    char *item = db_custody_item_json(c, r->principal.org_id, AREA, id);
    cJSON *it = item ? cJSON_Parse(item) : NULL;
    free(item);
    char prev[65] = GENESIS, calc[65];
    int expect = 1;
    long long checked = 0;
    const char *problem = NULL;
    char broken_id[40] = "";
    int broken_seq = 0;
    for (;;) {
        PGresult *b = db_custody_verify_batch(c, id, expect - 1, VERIFY_BATCH);
        if (!db_ok(b)) {
            http_db_error(r, b);
            PQclear(b);
            db_rollback(c);
            cJSON_Delete(it);
            return;
        }
        int n = PQntuples(b);
        for (int i = 0; i < n && !problem; i++) {
            int seq = atoi(PQgetvalue(b, i, 0));
            const char *pv = PQgetvalue(b, i, 2), *h = PQgetvalue(b, i, 3);
            if (seq != expect) {
                problem = "missing_entry";
                broken_seq = expect;
            } else if (strcmp(pv, prev) != 0) {
                problem = "prev_hash_mismatch";
            } else if (chain_hash(prev, PQgetvalue(b, i, 4), calc) != 0 || strcmp(calc, h) != 0) {
                problem = "hash_mismatch";
            }
            if (problem) {
                if (!broken_seq)
                    broken_seq = seq;
                if (seq == broken_seq)
                    snprintf(broken_id, sizeof broken_id, "%s", PQgetvalue(b, i, 1));
                break;
            }
            snprintf(prev, sizeof prev, "%s", h);
            expect++;
            checked++;
        }
        PQclear(b);
        if (problem || n < VERIFY_BATCH)
            break;
    }
    db_rollback(c);
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(it, "last_seq");
    const char *hh = jstr(it, "head_hash");
    int last_seq = cJSON_IsNumber(ls) ? ls->valueint : -1;
    if (!problem && (last_seq != expect - 1 || !hh || strcmp(hh, prev) != 0)) {
        problem = "head_mismatch";
        broken_seq = expect;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "key_set_id", id);
    cJSON_AddBoolToObject(out, "valid", problem == NULL);
    cJSON_AddNumberToObject(out, "entries_checked", (double)checked);
    cJSON_AddNumberToObject(out, "last_seq", last_seq);
    cJSON_AddStringToObject(out, "head_hash", prev);
    if (problem) {
        cJSON *f = cJSON_AddObjectToObject(out, "first_broken");
        cJSON_AddNumberToObject(f, "seq", broken_seq);
        if (broken_id[0])
            cJSON_AddStringToObject(f, "entry_id", broken_id);
        else
            cJSON_AddNullToObject(f, "entry_id");
        cJSON_AddStringToObject(f, "problem", problem);
    } else {
        cJSON_AddNullToObject(out, "first_broken");
    }
    http_send_cjson(r, 200, out, NULL);
    cJSON_Delete(out);
    cJSON_Delete(it);
}

static void key_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CUSTODY_READ) != 0)
        return;
    char project[64], state[40], kind[40];
    const char *fp = NULL, *fs = NULL, *fk = NULL;
    if (http_query(r, "project_id", project, sizeof project) >= 0) {
        if (!http_is_uuid(project))
            goto bad;
        fp = project;
    }
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (core_key_state_from_string(state) < 0)
            goto bad;
        fs = state;
    }
    if (http_query(r, "kind", kind, sizeof kind) >= 0) {
        if (core_key_kind_from_string(kind) < 0)
            goto bad;
        fk = kind;
    }
    page_t pg;
    if (http_page_params(r, &pg) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *res = db_custody_item_list(c, r->principal.org_id, AREA, http_scope_projects(r), fp,
                                         fs, fk, pg.after_ts[0] ? pg.after_ts : NULL,
                                         pg.after_id[0] ? pg.after_id : NULL, pg.limit + 1);
    if (!db_ok(res))
        http_db_error(r, res);
    else
        http_send_page(r, res, pg.limit);
    PQclear(res);
    return;
bad:
    http_problem(r, 400, "invalid_query",
                 "check project_id (a UUID), state (a key-set state) and kind (a key-set kind)");
}

static void daily_list(req_t *r, const char *which)
{
    if (http_authorize_role(r, AZ_CUSTODY_READ) != 0)
        return;
    char project[64];
    const char *fp = NULL;
    if (http_query(r, "project_id", project, sizeof project) >= 0) {
        if (!http_is_uuid(project)) {
            http_problem(r, 400, "invalid_query", "project_id must be a UUID");
            return;
        }
        fp = project;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *j = db_custody_key_list(c, r->principal.org_id, http_scope_projects(r), fp, which);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, j);
    free(j);
}

static void on_loan_h(req_t *r)
{
    daily_list(r, "on_loan");
}
static void sealed_h(req_t *r)
{
    daily_list(r, "sealed");
}
static void discrepancies_h(req_t *r)
{
    daily_list(r, "discrepancies");
}

void api_custody_register(void)
{
    http_route("POST", "/v1/keys", key_create_h, 0, NULL);
    http_route("GET", "/v1/keys", key_list_h, 0, NULL);
    http_route("GET", "/v1/keys/on-loan", on_loan_h, 0, NULL);
    http_route("GET", "/v1/keys/sealed", sealed_h, 0, NULL);
    http_route("GET", "/v1/keys/discrepancies", discrepancies_h, 0, NULL);
    http_route("GET", "/v1/keys/{id}", key_get_h, 0, NULL);
    http_route("GET", "/v1/keys/{id}/entries", entries_h, 0, NULL);
    http_route("POST", "/v1/keys/{id}/entries", entry_add_h, 0, NULL);
    http_route("GET", "/v1/keys/{id}/verify", verify_h, 0, NULL);
}
