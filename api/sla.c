/*
 * api/sla.c — SLA over HTTP: a request's clocks explained, manual escalation, policy
 * re-application, deadline extensions approved by the project director, policy and
 * calendar administration (each change a new version), the user's notifications, and
 * the operator's sweep trigger.
 */
#include "api/codec.h"
#include "api/request.h"
#include "core/request.h"
#include "core/sla_policy.h"
#include "db/log.h"
#include "db/org.h"
#include "db/sla.h"
#include "svc/sla.h"
#include "svc/sla_config.h"
#include "svc/sweeper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* The role at a ladder level, by its API name. */
static const char *ladder_role(int level)
{
    return core_role_name((role_t)core_role_at_ladder_level(level));
}

/* The levels a manual escalation may name: "1 supervisor, 2 manager, ... or 4 gm". */
static void ladder_levels(char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int l = 1; l <= SLA_TOP_LEVEL && o < len; l++)
        o += (size_t)snprintf(buf + o, len - o, "%s%d %s",
                              l == 1               ? ""
                              : l == SLA_TOP_LEVEL ? " or "
                                                   : ", ",
                              l, ladder_role(l));
}

/* ---------------------------------------------------------------- request clocks */

static void request_sla_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_SLA_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    request_scope_t sc;
    if (!c || api_request_authorize(r, c, id, AZ_REQUEST_READ, &sc) != 0)
        return;
    int found;
    char *js = sla_explain(c, r->principal.org_id, id, now_s(), &found);
    if (!js) {
        if (found)
            http_db_fail(r, NULL);
        else
            http_problem(r, 404, "not_found", "no request with this id in your scope");
        return;
    }
    http_send_json(r, 200, js, NULL);
    free(js);
}

/* Appends a timeline event, refreshes the clocks and commits; answers with `body`. */
static void commit_with_event(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                              const char *action, cJSON *details, const char *changes, int status,
                              const char *body)
{
    char occ[32];
    rfc3339_format(now_s(), occ);
    char *dj = cJSON_PrintUnformatted(details);
    PGresult *e = db_request_event(c, r->principal.org_id, id, row->last_seq + 1,
                                   r->principal.user_id, core_role_name(r->principal.role), action,
                                   row->state, row->state, row->channel, occ, dj);
    free(dj);
    int ok = db_ok(e);
    PQclear(e);
    if (ok && changes) {
        PGresult *a = db_request_apply(c, id, r->principal.org_id, 1, changes);
        ok = db_ok(a);
        PQclear(a);
    }
    if (!ok || sla_refresh_request(c, r->principal.org_id, id, now_s(), 0) != 0 ||
        db_commit(c) != 0) {
        db_rollback(c);
        http_db_fail(r, "nothing was changed");
        return;
    }
    if (body) {
        http_send_json(r, status, body, NULL);
    } else {
        int found;
        char *js = sla_explain(c, r->principal.org_id, id, now_s(), &found);
        http_send_json(r, status, js ? js : "{}", NULL);
        free(js);
    }
}

