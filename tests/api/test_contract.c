/*
 * Contract test: openapi.yaml and the running server agree.
 *
 *  - the operations under `paths:` in openapi.yaml are exactly the routes deskd registers
 *    (`deskd --print-routes`), each difference printed;
 *  - every documented operation is served (never 405, never a 404 route miss), and its error
 *    answers are application/problem+json;
 *  - every operation without `security: []` answers 401 missing_token without a token, and the
 *    public ones do not ask for one;
 *  - another method on a documented path answers 405 with an Allow header naming exactly the
 *    documented methods, and an undocumented path answers 404 no_such_endpoint.
 *
 * The YAML is read with a deliberately simple line parser: under the top-level `paths:` key,
 * keys at indent 2 that start with "/" are paths, keys at indent 4 among get/put/post/patch/
 * delete are operations, and `security: []` at indent 6 marks an operation public.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/harness.h"

#define MAX_OPS 512

typedef struct op {
    char method[8];
    char path[256];
    int is_public; /* documented with `security: []` */
} op_t;

static op_t spec[MAX_OPS];
static int nspec;
static op_t served[MAX_OPS];
static int nserved;

static const char *const methods[] = {"get", "put", "post", "patch", "delete"};

/* ---------------------------------------------------------------- openapi.yaml */

static int indent_of(const char *s)
{
    int n = 0;
    while (s[n] == ' ')
        n++;
    return n;
}

static void rstrip(char *s)
{
    size_t l = strlen(s);
    while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
        s[--l] = 0;
}

/* Copies the key of "key: ..." / "key:" (quotes removed) into out; 0 when the line is no key. */
static int line_key(const char *s, char *out, size_t len)
{
    const char *colon;
    char q = 0;
    if (*s == '\'' || *s == '"') {
        q = *s++;
        const char *end = strchr(s, q);
        if (!end || end[1] != ':')
            return 0;
        colon = end + 1;
        if ((size_t)(end - s) >= len)
            return 0;
        memcpy(out, s, (size_t)(end - s));
        out[end - s] = 0;
    } else {
        colon = strchr(s, ':');
        if (!colon || (colon[1] != 0 && colon[1] != ' '))
            return 0;
        if ((size_t)(colon - s) >= len)
            return 0;
        memcpy(out, s, (size_t)(colon - s));
        out[colon - s] = 0;
    }
    return 1;
}

static void load_spec(void)
{
    const char *dir = getenv("DESKD_SOURCE_DIR");
    if (!dir)
        fail_msg("DESKD_SOURCE_DIR is not set");
    char fn[1024];
    snprintf(fn, sizeof fn, "%s/openapi.yaml", dir);
    FILE *f = fopen(fn, "r");
    if (!f)
        fail_msg("cannot open %s", fn);
    char line[4096], path[256] = "", key[256];
    int in_paths = 0;
    op_t *cur = NULL;
    nspec = 0;
    while (fgets(line, sizeof line, f)) {
        rstrip(line);
        int ind = indent_of(line);
        const char *s = line + ind;
        if (!*s || *s == '#')
            continue;
        if (ind == 0) {
            in_paths = !strcmp(s, "paths:");
            cur = NULL;
            continue;
        }
        if (!in_paths)
            continue;
        if (ind == 2) {
            cur = NULL;
            path[0] = 0;
            if (line_key(s, key, sizeof key) && key[0] == '/')
                snprintf(path, sizeof path, "%s", key);
        } else if (ind == 4) {
            cur = NULL;
            if (!path[0] || !line_key(s, key, sizeof key))
                continue;
            for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
                if (strcmp(key, methods[i]) != 0)
                    continue;
                assert_true(nspec < MAX_OPS);
                cur = &spec[nspec++];
                memset(cur, 0, sizeof *cur);
                for (int k = 0; key[k]; k++)
                    cur->method[k] = (char)toupper((unsigned char)key[k]);
                snprintf(cur->path, sizeof cur->path, "%s", path);
            }
        } else if (ind == 6 && cur && !strncmp(s, "security:", 9)) {
            const char *v = s + 9;
            while (*v == ' ')
                v++;
            cur->is_public = !strcmp(v, "[]");
        }
    }
    fclose(f);
    if (nspec == 0)
        fail_msg("no operations found under paths: in %s", fn);
}

/* ---------------------------------------------------------------- deskd --print-routes */

