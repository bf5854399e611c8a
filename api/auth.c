/*
 * api/auth.c — login, refresh rotation, logout and token verification.
 *
 * Access tokens are JWTs with iss, aud, sub, org, role, iat, exp, jti and the caller's
 * scope (prj: project ids, units: a resident's units, dept).  Verification pins the
 * algorithm to the configured one before libjwt sees the token, so "none" or an
 * HS/RS confusion can never pass.  Refresh tokens are opaque random strings stored only
 * as SHA-256 hashes; each use rotates them, and a replayed one revokes its family.
 */
#include "api/auth.h"
#include "core/hex.h"
#include "api/codec.h"
#include "api/config.h"
#include "api/http.h"
#include "api/login_guard.h"
#include "api/platform.h"
#include "db/audit.h"
#include "db/auth.h"
#include "db/log.h"

#include <civetweb.h>
#include <errno.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static jwt_alg_t alg;

/* Deepest nesting of arrays/objects accepted in a token's claims (ours nest 2). */
#define MAX_CLAIM_DEPTH 8

/* ---------------------------------------------------------------- passwords */

int auth_password_hash(const char *password, int iterations, char *out, size_t outlen)
{
    unsigned char salt[16], dk[32];
    char s64[32], h64[48];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return -1;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, iterations,
                          EVP_sha256(), sizeof dk, dk) != 1)
        return -1;
    b64url_encode(salt, sizeof salt, s64);
    b64url_encode(dk, sizeof dk, h64);
    int n = snprintf(out, outlen, "pbkdf2-sha256$%d$%s$%s", iterations, s64, h64);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int auth_password_verify(const char *password, const char *stored)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", stored);
    char *save = NULL;
    char *scheme = strtok_r(buf, "$", &save);
    char *iter = strtok_r(NULL, "$", &save);
    char *salt64 = strtok_r(NULL, "$", &save);
    char *hash64 = strtok_r(NULL, "$", &save);
    if (!scheme || !iter || !salt64 || !hash64 || strcmp(scheme, "pbkdf2-sha256") != 0)
        return 0;
    int it = atoi(iter);
    unsigned char salt[64], want[64], got[64];
    long sl = b64url_decode(salt64, strlen(salt64), salt, sizeof salt);
    long hl = b64url_decode(hash64, strlen(hash64), want, sizeof want);
    if (it < 1 || sl <= 0 || hl != 32)
        return 0;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)sl, it, EVP_sha256(), 32,
                          got) != 1)
        return 0;
    return CRYPTO_memcmp(got, want, 32) == 0;
}

/* ---------------------------------------------------------------- tokens */

int auth_init(void)
{
    alg = jwt_str_alg(g_config.jwt_alg);
    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE) {
        log_write(LOG_ERROR, "unsupported JWT algorithm", NULL);
        return -1;
    }
    return guard_init();
}

/* ---------------------------------------------------------------- revoked sessions */

/* Users whose access tokens this server refuses: those issued before `since` (every one while
 * `all`, i.e. deactivated).  An entry is needed only while such a token can still be
 * unexpired, so it is dropped access_ttl seconds after it was made. */
#define MAX_REVOKED 4096
static struct revoked {
    char user[40];
    long since;
    long until;
    int all;
} revoked[MAX_REVOKED];
static int revoked_hwm; /* entries live only below this index: the common case scans none */
static pthread_mutex_t revoked_mu = PTHREAD_MUTEX_INITIALIZER;

static void revoke_local(const char *user_id, int all)
{
    long now = (long)time(NULL);
    pthread_mutex_lock(&revoked_mu);
    struct revoked *slot = NULL, *free_slot = NULL, *soonest = NULL;
    for (int i = 0; i < MAX_REVOKED && !slot; i++) {
        struct revoked *e = &revoked[i];
        if (!e->user[0]) {
            if (!free_slot)
                free_slot = e;
        } else if (!strcmp(e->user, user_id)) {
            slot = e;
        } else if (!soonest || e->until < soonest->until) {
            soonest = e;
        }
    }
    long since = now + 1; /* iat has whole seconds: every token of this second is refused */
    if (slot && slot->since >= since)
        since = slot->since + 1; /* tokens dated after an earlier revocation of this second */
    /* A full table drops the entry that expires first: rare, and its tokens live at most
     * access_ttl anyway. */
    if (!slot)
        slot = free_slot ? free_slot : soonest;
    snprintf(slot->user, sizeof slot->user, "%s", user_id);
    slot->since = since;
    slot->until = now + g_config.access_ttl + 1;
    slot->all = all;
    if (slot - revoked >= revoked_hwm)
        __atomic_store_n(&revoked_hwm, (int)(slot - revoked) + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&revoked_mu);
}

