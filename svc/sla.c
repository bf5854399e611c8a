/*
 * svc/sla.c — see sla.h.  The clocks of one request: its SLA configuration (through the
 * caches of sla_config.c) and its timeline (from db/sla.c) go into core/sla_request.c,
 * and the due times it returns are stored with the request.
 */
#include "svc/sla.h"
#include "core/callback.h"
#include "core/request.h"
#include "core/rfc3339.h"
#include "core/roles.h"
#include "db/log.h"
#include "db/sla.h"
#include "svc/sla_config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- evaluation */

static void fmt_or_empty(int64_t t, char out[32])
{
    if (t > 0 && t != SLA_PAUSE_OPEN && t != CORE_CAL_ERROR)
        rfc3339_format(t, out);
    else
        out[0] = 0;
}

void sla_fill_dues(const sla_clock_view_t v[SLA_T__COUNT], int64_t next_check, sla_dues_t *d)
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

int sla_eval_row(db_conn_t *c, PGresult *r, int i, int64_t now, int reapply, sla_eval_t *x)
{
    memset(x, 0, sizeof *x);
    const char *pv = PQgetvalue(r, i, SLA_COL_POLICY), *cv = PQgetvalue(r, i, SLA_COL_CAL);
    const char *type = PQgetvalue(r, i, SLA_COL_TYPE);
    const char *sev = PQgetisnull(r, i, SLA_COL_SEV) ? NULL : PQgetvalue(r, i, SLA_COL_SEV);
    const char *cat = PQgetisnull(r, i, SLA_COL_CAT) ? NULL : PQgetvalue(r, i, SLA_COL_CAT);
    sla_project_cfg_t cfg; /* pv/cv may point into it: it lives as long as they are used */
    if (reapply || !pv[0] || !cv[0]) {
        if (sla_project_config(c, PQgetvalue(r, i, SLA_COL_ORG), PQgetvalue(r, i, SLA_COL_PROJECT),
                               &cfg) != 0)
            return -1;
        const char *m = sla_project_match(&cfg, type, sev, cat);
        if (!m || !cfg.calendar[0])
            return 1;
        pv = m;
        cv = cfg.calendar;
    }
    snprintf(x->policy_version, sizeof x->policy_version, "%s", pv);
    snprintf(x->calendar_version, sizeof x->calendar_version, "%s", cv);
    if (sla_policy_load(c, pv, &x->pol) != 0 || !(x->cal = sla_calendar_pin(c, cv)))
        return -1;
    const char *validity = PQgetvalue(r, i, SLA_COL_VALIDITY);
    int valid = !strcmp(validity, "valid")     ? REQ_VALIDITY_VALID
                : !strcmp(validity, "invalid") ? REQ_VALIDITY_INVALID
                                               : REQ_VALIDITY_UNKNOWN;
    int tv = core_request_type_from_string(type);
    sla_request_facts_t f = {type, sev, PQgetvalue(r, i, SLA_COL_NIGHT)[0] == 't',
                             tv >= 0 && core_request_needs_callback((request_type_t)tv, valid),
                             atoll(PQgetvalue(r, i, SLA_COL_DEADLINE))};
    cJSON *tree;
    size_t n;
    sla_event_t *ev = parse_events(PQgetvalue(r, i, SLA_COL_EVENTS), &n, &tree);
    if (!ev) {
        cJSON_Delete(tree);
        return -1;
    }
    int rc = core_sla_request_eval(&x->pol, &x->cal->cal, &f, ev, n, now, x->v);
    free(ev);
    cJSON_Delete(tree);
    alerts_state(PQgetvalue(r, i, SLA_COL_ALERTS), x->v, &x->hist);
    return rc == 0 ? 0 : -1;
}

void sla_eval_done(sla_eval_t *x)
{
    sla_calendar_unpin(x->cal);
    x->cal = NULL;
}

int sla_for_new_request(db_conn_t *c, const char *org, const char *project, const char *type,
                        const char *severity, const char *category, int night_desk,
                        int needs_callback, int64_t customer_deadline, const char *actor_role,
                        int64_t received, int64_t now, sla_dues_t *out)
{
    memset(out, 0, sizeof *out);
    sla_project_cfg_t cfg;
    if (sla_project_config(c, org, project, &cfg) != 0)
        return -1;
    const char *pv = sla_project_match(&cfg, type, severity, category);
    if (!pv || !cfg.calendar[0])
        return 0; /* no SLA configured for this project */
    sla_policy_t pol;
    const sla_calendar_def_t *cal;
    if (sla_policy_load(c, pv, &pol) != 0 || !(cal = sla_calendar_pin(c, cfg.calendar)))
        return -1;
    sla_event_t ev = {"create", actor_role, NULL, "received", received, 0, 0, -1, 0, 0};
    sla_request_facts_t f = {type, severity, night_desk, needs_callback, customer_deadline};
    sla_clock_view_t v[SLA_T__COUNT];
    int rc = core_sla_request_eval(&pol, &cal->cal, &f, &ev, 1, now, v);
    sla_calendar_unpin(cal);
    if (rc != 0)
        return -1;
    int64_t next = 0;
    sla_alert_t al[SLA_T__COUNT * 2];
    size_t na = core_sla_plan_history(&pol, v, 0, NULL, now, al, SLA_T__COUNT * 2, &next);
    if (na > 0)
        next = now; /* something is due already (a major complaint): sweep it at once */
    snprintf(out->policy_version, sizeof out->policy_version, "%s", pv);
    snprintf(out->calendar_version, sizeof out->calendar_version, "%s", cfg.calendar);
    sla_fill_dues(v, next, out);
    return 0;
}

