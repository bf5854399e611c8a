/*
 * tests/lib/plans.c — see plans.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/harness.h"
#include "tests/lib/plans.h"

const char *th_plan_str(const cJSON *node, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double th_plan_num(const cJSON *node, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

int th_plan_is(const cJSON *node, const char *type)
{
    const char *t = th_plan_str(node, "Node Type");
    return t && !strcmp(t, type);
}

void th_plan_note_index(const cJSON *node, char *used, size_t len)
{
    const char *type = th_plan_str(node, "Node Type"), *ix = th_plan_str(node, "Index Name");
    if (!type || !ix)
        return;
    size_t l = strlen(used);
    snprintf(used + l, len - l, "%s%s %s", l ? ", " : "", type, ix);
}

static void each(const cJSON *n, th_plan_visit_fn visit, void *arg)
{
    if (cJSON_IsObject(n))
        visit(n, arg);
    for (const cJSON *c = n ? n->child : NULL; c; c = c->next)
        each(c, visit, arg);
}

void th_explain_list(const char *name, const request_filter_t *f, th_plan_visit_fn visit, void *arg)
{
    char *sql;
    const char *vals[40];
    int n = db_request_list_sql(f, &sql, vals);
    if (n <= 0)
        fail_msg("[%s] the list SQL could not be built", name);
    size_t l = strlen(sql) + 64;
    char *ex = malloc(l);
    assert_non_null(ex);
    snprintf(ex, l, "EXPLAIN (ANALYZE, FORMAT JSON) %s", sql);
    PGresult *r = PQexecParams(th_db(), ex, n, NULL, vals, NULL, NULL, 0);
    free(ex);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("[%s] EXPLAIN failed: %s\n%s", name, PQresultErrorMessage(r), sql);
    cJSON *plan = cJSON_Parse(PQgetvalue(r, 0, 0));
    assert_non_null(plan);
    each(plan, visit, arg);
    cJSON_Delete(plan);
    PQclear(r);
    free(sql);
}

char *th_list_reference(const request_filter_t *f, int limit)
{
    char sql[1200];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(string_agg(id::text, ',' ORDER BY created_at DESC, id DESC), '') "
             "FROM (SELECT id, created_at FROM requests WHERE org_id = $1 "
             "AND strpos(coalesce(title, '') || ' ' || description || ' ' || number, $2) > 0 "
             "AND ($3::text IS NULL OR type = $3) AND ($4::timestamptz IS NULL OR "
             "(created_at, id) < ($4::timestamptz, $5::uuid)) "
             "AND ($6::uuid[] IS NULL OR project_id = ANY($6::uuid[])) "
             "AND ($7::text IS NULL OR state NOT IN ('closed', 'rejected', 'not_responsible')) "
             "ORDER BY created_at DESC, id DESC LIMIT %d) x",
             limit);
    char pl[48]; /* the project_id filter as a scope of one project */
    snprintf(pl, sizeof pl, "{%s}", f->project_id ? f->project_id : "");
    const char *v[] = {
        f->org, f->q, f->type, f->after_ts, f->after_id, f->project_id ? pl : f->projects, f->open};
    PGresult *r = PQexecParams(th_db(), sql, 7, NULL, v, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    char *out = strdup(PQgetvalue(r, 0, 0));
    assert_non_null(out);
    PQclear(r);
    return out;
}

char *th_list_ids(db_conn_t *c, const request_filter_t *f, char ts[64], char id[40])
{
    PGresult *r = db_request_list(c, f);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("q=%s: %s", f->q ? f->q : "", PQresultErrorMessage(r));
    size_t cap = (size_t)PQntuples(r) * 40 + 1, o = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = 0;
    for (int i = 0; i < PQntuples(r); i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", PQgetvalue(r, i, 2));
    ts[0] = id[0] = 0;
    if (PQntuples(r) > 1) { /* the cursor the API hands out: the page's last row */
        snprintf(ts, 64, "%s", PQgetvalue(r, PQntuples(r) - 2, 1));
        snprintf(id, 40, "%s", PQgetvalue(r, PQntuples(r) - 2, 2));
    }
    PQclear(r);
    return out;
}

int th_list_pages_match(db_conn_t *c, request_filter_t *f, int pages, const char *what)
{
    static char cts[64], cid[40];
    char ts[64], id[40];
    int checked = 0;
    for (int page = 0; page < pages; page++) {
        char *want = th_list_reference(f, f->limit);
        char *got = th_list_ids(c, f, ts, id);
        if (strcmp(want, got) != 0)
            fail_msg("%s page %d: listed\n%s\nbut a substring scan finds\n%s", what, page, got,
                     want);
        int rows = got[0] ? 1 : 0;
        for (const char *p = got; *p; p++)
            rows += *p == ',';
        free(want);
        free(got);
        checked++;
        if (rows < f->limit)
            break;
        memcpy(cts, ts, sizeof cts);
        memcpy(cid, id, sizeof cid);
        f->after_ts = cts;
        f->after_id = cid;
    }
    return checked;
}
