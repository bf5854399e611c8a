/* tests/lib/requests.c — see requests.h. */
#include "tests/lib/requests.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/fixtures.h"

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

char *th_batch_body(int n, int first, const char *type, const char *extra, const char *unit,
                    const char *resident, const char *desc_prefix, const char *occurred_at)
{
    size_t cap = (size_t)n * (512 + strlen(extra) + strlen(desc_prefix)) + 64, o = 0;
    char *body = malloc(cap);
    assert_non_null(body);
    o += (size_t)snprintf(body + o, cap - o, "{\"items\":[");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(body + o, cap - o,
                              "%s{\"type\":\"%s\",\"channel\":\"phone\",%s\"location\":{"
                              "\"unit_id\":\"%s\"},\"reporter\":{\"resident_id\":\"%s\"},"
                              "\"description\":\"%s%d\",\"occurred_at\":\"%s\"}",
                              i ? "," : "", type, extra, unit, resident, desc_prefix, first + i,
                              occurred_at);
    snprintf(body + o, cap - o, "]}");
    return body;
}

void th_create_overdue_inquiries(int n, const char *unit, const char *resident,
                                 const char *desc_prefix)
{
    char at[40];
    th_iso_utc(time(NULL) - 2 * 86400 - 3600, at);
    char *body = th_batch_body(n, 0, "inquiry", "", unit, resident, desc_prefix, at);
    th_resp_t *r = th_req("POST", "/v1/requests/batch", th_token("agent"), body, NULL);
    free(body);
    if (r->status != 200)
        fail_msg("batch: %ld %s", r->status, r->body);
    th_free(r);
}

int th_start_sweeper_off(char unit[40], char resident[40])
{
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_unit("demo", "1-101", unit) || th_fx_resident("demo", "张伟", resident))
        return -1;
    return 0;
}
