/*
 * core/roster.c — the roster kinds, their column headers and value checks (core/roster.h).
 * The tables below are the documented header mapping (README "Import your rosters").
 */
#include "core/roster.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NC(a)  (int)(sizeof a / sizeof a[0])

/* ---------------------------------------------------------------- value maps */

static const roster_map_t relation_map[] = {
    {"owner", L("业主", "产权人", "户主", "房主")},
    {"tenant", L("租户", "租客", "承租人")},
    {"family", L("family_member", "家属", "家庭成员", "家人", "成员", "配偶", "子女", "父母",
                 "亲属", "同住人")},
    {NULL, NULL},
};
static const roster_map_t status_map[] = {
    {"occupied", L("自住", "已入住", "入住")},
    {"vacant", L("空置", "空房", "未入住")},
    {"rented", L("出租", "已出租")},
    {"decorating", L("装修", "装修中")},
    {NULL, NULL},
};
static const roster_map_t dept_map[] = {
    {"customer_service", L("客服", "客服部", "客服中心", "客户服务部")},
    {"engineering", L("工程", "工程部", "维修", "维修部")},
    {"security", L("保安", "保安部", "秩序", "秩序部", "安保", "安保部")},
    {"cleaning", L("保洁", "保洁部", "环境", "环境部")},
    {"greenery", L("绿化", "绿化部")},
    {"finance", L("财务", "财务部")},
    {"supplier", L("外包", "供应商")},
    {"other", L("其他", "其它")},
    {NULL, NULL},
};
static const roster_map_t role_map[] = {
    {"agent", L("客服", "客服专员", "前台", "管家")},
    {"technician", L("技工", "维修工", "工程师傅", "维修技工")},
    {"security", L("保安", "秩序维护员", "保安员", "监控值班")},
    {"supervisor", L("主管", "客服主管", "班长")},
    {"manager", L("经理", "客服经理", "客服部经理")},
    {"director", L("项目经理", "小区主任", "主任")},
    {"gm", L("总经理")},
    {"clerk", L("文员", "档案管理员")},
    {"integration", L("系统集成", "接口")},
    {"auditor", L("品管", "质检", "审计")},
    {"admin", L("管理员", "系统管理员")},
    {NULL, NULL},
};

/* ---------------------------------------------------------------- kinds */

#define PROJECT_COL(o)                                                                             \
    {                                                                                              \
        "project", L("项目", "项目编码", "项目代码", "小区", "小区编码", "project_code"), 1,       \
            RT_TEXT, 64, 0, 0, NULL, o                                                             \
    }
#define BUILDING_COL(o)                                                                            \
    {                                                                                              \
        "building", L("楼栋", "楼栋编号", "楼栋号", "楼号", "栋", "building_code"), 1, RT_TEXT,    \
            64, 0, 0, NULL, o                                                                      \
    }
#define ENTRANCE_COL                                                                               \
    {                                                                                              \
        "entrance", L("单元", "单元号"), 0, RT_TEXT, 16, 0, 0, NULL, -1                            \
    }
#define UNIT_COL(o)                                                                                \
    {                                                                                              \
        "unit", L("房号", "房间号", "户号", "房屋编号", "unit_code", "room"), 1, RT_TEXT, 47, 0,   \
            0, NULL, o                                                                             \
    }
#define PHONE_COL(o, req)                                                                          \
    {                                                                                              \
        "phone", L("联系电话", "电话", "手机", "手机号", "手机号码", "mobile", "telephone"), req,  \
            RT_PHONE, 40, 0, 0, NULL, o                                                            \
    }

