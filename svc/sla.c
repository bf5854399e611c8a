/*
 * api/sla_engine.c — see sla_engine.h.  Versions of policies and calendars never
 * change once written, so their parsed forms are cached by version id for the life of
 * the process; a project's *current* versions are cached for a few seconds (and
 * forgotten at once when changed through this process).
 */
#include "api/sla_engine.h"
#include "api/codec.h"
#include "core/request.h"
#include "db/log.h"
#include "db/sla.h"

#include <cjson/cJSON.h>
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

static const tz_rules_t *tz_get(const char *name)
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

/* ---------------------------------------------------------------- parsing */

static int hhmm(const char *s, int *mins)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return 0;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '9' ||
        s[4] < '0' || s[4] > '9' || m > 59 || h > 24 || (h == 24 && m))
        return 0;
    *mins = h * 60 + m;
    return 1;
}

static int segments(const cJSON *arr, day_hours_t *out, char *err, size_t errlen, const char *what)
{
    memset(out, 0, sizeof *out);
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > CORE_CAL_MAX_SEGMENTS) {
        snprintf(err, errlen, "%s must be a list of at most 4 [\"HH:MM\",\"HH:MM\"] pairs", what);
        return -1;
    }
    const cJSON *seg;
    cJSON_ArrayForEach(seg, arr)
    {
        int a, b;
        int prev_end = out->nsegments ? out->seg[out->nsegments - 1].end_min : -1;
        const cJSON *s0 = cJSON_GetArrayItem(seg, 0), *s1 = cJSON_GetArrayItem(seg, 1);
        if (!cJSON_IsArray(seg) || cJSON_GetArraySize(seg) != 2 || !cJSON_IsString(s0) ||
            !cJSON_IsString(s1) || !hhmm(s0->valuestring, &a) || !hhmm(s1->valuestring, &b) ||
            a >= b || a < prev_end) {
            snprintf(err, errlen,
                     "%s segments must be [\"HH:MM\",\"HH:MM\"] with start < end, sorted and not "
                     "overlapping",
                     what);
            return -1;
        }
        out->seg[out->nsegments].start_min = (int16_t)a;
        out->seg[out->nsegments].end_min = (int16_t)b;
        out->nsegments++;
    }
    return 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static int dates(const cJSON *arr, int32_t **out, size_t *n, char *err, size_t errlen,
                 const char *what)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > 2000) {
        snprintf(err, errlen, "%s must be a list of \"YYYY-MM-DD\" dates", what);
        return -1;
    }
    int cnt = cJSON_GetArraySize(arr);
    *out = calloc((size_t)cnt + 1, sizeof(int32_t));
    const cJSON *d;
    cJSON_ArrayForEach(d, arr)
    {
        int y, m, dd;
        char tail;
        if (!cJSON_IsString(d) || strlen(d->valuestring) != 10 ||
            sscanf(d->valuestring, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3 || y < 1970 ||
            y > 2200 || m < 1 || m > 12 || dd < 1 || dd > 31) {
            snprintf(err, errlen, "%s must be a list of \"YYYY-MM-DD\" dates", what);
            free(*out);
            *out = NULL;
            return -1;
        }
        int64_t days = core_days_from_civil(y, m, dd);
        int64_t ry;
        int rm, rd;
        core_civil_from_days(days, &ry, &rm, &rd);
        if (ry != y || rm != m || rd != dd) { /* 2027-02-30 is not a date */
            snprintf(err, errlen, "%s has an impossible date '%s'", what, d->valuestring);
            free(*out);
            *out = NULL;
            return -1;
        }
        (*out)[(*n)++] = (int32_t)days;
    }
    qsort(*out, *n, sizeof(int32_t), cmp_i32);
    size_t k = 0; /* duplicates collapse */
    for (size_t i = 0; i < *n; i++)
        if (!k || (*out)[k - 1] != (*out)[i])
            (*out)[k++] = (*out)[i];
    *n = k;
    return 0;
}

int sla_weekly_parse(const cJSON *weekly, day_hours_t out[7], char *err, size_t errlen)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const cJSON *m;
    if (!cJSON_IsObject(weekly)) {
        snprintf(err, errlen, "an object keyed by mon..sun is required");
        return -1;
    }
    cJSON_ArrayForEach(m, weekly)
    {
        int known = 0;
        for (int d = 0; d < 7; d++)
            known |= !strcmp(m->string, days[d]);
        if (!known) {
            snprintf(err, errlen, "unknown day '%s' (use mon..sun)", m->string);
            return -1;
        }
    }
    for (int d = 0; d < 7; d++)
        if (segments(cJSON_GetObjectItemCaseSensitive(weekly, days[d]), &out[d], err, errlen,
                     days[d]) != 0)
            return -1;
    return 0;
}

typedef struct cal_entry {
    char id[40];
    calendar_t cal;
    int32_t *holidays, *makeup;
    char tz[64];
    int refs, cached; /* see calendar_load */
} cal_entry_t;

