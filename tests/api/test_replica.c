/*
 * tests/api/test_replica.c — DATABASE_READ_URL against a real streaming replica.
 *
 * The test makes a hot standby of the test cluster with `pg_basebackup -R` in a throwaway
 * directory on a port of its own (as the postgres user when run as root, like
 * scripts/common.sh), restarts the harness server with DATABASE_READ_URL pointing at it, and
 * proves, through what the answers contain rather than through timing:
 *   - without DATABASE_READ_URL nothing changes: writes carry no X-Desk-LSN;
 *   - a list read goes to the replica: with replay paused there, a request created since is
 *     missing from GET /v1/requests (the primary has it), the replica's pg_stat_activity
 *     shows the "deskd-read" connections and /metrics counts the read as target="replica";
 *   - read-your-writes: the same list with the X-Desk-LSN of that write contains it (the
 *     replica is behind: the primary answers); once replay resumes and catches up, the same
 *     token is served by the replica again;
 *   - a replica that is down: the list still answers 200 from the primary, counted as
 *     primary_replica_unreachable;
 *   - a malformed X-Desk-LSN is a 400 problem.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

#define METRICS_TOKEN "replica-test-metrics-token"

static char unit101[40], res_zw[40];
static char dir[64];      /* the replica's data directory (and socket directory) */
static char rep_url[512]; /* the replica's conninfo for the test database */
static int rep_port;
static int rep_running;

/* ---------------------------------------------------------------- the replica */

static const char *pg_bin(void)
{
    return th_env_or("PG_BIN", "/usr/lib/postgresql/15/bin");
}

/* Runs a shell command as PostgreSQL's user (postgres when we are root).  0 / -1. */
static int as_pg(const char *cmd)
{
    char full[2048];
    if (geteuid() == 0)
        snprintf(full, sizeof full, "runuser -u postgres -- sh -c '%s'", cmd);
    else
        snprintf(full, sizeof full, "sh -c '%s'", cmd);
    int rc = system(full);
    if (rc != 0)
        fprintf(stderr, "replica test: `%s` failed (%d)\n", full, rc);
    return rc == 0 ? 0 : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One value from the replica (static buffer), or NULL. */
static const char *rep_sql1(const char *sql)
{
    static char val[256];
    PGconn *c = PQconnectdb(rep_url);
    const char *out = NULL;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
            snprintf(val, sizeof val, "%s", PQgetvalue(r, 0, 0));
            out = val;
        } else {
            fprintf(stderr, "replica: %s: %s", sql, PQresultErrorMessage(r));
        }
        PQclear(r);
    } else {
        fprintf(stderr, "replica: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return out;
}

/* pg_basebackup -R of the test cluster into a new directory, started as a hot standby. */
static int replica_start(void)
{
    const char *base = th_env_or("DESK_TEST_PG", "host=/tmp port=5432 user=postgres");
    PQconninfoOption *opts = PQconninfoParse(base, NULL);
    char host[256] = "/tmp", port[16] = "5432";
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!strcmp(o->keyword, "host") && o->val)
            snprintf(host, sizeof host, "%s", o->val);
        if (!strcmp(o->keyword, "port") && o->val)
            snprintf(port, sizeof port, "%s", o->val);
    }
    PQconninfoFree(opts);
    snprintf(dir, sizeof dir, "/tmp/deskd-replica-XXXXXX");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "replica test: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(dir, pw->pw_uid, pw->pw_gid) != 0) {
            fprintf(stderr, "replica test: no postgres user to own %s\n", dir);
            return -1;
        }
    }
    chmod(dir, 0700);
    rep_port = th_free_port();
    char cmd[1536];
    snprintf(cmd, sizeof cmd,
             "%s/pg_basebackup -h %s -p %s -U postgres -D %s -R -X stream -c fast 2>%s.err",
             pg_bin(), host, port, dir, dir);
    if (as_pg(cmd) != 0)
        return -1;
    /* Its own socket and port (no TCP, like the primary), a small memory footprint. */
    char conf[128];
    snprintf(conf, sizeof conf, "%s/postgresql.conf", dir);
    FILE *f = fopen(conf, "a"); /* root may; else the file is ours */
    if (!f) {
        fprintf(stderr, "replica test: %s: %s\n", conf, strerror(errno));
        return -1;
    }
    fprintf(f,
            "port = %d\nunix_socket_directories = '%s'\nshared_buffers = 32MB\n"
            "hot_standby = on\n",
            rep_port, dir);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/pg_ctl -D %s -l %s/replica.log -w -t 120 start >/dev/null",
             pg_bin(), dir, dir);
    if (as_pg(cmd) != 0)
        return -1;
    rep_running = 1;
    snprintf(rep_url, sizeof rep_url, "host=%s port=%d user=postgres dbname=%s", dir, rep_port,
             strstr(th_dburl(), "dbname=") + 7);
    const char *rec = rep_sql1("SELECT pg_is_in_recovery()");
    if (!rec || strcmp(rec, "t") != 0) {
        fprintf(stderr, "replica test: the copy is not a standby\n");
        return -1;
    }
    return 0;
}

