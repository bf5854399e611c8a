/*
 * tests/db/test_sla_claim.c — the sweeper's claim path (svc/sweeper.c, db/sla.c) against a
 * real database, in-process:
 *   * an idle sweep (nothing due) is one round trip that opens no transaction and sends no
 *     write statement (no BEGIN, UPDATE, INSERT, COMMIT; read from a libpq trace);
 *   * rows another sweeper has claimed (FOR UPDATE SKIP LOCKED) are skipped, not waited
 *     for, and two sweepers never escalate a request twice: claims of two connections are
 *     disjoint, a sweep next to a held claim escalates only the rest, and after the
 *     holder lets go the skipped ones are escalated exactly once;
 *   * a backlog of more than one batch is swept on two connections at once, within the
 *     caller's budget, each request once, as the caller's audit actor.
 * Due requests are inquiries registered as paper records two days and an hour old (their
 * 2-day resolution clock breached: one escalation each, no warning).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static long sql_long(const char *sql)
{
    return th_sql_long(sql, NULL, 0);
}

/* n overdue inquiries described "claim <tag>-<i>" (tests/lib/requests.h). */
static void create_due(int n, int tag)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "claim %d-", tag);
    th_create_overdue_inquiries(n, unit101, res_zw, prefix);
}

static long due_now(void)
{
    return sql_long("SELECT count(*) FROM requests WHERE sla_next_check <= now()");
}

/* Sweeps until nothing is due, so each test starts idle. */
static void drain(db_conn_t *c)
{
    sla_sweep_stats_t st;
    for (int i = 0; i < 10 && due_now() > 0; i++)
        assert_int_equal(sla_sweep(c, (int64_t)time(NULL), 100000, &st), 0);
    assert_int_equal(due_now(), 0);
}

/* ---------------------------------------------------------------- idle */

static void test_idle_sweep_is_one_read_without_transaction(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    drain(c);
    /* Once per connection the probe is prepared (a round trip of its own): not traced. */
    sla_sweep_stats_t st;
    assert_int_equal(sla_sweep(c, (int64_t)time(NULL), 100000, &st), 0);
    char path[] = "/tmp/deskd-test-sla-claim-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w+");
    assert_non_null(f);
    PQtrace(db_pg(c), f);
    PQsetTraceFlags(db_pg(c), PQTRACE_SUPPRESS_TIMESTAMPS); /* after PQtrace, which resets them */
    int rc = sla_sweep(c, (int64_t)time(NULL), 100000, &st);
    PQuntrace(db_pg(c));
    db_release(c);
    assert_int_equal(rc, 0);
    assert_int_equal(st.examined, 0);
    assert_int_equal(st.batches, 0);

    rewind(f);
    char line[8192];
    int syncs = 0, queries = 0, ready = 0, in_tx = 0, writes = 0;
    static const char *const write_words[] = {"BEGIN",     "COMMIT",         "ROLLBACK",
                                              "UPDATE",    "INSERT",         "DELETE",
                                              "sla_claim", "sla_store_many", "sla_apply_alerts"};
    while (fgets(line, sizeof line, f)) {
        if (getenv("TRACE_DUMP"))
            fputs(line, stderr);
        if (!strncmp(line, "F\t", 2)) {
            syncs += strstr(line, "\tSync") != NULL;
            queries += strstr(line, "\tQuery\t") != NULL;
            for (size_t k = 0; k < sizeof write_words / sizeof *write_words; k++)
                if (strcasestr(line, write_words[k])) {
                    print_message("write statement in an idle sweep: %s", line);
                    writes++;
                }
        } else if (!strncmp(line, "B\t", 2) && strstr(line, "\tReadyForQuery\t")) {
            ready++;
            in_tx += strstr(line, "\tReadyForQuery\t I") == NULL;
        }
    }
    fclose(f);
    unlink(path);
    /* One round trip: one extended-protocol exchange, answered once, outside any
     * transaction (ReadyForQuery 'I' = idle, not in a transaction block). */
    assert_int_equal(syncs + queries, 1);
    assert_int_equal(ready, 1);
    assert_int_equal(in_tx, 0);
    assert_int_equal(writes, 0);
}

/* The idle probe is prepared once per connection, not parsed per sweep (whether the plan
 * cache then keeps a generic plan depends on the statistics: with a large table its
 * generic plan is the ordered index scan; the bench shows the bind times). */
static void test_idle_probe_is_prepared_once(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    drain(c);
    sla_sweep_stats_t st;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(sla_sweep(c, (int64_t)time(NULL), 100000, &st), 0);
        assert_int_equal(st.examined, 0);
    }
    PGresult *r = PQexec(db_pg(c), "SELECT generic_plans + custom_plans FROM "
                                   "pg_prepared_statements WHERE name = 'sla_anything_due'");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    long runs = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    db_release(c);
    assert_true(runs >= 8);
}

/* ---------------------------------------------------------------- two sweepers */

static int claimed_ids(PGresult *r, char ids[][40], int max)
{
    int n = PQntuples(r);
    for (int i = 0; i < n && i < max; i++)
        snprintf(ids[i], 40, "%s", PQgetvalue(r, i, SLA_COL_ID));
    return n;
}

