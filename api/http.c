/*
 * api/http.c — civetweb glue: one catch-all handler that finds the route, reads the
 * body under a size cap, authenticates, calls the handler, logs one line, records
 * metrics and frees everything the request owned.
 */
#include "api/http.h"
#include "core/hex.h"
#include "api/auth.h"
#include "api/codec.h"
#include "api/login_guard.h"
#include "core/csv.h" /* csv_utf8_valid: the one RFC 3629 validator */
#include "db/log.h"

#include <civetweb.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUTES 256
#define MAX_SEGS   10

typedef struct route {
    char method[8];
    char pattern[128];
    char *segs[MAX_SEGS];
    int nsegs;
    handler_fn fn;
    unsigned flags;
    void *data;
} route_t;

static route_t routes[MAX_ROUTES];
static int nroutes;
static struct mg_context *ctx;
static size_t max_body = 1 << 20;
static int body_timeout_ms = 10000;

void http_route(const char *method, const char *pattern, handler_fn fn, unsigned flags, void *data)
{
    if (nroutes >= MAX_ROUTES) {
        log_write(LOG_ERROR, "too many routes", NULL);
        abort();
    }
    route_t *rt = &routes[nroutes++];
    snprintf(rt->method, sizeof rt->method, "%s", method);
    snprintf(rt->pattern, sizeof rt->pattern, "%s", pattern);
    rt->fn = fn;
    rt->flags = flags;
    rt->data = data;
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", pattern);
    char *save = NULL;
    for (char *s = strtok_r(tmp, "/", &save); s && rt->nsegs < MAX_SEGS;
         s = strtok_r(NULL, "/", &save))
        rt->segs[rt->nsegs++] = strdup(s);
}

void http_routes_print(void)
{
    for (int i = 0; i < nroutes; i++)
        if (!(routes[i].flags & ROUTE_INTERNAL))
            printf("%s %s\n", routes[i].method, routes[i].pattern);
}

/* Splits path into segments in place; returns count or -1 when too deep. */
static int split_path(char *path, char **segs)
{
    int n = 0;
    char *save = NULL;
    for (char *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (n >= MAX_SEGS)
            return -1;
        segs[n++] = s;
    }
    return n;
}

static int literal_score(const route_t *rt)
{
    int k = 0;
    for (int i = 0; i < rt->nsegs; i++)
        k += rt->segs[i][0] != '{';
    return k;
}

static int route_matches(const route_t *rt, char **segs, int n)
{
    if (rt->nsegs != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (rt->segs[i][0] != '{' && strcmp(rt->segs[i], segs[i]) != 0)
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- request helpers */

const char *http_header(req_t *r, const char *name)
{
    return mg_get_header(r->conn, name);
}

int http_query(req_t *r, const char *name, char *buf, size_t len)
{
    const char *qs = r->ri->query_string;
    if (!qs)
        return -1;
    int n = mg_get_var(qs, strlen(qs), name, buf, len);
    return n < 0 ? -1 : n;
}

int http_json_too_deep(const char *s, size_t n, int limit)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++; /* skip the escaped character, whatever it is */
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return 1;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

int http_json_body(req_t *r)
{
    if (r->json)
        return 0;
    const char *ct = http_header(r, "Content-Type");
    if (!r->body_len) {
        http_problem(r, 400, "body_required", "send a JSON object as the request body");
        return -1;
    }
    if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
        http_problem(r, 415, "unsupported_media_type",
                     "send the body with Content-Type: application/json");
        return -1;
    }
    if (!csv_utf8_valid((const unsigned char *)r->body, r->body_len, 0)) {
        http_problem(r, 400, "invalid_utf8", "the body is not valid UTF-8 text");
        return -1;
    }
    if (http_json_too_deep(r->body, r->body_len, JSON_MAX_DEPTH)) {
        http_problem(r, 400, "json_too_deep",
                     "the body nests arrays/objects more than %d levels deep", JSON_MAX_DEPTH);
        return -1;
    }
    const char *end = NULL;
    r->json = cJSON_ParseWithLengthOpts(r->body, r->body_len + 1, &end, 1); /* incl. NUL */
    if (!r->json) {
        long off = end ? (long)(end - r->body) : 0;
        http_problem(r, 400, "malformed_json", "the body is not valid JSON (error near byte %ld)",
                     off);
        return -1;
    }
    if (!cJSON_IsObject(r->json)) {
        http_problem(r, 400, "malformed_json", "the body must be a JSON object");
        return -1;
    }
    return 0;
}

void http_set_actor(req_t *r, db_conn_t *c)
{
    char addr[GUARD_ADDR_LEN];
    guard_client_addr(r, addr);
    db_actor_t a = {.request_id = r->request_id, .client_addr = addr};
    if (r->authed && r->principal.user_id) {
        a.user_id = r->principal.user_id;
        a.role = core_role_name(r->principal.role);
    }
    db_set_actor(c, &a);
}

db_conn_t *http_db(req_t *r)
{
    if (!r->db) {
        r->db = (r->route_flags & ROUTE_REPLICA)
                    ? db_acquire_for_read(mg_get_header(r->conn, "X-Desk-LSN"))
                    : db_acquire();
        if (r->db)
            http_set_actor(r, r->db);
    }
    if (!r->db)
        http_problem(r, 503, "database_unavailable",
                     "the database is unreachable or busy; retry shortly");
    return r->db;
}

int http_no_body(req_t *r)
{
    for (size_t i = 0; i < r->body_len; i++) {
        char ch = r->body[i];
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
            http_problem(r, 400, "body_not_allowed",
                         "this operation takes no request body; send it without one");
            return -1;
        }
    }
    return 0;
}

