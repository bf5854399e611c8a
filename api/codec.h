/* api/codec.h — base64url (RFC 4648 §5, no padding); RFC 3339 times come from core/rfc3339.h. */
#ifndef API_CODEC_H
#define API_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/rfc3339.h" /* rfc3339_parse/format, used by the handlers */

/* Encodes n bytes into out (capacity >= 4*ceil(n/3)+1); returns the length. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);
/* Decodes n chars (standard or url alphabet) into out; returns length or -1. */
long b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
