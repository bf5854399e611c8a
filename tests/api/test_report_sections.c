/*
 * tests/api/test_report_sections.c — the monthly report's sections from the features that
 * came after it (RULES §3.11): callback tasks, surveys, corrective actions, custody, duty and
 * work-order refusals, each on a hand-computed fixture in June 2026 (Asia/Shanghai: the month
 * is [05-31T16:00Z, 06-30T16:00Z)); stored versions keep them; the existing sections and
 * the form are unchanged.
 *
 *   callbacks (tasks of requests resolved in the month, not on demand, not cancelled):
 *     T1 06-05 done very_satisfied, T2 06-10 done average, T3 06-12 given up, T4 06-20 open;
 *     not counted: T5 resolved 05-20 (May), T6 on demand, T7 cancelled.
 *     → needing 4, called back 2, satisfied 1, given up 1, open 1; rate 0.5, satisfaction 0.5.
 *   surveys (campaigns reported in the month): S1 06-15 45/50, S2 06-25 30/40; S3 reported
 *     07-02 → satisfied 75, answered 90, satisfaction 0.8333.
 *   corrective actions: A1 opened 06-02 due 06-10 still open (overdue); A2 opened 05-20
 *     verified 06-08; A3 opened 06-03 verified 06-20; A4 opened 06-04 implementing, due 2099
 *     → opened 3, closed 2, overdue 1.
 *   custody (at as_of): key K1 on loan past due, K2 on loan not yet due; mail M1 in custody
 *     past its reminder; found item L1 held past its unclaimed date, L2 returned
 *     → keys overdue 1, mail uncollected 1, found unclaimed 1.
 *   duty: shifts ending 06-01 (handover H1 accepted 5 min after planned, grace 15), 06-02 (H2
 *     accepted 60 min after), 06-03 (no handover), 06-04 (H3 never accepted), 05-30 (no
 *     handover, May) → handovers planned 3, late 2, missing 1; incident reports I1 06-05 in
 *     time, I2 06-07 submitted after due, I3 06-09 still draft past due → 3, late 2.
 *   refusals: work order W1 declined 06-11 (parts) → total 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char proj[40], eng[40];

#define AGENT "(SELECT id FROM users WHERE username = 'agent')"

static int sql(const char *q)
{
    const char *v[] = {proj, eng};
    if (!th_sql1(q, v, strstr(q, "$2") ? 2 : 1)) {
        fprintf(stderr, "fixture failed: %s\n", q);
        return -1;
    }
    return 0;
}

/* The demo organisation has custody items of its own (db/demo.c): the custody figures are
 * checked as what the fixture adds to the figures before it. */
