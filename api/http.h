/*
 * api/http.h — the request context every handler receives, the router, and the
 * response helpers (JSON, problem+json).  One req_t owns everything a request
 * allocates; http_dispatch frees it all when the handler returns.
 */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/authz.h"
#include "db/db.h"

struct mg_connection;
struct mg_request_info;

#define MAX_PATH_PARAMS 4
#define MAX_CLAIM_IDS   256

typedef struct req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    char request_id[48];
    const char *method;
    const char *route; /* the matched pattern, for metrics */
    void *route_data;  /* as given to http_route */
    char *params[MAX_PATH_PARAMS];
    int nparams;
    char *body;
    size_t body_len;
    cJSON *json;
    int status;
    /* authentication */
    int authed;
    principal_t principal;
    char *claim_buf[2 * MAX_CLAIM_IDS + 4]; /* strings the principal borrows */
    int nclaim;
    const char *proj_ptrs[MAX_CLAIM_IDS];
    const char *unit_ptrs[MAX_CLAIM_IDS];
    db_conn_t *db;
    char *scope_lit[2];   /* cached "{uuid,...}" literals of projects and units */
    int stream_open;      /* ROUTE_STREAM: body not read to its end; answers close the connection */
    unsigned route_flags; /* the matched route's ROUTE_* flags */
} req_t;

typedef void (*handler_fn)(req_t *r);

/* Route flags. */
#define ROUTE_PUBLIC   1u /* no token needed */
#define ROUTE_NOLOG    2u /* not logged at info (health checks, metrics) */
#define ROUTE_INTERNAL 4u /* not part of the documented contract */
#define ROUTE_STREAM                                                                               \
    8u /* the body is not read before the handler: it reads it in chunks                           \
        * with http_body_read (after authentication) */
/* A read that may be slightly stale (lists, reports, search): http_db gives it a connection
 * to the read replica (DATABASE_READ_URL) when there is one, unless the client's X-Desk-LSN
 * (from its last write) is past what the replica has replayed.  Only for handlers that
 * never write. */
#define ROUTE_REPLICA 16u

/* Registers METHOD + pattern ("/v1/units/{id}").  Call only before http_start(). */
void http_route(const char *method, const char *pattern, handler_fn fn, unsigned flags, void *data);
/* Writes "METHOD pattern\n" for every documented route (for the contract test). */
void http_routes_print(void);

typedef struct http_options {
    const char *listen; /* "127.0.0.1:8080" */
    int threads;
    size_t max_body;
    const char *tls_cert; /* NULL: plain HTTP */
    /* Connections held at once; one more is answered 503 (Connection: close) as soon as its
     * header is in.  Must leave workers spare: < threads. */
    int max_connections;
    int request_timeout_ms;   /* the whole header, and the whole body, must arrive in it */
    int keepalive_timeout_ms; /* an idle kept-alive connection is closed after it */
} http_options_t;

int http_start(const http_options_t *opt);
void http_stop(void);

/* ---- responses ---- */
/* Sends a JSON body (text already serialised).  extra_headers: "Name: v\r\n..." or NULL. */
void http_send_json(req_t *r, int status, const char *json, const char *extra_headers);
/* Serialises and sends a cJSON tree (does not free it). */
void http_send_cjson(req_t *r, int status, const cJSON *j, const char *extra_headers);
void http_send_empty(req_t *r, int status, const char *extra_headers);
/* Sends 200 {"items": <array_json>} (the array text is not freed). */
void http_send_items(req_t *r, const char *array_json);
void http_send_text(req_t *r, int status, const char *ctype, const char *body);
/* Sends len bytes of body with a content type and extra headers ("Name: v\r\n..." or NULL). */
void http_send_body(req_t *r, int status, const char *ctype, const char *body, size_t len,
                    const char *extra_headers);
