/*
 * db/report.c — see db/report.h.  The aggregation is one statement: the requests received
 * in the period (index requests_project_received), each with what its timeline says (first
 * staff action, last callback result, refusals) and its work orders; then one row with every
 * count of report_counts_t for the whole period, per department, per staff member and per
 * bucket as JSON (the counters in one pass over the period's requests, the counts per
 * dimension in a second), followed by the form's rows as plain columns (handed to a callback, so
 * that deskd writes them into the answer without parsing 30k rows of JSON).  The sections
 * beside requests (surveys, corrective actions, custody, duty) are a second statement.
 * The exact condition of each counter is here and in openapi.yaml (ReportCounts,
 * MonthlySections).
 */
#include "db/report.h"

#include "core/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The per-request rules' constants (core/report.h) as SQL text. */
#define STR_(x)        #x
#define STR(x)         STR_(x)
#define FIRST_RESPONSE "interval '" STR(CORE_REPORT_FIRST_RESPONSE_S) " seconds'"

/* The counters of core/report.h's report_counts_t (all but 'total', which comes first, and
 * the two survey counters, always 0 here) as X(name, aggregate over the rows b of `base`).
 * Every counter is a count or a sum, so the counts of a group are the sums of its parts:
 * `fine` counts once per (department, assignee, bucket) and the overall, department, staff
 * and bucket counts are summed from those few rows (COUNTS). */
#define COUNTERS(X, Z)                                                                             \
    X(complaints, "count(*) FILTER (WHERE b.type = 'complaint')")                                  \
    X(valid_complaints, "count(*) FILTER (WHERE b.vc)")                                            \
    X(valid_complaints_handled, "count(*) FILTER (WHERE b.vc AND (b.resolved_at IS NOT NULL OR "   \
                                "b.state IN ('closed','not_responsible','rejected')))")            \
    X(resolved, "count(b.resolved_at)")                                                            \
    X(resolved_with_due,                                                                           \
      "count(*) FILTER (WHERE b.resolved_at IS NOT NULL AND b.due_resolution IS NOT NULL)")        \
    X(resolved_in_time, "count(*) FILTER (WHERE b.resolved_at <= b.due_resolution)")               \
    X(first_response_n, "count(b.first_staff_at)")                                                 \
    X(first_response_met,                                                                          \
      "count(*) FILTER (WHERE b.first_staff_at <= b.received_at + " FIRST_RESPONSE ")")            \
    X(first_response_sum_s, "coalesce(sum(greatest(0, floor(extract(epoch FROM "                   \
                            "b.first_staff_at - b.received_at)))), 0)::bigint")                    \
    X(resolution_sum_s, "coalesce(sum(greatest(0, floor(extract(epoch FROM b.resolved_at - "       \
                        "b.received_at)))), 0)::bigint")                                           \
    X(complaint_callback_due,                                                                      \
      "count(*) FILTER (WHERE b.vc AND (b.resolved_at IS NOT NULL OR b.cb_at IS NOT NULL))")       \
    X(complaint_callback_done, "count(*) FILTER (WHERE b.vc AND b.cb_at IS NOT NULL)")             \
    X(repair_callback_due,                                                                         \
      "count(*) FILTER (WHERE b.rep AND (b.resolved_at IS NOT NULL OR b.cb_at IS NOT NULL))")      \
    X(repair_callback_done, "count(*) FILTER (WHERE b.rep AND b.cb_at IS NOT NULL)")               \
    X(callback_rated, "count(b.cb_sat)")                                                           \
    X(callback_satisfied, "count(*) FILTER (WHERE b.cb_sat)")                                      \
    Z(survey_returned)                                                                             \
    Z(survey_satisfied)                                                                            \
    X(reopened, "count(*) FILTER (WHERE b.reopen_count > 0)")                                      \
    X(repairs_at_unit, "count(*) FILTER (WHERE b.type = 'repair' AND b.unit_id IS NOT NULL)")      \
    X(rework, "count(*) FILTER (WHERE b.rework)")                                                  \
    X(work_orders, "coalesce(sum(b.wos), 0)")                                                      \
    X(refused_work_orders, "coalesce(sum(b.declines), 0)")

