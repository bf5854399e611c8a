/*
 * db/webhook.h — SQL of webhooks: subscriptions (the secret is stored for signing and never
 * selected by a read), the delivery queue the worker claims with FOR UPDATE SKIP LOCKED, the
 * attempts it records, and manual redelivery.  Events enter the outbox by triggers: on
 * request_events (webhook_on_request_event) and on each resource's own tables through
 * webhook_emit (0028); each event has a subject (kind, id) and a per-subject sequence.
 */
#ifndef DB_WEBHOOK_H
#define DB_WEBHOOK_H

#include "db/db.h"

/* Subscriptions.  Each returns rows (json text, version) or fails; event_types is a JSON
 * array text.  project may be NULL. */
PGresult *db_webhook_create(db_conn_t *c, const char *org, const char *project, const char *url,
                            const char *description, const char *event_types, const char *secret,
                            const char *active, const char *user);
PGresult *db_webhook_get(db_conn_t *c, const char *org, const char *id);
/* (json, created_at, id) rows after the cursor (may be NULL), oldest first, `limit` rows. */
PGresult *db_webhook_list(db_conn_t *c, const char *org, const char *after_ts, const char *after_id,
                          int limit);
/* Applies the given (non-NULL) changes when the version matches; no row: changed meanwhile
 * or absent.  set_description: "true" to store description (NULL clears it).  secret: a new
 * current secret; the old one then stays valid for keep_minutes. */
PGresult *db_webhook_update(db_conn_t *c, const char *org, const char *id, int version,
                            const char *url, const char *set_description, const char *description,
                            const char *event_types, const char *active, const char *secret,
                            int keep_minutes);

/* Deliveries of a subscription, newest first: (json, created_at, id); state may be NULL. */
PGresult *db_webhook_deliveries(db_conn_t *c, const char *org, const char *webhook,
                                const char *state, const char *after_ts, const char *after_id,
                                int limit);
/* Makes a delivery due now as a manual attempt.  One row (json, webhook active, in flight)
 * or none when absent; in flight: "t" when an attempt is running (nothing changed). */
PGresult *db_webhook_redeliver(db_conn_t *c, const char *org, const char *webhook,
                               const char *delivery);

/* The worker. */
typedef struct wh_claim {
    char delivery_id[40];
    int attempt;
    int manual;
    char org_id[40];
    char webhook_id[40];
    char event_id[40];
    char event_type[64];
    char *url;
    char *secret;
    char *previous_secret; /* NULL when none is active */
    char *payload;
    size_t payload_len;
} wh_claim_t;
/* Claims up to max due deliveries (the earliest pending one of each subscription and
 * subject only), taking attempt n+1 of each and leasing it for lease_ms.  Returns how many
 * were filled into out (free each with db_webhook_claim_free), or -1. */
int db_webhook_claim(db_conn_t *c, int max, int lease_ms, wh_claim_t *out);
void db_webhook_claim_free(wh_claim_t *w);
/* Records attempt `attempt` and moves the delivery: state "pending" (retry after
 * retry_ms), "delivered" or "failed"; disable_reason non-NULL disables the subscription.
 * Returns 1 when the delivery was updated, 0 when its lease had been taken over (the
 * attempt is still recorded), -1 on error. */
int db_webhook_record(db_conn_t *c, const wh_claim_t *w, const char *server, long long started_ms,
                      int duration_ms, long status, const char *error, const char *state,
                      long long retry_ms, const char *disable_reason);

/* Secrets at rest (api/webhook_secret.c): the subscriptions whose secret or previous secret
 * is not LIKE current_like (not under the current key): rows (id, org_id, secret,
 * previous_secret). */
PGresult *db_webhook_secrets_stale(db_conn_t *c, const char *current_like);
/* Replaces both stored secrets when they are still old_secret / old_previous; 1 replaced,
 * 0 changed meanwhile, -1 error. */
int db_webhook_secret_replace(db_conn_t *c, const char *id, const char *old_secret,
                              const char *old_previous, const char *secret, const char *previous);

#endif
