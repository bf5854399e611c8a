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
