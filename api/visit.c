/*
 * api/visit.c — household visit records (走访业户记录表, RULES §3.2.12): a visit to a unit
 * or an important client (official, developer department head, owners' committee member,
 * influential owner), the visitors, topics, opinions and follow-up (a request of the
 * project; a corrective action of the project named by id or CA number, or a new one of
 * kind corrective opened from the visit — source visit — in the record's transaction),
 * and the monthly count of important-client interviews per project against the target of
 * at least one (004 三.4).
 */
#include "api/api.h"
#include "api/capa.h"
#include "api/http.h"
#include "api/validate.h"
#include "db/org.h"
#include "db/request.h"
#include "db/survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_VISITORS        20
#define IMPORTANT_PER_MONTH 1 /* 004 三.4: at least one important client a month */

static const char *const client_kinds[] = {"official", "developer", "owners_committee",
                                           "influential_owner", NULL};

static int client_kind_from(const char *s)
{
    return core_strtab_index(client_kinds, -1, s);
}

static size_t client_kind_list(char *buf, size_t len)
{
    return core_strtab_join(client_kinds, -1, buf, len);
}

/* "YYYY-MM" */
static int is_month(const char *s)
{
    int y, m;
    char tail;
    return strlen(s) == 7 && s[4] == '-' && sscanf(s, "%4d-%2d%c", &y, &m, &tail) == 2 &&
           y >= 2000 && y <= 2999 && m >= 1 && m <= 12;
}

static int is_date(const char *s)
{
    int y, m, d;
    char tail;
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
           sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 2000 && y <= 2999 && m >= 1 &&
           m <= 12 && d >= 1 && d <= 31;
}

typedef struct visit_in {
    const char *project, *date, *unit, *cname, *corg, *ckind, *topics, *opinions;
    const char *note, *request, *ca_ref, *ca_id;
    const cJSON *ca_new; /* follow_up.corrective_action: a new action from the visit */
    char visitors[MAX_VISITORS * 40 + 4];
    int nvisitors;
} visit_in_t;

static int read_client(req_t *r, visit_in_t *in, api_err_t *e)
{
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(r->json, "client");
    if (!cl || cJSON_IsNull(cl))
        return 0;
    static const char *const f[] = {"name", "organisation", "kind", NULL};
    if (!cJSON_IsObject(cl))
        return api_err_at(e, r->json, "client", "invalid_type", "invalid_field",
                          "'client' must be {name, organisation, kind}");
    if (api_only_known(cl, f, "client", e) < 0 || api_req_str(cl, "name", 100, &in->cname, e) < 0 ||
        api_opt_str(cl, "organisation", 200, &in->corg, e) < 0 ||
        api_opt_enum(cl, "kind", client_kind_from, client_kind_list, &in->ckind, e) < 0)
        return -1;
    return 0;
}

static int read_follow_up(req_t *r, visit_in_t *in, api_err_t *e)
{
    const cJSON *fu = cJSON_GetObjectItemCaseSensitive(r->json, "follow_up");
    if (!fu || cJSON_IsNull(fu))
        return 0;
    static const char *const f[] = {
        "note", "request_id", "corrective_action_id", "corrective_action_ref", "corrective_action",
        NULL};
    if (!cJSON_IsObject(fu))
        return api_err_at(e, r->json, "follow_up", "invalid_type", "invalid_field",
                          "'follow_up' must be {note, request_id, corrective_action_id, "
                          "corrective_action_ref, corrective_action}");
    if (api_only_known(fu, f, "follow_up", e) < 0 ||
        api_opt_str(fu, "note", 2000, &in->note, e) < 0 ||
        api_opt_uuid(fu, "request_id", &in->request, e) < 0 ||
        api_opt_uuid(fu, "corrective_action_id", &in->ca_id, e) < 0 ||
        api_opt_str(fu, "corrective_action_ref", 64, &in->ca_ref, e) < 0)
        return -1;
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(fu, "corrective_action");
    if (ca && !cJSON_IsNull(ca)) {
        if (!cJSON_IsObject(ca))
            return api_err_at(e, fu, "corrective_action", "invalid_type", "invalid_field",
                              "'follow_up.corrective_action' must be {title, problem, "
                              "department_id, …} (a corrective action opened from the visit)");
        in->ca_new = ca;
    }
    if ((in->ca_id != NULL) + (in->ca_ref != NULL) + (in->ca_new != NULL) > 1)
        return api_err_at(e, fu, in->ca_new ? "corrective_action" : "corrective_action_ref",
                          "conflicting_fields", "invalid_field",
                          "name the follow-up corrective action once: 'corrective_action_id', "
                          "'corrective_action_ref' (its CA number) or a new 'corrective_action'");
    return 0;
}