static void test_claimed_rows_are_skipped_and_escalated_once(void **state)
{
    (void)state;
    db_conn_t *a = db_acquire(), *b = db_acquire();
    assert_non_null(a);
    assert_non_null(b);
    drain(a);
    long before = sql_long("SELECT count(*) FROM sla_alerts WHERE kind = 'escalation'");
    create_due(6, 1);
    assert_int_equal(due_now(), 6);
    char nows[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(nows, sizeof nows, "%Y-%m-%dT%H:%M:%SZ", &tm);

    /* Sweeper A claims three and holds them. */
    assert_int_equal(db_begin(a), 0);
    PGresult *ra = db_sla_claim(a, nows, 3, NULL, NULL);
    assert_true(db_ok(ra));
    char held[3][40];
    assert_int_equal(claimed_ids(ra, held, 3), 3);
    PQclear(ra);

    /* Sweeper B's claim skips them (it does not wait) and gets the other three. */
    assert_int_equal(db_begin(b), 0);
    PGresult *rb = db_sla_claim(b, nows, 500, NULL, NULL);
    assert_true(db_ok(rb));
    char other[6][40];
    assert_int_equal(claimed_ids(rb, other, 6), 3);
    PQclear(rb);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++)
            assert_string_not_equal(held[i], other[k]);
    db_rollback(b);

    /* A whole sweep next to A's claim escalates only the three A does not hold. */
    sla_sweep_stats_t st;
    assert_int_equal(sla_sweep(b, (int64_t)now, 100000, &st), 0);
    assert_int_equal(st.examined, 3);
    assert_int_equal(st.escalations, 3);
    for (int i = 0; i < 3; i++) {
        const char *p[] = {held[i]};
        assert_int_equal(th_sql_long("SELECT count(*) FROM sla_alerts WHERE request_id = $1", p, 1),
                         0);
        assert_int_equal(th_sql_long("SELECT escalation_level FROM requests WHERE id = $1", p, 1),
                         0);
    }
    assert_int_equal(due_now(), 3);

    /* A lets go without writing: the next sweep escalates those three, once. */
    db_rollback(a);
    assert_int_equal(sla_sweep(b, (int64_t)time(NULL), 100000, &st), 0);
    assert_int_equal(st.examined, 3);
    assert_int_equal(st.escalations, 3);
    assert_int_equal(sla_sweep(a, (int64_t)time(NULL), 100000, &st), 0);
    assert_int_equal(st.examined, 0);
    assert_int_equal(st.escalations, 0);
    db_release(a);
    db_release(b);

    assert_int_equal(sql_long("SELECT count(*) FROM sla_alerts WHERE kind = 'escalation'"),
                     before + 6);
    /* Each of the six: one escalation alert, one escalate event, level 1, one version
     * step (created at 1), nothing due. */
    assert_int_equal(
        sql_long("SELECT count(*) FROM requests r WHERE r.description LIKE 'claim 1-%' AND "
                 "r.escalation_level = 1 AND r.version = 2 AND r.sla_next_check > now() AND "
                 "(SELECT count(*) FROM sla_alerts x WHERE x.request_id = r.id AND x.kind = "
                 "'escalation' AND x.level = 1) = 1 AND (SELECT count(*) FROM request_events e "
                 "WHERE e.request_id = r.id AND e.action = 'escalate') = 1 AND (SELECT count(*) "
                 "FROM notifications n WHERE n.request_id = r.id AND n.kind = "
                 "'sla_escalation') = 1"),
        6);
}

/* A backlog of more than one batch (1,100 due, batches of 500) is swept in two lanes when the
 * pool has a second connection free: the max_requests budget holds across the lanes, every
 * request is escalated exactly once, and the second lane's audit rows carry the caller's
 * actor. */
static void test_backlog_sweeps_in_two_lanes(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    drain(c);
    for (int k = 0; k < 11; k++)
        create_due(100, 100 + k);
    assert_int_equal(due_now(), 1100);
    db_set_actor(c, &(db_actor_t){.system = "lane-test"});
    long audit0 =
        sql_long("SELECT count(*) FROM audit_log WHERE actor_system = 'system:lane-test'");

    sla_sweep_stats_t st;
    assert_int_equal(sla_sweep(c, (int64_t)time(NULL), 700, &st), 0);
    assert_int_equal(st.lanes, 2); /* the first batch came back full, a connection was free */
    assert_int_equal(st.examined, 700);
    assert_int_equal(st.escalations, 700);
    assert_int_equal(due_now(), 400);
    assert_int_equal(sla_sweep(c, (int64_t)time(NULL), 100000, &st), 0);
    assert_int_equal(st.lanes, 1); /* 400 left: one batch, not full */
    assert_int_equal(st.examined, 400);
    assert_int_equal(st.escalations, 400);
    assert_int_equal(due_now(), 0);
    db_set_actor(c, NULL);
    db_release(c);

    assert_int_equal(
        sql_long("SELECT count(*) FROM requests r WHERE r.description LIKE 'claim 1__-%' AND "
                 "r.escalation_level = 1 AND r.version = 2 AND r.sla_next_check > now() AND "
                 "(SELECT count(*) FROM sla_alerts x WHERE x.request_id = r.id AND x.kind = "
                 "'escalation') = 1 AND (SELECT count(*) FROM request_events e WHERE "
                 "e.request_id = r.id AND e.action = 'escalate') = 1"),
        1100);
    assert_int_equal(
        sql_long("SELECT count(*) FROM audit_log WHERE actor_system = 'system:lane-test' AND "
                 "action = 'request.update'") -
            audit0,
        1100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_sweep_is_one_read_without_transaction),
        cmocka_unit_test(test_idle_probe_is_prepared_once),
        cmocka_unit_test(test_claimed_rows_are_skipped_and_escalated_once),
        cmocka_unit_test(test_backlog_sweeps_in_two_lanes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
