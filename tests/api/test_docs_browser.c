/*
 * tests/api/test_docs_browser.c — issue 13, API docs: GET /openapi.yaml is the repository's
 * openapi.yaml byte for byte, and GET /docs, opened in Debian's headless Chromium with every
 * host but the test server unresolvable (no network), renders every tag of the contract and
 * the login operation.  A screenshot of the page is kept in the build directory (its path is
 * printed).  Chromium missing is a failure, not a skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/harness.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 >= cap) {
            cap *= 2;
            b = realloc(b, cap);
        }
    }
    fclose(f);
    if (b)
        b[n] = 0;
    *len = n;
    return b;
}

static void test_openapi_yaml_byte_identical(void **state)
{
    (void)state;
    char fn[1024];
    snprintf(fn, sizeof fn, "%s/openapi.yaml", getenv("DESKD_SOURCE_DIR"));
    size_t len;
    char *want = slurp(fn, &len);
    assert_non_null(want);
    th_resp_t *r = th_req("GET", "/openapi.yaml", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(th_header(r, "Content-Type"), "application/yaml"));
    assert_int_equal(r->len, len);
    assert_memory_equal(r->body, want, len);
    th_free(r);
    free(want);
}

static void test_docs_page_is_self_contained(void **state)
{
    (void)state;
    th_resp_t *r = th_req("GET", "/docs", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(th_header(r, "Content-Type"), "text/html"));
    /* Nothing from a CDN: a script it needs comes from this server. */
    assert_null(strstr(r->body, "cdn."));
    int redoc = strstr(r->body, "/docs/redoc.js") != NULL;
    th_free(r);
    r = th_req("GET", "/docs/redoc.js", NULL, NULL, NULL);
    if (redoc) {
        assert_int_equal(r->status, 200);
        assert_non_null(strstr(th_header(r, "Content-Type"), "javascript"));
        assert_non_null(strstr(r->body, "hydrate"));
    } else {
        assert_true(th_is_problem(r, 404, "not_found"));
    }
    th_free(r);
}

/* The top-level tag names of openapi.yaml ("  - name: X" under "tags:"). */
static int spec_tags(char tags[][64], int max)
{
    char fn[1024], line[1024];
    snprintf(fn, sizeof fn, "%s/openapi.yaml", getenv("DESKD_SOURCE_DIR"));
    FILE *f = fopen(fn, "r");
    assert_non_null(f);
    int n = 0, in_tags = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] && line[0] != ' ')
            in_tags = !strcmp(line, "tags:");
        else if (in_tags && !strncmp(line, "  - name: ", 10) && n < max)
            snprintf(tags[n++], 64, "%.63s", line + 10);
    }
    fclose(f);
    return n;
}

static void test_docs_render_in_chromium(void **state)
{
    (void)state;
    char cwd[1024], shot[1200], dom[1200], log[1200], cmd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(shot, sizeof shot, "%s/docs-screenshot.png", cwd);
    snprintf(dom, sizeof dom, "%s/docs-dom.html", cwd);
    snprintf(log, sizeof log, "%s/docs-chromium.log", cwd);
    unlink(shot);
    /* Every host but the test server is unresolvable: the page must need no network. */
    const char *flags = "--no-sandbox --headless=new --disable-gpu --no-first-run "
                        "--disable-extensions --disable-background-networking "
                        "--host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' "
                        "--virtual-time-budget=20000";
    snprintf(cmd, sizeof cmd,
             "command -v chromium >/dev/null || { echo 'chromium is not installed (Debian package "
             "chromium, scripts/common.sh)' >&2; exit 127; }; "
             "HOME=%s timeout 120 chromium %s --dump-dom http://127.0.0.1:%d/docs >%s 2>%s",
             cwd, flags, th_port(), dom, log);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("chromium --dump-dom failed (%d); see %s", rc, log);
    size_t len;
    char *html = slurp(dom, &len);
    assert_non_null(html);
    assert_true(len > 1000);
    char tags[64][64];
    int n = spec_tags(tags, 64);
    assert_true(n >= 10);
    int missing = 0;
    for (int i = 0; i < n; i++)
        if (!strstr(html, tags[i])) {
            fprintf(stderr, "the rendered /docs lacks the tag '%s'\n", tags[i]);
            missing++;
        }
    if (!strstr(html, "Log in with username and password") || !strstr(html, "/v1/auth/login")) {
        fprintf(stderr, "the rendered /docs lacks the login operation\n");
        missing++;
    }
    free(html);
    if (missing)
        fail_msg("%d item(s) missing from the rendered page (DOM kept in %s)", missing, dom);

    snprintf(cmd, sizeof cmd,
             "HOME=%s timeout 120 chromium %s --hide-scrollbars --window-size=1280,2000 "
             "--screenshot=%s http://127.0.0.1:%d/docs >>%s 2>&1",
             cwd, flags, shot, th_port(), log);
    rc = system(cmd);
    struct stat st;
    if (rc != 0 || stat(shot, &st) != 0 || st.st_size < 10000)
        fail_msg("no screenshot of /docs (chromium %d); see %s", rc, log);
    printf("docs screenshot: %s (%lld bytes)\n", shot, (long long)st.st_size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openapi_yaml_byte_identical),
        cmocka_unit_test(test_docs_page_is_self_contained),
        cmocka_unit_test(test_docs_render_in_chromium),
    };
    return cmocka_run_group_tests(tests, th_group_start, th_group_stop);
}
