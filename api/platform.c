/*
 * api/platform.c — the hosting operator's endpoints: list organisations, deactivate and
 * activate one.  They answer only to `Authorization: Bearer <DESK_PLATFORM_TOKEN>` (compared
 * in constant time), a credential of the platform, not of any organisation: no user token,
 * an administrator's included, reaches them.  Unset, they are off (403 platform_disabled).
 *
 * It also keeps the set of deactivated organisations that authentication consults on every
 * token (platform_org_inactive): one query per PLATFORM_ORG_TTL_MS, not one per request.
 */
#include "api/api.h"
#include "api/config.h"
#include "api/http.h"
#include "api/platform.h"
#include "db/log.h"
#include "db/platform.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---------------------------------------------------------------- deactivated set */

static pthread_mutex_t org_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t org_cv = PTHREAD_COND_INITIALIZER;
static char (*inactive)[40]; /* ids of deactivated organisations */
static int ninactive, capinactive;
static long long loaded_ms;   /* when the set was last read (0: never) */
static long long next_try_ms; /* no reload before this (after a success or a failure) */
static int refreshing;
/* ninactive as last published, with loaded_ms and next_try_ms: written (release) under
 * org_mu once the set is complete, read (acquire) without it by platform_org_inactive's
 * common case — loaded, fresh and empty — which then takes no lock (every authenticated
 * request asks; 64 threads on one mutex were futex waits, issue 14). */
static int nmarked;

/* Publishes the set's state for the lock-free read; org_mu held. */
static void publish(void)
{
    __atomic_store_n(&nmarked, ninactive, __ATOMIC_RELEASE);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds (on) or removes (!on) org_id; org_mu held.  0 / -1 out of memory. */
static int set_mark(const char *org_id, int on)
{
    for (int i = 0; i < ninactive; i++)
        if (!strcasecmp(inactive[i], org_id)) {
            if (!on)
                memcpy(inactive[i], inactive[--ninactive], sizeof inactive[0]);
            return 0;
        }
    if (!on)
        return 0;
    if (ninactive == capinactive) {
        int cap = capinactive ? capinactive * 2 : 16;
        char(*n)[40] = realloc(inactive, (size_t)cap * sizeof *n);
        if (!n)
            return -1;
        inactive = n;
        capinactive = cap;
    }
    snprintf(inactive[ninactive++], sizeof inactive[0], "%s", org_id);
    return 0;
}

/* Reads the set from the database; keeps the old one when that fails. */
static void reload(void)
{
    db_conn_t *c = db_acquire();
    PGresult *r = c ? db_platform_inactive(c) : NULL;
    long long now = mono_ms();
    pthread_mutex_lock(&org_mu);
    if (r && db_ok(r)) {
        ninactive = 0;
        int ok = 1;
        for (int i = 0; i < PQntuples(r) && ok; i++)
            ok = set_mark(PQgetvalue(r, i, 0), 1) == 0;
        if (ok)
            __atomic_store_n(&loaded_ms, now, __ATOMIC_RELEASE);
        publish();
    } else if (c) {
        log_write(LOG_WARN, "could not read the deactivated organisations; keeping the last set",
                  NULL);
    }
    __atomic_store_n(&next_try_ms, now + PLATFORM_ORG_TTL_MS, __ATOMIC_RELEASE);
    refreshing = 0;
    pthread_cond_broadcast(&org_cv);
    pthread_mutex_unlock(&org_mu);
    PQclear(r);
    if (c)
        db_release(c);
}

int platform_org_inactive(const char *org_id)
{
    long long now = mono_ms();
    /* Loaded, not due for a reload and nobody deactivated: no lock.  A reload or a
     * (de)activation publishes the count only once its entries are written. */
    if (__atomic_load_n(&loaded_ms, __ATOMIC_ACQUIRE) != 0 &&
        now < __atomic_load_n(&next_try_ms, __ATOMIC_ACQUIRE) &&
        __atomic_load_n(&nmarked, __ATOMIC_ACQUIRE) == 0)
        return 0;
    pthread_mutex_lock(&org_mu);
    int load = !refreshing && now >= next_try_ms;
    if (load) {
        refreshing = 1;
        pthread_mutex_unlock(&org_mu);
        reload();
        pthread_mutex_lock(&org_mu);
    }
    /* Before the first load nobody answers from an empty set: wait for it. */
    while (refreshing && !loaded_ms)
        pthread_cond_wait(&org_cv, &org_mu);
    int out = 0;
    for (int i = 0; i < ninactive && !out; i++)
        out = !strcasecmp(inactive[i], org_id);
    pthread_mutex_unlock(&org_mu);
    return out;
}

/* ---------------------------------------------------------------- endpoints */

/* 0 when the request carries the platform token, else sends the problem and returns -1.
 * Every wrong token of the right length takes the same time. */
static int platform_authorized(req_t *r)
{
    const http_secret_t p = {
        .secret = g_config.platform_token,
        .len = g_config.platform_token_len,
        .missing_detail = "send Authorization: Bearer <DESK_PLATFORM_TOKEN> (the hosting "
                          "operator's token, not a user's access token)",
        .disabled_code = "platform_disabled",
        .disabled_detail = "the platform endpoints are off: start deskd with DESK_PLATFORM_TOKEN "
                           "(or DESK_PLATFORM_TOKEN_FILE) set and send it as a bearer token",
        .invalid_detail = "this is not the platform token (DESK_PLATFORM_TOKEN); user access "
                          "tokens, an administrator's included, are not accepted here"};
    return http_bearer_secret(r, &p);
}

static void list_orgs(req_t *r)
{
    if (platform_authorized(r) != 0)
        return;
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_platform_list(c, pg.after_ts, pg.after_id, pg.limit);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

static const int on = 1, off = 0;

static void set_active(req_t *r)
{
    if (platform_authorized(r) != 0)
        return;
    int active = *(const int *)r->route_data;
    const char *id = http_uuid_param(r, 0);
    if (!id || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *json = NULL, org[40] = "";
    int rc = db_platform_set_active(c, id, active, &json, org);
    if (rc < 0) {
        http_db_fail(r, "nothing was changed");
        return;
    }
    if (rc == 0) {
        http_problem(r, 404, "not_found", "no organisation has this id");
        return;
    }
    pthread_mutex_lock(&org_mu);
    set_mark(org, !active);
    publish();
    pthread_mutex_unlock(&org_mu);
    log_write(LOG_INFO, active ? "organisation activated" : "organisation deactivated",
              "\"organisation_id\":\"%s\",\"by\":\"platform\"", org);
    http_send_json(r, 200, json, NULL);
    free(json);
}

void api_platform_register(void)
{
    http_route("GET", "/v1/platform/organisations", list_orgs, ROUTE_PUBLIC, NULL);
    http_route("POST", "/v1/platform/organisations/{id}/deactivate", set_active, ROUTE_PUBLIC,
               (void *)&off);
    http_route("POST", "/v1/platform/organisations/{id}/activate", set_active, ROUTE_PUBLIC,
               (void *)&on);
}
