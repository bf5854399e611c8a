/*
 * Tests for core/tz: TZif parsing of the system's zoneinfo files (test code may
 * read files), POSIX footer rules beyond the stored transitions, the gap and
 * overlap policy of local->UTC, civil-date helpers, malformed input, and a
 * cross-check of offsets against glibc's localtime_r for random instants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"
#include "tests/lib/zones.h"

#define H 3600

/* UTC instant of a civil date-time given as UTC. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return core_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

/* Local wall value of a civil date-time. */
#define LOCAL(y, mo, d, h, mi) utc(y, mo, d, h, mi)

static void test_civil(void **state)
{
    (void)state;
    assert_int_equal(core_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(core_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(core_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(core_weekday(0), 3);                                  /* Thursday */
    assert_int_equal(core_weekday(core_days_from_civil(2026, 3, 8)), 6);   /* Sunday */
    assert_int_equal(core_weekday(core_days_from_civil(2026, 3, 9)), 0);   /* Monday */
    assert_int_equal(core_weekday(core_days_from_civil(1969, 12, 29)), 0); /* Monday */
    for (int64_t z = -800000; z < 800000; z += 7) {
        int64_t y;
        int m, d;
        core_civil_from_days(z, &y, &m, &d);
        assert_int_equal(core_days_from_civil(y, m, d), z);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    }
    assert_int_equal(core_floor_div(-1, 86400), -1);
    assert_int_equal(core_floor_div(86399, 86400), 0);
    assert_int_equal(core_floor_div(-86400, 86400), -1);
}

static void test_fixed_zones(void **state)
{
    (void)state;
    tz_rules_t *sh = th_zone("Asia/Shanghai");
    tz_rules_t *u = th_zone("UTC");
    int64_t ts[] = {utc(1995, 6, 1, 0, 0), utc(2026, 3, 8, 7, 0), utc(2026, 11, 1, 6, 0),
                    utc(2040, 7, 1, 12, 0), utc(2100, 1, 1, 0, 0)};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        assert_int_equal(core_tz_offset_at(sh, ts[i]), 8 * H);
        assert_int_equal(core_tz_offset_at(u, ts[i]), 0);
    }
    /* China observed DST until 1991. */
    assert_int_equal(core_tz_offset_at(sh, utc(1988, 7, 1, 0, 0)), 9 * H);
    assert_int_equal(core_tz_next_transition(u, 0), INT64_MAX);
    assert_int_equal(core_tz_next_transition(sh, utc(2026, 1, 1, 0, 0)), INT64_MAX);
    assert_int_equal(core_tz_local_to_utc(sh, LOCAL(2026, 5, 1, 9, 0)), utc(2026, 5, 1, 1, 0));
    core_tz_free(sh);
    core_tz_free(u);
}

static void test_new_york(void **state)
{
    (void)state;
    tz_rules_t *ny = th_zone("America/New_York");
    /* 2026-03-08 02:00 EST = 07:00 UTC springs forward. */
    int64_t spring = utc(2026, 3, 8, 7, 0);
    assert_int_equal(core_tz_offset_at(ny, spring - 1), -5 * H);
    assert_int_equal(core_tz_offset_at(ny, spring), -4 * H);
    assert_int_equal(core_tz_next_transition(ny, utc(2026, 1, 1, 0, 0)), spring);
    /* 2026-11-01 02:00 EDT = 06:00 UTC falls back. */
    int64_t fall = utc(2026, 11, 1, 6, 0);
    assert_int_equal(core_tz_offset_at(ny, fall - 1), -4 * H);
    assert_int_equal(core_tz_offset_at(ny, fall), -5 * H);
    assert_int_equal(core_tz_next_transition(ny, spring), fall);
    /* 2040 (beyond the fat file's 2037 table): 2nd Sunday of March is the 11th. */
    int64_t s40 = utc(2040, 3, 11, 7, 0);
    assert_int_equal(core_tz_offset_at(ny, s40 - 1), -5 * H);
    assert_int_equal(core_tz_offset_at(ny, s40), -4 * H);
    assert_int_equal(core_tz_next_transition(ny, utc(2040, 1, 1, 0, 0)), s40);
    int64_t f40 = utc(2040, 11, 4, 6, 0);
    assert_int_equal(core_tz_offset_at(ny, f40 - 1), -4 * H);
    assert_int_equal(core_tz_offset_at(ny, f40), -5 * H);

    /* Gap: 02:30 does not exist; shifted forward by the gap -> 03:30 EDT. */
    int64_t occ[2];
    assert_int_equal(core_tz_local_resolve(ny, LOCAL(2026, 3, 8, 2, 30), occ), 0);
    assert_int_equal(occ[0], utc(2026, 3, 8, 7, 30));
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2026, 3, 8, 2, 0)), spring);
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2026, 3, 8, 3, 0)), spring);
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2026, 3, 8, 1, 59)), spring - 60);
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2040, 3, 11, 2, 15)), s40 + 15 * 60);
    /* Overlap: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST); first wins. */
    assert_int_equal(core_tz_local_resolve(ny, LOCAL(2026, 11, 1, 1, 30), occ), 2);
    assert_int_equal(occ[0], utc(2026, 11, 1, 5, 30));
    assert_int_equal(occ[1], utc(2026, 11, 1, 6, 30));
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2026, 11, 1, 1, 30)), utc(2026, 11, 1, 5, 30));
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2026, 11, 1, 2, 0)), utc(2026, 11, 1, 7, 0));
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2026, 11, 1, 0, 59)), utc(2026, 11, 1, 4, 59));
    assert_int_equal(core_tz_local_to_utc(ny, LOCAL(2040, 11, 4, 1, 0)), utc(2040, 11, 4, 5, 0));
    core_tz_free(ny);
}

