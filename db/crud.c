/*
 * db/crud.c — statement generation for the organisation-model resources.  Column names
 * come only from the static resource descriptions in api/org.c, never from requests;
 * every value is a $n parameter.
 */
#include "db/crud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sb {
    char *s;
    size_t n, cap;
} sb_t;

static void sb_add(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void sb_add(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            return;
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)k;
        char *ns = realloc(b->s, nc);
        if (!ns)
            abort();
        b->s = ns;
        b->cap = nc;
    }
}

static const char *sql_type(field_type_t t)
{
    switch (t) {
    case FT_INT:
        return "integer";
    case FT_NUM:
        return "numeric";
    case FT_BOOL:
        return "boolean";
    case FT_UUID:
        return "uuid";
    case FT_HOURS:
        return "jsonb";
    default:
        return "text";
    }
}

/* The JSON rendering of a row aliased t; $pii_param is a boolean parameter. */
static void render_json(sb_t *b, const resource_t *res, int pii_param)
{
    /* The PII switch is referenced even by resources without personal fields so that
     * every statement has the same parameter list. */
    sb_add(b, "json_build_object('id', CASE WHEN $%d::boolean THEN t.id ELSE t.id END", pii_param);
    if (!res->org_table)
        sb_add(b, ", 'organisation_id', t.org_id");
    for (int i = 0; i < res->nfields; i++) {
        const field_t *f = &res->fields[i];
        if (f->type == FT_SECRET || (f->flags & FF_VIRTUAL && !f->render))
            continue;
        if (f->render)
            sb_add(b, ", '%s', %s", f->name, f->render);
        else if (f->flags & FF_PII)
            sb_add(b, ", '%s', CASE WHEN $%d::boolean THEN t.%s ELSE mask_phone(t.%s) END", f->name,
                   pii_param, f->name, f->name);
        else
            sb_add(b, ", '%s', t.%s", f->name, f->name);
    }
    if (res->extra_json)
        sb_add(b, ", %s", res->extra_json);
    sb_add(b, ", 'version', t.version, 'created_at', rfc3339(t.created_at), 'updated_at', "
              "rfc3339(t.updated_at))::text");
}

static const char *proj(const resource_t *res)
{
    return res->project_expr ? res->project_expr : "NULL::uuid";
}

int db_crud_prepare(resource_t *res)
{
    sb_t b = {0};
    snprintf(res->names[0], 48, "crud_get_%s", res->path);
    snprintf(res->names[1], 48, "crud_getl_%s", res->path);
    snprintf(res->names[2], 48, "crud_list_%s", res->path);
    snprintf(res->names[3], 48, "crud_ins_%s", res->path);
    snprintf(res->names[4], 48, "crud_upd_%s", res->path);

    /* get: $1 id, $2 org, $3 pii */
    for (int lock = 0; lock < 2; lock++) {
        b.n = 0;
        sb_add(&b, "SELECT ");
        render_json(&b, res, 3);
        sb_add(
            &b,
            ", coalesce((%s)::text, ''), t.version FROM %s t WHERE t.id = $1 AND t.org_id = $2%s",
            proj(res), res->table, lock ? " FOR UPDATE" : "");
        db_stmt_t *st = lock ? &res->get_lock : &res->get;
        st->name = res->names[lock];
        st->sql = strdup(b.s);
        st->nparams = 3;
    }

    /* list: $1 org, $2 projects uuid[] (NULL all), $3 after ts, $4 after id, $5 limit,
     * $6 pii, $7.. filters */
    b.n = 0;
    sb_add(&b, "SELECT ");
    render_json(&b, res, 6);
    sb_add(&b, ", rfc3339(t.created_at), t.id FROM %s t WHERE t.org_id = $1", res->table);
    if (res->project_expr)
        sb_add(&b, " AND ($2::uuid[] IS NULL OR %s IS NULL OR %s = ANY($2::uuid[]))",
               res->project_expr, res->project_expr);
    else
        sb_add(&b, " AND ($2::uuid[] IS NULL OR true)");
    sb_add(&b, " AND ($3::timestamptz IS NULL OR (t.created_at, t.id) > ($3::timestamptz, "
               "$4::uuid))");
    int p = 7;
    res->nlist_filters = 0;
    for (int i = 0; i < res->nfields; i++) {
        const field_t *f = &res->fields[i];
        if (!(f->flags & FF_FILTER))
            continue;
        sb_add(&b, " AND ($%d::%s IS NULL OR t.%s = $%d::%s)", p, sql_type(f->type), f->name, p,
               sql_type(f->type));
        p++;
        res->nlist_filters++;
    }
    sb_add(&b, " ORDER BY t.created_at, t.id LIMIT $5");
    res->list.name = res->names[2];
    res->list.sql = strdup(b.s);
    res->list.nparams = p - 1;

    /* insert: $1 org, $2 pii, $3.. fields */
    b.n = 0;
    /* (the organisations table itself is never inserted through the API) */
    sb_add(&b, "INSERT INTO %s AS t (org_id", res->table);
    p = 3;
    sb_t vals = {0};
    sb_add(&vals, "$1::uuid");
    for (int i = 0; i < res->nfields; i++) {
        const field_t *f = &res->fields[i];
        if (f->flags & FF_VIRTUAL)
            continue;
        sb_add(&b, ", %s", f->column ? f->column : f->name);
        sb_add(&vals, ", $%d::%s", p++, sql_type(f->type));
    }
    sb_add(&b, ") VALUES (%s) RETURNING ", vals.s);
    render_json(&b, res, 2);
    sb_add(&b, ", coalesce((%s)::text, ''), t.version, t.id", proj(res));
    res->insert.name = res->names[3];
    res->insert.sql = strdup(b.s);
    res->insert.nparams = p - 1;
    free(vals.s);

    /* update: $1 id, $2 org, $3 pii, then pairs ($set bool, $val) per field */
    b.n = 0;
    sb_add(&b, "UPDATE %s t SET version = t.version + 1, updated_at = clock_timestamp()",
           res->table);
    p = 4;
    for (int i = 0; i < res->nfields; i++) {
        const field_t *f = &res->fields[i];
        if (f->flags & FF_VIRTUAL)
            continue;
        const char *col = f->column ? f->column : f->name;
        sb_add(&b, ", %s = CASE WHEN $%d::boolean THEN $%d::%s ELSE t.%s END", col, p, p + 1,
               sql_type(f->type), col);
        p += 2;
    }
    sb_add(&b, " WHERE t.id = $1 AND t.org_id = $2 RETURNING ");
    render_json(&b, res, 3);
    sb_add(&b, ", coalesce((%s)::text, ''), t.version, t.id", proj(res));
    res->update.name = res->names[4];
    res->update.sql = strdup(b.s);
    res->update.nparams = p - 1;
    free(b.s);
    return 0;
}

