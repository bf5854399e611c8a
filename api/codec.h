/* api/codec.h — base64url (RFC 4648 §5, no padding). */
#ifndef API_CODEC_H
#define API_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Encodes n bytes into out (capacity >= 4*ceil(n/3)+1); returns the length. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);
/* Decodes n chars (standard or url alphabet) into out; returns length or -1. */
long b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

/* Parses an RFC 3339 timestamp ("2026-11-23T09:00:00Z", fractions and ±hh:mm offsets
 * allowed, years from 1970) into UTC seconds.  0 / -1. */
int rfc3339_parse(const char *s, int64_t *out);
/* Formats UTC seconds as "YYYY-MM-DDTHH:MM:SSZ". */
void rfc3339_format(int64_t t, char out[32]);

#endif
