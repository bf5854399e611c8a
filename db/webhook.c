/* db/webhook.c — see db/webhook.h. */
#include "db/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A subscription as the API shows it: never the secrets, only whether a previous one is
 * still accepted and until when. */
#define WH_JSON                                                                                    \
    "json_build_object('id', w.id, 'project_id', w.project_id, 'url', w.url, 'description', "      \
    "w.description, 'event_types', to_json(w.event_types), 'active', w.active, "                   \
    "'disabled_reason', w.disabled_reason, 'disabled_at', rfc3339(w.disabled_at), "                \
    "'previous_secret_active_until', CASE WHEN w.previous_secret_until > clock_timestamp() THEN "  \
    "rfc3339(w.previous_secret_until) END, 'version', w.version, 'created_at', "                   \
    "rfc3339(w.created_at), 'updated_at', rfc3339(w.updated_at))"

static const db_stmt_t wh_create = {
    "wh_create",
    "INSERT INTO webhooks AS w (org_id, project_id, url, description, event_types, secret, "
    "active, created_by) SELECT $1, $2, $3, $4, ARRAY(SELECT json_array_elements_text($5::json)), "
    "$6, $7::boolean, $8 RETURNING " WH_JSON "::text, w.version",
    8};
static const db_stmt_t wh_get = {"wh_get",
                                 "SELECT " WH_JSON "::text, w.version FROM webhooks w WHERE w.id = "
                                 "$2 AND w.org_id = $1",
                                 2};
static const db_stmt_t wh_list = {
    "wh_list",
    "SELECT " WH_JSON "::text, rfc3339(w.created_at), w.id FROM webhooks w WHERE w.org_id = $1 "
    "AND ($2::timestamptz IS NULL OR (w.created_at, w.id) > ($2::timestamptz, $3::uuid)) "
    "ORDER BY w.created_at, w.id LIMIT $4",
    4};
static const db_stmt_t wh_update = {
    "wh_update",
    "UPDATE webhooks w SET url = coalesce($4, w.url), description = CASE WHEN $5::boolean THEN "
    "$6 ELSE w.description END, event_types = CASE WHEN $7::json IS NULL THEN "
    "w.event_types ELSE ARRAY(SELECT json_array_elements_text($7::json)) END, active = "
    "coalesce($8::boolean, "
    "w.active), disabled_reason = CASE WHEN $8::boolean THEN NULL ELSE w.disabled_reason END, "
    "disabled_at = CASE WHEN $8::boolean THEN NULL ELSE w.disabled_at END, previous_secret = "
    "CASE WHEN $9::text IS NOT NULL THEN w.secret ELSE w.previous_secret END, "
    "previous_secret_until = CASE WHEN $9::text IS NOT NULL THEN clock_timestamp() + "
    "make_interval(mins => $10::int) ELSE w.previous_secret_until END, secret = coalesce($9, "
    "w.secret), version = w.version + 1, updated_at = clock_timestamp() WHERE w.id = $2 AND "
    "w.org_id = $1 AND w.version = $3::int RETURNING " WH_JSON "::text, w.version",
    10};

#define DELIVERY_JSON                                                                              \
    "json_build_object('id', d.id, 'webhook_id', d.webhook_id, 'event', json_build_object('id', "  \
    "e.id, 'type', e.type, 'sequence', e.seq, 'request_id', e.request_id, 'subject', "             \
    "json_build_object('kind', e.subject_kind, 'id', e.subject_id), 'created_at', "                \
    "rfc3339(e.created_at)), 'state', d.state, 'attempts', d.attempts, 'next_attempt_at', CASE "   \
    "WHEN d.state = 'pending' THEN rfc3339(d.next_attempt_at) END, 'in_flight', "                  \
    "coalesce(d.claimed_until > clock_timestamp(), false), 'last_status', d.last_status, "         \
    "'last_error', d.last_error, 'last_attempt_at', rfc3339(d.last_attempt_at), "                  \
    "'delivered_at', rfc3339(d.delivered_at), 'created_at', rfc3339(d.created_at), "               \
    "'attempt_log', (SELECT coalesce(json_agg(json_build_object('attempt', a.attempt, "            \
    "'manual', a.manual, 'started_at', rfc3339(a.started_at), 'duration_ms', a.duration_ms, "      \
    "'status', a.status, 'error', a.error, 'server', a.server) ORDER BY a.attempt), '[]') FROM "   \
    "webhook_attempts a WHERE a.delivery_id = d.id))"

static const db_stmt_t wh_deliveries = {
    "wh_deliveries",
    "SELECT " DELIVERY_JSON "::text, rfc3339(d.created_at), d.id FROM webhook_deliveries d JOIN "
    "webhook_events e ON e.id = d.event_id WHERE d.webhook_id = $2 AND d.org_id = $1 AND "
    "($3::text IS NULL OR d.state = $3) AND ($4::timestamptz IS NULL OR (d.created_at, d.id) < "
    "($4::timestamptz, $5::uuid)) ORDER BY d.created_at DESC, d.id DESC LIMIT $6",
    6};
