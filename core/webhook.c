/* core/webhook.c — see core/webhook.h. */
#include "core/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const core_webhook_event_types[] = {
    "request.created", "request.updated", "request.dispatched", "request.accepted",
    "request.arrived", "request.result_reported", "request.signed_off", "request.resolved",
    "request.pending", "request.resumed", "request.rejected", "request.not_responsible",
    "request.callback_done", "request.closed", "request.reopened", "request.handed_over",
    "request.declined", "request.appointment_set", "request.deadline_set", "request.handed_on",
    "request.notification_recorded", "request.commented", "request.escalated", "sla.warning",
    "sla.breached", "sla.reapplied", "sla.extension_requested", "sla.extension_approved",
    "sla.extension_rejected", "callback.due",
    /* the other resources (0028): written by a trigger on the resource's own table */
    "custody.item_registered", "custody.entry_appended", "key.loaned", "key.returned", "key.lost",
    "key.overdue", "sealed_key.unsealed", "mail.received", "mail.collected",
    "mail.returned_to_sender", "mail.reminder", "lost_property.registered", "lost_property.claimed",
    "lost_property.unclaimed", "archive.loaned", "archive.returned", "archive.destroyed",
    "archive.overdue", "callback.task_opened", "callback.attempt_recorded",
    "callback.task_finished", "callback.overdue", "survey.campaign.state_changed",
    "survey.response.created", "survey.response.corrected", "visit.recorded", "visit.updated",
    "capa.created", "capa.state_changed", "capa.overdue", "patrol.round_started",
    "patrol.round_finished", "patrol.finding_disposed", "patrol.missed", "handover.submitted",
    "handover.accepted", "handover.late", "duty_log.entry_created", "incident.submitted",
    "incident.acknowledged", "incident.overdue", "tenancy.registered", "tenancy.updated",
    "tenancy.ended", "report.submitted", "report.overdue",
    /* 0036: a refused handover step; the end of a corrective action; capa.opened is another
     * name of capa.created (core_webhook_type_matches) */
    "handover.refused", "capa.opened", "capa.closed", NULL};

static int pattern_matches(const char *p, const char *type)
{
    if (!strcmp(p, "*") || !strcmp(p, type))
        return 1;
    if (!strcmp(p, "capa.opened") && !strcmp(type, "capa.created")) /* another name of it */
        return 1;
    size_t n = strlen(p);
    /* "prefix.*": the type starts with "prefix." and has something after it */
    return n >= 3 && p[n - 2] == '.' && p[n - 1] == '*' && strncmp(type, p, n - 1) == 0 &&
           type[n - 1] != 0;
}

int core_webhook_type_matches(const char *const *patterns, size_t n, const char *type)
{
    if (!type)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (patterns[i] && pattern_matches(patterns[i], type))
            return 1;
    return 0;
}

int core_webhook_pattern_valid(const char *pattern)
{
    if (!pattern || !*pattern)
        return 0;
    if (!strcmp(pattern, "*"))
        return 1;
    size_t n = strlen(pattern);
    int wildcard = n >= 3 && pattern[n - 2] == '.' && pattern[n - 1] == '*';
    for (size_t i = 0; core_webhook_event_types[i]; i++) {
        const char *t = core_webhook_event_types[i];
        if (wildcard ? strncmp(t, pattern, n - 1) == 0 : strcmp(t, pattern) == 0)
            return 1;
    }
    return 0;
}

static int host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

