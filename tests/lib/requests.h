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

/* The body of a POST /v1/requests/batch of n requests of `type` at unit for resident,
 * received at occurred_at (RFC 3339): each item {"type", "channel": "phone", <extra>
 * "location", "reporter", "description": "<desc_prefix><first + i>", "occurred_at"}, extra
 * being "" or more members each followed by a comma.  Free it. */
char *th_batch_body(int n, int first, const char *type, const char *extra, const char *unit,
                    const char *resident, const char *desc_prefix, const char *occurred_at);

/* Registers n (1..100, the batch's limit) inquiries at unit for resident through
 * POST /v1/requests/batch as agent, received two days and an hour ago: their 2-day
 * resolution clock is breached (one escalation each, no warning).  Described
 * "<desc_prefix><i>".  Fails the running test unless the batch answers 200. */
void th_create_overdue_inquiries(int n, const char *unit, const char *resident,
                                 const char *desc_prefix);

/* The start of the tests that run the SLA sweep themselves: th_start with the service's own
 * sweeper off, and the demo organisation's unit 1-101 and resident 张伟 (whom
 * th_create_overdue_inquiries registers for) into unit / resident.  0 or -1. */
int th_start_sweeper_off(char unit[40], char resident[40]);

#endif
