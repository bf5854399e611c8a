/*
 * api/survey.c — satisfaction-survey campaigns (RULES §3.2): create and edit a draft with
 * its items, move it draft → open → closed → reported, read it and list them, its report
 * (summary figures, per-item and per-department analysis, the service centre's opinion;
 * frozen at `reported`), the public summary for the notice board and the form residents
 * answer.  The rules and formulas are core/survey.c's; responses are api/survey_response.c.
 */
#include "api/api.h"
#include "api/survey.h"
#include "api/validate.h"
#include "db/capa.h"
#include "db/org.h"
#include "db/survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 200

/* ---- shared with api/survey_response.c ----------------------------------------------- */

int api_survey_campaign_lock(req_t *r, db_conn_t *c, const char *id, int mode, az_action_t action,
                             survey_campaign_row_t *k)
{
    PGresult *res = db_survey_campaign_lock(c, r->principal.org_id, id, mode);
    if (!db_ok(res)) {
        http_db_error(r, res);
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no survey campaign with this id in your scope");
        return -1;
    }
    memset(k, 0, sizeof *k);
    snprintf(k->project_id, sizeof k->project_id, "%s", PQgetvalue(res, 0, 0));
    k->state = (survey_state_t)core_survey_state_from_string(PQgetvalue(res, 0, 1));
    k->per_unit = !strcmp(PQgetvalue(res, 0, 2), "per_unit");
    const char *cp = PQgetvalue(res, 0, 3);
    k->copies = cp[0] ? atol(cp) : -1;
    k->nitems = atoi(PQgetvalue(res, 0, 4));
    snprintf(k->title, sizeof k->title, "%s", PQgetvalue(res, 0, 5));
    k->version = atoi(PQgetvalue(res, 0, 6));
    PQclear(res);
    if (action == AZ__COUNT)
        return 0;
    az_target_t t = {r->principal.org_id, k->project_id, NULL, NULL, NULL};
    return http_authorize(r, action, &t);
}

int api_survey_items_load(db_conn_t *c, const char *org, const char *campaign,
                          survey_item_t **items)
{
    *items = NULL;
    PGresult *res = db_survey_items(c, org, campaign);
    if (!db_ok(res)) {
        PQclear(res);
        return -1;
    }
    int n = PQntuples(res);
    survey_item_t *v = calloc(n ? (size_t)n : 1, sizeof *v);
    for (int i = 0; v && i < n; i++) {
        snprintf(v[i].id, sizeof v[i].id, "%s", PQgetvalue(res, i, 0));
        snprintf(v[i].code, sizeof v[i].code, "%s", PQgetvalue(res, i, 1));
        v[i].group = strdup(PQgetvalue(res, i, 2));
        v[i].text = strdup(PQgetvalue(res, i, 3));
        snprintf(v[i].dept, sizeof v[i].dept, "%s", PQgetvalue(res, i, 4));
        snprintf(v[i].dept_name, sizeof v[i].dept_name, "%s", PQgetvalue(res, i, 5));
    }
    PQclear(res);
    if (!v)
        return -1;
    *items = v;
    return n;
}

void api_survey_items_free(survey_item_t *items, int n)
{
    for (int i = 0; items && i < n; i++) {
        free(items[i].group);
        free(items[i].text);
    }
    free(items);
}

/* ---- reading the body ----------------------------------------------------------------- */

