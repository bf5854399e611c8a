/*
 * tests/api/test_auth_rs256.c — a company's own identity provider: the server verifies
 * RS256 tokens with a configured public key (and signs its own with the private key),
 * and refuses the classic algorithm-confusion attack (an HS256 token "signed" with the
 * public key as HMAC secret) as well as tokens from another key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/harness.h"

static char pub_path[64], priv_path[64], pub_pem[4096], priv_pem[8192], other_priv[8192];

/* Writes a fresh 2048-bit RSA key pair as PEM text. */
static int make_key(char *priv, size_t privlen, char *pub, size_t publen)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    if (!k)
        return -1;
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    int n = BIO_read(b, priv, (int)privlen - 1);
    priv[n > 0 ? n : 0] = 0;
    BIO_free(b);
    if (pub) {
        b = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(b, k);
        n = BIO_read(b, pub, (int)publen - 1);
        pub[n > 0 ? n : 0] = 0;
        BIO_free(b);
    }
    EVP_PKEY_free(k);
    return 0;
}

static int write_file(char *path, const char *tmpl, const char *text)
{
    snprintf(path, 64, "%s", tmpl);
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, text, strlen(text));
    close(fd);
    return w == (ssize_t)strlen(text) ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    if (make_key(priv_pem, sizeof priv_pem, pub_pem, sizeof pub_pem) != 0 ||
        make_key(other_priv, sizeof other_priv, NULL, 0) != 0 ||
        write_file(pub_path, "/tmp/deskd-pub-XXXXXX", pub_pem) != 0 ||
        write_file(priv_path, "/tmp/deskd-priv-XXXXXX", priv_pem) != 0)
        return -1;
    char e1[128], e2[128];
    snprintf(e1, sizeof e1, "DESK_JWT_PUBLIC_KEY_FILE=%s", pub_path);
    snprintf(e2, sizeof e2, "DESK_JWT_PRIVATE_KEY_FILE=%s", priv_path);
    const char *env[] = {"DESK_JWT_ALG=RS256", e1, e2, "DESK_JWT_ISSUER=https://idp.example.cn",
                         NULL};
    return th_start(env);
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    unlink(pub_path);
    unlink(priv_path);
    return 0;
}

static char *mint(jwt_alg_t alg, const char *key, size_t keylen, const char *iss)
{
    char org[40], sub[40];
    snprintf(org, sizeof org, "%s",
             th_sql1("SELECT org_id FROM users WHERE username='agent'", NULL, 0));
    snprintf(sub, sizeof sub, "%s",
             th_sql1("SELECT id FROM users WHERE username='agent'", NULL, 0));
    jwt_t *j;
    jwt_new(&j);
    long now = (long)time(NULL);
    jwt_add_grant(j, "iss", iss);
    jwt_add_grant(j, "aud", "deskd-api");
    jwt_add_grant(j, "sub", sub);
    jwt_add_grant(j, "org", org);
    jwt_add_grant(j, "role", "agent");
    jwt_add_grant_int(j, "iat", now);
    jwt_add_grant_int(j, "exp", now + 300);
    jwt_set_alg(j, alg, (const unsigned char *)key, (int)keylen);
    char *t = jwt_encode_str(j);
    jwt_free(j);
    return t;
}

static long me_status(const char *tok)
{
    th_resp_t *r = th_req("GET", "/v1/me", tok, NULL, NULL);
    long s = r->status;
    th_free(r);
    return s;
}

static void test_login_issues_rs256(void **state)
{
    (void)state;
    char *tok = th_login("agent", TH_PASS);
    assert_non_null(tok);
    /* The header names RS256. */
    assert_memory_equal(tok, "eyJhbGciOiJSUzI1NiIs", 20);
    assert_int_equal(me_status(tok), 200);
    free(tok);
}

static void test_idp_token_accepted(void **state)
{
    (void)state;
    char *t = mint(JWT_ALG_RS256, priv_pem, strlen(priv_pem), "https://idp.example.cn");
    assert_non_null(t);
    assert_int_equal(me_status(t), 200);
    free(t);
}

static void test_wrong_key_and_confusion_refused(void **state)
{
    (void)state;
    char *t = mint(JWT_ALG_RS256, other_priv, strlen(other_priv), "https://idp.example.cn");
    assert_int_equal(me_status(t), 401);
    free(t);
    /* HS256 with the public key as the HMAC secret must not pass. */
    t = mint(JWT_ALG_HS256, pub_pem, strlen(pub_pem), "https://idp.example.cn");
    assert_non_null(t);
    assert_int_equal(me_status(t), 401);
    free(t);
    t = mint(JWT_ALG_RS256, priv_pem, strlen(priv_pem), "https://evil.example.cn");
    assert_int_equal(me_status(t), 401);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_issues_rs256),
        cmocka_unit_test(test_idp_token_accepted),
        cmocka_unit_test(test_wrong_key_and_confusion_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
