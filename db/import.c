/*
 * db/import.c — roster import SQL (db/import.h).  A file's rows are COPYed into the
 * temporary table imp (n = the file's row number, c1..c8 = the kind's normalised values,
 * see core/roster.c for which is which); every check and every write is then one
 * set-based statement over the whole table, so 100,000 rows cost a handful of statements,
 * not 100,000 round trips.
 */
#include "db/import.h"
#include "db/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the job row */

#define JOB_JSON(errs)                                                                             \
    "json_build_object('id', j.id, 'organisation_id', j.org_id, 'kind', j.kind, 'dry_run', "       \
    "j.dry_run, 'status', j.status, 'file_sha256', j.file_sha256, 'file_bytes', j.file_bytes, "    \
    "'encoding', j.encoding, 'delimiter', j.delimiter, 'rows_read', j.rows_read, "                 \
    "'rows_failed', j.rows_failed, 'counts', j.counts, " errs "'detail', j.detail, "               \
    "'created_by', j.created_by, 'started_at', rfc3339(j.started_at), 'finished_at', "             \
    "rfc3339(j.finished_at))::text"

/* The importing connection holds a session advisory lock on its job from the INSERT until
 * db_import_job_unlock: a job still 'running' whose lock anybody can take was left by a
 * server that stopped (its session, and with it the lock, ended), and the janitor marks it
 * failed (db_janitor_abandoned_imports).  The key is IMPORT_LOCK_KEY in db/import.h. */
static const db_stmt_t job_start = {
    "import_job_start",
    "WITH j AS (INSERT INTO imports (org_id, kind, dry_run, created_by) VALUES ($1, $2, $3, $4) "
    "RETURNING id) SELECT j.id FROM j, pg_advisory_lock(" IMPORT_LOCK_KEY("j.id") ")",
    4};
static const db_stmt_t job_unlock = {
    "import_job_unlock", "SELECT pg_advisory_unlock(" IMPORT_LOCK_KEY("$1::uuid") ")", 1};
static const db_stmt_t job_progress = {
    "import_job_progress",
    "UPDATE imports SET rows_read = $3, file_bytes = $4 WHERE id = $1 AND org_id = $2 AND "
    "status = 'running'",
    4};
static const db_stmt_t job_finish = {
    "import_job_finish",
    "UPDATE imports j SET status = $3, file_sha256 = $4, file_bytes = $5, encoding = $6, "
    "delimiter = $7, rows_read = $8, rows_failed = $9, counts = $10::jsonb, errors = "
    "$11::jsonb, detail = $12, finished_at = clock_timestamp() WHERE id = $1 AND org_id = $2 "
    "RETURNING " JOB_JSON("'errors', j.errors, "),
    12};
static const db_stmt_t job_get = {"import_job_get",
                                  "SELECT " JOB_JSON("'errors', j.errors, ") " FROM imports j "
                                                                             "WHERE j.id = $1 AND "
                                                                             "j.org_id = $2",
                                  2};
static const db_stmt_t job_list = {
    "import_job_list",
    "SELECT " JOB_JSON(
        "'errors_count', jsonb_array_length(j.errors), ") ", "
                                                          "rfc3339(j.started_at), j.id FROM "
                                                          "imports j WHERE j.org_id = $1 AND "
                                                          "($2::timestamptz IS "
                                                          "NULL OR (j.started_at, j.id) < "
                                                          "($2::timestamptz, $3::uuid)) ORDER BY "
                                                          "j.started_at DESC, "
                                                          "j.id DESC LIMIT $4",
    4};

int db_import_job_start(db_conn_t *c, const char *org, const char *kind, int dry_run,
                        const char *user, char id[40])
{
    const char *v[] = {org, kind, dry_run ? "true" : "false", user};
    char *s = db_exec_text(c, &job_start, v);
    if (!s)
        return -1;
    snprintf(id, 40, "%s", s);
    free(s);
    return 0;
}

void db_import_job_unlock(db_conn_t *c, const char *id)
{
    const char *v[] = {id};
    PQclear(db_exec(c, &job_unlock, v));
}

