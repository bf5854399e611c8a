/*
 * api/patrol.c — patrols (巡检, RULES §3.10, seed 004 一.3): a project's plan (planned local
 * times, grace), rounds started against it (actual start and end, participants, coverage),
 * the checklist of 004 一.3 (3) a–e with ok or a finding per point, findings (location,
 * photo, owner-related follow-up) and their disposition — fixed on the spot, a
 * rectification (a corrective action of kind rectification, api/capa.c) or a service
 * request (channel patrol), each created in the disposition's transaction — and the day's
 * view for the supervisor (slots done and missed, rounds, open findings).  Finishing a
 * round is judged by core_patrol_finish_check.
 */
#include "api/api.h"
#include "api/attachment.h"
#include "api/capa.h"
#include "api/codec.h"
#include "api/request.h"
#include "core/patrol.h"
#include "db/capa.h"
#include "db/patrol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A 409 problem carrying the offending items as the extension member `member`. */
static void problem_list(req_t *r, int status, const char *code, const char *detail,
                         const char *member, const char *array_json)
{
    cJSON *j = cJSON_CreateObject();
    char type[160];
    snprintf(type, sizeof type, "https://deskd.dev/problems/%s", code);
    cJSON_AddStringToObject(j, "type", type);
    cJSON_AddStringToObject(j, "title", "Conflict");
    cJSON_AddNumberToObject(j, "status", status);
    cJSON_AddStringToObject(j, "code", code);
    cJSON_AddStringToObject(j, "detail", detail);
    cJSON_AddStringToObject(j, "request_id", r->request_id);
    cJSON *list = cJSON_Parse(array_json);
    cJSON_AddItemToObject(j, member, list ? list : cJSON_CreateArray());
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    http_send_text(r, status, "application/problem+json; charset=utf-8", s ? s : "{}");
    free(s);
}

static int read_kind(req_t *r, const char **kind)
{
    api_err_t e = {0};
    if (api_req_str(r->json, "kind", 32, kind, &e) < 0) {
        api_err_send(r, &e);
        return -1;
    }
    if (core_patrol_kind_from_string(*kind) < 0) {
        char list[128];
        core_patrol_kind_list(list, sizeof list);
        http_invalid(r, NULL, "kind", "invalid_field", "invalid_enum", "'kind' is one of %s", list);
        return -1;
    }
    return 0;
}

static int read_project(req_t *r, az_action_t az, const char **project)
{
    api_err_t e = {0};
    if (api_req_str(r->json, "project_id", 36, project, &e) < 0) {
        api_err_send(r, &e);
        return -1;
    }
    if (!http_is_uuid(*project)) {
        http_invalid(r, NULL, "project_id", "invalid_field", "invalid_format",
                     "'project_id' must be a UUID");
        return -1;
    }
    az_target_t t = {r->principal.org_id, *project, NULL, NULL, NULL};
    return http_authorize(r, az, &t);
}

/* ---- plans ----------------------------------------------------------------------------- */

