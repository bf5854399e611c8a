/*
 * svc/capa_worker.h — the clocks of corrective actions and patrols (RULES §3.3.5, §3.10):
 * a background worker (svc/worker.h) that every DESK_CAPA_INTERVAL_MS warns the
 * responsible person of an action nearing its deadline (core_capa_warn_at; notification
 * capa_due) and escalates an overdue one to the project's managers (capa_overdue), each
 * once per due time; and records each patrol slot missed (no round started by planned time
 * + grace) and notifies the project's supervisors (patrol_missed).
 */
#ifndef SVC_CAPA_WORKER_H
#define SVC_CAPA_WORKER_H

#include <stdint.h>

#include "db/db.h"

typedef struct capa_clock_stats {
    int warnings, escalations; /* notifications written */
    int missed;                /* patrol slots newly recorded as missed */
} capa_clock_stats_t;

/* One round at instant now.  0 / -1 (a statement failed; what was recorded stays). */
int capa_clock_run(db_conn_t *c, int64_t now, capa_clock_stats_t *st);

void capa_worker_start(int interval_ms);
void capa_worker_stop(void);

#endif
