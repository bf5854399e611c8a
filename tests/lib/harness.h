/*
 * tests/lib/harness.h — end-to-end test support: a fresh database cloned from the
 * template the test script built, the real deskd binary started against it on a free
 * port, and a libcurl client.  Used by every tests/api and tests/db test.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define TH_PASS "demo-pass-2026"

typedef struct th_resp {
    long status;
    char *body;
    size_t len;
    char *headers;
    cJSON *json; /* parsed body when it is JSON, else NULL */
} th_resp_t;

/* Creates the test database (and a second organisation "other" with users "other.<role>")
 * and starts deskd.  extra_env: NULL or a NULL-terminated list of "NAME=value".  0 / -1. */
int th_start(const char *const *extra_env);
/* Stops deskd (SIGTERM) and drops the database. */
void th_stop(void);
/* Restarts only the server process (same database). */
int th_restart(const char *const *extra_env);
/* th_start(NULL) / th_stop() as cmocka group set-up and tear-down. */
int th_group_start(void **state);
int th_group_stop(void **state);
int th_port(void);
const char *th_dburl(void);
pid_t th_server_pid(void);

/* Sends a request.  token may be NULL; body may be NULL; headers: NULL or
 * NULL-terminated "Name: value" strings.  Never NULL; free with th_free. */
th_resp_t *th_req(const char *method, const char *path, const char *token, const char *body,
                  const char *const *headers);
/* Same with a raw body of given length and content type (for binary/invalid input). */
th_resp_t *th_req_raw(const char *method, const char *path, const char *token, const char *body,
                      size_t len, const char *const *headers);
/* th_req on its own connection, for calls from several threads at once (th_req shares one
 * handle).  A status of 0 means the server could not be reached.  Call th_req (or th_token)
 * once before starting threads: it initialises libcurl. */
th_resp_t *th_req_mt(const char *method, const char *path, const char *token, const char *body,
                     const char *const *headers);
void th_free(th_resp_t *r);
/* Value of a response header (static buffer per call), or NULL. */
const char *th_header(const th_resp_t *r, const char *name);
/* POST path as user `who` with the If-Match of a fresh GET of its resource (path minus its
 * last segment: /v1/handovers/{id}/submit reads /v1/handovers/{id}); the duty API refuses
 * such actions without one (428). */
th_resp_t *th_post_im(const char *path, const char *who, const char *body);

/* POST /v1/auth/login with these credentials; the answer as it came. */
th_resp_t *th_login_resp(const char *username, const char *password);
/* Logs in and returns the access token (malloc'd; NULL on failure). */
char *th_login(const char *username, const char *password);
/* A token for a role of the demo org ("agent") or of the other org ("other.agent"). */
const char *th_token(const char *username);

/* Process and database plumbing, for tests that run more servers or databases of their own:
 * an environment variable or a default when unset or empty; a free TCP port on 127.0.0.1;
 * one statement on its own connection (0 / -1 with a message); and, in a forked child,
 * exec of $DESKD_BIN against db_url on listen_port with the harness's settings, then
 * extra_env (which overrides them) — never returns. */
const char *th_env_or(const char *name, const char *def);
int th_free_port(void);
int th_pg_exec(const char *conninfo, const char *sql);
void th_exec_deskd(const char *db_url, int listen_port, const char *const *extra_env);

/* A direct connection to the test database for assertions. */
PGconn *th_db(void);
/* 1 when r is COMMAND_OK or TUPLES_OK, else 0 with the server's message on stderr; clears r
 * either way (setup SQL run through th_db()). */
int th_pg_ok(PGresult *r);
/* Runs SQL returning one value as text (static buffer), or NULL. */
const char *th_sql1(const char *sql, const char *const *params, int nparams);
/* Convenience: string member of the response JSON, "" when absent. */
const char *th_str(const th_resp_t *r, const char *name);
/* Checks the response is problem+json with the given status (and code when non-NULL). */
int th_is_problem(const th_resp_t *r, long status, const char *code);
/* Copies the one value `sql` returns into dst (40 bytes); -1 with a message when none. */
int th_grab(char *dst, const char *sql);

/* JSON by dotted path ("sla.due.resolution"): the node (NULL when absent), a string ("" when
 * absent or not a string), a number (-9999 when absent), absent-or-null, true. */
const cJSON *th_jpath(const cJSON *j, const char *path);
const char *th_js(const cJSON *j, const char *path);
long th_jn(const cJSON *j, const char *path);
int th_jnull(const cJSON *j, const char *path);
int th_jtrue(const cJSON *j, const char *path);

/* RFC 3339 UTC ("2026-11-23T08:00:00Z") of t, and back (fractions allowed; -1 when not …Z). */
void th_iso_utc(time_t t, char out[40]);
time_t th_parse_utc(const char *s);

#endif
