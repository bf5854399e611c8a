/* tests/lib/requests.c — see requests.h. */
#include "tests/lib/requests.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

th_resp_t *th_create_request_at(int line, const char *user, const char *body, char id[40])
{
    th_resp_t *r = th_req("POST", "/v1/requests", th_token(user), body, NULL);
    if (r->status != 201)
        fail_msg("line %d: create by %s: expected 201, got %ld: %s", line, user, r->status,
                 r->body);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    if (strlen(id) != 36)
        fail_msg("line %d: no id in %s", line, r->body);
    return r;
}

th_resp_t *th_get_request(const char *user, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    return th_req("GET", path, th_token(user), NULL, NULL);
}

th_resp_t *th_get_timeline(const char *user, const char *id)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/requests/%s/timeline", id);
    return th_req("GET", path, th_token(user), NULL, NULL);
}
