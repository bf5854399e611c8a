/*
 * core/authz.c — the role × action table and the scope rules.  The table is the single
 * place that says which role may do what; handlers never test roles themselves.
 */
#include "core/authz.h"

#include <string.h>

#define R(x) (1u << (x))
#define STAFF_DESK                                                                                 \
    (R(ROLE_AGENT) | R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM))
#define ALL_STAFF                                                                                  \
    (STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_SECURITY) | R(ROLE_CLERK) | R(ROLE_AUDITOR) |        \
     R(ROLE_ADMIN))
#define EVERYONE (ALL_STAFF | R(ROLE_RESIDENT) | R(ROLE_INTEGRATION))

typedef enum {
    SC_ORG,     /* organisation match is enough */
    SC_PROJECT, /* the target's project must be one of the caller's */
    SC_UNIT,    /* residents: their own unit (or their own record); staff: project */
    SC_DEPT,    /* technicians: their own department; other staff: project */
} scope_kind_t;

static const struct {
    const char *name;
    unsigned roles;
    scope_kind_t scope;
} rules[AZ__COUNT] = {
    [AZ_ORG_READ] = {"org.read", EVERYONE, SC_ORG},
    [AZ_ORG_UPDATE] = {"org.update", R(ROLE_ADMIN), SC_ORG},
    [AZ_PROJECT_READ] = {"project.read", EVERYONE, SC_PROJECT},
    [AZ_PROJECT_WRITE] = {"project.write", R(ROLE_ADMIN), SC_PROJECT},
    [AZ_PLACE_READ] = {"place.read", EVERYONE, SC_PROJECT},
    [AZ_PLACE_WRITE] = {"place.write", R(ROLE_ADMIN) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR),
                        SC_PROJECT},
    [AZ_DEPT_READ] = {"department.read", ALL_STAFF | R(ROLE_INTEGRATION), SC_PROJECT},
    [AZ_DEPT_WRITE] = {"department.write", R(ROLE_ADMIN), SC_PROJECT},
    [AZ_USER_READ] = {"user.read", R(ROLE_ADMIN) | R(ROLE_AUDITOR) | R(ROLE_GM), SC_ORG},
    [AZ_USER_WRITE] = {"user.write", R(ROLE_ADMIN), SC_ORG},
    [AZ_RESIDENT_READ] = {"resident.read", STAFF_DESK | R(ROLE_AUDITOR) | R(ROLE_ADMIN),
                          SC_PROJECT},
    [AZ_RESIDENT_WRITE] = {"resident.write", STAFF_DESK | R(ROLE_ADMIN), SC_PROJECT},
    [AZ_REQUEST_CREATE] = {"request.create",
                           STAFF_DESK | R(ROLE_SECURITY) | R(ROLE_TECHNICIAN) | R(ROLE_RESIDENT) |
                               R(ROLE_INTEGRATION),
                           SC_UNIT},
    [AZ_REQUEST_READ] = {"request.read",
                         STAFF_DESK | R(ROLE_SECURITY) | R(ROLE_TECHNICIAN) | R(ROLE_RESIDENT) |
                             R(ROLE_INTEGRATION) | R(ROLE_AUDITOR),
                         SC_UNIT},
    [AZ_REQUEST_ACT] = {"request.act",
                        STAFF_DESK | R(ROLE_SECURITY) | R(ROLE_TECHNICIAN) | R(ROLE_RESIDENT),
                        SC_UNIT},
    [AZ_REQUEST_COMMENT] = {"request.comment",
                            STAFF_DESK | R(ROLE_SECURITY) | R(ROLE_TECHNICIAN) | R(ROLE_RESIDENT) |
                                R(ROLE_INTEGRATION),
                            SC_UNIT},
    [AZ_REQUEST_INTERNAL] = {"request.internal",
                             STAFF_DESK | R(ROLE_SECURITY) | R(ROLE_TECHNICIAN) | R(ROLE_AUDITOR),
                             SC_PROJECT},
    [AZ_WORKORDER_READ] = {"workorder.read", STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_AUDITOR),
                           SC_DEPT},
    [AZ_SLA_ADMIN] = {"sla.admin", R(ROLE_ADMIN) | R(ROLE_DIRECTOR) | R(ROLE_GM), SC_PROJECT},
    [AZ_SLA_READ] = {"sla.read", STAFF_DESK | R(ROLE_AUDITOR) | R(ROLE_ADMIN), SC_PROJECT},
    [AZ_ESCALATE] = {"request.escalate", STAFF_DESK, SC_PROJECT},
    [AZ_OPS] = {"ops", R(ROLE_ADMIN), SC_ORG},
    [AZ_NOTIFICATION_READ] = {"notification.read", ALL_STAFF, SC_ORG},
    /* Customer-service staff edit a request's fields; residents, technicians and security
     * only act on it. */
    [AZ_REQUEST_EDIT] = {"request.edit", STAFF_DESK, SC_UNIT},
    /* SPEC §4: the project director (小区主任) decides extensions; the GM may too. */
    [AZ_SLA_EXT_DECIDE] = {"sla.extension.decide", R(ROLE_DIRECTOR) | R(ROLE_GM), SC_PROJECT},
    [AZ_WEBHOOK_ADMIN] = {"webhook.admin", R(ROLE_ADMIN), SC_ORG},
    /* RULES §3.11.12: supervisor/manager generate and submit; director/GM read their
     * projects; the auditor reads (phones masked). */
    [AZ_REPORT_READ] = {"report.read",
                        R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM) |
                            R(ROLE_AUDITOR),
                        SC_PROJECT},
    [AZ_REPORT_SUBMIT] = {"report.submit", R(ROLE_SUPERVISOR) | R(ROLE_MANAGER), SC_PROJECT},
    [AZ_IMPORT] = {"import", R(ROLE_ADMIN), SC_ORG},
    /* RULES §3.4.15: keepers, desk management, engineering and security write; auditors
     * (and administrators) read everything and write nothing; residents see none of it. */
    [AZ_CUSTODY_READ] = {"custody.read", ALL_STAFF, SC_PROJECT},
    [AZ_CUSTODY_WRITE] = {"custody.write",
                          STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_SECURITY) | R(ROLE_CLERK),
                          SC_PROJECT},
    /* RULES §3.13.4: the auditor (品管部), the administrator and the GM read; nobody writes. */
    [AZ_AUDIT_READ] = {"audit.read", R(ROLE_AUDITOR) | R(ROLE_ADMIN) | R(ROLE_GM), SC_ORG},
    /* RULES §2 item 5: the register columns; which role writes which column is
     * core/register.c's table (residents only 业主反馈情况 on their own units' requests). */
    [AZ_REGISTER_WRITE] = {"register.write", STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_RESIDENT),
                           SC_UNIT},
    [AZ_REGISTER_EXPORT] = {"register.export", STAFF_DESK | R(ROLE_AUDITOR), SC_PROJECT},
    /* RULES §2 item 12: the desk registers tenancies; owners and tenants read their units'
     * ones; the owner and a supervisor (or above) sign an early end. */
    [AZ_TENANCY_READ] = {"tenancy.read", STAFF_DESK | R(ROLE_RESIDENT) | R(ROLE_AUDITOR), SC_UNIT},
    [AZ_TENANCY_WRITE] = {"tenancy.write", STAFF_DESK, SC_PROJECT},
    [AZ_TENANCY_SIGN] = {"tenancy.sign",
                         R(ROLE_RESIDENT) | R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) |
                             R(ROLE_DIRECTOR) | R(ROLE_GM),
                         SC_UNIT},
    /* RULES §3.1.3: the customer-service desk calls back (core/callback.c then judges who
     * may call which task); the auditor reads; residents answer their own in the app. */
    [AZ_CALLBACK_READ] = {"callback.read", STAFF_DESK | R(ROLE_AUDITOR), SC_PROJECT},
    [AZ_CALLBACK_WRITE] = {"callback.write", STAFF_DESK, SC_PROJECT},
    [AZ_CALLBACK_ANSWER] = {"callback.answer", R(ROLE_RESIDENT), SC_UNIT},
    /* RULES §3.2.11: supervisors and managers (and above) run campaigns; agents enter paper
     * responses; residents answer their own household's; integrations push; the auditor
     * (品管部, who tracks the results) reads. */
    [AZ_SURVEY_READ] = {"survey.read", STAFF_DESK | R(ROLE_AUDITOR), SC_PROJECT},
    [AZ_SURVEY_MANAGE] = {"survey.manage",
                          R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM),
                          SC_PROJECT},
    [AZ_SURVEY_RESPOND] = {"survey.respond", STAFF_DESK | R(ROLE_RESIDENT) | R(ROLE_INTEGRATION),
                           SC_UNIT},
    [AZ_SURVEY_RESPONSE_READ] = {"survey.response.read",
                                 STAFF_DESK | R(ROLE_AUDITOR) | R(ROLE_RESIDENT) |
                                     R(ROLE_INTEGRATION),
                                 SC_UNIT},
    [AZ_SURVEY_PUBLIC] = {"survey.public",
                          STAFF_DESK | R(ROLE_AUDITOR) | R(ROLE_RESIDENT) | R(ROLE_INTEGRATION),
                          SC_PROJECT},
    /* RULES §3.2.12: desk staff record visits; the auditor reads them. */
    [AZ_VISIT_READ] = {"visit.read", STAFF_DESK | R(ROLE_AUDITOR), SC_PROJECT},
    [AZ_VISIT_WRITE] = {"visit.write", STAFF_DESK, SC_PROJECT},
    /* RULES §3.6.6: the desk (and the guards at the gate) keep the mail register; residents
     * see their own units' items; auditors read. */
    [AZ_MAIL_READ] = {"mail.read",
                      STAFF_DESK | R(ROLE_SECURITY) | R(ROLE_CLERK) | R(ROLE_AUDITOR) |
                          R(ROLE_ADMIN) | R(ROLE_RESIDENT),
                      SC_UNIT},
    [AZ_MAIL_PUSH] = {"mail.push", R(ROLE_INTEGRATION), SC_PROJECT},
    /* RULES §3.5.16: nobody outside the desk reads the archive register. */
    [AZ_ARCHIVE_READ] = {"archive.read",
                         STAFF_DESK | R(ROLE_CLERK) | R(ROLE_AUDITOR) | R(ROLE_ADMIN), SC_PROJECT},
    /* RULES §3.8, §3.9: every member of staff reads the project's duty records (the auditor
     * too); the desk, the control room (security) and the office (clerk) keep a duty; the
     * supervisor and above plan shifts, review the day's log and acknowledge reports. */
    [AZ_DUTY_READ] = {"duty.read", ALL_STAFF, SC_PROJECT},
    [AZ_DUTY_WRITE] = {"duty.write", STAFF_DESK | R(ROLE_SECURITY) | R(ROLE_CLERK), SC_PROJECT},
    [AZ_DUTY_SUPERVISE] = {"duty.supervise",
                           R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM),
                           SC_PROJECT},
    /* RULES §3.3.8: supervisor+ open; the responsible department (technicians, security
     * included) proposes and implements; manager approves; the auditor verifies and reads.
     * Which action each may take is core/capa.c's judgement. */
    [AZ_CAPA_READ] = {"capa.read",
                      STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_SECURITY) | R(ROLE_AUDITOR),
                      SC_PROJECT},
    [AZ_CAPA_CREATE] = {"capa.create",
                        R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM) |
                            R(ROLE_AUDITOR),
                        SC_PROJECT},
    [AZ_CAPA_ACT] = {"capa.act",
                     STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_SECURITY) | R(ROLE_AUDITOR),
                     SC_PROJECT},
    /* RULES §3.10: the desk runs the rounds with security and engineering; the supervisor
     * (and above) plans them; QA reads the records. */
    [AZ_PATROL_READ] = {"patrol.read",
                        STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_SECURITY) | R(ROLE_AUDITOR),
                        SC_PROJECT},
    [AZ_PATROL_WRITE] = {"patrol.write", STAFF_DESK | R(ROLE_TECHNICIAN) | R(ROLE_SECURITY),
                         SC_PROJECT},
    [AZ_PATROL_PLAN] = {"patrol.plan",
                        R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM),
                        SC_PROJECT},
};

