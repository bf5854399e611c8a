/*
 * api/handover.c — shift handovers (交接班, RULES §3.8): drafted prefilled from live data
 * (open requests and work orders, keys on loan, mail in custody, open incidents, the night
 * desk's requests, the project's face-to-face checklist), submitted by the outgoing person
 * (their signature) and accepted by the incoming person with their own token.  Submission
 * and acceptance are judged by core_handover_check on the live facts (409 with every
 * reason) and core_handover_unfinished_check (422 with pointers).  Lateness is computed by
 * core_handover_late_minutes on every answer.
 */
#include "api/api.h"
#include "api/codec.h"
#include "api/duty.h"
#include "api/request.h"
#include "api/validate.h"
#include "core/duty.h"
#include "core/rfc3339.h"
#include "db/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_UNFINISHED 500
#define MAX_OPEN       2000

void api_handover_annotate(cJSON *h, int64_t now)
{
    int64_t planned = 0, accepted = 0;
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "planned_at"));
    const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "accepted_at"));
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(h, "grace_minutes");
    if (!p || rfc3339_parse(p, &planned) != 0)
        return;
    if (a && rfc3339_parse(a, &accepted) != 0)
        accepted = 0;
    long late =
        core_handover_late_minutes(planned, accepted, now, cJSON_IsNumber(g) ? g->valueint : 15);
    cJSON_AddNumberToObject(h, "late_minutes", (double)late);
    cJSON_AddBoolToObject(h, "late", late > 0);
}

/* Answers one handover's JSON text (annotated) with status; PQclears res. */
static void send_handover(req_t *r, int status, PGresult *res)
{
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no handover with this id in your scope");
        return;
    }
    cJSON *h = cJSON_Parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!h) {
        http_problem(r, 500, "internal", "a stored handover could not be read");
        return;
    }
    api_handover_annotate(h, (int64_t)time(NULL));
    char etag[64];
    http_send_cjson(r, status, h, api_duty_etag(h, etag)[0] ? etag : NULL);
    cJSON_Delete(h);
}

/* ---- loading -------------------------------------------------------------------------- */

enum {
    H_JSON,
    H_PROJECT,
    H_STATE,
    H_INCOMING,
    H_REPLACEMENT,
    H_UNFIT,
    H_FROM,
    H_TO,
    H_SECTIONS,
    H_OUTGOING
};

static PGresult *load(req_t *r, db_conn_t *c, az_action_t az, int lock)
{
    const char *id = http_uuid_param(r, 0);
    if (!id)
        return NULL;
    const char *v[] = {r->principal.org_id, id, r->principal.user_id};
    PGresult *res = api_duty_run(r, c, lock ? DQ_HANDOVER_LOCK : DQ_HANDOVER_GET, v);
    if (!res)
        return NULL;
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_problem(r, 404, "not_found", "no handover with this id in your scope");
        return NULL;
    }
    az_target_t t = {r->principal.org_id, PQgetvalue(res, 0, H_PROJECT), NULL, NULL, NULL};
    if (http_authorize(r, az, &t) != 0) {
        PQclear(res);
        return NULL;
    }
    return res;
}

static const char *col(PGresult *res, int i)
{
    return PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
}

/* The live facts of the project into *s (sections from the JSON text `sections`, kept in
 * secs/owned by *keep).  0, or -1 sent. */
static int facts(req_t *r, db_conn_t *c, const char *project, const char *from_shift,
                 cJSON *sections, handover_section_t *secs, handover_state_t *s)
{
    const char *v[] = {r->principal.org_id, project, from_shift};
    PGresult *res = api_duty_run(r, c, DQ_FACTS, v);
    if (!res)
        return -1;
    s->open_emergencies = atoi(PQgetvalue(res, 0, 0));
    s->open_major = atoi(PQgetvalue(res, 0, 1));
    s->open_incidents = atoi(PQgetvalue(res, 0, 2));
    s->equipment_transition = PQgetvalue(res, 0, 3)[0] == 't';
    PQclear(res);
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, sections)
    {
        if (n >= HANDOVER_MAX_SECTIONS)
            break;
        secs[n].code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "code"));
        secs[n].required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "required"));
        secs[n].confirmed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "confirmed"));
        n++;
    }
    s->sections = secs;
    s->nsections = n;
    return 0;
}

