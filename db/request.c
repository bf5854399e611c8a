/*
 * db/request.c — SQL for service requests, work orders and the timeline.  The request
 * JSON is rendered by the SQL function request_json() (schema.sql) so that every read
 * path returns the same shape.
 */
#include "db/request.h"

#include "core/request_json.h"
#include "core/search.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * Timestamps as timezone('UTC', t), i.e. t AT TIME ZONE 'UTC' (DateStyle ISO; rfc3339() is done in
 * C); the phone masked and "overdue" computed here exactly as request_json() does; the
 * notifications not read at all: '[]' when r.has_notifications (0039) says there are none,
 * else NULL, and the request (rare) is rendered by get_st's request_json() in one statement
 * (a json_agg sub-select over request_events here cost every GET its executor start and
 * locks, though almost no request has notifications).  After RJ_NCOLS: the scope columns of
 * get_st.
 */
#define REQ_RENDER_COLS(pii)                                                                       \
    "r.id, r.org_id, r.project_id, r.number, r.type, r.channel, r.severity, "                      \
    "r.category, r.validity, r.state, r.pending_reason, timezone('UTC', r.pending_until), "        \
    "r.state_before_pending, r.location_kind, r.unit_id, r.common_area, "                          \
    "r.reporter_resident_id, r.reporter_user_id, r.reporter_name, CASE WHEN " pii " THEN "         \
    "r.reporter_phone ELSE mask_phone(r.reporter_phone) END, r.reporting_dept_kind, "              \
    "r.title, r.description, timezone('UTC', r.customer_deadline), r.department_id, "              \
    "r.assignee_id, r.external_source, r.external_id, r.night_desk, timezone('UTC', "              \
    "r.handed_over_at), r.reopen_count, r.escalation_level, r.explanation, r.resolution, "         \
    "timezone('UTC', r.received_at), timezone('UTC', r.resolved_at), timezone('UTC', "             \
    "r.closed_at), w.id, w.number, w.state, w.department_id, w.assignee_id, timezone('UTC', "      \
    "w.appointment_at), timezone('UTC', w.dispatched_at), timezone('UTC', w.accepted_at), "        \
    "timezone('UTC', w.arrived_at), timezone('UTC', w.reported_at), w.result, "                    \
    "timezone('UTC', w.signed_at), w.signer_kind, w.signer_resident_id, w.signer_user_id, "        \
    "w.signer_name, w.decline_reason, w.decline_note, w.declined_by, timezone('UTC', "             \
    "w.declined_at), r.first_receiver_id, r.owner_id, r.repeat_of, r.is_repeat, "                  \
    "timezone('UTC', r.appointment_at), timezone('UTC', r.promised_by), CASE WHEN "                \
    "r.has_notifications THEN NULL ELSE '[]' END, timezone('UTC', r.sla_next_due), "               \
    "r.sla_next_due IS NOT NULL AND r.sla_next_due < now(), "                                      \
    "timezone('UTC', r.due_first_response), timezone('UTC', r.due_on_site), "                      \
    "timezone('UTC', r.due_answer), timezone('UTC', r.due_resolution), timezone('UTC', "           \
    "r.due_handover), timezone('UTC', r.due_callback), timezone('UTC', r.due_gm_report), "         \
    "r.version, timezone('UTC', r.created_at), timezone('UTC', r.updated_at)"
static const db_stmt_t get_cols_st = {
    "req_get_cols",
    "SELECT " REQ_RENDER_COLS("$3") /* then the scope columns */
    ", r.project_id, coalesce(r.unit_id::text, ''), coalesce(r.department_id::text, ''), "
    "coalesce(r.reporter_user_id::text, ''), r.version, EXISTS (SELECT 1 FROM "
    "request_register_notes m WHERE m.request_id = r.id) FROM requests r LEFT JOIN LATERAL "
    "(SELECT * FROM work_orders w WHERE w.request_id = r.id ORDER BY w.created_at DESC "
    "LIMIT 1) w ON true WHERE r.id = $1 AND r.org_id = $2",
    3};

/* Only what the scope checks need (api_request_authorize): no JSON at all. */
static const db_stmt_t scope_st = {
    "req_scope",
    "SELECT r.project_id, coalesce(r.unit_id::text, ''), coalesce(r.department_id::text, ''), "
    "coalesce(r.reporter_user_id::text, ''), r.version, "
    "EXISTS (SELECT 1 FROM request_register_notes m WHERE m.request_id = r.id) "
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
            "FROM requests r WHERE r.org_id = $2");
    else
        ADD("SELECT request_json(r, $1)::text, rfc3339(r.created_at), r.id FROM requests r "
            "WHERE r.org_id = $2");
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
    if (f->q) {
        vals[p] = f->q;
        a = ++p;
        ADD(" AND r.search_terms @> search_bigrams($%d)", a);
        /* The bigrams of a two-character term are the term: the index answers exactly, and
         * without the LIKE the planner estimates the matches from the bigram's statistics
         * (with it, its default guess for LIKE makes every term look rare). */
        if (utf8_chars(f->q) != 2)
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

/* How many of the newest rows of a list a q= search looks at first (db_request_list). */
#define LIST_WALK 10000

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

PGresult *db_request_list(db_conn_t *c, const request_filter_t *f)
{
    /* Without q, or with a two-character term, one statement: PostgreSQL estimates a
     * bigram's matches from its statistics and picks between reading the list in order
     * (a frequent term) and collecting the matches from the bigram index (a rare one). */
    if (!f->q || f->walk > 0 || utf8_chars(f->q) == 2)
        return list_run(c, f);
    /* A longer term: its estimate multiplies its bigrams' frequencies as if they were
     * independent, so it always looks rare, and collecting all its matches and sorting
     * them is slow when it is not (燃气异味: 1 % of the rows, 10,000 of a million).  So
     * first look among the newest LIST_WALK rows of the list (one bounded index range),
     * which fills a page for any term in more than ~0.5 % of them; only when it does not,
     * the bigram index, whose matches are then few. */
    request_filter_t w = *f;
    w.walk = LIST_WALK;
    PGresult *r = list_run(c, &w);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) >= f->limit)
        return r;
    PQclear(r);
    return list_run(c, f);
}
