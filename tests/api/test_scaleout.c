/*
 * tests/api/test_scaleout.c — two deskd processes on one database behind nginx (the
 * production shape of docker-compose.yml) behave exactly as one:
 *   - idempotency: the same Idempotency-Key sent at once to both servers and through nginx
 *     makes one request; every answer is that request (one original, the rest replayed);
 *   - If-Match races: concurrent PATCHes of one version, spread over both servers and nginx:
 *     exactly one 200, the rest 412 (or 409), the version moves by one;
 *   - the sweeper: both servers sweep every 100 ms (and sweeps are triggered through nginx):
 *     every overdue request is escalated exactly once, with one timeline event and one
 *     notification per ladder recipient.
 * nginx is the Debian package (scripts/common.sh DEB_PACKAGES), run in the foreground with a
 * temporary configuration on free ports.  Without it the test FAILS: it is not skipped.
 * nginx's access log records the upstream of every proxied request: both servers must
 * have been used.
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
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

#define N_OVERDUE 40
#define N_RACERS  6

static char unit101[40], res_zw[40];
static int port_a, port_b, port_nginx;
static pid_t pid_b, pid_nginx;
static char ngdir[64];

/* ---------------------------------------------------------------- processes */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

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

/* Waits (up to ~20 s) for pid to listen on port; 0, or -1 when it exited or never did. */
static int wait_listening(pid_t pid, int port, const char *what)
{
    for (int i = 0; i < 400; i++) {
        if (port_open(port))
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "scaleout: %s exited during start-up (%d)\n", what,
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            return -1;
        }
        sleep_ms(50);
    }
    fprintf(stderr, "scaleout: %s does not listen on %d\n", what, port);
    return -1;
}

