/*
 * core/report.h — the arithmetic of reports (RULES §3.11): report periods in a project's
 * time zone (months, weeks, days; the monthly report's due instant), the KPIs computed from
 * counts (each a numerator over a denominator, undefined when the denominator is 0), phone
 * masking, and the text helpers the CSV and printable HTML renderings need (CSV and HTML
 * escaping, inline SVG bar charts).  Pure: no I/O, no clock reads.
 */
#ifndef CORE_REPORT_H
#define CORE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/tz.h"

/* ---- periods ---- */

/* Parses "YYYY-MM" (year 2000..2999, month 01..12).  0 / -1. */
int core_report_parse_month(const char *s, int *y, int *m);
/* Parses "YYYY-MM-DD" (a real calendar date, year 2000..2999) into a day number
 * (days since 1970-01-01).  0 / -1. */
int core_report_parse_date(const char *s, int64_t *days);
/* The instant local midnight of day number `days` begins, in zone tz. */
int64_t core_report_local_midnight(const tz_rules_t *tz, int64_t days);
/* The month y-m as the half-open UTC interval [*from, *to) of its local days. */
void core_report_month_bounds(const tz_rules_t *tz, int y, int m, int64_t *from, int64_t *to);
/* The monthly report's due instant: the end of the 4th local day of the next month (so
 * it is "before the 5th", 001 "次月五日前"), i.e. local midnight starting the 5th. */
int64_t core_report_due_at(const tz_rules_t *tz, int y, int m);
/* The local month that contains instant t. */
void core_report_month_of(const tz_rules_t *tz, int64_t t, int *y, int *m);
/* The month n months before y-m (n >= 0). */
void core_report_month_minus(int y, int m, int n, int *oy, int *om);
/* Week buckets of a month for the in-time chart: local days 1–7, 8–14, 15–21, 22–28 and
 * 29–end (4 or 5 buckets).  Writes the bucket start instants and the month end into
 * bounds[0..n] and returns n (the number of buckets). */
int core_report_month_weeks(const tz_rules_t *tz, int y, int m, int64_t bounds[6]);
/* Local date "YYYY-MM-DD" of instant t into out (11 bytes). */
void core_report_local_date(const tz_rules_t *tz, int64_t t, char out[11]);

/* ---- counts and KPIs ---- */

/* What the database counts for one group of requests (a period's population, a
 * department's, a staff member's).  Which requests are counted and the exact condition of
 * each counter are written in openapi.yaml (ReportKpis) and db/report.c. */
typedef struct report_counts {
    long total;                    /* requests received in the period */
    long complaints;               /* of which type complaint */
    long valid_complaints;         /* complaints not judged invalid (unknown counts as valid) */
    long valid_complaints_handled; /* valid complaints resolved or closed (any final state) */
    long resolved;                 /* resolved (resolved_at set) */
    long resolved_with_due;        /* resolved and a resolution clock ran */
    long resolved_in_time;         /* resolved at or before the resolution due time */
    long first_response_n;         /* a staff member acted on it */
    long first_response_met;       /* ... within 5 minutes of receipt */
    long long first_response_sum_s;
    long long resolution_sum_s; /* sum over resolved of resolved_at - received_at */
    long complaint_callback_due;
    long complaint_callback_done;
    long repair_callback_due; /* repairs and emergencies */
    long repair_callback_done;
    long callback_rated;     /* requests with a callback result */
    long callback_satisfied; /* ... rated 非常满意 or 满意 */
    long survey_returned;    /* survey forms (surveys not built yet: 0) */
    long survey_satisfied;   /* ... overall 基本满意 or better */
    long reopened;           /* reopened at least once */
    long repairs_at_unit;    /* repairs of a unit (rework denominator) */
    long rework;             /* ... flagged 返修 at intake (requests.is_repeat: a repair of the
                              * same unit and category within 30 d of a previous one closing) */
    long work_orders;        /* work orders issued for these requests */
    long refused_work_orders;
} report_counts_t;

/* The counters by API name, for reading them from and writing them to JSON. */
typedef struct report_count_field {
    const char *name;
    size_t offset;
    int wide; /* long long rather than long */
} report_count_field_t;
extern const report_count_field_t core_report_count_fields[];
extern const size_t core_report_count_nfields;

/* A ratio or average; defined = 0 when its denominator is 0 (shown as null). */
typedef struct report_ratio {
    int defined;
    double value;
} report_ratio_t;

typedef enum {
    KPI_RESOLUTION_RATE,         /* resolved / total                        target ≥ 0.9 */
    KPI_IN_TIME_RATE,            /* resolved_in_time / resolved_with_due */
    KPI_FIRST_RESPONSE_MET_RATE, /* first_response_met / first_response_n  (≤ 5 min) */
    KPI_AVG_FIRST_RESPONSE_S,    /* first_response_sum_s / first_response_n */
    KPI_AVG_RESOLUTION_S,        /* resolution_sum_s / resolved */
    KPI_COMPLAINT_HANDLING_RATE, /* valid_complaints_handled / valid_complaints  target 1 */
    KPI_COMPLAINT_CALLBACK_RATE, /* complaint_callback_done / complaint_callback_due  1 */
    KPI_REPAIR_CALLBACK_RATE,    /* repair_callback_done / repair_callback_due */
    KPI_CALLBACK_SATISFACTION,   /* callback_satisfied / callback_rated */
    KPI_SURVEY_SATISFACTION,     /* survey_satisfied / survey_returned */
    KPI_REOPEN_RATE,             /* reopened / total */
    KPI_REWORK_RATE,             /* rework / repairs_at_unit */
    KPI_REFUSED_WORK_ORDER_RATE, /* refused_work_orders / work_orders */
    KPI__COUNT
} report_kpi_t;