static void escalate_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_ESCALATE) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(r->json, "level");
    static const char *const fields[] = {"reason", "level", NULL};
    const char *reason;
    if (http_known_fields(r, "an escalation", fields) != 0 ||
        http_text_field(r, "reason", 2000, &reason) != 0)
        return;
    if (level &&
        (!cJSON_IsNumber(level) || level->valuedouble < 1 || level->valuedouble > SLA_TOP_LEVEL ||
         level->valuedouble != (int)level->valuedouble)) {
        char levels[128];
        ladder_levels(levels, sizeof levels);
        http_invalid(r, NULL, "level", "invalid_field",
                     cJSON_IsNumber(level) ? "out_of_range" : "invalid_type", "'level' must be %s",
                     levels);
        return;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_ESCALATE, &row) != 0)
        return;
    if (core_request_is_final((request_state_t)core_request_state_from_string(row.state))) {
        db_rollback(c);
        http_problem(r, 409, "invalid_transition", "a %s request cannot be escalated", row.state);
        return;
    }
    int to = level ? (int)level->valuedouble : row.escalation_level + 1;
    if (row.escalation_level >= SLA_TOP_LEVEL || to <= row.escalation_level) {
        db_rollback(c);
        http_problem(r, 409, "already_escalated",
                     "the request is already at level %d; escalation only goes up (top is %d, %s)",
                     row.escalation_level, SLA_TOP_LEVEL, ladder_role(SLA_TOP_LEVEL));
        return;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "level", to);
    cJSON_AddStringToObject(d, "to_role", ladder_role(to));
    cJSON_AddStringToObject(d, "reason", reason);
    cJSON_AddBoolToObject(d, "manual", 1);
    /* The payload is as long as the reason (up to 2000 bytes): cJSON renders it whole. */
    cJSON *pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "reason", reason);
    cJSON_AddNumberToObject(pj, "level", to);
    cJSON_AddBoolToObject(pj, "manual", 1);
    char *payload = cJSON_PrintUnformatted(pj);
    cJSON_Delete(pj);
    cJSON *cj = cJSON_CreateObject();
    cJSON_AddNumberToObject(cj, "escalation_inc", to - row.escalation_level);
    char *changes = cJSON_PrintUnformatted(cj);
    cJSON_Delete(cj);
    if (!payload || !changes ||
        db_sla_notify_ladder(c, r->principal.org_id, row.sc.project_id, id, to, "sla_escalation",
                             payload) != 0) {
        free(payload);
        free(changes);
        cJSON_Delete(d);
        db_rollback(c);
        http_db_fail(r, "nothing was changed");
        return;
    }
    commit_with_event(r, c, id, &row, "escalate", d, changes, 200, NULL);
    free(payload);
    free(changes);
    cJSON_Delete(d);
}

static void reapply_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_SLA_ADMIN) != 0 || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_SLA_ADMIN, &row) != 0)
        return;
    /* Pauses and met times come from the timeline, so re-applying keeps the pause time
     * already counted; only the policy/calendar versions change. */
    if (sla_refresh_request(c, r->principal.org_id, id, now_s(), 1) != 0) {
        db_rollback(c);
        http_problem(r, 503, "sla_unavailable", "the current policy could not be applied");
        return;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddBoolToObject(d, "reapplied", 1);
    commit_with_event(r, c, id, &row, "sla_reapplied", d, NULL, 200, NULL);
    cJSON_Delete(d);
}

/* ---------------------------------------------------------------- extensions */

