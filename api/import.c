/*
 * api/import.c — roster imports: POST /v1/imports streams a CSV file (text/csv, or the file
 * part of multipart/form-data) through the CSV reader and the roster checks into a staging
 * table, checks references, and writes all rows or none in one transaction.  The job row
 * (imports) is written on a second connection and committed as the import goes, so
 * GET /v1/imports/{id} shows its progress while it runs and stays as the audit record.
 *
 * The POST is synchronous: it answers when the import is done (200 with the job, or 422
 * with the per-row report).  Memory is bounded by one chunk, one record and the first
 * MAX_REPORT problems, whatever the file's size (up to DESK_IMPORT_MAX_BODY).
 */
#include "api/api.h"
#include "core/hex.h"
#include "api/auth.h"
#include "api/config.h"
#include "api/http.h"
#include "api/multipart.h"
#include "api/pii.h"
#include "svc/sla.h"
#include "core/csv.h"
#include "core/roster.h"
#include "db/import.h"
#include "db/log.h"

#include <civetweb.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_REPORT     1000 /* problems listed in a report; all are counted */
#define MAX_IMPORTS    2    /* imports running at once in this process */
#define CHUNK          65536
#define PROGRESS_EVERY 5000 /* rows between job-row updates */

static int running_imports;

typedef struct imp {
    req_t *r;
    int kind; /* -1 until known */
    int dry;
    db_conn_t *c, *jobc;
    char job[40];
    db_copy_t *cp;
    csv_reader_t *rd;
    roster_header_t h;
    int header_done;
    roster_row_t *row;
    EVP_MD_CTX *sha;
    long long bytes;
    long rows, rows_failed, last_bad_row, nerrors;
    cJSON *errors;
    int fatal; /* a problem that stops reading (header, encoding) */
    char fatal_msg[256];
    int db_failed;
    int started;  /* the file has begun */
    int finished; /* the job row has its final state */
    multipart_t *mp;
    int part; /* the form part being read: 0 ignored, 1 kind, 2 dry_run, 3 file */
    char field[64];
    size_t nfield;
    int files;
    cJSON *ignored;
} imp_t;

/* ---------------------------------------------------------------- the report */

static void add_error(imp_t *m, long row, const char *column, const char *code, const char *detail)
{
    m->nerrors++;
    if (row != m->last_bad_row && row > 1) {
        m->rows_failed++;
        m->last_bad_row = row;
    }
    if (cJSON_GetArraySize(m->errors) >= MAX_REPORT)
        return;
    char ptr[128];
    if (column && column[0])
        snprintf(ptr, sizeof ptr, "/rows/%ld/%s", row, column);
    else
        snprintf(ptr, sizeof ptr, "/rows/%ld", row);
    cJSON *e = http_error_entry(ptr, code, detail);
    cJSON_AddNumberToObject(e, "row", (double)row);
    if (column && column[0])
        cJSON_AddStringToObject(e, "column", column);
    else
        cJSON_AddNullToObject(e, "column");
    cJSON_AddItemToArray(m->errors, e);
}

static void on_roster_error(void *ud, const roster_error_t *e)
{
    add_error(ud, e->row, e->column, e->code, e->detail);
}

static int by_row(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double rx = cJSON_GetObjectItem(x, "row")->valuedouble,
           ry = cJSON_GetObjectItem(y, "row")->valuedouble;
    return rx < ry ? -1 : rx > ry;
}

static void sort_errors(imp_t *m)
{
    int n = cJSON_GetArraySize(m->errors);
    if (n < 2)
        return;
    cJSON **v = malloc((size_t)n * sizeof *v);
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        v[i] = cJSON_DetachItemFromArray(m->errors, 0);
    qsort(v, (size_t)n, sizeof *v, by_row);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(m->errors, v[i]);
    free(v);
}

/* ---------------------------------------------------------------- rows */

