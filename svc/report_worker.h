/*
 * svc/report_worker.h — time-zone rules for reports, and the monthly report's late check:
 * a background worker (svc/worker.h) that, every DESK_JANITOR_INTERVAL seconds, looks at each
 * project's last three local months and, for a month without a submitted version, warns
 * the project's supervisors from the start of the 4th local day of the next month
 * (notification `report_due`) and escalates to its managers once the due instant — the end
 * of that day — has passed (`report_overdue`); each once per project and month.
 */
#ifndef SVC_REPORT_WORKER_H
#define SVC_REPORT_WORKER_H

#include <stdint.h>

#include "core/tz.h"
#include "db/db.h"

/* The rules of a zone from the system tz database (loaded once, kept for the process's
 * life), or NULL when the name is not a readable zone. */
const tz_rules_t *report_zone(const char *name);

typedef struct report_check_stats {
    int projects, warnings, escalations; /* warnings/escalations: notifications written */
} report_check_stats_t;

/* One late check at instant now over the projects of org (NULL: every organisation).
 * 0 / -1 (a statement failed; what was recorded stays). */
int report_check_run(db_conn_t *c, const char *org, int64_t now, report_check_stats_t *st);

void report_worker_start(int interval_secs);
void report_worker_stop(void);

#endif
