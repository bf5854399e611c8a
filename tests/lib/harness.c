/* tests/lib/harness.c — see harness.h. */
#include "tests/lib/harness.h"

#include "api/auth.h"
#include "db/db.h"
#include "db/demo.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dbname[64];
static char dburl[512];
static char admin_url[512];
static int port;
static pid_t server;
static PGconn *conn;
static CURL *curl;

static struct tok {
    char user[64];
    char *token;
} toks[64];
static int ntoks;

const char *th_env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

int th_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (struct sockaddr *)&a, sizeof a);
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    int p = ntohs(a.sin_port);
    close(s);
    return p;
}

int th_pg_exec(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "harness: cannot connect to %s: %s", conninfo, PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "harness: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int admin_exec(const char *sql)
{
    return th_pg_exec(admin_url, sql);
}

void th_exec_deskd(const char *db_url, int listen_port, const char *const *extra_env)
{
    const char *bin = getenv("DESKD_BIN");
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", listen_port);
    setenv("DATABASE_URL", db_url, 1);
    setenv("DESK_LISTEN", listen, 1);
    setenv("DESK_JWT_SECRET", "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz", 1);
    setenv("DESK_PII_KEY", "test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz", 1);
    setenv("DESK_PBKDF2_ITER", "20000", 1);
    setenv("DESK_THREADS", "16", 1);
    setenv("DESK_POOL_SIZE", "4", 1);
    setenv("DESK_LOG_LEVEL", th_env_or("DESK_TEST_LOG_LEVEL", "warn"), 1);
    for (const char *const *e = extra_env; e && *e; e++)
        putenv(strdup(*e));
    if (bin)
        execl(bin, bin, (char *)NULL);
    _exit(127);
}

static int spawn(const char *const *extra_env)
{
    const char *bin = getenv("DESKD_BIN");
    if (!bin) {
        fprintf(stderr, "harness: DESKD_BIN is not set\n");
        return -1;
    }
    port = th_free_port();
    server = fork();
    if (server == 0)
        th_exec_deskd(dburl, port, extra_env);
    char url[128];
    snprintf(url, sizeof url, "/healthz");
    for (int i = 0; i < 200; i++) {
        usleep(50000);
        int st;
        if (waitpid(server, &st, WNOHANG) == server) {
            fprintf(stderr, "harness: deskd exited during start-up\n");
            server = 0;
            return -1;
        }
        th_resp_t *r = th_req("GET", url, NULL, NULL, NULL);
        long s = r->status;
        th_free(r);
        if (s == 200)
            return 0;
    }
    fprintf(stderr, "harness: deskd did not become healthy\n");
    return -1;
}

int th_start(const char *const *extra_env)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    const char *base = th_env_or("DESK_TEST_PG", "host=/tmp port=5432 user=postgres");
    const char *tmpl = th_env_or("DESK_TEST_TEMPLATE", "desk_template");
    snprintf(dbname, sizeof dbname, "t_%d_%d", (int)getpid(), rand() % 100000);
    snprintf(admin_url, sizeof admin_url, "%s dbname=postgres", base);
    snprintf(dburl, sizeof dburl, "%s dbname=%s", base, dbname);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s", dbname, tmpl);
    if (admin_exec(sql) != 0)
        return -1;
    conn = PQconnectdb(dburl);
    if (PQstatus(conn) != CONNECTION_OK)
        return -1;
    /* A second organisation, for isolation tests. */
    db_pool_init(dburl, 1, 5000);
    db_conn_t *c = db_acquire();
    char hash[200];
    auth_password_hash(TH_PASS, 20000, hash, sizeof hash);
    int s = c ? db_demo_seed(c, "other", "其他物业公司", "other.", hash, NULL) : -1;
    db_release(c);
    db_pool_shutdown();
    if (s < 0)
        return -1;
    curl_global_init(CURL_GLOBAL_ALL);
    curl = curl_easy_init();
    return spawn(extra_env);
}

