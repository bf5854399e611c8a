/*
 * tests/db/test_request_indexes.c — "every list query is served by an index".  Loads
 * 100,000 requests (four projects of the demo organisation plus rows of a second
 * organisation, a year of history, work orders and timeline events), then EXPLAINs the
 * request list SQL exactly as db_request_list_sql() builds it for every filter
 * combination the API produces, with and without a keyset cursor, and fails on any
 * sequential scan.  The statements the list runs inside request_json() are checked with
 * auto_explain; the timeline and the organisation-model list (units, 100,000 rows) are
 * checked through the prepared statements the server itself uses, after enough
 * executions for the plan cache to have chosen between custom and generic plans.
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

#include "db/crud.h"
#include "db/db.h"
#include "db/request.h"
#include "tests/lib/harness.h"

#define NREQ   100000 /* requests of the demo organisation */
#define NOTHER 5000   /* requests of the other organisation */
#define NUNITS 100000 /* extra units for the organisation-model list */
#define LIMIT  51     /* the API asks for one row more than the page */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ helpers */

static PGresult *q(const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(th_db(), sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fprintf(stderr, "SQL failed: %s\n%s\n", PQresultErrorMessage(r), sql);
    return r;
}

/* One value into out (empty string when no row). */
static void val1(char *out, size_t len, const char *sql, int n, const char *const *vals)
{
    PGresult *r = q(sql, n, vals);
    out[0] = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* The definitions of a table's indexes that do not back a constraint, in a stable order. */
static const char index_defs_sql[] =
    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
    "WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
    "WHERE c.conindid = i.indexrelid) ORDER BY 1";

static char *all_index_defs(const char *table)
{
    const char *v[] = {table};
    char *out = NULL;
    PGresult *r = q("SELECT string_agg(pg_get_indexdef(indexrelid), E'\\n' ORDER BY "
                    "indexrelid::regclass::text) FROM pg_index WHERE indrelid = $1::regclass",
                    1, v);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

/* Bulk loading: the secondary indexes (above all the trigram GIN index) cost far more
 * maintained row by row than built once, so they are dropped and re-created from their
 * own definitions (pg_get_indexdef) — the plans below are made against exactly the
 * indexes of the schema, which is checked.  Foreign-key triggers are skipped
 * (session_replication_role = replica); the generated rows satisfy them by construction. */
typedef struct saved_ix {
    char *table;
    char *before;
    PGresult *defs;
} saved_ix_t;

static void bulk_begin(saved_ix_t *s, const char *table)
{
    s->table = strdup(table);
    s->before = all_index_defs(table);
    assert_non_null(s->before);
    const char *v[] = {table};
    s->defs = q(index_defs_sql, 1, v);
    assert_int_equal(PQresultStatus(s->defs), PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(s->defs); i++) {
        char sql[300];
        snprintf(sql, sizeof sql, "DROP INDEX %s", PQgetvalue(s->defs, i, 0));
        assert_true(th_pg_ok(q(sql, 0, NULL)));
    }
}

static void bulk_end(saved_ix_t *s)
{
    for (int i = 0; i < PQntuples(s->defs); i++)
        assert_true(th_pg_ok(q(PQgetvalue(s->defs, i, 1), 0, NULL)));
    char *after = all_index_defs(s->table);
    assert_non_null(after);
    assert_string_equal(after, s->before);
    free(after);
    free(s->before);
    free(s->table);
    PQclear(s->defs);
}

/* ------------------------------------------------------------------ data */

/* Three more projects in the demo organisation, each with a building of 300 units and
 * three departments; four technicians per department; 100 residents (with resident
 * users) per project.  $1 = organisation id. */
static const char *const org_setup[] = {
    "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
    "SELECT $1, 'IX' || i, '索引测试项目' || i, 'Asia/Shanghai', '{}' "
    "FROM generate_series(1, 3) i",
    "INSERT INTO buildings (org_id, project_id, code, name, floors) "
    "SELECT org_id, id, 'IXB', '索引楼', 30 FROM projects WHERE org_id = $1",
    "INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2) "
    "SELECT b.org_id, b.project_id, b.id, 'IX-' || i, 1 + i % 30, 60 + i % 80 "
    "FROM buildings b, generate_series(1, 300) i WHERE b.org_id = $1 AND b.code = 'IXB'",
    "INSERT INTO departments (org_id, project_id, kind, name) "
    "SELECT p.org_id, p.id, k, '部门-' || k FROM projects p, "
    "unnest(ARRAY['engineering','customer_service','cleaning']) k "
    "WHERE p.org_id = $1 AND p.code LIKE 'IX%'",
    "INSERT INTO users (org_id, username, display_name, role, department_id, password_hash) "
    "SELECT d.org_id, 'ixt.' || left(d.id::text, 13) || '.' || i, '技工' || i, 'technician', "
    "d.id, 'x' FROM departments d, generate_series(1, 4) i WHERE d.org_id = $1",
    "INSERT INTO residents (org_id, project_id, name, phone) "
    "SELECT p.org_id, p.id, '住户' || i, '1380000' || lpad(i::text, 4, '0') "
    "FROM projects p, generate_series(1, 100) i WHERE p.org_id = $1",
    "INSERT INTO users (org_id, username, display_name, role, resident_id, password_hash) "
    "SELECT r.org_id, 'ixr.' || left(r.id::text, 13), r.name, 'resident', r.id, 'x' "
    "FROM residents r WHERE r.org_id = $1 AND r.name LIKE '住户%'",
};

/* $1 organisation id, $2 row count.  Rows are spread round-robin over the organisation's
 * projects; created_at runs through the last year in insertion order (as the column's
 * default clock_timestamp() does in production); states are mostly closed, open ones
 * recent; a quarter are common-area requests; 30% come from resident users; 1 in 6
 * descriptions mention 漏水. */
static const char gen_requests[] =
    "WITH pr AS ("
    " SELECT p.org_id, p.id AS project_id, (row_number() OVER (ORDER BY p.id) - 1)::int AS pn,"
    "  count(*) OVER () AS np,"
    "  (SELECT array_agg(u.id ORDER BY u.id) FROM units u WHERE u.project_id = p.id) AS units,"
    "  (SELECT array_agg(d.id ORDER BY d.id) FROM departments d WHERE d.project_id = p.id) "
    "AS depts,"
    "  (SELECT array_agg(x.id ORDER BY x.id) FROM users x JOIN departments d "
    "ON d.id = x.department_id WHERE d.project_id = p.id AND x.role = 'technician') AS techs,"
    "  (SELECT array_agg(x.id ORDER BY x.id) FROM users x JOIN residents rs "
    "ON rs.id = x.resident_id WHERE rs.project_id = p.id) AS reps,"
    "  (SELECT x.id FROM users x WHERE x.org_id = p.org_id AND x.role = 'agent' LIMIT 1) "
    "AS agent"
    " FROM projects p WHERE p.org_id = $1),"
    "s AS ("
    " SELECT g, random() AS a, random() AS b, random() AS c, random() AS d, random() AS e,"
    "  random() AS f, random() AS h, floor(random() * 12)::int AS k, now() - interval '365 days'"
    "  + (g::float8 / $2::int) * interval '365 days' + random() * interval '20 minutes' AS ts"
    " FROM generate_series(1, $2::int) g),"
    "t AS ("
    " SELECT s.*, pr.*,"
    "  CASE WHEN s.a < 0.45 THEN 'repair' WHEN s.a < 0.70 THEN 'complaint'"
    "   WHEN s.a < 0.85 THEN 'inquiry' WHEN s.a < 0.90 THEN 'suggestion'"
    "   WHEN s.a < 0.93 THEN 'praise' ELSE 'emergency' END AS typ,"
    "  (ARRAY['phone','phone','phone','phone','app','app','app','visit','web','email',"
    "   'letter','fax','night_desk','patrol','survey','other','integration'])"
    "   [1 + floor(s.b * 17)::int] AS chan,"
    "  CASE WHEN s.ts > now() - interval '30 days'"
    "   THEN (ARRAY['received','dispatched','accepted','on_site','pending','resolved',"
    "    'callback','closed'])[1 + floor(s.c * 8)::int]"
    "   ELSE (ARRAY['closed','closed','closed','closed','closed','closed','closed','closed',"
    "    'closed','closed','closed','closed','closed','closed','closed','closed','rejected',"
    "    'not_responsible','resolved','callback'])[1 + floor(s.c * 20)::int] END AS st"
    " FROM s JOIN pr ON pr.pn = s.g % pr.np) "
    "INSERT INTO requests (org_id, project_id, number, type, channel, severity, category,"
    " state, pending_reason, location_kind, unit_id, common_area, reporter_user_id,"
    " reporter_name, reporter_phone, title, description, department_id, assignee_id,"
    " external_source, external_id, received_at, last_event_at, created_by, created_at,"
    " updated_at, search_terms) "
    "SELECT x.*, search_bigrams(coalesce(x.title, '') || ' ' || x.description || ' ' || x.number)"
    " FROM (SELECT org_id, project_id, 'IX-' || to_char(ts, 'YYYY') || '-' || lpad(g::text, 7, "
    "'0'),"
    " typ, chan,"
    " CASE WHEN typ = 'complaint' THEN (ARRAY['major','important','general','general'])"
    "  [1 + floor(d * 4)::int] END,"
    " CASE WHEN typ = 'complaint' THEN (ARRAY['attitude','timeliness','quality',"
    "  'service_range','developer_legacy','fees','other'])[1 + floor(e * 7)::int] END,"
    " st, CASE WHEN st = 'pending' THEN 'parts' END,"
    " CASE WHEN d < 0.75 THEN 'unit' ELSE 'common_area' END,"
    " CASE WHEN d < 0.75 THEN units[1 + floor(e * cardinality(units))::int] END,"
    " CASE WHEN d >= 0.75 THEN '小区大堂' END,"
    " CASE WHEN f < 0.3 THEN reps[1 + floor(h * cardinality(reps))::int] END,"
    " '王先生', '139' || lpad(g::text, 8, '0'),"
    " (ARRAY['漏水','电梯','卫生','噪音','缴费','停车','照明','绿化','门禁','水管','投诉',"
    "  '咨询'])[1 + k],"
    " (ARRAY['卫生间漏水，楼下天花板有水渍，请尽快派人维修', '电梯运行时有异响，住户担心安全',"
    "  '楼道垃圾两天没有清理，气味很大', '楼上夜间装修噪音扰民，多次沟通无果',"
    "  '物业费发票开具信息有误，需要重新开具', '地下车库车位被长期占用',"
    "  '三楼楼道灯不亮已经一周', '小区绿化带杂草丛生，希望修剪', '单元门禁卡失灵无法进门',"
    "  '厨房水管接头漏水，地面积水', '对前台服务态度不满意', '咨询装修申请需要哪些材料'])"
    "  [1 + k] || '（编号' || g || '）',"
    " CASE WHEN st <> 'received' AND c < 0.9 THEN depts[1 + floor(b * cardinality(depts))::int]"
    " END,"
    " CASE WHEN st NOT IN ('received','dispatched') AND c < 0.8"
    "  THEN techs[1 + floor(a * cardinality(techs))::int] END,"
    " CASE WHEN chan = 'integration' THEN (ARRAY['wechat','crm'])[1 + g % 2] END,"
    " CASE WHEN chan = 'integration' THEN 'ext-' || g END,"
    " ts, ts + h * interval '10 days', agent, ts, ts + h * interval '10 days' "
    "FROM t) x (org_id, project_id, number, type, channel, severity, category, state,"
    " pending_reason, location_kind, unit_id, common_area, reporter_user_id, reporter_name,"
    " reporter_phone, title, description, department_id, assignee_id, external_source,"
    " external_id, received_at, last_event_at, created_by, created_at, updated_at)";

/* A work order for every dispatched request, and the timeline's first event for every
 * request; the newest request of the demo organisation gets 30 more events. */
static const char gen_work_orders[] =
    "INSERT INTO work_orders (org_id, project_id, request_id, number, department_id,"
    " assignee_id, state, dispatched_at, created_at, updated_at) "
    "SELECT org_id, project_id, id, 'GD' || substr(number, 3), department_id, assignee_id,"
    " CASE state WHEN 'dispatched' THEN 'dispatched' WHEN 'accepted' THEN 'accepted'"
    "  WHEN 'on_site' THEN 'on_site' WHEN 'resolved' THEN 'done_unsigned'"
    "  ELSE 'signed_off' END,"
    " created_at + interval '1 hour', created_at + interval '1 hour',"
    " created_at + interval '1 hour' FROM requests WHERE department_id IS NOT NULL";
static const char gen_events[] =
    "INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action,"
    " to_state, channel, occurred_at, details) "
    "SELECT org_id, id, 1, created_by, 'agent', 'create', 'received', channel, created_at,"
    " '{}' FROM requests";
static const char gen_timeline[] =
    "INSERT INTO request_events (org_id, request_id, seq, actor_id, actor_role, action,"
    " from_state, to_state, occurred_at, details) "
    "SELECT org_id, id, 1 + i, created_by, 'agent', 'comment', state, state,"
    " created_at + i * interval '1 minute',"
    " CASE WHEN i % 3 = 0 THEN '{\"visibility\":\"internal\"}' ELSE '{}' END::jsonb "
    "FROM requests, generate_series(1, 30) i WHERE id = $1";

static char org_id[40], other_org[40], timeline_req[40];

static void load(const char *const *sql, size_t n, const char *org)
{
    const char *v[] = {org};
    for (size_t i = 0; i < n; i++)
        assert_true(th_pg_ok(q(sql[i], 1, v)));
}

static int setup(void **state)
{
    (void)state;
    /* no background sweeper changing rows while plans are examined */
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    double t0 = now_s();
    val1(org_id, sizeof org_id, "SELECT id FROM organisations WHERE code = 'demo'", 0, NULL);
    val1(other_org, sizeof other_org, "SELECT id FROM organisations WHERE code = 'other'", 0, NULL);
    if (!org_id[0] || !other_org[0])
        return -1;
    assert_true(th_pg_ok(q("SET session_replication_role = replica", 0, NULL)));
    assert_true(th_pg_ok(q("SET maintenance_work_mem = '128MB'", 0, NULL)));
    assert_true(th_pg_ok(q("SELECT setseed(0.25)", 0, NULL))); /* the same data every run */
    load(org_setup, sizeof org_setup / sizeof org_setup[0], org_id);

    saved_ix_t rq, wo, ev;
    bulk_begin(&rq, "requests");
    bulk_begin(&wo, "work_orders");
    bulk_begin(&ev, "request_events");
    char n1[16], n2[16];
    snprintf(n1, sizeof n1, "%d", NREQ);
    snprintf(n2, sizeof n2, "%d", NOTHER);
    const char *v1[] = {org_id, n1}, *v2[] = {other_org, n2};
    assert_true(th_pg_ok(q(gen_requests, 2, v1)));
    assert_true(th_pg_ok(q(gen_requests, 2, v2)));
    assert_true(th_pg_ok(q(gen_work_orders, 0, NULL)));
    assert_true(th_pg_ok(q(gen_events, 0, NULL)));
    const char *vo[] = {org_id};
    val1(timeline_req, sizeof timeline_req,
         "SELECT id FROM requests WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1", 1,
         vo);
    const char *vt[] = {timeline_req};
    assert_true(th_pg_ok(q(gen_timeline, 1, vt)));
    bulk_end(&rq);
    bulk_end(&wo);
    bulk_end(&ev);
    assert_true(th_pg_ok(q("RESET session_replication_role", 0, NULL)));
    assert_true(th_pg_ok(q("ANALYZE", 0, NULL)));
    char cnt[32];
    val1(cnt, sizeof cnt, "SELECT count(*) FROM requests", 0, NULL);
    fprintf(stderr, "loaded %s requests in %.1f s\n", cnt, now_s() - t0);
    return atoi(cnt) == NREQ + NOTHER ? 0 : -1;
}

/* ------------------------------------------------------------------ plans */

/* Appends "Seq Scan on <rel>" for every sequential scan in the plan tree (any nesting:
 * Plans, InitPlans, SubPlans) to bad, and the index scans used to used. */
static void walk(const cJSON *n, char *bad, size_t blen, char *used, size_t ulen)
{
    if (cJSON_IsObject(n)) {
        const cJSON *type = cJSON_GetObjectItem(n, "Node Type");
        const cJSON *rel = cJSON_GetObjectItem(n, "Relation Name");
        const cJSON *ix = cJSON_GetObjectItem(n, "Index Name");
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "Seq Scan")) {
            size_t l = strlen(bad);
            snprintf(bad + l, blen - l, "%sSeq Scan on %s", l ? "; " : "",
                     cJSON_IsString(rel) ? rel->valuestring : "?");
        }
        if (cJSON_IsString(type) && cJSON_IsString(ix) && used) {
            size_t l = strlen(used);
            snprintf(used + l, ulen - l, "%s%s %s", l ? ", " : "", type->valuestring,
                     ix->valuestring);
        }
    }
    for (const cJSON *c = n ? n->child : NULL; c; c = c->next)
        walk(c, bad, blen, used, ulen);
}

/* EXPLAIN (FORMAT JSON) of sql with the given parameters on conn.  Returns the number of
 * sequential scans found (printing the plan when there are any), -1 on error. */
static int explain_check(PGconn *conn, const char *name, const char *sql, int n,
                         const char *const *vals, char *used, size_t ulen)
{
    size_t l = strlen(sql) + 64;
    char *ex = malloc(l);
    snprintf(ex, l, "EXPLAIN (FORMAT JSON) %s", sql);
    PGresult *r = PQexecParams(conn, ex, n, NULL, vals, NULL, NULL, 0);
    free(ex);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fprintf(stderr, "[%s] EXPLAIN failed: %s\n%s\n", name, PQresultErrorMessage(r), sql);
        PQclear(r);
        return -1;
    }
    cJSON *plan = cJSON_Parse(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!plan) {
        fprintf(stderr, "[%s] plan is not JSON\n", name);
        return -1;
    }
    char bad[1024] = "";
    if (used)
        used[0] = 0;
    walk(plan, bad, sizeof bad, used, ulen);
    int nbad = 0;
    if (bad[0]) {
        char *txt = cJSON_Print(plan);
        fprintf(stderr, "\n[%s] SEQUENTIAL SCAN: %s\nSQL: %s\nparams:", name, bad, sql);
        for (int i = 0; i < n; i++)
            fprintf(stderr, " $%d=%s", i + 1, vals[i] ? vals[i] : "NULL");
        fprintf(stderr, "\nplan: %s\n", txt);
        free(txt);
        nbad = 1;
    }
    cJSON_Delete(plan);
    return nbad;
}

