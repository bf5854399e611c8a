/*
 * The search terms deskd computes at intake (core/search.c through
 * db_request_terms_literal) are exactly the ones PostgreSQL's search_bigrams() cuts for
 * queries and edits: random text of one- to four-byte characters, quotes, backslashes,
 * braces and commas (the array literal's own syntax), compared as sorted arrays inside
 * PostgreSQL itself.  Also: the create statement adds the number's bigrams, and
 * search_bigrams() stays linear on the longest description.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/request.h"
#include "tests/lib/harness.h"

static const char *const alphabet[] = {"a", "B", "1",  " ",  "\"", "\\", "{",  "}", ",",  "'",
                                       "é", "ж", "漏", "水", "电", "梯", "，", "😀", "𠀋", "-"};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned next(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void random_text(char *out, size_t cap, unsigned maxchars)
{
    size_t o = 0;
    unsigned n = next(maxchars + 1);
    for (unsigned i = 0; i < n; i++) {
        const char *c = alphabet[next(sizeof alphabet / sizeof alphabet[0])];
        size_t l = strlen(c);
        if (o + l >= cap)
            break;
        memcpy(out + o, c, l);
        o += l;
    }
    out[o] = 0;
}

static const char same_sql[] =
    "SELECT $1::text[] = (SELECT coalesce(array_agg(x ORDER BY x COLLATE \"C\"), '{}') "
    "FROM unnest(search_bigrams(coalesce($2, '') || ' ' || $3 || ' ')) x)";

static void test_c_matches_sql(void **state)
{
    (void)state;
    int cases = 0;
    for (int i = 0; i < 3000; i++) {
        char title[400], desc[800];
        random_text(title, sizeof title, i % 3 ? 12 : 0);
        random_text(desc, sizeof desc, 1 + (unsigned)(i % 60));
        if (!desc[0])
            snprintf(desc, sizeof desc, "漏");
        const char *t = title[0] ? title : NULL;
        char *lit = db_request_terms_literal(t, desc);
        assert_non_null(lit);
        const char *v[] = {lit, t, desc};
        const char *got = th_sql1(same_sql, v, 3);
        if (!got || strcmp(got, "t") != 0)
            fail_msg("case %d: title [%s] description [%s]: C terms %s differ from SQL (%s)", i,
                     t ? t : "(null)", desc, lit, got ? got : "error");
        free(lit);
        cases++;
    }
    assert_int_equal(cases, 3000);
}

static void test_create_adds_number_terms(void **state)
{
    (void)state;
    char unit[64], body[512];
    snprintf(unit, sizeof unit, "%s",
             th_sql1("SELECT u.id FROM units u JOIN organisations o ON o.id = u.org_id "
                     "WHERE o.code = 'demo' ORDER BY u.code LIMIT 1",
                     NULL, 0));
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"title\":\"卫生间\","
             "\"description\":\"马桶\\\"漏水\\\\\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"王先生\",\"phone\":\"13800000000\"}}",
             unit);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    if (r->status != 201)
        fail_msg("POST /v1/requests answered %ld: %s", r->status, r->body ? r->body : "");
    const char *v[] = {th_str(r, "id")};
    /* intake terms and the number's may share a pair (" 1"): compare as sets */
    const char *as_set =
        th_sql1("SELECT search_terms @> search_bigrams(coalesce(title, '') || ' ' || description "
                "|| ' ' || number) AND search_terms <@ search_bigrams(coalesce(title, '') || ' ' "
                "|| description || ' ' || number) AND number <> '' FROM requests WHERE id = $1",
                v, 1);
    assert_non_null(as_set);
    assert_string_equal(as_set, "t");
    th_free(r);
}

static void test_sql_bigrams_linear(void **state)
{
    (void)state;
    /* 10,000 characters: the quadratic substr() walk took ~250 ms here; linear is ~10. The
     * count proves the whole text was cut (two distinct pairs in an alternating text). */
    const char *n = th_sql1("SELECT cardinality(search_bigrams(repeat('漏水', 5000)))", NULL, 0);
    assert_string_equal(n, "2");
    n = th_sql1("SELECT cardinality(search_bigrams('漏'))", NULL, 0);
    assert_string_equal(n, "0");
    n = th_sql1("SELECT cardinality(search_bigrams(''))", NULL, 0);
    assert_string_equal(n, "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_matches_sql),
        cmocka_unit_test(test_create_adds_number_terms),
        cmocka_unit_test(test_sql_bigrams_linear),
    };
    return cmocka_run_group_tests(tests, th_group_start, th_group_stop);
}
