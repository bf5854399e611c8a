/*
 * tests/db/test_commit_outcome.c — db_commit's outcome rules (db/db.h) with the transaction
 * id learnt in the round trip of the first writing statement (issue 14): a write
 * transaction is BEGIN, its statements and COMMIT — no round trip of its own for the id —
 * and a connection lost during COMMIT is still resolved through pg_xact_status():
 *   - counted on the wire (PQtrace): a write transaction and a read transaction each take
 *     two round trips (BEGIN with the first statement, COMMIT); a script in the transaction
 *     (the id may then be unknown) adds the id's own round trip before COMMIT; a
 *     transaction with no statement sends nothing; the audit actor is set for the first
 *     statement;
 *   - a backend that dies while the first statement of a transaction runs: the statement
 *     is sent again, with its BEGIN, on a new connection, and the transaction commits once;
 *   - a backend that dies during COMMIT (a deferred trigger terminates it before the commit
 *     record) makes db_commit fail and leaves nothing; a lone db_exec whose implicit
 *     transaction died that way is known not to have committed and is sent again once:
 *     exactly one row;
 *   - COMMIT of a transaction that had failed fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "tests/lib/harness.h"

static const db_stmt_t ins = {"probe_ins",
                              "INSERT INTO commit_probe (id, note) VALUES ($1::int, $2)", 2};
static const db_stmt_t sel = {"probe_sel", "SELECT count(*) FROM commit_probe WHERE id = $1::int",
                              1};

static int pool_up;

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    /* The deferred trigger runs inside COMMIT: note 'die' terminates the backend there, before
     * the commit record; 'die-once' only the first time (a sequence is not rolled back). */
    if (th_pg_exec(
            th_dburl(),
            "CREATE TABLE commit_probe (id int PRIMARY KEY, note text);"
            "CREATE SEQUENCE commit_probe_once;"
            "CREATE FUNCTION commit_probe_die() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.note = 'die' OR (NEW.note = 'die-once' AND "
            "nextval('commit_probe_once') = 1) THEN PERFORM "
            "pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF; "
            "RETURN NULL; END $$;"
            "CREATE CONSTRAINT TRIGGER die AFTER INSERT ON commit_probe DEFERRABLE INITIALLY "
            "DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_probe_die();"
            /* 'die-now-once': while the INSERT itself runs, the first time only */
            "CREATE SEQUENCE commit_probe_now;"
            "CREATE FUNCTION commit_probe_die_now() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.note = 'die-now-once' AND nextval('commit_probe_now') = 1 THEN "
            "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF; "
            "RETURN NULL; END $$;"
            "CREATE TRIGGER die_now AFTER INSERT ON commit_probe FOR EACH ROW EXECUTE "
            "FUNCTION commit_probe_die_now();") != 0) {
        th_stop();
        return -1;
    }
    pool_up = 1;
    return db_pool_init(th_dburl(), 1, 5000);
}

static int teardown(void **state)
{
    if (pool_up)
        db_pool_shutdown();
    return th_group_stop(state);
}

static long rows_with(int id)
{
    char v[16];
    snprintf(v, sizeof v, "%d", id);
    const char *p[] = {v};
    const char *n = th_sql1("SELECT count(*) FROM commit_probe WHERE id = $1::int", p, 1);
    assert_non_null(n);
    return atol(n);
}

/* Round trips the client started on c while fn ran: simple-protocol queries plus syncs
 * (one per extended-protocol round trip, pipelined or not). */
typedef void (*tx_fn)(db_conn_t *c, int id);

static int round_trips(db_conn_t *c, tx_fn fn, int id)
{
    char path[] = "/tmp/commit_trace_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w+");
    assert_non_null(f);
    PGconn *pg = db_pg(c); /* before BEGIN: what db_pg implies ends with the transaction */
    PQtrace(pg, f);
    fn(c, id);
    PQuntrace(pg);
    fflush(f);
    rewind(f);
    int n = 0;
    char line[4096];
    while (fgets(line, sizeof line, f))
        if (strstr(line, "\tF\t") && (strstr(line, "\tQuery\t") || strstr(line, "\tSync")))
            n++;
    fclose(f);
    unlink(path);
    return n;
}

static void tx_write(db_conn_t *c, int id)
{
    char v[16];
    snprintf(v, sizeof v, "%d", id);
    const char *p[] = {v, "ok"};
    assert_int_equal(db_begin(c), 0);
    PGresult *r = db_exec(c, &ins, p);
    assert_true(db_ok(r));
    PQclear(r);
    assert_int_equal(db_commit(c), 0);
}

static void tx_read(db_conn_t *c, int id)
{
    char v[16];
    snprintf(v, sizeof v, "%d", id);
    const char *p[] = {v};
    assert_int_equal(db_begin(c), 0);
    PGresult *r = db_exec(c, &sel, p);
    assert_true(db_ok(r));
    PQclear(r);
    assert_int_equal(db_commit(c), 0);
}

