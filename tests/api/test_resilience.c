/*
 * "A PostgreSQL fast restart that takes under a second is seen by clients as latency, not
 * as errors, with nothing lost" (issue 7, item 7).  The test runs its own PostgreSQL
 * cluster (initdb in a temporary folder: restarting the shared test cluster would break
 * the tests running beside it), starts deskd against it, has four clients create requests
 * as fast as they can, restarts PostgreSQL with `pg_ctl restart -m fast` in the middle of
 * it, and checks that no client saw an error and that every acknowledged request (201)
 * is in the database afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/harness.h"

#define DEMO     "(SELECT id FROM organisations WHERE code = 'demo')"
#define NCLIENTS 4
#define MAX_IDS  200000

static char pgbin[512], data[256], conninfo[512], unit101[40];
static int pgport;
static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};

/* Runs a command line (already quoted) as PostgreSQL's user: ourselves, or postgres when
 * we are root.  Returns the exit status. */
static int as_pg(const char *fmt, ...)
{
    char cmd[2048], line[2200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s%s", getuid() == 0 ? "runuser -u postgres -- " : "", cmd);
    int st = system(line);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int find_pg_bin(void)
{
    const char *b = getenv("PG_BIN");
    if (b && *b) {
        snprintf(pgbin, sizeof pgbin, "%s", b);
        return 0;
    }
    glob_t g;
    if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) != 0 || g.gl_pathc == 0)
        return -1;
    snprintf(pgbin, sizeof pgbin, "%s", g.gl_pathv[g.gl_pathc - 1]);
    globfree(&g);
    *strrchr(pgbin, '/') = 0;
    return 0;
}