int sla_survey_callback_due(db_conn_t *c, const char *org, const char *project, int64_t start,
                            int64_t *due)
{
    sla_project_cfg_t cfg;
    if (sla_project_config(c, org, project, &cfg) != 0)
        return -1;
    const char *pv = sla_project_match(&cfg, CB_SURVEY_SLA_TYPE, CB_SURVEY_SLA_SEVERITY, NULL);
    if (!pv || !cfg.calendar[0]) {
        *due = core_callback_due(NULL, NULL, start); /* no SLA configured for this project */
        return 0;
    }
    sla_policy_t pol;
    const sla_calendar_def_t *cal;
    if (sla_policy_load(c, pv, &pol) != 0 || !(cal = sla_calendar_pin(c, cfg.calendar)))
        return -1;
    *due = core_callback_due(&pol, &cal->cal, start);
    sla_calendar_unpin(cal);
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
    sla_eval_t x;
    int rc = sla_eval_row(c, r, 0, now, reapply, &x);
    if (rc != 0) {
        sla_eval_done(&x);
        PQclear(r);
        return rc > 0 ? 0 : -1;
    }
    int64_t next = 0;
    sla_alert_t al[SLA_T__COUNT * 2];
    size_t na = core_sla_plan_history(&x.pol, x.v, atoi(PQgetvalue(r, 0, SLA_COL_LEVEL)), &x.hist,
                                      now, al, SLA_T__COUNT * 2, &next);
    if (na > 0)
        next = now;
    sla_dues_t d;
    memset(&d, 0, sizeof d);
    sla_fill_dues(x.v, next, &d);
    const char *vals[11] = {reapply ? x.policy_version : NULL, reapply ? x.calendar_version : NULL};
    for (int t = 0; t < SLA_T__COUNT; t++)
        vals[2 + t] = nz(d.due[t]);
    vals[9] = nz(d.next_due);
    vals[10] = nz(d.next_check);
    if (!PQgetvalue(r, 0, SLA_COL_POLICY)[0]) { /* first configuration: record the versions */
        vals[0] = x.policy_version;
        vals[1] = x.calendar_version;
    }
    rc = db_sla_request_store(c, request_id, vals);
    sla_eval_done(&x);
    PQclear(r);
    return rc;
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
    int own_tx = !db_in_transaction(c);
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
                cJSON *pj = core_sla_policy_json(&defs[k].policy);
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
    sla_eval_t x;
    int rc = sla_eval_row(c, r, 0, now, 0, &x);
    cJSON *j = cJSON_CreateObject();
    char t32[32];
    cJSON_AddStringToObject(j, "request_id", request_id);
    rfc3339_format(now, t32);
    cJSON_AddStringToObject(j, "evaluated_at", t32);
    cJSON_AddNumberToObject(j, "escalation_level", atoi(PQgetvalue(r, 0, SLA_COL_LEVEL)));
    int lvl = atoi(PQgetvalue(r, 0, SLA_COL_LEVEL));
    lvl = lvl < 0 ? 0 : lvl > ROLE_LADDER_TOP ? ROLE_LADDER_TOP : lvl;
    cJSON_AddStringToObject(j, "escalated_to",
                            core_role_name((role_t)core_role_at_ladder_level(lvl)));
    if (rc != 0) {
        cJSON_AddNullToObject(j, "policy");
        cJSON_AddNullToObject(j, "calendar");
        cJSON_AddArrayToObject(j, "clocks");
        cJSON_AddStringToObject(j, "note",
                                rc > 0 ? "no SLA policy applies to this request"
                                       : "the SLA definition could not be evaluated");
    } else {
        cJSON *p = cJSON_AddObjectToObject(j, "policy");
        cJSON_AddStringToObject(p, "id", PQgetvalue(r, 0, SLA_COL_PID));
        cJSON_AddStringToObject(p, "name", PQgetvalue(r, 0, SLA_COL_PNAME));
        cJSON_AddNumberToObject(p, "version", atoi(PQgetvalue(r, 0, SLA_COL_PVER)));
        cJSON_AddStringToObject(p, "version_id", x.policy_version);
        cJSON_AddNumberToObject(p, "warn_pct", x.pol.warn_pct);
        cJSON_AddNumberToObject(p, "escalate_every_minutes", (double)(x.pol.escalate_every_s / 60));
        cJSON *k = cJSON_AddObjectToObject(j, "calendar");
        cJSON_AddNumberToObject(k, "version", atoi(PQgetvalue(r, 0, SLA_COL_CVER)));
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
    sla_eval_done(&x);
    PQclear(r);
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}
