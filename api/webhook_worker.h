/*
 * api/webhook_worker.h — the webhook delivery worker (RULES §3.12.3–5): threads that claim due
 * deliveries (db/webhook.c, FOR UPDATE SKIP LOCKED, so any number of servers share one
 * queue), POST each event with libcurl, signed, and record the attempt.  At-least-once: a
 * delivery leaves 'pending' only when a 2xx came back or it was given up; an attempt whose
 * server died is taken again when its lease ends.  Self-contained so it can move to svc/.
 */
#ifndef API_WEBHOOK_WORKER_H
#define API_WEBHOOK_WORKER_H

#include <stddef.h>
#include <stdint.h>

/* Hex HMAC-SHA256 of "<ts>.<body>" under secret (the v1 scheme).  0 / -1. */
int webhook_sign(const char *secret, int64_t ts, const char *body, size_t body_len, char hex[65]);
/* One round: claims up to max due deliveries and attempts them.  Returns how many were
 * attempted, or -1 when the database could not be reached. */
int webhook_run_once(int max);
/* Starts g_config.webhook_workers threads polling every g_config.webhook_poll_ms (nothing
 * when it is 0); stop waits for attempts in flight (at most the timeout). */
void webhook_worker_start(void);
void webhook_worker_stop(void);

#endif
