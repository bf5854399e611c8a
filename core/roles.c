/*
 * core/roles.c — the string tables for roles and department kinds, and the escalation
 * ladder.  Each table is the single place that spells the API strings.
 */
#include "core/roles.h"
#include "core/strtab.h"

#include <string.h>

static const char *const role_names[ROLE__COUNT] = {
    [ROLE_RESIDENT] = "resident",     [ROLE_AGENT] = "agent",
    [ROLE_TECHNICIAN] = "technician", [ROLE_SECURITY] = "security",
    [ROLE_SUPERVISOR] = "supervisor", [ROLE_MANAGER] = "manager",
    [ROLE_DIRECTOR] = "director",     [ROLE_GM] = "gm",
    [ROLE_CLERK] = "clerk",           [ROLE_INTEGRATION] = "integration",
    [ROLE_AUDITOR] = "auditor",       [ROLE_ADMIN] = "admin",
};

static const char *const dept_kind_names[DEPT__COUNT] = {
    [DEPT_CUSTOMER_SERVICE] = "customer_service",
    [DEPT_ENGINEERING] = "engineering",
    [DEPT_SECURITY] = "security",
    [DEPT_CLEANING] = "cleaning",
    [DEPT_GREENERY] = "greenery",
    [DEPT_FINANCE] = "finance",
    [DEPT_SUPPLIER] = "supplier",
    [DEPT_OTHER] = "other",
};

const char *core_role_name(role_t role)
{
    if ((unsigned)role >= ROLE__COUNT)
        return NULL;
    return role_names[role];
}

int core_role_from_string(const char *s)
{
    return core_strtab_index(role_names, ROLE__COUNT, s);
}

int core_role_ladder_level(role_t role)
{
    switch (role) {
    case ROLE_AGENT:
        return 0;
    case ROLE_SUPERVISOR:
        return 1;
    case ROLE_MANAGER:
        return 2;
    case ROLE_DIRECTOR:
        return 3;
    case ROLE_GM:
        return 4;
    default:
        return -1;
    }
}

const char *core_dept_kind_name(dept_kind_t kind)
{
    if ((unsigned)kind >= DEPT__COUNT)
        return NULL;
    return dept_kind_names[kind];
}

int core_dept_kind_from_string(const char *s)
{
    return core_strtab_index(dept_kind_names, DEPT__COUNT, s);
}
