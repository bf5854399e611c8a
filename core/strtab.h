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

/* Every enum with API strings has, for a prefix P and its type:
 *   const char *P_name(type v)          the string; NULL out of range (static storage)
 *   int P_from_string(const char *s)    the value; -1 when unknown or s is NULL
 *   size_t P_list(char *buf, size_t n)  "a, b, c" for error messages (length needed)
 * CORE_STRTAB_DECLS declares them in a header, CORE_STRTAB_FUNCS defines them over the
 * one table that spells the strings. */
#define CORE_STRTAB_DECLS(prefix, type_t)                                                          \
    const char *prefix##_name(type_t v);                                                           \
    int prefix##_from_string(const char *s);                                                       \
    size_t prefix##_list(char *buf, size_t len);

#define CORE_STRTAB_FUNCS(prefix, type_t, names, count)                                            \
    const char *prefix##_name(type_t v)                                                            \
    {                                                                                              \
        return (unsigned)v < (unsigned)(count) ? (names)[v] : NULL;                                \
    }                                                                                              \
    int prefix##_from_string(const char *s)                                                        \
    {                                                                                              \
        return core_strtab_index(names, count, s);                                                 \
    }                                                                                              \
    size_t prefix##_list(char *buf, size_t len)                                                    \
    {                                                                                              \
        return core_strtab_join(names, count, buf, len);                                           \
    }

#endif
