/* db/platform.c — SQL for the hosting operator: organisations across the platform. */
#include "db/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One organisation as the platform sees it (alias o). */
#define ORG_JSON                                                                                   \
    "json_build_object('id', o.id, 'code', o.code, 'name', o.name, 'active', o.active, "           \
    "'deactivated_at', rfc3339(o.deactivated_at), "                                                \
    "'projects', (SELECT count(*) FROM projects p WHERE p.org_id = o.id), "                        \
    "'users', (SELECT count(*) FROM users u WHERE u.org_id = o.id), "                              \
    "'created_at', rfc3339(o.created_at), 'updated_at', rfc3339(o.updated_at))::text"

/* Serialises organisation creation: two operators (or two retries) at once make one. */
static const db_stmt_t create_lock = {
    "platform_create_lock", "SELECT pg_advisory_xact_lock(hashtext('deskd:create-org'))", 0};
static const db_stmt_t find_by_name = {
    "platform_find_by_name",
    "SELECT id, code FROM organisations WHERE name = $1 ORDER BY created_at, id LIMIT 1", 1};
static const db_stmt_t find_admin = {
    "platform_find_admin",
    "SELECT id, username FROM users WHERE org_id = $1 AND role = 'admin' "
    "ORDER BY (lower(username) = lower($2)) DESC, created_at, id LIMIT 1",
    2};
static const db_stmt_t username_owner = {
    "platform_username_owner",
    "SELECT o.name FROM users u JOIN organisations o ON o.id = u.org_id "
    "WHERE lower(u.username) = lower($1)",
    1};
static const db_stmt_t code_owner = {"platform_code_owner",
                                     "SELECT name FROM organisations WHERE code = $1", 1};
/* A code from the name: lower-case ASCII letters and digits, other runs become '-'; a name
 * with too few of them (say, all Chinese) gets org-<hash>.  When that code is taken, a
 * suffix from the name's hash, then a random one. */
static const db_stmt_t derive_code = {
    "platform_derive_code",
    "WITH s AS (SELECT CASE WHEN length(x) >= 2 THEN x ELSE 'org-' || substr(md5($1), 1, 8) END "
    "AS base FROM (SELECT trim(both '-' FROM left(trim(both '-' FROM regexp_replace(lower($1), "
    "'[^a-z0-9]+', '-', 'g')), 48)) AS x) q) "
    "SELECT cand FROM s, LATERAL (VALUES (1, base), (2, base || '-' || substr(md5($1), 1, 6)), "
    "(3, base || '-' || substr(md5(random()::text), 1, 10))) v(k, cand) "
    "WHERE NOT EXISTS (SELECT 1 FROM organisations WHERE code = cand) ORDER BY k LIMIT 1",
    1};
static const db_stmt_t insert_org = {
    "platform_insert_org", "INSERT INTO organisations (code, name) VALUES ($1, $2) RETURNING id",
    2};
static const db_stmt_t insert_admin = {
    "platform_insert_admin",
    "INSERT INTO users (org_id, username, display_name, role, password_hash) "
    "VALUES ($1, $2, left('Administrator (' || $3 || ')', 200), 'admin', $4) RETURNING id",
    4};
static const db_stmt_t list = {
    "platform_list",
    "SELECT " ORG_JSON ", rfc3339(o.created_at), o.id FROM organisations o "
    "WHERE ($1::timestamptz IS NULL OR (o.created_at, o.id) > ($1::timestamptz, $2::uuid)) "
    "ORDER BY o.created_at, o.id LIMIT $3",
    3};
static const db_stmt_t set_active = {
    "platform_set_active",
    "UPDATE organisations o SET active = $2::boolean, deactivated_at = CASE WHEN $2::boolean "
    "THEN NULL WHEN o.active THEN clock_timestamp() ELSE o.deactivated_at END "
    "WHERE o.id::text = lower($1) OR o.code = $1 RETURNING o.id",
    2};
static const db_stmt_t revoke_org = {
    "platform_revoke_org",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE org_id = $1 AND revoked_at IS NULL "
    "AND expires_at > now()",
    1};
static const db_stmt_t get_json = {"platform_get",
                                   "SELECT " ORG_JSON " FROM organisations o WHERE o.id = $1", 1};
static const db_stmt_t inactive = {"platform_inactive",
                                   "SELECT id FROM organisations WHERE NOT active", 0};

