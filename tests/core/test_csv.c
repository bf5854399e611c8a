/*
 * tests/core/test_csv.c — the streaming CSV reader and the roster header/value mapping:
 * BOM, GB18030, comma/tab detection, quotes with doubled quotes and line breaks, CRLF,
 * byte-at-a-time feeding (a record split anywhere), zh-CN headers and values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/roster.h"

/* Records rendered as "row:f1|f2|...;" */
typedef struct out {
    char s[65536];
    size_t n;
} out_t;

static int collect(void *ud, const csv_record_t *rec)
{
    out_t *o = ud;
    o->n += (size_t)snprintf(o->s + o->n, sizeof o->s - o->n, "%ld:", rec->row);
    for (int i = 0; i < rec->nfields; i++)
        o->n +=
            (size_t)snprintf(o->s + o->n, sizeof o->s - o->n, "%s%s", i ? "|" : "", rec->field[i]);
    if (rec->bad_utf8)
        o->n += (size_t)snprintf(o->s + o->n, sizeof o->s - o->n, "!bad%d", rec->bad_utf8);
    o->n += (size_t)snprintf(o->s + o->n, sizeof o->s - o->n, ";");
    return 0;
}

/* Parses in chunks of `step` bytes (0: all at once); returns the reader's error. */
static csv_err_t parse(const char *in, size_t len, size_t step, out_t *o, csv_enc_t *enc,
                       char *delim)
{
    memset(o, 0, sizeof *o);
    csv_reader_t *rd = csv_reader_new(collect, o, 0);
    assert_non_null(rd);
    csv_err_t e = CSV_OK;
    if (!step)
        step = len ? len : 1;
    for (size_t i = 0; i < len && !e; i += step)
        e = csv_feed(rd, in + i, len - i < step ? len - i : step);
    if (!e)
        e = csv_finish(rd);
    if (enc)
        *enc = csv_encoding(rd);
    if (delim)
        *delim = csv_delimiter(rd);
    csv_reader_free(rd);
    return e;
}

static void check(const char *in, const char *want, char want_delim)
{
    size_t steps[] = {0, 1, 2, 3, 7};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        out_t o;
        char d;
        assert_int_equal(parse(in, strlen(in), steps[k], &o, NULL, &d), CSV_OK);
        if (strcmp(o.s, want))
            fail_msg("step %zu: got \"%s\", want \"%s\"", steps[k], o.s, want);
        assert_int_equal(d, want_delim);
    }
}

static void test_delimiters_and_line_ends(void **state)
{
    (void)state;
    check("a,b,c\n1,2,3\n", "1:a|b|c;2:1|2|3;", ',');
    check("a\tb\tc\r\n1\t2\t3\r\n", "1:a|b|c;2:1|2|3;", '\t');
    check("a,b\r\n1,2", "1:a|b;2:1|2;", ','); /* no final line end */
    check("a,b\r1,2\r", "1:a|b;2:1|2;", ','); /* old Mac CR */
    /* a comma inside a tab-separated header does not decide */
    check("\"x,y\"\tb\n1\t2\n", "1:x,y|b;2:1|2;", '\t');
    /* blank lines and rows of empty fields count as rows but are not delivered */
    check("a,b\n\n,\n1,2\n", "1:a|b;4:1|2;", ',');
}

static void test_quotes(void **state)
{
    (void)state;
    check("a,b\n\"x,1\",\"say \"\"hi\"\"\"\n", "1:a|b;2:x,1|say \"hi\";", ',');
    /* a line break inside quotes stays in the field; the next record's row counts it */
    check("a,b\n\"line1\nline2\",z\n3,4\n", "1:a|b;2:line1\nline2|z;4:3|4;", ',');
    check("a,b\r\n\"l1\r\nl2\",z\r\n", "1:a|b;2:l1\r\nl2|z;", ',');
    check("a,b\n\"\",\"\"\"\"\n", "1:a|b;2:|\";", ',');
    /* text after a closing quote is kept, as Excel does */
    check("a\n\"ab\"c\n", "1:a;2:abc;", ',');
    static out_t o;
    assert_int_equal(parse("a,b\n\"open,1\n", 12, 0, &o, NULL, NULL), CSV_ERR_UNTERMINATED);
}

