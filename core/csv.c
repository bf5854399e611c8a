/*
 * core/csv.c — the streaming CSV reader (see core/csv.h).  Three stages, each fed by the
 * one before: encoding detection and GB18030 → UTF-8 conversion (iconv), delimiter
 * detection on the header line, and the quoting state machine that builds records.
 */
#include "core/csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_IN_QUOTED };

struct csv_reader {
    csv_record_fn fn;
    void *ud;
    csv_err_t err;
    long err_row;
    /* encoding */
    csv_enc_t enc;
    int bom;
    unsigned char sniff[CSV_SNIFF];
    size_t nsniff;
    iconv_t cd;
    unsigned char carry[8]; /* an incomplete GB18030 sequence left from the last feed */
    size_t ncarry;
    /* delimiter */
    char delim;
    char *head; /* the header line, decoded, while the delimiter is unknown */
    size_t nhead;
    int head_quoted;
    /* state machine */
    int state;
    int skip_lf;
    long row;
    long rec_row;
    char *buf; /* the current record's fields, each NUL-terminated */
    size_t nbuf, cap;
    size_t off[CSV_MAX_FIELDS];
    int nfields, extra, long_field, field_len_over;
    size_t field_start;
    int any_data;
};

const char *csv_err_name(csv_err_t e)
{
    switch (e) {
    case CSV_OK:
        return "ok";
    case CSV_ERR_ENCODING:
        return "invalid_encoding";
    case CSV_ERR_UNTERMINATED:
        return "unterminated_quote";
    case CSV_ERR_HEADER_LONG:
        return "header_too_long";
    case CSV_ERR_NOMEM:
        return "out_of_memory";
    case CSV_ERR_STOPPED:
        return "stopped";
    }
    return "unknown";
}

int csv_utf8_valid(const unsigned char *s, size_t n, int partial)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return 0;
            i++;
            continue;
        }
        int len;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + (size_t)len > n) {
            for (size_t k = i + 1; k < n; k++)
                if ((s[k] & 0xC0) != 0x80)
                    return 0;
            return partial;
        }
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += (size_t)len;
    }
    return 1;
}

csv_reader_t *csv_reader_new(csv_record_fn fn, void *ud, char delim)
{
    csv_reader_t *rd = calloc(1, sizeof *rd);
    if (!rd)
        return NULL;
    rd->fn = fn;
    rd->ud = ud;
    rd->delim = delim;
    rd->cd = (iconv_t)-1;
    rd->cap = 1024;
    rd->buf = malloc(rd->cap);
    rd->row = 1;
    rd->rec_row = 1;
    if (!rd->buf) {
        free(rd);
        return NULL;
    }
    return rd;
}

void csv_reader_free(csv_reader_t *rd)
{
    if (!rd)
        return;
    if (rd->cd != (iconv_t)-1)
        iconv_close(rd->cd);
    free(rd->head);
    free(rd->buf);
    free(rd);
}

csv_enc_t csv_encoding(const csv_reader_t *rd)
{
    return rd->enc;
}
char csv_delimiter(const csv_reader_t *rd)
{
    return rd->delim;
}
int csv_had_bom(const csv_reader_t *rd)
{
    return rd->bom;
}
long csv_error_row(const csv_reader_t *rd)
{
    return rd->err_row;
}

static csv_err_t fail(csv_reader_t *rd, csv_err_t e)
{
    rd->err = e;
    rd->err_row = rd->rec_row;
    return e;
}

/* ---------------------------------------------------------------- records */

static int buf_put(csv_reader_t *rd, char c)
{
    if (rd->nbuf + 2 > rd->cap) {
        size_t nc = rd->cap * 2;
        char *nb = realloc(rd->buf, nc);
        if (!nb)
            return -1;
        rd->buf = nb;
        rd->cap = nc;
    }
    rd->buf[rd->nbuf++] = c;
    return 0;
}

static csv_err_t add_char(csv_reader_t *rd, char c)
{
    rd->any_data = 1;
    if (rd->nfields >= CSV_MAX_FIELDS)
        return CSV_OK; /* an extra field: counted at its end, not kept */
    if (rd->nbuf - rd->field_start >= CSV_MAX_FIELD) {
        rd->field_len_over = 1;
        return CSV_OK;
    }
    return buf_put(rd, c) ? fail(rd, CSV_ERR_NOMEM) : CSV_OK;
}

static csv_err_t end_field(csv_reader_t *rd)
{
    if (rd->nfields >= CSV_MAX_FIELDS) {
        rd->extra++;
    } else {
        if (buf_put(rd, 0))
            return fail(rd, CSV_ERR_NOMEM);
        rd->off[rd->nfields++] = rd->field_start;
        if (rd->field_len_over && !rd->long_field)
            rd->long_field = rd->nfields;
    }
    rd->field_start = rd->nbuf;
    rd->field_len_over = 0;
    return CSV_OK;
}

