/*
 * tests/db/test_schema.c — "schema.sql is the whole current schema; numbered migrations
 * in db/migrations/ bring an existing database forward".  Database A gets schema.sql
 * (deskd --migrate on an empty database); database B gets 0001_init.sql alone, then
 * deskd --migrate walks it through the remaining migrations.  The two catalogs must be
 * identical: relations, columns (position, type, nullability, default, identity,
 * generation, collation), constraints, indexes, functions, triggers, types, sequences,
 * policies, views, extensions, row counts and the recorded schema versions.  Without
 * --migrate the server refuses an empty or an older database.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/harness.h"

static char base[400], admin_url[512], db_a[64], db_b[64], db_c[64], url_a[512], url_b[512],
    url_c[512];
static int highest; /* highest migration number in db/migrations */

static int admin(const char *sql)
{
    return th_pg_exec(admin_url, sql);
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
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

/* Runs deskd [--migrate] --no-serve against url; its stdout+stderr go to out.
 * Returns the exit status (128 + signal when killed). */
static int run_deskd(const char *url, int migrate, char *out, size_t outlen)
{
    const char *bin = getenv("DESKD_BIN");
    assert_non_null(bin);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        setenv("DATABASE_URL", url, 1);
        setenv("DESK_JWT_SECRET", "schema-test-secret-0123456789-abcdefghijklmnop", 1);
        setenv("DESK_LOG_LEVEL", "info", 1);
        setenv("DESK_SWEEP_INTERVAL_MS", "0", 1);
        if (migrate)
            execl(bin, bin, "--migrate", "--no-serve", (char *)NULL);
        else
            execl(bin, bin, "--no-serve", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    char buf[4096];
    ssize_t k;
    while ((k = read(pfd[0], buf, sizeof buf)) > 0) {
        size_t c = (size_t)k < outlen - 1 - n ? (size_t)k : outlen - 1 - n;
        memcpy(out + n, buf, c);
        n += c;
    }
    out[n] = 0;
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int version_of(const char *url, char *versions, size_t len)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0), string_agg(version::text, ',' "
                            "ORDER BY version) FROM schema_version");
    int v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        v = atoi(PQgetvalue(r, 0, 0));
        if (versions)
            snprintf(versions, len, "%s", PQgetvalue(r, 0, 1));
    } else {
        fprintf(stderr, "schema_version: %s", PQresultErrorMessage(r));
    }
    PQclear(r);
    PQfinish(c);
    return v;
}

static int setup(void **state)
{
    (void)state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(base, sizeof base, "%s",
             th_env_or("DESK_TEST_PG", "host=/tmp port=5432 user=postgres"));
    snprintf(admin_url, sizeof admin_url, "%s dbname=postgres", base);
    int tag = rand() % 100000;
    snprintf(db_a, sizeof db_a, "ts_a_%d_%d", (int)getpid(), tag);
    snprintf(db_b, sizeof db_b, "ts_b_%d_%d", (int)getpid(), tag);
    snprintf(url_a, sizeof url_a, "%s dbname=%s", base, db_a);
    snprintf(url_b, sizeof url_b, "%s dbname=%s", base, db_b);
    snprintf(db_c, sizeof db_c, "ts_c_%d_%d", (int)getpid(), tag);
    snprintf(url_c, sizeof url_c, "%s dbname=%s", base, db_c);

    const char *src = getenv("DESKD_SOURCE_DIR");
    if (!src || !getenv("DESKD_BIN")) {
        fprintf(stderr, "DESKD_SOURCE_DIR and DESKD_BIN must be set\n");
        return -1;
    }
    char pat[1024];
    snprintf(pat, sizeof pat, "%s/db/migrations/[0-9][0-9][0-9][0-9]_*.sql", src);
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0)
        return -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *name = strrchr(g.gl_pathv[i], '/') + 1;
        int v = atoi(name);
        if (v > highest)
            highest = v;
    }
    globfree(&g);

    char sql[200];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", db_a);
    if (admin(sql) != 0)
        return -1;
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", db_b);
    if (admin(sql) != 0)
        return -1;
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", db_c);
    return admin(sql);
}