az_result_t core_authz_role(role_t role, az_action_t action)
{
    if ((unsigned)action >= AZ__COUNT || (unsigned)role >= ROLE__COUNT)
        return AZ_FORBIDDEN;
    return (rules[action].roles & R(role)) ? AZ_ALLOW : AZ_FORBIDDEN;
}

int core_authz_org_wide(role_t role)
{
    return role == ROLE_ADMIN || role == ROLE_AUDITOR || role == ROLE_GM;
}

static int contains(const char *const *set, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] && !strcmp(set[i], s))
            return 1;
    return 0;
}

int core_authz_in_project(const principal_t *p, const char *project_id)
{
    if (p->all_projects)
        return 1;
    return project_id && contains(p->projects, p->nprojects, project_id);
}

int core_authz_own_department_only(const principal_t *p, az_action_t action)
{
    if ((unsigned)action >= AZ__COUNT || p->role != ROLE_TECHNICIAN)
        return 0;
    return rules[action].scope == SC_DEPT ||
           (rules[action].scope == SC_UNIT && action != AZ_REQUEST_CREATE);
}

az_result_t core_authz_check(const principal_t *p, az_action_t action, const az_target_t *t)
{
    az_result_t r = core_authz_role(p->role, action);
    if (r != AZ_ALLOW)
        return r;
    if (!p->org_id || !t->org_id || strcmp(p->org_id, t->org_id) != 0)
        return AZ_NOT_FOUND;
    switch (rules[action].scope) {
    case SC_ORG:
        return AZ_ALLOW;
    case SC_PROJECT:
        /* Org-level records (no project, e.g. an org-wide department) are visible to all. */
        if (!t->project_id)
            return AZ_ALLOW;
        return core_authz_in_project(p, t->project_id) ? AZ_ALLOW : AZ_NOT_FOUND;
    case SC_UNIT:
        if (p->role == ROLE_RESIDENT) {
            if (t->unit_id && contains(p->units, p->nunits, t->unit_id))
                return AZ_ALLOW;
            if (t->owner_user && p->user_id && !strcmp(t->owner_user, p->user_id))
                return AZ_ALLOW;
            return AZ_NOT_FOUND;
        }
        /* fall through - staff are held to their department where it applies */
    case SC_DEPT:
        if (core_authz_own_department_only(p, action) &&
            (!t->dept_id || !p->dept_id || strcmp(t->dept_id, p->dept_id) != 0))
            return AZ_NOT_FOUND;
        return core_authz_in_project(p, t->project_id) ? AZ_ALLOW : AZ_NOT_FOUND;
    }
    return AZ_FORBIDDEN;
}

int core_authz_sees_pii(role_t role)
{
    switch (role) {
    case ROLE_RESIDENT: /* only ever sees their own records */
    case ROLE_AGENT:
    case ROLE_TECHNICIAN: /* calls the household to book the visit */
    case ROLE_SUPERVISOR:
    case ROLE_MANAGER:
    case ROLE_DIRECTOR:
    case ROLE_GM:
    case ROLE_ADMIN:
        return 1;
    default:
        return 0;
    }
}

const char *core_authz_action_name(az_action_t a)
{
    return (unsigned)a < AZ__COUNT ? rules[a].name : "unknown";
}