static const roster_col_t projects_cols[] = {
    {"code", L("项目编码", "项目代码", "编码", "项目", "project_code"), 1, RT_TEXT, 64, 0, 0, NULL,
     0},
    {"name", L("项目名称", "名称", "project_name"), 1, RT_TEXT, 200, 0, 0, NULL, 1},
    {"time_zone", L("时区", "timezone"), 0, RT_TEXT, 64, 0, 0, NULL, 2},
    {"address", L("地址", "项目地址"), 0, RT_TEXT, 500, 0, 0, NULL, 3},
    PHONE_COL(4, 0),
};
static const roster_col_t buildings_cols[] = {
    PROJECT_COL(0),
    {"code", L("楼栋", "楼栋编号", "楼栋号", "楼号", "栋", "building", "building_code"), 1, RT_TEXT,
     64, 0, 0, NULL, 1},
    {"name", L("楼栋名称", "名称", "building_name"), 0, RT_TEXT, 200, 0, 0, NULL, 2},
    {"floors", L("总楼层", "楼层数", "层数"), 0, RT_INT, 0, 1, 300, NULL, 3},
};
static const roster_col_t units_cols[] = {
    PROJECT_COL(0),
    BUILDING_COL(1),
    ENTRANCE_COL,
    UNIT_COL(2),
    {"floor", L("楼层", "所在楼层"), 0, RT_INT, 0, -10, 300, NULL, 3},
    {"area_m2", L("面积", "建筑面积", "面积(㎡)", "area"), 0, RT_AREA, 0, 0, 0, NULL, 4},
    {"status", L("状态", "房屋状态", "入住状态"), 0, RT_ENUM, 0, 0, 0, status_map, 5},
};
static const roster_col_t residents_cols[] = {
    PROJECT_COL(0),
    BUILDING_COL(1),
    ENTRANCE_COL,
    UNIT_COL(2),
    {"name", L("姓名", "业主姓名", "住户姓名", "客户姓名"), 1, RT_TEXT, 200, 0, 0, NULL, 3},
    PHONE_COL(4, 0),
    {"id_number", L("身份证号", "身份证号码", "证件号码", "证件号"), 0, RT_IDNUM, 32, 0, 0, NULL,
     5},
    {"relation", L("住户类型", "户主关系", "与户主关系", "身份", "household_role"), 1, RT_ENUM, 0,
     0, 0, relation_map, 6},
    {"is_adult", L("是否成年", "成年", "adult"), 0, RT_BOOL, 0, 0, 0, NULL, 7},
};
static const roster_col_t departments_cols[] = {
    {"project", L("项目", "项目编码", "项目代码", "小区", "project_code"), 0, RT_TEXT, 64, 0, 0,
     NULL, 0},
    {"name", L("部门", "部门名称", "名称", "department"), 1, RT_TEXT, 200, 0, 0, NULL, 1},
    {"kind", L("部门类型", "类型", "type"), 1, RT_ENUM, 0, 0, 0, dept_map, 2},
    PHONE_COL(3, 0),
};
static const roster_col_t users_cols[] = {
    {"username", L("用户名", "账号", "登录名", "工号"), 1, RT_USERNAME, 64, 0, 0, NULL, 0},
    {"display_name", L("姓名", "name"), 1, RT_TEXT, 200, 0, 0, NULL, 1},
    {"role", L("角色", "岗位"), 1, RT_ENUM, 0, 0, 0, role_map, 2},
    {"department", L("部门", "部门名称"), 0, RT_TEXT, 200, 0, 0, NULL, 3},
    PHONE_COL(4, 0),
    {"projects", L("项目", "负责项目", "项目编码", "project"), 0, RT_CODES, 2000, 0, 0, NULL, 5},
    {"initial_password", L("初始密码", "password"), 0, RT_SECRET, 256, 8, 0, NULL, 6},
    {"active", L("是否启用", "启用", "在职"), 0, RT_BOOL, 0, 0, 0, NULL, 7},
};

static const roster_kind_def_t kinds[RK__COUNT] = {
    [RK_PROJECTS] = {"projects", projects_cols, NC(projects_cols)},
    [RK_BUILDINGS] = {"buildings", buildings_cols, NC(buildings_cols)},
    [RK_UNITS] = {"units", units_cols, NC(units_cols)},
    [RK_RESIDENTS] = {"residents", residents_cols, NC(residents_cols)},
    [RK_DEPARTMENTS] = {"departments", departments_cols, NC(departments_cols)},
    [RK_USERS] = {"users", users_cols, NC(users_cols)},
};

