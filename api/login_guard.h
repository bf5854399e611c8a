/*
 * api/login_guard.h — what stands between a login flood and the password hashes: the
 * client's address (X-Forwarded-For believed only from configured trusted proxies),
 * failed-login throttles, and a cap on password hashes computed at once.
 *
 * Failures are counted under three keys, each with its own limit; a key over its limit is
 * refused (429 + Retry-After) before any hashing, the lock doubling from 30 s with every
 * further failure once it passes:
 *   - the (user name, address) pair: 5 failures — guessing from one address never locks the
 *     owner out from another;
 *   - the address: 100 failures over any names;
 *   - the user name, over all addresses: 50 failures (locks at most 5 minutes), so a guesser
 *     with many addresses is slowed down without the owner being shut out for long.
 * A key forgets its failures 15 minutes after the last one; a success clears the pair only.
 * Counters live in memory (per deskd process, bounded: the least recently used entries are
 * reused) and count unknown user names exactly like real ones.
 */
#ifndef API_LOGIN_GUARD_H
#define API_LOGIN_GUARD_H

#include <stddef.h>

struct req;

#define GUARD_ADDR_LEN 64

/* Parses DESK_TRUSTED_PROXIES and sizes the hashing cap.  0 / -1 (logged). */
int guard_init(void);
/* The client address of r: the peer, or, when the peer is a trusted proxy, the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy. */
void guard_client_addr(struct req *r, char out[GUARD_ADDR_LEN]);
/* Seconds the (user, addr) login must wait; 0 when it may proceed. */
int guard_check(const char *user, const char *addr);
void guard_failed(const char *user, const char *addr);
void guard_succeeded(const char *user, const char *addr);
/* Takes a hashing slot: waits briefly when all are busy; -1 when still none (answer 503). */
int guard_hash_enter(void);
void guard_hash_leave(void);

#endif