/* The earliest iat a new token of user_id may carry: tokens made in the same second as a
 * revocation are dated just after it, so they are not mistaken for revoked ones. */
static long issue_time(const char *user_id)
{
    long now = (long)time(NULL), t = now;
    pthread_mutex_lock(&revoked_mu);
    for (int i = 0; i < revoked_hwm; i++)
        if (revoked[i].user[0] && !strcmp(revoked[i].user, user_id) && revoked[i].since > t)
            t = revoked[i].since;
    pthread_mutex_unlock(&revoked_mu);
    return t;
}

/* 1 when the token (issued at iat) of user_id must be refused. */
static int is_revoked(const char *user_id, long iat)
{
    /* The common case, nothing revoked: no lock (every authenticated request asks; 64
     * threads on one mutex were futex waits, issue 14).  Entries are written under the
     * mutex before the high-water mark is raised (release), so a non-zero mark read here
     * (acquire) covers them. */
    if (__atomic_load_n(&revoked_hwm, __ATOMIC_ACQUIRE) == 0)
        return 0;
    long now = (long)time(NULL);
    int out = 0;
    pthread_mutex_lock(&revoked_mu);
    for (int i = 0; i < revoked_hwm; i++) {
        struct revoked *e = &revoked[i];
        if (!e->user[0])
            continue;
        if (e->until < now) {
            e->user[0] = 0;
            continue;
        }
        if (!strcmp(e->user, user_id) && (e->all || iat < e->since)) {
            out = 1;
            break;
        }
    }
    int hwm = revoked_hwm;
    while (hwm > 0 && !revoked[hwm - 1].user[0])
        hwm--;
    __atomic_store_n(&revoked_hwm, hwm, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&revoked_mu);
    return out;
}

int auth_revoke_sessions(db_conn_t *c, const char *user_id, int deactivated)
{
    if (db_auth_refresh_revoke_user(c, user_id) != 0)
        return -1;
    revoke_local(user_id, deactivated);
    return 0;
}

void auth_sessions_reactivated(const char *user_id)
{
    pthread_mutex_lock(&revoked_mu);
    for (int i = 0; i < revoked_hwm; i++)
        if (revoked[i].user[0] && !strcmp(revoked[i].user, user_id))
            revoked[i].all = 0; /* tokens from before the deactivation stay refused */
    pthread_mutex_unlock(&revoked_mu);
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char d[32];
    SHA256((const unsigned char *)s, strlen(s), d);
    core_hex_encode(d, sizeof d, out);
}

static int random_token(char *out /* >= 64 */)
{
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b64url_encode(b, sizeof b, out);
    return 0;
}

static long issue_time(const char *user_id);

/* Builds the access token for a user; returns a malloc'd string or NULL. */
static char *issue_access(const db_login_user_t *u, const char *prj_json, const char *units_json)
{
    const unsigned char *key = (const unsigned char *)g_config.jwt_secret;
    int keylen = (int)g_config.jwt_secret_len;
    if (strncmp(g_config.jwt_alg, "HS", 2) != 0) {
        key = (const unsigned char *)g_config.jwt_private_key;
        keylen = (int)g_config.jwt_private_key_len;
        if (!key)
            return NULL;
    }
    jwt_t *j = NULL;
    char *tok = NULL, jti[64];
    if (jwt_new(&j) != 0)
        return NULL;
    long now = issue_time(u->id);
    random_token(jti);
    /* Built with cJSON: up to 2 x 256 ids do not fit a fixed buffer. */
    char *grants = NULL;
    cJSON *g = cJSON_CreateObject();
    cJSON *pa = core_authz_org_wide((role_t)core_role_from_string(u->role))
                    ? cJSON_CreateArray()
                    : cJSON_Parse(prj_json); /* our own database's output */
    cJSON *ua = cJSON_Parse(units_json);
    if (g && pa && ua && cJSON_AddItemToObject(g, "prj", pa)) {
        pa = NULL;
        if (cJSON_AddItemToObject(g, "units", ua)) {
            ua = NULL;
            grants = cJSON_PrintUnformatted(g);
        }
    }
    cJSON_Delete(pa);
    cJSON_Delete(ua);
    cJSON_Delete(g);
    if (!grants)
        goto out;
    if (jwt_add_grant(j, "iss", g_config.jwt_issuer) ||
        jwt_add_grant(j, "aud", g_config.jwt_audience) || jwt_add_grant(j, "sub", u->id) ||
        jwt_add_grant(j, "org", u->org_id) || jwt_add_grant(j, "role", u->role) ||
        jwt_add_grant(j, "jti", jti) || jwt_add_grant_int(j, "iat", now) ||
        jwt_add_grant_int(j, "exp", now + g_config.access_ttl) || jwt_add_grants_json(j, grants))
        goto out;
    if (u->dept_id[0] && jwt_add_grant(j, "dept", u->dept_id))
        goto out;
    if (jwt_set_alg(j, alg, key, keylen) != 0)
        goto out;
    tok = jwt_encode_str(j);
out:
    free(grants);
    jwt_free(j);
    return tok;
}

