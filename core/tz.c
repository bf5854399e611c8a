/*
 * TZif / POSIX TZ parsing and UTC<->local conversion (see tz.h for the gap and
 * overlap policy).  Parsed rules are a sorted transition table plus an
 * optional POSIX rule for instants after the last transition; every query is a
 * pure function of the rules and its arguments.
 */
#include "core/tz.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A POSIX DST switch date: Jn (1..365, Feb 29 never counted), n (0..365), or
 * Mm.w.d (month, week 1..5 with 5 = last, weekday 0 = Sunday). */
typedef struct {
    char kind; /* 'J', 'N' or 'M' */
    int a, b, c;
    int32_t time; /* seconds after local midnight, may be negative or > 24 h (v3) */
} tz_posix_date_t;

typedef struct {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    bool has_dst;
    tz_posix_date_t start, end;
} tz_posix_t;

struct tz_rules {
    size_t ntrans;
    int64_t *trans;     /* ascending */
    int32_t *trans_off; /* offset in force from trans[i] on */
    int32_t first_off;  /* before trans[0] (time type 0, RFC 8536 3.2) */
    bool has_footer;
    tz_posix_t footer;
};

int64_t core_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t core_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void core_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    const int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    if (y)
        *y = yoe + era * 400 + (mm <= 2);
    if (m)
        *m = mm;
    if (d)
        *d = dd;
}

int core_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    return (int)(((days + 3) % 7 + 7) % 7);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- POSIX TZ strings ------------------------------------------------- */

static const char *posix_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        if (!q || q - p < 2)
            return NULL;
        return q + 1;
    }
    const char *q = p;
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
        q++;
    return q - p >= 3 ? q : NULL;
}

static const char *posix_num(const char *p, int lo, int hi, int *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > hi)
            return NULL;
    }
    if (v < lo)
        return NULL;
    *out = v;
    return p;
}

/* [+-]hh[:mm[:ss]] with hh up to max_h; result in seconds. */
static const char *posix_hms(const char *p, int max_h, int32_t *out)
{
    int sign = 1, h = 0, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!(p = posix_num(p, 0, max_h, &h)))
        return NULL;
    if (*p == ':') {
        if (!(p = posix_num(p + 1, 0, 59, &m)))
            return NULL;
        if (*p == ':' && !(p = posix_num(p + 1, 0, 59, &s)))
            return NULL;
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *posix_date(const char *p, tz_posix_date_t *r)
{
    memset(r, 0, sizeof(*r));
    if (*p == 'J') {
        r->kind = 'J';
        p = posix_num(p + 1, 1, 365, &r->a);
    } else if (*p == 'M') {
        r->kind = 'M';
        if ((p = posix_num(p + 1, 1, 12, &r->a)) && *p == '.' &&
            (p = posix_num(p + 1, 1, 5, &r->b)) && *p == '.')
            p = posix_num(p + 1, 0, 6, &r->c);
        else
            p = NULL;
    } else {
        r->kind = 'N';
        p = posix_num(p, 0, 365, &r->a);
    }
    if (!p)
        return NULL;
    r->time = 7200;
    if (*p == '/')
        p = posix_hms(p + 1, 167, &r->time);
    return p;
}

static int posix_parse(const char *s, tz_posix_t *out)
{
    int32_t off;
    const char *p;

    memset(out, 0, sizeof(*out));
    if (!(p = posix_name(s)) || !(p = posix_hms(p, 24, &off)))
        return -EINVAL;
    out->std_off = -off; /* POSIX offsets count west */
    out->dst_off = out->std_off;
    if (*p == '\0')
        return 0;
    if (!(p = posix_name(p)))
        return -EINVAL;
    out->has_dst = true;
    out->dst_off = out->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!(p = posix_hms(p, 24, &off)))
            return -EINVAL;
        out->dst_off = -off;
    }
    if (*p == '\0') {
        /* No rule given: the US rules, as glibc assumes. */
        p = ",M3.2.0,M11.1.0";
    }
    if (*p != ',' || !(p = posix_date(p + 1, &out->start)) || *p != ',' ||
        !(p = posix_date(p + 1, &out->end)) || *p != '\0')
        return -EINVAL;
    return 0;
}