static void cal_free(cal_entry_t *e)
{
    if (!e)
        return;
    free(e->holidays);
    free(e->makeup);
    free(e);
}

/* Parses a calendar definition; returns a new entry (caller frees with cal_free). */
static cal_entry_t *calendar_parse(const char *json, char *err, size_t errlen)
{
    cJSON *j = cJSON_Parse(json);
    cal_entry_t *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        cJSON_Delete(j);
        return NULL;
    }
    const cJSON *tzj = cJSON_GetObjectItemCaseSensitive(j, "time_zone");
    const cJSON *weekly = cJSON_GetObjectItemCaseSensitive(j, "weekly");
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "the calendar must be a JSON object");
        goto fail;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, j)
    {
        if (strcmp(m->string, "time_zone") && strcmp(m->string, "weekly") &&
            strcmp(m->string, "holidays") && strcmp(m->string, "makeup_days") &&
            strcmp(m->string, "makeup_hours")) {
            snprintf(err, errlen,
                     "'%s' is not a calendar field (time_zone, weekly, holidays, "
                     "makeup_days, makeup_hours)",
                     m->string);
            goto fail;
        }
    }
    if (!cJSON_IsString(tzj) || !(e->cal.tz = tz_get(tzj->valuestring))) {
        snprintf(err, errlen, "'time_zone' must be an IANA zone name such as Asia/Shanghai");
        goto fail;
    }
    snprintf(e->tz, sizeof e->tz, "%s", tzj->valuestring);
    if (sla_weekly_parse(weekly, e->cal.weekly, err, errlen) != 0)
        goto fail;
    if (dates(cJSON_GetObjectItemCaseSensitive(j, "holidays"), &e->holidays, &e->cal.nholidays, err,
              errlen, "'holidays'") != 0 ||
        dates(cJSON_GetObjectItemCaseSensitive(j, "makeup_days"), &e->makeup, &e->cal.nmakeup_days,
              err, errlen, "'makeup_days'") != 0)
        goto fail;
    e->cal.holidays = e->holidays;
    e->cal.makeup_days = e->makeup;
    const cJSON *mh = cJSON_GetObjectItemCaseSensitive(j, "makeup_hours");
    if (mh) {
        if (segments(mh, &e->cal.workday_segments, err, errlen, "'makeup_hours'") != 0)
            goto fail;
    } else {
        e->cal.workday_segments = e->cal.weekly[0]; /* a make-up day works like a Monday */
    }
    if (core_calendar_validate(&e->cal, err, errlen) != 0)
        goto fail;
    cJSON_Delete(j);
    return e;
fail:
    cJSON_Delete(j);
    cal_free(e);
    return NULL;
}

int sla_calendar_check(const char *json, char *err, size_t errlen)
{
    cal_entry_t *e = calendar_parse(json, err, errlen);
    cal_free(e);
    return e ? 0 : -1;
}

int sla_policy_parse(const char *json, sla_policy_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->warn_pct = SLA_DEFAULT_WARN_PCT;
    p->escalate_every_s = 3600;
    cJSON *j = cJSON_Parse(json);
    int rc = -1;
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(j, "targets"), *m;
    if (!cJSON_IsObject(j) || !cJSON_IsObject(targets)) {
        snprintf(err, errlen,
                 "a policy needs 'targets': {\"resolution\": {\"kind\": "
                 "\"calendar\", \"minutes\": 2880}, ...}");
        goto out;
    }
    cJSON_ArrayForEach(m, j)
    {
        if (strcmp(m->string, "targets") && strcmp(m->string, "warn_pct") &&
            strcmp(m->string, "escalate_every_minutes")) {
            snprintf(err, errlen,
                     "'%s' is not a policy field (targets, warn_pct, "
                     "escalate_every_minutes)",
                     m->string);
            goto out;
        }
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "warn_pct");
    if (w) {
        if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 99 ||
            w->valuedouble != (int)w->valuedouble) {
            snprintf(err, errlen, "'warn_pct' must be a whole number from 1 to 99");
            goto out;
        }
        p->warn_pct = (int)w->valuedouble;
    }
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "escalate_every_minutes");
    if (ev) {
        if (!cJSON_IsNumber(ev) || ev->valuedouble < 1 || ev->valuedouble > 43200 ||
            ev->valuedouble != (int)ev->valuedouble) {
            snprintf(err, errlen,
                     "'escalate_every_minutes' must be a whole number from 1 to "
                     "43200");
            goto out;
        }
        p->escalate_every_s = (int64_t)ev->valuedouble * 60;
    }
    cJSON_ArrayForEach(m, targets)
    {
        int t = core_sla_target_from_string(m->string);
        if (t < 0) {
            snprintf(err, errlen,
                     "unknown target '%s' (first_response, on_site, answer, "
                     "resolution, handover, callback, gm_report)",
                     m->string);
            goto out;
        }
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(m, "kind");
        int k = cJSON_IsString(kind) ? core_sla_kind_from_string(kind->valuestring) : -1;
        if (!cJSON_IsObject(m) || k < 0) {
            snprintf(err, errlen,
                     "target '%s' needs 'kind': calendar, business, end_of_day or "
                     "next_local_time",
                     m->string);
            goto out;
        }
        sla_rule_t *r = &p->rules[t];
        r->enabled = 1;
        r->kind = (sla_kind_t)k;
        const cJSON *min = cJSON_GetObjectItemCaseSensitive(m, "minutes");
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(m, "at");
        if (k == SLA_CALENDAR || k == SLA_BUSINESS) {
            if (!cJSON_IsNumber(min) || min->valuedouble < 1 || min->valuedouble > 525600 ||
                min->valuedouble != (int)min->valuedouble) {
                snprintf(err, errlen, "target '%s' needs 'minutes' (1 to 525600)", m->string);
                goto out;
            }
            r->duration_s = (int64_t)min->valuedouble * 60;
        } else if (k == SLA_NEXT_LOCAL_TIME) {
            int mins;
            if (!cJSON_IsString(at) || !hhmm(at->valuestring, &mins) || mins >= 1440) {
                snprintf(err, errlen, "target '%s' needs 'at': \"HH:MM\"", m->string);
                goto out;
            }
            r->hh = mins / 60;
            r->mm = mins % 60;
        }
    }
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