static void replica_stop(void)
{
    if (!rep_running)
        return;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/pg_ctl -D %s -m immediate -w stop >/dev/null", pg_bin(), dir);
    as_pg(cmd);
    rep_running = 0;
}

/* Waits (up to ~60 s) until the replica has replayed lsn. */
static int replica_caught_up(const char *lsn)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", lsn);
    for (int i = 0; i < 600; i++) {
        const char *v = rep_sql1(sql);
        if (v && !strcmp(v, "t"))
            return 1;
        sleep_ms(100);
    }
    return 0;
}

/* ---------------------------------------------------------------- fixtures */

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"DESK_METRICS_TOKEN=" METRICS_TOKEN, NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_unit("demo", "1-101", unit101) || th_fx_resident("demo", "张伟", res_zw))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    replica_stop();
    th_stop();
    if (dir[0] && !getenv("DESK_TEST_KEEP_DB")) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s %s.err", dir, dir);
        if (system(cmd) != 0)
            fprintf(stderr, "replica test: could not remove %s\n", dir);
    }
    return 0;
}

/* ---------------------------------------------------------------- helpers */

/* Creates a request; its id into id and the X-Desk-LSN of the answer into lsn ("" if none). */
static void create(const char *tag, char id[40], char lsn[32])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"inquiry\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"只读副本 %s\"}",
             unit101, res_zw, tag);
    th_resp_t *r = th_create_request_at(__LINE__, "agent", body, id);
    const char *h = th_header(r, "X-Desk-LSN");
    snprintf(lsn, 32, "%s", h ? h : "");
    th_free(r);
}

/* GET /v1/requests?limit=200 as agent (with X-Desk-LSN when lsn): 1 when id is listed. */
static int listed(const char *id, const char *lsn)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "X-Desk-LSN: %s", lsn ? lsn : "");
    const char *hs[] = {hdr, NULL};
    th_resp_t *r =
        th_req("GET", "/v1/requests?limit=200", th_token("agent"), NULL, lsn ? hs : NULL);
    if (r->status != 200)
        fail_msg("list: %ld %s", r->status, r->body);
    int found = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), id))
            found = 1;
    }
    th_free(r);
    return found;
}

/* deskd_db_reads_total{target="<target>"} from /metrics. */
static long reads(const char *target)
{
    const char *hs[] = {"Authorization: Bearer " METRICS_TOKEN, NULL};
    th_resp_t *r = th_req("GET", "/metrics", NULL, NULL, hs);
    if (r->status != 200)
        fail_msg("metrics: %ld %s", r->status, r->body);
    char key[96];
    snprintf(key, sizeof key, "deskd_db_reads_total{target=\"%s\"} ", target);
    const char *p = strstr(r->body, key);
    long n = p ? strtol(p + strlen(key), NULL, 10) : -1;
    th_free(r);
    if (n < 0)
        fail_msg("no %s in /metrics", key);
    return n;
}

