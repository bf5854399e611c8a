/*
 * tests/db/test_sweep_audit.c — a sweep batch writes its requests' audit rows with one
 * INSERT (sla_store_batch(), migration 0042) instead of the row trigger audit_row():
 *   * for the same claimed batch and the same new due times and levels (escalations, due
 *     times moved, set and cleared, rows with nothing audited), sla_store_batch() leaves the
 *     same requests and writes the same audit rows — action, actor, resource, diff — as the
 *     old UPDATE with the row trigger (both run in one transaction, rolled back in between);
 *   * a whole sweep (sla_sweep, the batch path) gives the same requests, alerts, timeline
 *     events, notifications and audit rows as the single-request sweep (sla_sweep_request,
 *     which keeps the row trigger) gives for twin requests at the same moment;
 *   * the batch claim (the timelines and alerts grouped over the batch) reads exactly what
 *     the single-request statement reads through sla_events_json() / sla_alerts_json();
 *   * the trigger is skipped only inside sla_store_batch(): a session of another role that
 *     sets deskd.audit_sweep itself is still audited row by row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "db/sla.h"
#include "svc/sla.h"
#include "svc/sweeper.h"
#include "tests/lib/expect.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

static char unit101[40], res_zw[40];

static int setup(void **state)
{
    (void)state;
    if (th_start_sweeper_off(unit101, res_zw) != 0)
        return -1;
    return db_pool_init(th_dburl(), 2, 5000);
}

static int teardown(void **state)
{
    db_pool_shutdown();
    return th_group_stop(state);
}

/* n overdue inquiries described "<prefix><i>" (tests/lib/requests.h). */
static void create_due(int n, const char *prefix)
{
    th_create_overdue_inquiries(n, unit101, res_zw, prefix);
}

/* Sweeps until nothing is due (earlier tests' leftovers). */
static void drain(db_conn_t *c)
{
    sla_sweep_stats_t st;
    for (int i = 0; i < 10 && th_sql_long("SELECT count(*) FROM requests WHERE sla_next_check "
                                          "<= now()",
                                          NULL, 0) > 0;
         i++)
        assert_int_equal(sla_sweep(c, (int64_t)time(NULL), 100000, &st), 0);
}

