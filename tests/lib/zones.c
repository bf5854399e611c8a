/* tests/lib/zones.c — see zones.h. */
#include "tests/lib/zones.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#define ZONE_MAX (1 << 20)

/* 0 and *out, or -1 (no file, no memory) / the negative parse result, with path filled. */
static int zone_read(const char *name, char path[256], tz_rules_t **out)
{
    snprintf(path, 256, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char *buf = malloc(ZONE_MAX);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, ZONE_MAX, f);
    fclose(f);
    *out = NULL;
    int rc = core_tz_parse_tzif(buf, n, out);
    free(buf);
    return rc;
}

tz_rules_t *th_zone_load(const char *name)
{
    char path[256];
    tz_rules_t *tz = NULL;
    int rc = zone_read(name, path, &tz);
    if (rc != 0) {
        fprintf(stderr, "cannot read or parse %s: %d\n", path, rc);
        return NULL;
    }
    return tz;
}

tz_rules_t *th_zone(const char *name)
{
    char path[256];
    tz_rules_t *tz = NULL;
    int rc = zone_read(name, path, &tz);
    if (rc != 0)
        fail_msg("cannot read or parse %s: %d", path, rc);
    return tz;
}