int db_import_job_progress(db_conn_t *c, const char *id, const char *org, long rows,
                           long long bytes)
{
    char rs[24], bs[24];
    snprintf(rs, sizeof rs, "%ld", rows);
    snprintf(bs, sizeof bs, "%lld", bytes);
    const char *v[] = {id, org, rs, bs};
    PGresult *r = db_exec(c, &job_progress, v);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

int db_import_job_finish(db_conn_t *c, const char *id, const char *org, const import_summary_t *s,
                         char **json)
{
    char bs[24], rr[24], rf[24];
    snprintf(bs, sizeof bs, "%lld", s->bytes);
    snprintf(rr, sizeof rr, "%ld", s->rows_read);
    snprintf(rf, sizeof rf, "%ld", s->rows_failed);
    const char *v[] = {id,
                       org,
                       s->status,
                       s->sha256,
                       bs,
                       s->encoding,
                       s->delimiter,
                       rr,
                       rf,
                       s->counts_json ? s->counts_json : "{}",
                       s->errors_json ? s->errors_json : "[]",
                       s->detail};
    *json = db_exec_text(c, &job_finish, v);
    return *json ? 0 : -1;
}

int db_import_job_get(db_conn_t *c, const char *id, const char *org, char **json)
{
    const char *v[] = {id, org};
    PGresult *r = db_exec(c, &job_get, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1 && !(*json = strdup(PQgetvalue(r, 0, 0))))
        rc = -1;
    PQclear(r);
    return rc;
}

PGresult *db_import_job_list(db_conn_t *c, const char *org, const char *after_ts,
                             const char *after_id, int limit)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *v[] = {org, after_ts, after_id, lim};
    return db_exec(c, &job_list, v);
}

/* ---------------------------------------------------------------- staging */

struct db_copy {
    db_conn_t *c;
    char buf[65536];
    size_t n;
    int failed;
};

static const char stage_sql[] =
    "CREATE TEMP TABLE imp (n integer NOT NULL, c1 text, c2 text, c3 text, c4 text, c5 text, "
    "c6 text, c7 text, c8 text, pid uuid, bid uuid, uid uuid, did uuid, tid uuid, fresh boolean "
    "NOT NULL DEFAULT false, err text, errcol text, errval text, ref integer, outcome text) "
    "ON COMMIT DROP";

db_copy_t *db_import_copy_begin(db_conn_t *c)
{
    if (db_simple(c, "DROP TABLE IF EXISTS pg_temp.imp") != 0 || db_simple(c, stage_sql) != 0)
        return NULL;
    PGconn *pg = db_pg(c);
    PGresult *r = PQexec(pg, "COPY imp (n, c1, c2, c3, c4, c5, c6, c7, c8) FROM STDIN");
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    if (!ok)
        db_error_note("import_copy", r);
    PQclear(r);
    if (!ok)
        return NULL;
    db_copy_t *cp = calloc(1, sizeof *cp);
    if (!cp) {
        PQputCopyEnd(pg, "out of memory");
        while ((r = PQgetResult(pg)))
            PQclear(r);
        return NULL;
    }
    cp->c = c;
    return cp;
}

static int flush(db_copy_t *cp)
{
    if (cp->n && PQputCopyData(db_pg(cp->c), cp->buf, (int)cp->n) != 1)
        cp->failed = 1;
    cp->n = 0;
    return cp->failed ? -1 : 0;
}

static int put(db_copy_t *cp, const char *s, size_t n)
{
    if (cp->n + n > sizeof cp->buf && flush(cp))
        return -1;
    if (n > sizeof cp->buf) {
        if (PQputCopyData(db_pg(cp->c), s, (int)n) != 1)
            cp->failed = 1;
        return cp->failed ? -1 : 0;
    }
    memcpy(cp->buf + cp->n, s, n);
    cp->n += n;
    return 0;
}