/* "YYYY-MM-DD" with a plausible month and day (PostgreSQL judges the calendar). */
static int is_date(const char *s)
{
    int y, m, d;
    char tail;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && s[4] == '-' &&
           s[7] == '-' && y >= 2000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* The campaign fields of a create or PATCH body.  Strings point into r->json. */
typedef struct campaign_in {
    const char *project_id, *title, *kind, *cadence, *start, *end, *distribution;
    char copies[16];
    int has_copies;
    char *items_json; /* malloc'd [{code, group, text, department_id}] or NULL */
    int nitems;
} campaign_in_t;

static int read_period(req_t *r, campaign_in_t *in)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(r->json, "period");
    if (!p || cJSON_IsNull(p))
        return 0;
    if (!cJSON_IsObject(p)) {
        http_invalid(r, NULL, "period", "invalid_field", "invalid_type",
                     "'period' must be {\"start\": \"YYYY-MM-DD\", \"end\": \"YYYY-MM-DD\"}");
        return -1;
    }
    const char *names[2] = {"start", "end"};
    const char **outs[2] = {&in->start, &in->end};
    const cJSON *m;
    cJSON_ArrayForEach(m, p)
    {
        if (strcmp(m->string, "start") && strcmp(m->string, "end")) {
            http_invalid(r, p, m->string, "unknown_field", "unknown_field",
                         "'%s' is not a field of period (start, end)", m->string);
            return -1;
        }
    }
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, names[i]);
        if (!v || cJSON_IsNull(v))
            continue;
        if (!cJSON_IsString(v) || !is_date(v->valuestring)) {
            http_invalid(r, p, names[i], "invalid_field", "invalid_format",
                         "'period.%s' must be a date YYYY-MM-DD", names[i]);
            return -1;
        }
        *outs[i] = v->valuestring;
    }
    if (in->start && in->end && strcmp(in->end, in->start) < 0) {
        http_invalid(r, p, "end", "invalid_field", "out_of_range",
                     "'period.end' is before 'period.start'");
        return -1;
    }
    return 0;
}

/* items: [{code, group, text, department_id?}], codes unique, 1..MAX_ITEMS. */
static int read_items(req_t *r, campaign_in_t *in)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(r->json, "items");
    if (!items)
        return 0;
    int n = cJSON_GetArraySize(items);
    if (!cJSON_IsArray(items) || n > MAX_ITEMS) {
        http_invalid(r, NULL, "items", "invalid_field",
                     cJSON_IsArray(items) ? "too_long" : "invalid_type",
                     "'items' must be an array of at most %d items", MAX_ITEMS);
        return -1;
    }
    static const char *const fields[] = {"code", "group", "text", "department_id", NULL};
    cJSON *out = cJSON_CreateArray();
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, items)
    {
        api_err_t e = {0};
        const char *code, *group, *text, *dept = NULL;
        if (!cJSON_IsObject(it)) {
            http_invalid(r, it, NULL, "invalid_field", "invalid_type",
                         "each item must be an object {code, group, text, department_id}");
            goto bad;
        }
        if (api_only_known(it, fields, "an item", &e) < 0 ||
            api_req_str(it, "code", 32, &code, &e) < 0 ||
            api_req_str(it, "group", 100, &group, &e) < 0 ||
            api_req_str(it, "text", 500, &text, &e) < 0 ||
            api_opt_uuid(it, "department_id", &dept, &e) < 0) {
            api_err_send(r, &e);
            goto bad;
        }
        for (const cJSON *prev = items->child; prev != it; prev = prev->next) {
            const cJSON *pc = cJSON_GetObjectItemCaseSensitive(prev, "code");
            if (!strcmp(pc->valuestring, code)) {
                http_invalid(r, it, "code", "invalid_field", "duplicate",
                             "item code '%s' is used twice", code);
                goto bad;
            }
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", code);
        cJSON_AddStringToObject(o, "group", group);
        cJSON_AddStringToObject(o, "text", text);
        if (dept)
            cJSON_AddStringToObject(o, "department_id", dept);
        cJSON_AddItemToArray(out, o);
        i++;
    }
    in->items_json = cJSON_PrintUnformatted(out);
    in->nitems = i;
    cJSON_Delete(out);
    return in->items_json ? 0 : -1;
bad:
    cJSON_Delete(out);
    return -1;
}

static int read_copies(req_t *r, campaign_in_t *in)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "copies_distributed");
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble ||
        v->valuedouble < 0 || v->valuedouble > 10000000) {
        http_invalid(r, NULL, "copies_distributed", "invalid_field", "out_of_range",
                     "'copies_distributed' must be a whole number from 0 to 10000000");
        return -1;
    }
    snprintf(in->copies, sizeof in->copies, "%ld", (long)v->valuedouble);
    in->has_copies = 1;
    return 0;
}

