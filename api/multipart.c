/*
 * api/multipart.c — the streaming multipart/form-data reader (api/multipart.h).  Bytes that
 * could be the start of a delimiter are held back until the next chunk decides.
 */
#include "api/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int multipart_init(multipart_t *p, const char *ctype, const multipart_cb_t *cb, void *ud)
{
    const char *b = strcasestr(ctype, "boundary=");
    if (!b)
        return -1;
    b += 9;
    char bound[80];
    size_t n = 0;
    int q = *b == '"';
    if (q)
        b++;
    while (*b && n < 70 && (q ? *b != '"' : (*b != ';' && *b != ' ')))
        bound[n++] = *b++;
    bound[n] = 0;
    if (!n)
        return -1;
    p->dlen = (size_t)snprintf(p->delim, sizeof p->delim, "\r\n--%s", bound);
    /* the body's first delimiter has no CRLF before it: start as if it had */
    memcpy(p->hold, "\r\n", 2);
    p->nhold = 2;
    p->state = 0;
    p->nhead = 0;
    p->cb = *cb;
    p->ud = ud;
    return 0;
}

int multipart_done(const multipart_t *p)
{
    return p->state == 4;
}

/* The part's headers are complete: finds its name and whether it is a file. */
static int part_start(multipart_t *p)
{
    p->head[p->nhead] = 0;
    const char *cd = strcasestr(p->head, "content-disposition:");
    char name[64] = "";
    int has_file = cd && strcasestr(cd, "filename=") != NULL;
    const char *nm = cd ? strcasestr(cd, " name=") : NULL;
    if (!nm && cd)
        nm = strcasestr(cd, ";name=");
    if (nm) {
        nm = strchr(nm, '=') + 1;
        int q = *nm == '"';
        nm += q;
        size_t k = 0;
        while (*nm && k + 1 < sizeof name && (q ? *nm != '"' : (*nm != ';' && *nm != '\r')))
            name[k++] = *nm++;
        name[k] = 0;
    }
    return p->cb.part_start(p->ud, name, has_file);
}

static int stopped(const multipart_t *p)
{
    return p->cb.stopped && p->cb.stopped(p->ud);
}

int multipart_feed(multipart_t *p, const char *data, size_t n)
{
    char *w = malloc(p->nhold + n + 1);
    if (!w)
        return -1;
    memcpy(w, p->hold, p->nhold);
    memcpy(w + p->nhold, data, n);
    size_t len = p->nhold + n, i = 0;
    p->nhold = 0;
    int rc = 0;
    while (i < len && rc == 0 && !stopped(p)) {
        if (p->state == 0 || p->state == 3) {
            char *f = memmem(w + i, len - i, p->delim, p->dlen);
            if (f) {
                if (p->state == 3)
                    rc = p->cb.part_data(p->ud, w + i, (size_t)(f - (w + i)));
                if (!rc && p->state == 3)
                    rc = p->cb.part_end(p->ud);
                i = (size_t)(f - w) + p->dlen;
                p->state = 1;
            } else {
                size_t keep = len - i < p->dlen - 1 ? len - i : p->dlen - 1;
                if (p->state == 3)
                    rc = p->cb.part_data(p->ud, w + i, len - i - keep);
                memcpy(p->hold, w + len - keep, keep);
                p->nhold = keep;
                i = len;
            }
        } else if (p->state == 1) {
            if (len - i < 2) {
                memcpy(p->hold, w + i, len - i);
                p->nhold = len - i;
                i = len;
            } else if (!memcmp(w + i, "--", 2)) {
                p->state = 4;
                i = len;
            } else if (!memcmp(w + i, "\r\n", 2)) {
                p->state = 2;
                p->nhead = 0;
                i += 2;
            } else {
                rc = -1;
            }
        } else if (p->state == 2) {
            if (p->nhead + 1 >= sizeof p->head) {
                rc = -1;
                break;
            }
            p->head[p->nhead++] = w[i++];
            if (p->nhead >= 4 && !memcmp(p->head + p->nhead - 4, "\r\n\r\n", 4)) {
                p->state = 3;
                rc = part_start(p);
            }
        } else {
            i = len; /* epilogue */
        }
    }
    free(w);
    return rc;
}