static cJSON *reasons_json(const handover_reason_item_t *it, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", core_handover_reason_name(it[i].reason));
        cJSON_AddStringToObject(o, "detail", it[i].detail);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* Answers 409 handover_refused with every reason.  The refused step's transaction is rolled
 * back (nothing of it is kept), then the refusal itself — who tried which step of handover h
 * and why — is recorded in its own transaction (handover_refusals, announced as
 * handover.refused).  Failing to record it is logged; the answer stays the refusal. */
static void refuse(req_t *r, db_conn_t *c, PGresult *h, const char *stage,
                   const handover_reason_item_t *it, size_t n)
{
    char detail[400];
    snprintf(detail, sizeof detail, "the handover cannot proceed: %s%s", it[0].detail,
             n > 1 ? " (and more: see reasons)" : "");
    cJSON *reasons = reasons_json(it, n);
    char *text = cJSON_PrintUnformatted(reasons);
    db_rollback(c);
    const char *v[] = {r->principal.org_id,   PQgetvalue(h, 0, H_PROJECT),
                       http_uuid_param(r, 0), stage,
                       r->principal.user_id,  text};
    /* recorded before the answer: whoever reads after the 409 finds the refusal */
    if (!text || db_begin(c) != 0 || db_duty_do(c, DQ_HANDOVER_REFUSAL, v) != 0 ||
        db_commit(c) != 0) {
        db_rollback(c);
        log_write(LOG_WARN, "a refused handover step could not be recorded", NULL);
    }
    free(text);
    api_duty_problem(r, 409, "handover_refused", NULL, NULL, detail, "reasons", reasons);
}

/* ---- create --------------------------------------------------------------------------- */

static const char *const create_fields[] = {"from_shift_id", "to_shift_id", "incoming_user_id",
                                            "planned_at", NULL};

static void create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_json_body(r) != 0)
        return;
    api_err_t e;
    const cJSON *b = r->json;
    const char *from = NULL, *to = NULL, *incoming = NULL;
    int64_t planned = 0;
    if (api_only_known(b, create_fields, "a handover", &e) < 0 ||
        api_req_str(b, "from_shift_id", 36, &from, &e) < 0 ||
        api_opt_uuid(b, "from_shift_id", &from, &e) < 0 ||
        api_opt_uuid(b, "to_shift_id", &to, &e) < 0 ||
        api_req_str(b, "incoming_user_id", 36, &incoming, &e) < 0 ||
        api_opt_uuid(b, "incoming_user_id", &incoming, &e) < 0 ||
        api_opt_time(b, "planned_at", &planned, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    if (!strcasecmp(incoming, r->principal.user_id)) {
        http_invalid(r, NULL, "incoming_user_id", "invalid_field", "invalid",
                     "the incoming person is someone else than the outgoing one");
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    PGresult *shift = NULL, *res = NULL;
    const char *sv[] = {r->principal.org_id, from, r->principal.user_id};
    if (!(shift = api_duty_run(r, c, DQ_SHIFT_LOCK, sv)))
        goto fail;
    if (PQntuples(shift) != 1) {
        http_invalid(r, NULL, "from_shift_id", "invalid_field", "not_found",
                     "'from_shift_id' names no shift in your scope");
        goto fail;
    }
    const char *project = PQgetvalue(shift, 0, 1);
    az_target_t t = {r->principal.org_id, project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_DUTY_WRITE, &t) != 0)
        goto fail;
    if (PQgetvalue(shift, 0, 2)[0] != 't' && !api_duty_supervises(r, project)) {
        http_problem(r, 403, "not_on_shift",
                     "only a user on the outgoing shift (or a supervisor) drafts its handover");
        goto fail;
    }
    if (to) {
        const char *tv[] = {r->principal.org_id, to, r->principal.user_id};
        if (!(res = api_duty_run(r, c, DQ_SHIFT_GET, tv)))
            goto fail;
        int same =
            PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 1), project) && strcasecmp(to, from);
        PQclear(res);
        res = NULL;
        if (!same) {
            http_invalid(r, NULL, "to_shift_id", "invalid_field", "not_found",
                         "'to_shift_id' names no other shift of the same project");
            goto fail;
        }
    }
    char lit[48];
    snprintf(lit, sizeof lit, "{%s}", incoming);
    const char *uv[] = {r->principal.org_id, lit, project};
    if (!(res = api_duty_run(r, c, DQ_USERS_IN_PROJECT, uv)))
        goto fail;
    int staff = atoi(PQgetvalue(res, 0, 0)) == 1;
    PQclear(res);
    res = NULL;
    if (!staff) {
        http_invalid(r, NULL, "incoming_user_id", "invalid_field", "not_found",
                     "'incoming_user_id' names no active member of staff of the project");
        goto fail;
    }
    /* The project's checklist and grace. */
    const char *gv[] = {r->principal.org_id, project, api_duty_default_checklist};
    if (!(res = api_duty_run(r, c, DQ_SETTINGS_GET, gv)))
        goto fail;
    cJSON *settings = cJSON_Parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    cJSON *sections = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(settings, "handover_checklist"))
    {
        cJSON *o = cJSON_Duplicate(it, 1);
        if (!cJSON_GetObjectItemCaseSensitive(o, "required"))
            cJSON_AddBoolToObject(o, "required", 1);
        cJSON_AddBoolToObject(o, "confirmed", 0);
        cJSON_AddNullToObject(o, "note");
        cJSON_AddItemToArray(sections, o);
    }
    const cJSON *gr = cJSON_GetObjectItemCaseSensitive(settings, "accept_grace_minutes");
    char grace[16];
    snprintf(grace, sizeof grace, "%d", cJSON_IsNumber(gr) ? gr->valueint : 15);
    cJSON_Delete(settings);
    char *sec_text = cJSON_PrintUnformatted(sections);
    cJSON_Delete(sections);
    const char *pv[] = {r->principal.org_id, project};
    res = api_duty_run(r, c, DQ_PREFILL, pv);
    if (!res) {
        free(sec_text);
        goto fail;
    }
    char *prefill = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!planned) {
        /* The planned end of the outgoing shift. */
        cJSON *sj = cJSON_Parse(PQgetvalue(shift, 0, 0));
        const char *pe = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sj, "planned_end"));
        if (!pe || rfc3339_parse(pe, &planned) != 0)
            planned = (int64_t)time(NULL);
        cJSON_Delete(sj);
    }
    char pb[32];
    const char *iv[] = {
        r->principal.org_id,         project, from,     to,   r->principal.user_id, incoming,
        api_duty_epoch(planned, pb), prefill, sec_text, grace};
    res = api_duty_run(r, c, DQ_HANDOVER_INSERT, iv);
    free(prefill);
    free(sec_text);
    if (!res)
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    PQclear(shift);
    send_handover(r, 201, res);
    return;
