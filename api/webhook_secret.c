/* api/webhook_secret.c — see api/webhook_secret.h. */
#include "api/webhook_secret.h"
#include "api/config.h"
#include "core/hex.h"
#include "db/log.h"
#include "db/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONCE 12
#define TAG   16

typedef struct whs_key {
    unsigned char aes[32];
    char kid[9];
} whs_key_t;

static int hkdf(const char *ikm, size_t len, const char *salt, const char *info, unsigned char *out,
                size_t outlen)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    int ok = x && EVP_PKEY_derive_init(x) > 0 && EVP_PKEY_CTX_set_hkdf_md(x, EVP_sha256()) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_salt(x, (const unsigned char *)salt, (int)strlen(salt)) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_key(x, (const unsigned char *)ikm, (int)len) > 0 &&
             EVP_PKEY_CTX_add1_hkdf_info(x, (const unsigned char *)info, (int)strlen(info)) > 0 &&
             EVP_PKEY_derive(x, out, &outlen) > 0;
    EVP_PKEY_CTX_free(x);
    return ok ? 0 : -1;
}

/* A dedicated webhook key and a PII key derive under different salts. */
static int derive(const char *ikm, size_t len, int from_pii, whs_key_t *k)
{
    const char *salt = from_pii ? "deskd-webhook-secret-from-pii-key" : "deskd-webhook-secret-key";
    unsigned char id[4];
    if (hkdf(ikm, len, salt, "aes-256-gcm v1", k->aes, sizeof k->aes) != 0 ||
        hkdf(ikm, len, salt, "key id v1", id, sizeof id) != 0)
        return -1;
    core_hex_encode(id, sizeof id, k->kid);
    return 0;
}

/* The configured keys, the current one first; returns how many. */
static int keys(whs_key_t out[4])
{
    struct {
        const char *k;
        size_t len;
        int pii;
    } src[] = {{g_config.webhook_key, g_config.webhook_key_len, 0},
               {g_config.pii_key, g_config.pii_key_len, 1},
               {g_config.webhook_key_previous, g_config.webhook_key_previous_len, 0},
               {g_config.pii_key_previous, g_config.pii_key_previous_len, 1}};
    int n = 0;
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
        if (src[i].k && derive(src[i].k, src[i].len, src[i].pii, &out[n]) == 0)
            n++;
    return n;
}

static int current(whs_key_t *k)
{
    whs_key_t all[4];
    int n = keys(all);
    if (n > 0)
        *k = all[0];
    OPENSSL_cleanse(all, sizeof all);
    return n > 0 ? 0 : -1;
}

char *whs_seal(const char *org, const char *plain)
{
    whs_key_t k;
    if (!org || !plain || current(&k) != 0)
        return NULL;
    size_t pl = strlen(plain), bl = NONCE + pl + TAG;
    unsigned char *box = malloc(bl);
    char *out = malloc(strlen(WHS_PREFIX) + 9 + 4 * ((bl + 2) / 3) + 1);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, f = 0;
    int ok = box && out && x && RAND_bytes(box, NONCE) == 1 &&
             EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, k.aes, box) == 1 &&
             EVP_EncryptUpdate(x, NULL, &n, (const unsigned char *)org, (int)strlen(org)) == 1 &&
             EVP_EncryptUpdate(x, box + NONCE, &n, (const unsigned char *)plain, (int)pl) == 1 &&
             EVP_EncryptFinal_ex(x, box + NONCE + n, &f) == 1 && (size_t)(n + f) == pl &&
             EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, TAG, box + NONCE + pl) == 1;
    EVP_CIPHER_CTX_free(x);
    if (ok) {
        int o = sprintf(out, "%s%s$", WHS_PREFIX, k.kid);
        EVP_EncodeBlock((unsigned char *)out + o, box, (int)bl);
    }
    OPENSSL_cleanse(&k, sizeof k);
    free(box);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