static int64_t posix_date_day(const tz_posix_date_t *r, int64_t y)
{
    int64_t jan1 = core_days_from_civil(y, 1, 1);
    switch (r->kind) {
    case 'J':
        return jan1 + r->a - 1 + (is_leap(y) && r->a >= 60 ? 1 : 0);
    case 'N':
        return jan1 + r->a;
    default: {
        int64_t first = core_days_from_civil(y, r->a, 1);
        int wd_sun = (core_weekday(first) + 1) % 7; /* 0 = Sunday */
        int64_t day = first + (r->c - wd_sun + 7) % 7 + (int64_t)(r->b - 1) * 7;
        int64_t next_month =
            r->a == 12 ? core_days_from_civil(y + 1, 1, 1) : core_days_from_civil(y, r->a + 1, 1);
        while (day >= next_month)
            day -= 7;
        return day;
    }
    }
}

/* DST start and end instants (UTC) of year y. */
static void posix_year(const tz_posix_t *f, int64_t y, int64_t *start, int64_t *end)
{
    *start = posix_date_day(&f->start, y) * 86400 + f->start.time - f->std_off;
    *end = posix_date_day(&f->end, y) * 86400 + f->end.time - f->dst_off;
}

static int64_t posix_year_of(const tz_posix_t *f, int64_t utc)
{
    int64_t y;
    core_civil_from_days(core_floor_div(utc + f->std_off, 86400), &y, NULL, NULL);
    return y;
}

static int32_t posix_offset_at(const tz_posix_t *f, int64_t utc)
{
    if (!f->has_dst)
        return f->std_off;
    int64_t s, e;
    posix_year(f, posix_year_of(f, utc), &s, &e);
    bool dst = s < e ? (utc >= s && utc < e) : !(utc >= e && utc < s);
    return dst ? f->dst_off : f->std_off;
}

static int64_t posix_next_transition(const tz_posix_t *f, int64_t utc)
{
    if (!f->has_dst)
        return INT64_MAX;
    int64_t y = posix_year_of(f, utc), best = INT64_MAX;
    for (int64_t yy = y - 1; yy <= y + 2; yy++) {
        int64_t s, e;
        posix_year(f, yy, &s, &e);
        if (s > utc && s < best)
            best = s;
        if (e > utc && e < best)
            best = e;
    }
    return best;
}

