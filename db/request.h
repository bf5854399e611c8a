/*
 * db/request.h — SQL for service requests, their work orders and timeline.  A creation
 * (request + number + first timeline event) is one statement, so it commits atomically
 * in one round trip; workflow actions run inside the caller's transaction after
 * db_request_lock() took the row.
 */
#ifndef DB_REQUEST_H
#define DB_REQUEST_H

#include "db/db.h"

/* Text parameters of a new request; NULL = SQL NULL. */
typedef struct request_new {
    const char *org, *project, *prefix, *occurred_at, *type, *channel, *severity, *category;
    const char *location_kind, *unit_id, *common_area, *reporter_resident_id, *reporter_user_id;
    const char *reporter_name, *reporter_phone, *title, *description, *customer_deadline;
    const char *department_id, *assignee_id, *reporting_dept_kind, *external_source;
    const char *external_id, *night_desk, *actor_id, *actor_role, *details;
    /* SLA: policy version, calendar version, 7 due times, next due, next check. */
    const char *sla[11];
    const char *validity;
    int pii;
} request_new_t;

/* Inserts the request and its "create" event.  Returns the PGresult (the request's columns
 * for db_request_created_json) — zero rows when the project is not in the organisation.
 * Caller PQclears. */
PGresult *db_request_create(db_conn_t *c, const request_new_t *n);
/* The JSON (malloc'd) of the request db_request_create's result res holds, as
 * request_json(r, pii) renders it: core_request_json() over its columns, or PostgreSQL's
 * request_json() of the row for a value that one does not render.  NULL when out of memory
 * or the database failed. */
char *db_request_created_json(db_conn_t *c, PGresult *res, const char *org, int pii);
/* The search terms deskd stores at intake: the distinct character bigrams of
 * "title description " (title may be NULL) as a PostgreSQL text[] literal, malloc'd
 * (NULL when out of memory).  The create statement adds those of " number". */
char *db_request_terms_literal(const char *title, const char *description);
/* Looks up a request by external reference: 1 found (id copied), 0 none, -1 error. */
int db_request_find_external(db_conn_t *c, const char *org, const char *source, const char *ext_id,
                             char id[40]);

/* The scope of a request, for authorisation. */
typedef struct request_scope {
    char project_id[40], unit_id[40], department_id[40], reporter_user_id[40];
    int version;
    int has_register_notes; /* db_request_get only: any register note written (api/register.c) */
} request_scope_t;

/* json (malloc'd) and scope.  1 found, 0 not, -1 error.  json NULL: the scope alone.  The
 * JSON is rendered from plain columns by core_request_json() (request_json() in
 * PostgreSQL only when that cannot render them). */
int db_request_get(db_conn_t *c, const char *id, const char *org, int pii, char **json,
                   request_scope_t *sc);
/* The same, the JSON rendered by PostgreSQL's request_json() (tests compare the two). */
int db_request_get_sql_json(db_conn_t *c, const char *id, const char *org, int pii, char **json,
                            request_scope_t *sc);

/* Everything a transition needs, read with the row locked (FOR UPDATE). */
typedef struct request_row {
    request_scope_t sc;
    char state[20], type[16], channel[16], state_before_pending[20], location_kind[16];
    char validity[10], reporting_dept_kind[20];
    int handed_over, reopen_count, night_desk, escalation_level, last_seq;
    long long last_event_at; /* epoch seconds */
    char wo_id[40], wo_state[16], wo_assignee[40], wo_department[40];
    char assignee_id[40];
} request_row_t;

int db_request_lock(db_conn_t *c, const char *id, const char *org, request_row_t *row);

/* When the request was last put pending (epoch s of that event's occurred_at): 0 never,
 * -1 error. */
long long db_request_last_pend(db_conn_t *c, const char *id, const char *org);

/* Applies changes to the request row.  `changes` is a JSON object whose members name
 * columns to set (JSON null clears): state, state_before_pending, pending_reason,
 * pending_until, handed_over_at, explanation, resolution, resolved_at, closed_at,
 * department_id, assignee_id, last_event_at, title, description, category, severity,
 * validity, customer_deadline, reporting_dept_kind, appointment_at, promised_by, owner_id; plus the
 * increments reopen_inc and escalation_inc.  Bumps the version.  Returns (json) of the updated
 * request. */
PGresult *db_request_apply(db_conn_t *c, const char *id, const char *org, int pii,
                           const char *changes);

/* Work orders. */
PGresult *db_workorder_insert(db_conn_t *c, const char *org, const char *request_id,
                              const char *department_id, const char *assignee_id,
                              const char *appointment_at, const char *dispatched_at);
/* Sets the work order state and the matching time / result / signer columns. */
PGresult *db_workorder_update(db_conn_t *c, const char *wo_id, const char *org, const char *state,
                              const char *at, const char *assignee_id, const char *result,
                              const char *signer_kind, const char *signer_resident,
                              const char *signer_user, const char *signer_name);

/* Declines the work order: state declined, when, by whom, reason, note (may be NULL). */
PGresult *db_workorder_decline(db_conn_t *c, const char *wo_id, const char *org, const char *at,
                               const char *by, const char *reason, const char *note);

