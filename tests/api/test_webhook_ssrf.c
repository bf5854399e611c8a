/*
 * tests/api/test_webhook_ssrf.c — webhook hardening (issue 12): without
 * DESK_WEBHOOK_ALLOW_PRIVATE=1 a delivery to a subscription whose host is a loopback,
 * private or link-local address is refused when connecting (checked on the resolved
 * address: "localhost" is refused like 127.0.0.1), and the attempt records why; delivered
 * deliveries older than DESK_WEBHOOK_RETENTION_DAYS are deleted by the janitor with their
 * attempts, younger ones and undelivered ones are kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

/* The receiver port is never listened on: a refusal must come before any connection. */
static const char *const ENV[] = {"DESK_WEBHOOK_ALLOW_HTTP=1",
                                  "DESK_WEBHOOK_BACKOFF_MS=600000",
                                  "DESK_WEBHOOK_TIMEOUT_MS=1000",
                                  "DESK_WEBHOOK_POLL_MS=50",
                                  "DESK_JANITOR_INTERVAL=1",
                                  "DESK_WEBHOOK_RETENTION_DAYS=30",
                                  NULL};
static char proj[40];

static int setup(void **state)
{
    (void)state;
    if (th_start(ENV) != 0 || th_fx_project("demo", proj))
        return -1;
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void hook(const char *host, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"url\":\"http://%s:9/hook\",\"secret\":\"ssrf-secret-0123456789\","
             "\"event_types\":[\"request.*\"]}",
             host);
    th_resp_t *r = th_req("POST", "/v1/webhooks", th_token("admin"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

static void new_request(void)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"phone\",\"severity\":\"general\","
             "\"project_id\":\"%s\",\"location\":{\"common_area\":\"4栋大堂\"},"
             "\"reporter\":{\"name\":\"赵敏\",\"phone\":\"13500004444\"},"
             "\"description\":\"大堂空调不制冷\"}",
             proj);
    th_resp_t *r = th_req("POST", "/v1/requests", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
}

/* The first attempt's error for the webhook (waits for it: liveness bound only). */
static const char *first_error(const char *webhook)
{
    const char *p[] = {webhook};
    for (int i = 0; i < 1200; i++) {
        const char *e = th_sql1("SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d "
                                "ON d.id = a.delivery_id WHERE d.webhook_id = $1 ORDER BY a.id "
                                "LIMIT 1",
                                p, 1);
        if (e && *e)
            return e;
        sleep_ms(50);
    }
    fail_msg("no attempt for webhook %s", webhook);
    return NULL;
}

static void test_private_addresses_refused(void **state)
{
    (void)state;
    char h1[40], h2[40];
    hook("127.0.0.1", h1);
    hook("localhost", h2);
    new_request();
    const char *hosts[] = {h1, h2};
    for (int i = 0; i < 2; i++) {
        const char *e = first_error(hosts[i]);
        if (!strstr(e, "refused: the URL's host is a private, loopback or link-local address") ||
            !strstr(e, "DESK_WEBHOOK_ALLOW_PRIVATE"))
            fail_msg("attempt error: %s", e);
    }
    assert_non_null(strstr(first_error(h1), "(127.0.0.1)"));
}

static void test_retention(void **state)
{
    (void)state;
    /* The deliveries of the first test, made delivered: one 31 days ago, one 29 days ago. */
    const char *nv = th_sql1("SELECT count(*) FROM webhook_deliveries", NULL, 0);
    assert_non_null(nv);
    int n = atoi(nv); /* th_sql1's answer lives until its next call */
    assert_true(n >= 2);
    assert_int_equal(
        th_pg_exec(th_dburl(),
                   "WITH o AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM "
                   "webhook_deliveries) UPDATE webhook_deliveries d SET state = 'delivered', "
                   "delivered_at = now() - CASE WHEN o.k = 1 THEN interval '31 days' WHEN o.k = 2 "
                   "THEN interval '29 days' END FROM o WHERE o.id = d.id AND o.k <= 2"),
        0);
    const char *old = th_sql1("SELECT id::text FROM webhook_deliveries WHERE delivered_at < now() "
                              "- interval '30 days'",
                              NULL, 0);
    assert_non_null(old);
    char old_id[40];
    snprintf(old_id, sizeof old_id, "%s", old);
    const char *p[] = {old_id};
    assert_string_equal(
        th_sql1("SELECT count(*) > 0 FROM webhook_attempts WHERE delivery_id = $1", p, 1), "t");
    for (int i = 0; i < 600; i++) { /* the janitor runs every second */
        if (!strcmp(th_sql1("SELECT count(*) FROM webhook_deliveries WHERE id = $1", p, 1), "0"))
            break;
        sleep_ms(50);
    }
    assert_string_equal(th_sql1("SELECT count(*) FROM webhook_deliveries WHERE id = $1", p, 1),
                        "0");
    assert_string_equal(
        th_sql1("SELECT count(*) FROM webhook_attempts WHERE delivery_id = $1", p, 1), "0");
    /* Kept: the one delivered 29 days ago, and every delivery not delivered. */
    assert_string_equal(
        th_sql1("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'", NULL, 0), "1");
    char left[16];
    snprintf(left, sizeof left, "%d", n - 1);
    assert_string_equal(th_sql1("SELECT count(*) FROM webhook_deliveries", NULL, 0), left);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_addresses_refused),
        cmocka_unit_test(test_retention),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
