/*
 * core/report.c — see core/report.h.  Periods are computed from a project's zone rules
 * (core/tz.c), KPIs from the counts db/report.c aggregates; nothing here reads a clock.
 */
#include "core/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- periods */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int core_report_parse_month(const char *s, int *y, int *m)
{
    if (!s || strlen(s) != 7 || s[4] != '-' || digits(s, 4, y) || digits(s + 5, 2, m))
        return -1;
    return *y >= 2000 && *y <= 2999 && *m >= 1 && *m <= 12 ? 0 : -1;
}

int core_report_parse_date(const char *s, int64_t *days)
{
    int y, m, d;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
        digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
        return -1;
    if (y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int64_t n = core_days_from_civil(y, m, d);
    int64_t yy;
    int mm, dd;
    core_civil_from_days(n, &yy, &mm, &dd);
    if (mm != m || dd != d) /* 2026-02-30 */
        return -1;
    *days = n;
    return 0;
}

int64_t core_report_local_midnight(const tz_rules_t *tz, int64_t days)
{
    return core_tz_local_to_utc(tz, days * 86400);
}

static void next_month(int y, int m, int *ny, int *nm)
{
    *ny = m == 12 ? y + 1 : y;
    *nm = m == 12 ? 1 : m + 1;
}

void core_report_month_bounds(const tz_rules_t *tz, int y, int m, int64_t *from, int64_t *to)
{
    int ny, nm;
    next_month(y, m, &ny, &nm);
    *from = core_report_local_midnight(tz, core_days_from_civil(y, m, 1));
    *to = core_report_local_midnight(tz, core_days_from_civil(ny, nm, 1));
}

int64_t core_report_due_at(const tz_rules_t *tz, int y, int m)
{
    int ny, nm;
    next_month(y, m, &ny, &nm);
    return core_report_local_midnight(tz, core_days_from_civil(ny, nm, 5));
}

void core_report_month_of(const tz_rules_t *tz, int64_t t, int *y, int *m)
{
    int64_t yy;
    int d;
    core_civil_from_days(core_floor_div(core_tz_utc_to_local(tz, t), 86400), &yy, m, &d);
    *y = (int)yy;
}

void core_report_month_minus(int y, int m, int n, int *oy, int *om)
{
    int idx = y * 12 + (m - 1) - n;
    *oy = idx / 12;
    *om = idx % 12 + 1;
}

int core_report_month_weeks(const tz_rules_t *tz, int y, int m, int64_t bounds[6])
{
    int64_t from, to;
    core_report_month_bounds(tz, y, m, &from, &to);
    int ny, nm;
    next_month(y, m, &ny, &nm);
    int64_t first = core_days_from_civil(y, m, 1);
    int ndays = (int)(core_days_from_civil(ny, nm, 1) - first);
    int n = 0;
    for (int d = 0; d < ndays && n < 5; d += 7)
        bounds[n++] = core_report_local_midnight(tz, first + d);
    bounds[n] = to;
    return n;
}

void core_report_local_date(const tz_rules_t *tz, int64_t t, char out[11])
{
    int64_t y;
    int m, d;
    core_civil_from_days(core_floor_div(core_tz_utc_to_local(tz, t), 86400), &y, &m, &d);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(y % 10000), (unsigned)m % 100u,
             (unsigned)d % 100u);
}

/* ---------------------------------------------------------------- counts and KPIs */

#define F(x)                                                                                       \
    {                                                                                              \
#x, offsetof(report_counts_t, x), 0                                                        \
    }
#define W(x)                                                                                       \
    {                                                                                              \
#x, offsetof(report_counts_t, x), 1                                                        \
    }
const report_count_field_t core_report_count_fields[] = {
    F(total),
    F(complaints),
    F(valid_complaints),
    F(valid_complaints_handled),
    F(resolved),
    F(resolved_with_due),
    F(resolved_in_time),
    F(first_response_n),
    F(first_response_met),
    W(first_response_sum_s),
    W(resolution_sum_s),
    F(complaint_callback_due),
    F(complaint_callback_done),
    F(repair_callback_due),
    F(repair_callback_done),
    F(callback_rated),
    F(callback_satisfied),
    F(survey_returned),
    F(survey_satisfied),
    F(reopened),
    F(repairs_at_unit),
    F(rework),
    F(work_orders),
    F(refused_work_orders),
};
#undef F
#undef W
const size_t core_report_count_nfields =
    sizeof core_report_count_fields / sizeof core_report_count_fields[0];