/* The KPI's API name ("resolution_rate", ...). */
const char *core_report_kpi_name(report_kpi_t k);
/* Its target (for rates with one), else a negative number. */
double core_report_kpi_target(report_kpi_t k);
/* Computes every KPI from the counts.  Rates are in [0, 1], rounded to 4 decimals;
 * averages are seconds rounded to 1 decimal. */
void core_report_kpis(const report_counts_t *c, report_ratio_t out[KPI__COUNT]);

/* ---- per-request rules (db/report.c's SQL applies the same rules to whole periods,
 * built from these constants; tests/db/test_report_plan.c checks the two agree) ---- */

/* First response is "met" when the first staff action comes at most this long after
 * receipt (002 方案 1: ≤ 5 min; inclusive). */
#define CORE_REPORT_FIRST_RESPONSE_S 300
/* The former rework rule (previous repair of the same unit and category *received* at most
 * this many hours earlier).  The report now counts requests.is_repeat, set at intake by
 * 0022's trigger (core_request_is_repeat: within 30 days of the previous one *closing*), so
 * that it and GET /v1/projects/{id}/figures/rework agree (RULES §3.11.4, issue 16). */
#define CORE_REPORT_REWORK_WINDOW_H 720

/* Whether a request counts as "first response met": 1 yes, 0 no, -1 not counted (no staff
 * action yet, first_staff_at < 0). */
int core_report_first_response_met(int64_t received_at, int64_t first_staff_at);
/* Whether a resolved request counts as "resolved in time": 1 at or before its resolution
 * due time, 0 after it, -1 not counted (not resolved or no clock ran: a negative
 * argument). */
int core_report_in_time(int64_t resolved_at, int64_t due_resolution);
/* Whether a repair received at `received_at` is rework given the previous repair of the
 * same unit and category received at `prev_received_at` (negative: there was none). */
int core_report_is_rework(int64_t prev_received_at, int64_t received_at);

/* ---- labels ---- */

/* 非常满意 … 极不满意 for a callback rating (the enum or its zh label); NULL when unknown. */
const char *core_report_rating_label(const char *rating);
/* Whether a callback rating counts as satisfied (非常满意 or 满意): 1, 0, or -1 unknown. */
int core_report_rating_satisfied(const char *rating);
/* 严重 / 重要 / 一般 for a complaint severity (major / important / general); NULL when
 * unknown. */
const char *core_report_severity_label(const char *severity);

/* ---- text ---- */

/* A growable string.  Zero-initialise; free .s with free().  Appends never fail silently:
 * on out-of-memory .oom is set and later appends do nothing. */
typedef struct report_buf {
    char *s;
    size_t len, cap;
    int oom;
} report_buf_t;
void core_report_buf_add(report_buf_t *b, const char *s, size_t n);
void core_report_buf_puts(report_buf_t *b, const char *s);
void core_report_buf_printf(report_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes
 * doubled.  A field starting with = + - @ is prefixed with ' so a spreadsheet does not
 * run it as a formula.  NULL is empty. */
void core_report_csv_field(report_buf_t *b, const char *s);
/* HTML text with & < > " ' escaped.  NULL is empty. */
void core_report_html(report_buf_t *b, const char *s);
/* The form's 投诉人回访意见 (RULES §3.11.1): the last callback's rating label (an unknown
 * rating as given; without a rating, satisfied 1 → 满意, 0 → 不满意, -1 nothing), then
 * "：" and the note when there is one.  NULLs and "" are absent. */
void core_report_callback_opinion(report_buf_t *b, const char *rating, int satisfied,
                                  const char *note);
/* The form's 备注: severity label (一般 when unknown), validity (有效 / 无效 / 待定),
 * "重开N次" when reopened, "超时" when overdue, joined by "；". */
void core_report_remarks(report_buf_t *b, const char *severity, const char *validity,
                         int reopen_count, int overdue);
/* Masks a phone as mask_phone() in schema.sql does: first 3 and last 4 kept, the rest
 * '*'; 7 characters or fewer all '*'.  Writes into out (at most outlen bytes). */
void core_report_mask_phone(const char *phone, char *out, size_t outlen);

/* A horizontal bar chart as inline SVG (no script).  values >= 0; max_value 0 means "the
 * largest value"; percent: values are fractions shown as "87.5%", a negative value is
 * drawn as "—" (undefined).  Labels are HTML-escaped. */
void core_report_svg_bars(report_buf_t *b, const char *title, const char *const *labels,
                          const double *values, size_t n, double max_value, int percent);

#endif
