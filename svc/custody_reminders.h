/*
 * svc/custody_reminders.h — the custody areas' clocks (RULES §3.5.4, §3.6.4, §3.7.3): every
 * DESK_SWEEP_INTERVAL_MS it finds items past their due time, once each — mail uncollected
 * after DESK_MAIL_REMIND_DAYS (the project's agents are told to phone the recipient, each
 * call then an entry), found items unclaimed after DESK_LOST_UNCLAIMED_DAYS (the duty
 * managers: hand them to the police), archive loans overdue (the borrower and the clerks:
 * chase it), key loans overdue (the borrower and the project's agents: 按期催还; announced as
 * key.overdue) — marks the item (`reminded_at`) and notifies.
 */
#ifndef SVC_CUSTODY_REMINDERS_H
#define SVC_CUSTODY_REMINDERS_H

void custody_reminders_start(int interval_ms);
void custody_reminders_stop(void);

#endif
