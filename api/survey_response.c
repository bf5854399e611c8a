/*
 * api/survey_response.c — survey responses (RULES §3.2.4, §3.2.7): one per household and
 * campaign, entered from paper by desk staff, answered in the app by residents for their
 * own unit, pushed by integrations (idempotent by external reference).  Answers are never
 * changed: an entry is version 1, each correction a new version with a reason, and the
 * latest counts.  In the same transaction each 不满意 answer opens a complaint (channel
 * survey, linked to the response and item) and each 不太满意 answer opens the response's
 * callback task (kind survey, see api/callback.c) and records the follow-up with it.
 */
#include "api/codec.h"
#include "api/request.h"
#include "api/survey.h"
#include "api/validate.h"
#include "db/callback.h"
#include "svc/sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ANSWERS 200

/* A form as submitted (entry or correction), its answers mapped to the campaign's items. */
typedef struct form_in {
    const char *overall, *comment, *reason;
    int n;
    struct {
        int item; /* index into the items */
        const char *rating, *text;
    } a[MAX_ANSWERS];
} form_in_t;

/* Reads overall_rating, comment, reason and answers from r->json against the campaign's
 * items.  0, or -1 with the 422 sent. */
static int read_form(req_t *r, const survey_item_t *items, int nitems, int correction, form_in_t *f)
{
    api_err_t e = {0};
    memset(f, 0, sizeof *f);
    if (api_opt_enum(r->json, "overall_rating", core_survey_rating_from_string,
                     core_survey_rating_list, &f->overall, &e) < 0 ||
        api_opt_str(r->json, "comment", 4000, &f->comment, &e) < 0 ||
        (correction && api_req_str(r->json, "reason", 1000, &f->reason, &e) < 0))
        return api_err_send(r, &e), -1;
    if (!f->overall) {
        char list[256];
        core_survey_rating_list(list, sizeof list);
        http_invalid(r, NULL, "overall_rating", "missing_field", "required",
                     "'overall_rating' (客户总体评价) is required: %s", list);
        return -1;
    }
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(r->json, "answers");
    if (!ans || cJSON_IsNull(ans))
        return 0;
    if (!cJSON_IsArray(ans) || cJSON_GetArraySize(ans) > MAX_ANSWERS) {
        http_invalid(r, NULL, "answers", "invalid_field", "invalid_type",
                     "'answers' must be an array of at most %d {item_code, rating, text}",
                     MAX_ANSWERS);
        return -1;
    }
    static const char *const fields[] = {"item_code", "rating", "text", NULL};
    const cJSON *it;
    cJSON_ArrayForEach(it, ans)
    {
        const char *code, *rating = NULL, *text = NULL;
        if (!cJSON_IsObject(it)) {
            http_invalid(r, it, NULL, "invalid_field", "invalid_type",
                         "each answer must be an object {item_code, rating, text}");
            return -1;
        }
        if (api_only_known(it, fields, "an answer", &e) < 0 ||
            api_req_str(it, "item_code", 32, &code, &e) < 0 ||
            api_opt_enum(it, "rating", core_survey_rating_from_string, core_survey_rating_list,
                         &rating, &e) < 0 ||
            api_opt_str(it, "text", 2000, &text, &e) < 0)
            return api_err_send(r, &e), -1;
        if (!rating && !text) {
            http_invalid(r, it, "rating", "missing_field", "required",
                         "an answer needs a rating or a text (leave an item out to skip it)");
            return -1;
        }
        int idx = -1;
        for (int i = 0; i < nitems && idx < 0; i++)
            if (!strcmp(items[i].code, code))
                idx = i;
        if (idx < 0) {
            http_invalid(r, it, "item_code", "invalid_field", "not_found",
                         "'%s' is not an item of this campaign", code);
            return -1;
        }
        for (int k = 0; k < f->n; k++)
            if (f->a[k].item == idx) {
                http_invalid(r, it, "item_code", "invalid_field", "duplicate",
                             "item '%s' is answered twice", code);
                return -1;
            }
        f->a[f->n].item = idx;
        f->a[f->n].rating = rating;
        f->a[f->n].text = text;
        f->n++;
    }
    return 0;
}

/* The answers as the version insert takes them (malloc'd JSON). */
static char *answers_json(const form_in_t *f, const survey_item_t *items)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < f->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "item_id", items[f->a[i].item].id);
        if (f->a[i].rating)
            cJSON_AddStringToObject(o, "rating", f->a[i].rating);
        if (f->a[i].text)
            cJSON_AddStringToObject(o, "text", f->a[i].text);
        cJSON_AddItemToArray(a, o);
    }
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

