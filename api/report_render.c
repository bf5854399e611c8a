/*
 * api/report_render.c — the month's summary as the paper form: CSV (UTF-8 with BOM, CRLF,
 * the form's zh-CN headers) and a printable HTML page (KPI table, inline SVG charts, the
 * 投诉月度汇总表).  Input is the summary JSON api/report.c built (phones already masked).
 */
#include "api/report_render.h"
#include "core/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const form_cols[][2] = {
    {"seq", "序号"},
    {"date", "投诉日期"},
    {"complainant", "投诉人"},
    {"phone", "联系电话"},
    {"content", "投诉内容"},
    {"receiver", "受理人"},
    {"department", "处理部门"},
    {"result", "处理结果"},
    {"callback_opinion", "投诉人回访意见"},
    {"remarks", "备注"},
};
#define NCOLS (sizeof form_cols / sizeof form_cols[0])

const char *report_str(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* A JSON string as cJSON's print_string_ptr writes it. */
static void json_str(report_buf_t *b, const char *s)
{
    core_report_buf_add(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)nz(s), *run = p;
    for (; *p; p++) {
        if (*p >= 32 && *p != '"' && *p != '\\')
            continue;
        core_report_buf_add(b, (const char *)run, (size_t)(p - run));
        switch (*p) {
        case '"':
            core_report_buf_add(b, "\\\"", 2);
            break;
        case '\\':
            core_report_buf_add(b, "\\\\", 2);
            break;
        case '\b':
            core_report_buf_add(b, "\\b", 2);
            break;
        case '\f':
            core_report_buf_add(b, "\\f", 2);
            break;
        case '\n':
            core_report_buf_add(b, "\\n", 2);
            break;
        case '\r':
            core_report_buf_add(b, "\\r", 2);
            break;
        case '\t':
            core_report_buf_add(b, "\\t", 2);
            break;
        default:
            core_report_buf_printf(b, "\\u%04x", *p);
            break;
        }
        run = p + 1;
    }
    core_report_buf_add(b, (const char *)run, (size_t)(p - run));
    core_report_buf_add(b, "\"", 1);
}

void report_row_json(report_buf_t *b, const report_form_row_t *w, int first)
{
    const char *const kv[][2] = {
        {"request_id", w->request_id},
        {"number", w->number},
        {"date", w->date},
        {"complainant", w->complainant},
        {"phone", w->phone},
        {"content", w->content},
        {"receiver", w->receiver},
        {"department", w->department},
        {"result", w->result},
        {"callback_opinion", w->callback_opinion},
        {"remarks", w->remarks},
    };
    core_report_buf_printf(b, "%s{\"seq\":%d", first ? "" : ",", w->seq);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        core_report_buf_printf(b, ",\"%s\":", kv[i][0]);
        json_str(b, kv[i][1]);
    }
    core_report_buf_add(b, "}", 1);
}

/* The row's values in form_cols order after 序号. */
static void form_values(const report_form_row_t *w, const char *v[NCOLS - 1])
{
    v[0] = w->date;
    v[1] = w->complainant;
    v[2] = w->phone;
    v[3] = w->content;
    v[4] = w->receiver;
    v[5] = w->department;
    v[6] = w->result;
    v[7] = w->callback_opinion;
    v[8] = w->remarks;
}

void report_row_csv(report_buf_t *b, const report_form_row_t *w)
{
    const char *v[NCOLS - 1];
    form_values(w, v);
    core_report_buf_printf(b, "%d", w->seq);
    for (size_t i = 0; i < NCOLS - 1; i++) {
        core_report_buf_add(b, ",", 1);
        core_report_csv_field(b, v[i]);
    }
    core_report_buf_add(b, "\r\n", 2);
}

void report_row_html(report_buf_t *b, const report_form_row_t *w)
{
    const char *v[NCOLS - 1];
    form_values(w, v);
    core_report_buf_printf(b, "<tr><td>%d</td>", w->seq);
    for (size_t i = 0; i < NCOLS - 1; i++) {
        core_report_buf_puts(b, "<td>");
        core_report_html(b, v[i]);
        core_report_buf_puts(b, "</td>");
    }
    core_report_buf_puts(b, "</tr>");
}