static void extension_create_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_ESCALATE) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(r->json, "target");
    const cJSON *due = cJSON_GetObjectItemCaseSensitive(r->json, "new_due");
    const cJSON *reason_v = cJSON_GetObjectItemCaseSensitive(r->json, "reason");
    static const char *const fields[] = {"target", "new_due", "reason", NULL};
    if (http_known_fields(r, "an extension request", fields) != 0)
        return;
    int64_t nd;
    if (!target || !due || !reason_v) {
        http_invalid(r, NULL,
                     !target ? "target"
                     : !due  ? "new_due"
                             : "reason",
                     "missing_field", "required", "'target', 'new_due' and 'reason' are required");
        return;
    }
    if (!cJSON_IsString(target) || core_sla_target_from_string(target->valuestring) < 0) {
        char targets[160];
        core_sla_target_list(targets, sizeof targets);
        http_invalid(r, NULL, "target", "invalid_enum",
                     cJSON_IsString(target) ? "invalid_enum" : "invalid_type",
                     "'target' must be one of: %s", targets);
        return;
    }
    if (!cJSON_IsString(due) || rfc3339_parse(due->valuestring, &nd) != 0 || nd <= now_s()) {
        http_invalid(r, NULL, "new_due", "invalid_field",
                     !cJSON_IsString(due)                        ? "invalid_type"
                     : rfc3339_parse(due->valuestring, &nd) != 0 ? "invalid_format"
                                                                 : "out_of_range",
                     "'new_due' must be a future RFC 3339 time");
        return;
    }
    const char *reason;
    if (http_text_field(r, "reason", 2000, &reason) != 0)
        return;
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_ESCALATE, &row) != 0)
        return;
    /* An extension moves a running deadline later; anything else is not one. */
    long long cur = db_sla_target_due(c, r->principal.org_id, id, target->valuestring);
    if (cur <= 0 || nd <= cur) {
        db_rollback(c);
        if (cur < 0) {
            http_db_fail(r, NULL);
        } else if (cur == 0) {
            http_problem(r, 409, "no_deadline",
                         "the request has no '%s' deadline to extend (not part of its policy, "
                         "or not started)",
                         target->valuestring);
        } else {
            char cs[32];
            rfc3339_format(cur, cs);
            http_invalid(r, NULL, "new_due", "not_an_extension", "out_of_range",
                         "'new_due' must be later than the current %s deadline %s",
                         target->valuestring, cs);
        }
        return;
    }
    char ds[32];
    rfc3339_format(nd, ds);
    PGresult *x = db_sla_extension_create(c, r->principal.org_id, id, target->valuestring, ds,
                                          reason, r->principal.user_id);
    if (!db_ok(x)) {
        http_db_error(r, x);
        PQclear(x);
        db_rollback(c);
        return;
    }
    char *body = strdup(PQgetvalue(x, 0, 0));
    PQclear(x);
    if (!body) {
        db_rollback(c);
        http_problem(r, 503, "overloaded", "out of memory; nothing was saved; retry");
        return;
    }
    cJSON *d = cJSON_Parse(body);
    commit_with_event(r, c, id, &row, "sla_extension_requested", d, NULL, 201, body);
    cJSON_Delete(d);
    free(body);
}

/* Extensions carry no internal entries. */
static char *extension_items(db_conn_t *c, const char *org, const char *request_id, int internal)
{
    (void)internal;
    return db_sla_extensions_json(c, org, request_id);
}

static void extension_list_h(req_t *r)
{
    if (!http_uuid_param(r, 0) || http_authorize_role(r, AZ_SLA_READ) != 0)
        return;
    api_request_items(r, extension_items);
}

static void extension_decide(req_t *r, int approve)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return;
    const char *eid = r->nparams > 1 && http_is_uuid(r->params[1]) ? r->params[1] : NULL;
    if (!eid) {
        http_problem(r, 404, "not_found", "no such extension request");
        return;
    }
    if (http_authorize_role(r, AZ_SLA_EXT_DECIDE) != 0)
        return;
    if (r->body_len && http_json_body(r) != 0)
        return;
    const cJSON *note = r->json ? cJSON_GetObjectItemCaseSensitive(r->json, "note") : NULL;
    if (note && (!cJSON_IsString(note) || strlen(note->valuestring) > 2000)) {
        http_invalid(r, NULL, "note", "invalid_field",
                     cJSON_IsString(note) ? "too_long" : "invalid_type",
                     "'note' must be text of at most 2000 bytes");
        return;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, id, AZ_SLA_EXT_DECIDE, &row) != 0)
        return;
    PGresult *x =
        db_sla_extension_decide(c, r->principal.org_id, id, eid, approve ? "approved" : "rejected",
                                r->principal.user_id, note ? note->valuestring : NULL);
    if (!db_ok(x) || PQntuples(x) != 1) {
        char st[16];
        int found =
            db_ok(x) ? db_sla_extension_state(c, r->principal.org_id, id, eid, st, sizeof st) : -1;
        if (found == 1)
            http_problem(r, 409, "already_decided",
                         "this extension request was already %s; ask for a new one", st);
        else if (found == 0)
            http_problem(r, 404, "not_found", "no extension request %s on this request", eid);
        else
            http_db_error(r, x);
        PQclear(x);
        db_rollback(c);
        return;
    }
    char *body = strdup(PQgetvalue(x, 0, 0));
    if (!body) {
        PQclear(x);
        db_rollback(c);
        http_problem(r, 503, "overloaded", "out of memory; nothing was saved; retry");
        return;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "extension_id", eid);
    cJSON_AddStringToObject(d, "target", PQgetvalue(x, 0, 1));
    if (approve)
        cJSON_AddStringToObject(d, "new_due", PQgetvalue(x, 0, 2));
    cJSON_AddStringToObject(d, "decided_by", r->principal.user_id);
    if (note)
        cJSON_AddStringToObject(d, "note", note->valuestring);
    PQclear(x);
    commit_with_event(r, c, id, &row, approve ? "sla_extension_approved" : "sla_extension_rejected",
                      d, NULL, 200, body);
    cJSON_Delete(d);
    free(body);
}

