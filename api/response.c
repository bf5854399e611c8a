/*
 * api/response.c — what goes back to the client: the one-write sender, JSON and text
 * bodies, problem+json (with errors[] JSON pointers on 422), database errors turned into
 * answers, and the {"items":[...]} list pages.
 */
#include "api/codec.h"
#include "api/http.h"
#include "core/i18n.h"
#include "db/log.h"

#include <civetweb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* ---------------------------------------------------------------- responses */

/* "X-Desk-LSN: ...\r\n" after extra into buf when the answer is a successful write on
 * the primary and there is a read replica (read-your-writes), else extra alone. */
static const char *with_lsn(req_t *r, int status, const char *extra, char *buf, size_t len)
{
    char lsn[32];
    if (status >= 400 || !r->db || !db_read_pool_enabled() || !strcmp(r->method, "GET") ||
        !strcmp(r->method, "HEAD") || db_write_lsn(r->db, lsn, sizeof lsn) != 0)
        return extra;
    snprintf(buf, len, "%sX-Desk-LSN: %s\r\n", extra ? extra : "", lsn);
    return buf;
}

/* Headers and body go out in one write: with Nagle off (tcp_nodelay) that is one
 * packet for a small response instead of two. */
static void send_raw(req_t *r, int status, const char *ctype, const char *body, size_t len,
                     const char *extra)
{
    r->status = status;
    char extra_lsn[512];
    if (!extra || strlen(extra) < sizeof extra_lsn - 64)
        extra = with_lsn(r, status, extra, extra_lsn, sizeof extra_lsn);
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\n"
                      "Content-Type: %s\r\n"
                      "Content-Length: %zu\r\n"
                      "X-Request-Id: %s\r\n"
                      "Cache-Control: no-store\r\n"
                      "X-Content-Type-Options: nosniff\r\n"
                      "%s%s\r\n",
                      status, mg_get_response_code_text(r->conn, status), ctype, len, r->request_id,
                      r->stream_open ? "Connection: close\r\n" : "", extra ? extra : "");
    if (hl < 0 || (size_t)hl >= sizeof head)
        hl = (int)strlen(head);
    int with_body = len && strcmp(r->method, "HEAD") != 0;
    size_t total = (size_t)hl + (with_body ? len : 0);
    char stack[4096];
    char *buf = total <= sizeof stack ? stack : malloc(total);
    if (!buf) {
        mg_write(r->conn, head, (size_t)hl);
        if (with_body)
            mg_write(r->conn, body, len);
        return;
    }
    memcpy(buf, head, (size_t)hl);
    if (with_body)
        memcpy(buf + hl, body, len);
    mg_write(r->conn, buf, total);
    if (buf != stack)
        free(buf);
}

void http_send_json(req_t *r, int status, const char *json, const char *extra)
{
    send_raw(r, status, "application/json; charset=utf-8", json, strlen(json), extra);
}

void http_send_cjson(req_t *r, int status, const cJSON *j, const char *extra)
{
    char *s = cJSON_PrintUnformatted(j);
    if (!s) {
        http_problem(r, 500, "internal", "could not render the response");
        return;
    }
    http_send_json(r, status, s, extra);
    free(s);
}

void http_send_items(req_t *r, const char *array_json)
{
    size_t len = strlen(array_json) + 32;
    char *out = malloc(len);
    if (!out) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return;
    }
    snprintf(out, len, "{\"items\":%s}", array_json);
    http_send_json(r, 200, out, NULL);
    free(out);
}

void http_send_empty(req_t *r, int status, const char *extra)
{
    r->status = status;
    char extra_lsn[512];
    if (!extra || strlen(extra) < sizeof extra_lsn - 64)
        extra = with_lsn(r, status, extra, extra_lsn, sizeof extra_lsn);
    mg_printf(r->conn,
              "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nX-Request-Id: %s\r\nCache-Control: "
              "no-store\r\nX-Content-Type-Options: nosniff\r\n%s\r\n",
              status, mg_get_response_code_text(r->conn, status), r->request_id,
              extra ? extra : "");
}

void http_send_text(req_t *r, int status, const char *ctype, const char *body)
{
    send_raw(r, status, ctype, body, strlen(body), NULL);
}

void http_send_body(req_t *r, int status, const char *ctype, const char *body, size_t len,
                    const char *extra_headers)
{
    send_raw(r, status, ctype, body, len, extra_headers);
}

