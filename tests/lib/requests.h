/*
 * tests/lib/requests.h — service-request calls shared by the API tests.
 */
#ifndef TESTS_REQUESTS_H
#define TESTS_REQUESTS_H

#include "tests/lib/harness.h"

/* POST /v1/requests as user, which must answer 201 with an id (copied into id); otherwise
 * fails the running test with the caller's line.  Returns the answer (free it). */
th_resp_t *th_create_request_at(int line, const char *user, const char *body, char id[40]);

/* GET /v1/requests/{id} and GET /v1/requests/{id}/timeline as user (free the answer). */
th_resp_t *th_get_request(const char *user, const char *id);
th_resp_t *th_get_timeline(const char *user, const char *id);

#endif