#define FINE_X(n, agg) ", " agg " AS " #n
#define FINE_Z(n)
#define SUM_X(n, agg) ", '" #n "', coalesce(sum(g." #n "), 0)::bigint"
#define SUM_Z(n)      ", '" #n "', 0"
/* The counts of a group of `fine` rows as the JSON object ReportCounts. */
#define COUNTS                                                                                     \
    "json_build_object('total', coalesce(sum(g.total), 0)::bigint" COUNTERS(SUM_X, SUM_Z) ")"

/* The period's requests (index requests_project_received), each with what its timeline says
 * (first staff action, last callback result and who gave it, refusals) and its number of
 * work orders: the facts the triggers of 0038 keep in request_facts, read by the same period
 * (index request_facts_project_received) and hash-joined, instead of a LATERAL aggregate over
 * request_events and a work-order count per request (half the statement on the 100k-request
 * month, bench/README.md).  No facts row: none of them.  The texts only the form's rows show
 * are kept for complaints only: the other 70 % of the rows are not copied into the CTE. */
#define FORM_ONLY(col) "CASE WHEN r.type = 'complaint' THEN r." col " END AS " col ", "
#define FORM_COLS                                                                                  \
    FORM_ONLY("number")                                                                            \
    FORM_ONLY("created_by")                                                                        \
    FORM_ONLY("reporter_resident_id")                                                              \
    FORM_ONLY("reporter_name")                                                                     \
    FORM_ONLY("reporter_phone")                                                                    \
    FORM_ONLY("title") FORM_ONLY("description") FORM_ONLY("resolution") FORM_ONLY("explanation")
#define BASE                                                                                           \
    "WITH base AS MATERIALIZED (SELECT r.id, r.type, r.channel, r.severity, r.category, "              \
    "r.validity, r.state, r.department_id, r.assignee_id, r.unit_id, " FORM_COLS "r.received_at, "     \
    "r.resolved_at, r.due_resolution, "                                                                \
    "r.reopen_count, CASE WHEN r.staff_created THEN least(r.received_at, f.first_staff_at) ELSE "      \
    "f.first_staff_at END AS first_staff_at, f.cb_at, f.cb_by, f.cb, coalesce(f.declines, "            \
    "0)::bigint "                                                                                      \
    "AS declines, coalesce(f.wos, 0)::bigint AS wos, CASE WHEN f.cb IS NULL "                          \
    "THEN NULL WHEN f.cb->>'rating' IN ('very_satisfied','satisfied','非常满意','满意') THEN "   \
    "true WHEN f.cb->>'rating' IN ('average','dissatisfied','very_dissatisfied','一般','不满意'," \
    "'极不满意') THEN false ELSE (f.cb->>'satisfied')::boolean END AS cb_sat, (r.type = "          \
    "'complaint' AND r.validity <> 'invalid') AS vc, r.type IN ('repair','emergency') AS rep, "        \
    "(r.type = 'repair' AND r.unit_id IS NOT NULL AND r.is_repeat) AS rework "                         \
    "FROM requests r LEFT JOIN (SELECT * FROM request_facts WHERE project_id = $1 AND "                \
    "received_at "                                                                                     \
    ">= $3::timestamptz AND received_at < $4::timestamptz) f ON f.request_id = r.id WHERE "            \
    "r.project_id = $1 AND r.org_id = $2 AND r.received_at >= $3::timestamptz AND r.received_at "      \
    "< "                                                                                               \
    "$4::timestamptz), "

/* One pass over `base` for the counters: `fine` per (department, assignee, bucket), summed
 * per grouping set in `cs` (gs 7 overall, 3 per department, 5 per assignee, 6 per bucket);
 * one pass for the plain counts per dimension and per callback giver in `dm` (gs 15 type,
 * 23 severity, 27 category, 29 channel, 30 callback giver). */