static char *keep(req_t *r, const char *s)
{
    if (r->nclaim >= (int)(sizeof r->claim_buf / sizeof r->claim_buf[0]))
        return NULL;
    char *d = strdup(s);
    if (d)
        r->claim_buf[r->nclaim++] = d;
    return d;
}

/* Reads a JSON array of UUID strings from grant `name` into ptrs; -1 when malformed. */
static int claim_ids(req_t *r, jwt_t *j, const char *name, const char **ptrs, size_t *n)
{
    *n = 0;
    char *js = jwt_get_grants_json(j, name);
    if (!js)
        return 0; /* absent: empty */
    cJSON *arr = cJSON_Parse(js);
    free(js);
    int rc = 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > MAX_CLAIM_IDS) {
        rc = -1;
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) || !http_is_uuid(it->valuestring) ||
            !(ptrs[*n] = keep(r, it->valuestring))) {
            rc = -1;
            goto out;
        }
        (*n)++;
    }
out:
    cJSON_Delete(arr);
    return rc;
}

/* 403 for a user of an organisation the service provider has deactivated. */
static void org_inactive(req_t *r)
{
    http_problem(r, 403, "organisation_inactive",
                 "your organisation is deactivated by the service provider; its users cannot "
                 "sign in until it is activated again");
}

static int unauthorized(req_t *r, const char *code, const char *detail)
{
    http_problem(r, 401, code, "%s", detail);
    return -1;
}

/* The checks made before libjwt reads the token: the header's algorithm is pinned, and
 * claims nested deeper than ours are refused unread.  0, or -1 when answered. */
static int precheck_token(req_t *r, const char *tok, const char *dot1)
{
    /* Pin the algorithm before libjwt looks at the token. */
    unsigned char hdr[512];
    long hl = b64url_decode(tok, (size_t)(dot1 - tok), hdr, sizeof hdr - 1);
    if (hl <= 0)
        return unauthorized(r, "invalid_token", "the token header is not base64url");
    hdr[hl] = 0;
    cJSON *hj = http_json_too_deep((const char *)hdr, (size_t)hl, JSON_MAX_DEPTH)
                    ? NULL
                    : cJSON_Parse((const char *)hdr);
    const cJSON *ha = cJSON_GetObjectItemCaseSensitive(hj, "alg");
    int alg_ok = cJSON_IsString(ha) && strcmp(ha->valuestring, g_config.jwt_alg) == 0;
    cJSON_Delete(hj);
    if (!alg_ok)
        return unauthorized(r, "invalid_token", "the token's algorithm is not accepted");

    /* libjwt parses the claims (recursively, with jansson) before it checks the
     * signature: a forged token nested a few thousand deep would overflow a worker's
     * stack.  Our claims nest two levels; refuse deeper ones unread. */
    const char *dot2 = strchr(dot1 + 1, '.');
    size_t plen = (size_t)(dot2 - dot1 - 1);
    unsigned char *payload = malloc(plen + 1);
    long pl = payload ? b64url_decode(dot1 + 1, plen, payload, plen + 1) : -1;
    int deep = pl > 0 && http_json_too_deep((const char *)payload, (size_t)pl, MAX_CLAIM_DEPTH);
    free(payload);
    if (pl <= 0 || deep)
        return unauthorized(r, "invalid_token", "the token's claims are not a flat JSON object");
    return 0;
}

