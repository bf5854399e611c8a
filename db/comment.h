/* db/comment.h — SQL for the comments on a request. */
#ifndef DB_COMMENT_H
#define DB_COMMENT_H

#include "db/db.h"

/* Inserts a comment and its timeline event (seq given).  Returns (json) or error. */
PGresult *db_comment_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                         const char *author, const char *role, const char *visibility,
                         const char *body, const char *channel);
/* JSON array text of comments (malloc'd) or NULL; internal=0 shows public ones only. */
char *db_comment_list(db_conn_t *c, const char *org, const char *request_id, int internal);

#endif
