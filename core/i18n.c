/*
 * core/i18n.c — Accept-Language negotiation and the zh-CN table of problem details.
 */
#include "core/i18n.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *core_i18n_tag(lang_t lang)
{
    return lang == LANG_ZH ? "zh-CN" : "en";
}

/* The language of one range ("zh-CN", "en-GB", "*"): 0 English, 1 Chinese, -1 neither. */
static int range_lang(const char *s, size_t n)
{
    if (n == 1 && s[0] == '*')
        return LANG_EN;
    if (n >= 2 && tolower((unsigned char)s[0]) == 'z' && tolower((unsigned char)s[1]) == 'h' &&
        (n == 2 || s[2] == '-'))
        return LANG_ZH;
    if (n >= 2 && tolower((unsigned char)s[0]) == 'e' && tolower((unsigned char)s[1]) == 'n' &&
        (n == 2 || s[2] == '-'))
        return LANG_EN;
    return -1;
}

/* q of the parameters p[0..n) (";q=0.5"); 1 without one, -1 malformed. */
static double q_of(const char *p, size_t n)
{
    double q = 1;
    while (n) {
        while (n && (*p == ';' || *p == ' ' || *p == '\t'))
            p++, n--;
        if (n >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char buf[16];
            size_t k = 0;
            p += 2, n -= 2;
            while (n && *p != ';' && k + 1 < sizeof buf)
                buf[k++] = *p++, n--;
            buf[k] = 0;
            char *end;
            q = strtod(buf, &end);
            if (end == buf || q < 0 || q > 1)
                return -1;
        }
        while (n && *p != ';')
            p++, n--;
    }
    return q;
}

lang_t core_i18n_lang(const char *h)
{
    if (!h)
        return LANG_EN;
    double best_q = 0;
    int best = LANG_EN;
    const char *p = h;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *s = p;
        size_t n = len;
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        size_t tag = 0;
        while (tag < n && s[tag] != ';' && s[tag] != ' ' && s[tag] != '\t')
            tag++;
        int l = range_lang(s, tag);
        double q = q_of(s + tag, n - tag);
        if (l >= 0 && q > best_q) {
            best_q = q;
            best = l;
        }
        p = e ? e + 1 : p + len;
    }
    return (lang_t)best;
}

/* ---------------------------------------------------------------- the table */

static const struct {
    const char *code;
    const char *en; /* pattern; NULL: the code's general translation */
    const char *zh; /* with as many %s as the pattern, in order */
} table[] = {
    /* authentication */
    {"missing_token", NULL, "缺少访问令牌：请在 Authorization 请求头中提供 Bearer 令牌"},
    {"invalid_token", NULL, "访问令牌无效或已过期，请重新登录"},
    {"invalid_credentials", NULL, "用户名或密码错误"},
    {"invalid_refresh_token", NULL, "刷新令牌无效、已使用或已过期，请重新登录"},
    {"organisation_inactive", NULL, "您所在的机构已停用"},
    {"too_many_attempts", NULL, "登录失败次数过多，请稍后再试"},
    /* authorisation and scope */
    {"forbidden", "the role '%s' may not perform '%s'", "角色“%s”无权执行“%s”"},
    {"forbidden", NULL, "您的角色无权执行此操作"},
    {"not_found", "no such record in your scope", "您的权限范围内没有此记录"},
    {"not_found", "no such record in your scope (ids are UUIDs)",
     "您的权限范围内没有此记录（编号为 UUID）"},
    {"not_found", "no %n with this id in your scope", "您的权限范围内没有此编号的%s"},
    {"not_found", "no project with this id in your scope", "您的权限范围内没有此编号的项目"},
    {"not_found", NULL, "未找到该记录，或它不在您的权限范围内"},
    /* validation */
    {"missing_field", "'%s' is required", "缺少必填字段“%s”"},
    {"missing_field", NULL, "缺少必填字段"},
    {"unknown_field", "'%s' is not a field of %n (%s)", "“%s”不是%s的字段（可用字段：%s）"},
    {"unknown_field", "'%s' is not a field of %n", "“%s”不是%s的字段"},
    {"invalid_field", "'%s' must be a non-empty string of at most %s bytes",
     "“%s”必须是非空字符串，且不超过 %s 字节"},
    {"invalid_field", "'%s' must be a UUID", "“%s”必须是 UUID"},
    {"invalid_field", "'%s' must be true or false", "“%s”必须是 true 或 false"},
    {"invalid_field", "'%s' must be an RFC 3339 time such as 2026-11-23T09:30:00+08:00",
     "“%s”必须是 RFC 3339 时间，例如 2026-11-23T09:30:00+08:00"},
    {"invalid_field", "'%s' must be a date YYYY-MM-DD", "“%s”必须是 YYYY-MM-DD 格式的日期"},
    {"invalid_field", NULL, "字段的值无效"},
    {"invalid_enum", "'%s' must be one of: %s", "“%s”必须是以下值之一：%s"},
    {"invalid_enum", NULL, "字段的值不在允许的范围内"},
    {"malformed_json", NULL, "请求体不是有效的 JSON"},
    {"body_required", NULL, "缺少请求体"},
    {"invalid_query", NULL, "查询参数无效"},
    {"constraint_violation", NULL,
     "数据违反了数据模型的规则：请检查引用的编号属于您的机构、取值在范围内"},
    /* conflicts and versions */
    {"stale_version", NULL, "记录已被他人修改：请重新读取后再提交（If-Match 版本不符）"},
    {"if_match_required", NULL, "需要 If-Match 请求头（记录的当前版本）"},
    {"conflict_retry", NULL, "记录被同时修改，请重试"},
    {"duplicate", "a record with the same unique value already exists (%s)",
     "已存在相同唯一值的记录（%s）"},
    {"duplicate", NULL, "已存在相同唯一值的记录"},
    {"invalid_transition", NULL, "当前状态下不能执行此操作"},
    {"conflict", NULL, "与记录的当前状态冲突"},
    /* registers and tenancies */
    {"notice_too_short", NULL, "退租须至少提前 3 天登记（出租房屋登记表）"},
    {"already_signed", NULL, "这一方已在退租登记上签字"},
    {"tenancy_ended", NULL, "双方已签字，该租赁已结束"},
    {"termination_mismatch", NULL, "另一方登记的退租日期不同：请签署相同的 end_date"},
    {"invalid_end_date", NULL, "end_date 必须在租期之内"},
    {"invalid_term", NULL, "term_end 不得早于 term_start"},
    /* load */
    {"body_too_large", NULL, "请求体过大"},
    {"unsupported_media_type", NULL, "不支持的内容类型"},
    {"overloaded", NULL, "服务器繁忙，请稍后重试"},
    {"database_unavailable", NULL, "数据库暂时不可用，请稍后重试"},
};