int db_crud_get(db_conn_t *c, resource_t *res, const char *id, const char *org, int pii, int lock,
                crud_row_t *row, PGresult **err)
{
    const char *v[] = {id, org, pii ? "true" : "false"};
    PGresult *r = db_exec(c, lock ? &res->get_lock : &res->get, v);
    *err = NULL;
    if (!db_ok(r)) {
        *err = r;
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    row->json = strdup(PQgetvalue(r, 0, 0));
    if (!row->json) { /* out of memory: an error result, answered 503 like any failure */
        PQclear(r);
        *err = PQmakeEmptyPGresult(db_pg(c), PGRES_FATAL_ERROR);
        return -1;
    }
    snprintf(row->project_id, sizeof row->project_id, "%s", PQgetvalue(r, 0, 1));
    row->version = atoi(PQgetvalue(r, 0, 2));
    PQclear(r);
    return 1;
}

PGresult *db_crud_list(db_conn_t *c, resource_t *res, const char *org, const char *projects_arr,
                       const char *after_ts, const char *after_id, const char *const *filters,
                       int limit, int pii)
{
    const char *v[64];
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    v[0] = org;
    v[1] = projects_arr;
    v[2] = after_ts;
    v[3] = after_id;
    v[4] = lim;
    v[5] = pii ? "true" : "false";
    for (int i = 0; i < res->nlist_filters && i < 58; i++)
        v[6 + i] = filters ? filters[i] : NULL;
    return db_exec(c, &res->list, v);
}

PGresult *db_crud_insert(db_conn_t *c, resource_t *res, const char *org, const char *const *vals,
                         int pii)
{
    const char *v[64];
    v[0] = org;
    v[1] = pii ? "true" : "false";
    int k = 0;
    for (int i = 0; i < res->nfields && k < 62; i++)
        if (!(res->fields[i].flags & FF_VIRTUAL)) {
            v[2 + k] = vals[k];
            k++;
        }
    return db_exec(c, &res->insert, v);
}

PGresult *db_crud_update(db_conn_t *c, resource_t *res, const char *id, const char *org,
                         const int *set, const char *const *vals, int pii)
{
    const char *v[128];
    v[0] = id;
    v[1] = org;
    v[2] = pii ? "true" : "false";
    int k = 0;
    for (int i = 0; i < res->nfields && k < 62; i++)
        if (!(res->fields[i].flags & FF_VIRTUAL)) {
            v[3 + 2 * k] = set[k] ? "true" : "false";
            v[4 + 2 * k] = set[k] ? vals[k] : NULL;
            k++;
        }
    return db_exec(c, &res->update, v);
}
