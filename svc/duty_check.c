/* svc/duty_check.c — see svc/duty_check.h; one svc_worker_t (svc/worker.h). */
#include "svc/duty_check.h"
#include "core/duty.h"
#include "db/duty.h"
#include "db/log.h"
#include "svc/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int late_handovers(db_conn_t *c, const char *org, int64_t now, int *count)
{
    char nowb[32];
    snprintf(nowb, sizeof nowb, "%lld", (long long)now);
    if (db_begin(c) != 0)
        return -1;
    const char *v[] = {nowb, org};
    PGresult *res = db_duty(c, DQ_HANDOVER_LATE, v);
    int ok = db_ok(res);
    for (int i = 0; ok && i < PQntuples(res); i++) {
        int64_t planned = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        int grace = atoi(PQgetvalue(res, i, 4));
        if (!core_handover_overdue(planned, 0, now, grace))
            continue;
        char payload[300];
        snprintf(payload, sizeof payload,
                 "{\"handover_id\": \"%s\", \"planned_at\": \"%s\", \"incoming_user_id\": "
                 "\"%s\", \"late_minutes\": %ld}",
                 PQgetvalue(res, i, 0), PQgetvalue(res, i, 6), PQgetvalue(res, i, 5),
                 core_handover_late_minutes(planned, 0, now, grace));
        const char *nv[] = {PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), "supervisor",
                            "handover_not_accepted", payload};
        const char *mv[] = {PQgetvalue(res, i, 0)};
        ok =
            db_duty_do(c, DQ_NOTIFY_ROLE, nv) == 0 && db_duty_do(c, DQ_HANDOVER_LATE_MARK, mv) == 0;
        if (ok)
            (*count)++;
    }
    PQclear(res);
    if (!ok || db_commit(c) != 0) {
        db_rollback(c);
        return -1;
    }
    return 0;
}

static int overdue_reports(db_conn_t *c, const char *org, int64_t now, int *count)
{
    char nowb[32];
    snprintf(nowb, sizeof nowb, "%lld", (long long)now);
    if (db_begin(c) != 0)
        return -1;
    const char *v[] = {nowb, org};
    PGresult *res = db_duty(c, DQ_INC_OVERDUE, v);
    int ok = db_ok(res);
    for (int i = 0; ok && i < PQntuples(res); i++) {
        char payload[300];
        snprintf(payload, sizeof payload,
                 "{\"incident_report_id\": \"%s\", \"kind\": \"%s\", \"due_at\": \"%s\"}",
                 PQgetvalue(res, i, 0), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
        const char *wv[] = {PQgetvalue(res, i, 1), PQgetvalue(res, i, 5), "incident_report_overdue",
                            payload};
        const char *mv[] = {PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), "manager",
                            "incident_report_escalated", payload};
        const char *sv[] = {PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), "supervisor",
                            "incident_report_escalated", payload};
        const char *xv[] = {PQgetvalue(res, i, 0)};
        ok = db_duty_do(c, DQ_NOTIFY_USER, wv) == 0 && db_duty_do(c, DQ_NOTIFY_ROLE, mv) == 0 &&
             db_duty_do(c, DQ_NOTIFY_ROLE, sv) == 0 && db_duty_do(c, DQ_INC_ESCALATED, xv) == 0;
        if (ok)
            (*count)++;
    }
    PQclear(res);
    if (!ok || db_commit(c) != 0) {
        db_rollback(c);
        return -1;
    }
    return 0;
}

int duty_check_run(db_conn_t *c, const char *org, int64_t now, duty_check_stats_t *st)
{
    memset(st, 0, sizeof *st);
    int rc = late_handovers(c, org, now, &st->late_handovers);
    if (overdue_reports(c, org, now, &st->overdue_reports) != 0)
        rc = -1;
    return rc;
}

static void round_(db_conn_t *c, int64_t now)
{
    duty_check_stats_t st;
    if (duty_check_run(c, NULL, now, &st) != 0)
        log_write(LOG_WARN, "duty check: a statement failed; retrying next round", NULL);
    else if (st.late_handovers || st.overdue_reports)
        log_write(LOG_INFO, "duty clocks", "\"late_handovers\":%d,\"overdue_incident_reports\":%d",
                  st.late_handovers, st.overdue_reports);
}

static svc_worker_t worker = SVC_WORKER("duty check", round_);

void duty_check_start(int interval_ms)
{
    svc_worker_start(&worker, interval_ms);
}

void duty_check_stop(void)
{
    svc_worker_stop(&worker);
}