/* What the follow-ups of one response need to know. */
typedef struct followup_ctx {
    const char *response, *unit, *campaign_title, *respondent, *project;
    int version;
} followup_ctx_t;

/* Opens the complaint for a 不满意 answer (item NULL: the overall rating) through the
 * request intake, in the caller's transaction; *request_id gets its id.  0, or -1 with the
 * problem sent. */
static int open_complaint(req_t *r, db_conn_t *c, const followup_ctx_t *x,
                          const survey_item_t *item, const char *text, char request_id[40])
{
    cJSON *b = cJSON_CreateObject();
    /* Every part is bounded (title 200, group 100, item 500, answer 2000 bytes), so the
     * description is never cut inside a UTF-8 sequence. */
    char buf[4096], ref[80];
    cJSON_AddStringToObject(b, "type", "complaint");
    cJSON_AddStringToObject(b, "channel", "survey");
    cJSON_AddItemToObject(b, "location", cJSON_CreateObject());
    cJSON_AddStringToObject(cJSON_GetObjectItem(b, "location"), "unit_id", x->unit);
    snprintf(buf, sizeof buf, "满意度调查不满意: %s", item ? item->code : "总体评价");
    cJSON_AddStringToObject(b, "title", buf);
    snprintf(buf, sizeof buf, "《%s》%s%s%s: 不满意 (survey response %s, version %d)%s%s",
             x->campaign_title, item ? (item->group ? item->group : "") : "客户总体评价",
             item ? " / " : "", item && item->text ? item->text : "", x->response, x->version,
             text ? ". 业户意见: " : "", text ? text : "");
    cJSON_AddStringToObject(b, "description", buf);
    if (item && item->dept[0])
        cJSON_AddStringToObject(b, "department_id", item->dept);
    if (r->principal.role != ROLE_RESIDENT) {
        cJSON *rep = cJSON_AddObjectToObject(b, "reporter");
        cJSON_AddStringToObject(
            rep, "name", x->respondent && x->respondent[0] ? x->respondent : "满意度调查业户");
    }
    snprintf(ref, sizeof ref, "%s/%s", x->response, item ? item->code : "overall");
    cJSON *er = cJSON_AddObjectToObject(b, "external_ref");
    cJSON_AddStringToObject(er, "source", "survey");
    cJSON_AddStringToObject(er, "id", ref);
    api_err_t e = {0};
    if (api_request_open_followup(r, c, b, request_id, &e) == 0)
        return 0;
    if (e.status == 422) /* the complaint's body is ours: not the client's mistake */
        api_err_set(&e, 409, "complaint_not_opened",
                    "the complaint for a 不满意 answer could not be opened: %s", e.detail);
    api_err_send(r, &e);
    return -1;
}

/* One answer's follow-up, once per response, kind and item.  0 or -1 (answered). */
static int followup_one(req_t *r, db_conn_t *c, const followup_ctx_t *x, const survey_item_t *item,
                        const char *rating, const char *text)
{
    if (!rating)
        return 0;
    survey_followup_t fu =
        core_survey_followup((survey_rating_t)core_survey_rating_from_string(rating));
    if (fu == SURVEY_FOLLOWUP_NONE)
        return 0;
    const char *kind = core_survey_followup_name(fu);
    int ex = db_survey_followup_exists(c, x->response, kind, item ? item->id : NULL);
    if (ex < 0)
        return http_db_fail(r, NULL), -1;
    if (ex)
        return 0;
    char req_id[40] = "", task_id[40] = "";
    if (fu == SURVEY_FOLLOWUP_COMPLAINT && open_complaint(r, c, x, item, text, req_id) != 0)
        return -1;
    /* A callback opens the response's callback task (one open task per household's
     * response, whatever number of its answers asks for a call: RULES §3.1.8), due by the
     * project's callback policy (RULES §3.1.2; sla_survey_callback_due). */
    if (fu == SURVEY_FOLLOWUP_CALLBACK) {
        int64_t now = (int64_t)time(NULL), due = 0;
        if (sla_survey_callback_due(c, r->principal.org_id, x->project, now, &due) != 0 ||
            db_callback_survey_task(c, r->principal.org_id, x->response, r->principal.user_id, now,
                                    due, task_id) != 0)
            return http_db_fail(r, "the response was not saved"), -1;
    }
    if (db_survey_followup_insert(c, r->principal.org_id, x->response, x->version,
                                  item ? item->id : NULL, rating, kind, "opened",
                                  req_id[0] ? req_id : NULL, task_id[0] ? task_id : NULL) != 0)
        return http_db_fail(r, "the response was not saved"), -1;
    return 0;
}

