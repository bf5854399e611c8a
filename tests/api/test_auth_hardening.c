/*
 * tests/api/test_auth_hardening.c — issue 7 items 5, 8 and 9: login failures that do not
 * tell real users from unknown names, throttles keyed by address and user (X-Forwarded-For
 * believed only from trusted proxies), sessions that end with a password change or a
 * deactivation, the janitor, and ID-number hashes under their own, rotatable key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#include "tests/lib/harness.h"

#define PII_K1 "test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz" /* the harness's */
#define PII_K2 "second-pii-key-after-rotation-0123456789-abcdefghij"
#define JWT_S2 "another-jwt-secret-0123456789-abcdefghijklmnopqrstu"

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

/* Login with an optional X-Forwarded-For. */
static th_resp_t *login_from(const char *user, const char *pw, const char *xff)
{
    char body[256], h[128];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    snprintf(h, sizeof h, "X-Forwarded-For: %s", xff ? xff : "");
    const char *hdrs[] = {h, NULL};
    return th_req("POST", "/v1/auth/login", NULL, body, xff ? hdrs : NULL);
}

/* The problem body without its per-request id. */
static char *body_sans_id(const th_resp_t *r)
{
    cJSON *j = cJSON_Duplicate(r->json, 1);
    assert_non_null(j);
    cJSON_DeleteItemFromObject(j, "request_id");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* A fresh login (tokens cached by the harness do not survive a secret change). */
static char *token_of(const char *user, const char *pw)
{
    char *t = th_login(user, pw);
    assert_non_null(t);
    return t;
}

static void test_uniform_failures(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        th_resp_t *known = login_from("clerk", "wrong-password", NULL);
        th_resp_t *ghost = login_from("no-such-user", "wrong-password", NULL);
        assert_true(th_is_problem(known, 401, "invalid_credentials"));
        assert_int_equal(ghost->status, known->status);
        char *a = body_sans_id(known), *b = body_sans_id(ghost);
        assert_string_equal(a, b);
        free(a);
        free(b);
        assert_string_equal(th_header(known, "WWW-Authenticate"), "Bearer");
        assert_string_equal(th_header(ghost, "WWW-Authenticate"), "Bearer");
        th_free(known);
        th_free(ghost);
    }
    /* Both names are now throttled alike: nothing tells which one exists. */
    th_resp_t *known = login_from("clerk", TH_PASS, NULL);
    th_resp_t *ghost = login_from("no-such-user", TH_PASS, NULL);
    assert_true(th_is_problem(known, 429, "login_throttled"));
    assert_true(th_is_problem(ghost, 429, "login_throttled"));
    assert_non_null(th_header(known, "Retry-After"));
    assert_non_null(th_header(ghost, "Retry-After"));
    assert_string_equal(th_str(known, "title"), th_str(ghost, "title"));
    th_free(known);
    th_free(ghost);
}

static void test_trusted_proxy_keeps_owner_in(void **state)
{
    (void)state;
    const char *env[] = {"DESK_TRUSTED_PROXIES=10.9.0.0/16, 127.0.0.1", NULL};
    assert_int_equal(th_restart(env), 0);
    /* A guesser at 203.0.113.7 (behind the proxy) fails five times... */
    for (int i = 0; i < 5; i++) {
        th_resp_t *r = login_from("technician", "guess-guess", "203.0.113.7");
        assert_true(th_is_problem(r, 401, "invalid_credentials"));
        th_free(r);
    }
    th_resp_t *r = login_from("technician", TH_PASS, "203.0.113.7");
    assert_true(th_is_problem(r, 429, "login_throttled"));
    th_free(r);
    /* ...and the owner at another address still gets in, also through a chain of trusted
     * proxies (the right-most untrusted hop is the client; the left part is ignored). */
    r = login_from("technician", TH_PASS, "203.0.113.7, 198.51.100.9, 10.9.3.4");
    assert_int_equal(r->status, 200);
    th_free(r);
    r = login_from("technician", TH_PASS, "198.51.100.9");
    assert_int_equal(r->status, 200);
    th_free(r);
    assert_int_equal(th_restart(NULL), 0);
}

