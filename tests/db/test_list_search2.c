/*
 * tests/db/test_list_search2.c — how db_request_list() looks for a q= term of three or more
 * characters, chosen from the share of rows holding the term's rarest bigram (the element
 * statistics of requests.search_terms), and that every choice answers exactly what a plain
 * substring scan answers.
 *
 * 40,000 requests in two projects of the demo organisation (two in three in a second
 * project), in time order over the last year.  Their descriptions hold
 *   卫生间漏水 …  in a quarter (漏水, 卫生间漏水: frequent),
 *   燃气异味      in 1 %, 水管堵塞 in 3 % (middling),
 *   暖气不热      in 1 % of the rows, all in the older half (middling, but not recent),
 *   井盖被盗      in 5 rows (rare),
 *   含50%_x\y    in 8 rows (LIKE's own characters).
 * Checked:
 *   * the choice: two-character terms one statement; a frequent long term the walk; a
 *     middling one the window (its size from the bigram's share); a rare one the index;
 *     narrow scopes the walk;
 *   * the window's SQL intersects the rarest bigram's index matches with the list index's
 *     range of the window (BitmapAnd), reads no more than the window, no sequential scan;
 *     with one project in scope the project's index;
 *   * a frequent term in one project (scope or filter) reads that project's list index, not
 *     the organisation's filtered, and finds nothing for another organisation; a rare one
 *     the bigram index alone;
 *   * answers: terms of every kind, scopes (organisation, one project, two projects), the
 *     project, type and open filters, three pages by cursor: the same ids in the same order as a
 *     substring scan.
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

static char org[40], project[40], project2[40], one_lit[48], two_lit[100];

/* $1 organisation, $2 project, $3 second project, $4 rows.  Newest last. */
static const char gen[] =
    "INSERT INTO requests (org_id, project_id, number, type, channel, state, location_kind,"
    " common_area, title, description, received_at, last_event_at, created_by, created_at,"
    " updated_at, search_terms) "
    "SELECT $1, CASE WHEN g % 3 = 0 THEN $2::uuid ELSE $3::uuid END, x.num, x.typ, 'phone',"
    " x.st, 'common_area', '大堂', x.title, x.descr, x.ts, x.ts, $1, x.ts, x.ts,"
    " search_bigrams(coalesce(x.title, '') || ' ' || x.descr || ' ' || x.num) FROM"
    " (SELECT g, 'LS-' || lpad(g::text, 6, '0') AS num,"
    "  CASE WHEN g % 4 = 1 THEN 'complaint' ELSE 'repair' END AS typ,"
    "  CASE WHEN g % 10 = 0 THEN 'received' ELSE 'closed' END AS st,"
    "  CASE WHEN g % 7 = 0 THEN '报修' END AS title,"
    "  (ARRAY['卫生间漏水', '电梯异响', '楼道灯不亮', '门禁失灵'])[1 + g % 4] ||"
    "  CASE WHEN g % 100 = 2 THEN '，燃气异味' ELSE '' END ||"
    "  CASE WHEN g % 33 = 5 THEN '，水管堵塞' ELSE '' END ||"
    "  CASE WHEN g % 50 = 3 AND g <= $4::int / 2 THEN '，暖气不热' ELSE '' END ||"
    "  CASE WHEN g % 8000 = 7 THEN '，井盖被盗' ELSE '' END ||"
    "  CASE WHEN g % 5000 = 9 THEN '，含50%_x\\y' ELSE '' END || '（' || g || '）' AS descr,"
    "  now() - interval '365 days' + g * interval '13 minutes' AS ts"
    " FROM generate_series(1, $4::int) g) x";

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_grab(org, "SELECT id FROM organisations WHERE code = 'demo'") != 0 ||
        th_grab(project, "SELECT p.id FROM projects p JOIN organisations o ON o.id = p.org_id "
                         "WHERE o.code = 'demo' AND p.code = 'SUNRISE'") != 0 ||
        th_grab(project2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                          "SELECT id, 'LS2', '搜索测试', 'Asia/Shanghai', '{}' FROM organisations "
                          "WHERE code = 'demo' RETURNING id") != 0)
        return -1;
    snprintf(one_lit, sizeof one_lit, "{%s}", project);
    snprintf(two_lit, sizeof two_lit, "{%s,%s}", project, project2);
    PGconn *db = th_db();
    /* no triggers or foreign-key checks: the rows satisfy them by construction */
    if (!th_pg_ok(PQexec(db, "SET session_replication_role = replica")))
        return -1;
    char n[16];
    snprintf(n, sizeof n, "%d", NREQ);
    const char *v[] = {org, project, project2, n};
    if (!th_pg_ok(PQexecParams(db, gen, 4, NULL, v, NULL, NULL, 0)) ||
        !th_pg_ok(PQexec(db, "RESET session_replication_role")) ||
        !th_pg_ok(PQexec(db, "ANALYZE requests")))
        return -1;
    if (db_pool_init(th_dburl(), 1, 5000) != 0)
        return -1;
    db_request_search_stats_reset();
    return 0;
}

