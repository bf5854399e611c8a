/*
 * tests/db/test_list_plan.c — the q= search of GET /v1/requests reads few rows whatever
 * the term.  Loads 40,000 requests of the demo project whose descriptions mention 漏水 in
 * a quarter, 燃气异味 in 1 %, 起火 in 0.1 % and 旧楼 only in the oldest 2,000, then checks
 * with EXPLAIN (ANALYZE) of the SQL db_request_list_sql() builds that
 *   * the query for a two-character term carries no LIKE, so PostgreSQL estimates its
 *     matches from the bigram's statistics: a frequent one (漏水) is read in list order,
 *     not planned as rare (collecting its 10,000 matches from the bigram index and
 *     sorting them, as it was with the LIKE), and a rare one uses the bigram index;
 *   * the walk db_request_list() tries first for a longer term reads at most `walk` rows
 *     in list order (an index range over requests_org_created), with scopes, filters and
 *     a cursor;
 * and that db_request_list() answers exactly what a plain substring scan answers, for
 * frequent, rare, longer, absent and only-old terms, with scopes, filters and cursors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/request.h"
#include "tests/lib/harness.h"
#include "tests/lib/plans.h"

#define NREQ  40000
#define LIMIT 51 /* the API asks for one row more than the page */
#define WALK  10000

static char org[40], project[40], projects_lit[48];

/* $1 organisation, $2 project.  Rows in time order over the last year, newest last. */
static const char gen[] =
    "INSERT INTO requests (org_id, project_id, number, type, channel, state, location_kind,"
    " common_area, title, description, received_at, last_event_at, created_by, created_at,"
    " updated_at, search_terms) "
    "SELECT $1, $2, x.num, x.typ, 'phone', x.st, 'common_area', '大堂', x.title, x.descr, x.ts,"
    " x.ts, $1, x.ts, x.ts, search_bigrams(coalesce(x.title, '') || ' ' || x.descr || ' ' ||"
    " x.num) FROM (SELECT 'LP-' || lpad(g::text, 6, '0') AS num,"
    "  CASE WHEN g % 3 = 0 THEN 'complaint' ELSE 'repair' END AS typ,"
    "  CASE WHEN g % 10 = 0 THEN 'received' ELSE 'closed' END AS st,"
    "  CASE WHEN g % 7 = 0 THEN '报修' END AS title,"
    "  (ARRAY['卫生间漏水', '电梯异响', '楼道灯不亮', '门禁失灵'])[1 + g % 4] ||"
    "  CASE WHEN g % 100 = 1 THEN '，燃气异味' ELSE '' END ||"
    "  CASE WHEN g % 1000 = 7 THEN '，电瓶车起火' ELSE '' END ||"
    "  CASE WHEN g <= 2000 THEN '，旧楼改造' ELSE '' END || '（' || g || '）' AS descr,"
    "  now() - interval '365 days' + g * interval '13 minutes' AS ts"
    " FROM generate_series(1, $3::int) g) x";

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_grab(org, "SELECT id FROM organisations WHERE code = 'demo'") != 0 ||
        th_grab(project, "SELECT p.id FROM projects p JOIN organisations o ON o.id = p.org_id "
                         "WHERE o.code = 'demo' AND p.code = 'SUNRISE'") != 0)
        return -1;
    snprintf(projects_lit, sizeof projects_lit, "{%s}", project);
    PGconn *db = th_db();
    /* no triggers or foreign-key checks: the rows satisfy them by construction */
    if (!th_pg_ok(PQexec(db, "SET session_replication_role = replica")))
        return -1;
    char n[16];
    snprintf(n, sizeof n, "%d", NREQ);
    const char *v[] = {org, project, n};
    if (!th_pg_ok(PQexecParams(db, gen, 3, NULL, v, NULL, NULL, 0)) ||
        !th_pg_ok(PQexec(db, "RESET session_replication_role")) ||
        !th_pg_ok(PQexec(db, "ANALYZE requests")))
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ plans */

typedef struct scan {
    char used[512];   /* "Node Type index" of every index scan */
    int seq;          /* sequential scans */
    double max_rows;  /* most rows any scan of requests produced (actual, per loop) */
    double text_plan; /* planned rows of a Bitmap Index Scan on requests_text, -1 none */
} scan_t;