static csv_err_t end_record(csv_reader_t *rd)
{
    csv_err_t e = end_field(rd);
    if (e)
        return e;
    csv_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.row = rd->rec_row;
    int blank = 1;
    for (int i = 0; i < rd->nfields; i++) {
        rec.field[i] = rd->buf + rd->off[i];
        rec.len[i] = strlen(rec.field[i]);
        if (rec.len[i])
            blank = 0;
        if (!rec.bad_utf8 && rd->enc == CSV_ENC_UTF8 &&
            !csv_utf8_valid((const unsigned char *)rec.field[i], rec.len[i], 0))
            rec.bad_utf8 = i + 1;
    }
    rec.nfields = rd->nfields;
    rec.extra_fields = rd->extra;
    rec.long_field = rd->long_field;
    if (rd->extra || rd->long_field)
        blank = 0;
    int stop = blank ? 0 : rd->fn(rd->ud, &rec);
    rd->nbuf = rd->field_start = 0;
    rd->nfields = rd->extra = rd->long_field = rd->field_len_over = rd->any_data = 0;
    rd->rec_row = rd->row;
    rd->state = ST_START;
    return stop ? fail(rd, CSV_ERR_STOPPED) : CSV_OK;
}

/* The quoting state machine over decoded UTF-8 text. */
static csv_err_t machine(csv_reader_t *rd, const char *s, size_t n)
{
    csv_err_t e = CSV_OK;
    for (size_t i = 0; i < n && !e; i++) {
        char c = s[i];
        if (rd->skip_lf) {
            rd->skip_lf = 0;
            if (c == '\n')
                continue;
        }
        int eol = c == '\n' || c == '\r';
        switch (rd->state) {
        case ST_START:
        case ST_UNQUOTED:
            if (c == '"' && rd->state == ST_START) {
                rd->state = ST_QUOTED;
                rd->any_data = 1;
            } else if (c == rd->delim) {
                rd->any_data = 1;
                e = end_field(rd);
                rd->state = ST_START;
            } else if (eol) {
                rd->row++;
                rd->skip_lf = c == '\r';
                e = end_record(rd);
            } else {
                e = add_char(rd, c);
                rd->state = ST_UNQUOTED;
            }
            break;
        case ST_QUOTED:
            if (c == '"') {
                rd->state = ST_QUOTE_IN_QUOTED;
            } else {
                if (c == '\n' || (c == '\r' && !(i + 1 < n && s[i + 1] == '\n')))
                    rd->row++;
                e = add_char(rd, c);
            }
            break;
        case ST_QUOTE_IN_QUOTED:
            if (c == '"') {
                e = add_char(rd, '"');
                rd->state = ST_QUOTED;
            } else if (c == rd->delim) {
                e = end_field(rd);
                rd->state = ST_START;
            } else if (eol) {
                rd->row++;
                rd->skip_lf = c == '\r';
                e = end_record(rd);
            } else { /* "abc"def: keep the text, as Excel does */
                e = add_char(rd, c);
                rd->state = ST_UNQUOTED;
            }
            break;
        }
    }
    return e;
}

/* ---------------------------------------------------------------- delimiter */

static char choose_delim(const char *s, size_t n)
{
    long commas = 0, tabs = 0, semis = 0;
    int q = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            q = !q;
        else if (!q && s[i] == ',')
            commas++;
        else if (!q && s[i] == '\t')
            tabs++;
        else if (!q && s[i] == ';')
            semis++;
    }
    if (tabs > commas && tabs >= semis)
        return '\t';
    if (semis > commas && semis > tabs)
        return ';';
    return ',';
}

static csv_err_t flush_head(csv_reader_t *rd)
{
    rd->delim = choose_delim(rd->head, rd->nhead);
    char *h = rd->head;
    size_t n = rd->nhead;
    rd->head = NULL;
    rd->nhead = 0;
    csv_err_t e = machine(rd, h, n);
    free(h);
    return e;
}

/* Decoded text: held until the header line is complete when the delimiter is unknown. */
static csv_err_t text(csv_reader_t *rd, const char *s, size_t n)
{
    if (rd->delim)
        return machine(rd, s, n);
    size_t i = 0;
    for (; i < n; i++) {
        if (s[i] == '"')
            rd->head_quoted = !rd->head_quoted;
        else if (!rd->head_quoted && (s[i] == '\n' || s[i] == '\r'))
            break;
    }
    size_t take = i < n ? i + 1 : n;
    if (rd->nhead + take > CSV_MAX_HEADER)
        return fail(rd, CSV_ERR_HEADER_LONG);
    char *nh = realloc(rd->head, rd->nhead + take + 1);
    if (!nh)
        return fail(rd, CSV_ERR_NOMEM);
    rd->head = nh;
    memcpy(rd->head + rd->nhead, s, take);
    rd->nhead += take;
    if (i == n)
        return CSV_OK;
    csv_err_t e = flush_head(rd);
    return e ? e : machine(rd, s + take, n - take);
}