static cJSON *policy_json(const sla_policy_t *p)
{
    cJSON *j = cJSON_CreateObject(), *t = cJSON_AddObjectToObject(j, "targets");
    for (int i = 0; i < SLA_T__COUNT; i++) {
        const sla_rule_t *r = &p->rules[i];
        if (!r->enabled)
            continue;
        cJSON *o = cJSON_AddObjectToObject(t, core_sla_target_name((sla_target_id_t)i));
        cJSON_AddStringToObject(o, "kind", core_sla_kind_name(r->kind));
        if (r->kind == SLA_CALENDAR || r->kind == SLA_BUSINESS)
            cJSON_AddNumberToObject(o, "minutes", (double)(r->duration_s / 60));
        if (r->kind == SLA_NEXT_LOCAL_TIME) {
            char at[8];
            snprintf(at, sizeof at, "%02d:%02d", r->hh % 24, r->mm % 60);
            cJSON_AddStringToObject(o, "at", at);
        }
    }
    cJSON_AddNumberToObject(j, "warn_pct", p->warn_pct);
    cJSON_AddNumberToObject(j, "escalate_every_minutes", (double)(p->escalate_every_s / 60));
    return j;
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

static int policy_load(db_conn_t *c, const char *version_id, sla_policy_t *out)
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
    int rc = def ? sla_policy_parse(def, out, err, sizeof err) : -1;
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

/* Returns a pinned calendar (release with calendar_release), or NULL. */
static cal_entry_t *calendar_load(db_conn_t *c, const char *version_id)
{
    unsigned k = key_hash(version_id, NULL) % CAL_SLOTS;
    pthread_mutex_lock(&cache_mu);
    cal_entry_t *e = cal_cache[k];
    if (e && !strcmp(e->id, version_id)) {
        e->refs++;
        pthread_mutex_unlock(&cache_mu);
        return e;
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
        return have;
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
    return e;
}

static void calendar_release(cal_entry_t *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&cache_mu);
    cal_unpin_locked(e);
    pthread_mutex_unlock(&cache_mu);
}

/* A project's current configuration. */
#define MAX_POLICIES 32
typedef struct proj_cfg {
    char org[40], project[40];
    int64_t loaded;
    char calendar[40];
    int npol;
    struct {
        char version[40];
        char type[16], severity[16], category[24];
    } pol[MAX_POLICIES];
} proj_cfg_t;

#define CFG_TTL_S 5
static proj_cfg_t proj_cache[PROJ_SLOTS];

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

/* The configuration of project in org: 0 (empty when the project has none, or is not a
 * project of org; only an existing project's configuration is cached) or -1. */
static int project_cfg(db_conn_t *c, const char *org, const char *project, proj_cfg_t *out)
{
    int64_t now = mono_s();
    unsigned k = key_hash(org, project) % PROJ_SLOTS;
    pthread_mutex_lock(&cache_mu);
    proj_cfg_t *slot = &proj_cache[k];
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
        } else if (out->npol < MAX_POLICIES) {
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

/* Picks the policy version for a request from the project's configuration. */
static const char *match_policy(const proj_cfg_t *cfg, const char *type, const char *severity,
                                const char *category)
{
    sla_match_t m[MAX_POLICIES];
    for (int i = 0; i < cfg->npol; i++) {
        m[i].type = cfg->pol[i].type[0] ? cfg->pol[i].type : NULL;
        m[i].severity = cfg->pol[i].severity[0] ? cfg->pol[i].severity : NULL;
        m[i].category = cfg->pol[i].category[0] ? cfg->pol[i].category : NULL;
    }
    int k = core_sla_policy_match(m, (size_t)cfg->npol, type, severity, category);
    return k >= 0 ? cfg->pol[k].version : NULL;
}

/* ---------------------------------------------------------------- evaluation */

static void fmt_or_empty(int64_t t, char out[32])
{
    if (t > 0 && t != SLA_PAUSE_OPEN && t != CORE_CAL_ERROR)
        rfc3339_format(t, out);
    else
        out[0] = 0;
}

static void fill_dues(const sla_clock_view_t v[SLA_T__COUNT], int64_t next_check, sla_dues_t *d)
{
    for (int t = 0; t < SLA_T__COUNT; t++)
        fmt_or_empty(v[t].active ? v[t].clock.due_at : 0, d->due[t]);
    fmt_or_empty(core_sla_next_due(v), d->next_due);
    fmt_or_empty(next_check, d->next_check);
}

/* Events JSON (from sla_events_json) into an array; strings borrow from *tree. */
static sla_event_t *parse_events(const char *json, size_t *n, cJSON **tree)
{
    *tree = cJSON_Parse(json);
    *n = 0;
    int cnt = cJSON_GetArraySize(*tree);
    sla_event_t *ev = calloc((size_t)cnt + 1, sizeof *ev);
    if (!ev)
        return NULL; /* out of memory: no events, and the evaluation fails */
    const cJSON *e;
    cJSON_ArrayForEach(e, *tree)
    {
        sla_event_t *x = &ev[(*n)++];
        const cJSON *a[10];
        for (int i = 0; i < 10; i++)
            a[i] = cJSON_GetArrayItem(e, i);
        x->action = cJSON_IsString(a[0]) ? a[0]->valuestring : "";
        x->actor_role = cJSON_IsString(a[1]) ? a[1]->valuestring : "";
        x->from_state = cJSON_IsString(a[2]) ? a[2]->valuestring : NULL;
        x->to_state = cJSON_IsString(a[3]) ? a[3]->valuestring : NULL;
        x->at = cJSON_IsNumber(a[4]) ? (int64_t)a[4]->valuedouble : 0;
        x->public_comment = cJSON_IsTrue(a[5]);
        x->level = cJSON_IsNumber(a[6]) ? (int)a[6]->valuedouble : 0;
        x->target = cJSON_IsString(a[7]) ? core_sla_target_from_string(a[7]->valuestring) : -1;
        x->new_due = cJSON_IsNumber(a[8]) ? (int64_t)a[8]->valuedouble : 0;
        x->appointment_at = cJSON_IsNumber(a[9]) ? (int64_t)a[9]->valuedouble : 0;
    }
    return ev;
}

/* The recorded alerts: those of the current due times, dues that moved since they were
 * escalated, and when the request last rose. */
static void alerts_state(const char *json, const sla_clock_view_t v[SLA_T__COUNT], sla_history_t *h)
{
    memset(h, 0, sizeof *h);
    cJSON *a = cJSON_Parse(json);
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        const cJSON *t = cJSON_GetArrayItem(e, 0), *k = cJSON_GetArrayItem(e, 1);
        const cJSON *due = cJSON_GetArrayItem(e, 3), *at = cJSON_GetArrayItem(e, 4);
        int ti = cJSON_IsString(t) ? core_sla_target_from_string(t->valuestring) : -1;
        int warning = cJSON_IsString(k) && !strcmp(k->valuestring, "warning");
        int64_t when = cJSON_IsNumber(at) ? (int64_t)at->valuedouble : 0;
        if (!warning && when > h->last_rise)
            h->last_rise = when;
        if (ti < 0 || !cJSON_IsNumber(due) || !v[ti].active)
            continue;
        if ((int64_t)due->valuedouble != v[ti].clock.due_at) {
            if (!warning)
                h->moved[ti] = 1;
            continue;
        }
        if (warning)
            h->warned[ti] = 1;
        else if (when > h->last_esc_at[ti])
            h->last_esc_at[ti] = when;
    }
    cJSON_Delete(a);
}

/* Columns of db_sla_request / db_sla_claim. */
enum {
    C_TYPE,
    C_SEV,
    C_NIGHT,
    C_VALIDITY,
    C_DEADLINE,
    C_POLICY,
    C_CAL,
    C_LEVEL,
    C_EVENTS,
    C_ALERTS,
    C_PROJECT,
    C_STATE,
    C_SEQ,
    C_NUMBER,
    C_PNAME,
    C_PVER,
    C_CVER,
    C_PID,
    C_ASSIGNEE,
    C_ID,
    C_ORG,
    C_CAT
};

typedef struct eval_ctx {
    sla_policy_t pol;
    cal_entry_t *cal; /* pinned: eval_done releases it */
    sla_clock_view_t v[SLA_T__COUNT];
    sla_history_t hist;
    char policy_version[40], calendar_version[40];
} eval_ctx_t;

/* Evaluates row i of a db_sla_request/claim result.  reapply: use the project's current
 * versions.  Returns 0, 1 when the request has no SLA configuration, -1 on error. */
static int eval_row(db_conn_t *c, PGresult *r, int i, int64_t now, int reapply, eval_ctx_t *x)
{
    memset(x, 0, sizeof *x);
    const char *pv = PQgetvalue(r, i, C_POLICY), *cv = PQgetvalue(r, i, C_CAL);
    const char *type = PQgetvalue(r, i, C_TYPE);
    const char *sev = PQgetisnull(r, i, C_SEV) ? NULL : PQgetvalue(r, i, C_SEV);
    const char *cat = PQgetisnull(r, i, C_CAT) ? NULL : PQgetvalue(r, i, C_CAT);
    proj_cfg_t cfg; /* pv/cv may point into it: it lives as long as they are used */
    if (reapply || !pv[0] || !cv[0]) {
        if (project_cfg(c, PQgetvalue(r, i, C_ORG), PQgetvalue(r, i, C_PROJECT), &cfg) != 0)
            return -1;
        const char *m = match_policy(&cfg, type, sev, cat);
        if (!m || !cfg.calendar[0])
            return 1;
        pv = m;
        cv = cfg.calendar;
    }
    snprintf(x->policy_version, sizeof x->policy_version, "%s", pv);
    snprintf(x->calendar_version, sizeof x->calendar_version, "%s", cv);
    if (policy_load(c, pv, &x->pol) != 0 || !(x->cal = calendar_load(c, cv)))
        return -1;
    const char *validity = PQgetvalue(r, i, C_VALIDITY);
    int valid = !strcmp(validity, "valid")     ? REQ_VALIDITY_VALID
                : !strcmp(validity, "invalid") ? REQ_VALIDITY_INVALID
                                               : REQ_VALIDITY_UNKNOWN;
    int tv = core_request_type_from_string(type);
    sla_request_facts_t f = {type, sev, PQgetvalue(r, i, C_NIGHT)[0] == 't',
                             tv >= 0 && core_request_needs_callback((request_type_t)tv, valid),
                             atoll(PQgetvalue(r, i, C_DEADLINE))};
    cJSON *tree;
    size_t n;
    sla_event_t *ev = parse_events(PQgetvalue(r, i, C_EVENTS), &n, &tree);
    if (!ev) {
        cJSON_Delete(tree);
        return -1;
    }
    int rc = core_sla_request_eval(&x->pol, &x->cal->cal, &f, ev, n, now, x->v);
    free(ev);
    cJSON_Delete(tree);
    alerts_state(PQgetvalue(r, i, C_ALERTS), x->v, &x->hist);
    return rc == 0 ? 0 : -1;
}

static void eval_done(eval_ctx_t *x)
{
    calendar_release(x->cal);
    x->cal = NULL;
}

int sla_for_new_request(db_conn_t *c, const char *org, const char *project, const char *type,
                        const char *severity, const char *category, int night_desk,
                        int needs_callback, int64_t customer_deadline, const char *actor_role,
                        int64_t received, int64_t now, sla_dues_t *out)
{
    memset(out, 0, sizeof *out);
    proj_cfg_t cfg;
    if (project_cfg(c, org, project, &cfg) != 0)
        return -1;
    const char *pv = match_policy(&cfg, type, severity, category);
    if (!pv || !cfg.calendar[0])
        return 0; /* no SLA configured for this project */
    sla_policy_t pol;
    cal_entry_t *cal;
    if (policy_load(c, pv, &pol) != 0 || !(cal = calendar_load(c, cfg.calendar)))
        return -1;
    sla_event_t ev = {"create", actor_role, NULL, "received", received, 0, 0, -1, 0, 0};
    sla_request_facts_t f = {type, severity, night_desk, needs_callback, customer_deadline};
    sla_clock_view_t v[SLA_T__COUNT];
    int rc = core_sla_request_eval(&pol, &cal->cal, &f, &ev, 1, now, v);
    calendar_release(cal);
    if (rc != 0)
        return -1;
    int64_t next = 0;
    sla_alert_t al[SLA_T__COUNT * 2];
    size_t na = core_sla_plan_history(&pol, v, 0, NULL, now, al, SLA_T__COUNT * 2, &next);
    if (na > 0)
        next = now; /* something is due already (a major complaint): sweep it at once */
    snprintf(out->policy_version, sizeof out->policy_version, "%s", pv);
    snprintf(out->calendar_version, sizeof out->calendar_version, "%s", cfg.calendar);
    fill_dues(v, next, out);
    return 0;
}

static const char *nz(const char *s)
{
    return s && s[0] ? s : NULL;
}

int sla_refresh_request(db_conn_t *c, const char *org, const char *request_id, int64_t now,
                        int reapply)
{
    PGresult *r = db_sla_request(c, org, request_id, 0);
    if (!db_ok(r) || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    eval_ctx_t x;
    int rc = eval_row(c, r, 0, now, reapply, &x);
    if (rc != 0) {
        eval_done(&x);
        PQclear(r);
        return rc > 0 ? 0 : -1;
    }
    int64_t next = 0;
    sla_alert_t al[SLA_T__COUNT * 2];
    size_t na = core_sla_plan_history(&x.pol, x.v, atoi(PQgetvalue(r, 0, C_LEVEL)), &x.hist, now,
                                      al, SLA_T__COUNT * 2, &next);
    if (na > 0)
        next = now;
    sla_dues_t d;
    memset(&d, 0, sizeof d);
    fill_dues(x.v, next, &d);
    const char *vals[11] = {reapply ? x.policy_version : NULL, reapply ? x.calendar_version : NULL};
    for (int t = 0; t < SLA_T__COUNT; t++)
        vals[2 + t] = nz(d.due[t]);
    vals[9] = nz(d.next_due);
    vals[10] = nz(d.next_check);
    if (!PQgetvalue(r, 0, C_POLICY)[0]) { /* first configuration: record the versions */
        vals[0] = x.policy_version;
        vals[1] = x.calendar_version;
    }
    rc = db_sla_request_store(c, request_id, vals);
    eval_done(&x);
    PQclear(r);
    return rc;
}

/* ---------------------------------------------------------------- sweeps */

#define SWEEP_BATCH 500

static int sweep(db_conn_t *c, int64_t now, int max_requests, const char *only, const char *org,
                 sla_sweep_stats_t *st);

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

static int sweep(db_conn_t *c, int64_t now, int max_requests, const char *only, const char *org,
                 sla_sweep_stats_t *st)
{
    memset(st, 0, sizeof *st);
    char nows[32];
    rfc3339_format(now, nows);
    /* The common case, nothing due, costs one indexed look-up and no transaction. */
    if (!only) {
        int due = db_sla_anything_due(c, nows, org);
        if (due <= 0)
            return due;
    }
    while (st->examined < max_requests) {
        if (db_begin(c) != 0)
            return -1;
        PGresult *r = db_sla_claim(c, nows, SWEEP_BATCH, only, org);
        if (!db_ok(r)) {
            PQclear(r);
            db_rollback(c);
            return -1;
        }
        int n = PQntuples(r);
        if (n == 0) {
            PQclear(r);
            db_commit(c);
            break;
        }
        cJSON *alerts = cJSON_CreateArray(), *store = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            eval_ctx_t x;
            int rc = eval_row(c, r, i, now, 0, &x);
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "id", PQgetvalue(r, i, C_ID));
            if (rc != 0) {
                /* Nothing to run (no configuration) or a broken definition: stop
                 * checking it rather than spinning on it. */
                if (rc < 0)
                    log_write(LOG_WARN, "sla evaluation failed", "\"request\":\"%s\"",
                              PQgetvalue(r, i, C_ID));
                cJSON_AddNullToObject(s, "next_check");
                cJSON_AddItemToArray(store, s);
                eval_done(&x);
                continue;
            }
            int64_t next = 0;
            sla_alert_t al[SLA_T__COUNT * 2];
            size_t na = core_sla_plan_history(&x.pol, x.v, atoi(PQgetvalue(r, i, C_LEVEL)), &x.hist,
                                              now, al, SLA_T__COUNT * 2, &next);
            int seq = atoi(PQgetvalue(r, i, C_SEQ));
            int level = atoi(PQgetvalue(r, i, C_LEVEL)), reached = level;
            for (size_t k = 0; k < na; k++) {
                char due[32];
                rfc3339_format(al[k].due_at, due);
                cJSON *a = cJSON_CreateObject();
                cJSON_AddStringToObject(a, "request_id", PQgetvalue(r, i, C_ID));
                cJSON_AddStringToObject(a, "org_id", PQgetvalue(r, i, C_ORG));
                cJSON_AddStringToObject(a, "project_id", PQgetvalue(r, i, C_PROJECT));
                cJSON_AddStringToObject(a, "target", core_sla_target_name(al[k].target));
                cJSON_AddStringToObject(a, "kind", al[k].kind ? "escalation" : "warning");
                cJSON_AddNumberToObject(a, "level", al[k].level);
                cJSON_AddStringToObject(a, "due_at", due);
                cJSON_AddNumberToObject(a, "seq", ++seq);
                cJSON_AddStringToObject(a, "number", PQgetvalue(r, i, C_NUMBER));
                if (PQgetvalue(r, i, C_ASSIGNEE)[0])
                    cJSON_AddStringToObject(a, "assignee_id", PQgetvalue(r, i, C_ASSIGNEE));
                cJSON_AddItemToArray(alerts, a);
                if (al[k].kind && al[k].level > reached)
                    reached = al[k].level;
            }
            /* The row lock held since the claim means these alerts are the ones recorded
             * (the unique key guards against anything that skipped the lock). */
            if (reached > level)
                cJSON_AddNumberToObject(s, "level", reached);
            sla_dues_t d;
            memset(&d, 0, sizeof d);
            fill_dues(x.v, next, &d);
            static const char *const cols[] = {"due_first_response", "due_on_site",  "due_answer",
                                               "due_resolution",     "due_handover", "due_callback",
                                               "due_gm_report"};
            for (int t = 0; t < SLA_T__COUNT; t++) {
                if (d.due[t][0])
                    cJSON_AddStringToObject(s, cols[t], d.due[t]);
            }
            if (d.next_due[0])
                cJSON_AddStringToObject(s, "next_due", d.next_due);
            if (d.next_check[0])
                cJSON_AddStringToObject(s, "next_check", d.next_check);
            cJSON_AddItemToArray(store, s);
            eval_done(&x);
        }
        PQclear(r);
        int ok = 1;
        char *sj = cJSON_PrintUnformatted(store);
        ok = db_sla_store_many(c, sj) == 0;
        free(sj);
        if (ok && cJSON_GetArraySize(alerts) > 0) {
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
        }
        cJSON_Delete(alerts);
        cJSON_Delete(store);
        if (!ok || db_commit(c) != 0) {
            db_rollback(c);
            return -1;
        }
        st->examined += n;
        st->batches++;
        if (n < SWEEP_BATCH || only)
            break;
    }
    return 0;
}

