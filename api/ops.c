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

static struct series {
    const char *route; /* pattern strings live as long as the process */
    char method[8];
    int status;
    long long count;
} series[MAX_SERIES];
static int nseries;
static long long hist[NB + 1];
static double hist_sum;
static long long hist_count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void metrics_observe(const char *route, const char *method, int status, double seconds)
{
    pthread_mutex_lock(&mu);
    int i;
    for (i = 0; i < nseries; i++)
        if (series[i].status == status && series[i].route == route &&
            !strcmp(series[i].method, method))
            break;
    if (i == nseries && nseries < MAX_SERIES) {
        series[i].route = route;
        snprintf(series[i].method, sizeof series[i].method, "%s", method);
        series[i].status = status;
        nseries++;
    }
    if (i < nseries)
        series[i].count++;
    int b = 0;
    while (b < NB && seconds > buckets[b])
        b++;
    hist[b]++;
    hist_sum += seconds;
    hist_count++;
    pthread_mutex_unlock(&mu);
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
    pthread_mutex_lock(&mu);
    o += (size_t)snprintf(out + o, cap - o,
                          "# HELP deskd_http_requests_total HTTP requests by route, method and "
                          "status.\n# TYPE deskd_http_requests_total counter\n");
    for (int i = 0; i < nseries; i++)
        o += (size_t)snprintf(out + o, cap - o,
                              "deskd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
                              "%lld\n",
                              series[i].route, series[i].method, series[i].status, series[i].count);
    o += (size_t)snprintf(out + o, cap - o,
                          "# HELP deskd_http_request_duration_seconds Request latency.\n"
                          "# TYPE deskd_http_request_duration_seconds histogram\n");
    long long cum = 0;
    for (int b = 0; b < NB; b++) {
        cum += hist[b];
        o += (size_t)snprintf(out + o, cap - o,
                              "deskd_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n",
                              buckets[b], cum);
    }
    cum += hist[NB];
    o += (size_t)snprintf(out + o, cap - o,
                          "deskd_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n"
                          "deskd_http_request_duration_seconds_sum %.6f\n"
                          "deskd_http_request_duration_seconds_count %lld\n",
                          cum, hist_sum, hist_count);
    pthread_mutex_unlock(&mu);
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
