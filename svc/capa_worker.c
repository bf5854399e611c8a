/* svc/capa_worker.c — see svc/capa_worker.h; one svc_worker_t (svc/worker.h). */
#include "svc/capa_worker.h"
#include "core/capa.h"
#include "db/capa.h"
#include "db/log.h"
#include "db/patrol.h"
#include "svc/worker.h"

#include <stdlib.h>
#include <string.h>

#define BATCH 200
/* Warnings come at most a day before the deadline (core_capa_warn_at). */
#define HORIZON (24 * 3600)

int capa_clock_run(db_conn_t *c, int64_t now, capa_clock_stats_t *st)
{
    memset(st, 0, sizeof *st);
    int rc = 0;
    if (db_begin(c) != 0)
        return -1;
    PGresult *q = db_capa_due(c, now, HORIZON, BATCH);
    if (!db_ok(q)) {
        PQclear(q);
        db_rollback(c);
        return -1;
    }
    for (int i = 0; i < PQntuples(q); i++) {
        const char *id = PQgetvalue(q, i, 0), *org = PQgetvalue(q, i, 1),
                   *dues = PQgetvalue(q, i, 4);
        int64_t created = strtoll(PQgetvalue(q, i, 2), NULL, 10),
                due = strtoll(PQgetvalue(q, i, 3), NULL, 10);
        if (now >= core_capa_warn_at(created, due)) {
            int n = db_capa_alert(c, org, id, "warning", dues);
            if (n < 0)
                rc = -1;
            else
                st->warnings += n;
        }
        if (now >= due) {
            int n = db_capa_alert(c, org, id, "escalation", dues);
            if (n < 0)
                rc = -1;
            else
                st->escalations += n;
        }
    }
    PQclear(q);
    if (rc != 0) {
        db_rollback(c);
        return -1;
    }
    if (db_commit(c) != 0)
        return -1;
    int m = db_patrol_missed_run(c, now);
    if (m < 0)
        return -1;
    st->missed = m;
    return 0;
}

static void round_(db_conn_t *c, int64_t now)
{
    capa_clock_stats_t st;
    if (capa_clock_run(c, now, &st) != 0)
        log_write(LOG_WARN, "capa clock: a statement failed; retrying next round", NULL);
    else if (st.warnings || st.escalations || st.missed)
        log_write(LOG_INFO, "corrective actions due / patrols missed",
                  "\"warnings\":%d,\"escalations\":%d,\"missed_rounds\":%d", st.warnings,
                  st.escalations, st.missed);
}

static svc_worker_t worker = SVC_WORKER("capa clock", round_);

void capa_worker_start(int interval_ms)
{
    svc_worker_start(&worker, interval_ms);
}

void capa_worker_stop(void)
{
    svc_worker_stop(&worker);
}
