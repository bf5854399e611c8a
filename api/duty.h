/*
 * api/duty.h — helpers the duty, handover and incident-report handlers share (api/duty.c,
 * api/handover.c, api/incident.c).
 */
#ifndef API_DUTY_H
#define API_DUTY_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "api/http.h"
#include "db/duty.h"

/* Runs q; on a failed statement answers it (http_db_error) and returns NULL after
 * PQclear.  A result is the caller's to PQclear. */
PGresult *api_duty_run(req_t *r, db_conn_t *c, duty_q_t q, const char *const *vals);
/* Answers 200 (or status) with the one text value of a one-row result, or 404 "no <what>
 * with this id in your scope" when there is no row; PQclears res. */
void api_duty_send_one(req_t *r, int status, PGresult *res, const char *what);
/* As api_duty_send_one, with the ETag of the JSON's `version` member. */
void api_duty_send_versioned(req_t *r, int status, PGresult *res, const char *what);
/* The ETag header line of a JSON object's `version` member into buf (64 bytes; "" without one). */
const char *api_duty_etag(const cJSON *o, char *buf);
/* Answers the empty page {"items":[],"next_cursor":null}. */
void api_duty_send_empty_page(req_t *r);
/* If-Match (http_if_match's `expect`) against the `version` of the JSON object in column 0
 * of the locked row res: 0 when they match, else -1 with 412 stale_version sent (the
 * current ETag with it). */
int api_duty_fresh(req_t *r, PGresult *res, int expect, const char *what);
/* Project `project` of the caller's organisation authorised for `az`: 0, or -1 with 404/403
 * sent.  tz (64 bytes) and today (16 bytes, local YYYY-MM-DD) may be NULL. */
int api_duty_project(req_t *r, db_conn_t *c, const char *project, az_action_t az, char *tz,
                     char *today);
/* api_uuid_array for the duty handlers: "{}" when absent, or NULL with the 422 sent. */
char *api_duty_uuid_array(req_t *r, const cJSON *o, const char *name, int max, int *count);
/* "%lld" of t into buf (32 bytes). */
const char *api_duty_epoch(int64_t t, char *buf);
/* Whether the token's role may supervise duties (AZ_DUTY_SUPERVISE) in the project. */
int api_duty_supervises(req_t *r, const char *project);
/* One background-style check run for the caller's organisation (POST /v1/admin/duty/check). */
void api_duty_check_h(req_t *r);

/* The project's default handover checklist (JSON array of {code, label, required}). */
extern const char *const api_duty_default_checklist;
/* Sends a problem+json: status, code, detail; a 422 gets errors[] with one entry at
 * `pointer` (entry code err); `extra` (taken, may be NULL) is added as member `extra_name`. */
void api_duty_problem(req_t *r, int status, const char *code, const char *pointer, const char *err,
                      const char *detail, const char *extra_name, cJSON *extra);

/* Adds `late_minutes` and `late` (core_handover_late_minutes) to one handover object. */
void api_handover_annotate(cJSON *h, int64_t now);

void api_handover_routes(void);
void api_incident_routes(void);

#endif
