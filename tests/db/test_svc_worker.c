/*
 * tests/db/test_svc_worker.c — the one background-worker pattern (svc/worker.c) against a
 * real pool: rounds run with a pooled connection and the wall clock, none runs after a
 * stop, a stop does not wait out the interval, and start/stop are safe to repeat.  The
 * SLA sweeper's start/stop go through it too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "svc/sweeper.h"
#include "svc/worker.h"
#include "tests/lib/harness.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int rounds, bad_conn, bad_clock, query_failed;

static void counting_round(db_conn_t *c, int64_t now)
{
    int64_t wall = (int64_t)time(NULL);
    int q = c ? db_simple(c, "SELECT 1") : -1;
    pthread_mutex_lock(&mu);
    rounds++;
    bad_conn += c == NULL;
    bad_clock += now < wall - 3600 || now > wall + 3600;
    query_failed += q != 0;
    pthread_mutex_unlock(&mu);
}

static int count(void)
{
    pthread_mutex_lock(&mu);
    int n = rounds;
    pthread_mutex_unlock(&mu);
    return n;
}

static void reset(void)
{
    pthread_mutex_lock(&mu);
    rounds = bad_conn = bad_clock = query_failed = 0;
    pthread_mutex_unlock(&mu);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    return db_pool_init(th_dburl(), 2, 5000);
}

static int teardown(void **state)
{
    db_pool_shutdown();
    return th_group_stop(state);
}

static void test_rounds_run_until_stopped(void **state)
{
    (void)state;
    reset();
    static svc_worker_t w = SVC_WORKER("test worker", counting_round);
    assert_int_equal(svc_worker_start(&w, 20), 0);
    assert_true(svc_worker_running(&w));
    /* Liveness only: three rounds of 20 ms come long before this generous bound. */
    double t0 = mono();
    while (count() < 3 && mono() - t0 < 60)
        usleep(10000);
    svc_worker_stop(&w);
    assert_false(svc_worker_running(&w));
    int n = count();
    assert_true(n >= 3);
    assert_int_equal(bad_conn, 0);
    assert_int_equal(bad_clock, 0);
    assert_int_equal(query_failed, 0);
    usleep(100000); /* five intervals: a worker still running would add rounds */
    assert_int_equal(count(), n);
    /* Its connection went back to the pool: both are free again. */
    db_conn_t *a = db_acquire(), *b = db_acquire();
    assert_non_null(a);
    assert_non_null(b);
    db_release(a);
    db_release(b);
}

static void test_stop_does_not_wait_out_the_interval(void **state)
{
    (void)state;
    reset();
    static svc_worker_t w = SVC_WORKER("test worker", counting_round);
    assert_int_equal(svc_worker_start(&w, 3600 * 1000), 0);
    usleep(50000);
    double t0 = mono();
    svc_worker_stop(&w);
    /* Liveness only: an hour's interval, a stop well under a minute. */
    assert_true(mono() - t0 < 60);
    assert_int_equal(count(), 0);
}

static void test_start_stop_are_safe_to_repeat(void **state)
{
    (void)state;
    reset();
    static svc_worker_t w = SVC_WORKER("test worker", counting_round);
    svc_worker_stop(&w); /* never started */
    assert_int_equal(svc_worker_start(&w, 0), 0);
    assert_false(svc_worker_running(&w)); /* interval 0: nothing starts */
    assert_int_equal(svc_worker_start(&w, -5), 0);
    assert_false(svc_worker_running(&w));
    assert_int_equal(svc_worker_start(&w, 3600 * 1000), 0);
    assert_int_equal(svc_worker_start(&w, 10), 0); /* already running: unchanged */
    assert_true(svc_worker_running(&w));
    usleep(100000);
    assert_int_equal(count(), 0); /* still on the first start's hour */
    svc_worker_stop(&w);
    svc_worker_stop(&w);
    assert_false(svc_worker_running(&w));
    /* And it can run again after a stop. */
    assert_int_equal(svc_worker_start(&w, 20), 0);
    double t0 = mono();
    while (count() < 1 && mono() - t0 < 60)
        usleep(10000);
    svc_worker_stop(&w);
    assert_true(count() >= 1);
}

static void test_sweeper_start_stop(void **state)
{
    (void)state;
    sweeper_start(0); /* DESK_SWEEP_INTERVAL_MS=0: no sweeper */
    sweeper_stop();
    sweeper_start(50);
    usleep(200000); /* a few sweeps of an empty queue */
    double t0 = mono();
    sweeper_stop();
    assert_true(mono() - t0 < 60);
    sweeper_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounds_run_until_stopped),
        cmocka_unit_test(test_stop_does_not_wait_out_the_interval),
        cmocka_unit_test(test_start_stop_are_safe_to_repeat),
        cmocka_unit_test(test_sweeper_start_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
