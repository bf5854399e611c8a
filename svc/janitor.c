/* api/janitor.c — see svc/janitor.h. */
#include "svc/janitor.h"
#include "db/idempotency.h"
#include "db/janitor.h"
#include "db/log.h"

#include <pthread.h>
#include <time.h>

/* Idempotency keys are kept 48 h: at least the promised 24 h. */
#define IDEM_KEEP_HOURS 48

static pthread_t thread;
static int running, stopping, interval;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

int janitor_run_once(void)
{
    db_conn_t *c = db_acquire();
    if (!c)
        return -1;
    db_set_actor(c, &(db_actor_t){.system = "janitor"});
    int rt = db_janitor_refresh_tokens(c);
    int idem = db_idem_purge(c, IDEM_KEEP_HOURS);
    db_release(c);
    if (rt > 0 || idem > 0)
        log_write(LOG_INFO, "janitor purged expired rows",
                  "\"refresh_tokens\":%d,\"idempotency_keys\":%d", rt < 0 ? 0 : rt,
                  idem < 0 ? 0 : idem);
    if (rt < 0 || idem < 0) {
        log_write(LOG_WARN, "janitor: a purge failed; retrying next round", NULL);
        return -1;
    }
    return 0;
}

static void *janitor_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += interval;
        while (!stopping && pthread_cond_timedwait(&cv, &mu, &until) == 0)
            ; /* woken without a stop: keep waiting for the deadline */
        if (stopping)
            break;
        pthread_mutex_unlock(&mu);
        janitor_run_once();
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

void janitor_start(int interval_secs)
{
    if (running || interval_secs < 1)
        return;
    interval = interval_secs;
    stopping = 0;
    if (pthread_create(&thread, NULL, janitor_main, NULL) == 0)
        running = 1;
    else
        log_write(LOG_ERROR, "janitor: cannot start its thread; expired rows stay", NULL);
}

void janitor_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    running = 0;
}
