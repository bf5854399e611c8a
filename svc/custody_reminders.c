/* svc/custody_reminders.c — see custody_reminders.h; one svc_worker_t (svc/worker.h). */
#include "svc/custody_reminders.h"
#include "db/custody.h"
#include "db/log.h"
#include "svc/worker.h"

static void round_(db_conn_t *c, int64_t now)
{
    (void)now;
    int notified = 0;
    int n = db_custody_remind_due(c, &notified);
    if (n < 0)
        log_write(LOG_WARN, "custody reminders: the round failed; retrying next round", NULL);
    else if (n > 0)
        log_write(LOG_INFO, "custody reminders sent", "\"items\":%d,\"notifications\":%d", n,
                  notified);
}

static svc_worker_t worker = SVC_WORKER("custody_reminders", round_);

void custody_reminders_start(int interval_ms)
{
    svc_worker_start(&worker, interval_ms);
}

void custody_reminders_stop(void)
{
    svc_worker_stop(&worker);
}