#define PASSES                                                                                     \
    "fine AS (SELECT b.department_id AS dep, b.assignee_id AS uid, width_bucket(b.received_at, "   \
    "$6::timestamptz[]) AS k, count(*) AS total" COUNTERS(                                         \
        FINE_X,                                                                                    \
        FINE_Z) " FROM base b GROUP BY "                                                           \
                "1, 2, 3), "                                                                       \
                "cs AS (SELECT GROUPING(g.dep, g.uid, g.k) AS gs, g.dep, g.uid, g.k, " COUNTS      \
                " AS counts "                                                                      \
                "FROM fine g GROUP BY GROUPING SETS ((), (g.dep), (g.uid), (g.k))), "              \
                "dm AS (SELECT GROUPING(coalesce(b.type, 'none'), coalesce(b.severity, 'none'), "  \
                "coalesce(b.category, 'none'), coalesce(b.channel, 'none'), b.cb_by) AS gs, "      \
                "coalesce(coalesce(b.type, 'none'), coalesce(b.severity, 'none'), "                \
                "coalesce(b.category, "                                                            \
                "'none'), coalesce(b.channel, 'none')) AS k, b.cb_by, count(*) AS n FROM base b "  \
                "GROUP BY "                                                                        \
                "GROUPING SETS ((coalesce(b.type, 'none')), (coalesce(b.severity, 'none')), "      \
                "(coalesce(b.category, 'none')), (coalesce(b.channel, 'none')), (b.cb_by))) "

#define DIM(gs)                                                                                    \
    "(SELECT coalesce(json_object_agg(dm.k, dm.n ORDER BY dm.k), '{}') FROM dm WHERE dm.gs = " gs  \
    ")"

/* Part 0: one row with the counts as JSON; part 1: the form's rows (the complaints in the
 * order received) as plain columns, which deskd writes out without a JSON round trip. */
static const db_stmt_t aggregate = {
    "report_aggregate",
    BASE PASSES
    "SELECT 0 AS part, 0::bigint AS seq, json_build_object("
    "'overall', (SELECT cs.counts FROM cs WHERE cs.gs = 7), "
    "'by_type', " DIM("15") ", 'by_severity', " DIM("23") ", 'by_category', " DIM(
        "27") ", 'by_channel', " DIM("29") ", "
                                           "'departments', (SELECT "
                                           "coalesce(json_agg(json_build_object('department_id', "
                                           "x.dep, 'name', "
                                           "d.name, 'counts', x.counts) ORDER BY d.name NULLS "
                                           "LAST), '[]') FROM cs x LEFT JOIN "
                                           "departments d ON d.id = x.dep WHERE x.gs = 3), "
                                           "'staff', (SELECT "
                                           "coalesce(json_agg(json_build_object('user_id', s.uid, "
                                           "'name', "
                                           "u.display_name, 'counts', s.counts, 'callbacks_done', "
                                           "s.cbs) ORDER BY u.display_name, "
                                           "s.uid), '[]') FROM (SELECT coalesce(h.uid, k.uid) AS "
                                           "uid, h.counts, coalesce(k.n, 0) AS cbs "
                                           "FROM (SELECT cs.uid, cs.counts FROM cs WHERE cs.gs = 5 "
                                           "AND cs.uid IS NOT NULL) h FULL JOIN "
                                           "(SELECT dm.cb_by AS uid, dm.n FROM dm WHERE dm.gs = 30 "
                                           "AND dm.cb_by IS NOT NULL) k ON "
                                           "k.uid = h.uid) s LEFT JOIN users u ON u.id = s.uid), "
                                           "'buckets', (SELECT "
                                           "coalesce(json_agg(json_build_object('bucket', x.k, "
                                           "'counts', x.counts) "
                                           "ORDER BY x.k), '[]') FROM cs x WHERE x.gs = 6))::text, "
                                           "NULL::uuid, NULL, NULL::bigint, "
                                           "NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                                           "NULL::boolean, NULL, NULL, NULL, NULL::int, "
                                           "NULL::boolean "
                                           "UNION ALL SELECT 1, row_number() OVER (ORDER BY "
                                           "b.received_at, b.number), NULL, b.id, "
                                           "b.number, floor(extract(epoch FROM "
                                           "b.received_at))::bigint, coalesce(b.reporter_name, "
                                           "res.name), b.reporter_phone, concat_ws('：', b.title, "
                                           "b.description), u.display_name, "
                                           "d.name, coalesce(b.resolution, wo.result, "
                                           "b.explanation), b.cb->>'rating', "
                                           "(b.cb->>'satisfied')::boolean, b.cb->>'note', "
                                           "b.severity, b.validity, b.reopen_count, "
                                           "coalesce(b.resolved_at > b.due_resolution OR "
                                           "(b.resolved_at IS NULL AND b.due_resolution "
                                           "< $5::timestamptz), false) FROM base b LEFT JOIN "
                                           "residents res ON res.id = "
                                           "b.reporter_resident_id LEFT JOIN users u ON u.id = "
                                           "b.created_by LEFT JOIN departments d "
                                           "ON d.id = b.department_id LEFT JOIN LATERAL (SELECT "
                                           "w.result FROM work_orders w WHERE "
                                           "w.request_id = b.id ORDER BY w.created_at DESC LIMIT "
                                           "1) wo ON true WHERE b.type = "
                                           "'complaint' ORDER BY 1, 2",
    6};

