/*
 * tests/api/test_audit.c — the audit log end to end (RULES §3.13): a request's creation,
 * PATCH and action each leave an audit row with the actor (user, role, X-Request-Id, client
 * address) and the diff (phones masked); refused and accepted logins are recorded; the
 * auditor reads, an agent may not, another organisation sees nothing of ours; UPDATE,
 * DELETE and TRUNCATE are refused even for the owner and the service role lacks them; a row
 * changed behind the triggers' back (session_replication_role = replica) is named by
 * verify, as are rows cut off the end of a chain; rows are sealed asynchronously (a chain
 * held by another sealer is skipped, its rows counted as pending); daily heads; the
 * retention report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char proj[40], agent_id[40], clerk_id[40], demo_org[40], other_org[40], req_id[40];

static int setup(void **state)
{
    if (th_group_start(state) || th_fx_project("demo", proj) || th_fx_user("agent", agent_id) ||
        th_fx_user("clerk", clerk_id))
        return -1;
    if (th_grab(demo_org, "SELECT id FROM organisations WHERE code = 'demo'") ||
        th_grab(other_org, "SELECT id FROM organisations WHERE code = 'other'"))
        return -1;
    return 0;
}

static th_resp_t *get(const char *user, const char *path)
{
    return th_req("GET", path, th_token(user), NULL, NULL);
}

/* Seals every committed audit row now, as deskd's sealer does every second.  A round of that
 * sealer may hold a chain at the moment (ours then skips it): called again until no row is
 * left unsealed (the bound is for liveness only, far above a second). */
static void seal_all(void)
{
    for (int i = 0; i < 2000; i++) {
        const char *n = th_sql1("SELECT audit_seal_pending(100000)", NULL, 0);
        assert_non_null(n);
        if (!strcmp(th_sql1("SELECT count(*) FROM audit_log a WHERE NOT EXISTS "
                            "(SELECT 1 FROM audit_seals s WHERE s.id = a.id)",
                            NULL, 0),
                    "0"))
            return;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("audit rows still unsealed after 20 s");
}

/* The audit rows of one resource, newest first, as the auditor reads them. */
static th_resp_t *rows_of(const char *type, const char *id)
{
    char path[200];
    snprintf(path, sizeof path, "/v1/audit?resource_type=%s&resource_id=%s", type, id);
    seal_all();
    th_resp_t *r = get("auditor", path);
    EXPECT_STATUS(r, 200);
    return r;
}

/* The row of `items` whose actor.request_id is rid and whose diff has `path` (NULL: any). */
static const cJSON *by_request_id_with(const th_resp_t *r, const char *rid, const char *path)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        const char *q = th_js(it, "actor.request_id");
        if (q && !strcmp(q, rid) && (!path || th_jpath(it, path)))
            return it;
    }
    fail_msg("no audit row with request id %s in %s", rid, r->body);
    return NULL;
}

static const cJSON *by_request_id(const th_resp_t *r, const char *rid)
{
    return by_request_id_with(r, rid, NULL);
}

static void check_actor(const cJSON *row, const char *user, const char *role)
{
    assert_string_equal(th_js(row, "actor.user_id"), user);
    assert_string_equal(th_js(row, "actor.role"), role);
    assert_string_equal(th_js(row, "actor.client_address"), "127.0.0.1");
    assert_string_equal(th_js(row, "organisation_id"), demo_org);
    assert_string_equal(th_js(row, "result"), "success");
    assert_int_equal(strlen(th_js(row, "hash")), 64);
    assert_true(th_jn(row, "seq") > 0);
}

