/* svc/worker.c — see worker.h. */
#include "svc/worker.h"
#include "db/log.h"

#include <time.h>

/* Waits until interval_ms from now or a stop, with w->mu held.  1 when stopped. */
static int wait_interval(svc_worker_t *w)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += w->interval_ms / 1000;
    until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!w->stop) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
            break; /* the interval is over */
    }
    return w->stop;
}

static void *worker_main(void *arg)
{
    svc_worker_t *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!wait_interval(w)) {
        pthread_mutex_unlock(&w->mu);
        db_conn_t *c = db_acquire();
        if (c) {
            db_set_actor(c, &(db_actor_t){.system = w->name});
            w->round(c, (int64_t)time(NULL));
            db_release(c);
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int svc_worker_start(svc_worker_t *w, int interval_ms)
{
    if (interval_ms <= 0 || w->running)
        return 0;
    w->interval_ms = interval_ms;
    w->stop = 0;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        log_write(LOG_ERROR, "background worker did not start", "\"worker\":\"%s\"", w->name);
        return -1;
    }
    w->running = 1;
    return 0;
}

void svc_worker_stop(svc_worker_t *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->running = 0;
}

int svc_worker_running(const svc_worker_t *w)
{
    return w->running;
}
