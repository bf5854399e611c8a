/*
 * tests/fuzz/fuzz_harness.c — deskd in-process for libFuzzer targets: an in-memory
 * civetweb connection, start-up without a database, tokens, and a response checker.
 * See fuzz_harness.h.
 */
#include "tests/fuzz/fuzz_harness.h"

#include "api/api.h"
#include "api/auth.h"
#include "api/codec.h"
#include "api/config.h"
#include "api/http.h"
#include "api/request.h"
#include "db/db.h"
#include "db/log.h"

#include <civetweb.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* civetweb 1.15 as built by Debian 12 starts its workers with this stack size
 * (pthread_attr_setstacksize(&attr, 0x19000) in mg_start). */
#define WORKER_STACK (100 * 1024)

/* ---------------------------------------------------------------- in-memory civetweb */

struct mg_connection {
    struct mg_request_info ri;
    const unsigned char *body;
    size_t body_len, body_off;
    char *out;
    size_t out_len, out_cap;
    int responses;
};

static mg_request_handler served;
static void *served_data;
static int fake_ctx;

unsigned mg_init_library(unsigned features)
{
    (void)features;
    return 1;
}

unsigned mg_exit_library(void)
{
    return 1;
}

struct mg_context *mg_start(const struct mg_callbacks *cb, void *user_data, const char **options)
{
    (void)cb;
    (void)user_data;
    (void)options;
    return (struct mg_context *)&fake_ctx;
}

void mg_stop(struct mg_context *ctx)
{
    (void)ctx;
}

void mg_set_request_handler(struct mg_context *ctx, const char *uri, mg_request_handler handler,
                            void *cbdata)
{
    (void)ctx;
    if (!strcmp(uri, "/")) {
        served = handler;
        served_data = cbdata;
    }
}

const struct mg_request_info *mg_get_request_info(const struct mg_connection *conn)
{
    return &conn->ri;
}

const char *mg_get_header(const struct mg_connection *conn, const char *name)
{
    for (int i = 0; i < conn->ri.num_headers; i++)
        if (!strcasecmp(conn->ri.http_headers[i].name, name))
            return conn->ri.http_headers[i].value;
    return NULL;
}

int mg_read(struct mg_connection *conn, void *buf, size_t len)
{
    size_t left = conn->body_len - conn->body_off;
    size_t n = len < left ? len : left;
    memcpy(buf, conn->body + conn->body_off, n);
    conn->body_off += n;
    return (int)n;
}

int mg_write(struct mg_connection *conn, const void *buf, size_t len)
{
    if (len >= 9 && !memcmp(buf, "HTTP/1.1 ", 9))
        conn->responses++;
    if (conn->out_len + len + 1 > conn->out_cap) {
        size_t cap = (conn->out_len + len + 1) * 2;
        char *nb = realloc(conn->out, cap);
        if (!nb)
            abort();
        conn->out = nb;
        conn->out_cap = cap;
    }
    memcpy(conn->out + conn->out_len, buf, len);
    conn->out_len += len;
    conn->out[conn->out_len] = 0;
    return (int)len;
}

int mg_printf(struct mg_connection *conn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    mg_write(conn, s, (size_t)n);
    free(s);
    return n;
}

const char *mg_get_response_code_text(const struct mg_connection *conn, int status)
{
    (void)conn;
    return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

/* ---------------------------------------------------------------- start-up */

static const char secret[] = "fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyz";
static char tokens[ROLE__COUNT][2048];

/* The database stands in as a connection whose PGconn is NULL: every statement on it
 * fails (db_exec answers a fatal-error result), as with a database that went away.
 * Zeroed storage is such a connection whatever the layout of db_conn_t. */
static _Alignas(16) unsigned char dead_conn[1 << 16];

/* POST /fuzz/requests: the validation of POST /v1/requests (api_request_create_one)
 * without the pool checkout that the real handler does first. */
static void fuzz_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_REQUEST_CREATE) != 0 || http_json_body(r) != 0)
        return;
    char *json = NULL;
    api_err_t e = {0};
    int st = api_request_create_one(r, (db_conn_t *)dead_conn, r->json, &json, &e);
    if (st >= 300)
        http_problem(r, st, e.code ? e.code : "error", "%s", e.detail);
    else
        http_send_json(r, st, json ? json : "{}", NULL);
    free(json);
}

int fz_sign(const unsigned char *hdr, size_t hl, const unsigned char *payload, size_t pl, char *out,
            size_t cap)
{
    size_t need = 4 * (hl / 3 + 1) + 4 * (pl / 3 + 1) + 64;
    if (cap < need)
        return -1;
    size_t o = b64url_encode(hdr, hl, out);
    out[o++] = '.';
    o += b64url_encode(payload, pl, out + o);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned ml = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)out, o, mac, &ml);
    out[o++] = '.';
    b64url_encode(mac, ml, out + o);
    return 0;
}

const char *fz_token(unsigned role)
{
    return tokens[role % ROLE__COUNT];
}

