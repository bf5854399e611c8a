/* svc/report_worker.c — see svc/report_worker.h; one svc_worker_t (svc/worker.h). */
#include "svc/report_worker.h"
#include "core/report.h"
#include "db/log.h"
#include "db/report.h"
#include "svc/sla_config.h"
#include "svc/worker.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MONTHS_CHECKED 3

/* Time zones come from the one table the SLA engine keeps (svc/sla_config). */
const tz_rules_t *report_zone(const char *name)
{
    return sla_zone(name);
}

static void iso(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int report_check_run(db_conn_t *c, const char *org, int64_t now, report_check_stats_t *st)
{
    memset(st, 0, sizeof *st);
    char *pj = NULL;
    if (db_report_projects(c, org, &pj) != 0)
        return -1;
    cJSON *arr = cJSON_Parse(pj);
    free(pj);
    if (!arr)
        return -1;
    int rc = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, arr)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetArrayItem(p, 0));
        const char *porg = cJSON_GetStringValue(cJSON_GetArrayItem(p, 1));
        const tz_rules_t *tz = report_zone(cJSON_GetStringValue(cJSON_GetArrayItem(p, 2)));
        if (!id || !porg || !tz)
            continue;
        st->projects++;
        int y, m;
        core_report_month_of(tz, now, &y, &m);
        for (int k = 1; k <= MONTHS_CHECKED; k++) {
            int py, pm;
            core_report_month_minus(y, m, k, &py, &pm);
            int64_t due = core_report_due_at(tz, py, pm);
            /* The warning from local midnight starting the 4th of the next month. */
            int ny, nm;
            core_report_month_minus(py, pm, -1, &ny, &nm);
            int64_t warn_from = core_report_local_midnight(tz, core_days_from_civil(ny, nm, 4));
            if (now < warn_from)
                continue;
            char month[16], dues[32];
            snprintf(month, sizeof month, "%04d-%02d-01", py, pm);
            iso(due, dues);
            int n = db_report_alert(c, porg, id, month, "warning", dues, "supervisor");
            if (n < 0) {
                rc = -1;
                continue;
            }
            st->warnings += n;
            if (now >= due) {
                n = db_report_alert(c, porg, id, month, "escalation", dues, "manager");
                if (n < 0)
                    rc = -1;
                else
                    st->escalations += n;
            }
        }
    }
    cJSON_Delete(arr);
    return rc;
}

/* One round of the worker: every organisation's projects. */
static void round_(db_conn_t *c, int64_t now)
{
    report_check_stats_t st;
    if (report_check_run(c, NULL, now, &st) != 0)
        log_write(LOG_WARN, "report check: a statement failed; retrying next round", NULL);
    else if (st.warnings || st.escalations)
        log_write(LOG_INFO, "monthly reports late", "\"warnings\":%d,\"escalations\":%d",
                  st.warnings, st.escalations);
}

static svc_worker_t worker = SVC_WORKER("report check", round_);

void report_worker_start(int interval_secs)
{
    svc_worker_start(&worker, interval_secs > INT_MAX / 1000 ? INT_MAX : interval_secs * 1000);
}

void report_worker_stop(void)
{
    svc_worker_stop(&worker);
}