int th_restart(const char *const *extra_env)
{
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        server = 0;
    }
    return spawn(extra_env);
}

void th_stop(void)
{
    int code = 0;
    if (server > 0) {
        kill(server, SIGTERM);
        int st = 0;
        waitpid(server, &st, 0);
        code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (code != 0)
            fprintf(stderr, "harness: deskd exited with %d\n", code);
    }
    for (int i = 0; i < ntoks; i++)
        free(toks[i].token);
    ntoks = 0;
    if (conn)
        PQfinish(conn);
    conn = NULL;
    if (curl)
        curl_easy_cleanup(curl);
    curl = NULL;
    if (dbname[0] && !getenv("DESK_TEST_KEEP_DB")) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
        admin_exec(sql);
    }
    if (code != 0)
        exit(1); /* a server that crashed or leaked (ASan exit code) fails the test */
}

int th_group_start(void **state)
{
    (void)state;
    return th_start(NULL);
}

int th_group_stop(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

int th_port(void)
{
    return port;
}

const char *th_dburl(void)
{
    return dburl;
}

pid_t th_server_pid(void)
{
    return server;
}

typedef struct buf {
    char *p;
    size_t n;
} buf_t;

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
    buf_t *b = u;
    size_t k = sz * nm;
    char *np = realloc(b->p, b->n + k + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, d, k);
    b->n += k;
    b->p[b->n] = 0;
    return k;
}

/* One call on handle h (reset first). */
static th_resp_t *perform(CURL *h, const char *method, const char *path, const char *token,
                          const char *body, size_t len, const char *const *headers)
{
    th_resp_t *r = calloc(1, sizeof *r);
    curl_easy_reset(h);
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    buf_t b = {0}, hd = {0};
    struct curl_slist *hl = NULL;
    char auth[16600];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth);
    }
    int has_ct = 0;
    for (const char *const *x = headers; x && *x; x++) {
        hl = curl_slist_append(hl, *x);
        if (!strncasecmp(*x, "Content-Type:", 13))
            has_ct = 1;
    }
    if (body && !has_ct)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    r->body = b.p ? b.p : strdup("");
    r->len = b.n;
    r->headers = hd.p ? hd.p : strdup("");
    r->json = cJSON_Parse(r->body);
    return r;
}

th_resp_t *th_req_raw(const char *method, const char *path, const char *token, const char *body,
                      size_t len, const char *const *headers)
{
    if (!curl) {
        curl_global_init(CURL_GLOBAL_ALL);
        curl = curl_easy_init();
    }
    return perform(curl, method, path, token, body, len, headers);
}

th_resp_t *th_req_mt(const char *method, const char *path, const char *token, const char *body,
                     const char *const *headers)
{
    CURL *h = curl_easy_init();
    th_resp_t *r = perform(h, method, path, token, body, body ? strlen(body) : 0, headers);
    curl_easy_cleanup(h);
    return r;
}

th_resp_t *th_req(const char *method, const char *path, const char *token, const char *body,
                  const char *const *headers)
{
    return th_req_raw(method, path, token, body, body ? strlen(body) : 0, headers);
}

void th_free(th_resp_t *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->headers);
    cJSON_Delete(r->json);
    free(r);
}

const char *th_header(const th_resp_t *r, const char *name)
{
    static __thread char val[1024];
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if (!strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t l = (size_t)(eol - v) < sizeof val - 1 ? (size_t)(eol - v) : sizeof val - 1;
            memcpy(val, v, l);
            val[l] = 0;
            return val;
        }
        p = eol + 2;
    }
    return NULL;
}

th_resp_t *th_post_im(const char *path, const char *who, const char *body)
{
    char get[256], im[96];
    snprintf(get, sizeof get, "%.*s", (int)(strrchr(path, '/') - path), path);
    th_resp_t *g = th_req("GET", get, th_token(who), NULL, NULL);
    const char *e = th_header(g, "ETag");
    snprintf(im, sizeof im, "If-Match: %s", e ? e : "\"0\"");
    th_free(g);
    const char *const h[] = {im, NULL};
    return th_req("POST", path, th_token(who), body, h);
}