/* Appends an event (seq must be the previous seq + 1).  details is a JSON object text. */
PGresult *db_request_event(db_conn_t *c, const char *org, const char *request_id, int seq,
                           const char *actor_id, const char *actor_role, const char *action,
                           const char *from_state, const char *to_state, const char *channel,
                           const char *occurred_at, const char *details);
/* The timeline as a JSON array text (malloc'd) or NULL on error; internal=0 hides
 * events marked internal. */
char *db_request_timeline(db_conn_t *c, const char *org, const char *id, int internal);

/* Small lookups. */
int db_department_kind(db_conn_t *c, const char *dept_id, const char *org, char kind[20]);
/* 1 when the resident lives in the unit (is_adult copied), 0 when not, -1 error. */
int db_resident_in_unit(db_conn_t *c, const char *resident_id, const char *unit_id, const char *org,
                        int *is_adult, char name[128]);
/* Staff signer / assignee lookup: 1 found (role, dept id, dept kind, name), 0 none, -1. */
int db_staff_lookup(db_conn_t *c, const char *user_id, const char *org, char role[20],
                    char dept_id[40], char dept_kind[20], char name[128]);
int db_user_resident(db_conn_t *c, const char *user_id, const char *org, char resident_id[40]);
/* The request's owner (首问负责制; "" when nobody owns it).  1 / 0 / -1. */
int db_request_owner(db_conn_t *c, const char *id, const char *org, char owner[40]);
/* Unit → project and whether it exists in the org.  1 / 0 / -1. */
int db_unit_project(db_conn_t *c, const char *unit_id, const char *org, char project[40]);
/* Resident → project, when the resident exists in the org.  1 / 0 / -1. */
int db_resident_project(db_conn_t *c, const char *resident_id, const char *org, char project[40]);
/* Department → its project ("" for an organisation-wide department).  1 / 0 / -1. */
int db_department_project(db_conn_t *c, const char *dept_id, const char *org, char project[40]);
/* Whether the user is assigned to the project (user_projects).  1 / 0 / -1. */
int db_user_in_project(db_conn_t *c, const char *user_id, const char *org, const char *project);

/* Lists.  Filter values are text; NULL means "no filter". */
typedef struct request_filter {
    const char *org;
    const char *projects;  /* uuid[] literal, NULL = all */
    const char *units;     /* resident scope: uuid[] literal */
    const char *reporter;  /* resident scope: own user id */
    const char *dept_only; /* technician scope */
    const char *project_id, *state, *type, *severity, *category, *department_id, *assignee_id;
    const char *channel, *created_from, *created_to, *updated_from, *updated_to, *q, *unit_id;
    const char *external_source;
    const char *overdue;                      /* "true" / "false" */
    const char *owner_id, *first_receiver_id; /* 首问负责制: owner now, first receiver */
    const char *open;                         /* "true": not final; "false": final */
    const char *after_ts, *after_id;
    int limit;
    int pii;
    /* With q only: > 0 looks for the matches among the first `walk` rows of the list
     * without q (in list order), 0 among all rows through the bigram index. */
    int walk;
    /* With q only, walk 0: when set, only rows created at or after `since` (a window of
     * the newest rows), with q's bigram index condition on `bigram` alone (one of q's
     * bigrams, so that PostgreSQL estimates its matches from the bigram's statistics and
     * intersects them with the window's range of the list index); the LIKE stays exact. */
    const char *since, *bigram;
    /* With q only: the term is frequent (its rarest bigram in 5 % of the rows or more): in
     * one project, the project's list index is read in order (see db_request_list_sql). */
    int frequent;
} request_filter_t;

/* Builds the list SQL and its parameters (exposed so tests can EXPLAIN it).
 * sql: malloc'd; vals: pointers into f; returns the parameter count. */
int db_request_list_sql(const request_filter_t *f, char **sql, const char **vals);
/* Runs it: columns json, created_at (rfc3339 with µs), id.  With q (walk 0, no since),
 * the way of looking db_request_list_choice() picks from the term's rarest bigram: the
 * walk over the newest rows, a window of them intersected with the bigram index, or the
 * index alone; each falls back to the whole index when it does not fill the page. */
PGresult *db_request_list(db_conn_t *c, const request_filter_t *f);

/* How db_request_list() looks for a q= term (exposed for tests and the bench). */
typedef enum {
    LIST_PLAN_ONE,    /* one statement: no q, a two-character term, or no statistics */
    LIST_PLAN_WALK,   /* frequent term: the newest rows in list order, then the index */
    LIST_PLAN_WINDOW, /* middling term: bigram index ∩ a window of the newest rows */
    LIST_PLAN_INDEX,  /* rare term: the bigram index alone */
} list_plan_t;
typedef struct {
    list_plan_t plan;
    double freq;     /* the rarest bigram's share of rows (statistics); 0 when unknown */
    char bigram[32]; /* that bigram */
    int window;      /* LIST_PLAN_WINDOW: rows of the window */
} list_choice_t;
/* The choice for f (reads the search statistics, cached; 0, or -1 on a failed read). */
int db_request_list_choice(db_conn_t *c, const request_filter_t *f, list_choice_t *out);
/* Forgets the cached search statistics and window starts (tests, after ANALYZE). */
void db_request_search_stats_reset(void);

#endif
