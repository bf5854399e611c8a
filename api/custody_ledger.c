/*
 * api/custody_ledger.c — the append path every custody area shares (ARCHITECTURE "Custody
 * areas"): lock the item and check scope, let the area load its ledger state and judge the
 * entry, insert the entry (and a service entry such as a count discrepancy) into the item's
 * hash chain, store the state the area derived, notify, commit, answer 201.
 */
#include "api/codec.h"
#include "api/custody.h"
#include "api/http.h"
#include "db/custody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int api_custody_lock(req_t *r, db_conn_t *c, const custody_area_ops_t *ops, const char *id,
                     az_action_t az, custody_row_t *row)
{
    memset(row, 0, sizeof *row);
    row->res = db_custody_item_lock(c, r->principal.org_id, ops->area, id);
    PGresult *p = row->res;
    if (!db_ok(p)) {
        http_db_error(r, p);
        return -1;
    }
    if (PQntuples(p) != 1) {
        http_problem(r, 404, "not_found", "no such %s in your scope", ops->noun);
        return -1;
    }
    row->id = id;
    row->project = PQgetvalue(p, 0, 0);
    row->unit_id = PQgetisnull(p, 0, 12) ? NULL : PQgetvalue(p, 0, 12);
    az_target_t t = {r->principal.org_id, row->project, row->unit_id, NULL, NULL};
    if (http_authorize(r, az, &t) != 0)
        return -1;
    row->kind = PQgetvalue(p, 0, 1);
    row->state = PQgetvalue(p, 0, 2);
    row->fresh = !strcmp(row->state, "registering");
    row->key_count = atoi(PQgetvalue(p, 0, 3));
    row->seal_number = PQgetvalue(p, 0, 4);
    row->holder_id = PQgetisnull(p, 0, 5) ? NULL : PQgetvalue(p, 0, 5);
    row->open_discrepancy = PQgetvalue(p, 0, 6)[0] == 't';
    row->ext = cJSON_Parse(PQgetvalue(p, 0, 7));
    if (!row->ext)
        row->ext = cJSON_CreateObject();
    row->last_seq = atoi(PQgetvalue(p, 0, 8));
    row->last_occurred_at = strtoll(PQgetvalue(p, 0, 9), NULL, 10);
    row->head = PQgetvalue(p, 0, 10);
    row->due_back = PQgetvalue(p, 0, 11);
    row->mail_remind_days = atoi(PQgetvalue(p, 0, 13));
    row->lost_unclaimed_days = atoi(PQgetvalue(p, 0, 14));
    return 0;
}

void api_custody_row_free(custody_row_t *row)
{
    PQclear(row->res);
    cJSON_Delete(row->ext);
    row->res = NULL;
    row->ext = NULL;
}

void api_custody_problem(req_t *r, custody_verdict_t v)
{
    if (v.status == 422) {
        http_invalid(r, NULL, NULL, v.code, v.code, "%s", v.detail);
        return;
    }
    http_problem(r, v.status, v.code, "%s", v.detail);
}

int api_custody_load_actor(req_t *r, db_conn_t *c, custody_person_t *actor, PGresult **keep)
{
    int rc = api_custody_load_person(r, c, r->principal.user_id, actor, keep);
    if (rc > 0)
        http_problem(r, 401, "invalid_token", "the token's user no longer exists");
    if (rc)
        return -1;
    actor->role = r->principal.role; /* the token's role is the one that acts */
    return 0;
}

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

static void outcome_free(custody_outcome_t *o)
{
    cJSON_Delete(o->approvals);
    cJSON_Delete(o->witnesses);
    cJSON_Delete(o->ext);
    cJSON_Delete(o->extra_details);
}