/* Reads the fields; create: every create field allowed and project/title required. */
static int read_campaign(req_t *r, int create, campaign_in_t *in)
{
    static const char *const create_fields[] = {
        "project_id",         "title", "kind", "cadence", "period", "distribution",
        "copies_distributed", "items", NULL};
    static const char *const patch_fields[] = {
        "title", "period", "distribution", "copies_distributed", "items", NULL};
    memset(in, 0, sizeof *in);
    api_err_t e = {0};
    if (http_known_fields(r, create ? "a survey campaign" : "a campaign change",
                          create ? create_fields : patch_fields) != 0)
        return -1;
    if (create) {
        if (api_opt_uuid(r->json, "project_id", &in->project_id, &e) < 0 ||
            api_req_str(r->json, "title", 200, &in->title, &e) < 0 ||
            api_opt_enum(r->json, "kind", core_survey_kind_from_string, core_survey_kind_list,
                         &in->kind, &e) < 0 ||
            api_opt_enum(r->json, "cadence", core_survey_cadence_from_string,
                         core_survey_cadence_list, &in->cadence, &e) < 0)
            return api_err_send(r, &e), -1;
        if (!in->project_id) {
            http_invalid(r, NULL, "project_id", "missing_field", "required",
                         "'project_id' is required");
            return -1;
        }
        if (!in->kind)
            in->kind = "periodic";
        int periodic = !strcmp(in->kind, "periodic");
        if (!in->cadence)
            in->cadence = periodic ? "quarterly" : "once"; /* RULES §3.2.1 */
        if (periodic != (strcmp(in->cadence, "once") != 0)) {
            http_invalid(r, NULL, "cadence", "invalid_field", "not_applicable",
                         periodic ? "a periodic campaign's cadence is quarterly, semi_annual or "
                                    "yearly"
                                  : "only periodic campaigns repeat: cadence must be 'once'");
            return -1;
        }
    } else if (api_opt_str(r->json, "title", 200, &in->title, &e) < 0) {
        return api_err_send(r, &e), -1;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->json, "distribution");
    if (d && !cJSON_IsNull(d)) {
        if (!cJSON_IsString(d) ||
            (strcmp(d->valuestring, "count") && strcmp(d->valuestring, "per_unit"))) {
            http_invalid(r, NULL, "distribution", "invalid_field", "invalid_enum",
                         "'distribution' must be 'count' (copies_distributed given) or "
                         "'per_unit' (one copy per occupied unit, counted when it opens)");
            return -1;
        }
        in->distribution = d->valuestring;
    }
    if (read_period(r, in) != 0 || read_copies(r, in) != 0)
        return -1;
    if (in->has_copies && in->distribution && !strcmp(in->distribution, "per_unit")) {
        http_invalid(r, NULL, "copies_distributed", "invalid_field", "not_applicable",
                     "a per_unit campaign counts its copies itself when it opens");
        return -1;
    }
    return read_items(r, in);
}

/* Stores the items; 0, or -1 with the problem sent. */
static int store_items(req_t *r, db_conn_t *c, const char *id, const char *project,
                       const campaign_in_t *in)
{
    int inserted = 0;
    if (db_survey_items_replace(c, r->principal.org_id, id, project, in->items_json, &inserted) !=
        0) {
        http_db_fail(r, "the campaign was not saved");
        return -1;
    }
    if (inserted != in->nitems) {
        http_invalid(r, NULL, "items", "invalid_field", "not_found",
                     "an item's department_id is not a department of the campaign's project");
        return -1;
    }
    return 0;
}

/* ---- handlers ------------------------------------------------------------------------- */

static void send_campaign(req_t *r, db_conn_t *c, const char *id, int status)
{
    char *j = db_survey_campaign_json(c, r->principal.org_id, id);
    if (!j) {
        http_db_fail(r, NULL);
        return;
    }
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Location: /v1/survey-campaigns/%s\r\n", id);
    http_send_json(r, status, j, status == 201 ? hdr : NULL);
    free(j);
}