/* One text value of sql on c (in its transaction); the caller frees it. */
static char *q1(db_conn_t *c, const char *sql)
{
    PGresult *r = PQexec(db_pg(c), sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    char *v = strdup(PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static void exec1(db_conn_t *c, const char *sql)
{
    PGresult *r = PQexec(db_pg(c), sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* The audit rows written after audit id :m (everything but their id and time), and the
 * batch's requests (everything but updated_at, and whether it moved), ordered. */
#define AUDIT_SINCE                                                                                \
    "SELECT coalesce(json_agg(json_build_array(org_id, actor_user_id, actor_role, actor_system, "  \
    "request_id, client_addr, action, resource_type, resource_id, diff) ORDER BY resource_id, "    \
    "id), '[]')::text FROM audit_log WHERE id > (SELECT v FROM sweep_audit_mark)"
#define REQUESTS_NOW                                                                               \
    "SELECT json_agg(to_jsonb(r) - 'updated_at' || jsonb_build_object('moved', r.updated_at > "    \
    "r.created_at) ORDER BY r.id)::text FROM requests r WHERE r.description LIKE 'sa store %'"

static void test_store_batch_writes_the_row_triggers_audit_rows(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    drain(c);
    create_due(14, "sa store ");
    char nows[40];
    th_iso_utc(time(NULL), nows);

    assert_int_equal(db_begin(c), 0);
    PGresult *cl = db_sla_claim(c, nows, 500, NULL, NULL);
    assert_true(db_ok(cl));
    assert_int_equal(PQntuples(cl), 14);
    PQclear(cl);
    /* New due times and levels of every kind: even rows escalate to 1, every third moves
     * its resolution due an hour, every fifth gets an on-site due, every seventh loses its
     * first-response due; the others change nothing audited (only their next check). */
    char *sj = q1(c, "SELECT json_agg(json_build_object('id', r.id, 'due_first_response', CASE "
                     "WHEN n % 7 = 0 THEN NULL ELSE r.due_first_response END, 'due_resolution', "
                     "r.due_resolution + CASE WHEN n % 3 = 0 THEN interval '1 hour' ELSE "
                     "interval '0' END, 'due_on_site', CASE WHEN n % 5 = 0 THEN now() END, "
                     "'next_due', r.due_resolution, 'next_check', now() + interval '1 hour', "
                     "'level', CASE WHEN n % 2 = 0 THEN 1 END))::text FROM (SELECT r.*, "
                     "row_number() OVER (ORDER BY r.id) AS n FROM requests r WHERE "
                     "r.description LIKE 'sa store %') r");
    exec1(c, "CREATE TEMP TABLE sweep_audit_mark ON COMMIT DROP AS SELECT coalesce(max(id), 0) "
             "AS v FROM audit_log");
    exec1(c, "SELECT set_config('deskd.actor', json_build_object('u', (SELECT id FROM users "
             "WHERE username = 'admin' LIMIT 1), 'r', 'admin', 'q', 'req-sweep-audit', 'a', "
             "'192.0.2.7')::text, true)");
    exec1(c, "SAVEPOINT before_store");

    assert_int_equal(db_sla_store_many(c, sj), 0); /* the row trigger */
    char *audit_old = q1(c, AUDIT_SINCE), *req_old = q1(c, REQUESTS_NOW);
    exec1(c, "ROLLBACK TO SAVEPOINT before_store");

    assert_int_equal(db_sla_store_batch(c, sj), 0); /* one INSERT */
    char *audit_new = q1(c, AUDIT_SINCE), *req_new = q1(c, REQUESTS_NOW);
    char *flag = q1(c, "SELECT current_setting('deskd.audit_sweep', true)");
    char *rows = q1(c, "SELECT count(*) FROM audit_log WHERE id > (SELECT v FROM "
                       "sweep_audit_mark)");
    char *kinds = q1(c, "SELECT string_agg(DISTINCT k, ',' ORDER BY k) FROM audit_log a, "
                        "jsonb_object_keys(a.diff -> 'after') k WHERE a.id > (SELECT v FROM "
                        "sweep_audit_mark)");
    db_rollback(c);
    db_release(c);

    assert_string_equal(audit_new, audit_old);
    assert_string_equal(req_new, req_old);
    /* Rows 1..14: all but 1, 11 and 13 change something audited. */
    assert_string_equal(rows, "11");
    assert_string_equal(kinds, "due_first_response,due_on_site,due_resolution,escalation_level");
    assert_non_null(strstr(audit_new, "\"req-sweep-audit\""));
    assert_non_null(strstr(audit_new, "\"192.0.2.7\""));
    assert_string_equal(flag, ""); /* reset when the batch is written */
    free(sj);
    free(audit_old);
    free(req_old);
    free(audit_new);
    free(req_new);
    free(flag);
    free(rows);
    free(kinds);
}

/* What a sweep left for the twin requests "sa twin <path> <i>": one JSON document per
 * twin, without ids, numbers and times that differ between twins by construction. */
#define TWIN_STATE                                                                                 \
    "SELECT json_agg(json_build_object("                                                           \
    "'i', split_part(r.description, ' ', 4), "                                                     \
    "'request', to_jsonb(r) - '{id,number,description,search_terms,created_at,updated_at,"         \
    "last_event_at}'::text[] || jsonb_build_object('moved', r.updated_at > r.created_at), "        \
    "'audit', (SELECT json_agg(json_build_array(a.actor_user_id, a.actor_role, a.actor_system, "   \
    "a.request_id, a.client_addr, a.action, a.resource_type, a.resource_id = r.id::text, "         \
    "a.diff) ORDER BY a.id) FROM audit_log a WHERE a.resource_type = 'request' AND "               \
    "a.resource_id = r.id::text AND a.action <> 'request.create'), "                               \
    "'alerts', (SELECT json_agg(json_build_array(x.target, x.kind, x.level, x.due_at) ORDER BY "   \
    "x.id) FROM sla_alerts x WHERE x.request_id = r.id), "                                         \
    "'events', (SELECT json_agg(json_build_array(e.seq, e.actor_role, e.actor_id, e.action, "      \
    "e.from_state, e.to_state, e.occurred_at, e.details) ORDER BY e.seq) FROM request_events e "   \
    "WHERE e.request_id = r.id AND e.action <> 'create'), "                                        \
    "'notifications', (SELECT json_agg(json_build_array(n.user_id, n.kind, n.payload - "           \
    "'number', n.payload ->> 'number' = r.number) ORDER BY n.user_id, n.kind) FROM "               \
    "notifications n WHERE n.request_id = r.id)) ORDER BY split_part(r.description, ' ', "         \
    "4)::int)::text FROM requests r WHERE r.description LIKE "

static void test_sweep_matches_the_single_request_path(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    drain(c);
    create_due(5, "sa twin old ");
    create_due(5, "sa twin new ");
    int64_t now = (int64_t)time(NULL);

    /* The old path, request by request (sla_sweep_request keeps the row trigger). */
    PGresult *ids = PQexec(db_pg(c), "SELECT id FROM requests WHERE description LIKE 'sa twin "
                                     "old %' ORDER BY id");
    assert_int_equal(PQresultStatus(ids), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(ids), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sla_sweep_request(c, PQgetvalue(ids, i, 0), now), 0);
    PQclear(ids);
    /* The batch path for the rest, at the same moment. */
    sla_sweep_stats_t st;
    assert_int_equal(sla_sweep(c, now, 100000, &st), 0);
    assert_int_equal(st.examined, 5);
    assert_int_equal(st.escalations, 5);

    char *old_state = q1(c, TWIN_STATE "'sa twin old %'");
    char *new_state = q1(c, TWIN_STATE "'sa twin new %'");
    char *escalated =
        q1(c, "SELECT count(*) FROM requests r WHERE r.description LIKE 'sa twin %' AND "
              "r.escalation_level = 1 AND r.version = 2 AND (SELECT count(*) FROM audit_log a "
              "WHERE a.resource_id = r.id::text AND a.action = 'request.update' AND a.diff = "
              "'{\"before\": {\"escalation_level\": 0}, \"after\": {\"escalation_level\": "
              "1}}') = 1 AND (SELECT count(*) FROM notifications n WHERE n.request_id = r.id) "
              "> 0");
    db_release(c);
    assert_string_equal(new_state, old_state);
    assert_string_equal(escalated, "10");
    free(old_state);
    free(new_state);
    free(escalated);
}

/* The batch claim reads each request's timeline, last seq and recorded alerts grouped over
 * the batch; the single-request statement still through sla_events_json() and
 * sla_alerts_json(): every column the same (the twins have a create and an escalate
 * event and an escalation alert each; made due again inside a rolled-back transaction). */
static void test_claim_reads_what_the_functions_read(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    char nows[40];
    th_iso_utc(time(NULL), nows);
    assert_int_equal(db_begin(c), 0);
    exec1(c, "UPDATE requests SET sla_next_check = now() - interval '1 minute' WHERE "
             "description LIKE 'sa twin %'");
    PGresult *cl = db_sla_claim(c, nows, 500, NULL, NULL);
    assert_true(db_ok(cl));
    int n = PQntuples(cl), cols = PQnfields(cl), with_alerts = 0;
    assert_int_equal(n, 10);
    for (int i = 0; i < n; i++) {
        PGresult *one =
            db_sla_request(c, PQgetvalue(cl, i, SLA_COL_ORG), PQgetvalue(cl, i, SLA_COL_ID), 0);
        assert_true(db_ok(one));
        assert_int_equal(PQntuples(one), 1);
        assert_int_equal(PQnfields(one), cols);
        for (int k = 0; k < cols; k++) {
            assert_int_equal(PQgetisnull(one, 0, k), PQgetisnull(cl, i, k));
            assert_string_equal(PQgetvalue(one, 0, k), PQgetvalue(cl, i, k));
        }
        with_alerts += strstr(PQgetvalue(cl, i, SLA_COL_ALERTS), "escalation") != NULL &&
                       strstr(PQgetvalue(cl, i, SLA_COL_EVENTS), "escalate") != NULL &&
                       !strcmp(PQgetvalue(cl, i, SLA_COL_SEQ), "2");
        PQclear(one);
    }
    PQclear(cl);
    db_rollback(c);
    db_release(c);
    assert_int_equal(with_alerts, 10);
}

/* As the service's role (deskd_app, which owns nothing): setting deskd.audit_sweep
 * itself skips no audit row; sla_store_batch() (SECURITY DEFINER) writes one row per
 * changed request, not two. */
static void test_setting_the_flag_elsewhere_skips_no_audit(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    create_due(2, "sa flag ");
    assert_int_equal(db_begin(c), 0);
    exec1(c, "CREATE TEMP TABLE sweep_audit_mark ON COMMIT DROP AS SELECT coalesce(max(id), 0) "
             "AS v FROM audit_log");
    exec1(c, "GRANT SELECT ON sweep_audit_mark TO deskd_app");
    exec1(c, "SET LOCAL ROLE deskd_app");
    exec1(c, "SELECT set_config('deskd.audit_sweep', 'on', true)");
    char *guard = q1(c, "SELECT audit_sweep_batch()");
    exec1(c, "UPDATE requests SET escalation_level = 2 WHERE description = 'sa flag 0'");
    char *plain = q1(c, "SELECT count(*) FROM audit_log WHERE id > (SELECT v FROM "
                        "sweep_audit_mark) AND diff -> 'after' ->> 'escalation_level' = '2'");
    exec1(c, "SELECT sla_store_batch(json_build_array(json_build_object('id', r.id, "
             "'due_first_response', r.due_first_response, 'due_resolution', r.due_resolution, "
             "'next_check', now() + interval '1 hour', 'level', 1))) FROM requests r WHERE "
             "r.description = 'sa flag 1'");
    char *batch = q1(c, "SELECT count(*) FROM audit_log WHERE id > (SELECT v FROM "
                        "sweep_audit_mark) AND diff -> 'after' ->> 'escalation_level' = '1'");
    char *flag = q1(c, "SELECT current_setting('deskd.audit_sweep', true)");
    db_rollback(c);
    db_release(c);
    assert_string_equal(guard, "f");
    assert_string_equal(plain, "1"); /* the row trigger ran */
    assert_string_equal(batch, "1"); /* sla_store_batch()'s row only */
    assert_string_equal(flag, "");
    free(guard);
    free(plain);
    free(batch);
    free(flag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_batch_writes_the_row_triggers_audit_rows),
        cmocka_unit_test(test_sweep_matches_the_single_request_path),
        cmocka_unit_test(test_claim_reads_what_the_functions_read),
        cmocka_unit_test(test_setting_the_flag_elsewhere_skips_no_audit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
