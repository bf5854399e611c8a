/*
 * api/request.h — helpers shared by the request resources (requests, their comments,
 * attachments, work orders, batch intake), and the declarations the request files share:
 * api/request.c (reads, lists, timeline, scope and locking), api/request_create.c
 * (intake) and api/request_action.c (workflow actions and field edits).
 */
#ifndef API_REQUEST_H
#define API_REQUEST_H

#include <cjson/cJSON.h>

#include "api/http.h"
#include "api/validate.h"
#include "core/request.h"
#include "db/request.h"

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
/* A request the service opens itself as a follow-up (the complaint of a dissatisfied
 * callback or survey answer): api_request_create_one of body (deleted) in the caller's
 * transaction.  0 with the new request's id in id, or -1 with *err filled (nothing sent;
 * the caller answers with its own code and rolls back). */
int api_request_open_followup(req_t *r, db_conn_t *c, cJSON *body, char id[40], api_err_t *err);

/* Idempotency-Key (api/idempotency.c).  start: takes the request's connection into *c;
 * returns 1 when the response was already sent (a replay or an error, 503 without a
 * connection); 0 to go on, with *claimed set when the handler now runs inside a
 * transaction that owns the key and must call api_idem_finish() before committing. */
int api_idem_start(req_t *r, db_conn_t **c, int *claimed);
int api_idem_finish(req_t *r, db_conn_t *c, int status, const char *body);

/* Answers {"items": ...} for something listed under a request (timeline, comments,
 * attachments, extensions) after authorising a read of the request; fn gets internal=1
 * for roles that may see internal entries and returns a malloc'd JSON array or NULL. */
typedef char *(*api_items_fn)(db_conn_t *c, const char *org, const char *request_id, int internal);
void api_request_items(req_t *r, api_items_fn fn);

/* The id of a just-written request (its JSON) that must reach the GM at once — a major
 * complaint under an SLA, not yet at the top of the ladder (SPEC §4) — else NULL. */
const char *api_request_gm_now(const cJSON *req);

/* What comments and attachments share (api/comment.c).  api_request_append locks request
 * id (404 outside the caller's scope; AZ_REQUEST_COMMENT), calls add() to write the entry
 * and its timeline event in that transaction, commits and answers 201 with the entry (the
 * JSON in column 0 of add's one row), or the error.  add() may refuse: it sends the problem
 * and returns NULL, and the transaction is rolled back.
 * channel: the timeline channel of the principal's role (app, integration or web).
 * visibility: reads an optional 'visibility' ("internal" or "public"; internal only for
 * roles that may write internal notes) into *out, defaulting to the most private the role
 * may write; 0, or -1 with the problem sent. */
typedef struct api_append {
    db_conn_t *c;
    const request_row_t *row; /* the locked request */
    const char *org, *request_id, *author, *role, *channel;
    int seq; /* the timeline entry's number */
} api_append_t;
typedef PGresult *(*api_append_fn)(req_t *r, const api_append_t *a, void *ud);
void api_request_append(req_t *r, const char *id, api_append_fn add, void *ud);
const char *api_request_channel(role_t role);
int api_request_visibility(req_t *r, const cJSON *v, const char **out);

/* Takes a workflow action on request id inside the caller's open transaction on c, as the
 * principal of r, as POST /v1/requests/{id}/actions/{action} would (row locked, scope and
 * state machine judged by core, timeline event, columns, SLA clocks) but without If-Match,
 * commit or answer.  body: the action's arguments as that route takes them (NULL: none);
 * extra: members added to the timeline event's details (NULL: none).  Only actions that
 * name no other person or record (not sign_off, dispatch, redispatch, hand_on,
 * record_notification, callback_result, comment).  Returns 0 when taken; 1 when refused
 * (not found, out of scope, or the state machine's refusal: *out says why, nothing was
 * written for it, the transaction goes on); -1 when it failed (problem sent, transaction
 * rolled back). */
typedef struct api_action_outcome {
    char code[48];
    char reason[256];
} api_action_outcome_t;
int api_request_apply_action(req_t *r, db_conn_t *c, const char *id, request_action_t act,
                             const cJSON *body, const cJSON *extra, api_action_outcome_t *out);

/* ---- shared by api/request*.c only ---- */

/* A complaint's validity, "unknown", "valid" or "invalid" (an API-only enum): 0 for one of
 * them, else -1; and "unknown, valid, invalid" as the *_list for api_opt_enum. */
int api_request_validity_from(const char *s);
size_t api_request_validity_list(char *buf, size_t len);

/* After a committed write whose answer is *json (parsed: req): when the request must reach
 * the GM at once (api_request_gm_now), sweeps it now rather than at the next background
 * sweep and replaces *json (malloc'd, the caller frees it) and *sc by the request as it
 * then is.  1 when replaced, else 0. */
int api_request_sweep_gm(req_t *r, db_conn_t *c, const cJSON *req, char **json,
                         request_scope_t *sc);

/* The handlers api_request_register() routes. */
void api_request_create_h(req_t *r); /* POST /v1/requests (api/request_create.c) */
void api_request_patch_h(req_t *r);  /* PATCH /v1/requests/{id} (api/request_action.c) */
void api_request_action_h(req_t *r); /* POST /v1/requests/{id}/actions/{action} (same) */

#endif