static int on_record(void *ud, const csv_record_t *rec)
{
    imp_t *m = ud;
    if (!m->header_done) {
        if (roster_map_header((roster_kind_t)m->kind, rec, &m->h, on_roster_error, m)) {
            m->fatal = 1;
            snprintf(m->fatal_msg, sizeof m->fatal_msg,
                     "the header row does not fit a %s roster; see the column list in the README",
                     roster_kind((roster_kind_t)m->kind)->name);
            return 1;
        }
        for (int f = 0; f < rec->nfields; f++)
            if (m->h.ignored[f] && rec->len[f])
                cJSON_AddItemToArray(m->ignored, cJSON_CreateString(rec->field[f]));
        m->header_done = 1;
        return 0;
    }
    m->rows++;
    if (m->rows % PROGRESS_EVERY == 0 && m->jobc)
        db_import_job_progress(m->jobc, m->job, m->r->principal.org_id, m->rows, m->bytes);
    if (roster_row(&m->h, rec, m->row, on_roster_error, m))
        return 0;
    const char *v[ROSTER_MAX_OUT];
    memcpy(v, m->row->v, sizeof v);
    char idh[PII_HASH_LEN], pw[200];
    if (m->kind == RK_RESIDENTS && v[5]) {
        if (pii_hash(v[5], idh) != 0) {
            add_error(m, rec->row, "id_number", "pii_key_missing",
                      "this server has no DESK_PII_KEY to protect ID numbers with; leave the "
                      "column empty or configure the key");
            return 0;
        }
        v[5] = idh;
    }
    if (m->kind == RK_USERS && v[6]) {
        if (auth_password_hash(v[6], g_config.pbkdf2_iter, pw, sizeof pw) != 0) {
            add_error(m, rec->row, "initial_password", "internal", "could not hash the password");
            return 0;
        }
        v[6] = pw;
    }
    if (m->nerrors)
        return 0; /* nothing will be written: stop staging, keep checking */
    if (db_import_copy_row(m->cp, rec->row, v) != 0) {
        m->db_failed = 1;
        return 1;
    }
    return 0;
}

/* The file's bytes, from a text/csv body or a multipart file part. */
static int file_bytes(imp_t *m, const char *s, size_t n)
{
    m->started = 1;
    EVP_DigestUpdate(m->sha, s, n);
    if (m->fatal || m->db_failed)
        return 0;
    csv_err_t e = csv_feed(m->rd, s, n);
    if (e && e != CSV_ERR_STOPPED) {
        m->fatal = 1;
        snprintf(m->fatal_msg, sizeof m->fatal_msg, "the file could not be read: %s",
                 csv_err_name(e));
        add_error(m, csv_error_row(m->rd), "", csv_err_name(e),
                  e == CSV_ERR_ENCODING
                      ? "the file is neither UTF-8 nor GB18030; save it as CSV UTF-8 or CSV"
                  : e == CSV_ERR_UNTERMINATED
                      ? "a quoted field is not closed before the end of the file"
                      : "the header line is too long or memory ran out");
    }
    return 0;
}

static void file_end(imp_t *m)
{
    if (m->fatal || m->db_failed || !m->rd)
        return;
    csv_err_t e = csv_finish(m->rd);
    if (e && e != CSV_ERR_STOPPED) {
        m->fatal = 1;
        snprintf(m->fatal_msg, sizeof m->fatal_msg, "the file could not be read: %s",
                 csv_err_name(e));
        add_error(m, csv_error_row(m->rd), "", csv_err_name(e),
                  e == CSV_ERR_UNTERMINATED
                      ? "a quoted field is not closed before the end of the file"
                      : "the file is neither UTF-8 nor GB18030; save it as CSV UTF-8 or CSV");
    }
}

/* ---------------------------------------------------------------- multipart */

/* A form part begins: the file, or the kind / dry_run fields; others are ignored. */
static int part_start(void *ud, const char *name, int has_file)
{
    imp_t *m = ud;
    m->nfield = 0;
    if (has_file || !strcmp(name, "file")) {
        if (m->files++) {
            m->part = 0;
            return 0;
        }
        m->part = 3;
        if (m->kind < 0) {
            m->fatal = 1;
            snprintf(m->fatal_msg, sizeof m->fatal_msg,
                     "give 'kind' as a query parameter or as a form field before the file");
            return -1;
        }
    } else {
        m->part = !strcmp(name, "kind") ? 1 : !strcmp(name, "dry_run") ? 2 : 0;
    }
    return 0;
}

static int parse_bool_text(const char *s)
{
    return !strcmp(s, "true") || !strcmp(s, "1")    ? 1
           : !strcmp(s, "false") || !strcmp(s, "0") ? 0
                                                    : -1;
}

