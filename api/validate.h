/*
 * api/validate.h — reading members of a JSON body: optional and required strings, UUIDs,
 * enums and RFC 3339 times, and refusing unknown members.  A helper that finds a problem
 * fills an api_err_t (a 4xx status, a code, a detail and the field it points at) and
 * returns -1; the handler sends it (api_err_send) or, for a batch item, reports it.
 */
#ifndef API_VALIDATE_H
#define API_VALIDATE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http.h"

/* A validation error for one body (batch items report it instead of sending). */
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

/* Fills e with a problem naming no field; returns -1. */
int api_err_set(api_err_t *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Member `name` of o, a JSON array of at most max distinct UUIDs, as a PostgreSQL uuid[]
 * literal "{a,b}" (malloc'd into *out; NULL when absent or null) and its length in *count
 * (may be NULL).  1 present, 0 absent, -1 with e filled (a 422 pointing at the member or
 * the offending element: not an array, too many, not a UUID, named twice). */
int api_uuid_array(const cJSON *o, const char *name, int max, char **out, int *count, api_err_t *e);
/* Fills e with a 422 naming member `name` of object `at`, entry code `err`; returns -1. */
int api_err_at(api_err_t *e, const cJSON *at, const char *name, const char *err, const char *code,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Member `name` of object o.  Each returns 0 when absent or null (*out NULL / untouched),
 * 1 when present and valid (*out points into o), -1 with e filled otherwise. */
/* A non-empty string of at most maxlen bytes. */
int api_opt_str(const cJSON *o, const char *name, size_t maxlen, const char **out, api_err_t *e);
/* The same, required: absence is a 422 missing_field (never returns 0). */
int api_req_str(const cJSON *o, const char *name, size_t maxlen, const char **out, api_err_t *e);
/* A UUID. */
int api_opt_uuid(const cJSON *o, const char *name, const char **out, api_err_t *e);
/* One of an enum's names: from() is its *_from_string, list() its *_list (core/strtab.h),
 * which names the allowed values in the detail. */
int api_opt_enum(const cJSON *o, const char *name, int (*from)(const char *),
                 size_t (*list)(char *, size_t), const char **out, api_err_t *e);
/* An RFC 3339 time, as UTC seconds. */
int api_opt_time(const cJSON *o, const char *name, int64_t *out, api_err_t *e);
/* true or false, as 1 or 0 (*out -1 when absent). */
int api_opt_bool(const cJSON *o, const char *name, int *out, api_err_t *e);
/* A whole number from 0 to max (*out -1 when absent). */
int api_opt_count(const cJSON *o, const char *name, int max, int *out, api_err_t *e);
/* Refuses a member of o not in the NULL-terminated list `known`; `what` names o in the
 * detail ("a request").  0 or -1. */
int api_only_known(const cJSON *o, const char *const *known, const char *what, api_err_t *e);

#endif