static void test_request_writes_are_audited(void **state)
{
    (void)state;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"general\","
             "\"project_id\":\"%s\",\"location\":{\"common_area\":\"1栋大堂\"},"
             "\"reporter\":{\"name\":\"王芳\",\"phone\":\"13700001111\"},"
             "\"description\":\"大堂地面积水无人清理\"}",
             proj);
    const char *h1[] = {"X-Request-Id: audit-create-1", NULL};
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, h1);
    EXPECT_STATUS(r, 201);
    snprintf(req_id, sizeof req_id, "%s", th_js(r->json, "id"));
    th_free(r);

    const char *h2[] = {"X-Request-Id: audit-patch-1", "If-Match: \"1\"", NULL};
    char path[200];
    snprintf(path, sizeof path, "/v1/requests/%s", req_id);
    r = th_req("PATCH", path, th_token("agent"), "{\"validity\":\"valid\"}", h2);
    EXPECT_STATUS(r, 200);
    th_free(r);

    const char *h3[] = {"X-Request-Id: audit-act-1", "If-Match: \"2\"", NULL};
    snprintf(path, sizeof path, "/v1/requests/%s/actions/resolve", req_id);
    r = th_req("POST", path, th_token("agent"), "{\"resolution\":\"已安排保洁清理并致歉\"}", h3);
    EXPECT_STATUS(r, 200);
    th_free(r);

    r = rows_of("request", req_id);
    /* One row per changed row version: the create, the PATCH, and the action's updates (the
     * resolve sets the state, then the callback deadline). */
    assert_true(cJSON_GetArraySize(th_jpath(r->json, "items")) >= 3);
    /* The phone is masked in every row; the full number appears nowhere. */
    assert_null(strstr(r->body, "13700001111"));

    const cJSON *c = by_request_id(r, "audit-create-1");
    check_actor(c, agent_id, "agent");
    assert_string_equal(th_js(c, "action"), "request.create");
    assert_string_equal(th_js(c, "resource_id"), req_id);
    assert_string_equal(th_js(c, "diff.after.reporter_phone"), "137****1111");
    assert_string_equal(th_js(c, "diff.after.type"), "complaint");
    assert_null(th_jpath(c, "diff.after.search_terms"));

    const cJSON *p = by_request_id(r, "audit-patch-1");
    check_actor(p, agent_id, "agent");
    assert_string_equal(th_js(p, "action"), "request.update");
    assert_string_equal(th_js(p, "diff.after.validity"), "valid");
    assert_non_null(th_jpath(p, "diff.before.validity"));
    assert_null(th_jpath(p, "diff.after.version")); /* bookkeeping is left out */
    assert_null(th_jpath(p, "diff.after.title"));   /* unchanged columns are left out */

    const cJSON *a = by_request_id_with(r, "audit-act-1", "diff.after.state");
    check_actor(a, agent_id, "agent");
    assert_string_equal(th_js(a, "diff.after.state"), "resolved");
    assert_string_equal(th_js(a, "diff.before.state"), "received");
    /* Newest first, and the chain follows the order of the writes. */
    const cJSON *items = th_jpath(r->json, "items");
    assert_true(th_jn(a, "seq") > th_jn(p, "seq") && th_jn(p, "seq") > th_jn(c, "seq"));
    assert_true(th_jn(cJSON_GetArrayItem(items, 0), "id") >
                th_jn(cJSON_GetArrayItem(items, 1), "id"));
    th_free(r);
}

