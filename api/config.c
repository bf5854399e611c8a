/* api/config.c — reads the environment, then flags; validates; loads key files. */
#include "api/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

config_t g_config;

typedef enum { T_STR, T_INT, T_SIZE, T_FLAG } opt_type_t;

static const struct opt {
    const char *flag;
    const char *env;
    opt_type_t type;
    size_t off;
    size_t len;
    const char *help;
} opts[] = {
#define S(f, e, m, h)                                                                              \
    {                                                                                              \
        f, e, T_STR, offsetof(config_t, m), sizeof(((config_t *)0)->m), h                          \
    }
#define I(f, e, m, h)                                                                              \
    {                                                                                              \
        f, e, T_INT, offsetof(config_t, m), 0, h                                                   \
    }
#define F(f, m, h)                                                                                 \
    {                                                                                              \
        f, NULL, T_FLAG, offsetof(config_t, m), 0, h                                               \
    }
    S("--listen", "DESK_LISTEN", listen, "address:port to serve on (127.0.0.1:8080)"),
    I("--threads", "DESK_THREADS", threads,
      "HTTP worker threads; each serves one connection at a time (256)"),
    I("--max-connections", "DESK_MAX_CONNECTIONS", max_connections,
      "connections served at once; more are answered 503 (threads - threads/16)"),
    I("--request-timeout-ms", "DESK_REQUEST_TIMEOUT_MS", request_timeout_ms,
      "a request's header, and its body, must arrive within it (10000)"),
    I("--keepalive-timeout-ms", "DESK_KEEPALIVE_TIMEOUT_MS", keepalive_timeout_ms,
      "an idle kept-alive connection is closed after it (5000)"),
    S("--database-url", "DATABASE_URL", database_url, "libpq connection string or URL"),
    I("--pool-size", "DESK_POOL_SIZE", pool_size, "database connections (8)"),
    S("--database-read-url", "DATABASE_READ_URL", database_read_url,
      "a streaming replica for lists, reports and search, with read-your-writes through "
      "X-Desk-LSN (none: every read on DATABASE_URL)"),
    I("--read-pool-size", "DESK_READ_POOL_SIZE", read_pool_size,
      "connections to DATABASE_READ_URL (the pool size)"),
    I("--pool-timeout-ms", "DESK_POOL_TIMEOUT_MS", pool_timeout_ms,
      "wait for a free connection before answering 503 (2000)"),
    S("--jwt-alg", "DESK_JWT_ALG", jwt_alg, "HS256 (default), HS384, HS512, RS256, ES256"),
    S("--jwt-issuer", "DESK_JWT_ISSUER", jwt_issuer, "iss claim issued and required (deskd)"),
    S("--jwt-audience", "DESK_JWT_AUDIENCE", jwt_audience,
      "aud claim issued and required (deskd-api)"),
    I("--access-ttl", "DESK_ACCESS_TTL", access_ttl, "access token lifetime, seconds (900)"),
    I("--refresh-ttl", "DESK_REFRESH_TTL", refresh_ttl,
      "refresh token lifetime, seconds (2592000)"),
    I("--pbkdf2-iterations", "DESK_PBKDF2_ITER", pbkdf2_iter,
      "PBKDF2-HMAC-SHA256 iterations for new password hashes (600000)"),
    S("--log-level", "DESK_LOG_LEVEL", log_level, "debug, info, warn, error (info)"),
    {"--max-body", "DESK_MAX_BODY", T_SIZE, offsetof(config_t, max_body), 0,
     "largest accepted request body, bytes (1048576)"},
    {"--import-max-body", "DESK_IMPORT_MAX_BODY", T_SIZE, offsetof(config_t, import_max_body), 0,
     "largest roster file POST /v1/imports accepts, bytes, read in chunks (67108864)"},
    I("--import-timeout-s", "DESK_IMPORT_TIMEOUT_S", import_timeout_s,
      "a roster file's upload must finish within it, seconds (600)"),
    S("--tls-cert", "DESK_TLS_CERT", tls_cert, "PEM file with certificate and key: serve HTTPS"),
    I("--sweep-interval-ms", "DESK_SWEEP_INTERVAL_MS", sweep_interval_ms,
      "SLA sweeper interval; 0 disables the background sweeper (10000)"),
    I("--capa-interval-ms", "DESK_CAPA_INTERVAL_MS", capa_interval_ms,
      "corrective-action deadlines and missed patrol rounds: wait between checks; 0 disables "
      "(60000)"),
    I("--audit-seal-interval-ms", "DESK_AUDIT_SEAL_INTERVAL_MS", audit_seal_interval_ms,
      "audit sealer: wait between seals of new audit rows into the chains; 0: another server "
      "seals (1000)"),
    I("--webhook-poll-ms", "DESK_WEBHOOK_POLL_MS", webhook_poll_ms,
      "webhook worker: wait between looks for due deliveries; 0 disables delivery (1000)"),
    I("--webhook-workers", "DESK_WEBHOOK_WORKERS", webhook_workers, "webhook delivery threads (2)"),
    I("--webhook-timeout-ms", "DESK_WEBHOOK_TIMEOUT_MS", webhook_timeout_ms,
      "a webhook attempt's whole HTTP exchange must finish within it (10000)"),
    I("--webhook-backoff-ms", "DESK_WEBHOOK_BACKOFF_MS", webhook_backoff_ms,
      "first retry delay; later ones are 4, 15, 60 ... 1440 times it (60000: 1 min ... 24 h)"),
    I("--webhook-allow-http", "DESK_WEBHOOK_ALLOW_HTTP", webhook_allow_http,
      "1: accept plain http:// webhook URLs to 127.0.0.1/localhost/[::1] (tests) (0)"),
    I("--webhook-allow-private", "DESK_WEBHOOK_ALLOW_PRIVATE", webhook_allow_private,
      "1: deliver webhooks to addresses of this host and private, link-local networks; 0 "
      "refuses them when connecting, whatever the URL's name resolves to (0)"),
    I("--webhook-retention-days", "DESK_WEBHOOK_RETENTION_DAYS", webhook_retention_days,
      "delivered webhook deliveries and their attempts are deleted this many days after "
      "delivery (30)"),
    I("--janitor-interval", "DESK_JANITOR_INTERVAL", janitor_interval,
      "seconds between purges of expired refresh tokens and idempotency keys (300)"),
    S("--trusted-proxies", "DESK_TRUSTED_PROXIES", trusted_proxies,
      "comma list of proxy IPs/CIDRs whose X-Forwarded-For names the client (none)"),
    I("--login-concurrency", "DESK_LOGIN_CONCURRENCY", login_concurrency,
      "password hashes computed at once; more logins wait briefly, then 503 (CPUs, >= 2)"),
    F("--migrate", migrate, "apply schema.sql / pending migrations before serving"),
    F("--seed-demo", seed_demo, "load the demo organisation if it is absent"),
    F("--no-serve", no_serve, "exit after --migrate / --seed-demo"),
    F("--print-routes", print_routes, "print the served routes and exit"),
    F("--rehash-pii", rehash_pii,
      "re-key stored ID-number hashes from DESK_PII_KEY_PREVIOUS to DESK_PII_KEY, then exit"),
    S("--create-org", NULL, create_org,
      "create organisation NAME with its first --admin (idempotent), print ids, exit"),
    S("--admin", NULL, admin_username, "user name of the --create-org administrator"),
    S("--admin-password-file", NULL, admin_password_file,
      "file holding the --admin password ('-': stdin; default: prompt on the terminal)"),
    S("--org-code", NULL, org_code, "code of the --create-org organisation (from the name)"),
    F("--list-orgs", list_orgs, "print every organisation (JSON), exit"),
    S("--deactivate-org", NULL, deactivate_org,
      "deactivate organisation ID (or code): its users are refused, exit"),
    S("--activate-org", NULL, activate_org, "activate organisation ID (or code) again, exit"),
#undef S
#undef I
#undef F
};

