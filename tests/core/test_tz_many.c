/*
 * tests/core/test_tz_many.c — the growable zone table (core_tz_table_*): far more than
 * 128 zones, every one found again by name, pointers handed out before the table grew
 * still valid and still right, a name added twice kept once, and every zone of the
 * system's tz database (test code may read files) loaded side by side.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"

#define NZ 1000

/* Zone i: a fixed offset of i minutes, so each one is told apart by its offset. */
static tz_rules_t *fixed(int i, char name[32])
{
    char posix[32];
    snprintf(name, 32, "Test/Zone_%04d", i);
    snprintf(posix, sizeof posix, "<Z%04d>-%d:%02d", i, i / 60, i % 60);
    tz_rules_t *tz = NULL;
    assert_int_equal(core_tz_parse_posix(posix, &tz), 0);
    return tz;
}

static void test_grows_past_128_and_keeps_pointers(void **state)
{
    (void)state;
    tz_table_t *t = core_tz_table_new();
    assert_non_null(t);
    static const tz_rules_t *kept[NZ];
    char name[32];
    for (int i = 0; i < NZ; i++) {
        tz_rules_t *tz = fixed(i, name);
        kept[i] = core_tz_table_add(t, name, tz);
        assert_ptr_equal(kept[i], tz);
        assert_int_equal(core_tz_table_count(t), (size_t)i + 1);
    }
    for (int i = 0; i < NZ; i++) {
        snprintf(name, sizeof name, "Test/Zone_%04d", i);
        const tz_rules_t *f = core_tz_table_find(t, name);
        assert_ptr_equal(f, kept[i]); /* the very object handed out before the growth */
        assert_int_equal(core_tz_offset_at(f, 0), i * 60);
    }
    assert_null(core_tz_table_find(t, "Test/Zone_9999"));
    assert_null(core_tz_table_find(t, ""));
    /* Added again: the first one stays (others may hold it), the newcomer is freed. */
    tz_rules_t *dup = fixed(200, name);
    assert_ptr_equal(core_tz_table_add(t, name, dup), kept[200]);
    assert_int_equal(core_tz_table_count(t), NZ);
    core_tz_table_free(t);
    core_tz_table_free(NULL);
}

/* Every zone listed in the system's zone1970.tab, all in one table. */
static void test_all_system_zones(void **state)
{
    (void)state;
    FILE *tab = fopen("/usr/share/zoneinfo/zone1970.tab", "r");
    if (!tab)
        skip();
    tz_table_t *t = core_tz_table_new();
    assert_non_null(t);
    unsigned char *buf = malloc(1 << 20);
    assert_non_null(buf);
    char line[512];
    size_t loaded = 0;
    while (fgets(line, sizeof line, tab)) {
        if (line[0] == '#')
            continue;
        char *save = NULL, *f = strtok_r(line, "\t\n", &save);
        for (int k = 0; f && k < 2; k++)
            f = strtok_r(NULL, "\t\n", &save);
        if (!f)
            continue;
        char path[256];
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", f);
        FILE *z = fopen(path, "rb");
        if (!z)
            continue;
        size_t n = fread(buf, 1, 1 << 20, z);
        fclose(z);
        tz_rules_t *tz = NULL;
        assert_int_equal(core_tz_parse_tzif(buf, n, &tz), 0);
        assert_ptr_equal(core_tz_table_add(t, f, tz), tz);
        loaded++;
    }
    fclose(tab);
    free(buf);
    assert_true(loaded > 128);
    assert_int_equal(core_tz_table_count(t), loaded);
    const tz_rules_t *sh = core_tz_table_find(t, "Asia/Shanghai");
    assert_non_null(sh);
    assert_int_equal(core_tz_offset_at(sh, 1767225600 /* 2026-01-01 */), 8 * 3600);
    core_tz_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows_past_128_and_keeps_pointers),
        cmocka_unit_test(test_all_system_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