static void plan_put_h(req_t *r)
{
    if (http_authorize_role(r, AZ_PATROL_PLAN) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"project_id",    "kind",   "times",
                                        "grace_minutes", "active", NULL};
    const char *project, *kind;
    if (http_known_fields(r, "a patrol plan", known) != 0 || read_kind(r, &kind) != 0 ||
        read_project(r, AZ_PATROL_PLAN, &project) != 0)
        return;
    const cJSON *times = cJSON_GetObjectItem(r->json, "times");
    int n = cJSON_GetArraySize(times);
    if (!cJSON_IsArray(times) || n < 1 || n > 12) {
        http_invalid(r, NULL, "times", times ? "invalid_field" : "missing_field",
                     times ? "out_of_range" : "required",
                     "'times' lists 1 to 12 local times \"HH:MM\" (004 一.3: twice a day)");
        return;
    }
    char lit[12 * 8 + 4];
    size_t o = 0;
    int seen[1440] = {0};
    lit[o++] = '{';
    const cJSON *t;
    cJSON_ArrayForEach(t, times)
    {
        int m = core_patrol_hhmm(cJSON_GetStringValue(t));
        if (m < 0 || seen[m]) {
            http_invalid(r, times, NULL, "invalid_field", m < 0 ? "invalid_format" : "duplicate",
                         "each of 'times' is a distinct local time \"HH:MM\"");
            return;
        }
        seen[m] = 1;
        o += (size_t)snprintf(lit + o, sizeof lit - o, "%s%s", o > 1 ? "," : "", t->valuestring);
    }
    lit[o++] = '}';
    lit[o] = 0;
    char grace[16] = "", *gp = NULL;
    const cJSON *g = cJSON_GetObjectItem(r->json, "grace_minutes");
    if (g && !cJSON_IsNull(g)) {
        if (!cJSON_IsNumber(g) || g->valuedouble != (int)g->valuedouble || g->valueint < 0 ||
            g->valueint > 720) {
            http_invalid(r, NULL, "grace_minutes", "invalid_field", "out_of_range",
                         "'grace_minutes' is a whole number of minutes, 0 to 720 (default 30)");
            return;
        }
        snprintf(grace, sizeof grace, "%d", g->valueint);
        gp = grace;
    }
    const cJSON *a = cJSON_GetObjectItem(r->json, "active");
    if (a && !cJSON_IsBool(a)) {
        http_invalid(r, NULL, "active", "invalid_field", "invalid_type",
                     "'active' must be true or false");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *res = db_patrol_plan_put(c, r->principal.org_id, project, kind, lit, gp,
                                       a ? (cJSON_IsTrue(a) ? "true" : "false") : NULL);
    if (!db_ok(res) || PQntuples(res) != 1)
        http_db_error(r, res);
    else
        http_send_json(r, PQgetvalue(res, 0, 1)[0] == 't' ? 201 : 200, PQgetvalue(res, 0, 0), NULL);
    PQclear(res);
}

static int query_project(req_t *r, char *buf, size_t n, const char **out)
{
    *out = NULL;
    if (http_query(r, "project_id", buf, n) >= 0) {
        if (!http_is_uuid(buf)) {
            http_problem(r, 400, "invalid_query", "project_id must be a UUID");
            return -1;
        }
        *out = buf;
    }
    return 0;
}

static void plans_h(req_t *r)
{
    char pb[64];
    const char *fp;
    if (http_authorize_role(r, AZ_PATROL_READ) != 0 || query_project(r, pb, sizeof pb, &fp) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *j = db_patrol_plans(c, r->principal.org_id, http_scope_projects(r), fp);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, j);
    free(j);
}

/* ---- rounds ---------------------------------------------------------------------------- */

static void round_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_PATROL_WRITE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"project_id", "kind",          "planned_at", "participants",
                                        "coverage",   "coverage_note", NULL};
    const char *project, *kind, *coverage = NULL, *note = NULL;
    if (http_known_fields(r, "a patrol round", known) != 0 || read_kind(r, &kind) != 0 ||
        read_project(r, AZ_PATROL_WRITE, &project) != 0)
        return;
    api_err_t e = {0};
    int64_t planned = 0;
    char *parts = NULL;
    if (api_opt_time(r->json, "planned_at", &planned, &e) < 0 ||
        api_opt_str(r->json, "coverage", 16, &coverage, &e) < 0 ||
        api_opt_str(r->json, "coverage_note", 1000, &note, &e) < 0 ||
        api_uuid_array(r->json, "participants", 20, &parts, NULL, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    if (coverage && strcmp(coverage, "whole") && strcmp(coverage, "sampled")) {
        free(parts);
        http_invalid(r, NULL, "coverage", "invalid_field", "invalid_enum",
                     "'coverage' is whole (the whole park) or sampled (groups, 004 一.3 (2))");
        return;
    }
    db_conn_t *c = http_db(r);
    char *bad = NULL, *id = NULL, *json = NULL;
    PGresult *slot = NULL;
    if (!c)
        goto out;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        goto out;
    }
    bad = db_patrol_check_people(c, r->principal.org_id, project, NULL, NULL, parts);
    if (!bad)
        goto dbfail;
    if (bad[0]) {
        db_rollback(c);
        http_invalid(r, NULL, "participants", "invalid_field", "not_found",
                     "'participants' names someone who is not active staff of the project");
        goto out;
    }
    char pa[32];
    if (planned)
        rfc3339_format(planned, pa);
    slot = db_patrol_slot_pick(c, r->principal.org_id, project, kind, planned ? pa : NULL);
    if (!db_ok(slot))
        goto dbfail;
    if (planned && PQntuples(slot) != 1) {
        db_rollback(c);
        http_invalid(r, NULL, "planned_at", "invalid_field", "not_found",
                     "'planned_at' is not a planned time of the project's %s plan (yesterday, "
                     "today or tomorrow)",
                     kind);
        goto out;
    }
    int has = PQntuples(slot) == 1;
    id = db_patrol_round_create(
        c, r->principal.org_id, project, kind, has ? PQgetvalue(slot, 0, 0) : NULL,
        has ? PQgetvalue(slot, 0, 1) : NULL, r->principal.user_id, parts, coverage, note);
    if (!id || !(json = db_patrol_round_json(c, r->principal.org_id, id)) || db_commit(c) != 0)
        goto dbfail;
    http_send_json(r, 201, json, NULL);
    goto out;
dbfail:
    db_rollback(c);
    http_db_fail(r, "the round was not started");
out:
    PQclear(slot);
    free(parts);
    free(bad);
    free(id);
    free(json);
}

