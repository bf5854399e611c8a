/* api/custody_read.c — the read side of the key custody desk: one key set, its ledger, the
 * hash-chain verification, the register and the daily lists (RULES §3.4, §3.13). */
#include "api/codec.h"
#include "api/custody.h"
#include "api/http.h"
#include "core/custody.h"
#include "db/custody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- reading -------------------------------------------------------------------------- */

/* Checks read scope of item id (no lock); 0 allowed, -1 sent. */
static int read_scope(req_t *r, db_conn_t *c, const custody_area_ops_t *ops, const char *id)
{
    char *j = db_custody_item_json(c, r->principal.org_id, ops->area, id);
    if (!j) {
        http_problem(r, 404, "not_found", "no such %s in your scope", ops->noun);
        return -1;
    }
    cJSON *o = cJSON_Parse(j);
    free(j);
    char project[40], unit[40];
    const char *p = api_custody_jstr(o, "project_id"), *u = api_custody_jstr(o, "unit_id");
    snprintf(project, sizeof project, "%s", p ? p : "");
    snprintf(unit, sizeof unit, "%s", u ? u : "");
    cJSON_Delete(o);
    az_target_t t = {r->principal.org_id, project, unit[0] ? unit : NULL, NULL, NULL};
    return http_authorize(r, ops->read_az, &t);
}

/* The opening of every read of one key set: its id from the path, the caller's role and
 * scope, a connection.  NULL (answered) when any of them fails. */
static db_conn_t *open_item(req_t *r, const char **id)
{
    const custody_area_ops_t *ops = r->route_data;
    *id = http_uuid_param(r, 0);
    if (!*id || http_authorize_role(r, ops->read_az) != 0)
        return NULL;
    db_conn_t *c = http_db(r);
    if (!c || read_scope(r, c, ops, *id) != 0)
        return NULL;
    return c;
}

void api_custody_item_get_h(req_t *r)
{
    const custody_area_ops_t *ops = r->route_data;
    const char *id;
    db_conn_t *c = open_item(r, &id);
    if (!c)
        return;
    char *j = db_custody_item_json(c, r->principal.org_id, ops->area, id);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_json(r, 200, j, NULL);
    free(j);
}

void api_custody_entries_h(req_t *r)
{
    const char *id;
    db_conn_t *c = open_item(r, &id);
    if (!c)
        return;
    char *j = db_custody_entries_json(c, r->principal.org_id, id);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, j);
    free(j);
}

