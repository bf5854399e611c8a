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
#include "core/hex.h"
#include "api/codec.h"
#include "api/custody.h"
#include "api/http.h"
#include "api/pii.h"
#include "core/custody.h"
#include "db/custody.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the hash chain ------------------------------------------------------------------ */

/* hash = SHA-256(bytes of prev_hex ‖ canonical) into out (65 bytes).  0 / -1. */
int api_custody_chain_hash(const char *prev_hex, const char *canonical, char out[65])
{
    unsigned char prev[32], md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (core_hex_decode(prev_hex, sizeof prev, prev) != 0)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, prev, sizeof prev) == 1 &&
             EVP_DigestUpdate(ctx, canonical, strlen(canonical)) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    core_hex_encode(md, 32, out);
    return 0;
}

/* ---- the key area's callbacks on the shared append path ------------------------------ */

typedef struct key_ctx {
    append_in_t *in;
    custody_key_ledger_t led, next;
    custody_key_effect_t fx;
} key_ctx_t;

const char *api_custody_jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void key_load(void *ctx, const custody_row_t *row)
{
    key_ctx_t *k = ctx;
    custody_key_ledger_t *d = &k->led;
    memset(d, 0, sizeof *d);
    d->kind = (key_kind_t)core_key_kind_from_string(row->kind);
    d->fresh = row->fresh;
    d->state = d->fresh ? KEY_ST_IN_CABINET : (key_state_t)core_key_state_from_string(row->state);
    d->key_count = row->key_count;
    d->seal_number = row->seal_number;
    d->holder_id = row->holder_id;
    d->open_discrepancy = row->open_discrepancy;
    d->last_occurred_at = row->last_occurred_at;
    d->pending_action = -1;
    const cJSON *pend = cJSON_GetObjectItemCaseSensitive(row->ext, "pending");
    if (cJSON_IsObject(pend)) {
        d->pending_action = core_key_action_from_string(api_custody_jstr(pend, "action"));
        d->pending_by = api_custody_jstr(pend, "by");
        d->pending_counterparty = api_custody_jstr(pend, "counterparty");
    }
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(row->ext, "approval");
    if (cJSON_IsObject(ap)) {
        d->approval_by = api_custody_jstr(ap, "by");
        d->approval_for = api_custody_jstr(ap, "for");
    }
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(row->ext, "episode");
    if (cJSON_IsObject(ep)) {
        int kk = core_key_episode_kind_from_string(api_custody_jstr(ep, "kind"));
        int s = core_key_episode_stage_from_string(api_custody_jstr(ep, "stage"));
        d->ep_kind = kk < 0 ? EP_NONE : (key_episode_kind_t)kk;
        d->ep_stage = s < 0 ? EPS_NONE : (key_episode_stage_t)s;
        d->ep_requested_by = api_custody_jstr(ep, "requested_by");
        d->ep_approved_by = api_custody_jstr(ep, "approved_by");
        d->ep_stamped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ep, "stamped"));
        const cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(ep, "witnesses"))
        {
            if (d->ep_nwitnesses >= CUSTODY_MAX_WITNESSES)
                break;
            custody_person_t *pp = &d->ep_witnesses[d->ep_nwitnesses++];
            pp->user_id = api_custody_jstr(w, "user_id");
            int role = core_role_from_string(api_custody_jstr(w, "role"));
            pp->role = role < 0 ? ROLE_RESIDENT : (role_t)role;
            const char *dk = api_custody_jstr(w, "department_kind");
            pp->dept_kind = dk ? core_dept_kind_from_string(dk) : -1;
            pp->active = 1;
        }
    }
}

static custody_verdict_t key_check(void *ctx, int64_t now)
{
    key_ctx_t *k = ctx;
    return core_custody_key_check(&k->led, &k->in->e, now, &k->next, &k->fx);
}