/* ---------------------------------------------------------------- encoding */

static csv_err_t convert(csv_reader_t *rd, const unsigned char *s, size_t n, int final)
{
    char out[16384];
    unsigned char tmp[sizeof rd->carry + 8];
    /* Finish a sequence cut off by the previous feed, one byte at a time. */
    while (rd->ncarry && n) {
        memcpy(tmp, rd->carry, rd->ncarry);
        tmp[rd->ncarry] = *s;
        char *in = (char *)tmp, *o = out;
        size_t il = rd->ncarry + 1, ol = sizeof out;
        size_t k = iconv(rd->cd, &in, &il, &o, &ol);
        if (k == (size_t)-1 && errno == EILSEQ)
            return fail(rd, CSV_ERR_ENCODING);
        s++, n--;
        if (k == (size_t)-1 && errno == EINVAL) {
            if (rd->ncarry + 1 >= sizeof rd->carry)
                return fail(rd, CSV_ERR_ENCODING);
            rd->carry[rd->ncarry] = tmp[rd->ncarry];
            rd->ncarry++;
            continue;
        }
        rd->ncarry = 0;
        csv_err_t e = text(rd, out, sizeof out - ol);
        if (e)
            return e;
    }
    char *in = (char *)s;
    size_t il = n;
    while (il) {
        char *o = out;
        size_t ol = sizeof out;
        size_t k = iconv(rd->cd, &in, &il, &o, &ol);
        int err = k == (size_t)-1 ? errno : 0;
        if (sizeof out - ol) {
            csv_err_t e = text(rd, out, sizeof out - ol);
            if (e)
                return e;
        }
        if (err == EILSEQ)
            return fail(rd, CSV_ERR_ENCODING);
        if (err == EINVAL) {
            if (il > sizeof rd->carry)
                return fail(rd, CSV_ERR_ENCODING);
            memcpy(rd->carry, in, il);
            rd->ncarry = il;
            break;
        }
    }
    if (final && rd->ncarry)
        return fail(rd, CSV_ERR_ENCODING);
    return CSV_OK;
}

static csv_err_t decode(csv_reader_t *rd, const unsigned char *s, size_t n, int final)
{
    if (rd->enc == CSV_ENC_UTF8)
        return text(rd, (const char *)s, n);
    return convert(rd, s, n, final);
}

/* Chooses the encoding from the sniffed prefix, then decodes it. */
static csv_err_t detect(csv_reader_t *rd, int final)
{
    const unsigned char *s = rd->sniff;
    size_t n = rd->nsniff;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        rd->bom = 1;
        rd->enc = CSV_ENC_UTF8;
        s += 3;
        n -= 3;
    } else if (csv_utf8_valid(s, n, !final)) {
        rd->enc = CSV_ENC_UTF8;
    } else {
        rd->enc = CSV_ENC_GB18030;
        rd->cd = iconv_open("UTF-8", "GB18030");
        if (rd->cd == (iconv_t)-1)
            return fail(rd, CSV_ERR_NOMEM);
    }
    return decode(rd, s, n, final);
}

csv_err_t csv_feed(csv_reader_t *rd, const void *bytes, size_t n)
{
    if (rd->err)
        return rd->err;
    const unsigned char *s = bytes;
    if (rd->enc == CSV_ENC_UNKNOWN) {
        size_t take = CSV_SNIFF - rd->nsniff < n ? CSV_SNIFF - rd->nsniff : n;
        memcpy(rd->sniff + rd->nsniff, s, take);
        rd->nsniff += take;
        s += take;
        n -= take;
        if (rd->nsniff < CSV_SNIFF)
            return CSV_OK;
        csv_err_t e = detect(rd, 0);
        if (e)
            return e;
    }
    return n ? decode(rd, s, n, 0) : CSV_OK;
}

csv_err_t csv_finish(csv_reader_t *rd)
{
    if (rd->err)
        return rd->err;
    csv_err_t e = CSV_OK;
    if (rd->enc == CSV_ENC_UNKNOWN)
        e = detect(rd, 1);
    else if (rd->enc == CSV_ENC_GB18030 && rd->ncarry)
        e = fail(rd, CSV_ERR_ENCODING);
    if (!e && !rd->delim && rd->nhead)
        e = flush_head(rd);
    if (!e && (rd->state == ST_QUOTED))
        e = fail(rd, CSV_ERR_UNTERMINATED);
    if (!e && (rd->any_data || rd->nfields))
        e = end_record(rd);
    return e;
}
