/*
 * tests/fuzz/fuzz_router.c — the path router and the path parameters: any method and
 * any request target (URL-decoded as civetweb does) through dispatch, with a valid
 * token so that handlers run up to the database.
 *
 * Input: byte 0 picks the method, byte 1 the caller's role, the rest is the request
 * target ("/v1/requests/<id>/actions/x?limit=2").
 */
#include "tests/fuzz/fuzz_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    char *target = strndup((const char *)data + 2, size - 2);
    if (!target)
        abort();
    char auth[2100];
    snprintf(auth, sizeof auth, "Bearer %s", fz_token(data[1]));
    fz_header_t h[] = {
        {"Authorization", auth}, {"Content-Type", "application/json"}, {"If-Match", "\"1\""}};
    static const unsigned char body[] = "{}";
    int has_body = strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "DELETE") &&
                   strcmp(method, "OPTIONS");
    fz_request(method, target, h, 3, has_body ? body : NULL, has_body ? 2 : 0);
    free(target);
    return 0;
}
