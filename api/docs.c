/*
 * api/docs.c — the API's own documentation: GET /openapi.yaml answers the contract the
 * binary was built with, byte for byte, and GET /docs the reference rendered from it.  Both
 * are inside the binary (CMakeLists.txt assembles them in), so nothing is read or fetched
 * at run time.  With Redoc (built when tools/node_modules is installed) /docs is Redocly's
 * page and its script is GET /docs/redoc.js; otherwise /docs is a plain page made here
 * from the embedded spec: every tag with its operations (method, path, summary).
 */
#include "api/api.h"
#include "api/http.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From the generated docs_embed.c: each blob is followed by a NUL byte. */
extern const int docs_have_redoc;
extern const char docs_openapi_yaml[], docs_openapi_yaml_end[];
extern const char docs_redoc_html[], docs_redoc_html_end[];
extern const char docs_redoc_js[], docs_redoc_js_end[];

/* ---------------------------------------------------------------- built-in page */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *p, size_t n)
{
    if (!b->s && b->cap)
        return; /* an earlier allocation failed */
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (b->n + n + 1 > cap)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            free(b->s);
            b->s = NULL;
            b->cap = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_str(sbuf_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* HTML-escaped text of s[0..n). */
static void sb_esc(sbuf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<':
            sb_str(b, "&lt;");
            break;
        case '>':
            sb_str(b, "&gt;");
            break;
        case '&':
            sb_str(b, "&amp;");
            break;
        case '"':
            sb_str(b, "&quot;");
            break;
        default:
            sb_put(b, &s[i], 1);
        }
    }
}

/* One operation of the spec as the simple reader below sees it. */
typedef struct doc_op {
    char method[8];
    const char *path, *summary, *tag, *id;
    size_t path_len, summary_len, tag_len, id_len;
} doc_op_t;

/* The value after "key: " on a line (quotes dropped); len 0 when there is none. */
static const char *line_value(const char *s, const char *eol, size_t *len)
{
    const char *colon = memchr(s, ':', (size_t)(eol - s));
    if (!colon)
        return *len = 0, NULL;
    const char *v = colon + 1;
    while (v < eol && *v == ' ')
        v++;
    const char *e = eol;
    while (e > v && (e[-1] == ' ' || e[-1] == '\r'))
        e--;
    if (e - v >= 2 && (*v == '\'' || *v == '"') && e[-1] == *v)
        v++, e--;
    *len = (size_t)(e - v);
    return v;
}

static int key_is(const char *s, const char *eol, const char *key)
{
    size_t k = strlen(key);
    return (size_t)(eol - s) > k && !strncmp(s, key, k) && s[k] == ':';
}

/*
 * The plain page: reads the YAML the way tests/api/test_contract.c does (paths at indent 2,
 * methods at indent 4, their summary/operationId/first tag at indent 6 and 8; the top-level
 * tags list with "- name:"), so it needs no YAML library.
 */
