/*
 * tests/api/test_webhook_events.c — webhook events of the resources besides requests
 * (issue 12, RULES §3.12.2; migration 0028): a real receiver on loopback gets custody, callback,
 * duty and corrective-action events, signed, each with its subject and per-subject sequence,
 * in order per subject even when the receiver fails at first; a refused action (its transaction
 * rolled back) announces nothing; payloads carry no ID numbers and masked phones; request events
 * keep their body unchanged.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

static const char *const ENV[] = {"DESK_WEBHOOK_ALLOW_HTTP=1",
                                  "DESK_WEBHOOK_ALLOW_PRIVATE=1",
                                  "DESK_WEBHOOK_BACKOFF_MS=50",
                                  "DESK_WEBHOOK_TIMEOUT_MS=2000",
                                  "DESK_WEBHOOK_POLL_MS=50",
                                  "DESK_SWEEP_INTERVAL_MS=0",
                                  NULL};
#define SECRET "events-secret-0123456789"

static char p1[40], unit101[40], res_zw[40], dept_eng[40], u_agent[40], u_clerk[40], u_tech[40];

/* ---------------------------------------------------------------- the receiver */

#define MAX_HITS 512
typedef struct hit {
    char event_id[40];
    char type[64];
    char subject_kind[32];
    char subject_id[40];
    long seq;
    int sig_ok;
    int answered;
    char *body;
} hit_t;

static struct {
    int fd, port;
    pthread_t th;
    volatile int stop;
    pthread_mutex_t mu;
    hit_t hits[MAX_HITS];
    int nhits;
    int fail_next;
} rx = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const char *hdr(const char *req, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            size_t l = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(l < cap ? l : cap - 1), v);
            return out;
        }
    }
    out[0] = 0;
    return NULL;
}

/* Desk-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">. */
static int verify(const char *sig, const char *body, size_t blen)
{
    long long ts = 0;
    if (sscanf(sig, "t=%lld", &ts) != 1 || llabs((long long)time(NULL) - ts) > 300)
        return 0;
    char head[32];
    int hn = snprintf(head, sizeof head, "%lld.", ts);
    unsigned char *msg = malloc((size_t)hn + blen);
    memcpy(msg, head, (size_t)hn);
    memcpy(msg + hn, body, blen);
    unsigned char mac[32];
    unsigned int ml = 32;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), msg, (size_t)hn + blen, mac, &ml);
    free(msg);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    const char *v = strstr(sig, "v1=");
    return v && !strncmp(v + 3, hex, 64);
}