static void test_untrusted_forwarded_for_ignored(void **state)
{
    (void)state;
    /* No trusted proxies: a client that changes X-Forwarded-For on every try is still one
     * address, and an unknown name is throttled like a real one. */
    char xff[64];
    for (int i = 0; i < 5; i++) {
        snprintf(xff, sizeof xff, "192.0.2.%d", i + 1);
        th_resp_t *r = login_from("ghost.user", "guess-guess", xff);
        assert_true(th_is_problem(r, 401, "invalid_credentials"));
        th_free(r);
    }
    th_resp_t *r = login_from("ghost.user", "guess-guess", "192.0.2.200");
    assert_true(th_is_problem(r, 429, "login_throttled"));
    th_free(r);
}

/* Creates a user and logs in; fills id, access and refresh. */
static void new_user(const char *name, char id[40], char **access, char **refresh)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"display_name\":\"x\",\"role\":\"director\","
             "\"password\":\"first-pass-1\"}",
             name);
    char *admin = token_of("admin", TH_PASS);
    th_resp_t *r = th_req("POST", "/v1/users", admin, body, NULL);
    assert_int_equal(r->status, 201);
    snprintf(id, 40, "%s", th_str(r, "id"));
    th_free(r);
    free(admin);
    r = login_from(name, "first-pass-1", NULL);
    assert_int_equal(r->status, 200);
    *access = strdup(th_str(r, "access_token"));
    *refresh = strdup(th_str(r, "refresh_token"));
    th_free(r);
}

static void patch_user(const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/users/%s", id);
    char *admin = token_of("admin", TH_PASS);
    th_resp_t *g = th_req("GET", path, admin, NULL, NULL);
    assert_int_equal(g->status, 200);
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", th_header(g, "ETag"));
    th_free(g);
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req("PATCH", path, admin, body, h);
    assert_int_equal(r->status, 200);
    th_free(r);
    free(admin);
}

static long refresh_status(const char *refresh)
{
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    th_resp_t *r = th_req("POST", "/v1/auth/refresh", NULL, body, NULL);
    long s = r->status;
    th_free(r);
    return s;
}

static long me_status(const char *access)
{
    th_resp_t *r = th_req("GET", "/v1/me", access, NULL, NULL);
    long s = r->status;
    th_free(r);
    return s;
}

