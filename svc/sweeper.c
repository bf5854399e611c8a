/*
 * svc/sweeper.c — see sweeper.h.  A claimed batch is evaluated row by row (svc/sla.c),
 * the alerts due are planned by core/sla_request.c, and the batch's new due times and
 * alerts are written in the transaction that holds the rows' locks.
 */
#include "svc/sweeper.h"
#include "core/rfc3339.h"
#include "core/sla_request.h"
#include "db/log.h"
#include "db/sla.h"
#include "svc/sla.h"
#include "svc/worker.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_BATCH 500

/* The alerts of claimed row i planned at now, appended to alerts; returns the level
 * they raise the request to. */
static int add_alerts(PGresult *r, int i, const sla_eval_t *x, int64_t now, int64_t *next,
                      cJSON *alerts)
{
    sla_alert_t al[SLA_T__COUNT * 2];
    int level = atoi(PQgetvalue(r, i, SLA_COL_LEVEL)), reached = level;
    size_t na =
        core_sla_plan_history(&x->pol, x->v, level, &x->hist, now, al, SLA_T__COUNT * 2, next);
    int seq = atoi(PQgetvalue(r, i, SLA_COL_SEQ));
    for (size_t k = 0; k < na; k++) {
        char due[32];
        rfc3339_format(al[k].due_at, due);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "request_id", PQgetvalue(r, i, SLA_COL_ID));
        cJSON_AddStringToObject(a, "org_id", PQgetvalue(r, i, SLA_COL_ORG));
        cJSON_AddStringToObject(a, "project_id", PQgetvalue(r, i, SLA_COL_PROJECT));
        cJSON_AddStringToObject(a, "target", core_sla_target_name(al[k].target));
        cJSON_AddStringToObject(a, "kind", al[k].kind ? "escalation" : "warning");
        cJSON_AddNumberToObject(a, "level", al[k].level);
        cJSON_AddStringToObject(a, "due_at", due);
        cJSON_AddNumberToObject(a, "seq", ++seq);
        cJSON_AddStringToObject(a, "number", PQgetvalue(r, i, SLA_COL_NUMBER));
        if (PQgetvalue(r, i, SLA_COL_ASSIGNEE)[0])
            cJSON_AddStringToObject(a, "assignee_id", PQgetvalue(r, i, SLA_COL_ASSIGNEE));
        cJSON_AddItemToArray(alerts, a);
        if (al[k].kind && al[k].level > reached)
            reached = al[k].level;
    }
    return reached;
}

/* Evaluates claimed row i: its new due times go to store, its alerts to alerts. */
static void sweep_row(db_conn_t *c, PGresult *r, int i, int64_t now, cJSON *alerts, cJSON *store)
{
    sla_eval_t x;
    int rc = sla_eval_row(c, r, i, now, 0, &x);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "id", PQgetvalue(r, i, SLA_COL_ID));
    cJSON_AddItemToArray(store, s);
    if (rc != 0) {
        /* Nothing to run (no configuration) or a broken definition: stop checking it
         * rather than spinning on it. */
        if (rc < 0)
            log_write(LOG_WARN, "sla evaluation failed", "\"request\":\"%s\"",
                      PQgetvalue(r, i, SLA_COL_ID));
        cJSON_AddNullToObject(s, "next_check");
        sla_eval_done(&x);
        return;
    }
    int64_t next = 0;
    int reached = add_alerts(r, i, &x, now, &next, alerts);
    /* The row lock held since the claim means these alerts are the ones recorded (the
     * unique key guards against anything that skipped the lock). */
    if (reached > atoi(PQgetvalue(r, i, SLA_COL_LEVEL)))
        cJSON_AddNumberToObject(s, "level", reached);
    sla_dues_t d;
    memset(&d, 0, sizeof d);
    sla_fill_dues(x.v, next, &d);
    for (int t = 0; t < SLA_T__COUNT; t++) {
        char col[48]; /* the requests column: due_ + the target's API name */
        snprintf(col, sizeof col, "due_%s", core_sla_target_name((sla_target_id_t)t));
        if (d.due[t][0])
            cJSON_AddStringToObject(s, col, d.due[t]);
    }
    if (d.next_due[0])
        cJSON_AddStringToObject(s, "next_due", d.next_due);
    if (d.next_check[0])
        cJSON_AddStringToObject(s, "next_check", d.next_check);
    sla_eval_done(&x);
}