fail:
    PQclear(shift);
    PQclear(res);
    db_rollback(c);
}

/* ---- read ----------------------------------------------------------------------------- */

static void get_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    PGresult *res = c ? load(r, c, AZ_DUTY_READ, 0) : NULL;
    if (res)
        send_handover(r, 200, res);
}

static void list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    char pb[40], fb[64], tb[64], sb[16], f32[32], t32[32];
    const char *project = NULL, *from = NULL, *to = NULL, *state = NULL;
    int64_t t;
    if (http_query(r, "project_id", pb, sizeof pb) >= 0) {
        if (!http_is_uuid(pb)) {
            http_problem(r, 400, "invalid_query", "'project_id' must be a UUID");
            return;
        }
        project = pb;
    }
    if (http_query(r, "from", fb, sizeof fb) >= 0) {
        if (rfc3339_parse(fb, &t) != 0) {
            http_problem(r, 400, "invalid_query", "'from' must be an RFC 3339 time");
            return;
        }
        from = api_duty_epoch(t, f32);
    }
    if (http_query(r, "to", tb, sizeof tb) >= 0) {
        if (rfc3339_parse(tb, &t) != 0) {
            http_problem(r, 400, "invalid_query", "'to' must be an RFC 3339 time");
            return;
        }
        to = api_duty_epoch(t, t32);
    }
    if (http_query(r, "state", sb, sizeof sb) >= 0) {
        if (strcmp(sb, "draft") && strcmp(sb, "submitted") && strcmp(sb, "accepted")) {
            http_problem(r, 400, "invalid_query", "'state' is draft, submitted or accepted");
            return;
        }
        state = sb;
    }
    page_t pg;
    if (http_page_params(r, &pg) != 0)
        return;
    if (project && !core_authz_in_project(&r->principal, project)) {
        api_duty_send_empty_page(r);
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", pg.limit + 1);
    const char *v[] = {r->principal.org_id, http_scope_projects(r), project, from, to, state,
                       pg.cursor_ts,        pg.cursor_id,           lim};
    PGresult *res = api_duty_run(r, c, DQ_HANDOVER_LIST, v);
    if (!res)
        return;
    /* As http_send_page, each item annotated with its lateness. */
    int n = PQntuples(res), shown = n > pg.limit ? pg.limit : n;
    int64_t now = (int64_t)time(NULL);
    cJSON *out = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(out, "items");
    for (int i = 0; i < shown; i++) {
        cJSON *it = cJSON_Parse(PQgetvalue(res, i, 0));
        if (it) {
            api_handover_annotate(it, now);
            cJSON_AddItemToArray(a, it);
        }
    }
    if (n > pg.limit) {
        char raw[128], enc[200];
        int rl = snprintf(raw, sizeof raw, "%s|%s", PQgetvalue(res, shown - 1, 1),
                          PQgetvalue(res, shown - 1, 2));
        b64url_encode((unsigned char *)raw, (size_t)rl, enc);
        cJSON_AddStringToObject(out, "next_cursor", enc);
    } else {
        cJSON_AddNullToObject(out, "next_cursor");
    }
    PQclear(res);
    http_send_cjson(r, 200, out, NULL);
    cJSON_Delete(out);
}

