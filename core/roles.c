/*
 * core/roles.c — the string tables for roles and department kinds, and the escalation
 * ladder.  Each table is the single place that spells the API strings.
 */
#include "core/roles.h"
#include "core/strtab.h"

const char *const core_role_names[ROLE__COUNT + 1] = {
    [ROLE_RESIDENT] = "resident",     [ROLE_AGENT] = "agent",
    [ROLE_TECHNICIAN] = "technician", [ROLE_SECURITY] = "security",
    [ROLE_SUPERVISOR] = "supervisor", [ROLE_MANAGER] = "manager",
    [ROLE_DIRECTOR] = "director",     [ROLE_GM] = "gm",
    [ROLE_CLERK] = "clerk",           [ROLE_INTEGRATION] = "integration",
    [ROLE_AUDITOR] = "auditor",       [ROLE_ADMIN] = "admin",
};

const char *const core_dept_kind_names[DEPT__COUNT + 1] = {
    [DEPT_CUSTOMER_SERVICE] = "customer_service",
    [DEPT_ENGINEERING] = "engineering",
    [DEPT_SECURITY] = "security",
    [DEPT_CLEANING] = "cleaning",
    [DEPT_GREENERY] = "greenery",
    [DEPT_FINANCE] = "finance",
    [DEPT_SUPPLIER] = "supplier",
    [DEPT_OTHER] = "other",
};

CORE_STRTAB_FUNCS(core_role, role_t, core_role_names, ROLE__COUNT)
CORE_STRTAB_FUNCS(core_dept_kind, dept_kind_t, core_dept_kind_names, DEPT__COUNT)

static const role_t ladder[ROLE_LADDER_TOP + 1] = {ROLE_AGENT, ROLE_SUPERVISOR, ROLE_MANAGER,
                                                   ROLE_DIRECTOR, ROLE_GM};

int core_role_ladder_level(role_t role)
{
    for (int level = 0; level <= ROLE_LADDER_TOP; level++)
        if (ladder[level] == role)
            return level;
    return -1;
}

int core_role_at_ladder_level(int level)
{
    return level >= 0 && level <= ROLE_LADDER_TOP ? (int)ladder[level] : -1;
}