/* application/problem+json with a stable machine code and a detail saying what to fix. */
void http_problem(req_t *r, int status, const char *code, const char *detail_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same with extra headers ("Name: v\r\n..."). */
void http_problem_hdr(req_t *r, int status, const char *extra, const char *code,
                      const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
/* 422 naming the field that is wrong.  Every 422 carries the RFC 9457 extension member
 * errors: [{"pointer", "code", "detail"}]; this one's pointer is the JSON Pointer
 * (RFC 6901) of member `name` of object `at` inside the request body r->json (at NULL:
 * the body; name NULL: `at` itself), so "/location/unit_id" or "/items/2/type".  `code`
 * is the problem's stable code (missing_field, invalid_field, ...), `err` the entry's:
 * required, invalid_type, invalid_enum, too_short, too_long, out_of_range,
 * invalid_format, unknown_field, immutable, not_applicable, not_found, ...  Other 422s
 * (http_problem) carry one entry pointing at the whole body (""). */
void http_invalid(req_t *r, const cJSON *at, const char *name, const char *code, const char *err,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The JSON Pointer of member `name` (NULL: none) of node `at` within `root` into buf
 * ("" when `at` is not found under root). */
void http_json_pointer(const cJSON *root, const cJSON *at, const char *name, char *buf, size_t n);
/* The entry code for a member that should be a non-empty string of at most max bytes:
 * required, invalid_type, too_short, too_long (invalid_format when it is one). */
const char *http_str_err(const cJSON *v, size_t max);
/* One {"pointer", "code", "detail"} entry of errors[] (for batch item results). */
cJSON *http_error_entry(const char *pointer, const char *err, const char *detail);
/* Maps a failed PGresult to a problem response (409/422/500/503, db_sqlstate_status). */
void http_db_error(req_t *r, const PGresult *res);
/* Same for this request's last failed statement, when a db/ function only returned -1
 * (a 22xxx is the client's 422, a lost connection 503).  what: NULL or a short phrase
 * for the detail ("nothing was changed"). */
void http_db_fail(req_t *r, const char *what);

/* ---- request helpers ---- */
/* ROUTE_STREAM: reads the next at most n body bytes into buf.  Returns the count, 0 at the
 * end of the body, -1 when the connection failed or stalled. */
long http_body_read(req_t *r, void *buf, size_t n);
/* The request's Content-Length, -1 when it has none (chunked). */
long long http_content_length(req_t *r);
const char *http_header(req_t *r, const char *name);
/* Copies query parameter `name` into buf; returns length or -1 when absent. */
int http_query(req_t *r, const char *name, char *buf, size_t len);
/* Deepest nesting of arrays/objects a body may have (documented in openapi.yaml).
 * cJSON parses recursively on a civetweb worker's stack and ~1000 levels overflow it,
 * so every body is measured first by a non-recursive scan.  No documented body nests
 * deeper than 6. */
#define JSON_MAX_DEPTH 32
/* 1 when the JSON text nests arrays/objects deeper than `limit` (non-recursive; brackets
 * inside strings do not count, escapes are honoured; syntax is left to the parser). */
int http_json_too_deep(const char *s, size_t n, int limit);
/* Parses the body as a JSON object; sends 4xx itself and returns -1 on failure (400
 * json_too_deep beyond JSON_MAX_DEPTH levels, before any recursive parse). */
int http_json_body(req_t *r);
/* For operations that take no body: 0 when the body is empty (or only white space),
 * else sends 400 body_not_allowed and returns -1. */
int http_no_body(req_t *r);
/* Gets a pooled DB connection for this request (released automatically); sends 503
 * itself and returns NULL when none can be had.  ROUTE_REPLICA routes: see there.  With a
 * read replica, a successful answer to a write (not GET/HEAD) that used the primary carries
 * "X-Desk-LSN: <the primary's WAL position>" (read-your-writes, see db_acquire_for_read). */
db_conn_t *http_db(req_t *r);
/* Makes r the audit actor of c's transactions (RULES §3.13): the authenticated user and role
 * (none before authentication: login), the request id and the client's address.  http_db
 * does it for the request's connection; a handler holding a second one calls it. */
void http_set_actor(req_t *r, db_conn_t *c);
/* Authorisation: runs core_authz_check and sends 403/404 itself; returns 0 when allowed. */
int http_authorize(req_t *r, az_action_t action, const az_target_t *t);
int http_authorize_role(req_t *r, az_action_t action);

/* Keyset pages.  http_page_params reads ?limit (1..200, default 50) and ?cursor (from
 * a previous next_cursor) and sends 400 itself on bad values; after_ts/after_id stay
 * empty without a cursor.  http_send_page answers {"items":[...],"next_cursor":...}
 * from a result whose columns are (json, created_at, id) and which was asked for
 * limit + 1 rows; a failed result is answered as http_db_error does.  The caller
 * PQclears. */
typedef struct page {
    int limit;
    char after_ts[64];
    char after_id[40];
    const char *cursor_ts, *cursor_id; /* after_ts / after_id, or NULL without a cursor */
} page_t;
int http_page_params(req_t *r, page_t *pg);
/* http_page_params, then http_db: the connection, or NULL with the response sent. */
db_conn_t *http_page_db(req_t *r, page_t *pg);
/* http_db, then db_begin: the connection in a transaction, or NULL with the response sent. */
db_conn_t *http_db_begin(req_t *r);
void http_send_page(req_t *r, PGresult *res, int limit);
/* Answers 200 {"items":[...]} with column 0 of every row (a list that is not paged), or
 * the error of a failed result. */
void http_send_rows(req_t *r, PGresult *res);

/* ---- steps every resource handler shares (api/handler.c) ---- */
/* The "ETag: \"<version>\"\r\n" header line of a versioned resource into buf. */
void http_etag(char *buf, size_t len, int version);
/* Reads If-Match (3, "3" or W/"3": the ETag of a GET) into *version before a write to
 * `what` ("request", "SLA policy", ...).  Sends 428 if_match_required when it is absent
 * and 412 stale_version when it names no version, and returns -1 then; 0 otherwise. */
int http_if_match(req_t *r, const char *what, int *version);

/* A route guarded by a secret of the server's own (DESK_METRICS_TOKEN, DESK_PLATFORM_TOKEN),
 * not by a user's token: the Authorization header must be "Bearer <secret>", compared in
 * constant time for every candidate of the right length.  secret NULL: the route is off. */
typedef struct http_secret {
    const char *secret; /* NULL: off */
    size_t len;
    const char *missing_detail; /* 401 missing_token */
    const char *disabled_code;  /* 403 when secret is NULL */
    const char *disabled_detail;
    const char *invalid_detail; /* 401 invalid_token */
} http_secret_t;
/* 0 when the request carries the secret; else sends the problem and returns -1. */
int http_bearer_secret(req_t *r, const http_secret_t *s);

/* 422 unknown_field pointing at the first member of the body r->json that is not one of
 * `known` (NULL-terminated), naming them; `what` is the body ("a comment", ...).  0 when
 * every member is known. */
int http_known_fields(req_t *r, const char *what, const char *const *known);

/* Member `name` of the body r->json, required text of 1 to max bytes, into *out; sends
 * 422 missing_field / invalid_field pointing at it and returns -1 otherwise. */
int http_text_field(req_t *r, const char *name, size_t max, const char **out);

/* What a loader found: the resource's JSON (malloc'd; NULL for a scope-only load), its
 * version (the ETag; -1 for none) and the scope it is authorised against ("" members
 * are not applicable; org_id "" is the caller's organisation). */
typedef struct http_found {
    char *json;
    int version;
    int conditional; /* a GET may answer 304 to an If-None-Match naming the ETag */
    char org_id[40], project_id[40], unit_id[40], dept_id[40], owner_user[40];
} http_found_t;
/* Loads resource `id` into *f (whose members start empty, version -1): 1 found, 0 not
 * found, -1 failed (after sending the problem itself, or else a 503 is sent). */
typedef int (*http_load_fn)(req_t *r, db_conn_t *c, const char *id, const void *arg,
                            http_found_t *f);
/* Load → 404 "no <what> with this id in your scope" → authorise `action` against the
 * found scope.  0 with *f filled (the caller frees f->json), or -1 with the response
 * sent and f->json freed. */
int http_load(req_t *r, db_conn_t *c, az_action_t action, const char *what, const char *id,
              http_load_fn load, const void *arg, http_found_t *f);
/* The whole GET of one resource named by path parameter 0: the id, the role, a
 * connection, http_load, then 200 with the JSON (and its ETag), or 304. */
void http_get_one(req_t *r, az_action_t action, const char *what, http_load_fn load,
                  const void *arg);

/* The caller's projects / units as a PostgreSQL uuid[] literal, owned by the request.
 * projects: NULL for organisation-wide roles. */
const char *http_scope_projects(req_t *r);
const char *http_scope_units(req_t *r);

/* Validates a UUID string (lowercase or uppercase hex, 8-4-4-4-12). */
int http_is_uuid(const char *s);
/* Path parameter i that must be a UUID; sends 404 itself when it is not. */
const char *http_uuid_param(req_t *r, int i);

/* Metrics (api/ops.c). */
void metrics_observe(const char *route, const char *method, int status, double seconds);

#endif