/* A row of a stored summary (a cJSON object). */
static void row_from_json(const cJSON *o, report_form_row_t *w)
{
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
    w->seq = cJSON_IsNumber(seq) ? (int)seq->valuedouble : 0;
    w->request_id = report_str(o, "request_id");
    w->number = report_str(o, "number");
    w->date = report_str(o, "date");
    w->complainant = report_str(o, "complainant");
    w->phone = report_str(o, "phone");
    w->content = report_str(o, "content");
    w->receiver = report_str(o, "receiver");
    w->department = report_str(o, "department");
    w->result = report_str(o, "result");
    w->callback_opinion = report_str(o, "callback_opinion");
    w->remarks = report_str(o, "remarks");
}

char *report_render_csv(const cJSON *s, const report_buf_t *rows, size_t *len)
{
    report_buf_t b = {0};
    core_report_buf_add(&b, "\xEF\xBB\xBF", 3);
    for (size_t i = 0; i < NCOLS; i++) {
        if (i)
            core_report_buf_add(&b, ",", 1);
        core_report_csv_field(&b, form_cols[i][1]);
    }
    core_report_buf_add(&b, "\r\n", 2);
    if (rows) {
        core_report_buf_add(&b, rows->s ? rows->s : "", rows->len);
    } else {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "rows"))
        {
            report_form_row_t w;
            row_from_json(it, &w);
            report_row_csv(&b, &w);
        }
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}

static double num(const cJSON *o, const char *a, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *category_zh(const char *k)
{
    static const char *const t[][2] = {{"attitude", "服务态度"},
                                       {"timeliness", "服务时效"},
                                       {"quality", "服务质量"},
                                       {"service_range", "服务范围"},
                                       {"developer_legacy", "开发遗留"},
                                       {"fees", "收费"},
                                       {"other", "其他"},
                                       {"none", "未分类"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(k, t[i][0]))
            return t[i][1];
    return k;
}

/* <head> with the print styles, the title and the line naming month, project, zone and
 * version. */
static void html_head(report_buf_t *b, const cJSON *s, const char *month, const cJSON *meta)
{
    int y = 0, m = 0;
    core_report_parse_month(month, &y, &m);
    const char *pname = report_str(s, "project_name");
    core_report_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                            "<title>投诉月度汇总表 — ");
    core_report_html(b, pname);
    core_report_buf_printf(b, " %d年%d月</title>", y, m);
    core_report_buf_puts(
        b, "<style>body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;"
           "margin:24px;color:#111}h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;"
           "margin:18px 0 6px}table{border-collapse:collapse;width:100%;font-size:12px}"
           "th,td{border:1px solid #555;padding:3px 5px;vertical-align:top;text-align:left}"
           "th{background:#e8eef5}.meta{font-size:12px;color:#333}.charts{display:flex;"
           "flex-wrap:wrap;gap:16px}.kpi td.n{text-align:right}"
           "@page{size:A4 landscape;margin:12mm}@media print{body{margin:0}"
           "h2{break-after:avoid}tr{break-inside:avoid}.charts{break-inside:avoid}}"
           "</style></head><body>");
    core_report_buf_puts(b, "<h1>投诉月度汇总表</h1><p class=\"meta\">月份：");
    core_report_buf_printf(b, "%d年%d月 · 项目：", y, m);
    core_report_html(b, pname);
    core_report_buf_puts(b, " · 统计口径：按受理时间（");
    core_report_html(b, report_str(s, "time_zone"));
    core_report_buf_puts(b, "） · 数据截至 ");
    core_report_html(b, report_str(s, "as_of"));
    if (meta) {
        core_report_buf_printf(
            b, " · 版本 %d（%s）",
            (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meta, "version")),
            !strcmp(report_str(meta, "state"), "submitted") ? "已提交" : "草稿");
    }
    core_report_buf_puts(b, "</p>");
}