/* 1 when the aud claim (a string or an array of strings) names this service. */
static int audience_ok(jwt_t *j)
{
    const char *aud = jwt_get_grant(j, "aud");
    int aud_ok = aud && !strcmp(aud, g_config.jwt_audience);
    if (!aud) {
        char *aj = jwt_get_grants_json(j, "aud");
        cJSON *arr = aj ? cJSON_Parse(aj) : NULL;
        const cJSON *it;
        cJSON_ArrayForEach(it, arr)
        {
            if (cJSON_IsString(it) && !strcmp(it->valuestring, g_config.jwt_audience))
                aud_ok = 1;
        }
        cJSON_Delete(arr);
        free(aj);
    }
    return aud_ok;
}

/* The registered claims: exp, nbf, iss, aud.  0, or -1 when answered. */
static int check_claims(req_t *r, jwt_t *j)
{
    long now = (long)time(NULL);
    errno = 0;
    long exp = jwt_get_grant_int(j, "exp");
    if (errno || exp <= now)
        return unauthorized(r, "token_expired",
                            "the access token has expired; use POST /v1/auth/refresh");
    errno = 0;
    long nbf = jwt_get_grant_int(j, "nbf");
    if (!errno && nbf > now + 60)
        return unauthorized(r, "invalid_token", "the token is not valid yet");
    const char *iss = jwt_get_grant(j, "iss");
    if (!iss || strcmp(iss, g_config.jwt_issuer) != 0)
        return unauthorized(r, "invalid_token", "the token was issued by someone else (iss)");
    if (!audience_ok(j))
        return unauthorized(r, "invalid_token", "the token is meant for another audience (aud)");
    return 0;
}

/* Who the token speaks for: sub, org, role, dept, prj, units, checked against revocation
 * and the organisation's state, into r->principal.  0, or -1 when answered. */
static int take_principal(req_t *r, jwt_t *j)
{
    const char *sub = jwt_get_grant(j, "sub");
    const char *org = jwt_get_grant(j, "org");
    const char *role = jwt_get_grant(j, "role");
    const char *dept = jwt_get_grant(j, "dept");
    int role_v = role ? core_role_from_string(role) : -1;
    if (!http_is_uuid(sub) || !http_is_uuid(org) || role_v < 0 || (dept && !http_is_uuid(dept)))
        return unauthorized(r, "invalid_token", "the token lacks sub, org or role claims");
    errno = 0;
    long iat = jwt_get_grant_int(j, "iat");
    if (is_revoked(sub, errno ? 0 : iat))
        return unauthorized(r, "token_revoked",
                            "the user's password changed or the account was disabled; log in "
                            "again");
    if (platform_org_inactive(org)) {
        org_inactive(r);
        return -1;
    }
    principal_t *p = &r->principal;
    p->user_id = keep(r, sub);
    p->org_id = keep(r, org);
    p->role = (role_t)role_v;
    p->dept_id = dept ? keep(r, dept) : NULL;
    p->all_projects = core_authz_org_wide(p->role);
    if (claim_ids(r, j, "prj", r->proj_ptrs, &p->nprojects) != 0 ||
        claim_ids(r, j, "units", r->unit_ptrs, &p->nunits) != 0)
        return unauthorized(r, "invalid_token", "the token's prj/units claims are malformed");
    p->projects = r->proj_ptrs;
    p->units = r->unit_ptrs;
    r->authed = 1;
    return 0;
}

/* ---------------------------------------------------------------- verified-token cache
 *
 * Verifying a token (base64 and JSON of header and claims, HMAC or RSA, libjwt's jansson
 * objects) was about a tenth of deskd's CPU per GET (issue 14).  A token whose bytes were
 * verified before yields the same claims, so a bounded table keeps, per token, what
 * take_principal read from it; a hit compares the whole token (not only its hash) and
 * still checks, on every request, the expiry, the revocations (is_revoked) and the
 * organisation's state — what can change while the token is the same.  Direct-mapped:
 * TOKEN_CACHE_SLOTS entries, a colliding token replaces the older one; one read-write lock
 * per TOKEN_CACHE_STRIPES slots, held only to copy an entry: a hit takes it shared, so the
 * threads serving one user's token do not queue on it (a futex wait and wake per collision
 * under load with a mutex, issue 14). */