static void serve_one(int c)
{
    static const size_t cap = 262144;
    char *buf = malloc(cap);
    size_t n = 0;
    char *end = NULL;
    while (!end && n < cap - 1) {
        ssize_t k = recv(c, buf + n, cap - 1 - n, 0);
        if (k <= 0)
            goto out;
        n += (size_t)k;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        goto out;
    char v[512];
    size_t clen = hdr(buf, "Content-Length", v, sizeof v) ? (size_t)atol(v) : 0;
    size_t head = (size_t)(end + 4 - buf);
    while (n < head + clen && n < cap - 1) {
        ssize_t k = recv(c, buf + n, cap - 1 - n, 0);
        if (k <= 0)
            goto out;
        n += (size_t)k;
    }
    buf[n] = 0;
    const char *body = buf + head;
    hit_t h = {0};
    hdr(buf, "Desk-Event-Id", h.event_id, sizeof h.event_id);
    h.sig_ok = hdr(buf, "Desk-Signature", v, sizeof v) && verify(v, body, clen);
    cJSON *j = cJSON_Parse(body);
    snprintf(h.type, sizeof h.type, "%s", th_js(j, "type"));
    snprintf(h.subject_kind, sizeof h.subject_kind, "%s", th_js(j, "subject.kind"));
    snprintf(h.subject_id, sizeof h.subject_id, "%s", th_js(j, "subject.id"));
    h.seq = th_jn(j, "sequence");
    if (strcmp(th_js(j, "id"), h.event_id) != 0)
        h.sig_ok = 0;
    cJSON_Delete(j);
    h.body = strdup(body);
    int status = 200;
    pthread_mutex_lock(&rx.mu);
    if (rx.fail_next > 0) {
        rx.fail_next--;
        status = 503;
    }
    h.answered = status;
    if (rx.nhits < MAX_HITS)
        rx.hits[rx.nhits++] = h;
    else
        free(h.body);
    pthread_mutex_unlock(&rx.mu);
    char o[128];
    int l = snprintf(o, sizeof o,
                     "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status);
    send(c, o, (size_t)l, MSG_NOSIGNAL);
out:
    free(buf);
}

static void *rx_main(void *arg)
{
    (void)arg;
    while (!rx.stop) {
        int c = accept(rx.fd, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval tv = {3, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve_one(c);
        close(c);
    }
    return NULL;
}

static int rx_start(void)
{
    rx.fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(rx.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(rx.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(rx.fd, 64) != 0)
        return -1;
    socklen_t al = sizeof a;
    getsockname(rx.fd, (struct sockaddr *)&a, &al);
    rx.port = ntohs(a.sin_port);
    return pthread_create(&rx.th, NULL, rx_main, NULL);
}

static void rx_stop(void)
{
    rx.stop = 1;
    shutdown(rx.fd, SHUT_RDWR);
    close(rx.fd);
    pthread_join(rx.th, NULL);
    for (int i = 0; i < rx.nhits; i++)
        free(rx.hits[i].body);
}

static int setup(void **state)
{
    (void)state;
    if (rx_start() != 0 || th_start(ENV) != 0)
        return -1;
    return th_fx_project("demo", p1) || th_fx_unit("demo", "1-101", unit101) ||
           th_fx_resident("demo", "张伟", res_zw) || th_fx_dept("demo", "engineering", dept_eng) ||
           th_fx_user("agent", u_agent) || th_fx_user("clerk", u_clerk) ||
           th_fx_user("technician", u_tech);
}

static int teardown(void **state)
{
    th_group_stop(state);
    rx_stop();
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void iso(long delta, char out[40])
{
    th_iso_utc(time(NULL) + delta, out);
}

/* A subscription of the demo organisation to `types` (a JSON array); its id into id. */
static void hook(const char *types, char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"url\":\"http://127.0.0.1:%d/events\",\"secret\":\"%s\",\"event_types\":%s}",
             rx.port, SECRET, types);
    th_resp_t *r = th_req("POST", "/v1/webhooks", th_token("admin"), body, NULL);
    if (r->status != 201)
        fail_msg("create webhook: %ld %s", r->status, r->body);
    snprintf(id, 40, "%s", th_js(r->json, "id"));
    th_free(r);
}

/* Switches the subscription off so that the next test's events do not reach it. */
static void unhook(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    th_resp_t *g = th_req("GET", path, th_token("admin"), NULL, NULL);
    char im[48];
    snprintf(im, sizeof im, "If-Match: \"%ld\"", th_jn(g->json, "version"));
    th_free(g);
    const char *h[] = {im, NULL};
    th_resp_t *r = th_req("PATCH", path, th_token("admin"), "{\"active\":false}", h);
    EXPECT_STATUS(r, 200);
    th_free(r);
}

/* Waits until every delivery of the webhook was delivered (up to ~90 s, generous for ASan). */
static void wait_settled(const char *webhook)
{
    const char *p[] = {webhook};
    for (int i = 0; i < 1800; i++) {
        if (th_sql_long("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1 AND state "
                        "<> 'delivered'",
                        p, 1) == 0)
            return;
        sleep_ms(50);
    }
    fail_msg("deliveries of %s not all delivered", webhook);
}

/* The events the receiver acknowledged (2xx) for a subject, in arrival order: their types
 * joined by spaces into out; checks every one was signed, arrived once and in sequence 1..n. */
static int subject_hits(const char *kind, const char *id, char *out, size_t cap, const hit_t **hits,
                        int max)
{
    int n = 0;
    size_t len = 0;
    out[0] = 0;
    pthread_mutex_lock(&rx.mu);
    for (int i = 0; i < rx.nhits; i++) {
        const hit_t *h = &rx.hits[i];
        if (h->answered != 200 || strcmp(h->subject_kind, kind) || strcmp(h->subject_id, id))
            continue;
        assert_true(h->sig_ok);
        /* in order per subject, each event once: the n-th acknowledged one has sequence n */
        assert_int_equal(h->seq, n + 1);
        len += (size_t)snprintf(out + len, cap - len, "%s%s", n ? " " : "", h->type);
        if (hits && n < max)
            hits[n] = h;
        n++;
    }
    pthread_mutex_unlock(&rx.mu);
    return n;
}

static long events_of(const char *kind, const char *id)
{
    const char *p[] = {kind, id};
    return th_sql_long(
        "SELECT count(*) FROM webhook_events WHERE subject_kind = $1 AND subject_id = $2", p, 2);
}

static cJSON *parse(const hit_t *h)
{
    cJSON *j = cJSON_Parse(h->body);
    assert_non_null(j);
    return j;
}

/* ---------------------------------------------------------------- custody */

/* A key set registered, lent, a second loan refused (nothing announced), returned: custody
 * events of the item in order although the receiver refuses the first attempts. */
static void test_custody_key_loan(void **state)
{
    (void)state;
    char wh[40], key[40], body[512], due[40];
    hook("[\"custody.*\",\"key.*\"]", wh);
    rx.fail_next = 3;
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"unit_vacant\",\"tag\":\"WH-1-201\","
             "\"key_count\":2,\"location\":\"客服部钥匙柜 A\"}",
             p1);
    th_resp_t *r = th_req("POST", "/v1/keys", th_token("clerk"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(key, sizeof key, "%s", th_js(r->json, "key_set.id"));
    th_free(r);
    char path[128];
    snprintf(path, sizeof path, "/v1/keys/%s/entries", key);
    iso(3600, due);
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"purpose\":\"看房 viewing\",\"due_back\":\"%s\",\"count\":2}",
             due);
    r = th_req("POST", path, th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    long before = events_of("custody_item", key);
    /* refused: already on loan — its transaction rolled back, nothing announced */
    EXPECT_PROBLEM(th_req("POST", path, th_token("supervisor"), body, NULL), 409,
                   "already_on_loan");
    assert_int_equal(events_of("custody_item", key), before);
    r = th_req("POST", path, th_token("agent"),
               "{\"action\":\"return\",\"count\":2,\"power_off\":true,\"windows_closed\":true,"
               "\"unit_locked\":true}",
               NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    wait_settled(wh);

    char types[1024];
    const hit_t *hits[8];
    int n = subject_hits("custody_item", key, types, sizeof types, hits, 8);
    assert_string_equal(types, "custody.item_registered custody.entry_appended "
                               "custody.entry_appended key.loaned custody.entry_appended "
                               "key.returned");
    assert_int_equal(n, 6);
    assert_int_equal(events_of("custody_item", key), 6);
    /* the failed first attempts were retried: more posts than events */
    assert_true(th_sql_long("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d "
                            "ON d.id = a.delivery_id WHERE d.webhook_id = $1",
                            (const char *[]){wh}, 1) >= 9);
    cJSON *j = parse(hits[3]);
    assert_string_equal(th_js(j, "data.area"), "keys");
    assert_string_equal(th_js(j, "data.action"), "loan");
    assert_string_equal(th_js(j, "data.item.state"), "on_loan");
    assert_string_equal(th_js(j, "data.item.holder_id"), u_agent);
    assert_string_equal(th_js(j, "data.item.tag"), "WH-1-201");
    assert_int_equal(th_jn(j, "data.entry.seq"), 2);
    assert_string_equal(th_js(j, "project_id"), p1);
    assert_true(th_jnull(j, "request_id"));
    cJSON_Delete(j);

    /* the delivery log names the subject */
    snprintf(path, sizeof path, "/v1/webhooks/%s/deliveries?limit=1", wh);
    r = th_req("GET", path, th_token("admin"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    const cJSON *first = cJSON_GetArrayItem(th_jpath(r->json, "items"), 0);
    assert_string_equal(th_js(first, "event.subject.kind"), "custody_item");
    assert_string_equal(th_js(first, "event.subject.id"), key);
    th_free(r);
    unhook(wh);
}

/* ---------------------------------------------------------------- callbacks */

static th_resp_t *act(const char *user, const char *id, const char *action, const char *body)
{
    char path[200], im[40];
    snprintf(path, sizeof path, "/v1/requests/%s", id);
    th_resp_t *g = th_req("GET", path, th_token("agent"), NULL, NULL);
    snprintf(im, sizeof im, "If-Match: \"%ld\"", th_jn(g->json, "version"));
    th_free(g);
    snprintf(path, sizeof path, "/v1/requests/%s/actions/%s", id, action);
    const char *h[] = {im, NULL};
    return th_req("POST", path, th_token(user), body, h);
}

static void ok_act(const char *user, const char *id, const char *action, const char *body)
{
    th_resp_t *r = act(user, id, action, body);
    if (r->status != 200)
        fail_msg("%s by %s: %ld %s", action, user, r->status, r->body);
    th_free(r);
}

static void resolved_repair(char id[40])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"webhook 回访\"}",
             unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", body, id));
    snprintf(body, sizeof body, "{\"department_id\":\"%s\",\"assignee_id\":\"%s\"}", dept_eng,
             u_tech);
    ok_act("agent", id, "dispatch", body);
    ok_act("technician", id, "accept", NULL);
    ok_act("technician", id, "arrive", NULL);
    ok_act("technician", id, "report_result", "{\"result\":\"已更换水龙头\"}");
    ok_act("resident", id, "sign_off", NULL);
}

static void test_callbacks(void **state)
{
    (void)state;
    char wh[40], req[40], task[40], sql[200], path[160];
    hook("[\"callback.*\"]", wh);
    resolved_repair(req);
    snprintf(sql, sizeof sql,
             "SELECT id FROM callback_tasks WHERE request_id = '%s' AND state = 'open'", req);
    assert_int_equal(th_grab(task, sql), 0);
    snprintf(path, sizeof path, "/v1/callbacks/%s/attempts", task);
    th_resp_t *r =
        th_req("POST", path, th_token("agent"), "{\"method\":\"phone\",\"reached\":false}", NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    /* refused: the technician who did the work does not call back */
    long before = events_of("callback_task", task);
    EXPECT_PROBLEM(th_req("POST", path, th_token("technician"),
                          "{\"method\":\"phone\",\"reached\":false}", NULL),
                   403, NULL);
    assert_int_equal(events_of("callback_task", task), before);
    /* the overdue marker's mark (as svc/ does it) */
    char mark[200];
    snprintf(mark, sizeof mark,
             "UPDATE callback_tasks SET overdue_at = clock_timestamp() WHERE id = '%s'", task);
    assert_int_equal(th_pg_exec(th_dburl(), mark), 0);
    r = th_req("POST", path, th_token("agent"),
               "{\"method\":\"phone\",\"reached\":true,\"rating\":\"满意\",\"notes\":\"业主 "
               "13812345678 满意\"}",
               NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    wait_settled(wh);

    char types[1024];
    const hit_t *hits[8];
    int n = subject_hits("callback_task", task, types, sizeof types, hits, 8);
    assert_int_equal(n, 5);
    assert_memory_equal(types, "callback.task_opened callback.attempt_recorded callback.overdue ",
                        strlen("callback.task_opened callback.attempt_recorded callback.overdue "));
    /* the reached attempt and the task it finished, in the order they were written */
    assert_true(strstr(types, "callback.attempt_recorded callback.task_finished") != NULL ||
                strstr(types, "callback.task_finished callback.attempt_recorded") != NULL);
    cJSON *j = parse(hits[0]);
    assert_string_equal(th_js(j, "data.task.request_id"), req);
    assert_string_equal(th_js(j, "data.task.state"), "open");
    cJSON_Delete(j);
    for (int i = 3; i < 5; i++) {
        j = parse(hits[i]);
        if (!strcmp(th_js(j, "type"), "callback.task_finished")) {
            assert_string_equal(th_js(j, "data.task.state"), "done");
            assert_string_equal(th_js(j, "data.task.outcome"), "closed");
        } else {
            /* a mobile number typed into the notes is masked as phones are */
            assert_string_equal(th_js(j, "data.attempt.notes"), "业主 138****5678 满意");
            assert_null(strstr(hits[i]->body, "13812345678"));
        }
        cJSON_Delete(j);
    }
    unhook(wh);
}

/* ---------------------------------------------------------------- duty */

static const char *all_confirmed =
    "[{\"code\":\"radios\",\"confirmed\":true,\"note\":\"4 部\"},{\"code\":\"documents\","
    "\"confirmed\":true},{\"code\":\"show_flat_keys\",\"confirmed\":true}]";

static void shift(const char *user_id, long start_delta, long end_delta, char dst[40])
{
    char body[512], a[40], b[40];
    iso(start_delta, a);
    iso(end_delta, b);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"post\":\"front_desk\",\"user_ids\":[\"%s\"],"
             "\"planned_start\":\"%s\",\"planned_end\":\"%s\"}",
             p1, user_id, a, b);
    th_resp_t *r = th_req("POST", "/v1/duty/shifts", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(dst, 40, "%s", th_str(r, "id"));
    th_free(r);
}

/* The submission handing over every open matter the draft lists, with a reason. */
static char *submission(const th_resp_t *draft)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n, "{\"sections\":%s,\"unfinished\":[", all_confirmed);
    const char *lists[] = {"prefill.open_requests", "prefill.open_work_orders"};
    const char *types[] = {"request", "work_order"};
    int first = 1;
    for (int l = 0; l < 2; l++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, th_jpath(draft->json, lists[l]))
        {
            n += (size_t)snprintf(
                b + n, cap - n, "%s{\"ref_type\":\"%s\",\"ref_id\":\"%s\",\"reason\":\"明早处理\"}",
                first ? "" : ",", types[l], th_js(it, "id"));
            first = 0;
        }
    }
    snprintf(b + n, cap - n, "],\"instructions\":\"检查消防通道\",\"equipment_status\":\"正常\"}");
    return b;
}

static void test_duty_handover(void **state)
{
    (void)state;
    char wh[40], eve[40], morn[40], h[40], body[512], path[160];
    hook("[\"handover.*\",\"duty_log.*\"]", wh);
    shift(u_agent, -9 * 3600, 1800, eve);
    shift(u_clerk, 1800, 9 * 3600, morn);
    snprintf(path, sizeof path, "/v1/duty/shifts/%s/start", eve);
    th_resp_t *r = th_post_im(path, "agent", NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    snprintf(path, sizeof path, "/v1/duty/shifts/%s/log", eve);
    r = th_req("POST", path, th_token("agent"),
               "{\"kind\":\"lighting\",\"summary\":\"公共照明开启\"}", NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    r = th_req("POST", path, th_token("agent"), "{\"kind\":\"note\",\"summary\":\"巡查正常\"}",
               NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);

    char at[40];
    iso(1800, at);
    snprintf(body, sizeof body,
             "{\"from_shift_id\":\"%s\",\"to_shift_id\":\"%s\",\"incoming_user_id\":\"%s\","
             "\"planned_at\":\"%s\"}",
             eve, morn, u_clerk, at);
    th_resp_t *d = th_req("POST", "/v1/handovers", th_token("agent"), body, NULL);
    EXPECT_STATUS(d, 201);
    snprintf(h, sizeof h, "%s", th_str(d, "id"));
    /* refused: the incoming person may not accept a draft */
    snprintf(path, sizeof path, "/v1/handovers/%s/accept", h);
    EXPECT_PROBLEM(th_post_im(path, "clerk", NULL), 409, "invalid_state");
    char *sub = submission(d);
    th_free(d);
    snprintf(path, sizeof path, "/v1/handovers/%s/submit", h);
    r = th_post_im(path, "agent", sub);
    free(sub);
    if (r->status != 200)
        fail_msg("submit: %ld %s", r->status, r->body);
    th_free(r);
    snprintf(path, sizeof path, "/v1/handovers/%s/accept", h);
    r = th_post_im(path, "clerk", NULL);
    if (r->status != 200)
        fail_msg("accept: %ld %s", r->status, r->body);
    th_free(r);
    wait_settled(wh);

    char types[512];
    const hit_t *hits[4];
    assert_int_equal(subject_hits("handover", h, types, sizeof types, hits, 4), 2);
    assert_string_equal(types, "handover.submitted handover.accepted");
    cJSON *j = parse(hits[1]);
    assert_string_equal(th_js(j, "data.handover.state"), "accepted");
    assert_string_equal(th_js(j, "data.handover.incoming_user_id"), u_clerk);
    assert_true(th_jpath(j, "data.handover.sections") == NULL); /* the summary only */
    cJSON_Delete(j);
    assert_int_equal(subject_hits("duty_shift", eve, types, sizeof types, hits, 4), 2);
    assert_string_equal(types, "duty_log.entry_created duty_log.entry_created");
    j = parse(hits[0]);
    assert_string_equal(th_js(j, "data.entry.kind"), "lighting");
    cJSON_Delete(j);
    unhook(wh);
}

/* ---------------------------------------------------------------- corrective actions */

static void test_capa(void **state)
{
    (void)state;
    char wh[40], id[40], body[1024], due[40], path[160];
    hook("[\"capa.*\"]", wh);
    iso(10 * 86400, due);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"corrective\",\"title\":\"楼道保洁投诉反复\","
             "\"department_id\":\"%s\",\"responsible_id\":\"%s\",\"due_at\":\"%s\"}",
             p1, dept_eng, u_tech, due);
    th_resp_t *r = th_req("POST", "/v1/corrective-actions", th_token("supervisor"), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(id, sizeof id, "%s", th_js(r->json, "id"));
    th_free(r);
    snprintf(path, sizeof path, "/v1/corrective-actions/%s/actions/propose", id);
    r = th_req("POST", path, th_token("technician"),
               "{\"cause_analysis\":\"排班缺人\",\"responsibility\":\"外包\",\"remedial_action\":"
               "\"补扫\",\"measures\":\"增加巡查\"}",
               NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    snprintf(path, sizeof path, "/v1/corrective-actions/%s/actions/approve", id);
    long before = events_of("corrective_action", id);
    EXPECT_PROBLEM(th_req("POST", path, th_token("supervisor"), NULL, NULL), 403,
                   "approver_required");
    assert_int_equal(events_of("corrective_action", id), before);
    r = th_req("POST", path, th_token("manager"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    /* the overdue clock's warning (as the sweeper records it) */
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO capa_alerts (org_id, action_id, kind, due_at) SELECT org_id, id, "
             "'warning', due_at FROM corrective_actions WHERE id = '%s'",
             id);
    assert_int_equal(th_pg_exec(th_dburl(), sql), 0);
    wait_settled(wh);

    char types[512];
    const hit_t *hits[4];
    assert_int_equal(subject_hits("corrective_action", id, types, sizeof types, hits, 4), 4);
    assert_string_equal(types, "capa.created capa.state_changed capa.state_changed capa.overdue");
    cJSON *j = parse(hits[2]);
    assert_string_equal(th_js(j, "data.from_state"), "measures_proposed");
    assert_string_equal(th_js(j, "data.to_state"), "approved");
    assert_string_equal(th_js(j, "data.action.state"), "approved");
    cJSON_Delete(j);
    j = parse(hits[3]);
    assert_string_equal(th_js(j, "data.alert"), "warning");
    cJSON_Delete(j);
    unhook(wh);
}

/* ---------------------------------------------------------------- privacy and types */

/* A tenancy's event masks the tenant's phone and carries no ID number, hash or digits. */
static void test_tenancy_privacy(void **state)
{
    (void)state;
    char wh[40];
    hook("[\"tenancy.*\"]", wh);
    char sql[1200];
    snprintf(sql, sizeof sql,
             "INSERT INTO tenancies (org_id, project_id, unit_id, owner_resident_id, tenant_name, "
             "tenant_phone, use, term_start, term_end, tenant_id_type, tenant_id_hash, "
             "tenant_id_last4, created_by) SELECT u.org_id, u.project_id, u.id, '%s', '李租客', "
             "'13912345678', 'residence', current_date, current_date + 365, "
             "'resident_id_card', repeat('ab', 32), '1234', (SELECT id FROM users WHERE "
             "username = 'agent') FROM units u WHERE u.id = '%s'",
             res_zw, unit101);
    assert_int_equal(th_pg_exec(th_dburl(), sql), 0);
    wait_settled(wh);
    const hit_t *found = NULL;
    pthread_mutex_lock(&rx.mu);
    for (int i = 0; i < rx.nhits; i++)
        if (!strcmp(rx.hits[i].type, "tenancy.registered"))
            found = &rx.hits[i];
    pthread_mutex_unlock(&rx.mu);
    assert_non_null(found);
    assert_null(strstr(found->body, "13912345678"));
    assert_null(strstr(found->body, "abababab"));
    assert_null(strstr(found->body, "1234\""));
    cJSON *j = parse(found);
    assert_string_equal(th_js(j, "subject.kind"), "tenancy");
    assert_true(strlen(th_js(j, "data.tenancy.tenant_phone")) > 0);
    assert_non_null(strstr(th_js(j, "data.tenancy.tenant_phone"), "*"));
    cJSON_Delete(j);
    unhook(wh);
}

/* Subscriptions accept the new families and types; request events keep their body. */
static void test_types_and_request_body(void **state)
{
    (void)state;
    const char *ok[] = {"[\"custody.entry_appended\",\"callback.task_opened\"]",
                        "[\"patrol.*\",\"survey.*\",\"survey.response.*\",\"incident.*\"]",
                        "[\"report.overdue\",\"handover.late\",\"visit.*\",\"tenancy.*\"]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char id[40];
        hook(ok[i], id);
        unhook(id);
    }
    char body[512];
    snprintf(body, sizeof body,
             "{\"url\":\"http://127.0.0.1:%d/events\",\"secret\":\"%s\",\"event_types\":"
             "[\"custody.nothing\"]}",
             rx.port, SECRET);
    EXPECT_PROBLEM(th_req("POST", "/v1/webhooks", th_token("admin"), body, NULL), 422, NULL);

    char wh[40], req[40];
    hook("[\"request.created\"]", wh);
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"%s\"},"
             "\"reporter\":{\"resident_id\":\"%s\"},\"description\":\"请求事件\"}",
             unit101, res_zw);
    th_free(th_create_request_at(__LINE__, "agent", body, req));
    wait_settled(wh);
    const hit_t *found = NULL;
    pthread_mutex_lock(&rx.mu);
    for (int i = 0; i < rx.nhits; i++)
        if (!strcmp(rx.hits[i].type, "request.created") && strstr(rx.hits[i].body, req))
            found = &rx.hits[i];
    pthread_mutex_unlock(&rx.mu);
    assert_non_null(found);
    cJSON *j = parse(found);
    /* the request body as before 0028: request_id, no subject member */
    assert_string_equal(th_js(j, "request_id"), req);
    assert_null(th_jpath(j, "subject"));
    assert_int_equal(th_jn(j, "sequence"), 1);
    cJSON_Delete(j);
    const char *p[] = {req};
    assert_int_equal(th_sql_long("SELECT count(*) FROM webhook_events WHERE subject_kind = "
                                 "'request' AND subject_id = $1 AND request_id = $1",
                                 p, 1),
                     1);
    unhook(wh);
}

/* ---------------------------------------------------------------- secrets at rest */

static const char *stored_secret(const char *hook_id)
{
    const char *p[] = {hook_id};
    return th_sql1("SELECT secret FROM webhooks WHERE id = $1", p, 1);
}

static void kid_of(const char *hook_id, char kid[9])
{
    const char *s = stored_secret(hook_id);
    assert_non_null(s);
    assert_memory_equal(s, "whs1$", 5);
    snprintf(kid, 9, "%s", s + 5);
}

/* Registers a key set tagged `tag`: one custody.item_registered event. */
static void one_event(const char *tag)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"unit_vacant\",\"tag\":\"%s\",\"key_count\":1}", p1,
             tag);
    th_resp_t *r = th_req("POST", "/v1/keys", th_token("clerk"), body, NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
}

static int delivered_signed(const char *tag)
{
    int ok = 0;
    pthread_mutex_lock(&rx.mu);
    for (int i = 0; i < rx.nhits; i++)
        if (strstr(rx.hits[i].body, tag) && rx.hits[i].answered == 200 && rx.hits[i].sig_ok)
            ok = 1;
    pthread_mutex_unlock(&rx.mu);
    return ok;
}

/* Secrets are stored encrypted, bound to the organisation; a secret from before encryption
 * still signs and is re-encrypted at the next start; a new DESK_WEBHOOK_KEY re-encrypts every
 * secret at start (the old key still readable), and back; a tampered one fails the delivery
 * with a clear error. */
static void test_secrets_at_rest(void **state)
{
    (void)state;
    char a[40], b[40], kid0[9], kid1[9], kid2[9];
    hook("[\"custody.item_registered\"]", a);
    kid_of(a, kid0);
    assert_null(strstr(stored_secret(a), SECRET));
    /* the same secret twice: two different ciphertexts (a fresh nonce each time) */
    hook("[\"custody.item_registered\"]", b);
    char sa[512];
    snprintf(sa, sizeof sa, "%s", stored_secret(a));
    assert_string_not_equal(sa, stored_secret(b));
    /* a: plaintext, as stored before 0028; b: its ciphertext tampered with */
    char q[900];
    snprintf(q, sizeof q, "UPDATE webhooks SET secret = '%s' WHERE id = '%s'", SECRET, a);
    assert_int_equal(th_pg_exec(th_dburl(), q), 0);
    snprintf(q, sizeof q,
             "UPDATE webhooks SET secret = overlay(secret placing CASE WHEN substr(secret, 20, 1) "
             "= 'A' THEN 'B' ELSE 'A' END from 20 for 1) WHERE id = '%s'",
             b);
    assert_int_equal(th_pg_exec(th_dburl(), q), 0);
    one_event("SEC-1");
    const char *pb[] = {b};
    for (int i = 0; i < 1800 && th_sql_long("SELECT count(*) FROM webhook_attempts a JOIN "
                                            "webhook_deliveries d ON d.id = a.delivery_id WHERE "
                                            "d.webhook_id = $1",
                                            pb, 1) == 0;
         i++)
        sleep_ms(50);
    const char *err = th_sql1("SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON "
                              "d.id = a.delivery_id WHERE d.webhook_id = $1 LIMIT 1",
                              pb, 1);
    assert_non_null(err);
    assert_non_null(strstr(err, "cannot be decrypted"));
    unhook(b);
    wait_settled(a);
    assert_true(delivered_signed("SEC-1")); /* the plaintext one still signs */

    /* restart with a dedicated key: everything re-encrypted under it */
    static const char *const env1[] = {
        "DESK_WEBHOOK_ALLOW_HTTP=1",
        "DESK_WEBHOOK_ALLOW_PRIVATE=1",
        "DESK_WEBHOOK_BACKOFF_MS=50",
        "DESK_WEBHOOK_TIMEOUT_MS=2000",
        "DESK_WEBHOOK_POLL_MS=50",
        "DESK_SWEEP_INTERVAL_MS=0",
        "DESK_WEBHOOK_KEY=webhook-key-one-0123456789abcdefghijklmnop",
        NULL};
    assert_int_equal(th_restart(env1), 0);
    kid_of(a, kid1);
    assert_string_not_equal(kid1, kid0);
    assert_null(strstr(stored_secret(a), SECRET));
    one_event("SEC-2");
    wait_settled(a);
    assert_true(delivered_signed("SEC-2"));

    /* and rotated back to the PII-derived key, the dedicated one kept as previous */
    static const char *const env2[] = {
        "DESK_WEBHOOK_ALLOW_HTTP=1",
        "DESK_WEBHOOK_ALLOW_PRIVATE=1",
        "DESK_WEBHOOK_BACKOFF_MS=50",
        "DESK_WEBHOOK_TIMEOUT_MS=2000",
        "DESK_WEBHOOK_POLL_MS=50",
        "DESK_SWEEP_INTERVAL_MS=0",
        "DESK_WEBHOOK_KEY_PREVIOUS=webhook-key-one-0123456789abcdefghijklmnop",
        NULL};
    assert_int_equal(th_restart(env2), 0);
    kid_of(a, kid2);
    assert_string_equal(kid2, kid0);
    one_event("SEC-3");
    wait_settled(a);
    assert_true(delivered_signed("SEC-3"));
    unhook(a);
    assert_int_equal(th_restart(ENV), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duty_handover),   cmocka_unit_test(test_custody_key_loan),
        cmocka_unit_test(test_callbacks),       cmocka_unit_test(test_capa),
        cmocka_unit_test(test_tenancy_privacy), cmocka_unit_test(test_types_and_request_body),
        cmocka_unit_test(test_secrets_at_rest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