/* ---- TZif ---------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_counts_t;

static int tzif_header(const unsigned char *p, size_t len, char *version, tzif_counts_t *c)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -EINVAL;
    *version = (char)p[4];
    c->isutcnt = be32(p + 20);
    c->isstdcnt = be32(p + 24);
    c->leapcnt = be32(p + 28);
    c->timecnt = be32(p + 32);
    c->typecnt = be32(p + 36);
    c->charcnt = be32(p + 40);
    if (c->typecnt == 0 || c->typecnt > 256 || c->charcnt == 0 || c->timecnt > 100000 ||
        c->leapcnt > 100000 || (c->isutcnt != 0 && c->isutcnt != c->typecnt) ||
        (c->isstdcnt != 0 && c->isstdcnt != c->typecnt))
        return -EINVAL;
    return 0;
}

static size_t tzif_block_len(const tzif_counts_t *c, size_t tsize)
{
    return (size_t)c->timecnt * tsize + c->timecnt + (size_t)c->typecnt * 6 + c->charcnt +
           (size_t)c->leapcnt * (tsize + 4) + c->isstdcnt + c->isutcnt;
}

void core_tz_free(tz_rules_t *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
}

int core_tz_parse_tzif(const unsigned char *buf, size_t len, tz_rules_t **out)
{
    tzif_counts_t c;
    char version;
    size_t tsize = 4;
    const unsigned char *p = buf;
    tz_rules_t *tz = NULL;
    int rc;

    *out = NULL;
    if (!buf || tzif_header(p, len, &version, &c) < 0)
        return -EINVAL;
    if (version != 0 && version != '2' && version != '3' && version != '4')
        return -EINVAL;
    if (version != 0) {
        /* Skip the 32-bit block; the 64-bit one follows with its own header. */
        size_t skip = 44 + tzif_block_len(&c, 4);
        if (skip > len)
            return -EINVAL;
        p += skip;
        len -= skip;
        if ((rc = tzif_header(p, len, &version, &c)) < 0)
            return rc;
        tsize = 8;
    }
    if (44 + tzif_block_len(&c, tsize) > len)
        return -EINVAL;

    tz = calloc(1, sizeof(*tz));
    if (!tz)
        return -ENOMEM;
    rc = -ENOMEM;
    if (c.timecnt > 0) {
        tz->trans = malloc(c.timecnt * sizeof(*tz->trans));
        tz->trans_off = malloc(c.timecnt * sizeof(*tz->trans_off));
        if (!tz->trans || !tz->trans_off)
            goto failed;
    }
    rc = -EINVAL;
    const unsigned char *times = p + 44;
    const unsigned char *idx = times + (size_t)c.timecnt * tsize;
    const unsigned char *types = idx + c.timecnt;
    int32_t offs[256] = {0};
    for (uint32_t i = 0; i < c.typecnt; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);
        if (off < -CORE_TZ_MAX_OFFSET || off > CORE_TZ_MAX_OFFSET)
            goto failed;
        offs[i] = off;
    }
    tz->first_off = offs[0];
    for (uint32_t i = 0; i < c.timecnt; i++) {
        int64_t t = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
        if (idx[i] >= c.typecnt || (i > 0 && t <= tz->trans[i - 1]))
            goto failed;
        tz->trans[i] = t;
        tz->trans_off[i] = offs[idx[i]];
    }
    tz->ntrans = c.timecnt;

    if (tsize == 8) {
        /* Footer: "\n<POSIX TZ>\n"; an empty string means "no rule". */
        const unsigned char *f = p + 44 + tzif_block_len(&c, tsize);
        const unsigned char *end = p + len;
        if (f < end && *f == '\n') {
            const unsigned char *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
            if (!nl)
                goto failed;
            size_t n = (size_t)(nl - f - 1);
            if (n > 0) {
                char tzs[128];
                if (n >= sizeof(tzs))
                    goto failed;
                memcpy(tzs, f + 1, n);
                tzs[n] = '\0';
                if (posix_parse(tzs, &tz->footer) < 0)
                    goto failed;
                tz->has_footer = true;
            }
        }
    }
    *out = tz;
    return 0;

failed:
    core_tz_free(tz);
    return rc;
}

int core_tz_parse_posix(const char *s, tz_rules_t **out)
{
    *out = NULL;
    if (!s)
        return -EINVAL;
    tz_rules_t *tz = calloc(1, sizeof(*tz));
    if (!tz)
        return -ENOMEM;
    if (posix_parse(s, &tz->footer) < 0) {
        free(tz);
        return -EINVAL;
    }
    tz->has_footer = true;
    tz->first_off = tz->footer.std_off;
    *out = tz;
    return 0;
}