static void extension_approve_h(req_t *r)
{
    extension_decide(r, 1);
}

static void extension_reject_h(req_t *r)
{
    extension_decide(r, 0);
}

/* ---------------------------------------------------------------- policies */

/* Answers with a policy row (json, version, project) and its ETag. */
static void send_policy(req_t *r, int status, PGresult *x)
{
    char hdr[64];
    http_etag(hdr, sizeof hdr, atoi(PQgetvalue(x, 0, 1)));
    http_send_json(r, status, PQgetvalue(x, 0, 0), hdr);
}

/* A versioned SLA row (json, version[, project]) for http_load: a policy, whose project
 * is its third column, or a project's calendar, whose id is the project's. */
typedef struct sla_row {
    PGresult *(*get)(db_conn_t *c, const char *org, const char *id);
    int project_col; /* -1: the id is the project */
} sla_row_t;
static const sla_row_t policy_row = {db_sla_policy_get, 2},
                       calendar_row = {db_sla_calendar_get, -1};

static int load_row(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    const sla_row_t *what = arg;
    PGresult *x = what->get(c, r->principal.org_id, id);
    int found = db_ok(x) ? PQntuples(x) == 1 : -1;
    if (found < 0)
        http_db_error(r, x);
    if (found == 1) {
        f->json = strdup(PQgetvalue(x, 0, 0));
        f->version = atoi(PQgetvalue(x, 0, 1));
        snprintf(f->project_id, sizeof f->project_id, "%s",
                 what->project_col < 0 ? id : PQgetvalue(x, 0, what->project_col));
        if (!f->json)
            found = -1;
    }
    PQclear(x);
    return found;
}