/* One value in COPY text format: backslash, tab, line ends escaped; NULL as \N. */
static int put_value(db_copy_t *cp, const char *s)
{
    if (!s)
        return put(cp, "\\N", 2);
    char tmp[512];
    size_t o = 0;
    for (const char *p = s; *p; p++) {
        if (o + 2 > sizeof tmp) {
            if (put(cp, tmp, o))
                return -1;
            o = 0;
        }
        char e = *p == '\\' ? '\\' : *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : 0;
        if (e) {
            tmp[o++] = '\\';
            tmp[o++] = e;
        } else {
            tmp[o++] = *p;
        }
    }
    return put(cp, tmp, o);
}

int db_import_copy_row(db_copy_t *cp, long row, const char *const *v)
{
    char num[24];
    int k = snprintf(num, sizeof num, "%ld", row);
    if (put(cp, num, (size_t)k))
        return -1;
    for (int i = 0; i < ROSTER_MAX_OUT; i++)
        if (put(cp, "\t", 1) || put_value(cp, v[i]))
            return -1;
    return put(cp, "\n", 1);
}

int db_import_copy_end(db_copy_t *cp)
{
    PGconn *pg = db_pg(cp->c);
    int rc = flush(cp);
    if (PQputCopyEnd(pg, rc ? "client failed" : NULL) != 1)
        rc = -1;
    PGresult *r;
    while ((r = PQgetResult(pg))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            db_error_note("import_copy", r);
            rc = -1;
        }
        PQclear(r);
    }
    db_conn_t *c = cp->c;
    free(cp);
    /* the checks join on these; statistics let PostgreSQL choose hash joins */
    if (rc == 0)
        rc = db_simple(c, "ANALYZE pg_temp.imp");
    return rc;
}

/* ---------------------------------------------------------------- checks */

/* The later of two rows with the same natural key is refused, pointing at the first. */
#define DUP(key, col)                                                                              \
    "UPDATE imp SET err = 'duplicate_row', errcol = '" col "', ref = d.first FROM (SELECT n, "     \
    "min(n) OVER (PARTITION BY " key ") AS first FROM imp WHERE err IS NULL) d WHERE d.n = "       \
    "imp.n AND d.first <> imp.n"
#define PROJECT(col)                                                                               \
    "UPDATE imp SET pid = p.id FROM projects p WHERE p.org_id = $1 AND p.code = imp." col,         \
        "UPDATE imp SET err = 'unknown_project', errcol = 'project', errval = " col                \
        " WHERE err IS NULL AND pid IS NULL AND " col " IS NOT NULL"
#define BUILDING                                                                                   \
    "UPDATE imp SET bid = b.id FROM buildings b WHERE b.project_id = imp.pid AND b.code = imp.c2"

static const char *const check_projects[] = {
    "UPDATE imp SET err = 'invalid_time_zone', errcol = 'time_zone', errval = c3 WHERE c3 IS NOT "
    "NULL AND c3 NOT IN (SELECT name FROM pg_timezone_names)",
    DUP("c1", "code"),
    NULL,
};
static const char *const check_buildings[] = {PROJECT("c1"), DUP("c1, c2", "code"), NULL};
static const char *const check_units[] = {PROJECT("c1"), DUP("c1, c2, c3", "unit"), NULL};
static const char *const check_residents[] = {
    PROJECT("c1"),
    BUILDING,
    "UPDATE imp SET err = 'unknown_building', errcol = 'building', errval = c2 WHERE err IS NULL "
    "AND bid IS NULL",
    "UPDATE imp SET uid = u.id FROM units u WHERE u.building_id = imp.bid AND u.code = imp.c3",
    "UPDATE imp SET err = 'unknown_unit', errcol = 'unit', errval = c3 WHERE err IS NULL AND uid "
    "IS NULL",
    DUP("uid, coalesce(c5, '') , CASE WHEN c5 IS NULL THEN c4 END", "phone"),
    NULL,
};
static const char *const check_departments[] = {PROJECT("c1"),
                                                DUP("coalesce(c1, ''), lower(c2)", "name"), NULL};
