/*
 * api/callback.c — callbacks over HTTP (RULES §3.1): the tasks a resolution opens, the
 * attempts recorded on them (the derived outcome closes or reopens the request, or opens
 * a linked complaint for a repair), giving up, the resident's own answer in the app, the
 * desk's lists and the month's figures.  A survey response's task (kind survey, opened by a
 * 不太满意 answer in api/survey_response.c) touches no request: its dissatisfied attempt
 * opens a complaint (channel survey) and the rest finish it.  Rules come from core/callback.c and
 * the request's change from core_request_effect(); this file parses, loads, stores and answers.
 * Writes lock the request first, then the task, in one transaction.
 */
#include "api/api.h"
#include "api/callback.h"
#include "api/codec.h"
#include "api/request.h"
#include "core/callback.h"
#include "core/request.h"
#include "core/request_effect.h"
#include "db/callback.h"
#include "db/sla.h"
#include "svc/sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- shared */

static void verdict_send(req_t *r, const cJSON *body, const cb_verdict_t *v)
{
    if (v->status == 422)
        http_invalid(r, body, v->field, v->code, v->code, "%s", v->reason);
    else
        http_problem(r, v->status, v->code, "%s", v->reason);
}

static int fail_rb(req_t *r, db_conn_t *c, const char *what)
{
    db_rollback(c);
    http_db_fail(r, what);
    return -1;
}

int api_callback_sync(db_conn_t *c, const char *org, const char *request_id, const char *actor)
{
    cb_request_t q;
    int f = db_callback_request(c, org, request_id, &q);
    if (f <= 0)
        return f;
    if (strcmp(q.state, "resolved") != 0 && strcmp(q.state, "callback") != 0)
        /* The request moved on while its task was open: closed without a callback (today's
         * "give up" through close) or back into work (reopened, ...). */
        return db_callback_task_abandon(
            c, org, request_id, !strcmp(q.state, "closed") ? "given_up" : "cancelled",
            q.explanation[0] ? q.explanation : "closed without a callback");
    request_type_t type = (request_type_t)core_request_type_from_string(q.type);
    int valid = !strcmp(q.validity, "valid")     ? REQ_VALIDITY_VALID
                : !strcmp(q.validity, "invalid") ? REQ_VALIDITY_INVALID
                                                 : REQ_VALIDITY_UNKNOWN;
    if (!core_callback_automatic(type, valid))
        return 0;
    char id[40];
    return db_callback_task_create(
        c, org, request_id, core_callback_kind_name(core_callback_kind_for(type)),
        core_role_name(core_callback_min_role(type, core_request_severity_from_string(q.severity))),
        0, actor, id);
}

/* An attempt as parsed from a body. */
typedef struct attempt {
    const cJSON *body;
    callback_attempt_in_t in;
    const char *notes, *signer, *signature;
    int64_t occurred;
} attempt_t;

static const char *const attempt_fields[] = {
    "method",      "reached",   "rating",  "notes", "signer_name", "signature_attachment_id",
    "occurred_at", "satisfied", "outcome", NULL};

/* Reads an attempt body (strings point into it).  0, or -1 with the problem sent. */
static int read_attempt(req_t *r, const cJSON *b, int resident, int legacy, attempt_t *a)
{
    api_err_t e = {0};
    const char *method = NULL, *rating = NULL, *outcome = NULL;
    memset(a, 0, sizeof *a);
    a->body = b;
    a->in.method = a->in.reached = a->in.rating = a->in.client_satisfied = a->in.client_outcome =
        -1;
    a->in.resident = resident;
    if ((!legacy && api_only_known(b, attempt_fields, "a callback attempt", &e) < 0) ||
        api_opt_enum(b, "method", core_callback_method_from_string, core_callback_method_list,
                     &method, &e) < 0 ||
        api_opt_enum(b, "rating", core_callback_rating_from_string, core_callback_rating_list,
                     &rating, &e) < 0 ||
        api_opt_enum(b, "outcome", core_callback_outcome_from_string, core_callback_outcome_list,
                     &outcome, &e) < 0 ||
        api_opt_str(b, "notes", 4000, &a->notes, &e) < 0 ||
        api_opt_str(b, "signer_name", 100, &a->signer, &e) < 0 ||
        api_opt_uuid(b, "signature_attachment_id", &a->signature, &e) < 0 ||
        api_opt_time(b, "occurred_at", &a->occurred, &e) < 0) {
        api_err_send(r, &e);
        return -1;
    }
    const cJSON *reached = cJSON_GetObjectItemCaseSensitive(b, "reached");
    const cJSON *sat = cJSON_GetObjectItemCaseSensitive(b, "satisfied");
    if ((reached && !cJSON_IsBool(reached)) || (sat && !cJSON_IsBool(sat))) {
        http_invalid(r, b, reached && !cJSON_IsBool(reached) ? "reached" : "satisfied",
                     "invalid_field", "invalid_type",
                     "'reached' and 'satisfied' are true or false");
        return -1;
    }
    if (resident && a->occurred) {
        http_invalid(r, b, "occurred_at", "invalid_field", "not_allowed",
                     "only staff may record a past 'occurred_at'");
        return -1;
    }
    if (resident) {
        a->in.method = method ? core_callback_method_from_string(method) : CB_METHOD_APP;
        a->in.reached = reached ? cJSON_IsTrue(reached) : 1;
    } else {
        a->in.method = method ? core_callback_method_from_string(method) : -1;
        a->in.reached = reached ? cJSON_IsTrue(reached) : -1;
    }
    a->in.rating = rating ? core_callback_rating_from_string(rating) : -1;
    a->in.client_outcome = outcome ? core_callback_outcome_from_string(outcome) : -1;
    a->in.client_satisfied = sat ? cJSON_IsTrue(sat) : -1;
    a->in.signer_given = a->signer && a->signer[0];
    a->in.signature_given = a->signature != NULL;
    return 0;
}