static const char *problem_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

/* The entry code of a 422 that did not name its field: from the problem's code. */
static const char *entry_code(const char *code)
{
    if (!strcmp(code, "missing_field"))
        return "required";
    if (!strcmp(code, "immutable_field"))
        return "immutable";
    return code;
}

static void problem_v(req_t *r, int status, const char *code, const char *extra,
                      const char *pointer, const char *err, const char *fmt, va_list ap)
{
    char en[1024], zh[1024];
    vsnprintf(en, sizeof en, fmt, ap);
    /* Accept-Language: zh-CN translates the detail (core/i18n.c); nothing else changes. */
    const char *detail = en;
    char hdrs[512];
    if (r->conn && core_i18n_lang(mg_get_header(r->conn, "Accept-Language")) == LANG_ZH &&
        core_i18n_detail_zh(code, en, zh, sizeof zh)) {
        detail = zh;
        snprintf(hdrs, sizeof hdrs, "%sContent-Language: zh-CN\r\n", extra ? extra : "");
        extra = hdrs;
    }
    cJSON *j = cJSON_CreateObject();
    char type[160];
    snprintf(type, sizeof type, "https://deskd.dev/problems/%s", code);
    cJSON_AddStringToObject(j, "type", type);
    cJSON_AddStringToObject(j, "title", problem_title(status));
    cJSON_AddNumberToObject(j, "status", status);
    cJSON_AddStringToObject(j, "code", code);
    cJSON_AddStringToObject(j, "detail", detail);
    cJSON_AddStringToObject(j, "request_id", r->request_id);
    /* Every 422 says where: RFC 9457 extension member "errors" (pointer "" is the body). */
    if (status == 422) {
        cJSON *errs = cJSON_AddArrayToObject(j, "errors");
        cJSON_AddItemToArray(
            errs, http_error_entry(pointer ? pointer : "", err ? err : entry_code(code), detail));
    }
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    send_raw(r, status, "application/problem+json; charset=utf-8", s ? s : "{}", s ? strlen(s) : 2,
             extra);
    free(s);
}

void http_problem(req_t *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *extra = NULL;
    if (status == 503)
        extra = "Retry-After: 5\r\n";
    else if (status == 401)
        extra = "WWW-Authenticate: Bearer\r\n";
    problem_v(r, status, code, extra, NULL, NULL, fmt, ap);
    va_end(ap);
}

void http_problem_hdr(req_t *r, int status, const char *extra, const char *code, const char *fmt,
                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_v(r, status, code, extra, NULL, NULL, fmt, ap);
    va_end(ap);
}

const char *http_str_err(const cJSON *v, size_t max)
{
    return !v                             ? "required"
           : !cJSON_IsString(v)           ? "invalid_type"
           : !v->valuestring[0]           ? "too_short"
           : strlen(v->valuestring) > max ? "too_long"
                                          : "invalid_format";
}

cJSON *http_error_entry(const char *pointer, const char *err, const char *detail)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "pointer", pointer);
    cJSON_AddStringToObject(e, "code", err);
    cJSON_AddStringToObject(e, "detail", detail);
    return e;
}

/* Appends "/" + name with ~ and / escaped (RFC 6901).  0, or -1 when it does not fit. */
static int ptr_append(char *buf, size_t n, size_t *o, const char *name)
{
    if (*o + 1 >= n)
        return -1;
    buf[(*o)++] = '/';
    for (const char *p = name; *p; p++) {
        const char *rep = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
        size_t k = rep ? 2 : 1;
        if (*o + k >= n)
            return -1;
        if (rep)
            memcpy(buf + *o, rep, 2);
        else
            buf[*o] = *p;
        *o += k;
    }
    buf[*o] = 0;
    return 0;
}

/* Depth-first search for `at` below `node` (bounded by JSON_MAX_DEPTH, as bodies are). */
static int ptr_find(const cJSON *node, const cJSON *at, char *buf, size_t n, size_t *o, int depth)
{
    if (node == at)
        return 1;
    if (depth >= JSON_MAX_DEPTH || !(cJSON_IsObject(node) || cJSON_IsArray(node)))
        return 0;
    size_t mark = *o;
    int i = 0;
    for (const cJSON *c = node->child; c; c = c->next, i++) {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", i);
        if (ptr_append(buf, n, o, cJSON_IsObject(node) && c->string ? c->string : idx) == 0 &&
            ptr_find(c, at, buf, n, o, depth + 1))
            return 1;
        *o = mark;
        buf[mark] = 0;
    }
    return 0;
}

