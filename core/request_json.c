/*
 * core/request_json.c — a request's JSON from its columns, the same bytes as the SQL
 * function request_json(): json_build_object writes "{" then "key" : value pairs joined by
 * ", " then "}", strings escaped as PostgreSQL's escape_json() does (\b \f \n \r \t \" \\,
 * other bytes below 0x20 as \u00xx, everything else verbatim), numbers and booleans bare,
 * NULL as null; timestamps as rfc3339() renders them (microseconds, 'Z').
 */
#include "core/request_json.h"

#include "core/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text in the project's growable string (core/report.h), plus where the builder is. */
typedef struct {
    report_buf_t buf; /* .oom: out of memory */
    int bad;          /* a value not in the expected form */
    int first;
} jb_t;

static void put(jb_t *b, const char *s, size_t n)
{
    core_report_buf_add(&b->buf, s, n);
}

static void puts_(jb_t *b, const char *s)
{
    core_report_buf_puts(&b->buf, s);
}

static void str(jb_t *b, const char *s)
{
    puts_(b, "\"");
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        default:
            if (c < ' ') {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc) {
            put(b, run, (size_t)(p - run));
            puts_(b, esc);
            run = p + 1;
        }
    }
    puts_(b, run);
    puts_(b, "\"");
}

static void open_(jb_t *b)
{
    puts_(b, "{");
    b->first = 1;
}

static void close_(jb_t *b)
{
    puts_(b, "}");
    b->first = 0;
}

static void key(jb_t *b, const char *k)
{
    if (!b->first)
        puts_(b, ", ");
    b->first = 0;
    str(b, k);
    puts_(b, " : ");
}

/* A text, uuid or varchar column: a JSON string or null. */
static void kv_s(jb_t *b, const char *k, const char *v)
{
    key(b, k);
    if (v)
        str(b, v);
    else
        puts_(b, "null");
}

/* An integer column: the digits PostgreSQL printed. */
static void kv_n(jb_t *b, const char *k, const char *v)
{
    key(b, k);
    puts_(b, v ? v : "null");
}

static void kv_b(jb_t *b, const char *k, const char *v)
{
    key(b, k);
    puts_(b, !v ? "null" : v[0] == 't' ? "true" : "false");
}

static void kv_raw(jb_t *b, const char *k, const char *json)
{
    key(b, k);
    puts_(b, json ? json : "null");
}

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int core_request_json_ts(const char *s, char *out, size_t len)
{
    /* YYYY-MM-DD HH:MI:SS[.f{1,6}][+00] — DateStyle ISO for a timestamp without time zone,
     * or for a timestamptz in TimeZone UTC (an offset of zero: the time is UTC's). */
    if (len < 28 || strlen(s) < 19 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
        s[7] != '-' || !digits(s + 8, 2) || s[10] != ' ' || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2) || !memcmp(s, "0000", 4))
        return -1;
    char frac[7] = "000000";
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        int n = 0;
        while (n < 7 && p[n] >= '0' && p[n] <= '9')
            n++;
        if (n < 1 || n > 6)
            return -1;
        memcpy(frac, p, (size_t)n);
        p += n;
    }
    if (!strcmp(p, "+00"))
        p += 3;
    if (*p)
        return -1; /* " BC", another offset, anything else */
    snprintf(out, len, "%.10sT%.8s.%sZ", s, s + 11, frac);
    return 0;
}

static void kv_t(jb_t *b, const char *k, const char *v)
{
    key(b, k);
    if (!v) {
        puts_(b, "null");
        return;
    }
    char ts[32];
    if (core_request_json_ts(v, ts, sizeof ts) != 0) {
        b->bad = 1;
        return;
    }
    str(b, ts);
}