static int read_visitors(req_t *r, visit_in_t *in)
{
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(r->json, "visitors");
    int n = cJSON_GetArraySize(vs);
    if (!cJSON_IsArray(vs) || n < 1 || n > MAX_VISITORS) {
        http_invalid(r, NULL, "visitors", vs ? "invalid_field" : "missing_field",
                     vs ? "invalid_type" : "required",
                     "'visitors' must list 1 to %d user ids (who made the visit)", MAX_VISITORS);
        return -1;
    }
    size_t off = 0;
    in->visitors[off++] = '{';
    const cJSON *v;
    cJSON_ArrayForEach(v, vs)
    {
        if (!cJSON_IsString(v) || !http_is_uuid(v->valuestring)) {
            http_invalid(r, v, NULL, "invalid_field", "invalid_format",
                         "each visitor must be a user id (UUID)");
            return -1;
        }
        for (const cJSON *p = vs->child; p != v; p = p->next)
            if (!strcasecmp(p->valuestring, v->valuestring)) {
                http_invalid(r, v, NULL, "invalid_field", "duplicate", "a visitor is listed twice");
                return -1;
            }
        off += (size_t)snprintf(in->visitors + off, sizeof in->visitors - off, "%s%s",
                                in->nvisitors ? "," : "", v->valuestring);
        in->nvisitors++;
    }
    snprintf(in->visitors + off, sizeof in->visitors - off, "}");
    return 0;
}

