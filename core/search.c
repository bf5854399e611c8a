/*
 * core/search.c — character bigrams for free-text search (see search.h).
 */
#include "core/search.h"

#include <string.h>

/* Length of the UTF-8 character starting with byte c, as PostgreSQL's pg_utf_mblen(). */
static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        return 2;
    if ((c & 0xf0) == 0xe0)
        return 3;
    if ((c & 0xf8) == 0xf0)
        return 4;
    return 1;
}

static int cmp_bigram(const char *s, core_bigram_t x, core_bigram_t y)
{
    size_t n = x.len < y.len ? x.len : y.len;
    int c = memcmp(s + x.off, s + y.off, n);
    if (c)
        return c;
    return (x.len > y.len) - (x.len < y.len);
}

/* In-place heapsort: qsort() has no context argument in C11 and this runs on many threads. */
static void sift_down(const char *s, core_bigram_t *v, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && cmp_bigram(s, v[c + 1], v[c]) > 0)
            c++;
        if (cmp_bigram(s, v[c], v[i]) <= 0)
            return;
        core_bigram_t t = v[i];
        v[i] = v[c];
        v[c] = t;
        i = c;
    }
}

static void sort_bigrams(const char *s, core_bigram_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(s, v, i, n);
    for (size_t end = n; end-- > 1;) {
        core_bigram_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(s, v, 0, end);
    }
}

size_t core_search_bigrams(const char *s, size_t len, core_bigram_t *out)
{
    size_t n = 0, a = 0;
    if (len == 0)
        return 0;
    size_t la = utf8_len((unsigned char)s[0]);
    if (la > len)
        la = len;
    while (a + la < len) {
        size_t b = a + la, lb = utf8_len((unsigned char)s[b]);
        if (b + lb > len)
            lb = len - b;
        out[n].off = (uint32_t)a;
        out[n].len = (uint32_t)(la + lb);
        n++;
        a = b;
        la = lb;
    }
    if (n < 2)
        return n;
    sort_bigrams(s, out, n);
    size_t u = 1;
    for (size_t i = 1; i < n; i++)
        if (cmp_bigram(s, out[i], out[u - 1]) != 0)
            out[u++] = out[i];
    return u;
}