static int part_end(void *ud)
{
    imp_t *m = ud;
    m->field[m->nfield] = 0;
    if (m->part == 1) {
        int k = roster_kind_from_string(m->field);
        if (k < 0 || (m->kind >= 0 && m->kind != k)) {
            m->fatal = 1;
            snprintf(m->fatal_msg, sizeof m->fatal_msg,
                     "'kind' must be one of projects, buildings, units, residents, departments, "
                     "users (and agree with the query)");
            return -1;
        }
        m->kind = k;
    } else if (m->part == 2) {
        int b = parse_bool_text(m->field);
        if (b < 0) {
            m->fatal = 1;
            snprintf(m->fatal_msg, sizeof m->fatal_msg, "'dry_run' must be true or false");
            return -1;
        }
        m->dry |= b;
    } else if (m->part == 3) {
        file_end(m);
    }
    return 0;
}

static int need_start(imp_t *m); /* begins the job and staging at the file's first byte */

static int part_data(void *ud, const char *s, size_t n)
{
    imp_t *m = ud;
    if (m->part == 1 || m->part == 2) {
        size_t k = n < sizeof m->field - 1 - m->nfield ? n : sizeof m->field - 1 - m->nfield;
        memcpy(m->field + m->nfield, s, k);
        m->nfield += k;
    } else if (m->part == 3 && n) {
        if (need_start(m) != 0)
            return -1;
        file_bytes(m, s, n);
    }
    return 0;
}

static int part_stopped(void *ud)
{
    return ((imp_t *)ud)->fatal;
}

static const multipart_cb_t form_cb = {part_start, part_data, part_end, part_stopped};

/* ---------------------------------------------------------------- the import */

static int need_start(imp_t *m)
{
    if (m->cp || m->db_failed)
        return m->db_failed ? -1 : 0;
    const char *kind = roster_kind((roster_kind_t)m->kind)->name;
    if (db_import_job_start(m->jobc, m->r->principal.org_id, kind, m->dry, m->r->principal.user_id,
                            m->job) != 0 ||
        db_begin(m->c) != 0 || !(m->cp = db_import_copy_begin(m->c))) {
        m->db_failed = 1;
        return -1;
    }
    return 0;
}

static const char *enc_name(csv_enc_t e, int bom)
{
    return e == CSV_ENC_GB18030 ? "gb18030"
           : e == CSV_ENC_UTF8  ? (bom ? "utf-8-bom" : "utf-8")
                                : NULL;
}

static void db_error_detail(const char *code, const char *col, const char *val, const char *ref,
                            char *out, size_t n)
{
    if (!strcmp(code, "duplicate_row"))
        snprintf(out, n, "row %s already gives this %s; each record may appear once", ref, col);
    else if (!strcmp(code, "unknown_project"))
        snprintf(out, n, "no project with code '%s' in your organisation; import projects first",
                 val);
    else if (!strcmp(code, "unknown_building"))
        snprintf(out, n, "no building '%s' in this project; import units (or buildings) first",
                 val);
    else if (!strcmp(code, "unknown_unit"))
        snprintf(out, n, "no unit '%s' in this building; import units first", val);
    else if (!strcmp(code, "unknown_department"))
        snprintf(out, n, "no department named '%s'; import departments first", val);
    else if (!strcmp(code, "ambiguous_department"))
        snprintf(out, n, "several departments are named '%s'; rename one so the name is unique",
                 val);
    else if (!strcmp(code, "username_taken"))
        snprintf(out, n, "the user name '%s' belongs to another organisation; choose another", val);
    else if (!strcmp(code, "resident_account"))
        snprintf(out, n, "'%s' is a resident's account; staff rosters cannot change it", val);
    else if (!strcmp(code, "invalid_time_zone"))
        snprintf(out, n, "'%s' is not an IANA time zone such as Asia/Shanghai", val);
    else
        snprintf(out, n, "%s", code);
}