static void visit_create_h(req_t *r)
{
    if (http_authorize_role(r, AZ_VISIT_WRITE) != 0 || http_json_body(r) != 0)
        return;
    static const char *const fields[] = {"project_id", "visited_on", "unit_id",
                                         "client",     "visitors",   "topics",
                                         "opinions",   "follow_up",  NULL};
    if (http_known_fields(r, "a visit record", fields) != 0)
        return;
    visit_in_t in;
    memset(&in, 0, sizeof in);
    api_err_t e = {0};
    if (api_opt_uuid(r->json, "project_id", &in.project, &e) < 0 ||
        api_req_str(r->json, "visited_on", 10, &in.date, &e) < 0 ||
        api_opt_uuid(r->json, "unit_id", &in.unit, &e) < 0 ||
        api_req_str(r->json, "topics", 2000, &in.topics, &e) < 0 ||
        api_opt_str(r->json, "opinions", 4000, &in.opinions, &e) < 0 ||
        read_client(r, &in, &e) < 0 || read_follow_up(r, &in, &e) < 0) {
        api_err_send(r, &e);
        return;
    }
    if (!in.project) {
        http_invalid(r, NULL, "project_id", "missing_field", "required",
                     "'project_id' is required");
        return;
    }
    if (!is_date(in.date)) {
        http_invalid(r, NULL, "visited_on", "invalid_field", "invalid_format",
                     "'visited_on' must be a date YYYY-MM-DD");
        return;
    }
    /* A paper record is never dated in the future (RULES, common rules): later than today
     * anywhere (UTC+14) is refused. */
    char latest[16];
    time_t ahead = time(NULL) + 14 * 3600;
    struct tm tm;
    gmtime_r(&ahead, &tm);
    strftime(latest, sizeof latest, "%Y-%m-%d", &tm);
    if (strcmp(in.date, latest) > 0) {
        http_invalid(r, NULL, "visited_on", "invalid_field", "out_of_range",
                     "'visited_on' lies in the future");
        return;
    }
    if (!in.unit && !in.cname) {
        http_invalid(r, NULL, "unit_id", "missing_field", "required",
                     "a visit is to a unit ('unit_id') or a client ('client.name')");
        return;
    }
    if (read_visitors(r, &in) != 0)
        return;
    az_target_t t = {r->principal.org_id, in.project, NULL, NULL, NULL};
    if (http_authorize(r, AZ_VISIT_WRITE, &t) != 0 ||
        (in.ca_new && http_authorize(r, AZ_CAPA_CREATE, &t) != 0))
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char ca[40] = "";
    if (in.ca_id || in.ca_ref) {
        int f =
            db_visit_corrective_action(c, r->principal.org_id, in.project, in.ca_id, in.ca_ref, ca);
        if (f < 0)
            return http_db_fail(r, NULL);
        if (f == 0) {
            const cJSON *fu = cJSON_GetObjectItemCaseSensitive(r->json, "follow_up");
            http_invalid(r, fu, in.ca_id ? "corrective_action_id" : "corrective_action_ref",
                         "invalid_field", "not_found",
                         "the follow-up names no corrective action of the project");
            return;
        }
    }
    char p[40];
    if (in.unit) {
        int f = db_unit_project(c, in.unit, r->principal.org_id, p);
        if (f < 0)
            return http_db_fail(r, NULL);
        if (f == 0 || strcmp(p, in.project) != 0) {
            http_invalid(r, NULL, "unit_id", "invalid_field", "not_found",
                         "'unit_id' is not a unit of the project");
            return;
        }
    }
    if (in.request) {
        int f = db_visit_request_project(c, r->principal.org_id, in.request, p);
        if (f < 0)
            return http_db_fail(r, NULL);
        if (f == 0 || strcmp(p, in.project) != 0) {
            const cJSON *fu = cJSON_GetObjectItemCaseSensitive(r->json, "follow_up");
            http_invalid(r, fu, "request_id", "invalid_field", "not_found",
                         "'follow_up.request_id' is not a request of the project");
            return;
        }
    }
    long known = db_visit_users_known(c, r->principal.org_id, in.visitors);
    if (known < 0)
        return http_db_fail(r, NULL);
    if (known != in.nvisitors) {
        http_invalid(r, NULL, "visitors", "invalid_field", "not_found",
                     "every visitor must be a user of your organisation");
        return;
    }
    if (db_begin(c) != 0)
        return http_db_fail(r, NULL);
    char *j = db_visit_insert(c, r->principal.org_id, in.project, in.date, in.unit, in.cname,
                              in.corg, in.ckind, in.visitors, in.topics, in.opinions, in.note,
                              in.request, ca[0] ? ca : NULL, r->principal.user_id);
    cJSON *o = j ? cJSON_Parse(j) : NULL;
    char vid[40];
    const char *vs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
    snprintf(vid, sizeof vid, "%s", vs ? vs : "");
    cJSON_Delete(o);
    if (!vid[0]) {
        free(j);
        db_rollback(c);
        return http_db_fail(r, "the visit was not recorded");
    }
    if (in.ca_new) {
        /* A corrective action opened from the visit: kind corrective, source the visit. */
        char sources[96], *caid = NULL;
        snprintf(sources, sizeof sources, "[{\"kind\":\"visit\",\"id\":\"%s\"}]", vid);
        api_err_t e = {0};
        int st = api_capa_create_in(r, c, in.ca_new, in.project, "corrective", sources, &caid, &e);
        free(j);
        j = st == 0 ? db_visit_link_corrective_action(c, r->principal.org_id, vid, caid) : NULL;
        free(caid);
        if (!j) {
            db_rollback(c);
            if (st > 0)
                api_err_send(r, &e);
            else
                http_db_fail(r, "the visit was not recorded");
            return;
        }
    }
    if (db_commit(c) != 0) {
        free(j);
        db_rollback(c);
        return http_db_fail(r, "the visit was not recorded");
    }
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Location: /v1/visit-records/%s\r\n", vid);
    http_send_json(r, 201, j, hdr);
    free(j);
}