#define TOKEN_CACHE_SLOTS   1024
#define TOKEN_CACHE_STRIPES 64
#define TOKEN_CACHE_MAX_LEN 4096

typedef struct tok_entry {
    unsigned long long h;
    char *tok; /* NULL: empty */
    long exp, iat;
    char sub[40], org[40], dept[40];
    int role, has_dept;
    size_t nprj, nunits;
    char (*ids)[40]; /* nprj project ids, then nunits unit ids */
} tok_entry_t;

static tok_entry_t tok_cache[TOKEN_CACHE_SLOTS];
static pthread_rwlock_t tok_mu[TOKEN_CACHE_STRIPES];
static pthread_once_t tok_once = PTHREAD_ONCE_INIT;

static void tok_init(void)
{
    for (int i = 0; i < TOKEN_CACHE_STRIPES; i++)
        pthread_rwlock_init(&tok_mu[i], NULL);
}

static unsigned long long tok_hash(const char *s)
{
    unsigned long long h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void tok_entry_clear(tok_entry_t *e)
{
    free(e->tok);
    free(e->ids);
    memset(e, 0, sizeof *e);
}

/* Keeps the principal just taken from token tok (valid until exp, issued at iat). */
static void tok_cache_put(const char *tok, const principal_t *p, long exp, long iat)
{
    if (strlen(tok) > TOKEN_CACHE_MAX_LEN)
        return; /* keeps the table small; such tokens are verified anew each time */
    pthread_once(&tok_once, tok_init);
    size_t n = p->nprojects + p->nunits;
    char *copy = strdup(tok);
    char(*ids)[40] = n ? calloc(n, sizeof *ids) : NULL;
    if (!copy || (n && !ids)) {
        free(copy);
        free(ids);
        return;
    }
    for (size_t i = 0; i < p->nprojects; i++)
        snprintf(ids[i], sizeof ids[i], "%s", p->projects[i]);
    for (size_t i = 0; i < p->nunits; i++)
        snprintf(ids[p->nprojects + i], sizeof ids[0], "%s", p->units[i]);
    unsigned long long h = tok_hash(tok);
    size_t slot = (size_t)(h % TOKEN_CACHE_SLOTS);
    pthread_rwlock_t *mu = &tok_mu[slot % TOKEN_CACHE_STRIPES];
    pthread_rwlock_wrlock(mu);
    tok_entry_t *e = &tok_cache[slot];
    tok_entry_clear(e);
    e->h = h;
    e->tok = copy;
    e->exp = exp;
    e->iat = iat;
    snprintf(e->sub, sizeof e->sub, "%s", p->user_id);
    snprintf(e->org, sizeof e->org, "%s", p->org_id);
    e->has_dept = p->dept_id != NULL;
    snprintf(e->dept, sizeof e->dept, "%s", p->dept_id ? p->dept_id : "");
    e->role = (int)p->role;
    e->nprj = p->nprojects;
    e->nunits = p->nunits;
    e->ids = ids;
    pthread_rwlock_unlock(mu);
}

/* 1 when tok was verified before and has not expired: its claims copied into e (e->ids
 * malloc'd, or NULL); 0 otherwise. */
static int tok_cache_get(const char *tok, long now, tok_entry_t *out)
{
    pthread_once(&tok_once, tok_init);
    unsigned long long h = tok_hash(tok);
    size_t slot = (size_t)(h % TOKEN_CACHE_SLOTS);
    pthread_rwlock_t *mu = &tok_mu[slot % TOKEN_CACHE_STRIPES];
    int hit = 0, expired = 0;
    pthread_rwlock_rdlock(mu);
    tok_entry_t *e = &tok_cache[slot];
    if (e->tok && e->h == h && !strcmp(e->tok, tok)) {
        if (e->exp <= now) {
            expired = 1;
        } else {
            size_t n = e->nprj + e->nunits;
            *out = *e;
            out->tok = NULL;
            out->ids = n ? malloc(n * sizeof *e->ids) : NULL;
            if (!n || out->ids) {
                if (n)
                    memcpy(out->ids, e->ids, n * sizeof *e->ids);
                hit = 1;
            }
        }
    }
    pthread_rwlock_unlock(mu);
    if (expired) { /* the full check answers token_expired; the entry goes */
        pthread_rwlock_wrlock(mu);
        if (e->tok && e->h == h && !strcmp(e->tok, tok) && e->exp <= now)
            tok_entry_clear(e);
        pthread_rwlock_unlock(mu);
    }
    return hit;
}

/* The principal of a cached token, checked against what may have changed since it was
 * verified: 1 taken (r->principal filled), 0 not cached, -1 answered (401/403). */
static int take_cached(req_t *r, const char *tok)
{
    tok_entry_t e;
    if (!tok_cache_get(tok, (long)time(NULL), &e))
        return 0;
    int rc = -1;
    if (is_revoked(e.sub, e.iat)) {
        unauthorized(r, "token_revoked",
                     "the user's password changed or the account was disabled; log in again");
        goto out;
    }
    if (platform_org_inactive(e.org)) {
        org_inactive(r);
        goto out;
    }
    principal_t *p = &r->principal;
    p->user_id = keep(r, e.sub);
    p->org_id = keep(r, e.org);
    p->role = (role_t)e.role;
    p->dept_id = e.has_dept ? keep(r, e.dept) : NULL;
    p->all_projects = core_authz_org_wide(p->role);
    int ok = p->user_id && p->org_id && (!e.has_dept || p->dept_id);
    for (size_t i = 0; ok && i < e.nprj; i++)
        ok = (r->proj_ptrs[i] = keep(r, e.ids[i])) != NULL;
    for (size_t i = 0; ok && i < e.nunits; i++)
        ok = (r->unit_ptrs[i] = keep(r, e.ids[e.nprj + i])) != NULL;
    if (!ok) {
        http_problem(r, 503, "overloaded", "out of memory; retry");
        goto out;
    }
    p->nprojects = e.nprj;
    p->nunits = e.nunits;
    p->projects = r->proj_ptrs;
    p->units = r->unit_ptrs;
    r->authed = 1;
    rc = 1;
out:
    free(e.ids);
    return rc;
}

int auth_authenticate(req_t *r)
{
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return unauthorized(r, "missing_token",
                            "send 'Authorization: Bearer <access token>' from POST /v1/auth/login");
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    const char *dot1 = strchr(tok, '.');
    if (!dot1 || strlen(tok) > 16384 || !strchr(dot1 + 1, '.'))
        return unauthorized(r, "invalid_token", "the token is not a JWT");
    int cached = take_cached(r, tok);
    if (cached != 0)
        return cached > 0 ? 0 : -1;
    if (precheck_token(r, tok, dot1) != 0)
        return -1;
    const unsigned char *key = (const unsigned char *)g_config.jwt_secret;
    int keylen = (int)g_config.jwt_secret_len;
    if (strncmp(g_config.jwt_alg, "HS", 2) != 0) {
        key = (const unsigned char *)g_config.jwt_public_key;
        keylen = (int)g_config.jwt_public_key_len;
    }
    jwt_t *j = NULL;
    if (jwt_decode(&j, tok, key, keylen) != 0 || !j)
        return unauthorized(r, "invalid_token", "the token signature does not verify");
    int rc = -1;
    if (jwt_get_alg(j) != alg)
        unauthorized(r, "invalid_token", "the token's algorithm is not accepted");
    else if (check_claims(r, j) == 0 && take_principal(r, j) == 0)
        rc = 0;
    if (rc == 0) {
        errno = 0;
        long exp = jwt_get_grant_int(j, "exp");
        errno = 0;
        long iat = jwt_get_grant_int(j, "iat");
        if (errno)
            iat = 0; /* as take_principal checks it */
        tok_cache_put(tok, &r->principal, exp, iat);
    }
    jwt_free(j);
    return rc;
}

/* ---------------------------------------------------------------- endpoints */

/* Issues an access + refresh pair and sends it.  Runs inside the caller's transaction. */
static void send_tokens(req_t *r, db_conn_t *c, const db_login_user_t *u, const char *family,
                        int status)
{
    char *prj = NULL, *units = NULL, *access = NULL;
    char refresh[64], hash[65];
    if (db_auth_scope(c, u, &prj, &units) != 0 || random_token(refresh) != 0) {
        http_problem(r, 503, "database_unavailable", "could not load the user's scope; retry");
        goto out;
    }
    access = issue_access(u, prj, units);
    if (!access) {
        http_problem(r, 503, "token_issuing_unavailable",
                     "this server cannot sign tokens (configure DESK_JWT_PRIVATE_KEY_FILE for "
                     "%s or use HS256)",
                     g_config.jwt_alg);
        goto out;
    }
    sha256_hex(refresh, hash);
    if (db_auth_refresh_insert(c, u->org_id, u->id, family, hash, g_config.refresh_ttl) != 0 ||
        db_commit(c) != 0) {
        http_problem(r, 503, "database_unavailable", "could not store the session; retry");
        goto out;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "access_token", access);
    cJSON_AddStringToObject(j, "token_type", "Bearer");
    cJSON_AddNumberToObject(j, "expires_in", g_config.access_ttl);
    cJSON_AddStringToObject(j, "refresh_token", refresh);
    cJSON_AddNumberToObject(j, "refresh_expires_in", g_config.refresh_ttl);
    cJSON_AddStringToObject(j, "user_id", u->id);
    cJSON_AddStringToObject(j, "organisation_id", u->org_id);
    cJSON_AddStringToObject(j, "role", u->role);
    http_send_cjson(r, status, j, NULL);
    cJSON_Delete(j);
out:
    free(prj);
    free(units);
    free(access);
}

static const char *body_string(req_t *r, const char *name, size_t maxlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    if (!v) {
        http_invalid(r, NULL, name, "missing_field", "required", "'%s' is required", name);
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > maxlen) {
        http_invalid(r, NULL, name, "invalid_field", http_str_err(v, maxlen),
                     "'%s' must be a non-empty string of at most %zu bytes", name, maxlen);
        return NULL;
    }
    return v->valuestring;
}

/* A hash of a random password so that unknown users cost as much as known ones. */
static char dummy_hash[160];
/* A user id no row has: a failed login for an unknown name makes the same UPDATE round trip. */
static const char no_user[] = "00000000-0000-0000-0000-000000000000";

/* The audit row of a refused login (RULES §3.13.1): the user when the name is known, the
 * name tried, why, and whether the account is now locked. */
static void audit_login_failure(db_conn_t *c, const db_login_user_t *u, const char *username,
                                const char *reason, int locked)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "username", username);
    cJSON_AddStringToObject(d, "reason", reason);
    if (locked > 0)
        cJSON_AddNumberToObject(d, "locked_seconds", locked);
    char *js = d ? cJSON_PrintUnformatted(d) : NULL;
    cJSON_Delete(d);
    db_audit_event(c, u ? u->org_id : NULL, u ? u->id : NULL, u ? u->role : NULL,
                   locked > 0 ? "auth.lockout" : "auth.login", "failure", js);
    free(js);
}

