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

const char *api_custody_jstr(const cJSON *o, const char *name)
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
        d->pending_action = core_key_action_from_string(api_custody_jstr(pend, "action"));
        d->pending_by = api_custody_jstr(pend, "by");
        d->pending_counterparty = api_custody_jstr(pend, "counterparty");
    }
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(l->ext, "approval");
    if (cJSON_IsObject(ap)) {
        d->approval_by = api_custody_jstr(ap, "by");
        d->approval_for = api_custody_jstr(ap, "for");
    }
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(l->ext, "episode");
    if (cJSON_IsObject(ep)) {
        int k = core_key_episode_kind_from_string(api_custody_jstr(ep, "kind"));
        int s = core_key_episode_stage_from_string(api_custody_jstr(ep, "stage"));
        d->ep_kind = k < 0 ? EP_NONE : (key_episode_kind_t)k;
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
    return 0;
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

/* A connection with a transaction begun, or NULL (answered). */
static db_conn_t *begin_tx(req_t *r)
{
    db_conn_t *c = http_db(r);
    if (!c)
        return NULL;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return NULL;
    }
    return c;
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
    if (api_custody_chain_hash(prev, PQgetvalue(can, 0, 1), hash) != 0) {
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

static int load_actor(req_t *r, db_conn_t *c, custody_person_t *actor, PGresult **keep)
{
    int rc = api_custody_load_person(r, c, r->principal.user_id, actor, keep);
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
    db_conn_t *c = begin_tx(r);
    if (!c)
        return;
    loaded_t l;
    append_in_t in;
    memset(&in, 0, sizeof in);
    PGresult *k1 = NULL, *k2 = NULL;
    custody_person_t actor;
    if (load_locked(r, c, id, AZ_CUSTODY_WRITE, &l) != 0 || load_actor(r, c, &actor, &k1) != 0 ||
        api_custody_parse_entry(r, c, l.project, r->json, &in, &k2, &actor) != 0)
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
    api_custody_append_in_free(&in);
    PQclear(k1);
    PQclear(k2);
    return;
fail:
    db_rollback(c);
    loaded_free(&l);
    api_custody_append_in_free(&in);
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
    if (http_known_fields(r, "a key set", create_fields) != 0)
        return;
    const cJSON *b = r->json;
    const char *project, *kind, *tag, *desc, *unit, *loc, *dept, *purpose;
    int count;
    int64_t occurred;
    if (api_custody_opt_str(r, b, "project_id", 36, &project) ||
        api_custody_opt_str(r, b, "kind", 40, &kind) ||
        api_custody_opt_str(r, b, "tag", 100, &tag) ||
        api_custody_opt_str(r, b, "description", 2000, &desc) ||
        api_custody_opt_str(r, b, "unit_id", 36, &unit) ||
        api_custody_opt_str(r, b, "location", 200, &loc) ||
        api_custody_opt_str(r, b, "keeper_department_id", 36, &dept) ||
        api_custody_opt_str(r, b, "purpose", MAX_TEXT, &purpose) ||
        api_custody_opt_count(r, b, "key_count", &count) ||
        api_custody_opt_time(r, b, "occurred_at", &occurred))
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
    db_conn_t *c = begin_tx(r);
    if (!c)
        return;
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
    api_custody_append_in_free(&in);
    PQclear(k1);
}

void api_custody_register(void)
{
    http_route("POST", "/v1/keys", key_create_h, 0, NULL);
    http_route("GET", "/v1/keys", api_custody_key_list_h, 0, NULL);
    http_route("GET", "/v1/keys/on-loan", api_custody_on_loan_h, 0, NULL);
    http_route("GET", "/v1/keys/sealed", api_custody_sealed_h, 0, NULL);
    http_route("GET", "/v1/keys/discrepancies", api_custody_discrepancies_h, 0, NULL);
    http_route("GET", "/v1/keys/{id}", api_custody_key_get_h, 0, NULL);
    http_route("GET", "/v1/keys/{id}/entries", api_custody_entries_h, 0, NULL);
    http_route("POST", "/v1/keys/{id}/entries", entry_add_h, 0, NULL);
    http_route("GET", "/v1/keys/{id}/verify", api_custody_verify_h, 0, NULL);
}
