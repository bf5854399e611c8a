/*
 * db/callback.h — SQL for callback tasks and their attempts (0016_callbacks.sql).  Every
 * write runs inside the caller's transaction, after the request row was locked (the order
 * is always request, then task).
 */
#ifndef DB_CALLBACK_H
#define DB_CALLBACK_H

#include <stdint.h>

#include "db/db.h"

/* What the rules need of the request behind a callback (no lock). */
typedef struct cb_request {
    char state[20], type[16], validity[10], severity[12], resolved_at[40], explanation[64];
    char assignee[40], project[40], unit[40];
    char reporter_resident[40], reporter_name[128], reporter_phone[48];
} cb_request_t;
/* 1 found, 0 not, -1 error. */
int db_callback_request(db_conn_t *c, const char *org, const char *request_id, cb_request_t *out);

/* Inserts an open task for the request's current resolution, due at its callback clock
 * (requests.due_callback, or resolved_at + 24 h when the clock does not run).  Returns the
 * new id in id, or "" when the request already has an open task.  0 / -1. */
int db_callback_task_create(db_conn_t *c, const char *org, const char *request_id, const char *kind,
                            const char *min_role, int on_demand, const char *created_by,
                            char id[40]);
/* Ends the request's open task (if any) that the request left behind: state given_up
 * (reason other, note) or cancelled.  0 / -1. */
int db_callback_task_abandon(db_conn_t *c, const char *org, const char *request_id,
                             const char *state, const char *note);

/* A task's row. */
typedef struct cb_task {
    char id[40], project[40], request[40], state[12], kind[12], min_role[12], assignee[40];
    int version;
    /* The subject: request ("" for a survey task) or survey_response ("" for a request's). */
    char survey_response[40];
    long long resolved_at; /* what the task follows up, UTC seconds (a survey task: its answer) */
} cb_task_t;
/* Reads (lock: FOR UPDATE) a task by id; 1 / 0 / -1. */
int db_callback_task(db_conn_t *c, const char *org, const char *id, int lock, cb_task_t *t);
/* The request's open task (lock: FOR UPDATE); 1 / 0 / -1. */
int db_callback_open_task(db_conn_t *c, const char *org, const char *request_id, int lock,
                          cb_task_t *t);
/* The task as JSON with its attempts (malloc'd) or NULL. */
char *db_callback_task_json(db_conn_t *c, const char *org, const char *id);

/* Whether the user did the work on the request (its assignee or a work order's technician):
 * 1 / 0 / -1. */
int db_callback_did_work(db_conn_t *c, const char *org, const char *request_id,
                         const char *user_id);

/* Appends an attempt; its local_day is computed in the project's time zone.  0 / -1. */
int db_callback_attempt_insert(db_conn_t *c, const char *org, const char *task_id,
                               const char *request_id, const char *caller, const char *role,
                               const char *occurred_at, const char *method, int reached,
                               const char *rating, const char *notes, const char *signer,
                               const char *signature);
/* Whether the attachment belongs to the request: 1 / 0 / -1. */
int db_callback_attachment_of(db_conn_t *c, const char *org, const char *request_id,
                              const char *attachment_id);
/* The local days (days since 1970-01-01) of the task's unreached attempts. */
PGresult *db_callback_unreached_days(db_conn_t *c, const char *task_id);

/* Ends a task: state, outcome, rating, follow-up request, give-up reason and note (NULL
 * each when none), by user.  0 / -1. */
int db_callback_task_finish(db_conn_t *c, const char *task_id, const char *state,
                            const char *outcome, const char *rating, const char *follow_up,
                            const char *reason, const char *note, const char *by);
/* Counts an unreached attempt on the task.  0 / -1. */
int db_callback_task_touch(db_conn_t *c, const char *task_id);
/* Sets the assignee (NULL: back to the queue) when the version matches: 1 set, 0 stale,
 * -1 error. */
int db_callback_task_assign(db_conn_t *c, const char *task_id, const char *assignee, int version);

/* A page of tasks (json, due_at, id), ordered by due time.  projects: the caller's scope
 * literal or NULL (all); the filters NULL when not given; overdue: only past due_at. */
PGresult *db_callback_task_list(db_conn_t *c, const char *org, const char *projects,
                                const char *project, const char *assignee, const char *state,
                                const char *due_before, int overdue, const char *after_ts,
                                const char *after_id, int limit);
/* Requests of the project resolved on the local day (YYYY-MM-DD) that needed a callback
 * and have no reached attempt: a JSON array text (malloc'd) or NULL. */
char *db_callback_unreached_day(db_conn_t *c, const char *org, const char *project,
                                const char *day);
/* The counts of the month's figures (YYYY-MM, the project's time zone): needing,
 * called_back, satisfied, and the ratings by level as JSON.  PGresult, 1 row. */
PGresult *db_callback_month(db_conn_t *c, const char *org, const char *project, const char *month);

/* The open callback task of a survey response whose 不太满意 answer asks for a call,
 * created (kind survey, followed up at `start`, due at `due`: UTC seconds, see
 * sla_survey_callback_due) when the response has none: its id.  0 / -1. */
int db_callback_survey_task(db_conn_t *c, const char *org, const char *response,
                            const char *created_by, int64_t start, int64_t due, char id[40]);
/* What a survey task's follow-up complaint needs of its response. */
typedef struct cb_survey {
    char project[40], unit[40], campaign[40], title[256], respondent[128];
    char items[2048]; /* at most 600 characters: the codes of the answers the task follows up
                         ("总体评价" overall) */
} cb_survey_t;
/* 1 found, 0 not, -1 error. */
int db_callback_survey(db_conn_t *c, const char *org, const char *response, const char *task_id,
                       cb_survey_t *out);

/* Overdue marker (svc/callback_worker.c): marks open tasks past due (up to limit) and
 * notifies their assignee (or the project's supervisors when unassigned).  The count
 * marked, or -1. */
int db_callback_mark_overdue(db_conn_t *c, int limit);

#endif