static int round_load(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)arg;
    f->json = db_patrol_round_json(c, r->principal.org_id, id);
    if (!f->json)
        return 0;
    cJSON *j = cJSON_Parse(f->json);
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "project_id"));
    snprintf(f->project_id, sizeof f->project_id, "%s", p ? p : "");
    cJSON_Delete(j);
    return 1;
}

static void round_get_h(req_t *r)
{
    http_get_one(r, AZ_PATROL_READ, "patrol round", round_load, NULL);
}

static void rounds_h(req_t *r)
{
    char pb[64], state[32], kind[32];
    const char *fp, *fs = NULL, *fk = NULL;
    if (http_authorize_role(r, AZ_PATROL_READ) != 0 || query_project(r, pb, sizeof pb, &fp) != 0)
        return;
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (strcmp(state, "in_progress") && strcmp(state, "finished")) {
            http_problem(r, 400, "invalid_query", "state is in_progress or finished");
            return;
        }
        fs = state;
    }
    if (http_query(r, "kind", kind, sizeof kind) >= 0) {
        if (core_patrol_kind_from_string(kind) < 0) {
            http_problem(r, 400, "invalid_query",
                         "kind is quality, building, vacant_units or night");
            return;
        }
        fk = kind;
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_patrol_round_list(c, r->principal.org_id, http_scope_projects(r), fp, fs, fk,
                                         pg.cursor_ts, pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

/* Begins a transaction and locks round `id` for AZ_PATROL_WRITE; 404/403 sent and rolled
 * back on refusal.  Returns the row or NULL. */
static PGresult *lock_round(req_t *r, db_conn_t *c, const char *id)
{
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return NULL;
    }
    PGresult *row = db_patrol_round_lock(c, r->principal.org_id, id);
    if (!db_ok(row)) {
        http_db_error(r, row);
    } else if (PQntuples(row) != 1) {
        http_problem(r, 404, "not_found", "no patrol round with this id in your scope");
    } else {
        az_target_t t = {r->principal.org_id, PQgetvalue(row, 0, 0), NULL, NULL, NULL};
        if (http_authorize(r, AZ_PATROL_WRITE, &t) == 0) {
            if (strcmp(PQgetvalue(row, 0, 2), "in_progress") == 0)
                return row;
            http_problem(r, 409, "round_finished", "the round has finished; it takes no more");
        }
    }
    PQclear(row);
    db_rollback(c);
    return NULL;
}

static void checks_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_PATROL_WRITE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"checks", NULL};
    if (http_known_fields(r, "checklist answers", known) != 0)
        return;
    const cJSON *ch = cJSON_GetObjectItem(r->json, "checks");
    if (!cJSON_IsObject(ch) || !ch->child) {
        http_invalid(r, NULL, "checks", ch ? "invalid_field" : "missing_field",
                     ch ? "invalid_type" : "required",
                     "'checks' maps checklist points (\"cleaning.roads\", …) to \"ok\"");
        return;
    }
    db_conn_t *c = http_db(r);
    PGresult *row;
    if (!c || !(row = lock_round(r, c, id)))
        return;
    patrol_kind_t kind = (patrol_kind_t)core_patrol_kind_from_string(PQgetvalue(row, 0, 1));
    cJSON *cur = cJSON_Parse(PQgetvalue(row, 0, 4));
    const cJSON *m;
    char *s = NULL, *json = NULL;
    cJSON_ArrayForEach(m, ch)
    {
        if (!core_patrol_point_applies(kind, m->string)) {
            http_invalid(r, ch, m->string, "invalid_field", "not_applicable",
                         "'%s' is not a checklist point of a %s round", m->string,
                         core_patrol_kind_name(kind));
            goto fail;
        }
        const char *v = cJSON_GetStringValue(m);
        if (!v || strcmp(v, "ok")) {
            http_invalid(r, ch, m->string, "invalid_field", "invalid_enum",
                         "a point is answered \"ok\"; a problem is recorded as a finding (POST "
                         "…/findings), which marks its point");
            goto fail;
        }
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cur, m->string)) ?: "", "finding")) {
            http_problem(r, 409, "point_has_finding",
                         "'%s' has a finding on this round; it cannot be answered ok", m->string);
            goto fail;
        }
    }
    s = cJSON_PrintUnformatted(ch);
    if (!s || db_patrol_round_checks(c, r->principal.org_id, id, s) != 0 ||
        !(json = db_patrol_round_json(c, r->principal.org_id, id)) || db_commit(c) != 0) {
        db_rollback(c);
        http_db_fail(r, "nothing was changed");
    } else {
        http_send_json(r, 200, json, NULL);
    }
    goto out;
