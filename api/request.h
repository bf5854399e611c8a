/*
 * api/request.h — helpers shared by the request resources (requests, their comments,
 * attachments, work orders, batch intake).
 */
#ifndef API_REQUEST_H
#define API_REQUEST_H

#include <cjson/cJSON.h>

#include "api/http.h"
#include "db/request.h"

/* A validation error for one request body (batch items report it instead of sending). */
typedef struct api_err {
    int status;
    const char *code;
    char detail[480];
    /* Where (a 422's errors[] entry): member `name` of object `at` in the body, and the
     * entry code; all NULL when the error names no field (pointer "" then). */
    const cJSON *at;
    const char *name;
    const char *err;
} api_err_t;

/* Sends e as a problem (422s with errors[] pointing at e->at / e->name). */
void api_err_send(req_t *r, const api_err_t *e);
/* e's errors[] entry as a JSON object, pointer relative to r->json (for batch items). */
cJSON *api_err_entry(req_t *r, const api_err_t *e);

/* Loads the request's scope and authorises `action` on it; sends 404/403 itself and
 * returns -1, or 0 with *sc filled. */
int api_request_authorize(req_t *r, db_conn_t *c, const char *id, az_action_t action,
                          request_scope_t *sc);
/* Begins a transaction, locks the request row (FOR UPDATE) and authorises `action`
 * against its scope.  0 inside the transaction, or -1 with the response sent and the
 * transaction rolled back. */
int api_request_lock(req_t *r, db_conn_t *c, const char *id, az_action_t action,
                     request_row_t *row);
/* Fills an az_target_t from a request scope (pointers into sc). */
az_target_t api_request_target(req_t *r, const request_scope_t *sc);

/* Creates one request from a JSON object.  Returns 201 with *json (malloc'd) holding the
 * request, or the 4xx/5xx status with *err filled (a repeated external_ref is 409
 * duplicate_external_ref naming the existing request).  The creation is one statement
 * on c, so it commits by itself unless the caller holds a transaction. */
int api_request_create_one(req_t *r, db_conn_t *c, const cJSON *body, char **json, api_err_t *err);

/* Idempotency-Key (api/idempotency.c).  start: returns 1 when the response was already sent
 * (a replay or an error); 0 to go on, with *claimed set when the handler now runs inside
 * a transaction that owns the key and must call api_idem_finish() before committing. */
int api_idem_start(req_t *r, db_conn_t *c, int *claimed);
int api_idem_finish(req_t *r, db_conn_t *c, int status, const char *body);

/* Answers {"items": ...} for something listed under a request (timeline, comments,
 * attachments, extensions) after authorising a read of the request; fn gets internal=1
 * for roles that may see internal entries and returns a malloc'd JSON array or NULL. */
typedef char *(*api_items_fn)(db_conn_t *c, const char *org, const char *request_id, int internal);
void api_request_items(req_t *r, api_items_fn fn);

/* The id of a just-written request (its JSON) that must reach the GM at once — a major
 * complaint under an SLA, not yet at the top of the ladder (SPEC §4) — else NULL. */
const char *api_request_gm_now(const cJSON *req);

/* What comments and attachments share (api/comment.c).  answer_appended commits what was
 * appended (its row and timeline event) and answers 201 with it, or the error; frees res.
 * channel: the timeline channel of the principal's role (app, integration or web).
 * visibility: reads an optional 'visibility' ("internal" or "public"; internal only for
 * roles that may write internal notes) into *out, defaulting to the most private the role
 * may write; 0, or -1 with the problem sent. */
void api_request_answer_appended(req_t *r, db_conn_t *c, PGresult *res);
const char *api_request_channel(role_t role);
int api_request_visibility(req_t *r, const cJSON *v, const char **out);

#endif
