/*
 * svc/callback_worker.h — the overdue marker of callback tasks (RULES §3.1.7): a background
 * worker (svc/worker.h) that, every DESK_SWEEP_INTERVAL_MS, marks open tasks past their
 * due time (`overdue_at`, once each, through the partial index callback_tasks_due) and
 * notifies the task's assignee — or, for a task still in the project's queue, the
 * project's supervisors — with notification `callback_overdue`.  The request's own
 * `callback` SLA clock (same due time) warns and escalates up the ladder through the SLA
 * sweeper as every clock does; this worker adds the task-level notice.
 */
#ifndef SVC_CALLBACK_WORKER_H
#define SVC_CALLBACK_WORKER_H

#include "db/db.h"

/* One round: marks up to `limit` overdue tasks.  The count marked, or -1. */
int callback_overdue_run(db_conn_t *c, int limit);

void callback_worker_start(int interval_ms);
void callback_worker_stop(void);

#endif
