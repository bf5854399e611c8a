/*
 * tests/api/test_auth.c — login, throttling, refresh rotation, logout and every way a
 * token can be wrong, against the real server and PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/harness.h"

#define SECRET "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

static void test_login_success(void **state)
{
    (void)state;
    th_resp_t *r = th_login_resp("agent", TH_PASS);
    assert_int_equal(r->status, 200);
    assert_true(strlen(th_str(r, "access_token")) > 50);
    assert_true(strlen(th_str(r, "refresh_token")) >= 40);
    assert_string_equal(th_str(r, "token_type"), "Bearer");
    assert_string_equal(th_str(r, "role"), "agent");
    th_resp_t *me = th_req("GET", "/v1/me", th_str(r, "access_token"), NULL, NULL);
    assert_int_equal(me->status, 200);
    assert_string_equal(th_str(me, "username"), "agent");
    assert_null(strstr(me->body, "password"));
    th_free(me);
    th_free(r);
    /* Case-insensitive usernames; the stored hash is PBKDF2, never the password. */
    r = th_login_resp("AGENT", TH_PASS);
    assert_int_equal(r->status, 200);
    th_free(r);
    const char *h = th_sql1("SELECT password_hash FROM users WHERE username = 'agent'", NULL, 0);
    assert_non_null(h);
    assert_memory_equal(h, "pbkdf2-sha256$", 14);
    assert_null(strstr(h, TH_PASS));
}

static void test_login_failure(void **state)
{
    (void)state;
    th_resp_t *r = th_login_resp("agent", "wrong-password");
    assert_true(th_is_problem(r, 401, "invalid_credentials"));
    th_free(r);
    r = th_login_resp("nobody-here", TH_PASS);
    assert_true(th_is_problem(r, 401, "invalid_credentials"));
    th_free(r);
    r = th_req("POST", "/v1/auth/login", NULL, "{\"username\":\"agent\"}", NULL);
    assert_true(th_is_problem(r, 422, "missing_field"));
    th_free(r);
    r = th_req("POST", "/v1/auth/login", NULL, "{\"username\":5,\"password\":\"x\"}", NULL);
    assert_true(th_is_problem(r, 422, "invalid_field"));
    th_free(r);
    r = th_req("POST", "/v1/auth/login", NULL, "{\"username\":", NULL);
    assert_true(th_is_problem(r, 400, "malformed_json"));
    th_free(r);
}

static void test_login_throttled(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        th_resp_t *r = th_login_resp("clerk", "not-the-password");
        assert_int_equal(r->status, 401);
        th_free(r);
    }
    /* Locked now: even the right password is refused until the lock passes. */
    th_resp_t *r = th_login_resp("clerk", TH_PASS);
    assert_true(th_is_problem(r, 429, "login_throttled"));
    assert_non_null(th_header(r, "Retry-After"));
    assert_true(atoi(th_header(r, "Retry-After")) > 0);
    th_free(r);
    assert_string_equal(th_sql1("SELECT failed_logins FROM users WHERE username='clerk'", NULL, 0),
                        "5");
    /* Other users are unaffected. */
    r = th_login_resp("auditor", TH_PASS);
    assert_int_equal(r->status, 200);
    th_free(r);
}

static char *refresh_of(th_resp_t *r)
{
    return strdup(th_str(r, "refresh_token"));
}

static th_resp_t *refresh(const char *tok)
{
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", tok);
    return th_req("POST", "/v1/auth/refresh", NULL, body, NULL);
}

static void test_refresh_rotation(void **state)
{
    (void)state;
    th_resp_t *l = th_login_resp("supervisor", TH_PASS);
    assert_int_equal(l->status, 200);
    char *first = refresh_of(l);
    th_free(l);

    th_resp_t *r1 = refresh(first);
    assert_int_equal(r1->status, 200);
    char *second = refresh_of(r1);
    assert_string_not_equal(first, second);
    th_resp_t *me = th_req("GET", "/v1/me", th_str(r1, "access_token"), NULL, NULL);
    assert_int_equal(me->status, 200);
    th_free(me);
    th_free(r1);

    /* The old token is refused after use... */
    th_resp_t *again = refresh(first);
    assert_true(th_is_problem(again, 401, "invalid_refresh_token"));
    th_free(again);
    /* ...and its replay revoked the whole family, including the rotated token. */
    th_resp_t *fam = refresh(second);
    assert_true(th_is_problem(fam, 401, "invalid_refresh_token"));
    th_free(fam);
    /* Only hashes are stored. */
    const char *p[] = {first};
    assert_string_equal(th_sql1("SELECT count(*) FROM refresh_tokens WHERE token_hash = $1", p, 1),
                        "0");
    free(first);
    free(second);
}

