/*
 * tests/api/test_report_browser.c — the printable monthly summary rendered by Debian's
 * headless Chromium.  The page needs the bearer token, so the test fetches the HTML over
 * HTTP as the supervisor, writes it to a file and renders file:// (no signed links exist).
 * It checks the DOM (title, the form's rows, three inline SVG charts, no script) and keeps
 * a screenshot of the demo month as an artefact ($REPORT_ARTIFACT_DIR or the working
 * directory; the path is printed).  Chromium missing is a failure, not a skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char proj[40];

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_project("demo", proj))
        return -1;
    const char *v[] = {proj};
    /* The demo month: three complaints and a repair in March 2026. */
    return th_sql1("INSERT INTO requests (org_id, project_id, number, type, channel, severity, "
                   "validity, state, location_kind, common_area, reporter_name, reporter_phone, "
                   "title, description, received_at, last_event_at, created_by, search_terms, "
                   "category) SELECT p.org_id, p.id, 'B' || g, CASE WHEN g = 4 THEN 'repair' ELSE "
                   "'complaint' END, 'phone', CASE WHEN g = 4 THEN NULL ELSE 'general' END, "
                   "'valid', 'received', 'common_area', '大堂', '王芳', '13900001111', '电梯噪音', "
                   "'夜间电梯噪音 <b>大</b>', timestamptz '2026-03-02 10:00+08' + g * interval "
                   "'5 days', now(), (SELECT id FROM users WHERE username = 'agent'), '{}', CASE "
                   "WHEN g = 4 THEN NULL WHEN g = 1 THEN 'quality' ELSE 'attitude' END FROM "
                   "projects p, generate_series(1, 4) g WHERE p.id = $1 RETURNING 1",
                   v, 1)
               ? 0
               : -1;
}

static char *slurp(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    size_t n;
    while (b && (n = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    pclose(f);
    if (b)
        b[len] = '\0';
    return b;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_printable_page(void **state)
{
    (void)state;
    assert_int_equal(access("/usr/bin/chromium", X_OK), 0); /* apt-get install chromium */
    char path[200];
    snprintf(path, sizeof path, "/v1/projects/%s/reports/monthly/2026-03?format=html", proj);
    th_resp_t *r = th_req("GET", path, th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(th_header(r, "Content-Type"), "text/html"));
    assert_null(strstr(r->body, "<script"));
    const char *dir = getenv("REPORT_ARTIFACT_DIR");
    char cwd[512], html[700], png[700];
    if (!dir || !*dir)
        dir = getcwd(cwd, sizeof cwd) ? cwd : "/tmp";
    snprintf(html, sizeof html, "%s/report-demo-2026-03.html", dir);
    snprintf(png, sizeof png, "%s/report-demo-2026-03.png", dir);
    FILE *f = fopen(html, "w");
    assert_non_null(f);
    fwrite(r->body, 1, r->len, f);
    fclose(f);
    th_free(r);

    char cmd[2000];
    const char *flags = "--no-sandbox --headless=new --disable-gpu --disable-dev-shm-usage "
                        "--no-first-run --user-data-dir=/tmp/deskd-chromium-test";
    snprintf(cmd, sizeof cmd, "chromium %s --dump-dom file://%s 2>/dev/null", flags, html);
    char *dom = slurp(cmd);
    assert_non_null(dom);
    assert_non_null(strstr(dom, "<title>投诉月度汇总表 — "));
    assert_non_null(strstr(dom, "2026年3月</title>"));
    /* Header row + the three complaints (the repair is not a complaint row). */
    const char *form = strstr(dom, "class=\"form\"");
    assert_non_null(form);
    assert_int_equal(count(form, "<tr>"), 4);
    assert_int_equal(count(dom, "<svg"), 3);
    assert_non_null(strstr(dom, "按周按时解决率"));
    assert_non_null(strstr(dom, "&lt;b&gt;大&lt;/b&gt;")); /* text is escaped, not markup */
    free(dom);

    unlink(png);
    snprintf(cmd, sizeof cmd,
             "chromium %s --screenshot=%s --window-size=1280,2000 file://%s >/dev/null 2>&1", flags,
             png, html);
    int rc = system(cmd);
    (void)rc;
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    assert_true(st.st_size > 1000);
    printf("report screenshot: %s\n", png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_printable_page)};
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