/* Writes a batch's due times and alerts (inside its transaction).  A batch of the sweep
 * writes its audit rows set-based (its transaction wrote nothing before); the sweep of one
 * request, which may follow other writes of it, keeps the row trigger, which merges with
 * them.  1 ok / 0 failed. */
static int store_batch(db_conn_t *c, cJSON *alerts, cJSON *store, const char *nows,
                       const char *only, sla_sweep_stats_t *st)
{
    char *sj = cJSON_PrintUnformatted(store);
    int ok = (only ? db_sla_store_many(c, sj) : db_sla_store_batch(c, sj)) == 0;
    free(sj);
    if (!ok || cJSON_GetArraySize(alerts) == 0)
        return ok;
    char *aj = cJSON_PrintUnformatted(alerts);
    PGresult *a = db_sla_apply_alerts(c, aj, nows);
    free(aj);
    ok = db_ok(a);
    if (ok) {
        st->warnings += atoi(PQgetvalue(a, 0, 0));
        st->escalations += atoi(PQgetvalue(a, 0, 1));
    } else {
        char esc[300];
        log_write(LOG_ERROR, "sla alerts failed", "\"detail\":\"%s\"",
                  log_esc(PQresultErrorMessage(a), esc, sizeof esc));
    }
    PQclear(a);
    return ok;
}

/* Claims, evaluates and stores one batch in one transaction.  Returns how many requests
 * it claimed, or -1 (rolled back). */
static int sweep_batch(db_conn_t *c, int64_t now, const char *nows, const char *only,
                       const char *org, int want, sla_sweep_stats_t *st)
{
    if (db_begin(c) != 0)
        return -1;
    PGresult *r = db_sla_claim(c, nows, want, only, org);
    if (!db_ok(r)) {
        PQclear(r);
        db_rollback(c);
        return -1;
    }
    int n = PQntuples(r);
    if (n == 0) {
        PQclear(r);
        db_commit(c);
        return 0;
    }
    cJSON *alerts = cJSON_CreateArray(), *store = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        sweep_row(c, r, i, now, alerts, store);
    PQclear(r);
    int ok = store_batch(c, alerts, store, nows, only, st);
    cJSON_Delete(alerts);
    cJSON_Delete(store);
    if (!ok || db_commit(c) != 0) {
        db_rollback(c);
        return -1;
    }
    st->examined += n;
    st->batches++;
    return n;
}

/*
 * A backlog is swept in two lanes (issue 14: 10,000 escalations among 1M open requests):
 * the caller's connection and, once its first batch came back full, a second pooled
 * connection if one is free at once (db_try_acquire: a busy pool is not waited for), each
 * claiming its own batches FOR UPDATE SKIP LOCKED, so PostgreSQL works on two batches at a
 * time.  The lanes share the max_requests budget.  A lane stops at a batch that was not
 * full: every due row not locked by the other lane was in it, and the other lane's rows are
 * its own to finish — exactly the condition the one-lane loop stopped on.
 */
typedef struct sweep_lane {
    db_conn_t *c;
    int64_t now;
    const char *nows, *org;
    int *budget; /* requests left to claim, shared by the lanes (atomic) */
    sla_sweep_stats_t st;
    int rc;
} sweep_lane_t;