static void campaign_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_SURVEY_MANAGE) != 0 || http_json_body(r) != 0)
        return;
    campaign_in_t in;
    if (read_campaign(r, 1, &in) != 0)
        goto out;
    az_target_t t = {r->principal.org_id, in.project_id, NULL, NULL, NULL};
    if (http_authorize(r, AZ_SURVEY_MANAGE, &t) != 0)
        goto out;
    db_conn_t *c = http_db(r);
    if (!c)
        goto out;
    int f = db_org_project_exists(c, r->principal.org_id, in.project_id);
    if (f != 1) {
        if (f == 0)
            http_problem(r, 404, "not_found", "no such project in your scope");
        else
            http_db_fail(r, NULL);
        goto out;
    }
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        goto out;
    }
    PGresult *res = db_survey_campaign_insert(
        c, r->principal.org_id, in.project_id, in.title, in.kind, in.cadence, in.start, in.end,
        in.distribution ? in.distribution : "count", in.has_copies ? in.copies : NULL,
        r->principal.user_id);
    if (!db_ok(res) || PQntuples(res) != 1) {
        http_db_error(r, res);
        PQclear(res);
        db_rollback(c);
        goto out;
    }
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if ((in.items_json && store_items(r, c, id, in.project_id, &in) != 0)) {
        db_rollback(c);
        goto out;
    }
    if (db_commit(c) != 0) {
        http_db_fail(r, "the campaign was not saved");
        goto out;
    }
    send_campaign(r, c, id, 201);
out:
    free(in.items_json);
}

static void campaign_patch_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    int expect;
    if (!id || http_authorize_role(r, AZ_SURVEY_MANAGE) != 0 ||
        http_if_match(r, "survey campaign", &expect) != 0 || http_json_body(r) != 0)
        return;
    campaign_in_t in;
    if (read_campaign(r, 0, &in) != 0)
        goto out;
    db_conn_t *c = http_db(r);
    if (!c)
        goto out;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        goto out;
    }
    survey_campaign_row_t k;
    if (api_survey_campaign_lock(r, c, id, SURVEY_LOCK_UPDATE, AZ_SURVEY_MANAGE, &k) != 0)
        goto fail;
    if (k.version != expect) {
        char hdr[64];
        http_etag(hdr, sizeof hdr, k.version);
        http_problem_hdr(r, 412, hdr, "stale_version",
                         "the survey campaign changed since you read it (now version %d); GET it "
                         "again and retry",
                         k.version);
        goto fail;
    }
    survey_verdict_t v = core_survey_check_editable(k.state);
    if (v.status) {
        http_problem(r, v.status, v.code, "%s", v.detail);
        goto fail;
    }
    if (db_survey_campaign_update(c, r->principal.org_id, id, in.title, in.start, in.end,
                                  in.distribution, in.has_copies ? in.copies : NULL) != 0) {
        http_db_fail(r, "the campaign was not changed");
        goto fail;
    }
    if (in.items_json && store_items(r, c, id, k.project_id, &in) != 0)
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "the campaign was not changed");
        goto out;
    }
    send_campaign(r, c, id, 200);
    goto out;
fail:
    db_rollback(c);
out:
    free(in.items_json);
}

static cJSON *ratio_json(const survey_ratio_t *q)
{
    cJSON *o = cJSON_CreateObject();
    char pct[24];
    core_survey_percent_text(q, pct, sizeof pct);
    cJSON_AddNumberToObject(o, "numerator", (double)q->num);
    cJSON_AddNumberToObject(o, "denominator", (double)q->den);
    if (pct[0])
        cJSON_AddStringToObject(o, "percent", pct);
    else
        cJSON_AddNullToObject(o, "percent");
    return o;
}

static cJSON *tally_json(const survey_tally_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "answered", (double)t->answered);
    cJSON_AddNumberToObject(o, "satisfied", (double)t->satisfied);
    cJSON *by = cJSON_AddObjectToObject(o, "by_rating");
    for (int i = 0; i < SURVEY_R__COUNT; i++)
        cJSON_AddNumberToObject(by, core_survey_rating_name((survey_rating_t)i),
                                (double)t->by_rating[i]);
    survey_ratio_t q = core_survey_tally_rate(t);
    cJSON_AddItemToObject(o, "satisfaction", ratio_json(&q));
    return o;
}

/* The report of campaign id computed now from the answers that count (core formulas).
 * pub: the public summary (no department ids, no tallies by rating).  NULL on error. */