/* GET …/check: the reasons it would be refused now (for the outgoing person's view). */
static void check_h(req_t *r)
{
    if (http_authorize_role(r, AZ_DUTY_READ) != 0)
        return;
    db_conn_t *c = http_db(r);
    PGresult *res = c ? load(r, c, AZ_DUTY_READ, 0) : NULL;
    if (!res)
        return;
    cJSON *sections = cJSON_Parse(PQgetvalue(res, 0, H_SECTIONS));
    handover_section_t secs[HANDOVER_MAX_SECTIONS];
    handover_state_t s;
    memset(&s, 0, sizeof s);
    s.incoming_unfit = PQgetvalue(res, 0, H_UNFIT)[0] == 't';
    s.replacement_accepting = col(res, H_REPLACEMENT) != NULL;
    if (facts(r, c, PQgetvalue(res, 0, H_PROJECT), PQgetvalue(res, 0, H_FROM), sections, secs,
              &s) == 0) {
        handover_reason_item_t items[HANDOVER_MAX_REASONS];
        size_t n = core_handover_check(&s, items);
        cJSON *out = cJSON_CreateObject();
        cJSON_AddBoolToObject(out, "may_proceed", n == 0);
        cJSON_AddItemToObject(out, "reasons", reasons_json(items, n));
        http_send_cjson(r, 200, out, NULL);
        cJSON_Delete(out);
    }
    cJSON_Delete(sections);
    PQclear(res);
}

/* ---- submit --------------------------------------------------------------------------- */

static const char *const submit_fields[] = {
    "sections",         "unfinished", "instructions", "major_issues", "equipment_status",
    "staffing_changes", NULL};
static const char *const section_fields[] = {"code", "confirmed", "note", NULL};
static const char *const unfinished_fields[] = {"ref_type", "ref_id", "reason", NULL};

