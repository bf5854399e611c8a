/*
 * tests/core/test_register_rules.c — the register columns' write/read table (RULES §2
 * item 5), the paper registers' exact columns (RULES appendix), the tenancy rules (RULES §2
 * item 12: the term, the early end's two signatures and 3 days' notice), the vocabulary's
 * completeness and the zh-CN problem details with Accept-Language negotiation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/i18n.h"
#include "core/register.h"
#include "core/tenancy.h"
#include "core/vocab.h"

static void test_register_write_table(void **state)
{
    (void)state;
    static const struct {
        role_t role;
        unsigned char w[REG__COUNT]; /* wish, receiving, handling, assessment, feedback */
        unsigned char rd[REG__COUNT];
    } t[] = {
        {ROLE_RESIDENT, {0, 0, 0, 0, 1}, {1, 0, 0, 0, 1}},
        {ROLE_AGENT, {1, 1, 1, 0, 1}, {1, 1, 1, 1, 1}},
        {ROLE_TECHNICIAN, {0, 0, 1, 0, 0}, {1, 1, 1, 1, 1}},
        {ROLE_SECURITY, {0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}},
        {ROLE_SUPERVISOR, {1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}},
        {ROLE_MANAGER, {1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}},
        {ROLE_DIRECTOR, {1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}},
        {ROLE_GM, {1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}},
        {ROLE_CLERK, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}},
        {ROLE_INTEGRATION, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}},
        {ROLE_AUDITOR, {0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}},
        {ROLE_ADMIN, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}},
    };
    assert_int_equal(sizeof t / sizeof t[0], ROLE__COUNT);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (int f = 0; f < REG__COUNT; f++) {
            assert_int_equal(core_register_may_write(t[i].role, (register_field_t)f), t[i].w[f]);
            assert_int_equal(core_register_may_read(t[i].role, (register_field_t)f), t[i].rd[f]);
        }
    assert_int_equal(core_register_may_write(ROLE_AGENT, REG__COUNT), 0);
    assert_int_equal(core_register_field_from_string("supervisor_assessment"),
                     REG_SUPERVISOR_ASSESSMENT);
    assert_int_equal(core_register_field_from_string("nope"), -1);
    assert_string_equal(core_register_field_label(REG_CUSTOMER_WISH), "客户希望/要求");
}

static void expect_cols(register_form_t f, const char *title, const char *const *labels)
{
    size_t n;
    const register_column_t *c = core_register_form_columns(f, &n);
    assert_string_equal(core_register_form_title(f), title);
    size_t k = 0;
    while (labels[k])
        k++;
    assert_int_equal(n, k);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(c[i].label, labels[i]);
}

static void test_register_forms(void **state)
{
    (void)state;
    static const char *const repair[] = {"报修人姓名",
                                         "报修日期",
                                         "联系方式",
                                         "报修人地址",
                                         "故障内容描述",
                                         "记录人员",
                                         "工程管理部相关人员签名",
                                         NULL};
    static const char *const intake[] = {"投诉客户名称", "地址",          "受理日期", "受理编号",
                                         "投诉事由",     "客户希望/要求", "投诉性质", "受理人",
                                         "受理单位意见", "责任部门",      NULL};
    static const char *const handling[] = {
        "日期",           "业主姓名", "业主住址", "业主联系方式", "接待人姓名",   "投诉处理部门",
        "投诉处理负责人", "投诉问题", "处理意见", "处理过程",     "业主反馈情况", "主管评估意见",
        "备注",           NULL};
    expect_cols(REGF_REPAIR_INTAKE, "报修受理登记表", repair);
    expect_cols(REGF_COMPLAINT_INTAKE, "投诉受理登记表", intake);
    expect_cols(REGF_COMPLAINT_HANDLING, "投诉处理记录表", handling);
    assert_string_equal(core_register_form_type(REGF_REPAIR_INTAKE), "repair");
    assert_string_equal(core_register_form_type(REGF_COMPLAINT_HANDLING), "complaint");
    assert_int_equal(core_register_form_from_string("complaint-intake"), REGF_COMPLAINT_INTAKE);
    size_t n;
    assert_null(core_register_form_columns(REGF__COUNT, &n));
    assert_int_equal(n, 0);
}

/* ---------------------------------------------------------------- tenancy */