static const struct {
    const char *name;
    double target;
} kpis[KPI__COUNT] = {
    [KPI_RESOLUTION_RATE] = {"resolution_rate", 0.9},
    [KPI_IN_TIME_RATE] = {"in_time_rate", -1},
    [KPI_FIRST_RESPONSE_MET_RATE] = {"first_response_met_rate", -1},
    [KPI_AVG_FIRST_RESPONSE_S] = {"avg_first_response_seconds", 300},
    [KPI_AVG_RESOLUTION_S] = {"avg_resolution_seconds", -1},
    [KPI_COMPLAINT_HANDLING_RATE] = {"complaint_handling_rate", 1.0},
    [KPI_COMPLAINT_CALLBACK_RATE] = {"complaint_callback_rate", 1.0},
    [KPI_REPAIR_CALLBACK_RATE] = {"repair_callback_rate", 1.0},
    [KPI_CALLBACK_SATISFACTION] = {"callback_satisfaction", -1},
    [KPI_SURVEY_SATISFACTION] = {"survey_satisfaction", -1},
    [KPI_REOPEN_RATE] = {"reopen_rate", -1},
    [KPI_REWORK_RATE] = {"rework_rate", -1},
    [KPI_REFUSED_WORK_ORDER_RATE] = {"refused_work_order_rate", -1},
};

const char *core_report_kpi_name(report_kpi_t k)
{
    return (unsigned)k < KPI__COUNT ? kpis[k].name : "unknown";
}

double core_report_kpi_target(report_kpi_t k)
{
    return (unsigned)k < KPI__COUNT ? kpis[k].target : -1;
}

static report_ratio_t ratio(double num, double den, double scale)
{
    report_ratio_t r = {0, 0};
    if (den > 0) {
        r.defined = 1;
        r.value = round(num / den * scale) / scale;
    }
    return r;
}

void core_report_kpis(const report_counts_t *c, report_ratio_t out[KPI__COUNT])
{
    const double R = 10000, A = 10;
    out[KPI_RESOLUTION_RATE] = ratio(c->resolved, c->total, R);
    out[KPI_IN_TIME_RATE] = ratio(c->resolved_in_time, c->resolved_with_due, R);
    out[KPI_FIRST_RESPONSE_MET_RATE] = ratio(c->first_response_met, c->first_response_n, R);
    out[KPI_AVG_FIRST_RESPONSE_S] = ratio((double)c->first_response_sum_s, c->first_response_n, A);
    out[KPI_AVG_RESOLUTION_S] = ratio((double)c->resolution_sum_s, c->resolved, A);
    out[KPI_COMPLAINT_HANDLING_RATE] = ratio(c->valid_complaints_handled, c->valid_complaints, R);
    out[KPI_COMPLAINT_CALLBACK_RATE] =
        ratio(c->complaint_callback_done, c->complaint_callback_due, R);
    out[KPI_REPAIR_CALLBACK_RATE] = ratio(c->repair_callback_done, c->repair_callback_due, R);
    out[KPI_CALLBACK_SATISFACTION] = ratio(c->callback_satisfied, c->callback_rated, R);
    out[KPI_SURVEY_SATISFACTION] = ratio(c->survey_satisfied, c->survey_returned, R);
    out[KPI_REOPEN_RATE] = ratio(c->reopened, c->total, R);
    out[KPI_REWORK_RATE] = ratio(c->rework, c->repairs_at_unit, R);
    out[KPI_REFUSED_WORK_ORDER_RATE] = ratio(c->refused_work_orders, c->work_orders, R);
}

/* ---------------------------------------------------------------- per-request rules */

int core_report_first_response_met(int64_t received_at, int64_t first_staff_at)
{
    if (first_staff_at < 0)
        return -1;
    return first_staff_at <= received_at + CORE_REPORT_FIRST_RESPONSE_S;
}

int core_report_in_time(int64_t resolved_at, int64_t due_resolution)
{
    if (resolved_at < 0 || due_resolution < 0)
        return -1;
    return resolved_at <= due_resolution;
}

int core_report_is_rework(int64_t prev_received_at, int64_t received_at)
{
    return prev_received_at >= 0 &&
           received_at - prev_received_at <= (int64_t)CORE_REPORT_REWORK_WINDOW_H * 3600;
}

/* ---------------------------------------------------------------- labels */

static const struct {
    const char *code, *label;
    int satisfied;
} ratings[] = {
    {"very_satisfied", "非常满意", 1},
    {"satisfied", "满意", 1},
    {"average", "一般", 0},
    {"neutral", "一般", 0}, /* the callback tasks' code (core/callback.h) */
    {"dissatisfied", "不满意", 0},
    {"very_dissatisfied", "极不满意", 0},
};

static int rating_index(const char *r)
{
    if (!r)
        return -1;
    for (size_t i = 0; i < sizeof ratings / sizeof ratings[0]; i++)
        if (!strcmp(r, ratings[i].code) || !strcmp(r, ratings[i].label))
            return (int)i;
    return -1;
}

const char *core_report_rating_label(const char *rating)
{
    int i = rating_index(rating);
    return i < 0 ? NULL : ratings[i].label;
}

int core_report_rating_satisfied(const char *rating)
{
    int i = rating_index(rating);
    return i < 0 ? -1 : ratings[i].satisfied;
}

