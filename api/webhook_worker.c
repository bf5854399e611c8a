/* api/webhook_worker.c — see api/webhook_worker.h. */
#include "api/webhook_worker.h"
#include "api/webhook_secret.h"
#include "core/hex.h"
#include "api/config.h"
#include "core/netaddr.h"
#include "core/webhook.h"
#include "db/log.h"
#include "db/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLAIM_BATCH  8
#define MAX_THREADS  64
#define LEASE_EXTRA  30000 /* ms beyond the timeout before another server may take over */
#define ERROR_LENGTH 300

static pthread_t threads[MAX_THREADS];
static int nthreads, stopping;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char server_id[128];

int webhook_sign(const char *secret, int64_t ts, const char *body, size_t body_len, char hex[65])
{
    size_t n;
    char *in = core_webhook_signing_input(ts, body, body_len, &n);
    if (!in)
        return -1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    unsigned char *ok =
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)in, n, mac, &ml);
    free(in);
    if (!ok || ml != 32)
        return -1;
    core_hex_encode(mac, ml, hex);
    return 0;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    size_t *total = u;
    *total += sz * n;
    /* the answer's body means nothing to us; stop reading a huge one */
    return *total > 65536 ? 0 : sz * n;
}

/* One HTTP attempt.  Returns the status (0 when none came) and fills err on failure. */
/* The address curl is about to connect to, when refused (SSRF): set by open_socket. */
typedef struct {
    char refused[INET6_ADDRSTRLEN];
} guard_t;

/* curl's socket opener: refuses private, loopback and link-local addresses (whatever name
 * led there: checked on the resolved address, so a DNS answer cannot smuggle one in) unless
 * DESK_WEBHOOK_ALLOW_PRIVATE=1. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    guard_t *g = clientp;
    (void)purpose;
    if (!g_config.webhook_allow_private) {
        int bad = 1;
        const void *bytes = NULL;
        if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in)) {
            bytes = &((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr;
            bad = core_addr_is_private(4, bytes);
        } else if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6)) {
            bytes = &((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr;
            bad = core_addr_is_private(6, bytes);
        }
        if (bad) {
            if (!bytes || !inet_ntop(a->family, bytes, g->refused, sizeof g->refused))
                snprintf(g->refused, sizeof g->refused, "family %d", a->family);
            return CURL_SOCKET_BAD;
        }
    }
    return socket(a->family, a->socktype, a->protocol);
}

static long post(CURL *h, const wh_claim_t *w, char *err, size_t errcap)
{
    if (!w->secret) {
        snprintf(err, errcap,
                 "the subscription's secret cannot be decrypted: set DESK_WEBHOOK_KEY_PREVIOUS "
                 "(or DESK_PII_KEY_PREVIOUS) to the key it was stored under, or set a new secret");
        return 0;
    }
    int64_t ts = (int64_t)time(NULL);
    char macs[2][65];
    const char *mp[2] = {macs[0], macs[1]};
    size_t nm = 0;
    if (webhook_sign(w->secret, ts, w->payload, w->payload_len, macs[0]) == 0)
        nm = 1;
    if (nm == 1 && w->previous_secret &&
        webhook_sign(w->previous_secret, ts, w->payload, w->payload_len, macs[1]) == 0)
        nm = 2;
    char sig[200], hsig[240], hid[80], htype[100], hdel[80], hatt[48];
    if (nm == 0 || core_webhook_signature_header(ts, mp, nm, sig, sizeof sig) < 0) {
        snprintf(err, errcap, "could not sign the payload");
        return 0;
    }
    snprintf(hsig, sizeof hsig, "Desk-Signature: %.200s", sig);
    snprintf(hid, sizeof hid, "Desk-Event-Id: %.40s", w->event_id);
    snprintf(htype, sizeof htype, "Desk-Event-Type: %.63s", w->event_type);
    snprintf(hdel, sizeof hdel, "Desk-Delivery-Id: %.40s", w->delivery_id);
    snprintf(hatt, sizeof hatt, "Desk-Delivery-Attempt: %d", w->attempt);
    struct curl_slist *hs = NULL;
    hs = curl_slist_append(hs, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Expect:");
    hs = curl_slist_append(hs, hsig);
    hs = curl_slist_append(hs, hid);
    hs = curl_slist_append(hs, htype);
    hs = curl_slist_append(hs, hdel);
    hs = curl_slist_append(hs, hatt);
    char ebuf[CURL_ERROR_SIZE] = "";
    size_t got = 0;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, w->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, w->payload);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)w->payload_len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "deskd-webhooks/1");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)g_config.webhook_timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)g_config.webhook_timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
                     g_config.webhook_allow_http ? "https,http" : "https");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
    guard_t guard = {""};
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &guard);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    if (rc != CURLE_OK && guard.refused[0]) {
        snprintf(err, errcap,
                 "refused: the URL's host is a private, loopback or link-local address (%s); "
                 "DESK_WEBHOOK_ALLOW_PRIVATE=1 allows it",
                 guard.refused);
        return 0;
    }
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status > 0)) {
        snprintf(err, errcap, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
        return 0;
    }
    if (status < 200 || status > 299)
        snprintf(err, errcap, "the receiver answered HTTP %ld", status);
    return status;
}

static void attempt(db_conn_t *c, CURL *h, wh_claim_t *w)
{
    char err[ERROR_LENGTH] = "";
    long long started = now_ms(), t0 = mono_ms();
    long status = post(h, w, err, sizeof err);
    int dur = (int)(mono_ms() - t0);
    wh_outcome_t o = core_webhook_outcome(status, w->attempt, WEBHOOK_MAX_ATTEMPTS);
    const char *state = "pending", *disable = NULL;
    long long retry = 0;
    switch (o) {
    case WH_DELIVERED:
        state = "delivered";
        break;
    case WH_DISABLE:
        state = "failed";
        disable = "the receiver answered 410 Gone";
        break;
    case WH_GIVE_UP:
        state = "failed";
        break;
    case WH_RETRY:
        retry = core_webhook_backoff_ms(w->attempt, g_config.webhook_backoff_ms);
        if (retry < 0) {
            state = "failed";
            retry = 0;
        }
        break;
    }
    int r = db_webhook_record(c, w, server_id, started, dur, status, err[0] ? err : NULL, state,
                              retry, disable);
    if (r < 0)
        log_write(LOG_WARN, "webhook: could not record an attempt; it is retried after its lease",
                  "\"delivery\":\"%s\",\"attempt\":%d", w->delivery_id, w->attempt);
    else if (r == 0)
        log_write(LOG_WARN, "webhook: an attempt outlived its lease; recorded only",
                  "\"delivery\":\"%s\",\"attempt\":%d", w->delivery_id, w->attempt);
    if (disable)
        log_write(LOG_WARN, "webhook: subscription disabled: the receiver answered 410",
                  "\"webhook\":\"%s\"", w->webhook_id);
    else if (o != WH_DELIVERED)
        log_write(LOG_INFO, "webhook attempt failed",
                  "\"delivery\":\"%s\",\"attempt\":%d,\"status\":%ld,\"outcome\":\"%s\"",
                  w->delivery_id, w->attempt, status, core_webhook_outcome_name(o));
}

static int run_batch(CURL *h, int max)
{
    if (max > CLAIM_BATCH)
        max = CLAIM_BATCH;
    db_conn_t *c = db_acquire();
    if (!c)
        return -1;
    wh_claim_t batch[CLAIM_BATCH];
    int n = db_webhook_claim(c, max, g_config.webhook_timeout_ms + LEASE_EXTRA, batch);
    /* The connection is not held during the HTTP exchanges: HTTP handlers share the pool. */
    db_release(c);
    for (int i = 0; i < n; i++) {
        /* the secrets are stored encrypted (api/webhook_secret.h) */
        char *sec = whs_open(batch[i].org_id, batch[i].secret);
        char *prev =
            batch[i].previous_secret ? whs_open(batch[i].org_id, batch[i].previous_secret) : NULL;
        free(batch[i].secret);
        free(batch[i].previous_secret);
        batch[i].secret = sec;
        batch[i].previous_secret = prev;
        c = db_acquire();
        if (c) {
            db_set_actor(c, &(db_actor_t){.system = "webhook_delivery"});
            attempt(c, h, &batch[i]);
            db_release(c);
        }
        db_webhook_claim_free(&batch[i]);
    }
    return n;
}

