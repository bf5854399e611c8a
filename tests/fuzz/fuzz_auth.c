/*
 * tests/fuzz/fuzz_auth.c — the Authorization header and the JWT: header syntax, the
 * algorithm pin, base64url, libjwt's parse, signature, exp/nbf/iss/aud and the
 * sub/org/role/dept/prj/units claims (auth_authenticate through dispatch, GET /v1/me).
 *
 * Input: byte 0 picks the mode, the rest is
 *   mode 0: the whole Authorization header value, unsigned (forgeries, garbage);
 *   mode 1: a claims payload, signed with the server's key under {"alg":"HS256"};
 *   mode 2: "<JOSE header>\n<claims payload>", both signed with the server's key —
 *           whatever the header says, a token whose alg is not exactly HS256 must get 401.
 */
#include "tests/fuzz/fuzz_harness.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 12000)
        return 0;
    int mode = data[0] % 3;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    size_t cap = 2 * n + 256;
    char *value = malloc(cap);
    if (!value)
        abort();
    int must_refuse = 0;
    if (mode == 0) {
        memcpy(value, rest, n);
        value[n] = 0;
    } else {
        static const char std[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
        const uint8_t *hdr = (const uint8_t *)std, *payload = rest;
        size_t hl = strlen(std), pl = n;
        if (mode == 2) {
            const uint8_t *nl = memchr(rest, '\n', n);
            if (!nl) {
                free(value);
                return 0;
            }
            hdr = rest;
            hl = (size_t)(nl - rest);
            payload = nl + 1;
            pl = n - hl - 1;
            char *hs = strndup((const char *)hdr, hl);
            cJSON *hj = cJSON_Parse(hs);
            const cJSON *alg = cJSON_GetObjectItemCaseSensitive(hj, "alg");
            must_refuse = !(cJSON_IsString(alg) && !strcmp(alg->valuestring, "HS256"));
            cJSON_Delete(hj);
            free(hs);
        }
        memcpy(value, "Bearer ", 7);
        if (fz_sign(hdr, hl, payload, pl, value + 7, cap - 7) != 0)
            abort();
    }
    fz_header_t h[] = {{"Authorization", value}};
    int st = fz_request("GET", "/v1/me", h, 1, NULL, 0);
    if (must_refuse && st != 401) {
        fprintf(stderr, "fuzz: a token whose header alg is not HS256 got %d, not 401\n", st);
        abort();
    }
    free(value);
    return 0;
}