/* Opens complaint b (consumed) in c's transaction through the request intake; its id into
 * out.  0, or -1 with c rolled back and 409 follow_up_failed (5xx kept) sent: what names the
 * complaint in the detail. */
static int open_complaint(req_t *r, db_conn_t *c, cJSON *b, const char *what, char out[40])
{
    api_err_t e = {0};
    if (api_request_open_followup(r, c, b, out, &e) == 0)
        return 0;
    db_rollback(c);
    http_problem(r, e.status >= 500 ? e.status : 409, "follow_up_failed",
                 "%s could not be opened (%s); nothing was recorded", what, e.detail);
    return -1;
}

/* The follow-up complaint of a dissatisfied repair callback: a complaint about the same
 * place, opened one ladder level above the repair.  0 (id in out), or -1 sent and rolled
 * back. */
static int follow_up_complaint(req_t *r, db_conn_t *c, const char *request_id,
                               const request_row_t *row, const attempt_t *a, const char *occ,
                               char out[40])
{
    cb_request_t q;
    if (db_callback_request(c, r->principal.org_id, request_id, &q) != 1)
        return fail_rb(r, c, NULL);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "complaint");
    const char *m = core_callback_method_name((callback_method_t)a->in.method);
    cJSON_AddStringToObject(b, "channel", !strcmp(m, "sms") ? "other" : m);
    cJSON_AddStringToObject(b, "category", "quality");
    cJSON *loc = cJSON_AddObjectToObject(b, "location");
    if (q.unit[0]) {
        cJSON_AddStringToObject(loc, "unit_id", q.unit);
    } else {
        cJSON_AddStringToObject(b, "project_id", q.project);
        cJSON_AddStringToObject(loc, "common_area", "见报修单");
    }
    if (r->principal.role != ROLE_RESIDENT) { /* the repair's customer complains */
        cJSON *rep = cJSON_AddObjectToObject(b, "reporter");
        if (q.reporter_resident[0])
            cJSON_AddStringToObject(rep, "resident_id", q.reporter_resident);
        else
            cJSON_AddStringToObject(rep, "name", q.reporter_name[0] ? q.reporter_name : "报修人");
        if (!q.reporter_resident[0] && q.reporter_phone[0])
            cJSON_AddStringToObject(rep, "phone", q.reporter_phone);
    }
    char desc[4200];
    snprintf(desc, sizeof desc, "维修回访不满意（%s）：%s",
             core_callback_rating_label((callback_rating_t)a->in.rating),
             a->notes && a->notes[0] ? a->notes : "住户对维修结果不满意");
    cJSON_AddStringToObject(b, "title", "维修回访不满意");
    cJSON_AddStringToObject(b, "description", desc);
    if (open_complaint(r, c, b, "the dissatisfied repair's follow-up complaint", out) != 0)
        return -1;
    int level =
        row->escalation_level + 1 > SLA_TOP_LEVEL ? SLA_TOP_LEVEL : row->escalation_level + 1;
    char ch[160];
    snprintf(ch, sizeof ch, "{\"escalation_inc\":%d,\"last_event_at\":\"%s\"}", level, occ);
    PGresult *res = db_request_apply(c, out, r->principal.org_id, 1, ch);
    int ok = db_ok(res) && PQntuples(res) == 1;
    PQclear(res);
    if (!ok || db_sla_notify_ladder(c, r->principal.org_id, row->sc.project_id, out, level,
                                    "callback_dissatisfied",
                                    "{\"reason\":\"dissatisfied repair callback\"}") != 0)
        return fail_rb(r, c, NULL);
    return 0;
}

/* A reached attempt's change to the request: core's callback_result effect, stored as the
 * request actions store theirs (ladder notice, timeline event, columns).  *applied gets
 * the request's updated JSON result.  0, or -1 sent and rolled back. */