fail:
    db_rollback(c);
out:
    cJSON_Delete(cur);
    PQclear(row);
    free(s);
    free(json);
}

static void finding_create_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_PATROL_WRITE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"point",     "description",    "location",
                                        "photo_id",  "owner_related",  "follow_up_id",
                                        "reply_due", "responsible_id", NULL};
    if (http_known_fields(r, "a finding", known) != 0)
        return;
    api_err_t e = {0};
    db_finding_new_t n = {0};
    int64_t reply = 0;
    const cJSON *own = cJSON_GetObjectItem(r->json, "owner_related");
    if (api_req_str(r->json, "point", 64, &n.point, &e) < 0 ||
        api_req_str(r->json, "description", 2000, &n.description, &e) < 0 ||
        api_req_str(r->json, "location", 200, &n.location, &e) < 0 ||
        api_opt_uuid(r->json, "photo_id", &n.photo, &e) < 0 ||
        api_opt_uuid(r->json, "follow_up_id", &n.follow_up, &e) < 0 ||
        api_opt_uuid(r->json, "responsible_id", &n.responsible, &e) < 0 ||
        api_opt_time(r->json, "reply_due", &reply, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    if (own && !cJSON_IsBool(own)) {
        http_invalid(r, NULL, "owner_related", "invalid_field", "invalid_type",
                     "'owner_related' must be true or false");
        return;
    }
    n.owner_related = cJSON_IsTrue(own);
    if (n.owner_related && (!n.follow_up || !reply)) {
        http_invalid(r, NULL, n.follow_up ? "reply_due" : "follow_up_id", "missing_field",
                     "required",
                     "an owner-related finding needs a follow-up person (follow_up_id) and a "
                     "reply time limit (reply_due), 004 一.3 (5)");
        return;
    }
    if (reply && reply <= (int64_t)time(NULL)) {
        http_invalid(r, NULL, "reply_due", "invalid_field", "out_of_range",
                     "'reply_due' must lie in the future");
        return;
    }
    char rd[32];
    if (reply)
        rfc3339_format(reply, rd);
    n.reply_due = reply ? rd : NULL;
    db_conn_t *c = http_db(r);
    PGresult *row;
    if (!c || !(row = lock_round(r, c, id)))
        return;
    char *bad = NULL, *fid = NULL, *json = NULL;
    patrol_kind_t kind = (patrol_kind_t)core_patrol_kind_from_string(PQgetvalue(row, 0, 1));
    if (!core_patrol_point_applies(kind, n.point)) {
        db_rollback(c);
        http_invalid(r, NULL, "point", "invalid_field", "not_applicable",
                     "'%s' is not a checklist point of a %s round", n.point,
                     core_patrol_kind_name(kind));
        goto out;
    }
    n.org = r->principal.org_id;
    n.project = PQgetvalue(row, 0, 0);
    n.round = id;
    n.by = r->principal.user_id;
    if (n.photo) {
        int ph = db_patrol_photo_of_round(c, n.org, id, n.photo);
        if (ph != 1) {
            db_rollback(c);
            if (ph < 0)
                http_db_fail(r, "the finding was not recorded");
            else
                http_invalid(r, NULL, "photo_id", "invalid_field", "not_found",
                             "'photo_id' names no photo of this round (POST "
                             "/v1/patrol-rounds/{id}/photos first)");
            goto out;
        }
    }
    bad = db_patrol_check_people(c, n.org, n.project, n.follow_up, n.responsible, NULL);
    if (bad && bad[0]) {
        db_rollback(c);
        http_invalid(r, NULL, bad, "invalid_field", "not_found",
                     "'%s' names no active staff member of the project", bad);
        goto out;
    }
    if (!bad || !(fid = db_patrol_finding_create(c, &n)) ||
        !(json = db_patrol_finding_json(c, n.org, fid)) || db_commit(c) != 0) {
        db_rollback(c);
        http_db_fail(r, "the finding was not recorded");
        goto out;
    }
    http_send_json(r, 201, json, NULL);
out:
    PQclear(row);
    free(bad);
    free(fid);
    free(json);
}

static void finish_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_PATROL_WRITE) != 0)
        return;
    if (r->body_len == 0)
        r->json = cJSON_CreateObject();
    else if (http_json_body(r) != 0)
        return;
    static const char *const known[] = {"reason", NULL};
    if (!cJSON_IsObject(r->json)) {
        http_problem(r, 400, "invalid_body", "send a JSON object");
        return;
    }
    if (http_known_fields(r, "finishing a round", known) != 0)
        return;
    api_err_t e = {0};
    const char *reason = NULL;
    if (api_opt_str(r->json, "reason", 1000, &reason, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    db_conn_t *c = http_db(r);
    PGresult *row, *und = NULL;
    char *json = NULL;
    if (!c || !(row = lock_round(r, c, id)))
        return;
    und = db_patrol_undisposed(c, id);
    if (!db_ok(und) || PQntuples(und) != 1)
        goto dbfail;
    patrol_kind_t kind = (patrol_kind_t)core_patrol_kind_from_string(PQgetvalue(row, 0, 1));
    cJSON *checks = cJSON_Parse(PQgetvalue(row, 0, 4)), *missing = cJSON_CreateArray();
    for (int i = 0; core_patrol_points[i]; i++)
        if (core_patrol_point_applies(kind, core_patrol_points[i]) &&
            !cJSON_GetStringValue(cJSON_GetObjectItem(checks, core_patrol_points[i])))
            cJSON_AddItemToArray(missing, cJSON_CreateString(core_patrol_points[i]));
    cJSON_Delete(checks);
    patrol_finish_t f = {strtoll(PQgetvalue(row, 0, 3), NULL, 10), (int64_t)time(NULL),
                         reason != NULL, atoi(PQgetvalue(und, 0, 1)), cJSON_GetArraySize(missing)};
    patrol_verdict_t v = core_patrol_finish_check(&f);
    if (v.status) {
        db_rollback(c);
        if (v.status == 409) {
            char *ms = cJSON_PrintUnformatted(missing);
            int und_first = !strcmp(v.code, "findings_not_disposed");
            problem_list(r, 409, v.code, v.detail, und_first ? "findings" : "points",
                         und_first ? PQgetvalue(und, 0, 0) : (ms ? ms : "[]"));
            free(ms);
        } else {
            http_invalid(r, NULL, "reason", v.code, "required", "%s (started %lld minutes ago)",
                         v.detail, (long long)((f.now - f.started_at) / 60));
        }
        cJSON_Delete(missing);
        goto out;
    }
    cJSON_Delete(missing);
    if (db_patrol_round_finish(c, r->principal.org_id, id, r->principal.user_id, reason) != 0 ||
        !(json = db_patrol_round_json(c, r->principal.org_id, id)) || db_commit(c) != 0)
        goto dbfail;
    http_send_json(r, 200, json, NULL);
    goto out;
dbfail:
    db_rollback(c);
    http_db_fail(r, "the round was not finished");
out:
    PQclear(row);
    PQclear(und);
    free(json);
}

/* ---- findings -------------------------------------------------------------------------- */

static int finding_load(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)arg;
    f->json = db_patrol_finding_json(c, r->principal.org_id, id);
    if (!f->json)
        return 0;
    cJSON *j = cJSON_Parse(f->json);
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "project_id"));
    snprintf(f->project_id, sizeof f->project_id, "%s", p ? p : "");
    cJSON_Delete(j);
    return 1;
}

