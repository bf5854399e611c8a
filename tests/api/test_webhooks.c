/*
 * tests/api/test_webhooks.c — webhooks end to end (RULES §3.12): a real receiver (a small
 * HTTP server on loopback inside this test) that fails, times out and recovers; deskd
 * delivers every event at least once, in order per request, signed; the receiver
 * de-duplicates by event id so each event has exactly one effect.  Also: two servers on one
 * database never send the same attempt, a restart loses nothing, 410 disables the
 * subscription, the attempt log and redelivery, and organisation scope and secrecy.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static const char *const ENV[] = {"DESK_WEBHOOK_ALLOW_HTTP=1",  "DESK_WEBHOOK_ALLOW_PRIVATE=1",
                                  "DESK_WEBHOOK_BACKOFF_MS=50", "DESK_WEBHOOK_TIMEOUT_MS=500",
                                  "DESK_WEBHOOK_POLL_MS=50",    NULL};
#define SECRET      "s3cret-current-0123456789"
#define SECRET_NEW  "s3cret-rotated-9876543210"
#define SECRET_GONE "s3cret-for-gone-receiver"

static char unit101[40], res_zw[40], dept_eng[40];

/* ---------------------------------------------------------------- the receiver */

#define MAX_HITS 4096
typedef struct hit {
    char path[32];
    char event_id[40];
    char delivery_id[40];
    int attempt;
    char request_id[40];
    long seq;
    char type[48];
    int sig_ok;
    int answered; /* the status it answered */
} hit_t;

static struct {
    int fd, port;
    pthread_t th;
    volatile int stop;
    pthread_mutex_t mu;
    hit_t hits[MAX_HITS];
    int nhits;
    int fail_next;    /* answer 500 to this many posts */
    int timeout_next; /* then sleep past deskd's timeout for this many */
    const char *secrets[2];
} rx = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const char *hdr(const char *req, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            size_t l = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(l < cap ? l : cap - 1), v);
            return out;
        }
    }
    out[0] = 0;
    return NULL;
}

/* The v1 scheme, as a receiver implements it (README): any v1 may match any active secret. */
static int verify(const char *sig, const char *body, size_t blen)
{
    long long ts = 0;
    if (sscanf(sig, "t=%lld", &ts) != 1)
        return 0;
    if (llabs((long long)time(NULL) - ts) > 300)
        return 0;
    char head[32];
    int hn = snprintf(head, sizeof head, "%lld.", ts);
    for (int s = 0; s < 2 && rx.secrets[s]; s++) {
        unsigned char mac[32];
        unsigned int ml = 32;
        unsigned char *msg = malloc((size_t)hn + blen);
        memcpy(msg, head, (size_t)hn);
        memcpy(msg + hn, body, blen);
        HMAC(EVP_sha256(), rx.secrets[s], (int)strlen(rx.secrets[s]), msg, (size_t)hn + blen, mac,
             &ml);
        free(msg);
        char hex[65];
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        for (const char *v = strstr(sig, "v1="); v; v = strstr(v + 3, "v1="))
            if (!strncmp(v + 3, hex, 64))
                return 1;
    }
    return 0;
}