static void test_tenancy_term(void **state)
{
    (void)state;
    assert_int_equal(core_tenancy_check_term(100, 100).status, 0);
    tenancy_verdict_t v = core_tenancy_check_term(101, 100);
    assert_int_equal(v.status, 422);
    assert_string_equal(v.pointer_field, "term_end");
    tenancy_facts_t t = {100, 200, -1, 0, 0, 0};
    assert_true(core_tenancy_in_term(&t, 100));
    assert_true(core_tenancy_in_term(&t, 200));
    assert_false(core_tenancy_in_term(&t, 99));
    assert_false(core_tenancy_in_term(&t, 201));
    t.ended = 1;
    t.termination_date = 150;
    assert_true(core_tenancy_in_term(&t, 150));
    assert_false(core_tenancy_in_term(&t, 151));
}

static void test_tenancy_sign(void **state)
{
    (void)state;
    static const struct {
        tenancy_facts_t t;
        role_t role;
        int is_owner;
        int64_t today, end;
        int status;
        const char *code;
        int side, completes;
    } cases[] = {
        /* the owner, 3 days before the end: allowed (exactly 3 days is enough) */
        {{100, 200, -1, 0, 0, 0}, ROLE_RESIDENT, 1, 120, 123, 0, NULL, TEN_SIDE_OWNER, 0},
        /* 2 days: too short */
        {{100, 200, -1, 0, 0, 0}, ROLE_RESIDENT, 1, 121, 123, 422, "notice_too_short", 0, 0},
        /* the same day */
        {{100, 200, -1, 0, 0, 0}, ROLE_SUPERVISOR, 0, 123, 123, 422, "notice_too_short", 1, 0},
        /* a resident who is not the owner (the tenant) */
        {{100, 200, -1, 0, 0, 0}, ROLE_RESIDENT, 0, 120, 130, 403, "forbidden", 0, 0},
        /* an agent is not on the supervisor side */
        {{100, 200, -1, 0, 0, 0}, ROLE_AGENT, 0, 120, 130, 403, "forbidden", 0, 0},
        {{100, 200, -1, 0, 0, 0}, ROLE_CLERK, 0, 120, 130, 403, "forbidden", 0, 0},
        /* the supervisor after the owner, same date: completes */
        {{100, 200, 130, 1, 0, 0}, ROLE_MANAGER, 0, 120, 130, 0, NULL, TEN_SIDE_SUPERVISOR, 1},
        {{100, 200, 130, 0, 1, 0}, ROLE_RESIDENT, 1, 127, 130, 0, NULL, TEN_SIDE_OWNER, 1},
        /* the second signature later than 3 days before: refused even though the first was in
         * time */
        {{100, 200, 130, 1, 0, 0}, ROLE_GM, 0, 128, 130, 422, "notice_too_short", 1, 0},
        /* a different date */
        {{100, 200, 130, 1, 0, 0}, ROLE_SUPERVISOR, 0, 120, 131, 409, "termination_mismatch", 1, 0},
        /* signing twice */
        {{100, 200, 130, 1, 0, 0}, ROLE_RESIDENT, 1, 120, 130, 409, "already_signed", 0, 0},
        /* ended */
        {{100, 200, 130, 1, 1, 1}, ROLE_SUPERVISOR, 0, 120, 130, 409, "tenancy_ended", 1, 0},
        /* outside the term */
        {{100, 200, -1, 0, 0, 0}, ROLE_SUPERVISOR, 0, 120, 201, 422, "invalid_end_date", 1, 0},
        {{100, 200, -1, 0, 0, 0}, ROLE_SUPERVISOR, 0, 90, 99, 422, "invalid_end_date", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tenancy_side_t side = (tenancy_side_t)-1;
        int completes = -1;
        tenancy_verdict_t v = core_tenancy_sign(&cases[i].t, cases[i].role, cases[i].is_owner,
                                                cases[i].today, cases[i].end, &side, &completes);
        if (v.status != cases[i].status)
            fail_msg("case %zu: status %d, want %d", i, v.status, cases[i].status);
        if (cases[i].code)
            assert_string_equal(v.code, cases[i].code);
        if (!v.status) {
            assert_int_equal(side, cases[i].side);
            assert_int_equal(completes, cases[i].completes);
        }
    }
}

/* ---------------------------------------------------------------- vocabulary */

static void test_vocab_complete(void **state)
{
    (void)state;
    size_t n;
    const vocab_enum_t *e = core_vocab_enums(&n);
    assert_true(n > 30);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(e[i].name, e[j].name);
        size_t k = 0;
        const char *v;
        for (; (v = core_vocab_value(&e[i], k)) != NULL; k++) {
            const vocab_term_t *t = core_vocab_term(&e[i], v);
            if (!t || !t->zh[0] || !t->en[0])
                fail_msg("%s: value '%s' has no zh-CN/en label in core/vocab.c", e[i].name, v);
        }
        assert_true(k > 0);
    }
    const vocab_enum_t *types = core_vocab_find("request_type");
    assert_non_null(types);
    static const char *const want[][2] = {{"complaint", "投诉"}, {"repair", "报修"},
                                          {"inquiry", "咨询"},   {"suggestion", "建议"},
                                          {"praise", "表扬"},    {"emergency", "突发事件"}};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(core_vocab_term(types, want[i][0])->zh, want[i][1]);
    assert_string_equal(core_vocab_term(core_vocab_find("callback_rating"), "very_satisfied")->zh,
                        "非常满意");
    assert_string_equal(core_vocab_term(core_vocab_find("request_severity"), "major")->zh, "严重");
    assert_null(core_vocab_find("nope"));
}