static cJSON *compute_report(db_conn_t *c, const char *org, const char *id,
                             const survey_campaign_row_t *k, int pub)
{
    survey_item_t *items = NULL;
    int n = api_survey_items_load(c, org, id, &items);
    if (n < 0)
        return NULL;
    long returned = db_survey_returned(c, org, id);
    PGresult *facts = db_survey_facts(c, org, id);
    cJSON *out = NULL;
    int *item_dept = calloc((size_t)n + 1, sizeof *item_dept);
    int *dept_first = calloc((size_t)n + 1, sizeof *dept_first); /* item index naming it */
    survey_tally_t *it = calloc((size_t)n + 1, sizeof *it), *dt = calloc((size_t)n + 1, sizeof *dt);
    survey_answer_fact_t *f = NULL;
    if (returned < 0 || !db_ok(facts) || !item_dept || !dept_first || !it || !dt)
        goto done;
    int ndepts = 0;
    for (int i = 0; i < n; i++) {
        item_dept[i] = -1;
        if (!items[i].dept[0])
            continue;
        for (int d = 0; d < ndepts && item_dept[i] < 0; d++)
            if (!strcmp(items[dept_first[d]].dept, items[i].dept))
                item_dept[i] = d;
        if (item_dept[i] < 0) {
            dept_first[ndepts] = i;
            item_dept[i] = ndepts++;
        }
    }
    int nf = PQntuples(facts);
    f = calloc((size_t)nf + 1, sizeof *f);
    if (!f)
        goto done;
    for (int i = 0; i < nf; i++) {
        f[i].item = atoi(PQgetvalue(facts, i, 0));
        f[i].rating = (survey_rating_t)core_survey_rating_from_string(PQgetvalue(facts, i, 1));
    }
    survey_summary_t s;
    memset(&s, 0, sizeof s);
    s.items = it;
    s.depts = dt;
    long copies = k->copies < 0 ? 0 : k->copies;
    if (core_survey_summarise(copies, returned, f, (size_t)nf, item_dept, n, ndepts, &s) != 0)
        goto done;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "campaign_id", id);
    cJSON_AddStringToObject(out, "title", k->title);
    cJSON *sum = cJSON_AddObjectToObject(out, "summary");
    cJSON_AddNumberToObject(sum, "copies_distributed", (double)copies);
    cJSON_AddNumberToObject(sum, "returned", (double)returned);
    cJSON_AddItemToObject(sum, "return_rate", ratio_json(&s.return_rate));
    cJSON_AddItemToObject(sum, "overall_satisfaction", ratio_json(&s.overall_rate));
    if (!pub)
        cJSON_AddItemToObject(sum, "overall", tally_json(&s.overall));
    cJSON *ia = cJSON_AddArrayToObject(out, "items");
    for (int i = 0; i < n; i++) {
        cJSON *o = pub ? cJSON_CreateObject() : tally_json(&it[i]);
        cJSON_AddStringToObject(o, "code", items[i].code);
        cJSON_AddStringToObject(o, "group", items[i].group ? items[i].group : "");
        cJSON_AddStringToObject(o, "text", items[i].text ? items[i].text : "");
        if (pub) {
            survey_ratio_t q = core_survey_tally_rate(&it[i]);
            cJSON_AddItemToObject(o, "satisfaction", ratio_json(&q));
        } else if (items[i].dept[0]) {
            cJSON_AddStringToObject(o, "department_id", items[i].dept);
        } else {
            cJSON_AddNullToObject(o, "department_id");
        }
        cJSON_AddItemToArray(ia, o);
    }
    cJSON *da = cJSON_AddArrayToObject(out, "departments");
    for (int d = 0; d < ndepts; d++) {
        const survey_item_t *first = &items[dept_first[d]];
        cJSON *o;
        if (pub) {
            o = cJSON_CreateObject();
            survey_ratio_t q = core_survey_tally_rate(&dt[d]);
            cJSON_AddItemToObject(o, "satisfaction", ratio_json(&q));
        } else {
            o = tally_json(&dt[d]);
            cJSON_AddStringToObject(o, "department_id", first->dept);
            cJSON *codes = cJSON_AddArrayToObject(o, "items");
            for (int i = 0; i < n; i++)
                if (item_dept[i] == d)
                    cJSON_AddItemToArray(codes, cJSON_CreateString(items[i].code));
        }
        cJSON_AddStringToObject(o, "name", first->dept_name);
        cJSON_AddItemToArray(da, o);
    }
