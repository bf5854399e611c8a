/* db/attachment.h — SQL for attachment metadata on a request. */
#ifndef DB_ATTACHMENT_H
#define DB_ATTACHMENT_H

#include "db/db.h"

/* vals: filename, content_type, size_bytes, storage_key, url, sha256, visibility. */
PGresult *db_attachment_add(db_conn_t *c, const char *org, const char *request_id, int seq,
                            const char *uploader, const char *role, const char *const vals[7],
                            const char *channel);
char *db_attachment_list(db_conn_t *c, const char *org, const char *request_id, int internal);

#endif