static void load_routes(void)
{
    const char *bin = getenv("DESKD_BIN");
    if (!bin)
        fail_msg("DESKD_BIN is not set");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "DATABASE_URL=x DESK_JWT_SECRET=contract-secret-0123456789abcdefghijkl '%s' "
             "--print-routes",
             bin);
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("cannot run %s", cmd);
    char line[1024];
    nserved = 0;
    while (fgets(line, sizeof line, p)) {
        rstrip(line);
        char *sp = strchr(line, ' ');
        if (!sp || sp[1] != '/' || sp - line >= (long)sizeof served[0].method)
            continue;
        assert_true(nserved < MAX_OPS);
        op_t *o = &served[nserved++];
        memset(o, 0, sizeof *o);
        memcpy(o->method, line, (size_t)(sp - line));
        snprintf(o->path, sizeof o->path, "%s", sp + 1);
    }
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("%s exited with status %d", cmd, rc);
    if (nserved == 0)
        fail_msg("%s printed no routes", cmd);
}

static int find_op(const op_t *set, int n, const char *method, const char *path)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(set[i].method, method) && !strcmp(set[i].path, path))
            return i;
    return -1;
}

/* ---------------------------------------------------------------- helpers */

static void random_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    for (int i = 0; i < 16; i++)
        b[i] = (unsigned char)(rand() & 0xff);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = 0;
}

/* The concrete URL of a path template: every {param} becomes a random UUID. */
static void concrete_path(const char *tmpl, char *out, size_t len)
{
    size_t o = 0;
    for (const char *s = tmpl; *s && o + 1 < len;) {
        if (*s == '{') {
            const char *end = strchr(s, '}');
            if (end) {
                char id[37];
                random_uuid(id);
                o += (size_t)snprintf(out + o, len - o, "%s", id);
                s = end + 1;
                continue;
            }
        }
        out[o++] = *s++;
    }
    out[o < len ? o : len - 1] = 0;
}

/* Sends the probe request of a documented operation. */
static th_resp_t *probe(const op_t *op, const char *token)
{
    char url[512];
    concrete_path(op->path, url, sizeof url);
    int has_body =
        !strcmp(op->method, "POST") || !strcmp(op->method, "PUT") || !strcmp(op->method, "PATCH");
    const char *if_match[] = {"If-Match: \"1\"", NULL};
    return th_req(op->method, url, token, has_body ? "{}" : NULL,
                  !strcmp(op->method, "PATCH") ? if_match : NULL);
}

static int is_problem_json(const th_resp_t *r)
{
    const char *ct = th_header(r, "Content-Type");
    return ct && !strncmp(ct, "application/problem+json", 24) && th_str(r, "code")[0] &&
           th_str(r, "detail")[0];
}

/* ---------------------------------------------------------------- tests */

static void test_spec_matches_routes(void **state)
{
    (void)state;
    load_spec();
    load_routes();
    int diffs = 0;
    for (int i = 0; i < nspec; i++) {
        if (find_op(spec, i, spec[i].method, spec[i].path) >= 0) {
            fprintf(stderr, "documented twice: %s %s\n", spec[i].method, spec[i].path);
            diffs++;
        }
        if (find_op(served, nserved, spec[i].method, spec[i].path) < 0) {
            fprintf(stderr, "documented in openapi.yaml but not served: %s %s\n", spec[i].method,
                    spec[i].path);
            diffs++;
        }
    }
    for (int i = 0; i < nserved; i++)
        if (find_op(spec, nspec, served[i].method, served[i].path) < 0) {
            fprintf(stderr, "served but not documented in openapi.yaml: %s %s\n", served[i].method,
                    served[i].path);
            diffs++;
        }
    if (diffs)
        fail_msg("openapi.yaml and deskd --print-routes differ in %d operation(s)", diffs);
}

static int server_setup(void **state)
{
    (void)state;
    if (nspec == 0)
        load_spec();
    return th_start(NULL);
}

static void test_documented_operations_are_served(void **state)
{
    (void)state;
    const char *admin = th_token("admin");
    assert_non_null(admin);
    int bad = 0;
    for (int i = 0; i < nspec; i++) {
        const op_t *op = &spec[i];
        th_resp_t *r = probe(op, admin);
        const char *why = NULL;
        if (r->status == 0)
            why = "no answer";
        else if (r->status == 405)
            why = "method not allowed";
        else if (r->status == 404 && !strcmp(th_str(r, "code"), "no_such_endpoint"))
            why = "route miss";
        else if (r->status == 500)
            why = "internal error";
        else if (r->status >= 400 && !is_problem_json(r))
            why = "error answer is not application/problem+json with code and detail";
        if (why) {
            fprintf(stderr, "%s %s -> %ld (%s): %s\n", op->method, op->path, r->status, why,
                    r->body);
            bad++;
        }
        th_free(r);
    }
    if (bad)
        fail_msg("%d documented operation(s) are not served properly", bad);
}

