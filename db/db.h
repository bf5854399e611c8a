/*
 * db/db.h — PostgreSQL access: a bounded connection pool, lazily prepared named
 * statements per connection, transactions, and the one SQLSTATE → HTTP mapping.
 * Every SQL string of the service lives under db/; callers pass parameters as
 * text values bound to $n placeholders, never pasted into SQL.
 */
#ifndef DB_DB_H
#define DB_DB_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct db_conn db_conn_t;

/* A named statement.  Define them as static const in the db/ sources; the pool prepares each
 * one once per connection on first use (keyed by the struct's address). */
typedef struct db_stmt {
    const char *name;
    const char *sql;
    int nparams;
} db_stmt_t;

typedef struct db_pool_stats {
    int size;
    int in_use;
    int idle;
    int waiting;
    long long acquire_timeouts;
    long long reconnects;
} db_pool_stats_t;

/* Opens nothing yet: records the settings.  Connections are made on demand up to
 * `size`.  checkout_timeout_ms bounds the wait for a free connection.  Returns 0. */
int db_pool_init(const char *conninfo, int size, int checkout_timeout_ms);
/* Closes every connection; waits for none (call after the HTTP server stopped). */
void db_pool_shutdown(void);
void db_pool_stats(db_pool_stats_t *out);

/* Checks out a healthy connection: reconnects a broken one, rolls back one left in a
 * transaction.  Returns NULL when no connection could be had in time or the database
 * is unreachable (the caller answers 503).  Release with db_release(). */
db_conn_t *db_acquire(void);
/* The same without waiting: NULL at once when every connection is checked out (work that
 * can do without a second connection, e.g. the sweep's second lane). */
db_conn_t *db_try_acquire(void);
void db_release(db_conn_t *c);
PGconn *db_pg(db_conn_t *c);

/*
 * The read replica (DATABASE_READ_URL): a second pool, for reads that may be slightly stale
 * and that the caller chose explicitly (api/http.h ROUTE_REPLICA).  Everything else —
 * writes, reads inside a write, background work — uses db_acquire (the primary).
 * db_pool_init_read opens nothing yet, like db_pool_init; without it db_acquire_for_read is
 * db_acquire.
 */
int db_pool_init_read(const char *conninfo, int size, int checkout_timeout_ms);
int db_read_pool_enabled(void);
/* A connection for a read: the replica's, unless
 *   - min_lsn (the X-Desk-LSN a client got with its last write; NULL: none) is past what
 *     the replica has replayed (pg_last_wal_replay_lsn): read-your-writes, the primary;
 *   - the replica is unreachable (or refused the check): logged, the primary, and the
 *     replica is skipped for a few seconds.
 * NULL only when the primary too has no connection to give (the caller answers 503).  Only
 * statements that read may run on it: the replica refuses the rest (SQLSTATE 25006). */
db_conn_t *db_acquire_for_read(const char *min_lsn);
int db_conn_is_replica(const db_conn_t *c);
/* The primary's WAL insert position ("16/B374D848") after c's last commit: a client that
 * presents it to db_acquire_for_read sees that commit.  -1 when c is a replica's, is in a
 * transaction, or the query failed. */
int db_write_lsn(db_conn_t *c, char *out, size_t len);
/* 1 when s is the text of a pg_lsn ("X/Y", 1-8 hex digits each). */
int db_lsn_valid(const char *s);
/* Where db_acquire_for_read sent reads, for /metrics. */
enum { DB_READ_REPLICA, DB_READ_PRIMARY_BEHIND, DB_READ_PRIMARY_FALLBACK, DB_READ_TARGETS };
/* The read pool's stats and the read counts; -1 (counts still filled) without a read pool. */
int db_read_pool_stats(db_pool_stats_t *out, long long counts[DB_READ_TARGETS]);

/* The audit actor of a checkout (RULES §3.13): every transaction begun on c until it is
 * released — db_begin's and the implicit one of a lone data-changing statement — sends
 * "BEGIN; SELECT set_config('deskd.actor', <json>, true)" with its first statement, and the
 * audit triggers read it (db/migrations/0015_audit.sql).  Members may be NULL; a user's request
 * fills user_id, role, request_id, client_addr; background work fills only system (the
 * worker's name, recorded as "system:<name>").  NULL a: no actor ("system"). */
#define DB_ACTOR_MAX 384
typedef struct db_actor {
    const char *user_id;
    const char *role;
    const char *request_id;
    const char *client_addr;
    const char *system;
} db_actor_t;
void db_set_actor(db_conn_t *c, const db_actor_t *a);
/* dst's transactions get src's actor (work split over two checkouts of one caller). */
void db_copy_actor(db_conn_t *dst, const db_conn_t *src);