/* Applies the body's section confirmations to the stored sections; 0 or -1 sent. */
static int merge_sections(req_t *r, cJSON *stored)
{
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(r->json, "sections");
    if (!given)
        return 0;
    if (!cJSON_IsArray(given)) {
        http_invalid(r, NULL, "sections", "invalid_field", "invalid_type",
                     "'sections' is an array of {code, confirmed, note}");
        return -1;
    }
    const cJSON *it;
    api_err_t e;
    cJSON_ArrayForEach(it, given)
    {
        const char *code = NULL, *note = NULL;
        if (!cJSON_IsObject(it)) {
            http_invalid(r, it, NULL, "invalid_field", "invalid_type", "each section is an object");
            return -1;
        }
        if (api_only_known(it, section_fields, "a section", &e) < 0 ||
            api_req_str(it, "code", 64, &code, &e) < 0 ||
            api_opt_str(it, "note", 2000, &note, &e) < 0) {
            api_err_send(r, &e);
            return -1;
        }
        const cJSON *cf = cJSON_GetObjectItemCaseSensitive(it, "confirmed");
        if (!cJSON_IsBool(cf)) {
            http_invalid(r, it, "confirmed", cf ? "invalid_field" : "missing_field",
                         cf ? "invalid_type" : "required", "'confirmed' is true or false");
            return -1;
        }
        cJSON *match = NULL, *s;
        cJSON_ArrayForEach(s, stored)
        {
            const char *sc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "code"));
            if (sc && !strcmp(sc, code))
                match = s;
        }
        if (!match) {
            http_invalid(r, it, "code", "invalid_field", "not_found",
                         "'%s' is not a section of this handover's checklist", code);
            return -1;
        }
        cJSON_ReplaceItemInObjectCaseSensitive(match, "confirmed",
                                               cJSON_CreateBool(cJSON_IsTrue(cf)));
        cJSON_ReplaceItemInObjectCaseSensitive(
            match, "note", note ? cJSON_CreateString(note) : cJSON_CreateNull());
    }
    return 0;
}

/* Reads the body's unfinished items into items (pointers into r->json); 0 or -1 sent. */
static int read_unfinished(req_t *r, handover_unfinished_t *items, size_t *n)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(r->json, "unfinished");
    *n = 0;
    if (!u)
        return 0;
    if (!cJSON_IsArray(u) || cJSON_GetArraySize(u) > MAX_UNFINISHED) {
        http_invalid(r, NULL, "unfinished", "invalid_field", "invalid_type",
                     "'unfinished' is an array of at most %d {ref_type, ref_id, reason}",
                     MAX_UNFINISHED);
        return -1;
    }
    const cJSON *it;
    api_err_t e;
    cJSON_ArrayForEach(it, u)
    {
        if (!cJSON_IsObject(it)) {
            http_invalid(r, it, NULL, "invalid_field", "invalid_type", "each item is an object");
            return -1;
        }
        const char *rt = NULL, *id = NULL, *why = NULL;
        if (api_only_known(it, unfinished_fields, "an unfinished item", &e) < 0 ||
            api_opt_str(it, "ref_type", 32, &rt, &e) < 0 ||
            api_opt_str(it, "ref_id", 36, &id, &e) < 0 ||
            api_opt_str(it, "reason", 2000, &why, &e) < 0) {
            api_err_send(r, &e);
            return -1;
        }
        items[*n].ref_type = rt;
        items[*n].ref_id = id;
        items[*n].reason = why;
        (*n)++;
    }
    return 0;
}