static void policy_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_SLA_ADMIN) != 0 || http_json_body(r) != 0)
        return;
    const cJSON *project = cJSON_GetObjectItemCaseSensitive(r->json, "project_id");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(r->json, "name");
    const cJSON *match = cJSON_GetObjectItemCaseSensitive(r->json, "match");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(r->json, "definition");
    static const char *const fields[] = {"project_id", "name", "match", "definition", NULL};
    if (http_known_fields(r, "an SLA policy", fields) != 0)
        return;
    if (!cJSON_IsString(project) || !http_is_uuid(project->valuestring) || !cJSON_IsString(name) ||
        !name->valuestring[0] || strlen(name->valuestring) > 200 || !cJSON_IsObject(def)) {
        const char *bad =
            !cJSON_IsString(project) || !http_is_uuid(project->valuestring) ? "project_id"
            : !cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) > 200
                ? "name"
                : "definition";
        const cJSON *bv = cJSON_GetObjectItemCaseSensitive(r->json, bad);
        http_invalid(r, NULL, bad, bv ? "invalid_field" : "missing_field",
                     !bv                          ? "required"
                     : !strcmp(bad, "name")       ? http_str_err(bv, 200)
                     : !strcmp(bad, "definition") ? "invalid_type"
                     : cJSON_IsString(bv)         ? "invalid_format"
                                                  : "invalid_type",
                     "'project_id' (UUID), 'name' (text) and 'definition' (object) are required");
        return;
    }
    const char *mt = NULL, *ms = NULL, *mc = NULL;
    if (match && !cJSON_IsNull(match)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(match, "type");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(match, "severity");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(match, "category");
        if (!cJSON_IsObject(match) ||
            (t && !cJSON_IsNull(t) &&
             (!cJSON_IsString(t) || core_request_type_from_string(t->valuestring) < 0)) ||
            (s && !cJSON_IsNull(s) &&
             (!cJSON_IsString(s) || core_request_severity_from_string(s->valuestring) < 0)) ||
            (k && !cJSON_IsNull(k) &&
             (!cJSON_IsString(k) || core_request_category_from_string(k->valuestring) < 0))) {
            const cJSON *bm =
                !cJSON_IsObject(match) ? NULL
                : t && !cJSON_IsNull(t) &&
                        (!cJSON_IsString(t) || core_request_type_from_string(t->valuestring) < 0)
                    ? t
                : s && !cJSON_IsNull(s) &&
                        (!cJSON_IsString(s) ||
                         core_request_severity_from_string(s->valuestring) < 0)
                    ? s
                    : k;
            http_invalid(r, bm ? match : NULL, bm ? bm->string : "match", "invalid_enum",
                         !bm || !cJSON_IsString(bm) ? "invalid_type" : "invalid_enum",
                         "'match' is {type?, severity?, category?} with the request enums");
            return;
        }
        mt = cJSON_IsString(t) ? t->valuestring : NULL;
        ms = cJSON_IsString(s) ? s->valuestring : NULL;
        mc = cJSON_IsString(k) ? k->valuestring : NULL;
    }
    char *ds = cJSON_PrintUnformatted(def), err[256];
    sla_policy_t pol;
    if (core_sla_policy_parse(ds, &pol, err, sizeof err) != 0) {
        free(ds);
        http_invalid(r, NULL, "definition", "invalid_policy", "invalid_format", "%s", err);
        return;
    }
    az_target_t tg = {r->principal.org_id, project->valuestring, NULL, NULL, NULL};
    if (http_authorize(r, AZ_SLA_ADMIN, &tg) != 0) {
        free(ds);
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c) {
        free(ds);
        return;
    }
    int exists = db_org_project_exists(c, r->principal.org_id, project->valuestring);
    if (exists != 1) {
        free(ds);
        if (exists < 0)
            http_db_fail(r, NULL);
        else
            http_problem(r, 404, "not_found", "no such project in your scope");
        return;
    }
    PGresult *x = db_sla_policy_create(c, r->principal.org_id, project->valuestring,
                                       name->valuestring, mt, ms, mc, ds, r->principal.user_id);
    free(ds);
    if (!db_ok(x)) {
        http_db_error(r, x);
    } else {
        sla_invalidate_project(project->valuestring);
        send_policy(r, 201, x);
    }
    PQclear(x);
}

static void policy_get_h(req_t *r)
{
    http_get_one(r, AZ_SLA_READ, "SLA policy", load_row, &policy_row);
}

static void policy_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_SLA_READ) != 0)
        return;
    char project[64];
    const char *pf = NULL, *scope = http_scope_projects(r);
    if (http_query(r, "project_id", project, sizeof project) >= 0) {
        if (!http_is_uuid(project)) {
            http_problem(r, 400, "invalid_query", "'project_id' must be a UUID");
            return;
        }
        pf = project;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *x = db_sla_policy_list(c, r->principal.org_id, scope, pf);
    http_send_rows(r, x);
    PQclear(x);
}