static int followups(req_t *r, db_conn_t *c, const followup_ctx_t *x, const form_in_t *f,
                     const survey_item_t *items)
{
    if (followup_one(r, c, x, NULL, f->overall, f->comment) != 0)
        return -1;
    for (int i = 0; i < f->n; i++)
        if (followup_one(r, c, x, &items[f->a[i].item], f->a[i].rating, f->a[i].text) != 0)
            return -1;
    return 0;
}

static void send_response(req_t *r, db_conn_t *c, const char *id, int status)
{
    char *j = db_survey_response_json(c, r->principal.org_id, id);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Location: /v1/survey-responses/%s\r\n", id);
    http_send_json(r, status, j, status == 201 ? hdr : NULL);
    free(j);
}

/* Authorises `action` on response id (404 outside scope); 0 or -1 answered. */
static int response_scope(req_t *r, db_conn_t *c, const char *id, az_action_t action)
{
    char project[40], unit[40];
    int f = db_survey_response_scope(c, r->principal.org_id, id, project, unit);
    if (f != 1) {
        if (f == 0)
            http_problem(r, 404, "not_found", "no survey response with this id in your scope");
        else
            http_db_fail(r, NULL);
        return -1;
    }
    az_target_t t = {r->principal.org_id, project, unit, NULL, NULL};
    return http_authorize(r, action, &t);
}

/* A retried push: the response already stored under the reference, 200. */
static void replay_ref(req_t *r, db_conn_t *c, const char *campaign, const char *src,
                       const char *ext)
{
    char id[40], kc[40];
    int f = db_survey_response_by_ref(c, r->principal.org_id, src, ext, id, kc);
    if (f != 1) {
        http_db_fail(r, NULL);
        return;
    }
    if (strcmp(kc, campaign) != 0) {
        http_problem(r, 409, "external_ref_conflict",
                     "external_ref %s/%s is already a response to another campaign (%s)", src, ext,
                     id);
        return;
    }
    if (response_scope(r, c, id, AZ_SURVEY_RESPONSE_READ) == 0)
        send_response(r, c, id, 200);
}

typedef struct entry_in {
    const char *unit, *respondent, *channel, *src, *ext;
    char returned_at[40];
} entry_in_t;

/* The fields of an entry other than the form.  0 or -1 answered. */
static int read_entry(req_t *r, entry_in_t *in)
{
    static const char *const fields[] = {"unit_id",     "overall_rating",  "comment",
                                         "answers",     "respondent_name", "channel",
                                         "returned_at", "external_ref",    NULL};
    api_err_t e = {0};
    memset(in, 0, sizeof *in);
    if (http_known_fields(r, "a survey response", fields) != 0)
        return -1;
    int64_t returned = 0;
    if (api_opt_uuid(r->json, "unit_id", &in->unit, &e) < 0 ||
        api_opt_str(r->json, "respondent_name", 100, &in->respondent, &e) < 0 ||
        api_opt_str(r->json, "channel", 16, &in->channel, &e) < 0 ||
        api_opt_time(r->json, "returned_at", &returned, &e) < 0)
        return api_err_send(r, &e), -1;
    if (!in->unit) {
        http_invalid(r, NULL, "unit_id", "missing_field", "required",
                     "'unit_id' (the household answering) is required");
        return -1;
    }
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(r->json, "external_ref");
    if (er && !cJSON_IsNull(er)) {
        static const char *const ef[] = {"source", "id", NULL};
        if (!cJSON_IsObject(er)) {
            http_invalid(r, NULL, "external_ref", "invalid_field", "invalid_type",
                         "'external_ref' must be {\"source\": text, \"id\": text}");
            return -1;
        }
        if (api_only_known(er, ef, "external_ref", &e) < 0 ||
            api_req_str(er, "source", 64, &in->src, &e) < 0 ||
            api_req_str(er, "id", 128, &in->ext, &e) < 0)
            return api_err_send(r, &e), -1;
    }
    role_t role = r->principal.role;
    if (role == ROLE_RESIDENT || role == ROLE_INTEGRATION) {
        const char *bad = in->channel                               ? "channel"
                          : in->respondent && role == ROLE_RESIDENT ? "respondent_name"
                          : returned && role == ROLE_RESIDENT       ? "returned_at"
                          : in->src && role == ROLE_RESIDENT        ? "external_ref"
                                                                    : NULL;
        if (bad) {
            http_invalid(r, NULL, bad, "invalid_field", "not_allowed",
                         "'%s' is set by the desk: residents answer in the app, now, as "
                         "themselves; integrations push with an external_ref",
                         bad);
            return -1;
        }
        in->channel = role == ROLE_RESIDENT ? "app" : "integration";
    } else if (!in->channel) {
        in->channel = "paper";
    } else if (strcmp(in->channel, "paper") && strcmp(in->channel, "visit")) {
        http_invalid(r, NULL, "channel", "invalid_field", "invalid_enum",
                     "desk staff enter 'paper' forms or forms filled on a 'visit'");
        return -1;
    }
    if (returned) {
        if (returned > (int64_t)time(NULL) + 300) {
            http_invalid(r, NULL, "returned_at", "invalid_field", "out_of_range",
                         "'returned_at' lies in the future");
            return -1;
        }
        rfc3339_format(returned, in->returned_at);
    }
    return 0;
}