static const char *const check_users[] = {
    DUP("lower(c1)", "username"),
    "UPDATE imp SET err = 'username_taken', errcol = 'username', errval = c1 FROM users u WHERE "
    "imp.err IS NULL AND lower(u.username) = lower(imp.c1) AND u.org_id <> $1",
    "UPDATE imp SET tid = u.id FROM users u WHERE u.org_id = $1 AND lower(u.username) = "
    "lower(imp.c1)",
    "UPDATE imp SET err = 'resident_account', errcol = 'username', errval = c1 FROM users u WHERE "
    "imp.err IS NULL AND u.id = imp.tid AND u.role = 'resident'",
    "UPDATE imp SET did = d.id, err = CASE WHEN d.k > 1 AND imp.err IS NULL THEN "
    "'ambiguous_department' ELSE imp.err END, errcol = CASE WHEN d.k > 1 AND imp.err IS NULL "
    "THEN 'department' ELSE imp.errcol END, errval = CASE WHEN d.k > 1 AND imp.err IS NULL THEN "
    "imp.c4 ELSE imp.errval END FROM (SELECT lower(name) AS ln, (array_agg(id))[1] AS id, "
    "count(*) AS k FROM departments WHERE org_id = $1 GROUP BY lower(name)) d WHERE imp.c4 IS "
    "NOT NULL AND lower(imp.c4) = d.ln",
    "UPDATE imp SET err = 'unknown_department', errcol = 'department', errval = c4 WHERE err IS "
    "NULL AND c4 IS NOT NULL AND did IS NULL",
    "UPDATE imp SET err = 'unknown_project', errcol = 'projects', errval = m.codes FROM (SELECT "
    "i.n, string_agg(x.code, ';') AS codes FROM imp i CROSS JOIN LATERAL "
    "unnest(string_to_array(i.c6, ';')) AS x(code) WHERE i.c6 IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM projects p WHERE p.org_id = $1 AND p.code = x.code) GROUP BY i.n) m WHERE "
    "m.n = imp.n AND imp.err IS NULL",
    NULL,
};

static const char *const *const checks[RK__COUNT] = {
    [RK_PROJECTS] = check_projects,
    [RK_BUILDINGS] = check_buildings,
    [RK_UNITS] = check_units,
    [RK_RESIDENTS] = check_residents,
    [RK_DEPARTMENTS] = check_departments,
    [RK_USERS] = check_users,
};

static int run_steps(db_conn_t *c, const char *const *steps, const char *org, const char *what)
{
    for (int i = 0; steps[i]; i++) {
        const char *v[] = {org};
        int np = strstr(steps[i], "$1") ? 1 : 0;
        PGresult *r = db_query(c, steps[i], np, np ? v : NULL);
        int ok = db_ok(r);
        if (!ok)
            db_error_note(what, r);
        PQclear(r);
        if (!ok)
            return -1;
    }
    return 0;
}

int db_import_check(db_conn_t *c, roster_kind_t kind, const char *org)
{
    return run_steps(c, checks[kind], org, "import_check");
}

