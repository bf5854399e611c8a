/*
 * core/register.c — the register columns' permission table and the paper registers'
 * columns (RULES appendix, seed 003 (四), (六), (七)).
 */
#include "core/register.h"

const char *const core_register_field_names[REG__COUNT + 1] = {
    "customer_wish",         "receiving_opinion", "handling_opinion",
    "supervisor_assessment", "owner_feedback",    NULL};
CORE_STRTAB_FUNCS(core_register_field, register_field_t, core_register_field_names, REG__COUNT)

static const char *const field_labels[REG__COUNT] = {"客户希望/要求", "受理单位意见", "处理意见",
                                                     "主管评估意见", "业主反馈情况"};

const char *core_register_field_label(register_field_t f)
{
    return (unsigned)f < REG__COUNT ? field_labels[f] : NULL;
}

#define R(x)        (1u << (x))
#define DESK        (R(ROLE_AGENT) | R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM))
#define ABOVE_AGENT (R(ROLE_SUPERVISOR) | R(ROLE_MANAGER) | R(ROLE_DIRECTOR) | R(ROLE_GM))
#define READ_ALL    (DESK | R(ROLE_SECURITY) | R(ROLE_TECHNICIAN) | R(ROLE_AUDITOR))

static const struct {
    unsigned write, read;
} rules[REG__COUNT] = {
    [REG_CUSTOMER_WISH] = {DESK, READ_ALL | R(ROLE_RESIDENT)},
    [REG_RECEIVING_OPINION] = {DESK, READ_ALL},
    [REG_HANDLING_OPINION] = {DESK | R(ROLE_TECHNICIAN), READ_ALL},
    [REG_SUPERVISOR_ASSESSMENT] = {ABOVE_AGENT, READ_ALL},
    [REG_OWNER_FEEDBACK] = {DESK | R(ROLE_RESIDENT), READ_ALL | R(ROLE_RESIDENT)},
};

int core_register_may_write(role_t role, register_field_t f)
{
    return (unsigned)f < REG__COUNT && (unsigned)role < ROLE__COUNT &&
           (rules[f].write & R(role)) != 0;
}

int core_register_may_read(role_t role, register_field_t f)
{
    return (unsigned)f < REG__COUNT && (unsigned)role < ROLE__COUNT &&
           (rules[f].read & R(role)) != 0;
}

/* ---------------------------------------------------------------- forms */

static const char *const form_names[REGF__COUNT + 1] = {"repair-intake", "complaint-intake",
                                                        "complaint-handling", NULL};
CORE_STRTAB_FUNCS(core_register_form, register_form_t, form_names, REGF__COUNT)

static const register_column_t repair_intake[] = {
    {"reporter_name", "报修人姓名"},
    {"date", "报修日期"},
    {"phone", "联系方式"},
    {"address", "报修人地址"},
    {"description", "故障内容描述"},
    {"recorded_by", "记录人员"},
    {"engineering_signature", "工程管理部相关人员签名"},
};
static const register_column_t complaint_intake[] = {
    {"customer_name", "投诉客户名称"},
    {"address", "地址"},
    {"date", "受理日期"},
    {"number", "受理编号"},
    {"subject", "投诉事由"},
    {"customer_wish", "客户希望/要求"},
    {"severity", "投诉性质"},
    {"receiver", "受理人"},
    {"receiving_opinion", "受理单位意见"},
    {"department", "责任部门"},
};
static const register_column_t complaint_handling[] = {
    {"date", "日期"},
    {"owner_name", "业主姓名"},
    {"address", "业主住址"},
    {"phone", "业主联系方式"},
    {"receiver", "接待人姓名"},
    {"department", "投诉处理部门"},
    {"handler", "投诉处理负责人"},
    {"subject", "投诉问题"},
    {"handling_opinion", "处理意见"},
    {"process", "处理过程"},
    {"owner_feedback", "业主反馈情况"},
    {"supervisor_assessment", "主管评估意见"},
    {"remarks", "备注"},
};

static const struct {
    const char *title, *type;
    const register_column_t *cols;
    size_t n;
} forms[REGF__COUNT] = {
    [REGF_REPAIR_INTAKE] = {"报修受理登记表", "repair", repair_intake,
                            sizeof repair_intake / sizeof repair_intake[0]},
    [REGF_COMPLAINT_INTAKE] = {"投诉受理登记表", "complaint", complaint_intake,
                               sizeof complaint_intake / sizeof complaint_intake[0]},
    [REGF_COMPLAINT_HANDLING] = {"投诉处理记录表", "complaint", complaint_handling,
                                 sizeof complaint_handling / sizeof complaint_handling[0]},
};

const char *core_register_form_title(register_form_t f)
{
    return (unsigned)f < REGF__COUNT ? forms[f].title : NULL;
}

const char *core_register_form_type(register_form_t f)
{
    return (unsigned)f < REGF__COUNT ? forms[f].type : NULL;
}

const register_column_t *core_register_form_columns(register_form_t f, size_t *n)
{
    if ((unsigned)f >= REGF__COUNT) {
        *n = 0;
        return NULL;
    }
    *n = forms[f].n;
    return forms[f].cols;
}
