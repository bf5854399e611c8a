/*
 * api/request_action.c — changing a request over HTTP: the workflow actions (POST
 * /v1/requests/{id}/actions/{action}) and field edits (PATCH /v1/requests/{id}).  An
 * action is parse → load (the row locked, the facts and the people it names looked up)
 * → core_request_effect() → store → answer: this file decides nothing, it translates
 * the effect core returns into statements.  Each change and its timeline event commit
 * in one transaction, after the SLA clocks are recomputed.
 */
#include "api/request.h"
#include "api/callback.h"
#include "api/codec.h"
#include "svc/sla.h"
#include "svc/sla_config.h"
#include "svc/sweeper.h"
#include "db/flow.h"
#include "db/org.h"
#include "db/sla.h"
#include "core/request.h"
#include "core/request_effect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- writes */

/* Locks the row, authorises and checks the version.  Returns 0 inside an open
 * transaction, or -1 with the response sent and the transaction rolled back. */
static int begin_write(req_t *r, db_conn_t *c, const char *id, az_action_t action, int version,
                       request_row_t *row)
{
    if (api_request_lock(r, c, id, action, row) != 0)
        return -1;
    if (row->sc.version != version) {
        db_rollback(c);
        char hdr[64];
        snprintf(hdr, sizeof hdr, "ETag: \"%d\"\r\n", row->sc.version);
        http_problem_hdr(r, 412, hdr, "stale_version",
                         "the request changed since you read it (now version %d); GET it again "
                         "and retry",
                         row->sc.version);
        return -1;
    }
    return 0;
}

/* Recomputes the SLA clocks from the new timeline, commits, and answers with the
 * updated request.  rematch: the request's classification (severity, category) changed,
 * so its SLA policy is matched again as a re-apply would (current versions, pause time
 * kept), and a complaint that became major is swept at once so that it reaches the GM. */
/* The part of finish_write that stays inside the transaction: the write's row checked, the
 * SLA clocks recomputed and the callback task kept in step.  0, or -1 with the problem sent
 * and the transaction rolled back. */
static int refresh_write(req_t *r, db_conn_t *c, PGresult *res, const char *id, int rematch)
{
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        db_rollback(c);
        return -1;
    }
    if (sla_refresh_request(c, r->principal.org_id, id, (int64_t)time(NULL), rematch) != 0 ||
        api_callback_sync(c, r->principal.org_id, id, r->principal.user_id) != 0) {
        db_rollback(c);
        http_problem(r, 503, "sla_unavailable",
                     "the SLA clocks could not be recomputed; nothing was changed, retry");
        return -1;
    }
    return 0;
}

static void finish_write(req_t *r, db_conn_t *c, PGresult *res, const char *id, int rematch)
{
    if (refresh_write(r, c, res, id, rematch) != 0)
        return;
    request_scope_t sc;
    char *json = NULL;
    if (db_request_get(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role), &json,
                       &sc) != 1 ||
        db_commit(c) != 0) {
        free(json);
        db_rollback(c);
        http_db_fail(r, "the change was not saved");
        return;
    }
    if (rematch) {
        cJSON *j = cJSON_Parse(json);
        api_request_sweep_gm(r, c, j, &json, &sc);
        cJSON_Delete(j);
    }
    char hdr[64];
    snprintf(hdr, sizeof hdr, "ETag: \"%d\"\r\n", sc.version);
    http_send_json(r, 200, json, hdr);
    free(json);
}

static int event(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                 const char *action, const char *to_state, const char *occ, cJSON *details)
{
    char *dj = cJSON_PrintUnformatted(details);
    PGresult *e = db_request_event(c, r->principal.org_id, id, row->last_seq + 1,
                                   r->principal.user_id, core_role_name(r->principal.role), action,
                                   row->state, to_state, row->channel, occ, dj);
    free(dj);
    int ok = db_ok(e);
    if (!ok) {
        http_db_error(r, e);
        db_rollback(c);
    }
    PQclear(e);
    return ok ? 0 : -1;
}

static const char *const patch_fields[] = {"title",
                                           "description",
                                           "category",
                                           "severity",
                                           "validity",
                                           "customer_deadline",
                                           "reporting_department_kind",
                                           NULL};

/* An edit's fields, read from the body (strings point into it). */
typedef struct edit_in {
    const char *title, *desc, *cat, *sev, *val, *dk;
    int64_t dl;
} edit_in_t;

/* Reads the edit; 0, or -1 with the problem sent. */
static int read_edit(req_t *r, edit_in_t *in)
{
    api_err_t e = {0};
    memset(in, 0, sizeof *in);
    if (api_only_known(r->json, patch_fields, "a request edit", &e) < 0 ||
        api_opt_str(r->json, "title", 200, &in->title, &e) < 0 ||
        api_opt_str(r->json, "description", 10000, &in->desc, &e) < 0 ||
        api_opt_enum(r->json, "category", core_request_category_from_string,
                     core_request_category_list, &in->cat, &e) < 0 ||
        api_opt_enum(r->json, "severity", core_request_severity_from_string,
                     core_request_severity_list, &in->sev, &e) < 0 ||
        api_opt_enum(r->json, "validity", api_request_validity_from, api_request_validity_list,
                     &in->val, &e) < 0 ||
        api_opt_enum(r->json, "reporting_department_kind", core_dept_kind_from_string,
                     core_dept_kind_list, &in->dk, &e) < 0 ||
        api_opt_time(r->json, "customer_deadline", &in->dl, &e) < 0) {
        api_err_send(r, &e);
        return -1;
    }
    if (!cJSON_GetArraySize(r->json)) {
        http_invalid(r, NULL, NULL, "missing_field", "required",
                     "send at least one of: title, description, "
                     "category, severity, validity, customer_deadline, "
                     "reporting_department_kind");
        return -1;
    }
    return 0;
}

