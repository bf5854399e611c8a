/*
 * svc/sweeper.h — the SLA sweeper: claims requests with something due (FOR UPDATE SKIP
 * LOCKED, so several servers can sweep one database), records each warning and
 * escalation once, notifies the ladder and stores the next due times; as a background
 * worker (svc/worker.h) every DESK_SWEEP_INTERVAL_MS, and on demand.
 */
#ifndef SVC_SWEEPER_H
#define SVC_SWEEPER_H

#include <stdint.h>

#include "db/db.h"

typedef struct sla_sweep_stats {
    int examined, warnings, escalations, batches;
    int lanes; /* connections that swept (a backlog takes a second one when it is free) */
} sla_sweep_stats_t;

/* One sweep: claims due requests in batches (FOR UPDATE SKIP LOCKED), records warnings
 * and escalations once each, stores the new due times; a backlog of more than one batch is
 * swept on c and, when the pool has one free at once, a second connection (c's audit actor)
 * in parallel.  c must not be in a transaction.  0 / -1 (some batches may have committed:
 * each batch is its own transaction, and a retry sweeps the rest). */
int sla_sweep(db_conn_t *c, int64_t now, int max_requests, sla_sweep_stats_t *st);
/* The same, limited to the requests of one organisation (an administrator's sweep). */
int sla_sweep_org(db_conn_t *c, const char *org, int64_t now, int max_requests,
                  sla_sweep_stats_t *st);

/* Sweeps one request now if it has something due (a major complaint going to the GM
 * at creation).  Must be called outside a transaction.  0 / -1. */
int sla_sweep_request(db_conn_t *c, const char *request_id, int64_t now);

/* The background sweeper: a sweep every interval_ms (nothing when <= 0). */
void sweeper_start(int interval_ms);
void sweeper_stop(void);

#endif