static int teardown(void **state)
{
    db_pool_shutdown();
    return th_group_stop(state);
}

/* ------------------------------------------------------------------ the choice */

static list_choice_t choose(const request_filter_t *f)
{
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    list_choice_t ch;
    assert_int_equal(db_request_list_choice(c, f, &ch), 0);
    db_release(c);
    fprintf(stderr, "  q=%-12s plan %d, rarest bigram %s in %.4f of the rows, window %d\n", f->q,
            (int)ch.plan, ch.bigram, ch.freq, ch.window);
    return ch;
}

static void test_choice_follows_the_rarest_bigram(void **state)
{
    (void)state;
    request_filter_t f = {.org = org, .limit = LIMIT};
    f.q = "漏水"; /* two characters: PostgreSQL estimates it itself */
    assert_int_equal(choose(&f).plan, LIST_PLAN_ONE);
    f.q = "井盖";
    assert_int_equal(choose(&f).plan, LIST_PLAN_ONE);
    f.q = "卫生间漏水"; /* every bigram in a quarter of the rows */
    list_choice_t ch = choose(&f);
    assert_int_equal(ch.plan, LIST_PLAN_WALK);
    assert_true(ch.freq > 0.2 && ch.freq < 0.3);
    f.q = "燃气异味"; /* 1 %: the window, about 3 pages' worth of its share */
    ch = choose(&f);
    assert_int_equal(ch.plan, LIST_PLAN_WINDOW);
    assert_true(ch.freq > 0.005 && ch.freq < 0.02);
    assert_true(ch.window > 3 * LIMIT / 0.02 && ch.window < 3 * LIMIT / 0.005);
    f.q = "水管堵塞"; /* 3 % */
    ch = choose(&f);
    assert_int_equal(ch.plan, LIST_PLAN_WINDOW);
    assert_true(ch.freq > 0.02 && ch.freq < 0.045);
    f.q = "井盖被盗"; /* 5 rows: below the statistics' least common element */
    ch = choose(&f);
    assert_int_equal(ch.plan, LIST_PLAN_INDEX);
    assert_true(ch.freq == 0);
    f.q = "50%_x"; /* LIKE's characters: rare bigrams too */
    assert_int_equal(choose(&f).plan, LIST_PLAN_INDEX);
    /* narrow scopes walk their own few rows */
    request_filter_t g = {.org = org, .limit = LIMIT, .q = "燃气异味", .dept_only = project};
    assert_int_equal(choose(&g).plan, LIST_PLAN_WALK);
    g.dept_only = NULL;
    g.units = "{}";
    g.reporter = org;
    assert_int_equal(choose(&g).plan, LIST_PLAN_WALK);
}

/* ------------------------------------------------------------------ plans */

typedef struct scan {
    char used[512]; /* "Node Type index" of every index scan */
    int seq;        /* sequential scans */
    int bitmap_and; /* BitmapAnd nodes */
    double max_rows;
} scan_t;

static void tally(const cJSON *n, void *arg)
{
    scan_t *s = arg;
    const char *ix = th_plan_str(n, "Index Name");
    double rows = th_plan_num(n, "Actual Rows");
    if (th_plan_is(n, "Seq Scan"))
        s->seq++;
    if (th_plan_is(n, "BitmapAnd"))
        s->bitmap_and++;
    th_plan_note_index(n, s->used, sizeof s->used);
    /* rows read from the list indexes (not the search index) */
    if (ix && th_plan_str(n, "Node Type") && strcmp(ix, "requests_text") && rows > s->max_rows)
        s->max_rows = rows;
}

static scan_t explain(const char *name, const request_filter_t *f)
{
    scan_t s = {"", 0, 0, 0};
    th_explain_list(name, f, tally, &s);
    fprintf(stderr, "  %-44s read at most %.0f list index rows; %s\n", name, s.max_rows, s.used);
    return s;
}