static const db_stmt_t live = {
    "report_live",
    "SELECT json_build_object("
    "'resolved_in_period', (SELECT count(*) FROM requests r WHERE r.project_id = $1 AND "
    "r.org_id = $2 AND r.resolved_at >= $3::timestamptz AND r.resolved_at < $4::timestamptz), "
    "'closed_in_period', (SELECT count(*) FROM requests r WHERE r.project_id = $1 AND r.org_id "
    "= $2 AND r.closed_at >= $3::timestamptz AND r.closed_at < $4::timestamptz), "
    "'open_now', (SELECT count(*) FROM requests r WHERE r.project_id = $1 AND r.org_id = $2 AND "
    "r.state IN ('received','dispatched','accepted','on_site','pending')), "
    "'overdue_now', (SELECT count(*) FROM requests r WHERE r.project_id = $1 AND r.org_id = $2 "
    "AND r.sla_next_due < $5::timestamptz), "
    "'at_risk_now', (SELECT count(*) FROM requests r WHERE r.project_id = $1 AND r.org_id = $2 "
    "AND r.sla_next_due >= $5::timestamptz AND EXISTS (SELECT 1 FROM sla_alerts a WHERE "
    "a.request_id = r.id AND a.kind = 'warning' AND a.due_at = r.sla_next_due)))::text",
    5};

/* The sections from the features that came after the request report (RULES §3.11; each
 * formula also in openapi.yaml, MonthlySections): surveys by the campaign's reported_at,
 * corrective actions opened (created_at) and closed (verified_at) in the period and
 * overdue at as_of, custody figures at as_of, duty by the handover's planned_at, the
 * shift's planned_end and the incident's occurred_at.  $1 project, $2 org, $3 from, $4 to,
 * $5 as_of. */
