/*
 * tests/api/test_bootstrap.c — issue 13, onboarding a real company: `deskd --create-org`
 * (a new organisation usable at once: its admin logs in, opens a project that gets the
 * default SLA policies and calendar, makes an agent who registers a complaint with running
 * clocks), its idempotence and refusals, and the hosting operator's platform credential:
 * /v1/platform/organisations and --list-orgs / --deactivate-org / --activate-org, with a
 * deactivated organisation's users refused at login and on every token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/http.h"
#include "tests/lib/harness.h"

#define PLATFORM_TOKEN "platform-token-0123456789-abcdefghijklmnopqrstuvwxyz"
#define AUTH_PLATFORM  "Authorization: Bearer " PLATFORM_TOKEN

static const char *const server_env[] = {"DESK_PLATFORM_TOKEN=" PLATFORM_TOKEN, NULL};

static char org_id[40], admin_id[40];

typedef struct cli {
    int status;     /* exit status */
    char out[8192]; /* stdout */
    char err[4096]; /* stderr */
    cJSON *json;    /* stdout parsed */
} cli_t;

static void cli_free(cli_t *c)
{
    cJSON_Delete(c->json);
    free(c);
}

/* Runs deskd with args (a shell fragment) against the test database; stdin from `input`
 * (NULL: /dev/null, never a terminal). */
static cli_t *cli(const char *args, const char *input)
{
    cli_t *c = calloc(1, sizeof *c);
    char errf[] = "/tmp/deskd-bootstrap-err.XXXXXX", inf[] = "/tmp/deskd-bootstrap-in.XXXXXX";
    int efd = mkstemp(errf), ifd = mkstemp(inf);
    assert_true(efd >= 0 && ifd >= 0);
    if (input)
        assert_int_equal(write(ifd, input, strlen(input)), (ssize_t)strlen(input));
    close(efd);
    close(ifd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "env -u DESK_JWT_SECRET DATABASE_URL='%s' DESK_PBKDF2_ITER=20000 DESK_LOG_LEVEL=warn "
             "'%s' %s <%s 2>%s",
             th_dburl(), getenv("DESKD_BIN"), args, input ? inf : "/dev/null", errf);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(c->out, 1, sizeof c->out - 1, p);
    c->out[n] = 0;
    int st = pclose(p);
    c->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *e = fopen(errf, "r");
    if (e) {
        n = fread(c->err, 1, sizeof c->err - 1, e);
        c->err[n] = 0;
        fclose(e);
    }
    unlink(errf);
    unlink(inf);
    c->json = cJSON_Parse(c->out);
    return c;
}

static char *login_token(const char *user, const char *pass)
{
    th_resp_t *r = th_login_resp(user, pass);
    if (r->status != 200)
        fail_msg("login %s: %ld %s", user, r->status, r->body);
    char *t = strdup(th_str(r, "access_token"));
    th_free(r);
    return t;
}

static const char *sql1(const char *sql, const char *param)
{
    const char *v[] = {param};
    return th_sql1(sql, v, param ? 1 : 0);
}

/* ---------------------------------------------------------------- --create-org */