static void serve_one(int c)
{
    char buf[65536];
    size_t n = 0;
    char *end = NULL;
    while (!end && n < sizeof buf - 1) {
        ssize_t k = recv(c, buf + n, sizeof buf - 1 - n, 0);
        if (k <= 0)
            return;
        n += (size_t)k;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return;
    char v[256];
    size_t clen = hdr(buf, "Content-Length", v, sizeof v) ? (size_t)atol(v) : 0;
    size_t head = (size_t)(end + 4 - buf);
    while (n < head + clen && n < sizeof buf - 1) {
        ssize_t k = recv(c, buf + n, sizeof buf - 1 - n, 0);
        if (k <= 0)
            return;
        n += (size_t)k;
    }
    buf[n] = 0;
    const char *body = buf + head;
    hit_t h = {0};
    sscanf(buf, "POST %31s", h.path);
    hdr(buf, "Desk-Event-Id", h.event_id, sizeof h.event_id);
    hdr(buf, "Desk-Delivery-Id", h.delivery_id, sizeof h.delivery_id);
    h.attempt = hdr(buf, "Desk-Delivery-Attempt", v, sizeof v) ? atoi(v) : 0;
    char sig[512];
    h.sig_ok = hdr(buf, "Desk-Signature", sig, sizeof sig) && verify(sig, body, clen);
    cJSON *j = cJSON_Parse(body);
    snprintf(h.request_id, sizeof h.request_id, "%s", th_js(j, "request_id"));
    snprintf(h.type, sizeof h.type, "%s", th_js(j, "type"));
    h.seq = th_jn(j, "sequence");
    if (strcmp(th_js(j, "id"), h.event_id) != 0)
        h.sig_ok = 0; /* the header and the body must name the same event */
    cJSON_Delete(j);
    int status = 200, slow = 0;
    pthread_mutex_lock(&rx.mu);
    if (!strcmp(h.path, "/gone"))
        status = 410;
    else if (rx.fail_next > 0) {
        rx.fail_next--;
        status = 500;
    } else if (rx.timeout_next > 0) {
        rx.timeout_next--;
        slow = 1;
    }
    h.answered = slow ? 0 : status;
    if (rx.nhits < MAX_HITS)
        rx.hits[rx.nhits++] = h;
    pthread_mutex_unlock(&rx.mu);
    if (slow)
        usleep(1500 * 1000); /* deskd gives up after 500 ms */
    char out[128];
    int l = snprintf(out, sizeof out,
                     "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status);
    send(c, out, (size_t)l, MSG_NOSIGNAL);
}

static void *conn_main(void *arg)
{
    int c = (int)(intptr_t)arg;
    serve_one(c);
    close(c);
    return NULL;
}

/* One thread per connection, so that a slow answer delays only its own delivery. */
static void *rx_main(void *arg)
{
    (void)arg;
    while (!rx.stop) {
        int c = accept(rx.fd, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval tv = {3, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, conn_main, (void *)(intptr_t)c) != 0)
            close(c);
        pthread_attr_destroy(&at);
    }
    return NULL;
}

static int rx_start(void)
{
    rx.fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(rx.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(rx.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(rx.fd, 64) != 0)
        return -1;
    socklen_t al = sizeof a;
    getsockname(rx.fd, (struct sockaddr *)&a, &al);
    rx.port = ntohs(a.sin_port);
    rx.secrets[0] = SECRET;
    return pthread_create(&rx.th, NULL, rx_main, NULL);
}

static void rx_stop(void)
{
    rx.stop = 1;
    shutdown(rx.fd, SHUT_RDWR);
    close(rx.fd);
    pthread_join(rx.th, NULL);
}

static void rx_set(int fail, int timeouts)
{
    pthread_mutex_lock(&rx.mu);
    rx.fail_next = fail;
    rx.timeout_next = timeouts;
    pthread_mutex_unlock(&rx.mu);
}

static int setup(void **state)
{
    if (rx_start() != 0 || th_start(ENV) != 0)
        return -1;
    (void)state;
    return th_fx_unit("demo", "1-101", unit101) || th_fx_resident("demo", "张伟", res_zw) ||
           th_fx_dept("demo", "engineering", dept_eng);
}

static int teardown(void **state)
{
    th_group_stop(state);
    rx_stop();
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static th_resp_t *create_hook(const char *user, const char *path, const char *types,
                              const char *secret)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"url\":\"http://127.0.0.1:%d%s\",\"secret\":\"%s\",\"event_types\":%s,"
             "\"description\":\"test receiver\"}",
             rx.port, path, secret, types);
    return th_req("POST", "/v1/webhooks", th_token(user), body, NULL);
}

static void new_request(char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"厨房水龙头漏水\"}",
             unit101, res_zw);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    if (r->status != 201)
        fail_msg("create request: %ld %s", r->status, r->body);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

static void dispatch_accept(const char *id)
{
    char path[160], b[128];
    snprintf(b, sizeof b, "{\"department_id\":\"%s\"}", dept_eng);
    snprintf(path, sizeof path, "/v1/requests/%s/actions/dispatch", id);
    const char *h1[] = {"If-Match: \"1\"", NULL};
    th_resp_t *r = th_req("POST", path, th_token("agent"), b, h1);
    if (r->status != 200)
        fail_msg("dispatch: %ld %s", r->status, r->body);
    th_free(r);
    snprintf(path, sizeof path, "/v1/requests/%s/actions/accept", id);
    const char *h2[] = {"If-Match: \"2\"", NULL};
    r = th_req("POST", path, th_token("technician"), NULL, h2);
    if (r->status != 200)
        fail_msg("accept: %ld %s", r->status, r->body);
    th_free(r);
}

/* Waits until no delivery of the webhook is pending (up to ~90 s, generous for ASan). */
static void wait_settled(const char *webhook)
{
    const char *p[] = {webhook};
    for (int i = 0; i < 1800; i++) {
        if (th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1 AND state "
                        "= 'pending'",
                        p, 1) == 0)
            return;
        sleep_ms(50);
    }
    fail_msg("deliveries of %s still pending", webhook);
}

static void sql(const char *s)
{
    assert_int_equal(th_pg_exec(th_dburl(), s), 0);
}

/* Checks, for the hits on `path`: every signature verified; no (delivery, attempt) arrived
 * twice; every event of the webhook arrived at least once, and the first arrivals of each
 * request came in sequence order; the number of distinct event ids equals the events.
 * Returns the hits on that path. */
static int check_receiver(const char *path, const char *webhook)
{
    pthread_mutex_lock(&rx.mu);
    int n = 0, bad_sig = 0, dup_attempt = 0, out_of_order = 0, distinct = 0;
    for (int i = 0; i < rx.nhits; i++) {
        hit_t *h = &rx.hits[i];
        if (strcmp(h->path, path))
            continue;
        n++;
        bad_sig += !h->sig_ok;
        int first = 1;
        for (int k = 0; k < i; k++) {
            hit_t *g = &rx.hits[k];
            if (strcmp(g->path, path))
                continue;
            if (!strcmp(g->delivery_id, h->delivery_id) && g->attempt == h->attempt)
                dup_attempt++;
            if (!strcmp(g->event_id, h->event_id))
                first = 0;
        }
        if (!first)
            continue; /* a duplicate: the receiver's de-duplication drops it */
        distinct++;
        /* its first arrival comes after the first arrival of every lower seq of its request */
        for (int k = i + 1; k < rx.nhits; k++) {
            hit_t *g = &rx.hits[k];
            if (!strcmp(g->path, path) && !strcmp(g->request_id, h->request_id) &&
                g->seq < h->seq) {
                int seen_before = 0;
                for (int m = 0; m < i; m++)
                    if (!strcmp(rx.hits[m].event_id, g->event_id))
                        seen_before = 1;
                if (!seen_before)
                    out_of_order++;
            }
        }
    }
    pthread_mutex_unlock(&rx.mu);
    const char *p[] = {webhook};
    long events =
        th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1", p, 1);
    long delivered = th_sql_long(
        "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1 AND state = 'delivered'", p,
        1);
    print_message("%s: %d arrivals, %d distinct events, %ld deliveries\n", path, n, distinct,
                  events);
    assert_int_equal(bad_sig, 0);
    assert_int_equal(dup_attempt, 0);
    assert_int_equal(out_of_order, 0);
    assert_int_equal(distinct, events);
    assert_int_equal(delivered, events);
    return n;
}

/* ---------------------------------------------------------------- tests */

static void test_subscriptions_scope_and_secrets(void **state)
{
    (void)state;
    th_resp_t *r = create_hook("admin", "/crud", "[\"request.*\",\"sla.breached\"]", SECRET);
    th_expect_status_at(__LINE__, r, 201);
    char id[40];
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    assert_null(strstr(r->body, SECRET));
    assert_null(strstr(r->body, "\"secret\""));
    assert_true(th_jtrue(r->json, "active"));
    assert_string_equal(th_header(r, "ETag"), "\"1\"");
    th_free(r);

    char path[160];
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    r = th_req("GET", path, th_token("admin"), NULL, NULL);
    th_expect_status_at(__LINE__, r, 200);
    assert_null(strstr(r->body, SECRET));
    th_free(r);
    r = th_req("GET", "/v1/webhooks", th_token("admin"), NULL, NULL);
    assert_non_null(strstr(r->body, id));
    assert_null(strstr(r->body, SECRET));
    th_free(r);

    /* another organisation's admin sees nothing of it; other roles may not manage webhooks */
    th_expect_problem_at(__LINE__, th_req("GET", path, th_token("other.admin"), NULL, NULL), 404,
                         "not_found");
    r = th_req("GET", "/v1/webhooks", th_token("other.admin"), NULL, NULL);
    assert_null(strstr(r->body, id));
    th_free(r);
    const char *h1[] = {"If-Match: \"1\"", NULL};
    th_expect_problem_at(__LINE__,
                         th_req("PATCH", path, th_token("other.admin"), "{\"active\":false}", h1),
                         404, "not_found");
    char dpath[200];
    snprintf(dpath, sizeof dpath, "%s/deliveries", path);
    th_expect_problem_at(__LINE__, th_req("GET", dpath, th_token("other.admin"), NULL, NULL), 404,
                         "not_found");
    th_expect_problem_at(__LINE__, th_req("GET", "/v1/webhooks", th_token("agent"), NULL, NULL),
                         403, NULL);
    th_expect_problem_at(__LINE__, th_req("GET", path, th_token("gm"), NULL, NULL), 403, NULL);

    /* validation */
    static const struct {
        const char *body, *pointer;
    } bad[] = {
        {"{\"url\":\"http://example.com/x\",\"secret\":\"" SECRET "\",\"event_types\":[\"*\"]}",
         "/url"},
        {"{\"url\":\"https://u:p@example.com/x\",\"secret\":\"" SECRET
         "\",\"event_types\":[\"*\"]}",
         "/url"},
        {"{\"url\":\"https://example.com/x\",\"secret\":\"short\",\"event_types\":[\"*\"]}",
         "/secret"},
        {"{\"url\":\"https://example.com/x\",\"event_types\":[\"*\"]}", "/secret"},
        {"{\"url\":\"https://example.com/x\",\"secret\":\"" SECRET "\",\"event_types\":[]}",
         "/event_types"},
        {"{\"url\":\"https://example.com/x\",\"secret\":\"" SECRET
         "\",\"event_types\":[\"request.nonsense\"]}",
         "/event_types"},
        {"{\"url\":\"https://example.com/x\",\"secret\":\"" SECRET
         "\",\"event_types\":[\"*\"],\"colour\":1}",
         "/colour"},
        {"{\"url\":\"https://example.com/x\",\"secret\":\"" SECRET
         "\",\"event_types\":[\"*\"],\"project_id\":\"00000000-0000-4000-8000-000000000000\"}",
         "/project_id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = th_req("POST", "/v1/webhooks", th_token("admin"), bad[i].body, NULL);
        if (r->status != 422 || !strstr(r->body, bad[i].pointer))
            fail_msg("case %zu: want 422 at %s, got %ld %s", i, bad[i].pointer, r->status, r->body);
        th_free(r);
    }
    /* another organisation's project is not a project of yours */
    char other_project[40];
    assert_int_equal(th_fx_project("other", other_project), 0);
    char body[512];
    snprintf(body, sizeof body,
             "{\"url\":\"https://example.com/x\",\"secret\":\"%s\",\"event_types\":[\"*\"],"
             "\"project_id\":\"%s\"}",
             SECRET, other_project);
    th_expect_problem_at(__LINE__, th_req("POST", "/v1/webhooks", th_token("admin"), body, NULL),
                         422, "invalid_field");

    /* updates: If-Match, immutables, rotation keeps the old secret for a while */
    th_expect_problem_at(__LINE__,
                         th_req("PATCH", path, th_token("admin"), "{\"active\":true}", NULL), 428,
                         "if_match_required");
    const char *h9[] = {"If-Match: \"9\"", NULL};
    th_expect_problem_at(__LINE__,
                         th_req("PATCH", path, th_token("admin"), "{\"active\":true}", h9), 412,
                         "stale_version");
    snprintf(body, sizeof body, "{\"project_id\":\"%s\"}", other_project);
    th_expect_problem_at(__LINE__, th_req("PATCH", path, th_token("admin"), body, h1), 422,
                         "invalid_field");
    th_expect_problem_at(
        __LINE__,
        th_req("PATCH", path, th_token("admin"), "{\"keep_previous_secret_minutes\":5}", h1), 422,
        "invalid_field");
    r = th_req(
        "PATCH", path, th_token("admin"),
        "{\"secret\":\"" SECRET_NEW "\",\"keep_previous_secret_minutes\":60,\"active\":false}", h1);
    th_expect_status_at(__LINE__, r, 200);
    assert_false(th_jnull(r->json, "previous_secret_active_until"));
    assert_false(th_jtrue(r->json, "active"));
    assert_null(strstr(r->body, SECRET_NEW));
    assert_string_equal(th_header(r, "ETag"), "\"2\"");
    th_free(r);
    const char *p[] = {id};
    /* both stored encrypted (api/webhook_secret.h), the rotated-out one as previous */
    const char *stored =
        th_sql1("SELECT secret || '|' || previous_secret FROM webhooks WHERE id = $1", p, 1);
    assert_non_null(stored);
    assert_memory_equal(stored, "whs1$", 5);
    assert_non_null(strstr(stored, "|whs1$"));
    assert_null(strstr(stored, SECRET_NEW));
    assert_null(strstr(stored, SECRET));
    /* no DELETE: retention (RULES §3.13.6) */
    r = th_req("DELETE", path, th_token("admin"), NULL, NULL);
    assert_true(r->status == 404 || r->status == 405);
    th_free(r);
    char rpath[300];
    snprintf(rpath, sizeof rpath, "%s/deliveries/00000000-0000-4000-8000-000000000000/redeliver",
             path);
    th_expect_problem_at(__LINE__, th_req("POST", rpath, th_token("admin"), NULL, NULL), 404,
                         "not_found");
}

/* The receiver fails, times out, then recovers: every event arrives, first arrivals in order,
 * duplicates only from timeouts; the attempt log shows each attempt. */
static void test_delivery_fails_times_out_and_recovers(void **state)
{
    (void)state;
    /* another organisation's subscription hears nothing of this organisation */
    th_resp_t *o = create_hook("other.admin", "/other", "[\"*\"]", SECRET);
    th_expect_status_at(__LINE__, o, 201);
    th_free(o);
    rx_set(6, 2);
    th_resp_t *r = create_hook("admin", "/flaky", "[\"*\"]", SECRET);
    th_expect_status_at(__LINE__, r, 201);
    char hook[40];
    snprintf(hook, sizeof hook, "%s", th_js(r->json, "id"));
    th_free(r);
    char ids[3][40];
    for (int i = 0; i < 3; i++) {
        new_request(ids[i]);
        dispatch_accept(ids[i]);
    }
    wait_settled(hook);
    int n = check_receiver("/flaky", hook);
    const char *p[] = {hook};
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1", p, 1), 9);
    assert_true(n > 9); /* the failures and timeouts were retried */
    /* every attempt is recorded, and each reached the receiver */
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d "
                    "ON d.id = a.delivery_id WHERE d.webhook_id = $1",
                    p, 1),
        n);
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d "
                    "ON d.id = a.delivery_id WHERE d.webhook_id = $1 AND a.status = 500",
                    p, 1),
        6);
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d "
                    "ON d.id = a.delivery_id WHERE d.webhook_id = $1 AND a.status IS "
                    "NULL AND a.error IS NOT NULL",
                    p, 1),
        2);
    /* the types and the per-request sequence */
    const char *q[] = {ids[0]};
    assert_string_equal(th_sql1("SELECT string_agg(type || ':' || seq, ',' ORDER BY seq) FROM "
                                "webhook_events WHERE request_id = $1",
                                q, 1),
                        "request.created:1,request.dispatched:2,request.accepted:3");
    /* phones are masked in payloads (the integration rule) */
    assert_int_equal(th_sql_long("SELECT count(*) FROM webhook_events WHERE request_id = $1 AND "
                                 "payload->'data'->'request'->'reporter'->>'phone' !~ '\\*'",
                                 q, 1),
                     0);
    pthread_mutex_lock(&rx.mu);
    int other_hits = 0;
    for (int i = 0; i < rx.nhits; i++)
        other_hits += !strcmp(rx.hits[i].path, "/other");
    pthread_mutex_unlock(&rx.mu);
    assert_int_equal(other_hits, 0);

    /* the attempt log over HTTP */
    char path[200];
    snprintf(path, sizeof path, "/v1/webhooks/%s/deliveries?limit=200", hook);
    r = th_req("GET", path, th_token("admin"), NULL, NULL);
    th_expect_status_at(__LINE__, r, 200);
    const cJSON *items = th_jpath(r->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 9);
    int logged = 0, with_500 = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, items)
    {
        assert_string_equal(th_js(d, "state"), "delivered");
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(d, "attempt_log"))
        {
            logged++;
            with_500 += th_jn(a, "status") == 500;
        }
    }
    assert_int_equal(logged, n);
    assert_int_equal(with_500, 6);
    /* manual redelivery sends the same event again, as attempt n+1 */
    char did[40], eid[40];
    snprintf(did, sizeof did, "%s", th_js(cJSON_GetArrayItem(items, 0), "id"));
    snprintf(eid, sizeof eid, "%s", th_js(cJSON_GetArrayItem(items, 0), "event.id"));
    long before = th_jn(cJSON_GetArrayItem(items, 0), "attempts");
    th_free(r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/deliveries/%s/redeliver", hook, did);
    r = th_req("POST", path, th_token("admin"), NULL, NULL);
    th_expect_status_at(__LINE__, r, 202);
    th_free(r);
    wait_settled(hook);
    const char *pd[] = {did};
    assert_int_equal(th_sql_long("SELECT attempts FROM webhook_deliveries WHERE id = $1", pd, 1),
                     before + 1);
    assert_int_equal(th_sql_long("SELECT count(*) FROM webhook_attempts WHERE delivery_id = $1 AND "
                                 "manual",
                                 pd, 1),
                     1);
    pthread_mutex_lock(&rx.mu);
    int again = 0;
    for (int i = 0; i < rx.nhits; i++)
        again += !strcmp(rx.hits[i].event_id, eid) && rx.hits[i].attempt == before + 1;
    pthread_mutex_unlock(&rx.mu);
    assert_int_equal(again, 1);
    sql("UPDATE webhooks SET active = false");
}

