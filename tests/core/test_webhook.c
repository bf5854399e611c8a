/*
 * tests/core/test_webhook.c — the pure webhook rules (RULES §3.12): event-type patterns,
 * receiver URLs, the signed string and signature header, the back-off schedule and what an
 * answer means.  Tables of cases, written out independently of core/webhook.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/webhook.h"

static void test_type_matching(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *type;
        int want;
    } cases[] = {
        {"*", "request.created", 1},
        {"*", "sla.breached", 1},
        {"request.created", "request.created", 1},
        {"request.created", "request.closed", 0},
        {"request.*", "request.closed", 1},
        {"request.*", "requests.closed", 0},
        {"request.*", "request.", 0},
        {"request.*", "sla.warning", 0},
        {"sla.*", "sla.breached", 1},
        {"sla.*", "slab.x", 0},
        {"callback.due", "callback.due", 1},
        {"key.*", "key.loaned", 1},
        {"capa.opened", "capa.created", 1}, /* another name of it */
        {"capa.opened", "capa.opened", 1},
        {"capa.created", "capa.opened", 0},
        {"capa.opened", "capa.closed", 0},
        {"", "request.created", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p[] = {cases[i].pattern};
        if (core_webhook_type_matches(p, 1, cases[i].type) != cases[i].want)
            fail_msg("pattern '%s' type '%s': want %d", cases[i].pattern, cases[i].type,
                     cases[i].want);
    }
    const char *several[] = {"sla.breached", "request.closed"};
    assert_true(core_webhook_type_matches(several, 2, "request.closed"));
    assert_true(core_webhook_type_matches(several, 2, "sla.breached"));
    assert_false(core_webhook_type_matches(several, 2, "sla.warning"));
    assert_false(core_webhook_type_matches(several, 0, "sla.breached"));
}

static void test_pattern_validity(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        int ok;
    } cases[] = {
        {"*", 1},
        {"request.created", 1},
        {"request.*", 1},
        {"sla.*", 1},
        {"callback.due", 1},
        {"mail.collected", 1},
        {"capa.*", 1},
        {"request.foo", 0},
        {"foo.*", 0},
        {"request", 0},
        {"", 0},
        {"**", 0},
        {".*", 0},
        {"request.created ", 0},
        {"REQUEST.CREATED", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (core_webhook_pattern_valid(cases[i].p) != cases[i].ok)
            fail_msg("pattern '%s': want %d", cases[i].p, cases[i].ok);
    /* every RULES §3.12.2 request action has its type */
    static const char *const actions[] = {
        "dispatched", "accepted",    "arrived",  "result_reported", "signed_off",    "resolved",
        "pending",    "resumed",     "rejected", "not_responsible", "callback_done", "closed",
        "reopened",   "handed_over", "created",  "updated",         "escalated"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        char t[64];
        snprintf(t, sizeof t, "request.%s", actions[i]);
        if (!core_webhook_pattern_valid(t))
            fail_msg("%s is not a known event type", t);
    }
    assert_true(core_webhook_pattern_valid("sla.warning"));
    assert_true(core_webhook_pattern_valid("sla.breached"));
}

static void test_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int allow_http;
        wh_url_t want;
    } cases[] = {
        {"https://hooks.example.com/desk", 0, WH_URL_OK},
        {"https://hooks.example.com:8443/desk?x=1", 0, WH_URL_OK},
        {"https://10.1.2.3/x", 0, WH_URL_OK},
        {"https://[2001:db8::1]:443/x", 0, WH_URL_OK},
        {"http://hooks.example.com/desk", 0, WH_URL_SCHEME},
        {"http://hooks.example.com/desk", 1, WH_URL_SCHEME},
        {"http://127.0.0.1:8080/hook", 0, WH_URL_SCHEME},
        {"http://127.0.0.1:8080/hook", 1, WH_URL_OK},
        {"http://localhost/hook", 1, WH_URL_OK},
        {"http://[::1]:9/hook", 1, WH_URL_OK},
        {"http://127.0.0.10/hook", 1, WH_URL_SCHEME},
        {"ftp://example.com/", 1, WH_URL_SCHEME},
        {"example.com", 0, WH_URL_SCHEME},
        {"https://", 0, WH_URL_HOST},
        {"https://:443/", 0, WH_URL_HOST},
        {"https://exa mple.com/", 0, WH_URL_CHARACTERS},
        {"https://example.com/#frag", 0, WH_URL_CHARACTERS},
        {"https://user:pw@example.com/", 0, WH_URL_USERINFO},
        {"https://example.com:0/", 0, WH_URL_HOST},
        {"https://example.com:65536/", 0, WH_URL_HOST},
        {"https://example.com:80a/", 0, WH_URL_HOST},
        {"https://exa%6dple.com/", 0, WH_URL_HOST},
        {"https://[zz]/", 0, WH_URL_HOST},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wh_url_t got = core_webhook_url_check(cases[i].url, cases[i].allow_http);
        if (got != cases[i].want)
            fail_msg("%s (allow_http %d): want %d got %d", cases[i].url, cases[i].allow_http,
                     cases[i].want, got);
    }
    char long_url[2100] = "https://example.com/";
    memset(long_url + strlen(long_url), 'a', 1990);
    long_url[2010] = 0;
    assert_int_equal(core_webhook_url_check(long_url, 0), WH_URL_TOO_LONG);
    assert_string_not_equal(core_webhook_url_problem(WH_URL_SCHEME), "");
}

