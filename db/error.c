/*
 * db/error.c — what went wrong with the last SQL statement, and the one SQLSTATE → HTTP
 * status mapping.  db_exec and db_simple report every result here: a failure is logged
 * (statement, SQLSTATE, message, constraint, request id) and remembered for the calling
 * thread, so a handler that only saw "-1" from a db/ function can still answer with the
 * status the error deserves (a 22xxx is the client's 422, a lost connection our 503).
 * A request runs on one civetweb worker thread from start to end, so "this thread's last
 * error" is "this request's last error".
 */
#include "db/db.h"
#include "db/log.h"

#include <stdio.h>
#include <string.h>

static _Thread_local struct {
    char request_id[48];
    char sqlstate[6];
    char message[512];
    char constraint[64];
    int set;
} last;

void db_error_context(const char *request_id)
{
    memset(&last, 0, sizeof last);
    snprintf(last.request_id, sizeof last.request_id, "%s", request_id ? request_id : "");
}

void db_error_note(const char *what, const PGresult *r)
{
    if (db_ok(r)) {
        last.set = 0; /* a later success (outside a failed transaction) clears it */
        return;
    }
    const char *state = db_sqlstate(r);
    /* 25P02 "current transaction is aborted" only echoes the error that aborted it. */
    if (last.set && !strcmp(state, "25P02"))
        return;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : "connection failed";
    const char *con = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(last.sqlstate, sizeof last.sqlstate, "%s", state);
    snprintf(last.message, sizeof last.message, "%s", msg);
    snprintf(last.constraint, sizeof last.constraint, "%s", con ? con : "");
    last.set = 1;
    int st = db_sqlstate_status(state, NULL);
    char e1[600], e2[96], e3[96];
    log_write(st >= 500 ? LOG_ERROR : LOG_WARN, "sql failed",
              "\"request_id\":\"%s\",\"stmt\":\"%s\",\"sqlstate\":\"%s\",\"detail\":\"%s\","
              "\"constraint\":\"%s\"",
              last.request_id, log_esc(what ? what : "", e3, sizeof e3), state,
              log_esc(last.message, e1, sizeof e1), log_esc(last.constraint, e2, sizeof e2));
}

int db_last_error(const char **sqlstate, const char **message, const char **constraint)
{
    if (sqlstate)
        *sqlstate = last.set ? last.sqlstate : "";
    if (message)
        *message = last.set ? last.message : "";
    if (constraint)
        *constraint = last.set && last.constraint[0] ? last.constraint : NULL;
    return last.set;
}

int db_sqlstate_status(const char *s, int *retry)
{
    if (retry)
        *retry = 0;
    if (!s)
        s = "";
    if (!strcmp(s, "23505"))
        return 409;
    /* Data the client sent: bad values (class 22), broken rules (check, foreign key, not
     * null), a value too large for an index (54000). */
    if (!strcmp(s, "23503") || !strcmp(s, "23514") || !strcmp(s, "23502") || !strncmp(s, "22", 2) ||
        !strcmp(s, "54000"))
        return 422;
    if (!strcmp(s, "40001") || !strcmp(s, "40P01")) {
        if (retry)
            *retry = 1;
        return 409;
    }
    /* Our own mistakes: SQL that does not fit the schema, internal errors. */
    if (!strncmp(s, "42", 2) || !strncmp(s, "XX", 2))
        return 500;
    /* Connection failures (no SQLSTATE, 08xxx), shutdown (57xxx), resources (53xxx). */
    return 503;
}
