/*
 * core/vocab.c — the labels of every API enum (see core/vocab.h).  zh-CN as the forms of the
 * seeds write them; English for the rest of the world.
 */
#include "core/vocab.h"

#include <string.h>

#include "core/custody.h"
#include "core/custody_areas.h"
#include "core/capa.h"
#include "core/duty.h"
#include "core/patrol.h"
#include "core/register.h"
#include "core/request.h"
#include "core/roles.h"
#include "core/sla_request.h"
#include "core/tenancy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *v_request_type(int i)
{
    return i < 0 ? NULL : core_request_type_name((request_type_t)i);
}
static const char *v_request_channel(int i)
{
    return i < 0 ? NULL : core_request_channel_name((request_channel_t)i);
}
static const char *v_request_severity(int i)
{
    return i < 0 ? NULL : core_request_severity_name((request_severity_t)i);
}
static const char *v_request_category(int i)
{
    return i < 0 ? NULL : core_request_category_name((request_category_t)i);
}
static const char *v_request_state(int i)
{
    return i < 0 ? NULL : core_request_state_name((request_state_t)i);
}
static const char *v_request_pending_reason(int i)
{
    return i < 0 ? NULL : core_request_pending_reason_name((pending_reason_t)i);
}
static const char *v_request_action(int i)
{
    return i < 0 ? NULL : core_request_action_name((request_action_t)i);
}
static const char *v_request_location_kind(int i)
{
    return i < 0 ? NULL : core_request_location_kind_name((location_kind_t)i);
}
static const char *v_request_work_order_state(int i)
{
    return i < 0 ? NULL : core_request_work_order_state_name((work_order_state_t)i);
}
static const char *v_role(int i)
{
    return i < 0 ? NULL : core_role_name((role_t)i);
}
static const char *v_dept_kind(int i)
{
    return i < 0 ? NULL : core_dept_kind_name((dept_kind_t)i);
}
static const char *v_sla_target(int i)
{
    return i < 0 ? NULL : core_sla_target_name((sla_target_id_t)i);
}
static const char *v_custody_area(int i)
{
    return i < 0 ? NULL : core_custody_area_name((custody_area_t)i);
}
static const char *v_key_kind(int i)
{
    return i < 0 ? NULL : core_key_kind_name((key_kind_t)i);
}
static const char *v_key_state(int i)
{
    return i < 0 ? NULL : core_key_state_name((key_state_t)i);
}
static const char *v_key_action(int i)
{
    return i < 0 ? NULL : core_key_action_name((key_action_t)i);
}
static const char *v_register_field(int i)
{
    return i < 0 ? NULL : core_register_field_name((register_field_t)i);
}
static const char *v_register_form(int i)
{
    return i < 0 ? NULL : core_register_form_name((register_form_t)i);
}
static const char *v_tenancy_use(int i)
{
    return i < 0 ? NULL : core_tenancy_use_name((tenancy_use_t)i);
}
static const char *v_tenancy_id_type(int i)
{
    return i < 0 ? NULL : core_tenancy_id_type_name((tenancy_id_type_t)i);
}
static const char *v_mail_kind(int i)
{
    return i < 0 ? NULL : core_mail_kind_name((mail_kind_t)i);
}
static const char *v_mail_state(int i)
{
    return i < 0 ? NULL : core_mail_state_name((mail_state_t)i);
}
static const char *v_mail_action(int i)
{
    return i < 0 ? NULL : core_mail_action_name((mail_action_t)i);
}
static const char *v_lost_kind(int i)
{
    return i < 0 ? NULL : core_lost_kind_name((lost_kind_t)i);
}
static const char *v_lost_state(int i)
{
    return i < 0 ? NULL : core_lost_state_name((lost_state_t)i);
}
static const char *v_lost_action(int i)
{
    return i < 0 ? NULL : core_lost_action_name((lost_action_t)i);
}
static const char *v_archive_class(int i)
{
    return i < 0 ? NULL : core_archive_class_name((archive_class_t)i);
}
static const char *v_archive_state(int i)
{
    return i < 0 ? NULL : core_archive_state_name((archive_state_t)i);
}
static const char *v_archive_action(int i)
{
    return i < 0 ? NULL : core_archive_action_name((archive_action_t)i);
}
static const char *v_destroy_method(int i)
{
    return i < 0 ? NULL : core_destroy_method_name((destroy_method_t)i);
}

static const char *v_decline_reason(int i)
{
    return i < 0 ? NULL : core_request_decline_reason_name((decline_reason_t)i);
}

static const char *v_duty_post(int i)
{
    return i < 0 ? NULL : core_duty_post_name((duty_post_t)i);
}
static const char *v_duty_log_kind(int i)
{
    return i < 0 ? NULL : core_duty_log_kind_name((duty_log_kind_t)i);
}
static const char *v_incident_kind(int i)
{
    return i < 0 ? NULL : core_incident_kind_name((incident_kind_t)i);
}
static const char *v_handover_refusal(int i)
{
    return i < 0 ? NULL : core_handover_reason_name((handover_reason_t)i);
}

static const char *v_capa_kind(int i)
{
    return i < 0 ? NULL : core_capa_kind_name((capa_kind_t)i);
}
static const char *v_capa_state(int i)
{
    return i < 0 ? NULL : core_capa_state_name((capa_state_t)i);
}
static const char *v_capa_action(int i)
{
    return i < 0 ? NULL : core_capa_action_name((capa_action_t)i);
}
static const char *v_patrol_kind(int i)
{
    return i < 0 ? NULL : core_patrol_kind_name((patrol_kind_t)i);
}
static const char *v_patrol_disposition(int i)
{
    return i < 0 ? NULL : core_patrol_disposition_name((patrol_disposition_t)i);
}
static const char *v_patrol_slot(int i)
{
    return i < 0 ? NULL : core_patrol_slot_name((patrol_slot_t)i);
}

