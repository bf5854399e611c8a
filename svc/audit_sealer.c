/* svc/audit_sealer.c — see svc/audit_sealer.h; one svc_worker_t (svc/worker.h). */
#include "svc/audit_sealer.h"
#include "db/audit.h"
#include "db/log.h"
#include "svc/worker.h"

/* Rows sealed per statement: one transaction stays short, a backlog drains in a round. */
#define SEAL_BATCH 1000
/* A round stops after this many batches, letting stop() in between. */
#define SEAL_MAX_BATCHES 100

static void round_(db_conn_t *c, int64_t now)
{
    (void)now;
    long total = 0;
    for (int i = 0; i < SEAL_MAX_BATCHES; i++) {
        int n = db_audit_seal_pending(c, SEAL_BATCH);
        if (n < 0) {
            log_write(LOG_WARN, "audit sealer: sealing failed; retrying next round", NULL);
            return;
        }
        total += n;
        if (n < SEAL_BATCH)
            break;
    }
    if (total >= SEAL_BATCH)
        log_write(LOG_INFO, "audit rows sealed", "\"rows\":%ld", total);
}

static svc_worker_t worker = SVC_WORKER("audit_sealer", round_);

void audit_sealer_start(int interval_ms)
{
    svc_worker_start(&worker, interval_ms);
}

void audit_sealer_stop(void)
{
    svc_worker_stop(&worker);
}