wh_url_t core_webhook_url_check(const char *url, int allow_http)
{
    if (!url)
        return WH_URL_SCHEME;
    size_t n = strlen(url);
    if (n > 2000)
        return WH_URL_TOO_LONG;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f || c == '#' || c == '\\')
            return WH_URL_CHARACTERS;
    }
    const char *h;
    int http = 0;
    if (!strncmp(url, "https://", 8))
        h = url + 8;
    else if (!strncmp(url, "http://", 7)) {
        h = url + 7;
        http = 1;
    } else
        return WH_URL_SCHEME;
    size_t auth = strcspn(h, "/?");
    if (memchr(h, '@', auth))
        return WH_URL_USERINFO;
    /* host: a name, an IPv4 address or a bracketed IPv6 address, then an optional :port */
    size_t hl;
    if (h[0] == '[') {
        const char *close = memchr(h, ']', auth);
        if (!close || close == h + 1)
            return WH_URL_HOST;
        for (const char *p = h + 1; p < close; p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                  (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
                return WH_URL_HOST;
        hl = (size_t)(close - h) + 1;
    } else {
        hl = 0;
        while (hl < auth && h[hl] != ':') {
            if (!host_char(h[hl]))
                return WH_URL_HOST;
            hl++;
        }
        if (hl == 0 || h[0] == '.' || h[0] == '-')
            return WH_URL_HOST;
    }
    if (hl < auth) {
        if (h[hl] != ':' || hl + 1 == auth || auth - hl - 1 > 5)
            return WH_URL_HOST;
        long port = 0;
        for (size_t i = hl + 1; i < auth; i++) {
            if (h[i] < '0' || h[i] > '9')
                return WH_URL_HOST;
            port = port * 10 + (h[i] - '0');
        }
        if (port < 1 || port > 65535)
            return WH_URL_HOST;
    }
    if (http) {
        int loopback = (hl == 9 && !strncmp(h, "127.0.0.1", 9)) ||
                       (hl == 9 && !strncmp(h, "localhost", 9)) ||
                       (hl == 5 && !strncmp(h, "[::1]", 5));
        if (!allow_http || !loopback)
            return WH_URL_SCHEME;
    }
    return WH_URL_OK;
}

const char *core_webhook_url_problem(wh_url_t e)
{
    switch (e) {
    case WH_URL_OK:
        return "ok";
    case WH_URL_TOO_LONG:
        return "the URL is longer than 2000 characters";
    case WH_URL_SCHEME:
        return "the URL must start with https:// (plain http:// only to a loopback receiver when "
               "DESK_WEBHOOK_ALLOW_HTTP=1)";
    case WH_URL_HOST:
        return "the URL has no valid host (a name, an IPv4 or [IPv6] address, optional :port "
               "1-65535)";
    case WH_URL_USERINFO:
        return "the URL must not carry credentials (user@host); the signature authenticates "
               "deskd";
    case WH_URL_CHARACTERS:
        return "the URL contains spaces, control characters, a backslash or a #fragment";
    }
    return "invalid URL";
}

char *core_webhook_signing_input(int64_t ts, const char *body, size_t body_len, size_t *out_len)
{
    char head[32];
    int hn = snprintf(head, sizeof head, "%lld.", (long long)ts);
    char *s = malloc((size_t)hn + body_len + 1);
    if (!s)
        return NULL;
    memcpy(s, head, (size_t)hn);
    if (body_len)
        memcpy(s + hn, body, body_len);
    s[(size_t)hn + body_len] = 0;
    if (out_len)
        *out_len = (size_t)hn + body_len;
    return s;
}

int core_webhook_signature_header(int64_t ts, const char *const *hex_macs, size_t n, char *out,
                                  size_t cap)
{
    int len = snprintf(out, cap, "t=%lld", (long long)ts);
    if (len < 0 || (size_t)len >= cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(out + len, cap - (size_t)len, ",v1=%s", hex_macs[i]);
        if (k < 0 || (size_t)k >= cap - (size_t)len)
            return -1;
        len += k;
    }
    return len;
}

static const int delay_units[] = {1, 4, 15, 60, 120, 240, 480, 960, 1440};

int64_t core_webhook_backoff_ms(int attempt, int64_t base_ms)
{
    int steps = (int)(sizeof delay_units / sizeof delay_units[0]);
    if (attempt < 1 || attempt > steps || attempt >= WEBHOOK_MAX_ATTEMPTS || base_ms < 0)
        return -1;
    return base_ms * delay_units[attempt - 1];
}

wh_outcome_t core_webhook_outcome(long status, int attempt, int max_attempts)
{
    if (status >= 200 && status <= 299)
        return WH_DELIVERED;
    if (status == 410)
        return WH_DISABLE;
    return attempt >= max_attempts ? WH_GIVE_UP : WH_RETRY;
}

const char *core_webhook_outcome_name(wh_outcome_t o)
{
    switch (o) {
    case WH_DELIVERED:
        return "delivered";
    case WH_RETRY:
        return "retry";
    case WH_GIVE_UP:
        return "gave_up";
    case WH_DISABLE:
        return "disabled";
    }
    return "unknown";
}