static int apply_outcome(req_t *r, db_conn_t *c, const char *request_id, const request_row_t *row,
                         const attempt_t *a, int outcome, const char *task_id,
                         const char *follow_up, const char *occ, PGresult **applied)
{
    request_facts_t f;
    memset(&f, 0, sizeof f);
    f.state = (request_state_t)core_request_state_from_string(row->state);
    if (f.state == REQ_STATE_RESOLVED) /* an open task is the request's callback phase */
        f.state = REQ_STATE_CALLBACK;
    f.type = (request_type_t)core_request_type_from_string(row->type);
    f.channel = (request_channel_t)core_request_channel_from_string(row->channel);
    f.location_kind = (location_kind_t)core_request_location_kind_from_string(row->location_kind);
    f.is_valid_complaint = REQ_VALIDITY_UNKNOWN;
    f.pending_reason = -1;
    f.reopen_count = row->reopen_count;
    f.escalation_level = row->escalation_level;
    /* Who may answer was judged by core/callback.c (a resident answers their own in the
     * app); the request's transition records the desk's callback result. */
    f.actor_role = r->principal.role == ROLE_RESIDENT ? ROLE_AGENT : r->principal.role;
    f.callback_satisfied = outcome != CB_OUTCOME_REOPENED;
    int64_t now = (int64_t)time(NULL);
    request_effect_t eff;
    if (core_request_effect(&f, REQ_ACTION_CALLBACK_RESULT, NULL, a->occurred, now, &eff) != 0) {
        db_rollback(c);
        int st = core_request_code_http_status(eff.verdict.code);
        http_problem(r, st == 200 ? 409 : st, eff.verdict.code, "%s", eff.verdict.reason);
        return -1;
    }
    const char *org = r->principal.org_id;
    if (eff.notify_level > 0 &&
        db_sla_notify_ladder(c, org, row->sc.project_id, request_id, eff.notify_level,
                             eff.notify_kind, "{\"reason\":\"dissatisfied callback\"}") != 0)
        return fail_rb(r, c, NULL);
    cJSON *d = cJSON_CreateObject();
    callback_rating_t rt = (callback_rating_t)a->in.rating;
    cJSON_AddStringToObject(d, "task_id", task_id);
    cJSON_AddStringToObject(d, "rating", core_callback_rating_name(rt));
    cJSON_AddStringToObject(d, "rating_label", core_callback_rating_label(rt));
    cJSON_AddBoolToObject(d, "satisfied", core_callback_rating_satisfied(rt) == 1);
    cJSON_AddStringToObject(d, "outcome", core_callback_outcome_name((callback_outcome_t)outcome));
    cJSON_AddStringToObject(d, "method",
                            core_callback_method_name((callback_method_t)a->in.method));
    if (a->notes)
        cJSON_AddStringToObject(d, "note", a->notes);
    if (follow_up)
        cJSON_AddStringToObject(d, "follow_up_request_id", follow_up);
    if (eff.event_paper_record)
        cJSON_AddBoolToObject(d, "paper_record", 1);
    if (eff.event_reopen_count)
        cJSON_AddNumberToObject(d, "reopen_count", eff.event_reopen_count);
    char *dj = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    const char *to = core_request_state_name((request_state_t)eff.verdict.new_state);
    PGresult *e = db_request_event(c, org, request_id, row->last_seq + 1, r->principal.user_id,
                                   core_role_name(r->principal.role), "callback_result", row->state,
                                   to, row->channel, occ, dj);
    free(dj);
    int ok = db_ok(e);
    PQclear(e);
    if (!ok)
        return fail_rb(r, c, NULL);
    cJSON *ch = cJSON_CreateObject();
    for (int i = 0; i < REQ_FIELD__COUNT; i++) {
        const request_field_change_t *fc = &eff.field[i];
        const char *name = core_request_field_name((request_field_t)i);
        char ts[32];
        if (fc->op == REQ_FIELD_SET_TEXT) {
            cJSON_AddStringToObject(ch, name, fc->text);
        } else if (fc->op == REQ_FIELD_SET_TIME) {
            rfc3339_format(fc->time, ts);
            cJSON_AddStringToObject(ch, name, ts);
        } else if (fc->op == REQ_FIELD_SET_NULL) {
            cJSON_AddNullToObject(ch, name);
        }
    }
    if (eff.escalation_inc)
        cJSON_AddNumberToObject(ch, "escalation_inc", eff.escalation_inc);
    if (eff.reopen_inc)
        cJSON_AddNumberToObject(ch, "reopen_inc", eff.reopen_inc);
    char *cj = cJSON_PrintUnformatted(ch);
    cJSON_Delete(ch);
    *applied = db_request_apply(c, request_id, org, core_authz_sees_pii(r->principal.role), cj);
    free(cj);
    if (!db_ok(*applied) || PQntuples(*applied) != 1) {
        PQclear(*applied);
        *applied = NULL;
        return fail_rb(r, c, NULL);
    }
    return 0;
}

/* Whether the staff caller may call task t back (core_callback_may_call).  0, or -1 sent
 * and rolled back. */
static int check_caller(req_t *r, db_conn_t *c, const cb_task_t *t, const cJSON *body)
{
    const principal_t *p = &r->principal;
    char kind[20] = "";
    int dk = p->dept_id ? db_department_kind(c, p->dept_id, p->org_id, kind) : 0;
    /* A survey task follows a household's answer: nobody did any work on it. */
    int did = t->request[0] ? db_callback_did_work(c, p->org_id, t->request, p->user_id) : 0;
    if (dk < 0 || did < 0)
        return fail_rb(r, c, NULL);
    callback_caller_t who = {p->role, dk == 1,
                             dk == 1 ? (dept_kind_t)core_dept_kind_from_string(kind) : DEPT_OTHER,
                             did, 1};
    cb_verdict_t v = core_callback_may_call(&who, (role_t)core_role_from_string(t->min_role));
    if (!v.ok) {
        db_rollback(c);
        verdict_send(r, body, &v);
        return -1;
    }
    return 0;
}

/* The complaint a survey callback rated 不满意 / 极不满意 opens (RULES §3.2.7: the survey's
 * dissatisfaction enters the complaint process): channel survey, about the household's
 * unit, linked to the response by external_ref survey/<response>/callback/<task> and by
 * the task's follow_up_request_id.  0 (id in out), or -1 sent and rolled back. */