static int set_opt(const struct opt *o, const char *val)
{
    char *base = (char *)&g_config + o->off;
    switch (o->type) {
    case T_STR:
        if (strlen(val) >= o->len) {
            fprintf(stderr, "deskd: value for %s is too long\n", o->flag);
            return -1;
        }
        strcpy(base, val);
        return 0;
    case T_INT:
    case T_SIZE: {
        char *end;
        long long v = strtoll(val, &end, 10);
        if (*val == 0 || *end || v < 0 || v > 1000000000LL) {
            fprintf(stderr, "deskd: %s wants a non-negative integer, got '%s'\n", o->flag, val);
            return -1;
        }
        if (o->type == T_INT)
            *(int *)base = (int)v;
        else
            *(size_t *)base = (size_t)v;
        return 0;
    }
    case T_FLAG:
        *(int *)base = 1;
        return 0;
    }
    return -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, 4096, f);
        n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Reads a key from NAME_FILE (trailing newlines dropped) or NAME.  0 when neither is set,
 * 1 loaded, -1 error (printed). */
static int load_key(const char *name, char **out, size_t *len)
{
    char fname[64];
    snprintf(fname, sizeof fname, "%s_FILE", name);
    const char *file = getenv(fname);
    const char *val = getenv(name);
    *out = NULL;
    *len = 0;
    if (file && *file) {
        *out = read_file(file, len);
        if (!*out) {
            fprintf(stderr, "deskd: cannot read %s %s\n", fname, file);
            return -1;
        }
        while (*len && ((*out)[*len - 1] == '\n' || (*out)[*len - 1] == '\r'))
            (*out)[--*len] = 0;
    } else if (val && *val) {
        *out = strdup(val);
        *len = strlen(val);
    } else {
        return 0;
    }
    if (!*out || *len < 32) {
        fprintf(stderr, "deskd: %s (or %s) must be at least 32 bytes\n", name, fname);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 1;
}

static void usage(void)
{
    printf("usage: deskd [options]\n\nEvery option can also be set by the environment variable "
           "shown.\n\n");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        printf("  %-22s %-24s %s\n", opts[i].flag, opts[i].env ? opts[i].env : "", opts[i].help);
    printf(
        "\nKeys: DESK_JWT_SECRET or DESK_JWT_SECRET_FILE (HS*, at least 32 bytes);\n"
        "      DESK_JWT_PUBLIC_KEY_FILE (RS*/ES*: verify) and DESK_JWT_PRIVATE_KEY_FILE\n"
        "      (RS*/ES*: sign tokens at login; without it only external tokens work).\n"
        "Metrics: DESK_METRICS_TOKEN, the bearer token GET /metrics requires (unset: off).\n"
        "Platform: DESK_PLATFORM_TOKEN or DESK_PLATFORM_TOKEN_FILE (at least 32 bytes), the\n"
        "      hosting operator's bearer token for /v1/platform/organisations (unset: off).\n"
        "PII:  DESK_PII_KEY or DESK_PII_KEY_FILE (at least 32 bytes; keys ID-number hashes;\n"
        "      required to serve); DESK_PII_KEY_PREVIOUS or _FILE (only for --rehash-pii).\n"
        "Webhooks: DESK_WEBHOOK_KEY or _FILE (at least 32 bytes) encrypts subscription secrets\n"
        "      (AES-256-GCM; unset: a key derived from DESK_PII_KEY); DESK_WEBHOOK_KEY_PREVIOUS\n"
        "      or _FILE still decrypts (rotation: secrets are re-encrypted at start).\n");
}

/* The built-in defaults (also named in each option's help). */
static void set_defaults(config_t *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->listen, "127.0.0.1:8080");
    c->threads = 256;
    c->request_timeout_ms = 10000;
    c->keepalive_timeout_ms = 5000;
    c->pool_size = 8;
    c->pool_timeout_ms = 2000;
    strcpy(c->jwt_alg, "HS256");
    strcpy(c->jwt_issuer, "deskd");
    strcpy(c->jwt_audience, "deskd-api");
    c->access_ttl = 900;
    c->refresh_ttl = 30 * 86400;
    c->pbkdf2_iter = 600000;
    strcpy(c->log_level, "info");
    c->max_body = 1 << 20;
    c->import_max_body = (size_t)64 << 20;
    c->import_timeout_s = 600;
    c->sweep_interval_ms = 10000;
    c->capa_interval_ms = 60000;
    c->audit_seal_interval_ms = 1000;
    c->janitor_interval = 300;
    c->webhook_retention_days = 30;
    c->webhook_poll_ms = 1000;
    c->webhook_workers = 2;
    c->webhook_timeout_ms = 10000;
    c->webhook_backoff_ms = 60000;
}