/* ------------------------------------------------------------------ request list */

typedef struct ids {
    char projects2[100], demo_projects[48], project[40], resident[40], resident_units[200];
    char tech_dept[40], dept[40], assignee[40], unit[40];
    char c_from[40], c_to[40], u_from[40], u_to[40];
    char cur_ts[40], cur_id[40];
} ids_t;

static void find_ids(ids_t *x)
{
    const char *v[] = {org_id};
    val1(x->projects2, sizeof x->projects2,
         "SELECT '{' || string_agg(id::text, ',') || '}' FROM (SELECT id FROM projects "
         "WHERE org_id = $1 AND code IN ('IX1', 'IX2')) p",
         1, v);
    val1(x->demo_projects, sizeof x->demo_projects,
         "SELECT '{' || id || '}' FROM projects WHERE org_id = $1 AND code = 'SUNRISE'", 1, v);
    val1(x->project, sizeof x->project,
         "SELECT id FROM projects WHERE org_id = $1 AND code = 'IX2'", 1, v);
    val1(x->resident, sizeof x->resident,
         "SELECT id FROM users WHERE org_id = $1 AND username = 'resident'", 1, v);
    val1(x->resident_units, sizeof x->resident_units,
         "SELECT '{' || string_agg(ru.unit_id::text, ',') || '}' FROM resident_units ru "
         "JOIN users u ON u.resident_id = ru.resident_id WHERE u.org_id = $1 "
         "AND u.username = 'resident'",
         1, v);
    val1(x->tech_dept, sizeof x->tech_dept,
         "SELECT department_id FROM users WHERE org_id = $1 AND username = 'technician'", 1, v);
    const char *vp[] = {x->project};
    val1(x->dept, sizeof x->dept,
         "SELECT id FROM departments WHERE project_id = $1 AND kind = 'engineering'", 1, vp);
    const char *vd[] = {x->dept};
    val1(x->assignee, sizeof x->assignee,
         "SELECT id FROM users WHERE department_id = $1 ORDER BY username LIMIT 1", 1, vd);
    val1(x->unit, sizeof x->unit, "SELECT id FROM units WHERE project_id = $1 AND code = 'IX-7'", 1,
         vp);
    val1(x->c_from, sizeof x->c_from, "SELECT rfc3339(now() - interval '60 days')", 0, NULL);
    val1(x->c_to, sizeof x->c_to, "SELECT rfc3339(now() - interval '30 days')", 0, NULL);
    val1(x->u_from, sizeof x->u_from, "SELECT rfc3339(now() - interval '100 days')", 0, NULL);
    val1(x->u_to, sizeof x->u_to, "SELECT rfc3339(now() - interval '90 days')", 0, NULL);
    PGresult *r = q("SELECT rfc3339(created_at), id FROM requests WHERE org_id = $1 "
                    "ORDER BY created_at DESC, id DESC OFFSET 40000 LIMIT 1",
                    1, v);
    assert_int_equal(PQntuples(r), 1);
    snprintf(x->cur_ts, sizeof x->cur_ts, "%s", PQgetvalue(r, 0, 0));
    snprintf(x->cur_id, sizeof x->cur_id, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    const char *all[] = {x->projects2, x->demo_projects,  x->project,
                         x->resident,  x->resident_units, x->tech_dept,
                         x->dept,      x->assignee,       x->unit};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_true(all[i][0] != 0);
}

typedef struct combo {
    const char *name;
    request_filter_t f;
    int may_be_empty;
} combo_t;

static void test_request_list_plans(void **state)
{
    (void)state;
    ids_t x;
    find_ids(&x);
    const char *o = org_id;
    /* Scopes as api/request.c sets them: projects for roles without all projects, units +
     * reporter for residents, the own department for technicians. */
    const combo_t cs[] = {
        {"org only", {.org = o}, 0},
        {"other org only", {.org = other_org}, 0},
        {"projects scope", {.org = o, .projects = x.projects2}, 0},
        {"resident scope",
         {.org = o, .projects = NULL, .units = x.resident_units, .reporter = x.resident},
         0},
        {"resident scope + projects",
         {.org = o, .projects = x.demo_projects, .units = x.resident_units, .reporter = x.resident},
         0},
        {"technician scope", {.org = o, .dept_only = x.tech_dept}, 0},
        {"technician scope + projects",
         {.org = o, .projects = x.demo_projects, .dept_only = x.tech_dept},
         0},
        {"project_id", {.org = o, .project_id = x.project}, 0},
        {"state received", {.org = o, .state = "received"}, 0},
        {"state closed", {.org = o, .state = "closed"}, 0},
        {"state rejected", {.org = o, .state = "rejected"}, 0},
        {"type praise", {.org = o, .type = "praise"}, 0},
        {"severity major", {.org = o, .severity = "major"}, 0},
        {"category fees", {.org = o, .category = "fees"}, 0},
        {"department_id", {.org = o, .department_id = x.dept}, 0},
        {"assignee_id", {.org = o, .assignee_id = x.assignee}, 0},
        {"channel fax", {.org = o, .channel = "fax"}, 0},
        {"unit_id", {.org = o, .unit_id = x.unit}, 0},
        {"external_source", {.org = o, .external_source = "crm"}, 0},
        {"created range", {.org = o, .created_from = x.c_from, .created_to = x.c_to}, 0},
        {"created_from only", {.org = o, .created_from = x.c_from}, 0},
        {"updated range", {.org = o, .updated_from = x.u_from, .updated_to = x.u_to}, 0},
        {"q 漏水", {.org = o, .q = "漏水"}, 0},
        {"q 编号12345", {.org = o, .q = "编号12345"}, 0},
        {"q IX number", {.org = o, .q = "0012345"}, 0},
        {"q no match", {.org = o, .q = "不存在的内容"}, 1},
        /* one or two characters (漏水, 电梯, 火灾 — the usual length of a Chinese search
         * word) give pg_trgm no trigram to look up */
        {"q two characters, rare", {.org = o, .q = "火灾"}, 1},
        {"project + state", {.org = o, .project_id = x.project, .state = "received"}, 0},
        {"dept + state", {.org = o, .department_id = x.dept, .state = "closed"}, 0},
        {"assignee + state", {.org = o, .assignee_id = x.assignee, .state = "closed"}, 0},
        {"projects scope + state", {.org = o, .projects = x.projects2, .state = "received"}, 0},
        {"technician + state", {.org = o, .dept_only = x.tech_dept, .state = "closed"}, 0},
        {"resident + state",
         {.org = o, .units = x.resident_units, .reporter = x.resident, .state = "closed"},
         0},
        {"project + type + created range",
         {.org = o,
          .project_id = x.project,
          .type = "complaint",
          .created_from = x.c_from,
          .created_to = x.c_to},
         0},
        {"project + q", {.org = o, .project_id = x.project, .q = "漏水"}, 0},
        {"state + type + channel",
         {.org = o, .state = "closed", .type = "repair", .channel = "phone"},
         0},
        {"projects scope + dept + severity",
         {.org = o, .projects = x.projects2, .department_id = x.dept, .severity = "general"},
         1},
    };
    int failures = 0, runs = 0;
    double t0 = now_s();
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        char cur_ts[64] = "", cur_id[40] = "";
        for (int with_cursor = 0; with_cursor < 2; with_cursor++) {
            request_filter_t f = cs[i].f;
            f.limit = LIMIT;
            f.pii = 1;
            if (with_cursor) {
                /* the cursor the API would hand out after the first page, or one deep in
                 * the organisation's history when the first page was the last */
                f.after_ts = cur_ts[0] ? cur_ts : x.cur_ts;
                f.after_id = cur_ts[0] ? cur_id : x.cur_id;
            }
            char name[160];
            snprintf(name, sizeof name, "%s%s", cs[i].name, with_cursor ? " + cursor" : "");
            char *sql;
            const char *vals[40];
            int n = db_request_list_sql(&f, &sql, vals);
            char used[1024];
            int bad = explain_check(th_db(), name, sql, n, vals, used, sizeof used);
            if (bad != 0)
                failures++;
            /* and for real */
            PGresult *r = PQexecParams(th_db(), sql, n, NULL, vals, NULL, NULL, 0);
            int rows = -1;
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "[%s] query failed: %s\n", name, PQresultErrorMessage(r));
                failures++;
            } else {
                rows = PQntuples(r);
                if (rows > LIMIT) {
                    fprintf(stderr, "[%s] %d rows > %d\n", name, rows, LIMIT);
                    failures++;
                }
                if (rows == 0 && !with_cursor && !cs[i].may_be_empty) {
                    fprintf(stderr, "[%s] no rows: the data does not exercise this filter\n", name);
                    failures++;
                }
                if (!with_cursor && rows == LIMIT) {
                    snprintf(cur_ts, sizeof cur_ts, "%s", PQgetvalue(r, LIMIT - 2, 1));
                    snprintf(cur_id, sizeof cur_id, "%s", PQgetvalue(r, LIMIT - 2, 2));
                }
            }
            PQclear(r);
            free(sql);
            runs++;
            fprintf(stderr, "  %-6s %-44s rows=%-3d %s\n", bad ? "SEQ" : "ok", name, rows,
                    used[0] ? used : "(no index)");
        }
    }
    fprintf(stderr, "%d request list queries explained and run in %.1f s\n", runs, now_s() - t0);
    assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ nested statements */

