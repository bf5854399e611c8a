/*
 * tests/db/test_survey_callback_migration.c — 0025 brings existing data forward: a
 * database at version 24 with survey follow-ups still `pending` (不太满意 answers recorded
 * before callback tasks could have a survey response as subject) gets one open callback
 * task (kind survey) per response, due 24 h after its first pending answer, every follow-up
 * `opened` with it; and a visit's free CA number that names an action of its project is
 * linked (corrective_action_id), an unknown one left as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glob.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/harness.h"

static char admin_url[512], db[64], url[600];
static PGconn *c;

static int setup(void **state)
{
    (void)state;
    char base[400];
    snprintf(base, sizeof base, "%s",
             th_env_or("DESK_TEST_PG", "host=/tmp port=5432 user=postgres"));
    snprintf(admin_url, sizeof admin_url, "%s dbname=postgres", base);
    snprintf(db, sizeof db, "tscm_%d_%d", (int)getpid(), (int)(time(NULL) % 100000));
    snprintf(url, sizeof url, "%s dbname=%s", base, db);
    char sql[200];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", db);
    if (th_pg_exec(admin_url, sql) != 0)
        return -1;
    c = PQconnectdb(url);
    return PQstatus(c) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(c);
    char sql[200];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    th_pg_exec(admin_url, sql);
    return 0;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

/* Applies the numbered migrations from `from` to `to` (inclusive), in order. */
static void migrate(int from, int to)
{
    char pat[1024];
    snprintf(pat, sizeof pat, "%s/db/migrations/[0-9][0-9][0-9][0-9]_*.sql",
             getenv("DESKD_SOURCE_DIR"));
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int v = atoi(strrchr(g.gl_pathv[i], '/') + 1);
        if (v < from || v > to)
            continue;
        char *sql = read_file(g.gl_pathv[i]);
        assert_non_null(sql);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fprintf(stderr, "%04d: %s", v, PQresultErrorMessage(r));
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        free(sql);
    }
    globfree(&g);
}