/* The environment, then the flags over it.  0, 1 after --help, -1 on an error (printed). */
static int read_options(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
        if (v && *v && set_opt(&opts[i], v) != 0)
            return -1;
    }
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            usage();
            return 1;
        }
        const struct opt *o = NULL;
        const char *val = NULL;
        for (size_t i = 0; i < sizeof opts / sizeof opts[0] && !o; i++) {
            size_t fl = strlen(opts[i].flag);
            if (!strncmp(argv[a], opts[i].flag, fl) && (argv[a][fl] == 0 || argv[a][fl] == '=')) {
                o = &opts[i];
                if (argv[a][fl] == '=')
                    val = argv[a] + fl + 1;
            }
        }
        if (!o) {
            fprintf(stderr, "deskd: unknown option '%s' (see --help)\n", argv[a]);
            return -1;
        }
        if (o->type != T_FLAG && !val) {
            if (a + 1 >= argc) {
                fprintf(stderr, "deskd: %s needs a value\n", o->flag);
                return -1;
            }
            val = argv[++a];
        }
        if (set_opt(o, val ? val : "") != 0)
            return -1;
    }
    return 0;
}

/* Settings that cannot work together or out of range.  0, or -1 (printed).  Fills in
 * max_connections when it was not given. */
static int check_settings(config_t *c)
{
    if (!c->database_url[0]) {
        fprintf(stderr, "deskd: set DATABASE_URL or --database-url\n");
        return -1;
    }
    if (c->import_max_body < 1024 || c->import_timeout_s < 1) {
        fprintf(stderr, "deskd: import max body must be >= 1024 and import timeout >= 1 s\n");
        return -1;
    }
    if (c->threads < 1 || c->pool_size < 1 || c->max_body < 1024) {
        fprintf(stderr, "deskd: threads and pool size must be >= 1, max body >= 1024\n");
        return -1;
    }
    if (!c->max_connections)
        c->max_connections = c->threads - c->threads / 16;
    if (c->max_connections > c->threads) {
        fprintf(stderr, "deskd: --max-connections may not exceed --threads (each connection "
                        "holds a worker; keep some spare to answer 503)\n");
        return -1;
    }
    if (c->request_timeout_ms < 100 || c->keepalive_timeout_ms < 100) {
        fprintf(stderr, "deskd: request and keep-alive timeouts must be at least 100 ms\n");
        return -1;
    }
    if (c->tls_cert[0] && !getenv("DESK_TLS_FORCE")) {
        /* Debian 12's civetweb 1.15 crashes on the first TLS request with OpenSSL 3
         * (upstream civetweb issues #1047, #1316); serving TLS with it would take the
         * service down on the first HTTPS call.  Refuse clearly instead. */
        fprintf(stderr,
                "deskd: --tls-cert: the civetweb library on this system cannot serve TLS with "
                "OpenSSL 3 (it crashes on the first request).  Terminate TLS in a reverse proxy "
                "(nginx, haproxy) in front of deskd, or set DESK_TLS_FORCE=1 with a civetweb "
                "built against OpenSSL 3.\n");
        return -1;
    }
    if (c->pbkdf2_iter < 1000) {
        fprintf(stderr, "deskd: --pbkdf2-iterations must be at least 1000\n");
        return -1;
    }
    if (c->webhook_retention_days < 1 || c->webhook_retention_days > 36500) {
        fprintf(stderr, "deskd: --webhook-retention-days must be 1 to 36500\n");
        return -1;
    }
    if (c->janitor_interval < 1) {
        fprintf(stderr, "deskd: --janitor-interval must be at least 1 second\n");
        return -1;
    }
    if (c->webhook_workers < 1 || c->webhook_workers > 64 || c->webhook_timeout_ms < 100 ||
        c->webhook_timeout_ms > 600000 || c->webhook_allow_http > 1 || c->webhook_allow_http < 0 ||
        c->webhook_allow_private > 1 || c->webhook_allow_private < 0 ||
        c->webhook_backoff_ms > 86400000) {
        fprintf(stderr, "deskd: webhook settings: workers 1-64, timeout 100-600000 ms, back-off "
                        "at most 86400000 ms, allow-http and allow-private 0 or 1\n");
        return -1;
    }
    if (c->create_org[0] && !c->admin_username[0]) {
        fprintf(stderr, "deskd: --create-org needs --admin USERNAME (its first administrator)\n");
        return -1;
    }
    if (!c->create_org[0] &&
        (c->admin_username[0] || c->admin_password_file[0] || c->org_code[0])) {
        fprintf(stderr,
                "deskd: --admin, --admin-password-file and --org-code go with --create-org\n");
        return -1;
    }
    return 0;
}

