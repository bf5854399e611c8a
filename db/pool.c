/*
 * db/pool.c — the bounded libpq connection pool.  Sized for the database, not the HTTP
 * threads: HTTP workers wait (bounded) for a connection.  A connection is checked on
 * checkout (status, transaction state) and on release the result stream is drained.
 * Named statements are prepared lazily per connection and remembered by address.
 */
#include "db/db.h"
#include "db/log.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_PREPARED 512

typedef struct pool pool_t;

struct db_conn {
    pool_t *pool; /* the pool it belongs to: the primary's or the read replica's */
    PGconn *pg;
    int in_use;
    const db_stmt_t *prepared[MAX_PREPARED];
    unsigned char prepared_reads[MAX_PREPARED]; /* only_reads() of each, judged once */
    int nprepared;
    /* TX_NONE; TX_PENDING (db_begin was called and nothing has been sent: BEGIN goes in
     * the round trip of the transaction's first statement); TX_BEGUN (BEGIN was sent and
     * nothing else yet); TX_WORK */
    int tx;
    /* "; SELECT set_config('deskd.actor', '<json>', true)": the audit actor of every
     * transaction on this checkout, sent with its BEGIN ("" = none); actor_json the same
     * value alone, for the pipelined BEGIN (a parameter of its own statement). */
    char actor_sql[DB_ACTOR_MAX + 64];
    char actor_json[DB_ACTOR_MAX];
    /* The text that began the current transaction (BEGIN [mode] and the actor): sent again
     * when the connection is reopened before anything else ran in it; begin_head the
     * BEGIN [mode] alone. */
    char begin_sql[DB_ACTOR_MAX + 128];
    char begin_head[64];
    /* The current transaction's id, learnt in the round trip of the statement that wrote
     * first (send_with_xid: "" while none is known), so that COMMIT needs no round trip of
     * its own to read it; xid_unsure: a statement ran in this transaction without that
     * check (a script, direct libpq use), so it may have an id not known here. */
    char xid[32];
    int xid_unsure;
    /* conn_check() found it alive and idle at checkout and nothing has been sent on it
     * since: the first statement's run() need not look again (a poll system call per
     * checkout, issue 14); a death in between is the same as one while the statement runs. */
    int fresh;
};

enum { TX_NONE, TX_PENDING, TX_BEGUN, TX_WORK };

/* A thread waiting for a connection (on its own stack): db_release() hands a connection
 * straight to the longest waiter (FIFO) and wakes that thread alone.  A condition variable
 * woke a waiter that then had to retake the pool mutex (still held by the releaser, or
 * taken meanwhile by a thread that grabbed the connection first, sending the waiter back
 * to sleep): more futex calls and context switches per checkout under load (bench/README.md,
 * "Hand-offs per GET"). */
struct waiter {
    sem_t sem;
    db_conn_t *given;
    struct waiter *next;
};

struct pool {
    pthread_mutex_t mu;
    struct waiter *head, *tail; /* FIFO of waiting threads */
    const char *name;           /* "primary" / "read": logs and fallback_application_name */
    char *conninfo;
    db_conn_t *conns;
    int size;
    int in_use;
    int waiting;
    int timeout_ms;
    long long timeouts;
    long long reconnects;
    /* read pool only: a failed connection attempt sends reads to the primary until then */
    long long down_until_ms;
};

/* The primary (every write, and reads by default) and, with DATABASE_READ_URL, the read
 * replica's pool (db_acquire_for_read). */
static pool_t pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .name = "primary"};
static pool_t rpool = {.mu = PTHREAD_MUTEX_INITIALIZER, .name = "read"};

/* The address of the connection this thread used last (of either pool): taken again when
 * free (its statements are prepared, its memory warm in this core's cache).  Kept as a
 * number and only turned back into a pointer inside a pool's current array, so a pool
 * re-initialised since (tests) is never read through a stale pointer. */
static _Thread_local uintptr_t last_conn;
static long long read_counts[DB_READ_TARGETS];

static int pool_setup(pool_t *p, const char *conninfo, int size, int checkout_timeout_ms)
{
    p->conninfo = strdup(conninfo);
    p->size = size > 0 ? size : 1;
    p->conns = calloc((size_t)p->size, sizeof(db_conn_t));
    p->timeout_ms = checkout_timeout_ms;
    p->in_use = p->waiting = 0;
    p->timeouts = p->reconnects = 0;
    p->head = p->tail = NULL;
    for (int i = 0; p->conns && i < p->size; i++)
        p->conns[i].pool = p;
    return p->conninfo && p->conns ? 0 : -1;
}

int db_pool_init(const char *conninfo, int size, int checkout_timeout_ms)
{
    return pool_setup(&pool, conninfo, size, checkout_timeout_ms);
}

int db_pool_init_read(const char *conninfo, int size, int checkout_timeout_ms)
{
    return pool_setup(&rpool, conninfo, size, checkout_timeout_ms);
}

int db_read_pool_enabled(void)
{
    return rpool.conns != NULL;
}

static void pool_close(pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; p->conns && i < p->size; i++) {
        if (p->conns[i].pg)
            PQfinish(p->conns[i].pg);
        p->conns[i].pg = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    free(p->conns);
    free(p->conninfo);
    p->conns = NULL;
    p->conninfo = NULL;
}