static void tally(const cJSON *n, void *arg)
{
    scan_t *s = arg;
    const char *ix = th_plan_str(n, "Index Name"), *rel = th_plan_str(n, "Relation Name");
    double rows = th_plan_num(n, "Actual Rows");
    if (th_plan_is(n, "Seq Scan"))
        s->seq++;
    th_plan_note_index(n, s->used, sizeof s->used);
    if (ix && !strcmp(ix, "requests_text") && th_plan_num(n, "Plan Rows") >= 0)
        s->text_plan = th_plan_num(n, "Plan Rows");
    /* rows of requests: its scans, and its indexes' */
    if (((rel && !strcmp(rel, "requests")) || (ix && !strncmp(ix, "requests_", 9))) &&
        rows > s->max_rows)
        s->max_rows = rows;
}

/* EXPLAIN (ANALYZE, FORMAT JSON) of the list SQL for f. */
static scan_t explain(const char *name, const request_filter_t *f)
{
    scan_t s = {"", 0, 0, -1};
    th_explain_list(name, f, tally, &s);
    fprintf(stderr, "  %-40s read at most %.0f rows; %s\n", name, s.max_rows, s.used);
    return s;
}

static void test_frequent_term_walks_the_newest_rows(void **state)
{
    (void)state;
    /* 漏水: a quarter of the rows — its page is among the newest few hundred */
    request_filter_t f = {.org = org, .q = "漏水", .limit = LIMIT, .pii = 1, .walk = WALK};
    scan_t s = explain("walk q=漏水", &f);
    assert_int_equal(s.seq, 0);
    assert_non_null(strstr(s.used, "requests_org_created"));
    assert_null(strstr(s.used, "requests_text"));
    assert_true(s.max_rows <= WALK);
    /* with a project scope, a filter and a cursor: the same bounded range */
    request_filter_t g = f;
    g.projects = projects_lit;
    g.type = "repair";
    g.q = "燃气异味";
    g.after_ts = "2100-01-01T00:00:00Z";
    g.after_id = "ffffffff-ffff-4fff-bfff-ffffffffffff";
    s = explain("walk q=燃气异味, scope, type, cursor", &g);
    assert_int_equal(s.seq, 0);
    assert_null(strstr(s.used, "requests_text"));
    assert_true(s.max_rows <= WALK);
}

static void test_index_query_estimates_two_character_terms(void **state)
{
    (void)state;
    /* Without the walk, the index query for a frequent two-character term: planned from
     * the bigram's statistics (about 10,000 rows), so not as a bitmap of all its matches
     * sorted — with the LIKE recheck it was estimated at a handful of rows and was. */
    request_filter_t f = {.org = org, .q = "漏水", .limit = LIMIT, .pii = 1};
    scan_t s = explain("index query q=漏水", &f);
    assert_int_equal(s.seq, 0);
    assert_null(strstr(s.used, "requests_text"));
    assert_true(s.max_rows < NREQ / 4);
    /* a rare one (40 rows) through the bigram index */
    f.q = "起火";
    s = explain("index query q=起火", &f);
    assert_int_equal(s.seq, 0);
    assert_non_null(strstr(s.used, "Bitmap Index Scan requests_text"));
    assert_true(s.text_plan >= 1 && s.text_plan < 1000);
    /* a longer rare term: the bigram index, then the LIKE */
    f.q = "电瓶车起火";
    s = explain("index query q=电瓶车起火", &f);
    assert_int_equal(s.seq, 0);
    assert_non_null(strstr(s.used, "Bitmap Index Scan requests_text"));
}

/* ------------------------------------------------------------------ answers */

static void test_answers_match_a_substring_scan(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 1, 5000), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    /* frequent, 1 %, rare, longer, only in the oldest rows, absent, with LIKE's own
     * characters, a number */
    static const char *const terms[] = {"漏水", "燃气异味", "起火", "电瓶车起火", "旧楼",
                                        "火灾", "50%",      "a_b",  "LP-0399",    "9）"};
    int checked = 0;
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++)
        for (int variant = 0; variant < 2; variant++) {
            request_filter_t f = {.org = org, .q = terms[i], .limit = LIMIT, .pii = 0};
            if (variant) {
                f.projects = projects_lit;
                f.type = "complaint";
            }
            char what[96];
            snprintf(what, sizeof what, "q=%s variant %d", terms[i], variant);
            checked += th_list_pages_match(c, &f, 3, what);
        }
    fprintf(stderr, "  %d pages equal to a substring scan\n", checked);
    db_release(c);
    db_pool_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frequent_term_walks_the_newest_rows),
        cmocka_unit_test(test_index_query_estimates_two_character_terms),
        cmocka_unit_test(test_answers_match_a_substring_scan),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