static void submit_h(req_t *r)
{
    int expect;
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "handover", &expect) != 0)
        return;
    api_err_t e;
    const char *texts[4] = {NULL, NULL, NULL, NULL};
    if (api_only_known(r->json, submit_fields, "a handover submission", &e) < 0 ||
        api_opt_str(r->json, "instructions", 4000, &texts[0], &e) < 0 ||
        api_opt_str(r->json, "major_issues", 4000, &texts[1], &e) < 0 ||
        api_opt_str(r->json, "equipment_status", 4000, &texts[2], &e) < 0 ||
        api_opt_str(r->json, "staffing_changes", 4000, &texts[3], &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    handover_unfinished_t *items = calloc(MAX_UNFINISHED, sizeof *items);
    size_t nitems = 0;
    if (!items) {
        http_problem(r, 503, "out_of_memory", "try again");
        return;
    }
    db_conn_t *c = NULL;
    if (read_unfinished(r, items, &nitems) != 0 || !(c = http_db_begin(r))) {
        free(items);
        return;
    }
    cJSON *sections = NULL;
    PGresult *h = load(r, c, AZ_DUTY_WRITE, 1), *res = NULL;
    const char **open = NULL;
    if (!h || api_duty_fresh(r, h, expect, "handover") != 0)
        goto fail;
    if (strcmp(PQgetvalue(h, 0, H_STATE), "draft")) {
        http_problem(r, 409, "invalid_state", "this handover is already %s",
                     PQgetvalue(h, 0, H_STATE));
        goto fail;
    }
    if (PQgetvalue(h, 0, H_OUTGOING)[0] != 't') {
        http_problem(r, 403, "not_outgoing",
                     "only the outgoing person signs the handover, with their own token");
        goto fail;
    }
    sections = cJSON_Parse(PQgetvalue(h, 0, H_SECTIONS));
    if (!sections || merge_sections(r, sections) != 0)
        goto fail;
    const char *project = PQgetvalue(h, 0, H_PROJECT);
    /* Each open matter is finished or handed over with a reason. */
    const char *ov[] = {r->principal.org_id, project};
    if (!(res = api_duty_run(r, c, DQ_OPEN_IDS, ov)))
        goto fail;
    int nopen = PQntuples(res) > MAX_OPEN ? MAX_OPEN : PQntuples(res);
    open = calloc((size_t)nopen + 1, sizeof *open);
    for (int i = 0; open && i < nopen; i++)
        open[i] = PQgetvalue(res, i, 0);
    duty_verdict_t v = core_handover_unfinished_check(items, nitems, open, (size_t)nopen);
    if (v.status) {
        api_duty_problem(r, v.status, v.code, v.pointer,
                         !strcmp(v.code, "missing_field") ? "required" : "invalid", v.detail, NULL,
                         NULL);
        goto fail;
    }
    handover_section_t secs[HANDOVER_MAX_SECTIONS];
    handover_state_t s;
    memset(&s, 0, sizeof s);
    s.incoming_unfit = PQgetvalue(h, 0, H_UNFIT)[0] == 't';
    s.replacement_accepting = col(h, H_REPLACEMENT) != NULL; /* a replacement is found */
    if (facts(r, c, project, PQgetvalue(h, 0, H_FROM), sections, secs, &s) != 0)
        goto fail;
    handover_reason_item_t reasons[HANDOVER_MAX_REASONS];
    size_t nr = core_handover_check(&s, reasons);
    if (nr) {
        refuse(r, c, h, "submit", reasons, nr);
        goto fail;
    }
    char *sec_text = cJSON_PrintUnformatted(sections);
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(r->json, "unfinished");
    char *unf_text = u ? cJSON_PrintUnformatted(u) : strdup("[]");
    const char *uv[] = {r->principal.org_id,
                        http_uuid_param(r, 0),
                        sec_text,
                        unf_text,
                        texts[0],
                        texts[1],
                        texts[2],
                        texts[3],
                        r->principal.user_id};
    PQclear(res);
    res = api_duty_run(r, c, DQ_HANDOVER_SUBMIT, uv);
    free(sec_text);
    free(unf_text);
    if (!res)
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    send_handover(r, 200, res);
    res = NULL;
    goto done;
fail:
    db_rollback(c);
done:
    PQclear(h);
    PQclear(res);
    cJSON_Delete(sections);
    free(open);
    free(items);
}

/* ---- accept --------------------------------------------------------------------------- */

static cJSON *night_outcome(const cJSON *item, const char *outcome, const char *code,
                            const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(item, "number");
    cJSON_AddStringToObject(o, "request_id", cJSON_IsString(id) ? id->valuestring : "");
    if (cJSON_IsString(num))
        cJSON_AddStringToObject(o, "number", num->valuestring);
    cJSON_AddStringToObject(o, "outcome", outcome);
    if (code) {
        cJSON_AddStringToObject(o, "code", code);
        cJSON_AddStringToObject(o, "reason", reason);
    }
    return o;
}

/* The morning handover (RULES §3.8.13): inside the acceptance's transaction, the accepting
 * user takes the `handover` action of each night-desk request the handover lists (its
 * prefill) for which it is the morning handover (core_handover_takes_night_request), through
 * the request action path (timeline event, hand-over clock stopped).  A request that cannot
 * be handed over any more (already handed over, closed as rejected, out of scope, gone) is
 * skipped with the state machine's code and reason.  *out gets the outcomes (the caller
 * deletes it).  0, or -1 with the problem sent and the transaction rolled back. */
static int hand_over_night_desk(req_t *r, db_conn_t *c, PGresult *h, cJSON **out)
{
    cJSON *ho = cJSON_Parse(PQgetvalue(h, 0, H_JSON));
    *out = cJSON_CreateArray();
    int64_t planned = 0;
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ho, "planned_at"));
    if (p)
        rfc3339_parse(p, &planned);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ho, "prefill"), "night_desk_requests");
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "handover_id", http_uuid_param(r, 0));
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
        const char *rcv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "received_at"));
        const char *due =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "handover_due"));
        int64_t received = 0, due_at = 0;
        if (!id || !http_is_uuid(id) || !rcv || rfc3339_parse(rcv, &received) != 0)
            continue;
        if (due && rfc3339_parse(due, &due_at) != 0)
            due_at = 0;
        if (!core_handover_takes_night_request(planned, received, due_at)) {
            cJSON_AddItemToArray(
                *out, night_outcome(it, "skipped", "not_morning_handover",
                                    "this handover is planned more than 4 hours before the "
                                    "request's 09:00 hand-over time: a later handover takes it"));
            continue;
        }
        api_action_outcome_t o;
        int a = api_request_apply_action(r, c, id, REQ_ACTION_HANDOVER, NULL, extra, &o);
        if (a < 0) {
            rc = -1;
            break;
        }
        cJSON_AddItemToArray(*out, a == 0 ? night_outcome(it, "handed_over", NULL, NULL)
                                          : night_outcome(it, "skipped", o.code, o.reason));
    }
    cJSON_Delete(extra);
    cJSON_Delete(ho);
    return rc;
}