done:
    PQclear(facts);
    free(f);
    free(item_dept);
    free(dept_first);
    free(it);
    free(dt);
    api_survey_items_free(items, n);
    return out;
}

/* RULES §3.2.9, §3.3.1 (002 第8篇 5.10): at `reported`, every department whose satisfaction
 * in the report being frozen is below the project's target gets a corrective action, in
 * the report's transaction (capa_create_for_department: once per department and period).
 * The report records the target and, per department, below_target and the action
 * {id, number}.  0, or -1 with the problem sent. */
static int below_target_actions(req_t *r, db_conn_t *c, const char *id,
                                const survey_campaign_row_t *k, cJSON *rep)
{
    int target = SURVEY_DEFAULT_TARGET_PERCENT;
    char period[80];
    if (db_survey_target(c, r->principal.org_id, id, SURVEY_DEFAULT_TARGET_PERCENT, &target,
                         period) != 1) {
        http_db_fail(r, "the campaign was not reported");
        return -1;
    }
    cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(rep, "summary"), "target_percent",
                            target);
    cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(rep, "departments"))
    {
        const cJSON *sat = cJSON_GetObjectItemCaseSensitive(d, "satisfaction");
        const char *dept =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "department_id"));
        survey_ratio_t q = core_survey_ratio(
            (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sat, "numerator")),
            (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sat, "denominator")));
        int below = dept && core_survey_below_target(&q, target);
        cJSON_AddBoolToObject(d, "below_target", below);
        if (!below)
            continue;
        char *json = NULL;
        int rc = capa_create_for_department(c, r->principal.org_id, k->project_id, dept, period,
                                            (double)q.num * 100.0 / (double)q.den, target,
                                            r->principal.user_id, core_role_name(r->principal.role),
                                            &json);
        cJSON *ca = rc == 0 || rc == 1 ? cJSON_Parse(json) : NULL;
        free(json);
        if (!ca) {
            http_db_fail(r, "the campaign was not reported (a corrective action for a department "
                            "below target could not be opened)");
            return -1;
        }
        cJSON *link = cJSON_AddObjectToObject(d, "corrective_action");
        cJSON_AddStringToObject(link, "id",
                                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ca, "id")));
        cJSON_AddStringToObject(
            link, "number", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ca, "number")));
        cJSON_Delete(ca);
    }
    return 0;
}

static void campaign_action_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_SURVEY_MANAGE) != 0)
        return;
    int a = core_survey_action_from_string(r->params[1]);
    if (a < 0) {
        http_problem(r, 404, "not_found", "no such campaign action (open, close, report)");
        return;
    }
    const char *opinion = NULL;
    if (a == SURVEY_ACT_REPORT) {
        static const char *const fields[] = {"opinion", NULL};
        api_err_t e = {0};
        if (http_json_body(r) != 0 || http_known_fields(r, "a report", fields) != 0)
            return;
        if (api_opt_str(r->json, "opinion", 10000, &opinion, &e) < 0) {
            api_err_send(r, &e);
            return;
        }
    } else if (http_no_body(r) != 0) {
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    survey_campaign_row_t k;
    char *report = NULL;
    if (api_survey_campaign_lock(r, c, id, SURVEY_LOCK_UPDATE, AZ_SURVEY_MANAGE, &k) != 0)
        goto fail;
    survey_state_t next;
    survey_verdict_t v = core_survey_transition(k.state, (survey_action_t)a, k.nitems, k.copies,
                                                opinion != NULL, &next);
    if (v.status == 422) {
        http_invalid(r, NULL, "opinion", v.code, "required", "%s", v.detail);
        goto fail;
    }
    if (v.status) {
        http_problem(r, v.status, v.code, "%s (the campaign is %s)", v.detail,
                     core_survey_state_name(k.state));
        goto fail;
    }
    if (next == SURVEY_REPORTED) {
        /* The numbers freeze with the report: computed once, here, in the transaction that
         * holds the campaign (no response can be corrected meanwhile). */
        cJSON *rep = compute_report(c, r->principal.org_id, id, &k, 0);
        if (!rep) {
            http_db_fail(r, "the campaign was not reported");
            goto fail;
        }
        cJSON_AddStringToObject(rep, "opinion", opinion);
        if (below_target_actions(r, c, id, &k, rep) != 0) {
            cJSON_Delete(rep);
            goto fail;
        }
        report = cJSON_PrintUnformatted(rep);
        cJSON_Delete(rep);
    }
    if (db_survey_campaign_move(c, r->principal.org_id, id, core_survey_state_name(next), opinion,
                                report) != 0 ||
        db_commit(c) != 0) {
        http_db_fail(r, "the campaign was not changed");
        goto fail;
    }
    free(report);
    send_campaign(r, c, id, 200);
    return;
fail:
    free(report);
    db_rollback(c);
}

