/*
 * tests/api/test_import.c — roster imports end to end: the sample rosters in
 * examples/roster (UTF-8 with BOM and English headers, zh-CN headers, GB18030 through
 * multipart, tab-separated staff list), dry runs that write nothing, every class of row
 * problem refusing the whole file, re-imports that update or leave unchanged instead of
 * duplicating, organisation scope, and the job resource.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/harness.h"

static char root[512];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "%s", __FILE__);
    char *p = strstr(root, "/tests/api/");
    if (p)
        *p = 0;
    static const char *const env[] = {"DESK_IMPORT_MAX_BODY=2000000", NULL};
    return th_start(env);
}

static char *slurp(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        fail_msg("cannot read %s", path);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

/* POST /v1/imports with a text/csv body. */
static th_resp_t *post_csv(const char *user, const char *kind, int dry, const char *body,
                           size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/imports?kind=%s%s", kind, dry ? "&dry_run=true" : "");
    static const char *const h[] = {"Content-Type: text/csv", NULL};
    return th_req_raw("POST", path, th_token(user), body, len, h);
}

/* The same as multipart/form-data: a kind field, then the file part. */
static th_resp_t *post_multipart(const char *user, const char *kind, int dry, const char *file,
                                 size_t flen)
{
    const char *b = "----deskdTestBoundary7MA4YWxkTrZu0gW";
    size_t cap = flen + 1024, o = 0;
    char *body = malloc(cap);
    o += (size_t)snprintf(body + o, cap - o,
                          "--%s\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n%s\r\n", b,
                          kind);
    if (dry)
        o += (size_t)snprintf(body + o, cap - o,
                              "--%s\r\nContent-Disposition: form-data; "
                              "name=\"dry_run\"\r\n\r\ntrue\r\n",
                              b);
    o += (size_t)snprintf(
        body + o, cap - o,
        "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"roster.csv\"\r\nContent-Type: application/vnd.ms-excel\r\n\r\n",
        b);
    memcpy(body + o, file, flen);
    o += flen;
    o += (size_t)snprintf(body + o, cap - o, "\r\n--%s--\r\n", b);
    char ct[160];
    snprintf(ct, sizeof ct, "Content-Type: multipart/form-data; boundary=%s", b);
    const char *h[] = {ct, NULL};
    th_resp_t *r = th_req_raw("POST", "/v1/imports", th_token(user), body, o, h);
    free(body);
    return r;
}

static th_resp_t *post_file(const char *user, const char *kind, const char *rel)
{
    size_t n;
    char *b = slurp(rel, &n);
    th_resp_t *r = post_csv(user, kind, 0, b, n);
    free(b);
    return r;
}

static void expect_counts(const th_resp_t *r, const char *kind, long created, long updated,
                          long unchanged)
{
    char p[64];
    if (r->status != 200)
        fail_msg("status %ld: %s", r->status, r->body);
    snprintf(p, sizeof p, "counts.%s.created", kind);
    assert_int_equal(th_jn(r->json, p), created);
    snprintf(p, sizeof p, "counts.%s.updated", kind);
    assert_int_equal(th_jn(r->json, p), updated);
    snprintf(p, sizeof p, "counts.%s.unchanged", kind);
    assert_int_equal(th_jn(r->json, p), unchanged);
}

/* The codes of the report's errors as "row:column:code;..." */
static void report(const th_resp_t *r, char *out, size_t n)
{
    size_t o = 0;
    out[0] = 0;
    const cJSON *e, *errs = cJSON_GetObjectItem(r->json, "errors");
    cJSON_ArrayForEach(e, errs)
    {
        const cJSON *col = cJSON_GetObjectItem(e, "column");
        o += (size_t)snprintf(out + o, n - o, "%ld:%s:%s;", th_jn(e, "row"),
                              cJSON_IsString(col) ? col->valuestring : "", th_js(e, "code"));
        assert_true(strlen(th_js(e, "detail")) > 0);
    }
}

static const char *count(const char *sql)
{
    return th_sql1(sql, NULL, 0);
}

