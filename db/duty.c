/*
 * db/duty.c — see db/duty.h.  Every SQL string of duty shifts, the duty log, handovers and
 * special incident reports.  Times come in as UTC epoch seconds and go out as RFC 3339
 * (rfc3339()); the local day of a project is its time_zone's (AT TIME ZONE).
 */
#include "db/duty.h"

#include <assert.h>

#define SHIFT_JSON                                                                                 \
    "json_build_object('id', s.id, 'project_id', s.project_id, 'post', s.post, 'user_ids', "       \
    "to_json(s.user_ids), 'planned_start', rfc3339(s.planned_start), 'planned_end', "              \
    "rfc3339(s.planned_end), 'actual_start', rfc3339(s.actual_start), 'actual_end', "              \
    "rfc3339(s.actual_end), 'on_duty', (s.actual_start IS NOT NULL AND s.actual_end IS NULL), "    \
    "'equipment_transition', s.equipment_transition, 'equipment_note', s.equipment_note, "         \
    "'handover_id', (SELECT h.id FROM handovers h WHERE h.from_shift_id = s.id), 'version', "      \
    "s.version, 'created_at', rfc3339(s.created_at))"

#define LOG_JSON                                                                                   \
    "json_build_object('id', e.id, 'shift_id', e.shift_id, 'project_id', e.project_id, 'kind', "   \
    "e.kind, 'at', rfc3339(e.at), 'summary', e.summary, 'cause', e.cause, 'handling', "            \
    "e.handling, 'result', e.result, 'corrects', e.corrects, 'correction_reason', "                \
    "e.correction_reason, 'corrected_by', (SELECT coalesce(json_agg(c.id ORDER BY c.recorded_at, " \
    "c.id), '[]') FROM duty_log_entries c WHERE c.corrects = e.id), 'author_id', e.author_id, "    \
    "'author_role', e.author_role, 'recorded_at', rfc3339(e.recorded_at))"

#define HANDOVER_JSON                                                                              \
    "json_build_object('id', h.id, 'project_id', h.project_id, 'from_shift_id', h.from_shift_id, " \
    "'to_shift_id', h.to_shift_id, 'outgoing_user_id', h.outgoing_user_id, 'incoming_user_id', "   \
    "h.incoming_user_id, 'planned_at', rfc3339(h.planned_at), 'state', h.state, 'prefill', "       \
    "h.prefill, 'sections', h.sections, 'unfinished', h.unfinished, 'instructions', "              \
    "h.instructions, 'major_issues', h.major_issues, 'equipment_status', h.equipment_status, "     \
    "'staffing_changes', h.staffing_changes, 'incoming_unfit', h.incoming_unfit, 'unfit_note', "   \
    "h.unfit_note, 'replacement_user_id', h.replacement_user_id, 'grace_minutes', "                \
    "h.grace_minutes, 'submitted_by', h.submitted_by, 'submitted_at', rfc3339(h.submitted_at), "   \
    "'accepted_by', h.accepted_by, 'accepted_at', rfc3339(h.accepted_at), 'late_notified_at', "    \
    "rfc3339(h.late_notified_at), 'outgoing_on_duty', h.state <> 'accepted', "                     \
    "'night_desk_actions', h.night_desk_actions, 'version', h.version, 'created_at', "             \
    "rfc3339(h.created_at))"