static void accept_h(req_t *r)
{
    int expect;
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_no_body(r) != 0 ||
        http_if_match(r, "handover", &expect) != 0)
        return;
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    cJSON *sections = NULL;
    PGresult *h = load(r, c, AZ_DUTY_WRITE, 1), *res = NULL;
    if (!h || api_duty_fresh(r, h, expect, "handover") != 0)
        goto fail;
    const char *me = r->principal.user_id;
    const char *incoming = PQgetvalue(h, 0, H_INCOMING), *repl = col(h, H_REPLACEMENT);
    int unfit = PQgetvalue(h, 0, H_UNFIT)[0] == 't';
    int is_incoming = !strcasecmp(me, incoming);
    int is_replacement = unfit && repl && !strcasecmp(me, repl);
    if (!is_incoming && !is_replacement) {
        http_problem(r, 403, "not_incoming",
                     "only the incoming person%s accepts the handover, with their own token",
                     unfit && repl ? " (or the named replacement)" : "");
        goto fail;
    }
    if (strcmp(PQgetvalue(h, 0, H_STATE), "submitted")) {
        http_problem(r, 409, "invalid_state", "%s",
                     !strcmp(PQgetvalue(h, 0, H_STATE), "draft")
                         ? "the outgoing person has not submitted this handover yet"
                         : "this handover has already been accepted");
        goto fail;
    }
    sections = cJSON_Parse(PQgetvalue(h, 0, H_SECTIONS));
    handover_section_t secs[HANDOVER_MAX_SECTIONS];
    handover_state_t s;
    memset(&s, 0, sizeof s);
    s.incoming_unfit = unfit;
    s.replacement_accepting = is_replacement;
    if (facts(r, c, PQgetvalue(h, 0, H_PROJECT), PQgetvalue(h, 0, H_FROM), sections, secs, &s) != 0)
        goto fail;
    handover_reason_item_t reasons[HANDOVER_MAX_REASONS];
    size_t nr = core_handover_check(&s, reasons);
    if (nr) {
        refuse(r, c, h, "accept", reasons, nr);
        goto fail;
    }
    const char *av[] = {r->principal.org_id, http_uuid_param(r, 0), me};
    const char *fv[] = {r->principal.org_id, PQgetvalue(h, 0, H_FROM)};
    const char *tv[] = {r->principal.org_id, col(h, H_TO)};
    if (!(res = api_duty_run(r, c, DQ_HANDOVER_ACCEPT, av)))
        goto fail;
    if (db_duty_do(c, DQ_SHIFT_END, fv) != 0 || (tv[1] && db_duty_do(c, DQ_SHIFT_BEGIN, tv) != 0)) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    cJSON *night = NULL;
    if (hand_over_night_desk(r, c, h, &night) != 0) {
        cJSON_Delete(night);
        goto done; /* sent, rolled back */
    }
    char *nt = cJSON_PrintUnformatted(night);
    cJSON_Delete(night);
    const char *nv[] = {r->principal.org_id, http_uuid_param(r, 0), nt};
    PQclear(res);
    res = api_duty_run(r, c, DQ_HANDOVER_NIGHT_DESK, nv);
    free(nt);
    if (!res)
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    send_handover(r, 200, res);
    res = NULL;
    goto done;