void fz_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    setenv("DATABASE_URL", "host=/nonexistent/deskd-fuzz dbname=fuzz connect_timeout=1", 1);
    setenv("DESK_JWT_ALG", "HS256", 1);
    setenv("DESK_JWT_SECRET", secret, 1);
    unsetenv("DESK_JWT_SECRET_FILE");
    setenv("DESK_PBKDF2_ITER", "1000", 1);
    setenv("DESK_SWEEP_INTERVAL_MS", "0", 1);
    char *argv[] = {"deskd-fuzz", NULL};
    if (config_load(1, argv) != 0 || auth_init() != 0) {
        fprintf(stderr, "fuzz: cannot configure deskd\n");
        abort();
    }
    /* Every request would log a line; DESK_FUZZ_LOG=1 keeps them. */
    const char *keep = getenv("DESK_FUZZ_LOG");
    log_set_level(keep && *keep == '1' ? LOG_DEBUG : (log_level_t)(LOG_ERROR + 1));
    api_register_all();
    http_route("POST", "/fuzz/requests", fuzz_create_h, ROUTE_INTERNAL, NULL);
    db_pool_init(g_config.database_url, 1, 0);
    http_options_t opt = {.listen = "127.0.0.1:0", .threads = 1, .max_body = g_config.max_body};
    if (http_start(&opt) != 0 || !served) {
        fprintf(stderr, "fuzz: deskd registered no request handler\n");
        abort();
    }
    long now = (long)time(NULL);
    for (int r = 0; r < ROLE__COUNT; r++) {
        char payload[1024];
        int n =
            snprintf(payload, sizeof payload,
                     "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"org\":\"%s\",\"role\":\"%s\","
                     "\"iat\":%ld,\"exp\":%ld,\"jti\":\"fuzz\",\"prj\":[\"%s\"],\"units\":[]%s}",
                     g_config.jwt_issuer, g_config.jwt_audience, FZ_USER, FZ_ORG,
                     core_role_name((role_t)r), now, now + 7 * 86400, FZ_PROJECT,
                     r == ROLE_TECHNICIAN ? ",\"dept\":\"" FZ_ID "\"" : "");
        static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
        if (fz_sign((const unsigned char *)hdr, strlen(hdr), (const unsigned char *)payload,
                    (size_t)n, tokens[r], sizeof tokens[r]) != 0)
            abort();
    }
}

/* ---------------------------------------------------------------- one request */

typedef struct job {
    struct mg_connection *conn;
    int rc;
} job_t;

static void *run_job(void *arg)
{
    job_t *j = arg;
    j->rc = served(j->conn, served_data);
    return NULL;
}

static void fail(const struct mg_connection *c, const char *why)
{
    fprintf(stderr, "fuzz: %s %s%s%s: %s\n--- response ---\n%s\n", c->ri.request_method,
            c->ri.local_uri, c->ri.query_string ? "?" : "",
            c->ri.query_string ? c->ri.query_string : "", why, c->out ? c->out : "(none)");
    abort();
}

/* Checks the one response deskd wrote; returns its status. */
static int check_response(const struct mg_connection *c, int rc)
{
    if (c->responses != 1)
        fail(c, c->responses ? "more than one response" : "no response");
    int status = atoi(c->out + 9);
    if (status < 200 || status > 599 || status != rc)
        fail(c, "bad status");
    if (status == 500)
        fail(c, "500: a request must never reach an internal error");
    const char *body = strstr(c->out, "\r\n\r\n");
    if (!body)
        fail(c, "no end of headers");
    if (status >= 400 && strcmp(c->ri.request_method, "HEAD") != 0) { /* HEAD: no body */
        if (!strstr(c->out, "Content-Type: application/problem+json"))
            fail(c, "an error that is not application/problem+json");
        cJSON *j = cJSON_Parse(body + 4);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(j, "detail");
        int ok = cJSON_IsNumber(st) && st->valueint == status && cJSON_IsString(code) &&
                 code->valuestring[0] && cJSON_IsString(detail) && detail->valuestring[0];
        cJSON_Delete(j);
        if (!ok)
            fail(c, "a problem body without matching status, code and detail");
    }
    return status;
}

int fz_request(const char *method, const char *target, const fz_header_t *headers, int nheaders,
               const unsigned char *body, size_t body_len)
{
    struct mg_connection conn;
    memset(&conn, 0, sizeof conn);
    size_t tl = strlen(target);
    char *path = malloc(tl + 1), *raw = strdup(target);
    if (!path || !raw)
        abort();
    char *q = strchr(raw, '?');
    if (q)
        *q++ = 0;
    mg_url_decode(raw, (int)strlen(raw), path, (int)tl + 1, 0);
    conn.ri.request_method = method;
    conn.ri.request_uri = path;
    conn.ri.local_uri = path;
    conn.ri.local_uri_raw = path;
    conn.ri.http_version = "1.1";
    conn.ri.query_string = q;
    snprintf(conn.ri.remote_addr, sizeof conn.ri.remote_addr, "127.0.0.1");
    conn.ri.remote_port = 40000;
    conn.ri.content_length = body ? (long long)body_len : -1;
    for (int i = 0; i < nheaders && i < MG_MAX_HEADERS; i++) {
        conn.ri.http_headers[i].name = headers[i].name;
        conn.ri.http_headers[i].value = headers[i].value;
        conn.ri.num_headers++;
    }
    conn.body = body;
    conn.body_len = body ? body_len : 0;

    job_t j = {&conn, 0};
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    if (pthread_create(&th, &attr, run_job, &j) != 0)
        abort();
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    int status = check_response(&conn, j.rc);
    free(conn.out);
    free(path);
    free(raw);
    return status;
}