/* The edit as the change set db_request_apply() takes (malloc'd; the caller frees it). */
static char *edit_changes(const cJSON *body, const edit_in_t *in, const char *occ)
{
    cJSON *changes = cJSON_Duplicate(body, 1);
    if (in->dl) {
        char dls[32];
        rfc3339_format(in->dl, dls);
        cJSON_ReplaceItemInObject(changes, "customer_deadline", cJSON_CreateString(dls));
    }
    if (in->dk) {
        cJSON_DeleteItemFromObject(changes, "reporting_department_kind");
        cJSON_AddStringToObject(changes, "reporting_dept_kind", in->dk);
    }
    cJSON_AddStringToObject(changes, "last_event_at", occ);
    char *cj = cJSON_PrintUnformatted(changes);
    cJSON_Delete(changes);
    return cj;
}

void api_request_patch_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    int version;
    if (!id || http_authorize_role(r, AZ_REQUEST_EDIT) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "request", &version) != 0)
        return;
    edit_in_t in;
    if (read_edit(r, &in) != 0)
        return;
    db_conn_t *c = http_db(r);
    request_row_t row;
    if (!c || begin_write(r, c, id, AZ_REQUEST_EDIT, version, &row) != 0)
        return;
    if ((in.sev || in.val) && strcmp(row.type, "complaint") != 0) {
        db_rollback(c);
        http_invalid(r, NULL, in.sev ? "severity" : "validity", "invalid_field", "not_applicable",
                     "'severity' and 'validity' apply to complaints only");
        return;
    }
    if (core_request_is_final((request_state_t)core_request_state_from_string(row.state))) {
        db_rollback(c);
        http_problem(r, 409, "invalid_transition", "a %s request can no longer be edited",
                     row.state);
        return;
    }
    char occ[32];
    rfc3339_format((int64_t)time(NULL), occ);
    if (event(r, c, id, &row, "update", row.state, occ, r->json) != 0)
        return;
    char *cj = edit_changes(r->json, &in, occ);
    PGresult *res =
        db_request_apply(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role), cj);
    free(cj);
    finish_write(r, c, res, id,
                 cJSON_GetObjectItemCaseSensitive(r->json, "severity") ||
                     cJSON_GetObjectItemCaseSensitive(r->json, "category"));
    PQclear(res);
}

/* Whether a staff member (role as stored) works on the project: organisation-wide roles
 * do, others when assigned to it.  1 / 0 / -1. */
static int staff_in_project(db_conn_t *c, const char *user_id, const char *role, const char *org,
                            const char *project)
{
    int rl = core_role_from_string(role);
    if (rl < 0 || rl == ROLE_RESIDENT)
        return 0;
    if (core_authz_org_wide((role_t)rl))
        return 1;
    return db_user_in_project(c, user_id, org, project);
}

static const char *const action_fields[] = {
    "occurred_at", "department_id",    "assignee_id",    "appointment_at", "result",
    "signer",      "resolution",       "pending_reason", "pending_until",  "explanation",
    "satisfied",   "rating",           "note",           "reason",         "promised_by",
    "to_user_id",  "to_department_id", "by_user_id",     "notified_at",    NULL};

/* ---------------------------------------------------------------- actions */

/* An action's arguments, read from its body (strings point into the body). */
typedef struct action_in {
    request_action_t act;
    const cJSON *body;
    const char *dept, *assignee, *result, *resolution, *reason, *explanation, *rating, *note;
    const char *decline_reason, *to_user; /* decline, hand_on */
    const char *to_dept, *by_user;        /* record_notification */
    int64_t occurred, appt, until, promised, notified;
    const cJSON *sat, *signer;
} action_in_t;

/* The arguments each action needs that the state machine does not see.  0, or -1 with
 * the problem sent. */
static int required_args(req_t *r, const action_in_t *in, int64_t now)
{
    const request_action_t act = in->act;
    const cJSON *b = in->body;
    /* dispatch without a department: routed by zone or to the duty technician, or 422
     * (route_dispatch) */
    if (act == REQ_ACTION_REDISPATCH && !in->dept) {
        http_invalid(r, b, "department_id", "missing_field", "required",
                     "'department_id' is required to dispatch");
        return -1;
    }
    if (act == REQ_ACTION_REPORT_RESULT && !in->result) {
        http_invalid(r, b, "result", "missing_field", "required",
                     "'result' (what was done) is required");
        return -1;
    }
    if (act == REQ_ACTION_RESOLVE && !in->resolution) {
        http_invalid(r, b, "resolution", "missing_field", "required",
                     "'resolution' (the answer given) is required");
        return -1;
    }
    if (act == REQ_ACTION_CALLBACK_RESULT && !in->rating) {
        http_invalid(r, b, "rating", "missing_field", "required",
                     "'rating' (very_satisfied, satisfied, average, dissatisfied, "
                     "very_dissatisfied or the zh label) is required: the outcome is derived "
                     "from it");
        return -1;
    }
    if (act == REQ_ACTION_DECLINE && !in->decline_reason) {
        http_invalid(r, b, "reason", REQ_CODE_DECLINE_REASON_REQ, "required",
                     "'reason' (not_ours, parts, no_access or other) is required to decline a "
                     "work order");
        return -1;
    }
    if (act == REQ_ACTION_SET_APPOINTMENT || act == REQ_ACTION_SET_DEADLINE) {
        const char *field = act == REQ_ACTION_SET_APPOINTMENT ? "appointment_at" : "promised_by";
        const char *code, *why;
        if (core_request_check_promise_at(act == REQ_ACTION_SET_APPOINTMENT ? in->appt
                                                                            : in->promised,
                                          now, &code, &why) != 0) {
            http_invalid(r, b, field, code,
                         strcmp(code, REQ_CODE_PROMISE_REQUIRED) ? "out_of_range" : "required",
                         "'%s': %s", field, why);
            return -1;
        }
    }
    if (act == REQ_ACTION_RECORD_NOTIFICATION && !in->to_dept && !in->to_user) {
        http_invalid(r, b, "to_department_id", REQ_CODE_NOTICE_TARGET_REQ, "required",
                     "name who was notified: 'to_department_id' or 'to_user_id'");
        return -1;
    }
    if (act == REQ_ACTION_RECORD_NOTIFICATION && in->notified) {
        /* Often before the desk heard of the matter (an emergency told to the department
         * first), so never judged against the request's events; never in the future. */
        const char *code, *why;
        if (core_request_check_occurred_at(in->notified, 0, now, &code, &why) != 0) {
            http_invalid(r, b, "notified_at", code, "out_of_range", "'notified_at': %s", why);
            return -1;
        }
    }
    if (act == REQ_ACTION_HAND_ON && !in->to_user) {
        http_invalid(r, b, "to_user_id", REQ_CODE_HAND_ON_TARGET_REQ, "required",
                     "'to_user_id' (the staff member who takes the matter on) is required");
        return -1;
    }
    if (act == REQ_ACTION_PEND && in->until && in->until <= now) {
        http_invalid(r, b, "pending_until", "pending_until_required", "out_of_range",
                     "'pending_until' must be in the future");
        return -1;
    }
    return 0;
}