static void test_new_org_usable_at_once(void **state)
{
    (void)state;
    cli_t *c = cli("--create-org '青松物业管理有限公司' --admin qs.admin --admin-password-file -",
                   "qs-admin-pass-1\n");
    if (c->status != 0)
        fail_msg("create-org exited %d: %s", c->status, c->err);
    assert_non_null(c->json);
    assert_true(th_jtrue(c->json, "created"));
    snprintf(org_id, sizeof org_id, "%s", th_js(c->json, "organisation_id"));
    snprintf(admin_id, sizeof admin_id, "%s", th_js(c->json, "admin_user_id"));
    assert_true(http_is_uuid(org_id) && http_is_uuid(admin_id));
    assert_string_equal(th_js(c->json, "admin_username"), "qs.admin");
    assert_string_equal(th_js(c->json, "name"), "青松物业管理有限公司");
    /* A Chinese name has no letters for a code: one is made from its hash. */
    assert_true(!strncmp(th_js(c->json, "organisation_code"), "org-", 4));
    cli_free(c);
    /* The password is stored hashed, never as given. */
    assert_string_equal(sql1("SELECT (password_hash LIKE 'pbkdf2-sha256$%') AND password_hash NOT "
                             "LIKE '%qs-admin-pass-1%' FROM users WHERE id = $1",
                             admin_id),
                        "t");

    /* Its admin logs in and sees only its own, empty organisation. */
    th_resp_t *r = th_login_resp("qs.admin", "qs-admin-pass-1");
    assert_int_equal(r->status, 200);
    assert_string_equal(th_str(r, "organisation_id"), org_id);
    assert_string_equal(th_str(r, "role"), "admin");
    char *admin = strdup(th_str(r, "access_token"));
    th_free(r);
    r = th_req("GET", "/v1/projects", admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 0);
    th_free(r);

    /* A project: it gets the default SLA policies and calendar at once. */
    r = th_req("POST", "/v1/projects", admin,
               "{\"code\":\"QS1\",\"name\":\"青松苑\",\"time_zone\":\"Asia/Shanghai\"}", NULL);
    assert_int_equal(r->status, 201);
    char project[40], body[1024];
    snprintf(project, sizeof project, "%s", th_str(r, "id"));
    th_free(r);
    assert_true(atoi(sql1("SELECT count(*) FROM sla_policies WHERE project_id = $1", project)) > 0);
    assert_string_equal(sql1("SELECT count(*) FROM sla_calendars WHERE project_id = $1", project),
                        "1");

    /* An agent of that project, made by this admin, registers a complaint with SLA clocks. */
    snprintf(body, sizeof body,
             "{\"username\":\"qs.agent\",\"display_name\":\"青松坐席\",\"role\":\"agent\","
             "\"password\":\"qs-agent-pass-1\",\"project_ids\":[\"%s\"]}",
             project);
    r = th_req("POST", "/v1/users", admin, body, NULL);
    assert_int_equal(r->status, 201);
    th_free(r);
    char *agent = login_token("qs.agent", "qs-agent-pass-1");
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"category\":\"quality\","
             "\"project_id\":\"%s\",\"location\":{\"common_area\":\"1栋大堂\"},"
             "\"reporter\":{\"name\":\"王先生\",\"phone\":\"13700001111\"},"
             "\"description\":\"大堂地面积水无人处理\"}",
             project);
    r = th_req("POST", "/v1/requests", agent, body, NULL);
    if (r->status != 201)
        fail_msg("complaint: %ld %s", r->status, r->body);
    assert_string_equal(th_str(r, "state"), "received");
    assert_true(th_parse_utc(th_js(r->json, "sla.due.resolution")) > 0);
    assert_true(th_parse_utc(th_js(r->json, "sla.due.on_site")) > 0);
    th_free(r);
    /* The demo organisation's data stays invisible to the new one. */
    r = th_req("GET", "/v1/requests", agent, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 1);
    th_free(r);
    free(agent);
    free(admin);
}

static void test_create_org_is_idempotent_by_name(void **state)
{
    (void)state;
    /* No password this time: nothing is created, so none is asked for. */
    cli_t *c = cli("--create-org '青松物业管理有限公司' --admin QS.Admin", NULL);
    if (c->status != 0)
        fail_msg("second create-org exited %d: %s", c->status, c->err);
    assert_false(th_jtrue(c->json, "created"));
    assert_string_equal(th_js(c->json, "organisation_id"), org_id);
    assert_string_equal(th_js(c->json, "admin_user_id"), admin_id);
    cli_free(c);
    assert_string_equal(
        sql1("SELECT count(*) FROM organisations WHERE name = $1", "青松物业管理有限公司"), "1");
    assert_string_equal(
        sql1("SELECT count(*) FROM users WHERE org_id = $1 AND role = 'admin'", org_id), "1");
    /* The same organisation named with another admin: refused, nothing changes. */
    c = cli("--create-org '青松物业管理有限公司' --admin qs.boss --admin-password-file -",
            "qs-boss-pass-1\n");
    assert_int_equal(c->status, 1);
    assert_non_null(strstr(c->err, "already exists"));
    assert_non_null(strstr(c->err, "qs.admin"));
    cli_free(c);
    assert_string_equal(sql1("SELECT count(*) FROM users WHERE username = $1", "qs.boss"), "0");
}

static void test_duplicate_admin_name_refused(void **state)
{
    (void)state;
    /* "admin" is the demo organisation's: user names are global. */
    cli_t *c = cli("--create-org 'Harbour View Property' --admin ADMIN --admin-password-file -",
                   "harbour-pass-1\n");
    assert_int_equal(c->status, 1);
    assert_non_null(strstr(c->err, "already taken"));
    assert_string_equal(c->out, "");
    cli_free(c);
    assert_string_equal(
        sql1("SELECT count(*) FROM organisations WHERE name = $1", "Harbour View Property"), "0");
}