/*
 * Every statement goes through one execution path (db/pool.c: run), whatever the entry:
 * db_exec (named, prepared once per connection), db_query (text with $n parameters,
 * planned for the actual values), db_script / db_simple (plain text, several statements
 * allowed), db_begin / db_commit / db_rollback.
 *
 * Connection loss (a PostgreSQL restart, a terminated backend, a failover):
 *   - Before anything is sent the connection is checked; one the server already closed is
 *     replaced, waiting up to the pool's checkout timeout for the server to accept
 *     connections again.  This is done only when nothing is lost by it: outside a
 *     transaction, or when the transaction has had only its BEGIN (which is sent again).
 *   - A statement whose connection dies while it is sent or run is sent again, once, on a
 *     new connection only when that cannot change the outcome: BEGIN; the first statement
 *     of a transaction (the server rolled the transaction back with the connection); a
 *     read outside a transaction (a single SELECT with no data-changing word).
 *   - A data-changing statement outside a transaction (db_exec / db_query) runs in a
 *     transaction of its own, so that it is retried when it is known not to have committed.
 *   - Inside a transaction past its first statement nothing is retried: the statement
 *     fails, the caller rolls back and answers 503 (the transaction is known not to have
 *     committed: the client may retry).
 *   - db_commit never sends COMMIT twice.  It knows the transaction id before COMMIT is
 *     sent: every statement with parameters in a transaction whose id is not known yet goes
 *     with "SELECT pg_current_xact_id_if_assigned()" in the same round trip (libpq pipeline
 *     mode), so COMMIT is one round trip; only when something else ran in the transaction (a
 *     script, COPY through db_pg) is the id read in a round trip before COMMIT.  When the
 *     connection dies during COMMIT it asks a new connection pg_xact_status() and
 *     returns 0 when the transaction committed, -1 when it did not or when the outcome
 *     cannot be learnt (logged at error level as "outcome unknown").
 *
 * Return convention: PGresult-returning calls never return NULL; a connection failure is a
 * PGRES_FATAL_ERROR result without SQLSTATE (db_error_status: 503).  The caller PQclear()s
 * it.  int-returning calls return 0 on success and -1 on failure, logged with SQLSTATE.
 * A COMMIT of a transaction that had already failed ("ROLLBACK" tag) is a failure.
 */

/* Executes a named statement.  vals may hold NULL for SQL NULL. */
PGresult *db_exec(db_conn_t *c, const db_stmt_t *st, const char *const *vals);
/* Executes text with nparams $n parameters, unnamed (planned with the actual values). */
PGresult *db_query(db_conn_t *c, const char *sql, int nparams, const char *const *vals);
/* Executes plain SQL without parameters (may hold several statements: schema files);
 * the result is the last statement's. */
PGresult *db_script(db_conn_t *c, const char *sql);
/* db_script for statements whose result is not needed (SAVEPOINT ...).  0 / -1. */
int db_simple(db_conn_t *c, const char *sql);
/* Begins a transaction.  Nothing is sent yet: BEGIN and the audit actor go in the round trip
 * of the transaction's first statement (in one pipeline with a statement that has
 * parameters, in front of plain text), or before db_pg() hands the connection out.  A
 * transaction with no statement commits nothing and sends nothing.  0 (-1 only inside a
 * transaction already open, where BEGIN is sent at once as before). */
int db_begin(db_conn_t *c);
/* Begins a read-only transaction reading one snapshot throughout (REPEATABLE READ). */
int db_begin_snapshot(db_conn_t *c);
/* 1 when c is inside a transaction: db_begin'd (whether or not its BEGIN was sent yet) or
 * one begun through db_pg(). */
int db_in_transaction(const db_conn_t *c);
int db_commit(db_conn_t *c);
/* Rolls back the open transaction, if any; a dead connection is closed (reopened on use). */
void db_rollback(db_conn_t *c);

/* Result helpers. */
int db_ok(const PGresult *r);               /* COMMAND_OK or TUPLES_OK */
const char *db_sqlstate(const PGresult *r); /* "" when none */
/* Maps a failed result to an HTTP status (db_sqlstate_status of its SQLSTATE). */
int db_error_status(const PGresult *r, int *retry);
/* Runs a named statement and returns its one row's first column as malloc'd text, or NULL
 * when it failed or did not return exactly one row (db/result.c). */
char *db_exec_text(db_conn_t *c, const db_stmt_t *st, const char *const *vals);

/* Errors (db/error.c).  The one SQLSTATE → HTTP mapping: 23505→409; 22xxx, 23503, 23514,
 * 23502, 54000→422 (the client's data); 40001/40P01→409 (retryable, *retry=1); 42xxx,
 * XXxxx→500 (our SQL); connection failures ("" or 08xxx) and the rest→503. */
int db_sqlstate_status(const char *sqlstate, int *retry);
/* db_exec and db_simple call this with every result: a failure is logged with the
 * statement name, SQLSTATE and message and remembered for this thread; a success clears
 * it (a 25P02 in an aborted transaction keeps the error that aborted it). */
void db_error_note(const char *what, const PGresult *r);
/* Starts a request on this thread: forgets the last error, tags later logs with its id. */
void db_error_context(const char *request_id);
/* This thread's last SQL error: 1 when there is one (fields "" / NULL constraint when not). */
int db_last_error(const char **sqlstate, const char **message, const char **constraint);

/* Schema management (db/schema.c). */
int db_schema_compiled_version(void);
/* Returns the version recorded in the database, 0 when the schema is absent, -1 on error. */
int db_schema_current_version(db_conn_t *c);
/* Brings the database to the compiled version: schema.sql on an empty database,
 * numbered migrations otherwise, under an advisory lock.  err gets a message. */
int db_schema_migrate(db_conn_t *c, char *err, size_t errlen);

#endif
