/*
 * core/authz.h — who may do what, and where.  One pure decision function over
 * role × action × scope (organisation, project, own unit, own department) that every
 * HTTP handler calls.  Outcomes: allow; 403 when the role may never do the action;
 * 404 when the target lies outside the caller's scope (so existence does not leak).
 */
#ifndef CORE_AUTHZ_H
#define CORE_AUTHZ_H

#include <stddef.h>

#include "core/roles.h"

typedef enum {
    AZ_ORG_READ,
    AZ_ORG_UPDATE,
    AZ_PROJECT_READ,
    AZ_PROJECT_WRITE,
    AZ_PLACE_READ, /* buildings, units */
    AZ_PLACE_WRITE,
    AZ_DEPT_READ,
    AZ_DEPT_WRITE,
    AZ_USER_READ,
    AZ_USER_WRITE,
    AZ_RESIDENT_READ,
    AZ_RESIDENT_WRITE,
    AZ_REQUEST_CREATE,
    AZ_REQUEST_READ,
    AZ_REQUEST_ACT, /* a workflow action; the state machine then judges the action itself */
    AZ_REQUEST_COMMENT,
    AZ_REQUEST_INTERNAL, /* read/write internal comments */
    AZ_WORKORDER_READ,
    AZ_SLA_ADMIN,
    AZ_SLA_READ,
    AZ_ESCALATE,
    AZ_OPS, /* operator triggers such as a sweep */
    AZ_NOTIFICATION_READ,
    AZ_REQUEST_EDIT,   /* change a request's own fields (title, category, severity, ...) */
    AZ_SLA_EXT_DECIDE, /* approve or reject a deadline extension (SPEC §4) */
    AZ_WEBHOOK_ADMIN,  /* webhook subscriptions and their deliveries */
    AZ_REPORT_READ,    /* a project's reports: summaries, KPIs, stored versions */
    AZ_REPORT_SUBMIT,  /* generate and submit a monthly report version */
    AZ_IMPORT,         /* roster imports into the organisation (POST/GET /v1/imports) */
    AZ_CUSTODY_READ,   /* custody registers and ledgers (keys, ...) */
    AZ_CUSTODY_WRITE,  /* append a ledger entry; core/custody.c then judges the entry */
    AZ_AUDIT_READ,     /* the audit log, its chain heads, verification, retention report */
    AZ_REGISTER_WRITE, /* write a request's register column; core/register.c judges the column */
    AZ_REGISTER_EXPORT, /* export the paper registers (报修受理登记表, 投诉受理/处理记录表) */
    AZ_TENANCY_READ,   /* rental registrations (出租房屋登记表) */
    AZ_TENANCY_WRITE,  /* register a tenancy */
    AZ_TENANCY_SIGN,   /* sign a tenancy's early end (owner or supervisor, core/tenancy.c) */
    AZ_CALLBACK_READ,  /* callback tasks, their attempts, the daily lists and the month's figures */
    AZ_CALLBACK_WRITE, /* record attempts, assign, give up, ask for an on-demand callback */
    AZ_CALLBACK_ANSWER, /* a resident answers their own callback in the app */
    /* Surveys (RULES §3.2): campaigns, their responses and report (read); create, edit a
     * draft, open, close, report (manage); enter a response or correction (respond;
     * residents their own unit); one response with its versions (response read); a
     * campaign's form and public summary without personal data (public). */
    AZ_SURVEY_READ,
    AZ_SURVEY_MANAGE,
    AZ_SURVEY_RESPOND,
    AZ_SURVEY_RESPONSE_READ,
    AZ_SURVEY_PUBLIC,
    /* Household visit records (走访业户记录表) and the important-client KPI. */
    AZ_VISIT_READ,
    AZ_VISIT_WRITE,
    AZ_MAIL_READ,      /* the mail register: the desk, and residents their own units' items */
    AZ_MAIL_PUSH,      /* courier-locker integrations push received items */
    AZ_ARCHIVE_READ,   /* the archive register: the desk and the clerk only (and auditors) */
    AZ_DUTY_READ,      /* duty shifts, logs, handovers, incident reports of a project */
    AZ_DUTY_WRITE,     /* keep a duty: log entries, handovers, incident reports */
    AZ_DUTY_SUPERVISE, /* plan shifts, review a day's log, acknowledge reports, settings */
    AZ_CAPA_READ,      /* corrective/preventive actions and rectifications */
    AZ_CAPA_CREATE,    /* open one (and the "department below target" trigger) */
    AZ_CAPA_ACT,       /* an action on one; core/capa.c then judges who may do which */
    AZ_PATROL_READ,    /* patrol plans, rounds, findings and the daily view */
    AZ_PATROL_WRITE,   /* run rounds, record and dispose findings */
    AZ_PATROL_PLAN,    /* a project's patrol plan (planned times, grace) */
    AZ__COUNT
} az_action_t;

typedef enum { AZ_ALLOW = 0, AZ_FORBIDDEN = 403, AZ_NOT_FOUND = 404 } az_result_t;

/* The authenticated caller, as carried by the access token.  Strings are borrowed. */
typedef struct principal {
    const char *user_id;
    const char *org_id;
    role_t role;
    int all_projects; /* org-wide roles (admin, auditor, gm) */
    const char *const *projects;
    size_t nprojects;
    const char *const *units; /* residents: their own units */
    size_t nunits;
    const char *dept_id; /* staff: their department, may be NULL */
} principal_t;

/* What is being touched.  NULL members are "not applicable". */
typedef struct az_target {
    const char *org_id;
    const char *project_id;
    const char *unit_id;    /* for resident-owned records */
    const char *dept_id;    /* for department-owned records (work orders) */
    const char *owner_user; /* the record's reporter/owner user id, if any */
} az_target_t;

/* Role check only: may this role ever perform the action?  AZ_ALLOW or AZ_FORBIDDEN. */
az_result_t core_authz_role(role_t role, az_action_t action);
/* Full decision: role, then organisation, then project/unit/department scope. */
az_result_t core_authz_check(const principal_t *p, az_action_t action, const az_target_t *t);
/* Whether the action shows this principal only its own department's records (a
 * technician's work orders and requests); lists filter by p->dept_id then. */
int core_authz_own_department_only(const principal_t *p, az_action_t action);
/* Whether the principal may see the project at all (used to build list filters). */
int core_authz_in_project(const principal_t *p, const char *project_id);
/* Whether phone numbers and similar personal data are shown to this role unmasked. */
int core_authz_sees_pii(role_t role);
/* Roles whose tokens are organisation-wide instead of listing projects. */
int core_authz_org_wide(role_t role);
const char *core_authz_action_name(az_action_t a);

#endif
