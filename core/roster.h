/*
 * core/roster.h — what a roster file may say: the kinds of roster, their columns with the
 * zh-CN and English headers each is recognised by, and the checks and normalisation of one
 * row's values (Chinese values such as 业主 / 是 / 空置 / 客服部 become the API's enums).
 * Pure: references between rows and to stored data (project codes, buildings, units,
 * departments) are resolved by the database afterwards.
 */
#ifndef CORE_ROSTER_H
#define CORE_ROSTER_H

#include "core/csv.h"

typedef enum {
    RK_PROJECTS,
    RK_BUILDINGS,
    RK_UNITS,
    RK_RESIDENTS,
    RK_DEPARTMENTS,
    RK_USERS,
    RK__COUNT
} roster_kind_t;

#define ROSTER_MAX_OUT  8  /* normalised values per row (c1..c8 of the staging table) */
#define ROSTER_MAX_COLS 12 /* columns a kind knows */

typedef enum {
    RT_TEXT,     /* trimmed text up to maxlen bytes */
    RT_INT,      /* whole number in [lo, hi] */
    RT_AREA,     /* positive decimal, at most 2 places */
    RT_PHONE,    /* digits with + - ( ) and spaces, 5..20 digits */
    RT_IDNUM,    /* ID number: 6..32 letters/digits, upper-cased (hashed by the caller) */
    RT_ENUM,     /* one of a value map (API value or its Chinese names) */
    RT_BOOL,     /* 是/否, yes/no, true/false, 1/0, 成年/未成年 */
    RT_USERNAME, /* [A-Za-z0-9._@-]{2,64} */
    RT_CODES,    /* a list of codes separated by ; ， , 、 or | → "a;b" */
    RT_SECRET,   /* kept as given (an initial password, 8..256 bytes) */
} roster_type_t;

typedef struct roster_map {
    const char *value; /* the API value */
    const char *const *names;
} roster_map_t;

typedef struct roster_col {
    const char *key;            /* the English header, also the report's column name */
    const char *const *aliases; /* other headers (zh-CN first), NULL-terminated */
    int required;
    roster_type_t type;
    int maxlen; /* text bytes */
    long lo, hi;
    const roster_map_t *map; /* RT_ENUM */
    int out;                 /* index into roster_row_t.v, or -1 (composed into another) */
} roster_col_t;

typedef struct roster_kind_def {
    const char *name; /* "units" */
    const roster_col_t *cols;
    int ncols;
} roster_kind_def_t;

const roster_kind_def_t *roster_kind(roster_kind_t k);
/* The kind named s ("units", or 房产/楼栋/... see the table); -1 when unknown. */
int roster_kind_from_string(const char *s);

/* One problem in a file: where and what. */
typedef struct roster_error {
    long row;         /* 1 = the header */
    char column[64];  /* the column's English key ("" for the whole row) */
    char code[32];    /* stable code: missing_column, required, invalid_enum, ... */
    char detail[256]; /* what is wrong and how to fix it */
} roster_error_t;

typedef void (*roster_error_fn)(void *ud, const roster_error_t *e);

/* The header mapped: for each column of the kind, the index of the file's column (-1). */
typedef struct roster_header {
    roster_kind_t kind;
    int idx[ROSTER_MAX_COLS];
    int nfile;                   /* columns in the file */
    int ignored[CSV_MAX_FIELDS]; /* 1 for file columns no kind column claims */
} roster_header_t;

/* Normalises a header cell for matching: trims ASCII and ideographic spaces, a trailing '*'
 * or (必填)/（必填） marker, lower-cases ASCII and treats ' ' and '-' as '_'. */
void roster_header_norm(const char *in, char *out, size_t n);
/* Maps the header record.  Reports missing_column / duplicate_column through err; returns
 * the number of problems (0: usable). */
int roster_map_header(roster_kind_t k, const csv_record_t *rec, roster_header_t *h,
                      roster_error_fn err, void *ud);

typedef struct roster_row {
    long row;
    const char *v[ROSTER_MAX_OUT]; /* NULL: the cell was empty (keep the stored value) */
    char buf[ROSTER_MAX_OUT * (CSV_MAX_FIELD + 8)];
} roster_row_t;

/* Checks and normalises one data record.  Reports each wrong cell through err; returns
 * the number of problems (0: out is filled). */
int roster_row(const roster_header_t *h, const csv_record_t *rec, roster_row_t *out,
               roster_error_fn err, void *ud);

#endif
