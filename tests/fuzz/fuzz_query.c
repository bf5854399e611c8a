/*
 * tests/fuzz/fuzz_query.c — query-string parsing: the list filters, ?limit and the
 * ?cursor keyset token (base64url, RFC 3339 time, UUID) of every listing, through
 * dispatch with a valid token.
 *
 * Input: byte 0 picks the listing, byte 1 the caller's role, the rest is the raw query
 * string (still percent-encoded, as civetweb hands it over).
 */
#include "tests/fuzz/fuzz_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lists[] = {
    "/v1/requests",
    "/v1/work-orders",
    "/v1/notifications",
    "/v1/sla/policies",
    "/v1/organisations",
    "/v1/projects",
    "/v1/buildings",
    "/v1/units",
    "/v1/departments",
    "/v1/residents",
    "/v1/users",
    "/v1/requests/" FZ_ID "/comments",
    "/v1/requests/" FZ_ID "/attachments",
    "/v1/requests/" FZ_ID "/timeline",
    "/v1/requests/" FZ_ID "/sla/extensions",
    "/v1/projects/" FZ_ID "/calendar",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 8192)
        return 0;
    const char *path = lists[data[0] % (sizeof lists / sizeof lists[0])];
    size_t pl = strlen(path);
    char *target = malloc(pl + size + 2);
    if (!target)
        abort();
    memcpy(target, path, pl);
    target[pl] = '?';
    memcpy(target + pl + 1, data + 2, size - 2);
    target[pl + 1 + size - 2] = 0;
    char auth[2100];
    snprintf(auth, sizeof auth, "Bearer %s", fz_token(data[1]));
    fz_header_t h[] = {{"Authorization", auth}};
    fz_request("GET", target, h, 1, NULL, 0);
    free(target);
    return 0;
}