static int survey_complaint(req_t *r, db_conn_t *c, const cb_task_t *t, const attempt_t *a,
                            char out[40])
{
    cb_survey_t s;
    int f = db_callback_survey(c, r->principal.org_id, t->survey_response, t->id, &s);
    if (f != 1)
        return fail_rb(r, c, NULL);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "complaint");
    cJSON_AddStringToObject(b, "channel", "survey");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "location"), "unit_id", s.unit);
    cJSON_AddStringToObject(b, "title", "满意度调查回访不满意");
    /* title ≤ 200 characters, items ≤ 600, notes ≤ 4000 bytes: never cut. */
    char desc[8192], ref[128];
    snprintf(desc, sizeof desc,
             "《%s》回访（%s）：%s（survey response %s, callback task %s）。业户意见：%s", s.title,
             s.items[0] ? s.items : "总体评价",
             core_callback_rating_label((callback_rating_t)a->in.rating), t->survey_response, t->id,
             a->notes && a->notes[0] ? a->notes : "住户对回访结果不满意");
    cJSON_AddStringToObject(b, "description", desc);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "reporter"), "name",
                            s.respondent[0] ? s.respondent : "满意度调查业户");
    snprintf(ref, sizeof ref, "%s/callback/%s", t->survey_response, t->id);
    cJSON *er = cJSON_AddObjectToObject(b, "external_ref");
    cJSON_AddStringToObject(er, "source", "survey");
    cJSON_AddStringToObject(er, "id", ref);
    if (open_complaint(r, c, b, "the dissatisfied survey callback's complaint", out) != 0)
        return -1;
    return out[0] ? 0 : fail_rb(r, c, NULL);
}

/* Records attempt a on the locked survey task t: judges it (core_callback_check_attempt_on
 * with the survey subject), appends it, and for a reached one finishes the task with the
 * derived outcome, opening the complaint of a dissatisfied one.  No request is touched.
 * 0, or -1 sent and rolled back. */
static int record_survey(req_t *r, db_conn_t *c, const cb_task_t *t, attempt_t *a)
{
    const principal_t *p = &r->principal;
    int64_t now = (int64_t)time(NULL);
    int outcome = -1;
    cb_verdict_t v = core_callback_check_attempt_on(
        (callback_task_state_t)core_callback_task_state_from_string(t->state),
        CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_COMPLAINT, &a->in, &outcome);
    if (!v.ok) {
        db_rollback(c);
        verdict_send(r, a->body, &v);
        return -1;
    }
    if (check_caller(r, c, t, a->body) != 0)
        return -1;
    if (!a->occurred)
        a->occurred = now;
    const char *code, *why;
    if (core_request_check_occurred_at(a->occurred, (int64_t)t->resolved_at, now, &code, &why) !=
        0) {
        db_rollback(c);
        http_invalid(r, a->body, "occurred_at", code, "out_of_range",
                     "'occurred_at': %s (a survey callback follows the answer)", why);
        return -1;
    }
    if (a->occurred > now)
        a->occurred = now;
    char occ[32];
    rfc3339_format(a->occurred, occ);
    const char *rating =
        a->in.reached ? core_callback_rating_name((callback_rating_t)a->in.rating) : NULL;
    if (db_callback_attempt_insert(c, p->org_id, t->id, NULL, p->user_id, core_role_name(p->role),
                                   occ, core_callback_method_name((callback_method_t)a->in.method),
                                   a->in.reached, rating, a->notes,
                                   a->in.signer_given ? a->signer : NULL, NULL) != 0)
        return fail_rb(r, c, "the attempt was not saved");
    if (!a->in.reached)
        return db_callback_task_touch(c, t->id) == 0 ? 0 : fail_rb(r, c, NULL);
    char follow[40] = "";
    if (outcome == CB_OUTCOME_FOLLOW_UP_COMPLAINT && survey_complaint(r, c, t, a, follow) != 0)
        return -1;
    if (db_callback_task_finish(c, t->id, "done",
                                core_callback_outcome_name((callback_outcome_t)outcome), rating,
                                follow[0] ? follow : NULL, NULL, NULL, p->user_id) != 0)
        return fail_rb(r, c, NULL);
    return 0;
}

/* Records attempt a on the locked task t of the locked request row: judges it, appends
 * it, and for a reached one applies the derived outcome and ends the task.  *applied: the
 * request's updated JSON result (reached) or NULL.  0, or -1 sent and rolled back. */
static int record(req_t *r, db_conn_t *c, const request_row_t *row, const cb_task_t *t,
                  attempt_t *a, PGresult **applied)
{
    const principal_t *p = &r->principal;
    *applied = NULL;
    int64_t now = (int64_t)time(NULL);
    int outcome = -1;
    request_type_t type = (request_type_t)core_request_type_from_string(row->type);
    cb_verdict_t v = core_callback_check_attempt(
        (callback_task_state_t)core_callback_task_state_from_string(t->state), type, &a->in,
        &outcome);
    if (!v.ok) {
        db_rollback(c);
        verdict_send(r, a->body, &v);
        return -1;
    }
    if (p->role != ROLE_RESIDENT && check_caller(r, c, t, a->body) != 0)
        return -1;
    if (a->signature) {
        int of = db_callback_attachment_of(c, p->org_id, t->request, a->signature);
        if (of < 0)
            return fail_rb(r, c, NULL);
        if (!of) {
            db_rollback(c);
            http_invalid(r, a->body, "signature_attachment_id", "invalid_field", "not_found",
                         "'signature_attachment_id' is not an attachment of this request");
            return -1;
        }
    }
    if (!a->occurred)
        a->occurred = now;
    const char *code, *why;
    if (core_request_check_occurred_at(a->occurred, row->last_event_at, now, &code, &why) != 0) {
        db_rollback(c);
        http_invalid(r, a->body, "occurred_at", code, "out_of_range", "'occurred_at': %s", why);
        return -1;
    }
    if (a->occurred > now)
        a->occurred = now;
    char occ[32];
    rfc3339_format(a->occurred, occ);
    const char *rating =
        a->in.reached ? core_callback_rating_name((callback_rating_t)a->in.rating) : NULL;
    if (db_callback_attempt_insert(
            c, p->org_id, t->id, t->request, p->user_id, core_role_name(p->role), occ,
            core_callback_method_name((callback_method_t)a->in.method), a->in.reached, rating,
            a->notes, a->in.signer_given ? a->signer : NULL, a->signature) != 0)
        return fail_rb(r, c, "the attempt was not saved");
    if (!a->in.reached)
        return db_callback_task_touch(c, t->id) == 0 ? 0 : fail_rb(r, c, NULL);
    char follow[40] = "";
    if (outcome == CB_OUTCOME_FOLLOW_UP_COMPLAINT &&
        follow_up_complaint(r, c, t->request, row, a, occ, follow) != 0)
        return -1;
    if (apply_outcome(r, c, t->request, row, a, outcome, t->id, follow[0] ? follow : NULL, occ,
                      applied) != 0)
        return -1;
    if (db_callback_task_finish(c, t->id, "done",
                                core_callback_outcome_name((callback_outcome_t)outcome), rating,
                                follow[0] ? follow : NULL, NULL, NULL, p->user_id) != 0) {
        PQclear(*applied);
        *applied = NULL;
        return fail_rb(r, c, NULL);
    }
    return 0;
}