static void import_samples(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    th_resp_t *r = post_file("admin", "projects", "examples/roster/projects.csv");
    expect_counts(r, "projects", 2, 0, 0);
    assert_string_equal(th_js(r->json, "encoding"), "utf-8-bom");
    assert_string_equal(th_js(r->json, "status"), "succeeded");
    th_free(r);
    r = post_file("admin", "units", "examples/roster/units.csv");
    expect_counts(r, "units", 5, 0, 0);
    expect_counts(r, "buildings", 3, 0, 0);
    th_free(r);
    size_t n;
    char *gb = slurp("examples/roster/residents-gb18030.csv", &n);
    r = post_multipart("admin", "residents", 0, gb, n);
    free(gb);
    expect_counts(r, "residents", 6, 0, 0);
    assert_string_equal(th_js(r->json, "encoding"), "gb18030");
    th_free(r);
    r = post_file("admin", "departments", "examples/roster/departments.csv");
    expect_counts(r, "departments", 3, 0, 0);
    th_free(r);
    r = post_file("admin", "users", "examples/roster/users.tsv");
    expect_counts(r, "users", 3, 0, 0);
    assert_string_equal(th_js(r->json, "delimiter"), "tab");
    th_free(r);
}

static void test_sample_rosters(void **state)
{
    (void)state;
    import_samples();
    /* projects got their default SLA policies and hours */
    assert_string_equal(count("SELECT count(*) FROM projects p WHERE code IN ('HXY','QSW') AND "
                              "EXISTS (SELECT 1 FROM sla_policies s WHERE s.project_id = p.id)"),
                        "2");
    /* units: 单元 + 房号 make the code; Chinese statuses mapped */
    assert_string_equal(
        count("SELECT u.status || ':' || u.area_m2 FROM units u JOIN buildings b ON "
              "b.id = u.building_id JOIN projects p ON p.id = u.project_id WHERE "
              "p.code = 'HXY' AND b.code = '1栋' AND u.code = '2-201'"),
        "vacant:120.35");
    /* one person owning two flats is one resident with two units */
    assert_string_equal(count("SELECT count(*) || ':' || (SELECT count(*) FROM resident_units ru "
                              "WHERE ru.resident_id = min(r.id::text)::uuid) FROM residents r "
                              "WHERE r.phone = '13800000001'"),
                        "1:2");
    /* the minor family member, and the ID number kept only as a keyed hash */
    assert_string_equal(count("SELECT ru.relation || ':' || ru.is_adult FROM residents r JOIN "
                              "resident_units ru ON ru.resident_id = r.id WHERE r.name = '陈小宇'"),
                        "family:false");
    const char *h = count("SELECT id_number_hash FROM residents WHERE name = '林美华'");
    assert_non_null(h);
    assert_true(!strncmp(h, "pii1$", 5));
    assert_null(strstr(h, "198203020022"));
    assert_string_equal(count("SELECT count(*) FROM residents WHERE id_number_hash LIKE '%1980%'"),
                        "0");
    assert_string_equal(count("SELECT name FROM residents WHERE phone = '13800000004'"),
                        "吴\"阿强\"");
    /* staff: department by name, projects by codes, initial password or none */
    assert_string_equal(count("SELECT u.role || ':' || d.name || ':' || (SELECT count(*) FROM "
                              "user_projects up WHERE up.user_id = u.id) FROM users u JOIN "
                              "departments d ON d.id = u.department_id WHERE username = "
                              "'hxy.zhuguan'"),
                        "supervisor:和谐苑客服中心:2");
    char *tok = th_login("hxy.kefu1", "ChangeMe-2026");
    assert_non_null(tok);
    free(tok);
    assert_string_equal(count("SELECT password_hash FROM users WHERE username = 'hxy.gongcheng1'"),
                        "!");
}