static void test_logins_are_audited(void **state)
{
    (void)state;
    const char *h[] = {"X-Request-Id: audit-login-bad", NULL};
    th_resp_t *r = th_req("POST", "/v1/auth/login", NULL,
                          "{\"username\":\"clerk\",\"password\":\"not-the-password-42\"}", h);
    EXPECT_PROBLEM(r, 401, "invalid_credentials");
    const char *h2[] = {"X-Request-Id: audit-login-good", NULL};
    char body[200];
    snprintf(body, sizeof body, "{\"username\":\"clerk\",\"password\":\"%s\"}", TH_PASS);
    r = th_req("POST", "/v1/auth/login", NULL, body, h2);
    EXPECT_STATUS(r, 200);
    th_free(r);

    r = rows_of("session", clerk_id);
    assert_null(strstr(r->body, "not-the-password-42"));
    assert_null(strstr(r->body, TH_PASS));
    const cJSON *bad = by_request_id(r, "audit-login-bad");
    assert_string_equal(th_js(bad, "action"), "auth.login");
    assert_string_equal(th_js(bad, "result"), "failure");
    assert_string_equal(th_js(bad, "actor.user_id"), clerk_id);
    assert_string_equal(th_js(bad, "actor.client_address"), "127.0.0.1");
    assert_string_equal(th_js(bad, "diff.reason"), "wrong_password");
    const cJSON *good = by_request_id(r, "audit-login-good");
    assert_string_equal(th_js(good, "action"), "auth.login");
    assert_string_equal(th_js(good, "result"), "success");
    assert_string_equal(th_js(good, "actor.role"), "clerk");
    th_free(r);

    /* A refused refresh of a token already used (a replay) revokes its family: audited. */
    r = th_login_resp("clerk", TH_PASS);
    EXPECT_STATUS(r, 200);
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", th_js(r->json, "refresh_token"));
    th_free(r);
    r = th_req("POST", "/v1/auth/refresh", NULL, body, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    EXPECT_PROBLEM(th_req("POST", "/v1/auth/refresh", NULL, body, NULL), 401,
                   "invalid_refresh_token");
    r = get("auditor", "/v1/audit?action=auth.refresh&limit=1");
    EXPECT_STATUS(r, 200);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "items"), 0), "result"),
                        "success");
    th_free(r);
    r = get("auditor", "/v1/audit?action=auth.token_revoked&limit=1");
    EXPECT_STATUS(r, 200);
    const cJSON *rev = cJSON_GetArrayItem(th_jpath(r->json, "items"), 0);
    assert_non_null(rev);
    assert_string_equal(th_js(rev, "actor.user_id"), clerk_id);
    th_free(r);
}

static void test_who_reads(void **state)
{
    (void)state;
    EXPECT_PROBLEM(get("agent", "/v1/audit"), 403, "forbidden");
    EXPECT_PROBLEM(get("supervisor", "/v1/audit/verify"), 403, "forbidden");
    EXPECT_PROBLEM(get("resident", "/v1/audit/heads"), 403, "forbidden");
    EXPECT_PROBLEM(get("technician", "/v1/audit/retention"), 403, "forbidden");
    th_resp_t *r = get("gm", "/v1/audit?limit=5");
    EXPECT_STATUS(r, 200);
    th_free(r);
    r = get("admin", "/v1/audit?resource_type=request");
    EXPECT_STATUS(r, 200);
    assert_true(cJSON_GetArraySize(th_jpath(r->json, "items")) >= 1);
    th_free(r);
    /* Another organisation's auditor sees only its own organisation's rows. */
    char path[200];
    snprintf(path, sizeof path, "/v1/audit?resource_id=%s", req_id);
    r = get("other.auditor", path);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 0);
    th_free(r);
    r = get("other.auditor", "/v1/audit?limit=200");
    EXPECT_STATUS(r, 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
        assert_string_equal(th_js(it, "organisation_id"), other_org);
    th_free(r);
    /* Cursor pages: newest first, no row twice. */
    r = get("auditor", "/v1/audit?limit=2");
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 2);
    long last = th_jn(cJSON_GetArrayItem(th_jpath(r->json, "items"), 1), "id");
    snprintf(path, sizeof path, "/v1/audit?limit=2&cursor=%s", th_js(r->json, "next_cursor"));
    th_free(r);
    r = get("auditor", path);
    EXPECT_STATUS(r, 200);
    assert_true(th_jn(cJSON_GetArrayItem(th_jpath(r->json, "items"), 0), "id") < last);
    th_free(r);
    EXPECT_PROBLEM(get("auditor", "/v1/audit?cursor=abc"), 400, "invalid_cursor");
    EXPECT_PROBLEM(get("auditor", "/v1/audit?from=yesterday"), 400, "invalid_query");
    EXPECT_PROBLEM(get("auditor", "/v1/audit?limit=0"), 400, "invalid_query");
    EXPECT_PROBLEM(get("auditor", "/v1/audit/heads?from=2026-02-30"), 400, "invalid_query");
    EXPECT_PROBLEM(get("auditor", "/v1/audit/heads?from=2026-05-02&to=2026-05-01"), 400,
                   "invalid_query");
}

