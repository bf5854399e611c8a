/*
 * tests/db/test_pool_handoff.c — the connection pool's checkout (db/pool.c, issue 14): a
 * released connection goes straight to the longest waiting thread; no connection is ever
 * held by two threads at once (16 threads, 2 connections, each checkout runs a statement);
 * a waiter whose checkout times out leaves the queue (NULL, counted, nobody left waiting)
 * and the next release still reaches the next waiter; a thread gets its last connection
 * again when it is free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "tests/lib/harness.h"

static const db_stmt_t one = {"pool_one", "SELECT $1::int + 1", 1};

static int setup(void **state)
{
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    (void)state;
    return th_start(env);
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------ many threads, few connections */

#define THREADS 16
#define ROUNDS  150

static atomic_int holders[2];
static db_conn_t *conn_addr[2];
static pthread_mutex_t addr_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int overlaps, failures;

static int slot_of(db_conn_t *c)
{
    pthread_mutex_lock(&addr_mu);
    int s = -1;
    for (int i = 0; i < 2 && s < 0; i++) {
        if (!conn_addr[i])
            conn_addr[i] = c;
        if (conn_addr[i] == c)
            s = i;
    }
    pthread_mutex_unlock(&addr_mu);
    return s;
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        db_conn_t *c = db_acquire();
        if (!c) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        int s = slot_of(c);
        if (s < 0 || atomic_fetch_add(&holders[s], 1) != 0)
            atomic_fetch_add(&overlaps, 1);
        char n[16];
        snprintf(n, sizeof n, "%d", i);
        const char *v[] = {n};
        PGresult *r = db_exec(c, &one, v);
        if (!db_ok(r) || atoi(PQgetvalue(r, 0, 0)) != i + 1)
            atomic_fetch_add(&failures, 1);
        PQclear(r);
        if (s >= 0)
            atomic_fetch_sub(&holders[s], 1);
        db_release(c);
    }
    return NULL;
}

static void test_no_connection_is_shared(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 2, 30000), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&overlaps), 0);
    assert_int_equal(atomic_load(&failures), 0);
    db_pool_stats_t st;
    db_pool_stats(&st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.acquire_timeouts, 0);
    db_pool_shutdown();
}

/* ------------------------------------------------ hand-off, timeout, affinity */

struct waiter_arg {
    db_conn_t *got;
    atomic_int done;
};

static void *wait_one(void *p)
{
    struct waiter_arg *a = p;
    a->got = db_acquire();
    atomic_store(&a->done, 1);
    return NULL;
}

static void wait_for_waiters(int n)
{
    for (int i = 0; i < 2000; i++) { /* liveness bound only */
        db_pool_stats_t st;
        db_pool_stats(&st);
        if (st.waiting == n)
            return;
        sleep_ms(5);
    }
    fail_msg("%d waiters expected", n);
}

static void test_handoff_timeout_and_affinity(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 1, 300), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);

    /* A lone waiter times out: NULL, counted, the queue empty again. */
    struct waiter_arg late = {0};
    pthread_t t0;
    pthread_create(&t0, NULL, wait_one, &late);
    pthread_join(t0, NULL);
    assert_null(late.got);
    db_pool_stats_t st;
    db_pool_stats(&st);
    assert_int_equal(st.acquire_timeouts, 1);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.in_use, 1);
    db_release(c);
    db_pool_shutdown();

    /* Two waiters queue up; each release hands the connection to the first in line. */
    assert_int_equal(db_pool_init(th_dburl(), 1, 30000), 0);
    c = db_acquire();
    assert_non_null(c);
    struct waiter_arg a = {0}, b = {0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, wait_one, &a);
    wait_for_waiters(1);
    pthread_create(&tb, NULL, wait_one, &b);
    wait_for_waiters(2);
    db_release(c);
    pthread_join(ta, NULL);
    assert_ptr_equal(a.got, c);
    sleep_ms(50);
    assert_int_equal(atomic_load(&b.done), 0); /* still waiting: a holds it */
    db_pool_stats(&st);
    assert_int_equal(st.in_use, 1);
    assert_int_equal(st.waiting, 1);
    db_release(a.got);
    pthread_join(tb, NULL);
    assert_ptr_equal(b.got, c);
    db_release(b.got);
    db_pool_stats(&st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    db_pool_shutdown();

    /* With two free connections, a thread gets the one it used last. */
    assert_int_equal(db_pool_init(th_dburl(), 2, 30000), 0);
    db_conn_t *x = db_acquire(), *y = db_acquire();
    assert_non_null(x);
    assert_non_null(y);
    db_release(x);
    db_release(y);
    db_conn_t *again = db_acquire();
    assert_ptr_equal(again, y);
    db_release(again);
    db_pool_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_connection_is_shared),
        cmocka_unit_test(test_handoff_timeout_and_affinity),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