static void test_bom_and_encodings(void **state)
{
    (void)state;
    const char bom[] = "\xEF\xBB\xBF项目,楼栋\nP1,1栋\n";
    static out_t o;
    csv_enc_t enc;
    assert_int_equal(parse(bom, strlen(bom), 0, &o, &enc, NULL), CSV_OK);
    assert_string_equal(o.s, "1:项目|楼栋;2:P1|1栋;");
    assert_int_equal(enc, CSV_ENC_UTF8);
    /* the same text in GB18030, fed a byte at a time (sequences split across feeds) */
    const char *utf8 = "项目,楼栋,业主姓名\nP1,1栋,\"张三,李四\"\nP1,2栋,王五\n";
    char gb[256];
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    char *in = (char *)utf8, *out = gb;
    size_t il = strlen(utf8), ol = sizeof gb;
    assert_true(iconv(cd, &in, &il, &out, &ol) != (size_t)-1);
    iconv_close(cd);
    size_t gl = sizeof gb - ol;
    for (size_t step = 0; step < 4; step++) {
        assert_int_equal(parse(gb, gl, step, &o, &enc, NULL), CSV_OK);
        assert_string_equal(o.s, "1:项目|楼栋|业主姓名;2:P1|1栋|张三,李四;3:P1|2栋|王五;");
        assert_int_equal(enc, CSV_ENC_GB18030);
    }
    /* a UTF-8 file with a bad byte after the sniffed prefix: the record is flagged */
    char big[CSV_SNIFF + 64];
    memset(big, 'x', sizeof big);
    memcpy(big, "a,b\n", 4);
    for (size_t i = 4; i + 1 < CSV_SNIFF; i += 40)
        big[i] = '\n';
    memcpy(big + CSV_SNIFF + 10, "\n\xFF,y\n", 5);
    assert_int_equal(parse(big, CSV_SNIFF + 15, 0, &o, &enc, NULL), CSV_OK);
    assert_int_equal(enc, CSV_ENC_UTF8);
    assert_non_null(strstr(o.s, "!bad1"));
    /* bytes that are not GB18030 either stop the reader */
    const char bad[] = "\x81\x20,b\n";
    assert_int_equal(parse(bad, 5, 0, &o, &enc, NULL), CSV_ERR_ENCODING);
}

typedef struct lim {
    int long_field, extra, nfields;
    size_t len0;
} lim_t;

static int lim_cb(void *ud, const csv_record_t *rec)
{
    lim_t *l = ud;
    if (rec->row == 2) {
        l->long_field = rec->long_field;
        l->extra = rec->extra_fields;
        l->nfields = rec->nfields;
        l->len0 = rec->len[0];
    }
    return 0;
}

static void test_limits(void **state)
{
    (void)state;
    /* an over-long field is cut and flagged; memory stays one record */
    size_t n = CSV_MAX_FIELD + 100;
    char *s = malloc(n + 16);
    memcpy(s, "a\n", 2);
    memset(s + 2, 'z', n);
    memcpy(s + 2 + n, "\n", 1);
    lim_t l = {0, 0, 0, 0};
    csv_reader_t *rd = csv_reader_new(lim_cb, &l, 0);
    assert_int_equal(csv_feed(rd, s, n + 3), CSV_OK);
    assert_int_equal(csv_finish(rd), CSV_OK);
    csv_reader_free(rd);
    assert_int_equal(l.long_field, 1);
    assert_int_equal(l.len0, CSV_MAX_FIELD);
    free(s);
    /* more fields than kept are counted */
    char row[1024] = "h\n";
    for (int i = 0; i < CSV_MAX_FIELDS + 5; i++)
        strcat(row, i ? ",x" : "x");
    strcat(row, "\n");
    memset(&l, 0, sizeof l);
    rd = csv_reader_new(lim_cb, &l, 0);
    assert_int_equal(csv_feed(rd, row, strlen(row)), CSV_OK);
    assert_int_equal(csv_finish(rd), CSV_OK);
    csv_reader_free(rd);
    assert_int_equal(l.nfields, CSV_MAX_FIELDS);
    assert_int_equal(l.extra, 5);
    /* a header without a line end within the limit stops the reader */
    char *h = malloc(CSV_MAX_HEADER + 10);
    memset(h, 'a', CSV_MAX_HEADER + 10);
    static out_t o;
    assert_int_equal(parse(h, CSV_MAX_HEADER + 10, 0, &o, NULL, NULL), CSV_ERR_HEADER_LONG);
    free(h);
}

/* ---------------------------------------------------------------- roster */

typedef struct errs {
    char s[2048];
    size_t n;
} errs_t;

static void on_err(void *ud, const roster_error_t *e)
{
    errs_t *x = ud;
    x->n +=
        (size_t)snprintf(x->s + x->n, sizeof x->s - x->n, "%ld:%s:%s;", e->row, e->column, e->code);
}

static csv_record_t rec_of(long row, const char *const *f, int n)
{
    csv_record_t r;
    memset(&r, 0, sizeof r);
    r.row = row;
    r.nfields = n;
    for (int i = 0; i < n; i++) {
        r.field[i] = f[i];
        r.len[i] = strlen(f[i]);
    }
    return r;
}

