/*
 * db/crud.h — the organisation-model resources (projects, buildings, units, departments,
 * users, residents, the organisation itself) share one shape: org-scoped rows with id,
 * version, created_at, updated_at.  A resource is described once by its fields; this
 * module generates its four prepared statements (get, get-for-update, list, insert,
 * update) from the description, so every SQL string still lives in db/.
 */
#ifndef DB_CRUD_H
#define DB_CRUD_H

#include "db/db.h"

typedef enum {
    FT_TEXT,
    FT_INT,
    FT_NUM,
    FT_BOOL,
    FT_UUID,
    FT_ENUM,
    FT_HOURS,    /* business hours object, stored as jsonb */
    FT_TZ,       /* IANA time zone name */
    FT_SECRET,   /* written (already hashed by the caller), never rendered */
    FT_UUID_SET, /* virtual: array of uuids kept in a link table by a hook */
    FT_OBJ_SET,  /* virtual: array of objects kept in a link table by a hook */
} field_type_t;

#define FF_REQUIRED  1u  /* must be given on create */
#define FF_UPDATABLE 2u  /* may be changed by PATCH */
#define FF_PII       4u  /* masked for roles that do not need it */
#define FF_FILTER    8u  /* list filter ?name=value */
#define FF_VIRTUAL   16u /* no column; a hook stores it */
#define FF_NULLABLE  32u /* may be set to null */

typedef struct field {
    const char *name; /* API name and column name */
    field_type_t type;
    unsigned flags;
    int maxlen;               /* text: bytes; int: max value */
    const char *const *enums; /* NULL-terminated */
    const char *render;       /* SQL expression to render instead of t.<name>, or NULL */
    const char *column;       /* column when it differs from the API name, or NULL */
    const char *def;          /* value used on create when absent, or NULL */
} field_t;

typedef struct resource {
    const char *path;     /* "units" */
    const char *table;    /* "units" */
    const char *singular; /* "unit" */
    const field_t *fields;
    int nfields;
    const char *project_expr; /* SQL for the row's project id, or NULL (org-level) */
    const char *extra_json;   /* extra json_build_object members, or NULL */
    int org_table;            /* the organisations table: id is the org id */
    /* generated */
    db_stmt_t get, get_lock, list, insert, update;
    int nlist_filters;
    char names[5][48];
} resource_t;

/* Generates the statements; call once per resource at start-up.  0 / -1. */
int db_crud_prepare(resource_t *res);

/* Row fetched by get: JSON text (malloc'd), project id ("" when none) and version. */
typedef struct crud_row {
    char *json;
    char project_id[40];
    int version;
} crud_row_t;

/* 1 found, 0 not found, -1 error (*err gets the PGresult, caller PQclears). */
int db_crud_get(db_conn_t *c, resource_t *res, const char *id, const char *org, int pii, int lock,
                crud_row_t *row, PGresult **err);
/* Lists up to `limit` rows after the cursor (created_at text + id, or NULLs), filtered
 * by projects (NULL = all) and by filter values (array of nlist_filters, NULL = any).
 * Returns a PGresult with columns json, created_at, id (caller PQclears). */
PGresult *db_crud_list(db_conn_t *c, resource_t *res, const char *org, const char *projects_arr,
                       const char *after_ts, const char *after_id, const char *const *filters,
                       int limit, int pii);
/* vals: one text value per non-virtual field in order (NULL = absent / SQL default).
 * Returns PGresult: json, project id, version, id. */
PGresult *db_crud_insert(db_conn_t *c, resource_t *res, const char *org, const char *const *vals,
                         int pii);
/* set: per non-virtual field, whether it is being changed; vals: new values. */
PGresult *db_crud_update(db_conn_t *c, resource_t *res, const char *id, const char *org,
                         const int *set, const char *const *vals, int pii);

#endif