static const char *const kind_zh[RK__COUNT][4] = {
    [RK_PROJECTS] = {"项目", "项目资料", NULL, NULL},
    [RK_BUILDINGS] = {"楼栋", "楼栋资料", NULL, NULL},
    [RK_UNITS] = {"房产", "房产资料", "房屋", "房屋资料"},
    [RK_RESIDENTS] = {"业户", "业户资料", "住户", "住户资料"},
    [RK_DEPARTMENTS] = {"部门", NULL, NULL, NULL},
    [RK_USERS] = {"员工", "员工名单", "用户", NULL},
};

const roster_kind_def_t *roster_kind(roster_kind_t k)
{
    return (unsigned)k < RK__COUNT ? &kinds[k] : NULL;
}

int roster_kind_from_string(const char *s)
{
    if (!s)
        return -1;
    for (int k = 0; k < RK__COUNT; k++) {
        if (!strcmp(kinds[k].name, s))
            return k;
        for (int i = 0; i < 4 && kind_zh[k][i]; i++)
            if (!strcmp(kind_zh[k][i], s))
                return k;
    }
    return -1;
}

/* ---------------------------------------------------------------- header */

static int is_space_at(const char *s, size_t n, size_t i, size_t *w)
{
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        *w = 1;
        return 1;
    }
    /* U+3000 ideographic space, U+00A0 no-break space */
    if (i + 3 <= n && c == 0xE3 && (unsigned char)s[i + 1] == 0x80 &&
        (unsigned char)s[i + 2] == 0x80) {
        *w = 3;
        return 1;
    }
    if (i + 2 <= n && c == 0xC2 && (unsigned char)s[i + 1] == 0xA0) {
        *w = 2;
        return 1;
    }
    return 0;
}

/* Trims spaces at both ends of s[0..n) into out (NUL-terminated); returns the length. */
static size_t trim(const char *s, size_t n, char *out, size_t cap)
{
    size_t a = 0, w;
    while (a < n && is_space_at(s, n, a, &w))
        a += w;
    size_t b = n;
    for (;;) {
        int cut = 0;
        for (size_t k = 1; k <= 3 && k <= b - a; k++)
            if (is_space_at(s, b, b - k, &w) && w == k) {
                b -= k;
                cut = 1;
                break;
            }
        if (!cut)
            break;
    }
    size_t len = b - a < cap - 1 ? b - a : cap - 1;
    memcpy(out, s + a, len);
    out[len] = 0;
    return len;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

void roster_header_norm(const char *in, char *out, size_t n)
{
    char tmp[256];
    trim(in, strlen(in), tmp, sizeof tmp);
    static const char *const marks[] = {"*", "（必填）", "(必填)", "（选填）", "(选填)"};
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
            if (ends_with(tmp, marks[i])) {
                tmp[strlen(tmp) - strlen(marks[i])] = 0;
                again = 1;
            }
        if (tmp[0] == '*') {
            memmove(tmp, tmp + 1, strlen(tmp));
            again = 1;
        }
        char t2[256];
        trim(tmp, strlen(tmp), t2, sizeof t2);
        strcpy(tmp, t2);
    }
    size_t o = 0;
    for (const char *p = tmp; *p && o + 1 < n; p++) {
        char c = *p;
        if (c == ' ' || c == '-')
            c = '_';
        out[o++] = (char)tolower((unsigned char)c);
    }
    out[o] = 0;
}

static int col_matches(const roster_col_t *c, const char *norm)
{
    if (!strcmp(c->key, norm))
        return 1;
    char a[128];
    for (const char *const *al = c->aliases; al && *al; al++) {
        roster_header_norm(*al, a, sizeof a);
        if (!strcmp(a, norm))
            return 1;
    }
    return 0;
}