/* The template database the harness clones: schema and demo data, made by deskd itself. */
static int make_template(void)
{
    char url[600];
    snprintf(url, sizeof url, "%s dbname=postgres", conninfo);
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, "CREATE DATABASE desk_template");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(c);
    if (!ok)
        return -1;
    pid_t p = fork();
    if (p == 0) {
        snprintf(url, sizeof url, "%s dbname=desk_template", conninfo);
        setenv("DATABASE_URL", url, 1);
        setenv("DESK_PBKDF2_ITER", "20000", 1);
        setenv("DESK_JWT_SECRET", "template-secret-0123456789abcdefghijklmnop", 1);
        setenv("DESK_LOG_LEVEL", "warn", 1);
        const char *bin = getenv("DESKD_BIN");
        execl(bin, bin, "--migrate", "--seed-demo", "--no-serve", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    if (find_pg_bin() != 0) {
        fprintf(stderr, "no PostgreSQL server binaries (set PG_BIN)\n");
        return -1;
    }
    snprintf(data, sizeof data, "/tmp/desk_resilience_XXXXXX");
    if (!mkdtemp(data))
        return -1;
    if (getuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(data, pw->pw_uid, pw->pw_gid) != 0)
            return -1;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    pgport = 20000 + rand() % 20000;
    if (as_pg("%s/initdb -D %s -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null", pgbin,
              data) != 0)
        return -1;
    char conf[300];
    snprintf(conf, sizeof conf, "%s/postgresql.conf", data);
    FILE *f = fopen(conf, "a"); /* root may write the postgres user's file too */
    if (!f)
        return -1;
    fprintf(f,
            "listen_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\n"
            "max_connections = 40\n",
            data);
    fclose(f);
    if (as_pg("%s/pg_ctl -D %s -o '-p %d' -l %s/server.log -w -t 60 start >/dev/null", pgbin, data,
              pgport, data) != 0)
        return -1;
    snprintf(conninfo, sizeof conninfo, "host=%s port=%d user=postgres", data, pgport);
    if (make_template() != 0)
        return -1;
    setenv("DESK_TEST_PG", conninfo, 1);
    setenv("DESK_TEST_TEMPLATE", "desk_template", 1);
    if (th_start(env) != 0)
        return -1;
    return th_grab(unit101, "SELECT id FROM units WHERE code = '1-101' AND org_id = " DEMO);
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    as_pg("%s/pg_ctl -D %s -m immediate -w stop >/dev/null 2>&1", pgbin, data);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", data);
    return system(cmd) == 0 ? 0 : -1;
}

static struct {
    pthread_mutex_t mu;
    char (*ids)[40];
    int n;
    int errors;
    long first_error;
    char first_body[300];
    int after_restart; /* creates acknowledged after the restart finished */
} got = {.mu = PTHREAD_MUTEX_INITIALIZER};

static volatile int stop, restarted;

static void *client(void *arg)
{
    const char *token = arg;
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"name\":\"周女士\",\"phone\":\"13900005555\"},"
             "\"description\":\"重启测试：楼道灯不亮\"}",
             unit101);
    while (!stop) {
        th_resp_t *r = th_req_mt("POST", "/v1/requests", token, body, NULL);
        pthread_mutex_lock(&got.mu);
        if (r->status == 201 && got.n < MAX_IDS) {
            snprintf(got.ids[got.n++], 40, "%s", th_str(r, "id"));
            if (restarted)
                got.after_restart++;
        } else if (r->status != 201) {
            if (!got.errors++) {
                got.first_error = r->status;
                snprintf(got.first_body, sizeof got.first_body, "%s", r->body ? r->body : "");
            }
        }
        pthread_mutex_unlock(&got.mu);
        th_free(r);
    }
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_fast_restart_is_latency_not_errors(void **state)
{
    (void)state;
    got.ids = calloc(MAX_IDS, 40);
    assert_non_null(got.ids);
    const char *token = th_token("agent");
    assert_non_null(token);
    pthread_t th[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, client, (void *)token), 0);
    /* Load going (at least 20 creates, however slow the machine), then the restart. */
    for (int waited = 0; waited < 10000; waited += 20) {
        pthread_mutex_lock(&got.mu);
        int n = got.n;
        pthread_mutex_unlock(&got.mu);
        if (n >= 20)
            break;
        sleep_ms(20);
    }
    sleep_ms(300);
    double t0 = now_s();
    int rc = as_pg("%s/pg_ctl -D %s -m fast -w -t 60 -o '-p %d' -l %s/server.log restart "
                   ">/dev/null",
                   pgbin, data, pgport, data);
    double took = now_s() - t0;
    restarted = 1;
    assert_int_equal(rc, 0);
    /* Writes go on after it. */
    for (int waited = 0; waited < 10000; waited += 20) {
        pthread_mutex_lock(&got.mu);
        int n = got.after_restart;
        pthread_mutex_unlock(&got.mu);
        if (n >= 20)
            break;
        sleep_ms(20);
    }
    stop = 1;
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "restart took %.2f s; %d creates acknowledged (%d after it), %d errors\n", took,
            got.n, got.after_restart, got.errors);
    if (got.errors)
        fail_msg("%d clients saw an error during a %.2f s restart; first: %ld %s", got.errors, took,
                 got.first_error, got.first_body);
    assert_true(got.after_restart >= 20);

    /* Every acknowledged create is in the database. */
    size_t len = (size_t)got.n * 39 + 3;
    char *arr = malloc(len), *p = arr;
    assert_non_null(arr);
    *p++ = '{';
    for (int i = 0; i < got.n; i++)
        p += sprintf(p, "%s%s", i ? "," : "", got.ids[i]);
    *p++ = '}';
    *p = 0;
    PGconn *c = PQconnectdb(th_dburl());
    const char *v[] = {arr};
    PGresult *r = PQexecParams(c, "SELECT count(*) FROM requests WHERE id = ANY($1::uuid[])", 1,
                               NULL, v, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(atoi(PQgetvalue(r, 0, 0)), got.n);
    PQclear(r);
    PQfinish(c);
    free(arr);
    free(got.ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_restart_is_latency_not_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
