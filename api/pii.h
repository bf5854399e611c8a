/*
 * api/pii.h — keyed, verifiable-but-unreadable hashes of personal data (ID numbers), under
 * a key of their own (DESK_PII_KEY), never the JWT secret.
 *
 * Stored form: "pii1$<kid>$<64 hex>", where kid names the key (8 hex of a hash of it) and the
 * hex is AES-256 (one fixed permutation per key) of SHA-256 of the value.  Without the key the
 * stored text cannot be tested against guesses; with it, a value is checked by recomputing.
 * Because the permutation can be inverted by the key holder, a stored hash can be moved from
 * one key to another without the original value: `deskd --rehash-pii`.
 */
#ifndef API_PII_H
#define API_PII_H

#include <stddef.h>

#define PII_HASH_LEN 80 /* buffer size for a stored hash, NUL included */

/* Hash of value under the configured DESK_PII_KEY into out.  0 / -1 (no key). */
int pii_hash(const char *value, char out[PII_HASH_LEN]);
/* 1 when value matches stored (under DESK_PII_KEY or DESK_PII_KEY_PREVIOUS), else 0. */
int pii_matches(const char *value, const char *stored);
/* Re-keys stored from DESK_PII_KEY_PREVIOUS to DESK_PII_KEY.  1 re-keyed into out, 0 already
 * under the current key, -1 not convertible (another key, or the legacy JWT-keyed form). */
int pii_rekey(const char *stored, char out[PII_HASH_LEN]);
/* `deskd --rehash-pii`: re-keys every stored ID-number hash; 0 / -1 (logged). */
int pii_rehash_all(void);

#endif