static void report(roster_error_fn fn, void *ud, long row, const char *col, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#include <stdarg.h>
static void report(roster_error_fn fn, void *ud, long row, const char *col, const char *code,
                   const char *fmt, ...)
{
    roster_error_t e;
    memset(&e, 0, sizeof e);
    e.row = row;
    snprintf(e.column, sizeof e.column, "%s", col ? col : "");
    snprintf(e.code, sizeof e.code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.detail, sizeof e.detail, fmt, ap);
    va_end(ap);
    if (fn)
        fn(ud, &e);
}

int roster_map_header(roster_kind_t k, const csv_record_t *rec, roster_header_t *h,
                      roster_error_fn err, void *ud)
{
    const roster_kind_def_t *d = roster_kind(k);
    memset(h, 0, sizeof *h);
    h->kind = k;
    h->nfile = rec->nfields;
    int bad = 0;
    for (int c = 0; c < ROSTER_MAX_COLS; c++)
        h->idx[c] = -1;
    /* Exact keys first, then aliases: "项目" is the project code in buildings but may also
     * be an alias elsewhere; an English key always wins. */
    for (int pass = 0; pass < 2; pass++)
        for (int f = 0; f < rec->nfields; f++) {
            char norm[256];
            roster_header_norm(rec->field[f], norm, sizeof norm);
            if (!norm[0])
                continue;
            for (int c = 0; c < d->ncols; c++) {
                int hit =
                    pass == 0 ? !strcmp(d->cols[c].key, norm) : col_matches(&d->cols[c], norm);
                if (!hit)
                    continue;
                if (h->idx[c] == f)
                    break;
                int claimed = 0;
                for (int o = 0; o < d->ncols; o++)
                    claimed |= h->idx[o] == f;
                if (claimed)
                    break;
                if (h->idx[c] >= 0) {
                    report(err, ud, rec->row, d->cols[c].key, "duplicate_column",
                           "columns %d and %d both give '%s'; keep one", h->idx[c] + 1, f + 1,
                           d->cols[c].key);
                    bad++;
                } else {
                    h->idx[c] = f;
                }
                break;
            }
        }
    for (int f = 0; f < rec->nfields && f < CSV_MAX_FIELDS; f++) {
        h->ignored[f] = 1;
        for (int c = 0; c < d->ncols; c++)
            if (h->idx[c] == f)
                h->ignored[f] = 0;
    }
    for (int c = 0; c < d->ncols; c++)
        if (d->cols[c].required && h->idx[c] < 0) {
            report(err, ud, rec->row, d->cols[c].key, "missing_column",
                   "a %s roster needs a '%s' column (or %s)", d->name, d->cols[c].key,
                   d->cols[c].aliases[0]);
            bad++;
        }
    return bad;
}

/* ---------------------------------------------------------------- values */

static int map_value(const roster_map_t *m, const char *s)
{
    char a[64];
    roster_header_norm(s, a, sizeof a);
    for (int i = 0; m[i].value; i++) {
        if (!strcmp(m[i].value, a))
            return i;
        for (const char *const *n = m[i].names; *n; n++)
            if (!strcmp(*n, s) || !strcmp(*n, a))
                return i;
    }
    return -1;
}

static int parse_bool(const char *s)
{
    static const char *const yes[] = {"true", "yes",   "y",    "1",    "是",
                                      "成年", "adult", "启用", "在职", NULL};
    static const char *const no[] = {"false",  "no",    "n",    "0",    "否",
                                     "未成年", "minor", "停用", "离职", NULL};
    char a[64];
    roster_header_norm(s, a, sizeof a);
    for (int i = 0; yes[i]; i++)
        if (!strcmp(a, yes[i]))
            return 1;
    for (int i = 0; no[i]; i++)
        if (!strcmp(a, no[i]))
            return 0;
    return -1;
}

static int valid_phone(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr("+-() ", *p))
            return 0;
    }
    return digits >= 5 && digits <= 20;
}

static void enum_names(const roster_map_t *m, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; m[i].value && o + 1 < n; i++)
        o +=
            (size_t)snprintf(buf + o, n - o, "%s%s (%s)", i ? ", " : "", m[i].value, m[i].names[0]);
    if (o >= n)
        buf[n - 1] = 0;
}