void api_survey_response_create_h(req_t *r)
{
    const char *campaign = http_uuid_param(r, 0);
    if (!campaign || http_authorize_role(r, AZ_SURVEY_RESPOND) != 0 || http_json_body(r) != 0)
        return;
    entry_in_t in;
    if (read_entry(r, &in) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    survey_item_t *items = NULL;
    int nitems = 0;
    char *aj = NULL;
    if (in.src) {
        char id[40], kc[40];
        int f = db_survey_response_by_ref(c, r->principal.org_id, in.src, in.ext, id, kc);
        if (f < 0) {
            http_db_fail(r, NULL);
            return;
        }
        if (f == 1) {
            replay_ref(r, c, campaign, in.src, in.ext);
            return;
        }
    }
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    survey_campaign_row_t k;
    if (api_survey_campaign_lock(r, c, campaign, SURVEY_LOCK_SHARE, AZ__COUNT, &k) != 0)
        goto fail;
    az_target_t t = {r->principal.org_id, k.project_id, in.unit, NULL, NULL};
    if (http_authorize(r, AZ_SURVEY_RESPOND, &t) != 0)
        goto fail;
    char up[40] = "";
    int f = db_unit_project(c, in.unit, r->principal.org_id, up);
    if (f < 0) {
        http_db_fail(r, NULL);
        goto fail;
    }
    if (f == 0 || strcmp(up, k.project_id) != 0) {
        http_invalid(r, NULL, "unit_id", "invalid_field", "not_found",
                     "'unit_id' is not a unit of the campaign's project");
        goto fail;
    }
    survey_verdict_t v = core_survey_check_respond(k.state, 0);
    if (v.status) {
        http_problem(r, v.status, v.code, "%s", v.detail);
        goto fail;
    }
    nitems = api_survey_items_load(c, r->principal.org_id, campaign, &items);
    if (nitems < 0) {
        http_db_fail(r, NULL);
        goto fail;
    }
    form_in_t *form = calloc(1, sizeof *form);
    if (!form || read_form(r, items, nitems, 0, form) != 0) {
        if (!form)
            http_problem(r, 503, "overloaded", "out of memory; retry");
        free(form);
        goto fail;
    }
    PGresult *res = db_survey_response_insert(
        c, r->principal.org_id, k.project_id, campaign, in.unit, in.channel, in.respondent, in.src,
        in.ext, in.returned_at[0] ? in.returned_at : NULL, r->principal.user_id);
    if (!db_ok(res)) {
        const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        if (cons && !strcmp(cons, "survey_responses_household")) {
            http_problem(r, 409, "duplicate_response",
                         "this household has already answered the campaign (one response per "
                         "household); correct it with POST /v1/survey-responses/{id}/corrections");
        } else if (cons && !strcmp(cons, "survey_responses_external")) {
            PQclear(res);
            free(form);
            db_rollback(c); /* a concurrent push of the same reference won */
            replay_ref(r, c, campaign, in.src, in.ext);
            goto out;
        } else {
            http_db_error(r, res);
        }
        PQclear(res);
        free(form);
        goto fail;
    }
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    aj = answers_json(form, items);
    char *vid = aj ? db_survey_version_append(c, r->principal.org_id, id, 1, form->overall,
                                              form->comment, NULL, r->principal.user_id,
                                              core_role_name(r->principal.role), aj)
                   : NULL;
    if (!vid) {
        free(form);
        http_db_fail(r, "the response was not saved");
        goto fail;
    }
    free(vid);
    followup_ctx_t x = {id, in.unit, k.title, in.respondent, k.project_id, 1};
    int rc = followups(r, c, &x, form, items);
    free(form);
    if (rc != 0)
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "the response was not saved");
        goto out;
    }
    send_response(r, c, id, 201);
    goto out;
