/*
 * "Every state change and its timeline event commit in one transaction.  A crash or a
 * killed connection mid-request leaves either both or neither" (issue 3).  Four clients
 * create and dispatch requests as fast as they can; deskd is killed with SIGKILL in the
 * middle of it, so some statements are cut off inside their transactions.  After a
 * restart every request has its create event, its state is the state its last event
 * says, every dispatched request has its dispatched work order, and no event or work
 * order points at a request that is not there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char unit101[40], dept_eng[40];
static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};

static int setup(void **state)
{
    (void)state;
    if (th_start(env) != 0)
        return -1;
    return th_fx_unit("demo", "1-101", unit101) || th_fx_dept("demo", "engineering", dept_eng) ? -1
                                                                                               : 0;
}

typedef struct {
    const char *token;
    int created, dispatched, failed;
    volatile int *stop;
} client_t;

/* One call on the client's own connection; returns the status (0 when the server is gone)
 * and the id of the request in the answer (when there is one). */
static long call(const client_t *cl, const char *path, const char *body, const char *if_match,
                 char id[40])
{
    const char *h[] = {if_match, NULL};
    th_resp_t *r = th_req_mt("POST", path, cl->token, body, if_match ? h : NULL);
    long st = r->status;
    snprintf(id, 40, "%s", th_str(r, "id"));
    th_free(r);
    return st;
}

static void *client(void *arg)
{
    client_t *cl = arg;
    char body[1024], path[128], id[40];
    while (!*cl->stop) {
        snprintf(body, sizeof body,
                 "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
                 "\"reporter\":{\"name\":\"孙先生\",\"phone\":\"13900004444\"},"
                 "\"description\":\"崩溃测试：水管爆裂\"}",
                 unit101);
        long st = call(cl, "/v1/requests", body, NULL, id);
        if (st != 201) {
            cl->failed++;
            if (st == 0)
                break; /* the server is gone */
            continue;
        }
        __atomic_add_fetch(&cl->created, 1, __ATOMIC_RELAXED);
        if (id[0]) {
            snprintf(path, sizeof path, "/v1/requests/%s/actions/dispatch", id);
            snprintf(body, sizeof body, "{\"department_id\":\"%s\"}", dept_eng);
            st = call(cl, path, body, "If-Match: \"1\"", id);
            if (st == 200)
                cl->dispatched++;
            else if (st == 0)
                *cl->stop = 1;
        }
    }
    return NULL;
}

static long count(const char *sql)
{
    return th_sql_long(sql, NULL, 0);
}

static void test_sigkill_mid_write_leaves_both_or_neither(void **state)
{
    (void)state;
    long before = count("SELECT count(*) FROM requests");
    volatile int stop = 0;
    client_t cl[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].token = th_token("agent");
        cl[i].stop = &stop;
        assert_int_equal(pthread_create(&th[i], NULL, client, &cl[i]), 0);
    }
    /* Let the writes get going (at least 20 acknowledged, however slow the machine or the
     * sanitizer build), then kill the server without warning. */
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int waited = 0, n = 0; n < 20 && waited < 3000; waited++) {
        nanosleep(&ts, NULL);
        n = 0;
        for (int i = 0; i < 4; i++)
            n += __atomic_load_n(&cl[i].created, __ATOMIC_RELAXED);
    }
    nanosleep(&ts, NULL); /* and a little more, so the kill lands in mid-stream */
    assert_int_equal(kill(th_server_pid(), SIGKILL), 0);
    stop = 1;
    int created = 0, dispatched = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        created += cl[i].created;
        dispatched += cl[i].dispatched;
    }
    assert_true(created > 0); /* the kill really came in the middle of writing */
    assert_int_equal(th_restart(env), 0);

    long now = count("SELECT count(*) FROM requests");
    assert_true(now - before >= created); /* everything acknowledged is there */
    /* Both or neither, for every request. */
    assert_int_equal(count("SELECT count(*) FROM requests r WHERE NOT EXISTS (SELECT 1 FROM "
                           "request_events e WHERE e.request_id = r.id AND e.action = 'create')"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM requests r WHERE r.state IS DISTINCT FROM "
                           "(SELECT e.to_state FROM request_events e WHERE e.request_id = r.id "
                           "AND e.to_state IS NOT NULL ORDER BY e.seq DESC LIMIT 1)"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM requests r WHERE r.state = 'dispatched' AND NOT "
                           "EXISTS (SELECT 1 FROM work_orders w WHERE w.request_id = r.id AND "
                           "w.state = 'dispatched')"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM work_orders w WHERE NOT EXISTS (SELECT 1 FROM "
                           "request_events e WHERE e.request_id = w.request_id AND e.action = "
                           "'dispatch')"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM request_events e WHERE NOT EXISTS (SELECT 1 FROM "
                           "requests r WHERE r.id = e.request_id)"),
                     0);
    assert_true(count("SELECT count(*) FROM requests WHERE state = 'dispatched'") >= dispatched);
    /* And the restarted server works. */
    th_resp_t *r = th_req("GET", "/v1/requests?limit=1", th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    fprintf(stderr, "crash test: %d created and %d dispatched before the kill\n", created,
            dispatched);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_mid_write_leaves_both_or_neither),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