void db_pool_shutdown(void)
{
    pool_close(&pool);
    pool_close(&rpool);
}

static void pool_stats(pool_t *p, db_pool_stats_t *out)
{
    pthread_mutex_lock(&p->mu);
    out->size = p->size;
    out->in_use = p->in_use;
    out->waiting = p->waiting;
    int open = 0;
    for (int i = 0; p->conns && i < p->size; i++)
        if (p->conns[i].pg && !p->conns[i].in_use)
            open++;
    out->idle = open;
    out->acquire_timeouts = p->timeouts;
    out->reconnects = p->reconnects;
    pthread_mutex_unlock(&p->mu);
}

void db_pool_stats(db_pool_stats_t *out)
{
    pool_stats(&pool, out);
}

int db_read_pool_stats(db_pool_stats_t *out, long long counts[DB_READ_TARGETS])
{
    for (int i = 0; i < DB_READ_TARGETS; i++)
        counts[i] = __atomic_load_n(&read_counts[i], __ATOMIC_RELAXED);
    if (!db_read_pool_enabled())
        return -1;
    pool_stats(&rpool, out);
    return 0;
}

/* The pool a connection belongs to.  Zeroed storage (no pool) is a connection of the
 * primary's that never connected: the fuzz harness's stand-in for a database gone away. */
static pool_t *pool_of(const db_conn_t *c)
{
    return c->pool ? c->pool : &pool;
}

static void conn_close(db_conn_t *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->nprepared = 0;
    c->tx = TX_NONE;
}

static void notice_to_log(void *arg, const char *msg)
{
    (void)arg;
    char esc[512];
    log_write(LOG_DEBUG, "database notice", "\"detail\":\"%s\"", log_esc(msg, esc, sizeof esc));
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Opens a fresh connection.  A server that is restarting refuses connections for a moment
 * ("the database system is starting up", or no socket at all): keep trying, with a short
 * back-off, for up to the checkout timeout, so that a sub-second restart is latency.  The
 * read pool tries once: its reads go to the primary instead of waiting.  Connections are
 * named "deskd" / "deskd-read" (application_name) unless the connection string names them. */
static int conn_open(db_conn_t *c)
{
    conn_close(c);
    pool_t *p = pool_of(c);
    int is_read = p == &rpool;
    long long deadline = now_ms() + (!is_read && p->timeout_ms > 0 ? p->timeout_ms : 0);
    int pause_ms = 25, tries = 0;
    /* Keywords before "dbname" are overridden by what the expanded connection string says. */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *const vals[] = {is_read ? "2" : NULL, is_read ? "deskd-read" : "deskd", p->conninfo,
                                NULL};
    for (;;) {
        c->pg = PQconnectdbParams(keys, vals, 1);
        __atomic_add_fetch(&p->reconnects, 1, __ATOMIC_RELAXED);
        tries++;
        if (PQstatus(c->pg) == CONNECTION_OK)
            break;
        if (now_ms() + pause_ms > deadline) {
            char esc[512];
            log_write(is_read ? LOG_WARN : LOG_ERROR, "database connection failed",
                      "\"pool\":\"%s\",\"attempts\":%d,\"detail\":\"%s\"", p->name, tries,
                      log_esc(PQerrorMessage(c->pg), esc, sizeof esc));
            conn_close(c);
            return -1;
        }
        conn_close(c);
        struct timespec ts = {0, (long)pause_ms * 1000000L};
        nanosleep(&ts, NULL);
        pause_ms = pause_ms * 2 > 200 ? 200 : pause_ms * 2;
    }
    if (tries > 1)
        log_write(LOG_WARN, "database reachable again", "\"attempts\":%d", tries);
    PQsetNoticeProcessor(c->pg, notice_to_log, NULL);
    PGresult *r = PQexec(c->pg, "SET TIME ZONE 'UTC'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        conn_close(c);
        return -1;
    }
    return 0;
}

/* 1 when the connection is known to be gone without sending anything: absent, marked bad,
 * or the server has closed it while it sat idle (a restart, a terminated backend: the
 * FATAL message and the end of the stream wait unread in the socket). */
static int conn_dead(db_conn_t *c)
{
    for (int i = 0; i < 4; i++) {
        if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
            return 1;
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (p.fd < 0)
            return 1;
        if (poll(&p, 1, 0) <= 0)
            return 0;
        if (!PQconsumeInput(c->pg))
            return 1;
        PGnotify *n;
        while ((n = PQnotifies(c->pg)) != NULL)
            PQfreemem(n);
    }
    return !c->pg || PQstatus(c->pg) != CONNECTION_OK;
}

/* Makes sure c->pg is connected and idle; called without the pool lock held. */
static int conn_check(db_conn_t *c)
{
    if (!conn_dead(c)) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        c->tx = TX_NONE;
        if (ts == PQTRANS_IDLE)
            return 0;
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PGresult *r = PQexec(c->pg, "ROLLBACK");
            int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (ok && PQtransactionStatus(c->pg) == PQTRANS_IDLE)
                return 0;
        }
    }
    return conn_open(c); /* dead, active or unknown: start afresh */
}

