/*
 * core/i18n.h — the language of a problem's `detail`: the client's Accept-Language chooses
 * between English (the default) and zh-CN, and a table translates the common details
 * (validation, not found, forbidden, conflicts, authentication).  Codes, titles, pointers
 * and statuses never change with the language; a detail the table does not know stays
 * English.  Pure.
 */
#ifndef CORE_I18N_H
#define CORE_I18N_H

#include <stddef.h>

typedef enum { LANG_EN, LANG_ZH } lang_t;

/* The language an Accept-Language header asks for (RFC 9110 §12.5.4: ranges with q
 * weights; "zh", "zh-CN", "zh-Hans", "zh-*" are Chinese, "en*" and "*" English; the highest
 * weight wins, the first on a tie).  NULL, empty or nothing supported: LANG_EN. */
lang_t core_i18n_lang(const char *accept_language);
/* The BCP 47 tag of a language ("en", "zh-CN"). */
const char *core_i18n_tag(lang_t lang);

/*
 * The zh-CN translation of an English detail with problem code `code` into out (outlen
 * bytes).  An entry matches the code and the detail's pattern ('%s' matches any text,
 * which is carried into the translation in order; a '%n' capture is a noun, translated when
 * known: "request" → 请求); without a matching pattern, the code's general translation when it has
 * one.  Returns 1 when out holds a translation, 0 when the detail has none.
 */
int core_i18n_detail_zh(const char *code, const char *detail, char *out, size_t outlen);

#endif