char *core_request_json(const char *const v[RJ_NCOLS])
{
    /* A request is 2–3 kB: one allocation up front instead of doubling from 256 bytes. */
    jb_t b = {.buf = {.s = malloc(4096), .cap = 4096}};
    if (!b.buf.s)
        return NULL;
    open_(&b);
    kv_s(&b, "id", v[RJ_ID]);
    kv_s(&b, "organisation_id", v[RJ_ORG]);
    kv_s(&b, "project_id", v[RJ_PROJECT]);
    kv_s(&b, "number", v[RJ_NUMBER]);
    kv_s(&b, "type", v[RJ_TYPE]);
    kv_s(&b, "channel", v[RJ_CHANNEL]);
    kv_s(&b, "severity", v[RJ_SEVERITY]);
    kv_s(&b, "category", v[RJ_CATEGORY]);
    kv_s(&b, "validity", v[RJ_VALIDITY]);
    kv_s(&b, "state", v[RJ_STATE]);
    key(&b, "pending");
    if (v[RJ_STATE] && !strcmp(v[RJ_STATE], "pending")) {
        open_(&b);
        kv_s(&b, "reason", v[RJ_PENDING_REASON]);
        kv_t(&b, "until", v[RJ_PENDING_UNTIL]);
        kv_s(&b, "resume_to", v[RJ_STATE_BEFORE_PENDING]);
        close_(&b);
    } else {
        puts_(&b, "null");
    }
    key(&b, "location");
    open_(&b);
    kv_s(&b, "kind", v[RJ_LOCATION_KIND]);
    kv_s(&b, "unit_id", v[RJ_UNIT]);
    kv_s(&b, "common_area", v[RJ_COMMON_AREA]);
    close_(&b);
    key(&b, "reporter");
    open_(&b);
    kv_s(&b, "resident_id", v[RJ_REPORTER_RESIDENT]);
    kv_s(&b, "user_id", v[RJ_REPORTER_USER]);
    kv_s(&b, "name", v[RJ_REPORTER_NAME]);
    kv_s(&b, "phone", v[RJ_REPORTER_PHONE]);
    close_(&b);
    kv_s(&b, "reporting_department_kind", v[RJ_REPORTING_DEPT_KIND]);
    kv_s(&b, "title", v[RJ_TITLE]);
    kv_s(&b, "description", v[RJ_DESCRIPTION]);
    kv_t(&b, "customer_deadline", v[RJ_CUSTOMER_DEADLINE]);
    kv_s(&b, "department_id", v[RJ_DEPARTMENT]);
    kv_s(&b, "assignee_id", v[RJ_ASSIGNEE]);
    key(&b, "external_ref");
    if (v[RJ_EXTERNAL_SOURCE]) {
        open_(&b);
        kv_s(&b, "source", v[RJ_EXTERNAL_SOURCE]);
        kv_s(&b, "id", v[RJ_EXTERNAL_ID]);
        close_(&b);
    } else {
        puts_(&b, "null");
    }
    kv_b(&b, "night_desk", v[RJ_NIGHT_DESK]);
    kv_t(&b, "handed_over_at", v[RJ_HANDED_OVER_AT]);
    kv_n(&b, "reopen_count", v[RJ_REOPEN_COUNT]);
    kv_n(&b, "escalation_level", v[RJ_ESCALATION_LEVEL]);
    kv_s(&b, "explanation", v[RJ_EXPLANATION]);
    kv_s(&b, "resolution", v[RJ_RESOLUTION]);
    kv_t(&b, "received_at", v[RJ_RECEIVED_AT]);
    kv_t(&b, "resolved_at", v[RJ_RESOLVED_AT]);
    kv_t(&b, "closed_at", v[RJ_CLOSED_AT]);
    key(&b, "work_order");
    if (v[RJ_WO_ID]) {
        open_(&b);
        kv_s(&b, "id", v[RJ_WO_ID]);
        kv_s(&b, "number", v[RJ_WO_NUMBER]);
        kv_s(&b, "state", v[RJ_WO_STATE]);
        kv_s(&b, "department_id", v[RJ_WO_DEPARTMENT]);
        kv_s(&b, "assignee_id", v[RJ_WO_ASSIGNEE]);
        kv_t(&b, "appointment_at", v[RJ_WO_APPOINTMENT_AT]);
        kv_t(&b, "dispatched_at", v[RJ_WO_DISPATCHED_AT]);
        kv_t(&b, "accepted_at", v[RJ_WO_ACCEPTED_AT]);
        kv_t(&b, "arrived_at", v[RJ_WO_ARRIVED_AT]);
        kv_t(&b, "reported_at", v[RJ_WO_REPORTED_AT]);
        kv_s(&b, "result", v[RJ_WO_RESULT]);
        kv_t(&b, "signed_at", v[RJ_WO_SIGNED_AT]);
        key(&b, "signer");
        if (v[RJ_WO_SIGNER_KIND]) {
            open_(&b);
            kv_s(&b, "kind", v[RJ_WO_SIGNER_KIND]);
            kv_s(&b, "resident_id", v[RJ_WO_SIGNER_RESIDENT]);
            kv_s(&b, "user_id", v[RJ_WO_SIGNER_USER]);
            kv_s(&b, "name", v[RJ_WO_SIGNER_NAME]);
            close_(&b);
        } else {
            puts_(&b, "null");
        }
        key(&b, "decline");
        if (v[RJ_WO_STATE] && !strcmp(v[RJ_WO_STATE], "declined")) {
            open_(&b);
            kv_s(&b, "reason", v[RJ_WO_DECLINE_REASON]);
            kv_s(&b, "note", v[RJ_WO_DECLINE_NOTE]);
            kv_s(&b, "by", v[RJ_WO_DECLINED_BY]);
            kv_t(&b, "at", v[RJ_WO_DECLINED_AT]);
            close_(&b);
        } else {
            puts_(&b, "null");
        }
        close_(&b);
    } else {
        puts_(&b, "null");
    }
    kv_s(&b, "first_receiver_id", v[RJ_FIRST_RECEIVER]);
    kv_s(&b, "owner_id", v[RJ_OWNER]);
    kv_s(&b, "repeat_of", v[RJ_REPEAT_OF]);
    kv_b(&b, "is_repeat", v[RJ_IS_REPEAT]);
    kv_t(&b, "appointment_at", v[RJ_APPOINTMENT_AT]);
    kv_t(&b, "promised_by", v[RJ_PROMISED_BY]);
    kv_raw(&b, "notifications_made", v[RJ_NOTIFICATIONS]);
    key(&b, "sla");
    open_(&b);
    kv_t(&b, "next_due", v[RJ_SLA_NEXT_DUE]);
    kv_b(&b, "overdue", v[RJ_SLA_OVERDUE]);
    key(&b, "due");
    open_(&b);
    kv_t(&b, "first_response", v[RJ_DUE_FIRST_RESPONSE]);
    kv_t(&b, "on_site", v[RJ_DUE_ON_SITE]);
    kv_t(&b, "answer", v[RJ_DUE_ANSWER]);
    kv_t(&b, "resolution", v[RJ_DUE_RESOLUTION]);
    kv_t(&b, "handover", v[RJ_DUE_HANDOVER]);
    kv_t(&b, "callback", v[RJ_DUE_CALLBACK]);
    kv_t(&b, "gm_report", v[RJ_DUE_GM_REPORT]);
    close_(&b);
    close_(&b);
    kv_n(&b, "version", v[RJ_VERSION]);
    kv_t(&b, "created_at", v[RJ_CREATED_AT]);
    kv_t(&b, "updated_at", v[RJ_UPDATED_AT]);
    close_(&b);
    if (b.bad || b.buf.oom) {
        free(b.buf.s);
        return NULL;
    }
    return b.buf.s;
}