static long base_keys, base_mail, base_found;
static int take_baseline(void);

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_project("demo", proj) ||
        th_fx_dept("demo", "engineering", eng) || take_baseline() != 0)
        return -1;
    return sql("WITH r AS (INSERT INTO requests (org_id, project_id, number, type, channel, "
               "validity, state, location_kind, common_area, reporter_name, reporter_phone, "
               "title, description, received_at, resolved_at, last_event_at, created_by, "
               "search_terms, department_id) SELECT p.org_id, p.id, 'SQ1', 'repair', 'phone', "
               "'unknown', 'resolved', 'common_area', '大堂', '王芳', '13800138000', '灯', '灯', "
               "'2026-06-01T02:00:00Z', '2026-06-05T02:00:00Z', '2026-06-05T02:00:00Z', " AGENT
               ", '{}', $2 FROM projects p WHERE p.id = $1 RETURNING org_id, project_id, id) "
               "INSERT INTO callback_tasks (org_id, project_id, request_id, kind, state, "
               "min_role, resolved_at, due_at, on_demand, rating, give_up_reason, finished_at) "
               "SELECT r.org_id, r.project_id, r.id, 'repair', t.state, 'agent', "
               "t.res::timestamptz, t.res::timestamptz + interval '2 days', t.od, t.rating, "
               "t.gur, CASE WHEN t.state <> 'open' THEN t.res::timestamptz + interval '1 day' "
               "END FROM r, (VALUES ('done', '2026-06-05T02:00:00Z', false, 'very_satisfied', "
               "NULL), ('done', '2026-06-10T02:00:00Z', false, 'average', NULL), ('given_up', "
               "'2026-06-12T02:00:00Z', false, NULL, 'unreachable'), ('open', "
               "'2026-06-20T02:00:00Z', false, NULL, NULL), ('done', '2026-05-20T02:00:00Z', "
               "false, 'satisfied', NULL), ('done', '2026-06-21T02:00:00Z', true, 'satisfied', "
               "NULL), ('cancelled', '2026-06-22T02:00:00Z', false, NULL, NULL)) AS t(state, res, "
               "od, rating, gur) RETURNING 1") ||
           sql("INSERT INTO work_orders (org_id, project_id, request_id, number, department_id, "
               "assignee_id, state, dispatched_at, created_at, updated_at, decline_reason, "
               "declined_at, declined_by) SELECT r.org_id, r.project_id, r.id, 'GD-SQ1', $2, "
               "(SELECT id FROM users WHERE username = 'technician'), 'declined', "
               "'2026-06-11T02:00:00Z', '2026-06-11T02:00:00Z', '2026-06-11T03:00:00Z', 'parts', "
               "'2026-06-11T03:00:00Z', (SELECT id FROM users WHERE username = 'technician') "
               "FROM requests r WHERE r.number = 'SQ1' AND r.project_id = $1 RETURNING 1") ||
           sql("INSERT INTO survey_campaigns (org_id, project_id, title, kind, cadence, state, "
               "report, reported_at, created_by) SELECT p.org_id, p.id, s.t, 'periodic', "
               "'quarterly', 'reported', jsonb_build_object('summary', "
               "jsonb_build_object('overall_satisfaction', jsonb_build_object('numerator', s.n, "
               "'denominator', s.d))), s.at::timestamptz, " AGENT " FROM projects p, (VALUES "
               "('S1', 45, 50, '2026-06-15T02:00:00Z'), ('S2', 30, 40, '2026-06-25T02:00:00Z'), "
               "('S3', 1, 1, '2026-07-02T02:00:00Z')) AS s(t, n, d, at) WHERE p.id = $1 "
               "RETURNING 1") ||
           sql("INSERT INTO corrective_actions (org_id, project_id, number, kind, state, title, "
               "created_at, verified_at, due_at, created_by) SELECT p.org_id, p.id, a.num, "
               "'corrective', a.state, a.num, a.c::timestamptz, a.v::timestamptz, "
               "a.due::timestamptz, " AGENT " FROM projects p, (VALUES ('CA-2026-000001', "
               "'open', '2026-06-02T02:00:00Z', NULL, '2026-06-10T02:00:00Z'), "
               "('CA-2026-000002', 'verified', '2026-05-20T02:00:00Z', '2026-06-08T02:00:00Z', "
               "'2026-06-30T02:00:00Z'), ('CA-2026-000003', 'verified', '2026-06-03T02:00:00Z', "
               "'2026-06-20T02:00:00Z', '2026-06-01T02:00:00Z'), ('CA-2026-000004', "
               "'implementing', '2026-06-04T02:00:00Z', NULL, '2099-01-01T00:00:00Z')) AS a(num, "
               "state, c, v, due) WHERE p.id = $1 RETURNING 1") ||
           sql("INSERT INTO custody_items (org_id, project_id, area, kind, tag, state, due_back, "
               "created_by) SELECT p.org_id, p.id, c.area, 'x', c.tag, c.state, "
               "c.due::timestamptz, " AGENT " FROM projects p, (VALUES ('keys', 'K1', 'on_loan', "
               "'2026-06-02T02:00:00Z'), ('keys', 'K2', 'on_loan', '2099-01-01T00:00:00Z'), "
               "('mail', 'M1', 'in_custody', '2026-06-03T02:00:00Z'), ('lost_property', 'L1', "
               "'held', '2026-06-04T02:00:00Z'), ('lost_property', 'L2', 'returned', "
               "'2026-06-04T02:00:00Z')) AS c(area, tag, state, due) WHERE p.id = $1 RETURNING "
               "1") ||
           sql("WITH s AS (INSERT INTO duty_shifts (org_id, project_id, post, user_ids, "
               "planned_start, planned_end, created_by) SELECT p.org_id, p.id, 'front_desk', "
               "ARRAY[" AGENT "], x.e::timestamptz - interval '8 hours', x.e::timestamptz, " AGENT
               " FROM projects p, (VALUES ('2026-06-01T10:00:00Z'), ('2026-06-02T10:00:00Z'), "
               "('2026-06-03T10:00:00Z'), ('2026-06-04T10:00:00Z'), ('2026-05-30T10:00:00Z')) AS "
               "x(e) WHERE p.id = $1 RETURNING id, org_id, project_id, planned_end) INSERT INTO "
               "handovers (org_id, project_id, from_shift_id, outgoing_user_id, incoming_user_id, "
               "planned_at, state, accepted_at) SELECT s.org_id, s.project_id, s.id, " AGENT
               ", " AGENT ", s.planned_end, CASE WHEN h.acc IS NULL THEN 'draft' ELSE 'accepted' "
               "END, s.planned_end + h.acc * interval '1 minute' FROM s JOIN (VALUES "
               "('2026-06-01T10:00:00Z', 5), ('2026-06-02T10:00:00Z', 60), "
               "('2026-06-04T10:00:00Z', NULL)) AS h(e, acc) ON h.e::timestamptz = s.planned_end "
               "RETURNING 1") ||
           sql("INSERT INTO incident_reports (org_id, project_id, kind, occurred_at, state, "
               "due_at, submitted_at, written_by) SELECT p.org_id, p.id, 'flood', "
               "i.o::timestamptz, i.state, i.o::timestamptz + interval '1 day', "
               "i.sub::timestamptz, " AGENT " FROM projects p, (VALUES ('2026-06-05T02:00:00Z', "
               "'submitted', '2026-06-05T20:00:00Z'), ('2026-06-07T02:00:00Z', 'submitted', "
               "'2026-06-09T02:00:00Z'), ('2026-06-09T02:00:00Z', 'draft', NULL)) AS i(o, state, "
               "sub) WHERE p.id = $1 RETURNING 1");
}

