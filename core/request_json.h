/* core/request_json.h — a service request's JSON rendered from its columns, byte for byte
 * what the SQL function request_json() (schema.sql) returns: json_build_object's layout
 * ("{"k" : v, ...}"), its string escaping, rfc3339() timestamps.  The GET reads plain
 * columns (db/request.c) instead of calling request_json() in PostgreSQL, which costs the
 * database about three times a plain row read (bench/README.md, "CPU per GET"). */
#ifndef CORE_REQUEST_JSON_H
#define CORE_REQUEST_JSON_H

#include <stddef.h>

/* The columns, in this order (db/request.c selects them so).  Timestamps are the text of
 * `t AT TIME ZONE 'UTC'` in DateStyle ISO, or of a timestamptz in TimeZone UTC ("+00"); booleans
 * 't'/'f'; numbers as PostgreSQL prints them; RJ_NOTIFICATIONS is JSON text.  A NULL pointer is SQL
 * NULL. */
enum {
    RJ_ID,
    RJ_ORG,
    RJ_PROJECT,
    RJ_NUMBER,
    RJ_TYPE,
    RJ_CHANNEL,
    RJ_SEVERITY,
    RJ_CATEGORY,
    RJ_VALIDITY,
    RJ_STATE,
    RJ_PENDING_REASON,
    RJ_PENDING_UNTIL,
    RJ_STATE_BEFORE_PENDING,
    RJ_LOCATION_KIND,
    RJ_UNIT,
    RJ_COMMON_AREA,
    RJ_REPORTER_RESIDENT,
    RJ_REPORTER_USER,
    RJ_REPORTER_NAME,
    RJ_REPORTER_PHONE,
    RJ_REPORTING_DEPT_KIND,
    RJ_TITLE,
    RJ_DESCRIPTION,
    RJ_CUSTOMER_DEADLINE,
    RJ_DEPARTMENT,
    RJ_ASSIGNEE,
    RJ_EXTERNAL_SOURCE,
    RJ_EXTERNAL_ID,
    RJ_NIGHT_DESK,
    RJ_HANDED_OVER_AT,
    RJ_REOPEN_COUNT,
    RJ_ESCALATION_LEVEL,
    RJ_EXPLANATION,
    RJ_RESOLUTION,
    RJ_RECEIVED_AT,
    RJ_RESOLVED_AT,
    RJ_CLOSED_AT,
    RJ_WO_ID,
    RJ_WO_NUMBER,
    RJ_WO_STATE,
    RJ_WO_DEPARTMENT,
    RJ_WO_ASSIGNEE,
    RJ_WO_APPOINTMENT_AT,
    RJ_WO_DISPATCHED_AT,
    RJ_WO_ACCEPTED_AT,
    RJ_WO_ARRIVED_AT,
    RJ_WO_REPORTED_AT,
    RJ_WO_RESULT,
    RJ_WO_SIGNED_AT,
    RJ_WO_SIGNER_KIND,
    RJ_WO_SIGNER_RESIDENT,
    RJ_WO_SIGNER_USER,
    RJ_WO_SIGNER_NAME,
    RJ_WO_DECLINE_REASON,
    RJ_WO_DECLINE_NOTE,
    RJ_WO_DECLINED_BY,
    RJ_WO_DECLINED_AT,
    RJ_FIRST_RECEIVER,
    RJ_OWNER,
    RJ_REPEAT_OF,
    RJ_IS_REPEAT,
    RJ_APPOINTMENT_AT,
    RJ_PROMISED_BY,
    RJ_NOTIFICATIONS,
    RJ_SLA_NEXT_DUE,
    RJ_SLA_OVERDUE,
    RJ_DUE_FIRST_RESPONSE,
    RJ_DUE_ON_SITE,
    RJ_DUE_ANSWER,
    RJ_DUE_RESOLUTION,
    RJ_DUE_HANDOVER,
    RJ_DUE_CALLBACK,
    RJ_DUE_GM_REPORT,
    RJ_VERSION,
    RJ_CREATED_AT,
    RJ_UPDATED_AT,
    RJ_NCOLS
};

/* The JSON (malloc'd) of the request whose columns are v[0..RJ_NCOLS-1]; NULL when out of
 * memory or when a value is not in the expected form (a timestamp outside years
 * 0001–9999 AD, say): the caller then asks PostgreSQL's request_json(). */
char *core_request_json(const char *const v[RJ_NCOLS]);

/* rfc3339() of one `t AT TIME ZONE 'UTC'` text ("2026-11-27 11:41:33.2621" →
 * "2026-11-27T11:41:33.262100Z"), or of a timestamptz's in TimeZone UTC ("…33.2621+00"), into
 * out (at least 28 bytes); -1 if s is not in that form (BC, year > 9999, another offset). */
int core_request_json_ts(const char *s, char *out, size_t len);

#endif
