/*
 * db/request.c — SQL for service requests, work orders and the timeline.  The request
 * JSON is rendered by the SQL function request_json() (schema.sql) so that every read
 * path returns the same shape.
 */
#include "db/request.h"

#include "core/request_json.h"
#include "core/search.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const db_stmt_t find_ext = {
    "req_find_ext",
    "SELECT id FROM requests WHERE org_id = $1 AND external_source = $2 AND external_id = $3", 3};

/* The request's JSON rendered by PostgreSQL (request_json()): what get_cols_st's columns
 * fall back to when core_request_json() cannot render them (a timestamp outside its form). */
static const db_stmt_t get_st = {
    "req_get",
    "SELECT request_json(r, $3)::text, r.project_id, coalesce(r.unit_id::text, ''), "
    "coalesce(r.department_id::text, ''), coalesce(r.reporter_user_id::text, ''), r.version, "
    "EXISTS (SELECT 1 FROM request_register_notes m WHERE m.request_id = r.id) "
    "FROM requests r WHERE r.id = $1 AND r.org_id = $2",
    3};

/* The same read as plain columns, in core/request_json.h's order (RJ_*), rendered in deskd
 * by core_request_json(): request_json()'s json_build_object and its two dozen to_char()
 * calls made the statement cost PostgreSQL about three times a plain row read (issue 14).
 * Timestamps as they are: every pooled connection runs in TimeZone UTC (conn_open), so their
 * text is the UTC time with "+00" (DateStyle ISO; rfc3339() is done in C; timezone('UTC', t)
 * on 25 columns cost ~3 µs of the statement, 0043); the phone masked and "overdue" computed here
 * exactly as request_json() does; the notifications not read at all: '[]' when r.has_notifications
 * (0039) says there are none, else NULL, and the request (rare) is rendered by get_st's
 * request_json() in one statement (a json_agg sub-select over request_events here cost every GET
 * its executor start and locks, though almost no request has notifications).  The latest work order
 * and the register-notes flag likewise (0043): the LATERAL join runs only when r.has_work_orders (a
 * one-time filter: its index scan is not even started otherwise), and has_register_notes replaces
 * an EXISTS over request_register_notes, so a request with neither is one index scan of requests.
 * After RJ_NCOLS: the scope columns of get_st (which keeps the EXISTS: the reference the tests
 * compare the flag with).
 */
#define REQ_RENDER_COLS(pii)                                                                       \
    "r.id, r.org_id, r.project_id, r.number, r.type, r.channel, r.severity, "                      \
    "r.category, r.validity, r.state, r.pending_reason, r.pending_until, "                         \
    "r.state_before_pending, r.location_kind, r.unit_id, r.common_area, "                          \
    "r.reporter_resident_id, r.reporter_user_id, r.reporter_name, CASE WHEN " pii " THEN "         \
    "r.reporter_phone ELSE mask_phone(r.reporter_phone) END, r.reporting_dept_kind, "              \
    "r.title, r.description, r.customer_deadline, r.department_id, r.assignee_id, "                \
    "r.external_source, r.external_id, r.night_desk, r.handed_over_at, r.reopen_count, "           \
    "r.escalation_level, r.explanation, r.resolution, r.received_at, r.resolved_at, "              \
    "r.closed_at, w.id, w.number, w.state, w.department_id, w.assignee_id, "                       \
    "w.appointment_at, w.dispatched_at, w.accepted_at, w.arrived_at, w.reported_at, "              \
    "w.result, w.signed_at, w.signer_kind, w.signer_resident_id, w.signer_user_id, "               \
    "w.signer_name, w.decline_reason, w.decline_note, w.declined_by, w.declined_at, "              \
    "r.first_receiver_id, r.owner_id, r.repeat_of, r.is_repeat, r.appointment_at, "                \
    "r.promised_by, CASE WHEN r.has_notifications THEN NULL ELSE '[]' END, r.sla_next_due, "       \
    "r.sla_next_due IS NOT NULL AND r.sla_next_due < now(), r.due_first_response, "                \
    "r.due_on_site, r.due_answer, r.due_resolution, r.due_handover, r.due_callback, "              \
    "r.due_gm_report, r.version, r.created_at, r.updated_at"
static const db_stmt_t get_cols_st = {
    "req_get_cols",
    "SELECT " REQ_RENDER_COLS("$3") /* then the scope columns */
    ", r.project_id, coalesce(r.unit_id::text, ''), coalesce(r.department_id::text, ''), "
    "coalesce(r.reporter_user_id::text, ''), r.version, r.has_register_notes FROM requests "
    "r LEFT JOIN LATERAL (SELECT * FROM work_orders w WHERE r.has_work_orders AND "
    "w.request_id = r.id ORDER BY w.created_at DESC LIMIT 1) w ON true WHERE r.id = $1 AND "
    "r.org_id = $2",
    3};

/* Only what the scope checks need (api_request_authorize): no JSON at all. */
static const db_stmt_t scope_st = {
    "req_scope",
    "SELECT r.project_id, coalesce(r.unit_id::text, ''), coalesce(r.department_id::text, ''), "
    "coalesce(r.reporter_user_id::text, ''), r.version, r.has_register_notes "
    "FROM requests r WHERE r.id = $1 AND r.org_id = $2",
    2};

static const db_stmt_t lock_st = {
    "req_lock",
    "SELECT r.project_id, coalesce(r.unit_id::text, ''), coalesce(r.department_id::text, ''), "
    "coalesce(r.reporter_user_id::text, ''), r.version, r.state, r.type, r.channel, "
    "coalesce(r.state_before_pending, ''), r.location_kind, r.validity, "
    "coalesce(r.reporting_dept_kind, ''), r.handed_over_at IS NOT NULL, r.reopen_count, "
    "r.night_desk, r.escalation_level, "
    "(SELECT max(seq) FROM request_events e WHERE e.request_id = r.id), "
    "floor(extract(epoch FROM r.last_event_at))::bigint, "
    "coalesce(w.id::text, ''), coalesce(w.state, ''), coalesce(w.assignee_id::text, ''), "
    "coalesce(w.department_id::text, ''), coalesce(r.assignee_id::text, '') "
    "FROM requests r LEFT JOIN LATERAL (SELECT * FROM work_orders w WHERE w.request_id = r.id "
    "ORDER BY w.created_at DESC LIMIT 1) w ON true WHERE r.id = $1 AND r.org_id = $2 "
    "FOR UPDATE OF r",
    2};