static void test_reimport_is_idempotent(void **state)
{
    (void)state;
    import_samples();
    const char *before = count("SELECT count(*) || ':' || sum(version) FROM units");
    char b1[64];
    snprintf(b1, sizeof b1, "%s", before);
    th_resp_t *r = post_file("admin", "units", "examples/roster/units.csv");
    expect_counts(r, "units", 0, 0, 5);
    expect_counts(r, "buildings", 0, 0, 0);
    th_free(r);
    assert_string_equal(count("SELECT count(*) || ':' || sum(version) FROM units"), b1);
    /* an updated roster: one status changed, one unit added, one cell left empty (kept) */
    const char *upd = "项目,楼栋,单元,房号,楼层,面积,状态\n"
                      "HXY,1栋,1,101,1,89.50,出租\n"
                      "HXY,1栋,1,102,1,,出租\n"
                      "HXY,1栋,2,202,2,120.35,空置\n";
    r = post_csv("admin", "units", 0, upd, strlen(upd));
    expect_counts(r, "units", 1, 1, 1);
    th_free(r);
    assert_string_equal(count("SELECT status FROM units WHERE code = '1-101' AND project_id = "
                              "(SELECT id FROM projects WHERE code = 'HXY')"),
                        "rented");
    assert_string_equal(count("SELECT area_m2 FROM units WHERE code = '1-102' AND project_id = "
                              "(SELECT id FROM projects WHERE code = 'HXY')"),
                        "92.00");
    /* residents: same file unchanged; a changed household role updates */
    size_t n;
    char *gb = slurp("examples/roster/residents-gb18030.csv", &n);
    r = post_multipart("admin", "residents", 0, gb, n);
    free(gb);
    expect_counts(r, "residents", 0, 0, 6);
    th_free(r);
    const char *res = "项目,楼栋,单元,房号,姓名,联系电话,户主关系,是否成年\n"
                      "HXY,1栋,1,101,陈小宇,,家属,是\n";
    r = post_csv("admin", "residents", 0, res, strlen(res));
    expect_counts(r, "residents", 0, 1, 0);
    th_free(r);
    assert_string_equal(count("SELECT count(*) || ':' || bool_and(ru.is_adult) FROM residents r "
                              "JOIN resident_units ru ON ru.resident_id = r.id WHERE r.name = "
                              "'陈小宇'"),
                        "1:true");
    r = post_file("admin", "users", "examples/roster/users.tsv");
    expect_counts(r, "users", 0, 0, 3);
    th_free(r);
    r = post_file("admin", "departments", "examples/roster/departments.csv");
    expect_counts(r, "departments", 0, 0, 3);
    th_free(r);
}

static void test_dry_run_writes_nothing(void **state)
{
    (void)state;
    import_samples();
    const char *csv = "project,building,unit,floor\nHXY,9栋,901,9\nHXY,9栋,902,9\n";
    const char *before = count("SELECT count(*) FROM units");
    char b[32];
    snprintf(b, sizeof b, "%s", before);
    th_resp_t *r = post_csv("admin", "units", 1, csv, strlen(csv));
    expect_counts(r, "units", 2, 0, 0);
    expect_counts(r, "buildings", 1, 0, 0);
    assert_string_equal(th_js(r->json, "status"), "checked");
    assert_true(th_jtrue(r->json, "dry_run"));
    th_free(r);
    assert_string_equal(count("SELECT count(*) FROM units"), b);
    assert_string_equal(count("SELECT count(*) FROM buildings WHERE code = '9栋'"), "0");
    /* a dry run with problems answers 200 with the report, status failed */
    const char *bad = "project,building,unit,floor\nHXY,9栋,901,abc\n";
    r = post_multipart("admin", "units", 1, bad, strlen(bad));
    assert_int_equal(r->status, 200);
    assert_string_equal(th_js(r->json, "status"), "failed");
    char rep[512];
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "2:floor:invalid_format;");
    th_free(r);
    assert_string_equal(count("SELECT count(*) FROM units"), b);
}