#define INCIDENT_JSON                                                                              \
    "json_build_object('id', i.id, 'project_id', i.project_id, 'kind', i.kind, 'request_ids', "    \
    "to_json(i.request_ids), 'occurred_at', rfc3339(i.occurred_at), 'ended_at', "                  \
    "rfc3339(i.ended_at), 'place', i.place, 'discovered_by', i.discovered_by, 'actions', "         \
    "i.actions, 'services', to_json(i.services), 'police', i.police, 'lift_company', "             \
    "i.lift_company, 'affected_units', to_json(i.affected_units), 'owners_notified', "             \
    "i.owners_notified, 'forced_entry', i.forced_entry, 'damage', i.damage, 'state', i.state, "    \
    "'due_at', rfc3339(i.due_at), 'overdue', (i.state = 'draft' AND i.due_at < "                   \
    "clock_timestamp()), 'to_gm', i.kind IN ('fire','theft_robbery'), 'written_by', "              \
    "i.written_by, 'submitted_by', i.submitted_by, 'submitted_at', rfc3339(i.submitted_at), "      \
    "'acknowledged_by', i.acknowledged_by, 'acknowledged_at', rfc3339(i.acknowledged_at), "        \
    "'escalated_at', rfc3339(i.escalated_at), 'version', i.version, 'created_at', "                \
    "rfc3339(i.created_at))"

#define OPEN_REQ "('received','dispatched','accepted','on_site','pending')"
#define LIVE_REQ "('received','dispatched','accepted','on_site')"

#define SHIFT_COLS                                                                                 \
    "SELECT " SHIFT_JSON "::text, s.project_id, ($3::uuid = ANY(s.user_ids)), extract(epoch FROM " \
    "s.planned_start)::bigint, (s.actual_end IS NOT NULL) FROM duty_shifts "                       \
    "s WHERE s.org_id = $1 AND s.id = $2"

#define HANDOVER_COLS                                                                              \
    "SELECT " HANDOVER_JSON                                                                        \
    "::text, h.project_id, h.state, h.incoming_user_id, h.replacement_user_id, h.incoming_unfit, " \
    "h.from_shift_id, h.to_shift_id, h.sections::text, (h.outgoing_user_id = $3::uuid OR "         \
    "$3::uuid = ANY(s.user_ids)) FROM handovers h JOIN duty_shifts s ON s.id = h.from_shift_id "   \
    "WHERE h.org_id = $1 AND h.id = $2"

#define INC_COLS                                                                                   \
    "SELECT " INCIDENT_JSON                                                                        \
    "::text, i.project_id, i.state, i.kind, i.version FROM incident_reports i WHERE "              \
    "i.org_id = $1 AND i.id = $2"

#define INC_VALUES                                                                                 \
    "$3, $4::uuid[], to_timestamp($5::bigint), to_timestamp($6::bigint), $7, $8, $9, "             \
    "$10::text[], $11::jsonb, $12::jsonb, $13::uuid[], $14::boolean, $15::jsonb, $16, "            \
    "to_timestamp($17::bigint)"