static const char *v_patrol_point(int i)
{
    return i < 0 ? NULL : core_patrol_points[i];
}

static const vocab_term_t t_request_type[] = {
    {"complaint", "投诉", "Complaint"}, {"repair", "报修", "Repair"},
    {"inquiry", "咨询", "Inquiry"},     {"suggestion", "建议", "Suggestion"},
    {"praise", "表扬", "Praise"},       {"emergency", "突发事件", "Emergency"},
};
static const vocab_term_t t_request_channel[] = {
    {"phone", "电话", "Phone"},         {"visit", "来访", "Walk-in visit"},
    {"letter", "信函", "Letter"},       {"fax", "传真", "Fax"},
    {"app", "业主App", "Resident app"}, {"web", "网页", "Web"},
    {"email", "电子邮件", "Email"},     {"night_desk", "夜间监控中心", "Night desk (control room)"},
    {"patrol", "巡检", "Patrol"},       {"integration", "系统对接", "Integration"},
    {"survey", "满意度调查", "Survey"}, {"other", "其他", "Other"},
};
static const vocab_term_t t_request_severity[] = {
    {"major", "严重", "Major"},
    {"important", "重要", "Important"},
    {"general", "一般", "General"},
};
static const vocab_term_t t_request_category[] = {
    {"attitude", "服务态度", "Attitude"},
    {"timeliness", "服务时效", "Timeliness"},
    {"quality", "服务质量", "Quality"},
    {"service_range", "服务范围", "Service scope"},
    {"developer_legacy", "开发遗留问题", "Developer legacy"},
    {"fees", "收费", "Fees"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_request_validity[] = {
    {"unknown", "待定", "Undetermined"},
    {"valid", "有效", "Valid"},
    {"invalid", "无效", "Invalid"},
};
static const vocab_term_t t_request_state[] = {
    {"received", "已受理", "Received"},
    {"dispatched", "已派工", "Dispatched"},
    {"accepted", "已接单", "Accepted"},
    {"on_site", "已到场", "On site"},
    {"pending", "挂起", "Pending"},
    {"resolved", "已处理", "Resolved"},
    {"callback", "回访中", "In callback"},
    {"closed", "已关闭", "Closed"},
    {"rejected", "不予受理", "Rejected"},
    {"not_responsible", "非我方责任", "Not our responsibility"},
};
static const vocab_term_t t_pending_reason[] = {
    {"customer", "等待客户", "Waiting for the customer"},
    {"appointment", "预约上门", "Appointment"},
    {"parts", "等待配件", "Waiting for parts"},
    {"developer", "等待开发商", "Waiting for the developer"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_request_action[] = {
    {"dispatch", "派工", "Dispatch"},
    {"redispatch", "改派", "Re-dispatch"},
    {"accept", "接单", "Accept"},
    {"arrive", "到场", "Arrive"},
    {"report_result", "完工报告", "Report the result"},
    {"sign_off", "签字确认", "Sign off"},
    {"resolve", "处理完毕", "Resolve"},
    {"pend", "挂起", "Put on hold"},
    {"resume", "恢复处理", "Resume"},
    {"reject", "不予受理", "Reject"},
    {"close_not_responsible", "非我方责任关闭", "Close as not responsible"},
    {"start_callback", "开始回访", "Start the callback"},
    {"callback_result", "回访结果", "Callback result"},
    {"close", "关闭", "Close"},
    {"reopen", "重新打开", "Reopen"},
    {"handover", "转交客服", "Hand over"},
    {"comment", "备注", "Comment"},
    {"decline", "拒单", "Decline"},
    {"set_appointment", "预约上门时间", "Set appointment"},
    {"set_deadline", "告知大致期限", "Set approximate deadline"},
    {"hand_on", "移交跟进", "Hand on"},
    {"record_notification", "记录通知", "Record notification"},
};
static const vocab_term_t t_location_kind[] = {
    {"unit", "房屋", "Unit"},
    {"common_area", "公共区域", "Common area"},
};
static const vocab_term_t t_work_order_state[] = {
    {"dispatched", "已派工", "Dispatched"},
    {"accepted", "已接单", "Accepted"},
    {"on_site", "已到场", "On site"},
    {"done_unsigned", "已完工待签字", "Done, not signed"},
    {"signed_off", "已签字确认", "Signed off"},
    {"cancelled", "已取消", "Cancelled"},
    {"declined", "已拒单", "Declined"},
};
static const vocab_term_t t_decline_reason[] = {
    {"not_ours", "非本部门职责", "Not ours"},
    {"parts", "缺少配件", "Parts needed"},
    {"no_access", "无法入户", "No access"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_signer_kind[] = {
    {"resident", "业主/住户", "Resident"},
    {"staff", "员工", "Staff"},
};
static const vocab_term_t t_visibility[] = {
    {"internal", "内部", "Internal"},
    {"public", "公开", "Public"},
};
static const vocab_term_t t_callback_rating[] = {
    {"very_satisfied", "非常满意", "Very satisfied"},
    {"satisfied", "满意", "Satisfied"},
    {"average", "一般", "Average"},
    {"dissatisfied", "不满意", "Dissatisfied"},
    {"very_dissatisfied", "极不满意", "Very dissatisfied"},
};
static const vocab_term_t t_role[] = {
    {"resident", "业主/住户", "Resident"},
    {"agent", "客服专员", "Agent"},
    {"technician", "工程技工", "Technician"},
    {"security", "保安", "Security"},
    {"supervisor", "客服主管", "Supervisor"},
    {"manager", "客服部经理", "Manager"},
    {"director", "物业服务中心主任", "Director"},
    {"gm", "总经理", "General manager"},
    {"clerk", "文员", "Clerk"},
    {"integration", "系统对接", "Integration"},
    {"auditor", "品管部", "Auditor"},
    {"admin", "系统管理员", "Administrator"},
};
static const vocab_term_t t_department_kind[] = {
    {"customer_service", "客服部", "Customer service"},
    {"engineering", "工程部", "Engineering"},
    {"security", "保安部", "Security"},
    {"cleaning", "保洁部", "Cleaning"},
    {"greenery", "绿化部", "Greenery"},
    {"finance", "财务部", "Finance"},
    {"supplier", "外包单位", "Supplier"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_unit_status[] = {
    {"occupied", "自住", "Occupied"},
    {"vacant", "空置", "Vacant"},
    {"rented", "出租", "Rented"},
    {"decorating", "装修中", "Decorating"},
};
static const vocab_term_t t_relation[] = {
    {"owner", "业主", "Owner"},
    {"tenant", "租户", "Tenant"},
    {"family", "家属", "Family member"},
};
static const vocab_term_t t_sla_target[] = {
    {"first_response", "首次响应", "First response"},
    {"on_site", "到场", "On site"},
    {"answer", "答复", "Answer"},
    {"resolution", "处理完成", "Resolution"},
    {"handover", "转交", "Handover"},
    {"callback", "回访", "Callback"},
    {"gm_report", "报总经理", "Report to the GM"},
};
static const vocab_term_t t_sla_kind[] = {
    {"calendar", "自然时间", "Calendar time"},
    {"business", "工作时间", "Business hours"},
    {"end_of_day", "当日结束前", "By the end of the day"},
    {"next_local_time", "次日定时", "At the next local time"},
};
static const vocab_term_t t_sla_clock_state[] = {
    {"running", "计时中", "Running"},
    {"paused", "暂停", "Paused"},
    {"met", "达标", "Met"},
    {"breached", "超时", "Breached"},
};
static const vocab_term_t t_sla_extension_state[] = {
    {"requested", "申请中", "Requested"},
    {"approved", "已批准", "Approved"},
    {"rejected", "已驳回", "Rejected"},
};
static const vocab_term_t t_report_kind[] = {
    {"monthly", "月报", "Monthly"},
    {"daily", "日报", "Daily"},
    {"weekly", "周报", "Weekly"},
};
static const vocab_term_t t_report_state[] = {
    {"draft", "草稿", "Draft"},
    {"submitted", "已提交", "Submitted"},
};
static const vocab_term_t t_webhook_delivery_state[] = {
    {"pending", "待发送", "Pending"},
    {"delivered", "已送达", "Delivered"},
    {"failed", "失败", "Failed"},
};
static const vocab_term_t t_import_kind[] = {
    {"projects", "项目", "Projects"},
    {"buildings", "楼栋", "Buildings"},
    {"units", "房屋", "Units"},
    {"residents", "住户", "Residents"},
    {"departments", "部门", "Departments"},
    {"users", "用户", "Users"},
};
static const vocab_term_t t_import_status[] = {
    {"running", "进行中", "Running"},
    {"succeeded", "成功", "Succeeded"},
    {"checked", "已校验", "Checked"},
    {"failed", "失败", "Failed"},
};
static const vocab_term_t t_file_encoding[] = {
    {"utf-8", "UTF-8", "UTF-8"},
    {"utf-8-bom", "UTF-8（带BOM）", "UTF-8 with BOM"},
    {"gb18030", "GB18030（GBK）", "GB18030 (GBK)"},
};
static const vocab_term_t t_audit_result[] = {
    {"success", "成功", "Success"},
    {"failure", "失败", "Failure"},
};
static const vocab_term_t t_retention_kind[] = {
    {"audit_log", "审计日志", "Audit log"},
    {"complaint", "投诉记录", "Complaint records"},
    {"work_order", "工作任务单", "Work orders"},
};
static const vocab_term_t t_custody_area[] = {
    {"keys", "钥匙", "Keys"},
    {"archives", "档案", "Archives"},
    {"mail", "邮件", "Mail"},
    {"lost_property", "拾遗物品", "Lost property"},
};
static const vocab_term_t t_key_kind[] = {
    {"management_area", "管理区域钥匙", "Management-area keys"},
    {"unit_entrusted", "托管房钥匙", "Entrusted unit keys"},
    {"unit_vacant", "空置房钥匙", "Vacant unit keys"},
    {"unit_office", "办公用房钥匙", "Office unit keys"},
    {"machine_room", "机房钥匙", "Machine-room keys"},
    {"show_flat", "样板房钥匙", "Show-flat keys"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_key_state[] = {
    {"in_cabinet", "在钥匙柜", "In the cabinet"},
    {"at_control_room", "在监控中心", "At the control room"},
    {"with_shift", "当班持有", "With the shift"},
    {"on_loan", "借出", "On loan"},
    {"sealed", "已封存", "Sealed"},
    {"unsealed", "已启封", "Unsealed"},
    {"lost", "遗失", "Lost"},
    {"damaged", "损坏", "Damaged"},
    {"returned_to_owner", "已交还业主", "Returned to the owner"},
    {"retired", "已注销", "Retired"},
};
static const vocab_term_t t_key_action[] = {
    {"register", "登记", "Register"},
    {"shift_take", "接班领取", "Take at shift start"},
    {"shift_return", "交班归还", "Return at shift end"},
    {"handover_confirm", "交接确认", "Confirm the handover"},
    {"loan_approve", "借用审批", "Approve a loan"},
    {"loan", "借出", "Loan"},
    {"return", "归还", "Return"},
    {"seal", "封存", "Seal"},
    {"unseal_request", "申请启封", "Request unsealing"},
    {"unseal_approve", "启封审批", "Approve unsealing"},
    {"witness", "见证", "Witness"},
    {"unseal_open", "启封", "Open the seal"},
    {"attach_application", "附书面申请", "Attach the application"},
    {"reseal", "重新封存", "Reseal"},
    {"sign_off", "签字确认", "Sign off"},
    {"report_lost", "报失", "Report lost"},
    {"report_damaged", "报损", "Report damaged"},
    {"daily_check", "每日清点", "Daily check"},
    {"resolve_discrepancy", "差异处理", "Resolve a discrepancy"},
    {"hand_to_owner", "交还业主", "Hand to the owner"},
    {"retire", "注销", "Retire"},
    {"correction", "更正", "Correction"},
    {"note", "备注", "Note"},
    {"discrepancy", "数量差异", "Discrepancy"},
};
static const vocab_term_t t_counterparty_kind[] = {
    {"user", "员工", "Staff member"},
    {"resident", "业主/住户", "Resident"},
    {"outsider", "外来人员", "Outsider"},
};
static const vocab_term_t t_key_episode[] = {
    {"emergency", "紧急启封", "Emergency"},
    {"owner", "业主申请", "Owner's request"},
};
static const vocab_term_t t_ledger_problem[] = {
    {"hash_mismatch", "哈希不符", "Hash mismatch"},
    {"prev_hash_mismatch", "前序哈希不符", "Previous hash mismatch"},
    {"missing_entry", "缺少条目", "Missing entry"},
    {"head_mismatch", "链头不符", "Head mismatch"},
};
static const vocab_term_t t_register_field[] = {
    {"customer_wish", "客户希望/要求", "Customer's wish"},
    {"receiving_opinion", "受理单位意见", "Receiving unit's opinion"},
    {"handling_opinion", "处理意见", "Handling opinion"},
    {"supervisor_assessment", "主管评估意见", "Supervisor's assessment"},
    {"owner_feedback", "业主反馈情况", "Owner's feedback"},
};
static const vocab_term_t t_register_form[] = {
    {"repair-intake", "报修受理登记表", "Repair intake register"},
    {"complaint-intake", "投诉受理登记表", "Complaint intake register"},
    {"complaint-handling", "投诉处理记录表", "Complaint handling record"},
};
static const vocab_term_t t_tenancy_use[] = {
    {"residence", "居住", "Residence"}, {"office", "办公", "Office"},
    {"shop", "商铺", "Shop"},           {"dormitory", "员工宿舍", "Staff dormitory"},
    {"storage", "仓储", "Storage"},     {"other", "其他", "Other"},
};
static const vocab_term_t t_tenancy_state[] = {
    {"upcoming", "未起租", "Not started"},
    {"active", "租期中", "In term"},
    {"ending", "退租登记中", "End being registered"},
    {"ended", "已退租", "Ended"},
};
static const vocab_term_t t_id_document_type[] = {
    {"resident_id_card", "居民身份证", "Resident ID card"},
    {"passport", "护照", "Passport"},
    {"hk_macau_permit", "港澳居民来往内地通行证", "Hong Kong/Macau permit"},
    {"taiwan_permit", "台湾居民来往大陆通行证", "Taiwan permit"},
    {"foreign_residence_permit", "外国人永久居留身份证", "Foreign permanent residence ID"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_tenancy_side[] = {
    {"owner", "业主", "Owner"},
    {"supervisor", "主管", "Supervisor"},
};

static const vocab_term_t t_callback_method[] = {
    {"phone", "电话", "Phone"},
    {"visit", "上门", "Visit"},
    {"app", "业主App", "Resident app"},
    {"sms", "短信", "SMS"},
};
static const vocab_term_t t_callback_task_state[] = {
    {"open", "待回访", "Open"},
    {"done", "已回访", "Called back"},
    {"given_up", "放弃回访", "Given up"},
    {"cancelled", "已取消", "Cancelled"},
};
static const vocab_term_t t_callback_outcome[] = {
    {"closed", "关闭", "Closed"},
    {"reopened", "重新处理", "Reopened"},
    {"follow_up_complaint", "转投诉", "Follow-up complaint opened"},
    {"given_up", "放弃回访", "Given up"},
    {"cancelled", "已取消", "Cancelled"},
};
static const vocab_term_t t_callback_give_up_reason[] = {
    {"unreachable", "联系不上", "Unreachable"},
    {"refused", "拒绝回访", "Refused"},
    {"moved_out", "已搬离", "Moved out"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_callback_task_kind[] = {
    {"repair", "维修回访", "Repair callback"},
    {"complaint", "投诉回访", "Complaint callback"},
    {"other", "其他回访", "Other callback"},
    {"survey", "客户回访", "Survey callback"},
};
static const vocab_term_t t_callback_subject[] = {
    {"request", "客户需求", "Request"},
    {"survey_response", "满意度调查答卷", "Survey response"},
};
static const vocab_term_t t_survey_rating[] = {
    {"very_satisfied", "很满意", "Very satisfied"},
    {"fairly_satisfied", "比较满意", "Fairly satisfied"},
    {"basically_satisfied", "基本满意", "Basically satisfied"},
    {"somewhat_dissatisfied", "不太满意", "Somewhat dissatisfied"},
    {"dissatisfied", "不满意", "Dissatisfied"},
};
static const vocab_term_t t_survey_campaign_state[] = {
    {"draft", "草稿", "Draft"},
    {"open", "进行中", "Open"},
    {"closed", "已结束", "Closed"},
    {"reported", "已出报告", "Reported"},
};
static const vocab_term_t t_survey_campaign_kind[] = {
    {"periodic", "定期调查", "Periodic"},
    {"after_repair", "维修后调查", "After repair"},
    {"visit", "走访调查", "Visit"},
    {"special", "专项调查", "Special"},
};
static const vocab_term_t t_survey_cadence[] = {
    {"quarterly", "每季度", "Quarterly"},
    {"semi_annual", "每半年", "Half-yearly"},
    {"yearly", "每年", "Yearly"},
    {"once", "一次", "Once"},
};
static const vocab_term_t t_survey_distribution[] = {
    {"count", "按份数", "By count"},
    {"per_unit", "按户", "One per household"},
};
static const vocab_term_t t_survey_response_channel[] = {
    {"paper", "纸质问卷", "Paper form"},
    {"app", "业主App", "Resident app"},
    {"visit", "走访", "Visit"},
    {"integration", "系统对接", "Integration"},
};
static const vocab_term_t t_survey_followup_kind[] = {
    {"complaint", "转投诉", "Complaint opened"},
    {"callback", "回访", "Callback"},
};
static const vocab_term_t t_survey_followup_state[] = {
    {"opened", "已发起", "Opened"},
    {"pending", "待发起", "Pending"},
};
static const vocab_term_t t_visit_client_kind[] = {
    {"official", "政府部门", "Government official"},
    {"developer", "开发商", "Developer"},
    {"owners_committee", "业主委员会", "Owners' committee"},
    {"influential_owner", "有影响力的业主", "Influential owner"},
};
static const vocab_term_t t_mail_kind[] = {
    {"registered_letter", "挂号信", "Registered letter"},
    {"telegram", "电报", "Telegram"},
    {"money_order", "汇款单", "Money order"},
    {"parcel", "包裹", "Parcel"},
    {"express", "快递", "Express parcel"},
    {"magazine", "杂志", "Magazine"},
    {"newspaper", "报纸", "Newspaper"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_mail_state[] = {
    {"in_custody", "代收保管中", "In custody"},
    {"collected", "已领取", "Collected"},
    {"returned_to_sender", "已退回", "Returned to sender"},
    {"handed_to_other", "已转交", "Handed to someone else"},
};
static const vocab_term_t t_mail_action[] = {
    {"receive", "代收", "Received"},
    {"hand_over", "领取", "Handed over"},
    {"call", "通知领取", "Reminder call"},
    {"return_to_sender", "退回", "Returned to sender"},
    {"hand_to_other", "转交", "Handed to someone else"},
    {"correction", "更正", "Correction"},
    {"note", "备注", "Note"},
};
static const vocab_term_t t_lost_kind[] = {
    {"found_item", "拾遗物品", "Found item"},
    {"valuable_deposit", "贵重物品寄存", "Valuables deposit"},
};
static const vocab_term_t t_lost_state[] = {
    {"found", "已登记", "Found"},         {"held", "值班经理保管", "Held by the duty manager"},
    {"claimed", "已认领", "Claimed"},     {"handed_to_police", "已交公安", "Handed to the police"},
    {"deposited", "寄存中", "Deposited"}, {"returned", "已归还", "Returned"},
};
static const vocab_term_t t_lost_action[] = {
    {"register", "登记", "Registered"},
    {"deposit", "寄存", "Deposited"},
    {"receive", "接收保管", "Received for safekeeping"},
    {"claim", "认领", "Claimed"},
    {"hand_to_police", "移交公安", "Handed to the police"},
    {"return", "归还", "Returned"},
    {"correction", "更正", "Correction"},
    {"note", "备注", "Note"},
};
static const vocab_term_t t_archive_class[] = {
    {"official", "公文", "Official document"},
    {"ordinary", "一般档案", "Ordinary file"},
    {"confidential", "机密档案", "Confidential file"},
    {"personnel", "人事档案", "Personnel file"},
};
static const vocab_term_t t_archive_state[] = {
    {"active", "在库", "In the archive"},
    {"reading", "查阅中", "Being read"},
    {"loan_pending", "借出待签", "Loan awaiting signature"},
    {"on_loan", "借出", "On loan"},
    {"return_pending", "归还待签", "Return awaiting signature"},
    {"lost", "遗失", "Lost"},
    {"destroyed", "已销毁", "Destroyed"},
};
static const vocab_term_t t_archive_action[] = {
    {"register", "登记", "Registered"},
    {"read_approve", "批准查阅", "Reading approved"},
    {"read_start", "开始查阅", "Reading started"},
    {"read_end", "查阅结束", "Reading ended"},
    {"copy", "复印", "Copied"},
    {"loan", "借出", "Lent"},
    {"loan_sign", "借出签收", "Loan signed"},
    {"return", "归还", "Returned"},
    {"return_sign", "归还签收", "Return signed"},
    {"inventory", "盘点", "Inventory"},
    {"resolve_discrepancy", "差异处理", "Discrepancy resolved"},
    {"destroy_approve", "批准销毁", "Destruction approved"},
    {"destroy", "销毁", "Destroyed"},
    {"report_lost", "报失", "Reported lost"},
    {"correction", "更正", "Correction"},
    {"note", "备注", "Note"},
};
static const vocab_term_t t_destroy_method[] = {
    {"shred", "粉碎", "Shredded"},
    {"tear", "撕毁", "Torn up"},
};
static const vocab_term_t t_duty_post[] = {
    {"front_desk", "前台", "Front desk"},
    {"office", "办公室", "Office"},
    {"control_room", "监控中心", "Control room"},
};
static const vocab_term_t t_duty_log_kind[] = {
    {"event", "事件", "Event"},
    {"phone_record", "电话记录", "Phone record"},
    {"inspection", "巡查", "Inspection"},
    {"lighting", "开关灯", "Lighting"},
    {"instruction", "指示", "Instruction"},
    {"incident", "突发事件", "Incident"},
    {"note", "备注", "Note"},
};
static const vocab_term_t t_incident_kind[] = {
    {"fire", "火警", "Fire"},
    {"flood", "水浸", "Flood"},
    {"lift_entrapment", "电梯困人", "Lift entrapment"},
    {"gas", "燃气泄漏", "Gas"},
    {"theft_robbery", "盗窃/抢劫", "Theft or robbery"},
    {"fight", "打架斗殴", "Fight"},
    {"injury_illness", "受伤/急病", "Injury or illness"},
    {"power_water_cut", "停电/停水", "Power or water cut"},
    {"forced_entry", "强行入户", "Forced entry"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_handover_refusal[] = {
    {"open_emergency", "突发事件未处理完毕", "An emergency is still open"},
    {"open_major_complaint", "重大投诉未处理完毕", "A major complaint is still open"},
    {"open_incident", "特别事件报告未提交", "An incident report is still open"},
    {"equipment_transition", "重要设备正在启停", "Major equipment starting or stopping"},
    {"section_unconfirmed", "交接项目未确认", "A required section is unconfirmed"},
    {"incoming_unfit", "接班人员不宜上岗", "The incoming person is unfit"},
};
static const vocab_term_t t_handover_state[] = {
    {"draft", "草稿", "Draft"},
    {"submitted", "交班已签", "Submitted"},
    {"accepted", "接班已签", "Accepted"},
};
static const vocab_term_t t_handover_item_ref[] = {
    {"request", "服务请求", "Request"},
    {"work_order", "工单", "Work order"},
    {"incident", "特别事件", "Incident"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_handover_fault[] = {
    {"missing", "未交接", "Missing"},
    {"not_accepted", "未接班签字", "Not accepted"},
    {"late", "交接延误", "Late"},
};
static const vocab_term_t t_handover_night_desk_outcome[] = {
    {"handed_over", "已转交客服", "Handed over"},
    {"skipped", "未转交", "Skipped"},
};
static const vocab_term_t t_incident_state[] = {
    {"draft", "草稿", "Draft"},
    {"submitted", "已提交", "Submitted"},
    {"acknowledged", "已确认", "Acknowledged"},
};
static const vocab_term_t t_incident_service[] = {
    {"110", "110 报警", "Police (110)"},
    {"119", "119 火警", "Fire service (119)"},
    {"120", "120 急救", "Ambulance (120)"},
    {"lift_company", "电梯公司", "Lift company"},
};
static const vocab_term_t t_capa_kind[] = {
    {"corrective", "纠正措施", "Corrective action"},
    {"preventive", "预防措施", "Preventive action"},
    {"rectification", "整改", "Rectification"},
};
static const vocab_term_t t_capa_state[] = {
    {"open", "待分析", "Open"},
    {"measures_proposed", "措施已提出", "Measures proposed"},
    {"approved", "措施已批准", "Approved"},
    {"implementing", "实施中", "Implementing"},
    {"implemented", "已实施", "Implemented"},
    {"verified", "已验证有效", "Verified"},
    {"ineffective", "验证无效", "Ineffective"},
    {"cancelled", "已取消", "Cancelled"},
};
static const vocab_term_t t_capa_action[] = {
    {"propose", "提出措施", "Propose measures"},
    {"approve", "批准", "Approve"},
    {"start", "开始实施", "Start"},
    {"implement", "实施完成", "Implemented"},
    {"verify", "验证", "Verify"},
    {"cancel", "取消", "Cancel"},
    {"confirm", "客户确认", "Customer confirmation"},
    {"review", "会审", "Joint review"},
};
static const vocab_term_t t_patrol_kind[] = {
    {"quality", "品质巡检", "Quality"},
    {"building", "楼宇巡检", "Building"},
    {"vacant_units", "空置房巡检", "Vacant units"},
    {"night", "夜间巡检", "Night"},
};
static const vocab_term_t t_patrol_disposition[] = {
    {"fixed_on_spot", "现场整改", "Fixed on the spot"},
    {"rectification", "限期整改", "Rectification"},
    {"request", "转服务请求", "Service request"},
};
static const vocab_term_t t_patrol_slot[] = {
    {"upcoming", "未到时间", "Upcoming"},
    {"due", "应开始", "Due"},
    {"in_progress", "进行中", "In progress"},
    {"done", "已完成", "Done"},
    {"missed", "漏巡", "Missed"},
};
static const vocab_term_t t_capa_source_kind[] = {
    {"request", "服务请求", "Request"},
    {"survey_item", "调查项目", "Survey item"},
    {"department_below_target", "部门未达标", "Department below target"},
    {"visit", "走访记录", "Visit"},
    {"patrol_finding", "巡检发现", "Patrol finding"},
    {"other", "其他", "Other"},
};
static const vocab_term_t t_patrol_point[] = {
    {"cleaning.entrances", "清洁：出入口", "Cleaning: entrances"},
    {"cleaning.roads", "清洁：道路", "Cleaning: roads"},
    {"cleaning.corridors", "清洁：楼道", "Cleaning: corridors"},
    {"cleaning.car_parks", "清洁：停车场", "Cleaning: car parks"},
    {"cleaning.water_features", "清洁：水景", "Cleaning: water features"},
    {"cleaning.greenery", "绿化", "Greenery"},
    {"order.people_vehicles_goods", "秩序：人员车辆物品", "Order: people, vehicles, goods"},
    {"order.public_facilities", "秩序：公共设施使用", "Order: use of public facilities"},
    {"order.decoration", "秩序：装修", "Order: decoration"},
    {"order.illegal_building", "秩序：违章搭建", "Order: illegal building"},
    {"equipment.power", "公共设备：供电", "Equipment: power"},
    {"equipment.water", "公共设备：供水", "Equipment: water"},
    {"equipment.fire_linkage", "公共设备：消防联动", "Equipment: fire linkage"},
    {"vacant_units.safety", "空置单元：安全", "Vacant units: safety"},
    {"vacant_units.cleanliness", "空置单元：清洁", "Vacant units: cleanliness"},
    {"staff.appearance", "在岗人员：仪容仪表", "Staff: appearance"},
    {"staff.attitude", "在岗人员：服务态度", "Staff: attitude"},
    {"staff.discipline", "在岗人员：劳动纪律", "Staff: discipline"},
};
static const vocab_term_t t_patrol_round_state[] = {
    {"in_progress", "巡检中", "In progress"},
    {"finished", "已完成", "Finished"},
};
static const vocab_term_t t_patrol_coverage[] = {
    {"whole", "全面巡检", "Whole"},
    {"sampled", "抽查", "Sampled"},
};
static const vocab_term_t t_patrol_check_result[] = {
    {"ok", "正常", "OK"},
    {"finding", "有问题", "Finding"},
};
static const vocab_enum_t enums[] = {
    {"request_type", v_request_type, t_request_type, N(t_request_type)},
    {"request_channel", v_request_channel, t_request_channel, N(t_request_channel)},
    {"request_severity", v_request_severity, t_request_severity, N(t_request_severity)},
    {"request_category", v_request_category, t_request_category, N(t_request_category)},
    {"request_validity", NULL, t_request_validity, N(t_request_validity)},
    {"request_state", v_request_state, t_request_state, N(t_request_state)},
    {"pending_reason", v_request_pending_reason, t_pending_reason, N(t_pending_reason)},
    {"request_action", v_request_action, t_request_action, N(t_request_action)},
    {"location_kind", v_request_location_kind, t_location_kind, N(t_location_kind)},
    {"work_order_state", v_request_work_order_state, t_work_order_state, N(t_work_order_state)},
    {"decline_reason", v_decline_reason, t_decline_reason, N(t_decline_reason)},
    {"signer_kind", NULL, t_signer_kind, N(t_signer_kind)},
    {"visibility", NULL, t_visibility, N(t_visibility)},
    {"callback_rating", NULL, t_callback_rating, N(t_callback_rating)},
    {"callback_method", NULL, t_callback_method, N(t_callback_method)},
    {"callback_task_state", NULL, t_callback_task_state, N(t_callback_task_state)},
    {"callback_outcome", NULL, t_callback_outcome, N(t_callback_outcome)},
    {"callback_give_up_reason", NULL, t_callback_give_up_reason, N(t_callback_give_up_reason)},
    {"callback_task_kind", NULL, t_callback_task_kind, N(t_callback_task_kind)},
    {"callback_subject", NULL, t_callback_subject, N(t_callback_subject)},
    {"survey_rating", NULL, t_survey_rating, N(t_survey_rating)},
    {"survey_campaign_state", NULL, t_survey_campaign_state, N(t_survey_campaign_state)},
    {"survey_campaign_kind", NULL, t_survey_campaign_kind, N(t_survey_campaign_kind)},
    {"survey_cadence", NULL, t_survey_cadence, N(t_survey_cadence)},
    {"survey_distribution", NULL, t_survey_distribution, N(t_survey_distribution)},
    {"survey_response_channel", NULL, t_survey_response_channel, N(t_survey_response_channel)},
    {"survey_followup_kind", NULL, t_survey_followup_kind, N(t_survey_followup_kind)},
    {"survey_followup_state", NULL, t_survey_followup_state, N(t_survey_followup_state)},
    {"visit_client_kind", NULL, t_visit_client_kind, N(t_visit_client_kind)},
    {"role", v_role, t_role, N(t_role)},
    {"department_kind", v_dept_kind, t_department_kind, N(t_department_kind)},
    {"unit_status", NULL, t_unit_status, N(t_unit_status)},
    {"relation", NULL, t_relation, N(t_relation)},
    {"sla_target", v_sla_target, t_sla_target, N(t_sla_target)},
    {"sla_kind", NULL, t_sla_kind, N(t_sla_kind)},
    {"sla_clock_state", NULL, t_sla_clock_state, N(t_sla_clock_state)},
    {"sla_extension_state", NULL, t_sla_extension_state, N(t_sla_extension_state)},
    {"report_kind", NULL, t_report_kind, N(t_report_kind)},
    {"report_state", NULL, t_report_state, N(t_report_state)},
    {"webhook_delivery_state", NULL, t_webhook_delivery_state, N(t_webhook_delivery_state)},
    {"import_kind", NULL, t_import_kind, N(t_import_kind)},
    {"import_status", NULL, t_import_status, N(t_import_status)},
    {"file_encoding", NULL, t_file_encoding, N(t_file_encoding)},
    {"audit_result", NULL, t_audit_result, N(t_audit_result)},
    {"retention_kind", NULL, t_retention_kind, N(t_retention_kind)},
    {"custody_area", v_custody_area, t_custody_area, N(t_custody_area)},
    {"key_kind", v_key_kind, t_key_kind, N(t_key_kind)},
    {"key_state", v_key_state, t_key_state, N(t_key_state)},
    {"key_action", v_key_action, t_key_action, N(t_key_action)},
    {"counterparty_kind", NULL, t_counterparty_kind, N(t_counterparty_kind)},
    {"key_episode", NULL, t_key_episode, N(t_key_episode)},
    {"ledger_problem", NULL, t_ledger_problem, N(t_ledger_problem)},
    {"patrol_round_state", NULL, t_patrol_round_state, N(t_patrol_round_state)},
    {"patrol_coverage", NULL, t_patrol_coverage, N(t_patrol_coverage)},
    {"patrol_check_result", NULL, t_patrol_check_result, N(t_patrol_check_result)},
    {"patrol_point", v_patrol_point, t_patrol_point, N(t_patrol_point)},
    {"capa_kind", v_capa_kind, t_capa_kind, N(t_capa_kind)},
    {"capa_state", v_capa_state, t_capa_state, N(t_capa_state)},
    {"capa_action", v_capa_action, t_capa_action, N(t_capa_action)},
    {"patrol_kind", v_patrol_kind, t_patrol_kind, N(t_patrol_kind)},
    {"patrol_disposition", v_patrol_disposition, t_patrol_disposition, N(t_patrol_disposition)},
    {"patrol_slot", v_patrol_slot, t_patrol_slot, N(t_patrol_slot)},
    {"capa_source_kind", NULL, t_capa_source_kind, N(t_capa_source_kind)},
    {"duty_post", v_duty_post, t_duty_post, N(t_duty_post)},
    {"duty_log_kind", v_duty_log_kind, t_duty_log_kind, N(t_duty_log_kind)},
    {"incident_kind", v_incident_kind, t_incident_kind, N(t_incident_kind)},
    {"handover_refusal", v_handover_refusal, t_handover_refusal, N(t_handover_refusal)},
    {"handover_state", NULL, t_handover_state, N(t_handover_state)},
    {"handover_item_ref", NULL, t_handover_item_ref, N(t_handover_item_ref)},
    {"handover_fault", NULL, t_handover_fault, N(t_handover_fault)},
    {"handover_night_desk_outcome", NULL, t_handover_night_desk_outcome,
     N(t_handover_night_desk_outcome)},
    {"incident_state", NULL, t_incident_state, N(t_incident_state)},
    {"incident_service", NULL, t_incident_service, N(t_incident_service)},
    {"mail_kind", v_mail_kind, t_mail_kind, N(t_mail_kind)},
    {"mail_state", v_mail_state, t_mail_state, N(t_mail_state)},
    {"mail_action", v_mail_action, t_mail_action, N(t_mail_action)},
    {"lost_kind", v_lost_kind, t_lost_kind, N(t_lost_kind)},
    {"lost_state", v_lost_state, t_lost_state, N(t_lost_state)},
    {"lost_action", v_lost_action, t_lost_action, N(t_lost_action)},
    {"archive_class", v_archive_class, t_archive_class, N(t_archive_class)},
    {"archive_state", v_archive_state, t_archive_state, N(t_archive_state)},
    {"archive_action", v_archive_action, t_archive_action, N(t_archive_action)},
    {"destroy_method", v_destroy_method, t_destroy_method, N(t_destroy_method)},
    {"register_field", v_register_field, t_register_field, N(t_register_field)},
    {"register_form", v_register_form, t_register_form, N(t_register_form)},
    {"tenancy_use", v_tenancy_use, t_tenancy_use, N(t_tenancy_use)},
    {"tenancy_state", NULL, t_tenancy_state, N(t_tenancy_state)},
    {"id_document_type", v_tenancy_id_type, t_id_document_type, N(t_id_document_type)},
    {"tenancy_side", NULL, t_tenancy_side, N(t_tenancy_side)},
};

const vocab_enum_t *core_vocab_enums(size_t *n)
{
    *n = N(enums);
    return enums;
}

const vocab_enum_t *core_vocab_find(const char *name)
{
    for (size_t i = 0; name && i < N(enums); i++)
        if (!strcmp(enums[i].name, name))
            return &enums[i];
    return NULL;
}

const char *core_vocab_value(const vocab_enum_t *e, size_t i)
{
    if (e->core_value)
        return i < 1000 ? e->core_value((int)i) : NULL;
    return i < e->nterms ? e->terms[i].value : NULL;
}

const vocab_term_t *core_vocab_term(const vocab_enum_t *e, const char *value)
{
    for (size_t i = 0; value && i < e->nterms; i++)
        if (!strcmp(e->terms[i].value, value))
            return &e->terms[i];
    return NULL;
}