static const char *const nouns[][2] = {
    {"request", "请求"},      {"project", "项目"},
    {"building", "楼栋"},     {"unit", "房屋"},
    {"resident", "住户"},     {"department", "部门"},
    {"user", "用户"},         {"work order", "工作任务单"},
    {"tenancy", "租赁登记"},  {"webhook", "Webhook"},
    {"organisation", "机构"}, {"key set", "钥匙"},
    {"a request", "请求"},    {"a tenancy", "租赁登记"},
    {"a comment", "备注"},    {"a register note", "登记栏目"},
};

#define MAX_CAPS 4

/* Matches detail s against pattern p ('%s' = any text, shortest first; '%n' the same, a
 * noun to translate); caps get the captured spans and whether each is a noun.  1 / 0. */
static int match(const char *p, const char *s, const char *cs[MAX_CAPS], size_t cl[MAX_CAPS],
                 int noun[MAX_CAPS], int k)
{
    while (*p) {
        if (p[0] == '%' && (p[1] == 's' || p[1] == 'n')) {
            if (k >= MAX_CAPS)
                return 0;
            noun[k] = p[1] == 'n';
            for (size_t n = 0;; n++) {
                cs[k] = s;
                cl[k] = n;
                if (match(p + 2, s + n, cs, cl, noun, k + 1))
                    return 1;
                if (!s[n])
                    return 0;
            }
        }
        if (*p != *s)
            return 0;
        p++, s++;
    }
    return *s == 0;
}

int core_i18n_detail_zh(const char *code, const char *detail, char *out, size_t outlen)
{
    if (!code || !detail || !outlen)
        return 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].code, code) != 0)
            continue;
        const char *cs[MAX_CAPS] = {0};
        size_t cl[MAX_CAPS] = {0};
        int noun[MAX_CAPS] = {0};
        if (table[i].en && !match(table[i].en, detail, cs, cl, noun, 0))
            continue;
        /* Writes the translation with the captures in order. */
        size_t o = 0;
        int k = 0;
        for (const char *z = table[i].zh; *z && o + 1 < outlen; z++) {
            if (z[0] == '%' && z[1] == 's' && k < MAX_CAPS) {
                const char *c = cs[k];
                int is_noun = noun[k];
                size_t n = cl[k++];
                for (size_t j = 0; is_noun && j < sizeof nouns / sizeof nouns[0]; j++)
                    if (c && strlen(nouns[j][0]) == n && !strncmp(nouns[j][0], c, n)) {
                        c = nouns[j][1];
                        n = strlen(c);
                        break;
                    }
                if (n > outlen - 1 - o)
                    n = outlen - 1 - o;
                if (c)
                    memcpy(out + o, c, n);
                o += n;
                z++;
                continue;
            }
            out[o++] = *z;
        }
        out[o] = 0;
        return 1;
    }
    return 0;
}