static void throttled(req_t *r, int secs)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", secs);
    http_problem_hdr(r, 429, hdr, "login_throttled",
                     "too many failed logins for this user name or from this address; retry in "
                     "%d seconds",
                     secs);
}

/*
 * Every failure looks the same whoever asked: unknown name, wrong password and disabled
 * account all answer 401 invalid_credentials with the same body after the same work (one
 * password hash, one UPDATE), and the throttles count unknown names like real ones.
 */
static void login(req_t *r)
{
    if (http_json_body(r) != 0)
        return;
    const char *username = body_string(r, "username", 64);
    if (!username)
        return;
    const char *password = body_string(r, "password", 256);
    if (!password)
        return;
    char addr[GUARD_ADDR_LEN];
    guard_client_addr(r, addr);
    int wait = guard_check(username, addr);
    if (wait > 0) {
        throttled(r, wait);
        return;
    }
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    db_login_user_t u;
    int found = db_auth_find_user(c, username, &u);
    if (found < 0) {
        http_problem(r, 503, "database_unavailable", "could not check the login; retry");
        return;
    }
    if (guard_hash_enter() != 0) {
        http_problem_hdr(r, 503, "Retry-After: 1\r\n", "login_busy",
                         "too many logins are being checked at once; retry in a second");
        return;
    }
    int ok = auth_password_verify(password, found ? u.password_hash : dummy_hash);
    guard_hash_leave();
    if (!found || !ok || !u.active) {
        int locked = 0;
        guard_failed(username, addr);
        /* The failure and its audit row in one transaction (RULES §3.13.1). */
        int begun = db_begin(c) == 0;
        db_auth_login_failed(c, found ? u.id : no_user, &locked);
        audit_login_failure(c, found ? &u : NULL, username,
                            !found ? "unknown_user"
                            : !ok  ? "wrong_password"
                                   : "inactive",
                            locked);
        if (begun && db_commit(c) != 0)
            db_rollback(c);
        http_problem(r, 401, "invalid_credentials", "the username or password is wrong");
        return;
    }
    guard_succeeded(username, addr);
    /* Said only to someone who knows the password: the account is fine, its company is not. */
    if (!u.org_active) {
        audit_login_failure(c, &u, username, "organisation_inactive", 0);
        org_inactive(r);
        return;
    }
    if (db_begin(c) != 0 || db_auth_login_ok(c, u.id) != 0 ||
        db_audit_event(c, u.org_id, u.id, u.role, "auth.login", "success", NULL) != 0) {
        http_problem(r, 503, "database_unavailable", "could not record the login; retry");
        return;
    }
    send_tokens(r, c, &u, NULL, 200);
}