/* Reads the body b into *in (in->act set by the caller).  0, or -1 with the problem sent. */
static int read_action(req_t *r, const cJSON *b, int64_t now, action_in_t *in)
{
    api_err_t e = {0};
    in->body = b;
    in->sat = cJSON_GetObjectItemCaseSensitive(b, "satisfied");
    in->signer = cJSON_GetObjectItemCaseSensitive(b, "signer");
    if (api_only_known(b, action_fields, "an action", &e) < 0 ||
        api_opt_time(b, "occurred_at", &in->occurred, &e) < 0 ||
        api_opt_uuid(b, "department_id", &in->dept, &e) < 0 ||
        api_opt_uuid(b, "assignee_id", &in->assignee, &e) < 0 ||
        api_opt_time(b, "appointment_at", &in->appt, &e) < 0 ||
        api_opt_str(b, "result", 4000, &in->result, &e) < 0 ||
        api_opt_str(b, "resolution", 4000, &in->resolution, &e) < 0 ||
        api_opt_enum(b, "pending_reason", core_request_pending_reason_from_string,
                     core_request_pending_reason_list, &in->reason, &e) < 0 ||
        api_opt_time(b, "pending_until", &in->until, &e) < 0 ||
        api_opt_str(b, "explanation", 4000, &in->explanation, &e) < 0 ||
        api_opt_str(b, "rating", 32, &in->rating, &e) < 0 ||
        api_opt_str(b, "note", 4000, &in->note, &e) < 0 ||
        api_opt_enum(b, "reason", core_request_decline_reason_from_string,
                     core_request_decline_reason_list, &in->decline_reason, &e) < 0 ||
        api_opt_time(b, "promised_by", &in->promised, &e) < 0 ||
        api_opt_uuid(b, "to_user_id", &in->to_user, &e) < 0 ||
        api_opt_uuid(b, "to_department_id", &in->to_dept, &e) < 0 ||
        api_opt_uuid(b, "by_user_id", &in->by_user, &e) < 0 ||
        api_opt_time(b, "notified_at", &in->notified, &e) < 0) {
        api_err_send(r, &e);
        return -1;
    }
    if (in->sat && !cJSON_IsBool(in->sat)) {
        http_invalid(r, b, "satisfied", "invalid_field", "invalid_type",
                     "'satisfied' must be true or false");
        return -1;
    }
    const principal_t *p = &r->principal;
    if (in->occurred && (p->role == ROLE_RESIDENT || p->role == ROLE_INTEGRATION)) {
        http_invalid(r, b, "occurred_at", "invalid_field", "not_allowed",
                     "only staff may record a past 'occurred_at'");
        return -1;
    }
    return required_args(r, in, now);
}

/* When the action happened: as given (a paper record) or now; never in the future, never
 * before the request's previous event.  0, or -1 with the problem sent and the transaction
 * rolled back. */
static int check_occurred(req_t *r, db_conn_t *c, const request_row_t *row, int64_t now,
                          action_in_t *in)
{
    if (!in->occurred)
        in->occurred = now;
    const char *code, *why;
    if (core_request_check_occurred_at(in->occurred, row->last_event_at, now, &code, &why) != 0) {
        db_rollback(c);
        http_invalid(r, in->body, "occurred_at", code, "out_of_range", "'occurred_at': %s", why);
        return -1;
    }
    if (in->occurred > now)
        in->occurred = now; /* within the tolerated skew: never store a future time */
    return 0;
}