/* Takes up to one batch from the shared budget; 0 when it is spent. */
static int take_batch(int *budget)
{
    int left = __atomic_load_n(budget, __ATOMIC_RELAXED);
    while (left > 0) {
        int want = left < SWEEP_BATCH ? left : SWEEP_BATCH;
        if (__atomic_compare_exchange_n(budget, &left, left - want, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return want;
    }
    return 0;
}

/* One batch of lane l: 1 when it came back full (more may be due), 0 when it did not or the
 * budget is spent, -1 when it failed. */
static int lane_batch(sweep_lane_t *l)
{
    int want = take_batch(l->budget);
    if (want == 0)
        return 0;
    int n = sweep_batch(l->c, l->now, l->nows, NULL, l->org, want, &l->st);
    if (n < 0)
        return -1;
    if (n < want) {
        __atomic_add_fetch(l->budget, want - n, __ATOMIC_RELAXED);
        return 0;
    }
    return 1;
}

/* Batches until one is not full or the budget is spent.  0 / -1. */
static int lane_run(sweep_lane_t *l)
{
    int rc;
    while ((rc = lane_batch(l)) > 0)
        ;
    return rc;
}

static void *lane_main(void *arg)
{
    sweep_lane_t *l = arg;
    l->rc = lane_run(l);
    return NULL;
}

static void add_stats(sla_sweep_stats_t *to, const sla_sweep_stats_t *from)
{
    to->examined += from->examined;
    to->warnings += from->warnings;
    to->escalations += from->escalations;
    to->batches += from->batches;
}

static int sweep(db_conn_t *c, int64_t now, int max_requests, const char *only, const char *org,
                 sla_sweep_stats_t *st)
{
    memset(st, 0, sizeof *st);
    char nows[32];
    rfc3339_format(now, nows);
    if (only) {
        int n = sweep_batch(c, now, nows, only, org, 1, st);
        if (n > 0)
            st->lanes = 1;
        return n < 0 ? -1 : 0;
    }
    /* The common case, nothing due, costs one indexed look-up and no transaction. */
    int due = db_sla_anything_due(c, nows, org);
    if (due <= 0)
        return due;
    int budget = max_requests;
    sweep_lane_t main_lane = {.c = c, .now = now, .nows = nows, .org = org, .budget = &budget};
    int rc = lane_batch(&main_lane);
    *st = main_lane.st;
    st->lanes = 1;
    if (rc <= 0)
        return rc;
    /* A backlog: a second lane if a connection is free right now. */
    sweep_lane_t second = {.now = now, .nows = nows, .org = org, .budget = &budget};
    pthread_t t;
    int two = 0;
    if (__atomic_load_n(&budget, __ATOMIC_RELAXED) > 0 && (second.c = db_try_acquire()) != NULL) {
        db_copy_actor(second.c, c);
        two = pthread_create(&t, NULL, lane_main, &second) == 0;
        if (!two)
            db_release(second.c);
    }
    rc = lane_run(&main_lane);
    if (two) {
        pthread_join(t, NULL);
        db_release(second.c);
        if (second.rc != 0)
            rc = -1;
        add_stats(&main_lane.st, &second.st);
    }
    *st = main_lane.st;
    st->lanes = two ? 2 : 1;
    return rc;
}

int sla_sweep(db_conn_t *c, int64_t now, int max_requests, sla_sweep_stats_t *st)
{
    return sweep(c, now, max_requests, NULL, NULL, st);
}

int sla_sweep_org(db_conn_t *c, const char *org, int64_t now, int max_requests,
                  sla_sweep_stats_t *st)
{
    return sweep(c, now, max_requests, NULL, org, st);
}

int sla_sweep_request(db_conn_t *c, const char *request_id, int64_t now)
{
    sla_sweep_stats_t st;
    return sweep(c, now, 1, request_id, NULL, &st);
}

/* ---------------------------------------------------------------- background worker */

/* Expired idempotency keys are the janitor's (its own worker), not the sweeper's. */
static void sweeper_round(db_conn_t *c, int64_t now)
{
    sla_sweep_stats_t st;
    if (sla_sweep(c, now, 100000, &st) == 0 && (st.warnings || st.escalations))
        log_write(LOG_INFO, "sla sweep", "\"examined\":%d,\"warnings\":%d,\"escalations\":%d",
                  st.examined, st.warnings, st.escalations);
}

static svc_worker_t sweeper = SVC_WORKER("sla sweeper", sweeper_round);

void sweeper_start(int interval_ms)
{
    svc_worker_start(&sweeper, interval_ms);
}

void sweeper_stop(void)
{
    svc_worker_stop(&sweeper);
}
