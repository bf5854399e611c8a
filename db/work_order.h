/* db/work_order.h — SQL for work-order reads. */
#ifndef DB_WORK_ORDER_H
#define DB_WORK_ORDER_H

#include "db/db.h"

/* Work orders: get (json, project, department, version) and list. */
typedef struct wo_scope {
    char project_id[40], department_id[40];
} wo_scope_t;
int db_workorder_get(db_conn_t *c, const char *id, const char *org, char **json, wo_scope_t *sc);
/* Filters may be NULL.  Columns: json, created_at, id. */
PGresult *db_workorder_list(db_conn_t *c, const char *org, const char *projects,
                            const char *dept_only, const char *department_id, const char *state,
                            const char *assignee_id, const char *request_id, const char *after_ts,
                            const char *after_id, int limit);

#endif
