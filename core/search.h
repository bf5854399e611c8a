/*
 * core/search.h — free-text search terms.  Chinese has no spaces and its words are two
 * characters long (漏水, 电梯), below what trigram indexes can find, so a request's text
 * is indexed by its character bigrams: every pair of consecutive characters, exactly as
 * PostgreSQL's search_bigrams() (schema.sql) cuts them, so terms computed here at intake
 * and terms computed in SQL for a query or an edit always agree.
 */
#ifndef CORE_SEARCH_H
#define CORE_SEARCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t off; /* byte offset of the bigram in the text */
    uint32_t len; /* its length in bytes (two characters) */
} core_bigram_t;

/*
 * The distinct character bigrams of the UTF-8 text s[0..len), sorted bytewise, into
 * out (room for len entries always suffices); returns how many.  Characters are cut as
 * PostgreSQL cuts UTF-8 (the lead byte gives the length); a truncated character at the
 * end counts as one character of the bytes left.
 */
size_t core_search_bigrams(const char *s, size_t len, core_bigram_t *out);

#endif
