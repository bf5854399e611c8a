/*
 * api/audit.c — reading the audit log (RULES §3.13): GET /v1/audit (filters, newest first,
 * cursor pages), /v1/audit/heads (the chain's last hash per day, to keep elsewhere),
 * /v1/audit/verify (recomputes the chain, names the first broken row) and
 * /v1/audit/retention (records past their retention; nothing is deleted).  Auditor, admin
 * and GM of the caller's organisation only; the log is written by the database triggers
 * and by api/auth.c, never through these routes.
 */
#include "api/api.h"
#include "api/http.h"
#include "core/rfc3339.h"
#include "db/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Optional text query parameter of at most max bytes into buf; NULL when absent.  Sends
 * 400 and sets *bad when empty or too long. */
static const char *text_param(req_t *r, const char *name, char *buf, size_t len, int *bad)
{
    int n = http_query(r, name, buf, len);
    if (n < 0)
        return NULL;
    if (n == 0 || (size_t)n >= len - 1) {
        http_problem(r, 400, "invalid_query", "'%s' must be 1 to %zu characters", name, len - 2);
        *bad = 1;
        return NULL;
    }
    return buf;
}

static const char *time_param(req_t *r, const char *name, char *buf, size_t len, int *bad)
{
    const char *v = text_param(r, name, buf, len, bad);
    int64_t t;
    if (v && rfc3339_parse(v, &t) != 0) {
        http_problem(r, 400, "invalid_query",
                     "'%s' must be an RFC 3339 time such as 2026-05-01T00:00:00Z", name);
        *bad = 1;
        return NULL;
    }
    return v;
}

/* A positive decimal number of at most 18 digits. */
static int is_count(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || s[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_AUDIT_READ) != 0)
        return;
    char rt[66], rid[130], actor[66], action[66], from[66], to[66], cur[24], lim[8];
    int bad = 0;
    db_audit_filter_t f = {.limit = 50};
    f.resource_type = text_param(r, "resource_type", rt, sizeof rt, &bad);
    if (!bad)
        f.resource_id = text_param(r, "resource_id", rid, sizeof rid, &bad);
    if (!bad)
        f.actor = text_param(r, "actor", actor, sizeof actor, &bad);
    if (!bad)
        f.action = text_param(r, "action", action, sizeof action, &bad);
    if (!bad)
        f.from = time_param(r, "from", from, sizeof from, &bad);
    if (!bad)
        f.to = time_param(r, "to", to, sizeof to, &bad);
    if (bad)
        return;
    if (http_query(r, "cursor", cur, sizeof cur) >= 0) {
        if (!is_count(cur)) {
            http_problem(r, 400, "invalid_cursor",
                         "'cursor' must be the next_cursor of a previous page");
            return;
        }
        f.before_id = cur;
    }
    if (http_query(r, "limit", lim, sizeof lim) >= 0) {
        if (!is_count(lim) || atoi(lim) > 200) {
            http_problem(r, 400, "invalid_query", "'limit' must be a whole number 1 to 200");
            return;
        }
        f.limit = atoi(lim);
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    int want = f.limit;
    f.limit = want + 1;
    PGresult *x = db_audit_list(c, r->principal.org_id, &f);
    if (!db_ok(x)) {
        http_db_error(r, x);
        PQclear(x);
        return;
    }
    int n = PQntuples(x);
    int shown = n > want ? want : n;
    size_t cap = 64;
    for (int i = 0; i < shown; i++)
        cap += (size_t)PQgetlength(x, i, 0) + 1;
    char *out = malloc(cap);
    if (!out) {
        PQclear(x);
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return;
    }
    size_t at = 0;
    at += (size_t)snprintf(out, cap, "{\"items\":[");
    for (int i = 0; i < shown; i++) {
        if (i)
            out[at++] = ',';
        size_t len = (size_t)PQgetlength(x, i, 0);
        memcpy(out + at, PQgetvalue(x, i, 0), len);
        at += len;
    }
    if (n > want)
        snprintf(out + at, cap - at, "],\"next_cursor\":\"%s\"}", PQgetvalue(x, shown - 1, 1));
    else
        snprintf(out + at, cap - at, "],\"next_cursor\":null}");
    PQclear(x);
    http_send_json(r, 200, out, NULL);
    free(out);
}

/* Answers the one JSON text row of x. */
static void send_row(req_t *r, PGresult *x)
{
    if (!db_ok(x) || PQntuples(x) != 1)
        http_db_error(r, x);
    else
        http_send_json(r, 200, PQgetvalue(x, 0, 0), NULL);
    PQclear(x);
}

static int date_param(req_t *r, const char *name, char out[16], int *given)
{
    char buf[32];
    int n = http_query(r, name, buf, sizeof buf);
    *given = n >= 0;
    if (n < 0)
        return 0;
    int64_t t;
    char full[48];
    snprintf(full, sizeof full, "%sT00:00:00Z", buf);
    if (n != 10 || rfc3339_parse(full, &t) != 0) {
        http_problem(r, 400, "invalid_query", "'%s' must be a date YYYY-MM-DD", name);
        return -1;
    }
    memcpy(out, buf, 11);
    return 0;
}

static void heads_h(req_t *r)
{
    if (http_authorize_role(r, AZ_AUDIT_READ) != 0)
        return;
    char from[16], to[16];
    int has_from, has_to;
    if (date_param(r, "from", from, &has_from) != 0 || date_param(r, "to", to, &has_to) != 0)
        return;
    int64_t now = (int64_t)time(NULL);
    char ts[32];
    if (!has_to) {
        rfc3339_format(now, ts);
        memcpy(to, ts, 10);
        to[10] = 0;
    }
    int64_t tt, tf;
    char full[48];
    snprintf(full, sizeof full, "%sT00:00:00Z", to);
    rfc3339_parse(full, &tt);
    if (!has_from) {
        rfc3339_format(tt - 30 * 86400, ts);
        memcpy(from, ts, 10);
        from[10] = 0;
    }
    snprintf(full, sizeof full, "%sT00:00:00Z", from);
    rfc3339_parse(full, &tf);
    if (tf > tt || tt - tf > 366 * 86400) {
        http_problem(r, 400, "invalid_query",
                     "'from' must not be after 'to', and the range is at most 366 days");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    send_row(r, db_audit_heads(c, r->principal.org_id, from, to));
}

static void verify_h(req_t *r)
{
    if (http_authorize_role(r, AZ_AUDIT_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    send_row(r, db_audit_verify(c, r->principal.org_id));
}

static void retention_h(req_t *r)
{
    if (http_authorize_role(r, AZ_AUDIT_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    send_row(r, db_audit_retention(c, r->principal.org_id));
}

void api_audit_register(void)
{
    http_route("GET", "/v1/audit", list_h, 0, NULL);
    http_route("GET", "/v1/audit/heads", heads_h, 0, NULL);
    http_route("GET", "/v1/audit/verify", verify_h, 0, NULL);
    http_route("GET", "/v1/audit/retention", retention_h, 0, NULL);
}