/* What the state machine judges: the locked row, the acting user, the arguments. */
static void load_facts(db_conn_t *c, const principal_t *p, const request_row_t *row,
                       const action_in_t *in, request_facts_t *f)
{
    memset(f, 0, sizeof *f);
    f->state = (request_state_t)core_request_state_from_string(row->state);
    f->type = (request_type_t)core_request_type_from_string(row->type);
    /* A request the night desk registered (on any channel) is handed over like one. */
    f->channel = row->night_desk
                     ? REQ_CHANNEL_NIGHT_DESK
                     : (request_channel_t)core_request_channel_from_string(row->channel);
    f->state_before_pending =
        row->state_before_pending[0]
            ? (request_state_t)core_request_state_from_string(row->state_before_pending)
            : REQ_STATE_RECEIVED;
    f->has_active_work_order = row->wo_id[0] != 0;
    f->work_order_state =
        row->wo_id[0] ? (work_order_state_t)core_request_work_order_state_from_string(row->wo_state)
                      : WO_STATE_DISPATCHED;
    f->work_order_has_assignee = row->wo_assignee[0] != 0;
    f->location_kind = (location_kind_t)core_request_location_kind_from_string(row->location_kind);
    f->is_valid_complaint = !strcmp(row->validity, "valid")     ? REQ_VALIDITY_VALID
                            : !strcmp(row->validity, "invalid") ? REQ_VALIDITY_INVALID
                                                                : REQ_VALIDITY_UNKNOWN;
    f->handed_over = row->handed_over;
    f->reopen_count = row->reopen_count;
    f->escalation_level = row->escalation_level;
    f->actor_role = p->role;
    char kind[20] = "";
    if (p->dept_id && db_department_kind(c, p->dept_id, p->org_id, kind) == 1)
        f->actor_dept_kind = (dept_kind_t)core_dept_kind_from_string(kind);
    else
        f->actor_dept_kind = DEPT_OTHER;
    f->actor_in_responsible_dept =
        p->dept_id && row->wo_department[0] && !strcmp(p->dept_id, row->wo_department);
    f->actor_is_assignee = row->wo_assignee[0] && !strcmp(p->user_id, row->wo_assignee);
    f->explanation = in->explanation;
    f->pending_reason = in->reason ? core_request_pending_reason_from_string(in->reason) : -1;
    f->pending_until = in->until;
    f->callback_satisfied = cJSON_IsTrue(in->sat);
    f->decline_reason =
        in->decline_reason ? core_request_decline_reason_from_string(in->decline_reason) : -1;
    f->decline_note = in->note;
    f->promised_at = in->act == REQ_ACTION_SET_DEADLINE ? in->promised : in->appt;
    f->reporting_dept_kind = row->reporting_dept_kind[0]
                                 ? (dept_kind_t)core_dept_kind_from_string(row->reporting_dept_kind)
                                 : DEPT_CUSTOMER_SERVICE;
}

/* Who signed a sign-off, as looked up (empty strings when unknown). */
typedef struct signer {
    char resident[40], user[40], name[128];
} signer_t;

/* The body's 'signer': {"kind":"resident","resident_id":UUID} or {"kind":"staff",
 * "user_id":UUID}.  *kind points into it; the ids are copied into s.  0 or -1. */
static int read_signer(const cJSON *signer, const char **kind, signer_t *s)
{
    static const char *const signer_fields[] = {"kind", "resident_id", "user_id", NULL};
    api_err_t e = {0};
    const char *sk = NULL, *sres = NULL, *suser = NULL;
    if (!cJSON_IsObject(signer) || api_only_known(signer, signer_fields, "signer", &e) < 0 ||
        api_req_str(signer, "kind", 16, &sk, &e) < 0 ||
        api_opt_uuid(signer, "resident_id", &sres, &e) < 0 ||
        api_opt_uuid(signer, "user_id", &suser, &e) < 0 ||
        (strcmp(sk, "resident") && strcmp(sk, "staff")) || (!strcmp(sk, "resident") && !sres) ||
        (!strcmp(sk, "staff") && !suser))
        return -1;
    if (sres)
        snprintf(s->resident, sizeof s->resident, "%s", sres);
    if (suser)
        snprintf(s->user, sizeof s->user, "%s", suser);
    *kind = sk;
    return 0;
}

/* sign_off: who signed — a resident signing for themselves, or the resident or staff
 * member the body names — and the facts that judge whether they may.  0, or -1 with the
 * problem sent and the transaction rolled back. */
static int load_signer(req_t *r, db_conn_t *c, const request_row_t *row, const action_in_t *in,
                       request_facts_t *f, signer_t *s)
{
    const principal_t *p = &r->principal;
    const char *sk = NULL;
    if (p->role == ROLE_RESIDENT) {
        if (db_user_resident(c, p->user_id, p->org_id, s->resident) != 1 || !s->resident[0]) {
            db_rollback(c);
            http_problem(r, 403, "forbidden", "this account has no resident record");
            return -1;
        }
        sk = "resident";
    } else if (read_signer(in->signer, &sk, s) != 0) {
        db_rollback(c);
        http_invalid(r, in->body, "signer", "invalid_field", "invalid_format",
                     "'signer' must be {\"kind\":\"resident\",\"resident_id\":UUID} or "
                     "{\"kind\":\"staff\",\"user_id\":UUID}");
        return -1;
    }
    if (!strcmp(sk, "resident")) {
        f->signer_kind = SIGNER_RESIDENT;
        int adult = 0;
        int found = row->sc.unit_id[0] ? db_resident_in_unit(c, s->resident, row->sc.unit_id,
                                                             p->org_id, &adult, s->name)
                                       : 0;
        f->signer_is_adult_household_member = found == 1 && adult;
        return 0;
    }
    char role[20], did[40], dkind[20];
    if (db_staff_lookup(c, s->user, p->org_id, role, did, dkind, s->name) != 1 ||
        staff_in_project(c, s->user, role, p->org_id, row->sc.project_id) != 1) {
        db_rollback(c);
        http_problem(r, 422, "signer_not_qualified",
                     "the signing staff member does not exist, is inactive or does not work on "
                     "the request's project");
        return -1;
    }
    f->signer_kind = SIGNER_STAFF;
    f->signer_role = (role_t)core_role_from_string(role);
    f->signer_dept_kind = dkind[0] ? (dept_kind_t)core_dept_kind_from_string(dkind) : DEPT_OTHER;
    return 0;
}

/* dispatch, redispatch: the department must be one of the request's project, and the
 * assignee an active member of it who works on the project.  0, or -1 with the problem
 * sent and the transaction rolled back. */