static int load_campaign(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)arg;
    f->json = db_survey_campaign_json(c, r->principal.org_id, id);
    if (!f->json)
        return 0;
    cJSON *j = cJSON_Parse(f->json);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "project_id");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "version");
    snprintf(f->project_id, sizeof f->project_id, "%s", cJSON_IsString(p) ? p->valuestring : "");
    f->version = cJSON_IsNumber(v) ? v->valueint : -1;
    cJSON_Delete(j);
    return 1;
}

static void campaign_get_h(req_t *r)
{
    http_get_one(r, AZ_SURVEY_READ, "survey campaign", load_campaign, NULL);
}

static void campaign_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_SURVEY_READ) != 0)
        return;
    char project[64], state[32];
    const char *fp = NULL, *fs = NULL;
    if (http_query(r, "project_id", project, sizeof project) >= 0) {
        if (!http_is_uuid(project)) {
            http_problem(r, 400, "invalid_query", "'project_id' must be a UUID");
            return;
        }
        fp = project;
    }
    if (http_query(r, "state", state, sizeof state) >= 0) {
        if (core_survey_state_from_string(state) < 0) {
            http_problem(r, 400, "invalid_query",
                         "'state' must be one of draft, open, closed, reported");
            return;
        }
        fs = state;
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_survey_campaign_list(c, r->principal.org_id, http_scope_projects(r), fp, fs,
                                            pg.cursor_ts, pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

/* GET …/report (pub 0) and …/public-summary (pub 1). */
static void report_common(req_t *r, int pub)
{
    const char *id = http_uuid_param(r, 0);
    az_action_t action = pub ? AZ_SURVEY_PUBLIC : AZ_SURVEY_READ;
    if (!id || http_authorize_role(r, action) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    if (db_begin_snapshot(c) != 0) {
        http_db_fail(r, NULL);
        return;
    }
    survey_campaign_row_t k;
    if (api_survey_campaign_lock(r, c, id, SURVEY_LOCK_NONE, action, &k) != 0) {
        db_rollback(c);
        return;
    }
    cJSON *out = NULL;
    if (k.state == SURVEY_REPORTED) {
        char *frozen = db_survey_campaign_report(c, r->principal.org_id, id);
        out = frozen ? cJSON_Parse(frozen) : NULL;
        free(frozen);
        if (out && pub) {
            /* The notice-board table: figures only — no department ids, no tallies. */
            cJSON *sum = cJSON_GetObjectItemCaseSensitive(out, "summary");
            cJSON_DeleteItemFromObjectCaseSensitive(sum, "overall");
            cJSON *it;
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "items"))
            {
                cJSON_DeleteItemFromObjectCaseSensitive(it, "department_id");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "by_rating");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "answered");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "satisfied");
            }
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "departments"))
            {
                cJSON_DeleteItemFromObjectCaseSensitive(it, "department_id");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "corrective_action");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "items");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "by_rating");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "answered");
                cJSON_DeleteItemFromObjectCaseSensitive(it, "satisfied");
            }
        }
    } else if (pub) {
        db_rollback(c);
        http_problem(r, 409, "campaign_not_reported",
                     "the public summary exists once the campaign is reported (it is %s)",
                     core_survey_state_name(k.state));
        return;
    } else {
        out = compute_report(c, r->principal.org_id, id, &k, 0);
        if (out)
            cJSON_AddNullToObject(out, "opinion");
    }
    db_rollback(c);
    if (!out) {
        http_db_fail(r, NULL);
        return;
    }
    cJSON_AddStringToObject(out, "state", core_survey_state_name(k.state));
    cJSON_AddBoolToObject(out, "frozen", k.state == SURVEY_REPORTED);
    http_send_cjson(r, 200, out, NULL);
    cJSON_Delete(out);
}

