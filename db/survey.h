/*
 * db/survey.h — SQL of satisfaction surveys and household visits (0017_surveys.sql):
 * campaigns and their items, responses with their append-only versions and answers, the
 * follow-ups answers set off, the facts the report is computed from, and visit records.
 * Values are text ($n parameters); JSON comes back rendered by SQL.  Functions returning
 * char * give malloc'd text the caller frees (NULL: not found or failed); PGresults are
 * the caller's to PQclear.
 */
#ifndef DB_SURVEY_H
#define DB_SURVEY_H

#include "db/db.h"

/* ---- campaigns ---- */
/* Inserts a draft campaign; (id) or the error. */
PGresult *db_survey_campaign_insert(db_conn_t *c, const char *org, const char *project,
                                    const char *title, const char *kind, const char *cadence,
                                    const char *period_start, const char *period_end,
                                    const char *distribution, const char *copies,
                                    const char *created_by);
/* Replaces the campaign's items by items_json ([{code, group, text, department_id}], in
 * order); *inserted gets how many were stored — fewer than given when a department is not
 * one of the campaign's project (or organisation-wide).  0 / -1 (error noted). */
int db_survey_items_replace(db_conn_t *c, const char *org, const char *campaign,
                            const char *project, const char *items_json, int *inserted);
/* The campaign with its items and response count, as JSON; NULL when absent. */
char *db_survey_campaign_json(db_conn_t *c, const char *org, const char *id);
/* Reads the campaign locked FOR UPDATE, FOR SHARE, or not at all (a read-only snapshot
 * may take no row locks).  Columns: project_id, state,
 * distribution, copies_distributed ("" none), item count, title, version.  0 rows when
 * absent. */
enum { SURVEY_LOCK_UPDATE, SURVEY_LOCK_SHARE, SURVEY_LOCK_NONE };
PGresult *db_survey_campaign_lock(db_conn_t *c, const char *org, const char *id, int mode);
/* Changes a draft's fields (NULL: keep).  0 / -1. */
int db_survey_campaign_update(db_conn_t *c, const char *org, const char *id, const char *title,
                              const char *period_start, const char *period_end,
                              const char *distribution, const char *copies);
/* Moves the campaign to state; opening a per_unit campaign counts the project's occupied
 * units as the copies distributed; opinion/report (JSON) are stored when not NULL.  0/-1. */
int db_survey_campaign_move(db_conn_t *c, const char *org, const char *id, const char *state,
                            const char *opinion, const char *report);
/* A page of campaigns (json, created_at, id): projects NULL = all; project and state
 * filters NULL = any; cursor after_ts/after_id. */
PGresult *db_survey_campaign_list(db_conn_t *c, const char *org, const char *projects,
                                  const char *project, const char *state, const char *after_ts,
                                  const char *after_id, int limit);
/* A page of open campaigns (json: campaign_id, project_id, title, kind, period, opened_at;
 * created_at, id) of the projects (NULL = all). */
PGresult *db_survey_open_forms(db_conn_t *c, const char *org, const char *projects,
                               const char *after_ts, const char *after_id, int limit);
/* The frozen report of a reported campaign (JSON text), NULL when none. */
char *db_survey_campaign_report(db_conn_t *c, const char *org, const char *id);
/* The campaign's items in order: id, code, group_name, text, department_id ("" none),
 * department name (""). */
PGresult *db_survey_items(db_conn_t *c, const char *org, const char *campaign);

/* ---- responses ---- */
/* The response registered under an external reference: 1 (id and campaign copied),
 * 0 none, -1 error. */
int db_survey_response_by_ref(db_conn_t *c, const char *org, const char *source, const char *ext_id,
                              char id[40], char campaign[40]);
/* Inserts a response (current_version 1); (id) or the error (23505 on
 * survey_responses_household / survey_responses_external). */
PGresult *db_survey_response_insert(db_conn_t *c, const char *org, const char *project,
                                    const char *campaign, const char *unit, const char *channel,
                                    const char *respondent, const char *ext_source,
                                    const char *ext_id, const char *returned_at,
                                    const char *entered_by);
/* Appends version n of a response with its answers (answers_json: [{item_id, rating,
 * text}]) and points the response at it; returns the version's id (malloc'd) or NULL. */