void http_json_pointer(const cJSON *root, const cJSON *at, const char *name, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    if (at && root && at != root && !ptr_find(root, at, buf, n, &o, 0)) {
        o = 0; /* not part of the body: point at the whole body */
        buf[0] = 0;
    }
    if (name && ptr_append(buf, n, &o, name) != 0)
        buf[0] = 0;
}

void http_invalid(req_t *r, const cJSON *at, const char *name, const char *code, const char *err,
                  const char *fmt, ...)
{
    char ptr[512];
    http_json_pointer(r->json, at, name, ptr, sizeof ptr);
    va_list ap;
    va_start(ap, fmt);
    problem_v(r, 422, code, NULL, ptr, err, fmt, ap);
    va_end(ap);
}

/* The one place a database error becomes an answer (db_sqlstate_status decides the
 * status; db_error_note has already logged it). */
static void db_problem(req_t *r, const char *state, const char *msg, const char *constraint,
                       const char *what)
{
    int retry = 0;
    int st = db_sqlstate_status(state, &retry);
    if (st == 409 && retry)
        http_problem(r, 409, "conflict_retry",
                     "the record was changed concurrently; retry the request");
    else if (st == 409)
        http_problem(r, 409, "duplicate", "a record with the same unique value already exists (%s)",
                     constraint ? constraint : "unique constraint");
    else if (st == 422)
        http_problem(r, 422, "constraint_violation",
                     "the values break a rule of the data model (%s): %s; check referenced "
                     "ids belong to your organisation and values are in range",
                     constraint ? constraint : "constraint", msg && msg[0] ? msg : "invalid value");
    else if (st == 500)
        http_problem(r, 500, "internal", "the database refused the statement (SQLSTATE %s)%s%s",
                     state, what ? "; " : "", what ? what : "");
    else
        http_problem(r, 503, "database_unavailable",
                     "the database could not complete the request%s%s; retry shortly",
                     what ? ": " : "", what ? what : "");
}

void http_db_error(req_t *r, const PGresult *res)
{
    db_problem(r, db_sqlstate(res), PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
               PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME), NULL);
}

void http_db_fail(req_t *r, const char *what)
{
    const char *state, *msg, *constraint;
    db_last_error(&state, &msg, &constraint);
    db_problem(r, state, msg, constraint, what);
}
/* Answers {"items":[column 0 of the first `shown` rows]<tail>} where tail is the rest of
 * the object's members (",\"next_cursor\":...") or "". */
static void send_rows(req_t *r, PGresult *res, int shown, const char *tail)
{
    size_t total = 16 + strlen(tail);
    for (int i = 0; i < shown; i++)
        total += (size_t)PQgetlength(res, i, 0) + 1;
    char *out = malloc(total);
    if (!out) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return;
    }
    size_t o = (size_t)sprintf(out, "{\"items\":[");
    for (int i = 0; i < shown; i++) {
        if (i)
            out[o++] = ',';
        memcpy(out + o, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
        o += (size_t)PQgetlength(res, i, 0);
    }
    sprintf(out + o, "]%s}", tail);
    http_send_json(r, 200, out, NULL);
    free(out);
}

void http_send_page(req_t *r, PGresult *res, int limit)
{
    if (!db_ok(res)) {
        http_db_error(r, res);
        return;
    }
    int n = PQntuples(res), shown = n > limit ? limit : n;
    char tail[256] = ",\"next_cursor\":null";
    if (n > limit) {
        char raw[128], enc[200];
        int rl = snprintf(raw, sizeof raw, "%s|%s", PQgetvalue(res, shown - 1, 1),
                          PQgetvalue(res, shown - 1, 2));
        b64url_encode((unsigned char *)raw, (size_t)rl, enc);
        snprintf(tail, sizeof tail, ",\"next_cursor\":\"%s\"", enc);
    }
    send_rows(r, res, shown, tail);
}

void http_send_rows(req_t *r, PGresult *res)
{
    if (!db_ok(res)) {
        http_db_error(r, res);
        return;
    }
    send_rows(r, res, PQntuples(res), "");
}