/* ---------------------------------------------------------------- defaults */

int sla_ensure_defaults(db_conn_t *c)
{
    PGresult *r = db_sla_projects_without_config(c);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int rc = 0;
    sla_default_t defs[16];
    size_t nd = core_sla_defaults(defs, 16);
    /* Inside a caller's transaction (a project being created) the work joins it. */
    int own_tx = PQtransactionStatus(db_pg(c)) == PQTRANS_IDLE;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *org = PQgetvalue(r, i, 0), *project = PQgetvalue(r, i, 1);
        if (own_tx && db_begin(c) != 0) {
            rc = -1;
            break;
        }
        if (PQgetvalue(r, i, 4)[0] == 't') {
            /* The project's business hours become its first calendar version. */
            cJSON *cal = cJSON_CreateObject();
            cJSON_AddStringToObject(cal, "time_zone", PQgetvalue(r, i, 2));
            cJSON_AddItemToObject(cal, "weekly", cJSON_Parse(PQgetvalue(r, i, 3)));
            cJSON_AddArrayToObject(cal, "holidays");
            cJSON_AddArrayToObject(cal, "makeup_days");
            char *cj = cJSON_PrintUnformatted(cal);
            cJSON_Delete(cal);
            if (db_sla_calendar_create(c, org, project, cj, NULL) != 0)
                rc = -1;
            free(cj);
        }
        if (rc == 0 && PQgetvalue(r, i, 5)[0] == 't') {
            for (size_t k = 0; k < nd && k < 16 && rc == 0; k++) {
                cJSON *pj = policy_json(&defs[k].policy);
                char *def = cJSON_PrintUnformatted(pj);
                cJSON_Delete(pj);
                PGresult *p =
                    db_sla_policy_create(c, org, project, defs[k].name, defs[k].match.type,
                                         defs[k].match.severity, defs[k].match.category, def, NULL);
                if (!db_ok(p))
                    rc = -1;
                PQclear(p);
                free(def);
            }
        }
        if (own_tx) {
            if (rc == 0)
                rc = db_commit(c);
            else
                db_rollback(c);
        }
        sla_invalidate_project(project);
    }
    PQclear(r);
    return rc;
}