fail:
    db_rollback(c);
done:
    PQclear(h);
    PQclear(res);
    cJSON_Delete(sections);
}

/* ---- fitness -------------------------------------------------------------------------- */

static const char *const fitness_fields[] = {"unfit", "note", "replacement_user_id", NULL};

static void fitness_h(req_t *r)
{
    int expect;
    if (http_authorize_role(r, AZ_DUTY_WRITE) != 0 || http_json_body(r) != 0 ||
        http_if_match(r, "handover", &expect) != 0)
        return;
    api_err_t e;
    const char *note = NULL, *repl = NULL;
    if (api_only_known(r->json, fitness_fields, "a fitness flag", &e) < 0 ||
        api_opt_str(r->json, "note", 2000, &note, &e) < 0 ||
        api_opt_uuid(r->json, "replacement_user_id", &repl, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    const cJSON *uf = cJSON_GetObjectItemCaseSensitive(r->json, "unfit");
    if (!cJSON_IsBool(uf)) {
        http_invalid(r, NULL, "unfit", uf ? "invalid_field" : "missing_field",
                     uf ? "invalid_type" : "required", "'unfit' is true or false");
        return;
    }
    if (cJSON_IsTrue(uf) && !note) {
        http_invalid(r, NULL, "note", "missing_field", "required",
                     "say what was observed in 'note' (signs of drinking, confusion, ...)");
        return;
    }
    db_conn_t *c = http_db_begin(r);
    if (!c)
        return;
    PGresult *h = load(r, c, AZ_DUTY_WRITE, 1), *res = NULL;
    if (!h || api_duty_fresh(r, h, expect, "handover") != 0)
        goto fail;
    const char *project = PQgetvalue(h, 0, H_PROJECT);
    if (PQgetvalue(h, 0, H_OUTGOING)[0] != 't' && !api_duty_supervises(r, project)) {
        http_problem(r, 403, "not_outgoing",
                     "only the outgoing person or a supervisor flags the incoming person");
        goto fail;
    }
    if (!strcmp(PQgetvalue(h, 0, H_STATE), "accepted")) {
        http_problem(r, 409, "invalid_state", "this handover has already been accepted");
        goto fail;
    }
    if (repl) {
        if (!strcasecmp(repl, PQgetvalue(h, 0, H_INCOMING))) {
            http_invalid(r, NULL, "replacement_user_id", "invalid_field", "invalid",
                         "the replacement is someone else than the incoming person");
            goto fail;
        }
        char lit[48];
        snprintf(lit, sizeof lit, "{%s}", repl);
        const char *uv[] = {r->principal.org_id, lit, project};
        if (!(res = api_duty_run(r, c, DQ_USERS_IN_PROJECT, uv)))
            goto fail;
        int ok = atoi(PQgetvalue(res, 0, 0)) == 1;
        PQclear(res);
        res = NULL;
        if (!ok) {
            http_invalid(r, NULL, "replacement_user_id", "invalid_field", "not_found",
                         "'replacement_user_id' names no active member of staff of the project");
            goto fail;
        }
    }
    const char *v[] = {r->principal.org_id, http_uuid_param(r, 0),
                       cJSON_IsTrue(uf) ? "true" : "false", note, cJSON_IsTrue(uf) ? repl : NULL};
    if (!(res = api_duty_run(r, c, DQ_HANDOVER_FITNESS, v)))
        goto fail;
    if (db_commit(c) != 0) {
        http_db_fail(r, "nothing was changed");
        goto fail;
    }
    PQclear(h);
    send_handover(r, 200, res);
    return;
fail:
    db_rollback(c);
    PQclear(h);
    PQclear(res);
}

void api_handover_routes(void)
{
    http_route("POST", "/v1/handovers", create_h, 0, NULL);
    http_route("GET", "/v1/handovers", list_h, 0, NULL);
    http_route("GET", "/v1/handovers/{id}", get_h, 0, NULL);
    http_route("GET", "/v1/handovers/{id}/check", check_h, 0, NULL);
    http_route("POST", "/v1/handovers/{id}/submit", submit_h, 0, NULL);
    http_route("POST", "/v1/handovers/{id}/accept", accept_h, 0, NULL);
    http_route("POST", "/v1/handovers/{id}/fitness", fitness_h, 0, NULL);
}