void api_custody_verify_h(req_t *r)
{
    const custody_area_ops_t *ops = r->route_data;
    const char *id;
    db_conn_t *c = open_item(r, &id);
    if (!c)
        return;
    /* One snapshot for the whole walk, read in batches so a long ledger is never held in
     * memory at once. */
    if (db_begin_snapshot(c) != 0) {
        db_rollback(c);
        http_db_fail(r, NULL);
        return;
    }
    char *item = db_custody_item_json(c, r->principal.org_id, ops->area, id);
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
            } else if (api_custody_chain_hash(prev, PQgetvalue(b, i, 4), calc) != 0 ||
                       strcmp(calc, h) != 0) {
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
    const char *hh = api_custody_jstr(it, "head_hash");
    int last_seq = cJSON_IsNumber(ls) ? ls->valueint : -1;
    if (!problem && (last_seq != expect - 1 || !hh || strcmp(hh, prev) != 0)) {
        problem = "head_mismatch";
        broken_seq = expect;
    }
    cJSON *out = cJSON_CreateObject();
    char member[48];
    snprintf(member, sizeof member, "%s_id", ops->member);
    cJSON_AddStringToObject(out, member, id);
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

void api_custody_key_list_h(req_t *r)
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
    PGresult *res = db_custody_item_list(c, r->principal.org_id, "keys", http_scope_projects(r), fp,
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

void api_custody_on_loan_h(req_t *r)
{
    daily_list(r, "on_loan");
}
void api_custody_sealed_h(req_t *r)
{
    daily_list(r, "sealed");
}
void api_custody_discrepancies_h(req_t *r)
{
    daily_list(r, "discrepancies");
}

/* ---- every area's register, daily lists and item routes ------------------------------- */

/* Residents see their own units' items; everybody else their projects'. */
static void area_scope(req_t *r, const char **projects, const char **units)
{
    *projects = r->principal.role == ROLE_RESIDENT ? NULL : http_scope_projects(r);
    *units = r->principal.role == ROLE_RESIDENT ? http_scope_units(r) : NULL;
}

void api_custody_area_list_h(req_t *r)
{
    const custody_area_ops_t *ops = r->route_data;
    if (http_authorize_role(r, ops->read_az) != 0)
        return;
    char project[64], state[40], kind[40];
    const char *fp = NULL, *fs = NULL, *fk = NULL;
    if (http_query(r, "project_id", project, sizeof project) >= 0) {
        if (!http_is_uuid(project))
            goto bad;
        fp = project;
    }
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (ops->state_from(state) < 0)
            goto bad;
        fs = state;
    }
    if (http_query(r, "kind", kind, sizeof kind) >= 0) {
        if (ops->kind_from(kind) < 0)
            goto bad;
        fk = kind;
    }
    page_t pg;
    if (http_page_params(r, &pg) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    const char *projects, *units;
    area_scope(r, &projects, &units);
    PGresult *res = db_custody_area_list(c, r->principal.org_id, ops->area, projects, units, fp, fs,
                                         fk, pg.after_ts[0] ? pg.after_ts : NULL,
                                         pg.after_id[0] ? pg.after_id : NULL, pg.limit + 1);
    if (!db_ok(res))
        http_db_error(r, res);
    else
        http_send_page(r, res, pg.limit);
    PQclear(res);
    return;
bad:
    http_problem(r, 400, "invalid_query",
                 "check project_id (a UUID), state (a %s state) and kind (a %s kind)", ops->noun,
                 ops->noun);
}

void api_custody_daily_h(req_t *r)
{
    const custody_daily_t *d = r->route_data;
    if (http_authorize_role(r, d->ops->read_az) != 0)
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
    const char *projects, *units;
    area_scope(r, &projects, &units);
    char *j = db_custody_due_list(c, r->principal.org_id, d->ops->area, projects, units, fp,
                                  d->states, d->with_discrepancies, d->due_only);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, j);
    free(j);
}

void api_custody_item_routes(const char *base, const custody_area_ops_t *ops, handler_fn entry_post)
{
    char p[4][96];
    snprintf(p[0], sizeof p[0], "%s/{id}", base);
    snprintf(p[1], sizeof p[1], "%s/{id}/entries", base);
    snprintf(p[2], sizeof p[2], "%s/{id}/verify", base);
    void *data = (void *)ops;
    http_route("GET", p[0], api_custody_item_get_h, 0, data);
    http_route("GET", p[1], api_custody_entries_h, 0, data);
    http_route("POST", p[1], entry_post, 0, data);
    http_route("GET", p[2], api_custody_verify_h, 0, data);
}

int api_custody_env_days(const char *name, int def, int lo, int hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < lo || n > hi ? def : (int)n;
}

int api_custody_user_has_loans(req_t *r, db_conn_t *c, const char *user)
{
    int n = db_custody_open_loans(c, r->principal.org_id, user);
    if (n < 0) {
        http_db_fail(r, NULL);
        return -1;
    }
    if (n > 0) {
        http_problem(r, 409, "open_loans",
                     "the user still holds %d archive file(s) or key set(s) on loan: everything "
                     "borrowed is returned before the user is deactivated",
                     n);
        return 1;
    }
    return 0;
}

/* GET /v1/custody/heads?date=YYYY-MM-DD: per project, every custody ledger's head as recorded
 * by the end of that day (project time zone) and one digest over them, to be exported and
 * kept outside the database so a later truncation or rewrite is detected (RULES §3.13.3). */
void api_custody_heads_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CUSTODY_READ) != 0)
        return;
    char date[16], project[64];
    const char *fp = NULL;
    if (http_query(r, "date", date, sizeof date) < 0) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    }
    int y, mo, d;
    char tail;
    if (strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || mo < 1 ||
        mo > 12 || d < 1 || d > 31 || y < 2000 || y > 9999) {
        http_problem(r, 400, "invalid_query", "date must be a calendar date YYYY-MM-DD");
        return;
    }
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
    char *j = db_custody_heads(c, r->principal.org_id, http_scope_projects(r), date, fp);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, j);
    free(j);
}
