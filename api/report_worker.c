/* api/report_worker.c — see api/report_worker.h. */
#include "api/report_worker.h"
#include "core/report.h"
#include "db/log.h"
#include "db/report.h"
#include "svc/sla_config.h"

#include <cjson/cJSON.h>
#include <pthread.h>
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

static pthread_t thread;
static int running, stopping, interval;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void run_once(void)
{
    db_conn_t *c = db_acquire();
    if (!c)
        return;
    db_set_actor(c, &(db_actor_t){.system = "report_check"});
    report_check_stats_t st;
    if (report_check_run(c, NULL, (int64_t)time(NULL), &st) != 0)
        log_write(LOG_WARN, "report check: a statement failed; retrying next round", NULL);
    else if (st.warnings || st.escalations)
        log_write(LOG_INFO, "monthly reports late", "\"warnings\":%d,\"escalations\":%d",
                  st.warnings, st.escalations);
    db_release(c);
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += interval;
        while (!stopping && pthread_cond_timedwait(&cv, &mu, &until) == 0)
            ;
        if (stopping)
            break;
        pthread_mutex_unlock(&mu);
        run_once();
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

void report_worker_start(int interval_secs)
{
    if (running || interval_secs < 1)
        return;
    interval = interval_secs;
    stopping = 0;
    if (pthread_create(&thread, NULL, worker_main, NULL) == 0)
        running = 1;
    else
        log_write(LOG_ERROR, "report check: cannot start its thread", NULL);
}

void report_worker_stop(void)
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