static void test_password_only_from_file_or_terminal(void **state)
{
    (void)state;
    /* No file and no terminal: refused with the way to give it. */
    cli_t *c = cli("--create-org 'Harbour View Property' --admin hv.admin", NULL);
    assert_int_equal(c->status, 1);
    assert_non_null(strstr(c->err, "--admin-password-file"));
    cli_free(c);
    /* Too short. */
    c = cli("--create-org 'Harbour View Property' --admin hv.admin --admin-password-file -",
            "short\n");
    assert_int_equal(c->status, 1);
    assert_non_null(strstr(c->err, "at least 8"));
    cli_free(c);
    /* There is no flag that takes the password itself. */
    c = cli("--create-org 'Harbour View Property' --admin hv.admin --admin-password hv-pass-123",
            NULL);
    assert_int_equal(c->status, 2);
    cli_free(c);
    assert_string_equal(
        sql1("SELECT count(*) FROM organisations WHERE name = $1", "Harbour View Property"), "0");
    /* A latin name gives its code; --org-code would set one. */
    c = cli("--create-org 'Harbour View Property' --admin hv.admin --admin-password-file -",
            "harbour-pass-1\n");
    assert_int_equal(c->status, 0);
    assert_string_equal(th_js(c->json, "organisation_code"), "harbour-view-property");
    cli_free(c);
    /* Without a name or an admin: usage. */
    c = cli("--create-org 'X Co'", NULL);
    assert_int_equal(c->status, 2);
    assert_non_null(strstr(c->err, "--admin"));
    cli_free(c);
}

/* ---------------------------------------------------------------- platform */

static void test_platform_credential(void **state)
{
    (void)state;
    th_resp_t *r = th_req("GET", "/v1/platform/organisations", NULL, NULL, NULL);
    assert_true(th_is_problem(r, 401, "missing_token"));
    th_free(r);
    /* No organisation's token opens it, an administrator's included. */
    r = th_req("GET", "/v1/platform/organisations", th_token("admin"), NULL, NULL);
    assert_true(th_is_problem(r, 401, "invalid_token"));
    th_free(r);
    const char *wrong[] = {"Authorization: Bearer " PLATFORM_TOKEN "x", NULL};
    r = th_req("GET", "/v1/platform/organisations", NULL, NULL, wrong);
    assert_true(th_is_problem(r, 401, "invalid_token"));
    th_free(r);
    char path[160];
    snprintf(path, sizeof path, "/v1/platform/organisations/%s/deactivate", org_id);
    r = th_req("POST", path, th_token("admin"), NULL, NULL);
    assert_true(th_is_problem(r, 401, "invalid_token"));
    th_free(r);

    const char *h[] = {AUTH_PLATFORM, NULL};
    r = th_req("GET", "/v1/platform/organisations?limit=200", NULL, NULL, h);
    assert_int_equal(r->status, 200);
    int seen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), org_id)) {
            seen++;
            assert_true(th_jtrue(it, "active"));
            assert_int_equal(th_jn(it, "projects"), 1);
            assert_int_equal(th_jn(it, "users"), 2);
        }
        if (!strcmp(th_js(it, "code"), "demo"))
            seen++;
    }
    assert_int_equal(seen, 2);
    th_free(r);
    r = th_req("GET", "/v1/platform/organisations?limit=1", NULL, NULL, h);
    assert_int_equal(r->status, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 1);
    assert_false(th_jnull(r->json, "next_cursor"));
    th_free(r);
    r = th_req("POST", "/v1/platform/organisations/00000000-0000-4000-8000-000000000000/deactivate",
               NULL, NULL, h);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
}