const char *core_report_severity_label(const char *s)
{
    if (!s)
        return NULL;
    return !strcmp(s, "major")       ? "严重"
           : !strcmp(s, "important") ? "重要"
           : !strcmp(s, "general")   ? "一般"
                                     : NULL;
}

/* ---------------------------------------------------------------- text */

void core_report_buf_add(report_buf_t *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void core_report_buf_puts(report_buf_t *b, const char *s)
{
    if (s)
        core_report_buf_add(b, s, strlen(s));
}

void core_report_buf_printf(report_buf_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        core_report_buf_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    core_report_buf_add(b, big, (size_t)n);
    free(big);
}

void core_report_csv_field(report_buf_t *b, const char *s)
{
    if (!s || !*s)
        return;
    int formula = strchr("=+-@", s[0]) != NULL;
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        core_report_buf_puts(b, s);
        return;
    }
    core_report_buf_add(b, "\"", 1);
    if (formula)
        core_report_buf_add(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            core_report_buf_add(b, "\"\"", 2);
        else
            core_report_buf_add(b, p, 1);
    }
    core_report_buf_add(b, "\"", 1);
}

void core_report_html(report_buf_t *b, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        core_report_buf_add(b, run, (size_t)(p - run));
        core_report_buf_puts(b, rep);
        run = p + 1;
    }
    core_report_buf_puts(b, run);
}

void core_report_callback_opinion(report_buf_t *b, const char *rating, int satisfied,
                                  const char *note)
{
    size_t start = b->len;
    const char *label = core_report_rating_label(rating);
    if (label)
        core_report_buf_puts(b, label);
    else if (rating && *rating)
        core_report_buf_puts(b, rating);
    else if (satisfied >= 0)
        core_report_buf_puts(b, satisfied ? "满意" : "不满意");
    if (note && *note) {
        if (b->len > start)
            core_report_buf_puts(b, "：");
        core_report_buf_puts(b, note);
    }
}

void core_report_remarks(report_buf_t *b, const char *severity, const char *validity,
                         int reopen_count, int overdue)
{
    const char *sev = core_report_severity_label(severity);
    core_report_buf_puts(b, sev ? sev : "一般");
    const char *v = validity ? validity : "";
    core_report_buf_puts(b, !strcmp(v, "invalid") ? "；无效"
                            : !strcmp(v, "valid") ? "；有效"
                                                  : "；待定");
    if (reopen_count > 0)
        core_report_buf_printf(b, "；重开%d次", reopen_count);
    if (overdue)
        core_report_buf_puts(b, "；超时");
}

void core_report_mask_phone(const char *phone, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    if (!phone)
        return;
    size_t n = strlen(phone), k = 0;
    for (size_t i = 0; i < n && k + 1 < outlen; i++) {
        int keep = n > 7 && (i < 3 || i >= n - 4);
        out[k++] = keep ? phone[i] : '*';
    }
    out[k] = '\0';
}

void core_report_svg_bars(report_buf_t *b, const char *title, const char *const *labels,
                          const double *values, size_t n, double max_value, int percent)
{
    const int label_w = 150, bar_w = 380, row_h = 26, top = 30;
    if (max_value <= 0)
        for (size_t i = 0; i < n; i++)
            if (values[i] > max_value)
                max_value = values[i];
    int h = top + (int)n * row_h + 10;
    core_report_buf_printf(b,
                           "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                           "role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
                           label_w + bar_w + 80, h, label_w + bar_w + 80, h);
    core_report_buf_puts(b, "<title>");
    core_report_html(b, title);
    core_report_buf_puts(b, "</title><text x=\"0\" y=\"18\" font-size=\"14\" "
                            "font-weight=\"bold\">");
    core_report_html(b, title);
    core_report_buf_puts(b, "</text>");
    for (size_t i = 0; i < n; i++) {
        int y = top + (int)i * row_h;
        double v = values[i];
        int w = v > 0 && max_value > 0 ? (int)lround(v / max_value * bar_w) : 0;
        core_report_buf_printf(b,
                               "<text x=\"%d\" y=\"%d\" font-size=\"12\" "
                               "text-anchor=\"end\">",
                               label_w - 6, y + 16);
        core_report_html(b, labels[i]);
        core_report_buf_printf(b,
                               "</text><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" "
                               "height=\"%d\" fill=\"#3b6ea5\"/><text x=\"%d\" y=\"%d\" "
                               "font-size=\"12\">",
                               label_w, y + 4, w, row_h - 8, label_w + w + 6, y + 16);
        if (percent && v < 0)
            core_report_buf_puts(b, "—");
        else if (percent)
            core_report_buf_printf(b, "%.1f%%", v * 100);
        else
            core_report_buf_printf(b, "%.0f", v);
        core_report_buf_puts(b, "</text>");
    }
    core_report_buf_puts(b, "</svg>");
}