static void test_row_errors_refuse_everything(void **state)
{
    (void)state;
    import_samples();
    char rep[2048];
    /* units: one good row and one of each problem */
    const char *units = "项目,楼栋,房号,楼层,面积,状态\n"
                        "HXY,7栋,701,7,80,自住\n"    /* 2 good */
                        "NOPE,7栋,702,7,80,自住\n"   /* 3 unknown project */
                        "HXY,7栋,701,7,81,自住\n"    /* 4 duplicate of row 2 */
                        "HXY,7栋,703,301,80,自住\n"  /* 5 floor out of range */
                        "HXY,7栋,704,7,-5,自住\n"    /* 6 area out of range */
                        "HXY,7栋,705,7,80,已售\n"    /* 7 bad status */
                        "HXY,,706,7,80,自住\n"       /* 8 missing building */
                        "HXY,7栋,707,7,80,自住,x\n"; /* 9 too many fields */
    th_resp_t *r = post_csv("admin", "units", 0, units, strlen(units));
    assert_true(th_is_problem(r, 422, "invalid_rows"));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "5:floor:out_of_range;6:area_m2:out_of_range;7:status:invalid_enum;"
                             "8:building:required;9::too_many_fields;");
    assert_true(strlen(th_js(r->json, "import_id")) == 36);
    th_free(r);
    /* the reference checks run once the rows themselves are sound */
    const char *units2 = "项目,楼栋,房号\nHXY,7栋,701\nNOPE,7栋,702\nHXY,7栋,701\n";
    r = post_csv("admin", "units", 0, units2, strlen(units2));
    assert_true(th_is_problem(r, 422, "invalid_rows"));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "3:project:unknown_project;4:unit:duplicate_row;");
    th_free(r);
    assert_string_equal(count("SELECT count(*) FROM buildings WHERE code = '7栋'"), "0");
    /* residents: references to buildings and units, values */
    const char *res = "项目,楼栋,房号,姓名,联系电话,身份证号,户主关系,是否成年\n"
                      "HXY,1栋,1-101,新人,13800000009,,业主,是\n"
                      "HXY,99栋,1-101,甲,13800000010,,业主,是\n"
                      "HXY,1栋,9-999,乙,13800000011,,业主,是\n";
    r = post_csv("admin", "residents", 0, res, strlen(res));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "3:building:unknown_building;4:unit:unknown_unit;");
    th_free(r);
    const char *res2 = "项目,楼栋,房号,姓名,联系电话,身份证号,户主关系,是否成年\n"
                       "HXY,1栋,1-101,丙,phone?,12,朋友,也许\n";
    r = post_csv("admin", "residents", 0, res2, strlen(res2));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "2:phone:invalid_format;2:id_number:invalid_format;2:relation:"
                             "invalid_enum;2:is_adult:invalid_enum;");
    th_free(r);
    assert_string_equal(count("SELECT count(*) FROM residents WHERE name = '新人'"), "0");
    /* users: a name of another organisation, an unknown department or project, a bad role */
    const char *users = "username,name,role,department,projects\n"
                        "other.agent,甲,agent,,\n"
                        "new.one,乙,agent,没有这个部门,\n"
                        "new.two,丙,agent,,HXY;NOPE\n"
                        "new.three,丁,resident,,\n";
    r = post_csv("admin", "users", 0, users, strlen(users));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "5:role:invalid_enum;");
    th_free(r);
    const char *users2 = "username,name,role,department,projects\n"
                         "other.agent,甲,agent,,\n"
                         "new.one,乙,agent,没有这个部门,\n"
                         "new.two,丙,agent,,HXY;NOPE\n"
                         "NEW.TWO,丙,agent,,\n";
    r = post_csv("admin", "users", 0, users2, strlen(users2));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "2:username:username_taken;3:department:unknown_department;4:"
                             "projects:unknown_project;5:username:duplicate_row;");
    th_free(r);
    assert_string_equal(count("SELECT count(*) FROM users WHERE username LIKE 'new.%'"), "0");
    /* the header: a required column missing, a column twice */
    const char *head = "项目,楼栋,楼栋\nHXY,1,2\n";
    r = post_csv("admin", "units", 0, head, strlen(head));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "1:building:duplicate_column;1:unit:missing_column;");
    th_free(r);
    /* the file itself: an unclosed quote, bytes in no supported encoding, an empty file */
    const char *open = "project,building,unit\nHXY,\"1栋,101\n";
    r = post_csv("admin", "units", 0, open, strlen(open));
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "2::unterminated_quote;");
    th_free(r);
    const char enc[] = "project,building,unit\n\x81\x20,1,2\n";
    r = post_csv("admin", "units", 0, enc, sizeof enc - 1);
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "2::invalid_encoding;");
    th_free(r);
    r = post_csv("admin", "units", 0, "", 0);
    assert_true(th_is_problem(r, 400, "body_required") || th_is_problem(r, 422, "invalid_rows"));
    th_free(r);
    r = post_csv("admin", "units", 0, "\r\n", 2);
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "1::empty_file;");
    th_free(r);
}