/* RT_INT: a whole number in lo..hi; RT_AREA: square metres, two decimals.  0 or 1. */
static int number_cell(const roster_col_t *c, long row, char *dst, size_t cap, roster_error_fn err,
                       void *ud)
{
    char *end;
    if (c->type == RT_INT) {
        long v = strtol(dst, &end, 10);
        if (*end || end == dst) {
            report(err, ud, row, c->key, "invalid_format", "'%s' must be a whole number", c->key);
            return 1;
        }
        if (v < c->lo || v > c->hi) {
            report(err, ud, row, c->key, "out_of_range", "'%s' must be from %ld to %ld", c->key,
                   c->lo, c->hi);
            return 1;
        }
        snprintf(dst, cap, "%ld", v);
        return 0;
    }
    double v = strtod(dst, &end);
    if (*end || end == dst || strchr(dst, 'e') || strchr(dst, 'E') || strchr(dst, 'x') ||
        strchr(dst, 'n') || strchr(dst, 'N')) {
        report(err, ud, row, c->key, "invalid_format",
               "'%s' must be a number of square metres such as 89.50", c->key);
        return 1;
    }
    if (v <= 0 || v >= 1e8) {
        report(err, ud, row, c->key, "out_of_range",
               "'%s' must be greater than 0 and below 100000000", c->key);
        return 1;
    }
    snprintf(dst, cap, "%.2f", v);
    return 0;
}

/* RT_CODES: project codes, separated by ; , | or the full-width ；，、, into "P1;P2".  0 or
 * 1 problem. */
static int codes_cell(const roster_col_t *c, long row, char *dst, size_t cap, roster_error_fn err,
                      void *ud)
{
    /* separators: ; , | and the full-width ；，、 → ';' with spaces trimmed */
    char tmp[CSV_MAX_FIELD + 8];
    size_t o = 0;
    const char *p = dst;
    while (*p && o + 2 < sizeof tmp) {
        size_t w = 0;
        if (*p == ';' || *p == ',' || *p == '|')
            w = 1;
        else if (!strncmp(p, "；", 3) || !strncmp(p, "，", 3) || !strncmp(p, "、", 3))
            w = 3;
        if (w) {
            tmp[o++] = ';';
            p += w;
        } else if (*p != ' ') {
            tmp[o++] = *p++;
        } else {
            p++;
        }
    }
    tmp[o] = 0;
    snprintf(dst, cap, "%s", tmp);
    if (strstr(dst, ";;") || dst[0] == ';' || (o && dst[o - 1] == ';')) {
        report(err, ud, row, c->key, "invalid_format",
               "'%s' must list project codes separated by ; (e.g. P1;P2)", c->key);
        return 1;
    }
    return 0;
}

/* Checks one cell; writes the normalised value into dst.  0 or 1 problem. */
static int cell(const roster_col_t *c, long row, const char *in, size_t inlen, char *dst,
                size_t cap, roster_error_fn err, void *ud)
{
    size_t len = trim(in, inlen, dst, cap);
    char names[200];
    switch (c->type) {
    case RT_TEXT:
    case RT_SECRET:
        if (len > (size_t)c->maxlen) {
            report(err, ud, row, c->key, "too_long", "'%s' may be at most %d bytes", c->key,
                   c->maxlen);
            return 1;
        }
        if (c->type == RT_SECRET && len < (size_t)c->lo) {
            report(err, ud, row, c->key, "too_short", "'%s' must be at least %ld characters",
                   c->key, c->lo);
            return 1;
        }
        return 0;
    case RT_INT:
    case RT_AREA:
        return number_cell(c, row, dst, cap, err, ud);
    case RT_PHONE:
        if (len > (size_t)c->maxlen || !valid_phone(dst)) {
            report(err, ud, row, c->key, "invalid_format",
                   "'%s' must be a phone number: 5 to 20 digits, optionally with + - ( ) and "
                   "spaces",
                   c->key);
            return 1;
        }
        return 0;
    case RT_IDNUM:
        for (char *p = dst; *p; p++) {
            if (!isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80) {
                report(err, ud, row, c->key, "invalid_format",
                       "'%s' must be 6 to 32 letters and digits (a 18-character 身份证号)", c->key);
                return 1;
            }
            *p = (char)toupper((unsigned char)*p);
        }
        if (len < 6 || len > 32) {
            report(err, ud, row, c->key, "invalid_format",
                   "'%s' must be 6 to 32 letters and digits (a 18-character 身份证号)", c->key);
            return 1;
        }
        return 0;
    case RT_ENUM: {
        int i = map_value(c->map, dst);
        if (i < 0) {
            enum_names(c->map, names, sizeof names);
            report(err, ud, row, c->key, "invalid_enum", "'%s' must be one of: %s", c->key, names);
            return 1;
        }
        snprintf(dst, cap, "%s", c->map[i].value);
        return 0;
    }
    case RT_BOOL: {
        int b = parse_bool(dst);
        if (b < 0) {
            report(err, ud, row, c->key, "invalid_enum",
                   "'%s' must be 是 or 否 (yes/no, true/false, 1/0)", c->key);
            return 1;
        }
        snprintf(dst, cap, "%s", b ? "true" : "false");
        return 0;
    }
    case RT_USERNAME: {
        int ok = len >= 2 && len <= 64;
        for (const char *p = dst; ok && *p; p++)
            ok = isalnum((unsigned char)*p) || strchr("._@-", *p);
        if (!ok) {
            report(err, ud, row, c->key, "invalid_format",
                   "'%s' must be 2 to 64 letters, digits or . _ @ -", c->key);
            return 1;
        }
        return 0;
    }
    case RT_CODES:
        return codes_cell(c, row, dst, cap, err, ud);
    }
    return 0;
}