static void finding_get_h(req_t *r)
{
    http_get_one(r, AZ_PATROL_READ, "patrol finding", finding_load, NULL);
}

/* POST /v1/patrol-rounds/{id}/photos: a photo taken on a round in progress, recorded as a
 * request attachment is (the file itself in object storage); an image type. */
static void photo_add_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_PATROL_WRITE) != 0 || http_json_body(r) != 0)
        return;
    const char *vals[6];
    char size[32];
    if (api_attachment_fields(r, NULL, vals, size) != 0)
        return;
    if (strncmp(vals[1], "image/", 6) != 0) {
        http_invalid(r, NULL, "content_type", "invalid_field", "invalid_format",
                     "a patrol photo is an image: 'content_type' image/...");
        return;
    }
    db_conn_t *c = http_db(r);
    PGresult *row;
    if (!c || !(row = lock_round(r, c, id)))
        return;
    char *json = db_patrol_photo_add(c, r->principal.org_id, PQgetvalue(row, 0, 0), id, vals,
                                     r->principal.user_id);
    PQclear(row);
    if (!json || db_commit(c) != 0) {
        free(json);
        db_rollback(c);
        http_db_fail(r, "the photo was not recorded");
        return;
    }
    http_send_json(r, 201, json, NULL);
    free(json);
}

