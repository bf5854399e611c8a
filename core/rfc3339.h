/* core/rfc3339.h — RFC 3339 timestamps <-> UTC seconds (pure: no clock, no locale). */
#ifndef CORE_RFC3339_H
#define CORE_RFC3339_H

#include <stdint.h>

/* Parses an RFC 3339 timestamp ("2026-11-23T09:00:00Z", fractions and ±hh:mm offsets
 * allowed, years from 1970) into UTC seconds.  0 / -1. */
int rfc3339_parse(const char *s, int64_t *out);
/* Formats UTC seconds as "YYYY-MM-DDTHH:MM:SSZ". */
void rfc3339_format(int64_t t, char out[32]);

#endif