/* Runs sql on the test's superuser connection; returns the error message ("" when none). */
static const char *sql_error(const char *sql)
{
    static char msg[512];
    PGresult *x = PQexec(th_db(), sql);
    ExecStatusType s = PQresultStatus(x);
    snprintf(msg, sizeof msg, "%s",
             s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? "" : PQresultErrorMessage(x));
    PQclear(x);
    return msg;
}

static void test_append_only(void **state)
{
    (void)state;
    assert_non_null(strstr(sql_error("UPDATE audit_log SET result = 'failure' WHERE id = (SELECT "
                                     "max(id) FROM audit_log)"),
                           "append-only"));
    assert_non_null(strstr(sql_error("DELETE FROM audit_log"), "append-only"));
    assert_non_null(strstr(sql_error("TRUNCATE audit_log"), "append-only"));
    assert_non_null(strstr(sql_error("UPDATE request_events SET action = action"), "append-only"));
    assert_non_null(strstr(sql_error("DELETE FROM request_events"), "append-only"));
    /* Nothing was changed. */
    assert_string_equal(th_sql1("SELECT count(*) FROM audit_log WHERE result = 'failure' AND "
                                "action NOT LIKE 'auth.%'",
                                NULL, 0),
                        "0");
    /* The service's role may read and append, never change or remove. */
    assert_string_equal(th_sql1("SELECT has_table_privilege('deskd_app', 'audit_log', 'INSERT') "
                                "AND has_table_privilege('deskd_app', 'audit_log', 'SELECT') AND "
                                "NOT has_table_privilege('deskd_app', 'audit_log', 'UPDATE') AND "
                                "NOT has_table_privilege('deskd_app', 'audit_log', 'DELETE') AND "
                                "NOT has_table_privilege('deskd_app', 'request_events', "
                                "'UPDATE') AND has_table_privilege('deskd_app', 'requests', "
                                "'UPDATE')",
                                NULL, 0),
                        "t");
}

static void test_heads_per_day(void **state)
{
    (void)state;
    seal_all();
    th_resp_t *r = get("auditor", "/v1/audit/heads");
    EXPECT_STATUS(r, 200);
    const cJSON *items = th_jpath(r->json, "items");
    int n = cJSON_GetArraySize(items);
    assert_true(n >= 1);
    const cJSON *last = cJSON_GetArrayItem(items, n - 1);
    char today[40];
    th_iso_utc(time(NULL), today);
    today[10] = 0;
    assert_string_equal(th_js(last, "day"), today);
    const char *v[] = {demo_org};
    const char *want =
        th_sql1("SELECT encode(s.hash, 'hex') FROM audit_seals s JOIN audit_log a ON a.id = s.id "
                "WHERE a.org_id = $1 ORDER BY s.seq DESC LIMIT 1",
                v, 1);
    assert_non_null(want);
    assert_string_equal(th_js(last, "hash"), want);
    assert_true(th_jn(last, "rows") >= 3);
    th_free(r);
}

/* Writes are never held up by the chain: their rows are inserted unsealed and sealed later.
 * While another sealer holds the other organisation's chain, its new rows stay pending
 * (verify counts them, still ok), a sealer run meanwhile skips that chain without waiting
 * and seals the rest; once the chain is free they are sealed after its head, in id order. */
