/*
 * tests/api/test_token_depth.c — found by tests/fuzz/fuzz_auth: a forged bearer token
 * whose claims nest a few thousand arrays deep overflowed a worker's stack inside
 * libjwt's (jansson's) parse, which runs before the signature check — one
 * unauthenticated request took deskd down.  Deep claims are now refused unread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "tests/lib/harness.h"

static int setup(void **state)
{
    (void)state;
    return th_start(NULL);
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

/* "<b64 header>.<b64 of `depth` nested arrays>.AAAA" — unsigned. */
static char *deep_token(int depth)
{
    static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    size_t n = 2 * (size_t)depth;
    unsigned char *claims = malloc(n);
    char *tok = malloc(4 * (n / 3 + 2) + 128);
    assert_non_null(claims);
    assert_non_null(tok);
    memset(claims, '[', (size_t)depth);
    memset(claims + depth, ']', (size_t)depth);
    size_t o = b64url_encode((const unsigned char *)hdr, strlen(hdr), tok);
    tok[o++] = '.';
    o += b64url_encode(claims, n, tok + o);
    strcpy(tok + o, ".AAAA");
    free(claims);
    return tok;
}

static void test_deeply_nested_claims_are_refused(void **state)
{
    (void)state;
    const char *paths[] = {"/v1/me", "/v1/requests"};
    for (int i = 0; i < 2; i++) {
        char *tok = deep_token(5000);
        th_resp_t *r = th_req("GET", paths[i], tok, NULL, NULL);
        assert_true(th_is_problem(r, 401, "invalid_token"));
        th_free(r);
        free(tok);
    }
    th_resp_t *r = th_req("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    /* Real tokens (claims two levels deep) still pass. */
    r = th_req("GET", "/v1/me", th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deeply_nested_claims_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