static int check_dispatch_target(req_t *r, db_conn_t *c, const request_row_t *row,
                                 const action_in_t *in)
{
    const principal_t *p = &r->principal;
    char dp[40];
    int df = db_department_project(c, in->dept, p->org_id, dp);
    if (df != 1 || (dp[0] && strcmp(dp, row->sc.project_id) != 0)) {
        db_rollback(c);
        if (df < 0)
            http_problem(r, 503, "database_unavailable", "retry shortly");
        else
            http_problem(r, 422, "invalid_field",
                         "'department_id' is not a department of the request's project");
        return -1;
    }
    if (!in->assignee)
        return 0;
    char role[20], did[40], dkind[20], nm[128];
    int sf = db_staff_lookup(c, in->assignee, p->org_id, role, did, dkind, nm);
    int inp = sf == 1 && strcmp(did, in->dept) == 0
                  ? staff_in_project(c, in->assignee, role, p->org_id, row->sc.project_id)
                  : 0;
    if (sf < 0 || inp < 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return -1;
    }
    if (!inp) {
        db_rollback(c);
        http_problem(r, 422, "invalid_field",
                     "'assignee_id' must be an active member of the department who works on "
                     "the request's project");
        return -1;
    }
    return 0;
}

/* hand_on: whether the actor owns the matter (nobody owning it counts), and whether the
 * person named takes it: an active staff member (not a resident or another system) who
 * works on the request's project and does not own it already.  0, or -1 with the problem
 * sent and the transaction rolled back. */
static int load_hand_on(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                        const action_in_t *in, request_facts_t *f)
{
    const principal_t *p = &r->principal;
    char owner[40] = "", role[20], did[40], dkind[20], nm[128];
    int of = db_request_owner(c, id, p->org_id, owner);
    int sf = of == 1 ? db_staff_lookup(c, in->to_user, p->org_id, role, did, dkind, nm) : -1;
    int rl = sf == 1 ? core_role_from_string(role) : -1;
    int inp = sf == 1 && rl >= 0 && rl != ROLE_INTEGRATION
                  ? staff_in_project(c, in->to_user, role, p->org_id, row->sc.project_id)
                  : 0;
    if (of < 0 || sf < 0 || inp < 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return -1;
    }
    if (!inp || !strcmp(owner, in->to_user)) {
        db_rollback(c);
        http_invalid(r, in->body, "to_user_id", "invalid_field", "not_allowed",
                     !inp ? "'to_user_id' must be an active staff member who works on the "
                            "request's project"
                          : "'to_user_id' already owns this matter");
        return -1;
    }
    f->actor_is_owner = !owner[0] || !strcmp(owner, p->user_id);
    f->has_hand_on_target = 1;
    return 0;
}

/* Whether `now` lies outside the project's desk hours (its SLA calendar): 1, or 0 inside
 * them — also when the project has no calendar or it cannot be read (the desk is then
 * taken to be open, and dispatches). */
static int out_of_hours(db_conn_t *c, const char *org, const char *project, int64_t now)
{
    sla_project_cfg_t cfg;
    if (sla_project_config(c, org, project, &cfg) != 0 || !cfg.calendar[0])
        return 0;
    const sla_calendar_def_t *cal = sla_calendar_pin(c, cfg.calendar);
    if (!cal)
        return 0;
    int open = core_calendar_business_between(&cal->cal, now, now + 1) > 0;
    sla_calendar_unpin(cal);
    return !open;
}

/* One staff member named by a notice: active, of the organisation, working on the project.
 * 1 / 0 / -1. */
static int notice_person(db_conn_t *c, const char *user, const char *org, const char *project)
{
    char role[20], did[40], dkind[20], nm[128];
    int sf = db_staff_lookup(c, user, org, role, did, dkind, nm);
    if (sf != 1)
        return sf;
    int rl = core_role_from_string(role);
    if (rl < 0 || rl == ROLE_INTEGRATION)
        return 0;
    return staff_in_project(c, user, role, org, project);
}

/* record_notification: the department notified must be one of the project's, the people
 * (who was notified, who notified) its staff.  0, or -1 with the problem sent and the
 * transaction rolled back. */
static int load_notice(req_t *r, db_conn_t *c, const request_row_t *row, const action_in_t *in,
                       request_facts_t *f)
{
    const principal_t *p = &r->principal;
    const char *bad = NULL;
    int rc = 1;
    if (in->to_dept) {
        char dp[40];
        rc = db_department_project(c, in->to_dept, p->org_id, dp);
        if (rc == 1 && dp[0] && strcmp(dp, row->sc.project_id) != 0)
            rc = 0;
        if (rc == 0)
            bad = "to_department_id";
    }
    if (rc == 1 && in->to_user &&
        (rc = notice_person(c, in->to_user, p->org_id, row->sc.project_id)) == 0)
        bad = "to_user_id";
    if (rc == 1 && in->by_user &&
        (rc = notice_person(c, in->by_user, p->org_id, row->sc.project_id)) == 0)
        bad = "by_user_id";
    if (rc < 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return -1;
    }
    if (bad) {
        db_rollback(c);
        http_invalid(r, in->body, bad, "invalid_field", "not_found",
                     "'%s' is not a department or an active staff member of the request's "
                     "project",
                     bad);
        return -1;
    }
    f->has_notice_target = in->to_dept || in->to_user;
    return 0;
}

/* 0 when w succeeded; else sends its error, rolls back and returns -1.  Clears w. */
static int wo_done(req_t *r, db_conn_t *c, PGresult *w)
{
    int ok = db_ok(w);
    if (!ok) {
        http_db_error(r, w);
        db_rollback(c);
    }
    PQclear(w);
    return ok ? 0 : -1;
}