static const db_stmt_t sections = {
    "report_sections",
    "WITH sv AS (SELECT k.id, k.title, k.reported_at, coalesce((k.report #>> "
    "'{summary,overall_satisfaction,numerator}')::bigint, 0) AS sat, coalesce((k.report #>> "
    "'{summary,overall_satisfaction,denominator}')::bigint, 0) AS ans FROM survey_campaigns k "
    "WHERE k.org_id = $2 AND k.project_id = $1 AND k.state = 'reported' AND k.reported_at >= "
    "$3::timestamptz AND k.reported_at < $4::timestamptz), "
    "ca AS (SELECT a.state, a.created_at, a.verified_at, a.due_at FROM corrective_actions a "
    "WHERE a.org_id = $2 AND a.project_id = $1), "
    "ho AS (SELECT h.planned_at, h.grace_minutes, h.accepted_at FROM handovers h WHERE "
    "h.org_id = $2 AND h.project_id = $1 AND h.planned_at >= $3::timestamptz AND h.planned_at "
    "< $4::timestamptz), "
    "ir AS (SELECT i.due_at, i.submitted_at FROM incident_reports i WHERE i.org_id = $2 AND "
    "i.project_id = $1 AND i.occurred_at >= $3::timestamptz AND i.occurred_at < "
    "$4::timestamptz) "
    "SELECT json_build_object("
    "'surveys', (SELECT json_build_object('campaigns', coalesce(json_agg(json_build_object("
    "'campaign_id', sv.id, 'title', sv.title, 'reported_at', rfc3339(sv.reported_at), "
    "'satisfied', sv.sat, 'answered', sv.ans) ORDER BY sv.reported_at, sv.id), '[]'), "
    "'satisfied', coalesce(sum(sv.sat), 0), 'answered', coalesce(sum(sv.ans), 0), "
    "'satisfaction', round(sum(sv.sat)::numeric / nullif(sum(sv.ans), 0), 4)) FROM sv), "
    "'corrective_actions', (SELECT json_build_object('opened', count(*) FILTER (WHERE "
    "ca.created_at >= $3::timestamptz AND ca.created_at < $4::timestamptz), 'closed', "
    "count(*) FILTER (WHERE ca.verified_at >= $3::timestamptz AND ca.verified_at < "
    "$4::timestamptz), 'overdue', count(*) FILTER (WHERE ca.state IN ('open', "
    "'measures_proposed', 'approved', 'implementing', 'implemented') AND ca.due_at < "
    "$5::timestamptz)) FROM ca), "
    "'custody', (SELECT json_build_object('keys_overdue', count(*) FILTER (WHERE c.area = "
    "'keys' AND c.state IN ('on_loan', 'with_shift') AND c.due_back < $5::timestamptz), "
    "'mail_uncollected', count(*) FILTER (WHERE c.area = 'mail' AND c.state = 'in_custody' AND "
    "c.due_back <= $5::timestamptz), 'found_unclaimed', count(*) FILTER (WHERE c.area = "
    "'lost_property' AND c.state IN ('found', 'held') AND c.due_back <= $5::timestamptz)) FROM "
    "custody_items c WHERE c.org_id = $2 AND c.project_id = $1 AND c.area IN ('keys', 'mail', "
    "'lost_property')), "
    "'duty', json_build_object('handovers_planned', (SELECT count(*) FROM ho), "
    "'handovers_late', (SELECT count(*) FROM ho WHERE coalesce(ho.accepted_at, "
    "$5::timestamptz) > ho.planned_at + make_interval(mins => ho.grace_minutes)), "
    "'handovers_missing', (SELECT count(*) FROM duty_shifts s WHERE s.org_id = $2 AND "
    "s.project_id = $1 AND s.planned_end >= $3::timestamptz AND s.planned_end < "
    "$4::timestamptz AND s.planned_end < $5::timestamptz AND NOT EXISTS (SELECT 1 FROM "
    "handovers h WHERE h.from_shift_id = s.id)), "
    "'incident_reports', (SELECT count(*) FROM ir), 'incident_reports_late', (SELECT count(*) "
    "FROM ir WHERE coalesce(ir.submitted_at, $5::timestamptz) > ir.due_at)))::text",
    5};

static const db_stmt_t project_get = {
    "report_project", "SELECT time_zone, name, code FROM projects WHERE id = $1 AND org_id = $2",
    2};

#define META                                                                                       \
    "json_build_object('id', m.id, 'project_id', m.project_id, 'month', to_char(m.month, "         \
    "'YYYY-MM'), 'version', m.version, 'state', m.state, 'due_at', rfc3339(m.due_at), "            \
    "'generated_by', m.generated_by, 'generated_at', rfc3339(m.generated_at), 'submitted_by', "    \
    "m.submitted_by, 'submitted_at', rfc3339(m.submitted_at), 'late', coalesce(m.submitted_at, "   \
    "clock_timestamp()) > m.due_at)"

static const db_stmt_t vinsert = {
    "report_vinsert",
    "WITH l AS (SELECT pg_advisory_xact_lock(hashtext('monthly_report:' || $2::text || ':' || "
    "$3::text))), "
    "m AS (INSERT INTO monthly_reports (org_id, project_id, month, version, snapshot, due_at, "
    "generated_by) SELECT $1::uuid, $2::uuid, $3::date, coalesce((SELECT max(version) FROM "
    "monthly_reports "
    "WHERE project_id = $2::uuid AND month = $3::date), 0) + 1, $6::jsonb, $4::timestamptz, "
    "$5::uuid FROM l "
    "RETURNING *) SELECT " META "::text FROM m",
    6};
static const db_stmt_t vlist = {
    "report_vlist",
    "SELECT coalesce(json_agg(" META " ORDER BY m.version DESC), '[]')::text FROM "
    "monthly_reports m WHERE m.org_id = $1 AND m.project_id = $2 AND m.month = $3::date",
    3};
static const db_stmt_t vget = {"report_vget",
                               "SELECT " META "::text, m.snapshot::text FROM monthly_reports m "
                               "WHERE m.org_id = $1 AND m.project_id = $2 AND m.month = $3::date "
                               "AND m.version = $4::int",
                               4};
