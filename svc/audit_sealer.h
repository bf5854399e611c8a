/*
 * svc/audit_sealer.h — the background worker that seals audit rows into their
 * organisations' hash chains (RULES §3.13): every DESK_AUDIT_SEAL_INTERVAL_MS (1000) it runs
 * audit_seal_pending() (db/migrations/0015_audit.sql) until no committed row is left
 * unsealed.  Writes never wait for the chain: their rows are inserted unsealed and sealed
 * here, in seal order; several servers may run it at once (a chain locked by one sealer is
 * skipped by the others).
 */
#ifndef SVC_AUDIT_SEALER_H
#define SVC_AUDIT_SEALER_H

/* interval_ms <= 0: no sealer on this server (another one must run it). */
void audit_sealer_start(int interval_ms);
void audit_sealer_stop(void);

#endif