static void policy_update_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    int expect;
    if (!id || http_authorize_role(r, AZ_SLA_ADMIN) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "SLA policy", &expect) != 0)
        return;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(r->json, "name");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(r->json, "definition");
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(r->json, "active");
    static const char *const fields[] = {"name", "definition", "active", NULL};
    if (http_known_fields(r, "an SLA policy change", fields) != 0)
        return;
    if ((name && (!cJSON_IsString(name) || !name->valuestring[0])) ||
        (def && !cJSON_IsObject(def)) || (active && !cJSON_IsBool(active)) ||
        (!name && !def && !active)) {
        const char *bad = name && (!cJSON_IsString(name) || !name->valuestring[0]) ? "name"
                          : def && !cJSON_IsObject(def)                            ? "definition"
                          : active && !cJSON_IsBool(active)                        ? "active"
                                                                                   : NULL;
        http_invalid(r, NULL, bad, bad ? "invalid_field" : "missing_field",
                     !bad                   ? "required"
                     : !strcmp(bad, "name") ? http_str_err(name, 200)
                                            : "invalid_type",
                     "send at least one of 'name' (text), 'definition' (object), 'active' (bool)");
        return;
    }
    char *ds = def ? cJSON_PrintUnformatted(def) : NULL, err[256];
    sla_policy_t pol;
    if (ds && core_sla_policy_parse(ds, &pol, err, sizeof err) != 0) {
        free(ds);
        http_invalid(r, NULL, "definition", "invalid_policy", "invalid_format", "%s", err);
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c) {
        free(ds);
        return;
    }
    http_found_t pf;
    if (http_load(r, c, AZ_SLA_ADMIN, "SLA policy", id, load_row, &policy_row, &pf) != 0 ||
        db_begin(c) != 0) {
        free(ds);
        free(pf.json);
        if (!r->status)
            http_db_fail(r, NULL);
        return;
    }
    free(pf.json);
    const char *project = pf.project_id;
    int rc = db_sla_policy_update(
        c, r->principal.org_id, id, expect, name ? name->valuestring : NULL, ds,
        active ? (cJSON_IsTrue(active) ? "true" : "false") : NULL, r->principal.user_id);
    free(ds);
    if (rc != 1) {
        db_rollback(c);
        if (rc == 0)
            http_problem(r, 412, "stale_version", "the policy changed since you read it");
        else if (rc == -2)
            http_problem(r, 404, "not_found", "no SLA policy with this id in your scope");
        else
            http_problem(r, 409, "conflict", "another active policy has the same match");
        return;
    }
    PGresult *x = db_sla_policy_get(c, r->principal.org_id, id);
    if (!db_ok(x) || PQntuples(x) != 1 || db_commit(c) != 0) {
        PQclear(x);
        db_rollback(c);
        http_db_fail(r, NULL);
        return;
    }
    sla_invalidate_project(project);
    send_policy(r, 200, x);
    PQclear(x);
}

/* ---------------------------------------------------------------- calendars */

static void calendar_get_h(req_t *r)
{
    http_get_one(r, AZ_SLA_READ, "project calendar", load_row, &calendar_row);
}

static void calendar_put_h(req_t *r)
{
    const char *pid = http_uuid_param(r, 0);
    int expect;
    if (!pid || http_authorize_role(r, AZ_SLA_ADMIN) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "calendar", &expect) != 0)
        return;
    az_target_t tg = {r->principal.org_id, pid, NULL, NULL, NULL};
    if (http_authorize(r, AZ_SLA_ADMIN, &tg) != 0)
        return;
    char *ds = cJSON_PrintUnformatted(r->json), err[256];
    if (sla_calendar_check(ds, err, sizeof err) != 0) {
        free(ds);
        http_invalid(r, NULL, NULL, "invalid_calendar", "invalid_format", "%s", err);
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c || db_begin(c) != 0) {
        free(ds);
        if (c)
            http_db_fail(r, NULL);
        return;
    }
    int nv = 0;
    int rc =
        db_sla_calendar_update(c, r->principal.org_id, pid, expect, ds, r->principal.user_id, &nv);
    free(ds);
    if (rc != 1) {
        db_rollback(c);
        if (rc == 0)
            http_problem(r, 412, "stale_version", "the calendar changed since you read it");
        else if (rc == -2)
            http_problem(r, 404, "not_found", "no calendar for this project in your scope");
        else
            http_db_fail(r, NULL);
        return;
    }
    PGresult *x = db_sla_calendar_get(c, r->principal.org_id, pid);
    if (!db_ok(x) || PQntuples(x) != 1 || db_commit(c) != 0) {
        PQclear(x);
        db_rollback(c);
        http_db_fail(r, NULL);
        return;
    }
    sla_invalidate_project(pid);
    char hdr[64];
    http_etag(hdr, sizeof hdr, nv);
    http_send_json(r, 200, PQgetvalue(x, 0, 0), hdr);
    PQclear(x);
}