/* Fills *p from the users table; 0 found, 1 absent, -1 error (sent). */
int api_custody_load_person(req_t *r, db_conn_t *c, const char *user, custody_person_t *p,
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

/* ---- appending ------------------------------------------------------------------------ */

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

static void key_store(void *ctx, const custody_row_t *row, custody_outcome_t *o)
{
    key_ctx_t *k = ctx;
    const custody_key_ledger_t *l = &k->led;
    custody_key_ledger_t *next = &k->next;
    const custody_key_entry_t *e = &k->in->e;
    o->approvals = cJSON_CreateArray();
    o->witnesses = cJSON_CreateArray();
    if (k->fx.record_approval) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "user_id", l->approval_by);
        cJSON_AddStringToObject(a, "decision", "approved");
        cJSON_AddStringToObject(a, "for", l->approval_for);
        cJSON_AddItemToArray(o->approvals, a);
    }
    if (e->action == KA_UNSEAL_OPEN && l->ep_approved_by) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "user_id", l->ep_approved_by);
        cJSON_AddStringToObject(a, "role", l->ep_kind == EP_EMERGENCY ? "gm" : "manager");
        cJSON_AddStringToObject(a, "decision", "approved");
        cJSON_AddItemToArray(o->approvals, a);
    }
    if (k->fx.record_witnesses) {
        for (size_t i = 0; i < l->ep_nwitnesses; i++) {
            cJSON *w = cJSON_CreateObject();
            cJSON_AddStringToObject(w, "user_id", l->ep_witnesses[i].user_id);
            cJSON_AddStringToObject(w, "role", core_role_name(l->ep_witnesses[i].role));
            cJSON_AddItemToArray(o->witnesses, w);
        }
    }
    if (k->fx.discrepancy) {
        o->extra_action = core_key_action_name(KA_DISCREPANCY);
        o->extra_purpose = "count differs from the register";
        o->extra_details = cJSON_CreateObject();
        cJSON_AddNumberToObject(o->extra_details, "expected", l->key_count);
        cJSON_AddNumberToObject(o->extra_details, "counted", e->count);
        next->open_discrepancy = 1;
    }
    if (k->fx.notify_manager)
        o->notify_kind = k->fx.notify_kind;
    o->ext = ext_of(next);
    /* The reminder worker marks an overdue loan once (`reminded_at`, announced as key.overdue):
     * the mark stays for the rest of that loan, a return ends it, a new loan starts unmarked. */
    const cJSON *reminded = cJSON_GetObjectItemCaseSensitive(row->ext, "reminded_at");
    if (reminded && next->state == KEY_ST_ON_LOAN && e->action != KA_LOAN)
        cJSON_AddItemToObject(o->ext, "reminded_at", cJSON_Duplicate(reminded, 1));
    o->state = core_key_state_name(next->state);
    o->seal_number = next->seal_number;
    o->holder_id = next->holder_id;
    o->open_discrepancy = next->open_discrepancy;
    if (e->action == KA_LOAN) {
        rfc3339_format(e->due_back, o->buf);
        o->due_back = o->buf;
    } else if (next->state == KEY_ST_ON_LOAN && row->due_back[0]) {
        o->due_back = row->due_back;
    }
}

static const custody_area_ops_t key_ops = {"keys",
                                           "key set",
                                           "key_set",
                                           AZ_CUSTODY_READ,
                                           key_load,
                                           key_check,
                                           key_store,
                                           core_key_state_from_string,
                                           core_key_kind_from_string};

/* Appends the parsed entry to the locked key set (answers, ends the transaction). */
static void key_append(req_t *r, db_conn_t *c, const custody_row_t *row, append_in_t *in)
{
    key_ctx_t k = {.in = in};
    custody_post_t p = {core_key_action_name(in->e.action),
                        in->e.purpose,
                        in->corrects,
                        in->e.occurred_at,
                        in->counterparty,
                        in->attachments,
                        in->details};
    api_custody_append(r, c, &key_ops, row, &k, &p);
}

