/* tests/lib/fixtures.c — see fixtures.h. */
#include "tests/lib/fixtures.h"

#include "tests/lib/harness.h"

#include <stdio.h>

/* The one value of sql with parameters $1 (and $2 when p2 is not NULL) into dst. */
static int grab(char dst[40], const char *sql, const char *p1, const char *p2)
{
    const char *const params[] = {p1, p2};
    const char *v = th_sql1(sql, params, p2 ? 2 : 1);
    if (!v) {
        fprintf(stderr, "setup: no row for %s ($1 = %s, $2 = %s)\n", sql, p1, p2 ? p2 : "-");
        return -1;
    }
    snprintf(dst, 40, "%s", v);
    return 0;
}

#define ORG_OF_CODE "(SELECT id FROM organisations WHERE code = $1)"

int th_fx_project(const char *org, char dst[40])
{
    return grab(dst, "SELECT id FROM projects WHERE org_id = " ORG_OF_CODE, org, NULL);
}

int th_fx_building(const char *org, const char *code, char dst[40])
{
    return grab(dst, "SELECT id FROM buildings WHERE org_id = " ORG_OF_CODE " AND code = $2", org,
                code);
}

int th_fx_unit(const char *org, const char *code, char dst[40])
{
    return grab(dst, "SELECT id FROM units WHERE org_id = " ORG_OF_CODE " AND code = $2", org,
                code);
}

int th_fx_resident(const char *org, const char *name, char dst[40])
{
    return grab(dst, "SELECT id FROM residents WHERE org_id = " ORG_OF_CODE " AND name = $2", org,
                name);
}

int th_fx_dept(const char *org, const char *kind, char dst[40])
{
    return grab(dst,
                "SELECT id FROM departments WHERE org_id = " ORG_OF_CODE " AND kind::text = $2",
                org, kind);
}

int th_fx_user(const char *username, char dst[40])
{
    return grab(dst, "SELECT id FROM users WHERE username = $1", username, NULL);
}