static void test_berlin_sydney(void **state)
{
    (void)state;
    tz_rules_t *be = th_zone("Europe/Berlin");
    int64_t s = utc(2026, 3, 29, 1, 0), f = utc(2026, 10, 25, 1, 0);
    assert_int_equal(core_tz_offset_at(be, s - 1), 1 * H);
    assert_int_equal(core_tz_offset_at(be, s), 2 * H);
    assert_int_equal(core_tz_offset_at(be, f - 1), 2 * H);
    assert_int_equal(core_tz_offset_at(be, f), 1 * H);
    assert_int_equal(core_tz_next_transition(be, s), f);
    /* 2040: last Sundays are 25 March and 28 October. */
    assert_int_equal(core_tz_offset_at(be, utc(2040, 3, 25, 1, 0) - 1), 1 * H);
    assert_int_equal(core_tz_offset_at(be, utc(2040, 3, 25, 1, 0)), 2 * H);
    assert_int_equal(core_tz_offset_at(be, utc(2040, 10, 28, 1, 0) - 1), 2 * H);
    assert_int_equal(core_tz_offset_at(be, utc(2040, 10, 28, 1, 0)), 1 * H);
    /* Gap 02:00-03:00 local, overlap 02:00-03:00 local. */
    assert_int_equal(core_tz_local_to_utc(be, LOCAL(2026, 3, 29, 2, 30)), s + 30 * 60);
    assert_int_equal(core_tz_local_to_utc(be, LOCAL(2026, 10, 25, 2, 30)), f - 30 * 60);
    core_tz_free(be);

    tz_rules_t *sy = th_zone("Australia/Sydney");
    /* DST ends 2026-04-05 03:00 AEDT (16:00 UTC on the 4th), starts 2026-10-04 02:00 AEST. */
    assert_int_equal(core_tz_offset_at(sy, utc(2026, 4, 4, 16, 0) - 1), 11 * H);
    assert_int_equal(core_tz_offset_at(sy, utc(2026, 4, 4, 16, 0)), 10 * H);
    assert_int_equal(core_tz_offset_at(sy, utc(2026, 10, 3, 16, 0) - 1), 10 * H);
    assert_int_equal(core_tz_offset_at(sy, utc(2026, 10, 3, 16, 0)), 11 * H);
    assert_int_equal(core_tz_offset_at(sy, utc(2041, 1, 1, 0, 0)), 11 * H);
    assert_int_equal(core_tz_offset_at(sy, utc(2041, 7, 1, 0, 0)), 10 * H);
    core_tz_free(sy);
}