/* Runs a one-row lookup: 1 found (columns copied), 0 none, -1 error. */
static int one_row(db_conn_t *c, const db_stmt_t *st, const char *const *v, char *a, size_t al,
                   char *b, size_t bl)
{
    PGresult *r = db_exec(c, st, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) > 0;
    if (found && a)
        snprintf(a, al, "%s", PQgetvalue(r, 0, 0));
    if (found && b && PQnfields(r) > 1)
        snprintf(b, bl, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    return found;
}

int db_platform_create_org(db_conn_t *c, const char *name, const char *code, const char *admin,
                           const char *password_hash, db_new_org_t *out, char *other,
                           size_t otherlen)
{
    memset(out, 0, sizeof *out);
    if (otherlen)
        other[0] = 0;
    if (db_begin(c) != 0)
        return -1;
    PGresult *lk = db_exec(c, &create_lock, NULL);
    int ok = db_ok(lk);
    PQclear(lk);
    if (!ok)
        goto fail;
    const char *vn[] = {name};
    int f = one_row(c, &find_by_name, vn, out->org_id, sizeof out->org_id, out->org_code,
                    sizeof out->org_code);
    if (f < 0)
        goto fail;
    if (f) {
        const char *va[] = {out->org_id, admin};
        int a = one_row(c, &find_admin, va, out->admin_id, sizeof out->admin_id,
                        out->admin_username, sizeof out->admin_username);
        if (a < 0)
            goto fail;
        if (a && strcasecmp(out->admin_username, admin) == 0) {
            db_rollback(c); /* nothing was written */
            return 0;
        }
        if (a) {
            snprintf(other, otherlen, "%s", out->admin_username);
            db_rollback(c);
            return DB_ORG_OTHER_ADMIN;
        }
        /* An organisation without any administrator gets this one (below). */
    }
    const char *vu[] = {admin};
    int taken = one_row(c, &username_owner, vu, other, otherlen, NULL, 0);
    if (taken < 0)
        goto fail;
    if (taken) {
        db_rollback(c);
        return DB_ORG_ADMIN_TAKEN;
    }
    if (!password_hash) {
        db_rollback(c);
        return DB_ORG_NEEDS_PASSWORD;
    }
    if (!f) {
        if (code) {
            const char *vc[] = {code};
            int ct = one_row(c, &code_owner, vc, other, otherlen, NULL, 0);
            if (ct < 0)
                goto fail;
            if (ct) {
                db_rollback(c);
                return DB_ORG_CODE_TAKEN;
            }
            snprintf(out->org_code, sizeof out->org_code, "%s", code);
        } else if (one_row(c, &derive_code, vn, out->org_code, sizeof out->org_code, NULL, 0) !=
                   1) {
            goto fail;
        }
        const char *vi[] = {out->org_code, name};
        if (one_row(c, &insert_org, vi, out->org_id, sizeof out->org_id, NULL, 0) != 1)
            goto fail;
    }
    const char *vadm[] = {out->org_id, admin, name, password_hash};
    PGresult *ar = db_exec(c, &insert_admin, vadm);
    if (!db_ok(ar) || PQntuples(ar) != 1) {
        /* A user made with this name a moment ago (POST /v1/users elsewhere). */
        int dup = !strcmp(db_sqlstate(ar), "23505");
        PQclear(ar);
        db_rollback(c);
        if (dup) {
            snprintf(other, otherlen, "another organisation");
            return DB_ORG_ADMIN_TAKEN;
        }
        return -1;
    }
    snprintf(out->admin_id, sizeof out->admin_id, "%s", PQgetvalue(ar, 0, 0));
    snprintf(out->admin_username, sizeof out->admin_username, "%s", admin);
    PQclear(ar);
    if (db_commit(c) != 0)
        return -1;
    out->created = 1;
    return 0;
fail:
    db_rollback(c);
    return -1;
}

PGresult *db_platform_list(db_conn_t *c, const char *after_ts, const char *after_id, int limit)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *v[] = {after_ts && after_ts[0] ? after_ts : NULL,
                       after_id && after_id[0] ? after_id : NULL, lim};
    return db_exec(c, &list, v);
}

int db_platform_set_active(db_conn_t *c, const char *key, int active, char **json, char *org_id)
{
    *json = NULL;
    if (db_begin(c) != 0)
        return -1;
    const char *v[] = {key, active ? "true" : "false"};
    int f = one_row(c, &set_active, v, org_id, 40, NULL, 0);
    if (f <= 0) {
        db_rollback(c);
        return f;
    }
    const char *vo[] = {org_id};
    if (!active) {
        PGresult *r = db_exec(c, &revoke_org, vo);
        int ok = db_ok(r);
        PQclear(r);
        if (!ok) {
            db_rollback(c);
            return -1;
        }
    }
    *json = db_exec_text(c, &get_json, vo);
    if (!*json || db_commit(c) != 0) {
        free(*json);
        *json = NULL;
        db_rollback(c);
        return -1;
    }
    return 1;
}

PGresult *db_platform_inactive(db_conn_t *c)
{
    return db_exec(c, &inactive, NULL);
}
