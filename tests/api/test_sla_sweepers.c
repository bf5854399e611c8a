/*
 * tests/api/test_sla_sweepers.c — "three server processes sweeping the same database at
 * once still produce exactly one escalation per breach" (SPEC §4: a request is never
 * escalated twice for the same breach, even with several servers running).
 *
 * 300 inquiries and 30 general complaints are registered as paper records two days and an
 * hour old, so every one has missed its 2-day resolution (the complaints have also missed
 * the 5-minute on-site clock).  Three extra deskd processes then sweep the same database
 * every 50 ms while the test also triggers sweeps over HTTP on the harness server.  When
 * the alert count settles, the database must hold exactly the escalations the ladder
 * prescribes — once per level, with a timeline event and one notification per ladder
 * recipient each.  Then the escalation schedule is made to pass (alert times moved back,
 * requests due for a look) and the race runs again for the next level.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/requests.h"
#include "tests/lib/harness.h"

#define N_INQUIRIES  300
#define N_COMPLAINTS 30
#define N_SWEEPERS   3

static char unit101[40], res_zw[40];
static pid_t sweepers[N_SWEEPERS];

/* ---------------------------------------------------------------- processes */

static int port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Starts one more deskd on the harness database that sweeps every 50 ms. */
static pid_t start_sweeper(void)
{
    const char *bin = getenv("DESKD_BIN");
    if (!bin)
        return -1;
    int port = th_free_port();
    pid_t pid = fork();
    if (pid == 0) {
        const char *const env[] = {"DESK_THREADS=4", "DESK_POOL_SIZE=3",
                                   "DESK_SWEEP_INTERVAL_MS=50", "DESK_LOG_LEVEL=warn", NULL};
        th_exec_deskd(th_dburl(), port, env);
    }
    if (pid < 0)
        return -1;
    for (int i = 0; i < 400; i++) { /* up to 20 s (ASan start-up is slow) */
        if (port_open(port))
            return pid;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* SIGTERM and wait (SIGKILL after ~20 s); returns the exit code, 128+signal if killed. */
static int stop_process(pid_t pid)
{
    kill(pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 400; i++) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (w < 0)
            return -1;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return 128 + SIGKILL;
}

static void stop_all_sweepers(void)
{
    for (int i = 0; i < N_SWEEPERS; i++)
        if (sweepers[i] > 0) {
            stop_process(sweepers[i]);
            sweepers[i] = 0;
        }
}

/* ---------------------------------------------------------------- fixtures */

static int setup(void **state)
{
    (void)state;
    return th_start_sweeper_off(unit101, res_zw);
}

static int teardown(void **state)
{
    (void)state;
    stop_all_sweepers(); /* even after a failed assertion */
    th_stop();
    return 0;
}

static int test_teardown(void **state)
{
    (void)state;
    stop_all_sweepers();
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static long sql_long(const char *sql)
{
    return th_sql_long(sql, NULL, 0);
}

static void sql_exec(const char *sql)
{
    PGresult *r = PQexec(th_db(), sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static long escalation_rows(void)
{
    return sql_long("SELECT count(*) FROM sla_alerts WHERE kind = 'escalation'");
}

/* Registers n requests of a type through the batch endpoint, all 2 days 1 hour old. */
static void batch_create(const char *type, const char *extra, int n, int tag)
{
    time_t t0 = time(NULL) - 2 * 86400 - 3600;
    char at[40], prefix[48];
    th_iso_utc(t0, at);
    snprintf(prefix, sizeof prefix, "并发巡检 %d-", tag);
    for (int done = 0; done < n;) {
        int k = n - done > 100 ? 100 : n - done;
        char *body = th_batch_body(k, done, type, extra, unit101, res_zw, prefix, at);
        th_resp_t *r = th_req("POST", "/v1/requests/batch", th_token("agent"), body, NULL);
        free(body);
        if (r->status != 200)
            fail_msg("batch: %ld %s", r->status, r->body);
        const cJSON *c = cJSON_GetObjectItem(r->json, "created");
        if (!cJSON_IsNumber(c) || c->valueint != k)
            fail_msg("batch created %d of %d: %.500s", cJSON_IsNumber(c) ? c->valueint : -1, k,
                     r->body);
        th_free(r);
        done += k;
    }
}

/* Sweeps over HTTP on the harness server while the other processes sweep on their own,
 * until the escalation count has reached `want` and stayed there for a while (or ~30 s
 * passed).  Returns the final count. */
static long race_until(long want)
{
    long last = -1;
    int stable = 0;
    for (int i = 0; i < 300 && stable < 6; i++) {
        th_resp_t *r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
        if (r->status != 200)
            fail_msg("sweep over HTTP: %ld %s", r->status, r->body);
        th_free(r);
        long n = escalation_rows();
        stable = n >= want && n == last ? stable + 1 : 0;
        last = n;
        sleep_ms(100);
    }
    return last;
}

/* The database invariants after a race.  Each new breach raises a request one level
 * at once (a complaint that missed on-site and resolution goes to 2); afterwards the
 * request, not each clock, rises one level per interval.  inq/cmp: the level each
 * inquiry / complaint must have reached. */
static void check_ledger(int inq, int cmp)
{
    long want = (long)N_INQUIRIES * inq + (long)N_COMPLAINTS * cmp;
    assert_int_equal(escalation_rows(), want);
    /* Per breach (request, clock, due): one row per level, never two. */
    assert_int_equal(sql_long("SELECT count(*) FROM (SELECT request_id, target, due_at FROM "
                              "sla_alerts WHERE kind = 'escalation' GROUP BY 1, 2, 3 HAVING "
                              "count(*) <> count(DISTINCT level)) g"),
                     0);
    /* Per request: levels 1..top, each once, consecutive from the first. */
    assert_int_equal(sql_long("SELECT count(*) FROM (SELECT request_id FROM sla_alerts WHERE "
                              "kind = 'escalation' GROUP BY 1 HAVING count(*) <> count(DISTINCT "
                              "level) OR min(level) <> 1 OR max(level) <> count(*)) g"),
                     0);
    /* Exactly the expected climb for each kind of request. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM requests r WHERE r.type = 'inquiry' AND r.escalation_level = "
             "%d AND (SELECT count(*) FROM sla_alerts a WHERE a.request_id = r.id AND a.kind = "
             "'escalation' AND a.target = 'resolution') = %d",
             inq, inq);
    assert_int_equal(sql_long(sql), N_INQUIRIES);
    /* A complaint's two breaches, found at once, raised it one level (issue 15: one level per
     * evaluation); the next step of the schedule names the other clock. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM requests r WHERE r.type = 'complaint' AND r.escalation_level = "
             "%d AND (SELECT count(*) FROM sla_alerts a WHERE a.request_id = r.id AND a.kind = "
             "'escalation') = %d AND (SELECT count(DISTINCT a.target) FROM sla_alerts a WHERE "
             "a.request_id = r.id AND a.kind = 'escalation') = least(%d, 2)",
             cmp, cmp, cmp);
    assert_int_equal(sql_long(sql), N_COMPLAINTS);
    /* The request's level is its highest escalation. */
    assert_int_equal(sql_long("SELECT count(*) FROM requests r WHERE r.escalation_level <> "
                              "coalesce((SELECT max(level) FROM sla_alerts a WHERE a.request_id = "
                              "r.id AND a.kind = 'escalation'), 0)"),
                     0);
    /* One timeline event per escalation, with its level; sequence numbers unique. */
    assert_int_equal(sql_long("SELECT count(*) FROM request_events WHERE action = 'escalate'"),
                     want);
    assert_int_equal(sql_long("SELECT count(*) FROM sla_alerts a WHERE a.kind = 'escalation' AND "
                              "(SELECT count(*) FROM request_events e WHERE e.request_id = "
                              "a.request_id AND e.action = 'escalate' AND (e.details->>'level')::"
                              "int = a.level AND e.details->>'target' = a.target) <> 1"),
                     0);
    assert_int_equal(sql_long("SELECT count(*) FROM (SELECT request_id, seq FROM request_events "
                              "GROUP BY 1, 2 HAVING count(*) > 1) d"),
                     0);
    /* Notifications: each escalation told every ladder recipient of its level once. */
    assert_int_equal(
        sql_long("SELECT count(*) FROM sla_alerts a WHERE a.kind = 'escalation' AND "
                 "(SELECT count(*) FROM users u WHERE u.org_id = a.org_id AND u.active AND "
                 "u.role = ladder_role(a.level) AND (u.role = 'gm' OR EXISTS (SELECT 1 FROM "
                 "user_projects up JOIN requests r ON r.project_id = up.project_id WHERE "
                 "up.user_id = u.id AND r.id = a.request_id))) = 0"),
        0); /* every level has somebody to tell */
    assert_int_equal(
        sql_long("SELECT count(*) FROM sla_alerts a WHERE a.kind = 'escalation' AND "
                 "(SELECT count(*) FROM notifications n WHERE n.request_id = a.request_id AND "
                 "n.kind = 'sla_escalation' AND (n.payload->>'level')::int = a.level AND "
                 "n.payload->>'target' = a.target) <> (SELECT count(*) FROM users u WHERE "
                 "u.org_id = a.org_id AND u.active AND u.role = ladder_role(a.level) AND "
                 "(u.role = 'gm' OR EXISTS (SELECT 1 FROM user_projects up JOIN requests r ON "
                 "r.project_id = up.project_id WHERE up.user_id = u.id AND r.id = "
                 "a.request_id)))"),
        0);
    assert_int_equal(sql_long("SELECT count(*) FROM notifications WHERE kind = 'sla_escalation' "
                              "AND (user_id, request_id, payload->>'level', payload->>'target') "
                              "IN (SELECT user_id, request_id, payload->>'level', "
                              "payload->>'target' FROM notifications GROUP BY 1, 2, 3, 4 HAVING "
                              "count(*) > 1)"),
                     0);
    /* The demo ladder has one supervisor, manager, director and GM: one notification per
     * escalation. */
    assert_int_equal(sql_long("SELECT count(*) FROM notifications WHERE kind = 'sla_escalation'"),
                     want);
    /* No warnings for clocks that were already breached. */
    assert_int_equal(sql_long("SELECT count(*) FROM sla_alerts WHERE kind = 'warning'"), 0);
}

/* ---------------------------------------------------------------- the test */

static void test_three_processes_one_escalation_per_breach(void **state)
{
    (void)state;
    batch_create("inquiry", "", N_INQUIRIES, 1);
    batch_create("complaint", "\"severity\":\"general\",", N_COMPLAINTS, 2);
    assert_int_equal(sql_long("SELECT count(*) FROM requests WHERE sla_next_check <= now()"),
                     N_INQUIRIES + N_COMPLAINTS);
    assert_int_equal(escalation_rows(), 0);

    /* Step 1: the breach.  Three processes start sweeping on their own. */
    for (int i = 0; i < N_SWEEPERS; i++) {
        sweepers[i] = start_sweeper();
        assert_true(sweepers[i] > 0);
    }
    long want1 = N_INQUIRIES + N_COMPLAINTS;
    assert_int_equal(race_until(want1), want1);
    check_ledger(1, 1);
    int pending = (int)sql_long("SELECT count(*) FROM requests WHERE sla_next_check <= now()");
    assert_int_equal(pending, 0);

    /* Step 2: an hour passes while still overdue: one more level per request, once. */
    sql_exec("UPDATE sla_alerts SET created_at = created_at - interval '2 hours'");
    sql_exec("UPDATE requests SET sla_next_check = now() - interval '1 minute' WHERE "
             "sla_next_check IS NOT NULL");
    long want2 = want1 + N_INQUIRIES + N_COMPLAINTS;
    assert_int_equal(race_until(want2), want2);
    check_ledger(2, 2);

    /* Every process shuts down cleanly. */
    for (int i = 0; i < N_SWEEPERS; i++) {
        int code = stop_process(sweepers[i]);
        sweepers[i] = 0;
        assert_int_equal(code, 0);
    }
    /* And nothing more happens without the schedule passing. */
    th_resp_t *r = th_req("POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(cJSON_GetObjectItem(r->json, "escalations")->valueint, 0);
    th_free(r);
    assert_int_equal(escalation_rows(), want2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_three_processes_one_escalation_per_breach, test_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
