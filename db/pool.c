/*
 * db/pool.c — the bounded libpq connection pool.  Sized for the database, not the HTTP
 * threads: HTTP workers wait (bounded) for a connection.  A connection is checked on
 * checkout (status, transaction state) and on release the result stream is drained.
 * Named statements are prepared lazily per connection and remembered by address.
 */
#include "db/db.h"
#include "db/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PREPARED 512

struct db_conn {
    PGconn *pg;
    int in_use;
    const db_stmt_t *prepared[MAX_PREPARED];
    int nprepared;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *conninfo;
    db_conn_t *conns;
    int size;
    int in_use;
    int waiting;
    int timeout_ms;
    long long timeouts;
    long long reconnects;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

int db_pool_init(const char *conninfo, int size, int checkout_timeout_ms)
{
    pool.conninfo = strdup(conninfo);
    pool.size = size > 0 ? size : 1;
    pool.conns = calloc((size_t)pool.size, sizeof(db_conn_t));
    pool.timeout_ms = checkout_timeout_ms;
    return pool.conninfo && pool.conns ? 0 : -1;
}

void db_pool_shutdown(void)
{
    pthread_mutex_lock(&pool.mu);
    for (int i = 0; i < pool.size; i++) {
        if (pool.conns[i].pg)
            PQfinish(pool.conns[i].pg);
        pool.conns[i].pg = NULL;
    }
    pthread_mutex_unlock(&pool.mu);
    free(pool.conns);
    free(pool.conninfo);
    pool.conns = NULL;
    pool.conninfo = NULL;
}

void db_pool_stats(db_pool_stats_t *out)
{
    pthread_mutex_lock(&pool.mu);
    out->size = pool.size;
    out->in_use = pool.in_use;
    out->waiting = pool.waiting;
    int open = 0;
    for (int i = 0; i < pool.size; i++)
        if (pool.conns[i].pg && !pool.conns[i].in_use)
            open++;
    out->idle = open;
    out->acquire_timeouts = pool.timeouts;
    out->reconnects = pool.reconnects;
    pthread_mutex_unlock(&pool.mu);
}

static void conn_close(db_conn_t *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->nprepared = 0;
}

static void notice_to_log(void *arg, const char *msg)
{
    (void)arg;
    char esc[512];
    log_write(LOG_DEBUG, "database notice", "\"detail\":\"%s\"", log_esc(msg, esc, sizeof esc));
}

/* Makes sure c->pg is connected and idle; called without the pool lock held. */
static int conn_check(db_conn_t *c)
{
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        if (ts == PQTRANS_IDLE)
            return 0;
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PGresult *r = PQexec(c->pg, "ROLLBACK");
            int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (ok && PQtransactionStatus(c->pg) == PQTRANS_IDLE)
                return 0;
        }
        conn_close(c); /* active or unknown: drop it */
    }
    if (c->pg)
        conn_close(c);
    c->pg = PQconnectdb(pool.conninfo);
    __atomic_add_fetch(&pool.reconnects, 1, __ATOMIC_RELAXED);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char esc[512];
        log_write(LOG_ERROR, "database connection failed", "\"detail\":\"%s\"",
                  log_esc(PQerrorMessage(c->pg), esc, sizeof esc));
        conn_close(c);
        return -1;
    }
    PQsetNoticeProcessor(c->pg, notice_to_log, NULL);
    PGresult *r = PQexec(c->pg, "SET TIME ZONE 'UTC'");
    PQclear(r);
    return 0;
}

db_conn_t *db_acquire(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += pool.timeout_ms / 1000;
    deadline.tv_nsec += (long)(pool.timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    db_conn_t *c = NULL;
    pthread_mutex_lock(&pool.mu);
    while (pool.in_use >= pool.size) {
        pool.waiting++;
        int rc = pthread_cond_timedwait(&pool.cv, &pool.mu, &deadline);
        pool.waiting--;
        if (rc == ETIMEDOUT && pool.in_use >= pool.size) {
            pool.timeouts++;
            pthread_mutex_unlock(&pool.mu);
            return NULL;
        }
    }
    /* Prefer a connection that is already open. */
    for (int i = 0; i < pool.size && !c; i++)
        if (!pool.conns[i].in_use && pool.conns[i].pg)
            c = &pool.conns[i];
    for (int i = 0; i < pool.size && !c; i++)
        if (!pool.conns[i].in_use)
            c = &pool.conns[i];
    c->in_use = 1;
    pool.in_use++;
    pthread_mutex_unlock(&pool.mu);

    if (conn_check(c) != 0) {
        db_release(c);
        return NULL;
    }
    return c;
}

void db_release(db_conn_t *c)
{
    if (!c)
        return;
    if (c->pg) {
        PGresult *r;
        while ((r = PQgetResult(c->pg)) != NULL)
            PQclear(r);
        if (PQstatus(c->pg) != CONNECTION_OK)
            conn_close(c);
        else if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
            r = PQexec(c->pg, "ROLLBACK");
            PQclear(r);
        }
    }
    pthread_mutex_lock(&pool.mu);
    c->in_use = 0;
    pool.in_use--;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
}

PGconn *db_pg(db_conn_t *c)
{
    return c->pg;
}

static int is_prepared(db_conn_t *c, const db_stmt_t *st)
{
    for (int i = 0; i < c->nprepared; i++)
        if (c->prepared[i] == st)
            return 1;
    return 0;
}

static PGresult *exec_once(db_conn_t *c, const db_stmt_t *st, const char *const *vals)
{
    if (!is_prepared(c, st)) {
        if (c->nprepared >= MAX_PREPARED) /* never in practice: fall back to unnamed */
            return PQexecParams(c->pg, st->sql, st->nparams, NULL, vals, NULL, NULL, 0);
        PGresult *p = PQprepare(c->pg, st->name, st->sql, st->nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            char esc[512];
            log_write(LOG_ERROR, "prepare failed", "\"stmt\":\"%s\",\"detail\":\"%s\"", st->name,
                      log_esc(PQresultErrorMessage(p), esc, sizeof esc));
            return p;
        }
        PQclear(p);
        c->prepared[c->nprepared++] = st;
    }
    return PQexecPrepared(c->pg, st->name, st->nparams, vals, NULL, NULL, 0);
}

PGresult *db_exec(db_conn_t *c, const db_stmt_t *st, const char *const *vals)
{
    if (!c->pg)
        return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    int idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    PGresult *r = exec_once(c, st, vals);
    /* A connection the server closed (restart, failover, terminated backend) is only
     * noticed on use.  Outside a transaction nothing was lost: reconnect and retry once. */
    if (PQresultStatus(r) == PGRES_FATAL_ERROR && PQstatus(c->pg) == CONNECTION_BAD && idle) {
        PQclear(r);
        if (conn_check(c) != 0)
            return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
        r = exec_once(c, st, vals);
    }
    db_error_note(st->name, r);
    return r;
}

int db_simple(db_conn_t *c, const char *sql)
{
    if (!c->pg)
        return -1;
    PGresult *r = PQexec(c->pg, sql);
    int ok = db_ok(r);
    db_error_note(sql, r);
    PQclear(r);
    return ok ? 0 : -1;
}

int db_begin(db_conn_t *c)
{
    return db_simple(c, "BEGIN");
}

int db_commit(db_conn_t *c)
{
    return db_simple(c, "COMMIT");
}

void db_rollback(db_conn_t *c)
{
    if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
    }
}

int db_ok(const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

const char *db_sqlstate(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

int db_error_status(const PGresult *r, int *retry)
{
    return db_sqlstate_status(db_sqlstate(r), retry);
}