static int teardown(void **state)
{
    (void)state;
    if (getenv("DESK_TEST_KEEP_DB"))
        return 0;
    char sql[200];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db_a);
    admin(sql);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db_b);
    admin(sql);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db_c);
    admin(sql);
    return 0;
}

static char out[65536];

/* A: an empty database is refused without --migrate and gets schema.sql with it. */
static void test_fresh_database(void **state)
{
    (void)state;
    int rc = run_deskd(url_a, 0, out, sizeof out);
    if (rc == 0)
        fprintf(stderr, "deskd --no-serve on an empty database:\n%s", out);
    assert_int_not_equal(rc, 0);

    rc = run_deskd(url_a, 1, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "deskd --migrate on an empty database exited %d:\n%s", rc, out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "schema applied"));
    assert_int_equal(version_of(url_a, NULL, 0), highest);

    /* now current: serving needs no migration, and migrating again changes nothing */
    rc = run_deskd(url_a, 0, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    rc = run_deskd(url_a, 1, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    assert_null(strstr(out, "applied"));
}

/* Runs the SQL of migration `num` on conn. */
static void apply_migration(PGconn *c, int num)
{
    char pat[1024];
    snprintf(pat, sizeof pat, "%s/db/migrations/%04d_*.sql", getenv("DESKD_SOURCE_DIR"), num);
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, 1);
    char *sql = read_file(g.gl_pathv[0]);
    globfree(&g);
    assert_non_null(sql);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "%04d: %s", num, PQresultErrorMessage(r));
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    free(sql);
}

/* B: a database at version 1 is refused as older, then migrated forward. */
static void test_upgrade_from_0001(void **state)
{
    (void)state;
    PGconn *c = PQconnectdb(url_b);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    apply_migration(c, 1);
    PQfinish(c);
    assert_int_equal(version_of(url_b, NULL, 0), 1);

    int rc = run_deskd(url_b, 0, out, sizeof out);
    if (rc == 0 || !strstr(out, "older"))
        fprintf(stderr, "deskd --no-serve on a version 1 database exited %d:\n%s", rc, out);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "older"));
    assert_int_equal(version_of(url_b, NULL, 0), 1); /* untouched */

    rc = run_deskd(url_b, 1, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "deskd --migrate from version 1 exited %d:\n%s", rc, out);
    assert_int_equal(rc, 0);
    if (highest > 1)
        assert_non_null(strstr(out, "migration applied"));
    assert_null(strstr(out, "schema applied"));
    assert_int_equal(version_of(url_b, NULL, 0), highest);

    rc = run_deskd(url_b, 0, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
}