char *db_survey_version_append(db_conn_t *c, const char *org, const char *response, int n,
                               const char *overall, const char *comment, const char *reason,
                               const char *by, const char *role, const char *answers_json);
/* Locks a response.  Columns: project_id, unit_id, campaign_id, current_version, campaign
 * state, respondent_name ("").  0 rows when absent. */
PGresult *db_survey_response_lock(db_conn_t *c, const char *org, const char *id);
/* The scope of a response without a lock: project_id, unit_id.  1 / 0 / -1. */
int db_survey_response_scope(db_conn_t *c, const char *org, const char *id, char project[40],
                             char unit[40]);
/* The response with every version, its answers and follow-ups, as JSON; NULL absent. */
char *db_survey_response_json(db_conn_t *c, const char *org, const char *id);
/* A page of a campaign's responses (json, created_at, id). */
PGresult *db_survey_response_list(db_conn_t *c, const char *org, const char *campaign,
                                  const char *after_ts, const char *after_id, int limit);
/* 1 when the answer (item NULL: overall) already set off a follow-up of this kind, 0 when
 * not, -1 on error. */
int db_survey_followup_exists(db_conn_t *c, const char *response, const char *kind,
                              const char *item);
/* Records a follow-up (state opened with its complaint request or its callback task).
 * 0 / -1. */
int db_survey_followup_insert(db_conn_t *c, const char *org, const char *response, int version,
                              const char *item, const char *rating, const char *kind,
                              const char *state, const char *request_id,
                              const char *callback_task_id);

/* ---- report ---- */
/* The answers that count — each returned form's latest version: (item position - 1, or
 * -1 for the overall rating; rating), blank ratings left out. */
PGresult *db_survey_facts(db_conn_t *c, const char *org, const char *campaign);
/* Forms returned (responses) of the campaign; -1 on error. */
long db_survey_returned(db_conn_t *c, const char *org, const char *campaign);

/* The satisfaction target of the campaign's project (per cent; its survey_target_percent
 * or `fallback`) and the period a department's corrective action is raised for: the
 * campaign's "start~end", or "campaign <id>" when it has no period.  1 / 0 / -1. */
int db_survey_target(db_conn_t *c, const char *org, const char *campaign, int fallback, int *target,
                     char period[80]);

/* ---- visits ---- */
/* Inserts a visit record and returns its JSON (malloc'd) or NULL (error noted). */
char *db_visit_insert(db_conn_t *c, const char *org, const char *project, const char *visited_on,
                      const char *unit, const char *client_name, const char *client_org,
                      const char *client_kind, const char *visitors, const char *topics,
                      const char *opinions, const char *follow_up, const char *request_id,
                      const char *ca_id, const char *created_by);
/* The corrective action of the project with this id (or, id NULL, this CA number): its id
 * into out_id.  1 / 0 / -1. */
int db_visit_corrective_action(db_conn_t *c, const char *org, const char *project, const char *id,
                               const char *number, char out_id[40]);
/* Links the visit to its follow-up corrective action; the visit's JSON (malloc'd) or NULL. */
char *db_visit_link_corrective_action(db_conn_t *c, const char *org, const char *visit,
                                      const char *ca_id);
/* The visit's JSON and its project; 1 / 0 / -1. */
int db_visit_get(db_conn_t *c, const char *org, const char *id, char **json, char project[40]);
/* A page of visits (json, created_at, id), filters NULL = any; month "YYYY-MM". */
PGresult *db_visit_list(db_conn_t *c, const char *org, const char *projects, const char *project,
                        const char *month, const char *important, const char *after_ts,
                        const char *after_id, int limit);
/* How many of `ids` (a uuid[] literal) are users of the organisation; -1 on error. */
long db_visit_users_known(db_conn_t *c, const char *org, const char *ids);
/* Important-client interviews of a project in a month ("YYYY-MM"); -1 on error. */
long db_visit_important_count(db_conn_t *c, const char *org, const char *project,
                              const char *month);
/* The project of a request of the organisation: 1 / 0 / -1. */
int db_visit_request_project(db_conn_t *c, const char *org, const char *request, char project[40]);

#endif