static int forbidden(req_t *r, az_action_t action)
{
    http_problem(r, 403, "forbidden", "the role '%s' may not perform '%s'",
                 core_role_name(r->principal.role), core_authz_action_name(action));
    return -1;
}

int http_authorize_role(req_t *r, az_action_t action)
{
    if (core_authz_role(r->principal.role, action) == AZ_ALLOW)
        return 0;
    return forbidden(r, action);
}

int http_authorize(req_t *r, az_action_t action, const az_target_t *t)
{
    az_result_t a = core_authz_check(&r->principal, action, t);
    if (a == AZ_ALLOW)
        return 0;
    if (a == AZ_FORBIDDEN)
        return forbidden(r, action);
    http_problem(r, 404, "not_found", "no such record in your scope");
    return -1;
}

int http_page_params(req_t *r, page_t *pg)
{
    char lim[16], cur[256];
    memset(pg, 0, sizeof *pg);
    pg->limit = 50;
    if (http_query(r, "limit", lim, sizeof lim) >= 0) {
        char *end;
        long l = strtol(lim, &end, 10);
        if (*end || l < 1 || l > 200) {
            http_problem(r, 400, "invalid_query", "'limit' must be an integer from 1 to 200");
            return -1;
        }
        pg->limit = (int)l;
    }
    if (http_query(r, "cursor", cur, sizeof cur) >= 0) {
        unsigned char dec[128];
        int64_t tv;
        long n = b64url_decode(cur, strlen(cur), dec, sizeof dec - 1);
        char *bar = n > 0 ? (dec[n] = 0, strchr((char *)dec, '|')) : NULL;
        if (!bar || bar - (char *)dec >= (long)sizeof pg->after_ts || !http_is_uuid(bar + 1)) {
            http_problem(r, 400, "invalid_cursor",
                         "'cursor' must be a next_cursor value from a previous page");
            return -1;
        }
        memcpy(pg->after_ts, dec, (size_t)(bar - (char *)dec));
        pg->after_ts[bar - (char *)dec] = 0;
        memcpy(pg->after_id, bar + 1, 36);
        pg->after_id[36] = 0;
        pg->cursor_ts = pg->after_ts;
        pg->cursor_id = pg->after_id;
        if (rfc3339_parse(pg->after_ts, &tv) != 0) {
            http_problem(r, 400, "invalid_cursor",
                         "'cursor' must be a next_cursor value from a previous page");
            return -1;
        }
    }
    return 0;
}

static char *ids_literal(const char *const *ids, size_t n)
{
    size_t len = n * 38 + 3, o = 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            s[o++] = ',';
        size_t l = strlen(ids[i]);
        memcpy(s + o, ids[i], l);
        o += l;
    }
    s[o++] = '}';
    s[o] = 0;
    return s;
}

