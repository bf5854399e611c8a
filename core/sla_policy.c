/*
 * core/sla_policy.c — see sla_policy.h.  Every message written into err is shown to an
 * administrator as the detail of a 422, so it names the field and what is expected.
 */
#include "core/sla_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- weekly hours, dates */

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
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
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

int core_sla_weekly_parse(const cJSON *weekly, day_hours_t out[7], char *err, size_t errlen)
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

/* ---------------------------------------------------------------- calendars */

int core_sla_calendar_parse(const char *json, sla_zone_lookup_fn zone, void *zone_ctx,
                            sla_calendar_def_t *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    cJSON *j = cJSON_Parse(json);
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
    if (!cJSON_IsString(tzj) || !(e->cal.tz = zone(tzj->valuestring, zone_ctx))) {
        snprintf(err, errlen, "'time_zone' must be an IANA zone name such as Asia/Shanghai");
        goto fail;
    }
    snprintf(e->tz, sizeof e->tz, "%s", tzj->valuestring);
    if (core_sla_weekly_parse(weekly, e->cal.weekly, err, errlen) != 0)
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
    return 0;
fail:
    cJSON_Delete(j);
    core_sla_calendar_def_free(e);
    return -1;
}

void core_sla_calendar_def_free(sla_calendar_def_t *d)
{
    if (!d)
        return;
    free(d->holidays);
    free(d->makeup);
    memset(d, 0, sizeof *d);
}

/* ---------------------------------------------------------------- policies */

int core_sla_policy_parse(const char *json, sla_policy_t *p, char *err, size_t errlen)
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

cJSON *core_sla_policy_json(const sla_policy_t *p)
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