th_resp_t *th_login_resp(const char *username, const char *password)
{
    char body[512];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", username, password);
    return th_req("POST", "/v1/auth/login", NULL, body, NULL);
}

char *th_login(const char *username, const char *password)
{
    th_resp_t *r = th_login_resp(username, password);
    char *t = NULL;
    if (r->status == 200 && r->json) {
        const cJSON *a = cJSON_GetObjectItem(r->json, "access_token");
        if (cJSON_IsString(a))
            t = strdup(a->valuestring);
    } else {
        fprintf(stderr, "harness: login %s -> %ld %s\n", username, r->status, r->body);
    }
    th_free(r);
    return t;
}

const char *th_token(const char *username)
{
    for (int i = 0; i < ntoks; i++)
        if (!strcmp(toks[i].user, username))
            return toks[i].token;
    if (ntoks >= 64)
        return NULL;
    char *t = th_login(username, TH_PASS);
    if (!t)
        return NULL;
    snprintf(toks[ntoks].user, sizeof toks[ntoks].user, "%s", username);
    toks[ntoks].token = t;
    ntoks++;
    return t;
}

PGconn *th_db(void)
{
    return conn;
}

int th_pg_ok(PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    int good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!good)
        fprintf(stderr, "SQL failed: %s\n", PQresultErrorMessage(r));
    PQclear(r);
    return good;
}

const char *th_sql1(const char *sql, const char *const *params, int nparams)
{
    static char val[4096];
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    const char *out = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        snprintf(val, sizeof val, "%s", PQgetvalue(r, 0, 0));
        out = val;
    } else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "harness sql: %s", PQresultErrorMessage(r));
    }
    PQclear(r);
    return out;
}

const char *th_str(const th_resp_t *r, const char *name)
{
    const cJSON *v = r->json ? cJSON_GetObjectItem(r->json, name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : "";
}

int th_is_problem(const th_resp_t *r, long status, const char *code)
{
    const char *ct = th_header(r, "Content-Type");
    if (r->status != status || !ct || strncmp(ct, "application/problem+json", 24) != 0) {
        fprintf(stderr, "expected problem %ld %s, got %ld %s\n", status, code ? code : "",
                r->status, r->body);
        return 0;
    }
    if (code && strcmp(th_str(r, "code"), code) != 0) {
        fprintf(stderr, "expected code %s, got %s\n", code, r->body);
        return 0;
    }
    return th_str(r, "detail")[0] != 0;
}

/* ---------------------------------------------------------------- helpers for assertions */

int th_grab(char *dst, const char *sql)
{
    const char *v = th_sql1(sql, NULL, 0);
    if (!v) {
        fprintf(stderr, "setup: no row for %s\n", sql);
        return -1;
    }
    snprintf(dst, 40, "%s", v);
    return 0;
}

const cJSON *th_jpath(const cJSON *j, const char *path)
{
    char buf[128], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = j;
    for (char *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, t) : NULL;
    return cur;
}

const char *th_js(const cJSON *j, const char *path)
{
    const cJSON *v = th_jpath(j, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

long th_jn(const cJSON *j, const char *path)
{
    const cJSON *v = th_jpath(j, path);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : -9999;
}

int th_jnull(const cJSON *j, const char *path)
{
    const cJSON *v = th_jpath(j, path);
    return !v || cJSON_IsNull(v);
}

int th_jtrue(const cJSON *j, const char *path)
{
    return cJSON_IsTrue(th_jpath(j, path));
}

void th_iso_utc(time_t t, char out[40])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t th_parse_utc(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || !*s)
        return -1;
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    while (*end == '.' || (*end >= '0' && *end <= '9'))
        end++;
    if (strcmp(end, "Z") != 0)
        return -1;
    return timegm(&tm);
}