/* The counts and the KPI table (RULES §3.11 targets in the labels). */
static void html_kpis(report_buf_t *b, const cJSON *s)
{
    static const char *const kz[][2] = {
        {"resolution_rate", "解决率（目标≥90%）"},
        {"in_time_rate", "按时解决率"},
        {"first_response_met_rate", "5分钟内首次响应率"},
        {"complaint_handling_rate", "有效投诉处理率（目标100%）"},
        {"complaint_callback_rate", "投诉回访率（目标100%）"},
        {"repair_callback_rate", "维修回访率（目标100%）"},
        {"callback_satisfaction", "回访满意率（非常满意+满意）"},
        {"reopen_rate", "重开率"},
        {"rework_rate", "维修返修率（30天）"},
        {"refused_work_order_rate", "拒绝接单率"},
    };
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(s, "overall");
    core_report_buf_printf(b,
                           "<h2>统计</h2><table class=\"kpi\"><tr><th>受理总数</th><td class=n>%.0f"
                           "</td><th>投诉</th><td class=n>%.0f</td><th>有效投诉</th><td "
                           "class=n>%.0f</td><th>已解决</th><td class=n>%.0f</td></tr>",
                           num(ov, "counts", "total"), num(ov, "counts", "complaints"),
                           num(ov, "counts", "valid_complaints"), num(ov, "counts", "resolved"));
    for (size_t i = 0; i < sizeof kz / sizeof kz[0]; i++) {
        if (i % 2 == 0)
            core_report_buf_puts(b, "<tr>");
        double v = num(ov, "kpis", kz[i][0]);
        core_report_buf_puts(b, "<th colspan=3>");
        core_report_buf_puts(b, kz[i][1]);
        if (v < 0)
            core_report_buf_puts(b, "</th><td class=n>—</td>");
        else
            core_report_buf_printf(b, "</th><td class=n>%.1f%%</td>", v * 100);
        if (i % 2 == 1)
            core_report_buf_puts(b, "</tr>");
    }
    double afr = num(ov, "kpis", "avg_first_response_seconds"),
           ars = num(ov, "kpis", "avg_resolution_seconds");
    core_report_buf_puts(b, "<tr><th colspan=3>平均首次响应时间</th><td class=n>");
    if (afr < 0)
        core_report_buf_puts(b, "—");
    else
        core_report_buf_printf(b, "%.1f 分钟", afr / 60);
    core_report_buf_puts(b, "</td><th colspan=3>平均解决时间</th><td class=n>");
    if (ars < 0)
        core_report_buf_puts(b, "—");
    else
        core_report_buf_printf(b, "%.1f 小时", ars / 3600);
    core_report_buf_puts(b, "</td></tr></table>");
}

/* Complaints by category and by department, in-time rate by week. */
static void html_charts(report_buf_t *b, const cJSON *s)
{
    core_report_buf_puts(b, "<h2>图表</h2><div class=\"charts\">");
    {
        const char *labels[16];
        double vals[16];
        size_t n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
                                   cJSON_GetObjectItemCaseSensitive(s, "totals"), "by_category"))
        {
            if (n < 16) {
                labels[n] = category_zh(it->string);
                vals[n++] = it->valuedouble;
            }
        }
        core_report_svg_bars(b, "按类别（全部受理）", labels, vals, n, 0, 0);
        n = 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "departments"))
        {
            if (n < 16) {
                labels[n] = report_str(it, "name");
                vals[n++] = num(it, "counts", "complaints");
            }
        }
        core_report_svg_bars(b, "各部门投诉数", labels, vals, n, 0, 0);
        n = 0;
        char wl[6][32];
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "buckets"))
        {
            if (n < 6) {
                snprintf(wl[n], sizeof wl[n], "%.5s–%.5s", report_str(it, "first_day") + 5,
                         report_str(it, "last_day") + 5);
                labels[n] = wl[n];
                vals[n++] = num(it, "kpis", "in_time_rate");
            }
        }
        core_report_svg_bars(b, "按周按时解决率", labels, vals, n, 1, 1);
    }
    core_report_buf_puts(b, "</div>");
}