static void tx_script(db_conn_t *c, int id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO commit_probe (id, note) VALUES (%d, 'script')", id);
    assert_int_equal(db_begin(c), 0);
    assert_int_equal(db_simple(c, sql), 0);
    assert_int_equal(db_commit(c), 0);
}

static void tx_empty(db_conn_t *c, int id)
{
    (void)id;
    assert_int_equal(db_begin(c), 0);
    assert_int_equal(db_commit(c), 0);
    assert_int_equal(db_begin_snapshot(c), 0);
    db_rollback(c);
}

static void test_round_trips(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    tx_write(c, 1); /* prepares the statements: not counted */
    tx_read(c, 1);
    assert_int_equal(round_trips(c, tx_write, 2), 2);
    assert_int_equal(round_trips(c, tx_read, 2), 2);
    assert_int_equal(round_trips(c, tx_script, 3), 3);
    assert_int_equal(round_trips(c, tx_empty, 0), 0);
    db_release(c);
    assert_int_equal(rows_with(1), 1);
    assert_int_equal(rows_with(2), 1);
    assert_int_equal(rows_with(3), 1);
}

/* The audit actor reaches the transaction's first statement (it goes in the same pipeline),
 * also when that statement is plain text, and is the transaction's only. */
static void test_actor_with_first_statement(void **state)
{
    (void)state;
    static const db_stmt_t actor = {"probe_actor",
                                    "SELECT current_setting('deskd.actor', true) || $1", 1};
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    db_actor_t a = {.user_id = "u-1", .role = "agent", .request_id = "rq-1"};
    db_set_actor(c, &a);
    const char *v[] = {""};
    assert_int_equal(db_begin(c), 0);
    PGresult *r = db_exec(c, &actor, v);
    assert_true(db_ok(r));
    assert_string_equal(PQgetvalue(r, 0, 0), "{\"u\":\"u-1\",\"r\":\"agent\",\"q\":\"rq-1\"}");
    PQclear(r);
    assert_int_equal(db_commit(c), 0);
    assert_int_equal(db_begin(c), 0);
    r = db_script(c, "SELECT current_setting('deskd.actor', true)");
    assert_true(db_ok(r));
    assert_string_equal(PQgetvalue(r, 0, 0), "{\"u\":\"u-1\",\"r\":\"agent\",\"q\":\"rq-1\"}");
    PQclear(r);
    db_rollback(c);
    /* outside the transaction the setting is gone (set_config(..., true)) */
    r = db_exec(c, &actor, v);
    assert_true(db_ok(r));
    assert_true(PQgetisnull(r, 0, 0) || !strcmp(PQgetvalue(r, 0, 0), ""));
    PQclear(r);
    db_release(c);
}

static void test_backend_dies_during_first_statement(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    const char *p[] = {"30", "die-now-once"};
    assert_int_equal(db_begin(c), 0);
    PGresult *r = db_exec(c, &ins, p); /* dies, is sent again with its BEGIN */
    assert_true(db_ok(r));
    PQclear(r);
    const char *q[] = {"31", "ok"};
    r = db_exec(c, &ins, q);
    assert_true(db_ok(r));
    PQclear(r);
    assert_int_equal(db_commit(c), 0);
    db_release(c);
    assert_int_equal(rows_with(30), 1);
    assert_int_equal(rows_with(31), 1);
}

static void test_backend_dies_during_commit(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    const char *p[] = {"10", "die"};
    assert_int_equal(db_begin(c), 0);
    PGresult *r = db_exec(c, &ins, p);
    assert_true(db_ok(r));
    PQclear(r);
    assert_int_equal(db_commit(c), -1); /* known not committed */
    assert_int_equal(rows_with(10), 0);

    /* The connection is usable again; a lone insert whose implicit transaction dies in
     * COMMIT is sent again once, on a new connection. */
    const char *q[] = {"11", "die-once"};
    r = db_exec(c, &ins, q);
    assert_true(db_ok(r));
    PQclear(r);
    db_release(c);
    assert_int_equal(rows_with(11), 1);
}

static void test_failed_transaction_does_not_commit(void **state)
{
    (void)state;
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    const char *p[] = {"20", "ok"};
    assert_int_equal(db_begin(c), 0);
    PGresult *r = db_exec(c, &ins, p);
    assert_true(db_ok(r));
    PQclear(r);
    r = db_exec(c, &ins, p); /* duplicate key: the transaction fails */
    assert_false(db_ok(r));
    PQclear(r);
    assert_int_equal(db_commit(c), -1);
    db_release(c);
    assert_int_equal(rows_with(20), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_actor_with_first_statement),
        cmocka_unit_test(test_backend_dies_during_first_statement),
        cmocka_unit_test(test_backend_dies_during_commit),
        cmocka_unit_test(test_failed_transaction_does_not_commit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