const char *http_scope_projects(req_t *r)
{
    if (r->principal.all_projects)
        return NULL;
    if (!r->scope_lit[0])
        r->scope_lit[0] = ids_literal(r->principal.projects, r->principal.nprojects);
    return r->scope_lit[0];
}

const char *http_scope_units(req_t *r)
{
    if (!r->scope_lit[1])
        r->scope_lit[1] = ids_literal(r->principal.units, r->principal.nunits);
    return r->scope_lit[1];
}

int http_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

const char *http_uuid_param(req_t *r, int i)
{
    if (i >= r->nparams || !http_is_uuid(r->params[i])) {
        http_problem(r, 404, "not_found", "no such record in your scope (ids are UUIDs)");
        return NULL;
    }
    return r->params[i];
}

/* ---------------------------------------------------------------- dispatch */

static void make_request_id(req_t *r)
{
    const char *given = mg_get_header(r->conn, "X-Request-Id");
    if (given && strlen(given) > 0 && strlen(given) < sizeof r->request_id) {
        int ok = 1;
        for (const char *p = given; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                ok = 0;
        if (ok) {
            snprintf(r->request_id, sizeof r->request_id, "%s", given);
            return;
        }
    }
    /* 16 random bytes, from a per-thread batch of REQUEST_ID_BATCH drawn at once: OpenSSL's
     * RAND_bytes makes a getpid() system call per draw (its fork check), one per request
     * (issue 14).  Same generator, same bytes per id; the batch is never reused. */
    enum { REQUEST_ID_BATCH = 64 };
    static _Thread_local unsigned char pool[16 * REQUEST_ID_BATCH];
    static _Thread_local size_t used = sizeof pool;
    if (used == sizeof pool) {
        if (RAND_bytes(pool, sizeof pool) != 1)
            memset(pool, 0, sizeof pool);
        used = 0;
    }
    core_hex_encode(pool + used, 16, r->request_id);
    memset(pool + used, 0, 16);
    used += 16;
}

/* Reads the body in an mg_read loop up to the cap.  Returns 0, or sends 413/400. */
static int read_body(req_t *r)
{
    long long cl = r->ri->content_length;
    if (cl > (long long)max_body) {
        http_problem(r, 413, "body_too_large", "the body may be at most %zu bytes", max_body);
        return -1;
    }
    size_t cap = cl > 0 ? (size_t)cl : 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >
            body_timeout_ms) {
            free(buf); /* a body trickled in slower than this holds a worker: refuse it */
            http_problem_hdr(r, 408, "Connection: close\r\n", "request_timeout",
                             "the body did not arrive within %d ms", body_timeout_ms);
            return -1;
        }
        if (len == cap) {
            if (cap >= max_body + 1)
                break;
            cap = cap * 2 > max_body + 1 ? max_body + 1 : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                http_problem(r, 503, "overloaded", "out of memory; retry");
                return -1;
            }
            buf = nb;
        }
        int n = mg_read(r->conn, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (cl > 0 && len < (size_t)cl) {
        /* The read timed out (or the client went away) before Content-Length bytes came: the
         * body is incomplete, never something to parse. */
        free(buf);
        http_problem_hdr(r, 408, "Connection: close\r\n", "request_timeout",
                         "the body did not arrive within %d ms (%zu of %lld bytes)",
                         body_timeout_ms, len, cl);
        return -1;
    }
    if (len > max_body) {
        free(buf);
        http_problem(r, 413, "body_too_large", "the body may be at most %zu bytes", max_body);
        return -1;
    }
    buf[len] = 0;
    r->body = buf;
    r->body_len = len;
    return 0;
}

long http_body_read(req_t *r, void *buf, size_t n)
{
    int k = mg_read(r->conn, buf, n > (1u << 30) ? (1u << 30) : n);
    if (k == 0)
        r->stream_open = 0;
    return k < 0 ? -1 : k;
}

long long http_content_length(req_t *r)
{
    return r->ri->content_length;
}

static void req_free(req_t *r)
{
    for (int i = 0; i < r->nparams; i++)
        free(r->params[i]);
    for (int i = 0; i < r->nclaim; i++)
        free(r->claim_buf[i]);
    free(r->body);
    free(r->scope_lit[0]);
    free(r->scope_lit[1]);
    cJSON_Delete(r->json);
    if (r->db)
        db_release(r->db);
}

