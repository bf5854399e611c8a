/* svc/janitor.c — see svc/janitor.h; one svc_worker_t (svc/worker.h). */
#include "svc/janitor.h"
#include "db/idempotency.h"
#include "db/janitor.h"
#include "db/log.h"
#include "svc/worker.h"

#include <limits.h>

/* Idempotency keys are kept 48 h: at least the promised 24 h. */
#define IDEM_KEEP_HOURS 48

static int webhook_days = 30;

void janitor_set_webhook_retention(int days)
{
    webhook_days = days;
}

/* One pass on connection c: 0, or -1 when a purge failed (logged). */
static int purge(db_conn_t *c)
{
    int rt = db_janitor_refresh_tokens(c);
    int idem = db_idem_purge(c, IDEM_KEEP_HOURS);
    int imp = db_janitor_abandoned_imports(c);
    int wh = 0, n;
    do { /* in bounded statements: each one short */
        n = db_janitor_webhook_deliveries(c, webhook_days);
        wh = n < 0 ? -1 : wh + n;
    } while (n >= 5000);
    if (rt > 0 || idem > 0 || wh > 0)
        log_write(LOG_INFO, "janitor purged expired rows",
                  "\"refresh_tokens\":%d,\"idempotency_keys\":%d,\"webhook_deliveries\":%d",
                  rt < 0 ? 0 : rt, idem < 0 ? 0 : idem, wh < 0 ? 0 : wh);
    if (imp > 0)
        log_write(LOG_WARN, "janitor marked import jobs of a stopped server failed",
                  "\"imports\":%d", imp);
    if (rt < 0 || idem < 0 || wh < 0 || imp < 0) {
        log_write(LOG_WARN, "janitor: a purge failed; retrying next round", NULL);
        return -1;
    }
    return 0;
}

int janitor_run_once(void)
{
    db_conn_t *c = db_acquire();
    if (!c)
        return -1;
    db_set_actor(c, &(db_actor_t){.system = "janitor"}); /* as svc/worker.c does */
    int rc = purge(c);
    db_release(c);
    return rc;
}

static void round_(db_conn_t *c, int64_t now)
{
    (void)now;
    purge(c);
}

static svc_worker_t worker = SVC_WORKER("janitor", round_);

void janitor_start(int interval_secs)
{
    svc_worker_start(&worker, interval_secs > INT_MAX / 1000 ? INT_MAX : interval_secs * 1000);
}

void janitor_stop(void)
{
    svc_worker_stop(&worker);
}