/* ---------------------------------------------------------------- i18n */

static void test_i18n_lang(void **state)
{
    (void)state;
    static const struct {
        const char *h;
        lang_t want;
    } t[] = {
        {NULL, LANG_EN},
        {"", LANG_EN},
        {"zh-CN", LANG_ZH},
        {"zh", LANG_ZH},
        {"ZH-cn", LANG_ZH},
        {"zh-Hans-CN", LANG_ZH},
        {"en-US,en;q=0.9", LANG_EN},
        {"en;q=0.5, zh-CN;q=0.8", LANG_ZH},
        {"zh-CN;q=0.5, en;q=0.8", LANG_EN},
        {"fr-FR, zh-TW;q=0.3", LANG_ZH},
        {"fr-FR", LANG_EN},
        {"zhx", LANG_EN},
        {"zh-CN;q=0", LANG_EN},
        {"zh-CN;q=abc", LANG_EN},
        {"*", LANG_EN},
        {"zh-CN,zh;q=0.9,en;q=0.8", LANG_ZH},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (core_i18n_lang(t[i].h) != t[i].want)
            fail_msg("'%s': want %d", t[i].h ? t[i].h : "(null)", t[i].want);
    assert_string_equal(core_i18n_tag(LANG_ZH), "zh-CN");
}

static void test_i18n_details(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(
        core_i18n_detail_zh("not_found", "no request with this id in your scope", out, sizeof out),
        1);
    assert_string_equal(out, "您的权限范围内没有此编号的请求");
    assert_int_equal(
        core_i18n_detail_zh("forbidden", "the role 'agent' may not perform 'x.y'", out, sizeof out),
        1);
    assert_string_equal(out, "角色“agent”无权执行“x.y”");
    assert_int_equal(core_i18n_detail_zh("missing_field", "'title' is required", out, sizeof out),
                     1);
    assert_string_equal(out, "缺少必填字段“title”");
    /* a detail without a pattern falls back to the code's general translation */
    assert_int_equal(core_i18n_detail_zh("not_found", "something else", out, sizeof out), 1);
    assert_string_equal(out, "未找到该记录，或它不在您的权限范围内");
    assert_int_equal(
        core_i18n_detail_zh("invalid_token", "the token is not valid yet", out, sizeof out), 1);
    /* unknown codes stay English */
    assert_int_equal(core_i18n_detail_zh("no_such_code", "x", out, sizeof out), 0);
    /* a small buffer is cut, still terminated */
    char tiny[8];
    assert_int_equal(core_i18n_detail_zh("missing_field", "'title' is required", tiny, sizeof tiny),
                     1);
    assert_true(strlen(tiny) < sizeof tiny);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_write_table), cmocka_unit_test(test_register_forms),
        cmocka_unit_test(test_tenancy_term),         cmocka_unit_test(test_tenancy_sign),
        cmocka_unit_test(test_vocab_complete),       cmocka_unit_test(test_i18n_lang),
        cmocka_unit_test(test_i18n_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