static void report_h(req_t *r)
{
    report_common(r, 0);
}

static void public_summary_h(req_t *r)
{
    report_common(r, 1);
}

/* The form residents answer in the app: items and the scale; a draft is not published. */
static void form_h(req_t *r)
{
    const char *id = http_uuid_param(r, 0);
    if (!id || http_authorize_role(r, AZ_SURVEY_PUBLIC) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    survey_campaign_row_t k;
    if (api_survey_campaign_lock(r, c, id, SURVEY_LOCK_NONE, AZ_SURVEY_PUBLIC, &k) != 0)
        return;
    if (k.state == SURVEY_DRAFT) {
        http_problem(r, 404, "not_found", "no survey campaign with this id in your scope");
        return;
    }
    survey_item_t *items;
    int n = api_survey_items_load(c, r->principal.org_id, id, &items);
    if (n < 0) {
        http_db_fail(r, NULL);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "campaign_id", id);
    cJSON_AddStringToObject(out, "title", k.title);
    cJSON_AddStringToObject(out, "state", core_survey_state_name(k.state));
    cJSON *ia = cJSON_AddArrayToObject(out, "items");
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", items[i].code);
        cJSON_AddStringToObject(o, "group", items[i].group ? items[i].group : "");
        cJSON_AddStringToObject(o, "text", items[i].text ? items[i].text : "");
        cJSON_AddItemToArray(ia, o);
    }
    cJSON *scale = cJSON_AddArrayToObject(out, "scale");
    for (int i = 0; i < SURVEY_R__COUNT; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", core_survey_rating_name((survey_rating_t)i));
        cJSON_AddStringToObject(o, "label", core_survey_rating_label((survey_rating_t)i));
        cJSON_AddBoolToObject(o, "satisfied", core_survey_rating_satisfied((survey_rating_t)i));
        cJSON_AddItemToArray(scale, o);
    }
    api_survey_items_free(items, n);
    http_send_cjson(r, 200, out, NULL);
    cJSON_Delete(out);
}

/* The campaigns open for answers in the caller's projects (what the app offers). */
static void open_forms_h(req_t *r)
{
    if (http_authorize_role(r, AZ_SURVEY_PUBLIC) != 0)
        return;
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_survey_open_forms(c, r->principal.org_id, http_scope_projects(r),
                                         pg.cursor_ts, pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

void api_survey_register(void)
{
    http_route("POST", "/v1/survey-campaigns", campaign_create_h, 0, NULL);
    http_route("GET", "/v1/survey-campaigns", campaign_list_h, 0, NULL);
    http_route("GET", "/v1/survey-campaigns/{id}", campaign_get_h, 0, NULL);
    http_route("PATCH", "/v1/survey-campaigns/{id}", campaign_patch_h, 0, NULL);
    http_route("POST", "/v1/survey-campaigns/{id}/actions/{action}", campaign_action_h, 0, NULL);
    http_route("GET", "/v1/survey-campaigns/{id}/report", report_h, 0, NULL);
    http_route("GET", "/v1/survey-campaigns/{id}/public-summary", public_summary_h, 0, NULL);
    http_route("GET", "/v1/survey-campaigns/{id}/form", form_h, 0, NULL);
    http_route("POST", "/v1/survey-campaigns/{id}/responses", api_survey_response_create_h, 0,
               NULL);
    http_route("GET", "/v1/survey-campaigns/{id}/responses", api_survey_response_list_h, 0, NULL);
    http_route("GET", "/v1/survey-responses/{id}", api_survey_response_get_h, 0, NULL);
    http_route("GET", "/v1/survey-forms", open_forms_h, 0, NULL);
    http_route("POST", "/v1/survey-responses/{id}/corrections", api_survey_response_correct_h, 0,
               NULL);
}
