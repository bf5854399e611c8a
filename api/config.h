/*
 * api/config.h — service configuration from environment variables and the matching
 * command-line flags (flags win).  `deskd --help` lists them all.
 */
#ifndef API_CONFIG_H
#define API_CONFIG_H

#include <stddef.h>

typedef struct config {
    char listen[128];
    int threads;
    int max_connections; /* 0: threads - threads / 16 */
    int request_timeout_ms;
    int keepalive_timeout_ms;
    char database_url[1024];
    int pool_size;
    char database_read_url[1024]; /* "": every read on the primary */
    int read_pool_size;
    int pool_timeout_ms;
    char jwt_alg[16];
    char *jwt_secret; /* HS*: secret bytes */
    size_t jwt_secret_len;
    char *jwt_public_key; /* RS*/
    size_t jwt_public_key_len;
    char *jwt_private_key; /* RS*/
    size_t jwt_private_key_len;
    char jwt_issuer[256];
    char jwt_audience[256];
    int access_ttl;
    int refresh_ttl;
    int pbkdf2_iter;
    char log_level[16];
    size_t max_body;
    size_t import_max_body; /* POST /v1/imports, streamed */
    int import_timeout_s;
    char tls_cert[512];
    int sweep_interval_ms;
    int capa_interval_ms;       /* corrective-action and patrol clocks; 0: off */
    int audit_seal_interval_ms; /* 0: this server does not seal audit rows */
    int janitor_interval;       /* seconds between purges of expired rows */
    int webhook_poll_ms;        /* 0: no webhook delivery from this server */
    int webhook_workers;
    int webhook_timeout_ms;
    int webhook_backoff_ms;     /* first retry delay (the schedule's unit) */
    int webhook_allow_http;     /* 1: http:// to loopback receivers accepted */
    int webhook_allow_private;  /* 1: deliver to private/loopback/link-local addresses */
    int webhook_retention_days; /* delivered deliveries (and attempts) kept this long */
    char trusted_proxies[1024]; /* peers whose X-Forwarded-For is believed */
    int login_concurrency;      /* password hashes computed at once */
    char *pii_key; /* keys personal-data hashes (ID numbers); NULL when not configured */
    size_t pii_key_len;
    char *pii_key_previous; /* the key being rotated away from (--rehash-pii) */
    size_t pii_key_previous_len;
    char *webhook_key; /* DESK_WEBHOOK_KEY(_FILE): encrypts webhook secrets; NULL: from pii_key */
    size_t webhook_key_len;
    char *webhook_key_previous; /* DESK_WEBHOOK_KEY_PREVIOUS(_FILE): still decrypts */
    size_t webhook_key_previous_len;
    char *platform_token; /* DESK_PLATFORM_TOKEN(_FILE): /v1/platform; NULL: off */
    size_t platform_token_len;
    /* operator commands (api/platform_cli.c): run, print JSON, exit */
    char create_org[256];          /* organisation name */
    char org_code[80];             /* its code (derived from the name when empty) */
    char admin_username[80];       /* its first administrator */
    char admin_password_file[512]; /* "-": standard input; empty: prompt on the terminal */
    int list_orgs;
    char deactivate_org[80]; /* id or code */
    char activate_org[80];
    /* actions */
    int migrate;
    int seed_demo;
    int no_serve;
    int print_routes;
    int rehash_pii;
} config_t;

extern config_t g_config;

/* Fills g_config from the environment and argv.  Returns 0, 1 when --help was printed,
 * -1 on an error (message already printed). */
int config_load(int argc, char **argv);

#endif