typedef struct notices {
    char bad[2048];
    int plans;
} notices_t;

static void on_notice(void *arg, const PGresult *res)
{
    notices_t *nt = arg;
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *j = msg ? strchr(msg, '{') : NULL;
    cJSON *plan = j ? cJSON_Parse(j) : NULL;
    if (!plan)
        return;
    nt->plans++;
    char bad[512] = "";
    walk(plan, bad, sizeof bad, NULL, 0);
    if (bad[0] && strlen(nt->bad) < sizeof nt->bad - 600) {
        const cJSON *qt = cJSON_GetObjectItem(plan, "Query Text");
        size_t l = strlen(nt->bad);
        snprintf(nt->bad + l, sizeof nt->bad - l, "%s in: %.300s\n", bad,
                 cJSON_IsString(qt) ? qt->valuestring : "?");
    }
    cJSON_Delete(plan);
}

/* request_json() is not inlined, so EXPLAIN does not show the statement it runs per row
 * (the latest work order of the request).  auto_explain logs every nested plan. */
static void test_request_list_nested_plans(void **state)
{
    (void)state;
    PGconn *c = PQconnectdb(th_dburl());
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "LOAD 'auto_explain'");
    int loaded = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!loaded) {
        fprintf(stderr, "auto_explain unavailable (%s): nested plans not checked\n",
                PQerrorMessage(c));
        PQfinish(c);
        skip();
    }
    r = PQexec(c, "SET auto_explain.log_min_duration = 0; "
                  "SET auto_explain.log_nested_statements = on; "
                  "SET auto_explain.log_level = notice; SET auto_explain.log_format = json; "
                  "SET client_min_messages = notice");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    notices_t nt = {"", 0};
    PQsetNoticeReceiver(c, on_notice, &nt);
    request_filter_t f = {.org = org_id, .limit = LIMIT, .pii = 0};
    char *sql;
    const char *vals[40];
    int n = db_request_list_sql(&f, &sql, vals);
    r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), LIMIT);
    /* the rows did come with their work orders */
    int with_wo = 0;
    for (int i = 0; i < PQntuples(r); i++)
        with_wo += strstr(PQgetvalue(r, i, 0), "\"work_order\" : {") != NULL ||
                   strstr(PQgetvalue(r, i, 0), "\"work_order\":{") != NULL;
    PQclear(r);
    free(sql);
    PQfinish(c);
    fprintf(stderr, "auto_explain: %d plans (list + nested), %d rows with a work order\n", nt.plans,
            with_wo);
    if (nt.bad[0])
        fprintf(stderr, "SEQUENTIAL SCANS in nested statements:\n%s", nt.bad);
    assert_true(nt.plans > LIMIT);
    assert_true(with_wo > 0);
    assert_string_equal(nt.bad, "");
}