static void test_signing_input_and_header(void **state)
{
    (void)state;
    size_t n;
    char *s = core_webhook_signing_input(1767225600, "{\"a\":1}", 7, &n);
    assert_non_null(s);
    assert_string_equal(s, "1767225600.{\"a\":1}");
    assert_int_equal(n, strlen("1767225600.{\"a\":1}"));
    free(s);
    s = core_webhook_signing_input(5, "", 0, &n);
    assert_string_equal(s, "5.");
    free(s);

    char h[256];
    const char *one[] = {"aa11"};
    assert_int_equal(core_webhook_signature_header(1767225600, one, 1, h, sizeof h),
                     (int)strlen("t=1767225600,v1=aa11"));
    assert_string_equal(h, "t=1767225600,v1=aa11");
    const char *two[] = {"aa11", "bb22"};
    core_webhook_signature_header(42, two, 2, h, sizeof h);
    assert_string_equal(h, "t=42,v1=aa11,v1=bb22");
    assert_int_equal(core_webhook_signature_header(42, two, 2, h, 10), -1);
}

static void test_backoff_schedule(void **state)
{
    (void)state;
    const int64_t min = 60000;
    /* 1 min, 4 min, 15 min, 1 h, 2 h, 4 h, 8 h, 16 h, 24 h; then given up (10 attempts) */
    static const int64_t want_min[] = {1, 4, 15, 60, 120, 240, 480, 960, 1440};
    for (int a = 1; a <= 9; a++)
        assert_int_equal(core_webhook_backoff_ms(a, min), want_min[a - 1] * min);
    assert_int_equal(core_webhook_backoff_ms(10, min), -1);
    assert_int_equal(core_webhook_backoff_ms(0, min), -1);
    assert_int_equal(core_webhook_backoff_ms(9, min), 24LL * 3600 * 1000);
    /* the schedule grows and scales with the base (tests run it in milliseconds) */
    for (int a = 2; a <= 9; a++)
        assert_true(core_webhook_backoff_ms(a, 100) > core_webhook_backoff_ms(a - 1, 100));
    assert_int_equal(core_webhook_backoff_ms(1, 100), 100);
    int64_t total = 0;
    for (int a = 1; a < WEBHOOK_MAX_ATTEMPTS; a++)
        total += core_webhook_backoff_ms(a, min);
    assert_true(total > 24LL * 3600 * 1000); /* retries span more than a day */
}

static void test_outcomes(void **state)
{
    (void)state;
    static const struct {
        long status;
        int attempt;
        wh_outcome_t want;
    } cases[] = {
        {200, 1, WH_DELIVERED}, {204, 10, WH_DELIVERED}, {299, 3, WH_DELIVERED},
        {500, 1, WH_RETRY},     {0, 1, WH_RETRY},        {302, 2, WH_RETRY},
        {404, 9, WH_RETRY},     {500, 10, WH_GIVE_UP},   {0, 10, WH_GIVE_UP},
        {410, 1, WH_DISABLE},   {410, 10, WH_DISABLE},   {300, 1, WH_RETRY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wh_outcome_t o = core_webhook_outcome(cases[i].status, cases[i].attempt, 10);
        if (o != cases[i].want)
            fail_msg("status %ld attempt %d: want %s got %s", cases[i].status, cases[i].attempt,
                     core_webhook_outcome_name(cases[i].want), core_webhook_outcome_name(o));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_matching),
        cmocka_unit_test(test_pattern_validity),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_signing_input_and_header),
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