static const db_stmt_t wh_redeliver = {
    "wh_redeliver",
    "WITH t AS (SELECT d.id, w.active, coalesce(d.claimed_until > clock_timestamp(), false) AS "
    "busy FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $3 AND "
    "d.webhook_id = $2 AND d.org_id = $1 FOR UPDATE OF d), "
    "u AS (UPDATE webhook_deliveries d SET state = 'pending', manual = true, next_attempt_at = "
    "clock_timestamp() FROM t WHERE d.id = t.id AND t.active AND NOT t.busy RETURNING d.*) "
    "SELECT (SELECT " DELIVERY_JSON " FROM (SELECT * FROM u UNION ALL SELECT d.* FROM "
    "webhook_deliveries d WHERE d.id = $3 AND NOT EXISTS (SELECT 1 FROM u)) d JOIN "
    "webhook_events e ON e.id = d.event_id)::text, t.active, t.busy FROM t",
    3};

static const db_stmt_t wh_claim = {
    "wh_claim",
    "WITH c AS (SELECT d.id, d.manual FROM webhook_deliveries d JOIN webhooks w ON w.id = "
    "d.webhook_id WHERE d.state = 'pending' AND d.next_attempt_at <= clock_timestamp() AND "
    "w.active AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.webhook_id = "
    "d.webhook_id AND p.subject_kind = d.subject_kind AND p.subject_id = d.subject_id AND p.state "
    "= 'pending' AND p.seq < d.seq) "
    "ORDER BY d.next_attempt_at, d.seq LIMIT $1 FOR UPDATE OF d SKIP LOCKED) "
    "UPDATE webhook_deliveries d SET attempts = d.attempts + 1, manual = false, next_attempt_at "
    "= clock_timestamp() + make_interval(secs => $2::int / 1000.0), claimed_until = "
    "clock_timestamp() + make_interval(secs => $2::int / 1000.0) FROM c, webhooks w, "
    "webhook_events e WHERE d.id = c.id AND w.id = d.webhook_id AND e.id = d.event_id "
    "RETURNING d.id, d.attempts, c.manual, d.org_id, w.id, e.id, e.type, w.url, w.secret, CASE "
    "WHEN w.previous_secret_until > clock_timestamp() THEN w.previous_secret END, e.payload::text",
    2};

static const db_stmt_t wh_record = {
    "wh_record",
    "WITH a AS (INSERT INTO webhook_attempts (org_id, delivery_id, attempt, manual, server, "
    "started_at, duration_ms, status, error) VALUES ($1, $2, $3::int, $4::boolean, $5, "
    "to_timestamp($6::double precision / 1000), $7::int, $8::int, $9) ON CONFLICT DO NOTHING), "
    "d AS (UPDATE webhook_deliveries SET state = $10, next_attempt_at = clock_timestamp() + "
    "make_interval(secs => $11::double precision / 1000), last_status = $8::int, last_error = "
    "$9, last_attempt_at = to_timestamp($6::double precision / 1000), delivered_at = CASE WHEN "
    "$10 = 'delivered' THEN clock_timestamp() ELSE delivered_at END, claimed_until = NULL WHERE "
    "id = $2 AND attempts = $3::int AND state = 'pending' RETURNING webhook_id), "
    "w AS (UPDATE webhooks SET active = false, disabled_reason = $12, disabled_at = "
    "clock_timestamp(), version = version + 1, updated_at = clock_timestamp() WHERE $12::text IS "
    "NOT NULL AND active AND id IN (SELECT webhook_id FROM d)) "
    "SELECT count(*) FROM d",
    12};

PGresult *db_webhook_create(db_conn_t *c, const char *org, const char *project, const char *url,
                            const char *description, const char *event_types, const char *secret,
                            const char *active, const char *user)
{
    const char *v[] = {org, project, url, description, event_types, secret, active, user};
    return db_exec(c, &wh_create, v);
}

PGresult *db_webhook_get(db_conn_t *c, const char *org, const char *id)
{
    const char *v[] = {org, id};
    return db_exec(c, &wh_get, v);
}

PGresult *db_webhook_list(db_conn_t *c, const char *org, const char *after_ts, const char *after_id,
                          int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, after_ts, after_id, l};
    return db_exec(c, &wh_list, v);
}

PGresult *db_webhook_update(db_conn_t *c, const char *org, const char *id, int version,
                            const char *url, const char *set_description, const char *description,
                            const char *event_types, const char *active, const char *secret,
                            int keep_minutes)
{
    char ver[16], keep[16];
    snprintf(ver, sizeof ver, "%d", version);
    snprintf(keep, sizeof keep, "%d", keep_minutes);
    const char *v[] = {org,         id,          ver,    url,    set_description,
                       description, event_types, active, secret, keep};
    return db_exec(c, &wh_update, v);
}

