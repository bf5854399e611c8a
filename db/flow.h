/*
 * db/flow.h — SQL for the desk's workflow figures (RULES §2 #10): work-order refusals of
 * a period per department and person, and the repairs and repeat repairs (返修) of a
 * period for the rework rate.
 */
#ifndef DB_FLOW_H
#define DB_FLOW_H

#include "db/db.h"

/* Whether the project exists in the organisation: 1 / 0 / -1. */
int db_flow_project(db_conn_t *c, const char *org, const char *project);
/* The refusals declined in [from, to) (RFC 3339 texts) as a JSON object text (malloc'd):
 * total, by_reason {reason: n}, by_department [{department_id, name, count}], by_person
 * [{user_id, name, count}] — the person is the work order's technician, or who declined it
 * when it had none.  0, or -1 on error. */
int db_flow_refusals(db_conn_t *c, const char *org, const char *project, const char *from,
                     const char *to, char **json);
/* Repairs received in [from, to) and how many of them are repeats.  0 or -1. */
int db_flow_rework(db_conn_t *c, const char *org, const char *project, const char *from,
                   const char *to, long long *repairs, long long *repeats);

/* The zone of the request's project named as its common area: 1 with the zone's id,
 * department and responsible person ("" when none, or no longer an active member of the
 * department), 0 when none, -1 on error. */
int db_flow_zone_for(db_conn_t *c, const char *org, const char *request, char zone[40],
                     char dept[40], char person[40]);
/* The project's engineering department (its own before an organisation-wide one, the
 * oldest first): 1 with its id, 0 when none, -1 on error. */
int db_flow_duty_department(db_conn_t *c, const char *org, const char *project, char dept[40]);

#endif