/* The effect's work-order operation.  0, or -1 with the problem sent and rolled back. */
static int store_work_order(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                            const request_effect_t *eff, const char *occ)
{
    const char *org = r->principal.org_id;
    switch (eff->wo_op) {
    case REQ_WO_REPLACE: /* the open work order is cancelled first */
        if (wo_done(r, c,
                    db_workorder_update(c, row->wo_id, org, "cancelled", occ, NULL, NULL, NULL,
                                        NULL, NULL, NULL)) != 0)
            return -1;
        /* fall through */
    case REQ_WO_CREATE: {
        char ap[32];
        if (eff->wo_appointment_at)
            rfc3339_format(eff->wo_appointment_at, ap);
        return wo_done(r, c,
                       db_workorder_insert(c, org, id, eff->wo_department, eff->wo_assignee,
                                           eff->wo_appointment_at ? ap : NULL, occ));
    }
    case REQ_WO_DECLINE:
        return wo_done(r, c,
                       db_workorder_decline(c, row->wo_id, org, occ, eff->wo_declined_by,
                                            eff->wo_decline_reason, eff->wo_decline_note));
    case REQ_WO_UPDATE:
        return wo_done(r, c,
                       db_workorder_update(
                           c, row->wo_id, org,
                           core_request_work_order_state_name((work_order_state_t)eff->wo_state),
                           occ, eff->wo_assignee, eff->wo_result, eff->wo_signer_kind,
                           eff->wo_signer_resident_id, eff->wo_signer_user_id,
                           eff->wo_signer_name));
    default:
        return 0;
    }
}

/* The effect's notice to the escalation ladder, if any.  0, or -1 with the problem sent
 * and rolled back. */
static int notify_ladder(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                         const request_effect_t *eff)
{
    if (eff->notify_level <= 0)
        return 0;
    cJSON *pl = cJSON_CreateObject();
    cJSON_AddStringToObject(pl, "reason", eff->notify_reason);
    char *pj = cJSON_PrintUnformatted(pl);
    cJSON_Delete(pl);
    int rc = pj ? db_sla_notify_ladder(c, r->principal.org_id, row->sc.project_id, id,
                                       eff->notify_level, eff->notify_kind, pj)
                : -1;
    free(pj);
    if (rc != 0) {
        db_rollback(c);
        http_db_fail(r, NULL);
        return -1;
    }
    return 0;
}

/* The effect's request columns as the change set db_request_apply() takes (malloc'd;
 * the caller frees it). */
static char *effect_changes(const request_effect_t *eff)
{
    cJSON *ch = cJSON_CreateObject();
    for (int i = 0; i < REQ_FIELD__COUNT; i++) {
        const request_field_change_t *fc = &eff->field[i];
        const char *name = core_request_field_name((request_field_t)i);
        char ts[32];
        switch (fc->op) {
        case REQ_FIELD_SET_TEXT:
            cJSON_AddStringToObject(ch, name, fc->text);
            break;
        case REQ_FIELD_SET_TIME:
            rfc3339_format(fc->time, ts);
            cJSON_AddStringToObject(ch, name, ts);
            break;
        case REQ_FIELD_SET_NULL:
            cJSON_AddNullToObject(ch, name);
            break;
        default:
            break;
        }
    }
    if (eff->escalation_inc)
        cJSON_AddNumberToObject(ch, "escalation_inc", eff->escalation_inc);
    if (eff->reopen_inc)
        cJSON_AddNumberToObject(ch, "reopen_inc", eff->reopen_inc);
    char *cj = cJSON_PrintUnformatted(ch);
    cJSON_Delete(ch);
    return cj;
}

/* The timeline event's details: the action's arguments (without occurred_at, which is the
 * event's own time) and the effect's extras.  The caller deletes the tree. */
static cJSON *event_details(const cJSON *body, const request_effect_t *eff)
{
    cJSON *d = cJSON_Duplicate(body, 1);
    cJSON_DeleteItemFromObject(d, "occurred_at");
    if (eff->event_paper_record)
        cJSON_AddBoolToObject(d, "paper_record", 1);
    if (eff->event_work_order_state)
        cJSON_AddStringToObject(d, "work_order_state", eff->event_work_order_state);
    if (eff->event_signer_name)
        cJSON_AddStringToObject(d, "signer_name", eff->event_signer_name);
    if (eff->event_reopen_count)
        cJSON_AddNumberToObject(d, "reopen_count", eff->event_reopen_count);
    if (eff->event_cancelled_work_order_id)
        cJSON_AddStringToObject(d, "cancelled_work_order_id", eff->event_cancelled_work_order_id);
    if (eff->event_paused_since > 0) { /* the pause, in wall-clock time (per clock: .../sla) */
        char ss[32];
        rfc3339_format(eff->event_paused_since, ss);
        cJSON_AddStringToObject(d, "paused_since", ss);
        cJSON_AddNumberToObject(d, "paused_seconds", (double)eff->event_paused_seconds);
    }
    return d;
}

/* Stores the effect in the open transaction — the work orders, the ladder's notice, the
 * timeline event (its details plus `extra`'s members, if any), the request's columns.
 * Returns the request's new row (*res, the caller clears it) for refresh_write, or NULL
 * with the problem sent and the transaction rolled back. */