char *whs_open(const char *org, const char *stored)
{
    if (!org || !stored)
        return NULL;
    if (strncmp(stored, WHS_PREFIX, strlen(WHS_PREFIX)) != 0)
        return strdup(stored); /* stored before encryption: re-encrypted at the next start */
    const char *kid = stored + strlen(WHS_PREFIX);
    if (strlen(kid) < 10 || kid[8] != '$')
        return NULL;
    const char *b64 = kid + 9;
    size_t bl = strlen(b64);
    if (bl % 4 != 0 || bl < 4 * ((NONCE + TAG + 1 + 2) / 3))
        return NULL;
    unsigned char *box = malloc(bl / 4 * 3 + 1);
    if (!box)
        return NULL;
    int dl = EVP_DecodeBlock(box, (const unsigned char *)b64, (int)bl);
    /* EVP_DecodeBlock counts the padding's zero bytes */
    if (dl > 0 && bl >= 1 && b64[bl - 1] == '=')
        dl--;
    if (dl > 0 && bl >= 2 && b64[bl - 2] == '=')
        dl--;
    if (dl < NONCE + TAG + 1) {
        free(box);
        return NULL;
    }
    size_t cl = (size_t)dl - NONCE - TAG;
    whs_key_t all[4];
    int nk = keys(all);
    char *plain = NULL;
    for (int i = 0; i < nk && !plain; i++) {
        if (strncmp(all[i].kid, kid, 8) != 0)
            continue;
        char *p = malloc(cl + 1);
        EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
        int n = 0, f = 0;
        int ok =
            p && x && EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, all[i].aes, box) == 1 &&
            EVP_DecryptUpdate(x, NULL, &n, (const unsigned char *)org, (int)strlen(org)) == 1 &&
            EVP_DecryptUpdate(x, (unsigned char *)p, &n, box + NONCE, (int)cl) == 1 &&
            EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, TAG, box + NONCE + cl) == 1 &&
            EVP_DecryptFinal_ex(x, (unsigned char *)p + n, &f) == 1 && (size_t)(n + f) == cl;
        EVP_CIPHER_CTX_free(x);
        if (ok) {
            p[cl] = 0;
            plain = p;
        } else if (p) {
            OPENSSL_cleanse(p, cl + 1);
            free(p);
        }
    }
    OPENSSL_cleanse(all, sizeof all);
    free(box);
    return plain;
}

int whs_is_current(const char *stored)
{
    whs_key_t k;
    if (!stored || current(&k) != 0)
        return 0;
    size_t pl = strlen(WHS_PREFIX);
    int yes = !strncmp(stored, WHS_PREFIX, pl) && !strncmp(stored + pl, k.kid, 8) &&
              stored[pl + 8] == '$';
    OPENSSL_cleanse(&k, sizeof k);
    return yes;
}

/* The re-encrypted form of one stored value (NULL stays NULL); -1 when it cannot be read. */
static int reseal(const char *org, const char *stored, char **out)
{
    *out = NULL;
    if (!stored)
        return 0;
    if (whs_is_current(stored)) {
        *out = strdup(stored);
        return *out ? 0 : -1;
    }
    char *plain = whs_open(org, stored);
    if (!plain)
        return -1;
    *out = whs_seal(org, plain);
    OPENSSL_cleanse(plain, strlen(plain));
    free(plain);
    return *out ? 0 : -1;
}

int whs_reseal_all(void)
{
    whs_key_t k;
    if (current(&k) != 0)
        return 0;
    char like[32];
    snprintf(like, sizeof like, "%s%s$%%", WHS_PREFIX, k.kid);
    OPENSSL_cleanse(&k, sizeof k);
    db_conn_t *c = db_acquire();
    if (!c) {
        log_write(LOG_ERROR, "webhook secrets: no database connection to re-encrypt them", NULL);
        return -1;
    }
    db_set_actor(c, &(db_actor_t){.system = "webhook_secret_reseal"});
    PGresult *r = db_webhook_secrets_stale(c, like);
    int done = 0, failed = 0;
    if (!db_ok(r)) {
        PQclear(r);
        db_release(c);
        log_write(LOG_ERROR, "webhook secrets: could not list them to re-encrypt", NULL);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0), *org = PQgetvalue(r, i, 1);
        const char *sec = PQgetvalue(r, i, 2);
        const char *prev = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3);
        char *ns = NULL, *np = NULL;
        if (reseal(org, sec, &ns) != 0 || reseal(org, prev, &np) != 0) {
            /* a secret under a key no longer configured: left as is, deliveries fail */
            log_write(LOG_WARN,
                      "webhook secrets: a subscription's secret is under an unknown key; set "
                      "DESK_WEBHOOK_KEY_PREVIOUS (or DESK_PII_KEY_PREVIOUS) to the old key",
                      "\"webhook\":\"%s\"", id);
            failed++;
        } else if (db_webhook_secret_replace(c, id, sec, prev, ns, np) > 0)
            done++;
        free(ns);
        free(np);
    }
    PQclear(r);
    db_release(c);
    if (done || failed)
        log_write(LOG_INFO, "webhook secrets re-encrypted under the current key",
                  "\"rewritten\":%d,\"unreadable\":%d", done, failed);
    return done;
}