/* wait: 0 = give up at once (NULL) when every connection is checked out. */
static db_conn_t *acquire_from(pool_t *p, int wait)
{
    db_conn_t *c = NULL;
    pthread_mutex_lock(&p->mu);
    if (!wait && p->in_use >= p->size) {
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    if (p->in_use < p->size) {
        uintptr_t base = (uintptr_t)p->conns;
        if (last_conn >= base && last_conn < base + (uintptr_t)p->size * sizeof(db_conn_t)) {
            db_conn_t *l = &p->conns[(last_conn - base) / sizeof(db_conn_t)];
            if (!l->in_use && l->pg)
                c = l;
        }
        /* Prefer a connection that is already open. */
        for (int i = 0; i < p->size && !c; i++)
            if (!p->conns[i].in_use && p->conns[i].pg)
                c = &p->conns[i];
        for (int i = 0; i < p->size && !c; i++)
            if (!p->conns[i].in_use)
                c = &p->conns[i];
        c->in_use = 1;
        p->in_use++;
        pthread_mutex_unlock(&p->mu);
    } else {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += p->timeout_ms / 1000;
        deadline.tv_nsec += (long)(p->timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        struct waiter w = {.given = NULL, .next = NULL};
        sem_init(&w.sem, 0, 0);
        if (p->tail)
            p->tail->next = &w;
        else
            p->head = &w;
        p->tail = &w;
        p->waiting++;
        pthread_mutex_unlock(&p->mu);
        for (;;) {
            if (sem_timedwait(&w.sem, &deadline) == 0)
                break;
            if (errno == EINTR)
                continue;
            pthread_mutex_lock(&p->mu);
            if (!w.given) { /* timed out, nothing handed over: leave the queue */
                struct waiter **pp = &p->head, *prev = NULL;
                while (*pp != &w) {
                    prev = *pp;
                    pp = &(*pp)->next;
                }
                *pp = w.next;
                if (p->tail == &w)
                    p->tail = prev;
                p->waiting--;
                p->timeouts++;
                pthread_mutex_unlock(&p->mu);
                sem_destroy(&w.sem);
                return NULL;
            }
            pthread_mutex_unlock(&p->mu);
            /* Handed over just now: its post is on the way. */
            while (sem_wait(&w.sem) != 0 && errno == EINTR)
                ;
            break;
        }
        sem_destroy(&w.sem);
        c = w.given;
    }
    last_conn = (uintptr_t)c;

    if (conn_check(c) != 0) {
        db_release(c);
        return NULL;
    }
    c->fresh = 1;
    return c;
}

db_conn_t *db_acquire(void)
{
    return acquire_from(&pool, 1);
}

db_conn_t *db_try_acquire(void)
{
    return acquire_from(&pool, 0);
}

/* How long reads skip a read replica that could not be reached (or answered the LSN check
 * with an error) before it is tried again. */
#define READ_RETRY_MS 5000

/* "X/Y", each 1..8 hex digits: the text form of pg_lsn. */
int db_lsn_valid(const char *s)
{
    if (!s)
        return 0;
    for (int part = 0; part < 2; part++) {
        int n = 0;
        while (isxdigit((unsigned char)s[n]))
            n++;
        if (n < 1 || n > 8)
            return 0;
        s += n;
        if (part == 0 && *s++ != '/')
            return 0;
    }
    return *s == 0;
}

static void read_count(int target)
{
    __atomic_add_fetch(&read_counts[target], 1, __ATOMIC_RELAXED);
}

db_conn_t *db_acquire_for_read(const char *min_lsn)
{
    if (!db_read_pool_enabled())
        return db_acquire();
    long long now = now_ms();
    if (__atomic_load_n(&rpool.down_until_ms, __ATOMIC_RELAXED) > now) {
        read_count(DB_READ_PRIMARY_FALLBACK);
        return db_acquire();
    }
    db_conn_t *c = acquire_from(&rpool, 1);
    if (c && min_lsn && db_lsn_valid(min_lsn)) {
        /* A standby that has replayed the client's last write, or a server that is not a
         * standby (every committed write is there). */
        const char *v[] = {min_lsn};
        PGresult *r = PQexecParams(
            c->pg,
            "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, NOT pg_is_in_recovery())", 1,
            NULL, v, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        int caught_up = ok && !strcmp(PQgetvalue(r, 0, 0), "t");
        PQclear(r);
        if (!ok) {
            db_release(c);
            c = NULL; /* counted as unreachable below */
        } else if (!caught_up) {
            db_release(c);
            read_count(DB_READ_PRIMARY_BEHIND);
            return db_acquire();
        }
    }
    if (!c) {
        __atomic_store_n(&rpool.down_until_ms, now + READ_RETRY_MS, __ATOMIC_RELAXED);
        log_write(LOG_WARN, "read replica unreachable; reading from the primary",
                  "\"retry_in_ms\":%d", READ_RETRY_MS);
        read_count(DB_READ_PRIMARY_FALLBACK);
        return db_acquire();
    }
    read_count(DB_READ_REPLICA);
    return c;
}

int db_conn_is_replica(const db_conn_t *c)
{
    return c && c->pool == &rpool;
}

int db_write_lsn(db_conn_t *c, char *out, size_t len)
{
    if (!c || db_conn_is_replica(c) || !c->pg || PQstatus(c->pg) != CONNECTION_OK ||
        PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return -1;
    /* The insert position: past the commit record of everything committed on this server,
     * whether or not the commit waited for its flush (synchronous_commit = off). */
    PGresult *r = PQexec(c->pg, "SELECT pg_current_wal_insert_lsn()");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
             db_lsn_valid(PQgetvalue(r, 0, 0));
    if (ok)
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok ? 0 : -1;
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
    c->tx = TX_NONE;
    c->actor_sql[0] = 0;
    c->actor_json[0] = 0;
    c->fresh = 0;
    pool_t *p = pool_of(c);
    pthread_mutex_lock(&p->mu);
    struct waiter *w = p->head;
    if (w) { /* straight to the longest waiter: the connection stays checked out */
        p->head = w->next;
        if (!p->head)
            p->tail = NULL;
        p->waiting--;
        w->given = c;
        /* Posted under the mutex: a waiter that timed out meanwhile finds `given` set
         * under the same mutex and waits for this post before its semaphore goes. */
        sem_post(&w->sem);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    c->in_use = 0;
    p->in_use--;
    pthread_mutex_unlock(&p->mu);
}

static int begin_now(db_conn_t *c);

PGconn *db_pg(db_conn_t *c)
{
    /* The caller may run anything through it (COPY, its own statements): a transaction
     * begun by db_begin must have reached the server by then. */
    if (c->tx == TX_PENDING)
        begin_now(c);
    c->xid_unsure = 1; /* the caller may write through it (COPY) */
    c->fresh = 0;
    return c->pg;
}

int db_in_transaction(const db_conn_t *c)
{
    return c->tx != TX_NONE || (c->pg && PQstatus(c->pg) == CONNECTION_OK &&
                                PQtransactionStatus(c->pg) != PQTRANS_IDLE);
}

/* Appends s to out as the inside of a JSON string and of an SQL literal at once: no quote,
 * backslash or control character survives (they become '?'), so nothing needs escaping
 * twice.  The values are ids, role names, request ids and addresses. */
static size_t put_safe(char *out, size_t at, size_t cap, const char *s)
{
    for (; s && *s && at + 1 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        out[at++] = (ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '"' || ch == '\\') ? '?' : *s;
    }
    out[at] = 0;
    return at;
}

void db_copy_actor(db_conn_t *dst, const db_conn_t *src)
{
    if (dst && src) {
        memcpy(dst->actor_sql, src->actor_sql, sizeof dst->actor_sql);
        memcpy(dst->actor_json, src->actor_json, sizeof dst->actor_json);
    }
}

void db_set_actor(db_conn_t *c, const db_actor_t *a)
{
    if (!c)
        return;
    if (!a) {
        c->actor_sql[0] = 0;
        c->actor_json[0] = 0;
        return;
    }
    static const char *const keys[] = {"u", "r", "q", "a", "s"};
    const char *vals[] = {a->user_id, a->role, a->request_id, a->client_addr, a->system};
    char json[DB_ACTOR_MAX];
    size_t n = 0;
    json[n++] = '{';
    json[n] = 0;
    for (int i = 0; i < 5; i++) {
        if (!vals[i] || !vals[i][0])
            continue;
        if (sizeof json - n < 80)
            break;
        n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%s\":\"", n > 1 ? "," : "", keys[i]);
        size_t room = n + 64 < sizeof json - 4 ? n + 64 : sizeof json - 4;
        n = put_safe(json, n, room, vals[i]);
        json[n++] = '"';
        json[n] = 0;
    }
    json[n++] = '}';
    json[n] = 0;
    snprintf(c->actor_sql, sizeof c->actor_sql, "; SELECT set_config('deskd.actor', '%s', true)",
             json);
    memcpy(c->actor_json, json, n + 1);
}

static int word_at(const char *sql, const char *p, const char *w)
{
    size_t n = strlen(w);
    if (strncasecmp(p, w, n) != 0)
        return 0;
    int before = p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
    int after = isalnum((unsigned char)p[n]) || p[n] == '_';
    return !before && !after;
}

/* A statement that only reads, so that running it twice is harmless: one SELECT (or
 * WITH ... SELECT) with no data-changing word in it.  Conservative: a false "no" costs a
 * transaction of its own (run_alone), never a wrong retry. */
static int only_reads(const char *sql)
{
    const char *s = sql;
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '(')
        s++;
    if (!word_at(s, s, "SELECT") && !word_at(s, s, "WITH"))
        return 0;
    static const char *const words[] = {"insert", "update", "delete", "merge",  "truncate",
                                        "create", "drop",   "alter",  "notify", "lock",
                                        "call",   "do",     NULL};
    static const char *const parts[] = {"nextval",      "setval",  "advisory", "next_number",
                                        "pg_terminate", "pg_temp", ";",        NULL};
    for (const char *p = s; *p; p++) {
        for (const char *const *w = words; *w; w++)
            if (word_at(s, p, *w))
                return 0;
        for (const char *const *w = parts; *w; w++)
            if (!strncasecmp(p, *w, strlen(*w)))
                return 0;
    }
    return 1;
}

/* The text beginning a transaction: head ("BEGIN" and its mode) and the actor. */
static const char *begin_text(db_conn_t *c, const char *head)
{
    snprintf(c->begin_head, sizeof c->begin_head, "%s", head);
    snprintf(c->begin_sql, sizeof c->begin_sql, "%s%s", head, c->actor_sql);
    return c->begin_sql;
}

/* Begins a transaction on c without sending anything yet (TX_PENDING). */
static void pend(db_conn_t *c, const char *head)
{
    begin_text(c, head);
    c->tx = TX_PENDING;
    c->xid[0] = 0;
    c->xid_unsure = 0;
}

/* Index of st among this connection's prepared statements, or -1. */
static int prepared_index(db_conn_t *c, const db_stmt_t *st)
{
    for (int i = 0; i < c->nprepared; i++)
        if (c->prepared[i] == st)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- the one execution path */

/* What is being run: a named statement (st), or text with parameters (params >= 0: extended
 * protocol, unnamed), or plain text (params < 0: simple protocol, may hold several
 * statements). */
typedef struct query {
    const db_stmt_t *st;
    const char *sql;
    int params;
    const char *const *vals;
} query_t;

/* Prepares st on c once (the pool keeps the list).  Its index among c's prepared statements;
 * -1 when c already has MAX_PREPARED (never in practice: the caller sends it unnamed); -2
 * with *err the server's answer when PREPARE failed. */
enum { PREP_UNNAMED = -1, PREP_FAILED = -2 };
static int prepare_once(db_conn_t *c, const db_stmt_t *st, PGresult **err)
{
    int i = prepared_index(c, st);
    if (i >= 0)
        return i;
    if (c->nprepared >= MAX_PREPARED)
        return PREP_UNNAMED;
    PGresult *p = PQprepare(c->pg, st->name, st->sql, st->nparams, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) {
        char esc[512];
        log_write(LOG_ERROR, "prepare failed", "\"stmt\":\"%s\",\"detail\":\"%s\"", st->name,
                  log_esc(PQresultErrorMessage(p), esc, sizeof esc));
        *err = p;
        return PREP_FAILED;
    }
    PQclear(p);
    c->prepared_reads[c->nprepared] = (unsigned char)only_reads(st->sql);
    c->prepared[c->nprepared] = st;
    return c->nprepared++;
}

static PGresult *send_once(db_conn_t *c, const query_t *q)
{
    if (!q->st)
        return q->params < 0 ? PQexec(c->pg, q->sql)
                             : PQexecParams(c->pg, q->sql, q->params, NULL, q->vals, NULL, NULL, 0);
    const db_stmt_t *st = q->st;
    PGresult *err;
    int i = prepare_once(c, st, &err);
    if (i == PREP_FAILED)
        return err;
    if (i == PREP_UNNAMED)
        return PQexecParams(c->pg, st->sql, st->nparams, NULL, q->vals, NULL, NULL, 0);
    return PQexecPrepared(c->pg, st->name, st->nparams, q->vals, NULL, NULL, 0);
}

static int lost(db_conn_t *c, const PGresult *r)
{
    return PQresultStatus(r) == PGRES_FATAL_ERROR && (!c->pg || PQstatus(c->pg) != CONNECTION_OK);
}

static PGresult *lost_result(void)
{
    return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
}

/* Runs q (parameters: extended protocol) inside a transaction whose id is not known yet and,
 * in the same round trip (libpq pipeline mode), "SELECT pg_current_xact_id_if_assigned()":
 * the id the transaction has once q wrote, kept in c->xid for commit_known().  With
 * with_begin (the transaction is TX_PENDING) the transaction's BEGIN and its audit actor go
 * first in that same round trip.  Returns q's result (a connection-failure result when the
 * connection died before it arrived; the BEGIN's or the actor's error when one of them
 * failed, q then not having run). */
static PGresult *send_with_xid(db_conn_t *c, const query_t *q, int with_begin)
{
    const char *name = NULL;
    PGresult *err = NULL;
    if (q->st) {
        int i = prepare_once(c, q->st, &err);
        if (i == PREP_FAILED)
            return err;
        if (i != PREP_UNNAMED)
            name = q->st->name;
    }
    const char *sql = q->st ? q->st->sql : q->sql;
    int nparams = q->st ? q->st->nparams : q->params;
    int actor = with_begin && c->actor_json[0];
    if (PQenterPipelineMode(c->pg) != 1) {
        c->xid_unsure = 1;
        if (with_begin) {
            PGresult *b = PQexec(c->pg, c->begin_sql);
            if (!db_ok(b))
                return b;
            PQclear(b);
        }
        return send_once(c, q);
    }
    const char *actor_val[] = {c->actor_json};
    int sent = 1;
    if (with_begin)
        sent = PQsendQueryParams(c->pg, c->begin_head, 0, NULL, NULL, NULL, NULL, 0);
    if (actor)
        sent = sent && PQsendQueryParams(c->pg, "SELECT set_config('deskd.actor', $1, true)", 1,
                                         NULL, actor_val, NULL, NULL, 0);
    sent = sent && (name ? PQsendQueryPrepared(c->pg, name, nparams, q->vals, NULL, NULL, 0)
                         : PQsendQueryParams(c->pg, sql, nparams, NULL, q->vals, NULL, NULL, 0));
    sent = sent && PQsendQueryParams(c->pg, "SELECT pg_current_xact_id_if_assigned()", 0, NULL,
                                     NULL, NULL, NULL, 0);
    sent = sent && PQpipelineSync(c->pg);
    /* The queries in order (BEGIN, the actor, q, the id): each its result(s), then NULL; then
     * the sync.  A dead connection ends the reading wherever it is. */
    int at_q = with_begin + actor, at_id = at_q + 1, nq = at_id + 1;
    PGresult *r = NULL, *x;
    for (int stage = 0; sent && stage <= nq;) {
        x = PQgetResult(c->pg);
        if (!x) {
            if (PQstatus(c->pg) != CONNECTION_OK)
                break;
            stage++;
            continue;
        }
        ExecStatusType st = PQresultStatus(x);
        int dead = st == PGRES_FATAL_ERROR && PQstatus(c->pg) != CONNECTION_OK;
        if (stage == at_q) {
            PQclear(r);
            r = x;
            if (dead)
                break;
            continue;
        }
        if (stage < at_q && st == PGRES_FATAL_ERROR && !err) {
            err = x; /* BEGIN or the actor failed: q was not run (PGRES_PIPELINE_ABORTED) */
            if (dead)
                break;
            continue;
        }
        if (stage == at_id && st == PGRES_TUPLES_OK && PQntuples(x) == 1 && !PQgetisnull(x, 0, 0))
            snprintf(c->xid, sizeof c->xid, "%s", PQgetvalue(x, 0, 0));
        int done = st == PGRES_PIPELINE_SYNC;
        PQclear(x);
        if (done || dead)
            break;
    }
    if (PQstatus(c->pg) == CONNECTION_OK)
        PQexitPipelineMode(c->pg);
    if (err && PQstatus(c->pg) == CONNECTION_OK) {
        PQclear(r);
        return err;
    }
    PQclear(err);
    if (!r || !sent || PQstatus(c->pg) != CONNECTION_OK) {
        if (r && PQresultStatus(r) != PGRES_FATAL_ERROR)
            PQclear(r), r = NULL;
        return r ? r : lost_result();
    }
    return r;
}

/* The first statement of a TX_PENDING transaction: its BEGIN (and audit actor) go in the
 * same round trip — in front of plain text as more statements of one simple query, before
 * a statement with parameters in one pipeline (send_with_xid). */
static PGresult *send_pending(db_conn_t *c, const query_t *q, int writes_unsure)
{
    c->xid[0] = 0;
    c->xid_unsure = 0;
    if (q->st && prepared_index(c, q->st) < 0 && c->nprepared < MAX_PREPARED) {
        /* Its first use on this connection: BEGIN first, then the statement is prepared
         * inside the transaction as before, so that a failed prepare aborts it like any
         * failed statement (once per statement and connection). */
        PGresult *b = PQexec(c->pg, c->begin_sql);
        if (!db_ok(b))
            return b;
        PQclear(b);
        c->tx = TX_BEGUN;
        return send_with_xid(c, q, 0);
    }
    if (q->st || q->params >= 0)
        return send_with_xid(c, q, 1);
    size_t n = strlen(c->begin_sql) + strlen(q->sql) + 3;
    char *text = malloc(n);
    if (!text)
        return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    snprintf(text, n, "%s; %s", c->begin_sql, q->sql);
    c->xid_unsure = writes_unsure;
    PGresult *r = PQexec(c->pg, text);
    free(text);
    return r;
}

/* send_once, learning the transaction's id on the way while it is not known: every
 * statement with parameters inside a transaction goes with the id's SELECT (send_with_xid)
 * until the id is known; a script inside one (SAVEPOINT ...) leaves it unsure.  BEGIN
 * forgets the previous transaction's (the actor's set_config in its text writes nothing). */
static PGresult *send_tracked(db_conn_t *c, const query_t *q, int is_begin)
{
    if (is_begin) {
        c->xid[0] = 0;
        c->xid_unsure = 0;
        return send_once(c, q);
    }
    if (q->params < 0 && !q->st) {
        /* Plain text may begin a transaction and write in it; savepoints write nothing. */
        int unsure = strncasecmp(q->sql, "SAVEPOINT ", 10) &&
                     strncasecmp(q->sql, "RELEASE SAVEPOINT ", 18) &&
                     strncasecmp(q->sql, "ROLLBACK TO SAVEPOINT ", 22);
        if (c->tx == TX_PENDING)
            return send_pending(c, q, unsure);
        if (unsure)
            c->xid_unsure = 1;
        return send_once(c, q);
    }
    if (c->tx == TX_PENDING)
        return send_pending(c, q, 0);
    if (c->tx == TX_NONE || c->xid[0] || PQtransactionStatus(c->pg) != PQTRANS_INTRANS)
        return send_once(c, q);
    return send_with_xid(c, q, 0);
}

/* only_reads() of q: a named statement is judged once per connection, when it is
 * prepared; SQL built per call is judged each time. */
static int query_reads(db_conn_t *c, const query_t *q)
{
    if (q->st) {
        int i = prepared_index(c, q->st);
        if (i >= 0)
            return c->prepared_reads[i];
        return only_reads(q->st->sql);
    }
    return only_reads(q->sql);
}

/* Reconnects (the old connection is gone) and, when a transaction had been begun on it with
 * nothing done yet, begins it again (one still TX_PENDING stays so: its BEGIN goes with its
 * first statement).  0 / -1. */
static int reopen(db_conn_t *c, int rebegin)
{
    int pending = c->tx == TX_PENDING;
    if (conn_open(c) != 0)
        return -1;
    if (pending)
        c->tx = TX_PENDING;
    if (!rebegin || pending)
        return 0;
    PGresult *r = PQexec(c->pg, c->begin_sql);
    int ok = db_ok(r);
    PQclear(r);
    c->tx = ok ? TX_BEGUN : TX_NONE;
    c->xid[0] = 0;
    c->xid_unsure = 0;
    return ok ? 0 : -1;
}

static void track_tx(db_conn_t *c, int was_begin)
{
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
        return; /* the transaction (if any) is gone; c->tx stays until rollback/release */
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        c->tx = TX_NONE;
    else
        c->tx = was_begin && c->tx == TX_NONE ? TX_BEGUN : TX_WORK;
}

/* Runs q once, or twice when the first attempt found the connection dead and a second
 * cannot change the outcome (see db.h).  Never NULL. */
static PGresult *run(db_conn_t *c, const query_t *q, int is_begin)
{
    /* Nothing is lost by reconnecting now: not in a transaction, or only BEGIN sent (or
     * not even that). */
    int replayable = c->tx != TX_WORK;
    int fresh = c->fresh;
    c->fresh = 0;
    if (!fresh && conn_dead(c)) {
        if (!replayable || reopen(c, c->tx == TX_BEGUN) != 0)
            return lost_result();
    }
    int before = c->tx;
    PGresult *r = send_tracked(c, q, is_begin);
    if (!lost(c, r))
        return track_tx(c, is_begin), r;
    /* The connection died while the statement was on its way or running.  Safe to send
     * again: BEGIN; the first statement of a transaction (the server rolled back the
     * transaction with the connection, or it had not even begun); a read outside a
     * transaction. */
    int again = is_begin || before == TX_BEGUN || before == TX_PENDING ||
                (before == TX_NONE && query_reads(c, q));
    if (!again)
        return r;
    char esc[256];
    log_write(LOG_WARN, "database connection lost; retrying on a new one",
              "\"stmt\":\"%s\",\"detail\":\"%s\"", q->st ? q->st->name : "sql",
              log_esc(PQresultErrorMessage(r), esc, sizeof esc));
    PQclear(r);
    if (reopen(c, before == TX_BEGUN && !is_begin) != 0)
        return lost_result();
    if (before == TX_PENDING)
        c->tx = TX_PENDING; /* its BEGIN goes with the statement again */
    r = send_tracked(c, q, is_begin);
    track_tx(c, is_begin);
    return r;
}

/* Outcomes of commit_known(). */
enum { C_OK, C_SQL, C_NOT_COMMITTED, C_UNKNOWN };

/* COMMIT with a known outcome wherever one can be had.  The transaction id is read first;
 * when the connection dies during COMMIT, a new connection asks the server whether that
 * transaction committed (pg_xact_status) instead of guessing.  *err gets the server's
 * answer to a COMMIT that failed for a reason of its own (C_SQL), else NULL. */
static int commit_known(db_conn_t *c, PGresult **err)
{
    *err = NULL;
    int had = c->tx;
    if (had == TX_PENDING) { /* nothing was sent: nothing to commit */
        c->tx = TX_NONE;
        return C_OK;
    }
    if (conn_dead(c)) {
        c->tx = TX_NONE; /* the server rolled back whatever was open */
        return had == TX_WORK ? C_NOT_COMMITTED : C_OK;
    }
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) {
        c->tx = TX_NONE;
        return C_OK;
    }
    char xid[32] = "";
    snprintf(xid, sizeof xid, "%s", c->xid);
    /* Usually known by now (send_tracked); asked in a round trip of its own only when a
     * statement of this transaction ran without that check. */
    if (had != TX_BEGUN && !xid[0] && c->xid_unsure &&
        PQtransactionStatus(c->pg) == PQTRANS_INTRANS) {
        PGresult *r = PQexec(c->pg, "SELECT pg_current_xact_id_if_assigned()");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
            snprintf(xid, sizeof xid, "%s", PQgetvalue(r, 0, 0));
        int died = lost(c, r);
        PQclear(r);
        if (died) {
            c->tx = TX_NONE;
            return C_NOT_COMMITTED; /* COMMIT never sent */
        }
    }
    int failed = PQtransactionStatus(c->pg) == PQTRANS_INERROR;
    PGresult *r = PQexec(c->pg, "COMMIT");
    c->tx = TX_NONE;
    if (!lost(c, r)) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "ROLLBACK")) {
            PQclear(r); /* COMMIT of a transaction that had failed answers "ROLLBACK" */
            return C_NOT_COMMITTED;
        }
        if (db_ok(r)) {
            PQclear(r);
            return C_OK;
        }
        *err = r;
        return C_SQL;
    }
    char esc[256];
    log_esc(PQresultErrorMessage(r), esc, sizeof esc);
    PQclear(r);
    if (failed)
        return C_NOT_COMMITTED; /* a failed transaction only rolls back */
    if (!xid[0])
        return C_OK; /* nothing was written: nothing to lose */
    const char *status = "unknown";
    PGresult *s = NULL;
    if (conn_open(c) == 0) {
        const char *v[] = {xid};
        s = PQexecParams(c->pg, "SELECT pg_xact_status($1::xid8)", 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(s) == PGRES_TUPLES_OK && PQntuples(s) == 1 && !PQgetisnull(s, 0, 0))
            status = PQgetvalue(s, 0, 0);
    }
    int out = !strcmp(status, "committed") ? C_OK
              : !strcmp(status, "aborted") ? C_NOT_COMMITTED
                                           : C_UNKNOWN;
    log_write(out == C_UNKNOWN ? LOG_ERROR : LOG_WARN, "database connection lost during COMMIT",
              "\"xid\":\"%s\",\"outcome\":\"%s\",\"detail\":\"%s\"", xid, status, esc);
    PQclear(s);
    return out;
}