static void test_large_file_streams(void **state)
{
    (void)state;
    import_samples();
    /* 6000 units (~150 kB, many reads, a progress update) through one call */
    size_t cap = 6000 * 40 + 64, o = 0;
    char *b = malloc(cap);
    o += (size_t)snprintf(b, cap, "project\tbuilding\tunit\tfloor\tarea_m2\r\n");
    for (int i = 0; i < 6000; i++)
        o += (size_t)snprintf(b + o, cap - o, "QSW\tT%d\t%d\t%d\t%d.25\r\n", i / 600, i, i % 30 + 1,
                              50 + i % 90);
    th_resp_t *r = post_csv("admin", "units", 0, b, o);
    expect_counts(r, "units", 6000, 0, 0);
    expect_counts(r, "buildings", 10, 0, 0);
    assert_int_equal(th_jn(r->json, "rows_read"), 6000);
    assert_int_equal(th_jn(r->json, "file_bytes"), (long)o);
    th_free(r);
    r = post_csv("admin", "units", 0, b, o);
    expect_counts(r, "units", 0, 0, 6000);
    th_free(r);
    free(b);
    /* above DESK_IMPORT_MAX_BODY (2000000 here): 413 before anything is read */
    size_t big = 2000100;
    char *x = malloc(big);
    memset(x, 'a', big);
    r = post_csv("admin", "units", 0, x, big);
    assert_true(th_is_problem(r, 413, "body_too_large"));
    th_free(r);
    free(x);
}