PGresult *db_webhook_deliveries(db_conn_t *c, const char *org, const char *webhook,
                                const char *state, const char *after_ts, const char *after_id,
                                int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, webhook, state, after_ts, after_id, l};
    return db_exec(c, &wh_deliveries, v);
}

PGresult *db_webhook_redeliver(db_conn_t *c, const char *org, const char *webhook,
                               const char *delivery)
{
    const char *v[] = {org, webhook, delivery};
    return db_exec(c, &wh_redeliver, v);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int db_webhook_claim(db_conn_t *c, int max, int lease_ms, wh_claim_t *out)
{
    char m[16], l[16];
    snprintf(m, sizeof m, "%d", max);
    snprintf(l, sizeof l, "%d", lease_ms);
    const char *v[] = {m, l};
    PGresult *r = db_exec(c, &wh_claim, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n && i < max; i++) {
        wh_claim_t *w = &out[i];
        memset(w, 0, sizeof *w);
        copy(w->delivery_id, sizeof w->delivery_id, PQgetvalue(r, i, 0));
        w->attempt = atoi(PQgetvalue(r, i, 1));
        w->manual = PQgetvalue(r, i, 2)[0] == 't';
        copy(w->org_id, sizeof w->org_id, PQgetvalue(r, i, 3));
        copy(w->webhook_id, sizeof w->webhook_id, PQgetvalue(r, i, 4));
        copy(w->event_id, sizeof w->event_id, PQgetvalue(r, i, 5));
        copy(w->event_type, sizeof w->event_type, PQgetvalue(r, i, 6));
        w->url = strdup(PQgetvalue(r, i, 7));
        w->secret = strdup(PQgetvalue(r, i, 8));
        w->previous_secret = PQgetisnull(r, i, 9) ? NULL : strdup(PQgetvalue(r, i, 9));
        w->payload_len = (size_t)PQgetlength(r, i, 10);
        w->payload = malloc(w->payload_len + 1);
        if (w->payload) {
            memcpy(w->payload, PQgetvalue(r, i, 10), w->payload_len);
            w->payload[w->payload_len] = 0;
        }
    }
    PQclear(r);
    return n < max ? n : max;
}

void db_webhook_claim_free(wh_claim_t *w)
{
    free(w->url);
    free(w->secret);
    free(w->previous_secret);
    free(w->payload);
    w->url = w->secret = w->previous_secret = w->payload = NULL;
}

int db_webhook_record(db_conn_t *c, const wh_claim_t *w, const char *server, long long started_ms,
                      int duration_ms, long status, const char *error, const char *state,
                      long long retry_ms, const char *disable_reason)
{
    char att[16], st[32], dur[16], code[16], retry[32];
    snprintf(att, sizeof att, "%d", w->attempt);
    snprintf(st, sizeof st, "%lld", started_ms);
    snprintf(dur, sizeof dur, "%d", duration_ms);
    snprintf(code, sizeof code, "%ld", status);
    snprintf(retry, sizeof retry, "%lld", retry_ms);
    const char *v[] = {w->org_id, w->delivery_id,
                       att,       w->manual ? "true" : "false",
                       server,    st,
                       dur,       status > 0 ? code : NULL,
                       error,     state,
                       retry,     disable_reason};
    PGresult *r = db_exec(c, &wh_record, v);
    int rc = db_ok(r) ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return rc;
}

static const db_stmt_t wh_stale = {
    "wh_secrets_stale",
    "SELECT id, org_id, secret, previous_secret FROM webhooks WHERE secret NOT LIKE $1 OR "
    "(previous_secret IS NOT NULL AND previous_secret NOT LIKE $1) ORDER BY created_at, id",
    1};
/* Compare-and-set, so that a concurrent rotation (or another server's start) wins; not a
 * change of the subscription (its version stays). */
static const db_stmt_t wh_replace = {
    "wh_secret_replace",
    "WITH u AS (UPDATE webhooks SET secret = $4, previous_secret = $5 WHERE id = $1 AND secret "
    "= $2 AND previous_secret IS NOT DISTINCT FROM $3 RETURNING 1) SELECT count(*) FROM u",
    5};

PGresult *db_webhook_secrets_stale(db_conn_t *c, const char *current_like)
{
    const char *v[] = {current_like};
    return db_exec(c, &wh_stale, v);
}

int db_webhook_secret_replace(db_conn_t *c, const char *id, const char *old_secret,
                              const char *old_previous, const char *secret, const char *previous)
{
    const char *v[] = {id, old_secret, old_previous, secret, previous};
    PGresult *r = db_exec(c, &wh_replace, v);
    int n = db_ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}