static int photo_load(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)arg;
    f->json = db_patrol_photo_json(c, r->principal.org_id, id);
    if (!f->json)
        return 0;
    cJSON *j = cJSON_Parse(f->json);
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "project_id"));
    snprintf(f->project_id, sizeof f->project_id, "%s", p ? p : "");
    cJSON_Delete(j);
    return 1;
}

static void photo_get_h(req_t *r)
{
    http_get_one(r, AZ_PATROL_READ, "patrol photo", photo_load, NULL);
}

/* The service request of a finding: the client's `request` object (type, title,
 * description, location, severity, category, reporter …) over defaults from the finding;
 * channel patrol, the finding's project. */
static cJSON *request_body(const cJSON *given, const char *project, const char *desc,
                           const char *location)
{
    cJSON *b = given ? cJSON_Duplicate(given, 1) : cJSON_CreateObject();
    cJSON_DeleteItemFromObject(b, "channel");
    cJSON_AddStringToObject(b, "channel", "patrol");
    cJSON_DeleteItemFromObject(b, "project_id");
    cJSON_AddStringToObject(b, "project_id", project);
    if (!cJSON_GetObjectItem(b, "type"))
        cJSON_AddStringToObject(b, "type", "repair");
    if (!cJSON_GetObjectItem(b, "description"))
        cJSON_AddStringToObject(b, "description", desc);
    if (!cJSON_GetObjectItem(b, "location")) {
        cJSON *l = cJSON_AddObjectToObject(b, "location");
        cJSON_AddStringToObject(l, "common_area", location);
    }
    if (!cJSON_GetObjectItem(b, "reporter")) {
        cJSON *p = cJSON_AddObjectToObject(b, "reporter");
        cJSON_AddStringToObject(p, "name", "巡检 patrol");
    }
    return b;
}