static void test_password_change_ends_sessions(void **state)
{
    (void)state;
    char id[40], *access, *refresh;
    new_user("pw.change", id, &access, &refresh);
    assert_int_equal(me_status(access), 200);
    patch_user(id, "{\"password\":\"second-pass-2\"}");
    assert_int_equal(refresh_status(refresh), 401);
    assert_int_equal(me_status(access), 401);
    const char *p[] = {id};
    assert_string_equal(
        th_sql1("SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL", p,
                1),
        "0");
    /* The new password works and its tokens do. */
    th_resp_t *r = login_from("pw.change", "second-pass-2", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(me_status(th_str(r, "access_token")), 200);
    assert_int_equal(refresh_status(th_str(r, "refresh_token")), 200);
    th_free(r);
    free(access);
    free(refresh);
}

static void test_deactivation_ends_sessions(void **state)
{
    (void)state;
    char id[40], *access, *refresh;
    new_user("to.disable", id, &access, &refresh);
    patch_user(id, "{\"active\":false}");
    assert_int_equal(me_status(access), 401);
    assert_int_equal(refresh_status(refresh), 401);
    th_resp_t *r = login_from("to.disable", "first-pass-1", NULL);
    assert_true(th_is_problem(r, 401, "invalid_credentials"));
    th_free(r);
    /* Activated again: the old session stays dead, a new login works. */
    patch_user(id, "{\"active\":true}");
    assert_int_equal(refresh_status(refresh), 401);
    assert_int_equal(me_status(access), 401);
    r = login_from("to.disable", "first-pass-1", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(me_status(th_str(r, "access_token")), 200);
    th_free(r);
    free(access);
    free(refresh);
}

static const char *count_of(const char *sql)
{
    return th_sql1(sql, NULL, 0);
}

static void test_janitor_purges_with_sweeper_off(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", "DESK_JANITOR_INTERVAL=1", NULL};
    assert_int_equal(th_restart(env), 0);
    PGresult *x = PQexec(
        th_db(),
        "INSERT INTO refresh_tokens (org_id, user_id, family_id, token_hash, expires_at) "
        "SELECT org_id, id, gen_random_uuid(), 'janitor-old-' || id, now() - interval '1 hour' "
        "FROM users WHERE username = 'agent';"
        "INSERT INTO refresh_tokens (org_id, user_id, family_id, token_hash, expires_at) "
        "SELECT org_id, id, gen_random_uuid(), 'janitor-live-' || id, now() + interval '1 day' "
        "FROM users WHERE username = 'agent';"
        "INSERT INTO idempotency_keys (org_id, user_id, key, body_hash, status, response, "
        "created_at) SELECT org_id, id, 'janitor-old', 'x', 201, '{}', now() - interval '3 days' "
        "FROM users WHERE username = 'agent';"
        "INSERT INTO idempotency_keys (org_id, user_id, key, body_hash, status, response) "
        "SELECT org_id, id, 'janitor-new', 'x', 201, '{}' FROM users WHERE username = 'agent'");
    assert_int_equal(PQresultStatus(x), PGRES_COMMAND_OK);
    PQclear(x);
    int purged = 0;
    for (int i = 0; i < 150 && !purged; i++) { /* generous: the janitor runs every second */
        usleep(100000);
        purged = !strcmp(count_of("SELECT count(*) FROM refresh_tokens WHERE token_hash LIKE "
                                  "'janitor-old-%'"),
                         "0") &&
                 !strcmp(count_of("SELECT count(*) FROM idempotency_keys WHERE key = "
                                  "'janitor-old'"),
                         "0");
    }
    assert_true(purged);
    assert_string_equal(
        count_of("SELECT count(*) FROM refresh_tokens WHERE token_hash LIKE 'janitor-live-%'"),
        "1");
    assert_string_equal(count_of("SELECT count(*) FROM idempotency_keys WHERE key = 'janitor-new'"),
                        "1");
    assert_int_equal(th_restart(NULL), 0);
}

/* Creates a resident with the ID number; returns its stored hash (malloc'd). */
static char *resident_hash(const char *token, const char *id_number, char rid[40])
{
    char project[40], body[256];
    assert_int_equal(th_grab(project, "SELECT p.id FROM projects p JOIN organisations o ON "
                                      "o.id = p.org_id WHERE o.code = 'demo' ORDER BY p.code "
                                      "LIMIT 1"),
                     0);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"name\":\"李四\",\"id_number\":\"%s\"}",
             project, id_number);
    th_resp_t *r = th_req("POST", "/v1/residents", token, body, NULL);
    assert_int_equal(r->status, 201);
    snprintf(rid, 40, "%s", th_str(r, "id"));
    th_free(r);
    const char *p[] = {rid};
    const char *h = th_sql1("SELECT id_number_hash FROM residents WHERE id = $1", p, 1);
    assert_non_null(h);
    assert_null(strstr(h, id_number));
    return strdup(h);
}

static void test_pii_hash_survives_jwt_secret_change(void **state)
{
    (void)state;
    char rid[40];
    char *agent = token_of("agent", TH_PASS);
    char *h1 = resident_hash(agent, "110101199003074514", rid);
    free(agent);
    const char *env[] = {"DESK_JWT_SECRET=" JWT_S2, NULL};
    assert_int_equal(th_restart(env), 0);
    agent = token_of("agent", TH_PASS);
    char *h2 = resident_hash(agent, "110101199003074514", rid);
    assert_string_equal(h1, h2);
    free(agent);
    free(h1);
    free(h2);
    assert_int_equal(th_restart(NULL), 0);
}

static int run_deskd(const char *env, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "DATABASE_URL='%s' DESK_JWT_SECRET=0123456789abcdef0123456789abcdef "
             "DESK_LOG_LEVEL=error DESK_LISTEN=127.0.0.1:%d %s timeout 30 %s %s >/dev/null 2>&1",
             th_dburl(), th_port() + 1, env, getenv("DESKD_BIN"), args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_pii_key_rotation(void **state)
{
    (void)state;
    char rid[40], rid2[40];
    char *agent = token_of("agent", TH_PASS);
    char *old = resident_hash(agent, "440305198001010011", rid);
    free(agent);
    /* Without both keys the rotation refuses and changes nothing. */
    assert_int_equal(run_deskd("DESK_PII_KEY=" PII_K2, "--rehash-pii"), 1);
    const char *p[] = {rid};
    assert_string_equal(th_sql1("SELECT id_number_hash FROM residents WHERE id = $1", p, 1), old);
    /* K1 -> K2. */
    assert_int_equal(
        run_deskd("DESK_PII_KEY=" PII_K2 " DESK_PII_KEY_PREVIOUS=" PII_K1, "--rehash-pii"), 0);
    char *moved = strdup(th_sql1("SELECT id_number_hash FROM residents WHERE id = $1", p, 1));
    assert_string_not_equal(moved, old);
    /* A second run finds everything current and changes nothing. */
    assert_int_equal(
        run_deskd("DESK_PII_KEY=" PII_K2 " DESK_PII_KEY_PREVIOUS=" PII_K1, "--rehash-pii"), 0);
    assert_string_equal(th_sql1("SELECT id_number_hash FROM residents WHERE id = $1", p, 1), moved);
    /* A server on K2 hashes the same number to exactly the re-keyed value. */
    const char *env[] = {"DESK_PII_KEY=" PII_K2, NULL};
    assert_int_equal(th_restart(env), 0);
    agent = token_of("agent", TH_PASS);
    char *fresh = resident_hash(agent, "440305198001010011", rid2);
    assert_string_equal(fresh, moved);
    free(agent);
    free(fresh);
    free(moved);
    free(old);
    assert_int_equal(th_restart(NULL), 0);
}

static void test_serving_needs_pii_key(void **state)
{
    (void)state;
    /* --no-serve maintenance works without it; serving does not start. */
    assert_int_equal(run_deskd("DESK_PII_KEY=", "--no-serve"), 0);
    assert_int_equal(run_deskd("DESK_PII_KEY=", ""), 2);
    assert_int_equal(run_deskd("DESK_PII_KEY=too-short", "--no-serve"), 2);
}

/* A login flood cannot take every worker: with one password hash at a time (and a slow hash),
 * a burst of 12 concurrent logins (under the harness's connection cap of 15) gets some 503
 * login_busy with Retry-After, the rest answer normally, and /healthz answers while the burst runs.
 */
#define FLOOD 12
static int flood_status[FLOOD];
static int flood_busy_ok[FLOOD]; /* a 503 that is login_busy with Retry-After */

/* No cmocka assertions here: they may only run on the test's own thread. */
static void *flood_one(void *arg)
{
    int i = (int)(intptr_t)arg;
    th_resp_t *r = th_req_mt("POST", "/v1/auth/login", NULL,
                             "{\"username\":\"agent\",\"password\":\"wrong-password\"}", NULL);
    flood_status[i] = (int)r->status;
    if (r->status == 503) {
        const cJSON *code = r->json ? cJSON_GetObjectItem(r->json, "code") : NULL;
        flood_busy_ok[i] = cJSON_IsString(code) && !strcmp(code->valuestring, "login_busy") &&
                           th_header(r, "Retry-After") != NULL;
    }
    th_free(r);
    return NULL;
}

static void test_login_flood_is_capped(void **state)
{
    (void)state;
    const char *env[] = {"DESK_LOGIN_CONCURRENCY=1", "DESK_PBKDF2_ITER=400000", NULL};
    assert_int_equal(th_restart(env), 0);
    th_resp_t *warm = th_req("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(warm->status, 200);
    th_free(warm);
    pthread_t t[FLOOD];
    for (int i = 0; i < FLOOD; i++)
        assert_int_equal(pthread_create(&t[i], NULL, flood_one, (void *)(intptr_t)i), 0);
    usleep(100000);
    th_resp_t *h = th_req_mt("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(h->status, 200); /* the workers are not all hashing */
    th_free(h);
    for (int i = 0; i < FLOOD; i++)
        pthread_join(t[i], NULL);
    int busy = 0, other = 0;
    for (int i = 0; i < FLOOD; i++) {
        if (flood_status[i] == 503) {
            assert_true(flood_busy_ok[i]);
            busy++;
        } else if (flood_status[i] == 401 || flood_status[i] == 429)
            other++;
        else
            fail_msg("login %d answered %d", i, flood_status[i]);
    }
    assert_true(busy > 0);  /* the cap refused part of the burst at once */
    assert_true(other > 0); /* and still served logins */
    assert_int_equal(th_restart(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_failures),
        cmocka_unit_test(test_trusted_proxy_keeps_owner_in),
        cmocka_unit_test(test_untrusted_forwarded_for_ignored),
        cmocka_unit_test(test_password_change_ends_sessions),
        cmocka_unit_test(test_deactivation_ends_sessions),
        cmocka_unit_test(test_janitor_purges_with_sweeper_off),
        cmocka_unit_test(test_pii_hash_survives_jwt_secret_change),
        cmocka_unit_test(test_pii_key_rotation),
        cmocka_unit_test(test_serving_needs_pii_key),
        cmocka_unit_test(test_login_flood_is_capped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