static void entry_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    if (http_known_fields(r, "a ledger entry", api_custody_entry_fields) != 0)
        return;
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(r->json, "action");
    int action = cJSON_IsString(av) ? core_key_action_from_string(av->valuestring) : -1;
    if (action < 0 || action == KA_REGISTER || action == KA_DISCREPANCY) {
        http_invalid(r, NULL, "action", av ? "invalid_field" : "missing_field",
                     av ? "invalid_enum" : "required",
                     "'action' must be a key-ledger action (register is POST /v1/keys, "
                     "discrepancy entries are written by the service)");
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    custody_row_t row;
    append_in_t in;
    memset(&in, 0, sizeof in);
    PGresult *k1 = NULL, *k2 = NULL;
    custody_person_t actor;
    if (api_custody_lock(r, c, &key_ops, id, AZ_CUSTODY_WRITE, &row) != 0 ||
        api_custody_load_actor(r, c, &actor, &k1) != 0 ||
        api_custody_parse_entry(r, c, row.project, r->json, &in, &k2, &actor) != 0) {
        db_rollback(c);
    } else {
        in.e.action = (key_action_t)action;
        if (!in.e.occurred_at)
            in.e.occurred_at = (int64_t)time(NULL);
        key_append(r, c, &row, &in);
    }
    api_custody_row_free(&row);
    api_custody_append_in_free(&in);
    PQclear(k1);
    PQclear(k2);
}

static const char *const create_fields[] = {
    "project_id",           "kind",      "tag",         "description", "unit_id", "location",
    "keeper_department_id", "key_count", "occurred_at", "purpose",     NULL};

/* A key set to register, as posted. */
typedef struct key_new {
    const char *project, *kind, *tag, *desc, *unit, *loc, *dept, *purpose;
    key_kind_t kind_ix;
    int count;
    int64_t occurred_at; /* 0: now */
} key_new_t;

/* Reads and checks the body of POST /v1/keys into *n; -1 (sent) when it is not one. */
static int key_new_parse(req_t *r, key_new_t *n)
{
    const cJSON *b = r->json;
    api_err_t err;
    memset(n, 0, sizeof *n);
    if (http_known_fields(r, "a key set", create_fields) != 0)
        return -1;
    if (api_opt_uuid(b, "project_id", &n->project, &err) < 0 ||
        api_opt_str(b, "kind", 40, &n->kind, &err) < 0 ||
        api_opt_str(b, "tag", 100, &n->tag, &err) < 0 ||
        api_opt_str(b, "description", 2000, &n->desc, &err) < 0 ||
        api_opt_uuid(b, "unit_id", &n->unit, &err) < 0 ||
        api_opt_str(b, "location", 200, &n->loc, &err) < 0 ||
        api_opt_uuid(b, "keeper_department_id", &n->dept, &err) < 0 ||
        api_opt_str(b, "purpose", MAX_TEXT, &n->purpose, &err) < 0 ||
        api_opt_count(b, "key_count", 1000, &n->count, &err) < 0 ||
        api_opt_time(b, "occurred_at", &n->occurred_at, &err) < 0) {
        api_err_send(r, &err);
        return -1;
    }
    const char *missing = !n->project    ? "project_id"
                          : !n->kind     ? "kind"
                          : !n->tag      ? "tag"
                          : n->count < 0 ? "key_count"
                                         : NULL;
    if (missing) {
        http_invalid(r, NULL, missing, "missing_field", "required", "'%s' is required", missing);
        return -1;
    }
    int k = core_key_kind_from_string(n->kind);
    if (k < 0) {
        http_invalid(r, NULL, "kind", "invalid_field", "invalid_enum",
                     "'kind' must be one of: management_area, unit_entrusted, unit_vacant, "
                     "unit_office, machine_room, show_flat, other");
        return -1;
    }
    n->kind_ix = (key_kind_t)k;
    if (n->count < 1) {
        http_invalid(r, NULL, "key_count", "invalid_field", "out_of_range",
                     "'key_count' must be at least 1");
        return -1;
    }
    return 0;
}

/* The rules judge the registration before anything is written (role, count, time); they
 * judge it again on the stored item when it is appended.  -1 (sent) when refused. */