/* ---------------------------------------------------------------- notifications */

static void notifications_h(req_t *r)
{
    if (http_authorize_role(r, AZ_NOTIFICATION_READ) != 0)
        return;
    char unread[8];
    const char *u = "false";
    if (http_query(r, "unread", unread, sizeof unread) >= 0) {
        if (strcmp(unread, "true") && strcmp(unread, "false")) {
            http_problem(r, 400, "invalid_query", "'unread' must be true or false");
            return;
        }
        u = !strcmp(unread, "true") ? "true" : "false";
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *x = db_notifications_list(c, r->principal.org_id, r->principal.user_id, u,
                                        pg.cursor_ts, pg.cursor_id, pg.limit + 1);
    http_send_page(r, x, pg.limit);
    PQclear(x);
}

static void notification_read_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_NOTIFICATION_READ) != 0 || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    int n = db_notification_read(c, r->principal.org_id, r->principal.user_id, id);
    if (n < 0)
        http_db_fail(r, NULL);
    else if (n == 0)
        http_problem(r, 404, "not_found", "no notification of yours with this id");
    else
        http_send_empty(r, 204, NULL);
}

/* ---------------------------------------------------------------- sweep */

static void sweep_h(req_t *r)
{
    if (http_authorize_role(r, AZ_OPS) != 0 || http_no_body(r) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sla_sweep_stats_t st; /* the caller's organisation only: its counts are all it sees */
    if (sla_sweep_org(c, r->principal.org_id, now_s(), 1000000, &st) != 0) {
        http_problem(r, 503, "sweep_failed", "the sweep could not complete; it is safe to retry");
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "examined", st.examined);
    cJSON_AddNumberToObject(j, "warnings", st.warnings);
    cJSON_AddNumberToObject(j, "escalations", st.escalations);
    cJSON_AddNumberToObject(j, "batches", st.batches);
    cJSON_AddNumberToObject(j, "duration_ms", (double)(long long)(us + 0.5) / 1e3);
    http_send_cjson(r, 200, j, NULL);
    cJSON_Delete(j);
}

void api_sla_register(void)
{
    http_route("GET", "/v1/requests/{id}/sla", request_sla_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/escalate", escalate_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/sla/reapply", reapply_h, 0, NULL);
    http_route("GET", "/v1/requests/{id}/sla/extensions", extension_list_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/sla/extensions", extension_create_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/sla/extensions/{eid}/approve", extension_approve_h, 0,
               NULL);
    http_route("POST", "/v1/requests/{id}/sla/extensions/{eid}/reject", extension_reject_h, 0,
               NULL);
    http_route("GET", "/v1/sla/policies", policy_list_h, 0, NULL);
    http_route("POST", "/v1/sla/policies", policy_create_h, 0, NULL);
    http_route("GET", "/v1/sla/policies/{id}", policy_get_h, 0, NULL);
    http_route("PATCH", "/v1/sla/policies/{id}", policy_update_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/calendar", calendar_get_h, 0, NULL);
    http_route("PUT", "/v1/projects/{id}/calendar", calendar_put_h, 0, NULL);
    http_route("GET", "/v1/notifications", notifications_h, 0, NULL);
    http_route("POST", "/v1/notifications/{id}/read", notification_read_h, 0, NULL);
    http_route("POST", "/v1/admin/sla/sweep", sweep_h, 0, NULL);
}
