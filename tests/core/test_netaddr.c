/*
 * tests/core/test_netaddr.c — core_addr_is_private(): the addresses a webhook is not
 * delivered to, table-driven over both families.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>

#include "core/netaddr.h"

static const struct {
    const char *addr;
    int is_private;
} cases[] = {
    {"127.0.0.1", 1},
    {"127.255.0.9", 1},
    {"10.1.2.3", 1},
    {"172.16.0.1", 1},
    {"172.31.255.255", 1},
    {"172.32.0.1", 0},
    {"172.15.0.1", 0},
    {"192.168.1.1", 1},
    {"169.254.169.254", 1},
    {"100.64.0.1", 1},
    {"100.127.255.255", 1},
    {"100.128.0.1", 0},
    {"0.0.0.0", 1},
    {"224.0.0.1", 1},
    {"255.255.255.255", 1},
    {"198.18.0.1", 1},
    {"8.8.8.8", 0},
    {"1.1.1.1", 0},
    {"93.184.216.34", 0},
    {"::1", 1},
    {"::", 1},
    {"fe80::1", 1},
    {"fc00::1", 1},
    {"fd12:3456::1", 1},
    {"ff02::1", 1},
    {"::ffff:127.0.0.1", 1},
    {"::ffff:10.0.0.1", 1},
    {"::ffff:8.8.8.8", 0},
    {"64:ff9b::a9fe:a9fe", 1},
    {"2002:c0a8:0101::1", 1},
    {"2001:db8::1", 1},
    {"2606:4700::1111", 0},
    {"2a00:1450:4001::200e", 0},
};

static void test_addresses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char b[16];
        int v6 = inet_pton(AF_INET6, cases[i].addr, b) == 1;
        if (!v6)
            assert_int_equal(inet_pton(AF_INET, cases[i].addr, b), 1);
        int got = core_addr_is_private(v6 ? 6 : 4, b);
        if (got != cases[i].is_private)
            fail_msg("%s: %d, expected %d", cases[i].addr, got, cases[i].is_private);
    }
    unsigned char b[16] = {0};
    assert_int_equal(core_addr_is_private(0, b), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_addresses)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
