/*
 * core/csv.h — a streaming reader for CSV as spreadsheet programs write it: UTF-8 with or
 * without a byte-order mark, or GB18030/GBK (Chinese Excel's "CSV" default), comma or tab
 * separated (decided from the header line), RFC 4180 quoting with doubled quotes and line
 * breaks inside quoted fields, CRLF / LF / CR line ends.  Bytes go in as they arrive
 * (csv_feed), whole records come out through a callback, so memory stays bounded by one
 * record whatever the file's size.  No I/O: the GB18030 conversion is glibc iconv.
 *
 * Encoding: a BOM means UTF-8; otherwise the first CSV_SNIFF bytes decide — valid UTF-8 is
 * UTF-8, anything else GB18030 (a superset of GBK and GB2312).  A later field that is not
 * valid in the chosen encoding is reported on its record (bad_utf8) or stops the reader.
 */
#ifndef CORE_CSV_H
#define CORE_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 64    /* fields kept per record; more are counted, not kept */
#define CSV_MAX_FIELD  4096  /* bytes kept per field; longer ones are flagged */
#define CSV_MAX_HEADER 65536 /* bytes the header line may take */
#define CSV_SNIFF      4096  /* bytes looked at to choose the encoding */

typedef enum { CSV_ENC_UNKNOWN, CSV_ENC_UTF8, CSV_ENC_GB18030 } csv_enc_t;

typedef struct csv_record {
    long row;         /* 1-based record number (the header is row 1), as Excel counts rows */
    int nfields;      /* fields kept (at most CSV_MAX_FIELDS) */
    int extra_fields; /* fields beyond CSV_MAX_FIELDS */
    int long_field;   /* 1-based index of the first field longer than CSV_MAX_FIELD, or 0 */
    int bad_utf8;     /* 1-based index of the first field that is not valid text, or 0 */
    const char *field[CSV_MAX_FIELDS]; /* NUL-terminated UTF-8 */
    size_t len[CSV_MAX_FIELDS];
} csv_record_t;

/* Called with each non-blank record (blank lines and rows of empty fields are counted as
 * rows but not delivered).  Return 0 to go on, non-zero to stop (csv_feed returns it). */
typedef int (*csv_record_fn)(void *ud, const csv_record_t *rec);

typedef enum {
    CSV_OK = 0,
    CSV_ERR_ENCODING,     /* bytes that are not GB18030 in a GB18030 file */
    CSV_ERR_UNTERMINATED, /* the input ended inside a quoted field */
    CSV_ERR_HEADER_LONG,  /* no line end within CSV_MAX_HEADER bytes */
    CSV_ERR_NOMEM,
    CSV_ERR_STOPPED, /* the callback asked to stop */
} csv_err_t;

typedef struct csv_reader csv_reader_t;

/* A reader delivering records to fn.  delim: ',' or '\t' to force, 0 to detect.  NULL
 * when out of memory. */
csv_reader_t *csv_reader_new(csv_record_fn fn, void *ud, char delim);
void csv_reader_free(csv_reader_t *rd);
/* Feeds the next n bytes.  Returns CSV_OK or an error (the reader then refuses more). */
csv_err_t csv_feed(csv_reader_t *rd, const void *bytes, size_t n);
/* The input ended: delivers the last record.  CSV_OK or an error. */
csv_err_t csv_finish(csv_reader_t *rd);
/* What was detected (valid after the first record). */
csv_enc_t csv_encoding(const csv_reader_t *rd);
char csv_delimiter(const csv_reader_t *rd);
int csv_had_bom(const csv_reader_t *rd);
/* The row (record number) at which the error happened. */
long csv_error_row(const csv_reader_t *rd);
const char *csv_err_name(csv_err_t e);

/* 1 when s[0..n) is valid UTF-8 (RFC 3629: no overlongs, surrogates or NUL); when partial
 * is set, a sequence cut off by the end of the buffer is accepted. */
int csv_utf8_valid(const unsigned char *s, size_t n, int partial);

#endif
