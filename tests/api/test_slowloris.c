/*
 * "Slow clients take every worker" (issue 7, item 6).  Each civetweb worker serves one
 * connection at a time, so clients that send their header a byte at a time can hold every
 * worker.  deskd bounds it: enough workers for the connections it admits (256 by default,
 * 240 admitted), a connection cap answered with 503 at once, and a deadline for the whole
 * header and the whole body.  Raw sockets, since the point is to misbehave.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/harness.h"

#define SLOW 200

/* The shipped defaults for workers and the cap (the harness asks for 16 workers). */
static const char *const defaults[] = {"DESK_THREADS=", "DESK_SWEEP_INTERVAL_MS=0", NULL};

static int setup(void **state)
{
    (void)state;
    return th_start(defaults);
}

static int teardown(void **state)
{
    (void)state;
    th_stop();
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int dial(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)th_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    return s;
}

static int send_all(int s, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(s, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads what the server sends until it closes or `secs` pass.  Returns the bytes read
 * (out NUL-terminated), -1 when nothing came and the connection stayed open. */
static int read_until(int s, char *out, size_t cap, double secs, int *closed)
{
    size_t n = 0;
    double end = now_s() + secs;
    *closed = 0;
    out[0] = 0;
    while (n + 1 < cap) {
        int left = (int)((end - now_s()) * 1000);
        if (left <= 0)
            break;
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            break;
        ssize_t k = recv(s, out + n, cap - 1 - n, 0);
        if (k <= 0) {
            *closed = 1;
            break;
        }
        n += (size_t)k;
        out[n] = 0;
        if (strstr(out, "\r\n\r\n") && strstr(out, "}"))
            break; /* a whole problem or health answer */
    }
    return n || *closed ? (int)n : -1;
}

/* GET /healthz on a new connection; the status, or 0 when no answer came within secs. */
static int healthz_within(double secs, char *body, size_t cap)
{
    int s = dial();
    if (s < 0)
        return 0;
    const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    int st = 0, closed;
    if (send_all(s, req, sizeof req - 1) == 0 && read_until(s, body, cap, secs, &closed) > 0)
        sscanf(body, "HTTP/1.1 %d", &st);
    close(s);
    return st;
}

typedef struct {
    int fds[SLOW];
    int n;
    volatile int stop;
} trickle_t;

/* One byte a second on every socket: a header that never ends. */
static void *trickler(void *arg)
{
    trickle_t *t = arg;
    while (!t->stop) {
        for (int i = 0; i < t->n; i++)
            if (t->fds[i] >= 0 && send(t->fds[i], "a", 1, MSG_NOSIGNAL) != 1) {
                close(t->fds[i]);
                t->fds[i] = -1;
            }
        for (int w = 0; w < 10 && !t->stop; w++)
            sleep_ms(100);
    }
    return NULL;
}

static void test_trickling_headers_leave_healthz_answering(void **state)
{
    (void)state;
    static trickle_t t; /* static: a failed assertion leaves the trickler running */
    for (int i = 0; i < SLOW; i++) {
        int s = dial();
        assert_true(s >= 0);
        const char head[] = "GET /v1/requests HTTP/1.1\r\nHost: t\r\nX-Slow: ";
        assert_int_equal(send_all(s, head, sizeof head - 1), 0);
        t.fds[t.n++] = s;
    }
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, trickler, &t), 0);
    sleep_ms(1500); /* every slow socket now holds a worker */
    char body[2048];
    for (int i = 0; i < 3; i++) {
        double t0 = now_s();
        int st = healthz_within(2.0, body, sizeof body);
        fprintf(stderr, "healthz with %d trickling sockets: %d in %.3f s\n", SLOW, st,
                now_s() - t0);
        assert_int_equal(st, 200);
        sleep_ms(500);
    }
    t.stop = 1;
    pthread_join(th, NULL);
    for (int i = 0; i < t.n; i++)
        if (t.fds[i] >= 0)
            close(t.fds[i]);
}

static void test_over_the_cap_is_503_at_once(void **state)
{
    (void)state;
    const char *const env[] = {"DESK_THREADS=24", "DESK_MAX_CONNECTIONS=8",
                               "DESK_SWEEP_INTERVAL_MS=0", NULL};
    assert_int_equal(th_restart(env), 0);
    int held[8];
    for (int i = 0; i < 8; i++) {
        held[i] = dial();
        assert_true(held[i] >= 0);
        assert_int_equal(send_all(held[i], "GET /healthz HTTP/1.1\r\n", 23), 0);
    }
    sleep_ms(300);
    char body[2048];
    int st = healthz_within(2.0, body, sizeof body);
    assert_int_equal(st, 503);
    assert_non_null(strstr(body, "application/problem+json"));
    assert_non_null(strstr(body, "\"code\":\"overloaded\""));
    assert_non_null(strstr(body, "Connection: close"));
    assert_non_null(strstr(body, "Retry-After: 1"));
    for (int i = 0; i < 8; i++)
        close(held[i]);
    /* The slots come back as the held connections end. */
    for (int i = 0; i < 40 && (st = healthz_within(2.0, body, sizeof body)) != 200; i++)
        sleep_ms(100);
    assert_int_equal(st, 200);
}

static void test_header_and_body_have_deadlines(void **state)
{
    (void)state;
    const char *const env[] = {"DESK_REQUEST_TIMEOUT_MS=1000", "DESK_SWEEP_INTERVAL_MS=0", NULL};
    assert_int_equal(th_restart(env), 0);
    char buf[2048];
    int closed = 0;

    /* A header that never ends: the connection is dropped after the deadline. */
    int s = dial();
    assert_true(s >= 0);
    assert_int_equal(send_all(s, "GET /healthz HTTP/1.1\r\nX-Slow: ", 31), 0);
    double t0 = now_s();
    for (int i = 0; i < 8 && !closed; i++) {
        if (send(s, "a", 1, MSG_NOSIGNAL) != 1)
            break;
        read_until(s, buf, sizeof buf, 0.5, &closed);
    }
    double header_s = now_s() - t0;
    close(s);
    fprintf(stderr, "trickled header dropped after %.2f s\n", header_s);
    assert_true(closed);

    /* A body that stops half-way: 408 problem after the deadline, not a worker held
     * until the client gives up. */
    s = dial();
    assert_true(s >= 0);
    const char head[] = "POST /v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: "
                        "application/json\r\nContent-Length: 200\r\n\r\n{\"username\":";
    assert_int_equal(send_all(s, head, sizeof head - 1), 0);
    t0 = now_s();
    int n = read_until(s, buf, sizeof buf, 5.0, &closed);
    fprintf(stderr, "stalled body answered after %.2f s\n", now_s() - t0);
    close(s);
    assert_true(n > 0);
    if (!strstr(buf, "HTTP/1.1 408"))
        fprintf(stderr, "stalled body answer: %.300s\n", buf);
    assert_non_null(strstr(buf, "HTTP/1.1 408"));
    assert_non_null(strstr(buf, "\"code\":\"request_timeout\""));
    assert_int_equal(healthz_within(2.0, buf, sizeof buf), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trickling_headers_leave_healthz_answering),
        cmocka_unit_test(test_over_the_cap_is_503_at_once),
        cmocka_unit_test(test_header_and_body_have_deadlines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
