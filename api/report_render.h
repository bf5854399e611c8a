/* api/report_render.h — rendering a month's complaint summary as CSV or HTML. */
#ifndef API_REPORT_RENDER_H
#define API_REPORT_RENDER_H

#include "core/report.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* One row of the 投诉月度汇总表 as it is written out (NULL strings are ""). */
typedef struct report_form_row {
    int seq;
    const char *request_id, *number, *date, *complainant, *phone, *content, *receiver, *department,
        *result, *callback_opinion, *remarks;
} report_form_row_t;
/* The row as a JSON object exactly as cJSON_PrintUnformatted writes it (keys in the order
 * above), preceded by "," unless first. */
void report_row_json(report_buf_t *b, const report_form_row_t *w, int first);
/* The row as a CSV line (CRLF) in the form's column order. */
void report_row_csv(report_buf_t *b, const report_form_row_t *w);
/* The row as an HTML table row in the form's column order. */
void report_row_html(report_buf_t *b, const report_form_row_t *w);

/* o[k] as a string, "" when missing or not a string. */
const char *report_str(const cJSON *o, const char *k);
/* The form as CSV; *len its length.  rows: the rows already written by report_row_csv, or
 * NULL to take them from summary's "rows".  malloc'd, NULL when out of memory. */
char *report_render_csv(const cJSON *summary, const report_buf_t *rows, size_t *len);
/* The printable page; rows: the form's rows already written by report_row_html, or NULL
 * to take them from summary's "rows"; meta is the stored version (number, state) or NULL.
 * malloc'd, NULL when out of memory. */
char *report_render_html(const cJSON *summary, const report_buf_t *rows, const char *month,
                         const cJSON *meta);

#endif