static pid_t start_second(void)
{
    int port = th_free_port();
    pid_t pid = fork();
    if (pid == 0)
        th_exec_deskd(th_dburl(), port, ENV);
    sleep_ms(300);
    return pid;
}

/* Two servers share the queue; a restart in the middle of failures loses nothing. */
static void test_two_servers_and_restart(void **state)
{
    (void)state;
    th_resp_t *r =
        create_hook("admin", "/pair", "[\"request.created\",\"request.dispatched\"]", SECRET);
    th_expect_status_at(__LINE__, r, 201);
    char hook[40];
    snprintf(hook, sizeof hook, "%s", th_js(r->json, "id"));
    th_free(r);
    pid_t second = start_second();
    assert_true(second > 0);
    rx_set(3, 0);
    char id[40];
    for (int i = 0; i < 12; i++) {
        new_request(id);
        dispatch_accept(id); /* accepted is not subscribed: no event for it */
    }
    wait_settled(hook);
    check_receiver("/pair", hook);
    const char *p[] = {hook};
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1", p, 1), 24);
    print_message(
        "servers that delivered: %ld\n",
        th_sql_long("SELECT count(DISTINCT server) FROM webhook_attempts a JOIN "
                    "webhook_deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = $1",
                    p, 1));
    kill(second, SIGTERM);
    waitpid(second, NULL, 0);

    /* failing receiver, then the server restarts: the queue survives */
    rx_set(1000000, 0);
    for (int i = 0; i < 3; i++)
        new_request(id);
    for (int i = 0; i < 200 && th_sql_long("SELECT count(*) FROM webhook_attempts a JOIN "
                                           "webhook_deliveries d ON d.id = a.delivery_id WHERE "
                                           "d.webhook_id = $1 AND a.status = 500",
                                           p, 1) < 3;
         i++)
        sleep_ms(50);
    assert_int_equal(th_restart(ENV), 0);
    rx_set(0, 0);
    wait_settled(hook);
    check_receiver("/pair", hook);
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1", p, 1), 27);
    sql("UPDATE webhooks SET active = false");
}