/* Stages the body; returns 0 when it was read to its end, or sends the answer itself. */
static int read_body(imp_t *m, int multipart)
{
    req_t *r = m->r;
    char *buf = malloc(CHUNK);
    if (!buf) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return -1;
    }
    time_t t0 = time(NULL);
    int rc = 0;
    for (;;) {
        long k = http_body_read(r, buf, CHUNK);
        if (k < 0) {
            http_problem(r, 400, "incomplete_body", "the body ended before its announced length");
            rc = -1;
            break;
        }
        if (k == 0)
            break;
        m->bytes += k;
        if ((size_t)m->bytes > g_config.import_max_body) {
            http_problem(r, 413, "body_too_large",
                         "a roster file may be at most %zu bytes (DESK_IMPORT_MAX_BODY); split it",
                         g_config.import_max_body);
            rc = -1;
            break;
        }
        if (time(NULL) - t0 > g_config.import_timeout_s) {
            http_problem(r, 408, "request_timeout", "the file did not arrive within %d s",
                         g_config.import_timeout_s);
            rc = -1;
            break;
        }
        if (multipart) {
            if (multipart_feed(m->mp, buf, (size_t)k) != 0 && !m->fatal && !m->db_failed) {
                http_problem(r, 400, "malformed_multipart",
                             "the multipart body is malformed; send the file as a form part "
                             "named 'file'");
                rc = -1;
                break;
            }
        } else {
            if (need_start(m) != 0)
                break;
            file_bytes(m, buf, (size_t)k);
        }
    }
    free(buf);
    if (rc == 0 && !m->db_failed && !m->fatal && m->bytes < 0)
        rc = -1;
    if (rc == 0 && multipart && !m->fatal && !m->db_failed && !multipart_done(m->mp)) {
        http_problem(r, 400, "malformed_multipart",
                     "the multipart body ended before its closing boundary");
        rc = -1;
    }
    if (rc == 0 && !multipart && !m->fatal && !m->db_failed)
        file_end(m);
    return rc;
}

static void send_result(imp_t *m, const char *job_json, int ok)
{
    req_t *r = m->r;
    cJSON *j = cJSON_Parse(job_json);
    if (!j) {
        http_problem(r, 500, "internal", "could not render the import");
        return;
    }
    cJSON_AddItemToObject(j, "ignored_columns", cJSON_Duplicate(m->ignored, 1));
    char loc[128];
    snprintf(loc, sizeof loc, "Location: /v1/imports/%s\r\n", m->job);
    if (ok || m->dry) {
        http_send_cjson(r, 200, j, loc);
        cJSON_Delete(j);
        return;
    }
    /* a refused real run: problem+json carrying the same report */
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "type", "https://deskd.dev/problems/invalid_rows");
    cJSON_AddStringToObject(p, "title", "Unprocessable Entity");
    cJSON_AddNumberToObject(p, "status", 422);
    cJSON_AddStringToObject(p, "code", "invalid_rows");
    char detail[512];
    snprintf(detail, sizeof detail,
             "%s%s%ld problem(s) in %ld row(s); nothing was written — fix them and import the "
             "file again (try ?dry_run=true first)",
             m->fatal ? m->fatal_msg : "", m->fatal ? "; " : "", m->nerrors, m->rows_failed);
    cJSON_AddStringToObject(p, "detail", detail);
    cJSON_AddStringToObject(p, "request_id", r->request_id);
    cJSON_AddStringToObject(p, "import_id", m->job);
    cJSON_AddNumberToObject(p, "errors_total", (double)m->nerrors);
    cJSON_AddItemToObject(p, "errors", cJSON_Duplicate(m->errors, 1));
    cJSON_AddItemToObject(p, "import", j);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (s)
        http_send_text(r, 422, "application/problem+json; charset=utf-8", s);
    else
        http_problem(r, 500, "internal", "could not render the report");
    free(s);
}