static PGresult *store_in_tx(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                             const action_in_t *in, const request_effect_t *eff, const cJSON *extra)
{
    char occ[32];
    rfc3339_format(in->occurred, occ);
    if (store_work_order(r, c, id, row, eff, occ) != 0 || notify_ladder(r, c, id, row, eff) != 0)
        return NULL;
    cJSON *d = event_details(in->body, eff);
    const cJSON *x;
    cJSON_ArrayForEach(x, extra)
    {
        if (x->string)
            cJSON_AddItemToObject(d, x->string, cJSON_Duplicate(x, 1));
    }
    int ev = event(r, c, id, row, core_request_action_name(in->act),
                   core_request_state_name((request_state_t)eff->verdict.new_state), occ, d);
    cJSON_Delete(d);
    if (ev != 0)
        return NULL;
    char *cj = effect_changes(eff);
    PGresult *res =
        db_request_apply(c, id, r->principal.org_id, core_authz_sees_pii(r->principal.role), cj);
    free(cj);
    return res;
}

/* Stores the effect, then recomputes the clocks, commits and answers. */
static void store_effect(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                         const action_in_t *in, const request_effect_t *eff)
{
    PGresult *res = store_in_tx(r, c, id, row, in, eff, NULL);
    if (!res)
        return;
    finish_write(r, c, res, id, 0);
    PQclear(res);
}

/* Where a dispatch without a department goes (责任区): the zone named as the request's
 * common area, else the project's engineering department for the technician on duty. */
typedef struct route {
    char zone[40], dept[40], person[40];
    cJSON *body; /* the body with the department (and person) chosen; freed by the caller */
} route_t;

/* Fills *out as *in with the routed department and person (and a body that says so, for
 * the timeline).  0, or -1 with the problem sent and the transaction rolled back. */
static int route_dispatch(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                          const request_facts_t *f, const action_in_t *in, route_t *rt,
                          action_in_t *out)
{
    const principal_t *p = &r->principal;
    int zf = 0, df = 0;
    if (core_request_dispatch_route(f->type, f->location_kind, 0, 1, 1) != REQ_ROUTE_NONE) {
        zf = db_flow_zone_for(c, p->org_id, id, rt->zone, rt->dept, rt->person);
        if (zf == 0)
            df = db_flow_duty_department(c, p->org_id, row->sc.project_id, rt->dept);
    }
    if (zf < 0 || df < 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return -1;
    }
    request_route_t route =
        core_request_dispatch_route(f->type, f->location_kind, 0, zf == 1, df == 1);
    if (route == REQ_ROUTE_NONE) {
        db_rollback(c);
        http_invalid(r, in->body, "department_id", "missing_field", "required",
                     "'department_id' is required to dispatch (only a repair or emergency of a "
                     "common area goes by default to its zone or the duty technician)");
        return -1;
    }
    *out = *in;
    out->dept = rt->dept;
    if (!in->assignee && route == REQ_ROUTE_ZONE && rt->person[0])
        out->assignee = rt->person;
    if (!(rt->body = cJSON_Duplicate(in->body, 1))) {
        db_rollback(c);
        http_problem(r, 503, "overloaded", "out of memory; retry");
        return -1;
    }
    cJSON_AddStringToObject(rt->body, "department_id", rt->dept);
    if (out->assignee && !in->assignee)
        cJSON_AddStringToObject(rt->body, "assignee_id", out->assignee);
    cJSON_AddStringToObject(rt->body, "routed_to",
                            route == REQ_ROUTE_ZONE ? "zone" : "duty_technician");
    if (route == REQ_ROUTE_ZONE)
        cJSON_AddStringToObject(rt->body, "zone_id", rt->zone);
    out->body = rt->body;
    return 0;
}

/* Inside the transaction: loads the facts and the people the action names, asks core for
 * the effect, and stores it or answers the refusal. */
static void decide_and_store(req_t *r, db_conn_t *c, const char *id, const request_row_t *row,
                             const action_in_t *in, int64_t now)
{
    const principal_t *p = &r->principal;
    request_facts_t f;
    signer_t s = {"", "", ""};
    load_facts(c, p, row, in, &f);
    if (in->act == REQ_ACTION_CALLBACK_RESULT) { /* recorded on the callback task */
        PGresult *res = NULL;
        if (api_callback_legacy(r, c, id, row, in->body, in->occurred, &res) == 0)
            finish_write(r, c, res, id, 0);
        PQclear(res);
        return;
    }
    if (in->act == REQ_ACTION_SIGN_OFF && load_signer(r, c, row, in, &f, &s) != 0)
        return;
    if (in->act == REQ_ACTION_DISPATCH && p->role == ROLE_SECURITY)
        f.out_of_hours = out_of_hours(c, p->org_id, row->sc.project_id, now);
    route_t rt = {"", "", "", NULL};
    action_in_t routed;
    if (in->act == REQ_ACTION_DISPATCH && !in->dept) {
        /* who may dispatch and from which state first; then where it goes */
        transition_t t = core_request_transition(&f, in->act);
        if (!t.ok) {
            db_rollback(c);
            http_problem(r, core_request_code_http_status(t.code), t.code, "%s", t.reason);
            return;
        }
        if (route_dispatch(r, c, id, row, &f, in, &rt, &routed) != 0)
            return;
        in = &routed;
    }
    if ((in->act == REQ_ACTION_DISPATCH || in->act == REQ_ACTION_REDISPATCH) &&
        check_dispatch_target(r, c, row, in) != 0)
        goto out;
    if (in->act == REQ_ACTION_HAND_ON && load_hand_on(r, c, id, row, in, &f) != 0)
        return;
    if (in->act == REQ_ACTION_RECORD_NOTIFICATION && load_notice(r, c, row, in, &f) != 0)
        return;

    request_args_t x = {
        .actor_user_id = p->user_id,
        .work_order_id = row->wo_id,
        .department_id = in->dept,
        .assignee_id = in->assignee,
        .appointment_at = in->appt,
        .result = in->result,
        .resolution = in->resolution,
        .signer_resident_id = s.resident[0] ? s.resident : NULL,
        .signer_user_id = s.user[0] ? s.user : NULL,
        .signer_name = s.name[0] ? s.name : NULL,
        .pending_since = in->act == REQ_ACTION_RESUME ? db_request_last_pend(c, id, p->org_id) : 0,
        .hand_on_to = in->to_user,
    };
    request_effect_t eff;
    if (core_request_effect(&f, in->act, &x, in->occurred, now, &eff) != 0) {
        db_rollback(c);
        int st = core_request_code_http_status(eff.verdict.code);
        http_problem(r, st == 200 ? 409 : st, eff.verdict.code, "%s", eff.verdict.reason);
        goto out;
    }
    store_effect(r, c, id, row, in, &eff);
out:
    cJSON_Delete(rt.body);
}

