/*
 * svc/sla_config.c — see sla_config.h.  Versions of policies and calendars never change
 * once written, so their parsed forms are cached by version id for the life of the
 * process; a project's *current* versions are cached for a few seconds (and forgotten at
 * once when changed through this process).
 */
#include "svc/sla_config.h"
#include "db/log.h"
#include "db/sla.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZONEINFO "/usr/share/zoneinfo/"

/* ---------------------------------------------------------------- time zones */

/* Every zone a calendar has named, loaded once.  The table grows (zones are never
 * evicted: cached calendars point at them), bounded by the files in ZONEINFO. */
static tz_table_t *zones;
static pthread_mutex_t zone_mu = PTHREAD_MUTEX_INITIALIZER;

const tz_rules_t *sla_zone(const char *name)
{
    size_t l = strlen(name);
    if (l == 0 || l >= 64 || strstr(name, "..") || name[0] == '/')
        return NULL;
    for (size_t i = 0; i < l; i++) {
        char ch = name[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '-' || ch == '+'))
            return NULL;
    }
    const tz_rules_t *found = NULL;
    pthread_mutex_lock(&zone_mu);
    if (!zones)
        zones = core_tz_table_new();
    if (zones)
        found = core_tz_table_find(zones, name);
    if (!found && zones) {
        char path[128];
        snprintf(path, sizeof path, ZONEINFO "%s", name);
        FILE *f = fopen(path, "rb");
        /* On the heap: HTTP worker threads have small stacks. */
        unsigned char *buf = malloc(1 << 16);
        if (f && buf) {
            size_t n = fread(buf, 1, 1 << 16, f);
            tz_rules_t *tz = NULL;
            if (n > 0 && core_tz_parse_tzif(buf, n, &tz) == 0)
                found = core_tz_table_add(zones, name, tz);
        }
        if (f)
            fclose(f);
        free(buf);
    }
    pthread_mutex_unlock(&zone_mu);
    return found;
}

static const tz_rules_t *zone_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return sla_zone(name);
}

/* ---------------------------------------------------------------- definitions */

/* A cached calendar version; def first, so a pinned definition leads back to its entry. */
typedef struct cal_entry {
    sla_calendar_def_t def;
    char id[40];
    int refs, cached; /* see sla_calendar_pin */
} cal_entry_t;

static void cal_free(cal_entry_t *e)
{
    if (!e)
        return;
    core_sla_calendar_def_free(&e->def);
    free(e);
}

/* Parses a calendar definition; returns a new entry (caller frees with cal_free). */
static cal_entry_t *calendar_parse(const char *json, char *err, size_t errlen)
{
    cal_entry_t *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (core_sla_calendar_parse(json, zone_lookup, NULL, &e->def, err, errlen) != 0) {
        free(e);
        return NULL;
    }
    return e;
}

int sla_calendar_check(const char *json, char *err, size_t errlen)
{
    cal_entry_t *e = calendar_parse(json, err, errlen);
    cal_free(e);
    return e ? 0 : -1;
}

/* ---------------------------------------------------------------- caches */

/* Every cache is bounded: a direct-mapped table in which a key has one slot and a
 * newcomer replaces whatever held it, so memory stays fixed however many versions and
 * projects there are.  Policy and calendar versions are keyed by their version id, a
 * globally unique UUID that only ever comes from a configuration read for the caller's
 * own organisation.  A project's configuration is keyed by organisation *and* project
 * and is cached only when the project exists in that organisation, so a caller of one
 * organisation can neither read nor overwrite what another organisation sees. */
