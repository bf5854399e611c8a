/*
 * tests/api/test_token_cache.c — the verified-token cache (api/auth.c, issue 14) changes
 * nothing a client can see: a token that was verified and used is still
 *   - refused once it expires (DESK_ACCESS_TTL=2 here), as token_expired;
 *   - refused once the user's password changes (token_revoked), and after a deactivation;
 * and a token differing from a cached one in its signature only (same hash bucket or not)
 * is verified on its own and refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/harness.h"

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_ACCESS_TTL=2", "DESK_SWEEP_INTERVAL_MS=0", NULL};
    return th_start(env);
}

static long me(const char *tok, const char *code)
{
    th_resp_t *r = th_req("GET", "/v1/me", tok, NULL, NULL);
    long s = r->status;
    if (code)
        assert_true(th_is_problem(r, s, code));
    th_free(r);
    return s;
}

static void test_expiry_after_use(void **state)
{
    (void)state;
    char *tok = th_login("agent", TH_PASS);
    assert_non_null(tok);
    assert_int_equal(me(tok, NULL), 200);
    assert_int_equal(me(tok, NULL), 200); /* from the cache */
    sleep(3);
    assert_int_equal(me(tok, "token_expired"), 401);
    free(tok);
}

static void test_tampered_signature(void **state)
{
    (void)state;
    char *tok = th_login("agent", TH_PASS);
    assert_non_null(tok);
    assert_int_equal(me(tok, NULL), 200);
    size_t n = strlen(tok);
    tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(me(tok, "invalid_token"), 401);
    free(tok);
}

static void patch_user(const char *admin, const char *user, const char *body)
{
    const char *p[] = {user};
    const char *id = th_sql1("SELECT id FROM users WHERE username = $1", p, 1);
    assert_non_null(id);
    char path[128];
    snprintf(path, sizeof path, "/v1/users/%s", id);
    th_resp_t *g = th_req("GET", path, admin, NULL, NULL);
    assert_int_equal(g->status, 200);
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", th_header(g, "ETag"));
    th_free(g);
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req("PATCH", path, admin, body, h);
    assert_int_equal(r->status, 200);
    th_free(r);
}

static void test_revocation_after_use(void **state)
{
    (void)state;
    char *admin = th_login("admin", TH_PASS);
    char *tok = th_login("supervisor", TH_PASS);
    assert_non_null(admin);
    assert_non_null(tok);
    assert_int_equal(me(tok, NULL), 200);
    assert_int_equal(me(tok, NULL), 200);
    patch_user(admin, "supervisor", "{\"password\":\"another-pass-2026\"}");
    assert_int_equal(me(tok, "token_revoked"), 401);
    free(tok);
    free(admin);
    admin = th_login("admin", TH_PASS); /* the admin's own token may have expired meanwhile */
    tok = th_login("technician", TH_PASS);
    assert_non_null(tok);
    assert_int_equal(me(tok, NULL), 200);
    patch_user(admin, "technician", "{\"active\":false}");
    assert_int_equal(me(tok, "token_revoked"), 401);
    free(tok);
    free(admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expiry_after_use),
        cmocka_unit_test(test_tampered_signature),
        cmocka_unit_test(test_revocation_after_use),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
