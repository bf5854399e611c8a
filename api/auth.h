/*
 * api/auth.h — password hashing (PBKDF2-HMAC-SHA256), JWT issue/verify (libjwt), and
 * the /v1/auth endpoints.  Every non-public route passes through auth_authenticate.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <stddef.h>

struct req;
struct db_conn;

/* Verifies the bearer token and fills r->principal; sends 401 itself and returns -1. */
int auth_authenticate(struct req *r);
/* "pbkdf2-sha256$<iter>$<salt b64>$<hash b64>" into out (>= 160 bytes).  0 / -1. */
int auth_password_hash(const char *password, int iterations, char *out, size_t outlen);
/* 1 when the password matches the stored hash (constant-time compare), else 0. */
int auth_password_verify(const char *password, const char *stored);
/* Loads the JWT key material from g_config; 0 / -1. */
int auth_init(void);
void api_auth_register(void);
/* Ends a user's sessions after a password change or deactivation: revokes every refresh
 * token family (inside the caller's transaction) and makes this server refuse the user's
 * access tokens issued before now (every one of them while `deactivated`).  0 / -1. */
int auth_revoke_sessions(struct db_conn *c, const char *user_id, int deactivated);
/* The user was activated again: new logins' tokens work (old ones stay refused). */
void auth_sessions_reactivated(const char *user_id);

#endif
