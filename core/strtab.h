/*
 * core/strtab.h — the one look-up behind every enum ↔ API string table in core/.
 */
#ifndef CORE_STRTAB_H
#define CORE_STRTAB_H

/* Index of s in names[0..n) (NULL entries skipped), or -1 when absent or s is NULL. */
int core_strtab_index(const char *const *names, int n, const char *s);

#endif