static void test_deactivated_org_refused(void **state)
{
    (void)state;
    const char *h[] = {AUTH_PLATFORM, NULL};
    th_resp_t *lr = th_login_resp("qs.agent", "qs-agent-pass-1");
    assert_int_equal(lr->status, 200);
    char *agent = strdup(th_str(lr, "access_token"));
    char refresh[256];
    snprintf(refresh, sizeof refresh, "{\"refresh_token\":\"%s\"}", th_str(lr, "refresh_token"));
    th_free(lr);

    char path[160];
    snprintf(path, sizeof path, "/v1/platform/organisations/%s/deactivate", org_id);
    th_resp_t *r = th_req("POST", path, NULL, NULL, h);
    assert_int_equal(r->status, 200);
    assert_false(th_jtrue(r->json, "active"));
    assert_true(th_parse_utc(th_js(r->json, "deactivated_at")) > 0);
    th_free(r);

    /* Tokens, logins and refreshes of that organisation: refused with a clear code. */
    r = th_req("GET", "/v1/me", agent, NULL, NULL);
    assert_true(th_is_problem(r, 403, "organisation_inactive"));
    th_free(r);
    r = th_login_resp("qs.admin", "qs-admin-pass-1");
    assert_true(th_is_problem(r, 403, "organisation_inactive"));
    th_free(r);
    r = th_login_resp("qs.admin", "wrong-password-1");
    assert_true(th_is_problem(r, 401, "invalid_credentials")); /* says nothing without it */
    th_free(r);
    r = th_req("POST", "/v1/auth/refresh", NULL, refresh, NULL);
    assert_int_equal(r->status, 401); /* its sessions were revoked with it */
    th_free(r);
    /* Other organisations carry on. */
    r = th_req("GET", "/v1/me", th_token("agent"), NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);

    /* Twice is the same; then on again and its users are back. */
    r = th_req("POST", path, NULL, NULL, h);
    assert_int_equal(r->status, 200);
    th_free(r);
    snprintf(path, sizeof path, "/v1/platform/organisations/%s/activate", org_id);
    r = th_req("POST", path, NULL, NULL, h);
    assert_int_equal(r->status, 200);
    assert_true(th_jtrue(r->json, "active"));
    assert_true(th_jnull(r->json, "deactivated_at"));
    th_free(r);
    r = th_req("GET", "/v1/me", agent, NULL, NULL);
    assert_int_equal(r->status, 200);
    th_free(r);
    free(agent);
    agent = login_token("qs.agent", "qs-agent-pass-1");
    free(agent);
}

/* Polls GET /v1/me with token until it answers want (other servers learn of a change made
 * elsewhere within PLATFORM_ORG_TTL_MS; a generous bound). */
static long wait_status(const char *token, long want)
{
    long got = 0;
    for (int i = 0; i < 300 && got != want; i++) {
        if (i)
            usleep(100000);
        th_resp_t *r = th_req("GET", "/v1/me", token, NULL, NULL);
        got = r->status;
        th_free(r);
    }
    return got;
}

static void test_cli_list_deactivate_activate(void **state)
{
    (void)state;
    char *agent = login_token("qs.agent", "qs-agent-pass-1");
    const char *code = sql1("SELECT code FROM organisations WHERE id = $1", org_id);
    assert_non_null(code);
    char args[256];
    snprintf(args, sizeof args, "--deactivate-org %s", code);
    cli_t *c = cli(args, NULL);
    if (c->status != 0)
        fail_msg("deactivate-org exited %d: %s", c->status, c->err);
    assert_string_equal(th_js(c->json, "id"), org_id);
    assert_false(th_jtrue(c->json, "active"));
    cli_free(c);
    /* The running server learns of it without a restart. */
    assert_int_equal(wait_status(agent, 403), 403);

    c = cli("--list-orgs", NULL);
    assert_int_equal(c->status, 0);
    int found = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(c->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), org_id)) {
            found = 1;
            assert_false(th_jtrue(it, "active"));
        }
    }
    assert_true(found);
    cli_free(c);

    snprintf(args, sizeof args, "--activate-org %s", org_id);
    c = cli(args, NULL);
    assert_int_equal(c->status, 0);
    assert_true(th_jtrue(c->json, "active"));
    cli_free(c);
    assert_int_equal(wait_status(agent, 200), 200);

    c = cli("--deactivate-org no-such-org", NULL);
    assert_int_equal(c->status, 1);
    assert_non_null(strstr(c->err, "no organisation"));
    cli_free(c);
    free(agent);
}

/* Last: a server without DESK_PLATFORM_TOKEN has the platform endpoints off. */
static void test_platform_off_without_token(void **state)
{
    (void)state;
    assert_int_equal(th_restart(NULL), 0);
    const char *h[] = {AUTH_PLATFORM, NULL};
    th_resp_t *r = th_req("GET", "/v1/platform/organisations", NULL, NULL, h);
    assert_true(th_is_problem(r, 403, "platform_disabled"));
    th_free(r);
    r = th_req("GET", "/v1/platform/organisations", NULL, NULL, NULL);
    assert_true(th_is_problem(r, 401, "missing_token"));
    th_free(r);
}

static int setup(void **state)
{
    (void)state;
    return th_start(server_env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_org_usable_at_once),
        cmocka_unit_test(test_create_org_is_idempotent_by_name),
        cmocka_unit_test(test_duplicate_admin_name_refused),
        cmocka_unit_test(test_password_only_from_file_or_terminal),
        cmocka_unit_test(test_platform_credential),
        cmocka_unit_test(test_deactivated_org_refused),
        cmocka_unit_test(test_cli_list_deactivate_activate),
        cmocka_unit_test(test_platform_off_without_token),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