/* Recomputes the request's clocks, commits and answers with the task. */
static void commit_task(req_t *r, db_conn_t *c, const char *request_id, const char *task_id,
                        int status)
{
    if (request_id[0] &&
        sla_refresh_request(c, r->principal.org_id, request_id, (int64_t)time(NULL), 0) != 0) {
        db_rollback(c);
        http_problem(r, 503, "sla_unavailable",
                     "the SLA clocks could not be recomputed; nothing was changed, retry");
        return;
    }
    char *j = db_callback_task_json(c, r->principal.org_id, task_id);
    if (!j || db_commit(c) != 0) {
        free(j);
        fail_rb(r, c, "the change was not saved");
        return;
    }
    http_send_json(r, status, j, NULL);
    free(j);
}

int api_callback_legacy(req_t *r, db_conn_t *c, const char *request_id, const request_row_t *row,
                        const cJSON *body, int64_t occurred, PGresult **applied)
{
    *applied = NULL;
    if (strcmp(row->state, "resolved") != 0 && strcmp(row->state, "callback") != 0) {
        db_rollback(c);
        http_problem(r, 409, "invalid_transition",
                     "a callback result is recorded on a resolved request (now %s)", row->state);
        return -1;
    }
    attempt_t a;
    if (read_attempt(r, body, 0, 1, &a) != 0) {
        db_rollback(c);
        return -1;
    }
    /* The old action is a reached phone callback; its 'note' is the attempt's notes. */
    a.in.method = CB_METHOD_PHONE;
    a.in.reached = 1;
    a.occurred = occurred;
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(body, "note");
    if (cJSON_IsString(note))
        a.notes = note->valuestring;
    cb_task_t t;
    int f = db_callback_open_task(c, r->principal.org_id, request_id, 1, &t);
    if (f == 0) { /* asked for on demand (an inquiry's start_callback, an older request) */
        char id[40];
        request_type_t type = (request_type_t)core_request_type_from_string(row->type);
        int valid = !strcmp(row->validity, "valid")     ? REQ_VALIDITY_VALID
                    : !strcmp(row->validity, "invalid") ? REQ_VALIDITY_INVALID
                                                        : REQ_VALIDITY_UNKNOWN;
        if (db_callback_task_create(c, r->principal.org_id, request_id,
                                    core_callback_kind_name(core_callback_kind_for(type)), "agent",
                                    core_callback_on_demand(type, valid), r->principal.user_id,
                                    id) != 0)
            return fail_rb(r, c, NULL);
        f = db_callback_open_task(c, r->principal.org_id, request_id, 1, &t);
    }
    if (f != 1)
        return fail_rb(r, c, NULL);
    return record(r, c, row, &t, &a, applied);
}

/* ---------------------------------------------------------------- task handlers */

/* Reads the task (no lock) and authorises `action` on its project.  0, or -1 sent. */
static int task_scope(req_t *r, db_conn_t *c, const char *id, az_action_t action, cb_task_t *t)
{
    int f = db_callback_task(c, r->principal.org_id, id, 0, t);
    if (f < 0) {
        http_db_fail(r, NULL);
        return -1;
    }
    if (f == 0) {
        http_problem(r, 404, "not_found", "no callback task with this id in your scope");
        return -1;
    }
    az_target_t tg = {r->principal.org_id, t->project, NULL, NULL, NULL};
    return http_authorize(r, action, &tg);
}

/* Locks the task's request, then the task, authorising the write (a survey task has no
 * request: the task alone, *row zeroed).  0 inside the transaction, or -1 sent. */
static int lock_task(req_t *r, db_conn_t *c, const char *id, request_row_t *row, cb_task_t *t)
{
    if (task_scope(r, c, id, AZ_CALLBACK_WRITE, t) != 0)
        return -1;
    if (!t->request[0]) {
        memset(row, 0, sizeof *row);
        if (db_begin(c) != 0) {
            http_db_fail(r, NULL);
            return -1;
        }
    } else if (api_request_lock(r, c, t->request, AZ_REQUEST_ACT, row) != 0) {
        return -1;
    }
    int f = db_callback_task(c, r->principal.org_id, id, 1, t);
    if (f != 1)
        return fail_rb(r, c, NULL);
    return 0;
}

static void task_get_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    cb_task_t t;
    db_conn_t *c;
    if (!id || http_authorize_role(r, AZ_CALLBACK_READ) != 0 || !(c = http_db(r)) ||
        task_scope(r, c, id, AZ_CALLBACK_READ, &t) != 0)
        return;
    char *j = db_callback_task_json(c, r->principal.org_id, id);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_json(r, 200, j, NULL);
    free(j);
}