/* The token-signing keys for --jwt-alg: an HS secret, or RS/ES key files.  offline: an
 * operator command that never serves, which needs no HS secret.  0, or -1 (printed). */
static int load_jwt_keys(config_t *c, int offline)
{
    const char *secret = getenv("DESK_JWT_SECRET");
    const char *secret_file = getenv("DESK_JWT_SECRET_FILE");
    if (!strncmp(c->jwt_alg, "HS", 2)) {
        if (secret_file && *secret_file) {
            c->jwt_secret = read_file(secret_file, &c->jwt_secret_len);
            if (!c->jwt_secret) {
                fprintf(stderr, "deskd: cannot read DESK_JWT_SECRET_FILE %s\n", secret_file);
                return -1;
            }
            while (c->jwt_secret_len && (c->jwt_secret[c->jwt_secret_len - 1] == '\n' ||
                                         c->jwt_secret[c->jwt_secret_len - 1] == '\r'))
                c->jwt_secret[--c->jwt_secret_len] = 0;
        } else if (secret && *secret) {
            c->jwt_secret = strdup(secret);
            c->jwt_secret_len = strlen(secret);
        }
        if ((!c->jwt_secret || c->jwt_secret_len < 32) && !offline) {
            fprintf(stderr, "deskd: set DESK_JWT_SECRET (or _FILE) to at least 32 bytes\n");
            return -1;
        }
    } else if (!strncmp(c->jwt_alg, "RS", 2) || !strncmp(c->jwt_alg, "ES", 2)) {
        const char *pub = getenv("DESK_JWT_PUBLIC_KEY_FILE");
        const char *priv = getenv("DESK_JWT_PRIVATE_KEY_FILE");
        if (!pub || !(c->jwt_public_key = read_file(pub, &c->jwt_public_key_len))) {
            fprintf(stderr, "deskd: %s needs DESK_JWT_PUBLIC_KEY_FILE\n", c->jwt_alg);
            return -1;
        }
        if (priv && *priv && !(c->jwt_private_key = read_file(priv, &c->jwt_private_key_len))) {
            fprintf(stderr, "deskd: cannot read DESK_JWT_PRIVATE_KEY_FILE %s\n", priv);
            return -1;
        }
    } else {
        fprintf(stderr, "deskd: unsupported --jwt-alg '%s'\n", c->jwt_alg);
        return -1;
    }
    return 0;
}

int config_load(int argc, char **argv)
{
    config_t *c = &g_config;
    set_defaults(c);
    int rc = read_options(argc, argv);
    if (rc != 0)
        return rc;
    if (check_settings(c) != 0)
        return -1;
    if (load_key("DESK_PLATFORM_TOKEN", &c->platform_token, &c->platform_token_len) < 0)
        return -1;
    /* Operator commands that never serve need no token keys. */
    int offline = c->create_org[0] || c->list_orgs || c->deactivate_org[0] || c->activate_org[0];
    if (load_key("DESK_PII_KEY", &c->pii_key, &c->pii_key_len) < 0 ||
        load_key("DESK_PII_KEY_PREVIOUS", &c->pii_key_previous, &c->pii_key_previous_len) < 0 ||
        load_key("DESK_WEBHOOK_KEY", &c->webhook_key, &c->webhook_key_len) < 0 ||
        load_key("DESK_WEBHOOK_KEY_PREVIOUS", &c->webhook_key_previous,
                 &c->webhook_key_previous_len) < 0)
        return -1;
    return load_jwt_keys(c, offline);
}
