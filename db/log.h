/*
 * db/log.h — structured one-line JSON logs on stderr, shared by db/ and api/ (db/ is
 * the lowest layer that does I/O, so the logger lives here).
 */
#ifndef DB_LOG_H
#define DB_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

void log_set_level(log_level_t lvl);
int log_level_from_string(const char *s); /* -1 unknown */
int log_enabled(log_level_t lvl);
/* Writes {"ts":..,"level":..,"msg":..,<fields>} where `fields` is a printf format
 * producing already-escaped JSON members (may be NULL).  Use log_esc for strings. */
void log_write(log_level_t lvl, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* JSON-escapes s into buf (truncating), returns buf. */
char *log_esc(const char *s, char *buf, unsigned long len);

#endif