/* ---------------------------------------------------------------- explanation */

char *sla_explain(db_conn_t *c, const char *org, const char *request_id, int64_t now, int *found)
{
    *found = 0;
    PGresult *r = db_sla_request(c, org, request_id, 0);
    if (!db_ok(r)) {
        PQclear(r);
        return NULL;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return NULL;
    }
    *found = 1;
    eval_ctx_t x;
    int rc = eval_row(c, r, 0, now, 0, &x);
    cJSON *j = cJSON_CreateObject();
    char t32[32];
    cJSON_AddStringToObject(j, "request_id", request_id);
    rfc3339_format(now, t32);
    cJSON_AddStringToObject(j, "evaluated_at", t32);
    cJSON_AddNumberToObject(j, "escalation_level", atoi(PQgetvalue(r, 0, C_LEVEL)));
    static const char *const ladder[] = {"agent", "supervisor", "manager", "director", "gm"};
    int lvl = atoi(PQgetvalue(r, 0, C_LEVEL));
    cJSON_AddStringToObject(j, "escalated_to", ladder[lvl < 0 ? 0 : lvl > 4 ? 4 : lvl]);
    if (rc != 0) {
        cJSON_AddNullToObject(j, "policy");
        cJSON_AddNullToObject(j, "calendar");
        cJSON_AddArrayToObject(j, "clocks");
        cJSON_AddStringToObject(j, "note",
                                rc > 0 ? "no SLA policy applies to this request"
                                       : "the SLA definition could not be evaluated");
    } else {
        cJSON *p = cJSON_AddObjectToObject(j, "policy");
        cJSON_AddStringToObject(p, "id", PQgetvalue(r, 0, C_PID));
        cJSON_AddStringToObject(p, "name", PQgetvalue(r, 0, C_PNAME));
        cJSON_AddNumberToObject(p, "version", atoi(PQgetvalue(r, 0, C_PVER)));
        cJSON_AddStringToObject(p, "version_id", x.policy_version);
        cJSON_AddNumberToObject(p, "warn_pct", x.pol.warn_pct);
        cJSON_AddNumberToObject(p, "escalate_every_minutes", (double)(x.pol.escalate_every_s / 60));
        cJSON *k = cJSON_AddObjectToObject(j, "calendar");
        cJSON_AddNumberToObject(k, "version", atoi(PQgetvalue(r, 0, C_CVER)));
        cJSON_AddStringToObject(k, "version_id", x.calendar_version);
        cJSON_AddStringToObject(k, "time_zone", x.cal->tz);
        int64_t nd = core_sla_next_due(x.v);
        fmt_or_empty(nd, t32);
        if (t32[0])
            cJSON_AddStringToObject(j, "next_due", t32);
        else
            cJSON_AddNullToObject(j, "next_due");
        cJSON *arr = cJSON_AddArrayToObject(j, "clocks");
        for (int t = 0; t < SLA_T__COUNT; t++) {
            const sla_clock_view_t *v = &x.v[t];
            if (!v->active)
                continue;
            const sla_rule_t *rule = &x.pol.rules[t];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "target", core_sla_target_name((sla_target_id_t)t));
            cJSON_AddStringToObject(o, "kind", core_sla_kind_name(rule->kind));
            if (rule->kind == SLA_CALENDAR || rule->kind == SLA_BUSINESS)
                cJSON_AddNumberToObject(o, "target_minutes", (double)(rule->duration_s / 60));
            if (rule->kind == SLA_NEXT_LOCAL_TIME) {
                char at[8];
                snprintf(at, sizeof at, "%02d:%02d", rule->hh % 24, rule->mm % 60);
                cJSON_AddStringToObject(o, "at", at);
            }
            fmt_or_empty(v->start, t32);
            cJSON_AddStringToObject(o, "started_at", t32);
            fmt_or_empty(v->clock.due_at, t32);
            cJSON_AddStringToObject(o, "due_at", t32);
            fmt_or_empty(v->clock.computed_due, t32);
            cJSON_AddStringToObject(o, "policy_due_at", t32);
            cJSON_AddBoolToObject(o, "adjusted", v->clock.computed_due != v->clock.due_at);
            fmt_or_empty(v->clock.warn_at, t32);
            cJSON_AddStringToObject(o, "warn_at", t32);
            fmt_or_empty(v->met_at, t32);
            if (t32[0])
                cJSON_AddStringToObject(o, "met_at", t32);
            else
                cJSON_AddNullToObject(o, "met_at");
            cJSON_AddNumberToObject(o, "used_seconds", (double)v->clock.used_seconds);
            cJSON_AddNumberToObject(o, "paused_seconds", (double)v->clock.paused_seconds);
            cJSON_AddNumberToObject(o, "pauses", v->npauses);
            cJSON_AddStringToObject(o, "state", core_sla_state_name(v->clock.state));
            cJSON_AddItemToArray(arr, o);
        }
    }
    eval_done(&x);
    PQclear(r);
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