/* The body's refresh_token as its SHA-256 (what is stored), and a connection.  0, or -1
 * with the answer sent. */
static int refresh_token_hash(req_t *r, char hash[65], db_conn_t **c)
{
    if (http_json_body(r) != 0)
        return -1;
    const char *tok = body_string(r, "refresh_token", 128);
    if (!tok || !(*c = http_db(r)))
        return -1;
    sha256_hex(tok, hash);
    return 0;
}

static void refresh(req_t *r)
{
    char hash[65], user_id[40], family[40];
    db_conn_t *c;
    if (refresh_token_hash(r, hash, &c) != 0)
        return;
    if (db_begin(c) != 0) {
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return;
    }
    int ok = db_auth_refresh_use(c, hash, user_id, family);
    if (ok <= 0) {
        if (ok == 0 && db_audit_token_event(c, hash, "auth.refresh", "failure") == 0)
            db_commit(c); /* keep the family revocation of a replay, and its audit row */
        else
            db_rollback(c);
        http_problem(r, 401, "invalid_refresh_token",
                     "the refresh token is unknown, used, revoked or expired; log in again");
        return;
    }
    db_login_user_t u;
    if (db_auth_find_user_by_id(c, user_id, &u) != 1 || !u.active) {
        db_rollback(c);
        http_problem(r, 401, "invalid_refresh_token", "the account is disabled; log in again");
        return;
    }
    if (!u.org_active) {
        db_rollback(c);
        org_inactive(r);
        return;
    }
    if (db_audit_event(c, u.org_id, u.id, u.role, "auth.refresh", "success", NULL) != 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "could not record the refresh; retry");
        return;
    }
    send_tokens(r, c, &u, family, 200);
}