#define SETC(col, type)                                                                            \
#col " = CASE WHEN $3::jsonb ? '" #col "' THEN ($3::jsonb->>'" #col "')::" type                \
         " ELSE r." #col " END, "
static const db_stmt_t apply_st = {
    "req_apply",
    "UPDATE requests r SET " SETC(state, "text") SETC(state_before_pending, "text") SETC(
        pending_reason, "text") SETC(pending_until, "timestamptz")
        SETC(handed_over_at, "timestamptz") SETC(explanation, "text") SETC(resolution, "text") SETC(
            resolved_at, "timestamptz") SETC(closed_at, "timestamptz") SETC(department_id, "uuid")
            SETC(assignee_id, "uuid") SETC(last_event_at, "timestamptz") SETC(title, "text")
                SETC(description, "text") SETC(category, "text") SETC(severity, "text") SETC(
                    validity, "text") SETC(customer_deadline, "timestamptz") SETC(appointment_at,
                                                                                  "timestamptz")
                    SETC(promised_by, "timestamptz") SETC(owner_id, "uuid") SETC(
                        reporting_dept_kind,
                        "text") "search_terms = CASE WHEN $3::jsonb ?| '{title,description}' THEN "
                                "search_bigrams(CASE WHEN $3::jsonb ? 'title' THEN "
                                "coalesce($3::jsonb->>"
                                "'title', '') ELSE coalesce(r.title, '') END || ' ' || CASE WHEN "
                                "$3::jsonb ? 'description' THEN $3::jsonb->>'description' ELSE "
                                "r.description END || ' ' || r.number) ELSE r.search_terms END, "
                                "reopen_count = r.reopen_count + "
                                "coalesce(($3::jsonb->>'reopen_inc')::int, 0), "
                                "escalation_level = r.escalation_level + "
                                "coalesce(($3::jsonb->>'escalation_inc')::int, 0), "
                                "version = r.version + 1, updated_at = clock_timestamp() "
                                "WHERE r.id = $1 AND r.org_id = $2 RETURNING request_json(r, "
                                "$4)::text",
    4};
#undef SETC

static const db_stmt_t wo_insert = {
    "wo_insert",
    "INSERT INTO work_orders (org_id, project_id, request_id, number, department_id, assignee_id, "
    "appointment_at, dispatched_at) SELECT r.org_id, r.project_id, r.id, next_number(r.project_id, "
    "'GD', extract(year FROM $6::timestamptz AT TIME ZONE p.time_zone)::int), $3, $4, $5, $6 "
    "FROM requests r JOIN projects p ON p.id = r.project_id WHERE r.id = $2 AND r.org_id = $1 "
    "RETURNING id",
    6};

static const db_stmt_t wo_update = {
    "wo_update",
    "UPDATE work_orders SET state = $3, "
    "accepted_at = CASE WHEN $3 = 'accepted' THEN $4::timestamptz ELSE accepted_at END, "
    "arrived_at = CASE WHEN $3 = 'on_site' THEN $4::timestamptz ELSE arrived_at END, "
    "reported_at = CASE WHEN $3 = 'done_unsigned' THEN $4::timestamptz ELSE reported_at END, "
    "signed_at = CASE WHEN $3 = 'signed_off' THEN $4::timestamptz ELSE signed_at END, "
    "assignee_id = coalesce($5, assignee_id), result = coalesce($6, result), "
    "signer_kind = coalesce($7, signer_kind), signer_resident_id = coalesce($8, "
    "signer_resident_id), signer_user_id = coalesce($9, signer_user_id), "
    "signer_name = coalesce($10, signer_name), version = version + 1, updated_at = "
    "clock_timestamp() WHERE id = $1 AND org_id = $2",
    10};

static const db_stmt_t wo_decline = {
    "wo_decline",
    "UPDATE work_orders SET state = 'declined', declined_at = $3::timestamptz, declined_by = $4, "
    "decline_reason = $5, decline_note = $6, version = version + 1, updated_at = "
    "clock_timestamp() WHERE id = $1 AND org_id = $2",
    6};

static const db_stmt_t event_st = {
    "req_event",
    "INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, "
    "from_state, to_state, channel, occurred_at, details) VALUES ($1, $2, $3, $4, $5, $6, $7, "
    "$8, $9, $10, coalesce($11::jsonb, '{}'))",
    11};

static const db_stmt_t timeline_st = {
    "req_timeline",
    "SELECT coalesce(json_agg(json_build_object('seq', e.seq, 'action', e.action, 'actor_id', "
    "e.actor_id, 'actor_role', e.actor_role, 'from_state', e.from_state, 'to_state', "
    "e.to_state, 'channel', e.channel, 'occurred_at', rfc3339(e.occurred_at), 'recorded_at', "
    "rfc3339(e.recorded_at), 'details', e.details) ORDER BY e.occurred_at, e.seq), '[]')::text "
    "FROM request_events e WHERE e.request_id = $1 AND e.org_id = $2 "
    "AND ($3::boolean OR coalesce(e.details->>'visibility', 'public') <> 'internal')",
    3};

static const db_stmt_t dept_kind = {
    "dept_kind", "SELECT kind FROM departments WHERE id = $1 AND org_id = $2", 2};
static const db_stmt_t res_unit = {
    "res_in_unit",
    "SELECT ru.is_adult, r.name FROM resident_units ru JOIN residents r ON r.id = ru.resident_id "
    "WHERE ru.resident_id = $1 AND ru.unit_id = $2 AND ru.org_id = $3",
    3};
static const db_stmt_t staff = {
    "staff_lookup",
    "SELECT u.role, coalesce(u.department_id::text, ''), coalesce(d.kind, ''), u.display_name "
    "FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = $1 AND "
    "u.org_id = $2 AND u.active",
    2};
static const db_stmt_t user_res = {
    "user_resident",
    "SELECT coalesce(resident_id::text, '') FROM users WHERE id = $1 AND org_id = $2", 2};
static const db_stmt_t last_pend = {
    "req_last_pend",
    "SELECT floor(extract(epoch FROM occurred_at))::bigint FROM request_events WHERE request_id "
    "= $1 AND org_id = $2 AND action = 'pend' ORDER BY seq DESC LIMIT 1",
    2};