fail:
    db_rollback(c);
out:
    free(aj);
    api_survey_items_free(items, nitems);
}

void api_survey_response_correct_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_SURVEY_RESPOND) != 0 || http_json_body(r) != 0)
        return;
    static const char *const fields[] = {"reason", "overall_rating", "comment", "answers", NULL};
    if (http_known_fields(r, "a survey correction", fields) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    survey_item_t *items = NULL;
    int nitems = 0;
    char *aj = NULL;
    form_in_t *form = NULL;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    PGresult *res = db_survey_response_lock(c, r->principal.org_id, id);
    if (!db_ok(res) || PQntuples(res) == 0) {
        if (db_ok(res))
            http_problem(r, 404, "not_found", "no survey response with this id in your scope");
        else
            http_db_error(r, res);
        PQclear(res);
        goto fail;
    }
    char project[40], unit[40], campaign[40], respondent[128];
    snprintf(project, sizeof project, "%s", PQgetvalue(res, 0, 0));
    snprintf(unit, sizeof unit, "%s", PQgetvalue(res, 0, 1));
    snprintf(campaign, sizeof campaign, "%s", PQgetvalue(res, 0, 2));
    int version = atoi(PQgetvalue(res, 0, 3)) + 1;
    snprintf(respondent, sizeof respondent, "%s", PQgetvalue(res, 0, 5));
    PQclear(res);
    az_target_t t = {r->principal.org_id, project, unit, NULL, NULL};
    if (http_authorize(r, AZ_SURVEY_RESPOND, &t) != 0)
        goto fail;
    /* The campaign's state as of its lock: a report committed while this waited is seen. */
    survey_campaign_row_t k;
    if (api_survey_campaign_lock(r, c, campaign, SURVEY_LOCK_SHARE, AZ__COUNT, &k) != 0)
        goto fail;
    survey_verdict_t v = core_survey_check_respond(k.state, 1);
    if (v.status) {
        http_problem(r, v.status, v.code, "%s", v.detail);
        goto fail;
    }
    nitems = api_survey_items_load(c, r->principal.org_id, campaign, &items);
    form = calloc(1, sizeof *form);
    if (nitems < 0 || !form) {
        http_db_fail(r, NULL);
        goto fail;
    }
    if (read_form(r, items, nitems, 1, form) != 0)
        goto fail;
    aj = answers_json(form, items);
    char *vid = aj ? db_survey_version_append(c, r->principal.org_id, id, version, form->overall,
                                              form->comment, form->reason, r->principal.user_id,
                                              core_role_name(r->principal.role), aj)
                   : NULL;
    if (!vid) {
        http_db_fail(r, "the correction was not saved");
        goto fail;
    }
    free(vid);
    followup_ctx_t x = {id, unit, k.title, respondent, project, version};
    if (followups(r, c, &x, form, items) != 0)
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "the correction was not saved");
        goto out;
    }
    send_response(r, c, id, 201);
    goto out;
fail:
    db_rollback(c);
out:
    free(form);
    free(aj);
    api_survey_items_free(items, nitems);
}

void api_survey_response_get_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_SURVEY_RESPONSE_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c || response_scope(r, c, id, AZ_SURVEY_RESPONSE_READ) != 0)
        return;
    send_response(r, c, id, 200);
}

void api_survey_response_list_h(req_t *r)
{
    const char *campaign = http_uuid_param(r, 0);
    if (!campaign || http_authorize_role(r, AZ_SURVEY_READ) != 0)
        return;
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    survey_campaign_row_t k;
    if (api_survey_campaign_lock(r, c, campaign, SURVEY_LOCK_NONE, AZ_SURVEY_READ, &k) != 0)
        return;
    PGresult *res = db_survey_response_list(c, r->principal.org_id, campaign, pg.cursor_ts,
                                            pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}