/* ---------------------------------------------------------------- the test */

static void test_reads_on_replica_with_read_your_writes(void **state)
{
    (void)state;
    char a[40], b[40], lsn_a[32], lsn_b[32];

    /* Without DATABASE_READ_URL: as before, no token, reads on the primary. */
    create("无副本", a, lsn_a);
    assert_string_equal(lsn_a, "");
    assert_true(listed(a, NULL));

    assert_int_equal(replica_start(), 0);
    char env_url[600];
    snprintf(env_url, sizeof env_url, "DATABASE_READ_URL=%s", rep_url);
    const char *env[] = {env_url, "DESK_METRICS_TOKEN=" METRICS_TOKEN, "DESK_READ_POOL_SIZE=2",
                         NULL};
    assert_int_equal(th_restart(env), 0);

    /* A write answers with the primary's position; once the replica has it, the list read
     * goes to the replica and sees it. */
    create("追上", a, lsn_a);
    assert_true(lsn_a[0] != 0);
    assert_true(replica_caught_up(lsn_a));
    long on_replica = reads("replica");
    assert_true(listed(a, NULL));
    assert_int_equal(reads("replica"), on_replica + 1);
    const char *conns = rep_sql1("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                 "'deskd-read' AND datname = current_database()");
    assert_non_null(conns);
    assert_true(atoi(conns) >= 1);
    assert_string_equal(th_sql1("SELECT count(*) FROM pg_stat_activity WHERE application_name "
                                "= 'deskd-read'",
                                NULL, 0),
                        "0");

    /* Replay paused: a new request is on the primary only. */
    assert_non_null(rep_sql1("SELECT pg_wal_replay_pause()::text"));
    for (int i = 0; i < 100; i++) {
        const char *st = rep_sql1("SELECT pg_get_wal_replay_pause_state()");
        if (st && !strcmp(st, "paused"))
            break;
        sleep_ms(100);
    }
    assert_string_equal(rep_sql1("SELECT pg_get_wal_replay_pause_state()"), "paused");
    create("暂停", b, lsn_b);
    assert_true(lsn_b[0] != 0);

    /* A stale read (no token) is served by the replica: the new request is not there yet. */
    on_replica = reads("replica");
    assert_false(listed(b, NULL));
    assert_true(listed(a, NULL));
    assert_int_equal(reads("replica"), on_replica + 2);

    /* The writer's next read presents its token: the replica is behind, the primary answers. */
    long behind = reads("primary_replica_behind");
    assert_true(listed(b, lsn_b));
    assert_int_equal(reads("primary_replica_behind"), behind + 1);
    /* An older token the replica has replayed: the replica answers (and lacks b). */
    on_replica = reads("replica");
    assert_false(listed(b, lsn_a));
    assert_int_equal(reads("replica"), on_replica + 1);

    /* Replay resumes: with the token the replica answers once it has caught up. */
    assert_non_null(rep_sql1("SELECT pg_wal_replay_resume()::text"));
    assert_true(replica_caught_up(lsn_b));
    on_replica = reads("replica");
    assert_true(listed(b, lsn_b));
    assert_int_equal(reads("replica"), on_replica + 1);

    /* A malformed token is refused. */
    const char *bad[] = {"X-Desk-LSN: 0/xyz", NULL};
    th_resp_t *r = th_req("GET", "/v1/requests", th_token("agent"), NULL, bad);
    assert_true(th_is_problem(r, 400, "invalid_lsn"));
    th_free(r);

    /* The replica goes away: reads fall back to the primary (and are counted). */
    replica_stop();
    long fallback = reads("primary_replica_unreachable");
    assert_true(listed(b, NULL));
    assert_true(reads("primary_replica_unreachable") >= fallback + 1);
    /* Writes are unaffected. */
    char c[40], lsn_c[32];
    create("副本停机", c, lsn_c);
    assert_true(listed(c, lsn_c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_on_replica_with_read_your_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