int roster_row(const roster_header_t *h, const csv_record_t *rec, roster_row_t *out,
               roster_error_fn err, void *ud)
{
    const roster_kind_def_t *d = roster_kind(h->kind);
    memset(out->v, 0, sizeof out->v);
    out->row = rec->row;
    int bad = 0;
    if (rec->bad_utf8) {
        report(err, ud, rec->row, "", "invalid_encoding",
               "field %d is not valid UTF-8 text; save the file as UTF-8 or GB18030",
               rec->bad_utf8);
        return 1;
    }
    if (rec->long_field) {
        report(err, ud, rec->row, "", "field_too_long", "field %d is longer than %d bytes",
               rec->long_field, CSV_MAX_FIELD);
        bad++;
    }
    if (rec->nfields + rec->extra_fields > h->nfile) {
        report(err, ud, rec->row, "", "too_many_fields",
               "the row has %d fields but the header names %d; quote values that contain the "
               "delimiter",
               rec->nfields + rec->extra_fields, h->nfile);
        bad++;
    }
    size_t o = 0;
    char entrance[64] = "";
    int unit_out = -1;
    for (int c = 0; c < d->ncols; c++) {
        const roster_col_t *col = &d->cols[c];
        int f = h->idx[c];
        const char *in = f >= 0 && f < rec->nfields ? rec->field[f] : "";
        size_t inlen = f >= 0 && f < rec->nfields ? rec->len[f] : 0;
        char *dst = out->buf + o;
        size_t cap = CSV_MAX_FIELD + 8;
        char tmp[8];
        if (trim(in, inlen, tmp, sizeof tmp) == 0) {
            if (col->required) {
                report(err, ud, rec->row, col->key, "required", "'%s' must not be empty", col->key);
                bad++;
            }
            continue;
        }
        if (cell(col, rec->row, in, inlen, dst, cap, err, ud)) {
            bad++;
            continue;
        }
        if (col->out < 0) {
            snprintf(entrance, sizeof entrance, "%s", dst);
            continue;
        }
        if (!strcmp(col->key, "unit"))
            unit_out = col->out;
        out->v[col->out] = dst;
        o += strlen(dst) + 1;
    }
    if (!bad && entrance[0] && unit_out >= 0 && out->v[unit_out]) {
        /* 单元 + 房号: the unit's code is "<entrance>-<room>" (e.g. 2-1502) */
        char *dst = out->buf + o;
        snprintf(dst, CSV_MAX_FIELD + 8, "%s-%s", entrance, out->v[unit_out]);
        out->v[unit_out] = dst;
    }
    return bad;
}