static const char *one(PGconn *c, const char *sql)
{
    static char buf[4096];
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    snprintf(buf, sizeof buf, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return buf;
}

static const char *sqlstate_of(PGconn *c, const char *sql)
{
    static char buf[8];
    PGresult *r = PQexec(c, sql);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(buf, sizeof buf, "%s", st ? st : "ok");
    PQclear(r);
    return buf;
}

/* C: requests stored at version 3 come through 0004 (search terms) and 0005 (domains)
 * unchanged, searchable, and still held to the same value rules. */
static void test_upgrade_with_requests(void **state)
{
    (void)state;
    assert_true(highest >= 5);
    PGconn *c = PQconnectdb(url_c);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    for (int v = 1; v <= 3; v++)
        apply_migration(c, v);
    PGresult *r = PQexec(
        c, "WITH o AS (INSERT INTO organisations (code, name) VALUES ('up', '升级') RETURNING id), "
           "p AS (INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
           "SELECT id, 'p1', '一期', 'Asia/Shanghai', '{}' FROM o RETURNING org_id, id) "
           "INSERT INTO requests (org_id, project_id, number, type, channel, severity, category, "
           "location_kind, common_area, reporter_name, reporter_phone, title, description, "
           "received_at, last_event_at, created_by) "
           "SELECT org_id, id, 'TS-2026-000001', 'complaint', 'phone', 'major', 'quality', "
           "'common_area', '大堂', '王先生', '13800000000', '电梯', '电梯\"困人\\十分钟', now(), "
           "now(), "
           "gen_random_uuid() FROM p");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "seeding version 3: %s", PQresultErrorMessage(r));
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    char before[4096];
    snprintf(before, sizeof before, "%s",
             one(c, "SELECT row_to_json(x)::text FROM (SELECT id, number, type, channel, "
                    "severity, category, state, location_kind, common_area, reporter_name, "
                    "reporter_phone, title, description, validity FROM requests) x"));
    PQfinish(c);

    int rc = run_deskd(url_c, 1, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "deskd --migrate from version 3 with data exited %d:\n%s", rc, out);
    assert_int_equal(rc, 0);
    assert_int_equal(version_of(url_c, NULL, 0), highest);

    c = PQconnectdb(url_c);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    assert_string_equal(
        one(c, "SELECT row_to_json(x)::text FROM (SELECT id, number, type, channel, severity, "
               "category, state, location_kind, common_area, reporter_name, reporter_phone, "
               "title, description, validity FROM requests) x"),
        before);
    /* the stored row is found by its words, its number and across the quote */
    assert_string_equal(one(c,
                            "SELECT search_terms @> search_bigrams('困人') AND search_terms @> "
                            "search_bigrams('000001') AND search_terms @> search_bigrams('梯\"困') "
                            "AND NOT search_terms @> search_bigrams('漏水') FROM requests"),
                        "t");
    assert_string_equal(one(c, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                               "WHERE attrelid = 'requests'::regclass AND attname = 'state'"),
                        "request_state");
    /* the same rules as before, now enforced by the types */
    assert_string_equal(sqlstate_of(c, "UPDATE requests SET state = 'lost'"), "23514");
    assert_string_equal(sqlstate_of(c, "UPDATE requests SET channel = 'pigeon'"), "23514");
    assert_string_equal(sqlstate_of(c, "UPDATE requests SET title = repeat('长', 201)"), "22001");
    assert_string_equal(sqlstate_of(c, "UPDATE requests SET description = ''"), "23514");
    assert_string_equal(sqlstate_of(c, "UPDATE requests SET type = 'repair'"), "23514");
    assert_string_equal(sqlstate_of(c, "UPDATE requests SET title = repeat('长', 200)"), "ok");
    PQfinish(c);
}

/* ------------------------------------------------------------------ catalogs */

#define PUB      "'public'::regnamespace"
#define NOT_EXTC "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"

static const struct section {
    const char *name;
    const char *sql;
} sections[] = {
    {"relations",
     "SELECT c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, "
     "c.reloptions::text FROM pg_class c WHERE c.relnamespace = " PUB
     " AND c.relkind NOT IN ('i', 'I', 't') AND " NOT_EXTC " ORDER BY 1"},
    {"columns",
     "SELECT c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname, "
     "format_type(a.atttypid, a.atttypmod), a.attnotnull, "
     "coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), a.attidentity, a.attgenerated, "
     "coalesce(co.collname, '') FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
     "LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
     "LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100 "
     "WHERE c.relnamespace = " PUB " AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') "
     "AND a.attnum > 0 AND NOT a.attisdropped AND " NOT_EXTC " ORDER BY 1, 2"},
    {"constraints",
     "SELECT coalesce(nullif(c.conrelid, 0)::regclass::text, c.contypid::regtype::text), "
     "c.conname, c.contype, pg_get_constraintdef(c.oid, true) FROM pg_constraint c "
     "WHERE c.connamespace = " PUB " ORDER BY 1, 2, 4"},
    {"indexes",
     "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
     "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = " PUB " ORDER BY 1"},
    {"functions",
     "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p "
     "WHERE p.pronamespace = " PUB " AND p.prokind IN ('f', 'p') AND NOT EXISTS (SELECT 1 "
     "FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1"},
    {"aggregates", "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = " PUB
                   " AND p.prokind NOT IN ('f', 'p') AND NOT EXISTS (SELECT 1 FROM pg_depend d "
                   "WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1"},
    {"triggers",
     "SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled "
     "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = " PUB
     " AND NOT t.tgisinternal ORDER BY 1, 2"},
    {"types", "SELECT t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull, "
              "coalesce(t.typdefault, ''), coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY "
              "e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '') FROM pg_type t "
              "WHERE t.typnamespace = " PUB " AND t.typtype IN ('e', 'd', 'r', 'm') AND NOT EXISTS "
              "(SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e') ORDER BY 1"},
    {"sequences",
     "SELECT s.seqrelid::regclass::text, format_type(s.seqtypid, NULL), s.seqstart, "
     "s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle FROM pg_sequence s "
     "JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = " PUB " ORDER BY 1"},
    {"views",
     "SELECT c.relname, pg_get_viewdef(c.oid, true) FROM pg_class c WHERE c.relnamespace = " PUB
     " AND c.relkind IN ('v', 'm') ORDER BY 1"},
    {"policies", "SELECT p.polrelid::regclass::text, p.polname, p.polcmd, p.polpermissive, "
                 "p.polroles::regrole[]::text, coalesce(pg_get_expr(p.polqual, p.polrelid), ''), "
                 "coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') FROM pg_policy p "
                 "ORDER BY 1, 2"},
    {"extensions",
     "SELECT e.extname, e.extversion, e.extnamespace::regnamespace::text FROM pg_extension e "
     "ORDER BY 1"},
    {"row counts",
     "SELECT c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n "
     "FROM public.%I', c.relname), false, true, '')))[1]::text FROM pg_class c "
     "WHERE c.relnamespace = " PUB " AND c.relkind IN ('r', 'p') AND c.relname <> "
     "'schema_version' ORDER BY 1"},
    {"schema_version", "SELECT version FROM schema_version ORDER BY 1"},
};

