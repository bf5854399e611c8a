/* tests/lib/expect.c — see expect.h. */
#include "tests/lib/expect.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

void th_expect_status_at(int line, const th_resp_t *r, long st)
{
    if (r->status != st)
        fail_msg("line %d: expected HTTP %ld, got %ld: %s", line, st, r->status, r->body);
}

void th_expect_problem_at(int line, th_resp_t *r, long st, const char *code)
{
    if (!th_is_problem(r, st, code))
        fail_msg("line %d: expected problem %ld %s, got %ld: %s", line, st, code ? code : "",
                 r->status, r->body);
    th_free(r);
}

long th_sql_long(const char *sql, const char *const *params, int nparams)
{
    const char *s = th_sql1(sql, params, nparams);
    if (!s)
        fail_msg("sql failed: %s", sql);
    return atol(s);
}

char *th_snapshot(const char *sql, const char *id)
{
    const char *v[] = {id};
    const char *s = th_sql1(sql, v, 1);
    return strdup(s ? s : "(missing)");
}

void th_expect_snapshot_at(int line, const char *sql, const char *id, const char *before)
{
    char *now = th_snapshot(sql, id);
    if (strcmp(now, before) != 0)
        fail_msg("line %d: a refused call changed the request:\n  before %s\n  after  %s", line,
                 before, now);
    free(now);
}