static void exec(const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    assert_true(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
}

static const char *one(const char *sql)
{
    static char buf[512];
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    snprintf(buf, sizeof buf, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return buf;
}

static void test_pending_followups_get_tasks(void **state)
{
    (void)state;
    migrate(1, 24);
    exec("INSERT INTO organisations (id, code, name) VALUES "
         "('00000000-0000-4000-8000-000000000001', 'mig', '迁移物业')");
    exec("INSERT INTO projects (id, org_id, code, name, time_zone, business_hours) VALUES "
         "('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', "
         "'P1', '项目', 'Asia/Shanghai', '{}')");
    exec("INSERT INTO users (id, org_id, username, display_name, role, password_hash) VALUES "
         "('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', "
         "'agent', '客服', 'agent', 'x')");
    exec("INSERT INTO buildings (id, org_id, project_id, code, name) VALUES "
         "('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000001', "
         "'00000000-0000-4000-8000-000000000002', 'B1', '1栋')");
    exec("INSERT INTO units (id, org_id, project_id, building_id, code) SELECT "
         "('00000000-0000-4000-8000-00000000001' || n)::uuid, "
         "'00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', "
         "'00000000-0000-4000-8000-000000000004', '1-10' || n FROM generate_series(1, 3) n");
    exec("INSERT INTO survey_campaigns (id, org_id, project_id, title, kind, cadence, "
         "created_by) VALUES ('00000000-0000-4000-8000-000000000005', "
         "'00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', "
         "'调查', 'periodic', 'quarterly', '00000000-0000-4000-8000-000000000003')");
    exec("INSERT INTO survey_items (id, org_id, campaign_id, position, code, group_name, text) "
         "VALUES ('00000000-0000-4000-8000-000000000006', "
         "'00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000005', 1, "
         "'A1', '服务', '服务态度')");
    /* responses 21, 22 (two and one pending callbacks), 23 none */
    exec("INSERT INTO survey_responses (id, org_id, project_id, campaign_id, unit_id, channel, "
         "returned_at, entered_by) SELECT ('00000000-0000-4000-8000-00000000002' || n)::uuid, "
         "'00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', "
         "'00000000-0000-4000-8000-000000000005', ('00000000-0000-4000-8000-00000000001' || "
         "n)::uuid, 'paper', now(), '00000000-0000-4000-8000-000000000003' FROM "
         "generate_series(1, 3) n");
    exec("INSERT INTO survey_followups (org_id, response_id, version, item_id, rating, kind, "
         "state, created_at) VALUES "
         "('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000021', 1, "
         "NULL, 'somewhat_dissatisfied', 'callback', 'pending', '2026-10-05T02:00:00Z'), "
         "('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000021', 1, "
         "'00000000-0000-4000-8000-000000000006', 'somewhat_dissatisfied', 'callback', "
         "'pending', '2026-10-05T03:00:00Z'), "
         "('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000022', 1, "
         "NULL, 'somewhat_dissatisfied', 'callback', 'pending', '2026-10-06T02:00:00Z')");
    /* a visit naming an action of its project by number, another naming none */
    exec("INSERT INTO corrective_actions (id, org_id, project_id, number, kind, title) VALUES "
         "('00000000-0000-4000-8000-000000000007', '00000000-0000-4000-8000-000000000001', "
         "'00000000-0000-4000-8000-000000000002', 'CA-2026-000001', 'corrective', '整改')");
    exec("INSERT INTO visit_records (org_id, project_id, visited_on, unit_id, visitors, topics, "
         "corrective_action_ref, created_by) SELECT '00000000-0000-4000-8000-000000000001', "
         "'00000000-0000-4000-8000-000000000002', '2026-10-01', "
         "'00000000-0000-4000-8000-000000000011', '{00000000-0000-4000-8000-000000000003}', "
         "'走访', r, '00000000-0000-4000-8000-000000000003' FROM unnest(ARRAY['CA-2026-000001', "
         "'CA-2026-000099']) r");

    migrate(25, 25);
    assert_string_equal(one("SELECT max(version) FROM schema_version"), "25");
    /* one open survey task per response with pending follow-ups */
    assert_string_equal(one("SELECT string_agg(survey_response_id::text || ':' || kind || ':' || "
                            "state || ':' || min_role || ':' || (request_id IS NULL)::text || "
                            "':' || to_char(due_at AT TIME ZONE 'UTC', 'MM-DD HH24'), ',' ORDER "
                            "BY survey_response_id) FROM callback_tasks"),
                        "00000000-0000-4000-8000-000000000021:survey:open:agent:true:10-06 02,"
                        "00000000-0000-4000-8000-000000000022:survey:open:agent:true:10-07 02");
    assert_string_equal(one("SELECT count(*) FROM survey_followups f JOIN callback_tasks t ON "
                            "t.id = f.callback_task_id AND t.survey_response_id = f.response_id "
                            "WHERE f.state = 'opened'"),
                        "3");
    assert_string_equal(one("SELECT count(*) FROM survey_followups WHERE state = 'pending'"), "0");
    /* the CHECKs hold from now on */
    PGresult *r = PQexec(c, "INSERT INTO survey_followups (org_id, response_id, version, rating, "
                            "kind, state) VALUES ('00000000-0000-4000-8000-000000000001', "
                            "'00000000-0000-4000-8000-000000000023', 1, "
                            "'somewhat_dissatisfied', 'callback', 'pending')");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    PQclear(r);
    r = PQexec(c, "INSERT INTO callback_tasks (org_id, project_id, kind, min_role, resolved_at, "
                  "due_at) VALUES ('00000000-0000-4000-8000-000000000001', "
                  "'00000000-0000-4000-8000-000000000002', 'survey', 'agent', now(), now())");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR); /* no subject */
    PQclear(r);
    /* visits: the known number linked, the unknown one kept as text */
    assert_string_equal(one("SELECT string_agg(corrective_action_ref || '=' || "
                            "coalesce(corrective_action_id::text, '-'), ',' ORDER BY "
                            "corrective_action_ref) FROM visit_records"),
                        "CA-2026-000001=00000000-0000-4000-8000-000000000007,CA-2026-000099=-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_followups_get_tasks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