/* The created_at of the `rows`-th newest row of the scope (as db_request_list takes it). */
static void window_start(const char *scope_sql, const char *scope, int rows, char out[64])
{
    char sql[512], off[16];
    snprintf(sql, sizeof sql,
             "SELECT created_at FROM requests r WHERE %s ORDER BY created_at DESC, id DESC "
             "OFFSET $2::int LIMIT 1",
             scope_sql);
    snprintf(off, sizeof off, "%d", rows - 1);
    const char *v[] = {scope, off};
    PGresult *r = PQexecParams(th_db(), sql, 2, NULL, v, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    snprintf(out, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

static void test_window_intersects_the_bigram_with_the_list_range(void **state)
{
    (void)state;
    request_filter_t f = {.org = org, .q = "水管堵塞", .limit = LIMIT, .pii = 1};
    list_choice_t ch = choose(&f);
    assert_int_equal(ch.plan, LIST_PLAN_WINDOW);
    char since[64];
    window_start("r.org_id = $1::uuid", org, ch.window, since);
    request_filter_t w = f;
    w.since = since;
    w.bigram = ch.bigram;
    scan_t s = explain("window q=水管堵塞", &w);
    assert_int_equal(s.seq, 0);
    assert_int_equal(s.bitmap_and, 1);
    assert_non_null(strstr(s.used, "Bitmap Index Scan requests_text"));
    assert_non_null(strstr(s.used, "Bitmap Index Scan requests_org_created"));
    assert_true(s.max_rows <= ch.window + 1);
    /* one project in scope: that project's index; a cursor and a filter keep the shape */
    window_start("r.project_id = $1::uuid", project, ch.window, since);
    w.projects = one_lit;
    w.type = "repair";
    w.after_ts = "2100-01-01T00:00:00Z";
    w.after_id = "ffffffff-ffff-4fff-bfff-ffffffffffff";
    s = explain("window q=水管堵塞, one project, type, cursor", &w);
    assert_int_equal(s.seq, 0);
    assert_int_equal(s.bitmap_and, 1);
    assert_non_null(strstr(s.used, "Bitmap Index Scan requests_project_created"));
    assert_true(s.max_rows <= ch.window + 1);
}

static void test_one_project_search_reads_its_own_index(void **state)
{
    (void)state;
    /* A frequent term.  With r.org_id = $2 as such, the planner read the organisation's list index
     * in order and filtered the project (here three times the rows). */
    request_filter_t f = {.org = org,
                          .projects = one_lit,
                          .q = "卫生间漏水",
                          .limit = LIMIT,
                          .pii = 1,
                          .walk = 10000,
                          .frequent = 1};
    scan_t s = explain("walk q=卫生间漏水, scope of one project", &f);
    assert_int_equal(s.seq, 0);
    assert_null(strstr(s.used, "requests_org_created"));
    assert_true(s.max_rows <= NREQ / 3 + 1); /* the project's rows at most */
    request_filter_t g = {
        .org = org, .project_id = project, .q = "漏水", .limit = LIMIT, .pii = 1, .frequent = 1};
    s = explain("q=漏水&project_id", &g);
    assert_int_equal(s.seq, 0);
    assert_non_null(strstr(s.used, "Index Scan requests_project_created"));
    assert_null(strstr(s.used, "requests_org_created"));
    /* a rare term in one project: its few matches from the bigram index, not intersected
     * with the project's rows */
    request_filter_t h = {.org = org, .projects = one_lit, .q = "盖被", .limit = LIMIT, .pii = 1};
    s = explain("q=盖被, scope of one project", &h);
    assert_int_equal(s.seq, 0);
    assert_non_null(strstr(s.used, "Bitmap Index Scan requests_text"));
    assert_null(strstr(s.used, "requests_project_created"));
    assert_true(s.max_rows <= 5);
    /* another organisation's project: nothing */
    char *sql;
    const char *vals[40];
    g.org = "00000000-0000-4000-8000-000000000000";
    int n = db_request_list_sql(&g, &sql, vals);
    PGresult *r = PQexecParams(th_db(), sql, n, NULL, vals, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    free(sql);
}

/* ------------------------------------------------------------------ answers */

static void test_answers_match_a_substring_scan(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    /* two characters (frequent, rare), frequent long, middling, middling but only old,
     * rare, LIKE's own characters (rare and frequent: '_' and '%' in '含50%_x\y'), a
     * backslash, a number, absent, one character */
    static const char *const terms[] = {
        "漏水",  "盖被",  "卫生间漏水", "燃气异味", "水管堵塞", "暖气不热", "井盖被盗",
        "50%_x", "_x\\y", "x\\y）",     "LS-0399",  "火灾起因", "漏"};
    int checked = 0, plans[4] = {0};
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++)
        for (int variant = 0; variant < 5; variant++) {
            request_filter_t f = {.org = org, .q = terms[i], .limit = LIMIT, .pii = 0};
            if (variant == 1)
                f.projects = one_lit;
            if (variant == 2) {
                f.projects = two_lit;
                f.type = "complaint";
            }
            if (variant == 3)
                f.open = "true";
            if (variant == 4) {
                f.project_id = project2;
                f.type = "repair";
            }
            list_choice_t ch;
            assert_int_equal(db_request_list_choice(c, &f, &ch), 0);
            plans[ch.plan]++;
            char what[96];
            snprintf(what, sizeof what, "q=%s variant %d (plan %d)", terms[i], variant,
                     (int)ch.plan);
            checked += th_list_pages_match(c, &f, 3, what);
        }
    fprintf(stderr,
            "  %d pages equal to a substring scan (lists planned: %d one, %d walk, %d "
            "window, %d index)\n",
            checked, plans[0], plans[1], plans[2], plans[3]);
    /* every way of looking was exercised */
    for (int k = 0; k < 4; k++)
        assert_true(plans[k] > 0);
    db_release(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice_follows_the_rarest_bigram),
        cmocka_unit_test(test_window_intersects_the_bigram_with_the_list_range),
        cmocka_unit_test(test_one_project_search_reads_its_own_index),
        cmocka_unit_test(test_answers_match_a_substring_scan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