static void test_posix_strings(void **state)
{
    (void)state;
    tz_rules_t *tz;
    assert_int_equal(core_tz_parse_posix("CST-8", &tz), 0);
    assert_int_equal(core_tz_offset_at(tz, utc(2026, 7, 1, 0, 0)), 8 * H);
    core_tz_free(tz);
    assert_int_equal(core_tz_parse_posix("<+0330>-3:30", &tz), 0);
    assert_int_equal(core_tz_offset_at(tz, 0), 3 * H + 30 * 60);
    core_tz_free(tz);
    assert_int_equal(core_tz_parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", &tz), 0);
    assert_int_equal(core_tz_offset_at(tz, utc(2026, 3, 29, 1, 0) - 1), 1 * H);
    assert_int_equal(core_tz_offset_at(tz, utc(2026, 3, 29, 1, 0)), 2 * H);
    assert_int_equal(core_tz_offset_at(tz, utc(2026, 10, 25, 1, 0)), 1 * H);
    core_tz_free(tz);
    /* v3 extension: hours beyond 24 and all-year DST. */
    assert_int_equal(core_tz_parse_posix("EST5EDT,0/0,J365/25", &tz), 0);
    assert_int_equal(core_tz_offset_at(tz, utc(2030, 1, 1, 12, 0)), -4 * H);
    assert_int_equal(core_tz_offset_at(tz, utc(2030, 12, 31, 23, 0)), -4 * H);
    core_tz_free(tz);
    /* Julian day rule: J60 is 1 March even in leap years. */
    assert_int_equal(core_tz_parse_posix("AAA0BBB,J60/0,J300/0", &tz), 0);
    assert_int_equal(core_tz_offset_at(tz, utc(2028, 2, 29, 23, 59)), 0);
    assert_int_equal(core_tz_offset_at(tz, utc(2028, 3, 1, 0, 0)), H);
    core_tz_free(tz);
    const char *bad[] = {"",
                         "X5",
                         "EST",
                         "EST5EDT,M3.2.0",
                         "EST5EDT,M13.1.0,M11.1.0",
                         "EST5EDT,M3.6.0,M11.1.0",
                         "EST5,",
                         "EST5EDT,J0,J365",
                         "<+03-3",
                         "EST99"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tz = (tz_rules_t *)1;
        if (core_tz_parse_posix(bad[i], &tz) == 0)
            fail_msg("accepted bad TZ string '%s'", bad[i]);
        assert_null(tz);
    }
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A "slim" v2 file: no transitions at all, one time type, the footer does everything. */
static size_t make_slim(unsigned char *buf, const char *footer)
{
    size_t n = 0;
    for (int block = 0; block < 2; block++) {
        memset(buf + n, 0, 44);
        memcpy(buf + n, "TZif2", 5);
        put32(buf + n + 36, 1); /* typecnt */
        put32(buf + n + 40, 4); /* charcnt */
        n += 44;
        put32(buf + n, (uint32_t)(-5 * H)); /* utoff */
        buf[n + 4] = 0;
        buf[n + 5] = 0;
        memcpy(buf + n + 6, "EST", 4);
        n += 10;
    }
    buf[n++] = '\n';
    memcpy(buf + n, footer, strlen(footer));
    n += strlen(footer);
    buf[n++] = '\n';
    return n;
}

static void test_slim_and_malformed(void **state)
{
    (void)state;
    unsigned char buf[256];
    size_t n = make_slim(buf, "EST5EDT,M3.2.0,M11.1.0");
    tz_rules_t *slim = NULL;
    assert_int_equal(core_tz_parse_tzif(buf, n, &slim), 0);
    tz_rules_t *ny = th_zone("America/New_York");
    for (int64_t t = utc(2007, 1, 1, 0, 0); t < utc(2046, 1, 1, 0, 0); t += 3 * H + 17)
        assert_int_equal(core_tz_offset_at(slim, t), core_tz_offset_at(ny, t));
    core_tz_free(slim);

    /* Every truncation of a real file is either rejected or parsed, never misread. */
    FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    assert_non_null(f);
    unsigned char *file = malloc(1 << 16);
    size_t len = fread(file, 1, 1 << 16, f);
    fclose(f);
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, file, cut);
        tz_rules_t *tz = NULL;
        int rc = core_tz_parse_tzif(copy, cut, &tz);
        assert_true(rc < 0 || tz != NULL);
        core_tz_free(tz);
        free(copy);
    }
    /* Garbage and a corrupted type index. */
    tz_rules_t *tz = NULL;
    assert_true(core_tz_parse_tzif((const unsigned char *)"TZif", 4, &tz) < 0);
    unsigned char *bad = malloc(len);
    memcpy(bad, file, len);
    bad[4] = '9';
    assert_true(core_tz_parse_tzif(bad, len, &tz) < 0);
    free(bad);
    free(file);
    core_tz_free(ny);
}

static const char *zones[] = {"Asia/Shanghai", "America/New_York", "Europe/Berlin",
                              "Australia/Sydney", "UTC"};

static void test_against_glibc(void **state)
{
    (void)state;
    unsigned seed = 12345;
    const int64_t lo = utc(1990, 1, 1, 0, 0), hi = utc(2045, 12, 31, 0, 0);
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        tz_rules_t *tz = th_zone(zones[z]);
        setenv("TZ", zones[z], 1);
        tzset();
        for (int i = 0; i < 3000; i++) {
            seed = seed * 1103515245u + 12345u;
            uint64_t r = ((uint64_t)seed << 16) ^ (uint64_t)rand_r(&seed);
            int64_t t = lo + (int64_t)(r % (uint64_t)(hi - lo));
            time_t tt = (time_t)t;
            struct tm tm;
            assert_non_null(localtime_r(&tt, &tm));
            if (tm.tm_gmtoff != core_tz_offset_at(tz, t))
                fail_msg("%s at %lld: glibc %ld, core %d", zones[z], (long long)t, tm.tm_gmtoff,
                         core_tz_offset_at(tz, t));
            /* Round trip: local_to_utc returns t, or an earlier instant with the same wall
             * clock (t is the second occurrence of an ambiguous time). */
            int64_t local = core_tz_utc_to_local(tz, t);
            int64_t back = core_tz_local_to_utc(tz, local);
            assert_true(back <= t);
            assert_int_equal(core_tz_utc_to_local(tz, back), local);
            int64_t occ[2];
            int k = core_tz_local_resolve(tz, local, occ);
            assert_true(k == 1 || k == 2);
            assert_true(occ[k - 1] == t || occ[0] == t);
        }
        core_tz_free(tz);
    }
    unsetenv("TZ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),         cmocka_unit_test(test_fixed_zones),
        cmocka_unit_test(test_new_york),      cmocka_unit_test(test_berlin_sydney),
        cmocka_unit_test(test_posix_strings), cmocka_unit_test(test_slim_and_malformed),
        cmocka_unit_test(test_against_glibc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
