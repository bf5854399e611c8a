/*
 * api/ops.c — operations endpoints: /healthz (process alive), /readyz (database reachable
 * and schema version right), /metrics (Prometheus text: requests by route and status,
 * a latency histogram, pool gauges), which answers only to the scrape token
 * DESK_METRICS_TOKEN sent as a bearer token.
 */
#include "api/http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 512
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,   0.25,   0.5,   1,    2.5,   5};
#define NB (int)(sizeof buckets / sizeof buckets[0])

/* Counted without a lock (issue 14: a global mutex taken by every request was a futex wait
 * and wake whenever two requests ended together): a series, once published (nseries, with
 * release), never changes but for its count; the mutex only serialises adding one. */
static struct series {
    const char *route; /* pattern strings live as long as the process */
    char method[8];
    int status;
    long long count;
} series[MAX_SERIES];
static int nseries;
static long long hist[NB + 1];
static long long hist_sum_ns;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int series_find(int from, int to, const char *route, const char *method, int status)
{
    for (int i = from; i < to; i++)
        if (series[i].status == status && series[i].route == route &&
            !strcmp(series[i].method, method))
            return i;
    return -1;
}

void metrics_observe(const char *route, const char *method, int status, double seconds)
{
    int n = __atomic_load_n(&nseries, __ATOMIC_ACQUIRE);
    int i = series_find(0, n, route, method, status);
    if (i < 0) {
        pthread_mutex_lock(&mu);
        int m = __atomic_load_n(&nseries, __ATOMIC_RELAXED);
        i = series_find(n, m, route, method, status);
        if (i < 0 && m < MAX_SERIES) {
            i = m;
            series[i].route = route;
            snprintf(series[i].method, sizeof series[i].method, "%s", method);
            series[i].status = status;
            __atomic_store_n(&nseries, m + 1, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&mu);
    }
    if (i >= 0)
        __atomic_add_fetch(&series[i].count, 1, __ATOMIC_RELAXED);
    int b = 0;
    while (b < NB && seconds > buckets[b])
        b++;
    __atomic_add_fetch(&hist[b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&hist_sum_ns, (long long)(seconds * 1e9), __ATOMIC_RELAXED);
}

static void healthz(req_t *r)
{
    http_send_json(r, 200, "{\"status\":\"ok\"}", NULL);
}

static void readyz(req_t *r)
{
    db_conn_t *c = db_acquire();
    if (!c) {
        http_problem(r, 503, "database_unavailable", "the database is unreachable");
        return;
    }
    r->db = c;
    int v = db_schema_current_version(c);
    int want = db_schema_compiled_version();
    if (v != want) {
        http_problem(r, 503, "schema_mismatch",
                     "database schema version %d, server expects %d; run deskd --migrate", v, want);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", "ready");
    cJSON_AddNumberToObject(j, "schema_version", v);
    http_send_cjson(r, 200, j, NULL);
    cJSON_Delete(j);
}

static char *metrics_token; /* DESK_METRICS_TOKEN; NULL: /metrics is switched off */

/* 0 when the request carries "Authorization: Bearer <DESK_METRICS_TOKEN>", else sends
 * the problem and returns -1.  The comparison takes the same time for every wrong token
 * of the right length. */
static int metrics_authorized(req_t *r)
{
    const http_secret_t m = {
        .secret = metrics_token,
        .len = metrics_token ? strlen(metrics_token) : 0,
        .missing_detail = "send Authorization: Bearer <DESK_METRICS_TOKEN> to read the metrics",
        .disabled_code = "metrics_disabled",
        .disabled_detail = "/metrics is off: start deskd with DESK_METRICS_TOKEN set and send it "
                           "as a bearer token",
        .invalid_detail = "this is not the metrics token (DESK_METRICS_TOKEN)"};
    return http_bearer_secret(r, &m);
}

static void metrics(req_t *r)
{
    if (metrics_authorized(r) != 0)
        return;
    size_t cap = 8192 + (size_t)MAX_SERIES * 200, o = 0;
    char *out = malloc(cap);
    if (!out) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return;
    }
    int n = __atomic_load_n(&nseries, __ATOMIC_ACQUIRE);
    o += (size_t)snprintf(out + o, cap - o,
                          "# HELP deskd_http_requests_total HTTP requests by route, method and "
                          "status.\n# TYPE deskd_http_requests_total counter\n");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, cap - o,
                              "deskd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
                              "%lld\n",
                              series[i].route, series[i].method, series[i].status,
                              __atomic_load_n(&series[i].count, __ATOMIC_RELAXED));
    o += (size_t)snprintf(out + o, cap - o,
                          "# HELP deskd_http_request_duration_seconds Request latency.\n"
                          "# TYPE deskd_http_request_duration_seconds histogram\n");
    long long cum = 0;
    for (int b = 0; b < NB; b++) {
        cum += __atomic_load_n(&hist[b], __ATOMIC_RELAXED);
        o += (size_t)snprintf(out + o, cap - o,
                              "deskd_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n",
                              buckets[b], cum);
    }
    cum += __atomic_load_n(&hist[NB], __ATOMIC_RELAXED);
    o += (size_t)snprintf(out + o, cap - o,
                          "deskd_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n"
                          "deskd_http_request_duration_seconds_sum %.6f\n"
                          "deskd_http_request_duration_seconds_count %lld\n",
                          cum, (double)__atomic_load_n(&hist_sum_ns, __ATOMIC_RELAXED) / 1e9, cum);
    db_pool_stats_t ps;
    db_pool_stats(&ps);
    o += (size_t)snprintf(out + o, cap - o,
                          "# HELP deskd_db_pool_connections Database pool connections by state.\n"
                          "# TYPE deskd_db_pool_connections gauge\n"
                          "deskd_db_pool_connections{state=\"in_use\"} %d\n"
                          "deskd_db_pool_connections{state=\"idle\"} %d\n"
                          "deskd_db_pool_connections{state=\"waiting\"} %d\n"
                          "deskd_db_pool_size %d\n"
                          "# TYPE deskd_db_pool_acquire_timeouts_total counter\n"
                          "deskd_db_pool_acquire_timeouts_total %lld\n"
                          "# TYPE deskd_db_reconnects_total counter\n"
                          "deskd_db_reconnects_total %lld\n",
                          ps.in_use, ps.idle, ps.waiting, ps.size, ps.acquire_timeouts,
                          ps.reconnects);
    long long reads[DB_READ_TARGETS];
    db_pool_stats_t rs;
    int has_read = db_read_pool_stats(&rs, reads) == 0;
    o += (size_t)snprintf(out + o, cap - o,
                          "# HELP deskd_db_reads_total Reads that may go to the read replica "
                          "(DATABASE_READ_URL), by where they went.\n"
                          "# TYPE deskd_db_reads_total counter\n"
                          "deskd_db_reads_total{target=\"replica\"} %lld\n"
                          "deskd_db_reads_total{target=\"primary_replica_behind\"} %lld\n"
                          "deskd_db_reads_total{target=\"primary_replica_unreachable\"} %lld\n",
                          reads[DB_READ_REPLICA], reads[DB_READ_PRIMARY_BEHIND],
                          reads[DB_READ_PRIMARY_FALLBACK]);
    if (has_read)
        o += (size_t)snprintf(out + o, cap - o,
                              "# TYPE deskd_db_read_pool_connections gauge\n"
                              "deskd_db_read_pool_connections{state=\"in_use\"} %d\n"
                              "deskd_db_read_pool_connections{state=\"idle\"} %d\n"
                              "deskd_db_read_pool_size %d\n",
                              rs.in_use, rs.idle, rs.size);
    http_send_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", out);
    free(out);
}

void api_ops_register(void)
{
    const char *tok = getenv("DESK_METRICS_TOKEN");
    free(metrics_token);
    metrics_token = tok && tok[0] ? strdup(tok) : NULL;
    http_route("GET", "/healthz", healthz, ROUTE_PUBLIC | ROUTE_NOLOG, NULL);
    http_route("GET", "/readyz", readyz, ROUTE_PUBLIC | ROUTE_NOLOG, NULL);
    http_route("GET", "/metrics", metrics, ROUTE_PUBLIC | ROUTE_NOLOG, NULL);
}
