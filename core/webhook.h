/*
 * core/webhook.h — the rules of outgoing webhooks (RULES §3.12), as pure functions: which
 * event types exist and how a subscription's patterns match them, which receiver URLs are
 * acceptable, the signed string and the signature header, the retry schedule and what an
 * attempt's outcome means for the delivery.
 */
#ifndef CORE_WEBHOOK_H
#define CORE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

/* Attempts before a delivery is given up (the first one included). */
#define WEBHOOK_MAX_ATTEMPTS 10
/* The longest wait between two attempts, in units of the base delay (base 1 min: 24 h). */
#define WEBHOOK_MAX_DELAY_UNITS 1440

/* Every event type deskd announces or will announce (NULL-terminated). */
extern const char *const core_webhook_event_types[];

/* 1 when `type` is matched by any of the patterns: "*", the type itself, or "prefix.*"
 * ("request.*" matches "request.created", not "request" nor "requests.x"); the pattern
 * "capa.opened" is another name of "capa.created" and matches it (the SQL
 * webhook_type_matches is the same rule). */
int core_webhook_type_matches(const char *const *patterns, size_t n, const char *type);
/* 1 when a subscription may list `pattern`: "*", a known type, or "<known prefix>.*". */
int core_webhook_pattern_valid(const char *pattern);

typedef enum {
    WH_URL_OK = 0,
    WH_URL_TOO_LONG,
    WH_URL_SCHEME,     /* not https:// (nor an allowed loopback http://) */
    WH_URL_HOST,       /* no host, or a host with characters a URL host cannot have */
    WH_URL_USERINFO,   /* credentials in the URL */
    WH_URL_CHARACTERS, /* spaces, control characters or a fragment */
} wh_url_t;
/* Checks a receiver URL: https://host[:port][/path][?query]; plain http:// only when
 * allow_http and the host is 127.0.0.1, localhost or [::1] (tests, local relays). */
wh_url_t core_webhook_url_check(const char *url, int allow_http);
const char *core_webhook_url_problem(wh_url_t e);

/* The string that is signed: "<unix seconds>.<body>" (malloc'd; NULL when out of memory). */
char *core_webhook_signing_input(int64_t ts, const char *body, size_t body_len, size_t *out_len);
/* The signature header's value "t=<ts>,v1=<hex>[,v1=<hex>]" from the hex MACs of every
 * active secret (the current one first).  Returns the length, or -1 when it does not fit. */
int core_webhook_signature_header(int64_t ts, const char *const *hex_macs, size_t n, char *out,
                                  size_t cap);

/* The wait after failed attempt `attempt` (1-based) in ms: base × 1, 4, 15, 60, 120, 240,
 * 480, 960, 1440 (1 min … 24 h with base 1 min); -1 when the attempt was the last. */
int64_t core_webhook_backoff_ms(int attempt, int64_t base_ms);

typedef enum {
    WH_DELIVERED, /* 2xx */
    WH_RETRY,     /* anything else: try again after the back-off */
    WH_GIVE_UP,   /* failed and no attempts left */
    WH_DISABLE,   /* 410 Gone: the receiver is gone; give up and disable the subscription */
} wh_outcome_t;
/* What an attempt's answer means.  status: the HTTP status, 0 when none came (a timeout, a
 * refused connection, a TLS failure). */
wh_outcome_t core_webhook_outcome(long status, int attempt, int max_attempts);
const char *core_webhook_outcome_name(wh_outcome_t o);

#endif