static void attempt_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CALLBACK_WRITE) != 0 || http_json_body(r) != 0)
        return;
    attempt_t a;
    if (read_attempt(r, r->json, 0, 0, &a) != 0)
        return;
    db_conn_t *c = http_db(r);
    request_row_t row;
    cb_task_t t;
    PGresult *applied = NULL;
    if (!c || lock_task(r, c, id, &row, &t) != 0 ||
        (t.request[0] ? record(r, c, &row, &t, &a, &applied) : record_survey(r, c, &t, &a)) != 0)
        return;
    PQclear(applied);
    commit_task(r, c, t.request, t.id, 201);
}

static void answer_h(req_t *r)
{
    const char *rid = http_uuid_param(r, 0);
    if (!rid || http_authorize_role(r, AZ_CALLBACK_ANSWER) != 0 || http_json_body(r) != 0)
        return;
    attempt_t a;
    if (read_attempt(r, r->json, 1, 0, &a) != 0)
        return;
    db_conn_t *c = http_db(r);
    request_row_t row;
    cb_task_t t;
    if (!c || api_request_lock(r, c, rid, AZ_CALLBACK_ANSWER, &row) != 0)
        return;
    int f = db_callback_open_task(c, r->principal.org_id, rid, 1, &t);
    if (f <= 0) {
        db_rollback(c);
        if (f < 0)
            http_db_fail(r, NULL);
        else
            http_problem(r, 404, "not_found", "this request has no open callback to answer");
        return;
    }
    PGresult *applied = NULL;
    if (record(r, c, &row, &t, &a, &applied) != 0)
        return;
    PQclear(applied);
    commit_task(r, c, t.request, t.id, 201);
}