/* ---------------------------------------------------------------- background */

static pthread_t bg;
static int bg_running;
static int bg_interval_ms;
static pthread_mutex_t bg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bg_cv = PTHREAD_COND_INITIALIZER;
static int bg_stop;

#include "db/idempotency.h"

static void *bg_main(void *arg)
{
    (void)arg;
    int64_t last_purge = 0;
    pthread_mutex_lock(&bg_mu);
    while (!bg_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += bg_interval_ms / 1000;
        until.tv_nsec += (long)(bg_interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&bg_cv, &bg_mu, &until);
        if (bg_stop)
            break;
        pthread_mutex_unlock(&bg_mu);
        db_conn_t *c = db_acquire();
        if (c) {
            sla_sweep_stats_t st;
            int64_t now = (int64_t)time(NULL);
            if (sla_sweep(c, now, 100000, &st) == 0 && (st.warnings || st.escalations))
                log_write(LOG_INFO, "sla sweep",
                          "\"examined\":%d,\"warnings\":%d,\"escalations\":%d", st.examined,
                          st.warnings, st.escalations);
            if (now - last_purge > 3600) {
                /* Idempotency keys are kept 48 h: at least the promised 24 h. */
                db_idem_purge(c, 48);
                last_purge = now;
            }
            db_release(c);
        }
        pthread_mutex_lock(&bg_mu);
    }
    pthread_mutex_unlock(&bg_mu);
    return NULL;
}

void sla_background_start(int interval_ms)
{
    if (interval_ms <= 0 || bg_running)
        return;
    bg_interval_ms = interval_ms;
    bg_stop = 0;
    if (pthread_create(&bg, NULL, bg_main, NULL) == 0)
        bg_running = 1;
}

void sla_background_stop(void)
{
    if (!bg_running)
        return;
    pthread_mutex_lock(&bg_mu);
    bg_stop = 1;
    pthread_cond_signal(&bg_cv);
    pthread_mutex_unlock(&bg_mu);
    pthread_join(bg, NULL);
    bg_running = 0;
}
