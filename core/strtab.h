/*
 * core/strtab.h — the one look-up behind every enum ↔ API string table in core/, and the
 * one rendering of a table as the "a, b, c" list that error messages name.
 */
#ifndef CORE_STRTAB_H
#define CORE_STRTAB_H

#include <stddef.h>

/* Index of s in names[0..n) (NULL entries skipped), or -1 when absent or s is NULL.
 * n < 0: the table ends at its first NULL entry. */
int core_strtab_index(const char *const *names, int n, const char *s);
/* Writes names[0..n) (NULL entries skipped; n < 0 as above) as "a, b, c" into buf
 * (always NUL-terminated when len > 0, cut short when it does not fit).  Returns the
 * length the whole list needs, like snprintf. */
size_t core_strtab_join(const char *const *names, int n, char *buf, size_t len);

/* Defines `const char *NAME_FN(TYPE v)` (NULL out of range), `int FROM_FN(const char *s)`
 * (-1 when unknown) and `size_t LIST_FN(char *buf, size_t len)` over the table NAMES of
 * COUNT entries, so that every enum's strings are written once, in its table. */
#define CORE_STRTAB_FUNCS(name_fn, from_fn, list_fn, type_t, names, count)                         \
    const char *name_fn(type_t v)                                                                  \
    {                                                                                              \
        return (unsigned)v < (unsigned)(count) ? (names)[v] : NULL;                                \
    }                                                                                              \
    int from_fn(const char *s)                                                                     \
    {                                                                                              \
        return core_strtab_index(names, count, s);                                                 \
    }                                                                                              \
    size_t list_fn(char *buf, size_t len)                                                          \
    {                                                                                              \
        return core_strtab_join(names, count, buf, len);                                           \
    }

#endif
