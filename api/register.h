/* api/register.h — what the request reads share with the register columns (api/register.c). */
#ifndef API_REGISTER_H
#define API_REGISTER_H

#include "api/http.h"

/* json (a request's JSON, malloc'd) with "register": the latest note of each column the
 * caller may read, appended; json itself when there is nothing to add or on failure.
 * has_notes 0 (db_request_get found none): every column null, without asking the database. */
char *api_register_splice(req_t *r, db_conn_t *c, const char *request_id, char *json,
                          int has_notes);

#endif