/* Index of the last transition <= utc, or -1. */
static ptrdiff_t find_trans(const tz_rules_t *tz, int64_t utc)
{
    size_t lo = 0, hi = tz->ntrans;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= utc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

static bool footer_governs(const tz_rules_t *tz, int64_t utc)
{
    return tz->has_footer && (tz->ntrans == 0 || utc >= tz->trans[tz->ntrans - 1]);
}

int32_t core_tz_offset_at(const tz_rules_t *tz, int64_t utc)
{
    assert(tz);
    if (footer_governs(tz, utc))
        return posix_offset_at(&tz->footer, utc);
    ptrdiff_t i = find_trans(tz, utc);
    return i < 0 ? tz->first_off : tz->trans_off[i];
}

int64_t core_tz_next_transition(const tz_rules_t *tz, int64_t utc)
{
    assert(tz);
    if (footer_governs(tz, utc))
        return posix_next_transition(&tz->footer, utc);
    ptrdiff_t i = find_trans(tz, utc);
    if ((size_t)(i + 1) < tz->ntrans)
        return tz->trans[i + 1];
    return INT64_MAX;
}

int64_t core_tz_utc_to_local(const tz_rules_t *tz, int64_t utc)
{
    return utc + core_tz_offset_at(tz, utc);
}

int core_tz_local_resolve(const tz_rules_t *tz, int64_t local, int64_t out[2])
{
    /* Every instant whose wall clock can read `local` lies within the maximum
     * offset of it; walk the constant-offset intervals of that window. */
    const int64_t w0 = local - CORE_TZ_MAX_OFFSET - 3600;
    const int64_t w1 = local + CORE_TZ_MAX_OFFSET + 3600;
    int n = 0;
    bool have_gap = false;
    int64_t gap = 0;
    int64_t ts = w0;
    int32_t prev_off = 0;
    bool have_prev = false, prev_before = false;

    while (ts < w1) {
        int32_t off = core_tz_offset_at(tz, ts);
        int64_t te = core_tz_next_transition(tz, ts);
        if (te > w1)
            te = w1;
        int64_t cand = local - off;
        if (cand >= ts && cand < te) {
            if (n < 2)
                out[n] = cand;
            n++;
        }
        /* `local` lies beyond the previous interval's wall clock but before
         * this one's: it was skipped at ts. */
        if (have_prev && prev_before && cand < ts && !have_gap) {
            have_gap = true;
            gap = local - prev_off;
        }
        prev_before = cand >= te;
        prev_off = off;
        have_prev = true;
        ts = te;
    }
    if (n > 0)
        return n > 2 ? 2 : n;
    out[0] = have_gap ? gap : local - core_tz_offset_at(tz, local);
    return 0;
}

int64_t core_tz_local_to_utc(const tz_rules_t *tz, int64_t local)
{
    int64_t out[2];
    core_tz_local_resolve(tz, local, out);
    return out[0];
}

/* ---------------------------------------------------------------- zone table */

/* Open addressing with linear probing, kept at most half full; the slots hold pointers,
 * so growing moves no rules object and every pointer handed out stays valid. */
typedef struct {
    char *name;
    tz_rules_t *tz;
} tz_slot_t;

struct tz_table {
    tz_slot_t *slots;
    size_t cap; /* a power of two */
    size_t count;
};

static size_t tz_name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

tz_table_t *core_tz_table_new(void)
{
    tz_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = 64;
    t->slots = calloc(t->cap, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    return t;
}

void core_tz_table_free(tz_table_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].name);
        core_tz_free(t->slots[i].tz);
    }
    free(t->slots);
    free(t);
}

static size_t tz_table_slot(const tz_slot_t *slots, size_t cap, const char *name)
{
    size_t i = tz_name_hash(name) & (cap - 1);
    while (slots[i].name && strcmp(slots[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

const tz_rules_t *core_tz_table_find(const tz_table_t *t, const char *name)
{
    if (!t || !name)
        return NULL;
    size_t i = tz_table_slot(t->slots, t->cap, name);
    return t->slots[i].name ? t->slots[i].tz : NULL;
}

static int tz_table_grow(tz_table_t *t)
{
    size_t cap = t->cap * 2;
    tz_slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].name)
            slots[tz_table_slot(slots, cap, t->slots[i].name)] = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

const tz_rules_t *core_tz_table_add(tz_table_t *t, const char *name, tz_rules_t *tz)
{
    if (!t || !name || !tz) {
        core_tz_free(tz);
        return NULL;
    }
    size_t i = tz_table_slot(t->slots, t->cap, name);
    if (t->slots[i].name) { /* already there: keep the pointer others may hold */
        core_tz_free(tz);
        return t->slots[i].tz;
    }
    if ((t->count + 1) * 2 > t->cap) {
        if (tz_table_grow(t) != 0) {
            core_tz_free(tz);
            return NULL;
        }
        i = tz_table_slot(t->slots, t->cap, name);
    }
    char *copy = strdup(name);
    if (!copy) {
        core_tz_free(tz);
        return NULL;
    }
    t->slots[i].name = copy;
    t->slots[i].tz = tz;
    t->count++;
    assert(t->count * 2 <= t->cap);
    return tz;
}

size_t core_tz_table_count(const tz_table_t *t)
{
    return t ? t->count : 0;
}
