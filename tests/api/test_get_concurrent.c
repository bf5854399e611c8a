/*
 * tests/api/test_get_concurrent.c — GET /v1/requests/{id} from many threads at once over
 * a small pool (issue 14 made its hot path lock-free: token cache entries read under a
 * shared lock, /metrics counted with atomics, the pool's liveness check done once per
 * checkout):
 *   - every concurrent GET answers 200 with the same bytes and ETag as a lone GET, and a
 *     GET of an unknown id 404 (no connection or cache entry confused between threads);
 *   - /metrics counts every one of them exactly, new series included (the 404s, first
 *     added by concurrent requests), and its histogram count equals the sum of its series.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

#define THREADS 8
#define EACH    40
#define MTOKEN  "get-concurrent-metrics-token"

static char id[40], token[4096], want[16384], etag[64];
static int bad[THREADS];

static int setup(void **state)
{
    (void)state;
    /* 64 HTTP workers (connection cap 60): each client opens a connection per request, and
     * one it has closed counts until the server's worker has closed it too, so under
     * ASan's slowness 8 clients held more than the harness's cap of 15 and got 503s.  What
     * is tested is the pool of 2 under 8 threads, not the cap. */
    static const char *const env[] = {"DESK_METRICS_TOKEN=" MTOKEN, "DESK_POOL_SIZE=2",
                                      "DESK_THREADS=64", "DESK_SWEEP_INTERVAL_MS=0", NULL};
    return th_start(env);
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

/* The count of one series in /metrics (0 when absent), and the histogram's count. */
static long long series(const char *body, const char *route, const char *status)
{
    char key[256];
    snprintf(key, sizeof key,
             "deskd_http_requests_total{route=\"%s\",method=\"GET\",status=\"%s\"} ", route,
             status);
    const char *p = strstr(body, key);
    return p ? atoll(p + strlen(key)) : 0;
}

static long long hist_count(const char *body)
{
    const char *key = "deskd_http_request_duration_seconds_count ";
    const char *p = strstr(body, key);
    return p ? atoll(p + strlen(key)) : -1;
}

static long long sum_series(const char *body)
{
    long long n = 0;
    const char *key = "deskd_http_requests_total{";
    for (const char *p = strstr(body, key); p; p = strstr(p + 1, key)) {
        const char *sp = strstr(p, "\"} "); /* a route may hold braces: {id} */
        if (sp)
            n += atoll(sp + 3);
    }
    return n;
}

static void *client(void *arg)
{
    int k = (int)(intptr_t)arg;
    char path[200];
    for (int i = 0; i < EACH; i++) {
        snprintf(path, sizeof path, "/v1/requests/%s", id);
        th_resp_t *r = th_req_mt("GET", path, token, NULL, NULL);
        if (r->status != 200 || strcmp(r->body, want) != 0 ||
            strcmp(th_header(r, "ETag") ? th_header(r, "ETag") : "", etag) != 0)
            bad[k]++;
        th_free(r);
        /* an unknown id: 404, a series first added while other threads count theirs */
        snprintf(path, sizeof path, "/v1/requests/00000000-0000-4000-8000-%012d", k * EACH + i);
        r = th_req_mt("GET", path, token, NULL, NULL);
        if (r->status != 404)
            bad[k]++;
        th_free(r);
    }
    return NULL;
}

static void test_concurrent_gets(void **state)
{
    (void)state;
    char unit[40], body[1024];
    assert_int_equal(th_fx_unit("demo", "1-101", unit), 0);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"钱\",\"phone\":\"13600003333\"},\"description\":\"漏水\"}",
             unit);
    th_free(th_create_request_at(__LINE__, "agent", body, id));
    snprintf(token, sizeof token, "%s", th_token("agent"));
    th_resp_t *r = th_get_request("agent", id);
    assert_int_equal(r->status, 200);
    snprintf(want, sizeof want, "%s", r->body);
    assert_non_null(th_header(r, "ETag"));
    snprintf(etag, sizeof etag, "%s", th_header(r, "ETag"));
    th_free(r);

    r = th_req("GET", "/metrics", MTOKEN, NULL, NULL);
    assert_int_equal(r->status, 200);
    long long ok0 = series(r->body, "/v1/requests/{id}", "200");
    long long nf0 = series(r->body, "/v1/requests/{id}", "404");
    th_free(r);

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, client, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(bad[i], 0);

    r = th_req("GET", "/metrics", MTOKEN, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(series(r->body, "/v1/requests/{id}", "200") - ok0, THREADS * EACH);
    assert_int_equal(series(r->body, "/v1/requests/{id}", "404") - nf0, THREADS * EACH);
    /* every request counted once in a series and once in the histogram (the scrape itself
     * is counted after its body is written) */
    assert_int_equal(hist_count(r->body), sum_series(r->body));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_gets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