#define JUNE "/v1/projects/%s/reports/monthly/2026-06"

static th_resp_t *call(const char *method, const char *user, const char *fmt)
{
    char path[256];
    snprintf(path, sizeof path, fmt, proj);
    return th_req(method, path, th_token(user), NULL, NULL);
}

static int take_baseline(void)
{
    th_resp_t *r = call("GET", "supervisor", JUNE);
    int ok = r->status == 200 && th_jpath(r->json, "sections.custody.mail_uncollected");
    if (ok) {
        base_keys = th_jn(r->json, "sections.custody.keys_overdue");
        base_mail = th_jn(r->json, "sections.custody.mail_uncollected");
        base_found = th_jn(r->json, "sections.custody.found_unclaimed");
    } else
        fprintf(stderr, "baseline report: %ld %s\n", r->status, r->body);
    th_free(r);
    return ok ? 0 : -1;
}

static double num(const cJSON *j, const char *path)
{
    const cJSON *v = th_jpath(j, path);
    if (!cJSON_IsNumber(v))
        fail_msg("%s is not a number", path);
    return v->valuedouble;
}

static void check_sections(const cJSON *j)
{
    assert_int_equal(th_jn(j, "sections.callbacks.needing"), 4);
    assert_int_equal(th_jn(j, "sections.callbacks.called_back"), 2);
    assert_int_equal(th_jn(j, "sections.callbacks.satisfied"), 1);
    assert_int_equal(th_jn(j, "sections.callbacks.given_up"), 1);
    assert_int_equal(th_jn(j, "sections.callbacks.open"), 1);
    assert_float_equal(num(j, "sections.callbacks.callback_rate"), 0.5, 1e-9);
    assert_float_equal(num(j, "sections.callbacks.satisfaction"), 0.5, 1e-9);
    assert_int_equal(th_jn(j, "sections.surveys.satisfied"), 75);
    assert_int_equal(th_jn(j, "sections.surveys.answered"), 90);
    assert_float_equal(num(j, "sections.surveys.satisfaction"), 0.8333, 1e-9);
    assert_int_equal(cJSON_GetArraySize(th_jpath(j, "sections.surveys.campaigns")), 2);
    assert_int_equal(th_jn(j, "sections.corrective_actions.opened"), 3);
    assert_int_equal(th_jn(j, "sections.corrective_actions.closed"), 2);
    assert_int_equal(th_jn(j, "sections.corrective_actions.overdue"), 1);
    assert_int_equal(th_jn(j, "sections.custody.keys_overdue"), base_keys + 1);
    assert_int_equal(th_jn(j, "sections.custody.mail_uncollected"), base_mail + 1);
    assert_int_equal(th_jn(j, "sections.custody.found_unclaimed"), base_found + 1);
    assert_int_equal(th_jn(j, "sections.duty.handovers_planned"), 3);
    assert_int_equal(th_jn(j, "sections.duty.handovers_late"), 2);
    assert_int_equal(th_jn(j, "sections.duty.handovers_missing"), 1);
    assert_int_equal(th_jn(j, "sections.duty.incident_reports"), 3);
    assert_int_equal(th_jn(j, "sections.duty.incident_reports_late"), 2);
    assert_int_equal(th_jn(j, "sections.refusals.total"), 1);
    assert_int_equal(th_jn(j, "sections.refusals.by_reason.parts"), 1);
    assert_int_equal(cJSON_GetArraySize(th_jpath(j, "sections.refusals.by_department")), 1);
}

static void test_sections_hand_computed(void **state)
{
    (void)state;
    th_resp_t *r = call("GET", "supervisor", JUNE);
    EXPECT_STATUS(r, 200);
    check_sections(r->json);
    /* the request sections are still there, unchanged in shape */
    assert_int_equal(th_jn(r->json, "overall.counts.total"), 1);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "rows")), 0);
    th_free(r);
    /* the printable page shows them */
    r = call("GET", "supervisor", JUNE "?format=html");
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(r->body, "<h2>其他指标</h2>"));
    assert_non_null(strstr(r->body, "回访率</th><td class=n>50.0%</td>"));
    assert_non_null(strstr(r->body, "交接班迟交</th><td class=n>2</td>"));
    th_free(r);
    /* a stored version keeps them */
    r = call("POST", "manager", JUNE "/versions");
    EXPECT_STATUS(r, 201);
    th_free(r);
    r = call("GET", "manager", JUNE "/versions/1");
    EXPECT_STATUS(r, 200);
    check_sections(th_jpath(r->json, "summary"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_hand_computed),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