static void run_import(imp_t *m, int multipart)
{
    req_t *r = m->r;
    if (read_body(m, multipart) != 0)
        return;
    if (m->db_failed) {
        http_db_fail(r, "the import could not be staged; nothing was written");
        return;
    }
    if (!m->cp) { /* no file at all (or a multipart without a file part) */
        if (m->fatal && m->kind < 0) {
            http_problem(r, 400, "invalid_query", "%s", m->fatal_msg);
            return;
        }
        if (m->fatal) {
            http_problem(r, 400, "malformed_multipart", "%s", m->fatal_msg);
            return;
        }
        http_problem(r, 400, "body_required",
                     multipart ? "send the roster as a form part named 'file'"
                               : "send the roster CSV as the request body");
        return;
    }
    if (!m->header_done && !m->fatal) {
        m->fatal = 1;
        snprintf(m->fatal_msg, sizeof m->fatal_msg, "the file is empty");
        add_error(m, 1, "", "empty_file",
                  "the file has no header row; export the sheet with "
                  "its header");
    }
    /* end staging; check references and duplicates when the rows themselves were sound */
    int dbok = db_import_copy_end(m->cp) == 0;
    m->cp = NULL;
    char *counts = NULL;
    if (dbok && !m->fatal && !m->nerrors)
        dbok = db_import_check(m->c, (roster_kind_t)m->kind, r->principal.org_id) == 0;
    if (dbok && !m->fatal && !m->nerrors) {
        long total = 0;
        PGresult *er = db_import_errors(m->c, MAX_REPORT, &total);
        if (!db_ok(er)) {
            dbok = 0;
        } else {
            for (int i = 0; i < PQntuples(er); i++) {
                char detail[300];
                db_error_detail(PQgetvalue(er, i, 2), PQgetvalue(er, i, 1), PQgetvalue(er, i, 3),
                                PQgetvalue(er, i, 4), detail, sizeof detail);
                add_error(m, atol(PQgetvalue(er, i, 0)), PQgetvalue(er, i, 1), PQgetvalue(er, i, 2),
                          detail);
            }
            m->nerrors += total - PQntuples(er);
        }
        PQclear(er);
    }
    if (dbok && !m->fatal && !m->nerrors) {
        dbok = db_import_apply(m->c, (roster_kind_t)m->kind, r->principal.org_id, &counts) == 0;
        if (dbok && m->kind == RK_PROJECTS)
            dbok = sla_ensure_defaults(m->c) == 0;
    }
    int ok = dbok && !m->fatal && !m->nerrors;
    if (!dbok) {
        const char *state, *msg, *constraint;
        db_last_error(&state, &msg, &constraint);
        log_write(LOG_ERROR, "import failed in the database", NULL);
    }
    int committed = 0;
    if (ok && !m->dry)
        committed = db_commit(m->c) == 0;
    else
        db_rollback(m->c);
    if (ok && !m->dry && !committed)
        dbok = 0;
    sort_errors(m);
    unsigned char md[32];
    unsigned mdl = 0;
    EVP_DigestFinal_ex(m->sha, md, &mdl);
    char hex[65];
    core_hex_encode(md, sizeof md, hex);
    char *errs = cJSON_PrintUnformatted(m->errors);
    char delim[4] = {m->rd ? csv_delimiter(m->rd) : 0, 0};
    if (delim[0] == '\t')
        strcpy(delim, "tab");
    import_summary_t s = {
        .status = !dbok    ? "failed"
                  : !ok    ? "failed"
                  : m->dry ? "checked"
                           : "succeeded",
        .sha256 = hex,
        .bytes = m->bytes,
        .encoding = m->rd ? enc_name(csv_encoding(m->rd), csv_had_bom(m->rd)) : NULL,
        .delimiter = delim[0] ? delim : NULL,
        .rows_read = m->rows,
        .rows_failed = m->rows_failed,
        .counts_json = ok ? counts : NULL,
        .errors_json = errs,
        .detail = !dbok      ? "the database failed during the import; nothing was written"
                  : m->fatal ? m->fatal_msg
                             : NULL,
    };
    char *job_json = NULL;
    int fin = db_import_job_finish(m->jobc, m->job, r->principal.org_id, &s, &job_json);
    m->finished = fin == 0;
    free(errs);
    free(counts);
    if (!dbok) {
        http_db_fail(r, "the import was not written");
    } else if (fin != 0) {
        http_problem(r, 503, "database_unavailable",
                     "the import's record could not be written%s; check GET /v1/imports",
                     committed ? " (the rows were written)" : "");
    } else {
        send_result(m, job_json, ok);
    }
    free(job_json);
}

static int is_csv_type(const char *ct)
{
    static const char *const types[] = {"text/csv",
                                        "text/plain",
                                        "text/tab-separated-values",
                                        "application/csv",
                                        "application/vnd.ms-excel",
                                        NULL};
    for (int i = 0; types[i]; i++)
        if (!strncasecmp(ct, types[i], strlen(types[i])))
            return 1;
    return 0;
}

