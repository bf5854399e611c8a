/*
 * api/idempotency.c — the Idempotency-Key protocol shared by POST /v1/requests and
 * POST /v1/requests/batch: a key binds one request (method, route, body) to its stored
 * answer, which a retry gets back instead of a second effect.
 */
#include "api/request.h"
#include "core/hex.h"
#include "db/idempotency.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int idem_start(req_t *r, db_conn_t *c, int *claimed)
{
    *claimed = 0;
    const char *key = http_header(r, "Idempotency-Key");
    if (!key)
        return 0;
    size_t kl = strlen(key);
    int ok = kl > 0 && kl <= 200;
    for (size_t i = 0; ok && i < kl; i++)
        ok = key[i] > 0x20 && key[i] < 0x7f;
    if (!ok) {
        http_problem(r, 400, "invalid_idempotency_key",
                     "Idempotency-Key must be 1 to 200 visible ASCII characters");
        return 1;
    }
    /* The key is bound to the exact request: method, route and body. */
    unsigned char d[32];
    unsigned dl = 0;
    char hash[65], stored_hash[65];
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    EVP_DigestInit_ex(h, EVP_sha256(), NULL);
    EVP_DigestUpdate(h, r->method, strlen(r->method));
    EVP_DigestUpdate(h, r->route, strlen(r->route));
    EVP_DigestUpdate(h, r->body ? r->body : "", r->body_len);
    EVP_DigestFinal_ex(h, d, &dl);
    EVP_MD_CTX_free(h);
    core_hex_encode(d, sizeof d, hash);
    if (db_begin(c) != 0) {
        http_db_fail(r, NULL);
        return 1;
    }
    int status = 0;
    char *response = NULL;
    int rc = db_idem_claim(c, r->principal.org_id, r->principal.user_id, key, hash, &status,
                           &response, stored_hash);
    if (rc < 0) {
        db_rollback(c);
        http_db_fail(r, NULL);
        return 1;
    }
    if (rc == 1) {
        *claimed = 1;
        return 0; /* stay in the transaction: the outcome is stored with the work */
    }
    db_rollback(c);
    if (strcmp(hash, stored_hash) != 0)
        http_problem(r, 422, "idempotency_key_reused",
                     "this Idempotency-Key was already used with a different request body; "
                     "use a new key for a new request");
    else
        http_send_json(r, status, response, "Idempotent-Replayed: true\r\n");
    free(response);
    return 1;
}

int api_idem_start(req_t *r, db_conn_t **c, int *claimed)
{
    *claimed = 0;
    if (!(*c = http_db(r)))
        return 1;
    return idem_start(r, *c, claimed);
}

int api_idem_finish(req_t *r, db_conn_t *c, int status, const char *body)
{
    const char *key = http_header(r, "Idempotency-Key");
    if (db_idem_store(c, r->principal.org_id, r->principal.user_id, key, status, body) != 0) {
        db_rollback(c);
        return -1;
    }
    return 0;
}