static const db_stmt_t vsubmit = {
    "report_vsubmit",
    "WITH m AS (UPDATE monthly_reports SET state = 'submitted', submitted_by = $5, submitted_at "
    "= clock_timestamp() WHERE org_id = $1 AND project_id = $2 AND month = $3::date AND version "
    "= $4::int AND state = 'draft' RETURNING *) SELECT " META "::text FROM m",
    5};
static const db_stmt_t projects_list = {
    "report_projects",
    "SELECT coalesce(json_agg(json_build_array(id, org_id, time_zone) ORDER BY id), '[]')::text "
    "FROM projects WHERE $1::uuid IS NULL OR org_id = $1",
    1};
static const db_stmt_t alert = {
    "report_alert",
    "WITH ins AS (INSERT INTO monthly_report_alerts (org_id, project_id, month, kind) SELECT $1, "
    "$2, $3::date, $4 WHERE NOT EXISTS (SELECT 1 FROM monthly_reports m WHERE m.project_id = $2 "
    "AND m.month = $3::date AND m.state = 'submitted') ON CONFLICT DO NOTHING RETURNING 1), "
    "nt AS (INSERT INTO notifications (org_id, user_id, kind, payload) SELECT $1, u.id, CASE $4 "
    "WHEN 'warning' THEN 'report_due' ELSE 'report_overdue' END, json_build_object('project_id', "
    "$2::uuid, 'month', to_char($3::date, 'YYYY-MM'), 'due_at', rfc3339($5::timestamptz))::jsonb "
    "FROM ins, users u WHERE u.org_id = $1 AND u.active AND u.role = $6 AND EXISTS (SELECT 1 "
    "FROM user_projects up WHERE up.user_id = u.id AND up.project_id = $2) RETURNING 1) "
    "SELECT count(*) FROM nt",
    6};

static int one_text(db_conn_t *c, const db_stmt_t *st, const char *const *v, char **out)
{
    PGresult *r = db_exec(c, st, v);
    int rc = -1;
    if (db_ok(r)) {
        rc = 1;
        if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
            *out = strdup(PQgetvalue(r, 0, 0));
            rc = *out ? 0 : -1;
        }
    }
    PQclear(r);
    return rc;
}

int db_report_project(db_conn_t *c, const char *org, const char *project, report_project_t *out)
{
    const char *v[] = {project, org};
    PGresult *r = db_exec(c, &project_get, v);
    int rc = -1;
    if (db_ok(r)) {
        rc = PQntuples(r) == 1 ? 0 : 1;
        if (rc == 0) {
            snprintf(out->time_zone, sizeof out->time_zone, "%s", PQgetvalue(r, 0, 0));
            snprintf(out->name, sizeof out->name, "%s", PQgetvalue(r, 0, 1));
            snprintf(out->code, sizeof out->code, "%s", PQgetvalue(r, 0, 2));
        }
    }
    PQclear(r);
    return rc;
}

static const char *col(const PGresult *r, int i, int j)
{
    return PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
}

