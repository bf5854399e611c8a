/*
 * api/survey.h — what the survey handlers share: api/survey.c (campaigns, their report and
 * public summary) and api/survey_response.c (responses, corrections, follow-ups).
 */
#ifndef API_SURVEY_H
#define API_SURVEY_H

#include "api/http.h"
#include "core/survey.h"
#include "db/survey.h"

/* A locked campaign (db_survey_campaign_lock). */
typedef struct survey_campaign_row {
    char project_id[40], title[256];
    survey_state_t state;
    long copies; /* -1: not set */
    int nitems;
    int per_unit;
    int version;
} survey_campaign_row_t;

/* Reads campaign id — locked FOR UPDATE or FOR SHARE inside the caller's transaction, or
 * not locked (mode, db/survey.h) — and authorises `action` on its project: 0, or -1 with
 * the problem sent (404 outside scope).  action AZ__COUNT: the caller authorises. */
int api_survey_campaign_lock(req_t *r, db_conn_t *c, const char *id, int mode, az_action_t action,
                             survey_campaign_row_t *k);

/* A campaign's items, in order. */
typedef struct survey_item {
    char id[40], code[40], dept[40], dept_name[208];
    char *group, *text;
} survey_item_t;
/* Loads them into *items (malloc'd; api_survey_items_free).  Returns the count or -1. */
int api_survey_items_load(db_conn_t *c, const char *org, const char *campaign,
                          survey_item_t **items);
void api_survey_items_free(survey_item_t *items, int n);

/* Handlers routed by api_survey_register() (api/survey_response.c). */
void api_survey_response_create_h(req_t *r);  /* POST /v1/survey-campaigns/{id}/responses */
void api_survey_response_list_h(req_t *r);    /* GET /v1/survey-campaigns/{id}/responses */
void api_survey_response_get_h(req_t *r);     /* GET /v1/survey-responses/{id} */
void api_survey_response_correct_h(req_t *r); /* POST /v1/survey-responses/{id}/corrections */

#endif