/* The rows of sql as text: columns separated by " | ", rows by newlines. */
static char *dump(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "catalog query failed: %s%s\n", PQresultErrorMessage(r), sql);
        PQclear(r);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    s[0] = 0;
    for (int i = 0; i < PQntuples(r); i++)
        for (int j = 0; j < PQnfields(r); j++) {
            const char *v = PQgetisnull(r, i, j) ? "NULL" : PQgetvalue(r, i, j);
            size_t need = strlen(v) + 8;
            if (n + need >= cap) {
                cap = (cap + need) * 2;
                s = realloc(s, cap);
            }
            n += (size_t)snprintf(s + n, cap - n, "%s%s%s", v, j + 1 < PQnfields(r) ? " | " : "",
                                  j + 1 < PQnfields(r) ? "" : "\n");
        }
    PQclear(r);
    return s;
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

static void test_catalogs_identical(void **state)
{
    (void)state;
    PGconn *a = PQconnectdb(url_a), *b = PQconnectdb(url_b);
    assert_int_equal(PQstatus(a), CONNECTION_OK);
    assert_int_equal(PQstatus(b), CONNECTION_OK);
    int differ = 0;
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        char *da = dump(a, sections[i].sql), *dbb = dump(b, sections[i].sql);
        assert_non_null(da);
        assert_non_null(dbb);
        if (strcmp(da, dbb) != 0) {
            differ++;
            char fa[64], fb[64], cmd[256];
            snprintf(fa, sizeof fa, "/tmp/schema_a_%d.txt", (int)getpid());
            snprintf(fb, sizeof fb, "/tmp/schema_b_%d.txt", (int)getpid());
            write_file(fa, da);
            write_file(fb, dbb);
            fprintf(stderr, "\n%s differ between schema.sql (---) and 0001 + migrations (+++):\n",
                    sections[i].name);
            snprintf(cmd, sizeof cmd, "diff -u %s %s 1>&2", fa, fb);
            int rc = system(cmd);
            (void)rc;
            unlink(fa);
            unlink(fb);
        } else {
            size_t rows = 0;
            for (const char *p = da; *p; p++)
                rows += *p == '\n';
            fprintf(stderr, "  same  %-15s (%zu lines)\n", sections[i].name, rows);
        }
        free(da);
        free(dbb);
    }
    PQfinish(a);
    PQfinish(b);
    assert_int_equal(differ, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_database),
        cmocka_unit_test(test_upgrade_from_0001),
        cmocka_unit_test(test_catalogs_identical),
        cmocka_unit_test(test_upgrade_with_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