int db_report_aggregate(db_conn_t *c, const char *org, const char *project, const char *from,
                        const char *to, const char *as_of, const char *buckets, char **json,
                        db_report_row_fn row, void *ctx)
{
    const char *v[] = {project, org, from, to, as_of, buckets};
    *json = NULL;
    /* A transaction of its own (unless the caller has one) for three settings of this
     * statement only (bench/README.md, "The report3 branch"): no JIT compilation
     * (its cost estimate over a big month is far above jit_above_cost, and compiling the
     * ~140 expressions took longer than running them); a plan for the actual period
     * (a generic plan guesses 500 requests and reads 100,000 through the index where a
     * month that is most of the table is read faster in order); work_mem for the
     * materialised month, its sorts and hashes (about 10 MB at 100,000 requests). */
    int own = !db_in_transaction(c);
    if (own && db_begin_snapshot(c) != 0)
        return -1;
    if (db_simple(c, DB_REPORT_AGGREGATE_SETTINGS) != 0) {
        if (own)
            db_rollback(c);
        return -1;
    }
    PGresult *r = db_exec(c, &aggregate, v);
    if (own)
        db_rollback(c); /* read only: nothing to keep, and no COMMIT bookkeeping */
    if (!db_ok(r) || PQntuples(r) < 1 || PQgetisnull(r, 0, 2) || atoi(PQgetvalue(r, 0, 0)) != 0) {
        PQclear(r);
        return -1;
    }
    int rc = (*json = strdup(PQgetvalue(r, 0, 2))) ? 0 : -1;
    for (int i = 1, n = PQntuples(r); rc == 0 && i < n; i++) {
        const char *sat = col(r, i, 13), *ov = col(r, i, 18);
        db_report_row_t w = {
            .seq = atol(PQgetvalue(r, i, 1)),
            .request_id = col(r, i, 3),
            .number = col(r, i, 4),
            .received_at = strtoll(PQgetvalue(r, i, 5), NULL, 10),
            .complainant = col(r, i, 6),
            .phone = col(r, i, 7),
            .content = col(r, i, 8),
            .receiver = col(r, i, 9),
            .department = col(r, i, 10),
            .result = col(r, i, 11),
            .callback_rating = col(r, i, 12),
            .callback_satisfied = sat ? sat[0] == 't' : -1,
            .callback_note = col(r, i, 14),
            .severity = col(r, i, 15),
            .validity = col(r, i, 16),
            .reopen_count = atoi(PQgetvalue(r, i, 17)),
            .overdue = ov && ov[0] == 't',
        };
        if (row && row(ctx, &w) != 0)
            rc = -1;
    }
    PQclear(r);
    if (rc != 0) {
        free(*json);
        *json = NULL;
    }
    return rc;
}

int db_report_sections(db_conn_t *c, const char *org, const char *project, const char *from,
                       const char *to, const char *as_of, char **json)
{
    const char *v[] = {project, org, from, to, as_of};
    return one_text(c, &sections, v, json);
}

int db_report_live(db_conn_t *c, const char *org, const char *project, const char *from,
                   const char *to, const char *now, char **json)
{
    const char *v[] = {project, org, from, to, now};
    return one_text(c, &live, v, json);
}

int db_report_version_insert(db_conn_t *c, const char *org, const char *project, const char *month,
                             const char *due_at, const char *user, const char *snapshot,
                             char **json)
{
    const char *v[] = {org, project, month, due_at, user, snapshot};
    return one_text(c, &vinsert, v, json);
}

int db_report_versions(db_conn_t *c, const char *org, const char *project, const char *month,
                       char **json)
{
    const char *v[] = {org, project, month};
    return one_text(c, &vlist, v, json);
}

int db_report_version_get(db_conn_t *c, const char *org, const char *project, const char *month,
                          const char *version, char **meta, char **snapshot)
{
    const char *v[] = {org, project, month, version};
    PGresult *r = db_exec(c, &vget, v);
    int rc = -1;
    if (db_ok(r)) {
        rc = PQntuples(r) == 1 ? 0 : 1;
        if (rc == 0) {
            *meta = strdup(PQgetvalue(r, 0, 0));
            *snapshot = strdup(PQgetvalue(r, 0, 1));
            if (!*meta || !*snapshot) {
                free(*meta);
                free(*snapshot);
                *meta = *snapshot = NULL;
                rc = -1;
            }
        }
    }
    PQclear(r);
    return rc;
}

int db_report_submit(db_conn_t *c, const char *org, const char *project, const char *month,
                     const char *version, const char *user, char **meta)
{
    const char *v[] = {org, project, month, version, user};
    int rc = one_text(c, &vsubmit, v, meta);
    if (rc != 1)
        return rc;
    char *m = NULL, *s = NULL;
    int f = db_report_version_get(c, org, project, month, version, &m, &s);
    free(m);
    free(s);
    return f < 0 ? -1 : f == 0 ? 2 : 1;
}

int db_report_projects(db_conn_t *c, const char *org, char **json)
{
    const char *v[] = {org};
    return one_text(c, &projects_list, v, json);
}

int db_report_alert(db_conn_t *c, const char *org, const char *project, const char *month,
                    const char *kind, const char *due_at, const char *role)
{
    const char *v[] = {org, project, month, kind, due_at, role};
    PGresult *r = db_exec(c, &alert, v);
    int rc = db_ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return rc;
}