static void test_protected_operations_need_token(void **state)
{
    (void)state;
    int bad = 0, nprotected = 0;
    for (int i = 0; i < nspec; i++) {
        const op_t *op = &spec[i];
        th_resp_t *r = probe(op, NULL);
        if (!op->is_public) {
            nprotected++;
            if (r->status != 401 || !is_problem_json(r) ||
                strcmp(th_str(r, "code"), "missing_token") != 0 ||
                !th_header(r, "WWW-Authenticate")) {
                fprintf(stderr, "%s %s without a token -> %ld %s (want 401 missing_token)\n",
                        op->method, op->path, r->status, r->body);
                bad++;
            }
        } else if (r->status == 401 && (!strcmp(th_str(r, "code"), "missing_token") ||
                                        !strcmp(th_str(r, "code"), "invalid_token"))) {
            fprintf(stderr, "%s %s is documented public (security: []) but wants a token\n",
                    op->method, op->path);
            bad++;
        }
        th_free(r);
    }
    assert_true(nprotected > 0);
    if (bad)
        fail_msg("%d operation(s) disagree with their documented security", bad);
}

/* Whether the comma-separated method list `allow` holds exactly the documented methods of
 * `path`; `want` receives the documented list for messages. */
static int allow_matches(const char *allow, const char *path, char *want, size_t len)
{
    int documented = 0, listed = 0, ok = 1;
    want[0] = 0;
    for (int k = 0; k < nspec; k++) {
        if (strcmp(spec[k].path, path) != 0)
            continue;
        size_t wl = strlen(want);
        snprintf(want + wl, len - wl, "%s%s", wl ? ", " : "", spec[k].method);
        documented++;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", allow);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        listed++;
        if (find_op(spec, nspec, t, path) < 0)
            ok = 0;
    }
    return ok && listed == documented;
}

static void test_other_methods_answer_405(void **state)
{
    (void)state;
    const char *admin = th_token("admin");
    assert_non_null(admin);
    static const char *const try_methods[] = {"DELETE", "PUT", "PATCH", "POST", "GET"};
    int bad = 0;
    for (int i = 0; i < nspec; i++) {
        int first = 1;
        for (int k = 0; k < i && first; k++)
            first = strcmp(spec[k].path, spec[i].path) != 0;
        if (!first)
            continue; /* one probe per path */
        const char *m = NULL;
        for (size_t k = 0; k < sizeof try_methods / sizeof try_methods[0] && !m; k++)
            if (find_op(spec, nspec, try_methods[k], spec[i].path) < 0)
                m = try_methods[k];
        if (!m)
            continue;
        op_t other = spec[i];
        snprintf(other.method, sizeof other.method, "%s", m);
        th_resp_t *r = probe(&other, admin);
        /* th_header returns a static buffer: copy it before the next call. */
        char allow[256] = "", want[128];
        const char *h = th_header(r, "Allow");
        if (h)
            snprintf(allow, sizeof allow, "%s", h);
        int ok = r->status == 405 && h && is_problem_json(r) &&
                 !strcmp(th_str(r, "code"), "method_not_allowed");
        if (!allow_matches(allow, spec[i].path, want, sizeof want))
            ok = 0;
        if (!ok) {
            fprintf(stderr, "%s %s -> %ld, Allow: %s (want 405 method_not_allowed, Allow: %s)\n", m,
                    spec[i].path, r->status, h ? allow : "(none)", want);
            bad++;
        }
        th_free(r);
    }
    if (bad)
        fail_msg("%d path(s) answer other methods wrongly", bad);
}

static void test_undocumented_path_is_404(void **state)
{
    (void)state;
    const char *admin = th_token("admin");
    assert_non_null(admin);
    const char *paths[] = {"/v1/nope", "/nope", NULL};
    for (const char *const *p = paths; *p; p++) {
        assert_int_equal(find_op(spec, nspec, "GET", *p), -1);
        th_resp_t *r = th_req("GET", *p, admin, NULL, NULL);
        assert_true(th_is_problem(r, 404, "no_such_endpoint"));
        th_free(r);
        r = th_req("GET", *p, NULL, NULL, NULL);
        assert_true(th_is_problem(r, 404, "no_such_endpoint"));
        th_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(test_spec_matches_routes),
    };
    const struct CMUnitTest online[] = {
        cmocka_unit_test(test_documented_operations_are_served),
        cmocka_unit_test(test_protected_operations_need_token),
        cmocka_unit_test(test_other_methods_answer_405),
        cmocka_unit_test(test_undocumented_path_is_404),
    };
    int failed = cmocka_run_group_tests_name("contract_offline", offline, NULL, NULL);
    failed += cmocka_run_group_tests_name("contract_server", online, server_setup, th_group_stop);
    return failed;
}