static const db_stmt_t req_owner = {
    "req_owner", "SELECT coalesce(owner_id::text, '') FROM requests WHERE id = $1 AND org_id = $2",
    2};
static const db_stmt_t unit_proj = {
    "unit_project", "SELECT project_id FROM units WHERE id = $1 AND org_id = $2", 2};
static const db_stmt_t res_proj = {
    "resident_project", "SELECT project_id FROM residents WHERE id = $1 AND org_id = $2", 2};
static const db_stmt_t dept_proj = {
    "dept_project",
    "SELECT coalesce(project_id::text, '') FROM departments WHERE id = $1 AND org_id = $2", 2};
static const db_stmt_t user_proj = {
    "user_in_project",
    "SELECT 1 FROM user_projects WHERE user_id = $1 AND org_id = $2 AND project_id = $3", 3};

/* The number is drawn in the CTE p (a volatile function: materialised, drawn once) so the
 * search terms can add its bigrams to the ones of title and description that deskd
 * computed ($41, core/search.c): the terms of "title description number" in full.  The
 * first receiver (首问负责制) is the creator when staff ($25, $26: the authenticated user and
 * role), set here so request_intake_flow() need not look the user up again.  staff_created
 * says the `create` event below is a staff action at received_at: the monthly report's first
 * staff action, with no request_facts row (0040).  For such a staff create the statement
 * also does request_intake_flow()'s work — the owner is the first receiver, the repeat
 * repair (返修) link is looked up in p — and that trigger is not fired (0044); it still
 * runs for every other insert (a resident's or an integration's create).  The answer is
 * the request's columns as get_cols_st reads them (REQ_RENDER_COLS), rendered by
 * core_request_json() in deskd rather than by request_json() in PostgreSQL (issue 14: a
 * third of the statement's CPU). */
static const db_stmt_t create_st = {
    "req_create",
    "WITH p AS (SELECT time_zone, next_number($2, $3, extract(year FROM $4::timestamptz AT TIME "
    "ZONE time_zone)::int) AS number, CASE WHEN coalesce($26 NOT IN ('resident', 'integration', "
    "'system'), false) AND $5 = 'repair' AND $10::uuid IS NOT NULL THEN (SELECT q.id FROM requests "
    "q "
    "WHERE q.unit_id = $10 AND q.type = 'repair' AND q.state = 'closed' AND q.org_id = $1 AND "
    "q.category IS NOT DISTINCT FROM $8 AND q.closed_at >= $4::timestamptz - interval '30 days' "
    "AND q.closed_at <= $4::timestamptz ORDER BY q.closed_at DESC LIMIT 1) END AS repeat_of "
    "FROM projects WHERE id = $2 AND org_id = $1), "
    "rs AS (SELECT name, phone FROM residents WHERE id = $12 AND org_id = $1), "
    "r AS (INSERT INTO requests (org_id, project_id, number, type, channel, severity, category, "
    "location_kind, unit_id, common_area, reporter_resident_id, reporter_user_id, reporter_name, "
    "reporter_phone, title, description, customer_deadline, department_id, assignee_id, "
    "reporting_dept_kind, external_source, external_id, night_desk, received_at, last_event_at, "
    "created_by, sla_policy_version_id, sla_calendar_version_id, due_first_response, "
    "due_on_site, due_answer, due_resolution, due_handover, due_callback, due_gm_report, "
    "sla_next_due, sla_next_check, validity, search_terms, first_receiver_id, owner_id, "
    "repeat_of, is_repeat, staff_created) "
    "SELECT $1, $2, "
    "p.number, $5, $6, $7, "
    "$8, $9, $10, $11, $12, $13, "
    "coalesce($14, (SELECT name FROM rs)), coalesce($15, (SELECT phone FROM rs)), $16, $17, "
    "$18, $19, $20, $21, $22, $23, $24, $4, $4, $25, $29, $30, $31, $32, $33, $34, $35, $36, "
    "$37, $38, $39, coalesce($40, 'unknown'), $41::text[] || ARRAY(SELECT substr(' ' || "
    "p.number, i, 2) FROM generate_series(1, length(p.number)) i), CASE WHEN $26 NOT IN "
    "('resident', 'integration') THEN $25::uuid END, CASE WHEN $26 NOT IN ('resident', "
    "'integration') THEN $25::uuid END, p.repeat_of, p.repeat_of IS NOT NULL, "
    "coalesce($26 NOT IN ('resident', "
    "'integration', "
    "'system'), false) FROM p RETURNING *), "
    "e AS (INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action, "
    "to_state, channel, occurred_at, details) SELECT r.org_id, r.id, 1, $25, $26, 'create', "
    "'received', r.channel, r.received_at, $27::jsonb FROM r) "
    "SELECT " REQ_RENDER_COLS("$28") /* no work order yet */
    " FROM r CROSS JOIN (SELECT (NULL::work_orders).*) w",
    41};

char *db_request_terms_literal(const char *title, const char *description)
{
    size_t lt = title ? strlen(title) : 0, ld = description ? strlen(description) : 0;
    size_t len = lt + ld + 2;
    char *text = malloc(len + 1);
    core_bigram_t *v = malloc(len * sizeof *v);
    char *out = NULL;
    if (!text || !v)
        goto done;
    snprintf(text, len + 1, "%s %s ", title ? title : "", description ? description : "");
    size_t n = core_search_bigrams(text, len, v), cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 3 + 2 * (size_t)v[i].len; /* quotes, comma, every byte escaped at worst */
    if (!(out = malloc(cap)))
        goto done;
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[o++] = ',';
        out[o++] = '"';
        for (uint32_t k = 0; k < v[i].len; k++) {
            char ch = text[v[i].off + k];
            if (ch == '"' || ch == '\\')
                out[o++] = '\\';
            out[o++] = ch;
        }
        out[o++] = '"';
    }
    out[o++] = '}';
    out[o] = 0;
done:
    free(text);
    free(v);
    return out;
}