static void give_up_h(req_t *r)
{
    static const char *const fields[] = {"reason", "note", NULL};
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_CALLBACK_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e = {0};
    const char *reason = NULL, *note = NULL;
    if (api_only_known(r->json, fields, "a give-up", &e) < 0 ||
        api_opt_enum(r->json, "reason", core_callback_give_up_from_string,
                     core_callback_give_up_list, &reason, &e) < 0 ||
        api_opt_str(r->json, "note", 2000, &note, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    cb_task_t t;
    if (!c || lock_task(r, c, id, &row, &t) != 0)
        return;
    PGresult *days = db_callback_unreached_days(c, t.id);
    if (!db_ok(days)) {
        PQclear(days);
        fail_rb(r, c, NULL);
        return;
    }
    int n = PQntuples(days);
    int32_t *d = calloc((size_t)n + 1, sizeof *d);
    for (int i = 0; d && i < n; i++)
        d[i] = (int32_t)atoi(PQgetvalue(days, i, 0));
    PQclear(days);
    if (!d) {
        fail_rb(r, c, NULL);
        return;
    }
    cb_verdict_t v = core_callback_check_give_up(
        (callback_task_state_t)core_callback_task_state_from_string(t.state),
        reason ? core_callback_give_up_from_string(reason) : -1, note, d, (size_t)n);
    free(d);
    if (!v.ok) {
        db_rollback(c);
        verdict_send(r, r->json, &v);
        return;
    }
    if (!t.request[0]) { /* a survey task: nothing else to close */
        if (db_callback_task_finish(c, t.id, "given_up", "given_up", NULL, NULL, reason, note,
                                    r->principal.user_id) != 0) {
            fail_rb(r, c, "the task was not given up");
            return;
        }
        commit_task(r, c, t.request, t.id, 200);
        return;
    }
    /* The request closes as the close action closes a request given up. */
    request_facts_t f;
    memset(&f, 0, sizeof f);
    f.state = REQ_STATE_CALLBACK;
    f.type = (request_type_t)core_request_type_from_string(row.type);
    f.channel = (request_channel_t)core_request_channel_from_string(row.channel);
    f.is_valid_complaint = REQ_VALIDITY_UNKNOWN;
    f.pending_reason = -1;
    f.actor_role = r->principal.role;
    char expl[2100];
    snprintf(expl, sizeof expl, "回访放弃（%s）%s%s", reason, note ? "：" : "", note ? note : "");
    f.explanation = expl;
    int64_t now = (int64_t)time(NULL);
    request_effect_t eff;
    if (strcmp(row.state, "resolved") && strcmp(row.state, "callback")) {
        db_rollback(c);
        http_problem(r, 409, "invalid_transition", "the request is %s", row.state);
        return;
    }
    if (core_request_effect(&f, REQ_ACTION_CLOSE, NULL, now, now, &eff) != 0) {
        db_rollback(c);
        http_problem(r, core_request_code_http_status(eff.verdict.code), eff.verdict.code, "%s",
                     eff.verdict.reason);
        return;
    }
    char occ[32];
    rfc3339_format(now, occ);
    cJSON *det = cJSON_CreateObject();
    cJSON_AddStringToObject(det, "explanation", expl);
    cJSON_AddStringToObject(det, "callback_task_id", t.id);
    cJSON_AddStringToObject(det, "give_up_reason", reason);
    char *dj = cJSON_PrintUnformatted(det);
    cJSON_Delete(det);
    PGresult *ev = db_request_event(c, r->principal.org_id, t.request, row.last_seq + 1,
                                    r->principal.user_id, core_role_name(r->principal.role),
                                    "close", row.state, "closed", row.channel, occ, dj);
    free(dj);
    int ok = db_ok(ev);
    PQclear(ev);
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddStringToObject(ch, "state", "closed");
    cJSON_AddStringToObject(ch, "closed_at", occ);
    cJSON_AddStringToObject(ch, "last_event_at", occ);
    cJSON_AddStringToObject(ch, "explanation", expl);
    char *cj = cJSON_PrintUnformatted(ch);
    cJSON_Delete(ch);
    PGresult *res = ok ? db_request_apply(c, t.request, r->principal.org_id, 1, cj) : NULL;
    free(cj);
    ok = ok && db_ok(res) && PQntuples(res) == 1;
    PQclear(res);
    if (!ok || db_callback_task_finish(c, t.id, "given_up", "given_up", NULL, NULL, reason, note,
                                       r->principal.user_id) != 0) {
        fail_rb(r, c, "the task was not given up");
        return;
    }
    commit_task(r, c, t.request, t.id, 200);
}

static void assign_h(req_t *r)
{
    static const char *const fields[] = {"assignee_id", NULL};
    const char *id = http_uuid_param(r, 0);
    int version;
    if (!id || http_authorize_role(r, AZ_CALLBACK_WRITE) != 0 ||
        http_if_match(r, "callback task", &version) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e = {0};
    const char *who = NULL;
    if (api_only_known(r->json, fields, "an assignment", &e) < 0 ||
        api_opt_uuid(r->json, "assignee_id", &who, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    cb_task_t t;
    if (!c || lock_task(r, c, id, &row, &t) != 0)
        return;
    cb_verdict_t v;
    if (core_callback_task_next(
            (callback_task_state_t)core_callback_task_state_from_string(t.state), CB_EV_ASSIGN,
            &v) < 0) {
        db_rollback(c);
        verdict_send(r, r->json, &v);
        return;
    }
    if (who) {
        char role[20], did[40], dkind[20], nm[128];
        int sf = db_staff_lookup(c, who, r->principal.org_id, role, did, dkind, nm);
        int inp = sf == 1 ? (core_authz_org_wide((role_t)core_role_from_string(role))
                                 ? 1
                                 : db_user_in_project(c, who, r->principal.org_id, t.project))
                          : 0;
        int work = sf == 1 && t.request[0]
                       ? db_callback_did_work(c, r->principal.org_id, t.request, who)
                       : 0;
        if (sf < 0 || inp < 0 || work < 0) {
            fail_rb(r, c, NULL);
            return;
        }
        if (sf == 0 || inp == 0) {
            db_rollback(c);
            http_invalid(r, r->json, "assignee_id", "invalid_field", "not_found",
                         "'assignee_id' is not an active staff member of the task's project");
            return;
        }
        callback_caller_t cc = {
            (role_t)core_role_from_string(role), did[0] != 0,
            dkind[0] ? (dept_kind_t)core_dept_kind_from_string(dkind) : DEPT_OTHER, work, 1};
        v = core_callback_may_call(&cc, (role_t)core_role_from_string(t.min_role));
        if (!v.ok) {
            db_rollback(c);
            http_invalid(r, r->json, "assignee_id", v.code, "not_eligible", "%s", v.reason);
            return;
        }
    }
    int rc = db_callback_task_assign(c, t.id, who, version);
    if (rc < 0) {
        fail_rb(r, c, NULL);
        return;
    }
    if (rc == 0) {
        db_rollback(c);
        char hdr[64];
        snprintf(hdr, sizeof hdr, "ETag: \"%d\"\r\n", t.version);
        http_problem_hdr(r, 412, hdr, "stale_version",
                         "the task changed since you read it (now version %d); GET it again",
                         t.version);
        return;
    }
    commit_task(r, c, t.request, t.id, 200);
}

/* POST /v1/callbacks {request_id}: a callback the desk asks for on demand (an inquiry, a
 * suggestion, praise, or a complaint judged not valid), for a resolved request. */
static void create_h(req_t *r)
{
    static const char *const fields[] = {"request_id", NULL};
    if (http_authorize_role(r, AZ_CALLBACK_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e = {0};
    const char *rid = NULL;
    if (api_only_known(r->json, fields, "a callback", &e) < 0 ||
        api_opt_uuid(r->json, "request_id", &rid, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    if (!rid) {
        http_invalid(r, r->json, "request_id", "missing_field", "required",
                     "'request_id' is required");
        return;
    }
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || api_request_lock(r, c, rid, AZ_CALLBACK_WRITE, &row) != 0)
        return;
    if (strcmp(row.state, "resolved") != 0 && strcmp(row.state, "callback") != 0) {
        db_rollback(c);
        http_problem(r, 409, "invalid_transition",
                     "a callback follows a resolution; the request is %s", row.state);
        return;
    }
    request_type_t type = (request_type_t)core_request_type_from_string(row.type);
    int valid = !strcmp(row.validity, "valid")     ? REQ_VALIDITY_VALID
                : !strcmp(row.validity, "invalid") ? REQ_VALIDITY_INVALID
                                                   : REQ_VALIDITY_UNKNOWN;
    char id[40];
    if (db_callback_task_create(
            c, r->principal.org_id, rid, core_callback_kind_name(core_callback_kind_for(type)),
            "agent", core_callback_on_demand(type, valid), r->principal.user_id, id) != 0) {
        fail_rb(r, c, NULL);
        return;
    }
    if (!id[0]) {
        db_rollback(c);
        http_problem(r, 409, "callback_exists",
                     "this request already has an open callback task; GET /v1/callbacks?request "
                     "or the task's own id");
        return;
    }
    commit_task(r, c, rid, id, 201);
}

/* ---------------------------------------------------------------- lists */

static void list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_CALLBACK_READ) != 0)
        return;
    char project[64], assignee[64], state[16], due[64], overdue[8];
    const char *fp = NULL, *fa = NULL, *fs = NULL, *fd = NULL;
    int od = 0;
    int64_t tv;
    if (http_query(r, "project_id", project, sizeof project) >= 0) {
        if (!http_is_uuid(project))
            goto bad;
        fp = project;
    }
    if (http_query(r, "assignee", assignee, sizeof assignee) >= 0) {
        if (!strcmp(assignee, "me"))
            fa = r->principal.user_id;
        else if (http_is_uuid(assignee))
            fa = assignee;
        else
            goto bad;
    }
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (core_callback_task_state_from_string(state) < 0)
            goto bad;
        fs = state;
    }
    if (http_query(r, "due_before", due, sizeof due) >= 0) {
        if (rfc3339_parse(due, &tv) != 0)
            goto bad;
        fd = due;
    }
    if (http_query(r, "overdue", overdue, sizeof overdue) >= 0) {
        if (strcmp(overdue, "true") && strcmp(overdue, "false"))
            goto bad;
        od = !strcmp(overdue, "true");
    }
    if (fp) {
        az_target_t tg = {r->principal.org_id, fp, NULL, NULL, NULL};
        if (http_authorize(r, AZ_CALLBACK_READ, &tg) != 0)
            return;
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_callback_task_list(c, r->principal.org_id, http_scope_projects(r), fp, fa,
                                          fs, fd, od, pg.cursor_ts, pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
    return;
bad:
    http_problem(r, 400, "invalid_query",
                 "check project_id (a UUID), assignee (me or a UUID), state (open, done, "
                 "given_up, cancelled), due_before (RFC 3339) and overdue (true or false)");
}

/* The project from the path, authorised for reading callbacks.  0 or -1 sent. */
static int project_read(req_t *r, const char **project, az_action_t action)
{
    *project = http_uuid_param(r, 0);
    if (!*project || http_authorize_role(r, action) != 0)
        return -1;
    az_target_t tg = {r->principal.org_id, *project, NULL, NULL, NULL};
    return http_authorize(r, action, &tg);
}

static int valid_date(const char *s, int with_day)
{
    size_t n = strlen(s);
    if (n != (with_day ? 10u : 7u))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return 0;
    int m = atoi(s + 5), d = with_day ? atoi(s + 8) : 1;
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static void unreached_h(req_t *r)
{
    const char *project;
    char day[16];
    if (project_read(r, &project, AZ_CALLBACK_READ) != 0)
        return;
    if (http_query(r, "date", day, sizeof day) < 0 || !valid_date(day, 1)) {
        http_problem(r, 400, "invalid_query",
                     "'date' (YYYY-MM-DD, the project's local day) is "
                     "required");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *j = db_callback_unreached_day(c, r->principal.org_id, project, day);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    http_send_items(r, j);
    free(j);
}

static void figures_h(req_t *r)
{
    const char *project;
    char month[16];
    if (project_read(r, &project, AZ_CALLBACK_READ) != 0)
        return;
    if (http_query(r, "month", month, sizeof month) < 0 || !valid_date(month, 0)) {
        http_problem(r, 400, "invalid_query", "'month' (YYYY-MM) is required");
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    PGresult *res = db_callback_month(c, r->principal.org_id, project, month);
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        PQclear(res);
        return;
    }
    if (!strcmp(PQgetvalue(res, 0, 6), "0")) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no such project in your scope");
        return;
    }
    callback_figures_t f = {atol(PQgetvalue(res, 0, 0)),
                            atol(PQgetvalue(res, 0, 1)),
                            atol(PQgetvalue(res, 0, 2)),
                            0,
                            0,
                            0,
                            0};
    core_callback_figures(&f);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "project_id", project);
    cJSON_AddStringToObject(o, "month", month);
    cJSON_AddNumberToObject(o, "needing_callback", (double)f.needing);
    cJSON_AddNumberToObject(o, "called_back", (double)f.called_back);
    cJSON_AddNumberToObject(o, "satisfied", (double)f.satisfied);
    cJSON_AddNumberToObject(o, "given_up", atof(PQgetvalue(res, 0, 3)));
    cJSON_AddNumberToObject(o, "open", atof(PQgetvalue(res, 0, 4)));
    if (f.has_rate)
        cJSON_AddNumberToObject(o, "callback_rate", f.callback_rate);
    else
        cJSON_AddNullToObject(o, "callback_rate");
    if (f.has_satisfaction)
        cJSON_AddNumberToObject(o, "satisfaction", f.satisfaction);
    else
        cJSON_AddNullToObject(o, "satisfaction");
    cJSON *ratings = cJSON_Parse(PQgetvalue(res, 0, 5));
    cJSON_AddItemToObject(o, "ratings", ratings ? ratings : cJSON_CreateObject());
    PQclear(res);
    http_send_cjson(r, 200, o, NULL);
    cJSON_Delete(o);
}

void api_callback_register(void)
{
    http_route("GET", "/v1/callbacks", list_h, 0, NULL);
    http_route("POST", "/v1/callbacks", create_h, 0, NULL);
    http_route("GET", "/v1/callbacks/{id}", task_get_h, 0, NULL);
    http_route("POST", "/v1/callbacks/{id}/attempts", attempt_h, 0, NULL);
    http_route("POST", "/v1/callbacks/{id}/give-up", give_up_h, 0, NULL);
    http_route("POST", "/v1/callbacks/{id}/assign", assign_h, 0, NULL);
    http_route("POST", "/v1/requests/{id}/callback/answer", answer_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/callbacks/unreached", unreached_h, 0, NULL);
    http_route("GET", "/v1/projects/{id}/callback-figures", figures_h, 0, NULL);
}