static char *builtin_page(void)
{
    enum { MAX_OPS = 512, MAX_TAGS = 64 };
    static doc_op_t ops[MAX_OPS];
    const char *tags[MAX_TAGS];
    size_t tag_len[MAX_TAGS];
    int nops = 0, ntags = 0, section = 0; /* 1 tags, 2 paths */
    const char *path = NULL, *title = NULL;
    size_t path_len = 0, title_len = 0;
    doc_op_t *cur = NULL;
    int in_op_tags = 0;
    static const char *const methods[] = {"get", "put", "post", "patch", "delete"};
    for (const char *s = docs_openapi_yaml; s < docs_openapi_yaml_end;) {
        const char *eol = memchr(s, '\n', (size_t)(docs_openapi_yaml_end - s));
        if (!eol)
            eol = docs_openapi_yaml_end;
        int ind = 0;
        while (s + ind < eol && s[ind] == ' ')
            ind++;
        const char *t = s + ind;
        if (t < eol && *t != '#') {
            if (ind == 0) {
                section = key_is(t, eol, "tags") ? 1 : key_is(t, eol, "paths") ? 2 : 0;
                cur = NULL;
            } else if (ind == 2 && !title && key_is(t, eol, "title")) {
                title = line_value(t, eol, &title_len);
            } else if (section == 1 && ind == 2 && !strncmp(t, "- name:", 7) && ntags < MAX_TAGS) {
                tags[ntags] = line_value(t + 2, eol, &tag_len[ntags]);
                ntags++;
            } else if (section == 2 && ind == 2 && *t == '/') {
                path = t;
                path_len = (size_t)((const char *)memchr(t, ':', (size_t)(eol - t)) - t);
                cur = NULL;
            } else if (section == 2 && ind == 4 && path) {
                cur = NULL;
                for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
                    if (key_is(t, eol, methods[m]) && nops < MAX_OPS) {
                        cur = &ops[nops++];
                        memset(cur, 0, sizeof *cur);
                        for (size_t k = 0; methods[m][k]; k++)
                            cur->method[k] = (char)(methods[m][k] - 'a' + 'A');
                        cur->path = path;
                        cur->path_len = path_len;
                    }
                in_op_tags = 0;
            } else if (cur && ind == 6) {
                in_op_tags = key_is(t, eol, "tags");
                if (key_is(t, eol, "summary"))
                    cur->summary = line_value(t, eol, &cur->summary_len);
                else if (key_is(t, eol, "operationId"))
                    cur->id = line_value(t, eol, &cur->id_len);
            } else if (cur && in_op_tags && ind == 8 && *t == '-' && !cur->tag) {
                const char *v = t + 1;
                while (v < eol && *v == ' ')
                    v++;
                const char *e = eol;
                while (e > v && (e[-1] == ' ' || e[-1] == '\r'))
                    e--;
                cur->tag = v;
                cur->tag_len = (size_t)(e - v);
            }
        }
        s = eol + 1;
    }
    sbuf_t b = {0};
    sb_str(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    sb_esc(&b, title ? title : "deskd API", title ? title_len : 9);
    sb_str(&b, "</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:"
               "60em;padding:0 1em}code{font-size:14px}h2{border-bottom:1px solid #ccc}"
               "td{padding:.2em .8em .2em 0;vertical-align:top}.m{font-weight:bold}</style>"
               "</head><body><h1>");
    sb_esc(&b, title ? title : "deskd API", title ? title_len : 9);
    sb_str(&b, "</h1><p>The operations of the contract this server was built with. The whole "
               "contract, with schemas and errors: <a href=\"/openapi.yaml\">openapi.yaml</a> "
               "(OpenAPI 3.1; open it in any OpenAPI viewer).</p>\n");
    for (int t = 0; t < ntags; t++) {
        sb_str(&b, "<h2 id=\"tag-");
        sb_esc(&b, tags[t], tag_len[t]);
        sb_str(&b, "\">");
        sb_esc(&b, tags[t], tag_len[t]);
        sb_str(&b, "</h2>\n<table>\n");
        for (int i = 0; i < nops; i++) {
            const doc_op_t *o = &ops[i];
            if (!o->tag || o->tag_len != tag_len[t] || memcmp(o->tag, tags[t], tag_len[t]))
                continue;
            sb_str(&b, "<tr id=\"op-");
            sb_esc(&b, o->id ? o->id : "", o->id ? o->id_len : 0);
            sb_str(&b, "\"><td class=\"m\">");
            sb_str(&b, o->method);
            sb_str(&b, "</td><td><code>");
            sb_esc(&b, o->path, o->path_len);
            sb_str(&b, "</code></td><td>");
            sb_esc(&b, o->summary ? o->summary : "", o->summary ? o->summary_len : 0);
            sb_str(&b, "</td></tr>\n");
        }
        sb_str(&b, "</table>\n");
    }
    sb_str(&b, "</body></html>\n");
    return b.s;
}

static char *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void make_builtin(void)
{
    builtin = builtin_page();
}

/* ---------------------------------------------------------------- handlers */

static void send_blob(req_t *r, const char *ctype, const char *start, const char *end)
{
    http_send_body(r, 200, ctype, start, (size_t)(end - start), NULL);
}

static void openapi_yaml(req_t *r)
{
    send_blob(r, "application/yaml; charset=utf-8", docs_openapi_yaml, docs_openapi_yaml_end);
}

static void docs_page(req_t *r)
{
    if (docs_have_redoc) {
        send_blob(r, "text/html; charset=utf-8", docs_redoc_html, docs_redoc_html_end);
        return;
    }
    pthread_once(&builtin_once, make_builtin);
    if (!builtin) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return;
    }
    http_send_text(r, 200, "text/html; charset=utf-8", builtin);
}

static void redoc_js(req_t *r)
{
    if (!docs_have_redoc) {
        http_problem(r, 404, "not_found",
                     "this build serves the plain /docs page, which needs no script (build with "
                     "tools/node_modules installed for the Redoc reference)");
        return;
    }
    send_blob(r, "text/javascript; charset=utf-8", docs_redoc_js, docs_redoc_js_end);
}

void api_docs_register(void)
{
    http_route("GET", "/openapi.yaml", openapi_yaml, ROUTE_PUBLIC | ROUTE_NOLOG, NULL);
    http_route("GET", "/docs", docs_page, ROUTE_PUBLIC | ROUTE_NOLOG, NULL);
    http_route("GET", "/docs/redoc.js", redoc_js, ROUTE_PUBLIC | ROUTE_NOLOG, NULL);
}
