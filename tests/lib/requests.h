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

/* Registers n (1..100, the batch's limit) inquiries at unit for resident through
 * POST /v1/requests/batch as agent, received two days and an hour ago: their 2-day
 * resolution clock is breached (one escalation each, no warning).  Described
 * "<desc_prefix><i>".  Fails the running test unless the batch answers 200. */
void th_create_overdue_inquiries(int n, const char *unit, const char *resident,
                                 const char *desc_prefix);

#endif
