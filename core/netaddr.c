/*
 * core/netaddr.c — see netaddr.h.  Ranges from the IANA special-purpose address registries
 * (RFC 6890 and its updates).
 */
#include "core/netaddr.h"

#include <string.h>

static int v4_private(const unsigned char *a)
{
    unsigned b0 = a[0], b1 = a[1], b2 = a[2];
    return b0 == 0                                 /* 0.0.0.0/8 "this network" */
           || b0 == 10                             /* 10/8 */
           || (b0 == 100 && (b1 & 0xC0) == 64)     /* 100.64/10 carrier-grade NAT */
           || b0 == 127                            /* loopback */
           || (b0 == 169 && b1 == 254)             /* link-local, cloud metadata */
           || (b0 == 172 && (b1 & 0xF0) == 16)     /* 172.16/12 */
           || (b0 == 192 && b1 == 0 && b2 == 0)    /* 192.0.0/24 IETF protocol assignments */
           || (b0 == 192 && b1 == 0 && b2 == 2)    /* TEST-NET-1 */
           || (b0 == 192 && b1 == 168)             /* 192.168/16 */
           || (b0 == 198 && (b1 & 0xFE) == 18)     /* 198.18/15 benchmarking */
           || (b0 == 198 && b1 == 51 && b2 == 100) /* TEST-NET-2 */
           || (b0 == 203 && b1 == 0 && b2 == 113)  /* TEST-NET-3 */
           || b0 >= 224;                           /* multicast, reserved, broadcast */
}

int core_addr_is_private(int family, const unsigned char *a)
{
    if (family == 4)
        return v4_private(a);
    if (family != 6)
        return 1;
    static const unsigned char zero[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (!memcmp(a, zero, 15) && (a[15] == 0 || a[15] == 1))
        return 1; /* :: and ::1 */
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12) || !memcmp(a, zero, 12))
        return v4_private(a + 12); /* ::ffff:a.b.c.d, 64:ff9b::a.b.c.d, ::a.b.c.d */
    return (a[0] & 0xFE) == 0xFC   /* fc00::/7 unique local */
           || (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) /* fe80::/10 link-local */
           || (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) /* fec0::/10 site-local (deprecated) */
           || a[0] == 0xFF                            /* multicast */
           || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8) /* documentation */
           || (a[0] == 0x20 && a[1] == 0x02 && v4_private(a + 2)); /* 6to4 of a private v4 */
}
