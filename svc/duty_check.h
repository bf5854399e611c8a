/*
 * svc/duty_check.h — the duty clocks (RULES §3.8.4, §3.9.2): a background worker
 * (svc/worker.h) that, every DESK_SWEEP_INTERVAL_MS, notifies the project's supervisors of a
 * handover not accepted `grace_minutes` after its planned time (`handover_not_accepted`,
 * once per handover), and of a special incident report still a draft when its due instant
 * (end of the next local day after the event) has passed: the writer is warned
 * (`incident_report_overdue`) and the managers hear of it (`incident_report_escalated`), once
 * per report.  Rows are claimed FOR UPDATE SKIP LOCKED, so several servers may run it.
 */
#ifndef SVC_DUTY_CHECK_H
#define SVC_DUTY_CHECK_H

#include <stdint.h>

#include "db/db.h"

typedef struct duty_check_stats {
    int late_handovers, overdue_reports;
} duty_check_stats_t;

/* One check at instant now over org (NULL: every organisation).  0 / -1 (a statement
 * failed; what was recorded before it stays). */
int duty_check_run(db_conn_t *c, const char *org, int64_t now, duty_check_stats_t *st);

void duty_check_start(int interval_ms);
void duty_check_stop(void);

#endif