static void test_scope_and_roles(void **state)
{
    (void)state;
    import_samples();
    const char *csv = "project,building,unit\nHXY,1栋,999\n";
    static const char *const users[] = {"agent", "manager", "gm", "auditor", "resident", NULL};
    for (int i = 0; users[i]; i++) {
        th_resp_t *r = post_csv(users[i], "units", 0, csv, strlen(csv));
        assert_true(th_is_problem(r, 403, "forbidden"));
        th_free(r);
        r = th_req("GET", "/v1/imports", th_token(users[i]), NULL, NULL);
        assert_int_equal(r->status, 403);
        th_free(r);
    }
    th_resp_t *r = post_csv("admin", "units", 0, csv, strlen(csv));
    assert_int_equal(r->status, 200);
    char job[40];
    snprintf(job, sizeof job, "%s", th_js(r->json, "id"));
    th_free(r);
    /* the other organisation's admin: HXY is not a project code there */
    r = post_csv("other.admin", "units", 0, csv, strlen(csv));
    char rep[256];
    report(r, rep, sizeof rep);
    assert_string_equal(rep, "2:project:unknown_project;");
    th_free(r);
    /* SUNRISE exists in both: the import lands in the caller's own */
    const char *sun = "project,building,unit\nSUNRISE,B1,8-808\n";
    r = post_csv("other.admin", "units", 0, sun, strlen(sun));
    expect_counts(r, "units", 1, 0, 0);
    th_free(r);
    assert_string_equal(count("SELECT o.code FROM units u JOIN organisations o ON o.id = u.org_id "
                              "WHERE u.code = '8-808'"),
                        "other");
    /* jobs are the organisation's own */
    char path[96];
    snprintf(path, sizeof path, "/v1/imports/%s", job);
    r = th_req("GET", path, th_token("other.admin"), NULL, NULL);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
    r = th_req("GET", "/v1/imports?limit=200", th_token("other.admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
        assert_string_not_equal(th_js(it, "id"), job);
    th_free(r);
}

static void test_job_resource(void **state)
{
    (void)state;
    import_samples();
    size_t n;
    char *b = slurp("examples/roster/departments.csv", &n);
    th_resp_t *r = post_csv("admin", "departments", 0, b, n);
    free(b);
    assert_int_equal(r->status, 200);
    char id[40], loc[96];
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    snprintf(loc, sizeof loc, "/v1/imports/%s", id);
    assert_string_equal(th_header(r, "Location"), loc);
    th_free(r);
    r = th_req("GET", loc, th_token("admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(th_js(r->json, "kind"), "departments");
    assert_string_equal(th_js(r->json, "status"), "succeeded");
    assert_int_equal(th_jn(r->json, "rows_read"), 3);
    assert_int_equal(th_jn(r->json, "counts.departments.unchanged"), 3);
    assert_false(th_jnull(r->json, "finished_at"));
    char want[100];
    char cmd[700];
    snprintf(cmd, sizeof cmd, "sha256sum '%s/examples/roster/departments.csv'", root);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(want, sizeof want, p));
    pclose(p);
    want[64] = 0;
    assert_string_equal(th_js(r->json, "file_sha256"), want);
    assert_string_equal(th_js(r->json, "created_by"),
                        th_sql1("SELECT id FROM users WHERE username = 'admin'", NULL, 0));
    th_free(r);
    r = th_req("GET", "/v1/imports?limit=2", th_token("admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(th_js(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "items"), 0), "id"),
                        id);
    assert_false(th_jnull(r->json, "next_cursor"));
    th_free(r);
    /* refused requests */
    static const char *const h[] = {"Content-Type: application/json", NULL};
    r = th_req_raw("POST", "/v1/imports?kind=units", th_token("admin"), "{}", 2, h);
    assert_true(th_is_problem(r, 415, "unsupported_media_type"));
    th_free(r);
    r = post_csv("admin", "flats", 0, "a\n", 2);
    assert_true(th_is_problem(r, 400, "invalid_query"));
    th_free(r);
    static const char *const csvh[] = {"Content-Type: text/csv", NULL};
    r = th_req_raw("POST", "/v1/imports", th_token("admin"), "a\n", 2, csvh);
    assert_true(th_is_problem(r, 400, "invalid_query"));
    th_free(r);
    r = th_req("GET", "/v1/imports/00000000-0000-0000-0000-000000000000", th_token("admin"), NULL,
               NULL);
    assert_true(th_is_problem(r, 404, "not_found"));
    th_free(r);
}

/* A job left 'running' by a server that stopped is marked failed by the janitor; a job whose
 * importing session is alive (it holds the job's advisory lock) is left alone, and a
 * finished import leaves no lock behind. */
static void test_abandoned_job_is_failed(void **state)
{
    (void)state;
    import_samples();
    const char *last = count("SELECT id FROM imports WHERE status <> 'running' ORDER BY "
                             "started_at DESC LIMIT 1");
    assert_non_null(last);
    char done[40];
    snprintf(done, sizeof done, "%s", last);
    const char *p1[] = {done};
    assert_string_equal(th_sql1("SELECT pg_try_advisory_lock(hashtextextended('deskd:import:' || "
                                "$1::text, 0))::text",
                                p1, 1),
                        "true");
    assert_string_equal(th_sql1("SELECT pg_advisory_unlock(hashtextextended('deskd:import:' || "
                                "$1::text, 0))::text",
                                p1, 1),
                        "true");
    char dead[40], alive[40];
    const char *ins = "INSERT INTO imports (org_id, kind, created_by, started_at) SELECT org_id, "
                      "'units', id, now() - interval '2 minutes' FROM users WHERE username = "
                      "'admin' RETURNING id";
    snprintf(dead, sizeof dead, "%s", th_sql1(ins, NULL, 0));
    snprintf(alive, sizeof alive, "%s", th_sql1(ins, NULL, 0));
    const char *p2[] = {alive};
    th_sql1("SELECT pg_advisory_lock(hashtextextended('deskd:import:' || $1::text, 0))::text", p2,
            1);
    const char *env[] = {"DESK_JANITOR_INTERVAL=1", NULL};
    assert_int_equal(th_restart(env), 0);
    const char *p3[] = {dead};
    int failed = 0;
    for (int i = 0; i < 150 && !failed; i++) { /* generous: the janitor runs every second */
        usleep(100000);
        failed = !strcmp(th_sql1("SELECT status FROM imports WHERE id = $1", p3, 1), "failed");
    }
    assert_true(failed);
    th_resp_t *r = th_req("GET", "/v1/imports?limit=100", th_token("admin"), NULL, NULL);
    assert_int_equal(r->status, 200);
    int seen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), dead)) {
            seen = 1;
            assert_string_equal(th_js(it, "status"), "failed");
            assert_non_null(strstr(th_js(it, "detail"), "server stopped"));
            assert_false(th_jnull(it, "finished_at"));
        }
    }
    assert_true(seen);
    th_free(r);
    assert_string_equal(th_sql1("SELECT status FROM imports WHERE id = $1", p2, 1), "running");
    th_sql1("SELECT pg_advisory_unlock(hashtextextended('deskd:import:' || $1::text, 0))::text", p2,
            1);
    th_sql1("UPDATE imports SET status = 'failed', finished_at = now() WHERE id = $1 RETURNING "
            "id",
            p2, 1);
    assert_int_equal(th_restart(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_rosters),
        cmocka_unit_test(test_reimport_is_idempotent),
        cmocka_unit_test(test_dry_run_writes_nothing),
        cmocka_unit_test(test_row_errors_refuse_everything),
        cmocka_unit_test(test_large_file_streams),
        cmocka_unit_test(test_scope_and_roles),
        cmocka_unit_test(test_job_resource),
        cmocka_unit_test(test_abandoned_job_is_failed),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
