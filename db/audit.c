/* db/audit.c — see audit.h. */
#include "db/audit.h"

#include <stdio.h>
#include <stdlib.h>

static const db_stmt_t audit_event = {
    "audit_event", "SELECT audit_event($1::uuid, $2::uuid, $3, $4, $5, coalesce($6::jsonb, '{}'))",
    6};

int db_audit_event(db_conn_t *c, const char *org, const char *user, const char *role,
                   const char *action, const char *result, const char *detail)
{
    const char *v[] = {org, user, role, action, result, detail};
    PGresult *r = db_exec(c, &audit_event, v);
    int ok = db_ok(r);
    PQclear(r);
    return ok ? 0 : -1;
}

static const db_stmt_t audit_token_event = {
    "audit_token_event",
    "SELECT audit_event(t.org_id, t.user_id, u.role, CASE WHEN $2 = 'auth.refresh' AND "
    "t.used_at IS NOT NULL THEN 'auth.token_revoked' ELSE $2 END, $3, "
    "jsonb_build_object('family_id', t.family_id, 'reason', CASE WHEN $2 <> 'auth.refresh' THEN "
    "NULL WHEN t.used_at IS NOT NULL THEN 'replayed: every token of the family is revoked' WHEN "
    "t.revoked_at IS NOT NULL THEN 'revoked' ELSE 'expired' END)) FROM refresh_tokens t JOIN "
    "users u ON u.id = t.user_id WHERE t.token_hash = $1",
    3};

int db_audit_token_event(db_conn_t *c, const char *token_hash, const char *action,
                         const char *result)
{
    const char *v[] = {token_hash, action, result};
    PGresult *r = db_exec(c, &audit_token_event, v);
    int ok = db_ok(r);
    PQclear(r);
    return ok ? 0 : -1;
}

#define AUDIT_JSON                                                                                 \
    "json_build_object('id', a.id, 'seq', s.seq, 'at', rfc3339(a.at), 'organisation_id', "         \
    "a.org_id, 'actor', json_build_object('user_id', a.actor_user_id, 'role', a.actor_role, "      \
    "'system', a.actor_system, 'request_id', a.request_id, 'client_address', a.client_addr), "     \
    "'action', a.action, 'resource_type', a.resource_type, 'resource_id', a.resource_id, "         \
    "'diff', a.diff, 'result', a.result, 'prev_hash', encode(s.prev_hash, 'hex'), 'hash', "        \
    "encode(s.hash, 'hex'))"

static const db_stmt_t audit_list = {
    "audit_list",
    "SELECT " AUDIT_JSON "::text, a.id FROM audit_log a LEFT JOIN audit_seals s ON s.id = a.id "
    "WHERE a.org_id = $1 "
    "AND ($2::text IS NULL OR a.resource_type = $2) AND ($3::text IS NULL OR a.resource_id = $3) "
    "AND ($4::text IS NULL OR a.actor_user_id::text = $4 OR a.actor_system = $4) "
    "AND ($5::text IS NULL OR a.action = $5) AND ($6::timestamptz IS NULL OR a.at >= $6) "
    "AND ($7::timestamptz IS NULL OR a.at < $7) AND ($8::bigint IS NULL OR a.id < $8) "
    "ORDER BY a.id DESC LIMIT $9",
    9};

PGresult *db_audit_list(db_conn_t *c, const char *org, const db_audit_filter_t *f)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", f->limit);
    const char *v[] = {org,      f->resource_type, f->resource_id,
                       f->actor, f->action,        f->from,
                       f->to,    f->before_id,     lim};
    return db_exec(c, &audit_list, v);
}

static const db_stmt_t audit_heads = {
    "audit_heads",
    "SELECT json_build_object('organisation_id', $1::uuid, 'from', $2::date, 'to', $3::date, "
    "'items', coalesce((SELECT json_agg(json_build_object('day', d.day, 'seq', d.seq, 'hash', "
    "d.hash, 'rows', d.n) ORDER BY d.day) FROM (SELECT DISTINCT ON (1) (a.at AT TIME ZONE "
    "'UTC')::date AS day, s.seq, encode(s.hash, 'hex') AS hash, count(*) OVER (PARTITION BY (a.at "
    "AT TIME ZONE "
    "'UTC')::date) AS n FROM audit_log a JOIN audit_seals s ON s.id = a.id WHERE a.org_id = $1 "
    "AND a.at >= "
    "($2::date::timestamp AT TIME ZONE 'UTC') AND a.at < (($3::date + 1)::timestamp AT TIME "
    "ZONE 'UTC') ORDER BY 1, s.seq DESC) d), '[]'))::text",
    3};

PGresult *db_audit_heads(db_conn_t *c, const char *org, const char *from, const char *to)
{
    const char *v[] = {org, from, to};
    return db_exec(c, &audit_heads, v);
}

static const db_stmt_t audit_seal = {"audit_seal_pending", "SELECT audit_seal_pending($1::int)", 1};