static void test_sealing_is_asynchronous(void **state)
{
    (void)state;
    seal_all();
    th_resp_t *r = get("other.auditor", "/v1/audit/verify");
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "ok"));
    assert_int_equal(th_jn(r->json, "rows_pending"), 0);
    long head = th_jn(r->json, "head_seq");
    th_free(r);

    /* A second sealer's transaction holds the other organisation's chain head. */
    PGconn *holder = PQconnectdb(th_dburl());
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    char sql[300];
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT 1 FROM audit_chain_heads WHERE org_key = '%s' FOR UPDATE", other_org);
    PGresult *x = PQexec(holder, sql);
    assert_int_equal(PQresultStatus(x), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(x), 1);
    PQclear(x);

    /* Writes of both organisations commit meanwhile (a login writes an audit row). */
    th_resp_t *l = th_login_resp("other.clerk", TH_PASS);
    EXPECT_STATUS(l, 200);
    th_free(l);
    l = th_login_resp("other.agent", TH_PASS);
    EXPECT_STATUS(l, 200);
    th_free(l);
    l = th_login_resp("clerk", TH_PASS);
    EXPECT_STATUS(l, 200);
    th_free(l);

    /* Our sealer skips the locked chain (it returns, it does not wait) and seals ours. */
    th_sql1("SELECT audit_seal_pending(100000)", NULL, 0);
    const char *v[] = {other_org, demo_org};
    long pending =
        atol(th_sql1("SELECT count(*) FROM audit_log a WHERE a.org_id = $1 AND NOT EXISTS "
                     "(SELECT 1 FROM audit_seals s WHERE s.id = a.id)",
                     v, 1));
    assert_true(pending >= 2);
    assert_string_equal(
        th_sql1("SELECT EXISTS (SELECT 1 FROM audit_seals s WHERE s.id = a.id) FROM "
                "audit_log a WHERE a.org_id = $1 AND a.action = 'auth.login' "
                "ORDER BY a.id DESC LIMIT 1",
                v + 1, 1),
        "t");
    r = get("other.auditor", "/v1/audit/verify");
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "ok")); /* pending rows are not an error */
    assert_int_equal(th_jn(r->json, "rows_pending"), pending);
    assert_int_equal(th_jn(r->json, "head_seq"), head);
    th_free(r);
    /* Unsealed rows are listed already, without seq and hashes. */
    r = get("other.auditor", "/v1/audit?action=auth.login&limit=2");
    EXPECT_STATUS(r, 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        assert_true(th_jnull(it, "seq"));
        assert_true(th_jnull(it, "hash"));
    }
    th_free(r);

    /* The chain is free again: deskd's sealer (every second) seals the rows by itself, after
     * the head, in id order.  (The bound is for liveness only.) */
    x = PQexec(holder, "ROLLBACK");
    PQclear(x);
    PQfinish(holder);
    for (int i = 0;; i++) {
        r = get("other.auditor", "/v1/audit/verify");
        EXPECT_STATUS(r, 200);
        long left = th_jn(r->json, "rows_pending");
        th_free(r);
        if (left == 0)
            break;
        assert_true(i < 300);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    char h[24];
    snprintf(h, sizeof h, "%ld", head);
    const char *w[] = {other_org, h};
    assert_string_equal(th_sql1("SELECT bool_and(seq = $2::bigint + rn) AND count(*) >= 2 FROM "
                                "(SELECT s.seq, row_number() OVER (ORDER BY s.id) AS rn FROM "
                                "audit_seals s JOIN audit_log a ON a.id = s.id WHERE "
                                "a.org_id = $1 AND s.seq > $2::bigint) t",
                                w, 2),
                        "t");
    r = get("other.auditor", "/v1/audit/verify");
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "ok"));
    assert_int_equal(th_jn(r->json, "rows_pending"), 0);
    assert_true(th_jn(r->json, "head_seq") >= head + 2);
    th_free(r);
}