static void post_import(req_t *r)
{
    if (http_authorize_role(r, AZ_IMPORT) != 0)
        return;
    imp_t m;
    memset(&m, 0, sizeof m);
    m.r = r;
    m.kind = -1;
    char q[64];
    if (http_query(r, "kind", q, sizeof q) >= 0 && (m.kind = roster_kind_from_string(q)) < 0) {
        http_problem(r, 400, "invalid_query",
                     "'kind' must be one of projects, buildings, units, residents, departments, "
                     "users");
        return;
    }
    if (http_query(r, "dry_run", q, sizeof q) >= 0 && (m.dry = parse_bool_text(q)) < 0) {
        http_problem(r, 400, "invalid_query", "'dry_run' must be true or false");
        return;
    }
    const char *ct = http_header(r, "Content-Type");
    int multipart = ct && !strncasecmp(ct, "multipart/form-data", 19);
    if (!ct || (!multipart && !is_csv_type(ct))) {
        http_problem(r, 415, "unsupported_media_type",
                     "send the roster as text/csv (with ?kind=) or as multipart/form-data with a "
                     "'file' part");
        return;
    }
    if (!multipart && m.kind < 0) {
        http_problem(r, 400, "invalid_query",
                     "'kind' is required: projects, buildings, units, residents, departments or "
                     "users");
        return;
    }
    long long cl = http_content_length(r);
    if (cl > (long long)g_config.import_max_body) {
        http_problem(r, 413, "body_too_large",
                     "a roster file may be at most %zu bytes (DESK_IMPORT_MAX_BODY); split it",
                     g_config.import_max_body);
        return;
    }
    multipart_t *mp = NULL;
    if (multipart) {
        mp = calloc(1, sizeof *mp);
        if (!mp || multipart_init(mp, ct, &form_cb, &m) != 0) {
            free(mp);
            http_problem(r, 400, "malformed_multipart",
                         "the Content-Type needs a boundary parameter");
            return;
        }
    }
    if (__atomic_add_fetch(&running_imports, 1, __ATOMIC_SEQ_CST) > MAX_IMPORTS) {
        __atomic_sub_fetch(&running_imports, 1, __ATOMIC_SEQ_CST);
        free(mp);
        http_problem_hdr(r, 429, "Retry-After: 30\r\n", "import_busy",
                         "%d imports are running; retry when one has finished", MAX_IMPORTS);
        return;
    }
    m.mp = mp;
    m.errors = cJSON_CreateArray();
    m.ignored = cJSON_CreateArray();
    m.row = malloc(sizeof *m.row);
    m.sha = EVP_MD_CTX_new();
    m.rd = csv_reader_new(on_record, &m, 0);
    if (!m.errors || !m.ignored || !m.row || !m.sha || !m.rd ||
        EVP_DigestInit_ex(m.sha, EVP_sha256(), NULL) != 1) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
    } else if (!(m.jobc = db_acquire()) || !(m.c = http_db(r))) {
        if (!r->status)
            http_problem(r, 503, "database_unavailable",
                         "the database is unreachable or busy; retry shortly");
    } else {
        http_set_actor(r, m.jobc);
        run_import(&m, multipart);
    }
    if (m.cp) {
        db_import_copy_end(m.cp);
        db_rollback(m.c);
    }
    if (m.job[0] && !m.finished && m.jobc) {
        import_summary_t s = {.status = "failed", .detail = "the upload was refused or broke off"};
        char *js = NULL;
        db_import_job_finish(m.jobc, m.job, r->principal.org_id, &s, &js);
        free(js);
    }
    if (m.jobc) {
        if (m.job[0])
            db_import_job_unlock(m.jobc, m.job);
        db_release(m.jobc);
    }
    csv_reader_free(m.rd);
    EVP_MD_CTX_free(m.sha);
    free(m.row);
    free(mp);
    cJSON_Delete(m.errors);
    cJSON_Delete(m.ignored);
    __atomic_sub_fetch(&running_imports, 1, __ATOMIC_SEQ_CST);
}

static void get_import(req_t *r)
{
    if (http_authorize_role(r, AZ_IMPORT) != 0)
        return;
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *json = NULL;
    int rc = db_import_job_get(c, id, r->principal.org_id, &json);
    if (rc < 0)
        http_db_fail(r, NULL);
    else if (rc == 0)
        http_problem(r, 404, "not_found", "no such import in your organisation");
    else
        http_send_json(r, 200, json, NULL);
    free(json);
}

static void list_imports(req_t *r)
{
    if (http_authorize_role(r, AZ_IMPORT) != 0)
        return;
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_import_job_list(c, r->principal.org_id, pg.after_ts[0] ? pg.after_ts : NULL,
                                       pg.after_id[0] ? pg.after_id : NULL, pg.limit);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

void api_import_register(void)
{
    http_route("POST", "/v1/imports", post_import, ROUTE_STREAM, NULL);
    http_route("GET", "/v1/imports", list_imports, 0, NULL);
    http_route("GET", "/v1/imports/{id}", get_import, 0, NULL);
}