static void test_header_mapping(void **state)
{
    (void)state;
    roster_header_t h;
    errs_t e = {{0}, 0};
    const char *zh[] = {"项目",     " 楼栋 ",   "单元",     "房号*",    "业主姓名",
                        "联系电话", "身份证号", "户主关系", "是否成年", "备注"};
    csv_record_t r = rec_of(1, zh, 10);
    assert_int_equal(roster_map_header(RK_RESIDENTS, &r, &h, on_err, &e), 0);
    const roster_kind_def_t *d = roster_kind(RK_RESIDENTS);
    for (int c = 0; c < d->ncols; c++)
        assert_true(h.idx[c] >= 0);
    assert_int_equal(h.ignored[9], 1); /* 备注 */
    assert_int_equal(h.ignored[0], 0);

    const char *en[] = {"Project", "Building", "Unit", "Name", "phone", "relation"};
    r = rec_of(1, en, 6);
    assert_int_equal(roster_map_header(RK_RESIDENTS, &r, &h, on_err, &e), 0);

    const char *missing[] = {"项目", "楼栋", "姓名", "电话", "电话"};
    r = rec_of(1, missing, 5);
    e.n = 0;
    e.s[0] = 0;
    assert_int_equal(roster_map_header(RK_RESIDENTS, &r, &h, on_err, &e), 3);
    assert_string_equal(e.s, "1:phone:duplicate_column;1:unit:missing_column;1:relation:missing_"
                             "column;");
    assert_int_equal(roster_kind_from_string("业户资料"), RK_RESIDENTS);
    assert_int_equal(roster_kind_from_string("units"), RK_UNITS);
    assert_int_equal(roster_kind_from_string("nope"), -1);
}

static void test_row_values(void **state)
{
    (void)state;
    roster_header_t h;
    errs_t e = {{0}, 0};
    const char *head[] = {"项目",     "楼栋",     "单元",     "房号",    "姓名",
                          "联系电话", "身份证号", "住户类型", "是否成年"};
    csv_record_t r = rec_of(1, head, 9);
    assert_int_equal(roster_map_header(RK_RESIDENTS, &r, &h, on_err, &e), 0);
    static roster_row_t out;
    const char *ok[] = {"P1",   "1栋", "2", "1502", " 张三 ", "138 0013 8000", "11010519491231002x",
                        "家属", "否"};
    r = rec_of(2, ok, 9);
    assert_int_equal(roster_row(&h, &r, &out, on_err, &e), 0);
    assert_string_equal(out.v[2], "2-1502");
    assert_string_equal(out.v[3], "张三");
    assert_string_equal(out.v[5], "11010519491231002X");
    assert_string_equal(out.v[6], "family");
    assert_string_equal(out.v[7], "false");
    const char *bad[] = {"P1", "", "", "1502", "李四", "call me", "12", "朋友", "也许"};
    r = rec_of(3, bad, 9);
    e.n = 0;
    e.s[0] = 0;
    assert_int_equal(roster_row(&h, &r, &out, on_err, &e), 5);
    assert_string_equal(e.s, "3:building:required;3:phone:invalid_format;3:id_number:invalid_"
                             "format;3:relation:invalid_enum;3:is_adult:invalid_enum;");
    const char *many[] = {"P1", "B", "", "1", "王", "", "", "业主", "", "extra"};
    r = rec_of(4, many, 10);
    e.n = 0;
    e.s[0] = 0;
    assert_int_equal(roster_row(&h, &r, &out, on_err, &e), 1);
    assert_string_equal(e.s, "4::too_many_fields;");

    /* units: numbers and statuses */
    const char *uh[] = {"项目", "楼栋", "房号", "楼层", "面积", "状态"};
    r = rec_of(1, uh, 6);
    assert_int_equal(roster_map_header(RK_UNITS, &r, &h, on_err, &e), 0);
    const char *u1[] = {"P1", "1栋", "101", "1", "89.5", "空置"};
    r = rec_of(2, u1, 6);
    assert_int_equal(roster_row(&h, &r, &out, on_err, &e), 0);
    assert_string_equal(out.v[4], "89.50");
    assert_string_equal(out.v[5], "vacant");
    const char *u2[] = {"P1", "1栋", "101", "999", "-3", "sold"};
    r = rec_of(3, u2, 6);
    e.n = 0;
    e.s[0] = 0;
    assert_int_equal(roster_row(&h, &r, &out, on_err, &e), 3);
    assert_string_equal(e.s, "3:floor:out_of_range;3:area_m2:out_of_range;3:status:invalid_enum;");

    /* users: role names in Chinese, project lists */
    const char *sh[] = {"用户名", "姓名", "角色", "部门", "项目"};
    r = rec_of(1, sh, 5);
    assert_int_equal(roster_map_header(RK_USERS, &r, &h, on_err, &e), 0);
    const char *s1[] = {"li.ming", "李明", "客服主管", "客服部", "P1、P2；P3"};
    r = rec_of(2, s1, 5);
    assert_int_equal(roster_row(&h, &r, &out, on_err, &e), 0);
    assert_string_equal(out.v[2], "supervisor");
    assert_string_equal(out.v[5], "P1;P2;P3");
    const char *s2[] = {"李明", "李明", "业主", "", ""};
    r = rec_of(3, s2, 5);
    e.n = 0;
    e.s[0] = 0;
    assert_int_equal(roster_row(&h, &r, &out, on_err, &e), 2);
    assert_string_equal(e.s, "3:username:invalid_format;3:role:invalid_enum;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delimiters_and_line_ends), cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_bom_and_encodings),        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_header_mapping),           cmocka_unit_test(test_row_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
