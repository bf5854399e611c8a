/*
 * api/webhook_secret.h — webhook signing secrets at rest: AES-256-GCM under a server key,
 * bound to the subscription's organisation.
 *
 * Stored form: "whs1$<kid>$<base64 of 12-byte nonce ‖ ciphertext ‖ 16-byte tag>", the
 * organisation id as additional data.  The key: HKDF-SHA256 of DESK_WEBHOOK_KEY(_FILE) or,
 * when that is not set, of DESK_PII_KEY (another salt, so the two never coincide); kid names
 * it (8 hex of another HKDF output).  Reading tries every configured key by kid
 * (DESK_WEBHOOK_KEY, DESK_WEBHOOK_KEY_PREVIOUS, DESK_PII_KEY, DESK_PII_KEY_PREVIOUS), so a
 * key is rotated by configuring the new one with the old as previous and restarting: the
 * server re-encrypts every stored secret under the current key at start.  A stored value
 * without the prefix is a secret from before encryption (read as is, re-encrypted at start).
 */
#ifndef API_WEBHOOK_SECRET_H
#define API_WEBHOOK_SECRET_H

#define WHS_PREFIX "whs1$"

/* Encrypts plain for organisation org: a malloc'd stored form, or NULL (no key, or out of
 * memory / OpenSSL failure). */
char *whs_seal(const char *org, const char *plain);
/* The plaintext of stored (malloc'd), or NULL when it cannot be decrypted: unknown kid,
 * another organisation, tampered, or malformed. */
char *whs_open(const char *org, const char *stored);
/* 1 when stored is encrypted under the current key. */
int whs_is_current(const char *stored);
/* At start: re-encrypts every subscription secret not under the current key (plaintext or
 * an older key).  Returns how many subscriptions were rewritten, or -1 (logged). */
int whs_reseal_all(void);

#endif
