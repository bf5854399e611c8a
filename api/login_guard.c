/* api/login_guard.c — see api/login_guard.h. */
#include "api/login_guard.h"
#include "api/config.h"
#include "api/http.h"
#include "db/log.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- trusted proxies */

typedef struct net {
    int family; /* AF_INET / AF_INET6 */
    unsigned char addr[16];
    int bits;
} net_t;

#define MAX_PROXIES 64
static net_t proxies[MAX_PROXIES];
static int nproxies;

/* Parses an IPv4/IPv6 address (no prefix) into family/bytes; 0 / -1. */
static int parse_ip(const char *s, int *family, unsigned char out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        /* An IPv4-mapped IPv6 address is the IPv4 address. */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(out, mapped, 12)) {
            memmove(out, out + 12, 4);
            memset(out + 4, 0, 12);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

static int parse_net(const char *s, net_t *n)
{
    char ip[64];
    const char *slash = strchr(s, '/');
    size_t l = slash ? (size_t)(slash - s) : strlen(s);
    if (l == 0 || l >= sizeof ip)
        return -1;
    memcpy(ip, s, l);
    ip[l] = 0;
    if (parse_ip(ip, &n->family, n->addr) != 0)
        return -1;
    int max = n->family == AF_INET ? 32 : 128;
    n->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || b < 0 || b > max)
            return -1;
        n->bits = (int)b;
    }
    return 0;
}

static int net_contains(const net_t *n, int family, const unsigned char a[16])
{
    if (n->family != family)
        return 0;
    int full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, a, (size_t)full) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (n->addr[full] & mask) == (a[full] & mask);
}

static int trusted(const char *ip)
{
    int fam;
    unsigned char a[16];
    if (parse_ip(ip, &fam, a) != 0)
        return 0;
    for (int i = 0; i < nproxies; i++)
        if (net_contains(&proxies[i], fam, a))
            return 1;
    return 0;
}

static int parse_proxies(const char *list)
{
    char buf[sizeof g_config.trusted_proxies];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (nproxies == MAX_PROXIES || parse_net(t, &proxies[nproxies]) != 0) {
            char esc[128];
            log_write(LOG_ERROR, "DESK_TRUSTED_PROXIES: not an IP address or CIDR (at most 64)",
                      "\"entry\":\"%s\"", log_esc(t, esc, sizeof esc));
            return -1;
        }
        nproxies++;
    }
    return 0;
}

void guard_client_addr(req_t *r, char out[GUARD_ADDR_LEN])
{
    const char *peer = r->ri ? r->ri->remote_addr : "";
    snprintf(out, GUARD_ADDR_LEN, "%s", peer);
    if (!nproxies || !trusted(peer))
        return;
    const char *xff = http_header(r, "X-Forwarded-For");
    if (!xff)
        return;
    /* Walk from the right: each hop was appended by the proxy before it. */
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        char hop[GUARD_ADDR_LEN];
        int fam;
        unsigned char bytes[16];
        if (b - a <= 0 || (size_t)(b - a) >= sizeof hop)
            return; /* garbage: keep the last proxy we could believe */
        memcpy(hop, a, (size_t)(b - a));
        hop[b - a] = 0;
        if (parse_ip(hop, &fam, bytes) != 0)
            return;
        snprintf(out, GUARD_ADDR_LEN, "%s", hop);
        if (!trusted(hop))
            return;
        end = start > xff ? start - 1 : xff;
    }
}

/* ---------------------------------------------------------------- failure counters */

#define SLOTS      8192
#define PROBE      16
#define KEY_LEN    160
#define FORGET_S   900
#define BASE_LOCK  30
#define LIMIT_PAIR 5
#define LIMIT_ADDR 100
#define LIMIT_USER 50
#define MAX_LOCK   900
#define MAX_LOCK_U 300

typedef struct slot {
    char key[KEY_LEN];
    int fails;
    int64_t last_fail;
    int64_t locked_until;
} slot_t;

