/*
 * Character bigrams for free-text search (core/search.c): the pairs PostgreSQL's
 * search_bigrams() cuts, distinct and sorted.  tests/db/test_search_terms.c checks the
 * same function against PostgreSQL itself on random text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/search.h"

/* The bigrams of s joined with '|', e.g. "ab|bc". */
static void joined(const char *s, char *out, size_t cap)
{
    size_t len = strlen(s), o = 0;
    core_bigram_t v[256];
    assert_true(len <= 256);
    size_t n = core_search_bigrams(s, len, v);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(v[i].off + v[i].len <= len);
        o +=
            (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? "|" : "", (int)v[i].len, s + v[i].off);
        assert_true(o < cap);
    }
}

static void check(const char *text, const char *want)
{
    char got[2048];
    joined(text, got, sizeof got);
    if (strcmp(got, want))
        fail_msg("bigrams of \"%s\": got \"%s\", want \"%s\"", text, got, want);
}

static void test_short_texts(void **state)
{
    (void)state;
    check("", "");
    check("a", "");
    check("漏", "");
    check("漏水", "漏水");
    check("ab", "ab");
}

static void test_chinese_sorted_and_distinct(void **state)
{
    (void)state;
    /* 厨 E5 8E A8, 房 E6 88 BF, 漏 E6 BC 8F, 水 E6 B0 B4: sorted bytewise. */
    check("厨房漏水", "厨房|房漏|漏水");
    check("漏水漏水", "水漏|漏水");
    check("aaaa", "aa");
    check("abab", "ab|ba");
}

static void test_mixed_widths(void **state)
{
    (void)state;
    /* ASCII, 2-byte (é), 3-byte (中) and 4-byte (😀) characters are cut whole. */
    check("xé中😀", "x\xc3\xa9|\xc3\xa9中|中😀");
    check(" TS-1", " T|-1|S-|TS");
}

static void test_truncated_tail(void **state)
{
    (void)state;
    /* A lead byte promising more bytes than are left counts as one character. */
    const char s[] = {'a', (char)0xe4, (char)0xb8, 0};
    check(s, "a\xe4\xb8");
}

static void test_long_text_is_linear_and_bounded(void **state)
{
    (void)state;
    static char buf[30001];
    static core_bigram_t v[30000];
    for (size_t i = 0; i < 10000; i++)
        memcpy(buf + 3 * i, i % 2 ? "水" : "漏", 3);
    size_t n = core_search_bigrams(buf, 30000, v);
    assert_int_equal(n, 2); /* 漏水 and 水漏 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_texts),
        cmocka_unit_test(test_chinese_sorted_and_distinct),
        cmocka_unit_test(test_mixed_widths),
        cmocka_unit_test(test_truncated_tail),
        cmocka_unit_test(test_long_text_is_linear_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