void api_custody_append(req_t *r, db_conn_t *c, const custody_area_ops_t *ops,
                        const custody_row_t *row, void *ctx, const custody_post_t *p)
{
    int64_t now = (int64_t)time(NULL);
    if (p->corrects) {
        int of = db_custody_entry_of(c, row->id, p->corrects);
        if (of <= 0) {
            db_rollback(c);
            if (of < 0)
                http_db_fail(r, NULL);
            else
                http_invalid(r, NULL, "corrects", "invalid_field", "not_found",
                             "'corrects' names no entry of this %s's ledger", ops->noun);
            return;
        }
    }
    ops->load(ctx, row);
    custody_verdict_t v = ops->check(ctx, now);
    if (v.status) {
        db_rollback(c);
        api_custody_problem(r, v);
        return;
    }
    custody_outcome_t o;
    memset(&o, 0, sizeof o);
    ops->store(ctx, row, &o);
    char occ[32];
    snprintf(occ, sizeof occ, "%lld", (long long)(p->occurred_at ? p->occurred_at : now));
    char *cp = print(p->counterparty), *ap = o.approvals ? print(o.approvals) : NULL,
         *wp = o.witnesses ? print(o.witnesses) : NULL, *at = print(p->attachments),
         *dp = print(p->details);
    db_custody_entry_t de = {
        .org = r->principal.org_id,
        .project = row->project,
        .item = row->id,
        .action = p->action,
        .actor = r->principal.user_id,
        .actor_role = core_role_name(r->principal.role),
        .seq = row->last_seq + 1,
        .counterparty = cp,
        .purpose = p->purpose,
        .occurred_at = occ,
        .approvals = ap ? ap : "[]",
        .witnesses = wp ? wp : "[]",
        .attachments = at ? at : "[]",
        .corrects = p->corrects,
        .details = dp ? dp : "{}",
    };
    char hash[65], hash2[65];
    PGresult *ins = append_one(c, &de, row->head, hash);
    PGresult *ins2 = NULL;
    int seq = de.seq;
    const char *head = hash;
    int ok = ins && db_ok(ins) && PQntuples(ins) == 1;
    char *det = NULL;
    if (ok && o.extra_action) {
        if (!o.extra_details)
            o.extra_details = cJSON_CreateObject();
        cJSON_AddStringToObject(o.extra_details, "entry_id", PQgetvalue(ins, 0, 0));
        det = print(o.extra_details);
        db_custody_entry_t dd = de;
        dd.action = o.extra_action;
        dd.seq = ++seq;
        dd.counterparty = NULL;
        dd.purpose = o.extra_purpose;
        dd.approvals = dd.witnesses = dd.attachments = "[]";
        dd.corrects = NULL;
        dd.details = det;
        ins2 = append_one(c, &dd, hash, hash2);
        ok = ins2 && db_ok(ins2) && PQntuples(ins2) == 1;
        head = hash2;
    }
    char *ext = NULL;
    if (ok) {
        ext = o.ext ? print(o.ext) : NULL;
        ok = db_custody_item_store(c, r->principal.org_id, row->id, o.state, o.seal_number,
                                   o.holder_id, o.due_back, o.open_discrepancy, ext ? ext : "{}",
                                   seq, occ, head) == 0;
    }
    if (ok && o.notify_kind) {
        char payload[400];
        snprintf(payload, sizeof payload,
                 "{\"%s_id\": \"%s\", \"entry_id\": \"%s\", \"action\": \"%s\"}", ops->member,
                 row->id, PQgetvalue(ins2 ? ins2 : ins, 0, 0), ins2 ? o.extra_action : de.action);
        ok = db_custody_notify_managers(c, r->principal.org_id, row->project, o.notify_kind,
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
        char *item = db_custody_item_json(c, r->principal.org_id, ops->area, row->id);
        cJSON *out = cJSON_CreateObject();
        cJSON_AddRawToObject(out, "entry", PQgetvalue(ins, 0, 1));
        if (ins2)
            cJSON_AddRawToObject(out, "discrepancy", PQgetvalue(ins2, 0, 1));
        else
            cJSON_AddNullToObject(out, "discrepancy");
        cJSON_AddRawToObject(out, ops->member, item ? item : "null");
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
    free(det);
    free(ext);
    outcome_free(&o);
}