int webhook_run_once(int max)
{
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    int n = run_batch(h, max);
    curl_easy_cleanup(h);
    return n;
}

static void *worker_main(void *arg)
{
    (void)arg;
    CURL *h = curl_easy_init();
    pthread_mutex_lock(&mu);
    while (!stopping) {
        pthread_mutex_unlock(&mu);
        int n = h ? run_batch(h, CLAIM_BATCH) : -1;
        pthread_mutex_lock(&mu);
        if (n > 0)
            continue; /* more may be due: look again at once */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long ns = until.tv_nsec + (long long)g_config.webhook_poll_ms * 1000000LL;
        until.tv_sec += (time_t)(ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
        while (!stopping && pthread_cond_timedwait(&cv, &mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&mu);
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

void webhook_worker_start(void)
{
    if (nthreads || g_config.webhook_poll_ms <= 0)
        return;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        log_write(LOG_ERROR, "webhook: libcurl did not initialise; no deliveries from here", NULL);
        return;
    }
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(server_id, sizeof server_id, "%s:%ld", host, (long)getpid());
    stopping = 0;
    int want = g_config.webhook_workers < MAX_THREADS ? g_config.webhook_workers : MAX_THREADS;
    for (int i = 0; i < want; i++)
        if (pthread_create(&threads[nthreads], NULL, worker_main, NULL) == 0)
            nthreads++;
    if (nthreads < want)
        log_write(LOG_ERROR, "webhook: fewer delivery threads than configured",
                  "\"started\":%d,\"wanted\":%d", nthreads, want);
}

void webhook_worker_stop(void)
{
    if (!nthreads)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    nthreads = 0;
    curl_global_cleanup();
}