/* 410 Gone disables the subscription; it then gets no new deliveries; redelivery needs it on. */
static void test_gone_disables(void **state)
{
    (void)state;
    rx.secrets[0] = SECRET_GONE;
    th_resp_t *r = create_hook("admin", "/gone", "[\"request.created\"]", SECRET_GONE);
    th_expect_status_at(__LINE__, r, 201);
    char hook[40];
    snprintf(hook, sizeof hook, "%s", th_js(r->json, "id"));
    th_free(r);
    char id[40];
    new_request(id);
    wait_settled(hook);
    const char *p[] = {hook};
    assert_string_equal(th_sql1("SELECT active::text || '|' || disabled_reason FROM webhooks WHERE "
                                "id = $1",
                                p, 1),
                        "false|the receiver answered 410 Gone");
    assert_string_equal(th_sql1("SELECT state || '|' || last_status FROM webhook_deliveries WHERE "
                                "webhook_id = $1",
                                p, 1),
                        "failed|410");
    new_request(id); /* not announced to a disabled subscription */
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1", p, 1), 1);
    char did[40];
    snprintf(did, sizeof did, "%s",
             th_sql1("SELECT id FROM webhook_deliveries WHERE webhook_id = $1", p, 1));
    char path[300];
    snprintf(path, sizeof path, "/v1/webhooks/%s/deliveries/%s/redeliver", hook, did);
    th_expect_problem_at(__LINE__, th_req("POST", path, th_token("admin"), NULL, NULL), 409,
                         "webhook_inactive");
    char gpath[120];
    snprintf(gpath, sizeof gpath, "/v1/webhooks/%s", hook);
    r = th_req("GET", gpath, th_token("admin"), NULL, NULL);
    assert_false(th_jtrue(r->json, "active"));
    assert_string_equal(th_js(r->json, "disabled_reason"), "the receiver answered 410 Gone");
    char im[40];
    snprintf(im, sizeof im, "If-Match: %s", th_header(r, "ETag"));
    th_free(r);
    const char *h[] = {im, NULL};
    r = th_req("PATCH", gpath, th_token("admin"), "{\"active\":true}", h);
    th_expect_status_at(__LINE__, r, 200);
    assert_true(th_jnull(r->json, "disabled_reason"));
    th_free(r);
    r = th_req("POST", path, th_token("admin"), NULL, NULL);
    th_expect_status_at(__LINE__, r, 202);
    th_free(r);
    wait_settled(hook);
    assert_string_equal(th_sql1("SELECT active::text FROM webhooks WHERE id = $1", p, 1), "false");
    const char *pd[] = {did};
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM webhook_attempts WHERE delivery_id = $1", pd, 1), 2);
    rx.secrets[0] = SECRET;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscriptions_scope_and_secrets),
        cmocka_unit_test(test_delivery_fails_times_out_and_recovers),
        cmocka_unit_test(test_two_servers_and_restart),
        cmocka_unit_test(test_gone_disables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