int db_audit_seal_pending(db_conn_t *c, int max)
{
    char m[16];
    snprintf(m, sizeof m, "%d", max);
    const char *v[] = {m};
    PGresult *r = db_exec(c, &audit_seal, v);
    int n = db_ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

/* Every sealed row of the chain (a seal of audit_seals joined to its audit_log row, 0030;
 * a row deleted behind the triggers' back leaves a gap) is recomputed: its hash from its
 * stored prev_hash and content, its prev_hash against the row before it, its seq against the one
 * before it; the chain head (kept apart, updated with each seal) names the last seq, so rows cut
 * off the end are found too.  Rows not sealed yet (audit_seal_pending runs in the background) are
 * counted as rows_pending: not part of the chain, not an error.  One statement: one snapshot, in
 * which the head and the rows sealed with it agree. */
static const db_stmt_t audit_verify = {
    "audit_verify",
    "WITH c AS (SELECT s.seq, encode(s.hash, 'hex') AS hash, encode(s.prev_hash, 'hex') AS "
    "prev_hash, audit_hash(encode(s.prev_hash, 'hex'), audit_canonical(a, s.seq)) AS computed, "
    "lag(encode(s.hash, 'hex')) OVER w AS lag_hash, lag(s.seq) OVER w AS lag_seq FROM audit_log "
    "a JOIN audit_seals s ON s.id = a.id WHERE a.org_id = $1 WINDOW w AS (ORDER BY s.seq)), "
    "bad AS (SELECT c.seq, CASE WHEN c.seq <> coalesce(c.lag_seq, 0) + 1 THEN 'rows before "
    "this one are missing' WHEN c.prev_hash IS DISTINCT FROM c.lag_hash THEN 'prev_hash does "
    "not match the hash of the row before' ELSE 'the row was changed: its hash does not match "
    "its content' END AS reason FROM c WHERE c.seq <> coalesce(c.lag_seq, 0) + 1 OR "
    "c.prev_hash IS DISTINCT FROM c.lag_hash OR c.hash IS DISTINCT FROM c.computed ORDER BY "
    "c.seq LIMIT 1), "
    "h AS (SELECT seq, hash FROM audit_chain_heads WHERE org_key = $1), "
    "t AS (SELECT count(*) AS n, max(seq) AS last_seq, (SELECT c2.hash FROM c c2 ORDER BY c2.seq "
    "DESC LIMIT 1) AS last_hash FROM c) "
    "SELECT json_build_object('organisation_id', $1::uuid, 'verified_at', "
    "rfc3339(clock_timestamp()), 'ok', bad.seq IS NULL AND coalesce(h.seq, 0) = "
    "coalesce(t.last_seq, 0) AND h.hash IS NOT DISTINCT FROM t.last_hash, 'rows_checked', t.n, "
    "'rows_pending', (SELECT count(*) FROM audit_log p WHERE p.org_id = $1 AND p.id >= (SELECT "
    "low FROM audit_seal_state) AND NOT EXISTS (SELECT 1 FROM audit_seals z WHERE z.id = p.id)), "
    "'head_seq', coalesce(h.seq, 0), "
    "'head_hash', h.hash, 'first_broken_seq', coalesce(bad.seq, CASE WHEN coalesce(h.seq, 0) "
    "<> coalesce(t.last_seq, 0) OR h.hash IS DISTINCT FROM t.last_hash THEN coalesce(t.last_seq, "
    "0) + 1 END), 'reason', coalesce(bad.reason, CASE WHEN coalesce(h.seq, 0) <> "
    "coalesce(t.last_seq, 0) OR h.hash IS DISTINCT FROM t.last_hash THEN 'the chain ends "
    "before its recorded head: rows at the end are missing' END))::text FROM t LEFT JOIN h ON "
    "true LEFT JOIN bad ON true",
    1};

PGresult *db_audit_verify(db_conn_t *c, const char *org)
{
    const char *v[] = {org};
    return db_exec(c, &audit_verify, v);
}

/* RULES §3.13.6 / §2 item 8: complaints are kept 3 years after they close, work orders 2
 * years after they end (signed, else reported), audit rows 3 years. */
static const db_stmt_t audit_retention = {
    "audit_retention",
    "WITH k(kind, years, records, past, oldest) AS ("
    "SELECT 'complaint', 3, count(*), count(*) FILTER (WHERE closed_at < now() - interval '3 "
    "years'), min(closed_at) FROM requests WHERE org_id = $1 AND type = 'complaint' "
    "UNION ALL SELECT 'work_order', 2, count(*), count(*) FILTER (WHERE coalesce(signed_at, "
    "reported_at) < now() - interval '2 years'), min(coalesce(signed_at, reported_at)) FROM "
    "work_orders WHERE org_id = $1 "
    "UNION ALL SELECT 'audit_log', 3, count(*), count(*) FILTER (WHERE at < now() - interval '3 "
    "years'), min(at) FROM audit_log WHERE org_id = $1) "
    "SELECT json_build_object('organisation_id', $1::uuid, 'as_of', rfc3339(now()), "
    "'deletes', 'none: records are never deleted through the API', 'items', json_agg("
    "json_build_object('kind', kind, 'retention_years', years, 'records', records, "
    "'past_retention', past, 'oldest_end', rfc3339(oldest), 'first_past_retention_at', "
    "rfc3339(oldest + make_interval(years => years))) ORDER BY kind))::text FROM k",
    1};

PGresult *db_audit_retention(db_conn_t *c, const char *org)
{
    const char *v[] = {org};
    return db_exec(c, &audit_retention, v);
}
