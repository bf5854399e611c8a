/*
 * db/register.h — SQL for the register columns of requests (request_register_notes: every
 * note kept, the latest per column shown) and for the rows of the paper registers
 * (报修受理登记表, 投诉受理登记表, 投诉处理记录表).
 */
#ifndef DB_REGISTER_H
#define DB_REGISTER_H

#include "db/db.h"

/* Appends a note to column `field` of request_id with its timeline event (number seq,
 * action "register_note", details {field, note_id, visibility}).  One row: the note's JSON. */
PGresult *db_register_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                          const char *field, const char *body, const char *author, const char *role,
                          const char *channel, const char *visibility);
/* {"latest": {field: note | null, ...}, "history": [note, ...]} of the columns in
 * fields_lit (a text[] literal "{customer_wish,...}").  malloc'd text or NULL (error). */
char *db_register_view(db_conn_t *c, const char *org, const char *request_id,
                       const char *fields_lit);
/* The request rows of type `type` in project received in [from, to) (RFC 3339), in
 * received order, each with every raw value any register needs (latest notes, names,
 * address, timeline actions).  malloc'd JSON array text or NULL (error). */
char *db_register_rows(db_conn_t *c, const char *org, const char *project, const char *type,
                       const char *from, const char *to);

#endif
