/*
 * core/vocab.h — the API's vocabulary: every enum the API speaks, each value with its
 * zh-CN label as the desk's forms write it (投诉, 报修, 咨询, 建议, 表扬, 突发事件; 非常满意 …)
 * and an English one, so every client shows the same words (GET /v1/vocabulary).
 *
 * One place: an enum whose values live in a core table (roles, request types, key actions,
 * …) takes them from that table (a new value there without a label here fails
 * tests/core/test_vocab.c); an enum that exists only in the API lists its values here.
 * A feature adding an enum adds one vocab_enum_t row to core/vocab.c.  Pure.
 */
#ifndef CORE_VOCAB_H
#define CORE_VOCAB_H

#include <stddef.h>

typedef struct vocab_term {
    const char *value;
    const char *zh; /* zh-CN */
    const char *en;
} vocab_term_t;

typedef struct vocab_enum {
    const char *name; /* the vocabulary's key, e.g. "request_type" */
    /* The values from a core table (i-th value, NULL past the end), or NULL when the
     * enum's values are its terms in order. */
    const char *(*core_value)(int i);
    const vocab_term_t *terms; /* labels (by value) */
    size_t nterms;
} vocab_enum_t;

/* The enums, in a fixed order; *n their number. */
const vocab_enum_t *core_vocab_enums(size_t *n);
/* The enum of that name, or NULL. */
const vocab_enum_t *core_vocab_find(const char *name);
/* The i-th value of e (from its core table or its terms), NULL past the end. */
const char *core_vocab_value(const vocab_enum_t *e, size_t i);
/* The labels of value in e, or NULL when it has none. */
const vocab_term_t *core_vocab_term(const vocab_enum_t *e, const char *value);

#endif
