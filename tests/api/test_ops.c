/*
 * tests/api/test_ops.c — operations: health and readiness, metrics, request ids,
 * unknown routes, the database going away and coming back (503 + Retry-After, then
 * recovery without a restart), schema version refusal, and graceful shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/harness.h"

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_METRICS_TOKEN=ops-test-metrics-token", NULL};
    return th_start(env);
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

static void test_health_ready_metrics(void **state)
{
    (void)state;
    th_resp_t *r = th_req("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    r = th_req("GET", "/readyz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"schema_version\""));
    th_free(r);
    r = th_req("GET", "/v1/me", th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    r = th_req("GET", "/metrics", "ops-test-metrics-token", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(
        r->body, "deskd_http_requests_total{route=\"/v1/me\",method=\"GET\",status=\"200\"}"));
    assert_non_null(strstr(r->body, "deskd_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert_non_null(strstr(r->body, "deskd_db_pool_connections{state=\"idle\"}"));
    th_free(r);
}

static void test_request_id_and_unknown_routes(void **state)
{
    (void)state;
    const char *h[] = {"X-Request-Id: trace-abc-123", NULL};
    th_resp_t *r = th_req("GET", "/healthz", NULL, NULL, h);
    assert_string_equal(th_header(r, "X-Request-Id"), "trace-abc-123");
    th_free(r);
    r = th_req("GET", "/healthz", NULL, NULL, NULL);
    assert_true(strlen(th_header(r, "X-Request-Id")) == 32);
    th_free(r);
    r = th_req("GET", "/v1/nothing-here", NULL, NULL, NULL);
    assert_true(th_is_problem(r, 404, "no_such_endpoint"));
    assert_string_equal(th_str(r, "request_id"), th_header(r, "X-Request-Id"));
    th_free(r);
    r = th_req("DELETE", "/v1/units", th_token("admin"), NULL, NULL);
    assert_true(th_is_problem(r, 405, "method_not_allowed"));
    assert_non_null(strstr(th_header(r, "Allow"), "GET"));
    th_free(r);
    r = th_req("GET", "/v1/units/not-a-uuid", th_token("admin"), NULL, NULL);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
}

/* Closes (or reopens) the test database to new connections and cuts the server's. */
static void db_allow(int allow)
{
    char sql[256], url[512];
    const char *db = strstr(th_dburl(), "dbname=") + 7;
    snprintf(url, sizeof url, "%.*sdbname=postgres", (int)(db - 7 - th_dburl()), th_dburl());
    PGconn *admin = PQconnectdb(url);
    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS %s", db,
             allow ? "true" : "false");
    PGresult *x = PQexec(admin, sql);
    if (PQresultStatus(x) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(x));
    PQclear(x);
    if (!allow) {
        /* Every connection but the test's own assertion connection. */
        snprintf(sql, sizeof sql,
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
                 "AND pid <> %d",
                 db, PQbackendPID(th_db()));
        x = PQexec(admin, sql);
        PQclear(x);
    }
    PQfinish(admin);
}

static void test_database_down_then_back(void **state)
{
    (void)state;
    const char *tok = th_token("agent");
    db_allow(0);
    th_resp_t *r = th_req("GET", "/v1/me", tok, NULL, NULL);
    assert_true(th_is_problem(r, 503, "database_unavailable"));
    assert_non_null(th_header(r, "Retry-After"));
    th_free(r);
    r = th_req("GET", "/readyz", NULL, NULL, NULL);
    assert_int_equal(r->status, 503);
    th_free(r);
    r = th_req("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200); /* the process itself is fine */
    th_free(r);
    db_allow(1);
    r = th_req("GET", "/v1/me", tok, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
}

static void test_refuses_newer_schema(void **state)
{
    (void)state;
    PGresult *x = PQexec(th_db(), "INSERT INTO schema_version (version) VALUES (9999)");
    assert_int_equal(PQresultStatus(x), PGRES_COMMAND_OK);
    PQclear(x);
    /* A second server against the same database must refuse to start. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "DATABASE_URL='%s' DESK_JWT_SECRET=0123456789abcdef0123456789abcdef "
             "DESK_LOG_LEVEL=error %s --no-serve 2>/dev/null",
             th_dburl(), getenv("DESKD_BIN"));
    int rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(cmd, sizeof cmd,
             "DATABASE_URL='%s' DESK_JWT_SECRET=0123456789abcdef0123456789abcdef "
             "DESK_LOG_LEVEL=error %s --migrate --no-serve 2>/dev/null",
             th_dburl(), getenv("DESKD_BIN"));
    rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) != 0);
    th_resp_t *r = th_req("GET", "/readyz", NULL, NULL, NULL);
    assert_true(th_is_problem(r, 503, "schema_mismatch"));
    th_free(r);
    x = PQexec(th_db(), "DELETE FROM schema_version WHERE version = 9999");
    PQclear(x);
    r = th_req("GET", "/readyz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
}

static int run_deskd(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "DATABASE_URL='%s' DESK_JWT_SECRET=0123456789abcdef0123456789abcdef %s %s "
             ">/dev/null 2>&1",
             th_dburl(), getenv("DESKD_BIN"), args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_configuration_flags(void **state)
{
    (void)state;
    assert_int_equal(run_deskd("--help"), 0);
    assert_int_equal(run_deskd("--no-such-flag"), 2);
    assert_int_equal(run_deskd("--threads abc"), 2);
    assert_int_equal(run_deskd("--jwt-alg none"), 2);
    assert_int_equal(run_deskd("--tls-cert /nonexistent.pem"), 2);
    /* A short secret is refused. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "DATABASE_URL=x DESK_JWT_SECRET=short %s --no-serve >/dev/null 2>&1",
             getenv("DESKD_BIN"));
    int rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
    /* Flags override the environment: --print-routes works with a valid set. */
    assert_int_equal(run_deskd("--print-routes --pool-size 3"), 0);
}

static void test_graceful_restart(void **state)
{
    (void)state;
    /* SIGTERM: the server exits 0 (checked by the harness) and a new one serves the data. */
    assert_int_equal(th_restart(NULL), 0);
    th_resp_t *r = th_req("GET", "/v1/me", th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_ready_metrics),
        cmocka_unit_test(test_request_id_and_unknown_routes),
        cmocka_unit_test(test_database_down_then_back),
        cmocka_unit_test(test_refuses_newer_schema),
        cmocka_unit_test(test_configuration_flags),
        cmocka_unit_test(test_graceful_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
