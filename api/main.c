/*
 * api/main.c — start-up: configuration, schema check or migration, optional demo data,
 * the resource registrations, the HTTP server, and a graceful stop on SIGTERM/SIGINT
 * (civetweb finishes in-flight requests, then the pool closes).
 */
#include "api/api.h"
#include "api/auth.h"
#include "api/config.h"
#include "api/webhook_secret.h"
#include "api/http.h"
#include "api/pii.h"
#include "api/platform.h"
#include "svc/report_worker.h"
#include "svc/callback_worker.h"
#include "svc/duty_check.h"
#include "api/webhook_worker.h"
#include "db/db.h"
#include "db/demo.h"
#include "db/log.h"
#include "svc/audit_sealer.h"
#include "svc/custody_reminders.h"
#include "svc/capa_worker.h"
#include "svc/janitor.h"
#include "svc/sla.h"
#include "svc/sweeper.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int prepare_database(void)
{
    db_conn_t *c = db_acquire();
    if (!c) {
        log_write(LOG_ERROR, "database unreachable at start-up", NULL);
        return -1;
    }
    int rc = -1;
    char err[1024] = "";
    if (g_config.migrate && db_schema_migrate(c, err, sizeof err) != 0) {
        char esc[1100];
        log_write(LOG_ERROR, "migration failed", "\"detail\":\"%s\"",
                  log_esc(err, esc, sizeof esc));
        goto out;
    }
    int cur = db_schema_current_version(c), want = db_schema_compiled_version();
    if (cur > want) {
        log_write(LOG_ERROR, "database schema is newer than this server; refusing to start",
                  "\"database\":%d,\"server\":%d", cur, want);
        goto out;
    }
    if (cur < want) {
        log_write(LOG_ERROR, "database schema is older than this server; run with --migrate",
                  "\"database\":%d,\"server\":%d", cur, want);
        goto out;
    }
    if (g_config.seed_demo) {
        const char *pw = getenv("DESK_DEMO_PASSWORD");
        char hash[200];
        if (!pw || !*pw)
            pw = "demo-pass-2026";
        auth_password_hash(pw, g_config.pbkdf2_iter, hash, sizeof hash);
        /* The demo depositor's ID card (README): kept as its keyed hash only. */
        char id_hash[PII_HASH_LEN];
        int have_id = pii_hash(DEMO_ID_NUMBER, id_hash) == 0;
        int s = db_demo_seed(c, "demo", "示范物业服务有限公司", "", hash, have_id ? id_hash : NULL);
        if (s < 0)
            goto out;
        log_write(LOG_INFO, s ? "demo organisation loaded" : "demo organisation already present",
                  NULL);
    }
    /* Every project runs the SPEC §4 defaults until an administrator changes them. */
    if (sla_ensure_defaults(c) != 0) {
        log_write(LOG_ERROR, "could not install the default SLA policies", NULL);
        goto out;
    }
    rc = 0;
out:
    db_release(c);
    return rc;
}

int main(int argc, char **argv)
{
    int cl = config_load(argc, argv);
    if (cl != 0)
        return cl > 0 ? 0 : 2;
    int lvl = log_level_from_string(g_config.log_level);
    log_set_level(lvl < 0 ? LOG_INFO : (log_level_t)lvl);
    if (auth_init() != 0)
        return 2;
    api_register_all();
    if (g_config.print_routes) {
        http_routes_print();
        return 0;
    }
    db_pool_init(g_config.database_url, g_config.pool_size, g_config.pool_timeout_ms);
    if (g_config.database_read_url[0])
        db_pool_init_read(g_config.database_read_url,
                          g_config.read_pool_size > 0 ? g_config.read_pool_size
                                                      : g_config.pool_size,
                          g_config.pool_timeout_ms);
    if (prepare_database() != 0)
        return 1;
    if (platform_cli_wanted()) {
        int pc = platform_cli_run();
        db_pool_shutdown();
        return pc;
    }
    if (g_config.rehash_pii) {
        int rh = pii_rehash_all();
        db_pool_shutdown();
        return rh == 0 ? 0 : 1;
    }
    if (g_config.no_serve) {
        db_pool_shutdown();
        return 0;
    }
    if (!g_config.pii_key) {
        /* ID numbers would be stored unprotected (or not at all): refuse to serve. */
        log_write(LOG_ERROR,
                  "set DESK_PII_KEY or DESK_PII_KEY_FILE (32+ random bytes, kept apart from the "
                  "JWT secret) to serve",
                  NULL);
        db_pool_shutdown();
        return 2;
    }
    /* Subscription secrets stored in plain text or under a rotated-out key: re-encrypted. */
    whs_reseal_all();
    signal(SIGPIPE, SIG_IGN);
    /* SIGINT and SIGTERM are blocked before any thread starts (every thread inherits the
     * mask) and taken by sigwait() below: a process-directed signal may be delivered to any
     * thread that does not block it, and a handler run by a worker thread never woke the
     * main thread's pause() — the server then ignored SIGTERM for good. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    http_options_t opt = {.listen = g_config.listen,
                          .threads = g_config.threads,
                          .max_body = g_config.max_body,
                          .tls_cert = g_config.tls_cert[0] ? g_config.tls_cert : NULL,
                          .max_connections = g_config.max_connections,
                          .request_timeout_ms = g_config.request_timeout_ms,
                          .keepalive_timeout_ms = g_config.keepalive_timeout_ms};
    if (http_start(&opt) != 0) {
        log_write(LOG_ERROR, "cannot listen", "\"listen\":\"%s\"", g_config.listen);
        return 1;
    }
    sweeper_start(g_config.sweep_interval_ms);
    custody_reminders_start(g_config.sweep_interval_ms);
    janitor_set_webhook_retention(g_config.webhook_retention_days);
    janitor_start(g_config.janitor_interval);
    webhook_worker_start();
    report_worker_start(g_config.janitor_interval);
    callback_worker_start(g_config.sweep_interval_ms);
    audit_sealer_start(g_config.audit_seal_interval_ms);
    duty_check_start(g_config.sweep_interval_ms);
    capa_worker_start(g_config.capa_interval_ms);
    log_write(LOG_INFO, "serving",
              "\"listen\":\"%s\",\"threads\":%d,\"max_connections\":%d,\"pool\":%d,"
              "\"read_replica\":%s",
              g_config.listen, g_config.threads, g_config.max_connections, g_config.pool_size,
              db_read_pool_enabled() ? "true" : "false");
    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    log_write(LOG_INFO, "stopping: finishing in-flight requests", NULL);
    sweeper_stop();
    custody_reminders_stop();
    janitor_stop();
    webhook_worker_stop();
    report_worker_stop();
    callback_worker_stop();
    audit_sealer_stop();
    duty_check_stop();
    capa_worker_stop();
    http_stop();
    db_pool_shutdown();
    log_write(LOG_INFO, "stopped", NULL);
    return 0;
}
