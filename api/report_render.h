/* api/report_render.h — rendering a month's complaint summary as CSV or HTML. */
#ifndef API_REPORT_RENDER_H
#define API_REPORT_RENDER_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* o[k] as a string, "" when missing or not a string. */
const char *report_str(const cJSON *o, const char *k);
/* The form as CSV; *len its length.  malloc'd, NULL when out of memory. */
char *report_render_csv(const cJSON *summary, size_t *len);
/* The printable page; meta is the stored version (number, state) or NULL.  malloc'd,
 * NULL when out of memory. */
char *report_render_html(const cJSON *summary, const char *month, const cJSON *meta);

#endif