#define POL_SLOTS  4096
#define CAL_SLOTS  1024
#define PROJ_SLOTS 512
static struct {
    char id[40];
    sla_policy_t p;
} pol_cache[POL_SLOTS];
static cal_entry_t *cal_cache[CAL_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned key_hash(const char *a, const char *b)
{
    unsigned h = 2166136261u; /* FNV-1a over a, NUL, b */
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h *= 16777619u;
    for (const char *s = b ? b : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int sla_policy_load(db_conn_t *c, const char *version_id, sla_policy_t *out)
{
    unsigned k = key_hash(version_id, NULL) % POL_SLOTS;
    pthread_mutex_lock(&cache_mu);
    if (!strcmp(pol_cache[k].id, version_id)) {
        *out = pol_cache[k].p;
        pthread_mutex_unlock(&cache_mu);
        return 0;
    }
    pthread_mutex_unlock(&cache_mu);
    char *def = db_sla_version_definition(c, version_id, 0);
    char err[256] = "definition not found";
    int rc = def ? core_sla_policy_parse(def, out, err, sizeof err) : -1;
    free(def);
    if (rc != 0) {
        char esc[300];
        log_write(LOG_ERROR, "sla policy version unusable", "\"version\":\"%s\",\"detail\":\"%s\"",
                  version_id, log_esc(err, esc, sizeof esc));
        return -1;
    }
    pthread_mutex_lock(&cache_mu);
    snprintf(pol_cache[k].id, sizeof pol_cache[k].id, "%s", version_id);
    pol_cache[k].p = *out;
    pthread_mutex_unlock(&cache_mu);
    return 0;
}

/* A calendar in use is pinned (refs); one replaced in the cache while pinned is freed by
 * its last user.  Both counters are guarded by cache_mu. */
static void cal_unpin_locked(cal_entry_t *e)
{
    if (--e->refs == 0 && !e->cached)
        cal_free(e);
}

const sla_calendar_def_t *sla_calendar_pin(db_conn_t *c, const char *version_id)
{
    unsigned k = key_hash(version_id, NULL) % CAL_SLOTS;
    pthread_mutex_lock(&cache_mu);
    cal_entry_t *e = cal_cache[k];
    if (e && !strcmp(e->id, version_id)) {
        e->refs++;
        pthread_mutex_unlock(&cache_mu);
        return &e->def;
    }
    pthread_mutex_unlock(&cache_mu);
    char *def = db_sla_version_definition(c, version_id, 1);
    char err[256] = "definition not found";
    e = def ? calendar_parse(def, err, sizeof err) : NULL;
    free(def);
    if (!e) {
        char esc[300];
        log_write(LOG_ERROR, "sla calendar version unusable",
                  "\"version\":\"%s\",\"detail\":\"%s\"", version_id,
                  log_esc(err, esc, sizeof esc));
        return NULL;
    }
    snprintf(e->id, sizeof e->id, "%s", version_id);
    pthread_mutex_lock(&cache_mu);
    cal_entry_t *have = cal_cache[k];
    if (have && !strcmp(have->id, version_id)) { /* another thread loaded it meanwhile */
        have->refs++;
        pthread_mutex_unlock(&cache_mu);
        cal_free(e);
        return &have->def;
    }
    if (have) { /* replaced: freed now, or by its last user */
        have->cached = 0;
        if (have->refs == 0)
            cal_free(have);
    }
    e->cached = 1;
    e->refs = 1;
    cal_cache[k] = e;
    pthread_mutex_unlock(&cache_mu);
    return &e->def;
}

void sla_calendar_unpin(const sla_calendar_def_t *def)
{
    if (!def)
        return;
    pthread_mutex_lock(&cache_mu);
    cal_unpin_locked((cal_entry_t *)def);
    pthread_mutex_unlock(&cache_mu);
}

#define CFG_TTL_S 5
static sla_project_cfg_t proj_cache[PROJ_SLOTS];

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

void sla_invalidate_project(const char *project)
{
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < PROJ_SLOTS; i++) /* project ids are unique across organisations */
        if (!strcmp(proj_cache[i].project, project))
            proj_cache[i].loaded = -1000000;
    pthread_mutex_unlock(&cache_mu);
}

int sla_project_config(db_conn_t *c, const char *org, const char *project, sla_project_cfg_t *out)
{
    int64_t now = mono_s();
    unsigned k = key_hash(org, project) % PROJ_SLOTS;
    pthread_mutex_lock(&cache_mu);
    sla_project_cfg_t *slot = &proj_cache[k];
    if (!strcmp(slot->org, org) && !strcmp(slot->project, project) &&
        now - slot->loaded < CFG_TTL_S) {
        *out = *slot;
        pthread_mutex_unlock(&cache_mu);
        return 0;
    }
    pthread_mutex_unlock(&cache_mu);
    PGresult *r = db_sla_project_config(c, org, project);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->org, sizeof out->org, "%s", org);
    snprintf(out->project, sizeof out->project, "%s", project);
    out->loaded = now;
    int exists = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *kind = PQgetvalue(r, i, 0);
        if (!strcmp(kind, "project")) {
            exists = 1;
        } else if (!strcmp(kind, "calendar")) {
            snprintf(out->calendar, sizeof out->calendar, "%s", PQgetvalue(r, i, 1));
        } else if (out->npol < SLA_MAX_POLICIES) {
            int n = out->npol++;
            snprintf(out->pol[n].version, 40, "%s", PQgetvalue(r, i, 1));
            snprintf(out->pol[n].type, 16, "%s", PQgetvalue(r, i, 3));
            snprintf(out->pol[n].severity, 16, "%s", PQgetvalue(r, i, 4));
            snprintf(out->pol[n].category, 24, "%s", PQgetvalue(r, i, 5));
        }
    }
    PQclear(r);
    if (exists) {
        pthread_mutex_lock(&cache_mu);
        proj_cache[k] = *out;
        pthread_mutex_unlock(&cache_mu);
    }
    return 0;
}

const char *sla_project_match(const sla_project_cfg_t *cfg, const char *type, const char *severity,
                              const char *category)
{
    sla_match_t m[SLA_MAX_POLICIES];
    for (int i = 0; i < cfg->npol; i++) {
        m[i].type = cfg->pol[i].type[0] ? cfg->pol[i].type : NULL;
        m[i].severity = cfg->pol[i].severity[0] ? cfg->pol[i].severity : NULL;
        m[i].category = cfg->pol[i].category[0] ? cfg->pol[i].category : NULL;
    }
    int k = core_sla_policy_match(m, (size_t)cfg->npol, type, severity, category);
    return k >= 0 ? cfg->pol[k].version : NULL;
}