/* A data-changing statement outside a transaction runs inside one of its own, so that a
 * connection lost while it runs leaves a known outcome, and it is sent again (once) when it
 * is known not to have committed. */
static PGresult *run_alone(db_conn_t *c, const query_t *q)
{
    if (c->tx != TX_NONE || query_reads(c, q))
        return run(c, q, 0);
    for (int attempt = 0;; attempt++) {
        pend(c, "BEGIN"); /* BEGIN goes with q */
        PGresult *r = run(c, q, 0);
        if (!db_ok(r)) {
            int gone = lost(c, r);
            db_rollback(c);
            if (gone && attempt == 0) { /* its transaction died with the connection */
                PQclear(r);
                continue;
            }
            return r;
        }
        PGresult *err;
        int out = commit_known(c, &err);
        if (out == C_OK)
            return r;
        PQclear(r);
        if (out == C_NOT_COMMITTED && attempt == 0)
            continue;
        return out == C_SQL ? err : lost_result();
    }
}

PGresult *db_exec(db_conn_t *c, const db_stmt_t *st, const char *const *vals)
{
    query_t q = {st, st->sql, st->nparams, vals};
    PGresult *r = run_alone(c, &q);
    db_error_note(st->name, r);
    return r;
}

PGresult *db_query(db_conn_t *c, const char *sql, int nparams, const char *const *vals)
{
    query_t q = {NULL, sql, nparams, vals};
    PGresult *r = run_alone(c, &q);
    db_error_note(sql, r);
    return r;
}