void api_request_action_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return;
    const char *aname = r->params[1];
    int act = core_request_action_from_string(aname);
    if (act < 0 || act == REQ_ACTION_COMMENT) {
        http_problem(r, 404, "unknown_action",
                     "no action '%s'; use dispatch, accept, arrive, report_result, sign_off, "
                     "resolve, pend, resume, reject, close_not_responsible, start_callback, "
                     "callback_result, close, reopen, handover, decline, set_appointment, "
                     "set_deadline, hand_on or record_notification (comments: POST "
                     ".../comments)",
                     aname);
        return;
    }
    int version;
    if (http_authorize_role(r, AZ_REQUEST_ACT) != 0 || http_if_match(r, "request", &version) != 0)
        return;
    if (r->body_len && http_json_body(r) != 0)
        return;
    cJSON *empty = NULL;
    const cJSON *b = r->json ? r->json : (empty = cJSON_CreateObject());
    action_in_t in;
    memset(&in, 0, sizeof in);
    in.act = (request_action_t)act;
    int64_t now = (int64_t)time(NULL);
    db_conn_t *c;
    request_row_t row;
    if (read_action(r, b, now, &in) == 0 && (c = http_db(r)) != NULL &&
        begin_write(r, c, id, AZ_REQUEST_ACT, version, &row) == 0 &&
        check_occurred(r, c, &row, now, &in) == 0)
        decide_and_store(r, c, id, &row, &in, now);
    cJSON_Delete(empty);
}

/* ---------------------------------------------------------------- in another transaction */

/* The actions api_request_apply_action takes: those that name no other person or record
 * to look up and check (sign_off, dispatch, redispatch, hand_on, record_notification and
 * callback_result do). */
static int plain_action(request_action_t act)
{
    return act != REQ_ACTION_SIGN_OFF && act != REQ_ACTION_DISPATCH &&
           act != REQ_ACTION_REDISPATCH && act != REQ_ACTION_HAND_ON &&
           act != REQ_ACTION_RECORD_NOTIFICATION && act != REQ_ACTION_CALLBACK_RESULT &&
           act != REQ_ACTION_COMMENT;
}

static int refused(api_action_outcome_t *out, const char *code, const char *reason)
{
    snprintf(out->code, sizeof out->code, "%s", code);
    snprintf(out->reason, sizeof out->reason, "%s", reason);
    return 1;
}

int api_request_apply_action(req_t *r, db_conn_t *c, const char *id, request_action_t act,
                             const cJSON *body, const cJSON *extra, api_action_outcome_t *out)
{
    const principal_t *p = &r->principal;
    memset(out, 0, sizeof *out);
    if (!plain_action(act))
        return refused(out, "unsupported_action",
                       "this action is only taken through POST /v1/requests/{id}/actions");
    int64_t now = (int64_t)time(NULL);
    cJSON *empty = NULL;
    action_in_t in;
    memset(&in, 0, sizeof in);
    in.act = act;
    if (read_action(r, body ? body : (empty = cJSON_CreateObject()), now, &in) != 0) {
        cJSON_Delete(empty);
        db_rollback(c);
        return -1;
    }
    request_row_t row;
    int f = db_request_lock(c, id, p->org_id, &row);
    int rc = 1;
    if (f < 0) {
        db_rollback(c);
        http_db_fail(r, NULL);
        rc = -1;
        goto done;
    }
    if (f == 0) {
        refused(out, "not_found", "the request no longer exists");
        goto done;
    }
    request_scope_t sc = row.sc; /* as api_request_lock judges it */
    if (row.wo_department[0])
        snprintf(sc.department_id, sizeof sc.department_id, "%s", row.wo_department);
    az_target_t t = api_request_target(r, &sc);
    if (core_authz_check(p, AZ_REQUEST_ACT, &t) != AZ_ALLOW) {
        refused(out, "forbidden", "the request is outside your scope");
        goto done;
    }
    const char *code, *why;
    if (!in.occurred)
        in.occurred = now;
    if (core_request_check_occurred_at(in.occurred, row.last_event_at, now, &code, &why) != 0) {
        refused(out, code, why);
        goto done;
    }
    if (in.occurred > now)
        in.occurred = now;
    request_facts_t fa;
    load_facts(c, p, &row, &in, &fa);
    request_args_t x = {
        .actor_user_id = p->user_id,
        .work_order_id = row.wo_id,
        .department_id = in.dept,
        .assignee_id = in.assignee,
        .appointment_at = in.appt,
        .result = in.result,
        .resolution = in.resolution,
        .pending_since = act == REQ_ACTION_RESUME ? db_request_last_pend(c, id, p->org_id) : 0,
    };
    request_effect_t eff;
    if (core_request_effect(&fa, act, &x, in.occurred, now, &eff) != 0) {
        refused(out, eff.verdict.code, eff.verdict.reason);
        goto done;
    }
    PGresult *res = store_in_tx(r, c, id, &row, &in, &eff, extra);
    rc = res && refresh_write(r, c, res, id, 0) == 0 ? 0 : -1;
    PQclear(res);
done:
    cJSON_Delete(empty);
    return rc;
}
