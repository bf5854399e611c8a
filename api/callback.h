/*
 * api/callback.h — what the request actions share with the callback handlers
 * (api/callback.c): the task a resolution opens, and the old callback_result action
 * routed through the callback task.
 */
#ifndef API_CALLBACK_H
#define API_CALLBACK_H

#include <stdint.h>

#include "api/http.h"
#include "db/request.h"

/* After a request write, inside its transaction (clocks already recomputed): opens the
 * callback task a resolution needing one calls for, due at the request's callback clock;
 * ends an open task the request left behind (closed: given up; reopened or anything
 * else: cancelled).  actor: the user id recorded as the task's creator.  0 / -1. */
int api_callback_sync(db_conn_t *c, const char *org, const char *request_id, const char *actor);

/* POST /v1/requests/{id}/actions/callback_result on the locked request `row` inside the
 * open transaction: the body (rating required, a contradicting satisfied/outcome 422, an
 * optional note) becomes a reached phone attempt on the request's open callback task (one
 * is opened on demand when there is none) and the derived outcome is applied.  0 with
 * *applied the request's updated JSON result (the caller finishes the write), or -1 with
 * the problem sent and the transaction rolled back. */
int api_callback_legacy(req_t *r, db_conn_t *c, const char *request_id, const request_row_t *row,
                        const cJSON *body, int64_t occurred, PGresult **applied);

#endif