static int key_new_judge(req_t *r, const key_new_t *n)
{
    custody_key_ledger_t fresh, next;
    custody_key_effect_t fx;
    memset(&fresh, 0, sizeof fresh);
    fresh.fresh = 1;
    fresh.kind = n->kind_ix;
    fresh.key_count = n->count;
    fresh.pending_action = -1;
    custody_key_entry_t e;
    memset(&e, 0, sizeof e);
    e.action = KA_REGISTER;
    e.actor.user_id = r->principal.user_id;
    e.actor.role = r->principal.role;
    e.actor.dept_kind = -1;
    e.count = n->count;
    int64_t now = (int64_t)time(NULL);
    e.occurred_at = n->occurred_at ? n->occurred_at : now;
    custody_verdict_t v = core_custody_key_check(&fresh, &e, now, &next, &fx);
    if (v.status) {
        api_custody_problem(r, v);
        return -1;
    }
    return 0;
}

/* Inserts the key set and appends its `register` entry, in one transaction; answers. */
static void key_new_write(req_t *r, const key_new_t *n)
{
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", n->count);
    PGresult *res =
        db_custody_item_create(c, r->principal.org_id, n->project, key_ops.area, n->kind, n->tag,
                               n->desc, n->unit, n->loc, n->dept, cnt, r->principal.user_id);
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        PQclear(res);
        db_rollback(c);
        return;
    }
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    custody_row_t row;
    append_in_t in;
    memset(&in, 0, sizeof in);
    PGresult *k1 = NULL;
    custody_person_t actor;
    if (api_custody_lock(r, c, &key_ops, id, AZ_CUSTODY_WRITE, &row) != 0 ||
        api_custody_load_actor(r, c, &actor, &k1) != 0) {
        db_rollback(c);
    } else {
        in.e.action = KA_REGISTER;
        in.e.actor = actor;
        in.e.count = n->count;
        in.e.purpose = n->purpose;
        in.e.occurred_at = n->occurred_at ? n->occurred_at : (int64_t)time(NULL);
        in.attachments = cJSON_CreateArray();
        in.details = cJSON_CreateObject();
        cJSON_AddStringToObject(in.details, "kind", n->kind);
        cJSON_AddStringToObject(in.details, "tag", n->tag);
        cJSON_AddNumberToObject(in.details, "key_count", n->count);
        key_append(r, c, &row, &in);
    }
    api_custody_row_free(&row);
    api_custody_append_in_free(&in);
    PQclear(k1);
}

/* POST /v1/keys: read the body, check the caller may write in the project, let the rules
 * judge the registration, then write it. */
static void key_create_h(req_t *r)
{
    key_new_t n;
    if (http_authorize_role(r, AZ_CUSTODY_WRITE) != 0 || http_json_body(r) != 0 ||
        key_new_parse(r, &n) != 0)
        return;
    az_target_t t = {r->principal.org_id, n.project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_CUSTODY_WRITE, &t) != 0 || key_new_judge(r, &n) != 0)
        return;
    key_new_write(r, &n);
}

void api_custody_register(void)
{
    void *ops = (void *)&key_ops;
    http_route("POST", "/v1/keys", key_create_h, 0, ops);
    http_route("GET", "/v1/keys", api_custody_key_list_h, 0, ops);
    http_route("GET", "/v1/keys/on-loan", api_custody_on_loan_h, 0, ops);
    http_route("GET", "/v1/keys/sealed", api_custody_sealed_h, 0, ops);
    http_route("GET", "/v1/keys/discrepancies", api_custody_discrepancies_h, 0, ops);
    http_route("GET", "/v1/keys/{id}", api_custody_item_get_h, 0, ops);
    http_route("GET", "/v1/keys/{id}/entries", api_custody_entries_h, 0, ops);
    http_route("POST", "/v1/keys/{id}/entries", entry_add_h, 0, ops);
    http_route("GET", "/v1/keys/{id}/verify", api_custody_verify_h, 0, ops);
    http_route("GET", "/v1/custody/heads", api_custody_heads_h, 0, NULL);
}
