/* svc/callback_worker.c — see svc/callback_worker.h; one svc_worker_t (svc/worker.h). */
#include "svc/callback_worker.h"
#include "db/callback.h"
#include "db/log.h"
#include "svc/worker.h"

#define BATCH 500

int callback_overdue_run(db_conn_t *c, int limit)
{
    return db_callback_mark_overdue(c, limit);
}

/* One round: batches until nothing is left due (or a statement fails). */
static void round_(db_conn_t *c, int64_t now)
{
    (void)now;
    int total = 0, n;
    while ((n = callback_overdue_run(c, BATCH)) > 0) {
        total += n;
        if (n < BATCH)
            break;
    }
    if (n < 0)
        log_write(LOG_WARN, "callback overdue: a statement failed; retrying next round", NULL);
    if (total)
        log_write(LOG_INFO, "callback tasks overdue", "\"marked\":%d", total);
}

static svc_worker_t worker = SVC_WORKER("callback overdue", round_);

void callback_worker_start(int interval_ms)
{
    svc_worker_start(&worker, interval_ms);
}

void callback_worker_stop(void)
{
    svc_worker_stop(&worker);
}