static const db_stmt_t stmts[DQ__COUNT] = {
    [DQ_PROJECT] = {"duty_project",
                    "SELECT p.time_zone, ((clock_timestamp() AT TIME ZONE "
                    "p.time_zone)::date)::text FROM projects p WHERE p.org_id = $1 AND p.id = $2",
                    2},
    [DQ_USERS_IN_PROJECT] =
        {"duty_users_in_project",
         "SELECT count(*) FROM users u WHERE u.org_id = $1 AND u.id = ANY($2::uuid[]) AND u.active "
         "AND u.role NOT IN ('resident','integration') AND (u.role IN ('gm','admin','auditor') OR "
         "EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id = u.id AND up.project_id = $3))",
         3},
    [DQ_SHIFT_INSERT] =
        {"duty_shift_insert",
         "WITH s AS (INSERT INTO duty_shifts (org_id, project_id, post, user_ids, planned_start, "
         "planned_end, created_by) VALUES ($1, $2, $3, $4::uuid[], to_timestamp($5::bigint), "
         "to_timestamp($6::bigint), $7) RETURNING *) SELECT " SHIFT_JSON "::text FROM s",
         7},
    [DQ_SHIFT_GET] = {"duty_shift_get", SHIFT_COLS, 3},
    [DQ_SHIFT_LOCK] = {"duty_shift_lock", SHIFT_COLS " FOR UPDATE OF s", 3},
    [DQ_SHIFT_LIST] =
        {"duty_shift_list",
         "SELECT " SHIFT_JSON "::text, rfc3339(s.planned_start), s.id FROM duty_shifts s WHERE "
         "s.org_id = $1 AND ($2::uuid[] IS NULL OR s.project_id = ANY($2::uuid[])) AND ($3::uuid "
         "IS NULL OR s.project_id = $3) AND ($4::bigint IS NULL OR s.planned_end > "
         "to_timestamp($4::bigint)) AND ($5::bigint IS NULL OR s.planned_start < "
         "to_timestamp($5::bigint)) AND ($6::timestamptz IS NULL OR (s.planned_start, s.id) > "
         "($6::timestamptz, $7::uuid)) ORDER BY s.planned_start, s.id LIMIT $8::int",
         8},
    [DQ_SHIFT_START] = {"duty_shift_start",
                        "WITH s AS (UPDATE duty_shifts SET actual_start = coalesce(actual_start, "
                        "clock_timestamp()), updated_at = clock_timestamp(), version = version + 1 "
                        "WHERE org_id = $1 AND id = $2 RETURNING *) SELECT " SHIFT_JSON
                        "::text FROM s",
                        2},
    [DQ_SHIFT_EQUIPMENT] =
        {"duty_shift_equipment",
         "WITH s AS (UPDATE duty_shifts SET equipment_transition = $3::boolean, equipment_note = "
         "$4, updated_at = clock_timestamp(), version = version + 1 WHERE org_id = $1 AND id = $2 "
         "RETURNING *) SELECT " SHIFT_JSON "::text FROM s",
         4},
    [DQ_SHIFT_END] = {"duty_shift_end",
                      "UPDATE duty_shifts SET actual_start = coalesce(actual_start, "
                      "planned_start), actual_end = clock_timestamp(), updated_at = "
                      "clock_timestamp(), version = version + 1 WHERE org_id = $1 AND id = $2",
                      2},
    [DQ_SHIFT_BEGIN] =
        {"duty_shift_begin",
         "UPDATE duty_shifts SET actual_start = coalesce(actual_start, clock_timestamp()), "
         "updated_at = clock_timestamp(), version = version + 1 WHERE org_id = $1 AND id = $2",
         2},
    [DQ_LOG_INSERT] = {"duty_log_insert",
                       "WITH e AS (INSERT INTO duty_log_entries (org_id, project_id, shift_id, "
                       "kind, at, summary, cause, handling, result, corrects, correction_reason, "
                       "author_id, author_role) VALUES ($1, $2, $3, $4, to_timestamp($5::bigint), "
                       "$6, $7, $8, $9, $10, $11, $12, $13) RETURNING *) SELECT " LOG_JSON
                       "::text FROM e",
                       13},
    [DQ_LOG_OF] = {"duty_log_of",
                   "SELECT 1 FROM duty_log_entries WHERE project_id = $1 AND id = $2", 2},
    [DQ_LOG_LIST] = {"duty_log_list",
                     "SELECT coalesce(json_agg(" LOG_JSON
                     " ORDER BY e.at, e.recorded_at, e.id), '[]')::text FROM duty_log_entries e "
                     "WHERE e.org_id = $1 AND e.shift_id = $2",
                     2},
    [DQ_DAY] =
        {"duty_day",
         "WITH b AS (SELECT p.id, p.time_zone, ($3::date)::timestamp AT TIME ZONE p.time_zone AS "
         "t0, ($3::date + 1)::timestamp AT TIME ZONE p.time_zone AS t1 FROM projects p WHERE "
         "p.org_id = $1 AND p.id = $2) SELECT json_build_object('project_id', b.id, 'day', "
         "$3::date, 'time_zone', b.time_zone, 'review', (SELECT json_build_object('reviewed_by', "
         "r.reviewed_by, 'reviewed_at', rfc3339(r.reviewed_at), 'note', r.note) FROM duty_reviews "
         "r WHERE r.project_id = b.id AND r.day = $3::date), 'shifts', (SELECT "
         "coalesce(json_agg(" SHIFT_JSON
         " ORDER BY s.planned_start, s.id), '[]') FROM duty_shifts s WHERE s.project_id = b.id AND "
         "s.planned_start < b.t1 AND s.planned_end > b.t0), 'log', (SELECT "
         "coalesce(json_agg(" LOG_JSON
         " ORDER BY e.at, e.id), '[]') FROM duty_log_entries e WHERE e.project_id = b.id AND e.at "
         ">= b.t0 AND e.at < b.t1), 'handovers', (SELECT coalesce(json_agg(" HANDOVER_JSON
         " ORDER BY h.planned_at, h.id), '[]') FROM handovers h WHERE h.project_id = b.id AND "
         "h.planned_at >= b.t0 AND h.planned_at < b.t1), 'incidents_awaiting_report', (SELECT "
         "coalesce(json_agg(" INCIDENT_JSON
         " ORDER BY i.due_at, i.id), '[]') FROM incident_reports i WHERE i.project_id = b.id AND "
         "i.state = 'draft'), 'incidents_awaiting_acknowledgement', (SELECT "
         "coalesce(json_agg(" INCIDENT_JSON
         " ORDER BY i.submitted_at, i.id), '[]') FROM incident_reports i WHERE i.project_id = b.id "
         "AND i.state = 'submitted'))::text FROM b",
         3},
    [DQ_REVIEW_INSERT] =
        {"duty_review_insert",
         "INSERT INTO duty_reviews (org_id, project_id, day, reviewed_by, note) VALUES ($1, $2, "
         "$3::date, $4, $5) ON CONFLICT (project_id, day) DO NOTHING RETURNING "
         "json_build_object('project_id', project_id, 'day', day, 'reviewed_by', reviewed_by, "
         "'reviewed_at', rfc3339(reviewed_at), 'note', note)::text",
         5},
    [DQ_UNREVIEWED] =
        {"duty_unreviewed",
         "WITH p AS (SELECT id, time_zone FROM projects WHERE org_id = $1 AND id = $2), d AS "
         "(SELECT (e.at AT TIME ZONE p.time_zone)::date AS day, 1 AS entry FROM duty_log_entries "
         "e, p WHERE e.project_id = p.id UNION ALL SELECT (s.planned_start AT TIME ZONE "
         "p.time_zone)::date, 0 FROM duty_shifts s, p WHERE s.project_id = p.id) SELECT "
         "coalesce(json_agg(json_build_object('day', x.day, 'log_entries', x.n) ORDER BY x.day), "
         "'[]')::text FROM (SELECT d.day, sum(d.entry)::int AS n FROM d WHERE d.day BETWEEN "
         "$3::date AND $4::date AND NOT EXISTS (SELECT 1 FROM duty_reviews r WHERE r.project_id = "
         "$2 AND r.day = d.day) GROUP BY d.day) x",
         4},
    [DQ_SETTINGS_GET] = {"duty_settings_get",
                         "SELECT json_build_object('project_id', p.id, 'handover_checklist', "
                         "coalesce(s.handover_checklist, $3::jsonb), 'accept_grace_minutes', "
                         "coalesce(s.accept_grace_minutes, 15), 'updated_at', "
                         "rfc3339(s.updated_at))::text FROM projects p LEFT JOIN duty_settings s "
                         "ON s.project_id = p.id WHERE p.org_id = $1 AND p.id = $2",
                         3},
    [DQ_SETTINGS_PUT] =
        {"duty_settings_put",
         "INSERT INTO duty_settings AS s (org_id, project_id, handover_checklist, "
         "accept_grace_minutes, updated_by) VALUES ($1, $2, $3::jsonb, $4::int, $5) ON CONFLICT "
         "(project_id) DO UPDATE SET handover_checklist = EXCLUDED.handover_checklist, "
         "accept_grace_minutes = EXCLUDED.accept_grace_minutes, updated_by = EXCLUDED.updated_by, "
         "updated_at = clock_timestamp() RETURNING json_build_object('project_id', s.project_id, "
         "'handover_checklist', s.handover_checklist, 'accept_grace_minutes', "
         "s.accept_grace_minutes, 'updated_at', rfc3339(s.updated_at))::text",
         5},
    [DQ_PREFILL] =
        {"duty_prefill",
         "SELECT json_build_object('open_requests', (SELECT "
         "coalesce(json_agg(json_build_object('id', q.id, 'number', q.number, 'type', q.type, "
         "'severity', q.severity, 'state', q.state, 'channel', q.channel, 'title', q.title) ORDER "
         "BY q.received_at, q.id), '[]') FROM requests q WHERE q.org_id = $1 AND q.project_id = $2 "
         "AND q.state IN " OPEN_REQ
         "), 'open_work_orders', (SELECT coalesce(json_agg(json_build_object('id', w.id, 'number', "
         "w.number, 'request_id', w.request_id, 'state', w.state, 'department_id', "
         "w.department_id, 'assignee_id', w.assignee_id) ORDER BY w.dispatched_at, w.id), '[]') "
         "FROM work_orders w WHERE w.org_id = $1 AND w.project_id = $2 AND w.state IN "
         "('dispatched','accepted','on_site')), 'keys_on_loan', (SELECT "
         "coalesce(json_agg(json_build_object('id', i.id, 'tag', i.tag, 'kind', i.kind, "
         "'holder_id', i.holder_id, 'due_back', rfc3339(i.due_back)) ORDER BY i.tag), '[]') FROM "
         "custody_items i WHERE i.org_id = $1 AND i.project_id = $2 AND i.area = 'keys' AND "
         "i.holder_id IS NOT NULL), 'mail_in_custody', (SELECT "
         "coalesce(json_agg(json_build_object('id', i.id, 'tag', i.tag, 'kind', i.kind, 'unit_id', "
         "i.unit_id, 'state', i.state) ORDER BY i.created_at, i.id), '[]') FROM custody_items i "
         "WHERE i.org_id = $1 AND i.project_id = $2 AND i.area = 'mail' AND i.state = "
         "'in_custody'), 'open_incidents', (SELECT "
         "coalesce(json_agg(json_build_object('id', r.id, 'kind', r.kind, 'occurred_at', "
         "rfc3339(r.occurred_at), 'due_at', rfc3339(r.due_at)) ORDER BY r.occurred_at, r.id), "
         "'[]') FROM incident_reports r WHERE r.org_id = $1 AND r.project_id = $2 AND r.state = "
         "'draft'), 'night_desk_requests', (SELECT coalesce(json_agg(json_build_object('id', q.id, "
         "'number', q.number, 'type', q.type, 'state', q.state, 'received_at', "
         "rfc3339(q.received_at), 'title', q.title, 'handover_due', rfc3339(q.due_handover), "
         "'handover_overdue', coalesce(q.due_handover < clock_timestamp(), false)) ORDER BY "
         "q.received_at, q.id), '[]') FROM "
         "requests q WHERE q.org_id = $1 AND q.project_id = $2 AND (q.channel = 'night_desk' OR "
         "q.night_desk) AND "
         "q.handed_over_at IS NULL AND q.state NOT IN "
         "('closed','rejected','not_responsible')))::text",
         2},
    [DQ_FACTS] = {"duty_facts",
                  "SELECT (SELECT count(*) FROM requests q WHERE q.org_id = $1 AND q.project_id = "
                  "$2 AND q.type = 'emergency' AND q.state IN " LIVE_REQ
                  "), (SELECT count(*) FROM requests q WHERE q.org_id = $1 AND q.project_id = $2 "
                  "AND q.type = 'complaint' AND q.severity = 'major' AND q.state IN " LIVE_REQ
                  "), (SELECT count(*) FROM incident_reports r WHERE r.org_id = $1 AND "
                  "r.project_id = $2 AND r.state = 'draft'), EXISTS (SELECT 1 FROM duty_shifts s "
                  "WHERE s.org_id = $1 AND s.project_id = $2 AND s.equipment_transition AND (s.id "
                  "= $3::uuid OR (s.actual_start IS NOT NULL AND s.actual_end IS NULL)))",
                  3},
    [DQ_OPEN_IDS] = {"duty_open_ids",
                     "SELECT q.id::text FROM requests q WHERE q.org_id = $1 AND q.project_id = $2 "
                     "AND q.state IN " OPEN_REQ
                     " UNION ALL SELECT w.id::text FROM work_orders w WHERE w.org_id = $1 AND "
                     "w.project_id = $2 AND w.state IN ('dispatched','accepted','on_site')",
                     2},
    [DQ_HANDOVER_INSERT] =
        {"duty_handover_insert",
         "WITH h AS (INSERT INTO handovers (org_id, project_id, from_shift_id, to_shift_id, "
         "outgoing_user_id, incoming_user_id, planned_at, prefill, sections, grace_minutes) VALUES "
         "($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint), $8::jsonb, $9::jsonb, $10::int) "
         "RETURNING *) SELECT " HANDOVER_JSON "::text FROM h",
         10},
    [DQ_HANDOVER_GET] = {"duty_handover_get", HANDOVER_COLS, 3},
    [DQ_HANDOVER_LOCK] = {"duty_handover_lock", HANDOVER_COLS " FOR UPDATE OF h", 3},
    [DQ_HANDOVER_LIST] =
        {"duty_handover_list",
         "SELECT " HANDOVER_JSON "::text, rfc3339(h.planned_at), h.id FROM handovers h WHERE "
         "h.org_id = $1 AND ($2::uuid[] IS NULL OR h.project_id = ANY($2::uuid[])) AND ($3::uuid "
         "IS NULL OR h.project_id = $3) AND ($4::bigint IS NULL OR h.planned_at >= "
         "to_timestamp($4::bigint)) AND ($5::bigint IS NULL OR h.planned_at < "
         "to_timestamp($5::bigint)) AND ($6::text IS NULL OR h.state = $6) AND ($7::timestamptz "
         "IS NULL OR (h.planned_at, h.id) > ($7::timestamptz, $8::uuid)) ORDER BY h.planned_at, "
         "h.id LIMIT $9::int",
         9},
    [DQ_HANDOVER_SUBMIT] =
        {"duty_handover_submit",
         "WITH h AS (UPDATE handovers SET state = 'submitted', sections = $3::jsonb, unfinished = "
         "$4::jsonb, instructions = $5, major_issues = $6, equipment_status = $7, staffing_changes "
         "= $8, submitted_by = $9, submitted_at = clock_timestamp(), updated_at = "
         "clock_timestamp(), version = version + 1 WHERE org_id = $1 AND id = $2 RETURNING *) "
         "SELECT " HANDOVER_JSON "::text FROM h",
         9},
    [DQ_HANDOVER_ACCEPT] =
        {"duty_handover_accept",
         "WITH h AS (UPDATE handovers SET state = 'accepted', accepted_by = $3, accepted_at = "
         "clock_timestamp(), updated_at = clock_timestamp(), version = version + 1 WHERE org_id = "
         "$1 AND id = $2 RETURNING *) SELECT " HANDOVER_JSON "::text FROM h",
         3},
    [DQ_HANDOVER_NIGHT_DESK] =
        {"duty_handover_night_desk",
         "WITH h AS (UPDATE handovers SET night_desk_actions = $3::jsonb WHERE org_id = $1 AND id "
         "= $2 RETURNING *) SELECT " HANDOVER_JSON "::text FROM h",
         3},
    [DQ_HANDOVER_REFUSAL] = {"duty_handover_refusal",
                             "INSERT INTO handover_refusals (org_id, project_id, handover_id, "
                             "stage, refused_by, reasons) VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                             6},
    [DQ_HANDOVER_FITNESS] =
        {"duty_handover_fitness",
         "WITH h AS (UPDATE handovers SET incoming_unfit = $3::boolean, unfit_note = $4, "
         "replacement_user_id = $5, updated_at = clock_timestamp(), version = version + 1 WHERE "
         "org_id = $1 AND id = $2 RETURNING *) SELECT " HANDOVER_JSON "::text FROM h",
         5},
    [DQ_HANDOVER_LATE] =
        {"duty_handover_late",
         "SELECT h.id, h.org_id, h.project_id, extract(epoch FROM h.planned_at)::bigint, "
         "h.grace_minutes, h.incoming_user_id, rfc3339(h.planned_at) FROM handovers h WHERE "
         "h.state <> 'accepted' AND h.late_notified_at IS NULL AND h.planned_at <= "
         "to_timestamp($1::bigint) AND h.planned_at + make_interval(mins => h.grace_minutes) <= "
         "to_timestamp($1::bigint) AND ($2::uuid IS NULL OR h.org_id = $2) ORDER BY h.planned_at "
         "LIMIT 200 FOR UPDATE SKIP LOCKED",
         2},
    [DQ_HANDOVER_LATE_MARK] =
        {"duty_handover_late_mark",
         "UPDATE handovers SET late_notified_at = clock_timestamp() WHERE id = $1", 1},
    [DQ_FAULTS] =
        {"duty_faults",
         "SELECT coalesce(json_agg(x ORDER BY x.user_id), '[]')::text FROM (SELECT u.uid AS "
         "user_id, (SELECT display_name FROM users WHERE id = u.uid) AS display_name, count(*) AS "
         "shifts, count(*) FILTER (WHERE h.id IS NULL OR h.state = 'draft') AS missing, count(*) "
         "FILTER (WHERE h.state = 'submitted') AS incomplete, count(*) FILTER (WHERE h.state = "
         "'accepted' AND h.accepted_at > h.planned_at + make_interval(mins => h.grace_minutes)) AS "
         "late, coalesce(json_agg(json_build_object('shift_id', s.id, 'post', s.post, "
         "'planned_end', rfc3339(s.planned_end), 'handover_id', h.id, 'fault', CASE WHEN h.id IS "
         "NULL OR h.state = 'draft' THEN 'missing' WHEN h.state = 'submitted' THEN 'not_accepted' "
         "ELSE 'late' END) ORDER BY s.planned_end) FILTER (WHERE h.id IS NULL OR h.state <> "
         "'accepted' OR h.accepted_at > h.planned_at + make_interval(mins => h.grace_minutes)), "
         "'[]') AS faults FROM duty_shifts s CROSS JOIN LATERAL unnest(s.user_ids) AS u(uid) LEFT "
         "JOIN handovers h ON h.from_shift_id = s.id WHERE s.org_id = $1 AND s.project_id = $2 AND "
         "s.planned_end >= to_timestamp($3::bigint) AND s.planned_end < to_timestamp($4::bigint) "
         "AND s.planned_end <= clock_timestamp() GROUP BY u.uid) x",
         4},
    [DQ_REQUESTS_OK] = {"duty_requests_ok",
                        "SELECT count(*) FROM requests WHERE org_id = $1 AND project_id = $2 AND "
                        "id = ANY($3::uuid[]) AND type = 'emergency'",
                        3},
    [DQ_UNITS_OK] = {"duty_units_ok",
                     "SELECT count(*) FROM units WHERE org_id = $1 AND project_id = $2 AND id = "
                     "ANY($3::uuid[])",
                     3},
    [DQ_INC_INSERT] = {"duty_inc_insert",
                       "WITH i AS (INSERT INTO incident_reports (org_id, project_id, kind, "
                       "request_ids, occurred_at, ended_at, place, discovered_by, actions, "
                       "services, police, lift_company, affected_units, owners_notified, "
                       "forced_entry, damage, due_at, written_by) VALUES ($1, $2, " INC_VALUES
                       ", $18) RETURNING *) SELECT " INCIDENT_JSON "::text FROM i",
                       18},
    [DQ_INC_UPDATE] =
        {"duty_inc_update",
         "WITH i AS (UPDATE incident_reports SET (kind, request_ids, occurred_at, ended_at, place, "
         "discovered_by, actions, services, police, lift_company, affected_units, owners_notified, "
         "forced_entry, damage, due_at) = (" INC_VALUES
         "), updated_at = clock_timestamp(), version = version + 1 WHERE id = $1 AND org_id = $2 "
         "RETURNING *) SELECT " INCIDENT_JSON "::text FROM i",
         17},
    [DQ_INC_GET] = {"duty_inc_get", INC_COLS, 2},
    [DQ_INC_LOCK] = {"duty_inc_lock", INC_COLS " FOR UPDATE", 2},
    [DQ_INC_LIST] = {"duty_inc_list",
                     "SELECT " INCIDENT_JSON "::text, rfc3339(i.occurred_at), i.id FROM "
                     "incident_reports i WHERE i.org_id = $1 AND ($2::uuid[] IS NULL OR "
                     "i.project_id = ANY($2::uuid[])) AND ($3::uuid IS NULL OR i.project_id = "
                     "$3) AND ($4::text IS NULL OR i.state = $4) AND ($5::timestamptz IS NULL OR "
                     "(i.occurred_at, i.id) > ($5::timestamptz, $6::uuid)) ORDER BY "
                     "i.occurred_at, i.id LIMIT $7::int",
                     7},
    [DQ_INC_SUBMIT] =
        {"duty_inc_submit",
         "WITH i AS (UPDATE incident_reports SET state = 'submitted', submitted_by = $3, "
         "submitted_at = clock_timestamp(), updated_at = clock_timestamp(), version = version + 1 "
         "WHERE org_id = $1 AND id = $2 RETURNING *) SELECT " INCIDENT_JSON "::text FROM i",
         3},
    [DQ_INC_ACK] =
        {"duty_inc_ack",
         "WITH i AS (UPDATE incident_reports SET state = 'acknowledged', acknowledged_by = $3, "
         "acknowledged_at = clock_timestamp(), updated_at = clock_timestamp(), version = version + "
         "1 WHERE org_id = $1 AND id = $2 RETURNING *) SELECT " INCIDENT_JSON "::text FROM i",
         3},
    [DQ_INC_OVERDUE] =
        {"duty_inc_overdue",
         "SELECT i.id, i.org_id, i.project_id, i.kind, rfc3339(i.due_at), i.written_by FROM "
         "incident_reports i WHERE i.state = 'draft' AND i.escalated_at IS NULL AND i.due_at <= "
         "to_timestamp($1::bigint) AND ($2::uuid IS NULL OR i.org_id = $2) ORDER BY i.due_at LIMIT "
         "200 FOR UPDATE SKIP LOCKED",
         2},
    [DQ_INC_ESCALATED] =
        {"duty_inc_escalated",
         "UPDATE incident_reports SET escalated_at = clock_timestamp() WHERE id = $1", 1},
    [DQ_NOTIFY_ROLE] = {"duty_notify_role",
                        "INSERT INTO notifications (org_id, user_id, kind, payload) SELECT $1, "
                        "u.id, $4, $5::jsonb FROM users u WHERE u.org_id = $1 AND u.active AND "
                        "u.role = $3 AND (u.role IN ('gm','admin','auditor') OR EXISTS (SELECT 1 "
                        "FROM user_projects up WHERE up.user_id = u.id AND up.project_id = $2))",
                        5},
    [DQ_NOTIFY_USER] = {"duty_notify_user",
                        "INSERT INTO notifications (org_id, user_id, kind, payload) VALUES ($1, "
                        "$2, $3, $4::jsonb)",
                        4},
};

PGresult *db_duty(db_conn_t *c, duty_q_t q, const char *const *vals)
{
    assert((unsigned)q < DQ__COUNT && stmts[q].name);
    return db_exec(c, &stmts[q], vals);
}

int db_duty_do(db_conn_t *c, duty_q_t q, const char *const *vals)
{
    PGresult *r = db_duty(c, q, vals);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}
