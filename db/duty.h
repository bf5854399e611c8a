/*
 * db/duty.h — the SQL of duty shifts, the duty log and its daily review, shift handovers,
 * special incident reports and their notifications (RULES §3.8, §3.9).  Each statement is
 * one named statement run through db_duty(); the callers pass every parameter as text (times
 * as UTC epoch seconds, arrays as PostgreSQL literals, JSON as text) and PQclear the result.
 * The parameters of each statement are listed beside its enum value.
 */
#ifndef DB_DUTY_H
#define DB_DUTY_H

#include "db/db.h"

typedef enum {
    DQ_PROJECT,          /* org, project → time_zone, local today */
    DQ_USERS_IN_PROJECT, /* org, uuid[] literal, project → count of active staff of the project */
    DQ_SHIFT_INSERT,     /* org, project, post, uuid[], planned_start, planned_end, by → json */
    DQ_SHIFT_GET,   /* org, id, caller → json, project, caller_on_shift, planned_start, ended */
    DQ_SHIFT_LOCK,  /* as DQ_SHIFT_GET, FOR UPDATE */
    DQ_SHIFT_LIST,  /* org, scope uuid[]|NULL, project|NULL, from|NULL, to|NULL, after_ts|NULL,
                       after_id|NULL, limit → rows (json, planned_start, id) */
    DQ_SHIFT_START, /* org, id → json */
    DQ_SHIFT_EQUIPMENT, /* org, id, bool, note → json */
    DQ_SHIFT_END,       /* org, id → (from shift off duty at acceptance) */
    DQ_SHIFT_BEGIN,     /* org, id → (to shift on duty at acceptance) */
    DQ_LOG_INSERT,      /* org, project, shift, kind, at, summary, cause, handling, result,
                           corrects, correction_reason, author, role → json */
    DQ_LOG_OF,          /* project, entry id → 1 row when the entry is the project's */
    DQ_LOG_LIST,        /* org, shift → json array */
    DQ_DAY,             /* org, project, day → json of the supervisor's daily view */
    DQ_REVIEW_INSERT,   /* org, project, day, by, note → json; no row when already reviewed */
    DQ_UNREVIEWED,      /* org, project, from day, to day → json array */
    DQ_SETTINGS_GET,    /* org, project → json */
    DQ_SETTINGS_PUT,    /* org, project, checklist json, grace minutes, by → json */
    DQ_PREFILL,         /* org, project → json of the live data a handover is drafted from */
    DQ_FACTS,           /* org, project, from shift → emergencies, majors, incidents, equipment */
    DQ_OPEN_IDS,        /* org, project → one id per open request or work order */
    DQ_HANDOVER_INSERT, /* org, project, from, to|NULL, outgoing, incoming, planned_at, prefill,
                           sections, grace → json */
    DQ_HANDOVER_GET,    /* org, id, caller → json, project, state, incoming, replacement,
                           unfit, from_shift, to_shift, sections, caller_outgoing */
    DQ_HANDOVER_LOCK,   /* as DQ_HANDOVER_GET, FOR UPDATE */
    DQ_HANDOVER_LIST,   /* org, scope|NULL, project|NULL, from|NULL, to|NULL, state|NULL,
                           after_ts|NULL, after_id|NULL, limit → rows (json, planned_at, id) */
    DQ_HANDOVER_SUBMIT, /* org, id, sections, unfinished, instructions, major_issues,
                           equipment_status, staffing_changes, by → json */
    DQ_HANDOVER_ACCEPT, /* org, id, by → json */
    DQ_HANDOVER_FITNESS, /* org, id, unfit, note, replacement|NULL → json */
    DQ_HANDOVER_LATE, /* now, org|NULL → id, org, project, planned_at, grace, json (SKIP LOCKED) */
    DQ_HANDOVER_LATE_MARK, /* id */
    DQ_FAULTS,             /* org, project, from, to → json array per person */
    DQ_REQUESTS_OK,        /* org, project, uuid[] → count of the project's emergency requests */
    DQ_UNITS_OK,           /* org, project, uuid[] → count of the project's units */
    DQ_INC_INSERT,    /* org, project, kind, request_ids, occurred, ended, place, discovered_by,
                         actions, services, police, lift, units, owners_notified, forced,
                         damage, due, written_by → json */
    DQ_INC_UPDATE,    /* id, org, then as DQ_INC_INSERT from kind to due → json */
    DQ_INC_GET,       /* org, id → json, project, state, kind */
    DQ_INC_LOCK,      /* as DQ_INC_GET, FOR UPDATE */
    DQ_INC_LIST,      /* org, scope|NULL, project|NULL, state|NULL, after_ts|NULL,
                         after_id|NULL, limit → rows (json, occurred_at, id) */
    DQ_INC_SUBMIT,    /* org, id, by → json */
    DQ_INC_ACK,       /* org, id, by → json */
    DQ_INC_OVERDUE,   /* now, org|NULL → id, org, project, kind, due, written_by (SKIP LOCKED) */
    DQ_INC_ESCALATED, /* id */
    DQ_NOTIFY_ROLE,   /* org, project, role, kind, payload → the project's users of the role
                         (a GM: the organisation's) */
    DQ_NOTIFY_USER,   /* org, user, kind, payload */
    DQ_HANDOVER_NIGHT_DESK, /* org, id, night_desk_actions (JSON array) → json */
    DQ_HANDOVER_REFUSAL,    /* org, project, handover, stage, by, reasons (JSON array) */
    DQ__COUNT
} duty_q_t;

/* Runs statement q with vals (NULL entries are SQL NULL).  Never NULL; the caller PQclears. */
PGresult *db_duty(db_conn_t *c, duty_q_t q, const char *const *vals);
/* db_duty for a statement whose rows are not needed: 0, or -1 when it failed. */
int db_duty_do(db_conn_t *c, duty_q_t q, const char *const *vals);

#endif