static int load_visit(req_t *r, db_conn_t *c, const char *id, const void *arg, http_found_t *f)
{
    (void)arg;
    return db_visit_get(c, r->principal.org_id, id, &f->json, f->project_id);
}

static void visit_get_h(req_t *r)
{
    http_get_one(r, AZ_VISIT_READ, "visit record", load_visit, NULL);
}

/* Reads ?project_id (required when `need`) and ?month; 0 or -1 answered. */
static int read_query(req_t *r, int need, char project[64], char month[16], const char **fp,
                      const char **fm)
{
    *fp = *fm = NULL;
    if (http_query(r, "project_id", project, 64) >= 0) {
        if (!http_is_uuid(project))
            return http_problem(r, 400, "invalid_query", "'project_id' must be a UUID"), -1;
        *fp = project;
    }
    if (http_query(r, "month", month, 16) >= 0) {
        if (!is_month(month))
            return http_problem(r, 400, "invalid_query", "'month' must be YYYY-MM"), -1;
        *fm = month;
    }
    if (need && (!*fp || !*fm))
        return http_problem(r, 400, "invalid_query", "'project_id' and 'month' are required"), -1;
    return 0;
}

static void visit_list_h(req_t *r)
{
    if (http_authorize_role(r, AZ_VISIT_READ) != 0)
        return;
    char project[64], month[16], imp[16];
    const char *fp, *fm, *fi = NULL;
    if (read_query(r, 0, project, month, &fp, &fm) != 0)
        return;
    if (http_query(r, "important", imp, sizeof imp) >= 0) {
        if (strcmp(imp, "true") && strcmp(imp, "false"))
            return http_problem(r, 400, "invalid_query", "'important' must be true or false");
        fi = imp;
    }
    page_t pg;
    db_conn_t *c = http_page_db(r, &pg);
    if (!c)
        return;
    PGresult *res = db_visit_list(c, r->principal.org_id, http_scope_projects(r), fp, fm, fi,
                                  pg.cursor_ts, pg.cursor_id, pg.limit + 1);
    http_send_page(r, res, pg.limit);
    PQclear(res);
}

static void important_h(req_t *r)
{
    if (http_authorize_role(r, AZ_VISIT_READ) != 0)
        return;
    char project[64], month[16];
    const char *fp, *fm;
    if (read_query(r, 1, project, month, &fp, &fm) != 0)
        return;
    az_target_t t = {r->principal.org_id, fp, NULL, NULL, NULL};
    if (http_authorize(r, AZ_VISIT_READ, &t) != 0)
        return;
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    int f = db_org_project_exists(c, r->principal.org_id, fp);
    if (f != 1)
        return f == 0 ? http_problem(r, 404, "not_found", "no such project in your scope")
                      : http_db_fail(r, NULL);
    long n = db_visit_important_count(c, r->principal.org_id, fp, fm);
    if (n < 0)
        return http_db_fail(r, NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "project_id", fp);
    cJSON_AddStringToObject(o, "month", fm);
    cJSON_AddNumberToObject(o, "important_client_interviews", (double)n);
    cJSON_AddNumberToObject(o, "target", IMPORTANT_PER_MONTH);
    cJSON_AddBoolToObject(o, "target_met", n >= IMPORTANT_PER_MONTH);
    http_send_cjson(r, 200, o, NULL);
    cJSON_Delete(o);
}

void api_visit_register(void)
{
    http_route("POST", "/v1/visit-records", visit_create_h, 0, NULL);
    http_route("GET", "/v1/visit-records", visit_list_h, 0, NULL);
    http_route("GET", "/v1/visit-records/important-clients", important_h, 0, NULL);
    http_route("GET", "/v1/visit-records/{id}", visit_get_h, 0, NULL);
}