PGresult *db_import_errors(db_conn_t *c, int limit, long *total)
{
    PGresult *r = db_script(c, "SELECT count(*) FROM imp WHERE err IS NOT NULL");
    *total = db_ok(r) ? atol(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *v[] = {lim};
    return db_query(c,
                    "SELECT n, errcol, err, errval, ref FROM imp WHERE err IS NOT NULL ORDER BY n "
                    "LIMIT $1",
                    1, v);
}

/* ---------------------------------------------------------------- apply */

#define DEFAULT_HOURS                                                                              \
    "'{\"mon\":[[\"09:00\",\"20:00\"]],\"tue\":[[\"09:00\",\"20:00\"]],\"wed\":[[\"09:00\","       \
    "\"20:00\"]],\"thu\":[[\"09:00\",\"20:00\"]],\"fri\":[[\"09:00\",\"20:00\"]],\"sat\":[["       \
    "\"09:00\",\"20:00\"]],\"sun\":[[\"09:00\",\"20:00\"]]}'"
#define OUTCOME(table, differs)                                                                    \
    "UPDATE imp SET outcome = CASE WHEN imp.tid IS NULL THEN 'created' WHEN EXISTS (SELECT 1 "     \
    "FROM " table " t WHERE t.id = imp.tid AND (" differs ")) THEN 'updated' ELSE 'unchanged' "    \
    "END"
#define CHANGED(col, val) "t." col " IS DISTINCT FROM coalesce(" val ", t." col ")"
#define TOUCH             "version = t.version + 1, updated_at = clock_timestamp()"

static const char *const apply_projects[] = {
    "UPDATE imp SET tid = p.id FROM projects p WHERE p.org_id = $1 AND p.code = imp.c1",
    OUTCOME("projects",
            CHANGED("name", "imp.c2") " OR " CHANGED("time_zone", "imp.c3") " OR " CHANGED(
                "address", "imp.c4") " OR " CHANGED("phone", "imp.c5")),
    "INSERT INTO projects (org_id, code, name, time_zone, business_hours, address, phone) SELECT "
    "$1, c1, c2, coalesce(c3, 'Asia/Shanghai'), " DEFAULT_HOURS "::jsonb, c4, c5 FROM imp WHERE "
    "outcome = 'created'",
    "UPDATE projects t SET name = coalesce(i.c2, t.name), time_zone = coalesce(i.c3, "
    "t.time_zone), address = coalesce(i.c4, t.address), phone = coalesce(i.c5, t.phone), " TOUCH
    " FROM imp i WHERE i.outcome = 'updated' AND t.id = i.tid",
    NULL,
};
static const char *const apply_buildings[] = {
    "UPDATE imp SET tid = b.id FROM buildings b WHERE b.project_id = imp.pid AND b.code = imp.c2",
    OUTCOME("buildings", CHANGED("name", "imp.c3") " OR " CHANGED("floors", "imp.c4::integer")),
    "INSERT INTO buildings (org_id, project_id, code, name, floors) SELECT $1, pid, c2, "
    "coalesce(c3, c2), c4::integer FROM imp WHERE outcome = 'created'",
    "UPDATE buildings t SET name = coalesce(i.c3, t.name), floors = coalesce(i.c4::integer, "
    "t.floors), " TOUCH " FROM imp i WHERE i.outcome = 'updated' AND t.id = i.tid",
    NULL,
};
/* A unit's building is created (named by its code) when the roster names a new one. */
static const char units_new_buildings[] =
    "WITH ins AS (INSERT INTO buildings (org_id, project_id, code, name) SELECT DISTINCT $1::uuid, "
    "pid, c2, c2 FROM imp WHERE NOT EXISTS (SELECT 1 FROM buildings b WHERE b.project_id = "
    "imp.pid AND b.code = imp.c2) RETURNING 1) SELECT count(*) FROM ins";
static const char *const apply_units[] = {
    BUILDING,
    "UPDATE imp SET tid = u.id FROM units u WHERE u.building_id = imp.bid AND u.code = imp.c3",
    OUTCOME("units", CHANGED("floor", "imp.c4::integer") " OR " CHANGED(
                         "area_m2", "imp.c5::numeric") " OR " CHANGED("status", "imp.c6")),
    "INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2, status) SELECT $1, "
    "pid, bid, c3, c4::integer, c5::numeric, coalesce(c6, 'occupied') FROM imp WHERE outcome = "
    "'created'",
    "UPDATE units t SET floor = coalesce(i.c4::integer, t.floor), area_m2 = "
    "coalesce(i.c5::numeric, t.area_m2), status = coalesce(i.c6, t.status), " TOUCH
    " FROM imp i WHERE i.outcome = 'updated' AND t.id = i.tid",
    NULL,
};
static const char *const apply_residents[] = {
    /* the household member this row names: phone + unit (name + unit without a phone) */
    "UPDATE imp SET tid = r.id FROM resident_units ru JOIN residents r ON r.id = ru.resident_id "
    "WHERE ru.unit_id = imp.uid AND ((imp.c5 IS NOT NULL AND r.phone = imp.c5) OR (imp.c5 IS NULL "
    "AND r.phone IS NULL AND r.name = imp.c4))",
    "UPDATE imp SET outcome = CASE WHEN imp.tid IS NULL THEN 'created' WHEN EXISTS (SELECT 1 FROM "
    "residents t JOIN resident_units ru ON ru.resident_id = t.id AND ru.unit_id = imp.uid WHERE "
    "t.id = imp.tid AND (t.name IS DISTINCT FROM imp.c4 OR " CHANGED(
        "id_number_hash", "imp.c6") " OR ru.relation IS DISTINCT FROM imp.c7 OR ru.is_adult IS "
                                    "DISTINCT FROM coalesce(imp.c8::"
                                    "boolean, ru.is_adult))) THEN 'updated' ELSE 'unchanged' END",
    /* a person already known in the project (same phone and name) gains another unit */
    "UPDATE imp SET tid = r.id FROM residents r WHERE imp.outcome = 'created' AND imp.c5 IS NOT "
    "NULL AND r.project_id = imp.pid AND r.phone = imp.c5 AND r.name = imp.c4",
    /* new people: one per (phone, name) in the file — the first row's id for all its rows
     * (a volatile id in a joined subquery could be drawn again on a rescan) */
    "UPDATE imp SET tid = gen_random_uuid(), fresh = true FROM (SELECT n, min(n) OVER (PARTITION "
    "BY pid, c5, c4) AS f FROM imp WHERE outcome = 'created' AND tid IS NULL) w WHERE w.n = "
    "imp.n AND (imp.c5 IS NULL OR w.f = imp.n)",
    "UPDATE imp SET tid = l.tid, fresh = true FROM (SELECT n, min(n) OVER (PARTITION BY pid, c5, "
    "c4) AS f FROM imp WHERE outcome = 'created' AND c5 IS NOT NULL AND (tid IS NULL OR fresh)) "
    "w JOIN imp l ON l.n = w.f WHERE w.n = imp.n AND imp.tid IS NULL",
    "INSERT INTO residents (id, org_id, project_id, name, phone, id_number_hash) SELECT DISTINCT "
    "ON (tid) tid, $1, pid, c4, c5, c6 FROM imp WHERE fresh ORDER BY tid, n",
    "UPDATE residents t SET name = i.c4, id_number_hash = coalesce(i.c6, t.id_number_hash), " TOUCH
    " FROM imp i WHERE i.outcome IN ('created', 'updated') AND NOT i.fresh AND t.id = i.tid AND "
    "(t.name IS DISTINCT FROM i.c4 OR " CHANGED("id_number_hash", "i.c6") ")",
    "INSERT INTO resident_units (org_id, resident_id, unit_id, relation, is_adult) SELECT $1, tid, "
    "uid, c7, coalesce(c8::boolean, true) FROM imp WHERE outcome = 'created' ON CONFLICT "
    "(resident_id, unit_id) DO NOTHING",
    "UPDATE resident_units ru SET relation = i.c7, is_adult = coalesce(i.c8::boolean, "
    "ru.is_adult) FROM imp i WHERE i.outcome = 'updated' AND ru.resident_id = i.tid AND ru.unit_id "
    "= i.uid",
    NULL,
};
static const char *const apply_departments[] = {
    "UPDATE imp SET tid = d.id FROM departments d WHERE d.org_id = $1 AND d.project_id IS NOT "
    "DISTINCT FROM imp.pid AND lower(d.name) = lower(imp.c2)",
    OUTCOME("departments", "t.name IS DISTINCT FROM imp.c2 OR t.kind IS DISTINCT FROM imp.c3 "
                           "OR " CHANGED("phone", "imp.c4")),
    "INSERT INTO departments (org_id, project_id, kind, name, phone) SELECT $1, pid, c3, c2, c4 "
    "FROM imp WHERE outcome = 'created'",
    "UPDATE departments t SET name = i.c2, kind = i.c3, phone = coalesce(i.c4, t.phone), " TOUCH
    " FROM imp i WHERE i.outcome = 'updated' AND t.id = i.tid",
    NULL,
};
#define USER_PROJECTS(id)                                                                          \
    "coalesce((SELECT array_agg(p.id ORDER BY p.id) FROM projects p WHERE p.org_id = $1 AND "      \
    "p.code = ANY (string_to_array(imp.c6, ';'))), '{}')"
static const char *const apply_users[] = {
    "UPDATE imp SET outcome = CASE WHEN imp.tid IS NULL THEN 'created' WHEN EXISTS (SELECT 1 "
    "FROM "
    "users t WHERE t.id = imp.tid AND (t.display_name IS DISTINCT FROM imp.c2 OR t.role IS "
    "DISTINCT FROM imp.c3 OR " CHANGED("department_id", "imp.did") " OR " CHANGED(
        "phone", "imp.c5") " OR " CHANGED("active", "imp.c8::boolean") " OR (imp.c6 IS NOT NULL "
                                                                       "AND " USER_PROJECTS(
                                                                           x) " IS DISTINCT FROM "
                                                                              "coalesce((SELECT "
                                                                              "array_agg(up."
                                                                              "project_id ORDER "
                                                                              "BY up.project_id) "
                                                                              "FROM "
                                                                              "user_projects up "
                                                                              "WHERE up.user_id "
                                                                              "= t.id), '{}')))) "
                                                                              "THEN 'updated' "
                                                                              "ELSE 'unchanged' "
                                                                              "END",
    "UPDATE imp SET tid = gen_random_uuid(), fresh = true WHERE outcome = 'created'",
    /* without an initial password the account cannot log in until an admin sets one */
    "INSERT INTO users (id, org_id, username, display_name, role, department_id, phone, "
    "password_hash, active) SELECT tid, $1, c1, c2, c3, did, c5, coalesce(c7, '!'), "
    "coalesce(c8::boolean, true) FROM imp WHERE outcome = 'created'",
    "UPDATE users t SET display_name = i.c2, role = i.c3, department_id = coalesce(i.did, "
    "t.department_id), phone = coalesce(i.c5, t.phone), active = coalesce(i.c8::boolean, "
    "t.active), " TOUCH " FROM imp i WHERE i.outcome = 'updated' AND t.id = i.tid",
    "DELETE FROM user_projects up USING imp i WHERE i.c6 IS NOT NULL AND i.outcome = 'updated' "
    "AND up.user_id = i.tid",
    "INSERT INTO user_projects (org_id, user_id, project_id) SELECT $1, i.tid, p.id FROM imp i "
    "JOIN projects p ON p.org_id = $1 AND p.code = ANY (string_to_array(i.c6, ';')) WHERE i.c6 "
    "IS NOT NULL AND i.outcome IN ('created', 'updated') ON CONFLICT DO NOTHING",
    NULL,
};

static const char *const *const applies[RK__COUNT] = {
    [RK_PROJECTS] = apply_projects,
    [RK_BUILDINGS] = apply_buildings,
    [RK_UNITS] = apply_units,
    [RK_RESIDENTS] = apply_residents,
    [RK_DEPARTMENTS] = apply_departments,
    [RK_USERS] = apply_users,
};

int db_import_apply(db_conn_t *c, roster_kind_t kind, const char *org, char **counts)
{
    long new_buildings = -1;
    *counts = NULL;
    if (kind == RK_UNITS) {
        const char *v[] = {org};
        PGresult *r = db_query(c, units_new_buildings, 1, v);
        if (!db_ok(r)) {
            db_error_note("import_apply", r);
            PQclear(r);
            return -1;
        }
        new_buildings = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (run_steps(c, applies[kind], org, "import_apply") != 0)
        return -1;
    PGresult *r = db_script(c, "SELECT count(*) FILTER (WHERE outcome = 'created'), count(*) "
                               "FILTER (WHERE outcome = 'updated'), count(*) FILTER (WHERE "
                               "outcome = 'unchanged') FROM imp");
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    char buf[256];
    int o = snprintf(buf, sizeof buf, "{\"%s\":{\"created\":%s,\"updated\":%s,\"unchanged\":%s}",
                     roster_kind(kind)->name, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
                     PQgetvalue(r, 0, 2));
    PQclear(r);
    if (new_buildings >= 0)
        o += snprintf(buf + o, sizeof buf - (size_t)o,
                      ",\"buildings\":{\"created\":%ld,\"updated\":0,\"unchanged\":0}",
                      new_buildings);
    snprintf(buf + o, sizeof buf - (size_t)o, "}");
    *counts = strdup(buf);
    return *counts ? 0 : -1;
}
