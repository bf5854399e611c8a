/*
 * api/multipart.h — a streaming multipart/form-data reader (RFC 7578): body bytes go in
 * chunk by chunk, each part's start (its form name, whether it carries a filename), data
 * and end come out through callbacks.  Memory: one part header and one delimiter.
 */
#ifndef API_MULTIPART_H
#define API_MULTIPART_H

#include <stddef.h>

#define MULTIPART_MAX_HEADER 8192

typedef struct multipart_cb {
    /* A part's headers are read: its form field name ("" when none) and whether the
     * Content-Disposition names a file.  0, or -1 to stop. */
    int (*part_start)(void *ud, const char *name, int has_file);
    /* n bytes of the current part's body (n may be 0).  0, or -1 to stop. */
    int (*part_data)(void *ud, const char *s, size_t n);
    /* The current part's closing delimiter was found.  0, or -1 to stop. */
    int (*part_end)(void *ud);
    /* 1 when the consumer has given up (checked before each step); may be NULL. */
    int (*stopped)(void *ud);
} multipart_cb_t;

typedef struct multipart {
    char delim[96]; /* "\r\n--" boundary */
    size_t dlen;
    int state; /* 0 preamble, 1 after delimiter, 2 part headers, 3 part body, 4 done */
    char hold[96];
    size_t nhold;
    char head[MULTIPART_MAX_HEADER];
    size_t nhead;
    multipart_cb_t cb;
    void *ud;
} multipart_t;

/* Reads the boundary from the Content-Type.  0, or -1 when it has none. */
int multipart_init(multipart_t *p, const char *ctype, const multipart_cb_t *cb, void *ud);
/* Feeds body bytes.  0, or -1 when malformed or a callback stopped. */
int multipart_feed(multipart_t *p, const char *data, size_t n);
/* 1 once the closing boundary ("--boundary--") has been read. */
int multipart_done(const multipart_t *p);

#endif
