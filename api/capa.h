/*
 * api/capa.h — what the patrol handlers share with the corrective-action ones: opening a
 * rectification inside the caller's transaction.
 */
#ifndef API_CAPA_H
#define API_CAPA_H

#include <cjson/cJSON.h>

#include "api/http.h"
#include "api/validate.h"

/* Creates a corrective action of `kind` in project from the fields of body o (title,
 * problem, major, department_id, responsible_id, other_departments, due_at) plus the given
 * sources JSON, inside c's transaction; *id gets the new id (malloc'd).  0, or the 4xx
 * status with e filled, or 500/503 (-1) when the database failed. */
int api_capa_create_in(req_t *r, db_conn_t *c, const cJSON *o, const char *project,
                       const char *kind, const char *sources, char **id, api_err_t *e);

#endif
