/* tests/core/test_hex.c — core/hex: the lower-case hex of digests and ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/hex.h"

static void test_encode(void **state)
{
    (void)state;
    const unsigned char b[] = {0x00, 0x0f, 0xa5, 0xff, 0x10};
    char out[2 * sizeof b + 1];
    memset(out, 'x', sizeof out);
    core_hex_encode(b, sizeof b, out);
    assert_string_equal(out, "000fa5ff10");
    core_hex_encode(b, 0, out);
    assert_string_equal(out, "");
}

static void test_decode(void **state)
{
    (void)state;
    unsigned char out[3];
    assert_int_equal(core_hex_decode("00a5ff", 3, out), 0);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 0xa5);
    assert_int_equal(out[2], 0xff);
    assert_int_equal(core_hex_decode("00a5f", 3, out), -1);    /* too short */
    assert_int_equal(core_hex_decode("00a5ff00", 3, out), -1); /* too long */
    assert_int_equal(core_hex_decode("00A5FF", 3, out), -1);   /* upper case is not ours */
    assert_int_equal(core_hex_decode("00a5fg", 3, out), -1);
}

static void test_round_trip(void **state)
{
    (void)state;
    unsigned char b[256], back[256];
    for (int i = 0; i < 256; i++)
        b[i] = (unsigned char)i;
    char hex[513];
    core_hex_encode(b, sizeof b, hex);
    assert_int_equal(core_hex_decode(hex, sizeof back, back), 0);
    assert_memory_equal(b, back, sizeof b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