/* SIGTERM (SIGQUIT for nginx: graceful) and wait; the exit code, 128+signal if killed. */
static int stop_process(pid_t pid, int sig)
{
    kill(pid, sig);
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

static const char *const server_env[] = {"DESK_SWEEP_INTERVAL_MS=100", NULL};

static int start_nginx(void)
{
    const char *bin = th_env_or("NGINX_BIN", "/usr/sbin/nginx");
    if (access(bin, X_OK) != 0) {
        fprintf(stderr,
                "scaleout: FAIL: nginx is not installed (%s); install the Debian package nginx "
                "(scripts/common.sh DEB_PACKAGES)\n",
                bin);
        return -1;
    }
    snprintf(ngdir, sizeof ngdir, "/tmp/deskd-nginx-XXXXXX");
    if (!mkdtemp(ngdir))
        return -1;
    char conf[128];
    snprintf(conf, sizeof conf, "%s/nginx.conf", ngdir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    port_nginx = th_free_port();
    /* As root nginx would switch its workers to "nobody", who cannot write the temporary
     * directory: keep them as root (this is a throwaway test configuration). */
    fprintf(f,
            "%s"
            "daemon off;\n"
            "worker_processes 1;\n"
            "pid %s/nginx.pid;\n"
            "error_log %s/error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "  log_format up '$upstream_addr $status $request_method $uri';\n"
            "  access_log %s/access.log up;\n"
            "  client_body_temp_path %s/body;\n"
            "  proxy_temp_path %s/proxy;\n"
            "  fastcgi_temp_path %s/fastcgi;\n"
            "  uwsgi_temp_path %s/uwsgi;\n"
            "  scgi_temp_path %s/scgi;\n"
            "  upstream deskd {\n"
            "    server 127.0.0.1:%d;\n"
            "    server 127.0.0.1:%d;\n"
            "    keepalive 8;\n"
            "  }\n"
            "  server {\n"
            "    listen 127.0.0.1:%d;\n"
            "    location / {\n"
            "      proxy_pass http://deskd;\n"
            "      proxy_http_version 1.1;\n"
            "      proxy_set_header Connection \"\";\n"
            "      proxy_set_header X-Forwarded-For $remote_addr;\n"
            "      proxy_next_upstream off;\n"
            "    }\n"
            "  }\n"
            "}\n",
            geteuid() == 0 ? "user root;\n" : "", ngdir, ngdir, ngdir, ngdir, ngdir, ngdir, ngdir,
            ngdir, port_a, port_b, port_nginx);
    fclose(f);
    char errlog[128];
    snprintf(errlog, sizeof errlog, "%s/error.log", ngdir);
    pid_nginx = fork();
    if (pid_nginx == 0) {
        execl(bin, "nginx", "-p", ngdir, "-e", errlog, "-c", conf, (char *)NULL);
        _exit(127);
    }
    if (pid_nginx < 0 || wait_listening(pid_nginx, port_nginx, "nginx") != 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "cat %s >&2", errlog);
        if (system(cmd) != 0)
            fprintf(stderr, "scaleout: no nginx error log\n");
        pid_nginx = 0;
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- fixtures */

static int teardown(void **state);

static int setup_all(void)
{
    if (th_start(server_env) != 0)
        return -1;
    if (th_fx_unit("demo", "1-101", unit101) || th_fx_resident("demo", "张伟", res_zw))
        return -1;
    port_a = th_port();
    port_b = th_free_port();
    pid_b = fork();
    if (pid_b == 0)
        th_exec_deskd(th_dburl(), port_b, server_env);
    if (pid_b < 0 || wait_listening(pid_b, port_b, "the second deskd") != 0) {
        pid_b = 0;
        return -1;
    }
    if (start_nginx() != 0) {
        fprintf(stderr, "scaleout: FAIL: nginx could not be started in this environment\n");
        return -1;
    }
    return 0;
}

/* A failed set-up fails the whole test (cmocka runs no teardown then: stop what started). */
static int setup(void **state)
{
    if (setup_all() == 0)
        return 0;
    teardown(state);
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    if (pid_nginx > 0)
        stop_process(pid_nginx, SIGQUIT);
    if (pid_b > 0 && stop_process(pid_b, SIGTERM) != 0) {
        fprintf(stderr, "scaleout: the second deskd did not exit cleanly\n");
        bad = 1;
    }
    th_stop();
    if (ngdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", ngdir);
        if (system(cmd) != 0)
            fprintf(stderr, "scaleout: could not remove %s\n", ngdir);
    }
    return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- HTTP to a chosen port */

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
    char **s = u;
    size_t k = sz * nm, n = *s ? strlen(*s) : 0;
    char *p = realloc(*s, n + k + 1);
    if (!p)
        return 0;
    memcpy(p + n, d, k);
    p[n + k] = 0;
    *s = p;
    return k;
}

/* One request to 127.0.0.1:port on a connection of its own (thread-safe).  Never NULL. */
static th_resp_t *call(int port, const char *method, const char *path, const char *token,
                       const char *body, const char *header)
{
    th_resp_t *r = calloc(1, sizeof *r);
    CURL *h = curl_easy_init();
    char url[512], auth[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *hl = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth);
    }
    if (header)
        hl = curl_slist_append(hl, header);
    if (body)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    if (!r->body)
        r->body = strdup("");
    if (!r->headers)
        r->headers = strdup("");
    r->len = strlen(r->body);
    r->json = cJSON_Parse(r->body);
    return r;
}

/* The racer threads: each sends one request to its port once all are ready. */
typedef struct racer {
    int port;
    const char *method, *path, *token, *body;
    char header[128];
    pthread_barrier_t *bar;
    th_resp_t *resp;
} racer_t;

static void *racer_run(void *arg)
{
    racer_t *t = arg;
    pthread_barrier_wait(t->bar);
    t->resp = call(t->port, t->method, t->path, t->token, t->body, t->header);
    return NULL;
}

/* Runs N_RACERS at once, spread over server A, server B and nginx. */
static void race(racer_t *t)
{
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, N_RACERS);
    pthread_t th[N_RACERS];
    const int ports[] = {port_a, port_b, port_nginx};
    for (int i = 0; i < N_RACERS; i++) {
        t[i].port = ports[i % 3];
        t[i].bar = &bar;
        assert_int_equal(pthread_create(&th[i], NULL, racer_run, &t[i]), 0);
    }
    for (int i = 0; i < N_RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
}

static long sql_long(const char *sql)
{
    return th_sql_long(sql, NULL, 0);
}

/* ---------------------------------------------------------------- tests */

static void test_nginx_reaches_both_servers(void **state)
{
    (void)state;
    const char *tok = th_token("agent");
    assert_non_null(tok);
    for (int i = 0; i < 6; i++) {
        th_resp_t *r = call(port_nginx, "GET", "/v1/me", tok, NULL, NULL);
        assert_int_equal(r->status, 200);
        th_free(r);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/access.log", ngdir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512], a[32], b[32];
    snprintf(a, sizeof a, "127.0.0.1:%d ", port_a);
    snprintf(b, sizeof b, "127.0.0.1:%d ", port_b);
    int to_a = 0, to_b = 0;
    while (fgets(line, sizeof line, f)) {
        to_a += !strncmp(line, a, strlen(a));
        to_b += !strncmp(line, b, strlen(b));
    }
    fclose(f);
    if (to_a == 0 || to_b == 0)
        fail_msg("nginx used A %d times and B %d times", to_a, to_b);
}

static void test_idempotency_across_servers(void **state)
{
    (void)state;
    const char *tok = th_token("agent");
    for (int round = 0; round < 3; round++) {
        char body[512], key[96], desc[64];
        snprintf(desc, sizeof desc, "两台服务器幂等 %d-%d", (int)getpid(), round);
        snprintf(body, sizeof body,
                 "{\"type\":\"inquiry\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
                 "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"%s\"}",
                 unit101, res_zw, desc);
        snprintf(key, sizeof key, "Idempotency-Key: scaleout-%d-%d", (int)getpid(), round);
        racer_t t[N_RACERS];
        memset(t, 0, sizeof t);
        for (int i = 0; i < N_RACERS; i++) {
            t[i].method = "POST";
            t[i].path = "/v1/requests";
            t[i].token = tok;
            t[i].body = body;
            snprintf(t[i].header, sizeof t[i].header, "%s", key);
        }
        race(t);
        char id[40] = "";
        int originals = 0;
        for (int i = 0; i < N_RACERS; i++) {
            th_resp_t *r = t[i].resp;
            if (r->status != 201)
                fail_msg("round %d racer %d (port %d): %ld %s", round, i, t[i].port, r->status,
                         r->body);
            if (!id[0])
                snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
            assert_string_equal(th_js(r->json, "id"), id);
            const char *rep = th_header(r, "Idempotent-Replayed");
            originals += !(rep && !strcmp(rep, "true"));
            th_free(r);
        }
        assert_int_equal(originals, 1);
        const char *p[] = {desc};
        assert_int_equal(th_sql_long("SELECT count(*) FROM requests WHERE description = $1", p, 1),
                         1);
    }
}

static void test_if_match_race_across_servers(void **state)
{
    (void)state;
    const char *tok = th_token("agent");
    for (int round = 0; round < 3; round++) {
        char body[512], id[40];
        snprintf(body, sizeof body,
                 "{\"type\":\"inquiry\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
                 "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"两台服务器并发修改\"}",
                 unit101, res_zw);
        th_resp_t *c = call(port_nginx, "POST", "/v1/requests", tok, body, NULL);
        assert_int_equal(c->status, 201);
        snprintf(id, sizeof id, "%s", th_js(c->json, "id"));
        long version = th_jn(c->json, "version");
        th_free(c);
        char path[128], titles[N_RACERS][64];
        snprintf(path, sizeof path, "/v1/requests/%s", id);
        racer_t t[N_RACERS];
        memset(t, 0, sizeof t);
        for (int i = 0; i < N_RACERS; i++) {
            snprintf(titles[i], sizeof titles[i], "{\"title\":\"并发标题 %d\"}", i);
            t[i].method = "PATCH";
            t[i].path = path;
            t[i].token = tok;
            t[i].body = titles[i];
            snprintf(t[i].header, sizeof t[i].header, "If-Match: \"%ld\"", version);
        }
        race(t);
        int ok = 0, refused = 0;
        for (int i = 0; i < N_RACERS; i++) {
            th_resp_t *r = t[i].resp;
            if (r->status == 200) {
                ok++;
                assert_int_equal(th_jn(r->json, "version"), version + 1);
            } else if (r->status == 412 || r->status == 409) {
                refused++;
                assert_true(th_is_problem(r, r->status, NULL));
            } else {
                fail_msg("racer %d (port %d): %ld %s", i, t[i].port, r->status, r->body);
            }
            th_free(r);
        }
        assert_int_equal(ok, 1);
        assert_int_equal(refused, N_RACERS - 1);
        const char *p[] = {id};
        assert_int_equal(th_sql_long("SELECT version FROM requests WHERE id = $1", p, 1),
                         version + 1);
    }
}

static long escalations(void)
{
    return sql_long("SELECT count(*) FROM sla_alerts a JOIN requests r ON r.id = a.request_id "
                    "WHERE a.kind = 'escalation' AND r.description LIKE '两台服务器巡检%'");
}

static void test_two_sweepers_escalate_once(void **state)
{
    (void)state;
    /* N_OVERDUE inquiries two days and an hour old: each has missed its 2-day resolution. */
    time_t t0 = time(NULL) - 2 * 86400 - 3600;
    char at[40];
    th_iso_utc(t0, at);
    char *body = th_batch_body(N_OVERDUE, 0, "inquiry", "", unit101, res_zw, "两台服务器巡检 ", at);
    th_resp_t *r = call(port_nginx, "POST", "/v1/requests/batch", th_token("agent"), body, NULL);
    free(body);
    if (r->status != 200)
        fail_msg("batch: %ld %s", r->status, r->body);
    th_free(r);
    /* Both servers sweep every 100 ms; sweeps through nginx land on either as well. */
    long last = -1;
    int stable = 0;
    for (int i = 0; i < 600 && stable < 10; i++) {
        th_resp_t *s =
            call(port_nginx, "POST", "/v1/admin/sla/sweep", th_token("admin"), NULL, NULL);
        if (s->status != 200)
            fail_msg("sweep through nginx: %ld %s", s->status, s->body);
        th_free(s);
        long n = escalations();
        stable = n >= N_OVERDUE && n == last ? stable + 1 : 0;
        last = n;
        sleep_ms(100);
    }
    assert_int_equal(last, N_OVERDUE);
    /* Each request: one escalation (level 1, resolution), one timeline event, level 1. */
    assert_int_equal(sql_long("SELECT count(*) FROM requests r WHERE r.description LIKE "
                              "'两台服务器巡检%' AND r.escalation_level = 1 AND (SELECT count(*) "
                              "FROM sla_alerts a WHERE a.request_id = r.id AND a.kind = "
                              "'escalation' AND a.level = 1 AND a.target = 'resolution') = 1 AND "
                              "(SELECT count(*) FROM request_events e WHERE e.request_id = r.id "
                              "AND e.action = 'escalate') = 1"),
                     N_OVERDUE);
    /* One notification per recipient and escalation, never two. */
    assert_int_equal(sql_long("SELECT count(*) FROM (SELECT n.user_id, n.request_id FROM "
                              "notifications n JOIN requests r ON r.id = n.request_id WHERE "
                              "n.kind = 'sla_escalation' AND r.description LIKE '两台服务器巡检%' "
                              "GROUP BY 1, 2 HAVING count(*) > 1) d"),
                     0);
    assert_true(sql_long("SELECT count(*) FROM notifications n JOIN requests r ON r.id = "
                         "n.request_id WHERE n.kind = 'sla_escalation' AND r.description LIKE "
                         "'两台服务器巡检%'") >= N_OVERDUE);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_reaches_both_servers),
        cmocka_unit_test(test_idempotency_across_servers),
        cmocka_unit_test(test_if_match_race_across_servers),
        cmocka_unit_test(test_two_sweepers_escalate_once),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