PGresult *db_request_create(db_conn_t *c, const request_new_t *n)
{
    const char *v[41] = {n->org,
                         n->project,
                         n->prefix,
                         n->occurred_at,
                         n->type,
                         n->channel,
                         n->severity,
                         n->category,
                         n->location_kind,
                         n->unit_id,
                         n->common_area,
                         n->reporter_resident_id,
                         n->reporter_user_id,
                         n->reporter_name,
                         n->reporter_phone,
                         n->title,
                         n->description,
                         n->customer_deadline,
                         n->department_id,
                         n->assignee_id,
                         n->reporting_dept_kind,
                         n->external_source,
                         n->external_id,
                         n->night_desk,
                         n->actor_id,
                         n->actor_role,
                         n->details,
                         n->pii ? "true" : "false"};
    for (int i = 0; i < 11; i++)
        v[28 + i] = n->sla[i];
    v[39] = n->validity;
    char *terms = db_request_terms_literal(n->title, n->description);
    if (!terms)
        return NULL;
    v[40] = terms;
    PGresult *r = db_exec(c, &create_st, v);
    free(terms);
    return r;
}

static int one_text(db_conn_t *c, const db_stmt_t *st, const char *const *v, char *out, size_t len)
{
    PGresult *r = db_exec(c, st, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1 && out)
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

int db_request_find_external(db_conn_t *c, const char *org, const char *source, const char *ext_id,
                             char id[40])
{
    const char *v[] = {org, source, ext_id};
    return one_text(c, &find_ext, v, id, 40);
}

static void cp(char *dst, size_t len, PGresult *r, int col)
{
    snprintf(dst, len, "%s", PQgetvalue(r, 0, col));
}

static void scope_from(request_scope_t *sc, PGresult *r, int col)
{
    cp(sc->project_id, sizeof sc->project_id, r, col);
    cp(sc->unit_id, sizeof sc->unit_id, r, col + 1);
    cp(sc->department_id, sizeof sc->department_id, r, col + 2);
    cp(sc->reporter_user_id, sizeof sc->reporter_user_id, r, col + 3);
    sc->version = atoi(PQgetvalue(r, 0, col + 4));
    sc->has_register_notes = PQgetvalue(r, 0, col + 5)[0] == 't';
}

/* request_json() in PostgreSQL: get_st. */
static int get_sql_json(db_conn_t *c, const char *const v[3], char **json, request_scope_t *sc)
{
    PGresult *r = db_exec(c, &get_st, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1) {
        if (!(*json = strdup(PQgetvalue(r, 0, 0))))
            rc = -1; /* out of memory */
        scope_from(sc, r, 1);
    }
    PQclear(r);
    return rc;
}

int db_request_get(db_conn_t *c, const char *id, const char *org, int pii, char **json,
                   request_scope_t *sc)
{
    const char *v[] = {id, org, pii ? "true" : "false"};
    PGresult *r = db_exec(c, json ? &get_cols_st : &scope_st, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1 && !json) {
        scope_from(sc, r, 0);
    } else if (rc == 1 && PQnfields(r) != RJ_NCOLS + 6) {
        rc = -1; /* get_cols_st and core/request_json.h disagree: a bug, never in tests */
    } else if (rc == 1) {
        const char *col[RJ_NCOLS];
        for (int i = 0; i < RJ_NCOLS; i++)
            col[i] = PQgetisnull(r, 0, i) ? NULL : PQgetvalue(r, 0, i);
        /* NULL notifications: the request has some; PostgreSQL renders it whole */
        *json = col[RJ_NOTIFICATIONS] ? core_request_json(col) : NULL;
        scope_from(sc, r, RJ_NCOLS);
        if (!*json) { /* a value core_request_json() does not render: PostgreSQL does */
            PQclear(r);
            return get_sql_json(c, v, json, sc);
        }
    }
    PQclear(r);
    return rc;
}

char *db_request_created_json(db_conn_t *c, PGresult *res, const char *org, int pii)
{
    if (PQntuples(res) < 1 || PQnfields(res) != RJ_NCOLS)
        return NULL; /* create_st and core/request_json.h disagree: a bug, never in tests */
    const char *col[RJ_NCOLS];
    for (int i = 0; i < RJ_NCOLS; i++)
        col[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
    char *json = col[RJ_NOTIFICATIONS] ? core_request_json(col) : NULL;
    if (json)
        return json;
    /* a value core_request_json() does not render: request_json() of the row just written */
    const char *v[] = {col[RJ_ID], org, pii ? "true" : "false"};
    request_scope_t sc;
    return get_sql_json(c, v, &json, &sc) == 1 ? json : NULL;
}

/* For tests: the same as db_request_get, rendered by PostgreSQL's request_json(). */
int db_request_get_sql_json(db_conn_t *c, const char *id, const char *org, int pii, char **json,
                            request_scope_t *sc)
{
    const char *v[] = {id, org, pii ? "true" : "false"};
    return get_sql_json(c, v, json, sc);
}

int db_request_lock(db_conn_t *c, const char *id, const char *org, request_row_t *w)
{
    const char *v[] = {id, org};
    PGresult *r = db_exec(c, &lock_st, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1) {
        cp(w->sc.project_id, sizeof w->sc.project_id, r, 0);
        cp(w->sc.unit_id, sizeof w->sc.unit_id, r, 1);
        cp(w->sc.department_id, sizeof w->sc.department_id, r, 2);
        cp(w->sc.reporter_user_id, sizeof w->sc.reporter_user_id, r, 3);
        w->sc.version = atoi(PQgetvalue(r, 0, 4));
        cp(w->state, sizeof w->state, r, 5);
        cp(w->type, sizeof w->type, r, 6);
        cp(w->channel, sizeof w->channel, r, 7);
        cp(w->state_before_pending, sizeof w->state_before_pending, r, 8);
        cp(w->location_kind, sizeof w->location_kind, r, 9);
        cp(w->validity, sizeof w->validity, r, 10);
        cp(w->reporting_dept_kind, sizeof w->reporting_dept_kind, r, 11);
        w->handed_over = PQgetvalue(r, 0, 12)[0] == 't';
        w->reopen_count = atoi(PQgetvalue(r, 0, 13));
        w->night_desk = PQgetvalue(r, 0, 14)[0] == 't';
        w->escalation_level = atoi(PQgetvalue(r, 0, 15));
        w->last_seq = atoi(PQgetvalue(r, 0, 16));
        w->last_event_at = atoll(PQgetvalue(r, 0, 17));
        cp(w->wo_id, sizeof w->wo_id, r, 18);
        cp(w->wo_state, sizeof w->wo_state, r, 19);
        cp(w->wo_assignee, sizeof w->wo_assignee, r, 20);
        cp(w->wo_department, sizeof w->wo_department, r, 21);
        cp(w->assignee_id, sizeof w->assignee_id, r, 22);
    }
    PQclear(r);
    return rc;
}

PGresult *db_request_apply(db_conn_t *c, const char *id, const char *org, int pii,
                           const char *changes)
{
    const char *v[] = {id, org, changes, pii ? "true" : "false"};
    return db_exec(c, &apply_st, v);
}

PGresult *db_workorder_insert(db_conn_t *c, const char *org, const char *request_id,
                              const char *department_id, const char *assignee_id,
                              const char *appointment_at, const char *dispatched_at)
{
    const char *v[] = {org, request_id, department_id, assignee_id, appointment_at, dispatched_at};
    return db_exec(c, &wo_insert, v);
}

PGresult *db_workorder_update(db_conn_t *c, const char *wo_id, const char *org, const char *state,
                              const char *at, const char *assignee_id, const char *result,
                              const char *signer_kind, const char *signer_resident,
                              const char *signer_user, const char *signer_name)
{
    const char *v[] = {wo_id,  org,         state,           at,          assignee_id,
                       result, signer_kind, signer_resident, signer_user, signer_name};
    return db_exec(c, &wo_update, v);
}

PGresult *db_workorder_decline(db_conn_t *c, const char *wo_id, const char *org, const char *at,
                               const char *by, const char *reason, const char *note)
{
    const char *v[] = {wo_id, org, at, by, reason, note};
    return db_exec(c, &wo_decline, v);
}

PGresult *db_request_event(db_conn_t *c, const char *org, const char *request_id, int seq,
                           const char *actor_id, const char *actor_role, const char *action,
                           const char *from_state, const char *to_state, const char *channel,
                           const char *occurred_at, const char *details)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *v[] = {org,        request_id, s,       actor_id,    actor_role, action,
                       from_state, to_state,   channel, occurred_at, details};
    return db_exec(c, &event_st, v);
}

char *db_request_timeline(db_conn_t *c, const char *org, const char *id, int internal)
{
    const char *v[] = {id, org, internal ? "true" : "false"};
    return db_exec_text(c, &timeline_st, v);
}

long long db_request_last_pend(db_conn_t *c, const char *id, const char *org)
{
    char v[24] = "";
    const char *p[] = {id, org};
    int rc = one_text(c, &last_pend, p, v, sizeof v);
    return rc == 1 ? atoll(v) : rc == 0 ? 0 : -1;
}

int db_department_kind(db_conn_t *c, const char *dept_id, const char *org, char kind[20])
{
    const char *v[] = {dept_id, org};
    return one_text(c, &dept_kind, v, kind, 20);
}

int db_resident_in_unit(db_conn_t *c, const char *resident_id, const char *unit_id, const char *org,
                        int *is_adult, char name[128])
{
    const char *v[] = {resident_id, unit_id, org};
    PGresult *r = db_exec(c, &res_unit, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1) {
        *is_adult = PQgetvalue(r, 0, 0)[0] == 't';
        snprintf(name, 128, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

int db_staff_lookup(db_conn_t *c, const char *user_id, const char *org, char role[20],
                    char dept_id[40], char dept_kind_out[20], char name[128])
{
    const char *v[] = {user_id, org};
    PGresult *r = db_exec(c, &staff, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1) {
        snprintf(role, 20, "%s", PQgetvalue(r, 0, 0));
        snprintf(dept_id, 40, "%s", PQgetvalue(r, 0, 1));
        snprintf(dept_kind_out, 20, "%s", PQgetvalue(r, 0, 2));
        snprintf(name, 128, "%s", PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    return rc;
}

int db_user_resident(db_conn_t *c, const char *user_id, const char *org, char resident_id[40])
{
    const char *v[] = {user_id, org};
    return one_text(c, &user_res, v, resident_id, 40);
}

int db_request_owner(db_conn_t *c, const char *id, const char *org, char owner[40])
{
    const char *v[] = {id, org};
    return one_text(c, &req_owner, v, owner, 40);
}

int db_unit_project(db_conn_t *c, const char *unit_id, const char *org, char project[40])
{
    const char *v[] = {unit_id, org};
    return one_text(c, &unit_proj, v, project, 40);
}

int db_resident_project(db_conn_t *c, const char *resident_id, const char *org, char project[40])
{
    const char *v[] = {resident_id, org};
    return one_text(c, &res_proj, v, project, 40);
}

int db_department_project(db_conn_t *c, const char *dept_id, const char *org, char project[40])
{
    const char *v[] = {dept_id, org};
    return one_text(c, &dept_proj, v, project, 40);
}

int db_user_in_project(db_conn_t *c, const char *user_id, const char *org, const char *project)
{
    char one[8];
    const char *v[] = {user_id, org, project};
    return one_text(c, &user_proj, v, one, sizeof one);
}

/* ---------------------------------------------------------------- lists */

/* UTF-8 characters in s (bytes that do not continue a character). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A uuid[] literal of exactly one element ("{x}"). */
static int one_project(const char *lit)
{
    return lit[0] == '{' && lit[1] && lit[1] != '}' && !strchr(lit, ',');
}

int db_request_list_sql(const request_filter_t *f, char **sql, const char **vals)
{
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    int p = 0;
    *sql = NULL;
    if (!s)
        return -1;
#define ADD(...) n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__)
    int a, b;
    int walk = f->q && f->walk > 0;
    vals[p++] = f->pii ? "true" : "false";
    vals[p++] = f->org;
    if (walk) /* the newest `walk` rows of the list without q, then the matches among them */
        ADD("SELECT request_json(r, $1)::text, rfc3339(r.created_at), r.id FROM (SELECT r.id "
            "FROM (SELECT r.id, r.created_at, r.title, r.description, r.number, r.search_terms "
            "FROM requests r WHERE ");
    else
        ADD("SELECT request_json(r, $1)::text, rfc3339(r.created_at), r.id FROM requests r "
            "WHERE ");
    /* A frequent q= term in one project (the project_id filter, or a scope of one project):
     * the organisation is compared in a form no index matches.  With a plain r.org_id = $2
     * the planner reads the organisation's list index in order and filters the project (it
     * costs requests_project_created as random reads, by its first column's correlation),
     * which reads 3-10 times the rows of the project's own index.  Not for other terms:
     * given the project's equality, the planner may intersect a rare term's few index
     * matches with a bitmap of all the project's rows (起火: 162 ms instead of 0.2). */
    const char *one = f->project_id                             ? f->project_id
                      : f->projects && one_project(f->projects) ? f->projects
                                                                : NULL;
    if (one && f->q && f->frequent && !f->units && !f->reporter && !f->dept_only &&
        !f->updated_from && !f->updated_to && !f->external_source) {
        vals[p] = one;
        a = ++p;
        if (f->project_id) /* a uuid */
            ADD("(r.org_id = $2) IS TRUE AND r.project_id = $%d::uuid", a);
        else /* a one-element uuid[] literal */
            ADD("(r.org_id = $2) IS TRUE AND r.project_id = ($%d::uuid[])[1]", a);
    } else
        ADD("r.org_id = $2");
    if (f->projects) {
        vals[p] = f->projects;
        ADD(" AND r.project_id = ANY($%d::uuid[])", ++p);
    }
    if (f->units || f->reporter) {
        vals[p] = f->units ? f->units : "{}";
        a = ++p;
        vals[p] = f->reporter;
        b = ++p;
        ADD(" AND (r.unit_id = ANY($%d::uuid[]) OR r.reporter_user_id = $%d::uuid)", a, b);
    }
    if (f->dept_only) {
        vals[p] = f->dept_only;
        ADD(" AND r.department_id = $%d::uuid", ++p);
    }
    static const struct {
        size_t off;
        const char *expr;
    } eq[] = {
        {offsetof(request_filter_t, project_id), "r.project_id = $%d::uuid"},
        {offsetof(request_filter_t, state), "r.state = $%d"},
        {offsetof(request_filter_t, type), "r.type = $%d"},
        {offsetof(request_filter_t, severity), "r.severity = $%d"},
        {offsetof(request_filter_t, category), "r.category = $%d"},
        {offsetof(request_filter_t, department_id), "r.department_id = $%d::uuid"},
        {offsetof(request_filter_t, assignee_id), "r.assignee_id = $%d::uuid"},
        {offsetof(request_filter_t, channel), "r.channel = $%d"},
        {offsetof(request_filter_t, unit_id), "r.unit_id = $%d::uuid"},
        {offsetof(request_filter_t, external_source), "r.external_source = $%d"},
        {offsetof(request_filter_t, owner_id), "r.owner_id = $%d::uuid"},
        {offsetof(request_filter_t, first_receiver_id), "r.first_receiver_id = $%d::uuid"},
        {offsetof(request_filter_t, created_from), "r.created_at >= $%d::timestamptz"},
        {offsetof(request_filter_t, created_to), "r.created_at < $%d::timestamptz"},
        {offsetof(request_filter_t, updated_from), "r.updated_at >= $%d::timestamptz"},
        {offsetof(request_filter_t, updated_to), "r.updated_at < $%d::timestamptz"},
    };
    for (size_t i = 0; i < sizeof eq / sizeof eq[0]; i++) {
        const char *v = *(const char *const *)((const char *)f + eq[i].off);
        if (v) {
            vals[p] = v;
            ADD(" AND ");
            ADD(eq[i].expr, ++p);
        }
    }
    if (f->overdue) /* a literal choice between two fixed fragments, no value pasted */
        ADD(!strcmp(f->overdue, "true")
                ? " AND r.sla_next_due < now()"
                : " AND (r.sla_next_due IS NULL OR r.sla_next_due >= now())");
    if (f->open) /* a literal choice between two fixed fragments, no value pasted */
        ADD(!strcmp(f->open, "true")
                ? " AND r.state NOT IN ('closed', 'rejected', 'not_responsible')"
                : " AND r.state IN ('closed', 'rejected', 'not_responsible')");
    if (f->after_ts) {
        vals[p] = f->after_ts;
        a = ++p;
        vals[p] = f->after_id;
        b = ++p;
        ADD(" AND (r.created_at, r.id) < ($%d::timestamptz, $%d::uuid)", a, b);
    }
    if (walk)
        ADD(" ORDER BY r.created_at DESC, r.id DESC LIMIT %d) r WHERE true", f->walk);
    int window = f->q && !walk && f->since && f->bigram;
    if (f->q) {
        vals[p] = f->q;
        a = ++p;
        if (window) { /* one bigram, estimated from its statistics, and the window */
            vals[p] = f->bigram;
            ADD(" AND r.search_terms @> ARRAY[$%d::text]", ++p);
            vals[p] = f->since;
            ADD(" AND r.created_at >= $%d::timestamptz", ++p);
        } else
            ADD(" AND r.search_terms @> search_bigrams($%d)", a);
        /* The bigrams of a two-character term are the term: the index answers exactly, and
         * without the LIKE the planner estimates the matches from the bigram's statistics
         * (with it, its default guess for LIKE makes every term look rare). */
        if (utf8_chars(f->q) != 2 || window)
            ADD(" AND (coalesce(r.title, '') || ' ' || r.description || ' ' || r.number) LIKE "
                "'%%' || replace(replace(replace($%d, '\\', '\\\\'), '%%', '\\%%'), '_', "
                "'\\_') || '%%'",
                a);
    }
    if (walk)
        ADD(" ORDER BY r.created_at DESC, r.id DESC LIMIT %d) w JOIN requests r ON r.id = w.id",
            f->limit);
    char lim[16];
    snprintf(lim, sizeof lim, "%d", f->limit);
    ADD(" ORDER BY r.created_at DESC, r.id DESC LIMIT %s", lim);
#undef ADD
    *sql = s;
    return p;
}

/* ---------------------------------------------------------------- q= search: the choice
 *
 * A term of three or more characters is estimated by PostgreSQL as the product of its
 * bigrams' shares (as if independent), so it always looks rare, and the LIKE recheck gets a
 * default guess: left to the planner, every such term is collected whole from the bigram
 * index and sorted, which is slow when it is not rare.  db_request_list() therefore
 * chooses itself, from the share of rows holding the term's rarest bigram (an upper bound
 * of the term's share) in the column's element statistics (pg_stats.most_common_elems of
 * requests.search_terms, read once and kept STATS_TTL seconds):
 *   - in WALK_FREQ of the rows or more: the newest rows of the list in order (a page is
 *     at most some limit / WALK_FREQ rows away), then the index if that does not fill it;
 *   - a bigram below the statistics' least common element: the bigram index alone (all
 *     bigrams intersected: the matches are few);
 *   - in between: the bigram index on the rarest bigram alone, intersected (BitmapAnd)
 *     with the range of the list's index holding a window of the newest rows, WINDOW_FACTOR
 *     times what the bigram's share promises for a page; when that does not fill the page,
 *     a window WINDOW_WIDEN times as long in time, then the whole index.  Any window gives
 *     exactly the newest matches when it fills the page: every match it leaves out is
 *     older than all it holds.
 */

/* How many of the newest rows of a list a walk looks at first (LIST_PLAN_WALK). */
#define LIST_WALK     10000
#define WALK_FREQ     0.05
#define WINDOW_FACTOR 3
#define WINDOW_MIN    2000
#define WINDOW_MAX    50000
#define WINDOW_WIDEN  16
#define STATS_TTL     300

typedef struct {
    char *elem;
    double freq;
} elem_freq_t;

static struct {
    pthread_mutex_t mu;
    int loaded;         /* read at least once */
    struct timespec at; /* when (CLOCK_MONOTONIC) */
    size_t n;           /* 0: no element statistics (never analysed, or empty) */
    elem_freq_t *v;     /* sorted bytewise by elem */
    double min_freq;    /* the least common element's share */
} stats = {PTHREAD_MUTEX_INITIALIZER, 0, {0, 0}, 0, NULL, 0};

static void stats_free(void)
{
    for (size_t i = 0; i < stats.n; i++)
        free(stats.v[i].elem);
    free(stats.v);
    stats.v = NULL;
    stats.n = 0;
}

static int cmp_elem(const void *a, const void *b)
{
    return strcmp(((const elem_freq_t *)a)->elem, ((const elem_freq_t *)b)->elem);
}

/* Reads the statistics (stats.mu held).  0, or -1 when the read failed (no statistics). */
static int stats_load(db_conn_t *c)
{
    stats_free();
    stats.loaded = 1;
    clock_gettime(CLOCK_MONOTONIC, &stats.at);
    PGresult *r = db_query(
        c,
        "SELECT u.e, u.f, s.most_common_elem_freqs[cardinality(s.most_common_elems::text::"
        "text[]) + 1] FROM pg_stats s, unnest(s.most_common_elems::text::text[], "
        "s.most_common_elem_freqs) u(e, f) WHERE s.tablename = 'requests' AND s.attname = "
        "'search_terms' AND u.e IS NOT NULL AND s.schemaname = (SELECT n.nspname FROM pg_class "
        "k JOIN pg_namespace n ON n.oid = k.relnamespace WHERE k.oid = 'requests'::regclass)",
        0, NULL);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
    size_t n = rc == 0 ? (size_t)PQntuples(r) : 0;
    stats.v = n ? calloc(n, sizeof *stats.v) : NULL;
    if (stats.v) {
        for (size_t i = 0; i < n; i++) {
            stats.v[i].elem = strdup(PQgetvalue(r, (int)i, 0));
            stats.v[i].freq = atof(PQgetvalue(r, (int)i, 1));
            stats.n = i + 1;
            if (!stats.v[i].elem) {
                stats_free();
                break;
            }
        }
        if (stats.n) {
            stats.min_freq = atof(PQgetvalue(r, 0, 2));
            qsort(stats.v, stats.n, sizeof *stats.v, cmp_elem);
        }
    }
    PQclear(r);
    return rc;
}

int db_request_list_choice(db_conn_t *c, const request_filter_t *f, list_choice_t *out)
{
    memset(out, 0, sizeof *out);
    out->plan = LIST_PLAN_ONE;
    if (!f->q || f->walk > 0 || f->since) /* no q, or a plan chosen by the caller */
        return 0;
    /* A two-character term: one statement (its one bigram is estimated right); its share
     * still says whether it is frequent (db_request_list_sql: request_filter_t.frequent). */
    int two = utf8_chars(f->q) == 2;
    out->plan = two ? LIST_PLAN_ONE : LIST_PLAN_WALK;
    /* Narrow scopes (a resident's units, a technician's department) have few rows: a walk
     * over their own index finds the term or runs out quickly. */
    if (f->units || f->reporter || f->dept_only)
        return 0;
    size_t len = strlen(f->q);
    core_bigram_t *v = malloc((len ? len : 1) * sizeof *v);
    if (!v)
        return -1;
    size_t nb = core_search_bigrams(f->q, len, v);
    int rc = 0;
    pthread_mutex_lock(&stats.mu);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!stats.loaded || now.tv_sec - stats.at.tv_sec >= STATS_TTL)
        rc = stats_load(c);
    double fmin = 2;
    for (size_t i = 0; i < nb && stats.n; i++) {
        char b[sizeof out->bigram];
        if (v[i].len >= sizeof b)
            continue; /* cannot be a bigram of stored text: the LIKE decides */
        memcpy(b, f->q + v[i].off, v[i].len);
        b[v[i].len] = 0;
        elem_freq_t key = {b, 0};
        const elem_freq_t *e = bsearch(&key, stats.v, stats.n, sizeof *stats.v, cmp_elem);
        double fr = e ? e->freq : 0; /* not among the common elements: rarer than all */
        if (fr < fmin) {
            fmin = fr;
            memcpy(out->bigram, b, v[i].len + 1);
        }
    }
    int known = stats.n > 0;
    pthread_mutex_unlock(&stats.mu);
    free(v);
    if (!known || fmin > 1) /* no statistics or no bigram: as before, walk then index */
        return rc;
    out->freq = fmin;
    if (two || fmin >= WALK_FREQ)
        return rc;
    if (fmin <= 0) {
        out->plan = LIST_PLAN_INDEX;
        return rc;
    }
    double w = WINDOW_FACTOR * (double)f->limit / fmin;
    out->plan = LIST_PLAN_WINDOW;
    out->window = w < WINDOW_MIN ? WINDOW_MIN : w > WINDOW_MAX ? WINDOW_MAX : (int)w;
    return rc;
}

static PGresult *list_run(db_conn_t *c, const request_filter_t *f)
{
    char *sql;
    const char *vals[40];
    int n = db_request_list_sql(f, &sql, vals);
    if (n < 0) /* out of memory: an error result the caller handles like any failure */
        return PQmakeEmptyPGresult(db_pg(c), PGRES_FATAL_ERROR);
    PGresult *r = db_query(c, sql, n, vals);
    free(sql);
    return r;
}

/* First pages' window starts, by scope and size, kept WINDOW_TTL seconds: rows are added
 * at the newest end, so a start read a little earlier still leaves at least `rows` rows in
 * the window (and any start gives exact answers).  Saves the index-only read of the
 * window (~15,000 index entries for a 1 % term) on repeated searches. */
#define WINDOW_TTL   30
#define WINDOW_SLOTS 64
static struct {
    pthread_mutex_t mu;
    struct {
        char scope[40];
        int rows;
        struct timespec at;
        char since[64], wide[64];
    } slot[WINDOW_SLOTS];
} windows = {PTHREAD_MUTEX_INITIALIZER, {{"", 0, {0, 0}, "", ""}}};

static size_t window_slot(const char *scope, int rows)
{
    size_t h = (size_t)rows * 2654435761u;
    for (const char *s = scope; *s; s++)
        h = h * 31 + (unsigned char)*s;
    return h % WINDOW_SLOTS;
}

void db_request_search_stats_reset(void)
{
    pthread_mutex_lock(&stats.mu);
    stats_free();
    stats.loaded = 0;
    pthread_mutex_unlock(&stats.mu);
    pthread_mutex_lock(&windows.mu);
    memset(windows.slot, 0, sizeof windows.slot);
    pthread_mutex_unlock(&windows.mu);
}

/* The created_at of the window's oldest row (the `rows`-th of the list in the scope's own
 * order, after the cursor) into since, and a bound WINDOW_WIDEN times as far back from the
 * cursor (or now) into wide.  1, 0 when the scope has fewer rows (no window), -1 error. */
static int window_bounds(db_conn_t *c, const request_filter_t *f, int rows, char since[64],
                         char wide[64])
{
    const char *scope = f->project_id                             ? f->project_id
                        : f->projects && one_project(f->projects) ? f->projects
                                                                  : f->org;
    size_t k = window_slot(scope, rows);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!f->after_ts) {
        int hit = 0;
        pthread_mutex_lock(&windows.mu);
        if (windows.slot[k].rows == rows && !strcmp(windows.slot[k].scope, scope) &&
            now.tv_sec - windows.slot[k].at.tv_sec < WINDOW_TTL) {
            memcpy(since, windows.slot[k].since, 64);
            memcpy(wide, windows.slot[k].wide, 64);
            hit = 1;
        }
        pthread_mutex_unlock(&windows.mu);
        if (hit)
            return 1;
    }
    char sql[640], off[16];
    const char *vals[4];
    int p = 0;
    size_t n = 0;
    snprintf(off, sizeof off, "%d", rows - 1);
    vals[p++] = off;
    vals[p++] = f->after_ts;
    /* the scope's own index, read index-only: one project, else the organisation */
    if (f->project_id) {
        vals[p++] = f->project_id;
        n += (size_t)snprintf(sql + n, sizeof sql - n, "r.project_id = $3::uuid");
    } else if (f->projects && one_project(f->projects)) {
        vals[p++] = f->projects;
        n += (size_t)snprintf(sql + n, sizeof sql - n, "r.project_id = ($3::uuid[])[1]");
    } else {
        vals[p++] = f->org;
        n += (size_t)snprintf(sql + n, sizeof sql - n, "r.org_id = $3::uuid");
    }
    if (f->after_ts) {
        vals[p++] = f->after_id;
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              " AND (r.created_at, r.id) < ($2::timestamptz, $4::uuid)");
    }
    char full[1024];
    snprintf(full, sizeof full,
             "SELECT r.created_at, coalesce($2::timestamptz, now()) - (coalesce($2::timestamptz, "
             "now()) - r.created_at) * %d FROM requests r WHERE %s ORDER BY r.created_at DESC, "
             "r.id DESC OFFSET $1::int LIMIT 1",
             WINDOW_WIDEN, sql);
    PGresult *r = db_query(c, full, p, vals);
    int rc = PQresultStatus(r) != PGRES_TUPLES_OK ? -1 : PQntuples(r) > 0;
    if (rc == 1) {
        snprintf(since, 64, "%s", PQgetvalue(r, 0, 0));
        snprintf(wide, 64, "%s", PQgetvalue(r, 0, 1));
        if (!f->after_ts && strlen(scope) < sizeof windows.slot[k].scope) {
            pthread_mutex_lock(&windows.mu);
            snprintf(windows.slot[k].scope, sizeof windows.slot[k].scope, "%s", scope);
            windows.slot[k].rows = rows;
            windows.slot[k].at = now;
            memcpy(windows.slot[k].since, since, 64);
            memcpy(windows.slot[k].wide, wide, 64);
            pthread_mutex_unlock(&windows.mu);
        }
    }
    PQclear(r);
    return rc;
}

/* r when it is an error or fills the page (the caller returns it); NULL when not (freed). */
static PGresult *filled(PGresult *r, int limit)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) >= limit)
        return r;
    PQclear(r);
    return NULL;
}

PGresult *db_request_list(db_conn_t *c, const request_filter_t *f)
{
    list_choice_t ch;
    db_request_list_choice(c, f, &ch); /* a failed statistics read leaves the walk */
    PGresult *r;
    request_filter_t w = *f;
    w.frequent = ch.freq >= WALK_FREQ;
    switch (ch.plan) {
    case LIST_PLAN_ONE:
        return list_run(c, &w);
    case LIST_PLAN_INDEX:
        break;
    case LIST_PLAN_WALK:
        w.walk = LIST_WALK;
        if ((r = filled(list_run(c, &w), f->limit)))
            return r;
        break;
    case LIST_PLAN_WINDOW: {
        char since[64], wide[64];
        int b = window_bounds(c, f, ch.window, since, wide);
        if (b < 0)
            return PQmakeEmptyPGresult(db_pg(c), PGRES_FATAL_ERROR);
        if (b == 0) /* the scope holds fewer rows than the window: the index */
            break;
        w.bigram = ch.bigram;
        w.since = since;
        if ((r = filled(list_run(c, &w), f->limit)))
            return r;
        w.since = wide;
        if ((r = filled(list_run(c, &w), f->limit)))
            return r;
        break;
    }
    }
    return list_run(c, f);
}