static void dispose_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_PATROL_WRITE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const known[] = {"disposition", "note", "rectification", "request", NULL};
    if (http_known_fields(r, "a disposition", known) != 0)
        return;
    api_err_t e = {0};
    const char *disp, *note = NULL;
    if (api_req_str(r->json, "disposition", 32, &disp, &e) < 0 ||
        api_opt_str(r->json, "note", 2000, &note, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    int d = core_patrol_disposition_from_string(disp);
    if (d < 0) {
        char list[128];
        core_patrol_disposition_list(list, sizeof list);
        http_invalid(r, NULL, "disposition", "invalid_field", "invalid_enum",
                     "'disposition' is one of %s", list);
        return;
    }
    const cJSON *rect = cJSON_GetObjectItem(r->json, "rectification"),
                *rq = cJSON_GetObjectItem(r->json, "request");
    if (d == PATROL_FIXED_ON_SPOT && !note) {
        http_invalid(r, NULL, "note", "missing_field", "required",
                     "a finding fixed on the spot needs a note of what was done");
        return;
    }
    if ((d == PATROL_RECTIFICATION) != (rect != NULL) || (rq && d != PATROL_REQUEST)) {
        http_invalid(r, NULL, d == PATROL_RECTIFICATION || rect ? "rectification" : "request",
                     "invalid_field", "not_applicable",
                     "'rectification' goes with disposition rectification (and is required for "
                     "it), 'request' only with disposition request");
        return;
    }
    if (rect) {
        static const char *const rk[] = {"title",  "department_id", "responsible_id",
                                         "due_at", "problem",       NULL};
        static const char *const req[] = {"department_id", "responsible_id", "due_at", NULL};
        if (!cJSON_IsObject(rect) || api_only_known(rect, rk, "a rectification", &e) < 0) {
            if (!e.status)
                http_invalid(r, NULL, "rectification", "invalid_field", "invalid_type",
                             "'rectification' is an object");
            else
                api_err_send(r, &e);
            return;
        }
        for (const char *const *k = req; *k; k++)
            if (!cJSON_GetObjectItem(rect, *k)) {
                http_invalid(r, rect, *k, "missing_field", "required",
                             "a rectification names the responsible department, the responsible "
                             "person and the completion time (004 一.3 (4))");
                return;
            }
    }
    if (rq && !cJSON_IsObject(rq)) {
        http_invalid(r, NULL, "request", "invalid_field", "invalid_type", "'request' is an object");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    PGresult *row = db_patrol_finding_lock(c, r->principal.org_id, id);
    char *capa = NULL, *reqjson = NULL, *json = NULL, *src = NULL;
    cJSON *rb = NULL, *rc = NULL, *rj = NULL;
    if (!db_ok(row)) {
        http_db_error(r, row);
        goto fail;
    }
    if (PQntuples(row) != 1) {
        http_problem(r, 404, "not_found", "no patrol finding with this id in your scope");
        goto fail;
    }
    const char *project = PQgetvalue(row, 0, 0);
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_PATROL_WRITE, &t) != 0)
        goto fail;
    if (PQgetvalue(row, 0, 2)[0]) {
        http_problem(r, 409, "already_disposed", "the finding was already disposed of (%s)",
                     PQgetvalue(row, 0, 2));
        goto fail;
    }
    const char *desc = PQgetvalue(row, 0, 4), *loc = PQgetvalue(row, 0, 5);
    const char *request_id = NULL;
    if (d == PATROL_RECTIFICATION) {
        rc = cJSON_Duplicate(rect, 1);
        if (!cJSON_GetObjectItem(rc, "title")) {
            char title[200];
            snprintf(title, sizeof title, "巡检整改: %.150s", loc);
            cJSON_AddStringToObject(rc, "title", title);
        }
        if (!cJSON_GetObjectItem(rc, "problem"))
            cJSON_AddStringToObject(rc, "problem", desc);
        cJSON *sa = cJSON_CreateArray(), *so = cJSON_CreateObject();
        cJSON_AddStringToObject(so, "kind", "patrol_finding");
        cJSON_AddStringToObject(so, "id", id);
        cJSON_AddItemToArray(sa, so);
        src = cJSON_PrintUnformatted(sa);
        cJSON_Delete(sa);
        int st = api_capa_create_in(r, c, rc, project, "rectification", src, &capa, &e);
        if (st > 0) {
            /* point at the member of the body's rectification object */
            if (e.at == rc)
                e.at = rect;
            api_err_send(r, &e);
            goto fail;
        }
        if (st < 0)
            goto dbfail;
    } else if (d == PATROL_REQUEST) {
        rb = request_body(rq, project, desc, loc);
        int st = api_request_create_one(r, c, rb, &reqjson, &e);
        if (st >= 300) {
            api_err_send(r, &e);
            goto fail;
        }
        rj = cJSON_Parse(reqjson);
        request_id = cJSON_GetStringValue(cJSON_GetObjectItem(rj, "id"));
        if (!request_id)
            goto dbfail;
    }
    if (db_patrol_finding_dispose(c, r->principal.org_id, id, disp, note, capa, request_id,
                                  r->principal.user_id) != 0 ||
        !(json = db_patrol_finding_json(c, r->principal.org_id, id)) || db_commit(c) != 0)
        goto dbfail;
    http_send_json(r, 200, json, NULL);
    goto out;
dbfail:
    db_rollback(c);
    http_db_fail(r, "the finding was not disposed of");
    goto out;
fail:
    db_rollback(c);
out:
    PQclear(row);
    cJSON_Delete(rb);
    cJSON_Delete(rc);
    cJSON_Delete(rj);
    free(capa);
    free(reqjson);
    free(json);
    free(src);
}

/* ---- the day's view -------------------------------------------------------------------- */