static int dispatch(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    req_t r;
    memset(&r, 0, sizeof r);
    r.conn = conn;
    r.ri = mg_get_request_info(conn);
    r.method = r.ri->request_method;
    r.route = "unmatched";
    make_request_id(&r);
    db_error_context(r.request_id);

    char path[1024];
    snprintf(path, sizeof path, "%s", r.ri->local_uri ? r.ri->local_uri : "/");
    char *segs[MAX_SEGS];
    int n = split_path(path, segs);
    route_t *found = NULL;
    int path_known = 0;
    char allow[128] = "";
    const char *method = strcmp(r.method, "HEAD") == 0 ? "GET" : r.method;
    /* A literal segment beats a parameter: "/v1/requests/batch" is not request "batch". */
    int best = -1;
    for (int i = 0; n >= 0 && i < nroutes; i++)
        if (route_matches(&routes[i], segs, n) && literal_score(&routes[i]) > best)
            best = literal_score(&routes[i]);
    for (int i = 0; n >= 0 && i < nroutes; i++) {
        if (!route_matches(&routes[i], segs, n) || literal_score(&routes[i]) != best)
            continue;
        path_known = 1;
        if (!strcmp(routes[i].method, method)) {
            found = &routes[i];
            break;
        }
        size_t al = strlen(allow), ml = strnlen(routes[i].method, sizeof routes[i].method);
        if (al + ml + 3 < sizeof allow) {
            if (al)
                memcpy(allow + al, ", ", 2), al += 2;
            memcpy(allow + al, routes[i].method, ml);
            allow[al + ml] = 0;
        }
    }
    unsigned flags = found ? found->flags : 0;
    r.route_flags = flags;
    if (!found) {
        if (path_known) {
            char hdr[160];
            snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
            http_problem_hdr(&r, 405, hdr, "method_not_allowed", "this path accepts: %s", allow);
        } else {
            http_problem(&r, 404, "no_such_endpoint", "no such endpoint; see openapi.yaml");
        }
        goto done;
    }
    r.route = found->pattern;
    r.route_data = found->data;
    for (int i = 0; i < n && r.nparams < MAX_PATH_PARAMS; i++)
        if (found->segs[i][0] == '{')
            r.params[r.nparams++] = strdup(segs[i]);

    r.stream_open = (found->flags & ROUTE_STREAM) && r.ri->content_length != 0;
    if ((!strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) &&
        !(found->flags & ROUTE_STREAM)) {
        if (read_body(&r) != 0)
            goto done;
    }
    const char *lsn = mg_get_header(conn, "X-Desk-LSN");
    if (lsn && !db_lsn_valid(lsn)) {
        http_problem(&r, 400, "invalid_lsn",
                     "X-Desk-LSN must be the value of the X-Desk-LSN header of an earlier "
                     "answer (like 0/16B3748)");
        goto done;
    }
    if (!(found->flags & ROUTE_PUBLIC) && auth_authenticate(&r) != 0)
        goto done;
    found->fn(&r);
    if (!r.status)
        http_problem(&r, 500, "internal", "the handler produced no response");
done:
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    metrics_observe(r.route, r.method, r.status, secs);
    log_level_t lvl = r.status >= 500 ? LOG_ERROR : (flags & ROUTE_NOLOG) ? LOG_DEBUG : LOG_INFO;
    if (log_enabled(lvl)) {
        char esc[600];
        log_write(lvl, "request",
                  "\"request_id\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"route\":\"%s\","
                  "\"status\":%d,\"ms\":%.3f,\"user\":\"%s\"",
                  r.request_id, r.method, log_esc(r.ri->local_uri, esc, sizeof esc), r.route,
                  r.status, secs * 1000.0, r.principal.user_id ? r.principal.user_id : "");
    }
    int status = r.status;
    req_free(&r);
    return status ? status : 500;
}

/* ---------------------------------------------------------------- connection cap */

/* Each civetweb worker serves one connection at a time, from its first header byte to the
 * end of keep-alive.  Connections are counted from the moment a worker takes them; above
 * the cap the request is answered 503 at once rather than served, so that the workers kept
 * spare stay available and a flood is refused instead of queued. */
static int conn_open, conn_cap;
static char conn_counted, conn_over; /* addresses used as per-connection marks */

