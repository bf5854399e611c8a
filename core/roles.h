/*
 * core/roles.h — the user roles and the kinds of department, shared by every module.
 * Each enum mirrors the API's strings one to one, with one table in core/roles.c that
 * maps both ways.  The escalation ladder (SPEC §4: agent → supervisor → manager →
 * director → GM) is defined here too because authorisation, sign-off and escalation
 * all rank roles by it.
 */
#ifndef CORE_ROLES_H
#define CORE_ROLES_H

#include "core/strtab.h"

/* SPEC §1.  The order is part of no API; the strings are. */
typedef enum {
    ROLE_RESIDENT,    /* "resident"    业主 / 住户 / 租户 */
    ROLE_AGENT,       /* "agent"       客服专员 / 前台 / 管家 */
    ROLE_TECHNICIAN,  /* "technician"  工程部技工 */
    ROLE_SECURITY,    /* "security"    保安 / 监控中心值班 */
    ROLE_SUPERVISOR,  /* "supervisor"  客服主管 / 班长 */
    ROLE_MANAGER,     /* "manager"     客服部经理 */
    ROLE_DIRECTOR,    /* "director"    项目经理 / 小区主任 */
    ROLE_GM,          /* "gm"          总经理 */
    ROLE_CLERK,       /* "clerk"       文员 / 档案管理员 */
    ROLE_INTEGRATION, /* "integration" other enterprise systems */
    ROLE_AUDITOR,     /* "auditor"     品管部 / 质检 */
    ROLE_ADMIN,       /* "admin"       system administrator */
    ROLE__COUNT
} role_t;

/* core_role_name() ("resident", ...), core_role_from_string() (exact, case-sensitive)
 * and core_role_list() ("resident, agent, ..."), see core/strtab.h. */
CORE_STRTAB_DECLS(core_role, role_t)
/* Every role's API string in role_t order, ending with NULL (for validation tables). */
extern const char *const core_role_names[ROLE__COUNT + 1];

/* The escalation ladder (SPEC §4): level 0 agent, 1 supervisor, 2 manager, 3 director,
 * ROLE_LADDER_TOP gm. */
#define ROLE_LADDER_TOP 4
/* Rank on the escalation ladder; -1 for every other role (they are not on the ladder)
 * and for out-of-range values. */
int core_role_ladder_level(role_t role);
/* The role at a ladder level; -1 when level is outside 0..ROLE_LADDER_TOP. */
int core_role_at_ladder_level(int level);

/* Kinds of department (SPEC §2): 客服部 工程部 保安部 保洁 绿化 财务 外包 其他. */
typedef enum {
    DEPT_CUSTOMER_SERVICE, /* "customer_service" 客服部 */
    DEPT_ENGINEERING,      /* "engineering"      工程部 */
    DEPT_SECURITY,         /* "security"         保安部 */
    DEPT_CLEANING,         /* "cleaning"         保洁 */
    DEPT_GREENERY,         /* "greenery"         绿化 */
    DEPT_FINANCE,          /* "finance"          财务 */
    DEPT_SUPPLIER,         /* "supplier"         外包 */
    DEPT_OTHER,            /* "other"            其他 */
    DEPT__COUNT
} dept_kind_t;

/* core_dept_kind_name(), _from_string() and _list(). */
CORE_STRTAB_DECLS(core_dept_kind, dept_kind_t)
/* Every kind's API string in dept_kind_t order, ending with NULL. */
extern const char *const core_dept_kind_names[DEPT__COUNT + 1];

#endif