PGresult *db_script(db_conn_t *c, const char *sql)
{
    query_t q = {NULL, sql, -1, NULL};
    return run(c, &q, 0);
}

int db_simple(db_conn_t *c, const char *sql)
{
    if (!strcasecmp(sql, "BEGIN"))
        return db_begin(c);
    if (!strcasecmp(sql, "COMMIT"))
        return db_commit(c);
    if (!strcasecmp(sql, "ROLLBACK"))
        return db_rollback(c), 0;
    PGresult *r = db_script(c, sql);
    int ok = db_ok(r);
    db_error_note(sql, r);
    PQclear(r);
    return ok ? 0 : -1;
}

/* Sends the BEGIN of a TX_PENDING transaction now, in a round trip of its own (for a caller
 * about to use the connection through libpq directly: db_pg).  0 / -1. */
static int begin_now(db_conn_t *c)
{
    if (c->tx == TX_PENDING)
        c->tx = TX_NONE; /* nothing on the server yet: replayable as before any BEGIN */
    const query_t q = {NULL, c->begin_sql, -1, NULL};
    PGresult *r = run(c, &q, 1);
    int ok = db_ok(r);
    if (!ok)
        log_write(LOG_ERROR, "sql failed", "\"sql\":\"BEGIN\",\"sqlstate\":\"%s\"", db_sqlstate(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* A transaction is begun when its first statement is sent: BEGIN, its audit actor and that
 * statement share one round trip (send_pending; issue 14: a create was four round trips,
 * pgbench's transaction two).  Inside a transaction already open, BEGIN is sent as before
 * (PostgreSQL warns and carries on). */
static int begin_as(db_conn_t *c, const char *head)
{
    if (c->tx == TX_BEGUN || c->tx == TX_WORK) {
        begin_text(c, head);
        return begin_now(c);
    }
    pend(c, head);
    return 0;
}

int db_begin(db_conn_t *c)
{
    return begin_as(c, "BEGIN");
}

int db_begin_snapshot(db_conn_t *c)
{
    return begin_as(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

int db_commit(db_conn_t *c)
{
    PGresult *err;
    int out = commit_known(c, &err);
    if (out == C_SQL) {
        char esc[256];
        log_write(LOG_ERROR, "sql failed",
                  "\"sql\":\"COMMIT\",\"sqlstate\":\"%s\",\"detail\":\"%s\"", db_sqlstate(err),
                  log_esc(PQresultErrorMessage(err), esc, sizeof esc));
        PQclear(err);
    }
    return out == C_OK ? 0 : -1;
}

void db_rollback(db_conn_t *c)
{
    c->tx = TX_NONE;
    if (c->pg && PQstatus(c->pg) != CONNECTION_OK)
        conn_close(c); /* the server already rolled it back; reconnect on next use */
    else if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
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