static int on_init_connection(const struct mg_connection *c, void **data)
{
    (void)c;
    int n = __atomic_add_fetch(&conn_open, 1, __ATOMIC_RELAXED);
    *data = n > conn_cap ? &conn_over : &conn_counted;
    return 0;
}

static void on_connection_close(const struct mg_connection *c)
{
    if (mg_get_user_connection_data(c))
        __atomic_sub_fetch(&conn_open, 1, __ATOMIC_RELAXED);
}

static int on_begin_request(struct mg_connection *c)
{
    if (mg_get_user_connection_data(c) != &conn_over)
        return 0;
    static const char body[] =
        "{\"type\":\"https://deskd.dev/problems/overloaded\",\"title\":\"Service "
        "Unavailable\",\"status\":503,\"code\":\"overloaded\",\"detail\":\"the server holds "
        "as many connections as it serves; retry shortly\"}";
    mg_printf(c,
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
              "Content-Length: %zu\r\nRetry-After: 1\r\nCache-Control: no-store\r\n"
              "Connection: close\r\n\r\n%s",
              sizeof body - 1, body);
    log_write(LOG_WARN, "connection refused: over the connection cap", "\"cap\":%d", conn_cap);
    return 503;
}

/* civetweb's authorization step: deskd's own is in dispatch. */
static int allow_all(struct mg_connection *conn, void *cbdata)
{
    (void)conn;
    (void)cbdata;
    return 1;
}

int http_start(const http_options_t *opt)
{
    max_body = opt->max_body;
    body_timeout_ms = opt->request_timeout_ms > 0 ? opt->request_timeout_ms : 10000;
    conn_cap = opt->max_connections > 0 ? opt->max_connections : opt->threads;
    char threads[16], port[160], req_to[16], ka_to[16], queue[16];
    snprintf(threads, sizeof threads, "%d", opt->threads);
    snprintf(req_to, sizeof req_to, "%d", body_timeout_ms);
    snprintf(ka_to, sizeof ka_to, "%d",
             opt->keepalive_timeout_ms > 0 ? opt->keepalive_timeout_ms : 5000);
    /* Accepted sockets waiting for a worker: a few, not a hiding place for a flood. */
    snprintf(queue, sizeof queue, "%d", opt->threads < 64 ? opt->threads : 64);
    snprintf(port, sizeof port, "%s%s", opt->listen, opt->tls_cert ? "s" : "");
    const char *options[32];
    int k = 0;
    options[k++] = "listening_ports";
    options[k++] = port;
    options[k++] = "num_threads";
    options[k++] = threads;
    options[k++] = "enable_keep_alive";
    options[k++] = "yes";
    /* civetweb 1.15: the whole request header must arrive within request_timeout_ms of the
     * connection's first byte (keep_alive_timeout_ms for the next request on it); each body
     * read is bounded by it too, and read_body bounds the whole body. */
    options[k++] = "request_timeout_ms";
    options[k++] = req_to;
    options[k++] = "keep_alive_timeout_ms";
    options[k++] = ka_to;
    options[k++] = "connection_queue";
    options[k++] = queue;
    options[k++] = "listen_backlog";
    options[k++] = "512";
    /* Without it small responses wait ~40 ms for the peer's delayed ACK. */
    options[k++] = "tcp_nodelay";
    options[k++] = "1";
    if (opt->tls_cert) {
        options[k++] = "ssl_certificate";
        options[k++] = opt->tls_cert;
    }
    options[k] = NULL;
    mg_init_library(opt->tls_cert ? MG_FEATURES_TLS : 0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.init_connection = on_init_connection;
    cb.connection_close = on_connection_close;
    cb.begin_request = on_begin_request;
    ctx = mg_start(&cb, NULL, options);
    if (!ctx)
        return -1;
    /* An authorization handler for every URI: civetweb then skips its own check, which
     * looked for a .htpasswd file (a stat system call per request, issue 14); deskd
     * authenticates in dispatch. */
    mg_set_auth_handler(ctx, "/", allow_all, NULL);
    mg_set_request_handler(ctx, "/", dispatch, NULL);
    return 0;
}

void http_stop(void)
{
    if (ctx)
        mg_stop(ctx); /* waits for in-flight requests */
    ctx = NULL;
    mg_exit_library();
}
