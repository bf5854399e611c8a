/*
 * api/janitor.h — the background thread that deletes expired rows: refresh tokens past
 * their expiry and idempotency keys older than 48 hours (the promise is 24).  It runs every
 * DESK_JANITOR_INTERVAL seconds, independent of the SLA sweeper.
 */
#ifndef API_JANITOR_H
#define API_JANITOR_H

/* One pass now; 0 / -1 (database unreachable or a statement failed, logged). */
int janitor_run_once(void);
void janitor_start(int interval_secs);
/* Webhook deliveries delivered more than `days` days ago are deleted with their attempts
 * (default 30; DESK_WEBHOOK_RETENTION_DAYS).  Call before janitor_start. */
void janitor_set_webhook_retention(int days);
void janitor_stop(void);

#endif