static void test_retention_report(void **state)
{
    (void)state;
    th_resp_t *r = get("auditor", "/v1/audit/retention");
    EXPECT_STATUS(r, 200);
    const cJSON *it;
    int seen = 0;
    cJSON_ArrayForEach(it, th_jpath(r->json, "items"))
    {
        const char *k = th_js(it, "kind");
        if (!strcmp(k, "complaint")) {
            assert_int_equal(th_jn(it, "retention_years"), 3);
            assert_true(th_jn(it, "records") >= 1);
            assert_int_equal(th_jn(it, "past_retention"), 0);
            seen++;
        } else if (!strcmp(k, "work_order")) {
            assert_int_equal(th_jn(it, "retention_years"), 2);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    th_free(r);
}

/* Last: it breaks the chains on purpose. */
static void test_verify_finds_tampering(void **state)
{
    (void)state;
    seal_all();
    th_resp_t *r = get("auditor", "/v1/audit/verify");
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "ok"));
    assert_true(th_jnull(r->json, "first_broken_seq"));
    assert_true(th_jn(r->json, "rows_checked") >= 5);
    assert_int_equal(th_jn(r->json, "head_seq"), th_jn(r->json, "rows_checked"));
    th_free(r);

    /* A superuser edits a row with the triggers off: verify names that row. */
    const char *v[] = {demo_org, req_id};
    char seq[40];
    snprintf(
        seq, sizeof seq, "%s",
        th_sql1("SELECT s.seq FROM audit_log a JOIN audit_seals s ON s.id = a.id WHERE a.org_id = "
                "$1 AND a.resource_id = $2 AND a.action = 'request.create'",
                v, 2));
    char sql[400];
    snprintf(sql, sizeof sql,
             "SET session_replication_role = replica; UPDATE audit_log SET diff = jsonb_set(diff, "
             "'{after,description}', '\"改过的\"') WHERE id = (SELECT s.id FROM audit_seals s JOIN "
             "audit_log l USING (id) WHERE l.org_id = '%s' AND s.seq = %s); SET "
             "session_replication_role = origin",
             demo_org, seq);
    assert_string_equal(sql_error(sql), "");
    r = get("auditor", "/v1/audit/verify");
    EXPECT_STATUS(r, 200);
    assert_false(th_jtrue(r->json, "ok"));
    assert_int_equal(th_jn(r->json, "first_broken_seq"), atol(seq));
    assert_non_null(strstr(th_js(r->json, "reason"), "changed"));
    th_free(r);

    /* Rows cut off the end of the other organisation's chain: found against its head. */
    seal_all();
    r = get("other.auditor", "/v1/audit/verify");
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "ok"));
    long head = th_jn(r->json, "head_seq");
    th_free(r);
    snprintf(
        sql, sizeof sql,
        "SET session_replication_role = replica; DELETE FROM audit_log WHERE id = (SELECT s.id "
        "FROM audit_seals s JOIN audit_log l USING (id) WHERE l.org_id = '%s' AND s.seq = %ld); "
        "SET session_replication_role "
        "= origin",
        other_org, head);
    assert_string_equal(sql_error(sql), "");
    r = get("other.auditor", "/v1/audit/verify");
    EXPECT_STATUS(r, 200);
    assert_false(th_jtrue(r->json, "ok"));
    assert_int_equal(th_jn(r->json, "first_broken_seq"), head);
    assert_non_null(strstr(th_js(r->json, "reason"), "missing"));
    th_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_writes_are_audited),
        cmocka_unit_test(test_logins_are_audited),
        cmocka_unit_test(test_who_reads),
        cmocka_unit_test(test_append_only),
        cmocka_unit_test(test_heads_per_day),
        cmocka_unit_test(test_sealing_is_asynchronous),
        cmocka_unit_test(test_retention_report),
        cmocka_unit_test(test_verify_finds_tampering),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
