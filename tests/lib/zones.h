/*
 * tests/lib/zones.h — time-zone rules for core tests, read from the system's zoneinfo
 * files (test code may read files; core/tz itself only parses bytes).
 */
#ifndef TESTS_ZONES_H
#define TESTS_ZONES_H

#include "core/tz.h"

/* Parses /usr/share/zoneinfo/<name>; NULL (with a message on stderr) when the file is
 * missing or does not parse.  Free with core_tz_free. */
tz_rules_t *th_zone_load(const char *name);
/* Same, but a missing or malformed file fails the running cmocka test. */
tz_rules_t *th_zone(const char *name);

#endif