static slot_t *slots;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot for key (created when `create`), or NULL.  Caller holds mu. */
static slot_t *find(const char *key, int create, int64_t now)
{
    if (!slots)
        return NULL;
    uint64_t h = fnv(key);
    slot_t *victim = NULL;
    int64_t best = INT64_MIN;
    for (int i = 0; i < PROBE; i++) {
        slot_t *s = &slots[(h + (uint64_t)i) % SLOTS];
        if (s->key[0] && !strcmp(s->key, key)) {
            if (now - s->last_fail > FORGET_S && s->locked_until <= now)
                s->fails = 0;
            return s;
        }
        /* Reuse an empty slot, else the longest idle one; a live lock only as a last resort. */
        int64_t score = !s->key[0] ? INT64_MAX : s->locked_until > now ? -1 : now - s->last_fail;
        if (score > best) {
            best = score;
            victim = s;
        }
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof *victim);
    snprintf(victim->key, KEY_LEN, "%s", key);
    return victim;
}

static void keys(const char *user, const char *addr, char k[3][KEY_LEN])
{
    char lu[72];
    size_t i = 0;
    for (; user[i] && i < sizeof lu - 1; i++)
        lu[i] = (char)tolower((unsigned char)user[i]);
    lu[i] = 0;
    snprintf(k[0], KEY_LEN, "p\x1f%s\x1f%s", lu, addr);
    snprintf(k[1], KEY_LEN, "a\x1f%s", addr);
    snprintf(k[2], KEY_LEN, "u\x1f%s", lu);
}

int guard_check(const char *user, const char *addr)
{
    char k[3][KEY_LEN];
    keys(user, addr, k);
    int64_t now = (int64_t)time(NULL);
    int64_t wait = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < 3; i++) {
        slot_t *s = find(k[i], 0, now);
        if (s && s->locked_until - now > wait)
            wait = s->locked_until - now;
    }
    pthread_mutex_unlock(&mu);
    return (int)wait;
}

void guard_failed(const char *user, const char *addr)
{
    static const int limit[3] = {LIMIT_PAIR, LIMIT_ADDR, LIMIT_USER};
    static const int cap[3] = {MAX_LOCK, MAX_LOCK, MAX_LOCK_U};
    char k[3][KEY_LEN];
    keys(user, addr, k);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&mu);
    for (int i = 0; i < 3; i++) {
        slot_t *s = find(k[i], 1, now);
        if (!s)
            continue;
        s->fails++;
        s->last_fail = now;
        if (s->fails >= limit[i]) {
            int over = s->fails - limit[i];
            int64_t lock = over >= 10 ? cap[i] : (int64_t)BASE_LOCK << over;
            s->locked_until = now + (lock > cap[i] ? cap[i] : lock);
        }
    }
    pthread_mutex_unlock(&mu);
}

void guard_succeeded(const char *user, const char *addr)
{
    char k[3][KEY_LEN];
    keys(user, addr, k);
    pthread_mutex_lock(&mu);
    slot_t *s = find(k[0], 0, (int64_t)time(NULL));
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&mu);
}

/* ---------------------------------------------------------------- hashing slots */

#define HASH_WAIT_MS 1000
static pthread_mutex_t hmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hcv = PTHREAD_COND_INITIALIZER;
static int hash_cap, hash_active, hash_waiting;

int guard_hash_enter(void)
{
    pthread_mutex_lock(&hmu);
    if (hash_active >= hash_cap) {
        /* Only as many may wait as may run: the rest are told to come back at once, so a
         * flood of logins never holds more than 2 * cap workers. */
        if (hash_waiting >= hash_cap) {
            pthread_mutex_unlock(&hmu);
            return -1;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HASH_WAIT_MS / 1000;
        until.tv_nsec += (long)(HASH_WAIT_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        hash_waiting++;
        int timed_out = 0;
        while (hash_active >= hash_cap && !timed_out)
            timed_out = pthread_cond_timedwait(&hcv, &hmu, &until) != 0;
        hash_waiting--;
        if (hash_active >= hash_cap) {
            pthread_mutex_unlock(&hmu);
            return -1;
        }
    }
    hash_active++;
    pthread_mutex_unlock(&hmu);
    return 0;
}

void guard_hash_leave(void)
{
    pthread_mutex_lock(&hmu);
    hash_active--;
    pthread_cond_signal(&hcv);
    pthread_mutex_unlock(&hmu);
}

int guard_init(void)
{
    if (parse_proxies(g_config.trusted_proxies) != 0)
        return -1;
    hash_cap = g_config.login_concurrency;
    if (hash_cap < 1) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        hash_cap = n < 2 ? 2 : (int)n;
    }
    if (!slots)
        slots = calloc(SLOTS, sizeof *slots);
    if (!slots) {
        log_write(LOG_ERROR, "out of memory for the login throttle", NULL);
        return -1;
    }
    return 0;
}