/* ------------------------------------------------------------------ prepared statements */

/* EXPLAIN EXECUTE of a statement prepared on c, after it ran `runs` times (the plan
 * cache chooses custom or generic plans from the sixth execution on). */
static int explain_prepared(PGconn *c, const char *name, const char *stmt, int n,
                            const char *const *vals, char *used, size_t ulen)
{
    char sql[4096];
    size_t l = (size_t)snprintf(sql, sizeof sql, "EXECUTE %s(", stmt);
    for (int i = 0; i < n; i++) {
        char *lit = vals[i] ? PQescapeLiteral(c, vals[i], strlen(vals[i])) : NULL;
        l += (size_t)snprintf(sql + l, sizeof sql - l, "%s%s", i ? ", " : "", lit ? lit : "NULL");
        PQfreemem(lit);
    }
    snprintf(sql + l, sizeof sql - l, ")");
    return explain_check(c, name, sql, 0, NULL, used, ulen);
}

static void test_timeline_plan(void **state)
{
    (void)state;
    assert_int_equal(db_pool_init(th_dburl(), 1, 5000), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);
    for (int i = 0; i < 8; i++) {
        char *tl = db_request_timeline(c, org_id, timeline_req, i % 2);
        assert_non_null(tl);
        cJSON *a = cJSON_Parse(tl);
        assert_int_equal(cJSON_GetArraySize(a), i % 2 ? 31 : 21);
        cJSON_Delete(a);
        free(tl);
    }
    /* the statement db_request_timeline prepared on this connection */
    PGresult *r = PQexec(db_pg(c), "SELECT name FROM pg_prepared_statements "
                                   "WHERE statement LIKE '%FROM request_events%'");
    assert_int_equal(PQntuples(r), 1);
    char stmt[64];
    snprintf(stmt, sizeof stmt, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    int failures = 0;
    for (int internal = 0; internal < 2; internal++) {
        const char *v[] = {timeline_req, org_id, internal ? "true" : "false"};
        char used[512];
        int bad = explain_prepared(db_pg(c), "timeline", stmt, 3, v, used, sizeof used);
        fprintf(stderr, "  %-6s timeline (%s) %s\n", bad ? "SEQ" : "ok", stmt, used);
        failures += bad != 0;
    }
    db_release(c);
    db_pool_shutdown();
    assert_int_equal(failures, 0);
}

/* The units resource exactly as api/org.c describes it (the generated SQL depends only
 * on this description). */
static const char *const unit_status[] = {"occupied", "vacant", "rented", "decorating", NULL};
static const field_t unit_fields[] = {
    {"project_id", FT_UUID, FF_REQUIRED | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"building_id", FT_UUID, FF_REQUIRED | FF_FILTER, 0, NULL, NULL, NULL, NULL},
    {"code", FT_TEXT, FF_REQUIRED, 64, NULL, NULL, NULL, NULL},
    {"floor", FT_INT, FF_UPDATABLE | FF_NULLABLE, 300, NULL, NULL, NULL, NULL},
    {"area_m2", FT_NUM, FF_UPDATABLE | FF_NULLABLE, 0, NULL, NULL, NULL, NULL},
    {"status", FT_ENUM, FF_UPDATABLE | FF_FILTER, 0, unit_status, NULL, NULL, "occupied"},
};

static void test_units_list_plans(void **state)
{
    (void)state;
    /* 100,000 more units: four buildings of 25,000, one per project; 1% decorating. */
    double t0 = now_s();
    assert_true(th_pg_ok(q("SET session_replication_role = replica", 0, NULL)));
    saved_ix_t ux;
    bulk_begin(&ux, "units");
    const char *v[] = {org_id};
    assert_true(th_pg_ok(q("INSERT INTO buildings (org_id, project_id, code, name, floors) "
                           "SELECT org_id, id, 'IXL', '大楼', 300 FROM projects WHERE org_id = $1",
                           1, v)));
    char per[16];
    snprintf(per, sizeof per, "%d", NUNITS / 4);
    const char *v2[] = {org_id, per};
    assert_true(
        th_pg_ok(q("INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2, "
                   "status) SELECT b.org_id, b.project_id, b.id, 'L-' || i, i % 300, 88, "
                   "CASE WHEN i % 100 = 0 THEN 'decorating' ELSE 'occupied' END "
                   "FROM buildings b, generate_series(1, $2::int) i "
                   "WHERE b.org_id = $1 AND b.code = 'IXL'",
                   2, v2)));
    bulk_end(&ux);
    assert_true(th_pg_ok(q("RESET session_replication_role", 0, NULL)));
    assert_true(th_pg_ok(q("ANALYZE units", 0, NULL)));
    fprintf(stderr, "loaded %d units in %.1f s\n", NUNITS, now_s() - t0);

    char project[40], projects2[100], building[40];
    val1(project, sizeof project, "SELECT id FROM projects WHERE org_id = $1 AND code = 'IX2'", 1,
         v);
    val1(projects2, sizeof projects2,
         "SELECT '{' || string_agg(id::text, ',') || '}' FROM projects WHERE org_id = $1 "
         "AND code IN ('IX1', 'IX3')",
         1, v);
    const char *vp[] = {project};
    val1(building, sizeof building,
         "SELECT id FROM buildings WHERE project_id = $1 AND code = 'IXL'", 1, vp);

    resource_t res = {.path = "units",
                      .table = "units",
                      .singular = "unit",
                      .fields = unit_fields,
                      .nfields = (int)(sizeof unit_fields / sizeof unit_fields[0]),
                      .project_expr = "t.project_id"};
    assert_int_equal(db_crud_prepare(&res), 0);
    assert_int_equal(res.nlist_filters, 3);
    assert_int_equal(db_pool_init(th_dburl(), 1, 5000), 0);
    db_conn_t *c = db_acquire();
    assert_non_null(c);

    static const struct {
        const char *name;
        int projects, project, building;
        const char *status;
    } cs[] = {
        {"units: org only", 0, 0, 0, NULL},
        {"units: projects scope", 1, 0, 0, NULL},
        {"units: project_id", 0, 1, 0, NULL},
        {"units: building_id", 0, 0, 1, NULL},
        {"units: status decorating", 0, 0, 0, "decorating"},
        {"units: projects scope + status", 1, 0, 0, "decorating"},
        {"units: project + building", 0, 1, 1, NULL},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        char cur_ts[64] = "", cur_id[40] = "";
        for (int with_cursor = 0; with_cursor < 2; with_cursor++) {
            const char *filters[3] = {cs[i].project ? project : NULL,
                                      cs[i].building ? building : NULL, cs[i].status};
            const char *pr = cs[i].projects ? projects2 : NULL;
            const char *ats = with_cursor && cur_ts[0] ? cur_ts : NULL;
            const char *aid = with_cursor && cur_ts[0] ? cur_id : NULL;
            char name[128];
            snprintf(name, sizeof name, "%s%s", cs[i].name, with_cursor ? " + cursor" : "");
            int rows = -1;
            for (int k = 0; k < 6; k++) {
                PGresult *r = db_crud_list(c, &res, org_id, pr, ats, aid, filters, LIMIT, 1);
                if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                    fprintf(stderr, "[%s] list failed: %s\n", name, PQresultErrorMessage(r));
                    failures++;
                    PQclear(r);
                    break;
                }
                rows = PQntuples(r);
                if (!with_cursor && rows == LIMIT) {
                    snprintf(cur_ts, sizeof cur_ts, "%s", PQgetvalue(r, LIMIT - 2, 1));
                    snprintf(cur_id, sizeof cur_id, "%s", PQgetvalue(r, LIMIT - 2, 2));
                }
                PQclear(r);
            }
            if (rows < 1 || rows > LIMIT) {
                fprintf(stderr, "[%s] %d rows\n", name, rows);
                failures++;
            }
            const char *vals[9] = {org_id, pr, ats, aid, "51", "true"};
            for (int k = 0; k < 3; k++)
                vals[6 + k] = filters[k];
            char used[512];
            int bad = explain_prepared(db_pg(c), name, res.list.name, 9, vals, used, sizeof used);
            failures += bad != 0;
            fprintf(stderr, "  %-6s %-44s rows=%-3d %s\n", bad ? "SEQ" : "ok", name, rows,
                    used[0] ? used : "(no index)");
        }
    }
    db_release(c);
    db_pool_shutdown();
    free((char *)res.get.sql);
    free((char *)res.get_lock.sql);
    free((char *)res.list.sql);
    free((char *)res.insert.sql);
    free((char *)res.update.sql);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_list_plans),
        cmocka_unit_test(test_request_list_nested_plans),
        cmocka_unit_test(test_timeline_plan),
        cmocka_unit_test(test_units_list_plans),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
