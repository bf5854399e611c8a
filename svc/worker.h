/*
 * svc/worker.h — the one pattern of a background worker: a thread that, every interval,
 * takes a pooled connection and runs one round of its work; stopped (and joined) before
 * the pool closes.  A worker is a static svc_worker_t in its own file (svc/sweeper.c,
 * svc/janitor.c, …) with a start/stop pair that main calls:
 *
 *     static void round(db_conn_t *c, int64_t now) { ... }
 *     static svc_worker_t w = SVC_WORKER("janitor", round);
 *     void janitor_start(int interval_ms) { svc_worker_start(&w, interval_ms); }
 *     void janitor_stop(void) { svc_worker_stop(&w); }
 */
#ifndef SVC_WORKER_H
#define SVC_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "db/db.h"

typedef struct svc_worker {
    const char *name;                         /* for the log */
    void (*round)(db_conn_t *c, int64_t now); /* one round; now is the wall clock (s) */
    /* private: the thread and its stop signal */
    int interval_ms, running, stop;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} svc_worker_t;

#define SVC_WORKER(name, round)                                                                    \
    {                                                                                              \
        (name), (round), 0, 0, 0, (pthread_t)0, PTHREAD_MUTEX_INITIALIZER,                         \
            PTHREAD_COND_INITIALIZER                                                               \
    }

/* Starts the thread: it waits interval_ms, runs a round (skipped when no connection is
 * free), and again, until stopped.  Nothing starts when interval_ms <= 0 or it already
 * runs.  0, or -1 when the thread cannot be created (logged). */
int svc_worker_start(svc_worker_t *w, int interval_ms);
/* Wakes the worker, lets a running round finish, and joins it.  Safe when not running. */
void svc_worker_stop(svc_worker_t *w);
/* 1 while the worker's thread runs. */
int svc_worker_running(const svc_worker_t *w);

#endif