static int valid_day(const char *s)
{
    int y, m, d;
    char extra;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) == 3 && y >= 2000 &&
           y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static void daily_h(req_t *r)
{
    char pb[64], day[16];
    const char *project;
    if (http_authorize_role(r, AZ_PATROL_READ) != 0 ||
        query_project(r, pb, sizeof pb, &project) != 0)
        return;
    if (!project) {
        http_problem(r, 400, "invalid_query", "project_id is required");
        return;
    }
    int has_day = http_query(r, "date", day, sizeof day) >= 0;
    if (has_day && !valid_day(day)) {
        http_problem(r, 400, "invalid_query", "date is a local date YYYY-MM-DD");
        return;
    }
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_PATROL_READ, &t) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *today = db_patrol_today(c, r->principal.org_id, project);
    if (!today) {
        http_problem(r, 404, "not_found", "no project with this id in your scope");
        return;
    }
    if (!has_day)
        snprintf(day, sizeof day, "%s", today);
    free(today);
    PGresult *s = db_patrol_day_slots(c, r->principal.org_id, project, day);
    char *rest = db_patrol_day_rest(c, r->principal.org_id, project, day);
    if (!db_ok(s) || !rest) {
        PQclear(s);
        free(rest);
        http_db_fail(r, NULL);
        return;
    }
    cJSON *out = cJSON_Parse(rest);
    free(rest);
    if (!out)
        out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "project_id", project);
    cJSON_AddStringToObject(out, "date", day);
    cJSON *slots = cJSON_AddArrayToObject(out, "slots");
    int64_t now = (int64_t)time(NULL);
    int counts[SLOT__COUNT] = {0};
    for (int i = 0; i < PQntuples(s); i++) {
        patrol_slot_t st = core_patrol_slot_status(
            strtoll(PQgetvalue(s, i, 2), NULL, 10), atoi(PQgetvalue(s, i, 3)),
            strtoll(PQgetvalue(s, i, 5), NULL, 10), strtoll(PQgetvalue(s, i, 6), NULL, 10), now);
        counts[st]++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", PQgetvalue(s, i, 0));
        cJSON_AddStringToObject(o, "planned_at", PQgetvalue(s, i, 1));
        cJSON_AddNumberToObject(o, "grace_minutes", atoi(PQgetvalue(s, i, 3)));
        cJSON_AddStringToObject(o, "status", core_patrol_slot_name(st));
        if (PQgetvalue(s, i, 4)[0])
            cJSON_AddStringToObject(o, "round_id", PQgetvalue(s, i, 4));
        else
            cJSON_AddNullToObject(o, "round_id");
        cJSON_AddItemToArray(slots, o);
    }
    PQclear(s);
    cJSON *sum = cJSON_AddObjectToObject(out, "summary");
    for (int k = 0; k < SLOT__COUNT; k++)
        cJSON_AddNumberToObject(sum, core_patrol_slot_name((patrol_slot_t)k), counts[k]);
    cJSON_AddNumberToObject(sum, "open_findings",
                            cJSON_GetArraySize(cJSON_GetObjectItem(out, "open_findings")));
    http_send_cjson(r, 200, out, NULL);
    cJSON_Delete(out);
}

void api_patrol_register(void)
{
    http_route("POST", "/v1/patrol-plans", plan_put_h, 0, NULL);
    http_route("GET", "/v1/patrol-plans", plans_h, 0, NULL);
    http_route("POST", "/v1/patrol-rounds", round_create_h, 0, NULL);
    http_route("GET", "/v1/patrol-rounds", rounds_h, 0, NULL);
    http_route("GET", "/v1/patrol-rounds/daily", daily_h, 0, NULL);
    http_route("GET", "/v1/patrol-rounds/{id}", round_get_h, 0, NULL);
    http_route("POST", "/v1/patrol-rounds/{id}/checks", checks_h, 0, NULL);
    http_route("POST", "/v1/patrol-rounds/{id}/findings", finding_create_h, 0, NULL);
    http_route("POST", "/v1/patrol-rounds/{id}/finish", finish_h, 0, NULL);
    http_route("POST", "/v1/patrol-rounds/{id}/photos", photo_add_h, 0, NULL);
    http_route("GET", "/v1/patrol-photos/{id}", photo_get_h, 0, NULL);
    http_route("GET", "/v1/patrol-findings/{id}", finding_get_h, 0, NULL);
    http_route("POST", "/v1/patrol-findings/{id}/dispose", dispose_h, 0, NULL);
}