static void test_logout(void **state)
{
    (void)state;
    th_resp_t *l = th_login_resp("manager", TH_PASS);
    char *tok = refresh_of(l);
    th_free(l);
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", tok);
    th_resp_t *o = th_req("POST", "/v1/auth/logout", NULL, body, NULL);
    assert_int_equal(o->status, 204);
    th_free(o);
    th_resp_t *r = refresh(tok);
    assert_true(th_is_problem(r, 401, "invalid_refresh_token"));
    th_free(r);
    free(tok);
}

/* Mints a token with libjwt.  alg NONE produces an unsigned token. */
static char *mint(jwt_alg_t alg, const char *key, const char *iss, const char *aud, long exp_delta,
                  const char *role)
{
    const char *org = th_sql1("SELECT org_id FROM users WHERE username='agent'", NULL, 0);
    char orgbuf[40];
    snprintf(orgbuf, sizeof orgbuf, "%s", org);
    const char *sub = th_sql1("SELECT id FROM users WHERE username='agent'", NULL, 0);
    char subbuf[40];
    snprintf(subbuf, sizeof subbuf, "%s", sub);
    jwt_t *j;
    jwt_new(&j);
    long now = (long)time(NULL);
    jwt_add_grant(j, "iss", iss);
    jwt_add_grant(j, "aud", aud);
    jwt_add_grant(j, "sub", subbuf);
    jwt_add_grant(j, "org", orgbuf);
    jwt_add_grant(j, "role", role);
    jwt_add_grant_int(j, "iat", now);
    jwt_add_grant_int(j, "exp", now + exp_delta);
    jwt_set_alg(j, alg, alg == JWT_ALG_NONE ? NULL : (const unsigned char *)key,
                alg == JWT_ALG_NONE ? 0 : (int)strlen(key));
    char *t = jwt_encode_str(j);
    jwt_free(j);
    return t;
}

static void expect_401(char *tok, const char *code)
{
    th_resp_t *r = th_req("GET", "/v1/me", tok, NULL, NULL);
    assert_true(th_is_problem(r, 401, code));
    assert_non_null(th_header(r, "WWW-Authenticate"));
    th_free(r);
    free(tok);
}

static void test_bad_tokens(void **state)
{
    (void)state;
    /* Control: a token minted exactly like the bad ones but correct is accepted. */
    char *good = mint(JWT_ALG_HS256, SECRET, "deskd", "deskd-api", 300, "agent");
    th_resp_t *r = th_req("GET", "/v1/me", good, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);

    expect_401(mint(JWT_ALG_HS256, SECRET, "deskd", "deskd-api", -10, "agent"), "token_expired");
    expect_401(mint(JWT_ALG_HS256, "another-secret-another-secret-another-secret", "deskd",
                    "deskd-api", 300, "agent"),
               "invalid_token");
    expect_401(mint(JWT_ALG_NONE, NULL, "deskd", "deskd-api", 300, "agent"), "invalid_token");
    expect_401(mint(JWT_ALG_HS512, SECRET, "deskd", "deskd-api", 300, "agent"), "invalid_token");
    expect_401(mint(JWT_ALG_HS256, SECRET, "evil-issuer", "deskd-api", 300, "agent"),
               "invalid_token");
    expect_401(mint(JWT_ALG_HS256, SECRET, "deskd", "other-api", 300, "agent"), "invalid_token");
    expect_401(mint(JWT_ALG_HS256, SECRET, "deskd", "deskd-api", 300, "emperor"), "invalid_token");

    /* Edited claims: swap the payload of a valid token for one claiming admin. */
    char *dot1 = strchr(good, '.'), *dot2 = strchr(dot1 + 1, '.');
    char *admin = mint(JWT_ALG_HS256, "x-other-key-x-other-key-x-other-key", "deskd", "deskd-api",
                       300, "admin");
    char *a1 = strchr(admin, '.'), *a2 = strchr(a1 + 1, '.');
    char forged[8192];
    snprintf(forged, sizeof forged, "%.*s%.*s%s", (int)(dot1 - good), good, (int)(a2 - a1), a1,
             dot2);
    expect_401(strdup(forged), "invalid_token");
    free(admin);
    free(good);

    expect_401(strdup("not-a-jwt"), "invalid_token");
    r = th_req("GET", "/v1/me", NULL, NULL, NULL);
    assert_true(th_is_problem(r, 401, "missing_token"));
    th_free(r);
    const char *h[] = {"Authorization: Basic YWdlbnQ6eA==", NULL};
    r = th_req("GET", "/v1/me", NULL, NULL, h);
    assert_true(th_is_problem(r, 401, "missing_token"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_success),   cmocka_unit_test(test_login_failure),
        cmocka_unit_test(test_login_throttled), cmocka_unit_test(test_refresh_rotation),
        cmocka_unit_test(test_logout),          cmocka_unit_test(test_bad_tokens),
    };
    return cmocka_run_group_tests(tests, th_group_start, th_group_stop);
}