static void logout(req_t *r)
{
    char hash[65];
    db_conn_t *c;
    if (refresh_token_hash(r, hash, &c) != 0)
        return;
    if (db_begin(c) != 0 || db_audit_token_event(c, hash, "auth.logout", "success") != 0 ||
        db_auth_refresh_revoke(c, hash) != 0 || db_commit(c) != 0) {
        db_rollback(c);
        http_problem(r, 503, "database_unavailable", "retry shortly");
        return;
    }
    http_send_empty(r, 204, NULL);
}

static void me(req_t *r)
{
    db_conn_t *c = http_db(r);
    if (!c)
        return;
    char *js = NULL;
    int found = db_auth_me(c, r->principal.user_id, r->principal.org_id, &js);
    if (found < 0) {
        http_problem(r, 503, "database_unavailable", "the database is unreachable; retry shortly");
        return;
    }
    if (!found) {
        http_problem(r, 404, "not_found", "the token's user no longer exists");
        return;
    }
    http_send_json(r, 200, js, NULL);
    free(js);
}

void api_auth_register(void)
{
    char pw[64];
    random_token(pw);
    auth_password_hash(pw, g_config.pbkdf2_iter, dummy_hash, sizeof dummy_hash);
    http_route("POST", "/v1/auth/login", login, ROUTE_PUBLIC, NULL);
    http_route("POST", "/v1/auth/refresh", refresh, ROUTE_PUBLIC, NULL);
    http_route("POST", "/v1/auth/logout", logout, ROUTE_PUBLIC, NULL);
    http_route("GET", "/v1/me", me, 0, NULL);
}
