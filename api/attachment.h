/*
 * api/attachment.h — the metadata of a stored file (the file itself lives in object storage):
 * read and checked the same way for a request's attachments (api/attachment.c) and a patrol
 * round's photos (api/patrol.c).
 */
#ifndef API_ATTACHMENT_H
#define API_ATTACHMENT_H

#include "api/http.h"

/* Reads r->json's filename, content_type, size_bytes, storage_key (required), url and sha256
 * (optional; 64 lower-case hex digits) into vals[0..5] in that order (strings point into the
 * body; size_bytes is written into size, 32 bytes).  Members other than those and `extra`
 * (NULL-terminated, may be NULL) are refused.  0, or -1 with the 422 sent. */
int api_attachment_fields(req_t *r, const char *const *extra, const char *vals[6], char size[32]);

#endif