/* One figure of summary.sections (path a.b), "—" when absent or null; pct: a fraction
 * shown as a percentage. */
static void sec_cell(report_buf_t *b, const cJSON *sec, const char *a, const char *k, int pct)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sec, a), k);
    if (!cJSON_IsNumber(v))
        core_report_buf_puts(b, "<td class=n>—</td>");
    else if (pct)
        core_report_buf_printf(b, "<td class=n>%.1f%%</td>", v->valuedouble * 100);
    else
        core_report_buf_printf(b, "<td class=n>%.0f</td>", v->valuedouble);
}

/* The month's sections beside requests (callback tasks, surveys, corrective actions,
 * custody, duty, refusals), when the summary has them. */
static void html_sections(report_buf_t *b, const cJSON *s)
{
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(s, "sections");
    if (!cJSON_IsObject(sec))
        return;
    static const struct {
        const char *group, *label, *a, *k;
        int pct;
    } f[] = {
        {"回访任务", "应回访", "callbacks", "needing", 0},
        {NULL, "已回访", "callbacks", "called_back", 0},
        {NULL, "回访率", "callbacks", "callback_rate", 1},
        {NULL, "满意率（非常满意+满意）", "callbacks", "satisfaction", 1},
        {"满意度调查", "本月出报告的调查满意率（基本满意及以上）", "surveys", "satisfaction", 1},
        {"纠正措施", "新开", "corrective_actions", "opened", 0},
        {NULL, "关闭（验证）", "corrective_actions", "closed", 0},
        {NULL, "逾期未完成", "corrective_actions", "overdue", 0},
        {"物品保管", "钥匙逾期未还", "custody", "keys_overdue", 0},
        {NULL, "邮件逾期未取", "custody", "mail_uncollected", 0},
        {NULL, "拾遗逾期无人认领", "custody", "found_unclaimed", 0},
        {"值班", "交接班（计划）", "duty", "handovers_planned", 0},
        {NULL, "交接班迟交", "duty", "handovers_late", 0},
        {NULL, "交接班缺失", "duty", "handovers_missing", 0},
        {NULL, "事件报告", "duty", "incident_reports", 0},
        {NULL, "事件报告迟交", "duty", "incident_reports_late", 0},
        {"拒绝接单", "次数", "refusals", "total", 0},
    };
    core_report_buf_puts(b, "<h2>其他指标</h2><table class=\"kpi sections\">");
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        core_report_buf_puts(b, "<tr><th>");
        core_report_buf_puts(b, f[i].group ? f[i].group : "");
        core_report_buf_printf(b, "</th><th>%s</th>", f[i].label);
        sec_cell(b, sec, f[i].a, f[i].k, f[i].pct);
        core_report_buf_puts(b, "</tr>");
    }
    core_report_buf_puts(b, "</table>");
}

/* The form itself, one row a complaint. */
static void html_form(report_buf_t *b, const cJSON *s, const report_buf_t *rows)
{
    core_report_buf_puts(b, "<h2>投诉月度汇总表</h2><table class=\"form\"><thead><tr>");
    for (size_t i = 0; i < NCOLS; i++)
        core_report_buf_printf(b, "<th>%s</th>", form_cols[i][1]);
    core_report_buf_puts(b, "</tr></thead><tbody>");
    if (rows) {
        core_report_buf_add(b, rows->s ? rows->s : "", rows->len);
    } else {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "rows"))
        {
            report_form_row_t w;
            row_from_json(it, &w);
            report_row_html(b, &w);
        }
    }
    core_report_buf_puts(b, "</tbody></table></body></html>\n");
}

char *report_render_html(const cJSON *s, const report_buf_t *rows, const char *month,
                         const cJSON *meta)
{
    report_buf_t b = {0};
    html_head(&b, s, month, meta);
    html_kpis(&b, s);
    html_charts(&b, s);
    html_sections(&b, s);
    html_form(&b, s, rows);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
