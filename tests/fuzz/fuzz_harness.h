/*
 * tests/fuzz/fuzz_harness.h — runs a request through the real deskd entry point
 * (api/http.c's dispatch, as registered with civetweb) without sockets or a database.
 *
 * The fuzz binaries define the few civetweb functions deskd calls on a connection
 * (mg_get_request_info, mg_get_header, mg_read, mg_write, mg_printf, ...) over an
 * in-memory connection; mg_get_var and mg_url_decode stay the library's own.  Every
 * request runs on a thread with civetweb's worker stack (100 KiB on Debian 12), so a
 * recursion that would overflow a worker in production overflows here too.  The
 * database pool points at a socket that does not exist: a handler that gets as far as
 * the database answers 503, after all the validation that comes before it.
 */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* One header of a fuzz request. */
typedef struct fz_header {
    const char *name;
    const char *value;
} fz_header_t;

/* Starts deskd in-process once (configuration, routes, pool, dispatch). */
void fz_init(void);

/* A valid HS256 access token of role index `role` (role_t order, taken modulo the
 * number of roles) for a fixed organisation, user and project. */
const char *fz_token(unsigned role);

/* Signs header.payload with the server's HS256 secret into out as a compact JWT.
 * Returns 0, or -1 when out is too small. */
int fz_sign(const unsigned char *hdr, size_t hl, const unsigned char *payload, size_t pl, char *out,
            size_t cap);

/* Runs one request; target is "path" or "path?query" (the path is URL-decoded the way
 * civetweb does before deskd sees it).  Returns the HTTP status deskd answered.  Aborts
 * (a fuzz crash) when the response breaks the contract: no response, more than one,
 * a 500, or a 4xx body that is not application/problem+json with a matching status. */
int fz_request(const char *method, const char *target, const fz_header_t *headers, int nheaders,
               const unsigned char *body, size_t body_len);

/* Fixed ids the targets use in paths. */
#define FZ_ORG     "0b0b0b0b-0000-4000-8000-000000000001"
#define FZ_USER    "0b0b0b0b-0000-4000-8000-000000000002"
#define FZ_PROJECT "0b0b0b0b-0000-4000-8000-000000000003"
#define FZ_ID      "0b0b0b0b-0000-4000-8000-000000000004"

#endif
