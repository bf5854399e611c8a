/* api/pii.c — see api/pii.h. */
#include "api/pii.h"
#include "core/hex.h"
#include "api/config.h"
#include "db/log.h"
#include "db/pii.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pii_key {
    unsigned char aes[32];
    char kid[9];
} pii_key_t;

/* SHA-256 of a domain label (its NUL included, for separation) followed by data. */
static void digest(const char *label, const void *data, size_t len, unsigned char out[32])
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    unsigned n = 0;
    if (!x || !EVP_DigestInit_ex(x, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(x, label, strlen(label) + 1) || !EVP_DigestUpdate(x, data, len) ||
        !EVP_DigestFinal_ex(x, out, &n))
        abort(); /* out of memory inside OpenSSL: nothing sensible to hash with */
    EVP_MD_CTX_free(x);
}

static void derive(const char *key, size_t len, pii_key_t *k)
{
    unsigned char d[32];
    digest("deskd-pii-aes", key, len, k->aes);
    digest("deskd-pii-kid", key, len, d);
    core_hex_encode(d, 4, k->kid);
    OPENSSL_cleanse(d, sizeof d);
}

/* AES-256 of two blocks, no padding (the input is a pseudo-random digest). */
static int permute(const pii_key_t *k, int enc, const unsigned char in[32], unsigned char out[32])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0,
        ok = x && EVP_CipherInit_ex(x, EVP_aes_256_ecb(), NULL, k->aes, NULL, enc) &&
             EVP_CIPHER_CTX_set_padding(x, 0) && EVP_CipherUpdate(x, out, &n1, in, 32) &&
             EVP_CipherFinal_ex(x, out + n1, &n2) && n1 + n2 == 32;
    EVP_CIPHER_CTX_free(x);
    return ok ? 0 : -1;
}

static void format(const pii_key_t *k, const unsigned char c[32], char out[PII_HASH_LEN])
{
    int o = snprintf(out, PII_HASH_LEN, "pii1$%s$", k->kid);
    core_hex_encode(c, 32, out + o);
}

/* Splits "pii1$<kid>$<hex>"; 0 / -1. */
static int parse(const char *stored, char kid[9], unsigned char c[32])
{
    if (strncmp(stored, "pii1$", 5) != 0 || strlen(stored) != 5 + 8 + 1 + 64 || stored[13] != '$')
        return -1;
    memcpy(kid, stored + 5, 8);
    kid[8] = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(stored + 14 + 2 * i, "%2x", &v) != 1)
            return -1;
        c[i] = (unsigned char)v;
    }
    return 0;
}

static int current(pii_key_t *k)
{
    if (!g_config.pii_key)
        return -1;
    derive(g_config.pii_key, g_config.pii_key_len, k);
    return 0;
}

static int previous(pii_key_t *k)
{
    if (!g_config.pii_key_previous)
        return -1;
    derive(g_config.pii_key_previous, g_config.pii_key_previous_len, k);
    return 0;
}

static int hash_with(const pii_key_t *k, const char *value, char out[PII_HASH_LEN])
{
    unsigned char d[32], c[32];
    digest("deskd-pii-value", value, strlen(value), d);
    int rc = permute(k, 1, d, c);
    if (rc == 0)
        format(k, c, out);
    OPENSSL_cleanse(d, sizeof d);
    return rc;
}

int pii_hash(const char *value, char out[PII_HASH_LEN])
{
    pii_key_t k;
    int rc = current(&k) == 0 ? hash_with(&k, value, out) : -1;
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}

int pii_matches(const char *value, const char *stored)
{
    pii_key_t keys[2];
    int n = 0, ok = 0;
    if (current(&keys[n]) == 0)
        n++;
    if (previous(&keys[n]) == 0)
        n++;
    for (int i = 0; i < n && !ok; i++) {
        char h[PII_HASH_LEN];
        ok = hash_with(&keys[i], value, h) == 0 && strlen(h) == strlen(stored) &&
             CRYPTO_memcmp(h, stored, strlen(h)) == 0;
    }
    OPENSSL_cleanse(keys, sizeof keys);
    return ok;
}

int pii_rekey(const char *stored, char out[PII_HASH_LEN])
{
    pii_key_t cur, prev;
    char kid[9];
    unsigned char c[32], d[32];
    int rc = -1;
    if (current(&cur) != 0 || previous(&prev) != 0 || parse(stored, kid, c) != 0)
        goto out;
    if (!strcmp(kid, cur.kid)) {
        rc = 0;
        goto out;
    }
    if (strcmp(kid, prev.kid) != 0 || permute(&prev, 0, c, d) != 0 || permute(&cur, 1, d, c) != 0)
        goto out;
    format(&cur, c, out);
    rc = 1;
out:
    OPENSSL_cleanse(&cur, sizeof cur);
    OPENSSL_cleanse(&prev, sizeof prev);
    OPENSSL_cleanse(d, sizeof d);
    return rc;
}

int pii_rehash_all(void)
{
    if (!g_config.pii_key || !g_config.pii_key_previous) {
        log_write(LOG_ERROR,
                  "--rehash-pii needs DESK_PII_KEY (new) and DESK_PII_KEY_PREVIOUS (old)", NULL);
        return -1;
    }
    db_conn_t *c = db_acquire();
    if (!c) {
        log_write(LOG_ERROR, "database unreachable", NULL);
        return -1;
    }
    int moved = 0, current_ok = 0, stuck = 0, rc = -1;
    PGresult *rows = NULL;
    if (db_begin(c) != 0 || !(rows = db_pii_id_hashes(c)))
        goto out;
    for (int i = 0; i < PQntuples(rows); i++) {
        char nh[PII_HASH_LEN];
        int k = pii_rekey(PQgetvalue(rows, i, 1), nh);
        if (k == 0)
            current_ok++;
        else if (k < 0)
            stuck++;
        else if (db_pii_set_id_hash(c, PQgetvalue(rows, i, 0), nh) != 0)
            goto out;
        else
            moved++;
    }
    if (db_commit(c) != 0)
        goto out;
    log_write(stuck ? LOG_WARN : LOG_INFO, "ID-number hashes re-keyed",
              "\"rekeyed\":%d,\"already_current\":%d,\"not_convertible\":%d", moved, current_ok,
              stuck);
    rc = 0;
out:
    if (rc != 0) {
        db_rollback(c);
        log_write(LOG_ERROR, "--rehash-pii failed; nothing was changed", NULL);
    }
    PQclear(rows);
    db_release(c);
    return rc;
}
